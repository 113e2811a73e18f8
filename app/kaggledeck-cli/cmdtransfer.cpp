// output-to-dataset REF: kd::OutputToDataset with progress on stderr and a clean Ctrl+C.

#include "cli.h"

#include "commitservice.h"
#include "kaggleclient.h"
#include "outputtransfer.h"
#include "store.h"

#include <QDir>
#include <QFileInfo>
#include <QTimer>

#include <atomic>
#include <csignal>
#include <memory>

namespace kdcli {

namespace {

std::atomic<bool> g_interrupted{false};

extern "C" void onInterrupt(int)
{
    g_interrupted.store(true);
}

/// The first Ctrl+C asks for a clean cancel; the handler resets, so a second one kills.
void installInterruptHandler()
{
    struct sigaction action = {};
    action.sa_handler = onInterrupt;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &action, nullptr);
}

class Transfer
{
public:
    Transfer(Context &c, kd::Store *store, kd::OutputToDatasetRequest request,
             std::optional<kd::KernelRef> attach)
        : m_c(c), m_store(store), m_request(std::move(request)), m_attach(std::move(attach)),
          m_job(c.client(), [&c] {
              kd::OutputToDataset::Options o;
              o.dataDir = c.dataDir();
              return o;
          }())
    {
        QObject::connect(&m_job, &kd::OutputToDataset::progress, c.app(),
                         [this](qint64 done, qint64 total, int eta, const QString &text) {
                             m_progress.update(done, total, eta, text);
                         });
        QObject::connect(&m_job, &kd::OutputToDataset::logged, c.app(),
                         [this](const QString &line) { m_progress.line(line); });
        QObject::connect(&m_job, &kd::OutputToDataset::finished, c.app(),
                         [this](const kd::Result<QString> &r) { onFinished(r); });
        m_interruptTimer.setInterval(100);
        QObject::connect(&m_interruptTimer, &QTimer::timeout, c.app(), [this] {
            if (!g_interrupted.load() || m_cancelling)
                return;
            m_cancelling = true;
            m_progress.line(QStringLiteral("Cancelling (Ctrl+C again to kill)..."));
            m_job.cancel();
        });
    }

    void start()
    {
        installInterruptHandler();
        m_interruptTimer.start();
        m_job.start(m_request);
    }

private:
    void onFinished(const kd::Result<QString> &r)
    {
        m_interruptTimer.stop();
        m_progress.finish();
        const QString workDir = m_job.workDir();
        if (!r) {
            if (r.error().kind == kd::ApiError::Kind::Cancelled) {
                info(QStringLiteral("Cancelled. The partial downloads (.part files) are kept in "
                                    "%1; run the same command with --work-dir \"%1\" to resume.")
                         .arg(workDir));
                return m_c.finish(Interrupted);
            }
            printError(r.error());
            if (!workDir.isEmpty() && QFileInfo(workDir).isDir())
                info(QStringLiteral("The downloaded files are kept in %1; --work-dir \"%1\" "
                                    "resumes from them.")
                         .arg(workDir));
            return m_c.finish(exitFor(r.error()));
        }
        const QString ref = *r;
        out(QStringLiteral("Dataset %1 is ready (%2 files).").arg(ref).arg(m_job.files().size()));
        rememberDefaults(ref);
        if (!m_attach)
            return m_c.finish(Ok);
        attach(ref);
    }

    void rememberDefaults(const QString &ref)
    {
        kd::OutputToDatasetDefaults d = kd::OutputToDataset::defaultsFrom(m_request);
        if (m_request.target == kd::DatasetTargetKind::NewDataset) {
            // The slug is taken now: the next transfer from this run adds a version to it.
            d.target = kd::DatasetTargetKind::NewVersion;
            d.datasetSlug = ref;
        }
        if (auto s = kd::OutputToDataset::saveDefaults(m_store, m_request.source, d); !s)
            info(QStringLiteral("warning: the choices were not remembered: %1")
                     .arg(s.error().message));
    }

    void attach(const QString &datasetRef)
    {
        m_monitor = std::make_unique<kd::RunMonitor>(m_c.client(), m_store,
                                                     Context::monitorSettings(false));
        m_service = std::make_unique<kd::CommitService>(m_c.client(), m_monitor.get());
        info(QStringLiteral("Attaching %1 to %2 and committing it...")
                 .arg(datasetRef, m_attach->toString()));
        m_service->prepareFromKernel(
            *m_attach, [this, datasetRef](kd::Result<kd::CommitDraft> draft) {
                if (!draft) {
                    printError(draft.error());
                    info(QStringLiteral("The dataset %1 is ready but was not attached.")
                             .arg(datasetRef));
                    return m_c.finish(exitFor(draft.error()));
                }
                if (!draft->request.datasetDataSources.contains(datasetRef, Qt::CaseInsensitive))
                    draft.value().request.datasetDataSources.append(datasetRef);
                m_service->commit(*draft, [this, datasetRef](kd::CommitOutcome o) {
                    if (o.ok()) {
                        out(QStringLiteral("Pushed %1 version %2 with %3 in its dataset sources.")
                                .arg(o.receipt.ref)
                                .arg(o.receipt.versionNumber)
                                .arg(datasetRef));
                        for (const kd::FieldError &w : o.receipt.warnings)
                            info(QStringLiteral("warning: %1: %2")
                                     .arg(kd::commitFieldName(w.field), w.message));
                        return m_c.finish(Ok);
                    }
                    const kd::ApiError e = o.error.value_or(kd::ApiError::make(
                        kd::ApiError::Kind::Application, QStringLiteral("the push failed")));
                    err(QStringLiteral("the dataset %1 is ready, but committing %2 failed: %3")
                            .arg(datasetRef, m_attach->toString(), e.message));
                    for (const kd::FieldError &f : o.fieldErrors)
                        info(kd::commitFieldName(f.field) + QStringLiteral(": ") + f.message);
                    m_c.finish(exitFor(e));
                });
            });
    }

    Context &m_c;
    kd::Store *m_store;
    kd::OutputToDatasetRequest m_request;
    std::optional<kd::KernelRef> m_attach;
    kd::OutputToDataset m_job;
    ProgressPrinter m_progress;
    QTimer m_interruptTimer;
    bool m_cancelling = false;
    std::unique_ptr<kd::RunMonitor> m_monitor;
    std::unique_ptr<kd::CommitService> m_service;
};

} // namespace

int runOutputToDataset(Context &c)
{
    if (c.args().size() != 1) {
        err(QStringLiteral("output-to-dataset needs one kernel (owner/slug)"));
        return Usage;
    }
    const auto source = kd::KernelRef::parse(c.args().first());
    if (!source) {
        err(QStringLiteral("not a kernel reference: %1 (expected owner/slug)")
                .arg(c.args().first()));
        return Usage;
    }
    const bool hasNew = c.isSet(QStringLiteral("new"));
    const bool hasVersion = c.isSet(QStringLiteral("version"));
    if (hasNew && hasVersion) {
        err(QStringLiteral("choose either --new SLUG or --version OWNER/SLUG"));
        return Usage;
    }
    if (hasVersion && (c.isSet(QStringLiteral("title")) || c.isSet(QStringLiteral("license")) ||
                       c.isSet(QStringLiteral("public")))) {
        err(QStringLiteral("--title, --license and --public describe a new dataset (--new)"));
        return Usage;
    }
    if (hasNew && c.isSet(QStringLiteral("notes"))) {
        err(QStringLiteral("--notes goes with --version"));
        return Usage;
    }
    std::optional<kd::KernelRef> attach;
    if (c.isSet(QStringLiteral("attach"))) {
        attach = kd::KernelRef::parse(c.value(QStringLiteral("attach")));
        if (!attach) {
            err(QStringLiteral("--attach needs a kernel (owner/slug)"));
            return Usage;
        }
    }

    kd::Store *store = c.store();
    if (!store)
        return Failed;
    const kd::OutputToDatasetDefaults defaults = kd::OutputToDataset::loadDefaults(store, *source);

    kd::OutputToDatasetRequest r;
    r.source = *source;
    const QStringList globs = c.parser().values(QStringLiteral("files"));
    if (globs.size() == 1) {
        r.selection.mode = kd::OutputSelection::Mode::Glob;
        r.selection.pattern = globs.first();
    } else if (globs.size() > 1) {
        QStringList parts;
        for (const QString &g : globs)
            parts << u"(?:" + kd::OutputToDataset::globToRegex(g) + u')';
        r.selection.mode = kd::OutputSelection::Mode::Regex;
        r.selection.pattern = parts.join(u'|');
    } else {
        r.selection.mode = defaults.selectionMode;
        r.selection.pattern = defaults.pattern;
        if (r.selection.mode == kd::OutputSelection::Mode::Names || r.selection.pattern.isEmpty())
            r.selection.mode = kd::OutputSelection::Mode::All;
    }

    const bool remembered = !hasNew && !hasVersion;
    if (remembered && defaults.datasetSlug.isEmpty()) {
        err(QStringLiteral("choose the target: --new SLUG --title TITLE, or --version OWNER/SLUG "
                           "(nothing is remembered for %1 yet)")
                .arg(source->toString()));
        return Usage;
    }
    if (hasNew || (remembered && defaults.target == kd::DatasetTargetKind::NewDataset)) {
        r.target = kd::DatasetTargetKind::NewDataset;
        r.slug = hasNew ? c.value(QStringLiteral("new")).trimmed() : defaults.datasetSlug;
        r.title =
            c.isSet(QStringLiteral("title")) ? c.value(QStringLiteral("title")) : defaults.title;
        r.license = c.isSet(QStringLiteral("license")) ? c.value(QStringLiteral("license"))
                                                       : defaults.license;
        r.isPrivate = !c.isSet(QStringLiteral("public"));
    } else {
        r.target = kd::DatasetTargetKind::NewVersion;
        r.datasetRef =
            hasVersion ? c.value(QStringLiteral("version")).trimmed() : defaults.datasetSlug;
        r.versionNotes = c.isSet(QStringLiteral("notes"))
                             ? c.value(QStringLiteral("notes"))
                             : QStringLiteral("Output of %1").arg(source->toString());
    }
    if (c.isSet(QStringLiteral("work-dir")))
        r.workDir = QDir(c.value(QStringLiteral("work-dir"))).absolutePath();

    if (const auto invalid = kd::OutputToDataset::validate(r)) {
        err(QStringLiteral("the transfer settings are not valid:"));
        for (const QString &line : invalid->details)
            info(line);
        info(QStringLiteral("Nothing was sent."));
        return Failed;
    }
    if (remembered)
        info(r.target == kd::DatasetTargetKind::NewDataset
                 ? QStringLiteral("Using the remembered target: new dataset %1").arg(r.slug)
                 : QStringLiteral("Using the remembered target: a new version of %1")
                       .arg(r.datasetRef));

    Transfer transfer(c, store, r, attach);
    c.authenticate([&transfer] { transfer.start(); });
    return c.exec();
}

} // namespace kdcli
