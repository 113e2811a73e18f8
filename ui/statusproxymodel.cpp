#include "statusproxymodel.h"

#include "kernellistmodel.h"
#include "types.h"

#include <QDateTime>
#include <QIcon>
#include <QLocale>

namespace kd {

StatusProxyModel::StatusProxyModel(int statusColumn, QObject *parent)
    : QIdentityProxyModel(parent), m_statusColumn(statusColumn)
{
}

QString StatusProxyModel::stateText(int status)
{
    switch (status) {
    case int(KernelStatus::Queued):
        return tr("Queued");
    case int(KernelStatus::Running):
        return tr("Running");
    case int(KernelStatus::Complete):
        return tr("Complete");
    case int(KernelStatus::Error):
        return tr("Error");
    case int(KernelStatus::CancelRequested):
        return tr("Cancelling");
    case int(KernelStatus::CancelAcknowledged):
        return tr("Cancelled");
    case int(KernelStatus::NewScript):
        return tr("New script");
    default:
        return tr("Checking…");
    }
}

QIcon StatusProxyModel::stateIcon(int status, bool stale)
{
    if (stale)
        return QIcon(QStringLiteral(":/icons/state-stale.svg"));
    switch (status) {
    case int(KernelStatus::Running):
        return QIcon(QStringLiteral(":/icons/state-running.svg"));
    case int(KernelStatus::Complete):
        return QIcon(QStringLiteral(":/icons/state-complete.svg"));
    case int(KernelStatus::Error):
        return QIcon(QStringLiteral(":/icons/state-error.svg"));
    case int(KernelStatus::CancelRequested):
    case int(KernelStatus::CancelAcknowledged):
        return QIcon(QStringLiteral(":/icons/state-cancelled.svg"));
    default:
        return QIcon(QStringLiteral(":/icons/state-queued.svg"));
    }
}

QVariant StatusProxyModel::data(const QModelIndex &index, int role) const
{
    if (index.column() == KernelListModel::UpdatedColumn && role == Qt::DisplayRole) {
        const QDateTime when = QIdentityProxyModel::data(index, role).toDateTime();
        return when.isValid() ? QLocale().toString(when.toLocalTime().time(), QLocale::LongFormat)
                              : QString();
    }
    if (index.column() != m_statusColumn)
        return QIdentityProxyModel::data(index, role);
    const int status = QIdentityProxyModel::data(index, KernelListModel::StatusRole).toInt();
    const bool stale = !QIdentityProxyModel::data(index, KernelListModel::ErrorRole)
                            .toString()
                            .isEmpty();
    switch (role) {
    case Qt::DisplayRole:
        return stale ? tr("%1 (stale)").arg(stateText(status)) : stateText(status);
    case Qt::DecorationRole:
        return stateIcon(status, stale);
    default:
        return QIdentityProxyModel::data(index, role);
    }
}

} // namespace kd
