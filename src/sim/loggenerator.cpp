#include "loggenerator.h"

#include "simutil.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace kd::sim {
namespace {

std::string format(const char *fmt, auto... args)
{
    char buffer[512];
    std::snprintf(buffer, sizeof buffer, fmt, args...);
    return buffer;
}

/// Python's f"{n:,}", as the Trainer prints its counts.
std::string thousands(long long n)
{
    std::string digits = std::to_string(n);
    for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3)
        digits.insert(static_cast<size_t>(i), ",");
    return digits;
}

/// tqdm's clock: "01:07" or "1:02:03".
std::string clockText(double seconds)
{
    const auto s = static_cast<long long>(std::max(0.0, seconds));
    if (s >= 3600)
        return format("%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
    return format("%02lld:%02lld", s / 60, s % 60);
}

/// tqdm's bar: ten cells of full blocks and one partial eighth-block.
std::string tqdmBar(double fraction)
{
    static const char *partials[] = {" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
    const double cells = std::clamp(fraction, 0.0, 1.0) * 10.0;
    const int full = static_cast<int>(cells);
    std::string bar;
    for (int i = 0; i < full; ++i)
        bar += "█";
    if (full < 10) {
        bar += partials[static_cast<int>((cells - full) * 8)];
        bar += std::string(static_cast<size_t>(9 - full), ' ');
    }
    return bar;
}

std::string kerasBar(double fraction)
{
    const int width = 30;
    const int done = static_cast<int>(std::clamp(fraction, 0.0, 1.0) * width);
    if (done >= width)
        return std::string(width, '=');
    std::string bar(static_cast<size_t>(std::max(0, done - 1)), '=');
    bar += '>';
    bar += std::string(static_cast<size_t>(width - static_cast<int>(bar.size())), '.');
    return bar;
}

std::string deviceLine(const std::string &shape)
{
    if (shape.empty())
        return "Using device: cpu\n";
    if (shape == "NvidiaTeslaT4" || shape == "NvidiaTeslaT4Highmem")
        return "Using device: cuda (2 x Tesla T4, 15.0 GiB each)\n";
    if (shape == "NvidiaTeslaP100")
        return "Using device: cuda (Tesla P100-PCIE-16GB)\n";
    if (shape.rfind("Tpu", 0) == 0)
        return "Running on TPU with 8 replicas (" + shape + ")\n";
    return "Using device: cuda (" + shape + ")\n";
}

constexpr const char *kDefaultException =
    "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total "
    "capacity of 14.74 GiB of which 1.12 GiB is free. Process 4218 has 13.62 GiB memory in use.";

} // namespace

std::string defaultException()
{
    return kDefaultException;
}

LossModel::LossModel(const LogPlan &plan)
    : seed(mix64(plan.seed ^ 0x10550001ULL)), base(plan.baseLoss),
      overfitAfterEpoch(plan.overfitAfterEpoch)
{
    if (base <= 0)
        base = 0.7 + 1.6 * Rng(seed).uniform();
    floor = base * 0.18;
}

double LossModel::trainAt(double progress, uint64_t noiseKey) const
{
    const double clean = floor + (base - floor) * std::exp(-1.3 * progress);
    const double noise = Rng(mix64(seed ^ noiseKey)).normal() * 0.04;
    return std::max(0.001, clean * (1.0 + noise));
}

double LossModel::train(double progress) const
{
    return trainAt(progress, static_cast<uint64_t>(progress * 1e6));
}

double LossModel::eval(int epoch) const
{
    double loss = trainAt(epoch, 0xe0a1000ULL + static_cast<uint64_t>(epoch)) * 1.06;
    if (overfitAfterEpoch > 0 && epoch > overfitAfterEpoch)
        loss += 0.09 * base * (epoch - overfitAfterEpoch);
    return loss;
}

double LossModel::accuracy(double loss) const
{
    const double quality = 1.0 - (loss - floor) / (base - floor);
    return std::clamp(0.55 + 0.42 * quality, 0.5, 0.995);
}

LogGenerator::LogGenerator(LogPlan plan) : m_plan(std::move(plan)), m_loss(m_plan)
{
    const double run = std::max(1.0, m_plan.runSeconds);
    m_setupEnd = std::clamp(run * 0.1, std::min(3.0, run * 0.5), 25.0);
    m_trainStart = m_setupEnd;
    const bool dies = m_plan.outcome != Outcome::Complete;
    // A failing or cancelled run dies part-way through its plan, so stretch the plan such that
    // the end of the run falls `failAt` of the way through training.
    const double trainEnd = dies ? m_trainStart + (run - m_trainStart) / m_plan.failAt
                                 : m_trainStart + (run * 0.93 - m_trainStart);
    const int epochs = std::max(1, m_plan.epochs);
    m_epochSeconds = std::max(0.01, (trainEnd - m_trainStart) / epochs);
    const double rate = std::max(0.001, m_plan.eventsPerSecond);
    m_eventsPerEpoch = std::max(2, static_cast<int>(std::lround(rate * m_epochSeconds * 0.8)));
    for (int e = 1; e <= epochs; ++e)
        m_checkpointTimes.push_back(epochStart(e) + m_epochSeconds * 0.985);
    m_cutAt = dies || m_plan.timedOut ? m_plan.endAt : std::numeric_limits<double>::infinity();
}

double LogGenerator::epochStart(int epoch) const
{
    return m_trainStart + (epoch - 1) * m_epochSeconds;
}

int LogGenerator::epochsCompletedBy(double t) const
{
    const double limit = std::min(t, m_cutAt);
    return static_cast<int>(std::count_if(m_checkpointTimes.begin(), m_checkpointTimes.end(),
                                          [limit](double c) { return c <= limit; }));
}

void LogGenerator::push(double time, bool isStderr, std::string data)
{
    // A sub-millisecond jitter makes the times look measured; the max keeps them ordered.
    const double jitter = Rng(mix64(m_plan.seed ^ ++m_counter)).uniform() * 0.0009;
    m_lastTime = std::max(m_lastTime, time + jitter);
    m_pending.push_back({m_lastTime, isStderr, std::move(data)});
}

void LogGenerator::produceUntil(double t, std::vector<LogEvent> &out)
{
    while (!m_done) {
        if (m_pending.empty())
            refill();
        if (m_pending.empty())
            continue;
        if (m_pending.front().time > m_cutAt) {
            m_pending.clear();
            pushTerminal();
            m_cutAt = std::numeric_limits<double>::infinity();
            m_phase = Phase::Done;
            continue;
        }
        if (m_pending.front().time > t)
            return;
        out.push_back(std::move(m_pending.front()));
        m_pending.pop_front();
        if (m_pending.empty() && m_phase == Phase::Done)
            m_done = true;
    }
}

void LogGenerator::pushTerminal()
{
    const double at = m_plan.endAt;
    if (m_plan.timedOut || m_plan.outcome == Outcome::Cancel)
        return;
    const bool keras = m_plan.style == LogStyle::Keras;
    const std::string exception = m_plan.exception.empty() ? defaultException() : m_plan.exception;
    const std::vector<std::string> lines = {
        "Traceback (most recent call last):\n",
        "  File \"/kaggle/working/train.py\", line 214, in <module>\n",
        keras ? "    history = model.fit(\n" : "    trainer.train()\n",
        keras ? "  File \"/usr/local/lib/python3.10/dist-packages/keras/src/utils/"
                "traceback_utils.py\", line 122, in error_handler\n"
              : "  File \"/usr/local/lib/python3.10/dist-packages/transformers/trainer.py\", "
                "line 1938, in train\n",
        keras ? "    raise e.with_traceback(filtered_tb) from None\n"
              : "    return inner_training_loop(\n",
        "  File \"/usr/local/lib/python3.10/dist-packages/torch/nn/modules/module.py\", line "
        "1532, in _wrapped_call_impl\n",
        "    return self._call_impl(*args, **kwargs)\n",
        exception + "\n",
    };
    for (const auto &line : lines)
        push(at, true, line);
}

std::string LogGenerator::progressLine(int index)
{
    const int epochs = std::max(1, m_plan.epochs);
    const int steps = m_plan.stepsPerEpoch;
    const double fraction = static_cast<double>(index + 1) / m_eventsPerEpoch;
    const int step = std::max(1, static_cast<int>(std::lround(fraction * steps)));
    const double progress = (m_epoch - 1) + static_cast<double>(step) / steps;
    const double loss = m_loss.trainAt(progress, static_cast<uint64_t>(m_epoch) * 1000003ULL +
                                                     static_cast<uint64_t>(index));
    const double elapsed = fraction * m_epochSeconds * 0.95;
    const double perSecond = step / std::max(0.001, elapsed);
    const double remaining = (steps - step) / std::max(0.001, perSecond);
    switch (m_plan.style) {
    case LogStyle::HuggingFace: {
        // The Trainer shows one bar over all optimisation steps.
        const int total = steps * epochs;
        const int globalStep = (m_epoch - 1) * steps + step;
        const double globalFraction = static_cast<double>(globalStep) / total;
        const double globalElapsed = (m_epoch - 1) * m_epochSeconds + elapsed;
        const double globalRemaining = (total - globalStep) / std::max(0.001, perSecond);
        return format("\r%3d%%|%s| %d/%d [%s<%s, %5.2fit/s]",
                      static_cast<int>(globalFraction * 100), tqdmBar(globalFraction).c_str(),
                      globalStep, total, clockText(globalElapsed).c_str(),
                      clockText(globalRemaining).c_str(), perSecond);
    }
    case LogStyle::Tqdm:
        return format("\r%3d%%|%s| %d/%d [%s<%s, %5.2fit/s, loss=%.3f]",
                      static_cast<int>(fraction * 100), tqdmBar(fraction).c_str(), step, steps,
                      clockText(elapsed).c_str(), clockText(remaining).c_str(), perSecond, loss);
    case LogStyle::Keras:
        return format("\r%*d/%d [%s] - ETA: %llds - loss: %.4f - accuracy: %.4f",
                      static_cast<int>(std::to_string(steps).size()), step, steps,
                      kerasBar(fraction).c_str(), static_cast<long long>(remaining), loss,
                      m_loss.accuracy(loss));
    case LogStyle::Plain:
        return format("epoch=%d step=%d/%d loss=%.4f lr=%.2e\n", m_epoch, step, steps, loss,
                      2e-5 * (1.0 - progress / epochs));
    }
    return {};
}

void LogGenerator::refill()
{
    const int epochs = std::max(1, m_plan.epochs);
    const bool hf = m_plan.style == LogStyle::HuggingFace;
    switch (m_phase) {
    case Phase::Setup: {
        std::vector<std::pair<bool, std::string>> lines = {
            {false, "Collecting peft==0.11.1\n"},
            {false, "  Downloading peft-0.11.1-py3-none-any.whl.metadata (13 kB)\n"},
            {false, "Downloading peft-0.11.1-py3-none-any.whl (251 kB)\n"},
            {false, "Installing collected packages: peft\n"},
            {false, "Successfully installed peft-0.11.1\n"},
            {true, "WARNING: Running pip as the 'root' user can result in broken permissions and "
                   "conflicting behaviour with the system package manager. It is recommended to "
                   "use a virtual environment instead: https://pip.pypa.io/warnings/venv\n"},
        };
        for (const auto &input : m_plan.inputs)
            lines.push_back({false, "/kaggle/input/" + input.substr(input.find('/') + 1) + "\n"});
        if (m_plan.resumesFromKernel && !m_plan.inputs.empty())
            lines.push_back(
                {false, "Resuming from checkpoint in /kaggle/input/" +
                            m_plan.inputs.front().substr(m_plan.inputs.front().find('/') + 1) +
                            "\n"});
        lines.push_back({false, deviceLine(m_plan.machineShape)});
        if (m_plan.style == LogStyle::Keras) {
            lines.push_back({true, "WARNING: All log messages before absl::InitializeLog() is "
                                   "called are written to STDERR\n"});
        } else {
            lines.push_back(
                {true, "/usr/local/lib/python3.10/dist-packages/transformers/training_args.py:"
                       "1525: FutureWarning: `evaluation_strategy` is deprecated and will be "
                       "removed in version 4.46 of \xF0\x9F\xA4\x97 Transformers. Use "
                       "`eval_strategy` instead\n  warnings.warn(\n"});
            lines.push_back({true, "Some weights of BertForSequenceClassification were not "
                                   "initialized from the model checkpoint at bert-base-uncased "
                                   "and are newly initialized: ['classifier.bias', "
                                   "'classifier.weight']\nYou should probably TRAIN this model "
                                   "on a down-stream task to be able to use it for predictions "
                                   "and inference.\n"});
        }
        if (hf) {
            lines.push_back({false, "***** Running training *****\n"});
            lines.push_back({false, "  Num examples = 25,000\n"});
            lines.push_back({false, format("  Num Epochs = %d\n", epochs)});
            lines.push_back({false, "  Instantaneous batch size per device = 16\n"});
            lines.push_back({false, "  Total optimization steps = " +
                                        thousands(epochs * m_plan.stepsPerEpoch) + "\n"});
        }
        const double first = std::min(2.5 + Rng(m_plan.seed).uniform() * 3.0, m_setupEnd * 0.5);
        const double span = std::max(0.0, m_setupEnd * 0.95 - first);
        for (size_t i = 0; i < lines.size(); ++i)
            push(first + span * static_cast<double>(i) / static_cast<double>(lines.size()),
                 lines[i].first, lines[i].second);
        m_phase = Phase::EpochStart;
        return;
    }
    case Phase::EpochStart:
        if (m_plan.style == LogStyle::Keras)
            push(epochStart(m_epoch), false, format("Epoch %d/%d\n", m_epoch, epochs));
        m_index = 0;
        m_phase = Phase::Progress;
        return;
    case Phase::Progress: {
        const double t =
            epochStart(m_epoch) + m_epochSeconds * 0.95 * (m_index + 1) / (m_eventsPerEpoch + 0.0);
        const bool last = m_index + 1 == m_eventsPerEpoch;
        std::string line = progressLine(m_index);
        // tqdm and Keras end the line only when the bar completes.
        if (last && m_plan.style != LogStyle::Plain && m_plan.style != LogStyle::Keras &&
            !(hf && m_epoch < epochs))
            line += "\n";
        push(t, m_plan.style != LogStyle::Keras && m_plan.style != LogStyle::Plain, line);
        const int every = std::max(1, m_eventsPerEpoch / 6);
        if (hf && (m_index + 1) % every == 0) {
            const double fraction = static_cast<double>(m_index + 1) / m_eventsPerEpoch;
            const double progress = (m_epoch - 1) + fraction;
            const double loss = m_loss.trainAt(progress, 0xd1c7000ULL + m_counter);
            const double lr = 2e-5 * (1.0 - progress / epochs);
            const double gradNorm = 0.8 + 3.0 * Rng(mix64(m_plan.seed ^ m_counter)).uniform();
            push(t + 0.01, false,
                 format("{'loss': %.4f, 'grad_norm': %.4f, 'learning_rate': %s, 'epoch': %s}\n",
                        loss, gradNorm, formatNumber(lr).c_str(),
                        formatNumber(std::round(progress * 100) / 100).c_str()));
        }
        if (++m_index >= m_eventsPerEpoch)
            m_phase = Phase::EpochEnd;
        return;
    }
    case Phase::EpochEnd: {
        const double t = epochStart(m_epoch) + m_epochSeconds * 0.96;
        const double evalLoss = m_loss.eval(m_epoch);
        const double accuracy = m_loss.accuracy(evalLoss);
        const double trainLoss = m_loss.trainAt(m_epoch, 0x7a1000ULL + m_epoch);
        const std::string checkpoint =
            format("Saving checkpoint to /kaggle/working/checkpoint-epoch%d\n", m_epoch);
        switch (m_plan.style) {
        case LogStyle::HuggingFace:
            push(t, false,
                 format("{'eval_loss': %.4f, 'eval_accuracy': %.4f, 'eval_runtime': %.4f, "
                        "'eval_samples_per_second': %.3f, 'eval_steps_per_second': %.3f, "
                        "'epoch': %s}\n",
                        evalLoss, accuracy, 12.3456, 81.004, 5.063,
                        formatNumber(static_cast<double>(m_epoch)).c_str()));
            break;
        case LogStyle::Keras: {
            const int steps = m_plan.stepsPerEpoch;
            const double seconds = m_epochSeconds * 0.95;
            push(t, false,
                 format("\r%d/%d [%s] - %llds %lldms/step - loss: %.4f - accuracy: %.4f - "
                        "val_loss: %.4f - val_accuracy: %.4f\n",
                        steps, steps, kerasBar(1.0).c_str(), static_cast<long long>(seconds),
                        static_cast<long long>(seconds * 1000 / steps), trainLoss,
                        m_loss.accuracy(trainLoss), evalLoss, accuracy));
            break;
        }
        case LogStyle::Tqdm:
            push(t, false,
                 format("epoch %d: train_loss=%.4f val_loss=%.4f val_accuracy=%.4f\n", m_epoch,
                        trainLoss, evalLoss, accuracy));
            break;
        case LogStyle::Plain:
            push(t, false,
                 format("epoch=%d eval_loss=%.4f eval_accuracy=%.4f\n", m_epoch, evalLoss,
                        accuracy));
            break;
        }
        push(m_checkpointTimes[static_cast<size_t>(m_epoch - 1)], false, checkpoint);
        if (m_epoch < epochs) {
            ++m_epoch;
            m_phase = Phase::EpochStart;
        } else {
            m_phase = Phase::Finish;
        }
        return;
    }
    case Phase::Finish: {
        const double t = epochStart(epochs) + m_epochSeconds + 0.5;
        if (hf) {
            const double runtime = epochs * m_epochSeconds;
            push(t, false,
                 format("{'train_runtime': %.4f, 'train_samples_per_second': %.3f, "
                        "'train_steps_per_second': %.3f, 'train_loss': %.4f, 'epoch': %s}\n",
                        runtime, 25000.0 * epochs / runtime,
                        static_cast<double>(m_plan.stepsPerEpoch) * epochs / runtime,
                        m_loss.trainAt(epochs * 0.5, 0xf1a1ULL),
                        formatNumber(static_cast<double>(epochs)).c_str()));
        }
        push(t + 0.2, false, "Training complete.\n");
        push(t + 0.4, false, "Wrote /kaggle/working/submission.csv\n");
        m_phase = Phase::Done;
        return;
    }
    case Phase::Done:
        if (m_pending.empty())
            m_done = true;
        return;
    }
}

} // namespace kd::sim
