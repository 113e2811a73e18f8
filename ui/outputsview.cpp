#include "outputsview.h"

#include "apierrortext.h"
#include "deck.h"
#include "kaggleclient.h"
#include "runmonitor.h"
#include "theme.h"

#include <QApplication>
#include <QClipboard>
#include <QDesktopServices>
#include <QHash>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSet>
#include <QSortFilterProxyModel>
#include <QStackedWidget>
#include <QStandardItemModel>
#include <QToolButton>
#include <QTreeView>
#include <QVBoxLayout>

namespace kd {

namespace {

enum Column { NameColumn, FolderColumn, SizeColumn, ColumnCount };
constexpr int UrlRole = Qt::UserRole + 1;
/// The path as Kaggle gave it, for sorting and copying.
constexpr int PathRole = Qt::UserRole + 2;

} // namespace

struct OutputsView::Private
{
    struct Listing
    {
        enum class State { Loading, Loaded, Failed };
        State state = State::Loading;
        QList<OutputFile> files;
        QString error;
    };

    OutputsView *q;
    Deck *deck;
    RunId run = 0;
    SessionId shown = 0; ///< the session whose files the table holds
    QHash<SessionId, Listing> cache;

    QWidget *toolbar = nullptr;
    QLineEdit *filter = nullptr;
    QLabel *summary = nullptr;
    QToolButton *copyLink = nullptr;
    QToolButton *refresh = nullptr;
    QStackedWidget *stack = nullptr;
    QTreeView *table = nullptr;
    QWidget *messagePage = nullptr;
    QLabel *placeholder = nullptr;
    QPushButton *retry = nullptr;
    QStandardItemModel *model = nullptr;
    QSortFilterProxyModel *proxy = nullptr;

    Private(OutputsView *view, Deck *d) : q(view), deck(d) {}
    static QString tr(const char *text, const char *disambiguation = nullptr, int n = -1)
    {
        return OutputsView::tr(text, disambiguation, n);
    }

    void build();
    void update();
    void fetch(SessionId session);
    void fill(SessionId session, const QList<OutputFile> &files);
    void showMessage(const QString &text, bool problem, bool canRetry);
    void updateSummary();
    QList<QModelIndex> selectedRows() const;
    void copySelectedLinks();
};

void OutputsView::Private::build()
{
    auto *layout = new QVBoxLayout(q);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);

    toolbar = new QWidget(q);
    auto *bar = new QHBoxLayout(toolbar);
    bar->setContentsMargins(4, 2, 4, 2);
    filter = new QLineEdit(toolbar);
    filter->setObjectName(QStringLiteral("outputsFilterEdit"));
    filter->setPlaceholderText(tr("Filter files"));
    filter->setClearButtonEnabled(true);
    filter->setMaximumWidth(260);
    summary = new QLabel(toolbar);
    summary->setObjectName(QStringLiteral("outputsSummary"));
    summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    copyLink = new QToolButton(toolbar);
    copyLink->setObjectName(QStringLiteral("outputsCopyLinkButton"));
    copyLink->setText(tr("Copy link"));
    copyLink->setToolTip(tr("Copy the download links of the selected files. The links are "
                            "signed: anyone who has one can download the file until it "
                            "expires."));
    copyLink->setAutoRaise(true);
    refresh = new QToolButton(toolbar);
    refresh->setObjectName(QStringLiteral("outputsRefreshButton"));
    refresh->setText(tr("Refresh"));
    refresh->setToolTip(tr("List the files again (fresh links)"));
    refresh->setAutoRaise(true);
    bar->addWidget(filter, 1);
    bar->addWidget(summary, 2);
    bar->addWidget(copyLink);
    bar->addWidget(refresh);
    layout->addWidget(toolbar);

    model = new QStandardItemModel(0, ColumnCount, q);
    model->setHorizontalHeaderLabels({tr("Name"), tr("Folder"), tr("Size")});
    model->horizontalHeaderItem(SizeColumn)
        ->setToolTip(tr("Kaggle's list of outputs carries no sizes; a size shows once known"));
    proxy = new QSortFilterProxyModel(q);
    proxy->setSourceModel(model);
    proxy->setFilterKeyColumn(-1);
    proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    proxy->setSortRole(PathRole);

    stack = new QStackedWidget(q);
    table = new QTreeView(stack);
    table->setObjectName(QStringLiteral("outputsTable"));
    table->setModel(proxy);
    table->setRootIsDecorated(false);
    table->setUniformRowHeights(true);
    table->setSortingEnabled(true);
    table->sortByColumn(FolderColumn, Qt::AscendingOrder);
    table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    table->setSelectionBehavior(QAbstractItemView::SelectRows);
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table->setAlternatingRowColors(true);
    table->setToolTip(tr("Double-click a file to download it with your browser"));
    table->header()->setStretchLastSection(false);
    table->header()->setSectionResizeMode(NameColumn, QHeaderView::Stretch);
    table->header()->setSectionResizeMode(FolderColumn, QHeaderView::ResizeToContents);
    table->header()->setSectionResizeMode(SizeColumn, QHeaderView::ResizeToContents);
    stack->addWidget(table);

    messagePage = new QWidget(stack);
    auto *message = new QVBoxLayout(messagePage);
    message->addStretch(1);
    placeholder = new QLabel(messagePage);
    placeholder->setObjectName(QStringLiteral("outputsPlaceholder"));
    placeholder->setAlignment(Qt::AlignCenter);
    placeholder->setWordWrap(true);
    placeholder->setTextInteractionFlags(Qt::TextSelectableByMouse);
    message->addWidget(placeholder);
    retry = new QPushButton(tr("Retry"), messagePage);
    retry->setObjectName(QStringLiteral("outputsRetryButton"));
    message->addWidget(retry, 0, Qt::AlignHCenter);
    message->addStretch(2);
    stack->addWidget(messagePage);
    layout->addWidget(stack, 1);

    QObject::connect(filter, &QLineEdit::textChanged, q, [this](const QString &text) {
        proxy->setFilterFixedString(text);
        updateSummary();
    });
    QObject::connect(copyLink, &QToolButton::clicked, q, [this] { copySelectedLinks(); });
    auto reload = [this] {
        const RunState *state = deck->monitor()->state(run);
        if (state && state->session && state->session->isOver()) {
            fetch(state->session->id);
            update();
        }
    };
    QObject::connect(refresh, &QToolButton::clicked, q, reload);
    QObject::connect(retry, &QPushButton::clicked, q, reload);
    QObject::connect(table->selectionModel(), &QItemSelectionModel::selectionChanged, q,
                     [this] { copyLink->setEnabled(!selectedRows().isEmpty()); });
    QObject::connect(table, &QTreeView::doubleClicked, q, [this](const QModelIndex &index) {
        const QUrl url = index.siblingAtColumn(NameColumn).data(UrlRole).toUrl();
        if (url.isValid())
            QDesktopServices::openUrl(url);
    });
}

void OutputsView::Private::fetch(SessionId session)
{
    const RunState *state = deck->monitor()->state(run);
    if (!state)
        return;
    const RunId forRun = run;
    cache[session] = Listing{};
    deck->client()->listKernelSessionOutput(
        state->run.ref, q, [this, forRun, session](Result<KernelOutput> result) {
            auto it = cache.find(session);
            if (it == cache.end())
                return;
            if (result.ok()) {
                it->state = Listing::State::Loaded;
                it->files = result->files;
            } else {
                it->state = Listing::State::Failed;
                const RunState *s = deck->monitor()->state(forRun);
                it->error = apiErrorText(result.error(), s ? s->run.ref.toString() : QString());
            }
            if (forRun == run) {
                shown = 0; // refill the table with the new listing
                update();
            }
        });
}

void OutputsView::Private::fill(SessionId session, const QList<OutputFile> &files)
{
    if (shown == session)
        return;
    shown = session;
    model->removeRows(0, model->rowCount());
    for (const OutputFile &file : files) {
        const qsizetype slash = file.fileName.lastIndexOf(QLatin1Char('/'));
        auto *name = new QStandardItem(slash < 0 ? file.fileName : file.fileName.mid(slash + 1));
        name->setData(file.url, UrlRole);
        name->setData(file.fileName, PathRole);
        name->setToolTip(file.fileName);
        auto *folder = new QStandardItem(slash < 0 ? QString() : file.fileName.left(slash + 1));
        folder->setData(file.fileName, PathRole);
        auto *size = new QStandardItem(QStringLiteral("—"));
        size->setData(QString(), PathRole);
        size->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        size->setToolTip(tr("Kaggle's list of outputs carries no sizes"));
        model->appendRow({name, folder, size});
    }
    table->resizeColumnToContents(FolderColumn);
}

void OutputsView::Private::showMessage(const QString &text, bool problem, bool canRetry)
{
    placeholder->setText(text);
    QPalette p = q->palette();
    p.setColor(QPalette::WindowText,
               problem ? theme::dangerColor(p) : p.color(QPalette::PlaceholderText));
    placeholder->setPalette(p);
    retry->setVisible(canRetry);
    stack->setCurrentWidget(messagePage);
}

void OutputsView::Private::update()
{
    const RunState *state = run ? deck->monitor()->state(run) : nullptr;
    // Filter, links and refresh mean something only next to a listing.
    toolbar->setVisible(false);
    if (!state) {
        summary->clear();
        showMessage(tr("Select a run to see its output files."), false, false);
        return;
    }
    if (!state->session) {
        summary->clear();
        showMessage(
            tr("%1 has no run yet, so there are no output files.").arg(state->run.ref.toString()),
            false, false);
        return;
    }
    const SessionRecord &session = *state->session;
    if (!session.isOver()) {
        summary->clear();
        showMessage(tr("Outputs appear when the run finishes.\nKaggle lists the files in "
                       "/kaggle/working only for finished runs."),
                    false, false);
        return;
    }
    if (!cache.contains(session.id))
        fetch(session.id);
    const Listing &listing = cache[session.id];
    switch (listing.state) {
    case Listing::State::Loading:
        summary->clear();
        showMessage(tr("Listing the output files…"), false, false);
        return;
    case Listing::State::Failed:
        summary->clear();
        showMessage(tr("Could not list the output files.\n%1").arg(listing.error), true, true);
        return;
    case Listing::State::Loaded:
        break;
    }
    fill(session.id, listing.files);
    toolbar->setVisible(true);
    updateSummary();
    if (listing.files.isEmpty()) {
        showMessage(tr("This run wrote no files to /kaggle/working."), false, false);
        return;
    }
    stack->setCurrentWidget(table);
}

void OutputsView::Private::updateSummary()
{
    const int total = model->rowCount();
    if (total == 0) {
        summary->clear();
        copyLink->setEnabled(false);
        return;
    }
    QSet<QString> folders;
    for (int row = 0; row < total; ++row)
        folders.insert(model->item(row, FolderColumn)->text());
    // Spelled out rather than "%n file(s)": no English translation file supplies plurals.
    QString text = total == 1 ? tr("1 file") : tr("%1 files").arg(total);
    if (folders.size() > 1)
        text = tr("%1 in %2 folders").arg(text).arg(folders.size());
    const int shownRows = proxy->rowCount();
    if (shownRows != total)
        text = tr("%1 shown of %2").arg(shownRows).arg(text);
    summary->setText(text + tr(" · Kaggle does not list sizes"));
    copyLink->setEnabled(!selectedRows().isEmpty());
}

QList<QModelIndex> OutputsView::Private::selectedRows() const
{
    return table->selectionModel()->selectedRows(NameColumn);
}

void OutputsView::Private::copySelectedLinks()
{
    QStringList links;
    for (const QModelIndex &index : selectedRows())
        links.append(index.data(UrlRole).toUrl().toString(QUrl::FullyEncoded));
    if (links.isEmpty())
        return;
    QApplication::clipboard()->setText(links.join(QLatin1Char('\n')));
    summary->setText(
        links.size() == 1
            ? tr("Copied the link; it is signed and expires after a while")
            : tr("Copied %1 links; they are signed and expire after a while").arg(links.size()));
}

OutputsView::OutputsView(Deck *deck, QWidget *parent)
    : QWidget(parent), d(std::make_unique<Private>(this, deck))
{
    d->build();
    RunMonitor *monitor = deck->monitor();
    connect(monitor, &RunMonitor::runChanged, this, [this](RunId run) {
        if (run == d->run)
            d->update();
    });
    connect(monitor, &RunMonitor::runRemoved, this, [this](RunId run) {
        if (run == d->run)
            setRun(0);
    });
    d->update();
}

OutputsView::~OutputsView() = default;

void OutputsView::setRun(RunId run)
{
    run = d->deck->monitor()->state(run) ? run : 0;
    if (run == d->run)
        return;
    d->run = run;
    d->shown = 0;
    d->filter->clear();
    d->update();
}

} // namespace kd
