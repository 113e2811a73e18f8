#include "simulator.h"

#include "scenario.h"
#include "simutil.h"
#include "world.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

namespace kd::sim {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kMaxRecords = 50000;

enum class Kind { Rpc, Stream, Blob, Upload, Other };

/// One request's fault dice; always nine draws per eligible request so that changing one
/// probability does not shift the sequence of the others.
struct FaultDraw
{
    bool spike = false;
    bool stall = false;
    bool reset = false;
    bool http5xx = false;
    int code5xx = 500;
    bool http429 = false;
    bool http429NoRetryAfter = false;
    bool malformed = false;
    bool malformedHtml = false;
    bool truncate = false;
};

struct Exchange
{
    FaultDraw faults;
    RequestRecord record;
    bool resetPending = false; ///< reset the connection once the record is stored

    void addFault(const char *name)
    {
        if (!record.fault.empty())
            record.fault += ',';
        record.fault += name;
    }
};

std::string kaggleErrorBody(int code, const std::string &message)
{
    nlohmann::ordered_json body;
    body["code"] = code;
    body["message"] = message;
    return body.dump();
}

std::string authorizationKind(const httplib::Request &req)
{
    const std::string header = req.get_header_value("Authorization");
    if (header.rfind("Basic ", 0) == 0)
        return "basic";
    if (header.rfind("Bearer ", 0) == 0)
        return "bearer";
    return "none";
}

std::string eventLine(const LogEvent &e)
{
    std::string line = "data: {\"stream_name\":\"";
    line += e.isStderr ? "stderr" : "stdout";
    line += "\",\"time\":";
    line += formatNumber(std::round(e.time * 1e6) / 1e6);
    line += ",\"data\":";
    line += nlohmann::json(e.data).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    line += "}\n\n";
    return line;
}

struct SocketName
{
    std::string address;
    int port = -1;
};

std::optional<SocketName> socketName(int fd, bool peer)
{
    sockaddr_storage storage{};
    socklen_t length = sizeof storage;
    auto *addr = reinterpret_cast<sockaddr *>(&storage);
    if ((peer ? getpeername(fd, addr, &length) : getsockname(fd, addr, &length)) != 0)
        return std::nullopt;
    char text[INET6_ADDRSTRLEN] = {};
    if (storage.ss_family == AF_INET) {
        const auto *in = reinterpret_cast<sockaddr_in *>(&storage);
        inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
        return SocketName{text, ntohs(in->sin_port)};
    }
    if (storage.ss_family == AF_INET6) {
        const auto *in6 = reinterpret_cast<sockaddr_in6 *>(&storage);
        inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
        return SocketName{text, ntohs(in6->sin6_port)};
    }
    return std::nullopt;
}

/// Open file descriptors of this process. httplib gives handlers no access to their socket, so
/// the server-side end of a connection is found by its address pair instead.
std::vector<int> openDescriptors()
{
    std::vector<int> fds;
    if (DIR *dir = opendir("/proc/self/fd")) {
        const int own = dirfd(dir);
        while (const dirent *entry = readdir(dir)) {
            if (entry->d_name[0] == '.')
                continue;
            const int fd = std::atoi(entry->d_name);
            if (fd != own)
                fds.push_back(fd);
        }
        closedir(dir);
    }
    return fds;
}

/// Server-side socket of the connection a request arrived on, or -1.
int connectionSocket(const httplib::Request &req)
{
    for (const int fd : openDescriptors()) {
        const auto local = socketName(fd, false);
        if (!local || local->port != req.local_port)
            continue;
        const auto peer = socketName(fd, true);
        if (peer && peer->port == req.remote_port && peer->address == req.remote_addr)
            return fd;
    }
    return -1;
}

/// Sends a TCP RST for the request's connection, before any response byte. The socket is
/// swapped (dup2) for a fresh unconnected one, so httplib's later write fails and its close()
/// is harmless, while the last reference to the real socket closes with SO_LINGER 0.
bool resetConnection(const httplib::Request &req)
{
    const int fd = connectionSocket(req);
    if (fd < 0)
        return false;
    linger lingerOption{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lingerOption, sizeof lingerOption);
    const int placeholder = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (placeholder < 0)
        return false;
    const bool ok = dup2(placeholder, fd) >= 0;
    ::close(placeholder);
    return ok;
}

std::optional<std::pair<int64_t, int64_t>> parseRange(const std::string &header, int64_t size,
                                                      bool &unsatisfiable)
{
    unsatisfiable = false;
    if (header.rfind("bytes=", 0) != 0 || header.find(',') != std::string::npos)
        return std::nullopt; // absent or multi-range: serve the whole file (RFC 9110 allows it)
    const std::string spec = header.substr(6);
    const auto dash = spec.find('-');
    if (dash == std::string::npos)
        return std::nullopt;
    const std::string first = spec.substr(0, dash);
    const std::string last = spec.substr(dash + 1);
    int64_t start = 0;
    int64_t end = size - 1;
    if (first.empty()) {
        if (last.empty())
            return std::nullopt;
        const int64_t suffix = std::atoll(last.c_str());
        if (suffix <= 0) {
            unsatisfiable = true;
            return std::nullopt;
        }
        start = std::max<int64_t>(0, size - suffix);
    } else {
        start = std::atoll(first.c_str());
        if (!last.empty())
            end = std::min<int64_t>(std::atoll(last.c_str()), size - 1);
    }
    if (start >= size || start > end) {
        unsatisfiable = true;
        return std::nullopt;
    }
    return std::pair{start, end};
}

std::string contentTypeFor(const std::string &name)
{
    auto ends = [&name](const char *suffix) {
        const std::string s(suffix);
        return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
    };
    if (ends(".csv"))
        return "text/csv";
    if (ends(".json"))
        return "application/json";
    if (ends(".txt") || ends(".log") || ends(".md"))
        return "text/plain";
    return "application/octet-stream";
}

std::string gcsError(const char *code, const char *message)
{
    return std::string("<?xml version='1.0' encoding='UTF-8'?><Error><Code>") + code +
           "</Code><Message>" + message + "</Message></Error>";
}

} // namespace

struct Simulator::Impl
{
    struct StreamState
    {
        std::string kernelKey;
        size_t session = 0;
        size_t sent = 0;
        bool stallPending = false;
        Clock::time_point opened = Clock::now();
        Clock::time_point lastActivity = Clock::now();
    };

    explicit Impl(Options opts)
        : options(std::move(opts)), faults(options.faults), faultRng(mix64(options.seed)),
          speed(options.speed), sseIdleSeconds(options.sseIdleTimeoutSeconds),
          sseMaxSeconds(options.sseMaxStreamSeconds)
    {
        world = makeWorld();
    }

    std::unique_ptr<World> makeWorld() const
    {
        auto w = std::make_unique<World>(options.seed);
        w->setMaxGpuSessions(options.maxGpuSessions);
        w->setDefaultOutputPageSize(options.outputPageSize);
        w->setLogRateOverride(options.logEventsPerSecond);
        return w;
    }

    double nowLocked() const
    {
        if (!clockRunning)
            return anchorVirtual;
        return anchorVirtual +
               std::chrono::duration<double>(Clock::now() - anchorReal).count() * speed;
    }
    void syncLocked() { world->setNow(nowLocked()); }
    double realSeconds() const
    {
        return std::chrono::duration<double>(Clock::now() - constructed).count();
    }

    void sleepFor(int milliseconds)
    {
        if (milliseconds <= 0)
            return;
        std::unique_lock lock(mutex);
        cv.wait_for(lock, std::chrono::milliseconds(milliseconds),
                    [this] { return stopping.load(); });
    }

    FaultDraw drawFaults(const std::string &path)
    {
        std::lock_guard lock(mutex);
        FaultDraw d;
        if (!faults.onlyPaths.empty() &&
            std::none_of(
                faults.onlyPaths.begin(), faults.onlyPaths.end(),
                [&path](const std::string &p) { return path.find(p) != std::string::npos; }))
            return d;
        double u[9];
        for (double &value : u)
            value = faultRng.uniform();
        d.spike = u[0] < faults.latencySpikeRate;
        d.stall = u[1] < faults.stall;
        d.reset = u[2] < faults.reset;
        d.http5xx = u[3] < faults.http5xx;
        d.code5xx = u[4] < 1.0 / 3 ? 500 : (u[4] < 2.0 / 3 ? 502 : 503);
        d.malformedHtml = u[4] >= 0.5;
        d.http429 = u[5] < faults.http429;
        d.http429NoRetryAfter = u[6] < faults.http429NoRetryAfter;
        d.malformed = u[7] < faults.malformed;
        d.truncate = u[8] < faults.truncateDownload;
        return d;
    }

    void record(const RequestRecord &r)
    {
        std::lock_guard lock(mutex);
        records.push_back(r);
        if (records.size() > kMaxRecords)
            records.pop_front();
    }

    std::string baseUrl(const httplib::Request &req) const
    {
        // Echo the Host the client used, so "localhost:7777" clients get URLs that resolve the
        // same way for them.
        const std::string hostHeader = req.get_header_value("Host");
        return hostHeader.empty() ? endpointUrl() : "http://" + hostHeader;
    }

    std::string endpointUrl() const
    {
        const bool v6 = host.find(':') != std::string::npos;
        return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
    }

    std::optional<std::string> authenticate(const httplib::Request &req)
    {
        const std::string header = req.get_header_value("Authorization");
        if (header.rfind("Basic ", 0) == 0) {
            const auto decoded = base64Decode(header.substr(6));
            if (!decoded)
                return std::nullopt;
            const auto colon = decoded->find(':');
            if (colon == std::string::npos)
                return std::nullopt;
            return world->userForBasic(decoded->substr(0, colon), decoded->substr(colon + 1));
        }
        if (header.rfind("Bearer ", 0) == 0)
            return world->userForBearer(header.substr(7));
        return std::nullopt;
    }

    void applyReply(httplib::Response &res, const Reply &reply)
    {
        res.status = reply.status;
        for (const auto &[name, value] : reply.headers)
            res.set_header(name, value);
        res.set_content(reply.body, reply.contentType);
    }

    void jsonError(httplib::Response &res, int code, const std::string &message)
    {
        res.status = code;
        res.set_content(kaggleErrorBody(code, message), "application/json");
    }

    /// Shared prologue/epilogue: fault injection, latency and the request record.
    void serve(const httplib::Request &req, httplib::Response &res, Kind kind,
               const std::function<void(Exchange &)> &handler)
    {
        // httplib would slice any body by the Range header; only /blob honours Range, itself.
        const_cast<httplib::Request &>(req).ranges.clear();
        Exchange ex;
        ex.record.realTime = realSeconds();
        ex.record.method = req.method;
        ex.record.path = req.path;
        ex.record.authorization_kind = authorizationKind(req);
        ex.faults = drawFaults(req.path);
        const Faults f = currentFaults();
        int delay = f.latencyMs;
        if (ex.faults.spike) {
            delay += f.latencySpikeMs;
            ex.addFault("latency-spike");
        }
        sleepFor(delay);
        if (ex.faults.reset) {
            ex.addFault("reset");
            ex.resetPending = true;
        } else if (ex.faults.stall && kind != Kind::Stream) {
            ex.addFault("stall");
            sleepFor(f.stallMs);
        }
        if (ex.resetPending) {
            res.status = 500;
        } else if (ex.faults.http5xx) {
            ex.addFault("5xx");
            static const std::map<int, const char *> messages = {
                {500, "Internal error"}, {502, "Bad gateway"}, {503, "Service unavailable"}};
            jsonError(res, ex.faults.code5xx, messages.at(ex.faults.code5xx));
        } else if (ex.faults.http429) {
            ex.addFault("429");
            res.set_header("Retry-After", std::to_string(f.retryAfterSeconds));
            jsonError(res, 429, "TooManyRequests");
        } else if (ex.faults.http429NoRetryAfter) {
            ex.addFault("429-no-retry-after");
            res.status = 429;
            res.set_content(
                R"({"error":{"code":429,"message":"Too many requests","status":"RESOURCE_EXHAUSTED"}})",
                "application/json");
        } else if (ex.faults.malformed && kind == Kind::Rpc) {
            ex.addFault("malformed");
            res.status = 200;
            if (ex.faults.malformedHtml)
                res.set_content("<html>502 Bad Gateway</html>", "text/html");
            else
                res.set_content("{\"kernels\": [", "application/json");
        } else {
            handler(ex);
        }
        ex.record.status = ex.resetPending ? 0 : (res.status < 0 ? 200 : res.status);
        // Record first: the client sees the reset at once and may look at requests() next.
        record(ex.record);
        if (ex.resetPending && !resetConnection(req))
            res.status = 500;
    }

    Faults currentFaults()
    {
        std::lock_guard lock(mutex);
        return faults;
    }

    void handleRpc(const httplib::Request &req, httplib::Response &res, Exchange &)
    {
        const std::string service = req.matches[1].str();
        const std::string method = req.matches[2].str();
        std::lock_guard lock(mutex);
        syncLocked();
        if (!world->hasRpc(service, method))
            return jsonError(res, 404, "Method " + service + "/" + method + " not found");
        std::string caller;
        if (world->rpcNeedsAuth(service, method)) {
            const auto user = authenticate(req);
            if (!user)
                return jsonError(res, 401, "Unauthenticated");
            caller = *user;
        }
        applyReply(res, world->rpc(service, method, req.body, caller, baseUrl(req), realUnixNow()));
        if (!world->options().apiVersionHeader.empty())
            res.set_header("X-Kaggle-APIVersion", world->options().apiVersionHeader);
    }

    void handleStream(const httplib::Request &req, httplib::Response &res, Exchange &ex)
    {
        StreamOpen open;
        {
            std::lock_guard lock(mutex);
            syncLocked();
            const auto user = authenticate(req);
            if (!user)
                return jsonError(res, 401, "Unauthenticated");
            open = world->openStream(req.matches[1].str(), req.matches[2].str(), *user);
        }
        if (!open.live)
            return applyReply(res, open.reply);
        auto state = std::make_shared<StreamState>();
        state->kernelKey = open.kernelKey;
        state->session = open.session;
        state->stallPending = ex.faults.stall;
        if (ex.faults.stall)
            ex.addFault("stall");
        res.status = 200;
        res.set_header("Cache-Control", "no-cache");
        res.set_chunked_content_provider(
            "text/event-stream",
            [this, state](size_t, httplib::DataSink &sink) { return streamStep(*state, sink); });
    }

    /// One step of an SSE response: waits for new events (replaying the whole session first),
    /// sends them, and ends with END_OF_LOG; returning false drops the connection.
    bool streamStep(StreamState &st, httplib::DataSink &sink)
    {
        std::vector<LogEvent> batch;
        bool ended = false;
        {
            std::unique_lock lock(mutex);
            for (;;) {
                if (stopping)
                    return false;
                syncLocked();
                world->pollStream(st.kernelKey, st.session, st.sent, batch, ended);
                if (!batch.empty() || ended)
                    break;
                const double idle =
                    std::chrono::duration<double>(Clock::now() - st.lastActivity).count();
                if (idle >= sseIdleSeconds || expired(st))
                    return false; // what Kaggle's load balancer does to a quiet stream
                cv.wait_for(lock, std::chrono::milliseconds(100));
            }
        }
        if (expired(st))
            return false;
        std::string chunk;
        for (const auto &event : batch)
            chunk += eventLine(event);
        if (!chunk.empty()) {
            if (!sink.write(chunk.data(), chunk.size()))
                return false;
            st.sent += batch.size();
            st.lastActivity = Clock::now();
        }
        if (ended) {
            static const std::string end = "data: END_OF_LOG\n\n";
            if (!sink.write(end.data(), end.size()))
                return false;
            sink.done();
            return true;
        }
        if (st.stallPending) {
            st.stallPending = false;
            sleepFor(currentFaults().stallMs);
            return !stopping;
        }
        return true;
    }

    bool expired(const StreamState &st) const
    {
        return sseMaxSeconds > 0 &&
               std::chrono::duration<double>(Clock::now() - st.opened).count() >= sseMaxSeconds;
    }

    void handleBlob(const httplib::Request &req, httplib::Response &res, Exchange &ex)
    {
        const std::string token = req.matches[1].str();
        const std::string name = req.matches[2].str();
        std::optional<BlobEntry> entry;
        bool expired = false;
        {
            std::lock_guard lock(mutex);
            entry = world->blob(token, name, realUnixNow(), expired);
        }
        if (!entry) {
            res.status = expired ? 403 : 404;
            res.set_content(expired ? gcsError("ExpiredToken", "The provided token has expired.")
                                    : gcsError("NoSuchKey", "The specified key does not exist."),
                            "application/xml; charset=UTF-8");
            return;
        }
        const int64_t size = entry->file.size;
        bool unsatisfiable = false;
        const auto range = parseRange(req.get_header_value("Range"), size, unsatisfiable);
        res.set_header("Accept-Ranges", "bytes");
        char etag[32];
        std::snprintf(etag, sizeof etag, "\"%016llx\"",
                      static_cast<unsigned long long>(entry->file.seed));
        res.set_header("ETag", etag);
        if (unsatisfiable) {
            res.status = 416;
            res.set_header("Content-Range", "bytes */" + std::to_string(size));
            return;
        }
        const int64_t start = range ? range->first : 0;
        const int64_t length = range ? range->second - range->first + 1 : size;
        if (range) {
            res.status = 206;
            res.set_header("Content-Range", "bytes " + std::to_string(range->first) + "-" +
                                                std::to_string(range->second) + "/" +
                                                std::to_string(size));
        } else {
            res.status = 200;
        }
        const bool truncate = ex.faults.truncate && length > 0;
        if (truncate)
            ex.addFault("truncate");
        const auto limit = static_cast<size_t>(truncate ? length / 2 : length);
        if (length == 0) {
            res.set_content("", contentTypeFor(name));
            return;
        }
        res.set_content_provider(static_cast<size_t>(length), contentTypeFor(name),
                                 [this, file = entry->file, loss = entry->loss, start, limit,
                                  truncate](size_t offset, size_t wanted, httplib::DataSink &sink) {
                                     // Returning false closes the connection short of
                                     // Content-Length.
                                     if (stopping || (truncate && offset >= limit))
                                         return false;
                                     size_t n = std::min<size_t>(wanted, 64 * 1024);
                                     if (truncate)
                                         n = std::min(n, limit - offset);
                                     const std::string bytes = readOutput(
                                         file, loss, start + static_cast<int64_t>(offset),
                                         static_cast<int64_t>(n));
                                     return sink.write(bytes.data(), bytes.size());
                                 });
    }

    void handleUpload(const httplib::Request &req, httplib::Response &res, Exchange &ex)
    {
        const std::string token = req.matches[1].str();
        std::optional<std::string> contentRange;
        if (req.has_header("Content-Range"))
            contentRange = req.get_header_value("Content-Range");
        UploadResult result;
        int interruptStatus = 0;
        {
            std::lock_guard lock(mutex);
            UploadFault fault;
            fault.interruptAfterBytes = faults.uploadInterruptAfterBytes;
            interruptStatus = faults.uploadInterruptStatus;
            result = world->upload(token, contentRange, req.body, realUnixNow(), fault);
        }
        if (result.interrupted) {
            ex.addFault("upload-interrupt");
            if (interruptStatus > 0)
                return jsonError(res, interruptStatus, "Upload interrupted");
            ex.resetPending = true;
            res.status = 500;
            return;
        }
        applyReply(res, result.reply);
    }

    void routes(httplib::Server &server)
    {
        auto wrap = [this](Kind kind, void (Impl::*fn)(const httplib::Request &,
                                                       httplib::Response &, Exchange &)) {
            return [this, kind, fn](const httplib::Request &req, httplib::Response &res) {
                serve(req, res, kind, [&](Exchange &ex) { (this->*fn)(req, res, ex); });
            };
        };
        auto fixed = [this](int code, std::string message) {
            return [this, code, message](const httplib::Request &req, httplib::Response &res) {
                serve(req, res, Kind::Other, [&](Exchange &) {
                    if (code == 405)
                        res.set_header("Allow", "POST");
                    jsonError(res, code, message);
                });
            };
        };
        const std::string rpc = R"(/api/v1/([A-Za-z0-9_.]+)/([A-Za-z0-9_]+))";
        server.Post(rpc, wrap(Kind::Rpc, &Impl::handleRpc));
        server.Get(R"(/api/v1/kernels/logs/stream/([^/]+)/([^/]+))",
                   wrap(Kind::Stream, &Impl::handleStream));
        server.Get(R"(/blob/([^/]+)/(.+))", wrap(Kind::Blob, &Impl::handleBlob));
        server.Put(R"(/upload/([^/]+))", wrap(Kind::Upload, &Impl::handleUpload));
        const auto notAllowed = fixed(405, "Method Not Allowed");
        server.Get(rpc, notAllowed);
        server.Put(rpc, notAllowed);
        server.Delete(rpc, notAllowed);
        server.Patch(rpc, notAllowed);
        server.Options(rpc, notAllowed);
        const auto notFound = fixed(404, "Not Found");
        server.Get(".*", notFound);
        server.Post(".*", notFound);
        server.Put(".*", notFound);
        server.Delete(".*", notFound);
        server.Patch(".*", notFound);
        server.Options(".*", notFound);
    }

    /// Wakes every worker parked on one of our connections (idle keep-alive, slow request) so
    /// the thread pool can join right away.
    void shutdownConnections() const
    {
        for (const int fd : openDescriptors()) {
            const auto local = socketName(fd, false);
            if (!local || local->port != port)
                continue;
            if (socketName(fd, true))
                ::shutdown(fd, SHUT_RDWR);
        }
    }

    Options options;
    mutable std::mutex mutex;
    std::condition_variable cv;
    std::unique_ptr<World> world;
    Faults faults;
    Rng faultRng;
    double speed;
    double sseIdleSeconds;
    double sseMaxSeconds;
    double anchorVirtual = 0;
    Clock::time_point anchorReal = Clock::now();
    bool clockRunning = false;
    const Clock::time_point constructed = Clock::now();
    std::deque<RequestRecord> records;

    std::unique_ptr<httplib::Server> server;
    std::thread listener;
    std::string host = "127.0.0.1";
    int port = 0;
    std::atomic<bool> stopping{false};
    bool running = false;
};

Simulator::Simulator(Options options) : m_impl(std::make_unique<Impl>(std::move(options))) {}

Simulator::~Simulator()
{
    stop();
}

bool Simulator::loadScenarioFile(const std::string &path, std::string *error)
{
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        if (error)
            *error = "cannot open " + path;
        return false;
    }
    std::ostringstream text;
    text << file.rdbuf();
    return loadScenarioJson(text.str(), error);
}

bool Simulator::loadScenarioJson(const std::string &json, std::string *error)
{
    Scenario scenario;
    if (!parseScenario(json, scenario, error))
        return false;
    auto world = m_impl->makeWorld();
    if (!world->load(scenario, error))
        return false;
    {
        std::lock_guard lock(m_impl->mutex);
        world->setNow(m_impl->nowLocked());
        m_impl->world = std::move(world);
        if (scenario.options.sseIdleTimeoutSeconds)
            m_impl->sseIdleSeconds = *scenario.options.sseIdleTimeoutSeconds;
    }
    m_impl->cv.notify_all();
    return true;
}

bool Simulator::start(const std::string &host, int port)
{
    if (isRunning())
        return false;
    auto server = std::make_unique<httplib::Server>();
    const int threads = std::max(4, m_impl->options.serverThreads);
    server->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    // Only SO_REUSEADDR: httplib's default adds SO_REUSEPORT, which would let a second
    // kaggle-sim silently share port 7777 with the first.
    server->set_socket_options([](int sock) {
        int yes = 1;
        setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    server->set_keep_alive_max_count(1000);
    // An idle keep-alive connection parks a worker thread, so do not keep them for long.
    server->set_keep_alive_timeout(15);
    server->set_read_timeout(30);
    server->set_write_timeout(30);
    server->set_tcp_nodelay(true);
    m_impl->routes(*server);
    const int bound =
        port == 0 ? server->bind_to_any_port(host) : (server->bind_to_port(host, port) ? port : -1);
    if (bound <= 0)
        return false;
    {
        std::lock_guard lock(m_impl->mutex);
        m_impl->host = host;
        m_impl->port = bound;
        m_impl->stopping = false;
        m_impl->anchorReal = Clock::now();
        m_impl->clockRunning = true;
        m_impl->running = true;
    }
    m_impl->server = std::move(server);
    m_impl->listener = std::thread([impl = m_impl.get()] { impl->server->listen_after_bind(); });
    // httplib's stop() does nothing until the accept loop runs; a stop() right after start()
    // would otherwise leave the listener thread blocked for good.
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while (!m_impl->server->is_running() && Clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return true;
}

void Simulator::stop()
{
    {
        std::lock_guard lock(m_impl->mutex);
        if (!m_impl->running)
            return;
        m_impl->stopping = true;
        m_impl->anchorVirtual = m_impl->nowLocked();
        m_impl->clockRunning = false;
    }
    m_impl->cv.notify_all();
    m_impl->server->stop();
    m_impl->shutdownConnections();
    if (m_impl->listener.joinable())
        m_impl->listener.join();
    m_impl->server.reset();
    std::lock_guard lock(m_impl->mutex);
    m_impl->running = false;
}

bool Simulator::isRunning() const
{
    std::lock_guard lock(m_impl->mutex);
    return m_impl->running;
}

int Simulator::port() const
{
    std::lock_guard lock(m_impl->mutex);
    return m_impl->port;
}

std::string Simulator::endpoint() const
{
    std::lock_guard lock(m_impl->mutex);
    return m_impl->endpointUrl();
}

void Simulator::setFaults(const Faults &faults)
{
    std::lock_guard lock(m_impl->mutex);
    m_impl->faults = faults;
}

Faults Simulator::faults() const
{
    std::lock_guard lock(m_impl->mutex);
    return m_impl->faults;
}

void Simulator::setSpeed(double speed)
{
    {
        std::lock_guard lock(m_impl->mutex);
        m_impl->anchorVirtual = m_impl->nowLocked();
        m_impl->anchorReal = Clock::now();
        m_impl->speed = std::max(0.0, speed);
    }
    m_impl->cv.notify_all();
}

double Simulator::speed() const
{
    std::lock_guard lock(m_impl->mutex);
    return m_impl->speed;
}

void Simulator::advance(double virtualSeconds)
{
    {
        std::lock_guard lock(m_impl->mutex);
        m_impl->anchorVirtual += std::max(0.0, virtualSeconds);
    }
    m_impl->cv.notify_all();
}

double Simulator::now() const
{
    std::lock_guard lock(m_impl->mutex);
    return m_impl->nowLocked();
}

void Simulator::setMaxGpuSessions(int count)
{
    std::lock_guard lock(m_impl->mutex);
    m_impl->options.maxGpuSessions = count;
    m_impl->world->setMaxGpuSessions(count);
}

void Simulator::setSseIdleTimeout(double realSeconds)
{
    std::lock_guard lock(m_impl->mutex);
    m_impl->sseIdleSeconds = realSeconds;
}

void Simulator::setSseMaxStreamSeconds(double realSeconds)
{
    std::lock_guard lock(m_impl->mutex);
    m_impl->sseMaxSeconds = realSeconds;
}

void Simulator::addAccount(const std::string &username, const std::string &key,
                           const std::string &token)
{
    std::lock_guard lock(m_impl->mutex);
    m_impl->world->addAccount({username, key, token, {}});
}

std::vector<AccountInfo> Simulator::accounts() const
{
    std::lock_guard lock(m_impl->mutex);
    std::vector<AccountInfo> out;
    for (const auto &a : m_impl->world->accounts())
        out.push_back({a.username, a.key, a.token});
    return out;
}

std::string Simulator::scenarioName() const
{
    std::lock_guard lock(m_impl->mutex);
    return m_impl->world->name();
}

void Simulator::expireUpload(const std::string &token)
{
    std::lock_guard lock(m_impl->mutex);
    m_impl->world->expireUpload(token);
}

std::string Simulator::kernelStatus(const std::string &ref) const
{
    std::lock_guard lock(m_impl->mutex);
    m_impl->syncLocked();
    return m_impl->world->kernelStatus(ref);
}

std::vector<std::string> Simulator::kernelRefs() const
{
    std::lock_guard lock(m_impl->mutex);
    return m_impl->world->kernelRefs();
}

size_t Simulator::sessionLogEventCount(const std::string &ref) const
{
    std::lock_guard lock(m_impl->mutex);
    m_impl->syncLocked();
    return m_impl->world->sessionLogEventCount(ref);
}

int Simulator::kernelVersionCount(const std::string &ref) const
{
    std::lock_guard lock(m_impl->mutex);
    return m_impl->world->kernelVersionCount(ref);
}

std::string Simulator::lastSaveKernelRequest(const std::string &ref) const
{
    std::lock_guard lock(m_impl->mutex);
    return m_impl->world->lastSaveKernelRequest(ref);
}

std::vector<std::string> Simulator::outputFileNames(const std::string &ref) const
{
    std::lock_guard lock(m_impl->mutex);
    m_impl->syncLocked();
    return m_impl->world->outputFileNames(ref);
}

int Simulator::activeGpuSessions(const std::string &username) const
{
    std::lock_guard lock(m_impl->mutex);
    m_impl->syncLocked();
    return m_impl->world->activeGpuSessions(username);
}

double Simulator::gpuSecondsUsed(const std::string &username) const
{
    std::lock_guard lock(m_impl->mutex);
    m_impl->syncLocked();
    return m_impl->world->gpuSecondsUsed(username);
}

std::string Simulator::datasetStatus(const std::string &ref) const
{
    std::lock_guard lock(m_impl->mutex);
    m_impl->syncLocked();
    return m_impl->world->datasetStatus(ref);
}

int Simulator::datasetVersionCount(const std::string &ref) const
{
    std::lock_guard lock(m_impl->mutex);
    return m_impl->world->datasetVersionCount(ref);
}

std::vector<std::string> Simulator::datasetRefs() const
{
    std::lock_guard lock(m_impl->mutex);
    return m_impl->world->datasetRefs();
}

std::optional<std::string> Simulator::uploadedBytes(const std::string &token) const
{
    std::lock_guard lock(m_impl->mutex);
    return m_impl->world->uploadedBytes(token);
}

std::vector<RequestRecord> Simulator::requests() const
{
    std::lock_guard lock(m_impl->mutex);
    return {m_impl->records.begin(), m_impl->records.end()};
}

void Simulator::clearRequests()
{
    std::lock_guard lock(m_impl->mutex);
    m_impl->records.clear();
}

} // namespace kd::sim
