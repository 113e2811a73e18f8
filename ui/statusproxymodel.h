#pragma once

#include <QIdentityProxyModel>

namespace kd {

/// Adds the state icons and readable state names to a model that exposes raw KernelStatus
/// values (KernelListModel::StatusRole); sorting keeps using the raw role.
class StatusProxyModel final : public QIdentityProxyModel
{
    Q_OBJECT
public:
    explicit StatusProxyModel(int statusColumn, QObject *parent = nullptr);
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;

    /// "Running", "Complete", ... and the matching icon; -1 means not known yet.
    static QString stateText(int status);
    static QIcon stateIcon(int status, bool stale);

private:
    int m_statusColumn;
};

} // namespace kd
