#pragma once

#include "domain.h"

#include <QWidget>

#include <memory>

namespace kd {

class Deck;

/// One chain at a time: a chain picker, the chain's state and the reason it stopped, the steps
/// (session/version, state, GPU hours, checkpoint found, handoff), the chain's total GPU hours,
/// the metric series stitched across the steps' sessions with the boundaries marked, the
/// chain's log, and Start / Pause / Resume / Abort (enabled by state). Follows the ChainRunner's
/// signals and the deck's new metric points live.
class ChainView final : public QWidget
{
    Q_OBJECT
public:
    explicit ChainView(Deck *deck, QWidget *parent = nullptr);
    ~ChainView() override;

    /// Shows the chain (0: the first one, or none when there is none).
    void setChain(ChainId id);
    ChainId chain() const;

signals:
    /// The shown chain changed (the picker or setChain).
    void chainChanged(kd::ChainId id);

protected:
    void changeEvent(QEvent *event) override;
    void showEvent(QShowEvent *event) override;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace kd
