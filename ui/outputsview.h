#pragma once

#include "domain.h"

#include <QWidget>

#include <memory>

namespace kd {

class Deck;

/// The Outputs tab: the output files of the run's latest session, with sizes.
class OutputsView final : public QWidget
{
    Q_OBJECT
public:
    explicit OutputsView(Deck *deck, QWidget *parent = nullptr);
    ~OutputsView() override;

    void setRun(RunId run);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace kd
