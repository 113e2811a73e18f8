#pragma once

#include "apierror.h"
#include "kaggleclient.h"
#include "types.h"

#include <QElapsedTimer>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QStringList>

#include <optional>

class QTimer;

namespace kd {

class Store;

/// Which output files of a run to copy: all, an explicit list (checkboxes) or a pattern.
struct OutputSelection
{
    enum class Mode {
        All,
        Names, ///< exactly the names in `names`
        Glob,  ///< `*` and `?` stay inside one folder, `**` crosses folders, `[...]` a class
        Regex, ///< searched anywhere in the name, like the CLI's --file-pattern (re.search)
    };
    Mode mode = Mode::All;
    QStringList names;
    QString pattern;
};

/// Where the files go: a new dataset, or a new version of an existing one.
enum class DatasetTargetKind { NewDataset, NewVersion };

/// What one Output -> Dataset transfer does.
struct OutputToDatasetRequest
{
    KernelRef source; ///< the run whose latest session's outputs are copied
    OutputSelection selection;
    DatasetTargetKind target = DatasetTargetKind::NewDataset;

    // New dataset. The owner is the account's username.
    QString title;
    QString slug;
    QString license = QStringLiteral("CC0-1.0");
    bool isPrivate = true;

    // New version.
    QString datasetRef; ///< owner/slug of the existing dataset
    QString versionNotes;

    /// Empty: `<dataDir>/transfers/<owner>-<slug>-<timestamp>/`. Pass the folder of an earlier
    /// attempt to resume it: complete files are kept, .part files continue.
    QString workDir;
    /// false: one refused (hostile) output name fails the job before anything is downloaded.
    /// true: refused names are logged and reported, the job goes on with the safe ones.
    bool skipUnsafeNames = false;
};

/// Remembered choices, so the second transfer from the same run is one click.
struct OutputToDatasetDefaults
{
    DatasetTargetKind target = DatasetTargetKind::NewDataset;
    QString license = QStringLiteral("CC0-1.0");
    bool isPrivate = true;
    OutputSelection::Mode selectionMode = OutputSelection::Mode::All;
    QString pattern;
    QString datasetSlug; ///< per source kernel; for NewVersion it is the dataset ref owner/slug
    QString title;       ///< per source kernel
};

/// One file of the transfer, as it moves through the steps.
struct TransferFile
{
    QString name;      ///< the output's relative path, also the dataset file name
    QUrl url;          ///< the signed output URL
    QString localPath; ///< inside the work folder
    qint64 size = -1;  ///< known once downloaded
    QString token;     ///< blob token once uploaded
};

/// Copies a finished run's output files into a new dataset or dataset version.
///
/// Kaggle has no API that turns a kernel output into a dataset (kaggle-api.md 5.7), so the
/// job lists the outputs, downloads the chosen files into a work folder (resumable, names
/// checked by safeOutputPath), uploads each through the blob flow (resumable PUT), creates
/// the dataset or version and waits until Kaggle reports READY. Every step is logged. Nothing
/// is left half-done silently: a failure after the upload says that the uploaded blobs are
/// attached to no dataset, a failure during the download says which partial files were kept.
///
/// Dataset file names keep the folder structure: the blob `name` is the output's relative path
/// (e.g. "checkpoint-epoch1/model.safetensors"), so two checkpoints' "model.safetensors" do not
/// collide and the next run finds the files where the previous one wrote them.
class OutputToDataset final : public QObject
{
    Q_OBJECT
public:
    enum class State {
        Idle,
        Listing,
        Downloading,
        Uploading,
        Creating,
        Processing,
        Done,
        Failed,
        Cancelled,
    };
    Q_ENUM(State)

    struct Options
    {
        /// Parent of the default work folders; empty: QStandardPaths::AppDataLocation.
        QString dataDir;
        int pollInitialMs = 2'000; ///< first wait for READY, doubled each time
        int pollMaxMs = 30'000;
        int processingTimeoutMs = 30 * 60'000;
        int etaWindowMs = 10'000; ///< the moving average of the rate spans about this long
    };

    OutputToDataset(KaggleClient *client, Options options, QObject *parent = nullptr);
    ~OutputToDataset() override;

    /// Step 1 on its own, for the file chooser: every page of the latest session's outputs;
    /// answers through outputsListed.
    void listOutputs(const KernelRef &source);

    /// Checks the request as the CLI would (title, slug, licence, notes, pattern) without a
    /// network call. The error is Kind::Invalid with one "field: problem" line per bad field
    /// in details (fields: title, slug, license, datasetRef, versionNotes, selection, source).
    static std::optional<ApiError> validate(const OutputToDatasetRequest &request);
    /// The outputs the selection picks, in listing order. An invalid regex is Kind::Invalid.
    static Result<QList<OutputFile>> select(const QList<OutputFile> &outputs,
                                            const OutputSelection &selection);
    /// A glob as described in OutputSelection, as an anchored regular expression.
    static QString globToRegex(const QString &glob);

    /// Runs the whole transfer: list, choose, download, upload, create, wait for READY.
    void start(const OutputToDatasetRequest &request);
    /// The same with an output list the caller already has (from listOutputs, or a test): no
    /// listing call. The selection still applies.
    void start(const OutputToDatasetRequest &request, const QList<OutputFile> &outputs);
    /// Cancels the call in flight; .part files stay for a later resume. Finishes Cancelled.
    void cancel();

    State state() const { return m_state; }
    bool isRunning() const;
    /// Human-readable steps so far, oldest first.
    const QStringList &log() const { return m_log; }
    QString workDir() const { return m_workDir; }
    const QList<TransferFile> &files() const { return m_files; }
    /// Output names refused by safeOutputPath, with the reason, "name: reason".
    const QStringList &refusedNames() const { return m_refused; }
    /// "owner/slug" of the target dataset.
    QString datasetRef() const;

    static OutputToDatasetDefaults loadDefaults(const Store *store, const KernelRef &source);
    static Result<Done> saveDefaults(Store *store, const KernelRef &source,
                                     const OutputToDatasetDefaults &defaults);
    /// The defaults a finished request leaves behind.
    static OutputToDatasetDefaults defaultsFrom(const OutputToDatasetRequest &request);

signals:
    void outputsListed(const kd::Result<QList<kd::OutputFile>> &outputs);
    void stateChanged(kd::OutputToDataset::State state);
    /// Bytes of the current phase (download, then upload). total is -1 while unknown; during
    /// the download it is an estimate until every file's size is known. eta is -1 when unknown.
    void progress(qint64 done, qint64 total, int etaSeconds, const QString &text);
    void logged(const QString &line);
    /// Exactly once per start: the dataset ref "owner/slug" or the error (Kind::Cancelled).
    void finished(const kd::Result<QString> &datasetRef);
    /// After Done: the caller may attach the dataset to a kernel's dataset_sources and commit.
    void readyForAttach(const QString &datasetRef);

private:
    void begin(const OutputToDatasetRequest &request, std::optional<QList<OutputFile>> outputs);
    void setState(State state);
    void note(const QString &line);
    void fail(ApiError error);
    void succeed();
    void checkTarget();
    void prepareFiles(const QList<OutputFile> &outputs);
    void downloadNext();
    void uploadNext();
    void createDataset();
    void pollStatus();
    void resetRate();
    int updateEta(qint64 done, qint64 total);
    QString ownerSlug() const;
    QString targetSlug() const;

    KaggleClient *m_client;
    Options m_options;
    OutputToDatasetRequest m_request;
    std::optional<QList<OutputFile>> m_given;
    State m_state = State::Idle;
    QStringList m_log;
    QStringList m_refused;
    QString m_workDir;
    QList<TransferFile> m_files;
    qsizetype m_index = 0;
    int m_refusedStarts = 0; ///< StartBlobUpload answers of 429 for the current file
    qint64 m_doneBytes = 0;  ///< of complete files in the current phase
    KaggleClient::CallId m_call = 0;
    QTimer *m_pollTimer;
    int m_pollDelayMs = 0;
    QElapsedTimer m_processing;
    QElapsedTimer m_rateClock;
    qint64 m_rateLastBytes = 0;
    qint64 m_rateLastMs = 0;
    double m_rate = 0; ///< bytes per second, exponential moving average
    quint64 m_run = 0; ///< bumps on every start and cancel, so stale callbacks are ignored
};

} // namespace kd
