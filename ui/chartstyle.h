#pragma once

// Colours and palette handling shared by the chart widgets. QtCharts types appear here and in
// the chart widgets only, so a later port to Qt Graphs touches this small set of files.

#include "types.h"

#include <QColor>
#include <QCoreApplication>
#include <QList>
#include <QPalette>
#include <QString>

QT_BEGIN_NAMESPACE
class QAbstractAxis;
class QChart;
class QChartView;
class QValueAxis;
QT_END_NAMESPACE

namespace kd {

/// Palette-aware colours for the charts: run states, series, warnings and chart chrome.
class ChartStyle final
{
    Q_DECLARE_TR_FUNCTIONS(ChartStyle)
public:
    /// The swimlane buckets: several API states share one colour and one legend entry.
    enum class StateBucket { Queued, Running, Complete, Error, Cancelled };
    static constexpr int kStateBucketCount = 5;

    static StateBucket bucketOf(KernelStatus status);
    /// The colours of resources/icons/state-*.svg, so icons and bars agree.
    static QColor stateColor(StateBucket bucket);
    static QString stateName(StateBucket bucket);
    /// The API state as a user reads it ("Cancelling", "Complete").
    static QString statusText(KernelStatus status);

    static bool isDark(const QPalette &palette);
    /// Distinct line colours that read on both light and dark backgrounds.
    static QColor seriesColor(int index, const QPalette &palette);
    static QColor gridColor(const QPalette &palette);
    static QColor mutedTextColor(const QPalette &palette);
    /// A solid red that keeps white text readable in both palettes.
    static QColor warningColor(const QPalette &palette);
    /// Red for text on the palette's base: lighter than warningColor() on a dark palette.
    static QColor warningTextColor(const QPalette &palette);

    /// A 1, 2 or 5 times a power of ten that splits `span` into about `ticks` intervals.
    static double niceStep(double span, int ticks);
    /// printf format showing `step` without noise digits ("%.0f", "%.1f", ...).
    static QString labelFormatFor(double step);
    /// Ticks at round values (multiples of a nice step) whatever the axis range is.
    static void setNiceTicks(QValueAxis *axis, int ticks);

    /// Background, title, legend and every attached axis follow `palette`; call again on a
    /// palette change (QChart's own themes ignore the widget palette).
    static void apply(QChart *chart, const QPalette &palette);
    static void apply(QAbstractAxis *axis, const QPalette &palette);
    static void apply(QChartView *view, const QPalette &palette);
};

} // namespace kd
