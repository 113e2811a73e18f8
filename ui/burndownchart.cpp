#include "burndownchart.h"

#include "chartstyle.h"
#include "format.h"

#include <QCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QCursor>
#include <QEvent>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLocale>
#include <QSet>
#include <QTimeZone>
#include <QToolTip>
#include <QValueAxis>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace kd {

struct BurnDownChart::Private
{
    BurnDownChart *q = nullptr;
    QChartView *view = nullptr;
    QChart *chart = nullptr;
    QCategoryAxis *xAxis = nullptr; ///< ms since the epoch, labelled at local midnights
    qint64 from = 0;
    qint64 to = 0;
    QValueAxis *yAxis = nullptr;
    QLineSeries *actual = nullptr;
    QLineSeries *forecast = nullptr;
    QLineSeries *zero = nullptr;
    bool covers = true;

    void applyPalette();
    void layoutDays();
    void showTooltip(QLineSeries *series, const QPointF &point, bool hovering, bool isForecast);
};

void BurnDownChart::Private::applyPalette()
{
    const QPalette palette = q->palette();
    ChartStyle::apply(view, palette);
    const QColor line = ChartStyle::seriesColor(0, palette);
    actual->setPen(QPen(line, 2));
    QPen dashed(covers ? line : ChartStyle::warningColor(palette), 2, Qt::DashLine);
    forecast->setPen(dashed);
    QColor zeroColor = ChartStyle::warningColor(palette);
    zeroColor.setAlphaF(0.7f);
    zero->setPen(QPen(zeroColor, 1));
}

void BurnDownChart::Private::showTooltip(QLineSeries *series, const QPointF &point, bool hovering,
                                         bool isForecast)
{
    if (!hovering || series->count() == 0) {
        QToolTip::hideText();
        return;
    }
    const QList<QPointF> points = series->points();
    const auto nearest =
        std::min_element(points.begin(), points.end(), [&](const QPointF &a, const QPointF &b) {
            return std::abs(a.x() - point.x()) < std::abs(b.x() - point.x());
        });
    // Between two points of the forecast the line is what matters, not the nearest corner.
    double hours = nearest->y();
    double x = nearest->x();
    if (isForecast) {
        for (qsizetype i = 1; i < points.size(); ++i) {
            if (point.x() >= points[i - 1].x() && point.x() <= points[i].x() &&
                points[i].x() > points[i - 1].x()) {
                const double t =
                    (point.x() - points[i - 1].x()) / (points[i].x() - points[i - 1].x());
                hours = points[i - 1].y() + t * (points[i].y() - points[i - 1].y());
                x = point.x();
                break;
            }
        }
    }
    const QDateTime at = QDateTime::fromMSecsSinceEpoch(qint64(x), QTimeZone::utc());
    const QString when = QLocale().toString(at.toLocalTime(), QStringLiteral("ddd d MMM HH:mm"));
    const QString left = format::hours(hours * 3600.0);
    const QString text = isForecast ? tr("%1\nforecast: %2 left").arg(when, left)
                                    : tr("%1\nKaggle reported %2 left").arg(when, left);
    QToolTip::showText(QCursor::pos(), text, view);
}

void BurnDownChart::Private::layoutDays()
{
    // Day names at local midnights, where the days really begin; the refresh rarely falls
    // on one, so evenly spaced date-time ticks would put "Tue" on Tuesday 23:04.
    while (xAxis->count() > 0)
        xAxis->remove(xAxis->categoriesLabels().constLast());
    xAxis->setStartValue(double(from));
    xAxis->setRange(double(from), double(to));
    const int plotWidth = std::max(60, view->width() - 60);
    const QFontMetrics metrics(xAxis->labelsFont());
    int labelWidth = 0;
    for (int weekday = 1; weekday <= 7; ++weekday) {
        labelWidth =
            std::max(labelWidth,
                     metrics.horizontalAdvance(QLocale().dayName(weekday, QLocale::ShortFormat)));
    }
    labelWidth += 10;
    const double days = double(to - from) / 86'400'000.0;
    // Every day when they fit, else every other day: the narrow dock still reads cleanly.
    const int every =
        days * labelWidth <= plotWidth ? 1 : (days * labelWidth <= 2 * plotWidth ? 2 : 3);
    QDate day = QDateTime::fromMSecsSinceEpoch(from).toLocalTime().date().addDays(1);
    QSet<QString> used;
    for (int i = 0;; ++i, day = day.addDays(1)) {
        const qint64 at = day.startOfDay().toMSecsSinceEpoch();
        if (at >= to)
            break;
        if (i % every != 0)
            continue;
        QString label = QLocale().dayName(day.dayOfWeek(), QLocale::ShortFormat);
        while (used.contains(label)) // the first and the last day of a week share a name
            label += QChar(0x200b);
        used.insert(label);
        xAxis->append(label, double(at));
    }
}

BurnDownChart::BurnDownChart(QWidget *parent) : QWidget(parent), d(std::make_unique<Private>())
{
    d->q = this;
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);

    d->chart = new QChart;
    d->chart->setMargins(QMargins(0, 0, 4, 0));
    d->chart->legend()->setAlignment(Qt::AlignBottom);
    d->chart->legend()->setShowToolTips(true);
    // Line markers show the dashes, so "forecast" is told apart from "actual" at a glance.
    d->chart->legend()->setMarkerShape(QLegend::MarkerShapeFromSeries);
    d->xAxis = new QCategoryAxis;
    d->xAxis->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    d->yAxis = new QValueAxis;
    d->yAxis->setLabelFormat(QStringLiteral("%.0f h"));
    QFont titleFont = d->xAxis->titleFont();
    titleFont.setBold(false);
    d->xAxis->setTitleFont(titleFont);
    // Eight weekday labels must fit a dock about 300 px wide.
    QFont labelFont = d->xAxis->labelsFont();
    labelFont.setPointSizeF(labelFont.pointSizeF() * 0.9);
    d->xAxis->setLabelsFont(labelFont);
    d->yAxis->setLabelsFont(labelFont);
    d->chart->addAxis(d->xAxis, Qt::AlignBottom);
    d->chart->addAxis(d->yAxis, Qt::AlignLeft);

    d->zero = new QLineSeries;
    d->zero->setName(tr("quota used up"));
    d->actual = new QLineSeries;
    d->actual->setName(tr("actual"));
    d->forecast = new QLineSeries;
    d->forecast->setName(tr("forecast"));
    for (QLineSeries *s : {d->zero, d->actual, d->forecast}) {
        d->chart->addSeries(s);
        s->attachAxis(d->xAxis);
        s->attachAxis(d->yAxis);
    }
    // The zero line explains itself; a legend entry for it would only take room in a narrow dock.
    for (QLegendMarker *marker : d->chart->legend()->markers(d->zero))
        marker->setVisible(false);
    QObject::connect(d->actual, &QLineSeries::hovered, this, [this](const QPointF &p, bool state) {
        d->showTooltip(d->actual, p, state, false);
    });
    QObject::connect(
        d->forecast, &QLineSeries::hovered, this,
        [this](const QPointF &p, bool state) { d->showTooltip(d->forecast, p, state, true); });

    d->view = new QChartView(d->chart, this);
    d->view->setObjectName(QStringLiteral("quotaBurnDownView"));
    d->view->setRenderHint(QPainter::Antialiasing);
    d->view->setFrameShape(QFrame::NoFrame);
    d->view->setMinimumHeight(150);
    layout->addWidget(d->view);
    d->applyPalette();
    clear();
}

BurnDownChart::~BurnDownChart() = default;

QSize BurnDownChart::sizeHint() const
{
    return QSize(320, 190);
}

void BurnDownChart::clear()
{
    d->actual->clear();
    d->forecast->clear();
    d->zero->clear();
    const QDateTime now = QDateTime::currentDateTimeUtc();
    d->from = now.addDays(-7).toMSecsSinceEpoch();
    d->to = now.toMSecsSinceEpoch();
    d->layoutDays();
    d->yAxis->setRange(0, 30);
}

void BurnDownChart::setData(const QuotaForecast::BurnDown &burnDown,
                            const QuotaForecast::Result &result)
{
    d->covers = result.covers;
    const QList<QPointF> actual = QuotaForecast::toChartPoints(burnDown.actual);
    const QList<QPointF> forecast = QuotaForecast::toChartPoints(burnDown.forecast);
    d->actual->replace(actual);
    d->forecast->replace(forecast);
    d->actual->setPointsVisible(actual.size() == 1);

    QDateTime from = result.windowStart;
    QDateTime to = result.refreshTime;
    if (!from.isValid() || !to.isValid() || from >= to) {
        to = result.now.addDays(1);
        from = to.addDays(-7);
    }
    const double x0 = double(from.toMSecsSinceEpoch());
    const double x1 = double(to.toMSecsSinceEpoch());
    d->zero->replace({QPointF(x0, 0), QPointF(x1, 0)});

    double lo = 0;
    double hi = result.totalSeconds / 3600.0;
    for (const QList<QPointF> *list : {&actual, &forecast}) {
        for (const QPointF &p : *list) {
            lo = std::min(lo, p.y());
            hi = std::max(hi, p.y());
        }
    }
    // Whole hours in steps of 5, 10 or 20 with at most about six ticks: QValueAxis's own
    // nice numbers give steps like 15 h when the range dips below zero.
    const double span = std::max(hi - lo, 1.0);
    double step = 1;
    for (double candidate : {1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0}) {
        step = candidate;
        if (span / candidate <= 5)
            break;
    }
    const double bottom = std::floor(lo / step) * step;
    const double top = std::ceil(hi / step) * step;
    d->yAxis->setRange(bottom, top);
    d->yAxis->setTickCount(int(std::lround((top - bottom) / step)) + 1);

    d->from = from.toMSecsSinceEpoch();
    d->to = to.toMSecsSinceEpoch();
    d->layoutDays();
    d->xAxis->setTitleText(tr("refresh %1").arg(format::shortTime(to)));
    d->applyPalette();
}

void BurnDownChart::resizeEvent(QResizeEvent *event)
{
    QWidget::resizeEvent(event);
    d->layoutDays();
}

void BurnDownChart::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange)
        d->applyPalette();
}

} // namespace kd
