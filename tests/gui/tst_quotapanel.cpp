// The quota panel as a real widget, offscreen, against the in-process simulator: Kaggle's
// numbers, the forecast warning, the fallback when Kaggle says nothing, the burn-down, hours
// per run, the countdown, palettes and screenshots.

#include "curlhttpclient.h"
#include "deck.h"
#include "format.h"
#include "kaggleclient.h"
#include "logfollower.h"
#include "quotamodel.h"
#include "quotapanel.h"
#include "runmonitor.h"
#include "simulator.h"
#include "store.h"
#include "theme.h"

#include <QChart>
#include <QChartView>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QLineSeries>
#include <QRegularExpression>
#include <QStyleFactory>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QValueAxis>

#include <memory>

using namespace kd;

namespace {

/// basic.json moved to the present (the monitor stamps everything with the real clock), with
/// the refresh four days ahead; `used` replaces the GPU hours already used this week.
QByteArray scenario(double usedGpuSeconds = 3600)
{
    QFile file(QStringLiteral(KD_TEST_DATA_DIR "/scenarios/basic.json"));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    QString text = QString::fromUtf8(file.readAll());
    text.replace(QStringLiteral("\"startTime\": \"2026-06-01T12:00:00.000Z\""),
                 QStringLiteral("\"startTime\": \"now\""));
    const QString refresh = QDateTime::currentDateTimeUtc().addDays(4).toString(Qt::ISODateWithMs);
    text.replace(QStringLiteral("2026-06-06T00:00:00.000Z"), refresh);
    text.replace(QStringLiteral("\"gpu\": {\"usedSeconds\": 3600,"),
                 QStringLiteral("\"gpu\": {\"usedSeconds\": %1,").arg(usedGpuSeconds));
    return text.toUtf8();
}

struct Fixture
{
    QTemporaryDir dir;
    std::unique_ptr<sim::Simulator> sim;
    std::unique_ptr<net::CurlHttpClient> http;
    std::unique_ptr<KaggleClient> client;
    std::unique_ptr<Store> store;
    std::unique_ptr<Deck> deck;

    bool setUp(const QByteArray &json, const sim::Faults &faults = {})
    {
        if (!dir.isValid())
            return false;
        sim::Options so;
        so.speed = 0;
        so.seed = 5;
        so.sseIdleTimeoutSeconds = 5;
        sim = std::make_unique<sim::Simulator>(so);
        std::string error;
        if (!sim->loadScenarioJson(json.toStdString(), &error)) {
            qWarning("scenario: %s", error.c_str());
            return false;
        }
        sim->setFaults(faults);
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
        Deck::Settings settings;
        settings.monitor.pollRunningSeconds = 0.1;
        settings.monitor.pollQueuedSeconds = 0.2;
        settings.monitor.quotaPollSeconds = 1;
        settings.monitor.maxBackoffSeconds = 1;
        settings.monitor.requestBudgetPerMinute = 100'000;
        deck = std::make_unique<Deck>(client.get(), store.get(), dir.path(), settings);
        LogFollower::Settings ls;
        ls.reconnectDelayMs = 50;
        ls.pollIntervalMs = 200;
        deck->monitor()->logFollower()->setSettings(ls);
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

    /// The panel in a window the size of the main window's dock at 1366x768.
    std::unique_ptr<QuotaPanel> panel()
    {
        auto p = std::make_unique<QuotaPanel>(deck.get());
        p->resize(340, 740);
        p->show();
        return p;
    }
};

bool saveScreenshot(QWidget *widget, const QString &name)
{
    // Charts lay out on the next pass of the event loop; grab what the user would see.
    QCoreApplication::processEvents();
    QTest::qWait(50);
    QDir().mkpath(QStringLiteral(KD_SCREENSHOT_DIR));
    return widget->grab().save(QDir(QStringLiteral(KD_SCREENSHOT_DIR)).filePath(name));
}

QString labelText(QWidget *panel, const char *name)
{
    auto *label = panel->findChild<QLabel *>(QString::fromLatin1(name));
    return label ? label->text() : QStringLiteral("<no %1>").arg(QString::fromLatin1(name));
}

bool isShown(QWidget *panel, const char *name)
{
    auto *w = panel->findChild<QWidget *>(QString::fromLatin1(name));
    return w && w->isVisible();
}

QLineSeries *series(QChart *chart, const QString &name)
{
    for (QAbstractSeries *s : chart->series()) {
        if (s->name() == name)
            return qobject_cast<QLineSeries *>(s);
    }
    return nullptr;
}

} // namespace

class TestQuotaPanel : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
        QApplication::setPalette(theme::lightPalette());
    }

    void waitsForNumbersBeforeTheFirstAnswer()
    {
        Fixture f;
        QVERIFY(f.setUp(scenario()));
        QuotaPanel panel(f.deck.get());
        panel.setModels(nullptr, nullptr);
        panel.resize(340, 600);
        panel.show();
        QVERIFY(labelText(&panel, "quotaGpuRemainingLabel").contains(u"waiting"));
        QCOMPARE(labelText(&panel, "quotaRefreshCountdown"),
                 QStringLiteral("Refresh time unknown"));
        QVERIFY(!isShown(&panel, "quotaWarningBanner"));
    }

    void showsTheSimulatorsNumbers()
    {
        Fixture f;
        QVERIFY(f.setUp(scenario()));
        const RunId bert = f.watch("alice/bert-imdb");
        QVERIFY(f.watch("alice/failing-run") && f.watch("alice/titanic-baseline"));
        QTRY_COMPARE(f.status(bert), std::optional(KernelStatus::Queued));
        auto panel = f.panel();

        // basic.json: 1 h of 30 h GPU used before the run that failed added its minute.
        const QString used = QuotaForecast::formatHours(f.sim->gpuSecondsUsed("alice"));
        QCOMPARE(used, QStringLiteral("1 h"));
        QTRY_COMPARE(labelText(panel.get(), "quotaGpuUsedLabel"), QStringLiteral("1 h used"));
        QCOMPARE(labelText(panel.get(), "quotaGpuTotalLabel"), QStringLiteral("of 30 h"));
        QCOMPARE(labelText(panel.get(), "quotaGpuRemainingLabel"), QStringLiteral("29 h left"));
        QCOMPARE(labelText(panel.get(), "quotaTpuTotalLabel"), QStringLiteral("of 20 h"));
        QCOMPARE(labelText(panel.get(), "quotaTpuUsedLabel"), QStringLiteral("0 h used"));
        // The queued GPU run is expected to take its 12 h cap: it fits.
        QVERIFY2(labelText(panel.get(), "quotaGpuForecastLabel").contains(u"fits"),
                 qPrintable(labelText(panel.get(), "quotaGpuForecastLabel")));
        QVERIFY(!isShown(panel.get(), "quotaWarningBanner"));
        QVERIFY(!isShown(panel.get(), "quotaSourceLabel"));
        // Exact values on hover: the labels round to a tenth of an hour.
        QVERIFY(panel->findChild<QWidget *>(QStringLiteral("quotaGpuBar"))
                    ->toolTip()
                    .contains(QStringLiteral("Weekly total: ") + format::hours(30 * 3600.0)));

        // The countdown to the refresh four days from now, ticking every second.
        const QRegularExpression countdown(QStringLiteral("^Refresh in 3 d \\d\\d:\\d\\d:\\d\\d$"));
        const QString before = labelText(panel.get(), "quotaRefreshCountdown");
        QVERIFY2(countdown.match(before).hasMatch(), qPrintable(before));
        QTRY_VERIFY_WITH_TIMEOUT(labelText(panel.get(), "quotaRefreshCountdown") != before, 2500);

        // Burn-down: remaining hours now, forecast down to the refresh, and the zero line.
        auto *burn = panel->findChild<QChartView *>(QStringLiteral("quotaBurnDownView"));
        QVERIFY(burn);
        QTRY_VERIFY(series(burn->chart(), QStringLiteral("actual"))->count() >= 1);
        QLineSeries *forecast = series(burn->chart(), QStringLiteral("forecast"));
        QVERIFY(forecast->count() >= 2);
        const auto result = f.deck->quotaModel()->forecast(Accelerator::Gpu);
        QCOMPARE(qint64(forecast->points().constLast().x()),
                 result->refreshTime.toMSecsSinceEpoch());
        QCOMPARE(forecast->points().constFirst().y(), result->remainingNowSeconds / 3600.0);
        QCOMPARE(forecast->pen().style(), Qt::DashLine);
        auto *xAxis = qobject_cast<QValueAxis *>(burn->chart()->axes(Qt::Horizontal).value(0));
        QCOMPARE(qint64(xAxis->max()), result->refreshTime.toMSecsSinceEpoch());
        QCOMPARE(qint64(xAxis->min()), result->windowStart.toMSecsSinceEpoch());
        QLineSeries *zero = series(burn->chart(), QStringLiteral("quota used up"));
        QCOMPARE(zero->count(), 2);
        QCOMPARE(zero->at(0).y(), 0.0);

        // Hours per run: nothing ran under our eyes yet, then bert-imdb runs.
        QVERIFY(isShown(panel.get(), "quotaUsageEmptyLabel"));
        f.sim->advance(15);
        QTRY_COMPARE(f.status(bert), std::optional(KernelStatus::Running));
        auto *table = panel->findChild<QTableView *>(QStringLiteral("quotaUsageTable"));
        QVERIFY(table);
        // The deck attributes hours once a minute; a second of running is enough to show.
        QTest::qWait(1200);
        f.deck->refreshQuota();
        QTRY_VERIFY(table->isVisible());
        QTRY_VERIFY(table->model()->rowCount() >= 1);
        QCOMPARE(table->model()->index(0, QuotaUsageModel::NameColumn).data().toString(),
                 QStringLiteral("BERT IMDB"));
        QVERIFY(!isShown(panel.get(), "quotaUsageEmptyLabel"));
        QTRY_VERIFY(labelText(panel.get(), "quotaGpuReservedLabel").contains(u"reserved"));
        QVERIFY(saveScreenshot(panel.get(), QStringLiteral("quota.png")));
        // A 300 px dock on a 1366x768 screen: nothing needs more width than that.
        QVERIFY2(panel->minimumSizeHint().width() <= 300,
                 qPrintable(QString::number(panel->minimumSizeHint().width())));
        panel->resize(300, 560);
        QVERIFY(saveScreenshot(panel.get(), QStringLiteral("quota-narrow.png")));
        panel->resize(340, 740);

        panel->setPalette(theme::darkPalette());
        QCOMPARE(burn->chart()->backgroundBrush().color(),
                 theme::darkPalette().color(QPalette::Base));
        QVERIFY(saveScreenshot(panel.get(), QStringLiteral("quota-dark.png")));
    }

    void warnsWhenTheForecastExceedsWhatRemains()
    {
        Fixture f;
        QVERIFY(f.setUp(scenario(28 * 3600.0))); // 28 h of 30 h used
        const RunId bert = f.watch("alice/bert-imdb");
        QVERIFY(bert);
        auto panel = f.panel();
        auto *banner = panel->findChild<QLabel *>(QStringLiteral("quotaWarningBanner"));
        QVERIFY(banner);

        // A queued GPU run may take its 12 h cap: 28 + 12 > 30.
        QTRY_COMPARE(f.status(bert), std::optional(KernelStatus::Queued));
        QTRY_VERIFY(banner->isVisible());
        const auto result = f.deck->quotaModel()->forecast(Accelerator::Gpu);
        QVERIFY(result && !result->covers);
        QVERIFY2(banner->text().contains(
                     QStringLiteral("GPU quota will run out: forecast exceeds what remains by ") +
                     QuotaForecast::formatHours(result->shortfallSeconds)),
                 qPrintable(banner->text()));
        QVERIFY(banner->text().contains(u"10 h"));
        // Visible without scrolling: above the scrolled content.
        QCOMPARE(banner->mapTo(panel.get(), QPoint(0, 0)).y(), 0);
        QVERIFY(labelText(panel.get(), "quotaGpuForecastLabel").contains(u"exceeds"));

        f.sim->advance(15);
        QTRY_COMPARE(f.status(bert), std::optional(KernelStatus::Running));
        QVERIFY(banner->isVisible());
        QVERIFY(saveScreenshot(panel.get(), QStringLiteral("quota-warning.png")));
        panel->setPalette(theme::darkPalette());
        QVERIFY(banner->isVisible());
        QVERIFY(saveScreenshot(panel.get(), QStringLiteral("quota-warning-dark.png")));
        panel->setPalette(theme::lightPalette());

        // The run ends after 100 s: nothing more is expected, the warning goes away.
        f.sim->advance(300);
        QTRY_COMPARE(f.status(bert), std::optional(KernelStatus::Complete));
        QTRY_VERIFY(!banner->isVisible());
        QVERIFY(labelText(panel.get(), "quotaGpuForecastLabel").contains(u"fits"));
    }

    void saysSoWhenKaggleSendsNoNumbers()
    {
        sim::Faults faults;
        faults.http5xx = 1.0;
        faults.onlyPaths = {"GetAcceleratorQuotaStatistics"};
        Fixture f;
        QVERIFY(f.setUp(scenario(), faults));
        const RunId bert = f.watch("alice/bert-imdb");
        QTRY_COMPARE(f.status(bert), std::optional(KernelStatus::Queued));
        auto panel = f.panel();
        QTRY_VERIFY(isShown(panel.get(), "quotaSourceLabel"));
        QVERIFY(
            labelText(panel.get(), "quotaSourceLabel").contains(u"No quota numbers from Kaggle"));
        QVERIFY2(
            labelText(panel.get(), "quotaGpuForecastLabel").contains(u"no quota data from Kaggle"),
            qPrintable(labelText(panel.get(), "quotaGpuForecastLabel")));
        // The fallback's assumed total and a countdown to its Saturday refresh.
        QCOMPARE(labelText(panel.get(), "quotaGpuTotalLabel"), QStringLiteral("of 30 h"));
        QVERIFY(labelText(panel.get(), "quotaRefreshCountdown").startsWith(u"Refresh in"));
        QVERIFY(saveScreenshot(panel.get(), QStringLiteral("quota-fallback.png")));
    }
};

QTEST_MAIN(TestQuotaPanel)
#include "tst_quotapanel.moc"
