#pragma once

#include "domain.h"
#include "runmonitor.h"

#include <QHash>
#include <QObject>
#include <QTimer>

#include <memory>

namespace kd {

class AlertEngine;
class ChainRunner;
class CommitQueue;
class CommitService;
class PersistenceMirror;
class KaggleClient;
class LogTailModel;
class QuotaModel;
class QuotaUsageModel;
class RunFilterProxy;
class RunLog;
class RunTableModel;
class Store;

/// The run-monitor core as one object: the monitor, its logs, metrics, alerts and the
/// models the UI shows. Widgets talk to this and to the models it hands out.
class Deck final : public QObject
{
    Q_OBJECT
public:
    struct Settings
    {
        MonitorSettings monitor;
        int tailLines = 20'000;
        qint64 archiveCapBytes = 64LL * 1024 * 1024;
        int alertTickSeconds = 15;
    };

    /// `dataDir` holds the log archives (`<dataDir>/logs/<session>.log`).
    Deck(KaggleClient *client, Store *store, const QString &dataDir, Settings settings,
         QObject *parent = nullptr);
    ~Deck() override;

    RunMonitor *monitor() const { return m_monitor.get(); }
    AlertEngine *alerts() const { return m_alerts.get(); }
    Store *store() const { return m_store; }
    KaggleClient *client() const { return m_client; }
    RunTableModel *runModel() const { return m_runModel.get(); }
    RunFilterProxy *runFilter() const { return m_filter.get(); }
    QString logDir() const { return m_logDir; }
    /// GPU/TPU quota with its forecast; refreshed on new quota numbers, state changes and
    /// every minute.
    QuotaModel *quotaModel() const { return m_quota.get(); }
    /// Hours per run and per chain in the current quota window.
    QuotaUsageModel *quotaUsageModel() const { return m_quotaUsage.get(); }
    /// Pushes kernels (from a folder or a watched kernel) and tracks the new sessions.
    CommitService *commits() const { return m_commits.get(); }
    /// Commits waiting for a free GPU slot; survives restarts.
    CommitQueue *commitQueue() const { return m_commitQueue.get(); }
    /// Local copies of the outputs of runs in a "Files" persistence mode.
    PersistenceMirror *mirror() const { return m_mirror.get(); }
    /// The chains (epoch-by-epoch runs); resumes those under way when the deck is made.
    ChainRunner *chains() const { return m_chains.get(); }
    QString dataDir() const { return m_dataDir; }
    /// Recomputes the quota models now.
    void refreshQuota();

    /// The log tail of the run's latest session; loaded from its archive when the session
    /// is not being followed. Null when the run has no session yet.
    LogTailModel *logTail(RunId run);
    /// The archive file of a session (it may not exist).
    QString archivePath(SessionId session) const;

    void start();
    void stop();

signals:
    /// A run's tail model was replaced (a new session started); views must re-fetch it.
    void logTailReset(kd::RunId run);
    void metricsAdded(kd::RunId run, kd::SessionId session, const QList<kd::MetricPoint> &points);
    void alertRaised(const kd::Alert &alert);

private:
    RunLog *runLog(RunId run, SessionId session, bool replayArchive);
    void onEvents(RunId run, SessionId session, const QList<LogEvent> &events);
    void onTransition(RunId run, const SessionRecord &session, KernelStatus previous);

    KaggleClient *m_client;
    Store *m_store;
    Settings m_settings;
    QString m_dataDir;
    QString m_logDir;
    std::unique_ptr<AlertEngine> m_alerts;
    std::unique_ptr<RunMonitor> m_monitor;
    std::unique_ptr<CommitService> m_commits;
    std::unique_ptr<CommitQueue> m_commitQueue;
    std::unique_ptr<PersistenceMirror> m_mirror;
    std::unique_ptr<ChainRunner> m_chains;
    std::unique_ptr<RunTableModel> m_runModel;
    std::unique_ptr<RunFilterProxy> m_filter;
    std::unique_ptr<QuotaModel> m_quota;
    std::unique_ptr<QuotaUsageModel> m_quotaUsage;
    QTimer m_quotaTick;
    QHash<RunId, std::shared_ptr<RunLog>> m_logs;
    QTimer m_alertTick;
};

} // namespace kd
