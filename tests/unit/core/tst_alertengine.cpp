// AlertEngine: every alert kind fires exactly once on its transition, never on a repeat of
// the same input, and muted or snoozed alerts are dropped without bursting out later.

#include "alertengine.h"

#include <QSignalSpy>
#include <QTest>
#include <QTimeZone>

#include <limits>

using namespace kd;

namespace {

constexpr double kHour = 3600.0;
using KS = KernelStatus;

const QDateTime kT0(QDate(2025, 6, 4), QTime(10, 0), QTimeZone::utc());

QDateTime at(qint64 minutes)
{
    return kT0.addSecs(minutes * 60);
}

WatchedRun makeRun(RunId id = 1, const QString &shape = QStringLiteral("NvidiaTeslaT4"))
{
    WatchedRun run;
    run.id = id;
    run.ref = KernelRef{QStringLiteral("alice"), QStringLiteral("bert-imdb")};
    run.machineShape = shape;
    return run;
}

SessionRecord makeSession(KernelStatus status, SessionId id = 11, RunId run = 1,
                          const QString &shape = QStringLiteral("NvidiaTeslaT4"))
{
    SessionRecord s;
    s.id = id;
    s.runId = run;
    s.status = status;
    s.machineShape = shape;
    s.firstSeen = kT0.addSecs(-600);
    return s;
}

LogEvent line(const QString &text, LogEvent::Stream stream = LogEvent::Stream::Stdout,
              double time = 12.5)
{
    return LogEvent{stream, time, text};
}

Alert alertAt(const QSignalSpy &spy, qsizetype i)
{
    return spy.at(i).at(0).value<Alert>();
}

QuotaForecast::Result
quota(double remainingH, double totalH = 30, Accelerator accelerator = Accelerator::Gpu,
      const QDateTime &refresh = QDateTime(QDate(2025, 6, 7), QTime(0, 0), QTimeZone::utc()))
{
    QuotaForecast::Result r;
    r.accelerator = accelerator;
    r.totalSeconds = totalH * kHour;
    r.usedSeconds = (totalH - remainingH) * kHour;
    r.remainingNowSeconds = remainingH * kHour;
    r.refreshTime = refresh;
    r.summary = QStringLiteral("Forecast summary.");
    return r;
}

/// Starts session 11 of run 1 running at kT0 (QUEUED -> RUNNING).
void startRunning(AlertEngine &engine, const WatchedRun &run = makeRun(),
                  const SessionRecord &session = makeSession(KS::Running))
{
    engine.onStatus(run, session, KS::Queued, {}, kT0);
}

} // namespace

class TestAlertEngine final : public QObject
{
    Q_OBJECT

private slots:
    void metatypeIsRegistered();
    void terminalTransitions_data();
    void terminalTransitions();
    void firstSightingOfAnEndedRunIsSilent();
    void cancelRequestedWaitsForAcknowledgement();
    void failedTextCarriesMessageAndStderr();
    void failedWithoutMessage();
    void stuck_data();
    void stuck();
    void stuckFiresAgainOnlyAfterResumeAndStop();
    void stuckOnlyWhileRunning();
    void timeCap_data();
    void timeCap();
    void logPatterns_data();
    void logPatterns();
    void logPatternOncePerSessionPerPattern();
    void userPatterns();
    void nanLossFromMetrics();
    void suppression_data();
    void suppression();
    void suppressedAlertsDoNotBurstOutLater();
    void quotaLowHysteresis();
    void quotaLowPerAcceleratorAndWindow();
    void quotaLowFromApiNumbers();
    void forgetSessionFreesState();
    void idsIncrease();
};

void TestAlertEngine::metatypeIsRegistered()
{
    AlertEngine engine;
    QVERIFY(QMetaType::fromName("kd::Alert").isValid());
}

void TestAlertEngine::terminalTransitions_data()
{
    QTest::addColumn<KernelStatus>("previous");
    QTest::addColumn<KernelStatus>("status");
    QTest::addColumn<AlertKind>("kind");
    QTest::addColumn<QString>("title");
    QTest::addColumn<QString>("text");

    QTest::newRow("finished") << KS::Running << KS::Complete << AlertKind::Finished
                              << QStringLiteral("alice/bert-imdb finished")
                              << QStringLiteral("The run completed after 1 h 30 min of running.");
    QTest::newRow("failed") << KS::Running << KS::Error << AlertKind::Failed
                            << QStringLiteral("alice/bert-imdb failed")
                            << QStringLiteral("Kaggle gave no failure message.");
    QTest::newRow("cancel acknowledged after request")
        << KS::CancelRequested << KS::CancelAcknowledged << AlertKind::Cancelled
        << QStringLiteral("alice/bert-imdb was cancelled")
        << QStringLiteral("The run was cancelled (CANCEL_ACKNOWLEDGED).");
    QTest::newRow("cancel acknowledged directly")
        << KS::Running << KS::CancelAcknowledged << AlertKind::Cancelled
        << QStringLiteral("alice/bert-imdb was cancelled")
        << QStringLiteral("The run was cancelled (CANCEL_ACKNOWLEDGED).");
}

void TestAlertEngine::terminalTransitions()
{
    QFETCH(KernelStatus, previous);
    QFETCH(KernelStatus, status);
    QFETCH(AlertKind, kind);
    QFETCH(QString, title);
    QFETCH(QString, text);

    AlertEngine engine;
    QSignalSpy spy(&engine, &AlertEngine::alertRaised);
    startRunning(engine);
    QCOMPARE(spy.count(), 0);

    const SessionRecord ended = makeSession(status);
    engine.onStatus(makeRun(), ended, previous, {}, at(90));
    QCOMPARE(spy.count(), 1);
    const Alert a = alertAt(spy, 0);
    QCOMPARE(a.kind, kind);
    QCOMPARE(a.runId, RunId(1));
    QCOMPARE(a.sessionId, SessionId(11));
    QCOMPARE(a.at, at(90));
    QCOMPARE(a.title, title);
    QCOMPARE(a.text, text);

    // The monitor reports the same transition again, then the steady terminal state.
    engine.onStatus(makeRun(), ended, previous, {}, at(91));
    engine.onStatus(makeRun(), ended, status, {}, at(92));
    engine.tick(at(24 * 60));
    QCOMPARE(spy.count(), 1);
}

void TestAlertEngine::firstSightingOfAnEndedRunIsSilent()
{
    AlertEngine engine;
    QSignalSpy spy(&engine, &AlertEngine::alertRaised);
    engine.onStatus(makeRun(), makeSession(KS::Complete), KS::Complete, {}, kT0);
    engine.onStatus(makeRun(), makeSession(KS::Error, 12), KS::Error, {}, kT0);
    QCOMPARE(spy.count(), 0);
}

void TestAlertEngine::cancelRequestedWaitsForAcknowledgement()
{
    AlertEngine engine;
    QSignalSpy spy(&engine, &AlertEngine::alertRaised);
    startRunning(engine);
    engine.onStatus(makeRun(), makeSession(KS::CancelRequested), KS::Running, {}, at(5));
    engine.onStatus(makeRun(), makeSession(KS::CancelRequested), KS::CancelRequested, {}, at(6));
    QCOMPARE(spy.count(), 0);
    engine.onStatus(makeRun(), makeSession(KS::CancelAcknowledged), KS::CancelRequested, {}, at(7));
    QCOMPARE(spy.count(), 1);
    QCOMPARE(alertAt(spy, 0).kind, AlertKind::Cancelled);
}

void TestAlertEngine::failedTextCarriesMessageAndStderr()
{
    AlertEngine engine;
    QSignalSpy spy(&engine, &AlertEngine::alertRaised);
    startRunning(engine);
    SessionRecord failed = makeSession(KS::Error);
    failed.failureMessage = QStringLiteral("Your notebook tried to allocate more memory than is "
                                           "available. It has restarted.");
    const QStringList stderrTail{
        QStringLiteral("  File \"train.py\", line 88, in <module>"),
        QStringLiteral("torch.OutOfMemoryError: CUDA out of memory."),
    };
    engine.onStatus(makeRun(), failed, KS::Running, stderrTail, at(42));
    QCOMPARE(spy.count(), 1);
    const Alert a = alertAt(spy, 0);
    QCOMPARE(a.kind, AlertKind::Failed);
    QCOMPARE(a.title, QStringLiteral("alice/bert-imdb failed"));
    QCOMPARE(a.text, QStringLiteral("Your notebook tried to allocate more memory than is "
                                    "available. It has restarted.\n\nLast stderr lines:\n"
                                    "  File \"train.py\", line 88, in <module>\n"
                                    "torch.OutOfMemoryError: CUDA out of memory."));
}

void TestAlertEngine::failedWithoutMessage()
{
    AlertEngine engine;
    QSignalSpy spy(&engine, &AlertEngine::alertRaised);
    WatchedRun run = makeRun();
    run.ref = {};
    run.title = QStringLiteral("My BERT run");
    engine.onStatus(run, makeSession(KS::Error), KS::Queued, {QStringLiteral("Killed")}, kT0);
    QCOMPARE(spy.count(), 1);
    QCOMPARE(alertAt(spy, 0).title, QStringLiteral("My BERT run failed"));
    QCOMPARE(alertAt(spy, 0).text,
             QStringLiteral("Kaggle gave no failure message.\n\nLast stderr lines:\nKilled"));
}

void TestAlertEngine::stuck_data()
{
    QTest::addColumn<int>("defaultMinutes");
    QTest::addColumn<int>("runMinutes");
    QTest::addColumn<int>("firesAt");

    QTest::newRow("default 20 min") << 20 << 0 << 20;
    QTest::newRow("run override 5 min") << 20 << 5 << 5;
    QTest::newRow("run override longer") << 20 << 45 << 45;
    QTest::newRow("changed default") << 60 << 0 << 60;
}

void TestAlertEngine::stuck()
{
    QFETCH(int, defaultMinutes);
    QFETCH(int, runMinutes);
    QFETCH(int, firesAt);

    AlertEngine engine;
    AlertEngine::Defaults d;
    d.stuckMinutes = defaultMinutes;
    engine.setDefaults(d);
    QSignalSpy spy(&engine, &AlertEngine::alertRaised);
    WatchedRun run = makeRun();
    run.settings.stuckMinutes = runMinutes;
    startRunning(engine, run);
    engine.onLogLines(run, 11, {line(QStringLiteral("epoch 1"))}, at(3));

    engine.tick(at(3 + firesAt - 1));
    QCOMPARE(spy.count(), 0);
    engine.tick(at(3 + firesAt));
    QCOMPARE(spy.count(), 1);
    const Alert a = alertAt(spy, 0);
    QCOMPARE(a.kind, AlertKind::Stuck);
    QCOMPARE(a.title, QStringLiteral("alice/bert-imdb may be stuck"));
    QVERIFY2(a.text.startsWith(QStringLiteral("No new log output for ")), qPrintable(a.text));
    QVERIFY2(a.text.endsWith(QStringLiteral(" while running (since 10:03 UTC).")),
             qPrintable(a.text));

    engine.tick(at(3 + firesAt + 1));
    engine.tick(at(3 + firesAt * 3));
    QCOMPARE(spy.count(), 1);
}

void TestAlertEngine::stuckFiresAgainOnlyAfterResumeAndStop()
{
    AlertEngine engine;
    QSignalSpy spy(&engine, &AlertEngine::alertRaised);
    startRunning(engine);

    engine.tick(at(20));
    QCOMPARE(spy.count(), 1);
    QCOMPARE(alertAt(spy, 0).text,
             QStringLiteral("No new log output for 20 min while running (since 10:00 UTC)."));
    // Still silent: the same episode.
    engine.tick(at(60));
    // A running status poll is not a sign of life in the log.
    engine.onStatus(makeRun(), makeSession(KS::Running), KS::Running, {}, at(61));
    engine.tick(at(62));
    QCOMPARE(spy.count(), 1);

    // An empty batch is not output either.
    engine.onLogLines(makeRun(), 11, {}, at(63));
    engine.tick(at(64));
    QCOMPARE(spy.count(), 1);

    engine.onLogLines(makeRun(), 11, {line(QStringLiteral("step 500"))}, at(70));
    engine.tick(at(89));
    QCOMPARE(spy.count(), 1);
    engine.tick(at(90));
    QCOMPARE(spy.count(), 2);
    QCOMPARE(alertAt(spy, 1).kind, AlertKind::Stuck);
    engine.tick(at(200));
    QCOMPARE(spy.count(), 2);
}

void TestAlertEngine::stuckOnlyWhileRunning()
{
    AlertEngine engine;
    QSignalSpy spy(&engine, &AlertEngine::alertRaised);
    engine.onStatus(makeRun(), makeSession(KS::Queued), KS::Queued, {}, kT0);
    engine.tick(at(120));
    QCOMPARE(spy.count(), 0);

    // Silence counts from the start of RUNNING, not from when it was queued.
    engine.onStatus(makeRun(), makeSession(KS::Running), KS::Queued, {}, at(120));
    engine.tick(at(139));
    QCOMPARE(spy.count(), 0);

    engine.onStatus(makeRun(), makeSession(KS::Complete), KS::Running, {}, at(139));
    QCOMPARE(spy.count(), 1);
    QCOMPARE(alertAt(spy, 0).kind, AlertKind::Finished);
    engine.tick(at(500));
    QCOMPARE(spy.count(), 1);
}

void TestAlertEngine::timeCap_data()
{
    QTest::addColumn<QString>("shape");
    QTest::addColumn<int>("timeoutSeconds");
    QTest::addColumn<int>("warningMinutes");
    QTest::addColumn<int>("warnsAtMinute");
    QTest::addColumn<QString>("text");

    QTest::newRow("gpu 12 h") << QStringLiteral("NvidiaTeslaT4") << 0 << 30 << 11 * 60 + 30
                              << QStringLiteral("Kaggle stops the run at 22:00 UTC (the 12 h GPU "
                                                "run cap, in 30 min). Anything not saved to "
                                                "/kaggle/working by then is lost.");
    QTest::newRow("tpu 9 h") << QStringLiteral("Tpu1VmV38") << 0 << 30 << 8 * 60 + 30
                             << QStringLiteral("Kaggle stops the run at 19:00 UTC (the 9 h TPU "
                                               "run cap, in 30 min). Anything not saved to "
                                               "/kaggle/working by then is lost.");
    QTest::newRow("session timeout") << QStringLiteral("NvidiaTeslaP100") << 2 * 3600 << 30 << 90
                                     << QStringLiteral("Kaggle stops the run at 12:00 UTC (its 2 h "
                                                       "session timeout, in 30 min). Anything "
                                                       "not saved to /kaggle/working by then is "
                                                       "lost.");
    QTest::newRow("warning 60 min") << QStringLiteral("NvidiaTeslaT4") << 0 << 60 << 11 * 60
                                    << QStringLiteral("Kaggle stops the run at 22:00 UTC (the 12 h "
                                                      "GPU run cap, in 1 h). Anything not saved "
                                                      "to /kaggle/working by then is lost.");
}

void TestAlertEngine::timeCap()
{
    QFETCH(QString, shape);
    QFETCH(int, timeoutSeconds);
    QFETCH(int, warningMinutes);
    QFETCH(int, warnsAtMinute);
    QFETCH(QString, text);

    AlertEngine engine;
    AlertEngine::Defaults d;
    d.stuckMinutes = 0; // only the time cap in this test
    d.timeCapWarningMinutes = warningMinutes;
    engine.setDefaults(d);
    QSignalSpy spy(&engine, &AlertEngine::alertRaised);

    SessionRecord s = makeSession(KS::Running, 11, 1, shape);
    s.timeoutSeconds = timeoutSeconds;
    startRunning(engine, makeRun(1, shape), s);

    engine.tick(at(warnsAtMinute - 1));
    QCOMPARE(spy.count(), 0);
    engine.tick(at(warnsAtMinute));
    QCOMPARE(spy.count(), 1);
    const Alert a = alertAt(spy, 0);
    QCOMPARE(a.kind, AlertKind::TimeCap);
    QCOMPARE(a.title, QStringLiteral("alice/bert-imdb is near its time cap"));
    QCOMPARE(a.text, text);

    engine.tick(at(warnsAtMinute + 10));
    engine.onStatus(makeRun(1, shape), s, KS::Running, {}, at(warnsAtMinute + 11));
    engine.tick(at(warnsAtMinute + 12));
    QCOMPARE(spy.count(), 1);
}

void TestAlertEngine::logPatterns_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("pattern"); // empty: no alert

    QTest::newRow("traceback") << QStringLiteral("Traceback (most recent call last):")
                               << QStringLiteral("Python traceback");
    QTest::newRow("cuda oom") << QStringLiteral("RuntimeError: CUDA out of memory. Tried to "
                                                "allocate 2.00 GiB")
                              << QStringLiteral("CUDA out of memory");
    QTest::newRow("torch OutOfMemoryError with both phrases")
        << QStringLiteral("torch.OutOfMemoryError: CUDA out of memory.")
        << QStringLiteral("CUDA out of memory");
    QTest::newRow("hf trainer dict") << QStringLiteral("{'loss': nan, 'grad_norm': nan, "
                                                       "'learning_rate': 2e-05, 'epoch': 0.5}")
                                     << AlertEngine::nanLossPatternName();
    QTest::newRow("keras progress") << QStringLiteral("120/500 [=====>....] - loss: nan - "
                                                      "accuracy: 0.5012")
                                    << AlertEngine::nanLossPatternName();
    QTest::newRow("key=value") << QStringLiteral("step 40 val_loss=NaN lr=1e-4")
                               << AlertEngine::nanLossPatternName();
    QTest::newRow("finite loss") << QStringLiteral("{'loss': 0.3521, 'epoch': 1.0}") << QString();
    QTest::newRow("nan elsewhere") << QStringLiteral("grad_norm: nan, loss: 0.5") << QString();
    QTest::newRow("word starting with nan") << QStringLiteral("loss: nanny") << QString();
    QTest::newRow("plain progress")
        << QStringLiteral("Epoch 1/3: 100%|##########| 500/500") << QString();
}

void TestAlertEngine::logPatterns()
{
    QFETCH(QString, text);
    QFETCH(QString, pattern);

    AlertEngine engine;
    QSignalSpy spy(&engine, &AlertEngine::alertRaised);
    startRunning(engine);
    engine.onLogLines(
        makeRun(), 11,
        {line(QStringLiteral("warming up")), line(text, LogEvent::Stream::Stderr, 61.5)}, at(2));
    if (pattern.isEmpty()) {
        QCOMPARE(spy.count(), 0);
        return;
    }
    QCOMPARE(spy.count(), 1);
    const Alert a = alertAt(spy, 0);
    QCOMPARE(a.kind, AlertKind::LogPattern);
    QCOMPARE(a.sessionId, SessionId(11));
    QCOMPARE(a.title, QStringLiteral("alice/bert-imdb: ") + pattern);
    QCOMPARE(a.text, QStringLiteral("Matched in stderr at 61.5 s:\n") + text);
}

void TestAlertEngine::logPatternOncePerSessionPerPattern()
{
    AlertEngine engine;
    QSignalSpy spy(&engine, &AlertEngine::alertRaised);
    startRunning(engine);
    const LogEvent tb = line(QStringLiteral("Traceback (most recent call last):"));
    engine.onLogLines(makeRun(), 11, {tb, tb}, at(1));
    engine.onLogLines(makeRun(), 11, {tb}, at(2));
    QCOMPARE(spy.count(), 1);

    // A different pattern in the same session fires; the same one in a new session fires.
    engine.onLogLines(makeRun(), 11,
                      {line(QStringLiteral("multi-line chunk\nCUDA out of memory here\nmore"))},
                      at(3));
    QCOMPARE(spy.count(), 2);
    QCOMPARE(alertAt(spy, 1).text,
             QStringLiteral("Matched in stdout at 12.5 s:\nCUDA out of memory here"));
    engine.onLogLines(makeRun(), 12, {tb}, at(4));
    QCOMPARE(spy.count(), 3);
    QCOMPARE(alertAt(spy, 2).sessionId, SessionId(12));
}

void TestAlertEngine::userPatterns()
{
    AlertEngine engine;
    QSignalSpy spy(&engine, &AlertEngine::alertRaised);
    WatchedRun run = makeRun();
    run.settings.logPatterns = {QStringLiteral("Early ?Stopping"), QStringLiteral("(unclosed")};
    startRunning(engine, run);

    QTest::ignoreMessage(QtWarningMsg,
                         QRegularExpression(QStringLiteral("invalid alert pattern.*unclosed")));
    engine.onLogLines(run, 11, {line(QStringLiteral("EarlyStopping: patience exhausted"))}, at(1));
    engine.onLogLines(run, 11, {line(QStringLiteral("Early Stopping again"))}, at(2));
    QCOMPARE(spy.count(), 1);
    QCOMPARE(alertAt(spy, 0).title,
             QStringLiteral("alice/bert-imdb: log matched \"Early ?Stopping\""));

    // Another run without the pattern does not match it.
    WatchedRun other = makeRun(2);
    engine.onLogLines(other, 21, {line(QStringLiteral("EarlyStopping"))}, at(3));
    QCOMPARE(spy.count(), 1);
}

void TestAlertEngine::nanLossFromMetrics()
{
    AlertEngine engine;
    QSignalSpy spy(&engine, &AlertEngine::alertRaised);
    startRunning(engine);
    const double nan = std::numeric_limits<double>::quiet_NaN();

    MetricPoint accuracy{11, QStringLiteral("eval_accuracy"), nan, 30, 1.0, 100};
    MetricPoint finite{11, QStringLiteral("loss"), 0.42, 30, 1.0, 100};
    engine.onMetricPoints(makeRun(), {accuracy, finite}, at(1));
    QCOMPARE(spy.count(), 0);

    MetricPoint loss{11, QStringLiteral("train_loss"), nan, 31, 1.5, 120};
    engine.onMetricPoints(makeRun(), {loss, loss}, at(2));
    QCOMPARE(spy.count(), 1);
    const Alert a = alertAt(spy, 0);
    QCOMPARE(a.kind, AlertKind::LogPattern);
    QCOMPARE(a.title, QStringLiteral("alice/bert-imdb: NaN loss"));
    QVERIFY2(a.text.startsWith(QStringLiteral("The metric \"train_loss\" became NaN at step 120 "
                                              "(epoch 1.5).")),
             qPrintable(a.text));

    // The same NaN printed in the log is the same event.
    engine.onLogLines(makeRun(), 11, {line(QStringLiteral("{'loss': nan}"))}, at(3));
    QCOMPARE(spy.count(), 1);
}

void TestAlertEngine::suppression_data()
{
    QTest::addColumn<bool>("muted");
    QTest::addColumn<int>("runSnoozeMinutes"); // relative to the alert time; 0: none
    QTest::addColumn<int>("globalSnoozeMinutes");
    QTest::addColumn<int>("expected");

    QTest::newRow("not muted") << false << 0 << 0 << 1;
    QTest::newRow("muted") << true << 0 << 0 << 0;
    QTest::newRow("run snoozed") << false << 30 << 0 << 0;
    QTest::newRow("run snooze expired") << false << -1 << 0 << 1;
    QTest::newRow("global snooze") << false << 0 << 30 << 0;
    QTest::newRow("global snooze expired") << false << 0 << -1 << 1;
}

void TestAlertEngine::suppression()
{
    QFETCH(bool, muted);
    QFETCH(int, runSnoozeMinutes);
    QFETCH(int, globalSnoozeMinutes);
    QFETCH(int, expected);

    const QDateTime when = at(90);
    AlertEngine engine;
    QSignalSpy spy(&engine, &AlertEngine::alertRaised);
    WatchedRun run = makeRun();
    run.settings.muted = muted;
    if (runSnoozeMinutes != 0)
        run.settings.snoozedUntil = when.addSecs(runSnoozeMinutes * 60);
    if (globalSnoozeMinutes != 0)
        engine.setGlobalSnooze(when.addSecs(globalSnoozeMinutes * 60));

    startRunning(engine, run);
    engine.onStatus(run, makeSession(KS::Error), KS::Running, {}, when);
    QCOMPARE(spy.count(), expected);
}

void TestAlertEngine::suppressedAlertsDoNotBurstOutLater()
{
    AlertEngine engine;
    QSignalSpy spy(&engine, &AlertEngine::alertRaised);
    WatchedRun run = makeRun();
    run.settings.snoozedUntil = at(30);
    startRunning(engine, run);
    engine.tick(at(20)); // stuck, snoozed
    engine.onLogLines(run, 11, {line(QStringLiteral("Traceback (most recent call last):"))},
                      at(21)); // pattern, snoozed
    QCOMPARE(spy.count(), 0);

    // The snooze is over: nothing already past comes out, only new transitions.
    engine.onLogLines(run, 11, {line(QStringLiteral("Traceback (most recent call last):"))},
                      at(31));
    engine.tick(at(32));
    QCOMPARE(spy.count(), 0);
    engine.tick(at(51));
    QCOMPARE(spy.count(), 1);
    QCOMPARE(alertAt(spy, 0).kind, AlertKind::Stuck);

    // Muting later through setRun applies to the time rules.
    run.settings.muted = true;
    engine.setRun(run);
    engine.tick(at(11 * 60 + 30));
    QCOMPARE(spy.count(), 1);

    // Unmuting does not replay the time-cap warning that was dropped.
    run.settings.muted = false;
    engine.setRun(run);
    engine.tick(at(11 * 60 + 31));
    QCOMPARE(spy.count(), 1);
}

void TestAlertEngine::quotaLowHysteresis()
{
    AlertEngine engine;
    QSignalSpy spy(&engine, &AlertEngine::alertRaised);

    engine.onQuota(quota(5), at(0));
    QCOMPARE(spy.count(), 0);
    engine.onQuota(quota(2.5), at(1));
    QCOMPARE(spy.count(), 1);
    const Alert a = alertAt(spy, 0);
    QCOMPARE(a.kind, AlertKind::QuotaLow);
    QCOMPARE(a.runId, RunId(0));
    QCOMPARE(a.title, QStringLiteral("GPU quota low"));
    QCOMPARE(a.text,
             QStringLiteral("2.5 h of 30 h GPU left until Sat 00:00 UTC.\nForecast summary."));

    engine.onQuota(quota(2.0), at(2));
    engine.onQuota(quota(1.0), at(3));
    engine.onQuota(quota(1.0), at(4));
    QCOMPARE(spy.count(), 1);

    // Back above the threshold (e.g. Kaggle raised the total), then low again.
    engine.onQuota(quota(4, 30), at(5));
    QCOMPARE(spy.count(), 1);
    engine.onQuota(quota(2, 30), at(6));
    QCOMPARE(spy.count(), 2);

    // Global snooze: dropped but counted.
    engine.onQuota(quota(10), at(7));
    engine.setGlobalSnooze(at(60));
    engine.onQuota(quota(1), at(8));
    engine.setGlobalSnooze({});
    engine.onQuota(quota(1), at(9));
    QCOMPARE(spy.count(), 2);
}

void TestAlertEngine::quotaLowPerAcceleratorAndWindow()
{
    AlertEngine engine;
    QSignalSpy spy(&engine, &AlertEngine::alertRaised);
    const QDateTime nextWeek(QDate(2025, 6, 14), QTime(0, 0), QTimeZone::utc());

    engine.onQuota(quota(1), at(0));
    engine.onQuota(quota(1, 20, Accelerator::Tpu), at(0));
    QCOMPARE(spy.count(), 2);
    QCOMPARE(alertAt(spy, 1).title, QStringLiteral("TPU quota low"));

    // A new window that starts low (e.g. a smaller weekly allowance) is news again.
    engine.onQuota(quota(1, 30, Accelerator::Gpu, nextWeek), at(10));
    QCOMPARE(spy.count(), 3);
    engine.onQuota(quota(1, 30, Accelerator::Gpu, nextWeek), at(11));
    QCOMPARE(spy.count(), 3);

    // No TPU quota at all is not "low".
    AlertEngine fresh;
    QSignalSpy freshSpy(&fresh, &AlertEngine::alertRaised);
    fresh.onQuota(quota(0, 0, Accelerator::Tpu), at(0));
    QCOMPARE(freshSpy.count(), 0);
}

void TestAlertEngine::quotaLowFromApiNumbers()
{
    AlertEngine engine;
    QSignalSpy spy(&engine, &AlertEngine::alertRaised);
    QuotaStatistics stats;
    stats.quotaRefreshTime = QDateTime(QDate(2025, 6, 7), QTime(0, 0), QTimeZone::utc());
    AcceleratorQuota gpu;
    gpu.totalTimeAllowedSeconds = 30 * kHour;
    gpu.timeUsedSeconds = 20 * kHour;
    stats.gpu = gpu;

    engine.onQuota(stats, at(0));
    QCOMPARE(spy.count(), 0);
    stats.gpu->timeUsedSeconds = 28 * kHour;
    engine.onQuota(stats, at(1));
    engine.onQuota(stats, at(2));
    QCOMPARE(spy.count(), 1);
    QCOMPARE(alertAt(spy, 0).title, QStringLiteral("GPU quota low"));
    QVERIFY2(alertAt(spy, 0).text.startsWith(
                 QStringLiteral("2 h of 30 h GPU left until Sat 00:00 UTC.\nForecast 28 h")),
             qPrintable(alertAt(spy, 0).text));

    // Numbers from a window that has already ended say nothing about this one.
    AlertEngine other;
    QSignalSpy otherSpy(&other, &AlertEngine::alertRaised);
    stats.quotaRefreshTime = at(-60);
    other.onQuota(stats, at(0));
    QCOMPARE(otherSpy.count(), 0);
}

void TestAlertEngine::forgetSessionFreesState()
{
    AlertEngine engine;
    QSignalSpy spy(&engine, &AlertEngine::alertRaised);
    startRunning(engine);
    engine.forgetSession(11);
    // Forgotten: no time rules for it any more.
    engine.tick(at(12 * 60));
    QCOMPARE(spy.count(), 0);

    // Known again after forgetting: a new transition is news.
    startRunning(engine);
    engine.onStatus(makeRun(), makeSession(KS::Complete), KS::Running, {}, at(1));
    QCOMPARE(spy.count(), 1);

    startRunning(engine, makeRun(), makeSession(KS::Running, 12));
    engine.forgetRun(1);
    engine.tick(at(12 * 60));
    QCOMPARE(spy.count(), 1);
}

void TestAlertEngine::idsIncrease()
{
    AlertEngine engine;
    QSignalSpy spy(&engine, &AlertEngine::alertRaised);
    engine.onStatus(makeRun(), makeSession(KS::Complete, 1), KS::Running, {}, kT0);
    engine.onStatus(makeRun(), makeSession(KS::Complete, 2), KS::Running, {}, kT0);
    QCOMPARE(spy.count(), 2);
    QVERIFY(alertAt(spy, 0).id > 0);
    QVERIFY(alertAt(spy, 1).id > alertAt(spy, 0).id);
}

QTEST_GUILESS_MAIN(TestAlertEngine)
#include "tst_alertengine.moc"
