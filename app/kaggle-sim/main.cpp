// kaggle-sim: serves the Kaggle simulator on loopback until SIGINT/SIGTERM.

#include "simulator.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <pthread.h>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr const char *kUsage = R"(Usage: kaggle-sim [options]

Serves a faithful stand-in for Kaggle's public API (kernels, sessions, logs, outputs,
datasets, uploads, quota) on loopback, with a virtual clock and seeded fault injection.
Point the official Python SDK at it with KAGGLE_API_ENVIRONMENT=TEST (port 7777), or
KaggleDeck with KAGGLE_API_ENDPOINT=http://127.0.0.1:PORT.

Server:
  --port N                    TCP port (default 7777, the SDK's TEST port; 0 = any free port)
  --host ADDR                 bind address (default 127.0.0.1; only loopback unless
                              --allow-remote)
  --allow-remote              permit a non-loopback --host (the credentials are fake, but the
                              simulator has no TLS and no rate limits)
  --scenario FILE             scenario JSON (default: the built-in demo scenario)
  --print-demo-scenario       print the built-in demo scenario and exit
  --speed X                   virtual seconds per real second (default 1; 0 freezes time)
  --seed N                    seed for logs, output bytes and faults (default 1)
  --max-gpu-sessions N        concurrent GPU sessions per account (default: scenario, else 2)
  --log-rate X                log events per virtual second for every session
  --sse-idle-timeout S        drop log streams idle this many real seconds (default 180)
  --sse-max-stream S          cut every log stream after S real seconds (default: never)
  --threads N                 server threads; each open log stream holds one (default 64)

Faults (probabilities 0..1 per request, drawn from the seeded RNG):
  --fault-5xx P               500/502/503 with {"code":N,"message":...}
  --fault-429 P               429 with Retry-After
  --fault-429-no-retry-after P  429 with the Google error envelope and no Retry-After
  --retry-after S             Retry-After seconds for --fault-429 (default 1)
  --fault-reset P             reset the connection before answering
  --fault-malformed P         200 with a truncated or HTML body (RPC calls)
  --fault-stall P             hold the answer (SSE: pause mid-stream) for --stall-ms
  --stall-ms N                stall length in milliseconds (default 30000)
  --fault-truncate P          cut output downloads short of their Content-Length
  --latency-ms N              added to every response
  --latency-spike RATE:MS     with probability RATE add MS milliseconds
  --upload-interrupt-after N  reset each upload once after N bytes (clients must resume)
  --fault-path SUBSTRING      apply faults only to paths containing SUBSTRING (repeatable)

  --help                      show this help
  --version                   show the version
)";

bool isLoopback(const std::string &host)
{
    return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

[[noreturn]] void usageError(const std::string &message)
{
    std::cerr << "kaggle-sim: " << message << "\nTry 'kaggle-sim --help'.\n";
    std::exit(2);
}

double parseNumber(const std::string &flag, const std::string &value, double lo, double hi)
{
    char *end = nullptr;
    const double number = std::strtod(value.c_str(), &end);
    if (value.empty() || !end || *end != '\0' || number < lo || number > hi) {
        std::ostringstream message;
        message << flag << " expects a number from " << lo << " to " << hi << ", got '" << value
                << "'";
        usageError(message.str());
    }
    return number;
}

} // namespace

int main(int argc, char **argv)
{
    std::vector<std::string> args(argv + 1, argv + argc);
    kd::sim::Options options;
    std::string host = "127.0.0.1";
    int port = 7777;
    bool allowRemote = false;
    std::string scenarioPath;
    std::optional<int> maxGpuSessions;
    std::optional<double> sseIdle;

    for (size_t i = 0; i < args.size(); ++i) {
        const std::string &flag = args[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= args.size())
                usageError(flag + " needs a value");
            return args[++i];
        };
        auto probability = [&]() { return parseNumber(flag, value(), 0, 1); };
        if (flag == "--help" || flag == "-h") {
            std::cout << kUsage;
            return 0;
        } else if (flag == "--version") {
            std::cout << "kaggle-sim " << KD_VERSION << "\n";
            return 0;
        } else if (flag == "--print-demo-scenario") {
            std::cout << kd::sim::Simulator::builtinDemoScenario();
            return 0;
        } else if (flag == "--port") {
            port = static_cast<int>(parseNumber(flag, value(), 0, 65535));
        } else if (flag == "--host") {
            host = value();
        } else if (flag == "--allow-remote") {
            allowRemote = true;
        } else if (flag == "--scenario") {
            scenarioPath = value();
        } else if (flag == "--speed") {
            options.speed = parseNumber(flag, value(), 0, 1e6);
        } else if (flag == "--seed") {
            options.seed = static_cast<uint64_t>(parseNumber(flag, value(), 0, 9.0e15));
        } else if (flag == "--max-gpu-sessions") {
            maxGpuSessions = static_cast<int>(parseNumber(flag, value(), 0, 1000));
        } else if (flag == "--log-rate") {
            options.logEventsPerSecond = parseNumber(flag, value(), 0.001, 1e6);
        } else if (flag == "--sse-idle-timeout") {
            sseIdle = parseNumber(flag, value(), 0.1, 1e7);
        } else if (flag == "--threads") {
            options.serverThreads = static_cast<int>(parseNumber(flag, value(), 1, 4096));
        } else if (flag == "--sse-max-stream") {
            options.sseMaxStreamSeconds = parseNumber(flag, value(), 0, 1e7);
        } else if (flag == "--fault-5xx") {
            options.faults.http5xx = probability();
        } else if (flag == "--fault-429") {
            options.faults.http429 = probability();
        } else if (flag == "--fault-429-no-retry-after") {
            options.faults.http429NoRetryAfter = probability();
        } else if (flag == "--retry-after") {
            options.faults.retryAfterSeconds =
                static_cast<int>(parseNumber(flag, value(), 0, 86400));
        } else if (flag == "--fault-reset") {
            options.faults.reset = probability();
        } else if (flag == "--fault-malformed") {
            options.faults.malformed = probability();
        } else if (flag == "--fault-stall") {
            options.faults.stall = probability();
        } else if (flag == "--stall-ms") {
            options.faults.stallMs = static_cast<int>(parseNumber(flag, value(), 0, 3.6e6));
        } else if (flag == "--fault-truncate") {
            options.faults.truncateDownload = probability();
        } else if (flag == "--latency-ms") {
            options.faults.latencyMs = static_cast<int>(parseNumber(flag, value(), 0, 3.6e6));
        } else if (flag == "--latency-spike") {
            const std::string spec = value();
            const auto colon = spec.find(':');
            if (colon == std::string::npos)
                usageError("--latency-spike expects RATE:MS, e.g. 0.05:2000");
            options.faults.latencySpikeRate = parseNumber(flag, spec.substr(0, colon), 0, 1);
            options.faults.latencySpikeMs =
                static_cast<int>(parseNumber(flag, spec.substr(colon + 1), 0, 3.6e6));
        } else if (flag == "--upload-interrupt-after") {
            options.faults.uploadInterruptAfterBytes =
                static_cast<int64_t>(parseNumber(flag, value(), 0, 1e15));
        } else if (flag == "--fault-path") {
            options.faults.onlyPaths.push_back(value());
        } else {
            usageError("unknown option '" + flag + "'");
        }
    }
    if (!allowRemote && !isLoopback(host))
        usageError("refusing to listen on non-loopback host '" + host +
                   "' (use --allow-remote to override)");
    if (sseIdle)
        options.sseIdleTimeoutSeconds = *sseIdle;

    // A shell without job control starts background commands with SIGINT ignored, and an
    // ignored signal never reaches sigwait(); "kill -INT" must still stop us.
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    // Block the stop signals before any thread exists, so every server thread inherits the
    // mask and sigwait() below is the only place they are delivered.
    sigset_t stopSignals;
    sigemptyset(&stopSignals);
    sigaddset(&stopSignals, SIGINT);
    sigaddset(&stopSignals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    kd::sim::Simulator simulator(options);
    std::string error;
    const bool loaded =
        scenarioPath.empty()
            ? simulator.loadScenarioJson(kd::sim::Simulator::builtinDemoScenario(), &error)
            : simulator.loadScenarioFile(scenarioPath, &error);
    if (!loaded) {
        std::cerr << "kaggle-sim: cannot load scenario "
                  << (scenarioPath.empty() ? std::string("(built-in demo)") : scenarioPath) << ": "
                  << error << "\n";
        return 1;
    }
    if (maxGpuSessions)
        simulator.setMaxGpuSessions(*maxGpuSessions);
    if (!simulator.start(host, port)) {
        std::cerr << "kaggle-sim: cannot listen on " << host << ":" << port << " (port in use?)\n";
        return 1;
    }
    std::cout << "kaggle-sim listening on " << simulator.endpoint() << "\n";
    std::cout << "scenario: "
              << (simulator.scenarioName().empty() ? std::string("(unnamed)")
                                                   : simulator.scenarioName())
              << ", speed " << options.speed << "x, seed " << options.seed << "\n";
    for (const auto &account : simulator.accounts()) {
        std::cout << "account " << account.username << ": KAGGLE_USERNAME=" << account.username
                  << " KAGGLE_KEY=" << account.key;
        if (!account.token.empty())
            std::cout << " KAGGLE_API_TOKEN=" << account.token;
        std::cout << "\n";
    }
    std::cout << "use: KAGGLE_API_ENDPOINT=" << simulator.endpoint()
              << " (KaggleDeck) or KAGGLE_API_ENVIRONMENT=TEST (Python SDK, port 7777)"
              << std::endl;

    int signal = 0;
    sigwait(&stopSignals, &signal);
    std::cout << "kaggle-sim: stopping (" << (signal == SIGINT ? "SIGINT" : "SIGTERM") << ")"
              << std::endl;
    simulator.stop();
    return 0;
}
