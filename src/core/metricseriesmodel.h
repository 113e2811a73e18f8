#pragma once

#include "domain.h"

#include <QAbstractTableModel>
#include <QList>
#include <QString>
#include <QStringList>

namespace kd {

class Store;

/// One metric series over a run's sessions or a chain's steps, stitched into one continuous
/// series with each session boundary marked: what the metrics chart plots.
///
/// Stitching: session k's x is its own x (step, epoch or log time) plus an offset, the last x
/// of the session before it, so a run that restarts its counter continues where the previous
/// one ended (epochs 1..3 and 1..3 become 1..3 and 4..6). A session whose first value is
/// greater than the previous session's last raw value resumed the counter (a Trainer resumed
/// from a checkpoint) and keeps the previous session's offset instead. Log time restarts with
/// every session, so on the Time axis sessions are always offset.
///
/// Order and missing values: the rows of a session follow log time (ties in the order the
/// points were recorded). A point without a value on the chosen axis (no step, no epoch) keeps
/// its log-time place and takes the x of the point logged before it, or the session's start
/// when none was; the line never jumps back. Points with a NaN value stay (a diverged loss is
/// worth seeing); bestValue() and perSessionBest() skip them.
///
/// Sessions without points of the series have no rows and no boundary; session indexes still
/// count them, so SessionIndexColumn is the position in the shown list.
class MetricSeriesModel final : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        XColumn, ///< the stitched x value on the chosen axis
        ValueColumn,
        EpochColumn,        ///< raw NaN when unknown
        StepColumn,         ///< raw -1 when unknown
        SessionIndexColumn, ///< 0-based index of the session in the shown list
        LogTimeColumn,      ///< seconds since the session's start
        ColumnCount
    };
    enum Role {
        RawRole = Qt::UserRole + 1, ///< the number, also for unknown epoch (NaN) / step (-1)
        SessionIdRole,              ///< SessionId of the row, on every column
        IsBoundaryRole,             ///< true on the first row of each session after the first
    };
    enum class XAxis { Step, Epoch, Time };
    Q_ENUM(XAxis)

    explicit MetricSeriesModel(QObject *parent = nullptr);

    /// Not owned; nullptr shows only points given to appendPoints(). Reloads.
    void setStore(Store *store);
    Store *store() const { return m_store; }

    /// All sessions of `run`, oldest first.
    void showRun(RunId run, const QString &series);
    /// The sessions in the given order (a chain: the sessions of its steps); duplicates are
    /// shown once, at their first position.
    void showSessions(const QList<SessionId> &sessions, const QString &series);
    /// Another series of the same sessions.
    void setSeries(const QString &series);
    void clear();
    /// Reads the shown sessions' points and series again from the store.
    void reload();

    /// Live points. Keeps those of the shown sessions and series; when they all land after the
    /// existing rows (the usual case: the newest session is the one logging), inserts them
    /// with one beginInsertRows, otherwise resets the model. Series of the shown sessions not
    /// seen before are added to availableSeries().
    void appendPoints(const QList<MetricPoint> &points);

    /// Changes only the X column: one dataChanged over it and one headerDataChanged.
    void setXAxis(XAxis axis);
    XAxis xAxis() const { return m_axis; }

    QList<SessionId> sessions() const { return m_sessions; }
    QString series() const { return m_series; }
    /// Every series of the shown sessions: the common ones (loss, eval_loss, accuracy, ...)
    /// first, the rest sorted by name.
    QStringList availableSeries() const { return m_available; }
    /// X positions where each session after the first begins (the x of its first row).
    QList<double> boundaries() const;

    /// The best value of the shown series over all rows; NaN when there is none.
    double bestValue() const;
    /// One best value per shown session, in the shown order; NaN for a session without values.
    /// Feeds the chain's "metric not improved for K runs" rule.
    QList<double> perSessionBest() const;

    /// Loss-like series improve downwards: the name contains "loss", "error" or "perplexity"
    /// (any case). Everything else (accuracy, f1, bleu, ...) improves upwards.
    static bool lowerIsBetter(QStringView series);
    /// Min or max of the finite values; NaN when there is none.
    static double bestOf(const QList<double> &values, bool lowerIsBetter);
    /// The names with the common series first in a fixed order, the rest sorted.
    static QStringList orderSeries(QStringList names);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

signals:
    void availableSeriesChanged();

private:
    /// A stored point with its ordering key (log time, carried over a missing one).
    struct Point
    {
        MetricPoint point;
        double key = 0;
    };
    struct Row
    {
        double x = 0;
        double value = 0;
        double epoch = 0;
        qint64 step = -1;
        double logTime = 0;
        int sessionIndex = 0;
        SessionId sessionId = 0;
        bool boundary = false;
    };

    /// Reads points and rows; returns the series names of the shown sessions.
    QStringList load();
    QList<Row> stitch() const;
    static void appendPoint(QList<Point> &points, const MetricPoint &p);
    static void sortPoints(QList<Point> &points);
    void setAvailable(QStringList names);

    Store *m_store = nullptr;
    QList<SessionId> m_sessions;
    QString m_series;
    XAxis m_axis = XAxis::Step;
    QList<QList<Point>> m_points; ///< per shown session, in log-time order
    QList<Row> m_rows;
    QStringList m_available;
};

} // namespace kd
