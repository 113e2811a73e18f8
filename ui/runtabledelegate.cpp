#include "runtabledelegate.h"

#include "format.h"
#include "runmonitor.h"
#include "runpresentation.h"
#include "runtablemodel.h"
#include "theme.h"

#include <QAbstractItemView>
#include <QHelpEvent>
#include <QLocale>
#include <QToolTip>

namespace kd {

namespace {
constexpr double kWarnSeconds = 3600;
constexpr double kDangerSeconds = 1800;
const QString kNotApplicable = QStringLiteral("\u2014");
} // namespace

RunTableDelegate::RunTableDelegate(RunMonitor *monitor, QObject *parent)
    : QStyledItemDelegate(parent), m_monitor(monitor)
{}

QString RunTableDelegate::text(const QModelIndex &index) const
{
    const RunState *state = m_monitor->state(index.data(RunTableModel::RunIdRole).toLongLong());
    if (!state)
        return {};
    const QVariant raw = index.data(RunTableModel::RawRole);
    switch (index.column()) {
    case RunTableModel::TitleColumn:
        return state->run.title.isEmpty() ? state->run.ref.slug : state->run.title;
    case RunTableModel::OwnerColumn:
        return state->run.ref.owner;
    case RunTableModel::StateColumn:
        return present::stateText(*state);
    case RunTableModel::AcceleratorColumn:
        // Before the first status and without metadata the machine is simply not known.
        if (raw.toString().isEmpty() && !state->session)
            return kNotApplicable;
        return present::acceleratorName(raw.toString());
    case RunTableModel::ElapsedColumn:
        // A run first seen already finished has no known start: say nothing, not "0 s".
        if (!state->session || (state->session->isOver() && raw.toDouble() <= 0))
            return kNotApplicable;
        return format::duration(raw.toDouble());
    case RunTableModel::TimeLeftColumn: {
        const double left = raw.toDouble();
        return left < 0 ? kNotApplicable : format::countdown(left);
    }
    case RunTableModel::GpuHoursColumn: {
        const double hours = raw.toDouble();
        return hours <= 0 ? kNotApplicable : tr("%1 h").arg(QLocale().toString(hours, 'f', 2));
    }
    case RunTableModel::LastLogColumn:
        return raw.toString().simplified();
    case RunTableModel::UpdatedColumn:
        return format::ago(raw.toDateTime());
    default:
        return raw.toString();
    }
}

QString RunTableDelegate::toolTip(const QModelIndex &index) const
{
    const RunState *state = m_monitor->state(index.data(RunTableModel::RunIdRole).toLongLong());
    if (!state)
        return {};
    switch (index.column()) {
    case RunTableModel::TitleColumn: {
        QString tip = state->run.ref.toString();
        if (state->run.settings.muted)
            tip += u'\n' + tr("Alerts muted");
        else if (state->run.settings.snoozedUntil > QDateTime::currentDateTimeUtc())
            tip +=
                u'\n' +
                tr("Alerts snoozed until %1")
                    .arg(QLocale().toString(state->run.settings.snoozedUntil.toLocalTime().time(),
                                            QLocale::ShortFormat));
        if (!state->run.tags.isEmpty())
            tip += u'\n' + tr("Tags: %1").arg(state->run.tags.join(QStringLiteral(", ")));
        return tip;
    }
    case RunTableModel::StateColumn:
        return present::stateDetails(*state);
    case RunTableModel::AcceleratorColumn:
        return index.data(RunTableModel::RawRole).toString();
    case RunTableModel::TimeLeftColumn:
        return index.data(RunTableModel::RawRole).toDouble() < 0
                   ? tr("Only running runs count down to their time cap.")
                   : tr("Time left before Kaggle stops the run at its cap.");
    case RunTableModel::LastLogColumn:
        return state->lastLogLine;
    case RunTableModel::UpdatedColumn:
        return state->lastUpdate.isValid()
                   ? QLocale().toString(state->lastUpdate.toLocalTime(), QLocale::LongFormat)
                   : tr("Not checked yet");
    default:
        return text(index);
    }
}

void RunTableDelegate::initStyleOption(QStyleOptionViewItem *option, const QModelIndex &index) const
{
    QStyledItemDelegate::initStyleOption(option, index);
    const RunState *state = m_monitor->state(index.data(RunTableModel::RunIdRole).toLongLong());
    if (!state)
        return;
    option->text = text(index);
    option->features |= QStyleOptionViewItem::HasDisplay;
    switch (index.column()) {
    case RunTableModel::StateColumn:
        option->icon = present::stateIcon(*state);
        option->features |= QStyleOptionViewItem::HasDecoration;
        option->decorationSize = QSize(16, 16);
        break;
    case RunTableModel::ElapsedColumn:
    case RunTableModel::TimeLeftColumn:
    case RunTableModel::GpuHoursColumn:
        option->displayAlignment = Qt::AlignRight | Qt::AlignVCenter;
        break;
    case RunTableModel::LastLogColumn:
        option->textElideMode = Qt::ElideRight;
        break;
    default:
        break;
    }
    QColor colour;
    if (state->stale) {
        colour = theme::mutedColor(option->palette);
    } else if (index.column() == RunTableModel::TimeLeftColumn) {
        const double left = index.data(RunTableModel::RawRole).toDouble();
        if (left >= 0 && left < kDangerSeconds)
            colour = theme::dangerColor(option->palette);
        else if (left >= 0 && left < kWarnSeconds)
            colour = theme::warningColor(option->palette);
    } else if (index.column() == RunTableModel::StateColumn && state->session &&
               state->session->status == KernelStatus::Error) {
        colour = theme::dangerColor(option->palette);
    }
    if (colour.isValid())
        option->palette.setColor(QPalette::Text, colour);
}

QSize RunTableDelegate::sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    QSize size = QStyledItemDelegate::sizeHint(option, index);
    size.setHeight(std::max(size.height(), option.fontMetrics.height() + 10));
    // The last log line can be very long; the column is stretched, not sized to it.
    if (index.column() == RunTableModel::LastLogColumn)
        size.setWidth(std::min(size.width(), 320));
    return size;
}

bool RunTableDelegate::helpEvent(QHelpEvent *event, QAbstractItemView *view,
                                 const QStyleOptionViewItem &option, const QModelIndex &index)
{
    if (event->type() != QEvent::ToolTip || !index.isValid())
        return QStyledItemDelegate::helpEvent(event, view, option, index);
    const QString tip = toolTip(index);
    if (tip.isEmpty())
        QToolTip::hideText();
    else
        QToolTip::showText(event->globalPos(), tip, view->viewport(), view->visualRect(index));
    return true;
}

} // namespace kd
