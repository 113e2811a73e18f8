#pragma once

// The simulated Kaggle backend: accounts, kernels with versions and sessions, datasets, uploads,
// signed output URLs and the weekly quota, all as functions of a virtual clock. The World knows
// nothing about HTTP beyond status codes and bodies; it is not thread-safe (Simulator::Impl
// serialises access with one mutex).

#include "loggenerator.h"
#include "outputfiles.h"
#include "scenario.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kd::sim {

enum class KernelStatus { Queued, Running, Complete, Error, CancelRequested, CancelAcknowledged };
enum class Accelerator { None, Gpu, Tpu };

/// An HTTP-shaped answer from the backend.
struct Reply
{
    int status = 200;
    std::string body;
    std::string contentType = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;
};

/// One run of one kernel version, from QUEUED to a terminal state.
struct Session
{
    int version = 1;
    double queuedAt = 0;
    RunSpec spec;
    Accelerator accelerator = Accelerator::None;
    std::string machineShape;
    std::string owner;
    double timeoutSeconds = 43200;
    uint64_t seed = 0;
    bool fromPush = false;
    std::unique_ptr<LogGenerator> log;
    std::vector<LogEvent> events;

    double runStart() const { return queuedAt + spec.queueSeconds; }
    bool timedOut() const { return timeoutSeconds < spec.runSeconds; }
    double runDuration() const { return timedOut() ? timeoutSeconds : spec.runSeconds; }
    double end() const { return runStart() + runDuration(); }
    KernelStatus statusAt(double t) const;
    bool activeAt(double t) const { return queuedAt <= t && t < end(); }
};

struct KernelVersion
{
    int number = 1;
    double savedAt = 0;
    std::string text;
    std::string title;
};

struct Kernel
{
    int64_t id = 0;
    std::string owner;
    std::string slug;
    std::string title;
    std::string language = "python";
    std::string kernelType = "notebook";
    bool isPrivate = true;
    bool enableGpu = false;
    bool enableTpu = false;
    bool enableInternet = true;
    std::string machineShape;
    std::string dockerImage;
    std::vector<std::string> datasetSources;
    std::vector<std::string> kernelSources;
    std::vector<std::string> competitionSources;
    std::vector<std::string> modelSources;
    std::vector<std::string> categoryIds;
    int totalVotes = 0;
    double createdAt = 0;
    bool created = true;
    std::vector<KernelVersion> versions;
    std::vector<std::unique_ptr<Session>> sessions;
    std::vector<RunSpec> script;
    size_t pushes = 0;
    std::string lastSaveRequest;

    std::string ref() const { return owner + "/" + slug; }
};

struct DatasetVersion
{
    int number = 1;
    double createdAt = 0;
    std::string notes;
    std::vector<OutputSpec> files;
};

struct Dataset
{
    int64_t id = 0;
    std::string owner;
    std::string slug;
    std::string title;
    std::string subtitle;
    std::string description;
    std::string licenseName;
    bool isPrivate = true;
    std::vector<std::string> categoryIds;
    std::vector<DatasetVersion> versions;

    std::string ref() const { return owner + "/" + slug; }
};

/// A resumable upload session (Google convention, kaggle-api.md 5.2).
struct Upload
{
    std::string token;
    std::string owner;
    std::string name;
    int64_t size = 0;
    std::string data;
    double createdReal = 0;
    bool interrupted = false;

    bool complete() const { return static_cast<int64_t>(data.size()) == size; }
};

/// A signed output URL: everything needed to serve bytes without touching the World again.
struct BlobEntry
{
    OutputFile file;
    LossModel loss;
    double expiresReal = 0;
};

struct Account
{
    AccountSpec spec;
    int64_t userId = 0;
};

/// What a log-stream request turns into.
struct StreamOpen
{
    bool live = false;
    Reply reply; ///< used when !live (persisted log or an error)
    std::string kernelKey;
    size_t session = 0;
};

/// Per-upload-request instructions from the fault layer.
struct UploadFault
{
    int64_t interruptAfterBytes = 0;
};

/// Result of an upload PUT; `interrupted` asks the HTTP layer to cut the connection.
struct UploadResult
{
    Reply reply;
    bool interrupted = false;
};

class World final
{
public:
    explicit World(uint64_t seed);

    bool load(const Scenario &scenario, std::string *error);
    void setNow(double virtualSeconds) { m_now = virtualSeconds; }
    double now() const { return m_now; }
    const ScenarioOptions &options() const { return m_options; }
    void setMaxGpuSessions(int count) { m_maxGpuSessions = count; }
    void setDefaultOutputPageSize(int size) { m_outputPageSize = size; }
    void setLogRateOverride(double eventsPerSecond) { m_logRateOverride = eventsPerSecond; }
    std::string name() const { return m_name; }

    void addAccount(const AccountSpec &spec);
    std::vector<AccountSpec> accounts() const;
    int64_t userIdOf(const std::string &username) const;
    std::optional<std::string> userForBasic(const std::string &user, const std::string &key) const;
    std::optional<std::string> userForBearer(const std::string &token) const;

    bool hasRpc(const std::string &service, const std::string &method) const;
    bool rpcNeedsAuth(const std::string &service, const std::string &method) const;
    /// `caller` is the authenticated username ("" only for auth-free calls).
    Reply rpc(const std::string &service, const std::string &method, const std::string &body,
              const std::string &caller, const std::string &baseUrl, double realNow);

    StreamOpen openStream(const std::string &owner, const std::string &slug,
                          const std::string &caller);
    /// Copies events [from, ...) produced so far; `ended` once the session is over and every
    /// event has been handed out.
    void pollStream(const std::string &kernelKey, size_t session, size_t from,
                    std::vector<LogEvent> &out, bool &ended);

    std::optional<BlobEntry> blob(const std::string &token, const std::string &fileName,
                                  double realNow, bool &expired) const;
    UploadResult upload(const std::string &token, const std::optional<std::string> &contentRange,
                        const std::string &body, double realNow, const UploadFault &fault);
    void expireUpload(const std::string &token) { m_uploads.erase(token); }

    // Truth for tests.
    std::string kernelStatus(const std::string &ref);
    std::vector<std::string> kernelRefs() const;
    size_t sessionLogEventCount(const std::string &ref);
    int kernelVersionCount(const std::string &ref) const;
    std::string lastSaveKernelRequest(const std::string &ref) const;
    std::vector<std::string> outputFileNames(const std::string &ref);
    int activeGpuSessions(const std::string &username) const;
    double gpuSecondsUsed(const std::string &username) const;
    std::string datasetStatus(const std::string &ref) const;
    int datasetVersionCount(const std::string &ref) const;
    std::vector<std::string> datasetRefs() const;
    std::optional<std::string> uploadedBytes(const std::string &token) const;

    // Used by the RPC handlers (world.cpp).
    Kernel *findKernel(const std::string &ref) const;
    Kernel *findKernelById(int64_t id) const;
    Dataset *findDataset(const std::string &ref) const;
    Dataset *findDatasetById(int64_t id) const;
    void advanceSession(Session &session);
    std::optional<size_t> visibleSession(const Kernel &kernel, bool &phantom) const;
    std::vector<OutputFile> outputsOf(Session &session);
    std::string persistedLog(Session &session);
    std::string signBlob(const std::string &kernelKey, size_t session, const OutputFile &file,
                         const LossModel &loss, double realNow);
    Session &startSession(Kernel &kernel, const RunSpec &spec, double queuedAt, bool fromPush,
                          double timeoutOverride);
    RunSpec nextPushSpec(Kernel &kernel);
    std::string newUploadToken(const std::string &owner, const std::string &name, int64_t size,
                               double realNow);
    const Upload *findUpload(const std::string &token, double realNow) const;
    Kernel &createKernel(const std::string &owner, const std::string &slug);
    Dataset &createDataset(const std::string &owner, const std::string &slug);
    double wallTime(double virtualSeconds) const { return m_startTime + virtualSeconds; }
    double initialQuotaWindowEnd() const;
    double quotaWindowEnd() const;
    struct QuotaNumbers
    {
        double used = 0;
        double reserved = 0;
        double total = 0;
        double minimum = 0;
        bool hasEverRun = false;
        bool payToScale = false;
    };
    QuotaNumbers quota(const std::string &username, Accelerator accelerator) const;
    int maxGpuSessions() const { return m_maxGpuSessions; }
    int outputPageSize() const;
    uint64_t seed() const { return m_seed; }

private:
    uint64_t m_seed;
    std::string m_name;
    double m_now = 0;
    double m_startTime = 0;
    ScenarioOptions m_options;
    QuotaSpec m_quota;
    int m_maxGpuSessions = 2;
    int m_outputPageSize = 20;
    double m_logRateOverride = 0;
    int64_t m_nextKernelId = 48000001;
    int64_t m_nextDatasetId = 7000001;
    int64_t m_nextUserId = 1000001;
    std::vector<Account> m_accounts;
    std::map<std::string, std::unique_ptr<Kernel>> m_kernels;   ///< by lower-case ref
    std::map<std::string, std::unique_ptr<Dataset>> m_datasets; ///< by lower-case ref
    std::map<std::string, Upload> m_uploads;
    std::map<std::string, BlobEntry> m_blobs;
    std::map<std::string, std::string> m_blobTokens; ///< kernel#session#file -> token
};

} // namespace kd::sim
