// push DIR: a kernel folder through kd::CommitService, the commit queue on the GPU limit.

#include "cli.h"

#include "commitqueue.h"
#include "commitservice.h"
#include "kaggleclient.h"
#include "quotamodel.h"
#include "store.h"

#include <memory>

namespace kdcli {

namespace {

void printFieldErrors(const QList<kd::FieldError> &errors, const QString &prefix = {})
{
    for (const kd::FieldError &e : errors) {
        // Folder errors name the file they come from; the field says it already.
        QString message = e.message;
        const QString file = QStringLiteral("kernel-metadata.json: ");
        if (message.startsWith(file))
            message.remove(0, file.size());
        const QString field = kd::commitFieldName(e.field) + QStringLiteral(": ");
        if (message.startsWith(field))
            message.remove(0, field.size());
        info(prefix + field + message);
    }
}

/// The quota as the app's deck computes it: Kaggle's numbers plus this week's sessions of the
/// watched runs.
void updateQuota(kd::QuotaModel &quota, const kd::QuotaStatistics &stats,
                 const kd::RunMonitor &monitor, const kd::Store &store)
{
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QList<kd::SessionRecord> sessions;
    QList<kd::StatusEvent> events;
    for (kd::RunId id : monitor.runIds()) {
        for (const kd::SessionRecord &s : store.sessions(id)) {
            if (s.endedAt.isValid() && s.endedAt < now.addDays(-8))
                continue;
            sessions.append(s);
            events += store.statusEvents(s.id);
        }
    }
    quota.update(stats, sessions, events, {}, {}, now);
}

/// What one push does after the checks.
class Push
{
public:
    Push(Context &c, kd::Store *store, bool queue, bool wait)
        : m_c(c), m_store(store), m_queue(queue), m_wait(wait),
          m_monitor(c.client(), store, Context::monitorSettings(false, wait ? 3 : 0)),
          m_service(c.client(), &m_monitor)
    {}

    /// Reads and checks the folder and the options; nullopt when it can be pushed, else the
    /// exit code (after printing every problem as "field: message").
    std::optional<int> prepare(const QString &dir)
    {
        auto draft = m_service.prepareFromFolder(dir);
        if (!draft) {
            err(QStringLiteral("the kernel folder cannot be pushed:"));
            printFieldErrors(kd::CommitService::fieldErrors(draft.error()));
            info(QStringLiteral("Nothing was pushed."));
            return exitFor(draft.error());
        }
        if (m_c.isSet(QStringLiteral("accelerator"))) {
            const QString shape = m_c.value(QStringLiteral("accelerator")).trimmed();
            const bool cpu = shape.compare(u"cpu", Qt::CaseInsensitive) == 0 ||
                             shape.compare(u"none", Qt::CaseInsensitive) == 0 || shape.isEmpty();
            draft.value().setAccelerator(cpu ? QString() : shape);
        }
        if (m_c.isSet(QStringLiteral("quick-save")))
            draft.value().setQuickSave(true);
        const QList<kd::FieldError> problems = kd::CommitService::validate(*draft);
        if (!problems.isEmpty()) {
            err(QStringLiteral("the kernel cannot be pushed:"));
            printFieldErrors(problems);
            info(QStringLiteral("Nothing was pushed."));
            return Failed;
        }
        m_draft = std::move(draft).value();
        return std::nullopt;
    }

    void run()
    {
        m_c.client()->getQuota(m_c.app(), [this](kd::Result<kd::QuotaStatistics> q) {
            if (!q && q.error().kind == kd::ApiError::Kind::Auth)
                return m_c.fail(q.error());
            if (q) {
                kd::QuotaModel quota;
                updateQuota(quota, *q, m_monitor, *m_store);
                out(kd::CommitService::quotaEffect(m_draft, &quota).text);
            }
            m_service.commit(m_draft, [this](kd::CommitOutcome o) { onOutcome(std::move(o)); });
        });
    }

private:
    void onOutcome(kd::CommitOutcome o)
    {
        using S = kd::CommitOutcome::Status;
        switch (o.status) {
        case S::Pushed:
            return onPushed(o.receipt);
        case S::GpuLimitReached:
            if (m_queue)
                return enqueue(o);
            printError(*o.error);
            info(QStringLiteral("Nothing was pushed. Use --queue to let KaggleDeck push it when "
                                "a GPU slot frees up."));
            return m_c.finish(exitFor(*o.error));
        case S::Invalid:
        case S::Failed:
            break;
        }
        const kd::ApiError error = o.error.value_or(
            kd::ApiError::make(kd::ApiError::Kind::Application, QStringLiteral("the push failed")));
        err(QStringLiteral("the push was refused: %1").arg(error.message));
        printFieldErrors(o.fieldErrors);
        m_c.finish(exitFor(error));
    }

    void onPushed(const kd::CommitReceipt &receipt)
    {
        out(QStringLiteral("Pushed %1 version %2: %3")
                .arg(receipt.ref)
                .arg(receipt.versionNumber)
                .arg(receipt.url));
        printFieldErrors(receipt.warnings, QStringLiteral("warning: "));
        if (!m_wait)
            return m_c.finish(Ok);
        waitFor(receipt.runId, receipt.ref);
    }

    void enqueue(const kd::CommitOutcome &o)
    {
        m_commitQueue = std::make_unique<kd::CommitQueue>(&m_service, &m_monitor, m_store);
        const auto id = m_commitQueue->enqueue(m_draft, o.gpuSessionLimit);
        if (!id) {
            err(QStringLiteral("the commit could not be queued: %1").arg(id.error().message));
            return m_c.finish(Failed);
        }
        const QString ref =
            m_draft.request.slug.isEmpty() ? m_draft.ref.toString() : m_draft.request.slug;
        out(QStringLiteral("Queued %1 (queue item %2): Kaggle's limit of GPU sessions at once "
                           "(%3) is reached. KaggleDeck pushes it when a GPU slot frees up, "
                           "while the KaggleDeck app or a kaggledeck-cli process holding the "
                           "deck runs.")
                .arg(ref)
                .arg(*id)
                .arg(o.gpuSessionLimit));
        if (!m_wait)
            return m_c.finish(Ok);
        info(QStringLiteral("Waiting for a free GPU slot..."));
        QObject::connect(m_commitQueue.get(), &kd::CommitQueue::dispatched, m_c.app(),
                         [this, ref](const QString &pushed, const kd::CommitReceipt &receipt) {
                             if (pushed.compare(ref, Qt::CaseInsensitive) == 0)
                                 onPushed(receipt);
                         });
        QObject::connect(m_commitQueue.get(), &kd::CommitQueue::failed, m_c.app(),
                         [this, ref](const QString &failed, const QString &message) {
                             if (failed.compare(ref, Qt::CaseInsensitive) != 0)
                                 return;
                             err(QStringLiteral("the queued push failed: %1").arg(message));
                             m_c.finish(Failed);
                         });
        m_monitor.start();
    }

    void waitFor(kd::RunId run, const QString &ref)
    {
        const kd::RunState *state = m_monitor.state(run);
        if (!state) {
            err(QStringLiteral("%1 is not watched; cannot wait for it").arg(ref));
            return m_c.finish(Failed);
        }
        const auto report = [this, ref](const kd::SessionRecord &s) {
            out(QStringLiteral("%1: %2").arg(ref, kd::statusName(s.status)));
            if (s.status == kd::KernelStatus::Running || s.status == kd::KernelStatus::Complete)
                m_c.finish(Ok);
            else if (s.isOver())
                m_c.finish(Failed);
        };
        QObject::connect(
            &m_monitor, &kd::RunMonitor::sessionTransition, m_c.app(),
            [run, report](kd::RunId id, const kd::SessionRecord &session, kd::KernelStatus) {
                if (id == run)
                    report(session);
            });
        if (state->session)
            report(*state->session);
        m_monitor.start();
        m_monitor.pollNow(run);
    }

    Context &m_c;
    kd::Store *m_store;
    kd::CommitDraft m_draft;
    bool m_queue;
    bool m_wait;
    kd::RunMonitor m_monitor;
    kd::CommitService m_service;
    std::unique_ptr<kd::CommitQueue> m_commitQueue;
};

} // namespace

int runPush(Context &c)
{
    if (c.args().size() != 1) {
        err(QStringLiteral("push needs one kernel folder"));
        return Usage;
    }
    kd::Store *store = c.store();
    if (!store)
        return Failed;
    Push push(c, store, c.isSet(QStringLiteral("queue")), c.isSet(QStringLiteral("wait")));
    if (const auto rc = push.prepare(c.args().first()))
        return *rc;
    c.authenticate([&push] { push.run(); });
    return c.exec();
}

} // namespace kdcli
