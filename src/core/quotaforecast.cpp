#include "quotaforecast.h"

#include <QLocale>
#include <QTimeZone>

#include <algorithm>
#include <cmath>

namespace kd {

namespace {

Accelerator quotaAccelerator(Accelerator accelerator)
{
    // CPU time is not billed; a forecast "for CPU" makes no sense, so it means the GPU quota.
    return accelerator == Accelerator::Tpu ? Accelerator::Tpu : Accelerator::Gpu;
}

QString acceleratorLabel(Accelerator accelerator)
{
    return accelerator == Accelerator::Tpu ? QStringLiteral("TPU") : QStringLiteral("GPU");
}

QString formatWhen(const QDateTime &at)
{
    return QLocale::c().toString(at.toUTC(), u"ddd HH:mm") + QStringLiteral(" UTC");
}

double secondsBetween(const QDateTime &from, const QDateTime &to)
{
    return double(from.msecsTo(to)) / 1000.0;
}

QList<StatusEvent> sortedValid(const QList<StatusEvent> &events)
{
    QList<StatusEvent> sorted;
    sorted.reserve(events.size());
    for (const StatusEvent &e : events) {
        if (e.at.isValid())
            sorted.append(e);
    }
    // Stable: two observations with the same timestamp keep the order they were recorded in.
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const StatusEvent &a, const StatusEvent &b) { return a.at < b.at; });
    return sorted;
}

QHash<SessionId, QList<StatusEvent>> eventsBySession(const QList<StatusEvent> &events)
{
    QHash<SessionId, QList<StatusEvent>> grouped;
    for (const StatusEvent &e : events)
        grouped[e.sessionId].append(e);
    return grouped;
}

/// What each non-finished session and each planned run is expected to consume from now on,
/// in seconds, before the refresh.
struct Projection
{
    QList<double> running;
    QList<double> queued;
    double planned = 0;

    double runningTotal() const { return sum(running); }
    double queuedTotal() const { return sum(queued); }

    static double sum(const QList<double> &values)
    {
        double total = 0;
        for (double v : values)
            total += v;
        return total;
    }
};

Projection project(const QuotaForecast::Input &input, Accelerator accelerator,
                   const QDateTime &refresh)
{
    Projection p;
    const QDateTime &now = input.now;
    const double untilRefresh = std::max(0.0, secondsBetween(now, refresh));
    const QHash<SessionId, QList<StatusEvent>> events = eventsBySession(input.events);

    for (const SessionRecord &s : input.sessions) {
        if (acceleratorOf(s.machineShape) != accelerator || s.isOver())
            continue;
        const double cap = QuotaForecast::runCapSeconds(accelerator, s.timeoutSeconds);
        if (s.status == KernelStatus::Running) {
            QDateTime start = QuotaForecast::openRunningStart(events.value(s.id));
            if (!start.isValid())
                start = s.runningSince;
            if (!start.isValid())
                start = s.firstSeen;
            if (!start.isValid() || start > now)
                start = now;
            QDateTime end = start.addMSecs(qint64(cap * 1000.0));
            if (const auto eta = input.etaSeconds.constFind(s.id);
                eta != input.etaSeconds.constEnd()) {
                end = std::min(end, now.addMSecs(qint64(std::max(0.0, *eta) * 1000.0)));
            }
            end = std::min(end, refresh);
            p.running.append(std::max(0.0, secondsBetween(now, end)));
        } else if (s.status == KernelStatus::Queued || s.status == KernelStatus::NewScript) {
            // A queued session will run: assume it starts now (the earliest, so the most
            // pessimistic for the quota) and runs its expected time, at most the cap.
            const double expected = input.expectedRunSeconds.value(s.id, cap);
            p.queued.append(std::clamp(expected, 0.0, std::min(cap, untilRefresh)));
        }
        // CANCEL_REQUESTED: Kaggle is stopping it; what little it still uses is noise.
    }

    const double plannedCap = std::min(QuotaForecast::runCapSeconds(accelerator), untilRefresh);
    for (const QuotaForecast::PlannedRun &run : input.planned) {
        if (quotaAccelerator(run.accelerator) == accelerator &&
            run.accelerator != Accelerator::None)
            p.planned += std::clamp(run.expectedSeconds, 0.0, plannedCap);
    }
    return p;
}

} // namespace

double QuotaForecast::LowThreshold::thresholdSeconds(double totalSeconds) const
{
    return std::max(fraction * totalSeconds, absoluteSeconds);
}

bool QuotaForecast::LowThreshold::isLow(double remainingSeconds, double totalSeconds) const
{
    return totalSeconds > 0 && remainingSeconds < thresholdSeconds(totalSeconds);
}

double QuotaForecast::Usage::seconds(Accelerator accelerator) const
{
    switch (accelerator) {
    case Accelerator::Gpu:
        return gpuSeconds;
    case Accelerator::Tpu:
        return tpuSeconds;
    case Accelerator::None:
        break;
    }
    return 0;
}

void QuotaForecast::Usage::add(Accelerator accelerator, double seconds)
{
    if (accelerator == Accelerator::Gpu)
        gpuSeconds += seconds;
    else if (accelerator == Accelerator::Tpu)
        tpuSeconds += seconds;
}

QuotaForecast::QuotaForecast() = default;

QuotaForecast::QuotaForecast(const Settings &settings) : m_settings(settings) {}

void QuotaForecast::setFallbackTotalSeconds(Accelerator accelerator, double seconds)
{
    if (quotaAccelerator(accelerator) == Accelerator::Tpu)
        m_settings.fallbackTpuTotalSeconds = seconds;
    else
        m_settings.fallbackGpuTotalSeconds = seconds;
}

double QuotaForecast::fallbackTotalSeconds(Accelerator accelerator) const
{
    return quotaAccelerator(accelerator) == Accelerator::Tpu ? m_settings.fallbackTpuTotalSeconds
                                                             : m_settings.fallbackGpuTotalSeconds;
}

double QuotaForecast::runningSeconds(const QList<StatusEvent> &events, const QDateTime &now)
{
    return runningSecondsBetween(events, QDateTime(), now);
}

double QuotaForecast::runningSecondsBetween(const QList<StatusEvent> &events, const QDateTime &from,
                                            const QDateTime &now)
{
    double total = 0;
    const auto addInterval = [&](QDateTime start, QDateTime end) {
        if (from.isValid() && start < from)
            start = from;
        if (end > now)
            end = now;
        if (end > start)
            total += secondsBetween(start, end);
    };

    QDateTime open;
    for (const StatusEvent &e : sortedValid(events)) {
        if (e.status == KernelStatus::Running) {
            // Repeated RUNNING observations extend the stretch rather than restart it.
            if (!open.isValid())
                open = e.at;
        } else if (open.isValid()) {
            addInterval(open, e.at);
            open = QDateTime();
        }
    }
    if (open.isValid())
        addInterval(open, now);
    return total;
}

QDateTime QuotaForecast::openRunningStart(const QList<StatusEvent> &events)
{
    QDateTime open;
    for (const StatusEvent &e : sortedValid(events)) {
        if (e.status == KernelStatus::Running) {
            if (!open.isValid())
                open = e.at;
        } else {
            open = QDateTime();
        }
    }
    return open;
}

double QuotaForecast::runCapSeconds(Accelerator accelerator, int timeoutSeconds)
{
    const double platform = accelerator == Accelerator::Tpu ? kTpuRunCapSeconds : kGpuRunCapSeconds;
    return timeoutSeconds > 0 ? std::min(platform, double(timeoutSeconds)) : platform;
}

QDateTime QuotaForecast::nextFallbackRefresh(const QDateTime &now)
{
    const QDateTime utc = now.toUTC();
    const int daysAhead = (int(Qt::Saturday) - utc.date().dayOfWeek() + 7) % 7;
    QDateTime next(utc.date().addDays(daysAhead), QTime(0, 0), QTimeZone::utc());
    if (next <= utc)
        next = next.addDays(7);
    return next;
}

QuotaForecast::Attribution QuotaForecast::attribute(const QList<SessionRecord> &sessions,
                                                    const QList<StatusEvent> &events,
                                                    const QDateTime &now, const QDateTime &since)
{
    Attribution a;
    const QHash<SessionId, QList<StatusEvent>> grouped = eventsBySession(events);
    for (const SessionRecord &s : sessions) {
        const Accelerator accelerator = acceleratorOf(s.machineShape);
        if (accelerator == Accelerator::None)
            continue;
        // The monitor may miss the terminal event (app closed); endedAt still bounds the run.
        QDateTime until = now;
        if (s.isOver() && s.endedAt.isValid() && s.endedAt < until)
            until = s.endedAt;
        const double seconds = runningSecondsBetween(grouped.value(s.id), since, until);
        a.perSession[s.id].add(accelerator, seconds);
        a.perRun[s.runId].add(accelerator, seconds);
        if (s.chainId != 0)
            a.perChain[s.chainId].add(accelerator, seconds);
        a.total.add(accelerator, seconds);
    }
    return a;
}

QuotaForecast::Result QuotaForecast::forecast(const Input &input) const
{
    Result r;
    r.accelerator = quotaAccelerator(input.accelerator);
    r.now = input.now;

    const AcceleratorQuota *quota = nullptr;
    QDateTime apiRefresh;
    if (input.snapshot) {
        const std::optional<AcceleratorQuota> &q = r.accelerator == Accelerator::Tpu
                                                       ? input.snapshot->stats.tpu
                                                       : input.snapshot->stats.gpu;
        if (q)
            quota = &*q;
        apiRefresh = input.snapshot->stats.quotaRefreshTime;
    }
    // A snapshot whose refresh time has passed describes last week's window: its numbers
    // would understate this week's use, so it is as good as none.
    const bool stale = apiRefresh.isValid() && apiRefresh <= input.now;

    if (quota && !stale) {
        r.source = Source::Api;
        r.refreshTime = apiRefresh.isValid() ? apiRefresh.toUTC() : nextFallbackRefresh(input.now);
        r.windowStart = r.refreshTime.addSecs(-kWeekSeconds);
        r.totalSeconds = quota->totalTimeAllowedSeconds;
        r.usedSeconds = quota->timeUsedSeconds;
        r.reservedSeconds = quota->timeReservedSeconds;
    } else {
        r.source = Source::FallbackWindow;
        r.refreshTime = nextFallbackRefresh(input.now);
        r.windowStart = r.refreshTime.addSecs(-kWeekSeconds);
        r.totalSeconds = fallbackTotalSeconds(r.accelerator);
        r.usedSeconds = attribute(input.sessions, input.events, input.now, r.windowStart)
                            .total.seconds(r.accelerator);
    }

    const Projection p = project(input, r.accelerator, r.refreshTime);
    r.runningRemainderSeconds = p.runningTotal();
    r.queuedSeconds = p.queuedTotal();
    r.plannedSeconds = p.planned;

    // Kaggle's timeReserved is time held for the sessions running now, i.e. the same hours our
    // running remainder estimates. Adding both would count those hours twice. Taking the larger
    // keeps the forecast on the safe side: Kaggle may reserve a session's whole cap while our
    // ETA says it ends sooner (then the reservation is what blocks new runs), or the
    // reservation may lag behind a session we already see running.
    // A reservation cannot be used up after the refresh either: each running session burns at
    // most the time left until then (Kaggle's number runs to the sessions' caps).
    const double toRefresh = std::max<qint64>(0, input.now.secsTo(r.refreshTime));
    const double reservedBeforeRefresh =
        std::min(r.reservedSeconds, toRefresh * std::max<qsizetype>(1, p.running.size()));
    r.projectedSeconds = r.usedSeconds +
                         std::max(reservedBeforeRefresh, r.runningRemainderSeconds) +
                         r.queuedSeconds + r.plannedSeconds;
    r.remainingNowSeconds = r.totalSeconds - r.usedSeconds;
    r.remainingAfterSeconds = r.totalSeconds - r.projectedSeconds;
    r.covers = r.remainingAfterSeconds >= 0;
    r.shortfallSeconds = std::max(0.0, -r.remainingAfterSeconds);

    const QString when = formatWhen(r.refreshTime);
    const QString verdict =
        r.covers
            ? QString(QStringLiteral("fits, ") + formatHours(r.remainingAfterSeconds) +
                      QStringLiteral(" to spare"))
            : QString(QStringLiteral("exceeds the quota by ") + formatHours(r.shortfallSeconds));
    r.summary = QStringLiteral("Forecast ") + formatHours(r.projectedSeconds) +
                QStringLiteral(" of ") + formatHours(r.totalSeconds) + u' ' +
                acceleratorLabel(r.accelerator) + QStringLiteral(" by ") + when +
                QStringLiteral(": ") + verdict;
    if (r.source == Source::FallbackWindow) {
        r.summary += QStringLiteral(" (no quota data from Kaggle; assuming a weekly window "
                                    "ending ") +
                     when + QStringLiteral(" and ") + formatHours(r.totalSeconds) +
                     QStringLiteral(")");
    }
    return r;
}

bool QuotaForecast::isLow(const Result &result) const
{
    return m_settings.low.isLow(result.remainingNowSeconds, result.totalSeconds);
}

QuotaForecast::BurnDown QuotaForecast::burnDown(const QList<QuotaSnapshot> &snapshots,
                                                const Input &input, const Result &result)
{
    BurnDown b;
    for (const QuotaSnapshot &s : snapshots) {
        if (!s.at.isValid() || s.at < result.windowStart || s.at > result.now)
            continue;
        const std::optional<AcceleratorQuota> &q =
            result.accelerator == Accelerator::Tpu ? s.stats.tpu : s.stats.gpu;
        if (!q)
            continue;
        b.actual.append({s.at.toUTC(), (q->totalTimeAllowedSeconds - q->timeUsedSeconds) / 3600.0});
    }
    std::stable_sort(b.actual.begin(), b.actual.end(),
                     [](const BurnPoint &x, const BurnPoint &y) { return x.at < y.at; });

    const Projection p = project(input, result.accelerator, result.refreshTime);
    const double span = std::max(0.0, secondsBetween(result.now, result.refreshTime));
    // Sessions (running, and queued assumed to start now) draw one hour per hour until they
    // end; planned runs and any reservation beyond our own estimate have no known timing, so
    // they are spread evenly up to the refresh. The last point then equals remainingAfter.
    QList<double> sessions = p.running + p.queued;
    const double spread =
        p.planned + std::max(0.0, std::min(result.reservedSeconds,
                                           result.projectedSeconds - result.usedSeconds -
                                               result.queuedSeconds - result.plannedSeconds) -
                                      result.runningRemainderSeconds);

    QList<double> breaks{0.0, span};
    for (double d : sessions) {
        if (d > 0 && d < span)
            breaks.append(d);
    }
    std::sort(breaks.begin(), breaks.end());
    breaks.erase(std::unique(breaks.begin(), breaks.end()), breaks.end());

    for (double t : breaks) {
        double remaining = result.remainingNowSeconds;
        for (double d : sessions)
            remaining -= std::min(t, d);
        if (span > 0)
            remaining -= spread * t / span;
        b.forecast.append({result.now.toUTC().addMSecs(qint64(t * 1000.0)), remaining / 3600.0});
    }
    return b;
}

QList<QPointF> QuotaForecast::toChartPoints(const QList<BurnPoint> &points)
{
    QList<QPointF> out;
    out.reserve(points.size());
    for (const BurnPoint &p : points)
        out.append(QPointF(double(p.at.toMSecsSinceEpoch()), p.remainingHours));
    return out;
}

QString QuotaForecast::formatHours(double seconds)
{
    const double tenths = std::round(seconds / 360.0);
    if (tenths == 0)
        return QStringLiteral("0 h");
    if (std::fmod(tenths, 10.0) == 0)
        return QString::number(qint64(tenths / 10)) + QStringLiteral(" h");
    return QString::number(tenths / 10.0, 'f', 1) + QStringLiteral(" h");
}

} // namespace kd
