#include "outputtransfer.h"

#include "metadata.h"
#include "safepath.h"
#include "store.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QRegularExpression>
#include <QSet>
#include <QStandardPaths>
#include <QTimer>

#include <algorithm>
#include <cmath>

namespace kd {

namespace {
/// StartBlobUpload answers of 429 for one file before the transfer gives up.
constexpr int kMaxRefusedStarts = 5;
} // namespace

Q_LOGGING_CATEGORY(lcTransfer, "kaggledeck.transfer", QtInfoMsg)

namespace {

const QString kKeyPrefix = QStringLiteral("outputToDataset/");

QString sizeText(qint64 bytes)
{
    if (bytes < 0)
        return QStringLiteral("?");
    if (bytes < 1024)
        return QStringLiteral("%1 B").arg(bytes);
    if (bytes < 1024 * 1024)
        return QStringLiteral("%1 KB").arg(double(bytes) / 1024.0, 0, 'f', 1);
    if (bytes < 1024LL * 1024 * 1024)
        return QStringLiteral("%1 MB").arg(double(bytes) / (1024.0 * 1024.0), 0, 'f', 1);
    return QStringLiteral("%1 GB").arg(double(bytes) / (1024.0 * 1024.0 * 1024.0), 0, 'f', 2);
}

QString modeName(OutputSelection::Mode mode)
{
    switch (mode) {
    case OutputSelection::Mode::All:
        return QStringLiteral("all");
    case OutputSelection::Mode::Names:
        return QStringLiteral("names");
    case OutputSelection::Mode::Glob:
        return QStringLiteral("glob");
    case OutputSelection::Mode::Regex:
        return QStringLiteral("regex");
    }
    return QStringLiteral("all");
}

OutputSelection::Mode modeFromName(const QString &name)
{
    for (auto m : {OutputSelection::Mode::Names, OutputSelection::Mode::Glob,
                   OutputSelection::Mode::Regex}) {
        if (modeName(m) == name)
            return m;
    }
    return OutputSelection::Mode::All;
}

// Isolates one field of the CLI's validation, which stops at the first problem: the other
// fields are filled with values known to pass.
std::optional<QString> datasetFieldError(const QString &id, const QString &title,
                                         const QString &license)
{
    DatasetFolderMetadata m;
    m.id = id;
    m.title = title;
    m.license = license;
    if (auto e = validateDatasetMetadata(m))
        return e->message;
    return std::nullopt;
}

const QString kGoodId = QStringLiteral("owner/valid-slug");
const QString kGoodTitle = QStringLiteral("A valid title");
const QString kGoodLicense = QStringLiteral("CC0-1.0");

QString canonicalLicense(const QString &license)
{
    for (const QString &known : knownLicenses())
        if (known.compare(license, Qt::CaseInsensitive) == 0)
            return known;
    return license;
}

} // namespace

OutputToDataset::OutputToDataset(KaggleClient *client, Options options, QObject *parent)
    : QObject(parent), m_client(client), m_options(std::move(options)),
      m_pollTimer(new QTimer(this))
{
    m_pollTimer->setSingleShot(true);
    connect(m_pollTimer, &QTimer::timeout, this, &OutputToDataset::pollStatus);
}

OutputToDataset::~OutputToDataset()
{
    if (m_call)
        m_client->cancel(m_call);
}

bool OutputToDataset::isRunning() const
{
    return m_state != State::Idle && m_state != State::Done && m_state != State::Failed &&
           m_state != State::Cancelled;
}

QString OutputToDataset::ownerSlug() const
{
    if (m_request.target == DatasetTargetKind::NewVersion)
        return m_request.datasetRef.section(u'/', 0, 0);
    return m_client->credentials().username();
}

QString OutputToDataset::targetSlug() const
{
    if (m_request.target == DatasetTargetKind::NewVersion)
        return m_request.datasetRef.section(u'/', 1);
    return m_request.slug;
}

QString OutputToDataset::datasetRef() const
{
    return ownerSlug() + u'/' + targetSlug();
}

// ---------------------------------------------------------------------------------------------
// Validation and selection (no network)

std::optional<ApiError> OutputToDataset::validate(const OutputToDatasetRequest &r)
{
    QStringList details;
    if (!r.source.isValid())
        details << QStringLiteral("source: choose the run whose outputs to copy");
    if (r.target == DatasetTargetKind::NewDataset) {
        if (r.slug.contains(u'/'))
            details << QStringLiteral("slug: give the slug alone, without the owner");
        else if (auto e =
                     datasetFieldError(QStringLiteral("owner/") + r.slug, kGoodTitle, kGoodLicense))
            details << QStringLiteral("slug: ") + *e;
        if (auto e = datasetFieldError(kGoodId, r.title, kGoodLicense))
            details << QStringLiteral("title: ") + *e;
        if (auto e = datasetFieldError(kGoodId, kGoodTitle, r.license))
            details << QStringLiteral("license: ") + *e;
    } else {
        if (r.datasetRef.count(u'/') != 1)
            details << QStringLiteral("datasetRef: give the dataset as owner/slug");
        else if (auto e = datasetFieldError(r.datasetRef, kGoodTitle, kGoodLicense))
            details << QStringLiteral("datasetRef: ") + *e;
        if (r.versionNotes.trimmed().isEmpty())
            details << QStringLiteral("versionNotes: describe what changed in this version");
    }
    switch (r.selection.mode) {
    case OutputSelection::Mode::All:
        break;
    case OutputSelection::Mode::Names:
        if (r.selection.names.isEmpty())
            details << QStringLiteral("selection: no file is chosen");
        break;
    case OutputSelection::Mode::Glob:
    case OutputSelection::Mode::Regex:
        if (r.selection.pattern.isEmpty()) {
            details << QStringLiteral("selection: the pattern is empty");
        } else if (auto s = select({}, r.selection); !s) {
            details << QStringLiteral("selection: ") + s.error().message;
        }
        break;
    }
    if (details.isEmpty())
        return std::nullopt;
    ApiError e = ApiError::make(ApiError::Kind::Invalid,
                                QStringLiteral("The transfer settings are not valid: ") +
                                    details.join(QStringLiteral("; ")));
    e.details = details;
    return e;
}

QString OutputToDataset::globToRegex(const QString &glob)
{
    QString rx;
    rx.reserve(glob.size() * 2 + 4);
    rx += u'^';
    for (qsizetype i = 0; i < glob.size(); ++i) {
        const QChar c = glob.at(i);
        if (c == u'*') {
            if (i + 1 < glob.size() && glob.at(i + 1) == u'*') {
                ++i;
                // "**/" also matches no folder at all, as in git and most shells.
                if (i + 1 < glob.size() && glob.at(i + 1) == u'/') {
                    ++i;
                    rx += QStringLiteral("(?:.*/)?");
                } else {
                    rx += QStringLiteral(".*");
                }
            } else {
                rx += QStringLiteral("[^/]*");
            }
        } else if (c == u'?') {
            rx += QStringLiteral("[^/]");
        } else if (c == u'[') {
            const qsizetype close = glob.indexOf(u']', i + 2);
            if (close < 0) {
                rx += QStringLiteral("\\[");
                continue;
            }
            QString cls = glob.mid(i + 1, close - i - 1);
            if (cls.startsWith(u'!'))
                cls[0] = u'^';
            cls.replace(QStringLiteral("\\"), QStringLiteral("\\\\"));
            rx += u'[' + cls + u']';
            i = close;
        } else {
            rx += QRegularExpression::escape(QString(c));
        }
    }
    rx += u'$';
    return rx;
}

Result<QList<OutputFile>> OutputToDataset::select(const QList<OutputFile> &outputs,
                                                  const OutputSelection &selection)
{
    QList<OutputFile> chosen;
    switch (selection.mode) {
    case OutputSelection::Mode::All:
        return outputs;
    case OutputSelection::Mode::Names: {
        const QSet<QString> wanted(selection.names.cbegin(), selection.names.cend());
        for (const OutputFile &f : outputs)
            if (wanted.contains(f.fileName))
                chosen << f;
        return chosen;
    }
    case OutputSelection::Mode::Glob:
    case OutputSelection::Mode::Regex: {
        const bool glob = selection.mode == OutputSelection::Mode::Glob;
        // In a glob "**" means any character at all, a newline in a hostile name included, so
        // that such a name reaches the name check instead of slipping past the selection.
        const QRegularExpression rx(glob ? globToRegex(selection.pattern) : selection.pattern,
                                    glob ? QRegularExpression::DotMatchesEverythingOption
                                         : QRegularExpression::NoPatternOption);
        if (!rx.isValid()) {
            return ApiError::make(ApiError::Kind::Invalid,
                                  QStringLiteral("the pattern \"%1\" is not valid: %2 at %3")
                                      .arg(selection.pattern, rx.errorString())
                                      .arg(rx.patternErrorOffset()));
        }
        for (const OutputFile &f : outputs)
            if (rx.match(f.fileName).hasMatch())
                chosen << f;
        return chosen;
    }
    }
    return chosen;
}

// ---------------------------------------------------------------------------------------------
// Defaults

OutputToDatasetDefaults OutputToDataset::loadDefaults(const Store *store, const KernelRef &source)
{
    OutputToDatasetDefaults d;
    if (!store)
        return d;
    const QString kind = store->value(kKeyPrefix + QStringLiteral("target"));
    d.target = kind == u"version" ? DatasetTargetKind::NewVersion : DatasetTargetKind::NewDataset;
    d.license = store->value(kKeyPrefix + QStringLiteral("license"), d.license);
    d.isPrivate = store->value(kKeyPrefix + QStringLiteral("private"), QStringLiteral("1")) != u"0";
    d.selectionMode = modeFromName(store->value(kKeyPrefix + QStringLiteral("selectionMode")));
    d.pattern = store->value(kKeyPrefix + QStringLiteral("pattern"));
    if (source.isValid()) {
        const QString per = kKeyPrefix + source.toString().toLower() + u'/';
        d.datasetSlug = store->value(per + QStringLiteral("dataset"));
        d.title = store->value(per + QStringLiteral("title"));
    }
    return d;
}

Result<Done> OutputToDataset::saveDefaults(Store *store, const KernelRef &source,
                                           const OutputToDatasetDefaults &d)
{
    if (!store)
        return ApiError::make(ApiError::Kind::Invalid, QStringLiteral("no store"));
    const QList<std::pair<QString, QString>> values = {
        {QStringLiteral("target"), d.target == DatasetTargetKind::NewVersion
                                       ? QStringLiteral("version")
                                       : QStringLiteral("dataset")},
        {QStringLiteral("license"), d.license},
        {QStringLiteral("private"), d.isPrivate ? QStringLiteral("1") : QStringLiteral("0")},
        {QStringLiteral("selectionMode"), modeName(d.selectionMode)},
        {QStringLiteral("pattern"), d.pattern},
    };
    for (const auto &[key, value] : values) {
        if (auto r = store->setValue(kKeyPrefix + key, value); !r)
            return r;
    }
    if (source.isValid()) {
        const QString per = kKeyPrefix + source.toString().toLower() + u'/';
        if (auto r = store->setValue(per + QStringLiteral("dataset"), d.datasetSlug); !r)
            return r;
        if (auto r = store->setValue(per + QStringLiteral("title"), d.title); !r)
            return r;
    }
    return Done{};
}

OutputToDatasetDefaults OutputToDataset::defaultsFrom(const OutputToDatasetRequest &r)
{
    OutputToDatasetDefaults d;
    d.target = r.target;
    d.selectionMode = r.selection.mode;
    d.pattern = r.selection.pattern;
    if (r.target == DatasetTargetKind::NewDataset) {
        d.license = canonicalLicense(r.license);
        d.isPrivate = r.isPrivate;
        d.datasetSlug = r.slug;
        d.title = r.title;
    } else {
        d.datasetSlug = r.datasetRef;
    }
    return d;
}

// ---------------------------------------------------------------------------------------------
// The job

void OutputToDataset::setState(State state)
{
    if (m_state == state)
        return;
    m_state = state;
    emit stateChanged(state);
}

void OutputToDataset::note(const QString &line)
{
    const QString stamped =
        QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss ")) + line;
    m_log << stamped;
    qCInfo(lcTransfer).noquote() << line;
    emit logged(stamped);
}

void OutputToDataset::fail(ApiError error)
{
    m_call = 0;
    m_pollTimer->stop();
    ++m_run;
    note(QStringLiteral("Failed: ") + error.message);
    setState(State::Failed);
    emit finished(std::move(error));
}

void OutputToDataset::succeed()
{
    m_call = 0;
    ++m_run;
    const QString ref = datasetRef();
    note(QStringLiteral("Done: %1 is ready").arg(ref));
    setState(State::Done);
    emit finished(ref);
    emit readyForAttach(ref);
}

void OutputToDataset::cancel()
{
    if (!isRunning())
        return;
    if (m_call)
        m_client->cancel(m_call);
    m_call = 0;
    m_pollTimer->stop();
    ++m_run;
    const State was = m_state;
    QString what = QStringLiteral("Cancelled.");
    if (was == State::Downloading || was == State::Uploading)
        what += QStringLiteral(" Partial downloads are kept in %1; start again with that work "
                               "folder to resume.")
                    .arg(m_workDir);
    if (was == State::Uploading)
        what += QStringLiteral(" Files uploaded so far are not attached to any dataset.");
    if (was == State::Processing)
        what += QStringLiteral(" %1 was already created on Kaggle; only the wait for READY "
                               "stopped.")
                    .arg(datasetRef());
    note(what);
    setState(State::Cancelled);
    emit finished(ApiError::make(ApiError::Kind::Cancelled, what));
}

void OutputToDataset::listOutputs(const KernelRef &source)
{
    m_client->listKernelSessionOutput(source, this, [this](Result<KernelOutput> r) {
        if (!r) {
            emit outputsListed(r.error());
            return;
        }
        emit outputsListed(r->files);
    });
}

void OutputToDataset::start(const OutputToDatasetRequest &request)
{
    begin(request, std::nullopt);
}

void OutputToDataset::start(const OutputToDatasetRequest &request, const QList<OutputFile> &outputs)
{
    begin(request, outputs);
}

void OutputToDataset::begin(const OutputToDatasetRequest &request,
                            std::optional<QList<OutputFile>> outputs)
{
    if (isRunning()) {
        qCWarning(lcTransfer) << "start() while a transfer runs; ignored";
        return;
    }
    m_request = request;
    m_given = std::move(outputs);
    m_log.clear();
    m_refused.clear();
    m_files.clear();
    m_workDir.clear();
    m_index = 0;
    m_refusedStarts = 0;
    m_doneBytes = 0;
    ++m_run;
    m_state = State::Idle;
    note(QStringLiteral("Output -> Dataset: %1 to %2")
             .arg(request.source.toString(),
                  request.target == DatasetTargetKind::NewDataset
                      ? QStringLiteral("a new dataset")
                      : QStringLiteral("a new version of %1").arg(request.datasetRef)));
    if (auto e = validate(request)) {
        fail(*e);
        return;
    }
    if (m_request.target == DatasetTargetKind::NewDataset)
        m_request.license = canonicalLicense(m_request.license);
    setState(State::Listing);
    checkTarget();
}

// The CLI looks the ref up before creating (kaggle-api.md 5.3); doing it before the download
// means a taken slug costs no transfer at all.
void OutputToDataset::checkTarget()
{
    const bool fresh = m_request.target == DatasetTargetKind::NewDataset;
    const QString owner = ownerSlug();
    if (owner.isEmpty()) {
        fail(ApiError::make(ApiError::Kind::Auth,
                            QStringLiteral("The account's username is not known; sign in "
                                           "again.")));
        return;
    }
    note(QStringLiteral("Checking %1 on Kaggle").arg(datasetRef()));
    const quint64 run = m_run;
    m_call = m_client->getDatasetStatus(
        owner, targetSlug(), this, [this, run, fresh](Result<DatasetStatus> r) {
            if (run != m_run)
                return;
            m_call = 0;
            const bool missing = !r && r.error().kind == ApiError::Kind::NotFound;
            if (!r && !missing) {
                ApiError e = r.error();
                e.message = QStringLiteral("Could not check %1: %2").arg(datasetRef(), e.message);
                fail(e);
                return;
            }
            if (fresh && r) {
                ApiError e = ApiError::make(
                    ApiError::Kind::Application,
                    QStringLiteral("The dataset slug \"%1\" is already in use (%2 exists). "
                                   "Choose another slug, or add a new version of %2 instead.")
                        .arg(targetSlug(), datasetRef()));
                e.details = {QStringLiteral("slug: already in use")};
                fail(e);
                return;
            }
            if (!fresh && missing) {
                ApiError e = r.error();
                e.message = QStringLiteral("The dataset %1 was not found (or is not yours to "
                                           "see), so no version can be added.")
                                .arg(datasetRef());
                e.details = {QStringLiteral("datasetRef: not found")};
                fail(e);
                return;
            }
            if (m_given) {
                note(QStringLiteral("Using the %1 outputs given").arg(m_given->size()));
                prepareFiles(*m_given);
                return;
            }
            note(QStringLiteral("Listing the outputs of %1").arg(m_request.source.toString()));
            m_call = m_client->listKernelSessionOutput(
                m_request.source, this, [this, run](Result<KernelOutput> out) {
                    if (run != m_run)
                        return;
                    m_call = 0;
                    if (!out) {
                        ApiError e = out.error();
                        e.message = QStringLiteral("Could not list the outputs of %1: %2")
                                        .arg(m_request.source.toString(), e.message);
                        fail(e);
                        return;
                    }
                    note(QStringLiteral("%1 has %2 output files")
                             .arg(m_request.source.toString())
                             .arg(out->files.size()));
                    prepareFiles(out->files);
                });
        });
}

void OutputToDataset::prepareFiles(const QList<OutputFile> &outputs)
{
    auto chosen = select(outputs, m_request.selection);
    if (!chosen) {
        fail(chosen.error());
        return;
    }
    if (chosen->isEmpty()) {
        ApiError e = ApiError::make(
            ApiError::Kind::Invalid,
            outputs.isEmpty()
                ? QStringLiteral("%1 has no output files.").arg(m_request.source.toString())
                : QStringLiteral("None of the %1 output files matches the selection.")
                      .arg(outputs.size()));
        e.details = {QStringLiteral("selection: matches nothing")};
        fail(e);
        return;
    }
    note(QStringLiteral("%1 of %2 files chosen (%3)")
             .arg(chosen->size())
             .arg(outputs.size())
             .arg(m_request.selection.pattern.isEmpty() ? modeName(m_request.selection.mode)
                                                        : m_request.selection.pattern));

    // Names first, without touching the disk: refusing must not leave folders behind.
    QList<OutputFile> named;
    QSet<QString> seen;
    for (const OutputFile &f : *chosen) {
        if (auto e = checkOutputName(f.fileName)) {
            m_refused << e->message;
            continue;
        }
        if (seen.contains(f.fileName))
            continue;
        seen.insert(f.fileName);
        named << f;
    }
    if (!m_refused.isEmpty() && !m_request.skipUnsafeNames) {
        ApiError e = ApiError::make(ApiError::Kind::Invalid,
                                    QStringLiteral("%1 output file name(s) were refused, so "
                                                   "nothing was downloaded: %2")
                                        .arg(m_refused.size())
                                        .arg(m_refused.join(QStringLiteral("; "))));
        e.details = m_refused;
        fail(e);
        return;
    }

    m_workDir = m_request.workDir;
    if (m_workDir.isEmpty()) {
        QString base = m_options.dataDir;
        if (base.isEmpty())
            base = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
        m_workDir = QDir(base).filePath(
            QStringLiteral("transfers/%1-%2-%3")
                .arg(ownerSlug(), targetSlug(),
                     QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMdd-HHmmss"))));
    }
    for (const OutputFile &f : named) {
        auto path = safeOutputPath(m_workDir, f.fileName);
        if (!path) {
            if (path.error().kind == ApiError::Kind::Io) {
                fail(path.error());
                return;
            }
            m_refused << path.error().message;
            continue;
        }
        m_files << TransferFile{f.fileName, f.url, *path, -1, {}};
    }
    if (!m_refused.isEmpty()) {
        if (!m_request.skipUnsafeNames) {
            ApiError e = ApiError::make(ApiError::Kind::Invalid,
                                        QStringLiteral("%1 output file name(s) were refused, "
                                                       "so nothing was downloaded: %2")
                                            .arg(m_refused.size())
                                            .arg(m_refused.join(QStringLiteral("; "))));
            e.details = m_refused;
            fail(e);
            return;
        }
        for (const QString &r : std::as_const(m_refused))
            note(QStringLiteral("Skipped: ") + r);
    }
    if (m_files.isEmpty()) {
        fail(ApiError::make(ApiError::Kind::Invalid,
                            QStringLiteral("Every chosen output file name was refused; nothing "
                                           "to copy.")));
        return;
    }
    note(QStringLiteral("Downloading %1 files into %2").arg(m_files.size()).arg(m_workDir));
    setState(State::Downloading);
    m_index = 0;
    m_doneBytes = 0;
    resetRate();
    downloadNext();
}

void OutputToDataset::resetRate()
{
    m_rateClock.start();
    m_rateLastBytes = 0;
    m_rateLastMs = 0;
    m_rate = 0;
}

int OutputToDataset::updateEta(qint64 done, qint64 total)
{
    const qint64 now = m_rateClock.elapsed();
    const qint64 dt = now - m_rateLastMs;
    if (dt >= 250) {
        const double instant = double(done - m_rateLastBytes) * 1000.0 / double(dt);
        // An exponential moving average whose weight follows the sample's length, so that the
        // ETA neither jumps with each chunk nor lags behind a real change of speed.
        const double alpha = std::min(1.0, double(dt) / double(std::max(1, m_options.etaWindowMs)));
        m_rate = m_rate <= 0 ? instant : alpha * instant + (1.0 - alpha) * m_rate;
        m_rateLastMs = now;
        m_rateLastBytes = done;
    }
    if (m_rate <= 0 || total < 0 || done > total)
        return -1;
    return int(std::ceil(double(total - done) / m_rate));
}

void OutputToDataset::downloadNext()
{
    if (m_index >= m_files.size()) {
        note(QStringLiteral("Downloaded %1 files, %2")
                 .arg(m_files.size())
                 .arg(sizeText(m_doneBytes)));
        setState(State::Uploading);
        m_index = 0;
        m_doneBytes = 0;
        resetRate();
        uploadNext();
        return;
    }
    TransferFile &file = m_files[m_index];
    const QFileInfo have(file.localPath);
    // Only a complete download is ever renamed into place, so a file without a .part is done.
    if (have.isFile() && !QFileInfo::exists(file.localPath + QStringLiteral(".part"))) {
        file.size = have.size();
        note(QStringLiteral("Already downloaded: %1 (%2)").arg(file.name, sizeText(file.size)));
        m_doneBytes += file.size;
        ++m_index;
        downloadNext();
        return;
    }
    const bool resuming = QFileInfo::exists(file.localPath + QStringLiteral(".part"));
    note(QStringLiteral("%1 %2 (%3 of %4)")
             .arg(resuming ? QStringLiteral("Resuming") : QStringLiteral("Downloading"), file.name)
             .arg(m_index + 1)
             .arg(m_files.size()));
    const quint64 run = m_run;
    const qsizetype index = m_index;
    const qint64 count = m_files.size();
    const auto onProgress = [this, run, index, count](qint64 done, qint64 total) {
        if (run != m_run)
            return;
        qint64 overall = -1;
        if (total >= 0) {
            const qint64 remaining = count - index - 1;
            const qint64 average = index > 0 ? m_doneBytes / index : total;
            overall = m_doneBytes + total + average * remaining;
        }
        const qint64 now = m_doneBytes + done;
        const int eta = updateEta(now, overall);
        emit progress(now, overall, eta,
                      QStringLiteral("Downloading %1 (%2 of %3): %4 of %5")
                          .arg(m_files.at(index).name)
                          .arg(index + 1)
                          .arg(count)
                          .arg(sizeText(done), sizeText(total)));
    };
    m_call = m_client->downloadFile(
        file.url, file.localPath, this, onProgress, [this, run](Result<Done> r) {
            if (run != m_run)
                return;
            m_call = 0;
            TransferFile &f = m_files[m_index];
            if (!r) {
                ApiError e = r.error();
                const QString why =
                    e.kind == ApiError::Kind::Io
                        ? QStringLiteral("the file could not be written (disk full, or the "
                                         "folder is not writable): %1")
                              .arg(e.message)
                        : e.message;
                e.message = QStringLiteral("Download of %1 failed: %2. Nothing was uploaded; "
                                           "the files downloaded so far and the partial file "
                                           "are kept in %3, start again with that work folder "
                                           "to resume.")
                                .arg(f.name, why, m_workDir);
                e.details = {f.name};
                fail(e);
                return;
            }
            f.size = QFileInfo(f.localPath).size();
            m_doneBytes += f.size;
            note(QStringLiteral("Downloaded %1 (%2)").arg(f.name, sizeText(f.size)));
            ++m_index;
            downloadNext();
        });
}

void OutputToDataset::uploadNext()
{
    qint64 total = 0;
    for (const TransferFile &f : std::as_const(m_files))
        total += f.size;
    if (m_index >= m_files.size()) {
        note(QStringLiteral("Uploaded %1 files, %2").arg(m_files.size()).arg(sizeText(total)));
        createDataset();
        return;
    }
    TransferFile &file = m_files[m_index];
    StartBlobUploadRequest start;
    start.type = BlobType::Dataset;
    start.name = file.name;
    start.contentLength = file.size;
    start.lastModifiedEpochSeconds = QFileInfo(file.localPath).lastModified().toSecsSinceEpoch();
    note(QStringLiteral("Uploading %1 (%2 of %3, %4)")
             .arg(file.name)
             .arg(m_index + 1)
             .arg(m_files.size())
             .arg(sizeText(file.size)));
    const quint64 run = m_run;
    const auto failUpload = [this](ApiError e) {
        const TransferFile &f = m_files.at(m_index);
        e.message = QStringLiteral("Upload of %1 failed: %2. No dataset was created; the %3 "
                                   "file(s) uploaded before it are not attached to any dataset. "
                                   "The downloaded files are kept in %4.")
                        .arg(f.name, e.message)
                        .arg(m_index)
                        .arg(m_workDir);
        e.details = {f.name};
        fail(e);
    };
    m_call = m_client->startBlobUpload(
        start, this, [this, run, total, failUpload](Result<BlobUpload> blob) {
            if (run != m_run)
                return;
            m_call = 0;
            if (!blob && blob.error().kind == ApiError::Kind::RateLimited &&
                m_refusedStarts < kMaxRefusedStarts) {
                // A 429 is a refusal: nothing was started, so asking again is safe.
                ++m_refusedStarts;
                const ApiError &e = blob.error();
                const qint64 waitMs =
                    e.retryAfter ? qint64(e.retryAfter->count()) : 2000LL * m_refusedStarts;
                note(QStringLiteral("Kaggle asked to wait before the upload; trying again in %1 s")
                         .arg(QString::number(waitMs / 1000.0)));
                QTimer::singleShot(waitMs, Qt::PreciseTimer, this, [this, run] {
                    if (run == m_run)
                        uploadNext();
                });
                return;
            }
            if (!blob) {
                failUpload(blob.error());
                return;
            }
            m_refusedStarts = 0;
            const qsizetype index = m_index;
            const auto onProgress = [this, run, index, total](qint64 done, qint64) {
                if (run != m_run)
                    return;
                const qint64 now = m_doneBytes + done;
                emit progress(now, total, updateEta(now, total),
                              QStringLiteral("Uploading %1 (%2 of %3): %4 of %5")
                                  .arg(m_files.at(index).name)
                                  .arg(index + 1)
                                  .arg(m_files.size())
                                  .arg(sizeText(now), sizeText(total)));
            };
            const QString token = blob->token;
            m_call = m_client->uploadBlob(*blob, m_files.at(m_index).localPath, this, onProgress,
                                          [this, run, token, failUpload](Result<Done> r) {
                                              if (run != m_run)
                                                  return;
                                              m_call = 0;
                                              if (!r) {
                                                  failUpload(r.error());
                                                  return;
                                              }
                                              TransferFile &f = m_files[m_index];
                                              f.token = token;
                                              m_doneBytes += f.size;
                                              note(QStringLiteral("Uploaded %1").arg(f.name));
                                              ++m_index;
                                              uploadNext();
                                          });
        });
}

void OutputToDataset::createDataset()
{
    setState(State::Creating);
    QList<DatasetNewFile> files;
    for (const TransferFile &f : std::as_const(m_files))
        files << DatasetNewFile{f.token, {}};
    const quint64 run = m_run;
    const auto onCreated = [this, run](Result<CreateDatasetResponse> r) {
        if (run != m_run)
            return;
        m_call = 0;
        if (!r) {
            ApiError e = r.error();
            QString hint;
            if (e.message.contains(QStringLiteral("already in use"), Qt::CaseInsensitive)) {
                hint = QStringLiteral(" Choose another slug, or add a new version of %1.")
                           .arg(datasetRef());
                e.details = {QStringLiteral("slug: already in use")};
            }
            e.message = QStringLiteral("Creating %1 failed: %2.%3 The %4 uploaded file(s) are "
                                       "not attached to any dataset; the downloaded files are "
                                       "kept in %5.")
                            .arg(datasetRef(), e.message, hint)
                            .arg(m_files.size())
                            .arg(m_workDir);
            fail(e);
            return;
        }
        note(QStringLiteral("Kaggle accepted %1%2; waiting until it is ready")
                 .arg(r->ref.isEmpty() ? datasetRef() : r->ref,
                      r->url.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(r->url)));
        setState(State::Processing);
        m_processing.start();
        m_pollDelayMs = m_options.pollInitialMs;
        m_pollTimer->start(m_pollDelayMs);
    };
    if (m_request.target == DatasetTargetKind::NewDataset) {
        CreateDatasetRequest req;
        req.ownerSlug = ownerSlug();
        req.slug = m_request.slug;
        req.title = m_request.title;
        req.licenseName = m_request.license;
        req.isPrivate = m_request.isPrivate;
        req.files = files;
        note(QStringLiteral("Creating the %1 dataset %2 (\"%3\", %4)")
                 .arg(req.isPrivate ? QStringLiteral("private") : QStringLiteral("public"),
                      datasetRef(), req.title, req.licenseName));
        m_call = m_client->createDataset(req, this, onCreated);
    } else {
        CreateDatasetVersionRequest req;
        req.ownerSlug = ownerSlug();
        req.datasetSlug = targetSlug();
        req.versionNotes = m_request.versionNotes;
        req.files = files;
        note(QStringLiteral("Creating a new version of %1 (\"%2\")")
                 .arg(datasetRef(), req.versionNotes));
        m_call = m_client->createDatasetVersion(req, this, onCreated);
    }
}

void OutputToDataset::pollStatus()
{
    const quint64 run = m_run;
    m_call = m_client->getDatasetStatus(
        ownerSlug(), targetSlug(), this, [this, run](Result<DatasetStatus> r) {
            if (run != m_run)
                return;
            m_call = 0;
            if (!r) {
                ApiError e = r.error();
                e.message = QStringLiteral("%1 was created, but its status could not be read: "
                                           "%2")
                                .arg(datasetRef(), e.message);
                fail(e);
                return;
            }
            const DatasetStatus s = *r;
            if (s == DatasetStatus::Ready) {
                succeed();
                return;
            }
            if (s == DatasetStatus::Failed || s == DatasetStatus::Deleted) {
                fail(ApiError::make(ApiError::Kind::Application,
                                    QStringLiteral("Kaggle could not process %1 (status %2). "
                                                   "The downloaded files are kept in %3.")
                                        .arg(datasetRef(), datasetStatusName(s), m_workDir)));
                return;
            }
            if (m_processing.elapsed() >= m_options.processingTimeoutMs) {
                fail(ApiError::make(ApiError::Kind::Timeout,
                                    QStringLiteral("%1 was created but is still processing "
                                                   "(%2) after %3 minutes; check it later on "
                                                   "Kaggle.")
                                        .arg(datasetRef(), datasetStatusName(s))
                                        .arg(m_options.processingTimeoutMs / 60'000)));
                return;
            }
            note(QStringLiteral("%1 is %2").arg(datasetRef(), datasetStatusName(s)));
            m_pollDelayMs = std::min(m_pollDelayMs * 2, m_options.pollMaxMs);
            m_pollTimer->start(m_pollDelayMs);
        });
}

} // namespace kd
