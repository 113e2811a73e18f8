#pragma once

// Deterministic training logs for a simulated session. Events are produced lazily as virtual
// time passes, so a long or fast run costs memory only for what has been emitted, and the same
// seed yields the same events however the time is sliced.

#include "scenario.h"

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace kd::sim {

/// One chunk of a kernel's output, as Kaggle persists it: {stream_name, time, data}.
struct LogEvent
{
    double time = 0; ///< seconds since the session started running
    bool isStderr = false;
    std::string data;
};

/// Everything that shapes one session's log.
struct LogPlan
{
    uint64_t seed = 1;
    double runSeconds = 120; ///< planned run length
    double endAt = 120;      ///< when the run really stops (timeout may cut it short)
    Outcome outcome = Outcome::Complete;
    bool timedOut = false;
    double failAt = 0.6;
    int epochs = 1;
    int stepsPerEpoch = 500;
    LogStyle style = LogStyle::HuggingFace;
    double eventsPerSecond = 2;
    std::string machineShape;
    std::vector<std::string> inputs; ///< mounted sources, e.g. "alice/llama-ft-epoch-1"
    bool resumesFromKernel = false;
    std::string exception;
    double baseLoss = 0;
    int overfitAfterEpoch = 0;
};

/// Last traceback line when a failing run's scenario names no exception.
std::string defaultException();

/// Loss curve shared by the log lines and the generated trainer_state.json.
struct LossModel
{
    explicit LossModel(const LogPlan &plan);
    double train(double progress) const; ///< progress in epochs, with per-call noise
    double trainAt(double progress, uint64_t noiseKey) const;
    double eval(int epoch) const;
    double accuracy(double loss) const;

    uint64_t seed;
    double base;
    double floor;
    int overfitAfterEpoch;
};

/// Produces a session's events in time order, on demand.
class LogGenerator final
{
public:
    explicit LogGenerator(LogPlan plan);

    /// Appends every not-yet-produced event with time <= t to out.
    void produceUntil(double t, std::vector<LogEvent> &out);
    bool finished() const { return m_done; }
    /// Run-relative times at which each epoch's checkpoint is saved.
    const std::vector<double> &checkpointTimes() const { return m_checkpointTimes; }
    int epochsCompletedBy(double t) const;
    const LogPlan &plan() const { return m_plan; }
    const LossModel &loss() const { return m_loss; }

private:
    enum class Phase { Setup, EpochStart, Progress, EpochEnd, Finish, Done };

    void refill();
    void push(double time, bool isStderr, std::string data);
    void pushTerminal();
    double epochStart(int epoch) const;
    std::string progressLine(int index);

    LogPlan m_plan;
    LossModel m_loss;
    std::deque<LogEvent> m_pending;
    std::vector<double> m_checkpointTimes;
    Phase m_phase = Phase::Setup;
    int m_epoch = 1;
    int m_index = 0;
    int m_eventsPerEpoch = 2;
    double m_setupEnd = 0;
    double m_trainStart = 0;
    double m_epochSeconds = 1;
    double m_cutAt = 0; ///< events after this are replaced by the terminal block
    double m_lastTime = 0;
    uint64_t m_counter = 0;
    bool m_done = false;
};

} // namespace kd::sim
