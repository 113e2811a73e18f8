// Deck end to end against the in-process simulator (basic.json, frozen clock moved with
// advance()): import, log streaming into the tail, metrics into the store, one alert for a
// failed run, the quota panel, and a restart that brings runs, sessions and the log back.

#include "alertengine.h"
#include "curlhttpclient.h"
#include "deck.h"
#include "kaggleclient.h"
#include "logarchive.h"
#include "logfollower.h"
#include "logformat.h"
#include "logtailmodel.h"
#include "quotamodel.h"
#include "runlog.h"
#include "runmonitor.h"
#include "simulator.h"
#include "store.h"

#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace kd;

namespace kd {
namespace {

const QString kUser = QStringLiteral("alice");
const QString kKey = QStringLiteral("alice-key-123456");

/// basic.json, with two changes that the checks below need: the failing run starts now (its
/// failure in the file happened before anyone watched, which by design raises no alert), and
/// the simulated wall clock is the real one, so the quota window is this week's.
QByteArray scenario()
{
    QFile f(QStringLiteral(KD_TEST_DATA_DIR "/scenarios/basic.json"));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    QJsonObject root = QJsonDocument::fromJson(f.readAll()).object();
    QJsonObject options = root.value(QStringLiteral("options")).toObject();
    options.insert(QStringLiteral("startTime"), QStringLiteral("now"));
    root.insert(QStringLiteral("options"), options);
    QJsonObject quota = root.value(QStringLiteral("quota")).toObject();
    // Four days ahead, whatever the weekday: the week must not roll over during the test.
    quota.insert(QStringLiteral("refreshTime"),
                 QDateTime::currentDateTimeUtc().addDays(4).toString(Qt::ISODateWithMs));
    root.insert(QStringLiteral("quota"), quota);
    QJsonArray kernels = root.value(QStringLiteral("kernels")).toArray();
    for (qsizetype i = 0; i < kernels.size(); ++i) {
        QJsonObject k = kernels.at(i).toObject();
        if (k.value(QStringLiteral("ref")).toString() == u"alice/failing-run") {
            k.insert(QStringLiteral("startAt"), 0);
            kernels.replace(i, k);
        }
    }
    root.insert(QStringLiteral("kernels"), kernels);
    return QJsonDocument(root).toJson(QJsonDocument::Compact);
}

Deck::Settings fastSettings()
{
    Deck::Settings s;
    s.monitor.pollRunningSeconds = 0.1;
    s.monitor.pollQueuedSeconds = 0.2;
    s.monitor.quotaPollSeconds = 1;
    s.monitor.pushGraceSeconds = 30;
    s.monitor.maxBackoffSeconds = 1;
    s.monitor.requestBudgetPerMinute = 100'000;
    s.monitor.followLogs = true;
    s.alertTickSeconds = 1;
    return s;
}

QStringList completedLines(const LogTailModel *tail)
{
    QStringList lines;
    for (int row = 0; row < tail->completedRowCount(); ++row)
        lines.append(tail->textAt(row));
    return lines;
}

} // namespace
} // namespace kd

class TestDeck : public QObject
{
    Q_OBJECT

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<sim::Simulator> m_sim;
    std::unique_ptr<net::CurlHttpClient> m_http;
    std::unique_ptr<KaggleClient> m_client;
    std::unique_ptr<Store> m_store;

    std::unique_ptr<Deck> makeDeck()
    {
        auto deck =
            std::make_unique<Deck>(m_client.get(), m_store.get(), m_dir->path(), fastSettings());
        LogFollower::Settings ls;
        ls.reconnectDelayMs = 50;
        ls.pollIntervalMs = 100;
        ls.budgetRetryMs = 50;
        deck->monitor()->logFollower()->setSettings(ls);
        return deck;
    }
    void openStore()
    {
        m_store.reset();
        auto store = Store::open(m_dir->filePath(QStringLiteral("history.sqlite")));
        QVERIFY2(store.ok(), qPrintable(store.ok() ? QString() : store.error().message));
        m_store = std::move(store).value();
    }
    RunId runOf(const Deck &deck, const char *slug) const
    {
        return deck.monitor()->runByRef({kUser, QString::fromLatin1(slug)}).value_or(0);
    }
    KernelStatus statusOf(const Deck &deck, RunId id) const
    {
        const RunState *s = deck.monitor()->state(id);
        return s && s->session ? s->session->status : KernelStatus::NewScript;
    }

private slots:
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
        sim::Options so;
        so.speed = 0;
        so.seed = 9;
        so.sseIdleTimeoutSeconds = 2;
        m_sim = std::make_unique<sim::Simulator>(so);
        std::string error;
        const QByteArray json = scenario();
        QVERIFY(!json.isEmpty());
        QVERIFY2(m_sim->loadScenarioJson(json.toStdString(), &error), error.c_str());
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
        m_dir.reset();
    }

    void followsLogsMetricsAlertsQuotaAndSurvivesARestart()
    {
        QStringList tailBefore;
        RunId bert = 0;
        RunId failing = 0;
        SessionId bertSession = 0;
        {
            auto deck = makeDeck();
            std::optional<Result<int>> imported;
            deck->monitor()->importMyKernels(
                [&](Result<int> r) { imported.emplace(std::move(r)); });
            QTRY_VERIFY(imported.has_value());
            QVERIFY(imported->ok());
            QCOMPARE(imported->value(), 4); // alice's kernels, the draft included
            bert = runOf(*deck, "bert-imdb");
            failing = runOf(*deck, "failing-run");
            QVERIFY(bert && failing);

            QSignalSpy metrics(deck.get(), &Deck::metricsAdded);
            QSignalSpy alerts(deck.get(), &Deck::alertRaised);
            deck->start();
            QTRY_COMPARE(statusOf(*deck, bert), KernelStatus::Queued);
            QCOMPARE(deck->logTail(bert)->rowCount(), 0);

            m_sim->advance(15);
            QTRY_COMPARE(statusOf(*deck, bert), KernelStatus::Running);
            QTRY_COMPARE(statusOf(*deck, failing), KernelStatus::Running);
            // Training in small steps, so the lines arrive over the live stream.
            for (int i = 0; i < 20; ++i) {
                m_sim->advance(5);
                QTest::qWait(100);
            }
            QTRY_VERIFY(deck->logTail(bert)->rowCount() > 0);
            m_sim->advance(300);
            QTRY_COMPARE(statusOf(*deck, bert), KernelStatus::Complete);
            QTRY_COMPARE(statusOf(*deck, failing), KernelStatus::Error);
            QTRY_COMPARE(deck->monitor()->logFollower()->mode(bert), LogFollower::Mode::Done);
            QTRY_COMPARE(deck->monitor()->logFollower()->mode(failing), LogFollower::Mode::Done);
            bertSession = deck->monitor()->state(bert)->session->id;

            // The tail shows the run's log; a Trainer log carries "loss" points.
            LogTailModel *tail = deck->logTail(bert);
            QVERIFY(tail->completedRowCount() > 10);
            QVERIFY(tail->find(QStringLiteral("loss"), 0) >= 0);
            tailBefore = completedLines(tail);

            // Metrics were announced and stored, exactly the announced ones.
            qsizetype announcedLoss = 0;
            for (const QList<QVariant> &args : std::as_const(metrics)) {
                if (args.at(0).value<RunId>() != bert)
                    continue;
                QCOMPARE(args.at(1).value<SessionId>(), bertSession);
                for (const MetricPoint &p : args.at(2).value<QList<MetricPoint>>())
                    announcedLoss += p.series == u"loss";
            }
            QVERIFY(announcedLoss > 0);
            const QList<MetricPoint> stored =
                m_store->metricPoints(bertSession, QStringLiteral("loss"));
            QCOMPARE(stored.size(), announcedLoss);
            for (const MetricPoint &p : stored)
                QCOMPARE(p.sessionId, bertSession);

            // Exactly one Failed alert, for the failing run, with Kaggle's message; stored.
            QList<Alert> failed;
            for (const QList<QVariant> &args : std::as_const(alerts)) {
                const Alert a = args.at(0).value<Alert>();
                if (a.kind == AlertKind::Failed)
                    failed.append(a);
            }
            QCOMPARE(failed.size(), 1);
            QCOMPARE(failed.first().runId, failing);
            QVERIFY2(failed.first().text.contains(u"CUDA out of memory"),
                     qPrintable(failed.first().text));
            QVERIFY(failed.first().id > 0);
            int storedFailed = 0;
            for (const Alert &a : m_store->alerts())
                if (a.kind == AlertKind::Failed) {
                    ++storedFailed;
                    QCOMPARE(a.id, failed.first().id);
                    QCOMPARE(a.runId, failing);
                }
            QCOMPARE(storedFailed, 1);
            // The runs that ended before anyone watched are no news.
            for (const QList<QVariant> &args : std::as_const(alerts))
                QVERIFY(args.at(0).value<Alert>().runId != runOf(*deck, "titanic-baseline"));

            // The quota panel shows the simulator's GPU numbers once the runs are over.
            const QuotaModel *quota = deck->quotaModel();
            const QModelIndex total = quota->index(QuotaModel::GpuRow, QuotaModel::TotalColumn);
            const QModelIndex used = quota->index(QuotaModel::GpuRow, QuotaModel::UsedColumn);
            QTRY_VERIFY(quota->data(total, QuotaModel::KnownRole).toBool());
            QCOMPARE(quota->data(total, QuotaModel::RawRole).toDouble(), 108'000.0);
            const double simUsed = m_sim->gpuSecondsUsed("alice");
            QVERIFY(simUsed > 3600); // the hour in the file plus both GPU runs
            QTRY_VERIFY_WITH_TIMEOUT(
                std::abs(quota->data(used, QuotaModel::RawRole).toDouble() - simUsed) < 1.0,
                10'000);
            deck->stop();
        }

        // Restart: a new store connection and a new Deck see everything again.
        openStore();
        auto deck = makeDeck();
        QCOMPARE(deck->monitor()->runIds().size(), 4);
        QCOMPARE(statusOf(*deck, bert), KernelStatus::Complete);
        QCOMPARE(statusOf(*deck, failing), KernelStatus::Error);
        QCOMPARE(m_store->sessions(bert).size(), 1);
        QCOMPARE(deck->monitor()->state(bert)->session->id, bertSession);
        QVERIFY(!m_store->metricPoints(bertSession, QStringLiteral("loss")).isEmpty());
        LogTailModel *tail = deck->logTail(bert);
        QVERIFY(tail);
        QCOMPARE(completedLines(tail), tailBefore); // replayed from the archive

        // Polling again finds the same ended runs: no alert is raised a second time.
        QSignalSpy alerts(deck.get(), &Deck::alertRaised);
        const qint64 before = m_sim->requests().size();
        deck->start();
        QTRY_VERIFY(qint64(m_sim->requests().size()) > before + 4);
        QTest::qWait(300);
        QCOMPARE(alerts.count(), 0);
        QCOMPARE(statusOf(*deck, failing), KernelStatus::Error);
        QCOMPARE(m_store->sessions(failing).size(), 1);
    }

    void restartWhileRunningKeepsFollowingTheLog()
    {
        RunId bert = 0;
        QStringList linesBefore;
        {
            auto deck = makeDeck();
            const auto id = deck->monitor()->watch(QStringLiteral("alice/bert-imdb"),
                                                   QStringLiteral("BERT IMDB"));
            QVERIFY(id.ok());
            bert = id.value();
            deck->start();
            m_sim->advance(15);
            QTRY_COMPARE(statusOf(*deck, bert), KernelStatus::Running);
            for (int i = 0; i < 6; ++i) {
                m_sim->advance(5);
                QTest::qWait(100);
            }
            QTRY_VERIFY(deck->logTail(bert)->completedRowCount() > 0);
            QTest::qWait(300);
            linesBefore = completedLines(deck->logTail(bert));
            deck->stop();
        }

        // The app restarts while the run goes on: the tail comes back from the archive...
        openStore();
        auto deck = makeDeck();
        QCOMPARE(statusOf(*deck, bert), KernelStatus::Running);
        const SessionId session = deck->monitor()->state(bert)->session->id;
        QCOMPARE(completedLines(deck->logTail(bert)), linesBefore);
        // ...and the live log keeps coming in while the run is still running.
        deck->start();
        for (int i = 0; i < 6; ++i) {
            m_sim->advance(5);
            QTest::qWait(100);
        }
        QCOMPARE(m_sim->kernelStatus("alice/bert-imdb"), std::string("RUNNING"));
        QTRY_VERIFY2(deck->monitor()->logFollower()->mode(bert) == LogFollower::Mode::Streaming,
                     "the log of a running run is not followed after a restart");
        const auto hasNewLine = [&] {
            const QStringList now = completedLines(deck->logTail(bert));
            return std::any_of(now.cbegin(), now.cend(),
                               [&](const QString &line) { return !linesBefore.contains(line); });
        };
        QTRY_VERIFY(hasNewLine());

        m_sim->advance(300);
        QTRY_COMPARE(statusOf(*deck, bert), KernelStatus::Complete);
        QTRY_COMPARE(deck->monitor()->logFollower()->mode(bert), LogFollower::Mode::Done);

        // Every line once, however often the session was replayed to us: the archive, the
        // tail and the stored metrics against the session's stored log read afresh.
        std::optional<Result<KernelOutput>> output;
        m_client->listKernelSessionOutput(
            {kUser, QStringLiteral("bert-imdb")}, nullptr,
            [&](Result<KernelOutput> r) { output.emplace(std::move(r)); }, 200, 1);
        QTRY_VERIFY(output.has_value());
        QVERIFY(output->ok());
        const auto events = parseLogArray(output->value().log.toUtf8());
        QVERIFY(events.ok());
        QTemporaryDir scratch;
        RunLog reference(bert, session, scratch.path(), RunSettings{});
        const qsizetype referencePoints = reference.ingest(events->events).points.size();
        reference.finish();

        const auto archived = LogArchive::readEvents(deck->archivePath(session));
        QVERIFY(archived.ok());
        QCOMPARE(archived->size(), events->events.size());
        QCOMPARE(deck->logTail(bert)->totalLineCount(), reference.tail()->totalLineCount());
        QCOMPARE(m_store->metricPoints(session).size(), referencePoints);
    }
};

QTEST_GUILESS_MAIN(TestDeck)
#include "tst_deck.moc"
