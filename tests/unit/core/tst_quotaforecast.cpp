// QuotaForecast: running-time attribution, the forecast to the refresh (API numbers and the
// Saturday fallback), the burn-down series and the "quota low" threshold. Every time is fixed.

#include "quotaforecast.h"

#include <QTest>
#include <QTimeZone>

#include <cmath>

using namespace kd;

namespace {

constexpr double kHour = 3600.0;
constexpr qint64 kMin = 60;

const QString kT4 = QStringLiteral("NvidiaTeslaT4");
const QString kTpu = QStringLiteral("Tpu1VmV38");

QDateTime utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0)
{
    return QDateTime(QDate(y, mo, d), QTime(h, mi, s), QTimeZone::utc());
}

/// Wednesday 4 June 2025, 12:00 UTC; the fallback refresh is Saturday 7 June 00:00 UTC.
const QDateTime kNow = utc(2025, 6, 4, 12);
const QDateTime kSaturday = utc(2025, 6, 7);

StatusEvent ev(SessionId id, KernelStatus status, const QDateTime &at)
{
    return StatusEvent{id, status, at};
}

StatusEvent ev(KernelStatus status, qint64 minutesFromNow)
{
    return ev(1, status, kNow.addSecs(minutesFromNow * kMin));
}

SessionRecord session(SessionId id, RunId run, const QString &shape, KernelStatus status,
                      ChainId chain = 0, int timeoutSeconds = 0)
{
    SessionRecord s;
    s.id = id;
    s.runId = run;
    s.machineShape = shape;
    s.status = status;
    s.chainId = chain;
    s.timeoutSeconds = timeoutSeconds;
    s.firstSeen = kNow.addDays(-1);
    return s;
}

QuotaSnapshot snapshot(double usedH, double totalH, double reservedH = 0,
                       const QDateTime &refresh = kSaturday)
{
    QuotaSnapshot snap;
    snap.at = kNow;
    snap.stats.quotaRefreshTime = refresh;
    AcceleratorQuota q;
    q.timeUsedSeconds = usedH * kHour;
    q.totalTimeAllowedSeconds = totalH * kHour;
    q.timeReservedSeconds = reservedH * kHour;
    snap.stats.gpu = q;
    return snap;
}

QuotaForecast::Input apiInput(double usedH, double totalH = 30, double reservedH = 0)
{
    QuotaForecast::Input in;
    in.now = kNow;
    in.snapshot = snapshot(usedH, totalH, reservedH);
    return in;
}

/// A GPU session running since `minutesAgo`, recorded as QUEUED then RUNNING events.
void addRunning(QuotaForecast::Input &in, SessionId id, qint64 minutesAgo,
                const QString &shape = kT4, int timeoutSeconds = 0)
{
    in.sessions.append(session(id, id, shape, KernelStatus::Running, 0, timeoutSeconds));
    in.events.append(ev(id, KernelStatus::Queued, kNow.addSecs(-(minutesAgo + 5) * kMin)));
    in.events.append(ev(id, KernelStatus::Running, kNow.addSecs(-minutesAgo * kMin)));
}

} // namespace

class TestQuotaForecast final : public QObject
{
    Q_OBJECT

private slots:
    void runningSeconds_data();
    void runningSeconds();
    void runningSecondsBetweenClipsToWindow();
    void attributionSplitsSessionsRunsChainsAndAccelerators();
    void attributionClipsToWindowStart();
    void runCap_data();
    void runCap();
    void forecast_data();
    void forecast();
    void summary_data();
    void summary();
    void fallback_data();
    void fallback();
    void fallbackTotalsAreSettable();
    void reservationEndsAtTheRefresh();
    void nextFallbackRefresh_data();
    void nextFallbackRefresh();
    void burnDownActualKeepsCurrentWindowOnly();
    void burnDownForecastIsPiecewiseLinearToRemainingAfter();
    void burnDownChartPoints();
    void lowThreshold_data();
    void lowThreshold();
    void formatHours_data();
    void formatHours();
};

void TestQuotaForecast::runningSeconds_data()
{
    QTest::addColumn<QList<StatusEvent>>("events");
    QTest::addColumn<QDateTime>("now");
    QTest::addColumn<double>("expected");

    using KS = KernelStatus;
    QTest::newRow("no events") << QList<StatusEvent>{} << kNow << 0.0;
    QTest::newRow("queued only") << QList<StatusEvent>{ev(KS::Queued, -60)} << kNow << 0.0;
    QTest::newRow("running then complete")
        << QList<StatusEvent>{ev(KS::Queued, -120), ev(KS::Running, -110), ev(KS::Complete, -50)}
        << kNow << 3600.0;
    QTest::newRow("still running counts to now")
        << QList<StatusEvent>{ev(KS::Queued, -125), ev(KS::Running, -120)} << kNow << 7200.0;
    QTest::newRow("repeated running observations extend one stretch")
        << QList<StatusEvent>{ev(KS::Running, -90), ev(KS::Running, -60), ev(KS::Running, -30),
                              ev(KS::Complete, 0)}
        << kNow << 5400.0;
    QTest::newRow("out of order events are sorted")
        << QList<StatusEvent>{ev(KS::Complete, 0), ev(KS::Running, -90), ev(KS::Queued, -100)}
        << kNow << 5400.0;
    QTest::newRow("running then error")
        << QList<StatusEvent>{ev(KS::Running, -30), ev(KS::Error, -15)} << kNow << 900.0;
    QTest::newRow("cancel requested ends the stretch")
        << QList<StatusEvent>{ev(KS::Running, -30), ev(KS::CancelRequested, -20),
                              ev(KS::CancelAcknowledged, -19)}
        << kNow << 600.0;
    QTest::newRow("two running stretches")
        << QList<StatusEvent>{ev(KS::Running, -60), ev(KS::Queued, -50), ev(KS::Running, -40),
                              ev(KS::Complete, -10)}
        << kNow << 2400.0;
    QTest::newRow("running event after now counts nothing")
        << QList<StatusEvent>{ev(KS::Running, 5)} << kNow << 0.0;
    QTest::newRow("events without a time are ignored")
        << QList<StatusEvent>{ev(KS::Running, -10), StatusEvent{1, KS::Complete, QDateTime()}}
        << kNow << 600.0;
}

void TestQuotaForecast::runningSeconds()
{
    QFETCH(QList<StatusEvent>, events);
    QFETCH(QDateTime, now);
    QFETCH(double, expected);
    QCOMPARE(QuotaForecast::runningSeconds(events, now), expected);
}

void TestQuotaForecast::runningSecondsBetweenClipsToWindow()
{
    const QList<StatusEvent> events{ev(KernelStatus::Running, -120),
                                    ev(KernelStatus::Complete, -60)};
    QCOMPARE(QuotaForecast::runningSecondsBetween(events, kNow.addSecs(-90 * kMin), kNow), 1800.0);
    QCOMPARE(QuotaForecast::runningSecondsBetween(events, kNow.addSecs(-30 * kMin), kNow), 0.0);
    QCOMPARE(QuotaForecast::runningSecondsBetween(events, QDateTime(), kNow.addSecs(-100 * kMin)),
             1200.0);
}

void TestQuotaForecast::attributionSplitsSessionsRunsChainsAndAccelerators()
{
    using KS = KernelStatus;
    QList<SessionRecord> sessions{
        session(1, 10, kT4, KS::Complete, 7),                           // 2 h GPU, chain 7
        session(2, 10, kTpu, KS::Complete, 7),                          // 1 h TPU, chain 7
        session(3, 20, QStringLiteral("NvidiaTeslaP100"), KS::Running), // 30 min GPU, no chain
        session(4, 30, QString(), KS::Complete),                        // CPU: not billed
        session(5, 20, kT4, KS::Complete, 8),                           // endedAt bounds it: 1 h
    };
    sessions[4].endedAt = kNow.addSecs(-240 * kMin);
    const QList<StatusEvent> events{
        ev(1, KS::Running, kNow.addSecs(-600 * kMin)),
        ev(1, KS::Complete, kNow.addSecs(-480 * kMin)),
        ev(2, KS::Running, kNow.addSecs(-400 * kMin)),
        ev(2, KS::Complete, kNow.addSecs(-340 * kMin)),
        ev(3, KS::Running, kNow.addSecs(-30 * kMin)),
        ev(4, KS::Running, kNow.addSecs(-200 * kMin)),
        ev(4, KS::Complete, kNow.addSecs(-140 * kMin)),
        // The monitor missed session 5's end; its endedAt says when it stopped.
        ev(5, KS::Running, kNow.addSecs(-300 * kMin)),
    };

    const QuotaForecast::Attribution a = QuotaForecast::attribute(sessions, events, kNow);

    QCOMPARE(a.perSession.value(1).gpuSeconds, 2 * kHour);
    QCOMPARE(a.perSession.value(1).tpuSeconds, 0.0);
    QCOMPARE(a.perSession.value(2).tpuSeconds, 1 * kHour);
    QCOMPARE(a.perSession.value(3).gpuSeconds, 0.5 * kHour);
    QVERIFY(!a.perSession.contains(4));
    QCOMPARE(a.perSession.value(5).gpuSeconds, 1 * kHour);

    QCOMPARE(a.perRun.value(10), (QuotaForecast::Usage{2 * kHour, 1 * kHour}));
    QCOMPARE(a.perRun.value(20), (QuotaForecast::Usage{1.5 * kHour, 0}));
    QVERIFY(!a.perRun.contains(30));

    QCOMPARE(a.perChain.value(7), (QuotaForecast::Usage{2 * kHour, 1 * kHour}));
    QCOMPARE(a.perChain.value(8), (QuotaForecast::Usage{1 * kHour, 0}));
    QVERIFY(!a.perChain.contains(0));
    QCOMPARE(a.perChain.size(), 2);

    QCOMPARE(a.total, (QuotaForecast::Usage{3.5 * kHour, 1 * kHour}));
    QCOMPARE(a.total.seconds(Accelerator::Gpu), 3.5 * kHour);
    QCOMPARE(a.total.seconds(Accelerator::None), 0.0);
}

void TestQuotaForecast::attributionClipsToWindowStart()
{
    // Friday 23:00 to Saturday 01:00: only the hour after the refresh belongs to this week.
    const QList<SessionRecord> sessions{session(1, 1, kT4, KernelStatus::Complete)};
    const QList<StatusEvent> events{ev(1, KernelStatus::Running, utc(2025, 5, 30, 23)),
                                    ev(1, KernelStatus::Complete, utc(2025, 5, 31, 1))};
    const auto a = QuotaForecast::attribute(sessions, events, kNow, utc(2025, 5, 31));
    QCOMPARE(a.total.gpuSeconds, 1 * kHour);
    QCOMPARE(QuotaForecast::attribute(sessions, events, kNow).total.gpuSeconds, 2 * kHour);
}

void TestQuotaForecast::runCap_data()
{
    QTest::addColumn<Accelerator>("accelerator");
    QTest::addColumn<int>("timeout");
    QTest::addColumn<double>("expected");
    QTest::newRow("gpu platform cap") << Accelerator::Gpu << 0 << 12 * kHour;
    QTest::newRow("tpu platform cap") << Accelerator::Tpu << 0 << 9 * kHour;
    QTest::newRow("cpu like gpu") << Accelerator::None << 0 << 12 * kHour;
    QTest::newRow("timeout lowers") << Accelerator::Gpu << 7200 << 2 * kHour;
    QTest::newRow("timeout cannot raise") << Accelerator::Tpu << 12 * 3600 << 9 * kHour;
}

void TestQuotaForecast::runCap()
{
    QFETCH(Accelerator, accelerator);
    QFETCH(int, timeout);
    QFETCH(double, expected);
    QCOMPARE(QuotaForecast::runCapSeconds(accelerator, timeout), expected);
}

void TestQuotaForecast::forecast_data()
{
    QTest::addColumn<QuotaForecast::Input>("input");
    QTest::addColumn<double>("running");
    QTest::addColumn<double>("queued");
    QTest::addColumn<double>("planned");
    QTest::addColumn<double>("projected");
    QTest::addColumn<bool>("covers");

    {
        QTest::newRow("idle: used only") << apiInput(10) << 0.0 << 0.0 << 0.0 << 10 * kHour << true;
    }
    {
        auto in = apiInput(10);
        addRunning(in, 1, 120);
        QTest::newRow("running to the 12 h cap")
            << in << 10 * kHour << 0.0 << 0.0 << 20 * kHour << true;
    }
    {
        auto in = apiInput(10);
        addRunning(in, 1, 120, kT4, 3 * 3600);
        QTest::newRow("session timeout lowers the cap")
            << in << 1 * kHour << 0.0 << 0.0 << 11 * kHour << true;
    }
    {
        auto in = apiInput(10);
        addRunning(in, 1, 120);
        in.etaSeconds.insert(1, 1800);
        QTest::newRow("metrics eta ends it sooner")
            << in << 0.5 * kHour << 0.0 << 0.0 << 10.5 * kHour << true;
    }
    {
        auto in = apiInput(10);
        addRunning(in, 1, 120);
        in.etaSeconds.insert(1, 20 * kHour);
        QTest::newRow("eta beyond the cap is capped")
            << in << 10 * kHour << 0.0 << 0.0 << 20 * kHour << true;
    }
    {
        auto in = apiInput(10);
        in.snapshot->stats.quotaRefreshTime = kNow.addSecs(4 * 3600);
        addRunning(in, 1, 120);
        QTest::newRow("refresh before the cap clips")
            << in << 4 * kHour << 0.0 << 0.0 << 14 * kHour << true;
    }
    {
        auto in = apiInput(10, 30, 11);
        addRunning(in, 1, 120);
        in.etaSeconds.insert(1, 3600);
        QTest::newRow("reservation above our remainder wins")
            << in << 1 * kHour << 0.0 << 0.0 << 21 * kHour << true;
    }
    {
        auto in = apiInput(10, 30, 2);
        addRunning(in, 1, 120);
        QTest::newRow("remainder above the reservation wins, not both")
            << in << 10 * kHour << 0.0 << 0.0 << 20 * kHour << true;
    }
    {
        auto in = apiInput(10);
        in.sessions.append(session(2, 2, kT4, KernelStatus::Queued));
        QTest::newRow("queued runs its full cap by default")
            << in << 0.0 << 12 * kHour << 0.0 << 22 * kHour << true;
    }
    {
        auto in = apiInput(10);
        in.sessions.append(session(2, 2, kT4, KernelStatus::Queued));
        in.expectedRunSeconds.insert(2, 3 * kHour);
        QTest::newRow("queued with an expected run time")
            << in << 0.0 << 3 * kHour << 0.0 << 13 * kHour << true;
    }
    {
        auto in = apiInput(10);
        in.sessions.append(session(2, 2, kT4, KernelStatus::Queued, 0, 2 * 3600));
        QTest::newRow("queued capped by its timeout")
            << in << 0.0 << 2 * kHour << 0.0 << 12 * kHour << true;
    }
    {
        auto in = apiInput(10);
        in.snapshot->stats.quotaRefreshTime = kNow.addSecs(5 * 3600);
        in.sessions.append(session(2, 2, kT4, KernelStatus::Queued));
        QTest::newRow("queued clipped at the refresh")
            << in << 0.0 << 5 * kHour << 0.0 << 15 * kHour << true;
    }
    {
        auto in = apiInput(10);
        in.planned = {{Accelerator::Gpu, 4 * kHour},
                      {Accelerator::Gpu, 20 * kHour},
                      {Accelerator::Tpu, 5 * kHour},
                      {Accelerator::None, 5 * kHour}};
        QTest::newRow("planned runs, each capped, other accelerators ignored")
            << in << 0.0 << 0.0 << 16 * kHour << 26 * kHour << true;
    }
    {
        auto in = apiInput(25);
        addRunning(in, 1, 120);
        QTest::newRow("exceeds") << in << 10 * kHour << 0.0 << 0.0 << 35 * kHour << false;
    }
    {
        auto in = apiInput(10);
        addRunning(in, 1, 60, kTpu);
        in.sessions.append(session(2, 2, QString(), KernelStatus::Queued));
        QTest::newRow("tpu and cpu sessions do not touch the gpu forecast")
            << in << 0.0 << 0.0 << 0.0 << 10 * kHour << true;
    }
    {
        auto in = apiInput(10);
        in.accelerator = Accelerator::Tpu;
        AcceleratorQuota tpu;
        tpu.timeUsedSeconds = 2 * kHour;
        tpu.totalTimeAllowedSeconds = 20 * kHour;
        in.snapshot->stats.tpu = tpu;
        addRunning(in, 1, 60, kTpu);
        addRunning(in, 2, 60, kT4);
        QTest::newRow("tpu forecast uses the 9 h cap")
            << in << 8 * kHour << 0.0 << 0.0 << 10 * kHour << true;
    }
    {
        auto in = apiInput(10);
        in.sessions.append(session(1, 1, kT4, KernelStatus::Complete));
        in.sessions.append(session(2, 2, kT4, KernelStatus::Error));
        QTest::newRow("finished sessions project nothing")
            << in << 0.0 << 0.0 << 0.0 << 10 * kHour << true;
    }
    {
        auto in = apiInput(10);
        SessionRecord s = session(1, 1, kT4, KernelStatus::Running);
        s.runningSince = kNow.addSecs(-9 * 3600);
        in.sessions.append(s);
        QTest::newRow("running start from the record when no events")
            << in << 3 * kHour << 0.0 << 0.0 << 13 * kHour << true;
    }
    {
        auto in = apiInput(10);
        addRunning(in, 1, 13 * 60);
        QTest::newRow("past its cap: nothing left to use")
            << in << 0.0 << 0.0 << 0.0 << 10 * kHour << true;
    }
}

void TestQuotaForecast::forecast()
{
    QFETCH(QuotaForecast::Input, input);
    QFETCH(double, running);
    QFETCH(double, queued);
    QFETCH(double, planned);
    QFETCH(double, projected);
    QFETCH(bool, covers);

    const QuotaForecast::Result r = QuotaForecast().forecast(input);
    QCOMPARE(r.source, QuotaForecast::Source::Api);
    QCOMPARE(r.runningRemainderSeconds, running);
    QCOMPARE(r.queuedSeconds, queued);
    QCOMPARE(r.plannedSeconds, planned);
    QCOMPARE(r.projectedSeconds, projected);
    QCOMPARE(r.covers, covers);
    QCOMPARE(r.remainingAfterSeconds, r.totalSeconds - projected);
    QCOMPARE(r.shortfallSeconds, covers ? 0.0 : projected - r.totalSeconds);
    QCOMPARE(r.remainingNowSeconds, r.totalSeconds - r.usedSeconds);
    QCOMPARE(r.refreshTime, input.snapshot->stats.quotaRefreshTime);
    QCOMPARE(r.windowStart, r.refreshTime.addDays(-7));
}

void TestQuotaForecast::summary_data()
{
    QTest::addColumn<QuotaForecast::Input>("input");
    QTest::addColumn<QString>("summary");
    QTest::addColumn<double>("remainingAfter");

    {
        auto in = apiInput(17.5);
        addRunning(in, 1, 120);
        QTest::newRow("fits") << in
                              << QStringLiteral("Forecast 27.5 h of 30 h GPU by Sat 00:00 UTC: "
                                                "fits, 2.5 h to spare")
                              << 2.5 * kHour;
    }
    {
        auto in = apiInput(24.2);
        addRunning(in, 1, 120);
        QTest::newRow("exceeds") << in
                                 << QStringLiteral("Forecast 34.2 h of 30 h GPU by Sat 00:00 UTC: "
                                                   "exceeds the quota by 4.2 h")
                                 << -4.2 * kHour;
    }
    {
        auto in = apiInput(30);
        QTest::newRow("exactly full still fits")
            << in
            << QStringLiteral("Forecast 30 h of 30 h GPU by Sat 00:00 UTC: fits, 0 h to spare")
            << 0.0;
    }
    {
        auto in = apiInput(1);
        in.snapshot->stats.quotaRefreshTime = utc(2025, 6, 5, 18, 30);
        QTest::newRow("refresh time from the api")
            << in
            << QStringLiteral("Forecast 1 h of 30 h GPU by Thu 18:30 UTC: fits, 29 h to spare")
            << 29 * kHour;
    }
}

void TestQuotaForecast::summary()
{
    QFETCH(QuotaForecast::Input, input);
    QFETCH(QString, summary);
    QFETCH(double, remainingAfter);
    const auto r = QuotaForecast().forecast(input);
    QCOMPARE(r.summary, summary);
    QVERIFY(std::abs(r.remainingAfterSeconds - remainingAfter) < 1e-6);
}

void TestQuotaForecast::fallback_data()
{
    QTest::addColumn<QuotaForecast::Input>("input");
    QTest::addColumn<double>("used");
    QTest::addColumn<double>("total");
    QTest::addColumn<QString>("summary");

    const auto history = [](QuotaForecast::Input in) {
        // Previous window's Friday 23:00 to this window's Saturday 01:00: 1 h counts; a TPU
        // session and a running GPU session (1 h so far) this week.
        in.sessions = {session(1, 1, kT4, KernelStatus::Complete),
                       session(2, 2, kTpu, KernelStatus::Complete),
                       session(3, 3, kT4, KernelStatus::Running)};
        in.events = {ev(1, KernelStatus::Running, utc(2025, 5, 30, 23)),
                     ev(1, KernelStatus::Complete, utc(2025, 5, 31, 1)),
                     ev(2, KernelStatus::Running, utc(2025, 6, 2, 8)),
                     ev(2, KernelStatus::Complete, utc(2025, 6, 2, 12)),
                     ev(3, KernelStatus::Running, kNow.addSecs(-3600))};
        return in;
    };
    const QString gpuNote = QStringLiteral(" (no quota data from Kaggle; assuming a weekly window "
                                           "ending Sat 00:00 UTC and 30 h)");

    QuotaForecast::Input none;
    none.now = kNow;
    QTest::newRow("no snapshot")
        << history(none) << 2 * kHour << 30 * kHour
        << QStringLiteral("Forecast 13 h of 30 h GPU by Sat 00:00 UTC: fits, 17 h to spare") +
               gpuNote;

    auto noGpu = apiInput(10);
    noGpu.snapshot->stats.gpu.reset();
    QTest::newRow("snapshot without gpuQuota")
        << history(noGpu) << 2 * kHour << 30 * kHour
        << QStringLiteral("Forecast 13 h of 30 h GPU by Sat 00:00 UTC: fits, 17 h to spare") +
               gpuNote;

    auto stale = apiInput(29);
    stale.snapshot->stats.quotaRefreshTime = utc(2025, 5, 31);
    QTest::newRow("snapshot from last week")
        << history(stale) << 2 * kHour << 30 * kHour
        << QStringLiteral("Forecast 13 h of 30 h GPU by Sat 00:00 UTC: fits, 17 h to spare") +
               gpuNote;

    auto tpu = history(none);
    tpu.accelerator = Accelerator::Tpu;
    QTest::newRow("tpu default total")
        << tpu << 4 * kHour << 20 * kHour
        << QStringLiteral("Forecast 4 h of 20 h TPU by Sat 00:00 UTC: fits, 16 h to spare (no "
                          "quota data from Kaggle; assuming a weekly window ending Sat 00:00 "
                          "UTC and 20 h)");
}

void TestQuotaForecast::fallback()
{
    QFETCH(QuotaForecast::Input, input);
    QFETCH(double, used);
    QFETCH(double, total);
    QFETCH(QString, summary);

    const auto r = QuotaForecast().forecast(input);
    QCOMPARE(r.source, QuotaForecast::Source::FallbackWindow);
    QCOMPARE(r.refreshTime, kSaturday);
    QCOMPARE(r.windowStart, utc(2025, 5, 31));
    QCOMPARE(r.usedSeconds, used);
    QCOMPARE(r.reservedSeconds, 0.0);
    QCOMPARE(r.totalSeconds, total);
    QCOMPARE(r.summary, summary);
}

void TestQuotaForecast::fallbackTotalsAreSettable()
{
    QuotaForecast f;
    f.setFallbackTotalSeconds(Accelerator::Gpu, 25 * kHour);
    QCOMPARE(f.fallbackTotalSeconds(Accelerator::Gpu), 25 * kHour);
    QCOMPARE(f.fallbackTotalSeconds(Accelerator::Tpu), 20 * kHour);
    QuotaForecast::Input in;
    in.now = kNow;
    const auto r = f.forecast(in);
    QCOMPARE(r.totalSeconds, 25 * kHour);
    QVERIFY2(r.summary.endsWith(QStringLiteral("ending Sat 00:00 UTC and 25 h)")),
             qPrintable(r.summary));
}

void TestQuotaForecast::nextFallbackRefresh_data()
{
    QTest::addColumn<QDateTime>("now");
    QTest::addColumn<QDateTime>("expected");

    QTest::newRow("wednesday") << kNow << kSaturday;
    QTest::newRow("friday last second") << utc(2025, 6, 6, 23, 59, 59) << kSaturday;
    QTest::newRow("saturday 00:00 exactly: next week") << kSaturday << utc(2025, 6, 14);
    QTest::newRow("saturday 00:00:01") << utc(2025, 6, 7, 0, 0, 1) << utc(2025, 6, 14);
    QTest::newRow("saturday noon") << utc(2025, 6, 7, 12) << utc(2025, 6, 14);
    QTest::newRow("sunday") << utc(2025, 6, 8) << utc(2025, 6, 14);
    QTest::newRow("across the year") << utc(2025, 12, 31, 9) << utc(2026, 1, 3);
    QTest::newRow("local time east of utc is still friday in utc")
        << QDateTime(QDate(2025, 6, 7), QTime(1, 0), QTimeZone(2 * 3600)) << kSaturday;
    QTest::newRow("local time west of utc is already saturday in utc")
        << QDateTime(QDate(2025, 6, 6), QTime(21, 0), QTimeZone(-5 * 3600)) << utc(2025, 6, 14);
}

void TestQuotaForecast::nextFallbackRefresh()
{
    QFETCH(QDateTime, now);
    QFETCH(QDateTime, expected);
    const QDateTime next = QuotaForecast::nextFallbackRefresh(now);
    QCOMPARE(next, expected);
    QCOMPARE(next.toUTC().date().dayOfWeek(), int(Qt::Saturday));
    QCOMPARE(next.toUTC().time(), QTime(0, 0));
}

void TestQuotaForecast::burnDownActualKeepsCurrentWindowOnly()
{
    auto in = apiInput(10);
    const auto r = QuotaForecast().forecast(in);

    QList<QuotaSnapshot> snaps;
    const auto add = [&](const QDateTime &at, double usedH) {
        QuotaSnapshot s = snapshot(usedH, 30);
        s.at = at;
        snaps.append(s);
    };
    add(utc(2025, 5, 30, 12), 28); // last week: excluded
    add(utc(2025, 5, 31), 0);      // the refresh itself: included
    add(utc(2025, 6, 2, 6), 4);
    add(utc(2025, 6, 3, 18), 8.5);
    add(kNow.addSecs(60), 10); // after now: excluded
    QuotaSnapshot noGpu;
    noGpu.at = utc(2025, 6, 1);
    snaps.append(noGpu); // without gpu numbers: excluded

    const auto b = QuotaForecast::burnDown(snaps, in, r);
    const QList<QuotaForecast::BurnPoint> expected{
        {utc(2025, 5, 31), 30}, {utc(2025, 6, 2, 6), 26}, {utc(2025, 6, 3, 18), 21.5}};
    QCOMPARE(b.actual, expected);
}

void TestQuotaForecast::burnDownForecastIsPiecewiseLinearToRemainingAfter()
{
    auto in = apiInput(10);
    addRunning(in, 1, 60); // ETA 2 h
    in.etaSeconds.insert(1, 2 * kHour);
    addRunning(in, 2, 120); // 10 h to the cap
    in.planned = {{Accelerator::Gpu, 6 * kHour}};
    const auto r = QuotaForecast().forecast(in);
    QCOMPARE(r.projectedSeconds, 28 * kHour);

    const auto b = QuotaForecast::burnDown({}, in, r);
    QVERIFY(b.actual.isEmpty());
    // 60 h until the refresh; the planned 6 h are spread evenly over them (0.1 h per hour).
    const QList<QuotaForecast::BurnPoint> expected{
        {kNow, 20.0},
        {kNow.addSecs(2 * 3600), 20.0 - 2 - 2 - 0.2},
        {kNow.addSecs(10 * 3600), 20.0 - 2 - 10 - 1.0},
        {kSaturday, 20.0 - 2 - 10 - 6},
    };
    QCOMPARE(b.forecast.size(), expected.size());
    for (qsizetype i = 0; i < expected.size(); ++i) {
        QCOMPARE(b.forecast[i].at, expected[i].at);
        QVERIFY2(std::abs(b.forecast[i].remainingHours - expected[i].remainingHours) < 1e-9,
                 qPrintable(QString::number(b.forecast[i].remainingHours)));
    }
    QCOMPARE(b.forecast.last().remainingHours * kHour, r.remainingAfterSeconds);
}

void TestQuotaForecast::burnDownChartPoints()
{
    const QList<QuotaForecast::BurnPoint> points{{kNow, 20}, {kSaturday, 2.5}};
    const QList<QPointF> chart = QuotaForecast::toChartPoints(points);
    QCOMPARE(chart.size(), 2);
    QCOMPARE(chart[0], QPointF(double(kNow.toMSecsSinceEpoch()), 20));
    QCOMPARE(chart[1], QPointF(double(kSaturday.toMSecsSinceEpoch()), 2.5));
}

void TestQuotaForecast::lowThreshold_data()
{
    QTest::addColumn<double>("remainingH");
    QTest::addColumn<double>("totalH");
    QTest::addColumn<double>("fraction");
    QTest::addColumn<double>("absoluteH");
    QTest::addColumn<bool>("low");

    QTest::newRow("plenty") << 20.0 << 30.0 << 0.1 << 3.0 << false;
    QTest::newRow("under the 3 h floor") << 2.9 << 30.0 << 0.1 << 3.0 << true;
    QTest::newRow("at the floor is not low") << 3.0 << 30.0 << 0.1 << 3.0 << false;
    QTest::newRow("under 10 % of a large total") << 4.5 << 50.0 << 0.1 << 3.0 << true;
    QTest::newRow("negative remaining") << -1.0 << 30.0 << 0.1 << 3.0 << true;
    QTest::newRow("no quota at all") << 0.0 << 0.0 << 0.1 << 3.0 << false;
    QTest::newRow("configured 25 %") << 7.0 << 30.0 << 0.25 << 0.0 << true;
    QTest::newRow("configured floor off") << 2.0 << 30.0 << 0.05 << 0.0 << false;
}

void TestQuotaForecast::lowThreshold()
{
    QFETCH(double, remainingH);
    QFETCH(double, totalH);
    QFETCH(double, fraction);
    QFETCH(double, absoluteH);
    QFETCH(bool, low);
    QuotaForecast::LowThreshold t;
    t.fraction = fraction;
    t.absoluteSeconds = absoluteH * kHour;
    QCOMPARE(t.isLow(remainingH * kHour, totalH * kHour), low);

    QuotaForecast::Settings settings;
    settings.low = t;
    QuotaForecast::Result r;
    r.totalSeconds = totalH * kHour;
    r.remainingNowSeconds = remainingH * kHour;
    QCOMPARE(QuotaForecast(settings).isLow(r), low);
}

void TestQuotaForecast::formatHours_data()
{
    QTest::addColumn<double>("seconds");
    QTest::addColumn<QString>("text");
    QTest::newRow("zero") << 0.0 << QStringLiteral("0 h");
    QTest::newRow("tiny negative is not -0") << -10.0 << QStringLiteral("0 h");
    QTest::newRow("whole") << 30 * kHour << QStringLiteral("30 h");
    QTest::newRow("tenths") << 27.5 * kHour << QStringLiteral("27.5 h");
    QTest::newRow("rounds") << 4.24 * kHour << QStringLiteral("4.2 h");
    QTest::newRow("negative") << -4.2 * kHour << QStringLiteral("-4.2 h");
}

void TestQuotaForecast::formatHours()
{
    QFETCH(double, seconds);
    QFETCH(QString, text);
    QCOMPARE(QuotaForecast::formatHours(seconds), text);
}

void TestQuotaForecast::reservationEndsAtTheRefresh()
{
    // Kaggle reserves a session's whole cap, but the week ends in one hour: only that hour of
    // the reservation can still count against this week's quota.
    QuotaForecast::Input in = apiInput(20, 30, 11);
    in.snapshot->stats.quotaRefreshTime = kNow.addSecs(3600);
    addRunning(in, 1, 30);
    const auto r = QuotaForecast().forecast(in);
    QCOMPARE(r.reservedSeconds, 11.0 * kHour); // shown as Kaggle says
    QCOMPARE(r.projectedSeconds, 21.0 * kHour);
    QVERIFY(r.covers);
}

QTEST_APPLESS_MAIN(TestQuotaForecast)
#include "tst_quotaforecast.moc"
