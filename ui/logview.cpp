#include "logview.h"

#include "deck.h"
#include "logarchive.h"
#include "logdelegate.h"
#include "logfilterproxy.h"
#include "logtailmodel.h"
#include "runmonitor.h"
#include "terminallog.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QDesktopServices>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QPointer>
#include <QSaveFile>
#include <QScrollBar>
#include <QShortcut>
#include <QStackedWidget>
#include <QStandardPaths>
#include <QThread>
#include <QTimer>
#include <QToolBar>
#include <QToolButton>
#include <QUrl>
#include <QVBoxLayout>

#include <algorithm>
#include <functional>
#include <memory>

namespace kd {

namespace {

/// Throttle for the work that depends on the whole tail (match count, first error, notes):
/// a fast log inserts many batches a second, these need not follow every one.
constexpr int kRefreshMs = 200;

/// The list of lines; reports the user's own scrolling and copies whole lines on Ctrl+C.
class LogListView final : public QListView
{
public:
    using QListView::QListView;

    std::function<void()> onCopy;
    /// The user moved the view with the keyboard (the scroll bar reports mouse and wheel).
    std::function<void()> onUserScrolled;

protected:
    void focusInEvent(QFocusEvent *event) override
    {
        // Qt makes the first row current on keyboard focus and scrolls up to it; a log is read
        // where it is shown, so keyboard navigation starts at the lowest line in view instead.
        if (event->reason() != Qt::MouseFocusReason && !currentIndex().isValid()) {
            const QModelIndex shown = indexAt(QPoint(1, viewport()->height() - 2));
            if (shown.isValid())
                selectionModel()->setCurrentIndex(shown, QItemSelectionModel::NoUpdate);
        }
        QListView::focusInEvent(event);
    }
    void keyPressEvent(QKeyEvent *event) override
    {
        if (event->matches(QKeySequence::Copy)) {
            if (onCopy)
                onCopy();
            event->accept();
            return;
        }
        QListView::keyPressEvent(event);
        switch (event->key()) {
        case Qt::Key_Up:
        case Qt::Key_Down:
        case Qt::Key_PageUp:
        case Qt::Key_PageDown:
        case Qt::Key_Home:
        case Qt::Key_End:
            if (onUserScrolled)
                onUserScrolled();
            break;
        default:
            break;
        }
    }
};

/// The archive (Kaggle's JSON log array) as the plain text a terminal would have shown.
QString exportPlainText(const QString &archivePath, const QString &textPath)
{
    const auto events = LogArchive::readEvents(archivePath);
    if (!events.ok())
        return events.error().message;
    QDir().mkpath(QFileInfo(textPath).absolutePath());
    QSaveFile file(textPath);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Text))
        return file.errorString();
    TerminalLog terminal;
    QList<LogLine> lines;
    auto write = [&file, &lines] {
        QByteArray chunk;
        for (const LogLine &line : std::as_const(lines)) {
            chunk += line.text.toUtf8();
            chunk += '\n';
        }
        lines.clear();
        file.write(chunk);
    };
    for (const LogEvent &event : *events) {
        terminal.feed(event, lines);
        if (lines.size() > 1000)
            write();
    }
    terminal.flush(lines);
    write();
    if (!file.commit())
        return file.errorString();
    return {};
}

QToolButton *toolButton(const QString &objectName, const QString &text, const QString &tip,
                        bool checkable, QWidget *parent)
{
    auto *button = new QToolButton(parent);
    button->setObjectName(objectName);
    button->setText(text);
    button->setToolTip(tip);
    button->setCheckable(checkable);
    button->setAutoRaise(true);
    button->setToolButtonStyle(Qt::ToolButtonTextOnly);
    return button;
}

} // namespace

struct LogView::Private
{
    LogView *q;
    Deck *deck;
    RunId run = 0;
    SessionId session = 0;
    QPointer<LogTailModel> tail;

    LogFilterProxy *proxy = nullptr;
    LogListView *list = nullptr;
    LogDelegate *delegate = nullptr;
    QWidget *toolbar = nullptr;
    QToolButton *follow = nullptr;
    QLineEdit *search = nullptr;
    QToolButton *previous = nullptr;
    QToolButton *next = nullptr;
    QLabel *status = nullptr;
    QToolButton *showStdout = nullptr;
    QToolButton *showStderr = nullptr;
    QToolButton *wrap = nullptr;
    QToolButton *copy = nullptr;
    QToolButton *openFull = nullptr;
    QToolButton *firstError = nullptr;
    QWidget *droppedBar = nullptr;
    QLabel *droppedLabel = nullptr;
    QStackedWidget *stack = nullptr;
    QLabel *placeholder = nullptr;

    QTimer followTimer;
    QTimer refreshTimer;
    QPointer<QThread> exporter;
    bool following = true;
    /// The search counter shows "k of N" only right after a jump; typing shows "N matches".
    bool showPosition = false;

    explicit Private(LogView *view, Deck *d) : q(view), deck(d) {}
    static QString tr(const char *text, const char *disambiguation = nullptr, int n = -1)
    {
        return LogView::tr(text, disambiguation, n);
    }

    void build();
    void attach(LogTailModel *model);
    void refresh();
    void scheduleRefresh()
    {
        if (!refreshTimer.isActive())
            refreshTimer.start();
    }
    void updatePlaceholder();
    void updateSearchStatus();
    void userScrolled();
    void scrollToBottom();
    void setFollowing(bool on);
    int currentSourceRow() const;
    int findAccepted(const QString &needle, int from, bool forward) const;
    void find(bool forward);
    void select(int sourceRow, QAbstractItemView::ScrollHint hint);
    void copyLines();
    void openFullLog();
    void setStatus(const QString &text, bool problem = false);
};

void LogView::Private::build()
{
    auto *layout = new QVBoxLayout(q);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);

    // A tool bar moves what does not fit into its overflow menu, so a narrow tab still works.
    auto *bar = new QToolBar(q);
    toolbar = bar;
    bar->setObjectName(QStringLiteral("logToolbar"));
    bar->setToolButtonStyle(Qt::ToolButtonTextOnly);
    bar->setMovable(false);
    bar->setFloatable(false);

    follow = toolButton(QStringLiteral("logFollowButton"), tr("Follow"),
                        tr("Keep the newest line in view (F). Scrolling up turns this off."), true,
                        toolbar);
    follow->setChecked(true);
    bar->addWidget(follow);
    bar->addSeparator();

    search = new QLineEdit(toolbar);
    search->setObjectName(QStringLiteral("logSearchEdit"));
    search->setPlaceholderText(tr("Search the log (/)"));
    search->setToolTip(tr("Enter: next match, Shift+Enter: previous match, Esc: clear"));
    search->setClearButtonEnabled(true);
    search->setMinimumWidth(200);
    search->installEventFilter(q);
    bar->addWidget(search);
    previous = toolButton(QStringLiteral("logSearchPreviousButton"), tr("▲"),
                          tr("Previous match (Shift+Enter)"), false, toolbar);
    next = toolButton(QStringLiteral("logSearchNextButton"), tr("▼"), tr("Next match (Enter)"),
                      false, toolbar);
    bar->addWidget(previous);
    bar->addWidget(next);
    status = new QLabel(toolbar);
    status->setObjectName(QStringLiteral("logSearchStatus"));
    status->setMinimumWidth(status->fontMetrics().horizontalAdvance(tr("9999 of 9999")));
    bar->addWidget(status);
    auto *spacer = new QWidget(toolbar);
    spacer->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    bar->addWidget(spacer);

    showStdout = toolButton(QStringLiteral("logStdoutButton"), tr("stdout"),
                            tr("Show the lines the run printed to standard output"), true, toolbar);
    showStdout->setChecked(true);
    showStderr = toolButton(QStringLiteral("logStderrButton"), tr("stderr"),
                            tr("Show the lines the run printed to standard error (warnings, "
                               "progress bars, tracebacks); they carry a red marker"),
                            true, toolbar);
    showStderr->setChecked(true);
    wrap = toolButton(QStringLiteral("logWrapButton"), tr("Wrap"), tr("Wrap long lines"), true,
                      toolbar);
    copy = toolButton(QStringLiteral("logCopyButton"), tr("Copy"),
                      tr("Copy the selected lines, or every shown line when none is selected"),
                      false, toolbar);
    openFull = toolButton(QStringLiteral("logOpenFullButton"), tr("Open full log"),
                          tr("Open the whole log of this session, kept on disk, in a text editor"),
                          false, toolbar);
    firstError = toolButton(QStringLiteral("logFirstErrorButton"), tr("First error"),
                            tr("Jump to the first line that looks like a failure"), false, toolbar);
    bar->addWidget(showStdout);
    bar->addWidget(showStderr);
    bar->addSeparator();
    for (QToolButton *b : {wrap, copy, openFull, firstError})
        bar->addWidget(b);
    layout->addWidget(toolbar);

    droppedBar = new QWidget(q);
    droppedBar->setObjectName(QStringLiteral("logDroppedBar"));
    auto *dropped = new QHBoxLayout(droppedBar);
    dropped->setContentsMargins(8, 0, 4, 0);
    droppedLabel = new QLabel(droppedBar);
    droppedLabel->setObjectName(QStringLiteral("logDroppedLabel"));
    auto *droppedOpen =
        toolButton(QStringLiteral("logDroppedOpenButton"), tr("Open full log"),
                   tr("Open the whole log of this session in a text editor"), false, droppedBar);
    dropped->addWidget(droppedLabel);
    dropped->addWidget(droppedOpen);
    dropped->addStretch(1);
    droppedBar->hide();
    layout->addWidget(droppedBar);

    stack = new QStackedWidget(q);
    proxy = new LogFilterProxy(q);
    list = new LogListView(stack);
    list->setObjectName(QStringLiteral("logListView"));
    list->setModel(proxy);
    delegate = new LogDelegate(list);
    list->setItemDelegate(delegate);
    list->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    list->setUniformItemSizes(true);
    list->setSelectionMode(QAbstractItemView::ExtendedSelection);
    list->setEditTriggers(QAbstractItemView::NoEditTriggers);
    list->setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);
    list->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    list->setContextMenuPolicy(Qt::ActionsContextMenu);
    auto *copyAction = new QAction(tr("Copy"), list);
    copyAction->setShortcut(QKeySequence::Copy);
    copyAction->setShortcutContext(Qt::WidgetShortcut);
    auto *selectAll = new QAction(tr("Select all"), list);
    selectAll->setShortcut(QKeySequence::SelectAll);
    selectAll->setShortcutContext(Qt::WidgetShortcut);
    list->addAction(copyAction);
    list->addAction(selectAll);
    QObject::connect(copyAction, &QAction::triggered, q, [this] { copyLines(); });
    QObject::connect(selectAll, &QAction::triggered, list, &QListView::selectAll);
    list->onCopy = [this] { copyLines(); };
    list->onUserScrolled = [this] { userScrolled(); };
    stack->addWidget(list);

    placeholder = new QLabel(stack);
    placeholder->setObjectName(QStringLiteral("logPlaceholder"));
    placeholder->setAlignment(Qt::AlignCenter);
    placeholder->setWordWrap(true);
    placeholder->setMargin(24);
    placeholder->setForegroundRole(QPalette::PlaceholderText);
    stack->addWidget(placeholder);
    layout->addWidget(stack, 1);

    followTimer.setSingleShot(true);
    followTimer.setInterval(0);
    refreshTimer.setSingleShot(true);
    refreshTimer.setInterval(kRefreshMs);
    QObject::connect(&followTimer, &QTimer::timeout, q, [this] { scrollToBottom(); });
    QObject::connect(&refreshTimer, &QTimer::timeout, q, [this] { refresh(); });

    QObject::connect(follow, &QToolButton::toggled, q, [this](bool on) { setFollowing(on); });
    QObject::connect(search, &QLineEdit::textChanged, q, [this](const QString &text) {
        delegate->setSearchText(text);
        showPosition = false;
        updateSearchStatus();
        list->viewport()->update();
    });
    QObject::connect(previous, &QToolButton::clicked, q, [this] { find(false); });
    QObject::connect(next, &QToolButton::clicked, q, [this] { find(true); });
    auto streams = [this] {
        proxy->setStreams(showStdout->isChecked(), showStderr->isChecked());
        updateSearchStatus();
        updatePlaceholder();
        if (following)
            followTimer.start();
    };
    QObject::connect(showStdout, &QToolButton::toggled, q, streams);
    QObject::connect(showStderr, &QToolButton::toggled, q, streams);
    QObject::connect(wrap, &QToolButton::toggled, q, [this](bool on) {
        delegate->setWrap(on);
        // Wrapped lines differ in height: the view must ask each row and relayout on resize.
        list->setUniformItemSizes(!on);
        list->setResizeMode(on ? QListView::Adjust : QListView::Fixed);
        list->doItemsLayout();
        if (following)
            followTimer.start();
        else if (list->currentIndex().isValid())
            list->scrollTo(list->currentIndex());
    });
    QObject::connect(copy, &QToolButton::clicked, q, [this] { copyLines(); });
    QObject::connect(openFull, &QToolButton::clicked, q, [this] { openFullLog(); });
    QObject::connect(droppedOpen, &QToolButton::clicked, q, [this] { openFullLog(); });
    QObject::connect(firstError, &QToolButton::clicked, q, [this] { q->jumpToFirstError(); });

    auto *findNext =
        new QShortcut(QKeySequence::FindNext, q, nullptr, nullptr, Qt::WidgetWithChildrenShortcut);
    auto *findPrevious = new QShortcut(QKeySequence::FindPrevious, q, nullptr, nullptr,
                                       Qt::WidgetWithChildrenShortcut);
    QObject::connect(findNext, &QShortcut::activated, q, [this] { find(true); });
    QObject::connect(findPrevious, &QShortcut::activated, q, [this] { find(false); });

    // The scroll bar reports what the user does with the mouse and the wheel; the view's own
    // scrolling (new rows, jumps) never triggers an action.
    QScrollBar *vbar = list->verticalScrollBar();
    QObject::connect(vbar, &QScrollBar::actionTriggered, q, [this](int) { userScrolled(); });
    QObject::connect(vbar, &QScrollBar::rangeChanged, q, [this] {
        if (following)
            followTimer.start();
    });

    QObject::connect(proxy, &QAbstractItemModel::rowsInserted, q, [this] {
        if (following)
            followTimer.start();
        // The first lines replace the placeholder at once; the rest may wait for the throttle.
        if (stack->currentWidget() != list)
            updatePlaceholder();
        scheduleRefresh();
    });
    QObject::connect(proxy, &QAbstractItemModel::rowsRemoved, q, [this] { scheduleRefresh(); });
    QObject::connect(proxy, &QAbstractItemModel::modelReset, q, [this] {
        scheduleRefresh();
        if (following)
            followTimer.start();
    });
}

void LogView::Private::attach(LogTailModel *model)
{
    const RunState *state = run ? deck->monitor()->state(run) : nullptr;
    session = state && state->session ? state->session->id : 0;
    if (model == tail && proxy->sourceModel() == model) {
        refresh();
        return;
    }
    tail = model;
    proxy->setSourceModel(model);
    showPosition = false;
    setFollowing(true);
    refresh();
}

void LogView::Private::refresh()
{
    refreshTimer.stop();
    if (tail) {
        const qint64 total = tail->totalLineCount();
        const int digits = std::max(4, int(QString::number(total).size()));
        if (digits != delegate->gutterDigits()) {
            delegate->setGutterDigits(digits);
            list->doItemsLayout();
        }
        const qint64 dropped = tail->droppedLineCount();
        if (dropped > 0)
            droppedLabel->setText(tr("Lines 1–%L1 are only in the full log.").arg(dropped));
        droppedBar->setVisible(dropped > 0);
        const bool hasError = tail->firstErrorRow() >= 0;
        firstError->setEnabled(hasError);
        firstError->setToolTip(hasError ? tr("Jump to the first line that looks like a failure")
                                        : tr("No line of the log looks like a failure (Traceback, "
                                             "…Error, out of memory)"));
    } else {
        droppedBar->hide();
        firstError->setEnabled(false);
    }
    openFull->setEnabled(session != 0);
    updatePlaceholder();
    updateSearchStatus();
}

void LogView::Private::updatePlaceholder()
{
    const RunState *state = run ? deck->monitor()->state(run) : nullptr;
    QString text;
    if (!state) {
        text = tr("Select a run to see its log.");
    } else if (!state->session) {
        text = tr("%1 has not run since KaggleDeck started watching it.\nIts log appears here "
                  "once Kaggle reports a run.")
                   .arg(state->run.ref.toString());
    } else if (!tail || tail->rowCount() == 0) {
        switch (state->session->status) {
        case KernelStatus::Queued:
            text = tr("Queued on Kaggle.\nThe log starts when the run does.");
            break;
        case KernelStatus::Running:
        case KernelStatus::NewScript:
            text = tr("Waiting for the first log lines…");
            break;
        default:
            text = tr("No log lines for this session yet.\nKaggle keeps the log of a finished "
                      "run; KaggleDeck fetches it after the run ends.");
            break;
        }
    } else if (proxy->rowCount() == 0) {
        text = tr("Every line is hidden: turn stdout or stderr back on.");
    }
    // Nothing to follow, search or open before the run has a session.
    toolbar->setVisible(state && state->session);
    placeholder->setText(text);
    stack->setCurrentWidget(text.isEmpty() ? static_cast<QWidget *>(list) : placeholder);
}

void LogView::Private::updateSearchStatus()
{
    const QString needle = search->text();
    if (needle.isEmpty() || !tail) {
        setStatus({});
        return;
    }
    // One pass over the kept lines: 20,000 short lines take well under a millisecond.
    const int current = currentSourceRow();
    int total = 0;
    int position = 0;
    const int rows = tail->rowCount();
    for (int row = 0; row < rows; ++row) {
        if (!proxy->acceptsSourceRow(row) ||
            !tail->textAt(row).contains(needle, Qt::CaseInsensitive))
            continue;
        ++total;
        if (row <= current)
            position = total;
    }
    if (total == 0)
        setStatus(tr("No match"), true);
    else if (showPosition && position > 0)
        setStatus(tr("%1 of %2").arg(position).arg(total));
    else
        setStatus(total == 1 ? tr("1 match") : tr("%1 matches").arg(total));
}

void LogView::Private::setStatus(const QString &text, bool problem)
{
    status->setText(text);
    QPalette p = q->palette();
    if (problem)
        p.setColor(QPalette::WindowText, LogDelegate::errorColor(p));
    status->setPalette(p);
}

void LogView::Private::userScrolled()
{
    QScrollBar *vbar = list->verticalScrollBar();
    const bool atBottom = vbar->sliderPosition() >= vbar->maximum();
    if (atBottom != following)
        setFollowing(atBottom);
}

void LogView::Private::scrollToBottom()
{
    if (following)
        list->scrollToBottom();
}

void LogView::Private::setFollowing(bool on)
{
    following = on;
    if (follow->isChecked() != on) {
        const QSignalBlocker block(follow);
        follow->setChecked(on);
    }
    if (on)
        followTimer.start();
}

int LogView::Private::currentSourceRow() const
{
    const QModelIndex current = list->currentIndex();
    return current.isValid() ? proxy->mapToSource(current).row() : -1;
}

int LogView::Private::findAccepted(const QString &needle, int from, bool forward) const
{
    for (int row = tail->find(needle, from, forward); row >= 0;
         row = tail->find(needle, forward ? row + 1 : row - 1, forward)) {
        if (proxy->acceptsSourceRow(row))
            return row;
        if (!forward && row == 0)
            break;
    }
    return -1;
}

void LogView::Private::find(bool forward)
{
    const QString needle = search->text();
    if (needle.isEmpty()) {
        search->setFocus();
        return;
    }
    if (!tail || tail->rowCount() == 0) {
        setStatus(tr("No match"), true);
        return;
    }
    const int rows = tail->rowCount();
    const int current = currentSourceRow();
    const int from = current < 0 ? (forward ? 0 : rows - 1) : current + (forward ? 1 : -1);
    int row = from >= 0 && from < rows ? findAccepted(needle, from, forward) : -1;
    if (row < 0) // wrap around, as editors do
        row = findAccepted(needle, forward ? 0 : rows - 1, forward);
    if (row < 0) {
        setStatus(tr("No match"), true);
        return;
    }
    select(row, QAbstractItemView::PositionAtCenter);
    showPosition = true;
    updateSearchStatus();
}

void LogView::Private::select(int sourceRow, QAbstractItemView::ScrollHint hint)
{
    const QModelIndex index = proxy->mapFromSource(tail->index(sourceRow));
    if (!index.isValid())
        return;
    // Reading an earlier line: new lines must not pull the view away from it.
    setFollowing(false);
    list->setCurrentIndex(index);
    list->scrollTo(index, hint);
    list->viewport()->update();
}

void LogView::Private::copyLines()
{
    if (!tail)
        return;
    QModelIndexList rows = list->selectionModel()->selectedIndexes();
    QStringList lines;
    if (rows.isEmpty()) {
        const int count = proxy->rowCount();
        lines.reserve(count);
        for (int row = 0; row < count; ++row)
            lines.append(tail->textAt(proxy->mapToSource(proxy->index(row, 0)).row()));
    } else {
        std::sort(rows.begin(), rows.end(),
                  [](const QModelIndex &a, const QModelIndex &b) { return a.row() < b.row(); });
        lines.reserve(rows.size());
        for (const QModelIndex &index : std::as_const(rows))
            lines.append(tail->textAt(proxy->mapToSource(index).row()));
    }
    if (lines.isEmpty())
        return;
    QApplication::clipboard()->setText(lines.join(QLatin1Char('\n')) + QLatin1Char('\n'));
    setStatus(lines.size() == 1 ? tr("Copied 1 line") : tr("Copied %1 lines").arg(lines.size()));
}

void LogView::Private::openFullLog()
{
    if (session == 0)
        return;
    const QString archive = deck->archivePath(session);
    if (!QFileInfo::exists(archive)) {
        setStatus(tr("The full log is not on disk"), true);
        status->setToolTip(tr("KaggleDeck keeps the full log of the runs it followed, in %1. "
                              "This session has no file there yet.")
                               .arg(QDir::toNativeSeparators(QFileInfo(archive).absolutePath())));
        return;
    }
    if (exporter)
        return; // already preparing it
    QString dir = QStandardPaths::writableLocation(QStandardPaths::CacheLocation);
    if (dir.isEmpty())
        dir = QDir::tempPath();
    const RunState *state = deck->monitor()->state(run);
    const QString name = state ? state->run.ref.owner + QLatin1Char('-') + state->run.ref.slug
                               : QStringLiteral("run");
    const QString text =
        QDir(dir).filePath(QStringLiteral("full-logs/%1-session-%2.txt").arg(name).arg(session));
    setStatus(tr("Preparing the full log…"));
    status->setToolTip({});
    openFull->setEnabled(false);
    // Folding a 64 MB archive takes seconds: do it off the GUI thread.
    auto error = std::make_shared<QString>();
    QThread *thread =
        QThread::create([archive, text, error] { *error = exportPlainText(archive, text); });
    exporter = thread;
    QObject::connect(thread, &QThread::finished, thread, &QObject::deleteLater);
    QObject::connect(thread, &QThread::finished, q, [this, text, error] {
        openFull->setEnabled(session != 0);
        if (!error->isEmpty()) {
            setStatus(tr("Could not prepare the full log"), true);
            status->setToolTip(*error);
            return;
        }
        if (QDesktopServices::openUrl(QUrl::fromLocalFile(text))) {
            setStatus(tr("Opened the full log"));
            status->setToolTip(QDir::toNativeSeparators(text));
        } else {
            setStatus(tr("No application opens text files; the log is in %1")
                          .arg(QDir::toNativeSeparators(text)),
                      true);
        }
    });
    thread->start();
}

LogView::LogView(Deck *deck, QWidget *parent)
    : QWidget(parent), d(std::make_unique<Private>(this, deck))
{
    d->build();
    RunMonitor *monitor = deck->monitor();
    connect(deck, &Deck::logTailReset, this, [this](RunId run) {
        if (run == d->run)
            d->attach(d->deck->logTail(run));
    });
    connect(monitor, &RunMonitor::runChanged, this, [this](RunId run) {
        if (run != d->run)
            return;
        const RunState *state = d->deck->monitor()->state(run);
        const SessionId session = state && state->session ? state->session->id : 0;
        if (!d->tail || session != d->session)
            d->attach(d->deck->logTail(run));
        else
            d->scheduleRefresh();
    });
    connect(monitor, &RunMonitor::runRemoved, this, [this](RunId run) {
        if (run == d->run)
            setRun(0);
    });
    setRun(0);
}

LogView::~LogView()
{
    // The export thread only touches files; let it finish rather than destroy it running.
    if (d->exporter)
        d->exporter->wait();
}

void LogView::setRun(RunId run)
{
    d->run = d->deck->monitor()->state(run) ? run : 0;
    d->list->clearSelection();
    d->attach(d->run ? d->deck->logTail(d->run) : nullptr);
}

RunId LogView::run() const
{
    return d->run;
}

void LogView::focusSearch()
{
    d->search->setFocus(Qt::ShortcutFocusReason);
    d->search->selectAll();
}

void LogView::setFollow(bool follow)
{
    d->setFollowing(follow);
}

bool LogView::isFollowing() const
{
    return d->following;
}

void LogView::findNext()
{
    d->find(true);
}

void LogView::findPrevious()
{
    d->find(false);
}

void LogView::jumpToFirstError()
{
    if (!d->tail)
        return;
    const int row = d->tail->firstErrorRow();
    if (row < 0) {
        d->setStatus(tr("No error found"), true);
        return;
    }
    // Tracebacks go to stderr: a hidden stream must not hide the error the user asked for.
    if (!d->proxy->acceptsSourceRow(row))
        d->showStderr->setChecked(true);
    d->select(row, QAbstractItemView::PositionAtTop);
    d->updateSearchStatus();
}

bool LogView::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == d->search && event->type() == QEvent::KeyPress) {
        auto *key = static_cast<QKeyEvent *>(event);
        if (key->key() == Qt::Key_Return || key->key() == Qt::Key_Enter) {
            d->find(!(key->modifiers() & Qt::ShiftModifier));
            return true;
        }
        if (key->key() == Qt::Key_Escape && !d->search->text().isEmpty()) {
            d->search->clear();
            return true;
        }
    }
    return QWidget::eventFilter(watched, event);
}

} // namespace kd
