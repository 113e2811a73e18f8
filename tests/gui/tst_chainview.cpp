// The chain dialog and the chain view with real widgets against the simulator over loopback
// (frozen clock driven by the test): per-field errors from ChainRunner::create, Create & start,
// the steps advancing in the view as the clock moves, and the Pause / Resume / Abort buttons.

#include "chaindialog.h"
#include "chainrunner.h"
#include "chainview.h"
#include "detailsfixture.h"
#include "metricschart.h"

#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QTest>

#include <functional>

using namespace kd;
using kd::test::DetailsFixture;

namespace {

const char *const kRef = "alice/llm-chain";
const KernelRef kKernel{QStringLiteral("alice"), QStringLiteral("llm-chain")};

template <typename T> T *child(QWidget *root, const char *name)
{
    auto *w = root->findChild<T *>(QString::fromLatin1(name));
    if (!w)
        qWarning("no child %s", name);
    return w;
}

QJsonObject step()
{
    return QJsonObject{{QStringLiteral("queueSeconds"), 5},
                       {QStringLiteral("runSeconds"), 120},
                       {QStringLiteral("outcome"), QStringLiteral("complete")},
                       {QStringLiteral("epochs"), 1},
                       {QStringLiteral("stepsPerEpoch"), 40},
                       {QStringLiteral("logStyle"), QStringLiteral("hf")}};
}

/// alice with the chain's kernel; one run spec per push.
std::string scenario(const QJsonArray &script)
{
    QJsonObject kernel = step();
    kernel.insert(QStringLiteral("ref"), QString::fromLatin1(kRef));
    kernel.insert(QStringLiteral("title"), QStringLiteral("LLM Chain"));
    kernel.insert(QStringLiteral("language"), QStringLiteral("python"));
    kernel.insert(QStringLiteral("kernelType"), QStringLiteral("script"));
    kernel.insert(QStringLiteral("machineShape"), QStringLiteral("NvidiaTeslaT4"));
    kernel.insert(QStringLiteral("enableGpu"), true);
    kernel.insert(QStringLiteral("source"), QStringLiteral("print('train one epoch')"));
    kernel.insert(QStringLiteral("startAt"), -7200);
    kernel.insert(QStringLiteral("script"), script);
    const QJsonObject account{{QStringLiteral("username"), QStringLiteral("alice")},
                              {QStringLiteral("key"), QStringLiteral("alice-key-123456")},
                              {QStringLiteral("token"), QStringLiteral("KGAT_alice_token")}};
    const QJsonObject quota{
        {QStringLiteral("refreshTime"),
         QDateTime::currentDateTimeUtc().addDays(4).toString(Qt::ISODateWithMs)},
        {QStringLiteral("gpu"), QJsonObject{{QStringLiteral("usedSeconds"), 3600},
                                            {QStringLiteral("totalSeconds"), 108000},
                                            {QStringLiteral("minimumSeconds"), 108000},
                                            {QStringLiteral("hasEverRun"), true}}}};
    const QJsonObject world{
        {QStringLiteral("name"), QStringLiteral("chain")},
        {QStringLiteral("options"), QJsonObject{{QStringLiteral("datasetProcessingSeconds"), 5}}},
        {QStringLiteral("accounts"), QJsonArray{account}},
        {QStringLiteral("quota"), quota},
        {QStringLiteral("kernels"), QJsonArray{kernel}}};
    return QJsonDocument(world).toJson().toStdString();
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

void setText(QLineEdit *edit, const QString &text)
{
    edit->selectAll();
    QTest::keyClick(edit, Qt::Key_Delete);
    QTest::keyClicks(edit, text);
}

} // namespace

class TestChainView : public QObject
{
    Q_OBJECT

    std::unique_ptr<DetailsFixture> m_fx;
    ChainRunner *m_runner = nullptr;

    int pushes() const
    {
        int n = 0;
        for (const auto &r : m_fx->sim->requests())
            n += r.path.find("SaveKernel") != std::string::npos && r.status == 200;
        return n;
    }
    /// Moves the simulator's clock in small steps until `done` holds.
    bool drive(const std::function<bool()> &done, int rounds = 300, double seconds = 10)
    {
        for (int i = 0; i < rounds; ++i) {
            if (done())
                return true;
            m_fx->sim->advance(seconds);
            QTest::qWait(60);
        }
        return done();
    }
    QString why(ChainId id) const
    {
        QStringList log;
        for (const ChainLogEntry &e : m_runner->log(id))
            log << e.text;
        return ChainRunner::stateId(m_runner->state(id)) + u": " + m_runner->reason(id) + u"\n" +
               log.join(u'\n');
    }
    static QString cell(QTableWidget *table, int row, int column)
    {
        const QTableWidgetItem *item = table->item(row, column);
        return item ? item->text() : QString();
    }

private slots:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
    void init()
    {
        kd::test::usePalette(false);
        m_fx = std::make_unique<DetailsFixture>();
        QVERIFY(m_fx->setUp());
        std::string error;
        QVERIFY2(m_fx->sim->loadScenarioJson(scenario({step(), step(), step(), step()}), &error),
                 error.c_str());
        // Transitions stamped with the simulator's clock, so GPU hours are the virtual ones.
        const QDateTime start = QDateTime::currentDateTimeUtc();
        m_fx->deck->monitor()->setClock(
            [sim = m_fx->sim.get(), start] { return start.addMSecs(qint64(sim->now() * 1000)); });
        m_runner = m_fx->deck->chains();
    }
    void cleanup()
    {
        m_runner = nullptr;
        m_fx->tearDown();
        m_fx.reset();
    }

    void dialogShowsCreateErrorsPerField()
    {
        ChainDialog dialog(m_fx->deck.get(), kKernel);
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        QCOMPARE(child<QComboBox>(&dialog, "chainKernel")->currentText(),
                 QString::fromLatin1(kRef));
        QVERIFY(child<QRadioButton>(&dialog, "chainHandoffKernelSources")->isChecked());
        auto *slug = child<QLineEdit>(&dialog, "chainDatasetSlug");
        QVERIFY(!slug->isEnabled());
        QVERIFY(slug->placeholderText().contains(u"llm-chain-chain"));
        QVERIFY(kd::test::saveScreenshot(&dialog, QStringLiteral("chain-dialog.png")));

        // No checkpoint pattern, and a metric rule without a metric.
        setText(child<QLineEdit>(&dialog, "chainPattern"), QString());
        child<QSpinBox>(&dialog, "chainPatience")->setValue(2);
        auto *create = child<QPushButton>(&dialog, "chainCreateButton");
        QTest::mouseClick(create, Qt::LeftButton);
        QVERIFY(dialog.isVisible());
        auto *patternError = child<QLabel>(&dialog, "chainPatternError");
        auto *rulesError = child<QLabel>(&dialog, "chainRulesError");
        QVERIFY(patternError->isVisible());
        QVERIFY2(rulesError->isVisible(), qPrintable(rulesError->text()));
        QVERIFY2(rulesError->text().contains(u"metric"), qPrintable(rulesError->text()));
        QVERIFY(m_runner->chainIds().isEmpty());
        QVERIFY(m_fx->store->chains().isEmpty());
        QVERIFY(kd::test::saveScreenshot(&dialog, QStringLiteral("chain-dialog-errors.png")));

        // A kernel that is not a reference.
        auto *kernel = child<QComboBox>(&dialog, "chainKernel");
        setText(kernel->lineEdit(), QStringLiteral("not a kernel"));
        QTest::mouseClick(create, Qt::LeftButton);
        QVERIFY(child<QLabel>(&dialog, "chainKernelError")->isVisible());
        QVERIFY(m_runner->chainIds().isEmpty());

        // The dataset handoff enables its slug.
        QTest::mouseClick(child<QRadioButton>(&dialog, "chainHandoffDataset"), Qt::LeftButton);
        QVERIFY(slug->isEnabled());
        QCOMPARE(dialog.spec().handoff, ChainHandoff::Dataset);
    }

    void createStartAndFollowTheChain()
    {
        // The view is open before the chain exists: it says what a chain is, nothing to click.
        ChainView view(m_fx->deck.get());
        view.resize(1100, 760);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        QCOMPARE(view.chain(), ChainId(0));
        QVERIFY(child<QLabel>(&view, "chainReason")->text().contains(u"Create a chain"));
        for (const char *name :
             {"chainStartButton", "chainPauseButton", "chainResumeButton", "chainAbortButton"})
            QVERIFY(!child<QPushButton>(&view, name)->isEnabled());
        QVERIFY(kd::test::saveScreenshot(&view, QStringLiteral("chain-view-empty.png")));

        ChainDialog dialog(m_fx->deck.get(), kKernel);
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        setText(child<QLineEdit>(&dialog, "chainName"), QStringLiteral("llm epochs"));
        setText(child<QLineEdit>(&dialog, "chainPattern"),
                QStringLiteral("checkpoint-*/model.safetensors"));
        child<QSpinBox>(&dialog, "chainMaxRuns")->setValue(4);
        child<QComboBox>(&dialog, "chainMetric")->setCurrentText(QStringLiteral("loss"));
        ChainId created = 0;
        QString startError = QStringLiteral("not emitted");
        connect(&dialog, &ChainDialog::chainCreated, this, [&](ChainId id, const QString &e) {
            created = id;
            startError = e;
        });
        QTest::mouseClick(child<QPushButton>(&dialog, "chainCreateButton"), Qt::LeftButton);
        QVERIFY(created != 0);
        QVERIFY2(startError.isEmpty(), qPrintable(startError));
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QCOMPARE(dialog.chainId(), created);
        const auto chain = m_runner->chain(created);
        QVERIFY(chain);
        QCOMPARE(chain->record.name, QStringLiteral("llm epochs"));
        QCOMPARE(chain->rules.maxRuns, 4);
        QCOMPARE(chain->handoff, ChainHandoff::KernelSources);

        // The open view picked the new chain up by itself.
        QCOMPARE(view.chain(), created);
        view.setChain(created);
        auto *steps = child<QTableWidget>(&view, "chainSteps");
        auto *state = child<QLabel>(&view, "chainState");
        auto *pause = child<QPushButton>(&view, "chainPauseButton");
        auto *resume = child<QPushButton>(&view, "chainResumeButton");
        auto *abort = child<QPushButton>(&view, "chainAbortButton");
        auto *summary = child<QLabel>(&view, "chainSummary");
        auto *log = child<QPlainTextEdit>(&view, "chainLog");
        QVERIFY(log->toPlainText().contains(u"chain \"llm epochs\" created"));
        QCOMPARE(child<QComboBox>(&view, "chainPicker")->count(), 1);

        // Step 1 runs, completes, its checkpoint is found, and step 2 starts: the table follows.
        QVERIFY2(drive([&] {
                     return steps->rowCount() == 2 && cell(steps, 1, 2) == u"running" &&
                            m_fx->sim->kernelStatus(kRef) == "RUNNING";
                 }),
                 qPrintable(why(created)));
        QCOMPARE(cell(steps, 0, 0), QStringLiteral("1"));
        QCOMPARE(cell(steps, 0, 2), QStringLiteral("complete"));
        QVERIFY2(cell(steps, 0, 4).contains(u"checkpoint-epoch1/model.safetensors"),
                 qPrintable(cell(steps, 0, 4)));
        QCOMPARE(cell(steps, 0, 5), QStringLiteral("kernel_sources"));
        QVERIFY2(cell(steps, 0, 1).startsWith(u"version "), qPrintable(cell(steps, 0, 1)));
        QVERIFY2(cell(steps, 0, 3).contains(u" h"), qPrintable(cell(steps, 0, 3)));
        QVERIFY2(cell(steps, 0, 3) != u"0 h", qPrintable(cell(steps, 0, 3)));
        QCOMPARE(state->text(), QStringLiteral("Running"));
        QVERIFY(pause->isEnabled());
        QVERIFY(!resume->isEnabled());
        QVERIFY(abort->isEnabled());
        QVERIFY2(summary->text().contains(u"Total GPU:"), qPrintable(summary->text()));
        QVERIFY(log->toPlainText().contains(u"step 1: checkpoint found"));

        // Pause: the running step finishes, no next one starts.
        QTest::mouseClick(pause, Qt::LeftButton);
        QVERIFY2(state->text().contains(u"pausing after this step"), qPrintable(state->text()));
        QVERIFY(!pause->isEnabled());
        QVERIFY2(drive([&] { return m_runner->state(created) == ChainRunner::State::Paused; }),
                 qPrintable(why(created)));
        QTRY_COMPARE(state->text(), QStringLiteral("Paused"));
        auto *reason = child<QLabel>(&view, "chainReason");
        QVERIFY2(reason->text().contains(u"paused by the user after step 2"),
                 qPrintable(reason->text()));
        QVERIFY(resume->isEnabled());
        QVERIFY(!pause->isEnabled());
        QCOMPARE(pushes(), 2);
        QCOMPARE(cell(steps, 1, 2), QStringLiteral("complete"));

        // The metric series of both steps, joined, with the step boundary: the Metrics tab's
        // chart showing the chain's sessions, without its own "Chain view" toggle.
        auto *metrics = child<MetricsChart>(&view, "chainMetrics");
        QVERIFY(metrics->isShowingSessions());
        QCOMPARE(metrics->run(), RunId(0));
        QVERIFY(!child<QCheckBox>(metrics, "metricsChainToggle")->isVisible());
        auto *series = child<QComboBox>(metrics, "metricsSeriesCombo");
        QTRY_VERIFY(series->count() > 0);
        QCOMPARE(metrics->currentSeries(), QStringLiteral("loss")); // the chain's rule metric
        auto *chartView = child<QChartView>(metrics, "metricsChartView");
        QTRY_VERIFY(chartView->isVisible());
        QTRY_COMPARE(lineSeries(chartView->chart()).size(), 2); // the series and one boundary
        QCOMPARE(lineSeries(chartView->chart()).at(1)->name(), QStringLiteral("step 2"));
        QVERIFY(child<QLabel>(metrics, "metricsInfoLabel")->text().contains(u"lowest"));
        auto *best = child<QLabel>(&view, "chainBestPerStep");
        QTRY_VERIFY2(best->text().contains(u"per step"), qPrintable(best->text()));
        QCOMPARE(best->text().count(u','), 1); // two steps
        QVERIFY(kd::test::saveScreenshot(&view, QStringLiteral("chain-view-paused.png")));

        // Resume: step 3 is committed; Abort: it finishes and the chain stops there.
        QTest::mouseClick(resume, Qt::LeftButton);
        QVERIFY2(drive([&] { return steps->rowCount() == 3 && cell(steps, 2, 2) == u"running"; }),
                 qPrintable(why(created)));
        QVERIFY(pause->isEnabled());
        QTest::mouseClick(abort, Qt::LeftButton);
        QVERIFY2(state->text().contains(u"aborting after this step"), qPrintable(state->text()));
        QVERIFY(!abort->isEnabled());
        QVERIFY2(drive([&] { return m_runner->state(created) == ChainRunner::State::Aborted; }),
                 qPrintable(why(created)));
        QTRY_COMPARE(state->text(), QStringLiteral("Aborted"));
        QCOMPARE(cell(steps, 2, 2), QStringLiteral("complete"));
        for (QPushButton *b : {pause, resume, abort})
            QVERIFY(!b->isEnabled());
        for (int i = 0; i < 5; ++i) {
            m_fx->sim->advance(30);
            QTest::qWait(30);
        }
        QCOMPARE(pushes(), 3);
        QCOMPARE(steps->rowCount(), 3);
        QVERIFY2(summary->text().contains(u"3 steps of at most 4"), qPrintable(summary->text()));
        // Step 3 joined the chart: two boundaries now, labelled with their steps.
        QTRY_COMPARE(lineSeries(chartView->chart()).size(), 3);
        QCOMPARE(lineSeries(chartView->chart()).at(2)->name(), QStringLiteral("step 3"));
        QTRY_COMPARE(best->text().count(u','), 2);
        QVERIFY(kd::test::saveScreenshot(&view, QStringLiteral("chain-view.png")));

        kd::test::usePalette(true);
        QTRY_VERIFY(theme::isDark(view.palette()));
        QTest::qWait(200);
        QVERIFY(kd::test::saveScreenshot(&view, QStringLiteral("chain-view-dark.png")));
    }
};

QTEST_MAIN(TestChainView)
#include "tst_chainview.moc"
