#pragma once

// Value types of the run monitor, shared by the store, the monitor, the models and the UI.
// No JSON, no widgets, no curl here.

#include "types.h"

#include <QDateTime>
#include <QList>
#include <QString>
#include <QStringList>

#include <cmath>
#include <limits>
#include <optional>

namespace kd {

using RunId = qint64;
using SessionId = qint64;
using ChainId = qint64;

/// Per-run settings; zero or empty means "use the global default".
struct RunSettings
{
    int pollRunningSeconds = 0;
    int pollQueuedSeconds = 0;
    bool muted = false;         ///< no alerts for this run
    QDateTime snoozedUntil;     ///< no alerts until then (UTC)
    int stuckMinutes = 0;       ///< stuck alert threshold
    QStringList logPatterns;    ///< extra alert patterns (regular expressions)
    QStringList metricPatterns; ///< user metric regexes with a named capture
    QString persistence;        ///< persistence mode id (actions issue); empty = none

    friend bool operator==(const RunSettings &, const RunSettings &) = default;
};

/// A kernel the user watches.
struct WatchedRun
{
    RunId id = 0;
    KernelRef ref;
    QString title;
    QString machineShape; ///< accelerator id, e.g. NvidiaTeslaT4; empty for CPU
    QStringList tags;
    RunSettings settings;
    QDateTime addedAt;
    ChainId chainId = 0; ///< 0: not in a chain

    friend bool operator==(const WatchedRun &, const WatchedRun &) = default;
};

/// Which accelerator family a machine shape bills against.
enum class Accelerator { None, Gpu, Tpu };
Accelerator acceleratorOf(const QString &machineShape);

/// One committed run of a kernel version: from a push (or first sighting) to a terminal state.
struct SessionRecord
{
    SessionId id = 0;
    RunId runId = 0;
    qint64 versionNumber = 0; ///< 0 when unknown (first sighting)
    bool pushed = false;      ///< started by a push from KaggleDeck
    QDateTime firstSeen;      ///< push time or first sighting (UTC)
    QDateTime endedAt;        ///< invalid while not terminal
    /// Start of the current RUNNING stretch when the caller knows it (UTC); the quota forecast
    /// and the time-cap alert count the 12 h / 9 h cap from it. Invalid: not known.
    QDateTime runningSince;
    KernelStatus status = KernelStatus::Queued;
    QString failureMessage;
    QString machineShape;
    int timeoutSeconds = 0; ///< sessionTimeoutSeconds when known, 0 = the platform cap
    ChainId chainId = 0;
    int chainStep = 0;

    bool isOver() const { return isTerminal(status); }
    friend bool operator==(const SessionRecord &, const SessionRecord &) = default;
};

/// An observed state of a session, with the time it was first seen.
struct StatusEvent
{
    SessionId sessionId = 0;
    KernelStatus status = KernelStatus::Queued;
    QDateTime at;
    friend bool operator==(const StatusEvent &, const StatusEvent &) = default;
};

struct QuotaSnapshot
{
    QDateTime at;
    QuotaStatistics stats;
};

/// One value of a metric series parsed from a log line.
struct MetricPoint
{
    SessionId sessionId = 0;
    QString series; ///< e.g. "loss", "eval_accuracy"
    double value = 0;
    double logTime = 0; ///< seconds since session start (the log event's time)
    double epoch = std::numeric_limits<double>::quiet_NaN(); ///< NaN when not known
    qint64 step = -1;                                        ///< -1 when not known
};

enum class AlertKind {
    Finished,
    Failed,
    Cancelled,
    Stuck,
    LogPattern,
    TimeCap,
    QuotaLow,
};

struct Alert
{
    qint64 id = 0;
    AlertKind kind = AlertKind::Finished;
    RunId runId = 0; ///< 0 for account-wide alerts (quota)
    SessionId sessionId = 0;
    QDateTime at;
    QString title; ///< one line, e.g. "alice/train failed"
    QString text;  ///< details: failure message, last stderr lines, matched line
};

/// A chain of runs (the epoch-by-epoch strategy); the actions issue fills in behaviour.
struct ChainRecord
{
    ChainId id = 0;
    QString name;
    KernelRef kernel;
    QString handoff; ///< "kernel_sources" or "dataset"
    QString checkpointPattern;
    QString stopRules; ///< serialized rules
    QString state;     ///< idle | running | paused | stopped | done
    QDateTime createdAt;
};

} // namespace kd
