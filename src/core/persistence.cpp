#include "persistence.h"

#include "safepath.h"

#include "kaggleclient.h"
#include "runmonitor.h"

#include <QDir>
#include <QFileInfo>
#include <QLoggingCategory>

namespace kd {

namespace {

Q_LOGGING_CATEGORY(lcPersistence, "kaggledeck.persistence", QtInfoMsg)

} // namespace

namespace persistence {

QList<PersistenceMode> allModes()
{
    return {PersistenceMode::None, PersistenceMode::VariablesOnly, PersistenceMode::FilesOnly,
            PersistenceMode::VariablesAndFiles};
}

QString id(PersistenceMode mode)
{
    switch (mode) {
    case PersistenceMode::None:
        return QStringLiteral("none");
    case PersistenceMode::VariablesOnly:
        return QStringLiteral("variables");
    case PersistenceMode::FilesOnly:
        return QStringLiteral("files");
    case PersistenceMode::VariablesAndFiles:
        return QStringLiteral("variables_files");
    }
    return QStringLiteral("none");
}

std::optional<PersistenceMode> fromId(const QString &value)
{
    if (value.isEmpty())
        return PersistenceMode::None;
    for (PersistenceMode m : allModes()) {
        if (id(m) == value)
            return m;
    }
    return std::nullopt;
}

PersistenceMode modeOf(const RunSettings &settings)
{
    return fromId(settings.persistence).value_or(PersistenceMode::None);
}

QString label(PersistenceMode mode)
{
    switch (mode) {
    case PersistenceMode::None:
        return QStringLiteral("No persistence");
    case PersistenceMode::VariablesOnly:
        return QStringLiteral("Variables only");
    case PersistenceMode::FilesOnly:
        return QStringLiteral("Files only");
    case PersistenceMode::VariablesAndFiles:
        return QStringLiteral("Variables & Files");
    }
    return {};
}

QString kaggleNotice()
{
    return QStringLiteral(
        "Kaggle applies these modes only to interactive sessions in its notebook editor. "
        "Committed runs (Save & Run All) ignore them, and Kaggle's public API cannot set them. "
        "KaggleDeck stores your choice and carries out the Files part itself for committed "
        "runs.");
}

QString variablesNotPossibleReason(PersistenceMode mode)
{
    if (!wantsVariables(mode))
        return {};
    return QStringLiteral(
        "Variables cannot be kept for committed runs: every committed run starts a fresh "
        "Python process on a new machine, and Kaggle offers no way to carry memory between "
        "runs. Save what you need to files instead.");
}

QString committedRunEffect(PersistenceMode mode)
{
    switch (mode) {
    case PersistenceMode::None:
        return QStringLiteral("Nothing is carried between committed runs.");
    case PersistenceMode::VariablesOnly:
        return QStringLiteral("Not possible for committed runs. ") +
               variablesNotPossibleReason(mode);
    case PersistenceMode::FilesOnly:
        return QStringLiteral(
            "Each commit adds the kernel to its own kernel sources, so the previous run's "
            "output is mounted at /kaggle/input/<slug>; outputs are mirrored to this computer "
            "when a run ends.");
    case PersistenceMode::VariablesAndFiles:
        return committedRunEffect(PersistenceMode::FilesOnly) +
               QStringLiteral(" The variables part is not possible: ") +
               variablesNotPossibleReason(mode);
    }
    return {};
}

bool carriesFiles(PersistenceMode mode)
{
    return mode == PersistenceMode::FilesOnly || mode == PersistenceMode::VariablesAndFiles;
}

bool wantsVariables(PersistenceMode mode)
{
    return mode == PersistenceMode::VariablesOnly || mode == PersistenceMode::VariablesAndFiles;
}

} // namespace persistence

struct PersistenceMirror::Job
{
    Report report;
    QList<OutputFile> files;
    qsizetype next = 0;
};

PersistenceMirror::PersistenceMirror(KaggleClient *client, RunMonitor *monitor, QString dataDir,
                                     QObject *parent)
    : QObject(parent), m_client(client), m_monitor(monitor), m_dataDir(std::move(dataDir))
{
    connect(m_monitor, &RunMonitor::sessionTransition, this, &PersistenceMirror::onTransition);
}

QString PersistenceMirror::mirrorRoot() const
{
    return QDir(m_dataDir).filePath(QStringLiteral("mirror"));
}

QString PersistenceMirror::folderFor(const KernelRef &ref, const SessionRecord &session) const
{
    // Owner and slug come from the server; keep them single plain components.
    const auto plain = [](QString s) {
        s.replace(u'/', u'_');
        s.replace(u'\\', u'_');
        if (s.isEmpty() || s == u"." || s == u"..")
            s = QStringLiteral("_");
        return s;
    };
    const QString leaf = session.versionNumber > 0
                             ? QStringLiteral("v%1").arg(session.versionNumber)
                             : QStringLiteral("session-%1").arg(session.id);
    return QDir(mirrorRoot()).filePath(plain(ref.owner) + u'/' + plain(ref.slug) + u'/' + leaf);
}

void PersistenceMirror::onTransition(RunId run, const SessionRecord &session, KernelStatus previous)
{
    if (isTerminal(previous))
        return;
    if (session.status != KernelStatus::Complete && session.status != KernelStatus::Error)
        return;
    const RunState *state = m_monitor->state(run);
    if (!state || !persistence::carriesFiles(persistence::modeOf(state->run.settings)))
        return;
    mirror(run, session);
}

void PersistenceMirror::mirror(RunId run, const SessionRecord &session)
{
    const RunState *state = m_monitor->state(run);
    if (!state)
        return;
    const qint64 jobId = m_nextJob++;
    auto job = std::make_shared<Job>();
    job->report.run = run;
    job->report.ref = state->run.ref;
    job->report.folder = folderFor(state->run.ref, session);
    m_inFlight.insert(jobId, job);
    qCInfo(lcPersistence).noquote()
        << "mirroring" << state->run.ref.toString() << "to" << job->report.folder;
    m_client->listKernelSessionOutput(
        state->run.ref, this, [this, jobId, run](Result<KernelOutput> output) {
            const auto job = m_inFlight.value(jobId);
            if (!job)
                return;
            if (!output) {
                m_inFlight.remove(jobId);
                ApiError error = output.error();
                error.message = tr("Could not list the outputs of %1 to mirror them: %2")
                                    .arg(job->report.ref.toString(), error.message);
                emit mirrorFailed(run, error);
                return;
            }
            if (!QDir().mkpath(job->report.folder)) {
                m_inFlight.remove(jobId);
                emit mirrorFailed(
                    run, ApiError::make(
                             ApiError::Kind::Io,
                             tr("Could not create the mirror folder %1").arg(job->report.folder)));
                return;
            }
            job->files = output->files;
            downloadNext(jobId);
        });
}

void PersistenceMirror::downloadNext(qint64 jobId)
{
    const auto job = m_inFlight.value(jobId);
    if (!job)
        return;
    while (job->next < job->files.size()) {
        const OutputFile file = job->files.at(job->next++);
        const Result<QString> path = safeOutputPath(job->report.folder, file.fileName);
        if (!path) {
            qCWarning(lcPersistence).noquote() << path.error().message;
            job->report.refused << path.error().message;
            continue;
        }
        if (!QDir().mkpath(QFileInfo(*path).absolutePath())) {
            job->report.failed << file.fileName + tr(": could not create its folder");
            continue;
        }
        const QString name = file.fileName;
        m_client->downloadFile(file.url, *path, this, {}, [this, jobId, name](Result<Done> r) {
            const auto job = m_inFlight.value(jobId);
            if (!job)
                return;
            if (r)
                job->report.downloaded << name;
            else
                job->report.failed << name + u": " + r.error().message;
            downloadNext(jobId);
        });
        return;
    }
    m_inFlight.remove(jobId);
    emit mirrorFinished(job->report);
}

} // namespace kd
