#pragma once

#include "apierror.h"
#include "domain.h"
#include "metadata.h"
#include "quotaforecast.h"

#include <QDateTime>
#include <QObject>
#include <QString>

#include <functional>
#include <optional>

namespace kd {

class KaggleClient;
class QuotaModel;
class RunMonitor;

/// The fields of the commit dialog, for per-field errors and warnings.
enum class CommitField {
    General,  ///< not tied to one field (the server's message, the network)
    Metadata, ///< kernel-metadata.json as a whole (missing, not JSON)
    Slug,     ///< id / id_no: owner/kernel-slug
    Title,
    Code, ///< code_file and its text
    Language,
    KernelType,
    Accelerator, ///< machine_shape, enable_gpu, enable_tpu
    Timeout,
    Privacy,
    Internet,
    ExecutionType,
    DatasetSources,
    KernelSources,
    CompetitionSources,
    ModelSources,
    Tags,
    DockerImage,
};
/// "dataset sources", "accelerator", ... for messages.
QString commitFieldName(CommitField field);

/// One problem (or, on a successful push, one warning) attached to a dialog field.
struct FieldError
{
    CommitField field = CommitField::General;
    QString message;
    friend bool operator==(const FieldError &, const FieldError &) = default;
};

/// A push being prepared: the request the CLI would send, where it came from, and the folder
/// metadata it was read as. The dialog edits `request` (or uses the setters).
struct CommitDraft
{
    enum class Origin { Folder, Kernel };
    Origin origin = Origin::Folder;
    QString folder;     ///< Folder: the kernel folder
    KernelRef ref;      ///< the target as sent (a new kernel's real ref comes from its title)
    bool isNew = false; ///< a kernel Kaggle does not have yet: a title is required
    KernelFolderMetadata metadata;
    SaveKernelRequest request;
    /// Kernel: the version Kaggle had when it was pulled (a later one means a push went out).
    qint64 pulledVersion = 0;

    /// "" is CPU. Also sets the deprecated enable_gpu / enable_tpu flags to match, so an old
    /// enable_gpu cannot turn a CPU choice into a P100.
    void setAccelerator(const QString &machineShape);
    void setTimeoutSeconds(int seconds) { request.sessionTimeoutSeconds = seconds; }
    void setQuickSave(bool quickSave);
};

/// The machine a session will get: machine_shape, or when it is empty the legacy enable_tpu /
/// enable_gpu flags (kaggle-api.md 4, #821); "" is CPU.
QString effectiveMachineShape(const SaveKernelRequest &request);

/// What committing a draft would cost in quota, as the dialog shows it before pushing.
struct QuotaEffect
{
    Accelerator accelerator = Accelerator::None;
    double maxSeconds = 0;                  ///< the timeout, or the 12 h GPU / 9 h TPU cap
    std::optional<double> remainingSeconds; ///< nullopt while the quota is unknown
    QDateTime refreshTime;
    bool fits = true; ///< maxSeconds fits in what remains after the running sessions
    QString text;
};

/// A successful push.
struct CommitReceipt
{
    QString ref; ///< from the response: Kaggle derives a new kernel's ref from its title
    QString url;
    qint64 versionNumber = 0;
    RunId runId = 0;
    QList<FieldError> warnings; ///< the response's invalid* lists (those sources were dropped)
};

/// How a commit ended.
struct CommitOutcome
{
    enum class Status {
        Pushed,
        GpuLimitReached, ///< "Maximum batch GPU session count of N reached": offer "queue it"
        Invalid,         ///< the draft failed validation; nothing was sent
        Failed,          ///< the server or the network refused it
    };
    Status status = Status::Failed;
    CommitReceipt receipt;         ///< Pushed
    std::optional<ApiError> error; ///< everything but Pushed
    QList<FieldError> fieldErrors; ///< Invalid and Failed
    int gpuSessionLimit = 0;       ///< GpuLimitReached: N from the message

    bool ok() const { return status == Status::Pushed; }
};

/// Prepares, validates and pushes commits (kaggle-api.md 3.7, 3.8, 4), then hands the new
/// session to the run monitor with the push guard.
class CommitService final : public QObject
{
    Q_OBJECT
public:
    using DraftCallback = std::function<void(Result<CommitDraft>)>;
    using CommitCallback = std::function<void(CommitOutcome)>;

    CommitService(KaggleClient *client, RunMonitor *monitor, QObject *parent = nullptr);

    /// Reads a folder exactly as `kaggle kernels push -p DIR` does. Errors map to fields with
    /// fieldErrors().
    Result<CommitDraft> prepareFromFolder(const QString &dir) const;
    /// Pulls a kernel (GetKernel) into a draft to edit and push.
    void prepareFromKernel(const KernelRef &ref, DraftCallback done);

    /// The CLI's checks, one entry per problem.
    static QList<FieldError> validate(const CommitDraft &draft);
    /// The fields an error from prepareFromFolder or a push concerns.
    static QList<FieldError> fieldErrors(const ApiError &error);
    /// N of "Maximum batch GPU session count of N reached"; nullopt for any other error.
    static std::optional<int> gpuSessionLimit(const ApiError &error);

    /// The quota a commit may use and what remains (from `quota`, which may be null).
    static QuotaEffect quotaEffect(const CommitDraft &draft, const QuotaModel *quota);

    /// The request push() sends: the draft's, plus the kernel itself in kernel_sources when
    /// its persistence mode keeps files (its previous output is mounted as input).
    SaveKernelRequest requestFor(const CommitDraft &draft) const;

    /// Validates, pushes, then watches the run (by the response's ref) and records the push
    /// as a new session. `done` is called exactly once: at once when the draft is invalid
    /// (nothing is sent), else when Kaggle answers (never after the service is destroyed).
    void commit(const CommitDraft &draft, CommitCallback done);

signals:
    void committed(const kd::CommitReceipt &receipt);

private:
    void onPushed(const SaveKernelRequest &sent, const SaveKernelResponse &response,
                  const CommitCallback &done);

    KaggleClient *m_client;
    RunMonitor *m_monitor;
};

} // namespace kd
