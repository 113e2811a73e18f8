// The Info and Outputs tabs with real widgets against the simulator over loopback: metadata,
// the failure message, inline errors, output listings, filtering and links.

#include "detailsfixture.h"
#include "outputsview.h"
#include "runinfoview.h"

#include <QAbstractItemView>
#include <QClipboard>
#include <QDialog>
#include <QFrame>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSet>
#include <QTest>
#include <QToolButton>

using namespace kd;
using kd::test::DetailsFixture;

namespace {

template <typename T> T *child(QWidget *root, const char *name)
{
    return root->findChild<T *>(QString::fromLatin1(name));
}

/// Every text shown in a form, joined, to look for a value without knowing the row.
QString formText(QWidget *form)
{
    QStringList texts;
    for (const QLabel *label : form->findChildren<QLabel *>())
        if (label->isVisibleTo(form))
            texts.append(label->text());
    return texts.join(u'\n');
}

QStringList column(QAbstractItemModel *model, int column)
{
    QStringList values;
    for (int row = 0; row < model->rowCount(); ++row)
        values.append(model->index(row, column).data().toString());
    return values;
}

bool noDialogShown()
{
    for (QWidget *w : QApplication::topLevelWidgets())
        if (qobject_cast<QDialog *>(w) && w->isVisible())
            return false;
    return true;
}

} // namespace

class TestDetailTabs : public QObject
{
    Q_OBJECT

    std::unique_ptr<DetailsFixture> m_fx;

    RunId watched(const char *ref)
    {
        const RunId id = m_fx->watch(ref);
        if (id && !QTest::qWaitFor([&] { return m_fx->hasSession(id); }, 10'000))
            qWarning("%s has no session", ref);
        return id;
    }
    template <typename View> std::unique_ptr<View> show(RunId run, QSize size = {760, 520})
    {
        auto view = std::make_unique<View>(m_fx->deck.get());
        view->resize(size);
        view->setRun(run);
        view->show();
        if (!QTest::qWaitForWindowExposed(view.get()))
            qWarning("the view was not exposed");
        return view;
    }

private slots:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
    void init()
    {
        kd::test::usePalette(false);
        m_fx = std::make_unique<DetailsFixture>();
        QVERIFY(m_fx->setUp());
    }
    void cleanup()
    {
        m_fx->tearDown();
        m_fx.reset();
    }

    // Info

    void infoWithoutARunExplainsWhatToDo()
    {
        auto view = show<RunInfoView>(0);
        auto *placeholder = child<QLabel>(view.get(), "infoPlaceholder");
        QVERIFY(placeholder->isVisible());
        QVERIFY(placeholder->text().contains(u"Select a run"));
    }

    void infoShowsTheFailureMessage()
    {
        const RunId id = watched("alice/failing-run");
        QCOMPARE(m_fx->status(id), KernelStatus::Error);
        auto view = show<RunInfoView>(id);
        auto *failure = child<QLabel>(view.get(), "infoFailureLabel");
        QTRY_VERIFY(failure->isVisible());
        QVERIFY2(failure->text().contains(u"CUDA out of memory"), qPrintable(failure->text()));
        QVERIFY(child<QFrame>(view.get(), "infoFailureFrame")->isVisible());

        auto *ref = child<QLabel>(view.get(), "infoRefLabel");
        QVERIFY(ref->text().contains(u"href=\"https://www.kaggle.com/code/alice/failing-run\""));
        QCOMPARE(child<QLabel>(view.get(), "infoTitleLabel")->text(),
                 QStringLiteral("Failing Run"));
        QVERIFY(formText(child<QWidget>(view.get(), "infoSessionForm")).contains(u"Error"));

        // The kernel's metadata arrives from GetKernel.
        auto *status = child<QLabel>(view.get(), "infoMetadataStatus");
        QTRY_VERIFY(!status->isVisible());
        const QString kernel = formText(child<QWidget>(view.get(), "infoKernelForm"));
        QVERIFY2(kernel.contains(u"GPU T4 ×2"), qPrintable(kernel));
        QVERIFY(kernel.contains(u"Private"));
        QVERIFY(noDialogShown());
        // The log arrives after the status: the box adds the last stderr lines, indented.
        auto *stderrLines = child<QLabel>(view.get(), "infoStderrLabel");
        QTRY_VERIFY(stderrLines->isVisible());
        QVERIFY2(stderrLines->text().contains(u"  File &quot;/kaggle/working/train.py&quot;"),
                 qPrintable(stderrLines->text()));
        QVERIFY(kd::test::saveScreenshot(view.get(), QStringLiteral("info-failed.png")));

        kd::test::usePalette(true);
        QTRY_VERIFY(theme::isDark(view->palette()));
        QTest::qWait(50);
        QVERIFY(kd::test::saveScreenshot(view.get(), QStringLiteral("info-failed-dark.png")));
    }

    void infoShowsSourcesAndDurations()
    {
        const RunId id = watched("alice/bert-imdb");
        auto view = show<RunInfoView>(id);
        m_fx->sim->advance(11);
        QTRY_COMPARE(m_fx->status(id), KernelStatus::Running);
        auto *sessionForm = child<QWidget>(view.get(), "infoSessionForm");
        QTRY_VERIFY(formText(sessionForm).contains(u"Running"));
        QVERIFY(!child<QLabel>(view.get(), "infoFailureLabel")->isVisible());
        // Seen while queued, so both stretches are known.
        QVERIFY(formText(sessionForm).contains(u"Time queued"));
        QVERIFY(formText(sessionForm).contains(u"Time running"));
        QVERIFY(!formText(sessionForm).contains(u"not observed"));

        auto *sources = child<QWidget>(view.get(), "infoSourcesForm");
        QTRY_VERIFY(sources->isVisible());
        QVERIFY2(formText(sources).contains(
                     u"href=\"https://www.kaggle.com/datasets/alice/imdb-reviews\""),
                 qPrintable(formText(sources)));
    }

    void infoShowsAnUnknownKernelInline()
    {
        const RunId id = m_fx->watch("alice/no-such-kernel");
        QVERIFY(id);
        auto view = show<RunInfoView>(id);
        auto *status = child<QLabel>(view.get(), "infoMetadataStatus");
        // Said once, by the status note; the details line does not repeat it.
        auto *stale = child<QLabel>(view.get(), "infoStaleLabel");
        QTRY_VERIFY2(stale->isVisible() && stale->text().contains(u"alice/no-such-kernel"),
                     qPrintable(stale->text()));
        QTRY_VERIFY2(status->text().contains(u"no details"), qPrintable(status->text()));
        QVERIFY(status->isVisible());
        QVERIFY(child<QPushButton>(view.get(), "infoRetryButton")->isVisible());
        QVERIFY(noDialogShown());
        QVERIFY(kd::test::saveScreenshot(view.get(), QStringLiteral("info-notfound.png")));
    }

    // Outputs

    void outputsWithoutARunExplainWhatToDo()
    {
        auto view = show<OutputsView>(0);
        auto *placeholder = child<QLabel>(view.get(), "outputsPlaceholder");
        QVERIFY(placeholder->isVisible());
        QVERIFY(placeholder->text().contains(u"Select a run"));
    }

    void outputsListTheFilesOfAFinishedRun()
    {
        const RunId id = watched("alice/titanic-baseline");
        QCOMPARE(m_fx->status(id), KernelStatus::Complete);
        auto view = show<OutputsView>(id);
        auto *table = child<QAbstractItemView>(view.get(), "outputsTable");
        QTRY_VERIFY(table->isVisible());
        QAbstractItemModel *model = table->model();
        QCOMPARE(model->rowCount(), 2);
        const QStringList names = column(model, 0);
        QCOMPARE(QSet<QString>(names.begin(), names.end()),
                 (QSet<QString>{QStringLiteral("submission.csv"), QStringLiteral("model.pkl")}));
        auto *summary = child<QLabel>(view.get(), "outputsSummary");
        QVERIFY2(summary->text().startsWith(u"2 files"), qPrintable(summary->text()));
        QVERIFY(kd::test::saveScreenshot(view.get(), QStringLiteral("outputs.png")));

        auto *filter = child<QLineEdit>(view.get(), "outputsFilterEdit");
        QTest::keyClicks(filter, QStringLiteral("sub"));
        QCOMPARE(model->rowCount(), 1);
        QCOMPARE(model->index(0, 0).data().toString(), QStringLiteral("submission.csv"));
        QVERIFY(summary->text().startsWith(u"1 shown of 2 files"));

        auto *copy = child<QToolButton>(view.get(), "outputsCopyLinkButton");
        QVERIFY(!copy->isEnabled()); // nothing selected yet
        QTest::mouseClick(table->viewport(), Qt::LeftButton, {},
                          table->visualRect(model->index(0, 0)).center());
        QVERIFY(copy->isEnabled());
        QApplication::clipboard()->clear();
        QTest::mouseClick(copy, Qt::LeftButton);
        const QUrl link(QApplication::clipboard()->text());
        QVERIFY2(link.isValid() && link.path().endsWith(u"submission.csv"),
                 qPrintable(link.toString()));
        QCOMPARE(link.host(), QStringLiteral("127.0.0.1"));

        kd::test::usePalette(true);
        filter->clear();
        QTRY_VERIFY(theme::isDark(view->palette()));
        QTest::qWait(50);
        QVERIFY(kd::test::saveScreenshot(view.get(), QStringLiteral("outputs-dark.png")));
    }

    void outputsWaitForTheRunToFinish()
    {
        const RunId id = watched("alice/bert-imdb");
        m_fx->sim->advance(11);
        QTRY_COMPARE(m_fx->status(id), KernelStatus::Running);
        auto view = show<OutputsView>(id);
        auto *placeholder = child<QLabel>(view.get(), "outputsPlaceholder");
        QVERIFY(placeholder->isVisible());
        QVERIFY2(placeholder->text().contains(u"Outputs appear when the run finishes"),
                 qPrintable(placeholder->text()));

        m_fx->sim->advance(200);
        QTRY_COMPARE(m_fx->status(id), KernelStatus::Complete);
        auto *table = child<QAbstractItemView>(view.get(), "outputsTable");
        QTRY_VERIFY(table->isVisible());
        // Checkpoint folders show as folders; name + folder is the path Kaggle gave.
        QStringList paths;
        for (int row = 0; row < table->model()->rowCount(); ++row)
            paths.append(table->model()->index(row, 1).data().toString() +
                         table->model()->index(row, 0).data().toString());
        QStringList expected;
        for (const std::string &name : m_fx->sim->outputFileNames("alice/bert-imdb"))
            expected.append(QString::fromStdString(name));
        paths.sort();
        expected.sort();
        QCOMPARE(paths, expected);
        QVERIFY(child<QLabel>(view.get(), "outputsSummary")->text().contains(u"folders"));
        QVERIFY(kd::test::saveScreenshot(view.get(), QStringLiteral("outputs-folders.png")));
    }

    void outputsShowErrorsInlineAndRetry()
    {
        const RunId id = watched("alice/titanic-baseline");
        sim::Faults faults;
        faults.http5xx = 1.0;
        faults.onlyPaths = {"ListKernelSessionOutput"};
        m_fx->sim->setFaults(faults);
        auto view = show<OutputsView>(id);
        auto *placeholder = child<QLabel>(view.get(), "outputsPlaceholder");
        QTRY_VERIFY2(placeholder->text().contains(u"Could not list the output files"),
                     qPrintable(placeholder->text()));
        QVERIFY(placeholder->text().contains(u"server error"));
        auto *retry = child<QPushButton>(view.get(), "outputsRetryButton");
        QVERIFY(retry->isVisible());
        QVERIFY(noDialogShown());
        QVERIFY(kd::test::saveScreenshot(view.get(), QStringLiteral("outputs-error.png")));

        m_fx->sim->setFaults({});
        QTest::mouseClick(retry, Qt::LeftButton);
        auto *table = child<QAbstractItemView>(view.get(), "outputsTable");
        QTRY_VERIFY(table->isVisible());
        QCOMPARE(table->model()->rowCount(), 2);
    }
};

QTEST_MAIN(TestDetailTabs)
#include "tst_detailtabs.moc"
