#pragma once

#include "domain.h"

#include <QDateTime>
#include <QHash>
#include <QList>
#include <QPointF>
#include <QString>

#include <optional>

namespace kd {

/// Local attribution of accelerator hours to sessions, runs and chains, and the forecast of
/// the weekly quota up to its refresh (pure logic: every input, including "now", is passed in).
class QuotaForecast final
{
public:
    /// Where the used / total numbers came from.
    enum class Source {
        Api,            ///< Kaggle's GetAcceleratorQuotaStatistics
        FallbackWindow, ///< no numbers from Kaggle: local attribution in a Saturday window
    };

    /// When "quota low" holds: below a fraction of the total or below an absolute floor.
    struct LowThreshold
    {
        double fraction = 0.10;
        double absoluteSeconds = 3 * 3600.0;

        /// The remaining time under which the quota counts as low.
        double thresholdSeconds(double totalSeconds) const;
        /// False when there is no quota at all (total <= 0), e.g. an account without TPU.
        bool isLow(double remainingSeconds, double totalSeconds) const;
    };

    struct Settings
    {
        double fallbackGpuTotalSeconds = 30 * 3600.0;
        double fallbackTpuTotalSeconds = 20 * 3600.0;
        LowThreshold low;
    };

    /// GPU and TPU seconds, kept apart because Kaggle bills them against separate quotas.
    struct Usage
    {
        double gpuSeconds = 0;
        double tpuSeconds = 0;

        double seconds(Accelerator accelerator) const;
        void add(Accelerator accelerator, double seconds);
        friend bool operator==(const Usage &, const Usage &) = default;
    };

    struct Attribution
    {
        QHash<SessionId, Usage> perSession;
        QHash<RunId, Usage> perRun;
        QHash<ChainId, Usage> perChain; ///< sessions outside a chain (chainId 0) are left out
        Usage total;
    };

    /// A run not started yet, e.g. the remaining steps of a chain.
    struct PlannedRun
    {
        Accelerator accelerator = Accelerator::Gpu;
        double expectedSeconds = 0;
    };

    struct Input
    {
        Accelerator accelerator = Accelerator::Gpu; ///< which quota to forecast (Gpu or Tpu)
        QDateTime now;
        std::optional<QuotaSnapshot> snapshot; ///< the latest numbers from Kaggle, if any
        /// Sessions of this window (finished ones too: the fallback attributes their hours).
        QList<SessionRecord> sessions;
        QList<StatusEvent> events; ///< of those sessions, any order
        /// Per running session, seconds from `now` until the metrics expect it to finish.
        QHash<SessionId, double> etaSeconds;
        /// Per queued session, how long it is expected to run once started (default: the cap).
        QHash<SessionId, double> expectedRunSeconds;
        QList<PlannedRun> planned;
    };

    struct Result
    {
        Accelerator accelerator = Accelerator::Gpu;
        Source source = Source::Api;
        QDateTime now;
        QDateTime refreshTime;
        QDateTime windowStart; ///< refreshTime minus a week
        double totalSeconds = 0;
        double usedSeconds = 0;
        double reservedSeconds = 0;
        double runningRemainderSeconds = 0;
        double queuedSeconds = 0;
        double plannedSeconds = 0;
        double projectedSeconds = 0;
        double remainingNowSeconds = 0;   ///< total - used, as Kaggle's own UI shows it
        double remainingAfterSeconds = 0; ///< total - projected; negative when it does not fit
        bool covers = true;
        double shortfallSeconds = 0; ///< max(0, projected - total)
        QString summary;
    };

    /// One point of a burn-down chart.
    struct BurnPoint
    {
        QDateTime at;
        double remainingHours = 0;
        friend bool operator==(const BurnPoint &, const BurnPoint &) = default;
    };

    struct BurnDown
    {
        QList<BurnPoint> actual;   ///< from snapshots of the current window, time-ordered
        QList<BurnPoint> forecast; ///< from now to the refresh, piecewise linear
    };

    static constexpr double kGpuRunCapSeconds = 12 * 3600.0;
    static constexpr double kTpuRunCapSeconds = 9 * 3600.0;
    static constexpr qint64 kWeekSeconds = 7 * 24 * 3600;

    QuotaForecast();
    explicit QuotaForecast(const Settings &settings);

    const Settings &settings() const { return m_settings; }
    void setSettings(const Settings &settings) { m_settings = settings; }
    void setFallbackTotalSeconds(Accelerator accelerator, double seconds);
    double fallbackTotalSeconds(Accelerator accelerator) const;

    /// Seconds spent RUNNING: from each RUNNING event to the next event with another status, or
    /// to `now` while still running. Events are sorted by time first; invalid times are ignored.
    static double runningSeconds(const QList<StatusEvent> &events, const QDateTime &now);
    /// The same, clipped to [from, now]; an invalid `from` means no lower bound.
    static double runningSecondsBetween(const QList<StatusEvent> &events, const QDateTime &from,
                                        const QDateTime &now);
    /// Start of the RUNNING stretch still open at the end of `events`; invalid if none.
    static QDateTime openRunningStart(const QList<StatusEvent> &events);

    /// The longest a session may run: the platform cap (12 h GPU and CPU, 9 h TPU), lowered by
    /// a positive sessionTimeoutSeconds.
    static double runCapSeconds(Accelerator accelerator, int timeoutSeconds = 0);
    /// Next Saturday 00:00 UTC strictly after `now` (on Saturday 00:00 itself, a week later).
    static QDateTime nextFallbackRefresh(const QDateTime &now);

    /// Sums running time per session, run and chain. A finished session stops counting at
    /// its endedAt even if no terminal event was recorded. `since` clips to a window start.
    static Attribution attribute(const QList<SessionRecord> &sessions,
                                 const QList<StatusEvent> &events, const QDateTime &now,
                                 const QDateTime &since = {});

    Result forecast(const Input &input) const;
    bool isLow(const Result &result) const;

    /// Burn-down of `result`'s accelerator: `snapshots` (time-ordered) give the actual series,
    /// `input` (the one `result` came from) the forecast series.
    static BurnDown burnDown(const QList<QuotaSnapshot> &snapshots, const Input &input,
                             const Result &result);
    /// x = milliseconds since the epoch, y = hours: what a QDateTimeAxis chart plots.
    static QList<QPointF> toChartPoints(const QList<BurnPoint> &points);

    /// "27.5 h", "30 h": one decimal, none when it is zero.
    static QString formatHours(double seconds);

private:
    Settings m_settings;
};

} // namespace kd
