#pragma once

#include "quotaforecast.h"

#include <QWidget>

#include <memory>

namespace kd {

/// The quota panel's burn-down: remaining hours of the weekly quota, what was measured so far
/// (solid) and the forecast to the refresh (dashed), against a zero line.
class BurnDownChart final : public QWidget
{
    Q_OBJECT
public:
    explicit BurnDownChart(QWidget *parent = nullptr);
    ~BurnDownChart() override;

    /// `result` gives the window (its start to the refresh) and whether the forecast fits.
    void setData(const QuotaForecast::BurnDown &burnDown, const QuotaForecast::Result &result);
    void clear();

    QSize sizeHint() const override;

protected:
    void changeEvent(QEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace kd
