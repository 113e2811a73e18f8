#pragma once

#include "commitservice.h"
#include "domain.h"
#include "quotaforecast.h"
#include "store.h"

#include <QHash>
#include <QObject>
#include <QPointer>
#include <QString>

#include <functional>
#include <memory>
#include <optional>

namespace kd {

class Deck;
class OutputToDataset;

/// How one step's output reaches the next step.
enum class ChainHandoff {
    KernelSources, ///< the kernel lists itself in kernel_sources: nothing is copied
    Dataset,       ///< the outputs become a new version of the chain's dataset (a durable copy)
};
QString chainHandoffId(ChainHandoff handoff);
std::optional<ChainHandoff> chainHandoffFromId(const QString &id);

/// When a chain stops by itself. Stored in ChainRecord::stopRules as "key=value" lines.
struct ChainStopRules
{
    int maxRuns = 3;
    /// The issue always stops on an error; the flag exists so a future "retry" can turn it off.
    bool stopOnError = true;
    QString metric;   ///< e.g. "eval_loss"; empty: no metric rule
    int patience = 0; ///< stop when `metric` has not improved for this many runs (0: off)
    bool quotaRule = true;

    QString toText() const;
    /// Unknown keys and bad numbers keep the defaults.
    static ChainStopRules fromText(const QString &text);
    friend bool operator==(const ChainStopRules &, const ChainStopRules &) = default;
};

/// What the user fills in to create a chain.
struct ChainSpec
{
    QString name;
    KernelRef kernel;
    ChainHandoff handoff = ChainHandoff::KernelSources;
    /// A glob over the output names (OutputSelection::Glob), e.g. "checkpoint-*/model.safetensors".
    QString checkpointPattern;
    ChainStopRules rules;
    /// Dataset handoff: the slug of the dataset created on the first step (default
    /// "<kernel-slug>-chain"); its owner is the kernel's owner.
    QString datasetSlug;
};

/// Runs chains of Kaggle runs (the epoch-by-epoch strategy): when a step's session completes,
/// checks for the checkpoint, evaluates the stop rules, hands the output over and commits the
/// next step. Every decision is logged to the store and emitted. A new runner over the same
/// store picks the chains up where they were.
class ChainRunner final : public QObject
{
    Q_OBJECT
public:
    enum class State {
        Idle,       ///< created, not started
        Committing, ///< pulling the kernel and pushing the next step
        Queued,     ///< the push waits in the commit queue for a free GPU slot
        Running,    ///< the current step's session is queued or running on Kaggle
        HandingOff, ///< checking the outputs, making the dataset version
        Paused,
        Done,
        Stopped, ///< an error, a missing checkpoint or a failed handoff
        Aborted,
    };
    Q_ENUM(State)

    /// A chain as the chain view shows it.
    struct Chain
    {
        ChainRecord record;
        ChainStopRules rules;
        ChainHandoff handoff = ChainHandoff::KernelSources;
        State state = State::Idle;
        ChainProgress progress;
        QList<ChainStepRecord> steps;
    };

    /// Loads every chain from the deck's store and resumes those that were under way.
    explicit ChainRunner(Deck *deck, QObject *parent = nullptr);
    ~ChainRunner() override;

    /// Validates and stores a new chain (Idle); watches the kernel when it is not watched yet.
    Result<ChainId> create(const ChainSpec &spec);
    /// Commits the first step of an Idle chain.
    Result<Done> start(ChainId id);
    /// Lets the current step finish and starts no next one.
    Result<Done> pause(ChainId id);
    Result<Done> resume(ChainId id);
    /// Stops after the current step (a Kaggle run cannot be cancelled through the API).
    Result<Done> abort(ChainId id);

    QList<ChainId> chainIds() const;
    std::optional<Chain> chain(ChainId id) const;
    State state(ChainId id) const;
    /// Why the chain is done, stopped, paused or aborted.
    QString reason(ChainId id) const;
    QList<ChainStepRecord> steps(ChainId id) const;
    QList<ChainLogEntry> log(ChainId id) const;
    /// The steps' sessions in order: what MetricSeriesModel::showSessions stitches.
    QList<SessionId> sessions(ChainId id) const;
    /// GPU (and TPU) time of the chain's sessions, attributed by QuotaForecast.
    QuotaForecast::Usage usage(ChainId id) const;

    /// The first wait before a failed read (pulling the kernel, listing its outputs) is tried
    /// again; later waits grow linearly. Default 15 s.
    void setReadRetryDelayMs(int ms) { m_readRetryMs = ms; }

    static QString stateId(State state);
    static std::optional<State> stateFromId(const QString &id);

signals:
    void chainAdded(kd::ChainId id);
    void stateChanged(kd::ChainId id, kd::ChainRunner::State state, const QString &reason);
    void stepsChanged(kd::ChainId id);
    void logged(kd::ChainId id, const QString &text);

private:
    struct Live;
    Live *live(ChainId id);
    const Live *live(ChainId id) const;
    void resumeAfterRestart(Live &c);
    void recoverPush(Live &c);
    void setState(Live &c, State state, const QString &reason = {});
    void note(Live &c, const QString &text);
    void saveStep(Live &c, const ChainStepRecord &step);
    void saveProgress(Live &c);
    void markSession(const Live &c, SessionId session, int step);
    void commitNext(Live &c);
    void onDraft(ChainId id, int step, Result<CommitDraft> draft);
    void onCommitted(ChainId id, int step, const CommitOutcome &outcome);
    void attachSession(Live &c, int step, const CommitReceipt &receipt);
    void onTransition(RunId run, const SessionRecord &session, KernelStatus previous);
    void onStepOver(Live &c, const SessionRecord &session);
    void checkOutputs(Live &c);
    void onOutputs(ChainId id, const Result<KernelOutput> &outputs);
    void afterCheckpoint(Live &c);
    /// nullopt: go on; otherwise the state and reason to stop in.
    std::optional<std::pair<State, QString>> stopRule(Live &c);
    void handOff(Live &c);
    void onDatasetDone(ChainId id, const Result<QString> &ref);
    void onQueueDispatched(const QString &ref, const CommitReceipt &receipt);
    void onQueueFailed(const QString &ref, const QString &message);
    bool applyPending(Live &c);
    double expectedRunSeconds(const Live &c) const;
    /// Schedules `again` when `error` is passing and retries are left; false: give up.
    bool retryRead(Live &c, const ApiError &error, std::function<void()> again);

    Deck *m_deck;
    Store *m_store;
    QHash<ChainId, std::shared_ptr<Live>> m_chains;
    QList<ChainId> m_order;
    int m_readRetryMs = 15'000;
};

} // namespace kd
