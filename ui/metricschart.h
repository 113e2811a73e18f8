#pragma once

#include "domain.h"

#include <QWidget>

#include <memory>

namespace kd {

class Deck;

/// The Metrics tab: charts of the parsed series with a series choice, and a chain view that joins a
/// series across sessions with the boundaries marked.
class MetricsChart final : public QWidget
{
    Q_OBJECT
public:
    explicit MetricsChart(Deck *deck, QWidget *parent = nullptr);
    ~MetricsChart() override;

    void setRun(RunId run);
    RunId run() const;

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
