#pragma once

#include "domain.h"
#include "kaggleclient.h"

#include <QHash>
#include <QObject>
#include <QStringList>

#include <functional>
#include <memory>

namespace kd {

/// Follows the logs of running kernels over the SSE stream (kaggle-api.md 3.6).
///
/// The server replays a session's log from the start on every connection, so events already
/// delivered are dropped by position. A stream that keeps failing without progress falls back
/// to polling ListKernelSessionOutput. When a session ends, the stored log is fetched once and
/// anything the stream missed is delivered, so every event arrives exactly once, in order.
class LogFollower final : public QObject
{
    Q_OBJECT
public:
    enum class Mode { Idle, Streaming, Polling, Reconciling, Done };
    Q_ENUM(Mode)

    struct Settings
    {
        int reconnectDelayMs = 1'000;
        /// Failed connections in a row, with no new event, before falling back to polling.
        int maxFailuresBeforePolling = 5;
        int pollIntervalMs = 15'000;
        int budgetRetryMs = 1'000;
        int stderrLinesKept = 20;
    };

    /// `budget` is asked before every request; false means "not now, try again later".
    LogFollower(KaggleClient *client, std::function<bool()> budget, QObject *parent = nullptr);
    ~LogFollower() override;

    void setSettings(const Settings &settings) { m_settings = settings; }
    /// Events of a session the caller already has (kept from an earlier run of the app); the
    /// stream's replay of them is skipped.
    void setKnownEvents(std::function<qint64(RunId, SessionId)> known)
    {
        m_known = std::move(known);
    }
    void setEnabled(bool enabled);

    /// Starts or keeps following the run's current session. A new session id starts over.
    void follow(RunId run, const KernelRef &ref, SessionId session);
    /// The session is over: stop streaming and reconcile with the stored log, once.
    void finish(RunId run, const KernelRef &ref, SessionId session);
    void stop(RunId run);
    void stopAll();

    Mode mode(RunId run) const;
    qint64 eventCount(RunId run) const;
    QStringList lastStderrLines(RunId run) const;
    QString lastLine(RunId run) const;

signals:
    /// New events of a session, deduplicated, in order.
    void events(kd::RunId run, kd::SessionId session, const QList<kd::LogEvent> &events);
    void lastLineChanged(kd::RunId run, const QString &line);
    void modeChanged(kd::RunId run, kd::LogFollower::Mode mode);
    /// A request was refused with 429: the owner pauses the account's requests (Retry-After).
    void rateLimited(const kd::ApiError &error);

private:
    struct Follow;
    Follow *find(RunId run);
    Follow &ensure(RunId run, const KernelRef &ref, SessionId session);
    void connectStream(RunId run);
    void noteError(const ApiError &error);
    void onStreamEvents(RunId run, quint64 generation, const QList<LogEvent> &events);
    void onStreamFinished(RunId run, quint64 generation, Result<bool> result);
    void pollOutput(RunId run);
    void reconcile(RunId run);
    void deliverFrom(Follow &f, const QList<LogEvent> &all);
    void drain(RunId run);
    void deliver(Follow &f, QList<LogEvent> fresh);
    void setMode(Follow &f, Mode mode);
    void later(RunId run, int ms, void (LogFollower::*step)(RunId));

    KaggleClient *m_client;
    std::function<bool()> m_budget;
    Settings m_settings;
    std::function<qint64(RunId, SessionId)> m_known;
    bool m_enabled = true;
    QHash<RunId, std::shared_ptr<Follow>> m_follows;
};

} // namespace kd
