#pragma once

#include "commitservice.h"
#include "store.h"

#include <QByteArray>
#include <QObject>

#include <optional>

namespace kd {

class RunMonitor;

/// Commits refused by Kaggle's GPU concurrency limit, kept in the store and pushed by
/// themselves, oldest first, when the watched runs show a free GPU slot.
class CommitQueue final : public QObject
{
    Q_OBJECT
public:
    /// Loads the pending items from `store`, so the queue survives a restart.
    CommitQueue(CommitService *service, RunMonitor *monitor, Store *store,
                QObject *parent = nullptr);

    /// Queues a draft refused with "Maximum batch GPU session count of N reached"; `limit` is
    /// that N (0 keeps the last known one).
    Result<qint64> enqueue(const CommitDraft &draft, int limit = 0);
    /// Drops an item (pending or failed).
    Result<Done> remove(qint64 id);
    /// Puts a failed item back in line.
    Result<Done> retry(qint64 id);

    /// Oldest first, failed ones included (with their message).
    QList<QueuedCommit> items() const { return m_items; }
    int pendingCount() const;
    /// The concurrency limit learnt from Kaggle's message; 0 while unknown.
    int gpuSessionLimit() const { return m_limit; }
    /// QUEUED and RUNNING sessions on a GPU among the watched runs.
    int activeGpuSessions() const;
    bool isDispatching() const { return m_dispatching.has_value(); }

    /// Pushes the oldest pending item when a slot looks free (or `force`).
    void dispatchIfPossible(bool force = false);

    static QByteArray serialize(const SaveKernelRequest &request);
    static std::optional<SaveKernelRequest> deserialize(const QByteArray &data);

signals:
    void queueChanged();
    void dispatched(const QString &ref, const kd::CommitReceipt &receipt);
    void failed(const QString &ref, const QString &message);
    /// A store write failed; the queue in memory and on disk may differ until it succeeds.
    void problem(const QString &message);

private:
    void onTransition(RunId run, const SessionRecord &session, KernelStatus previous);
    void onOutcome(qint64 id, const CommitOutcome &outcome);
    QueuedCommit *item(qint64 id);
    void setLimit(int limit);

    CommitService *m_service;
    RunMonitor *m_monitor;
    Store *m_store;
    QList<QueuedCommit> m_items;
    int m_limit = 0;
    std::optional<qint64> m_dispatching;
};

} // namespace kd
