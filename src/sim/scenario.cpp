/*
 * Scenario file format (JSON). Times are virtual seconds unless stated; keys are lowerCamelCase;
 * keys starting with "_" are comments and ignored; any other unknown key is an error, so typos
 * do not silently fall back to defaults.
 *
 * {
 *   "name": "basic", "description": "...",
 *   "options": {
 *     "statusSpelling": "upper" | "lower" | "prefixed",  // RUNNING | running, cancelAcknowledged
 *                        // | KERNEL_WORKER_STATUS_RUNNING; dataset statuses follow suit
 *                        // (READY | ready | DATABUNDLE_VERSION_STATUS_READY)
 *     "omitDefaults": false,        // proto3 style: drop "", 0, false, [], QUEUED,
 * NOT_YET_PERSISTED "int64AsString": false,       // ids and version numbers as "123" instead of
 * 123 "staleStatusSeconds": 2,      // after a push, status/output/stream keep showing the
 *                                   // previous session for this long
 *     "phantom404AfterPush": false, // ...and a brand-new kernel answers 404 in that window
 *     "maxGpuSessions": 2,          // overrides Options::maxGpuSessions
 *     "logEventsPerSecond": 2,      // default log density of running sessions
 *     "unterminatedRunningLog": false, // ListKernelSessionOutput.log lacks "]" while running
 *     "outputPageSize": 20,         // default pageSize of ListKernelSessionOutput
 *     "sseIdleTimeoutSeconds": 180, // real seconds; the load balancer's idle drop
 *     "signedUrlTtlSeconds": 3600,  // real seconds a /blob URL stays valid
 *     "uploadTtlSeconds": 604800,   // real seconds an upload token stays valid
 *     "datasetProcessingSeconds": 5,// NOT_YET_PERSISTED .. READY takes this long
 *     "rejectInvalidSources": false,// false: push succeeds, unknown sources are dropped and
 *                                   // listed in invalid*Sources (what the CLI implies);
 *                                   // true: push fails with "error" and the lists
 *     "startTime": "2026-06-01T12:00:00.000Z" | "now",  // wall time of virtual t = 0
 *     "apiVersionHeader": "",       // non-empty: sent as X-Kaggle-APIVersion
 *     "competitions": ["titanic"],  // valid competitionDataSources (empty = any)
 *     "pushDefaults": { <run fields> } // sessions of pushed kernels without a "script"
 *   },
 *   "accounts": [{"username": "alice", "key": "alice-key", "token": "KGAT_...",
 *                 "displayName": "Alice"}],
 *   "quota": {     // per account; timeUsed = usedSeconds (this week only) + RUNNING time of
 *                  // the account's sessions in the current week; timeReserved = what the
 *                  // running sessions could still use before their timeouts
 *     "refreshTime": "2026-06-06T00:00:00.000Z",   // default: next Saturday 00:00 UTC
 *     "gpu": {"usedSeconds": 3600, "totalSeconds": 108000, "minimumSeconds": 108000,
 *             "hasEverRun": true, "payToScale": false},
 *     "tpu": {"usedSeconds": 0, "totalSeconds": 72000}
 *   },
 *   "datasets": [{"ref": "alice/imdb-reviews" (or "owner" + "slug"), "title": "IMDB Reviews",
 *                 "subtitle": "", "description": "", "licenseName": "CC0-1.0",
 *                 "isPrivate": true, "versions": 1, "createdAt": -86400,
 *                 "files": [{"name": "train.csv", "size": 1000}]}],
 *   "kernels": [{
 *     "ref": "alice/bert-imdb" (or "owner" + "slug"), "title": "BERT IMDB",
 *     "language": "python", "kernelType": "notebook", "isPrivate": true,
 *     "enableInternet": true, "enableGpu": false, "enableTpu": false,
 *     "machineShape": "NvidiaTeslaT4" | "Tpu1VmV38" | "" (CPU) | any kaggle-api.md section 4 id,
 *     "dockerImage": "", "source": "print('hi')",
 *     "datasetSources": [], "kernelSources": [], "competitionSources": [], "modelSources": [],
 *     "categoryIds": [], "totalVotes": 0,
 *     "versions": 1,          // versions that exist before the first session
 *     "created": true,        // false: not listed until a push creates it; the push then
 *                             // follows "script" (use this to pre-plan chain steps)
 *     "neverRun": false,      // true: the kernel has no session at all
 *     "startAt": 0,           // when the first session is queued; negative = in the past
 *     <run fields>,           // the first session
 *     "script": [{<run fields>}, ...]  // sessions of the 1st, 2nd, ... push; the last repeats
 *   }]
 * }
 *
 * <run fields>: "queueSeconds": 10, "runSeconds": 120,
 *   "outcome": "complete" | "error" | "cancel", "failureMessage": "...",
 *   "exception": "torch.OutOfMemoryError: CUDA out of memory. ...",  // last traceback line
 *   "failAt": 0.6,              // error: fraction of the planned training done when it dies
 *   "epochs": 1, "stepsPerEpoch": 500, "logStyle": "hf" | "keras" | "tqdm" | "plain",
 *   "logEventsPerSecond": 0 (= option), "baseLoss": 0 (= from seed), "overfitAfterEpoch": 0,
 *   "timeoutSeconds": 0 (= 12 h, 9 h on TPU; shorter than the run -> ERROR at the timeout),
 *   "checkpointBytes": 2097152,  // size of each checkpoint-epochN/model.safetensors
 *   "outputs": [{"name": "submission.csv", "size": 1234}]  // replaces the default outputs:
 *       checkpoint-epochN/{model.safetensors,optimizer.pt,trainer_state.json} per finished
 *       epoch, plus submission.csv when the session completes
 */

#include "scenario.h"

#include "simutil.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <set>

namespace kd::sim {
namespace {

using nlohmann::json;

/// Collects the first error with a JSON-path-like location, so parsing never throws.
class Reader final
{
public:
    std::string error;

    bool ok() const { return error.empty(); }
    void fail(const std::string &where, const std::string &what)
    {
        if (error.empty())
            error = where + ": " + what;
    }

    void checkKeys(const json &object, const std::string &where,
                   std::initializer_list<const char *> allowed)
    {
        const std::set<std::string> keys(allowed.begin(), allowed.end());
        for (auto it = object.begin(); it != object.end(); ++it) {
            if (!it.key().empty() && it.key()[0] == '_')
                continue;
            if (!keys.count(it.key()))
                fail(where, "unknown key \"" + it.key() + "\"");
        }
    }

    void string(const json &o, const char *key, const std::string &where, std::string &out)
    {
        if (!o.contains(key))
            return;
        if (!o[key].is_string())
            return fail(where + "." + key, "expected a string");
        out = o[key].get<std::string>();
    }
    void boolean(const json &o, const char *key, const std::string &where, bool &out)
    {
        if (!o.contains(key))
            return;
        if (!o[key].is_boolean())
            return fail(where + "." + key, "expected true or false");
        out = o[key].get<bool>();
    }
    void number(const json &o, const char *key, const std::string &where, double &out)
    {
        if (!o.contains(key))
            return;
        if (!o[key].is_number())
            return fail(where + "." + key, "expected a number");
        out = o[key].get<double>();
    }
    void integer(const json &o, const char *key, const std::string &where, int64_t &out)
    {
        if (!o.contains(key))
            return;
        if (!o[key].is_number_integer())
            return fail(where + "." + key, "expected an integer");
        out = o[key].get<int64_t>();
    }
    void integer(const json &o, const char *key, const std::string &where, int &out)
    {
        int64_t value = out;
        integer(o, key, where, value);
        out = static_cast<int>(value);
    }
    void strings(const json &o, const char *key, const std::string &where,
                 std::vector<std::string> &out)
    {
        if (!o.contains(key))
            return;
        if (!o[key].is_array())
            return fail(where + "." + key, "expected an array of strings");
        out.clear();
        for (const auto &item : o[key]) {
            if (!item.is_string())
                return fail(where + "." + key, "expected an array of strings");
            out.push_back(item.get<std::string>());
        }
    }
    void time(const json &o, const char *key, const std::string &where, std::optional<double> &out)
    {
        if (!o.contains(key))
            return;
        if (o[key].is_number()) {
            out = o[key].get<double>();
            return;
        }
        if (!o[key].is_string())
            return fail(where + "." + key, "expected an ISO-8601 time or \"now\"");
        const auto text = o[key].get<std::string>();
        if (text == "now") {
            out.reset();
            return;
        }
        const auto parsed = parseTimestamp(text);
        if (!parsed)
            return fail(where + "." + key, "expected YYYY-MM-DDTHH:MM:SS[.fff]Z, got " + text);
        out = parsed;
    }
    bool object(const json &o, const std::string &where)
    {
        if (!o.is_object()) {
            fail(where, "expected an object");
            return false;
        }
        return true;
    }
    void each(const json &o, const char *key, const std::string &where,
              const std::function<void(const json &, const std::string &)> &fn)
    {
        if (!o.contains(key))
            return;
        if (!o[key].is_array())
            return fail(where + key, "expected an array");
        size_t index = 0;
        for (const auto &item : o[key]) {
            const std::string at = where + key + "[" + std::to_string(index++) + "]";
            if (object(item, at))
                fn(item, at);
            if (!ok())
                return;
        }
    }
};

void readOutputs(Reader &r, const json &o, const std::string &where,
                 std::vector<OutputSpec> &outputs)
{
    outputs.clear();
    r.each(o, "outputs", where + ".", [&](const json &item, const std::string &at) {
        r.checkKeys(item, at, {"name", "size"});
        OutputSpec spec;
        r.string(item, "name", at, spec.name);
        r.integer(item, "size", at, spec.size);
        if (spec.name.empty() || spec.name.front() == '/' ||
            spec.name.find("..") != std::string::npos)
            r.fail(at + ".name", "must be a relative path without \"..\"");
        outputs.push_back(spec);
    });
}

constexpr auto kRunKeys = {"queueSeconds",   "runSeconds",
                           "outcome",        "failureMessage",
                           "exception",      "failAt",
                           "epochs",         "stepsPerEpoch",
                           "logStyle",       "logEventsPerSecond",
                           "baseLoss",       "overfitAfterEpoch",
                           "timeoutSeconds", "checkpointBytes",
                           "outputs"};

void readRun(Reader &r, const json &o, const std::string &where, RunSpec &run)
{
    r.number(o, "queueSeconds", where, run.queueSeconds);
    r.number(o, "runSeconds", where, run.runSeconds);
    std::string outcome;
    r.string(o, "outcome", where, outcome);
    if (outcome == "complete")
        run.outcome = Outcome::Complete;
    else if (outcome == "error")
        run.outcome = Outcome::Error;
    else if (outcome == "cancel")
        run.outcome = Outcome::Cancel;
    else if (!outcome.empty())
        r.fail(where + ".outcome", "expected complete, error or cancel");
    r.string(o, "failureMessage", where, run.failureMessage);
    r.string(o, "exception", where, run.exception);
    r.number(o, "failAt", where, run.failAt);
    r.integer(o, "epochs", where, run.epochs);
    r.integer(o, "stepsPerEpoch", where, run.stepsPerEpoch);
    std::string style;
    r.string(o, "logStyle", where, style);
    if (style == "hf")
        run.logStyle = LogStyle::HuggingFace;
    else if (style == "keras")
        run.logStyle = LogStyle::Keras;
    else if (style == "tqdm")
        run.logStyle = LogStyle::Tqdm;
    else if (style == "plain")
        run.logStyle = LogStyle::Plain;
    else if (!style.empty())
        r.fail(where + ".logStyle", "expected hf, keras, tqdm or plain");
    r.number(o, "logEventsPerSecond", where, run.logEventsPerSecond);
    r.number(o, "baseLoss", where, run.baseLoss);
    r.integer(o, "overfitAfterEpoch", where, run.overfitAfterEpoch);
    r.number(o, "timeoutSeconds", where, run.timeoutSeconds);
    r.integer(o, "checkpointBytes", where, run.checkpointBytes);
    if (o.contains("outputs")) {
        run.hasOutputs = true;
        readOutputs(r, o, where, run.outputs);
    }
    if (run.queueSeconds < 0 || run.runSeconds <= 0)
        r.fail(where, "queueSeconds must be >= 0 and runSeconds > 0");
    if (run.epochs < 1 || run.stepsPerEpoch < 1)
        r.fail(where, "epochs and stepsPerEpoch must be >= 1");
    if (run.failAt <= 0 || run.failAt > 1)
        r.fail(where + ".failAt", "must be in (0, 1]");
}

void readRef(Reader &r, const json &o, const std::string &where, std::string &owner,
             std::string &slug)
{
    std::string ref;
    r.string(o, "ref", where, ref);
    r.string(o, "owner", where, owner);
    r.string(o, "slug", where, slug);
    if (!ref.empty()) {
        const auto parts = split(ref, '/');
        if (parts.size() != 2 || parts[0].empty() || parts[1].empty())
            return r.fail(where + ".ref", "expected owner/slug");
        owner = parts[0];
        slug = parts[1];
    }
    if (owner.empty() || slug.empty())
        r.fail(where, "needs \"ref\" or \"owner\" and \"slug\"");
}

std::vector<const char *> withRunKeys(std::initializer_list<const char *> keys)
{
    std::vector<const char *> all(keys);
    all.insert(all.end(), kRunKeys.begin(), kRunKeys.end());
    return all;
}

void checkKeysVector(Reader &r, const json &o, const std::string &where,
                     const std::vector<const char *> &allowed)
{
    const std::set<std::string> keys(allowed.begin(), allowed.end());
    for (auto it = o.begin(); it != o.end(); ++it) {
        if (!it.key().empty() && it.key()[0] == '_')
            continue;
        if (!keys.count(it.key()))
            r.fail(where, "unknown key \"" + it.key() + "\"");
    }
}

void readOptions(Reader &r, const json &o, ScenarioOptions &opt)
{
    const std::string where = "options";
    if (!r.object(o, where))
        return;
    r.checkKeys(o, where,
                {"statusSpelling", "omitDefaults", "int64AsString", "staleStatusSeconds",
                 "phantom404AfterPush", "maxGpuSessions", "logEventsPerSecond",
                 "unterminatedRunningLog", "outputPageSize", "sseIdleTimeoutSeconds",
                 "signedUrlTtlSeconds", "uploadTtlSeconds", "datasetProcessingSeconds",
                 "rejectInvalidSources", "startTime", "apiVersionHeader", "competitions",
                 "pushDefaults"});
    std::string spelling;
    r.string(o, "statusSpelling", where, spelling);
    if (spelling == "upper")
        opt.statusSpelling = StatusSpelling::Upper;
    else if (spelling == "lower")
        opt.statusSpelling = StatusSpelling::Lower;
    else if (spelling == "prefixed")
        opt.statusSpelling = StatusSpelling::Prefixed;
    else if (!spelling.empty())
        r.fail(where + ".statusSpelling", "expected upper, lower or prefixed");
    r.boolean(o, "omitDefaults", where, opt.omitDefaults);
    r.boolean(o, "int64AsString", where, opt.int64AsString);
    r.number(o, "staleStatusSeconds", where, opt.staleStatusSeconds);
    r.boolean(o, "phantom404AfterPush", where, opt.phantom404AfterPush);
    if (o.contains("maxGpuSessions")) {
        int value = 0;
        r.integer(o, "maxGpuSessions", where, value);
        opt.maxGpuSessions = value;
    }
    r.number(o, "logEventsPerSecond", where, opt.logEventsPerSecond);
    r.boolean(o, "unterminatedRunningLog", where, opt.unterminatedRunningLog);
    if (o.contains("outputPageSize")) {
        int value = 0;
        r.integer(o, "outputPageSize", where, value);
        opt.outputPageSize = value;
    }
    if (o.contains("sseIdleTimeoutSeconds")) {
        double value = 0;
        r.number(o, "sseIdleTimeoutSeconds", where, value);
        opt.sseIdleTimeoutSeconds = value;
    }
    r.number(o, "signedUrlTtlSeconds", where, opt.signedUrlTtlSeconds);
    r.number(o, "uploadTtlSeconds", where, opt.uploadTtlSeconds);
    r.number(o, "datasetProcessingSeconds", where, opt.datasetProcessingSeconds);
    r.boolean(o, "rejectInvalidSources", where, opt.rejectInvalidSources);
    r.time(o, "startTime", where, opt.startTime);
    r.string(o, "apiVersionHeader", where, opt.apiVersionHeader);
    r.strings(o, "competitions", where, opt.competitions);
    if (o.contains("pushDefaults") && r.object(o["pushDefaults"], where + ".pushDefaults")) {
        checkKeysVector(r, o["pushDefaults"], where + ".pushDefaults", withRunKeys({}));
        readRun(r, o["pushDefaults"], where + ".pushDefaults", opt.pushDefaults);
    }
    if (opt.logEventsPerSecond <= 0)
        r.fail(where + ".logEventsPerSecond", "must be > 0");
}

void readQuotaBucket(Reader &r, const json &o, const std::string &where, QuotaBucketSpec &bucket)
{
    if (!r.object(o, where))
        return;
    r.checkKeys(o, where,
                {"usedSeconds", "totalSeconds", "minimumSeconds", "hasEverRun", "payToScale"});
    r.number(o, "usedSeconds", where, bucket.usedSeconds);
    r.number(o, "totalSeconds", where, bucket.totalSeconds);
    r.number(o, "minimumSeconds", where, bucket.minimumSeconds);
    if (o.contains("hasEverRun")) {
        bool value = false;
        r.boolean(o, "hasEverRun", where, value);
        bucket.hasEverRun = value;
    }
    r.boolean(o, "payToScale", where, bucket.payToScale);
}

} // namespace

bool parseScenario(const std::string &text, Scenario &scenario, std::string *error)
{
    const json root = json::parse(text, nullptr, /*allow_exceptions=*/false,
                                  /*ignore_comments=*/true);
    Reader r;
    if (root.is_discarded()) {
        r.fail("scenario", "not valid JSON");
    } else if (r.object(root, "scenario")) {
        r.checkKeys(root, "scenario",
                    {"name", "description", "options", "accounts", "quota", "kernels", "datasets"});
        Scenario s;
        r.string(root, "name", "scenario", s.name);
        r.string(root, "description", "scenario", s.description);
        if (root.contains("options"))
            readOptions(r, root["options"], s.options);

        r.each(root, "accounts", "", [&](const json &o, const std::string &at) {
            r.checkKeys(o, at, {"username", "key", "token", "displayName"});
            AccountSpec account;
            r.string(o, "username", at, account.username);
            r.string(o, "key", at, account.key);
            r.string(o, "token", at, account.token);
            r.string(o, "displayName", at, account.displayName);
            if (account.username.empty())
                r.fail(at, "needs a username");
            s.accounts.push_back(account);
        });

        if (root.contains("quota") && r.object(root["quota"], "quota")) {
            const json &q = root["quota"];
            r.checkKeys(q, "quota", {"refreshTime", "gpu", "tpu"});
            r.time(q, "refreshTime", "quota", s.quota.refreshTime);
            if (q.contains("gpu"))
                readQuotaBucket(r, q["gpu"], "quota.gpu", s.quota.gpu);
            if (q.contains("tpu"))
                readQuotaBucket(r, q["tpu"], "quota.tpu", s.quota.tpu);
        }

        r.each(root, "datasets", "", [&](const json &o, const std::string &at) {
            r.checkKeys(o, at,
                        {"ref", "owner", "slug", "title", "subtitle", "description", "licenseName",
                         "isPrivate", "versions", "createdAt", "files"});
            DatasetSpec d;
            readRef(r, o, at, d.owner, d.slug);
            d.title = d.slug;
            r.string(o, "title", at, d.title);
            r.string(o, "subtitle", at, d.subtitle);
            r.string(o, "description", at, d.description);
            r.string(o, "licenseName", at, d.licenseName);
            r.boolean(o, "isPrivate", at, d.isPrivate);
            r.integer(o, "versions", at, d.versions);
            r.number(o, "createdAt", at, d.createdAt);
            if (o.contains("files")) {
                std::vector<OutputSpec> files;
                json wrapper = json::object();
                wrapper["outputs"] = o["files"];
                readOutputs(r, wrapper, at + ".files", files);
                d.files = files;
            }
            if (d.versions < 1)
                r.fail(at + ".versions", "must be >= 1");
            s.datasets.push_back(d);
        });

        r.each(root, "kernels", "", [&](const json &o, const std::string &at) {
            checkKeysVector(r, o, at, withRunKeys({"ref",
                                                   "owner",
                                                   "slug",
                                                   "title",
                                                   "language",
                                                   "kernelType",
                                                   "isPrivate",
                                                   "enableInternet",
                                                   "enableGpu",
                                                   "enableTpu",
                                                   "machineShape",
                                                   "dockerImage",
                                                   "datasetSources",
                                                   "kernelSources",
                                                   "competitionSources",
                                                   "modelSources",
                                                   "categoryIds",
                                                   "source",
                                                   "versions",
                                                   "created",
                                                   "neverRun",
                                                   "startAt",
                                                   "totalVotes",
                                                   "script"}));
            KernelSpec k;
            readRef(r, o, at, k.owner, k.slug);
            k.title = k.slug;
            r.string(o, "title", at, k.title);
            r.string(o, "language", at, k.language);
            r.string(o, "kernelType", at, k.kernelType);
            r.boolean(o, "isPrivate", at, k.isPrivate);
            r.boolean(o, "enableInternet", at, k.enableInternet);
            r.boolean(o, "enableGpu", at, k.enableGpu);
            r.boolean(o, "enableTpu", at, k.enableTpu);
            r.string(o, "machineShape", at, k.machineShape);
            r.string(o, "dockerImage", at, k.dockerImage);
            r.strings(o, "datasetSources", at, k.datasetSources);
            r.strings(o, "kernelSources", at, k.kernelSources);
            r.strings(o, "competitionSources", at, k.competitionSources);
            r.strings(o, "modelSources", at, k.modelSources);
            r.strings(o, "categoryIds", at, k.categoryIds);
            r.string(o, "source", at, k.source);
            r.integer(o, "versions", at, k.versions);
            r.boolean(o, "created", at, k.created);
            r.boolean(o, "neverRun", at, k.neverRun);
            r.number(o, "startAt", at, k.startAt);
            r.integer(o, "totalVotes", at, k.totalVotes);
            readRun(r, o, at, k.run);
            r.each(o, "script", at + ".", [&](const json &step, const std::string &stepAt) {
                checkKeysVector(r, step, stepAt, withRunKeys({}));
                RunSpec spec = k.run;
                readRun(r, step, stepAt, spec);
                k.script.push_back(spec);
            });
            if (k.versions < (k.created ? 1 : 0))
                r.fail(at + ".versions", "must be >= 1");
            if (!k.created)
                k.versions = 0;
            s.kernels.push_back(k);
        });
        if (r.ok())
            scenario = std::move(s);
    }
    if (!r.ok() && error)
        *error = r.error;
    return r.ok();
}

} // namespace kd::sim
