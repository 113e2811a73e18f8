#include "filtersidebar.h"

#include "deck.h"
#include "runpresentation.h"
#include "store.h"
#include "theme.h"

#include <QEvent>
#include <QHeaderView>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace kd {

namespace {
constexpr int kKindRole = Qt::UserRole;
constexpr int kValueRole = Qt::UserRole + 1;

constexpr RunCategory kShown[] = {
    RunCategory::All,   RunCategory::Queued,    RunCategory::Running, RunCategory::Complete,
    RunCategory::Error, RunCategory::Cancelled, RunCategory::Stale,   RunCategory::Unknown,
};
} // namespace

FilterSidebar::FilterSidebar(Deck *deck, QWidget *parent)
    : QWidget(parent), m_deck(deck), m_proxy(deck->runFilter()), m_tree(new QTreeWidget(this))
{
    setObjectName(QStringLiteral("filterSidebar"));
    m_tree->setObjectName(QStringLiteral("filterTree"));
    m_tree->setHeaderHidden(true);
    m_tree->setRootIsDecorated(false);
    m_tree->setIndentation(0);
    m_tree->setUniformRowHeights(true);
    m_tree->setFrameShape(QFrame::NoFrame);
    m_tree->setSelectionMode(QAbstractItemView::SingleSelection);
    m_tree->setFocusPolicy(Qt::ClickFocus);
    m_tree->setItemsExpandable(false);
    m_tree->setAccessibleName(tr("Filters"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_tree);

    m_statusGroup = addHeader(tr("Status"));
    for (RunCategory category : kShown) {
        auto *item = new QTreeWidgetItem(m_statusGroup);
        item->setSizeHint(0, QSize(0, rowHeight()));
        item->setData(0, kKindRole, CategoryKind);
        item->setData(0, kValueRole, int(category));
        item->setIcon(0, present::categoryIcon(category));
        m_categoryItems.insert(int(category), item);
    }
    m_tagGroup = addHeader(tr("Tags"));
    m_chainGroup = addHeader(tr("Chains"));
    m_tree->expandAll();
    styleHeaders();

    connect(m_proxy, &RunFilterProxy::countsChanged, this, &FilterSidebar::refresh);
    connect(m_tree, &QTreeWidget::currentItemChanged, this,
            [this](QTreeWidgetItem *current) { onCurrentChanged(current); });
    refresh();
    m_updating = true;
    m_tree->setCurrentItem(m_categoryItems.value(int(RunCategory::All)));
    m_updating = false;
}

int FilterSidebar::rowHeight() const
{
    return fontMetrics().height() + 8;
}

QSize FilterSidebar::sizeHint() const
{
    return {fontMetrics().horizontalAdvance(QStringLiteral("Cancelled (000)")) + 64, 300};
}

QTreeWidgetItem *FilterSidebar::addHeader(const QString &text)
{
    auto *item = new QTreeWidgetItem(m_tree);
    item->setText(0, text.toUpper());
    item->setData(0, kKindRole, HeaderKind);
    item->setFlags(Qt::ItemIsEnabled);
    item->setSizeHint(0, QSize(0, rowHeight() + 6));
    return item;
}

void FilterSidebar::styleHeaders()
{
    const QColor muted = theme::mutedColor(palette());
    for (QTreeWidgetItem *header : {m_statusGroup, m_tagGroup, m_chainGroup}) {
        QFont font = m_tree->font();
        font.setBold(true);
        font.setPointSizeF(font.pointSizeF() * 0.85);
        header->setFont(0, font);
        header->setForeground(0, muted);
        for (int i = 0; i < header->childCount(); ++i)
            if (header->child(i)->data(0, kKindRole).toInt() == PlaceholderKind)
                header->child(i)->setForeground(0, muted);
    }
}

void FilterSidebar::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange)
        styleHeaders();
}

QString FilterSidebar::label(RunCategory category) const
{
    return tr("%1 (%2)").arg(present::categoryName(category)).arg(m_proxy->count(category));
}

void FilterSidebar::refresh()
{
    m_updating = true;
    for (RunCategory category : kShown) {
        QTreeWidgetItem *item = m_categoryItems.value(int(category));
        item->setText(0, label(category));
        // Runs without any session are rare (a new watch before its first check, a draft
        // never run): their row appears only when there are some.
        if (category == RunCategory::Unknown)
            item->setHidden(m_proxy->count(category) == 0 && !item->isSelected());
    }

    QList<QPair<QVariant, QString>> tags;
    const QMap<QString, int> tagCounts = m_proxy->tagCounts();
    for (auto it = tagCounts.cbegin(); it != tagCounts.cend(); ++it)
        tags.append({it.key(), tr("%1 (%2)").arg(it.key()).arg(it.value())});
    bool lost = rebuildGroup(m_tagGroup, TagKind, tags, tr("Right-click a run to tag it"));

    QHash<ChainId, QString> names;
    for (const ChainRecord &chain : m_deck->store()->chains())
        names.insert(chain.id, chain.name);
    QList<QPair<QVariant, QString>> chains;
    const QMap<ChainId, int> chainCounts = m_proxy->chainCounts();
    for (auto it = chainCounts.cbegin(); it != chainCounts.cend(); ++it) {
        const QString name = names.value(it.key(), tr("Chain %1").arg(it.key()));
        chains.append({it.key(), tr("%1 (%2)").arg(name).arg(it.value())});
    }
    lost = rebuildGroup(m_chainGroup, ChainKind, chains, tr("No chains yet")) || lost;
    m_updating = false;

    // The selected tag or chain vanished with its last run: show everything.
    if (lost || !m_tree->currentItem())
        selectCategory(RunCategory::All);
}

bool FilterSidebar::rebuildGroup(QTreeWidgetItem *group, Kind kind,
                                 const QList<QPair<QVariant, QString>> &rows,
                                 const QString &placeholder)
{
    const QTreeWidgetItem *current = m_tree->currentItem();
    const bool currentInGroup = current && current->parent() == group;
    const QVariant selectedValue = currentInGroup ? current->data(0, kValueRole) : QVariant();
    bool same = group->childCount() == rows.size();
    for (int i = 0; same && i < rows.size(); ++i)
        same = group->child(i)->data(0, kValueRole) == rows.at(i).first;
    if (same && !rows.isEmpty()) {
        for (int i = 0; i < rows.size(); ++i)
            group->child(i)->setText(0, rows.at(i).second);
        return false;
    }
    qDeleteAll(group->takeChildren());
    if (rows.isEmpty()) {
        auto *item = new QTreeWidgetItem(group, {placeholder});
        item->setSizeHint(0, QSize(0, rowHeight()));
        item->setData(0, kKindRole, PlaceholderKind);
        item->setFlags(Qt::ItemIsEnabled);
        item->setForeground(0, theme::mutedColor(palette()));
        QFont font = m_tree->font();
        font.setItalic(true);
        item->setFont(0, font);
        return currentInGroup;
    }
    bool kept = false;
    for (const auto &[value, text] : rows) {
        auto *item = new QTreeWidgetItem(group, {text});
        item->setSizeHint(0, QSize(0, rowHeight()));
        item->setData(0, kKindRole, kind);
        item->setData(0, kValueRole, value);
        item->setIcon(0,
                      theme::icon(kind == TagKind ? QStringLiteral("tag") : QStringLiteral("chain"),
                                  palette()));
        if (currentInGroup && value == selectedValue) {
            m_tree->setCurrentItem(item);
            kept = true;
        }
    }
    return currentInGroup && !kept;
}

void FilterSidebar::selectCategory(RunCategory category)
{
    if (QTreeWidgetItem *item = m_categoryItems.value(int(category))) {
        item->setHidden(false);
        m_tree->setCurrentItem(item);
        onCurrentChanged(item);
    }
}

void FilterSidebar::onCurrentChanged(QTreeWidgetItem *item)
{
    if (m_updating || !item)
        return;
    const QVariant value = item->data(0, kValueRole);
    switch (item->data(0, kKindRole).toInt()) {
    case CategoryKind:
        m_proxy->setTag({});
        m_proxy->setChain(0);
        m_proxy->setCategory(RunCategory(value.toInt()));
        break;
    case TagKind:
        m_proxy->setCategory(RunCategory::All);
        m_proxy->setChain(0);
        m_proxy->setTag(value.toString());
        break;
    case ChainKind:
        m_proxy->setCategory(RunCategory::All);
        m_proxy->setTag({});
        m_proxy->setChain(value.toLongLong());
        break;
    default:
        break;
    }
}

} // namespace kd
