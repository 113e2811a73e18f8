#pragma once

#include "domain.h"

#include <QWidget>

#include <memory>

namespace kd {

class Deck;

/// The Timeline tab: a swimlane of the states over time, one lane per run.
class TimelineChart final : public QWidget
{
    Q_OBJECT
public:
    explicit TimelineChart(Deck *deck, QWidget *parent = nullptr);
    ~TimelineChart() override;

    /// The runs to show; empty shows all watched runs.
    void setRuns(const QList<RunId> &runs);
    /// Rebuilds the lanes from the store now instead of at the next coalesced update.
    void refresh();

protected:
    void changeEvent(QEvent *event) override;
    void showEvent(QShowEvent *event) override;
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace kd
