#pragma once

#include "domain.h"
#include "quotaforecast.h"

#include <QAbstractTableModel>
#include <QDateTime>
#include <QHash>
#include <QList>

#include <array>
#include <optional>

namespace kd {

/// The quota panel: one row per accelerator quota (GPU, TPU) with Kaggle's numbers and the
/// forecast to the weekly refresh.
///
/// Both rows are always there. Before the first update() a row is unknown: KnownRole is
/// false, RawRole is invalid and DisplayRole says "unknown". Hours cells carry seconds under
/// RawRole (double) and QuotaForecast::formatHours text under DisplayRole.
///
/// Change signals are exact, so a panel redraws only what moved: per row, one dataChanged per
/// run of adjacent changed cells (roles DisplayRole and RawRole), plus one dataChanged over
/// the whole row (SummaryRole, ToolTipRole) when the summary text changed. A row turning known
/// or unknown gets one dataChanged over the whole row with no roles (everything changed).
class QuotaModel final : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Row { GpuRow, TpuRow, RowCount };
    enum Column {
        UsedColumn,
        ReservedColumn,
        RemainingColumn, ///< total - used, as Kaggle's own page shows it
        TotalColumn,
        ProjectedColumn, ///< used plus what is expected to run before the refresh
        CoversColumn,    ///< bool: the projection fits in the total
        ShortfallColumn, ///< max(0, projected - total)
        SourceColumn,    ///< raw: QuotaForecast::Source as int
        ColumnCount
    };
    enum Role {
        RawRole = Qt::UserRole + 1, ///< double seconds, bool (Covers), int (Source)
        SummaryRole,                ///< QuotaForecast::Result::summary, on every column
        AcceleratorRole,            ///< Accelerator as int, on every column
        KnownRole,                  ///< bool: the row has numbers
    };

    explicit QuotaModel(QObject *parent = nullptr);

    QuotaForecast::Settings settings() const { return m_forecaster.settings(); }
    /// Forecasts again from the last inputs, if any (fallback totals, low threshold).
    void setSettings(const QuotaForecast::Settings &settings);

    /// Forecasts both quotas from `input`; its accelerator field is ignored. Emits the changed
    /// cells, then updated() once.
    void update(const QuotaForecast::Input &input);
    /// The same from the pieces the monitor holds; `api` is Kaggle's latest answer, nullopt
    /// when there is none (then both rows fall back to the local estimate).
    void update(const std::optional<QuotaStatistics> &api, const QList<SessionRecord> &sessions,
                const QList<StatusEvent> &events, const QHash<SessionId, double> &etaSeconds,
                const QList<QuotaForecast::PlannedRun> &planned, const QDateTime &now);
    /// Back to unknown rows.
    void clear();

    /// The stored snapshots burnDown() draws the actual series from (any order).
    void setSnapshots(const QList<QuotaSnapshot> &snapshots);

    /// The last forecast of `accelerator`'s quota; nullopt before the first update().
    std::optional<QuotaForecast::Result> forecast(Accelerator accelerator) const;
    /// Actual (from the snapshots) and forecast remaining hours; empty before update().
    QuotaForecast::BurnDown burnDown(Accelerator accelerator) const;
    /// The quota is low by the settings' threshold; false when unknown.
    bool isLow(Accelerator accelerator) const;
    /// When the weekly quota refreshes (UTC); invalid before update().
    QDateTime refreshTime() const;
    /// Seconds from `now` to the refresh, at least 0; -1 when unknown.
    double secondsToRefresh(const QDateTime &now) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

signals:
    /// After every update() and setSettings() that forecast: the burn-down may have moved.
    void updated();

private:
    using Results = std::array<std::optional<QuotaForecast::Result>, RowCount>;

    void recompute();
    void apply(const Results &results);
    static QVariant raw(const std::optional<QuotaForecast::Result> &result, int column);
    static int rowOf(Accelerator accelerator);

    QuotaForecast m_forecaster;
    std::optional<QuotaForecast::Input> m_input;
    QList<QuotaSnapshot> m_snapshots;
    Results m_results;
};

/// Accelerator hours of this quota window per run and per chain (QuotaForecast::attribute),
/// for the quota panel's "where did the hours go" table.
///
/// Rows: the runs in id order, then the chains in id order. Hours cells carry seconds under
/// RawRole and formatHours text under DisplayRole. An update with the same runs and chains
/// emits one dataChanged per changed row; a different set of rows resets the model.
class QuotaUsageModel final : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { NameColumn, GpuColumn, TpuColumn, ColumnCount };
    enum class Kind { Run, Chain };
    Q_ENUM(Kind)
    enum Role {
        RawRole = Qt::UserRole + 1, ///< name (QString) or seconds (double)
        KindRole,                   ///< Kind as int
        IdRole,                     ///< RunId or ChainId
    };

    explicit QuotaUsageModel(QObject *parent = nullptr);

    /// Titles to show; a run or chain without one is shown as "Run 12" / "Chain 3".
    void setNames(const QHash<RunId, QString> &runTitles,
                  const QHash<ChainId, QString> &chainNames = {});
    /// Attributes the sessions' running time up to `now`, clipped to `since` (pass the
    /// forecast's windowStart for "this week").
    void update(const QList<SessionRecord> &sessions, const QList<StatusEvent> &events,
                const QDateTime &now, const QDateTime &since = {});
    void setAttribution(const QuotaForecast::Attribution &attribution);

    int rowOf(Kind kind, qint64 id) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

private:
    struct Entry
    {
        Kind kind = Kind::Run;
        qint64 id = 0;
        QuotaForecast::Usage usage;
    };

    QString nameOf(const Entry &entry) const;

    QList<Entry> m_rows;
    QHash<RunId, QString> m_runTitles;
    QHash<ChainId, QString> m_chainNames;
};

} // namespace kd
