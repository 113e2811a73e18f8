#include "quotamodel.h"

#include <algorithm>
#include <utility>

namespace kd {

namespace {

Accelerator acceleratorOfRow(int row)
{
    return row == QuotaModel::TpuRow ? Accelerator::Tpu : Accelerator::Gpu;
}

bool isHoursColumn(int column)
{
    switch (column) {
    case QuotaModel::UsedColumn:
    case QuotaModel::ReservedColumn:
    case QuotaModel::RemainingColumn:
    case QuotaModel::TotalColumn:
    case QuotaModel::ProjectedColumn:
    case QuotaModel::ShortfallColumn:
        return true;
    default:
        return false;
    }
}

} // namespace

// --- QuotaModel ------------------------------------------------------------------------------

QuotaModel::QuotaModel(QObject *parent) : QAbstractTableModel(parent) {}

int QuotaModel::rowOf(Accelerator accelerator)
{
    // CPU is not billed; like QuotaForecast, treat anything but TPU as the GPU quota.
    return accelerator == Accelerator::Tpu ? TpuRow : GpuRow;
}

void QuotaModel::setSettings(const QuotaForecast::Settings &settings)
{
    m_forecaster.setSettings(settings);
    if (m_input)
        recompute();
}

void QuotaModel::update(const QuotaForecast::Input &input)
{
    m_input = input;
    recompute();
}

void QuotaModel::update(const std::optional<QuotaStatistics> &api,
                        const QList<SessionRecord> &sessions, const QList<StatusEvent> &events,
                        const QHash<SessionId, double> &etaSeconds,
                        const QList<QuotaForecast::PlannedRun> &planned, const QDateTime &now)
{
    QuotaForecast::Input input;
    input.now = now;
    if (api)
        input.snapshot = QuotaSnapshot{now, *api};
    input.sessions = sessions;
    input.events = events;
    input.etaSeconds = etaSeconds;
    input.planned = planned;
    update(input);
}

void QuotaModel::clear()
{
    m_input.reset();
    apply(Results{});
}

void QuotaModel::setSnapshots(const QList<QuotaSnapshot> &snapshots)
{
    m_snapshots = snapshots;
    // QuotaForecast::burnDown wants them time-ordered; the store's order is not guaranteed
    // once snapshots from several sources are merged.
    std::stable_sort(m_snapshots.begin(), m_snapshots.end(),
                     [](const QuotaSnapshot &a, const QuotaSnapshot &b) { return a.at < b.at; });
}

void QuotaModel::recompute()
{
    Results results;
    for (int row = 0; row < RowCount; ++row) {
        QuotaForecast::Input input = *m_input;
        input.accelerator = acceleratorOfRow(row);
        results[row] = m_forecaster.forecast(input);
    }
    apply(results);
    emit updated();
}

void QuotaModel::apply(const Results &results)
{
    const Results old = m_results;
    m_results = results;
    for (int row = 0; row < RowCount; ++row) {
        const std::optional<QuotaForecast::Result> &before = old[row];
        const std::optional<QuotaForecast::Result> &after = results[row];
        if (before.has_value() != after.has_value()) {
            emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
            continue;
        }
        if (!after)
            continue;
        int runStart = -1;
        for (int column = 0; column <= ColumnCount; ++column) {
            const bool changed = column < ColumnCount && raw(before, column) != raw(after, column);
            if (changed && runStart < 0)
                runStart = column;
            if (!changed && runStart >= 0) {
                emit dataChanged(index(row, runStart), index(row, column - 1),
                                 {Qt::DisplayRole, RawRole});
                runStart = -1;
            }
        }
        if (before->summary != after->summary) {
            emit dataChanged(index(row, 0), index(row, ColumnCount - 1),
                             {SummaryRole, Qt::ToolTipRole});
        }
    }
}

QVariant QuotaModel::raw(const std::optional<QuotaForecast::Result> &result, int column)
{
    if (!result)
        return {};
    const QuotaForecast::Result &r = *result;
    switch (column) {
    case UsedColumn:
        return r.usedSeconds;
    case ReservedColumn:
        return r.reservedSeconds;
    case RemainingColumn:
        return r.remainingNowSeconds;
    case TotalColumn:
        return r.totalSeconds;
    case ProjectedColumn:
        return r.projectedSeconds;
    case CoversColumn:
        return r.covers;
    case ShortfallColumn:
        return r.shortfallSeconds;
    case SourceColumn:
        return int(r.source);
    default:
        return {};
    }
}

std::optional<QuotaForecast::Result> QuotaModel::forecast(Accelerator accelerator) const
{
    return m_results[rowOf(accelerator)];
}

QuotaForecast::BurnDown QuotaModel::burnDown(Accelerator accelerator) const
{
    const std::optional<QuotaForecast::Result> &result = m_results[rowOf(accelerator)];
    if (!result || !m_input)
        return {};
    QuotaForecast::Input input = *m_input;
    input.accelerator = result->accelerator;
    return QuotaForecast::burnDown(m_snapshots, input, *result);
}

bool QuotaModel::isLow(Accelerator accelerator) const
{
    const std::optional<QuotaForecast::Result> &result = m_results[rowOf(accelerator)];
    return result && m_forecaster.isLow(*result);
}

QDateTime QuotaModel::refreshTime() const
{
    for (const std::optional<QuotaForecast::Result> &result : m_results) {
        if (result)
            return result->refreshTime;
    }
    return {};
}

double QuotaModel::secondsToRefresh(const QDateTime &now) const
{
    const QDateTime refresh = refreshTime();
    if (!refresh.isValid() || !now.isValid())
        return -1;
    return std::max(0.0, double(now.msecsTo(refresh)) / 1000.0);
}

int QuotaModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : RowCount;
}

int QuotaModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant QuotaModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const std::optional<QuotaForecast::Result> &result = m_results[index.row()];
    switch (role) {
    case Qt::DisplayRole: {
        if (!result)
            return tr("unknown");
        const QVariant value = raw(result, index.column());
        if (isHoursColumn(index.column()))
            return QuotaForecast::formatHours(value.toDouble());
        if (index.column() == SourceColumn)
            return result->source == QuotaForecast::Source::Api ? tr("Kaggle")
                                                                : tr("Local estimate");
        return value;
    }
    case RawRole:
        return raw(result, index.column());
    case SummaryRole:
        return result ? result->summary : QString();
    case Qt::ToolTipRole:
        return result ? result->summary : tr("No quota numbers yet");
    case AcceleratorRole:
        return int(acceleratorOfRow(index.row()));
    case KnownRole:
        return result.has_value();
    default:
        return {};
    }
}

QVariant QuotaModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (role != Qt::DisplayRole)
        return {};
    if (orientation == Qt::Vertical) {
        switch (section) {
        case GpuRow:
            return tr("GPU");
        case TpuRow:
            return tr("TPU");
        default:
            return {};
        }
    }
    switch (section) {
    case UsedColumn:
        return tr("Used h");
    case ReservedColumn:
        return tr("Reserved h");
    case RemainingColumn:
        return tr("Remaining h");
    case TotalColumn:
        return tr("Total h");
    case ProjectedColumn:
        return tr("Projected h");
    case CoversColumn:
        return tr("Covers");
    case ShortfallColumn:
        return tr("Shortfall h");
    case SourceColumn:
        return tr("Source");
    default:
        return {};
    }
}

QHash<int, QByteArray> QuotaModel::roleNames() const
{
    QHash<int, QByteArray> names = QAbstractTableModel::roleNames();
    names.insert(RawRole, "raw");
    names.insert(SummaryRole, "summary");
    names.insert(AcceleratorRole, "accelerator");
    names.insert(KnownRole, "known");
    return names;
}

// --- QuotaUsageModel -------------------------------------------------------------------------

QuotaUsageModel::QuotaUsageModel(QObject *parent) : QAbstractTableModel(parent) {}

void QuotaUsageModel::setNames(const QHash<RunId, QString> &runTitles,
                               const QHash<ChainId, QString> &chainNames)
{
    QList<QString> before;
    before.reserve(m_rows.size());
    for (const Entry &e : std::as_const(m_rows))
        before.append(nameOf(e));
    m_runTitles = runTitles;
    m_chainNames = chainNames;
    for (int row = 0; row < m_rows.size(); ++row) {
        if (nameOf(m_rows.at(row)) != before.at(row))
            emit dataChanged(index(row, NameColumn), index(row, NameColumn),
                             {Qt::DisplayRole, RawRole});
    }
}

void QuotaUsageModel::update(const QList<SessionRecord> &sessions, const QList<StatusEvent> &events,
                             const QDateTime &now, const QDateTime &since)
{
    setAttribution(QuotaForecast::attribute(sessions, events, now, since));
}

void QuotaUsageModel::setAttribution(const QuotaForecast::Attribution &attribution)
{
    QList<Entry> rows;
    QList<RunId> runs = attribution.perRun.keys();
    std::sort(runs.begin(), runs.end());
    for (RunId id : std::as_const(runs))
        rows.append(Entry{Kind::Run, id, attribution.perRun.value(id)});
    QList<ChainId> chains = attribution.perChain.keys();
    std::sort(chains.begin(), chains.end());
    for (ChainId id : std::as_const(chains))
        rows.append(Entry{Kind::Chain, id, attribution.perChain.value(id)});

    const bool sameRows =
        rows.size() == m_rows.size() &&
        std::equal(rows.cbegin(), rows.cend(), m_rows.cbegin(),
                   [](const Entry &a, const Entry &b) { return a.kind == b.kind && a.id == b.id; });
    if (!sameRows) {
        beginResetModel();
        m_rows = rows;
        endResetModel();
        return;
    }
    const QList<Entry> old = std::exchange(m_rows, rows);
    for (int row = 0; row < m_rows.size(); ++row) {
        if (!(old.at(row).usage == m_rows.at(row).usage))
            emit dataChanged(index(row, GpuColumn), index(row, TpuColumn),
                             {Qt::DisplayRole, RawRole});
    }
}

int QuotaUsageModel::rowOf(Kind kind, qint64 id) const
{
    for (int row = 0; row < m_rows.size(); ++row) {
        if (m_rows.at(row).kind == kind && m_rows.at(row).id == id)
            return row;
    }
    return -1;
}

QString QuotaUsageModel::nameOf(const Entry &entry) const
{
    if (entry.kind == Kind::Run) {
        const QString title = m_runTitles.value(entry.id);
        return title.isEmpty() ? tr("Run %1").arg(entry.id) : title;
    }
    const QString name = m_chainNames.value(entry.id);
    return name.isEmpty() ? tr("Chain %1").arg(entry.id) : name;
}

int QuotaUsageModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int QuotaUsageModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant QuotaUsageModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Entry &e = m_rows.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case RawRole:
        switch (index.column()) {
        case NameColumn:
            return nameOf(e);
        case GpuColumn:
        case TpuColumn: {
            const double seconds =
                e.usage.seconds(index.column() == GpuColumn ? Accelerator::Gpu : Accelerator::Tpu);
            if (role == RawRole)
                return seconds;
            return QuotaForecast::formatHours(seconds);
        }
        default:
            return {};
        }
    case KindRole:
        return int(e.kind);
    case IdRole:
        return e.id;
    default:
        return {};
    }
}

QVariant QuotaUsageModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case NameColumn:
        return tr("Run or chain");
    case GpuColumn:
        return tr("GPU h");
    case TpuColumn:
        return tr("TPU h");
    default:
        return {};
    }
}

QHash<int, QByteArray> QuotaUsageModel::roleNames() const
{
    QHash<int, QByteArray> names = QAbstractTableModel::roleNames();
    names.insert(RawRole, "raw");
    names.insert(KindRole, "kind");
    names.insert(IdRole, "id");
    return names;
}

} // namespace kd
