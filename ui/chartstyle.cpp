#include "chartstyle.h"

#include <QAbstractAxis>
#include <QChart>
#include <QChartView>
#include <QLegend>
#include <QValueAxis>

#include <array>
#include <cmath>

namespace kd {

ChartStyle::StateBucket ChartStyle::bucketOf(KernelStatus status)
{
    switch (status) {
    case KernelStatus::Running:
        return StateBucket::Running;
    case KernelStatus::Complete:
        return StateBucket::Complete;
    case KernelStatus::Error:
        return StateBucket::Error;
    case KernelStatus::CancelRequested:
    case KernelStatus::CancelAcknowledged:
        return StateBucket::Cancelled;
    case KernelStatus::Queued:
    case KernelStatus::NewScript:
        break;
    }
    return StateBucket::Queued;
}

QColor ChartStyle::stateColor(StateBucket bucket)
{
    switch (bucket) {
    case StateBucket::Queued:
        return QColor(0x8a, 0x8f, 0x98);
    case StateBucket::Running:
        return QColor(0x2f, 0x7d, 0xe1);
    case StateBucket::Complete:
        return QColor(0x2e, 0x9d, 0x57);
    case StateBucket::Error:
        return QColor(0xd6, 0x45, 0x41);
    case StateBucket::Cancelled:
        return QColor(0xe0, 0x8a, 0x1e);
    }
    return {};
}

QString ChartStyle::stateName(StateBucket bucket)
{
    switch (bucket) {
    case StateBucket::Queued:
        return tr("Queued");
    case StateBucket::Running:
        return tr("Running");
    case StateBucket::Complete:
        return tr("Complete");
    case StateBucket::Error:
        return tr("Error");
    case StateBucket::Cancelled:
        return tr("Cancelled");
    }
    return {};
}

QString ChartStyle::statusText(KernelStatus status)
{
    switch (status) {
    case KernelStatus::CancelRequested:
        return tr("Cancelling");
    case KernelStatus::NewScript:
        return tr("New script");
    default:
        return stateName(bucketOf(status));
    }
}

bool ChartStyle::isDark(const QPalette &palette)
{
    return palette.color(QPalette::Window).lightness() < 128;
}

QColor ChartStyle::seriesColor(int index, const QPalette &palette)
{
    // Tableau-like hues; the dark palette gets lighter variants so thin lines stay visible.
    static constexpr std::array<QRgb, 8> light = {0x1f77b4, 0xd62728, 0x2ca02c, 0xff7f0e,
                                                  0x9467bd, 0x8c564b, 0xe377c2, 0x17becf};
    static constexpr std::array<QRgb, 8> dark = {0x6baed6, 0xff7b72, 0x7ee787, 0xffa657,
                                                 0xd2a8ff, 0xc9a27e, 0xf778ba, 0x56d4dd};
    const auto &set = isDark(palette) ? dark : light;
    const std::size_t i = std::size_t(index < 0 ? 0 : index) % set.size();
    return QColor::fromRgb(set[i]);
}

QColor ChartStyle::gridColor(const QPalette &palette)
{
    const QColor text = palette.color(QPalette::Text);
    QColor c = text;
    c.setAlphaF(isDark(palette) ? 0.18f : 0.12f);
    return c;
}

QColor ChartStyle::mutedTextColor(const QPalette &palette)
{
    QColor c = palette.color(QPalette::Text);
    c.setAlphaF(0.65f);
    return c;
}

QColor ChartStyle::warningColor(const QPalette &palette)
{
    return isDark(palette) ? QColor(0xc0, 0x39, 0x2b) : QColor(0xc6, 0x28, 0x28);
}

QColor ChartStyle::warningTextColor(const QPalette &palette)
{
    return isDark(palette) ? QColor(0xff, 0x7b, 0x72) : QColor(0xc6, 0x28, 0x28);
}

double ChartStyle::niceStep(double span, int ticks)
{
    if (!(span > 0) || !std::isfinite(span) || ticks < 1)
        return 1;
    const double raw = span / ticks;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 5.0}) {
        if (raw <= m * magnitude)
            return m * magnitude;
    }
    return 10 * magnitude;
}

QString ChartStyle::labelFormatFor(double step)
{
    if (!(step > 0) || step >= 1)
        return QStringLiteral("%.0f");
    const int decimals = std::min(6, int(std::ceil(-std::log10(step) - 1e-9)));
    // A step of 0.25 would need two decimals, 0.5 one; niceStep only makes 1, 2 and 5.
    return QStringLiteral("%.") + QString::number(decimals) + QStringLiteral("f");
}

void ChartStyle::setNiceTicks(QValueAxis *axis, int ticks)
{
    const double step = niceStep(axis->max() - axis->min(), ticks);
    // Interval first: dynamic ticks at an old, small interval over a new, wide range would
    // make the axis build (and then delete) a graphics item per tick, hundreds of thousands.
    axis->setTickType(QValueAxis::TicksFixed);
    axis->setTickInterval(step);
    axis->setTickAnchor(0);
    axis->setTickType(QValueAxis::TicksDynamic);
    axis->setLabelFormat(labelFormatFor(step));
}

void ChartStyle::apply(QAbstractAxis *axis, const QPalette &palette)
{
    if (!axis)
        return;
    const QColor text = palette.color(QPalette::Text);
    axis->setLabelsBrush(text);
    axis->setTitleBrush(text);
    QPen line(gridColor(palette));
    line.setWidthF(1.0);
    axis->setLinePen(line);
    axis->setGridLinePen(line);
    QColor minor = gridColor(palette);
    minor.setAlphaF(minor.alphaF() / 2);
    axis->setMinorGridLinePen(QPen(minor));
    axis->setShadesVisible(false);
}

void ChartStyle::apply(QChart *chart, const QPalette &palette)
{
    if (!chart)
        return;
    chart->setBackgroundBrush(palette.brush(QPalette::Base));
    chart->setBackgroundPen(Qt::NoPen);
    chart->setBackgroundRoundness(0);
    chart->setPlotAreaBackgroundVisible(false);
    chart->setTitleBrush(palette.brush(QPalette::Text));
    chart->legend()->setLabelColor(palette.color(QPalette::Text));
    chart->legend()->setBrush(Qt::NoBrush);
    chart->legend()->setPen(Qt::NoPen);
    const QList<QAbstractAxis *> axes = chart->axes();
    for (QAbstractAxis *axis : axes)
        apply(axis, palette);
}

void ChartStyle::apply(QChartView *view, const QPalette &palette)
{
    if (!view)
        return;
    view->setBackgroundBrush(palette.brush(QPalette::Base));
    apply(view->chart(), palette);
}

} // namespace kd
