#pragma once

#include "apierror.h"
#include "domain.h"

#include <QDateTime>
#include <QList>
#include <QSqlDatabase>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>

namespace kd {

/// A push waiting in the local commit queue for a free GPU slot.
struct QueuedCommit
{
    enum class State { Pending, Failed };
    qint64 id = 0;
    RunId runId = 0;    ///< 0 when the kernel is not watched (yet)
    QString ref;        ///< owner/slug as sent
    QByteArray request; ///< the serialized SaveKernelRequest (CommitQueue's format)
    QString machineShape;
    QDateTime createdAt;
    State state = State::Pending;
    QString lastError; ///< why it failed, or the last limit message

    friend bool operator==(const QueuedCommit &, const QueuedCommit &) = default;
};

/// One step of a chain: the run it committed and the session that run became.
struct ChainStepRecord
{
    ChainId chainId = 0;
    int step = 0;            ///< 1-based
    RunId runId = 0;         ///< 0 once the run is forgotten
    SessionId sessionId = 0; ///< 0 until the push succeeded
    QString state;           ///< committing | queued | running | complete | failed | ...
    QDateTime startedAt;
    QDateTime endedAt;
    QString note; ///< the failure message, the checkpoint found, the dataset version, ...

    friend bool operator==(const ChainStepRecord &, const ChainStepRecord &) = default;
};

/// One line of a chain's log.
struct ChainLogEntry
{
    ChainId chainId = 0;
    QDateTime at;
    QString text;

    friend bool operator==(const ChainLogEntry &, const ChainLogEntry &) = default;
};

/// What a chain needs to carry on after a restart, beside its ChainRecord.
struct ChainProgress
{
    QString reason;     ///< why it is done, stopped, paused or aborted
    QString datasetRef; ///< dataset handoff: owner/slug of the chain's dataset once created
    QString pending;    ///< "pause" or "abort" asked for while a step runs; empty otherwise

    friend bool operator==(const ChainProgress &, const ChainProgress &) = default;
};

/// Which alerts Store::alerts returns.
enum class AlertFilter { All, Unacknowledged };

/// The local history (watched runs, sessions, status changes, quota, metrics, alerts, chains,
/// settings) in one SQLite file.
///
/// Durability: WAL with synchronous=NORMAL. A write that returned success survives the
/// process being killed at any moment; a power cut or kernel crash may lose the last few
/// commits (never corrupt the file), which is the trade we take for commits that do not
/// fsync on the GUI thread.
///
/// Errors: database failures (disk full, read-only file, damaged file) are ApiError::Kind::Io
/// with the file and SQLite's reason in the message; a reference to a run, session or chain
/// that does not exist is Kind::NotFound; a request that cannot be stored as asked (a
/// duplicate or invalid kernel ref, a missing time) is Kind::Invalid. A failed write leaves
/// nothing behind: every write is one transaction. Reads log failures to kaggledeck.db and
/// return what they have (empty lists, nullopt, the fallback).
///
/// Like every QSqlDatabase connection, a Store is used only from the thread that opened it.
class Store final
{
public:
    /// QStandardPaths::AppDataLocation/kaggledeck.sqlite; empty when the platform has no
    /// writable data location.
    static QString defaultPath();
    /// The schema version this build writes (PRAGMA user_version of a current store).
    static int schemaVersion();

    /// Opens the store at `path`, creating the file and its directory when missing and
    /// migrating an older schema. A file that is not a KaggleDeck store (not SQLite, damaged,
    /// another application's database) or that a newer KaggleDeck wrote is refused with
    /// Kind::Io and never written to. ":memory:" opens a private in-memory store.
    static Result<std::unique_ptr<Store>> open(const QString &path);
    ~Store();
    Store(const Store &) = delete;
    Store &operator=(const Store &) = delete;

    QString path() const { return m_path; }

    // Runs. The ref identifies a run: it is unique (case-insensitively, as on Kaggle) and
    // never changes; updateRun writes everything else except addedAt.

    /// Ignores run.id; an invalid addedAt is stored as now.
    Result<RunId> addRun(const WatchedRun &run);
    Result<Done> updateRun(const WatchedRun &run);
    /// Also deletes the run's sessions, status events, metric points and alerts.
    Result<Done> removeRun(RunId id);
    /// In the order they were added.
    QList<WatchedRun> runs() const;
    std::optional<WatchedRun> run(RunId id) const;
    std::optional<WatchedRun> runByRef(const KernelRef &ref) const;

    // Sessions and their status transitions.

    /// Ignores s.id.
    Result<SessionId> addSession(const SessionRecord &s);
    Result<Done> updateSession(const SessionRecord &s);
    std::optional<SessionRecord> session(SessionId id) const;
    /// Oldest first (by firstSeen, then by insertion).
    QList<SessionRecord> sessions(RunId run) const;
    std::optional<SessionRecord> latestSession(RunId run) const;
    Result<Done> addStatusEvent(const StatusEvent &e);
    /// Oldest first.
    QList<StatusEvent> statusEvents(SessionId session) const;
    /// Every session's events at or after `since` (all when invalid), oldest first.
    QList<StatusEvent> statusEventsSince(const QDateTime &since) const;

    // Quota.

    Result<Done> addQuotaSnapshot(const QuotaSnapshot &q);
    /// At or after `since` (all when invalid), oldest first.
    QList<QuotaSnapshot> quotaSnapshots(const QDateTime &since) const;

    // Metrics. NaN and infinities round-trip.

    /// All points in one transaction: either all are stored or none.
    Result<Done> addMetricPoints(const QList<MetricPoint> &points);
    /// In the order they were added; every series when `series` is empty.
    QList<MetricPoint> metricPoints(SessionId session, const QString &series = {}) const;
    /// Sorted by name.
    QStringList metricSeries(SessionId session) const;

    // Alerts.

    /// Ignores a.id; returns the new id.
    Result<qint64> addAlert(const Alert &a);
    Result<Done> acknowledgeAlert(qint64 id);
    Result<Done> acknowledgeAllAlerts();
    /// Newest first, at most `limit` (every one when limit <= 0).
    QList<Alert> alerts(int limit = 200, AlertFilter filter = AlertFilter::All) const;
    int unacknowledgedAlertCount() const;

    // Chains: the records, their steps, their log and what a restart needs (ChainRunner).

    /// Ignores c.id; an invalid createdAt is stored as now.
    Result<ChainId> addChain(const ChainRecord &c);
    Result<Done> updateChain(const ChainRecord &c);
    std::optional<ChainRecord> chain(ChainId id) const;
    /// In the order they were added.
    QList<ChainRecord> chains() const;
    Result<Done> setChainProgress(ChainId id, const ChainProgress &progress);
    /// Empty values for an unknown chain.
    ChainProgress chainProgress(ChainId id) const;
    /// Inserts or replaces the step (chainId, step).
    Result<Done> saveChainStep(const ChainStepRecord &step);
    /// By step number.
    QList<ChainStepRecord> chainSteps(ChainId chain) const;
    /// An invalid `at` is stored as now.
    Result<Done> addChainLog(const ChainLogEntry &entry);
    /// Oldest first.
    QList<ChainLogEntry> chainLog(ChainId chain) const;

    // Commit queue.

    /// Ignores c.id; an invalid createdAt is stored as now. Returns the new id.
    Result<qint64> addQueuedCommit(const QueuedCommit &c);
    /// Writes state and lastError of the item c.id.
    Result<Done> updateQueuedCommit(const QueuedCommit &c);
    Result<Done> removeQueuedCommit(qint64 id);
    /// Oldest first (by createdAt, then by id).
    QList<QueuedCommit> queuedCommits() const;

    // Application settings (key/value).

    Result<Done> setValue(const QString &key, const QString &value);
    QString value(const QString &key, const QString &fallback = {}) const;

    /// PRAGMA integrity_check: "ok", or the problems found, one per line.
    Result<QString> integrityCheck() const;

private:
    Store(QString path, QString connectionName);

    QString m_path;
    QString m_connectionName;
    QSqlDatabase m_db;
};

} // namespace kd
