#pragma once

#include "apierror.h"
#include "types.h"

#include <QAbstractTableModel>
#include <QDateTime>
#include <QList>

namespace kd {

/// Kernels with their latest session status, one row each. Raw values come through RawRole
/// so that views sort "2 min ago" by time; the ui layer picks icons and formats.
class KernelListModel final : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { RefColumn, TitleColumn, StatusColumn, MachineColumn, UpdatedColumn, ColumnCount };
    enum Role {
        RawRole = Qt::UserRole + 1, ///< sortable raw value of the cell
        StatusRole,                 ///< KernelStatus as int, -1 when unknown yet
        ErrorRole,                  ///< last error text for the row, empty when fine
    };

    using QAbstractTableModel::QAbstractTableModel;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    /// Replaces the rows, keeping known statuses of kernels that stay.
    void setKernels(const QList<KernelMetadata> &kernels);
    void setStatus(const KernelRef &ref, const KernelSessionStatus &status, const QDateTime &when);
    void setError(const KernelRef &ref, const ApiError &error, const QDateTime &when);
    QList<KernelRef> refs() const;
    int rowOf(const KernelRef &ref) const;

private:
    struct Row
    {
        KernelMetadata kernel;
        KernelRef ref;
        std::optional<KernelSessionStatus> status;
        QString error;
        QDateTime updated;
    };
    void rowChanged(int row);

    QList<Row> m_rows;
};

} // namespace kd
