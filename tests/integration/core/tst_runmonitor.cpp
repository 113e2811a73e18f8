// RunMonitor against the simulator over loopback: watching, scheduling, sessions, the push
// guard, stale runs, offline detection, the request budget and log following.

#include "curlhttpclient.h"
#include "kaggleclient.h"
#include "logfollower.h"
#include "runmonitor.h"
#include "simulator.h"
#include "store.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace kd;

namespace {

const QString kUser = QStringLiteral("alice");
const QString kKey = QStringLiteral("alice-key-123456");

MonitorSettings fastSettings()
{
    MonitorSettings s;
    s.pollRunningSeconds = 0.1;
    s.pollQueuedSeconds = 0.2;
    s.quotaPollSeconds = 5;
    s.pushGraceSeconds = 30;
    s.maxBackoffSeconds = 1;
    s.requestBudgetPerMinute = 100'000;
    return s;
}

} // namespace

class TestRunMonitor : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    std::unique_ptr<sim::Simulator> m_sim;
    std::unique_ptr<net::CurlHttpClient> m_http;
    std::unique_ptr<KaggleClient> m_client;
    std::unique_ptr<Store> m_store;

    std::unique_ptr<RunMonitor> makeMonitor(MonitorSettings settings = fastSettings())
    {
        auto monitor = std::make_unique<RunMonitor>(m_client.get(), m_store.get(), settings);
        LogFollower::Settings ls;
        ls.reconnectDelayMs = 50;
        ls.pollIntervalMs = 100;
        monitor->logFollower()->setSettings(ls);
        return monitor;
    }
    void openStore()
    {
        m_store.reset();
        auto store = Store::open(m_dir.filePath(QStringLiteral("history.sqlite")));
        QVERIFY2(store.ok(), qPrintable(store.ok() ? QString() : store.error().message));
        m_store = std::move(store).value();
    }

private slots:
    void init()
    {
        QVERIFY(m_dir.isValid());
        QFile::remove(m_dir.filePath(QStringLiteral("history.sqlite")));
        sim::Options so;
        so.speed = 0;
        so.seed = 9;
        so.sseIdleTimeoutSeconds = 2;
        m_sim = std::make_unique<sim::Simulator>(so);
        std::string error;
        QVERIFY2(m_sim->loadScenarioFile(KD_TEST_DATA_DIR "/scenarios/basic.json", &error),
                 error.c_str());
        QVERIFY(m_sim->start());
        m_http = std::make_unique<net::CurlHttpClient>();
        KaggleClient::Options o;
        o.endpoint = QUrl(QString::fromStdString(m_sim->endpoint()));
        o.backoffBaseMs = 10;
        o.backoffMaxMs = 50;
        o.maxAttempts = 2;
        o.requestTimeoutMs = 3000;
        m_client =
            std::make_unique<KaggleClient>(m_http.get(), Credentials::fromKey(kUser, kKey), o);
        openStore();
    }
    void cleanup()
    {
        m_store.reset();
        m_client.reset();
        m_http.reset();
        m_sim.reset();
    }

    void watchValidatesAndPersists()
    {
        {
            auto monitor = makeMonitor();
            QSignalSpy added(monitor.get(), &RunMonitor::runAdded);
            QVERIFY(monitor->watch(QStringLiteral("alice/bert-imdb")).ok());
            QVERIFY(monitor->watch(QStringLiteral("https://www.kaggle.com/code/alice/failing-run"))
                        .ok());
            QCOMPARE(added.count(), 2);
            const auto duplicate = monitor->watch(QStringLiteral("alice/bert-imdb"));
            QVERIFY(!duplicate.ok());
            QVERIFY(duplicate.error().message.contains(u"already watched"));
            const auto bad = monitor->watch(QStringLiteral("not a kernel"));
            QVERIFY(!bad.ok());
            const RunId id = *monitor->runByRef({kUser, QStringLiteral("bert-imdb")});
            QVERIFY(monitor->setTags(id, {QStringLiteral("llm"), QStringLiteral("gpu")}).ok());
            RunSettings rs;
            rs.muted = true;
            rs.pollRunningSeconds = 30;
            QVERIFY(monitor->setRunSettings(id, rs).ok());
        }
        openStore();
        auto monitor = makeMonitor();
        QCOMPARE(monitor->runIds().size(), 2);
        const RunId id = *monitor->runByRef({kUser, QStringLiteral("bert-imdb")});
        QCOMPARE(monitor->state(id)->run.tags,
                 (QStringList{QStringLiteral("llm"), QStringLiteral("gpu")}));
        QVERIFY(monitor->state(id)->run.settings.muted);
        QCOMPARE(monitor->state(id)->run.settings.pollRunningSeconds, 30);
        QVERIFY(monitor->remove(id).ok());
        openStore();
        QCOMPARE(makeMonitor()->runIds().size(), 1);
    }

    void importMyKernels()
    {
        auto monitor = makeMonitor();
        std::optional<Result<int>> result;
        monitor->importMyKernels([&](Result<int> r) { result.emplace(std::move(r)); });
        QTRY_VERIFY(result.has_value());
        QVERIFY(result->ok());
        int mine = 0;
        for (const std::string &ref : m_sim->kernelRefs())
            mine += ref.rfind("alice/", 0) == 0;
        QCOMPARE(result->value(), mine);
        QCOMPARE(monitor->runIds().size(), mine);
        // A second import adds nothing.
        result.reset();
        monitor->importMyKernels([&](Result<int> r) { result.emplace(std::move(r)); });
        QTRY_VERIFY(result.has_value());
        QCOMPARE(result->value(), 0);
    }

    void lifecycleIsStoredAndTerminalRunsStopPolling()
    {
        auto monitor = makeMonitor();
        const RunId id = *monitor->watch(QStringLiteral("alice/bert-imdb"));
        QSignalSpy transitions(monitor.get(), &RunMonitor::sessionTransition);
        monitor->start();
        QTRY_VERIFY(monitor->state(id)->session.has_value());
        QCOMPARE(monitor->state(id)->session->status, KernelStatus::Queued);
        m_sim->advance(15);
        QTRY_COMPARE(monitor->state(id)->session->status, KernelStatus::Running);
        m_sim->advance(200);
        QTRY_COMPARE(monitor->state(id)->session->status, KernelStatus::Complete);

        const auto sessions = m_store->sessions(id);
        QCOMPARE(sessions.size(), 1);
        QVERIFY(sessions.first().endedAt.isValid());
        const auto events = m_store->statusEvents(sessions.first().id);
        QCOMPARE(events.size(), 3);
        QCOMPARE(events[0].status, KernelStatus::Queued);
        QCOMPARE(events[1].status, KernelStatus::Running);
        QCOMPARE(events[2].status, KernelStatus::Complete);
        QVERIFY(events[0].at <= events[1].at && events[1].at <= events[2].at);
        QCOMPARE(transitions.count(), 3);
        QVERIFY(monitor->state(id)->gpuSeconds > 0);

        // Terminal: no more status polls for it.
        QTest::qWait(300);
        m_sim->clearRequests();
        QTest::qWait(600);
        for (const auto &r : m_sim->requests())
            QVERIFY2(r.path.find("GetKernelSessionStatus") == std::string::npos,
                     "a terminal run was polled");
    }

    void runThatFinishedBeforeWatchingIsOneSession()
    {
        auto monitor = makeMonitor();
        const RunId id = *monitor->watch(QStringLiteral("alice/failing-run"));
        monitor->start();
        QTRY_VERIFY(monitor->state(id)->session.has_value());
        QCOMPARE(monitor->state(id)->session->status, KernelStatus::Error);
        QVERIFY(!monitor->state(id)->session->failureMessage.isEmpty());
        QCOMPARE(m_store->sessions(id).size(), 1);
    }

    void pushGuardIgnoresThePreviousTerminalStatus()
    {
        // titanic-baseline finished long ago; a push starts a new session, but for
        // staleStatusSeconds the API still reports the old COMPLETE.
        auto monitor = makeMonitor();
        const RunId id = *monitor->watch(QStringLiteral("alice/titanic-baseline"));
        monitor->start();
        QTRY_VERIFY(monitor->state(id)->session.has_value());
        QCOMPARE(monitor->state(id)->session->status, KernelStatus::Complete);

        SaveKernelRequest push;
        push.slug = QStringLiteral("alice/titanic-baseline");
        push.newTitle = QStringLiteral("Titanic Baseline");
        push.text = QStringLiteral("print(1)");
        push.language = QStringLiteral("python");
        push.kernelType = QStringLiteral("script");
        std::optional<Result<SaveKernelResponse>> pushed;
        m_client->saveKernel(push, nullptr,
                             [&](Result<SaveKernelResponse> r) { pushed.emplace(std::move(r)); });
        QTRY_VERIFY(pushed.has_value());
        QVERIFY(pushed->ok());
        monitor->notePush(id, pushed->value().versionNumber, {});
        QCOMPARE(monitor->state(id)->session->status, KernelStatus::Queued);
        // The sim still says COMPLETE (stale window): the monitor must keep the new session open.
        QTest::qWait(500);
        QVERIFY(!monitor->state(id)->session->isOver());
        m_sim->advance(5); // past the stale window: the new session is queued
        QTest::qWait(600); // a few polls see it, which lifts the guard
        QCOMPARE(monitor->state(id)->session->status, KernelStatus::Queued);
        m_sim->advance(600);
        QCOMPARE(m_sim->kernelStatus("alice/titanic-baseline"), std::string("COMPLETE"));
        QTRY_COMPARE(monitor->state(id)->session->status, KernelStatus::Complete);
        QCOMPARE(m_store->sessions(id).size(), 2);
        QVERIFY(m_store->sessions(id).last().pushed);
    }

    void failingRequestsMarkTheRunStaleThenRecover()
    {
        auto monitor = makeMonitor();
        const RunId id = *monitor->watch(QStringLiteral("alice/bert-imdb"));
        monitor->start();
        QTRY_VERIFY(monitor->state(id)->session.has_value());
        sim::Faults faults;
        faults.http5xx = 1.0;
        faults.onlyPaths = {"GetKernelSessionStatus"};
        m_sim->setFaults(faults);
        QTRY_VERIFY(monitor->state(id)->stale);
        QCOMPARE(monitor->state(id)->session->status, KernelStatus::Queued); // last known
        QVERIFY(!monitor->isOffline()); // server errors are not "offline"
        m_sim->setFaults({});
        QTRY_VERIFY_WITH_TIMEOUT(!monitor->state(id)->stale, 10'000);
    }

    void offlineBacksOffAndResumes()
    {
        auto monitor = makeMonitor();
        for (const char *ref : {"alice/bert-imdb", "alice/failing-run", "alice/titanic-baseline"})
            monitor->watch(QString::fromLatin1(ref));
        const RunId id = *monitor->runByRef({kUser, QStringLiteral("bert-imdb")});
        monitor->start();
        QTRY_VERIFY(monitor->state(id)->session.has_value());
        QSignalSpy offline(monitor.get(), &RunMonitor::offlineChanged);
        const int port = m_sim->port();
        m_sim->stop();
        QTRY_VERIFY_WITH_TIMEOUT(monitor->isOffline(), 10'000);
        QVERIFY(monitor->state(id)->stale);
        QVERIFY(m_sim->start("127.0.0.1", port));
        QTRY_VERIFY_WITH_TIMEOUT(!monitor->isOffline(), 20'000);
        QTRY_VERIFY_WITH_TIMEOUT(!monitor->state(id)->stale, 10'000);
        QCOMPARE(offline.count(), 2);
    }

    void requestBudgetIsNeverExceeded()
    {
        MonitorSettings s = fastSettings();
        s.requestBudgetPerMinute = 12;
        s.followLogs = false;
        auto monitor = makeMonitor(s);
        std::optional<Result<int>> imported;
        monitor->importMyKernels([&](Result<int> r) { imported.emplace(std::move(r)); });
        QTRY_VERIFY(imported.has_value());
        monitor->start();
        QTest::qWait(1500);
        QVERIFY(monitor->requestsInLastMinute() <= 12);
        // The simulator saw no more than the budget either (list + quota + statuses).
        QVERIFY2(m_sim->requests().size() <= 12,
                 qPrintable(QString::number(m_sim->requests().size())));
    }

    void logsFollowedWithoutLossOrDuplicates()
    {
        m_sim->setSseIdleTimeout(0.3); // the "load balancer" drops streams often
        auto monitor = makeMonitor();
        const RunId id = *monitor->watch(QStringLiteral("alice/bert-imdb"));
        qint64 received = 0;
        connect(monitor->logFollower(), &LogFollower::events, this,
                [&](RunId run, SessionId, const QList<LogEvent> &events) {
                    if (run == id)
                        received += events.size();
                });
        monitor->start();
        m_sim->advance(15);
        QTRY_COMPARE(monitor->state(id)->session->status, KernelStatus::Running);
        for (int i = 0; i < 20; ++i) {
            m_sim->advance(5);
            QTest::qWait(100);
        }
        m_sim->advance(300);
        QTRY_COMPARE(monitor->state(id)->session->status, KernelStatus::Complete);
        QTRY_COMPARE(monitor->logFollower()->mode(id), LogFollower::Mode::Done);
        QCOMPARE(received, qint64(m_sim->sessionLogEventCount("alice/bert-imdb")));
        QVERIFY(!monitor->state(id)->lastLogLine.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestRunMonitor)
#include "tst_runmonitor.moc"
