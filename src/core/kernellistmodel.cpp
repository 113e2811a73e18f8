#include "kernellistmodel.h"

namespace kd {

int KernelListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int KernelListModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant KernelListModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &row = m_rows.at(index.row());
    if (role == StatusRole)
        return row.status ? int(row.status->status) : -1;
    if (role == ErrorRole)
        return row.error;
    if (role == Qt::ToolTipRole) {
        if (!row.error.isEmpty())
            return row.error;
        if (row.status && !row.status->failureMessage.isEmpty())
            return row.status->failureMessage;
        return {};
    }
    if (role != Qt::DisplayRole && role != RawRole)
        return {};
    switch (index.column()) {
    case RefColumn:
        return row.ref.toString();
    case TitleColumn:
        return row.kernel.title;
    case StatusColumn:
        if (role == RawRole)
            return row.status ? int(row.status->status) : -1;
        return row.status ? statusName(row.status->status) : QString();
    case MachineColumn:
        return row.kernel.machineShape;
    case UpdatedColumn:
        return row.updated;
    default:
        return {};
    }
}

QVariant KernelListModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case RefColumn:
        return tr("Kernel");
    case TitleColumn:
        return tr("Title");
    case StatusColumn:
        return tr("Status");
    case MachineColumn:
        return tr("Accelerator");
    case UpdatedColumn:
        return tr("Updated");
    default:
        return {};
    }
}

void KernelListModel::setKernels(const QList<KernelMetadata> &kernels)
{
    QList<Row> rows;
    rows.reserve(kernels.size());
    for (const KernelMetadata &kernel : kernels) {
        const auto ref = KernelRef::parse(kernel.ref);
        if (!ref)
            continue;
        Row row{kernel, *ref, std::nullopt, {}, {}};
        if (const int old = rowOf(*ref); old >= 0) {
            row.status = m_rows.at(old).status;
            row.error = m_rows.at(old).error;
            row.updated = m_rows.at(old).updated;
        }
        rows.append(std::move(row));
    }
    beginResetModel();
    m_rows = std::move(rows);
    endResetModel();
}

void KernelListModel::setStatus(const KernelRef &ref, const KernelSessionStatus &status,
                                const QDateTime &when)
{
    const int row = rowOf(ref);
    if (row < 0)
        return;
    m_rows[row].status = status;
    m_rows[row].error.clear();
    m_rows[row].updated = when;
    rowChanged(row);
}

void KernelListModel::setError(const KernelRef &ref, const ApiError &error, const QDateTime &when)
{
    const int row = rowOf(ref);
    if (row < 0)
        return;
    m_rows[row].error = error.message;
    m_rows[row].updated = when;
    rowChanged(row);
}

QList<KernelRef> KernelListModel::refs() const
{
    QList<KernelRef> refs;
    refs.reserve(m_rows.size());
    for (const Row &row : m_rows)
        refs.append(row.ref);
    return refs;
}

int KernelListModel::rowOf(const KernelRef &ref) const
{
    for (int i = 0; i < m_rows.size(); ++i)
        if (m_rows.at(i).ref == ref)
            return i;
    return -1;
}

void KernelListModel::rowChanged(int row)
{
    emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

} // namespace kd
