#include "world.h"

#include "simutil.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <set>

namespace kd::sim {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

constexpr double kWeek = 7 * 86400.0;
constexpr double kGpuSessionCap = 12 * 3600.0;
constexpr double kTpuSessionCap = 9 * 3600.0;

// kaggle-api.md section 4 ("Accelerators available as of Feb 2026").
const std::set<std::string> kMachineShapes = {
    "NvidiaTeslaP100", "TpuV38",          "NvidiaTeslaT4", "NvidiaTeslaT4Highmem",
    "Tpu1VmV38",       "NvidiaTeslaA100", "NvidiaL4",      "TpuV5E8",
    "NvidiaL4X1",      "TpuV6E8",         "NvidiaH100",    "NvidiaRtxPro6000"};

// kaggle-api.md section 5.5.
const std::set<std::string> kLicenses = {"CC0-1.0",
                                         "CC-BY-SA-3.0",
                                         "CC-BY-SA-4.0",
                                         "CC-BY-NC-SA-4.0",
                                         "GPL-2.0",
                                         "ODbL-1.0",
                                         "DbCL-1.0",
                                         "copyright-authors",
                                         "other",
                                         "unknown",
                                         "CC-BY-4.0",
                                         "CC-BY-NC-4.0",
                                         "PDDL",
                                         "CC-BY-3.0",
                                         "CC-BY-3.0-IGO",
                                         "US-Government-Works",
                                         "CC-BY-NC-SA-3.0-IGO",
                                         "CDLA-Permissive-1.0",
                                         "CDLA-Sharing-1.0",
                                         "CC-BY-ND-4.0",
                                         "CC-BY-NC-ND-4.0",
                                         "ODC-BY-1.0",
                                         "LGPL-3.0",
                                         "AGPL-3.0",
                                         "FDL-1.3",
                                         "EU-ODP-Legal-Notice",
                                         "apache-2.0",
                                         "GPL-3.0"};

const char *const kKernelStatusNames[] = {"QUEUED", "RUNNING",          "COMPLETE",
                                          "ERROR",  "CANCEL_REQUESTED", "CANCEL_ACKNOWLEDGED"};

const char *const kDatasetStages[] = {"NOT_YET_PERSISTED",           "BLOBS_RECEIVED",
                                      "BLOBS_DECOMPRESSED",          "BLOBS_COPIED_TO_SDS",
                                      "INDIVIDUAL_BLOBS_COMPRESSED", "READY"};

std::string dump(const ojson &value)
{
    return value.dump(-1, ' ', false, ojson::error_handler_t::replace);
}

/// "CANCEL_ACKNOWLEDGED" -> "cancelAcknowledged", the REST-era spelling.
std::string lowerCamel(const std::string &upper)
{
    std::string out;
    bool capital = false;
    for (const char c : upper) {
        if (c == '_') {
            capital = true;
            continue;
        }
        const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        out += capital ? static_cast<char>(lower - 'a' + 'A') : lower;
        capital = false;
    }
    return out;
}

std::string spell(const std::string &upper, StatusSpelling spelling, const char *prefix)
{
    switch (spelling) {
    case StatusSpelling::Upper:
        return upper;
    case StatusSpelling::Lower:
        return lowerCamel(upper);
    case StatusSpelling::Prefixed:
        return std::string(prefix) + upper;
    }
    return upper;
}

Reply jsonReply(int status, const ojson &body)
{
    Reply reply;
    reply.status = status;
    // A message with every field at its default is "{}", never "null".
    reply.body = body.is_null() ? "{}" : dump(body);
    return reply;
}

/// Kaggle's classic error body (kaggle-api.md 8.1).
Reply kaggleError(int code, const std::string &message)
{
    ojson body;
    body["code"] = code;
    body["message"] = message;
    return jsonReply(code, body);
}

Reply kernelDenied()
{
    return kaggleError(403, "Permission 'kernels.get' was denied");
}

/// Type-checked access to an untrusted request body; never throws.
class Args final
{
public:
    explicit Args(const json &body) : m_body(body) {}

    const json *get(const char *key) const
    {
        if (!m_body.is_object())
            return nullptr;
        const auto it = m_body.find(key);
        return it == m_body.end() || it->is_null() ? nullptr : &*it;
    }
    bool has(const char *key) const { return get(key) != nullptr; }
    std::string str(const char *key)
    {
        const json *v = get(key);
        if (!v)
            return {};
        if (!v->is_string())
            return bad(key), std::string();
        return v->get<std::string>();
    }
    std::optional<int64_t> int64(const char *key)
    {
        const json *v = get(key);
        if (!v)
            return std::nullopt;
        if (v->is_number_integer())
            return v->get<int64_t>();
        if (v->is_number_float() && std::floor(v->get<double>()) == v->get<double>())
            return static_cast<int64_t>(v->get<double>());
        if (v->is_string()) {
            // Proto3 JSON allows int64 as a string.
            const auto text = v->get<std::string>();
            char *end = nullptr;
            const long long parsed = std::strtoll(text.c_str(), &end, 10);
            if (!text.empty() && end && *end == '\0')
                return parsed;
        }
        bad(key);
        return std::nullopt;
    }
    std::optional<bool> boolean(const char *key)
    {
        const json *v = get(key);
        if (!v)
            return std::nullopt;
        if (!v->is_boolean())
            return bad(key), std::nullopt;
        return v->get<bool>();
    }
    std::vector<std::string> list(const char *key)
    {
        std::vector<std::string> out;
        const json *v = get(key);
        if (!v)
            return out;
        if (!v->is_array())
            return bad(key), out;
        for (const auto &item : *v) {
            if (!item.is_string())
                return bad(key), std::vector<std::string>();
            out.push_back(item.get<std::string>());
        }
        return out;
    }
    void bad(const char *key)
    {
        if (error.empty())
            error = std::string("Invalid value at '") + key + "'";
    }

    std::string error;

private:
    const json &m_body;
};

/// Writes response fields honouring omitDefaults / int64AsString.
struct Out
{
    bool omit = false;
    bool idsAsString = false;

    void str(ojson &o, const char *key, const std::string &value) const
    {
        if (!(omit && value.empty()))
            o[key] = value;
    }
    void boolean(ojson &o, const char *key, bool value) const
    {
        if (!(omit && !value))
            o[key] = value;
    }
    void id(ojson &o, const char *key, int64_t value) const
    {
        if (omit && value == 0)
            return;
        if (idsAsString)
            o[key] = std::to_string(value);
        else
            o[key] = value;
    }
    void integer(ojson &o, const char *key, int64_t value) const
    {
        if (!(omit && value == 0))
            o[key] = value;
    }
    void list(ojson &o, const char *key, const std::vector<std::string> &value) const
    {
        if (!(omit && value.empty()))
            o[key] = value;
    }
};

std::string pageToken(size_t offset)
{
    return "o" + std::to_string(offset);
}

std::optional<size_t> parsePageToken(const std::string &token)
{
    if (token.size() < 2 || token[0] != 'o')
        return std::nullopt;
    char *end = nullptr;
    const unsigned long long value = std::strtoull(token.c_str() + 1, &end, 10);
    if (!end || *end != '\0')
        return std::nullopt;
    return static_cast<size_t>(value);
}

/// Percent-encodes a file name for a URL path, keeping '/' between directories.
std::string urlPath(const std::string &name)
{
    static const char *hex = "0123456789ABCDEF";
    std::string out;
    for (const char c : name) {
        const auto u = static_cast<unsigned char>(c);
        if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
            out += c;
        } else {
            out += '%';
            out += hex[u >> 4];
            out += hex[u & 15];
        }
    }
    return out;
}

Accelerator acceleratorOf(const std::string &shape)
{
    if (shape.rfind("Nvidia", 0) == 0)
        return Accelerator::Gpu;
    if (shape.rfind("Tpu", 0) == 0)
        return Accelerator::Tpu;
    return Accelerator::None;
}

/// The accelerator a kernel's fields select; enableGpu without a shape gets a P100 (#821).
std::string effectiveShape(const std::string &shape, bool enableGpu, bool enableTpu)
{
    if (!shape.empty())
        return shape;
    if (enableTpu)
        return "TpuV38";
    if (enableGpu)
        return "NvidiaTeslaP100";
    return {};
}

std::string failureMessage(const Session &session)
{
    if (session.timedOut()) {
        return "Notebook exceeded its session timeout of " +
               std::to_string(static_cast<long long>(session.timeoutSeconds)) + " seconds";
    }
    if (!session.spec.failureMessage.empty())
        return session.spec.failureMessage;
    return session.spec.exception.empty() ? defaultException() : session.spec.exception;
}

bool isTerminal(KernelStatus status)
{
    return status == KernelStatus::Complete || status == KernelStatus::Error ||
           status == KernelStatus::CancelAcknowledged;
}

std::string generatedSource(const std::string &title, const std::string &kernelType)
{
    const std::string code = "# " + title +
                             "\nimport torch\nfrom transformers import Trainer, TrainingArguments\n"
                             "\nargs = TrainingArguments(output_dir='/kaggle/working', "
                             "save_strategy='epoch', eval_strategy='epoch')\n"
                             "trainer = Trainer(model=model, args=args)\ntrainer.train()\n";
    if (kernelType != "notebook")
        return code;
    ojson cell;
    cell["cell_type"] = "code";
    cell["execution_count"] = nullptr;
    cell["metadata"] = ojson::object();
    cell["outputs"] = ojson::array();
    cell["source"] = code;
    ojson notebook;
    notebook["cells"] = ojson::array({cell});
    notebook["metadata"] = {{"kernelspec", {{"language", "python"}, {"name", "python3"}}}};
    notebook["nbformat"] = 4;
    notebook["nbformat_minor"] = 4;
    return dump(notebook);
}

struct Ctx
{
    World &world;
    const std::string &caller;
    const std::string &baseUrl;
    double realNow;
    Out out;
    const json &body;
    const std::string &raw;
};

bool visibleKernel(const Kernel *kernel, const std::string &caller)
{
    return kernel && kernel->created && (kernel->owner == caller || !kernel->isPrivate);
}

std::string accountDisplayName(const World &world, const std::string &username)
{
    for (const auto &account : world.accounts()) {
        if (account.username == username && !account.displayName.empty())
            return account.displayName;
    }
    return username;
}

std::optional<double> lastRunTime(const Kernel &kernel, double now)
{
    std::optional<double> latest;
    for (const auto &session : kernel.sessions) {
        if (session->queuedAt <= now && (!latest || session->queuedAt > *latest))
            latest = session->queuedAt;
    }
    return latest;
}

ojson kernelMetadata(const Ctx &c, const Kernel &k, int version)
{
    const Out &o = c.out;
    ojson m;
    const std::string shape = effectiveShape(k.machineShape, k.enableGpu, k.enableTpu);
    o.id(m, "id", k.id);
    m["ref"] = k.ref();
    o.str(m, "title", version > 0 ? k.versions[static_cast<size_t>(version - 1)].title : k.title);
    o.str(m, "author", accountDisplayName(c.world, k.owner));
    o.str(m, "slug", k.slug);
    if (const auto last = lastRunTime(k, c.world.now()))
        m["lastRunTime"] = formatTimestamp(c.world.wallTime(*last));
    o.str(m, "language", k.language);
    o.str(m, "kernelType", k.kernelType);
    o.boolean(m, "isPrivate", k.isPrivate);
    o.boolean(m, "enableGpu", acceleratorOf(shape) == Accelerator::Gpu);
    o.boolean(m, "enableInternet", k.enableInternet);
    o.list(m, "categoryIds", k.categoryIds);
    o.list(m, "datasetDataSources", k.datasetSources);
    o.list(m, "kernelDataSources", k.kernelSources);
    o.list(m, "competitionDataSources", k.competitionSources);
    o.integer(m, "totalVotes", k.totalVotes);
    o.list(m, "modelDataSources", k.modelSources);
    o.boolean(m, "enableTpu", acceleratorOf(shape) == Accelerator::Tpu);
    o.id(m, "currentVersionNumber", static_cast<int64_t>(k.versions.size()));
    o.str(m, "dockerImage", k.dockerImage);
    o.str(m, "machineShape", k.machineShape);
    return m;
}

// --- RPC handlers ---------------------------------------------------------------------------

Reply introspectToken(Ctx &c)
{
    Args a(c.body);
    const std::string token = a.str("token");
    ojson r;
    const auto user = c.world.userForBearer(token);
    if (token.empty() || !user) {
        r["active"] = false;
        return jsonReply(200, r);
    }
    r["active"] = true;
    r["username"] = *user;
    r["clientId"] = "kaggle-api";
    c.out.id(r, "userId", c.world.userIdOf(*user));
    r["scope"] = "resources.admin:*";
    c.out.id(r, "exp", static_cast<int64_t>(c.realNow) + 30 * 86400);
    return jsonReply(200, r);
}

Reply listKernels(Ctx &c)
{
    World &w = c.world;
    Args a(c.body);
    const std::string group = a.str("group");
    const std::string user = a.str("user");
    const std::string search = toLower(a.str("search"));
    const std::string language = toLower(a.str("language"));
    const std::string kernelType = toLower(a.str("kernelType"));
    const std::string dataset = a.str("dataset");
    const std::string competition = a.str("competition");
    const std::string sortBy = a.str("sortBy");
    const auto page = a.int64("page");
    const auto pageSize = a.int64("pageSize");
    const std::string token = a.str("pageToken");
    a.str("parentKernel");
    a.str("outputType");
    if (!a.error.empty())
        return kaggleError(400, a.error);

    const std::string target = !user.empty() ? user : (group == "PROFILE" ? c.caller : "");
    std::vector<Kernel *> kernels;
    for (const auto &ref : w.kernelRefs()) {
        Kernel *k = w.findKernel(ref);
        if (!visibleKernel(k, c.caller))
            continue;
        if (!target.empty() && k->owner != target)
            continue;
        if (!search.empty() && toLower(k->title).find(search) == std::string::npos &&
            k->slug.find(search) == std::string::npos)
            continue;
        if (!language.empty() && language != "all" && k->language != language)
            continue;
        if (!kernelType.empty() && kernelType != "all" && k->kernelType != kernelType)
            continue;
        if (!dataset.empty() && std::find(k->datasetSources.begin(), k->datasetSources.end(),
                                          dataset) == k->datasetSources.end())
            continue;
        if (!competition.empty() &&
            std::find(k->competitionSources.begin(), k->competitionSources.end(), competition) ==
                k->competitionSources.end())
            continue;
        kernels.push_back(k);
    }
    const double now = w.now();
    const double never = -std::numeric_limits<double>::infinity();
    std::stable_sort(kernels.begin(), kernels.end(), [&](const Kernel *x, const Kernel *y) {
        if (sortBy == "DATE_RUN") {
            const double rx = lastRunTime(*x, now).value_or(never);
            const double ry = lastRunTime(*y, now).value_or(never);
            if (rx != ry)
                return rx > ry;
        } else if (sortBy == "DATE_CREATED") {
            if (x->createdAt != y->createdAt)
                return x->createdAt > y->createdAt;
        } else if (x->totalVotes != y->totalVotes) {
            return x->totalVotes > y->totalVotes;
        }
        return x->id < y->id;
    });

    const size_t size =
        static_cast<size_t>(pageSize && *pageSize > 0 ? std::min<int64_t>(*pageSize, 100) : 20);
    size_t offset = 0;
    if (!token.empty()) {
        const auto parsed = parsePageToken(token);
        if (!parsed)
            return kaggleError(400, "Invalid page token");
        offset = *parsed;
    } else if (page && *page > 1) {
        offset = static_cast<size_t>(*page - 1) * size;
    }
    ojson list = ojson::array();
    for (size_t i = offset; i < kernels.size() && i < offset + size; ++i)
        list.push_back(kernelMetadata(c, *kernels[i], 0));
    ojson r;
    if (!(c.out.omit && list.empty()))
        r["kernels"] = list;
    c.out.str(r, "nextPageToken", offset + size < kernels.size() ? pageToken(offset + size) : "");
    return jsonReply(200, r);
}

/// Resolves {userName, kernelSlug} to a kernel the caller may see, or an error reply.
Kernel *kernelFromRequest(Ctx &c, Args &a, Reply &error, int *version = nullptr)
{
    const std::string user = a.str("userName");
    std::string slug = a.str("kernelSlug");
    a.str("versionLabel");
    if (!a.error.empty()) {
        error = kaggleError(400, a.error);
        return nullptr;
    }
    // `kernels pull` asks for a version as "<slug>/<version>" (#1035).
    if (const auto slash = slug.find('/'); slash != std::string::npos && version) {
        *version = std::atoi(slug.c_str() + slash + 1);
        slug = slug.substr(0, slash);
    }
    if (user.empty() || slug.empty()) {
        error = kaggleError(400, "userName and kernelSlug are required");
        return nullptr;
    }
    Kernel *k = c.world.findKernel(user + "/" + slug);
    if (!visibleKernel(k, c.caller)) {
        error = kernelDenied();
        return nullptr;
    }
    return k;
}

Reply getKernelSessionStatus(Ctx &c)
{
    Args a(c.body);
    Reply error;
    Kernel *k = kernelFromRequest(c, a, error);
    if (!k)
        return error;
    bool phantom = false;
    const auto index = c.world.visibleSession(*k, phantom);
    if (!index)
        return kaggleError(404, "No kernel session found for " + k->ref());
    Session &s = *k->sessions[*index];
    const KernelStatus status = s.statusAt(c.world.now());
    ojson r;
    if (!(c.out.omit && status == KernelStatus::Queued)) {
        r["status"] = spell(kKernelStatusNames[static_cast<int>(status)],
                            c.world.options().statusSpelling, "KERNEL_WORKER_STATUS_");
    }
    if (status == KernelStatus::Error)
        r["failureMessage"] = failureMessage(s);
    return jsonReply(200, r);
}

Reply listKernelSessionOutput(Ctx &c)
{
    World &w = c.world;
    Args a(c.body);
    const auto pageSize = a.int64("pageSize");
    const std::string token = a.str("pageToken");
    Reply error;
    Kernel *k = kernelFromRequest(c, a, error);
    if (!k)
        return error;
    bool phantom = false;
    const auto index = w.visibleSession(*k, phantom);
    if (!index)
        return kaggleError(404, "No kernel session found for " + k->ref());
    Session &s = *k->sessions[*index];
    size_t offset = 0;
    if (!token.empty()) {
        const auto parsed = parsePageToken(token);
        if (!parsed)
            return kaggleError(400, "Invalid page token");
        offset = *parsed;
    }
    const size_t size = static_cast<size_t>(
        pageSize && *pageSize > 0 ? std::min<int64_t>(*pageSize, 200) : w.outputPageSize());
    const auto files = w.outputsOf(s);
    ojson list = ojson::array();
    for (size_t i = offset; i < files.size() && i < offset + size; ++i) {
        ojson f;
        f["url"] = c.baseUrl + "/blob/" +
                   w.signBlob(k->ref(), *index, files[i], s.log->loss(), c.realNow) + "/" +
                   urlPath(files[i].name);
        f["fileName"] = files[i].name;
        list.push_back(f);
    }
    ojson r;
    if (!(c.out.omit && list.empty()))
        r["files"] = list;
    // The CLI writes the log only from the first page; Kaggle sends it only there.
    if (token.empty())
        c.out.str(r, "log", w.persistedLog(s));
    c.out.str(r, "nextPageToken", offset + size < files.size() ? pageToken(offset + size) : "");
    return jsonReply(200, r);
}

Reply listKernelFiles(Ctx &c)
{
    World &w = c.world;
    Args a(c.body);
    const auto pageSize = a.int64("pageSize");
    const std::string token = a.str("pageToken");
    Reply error;
    Kernel *k = kernelFromRequest(c, a, error);
    if (!k)
        return error;
    bool phantom = false;
    const auto index = w.visibleSession(*k, phantom);
    std::vector<OutputFile> files;
    double created = w.now();
    if (index) {
        files = w.outputsOf(*k->sessions[*index]);
        created = k->sessions[*index]->end();
    }
    size_t offset = 0;
    if (!token.empty()) {
        const auto parsed = parsePageToken(token);
        if (!parsed)
            return kaggleError(400, "Invalid page token");
        offset = *parsed;
    }
    const size_t size =
        static_cast<size_t>(pageSize && *pageSize > 0 ? std::min<int64_t>(*pageSize, 200) : 20);
    ojson list = ojson::array();
    for (size_t i = offset; i < files.size() && i < offset + size; ++i) {
        ojson f;
        f["name"] = files[i].name;
        c.out.id(f, "size", files[i].size);
        f["creationDate"] = formatKaggleFileDate(w.wallTime(created));
        list.push_back(f);
    }
    ojson r;
    if (!(c.out.omit && list.empty()))
        r["files"] = list;
    c.out.str(r, "nextPageToken", offset + size < files.size() ? pageToken(offset + size) : "");
    return jsonReply(200, r);
}

Reply getKernel(Ctx &c)
{
    Args a(c.body);
    Reply error;
    int version = 0;
    Kernel *k = kernelFromRequest(c, a, error, &version);
    if (!k)
        return error;
    if (version < 0 || version > static_cast<int>(k->versions.size()) ||
        (version == 0 && k->versions.empty()))
        return kaggleError(404, "Kernel version not found");
    const KernelVersion &v = k->versions[static_cast<size_t>(
        (version > 0 ? version : static_cast<int>(k->versions.size())) - 1)];
    ojson r;
    r["metadata"] = kernelMetadata(c, *k, version);
    ojson blob;
    c.out.str(blob, "source", v.text);
    c.out.str(blob, "language", k->language);
    c.out.str(blob, "kernelType", k->kernelType);
    c.out.str(blob, "slug", k->slug);
    r["blob"] = blob;
    return jsonReply(200, r);
}

struct SaveLists
{
    std::vector<std::string> tags, datasets, competitions, kernels, models;
    bool any() const
    {
        return !tags.empty() || !datasets.empty() || !competitions.empty() || !kernels.empty() ||
               !models.empty();
    }
};

Reply saveResponse(const Ctx &c, const std::string &ref, int version, const std::string &error,
                   const SaveLists &invalid, int64_t kernelId)
{
    const Out &o = c.out;
    ojson r;
    o.str(r, "ref", ref);
    o.str(r, "url", ref.empty() ? "" : c.baseUrl + "/code/" + ref);
    o.id(r, "versionNumber", version);
    o.str(r, "error", error);
    o.list(r, "invalidTags", invalid.tags);
    o.list(r, "invalidDatasetSources", invalid.datasets);
    o.list(r, "invalidCompetitionSources", invalid.competitions);
    o.list(r, "invalidKernelSources", invalid.kernels);
    o.list(r, "invalidModelSources", invalid.models);
    o.id(r, "kernelId", kernelId);
    return jsonReply(200, r);
}

Reply saveKernel(Ctx &c)
{
    World &w = c.world;
    Args a(c.body);
    const auto id = a.int64("id");
    const std::string slugArg = a.str("slug");
    const std::string newTitle = a.str("newTitle");
    const std::string text = a.str("text");
    const std::string language = toLower(a.str("language"));
    const std::string kernelType = toLower(a.str("kernelType"));
    auto datasetSources = a.list("datasetDataSources");
    auto kernelSources = a.list("kernelDataSources");
    auto competitionSources = a.list("competitionDataSources");
    auto modelSources = a.list("modelDataSources");
    const auto categoryIds = a.list("categoryIds");
    const auto isPrivate = a.boolean("isPrivate");
    const auto enableGpu = a.boolean("enableGpu");
    const auto enableTpu = a.boolean("enableTpu");
    const auto enableInternet = a.boolean("enableInternet");
    const std::string dockerImage = a.str("dockerImage");
    const std::string pinning = a.str("dockerImagePinningType");
    const auto timeout = a.int64("sessionTimeoutSeconds");
    a.int64("priority");
    const std::string executionType = a.str("kernelExecutionType");
    const std::string machineShape = a.str("machineShape");
    if (!a.error.empty())
        return kaggleError(400, a.error);
    auto fail = [&](const std::string &message, const SaveLists &lists = {}) {
        return saveResponse(c, "", 0, message, lists, 0);
    };

    Kernel *k = nullptr;
    Kernel *planned = nullptr; // a scenario kernel with "created": false
    std::string owner;
    std::string slug;
    if (id) {
        k = w.findKernelById(*id);
        if (!k || !k->created)
            return fail("Kernel not found");
    } else if (!slugArg.empty()) {
        const auto parts = split(slugArg, '/');
        if (parts.size() != 2 || parts[0].empty() || parts[1].empty())
            return fail("Invalid kernel slug \"" + slugArg + "\": expected owner/kernel-slug");
        owner = parts[0];
        slug = parts[1];
        k = w.findKernel(slugArg);
        if (k && !k->created) {
            planned = k;
            k = nullptr;
        }
    } else {
        return fail("A kernel id or slug is required");
    }
    if (k && k->owner != c.caller)
        return fail("You do not have permission to push to " + k->ref());
    const bool creating = k == nullptr;
    if (creating) {
        if (owner != c.caller)
            return fail("You cannot create kernels for user " + owner);
        if (newTitle.empty())
            return fail("Kernel not found");
        if (newTitle.size() < 5)
            return fail("Title must be at least 5 characters");
        // Kaggle names a new kernel after its title, whatever slug was sent.
        const std::string derived = slugify(newTitle);
        if (derived.empty())
            return fail("Title must contain letters or digits");
        Kernel *existing = w.findKernel(c.caller + "/" + derived);
        if (existing && existing->created) {
            k = existing;
        } else {
            planned =
                existing ? existing : (planned && planned->slug == derived ? planned : nullptr);
            slug = derived;
        }
    }
    const bool isNew = k == nullptr;
    if (text.empty())
        return fail("Kernel source text is empty");
    if (!language.empty() && language != "python" && language != "r" && language != "rmarkdown")
        return fail("Invalid language \"" + language + "\": expected python, r or rmarkdown");
    if (isNew && language.empty())
        return fail("A language is required to create a kernel");
    if (!kernelType.empty() && kernelType != "script" && kernelType != "notebook")
        return fail("Invalid kernel type \"" + kernelType + "\": expected script or notebook");
    if (isNew && kernelType.empty())
        return fail("A kernel type is required to create a kernel");
    if (!isNew && !kernelType.empty() && kernelType != k->kernelType)
        return fail("The kernel type of an existing kernel cannot be changed");
    if (!machineShape.empty() && !kMachineShapes.count(machineShape))
        return fail("Invalid machine shape \"" + machineShape + "\"");
    if (!pinning.empty() && pinning != "original" && pinning != "latest")
        return fail("Invalid docker image pinning type \"" + pinning + "\"");
    const std::string execution = toLower(executionType);
    bool quickSave = false;
    if (execution == "quick_save" || execution == "quicksave")
        quickSave = true;
    else if (!execution.empty() && execution != "kernel_execution_type_unspecified" &&
             execution != "save_and_run_all" && execution != "saveandrunall" &&
             execution != "inter_active" && execution != "interactive")
        return fail("Invalid kernelExecutionType \"" + executionType + "\"");
    const std::string shape =
        effectiveShape(machineShape, enableGpu.value_or(false), enableTpu.value_or(false));
    const Accelerator accelerator = acceleratorOf(shape);
    const double cap = accelerator == Accelerator::Tpu ? kTpuSessionCap : kGpuSessionCap;
    if (timeout && (*timeout < 0 || static_cast<double>(*timeout) > cap))
        return fail("sessionTimeoutSeconds must be between 0 and the global maximum of " +
                    std::to_string(static_cast<long long>(cap)) + " seconds");

    SaveLists invalid;
    auto keepValid = [](std::vector<std::string> &list, std::vector<std::string> &bad,
                        const std::function<bool(const std::string &)> &valid) {
        std::vector<std::string> good;
        for (const auto &item : list)
            (valid(item) ? good : bad).push_back(item);
        list = good;
    };
    keepValid(datasetSources, invalid.datasets, [&](const std::string &ref) {
        const Dataset *d = w.findDataset(ref);
        return d && (!d->isPrivate || d->owner == c.caller);
    });
    const std::string selfRef = isNew ? "" : toLower(k->ref());
    keepValid(kernelSources, invalid.kernels, [&](const std::string &ref) {
        if (!selfRef.empty() && toLower(ref) == selfRef)
            return true; // "Files" persistence: a kernel may read its own previous output
        return visibleKernel(w.findKernel(ref), c.caller);
    });
    keepValid(competitionSources, invalid.competitions, [&](const std::string &slugText) {
        const auto &known = w.options().competitions;
        return !slugText.empty() &&
               (known.empty() || std::find(known.begin(), known.end(), slugText) != known.end());
    });
    keepValid(modelSources, invalid.models, [](const std::string &ref) {
        const auto parts = split(ref, '/');
        return (parts.size() == 4 || parts.size() == 5) &&
               std::none_of(parts.begin(), parts.end(),
                            [](const std::string &p) { return p.empty(); });
    });
    if (invalid.any() && w.options().rejectInvalidSources)
        return fail("One or more data sources are invalid", invalid);
    if (!quickSave && accelerator == Accelerator::Gpu &&
        w.activeGpuSessions(c.caller) >= w.maxGpuSessions()) {
        return fail("Maximum batch GPU session count of " + std::to_string(w.maxGpuSessions()) +
                    " reached");
    }

    if (isNew) {
        k = planned ? planned : &w.createKernel(c.caller, slug);
        k->created = true;
        k->createdAt = w.now();
        k->title = newTitle;
        k->language = language;
        k->kernelType = kernelType;
    } else {
        if (!newTitle.empty())
            k->title = newTitle;
        if (!language.empty())
            k->language = language;
    }
    k->isPrivate = isPrivate.value_or(isNew ? true : k->isPrivate);
    k->enableInternet = enableInternet.value_or(isNew ? false : k->enableInternet);
    k->enableGpu = enableGpu.value_or(false);
    k->enableTpu = enableTpu.value_or(false);
    k->machineShape = machineShape;
    k->dockerImage = dockerImage;
    // Proto3 repeated fields cannot tell "omitted" from "empty", so a push replaces them all.
    k->datasetSources = datasetSources;
    k->kernelSources = kernelSources;
    k->competitionSources = competitionSources;
    k->modelSources = modelSources;
    k->categoryIds = categoryIds;
    KernelVersion v;
    v.number = static_cast<int>(k->versions.size()) + 1;
    v.savedAt = w.now();
    v.text = text;
    v.title = k->title;
    k->versions.push_back(v);
    k->lastSaveRequest = c.raw;
    if (!quickSave) {
        // A push supersedes sessions the scenario had scheduled for later.
        const double now = w.now();
        std::erase_if(k->sessions,
                      [now](const std::unique_ptr<Session> &s) { return s->queuedAt > now; });
        w.startSession(*k, w.nextPushSpec(*k), now, true,
                       timeout ? static_cast<double>(*timeout) : 0.0);
    }
    return saveResponse(c, k->ref(), v.number, "", invalid, k->id);
}

Reply quotaStatistics(Ctx &c)
{
    World &w = c.world;
    ojson r;
    r["quotaRefreshTime"] = formatTimestamp(w.quotaWindowEnd());
    for (const auto &[key, accelerator] :
         {std::pair{"gpuQuota", Accelerator::Gpu}, std::pair{"tpuQuota", Accelerator::Tpu}}) {
        const auto q = w.quota(c.caller, accelerator);
        ojson b;
        b["timeUsed"] = formatDuration(q.used);
        b["timeReserved"] = formatDuration(q.reserved);
        b["totalTimeAllowed"] = formatDuration(q.total);
        b["minimumTimeAllowed"] = formatDuration(q.minimum);
        c.out.boolean(b, "isPayToScaleEnabled", q.payToScale);
        c.out.boolean(b, "hasEverRun", q.hasEverRun);
        r[key] = b;
    }
    return jsonReply(200, r);
}

Reply startBlobUpload(Ctx &c)
{
    Args a(c.body);
    const std::string type = a.str("type");
    const std::string name = a.str("name");
    const auto length = a.int64("contentLength");
    a.int64("lastModifiedEpochSeconds");
    a.str("contentType");
    if (!a.error.empty())
        return kaggleError(400, a.error);
    static const std::set<std::string> types = {"DATASET", "MODEL", "INBOX",
                                                "COMPETITION_SOLUTION"};
    std::string upper = type;
    for (auto &ch : upper)
        ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (!type.empty() && !types.count(upper))
        return kaggleError(400, "Invalid blob type \"" + type + "\"");
    if (name.empty())
        return kaggleError(400, "A file name is required");
    if (!length || *length < 0)
        return kaggleError(400, "contentLength is required");
    const std::string token = c.world.newUploadToken(c.caller, name, *length, c.realNow);
    ojson r;
    r["token"] = token;
    r["createUrl"] = c.baseUrl + "/upload/" + token;
    return jsonReply(200, r);
}

Reply datasetResult(const Ctx &c, const std::string &ref, const std::string &error)
{
    ojson r;
    if (!error.empty()) {
        r["ref"] = "";
        r["url"] = "";
        r["status"] = "error";
        r["error"] = error;
        return jsonReply(200, r);
    }
    r["ref"] = ref;
    r["url"] = c.baseUrl + "/datasets/" + ref;
    r["status"] = "ok";
    c.out.str(r, "error", "");
    c.out.list(r, "invalidTags", {});
    return jsonReply(200, r);
}

/// Checks files[].token against completed uploads; returns an error text or "".
std::string collectFiles(Ctx &c, const json *files, std::vector<OutputSpec> &out)
{
    if (!files || !files->is_array() || files->empty())
        return "A dataset version must contain at least one file";
    for (const auto &file : *files) {
        if (!file.is_object() || !file.contains("token") || !file["token"].is_string())
            return "Every file needs an upload token";
        const std::string token = file["token"].get<std::string>();
        const Upload *upload = c.world.findUpload(token, c.realNow);
        if (!upload)
            return "Invalid upload token: " + token;
        if (!upload->complete())
            return "The upload for token " + token + " is incomplete";
        out.push_back({upload->name, upload->size});
    }
    return {};
}

bool validDatasetSlug(const std::string &slug)
{
    if (slug.size() < 6 || slug.size() > 50 || slug.front() == '-' || slug.back() == '-')
        return false;
    return std::all_of(slug.begin(), slug.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
    });
}

Reply createDataset(Ctx &c)
{
    World &w = c.world;
    Args a(c.body);
    a.int64("id");
    const std::string ownerSlug = a.str("ownerSlug");
    std::string slug = a.str("slug");
    const std::string title = a.str("title");
    const std::string license = a.str("licenseName");
    const auto isPrivate = a.boolean("isPrivate");
    const std::string subtitle = a.str("subtitle");
    const std::string description = a.str("description");
    const auto categories = a.list("categoryIds");
    if (!a.error.empty())
        return kaggleError(400, a.error);
    const std::string owner = ownerSlug.empty() ? c.caller : ownerSlug;
    if (owner != c.caller)
        return datasetResult(c, "", "You do not have permission to create datasets for " + owner);
    if (slug.empty())
        slug = slugify(title);
    if (title == "INSERT_TITLE_HERE" || slug == "INSERT_SLUG_HERE")
        return datasetResult(c, "",
                             "Please replace the INSERT_TITLE_HERE / INSERT_SLUG_HERE "
                             "placeholders");
    if (!validDatasetSlug(slug))
        return datasetResult(c, "",
                             "The dataset slug must be 6 to 50 characters of lower-case "
                             "letters, digits and dashes");
    if (title.size() < 6 || title.size() > 50)
        return datasetResult(c, "", "The dataset title must be between 6 and 50 characters");
    if (!subtitle.empty() && (subtitle.size() < 20 || subtitle.size() > 80))
        return datasetResult(c, "", "The dataset subtitle must be between 20 and 80 characters");
    if (license.empty())
        return datasetResult(c, "", "A license is required");
    if (!kLicenses.count(license))
        return datasetResult(c, "", "Invalid license name \"" + license + "\"");
    if (w.findDataset(owner + "/" + slug))
        return datasetResult(c, "", "The requested slug is already in use");
    std::vector<OutputSpec> files;
    if (const std::string error = collectFiles(c, a.get("files"), files); !error.empty())
        return datasetResult(c, "", error);
    Dataset &d = w.createDataset(owner, slug);
    d.title = title;
    d.subtitle = subtitle;
    d.description = description;
    d.licenseName = license;
    d.isPrivate = isPrivate.value_or(false);
    d.categoryIds = categories;
    d.versions.push_back({1, w.now(), "Initial release", files});
    return datasetResult(c, d.ref(), "");
}

Reply createVersion(Ctx &c, Dataset *d, const json *body)
{
    if (!d)
        return kaggleError(404, "Dataset not found");
    if (d->owner != c.caller)
        return datasetResult(c, "", "You do not have permission to update " + d->ref());
    if (!body || !body->is_object())
        return kaggleError(400, "Invalid value at 'body'");
    Args b(*body);
    const std::string notes = b.str("versionNotes");
    b.boolean("deleteOldVersions");
    const std::string subtitle = b.str("subtitle");
    const std::string description = b.str("description");
    if (!b.error.empty())
        return kaggleError(400, b.error);
    std::vector<OutputSpec> files;
    if (const std::string error = collectFiles(c, b.get("files"), files); !error.empty())
        return datasetResult(c, "", error);
    if (!subtitle.empty())
        d->subtitle = subtitle;
    if (!description.empty())
        d->description = description;
    d->versions.push_back({static_cast<int>(d->versions.size()) + 1, c.world.now(), notes, files});
    return datasetResult(c, d->ref(), "");
}

Reply createDatasetVersion(Ctx &c)
{
    Args a(c.body);
    const std::string owner = a.str("ownerSlug");
    const std::string slug = a.str("datasetSlug");
    if (!a.error.empty())
        return kaggleError(400, a.error);
    return createVersion(c, c.world.findDataset(owner + "/" + slug), a.get("body"));
}

Reply createDatasetVersionById(Ctx &c)
{
    Args a(c.body);
    const auto id = a.int64("id");
    if (!a.error.empty() || !id)
        return kaggleError(400, a.error.empty() ? "id is required" : a.error);
    return createVersion(c, c.world.findDatasetById(*id), a.get("body"));
}

Dataset *datasetFromRequest(Ctx &c, Reply &error)
{
    Args a(c.body);
    const std::string owner = a.str("ownerSlug");
    const std::string slug = a.str("datasetSlug");
    if (!a.error.empty()) {
        error = kaggleError(400, a.error);
        return nullptr;
    }
    Dataset *d = c.world.findDataset(owner + "/" + slug);
    if (!d) {
        error = kaggleError(404, "Dataset " + owner + "/" + slug + " not found");
        return nullptr;
    }
    if (d->isPrivate && d->owner != c.caller) {
        error = kaggleError(403, "Permission 'datasets.get' was denied");
        return nullptr;
    }
    return d;
}

int datasetStage(const World &w, const Dataset &d)
{
    const double processing = w.options().datasetProcessingSeconds;
    const double elapsed = w.now() - d.versions.back().createdAt;
    if (processing <= 0 || elapsed >= processing)
        return 5;
    return std::clamp(static_cast<int>(elapsed / processing * 5), 0, 4);
}

Reply getDatasetStatus(Ctx &c)
{
    Reply error;
    Dataset *d = datasetFromRequest(c, error);
    if (!d)
        return error;
    const int stage = datasetStage(c.world, *d);
    ojson r;
    if (!(c.out.omit && stage == 0)) {
        r["status"] = spell(kDatasetStages[stage], c.world.options().statusSpelling,
                            "DATABUNDLE_VERSION_STATUS_");
    }
    return jsonReply(200, r);
}

Reply getDataset(Ctx &c)
{
    Reply error;
    Dataset *d = datasetFromRequest(c, error);
    if (!d)
        return error;
    const World &w = c.world;
    const Out &o = c.out;
    int64_t totalBytes = 0;
    for (const auto &file : d->versions.back().files)
        totalBytes += file.size;
    ojson r;
    o.id(r, "id", d->id);
    r["ref"] = d->ref();
    o.str(r, "subtitle", d->subtitle);
    o.str(r, "creatorName", accountDisplayName(w, d->owner));
    o.str(r, "creatorUrl", c.baseUrl + "/" + d->owner);
    o.id(r, "totalBytes", totalBytes);
    r["url"] = c.baseUrl + "/datasets/" + d->ref();
    r["lastUpdated"] = formatTimestamp(w.wallTime(d->versions.back().createdAt));
    o.integer(r, "downloadCount", 0);
    o.boolean(r, "isPrivate", d->isPrivate);
    o.boolean(r, "isFeatured", false);
    o.str(r, "licenseName", d->licenseName);
    o.str(r, "description", d->description);
    o.str(r, "ownerName", accountDisplayName(w, d->owner));
    o.str(r, "ownerRef", d->owner);
    o.integer(r, "kernelCount", 0);
    o.str(r, "title", d->title);
    o.id(r, "currentVersionNumber", static_cast<int64_t>(d->versions.size()));
    ojson files = ojson::array();
    for (const auto &file : d->versions.back().files) {
        ojson f;
        f["ref"] = d->ref() + "/" + file.name;
        f["datasetRef"] = d->ref();
        f["ownerRef"] = d->owner;
        f["name"] = file.name;
        f["creationDate"] = formatTimestamp(w.wallTime(d->versions.back().createdAt));
        o.id(f, "totalBytes", file.size);
        files.push_back(f);
    }
    if (!(o.omit && files.empty()))
        r["files"] = files;
    ojson versions = ojson::array();
    for (const auto &version : d->versions) {
        ojson v;
        o.id(v, "versionNumber", version.number);
        v["creationDate"] = formatTimestamp(w.wallTime(version.createdAt));
        v["creatorName"] = accountDisplayName(w, d->owner);
        v["creatorRef"] = d->owner;
        o.str(v, "versionNotes", version.notes);
        v["status"] =
            version.number == static_cast<int>(d->versions.size()) && datasetStage(w, *d) < 5
                ? "processing"
                : "ready";
        versions.push_back(v);
    }
    r["versions"] = versions;
    return jsonReply(200, r);
}

using Handler = Reply (*)(Ctx &);

const std::map<std::string, Handler> &handlers()
{
    static const std::map<std::string, Handler> table = {
        {"security.OAuthService/IntrospectToken", introspectToken},
        {"kernels.KernelsApiService/ListKernels", listKernels},
        {"kernels.KernelsApiService/GetKernelSessionStatus", getKernelSessionStatus},
        {"kernels.KernelsApiService/ListKernelSessionOutput", listKernelSessionOutput},
        {"kernels.KernelsApiService/GetKernel", getKernel},
        {"kernels.KernelsApiService/SaveKernel", saveKernel},
        {"kernels.KernelsApiService/GetAcceleratorQuotaStatistics", quotaStatistics},
        {"kernels.KernelsApiService/ListKernelFiles", listKernelFiles},
        {"blobs.BlobApiService/StartBlobUpload", startBlobUpload},
        {"datasets.DatasetApiService/CreateDataset", createDataset},
        {"datasets.DatasetApiService/CreateDatasetVersion", createDatasetVersion},
        {"datasets.DatasetApiService/CreateDatasetVersionById", createDatasetVersionById},
        {"datasets.DatasetApiService/GetDatasetStatus", getDatasetStatus},
        {"datasets.DatasetApiService/GetDataset", getDataset},
    };
    return table;
}

} // namespace

KernelStatus Session::statusAt(double t) const
{
    if (t < runStart())
        return KernelStatus::Queued;
    if (t < end()) {
        const bool cancelling = spec.outcome == Outcome::Cancel && !timedOut() &&
                                t >= end() - std::min(2.0, runDuration() * 0.1);
        return cancelling ? KernelStatus::CancelRequested : KernelStatus::Running;
    }
    if (timedOut())
        return KernelStatus::Error;
    switch (spec.outcome) {
    case Outcome::Complete:
        return KernelStatus::Complete;
    case Outcome::Error:
        return KernelStatus::Error;
    case Outcome::Cancel:
        return KernelStatus::CancelAcknowledged;
    }
    return KernelStatus::Complete;
}

World::World(uint64_t seed) : m_seed(seed), m_startTime(std::floor(realUnixNow())) {}

bool World::load(const Scenario &scenario, std::string *error)
{
    auto fail = [error](const std::string &message) {
        if (error)
            *error = message;
        return false;
    };
    m_name = scenario.name;
    m_options = scenario.options;
    m_quota = scenario.quota;
    if (m_options.startTime)
        m_startTime = *m_options.startTime;
    if (m_options.maxGpuSessions)
        m_maxGpuSessions = *m_options.maxGpuSessions;
    if (m_options.outputPageSize)
        m_outputPageSize = *m_options.outputPageSize;
    for (const auto &account : scenario.accounts)
        addAccount(account);
    for (const auto &spec : scenario.datasets) {
        if (findDataset(spec.owner + "/" + spec.slug))
            return fail("duplicate dataset " + spec.owner + "/" + spec.slug);
        Dataset &d = createDataset(spec.owner, spec.slug);
        d.title = spec.title;
        d.subtitle = spec.subtitle;
        d.description = spec.description;
        d.licenseName = spec.licenseName;
        d.isPrivate = spec.isPrivate;
        const std::vector<OutputSpec> files =
            spec.files.empty() ? std::vector<OutputSpec>{{"train.csv", 1024 * 1024}} : spec.files;
        for (int v = 1; v <= spec.versions; ++v) {
            d.versions.push_back({v, spec.createdAt - (spec.versions - v) * 86400.0,
                                  v == 1 ? "Initial release" : "Update", files});
        }
    }
    for (const auto &spec : scenario.kernels) {
        if (findKernel(spec.owner + "/" + spec.slug))
            return fail("duplicate kernel " + spec.owner + "/" + spec.slug);
        if (!spec.machineShape.empty() && !kMachineShapes.count(spec.machineShape))
            return fail("kernel " + spec.owner + "/" + spec.slug + ": unknown machineShape " +
                        spec.machineShape);
        Kernel &k = createKernel(spec.owner, spec.slug);
        k.title = spec.title;
        k.language = spec.language;
        k.kernelType = spec.kernelType;
        k.isPrivate = spec.isPrivate;
        k.enableInternet = spec.enableInternet;
        k.enableGpu = spec.enableGpu;
        k.enableTpu = spec.enableTpu;
        k.machineShape = spec.machineShape;
        k.dockerImage = spec.dockerImage;
        k.datasetSources = spec.datasetSources;
        k.kernelSources = spec.kernelSources;
        k.competitionSources = spec.competitionSources;
        k.modelSources = spec.modelSources;
        k.categoryIds = spec.categoryIds;
        k.totalVotes = spec.totalVotes;
        k.created = spec.created;
        k.script = spec.script;
        k.createdAt = spec.startAt - spec.versions * 3600.0;
        const std::string source =
            spec.source.empty() ? generatedSource(spec.title, spec.kernelType) : spec.source;
        for (int v = 1; v <= spec.versions; ++v) {
            k.versions.push_back(
                {v, spec.startAt - (spec.versions - v) * 3600.0, source, spec.title});
        }
        if (spec.created && !spec.neverRun)
            startSession(k, spec.run, spec.startAt, false, 0);
    }
    return true;
}

void World::addAccount(const AccountSpec &spec)
{
    for (auto &account : m_accounts) {
        if (account.spec.username == spec.username) {
            account.spec = spec;
            return;
        }
    }
    m_accounts.push_back({spec, m_nextUserId++});
}

int64_t World::userIdOf(const std::string &username) const
{
    for (const auto &account : m_accounts) {
        if (account.spec.username == username)
            return account.userId;
    }
    return 0;
}

std::vector<AccountSpec> World::accounts() const
{
    std::vector<AccountSpec> out;
    for (const auto &account : m_accounts)
        out.push_back(account.spec);
    return out;
}

std::optional<std::string> World::userForBasic(const std::string &user,
                                               const std::string &key) const
{
    for (const auto &account : m_accounts) {
        if (account.spec.username == user && !account.spec.key.empty() && account.spec.key == key)
            return account.spec.username;
    }
    return std::nullopt;
}

std::optional<std::string> World::userForBearer(const std::string &token) const
{
    for (const auto &account : m_accounts) {
        if (!account.spec.token.empty() && account.spec.token == token)
            return account.spec.username;
    }
    return std::nullopt;
}

bool World::hasRpc(const std::string &service, const std::string &method) const
{
    return handlers().count(service + "/" + method) > 0;
}

bool World::rpcNeedsAuth(const std::string &service, const std::string &method) const
{
    // The SDK validates a token by introspecting it; an unknown token must get
    // {"active":false}, not a 401.
    return !(service == "security.OAuthService" && method == "IntrospectToken");
}

Reply World::rpc(const std::string &service, const std::string &method, const std::string &body,
                 const std::string &caller, const std::string &baseUrl, double realNow)
{
    const auto it = handlers().find(service + "/" + method);
    if (it == handlers().end())
        return kaggleError(404, "Method " + service + "/" + method + " not found");
    json request = body.empty() ? json::object() : json::parse(body, nullptr, false);
    if (request.is_discarded() || !request.is_object())
        return kaggleError(400, "Invalid JSON payload received.");
    Ctx ctx{*this,   caller, baseUrl, realNow, Out{m_options.omitDefaults, m_options.int64AsString},
            request, body};
    return it->second(ctx);
}

Kernel *World::findKernel(const std::string &ref) const
{
    const auto it = m_kernels.find(toLower(ref));
    return it == m_kernels.end() ? nullptr : it->second.get();
}

Kernel *World::findKernelById(int64_t id) const
{
    for (const auto &[key, kernel] : m_kernels) {
        if (kernel->id == id)
            return kernel.get();
    }
    return nullptr;
}

Dataset *World::findDataset(const std::string &ref) const
{
    const auto it = m_datasets.find(toLower(ref));
    return it == m_datasets.end() ? nullptr : it->second.get();
}

Dataset *World::findDatasetById(int64_t id) const
{
    for (const auto &[key, dataset] : m_datasets) {
        if (dataset->id == id)
            return dataset.get();
    }
    return nullptr;
}

Kernel &World::createKernel(const std::string &owner, const std::string &slug)
{
    auto kernel = std::make_unique<Kernel>();
    kernel->id = m_nextKernelId++;
    kernel->owner = owner;
    kernel->slug = slug;
    kernel->createdAt = m_now;
    Kernel &ref = *kernel;
    m_kernels[toLower(kernel->ref())] = std::move(kernel);
    return ref;
}

Dataset &World::createDataset(const std::string &owner, const std::string &slug)
{
    auto dataset = std::make_unique<Dataset>();
    dataset->id = m_nextDatasetId++;
    dataset->owner = owner;
    dataset->slug = slug;
    Dataset &ref = *dataset;
    m_datasets[toLower(dataset->ref())] = std::move(dataset);
    return ref;
}

RunSpec World::nextPushSpec(Kernel &kernel)
{
    const size_t push = kernel.pushes++;
    if (kernel.script.empty())
        return m_options.pushDefaults;
    return kernel.script[std::min(push, kernel.script.size() - 1)];
}

Session &World::startSession(Kernel &kernel, const RunSpec &spec, double queuedAt, bool fromPush,
                             double timeoutOverride)
{
    auto s = std::make_unique<Session>();
    s->version = kernel.versions.empty() ? 1 : kernel.versions.back().number;
    s->queuedAt = queuedAt;
    s->spec = spec;
    s->owner = kernel.owner;
    s->machineShape = effectiveShape(kernel.machineShape, kernel.enableGpu, kernel.enableTpu);
    s->accelerator = acceleratorOf(s->machineShape);
    const double cap = s->accelerator == Accelerator::Tpu ? kTpuSessionCap : kGpuSessionCap;
    s->timeoutSeconds = timeoutOverride > 0       ? timeoutOverride
                        : spec.timeoutSeconds > 0 ? spec.timeoutSeconds
                                                  : cap;
    s->seed = mix64(m_seed ^ hash64(kernel.ref()) ^
                    (static_cast<uint64_t>(kernel.sessions.size() + 1) * 0x9e3779b97f4a7c15ULL));
    s->fromPush = fromPush;

    LogPlan plan;
    plan.seed = s->seed;
    plan.runSeconds = spec.runSeconds;
    plan.endAt = s->runDuration();
    plan.outcome = spec.outcome;
    plan.timedOut = s->timedOut();
    plan.failAt = spec.failAt;
    plan.epochs = spec.epochs;
    plan.stepsPerEpoch = spec.stepsPerEpoch;
    plan.style = spec.logStyle;
    plan.eventsPerSecond = m_logRateOverride > 0         ? m_logRateOverride
                           : spec.logEventsPerSecond > 0 ? spec.logEventsPerSecond
                                                         : m_options.logEventsPerSecond;
    plan.machineShape = s->machineShape;
    plan.inputs = kernel.kernelSources;
    plan.inputs.insert(plan.inputs.end(), kernel.datasetSources.begin(),
                       kernel.datasetSources.end());
    plan.resumesFromKernel = !kernel.kernelSources.empty();
    plan.exception = spec.exception;
    plan.baseLoss = spec.baseLoss;
    plan.overfitAfterEpoch = spec.overfitAfterEpoch;
    s->log = std::make_unique<LogGenerator>(plan);
    kernel.sessions.push_back(std::move(s));
    return *kernel.sessions.back();
}

void World::advanceSession(Session &session)
{
    const double elapsed = m_now - session.runStart();
    if (elapsed < 0)
        return;
    // Once over, flush everything: terminal lines may carry sub-millisecond jitter past the end.
    session.log->produceUntil(
        m_now >= session.end() ? std::numeric_limits<double>::infinity() : elapsed, session.events);
}

std::optional<size_t> World::visibleSession(const Kernel &kernel, bool &phantom) const
{
    phantom = false;
    std::optional<size_t> latest;
    std::optional<size_t> previous;
    for (size_t i = 0; i < kernel.sessions.size(); ++i) {
        if (kernel.sessions[i]->queuedAt <= m_now) {
            previous = latest;
            latest = i;
        }
    }
    if (!latest)
        return std::nullopt;
    const Session &s = *kernel.sessions[*latest];
    // Kaggle keeps answering with the previous session for a moment after a push (#1177).
    if (s.fromPush && m_now < s.queuedAt + m_options.staleStatusSeconds) {
        if (previous)
            return previous;
        if (m_options.phantom404AfterPush) {
            phantom = true;
            return std::nullopt;
        }
    }
    return latest;
}

std::vector<OutputFile> World::outputsOf(Session &session)
{
    const KernelStatus status = session.statusAt(m_now);
    if (!isTerminal(status))
        return {};
    return sessionOutputs(session.spec, session.seed,
                          session.log->epochsCompletedBy(session.runDuration()),
                          status == KernelStatus::Complete, session.log->loss());
}

std::string World::persistedLog(Session &session)
{
    advanceSession(session);
    const KernelStatus status = session.statusAt(m_now);
    if (status == KernelStatus::Queued)
        return {};
    std::string log = "[";
    for (size_t i = 0; i < session.events.size(); ++i) {
        const LogEvent &e = session.events[i];
        if (i > 0)
            log += ',';
        log += "{\"stream_name\":\"";
        log += e.isStderr ? "stderr" : "stdout";
        log += "\",\"time\":";
        log += formatNumber(std::round(e.time * 1e6) / 1e6);
        log += ",\"data\":";
        log += json(e.data).dump(-1, ' ', false, json::error_handler_t::replace);
        log += "}\n";
    }
    if (isTerminal(status) || !m_options.unterminatedRunningLog)
        log += ']';
    return log;
}

std::string World::signBlob(const std::string &kernelKey, size_t session, const OutputFile &file,
                            const LossModel &loss, double realNow)
{
    const double ttl = m_options.signedUrlTtlSeconds;
    const std::string cacheKey = kernelKey + "#" + std::to_string(session) + "#" + file.name;
    if (const auto it = m_blobTokens.find(cacheKey); it != m_blobTokens.end()) {
        const auto blob = m_blobs.find(it->second);
        if (blob != m_blobs.end() && blob->second.expiresReal - realNow > ttl / 2)
            return it->second;
    }
    std::erase_if(m_blobs, [realNow](const auto &entry) {
        return entry.second.expiresReal + 86400 < realNow;
    });
    const std::string token = randomToken();
    m_blobs.insert_or_assign(token, BlobEntry{file, loss, realNow + ttl});
    m_blobTokens[cacheKey] = token;
    return token;
}

std::optional<BlobEntry> World::blob(const std::string &token, const std::string &fileName,
                                     double realNow, bool &expired) const
{
    expired = false;
    const auto it = m_blobs.find(token);
    if (it == m_blobs.end() || it->second.file.name != fileName)
        return std::nullopt;
    if (realNow > it->second.expiresReal) {
        expired = true;
        return std::nullopt;
    }
    return it->second;
}

std::string World::newUploadToken(const std::string &owner, const std::string &name, int64_t size,
                                  double realNow)
{
    const double ttl = m_options.uploadTtlSeconds;
    std::erase_if(m_uploads, [realNow, ttl](const auto &entry) {
        return realNow - entry.second.createdReal > ttl;
    });
    Upload upload;
    upload.token = randomToken();
    upload.owner = owner;
    upload.name = name;
    upload.size = size;
    upload.createdReal = realNow;
    const std::string token = upload.token;
    m_uploads[token] = std::move(upload);
    return token;
}

const Upload *World::findUpload(const std::string &token, double realNow) const
{
    const auto it = m_uploads.find(token);
    if (it == m_uploads.end() || realNow - it->second.createdReal > m_options.uploadTtlSeconds)
        return nullptr;
    return &it->second;
}

UploadResult World::upload(const std::string &token, const std::optional<std::string> &contentRange,
                           const std::string &body, double realNow, const UploadFault &fault)
{
    UploadResult result;
    auto plain = [](int status, const std::string &text) {
        Reply reply;
        reply.status = status;
        reply.body = text;
        reply.contentType = "text/plain; charset=utf-8";
        return reply;
    };
    if (!findUpload(token, realNow)) {
        result.reply = plain(404, "Not Found");
        return result;
    }
    Upload &u = m_uploads[token];
    // 308 "Resume Incomplete" with the Range received so far (none when nothing arrived).
    auto incomplete = [&u, &plain]() {
        Reply reply = plain(308, "");
        if (!u.data.empty())
            reply.headers.emplace_back("Range", "bytes=0-" + std::to_string(u.data.size() - 1));
        return reply;
    };
    auto done = [&u]() {
        ojson r;
        r["token"] = u.token;
        r["name"] = u.name;
        r["size"] = u.size;
        return jsonReply(200, r);
    };

    int64_t start = 0;
    int64_t total = u.size;
    bool query = false;
    if (contentRange) {
        // "bytes a-b/total", "bytes */total" (status query) or "bytes a-b/*".
        const std::string &range = *contentRange;
        long long a = 0, b = 0, t = 0;
        char star = 0;
        if (std::sscanf(range.c_str(), "bytes */%lld", &t) == 1) {
            query = true;
            total = t;
        } else if (std::sscanf(range.c_str(), "bytes %lld-%lld/%lld", &a, &b, &t) == 3) {
            start = a;
            total = t;
            if (b < a || b - a + 1 != static_cast<long long>(body.size())) {
                result.reply = plain(400, "Content-Range does not match the body length");
                return result;
            }
        } else if (std::sscanf(range.c_str(), "bytes %lld-%lld/%c", &a, &b, &star) == 3 &&
                   star == '*') {
            start = a;
        } else {
            result.reply = plain(400, "Malformed Content-Range: " + range);
            return result;
        }
        if (total != u.size) {
            result.reply = plain(400, "Content-Range total does not match the declared size");
            return result;
        }
    } else if (!u.data.empty() && !u.complete()) {
        u.data.clear(); // a PUT without Content-Range restarts the upload from byte 0
    }

    if (u.complete()) {
        result.reply = done();
        return result;
    }
    if (query) {
        result.reply = incomplete();
        return result;
    }
    if (start != static_cast<int64_t>(u.data.size())) {
        result.reply = incomplete();
        return result;
    }
    if (static_cast<int64_t>(u.data.size() + body.size()) > u.size) {
        result.reply = plain(400, "More bytes than the declared size");
        return result;
    }
    if (fault.interruptAfterBytes > 0 && !u.interrupted &&
        static_cast<int64_t>(u.data.size() + body.size()) > fault.interruptAfterBytes) {
        const auto keep =
            std::max<int64_t>(0, fault.interruptAfterBytes - static_cast<int64_t>(u.data.size()));
        u.data.append(body, 0, static_cast<size_t>(keep));
        u.interrupted = true;
        result.interrupted = true;
        result.reply = incomplete();
        return result;
    }
    u.data += body;
    result.reply = u.complete() ? done() : incomplete();
    return result;
}

int World::outputPageSize() const
{
    return std::clamp(m_outputPageSize, 1, 200);
}

double World::initialQuotaWindowEnd() const
{
    return m_quota.refreshTime ? *m_quota.refreshTime : nextSaturdayUtc(m_startTime);
}

double World::quotaWindowEnd() const
{
    const double refresh = initialQuotaWindowEnd();
    const double wall = wallTime(m_now);
    if (wall < refresh)
        return refresh;
    return refresh + (std::floor((wall - refresh) / kWeek) + 1) * kWeek;
}

World::QuotaNumbers World::quota(const std::string &username, Accelerator accelerator) const
{
    const QuotaBucketSpec &spec = accelerator == Accelerator::Gpu ? m_quota.gpu : m_quota.tpu;
    const double windowEnd = quotaWindowEnd();
    const double windowStart = windowEnd - kWeek;
    // The scenario's usedSeconds belong to the window the simulation starts in.
    const bool firstWindow = windowEnd == initialQuotaWindowEnd();
    QuotaNumbers q;
    q.used = firstWindow ? spec.usedSeconds : 0;
    q.total = spec.totalSeconds;
    q.minimum = spec.minimumSeconds < 0 ? spec.totalSeconds : spec.minimumSeconds;
    q.payToScale = spec.payToScale;
    bool ran = spec.usedSeconds > 0;
    for (const auto &[key, kernel] : m_kernels) {
        for (const auto &session : kernel->sessions) {
            if (session->owner != username || session->accelerator != accelerator ||
                session->runStart() > m_now)
                continue;
            ran = true;
            const double from = std::max(wallTime(session->runStart()), windowStart);
            const double to = std::min(wallTime(std::min(session->end(), m_now)), windowEnd);
            if (to > from)
                q.used += to - from;
            if (session->runStart() <= m_now && m_now < session->end())
                q.reserved += session->runStart() + session->timeoutSeconds - m_now;
        }
    }
    q.hasEverRun = spec.hasEverRun.value_or(ran);
    return q;
}

StreamOpen World::openStream(const std::string &owner, const std::string &slug,
                             const std::string &caller)
{
    StreamOpen open;
    Kernel *k = findKernel(owner + "/" + slug);
    if (!visibleKernel(k, caller)) {
        open.reply = kernelDenied();
        return open;
    }
    bool phantom = false;
    const auto index = visibleSession(*k, phantom);
    if (!index) {
        if (phantom)
            open.reply = kaggleError(404, "No kernel session found for " + k->ref());
        else
            open.reply.body = "[]";
        return open;
    }
    Session &s = *k->sessions[*index];
    if (isTerminal(s.statusAt(m_now))) {
        open.reply.body = persistedLog(s);
        return open;
    }
    open.live = true;
    open.kernelKey = k->ref();
    open.session = *index;
    return open;
}

void World::pollStream(const std::string &kernelKey, size_t session, size_t from,
                       std::vector<LogEvent> &out, bool &ended)
{
    ended = false;
    Kernel *k = findKernel(kernelKey);
    if (!k || session >= k->sessions.size()) {
        ended = true;
        return;
    }
    Session &s = *k->sessions[session];
    advanceSession(s);
    for (size_t i = from; i < s.events.size(); ++i)
        out.push_back(s.events[i]);
    ended = isTerminal(s.statusAt(m_now)) && from + out.size() >= s.events.size();
}

std::string World::kernelStatus(const std::string &ref)
{
    Kernel *k = findKernel(ref);
    if (!k)
        return {};
    const Session *latest = nullptr;
    for (const auto &session : k->sessions) {
        if (session->queuedAt <= m_now)
            latest = session.get();
    }
    return latest ? kKernelStatusNames[static_cast<int>(latest->statusAt(m_now))] : "";
}

std::vector<std::string> World::kernelRefs() const
{
    std::vector<std::string> refs;
    for (const auto &[key, kernel] : m_kernels) {
        if (kernel->created)
            refs.push_back(kernel->ref());
    }
    return refs;
}

size_t World::sessionLogEventCount(const std::string &ref)
{
    Kernel *k = findKernel(ref);
    if (!k)
        return 0;
    Session *latest = nullptr;
    for (const auto &session : k->sessions) {
        if (session->queuedAt <= m_now)
            latest = session.get();
    }
    if (!latest)
        return 0;
    advanceSession(*latest);
    return latest->events.size();
}

int World::kernelVersionCount(const std::string &ref) const
{
    const Kernel *k = findKernel(ref);
    return k && k->created ? static_cast<int>(k->versions.size()) : 0;
}

std::string World::lastSaveKernelRequest(const std::string &ref) const
{
    const Kernel *k = findKernel(ref);
    return k ? k->lastSaveRequest : std::string();
}

std::vector<std::string> World::outputFileNames(const std::string &ref)
{
    std::vector<std::string> names;
    Kernel *k = findKernel(ref);
    if (!k)
        return names;
    Session *latest = nullptr;
    for (const auto &session : k->sessions) {
        if (session->queuedAt <= m_now)
            latest = session.get();
    }
    if (latest) {
        for (const auto &file : outputsOf(*latest))
            names.push_back(file.name);
    }
    return names;
}

int World::activeGpuSessions(const std::string &username) const
{
    int count = 0;
    for (const auto &[key, kernel] : m_kernels) {
        for (const auto &session : kernel->sessions) {
            if (session->owner == username && session->accelerator == Accelerator::Gpu &&
                session->activeAt(m_now))
                ++count;
        }
    }
    return count;
}

double World::gpuSecondsUsed(const std::string &username) const
{
    return quota(username, Accelerator::Gpu).used;
}

std::string World::datasetStatus(const std::string &ref) const
{
    const Dataset *d = findDataset(ref);
    return d ? kDatasetStages[datasetStage(*this, *d)] : "";
}

int World::datasetVersionCount(const std::string &ref) const
{
    const Dataset *d = findDataset(ref);
    return d ? static_cast<int>(d->versions.size()) : 0;
}

std::vector<std::string> World::datasetRefs() const
{
    std::vector<std::string> refs;
    for (const auto &[key, dataset] : m_datasets)
        refs.push_back(dataset->ref());
    return refs;
}

std::optional<std::string> World::uploadedBytes(const std::string &token) const
{
    const auto it = m_uploads.find(token);
    if (it == m_uploads.end())
        return std::nullopt;
    return it->second.data;
}

} // namespace kd::sim
