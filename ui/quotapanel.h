#pragma once

#include "domain.h"

#include <QWidget>

#include <memory>

namespace kd {

class Deck;

/// The always-visible quota panel: GPU/TPU used, reserved and remaining hours, the burn-down with
/// its forecast, hours per run and chain, and the refresh countdown.
class QuotaPanel final : public QWidget
{
    Q_OBJECT
public:
    explicit QuotaPanel(Deck *deck, QWidget *parent = nullptr);
    ~QuotaPanel() override;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace kd
