#pragma once

#include "domain.h"

#include <QWidget>

#include <memory>

namespace kd {

class Deck;
class QuotaModel;
class QuotaUsageModel;

/// The always-visible quota panel: GPU/TPU used, reserved and remaining hours, the burn-down with
/// its forecast, hours per run and chain, and the refresh countdown.
class QuotaPanel final : public QWidget
{
    Q_OBJECT
public:
    explicit QuotaPanel(Deck *deck, QWidget *parent = nullptr);
    ~QuotaPanel() override;

    /// The models shown (not owned); the deck's own by default. nullptr shows "waiting for
    /// quota numbers".
    void setModels(QuotaModel *quota, QuotaUsageModel *usage);
    QuotaModel *quotaModel() const;

    /// The burn-down shows this accelerator's quota (GPU unless chosen otherwise).
    void setBurnDownAccelerator(Accelerator accelerator);

protected:
    void changeEvent(QEvent *event) override;
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace kd
