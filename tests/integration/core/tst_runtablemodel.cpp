// RunTableModel and RunFilterProxy over a RunMonitor fed by the simulator: model contract
// (QAbstractItemModelTester), batched change signals with exact counts, live per-state counts
// and the filters.

#include "curlhttpclient.h"
#include "kaggleclient.h"
#include "runmonitor.h"
#include "runtablemodel.h"
#include "simulator.h"
#include "store.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace kd;

class TestRunTableModel : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    std::unique_ptr<sim::Simulator> m_sim;
    std::unique_ptr<net::CurlHttpClient> m_http;
    std::unique_ptr<KaggleClient> m_client;
    std::unique_ptr<Store> m_store;
    std::unique_ptr<RunMonitor> m_monitor;

    RunId id(const char *slug) const
    {
        return *m_monitor->runByRef({QStringLiteral("alice"), QString::fromLatin1(slug)});
    }

private slots:
    void init()
    {
        sim::Options so;
        so.speed = 0;
        m_sim = std::make_unique<sim::Simulator>(so);
        std::string error;
        QVERIFY2(m_sim->loadScenarioFile(KD_TEST_DATA_DIR "/scenarios/basic.json", &error),
                 error.c_str());
        QVERIFY(m_sim->start());
        m_http = std::make_unique<net::CurlHttpClient>();
        KaggleClient::Options o;
        o.endpoint = QUrl(QString::fromStdString(m_sim->endpoint()));
        m_client = std::make_unique<KaggleClient>(
            m_http.get(),
            Credentials::fromKey(QStringLiteral("alice"), QStringLiteral("alice-key-123456")), o);
        QFile::remove(m_dir.filePath(QStringLiteral("t.sqlite")));
        m_store = std::move(Store::open(m_dir.filePath(QStringLiteral("t.sqlite")))).value();
        MonitorSettings s;
        s.pollRunningSeconds = 0.1;
        s.pollQueuedSeconds = 0.1;
        s.followLogs = false;
        m_monitor = std::make_unique<RunMonitor>(m_client.get(), m_store.get(), s);
    }
    void cleanup()
    {
        m_monitor.reset();
        m_store.reset();
        m_client.reset();
        m_http.reset();
        m_sim.reset();
    }

    void rowsFollowTheWatchedRuns()
    {
        RunTableModel model(m_monitor.get());
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
        for (const char *ref : {"alice/bert-imdb", "alice/failing-run", "alice/titanic-baseline"})
            QVERIFY(m_monitor->watch(QString::fromLatin1(ref)).ok());
        QCOMPARE(inserted.count(), 3);
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.index(1, 0).data(RunTableModel::RefRole).toString(),
                 QStringLiteral("alice/failing-run"));
        QVERIFY(m_monitor->remove(id("failing-run")).ok());
        QCOMPARE(removed.count(), 1);
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(model.rowOf(id("titanic-baseline")), 1);
    }

    void changesAreBatched()
    {
        for (const char *ref : {"alice/bert-imdb", "alice/failing-run", "alice/titanic-baseline",
                                "alice/draft-notebook"})
            m_monitor->watch(QString::fromLatin1(ref));
        RunTableModel model(m_monitor.get());
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);

        // One run changes: one signal for exactly that row, all columns.
        QVERIFY(m_monitor->setTags(id("failing-run"), {QStringLiteral("oom")}).ok());
        model.flush();
        QCOMPARE(changed.count(), 1);
        QCOMPARE(changed[0][0].toModelIndex(), model.index(1, 0));
        QCOMPARE(changed[0][1].toModelIndex(), model.index(1, RunTableModel::ColumnCount - 1));

        // The same run changing twice before a flush is still one signal.
        changed.clear();
        m_monitor->setTags(id("failing-run"), {QStringLiteral("a")});
        m_monitor->setTags(id("failing-run"), {QStringLiteral("b")});
        model.flush();
        QCOMPARE(changed.count(), 1);

        // Most rows change: one range signal instead of a storm.
        changed.clear();
        for (const char *slug : {"bert-imdb", "failing-run", "titanic-baseline"})
            m_monitor->setTags(id(slug), {QStringLiteral("x")});
        model.flush();
        QCOMPARE(changed.count(), 1);
        QCOMPARE(changed[0][0].toModelIndex(), model.index(0, 0));
        QCOMPARE(changed[0][1].toModelIndex(), model.index(3, RunTableModel::ColumnCount - 1));

        // The timer flushes by itself.
        changed.clear();
        m_monitor->setTags(id("draft-notebook"), {QStringLiteral("y")});
        QTRY_COMPARE(changed.count(), 1);
    }

    void filterCountsFollowTheStates()
    {
        for (const char *ref : {"alice/bert-imdb", "alice/failing-run", "alice/titanic-baseline"})
            m_monitor->watch(QString::fromLatin1(ref));
        m_monitor->setTags(id("bert-imdb"), {QStringLiteral("llm")});
        RunTableModel model(m_monitor.get());
        RunFilterProxy proxy;
        proxy.setSourceModel(&model);
        QAbstractItemModelTester tester(&proxy,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy counts(&proxy, &RunFilterProxy::countsChanged);
        QCOMPARE(proxy.count(RunCategory::All), 3);
        QCOMPARE(proxy.count(RunCategory::Unknown), 3); // nothing polled yet

        m_monitor->start();
        QTRY_COMPARE(proxy.count(RunCategory::Queued), 1);
        QTRY_COMPARE(proxy.count(RunCategory::Error), 1);
        QTRY_COMPARE(proxy.count(RunCategory::Complete), 1);
        QVERIFY(counts.count() >= 1);

        m_sim->advance(15);
        QTRY_COMPARE(proxy.count(RunCategory::Running), 1);
        QCOMPARE(proxy.count(RunCategory::Queued), 0);

        proxy.setCategory(RunCategory::Error);
        QCOMPARE(proxy.rowCount(), 1);
        QCOMPARE(proxy.index(0, 0).data(RunTableModel::RefRole).toString(),
                 QStringLiteral("alice/failing-run"));
        QVERIFY(!proxy.index(0, 0).data(RunTableModel::FailureRole).toString().isEmpty());

        proxy.setCategory(RunCategory::All);
        proxy.setTag(QStringLiteral("llm"));
        QCOMPARE(proxy.rowCount(), 1);
        QCOMPARE(proxy.tagCounts().value(QStringLiteral("llm")), 1);
        proxy.setTag({});
        proxy.setText(QStringLiteral("titanic"));
        QCOMPARE(proxy.rowCount(), 1);
        proxy.setText({});
        QCOMPARE(proxy.rowCount(), 3);

        // The run that went from queued to running: the category filter follows it.
        proxy.setCategory(RunCategory::Running);
        QCOMPARE(proxy.rowCount(), 1);
        m_sim->advance(500);
        QTRY_COMPARE(proxy.rowCount(), 0);
        QCOMPARE(proxy.count(RunCategory::Complete), 2);
    }

    void rawValuesSortAndCountDown()
    {
        m_monitor->watch(QStringLiteral("alice/bert-imdb"));
        m_monitor->watch(QStringLiteral("alice/titanic-baseline"));
        RunTableModel model(m_monitor.get());
        RunFilterProxy proxy;
        proxy.setSourceModel(&model);
        m_monitor->start();
        m_sim->advance(15);
        const RunId bert = id("bert-imdb");
        QTRY_VERIFY(m_monitor->state(bert)->session &&
                    m_monitor->state(bert)->session->status == KernelStatus::Running);
        model.flush();
        const int row = model.rowOf(bert);
        const double left = model.index(row, RunTableModel::TimeLeftColumn).data().toDouble();
        QVERIFY2(left > 11.9 * 3600 && left <= 12 * 3600, qPrintable(QString::number(left)));
        const int other = model.rowOf(id("titanic-baseline"));
        QCOMPARE(model.index(other, RunTableModel::TimeLeftColumn).data().toDouble(), -1.0);

        // Pin the clock an hour later: the countdown moves, the elapsed time grows.
        const QDateTime later = QDateTime::currentDateTimeUtc().addSecs(3600);
        model.setClock([later] { return later; });
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        model.refreshTimes();
        QCOMPARE(changed.count(), 1);
        const double leftLater = model.index(row, RunTableModel::TimeLeftColumn).data().toDouble();
        QVERIFY(qAbs((left - leftLater) - 3600) < 60);
        QVERIFY(model.index(row, RunTableModel::ElapsedColumn).data().toDouble() >= 3600);

        proxy.sort(RunTableModel::TimeLeftColumn, Qt::DescendingOrder);
        QCOMPARE(proxy.index(0, 0).data(RunTableModel::RunIdRole).toLongLong(), bert);
    }
};

QTEST_GUILESS_MAIN(TestRunTableModel)
#include "tst_runtablemodel.moc"
