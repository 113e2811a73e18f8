#pragma once

#include "runtablemodel.h"

#include <QWidget>

class QTreeWidget;
class QTreeWidgetItem;

namespace kd {

class Deck;

/// The qBittorrent-style filter list: runs per state with live counts, then tags and chains;
/// clicking one filters the run table (RunFilterProxy).
class FilterSidebar final : public QWidget
{
    Q_OBJECT
public:
    explicit FilterSidebar(Deck *deck, QWidget *parent = nullptr);

    /// Selects a state filter (All clears every filter of the sidebar).
    void selectCategory(RunCategory category);
    /// The label of a state row, e.g. "Running (2)".
    QString label(RunCategory category) const;

    QSize sizeHint() const override;

protected:
    void changeEvent(QEvent *event) override;

private:
    enum Kind { HeaderKind, CategoryKind, TagKind, ChainKind, PlaceholderKind };

    void refresh();
    /// Returns true when the selected row of the group is gone.
    bool rebuildGroup(QTreeWidgetItem *group, Kind kind,
                      const QList<QPair<QVariant, QString>> &rows, const QString &placeholder);
    void onCurrentChanged(QTreeWidgetItem *item);
    QTreeWidgetItem *addHeader(const QString &text);
    void styleHeaders();
    int rowHeight() const;

    Deck *m_deck;
    RunFilterProxy *m_proxy;
    QTreeWidget *m_tree;
    QTreeWidgetItem *m_statusGroup;
    QTreeWidgetItem *m_tagGroup;
    QTreeWidgetItem *m_chainGroup;
    QHash<int, QTreeWidgetItem *> m_categoryItems;
    bool m_updating = false;
};

} // namespace kd
