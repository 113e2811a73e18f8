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

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace kd
