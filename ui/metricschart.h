#pragma once

#include "domain.h"

#include <QWidget>

#include <memory>

namespace kd {

class Deck;
class MetricSeriesModel;

/// The Metrics tab: charts of the parsed series with a series choice, and a chain view that joins a
/// series across sessions with the boundaries marked. Also shows a fixed list of sessions
/// (setSessions: a chain's steps), stitched the same way.
class MetricsChart final : public QWidget
{
    Q_OBJECT
public:
    explicit MetricsChart(Deck *deck, QWidget *parent = nullptr);
    ~MetricsChart() override;

    /// Shows the run (0: none) and returns from setSessions() to the per-run mode.
    void setRun(RunId run);
    RunId run() const;

    /// Shows these sessions stitched in this order (MetricSeriesModel::showSessions) instead of a
    /// run, following their new points live; the "Chain view" toggle is hidden meanwhile. Each
    /// boundary is labelled with `boundaryLabel`, %1 being the session's 1-based position in the
    /// list. Setting the same list again keeps what is shown. setRun() ends this mode.
    void setSessions(const QList<SessionId> &sessions,
                     const QString &boundaryLabel = tr("step %1"));
    /// True between setSessions() and the next setRun().
    bool isShowingSessions() const;
    /// The plotted series, for what a host adds next to the chart (read only).
    const MetricSeriesModel *model() const;

    /// Every session of the run stitched (true) or only its latest session (false).
    void setChainView(bool chain);
    bool isChainView() const;
    /// The series shown; empty while the run has none.
    QString currentSeries() const;
    void setCurrentSeries(const QString &series);

protected:
    void changeEvent(QEvent *event) override;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace kd
