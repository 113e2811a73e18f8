#pragma once

// The parsed form of a scenario file (format: see the comment at the top of scenario.cpp).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kd::sim {

enum class Outcome { Complete, Error, Cancel };
enum class StatusSpelling { Upper, Lower, Prefixed };
enum class LogStyle { HuggingFace, Keras, Tqdm, Plain };

/// One output file of a session; size < 0 means "whatever the generated content needs".
struct OutputSpec
{
    std::string name;
    int64_t size = -1;
};

/// How one session behaves: the kernel's first run, each scripted push, or the push default.
struct RunSpec
{
    double queueSeconds = 10;
    double runSeconds = 120;
    Outcome outcome = Outcome::Complete;
    std::string failureMessage; ///< "" = derived from the exception line
    std::string exception;      ///< last traceback line; "" = CUDA out of memory
    double failAt = 0.6;        ///< error sessions die this far into the planned training
    int epochs = 1;
    int stepsPerEpoch = 500;
    LogStyle logStyle = LogStyle::HuggingFace;
    double logEventsPerSecond = 0; ///< 0 = scenario option
    double baseLoss = 0;           ///< 0 = picked from the seed
    int overfitAfterEpoch = 0;     ///< eval loss rises after this epoch (0 = never)
    double timeoutSeconds = 0;     ///< 0 = Kaggle's cap (12 h, 9 h on TPU)
    int64_t checkpointBytes = 2 * 1024 * 1024;
    bool hasOutputs = false;
    std::vector<OutputSpec> outputs; ///< used when hasOutputs; else checkpoints + csv
};

struct KernelSpec
{
    std::string owner;
    std::string slug;
    std::string title;
    std::string language = "python";
    std::string kernelType = "notebook";
    bool isPrivate = true;
    bool enableInternet = true;
    bool enableGpu = false;
    bool enableTpu = false;
    std::string machineShape;
    std::string dockerImage;
    std::vector<std::string> datasetSources;
    std::vector<std::string> kernelSources;
    std::vector<std::string> competitionSources;
    std::vector<std::string> modelSources;
    std::vector<std::string> categoryIds;
    std::string source;
    int versions = 1;
    bool created = true;
    bool neverRun = false;
    double startAt = 0;
    int totalVotes = 0;
    RunSpec run;
    std::vector<RunSpec> script;
};

struct DatasetSpec
{
    std::string owner;
    std::string slug;
    std::string title;
    std::string subtitle;
    std::string description;
    std::string licenseName = "CC0-1.0";
    bool isPrivate = true;
    int versions = 1;
    double createdAt = -86400; ///< virtual seconds of the latest version
    std::vector<OutputSpec> files;
};

struct QuotaBucketSpec
{
    double usedSeconds = 0;
    double totalSeconds = 0;
    double minimumSeconds = -1; ///< < 0 = same as total
    std::optional<bool> hasEverRun;
    bool payToScale = false;
};

struct QuotaSpec
{
    QuotaBucketSpec gpu{0, 30 * 3600.0, -1, std::nullopt, false};
    QuotaBucketSpec tpu{0, 20 * 3600.0, -1, std::nullopt, false};
    std::optional<double> refreshTime; ///< unix seconds; default next Saturday 00:00 UTC
};

struct AccountSpec
{
    std::string username;
    std::string key;
    std::string token;
    std::string displayName;
};

struct ScenarioOptions
{
    StatusSpelling statusSpelling = StatusSpelling::Upper;
    bool omitDefaults = false;
    bool int64AsString = false;
    double staleStatusSeconds = 2;
    bool phantom404AfterPush = false;
    std::optional<int> maxGpuSessions;
    double logEventsPerSecond = 2;
    bool unterminatedRunningLog = false;
    std::optional<int> outputPageSize;
    std::optional<double> sseIdleTimeoutSeconds;
    double signedUrlTtlSeconds = 3600;
    double uploadTtlSeconds = 7 * 86400.0;
    double datasetProcessingSeconds = 5;
    bool rejectInvalidSources = false;
    std::optional<double> startTime; ///< unix seconds of virtual t = 0; default: real now
    std::string apiVersionHeader;
    std::vector<std::string> competitions; ///< empty = any competition slug is valid
    RunSpec pushDefaults;
};

struct Scenario
{
    std::string name;
    std::string description;
    ScenarioOptions options;
    std::vector<AccountSpec> accounts;
    QuotaSpec quota;
    std::vector<KernelSpec> kernels;
    std::vector<DatasetSpec> datasets;
};

/// Strict parse: unknown keys and wrong types are errors (keys starting with "_" are comments).
bool parseScenario(const std::string &json, Scenario &scenario, std::string *error);

} // namespace kd::sim
