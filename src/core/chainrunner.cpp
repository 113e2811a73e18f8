#include "chainrunner.h"

#include "commitqueue.h"
#include "deck.h"
#include "kaggleclient.h"
#include "logfollower.h"
#include "metricseriesmodel.h"
#include "outputtransfer.h"
#include "quotamodel.h"
#include "runmonitor.h"

#include <QLoggingCategory>
#include <QRegularExpression>
#include <QTimer>

#include <algorithm>
#include <cmath>
#include <limits>

namespace kd {

namespace {

Q_LOGGING_CATEGORY(lcChain, "kaggledeck.chain", QtInfoMsg)

using Kind = ApiError::Kind;

struct StateName
{
    ChainRunner::State state;
    QLatin1StringView id;
};
constexpr StateName stateNames[] = {
    {ChainRunner::State::Idle, QLatin1StringView("idle")},
    {ChainRunner::State::Committing, QLatin1StringView("committing")},
    {ChainRunner::State::Queued, QLatin1StringView("queued")},
    {ChainRunner::State::Running, QLatin1StringView("running")},
    {ChainRunner::State::HandingOff, QLatin1StringView("handing_off")},
    {ChainRunner::State::Paused, QLatin1StringView("paused")},
    {ChainRunner::State::Done, QLatin1StringView("done")},
    {ChainRunner::State::Stopped, QLatin1StringView("stopped")},
    {ChainRunner::State::Aborted, QLatin1StringView("aborted")},
};

const QString kPause = QStringLiteral("pause");
constexpr int kLogWaitMs = 250;
/// A read that failed for a passing reason (network, server, rate limit, a garbled answer)
/// is tried again this many times before the chain stops.
constexpr int kMaxReadRetries = 5;
constexpr int kMaxLogWaits = 240; // a minute
const QString kAbort = QStringLiteral("abort");

// A step is "busy" while Kaggle or a transfer is working for it: pause and abort then wait.
bool isBusy(ChainRunner::State s)
{
    using S = ChainRunner::State;
    return s == S::Committing || s == S::Queued || s == S::Running || s == S::HandingOff;
}

bool isFinal(ChainRunner::State s)
{
    using S = ChainRunner::State;
    return s == S::Done || s == S::Stopped || s == S::Aborted;
}

QString refreshText(const QDateTime &t)
{
    return t.isValid() ? t.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm 'UTC'"))
                       : QStringLiteral("the weekly refresh");
}

QString runs(qsizetype n)
{
    return n == 1 ? QStringLiteral("1 run") : QStringLiteral("%1 runs").arg(n);
}

bool sameRef(const QString &a, const KernelRef &b)
{
    return a.compare(b.toString(), Qt::CaseInsensitive) == 0;
}

} // namespace

QString chainHandoffId(ChainHandoff handoff)
{
    return handoff == ChainHandoff::Dataset ? QStringLiteral("dataset")
                                            : QStringLiteral("kernel_sources");
}

std::optional<ChainHandoff> chainHandoffFromId(const QString &id)
{
    if (id == u"kernel_sources")
        return ChainHandoff::KernelSources;
    if (id == u"dataset")
        return ChainHandoff::Dataset;
    return std::nullopt;
}

QString ChainStopRules::toText() const
{
    QStringList lines;
    lines << QStringLiteral("max_runs=%1").arg(maxRuns)
          << QStringLiteral("stop_on_error=%1").arg(stopOnError ? 1 : 0)
          << QStringLiteral("metric=%1").arg(metric) << QStringLiteral("patience=%1").arg(patience)
          << QStringLiteral("quota=%1").arg(quotaRule ? 1 : 0);
    return lines.join(u'\n');
}

ChainStopRules ChainStopRules::fromText(const QString &text)
{
    ChainStopRules r;
    for (const QString &line : text.split(u'\n', Qt::SkipEmptyParts)) {
        const qsizetype eq = line.indexOf(u'=');
        if (eq <= 0)
            continue;
        const QString key = line.left(eq).trimmed();
        const QString value = line.mid(eq + 1).trimmed();
        bool ok = false;
        const int n = value.toInt(&ok);
        if (key == u"metric")
            r.metric = value;
        else if (!ok)
            continue;
        else if (key == u"max_runs" && n > 0)
            r.maxRuns = n;
        else if (key == u"stop_on_error")
            r.stopOnError = n != 0;
        else if (key == u"patience" && n >= 0)
            r.patience = n;
        else if (key == u"quota")
            r.quotaRule = n != 0;
    }
    return r;
}

struct ChainRunner::Live
{
    Chain chain;
    CommitDraft draft; ///< the push waiting in the commit queue, if any
    QPointer<OutputToDataset> job;
    int logWaits = 0;
    int readRetries = 0; ///< transient read failures of the current step, in a row
};

QString ChainRunner::stateId(State state)
{
    for (const auto &n : stateNames) {
        if (n.state == state)
            return QString(n.id);
    }
    return QString();
}

std::optional<ChainRunner::State> ChainRunner::stateFromId(const QString &id)
{
    for (const auto &n : stateNames) {
        if (id == n.id)
            return n.state;
    }
    return std::nullopt;
}

ChainRunner::ChainRunner(Deck *deck, QObject *parent)
    : QObject(parent), m_deck(deck), m_store(deck->store())
{
    connect(deck->monitor(), &RunMonitor::sessionTransition, this, &ChainRunner::onTransition);
    connect(deck->commitQueue(), &CommitQueue::dispatched, this, &ChainRunner::onQueueDispatched);
    connect(deck->commitQueue(), &CommitQueue::failed, this, &ChainRunner::onQueueFailed);
    for (const ChainRecord &record : m_store->chains()) {
        auto c = std::make_shared<Live>();
        c->chain.record = record;
        c->chain.rules = ChainStopRules::fromText(record.stopRules);
        c->chain.handoff = chainHandoffFromId(record.handoff).value_or(ChainHandoff::KernelSources);
        c->chain.state = stateFromId(record.state).value_or(State::Idle);
        c->chain.progress = m_store->chainProgress(record.id);
        c->chain.steps = m_store->chainSteps(record.id);
        m_chains.insert(record.id, c);
        m_order.append(record.id);
    }
    // After the constructor, so whoever made us has connected to our signals. Only the chains
    // loaded here: one created meanwhile is under way, not interrupted.
    QTimer::singleShot(0, this, [this, loaded = m_order] {
        for (ChainId id : loaded) {
            if (Live *c = live(id); c && isBusy(c->chain.state))
                resumeAfterRestart(*c);
        }
    });
}

ChainRunner::~ChainRunner()
{
    // A transfer in flight is cancelled; its .part files stay for the handoff done again on
    // the next start.
    for (const auto &c : std::as_const(m_chains)) {
        if (c->job)
            delete c->job.data();
    }
}

ChainRunner::Live *ChainRunner::live(ChainId id)
{
    const auto it = m_chains.constFind(id);
    return it == m_chains.constEnd() ? nullptr : it->get();
}

const ChainRunner::Live *ChainRunner::live(ChainId id) const
{
    const auto it = m_chains.constFind(id);
    return it == m_chains.constEnd() ? nullptr : it->get();
}

Result<ChainId> ChainRunner::create(const ChainSpec &spec)
{
    QStringList problems;
    if (!spec.kernel.isValid())
        problems << QStringLiteral("kernel: expected owner/kernel-slug");
    if (spec.checkpointPattern.trimmed().isEmpty())
        problems << QStringLiteral("checkpoint pattern: required");
    if (spec.rules.maxRuns < 1)
        problems << QStringLiteral("stop rules: at least one run");
    if (spec.rules.patience < 0)
        problems << QStringLiteral("stop rules: the patience cannot be negative");
    if (spec.rules.patience > 0 && spec.rules.metric.trimmed().isEmpty())
        problems << QStringLiteral("stop rules: the metric rule needs a metric name");
    if (!problems.isEmpty()) {
        ApiError e = ApiError::make(Kind::Invalid, problems.first());
        e.details = problems;
        return e;
    }
    RunMonitor *monitor = m_deck->monitor();
    if (!monitor->runByRef(spec.kernel)) {
        const auto watched = monitor->watch(spec.kernel.toString());
        if (!watched)
            return watched.error();
    }
    ChainRecord record;
    record.name = spec.name.trimmed().isEmpty() ? spec.kernel.slug : spec.name.trimmed();
    record.kernel = spec.kernel;
    record.handoff = chainHandoffId(spec.handoff);
    record.checkpointPattern = spec.checkpointPattern.trimmed();
    record.stopRules = spec.rules.toText();
    record.state = stateId(State::Idle);
    record.createdAt = QDateTime::currentDateTimeUtc();
    const auto id = m_store->addChain(record);
    if (!id)
        return id.error();
    record.id = *id;
    auto c = std::make_shared<Live>();
    c->chain.record = record;
    c->chain.rules = spec.rules;
    c->chain.handoff = spec.handoff;
    if (spec.handoff == ChainHandoff::Dataset) {
        // Decided now, so every step versions the same dataset even after a restart.
        const QString slug =
            spec.datasetSlug.isEmpty() ? spec.kernel.slug + u"-chain" : spec.datasetSlug;
        c->chain.progress.datasetRef = spec.kernel.owner + u'/' + slug;
    }
    m_chains.insert(record.id, c);
    m_order.append(record.id);
    saveProgress(*c);
    note(*c,
         QStringLiteral("chain \"%1\" created on %2: %3 handoff, checkpoint %4, stop after "
                        "%5%6%7")
             .arg(record.name, spec.kernel.toString(), record.handoff, record.checkpointPattern,
                  runs(spec.rules.maxRuns),
                  spec.rules.patience > 0 ? QStringLiteral(", or when %1 has not improved for %2")
                                                .arg(spec.rules.metric, runs(spec.rules.patience))
                                          : QString(),
                  spec.rules.quotaRule ? QStringLiteral(", or when the quota runs out")
                                       : QString()));
    emit chainAdded(record.id);
    return record.id;
}

Result<Done> ChainRunner::start(ChainId id)
{
    Live *c = live(id);
    if (!c)
        return ApiError::make(Kind::NotFound, QStringLiteral("No chain with id %1").arg(id));
    if (c->chain.state != State::Idle)
        return ApiError::make(Kind::Invalid,
                              QStringLiteral("The chain \"%1\" is already %2")
                                  .arg(c->chain.record.name, stateId(c->chain.state)));
    commitNext(*c);
    return Done{};
}

Result<Done> ChainRunner::pause(ChainId id)
{
    Live *c = live(id);
    if (!c)
        return ApiError::make(Kind::NotFound, QStringLiteral("No chain with id %1").arg(id));
    if (isBusy(c->chain.state)) {
        c->chain.progress.pending = kPause;
        saveProgress(*c);
        note(*c, QStringLiteral("pause asked: the current step finishes, no next one starts"));
        return Done{};
    }
    if (c->chain.state == State::Idle) {
        setState(*c, State::Paused, QStringLiteral("paused by the user"));
        return Done{};
    }
    return ApiError::make(Kind::Invalid, QStringLiteral("The chain \"%1\" is %2")
                                             .arg(c->chain.record.name, stateId(c->chain.state)));
}

Result<Done> ChainRunner::resume(ChainId id)
{
    Live *c = live(id);
    if (!c)
        return ApiError::make(Kind::NotFound, QStringLiteral("No chain with id %1").arg(id));
    if (isBusy(c->chain.state) && c->chain.progress.pending == kPause) {
        c->chain.progress.pending.clear();
        saveProgress(*c);
        note(*c, QStringLiteral("pause withdrawn"));
        return Done{};
    }
    if (c->chain.state != State::Paused)
        return ApiError::make(
            Kind::Invalid,
            QStringLiteral("The chain \"%1\" is not paused").arg(c->chain.record.name));
    note(*c, QStringLiteral("resumed"));
    const auto &steps = c->chain.steps;
    // A pause always falls between a checked step and its handoff (or before the first step).
    if (!steps.isEmpty() && steps.last().state == u"complete")
        handOff(*c);
    else
        commitNext(*c);
    return Done{};
}

Result<Done> ChainRunner::abort(ChainId id)
{
    Live *c = live(id);
    if (!c)
        return ApiError::make(Kind::NotFound, QStringLiteral("No chain with id %1").arg(id));
    if (isFinal(c->chain.state))
        return ApiError::make(Kind::Invalid,
                              QStringLiteral("The chain \"%1\" is already %2")
                                  .arg(c->chain.record.name, stateId(c->chain.state)));
    if (c->chain.state == State::Queued) {
        // Nothing runs on Kaggle yet: take the push out of the queue and stop at once.
        CommitQueue *queue = m_deck->commitQueue();
        for (const QueuedCommit &item : queue->items()) {
            if (sameRef(item.ref, c->chain.record.kernel)) {
                queue->remove(item.id);
                break;
            }
        }
        if (!c->chain.steps.isEmpty()) {
            ChainStepRecord step = c->chain.steps.last();
            step.state = QStringLiteral("aborted");
            step.endedAt = QDateTime::currentDateTimeUtc();
            saveStep(*c, step);
        }
        setState(*c, State::Aborted, QStringLiteral("aborted by the user before the push"));
        return Done{};
    }
    if (isBusy(c->chain.state)) {
        c->chain.progress.pending = kAbort;
        saveProgress(*c);
        note(*c, QStringLiteral("abort asked: the chain stops when the current step ends "
                                "(a Kaggle run cannot be cancelled through the API)"));
        return Done{};
    }
    setState(*c, State::Aborted, QStringLiteral("aborted by the user"));
    return Done{};
}

QList<ChainId> ChainRunner::chainIds() const
{
    return m_order;
}

std::optional<ChainRunner::Chain> ChainRunner::chain(ChainId id) const
{
    const Live *c = live(id);
    return c ? std::optional(c->chain) : std::nullopt;
}

ChainRunner::State ChainRunner::state(ChainId id) const
{
    const Live *c = live(id);
    return c ? c->chain.state : State::Idle;
}

QString ChainRunner::reason(ChainId id) const
{
    const Live *c = live(id);
    return c ? c->chain.progress.reason : QString();
}

QList<ChainStepRecord> ChainRunner::steps(ChainId id) const
{
    const Live *c = live(id);
    return c ? c->chain.steps : QList<ChainStepRecord>();
}

QList<ChainLogEntry> ChainRunner::log(ChainId id) const
{
    return m_store->chainLog(id);
}

QList<SessionId> ChainRunner::sessions(ChainId id) const
{
    QList<SessionId> result;
    if (const Live *c = live(id)) {
        for (const ChainStepRecord &s : c->chain.steps) {
            if (s.sessionId != 0)
                result.append(s.sessionId);
        }
    }
    return result;
}

QuotaForecast::Usage ChainRunner::usage(ChainId id) const
{
    QList<SessionRecord> sessions;
    QList<StatusEvent> events;
    for (SessionId sid : this->sessions(id)) {
        auto s = m_store->session(sid);
        if (!s)
            continue;
        // The monitor may have written its copy without the chain id: the steps are the truth.
        s->chainId = id;
        sessions.append(*s);
        events += m_store->statusEvents(sid);
    }
    // The monitor's clock may differ from ours (a test's virtual clock); a finished session
    // must count in full whatever "now" is.
    QDateTime now = QDateTime::currentDateTimeUtc();
    for (const StatusEvent &e : std::as_const(events))
        now = std::max(now, e.at);
    for (const SessionRecord &s : std::as_const(sessions))
        now = std::max(now, s.endedAt.isValid() ? s.endedAt : now);
    const auto a = QuotaForecast::attribute(sessions, events, now);
    return a.perChain.value(id);
}

void ChainRunner::resumeAfterRestart(Live &c)
{
    const State s = c.chain.state;
    const ChainStepRecord *last = c.chain.steps.isEmpty() ? nullptr : &c.chain.steps.last();
    note(c, QStringLiteral("picked up after a restart (%1)").arg(stateId(s)));
    if ((s == State::Running || s == State::Committing) && last && last->sessionId != 0) {
        const auto session = m_store->session(last->sessionId);
        if (session && session->isOver()) {
            // It ended while KaggleDeck was closed, and the monitor stored that already.
            setState(c, State::Running);
            onStepOver(c, *session);
        } else if (s != State::Running) {
            setState(c, State::Running);
        }
        return;
    }
    if (s == State::Committing) {
        recoverPush(c);
        return;
    }
    if (s == State::HandingOff) {
        // Checked again from the outputs; a dataset version made just before the restart is
        // versioned once more rather than lost.
        checkOutputs(c);
        return;
    }
    // Queued: the commit queue survives the restart and dispatches by itself; Running: the
    // monitor reports the session's end.
}

void ChainRunner::recoverPush(Live &c)
{
    // Closed while pushing: whether the push went out is not known. The step notes the version
    // it pushed over; if Kaggle has a later one now, that is this step's run.
    static const QRegularExpression pushingOver(QStringLiteral("^pushing over version (\\d+)$"));
    const ChainStepRecord last = c.chain.steps.isEmpty() ? ChainStepRecord() : c.chain.steps.last();
    const auto match = pushingOver.match(last.note);
    if (!match.hasMatch()) {
        commitNext(c); // the push had not started
        return;
    }
    const qint64 base = match.captured(1).toLongLong();
    const ChainId id = c.chain.record.id;
    m_deck->client()->getKernel(
        c.chain.record.kernel, this, [this, id, base, step = last.step](Result<KernelPull> pull) {
            Live *c = live(id);
            if (!c || c->chain.state != State::Committing)
                return;
            if (!pull) {
                if (retryRead(*c, pull.error(), [this, id] {
                        if (Live *c = live(id); c && c->chain.state == State::Committing)
                            recoverPush(*c);
                    }))
                    return;
                setState(*c, State::Stopped,
                         QStringLiteral("step %1: could not tell whether its push went out "
                                        "before the restart: %2")
                             .arg(QString::number(step), pull.error().message));
                return;
            }
            const qint64 version = pull->metadata.currentVersionNumber;
            const std::optional<RunId> run = m_deck->monitor()->runByRef(c->chain.record.kernel);
            if (version <= base || !run) {
                note(*c, QStringLiteral("step %1: the push before the restart did not go out; "
                                        "pushing again")
                             .arg(step));
                commitNext(*c);
                return;
            }
            note(*c, QStringLiteral("step %1: the push before the restart went out (version %2)")
                         .arg(QString::number(step), QString::number(version)));
            // The monitor may have seen the new run already (a session not over); otherwise it
            // is told about the push, as after any commit.
            const RunState *state = m_deck->monitor()->state(*run);
            if (!state || !state->session || state->session->isOver())
                m_deck->monitor()->notePush(*run, version, pull->metadata.machineShape);
            CommitReceipt receipt;
            receipt.ref = c->chain.record.kernel.toString();
            receipt.versionNumber = version;
            receipt.runId = *run;
            attachSession(*c, step, receipt);
        });
}

void ChainRunner::setState(Live &c, State state, const QString &reason)
{
    const bool changed = c.chain.state != state || c.chain.progress.reason != reason;
    c.chain.state = state;
    c.chain.record.state = stateId(state);
    c.chain.progress.reason = reason;
    if (isFinal(state) || state == State::Paused)
        c.chain.progress.pending.clear();
    if (auto r = m_store->updateChain(c.chain.record); !r)
        qCWarning(lcChain) << "chain state not stored:" << r.error().message;
    saveProgress(c);
    if (!changed)
        return;
    if (!reason.isEmpty())
        note(c, QStringLiteral("%1: %2").arg(stateId(state), reason));
    emit stateChanged(c.chain.record.id, state, reason);
}

void ChainRunner::note(Live &c, const QString &text)
{
    qCInfo(lcChain).noquote() << c.chain.record.name << text;
    if (auto r = m_store->addChainLog({c.chain.record.id, QDateTime::currentDateTimeUtc(), text});
        !r)
        qCWarning(lcChain) << "chain log not stored:" << r.error().message;
    emit logged(c.chain.record.id, text);
}

void ChainRunner::saveStep(Live &c, const ChainStepRecord &step)
{
    auto &steps = c.chain.steps;
    if (!steps.isEmpty() && steps.last().step == step.step)
        steps.last() = step;
    else
        steps.append(step);
    if (auto r = m_store->saveChainStep(step); !r)
        qCWarning(lcChain) << "chain step not stored:" << r.error().message;
    emit stepsChanged(c.chain.record.id);
}

void ChainRunner::saveProgress(Live &c)
{
    if (auto r = m_store->setChainProgress(c.chain.record.id, c.chain.progress); !r)
        qCWarning(lcChain) << "chain progress not stored:" << r.error().message;
}

void ChainRunner::markSession(const Live &c, SessionId session, int step)
{
    auto s = m_store->session(session);
    if (!s || (s->chainId == c.chain.record.id && s->chainStep == step))
        return;
    if (auto r = m_deck->monitor()->markSessionChain(session, c.chain.record.id, step); !r)
        qCWarning(lcChain) << "session not marked:" << r.error().message;
}

void ChainRunner::commitNext(Live &c)
{
    auto &steps = c.chain.steps;
    // A step that never got its session (a failed or restarted push) is pushed again.
    const int step =
        !steps.isEmpty() && steps.last().sessionId == 0 ? steps.last().step : int(steps.size()) + 1;
    ChainStepRecord record;
    record.chainId = c.chain.record.id;
    record.step = step;
    record.runId = m_deck->monitor()->runByRef(c.chain.record.kernel).value_or(0);
    record.state = QStringLiteral("committing");
    record.startedAt = QDateTime::currentDateTimeUtc();
    saveStep(c, record);
    setState(c, State::Committing);
    note(c, QStringLiteral("step %1: pulling %2 to commit it")
                .arg(QString::number(step), c.chain.record.kernel.toString()));
    const ChainId id = c.chain.record.id;
    QPointer<ChainRunner> self(this);
    m_deck->commits()->prepareFromKernel(c.chain.record.kernel,
                                         [self, id, step](Result<CommitDraft> draft) {
                                             if (self)
                                                 self->onDraft(id, step, std::move(draft));
                                         });
}

void ChainRunner::onDraft(ChainId id, int step, Result<CommitDraft> draft)
{
    Live *c = live(id);
    if (!c || c->chain.state != State::Committing)
        return;
    if (!draft) {
        if (retryRead(*c, draft.error(), [this, id] {
                if (Live *c = live(id); c && c->chain.state == State::Committing)
                    commitNext(*c);
            }))
            return;
        setState(*c, State::Stopped,
                 QStringLiteral("step %1 could not be prepared: %2")
                     .arg(QString::number(step), draft.error().message));
        return;
    }
    c->readRetries = 0;
    CommitDraft d = std::move(draft).value();
    if (d.request.kernelExecutionType == KernelExecutionType::QuickSave ||
        d.request.kernelExecutionType == KernelExecutionType::Unspecified)
        d.request.kernelExecutionType = KernelExecutionType::SaveAndRunAll;
    if (step > 1) {
        if (c->chain.handoff == ChainHandoff::KernelSources) {
            const QString self = c->chain.record.kernel.toString();
            if (!d.request.kernelDataSources.contains(self, Qt::CaseInsensitive))
                d.request.kernelDataSources.append(self);
        } else if (!c->chain.progress.datasetRef.isEmpty() &&
                   !d.request.datasetDataSources.contains(c->chain.progress.datasetRef,
                                                          Qt::CaseInsensitive)) {
            d.request.datasetDataSources.append(c->chain.progress.datasetRef);
        }
    }
    c->draft = d;
    // Written before the push: after a crash mid-push, a version above this one tells that the
    // push went out (resumeAfterRestart), so the step is not pushed twice.
    // (Kaggle always reports the version; without one there is nothing to compare with.)
    if (d.pulledVersion > 0) {
        ChainStepRecord pushing = c->chain.steps.last();
        pushing.note = QStringLiteral("pushing over version %1").arg(d.pulledVersion);
        saveStep(*c, pushing);
    }
    note(*c, QStringLiteral("step %1: pushing%2")
                 .arg(QString::number(step),
                      step == 1 ? QString()
                      : c->chain.handoff == ChainHandoff::KernelSources
                          ? QStringLiteral(" with the kernel's previous output as input")
                          : QStringLiteral(" with %1 as input").arg(c->chain.progress.datasetRef)));
    QPointer<ChainRunner> self(this);
    m_deck->commits()->commit(d, [self, id, step](CommitOutcome outcome) {
        if (self)
            self->onCommitted(id, step, outcome);
    });
}

void ChainRunner::onCommitted(ChainId id, int step, const CommitOutcome &outcome)
{
    Live *c = live(id);
    if (!c || c->chain.state != State::Committing)
        return;
    switch (outcome.status) {
    case CommitOutcome::Status::Pushed:
        attachSession(*c, step, outcome.receipt);
        return;
    case CommitOutcome::Status::GpuLimitReached: {
        const auto queued = m_deck->commitQueue()->enqueue(c->draft, outcome.gpuSessionLimit);
        if (!queued) {
            setState(*c, State::Stopped,
                     QStringLiteral("step %1 could not be queued: %2")
                         .arg(QString::number(step), queued.error().message));
            return;
        }
        ChainStepRecord record = c->chain.steps.last();
        record.state = QStringLiteral("queued");
        saveStep(*c, record);
        setState(*c, State::Queued);
        note(*c, QStringLiteral("step %1: all %2 GPU slots are busy; queued until one frees up")
                     .arg(QString::number(step), QString::number(outcome.gpuSessionLimit)));
        return;
    }
    case CommitOutcome::Status::Invalid:
    case CommitOutcome::Status::Failed:
        break;
    }
    ChainStepRecord record = c->chain.steps.last();
    record.state = QStringLiteral("failed");
    record.endedAt = QDateTime::currentDateTimeUtc();
    record.note = outcome.error ? outcome.error->message : QString();
    saveStep(*c, record);
    setState(*c, State::Stopped,
             QStringLiteral("step %1 could not be committed: %2")
                 .arg(QString::number(step), record.note));
}

void ChainRunner::attachSession(Live &c, int step, const CommitReceipt &receipt)
{
    const RunState *run = m_deck->monitor()->state(receipt.runId);
    ChainStepRecord record = c.chain.steps.last();
    record.runId = receipt.runId;
    record.sessionId = run && run->session ? run->session->id : 0;
    record.state = QStringLiteral("running");
    record.note = QStringLiteral("version %1").arg(receipt.versionNumber);
    saveStep(c, record);
    if (record.sessionId != 0)
        markSession(c, record.sessionId, step);
    setState(c, State::Running);
    note(c, QStringLiteral("step %1: committed as version %2")
                .arg(QString::number(step), QString::number(receipt.versionNumber)));
}

void ChainRunner::onTransition(RunId, const SessionRecord &session, KernelStatus)
{
    for (ChainId id : std::as_const(m_order)) {
        Live *c = live(id);
        for (const ChainStepRecord &step : c->chain.steps) {
            // Written again after every transition: the monitor stores its own copy of the
            // session, which does not know the step.
            if (step.sessionId == session.id)
                markSession(*c, session.id, step.step);
        }
        if (c->chain.state == State::Running && !c->chain.steps.isEmpty() &&
            c->chain.steps.last().sessionId == session.id && session.isOver())
            onStepOver(*c, session);
    }
}

void ChainRunner::onStepOver(Live &c, const SessionRecord &session)
{
    ChainStepRecord step = c.chain.steps.last();
    step.endedAt = session.endedAt.isValid() ? session.endedAt : QDateTime::currentDateTimeUtc();
    const QString number = QString::number(step.step);
    if (session.status == KernelStatus::Complete) {
        step.state = QStringLiteral("complete");
        saveStep(c, step);
        note(c, QStringLiteral("step %1: the run completed").arg(number));
        checkOutputs(c);
        return;
    }
    const bool cancelled = session.status == KernelStatus::CancelAcknowledged ||
                           session.status == KernelStatus::CancelRequested;
    step.state = cancelled ? QStringLiteral("cancelled") : QStringLiteral("failed");
    step.note = session.failureMessage;
    saveStep(c, step);
    const QString why = session.failureMessage.isEmpty()
                            ? (cancelled ? QStringLiteral("cancelled") : QStringLiteral("error"))
                            : session.failureMessage;
    if (cancelled || c.chain.rules.stopOnError) {
        setState(c, State::Stopped,
                 cancelled ? QStringLiteral("step %1 was cancelled").arg(number)
                           : QStringLiteral("step %1 failed: %2").arg(number, why));
        return;
    }
    note(c, QStringLiteral("step %1 failed (%2); the chain goes on").arg(number, why));
    if (auto stop = stopRule(c)) {
        setState(c, stop->first, stop->second);
        return;
    }
    if (!applyPending(c))
        commitNext(c);
}

bool ChainRunner::retryRead(Live &c, const ApiError &error, std::function<void()> again)
{
    const bool passing = error.retriable() || error.kind == ApiError::Kind::Protocol;
    if (!passing || c.readRetries >= kMaxReadRetries)
        return false;
    ++c.readRetries;
    const int delayMs = m_readRetryMs * c.readRetries;
    note(c, QStringLiteral("a request failed (%1); trying again in %2 s")
                .arg(error.message, QString::number(delayMs / 1000.0)));
    QTimer::singleShot(delayMs, this, std::move(again));
    return true;
}

void ChainRunner::checkOutputs(Live &c)
{
    setState(c, State::HandingOff);
    const ChainId id = c.chain.record.id;
    m_deck->client()->listKernelSessionOutput(
        c.chain.record.kernel, this,
        [this, id](Result<KernelOutput> outputs) { onOutputs(id, outputs); });
}

void ChainRunner::onOutputs(ChainId id, const Result<KernelOutput> &outputs)
{
    Live *c = live(id);
    if (!c || c->chain.state != State::HandingOff)
        return;
    ChainStepRecord step = c->chain.steps.last();
    const QString number = QString::number(step.step);
    if (!outputs) {
        if (retryRead(*c, outputs.error(), [this, id] {
                if (Live *c = live(id); c && c->chain.state == State::HandingOff)
                    checkOutputs(*c);
            }))
            return;
        setState(*c, State::Stopped,
                 QStringLiteral("step %1: the outputs could not be listed: %2")
                     .arg(number, outputs.error().message));
        return;
    }
    c->readRetries = 0;
    OutputSelection selection;
    selection.mode = OutputSelection::Mode::Glob;
    selection.pattern = c->chain.record.checkpointPattern;
    const auto found = OutputToDataset::select(outputs->files, selection);
    if (!found || found->isEmpty()) {
        step.note = QStringLiteral("checkpoint not found");
        saveStep(*c, step);
        setState(*c, State::Stopped,
                 QStringLiteral("checkpoint not found: %1").arg(c->chain.record.checkpointPattern));
        return;
    }
    QStringList names;
    for (const OutputFile &f : *found)
        names << f.fileName;
    step.note = QStringLiteral("checkpoint: %1").arg(names.join(QStringLiteral(", ")));
    saveStep(*c, step);
    note(*c, QStringLiteral("step %1: checkpoint found (%2)")
                 .arg(number, names.join(QStringLiteral(", "))));
    c->logWaits = 0;
    afterCheckpoint(*c);
}

void ChainRunner::afterCheckpoint(Live &c)
{
    // The metric rule reads the points parsed from the log, which may still be arriving when
    // the status poll sees the run complete: wait (bounded) for the log follower to finish.
    const ChainStepRecord &step = c.chain.steps.last();
    const bool metricRule = c.chain.rules.patience > 0 && !c.chain.rules.metric.isEmpty();
    RunMonitor *monitor = m_deck->monitor();
    if (metricRule && monitor->settings().followLogs && step.runId != 0 &&
        c.logWaits < kMaxLogWaits) {
        const auto mode = monitor->logFollower()->mode(step.runId);
        if (mode != LogFollower::Mode::Done && mode != LogFollower::Mode::Idle) {
            ++c.logWaits;
            const ChainId id = c.chain.record.id;
            QTimer::singleShot(kLogWaitMs, this, [this, id] {
                if (Live *chain = live(id); chain && chain->chain.state == State::HandingOff)
                    afterCheckpoint(*chain);
            });
            return;
        }
    }
    if (auto stop = stopRule(c)) {
        setState(c, stop->first, stop->second);
        return;
    }
    if (applyPending(c))
        return;
    handOff(c);
}

std::optional<std::pair<ChainRunner::State, QString>> ChainRunner::stopRule(Live &c)
{
    const ChainStopRules &rules = c.chain.rules;
    const auto &steps = c.chain.steps;
    if (steps.size() >= rules.maxRuns)
        return std::pair(State::Done, QStringLiteral("%1 done").arg(runs(steps.size())));

    if (rules.patience > 0 && !rules.metric.isEmpty()) {
        QList<SessionId> completed;
        for (const ChainStepRecord &s : steps) {
            if (s.sessionId != 0 && s.state == u"complete")
                completed.append(s.sessionId);
        }
        MetricSeriesModel model;
        model.setStore(m_store);
        model.showSessions(completed, rules.metric);
        const bool lower = MetricSeriesModel::lowerIsBetter(rules.metric);
        double best = std::numeric_limits<double>::quiet_NaN();
        int since = 0;
        // A run without a value of the metric (its log not followed) neither improves nor
        // counts against the patience.
        for (double v : model.perSessionBest()) {
            if (!std::isfinite(v))
                continue;
            if (std::isnan(best) || (lower ? v < best : v > best)) {
                best = v;
                since = 0;
            } else {
                ++since;
            }
        }
        if (since >= rules.patience)
            return std::pair(State::Done, QStringLiteral("%1 has not improved for %2")
                                              .arg(rules.metric, runs(rules.patience)));
    }

    if (rules.quotaRule) {
        QString shape;
        for (const ChainStepRecord &s : steps) {
            if (const auto session = m_store->session(s.sessionId))
                shape = session->machineShape;
        }
        const Accelerator accelerator = acceleratorOf(shape);
        if (accelerator != Accelerator::None) {
            m_deck->refreshQuota();
            const auto forecast = m_deck->quotaModel()->forecast(accelerator);
            const double expected = expectedRunSeconds(c);
            if (forecast)
                qCDebug(lcChain) << "quota rule:" << forecast->remainingAfterSeconds
                                 << "s left after the planned runs, a run takes" << expected
                                 << "s; source" << int(forecast->source);
            if (forecast && forecast->remainingAfterSeconds < expected)
                return std::pair(
                    State::Paused,
                    QStringLiteral("the %1 quota cannot cover another run before %2 (%3 left, "
                                   "a run takes up to %4)")
                        .arg(accelerator == Accelerator::Tpu ? QStringLiteral("TPU")
                                                             : QStringLiteral("GPU"),
                             refreshText(forecast->refreshTime),
                             QuotaForecast::formatHours(
                                 std::max(0.0, forecast->remainingAfterSeconds)),
                             QuotaForecast::formatHours(expected)));
        }
    }
    return std::nullopt;
}

double ChainRunner::expectedRunSeconds(const Live &c) const
{
    const QDateTime now = QDateTime::currentDateTimeUtc();
    double longest = 0;
    std::optional<SessionRecord> last;
    for (const ChainStepRecord &s : c.chain.steps) {
        const auto session = m_store->session(s.sessionId);
        if (!session)
            continue;
        last = session;
        longest = std::max(longest, QuotaForecast::runningSeconds(
                                        m_store->statusEvents(s.sessionId),
                                        session->endedAt.isValid() ? session->endedAt : now));
    }
    if (longest > 0)
        return longest;
    return last ? QuotaForecast::runCapSeconds(acceleratorOf(last->machineShape),
                                               last->timeoutSeconds)
                : QuotaForecast::kGpuRunCapSeconds;
}

bool ChainRunner::applyPending(Live &c)
{
    const QString number = QString::number(c.chain.steps.size());
    if (c.chain.progress.pending == kAbort) {
        setState(c, State::Aborted,
                 QStringLiteral("aborted by the user after step %1").arg(number));
        return true;
    }
    if (c.chain.progress.pending == kPause) {
        setState(c, State::Paused, QStringLiteral("paused by the user after step %1").arg(number));
        return true;
    }
    return false;
}

void ChainRunner::handOff(Live &c)
{
    const QString number = QString::number(c.chain.steps.size());
    if (c.chain.handoff == ChainHandoff::KernelSources) {
        note(
            c,
            QStringLiteral("step %1: handoff through kernel_sources (nothing copied)").arg(number));
        commitNext(c);
        return;
    }
    setState(c, State::HandingOff);
    bool versioned = false;
    for (const ChainStepRecord &s : std::as_const(c.chain.steps))
        versioned = versioned || s.note.contains(QStringLiteral("dataset version"));
    const auto ref = KernelRef::parse(c.chain.progress.datasetRef);
    OutputToDatasetRequest request;
    request.source = c.chain.record.kernel;
    request.selection.mode = OutputSelection::Mode::All;
    request.isPrivate = true;
    if (versioned) {
        request.target = DatasetTargetKind::NewVersion;
        request.datasetRef = c.chain.progress.datasetRef;
        request.versionNotes =
            QStringLiteral("Step %1 of the chain %2").arg(number, c.chain.record.name);
    } else {
        request.target = DatasetTargetKind::NewDataset;
        request.slug = ref ? ref->slug : c.chain.record.kernel.slug + u"-chain";
        request.title = QString(c.chain.record.name + QStringLiteral(" checkpoints")).left(50);
    }
    OutputToDataset::Options options;
    options.dataDir = m_deck->dataDir();
    options.pollInitialMs = 500;
    options.pollMaxMs = 5'000;
    auto *job = new OutputToDataset(m_deck->client(), options, this);
    c.job = job;
    const ChainId id = c.chain.record.id;
    connect(job, &OutputToDataset::logged, this, [this, id](const QString &line) {
        if (Live *chain = live(id))
            note(*chain, QStringLiteral("dataset: %1").arg(line));
    });
    connect(job, &OutputToDataset::finished, this, [this, id, job](const Result<QString> &ref) {
        job->deleteLater();
        onDatasetDone(id, ref);
    });
    note(c, versioned ? QStringLiteral("step %1: copying the outputs into a new version of %2")
                            .arg(number, c.chain.progress.datasetRef)
                      : QStringLiteral("step %1: copying the outputs into the new dataset %2")
                            .arg(number, c.chain.progress.datasetRef));
    job->start(request);
}

void ChainRunner::onDatasetDone(ChainId id, const Result<QString> &ref)
{
    Live *c = live(id);
    if (!c || c->chain.state != State::HandingOff)
        return;
    c->job.clear();
    ChainStepRecord step = c->chain.steps.last();
    const QString number = QString::number(step.step);
    if (!ref) {
        setState(*c, State::Stopped,
                 QStringLiteral("step %1: the dataset handoff failed: %2")
                     .arg(number, ref.error().message));
        return;
    }
    c->chain.progress.datasetRef = *ref;
    saveProgress(*c);
    step.note += QStringLiteral("; dataset version of %1").arg(*ref);
    saveStep(*c, step);
    note(*c, QStringLiteral("step %1: %2 is ready").arg(number, *ref));
    if (applyPending(*c))
        return;
    commitNext(*c);
}

void ChainRunner::onQueueDispatched(const QString &ref, const CommitReceipt &receipt)
{
    for (ChainId id : std::as_const(m_order)) {
        Live *c = live(id);
        if (c->chain.state == State::Queued && sameRef(ref, c->chain.record.kernel)) {
            note(*c, QStringLiteral("a GPU slot freed up: the queued step was pushed"));
            attachSession(*c, c->chain.steps.last().step, receipt);
            return;
        }
    }
}

void ChainRunner::onQueueFailed(const QString &ref, const QString &message)
{
    for (ChainId id : std::as_const(m_order)) {
        Live *c = live(id);
        if (c->chain.state == State::Queued && sameRef(ref, c->chain.record.kernel)) {
            setState(*c, State::Stopped,
                     QStringLiteral("step %1 could not be committed from the queue: %2")
                         .arg(QString::number(c->chain.steps.last().step), message));
            return;
        }
    }
}

} // namespace kd
