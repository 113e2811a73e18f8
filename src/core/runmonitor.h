#pragma once

#include "domain.h"
#include "kaggleclient.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QTimer>

#include <deque>
#include <functional>
#include <memory>

namespace kd {

class Store;
class AlertEngine;
class LogFollower;

/// Global monitor settings; per-run RunSettings override the poll intervals.
struct MonitorSettings
{
    double pollRunningSeconds = 15;
    double pollQueuedSeconds = 60;
    /// Terminal runs are not polled; 0 keeps it that way.
    double pollTerminalSeconds = 0;
    /// Every request the monitor makes counts against this (status, quota, logs, output).
    int requestBudgetPerMinute = 120;
    double jitter = 0.2; ///< polls are spread by +/- this fraction of their interval
    double quotaPollSeconds = 300;
    /// After a push, a terminal status is not trusted until a non-terminal one was seen or
    /// this much time passed (the API reports only the latest session).
    double pushGraceSeconds = 180;
    double maxBackoffSeconds = 600;
    /// This many runs failing with network errors in a row, with no success between, means
    /// the monitor is offline.
    int offlineAfterFailures = 3;
    bool followLogs = true;
};

/// What the monitor knows about one watched run right now.
struct RunState
{
    WatchedRun run;
    std::optional<SessionRecord> session; ///< latest session
    QDateTime runningSince;               ///< start of the current RUNNING interval (UTC)
    bool stale = false;                   ///< last poll failed; state is the last known
    QString error;                        ///< last error text when stale
    ApiError::Kind errorKind = ApiError::Kind::Network;
    /// HTTP status of the last error (0: none came): 404 "no session" vs 403 deleted/private.
    int errorHttpStatus = 0;
    QDateTime lastUpdate; ///< last successful status (UTC)
    QString lastLogLine;
    double gpuSeconds = 0; ///< attributed GPU time of all sessions of this run
    double tpuSeconds = 0;
    std::optional<double> etaSeconds; ///< remaining training time from the metrics
};

/// Watches runs: polls each at a rate set by its state, inside a request budget, with
/// backoff, offline detection, the push guard and session tracking; stores every observed
/// transition and streams the logs of running kernels.
class RunMonitor final : public QObject
{
    Q_OBJECT
public:
    RunMonitor(KaggleClient *client, Store *store, MonitorSettings settings = {},
               QObject *parent = nullptr);
    ~RunMonitor() override;

    const MonitorSettings &settings() const { return m_settings; }
    void setSettings(const MonitorSettings &settings);
    /// The clock; tests may replace it. Returns UTC.
    void setClock(std::function<QDateTime()> clock) { m_clock = std::move(clock); }

    void start();
    void stop();
    bool isRunning() const { return m_running; }
    bool isOffline() const { return m_offline; }
    /// While offline: milliseconds until the next probe, or -1 while a probe is under way.
    int msUntilOfflineProbe() const { return m_offline ? m_offlineTimer.remainingTime() : -1; }

    /// Watches `owner/slug` or a kaggle.com/code/... URL. Fails on a malformed ref or a duplicate.
    Result<RunId> watch(const QString &refOrUrl, const QString &title = {});
    /// Adds every kernel of the account (ListKernels, all pages) not watched yet.
    void importMyKernels(std::function<void(Result<int> added)> done = {});
    Result<Done> remove(RunId id);
    Result<Done> setTags(RunId id, const QStringList &tags);
    Result<Done> setRunSettings(RunId id, const RunSettings &settings);
    /// Records a push from KaggleDeck: opens a new session and arms the push guard.
    /// `machineShape` is the pushed accelerator; empty means CPU.
    void notePush(RunId id, qint64 versionNumber, const QString &machineShape,
                  int timeoutSeconds = 0);
    /// Remaining training time from the metrics (the quota forecast and countdown use it).
    void setEta(RunId id, std::optional<double> seconds);
    /// Marks a session as step `step` of a chain, in the store and in the run's current
    /// session (so later transitions keep the mark).
    Result<Done> markSessionChain(SessionId session, ChainId chain, int step);
    /// Polls this run (or every run) now, ignoring its schedule but not the budget.
    void pollNow(RunId id = 0);

    QList<RunId> runIds() const;
    const RunState *state(RunId id) const;
    std::optional<RunId> runByRef(const KernelRef &ref) const;
    /// Requests sent in the last 60 s (for the budget).
    int requestsInLastMinute() const;
    qint64 totalRequests() const { return m_totalRequests; }
    const std::optional<QuotaStatistics> &lastQuota() const { return m_lastQuota; }
    LogFollower *logFollower() const { return m_logs.get(); }
    AlertEngine *alerts() const { return m_alerts; }
    void setAlertEngine(AlertEngine *engine) { m_alerts = engine; }

signals:
    void runAdded(kd::RunId id);
    void runRemoved(kd::RunId id);
    /// Anything shown for the run changed (state, stale flag, last log line, hours).
    void runChanged(kd::RunId id);
    /// A session changed state (stored already). previous is the state before.
    void sessionTransition(kd::RunId id, const kd::SessionRecord &session,
                           kd::KernelStatus previous);
    void offlineChanged(bool offline);
    void quotaUpdated(const kd::QuotaStatistics &quota);
    /// Something the user should know that concerns no single run (store write failed...).
    void problem(const QString &message);

private:
    struct Tracked;
    void scheduleTick();
    void tick();
    /// Whether a request may go now: no 429 pause, and room in the one-minute budget.
    bool hasBudget();
    /// The client's admission check: hasBudget(), and the request is counted.
    bool admit();
    /// Pauses every request until a 429's Retry-After (capped) has passed; returns the wait in
    /// ms, or -1 when `error` asks for none.
    qint64 pauseFor(const ApiError &error, const QDateTime &t0);
    void pollStatus(Tracked &t);
    void onStatus(RunId id, Result<KernelSessionStatus> result);
    void applyStatus(Tracked &t, const KernelSessionStatus &status, const QDateTime &now);
    void markFailure(Tracked &t, const ApiError &error, const QDateTime &now);
    void enterOffline();
    void probeOffline();
    void leaveOffline();
    void reschedule(Tracked &t, const QDateTime &now);
    double intervalSeconds(const Tracked &t) const;
    void fetchMetadata(RunId id);
    void pollQuota();
    void requestQuotaSoon();
    void recomputeHours(Tracked &t);
    Tracked *tracked(RunId id);
    void storeError(const ApiError &error);
    void loadFromStore();
    QDateTime now() const { return m_clock(); }

    KaggleClient *m_client;
    Store *m_store;
    MonitorSettings m_settings;
    AlertEngine *m_alerts = nullptr;
    std::unique_ptr<LogFollower> m_logs;
    std::function<QDateTime()> m_clock;
    QHash<RunId, std::shared_ptr<Tracked>> m_runs;
    QTimer m_tickTimer;
    QTimer m_quotaTimer;
    QTimer m_quotaSoonTimer;
    QTimer m_offlineTimer;
    std::deque<QDateTime> m_requestTimes;
    qint64 m_totalRequests = 0;
    QDateTime m_globalNotBefore; ///< a 429 pauses everything until then
    bool m_running = false;
    bool m_offline = false;
    int m_consecutiveNetworkFailures = 0;
    int m_offlineProbes = 0;
    bool m_quotaInFlight = false;
    std::optional<QuotaStatistics> m_lastQuota;
    QRandomGenerator m_random{0x5eed};
};

} // namespace kd
