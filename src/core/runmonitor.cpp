#include "runmonitor.h"

#include "alertengine.h"
#include "logfollower.h"
#include "monitorlog.h"
#include "quotaforecast.h"
#include "store.h"

#include <algorithm>
#include <cmath>

namespace kd {

namespace {
constexpr int kTickMs = 250;
constexpr int kQuotaSoonMs = 2'000;
constexpr int kOfflineProbeBaseSeconds = 5;
constexpr int kOfflineProbeMaxSeconds = 300;

bool isNetworkKind(ApiError::Kind kind)
{
    return kind == ApiError::Kind::Network || kind == ApiError::Kind::Timeout;
}
} // namespace

/// Scheduling state of one run, next to what is shown (RunState).
struct RunMonitor::Tracked
{
    RunState state;
    QDateTime nextPoll;
    bool inFlight = false;
    int failures = 0;
    /// Push guard: the session opened by a push waits for a non-terminal status.
    QDateTime guardUntil;
    bool seenNonTerminal = true;
};

RunMonitor::RunMonitor(KaggleClient *client, Store *store, MonitorSettings settings,
                       QObject *parent)
    : QObject(parent), m_client(client), m_store(store), m_settings(settings),
      m_clock([] { return QDateTime::currentDateTimeUtc(); })
{
    m_tickTimer.setSingleShot(true);
    connect(&m_tickTimer, &QTimer::timeout, this, &RunMonitor::tick);
    connect(&m_quotaTimer, &QTimer::timeout, this, &RunMonitor::pollQuota);
    m_quotaSoonTimer.setSingleShot(true);
    connect(&m_quotaSoonTimer, &QTimer::timeout, this, &RunMonitor::pollQuota);
    m_offlineTimer.setSingleShot(true);
    connect(&m_offlineTimer, &QTimer::timeout, this, &RunMonitor::probeOffline);

    m_logs = std::make_unique<LogFollower>(client, [this] { return hasBudget(); });
    // Every API request of this client counts against the budget: polls, log requests,
    // retries, pages, and the commits and transfers that share the client.
    m_client->setAdmission([this] { return admit(); });
    connect(m_logs.get(), &LogFollower::rateLimited, this,
            [this](const ApiError &error) { pauseFor(error, now()); });
    connect(m_logs.get(), &LogFollower::lastLineChanged, this,
            [this](RunId id, const QString &line) {
                if (Tracked *t = tracked(id)) {
                    t->state.lastLogLine = line;
                    emit runChanged(id);
                }
            });
    loadFromStore();
}

RunMonitor::~RunMonitor()
{
    m_client->setAdmission({});
    m_logs.reset();
}

void RunMonitor::setSettings(const MonitorSettings &settings)
{
    m_settings = settings;
    m_logs->setEnabled(settings.followLogs);
    if (m_running)
        m_quotaTimer.start(int(m_settings.quotaPollSeconds * 1000));
}

void RunMonitor::loadFromStore()
{
    for (const WatchedRun &run : m_store->runs()) {
        auto t = std::make_shared<Tracked>();
        t->state.run = run;
        t->state.session = m_store->latestSession(run.id);
        if (t->state.session && t->state.session->status == KernelStatus::Running) {
            const auto events = m_store->statusEvents(t->state.session->id);
            for (auto it = events.crbegin(); it != events.crend(); ++it)
                if (it->status == KernelStatus::Running) {
                    t->state.runningSince = it->at;
                    break;
                }
        }
        recomputeHours(*t);
        m_runs.insert(run.id, t);
    }
}

void RunMonitor::start()
{
    if (m_running)
        return;
    m_running = true;
    m_logs->setEnabled(m_settings.followLogs);
    const QDateTime t0 = now();
    // Spread the first round over a second so a big list does not fire at once.
    int i = 0;
    for (auto &t : m_runs)
        t->nextPoll = t0.addMSecs((i++ * 37) % 1000);
    m_quotaTimer.start(int(m_settings.quotaPollSeconds * 1000));
    pollQuota();
    scheduleTick();
}

void RunMonitor::stop()
{
    m_running = false;
    m_tickTimer.stop();
    m_quotaTimer.stop();
    m_quotaSoonTimer.stop();
    m_offlineTimer.stop();
    m_logs->stopAll();
}

void RunMonitor::scheduleTick()
{
    if (!m_running || m_offline)
        return;
    const QDateTime t0 = now();
    // Nothing is ever planned further ahead than the longest interval or backoff; anything
    // beyond that is a wall clock that jumped back (NTP, resume, a manual change), which
    // must not stop the polls for the size of the jump.
    const double longest = std::max({m_settings.pollQueuedSeconds, m_settings.pollRunningSeconds,
                                     m_settings.pollTerminalSeconds, m_settings.maxBackoffSeconds});
    const auto horizon = [&](double seconds) {
        return t0.addMSecs(qint64(std::max(seconds, longest) * (1 + m_settings.jitter) * 1000) +
                           1000);
    };
    if (m_globalNotBefore.isValid() && m_globalNotBefore > horizon(0))
        m_globalNotBefore = t0;
    QDateTime earliest;
    for (const auto &t : std::as_const(m_runs)) {
        if (t->nextPoll.isValid() && t->nextPoll > horizon(intervalSeconds(*t)))
            t->nextPoll = t0;
        if (!t->inFlight && t->nextPoll.isValid() &&
            (!earliest.isValid() || t->nextPoll < earliest))
            earliest = t->nextPoll;
    }
    if (!earliest.isValid()) {
        m_tickTimer.stop();
        return;
    }
    qint64 ms = t0.msecsTo(earliest);
    if (m_globalNotBefore.isValid())
        ms = std::max(ms, t0.msecsTo(m_globalNotBefore));
    m_tickTimer.start(int(std::clamp<qint64>(ms, 0, 60'000)));
}

// ---------------------------------------------------------------------------------------------
// Watched runs

Result<RunId> RunMonitor::watch(const QString &refOrUrl, const QString &title)
{
    const auto ref = KernelRef::parse(refOrUrl.trimmed());
    if (!ref)
        return ApiError::make(ApiError::Kind::Invalid,
                              tr("\"%1\" is not a kernel: use owner/slug or a "
                                 "kaggle.com/code/owner/slug link")
                                  .arg(refOrUrl.trimmed().left(200)));
    if (runByRef(*ref))
        return ApiError::make(ApiError::Kind::Invalid,
                              tr("%1 is already watched").arg(ref->toString()));
    WatchedRun run;
    run.ref = *ref;
    run.title = title.isEmpty() ? ref->slug : title;
    run.addedAt = now();
    auto id = m_store->addRun(run);
    if (!id)
        return id.error();
    run.id = *id;
    auto t = std::make_shared<Tracked>();
    t->state.run = run;
    t->nextPoll = now();
    m_runs.insert(run.id, t);
    emit runAdded(run.id);
    if (title.isEmpty())
        fetchMetadata(run.id);
    scheduleTick();
    return run.id;
}

void RunMonitor::fetchMetadata(RunId id)
{
    Tracked *t = tracked(id);
    if (!t || !hasBudget())
        return;
    // The title and the accelerator are not in the status; GetKernel has them.
    m_client->getKernel(t->state.run.ref, this, [this, id](Result<KernelPull> pull) {
        Tracked *t = tracked(id);
        if (!t || !pull)
            return;
        WatchedRun run = t->state.run;
        if (!pull->metadata.title.isEmpty())
            run.title = pull->metadata.title;
        run.machineShape = pull->metadata.machineShape;
        if (run == t->state.run)
            return;
        if (auto r = m_store->updateRun(run); !r)
            return storeError(r.error());
        t->state.run = run;
        if (t->state.session && t->state.session->machineShape.isEmpty() &&
            !run.machineShape.isEmpty()) {
            t->state.session->machineShape = run.machineShape;
            if (auto r = m_store->updateSession(*t->state.session); !r)
                storeError(r.error());
        }
        recomputeHours(*t);
        emit runChanged(id);
    });
}

void RunMonitor::importMyKernels(std::function<void(Result<int>)> done)
{
    ListKernelsRequest request;
    request.pageSize = 100;
    m_client->listAllKernels(request, this, [this, done](Result<QList<KernelMetadata>> list) {
        if (!list) {
            if (done)
                done(list.error());
            return;
        }
        int added = 0;
        for (const KernelMetadata &k : *list) {
            const auto ref = KernelRef::parse(k.ref);
            if (!ref || runByRef(*ref))
                continue;
            auto id = watch(ref->toString(), k.title);
            if (!id) {
                if (done)
                    done(id.error());
                return;
            }
            Tracked *t = tracked(*id);
            t->state.run.machineShape = k.machineShape;
            if (auto r = m_store->updateRun(t->state.run); !r)
                storeError(r.error());
            ++added;
        }
        if (done)
            done(added);
    });
}

Result<Done> RunMonitor::remove(RunId id)
{
    if (!m_runs.contains(id))
        return ApiError::make(ApiError::Kind::Invalid, tr("no such run"));
    auto r = m_store->removeRun(id);
    if (!r)
        return r;
    m_logs->stop(id);
    m_runs.remove(id);
    emit runRemoved(id);
    return Done{};
}

Result<Done> RunMonitor::setTags(RunId id, const QStringList &tags)
{
    Tracked *t = tracked(id);
    if (!t)
        return ApiError::make(ApiError::Kind::Invalid, tr("no such run"));
    WatchedRun run = t->state.run;
    run.tags = tags;
    run.tags.removeDuplicates();
    auto r = m_store->updateRun(run);
    if (!r)
        return r;
    t->state.run = run;
    emit runChanged(id);
    return Done{};
}

Result<Done> RunMonitor::setRunSettings(RunId id, const RunSettings &settings)
{
    Tracked *t = tracked(id);
    if (!t)
        return ApiError::make(ApiError::Kind::Invalid, tr("no such run"));
    WatchedRun run = t->state.run;
    run.settings = settings;
    auto r = m_store->updateRun(run);
    if (!r)
        return r;
    t->state.run = run;
    reschedule(*t, now());
    emit runChanged(id);
    return Done{};
}

void RunMonitor::notePush(RunId id, qint64 versionNumber, const QString &machineShape,
                          int timeoutSeconds)
{
    Tracked *t = tracked(id);
    if (!t)
        return;
    const QDateTime at = now();
    if (t->state.session && !t->state.session->isOver()) {
        // The previous session is superseded; Kaggle no longer reports on it.
        SessionRecord old = *t->state.session;
        old.endedAt = at;
        if (auto r = m_store->updateSession(old); !r)
            storeError(r.error());
    }
    SessionRecord s;
    s.runId = id;
    s.versionNumber = versionNumber;
    s.pushed = true;
    s.firstSeen = at;
    s.status = KernelStatus::Queued;
    s.machineShape = machineShape; // empty: a CPU run, even if earlier runs had a GPU
    s.timeoutSeconds = timeoutSeconds;
    s.chainId = t->state.run.chainId;
    auto sid = m_store->addSession(s);
    if (!sid) {
        storeError(sid.error());
        return;
    }
    s.id = *sid;
    if (auto r = m_store->addStatusEvent({s.id, s.status, at}); !r)
        storeError(r.error());
    t->state.session = s;
    t->state.runningSince = {};
    t->guardUntil = at.addMSecs(qint64(m_settings.pushGraceSeconds * 1000));
    t->seenNonTerminal = false;
    t->failures = 0;
    t->nextPoll = at;
    m_logs->stop(id);
    emit runChanged(id);
    requestQuotaSoon();
    scheduleTick();
}

void RunMonitor::setEta(RunId id, std::optional<double> seconds)
{
    if (Tracked *t = tracked(id))
        t->state.etaSeconds = seconds;
}

void RunMonitor::pollNow(RunId id)
{
    const QDateTime t0 = now();
    for (auto &t : m_runs)
        if (id == 0 || t->state.run.id == id)
            t->nextPoll = t0;
    if (id == 0)
        pollQuota();
    if (m_offline)
        probeOffline();
    else
        scheduleTick();
}

QList<RunId> RunMonitor::runIds() const
{
    QList<RunId> ids = m_runs.keys();
    std::sort(ids.begin(), ids.end());
    return ids;
}

const RunState *RunMonitor::state(RunId id) const
{
    const auto it = m_runs.constFind(id);
    return it == m_runs.constEnd() ? nullptr : &(*it)->state;
}

std::optional<RunId> RunMonitor::runByRef(const KernelRef &ref) const
{
    for (const auto &t : m_runs)
        if (t->state.run.ref == ref)
            return t->state.run.id;
    return std::nullopt;
}

RunMonitor::Tracked *RunMonitor::tracked(RunId id)
{
    const auto it = m_runs.constFind(id);
    return it == m_runs.constEnd() ? nullptr : it->get();
}

// ---------------------------------------------------------------------------------------------
// Scheduling

int RunMonitor::requestsInLastMinute() const
{
    const QDateTime t0 = now();
    const QDateTime cutoff = t0.addSecs(-60);
    return int(std::count_if(m_requestTimes.cbegin(), m_requestTimes.cend(),
                             [&](const QDateTime &t) { return t > cutoff && t <= t0; }));
}

qint64 RunMonitor::pauseFor(const ApiError &error, const QDateTime &t0)
{
    // An absurd Retry-After (the client caps it at an hour) must not freeze every run for that
    // long: the wait is capped like any backoff.
    if (error.kind != ApiError::Kind::RateLimited || !error.retryAfter)
        return -1;
    const qint64 ms =
        std::min<qint64>(error.retryAfter->count(), qint64(m_settings.maxBackoffSeconds * 1000));
    // Kaggle's limits are per account: every request waits as long as asked, within the cap.
    const QDateTime until = t0.addMSecs(ms);
    if (!m_globalNotBefore.isValid() || until > m_globalNotBefore)
        m_globalNotBefore = until;
    return ms;
}

bool RunMonitor::hasBudget()
{
    const QDateTime t0 = now();
    // A 429's Retry-After holds back polls, log requests and quota polls alike.
    if (m_globalNotBefore.isValid() && t0 < m_globalNotBefore)
        return false;
    const QDateTime cutoff = t0.addSecs(-60);
    while (!m_requestTimes.empty() && m_requestTimes.front() <= cutoff)
        m_requestTimes.pop_front();
    // Times ahead of now mean the wall clock went back; they would fill the budget until the
    // clock caught up with them.
    while (!m_requestTimes.empty() && m_requestTimes.back() > t0)
        m_requestTimes.pop_back();
    return int(m_requestTimes.size()) < m_settings.requestBudgetPerMinute;
}

bool RunMonitor::admit()
{
    if (!hasBudget())
        return false;
    m_requestTimes.push_back(now());
    ++m_totalRequests;
    return true;
}

double RunMonitor::intervalSeconds(const Tracked &t) const
{
    const RunSettings &rs = t.state.run.settings;
    const KernelStatus status = t.state.session ? t.state.session->status : KernelStatus::Queued;
    if (!t.state.session)
        return rs.pollQueuedSeconds ? rs.pollQueuedSeconds : m_settings.pollQueuedSeconds;
    if (isTerminal(status) && t.seenNonTerminal)
        return m_settings.pollTerminalSeconds; // 0: stop
    if (status == KernelStatus::Running || !t.seenNonTerminal)
        return rs.pollRunningSeconds ? rs.pollRunningSeconds : m_settings.pollRunningSeconds;
    return rs.pollQueuedSeconds ? rs.pollQueuedSeconds : m_settings.pollQueuedSeconds;
}

void RunMonitor::reschedule(Tracked &t, const QDateTime &from)
{
    double seconds = intervalSeconds(t);
    if (seconds <= 0 && t.failures == 0) {
        t.nextPoll = {}; // terminal: no more polls
        return;
    }
    if (seconds <= 0)
        seconds = m_settings.pollQueuedSeconds;
    double delay = seconds;
    if (t.failures > 0)
        delay = std::min(seconds * std::pow(2.0, t.failures - 1),
                         std::max(seconds, m_settings.maxBackoffSeconds));
    const double spread = 1.0 + m_settings.jitter * (2.0 * m_random.generateDouble() - 1.0);
    t.nextPoll = from.addMSecs(qint64(delay * spread * 1000));
}

void RunMonitor::tick()
{
    if (!m_running || m_offline)
        return;
    const QDateTime t0 = now();
    if (m_globalNotBefore.isValid() && t0 < m_globalNotBefore) {
        scheduleTick();
        return;
    }
    // Most overdue first, so a tight budget still serves everyone in turn.
    QList<Tracked *> due;
    for (auto &t : m_runs)
        if (!t->inFlight && t->nextPoll.isValid() && t->nextPoll <= t0)
            due.append(t.get());
    std::sort(due.begin(), due.end(),
              [](const Tracked *a, const Tracked *b) { return a->nextPoll < b->nextPoll; });
    for (Tracked *t : due) {
        if (!hasBudget()) {
            // Wake when the oldest request leaves the one-minute window.
            const qint64 ms =
                m_requestTimes.empty() ? kTickMs : t0.msecsTo(m_requestTimes.front().addSecs(60));
            m_tickTimer.start(int(std::clamp<qint64>(ms, kTickMs, 60'000)));
            return;
        }
        pollStatus(*t);
    }
    scheduleTick();
}

void RunMonitor::pollStatus(Tracked &t)
{
    t.inFlight = true;
    const RunId id = t.state.run.id;
    m_client->getKernelSessionStatus(
        t.state.run.ref, this,
        [this, id](Result<KernelSessionStatus> result) { onStatus(id, std::move(result)); });
}

void RunMonitor::onStatus(RunId id, Result<KernelSessionStatus> result)
{
    Tracked *t = tracked(id);
    if (!t)
        return;
    t->inFlight = false;
    const QDateTime t0 = now();
    if (!result) {
        markFailure(*t, result.error(), t0);
        return;
    }
    m_consecutiveNetworkFailures = 0;
    if (m_offline)
        leaveOffline();
    const bool wasStale = t->state.stale;
    t->failures = 0;
    t->state.stale = false;
    t->state.error.clear();
    t->state.lastUpdate = t0;
    applyStatus(*t, *result, t0);
    reschedule(*t, t0);
    if (wasStale)
        emit runChanged(id);
    scheduleTick();
}

void RunMonitor::markFailure(Tracked &t, const ApiError &error, const QDateTime &t0)
{
    ++t.failures;
    t.state.stale = true;
    t.state.error = error.message;
    t.state.errorKind = error.kind;
    t.state.errorHttpStatus = error.httpStatus;
    const qint64 retryAfterMs = pauseFor(error, t0);
    reschedule(t, t0);
    if (retryAfterMs >= 0)
        t.nextPoll = std::max(t.nextPoll, t0.addMSecs(retryAfterMs));
    qCInfo(lcMonitor) << t.state.run.ref.toString() << "poll failed:" << kindName(error.kind)
                      << "- next in" << t0.secsTo(t.nextPoll) << "s";
    emit runChanged(t.state.run.id);
    if (isNetworkKind(error.kind) &&
        ++m_consecutiveNetworkFailures >= m_settings.offlineAfterFailures && !m_offline) {
        enterOffline();
        return;
    }
    scheduleTick();
}

void RunMonitor::enterOffline()
{
    m_offline = true;
    m_offlineProbes = 0;
    m_tickTimer.stop();
    qCWarning(lcMonitor) << "offline: pausing polls";
    emit offlineChanged(true);
    m_offlineTimer.start(kOfflineProbeBaseSeconds * 1000);
}

void RunMonitor::probeOffline()
{
    if (!m_offline || !m_running)
        return;
    // One cheap request tells whether Kaggle is back; the spacing doubles each time.
    ++m_offlineProbes;
    if (!hasBudget()) {
        m_offlineTimer.start(kOfflineProbeBaseSeconds * 1000);
        return;
    }
    m_client->getQuota(this, [this](Result<QuotaStatistics> quota) {
        if (quota || !isNetworkKind(quota.error().kind)) {
            leaveOffline();
            if (quota) {
                m_lastQuota = *quota;
                emit quotaUpdated(*quota);
            }
            return;
        }
        const int seconds = std::min(kOfflineProbeMaxSeconds,
                                     kOfflineProbeBaseSeconds << std::min(m_offlineProbes, 6));
        m_offlineTimer.start(seconds * 1000);
    });
}

void RunMonitor::leaveOffline()
{
    if (!m_offline)
        return;
    m_offline = false;
    m_consecutiveNetworkFailures = 0;
    m_offlineTimer.stop();
    qCInfo(lcMonitor) << "back online";
    const QDateTime t0 = now();
    int i = 0;
    for (auto &t : m_runs)
        if (t->nextPoll.isValid() || t->failures > 0) {
            t->failures = 0;
            t->nextPoll = t0.addMSecs((i++ * 53) % 2000);
        }
    emit offlineChanged(false);
    scheduleTick();
}

// ---------------------------------------------------------------------------------------------
// Sessions

void RunMonitor::applyStatus(Tracked &t, const KernelSessionStatus &status, const QDateTime &t0)
{
    const RunId id = t.state.run.id;
    const KernelStatus s = status.status;
    const bool terminal = isTerminal(s);

    if (t.state.session && !t.seenNonTerminal) {
        // Push guard: until the new run shows up, a terminal status is the previous run's.
        if (terminal && t0 < t.guardUntil)
            return;
        t.seenNonTerminal = true;
    }

    std::optional<SessionRecord> &current = t.state.session;
    bool newSession = !current.has_value();
    if (current && current->isOver() && !terminal)
        newSession = true; // a run started outside KaggleDeck
    if (newSession) {
        SessionRecord session;
        session.runId = id;
        session.firstSeen = t0;
        session.status = s;
        session.machineShape = t.state.run.machineShape;
        session.chainId = t.state.run.chainId;
        session.failureMessage = status.failureMessage;
        if (terminal)
            session.endedAt = t0;
        if (s == KernelStatus::Running)
            session.runningSince = t0;
        auto sid = m_store->addSession(session);
        if (!sid) {
            storeError(sid.error());
            return;
        }
        session.id = *sid;
        if (auto r = m_store->addStatusEvent({session.id, s, t0}); !r)
            storeError(r.error());
        // A first sighting is no transition: a run that ended long ago raises no alert.
        const KernelStatus previous = current ? current->status : s;
        current = session;
        t.state.runningSince = s == KernelStatus::Running ? t0 : QDateTime();
        emit sessionTransition(id, session, previous);
        if (m_alerts)
            m_alerts->onStatus(t.state.run, session, previous, m_logs->lastStderrLines(id), t0);
    } else if (current->status != s || current->failureMessage != status.failureMessage) {
        const KernelStatus previous = current->status;
        current->status = s;
        current->failureMessage = status.failureMessage;
        if (terminal && !current->endedAt.isValid())
            current->endedAt = t0;
        if (auto r = m_store->updateSession(*current); !r)
            storeError(r.error());
        if (previous != s) {
            if (auto r = m_store->addStatusEvent({current->id, s, t0}); !r)
                storeError(r.error());
            if (s == KernelStatus::Running) {
                t.state.runningSince = t0;
                current->runningSince = t0;
            }
            emit sessionTransition(id, *current, previous);
            if (m_alerts)
                m_alerts->onStatus(t.state.run, *current, previous, m_logs->lastStderrLines(id),
                                   t0);
        }
    } else {
        // No change, but a running session's log may not be followed yet: the app restarted,
        // or the monitor was stopped and started again.
        if (s == KernelStatus::Running)
            m_logs->follow(id, t.state.run.ref, current->id);
        recomputeHours(t);
        emit runChanged(id);
        return;
    }

    recomputeHours(t);
    const SessionRecord &session = *current;
    if (session.status == KernelStatus::Running)
        m_logs->follow(id, t.state.run.ref, session.id);
    else if (session.isOver())
        m_logs->finish(id, t.state.run.ref, session.id);
    requestQuotaSoon();
    emit runChanged(id);
}

void RunMonitor::recomputeHours(Tracked &t)
{
    t.state.gpuSeconds = 0;
    t.state.tpuSeconds = 0;
    const QDateTime t0 = now();
    for (const SessionRecord &s : m_store->sessions(t.state.run.id)) {
        const double seconds = QuotaForecast::runningSeconds(m_store->statusEvents(s.id), t0);
        switch (acceleratorOf(s.machineShape)) {
        case Accelerator::Gpu:
            t.state.gpuSeconds += seconds;
            break;
        case Accelerator::Tpu:
            t.state.tpuSeconds += seconds;
            break;
        case Accelerator::None:
            break;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Quota

void RunMonitor::requestQuotaSoon()
{
    if (m_running && !m_quotaSoonTimer.isActive())
        m_quotaSoonTimer.start(kQuotaSoonMs);
}

void RunMonitor::pollQuota()
{
    if (m_quotaInFlight || !m_running || m_offline || !hasBudget())
        return;
    m_quotaInFlight = true;
    m_client->getQuota(this, [this](Result<QuotaStatistics> quota) {
        m_quotaInFlight = false;
        if (!quota) {
            qCInfo(lcMonitor) << "quota poll failed:" << quota.error().message;
            pauseFor(quota.error(), now());
            return;
        }
        m_lastQuota = *quota;
        if (auto r = m_store->addQuotaSnapshot({now(), *quota}); !r)
            storeError(r.error());
        emit quotaUpdated(*quota);
        if (m_alerts)
            m_alerts->onQuota(*quota, now());
    });
}

Result<Done> RunMonitor::markSessionChain(SessionId session, ChainId chain, int step)
{
    auto s = m_store->session(session);
    if (!s)
        return ApiError::make(ApiError::Kind::Io, QStringLiteral("no session %1").arg(session));
    s->chainId = chain;
    s->chainStep = step;
    if (auto r = m_store->updateSession(*s); !r)
        return r.error();
    if (Tracked *t = tracked(s->runId); t && t->state.session && t->state.session->id == session) {
        t->state.session->chainId = chain;
        t->state.session->chainStep = step;
    }
    return Done{};
}

void RunMonitor::storeError(const ApiError &error)
{
    qCWarning(lcMonitor) << "store:" << error.message;
    emit problem(tr("Local history could not be saved: %1").arg(error.message));
}

} // namespace kd
