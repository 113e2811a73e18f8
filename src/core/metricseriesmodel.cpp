#include "metricseriesmodel.h"

#include "store.h"

#include <QSet>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

namespace kd {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// The series users look at first; the chart's series picker opens on them.
const QStringList &commonSeries()
{
    static const QStringList names{
        QStringLiteral("loss"),         QStringLiteral("eval_loss"),
        QStringLiteral("val_loss"),     QStringLiteral("train_loss"),
        QStringLiteral("accuracy"),     QStringLiteral("eval_accuracy"),
        QStringLiteral("val_accuracy"), QStringLiteral("acc"),
        QStringLiteral("val_acc"),      QStringLiteral("learning_rate"),
        QStringLiteral("lr"),
    };
    return names;
}

std::optional<double> axisValue(const MetricPoint &p, MetricSeriesModel::XAxis axis)
{
    switch (axis) {
    case MetricSeriesModel::XAxis::Step:
        if (p.step >= 0)
            return double(p.step);
        break;
    case MetricSeriesModel::XAxis::Epoch:
        if (std::isfinite(p.epoch))
            return p.epoch;
        break;
    case MetricSeriesModel::XAxis::Time:
        if (std::isfinite(p.logTime))
            return p.logTime;
        break;
    }
    return std::nullopt;
}

} // namespace

MetricSeriesModel::MetricSeriesModel(QObject *parent) : QAbstractTableModel(parent) {}

void MetricSeriesModel::setStore(Store *store)
{
    m_store = store;
    reload();
}

void MetricSeriesModel::showRun(RunId run, const QString &series)
{
    QList<SessionId> ids;
    if (m_store) {
        for (const SessionRecord &s : m_store->sessions(run))
            ids.append(s.id);
    }
    showSessions(ids, series);
}

void MetricSeriesModel::showSessions(const QList<SessionId> &sessions, const QString &series)
{
    QList<SessionId> unique;
    QSet<SessionId> seen;
    for (SessionId id : sessions) {
        if (!seen.contains(id)) {
            seen.insert(id);
            unique.append(id);
        }
    }
    m_sessions = unique;
    m_series = series;
    reload();
}

void MetricSeriesModel::setSeries(const QString &series)
{
    if (series == m_series)
        return;
    m_series = series;
    reload();
}

void MetricSeriesModel::clear()
{
    m_sessions.clear();
    m_series.clear();
    reload();
}

void MetricSeriesModel::reload()
{
    beginResetModel();
    const QStringList names = load();
    endResetModel();
    // After the reset: a listener may read the model when the series list changes.
    setAvailable(names);
}

QStringList MetricSeriesModel::load()
{
    m_points.clear();
    m_points.resize(m_sessions.size());
    QStringList names;
    if (m_store) {
        QSet<QString> seen;
        for (qsizetype i = 0; i < m_sessions.size(); ++i) {
            for (const QString &name : m_store->metricSeries(m_sessions.at(i))) {
                if (!seen.contains(name)) {
                    seen.insert(name);
                    names.append(name);
                }
            }
            if (m_series.isEmpty())
                continue;
            QList<Point> &points = m_points[i];
            for (const MetricPoint &p : m_store->metricPoints(m_sessions.at(i), m_series))
                appendPoint(points, p);
            sortPoints(points);
        }
    }
    m_rows = stitch();
    return names;
}

void MetricSeriesModel::appendPoint(QList<Point> &points, const MetricPoint &p)
{
    // A point without a log time stays behind the one recorded before it.
    const double key = std::isfinite(p.logTime) ? p.logTime
                       : points.isEmpty()       ? -std::numeric_limits<double>::infinity()
                                                : points.constLast().key;
    points.append(Point{p, key});
}

void MetricSeriesModel::sortPoints(QList<Point> &points)
{
    std::stable_sort(points.begin(), points.end(),
                     [](const Point &a, const Point &b) { return a.key < b.key; });
}

void MetricSeriesModel::setAvailable(QStringList names)
{
    names = orderSeries(std::move(names));
    if (names == m_available)
        return;
    m_available = names;
    emit availableSeriesChanged();
}

QList<MetricSeriesModel::Row> MetricSeriesModel::stitch() const
{
    QList<Row> rows;
    double end = 0;                // last x so far: where a restarting session begins
    bool anyRow = false;           // a later session's first row is a boundary only after another's
    std::optional<double> lastRaw; // last raw axis value of the latest session that had one
    double lastOffset = 0;         // that session's offset, kept by a session that resumes

    for (qsizetype k = 0; k < m_points.size(); ++k) {
        const QList<Point> &points = m_points.at(k);
        if (points.isEmpty())
            continue;
        std::optional<double> first;
        for (const Point &p : points) {
            if ((first = axisValue(p.point, m_axis)))
                break;
        }
        double offset = end;
        // Log time counts from each session's own start, so it never "resumes".
        if (first && lastRaw && m_axis != XAxis::Time && *first > *lastRaw)
            offset = lastOffset;

        double x = end;
        bool firstRow = true;
        for (const Point &p : points) {
            if (const std::optional<double> v = axisValue(p.point, m_axis)) {
                x = *v + offset;
                lastRaw = v;
            }
            Row r;
            r.x = x;
            r.value = p.point.value;
            r.epoch = p.point.epoch;
            r.step = p.point.step;
            r.logTime = p.point.logTime;
            r.sessionIndex = int(k);
            r.sessionId = p.point.sessionId;
            r.boundary = firstRow && anyRow;
            firstRow = false;
            rows.append(r);
        }
        if (first)
            lastOffset = offset;
        end = x;
        anyRow = true;
    }
    return rows;
}

void MetricSeriesModel::appendPoints(const QList<MetricPoint> &points)
{
    if (points.isEmpty() || m_sessions.isEmpty())
        return;
    QHash<SessionId, qsizetype> indexOf;
    for (qsizetype i = 0; i < m_sessions.size(); ++i)
        indexOf.insert(m_sessions.at(i), i);

    qsizetype lastWithRows = -1;
    for (qsizetype i = m_points.size() - 1; i >= 0; --i) {
        if (!m_points.at(i).isEmpty()) {
            lastWithRows = i;
            break;
        }
    }

    QStringList names = m_available;
    bool added = false;
    bool inOrder = true;
    QSet<qsizetype> touched;
    for (const MetricPoint &p : points) {
        const auto it = indexOf.constFind(p.sessionId);
        if (it == indexOf.constEnd())
            continue;
        if (!names.contains(p.series))
            names.append(p.series);
        if (m_series.isEmpty() || p.series != m_series)
            continue;
        const qsizetype k = *it;
        QList<Point> &list = m_points[k];
        const double lastKey = list.isEmpty() ? 0 : list.constLast().key;
        appendPoint(list, p);
        touched.insert(k);
        added = true;
        // Rows of earlier sessions, or a point logged before the last row of the newest
        // session, would go between existing rows: offsets and row numbers shift.
        if (k < lastWithRows ||
            (k == lastWithRows && list.size() > 1 && list.constLast().key < lastKey))
            inOrder = false;
    }

    if (added) {
        for (qsizetype k : std::as_const(touched))
            sortPoints(m_points[k]);
        QList<Row> rows = stitch();
        if (inOrder) {
            const int first = int(m_rows.size());
            beginInsertRows({}, first, int(rows.size()) - 1);
            m_rows = std::move(rows);
            endInsertRows();
        } else {
            beginResetModel();
            m_rows = std::move(rows);
            endResetModel();
        }
    }
    setAvailable(names);
}

void MetricSeriesModel::setXAxis(XAxis axis)
{
    if (axis == m_axis)
        return;
    m_axis = axis;
    m_rows = stitch();
    // Stitching keeps the rows and their order; only x moves.
    if (!m_rows.isEmpty()) {
        emit dataChanged(index(0, XColumn), index(int(m_rows.size()) - 1, XColumn),
                         {Qt::DisplayRole, RawRole});
    }
    emit headerDataChanged(Qt::Horizontal, XColumn, XColumn);
}

QList<double> MetricSeriesModel::boundaries() const
{
    QList<double> result;
    for (const Row &r : m_rows) {
        if (r.boundary)
            result.append(r.x);
    }
    return result;
}

double MetricSeriesModel::bestValue() const
{
    QList<double> values;
    values.reserve(m_rows.size());
    for (const Row &r : m_rows)
        values.append(r.value);
    return bestOf(values, lowerIsBetter(m_series));
}

QList<double> MetricSeriesModel::perSessionBest() const
{
    const bool lower = lowerIsBetter(m_series);
    QList<double> result;
    result.reserve(m_points.size());
    for (const QList<Point> &points : m_points) {
        QList<double> values;
        values.reserve(points.size());
        for (const Point &p : points)
            values.append(p.point.value);
        result.append(bestOf(values, lower));
    }
    return result;
}

bool MetricSeriesModel::lowerIsBetter(QStringView series)
{
    return series.contains(u"loss", Qt::CaseInsensitive) ||
           series.contains(u"error", Qt::CaseInsensitive) ||
           series.contains(u"perplexity", Qt::CaseInsensitive);
}

double MetricSeriesModel::bestOf(const QList<double> &values, bool lowerIsBetter)
{
    double best = kNaN;
    for (double v : values) {
        if (!std::isfinite(v))
            continue;
        if (std::isnan(best) || (lowerIsBetter ? v < best : v > best))
            best = v;
    }
    return best;
}

QStringList MetricSeriesModel::orderSeries(QStringList names)
{
    names.removeDuplicates();
    QStringList result;
    for (const QString &common : commonSeries()) {
        if (names.contains(common))
            result.append(common);
    }
    QStringList rest;
    for (const QString &name : std::as_const(names)) {
        if (!commonSeries().contains(name))
            rest.append(name);
    }
    std::sort(rest.begin(), rest.end());
    return result + rest;
}

int MetricSeriesModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int MetricSeriesModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant MetricSeriesModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &r = m_rows.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
        // Unknown epoch and step show as empty cells rather than NaN and -1.
        if (index.column() == EpochColumn && std::isnan(r.epoch))
            return {};
        if (index.column() == StepColumn && r.step < 0)
            return {};
        [[fallthrough]];
    case RawRole:
        switch (index.column()) {
        case XColumn:
            return r.x;
        case ValueColumn:
            return r.value;
        case EpochColumn:
            return r.epoch;
        case StepColumn:
            return r.step;
        case SessionIndexColumn:
            return r.sessionIndex;
        case LogTimeColumn:
            return r.logTime;
        default:
            return {};
        }
    case SessionIdRole:
        return r.sessionId;
    case IsBoundaryRole:
        return r.boundary;
    default:
        return {};
    }
}

QVariant MetricSeriesModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case XColumn:
        switch (m_axis) {
        case XAxis::Step:
            return tr("Step (stitched)");
        case XAxis::Epoch:
            return tr("Epoch (stitched)");
        case XAxis::Time:
            return tr("Time (stitched)");
        }
        return {};
    case ValueColumn:
        return tr("Value");
    case EpochColumn:
        return tr("Epoch");
    case StepColumn:
        return tr("Step");
    case SessionIndexColumn:
        return tr("Session");
    case LogTimeColumn:
        return tr("Log time");
    default:
        return {};
    }
}

QHash<int, QByteArray> MetricSeriesModel::roleNames() const
{
    QHash<int, QByteArray> names = QAbstractTableModel::roleNames();
    names.insert(RawRole, "raw");
    names.insert(SessionIdRole, "sessionId");
    names.insert(IsBoundaryRole, "isBoundary");
    return names;
}

} // namespace kd
