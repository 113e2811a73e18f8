#pragma once

#include <QDateTime>
#include <QList>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <optional>

namespace kd {

/// `owner/slug` of a kernel (notebook or script).
struct KernelRef
{
    QString owner;
    QString slug;

    /// Accepts `owner/slug` and kaggle.com/code/owner/slug URLs; nullopt when malformed.
    static std::optional<KernelRef> parse(QStringView text);
    QString toString() const { return owner + u'/' + slug; }
    bool isValid() const { return !owner.isEmpty() && !slug.isEmpty(); }
    friend bool operator==(const KernelRef &, const KernelRef &) = default;
};

/// KernelWorkerStatus, in the SDK's numeric order.
enum class KernelStatus {
    Queued = 0,
    Running = 1,
    Complete = 2,
    Error = 3,
    CancelRequested = 4,
    CancelAcknowledged = 5,
    NewScript = 6,
};
bool isTerminal(KernelStatus status);
/// Upper-case proto name, e.g. "CANCEL_ACKNOWLEDGED".
QString statusName(KernelStatus status);

struct KernelSessionStatus
{
    KernelStatus status = KernelStatus::Queued; ///< a missing status means QUEUED
    QString failureMessage;
};

/// ApiKernelMetadata (kaggle-api.md 3.2).
struct KernelMetadata
{
    qint64 id = 0;
    QString ref;
    QString title;
    QString author;
    QString slug;
    QDateTime lastRunTime;
    QString language;
    QString kernelType;
    bool isPrivate = false;
    bool enableGpu = false;
    bool enableInternet = false;
    bool enableTpu = false;
    QStringList categoryIds;
    QStringList datasetDataSources;
    QStringList kernelDataSources;
    QStringList competitionDataSources;
    QStringList modelDataSources;
    int totalVotes = 0;
    qint64 currentVersionNumber = 0;
    QString dockerImage;
    QString machineShape;
};

struct ListKernelsRequest
{
    QString group = QStringLiteral("PROFILE"); ///< KernelsListViewType name
    QString sortBy = QStringLiteral("DATE_RUN");
    QString user;
    QString search;
    int page = 0; ///< 0: omitted
    int pageSize = 20;
    QString pageToken;
};

struct KernelListPage
{
    QList<KernelMetadata> kernels;
    QString nextPageToken;
};

/// One log event: the shape of both the persisted log array and SSE events (3.5, 3.6).
struct LogEvent
{
    enum class Stream { Stdout, Stderr };
    Stream stream = Stream::Stdout;
    double time = 0; ///< seconds since session start
    QString data;
    friend bool operator==(const LogEvent &, const LogEvent &) = default;
};

struct OutputFile
{
    QUrl url;         ///< pre-signed, fetched without Kaggle auth
    QString fileName; ///< relative path, may contain directories; untrusted
};

struct KernelOutputPage
{
    QList<OutputFile> files;
    QString log; ///< the raw log array text (first page only)
    QString nextPageToken;
};

/// All pages of ListKernelSessionOutput joined.
struct KernelOutput
{
    QList<OutputFile> files;
    QString log;
};

struct KernelBlob
{
    QString source;
    QString language;
    QString kernelType;
    QString slug;
};

/// GetKernel response (pull).
struct KernelPull
{
    KernelMetadata metadata;
    KernelBlob blob;
};

enum class KernelExecutionType { Unspecified, SaveAndRunAll, Interactive, QuickSave };

/// ApiSaveKernelRequest (3.8). Optional bools are always sent, as the SDK does.
struct SaveKernelRequest
{
    std::optional<qint64> id;
    QString slug; ///< owner/kernel-slug
    QString newTitle;
    QString text;
    QString language;
    QString kernelType;
    QStringList datasetDataSources;
    QStringList kernelDataSources;
    QStringList competitionDataSources;
    QStringList modelDataSources;
    QStringList categoryIds;
    bool isPrivate = true;
    bool enableGpu = false;
    bool enableTpu = false;
    bool enableInternet = true;
    QString dockerImagePinningType;
    QString dockerImage;
    int sessionTimeoutSeconds = 0; ///< 0: omitted
    KernelExecutionType kernelExecutionType = KernelExecutionType::Unspecified;
    QString machineShape;
};

struct SaveKernelResponse
{
    QString ref;
    QString url;
    qint64 versionNumber = 0;
    QString error; ///< non-empty: the push failed (HTTP 200)
    QStringList invalidTags;
    QStringList invalidDatasetSources;
    QStringList invalidCompetitionSources;
    QStringList invalidKernelSources;
    QStringList invalidModelSources;
    qint64 kernelId = 0;
};

struct AcceleratorQuota
{
    double timeUsedSeconds = 0;
    double timeReservedSeconds = 0;
    double totalTimeAllowedSeconds = 0;
    double minimumTimeAllowedSeconds = 0;
    bool isPayToScaleEnabled = false;
    bool hasEverRun = false;
};

struct QuotaStatistics
{
    QDateTime quotaRefreshTime; ///< invalid when the server sent none
    std::optional<AcceleratorQuota> gpu;
    std::optional<AcceleratorQuota> tpu;
};

/// IntrospectToken response.
struct TokenInfo
{
    bool active = false;
    QString username;
    QString clientId;
    qint64 userId = 0;
    QString scope;
    qint64 exp = 0;
};

enum class BlobType { Unspecified, Dataset, Model, Inbox, CompetitionSolution };

struct StartBlobUploadRequest
{
    BlobType type = BlobType::Dataset;
    QString name;
    qint64 contentLength = 0;
    qint64 lastModifiedEpochSeconds = 0;
    QString contentType; ///< optional
};

struct BlobUpload
{
    QString token;
    QUrl createUrl; ///< absolute resumable-upload URL, PUT without Kaggle auth
};

struct DatasetNewFile
{
    QString token;
    QString description;
};

struct CreateDatasetRequest
{
    QString ownerSlug;
    QString slug;
    QString title;
    QString licenseName;
    bool isPrivate = true; ///< false is omitted on the wire (not an optional field)
    QList<DatasetNewFile> files;
    QString subtitle;
    QString description;
    QStringList categoryIds;
};

struct CreateDatasetVersionRequest
{
    QString ownerSlug;
    QString datasetSlug;
    QString versionNotes;
    bool deleteOldVersions = false;
    QList<DatasetNewFile> files;
    QString subtitle;
    QString description;
    QStringList categoryIds;
};

struct CreateDatasetResponse
{
    QString ref;
    QString url;
    QString status; ///< "ok" on success (compared case-insensitively)
    QString error;
    QStringList invalidTags;
};

enum class DatasetStatus {
    NotYetPersisted = 0,
    BlobsReceived,
    BlobsDecompressed,
    BlobsCopiedToSds,
    IndividualBlobsCompressed,
    Ready,
    Failed,
    Deleted,
    Reprocessing,
};
QString datasetStatusName(DatasetStatus status);

} // namespace kd
