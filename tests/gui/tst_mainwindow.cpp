// The dashboard window over the real stack (simulator on loopback, libcurl, KaggleClient,
// SQLite store, Deck), driven by clicks and keys like a user: adding runs, filter counts,
// failures, alerts, shortcuts, settings, and what unreachable servers, rejected credentials
// and deleted kernels look like. Saves screenshots of the main views.

#include "addrundialog.h"
#include "alertengine.h"
#include "appsettings.h"
#include "chaindialog.h"
#include "chainrunner.h"
#include "commitdialog.h"
#include "curlhttpclient.h"
#include "deck.h"
#include "filtersidebar.h"
#include "firstrunwidget.h"
#include "kaggleclient.h"
#include "logfollower.h"
#include "logview.h"
#include "mainwindow.h"
#include "notifier.h"
#include "outputdatasetdialog.h"
#include "persistence.h"
#include "persistencedialog.h"
#include "quickswitcher.h"
#include "runmonitor.h"
#include "runtabledelegate.h"
#include "runtablemodel.h"
#include "settingsdialog.h"
#include "shortcutsdialog.h"
#include "simulator.h"
#include "store.h"
#include "theme.h"

#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QContextMenuEvent>
#include <QDialogButtonBox>
#include <QDir>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QFile>
#include <QHeaderView>
#include <QInputDialog>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTabBar>
#include <QTableView>
#include <QTableWidget>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QToolBar>
#include <QToolButton>
#include <QTreeWidget>

#include <memory>

using namespace kd;

namespace {

const QString kAlice = QStringLiteral("alice");
const QString kAliceKey = QStringLiteral("alice-key-123456");

/// What a test needs different from the defaults.
struct Setup
{
    QString key = kAliceKey;
    QString user = kAlice;
    bool demoScenario = false; ///< the built-in demo world instead of basic.json
};

QString screenshotPath(const QString &name)
{
    QDir().mkpath(QStringLiteral(KD_SCREENSHOT_DIR));
    return QDir(QStringLiteral(KD_SCREENSHOT_DIR)).filePath(name);
}

/// Saves an artifact; with KD_UPDATE_SCREENSHOTS=1 also refreshes the README's copy.
void saveScreenshot(QWidget *widget, const QString &name, const QString &readmeName = {})
{
    const QPixmap shot = widget->grab();
    QVERIFY2(shot.save(screenshotPath(name)), qPrintable(name));
    if (!readmeName.isEmpty() && qEnvironmentVariable("KD_UPDATE_SCREENSHOTS") == u"1") {
        const QString dir = QStringLiteral(KD_SOURCE_DIR "/resources/screenshots");
        QDir().mkpath(dir);
        QVERIFY(shot.save(QDir(dir).filePath(readmeName)));
    }
}

} // namespace

class TestMainWindow : public QObject
{
    Q_OBJECT

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<sim::Simulator> m_sim;
    std::unique_ptr<net::CurlHttpClient> m_http;
    std::unique_ptr<KaggleClient> m_client;
    std::unique_ptr<Store> m_store;
    std::unique_ptr<Deck> m_deck;
    std::unique_ptr<MainWindow> m_window;

    bool build(const Setup &setup = {})
    {
        m_dir = std::make_unique<QTemporaryDir>();
        if (!m_dir->isValid())
            return false;
        sim::Options so;
        so.speed = 0; // the test moves the clock with advance()
        so.seed = 11;
        so.sseIdleTimeoutSeconds = 5;
        m_sim = std::make_unique<sim::Simulator>(so);
        std::string error;
        const bool loaded =
            setup.demoScenario
                ? m_sim->loadScenarioJson(sim::Simulator::builtinDemoScenario(), &error)
                : m_sim->loadScenarioFile(KD_TEST_DATA_DIR "/scenarios/basic.json", &error);
        if (!loaded) {
            qWarning("scenario: %s", error.c_str());
            return false;
        }
        m_sim->setSpeed(0);
        if (!m_sim->start())
            return false;
        m_http = std::make_unique<net::CurlHttpClient>();
        KaggleClient::Options o;
        o.endpoint = QUrl(QString::fromStdString(m_sim->endpoint()));
        o.backoffBaseMs = 10;
        o.backoffMaxMs = 50;
        o.maxAttempts = 1;
        o.connectTimeoutMs = 1000;
        o.requestTimeoutMs = 5000;
        m_client = std::make_unique<KaggleClient>(m_http.get(),
                                                  Credentials::fromKey(setup.user, setup.key), o);
        auto store = Store::open(m_dir->filePath(QStringLiteral("history.sqlite")));
        if (!store) {
            qWarning("store: %s", qPrintable(store.error().message));
            return false;
        }
        m_store = std::move(store).value();
        Deck::Settings settings;
        settings.monitor.pollRunningSeconds = 0.1;
        settings.monitor.pollQueuedSeconds = 0.2;
        settings.monitor.quotaPollSeconds = 30;
        settings.monitor.pushGraceSeconds = 30;
        settings.monitor.maxBackoffSeconds = 0.5;
        settings.monitor.requestBudgetPerMinute = 100'000;
        settings.alertTickSeconds = 1;
        m_deck = std::make_unique<Deck>(m_client.get(), m_store.get(), m_dir->path(), settings);
        LogFollower::Settings ls;
        ls.reconnectDelayMs = 50;
        ls.pollIntervalMs = 200;
        m_deck->monitor()->logFollower()->setSettings(ls);
        m_window = std::make_unique<MainWindow>(m_deck.get());
        m_window->resize(1366, 768);
        m_window->show();
        QApplication::setActiveWindow(m_window.get());
        if (!QTest::qWaitForWindowExposed(m_window.get()))
            return false;
        m_deck->start();
        return true;
    }

    // -- Finding things the way a user sees them ------------------------------------------

    QToolButton *toolButton(const char *actionName) const
    {
        auto *toolbar = m_window->findChild<QToolBar *>(QStringLiteral("mainToolBar"));
        auto *action = m_window->findChild<QAction *>(QString::fromLatin1(actionName));
        if (!toolbar || !action)
            return nullptr;
        return qobject_cast<QToolButton *>(toolbar->widgetForAction(action));
    }

    QTableView *table() const { return m_window->runTable(); }
    RunTableDelegate *delegate() const
    {
        return qobject_cast<RunTableDelegate *>(table()->itemDelegate());
    }

    QModelIndex indexOf(RunId id, int column) const
    {
        const int source = m_deck->runModel()->rowOf(id);
        if (source < 0)
            return {};
        const QModelIndex index =
            m_deck->runFilter()->mapFromSource(m_deck->runModel()->index(source, 0));
        return index.isValid() ? index.siblingAtColumn(column) : QModelIndex();
    }
    /// The words the table shows in a run's cell.
    QString cell(RunId id, int column) const
    {
        const QModelIndex index = indexOf(id, column);
        return index.isValid() ? delegate()->text(index) : QString();
    }
    QString stateCell(RunId id) const { return cell(id, RunTableModel::StateColumn); }
    QString stateTip(RunId id) const
    {
        const QModelIndex index = indexOf(id, RunTableModel::StateColumn);
        return index.isValid() ? delegate()->toolTip(index) : QString();
    }

    QTreeWidgetItem *sidebarItem(const QString &name) const
    {
        auto *tree = m_window->findChild<QTreeWidget *>(QStringLiteral("filterTree"));
        if (!tree)
            return nullptr;
        for (QTreeWidgetItemIterator it(tree); *it; ++it)
            if ((*it)->text(0).startsWith(name + QStringLiteral(" (")))
                return *it;
        return nullptr;
    }
    /// The sidebar's label for a state, e.g. "Running (1)".
    QString sidebar(const QString &name) const
    {
        const QTreeWidgetItem *item = sidebarItem(name);
        return item ? item->text(0) : QString();
    }

    RunId watch(const char *ref)
    {
        const auto id = m_deck->monitor()->watch(QString::fromLatin1(ref));
        return id ? *id : 0;
    }

    void clickTab(const QString &title)
    {
        auto *tabs = m_window->findChild<QTabWidget *>(QStringLiteral("detailTabs"));
        QVERIFY(tabs);
        for (int i = 0; i < tabs->count(); ++i)
            if (tabs->tabText(i) == title) {
                QTest::mouseClick(tabs->tabBar(), Qt::LeftButton, {},
                                  tabs->tabBar()->tabRect(i).center());
                QCOMPARE(tabs->currentIndex(), i);
                return;
            }
        QFAIL(qPrintable(QStringLiteral("no tab %1").arg(title)));
    }

    QString labelText(const char *name) const
    {
        const auto *label = m_window->findChild<QLabel *>(QString::fromLatin1(name));
        return label ? label->text() : QString();
    }

    template <typename T> T *visibleTopLevel(const QString &objectName) const
    {
        for (QWidget *w : QApplication::topLevelWidgets())
            if (w->objectName() == objectName && w->isVisible())
                if (auto *t = qobject_cast<T *>(w))
                    return t;
        return nullptr;
    }

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        // QSettings (window layout, preferences) goes to a scratch directory.
        static QTemporaryDir settingsDir;
        QVERIFY(settingsDir.isValid());
        QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, settingsDir.path());
        QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, settingsDir.path());
        QCoreApplication::setOrganizationName(QStringLiteral("KaggleDeckTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_mainwindow"));
        theme::apply(theme::Appearance::Light);
    }

    void cleanup()
    {
        m_window.reset();
        if (m_deck)
            m_deck->stop();
        m_deck.reset();
        m_store.reset();
        m_client.reset();
        m_http.reset();
        m_sim.reset();
        m_dir.reset();
        theme::apply(theme::Appearance::Light);
    }

    void addRunReachesRunning()
    {
        QVERIFY(build());
        QToolButton *add = toolButton("actionAddRun");
        QVERIFY(add);
        QVERIFY(add->isEnabled());
        QTest::mouseClick(add, Qt::LeftButton);
        QPointer<AddRunDialog> dialog;
        QTRY_VERIFY((dialog = m_window->findChild<AddRunDialog *>()) && dialog->isVisible());
        auto *edit = dialog->findChild<QLineEdit *>(QStringLiteral("addRunEdit"));
        auto *addButton = dialog->findChild<QPushButton *>(QStringLiteral("addRunButton"));
        auto *error = dialog->findChild<QLabel *>(QStringLiteral("addRunError"));
        QVERIFY(edit && addButton && error);

        // A malformed ref is refused inline; the dialog stays open for a correction.
        QTest::keyClicks(edit, QStringLiteral("not a kernel"));
        QTest::mouseClick(addButton, Qt::LeftButton);
        QVERIFY(error->isVisible());
        QVERIFY2(error->text().contains(u"owner/slug"), qPrintable(error->text()));
        QVERIFY(dialog->isVisible());
        QCOMPARE(m_deck->runFilter()->rowCount(), 0);

        edit->clear();
        QTest::keyClicks(edit, QStringLiteral("https://www.kaggle.com/code/alice/bert-imdb"));
        QTest::mouseClick(addButton, Qt::LeftButton);
        QTRY_VERIFY(!dialog || !dialog->isVisible());
        QCOMPARE(m_deck->runFilter()->rowCount(), 1);
        const RunId bert = *m_deck->monitor()->runByRef({kAlice, QStringLiteral("bert-imdb")});
        QCOMPARE(m_window->currentRun(), bert);

        // The same kernel again: refused with the reason, nothing added.
        QTest::mouseClick(add, Qt::LeftButton);
        QTRY_VERIFY((dialog = m_window->findChild<AddRunDialog *>()) && dialog->isVisible());
        QTest::keyClicks(dialog->findChild<QLineEdit *>(QStringLiteral("addRunEdit")),
                         QStringLiteral("alice/bert-imdb"));
        QTest::mouseClick(dialog->findChild<QPushButton *>(QStringLiteral("addRunButton")),
                          Qt::LeftButton);
        QVERIFY(dialog->findChild<QLabel *>(QStringLiteral("addRunError"))
                    ->text()
                    .contains(u"already watched"));
        dialog->reject();
        QCOMPARE(m_deck->runFilter()->rowCount(), 1);

        QTRY_COMPARE(stateCell(bert), QStringLiteral("Queued"));
        m_sim->advance(15); // past the 10 s queue
        QTRY_COMPARE(stateCell(bert), QStringLiteral("Running"));
        // A running run counts down to its 12 h cap.
        QTRY_VERIFY(cell(bert, RunTableModel::TimeLeftColumn).startsWith(u"11:"));
    }

    void filterCountsFollowStates()
    {
        QVERIFY(build());
        const RunId bert = watch("alice/bert-imdb");
        const RunId failing = watch("alice/failing-run");
        const RunId titanic = watch("alice/titanic-baseline");
        QVERIFY(bert && failing && titanic);
        QTRY_COMPARE(sidebar(QStringLiteral("All")), QStringLiteral("All (3)"));
        QTRY_COMPARE(sidebar(QStringLiteral("Queued")), QStringLiteral("Queued (1)"));
        QTRY_COMPARE(sidebar(QStringLiteral("Error")), QStringLiteral("Error (1)"));
        QTRY_COMPARE(sidebar(QStringLiteral("Complete")), QStringLiteral("Complete (1)"));
        QCOMPARE(sidebar(QStringLiteral("Running")), QStringLiteral("Running (0)"));

        m_sim->advance(15);
        QTRY_COMPARE(sidebar(QStringLiteral("Running")), QStringLiteral("Running (1)"));
        QCOMPARE(sidebar(QStringLiteral("Queued")), QStringLiteral("Queued (0)"));

        // Clicking a state shows only its runs, and the counts keep covering every run.
        auto *tree = m_window->findChild<QTreeWidget *>(QStringLiteral("filterTree"));
        QTreeWidgetItem *running = sidebarItem(QStringLiteral("Running"));
        QTest::mouseClick(tree->viewport(), Qt::LeftButton, {},
                          tree->visualItemRect(running).center());
        QTRY_COMPARE(m_deck->runFilter()->rowCount(), 1);
        QCOMPARE(table()->model()->index(0, 0).data(RunTableModel::RunIdRole).toLongLong(), bert);

        m_sim->advance(200); // bert-imdb finishes
        QTRY_COMPARE(sidebar(QStringLiteral("Complete")), QStringLiteral("Complete (2)"));
        QCOMPARE(sidebar(QStringLiteral("Running")), QStringLiteral("Running (0)"));
        QTRY_COMPARE(m_deck->runFilter()->rowCount(), 0);
        // The empty filtered table says why it is empty.
        auto *empty = m_window->findChild<QLabel *>(QStringLiteral("emptyTableLabel"));
        QVERIFY(empty && empty->isVisible());
        QVERIFY(empty->text().contains(u"No run matches"));

        QTreeWidgetItem *all = sidebarItem(QStringLiteral("All"));
        QTest::mouseClick(tree->viewport(), Qt::LeftButton, {}, tree->visualItemRect(all).center());
        QTRY_COMPARE(m_deck->runFilter()->rowCount(), 3);

        // The text filter above the table.
        auto *filter = m_window->findChild<QLineEdit *>(QStringLiteral("filterEdit"));
        QTest::keyClicks(filter, QStringLiteral("titanic"));
        QTRY_COMPARE(m_deck->runFilter()->rowCount(), 1);
        filter->clear();
        QTRY_COMPARE(m_deck->runFilter()->rowCount(), 3);
    }

    void failedRunShowsFailureMessage()
    {
        QVERIFY(build());
        watch("alice/bert-imdb");
        const RunId failing = watch("alice/failing-run");
        QTRY_COMPARE(stateCell(failing), QStringLiteral("Error"));
        QVERIFY2(stateTip(failing).contains(u"CUDA out of memory"), qPrintable(stateTip(failing)));

        const QModelIndex index = indexOf(failing, RunTableModel::TitleColumn);
        QTest::mouseClick(table()->viewport(), Qt::LeftButton, {},
                          table()->visualRect(index).center());
        QCOMPARE(m_window->currentRun(), failing);
        clickTab(tr("Info"));
        QTRY_VERIFY(labelText("infoFailureLabel").contains(u"CUDA out of memory"));
        saveScreenshot(m_window.get(), QStringLiteral("failed-run-info.png"));
    }

    void notificationSelectsRun()
    {
        QVERIFY(build());
        const RunId bert = watch("alice/bert-imdb");
        const RunId failing = watch("alice/failing-run");
        QTRY_COMPARE(stateCell(bert), QStringLiteral("Queued"));
        QTRY_COMPARE(stateCell(failing), QStringLiteral("Error"));
        Notifier *notifier = m_window->notifier();
        QVERIFY(!notifier->hasTray()); // offscreen has no tray; the window's list is the way
        QToolButton *bell = m_window->findChild<QToolButton *>(QStringLiteral("alertsButton"));
        QVERIFY(bell);
        QCOMPARE(bell->text(), QString()); // nothing unread yet

        QSignalSpy raised(m_deck.get(), &Deck::alertRaised);
        m_sim->advance(15);
        QTRY_COMPARE(stateCell(bert), QStringLiteral("Running"));
        QTRY_COMPARE(notifier->summary(), QStringLiteral("1 running, 1 failed"));
        m_sim->advance(200);
        QTRY_COMPARE(stateCell(bert), QStringLiteral("Complete"));
        QTRY_VERIFY(raised.count() >= 1);
        QTRY_COMPARE(bell->text(), QString::number(m_store->unacknowledgedAlertCount()));
        const int unread = m_store->unacknowledgedAlertCount();
        QVERIFY(unread >= 1);

        m_window->selectRun(failing);
        QCOMPARE(m_window->currentRun(), failing);
        QTest::mouseClick(bell, Qt::LeftButton);
        QWidget *popup = nullptr;
        QTRY_VERIFY((popup = visibleTopLevel<QWidget>(QStringLiteral("alertsPopup"))));
        auto *list = popup->findChild<QListWidget *>(QStringLiteral("alertList"));
        QVERIFY(list);
        QListWidgetItem *finished = nullptr;
        for (int i = 0; i < list->count(); ++i)
            if (list->item(i)->text().contains(u"bert-imdb"))
                finished = list->item(i);
        QVERIFY2(finished, "the finished alert is listed");
        saveScreenshot(popup, QStringLiteral("alerts-popup.png"));
        QTest::mouseClick(list->viewport(), Qt::LeftButton, {},
                          list->visualItemRect(finished).center());
        QTRY_COMPARE(m_window->currentRun(), bert);
        QVERIFY(!popup->isVisible());
        QCOMPARE(m_store->unacknowledgedAlertCount(), unread - 1);

        // The tray's messageClicked goes through the same path.
        Alert alert;
        alert.runId = failing;
        alert.title = QStringLiteral("alice/failing-run failed");
        notifier->activate(alert);
        QCOMPARE(m_window->currentRun(), failing);
    }

    void keyboardShortcuts()
    {
        QVERIFY(build());
        const RunId bert = watch("alice/bert-imdb");
        const RunId failing = watch("alice/failing-run");
        const RunId titanic = watch("alice/titanic-baseline");
        QTRY_VERIFY(!stateCell(titanic).isEmpty() && stateCell(titanic) != u"Checking…");
        QVERIFY(QTest::qWaitForWindowActive(m_window.get()));
        // Sorted by title: bert-imdb, failing-run, titanic-baseline.
        m_window->selectRun(bert);
        table()->setFocus();
        QTRY_VERIFY(table()->hasFocus());

        QTest::keyClick(table(), Qt::Key_J);
        QCOMPARE(m_window->currentRun(), failing);
        QTest::keyClick(table(), Qt::Key_J);
        QCOMPARE(m_window->currentRun(), titanic);
        QTest::keyClick(table(), Qt::Key_K);
        QCOMPARE(m_window->currentRun(), failing);
        QTest::keyClick(table(), Qt::Key_Up);
        QCOMPARE(m_window->currentRun(), bert);

        // Typing into a text field types; the single-key shortcuts stay quiet.
        auto *filter = m_window->findChild<QLineEdit *>(QStringLiteral("filterEdit"));
        auto *next = m_window->findChild<QAction *>(QStringLiteral("actionNextRun"));
        QSignalSpy nextSpy(next, &QAction::triggered);
        filter->setFocus();
        QTest::keyClick(filter, Qt::Key_J);
        QCOMPARE(filter->text(), QStringLiteral("j"));
        QCOMPARE(nextSpy.count(), 0);
        filter->clear();
        QTRY_COMPARE(m_deck->runFilter()->rowCount(), 3);

        // "/" opens the Log tab and puts the cursor in its search field.
        m_window->selectRun(bert);
        table()->setFocus();
        auto *tabs = m_window->findChild<QTabWidget *>(QStringLiteral("detailTabs"));
        tabs->setCurrentIndex(tabs->count() - 1);
        QTest::keyClick(table(), Qt::Key_Slash);
        QCOMPARE(tabs->currentWidget(), m_window->logView());
        QTRY_VERIFY(QApplication::focusWidget() &&
                    m_window->logView()->isAncestorOf(QApplication::focusWidget()));
        QVERIFY(qobject_cast<QLineEdit *>(QApplication::focusWidget()));

        // "f" toggles follow (from the table; in the search field it would be typed).
        table()->setFocus();
        const bool following = m_window->logView()->isFollowing();
        QTest::keyClick(table(), Qt::Key_F);
        QCOMPARE(m_window->logView()->isFollowing(), !following);
        QTest::keyClick(table(), Qt::Key_F);
        QCOMPARE(m_window->logView()->isFollowing(), following);

        // Ctrl+K: jump to a run by typing part of its name.
        QTest::keyClick(table(), Qt::Key_K, Qt::ControlModifier);
        QuickSwitcher *switcher = nullptr;
        QTRY_VERIFY((switcher = visibleTopLevel<QuickSwitcher>(QStringLiteral("quickSwitcher"))));
        QTest::keyClicks(switcher->lineEdit(), QStringLiteral("titan"));
        QCOMPARE(switcher->list()->count(), 1);
        saveScreenshot(switcher, QStringLiteral("quick-switcher.png"));
        QTest::keyClick(switcher->lineEdit(), Qt::Key_Return);
        QVERIFY(!switcher->isVisible());
        QCOMPARE(m_window->currentRun(), titanic);

        // F1 lists every shortcut.
        QTest::keyClick(table(), Qt::Key_F1);
        ShortcutsDialog *help = nullptr;
        QTRY_VERIFY((help = visibleTopLevel<ShortcutsDialog>(QStringLiteral("shortcutsDialog"))));
        auto *list = help->findChild<QTableWidget *>(QStringLiteral("shortcutsTable"));
        QStringList keys;
        for (int row = 0; row < list->rowCount(); ++row)
            keys << list->item(row, 0)->text();
        for (const QString &key : {QStringLiteral("Ctrl+K"), QStringLiteral("/"),
                                   QStringLiteral("F"), QStringLiteral("Up / Down, K / J")})
            QVERIFY2(keys.contains(key), qPrintable(key));
        saveScreenshot(help, QStringLiteral("shortcuts.png"));
        help->close();
    }

    void toolbarActionsReachTheSimulator()
    {
        QVERIFY(build());
        const RunId bert = watch("alice/bert-imdb");
        m_sim->advance(200); // bert-imdb finishes: its outputs can become a dataset
        QTRY_VERIFY(m_deck->monitor()->state(bert)->session &&
                    m_deck->monitor()->state(bert)->session->status == KernelStatus::Complete);
        QTRY_VERIFY(indexOf(bert, 0).isValid());
        QTest::mouseClick(table()->viewport(), Qt::LeftButton, {},
                          table()->visualRect(indexOf(bert, RunTableModel::TitleColumn)).center());
        QTRY_COMPARE(m_window->currentRun(), bert);
        for (const char *name :
             {"actionCommit", "actionPersistence", "actionOutputToDataset", "actionChain"}) {
            QVERIFY2(toolButton(name) && toolButton(name)->isEnabled(), name);
            QVERIFY2(!toolButton(name)->toolTip().isEmpty(), name);
        }

        // Output -> Dataset: the outputs become a READY dataset on Kaggle.
        QTest::mouseClick(toolButton("actionOutputToDataset"), Qt::LeftButton);
        OutputDatasetDialog *transfer = nullptr;
        QTRY_VERIFY((transfer = visibleTopLevel<OutputDatasetDialog>(
                         QStringLiteral("outputDatasetDialog"))));
        QTRY_VERIFY(!transfer->outputNames().isEmpty());
        const auto type = [](QLineEdit *edit, const QString &text) {
            edit->selectAll();
            QTest::keyClicks(edit, text);
        };
        type(transfer->findChild<QLineEdit *>(QStringLiteral("outputDatasetTitle")),
             QStringLiteral("BERT IMDB outputs"));
        type(transfer->findChild<QLineEdit *>(QStringLiteral("outputDatasetSlug")),
             QStringLiteral("bert-imdb-toolbar"));
        QSignalSpy transferred(transfer, &OutputDatasetDialog::transferFinished);
        QTest::mouseClick(transfer->findChild<QPushButton *>(QStringLiteral("outputDatasetStart")),
                          Qt::LeftButton);
        for (int i = 0; i < 400 && transferred.isEmpty(); ++i) {
            m_sim->advance(2); // Kaggle processes the upload
            QTest::qWait(50);
        }
        QCOMPARE(transferred.size(), 1);
        QCOMPARE(m_sim->datasetStatus("alice/bert-imdb-toolbar"), std::string("READY"));
        transfer->close();

        // Persistence: Files only is stored for the run.
        QTest::mouseClick(toolButton("actionPersistence"), Qt::LeftButton);
        PersistenceDialog *persistenceDialog = nullptr;
        QTRY_VERIFY((persistenceDialog =
                         visibleTopLevel<PersistenceDialog>(QStringLiteral("persistenceDialog"))));
        QTest::mouseClick(persistenceDialog->modeButton(bert, PersistenceMode::FilesOnly),
                          Qt::LeftButton);
        QTest::mouseClick(persistenceDialog->saveButton(), Qt::LeftButton);
        QTRY_COMPARE(m_deck->monitor()->state(bert)->run.settings.persistence,
                     persistence::id(PersistenceMode::FilesOnly));

        // Commit: the pushed version carries the kernel itself as a source (Files only).
        const int versions = m_sim->kernelVersionCount("alice/bert-imdb");
        QTest::mouseClick(toolButton("actionCommit"), Qt::LeftButton);
        CommitDialog *commit = nullptr;
        QTRY_VERIFY((commit = visibleTopLevel<CommitDialog>(QStringLiteral("commitDialog"))));
        QTRY_VERIFY(!commit->isBusy() && commit->commitButton()->isEnabled());
        QTest::mouseClick(commit->commitButton(), Qt::LeftButton);
        QTRY_COMPARE(m_sim->kernelVersionCount("alice/bert-imdb"), versions + 1);
        const auto pushed =
            QJsonDocument::fromJson(
                QByteArray::fromStdString(m_sim->lastSaveKernelRequest("alice/bert-imdb")))
                .object();
        QVERIFY(pushed.value(QStringLiteral("kernelDataSources"))
                    .toArray()
                    .contains(QStringLiteral("alice/bert-imdb")));
        QTRY_VERIFY(!visibleTopLevel<CommitDialog>(QStringLiteral("commitDialog")));

        // Chain: created from the toolbar, shown in the Chains tab, its first step committed
        // (or queued for a GPU slot).
        QTest::mouseClick(toolButton("actionChain"), Qt::LeftButton);
        ChainDialog *chainDialog = nullptr;
        QTRY_VERIFY((chainDialog = visibleTopLevel<ChainDialog>(QStringLiteral("chainDialog"))));
        auto *pattern = chainDialog->findChild<QLineEdit *>(QStringLiteral("chainPattern"));
        QVERIFY(pattern);
        type(pattern, QStringLiteral("checkpoint-*/model.safetensors"));
        QTest::mouseClick(
            chainDialog->findChild<QPushButton *>(QStringLiteral("chainCreateButton")),
            Qt::LeftButton);
        QTRY_COMPARE(m_deck->chains()->chainIds().size(), 1);
        const ChainId chain = m_deck->chains()->chainIds().first();
        auto *tabs = m_window->findChild<QTabWidget *>(QStringLiteral("detailTabs"));
        QTRY_COMPARE(tabs->currentWidget()->objectName(), QStringLiteral("chainView"));
        QTRY_VERIFY(m_sim->kernelVersionCount("alice/bert-imdb") == versions + 2 ||
                    m_deck->chains()->state(chain) == ChainRunner::State::Queued);
    }

    void settingsNeverShowKey()
    {
        QVERIFY(build());
        QTest::mouseClick(toolButton("actionSettings"), Qt::LeftButton);
        SettingsDialog *dialog = nullptr;
        QTRY_VERIFY((dialog = m_window->findChild<SettingsDialog *>()) && dialog->isVisible());
        const auto *source = dialog->findChild<QLabel *>(QStringLiteral("credentialSourceLabel"));
        QVERIFY(source);
        QVERIFY2(source->text().contains(u"alice"), qPrintable(source->text()));
        QVERIFY(dialog->findChild<QLabel *>(QStringLiteral("endpointLabel"))
                    ->text()
                    .contains(u"127.0.0.1"));
        QStringList shown;
        for (const QLabel *l : dialog->findChildren<QLabel *>())
            shown << l->text() << l->toolTip();
        for (const QLineEdit *e : dialog->findChildren<QLineEdit *>())
            shown << e->text();
        for (const QPlainTextEdit *e : dialog->findChildren<QPlainTextEdit *>())
            shown << e->toPlainText();
        QVERIFY(!shown.join(u'\n').contains(kAliceKey));
        saveScreenshot(dialog, QStringLiteral("settings.png"));
        dialog->reject();
        QTRY_VERIFY(!m_window->findChild<SettingsDialog *>());
    }

    void contextMenuMutesAndTags()
    {
        QVERIFY(build());
        const RunId bert = watch("alice/bert-imdb");
        const RunId failing = watch("alice/failing-run");
        QTRY_COMPARE(stateCell(failing), QStringLiteral("Error"));

        // Right-click a row: the menu acts on it.
        const QModelIndex index = indexOf(bert, RunTableModel::TitleColumn);
        const QPoint at = table()->visualRect(index).center();
        QContextMenuEvent event(QContextMenuEvent::Mouse, at, table()->viewport()->mapToGlobal(at));
        QApplication::sendEvent(table()->viewport(), &event);
        QMenu *menu = nullptr;
        QTRY_VERIFY((menu = visibleTopLevel<QMenu>(QStringLiteral("runContextMenu"))));
        QCOMPARE(m_window->currentRun(), bert);
        QStringList entries;
        for (const QAction *a : menu->actions())
            if (!a->isSeparator())
                entries << a->text();
        for (const QString &entry : {tr("Open on Kaggle"), tr("Copy ref"), tr("Refresh"),
                                     tr("Tags…"), tr("Mute alerts"), tr("Remove…")})
            QVERIFY2(entries.contains(entry), qPrintable(entries.join(u", ")));
        QAction *mute = m_window->findChild<QAction *>(QStringLiteral("actionMute"));
        QVERIFY(menu->actions().contains(mute));
        mute->trigger();
        menu->close();
        QVERIFY(m_deck->monitor()->state(bert)->run.settings.muted);
        QVERIFY(!m_deck->monitor()->state(failing)->run.settings.muted);
        QVERIFY(delegate()->toolTip(indexOf(bert, RunTableModel::TitleColumn)).contains(u"muted"));

        // Snooze is per run too, and undoes itself from the same entry.
        QAction *snooze = m_window->findChild<QAction *>(QStringLiteral("actionSnooze"));
        snooze->trigger();
        QVERIFY(m_deck->monitor()->state(bert)->run.settings.snoozedUntil >
                QDateTime::currentDateTimeUtc().addSecs(3500));
        QCOMPARE(snooze->text(), tr("Unsnooze alerts"));
        snooze->trigger();
        QVERIFY(!m_deck->monitor()->state(bert)->run.settings.snoozedUntil.isValid());

        // Tags: typed in a dialog, then listed with their counts in the sidebar.
        m_window->findChild<QAction *>(QStringLiteral("actionTags"))->trigger();
        QInputDialog *tags = nullptr;
        QTRY_VERIFY((tags = m_window->findChild<QInputDialog *>(QStringLiteral("tagsDialog"))) &&
                    tags->isVisible());
        auto *edit = tags->findChild<QLineEdit *>();
        edit->clear();
        QTest::keyClicks(edit, QStringLiteral("llm, t4"));
        QTest::keyClick(edit, Qt::Key_Return);
        QCOMPARE(m_deck->monitor()->state(bert)->run.tags,
                 (QStringList{QStringLiteral("llm"), QStringLiteral("t4")}));
        QTRY_COMPARE(sidebar(QStringLiteral("llm")), QStringLiteral("llm (1)"));
        auto *tree = m_window->findChild<QTreeWidget *>(QStringLiteral("filterTree"));
        QTest::mouseClick(tree->viewport(), Qt::LeftButton, {},
                          tree->visualItemRect(sidebarItem(QStringLiteral("t4"))).center());
        QTRY_COMPARE(m_deck->runFilter()->rowCount(), 1);
        QVERIFY(!QApplication::activeModalWidget());
    }

    void layoutIsRestored()
    {
        QVERIFY(build());
        watch("alice/bert-imdb");
        watch("alice/failing-run");
        QHeaderView *header = table()->horizontalHeader();
        header->resizeSection(RunTableModel::OwnerColumn, 143);
        header->moveSection(header->visualIndex(RunTableModel::GpuHoursColumn), 1);
        table()->sortByColumn(RunTableModel::ElapsedColumn, Qt::DescendingOrder);
        header->setSectionHidden(RunTableModel::AcceleratorColumn, true);
        m_window->resize(1100, 700);
        QVERIFY(m_window->close()); // saves the layout like a user's quit

        m_window = std::make_unique<MainWindow>(m_deck.get());
        m_window->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
        header = table()->horizontalHeader();
        QCOMPARE(header->sectionSize(RunTableModel::OwnerColumn), 143);
        QCOMPARE(header->visualIndex(RunTableModel::GpuHoursColumn), 1);
        QCOMPARE(header->sortIndicatorSection(), int(RunTableModel::ElapsedColumn));
        QCOMPARE(header->sortIndicatorOrder(), Qt::DescendingOrder);
        QVERIFY(header->isSectionHidden(RunTableModel::AcceleratorColumn));
        QCOMPARE(m_window->size(), QSize(1100, 700));
        auto *dock = m_window->findChild<QDockWidget *>(QStringLiteral("quotaDock"));
        QVERIFY(dock && dock->isVisible());

        // Leave a default layout for the tests after this one.
        QSettings().remove(QStringLiteral("window"));
    }

    void settingsApplyAndPersist()
    {
        QVERIFY(build());
        QTest::mouseClick(toolButton("actionSettings"), Qt::LeftButton);
        SettingsDialog *dialog = nullptr;
        QTRY_VERIFY((dialog = m_window->findChild<SettingsDialog *>()) && dialog->isVisible());
        auto *running = dialog->findChild<QSpinBox *>(QStringLiteral("pollRunningSpin"));
        auto *stuck = dialog->findChild<QSpinBox *>(QStringLiteral("stuckSpin"));
        auto *appearance = dialog->findChild<QComboBox *>(QStringLiteral("appearanceCombo"));
        auto *patterns = dialog->findChild<QPlainTextEdit *>(QStringLiteral("patternsEdit"));
        QVERIFY(running && stuck && appearance && patterns);
        running->setValue(42);
        stuck->setValue(33);
        appearance->setCurrentIndex(appearance->findData(int(theme::Appearance::Dark)));
        // An invalid expression blocks OK and says why.
        auto *pages = dialog->findChild<QTabWidget *>(QStringLiteral("settingsTabs"));
        pages->setCurrentWidget(patterns->parentWidget());
        patterns->setPlainText(QStringLiteral("(unclosed"));
        auto *ok = dialog->findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok);
        QVERIFY(!ok->isEnabled());
        QVERIFY(dialog->findChild<QLabel *>(QStringLiteral("patternError"))->isVisible());
        patterns->setPlainText(QStringLiteral("(?i)early stopping"));
        QVERIFY(ok->isEnabled());
        QTest::mouseClick(ok, Qt::LeftButton);
        QTRY_VERIFY(!m_window->findChild<SettingsDialog *>());

        QCOMPARE(m_deck->monitor()->settings().pollRunningSeconds, 42.0);
        QCOMPARE(m_deck->alerts()->defaults().stuckMinutes, 33);
        bool hasPattern = false;
        for (const AlertPattern &p : m_deck->alerts()->defaults().patterns)
            hasPattern = hasPattern || p.regex == u"(?i)early stopping";
        QVERIFY(hasPattern);
        QVERIFY(theme::isDark(QApplication::palette()));
        const AppSettings saved = AppSettings::load();
        QCOMPARE(saved.pollRunningSeconds, 42.0);
        QVERIFY(saved.appearance == theme::Appearance::Dark);
        QCOMPARE(saved.extraPatterns, QStringList{QStringLiteral("(?i)early stopping")});
        AppSettings{}.save();
    }

    void unreachableEndpointIsOfflineNotModal()
    {
        QVERIFY(build());
        const RunId bert = watch("alice/bert-imdb");
        const RunId failing = watch("alice/failing-run");
        QTRY_COMPARE(stateCell(bert), QStringLiteral("Queued"));
        QTRY_COMPARE(stateCell(failing), QStringLiteral("Error"));
        QVERIFY(labelText("connectionLabel").contains(u"Online"));

        m_sim->stop();
        QTRY_VERIFY_WITH_TIMEOUT(labelText("connectionLabel").contains(u"Offline"), 20'000);
        // The status bar counts down to the next attempt.
        QTRY_VERIFY2(labelText("connectionLabel").contains(u"next try in"),
                     qPrintable(labelText("connectionLabel")));
        QTRY_VERIFY(stateCell(bert).startsWith(u"Stale: "));
        QVERIFY2(stateTip(bert).contains(u"Last known state: Queued"), qPrintable(stateTip(bert)));
        auto *banner = m_window->findChild<QLabel *>(QStringLiteral("problemBanner"));
        QTRY_VERIFY(banner->isVisible());
        QVERIFY(banner->text().contains(u"Offline"));
        QTRY_VERIFY(sidebar(QStringLiteral("Stale")).startsWith(u"Stale ("));
        QVERIFY(sidebar(QStringLiteral("Stale")) != u"Stale (0)");
        QVERIFY(!QApplication::activeModalWidget());

        // Still responsive: the keyboard moves the selection and refresh returns at once.
        m_window->selectRun(bert);
        table()->setFocus();
        QTest::keyClick(table(), Qt::Key_J);
        QCOMPARE(m_window->currentRun(), failing);
        QElapsedTimer timer;
        timer.start();
        QTest::mouseClick(toolButton("actionRefresh"), Qt::LeftButton);
        QCoreApplication::processEvents();
        QVERIFY(timer.elapsed() < 1000);
        QVERIFY(!QApplication::activeModalWidget());
        saveScreenshot(m_window.get(), QStringLiteral("offline.png"));
    }

    void revokedCredentialsAreClear()
    {
        Setup setup;
        setup.key = QStringLiteral("revoked-key-000000");
        QVERIFY(build(setup));
        const RunId bert = watch("alice/bert-imdb");
        QTRY_COMPARE(stateCell(bert), QStringLiteral("Sign-in rejected"));
        QVERIFY(stateTip(bert).contains(u"rejected the credentials"));
        auto *banner = m_window->findChild<QLabel *>(QStringLiteral("problemBanner"));
        QTRY_VERIFY(banner->isVisible());
        QVERIFY(banner->text().contains(u"rejected the credentials"));
        QVERIFY(!banner->text().contains(setup.key));
        QVERIFY(!QApplication::activeModalWidget());
        saveScreenshot(m_window.get(), QStringLiteral("credentials-rejected.png"));
    }

    void deletedKernelIsNotFound()
    {
        QVERIFY(build());
        watch("alice/bert-imdb");
        const RunId gone = watch("alice/does-not-exist");
        QTRY_COMPARE(stateCell(gone), QStringLiteral("Not found"));
        QVERIFY2(stateTip(gone).contains(u"deleted"), qPrintable(stateTip(gone)));
        QVERIFY(!QApplication::activeModalWidget());

        m_window->selectRun(gone);
        clickTab(tr("Info"));
        auto *stale = m_window->findChild<QLabel *>(QStringLiteral("infoStaleLabel"));
        QVERIFY(stale);
        QTRY_VERIFY(stale->isVisible());
        QVERIFY2(stale->text().contains(u"deleted"), qPrintable(stale->text()));
    }

    void importAndScreenshots()
    {
        Setup setup;
        setup.demoScenario = true;
        setup.user = QStringLiteral("demo");
        setup.key = QStringLiteral("demo-key-not-secret");
        QVERIFY(build(setup));
        m_window->setDemoMode(true);

        // Import through the toolbar, with its result in the status bar.
        QTest::mouseClick(toolButton("actionImport"), Qt::LeftButton);
        QTRY_VERIFY(labelText("messageLabel").startsWith(u"Imported "));
        const int imported = m_deck->runModel()->rowCount();
        QVERIFY(imported >= 6);
        QCOMPARE(labelText("messageLabel"), QStringLiteral("Imported %1 kernels").arg(imported));
        m_sim->advance(90);
        QTRY_VERIFY(m_deck->runFilter()->count(RunCategory::Running) >= 2);
        QTRY_VERIFY(m_deck->runFilter()->count(RunCategory::Error) >= 1);
        const RunId deberta = *m_deck->monitor()->runByRef(
            {QStringLiteral("demo"), QStringLiteral("deberta-v3-commonlit")});
        m_window->selectRun(deberta);
        clickTab(tr("Log"));
        m_sim->advance(30);
        QTest::qWait(2500); // let the log stream and the quota arrive

        m_window->resize(1366, 768);
        QTest::qWait(300);
        saveScreenshot(m_window.get(), QStringLiteral("main-1366x768.png"),
                       QStringLiteral("main-light.png"));

        theme::apply(theme::Appearance::Dark);
        QTest::qWait(300);
        saveScreenshot(m_window.get(), QStringLiteral("main-dark.png"),
                       QStringLiteral("main-dark.png"));
        theme::apply(theme::Appearance::Light);

        m_window->resize(2560, 1440);
        QTest::qWait(300);
        saveScreenshot(m_window.get(), QStringLiteral("main-2560x1440.png"));

        FirstRunWidget firstRun([] { return CredentialDiscovery{}; });
        firstRun.resize(1000, 700);
        firstRun.show();
        QVERIFY(QTest::qWaitForWindowExposed(&firstRun));
        saveScreenshot(&firstRun, QStringLiteral("first-run.png"));
    }

    void firstRunContinuesWhenCredentialsAppear()
    {
        bool present = false;
        FirstRunWidget firstRun([&present] {
            CredentialDiscovery d;
            if (present)
                d.credentials =
                    Credentials::fromKey(kAlice, kAliceKey, Credentials::Source::KaggleJson,
                                         QStringLiteral("/home/alice/.kaggle/kaggle.json"));
            return d;
        });
        QSignalSpy found(&firstRun, &FirstRunWidget::credentialsFound);
        QSignalSpy demo(&firstRun, &FirstRunWidget::demoRequested);
        firstRun.show();
        QVERIFY(QTest::qWaitForWindowExposed(&firstRun));
        QString steps;
        for (const QLabel *step : firstRun.findChildren<QLabel *>())
            if (step->objectName().startsWith(u"firstRunStep"))
                steps += step->text();
        QVERIFY(steps.contains(u"kaggle.json"));
        QVERIFY(steps.contains(u"chmod 600"));
        QVERIFY(steps.contains(u"KAGGLE_API_TOKEN"));
        QTest::qWait(2200);
        QCOMPARE(found.count(), 0);
        present = true; // the user saves kaggle.json
        QTRY_COMPARE_WITH_TIMEOUT(found.count(), 1, 5000);
        auto *status = firstRun.findChild<QLabel *>(QStringLiteral("firstRunStatus"));
        QVERIFY(!status->text().contains(kAliceKey));

        // Rejected credentials are not offered again until they change.
        firstRun.setRejected(found.first().first().value<CredentialDiscovery>(),
                             QStringLiteral("Kaggle rejected the key"));
        QTest::qWait(2500);
        QCOMPARE(found.count(), 1);

        QTest::mouseClick(firstRun.findChild<QPushButton *>(QStringLiteral("tryDemoButton")),
                          Qt::LeftButton);
        QCOMPARE(demo.count(), 1);
    }
};

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
