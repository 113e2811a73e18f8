#pragma once

// kaggle-sim: a stand-in for Kaggle's public API on loopback. It speaks the wire protocol of
// shared/kaggle-api.md (RPC POST /api/v1/{service}/{Method}, the SSE log stream, signed output
// URLs, Google-style resumable uploads) over a virtual clock, so the client, the app's demo mode
// and the benchmarks can run without the network. The scenario file format is documented at the
// top of scenario.cpp. This header deliberately exposes neither httplib nor nlohmann.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kd::sim {

/// Fault injection knobs; probabilities are per request, all drawn from one seeded RNG.
struct Faults
{
    double http5xx = 0; ///< 500/502/503 with {"code":N,"message":...}
    double http429 = 0; ///< 429 with Retry-After and {"code":429,"message":"TooManyRequests"}
    /// 429 without Retry-After, Google envelope {"error":{"code":429,...,"status":...}}.
    double http429NoRetryAfter = 0;
    int retryAfterSeconds = 1;
    double reset = 0;     ///< TCP RST before any response byte (SO_LINGER 0 close).
    double malformed = 0; ///< 200 with a truncated or non-JSON body (RPC calls only).
    double stall = 0;     ///< Hold the answer for stallMs (for SSE: pause mid-stream).
    int stallMs = 30000;
    /// Output downloads announce the full Content-Length and close after about half.
    double truncateDownload = 0;
    int latencyMs = 0;
    double latencySpikeRate = 0;
    int latencySpikeMs = 0;
    /// Every upload token is cut once when its received bytes would pass this many (0 = off):
    /// the first part is kept, then the connection is reset (or answered with
    /// uploadInterruptStatus when non-zero, e.g. 503), so clients must resume via 308/Range.
    int64_t uploadInterruptAfterBytes = 0;
    int uploadInterruptStatus = 0;
    /// When non-empty, faults apply only to request paths containing one of these substrings.
    std::vector<std::string> onlyPaths;
};

/// Construction-time settings; a scenario's "options" override the ones it names.
struct Options
{
    double speed = 1.0; ///< Virtual seconds per real second; 0 freezes time (use advance()).
    uint64_t seed = 1;
    Faults faults;
    int maxGpuSessions = 2;             ///< Concurrent QUEUED+RUNNING GPU sessions per account.
    int outputPageSize = 20;            ///< ListKernelSessionOutput default pageSize (max 200).
    double sseIdleTimeoutSeconds = 180; ///< Real seconds without an event before a drop.
    /// Real seconds after which any log stream is cut mid-way (0 = never); lets client tests
    /// exercise reconnect-and-skip-the-replay without waiting for the idle drop.
    double sseMaxStreamSeconds = 0;
    double logEventsPerSecond = 0; ///< Overrides every session's log rate when > 0.
    /// Worker threads; every open SSE stream and idle keep-alive connection holds one.
    int serverThreads = 64;
};

/// One served request, for assertions; never carries a credential.
struct RequestRecord
{
    double realTime = 0; ///< Real seconds since the simulator was constructed.
    std::string method;
    std::string path;
    int status = 0;    ///< 0 when the connection was reset without a response.
    std::string fault; ///< "", or comma-joined: 5xx, 429, 429-no-retry-after, reset, ...
    std::string authorization_kind; ///< "basic", "bearer" or "none"
};

/// Credentials of a simulated account (fake by construction; printing them is fine).
struct AccountInfo
{
    std::string username;
    std::string key;
    std::string token;
};

/// Kaggle on loopback: accounts, kernels and sessions on a virtual clock, datasets, quota.
class Simulator final
{
public:
    explicit Simulator(Options options = {});
    ~Simulator();
    Simulator(const Simulator &) = delete;
    Simulator &operator=(const Simulator &) = delete;

    /// Replaces the whole world (accounts, kernels, datasets, quota, options it names).
    bool loadScenarioFile(const std::string &path, std::string *error);
    bool loadScenarioJson(const std::string &json, std::string *error);
    /// The demo scenario compiled in from resources/demo-scenario.json.
    static std::string builtinDemoScenario();

    /// Binds and starts serving on background threads; returns once the socket listens.
    bool start(const std::string &host = "127.0.0.1", int port = 0);
    /// Returns promptly even with open SSE streams, stalled handlers or idle keep-alives.
    void stop();
    bool isRunning() const;
    int port() const;
    std::string endpoint() const; ///< "http://127.0.0.1:PORT"

    // Control; all thread-safe.
    void setFaults(const Faults &faults);
    Faults faults() const;
    void setSpeed(double speed);
    double speed() const;
    void advance(double virtualSeconds);
    double now() const; ///< Virtual seconds since start.
    void setMaxGpuSessions(int count);
    void setSseIdleTimeout(double realSeconds);
    void setSseMaxStreamSeconds(double realSeconds);
    void addAccount(const std::string &username, const std::string &key, const std::string &token);
    std::vector<AccountInfo> accounts() const;
    std::string scenarioName() const;
    /// Forgets an upload token, so its URL answers 404 like an expired Google session.
    void expireUpload(const std::string &token);

    // Truth for tests.
    std::string kernelStatus(const std::string &ref) const; ///< "RUNNING", ...; "" if none
    std::vector<std::string> kernelRefs() const;
    size_t sessionLogEventCount(const std::string &ref) const; ///< Latest session so far.
    int kernelVersionCount(const std::string &ref) const;      ///< 0 when unknown
    /// Body of the last SaveKernel for this kernel as sent (JSON text), "" if none.
    std::string lastSaveKernelRequest(const std::string &ref) const;
    /// Names of the latest finished session's outputs (empty while it runs).
    std::vector<std::string> outputFileNames(const std::string &ref) const;
    int activeGpuSessions(const std::string &username) const;
    double gpuSecondsUsed(const std::string &username) const; ///< Current weekly window.
    std::string datasetStatus(const std::string &ref) const;  ///< "READY", ...; "" if none
    int datasetVersionCount(const std::string &ref) const;
    std::vector<std::string> datasetRefs() const;
    /// Bytes received for an upload token so far; nullopt when the token is unknown.
    std::optional<std::string> uploadedBytes(const std::string &token) const;

    std::vector<RequestRecord> requests() const;
    void clearRequests();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace kd::sim
