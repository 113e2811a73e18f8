#include "runtablemodel.h"

#include "runmonitor.h"

#include <algorithm>

namespace kd {

namespace {
constexpr int kFlushMs = 100;
constexpr double kGpuCapSeconds = 12 * 3600;
constexpr double kTpuCapSeconds = 9 * 3600;
} // namespace

RunCategory categoryOf(const RunState &state)
{
    if (state.stale)
        return RunCategory::Stale;
    if (!state.session)
        return RunCategory::Unknown;
    switch (state.session->status) {
    case KernelStatus::Queued:
    case KernelStatus::NewScript:
        return RunCategory::Queued;
    case KernelStatus::Running:
        return RunCategory::Running;
    case KernelStatus::Complete:
        return RunCategory::Complete;
    case KernelStatus::Error:
        return RunCategory::Error;
    case KernelStatus::CancelRequested:
    case KernelStatus::CancelAcknowledged:
        return RunCategory::Cancelled;
    }
    return RunCategory::Unknown;
}

RunTableModel::RunTableModel(RunMonitor *monitor, QObject *parent)
    : QAbstractTableModel(parent), m_monitor(monitor),
      m_clock([] { return QDateTime::currentDateTimeUtc(); })
{
    m_rows = monitor->runIds();
    m_flushTimer.setSingleShot(true);
    connect(&m_flushTimer, &QTimer::timeout, this, &RunTableModel::flush);
    connect(monitor, &RunMonitor::runAdded, this, &RunTableModel::onRunAdded);
    connect(monitor, &RunMonitor::runRemoved, this, &RunTableModel::onRunRemoved);
    connect(monitor, &RunMonitor::runChanged, this, &RunTableModel::onRunChanged);
}

int RunTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int RunTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

int RunTableModel::rowOf(RunId id) const
{
    return int(m_rows.indexOf(id));
}

RunId RunTableModel::runAt(int row) const
{
    return row >= 0 && row < m_rows.size() ? m_rows.at(row) : 0;
}

double RunTableModel::capSeconds(const SessionRecord &session)
{
    const double platform =
        acceleratorOf(session.machineShape) == Accelerator::Tpu ? kTpuCapSeconds : kGpuCapSeconds;
    return session.timeoutSeconds > 0 ? std::min<double>(session.timeoutSeconds, platform)
                                      : platform;
}

QVariant RunTableModel::raw(const RunState &s, int column) const
{
    const QDateTime now = m_clock();
    switch (column) {
    case TitleColumn:
        return s.run.title;
    case OwnerColumn:
        return s.run.ref.owner;
    case StateColumn:
        return s.session ? int(s.session->status) : -1;
    case AcceleratorColumn:
        return s.session && !s.session->machineShape.isEmpty() ? s.session->machineShape
                                                               : s.run.machineShape;
    case ElapsedColumn: {
        if (!s.session)
            return 0.0;
        const QDateTime from = s.runningSince.isValid() ? s.runningSince : s.session->firstSeen;
        const QDateTime to = s.session->endedAt.isValid() ? s.session->endedAt : now;
        return from.isValid() ? std::max<double>(0, from.msecsTo(to) / 1000.0) : 0.0;
    }
    case TimeLeftColumn:
        if (!s.session || s.session->status != KernelStatus::Running || !s.runningSince.isValid())
            return -1.0;
        return std::max<double>(0, capSeconds(*s.session) - s.runningSince.msecsTo(now) / 1000.0);
    case GpuHoursColumn:
        return (s.gpuSeconds + s.tpuSeconds) / 3600.0;
    case LastLogColumn:
        return s.lastLogLine;
    case UpdatedColumn:
        return s.lastUpdate;
    default:
        return {};
    }
}

QVariant RunTableModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const RunState *s = m_monitor->state(m_rows.at(index.row()));
    if (!s)
        return {};
    switch (role) {
    case Qt::DisplayRole:
    case RawRole:
        return raw(*s, index.column());
    case RunIdRole:
        return s->run.id;
    case CategoryRole:
        return int(categoryOf(*s));
    case StatusRole:
        return s->session ? int(s->session->status) : -1;
    case StaleRole:
        return s->stale;
    case ErrorRole:
        return s->error;
    case TagsRole:
        return s->run.tags;
    case ChainRole:
        return s->run.chainId;
    case RefRole:
        return s->run.ref.toString();
    case FailureRole:
        return s->session ? s->session->failureMessage : QString();
    default:
        return {};
    }
}

QVariant RunTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case TitleColumn:
        return tr("Title");
    case OwnerColumn:
        return tr("Owner");
    case StateColumn:
        return tr("State");
    case AcceleratorColumn:
        return tr("Accelerator");
    case ElapsedColumn:
        return tr("Elapsed");
    case TimeLeftColumn:
        return tr("Time left");
    case GpuHoursColumn:
        return tr("GPU h");
    case LastLogColumn:
        return tr("Last log line");
    case UpdatedColumn:
        return tr("Updated");
    default:
        return {};
    }
}

QHash<int, QByteArray> RunTableModel::roleNames() const
{
    QHash<int, QByteArray> names = QAbstractTableModel::roleNames();
    names.insert(RawRole, "raw");
    names.insert(RunIdRole, "runId");
    names.insert(CategoryRole, "category");
    names.insert(StatusRole, "status");
    names.insert(StaleRole, "stale");
    names.insert(ErrorRole, "error");
    names.insert(TagsRole, "tags");
    names.insert(ChainRole, "chain");
    names.insert(RefRole, "ref");
    names.insert(FailureRole, "failure");
    return names;
}

void RunTableModel::onRunAdded(RunId id)
{
    if (m_rows.contains(id))
        return;
    flush(); // keep row numbers of pending changes valid
    const int row = int(m_rows.size());
    beginInsertRows({}, row, row);
    m_rows.append(id);
    endInsertRows();
}

void RunTableModel::onRunRemoved(RunId id)
{
    const int row = rowOf(id);
    if (row < 0)
        return;
    m_dirty.remove(id);
    beginRemoveRows({}, row, row);
    m_rows.removeAt(row);
    endRemoveRows();
}

void RunTableModel::onRunChanged(RunId id)
{
    m_dirty.insert(id);
    if (!m_flushTimer.isActive())
        m_flushTimer.start(kFlushMs);
}

void RunTableModel::flush()
{
    m_flushTimer.stop();
    if (m_dirty.isEmpty() || m_rows.isEmpty()) {
        m_dirty.clear();
        return;
    }
    // Few rows: one signal each, so views repaint little. Many: one range, not a storm.
    if (m_dirty.size() * 3 > m_rows.size()) {
        m_dirty.clear();
        emit dataChanged(index(0, 0), index(int(m_rows.size()) - 1, ColumnCount - 1));
        return;
    }
    QList<int> rows;
    for (RunId id : std::as_const(m_dirty))
        if (const int row = rowOf(id); row >= 0)
            rows.append(row);
    m_dirty.clear();
    std::sort(rows.begin(), rows.end());
    for (int row : rows)
        emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

void RunTableModel::refreshTimes()
{
    int first = -1;
    int last = -1;
    for (int row = 0; row < m_rows.size(); ++row) {
        const RunState *s = m_monitor->state(m_rows.at(row));
        if (s && s->session && !s->session->isOver()) {
            if (first < 0)
                first = row;
            last = row;
        }
    }
    if (first >= 0)
        emit dataChanged(index(first, ElapsedColumn), index(last, TimeLeftColumn),
                         {Qt::DisplayRole, RawRole});
}

// ---------------------------------------------------------------------------------------------

RunFilterProxy::RunFilterProxy(QObject *parent) : QSortFilterProxyModel(parent)
{
    setSortRole(RunTableModel::RawRole);
    setFilterCaseSensitivity(Qt::CaseInsensitive);
}

void RunFilterProxy::setSourceModel(QAbstractItemModel *source)
{
    if (sourceModel())
        disconnect(sourceModel(), nullptr, this, nullptr);
    QSortFilterProxyModel::setSourceModel(source);
    if (source) {
        connect(source, &QAbstractItemModel::dataChanged, this, &RunFilterProxy::recount);
        connect(source, &QAbstractItemModel::rowsInserted, this, &RunFilterProxy::recount);
        connect(source, &QAbstractItemModel::rowsRemoved, this, &RunFilterProxy::recount);
        connect(source, &QAbstractItemModel::modelReset, this, &RunFilterProxy::recount);
    }
    recount();
}

void RunFilterProxy::setCategory(RunCategory category)
{
    m_category = category;
    invalidateRowsFilter();
}

void RunFilterProxy::setTag(const QString &tag)
{
    m_tag = tag;
    invalidateRowsFilter();
}

void RunFilterProxy::setChain(ChainId chain)
{
    m_chain = chain;
    invalidateRowsFilter();
}

void RunFilterProxy::setText(const QString &text)
{
    m_text = text.trimmed();
    invalidateRowsFilter();
}

bool RunFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    const QModelIndex index = sourceModel()->index(sourceRow, 0, sourceParent);
    if (m_category != RunCategory::All &&
        index.data(RunTableModel::CategoryRole).toInt() != int(m_category))
        return false;
    if (!m_tag.isEmpty() && !index.data(RunTableModel::TagsRole).toStringList().contains(m_tag))
        return false;
    if (m_chain != 0 && index.data(RunTableModel::ChainRole).toLongLong() != m_chain)
        return false;
    if (!m_text.isEmpty() &&
        !index.data(RunTableModel::RawRole).toString().contains(m_text, Qt::CaseInsensitive) &&
        !index.data(RunTableModel::RefRole).toString().contains(m_text, Qt::CaseInsensitive))
        return false;
    return true;
}

void RunFilterProxy::recount()
{
    QHash<int, int> counts;
    QMap<QString, int> tags;
    QMap<ChainId, int> chains;
    QAbstractItemModel *source = sourceModel();
    const int rows = source ? source->rowCount() : 0;
    for (int row = 0; row < rows; ++row) {
        const QModelIndex index = source->index(row, 0);
        ++counts[index.data(RunTableModel::CategoryRole).toInt()];
        for (const QString &tag : index.data(RunTableModel::TagsRole).toStringList())
            ++tags[tag];
        if (const ChainId chain = index.data(RunTableModel::ChainRole).toLongLong())
            ++chains[chain];
    }
    counts[int(RunCategory::All)] = rows;
    if (counts == m_counts && tags == m_tagCounts && chains == m_chainCounts)
        return;
    m_counts = counts;
    m_tagCounts = tags;
    m_chainCounts = chains;
    emit countsChanged();
    // Categories of rows may have changed: refilter.
    if (m_category != RunCategory::All || !m_tag.isEmpty() || m_chain != 0)
        invalidateRowsFilter();
}

} // namespace kd
