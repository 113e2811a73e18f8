// The Log tab with real widgets, driven by clicks and keys, against the simulator over
// loopback: streaming, follow, search, stream toggles, first error, copy and the full log.

#include "detailsfixture.h"
#include "logdelegate.h"
#include "logtailmodel.h"
#include "logview.h"

#include <QClipboard>
#include <QDesktopServices>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTest>
#include <QToolButton>
#include <QWheelEvent>

using namespace kd;
using kd::test::DetailsFixture;

namespace {

template <typename T> T *child(QWidget *root, const char *name)
{
    return root->findChild<T *>(QString::fromLatin1(name));
}

QString rowText(const QModelIndex &index)
{
    return index.data(Qt::DisplayRole).toString();
}

/// The newest row is on screen.
bool lastRowVisible(QListView *list)
{
    const int rows = list->model()->rowCount();
    if (rows == 0)
        return false;
    const QRect r = list->visualRect(list->model()->index(rows - 1, 0));
    const QRect viewport = list->viewport()->rect();
    return r.isValid() && viewport.intersects(r) && r.bottom() <= viewport.bottom() + 2;
}

bool rowVisible(QListView *list, const QModelIndex &index)
{
    return list->viewport()->rect().intersects(list->visualRect(index));
}

int stderrRows(QAbstractItemModel *model)
{
    int count = 0;
    for (int row = 0; row < model->rowCount(); ++row)
        count += model->index(row, 0).data(LogTailModel::StreamRole).toInt() == 1;
    return count;
}

void wheelUp(QListView *list, int notches)
{
    const QPointF at = list->viewport()->rect().center();
    QWheelEvent event(at, list->viewport()->mapToGlobal(at), QPoint(), QPoint(0, 120 * notches),
                      Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase, false);
    QApplication::sendEvent(list->viewport(), &event);
}

} // namespace

/// Stands in for the desktop: records what "Open full log" asks to open.
class UrlCatcher final : public QObject
{
    Q_OBJECT
public:
    QList<QUrl> urls;
public slots:
    void open(const QUrl &url) { urls.append(url); }
};

class TestLogView : public QObject
{
    Q_OBJECT

    std::unique_ptr<DetailsFixture> m_fx;
    std::unique_ptr<LogView> m_view;
    UrlCatcher m_urls;

    LogView *makeView(RunId run, QSize size = {900, 360})
    {
        m_view = std::make_unique<LogView>(m_fx->deck.get());
        m_view->resize(size);
        m_view->setRun(run);
        m_view->show();
        if (!QTest::qWaitForWindowExposed(m_view.get()))
            qWarning("the log view was not exposed");
        return m_view.get();
    }
    QListView *list() const { return child<QListView>(m_view.get(), "logListView"); }
    QLabel *placeholder() const { return child<QLabel>(m_view.get(), "logPlaceholder"); }
    QLabel *searchStatus() const { return child<QLabel>(m_view.get(), "logSearchStatus"); }
    QToolButton *button(const char *name) const { return child<QToolButton>(m_view.get(), name); }

    /// A finished run whose whole log (setup, warnings, traceback) is fetched at once.
    RunId failingRunWithLog(int minRows = 10)
    {
        const RunId id = m_fx->watch("alice/failing-run");
        if (!QTest::qWaitFor([&] { return m_fx->hasSession(id); }, 10'000))
            return 0;
        makeView(id);
        if (!QTest::qWaitFor(
                [&] { return list()->isVisible() && list()->model()->rowCount() > minRows; },
                10'000))
            return 0;
        return id;
    }

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        kd::test::usePalette(false);
        QDesktopServices::setUrlHandler(QStringLiteral("file"), &m_urls, "open");
    }
    void cleanupTestCase() { QDesktopServices::unsetUrlHandler(QStringLiteral("file")); }
    void init()
    {
        m_urls.urls.clear();
        m_fx = std::make_unique<DetailsFixture>();
        QVERIFY(m_fx->setUp());
    }
    void cleanup()
    {
        kd::test::usePalette(false);
        m_view.reset();
        m_fx->tearDown();
        m_fx.reset();
    }

    void withoutARunItExplainsWhatToDo()
    {
        makeView(0);
        QVERIFY(placeholder()->isVisible());
        QVERIFY(placeholder()->text().contains(u"Select a run"));
        QVERIFY(!button("logFollowButton")->isVisible()); // nothing to act on yet
        QVERIFY(!list()->isVisible());
    }

    void streamedLinesAppearAndSearchFindsOne()
    {
        const RunId id = m_fx->watch("alice/bert-imdb");
        QTRY_VERIFY(m_fx->hasSession(id));
        makeView(id);
        QTRY_VERIFY(placeholder()->isVisible());
        QVERIFY2(placeholder()->text().contains(u"Queued"), qPrintable(placeholder()->text()));

        m_fx->sim->advance(11); // running, before the first line
        QTRY_COMPARE(m_fx->status(id), KernelStatus::Running);
        QTRY_VERIFY2(placeholder()->text().contains(u"Waiting for the first log lines"),
                     qPrintable(placeholder()->text()));
        QVERIFY(kd::test::saveScreenshot(m_view.get(), QStringLiteral("logview-waiting.png")));

        m_fx->sim->advance(40);
        QTRY_VERIFY(list()->isVisible());
        QTRY_VERIFY(list()->model()->rowCount() >= 8);
        QVERIFY(!placeholder()->isVisible());

        auto *search = child<QLineEdit>(m_view.get(), "logSearchEdit");
        QTest::keyClicks(search, QStringLiteral("num examples"));
        QTest::keyClick(search, Qt::Key_Return);
        QTRY_VERIFY(list()->currentIndex().isValid());
        QVERIFY2(rowText(list()->currentIndex()).contains(u"Num examples"),
                 qPrintable(rowText(list()->currentIndex())));
        QVERIFY(rowVisible(list(), list()->currentIndex()));
        QCOMPARE(searchStatus()->text(), QStringLiteral("1 of 1"));
        QVERIFY(!m_view->isFollowing()); // reading a match: new lines must not pull the view away

        // A word that is nowhere says so and leaves the current line alone.
        const QModelIndex before = list()->currentIndex();
        search->clear();
        QTest::keyClicks(search, QStringLiteral("zebra"));
        QCOMPARE(searchStatus()->text(), QStringLiteral("No match"));
        QTest::keyClick(search, Qt::Key_Return);
        QCOMPARE(searchStatus()->text(), QStringLiteral("No match"));
        QCOMPARE(list()->currentIndex(), before);

        // Several matches: Enter walks forward, Shift+Enter back, and the counter follows.
        search->clear();
        QTest::keyClicks(search, QStringLiteral("loss"));
        QTRY_VERIFY(searchStatus()->text().endsWith(u" matches"));
        QTest::keyClick(search, Qt::Key_Return);
        const QModelIndex first = list()->currentIndex();
        QVERIFY(rowText(first).contains(u"loss", Qt::CaseInsensitive));
        QTest::keyClick(search, Qt::Key_Return);
        const QModelIndex second = list()->currentIndex();
        QVERIFY(rowText(second).contains(u"loss", Qt::CaseInsensitive));
        QVERIFY(second.row() > first.row());
        QVERIFY2(searchStatus()->text().startsWith(u"2 of "), qPrintable(searchStatus()->text()));
        QTest::keyClick(search, Qt::Key_Return, Qt::ShiftModifier);
        QCOMPARE(list()->currentIndex(), first);

        m_view->focusSearch();
        QVERIFY(search->hasFocus());
        QVERIFY(kd::test::saveScreenshot(m_view.get(), QStringLiteral("logview.png")));
    }

    void followKeepsTheNewestLineInView()
    {
        const RunId id = m_fx->watch("alice/bert-imdb");
        QTRY_VERIFY(m_fx->hasSession(id));
        makeView(id, {800, 220});
        m_fx->sim->advance(11);
        QTRY_COMPARE(m_fx->status(id), KernelStatus::Running);
        m_fx->sim->advance(60);
        QTRY_VERIFY(list()->isVisible());
        QTRY_VERIFY(list()->model()->rowCount() >= 20);
        QScrollBar *vbar = list()->verticalScrollBar();
        QTRY_VERIFY(vbar->maximum() > 0);
        QVERIFY(m_view->isFollowing());
        QTRY_VERIFY(lastRowVisible(list()));

        // Scrolling up with the wheel is reading: follow turns off and stays off.
        wheelUp(list(), 3);
        QTRY_VERIFY(!m_view->isFollowing());
        QVERIFY(!button("logFollowButton")->isChecked());
        const int rowsBefore = list()->model()->rowCount();
        const int position = vbar->value();
        m_fx->sim->advance(25);
        QTRY_VERIFY(list()->model()->rowCount() > rowsBefore);
        QTest::qWait(100);
        QCOMPARE(vbar->value(), position);
        QVERIFY(!lastRowVisible(list()));

        // The button brings the newest line back and keeps it there.
        QTest::mouseClick(button("logFollowButton"), Qt::LeftButton);
        QVERIFY(m_view->isFollowing());
        QTRY_VERIFY(lastRowVisible(list()));
        const int rowsNow = list()->model()->rowCount();
        m_fx->sim->advance(15);
        QTRY_VERIFY(list()->model()->rowCount() > rowsNow);
        QTRY_VERIFY(lastRowVisible(list()));

        // Keys move the view too; "f" in the main window maps to setFollow.
        const QModelIndex newest = list()->model()->index(list()->model()->rowCount() - 1, 0);
        QTest::mouseClick(list()->viewport(), Qt::LeftButton, {},
                          list()->visualRect(newest).center());
        QVERIFY(m_view->isFollowing());          // clicking a line at the bottom is not scrolling
        QTest::keyClick(list(), Qt::Key_PageUp); // to the top of the page: nothing scrolls
        QVERIFY(m_view->isFollowing());
        QTest::keyClick(list(), Qt::Key_PageUp);
        QVERIFY(!m_view->isFollowing());
        QVERIFY(!lastRowVisible(list()));
        m_view->setFollow(true);
        QVERIFY(button("logFollowButton")->isChecked());
        QTRY_VERIFY(lastRowVisible(list()));
    }

    void streamTogglesHideLines()
    {
        QVERIFY(failingRunWithLog());
        QAbstractItemModel *model = list()->model();
        const int all = model->rowCount();
        const int errRows = stderrRows(model);
        QVERIFY(errRows > 0);
        QVERIFY(errRows < all);

        QTest::mouseClick(button("logStderrButton"), Qt::LeftButton);
        QVERIFY(!button("logStderrButton")->isChecked());
        QTRY_COMPARE(model->rowCount(), all - errRows);
        QCOMPARE(stderrRows(model), 0);

        QTest::mouseClick(button("logStdoutButton"), Qt::LeftButton);
        QTRY_COMPARE(model->rowCount(), 0);
        QVERIFY(placeholder()->isVisible());
        QVERIFY(placeholder()->text().contains(u"hidden"));

        QTest::mouseClick(button("logStderrButton"), Qt::LeftButton);
        QTRY_COMPARE(model->rowCount(), errRows);
        QCOMPARE(stderrRows(model), errRows);
        QTest::mouseClick(button("logStdoutButton"), Qt::LeftButton);
        QTRY_COMPARE(model->rowCount(), all);
    }

    void firstErrorJumpsToTheTraceback()
    {
        QVERIFY(failingRunWithLog());
        QToolButton *firstError = button("logFirstErrorButton");
        QTRY_VERIFY(firstError->isEnabled());
        QVERIFY(lastRowVisible(list()));
        // Hide stderr first: asking for the error must show it anyway.
        QTest::mouseClick(button("logStderrButton"), Qt::LeftButton);
        QTest::mouseClick(firstError, Qt::LeftButton);
        QVERIFY(button("logStderrButton")->isChecked());
        const QModelIndex current = list()->currentIndex();
        QVERIFY(current.isValid());
        // The traceback follows the progress bar on the same stderr line, as in a terminal.
        QVERIFY2(rowText(current).contains(u"Traceback (most recent call last)"),
                 qPrintable(rowText(current)));
        QCOMPARE(current.data(LogTailModel::StreamRole).toInt(), 1);
        QVERIFY(rowVisible(list(), current));
        QVERIFY(!m_view->isFollowing());
        QVERIFY(kd::test::saveScreenshot(m_view.get(), QStringLiteral("logview-error.png")));
    }

    void firstErrorSaysWhenThereIsNone()
    {
        const RunId id = m_fx->watch("alice/titanic-baseline");
        QTRY_VERIFY(m_fx->hasSession(id));
        makeView(id);
        QTRY_VERIFY(list()->isVisible() && list()->model()->rowCount() > 3);
        QTest::qWait(300); // the button follows the log at a throttled pace
        QVERIFY(!button("logFirstErrorButton")->isEnabled());
        QVERIFY(button("logFirstErrorButton")->toolTip().contains(u"No line"));
        m_view->jumpToFirstError();
        QCOMPARE(searchStatus()->text(), QStringLiteral("No error found"));
    }

    void copyTakesSelectedOrAllLines()
    {
        QVERIFY(failingRunWithLog());
        QClipboard *clipboard = QApplication::clipboard();
        clipboard->clear();
        QTest::mouseClick(button("logCopyButton"), Qt::LeftButton);
        QVERIFY(clipboard->text().endsWith(u'\n'));
        const QStringList all = clipboard->text().chopped(1).split(u'\n');
        QCOMPARE(all.size(), list()->model()->rowCount());
        QVERIFY(all.last().contains(u"CUDA out of memory"));

        const QModelIndex third = list()->model()->index(2, 0);
        m_view->setFollow(false);
        list()->scrollTo(third);
        QTest::mouseClick(list()->viewport(), Qt::LeftButton, {},
                          list()->visualRect(third).center());
        QCOMPARE(list()->currentIndex(), third);
        QTest::keyClick(list(), Qt::Key_C, Qt::ControlModifier);
        QCOMPARE(clipboard->text(), rowText(third) + u'\n');
    }

    void droppedLinesPointToTheFullLog()
    {
        m_fx->tearDown();
        m_fx = std::make_unique<DetailsFixture>();
        QVERIFY(m_fx->setUp(10)); // keep only ten lines in memory
        QVERIFY(failingRunWithLog(5));
        auto *note = child<QLabel>(m_view.get(), "logDroppedLabel");
        QTRY_VERIFY(note->isVisible());
        QVERIFY2(note->text().startsWith(u"Lines 1–"), qPrintable(note->text()));
        // The gutter numbers continue from the dropped lines.
        QVERIFY(list()->model()->index(0, 0).data(LogTailModel::LineNumberRole).toLongLong() > 1);
        QVERIFY(kd::test::saveScreenshot(m_view.get(), QStringLiteral("logview-dropped.png")));

        QTest::mouseClick(child<QToolButton>(m_view.get(), "logDroppedOpenButton"), Qt::LeftButton);
        QTRY_COMPARE(m_urls.urls.size(), 1);
        QFile text(m_urls.urls.first().toLocalFile());
        QVERIFY2(text.open(QIODevice::ReadOnly), qPrintable(text.fileName()));
        const QString content = QString::fromUtf8(text.readAll());
        QVERIFY(content.startsWith(u"Collecting peft")); // the lines no longer in memory
        QVERIFY(content.contains(u"Traceback (most recent call last):"));
        QVERIFY(!content.contains(u"\"data\"")); // plain text, not the JSON archive
        QCOMPARE(searchStatus()->text(), QStringLiteral("Opened the full log"));
    }

    void fullLogOfARunNotFollowedYetIsExplained()
    {
        const RunId id = m_fx->watch("alice/bert-imdb");
        QTRY_VERIFY(m_fx->hasSession(id));
        makeView(id);
        QTRY_VERIFY(button("logOpenFullButton")->isEnabled());
        QTest::mouseClick(button("logOpenFullButton"), Qt::LeftButton);
        QCOMPARE(searchStatus()->text(), QStringLiteral("The full log is not on disk"));
        QVERIFY(m_urls.urls.isEmpty());
    }

    void wrapShowsLongLinesWhole()
    {
        QVERIFY(failingRunWithLog());
        m_view->resize(520, 360);
        QListView *view = list();
        // The OOM message is far wider than the view.
        const QModelIndex last = view->model()->index(view->model()->rowCount() - 1, 0);
        QVERIFY(rowText(last).size() > 150);
        const int oneLine = view->visualRect(last).height();
        QTest::mouseClick(button("logWrapButton"), Qt::LeftButton);
        QTRY_VERIFY(view->visualRect(last).height() >= 2 * oneLine - 2);
        QVERIFY(kd::test::saveScreenshot(m_view.get(), QStringLiteral("logview-wrap.png")));
        QTest::mouseClick(button("logWrapButton"), Qt::LeftButton);
        QTRY_COMPARE(view->visualRect(last).height(), oneLine);
    }

    void darkPaletteScreenshot()
    {
        kd::test::usePalette(true);
        QVERIFY(failingRunWithLog());
        auto *search = child<QLineEdit>(m_view.get(), "logSearchEdit");
        QTest::keyClicks(search, QStringLiteral("cuda"));
        QTRY_VERIFY(button("logFirstErrorButton")->isEnabled());
        QTest::mouseClick(button("logFirstErrorButton"), Qt::LeftButton);
        QVERIFY(list()->currentIndex().isValid());
        QVERIFY(kd::test::saveScreenshot(m_view.get(), QStringLiteral("logview-dark.png")));
    }

    void terminalColoursReadOnBothPalettes_data()
    {
        QTest::addColumn<bool>("dark");
        QTest::newRow("light") << false;
        QTest::newRow("dark") << true;
    }
    void terminalColoursReadOnBothPalettes()
    {
        QFETCH(bool, dark);
        const QPalette palette = dark ? theme::darkPalette() : theme::lightPalette();
        QCOMPARE(LogDelegate::isDark(palette), dark);
        auto luminance = [](const QColor &c) {
            auto f = [](double v) {
                return v <= 0.03928 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4);
            };
            return 0.2126 * f(c.redF()) + 0.7152 * f(c.greenF()) + 0.0722 * f(c.blueF());
        };
        const double base = luminance(palette.color(QPalette::Base));
        auto contrast = [&](const QColor &c) {
            const double l = luminance(c);
            return (std::max(l, base) + 0.05) / (std::min(l, base) + 0.05);
        };
        for (int c = StyleSpan::Black; c <= StyleSpan::BrightWhite; ++c) {
            const QColor color = LogDelegate::terminalColor(StyleSpan::Color(c), palette);
            QVERIFY2(contrast(color) >= 4.5,
                     qPrintable(QStringLiteral("colour %1: %2 on %3 contrast %4")
                                    .arg(c)
                                    .arg(color.name(), palette.color(QPalette::Base).name())
                                    .arg(contrast(color))));
        }
        QVERIFY(contrast(LogDelegate::stderrColor(palette)) >= 4.5);
        QVERIFY(contrast(LogDelegate::errorColor(palette)) >= 4.5);
    }
};

QTEST_MAIN(TestLogView)
#include "tst_logview.moc"
