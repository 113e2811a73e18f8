// The Timeline and Metrics tabs as real widgets, offscreen, against the in-process simulator:
// lanes and state bars from the stored transitions, series parsed from the training log, the
// chain view's session boundaries, palettes, tooltips and screenshots.

#include "chartstyle.h"
#include "curlhttpclient.h"
#include "deck.h"
#include "kaggleclient.h"
#include "logfollower.h"
#include "metricschart.h"
#include "runmonitor.h"
#include "simulator.h"
#include "store.h"
#include "theme.h"
#include "timelinechart.h"

#include <QAreaSeries>
#include <QCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QComboBox>
#include <QDateTimeAxis>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QLabel>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QScrollArea>
#include <QScrollBar>
#include <QStackedWidget>
#include <QStyleFactory>
#include <QTemporaryDir>
#include <QTest>
#include <QToolTip>
#include <QValueAxis>

#include <functional>
#include <memory>

using namespace kd;

namespace {

/// basic.json moved to the present: the monitor stamps events with the real clock, so the
/// scenario must start now for its quota window and session times to line up with them.
/// `extra` patches the text further (a push script for bert-imdb, for instance).
QByteArray scenario(const QList<QPair<QString, QString>> &extra = {})
{
    QFile file(QStringLiteral(KD_TEST_DATA_DIR "/scenarios/basic.json"));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    QString text = QString::fromUtf8(file.readAll());
    text.replace(QStringLiteral("\"startTime\": \"2026-06-01T12:00:00.000Z\""),
                 QStringLiteral("\"startTime\": \"now\""));
    const QString refresh = QDateTime::currentDateTimeUtc().addDays(4).toString(Qt::ISODateWithMs);
    text.replace(QStringLiteral("2026-06-06T00:00:00.000Z"), refresh);
    for (const auto &[from, to] : extra)
        text.replace(from, to);
    return text.toUtf8();
}

/// A second push of bert-imdb runs like the first, so the chain view has two sessions.
const QPair<QString, QString> kBertScript{
    QStringLiteral("\"logStyle\": \"hf\", \"checkpointBytes\": 65536}"),
    QStringLiteral("\"logStyle\": \"hf\", \"checkpointBytes\": 65536, \"script\": "
                   "[{\"queueSeconds\": 5, \"runSeconds\": 100, \"epochs\": 2, "
                   "\"stepsPerEpoch\": 200, \"logStyle\": \"hf\"}]}")};

struct Fixture
{
    QTemporaryDir dir;
    std::unique_ptr<sim::Simulator> sim;
    std::unique_ptr<net::CurlHttpClient> http;
    std::unique_ptr<KaggleClient> client;
    std::unique_ptr<Store> store;
    std::unique_ptr<Deck> deck;

    /// `seed` fills the store before the deck loads it; `start` false keeps the monitor idle.
    bool setUp(const QByteArray &json, const std::function<void(Store &)> &seed = {},
               bool start = true)
    {
        if (!dir.isValid())
            return false;
        sim::Options so;
        so.speed = 0; // the test moves the clock
        so.seed = 11;
        so.sseIdleTimeoutSeconds = 5;
        sim = std::make_unique<sim::Simulator>(so);
        std::string error;
        if (!sim->loadScenarioJson(json.toStdString(), &error)) {
            qWarning("scenario: %s", error.c_str());
            return false;
        }
        if (!sim->start())
            return false;
        http = std::make_unique<net::CurlHttpClient>();
        KaggleClient::Options o;
        o.endpoint = QUrl(QString::fromStdString(sim->endpoint()));
        o.backoffBaseMs = 10;
        o.backoffMaxMs = 50;
        o.maxAttempts = 2;
        o.requestTimeoutMs = 5000;
        client = std::make_unique<KaggleClient>(
            http.get(),
            Credentials::fromKey(QStringLiteral("alice"), QStringLiteral("alice-key-123456")), o);
        auto opened = Store::open(dir.filePath(QStringLiteral("history.sqlite")));
        if (!opened.ok())
            return false;
        store = std::move(opened).value();
        if (seed)
            seed(*store);
        Deck::Settings settings;
        settings.monitor.pollRunningSeconds = 0.1;
        settings.monitor.pollQueuedSeconds = 0.2;
        settings.monitor.quotaPollSeconds = 1;
        settings.monitor.pushGraceSeconds = 30;
        settings.monitor.maxBackoffSeconds = 1;
        settings.monitor.requestBudgetPerMinute = 100'000;
        deck = std::make_unique<Deck>(client.get(), store.get(), dir.path(), settings);
        LogFollower::Settings ls;
        ls.reconnectDelayMs = 50;
        ls.pollIntervalMs = 200;
        deck->monitor()->logFollower()->setSettings(ls);
        if (start)
            deck->start();
        return true;
    }

    ~Fixture()
    {
        deck.reset();
        store.reset();
        client.reset();
        http.reset();
        sim.reset();
    }

    RunId watch(const char *ref)
    {
        const auto id = deck->monitor()->watch(QString::fromLatin1(ref));
        if (!id.ok())
            return 0;
        deck->monitor()->pollNow(*id);
        return *id;
    }

    std::optional<KernelStatus> status(RunId id) const
    {
        const RunState *s = deck->monitor()->state(id);
        if (!s || !s->session)
            return std::nullopt;
        return s->session->status;
    }

    /// Moves the virtual clock in small steps so the log stream delivers as it goes.
    void runFor(double seconds)
    {
        for (double t = 0; t < seconds; t += 5) {
            sim->advance(5);
            QTest::qWait(60);
        }
    }

    /// Pushes bert-imdb again through the real client and tells the monitor, as the app does.
    bool push(RunId id)
    {
        SaveKernelRequest request;
        request.slug = QStringLiteral("alice/bert-imdb");
        request.newTitle = QStringLiteral("BERT IMDB");
        request.text = QStringLiteral("{\"cells\": [], \"metadata\": {}}");
        request.language = QStringLiteral("python");
        request.kernelType = QStringLiteral("notebook");
        request.machineShape = QStringLiteral("NvidiaTeslaT4");
        request.enableGpu = true;
        std::optional<Result<SaveKernelResponse>> pushed;
        client->saveKernel(request, nullptr,
                           [&](Result<SaveKernelResponse> r) { pushed.emplace(std::move(r)); });
        if (!QTest::qWaitFor([&] { return pushed.has_value(); }, 5000) || !pushed->ok() ||
            !pushed->value().error.isEmpty())
            return false;
        deck->monitor()->notePush(id, pushed->value().versionNumber,
                                  QStringLiteral("NvidiaTeslaT4"));
        return true;
    }
};

void usePalette(QWidget *widget, bool dark)
{
    widget->setPalette(dark ? theme::darkPalette() : theme::lightPalette());
}

bool saveScreenshot(QWidget *widget, const QString &name)
{
    // Charts lay out on the next pass of the event loop; grab what the user would see.
    QCoreApplication::processEvents();
    QTest::qWait(50);
    QDir().mkpath(QStringLiteral(KD_SCREENSHOT_DIR));
    return widget->grab().save(QDir(QStringLiteral(KD_SCREENSHOT_DIR)).filePath(name));
}

QAreaSeries *stateSeries(QChart *chart, ChartStyle::StateBucket bucket)
{
    for (QAbstractSeries *s : chart->series()) {
        if (s->name() == ChartStyle::stateName(bucket))
            return qobject_cast<QAreaSeries *>(s);
    }
    return nullptr;
}

/// Bars drawn by a state's area: each is six points of its outline plus the shared origin.
int barCount(QChart *chart, ChartStyle::StateBucket bucket)
{
    QAreaSeries *area = stateSeries(chart, bucket);
    if (!area || area->upperSeries()->count() == 0)
        return 0;
    return (area->upperSeries()->count() - 1) / 6;
}

QCategoryAxis *laneAxis(QChart *chart)
{
    const auto axes = chart->axes(Qt::Vertical);
    return axes.isEmpty() ? nullptr : qobject_cast<QCategoryAxis *>(axes.constFirst());
}

QList<QLineSeries *> lineSeries(QChart *chart)
{
    QList<QLineSeries *> out;
    for (QAbstractSeries *s : chart->series()) {
        if (auto *line = qobject_cast<QLineSeries *>(s))
            out.append(line);
    }
    return out;
}

QCategoryAxis *sessionAxis(QChart *chart)
{
    const auto axes = chart->axes(Qt::Horizontal);
    for (QAbstractAxis *axis : axes) {
        if (auto *c = qobject_cast<QCategoryAxis *>(axis))
            return c;
    }
    return nullptr;
}

} // namespace

class TestCharts : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
        QApplication::setPalette(theme::lightPalette());
    }

    void timelineExplainsAnEmptyHistory()
    {
        Fixture f;
        QVERIFY(f.setUp(scenario()));
        TimelineChart timeline(f.deck.get());
        timeline.resize(900, 400);
        timeline.show();
        timeline.refresh();
        auto *empty = timeline.findChild<QLabel *>(QStringLiteral("timelineEmptyLabel"));
        QVERIFY(empty);
        QVERIFY(empty->isVisible());
        QVERIFY(empty->text().contains(u"No state changes recorded yet"));
        QVERIFY(
            !timeline.findChild<QChartView *>(QStringLiteral("timelineChartView"))->isVisible());
    }

    void timelineHasALanePerRunWithStateBars()
    {
        Fixture f;
        QVERIFY(f.setUp(scenario()));
        const RunId bert = f.watch("alice/bert-imdb");
        const RunId failing = f.watch("alice/failing-run");
        const RunId titanic = f.watch("alice/titanic-baseline");
        QVERIFY(bert && failing && titanic);
        QTRY_COMPARE(f.status(bert), std::optional(KernelStatus::Queued));
        QTRY_COMPARE(f.status(failing), std::optional(KernelStatus::Error));
        QTRY_COMPARE(f.status(titanic), std::optional(KernelStatus::Complete));

        TimelineChart timeline(f.deck.get());
        timeline.resize(1000, 420);
        timeline.show();
        QVERIFY(QTest::qWaitForWindowExposed(&timeline));
        auto *view = timeline.findChild<QChartView *>(QStringLiteral("timelineChartView"));
        QVERIFY(view);
        QChart *chart = view->chart();
        timeline.refresh();
        QVERIFY(view->isVisible());

        // One lane per watched run, labelled with its title; categories run bottom-up, so the
        // first run (the top lane) comes last.
        QCategoryAxis *lanes = laneAxis(chart);
        QVERIFY(lanes);
        QCOMPARE(lanes->count(), 3);
        QCOMPARE(lanes->categoriesLabels(),
                 (QStringList{QStringLiteral("Titanic Baseline"), QStringLiteral("Failing Run"),
                              QStringLiteral("BERT IMDB")}));
        QCOMPARE(lanes->min(), -0.5);
        QCOMPARE(lanes->max(), 2.5);
        // Five states in the legend, whatever happened so far, and the "now" line.
        QCOMPARE(chart->series().size(), ChartStyle::kStateBucketCount + 1);
        int legendEntries = 0;
        for (QLegendMarker *marker : chart->legend()->markers())
            legendEntries += marker->isVisible();
        QCOMPARE(legendEntries, ChartStyle::kStateBucketCount);
        QCOMPARE(barCount(chart, ChartStyle::StateBucket::Queued), 1);
        QCOMPARE(barCount(chart, ChartStyle::StateBucket::Error), 1);
        QCOMPARE(barCount(chart, ChartStyle::StateBucket::Complete), 1);
        QCOMPARE(barCount(chart, ChartStyle::StateBucket::Running), 0);
        QCOMPARE(stateSeries(chart, ChartStyle::StateBucket::Running)->brush().color(),
                 QColor(0x2f, 0x7d, 0xe1));

        // The transitions of bert-imdb arrive live; the running bar grows until now.
        f.sim->advance(15);
        QTRY_COMPARE(f.status(bert), std::optional(KernelStatus::Running));
        QTRY_COMPARE(barCount(chart, ChartStyle::StateBucket::Running), 1);
        auto *xAxis = qobject_cast<QDateTimeAxis *>(chart->axes(Qt::Horizontal).constFirst());
        QVERIFY(xAxis);
        QVERIFY(xAxis->max() >= QDateTime::currentDateTime().addSecs(-5));
        f.sim->advance(300);
        QTRY_COMPARE(f.status(bert), std::optional(KernelStatus::Complete));
        QTRY_COMPARE(barCount(chart, ChartStyle::StateBucket::Complete), 2);
        QCOMPARE(barCount(chart, ChartStyle::StateBucket::Running), 1);

        // The bars' exact times are one hover away.
        QAreaSeries *running = stateSeries(chart, ChartStyle::StateBucket::Running);
        const QList<QPointF> outline = running->upperSeries()->points();
        QVERIFY(outline.size() >= 7);
        const QPointF middle((outline[1].x() + outline[2].x()) / 2,
                             (outline[1].y() + outline[3].y()) / 2);
        const QPoint at = view->mapFromScene(chart->mapToPosition(middle, running));
        QTest::mouseMove(view->viewport(), at);
        QTRY_VERIFY(QToolTip::isVisible());
        QVERIFY2(QToolTip::text().contains(u"BERT IMDB") && QToolTip::text().contains(u"Running"),
                 qPrintable(QToolTip::text()));

        // Earlier sessions, as a previous run of the app would have stored them, give the
        // screenshot realistic hours; every state appears once.
        const QDateTime now = QDateTime::currentDateTimeUtc();
        const auto addSession = [&](RunId run, qint64 version,
                                    const QList<QPair<KernelStatus, double>> &steps) {
            SessionRecord s;
            s.runId = run;
            s.versionNumber = version;
            s.machineShape = QStringLiteral("NvidiaTeslaT4");
            s.firstSeen = now.addSecs(qint64(-steps.first().second * 3600));
            s.endedAt = now.addSecs(qint64(-steps.last().second * 3600));
            s.status = steps.last().first;
            const auto id = f.store->addSession(s);
            QVERIFY(id.ok());
            for (const auto &[status, hoursAgo] : steps)
                QVERIFY(
                    f.store->addStatusEvent({*id, status, now.addSecs(qint64(-hoursAgo * 3600))})
                        .ok());
        };
        addSession(bert, 1,
                   {{KernelStatus::Queued, 9.5},
                    {KernelStatus::Running, 9.2},
                    {KernelStatus::Complete, 5.1}});
        addSession(bert, 2,
                   {{KernelStatus::Queued, 4.8},
                    {KernelStatus::Running, 4.7},
                    {KernelStatus::Complete, 1.2}});
        addSession(failing, 1,
                   {{KernelStatus::Queued, 8.0},
                    {KernelStatus::Running, 7.6},
                    {KernelStatus::CancelRequested, 6.1},
                    {KernelStatus::CancelAcknowledged, 6.0}});
        addSession(failing, 2,
                   {{KernelStatus::Queued, 3.0},
                    {KernelStatus::Running, 2.9},
                    {KernelStatus::Error, 2.2}});
        addSession(titanic, 1,
                   {{KernelStatus::Queued, 6.5},
                    {KernelStatus::Running, 6.45},
                    {KernelStatus::Complete, 5.9}});
        timeline.refresh();
        QCOMPARE(barCount(chart, ChartStyle::StateBucket::Cancelled), 1);
        QCOMPARE(barCount(chart, ChartStyle::StateBucket::Running), 6);
        QVERIFY(xAxis->min() <= now.addSecs(-9 * 3600).toLocalTime());
        QVERIFY(saveScreenshot(&timeline, QStringLiteral("timeline.png")));

        // Selected runs only.
        timeline.setRuns({bert});
        timeline.refresh();
        QCOMPARE(lanes->categoriesLabels(), QStringList{QStringLiteral("BERT IMDB")});
        QCOMPARE(barCount(chart, ChartStyle::StateBucket::Error), 0);
        timeline.setRuns({});
        timeline.refresh();
        QCOMPARE(lanes->count(), 3);

        // Dark palette: chart chrome follows it, the state colours stay the icons' colours.
        usePalette(&timeline, true);
        QCOMPARE(chart->backgroundBrush().color(), theme::darkPalette().color(QPalette::Base));
        QCOMPARE(lanes->labelsBrush().color(), theme::darkPalette().color(QPalette::Text));
        QVERIFY(saveScreenshot(&timeline, QStringLiteral("timeline-dark.png")));
    }

    void metricsListSeriesAndMarkSessionBoundaries()
    {
        Fixture f;
        QVERIFY(f.setUp(scenario({kBertScript})));
        const RunId bert = f.watch("alice/bert-imdb");
        QVERIFY(bert);
        QTRY_COMPARE(f.status(bert), std::optional(KernelStatus::Queued));

        MetricsChart metrics(f.deck.get());
        metrics.resize(1000, 420);
        metrics.show();
        QVERIFY(QTest::qWaitForWindowExposed(&metrics));
        metrics.setRun(bert);
        auto *combo = metrics.findChild<QComboBox *>(QStringLiteral("metricsSeriesCombo"));
        auto *view = metrics.findChild<QChartView *>(QStringLiteral("metricsChartView"));
        auto *toggle = metrics.findChild<QCheckBox *>(QStringLiteral("metricsChainToggle"));
        auto *empty = metrics.findChild<QLabel *>(QStringLiteral("metricsEmptyLabel"));
        QVERIFY(combo && view && toggle && empty);
        QVERIFY(empty->isVisible());
        QVERIFY(empty->text().contains(u"No metrics parsed from this run's log yet"));
        QCOMPARE(combo->count(), 0);

        // The run trains: HF Trainer dicts arrive live and become series, loss first.
        f.sim->advance(15);
        QTRY_COMPARE(f.status(bert), std::optional(KernelStatus::Running));
        f.runFor(60);
        QTRY_VERIFY(combo->count() > 0);
        QCOMPARE(combo->itemText(0), QStringLiteral("loss"));
        QCOMPARE(metrics.currentSeries(), QStringLiteral("loss"));
        QVERIFY(view->isVisible());
        QLineSeries *line = lineSeries(view->chart()).value(0);
        QVERIFY(line);
        QTRY_VERIFY(line->count() > 2);
        const int early = line->count();
        f.runFor(60);
        f.sim->advance(300);
        QTRY_COMPARE(f.status(bert), std::optional(KernelStatus::Complete));
        QTRY_VERIFY(line->count() > early);
        QVERIFY(combo->findText(QStringLiteral("eval_loss")) >= 0);
        QVERIFY(combo->findText(QStringLiteral("learning_rate")) >= 0);
        const QList<QPointF> firstRun = line->points();
        auto *xAxis = qobject_cast<QValueAxis *>(view->chart()->axes(Qt::Horizontal).constFirst());
        QVERIFY(xAxis);
        QCOMPARE(xAxis->max(),
                 std::max_element(firstRun.begin(), firstRun.end(), [](auto a, auto b) {
                     return a.x() < b.x();
                 })->x());

        // Another series from the chooser.
        combo->setCurrentIndex(combo->findText(QStringLiteral("eval_loss")));
        QTRY_COMPARE(metrics.currentSeries(), QStringLiteral("eval_loss"));
        QTRY_VERIFY(line->count() >= 1);
        combo->setCurrentIndex(combo->findText(QStringLiteral("loss")));
        QTRY_COMPARE(line->count(), firstRun.size());

        // A second session of the run: the default view follows the latest session, the chain
        // view joins both with one dashed boundary labelled "run 2".
        QVERIFY(f.push(bert));
        f.sim->advance(10);
        QTRY_COMPARE(f.status(bert), std::optional(KernelStatus::Running));
        f.runFor(100);
        f.sim->advance(300);
        QTRY_COMPARE(f.status(bert), std::optional(KernelStatus::Complete));
        QTRY_COMPARE(f.store->sessions(bert).size(), 2);
        QTRY_VERIFY(f.store->metricPoints(f.store->sessions(bert).last().id, QStringLiteral("loss"))
                        .size() > 2);
        QTRY_VERIFY(line->count() > 2);
        QCOMPARE(lineSeries(view->chart()).size(), 1); // no boundary in a single session
        QVERIFY(!sessionAxis(view->chart())->isVisible());

        QTest::mouseClick(toggle, Qt::LeftButton);
        QVERIFY(metrics.isChainView());
        QTRY_COMPARE(lineSeries(view->chart()).size(), 2);
        QLineSeries *boundary = lineSeries(view->chart()).at(1);
        QCOMPARE(boundary->name(), QStringLiteral("run 2"));
        QCOMPARE(boundary->pen().style(), Qt::DashLine);
        QCOMPARE(boundary->count(), 2);
        QCOMPARE(boundary->at(0).x(), boundary->at(1).x());
        QCategoryAxis *labels = sessionAxis(view->chart());
        QVERIFY(labels->isVisible());
        QCOMPARE(labels->categoriesLabels(), QStringList{QStringLiteral("run 2")});
        QCOMPARE(labels->endValue(QStringLiteral("run 2")), boundary->at(0).x());
        // Stitched: the second session continues to the right of the first.
        line = lineSeries(view->chart()).at(0);
        QVERIFY(line->count() > firstRun.size());
        QVERIFY(boundary->at(0).x() >= firstRun.constLast().x());
        QVERIFY(line->points().constLast().x() > boundary->at(0).x());

        // X axis choice: epochs keep the boundary, on the epoch scale.
        auto *axisCombo = metrics.findChild<QComboBox *>(QStringLiteral("metricsXAxisCombo"));
        QVERIFY(axisCombo);
        axisCombo->setCurrentIndex(axisCombo->findText(QStringLiteral("Epoch")));
        QTRY_VERIFY(xAxis->max() < 10);
        QCOMPARE(lineSeries(view->chart()).size(), 2);
        QVERIFY(saveScreenshot(&metrics, QStringLiteral("metrics.png")));

        usePalette(&metrics, true);
        QCOMPARE(view->chart()->backgroundBrush().color(),
                 theme::darkPalette().color(QPalette::Base));
        QVERIFY(saveScreenshot(&metrics, QStringLiteral("metrics-dark.png")));

        QTest::mouseClick(toggle, Qt::LeftButton);
        QTRY_COMPARE(lineSeries(view->chart()).size(), 1);
    }

    void metricsShowAFixedListOfSessions()
    {
        // Two finished sessions of an archived run, stored by an earlier run of the app; the
        // second one's loss (9.0) is far above the first one's (2.0 .. 1.1).
        QList<SessionId> archive;
        const auto seed = [&](Store &store) {
            WatchedRun run;
            run.ref = {QStringLiteral("alice"), QStringLiteral("archive-run")};
            run.title = QStringLiteral("Archive");
            const auto id = store.addRun(run);
            QVERIFY(id.ok());
            for (int k = 0; k < 2; ++k) {
                SessionRecord s;
                s.runId = *id;
                s.firstSeen = QDateTime::currentDateTimeUtc().addSecs(-7200 + k * 3600);
                s.status = KernelStatus::Complete;
                const auto sid = store.addSession(s);
                QVERIFY(sid.ok());
                archive.append(*sid);
                QList<MetricPoint> points;
                for (int i = 0; i < 10; ++i) {
                    MetricPoint p;
                    p.sessionId = *sid;
                    p.series = QStringLiteral("loss");
                    p.value = k == 0 ? 2.0 - i * 0.1 : 9.0;
                    p.logTime = i * 10;
                    p.step = i * 10;
                    points.append(p);
                }
                QVERIFY(store.addMetricPoints(points).ok());
            }
        };
        Fixture f;
        QVERIFY(f.setUp(scenario(), seed));
        QCOMPARE(archive.size(), 2);
        const RunId bert = f.watch("alice/bert-imdb");
        QVERIFY(bert);
        QTRY_COMPARE(f.status(bert), std::optional(KernelStatus::Queued));
        const SessionId live = f.store->latestSession(bert)->id;

        MetricsChart metrics(f.deck.get());
        metrics.resize(1000, 420);
        metrics.show();
        QVERIFY(QTest::qWaitForWindowExposed(&metrics));
        metrics.setRun(bert);
        auto *toggle = metrics.findChild<QCheckBox *>(QStringLiteral("metricsChainToggle"));
        auto *view = metrics.findChild<QChartView *>(QStringLiteral("metricsChartView"));
        auto *combo = metrics.findChild<QComboBox *>(QStringLiteral("metricsSeriesCombo"));
        QVERIFY(toggle && view && combo);
        QVERIFY(toggle->isVisible());
        QVERIFY(!metrics.isShowingSessions());

        // The archive's two sessions: stitched, the boundary labelled "step 2", no toggle.
        metrics.setSessions(archive);
        QVERIFY(metrics.isShowingSessions());
        QCOMPARE(metrics.run(), RunId(0));
        QVERIFY(!toggle->isVisible());
        QCOMPARE(metrics.currentSeries(), QStringLiteral("loss"));
        QTRY_VERIFY(view->isVisible());
        QTRY_COMPARE(lineSeries(view->chart()).size(), 2);
        QLineSeries *line = lineSeries(view->chart()).at(0);
        QCOMPARE(line->count(), 20);
        QCOMPARE(lineSeries(view->chart()).at(1)->name(), QStringLiteral("step 2"));
        QCOMPARE(sessionAxis(view->chart())->categoriesLabels(),
                 QStringList{QStringLiteral("step 2")});

        // bert trains meanwhile: its points are not in the list and stay off the chart.
        f.sim->advance(15);
        QTRY_COMPARE(f.status(bert), std::optional(KernelStatus::Running));
        f.runFor(40);
        QTRY_VERIFY(f.store->metricPoints(live, QStringLiteral("loss")).size() > 2);
        QTest::qWait(200);
        QCOMPARE(line->count(), 20);

        // The first archived session and bert's live one, with another label: what is stored
        // is read, and bert's next points follow live. The second archive session is left out.
        metrics.setSessions({archive.at(0), live}, QStringLiteral("part %1"));
        QTRY_VERIFY(line->count() > 12);
        QCOMPARE(lineSeries(view->chart()).size(), 2);
        QCOMPARE(lineSeries(view->chart()).at(1)->name(), QStringLiteral("part 2"));
        auto *yAxis = qobject_cast<QValueAxis *>(view->chart()->axes(Qt::Vertical).constFirst());
        QVERIFY(yAxis && yAxis->max() < 9.0);
        const int before = line->count();
        f.runFor(40);
        QTRY_VERIFY(line->count() > before);
        QVERIFY(view->chart()->axes(Qt::Horizontal).constFirst()->titleText().contains(u"joined"));
        QVERIFY(saveScreenshot(&metrics, QStringLiteral("metrics-sessions.png")));

        // Back to the run: its latest session alone, the toggle back, "run N" labels again.
        metrics.setRun(bert);
        QVERIFY(!metrics.isShowingSessions());
        QCOMPARE(metrics.run(), bert);
        QVERIFY(toggle->isVisible());
        QTRY_COMPARE(lineSeries(view->chart()).size(), 1);
        QTRY_COMPARE(line->count(),
                     int(f.store->metricPoints(live, QStringLiteral("loss")).size()));
    }

    void fitTheTabsAt1366x768()
    {
        // The tabs share a 1366x768 screen with the run table and the quota dock: roughly
        // 700 x 300 is what they get. Nothing may need more than that.
        Fixture f;
        QVERIFY(f.setUp(scenario()));
        const RunId bert = f.watch("alice/bert-imdb");
        QTRY_VERIFY(f.status(bert).has_value());
        TimelineChart timeline(f.deck.get());
        MetricsChart metrics(f.deck.get());
        metrics.setRun(bert);
        for (QWidget *w : {static_cast<QWidget *>(&timeline), static_cast<QWidget *>(&metrics)}) {
            QVERIFY2(w->minimumSizeHint().width() <= 700,
                     qPrintable(QString::number(w->minimumSizeHint().width())));
            QVERIFY2(w->minimumSizeHint().height() <= 300,
                     qPrintable(QString::number(w->minimumSizeHint().height())));
        }
        metrics.resize(700, 300);
        metrics.show();
        QVERIFY(saveScreenshot(&metrics, QStringLiteral("metrics-small.png")));
    }

    void timelineScrollsThroughAHundredRuns()
    {
        // 100 runs of three sessions each, stored by an earlier run of the app.
        const QDateTime now = QDateTime::currentDateTimeUtc();
        const auto seed = [&](Store &store) {
            for (int r = 0; r < 100; ++r) {
                WatchedRun run;
                run.ref = {QStringLiteral("alice"), QStringLiteral("run-%1").arg(r)};
                run.title = QStringLiteral("Run %1").arg(r);
                const auto id = store.addRun(run);
                QVERIFY(id.ok());
                for (int k = 0; k < 3; ++k) {
                    const double start = 30 - r * 0.2 - k * 8; // hours ago
                    SessionRecord s;
                    s.runId = *id;
                    s.firstSeen = now.addSecs(qint64(-start * 3600));
                    s.status = KernelStatus::Complete;
                    const auto sid = store.addSession(s);
                    QVERIFY(sid.ok());
                    for (const auto &[status, at] : {QPair{KernelStatus::Queued, start},
                                                     QPair{KernelStatus::Running, start - 0.3},
                                                     QPair{KernelStatus::Complete, start - 5}})
                        QVERIFY(
                            store.addStatusEvent({*sid, status, now.addSecs(qint64(-at * 3600))})
                                .ok());
                }
            }
        };
        Fixture f;
        QVERIFY(f.setUp(scenario(), seed, false));
        TimelineChart timeline(f.deck.get());
        timeline.resize(1000, 420);
        timeline.show();
        QElapsedTimer timer;
        timer.start();
        timeline.refresh();
        qInfo("100 runs x 3 sessions: lanes built in %lld ms", timer.elapsed());
        auto *view = timeline.findChild<QChartView *>(QStringLiteral("timelineChartView"));
        QCOMPARE(laneAxis(view->chart())->count(), 100);
        QCOMPARE(barCount(view->chart(), ChartStyle::StateBucket::Running), 300);
        // Lanes keep a readable height: the view outgrows the tab and scrolls.
        QVERIFY(view->minimumHeight() >= 100 * 20);
        auto *scroll = timeline.findChild<QScrollArea *>();
        QVERIFY(scroll && scroll->verticalScrollBar()->isVisible());
        QVERIFY(saveScreenshot(&timeline, QStringLiteral("timeline-100.png")));
    }

    void metricsDecimateLongSeries()
    {
        Fixture f;
        QVERIFY(f.setUp(scenario()));
        const RunId bert = f.watch("alice/bert-imdb");
        QTRY_VERIFY(f.status(bert).has_value());
        const SessionId session = f.store->latestSession(bert)->id;
        QList<MetricPoint> points;
        for (int i = 0; i < 50'000; ++i) {
            MetricPoint p;
            p.sessionId = session;
            p.series = QStringLiteral("loss");
            p.value = 2.0 / (1 + i * 0.001) + (i == 31'337 ? 5.0 : 0.0); // one spike
            p.logTime = i * 0.5;
            p.step = i;
            points.append(p);
        }
        QVERIFY(f.store->addMetricPoints(points).ok());

        MetricsChart metrics(f.deck.get());
        metrics.resize(900, 400);
        metrics.show();
        metrics.setRun(bert);
        auto *view = metrics.findChild<QChartView *>(QStringLiteral("metricsChartView"));
        QLineSeries *line = lineSeries(view->chart()).value(0);
        QTRY_VERIFY(line->count() > 0);
        QVERIFY2(line->count() <= 2002, qPrintable(QString::number(line->count())));
        // Min/max decimation keeps the spike a user must see.
        double top = 0;
        for (const QPointF &p : line->points())
            top = std::max(top, p.y());
        QVERIFY(top > 5.0);
        auto *info = metrics.findChild<QLabel *>(QStringLiteral("metricsInfoLabel"));
        QVERIFY(info->text().contains(QLocale().toString(50'000)) ||
                info->text().contains(u"50000"));
    }
};

QTEST_MAIN(TestCharts)
#include "tst_charts.moc"
