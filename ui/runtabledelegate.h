#pragma once

#include <QStyledItemDelegate>

namespace kd {

class RunMonitor;

/// Paints the run table: state icon and words, durations, the cap countdown in orange under
/// an hour and red under 30 minutes, hours, an elided last log line, "2 min ago", and greys
/// out runs whose state is stale. It only paints; the model keeps raw values.
class RunTableDelegate final : public QStyledItemDelegate
{
    Q_OBJECT
public:
    explicit RunTableDelegate(RunMonitor *monitor, QObject *parent = nullptr);

    /// The words a cell shows (what a user reads; tests compare it).
    QString text(const QModelIndex &index) const;
    /// The tooltip of a cell: the state's explanation, the full log line, the exact time.
    QString toolTip(const QModelIndex &index) const;

    bool helpEvent(QHelpEvent *event, QAbstractItemView *view, const QStyleOptionViewItem &option,
                   const QModelIndex &index) override;
    QSize sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const override;

protected:
    void initStyleOption(QStyleOptionViewItem *option, const QModelIndex &index) const override;

private:
    RunMonitor *m_monitor;
};

} // namespace kd
