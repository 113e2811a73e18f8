// Responsiveness of the main window with 100 runs: the real MainWindow (offscreen) over a
// Deck against the in-process simulator, 100 GPU runs streaming logs at once, the Log tab
// following the selected run while the user walks the table with J. Printed: how long the
// event loop was ever blocked (a 20 ms heartbeat), how long a selection change takes, and how
// much arrived. Figures are printed, never asserted.
//
// KD_BENCH_WINDOW_SECONDS sets how long the runs stream (default 30); KD_BENCH_WINDOW_TRACE=1
// prints every selection change.

#include "curlhttpclient.h"
#include "deck.h"
#include "kaggleclient.h"
#include "logfollower.h"
#include "mainwindow.h"
#include "runtablemodel.h"
#include "simulator.h"
#include "store.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cstdio>
#include <vector>

using namespace kd;

namespace {

constexpr int kRuns = 100;
constexpr double kSpeed = 10;
const int kSeconds = qEnvironmentVariableIntValue("KD_BENCH_WINDOW_SECONDS") > 0
                         ? qEnvironmentVariableIntValue("KD_BENCH_WINDOW_SECONDS")
                         : 30;

std::string scenario()
{
    QJsonArray kernels;
    const char *styles[] = {"hf", "keras", "tqdm", "plain"};
    for (int i = 0; i < kRuns; ++i) {
        kernels.append(QJsonObject{
            {QStringLiteral("ref"), QStringLiteral("bench/run-%1").arg(i, 3, 10, QLatin1Char('0'))},
            {QStringLiteral("title"), QStringLiteral("Fine-tune %1").arg(i)},
            {QStringLiteral("machineShape"), QStringLiteral("NvidiaTeslaT4")},
            {QStringLiteral("startAt"), -30},
            {QStringLiteral("queueSeconds"), 5},
            {QStringLiteral("runSeconds"), 36000},
            {QStringLiteral("epochs"), 20},
            {QStringLiteral("stepsPerEpoch"), 2000},
            {QStringLiteral("logStyle"), QString::fromLatin1(styles[i % 4])},
            {QStringLiteral("logEventsPerSecond"), 1.0}});
    }
    const QJsonObject world{
        {QStringLiteral("name"), QStringLiteral("bench-window")},
        {QStringLiteral("options"),
         QJsonObject{{QStringLiteral("startTime"), QStringLiteral("now")},
                     {QStringLiteral("maxGpuSessions"), 1000},
                     {QStringLiteral("staleStatusSeconds"), 0}}},
        {QStringLiteral("accounts"),
         QJsonArray{QJsonObject{{QStringLiteral("username"), QStringLiteral("bench")},
                                {QStringLiteral("key"), QStringLiteral("bench-key-000000")}}}},
        {QStringLiteral("kernels"), kernels}};
    return QJsonDocument(world).toJson().toStdString();
}

double percentile(std::vector<qint64> values, double p)
{
    if (values.empty())
        return 0;
    std::sort(values.begin(), values.end());
    return double(values[size_t(p * double(values.size() - 1))]);
}

} // namespace

class BenchWindow : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        QLoggingCategory::setFilterRules(QStringLiteral("kaggledeck.*.debug=false\n"
                                                        "kaggledeck.*.info=false"));
    }

    void hundredRunsStayResponsive()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        sim::Options so;
        so.speed = kSpeed;
        so.serverThreads = 160;
        sim::Simulator simulator(so);
        std::string error;
        QVERIFY2(simulator.loadScenarioJson(scenario(), &error), error.c_str());
        QVERIFY(simulator.start());

        net::CurlHttpClient http;
        KaggleClient::Options o;
        o.endpoint = QUrl(QString::fromStdString(simulator.endpoint()));
        KaggleClient client(
            &http,
            Credentials::fromKey(QStringLiteral("bench"), QStringLiteral("bench-key-000000")), o);
        auto store = Store::open(dir.filePath(QStringLiteral("history.sqlite")));
        QVERIFY(store.ok());
        Deck::Settings settings; // the app's defaults, but for the budget
        settings.monitor.requestBudgetPerMinute = 100'000;
        Deck deck(&client, store.value().get(), dir.path(), settings);
        MainWindow window(&deck);
        window.resize(1366, 768);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));

        QElapsedTimer clock;
        clock.start();
        for (int i = 0; i < kRuns; ++i)
            QVERIFY(deck.monitor()
                        ->watch(QStringLiteral("bench/run-%1").arg(i, 3, 10, QLatin1Char('0')))
                        .ok());
        deck.start();
        const qint64 watchMs = clock.elapsed();

        qint64 events = 0;
        connect(deck.monitor()->logFollower(), &LogFollower::events, this,
                [&](RunId, SessionId, const QList<LogEvent> &e) { events += e.size(); });

        // Everything running and shown before the measurement starts.
        const auto running = [&] {
            int n = 0;
            for (RunId id : deck.monitor()->runIds()) {
                const RunState *s = deck.monitor()->state(id);
                n += s && s->session && s->session->status == KernelStatus::Running;
            }
            return n;
        };
        QTRY_VERIFY_WITH_TIMEOUT(running() == kRuns, 60'000);
        const qint64 allRunningMs = clock.elapsed();
        QTableView *table = window.runTable();
        QCOMPARE(table->model()->rowCount(), kRuns);
        table->setFocus();
        table->selectRow(0);

        std::vector<qint64> gaps;
        qint64 last = clock.elapsed();
        QTimer heartbeat;
        heartbeat.setTimerType(Qt::PreciseTimer);
        heartbeat.setInterval(20);
        connect(&heartbeat, &QTimer::timeout, this, [&] {
            const qint64 now = clock.elapsed();
            gaps.push_back(now - last);
            last = now;
        });
        heartbeat.start();

        std::vector<qint64> switches;
        const qint64 eventsBefore = events;
        const qint64 end = clock.elapsed() + kSeconds * 1000LL;
        while (clock.elapsed() < end) {
            QTest::qWait(500);
            QElapsedTimer one;
            one.start();
            QTest::keyClick(table, Qt::Key_J); // the next run: its log tail and charts load
            QCoreApplication::processEvents();
            switches.push_back(one.elapsed());
            if (qEnvironmentVariableIsSet("KD_BENCH_WINDOW_TRACE"))
                std::printf("  switch %d: %lld ms\n", int(switches.size()), one.elapsed());
        }
        heartbeat.stop();
        const qint64 streamed = events - eventsBefore;

        std::printf("\nMain window, %d GPU runs streaming logs (simulator at %gx), %d s\n", kRuns,
                    kSpeed, kSeconds);
        std::printf("  watch %d runs: %lld ms; all shown RUNNING after %.1f s\n", kRuns, watchMs,
                    allRunningMs / 1000.0);
        std::printf("  log events taken in: %lld (%.0f per second)\n", streamed,
                    double(streamed) / kSeconds);
        std::printf("  event loop (20 ms heartbeat): median %.0f ms, p99 %.0f ms, longest %.0f "
                    "ms\n",
                    percentile(gaps, 0.5), percentile(gaps, 0.99), percentile(gaps, 1.0));
        std::printf("  selection change with its log tail: median %.0f ms, longest %.0f ms (%d "
                    "changes)\n",
                    percentile(switches, 0.5), percentile(switches, 1.0), int(switches.size()));
        std::fflush(stdout);
        QVERIFY(streamed > 0);
        QVERIFY(!switches.empty());
    }
};

QTEST_MAIN(BenchWindow)
#include "bench_window.moc"
