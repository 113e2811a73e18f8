#include "mainwindow.h"
#include "ui_mainwindow.h"

#include "addrundialog.h"
#include "appsettings.h"
#include "chaindialog.h"
#include "chainrunner.h"
#include "chainview.h"
#include "commitdialog.h"
#include "deck.h"
#include "filtersidebar.h"
#include "format.h"
#include "kaggleclient.h"
#include "logview.h"
#include "metricschart.h"
#include "notifier.h"
#include "outputdatasetdialog.h"
#include "outputsview.h"
#include "persistencedialog.h"
#include "quickswitcher.h"
#include "quotapanel.h"
#include "runinfoview.h"
#include "runmonitor.h"
#include "runpresentation.h"
#include "runtabledelegate.h"
#include "runtablemodel.h"
#include "settingsdialog.h"
#include "shortcutsdialog.h"
#include "theme.h"
#include "timelinechart.h"
#include "uilog.h"

#include <QAbstractSpinBox>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QComboBox>
#include <QDesktopServices>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QScreen>
#include <QSettings>
#include <QTableView>
#include <QTextEdit>
#include <QTimer>
#include <QToolButton>

#include <algorithm>

namespace kd {

namespace {
constexpr int kMaxOpenedPages = 10;
constexpr qint64 kErrorShownSecs = 600;

const QString kGeometryKey = QStringLiteral("window/geometry");
const QString kStateKey = QStringLiteral("window/state");
const QString kMainSplitterKey = QStringLiteral("window/mainSplitter");
const QString kDetailSplitterKey = QStringLiteral("window/detailSplitter");
const QString kHeaderKey = QStringLiteral("window/tableHeader");
const QString kDetailTabKey = QStringLiteral("window/detailTab");

QString pollText(double seconds)
{
    // Sub-second intervals (tests, a local simulator) would otherwise read "0 s".
    return seconds < 1 ? QCoreApplication::translate("kd::MainWindow", "%1 s")
                             .arg(QLocale().toString(seconds, 'f', 1))
                       : format::duration(seconds);
}

QString bannerStyle(const QColor &background, const QColor &border, const QColor &text)
{
    return QStringLiteral("QLabel { background: %1; border: 1px solid %2; color: %3; "
                          "border-radius: 4px; padding: 2px 6px; }")
        .arg(background.name(), border.name(), text.name());
}
} // namespace

MainWindow::MainWindow(Deck *deck, QWidget *parent)
    : QMainWindow(parent), m_ui(std::make_unique<Ui::MainWindow>()), m_deck(deck)
{
    m_ui->setupUi(this);
    setObjectName(QStringLiteral("mainWindow"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/kaggledeck.svg")));
    setDockOptions(QMainWindow::AnimatedDocks);
    m_credentialText = deck->client()->credentials().describe();

    m_sidebar = new FilterSidebar(deck, m_ui->mainSplitter);
    m_ui->mainSplitter->insertWidget(0, m_sidebar);
    m_ui->mainSplitter->setStretchFactor(0, 0);
    m_ui->mainSplitter->setStretchFactor(1, 1);

    m_notifier = new Notifier(deck, this);
    connect(m_notifier, &Notifier::runActivated, this, [this](RunId run) {
        if (run == 0) {
            m_ui->quotaDock->show();
            m_ui->quotaDock->raise();
            return;
        }
        selectRun(run);
        m_ui->runTable->setFocus();
    });

    m_switcher = new QuickSwitcher(deck->monitor(), this);
    connect(m_switcher, &QuickSwitcher::runChosen, this, [this](RunId run) {
        selectRun(run);
        m_ui->runTable->setFocus();
    });

    setupTable();
    setupDetail();
    setupStatusBar();
    setupActions();
    refreshIcons();
    styleBanners();
    m_ui->demoBanner->hide();
    m_ui->problemBanner->hide();
    // Banners take the height of their text; the splitter gets everything else.
    for (QLabel *banner : {m_ui->demoBanner, m_ui->problemBanner})
        banner->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Maximum);
    m_ui->centralLayout->setStretchFactor(m_ui->mainSplitter, 1);
    connect(m_ui->problemBanner, &QLabel::linkActivated, this, [this](const QString &link) {
        if (link == u"settings")
            openSettings();
        else
            m_ui->actionRefresh->trigger();
    });

    RunMonitor *monitor = deck->monitor();
    connect(monitor, &RunMonitor::offlineChanged, this, [this](bool offline) {
        m_offlineSince = offline ? QDateTime::currentDateTimeUtc() : QDateTime();
        if (offline)
            noteError(tr("Kaggle cannot be reached"));
        else
            showMessage(tr("Back online"));
        updateStatus();
        updateProblems();
    });
    connect(monitor, &RunMonitor::problem, this, &MainWindow::noteError);
    connect(monitor, &RunMonitor::runChanged, this, [this](RunId id) {
        // A missing kernel and rejected credentials have their own row state and banner;
        // the status bar's last error is for passing trouble.
        const RunState *s = m_deck->monitor()->state(id);
        if (s && s->stale && !s->error.isEmpty() && s->errorKind != ApiError::Kind::NotFound &&
            s->errorKind != ApiError::Kind::Auth)
            noteError(tr("%1: %2").arg(s->run.ref.toString(), s->error));
        if (id == currentRun())
            updateRunActions();
    });

    m_tick = new QTimer(this);
    m_tick->setInterval(1000);
    connect(m_tick, &QTimer::timeout, this, &MainWindow::tick);
    m_tick->start();

    restoreLayout();
    updateEmptyState();
    updateStatus();
    updateProblems();
    onCurrentChanged();
    onSelectionChanged();
    // The table, not the filter box, has the keys at start, so j/k and arrows work at once.
    m_ui->runTable->setFocus();
}

MainWindow::~MainWindow() = default;

QTableView *MainWindow::runTable() const
{
    return m_ui->runTable;
}

// ---------------------------------------------------------------------------------------------
// Construction

void MainWindow::setupTable()
{
    QTableView *table = m_ui->runTable;
    table->setModel(m_deck->runFilter());
    m_delegate = new RunTableDelegate(m_deck->monitor(), table);
    table->setItemDelegate(m_delegate);
    table->verticalHeader()->hide();
    table->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 10);
    table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    table->setHorizontalScrollMode(QAbstractItemView::ScrollPerPixel);
    table->setAccessibleName(tr("Watched runs"));

    QHeaderView *header = table->horizontalHeader();
    header->setSectionsMovable(true);
    header->setHighlightSections(false);
    header->setStretchLastSection(false);
    header->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    header->setContextMenuPolicy(Qt::CustomContextMenu);
    header->setMinimumSectionSize(fontMetrics().horizontalAdvance(QStringLiteral("00000")));
    const QFontMetrics fm = fontMetrics();
    const auto width = [&fm](const QString &sample) { return fm.horizontalAdvance(sample) + 28; };
    // Sized for typical contents so everything fits at 1366 px with the sidebar and quota
    // dock; the last log line takes what is left.
    header->resizeSection(RunTableModel::TitleColumn, width(QStringLiteral("DeBERTa-v3 Common")));
    header->resizeSection(RunTableModel::OwnerColumn, width(QStringLiteral("alice")));
    header->resizeSection(RunTableModel::StateColumn,
                          width(QStringLiteral("Sign-in rejected")) + 20);
    header->resizeSection(RunTableModel::AcceleratorColumn, width(QStringLiteral("GPU T4 ×2")));
    header->resizeSection(RunTableModel::ElapsedColumn, width(QStringLiteral("10 h 59")));
    header->resizeSection(RunTableModel::TimeLeftColumn, width(QStringLiteral("Time lef")));
    header->resizeSection(RunTableModel::GpuHoursColumn, width(QStringLiteral("GPU h")));
    header->resizeSection(RunTableModel::UpdatedColumn, width(QStringLiteral("59 min ago")));
    header->setSectionResizeMode(RunTableModel::LastLogColumn, QHeaderView::Stretch);
    table->sortByColumn(RunTableModel::TitleColumn, Qt::AscendingOrder);
    connect(header, &QHeaderView::customContextMenuRequested, this, &MainWindow::showHeaderMenu);

    connect(table, &QTableView::customContextMenuRequested, this, &MainWindow::showContextMenu);
    connect(table, &QTableView::doubleClicked, this, &MainWindow::showLogTab);
    connect(table, &QTableView::activated, this, &MainWindow::showLogTab);
    connect(table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &MainWindow::onCurrentChanged);
    connect(table->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &MainWindow::onSelectionChanged);

    connect(m_ui->filterEdit, &QLineEdit::textChanged, m_deck->runFilter(),
            &RunFilterProxy::setText);

    m_emptyLabel = new QLabel(table->viewport());
    m_emptyLabel->setObjectName(QStringLiteral("emptyTableLabel"));
    m_emptyLabel->setAlignment(Qt::AlignCenter);
    m_emptyLabel->setWordWrap(true);
    m_emptyLabel->setForegroundRole(QPalette::PlaceholderText);
    m_emptyLabel->setAttribute(Qt::WA_TransparentForMouseEvents);
    table->viewport()->installEventFilter(this);
    RunFilterProxy *proxy = m_deck->runFilter();
    connect(proxy, &QAbstractItemModel::rowsInserted, this, &MainWindow::updateEmptyState);
    connect(proxy, &QAbstractItemModel::rowsRemoved, this, &MainWindow::updateEmptyState);
    connect(proxy, &QAbstractItemModel::modelReset, this, &MainWindow::updateEmptyState);
    connect(proxy, &QAbstractItemModel::layoutChanged, this, &MainWindow::updateEmptyState);
    connect(proxy, &RunFilterProxy::countsChanged, this, &MainWindow::updateStatus);
}

void MainWindow::setupDetail()
{
    QTabWidget *tabs = m_ui->detailTabs;
    m_logView = new LogView(m_deck, tabs);
    m_timeline = new TimelineChart(m_deck, tabs);
    m_metrics = new MetricsChart(m_deck, tabs);
    m_outputs = new OutputsView(m_deck, tabs);
    m_info = new RunInfoView(m_deck, tabs);
    m_chainView = new ChainView(m_deck, tabs);
    const auto name = [](QWidget *w, const char *objectName) {
        if (w->objectName().isEmpty())
            w->setObjectName(QString::fromLatin1(objectName));
    };
    name(m_logView, "logView");
    name(m_timeline, "timelineChart");
    name(m_metrics, "metricsChart");
    name(m_outputs, "outputsView");
    name(m_info, "runInfoView");
    name(m_chainView, "chainView");
    tabs->addTab(m_logView, tr("Log"));
    tabs->addTab(m_timeline, tr("Timeline"));
    tabs->addTab(m_metrics, tr("Metrics"));
    tabs->addTab(m_outputs, tr("Outputs"));
    tabs->addTab(m_info, tr("Info"));
    tabs->addTab(m_chainView, tr("Chains"));
    tabs->setTabToolTip(0, tr("The selected run's log: follow, search, stdout/stderr"));
    tabs->setTabToolTip(1, tr("States over time of the selected runs, or of all runs"));
    tabs->setTabToolTip(2, tr("Loss, accuracy and other series parsed from the log"));
    tabs->setTabToolTip(3, tr("Files the run wrote to /kaggle/working"));
    tabs->setTabToolTip(4, tr("Kernel metadata, sources and the failure message"));
    tabs->setTabToolTip(5, tr("Chains of runs: their steps, GPU hours and the stitched metric"));

    m_quota = new QuotaPanel(m_deck, m_ui->quotaDock);
    if (m_quota->objectName().isEmpty())
        m_quota->setObjectName(QStringLiteral("quotaPanel"));
    QWidget *placeholder = m_ui->quotaDock->widget();
    m_ui->quotaDock->setWidget(m_quota);
    delete placeholder;
    m_ui->menuView->addAction(m_ui->quotaDock->toggleViewAction());
    m_ui->quotaDock->toggleViewAction()->setText(tr("Quota panel"));
}

void MainWindow::setupStatusBar()
{
    QStatusBar *bar = m_ui->statusBar;
    m_connection = new QLabel(bar);
    m_connection->setObjectName(QStringLiteral("connectionLabel"));
    m_summary = new QLabel(bar);
    m_summary->setObjectName(QStringLiteral("summaryLabel"));
    m_message = new QLabel(bar);
    m_message->setObjectName(QStringLiteral("messageLabel"));
    m_message->setContentsMargins(12, 0, 0, 0);
    m_message->setMinimumWidth(0);
    m_message->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_lastError = new QLabel(bar);
    m_lastError->setObjectName(QStringLiteral("lastErrorLabel"));
    m_lastError->setMaximumWidth(fontMetrics().averageCharWidth() * 70);
    m_lastError->hide();
    m_importProgress = new QProgressBar(bar);
    m_importProgress->setObjectName(QStringLiteral("importProgress"));
    m_importProgress->setRange(0, 0);
    m_importProgress->setMaximumWidth(120);
    m_importProgress->setMaximumHeight(fontMetrics().height());
    m_importProgress->setTextVisible(false);
    m_importProgress->hide();
    bar->addWidget(m_connection);
    bar->addWidget(m_summary);
    bar->addWidget(m_message, 1);
    bar->addPermanentWidget(m_importProgress);
    bar->addPermanentWidget(m_lastError);
    m_messageTimer = new QTimer(this);
    m_messageTimer->setSingleShot(true);
    connect(m_messageTimer, &QTimer::timeout, m_message, &QLabel::clear);
}

void MainWindow::setupActions()
{
    Ui::MainWindow &ui = *m_ui;
    ui.mainToolBar->setObjectName(QStringLiteral("mainToolBar"));
    ui.menuRun->setToolTipsVisible(true);

    auto *spacer = new QWidget(ui.mainToolBar);
    spacer->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    ui.mainToolBar->addWidget(spacer);
    ui.mainToolBar->addWidget(m_notifier->bellButton());

    connect(ui.actionAddRun, &QAction::triggered, this, &MainWindow::addRun);
    connect(ui.actionImport, &QAction::triggered, this, &MainWindow::importMyKernels);
    connect(ui.actionRefresh, &QAction::triggered, this, [this] {
        m_deck->monitor()->pollNow();
        showMessage(m_deck->monitor()->isOffline() ? tr("Checking whether Kaggle is back…")
                                                   : tr("Checking every run now…"));
    });
    connect(ui.actionCommit, &QAction::triggered, this, &MainWindow::openCommit);
    connect(ui.actionPersistence, &QAction::triggered, this, &MainWindow::openPersistence);
    connect(ui.actionOutputToDataset, &QAction::triggered, this, &MainWindow::openOutputToDataset);
    connect(ui.actionChain, &QAction::triggered, this, &MainWindow::openNewChain);
    connect(ui.actionSettings, &QAction::triggered, this, &MainWindow::openSettings);
    connect(ui.actionQuit, &QAction::triggered, this, &QWidget::close);
    connect(ui.actionOpenOnKaggle, &QAction::triggered, this, &MainWindow::openOnKaggle);
    connect(ui.actionCopyRef, &QAction::triggered, this, &MainWindow::copyRefs);
    connect(ui.actionTags, &QAction::triggered, this, &MainWindow::editTags);
    connect(ui.actionMute, &QAction::triggered, this, &MainWindow::setMuted);
    connect(ui.actionSnooze, &QAction::triggered, this, &MainWindow::toggleSnooze);
    connect(ui.actionRemove, &QAction::triggered, this, &MainWindow::removeSelected);
    connect(ui.actionQuickSwitcher, &QAction::triggered, this,
            [this] { m_switcher->popup(centralWidget()); });
    connect(ui.actionFilter, &QAction::triggered, this, [this] {
        m_ui->filterEdit->setFocus(Qt::ShortcutFocusReason);
        m_ui->filterEdit->selectAll();
    });
    connect(ui.actionLogSearch, &QAction::triggered, this, &MainWindow::focusLogSearch);
    connect(ui.actionToggleFollow, &QAction::triggered, this, &MainWindow::toggleFollow);
    connect(ui.actionShowSidebar, &QAction::toggled, m_sidebar, &QWidget::setVisible);
    connect(ui.actionShortcuts, &QAction::triggered, this, &MainWindow::showShortcuts);
    connect(ui.actionAbout, &QAction::triggered, this, &MainWindow::showAbout);

    // j/k act like qBittorrent's and vim's down/up; they live on the window, not in a menu.
    auto *next = new QAction(tr("Next run"), this);
    next->setObjectName(QStringLiteral("actionNextRun"));
    next->setShortcut(QKeySequence(Qt::Key_J));
    connect(next, &QAction::triggered, this, [this] { moveSelection(+1); });
    auto *previous = new QAction(tr("Previous run"), this);
    previous->setObjectName(QStringLiteral("actionPreviousRun"));
    previous->setShortcut(QKeySequence(Qt::Key_K));
    connect(previous, &QAction::triggered, this, [this] { moveSelection(-1); });
    addAction(next);
    addAction(previous);

    // Copy and Delete act on the table only, so they never steal them from the log view.
    ui.actionCopyRef->setShortcut(QKeySequence::Copy);
    ui.actionCopyRef->setShortcutContext(Qt::WidgetShortcut);
    ui.actionRemove->setShortcut(QKeySequence::Delete);
    ui.actionRemove->setShortcutContext(Qt::WidgetShortcut);
    ui.runTable->addAction(ui.actionCopyRef);
    ui.runTable->addAction(ui.actionRemove);

    updateRunActions();
}

void MainWindow::refreshIcons()
{
    const QPalette p = palette();
    const auto set = [&p](QAction *action, const char *name) {
        action->setIcon(theme::icon(QString::fromLatin1(name), p));
    };
    Ui::MainWindow &ui = *m_ui;
    set(ui.actionAddRun, "add-run");
    set(ui.actionImport, "import");
    set(ui.actionCommit, "commit");
    set(ui.actionPersistence, "persistence");
    set(ui.actionOutputToDataset, "dataset");
    set(ui.actionChain, "chain");
    set(ui.actionRefresh, "refresh");
    set(ui.actionSettings, "settings");
    set(ui.actionOpenOnKaggle, "open-external");
    set(ui.actionCopyRef, "copy");
    set(ui.actionTags, "tag");
    set(ui.actionMute, "bell-off");
    set(ui.actionSnooze, "snooze");
    set(ui.actionRemove, "remove");
    set(ui.actionQuickSwitcher, "jump");
    set(ui.actionShortcuts, "keyboard");
}

void MainWindow::styleBanners()
{
    const bool dark = theme::isDark(palette());
    m_ui->demoBanner->setStyleSheet(
        dark ? bannerStyle(QColor(0x3d, 0x34, 0x12), QColor(0x6b, 0x5a, 0x1d),
                           QColor(0xff, 0xe7, 0xa3))
             : bannerStyle(QColor(0xff, 0xf4, 0xd6), QColor(0xe8, 0xcf, 0x8a),
                           QColor(0x5c, 0x44, 0x00)));
    m_ui->problemBanner->setStyleSheet(
        dark ? bannerStyle(QColor(0x4a, 0x1e, 0x1e), QColor(0x7a, 0x2e, 0x2e),
                           QColor(0xff, 0xd0, 0xcc))
             : bannerStyle(QColor(0xfd, 0xe2, 0xe1), QColor(0xf0, 0xa9, 0xa5),
                           QColor(0x7a, 0x1c, 0x18)));
    updateStatus();
}

void MainWindow::restoreLayout()
{
    const QSettings s;
    m_restoredGeometry = restoreGeometry(s.value(kGeometryKey).toByteArray());
    if (!m_restoredGeometry) {
        QSize size(1280, 800);
        if (const QScreen *screen = this->screen())
            size = size.boundedTo(screen->availableSize() * 0.92);
        resize(size);
    }
    const bool state = restoreState(s.value(kStateKey).toByteArray());
    if (!state) {
        const int quotaWidth =
            std::clamp(m_quota->sizeHint().width(), 260, std::max(260, width() / 5));
        resizeDocks({m_ui->quotaDock}, {quotaWidth}, Qt::Horizontal);
    }
    if (!m_ui->mainSplitter->restoreState(s.value(kMainSplitterKey).toByteArray()))
        m_ui->mainSplitter->setSizes({m_sidebar->sizeHint().width(), width()});
    if (!m_ui->detailSplitter->restoreState(s.value(kDetailSplitterKey).toByteArray()))
        m_ui->detailSplitter->setSizes({height() * 50 / 100, height() * 50 / 100});
    const QByteArray header = s.value(kHeaderKey).toByteArray();
    if (!header.isEmpty())
        m_ui->runTable->horizontalHeader()->restoreState(header);
    m_ui->detailTabs->setCurrentIndex(
        std::clamp(s.value(kDetailTabKey, 0).toInt(), 0, m_ui->detailTabs->count() - 1));
}

void MainWindow::saveLayout() const
{
    QSettings s;
    s.setValue(kGeometryKey, saveGeometry());
    s.setValue(kStateKey, saveState());
    s.setValue(kMainSplitterKey, m_ui->mainSplitter->saveState());
    s.setValue(kDetailSplitterKey, m_ui->detailSplitter->saveState());
    s.setValue(kHeaderKey, m_ui->runTable->horizontalHeader()->saveState());
    s.setValue(kDetailTabKey, m_ui->detailTabs->currentIndex());
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    saveLayout();
    QMainWindow::closeEvent(event);
}

void MainWindow::changeEvent(QEvent *event)
{
    QMainWindow::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) {
        refreshIcons();
        styleBanners();
    }
}

bool MainWindow::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_ui->runTable->viewport() && event->type() == QEvent::Resize) {
        const QRect area = m_ui->runTable->viewport()->rect();
        m_emptyLabel->setGeometry(area.adjusted(24, 24, -24, -24));
    }
    return QMainWindow::eventFilter(watched, event);
}

// ---------------------------------------------------------------------------------------------
// Public

void MainWindow::setDemoMode(bool demo)
{
    m_demo = demo;
    // Set now rather than in the form: a wrapped label measures its height when its text is
    // set, and a banner that was hidden since construction would keep a stale height.
    m_ui->demoBanner->setText(tr("<b>Demo:</b> these runs come from the built-in Kaggle "
                                 "simulator; nothing touches your Kaggle account."));
    m_ui->demoBanner->setVisible(demo);
    m_ui->demoBanner->setObjectName(QStringLiteral("demoBanner"));
    // Qt appends the application name ("Demo — KaggleDeck").
    setWindowTitle(demo ? tr("Demo") : QString());
    if (demo)
        m_credentialText = tr("The demo account of the built-in simulator (user “demo”)");
}

void MainWindow::showAtStart()
{
    // A first start on a laptop-sized screen gets all of it; the table has many columns.
    const QScreen *screen = this->screen();
    if (!m_restoredGeometry && screen && screen->availableSize().width() < 1600) {
        // The geometry too, for sessions without a window manager to maximize (Xvfb, kiosks).
        setGeometry(screen->availableGeometry());
        showMaximized();
    } else
        show();
}

void MainWindow::setCredentialInfo(const QString &description, const QStringList &warnings)
{
    m_credentialText = description;
    m_credentialWarnings = warnings;
}

void MainWindow::importMyKernels()
{
    if (m_importing)
        return;
    m_importing = true;
    m_ui->actionImport->setEnabled(false);
    m_importProgress->show();
    showMessage(tr("Importing your kernels…"), 0);
    const QPointer<MainWindow> self(this);
    m_deck->monitor()->importMyKernels([self](Result<int> added) {
        if (!self)
            return;
        self->m_importing = false;
        self->m_ui->actionImport->setEnabled(true);
        self->m_importProgress->hide();
        if (!added) {
            self->showMessage(tr("Import failed: %1").arg(added.error().message));
            self->noteError(tr("Import failed: %1").arg(added.error().message));
            return;
        }
        self->showMessage(*added == 0   ? tr("All your kernels are already watched")
                          : *added == 1 ? tr("Imported 1 kernel")
                                        : tr("Imported %1 kernels").arg(*added));
    });
}

void MainWindow::selectRun(RunId run)
{
    const int sourceRow = m_deck->runModel()->rowOf(run);
    if (sourceRow < 0)
        return;
    RunFilterProxy *proxy = m_deck->runFilter();
    const QModelIndex source = m_deck->runModel()->index(sourceRow, 0);
    QModelIndex index = proxy->mapFromSource(source);
    if (!index.isValid()) {
        // The run is filtered out: show everything rather than select something invisible.
        m_ui->filterEdit->clear();
        m_sidebar->selectCategory(RunCategory::All);
        index = proxy->mapFromSource(source);
    }
    if (!index.isValid())
        return;
    m_ui->runTable->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect |
                                                                 QItemSelectionModel::Rows);
    m_ui->runTable->scrollTo(index);
}

RunId MainWindow::currentRun() const
{
    const QModelIndex current = m_ui->runTable->selectionModel()->currentIndex();
    return current.isValid() ? current.data(RunTableModel::RunIdRole).toLongLong() : 0;
}

QList<RunId> MainWindow::selectedRuns() const
{
    QList<RunId> runs;
    for (const QModelIndex &index : m_ui->runTable->selectionModel()->selectedRows())
        runs.append(index.data(RunTableModel::RunIdRole).toLongLong());
    std::sort(runs.begin(), runs.end());
    return runs;
}

// ---------------------------------------------------------------------------------------------
// Selection and state

void MainWindow::onCurrentChanged()
{
    const RunId run = currentRun();
    if (run != m_shownRun) {
        m_shownRun = run;
        m_logView->setRun(run);
        m_metrics->setRun(run);
        m_outputs->setRun(run);
        m_info->setRun(run);
        // The Chains tab follows a run that belongs to a chain.
        if (const RunState *s = m_deck->monitor()->state(run)) {
            ChainRunner *chains = m_deck->chains();
            for (const ChainId id : chains->chainIds()) {
                if (const auto chain = chains->chain(id);
                    chain && chain->record.kernel == s->run.ref) {
                    m_chainView->setChain(id);
                    break;
                }
            }
        }
    }
    updateRunActions();
}

void MainWindow::onSelectionChanged()
{
    m_timeline->setRuns(selectedRuns());
    updateRunActions();
}

void MainWindow::updateRunActions()
{
    const QList<RunId> runs = selectedRuns();
    const bool any = !runs.isEmpty();
    Ui::MainWindow &ui = *m_ui;
    for (QAction *a : {ui.actionOpenOnKaggle, ui.actionCopyRef, ui.actionTags, ui.actionMute,
                       ui.actionSnooze, ui.actionRemove, ui.actionPersistence})
        a->setEnabled(any);
    ui.actionOutputToDataset->setEnabled(runs.size() == 1);
    bool allMuted = any;
    bool allSnoozed = any;
    const QDateTime now = QDateTime::currentDateTimeUtc();
    for (RunId id : runs) {
        const RunState *s = m_deck->monitor()->state(id);
        allMuted = allMuted && s && s->run.settings.muted;
        allSnoozed = allSnoozed && s && s->run.settings.snoozedUntil > now;
    }
    ui.actionMute->setChecked(allMuted);
    ui.actionSnooze->setText(allSnoozed ? tr("Unsnooze alerts") : tr("Snooze alerts for 1 hour"));
    ui.actionRemove->setText(runs.size() > 1 ? tr("Remove %1 runs…").arg(runs.size())
                                             : tr("Remove…"));
}

void MainWindow::updateEmptyState()
{
    const bool empty = m_deck->runFilter()->rowCount() == 0;
    // The detail pane always has something to show once there are runs.
    if (!empty && !m_ui->runTable->selectionModel()->currentIndex().isValid())
        QTimer::singleShot(0, this, [this] {
            if (!m_ui->runTable->selectionModel()->currentIndex().isValid() &&
                m_deck->runFilter()->rowCount() > 0)
                m_ui->runTable->selectionModel()->setCurrentIndex(
                    m_deck->runFilter()->index(0, 0),
                    QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
        });
    if (empty) {
        m_emptyLabel->setText(
            m_deck->runModel()->rowCount() == 0
                ? tr("<p style='font-size:large'><b>No runs watched yet</b></p>"
                     "<p>Click <b>Add run</b> (Ctrl+N) and paste a kernel's owner/slug or its "
                     "kaggle.com/code link,<br>or <b>Import my kernels</b> to watch all of "
                     "yours.</p>")
                : tr("<p><b>No run matches this filter.</b></p><p>Choose <i>All</i> in the "
                     "sidebar or clear the filter box.</p>"));
        m_emptyLabel->setGeometry(m_ui->runTable->viewport()->rect().adjusted(24, 24, -24, -24));
    }
    m_emptyLabel->setVisible(empty);
}

void MainWindow::tick()
{
    m_deck->runModel()->refreshTimes();
    // "2 min ago" moves on without any model change.
    m_ui->runTable->viewport()->update();
    updateStatus();
    updateProblems();
}

void MainWindow::updateStatus()
{
    if (!m_connection)
        return;
    const RunMonitor *monitor = m_deck->monitor();
    const RunFilterProxy *proxy = m_deck->runFilter();
    const QDateTime now = QDateTime::currentDateTimeUtc();
    if (monitor->isOffline() && !m_offlineSince.isValid())
        m_offlineSince = now; // the window opened while the monitor was already offline
    if (monitor->isOffline()) {
        const int probeMs = monitor->msUntilOfflineProbe();
        const QString since =
            QLocale().toString(m_offlineSince.toLocalTime().time(), QLocale::ShortFormat);
        m_connection->setText(
            probeMs >= 0
                ? tr("Offline since %1 — next try in %2 s").arg(since).arg((probeMs + 999) / 1000)
                : tr("Offline since %1 — trying now…").arg(since));
        m_connection->setToolTip(tr("Kaggle cannot be reached. The states shown are the last "
                                    "known; KaggleDeck checks again on its own (Refresh, F5, "
                                    "checks right now)."));
        m_connection->setStyleSheet(
            QStringLiteral("QLabel { background: #c62828; color: white; font-weight: bold; "
                           "border-radius: 3px; padding: 1px 8px; }"));
    } else {
        m_connection->setText(QStringLiteral("\u25cf ") + tr("Online"));
        m_connection->setToolTip(
            tr("Connected to %1")
                .arg(m_demo ? tr("the built-in simulator")
                            : m_deck->client()->options().endpoint.toDisplayString()));
        m_connection->setStyleSheet(QStringLiteral("QLabel { color: %1; padding: 1px 4px; }")
                                        .arg(theme::isDark(palette()) ? QStringLiteral("#6fcf8f")
                                                                      : QStringLiteral("#2e7d32")));
    }

    QStringList parts;
    const int total = proxy->count(RunCategory::All);
    parts << (total == 1 ? tr("1 run") : tr("%1 runs").arg(total));
    if (const int n = proxy->count(RunCategory::Running))
        parts << tr("%1 running").arg(n);
    if (const int n = proxy->count(RunCategory::Queued))
        parts << tr("%1 queued").arg(n);
    if (const int n = proxy->count(RunCategory::Error))
        parts << tr("%1 failed").arg(n);
    QDateTime newest;
    for (RunId id : monitor->runIds())
        if (const RunState *s = monitor->state(id); s && s->lastUpdate > newest)
            newest = s->lastUpdate;
    if (newest.isValid())
        parts << tr("updated %1").arg(format::ago(newest, now));
    if (proxy->count(RunCategory::Running) > 0)
        parts << tr("checking running runs every %1")
                     .arg(pollText(monitor->settings().pollRunningSeconds));
    m_summary->setText(parts.join(QStringLiteral("  ·  ")));

    const bool recent = m_lastErrorAt.isValid() && m_lastErrorAt.secsTo(now) < kErrorShownSecs;
    const bool anyStale = proxy->count(RunCategory::Stale) > 0;
    if (!m_lastErrorText.isEmpty() && (recent || anyStale)) {
        const QString text =
            tr("Last error %1: %2")
                .arg(QLocale().toString(m_lastErrorAt.toLocalTime().time(), QLocale::ShortFormat),
                     m_lastErrorText);
        m_lastError->setText(m_lastError->fontMetrics().elidedText(text, Qt::ElideRight,
                                                                   m_lastError->maximumWidth()));
        m_lastError->setToolTip(text);
        m_lastError->setStyleSheet(
            QStringLiteral("QLabel { color: %1; }").arg(theme::dangerColor(palette()).name()));
        m_lastError->show();
    } else {
        m_lastError->hide();
    }
}

void MainWindow::updateProblems()
{
    const RunMonitor *monitor = m_deck->monitor();
    QString html;
    if (monitor->isOffline()) {
        html =
            tr("<b>Offline:</b> Kaggle cannot be reached since %1. The states below are the "
               "last ones known and are marked stale; KaggleDeck keeps retrying on its own. "
               "<a href='retry'>Retry now</a>")
                .arg(QLocale().toString(m_offlineSince.toLocalTime().time(), QLocale::ShortFormat));
    } else {
        int rejected = 0;
        for (RunId id : monitor->runIds())
            if (const RunState *s = monitor->state(id);
                s && s->stale && s->errorKind == ApiError::Kind::Auth)
                ++rejected;
        if (rejected > 0)
            html = tr("<b>Kaggle rejected the credentials</b> (%1). Runs cannot be checked until "
                      "they are fixed: renew the token or kaggle.json, then "
                      "<a href='retry'>retry</a>. <a href='settings'>Settings</a> shows where "
                      "they came from.")
                       .arg(m_credentialText.toHtmlEscaped());
    }
    QLabel *banner = m_ui->problemBanner;
    if (banner->text() != html)
        banner->setText(html);
    banner->setVisible(!html.isEmpty());
}

void MainWindow::showMessage(const QString &text, int timeoutMs)
{
    m_message->setText(text);
    m_message->setToolTip(text);
    if (timeoutMs > 0)
        m_messageTimer->start(timeoutMs);
    else
        m_messageTimer->stop();
}

void MainWindow::noteError(const QString &text)
{
    // Errors go to the status bar, the row and the detail pane; never a dialog per error.
    m_lastErrorText = text;
    m_lastErrorAt = QDateTime::currentDateTimeUtc();
    qCInfo(lcUi) << "shown error:" << text;
    updateStatus();
}

// ---------------------------------------------------------------------------------------------
// Actions

void MainWindow::addRun()
{
    auto *dialog = new AddRunDialog(
        [this](const QString &text) { return m_deck->monitor()->watch(text); }, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &AddRunDialog::runAdded, this, [this](RunId run) {
        selectRun(run);
        if (const RunState *s = m_deck->monitor()->state(run))
            showMessage(tr("Watching %1").arg(s->run.ref.toString()));
    });
    dialog->open();
}

void MainWindow::openCommit()
{
    const RunId run = currentRun();
    auto *dialog = new CommitDialog(m_deck, run ? std::optional<RunId>(run) : std::nullopt, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &CommitDialog::committed, this, [this](const CommitReceipt &receipt) {
        selectRun(receipt.runId);
        showMessage(tr("Committed %1 as version %2")
                        .arg(receipt.ref, QString::number(receipt.versionNumber)));
    });
    connect(dialog, &CommitDialog::queued, this, [this](qint64, const QString &ref) {
        showMessage(tr("%1 waits in the commit queue for a free GPU slot").arg(ref));
    });
    dialog->open();
}

void MainWindow::openPersistence()
{
    const QList<RunId> runs = selectedRuns();
    if (runs.isEmpty())
        return;
    auto *dialog = new PersistenceDialog(m_deck, runs, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->open();
}

void MainWindow::openOutputToDataset()
{
    const RunId run = currentRun();
    if (!run)
        return;
    // Not modal: a transfer of big checkpoints takes a while, and the dashboard stays usable.
    auto *dialog = new OutputDatasetDialog(m_deck, run, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &OutputDatasetDialog::transferFinished, this, [this](const Result<QString> &r) {
        if (r)
            showMessage(tr("Dataset %1 is ready").arg(*r));
    });
    dialog->show();
}

void MainWindow::openNewChain()
{
    KernelRef kernel;
    if (const RunState *s = m_deck->monitor()->state(currentRun()))
        kernel = s->run.ref;
    auto *dialog = new ChainDialog(m_deck, kernel, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &ChainDialog::chainCreated, this,
            [this](ChainId id, const QString &startError) {
                m_chainView->setChain(id);
                m_ui->detailTabs->setCurrentWidget(m_chainView);
                showMessage(startError.isEmpty()
                                ? tr("Chain started")
                                : tr("Chain created but not started: %1").arg(startError));
            });
    dialog->open();
}

void MainWindow::openSettings()
{
    SettingsDialog::Account account;
    account.credentials = m_credentialText;
    account.warnings = m_credentialWarnings;
    account.endpoint = m_demo ? tr("%1 (the built-in simulator)")
                                    .arg(m_deck->client()->options().endpoint.toDisplayString())
                              : m_deck->client()->options().endpoint.toDisplayString();
    account.demo = m_demo;
    auto *dialog = new SettingsDialog(AppSettings::load(), account, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, dialog] {
        const AppSettings settings = dialog->settings();
        settings.save();
        settings.applyTo(m_deck);
        if (settings.appearance != theme::current())
            theme::apply(settings.appearance);
        showMessage(tr("Settings saved"));
        updateStatus();
    });
    dialog->open();
}

void MainWindow::showShortcuts()
{
    if (!m_shortcuts) {
        auto *dialog = new ShortcutsDialog(this);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        m_shortcuts = dialog;
    }
    m_shortcuts->show();
    m_shortcuts->raise();
    m_shortcuts->activateWindow();
}

void MainWindow::showAbout()
{
    QMessageBox::about(
        this, tr("About KaggleDeck"),
        tr("<h3>KaggleDeck %1</h3><p>A dashboard for the runs you train on Kaggle's "
           "accelerators: states, logs, metrics and your weekly GPU quota in one window.</p>")
            .arg(QCoreApplication::applicationVersion()));
}

void MainWindow::showContextMenu(const QPoint &pos)
{
    const QModelIndex index = m_ui->runTable->indexAt(pos);
    if (!index.isValid())
        return;
    if (!m_ui->runTable->selectionModel()->isRowSelected(index.row(), {}))
        m_ui->runTable->selectionModel()->setCurrentIndex(
            index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    updateRunActions();
    auto *menu = new QMenu(this);
    menu->setObjectName(QStringLiteral("runContextMenu"));
    menu->setAttribute(Qt::WA_DeleteOnClose);
    Ui::MainWindow &ui = *m_ui;
    menu->addAction(ui.actionOpenOnKaggle);
    menu->addAction(ui.actionCopyRef);
    auto *refresh = menu->addAction(theme::icon(QStringLiteral("refresh"), palette()),
                                    tr("Refresh"), this, &MainWindow::refreshSelected);
    refresh->setObjectName(QStringLiteral("actionRefreshSelected"));
    menu->addSeparator();
    menu->addAction(ui.actionTags);
    menu->addAction(ui.actionMute);
    menu->addAction(ui.actionSnooze);
    menu->addSeparator();
    menu->addAction(ui.actionRemove);
    menu->popup(m_ui->runTable->viewport()->mapToGlobal(pos));
}

void MainWindow::showHeaderMenu(const QPoint &pos)
{
    QHeaderView *header = m_ui->runTable->horizontalHeader();
    auto *menu = new QMenu(this);
    menu->setAttribute(Qt::WA_DeleteOnClose);
    menu->addSection(tr("Columns"));
    const QAbstractItemModel *model = m_ui->runTable->model();
    for (int column = 0; column < model->columnCount(); ++column) {
        auto *action = menu->addAction(model->headerData(column, Qt::Horizontal).toString());
        action->setCheckable(true);
        action->setChecked(!header->isSectionHidden(column));
        // The title is what identifies a run; it cannot be hidden.
        action->setEnabled(column != RunTableModel::TitleColumn);
        connect(action, &QAction::toggled, header,
                [header, column](bool on) { header->setSectionHidden(column, !on); });
    }
    menu->popup(header->mapToGlobal(pos));
}

void MainWindow::openOnKaggle()
{
    const QList<RunId> runs = selectedRuns();
    for (RunId id : runs.mid(0, kMaxOpenedPages))
        if (const RunState *s = m_deck->monitor()->state(id))
            QDesktopServices::openUrl(present::kernelUrl(s->run.ref));
}

void MainWindow::copyRefs()
{
    QStringList refs;
    for (RunId id : selectedRuns())
        if (const RunState *s = m_deck->monitor()->state(id))
            refs << s->run.ref.toString();
    if (refs.isEmpty())
        return;
    QGuiApplication::clipboard()->setText(refs.join(u'\n'));
    showMessage(refs.size() == 1 ? tr("Copied %1").arg(refs.first())
                                 : tr("Copied %1 refs").arg(refs.size()));
}

void MainWindow::refreshSelected()
{
    const QList<RunId> runs = selectedRuns();
    for (RunId id : runs)
        m_deck->monitor()->pollNow(id);
    showMessage(runs.size() == 1 ? tr("Checking the run now…")
                                 : tr("Checking %1 runs now…").arg(runs.size()));
}

void MainWindow::editTags()
{
    const QList<RunId> runs = selectedRuns();
    if (runs.isEmpty())
        return;
    const RunState *first = m_deck->monitor()->state(runs.first());
    auto *dialog = new QInputDialog(this);
    dialog->setObjectName(QStringLiteral("tagsDialog"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(tr("Tags"));
    dialog->setLabelText(runs.size() == 1
                             ? tr("Tags of %1, separated by commas:")
                                   .arg(first ? first->run.ref.toString() : QString())
                             : tr("Tags of %1 runs, separated by commas:").arg(runs.size()));
    dialog->setTextValue(first ? first->run.tags.join(QStringLiteral(", ")) : QString());
    connect(dialog, &QInputDialog::textValueSelected, this, [this, runs](const QString &text) {
        QStringList tags;
        for (const QString &part : text.split(u',', Qt::SkipEmptyParts))
            if (const QString tag = part.trimmed(); !tag.isEmpty() && !tags.contains(tag))
                tags << tag;
        for (RunId id : runs)
            if (auto r = m_deck->monitor()->setTags(id, tags); !r)
                noteError(tr("Tags not saved: %1").arg(r.error().message));
    });
    dialog->open();
}

void MainWindow::setMuted(bool muted)
{
    const QList<RunId> runs = selectedRuns();
    for (RunId id : runs) {
        const RunState *s = m_deck->monitor()->state(id);
        if (!s)
            continue;
        RunSettings settings = s->run.settings;
        settings.muted = muted;
        if (auto r = m_deck->monitor()->setRunSettings(id, settings); !r)
            noteError(tr("Not saved: %1").arg(r.error().message));
    }
    showMessage(muted ? tr("Alerts muted") : tr("Alerts back on"));
    updateRunActions();
}

void MainWindow::toggleSnooze()
{
    const QList<RunId> runs = selectedRuns();
    const QDateTime now = QDateTime::currentDateTimeUtc();
    bool allSnoozed = !runs.isEmpty();
    for (RunId id : runs)
        if (const RunState *s = m_deck->monitor()->state(id))
            allSnoozed = allSnoozed && s->run.settings.snoozedUntil > now;
    const QDateTime until = allSnoozed ? QDateTime() : now.addSecs(3600);
    for (RunId id : runs) {
        const RunState *s = m_deck->monitor()->state(id);
        if (!s)
            continue;
        RunSettings settings = s->run.settings;
        settings.snoozedUntil = until;
        if (auto r = m_deck->monitor()->setRunSettings(id, settings); !r)
            noteError(tr("Not saved: %1").arg(r.error().message));
    }
    showMessage(until.isValid()
                    ? tr("Alerts snoozed until %1")
                          .arg(QLocale().toString(until.toLocalTime().time(), QLocale::ShortFormat))
                    : tr("Alerts back on"));
    updateRunActions();
}

void MainWindow::removeSelected()
{
    const QList<RunId> runs = selectedRuns();
    if (runs.isEmpty())
        return;
    QString what;
    if (runs.size() == 1) {
        const RunState *s = m_deck->monitor()->state(runs.first());
        what = s ? s->run.ref.toString() : QString();
    }
    auto *box = new QMessageBox(QMessageBox::Question, tr("Stop watching"),
                                runs.size() == 1 ? tr("Stop watching %1?").arg(what)
                                                 : tr("Stop watching %1 runs?").arg(runs.size()),
                                QMessageBox::Cancel, this);
    box->setObjectName(QStringLiteral("removeConfirmation"));
    box->setInformativeText(tr("Their local history (sessions, metrics, alerts) is deleted. "
                               "Nothing changes on Kaggle."));
    QPushButton *remove = box->addButton(tr("Remove"), QMessageBox::DestructiveRole);
    box->setDefaultButton(QMessageBox::Cancel);
    box->setAttribute(Qt::WA_DeleteOnClose);
    connect(box, &QMessageBox::buttonClicked, this, [this, runs, remove](QAbstractButton *b) {
        if (b != remove)
            return;
        for (RunId id : runs)
            if (auto r = m_deck->monitor()->remove(id); !r)
                noteError(tr("Not removed: %1").arg(r.error().message));
        showMessage(runs.size() == 1 ? tr("Stopped watching the run")
                                     : tr("Stopped watching %1 runs").arg(runs.size()));
    });
    box->open();
}

bool MainWindow::typing() const
{
    QWidget *focus = QApplication::focusWidget();
    if (!focus)
        return false;
    if (qobject_cast<QLineEdit *>(focus) || qobject_cast<QAbstractSpinBox *>(focus))
        return true;
    if (const auto *combo = qobject_cast<QComboBox *>(focus))
        return combo->isEditable();
    if (const auto *edit = qobject_cast<QPlainTextEdit *>(focus))
        return !edit->isReadOnly();
    if (const auto *edit = qobject_cast<QTextEdit *>(focus))
        return !edit->isReadOnly();
    return false;
}

void MainWindow::moveSelection(int delta)
{
    if (typing())
        return;
    QTableView *table = m_ui->runTable;
    const int rows = table->model()->rowCount();
    if (rows == 0)
        return;
    const QModelIndex current = table->currentIndex();
    const int row = current.isValid() ? std::clamp(current.row() + delta, 0, rows - 1)
                                      : (delta > 0 ? 0 : rows - 1);
    const QModelIndex target = table->model()->index(row, current.isValid() ? current.column() : 0);
    table->selectionModel()->setCurrentIndex(target, QItemSelectionModel::ClearAndSelect |
                                                         QItemSelectionModel::Rows);
    table->scrollTo(target);
}

void MainWindow::showLogTab()
{
    m_ui->detailTabs->setCurrentWidget(m_logView);
}

void MainWindow::focusLogSearch()
{
    if (typing())
        return;
    showLogTab();
    m_logView->focusSearch();
}

void MainWindow::toggleFollow()
{
    if (typing())
        return;
    const bool follow = !m_logView->isFollowing();
    m_logView->setFollow(follow);
    showMessage(follow ? tr("Following the log") : tr("Stopped following the log"), 3000);
}

} // namespace kd
