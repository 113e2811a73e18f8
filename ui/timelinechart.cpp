#include "timelinechart.h"

#include "chartstyle.h"
#include "deck.h"
#include "format.h"
#include "store.h"

#include <QAreaSeries>
#include <QCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QCursor>
#include <QDateTimeAxis>
#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLocale>
#include <QScrollArea>
#include <QSet>
#include <QStackedWidget>
#include <QTimer>
#include <QTimeZone>
#include <QToolTip>
#include <QVBoxLayout>

#include <algorithm>
#include <array>
#include <cmath>

namespace kd {

namespace {

using Bucket = ChartStyle::StateBucket;

/// One coloured bar of a lane.
struct Interval
{
    SessionId session = 0;
    qint64 version = 0;
    KernelStatus status = KernelStatus::Queued;
    QDateTime start;
    QDateTime end;     ///< exact end; equals start for a terminal state
    bool open = false; ///< still in this state now
    double x0 = 0;     ///< drawn extent in ms since the epoch (terminal states get a cap)
    double x1 = 0;
};

struct Lane
{
    RunId run = 0;
    QString title;
    QString ref;
    QList<Interval> intervals;
};

constexpr double kBarHalfHeight = 0.32;
constexpr int kLanePixels = 28;
/// Few runs should not turn into fat slabs; the lanes stay this thin and the rest stays empty.
constexpr int kMaxLanePixels = 46;
constexpr qint64 kMinSpanMs = 60'000;
// A session that started before the window still shows its state at the window start, so
// events are read this much earlier than the window and clipped afterwards.
constexpr qint64 kLookBehindSeconds = 2 * 24 * 3600;

} // namespace

struct TimelineChart::Private
{
    TimelineChart *q = nullptr;
    Deck *deck = nullptr;
    QList<RunId> runs;

    QComboBox *rangeCombo = nullptr;
    QLabel *summary = nullptr;
    QStackedWidget *stack = nullptr;
    QLabel *emptyLabel = nullptr;
    QScrollArea *scroll = nullptr;
    QChartView *view = nullptr;
    QChart *chart = nullptr;
    QDateTimeAxis *xAxis = nullptr;
    QCategoryAxis *yAxis = nullptr;
    std::array<QAreaSeries *, ChartStyle::kStateBucketCount> series{};
    QLineSeries *nowLine = nullptr;

    QList<Lane> lanes;
    QTimer rebuildTimer;
    QTimer clockTimer;
    bool dirty = true;
    qint64 dataFirst = 0; ///< ms since the epoch: the earliest state shown
    qint64 dataLast = 0;  ///< now, when the lanes were built

    void build();
    void scheduleRebuild();
    void rebuild();
    QList<Lane> collect(const QDateTime &since, const QDateTime &now) const;
    void applyPalette();
    void layoutTimeAxis();
    void showTooltip(const QPointF &value, bool hovering);
};

void TimelineChart::Private::build()
{
    auto *layout = new QVBoxLayout(q);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(4);

    auto *bar = new QHBoxLayout;
    bar->setContentsMargins(6, 4, 6, 0);
    summary = new QLabel(q);
    summary->setObjectName(QStringLiteral("timelineSummary"));
    bar->addWidget(summary, 1);
    auto *rangeLabel = new QLabel(tr("Show:"), q);
    rangeCombo = new QComboBox(q);
    rangeCombo->setObjectName(QStringLiteral("timelineRangeCombo"));
    rangeCombo->addItem(tr("Last hour"), 3600);
    rangeCombo->addItem(tr("Last 24 hours"), 24 * 3600);
    rangeCombo->addItem(tr("Last 7 days"), 7 * 24 * 3600);
    rangeCombo->addItem(tr("Everything"), 0);
    rangeCombo->setCurrentIndex(2);
    rangeCombo->setToolTip(tr("How far back the timeline reaches; it fits itself to the "
                              "state changes inside this range."));
    rangeLabel->setBuddy(rangeCombo);
    bar->addWidget(rangeLabel);
    bar->addWidget(rangeCombo);
    layout->addLayout(bar);

    stack = new QStackedWidget(q);
    emptyLabel = new QLabel(q);
    emptyLabel->setObjectName(QStringLiteral("timelineEmptyLabel"));
    emptyLabel->setAlignment(Qt::AlignCenter);
    emptyLabel->setWordWrap(true);
    emptyLabel->setMargin(24);
    stack->addWidget(emptyLabel);

    chart = new QChart;
    chart->setMargins(QMargins(4, 4, 12, 4));
    chart->legend()->setAlignment(Qt::AlignTop);
    chart->legend()->setShowToolTips(true);
    xAxis = new QDateTimeAxis;
    xAxis->setTitleText(QString());
    yAxis = new QCategoryAxis;
    yAxis->setLabelsPosition(QCategoryAxis::AxisLabelsPositionCenter);
    yAxis->setGridLineVisible(true);
    // Time on top, next to the legend: with many runs the lanes scroll and a bottom axis
    // would scroll out of sight first.
    chart->addAxis(xAxis, Qt::AlignTop);
    chart->addAxis(yAxis, Qt::AlignLeft);

    // One area per state, each a set of rectangles joined by zero-area "bridges" to a common
    // origin below the lanes: QtCharts ignores NaN gaps, and one series per interval would
    // mean hundreds of graphics items (and legend entries) for 100 runs.
    for (int i = 0; i < ChartStyle::kStateBucketCount; ++i) {
        const auto bucket = Bucket(i);
        auto *upper = new QLineSeries(chart);
        auto *area = new QAreaSeries(upper);
        area->setName(ChartStyle::stateName(bucket));
        area->setPen(Qt::NoPen);
        area->setBrush(ChartStyle::stateColor(bucket));
        chart->addSeries(area);
        area->attachAxis(xAxis);
        area->attachAxis(yAxis);
        QObject::connect(area, &QAreaSeries::hovered, q,
                         [this](const QPointF &point, bool state) { showTooltip(point, state); });
        series[std::size_t(i)] = area;
    }
    // "Now": open bars end here, and the axis may reach a little past it to a round time.
    nowLine = new QLineSeries(chart);
    nowLine->setName(tr("now"));
    chart->addSeries(nowLine);
    nowLine->attachAxis(xAxis);
    nowLine->attachAxis(yAxis);
    for (QLegendMarker *marker : chart->legend()->markers(nowLine))
        marker->setVisible(false);

    view = new QChartView(chart);
    view->setObjectName(QStringLiteral("timelineChartView"));
    view->setRenderHint(QPainter::Antialiasing);
    view->setFrameShape(QFrame::NoFrame);
    view->installEventFilter(q);
    scroll = new QScrollArea(q);
    scroll->setWidgetResizable(true);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setWidget(view);
    stack->addWidget(scroll);
    layout->addWidget(stack, 1);

    rebuildTimer.setSingleShot(true);
    rebuildTimer.setInterval(150);
    QObject::connect(&rebuildTimer, &QTimer::timeout, q, [this] { rebuild(); });
    // "Now" moves: open intervals grow and the axis follows.
    clockTimer.setInterval(30'000);
    QObject::connect(&clockTimer, &QTimer::timeout, q, [this] { scheduleRebuild(); });
    clockTimer.start();

    QObject::connect(rangeCombo, &QComboBox::currentIndexChanged, q, [this] { rebuild(); });
    RunMonitor *monitor = deck->monitor();
    QObject::connect(monitor, &RunMonitor::sessionTransition, q, [this] { scheduleRebuild(); });
    QObject::connect(monitor, &RunMonitor::runAdded, q, [this] { scheduleRebuild(); });
    QObject::connect(monitor, &RunMonitor::runRemoved, q, [this] { scheduleRebuild(); });
    applyPalette();
}

void TimelineChart::Private::scheduleRebuild()
{
    dirty = true;
    if (q->isVisible())
        rebuildTimer.start();
}

QList<Lane> TimelineChart::Private::collect(const QDateTime &since, const QDateTime &now) const
{
    RunMonitor *monitor = deck->monitor();
    Store *store = deck->store();
    QList<RunId> ids = runs.isEmpty() ? monitor->runIds() : runs;

    QList<Lane> out;
    QHash<SessionId, int> laneOfSession;
    QHash<SessionId, qint64> versionOf;
    for (RunId id : ids) {
        const RunState *state = monitor->state(id);
        if (!state)
            continue;
        Lane lane;
        lane.run = id;
        lane.ref = state->run.ref.toString();
        lane.title = state->run.title.isEmpty() ? lane.ref : state->run.title;
        for (const SessionRecord &s : store->sessions(id)) {
            laneOfSession.insert(s.id, int(out.size()));
            versionOf.insert(s.id, s.versionNumber);
        }
        out.append(lane);
    }

    const QDateTime readFrom = since.isValid() ? since.addSecs(-kLookBehindSeconds) : QDateTime();
    // Per lane, per session (in order of first appearance): the session's events.
    QList<QList<QList<StatusEvent>>> grouped(out.size());
    QHash<SessionId, QPair<int, int>> slot;
    for (const StatusEvent &e : store->statusEventsSince(readFrom)) {
        const auto lane = laneOfSession.constFind(e.sessionId);
        if (lane == laneOfSession.constEnd() || !e.at.isValid())
            continue;
        auto it = slot.find(e.sessionId);
        if (it == slot.end()) {
            grouped[*lane].append(QList<StatusEvent>());
            it = slot.insert(e.sessionId, {*lane, int(grouped[*lane].size() - 1)});
        }
        grouped[it->first][it->second].append(e);
    }

    for (qsizetype l = 0; l < out.size(); ++l) {
        QList<QList<StatusEvent>> &sessions = grouped[l];
        std::sort(sessions.begin(), sessions.end(),
                  [](const auto &a, const auto &b) { return a.first().at < b.first().at; });
        for (qsizetype s = 0; s < sessions.size(); ++s) {
            const QList<StatusEvent> &events = sessions[s];
            const QDateTime nextSession =
                s + 1 < sessions.size() ? sessions[s + 1].first().at : QDateTime();
            for (qsizetype i = 0; i < events.size(); ++i) {
                const StatusEvent &e = events[i];
                // Repeated observations of one state extend it rather than start a new bar.
                if (i > 0 && events[i - 1].status == e.status)
                    continue;
                qsizetype next = i + 1;
                while (next < events.size() && events[next].status == e.status)
                    ++next;
                Interval iv;
                iv.session = e.sessionId;
                iv.version = versionOf.value(e.sessionId);
                iv.status = e.status;
                iv.start = e.at;
                if (next < events.size()) {
                    iv.end = events[next].at;
                } else if (isTerminal(e.status)) {
                    iv.end = e.at;
                } else {
                    // The last state of an unfinished session lasts until now, unless a later
                    // session of the run took over (the monitor missed the end).
                    iv.open = !nextSession.isValid();
                    iv.end = nextSession.isValid() ? std::min(nextSession, now) : now;
                }
                if (iv.end < iv.start)
                    iv.end = iv.start;
                if (since.isValid() && iv.end < since && !isTerminal(e.status))
                    continue;
                if (since.isValid() && isTerminal(e.status) && iv.start < since)
                    continue;
                out[l].intervals.append(iv);
            }
        }
    }
    return out;
}

void TimelineChart::Private::rebuild()
{
    dirty = false;
    rebuildTimer.stop();
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const qint64 window = rangeCombo->currentData().toLongLong();
    const QDateTime since = window > 0 ? now.addSecs(-window) : QDateTime();
    lanes = collect(since, now);

    qint64 first = now.toMSecsSinceEpoch();
    int intervalCount = 0;
    for (const Lane &lane : std::as_const(lanes)) {
        for (const Interval &iv : lane.intervals) {
            qint64 start = iv.start.toMSecsSinceEpoch();
            if (since.isValid())
                start = std::max(start, since.toMSecsSinceEpoch());
            first = std::min(first, start);
            ++intervalCount;
        }
    }

    const int runCount = int(lanes.size());
    if (runCount == 0 || intervalCount == 0) {
        if (runCount == 0) {
            emptyLabel->setText(tr("No state changes recorded yet.\nWatch a run and its states "
                                   "(queued, running, finished) appear here over time."));
        } else if (since.isValid()) {
            emptyLabel->setText(tr("No state changes recorded yet in this range.\nChoose a "
                                   "longer range above, or wait for your runs to change state."));
        } else {
            emptyLabel->setText(tr("No state changes recorded yet.\nThe timeline fills in as "
                                   "KaggleDeck sees your runs queue, run and finish."));
        }
        summary->setText(tr("Runs: %1").arg(runCount));
        stack->setCurrentIndex(0);
        for (QAreaSeries *area : series)
            area->upperSeries()->clear();
        nowLine->clear();
        return;
    }

    const qint64 last = now.toMSecsSinceEpoch();
    const qint64 span = std::max(last - first, kMinSpanMs);
    const double minX = double(last - span);
    // Terminal states are instants; a cap a little wider than a pixel keeps them visible
    // at every zoom without hiding the bar before them.
    const double cap = std::max(1000.0, double(span) * 0.012);

    std::array<QList<QPointF>, ChartStyle::kStateBucketCount> points;
    const QPointF origin(minX, -1.0);
    const auto addRect = [&](QList<QPointF> &poly, double x0, double x1, double y) {
        const QPointF a(x0, y - kBarHalfHeight);
        poly << origin << a << QPointF(x1, y - kBarHalfHeight) << QPointF(x1, y + kBarHalfHeight)
             << QPointF(x0, y + kBarHalfHeight) << a;
    };

    const QFontMetrics metrics(q->font());
    QStringList labels;
    QSet<QString> usedLabels;
    for (const Lane &lane : std::as_const(lanes)) {
        QString label = metrics.elidedText(lane.title, Qt::ElideMiddle, 200);
        // QCategoryAxis needs unique labels; two runs may share a title.
        if (usedLabels.contains(label))
            label = metrics.elidedText(lane.title + QStringLiteral(" (") + lane.ref + u')',
                                       Qt::ElideMiddle, 240);
        while (usedLabels.contains(label))
            label += QChar(0x200b);
        usedLabels.insert(label);
        labels.append(label);
    }
    while (yAxis->count() > 0)
        yAxis->remove(yAxis->categoriesLabels().constLast());
    yAxis->setStartValue(-0.5);
    // Categories go bottom-up (their end values must grow); the first run is the top lane.
    for (int l = runCount - 1; l >= 0; --l)
        yAxis->append(labels[l], runCount - 1 - l + 0.5);

    for (int l = 0; l < runCount; ++l) {
        Lane &lane = lanes[l];
        const double y = runCount - 1 - l;
        // Merged per state so overlapping caps never cancel out under the odd-even fill.
        std::array<QList<QPair<double, double>>, ChartStyle::kStateBucketCount> rects;
        for (Interval &iv : lane.intervals) {
            iv.x0 = std::max(double(iv.start.toMSecsSinceEpoch()), minX);
            iv.x1 = isTerminal(iv.status) ? iv.x0 + cap
                                          : std::max(double(iv.end.toMSecsSinceEpoch()), iv.x0);
            if (iv.x1 - iv.x0 < cap / 8) // still a visible sliver for a very short state
                iv.x1 = iv.x0 + cap / 8;
            rects[std::size_t(ChartStyle::bucketOf(iv.status))].append({iv.x0, iv.x1});
        }
        for (std::size_t b = 0; b < rects.size(); ++b) {
            auto &list = rects[b];
            std::sort(list.begin(), list.end());
            QPair<double, double> cur{0, -1};
            for (const auto &r : list) {
                if (cur.second >= cur.first && r.first <= cur.second) {
                    cur.second = std::max(cur.second, r.second);
                    continue;
                }
                if (cur.second >= cur.first)
                    addRect(points[b], cur.first, cur.second, y);
                cur = r;
            }
            if (cur.second >= cur.first)
                addRect(points[b], cur.first, cur.second, y);
        }
    }
    for (std::size_t b = 0; b < points.size(); ++b) {
        if (!points[b].isEmpty())
            points[b] << origin;
        series[b]->upperSeries()->replace(points[b]);
    }

    yAxis->setRange(-0.5, runCount - 0.5);
    dataFirst = last - span;
    dataLast = last;
    layoutTimeAxis();
    nowLine->replace({QPointF(double(last), -0.5), QPointF(double(last), runCount - 0.5)});

    // Short spans need a faster clock or the open bars lag visibly behind "now".
    clockTimer.setInterval(int(std::clamp<qint64>(span / 200, 1000, 30'000)));

    // Lanes keep a readable height; many runs scroll instead of squeezing.
    view->setMinimumHeight(runCount * kLanePixels + 110);
    view->setMaximumHeight(runCount * kMaxLanePixels + 130);
    summary->setText(
        tr("Runs: %1 · the last %2").arg(runCount).arg(format::duration(double(span) / 1000.0)));
    stack->setCurrentIndex(1);
}

void TimelineChart::Private::layoutTimeAxis()
{
    if (dataLast <= dataFirst)
        return;
    // QDateTimeAxis spaces its ticks evenly between min and max; a range aligned to a round
    // step (in local time) turns "13:17:30, 14:56:18" into "13:00, 15:00".
    static constexpr std::array<qint64, 19> steps = {
        10,   15,    30,    60,    120,   300,       600,       900,        1800,      3600,
        7200, 10800, 21600, 43200, 86400, 2 * 86400, 7 * 86400, 14 * 86400, 28 * 86400};
    const int ticks = std::clamp(view->width() / 120, 3, 10);
    const qint64 span = dataLast - dataFirst;
    qint64 step = steps.back() * 1000;
    for (qint64 s : steps) {
        if (span / (s * 1000) < ticks - 1) {
            step = s * 1000;
            break;
        }
    }
    const qint64 offset = qint64(QDateTime::fromMSecsSinceEpoch(dataFirst).offsetFromUtc()) * 1000;
    const auto floorTo = [&](qint64 ms) {
        const qint64 local = ms + offset;
        return (local >= 0 ? local / step : (local - step + 1) / step) * step - offset;
    };
    const qint64 lo = floorTo(dataFirst);
    qint64 hi = floorTo(dataLast) + step;
    xAxis->setRange(QDateTime::fromMSecsSinceEpoch(lo, QTimeZone::utc()),
                    QDateTime::fromMSecsSinceEpoch(hi, QTimeZone::utc()));
    xAxis->setTickCount(int((hi - lo) / step) + 1);
    if (step < 60'000)
        xAxis->setFormat(QStringLiteral("HH:mm:ss"));
    else if (step < 86'400'000)
        xAxis->setFormat(span > 20 * 3600'000LL ? QStringLiteral("ddd HH:mm")
                                                : QStringLiteral("HH:mm"));
    else
        xAxis->setFormat(QStringLiteral("ddd d MMM"));
}

void TimelineChart::Private::applyPalette()
{
    const QPalette palette = q->palette();
    ChartStyle::apply(view, palette);
    // Below a short chart the scroll area shows through; it must match the chart's base.
    QPalette base = scroll->viewport()->palette();
    base.setColor(QPalette::Window, palette.color(QPalette::Base));
    scroll->viewport()->setPalette(base);
    scroll->viewport()->setAutoFillBackground(true);
    QPalette muted = emptyLabel->palette();
    muted.setColor(QPalette::WindowText, ChartStyle::mutedTextColor(palette));
    emptyLabel->setPalette(muted);
    // Lane separators, not a grid: they should guide the eye without competing with bars.
    QPen lanePen(ChartStyle::gridColor(palette));
    yAxis->setGridLinePen(lanePen);
    QPen nowPen(ChartStyle::mutedTextColor(palette), 1, Qt::DashLine);
    nowLine->setPen(nowPen);
}

void TimelineChart::Private::showTooltip(const QPointF &value, bool hovering)
{
    if (!hovering) {
        QToolTip::hideText();
        return;
    }
    const int runCount = int(lanes.size());
    const int l = runCount - 1 - int(std::lround(value.y()));
    if (l < 0 || l >= runCount)
        return;
    const Lane &lane = lanes[l];
    const double x = value.x();
    const Interval *hit = nullptr;
    for (const Interval &iv : lane.intervals) {
        if (x >= iv.x0 && x <= iv.x1)
            hit = &iv; // the later one wins where a cap overlaps the next bar
    }
    if (!hit)
        return;
    const QLocale locale;
    const auto when = [&](const QDateTime &t) {
        return locale.toString(t.toLocalTime(), QStringLiteral("ddd d MMM HH:mm:ss"));
    };
    QString text = lane.title;
    if (lane.title != lane.ref)
        text += QStringLiteral(" (") + lane.ref + u')';
    text += u'\n';
    text += hit->version > 0
                ? tr("%1 · version %2").arg(ChartStyle::statusText(hit->status)).arg(hit->version)
                : ChartStyle::statusText(hit->status);
    text += u'\n';
    if (isTerminal(hit->status)) {
        text += tr("at %1").arg(when(hit->start));
    } else {
        const double seconds = double(hit->start.msecsTo(hit->end)) / 1000.0;
        text += hit->open
                    ? tr("since %1 (%2 so far)").arg(when(hit->start), format::duration(seconds))
                    : tr("%1 → %2 (%3)")
                          .arg(when(hit->start), when(hit->end), format::duration(seconds));
    }
    QToolTip::showText(QCursor::pos(), text, view);
}

TimelineChart::TimelineChart(Deck *deck, QWidget *parent)
    : QWidget(parent), d(std::make_unique<Private>())
{
    d->q = this;
    d->deck = deck;
    d->build();
}

TimelineChart::~TimelineChart() = default;

void TimelineChart::setRuns(const QList<RunId> &runs)
{
    if (runs == d->runs && !d->dirty)
        return;
    d->runs = runs;
    d->scheduleRebuild();
}

void TimelineChart::refresh()
{
    d->rebuild();
}

void TimelineChart::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange)
        d->applyPalette();
}

void TimelineChart::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    if (d->dirty)
        d->rebuild();
}

bool TimelineChart::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == d->view && event->type() == QEvent::Resize)
        d->layoutTimeAxis();
    return QWidget::eventFilter(watched, event);
}

} // namespace kd
