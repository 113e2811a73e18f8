#pragma once

#include "domain.h"

#include <QAbstractTableModel>
#include <QSet>
#include <QSortFilterProxyModel>
#include <QTimer>

namespace kd {

class RunMonitor;
struct RunState;

/// Coarse state used by the filter sidebar and the state icons.
/// All is only a filter choice; a run is never in it directly.
enum class RunCategory { All, Unknown, Queued, Running, Complete, Error, Cancelled, Stale };
RunCategory categoryOf(const RunState &state);

/// The watched runs, one row each, fed by a RunMonitor. Every cell has a raw value under
/// RawRole (seconds, hours, times) so views sort by value while the ui layer formats.
/// Updates are batched: a few changed rows get their own dataChanged, many get one range.
class RunTableModel final : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        TitleColumn,
        OwnerColumn,
        StateColumn,
        AcceleratorColumn,
        ElapsedColumn,  ///< seconds in the current session
        TimeLeftColumn, ///< seconds before the run's cap; raw -1 when not running
        GpuHoursColumn,
        LastLogColumn,
        UpdatedColumn,
        ColumnCount
    };
    enum Role {
        RawRole = Qt::UserRole + 1,
        RunIdRole,
        CategoryRole, ///< RunCategory as int
        StatusRole,   ///< KernelStatus as int, -1 when no session is known
        StaleRole,    ///< bool
        ErrorRole,    ///< last error text when stale
        TagsRole,     ///< QStringList
        ChainRole,    ///< ChainId
        RefRole,      ///< "owner/slug"
        FailureRole,  ///< failure message of the latest session
    };

    explicit RunTableModel(RunMonitor *monitor, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

    int rowOf(RunId id) const;
    RunId runAt(int row) const;
    /// The clock for elapsed and countdown values (tests may pin it).
    void setClock(std::function<QDateTime()> clock) { m_clock = std::move(clock); }
    /// Emits dataChanged for the time columns of running rows (call every second).
    void refreshTimes();
    /// Sends pending batched changes now.
    void flush();

    static double capSeconds(const SessionRecord &session);

private:
    void onRunAdded(RunId id);
    void onRunRemoved(RunId id);
    void onRunChanged(RunId id);
    QVariant raw(const RunState &state, int column) const;

    RunMonitor *m_monitor;
    QList<RunId> m_rows;
    QSet<RunId> m_dirty;
    QTimer m_flushTimer;
    std::function<QDateTime()> m_clock;
};

/// Filters the run table by category, tag, chain and text, and counts runs per category
/// over the whole source (the sidebar shows them live, whatever filter is active).
class RunFilterProxy final : public QSortFilterProxyModel
{
    Q_OBJECT
public:
    explicit RunFilterProxy(QObject *parent = nullptr);

    void setSourceModel(QAbstractItemModel *source) override;
    void setCategory(RunCategory category);
    void setTag(const QString &tag); ///< empty = all
    void setChain(ChainId chain);    ///< 0 = all
    void setText(const QString &text);
    RunCategory category() const { return m_category; }

    /// Runs per category in the source model (All counts every run).
    int count(RunCategory category) const { return m_counts.value(int(category)); }
    QMap<QString, int> tagCounts() const { return m_tagCounts; }
    QMap<ChainId, int> chainCounts() const { return m_chainCounts; }

signals:
    void countsChanged();

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    void recount();

    RunCategory m_category = RunCategory::All;
    QString m_tag;
    ChainId m_chain = 0;
    QString m_text;
    QHash<int, int> m_counts;
    QMap<QString, int> m_tagCounts;
    QMap<ChainId, int> m_chainCounts;
};

} // namespace kd
