#pragma once

#include "domain.h"
#include "quotaforecast.h"

#include <QDateTime>
#include <QHash>
#include <QList>
#include <QObject>
#include <QRegularExpression>
#include <QSet>
#include <QStringList>

namespace kd {

/// A log pattern worth an alert; `name` titles the alert and keys "once per session".
struct AlertPattern
{
    QString name;
    QString regex; ///< QRegularExpression syntax; "(?i)" for case-insensitive
    friend bool operator==(const AlertPattern &, const AlertPattern &) = default;
};

/// Python tracebacks, CUDA out-of-memory and a NaN loss printed in the log.
QList<AlertPattern> builtinAlertPatterns();

/// Global alert settings; a run's RunSettings override the per-run ones when non-zero.
struct AlertDefaults
{
    int stuckMinutes = 20;          ///< silence while RUNNING before "may be stuck"
    int timeCapWarningMinutes = 30; ///< warn this long before the 12 h / 9 h / timeout cap
    QList<AlertPattern> patterns = builtinAlertPatterns();
    QuotaForecast::LowThreshold quotaLow;
};

/// Turns what the monitor observes (statuses, log lines, metrics, quota, the passing of time)
/// into alerts, each raised once on its transition and never repeated.
///
/// Muted and snoozed alerts are dropped, not queued, yet they count as fired: when the mute
/// ends the user is not hit by a burst of stale alerts about things already past.
class AlertEngine final : public QObject
{
    Q_OBJECT
public:
    using Defaults = AlertDefaults;
    using LogLines = QList<LogEvent>;

    /// The key of the NaN-loss rule, shared by the log-text and the metric detection so a NaN
    /// seen both ways alerts once.
    static QString nanLossPatternName();

    explicit AlertEngine(QObject *parent = nullptr);

    const Defaults &defaults() const { return m_defaults; }
    void setDefaults(const Defaults &defaults);
    /// No alert at all until `until` (UTC); an invalid time ends the snooze.
    void setGlobalSnooze(const QDateTime &until);
    QDateTime globalSnooze() const { return m_globalSnooze; }

    /// Updates a run's settings (mute, snooze, thresholds) for the time-based rules.
    void setRun(const WatchedRun &run);

    /// A status observation. `previous` is the status seen before; on a first sighting pass
    /// the same status, so a run that ended long ago is not announced as news.
    void onStatus(const WatchedRun &run, const SessionRecord &session, KernelStatus previous,
                  const QStringList &lastStderrLines, const QDateTime &now);
    /// New (deduplicated) log lines of a session; any line counts as a sign of life.
    void onLogLines(const WatchedRun &run, SessionId session, const LogLines &lines,
                    const QDateTime &now);
    /// New metric points; a NaN in a loss-like series raises the NaN-loss alert.
    void onMetricPoints(const WatchedRun &run, const QList<MetricPoint> &points,
                        const QDateTime &now);
    /// A fresh quota forecast (one per accelerator).
    void onQuota(const QuotaForecast::Result &forecast, const QDateTime &now);
    /// Kaggle's raw numbers: each accelerator present (and not from a past window) is judged
    /// on them alone, without local projection.
    void onQuota(const QuotaStatistics &stats, const QDateTime &now);
    /// Time-based rules (stuck, time cap); the monitor calls it periodically.
    void tick(const QDateTime &now);

    void forgetSession(SessionId session);
    void forgetRun(RunId run);

signals:
    void alertRaised(const kd::Alert &alert);

private:
    struct SessionState
    {
        RunId runId = 0;
        SessionRecord session;
        QDateTime runningSince;
        QDateTime lastActivity; ///< last log line, or the start of the RUNNING stretch
        bool terminalFired = false;
        bool stuckFired = false; ///< of the current silence; cleared when logs resume
        bool timeCapFired = false;
        QSet<QString> patternsFired;
    };

    struct QuotaState
    {
        QDateTime refreshTime;
        bool fired = false;
    };

    SessionState &stateFor(const WatchedRun &run, SessionId session);
    void checkPattern(const WatchedRun &run, SessionState &state, const QString &name,
                      const QString &regex, const LogEvent &line, const QDateTime &now);
    /// Cached; an invalid expression (a user typo) comes back invalid and matches nothing.
    QRegularExpression compiled(const QString &regex);
    bool suppressed(const WatchedRun *run, const QDateTime &now) const;
    /// Emits `alert` unless muted or snoozed; the caller has already marked it fired.
    void raise(Alert alert, const WatchedRun *run);

    Defaults m_defaults;
    QDateTime m_globalSnooze;
    QHash<RunId, WatchedRun> m_runs;
    QHash<SessionId, SessionState> m_sessions;
    QuotaState m_gpuQuota;
    QuotaState m_tpuQuota;
    QHash<QString, QRegularExpression> m_regexCache;
    qint64 m_nextId = 1;
};

} // namespace kd
