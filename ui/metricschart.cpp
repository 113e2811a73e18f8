#include "metricschart.h"

#include "chartstyle.h"
#include "deck.h"
#include "format.h"
#include "metricseriesmodel.h"
#include "store.h"

#include <QCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QComboBox>
#include <QCursor>
#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QLegend>
#include <QLineSeries>
#include <QLocale>
#include <QStackedWidget>
#include <QTimer>
#include <QToolTip>
#include <QValueAxis>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace kd {

namespace {

/// Past this many rows the line is decimated; more points than pixels only cost time.
constexpr int kMaxDrawnPoints = 2000;
/// Below this many points each one gets a dot, so a short series is not an invisible line.
constexpr int kDotsBelow = 40;

using XAxis = MetricSeriesModel::XAxis;

struct Sample
{
    double x = 0;
    double value = 0;
    int row = 0;
};

/// Keeps the minimum and the maximum of each bucket in x order, so spikes (a diverging loss)
/// survive the decimation.
QList<Sample> decimate(const QList<Sample> &in, int maxPoints)
{
    if (in.size() <= maxPoints)
        return in;
    const int buckets = maxPoints / 2;
    const double per = double(in.size()) / buckets;
    QList<Sample> out;
    out.reserve(maxPoints + 2);
    for (int b = 0; b < buckets; ++b) {
        const qsizetype from = qsizetype(b * per);
        const qsizetype to = std::min(in.size(), qsizetype((b + 1) * per));
        if (from >= to)
            continue;
        qsizetype lo = from;
        qsizetype hi = from;
        for (qsizetype i = from; i < to; ++i) {
            if (in[i].value < in[lo].value)
                lo = i;
            if (in[i].value > in[hi].value)
                hi = i;
        }
        out.append(in[std::min(lo, hi)]);
        if (lo != hi)
            out.append(in[std::max(lo, hi)]);
    }
    if (out.constLast().row != in.constLast().row)
        out.append(in.constLast());
    return out;
}

} // namespace

struct MetricsChart::Private
{
    MetricsChart *q = nullptr;
    Deck *deck = nullptr;
    RunId run = 0;
    /// setSessions() mode: these sessions instead of a run.
    bool fixed = false;
    QList<SessionId> fixedSessions;
    QString boundaryLabel = tr("run %1"); ///< %1: the session's 1-based position
    MetricSeriesModel model;

    QComboBox *seriesCombo = nullptr;
    QComboBox *axisCombo = nullptr;
    QCheckBox *chainToggle = nullptr;
    QLabel *info = nullptr;
    QStackedWidget *stack = nullptr;
    QLabel *emptyLabel = nullptr;
    QChartView *view = nullptr;
    QChart *chart = nullptr;
    QValueAxis *xAxis = nullptr;
    QValueAxis *yAxis = nullptr;
    QCategoryAxis *sessionAxis = nullptr; ///< "run 2" labels above the boundaries
    QLineSeries *line = nullptr;
    QList<QLineSeries *> boundaryLines;

    QTimer redrawTimer;
    double xScale = 1; ///< model x divided by this is plotted (seconds -> minutes or hours)
    QString wantedSeries;
    bool updatingCombo = false;

    void build();
    void loadRun();
    bool joined() const { return fixed || chainToggle->isChecked(); }
    void syncSeriesCombo();
    void redraw();
    void showEmpty(const QString &text);
    void onMetrics(RunId run, SessionId session, const QList<MetricPoint> &points);
    void applyPalette();
    void showTooltip(const QPointF &point, bool hovering);
    bool axisHasValues(XAxis axis) const;
};

void MetricsChart::Private::build()
{
    model.setStore(deck->store());

    auto *layout = new QVBoxLayout(q);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(4);

    auto *bar = new QHBoxLayout;
    bar->setContentsMargins(6, 4, 6, 0);
    auto *seriesLabel = new QLabel(tr("&Series:"), q);
    seriesCombo = new QComboBox(q);
    seriesCombo->setObjectName(QStringLiteral("metricsSeriesCombo"));
    seriesCombo->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    seriesCombo->setMinimumContentsLength(12);
    seriesCombo->setToolTip(tr("The metric to plot; common ones (loss, accuracy) come first."));
    seriesLabel->setBuddy(seriesCombo);
    auto *axisLabel = new QLabel(tr("&X axis:"), q);
    axisCombo = new QComboBox(q);
    axisCombo->setObjectName(QStringLiteral("metricsXAxisCombo"));
    axisCombo->addItem(tr("Step"), int(XAxis::Step));
    axisCombo->addItem(tr("Epoch"), int(XAxis::Epoch));
    axisCombo->addItem(tr("Time"), int(XAxis::Time));
    axisLabel->setBuddy(axisCombo);
    chainToggle = new QCheckBox(tr("&Chain view"), q);
    chainToggle->setObjectName(QStringLiteral("metricsChainToggle"));
    chainToggle->setToolTip(tr("Join the series across all sessions of this run, with dashed "
                               "lines where each new session begins. Off: the latest session "
                               "only."));
    info = new QLabel(q);
    info->setObjectName(QStringLiteral("metricsInfoLabel"));
    info->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // A narrow window wraps the summary instead of widening the whole tab.
    info->setWordWrap(true);
    info->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    info->setMinimumWidth(info->fontMetrics().averageCharWidth() * 12);
    bar->addWidget(seriesLabel);
    bar->addWidget(seriesCombo);
    bar->addSpacing(12);
    bar->addWidget(axisLabel);
    bar->addWidget(axisCombo);
    bar->addSpacing(12);
    bar->addWidget(chainToggle);
    // The summary takes the rest of the row: one line while there is room for it.
    bar->addWidget(info, 1);
    layout->addLayout(bar);

    stack = new QStackedWidget(q);
    emptyLabel = new QLabel(q);
    emptyLabel->setObjectName(QStringLiteral("metricsEmptyLabel"));
    emptyLabel->setAlignment(Qt::AlignCenter);
    emptyLabel->setWordWrap(true);
    emptyLabel->setMargin(24);
    stack->addWidget(emptyLabel);

    chart = new QChart;
    chart->setMargins(QMargins(4, 4, 12, 4));
    chart->legend()->hide();
    xAxis = new QValueAxis;
    yAxis = new QValueAxis;
    sessionAxis = new QCategoryAxis;
    sessionAxis->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    sessionAxis->setGridLineVisible(false);
    sessionAxis->setLineVisible(false);
    chart->addAxis(xAxis, Qt::AlignBottom);
    chart->addAxis(yAxis, Qt::AlignLeft);
    chart->addAxis(sessionAxis, Qt::AlignTop);
    line = new QLineSeries;
    chart->addSeries(line);
    line->attachAxis(xAxis);
    line->attachAxis(yAxis);
    QObject::connect(line, &QLineSeries::hovered, q,
                     [this](const QPointF &p, bool state) { showTooltip(p, state); });

    view = new QChartView(chart);
    view->setObjectName(QStringLiteral("metricsChartView"));
    view->setRenderHint(QPainter::Antialiasing);
    view->setFrameShape(QFrame::NoFrame);
    stack->addWidget(view);
    layout->addWidget(stack, 1);

    redrawTimer.setSingleShot(true);
    redrawTimer.setInterval(100);
    QObject::connect(&redrawTimer, &QTimer::timeout, q, [this] { redraw(); });
    const auto later = [this] { redrawTimer.start(); };
    QObject::connect(&model, &QAbstractItemModel::modelReset, q, later);
    QObject::connect(&model, &QAbstractItemModel::rowsInserted, q, later);
    QObject::connect(&model, &QAbstractItemModel::dataChanged, q, later);
    QObject::connect(&model, &MetricSeriesModel::availableSeriesChanged, q,
                     [this] { syncSeriesCombo(); });

    QObject::connect(seriesCombo, &QComboBox::currentIndexChanged, q, [this] {
        if (updatingCombo)
            return;
        wantedSeries = seriesCombo->currentText();
        model.setSeries(wantedSeries);
    });
    QObject::connect(axisCombo, &QComboBox::currentIndexChanged, q, [this] {
        model.setXAxis(XAxis(axisCombo->currentData().toInt()));
        redrawTimer.start();
    });
    QObject::connect(chainToggle, &QCheckBox::toggled, q, [this] { loadRun(); });
    QObject::connect(deck, &Deck::metricsAdded, q,
                     [this](RunId r, SessionId s, const QList<MetricPoint> &points) {
                         onMetrics(r, s, points);
                     });
    applyPalette();
    showEmpty(tr("Select a run to see the metrics parsed from its log."));
}

void MetricsChart::Private::loadRun()
{
    if (fixed) {
        model.showSessions(fixedSessions, wantedSeries);
    } else if (run == 0) {
        model.clear();
        syncSeriesCombo();
        showEmpty(tr("Select a run to see the metrics parsed from its log."));
        return;
    } else if (chainToggle->isChecked()) {
        model.showRun(run, wantedSeries);
    } else {
        const std::optional<SessionRecord> latest = deck->store()->latestSession(run);
        model.showSessions(latest ? QList<SessionId>{latest->id} : QList<SessionId>{},
                           wantedSeries);
    }
    syncSeriesCombo();
    redraw();
}

void MetricsChart::Private::syncSeriesCombo()
{
    const QStringList names = model.availableSeries();
    QString pick = wantedSeries;
    // The run may not log the series the user looked at last; fall back to its first one
    // (loss when it has one: the model orders the common series first).
    if (!names.contains(pick))
        pick = names.isEmpty() ? QString() : names.constFirst();

    QStringList current;
    for (int i = 0; i < seriesCombo->count(); ++i)
        current.append(seriesCombo->itemText(i));
    updatingCombo = true;
    if (current != names) {
        seriesCombo->clear();
        seriesCombo->addItems(names);
    }
    seriesCombo->setCurrentIndex(int(names.indexOf(pick)));
    seriesCombo->setEnabled(!names.isEmpty());
    updatingCombo = false;

    if (model.series() != pick)
        model.setSeries(pick);
}

bool MetricsChart::Private::axisHasValues(XAxis axis) const
{
    const int column =
        axis == XAxis::Step ? MetricSeriesModel::StepColumn : MetricSeriesModel::EpochColumn;
    if (axis == XAxis::Time)
        return true;
    for (int r = 0; r < model.rowCount(); ++r) {
        const double v = model.data(model.index(r, column), MetricSeriesModel::RawRole).toDouble();
        if (axis == XAxis::Step ? v >= 0 : std::isfinite(v))
            return true;
    }
    return false;
}

void MetricsChart::Private::showEmpty(const QString &text)
{
    emptyLabel->setText(text);
    stack->setCurrentIndex(0);
    info->clear();
    line->clear();
    for (QLineSeries *s : std::as_const(boundaryLines)) {
        chart->removeSeries(s);
        delete s;
    }
    boundaryLines.clear();
}

void MetricsChart::Private::redraw()
{
    redrawTimer.stop();
    if (run == 0 && !fixed)
        return;
    const int rows = model.rowCount();
    if (fixed && model.sessions().isEmpty()) {
        showEmpty(tr("No runs yet. The series of every run is joined here, with a dashed line "
                     "where each one begins."));
        return;
    }
    if (rows == 0 || model.series().isEmpty()) {
        showEmpty(fixed ? tr("No metrics parsed from these runs' logs yet.\nKaggleDeck reads "
                             "Hugging Face Trainer, Keras, tqdm and key=value lines.")
                        : tr("No metrics parsed from this run's log yet.\nKaggleDeck reads "
                             "Hugging Face Trainer, Keras, tqdm and key=value lines."));
        return;
    }

    // A log without step numbers (Keras) or epochs would pile every point on one x; plot the
    // next axis that has values and say so.
    const XAxis chosen = XAxis(axisCombo->currentData().toInt());
    XAxis axis = chosen;
    if (!axisHasValues(axis))
        axis = axisHasValues(XAxis::Epoch) ? XAxis::Epoch : XAxis::Time;
    QString note;
    if (axis != chosen) {
        note =
            chosen == XAxis::Step ? tr("no step numbers in this log") : tr("no epochs in this log");
        QSignalBlocker block(axisCombo);
        axisCombo->setCurrentIndex(axisCombo->findData(int(axis)));
        model.setXAxis(axis);
    }

    QList<Sample> samples;
    samples.reserve(rows);
    int skipped = 0;
    for (int r = 0; r < rows; ++r) {
        const double x =
            model.data(model.index(r, MetricSeriesModel::XColumn), MetricSeriesModel::RawRole)
                .toDouble();
        const double v =
            model.data(model.index(r, MetricSeriesModel::ValueColumn), MetricSeriesModel::RawRole)
                .toDouble();
        // QtCharts drops NaN with a warning per point; leave them out and count them.
        if (!std::isfinite(x) || !std::isfinite(v)) {
            ++skipped;
            continue;
        }
        samples.append({x, v, r});
    }
    if (samples.isEmpty()) {
        showEmpty(
            tr("Every value of %1 is NaN or infinite: the run diverged.").arg(model.series()));
        return;
    }

    double xMin = samples.constFirst().x;
    double xMax = samples.constLast().x;
    double yMin = samples.constFirst().value;
    double yMax = yMin;
    for (const Sample &s : std::as_const(samples)) {
        xMin = std::min(xMin, s.x);
        xMax = std::max(xMax, s.x);
        yMin = std::min(yMin, s.value);
        yMax = std::max(yMax, s.value);
    }

    xScale = 1;
    QString xTitle;
    switch (axis) {
    case XAxis::Step:
        xTitle = tr("step");
        break;
    case XAxis::Epoch:
        xTitle = tr("epoch");
        break;
    case XAxis::Time:
        xScale = xMax - xMin > 3 * 3600 ? 3600 : 60;
        xTitle = xScale == 3600 ? tr("log time (hours)") : tr("log time (minutes)");
        break;
    }
    if (joined() && model.sessions().size() > 1)
        xTitle = tr("%1, sessions joined").arg(xTitle);

    const QList<Sample> drawn = decimate(samples, kMaxDrawnPoints);
    QList<QPointF> points;
    points.reserve(drawn.size());
    for (const Sample &s : drawn)
        points.append(QPointF(s.x / xScale, s.value));
    line->replace(points);
    line->setPointsVisible(points.size() < kDotsBelow);
    line->setName(model.series());

    double x0 = xMin / xScale;
    double x1 = xMax / xScale;
    if (x1 - x0 < 1e-9) {
        x0 -= 0.5;
        x1 += 0.5;
    }
    // Fixed ticks while the range moves (see ChartStyle::setNiceTicks).
    xAxis->setTickType(QValueAxis::TicksFixed);
    yAxis->setTickType(QValueAxis::TicksFixed);
    xAxis->setRange(x0, x1);
    xAxis->setTitleText(xTitle);
    // Ticks at round steps, epochs and steps alike; never 0.6488 or 1.127.
    ChartStyle::setNiceTicks(xAxis, std::clamp(view->width() / 110, 3, 10));
    double pad = (yMax - yMin) * 0.06;
    if (pad <= 0)
        pad = std::max(std::abs(yMax) * 0.1, 0.5);
    // A loss never goes below zero; padding must not suggest it could.
    const double yLow = yMin >= 0 && yMin - pad < 0 ? 0 : yMin - pad;
    yAxis->setRange(yLow, yMax + pad);
    ChartStyle::setNiceTicks(yAxis, std::clamp(view->height() / 70, 3, 8));
    yAxis->setTitleText(model.series());

    // Session boundaries: a dashed line each, labelled on the top axis with the session's
    // number in the run ("run 2") or in the list of setSessions() ("step 2").
    for (QLineSeries *s : std::as_const(boundaryLines)) {
        chart->removeSeries(s);
        delete s;
    }
    boundaryLines.clear();
    while (sessionAxis->count() > 0)
        sessionAxis->remove(sessionAxis->categoriesLabels().constLast());
    sessionAxis->setStartValue(x0);
    QPen dashed(ChartStyle::mutedTextColor(q->palette()));
    dashed.setStyle(Qt::DashLine);
    dashed.setWidthF(1.2);
    double lastEnd = x0;
    for (int r = 0; r < rows; ++r) {
        if (!model.data(model.index(r, 0), MetricSeriesModel::IsBoundaryRole).toBool())
            continue;
        const double bx =
            model.data(model.index(r, MetricSeriesModel::XColumn), MetricSeriesModel::RawRole)
                .toDouble() /
            xScale;
        const int session = model
                                .data(model.index(r, MetricSeriesModel::SessionIndexColumn),
                                      MetricSeriesModel::RawRole)
                                .toInt();
        auto *b = new QLineSeries;
        const QString label = boundaryLabel.arg(session + 1);
        b->setName(label);
        b->append(bx, yAxis->min());
        b->append(bx, yAxis->max());
        b->setPen(dashed);
        chart->addSeries(b);
        b->attachAxis(xAxis);
        b->attachAxis(yAxis);
        boundaryLines.append(b);
        // Category ends must grow strictly; two sessions starting at one x share a label.
        if (bx > lastEnd) {
            sessionAxis->append(label, bx);
            lastEnd = bx;
        }
    }
    sessionAxis->setRange(x0, x1);
    sessionAxis->setVisible(!boundaryLines.isEmpty());
    ChartStyle::apply(chart, q->palette());
    line->setPen(QPen(ChartStyle::seriesColor(0, q->palette()), 2));

    const double best = model.bestValue();
    QStringList parts;
    if (std::isfinite(best)) {
        parts.append(MetricSeriesModel::lowerIsBetter(model.series())
                         ? tr("lowest %1").arg(format::metricValue(best))
                         : tr("highest %1").arg(format::metricValue(best)));
    }
    parts.append(rows == 1 ? tr("1 point") : tr("%1 points").arg(rows));
    if (samples.size() != drawn.size())
        parts.append(tr("%1 drawn").arg(drawn.size()));
    if (skipped > 0)
        parts.append(tr("%1 NaN/inf not drawn").arg(skipped));
    if (!note.isEmpty())
        parts.append(note);
    info->setText(parts.join(QStringLiteral(" · ")));
    stack->setCurrentIndex(1);
}

void MetricsChart::Private::onMetrics(RunId r, SessionId session, const QList<MetricPoint> &points)
{
    if (model.sessions().contains(session) && (fixed || r == run)) {
        model.appendPoints(points);
        return;
    }
    // The list of setSessions() changes only through setSessions().
    if (fixed || r != run)
        return;
    // A new session of the run began logging: the latest-session view moves to it and the
    // chain view grows by one; both read what the store already holds. Points of an older
    // session (a replayed archive) do not pull the latest-session view back.
    if (!chainToggle->isChecked()) {
        const std::optional<SessionRecord> latest = deck->store()->latestSession(run);
        if (!latest || latest->id != session)
            return;
    }
    loadRun();
}

void MetricsChart::Private::applyPalette()
{
    const QPalette palette = q->palette();
    ChartStyle::apply(view, palette);
    line->setPen(QPen(ChartStyle::seriesColor(0, palette), 2));
    QPen dashed(ChartStyle::mutedTextColor(palette));
    dashed.setStyle(Qt::DashLine);
    dashed.setWidthF(1.2);
    for (QLineSeries *s : std::as_const(boundaryLines))
        s->setPen(dashed);
    QPalette muted = emptyLabel->palette();
    muted.setColor(QPalette::WindowText, ChartStyle::mutedTextColor(palette));
    emptyLabel->setPalette(muted);
    info->setPalette(muted);
}

void MetricsChart::Private::showTooltip(const QPointF &point, bool hovering)
{
    if (!hovering) {
        QToolTip::hideText();
        return;
    }
    const int rows = model.rowCount();
    if (rows == 0)
        return;
    // Rows are in x order: the nearest one by x is what the user points at.
    const double x = point.x() * xScale;
    int lo = 0;
    int hi = rows - 1;
    const auto xAt = [this](int r) {
        return model.data(model.index(r, MetricSeriesModel::XColumn), MetricSeriesModel::RawRole)
            .toDouble();
    };
    while (lo < hi) {
        const int mid = (lo + hi) / 2;
        if (xAt(mid) < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0 && std::abs(xAt(lo - 1) - x) < std::abs(xAt(lo) - x))
        --lo;
    const auto raw = [&](int column) {
        return model.data(model.index(lo, column), MetricSeriesModel::RawRole);
    };
    QString text = model.series() + QStringLiteral(" = ") +
                   format::metricValue(raw(MetricSeriesModel::ValueColumn).toDouble());
    QStringList where;
    if (const qint64 step = raw(MetricSeriesModel::StepColumn).toLongLong(); step >= 0)
        where.append(tr("step %1").arg(step));
    if (const double epoch = raw(MetricSeriesModel::EpochColumn).toDouble(); std::isfinite(epoch))
        where.append(tr("epoch %1").arg(QLocale().toString(epoch, 'g', 4)));
    if (model.sessions().size() > 1)
        where.append(boundaryLabel.arg(raw(MetricSeriesModel::SessionIndexColumn).toInt() + 1));
    where.append(tr("%1 into the session")
                     .arg(format::duration(raw(MetricSeriesModel::LogTimeColumn).toDouble())));
    text += u'\n' + where.join(QStringLiteral(" · "));
    QToolTip::showText(QCursor::pos(), text, view);
}

MetricsChart::MetricsChart(Deck *deck, QWidget *parent)
    : QWidget(parent), d(std::make_unique<Private>())
{
    d->q = this;
    d->deck = deck;
    d->build();
}

MetricsChart::~MetricsChart() = default;

void MetricsChart::setRun(RunId run)
{
    if (run == d->run && !d->fixed)
        return;
    d->run = run;
    d->fixed = false;
    d->fixedSessions.clear();
    d->boundaryLabel = tr("run %1");
    d->chainToggle->show();
    d->loadRun();
}

RunId MetricsChart::run() const
{
    return d->run;
}

void MetricsChart::setChainView(bool chain)
{
    d->chainToggle->setChecked(chain);
}

void MetricsChart::setSessions(const QList<SessionId> &sessions, const QString &boundaryLabel)
{
    if (d->fixed && sessions == d->fixedSessions && boundaryLabel == d->boundaryLabel &&
        !sessions.isEmpty())
        return;
    d->run = 0;
    d->fixed = true;
    d->fixedSessions = sessions;
    d->boundaryLabel = boundaryLabel;
    d->chainToggle->hide();
    d->loadRun();
}

bool MetricsChart::isShowingSessions() const
{
    return d->fixed;
}

const MetricSeriesModel *MetricsChart::model() const
{
    return &d->model;
}

bool MetricsChart::isChainView() const
{
    return d->chainToggle->isChecked();
}

QString MetricsChart::currentSeries() const
{
    return d->model.series();
}

void MetricsChart::setCurrentSeries(const QString &series)
{
    d->wantedSeries = series;
    d->syncSeriesCombo();
}

void MetricsChart::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange)
        d->applyPalette();
}

} // namespace kd
