#include "chainview.h"

#include "chainrunner.h"
#include "chartstyle.h"
#include "deck.h"
#include "format.h"
#include "metricschart.h"
#include "metricseriesmodel.h"
#include "quotaforecast.h"
#include "store.h"
#include "theme.h"

#include <QComboBox>
#include <QEvent>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QSplitter>
#include <QTableWidget>
#include <QTime>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace kd {

namespace {

using State = ChainRunner::State;

enum StepColumn {
    StepNumberColumn,
    SessionColumn,
    StateColumn,
    GpuColumn,
    CheckpointColumn,
    HandoffColumn,
    StartedColumn,
    StepColumnCount
};

bool isActive(State s)
{
    return s == State::Committing || s == State::Queued || s == State::Running ||
           s == State::HandingOff;
}

QString stateText(State s)
{
    switch (s) {
    case State::Idle:
        return ChainView::tr("Not started");
    case State::Committing:
        return ChainView::tr("Committing the next step");
    case State::Queued:
        return ChainView::tr("Queued for a GPU slot");
    case State::Running:
        return ChainView::tr("Running");
    case State::HandingOff:
        return ChainView::tr("Handing off");
    case State::Paused:
        return ChainView::tr("Paused");
    case State::Done:
        return ChainView::tr("Done");
    case State::Stopped:
        return ChainView::tr("Stopped");
    case State::Aborted:
        return ChainView::tr("Aborted");
    }
    return {};
}

QColor stateColor(State s, const QPalette &palette)
{
    switch (s) {
    case State::Done:
        return ChartStyle::stateColor(ChartStyle::StateBucket::Complete);
    case State::Stopped:
        return theme::dangerColor(palette);
    case State::Paused:
    case State::Aborted:
        return theme::warningColor(palette);
    case State::Idle:
        return theme::mutedColor(palette);
    default:
        return ChartStyle::stateColor(ChartStyle::StateBucket::Running);
    }
}

QString stepStateText(const QString &id)
{
    if (id == u"committing")
        return ChainView::tr("committing");
    if (id == u"queued")
        return ChainView::tr("queued (GPU slot)");
    if (id == u"running")
        return ChainView::tr("running");
    if (id == u"complete")
        return ChainView::tr("complete");
    if (id == u"failed")
        return ChainView::tr("failed");
    if (id == u"cancelled")
        return ChainView::tr("cancelled");
    return id;
}

} // namespace

struct ChainView::Private
{
    ChainView *q = nullptr;
    Deck *deck = nullptr;
    ChainRunner *runner = nullptr;
    ChainId id = 0;
    QTimer liveTimer;

    QComboBox *picker = nullptr;
    QLabel *stateLabel = nullptr;
    QLabel *reason = nullptr;
    QLabel *summary = nullptr;
    QLabel *actionError = nullptr;
    QPushButton *startButton = nullptr;
    QPushButton *pauseButton = nullptr;
    QPushButton *resumeButton = nullptr;
    QPushButton *abortButton = nullptr;
    QTableWidget *steps = nullptr;
    MetricsChart *metrics = nullptr;
    QLabel *bestPerStep = nullptr;
    QPlainTextEdit *log = nullptr;
    QSplitter *lower = nullptr;
    bool lowerSized = false;

    void build();
    QWidget *buildChart();
    void fillPicker();
    void load();
    void refreshHeader();
    void refreshSteps();
    void refreshSessions();
    void loadLog();
    void refreshBestPerStep();
    void act(Result<Done> (ChainRunner::*action)(ChainId));
    void applyPalette();
};

void ChainView::Private::build()
{
    q->setObjectName(QStringLiteral("chainView"));

    picker = new QComboBox(q);
    picker->setObjectName(QStringLiteral("chainPicker"));
    picker->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    picker->setMinimumContentsLength(24);
    auto *pickerLabel = new QLabel(tr("C&hain:"), q);
    pickerLabel->setBuddy(picker);
    stateLabel = new QLabel(q);
    stateLabel->setObjectName(QStringLiteral("chainState"));
    QFont bold = stateLabel->font();
    bold.setBold(true);
    stateLabel->setFont(bold);

    startButton = new QPushButton(tr("&Start"), q);
    startButton->setObjectName(QStringLiteral("chainStartButton"));
    startButton->setToolTip(tr("Commit the first step"));
    pauseButton = new QPushButton(tr("&Pause"), q);
    pauseButton->setObjectName(QStringLiteral("chainPauseButton"));
    pauseButton->setToolTip(tr("Let the current step finish and start no next one"));
    resumeButton = new QPushButton(tr("&Resume"), q);
    resumeButton->setObjectName(QStringLiteral("chainResumeButton"));
    resumeButton->setToolTip(tr("Go on with the next step"));
    abortButton = new QPushButton(tr("A&bort"), q);
    abortButton->setObjectName(QStringLiteral("chainAbortButton"));
    abortButton->setToolTip(tr("Stop the chain after the current step (a Kaggle run cannot be "
                               "cancelled through the API, so it finishes)"));
    QObject::connect(startButton, &QPushButton::clicked, q, [this] { act(&ChainRunner::start); });
    QObject::connect(pauseButton, &QPushButton::clicked, q, [this] { act(&ChainRunner::pause); });
    QObject::connect(resumeButton, &QPushButton::clicked, q, [this] { act(&ChainRunner::resume); });
    QObject::connect(abortButton, &QPushButton::clicked, q, [this] { act(&ChainRunner::abort); });

    auto *bar = new QHBoxLayout;
    bar->addWidget(pickerLabel);
    bar->addWidget(picker);
    bar->addSpacing(12);
    bar->addWidget(stateLabel);
    bar->addStretch(1);
    bar->addWidget(startButton);
    bar->addWidget(pauseButton);
    bar->addWidget(resumeButton);
    bar->addWidget(abortButton);

    reason = new QLabel(q);
    reason->setObjectName(QStringLiteral("chainReason"));
    reason->setWordWrap(true);
    reason->setTextInteractionFlags(Qt::TextSelectableByMouse);
    summary = new QLabel(q);
    summary->setObjectName(QStringLiteral("chainSummary"));
    summary->setWordWrap(true);
    summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    actionError = new QLabel(q);
    actionError->setObjectName(QStringLiteral("chainActionError"));
    actionError->setWordWrap(true);
    actionError->hide();

    steps = new QTableWidget(0, StepColumnCount, q);
    steps->setObjectName(QStringLiteral("chainSteps"));
    steps->setHorizontalHeaderLabels({tr("Step"), tr("Version"), tr("State"), tr("GPU hours"),
                                      tr("Checkpoint"), tr("Handoff"), tr("Started")});
    steps->verticalHeader()->hide();
    steps->setEditTriggers(QAbstractItemView::NoEditTriggers);
    steps->setSelectionBehavior(QAbstractItemView::SelectRows);
    steps->setAlternatingRowColors(true);
    steps->setWordWrap(false);
    QHeaderView *h = steps->horizontalHeader();
    h->setSectionResizeMode(QHeaderView::ResizeToContents);
    h->setSectionResizeMode(CheckpointColumn, QHeaderView::Stretch);
    h->setMinimumSectionSize(48);

    log = new QPlainTextEdit(q);
    log->setObjectName(QStringLiteral("chainLog"));
    log->setReadOnly(true);
    log->setLineWrapMode(QPlainTextEdit::WidgetWidth);
    log->setPlaceholderText(tr("Every decision of the chain is logged here."));

    auto *logBox = new QWidget(q);
    auto *ll = new QVBoxLayout(logBox);
    ll->setContentsMargins(0, 0, 0, 0);
    ll->addWidget(new QLabel(tr("Chain log"), logBox));
    ll->addWidget(log, 1);

    lower = new QSplitter(Qt::Horizontal, q);
    lower->addWidget(buildChart());
    lower->addWidget(logBox);
    lower->setStretchFactor(0, 1);
    lower->setStretchFactor(1, 1);
    lower->setChildrenCollapsible(false);

    auto *split = new QSplitter(Qt::Vertical, q);
    split->setObjectName(QStringLiteral("chainSplitter"));
    split->addWidget(steps);
    split->addWidget(lower);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    split->setChildrenCollapsible(false);

    auto *layout = new QVBoxLayout(q);
    layout->addLayout(bar);
    layout->addWidget(reason);
    layout->addWidget(summary);
    layout->addWidget(actionError);
    layout->addWidget(split, 1);

    QObject::connect(picker, &QComboBox::currentIndexChanged, q, [this] {
        const ChainId picked = picker->currentData().toLongLong();
        if (picked != id) {
            id = picked;
            load();
            emit q->chainChanged(id);
        }
    });
    QObject::connect(runner, &ChainRunner::chainAdded, q, [this](ChainId added) {
        fillPicker();
        if (id == 0)
            q->setChain(added);
    });
    QObject::connect(runner, &ChainRunner::stateChanged, q, [this](ChainId c, State, QString) {
        if (c == id) {
            refreshHeader();
            refreshSteps();
        }
        fillPicker();
    });
    QObject::connect(runner, &ChainRunner::stepsChanged, q, [this](ChainId c) {
        if (c != id)
            return;
        refreshSteps();
        refreshSessions();
        refreshHeader();
    });
    QObject::connect(runner, &ChainRunner::logged, q, [this](ChainId c, const QString &text) {
        if (c != id)
            return;
        log->appendPlainText(QTime::currentTime().toString(QStringLiteral("HH:mm:ss  ")) + text);
        log->verticalScrollBar()->setValue(log->verticalScrollBar()->maximum());
    });
    // GPU hours of a running step grow without any chain signal.
    liveTimer.setInterval(10'000);
    QObject::connect(&liveTimer, &QTimer::timeout, q, [this] {
        if (id != 0 && isActive(runner->state(id))) {
            refreshSteps();
            refreshHeader();
        }
    });
    liveTimer.start();
    applyPalette();
    fillPicker();
}

QWidget *ChainView::Private::buildChart()
{
    auto *box = new QWidget(q);
    metrics = new MetricsChart(deck, box);
    metrics->setObjectName(QStringLiteral("chainMetrics"));
    metrics->setMinimumHeight(200);
    metrics->setSessions({});
    // The best value of each step, as the "not improved for K runs" rule compares them.
    bestPerStep = new QLabel(box);
    bestPerStep->setObjectName(QStringLiteral("chainBestPerStep"));
    bestPerStep->setWordWrap(true);
    bestPerStep->setTextInteractionFlags(Qt::TextSelectableByMouse);
    bestPerStep->setContentsMargins(6, 0, 6, 0);
    auto *layout = new QVBoxLayout(box);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(metrics, 1);
    layout->addWidget(bestPerStep);
    const MetricSeriesModel *model = metrics->model();
    const auto refresh = [this] { refreshBestPerStep(); };
    QObject::connect(model, &QAbstractItemModel::modelReset, q, refresh);
    QObject::connect(model, &QAbstractItemModel::rowsInserted, q, refresh);
    QObject::connect(model, &QAbstractItemModel::dataChanged, q, refresh);
    return box;
}

void ChainView::Private::fillPicker()
{
    const QSignalBlocker block(picker);
    picker->clear();
    for (ChainId c : runner->chainIds()) {
        const auto chain = runner->chain(c);
        if (!chain)
            continue;
        picker->addItem(tr("%1 — %2 (%3)")
                            .arg(chain->record.name, chain->record.kernel.toString(),
                                 stateText(chain->state).toLower()),
                        c);
    }
    picker->setCurrentIndex(picker->findData(id));
    picker->setEnabled(picker->count() > 0);
}

void ChainView::Private::load()
{
    actionError->hide();
    const auto chain = runner->chain(id);
    metrics->setCurrentSeries(chain ? chain->rules.metric : QString());
    refreshHeader();
    refreshSteps();
    loadLog();
    refreshSessions();
}

void ChainView::Private::refreshHeader()
{
    const auto chain = runner->chain(id);
    if (!chain) {
        stateLabel->setText(runner->chainIds().isEmpty() ? tr("No chain yet") : QString());
        reason->setText(tr("Create a chain for a kernel to commit it again and again, handing "
                           "each run's checkpoint to the next run."));
        summary->clear();
        for (QPushButton *b : {startButton, pauseButton, resumeButton, abortButton})
            b->setEnabled(false);
        return;
    }
    const State s = chain->state;
    const QString pending = chain->progress.pending;
    QString text = stateText(s);
    if (isActive(s) && pending == u"pause")
        text += tr(" — pausing after this step");
    else if (isActive(s) && pending == u"abort")
        text += tr(" — aborting after this step");
    stateLabel->setText(text);
    QPalette p = stateLabel->palette();
    p.setColor(QPalette::WindowText, stateColor(s, q->palette()));
    stateLabel->setPalette(p);
    const QString why = runner->reason(id);
    reason->setText(why.isEmpty() ? QString() : tr("Reason: %1").arg(why));
    reason->setVisible(!why.isEmpty());

    const QuotaForecast::Usage usage = runner->usage(id);
    QStringList parts;
    QString hours = tr("Total GPU: %1").arg(format::hours(usage.gpuSeconds));
    if (usage.tpuSeconds > 0)
        hours += tr(", TPU: %1").arg(format::hours(usage.tpuSeconds));
    parts << hours;
    parts
        << (chain->steps.size() == 1
                ? tr("1 step of at most %1").arg(chain->rules.maxRuns)
                : tr("%1 steps of at most %2").arg(chain->steps.size()).arg(chain->rules.maxRuns));
    parts << (chain->handoff == ChainHandoff::Dataset
                  ? tr("handoff: dataset %1")
                        .arg(chain->progress.datasetRef.isEmpty() ? tr("(made on the first step)")
                                                                  : chain->progress.datasetRef)
                  : tr("handoff: kernel_sources"));
    parts << tr("checkpoint: %1").arg(chain->record.checkpointPattern);
    QStringList rules;
    if (chain->rules.patience > 0)
        rules << (chain->rules.patience == 1
                      ? tr("%1 not improved for 1 run").arg(chain->rules.metric)
                      : tr("%1 not improved for %2 runs")
                            .arg(chain->rules.metric)
                            .arg(chain->rules.patience));
    if (chain->rules.stopOnError)
        rules << tr("an error");
    if (chain->rules.quotaRule)
        rules << tr("quota");
    if (!rules.isEmpty())
        parts << tr("stops on: %1").arg(rules.join(QStringLiteral(", ")));
    summary->setText(parts.join(QStringLiteral(" · ")));

    startButton->setEnabled(s == State::Idle);
    startButton->setVisible(s == State::Idle);
    pauseButton->setEnabled(isActive(s) && pending.isEmpty());
    resumeButton->setEnabled(s == State::Paused);
    abortButton->setEnabled((isActive(s) || s == State::Paused || s == State::Idle) &&
                            pending != u"abort");
}

void ChainView::Private::refreshSteps()
{
    const auto chain = runner->chain(id);
    const QList<ChainStepRecord> list = chain ? chain->steps : QList<ChainStepRecord>();

    // GPU time per session, attributed as ChainRunner::usage does.
    QList<SessionRecord> sessions;
    QList<StatusEvent> events;
    for (const ChainStepRecord &s : list) {
        if (s.sessionId == 0)
            continue;
        if (auto rec = deck->store()->session(s.sessionId)) {
            rec->chainId = id;
            sessions << *rec;
            events += deck->store()->statusEvents(s.sessionId);
        }
    }
    QDateTime now = QDateTime::currentDateTimeUtc();
    for (const StatusEvent &e : std::as_const(events))
        now = std::max(now, e.at);
    const auto attribution = QuotaForecast::attribute(sessions, events, now);

    steps->setRowCount(int(list.size()));
    const QPalette palette = q->palette();
    for (int row = 0; row < list.size(); ++row) {
        const ChainStepRecord &s = list.at(row);
        const auto set = [&](int column, const QString &text, const QString &tip = {}) {
            auto *item = steps->item(row, column);
            if (!item) {
                item = new QTableWidgetItem;
                steps->setItem(row, column, item);
            }
            item->setText(text);
            item->setToolTip(tip.isEmpty() ? text : tip);
            return item;
        };
        set(StepNumberColumn, QString::number(s.step))->setTextAlignment(Qt::AlignCenter);
        QString session = QStringLiteral("—");
        QString sessionTip;
        if (s.sessionId != 0) {
            const auto rec = deck->store()->session(s.sessionId);
            session = rec && rec->versionNumber > 0 ? tr("version %1").arg(rec->versionNumber)
                                                    : tr("session %1").arg(s.sessionId);
            sessionTip = rec && rec->versionNumber > 0
                             ? tr("Version %1 of %2, KaggleDeck session %3")
                                   .arg(rec->versionNumber)
                                   .arg(chain ? chain->record.kernel.toString() : QString())
                                   .arg(s.sessionId)
                             : tr("KaggleDeck session %1").arg(s.sessionId);
        }
        set(SessionColumn, session, sessionTip);
        auto *state = set(StateColumn, stepStateText(s.state), s.note);
        if (s.state == u"failed" || s.state == u"cancelled")
            state->setForeground(theme::dangerColor(palette));
        else if (s.state == u"complete")
            state->setForeground(ChartStyle::stateColor(ChartStyle::StateBucket::Complete));
        else
            state->setData(Qt::ForegroundRole, QVariant()); // the view's own text colour
        const QuotaForecast::Usage u = attribution.perSession.value(s.sessionId);
        auto *gpu = set(GpuColumn, s.sessionId != 0 ? format::hours(u.gpuSeconds + u.tpuSeconds)
                                                    : QStringLiteral("—"));
        gpu->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);

        QString checkpoint = QStringLiteral("—");
        QString checkpointTip;
        const qsizetype at = s.note.indexOf(QStringLiteral("checkpoint: "));
        if (at >= 0) {
            QString names = s.note.mid(at + 12);
            names = names.section(QStringLiteral("; dataset version of "), 0, 0);
            checkpoint = tr("yes: %1").arg(names);
            checkpointTip = names;
        } else if (s.note.contains(QStringLiteral("checkpoint not found"))) {
            checkpoint = tr("not found");
        }
        auto *cp = set(CheckpointColumn, checkpoint, checkpointTip);
        if (checkpoint == tr("not found"))
            cp->setForeground(theme::dangerColor(palette));
        else
            cp->setData(Qt::ForegroundRole, QVariant());

        QString handoff = QStringLiteral("—");
        const qsizetype dv = s.note.indexOf(QStringLiteral("; dataset version of "));
        if (dv >= 0)
            handoff = tr("dataset %1").arg(s.note.mid(dv + 21));
        else if (at >= 0 && chain && chain->handoff == ChainHandoff::KernelSources &&
                 (row + 1 < list.size() || !isActive(chain->state)))
            handoff = row + 1 < list.size() ? tr("kernel_sources") : QStringLiteral("—");
        else if (at >= 0 && chain && chain->state == State::HandingOff && row + 1 == list.size())
            handoff = tr("in progress…");
        set(HandoffColumn, handoff);
        set(StartedColumn,
            s.startedAt.isValid() ? format::shortTime(s.startedAt) : QStringLiteral("—"),
            s.startedAt.isValid() ? QLocale().toString(s.startedAt.toLocalTime()) : QString());
    }
}

void ChainView::Private::refreshSessions()
{
    metrics->setSessions(id ? runner->sessions(id) : QList<SessionId>());
}

void ChainView::Private::loadLog()
{
    log->clear();
    if (id == 0)
        return;
    QStringList lines;
    for (const ChainLogEntry &e : runner->log(id))
        lines << e.at.toLocalTime().toString(QStringLiteral("HH:mm:ss  ")) + e.text;
    log->setPlainText(lines.join(u'\n'));
    log->verticalScrollBar()->setValue(log->verticalScrollBar()->maximum());
}

void ChainView::Private::refreshBestPerStep()
{
    const MetricSeriesModel *model = metrics->model();
    QStringList perStep;
    if (model->rowCount() > 0) {
        for (double v : model->perSessionBest())
            perStep << (std::isfinite(v) ? format::metricValue(v) : QStringLiteral("—"));
    }
    bestPerStep->setText(
        perStep.size() > 1
            ? tr("Best %1 per step: %2").arg(model->series(), perStep.join(QStringLiteral(", ")))
            : QString());
    bestPerStep->setVisible(perStep.size() > 1);
}

void ChainView::Private::act(Result<Done> (ChainRunner::*action)(ChainId))
{
    actionError->hide();
    if (id == 0)
        return;
    const Result<Done> r = (runner->*action)(id);
    if (!r) {
        actionError->setStyleSheet(
            QStringLiteral("QLabel { color: %1; }").arg(theme::dangerColor(q->palette()).name()));
        actionError->setText(r.error().message);
        actionError->show();
    }
    refreshHeader();
    refreshSteps();
    fillPicker();
}

void ChainView::Private::applyPalette()
{
    QPalette muted = summary->palette();
    muted.setColor(QPalette::WindowText, ChartStyle::mutedTextColor(q->palette()));
    summary->setPalette(muted);
    bestPerStep->setPalette(muted);
    if (id != 0) {
        refreshHeader();
        refreshSteps();
    }
}

ChainView::ChainView(Deck *deck, QWidget *parent) : QWidget(parent), d(std::make_unique<Private>())
{
    d->q = this;
    d->deck = deck;
    d->runner = deck->chains();
    d->build();
    setChain(0);
}

ChainView::~ChainView() = default;

void ChainView::setChain(ChainId id)
{
    if (id == 0 && !d->runner->chainIds().isEmpty())
        id = d->runner->chainIds().constFirst();
    d->id = id;
    d->fillPicker();
    d->load();
    emit chainChanged(id);
}

ChainId ChainView::chain() const
{
    return d->id;
}

void ChainView::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    // Chart 55 %, log 45 % of the width it really gets: a splitter weighs a resize by the sizes
    // it laid out while still unshown (its children's minimums, the chart's far larger).
    if (!d->lowerSized && d->lower->width() > 0) {
        d->lowerSized = true;
        const int w = d->lower->width();
        d->lower->setSizes({w * 11 / 20, w - w * 11 / 20});
    }
}

void ChainView::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange && d && d->bestPerStep)
        d->applyPalette();
}

} // namespace kd
