#include "deck.h"

#include "alertengine.h"
#include "chainrunner.h"
#include "commitqueue.h"
#include "commitservice.h"
#include "logfollower.h"
#include "logtailmodel.h"
#include "monitorlog.h"
#include "persistence.h"
#include "quotamodel.h"
#include "runlog.h"
#include "runtablemodel.h"
#include "store.h"

#include <QDir>

namespace kd {

Deck::Deck(KaggleClient *client, Store *store, const QString &dataDir, Settings settings,
           QObject *parent)
    : QObject(parent), m_client(client), m_store(store), m_settings(settings), m_dataDir(dataDir),
      m_logDir(QDir(dataDir).filePath(QStringLiteral("logs")))
{
    m_alerts = std::make_unique<AlertEngine>();
    m_monitor = std::make_unique<RunMonitor>(client, store, settings.monitor);
    m_monitor->setAlertEngine(m_alerts.get());
    m_commits = std::make_unique<CommitService>(client, m_monitor.get());
    m_commitQueue = std::make_unique<CommitQueue>(m_commits.get(), m_monitor.get(), store);
    m_mirror = std::make_unique<PersistenceMirror>(client, m_monitor.get(), dataDir);
    m_runModel = std::make_unique<RunTableModel>(m_monitor.get());
    m_filter = std::make_unique<RunFilterProxy>();
    m_filter->setSourceModel(m_runModel.get());

    connect(m_monitor->logFollower(), &LogFollower::events, this, &Deck::onEvents);
    // After a restart the stream replays a running session from its start; what the archive
    // already holds is not taken in twice.
    m_monitor->logFollower()->setKnownEvents(
        [this](RunId run, SessionId session) { return runLog(run, session, true)->eventCount(); });
    connect(m_monitor.get(), &RunMonitor::sessionTransition, this, &Deck::onTransition);
    connect(m_monitor.get(), &RunMonitor::runChanged, this, [this](RunId id) {
        if (const RunState *s = m_monitor->state(id))
            m_alerts->setRun(s->run);
    });
    connect(m_monitor.get(), &RunMonitor::runRemoved, this, [this](RunId id) {
        m_logs.remove(id);
        m_alerts->forgetRun(id);
    });
    connect(m_alerts.get(), &AlertEngine::alertRaised, this, [this](const Alert &alert) {
        Alert stored = alert;
        if (auto id = m_store->addAlert(alert))
            stored.id = *id;
        else
            qCWarning(lcMonitor) << "alert not stored:" << id.error().message;
        emit alertRaised(stored);
    });
    m_quota = std::make_unique<QuotaModel>();
    m_quotaUsage = std::make_unique<QuotaUsageModel>();
    // A refresh reads every run's sessions from the store, and changes come in bursts (the
    // first poll of every run, an import of hundreds): one refresh per burst, not per change.
    auto *refreshSoon = new QTimer(this);
    refreshSoon->setSingleShot(true);
    refreshSoon->setInterval(200);
    connect(refreshSoon, &QTimer::timeout, this, &Deck::refreshQuota);
    const auto requestRefresh = [refreshSoon] {
        if (!refreshSoon->isActive())
            refreshSoon->start();
    };
    connect(m_monitor.get(), &RunMonitor::quotaUpdated, this, requestRefresh);
    connect(m_monitor.get(), &RunMonitor::sessionTransition, this, requestRefresh);
    connect(m_monitor.get(), &RunMonitor::runAdded, this, requestRefresh);
    connect(m_monitor.get(), &RunMonitor::runRemoved, this, requestRefresh);
    m_quotaTick.setInterval(60'000);
    connect(&m_quotaTick, &QTimer::timeout, this, &Deck::refreshQuota);
    m_alertTick.setInterval(settings.alertTickSeconds * 1000);
    connect(&m_alertTick, &QTimer::timeout, this,
            [this] { m_alerts->tick(QDateTime::currentDateTimeUtc()); });
    for (RunId id : m_monitor->runIds())
        m_alerts->setRun(m_monitor->state(id)->run);
    refreshQuota();
    // Last: the runner uses the monitor, the commits, the queue and the store.
    m_chains = std::make_unique<ChainRunner>(this);
}

void Deck::refreshQuota()
{
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QList<SessionRecord> sessions;
    QList<StatusEvent> events;
    QHash<SessionId, double> eta;
    QHash<RunId, QString> titles;
    for (RunId id : m_monitor->runIds()) {
        const RunState *state = m_monitor->state(id);
        titles.insert(id, state->run.title);
        for (const SessionRecord &s : m_store->sessions(id)) {
            // Only this week's sessions can count against this week's quota.
            if (s.endedAt.isValid() && s.endedAt < now.addDays(-8))
                continue;
            sessions.append(s);
            events += m_store->statusEvents(s.id);
        }
        if (state->session && state->etaSeconds)
            eta.insert(state->session->id, *state->etaSeconds);
    }
    m_quota->setSnapshots(m_store->quotaSnapshots(now.addDays(-8)));
    m_quota->update(m_monitor->lastQuota(), sessions, events, eta, {}, now);
    m_quotaUsage->setNames(titles);
    const auto gpu = m_quota->forecast(Accelerator::Gpu);
    m_quotaUsage->update(sessions, events, now, gpu ? gpu->windowStart : QDateTime());
}

Deck::~Deck()
{
    m_monitor->stop();
    // The runner, the queue and the mirror listen to the monitor: they go first.
    m_chains.reset();
    m_mirror.reset();
    m_commitQueue.reset();
    m_commits.reset();
}

void Deck::start()
{
    m_monitor->start();
    m_alertTick.start();
    m_quotaTick.start();
}

void Deck::stop()
{
    m_alertTick.stop();
    m_quotaTick.stop();
    m_monitor->stop();
}

QString Deck::archivePath(SessionId session) const
{
    return LogArchive::filePathFor(m_logDir, session);
}

RunLog *Deck::runLog(RunId run, SessionId session, bool replayArchive)
{
    auto &slot = m_logs[run];
    if (slot && slot->session() == session)
        return slot.get();
    const RunState *state = m_monitor->state(run);
    const RunSettings settings = state ? state->run.settings : RunSettings{};
    const bool hadOne = slot != nullptr;
    slot = std::make_shared<RunLog>(run, session, m_logDir, settings, m_settings.tailLines,
                                    m_settings.archiveCapBytes);
    if (replayArchive) {
        // Show what an earlier run of the app kept; nothing is parsed into the store again.
        if (auto events = LogArchive::readEvents(archivePath(session)); events.ok())
            slot->ingest(*events, false);
    }
    if (hadOne)
        emit logTailReset(run);
    return slot.get();
}

LogTailModel *Deck::logTail(RunId run)
{
    const RunState *state = m_monitor->state(run);
    if (!state || !state->session)
        return nullptr;
    const auto it = m_logs.constFind(run);
    if (it != m_logs.constEnd() && (*it)->session() == state->session->id)
        return (*it)->tail();
    return runLog(run, state->session->id, true)->tail();
}

void Deck::onEvents(RunId run, SessionId session, const QList<LogEvent> &events)
{
    const auto it = m_logs.constFind(run);
    RunLog *log = it != m_logs.constEnd() && (*it)->session() == session
                      ? it->get()
                      : runLog(run, session, false);
    RunLog::Ingested ingested = log->ingest(events);
    const QDateTime now = QDateTime::currentDateTimeUtc();
    if (!ingested.points.isEmpty()) {
        if (auto r = m_store->addMetricPoints(ingested.points); !r)
            qCWarning(lcMonitor) << "metrics not stored:" << r.error().message;
        emit metricsAdded(run, session, ingested.points);
    }
    if (const RunState *state = m_monitor->state(run)) {
        // A run that had already ended when first seen is history: its old traceback is no news.
        const bool history = state->session && state->session->id == session &&
                             state->session->isOver() &&
                             state->session->firstSeen == state->session->endedAt;
        if (!history) {
            m_alerts->onLogLines(state->run, session, events, now);
            if (!ingested.points.isEmpty())
                m_alerts->onMetricPoints(state->run, ingested.points, now);
        }
        m_monitor->setEta(run, log->etaSeconds());
    }
}

void Deck::onTransition(RunId run, const SessionRecord &session, KernelStatus)
{
    if (!session.isOver())
        return;
    if (const auto it = m_logs.constFind(run);
        it != m_logs.constEnd() && (*it)->session() == session.id)
        (*it)->finish();
}

} // namespace kd
