// End-to-end tests of the Kaggle simulator over loopback: raw HTTP through httplib::Client, so
// the wire format itself (status codes, headers, JSON shapes) is what gets checked.

#include "simulator.h"

#include <QElapsedTimer>
#include <QtTest>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

using kd::sim::Faults;
using nlohmann::json;

// Readable QCOMPARE failures for JSON values.
template <> char *QTest::toString(const json &value)
{
    return qstrdup(value.dump().c_str());
}

using kd::sim::Options;
using kd::sim::Simulator;

namespace {

#define KD_COMPARE_STR(actual, expected)                                                           \
    QCOMPARE(QString::fromStdString(std::string(actual)),                                          \
             QString::fromStdString(std::string(expected)))

const char *const kRpc = "/api/v1/";

std::string readFile(const std::string &path)
{
    std::ifstream file(path, std::ios::binary);
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

std::string basicScenario()
{
    return readFile(std::string(KD_TEST_DATA_DIR) + "/scenarios/basic.json");
}

/// basic.json with some options changed.
std::string basicWith(const json &options)
{
    json scenario = json::parse(basicScenario());
    for (const auto &[key, value] : options.items())
        scenario["options"][key] = value;
    return scenario.dump();
}

std::string base64(const std::string &text)
{
    static const char *alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    int value = 0;
    int bits = -6;
    for (const unsigned char c : text) {
        value = (value << 8) + c;
        bits += 8;
        while (bits >= 0) {
            out += alphabet[(value >> bits) & 0x3f];
            bits -= 6;
        }
    }
    if (bits > -6)
        out += alphabet[((value << 8) >> (bits + 8)) & 0x3f];
    while (out.size() % 4)
        out += '=';
    return out;
}

httplib::Headers basicAuth(const std::string &user = "alice",
                           const std::string &key = "alice-key-123456")
{
    return {{"Authorization", "Basic " + base64(user + ":" + key)}};
}

httplib::Headers bearerAuth(const std::string &token = "KGAT_alice_token_abcdef")
{
    return {{"Authorization", "Bearer " + token}};
}

/// A simulator on a free loopback port with frozen time, plus a raw HTTP client.
struct Harness
{
    explicit Harness(const std::string &scenario = basicScenario(), Options options = {})
        : sim(std::make_unique<Simulator>([&] {
              options.speed = 0;
              return options;
          }()))
    {
        std::string error;
        loaded = sim->loadScenarioJson(scenario, &error);
        if (!loaded)
            qWarning("scenario: %s", error.c_str());
        started = sim->start("127.0.0.1", 0);
        client = std::make_unique<httplib::Client>("127.0.0.1", sim->port());
        client->set_read_timeout(10, 0);
        client->set_connection_timeout(5, 0);
    }

    httplib::Result call(const std::string &method, const json &body,
                         const httplib::Headers &headers = basicAuth())
    {
        return client->Post((kRpc + method).c_str(), headers, body.dump(), "application/json");
    }

    json ok(const std::string &method, const json &body,
            const httplib::Headers &headers = basicAuth())
    {
        auto res = call(method, body, headers);
        if (!res)
            return json{{"__transport_error", httplib::to_string(res.error())}};
        if (res->status != 200)
            return json{{"__status", res->status}, {"__body", res->body}};
        return json::parse(res->body, nullptr, false);
    }

    json status(const std::string &slug, const std::string &user = "alice")
    {
        return ok("kernels.KernelsApiService/GetKernelSessionStatus",
                  {{"userName", user}, {"kernelSlug", slug}});
    }

    json output(const std::string &slug, const json &extra = json::object())
    {
        json body = {{"userName", "alice"}, {"kernelSlug", slug}};
        body.update(extra);
        return ok("kernels.KernelsApiService/ListKernelSessionOutput", body);
    }

    json push(const json &body) { return ok("kernels.KernelsApiService/SaveKernel", body); }

    std::string startUpload(const std::string &name, size_t size, std::string *url)
    {
        const json r =
            ok("blobs.BlobApiService/StartBlobUpload", {{"type", "DATASET"},
                                                        {"name", name},
                                                        {"contentLength", size},
                                                        {"lastModifiedEpochSeconds", 1700000000}});
        if (url)
            *url = r.value("createUrl", "");
        return r.value("token", "");
    }

    std::string pathOf(const std::string &url) const
    {
        const std::string prefix = sim->endpoint();
        return url.rfind(prefix, 0) == 0 ? url.substr(prefix.size()) : url;
    }

    /// Uploads `data` in one PUT and returns the token.
    std::string uploadFile(const std::string &name, const std::string &data)
    {
        std::string url;
        const std::string token = startUpload(name, data.size(), &url);
        client->Put(pathOf(url).c_str(), data, "application/octet-stream");
        return token;
    }

    std::unique_ptr<Simulator> sim;
    std::unique_ptr<httplib::Client> client;
    bool loaded = false;
    bool started = false;
};

json pushBody(const std::string &slug, const std::string &title,
              const std::string &shape = "NvidiaTeslaT4")
{
    return {{"slug", slug},
            {"newTitle", title},
            {"text", "print('train')"},
            {"language", "python"},
            {"kernelType", "script"},
            {"isPrivate", true},
            {"enableGpu", !shape.empty()},
            {"enableInternet", true},
            {"enableTpu", false},
            {"machineShape", shape}};
}

json parseLog(const std::string &log)
{
    return json::parse(log, nullptr, false);
}

/// Collects an SSE response on its own client, so the test thread can move the clock.
struct StreamReader
{
    StreamReader(int port, const std::string &path, const httplib::Headers &headers = basicAuth())
    {
        thread = std::thread([this, port, path, headers] {
            httplib::Client c("127.0.0.1", port);
            c.set_read_timeout(30, 0);
            auto res = c.Get(
                path.c_str(), headers,
                [this](const httplib::Response &response) {
                    std::lock_guard lock(mutex);
                    contentType = response.get_header_value("Content-Type");
                    return true;
                },
                [this](const char *data, size_t length) {
                    std::lock_guard lock(mutex);
                    body.append(data, length);
                    return true;
                });
            std::lock_guard lock(mutex);
            ok = static_cast<bool>(res);
            done = true;
        });
    }
    ~StreamReader()
    {
        if (thread.joinable())
            thread.join();
    }
    std::string text()
    {
        std::lock_guard lock(mutex);
        return body;
    }
    bool finished()
    {
        std::lock_guard lock(mutex);
        return done;
    }
    /// The JSON payloads of the data: lines received so far ("END_OF_LOG" excluded).
    std::vector<json> events()
    {
        std::vector<json> out;
        std::istringstream lines(text());
        std::string line;
        while (std::getline(lines, line)) {
            if (line.rfind("data: {", 0) == 0)
                out.push_back(json::parse(line.substr(6), nullptr, false));
        }
        return out;
    }

    std::thread thread;
    std::mutex mutex;
    std::string body;
    std::string contentType;
    bool ok = false;
    bool done = false;
};

} // namespace

class TestSimulator : public QObject
{
    Q_OBJECT

private slots:
    void scenarioFilesLoad();
    void scenarioErrorsAreReported();
    void demoScenarioHasEveryState();
    void auth_data();
    void auth();
    void introspectToken();
    void unknownMethodAndVerb();
    void listKernelsPaging();
    void listKernelsVisibility();
    void statusLifecycle();
    void statusSpelling_data();
    void statusSpelling();
    void omitDefaultsDropsQueuedStatus();
    void int64AsString();
    void errorSessionHasFailureMessageAndTraceback();
    void logStyles_data();
    void logStyles();
    void logsAreDeterministic();
    void logRateIsConfigurable();
    void unterminatedRunningLog();
    void sseReplaysAndEnds();
    void sseFallsBackToJsonWhenDone();
    void sseIdleStreamIsDropped();
    void sseMaxStreamLifetime();
    void sseStallsMidStream();
    void signedUrlsExpire();
    void outputPagination();
    void signedDownloadWithRange();
    void downloadsAreDeterministic();
    void resumableUpload();
    void interruptedUploadResumes_data();
    void interruptedUploadResumes();
    void getKernelAndVersions();
    void listKernelFiles();
    void saveKernelCreatesRefFromTitle();
    void saveKernelBumpsVersionWithStaleStatus();
    void saveKernelInvalidSources();
    void saveKernelRejectInvalidSourcesOption();
    void saveKernelValidation_data();
    void saveKernelValidation();
    void gpuSessionLimit();
    void quickSaveDoesNotRun();
    void sessionTimeout();
    void phantom404AfterPush();
    void scriptedPushesFollowScript();
    void createDatasetTakenSlugAndValidation();
    void datasetStatusReachesReady();
    void quotaGrowsWhileGpuRuns();
    void faults_data();
    void faults();
    void faultSequenceIsRepeatable();
    void faultsOnlyOnSelectedPaths();
    void gzipResponses();
    void stopWithOpenStreamIsPrompt();
};

void TestSimulator::scenarioFilesLoad()
{
    Harness h;
    QVERIFY(h.loaded);
    QVERIFY(h.started);
    QVERIFY(h.sim->port() > 0);
    KD_COMPARE_STR(h.sim->endpoint(), "http://127.0.0.1:" + std::to_string(h.sim->port()));
    KD_COMPARE_STR(h.sim->scenarioName(), "basic");
    const auto refs = h.sim->kernelRefs();
    QCOMPARE(refs.size(), size_t(6));
    // The compiled-in demo is the file in resources/, byte for byte.
    KD_COMPARE_STR(Simulator::builtinDemoScenario(),
                   readFile(std::string(KD_SOURCE_DIR) + "/resources/demo-scenario.json"));
    Simulator demo;
    std::string error;
    QVERIFY2(demo.loadScenarioJson(Simulator::builtinDemoScenario(), &error), error.c_str());
    QVERIFY(demo.loadScenarioFile(std::string(KD_SOURCE_DIR) + "/resources/demo-scenario.json",
                                  &error));
}

void TestSimulator::scenarioErrorsAreReported()
{
    Simulator sim;
    std::string error;
    QVERIFY(!sim.loadScenarioJson("{not json", &error));
    QVERIFY(error.find("JSON") != std::string::npos);
    QVERIFY(!sim.loadScenarioJson(R"({"kernels":[{"ref":"a/b","runSecs":3}]})", &error));
    QVERIFY2(error.find("runSecs") != std::string::npos, error.c_str());
    QVERIFY(!sim.loadScenarioJson(R"({"kernels":[{"ref":"a/b","outcome":"boom"}]})", &error));
    QVERIFY2(error.find("outcome") != std::string::npos, error.c_str());
    QVERIFY(
        !sim.loadScenarioJson(R"({"kernels":[{"ref":"a/b","machineShape":"Gpu9000"}]})", &error));
    QVERIFY2(error.find("Gpu9000") != std::string::npos, error.c_str());
    QVERIFY(!sim.loadScenarioFile("/nonexistent/scenario.json", &error));
    // Keys starting with "_" are comments.
    QVERIFY2(sim.loadScenarioJson(R"({"_note":"x","kernels":[{"ref":"a/b","_why":"y"}]})", &error),
             error.c_str());
    QVERIFY(!sim.loadScenarioFile("/nonexistent/scenario.json", nullptr));
}

void TestSimulator::demoScenarioHasEveryState()
{
    Harness h(Simulator::builtinDemoScenario());
    QVERIFY(h.loaded);
    std::map<std::string, int> states;
    for (const auto &ref : h.sim->kernelRefs())
        states[h.sim->kernelStatus(ref)]++;
    QVERIFY(states["RUNNING"] >= 3); // two GPU runs + TPU
    QVERIFY(states["QUEUED"] >= 1);
    QVERIFY(states["COMPLETE"] >= 1);
    QVERIFY(states["ERROR"] >= 1);
    QVERIFY(h.sim->kernelRefs().size() >= 6);
    KD_COMPARE_STR(h.sim->kernelStatus("demo/gemma-2b-tpu-keras"), "RUNNING");
    // Chain: step 2 reads step 1's output.
    const json meta = h.ok("kernels.KernelsApiService/GetKernel",
                           {{"userName", "demo"}, {"kernelSlug", "llama-ft-epoch-2"}},
                           basicAuth("demo", "demo-key-not-secret"));
    QCOMPARE(meta["metadata"]["kernelDataSources"], json::array({"demo/llama-ft-epoch-1"}));
    const json failed = h.ok("kernels.KernelsApiService/GetKernelSessionStatus",
                             {{"userName", "demo"}, {"kernelSlug", "sdxl-lora-pokemon"}},
                             bearerAuth("KGAT_demo_token"));
    KD_COMPARE_STR(failed["status"].get<std::string>(), "ERROR");
    QVERIFY(!failed["failureMessage"].get<std::string>().empty());
    // Things move within a minute at speed 1: logs stream and the quick run completes.
    const size_t before = h.sim->sessionLogEventCount("demo/deberta-v3-commonlit");
    h.sim->advance(60);
    QVERIFY(h.sim->sessionLogEventCount("demo/deberta-v3-commonlit") > before + 60);
    KD_COMPARE_STR(h.sim->kernelStatus("demo/quick-eda"), "COMPLETE");
    KD_COMPARE_STR(h.sim->kernelStatus("demo/whisper-small-swahili"), "RUNNING");
}

void TestSimulator::auth_data()
{
    QTest::addColumn<QString>("header");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("kind");
    QTest::newRow("none") << QString() << 401 << QStringLiteral("none");
    QTest::newRow("basic wrong key") << QString::fromStdString("Basic " + base64("alice:nope"))
                                     << 401 << QStringLiteral("basic");
    QTest::newRow("basic unknown user")
        << QString::fromStdString("Basic " + base64("mallory:alice-key-123456")) << 401
        << QStringLiteral("basic");
    QTest::newRow("basic garbage") << QStringLiteral("Basic !!!") << 401 << QStringLiteral("basic");
    QTest::newRow("bearer wrong") << QStringLiteral("Bearer KGAT_nope") << 401
                                  << QStringLiteral("bearer");
    QTest::newRow("basic ok") << QString::fromStdString("Basic " + base64("alice:alice-key-123456"))
                              << 200 << QStringLiteral("basic");
    QTest::newRow("bearer ok") << QStringLiteral("Bearer KGAT_alice_token_abcdef") << 200
                               << QStringLiteral("bearer");
}

void TestSimulator::auth()
{
    QFETCH(QString, header);
    QFETCH(int, status);
    QFETCH(QString, kind);
    Harness h;
    httplib::Headers headers;
    if (!header.isEmpty())
        headers.emplace("Authorization", header.toStdString());
    auto res = h.call("kernels.KernelsApiService/ListKernels", {{"group", "PROFILE"}}, headers);
    QVERIFY(res);
    QCOMPARE(res->status, status);
    QVERIFY(res->get_header_value("Content-Type").rfind("application/json", 0) == 0);
    const json body = json::parse(res->body);
    if (status == 401)
        QCOMPARE(body, json({{"code", 401}, {"message", "Unauthenticated"}}));
    else
        QVERIFY(body["kernels"].is_array());
    const auto records = h.sim->requests();
    QCOMPARE(records.size(), size_t(1));
    KD_COMPARE_STR(records[0].authorization_kind, kind.toStdString());
    QCOMPARE(records[0].status, status);
    KD_COMPARE_STR(records[0].method, "POST");
    // Blob and upload URLs need no auth, and a stream does.
    auto stream = h.client->Get("/api/v1/kernels/logs/stream/alice/failing-run", headers);
    QVERIFY(stream);
    QCOMPARE(stream->status, status);
}

void TestSimulator::introspectToken()
{
    Harness h;
    const json active = h.ok("security.OAuthService/IntrospectToken",
                             {{"token", "KGAT_alice_token_abcdef"}}, bearerAuth());
    QCOMPARE(active["active"], json(true));
    QCOMPARE(active["username"], json("alice"));
    QVERIFY(active["userId"].is_number_integer());
    // An unknown token is "inactive", not a 401, even with that same token as the Bearer.
    const json inactive = h.ok("security.OAuthService/IntrospectToken", {{"token", "KGAT_nope"}},
                               bearerAuth("KGAT_nope"));
    QCOMPARE(inactive, json({{"active", false}}));
    const json anonymous = h.ok("security.OAuthService/IntrospectToken", {{"token", "x"}}, {});
    QCOMPARE(anonymous, json({{"active", false}}));
}

void TestSimulator::unknownMethodAndVerb()
{
    Harness h;
    auto res = h.call("kernels.KernelsApiService/ExplodeKernel", json::object());
    QVERIFY(res);
    QCOMPARE(res->status, 404);
    QCOMPARE(json::parse(res->body)["code"], json(404));
    auto get = h.client->Get("/api/v1/kernels.KernelsApiService/ListKernels", basicAuth());
    QVERIFY(get);
    QCOMPARE(get->status, 405);
    KD_COMPARE_STR(get->get_header_value("Allow"), "POST");
    QCOMPARE(json::parse(get->body)["code"], json(405));
    auto elsewhere = h.client->Get("/nothing/here");
    QVERIFY(elsewhere);
    QCOMPARE(elsewhere->status, 404);
    auto badJson = h.client->Post("/api/v1/kernels.KernelsApiService/ListKernels", basicAuth(),
                                  "{oops", "application/json");
    QVERIFY(badJson);
    QCOMPARE(badJson->status, 400);
    auto badType = h.call("kernels.KernelsApiService/ListKernels", {{"pageSize", "many"}});
    QVERIFY(badType);
    QCOMPARE(badType->status, 400);
}

void TestSimulator::listKernelsPaging()
{
    Harness h;
    std::vector<std::string> refs;
    std::string token;
    int pages = 0;
    do {
        json body = {{"group", "PROFILE"}, {"sortBy", "DATE_RUN"}, {"pageSize", 3}};
        if (!token.empty())
            body["pageToken"] = token;
        const json page = h.ok("kernels.KernelsApiService/ListKernels", body);
        QVERIFY2(page.contains("kernels"), page.dump().c_str());
        QVERIFY(page["kernels"].size() <= 3);
        for (const auto &k : page["kernels"])
            refs.push_back(k["ref"].get<std::string>());
        token = page.value("nextPageToken", "");
        ++pages;
    } while (!token.empty() && pages < 10);
    QCOMPARE(pages, 2);
    QCOMPARE(refs.size(), size_t(4));
    // Most recently run first; the never-run draft last.
    KD_COMPARE_STR(refs.front(), "alice/bert-imdb");
    KD_COMPARE_STR(refs.back(), "alice/draft-notebook");
    // page/pageSize form agrees with the token form.
    const json second =
        h.ok("kernels.KernelsApiService/ListKernels",
             {{"group", "PROFILE"}, {"sortBy", "DATE_RUN"}, {"page", 2}, {"pageSize", 3}});
    QCOMPARE(second["kernels"].size(), size_t(1));
    KD_COMPARE_STR(second["kernels"][0]["ref"].get<std::string>(), "alice/draft-notebook");
    const json first = h.ok("kernels.KernelsApiService/ListKernels",
                            {{"group", "PROFILE"}, {"sortBy", "DATE_RUN"}, {"pageSize", 1}});
    const json k = first["kernels"][0];
    for (const char *key : {"id", "ref", "title", "author", "slug", "lastRunTime", "language",
                            "kernelType", "isPrivate", "enableGpu", "enableInternet",
                            "datasetDataSources", "currentVersionNumber", "machineShape"})
        QVERIFY2(k.contains(key), key);
    KD_COMPARE_STR(k["lastRunTime"].get<std::string>(), "2026-06-01T12:00:00.000Z");
    KD_COMPARE_STR(k["author"].get<std::string>(), "Alice Example");
    QCOMPARE(k["enableGpu"], json(true));
    auto bad = h.call("kernels.KernelsApiService/ListKernels", {{"pageToken", "garbage"}});
    QCOMPARE(bad->status, 400);
}

void TestSimulator::listKernelsVisibility()
{
    Harness h;
    auto refsOf = [](const json &page) {
        std::set<std::string> refs;
        for (const auto &k : page["kernels"])
            refs.insert(k["ref"].get<std::string>());
        return refs;
    };
    const auto bobs = refsOf(
        h.ok("kernels.KernelsApiService/ListKernels", {{"group", "EVERYONE"}, {"user", "bob"}}));
    QCOMPARE(bobs, std::set<std::string>({"bob/public-eda"}));
    const auto everyone = refsOf(h.ok("kernels.KernelsApiService/ListKernels", json::object()));
    QVERIFY(everyone.count("bob/public-eda"));
    QVERIFY(!everyone.count("bob/secret-work"));
    QVERIFY(everyone.count("alice/draft-notebook"));
    const auto searched = refsOf(h.ok("kernels.KernelsApiService/ListKernels",
                                      {{"group", "PROFILE"}, {"search", "titanic"}}));
    QCOMPARE(searched, std::set<std::string>({"alice/titanic-baseline"}));
    // Someone else's private kernel is "permission denied", like a missing one.
    const json denied = h.status("secret-work", "bob");
    QCOMPARE(denied["__status"], json(403));
    QVERIFY(denied["__body"].get<std::string>().find("Permission 'kernels.get' was denied") !=
            std::string::npos);
    QCOMPARE(h.status("no-such-kernel")["__status"], json(403));
    KD_COMPARE_STR(h.status("public-eda", "bob")["status"].get<std::string>(), "COMPLETE");
}

void TestSimulator::statusLifecycle()
{
    Harness h;
    QCOMPARE(h.status("bert-imdb"), json({{"status", "QUEUED"}}));
    KD_COMPARE_STR(h.sim->kernelStatus("alice/bert-imdb"), "QUEUED");
    h.sim->advance(10);
    QCOMPARE(h.status("bert-imdb"), json({{"status", "RUNNING"}}));
    h.sim->advance(50);
    KD_COMPARE_STR(h.sim->kernelStatus("alice/bert-imdb"), "RUNNING");
    h.sim->advance(50);
    QCOMPARE(h.status("bert-imdb"), json({{"status", "COMPLETE"}}));
    KD_COMPARE_STR(h.sim->kernelStatus("alice/bert-imdb"), "COMPLETE");
    QCOMPARE(h.status("draft-notebook")["__status"], json(404));
    QVERIFY(h.sim->kernelStatus("alice/draft-notebook").empty());
}

void TestSimulator::statusSpelling_data()
{
    QTest::addColumn<QString>("spelling");
    QTest::addColumn<QString>("queued");
    QTest::addColumn<QString>("running");
    QTest::addColumn<QString>("error");
    QTest::addColumn<QString>("cancelled");
    QTest::addColumn<QString>("datasetReady");
    QTest::newRow("upper") << QStringLiteral("upper") << QStringLiteral("QUEUED")
                           << QStringLiteral("RUNNING") << QStringLiteral("ERROR")
                           << QStringLiteral("CANCEL_ACKNOWLEDGED") << QStringLiteral("READY");
    QTest::newRow("lower") << QStringLiteral("lower") << QStringLiteral("queued")
                           << QStringLiteral("running") << QStringLiteral("error")
                           << QStringLiteral("cancelAcknowledged") << QStringLiteral("ready");
    QTest::newRow("prefixed") << QStringLiteral("prefixed")
                              << QStringLiteral("KERNEL_WORKER_STATUS_QUEUED")
                              << QStringLiteral("KERNEL_WORKER_STATUS_RUNNING")
                              << QStringLiteral("KERNEL_WORKER_STATUS_ERROR")
                              << QStringLiteral("KERNEL_WORKER_STATUS_CANCEL_ACKNOWLEDGED")
                              << QStringLiteral("DATABUNDLE_VERSION_STATUS_READY");
}

void TestSimulator::statusSpelling()
{
    QFETCH(QString, spelling);
    QFETCH(QString, queued);
    QFETCH(QString, running);
    QFETCH(QString, error);
    QFETCH(QString, cancelled);
    QFETCH(QString, datasetReady);
    json scenario = json::parse(basicWith({{"statusSpelling", spelling.toStdString()}}));
    scenario["kernels"].push_back({{"ref", "alice/cancelled-run"},
                                   {"startAt", -100},
                                   {"runSeconds", 20},
                                   {"outcome", "cancel"}});
    Harness h(scenario.dump());
    QVERIFY(h.loaded);
    KD_COMPARE_STR(h.status("bert-imdb")["status"].get<std::string>(), queued.toStdString());
    KD_COMPARE_STR(h.status("failing-run")["status"].get<std::string>(), error.toStdString());
    KD_COMPARE_STR(h.status("cancelled-run")["status"].get<std::string>(), cancelled.toStdString());
    h.sim->advance(10);
    KD_COMPARE_STR(h.status("bert-imdb")["status"].get<std::string>(), running.toStdString());
    const json ds = h.ok("datasets.DatasetApiService/GetDatasetStatus",
                         {{"ownerSlug", "alice"}, {"datasetSlug", "imdb-reviews"}});
    KD_COMPARE_STR(ds["status"].get<std::string>(), datasetReady.toStdString());
}

void TestSimulator::omitDefaultsDropsQueuedStatus()
{
    Harness h(basicWith({{"omitDefaults", true}}));
    QCOMPARE(h.status("bert-imdb"), json::object());
    h.sim->advance(10);
    QCOMPARE(h.status("bert-imdb"), json({{"status", "RUNNING"}}));
    const json list =
        h.ok("kernels.KernelsApiService/ListKernels", {{"group", "PROFILE"}, {"search", "draft"}});
    const json draft = list["kernels"][0];
    QVERIFY(!draft.contains("lastRunTime"));
    QVERIFY(!draft.contains("datasetDataSources")); // empty list omitted
    QVERIFY(!draft.contains("enableGpu"));          // false omitted
    QVERIFY(!list.contains("nextPageToken"));       // "" omitted
    QCOMPARE(draft["isPrivate"], json(true));
}

void TestSimulator::int64AsString()
{
    Harness h(basicWith({{"int64AsString", true}}));
    const json list = h.ok("kernels.KernelsApiService/ListKernels", {{"group", "PROFILE"}});
    const json k = list["kernels"][0];
    QVERIFY(k["id"].is_string());
    QVERIFY(k["currentVersionNumber"].is_string());
    const json pushed = h.push(pushBody("alice/x", "String Ids Kernel", ""));
    QVERIFY(pushed["versionNumber"].is_string());
    QVERIFY(pushed["kernelId"].is_string());
    // Requests may carry ids as strings too (proto3 JSON).
    const json byId = h.push(
        {{"id", pushed["kernelId"]}, {"text", "print(2)"}, {"kernelExecutionType", "QUICK_SAVE"}});
    KD_COMPARE_STR(byId["versionNumber"].get<std::string>(), "2");
}

void TestSimulator::errorSessionHasFailureMessageAndTraceback()
{
    Harness h;
    const json s = h.status("failing-run");
    QCOMPARE(s, json({{"status", "ERROR"}, {"failureMessage", "CUDA out of memory"}}));
    const json out = h.output("failing-run");
    const json log = parseLog(out["log"].get<std::string>());
    QVERIFY(log.is_array());
    QVERIFY(log.size() > 10);
    std::string stderrText;
    for (const auto &e : log) {
        QVERIFY(e.contains("stream_name") && e.contains("time") && e.contains("data"));
        if (e["stream_name"] == "stderr")
            stderrText += e["data"].get<std::string>();
    }
    QVERIFY(stderrText.find("Traceback (most recent call last):\n") != std::string::npos);
    QVERIFY(stderrText.find("torch.OutOfMemoryError: CUDA out of memory") != std::string::npos);
    KD_COMPARE_STR(log.back()["stream_name"].get<std::string>(), "stderr");
    // Dies in epoch 2: epoch 1's checkpoint exists, no submission.
    const auto names = h.sim->outputFileNames("alice/failing-run");
    QVERIFY(std::find(names.begin(), names.end(), "checkpoint-epoch1/model.safetensors") !=
            names.end());
    QVERIFY(std::find(names.begin(), names.end(), "checkpoint-epoch2/model.safetensors") ==
            names.end());
    QVERIFY(std::find(names.begin(), names.end(), "submission.csv") == names.end());
    // The persisted layout: one object per line, later lines prefixed by a comma.
    const std::string raw = out["log"].get<std::string>();
    QVERIFY(raw.rfind("[{\"stream_name\":", 0) == 0);
    QVERIFY(raw.find("}\n,{\"stream_name\"") != std::string::npos);
    QVERIFY(raw.size() > 3 && raw.substr(raw.size() - 2) == "\n]");
}

void TestSimulator::logStyles_data()
{
    QTest::addColumn<QString>("style");
    QTest::addColumn<QStringList>("expected");
    QTest::newRow("hf") << QStringLiteral("hf")
                        << QStringList{QStringLiteral("{'loss': "),
                                       QStringLiteral("'learning_rate': "),
                                       QStringLiteral("{'eval_loss': "), QStringLiteral("it/s]"),
                                       QStringLiteral("FutureWarning")};
    QTest::newRow("keras") << QStringLiteral("keras")
                           << QStringList{
                                  QStringLiteral("Epoch 1/2\n"), QStringLiteral("Epoch 2/2\n"),
                                  QStringLiteral(" - loss: "), QStringLiteral(" - val_accuracy: ")};
    QTest::newRow("tqdm") << QStringLiteral("tqdm")
                          << QStringList{QStringLiteral("it/s, loss="),
                                         QStringLiteral("val_loss=")};
    QTest::newRow("plain") << QStringLiteral("plain")
                           << QStringList{QStringLiteral("epoch=1 step="),
                                          QStringLiteral("eval_loss=")};
}

void TestSimulator::logStyles()
{
    QFETCH(QString, style);
    QFETCH(QStringList, expected);
    json scenario = json::parse(basicScenario());
    scenario["kernels"][0]["logStyle"] = style.toStdString();
    Harness h(scenario.dump());
    h.sim->advance(200);
    const json log = parseLog(h.output("bert-imdb")["log"].get<std::string>());
    std::string all;
    for (const auto &e : log)
        all += e["data"].get<std::string>();
    for (const auto &text : expected)
        QVERIFY2(all.find(text.toStdString()) != std::string::npos, qPrintable(text));
    QVERIFY(all.find("Saving checkpoint to /kaggle/working/checkpoint-epoch1\n") !=
            std::string::npos);
    QVERIFY(all.find("Saving checkpoint to /kaggle/working/checkpoint-epoch2\n") !=
            std::string::npos);
    QVERIFY(all.find("Collecting ") != std::string::npos);
    QVERIFY(all.find("\r") != std::string::npos || style == QStringLiteral("plain"));
    // Event times are seconds since the run started and never go backwards.
    double last = 0;
    for (const auto &e : log) {
        QVERIFY(e["time"].get<double>() >= last);
        last = e["time"].get<double>();
    }
    QVERIFY(log.front()["time"].get<double>() > 1);
    QVERIFY(last <= 100.01);
    // Loss decreases overall: the first logged loss beats the last one.
    if (style == QStringLiteral("hf")) {
        std::vector<double> losses;
        for (const auto &e : log) {
            const std::string d = e["data"].get<std::string>();
            if (d.rfind("{'loss': ", 0) == 0)
                losses.push_back(std::stod(d.substr(9)));
        }
        QVERIFY(losses.size() >= 6);
        QVERIFY(losses.front() > losses.back());
    }
}

void TestSimulator::logsAreDeterministic()
{
    auto logAt = [](uint64_t seed, const std::vector<double> &steps) {
        Options options;
        options.seed = seed;
        Harness h(basicScenario(), options);
        // Peek between steps so the log is produced in different slices.
        for (double step : steps) {
            h.sim->advance(step);
            h.sim->sessionLogEventCount("alice/bert-imdb");
        }
        return h.output("bert-imdb")["log"].get<std::string>();
    };
    // Same seed, different time slicing: identical log.
    const std::string a = logAt(7, {200});
    const std::string b = logAt(7, {15, 3.3, 40, 0.01, 141.69});
    QCOMPARE(a.size(), b.size());
    QVERIFY(a == b);
    QVERIFY(a != logAt(8, {200}));
}

void TestSimulator::logRateIsConfigurable()
{
    Options fast;
    fast.logEventsPerSecond = 50;
    Harness slow;
    Harness quick(basicScenario(), fast);
    slow.sim->advance(200);
    quick.sim->advance(200);
    const size_t slowCount = slow.sim->sessionLogEventCount("alice/bert-imdb");
    const size_t fastCount = quick.sim->sessionLogEventCount("alice/bert-imdb");
    QVERIFY2(slowCount > 100 && slowCount < 400, std::to_string(slowCount).c_str());
    QVERIFY2(fastCount > 3000, std::to_string(fastCount).c_str());
}

void TestSimulator::unterminatedRunningLog()
{
    Harness h(basicWith({{"unterminatedRunningLog", true}}));
    QCOMPARE(h.output("bert-imdb").value("log", "x"), json("")); // queued: no log yet
    h.sim->advance(40);
    const std::string running = h.output("bert-imdb")["log"].get<std::string>();
    QVERIFY(running.rfind("[{", 0) == 0);
    QVERIFY(running.back() == '\n');
    QVERIFY(parseLog(running).is_discarded());
    QVERIFY(parseLog(running + "]").is_array());
    h.sim->advance(100);
    QVERIFY(parseLog(h.output("bert-imdb")["log"].get<std::string>()).is_array());
}

void TestSimulator::sseReplaysAndEnds()
{
    Harness h;
    h.sim->advance(40); // running for 30 s
    const size_t already = h.sim->sessionLogEventCount("alice/bert-imdb");
    QVERIFY(already > 10);
    StreamReader reader(h.sim->port(), "/api/v1/kernels/logs/stream/alice/bert-imdb");
    QTRY_VERIFY(reader.events().size() >= already);
    {
        std::lock_guard lock(reader.mutex);
        KD_COMPARE_STR(reader.contentType.substr(0, 17), "text/event-stream");
    }
    // Replay starts from the first event of the session.
    const auto replay = reader.events();
    KD_COMPARE_STR(replay.front()["data"].get<std::string>(), "Collecting peft==0.11.1\n");
    QVERIFY(!reader.finished());
    h.sim->advance(20);
    QTRY_VERIFY(reader.events().size() > already + 5);
    h.sim->advance(100); // complete
    QTRY_VERIFY_WITH_TIMEOUT(reader.finished(), 10000);
    QVERIFY(reader.ok);
    const std::string text = reader.text();
    const std::string end = "data: END_OF_LOG\n\n";
    QVERIFY(text.size() > end.size() && text.substr(text.size() - end.size()) == end);
    const auto events = reader.events();
    QCOMPARE(events.size(), h.sim->sessionLogEventCount("alice/bert-imdb"));
    const json persisted = parseLog(h.output("bert-imdb")["log"].get<std::string>());
    QCOMPARE(events.size(), persisted.size());
    QCOMPARE(events.back(), persisted.back());
    // A second connection replays from the start again (reconnect semantics).
    h.sim->clearRequests();
}

void TestSimulator::sseFallsBackToJsonWhenDone()
{
    Harness h;
    auto done = h.client->Get("/api/v1/kernels/logs/stream/alice/failing-run", basicAuth());
    QVERIFY(done);
    QCOMPARE(done->status, 200);
    QVERIFY(done->get_header_value("Content-Type").rfind("application/json", 0) == 0);
    const json log = parseLog(done->body);
    QVERIFY(log.is_array() && log.size() > 10);
    auto never = h.client->Get("/api/v1/kernels/logs/stream/alice/draft-notebook", basicAuth());
    QVERIFY(never);
    QVERIFY(never->get_header_value("Content-Type").rfind("application/json", 0) == 0);
    KD_COMPARE_STR(never->body, "[]");
    auto denied = h.client->Get("/api/v1/kernels/logs/stream/bob/secret-work", basicAuth());
    QCOMPARE(denied->status, 403);
}

void TestSimulator::sseIdleStreamIsDropped()
{
    Harness h;
    h.sim->advance(40);
    h.sim->setSseIdleTimeout(0.5);
    StreamReader reader(h.sim->port(), "/api/v1/kernels/logs/stream/alice/bert-imdb");
    QTRY_VERIFY_WITH_TIMEOUT(reader.finished(), 5000);
    QVERIFY(!reader.events().empty());
    QVERIFY(reader.text().find("END_OF_LOG") == std::string::npos);
}

void TestSimulator::sseMaxStreamLifetime()
{
    Options options;
    options.sseMaxStreamSeconds = 0.4;
    Harness h(basicScenario(), options);
    h.sim->setSpeed(50); // events keep coming, so only the lifetime can end the stream
    StreamReader reader(h.sim->port(), "/api/v1/kernels/logs/stream/alice/bert-imdb");
    QTRY_VERIFY_WITH_TIMEOUT(reader.finished(), 5000);
    QVERIFY(!reader.ok); // cut mid-way, not a clean end
    QVERIFY(reader.text().find("END_OF_LOG") == std::string::npos);
}

void TestSimulator::sseStallsMidStream()
{
    Harness h;
    h.sim->advance(40);
    const size_t replayed = h.sim->sessionLogEventCount("alice/bert-imdb");
    Faults f;
    f.stall = 1;
    f.stallMs = 700;
    f.onlyPaths = {"/logs/stream/"};
    h.sim->setFaults(f);
    QElapsedTimer timer;
    timer.start();
    StreamReader reader(h.sim->port(), "/api/v1/kernels/logs/stream/alice/bert-imdb");
    // The replay arrives at once; the pause comes after it.
    QTRY_VERIFY(reader.events().size() >= replayed);
    QVERIFY(timer.elapsed() < 600);
    h.sim->advance(20);
    QTRY_VERIFY_WITH_TIMEOUT(reader.events().size() > replayed, 5000);
    QVERIFY2(timer.elapsed() >= 650, std::to_string(timer.elapsed()).c_str());
    KD_COMPARE_STR(h.sim->requests().back().fault, "stall");
    h.sim->advance(100);
    QTRY_VERIFY_WITH_TIMEOUT(reader.finished(), 5000);
    QVERIFY(reader.text().find("END_OF_LOG") != std::string::npos);
}

void TestSimulator::signedUrlsExpire()
{
    Harness h(basicWith({{"signedUrlTtlSeconds", 0.3}}));
    const std::string path =
        h.pathOf(h.output("titanic-baseline")["files"][0]["url"].get<std::string>());
    QCOMPARE(h.client->Get(path.c_str())->status, 200);
    QTest::qWait(450);
    auto expired = h.client->Get(path.c_str());
    QCOMPARE(expired->status, 403);
    QVERIFY(expired->body.find("ExpiredToken") != std::string::npos);
    // Listing again hands out a fresh URL.
    const std::string fresh =
        h.pathOf(h.output("titanic-baseline")["files"][0]["url"].get<std::string>());
    QVERIFY(fresh != path);
    QCOMPARE(h.client->Get(fresh.c_str())->status, 200);
}

void TestSimulator::outputPagination()
{
    json scenario = json::parse(basicScenario());
    json outputs = json::array();
    for (int i = 0; i < 45; ++i)
        outputs.push_back(
            {{"name", "shards/part-" + std::to_string(100 + i) + ".bin"}, {"size", 100 + i}});
    scenario["kernels"].push_back({{"ref", "alice/many-outputs"},
                                   {"startAt", -100},
                                   {"runSeconds", 30},
                                   {"outputs", outputs}});
    Harness h(scenario.dump());
    QVERIFY(h.loaded);
    std::vector<std::string> names;
    std::vector<size_t> pageSizes;
    std::string token;
    int pages = 0;
    do {
        json extra = json::object();
        if (!token.empty())
            extra["pageToken"] = token;
        const json page = h.output("many-outputs", extra);
        QVERIFY2(page.contains("files"), page.dump().c_str());
        pageSizes.push_back(page["files"].size());
        // The log only comes with the first page.
        QCOMPARE(page.contains("log"), pages == 0);
        for (const auto &f : page["files"]) {
            names.push_back(f["fileName"].get<std::string>());
            QVERIFY(f["url"].get<std::string>().rfind(h.sim->endpoint() + "/blob/", 0) == 0);
        }
        token = page.value("nextPageToken", "");
        ++pages;
    } while (!token.empty() && pages < 10);
    QCOMPARE(pageSizes, std::vector<size_t>({20, 20, 5}));
    QCOMPARE(names.size(), size_t(45));
    KD_COMPARE_STR(names.front(), "shards/part-100.bin");
    QCOMPARE(h.output("many-outputs", {{"pageSize", 7}})["files"].size(), size_t(7));
    QCOMPARE(h.output("many-outputs", {{"pageSize", 500}})["files"].size(), size_t(45));
    QCOMPARE(h.output("many-outputs", {{"pageToken", "nope"}})["__status"], json(400));
    // While a run is going, there are no output files yet.
    QVERIFY(!h.output("bert-imdb").contains("files") || h.output("bert-imdb")["files"].empty());
}

void TestSimulator::signedDownloadWithRange()
{
    Harness h;
    const json out = h.output("titanic-baseline");
    std::string url;
    for (const auto &f : out["files"]) {
        if (f["fileName"] == "model.pkl")
            url = f["url"].get<std::string>();
    }
    QVERIFY(!url.empty());
    const std::string path = h.pathOf(url);
    auto full = h.client->Get(path.c_str()); // no Kaggle auth on signed URLs
    QVERIFY(full);
    QCOMPARE(full->status, 200);
    QCOMPARE(full->body.size(), size_t(10000));
    KD_COMPARE_STR(full->get_header_value("Accept-Ranges"), "bytes");
    auto part = h.client->Get(path.c_str(), {{"Range", "bytes=100-199"}});
    QVERIFY(part);
    QCOMPARE(part->status, 206);
    KD_COMPARE_STR(part->get_header_value("Content-Range"), "bytes 100-199/10000");
    QVERIFY(part->body == full->body.substr(100, 100));
    auto tail = h.client->Get(path.c_str(), {{"Range", "bytes=9990-"}});
    QCOMPARE(tail->status, 206);
    QVERIFY(tail->body == full->body.substr(9990));
    auto suffix = h.client->Get(path.c_str(), {{"Range", "bytes=-16"}});
    QCOMPARE(suffix->status, 206);
    QVERIFY(suffix->body == full->body.substr(10000 - 16));
    auto beyond = h.client->Get(path.c_str(), {{"Range", "bytes=20000-"}});
    QCOMPARE(beyond->status, 416);
    KD_COMPARE_STR(beyond->get_header_value("Content-Range"), "bytes */10000");
    // The token is tied to the file name, and unknown tokens are 404.
    const std::string token = path.substr(6, path.find('/', 6) - 6);
    QCOMPARE(h.client->Get(("/blob/" + token + "/other.bin").c_str())->status, 404);
    QCOMPARE(h.client->Get("/blob/0123456789abcdef0123456789abcdef/model.pkl")->status, 404);
    QVERIFY(token.size() >= 32);
    // A real CSV: the submission is text with a header row.
    for (const auto &f : out["files"]) {
        if (f["fileName"] == "submission.csv") {
            auto csv = h.client->Get(h.pathOf(f["url"].get<std::string>()).c_str());
            QCOMPARE(csv->body.size(), size_t(2839));
            QVERIFY(csv->body.rfind("id,target\n", 0) == 0);
        }
    }
    // Checkpoint text files are valid JSON.
    h.sim->advance(200);
    const json finished = h.output("bert-imdb");
    for (const auto &f : finished["files"]) {
        if (f["fileName"] == "checkpoint-epoch2/trainer_state.json") {
            auto state = h.client->Get(h.pathOf(f["url"].get<std::string>()).c_str());
            const json parsed = json::parse(state->body, nullptr, false);
            QVERIFY(!parsed.is_discarded());
            QCOMPARE(parsed["log_history"].size(), size_t(2));
        }
    }
}

void TestSimulator::downloadsAreDeterministic()
{
    auto bytes = [](uint64_t seed) {
        Options options;
        options.seed = seed;
        Harness h(basicScenario(), options);
        const json out = h.output("titanic-baseline");
        for (const auto &f : out["files"]) {
            if (f["fileName"] == "model.pkl")
                return h.client->Get(h.pathOf(f["url"].get<std::string>()).c_str())->body;
        }
        return std::string();
    };
    const std::string a = bytes(3);
    QCOMPARE(a.size(), size_t(10000));
    QVERIFY(a == bytes(3));
    QVERIFY(a != bytes(4));
}

void TestSimulator::resumableUpload()
{
    Harness h;
    std::string url;
    const std::string token = h.startUpload("data.csv", 1000, &url);
    QVERIFY(!token.empty());
    KD_COMPARE_STR(url, h.sim->endpoint() + "/upload/" + token);
    const std::string path = h.pathOf(url);
    std::string data(1000, '\0');
    for (size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<char>('a' + i % 26);

    // Status query before anything arrived: 308 without Range.
    auto query = h.client->Put(path.c_str(), {{"Content-Range", "bytes */1000"}}, "",
                               "application/octet-stream");
    QVERIFY(query);
    QCOMPARE(query->status, 308);
    QVERIFY(!query->has_header("Range"));
    auto first = h.client->Put(path.c_str(), {{"Content-Range", "bytes 0-399/1000"}},
                               data.substr(0, 400), "application/octet-stream");
    QCOMPARE(first->status, 308);
    KD_COMPARE_STR(first->get_header_value("Range"), "bytes=0-399");
    // A chunk that leaves a gap is not stored; the answer says where to resume.
    auto gap = h.client->Put(path.c_str(), {{"Content-Range", "bytes 500-599/1000"}},
                             data.substr(500, 100), "application/octet-stream");
    QCOMPARE(gap->status, 308);
    KD_COMPARE_STR(gap->get_header_value("Range"), "bytes=0-399");
    auto wrong = h.client->Put(path.c_str(), {{"Content-Range", "bytes 400-499/999"}},
                               data.substr(400, 100), "application/octet-stream");
    QCOMPARE(wrong->status, 400);
    auto rest = h.client->Put(path.c_str(), {{"Content-Range", "bytes 400-999/1000"}},
                              data.substr(400), "application/octet-stream");
    QCOMPARE(rest->status, 200);
    auto again = h.client->Put(path.c_str(), {{"Content-Range", "bytes */1000"}}, "",
                               "application/octet-stream");
    QCOMPARE(again->status, 200);
    QVERIFY(h.sim->uploadedBytes(token) == data);
    QCOMPARE(h.client->Put("/upload/unknown-token", "x", "application/octet-stream")->status, 404);
    h.sim->expireUpload(token);
    QCOMPARE(
        h.client
            ->Put(path.c_str(), {{"Content-Range", "bytes */1000"}}, "", "application/octet-stream")
            ->status,
        404);
    QVERIFY(!h.sim->uploadedBytes(token));
    // Uploads need no Kaggle auth; StartBlobUpload does.
    QCOMPARE(h.call("blobs.BlobApiService/StartBlobUpload",
                    {{"type", "DATASET"}, {"name", "a"}, {"contentLength", 1}}, {})
                 ->status,
             401);
}

void TestSimulator::interruptedUploadResumes_data()
{
    QTest::addColumn<int>("interruptStatus");
    QTest::newRow("connection reset") << 0;
    QTest::newRow("503") << 503;
}

void TestSimulator::interruptedUploadResumes()
{
    QFETCH(int, interruptStatus);
    Options options;
    options.faults.uploadInterruptAfterBytes = 300;
    options.faults.uploadInterruptStatus = interruptStatus;
    Harness h(basicScenario(), options);
    std::string url;
    const std::string token = h.startUpload("weights.bin", 1000, &url);
    const std::string path = h.pathOf(url);
    const std::string data(1000, 'w');
    auto cut = h.client->Put(path.c_str(), data, "application/octet-stream");
    if (interruptStatus == 0)
        QVERIFY(!cut); // the connection was reset, no response at all
    else
        QCOMPARE(cut->status, interruptStatus);
    const auto records = h.sim->requests();
    QVERIFY(records.back().fault.find("upload-interrupt") != std::string::npos);
    QCOMPARE(records.back().status, interruptStatus);
    auto query = h.client->Put(path.c_str(), {{"Content-Range", "bytes */1000"}}, "",
                               "application/octet-stream");
    QVERIFY(query);
    QCOMPARE(query->status, 308);
    KD_COMPARE_STR(query->get_header_value("Range"), "bytes=0-299");
    auto resumed = h.client->Put(path.c_str(), {{"Content-Range", "bytes 300-999/1000"}},
                                 data.substr(300), "application/octet-stream");
    QCOMPARE(resumed->status, 200);
    QVERIFY(h.sim->uploadedBytes(token) == data);
}

void TestSimulator::getKernelAndVersions()
{
    Harness h;
    const json pulled = h.ok("kernels.KernelsApiService/GetKernel",
                             {{"userName", "alice"}, {"kernelSlug", "titanic-baseline"}});
    KD_COMPARE_STR(pulled["metadata"]["ref"].get<std::string>(), "alice/titanic-baseline");
    KD_COMPARE_STR(pulled["blob"]["kernelType"].get<std::string>(), "script");
    KD_COMPARE_STR(pulled["blob"]["slug"].get<std::string>(), "titanic-baseline");
    QVERIFY(!pulled["blob"]["source"].get<std::string>().empty());
    json body = pushBody("alice/titanic-baseline", "Titanic Baseline", "");
    body["text"] = "print('v2')";
    QCOMPARE(h.push(body)["versionNumber"], json(2));
    const json latest = h.ok("kernels.KernelsApiService/GetKernel",
                             {{"userName", "alice"}, {"kernelSlug", "titanic-baseline"}});
    KD_COMPARE_STR(latest["blob"]["source"].get<std::string>(), "print('v2')");
    QCOMPARE(latest["metadata"]["currentVersionNumber"], json(2));
    const json v1 = h.ok("kernels.KernelsApiService/GetKernel",
                         {{"userName", "alice"}, {"kernelSlug", "titanic-baseline/1"}});
    QVERIFY(v1["blob"]["source"].get<std::string>() != "print('v2')");
    QCOMPARE(h.ok("kernels.KernelsApiService/GetKernel",
                  {{"userName", "alice"}, {"kernelSlug", "titanic-baseline/9"}})["__status"],
             json(404));
    // A notebook's source is the .ipynb JSON.
    const json nb = h.ok("kernels.KernelsApiService/GetKernel",
                         {{"userName", "alice"}, {"kernelSlug", "bert-imdb"}});
    QVERIFY(json::parse(nb["blob"]["source"].get<std::string>())["cells"].is_array());
}

void TestSimulator::listKernelFiles()
{
    Harness h;
    const json files = h.ok("kernels.KernelsApiService/ListKernelFiles",
                            {{"userName", "alice"}, {"kernelSlug", "titanic-baseline"}});
    QCOMPARE(files["files"].size(), size_t(2));
    KD_COMPARE_STR(files["files"][0]["name"].get<std::string>(), "submission.csv");
    QCOMPARE(files["files"][0]["size"], json(2839));
    // "4:41 pm, Wednesday 23 September 2026 UTC" style.
    KD_COMPARE_STR(files["files"][0]["creationDate"].get<std::string>(),
                   "11:01 am, Monday 1 June 2026 UTC");
}

void TestSimulator::saveKernelCreatesRefFromTitle()
{
    Harness h;
    json body = pushBody("alice/whatever-slug", "My Fancy Model v2!");
    const json r = h.push(body);
    KD_COMPARE_STR(r["ref"].get<std::string>(), "alice/my-fancy-model-v2");
    KD_COMPARE_STR(r["url"].get<std::string>(),
                   h.sim->endpoint() + "/code/alice/my-fancy-model-v2");
    QCOMPARE(r["versionNumber"], json(1));
    KD_COMPARE_STR(r["error"].get<std::string>(), "");
    QVERIFY(r["kernelId"].is_number_integer());
    QCOMPARE(h.sim->kernelVersionCount("alice/my-fancy-model-v2"), 1);
    const auto refs = h.sim->kernelRefs();
    QVERIFY(std::find(refs.begin(), refs.end(), "alice/my-fancy-model-v2") != refs.end());
    QCOMPARE(h.sim->kernelVersionCount("alice/whatever-slug"), 0);
    KD_COMPARE_STR(h.sim->kernelStatus("alice/my-fancy-model-v2"), "QUEUED");
    QCOMPARE(json::parse(h.sim->lastSaveKernelRequest("alice/my-fancy-model-v2")), body);
    const json list = h.ok("kernels.KernelsApiService/ListKernels",
                           {{"group", "PROFILE"}, {"sortBy", "DATE_CREATED"}});
    KD_COMPARE_STR(list["kernels"][0]["ref"].get<std::string>(), "alice/my-fancy-model-v2");
}

void TestSimulator::saveKernelBumpsVersionWithStaleStatus()
{
    Harness h;
    json body = pushBody("alice/titanic-baseline", "Titanic Baseline", "");
    const json r = h.push(body);
    KD_COMPARE_STR(r["ref"].get<std::string>(), "alice/titanic-baseline");
    QCOMPARE(r["versionNumber"], json(2));
    // Right after the push Kaggle still reports the previous run for a moment.
    QCOMPARE(h.status("titanic-baseline"), json({{"status", "COMPLETE"}}));
    KD_COMPARE_STR(h.sim->kernelStatus("alice/titanic-baseline"), "QUEUED");
    h.sim->advance(1.5);
    QCOMPARE(h.status("titanic-baseline"), json({{"status", "COMPLETE"}}));
    h.sim->advance(1);
    QCOMPARE(h.status("titanic-baseline"), json({{"status", "QUEUED"}}));
    QCOMPARE(h.push(body)["versionNumber"], json(3));
    QCOMPARE(h.sim->kernelVersionCount("alice/titanic-baseline"), 3);
}

void TestSimulator::saveKernelInvalidSources()
{
    Harness h;
    json body = pushBody("alice/bert-imdb", "BERT IMDB");
    body["kernelType"] = "notebook";
    body["datasetDataSources"] = {"alice/imdb-reviews", "alice/no-such-data"};
    // The kernel itself is a valid source ("Files" persistence).
    body["kernelDataSources"] = {"alice/bert-imdb", "alice/titanic-baseline", "ghost/kernel",
                                 "bob/secret-work"};
    body["modelDataSources"] = {"google/gemma/transformers/2b/1", "not-a-model"};
    h.sim->advance(200); // let the current GPU run finish
    const json r = h.push(body);
    KD_COMPARE_STR(r["error"].get<std::string>(), "");
    QCOMPARE(r["versionNumber"], json(2));
    QCOMPARE(r["invalidDatasetSources"], json::array({"alice/no-such-data"}));
    QCOMPARE(r["invalidKernelSources"], json::array({"ghost/kernel", "bob/secret-work"}));
    QCOMPARE(r["invalidModelSources"], json::array({"not-a-model"}));
    QCOMPARE(r["invalidCompetitionSources"], json::array());
    const json meta = h.ok("kernels.KernelsApiService/GetKernel",
                           {{"userName", "alice"}, {"kernelSlug", "bert-imdb"}});
    QCOMPARE(meta["metadata"]["datasetDataSources"], json::array({"alice/imdb-reviews"}));
    QCOMPARE(meta["metadata"]["kernelDataSources"],
             json::array({"alice/bert-imdb", "alice/titanic-baseline"}));
    const json sent = json::parse(h.sim->lastSaveKernelRequest("alice/bert-imdb"));
    QCOMPARE(sent["kernelDataSources"][0], json("alice/bert-imdb"));
}

void TestSimulator::saveKernelRejectInvalidSourcesOption()
{
    Harness h(basicWith({{"rejectInvalidSources", true}}));
    json body = pushBody("alice/titanic-baseline", "Titanic Baseline", "");
    body["datasetDataSources"] = {"alice/no-such-data"};
    const json r = h.push(body);
    QVERIFY(!r["error"].get<std::string>().empty());
    QCOMPARE(r["invalidDatasetSources"], json::array({"alice/no-such-data"}));
    QCOMPARE(h.sim->kernelVersionCount("alice/titanic-baseline"), 1);
}

void TestSimulator::saveKernelValidation_data()
{
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("errorPart");
    QTest::newRow("empty text") << QStringLiteral("text") << QString()
                                << QStringLiteral("text is empty");
    QTest::newRow("language") << QStringLiteral("language") << QStringLiteral("cobol")
                              << QStringLiteral("Invalid language");
    QTest::newRow("kernel type") << QStringLiteral("kernelType") << QStringLiteral("app")
                                 << QStringLiteral("Invalid kernel type");
    QTest::newRow("type change") << QStringLiteral("kernelType") << QStringLiteral("notebook")
                                 << QStringLiteral("cannot be changed");
    QTest::newRow("machine shape")
        << QStringLiteral("machineShape") << QStringLiteral("NvidiaGeforce4090")
        << QStringLiteral("Invalid machine shape");
    QTest::newRow("unknown kernel, no title")
        << QStringLiteral("slug+newTitle") << QStringLiteral("alice/brand-new")
        << QStringLiteral("Kernel not found");
    QTest::newRow("someone else's kernel")
        << QStringLiteral("slug") << QStringLiteral("bob/public-eda")
        << QStringLiteral("permission");
    QTest::newRow("short title") << QStringLiteral("slug+shortTitle")
                                 << QStringLiteral("alice/new-one") << QStringLiteral("5");
    QTest::newRow("timeout") << QStringLiteral("sessionTimeoutSeconds") << QStringLiteral("99999")
                             << QStringLiteral("global maximum");
    QTest::newRow("execution type")
        << QStringLiteral("kernelExecutionType") << QStringLiteral("RUN_TWICE")
        << QStringLiteral("kernelExecutionType");
}

void TestSimulator::saveKernelValidation()
{
    QFETCH(QString, field);
    QFETCH(QString, value);
    QFETCH(QString, errorPart);
    Harness h;
    json body = pushBody("alice/titanic-baseline", "Titanic Baseline", "");
    if (field == QStringLiteral("slug+newTitle")) {
        body["slug"] = value.toStdString();
        body.erase("newTitle");
    } else if (field == QStringLiteral("slug+shortTitle")) {
        body["slug"] = value.toStdString();
        body["newTitle"] = "abc";
    } else if (field == QStringLiteral("sessionTimeoutSeconds")) {
        body["sessionTimeoutSeconds"] = value.toInt();
    } else {
        body[field.toStdString()] = value.toStdString();
    }
    auto res = h.call("kernels.KernelsApiService/SaveKernel", body);
    QVERIFY(res);
    QCOMPARE(res->status, 200); // push failures are in-band
    const json r = json::parse(res->body);
    const std::string error = r["error"].get<std::string>();
    QVERIFY2(error.find(errorPart.toStdString()) != std::string::npos, error.c_str());
    QCOMPARE(h.sim->kernelVersionCount("alice/titanic-baseline"), 1);
}

void TestSimulator::gpuSessionLimit()
{
    Harness h;
    QCOMPARE(h.sim->activeGpuSessions("alice"), 1); // bert-imdb is queued on a T4
    QVERIFY(h.push(pushBody("alice/gpu-one", "GPU Run One"))["error"] == "");
    QCOMPARE(h.sim->activeGpuSessions("alice"), 2);
    const json refused = h.push(pushBody("alice/gpu-two", "GPU Run Two"));
    KD_COMPARE_STR(refused["error"].get<std::string>(),
                   "Maximum batch GPU session count of 2 reached");
    QCOMPARE(h.sim->kernelVersionCount("alice/gpu-two"), 0);
    // CPU and TPU pushes are not limited by it; nor is bob.
    QVERIFY(h.push(pushBody("alice/cpu-run", "CPU Run Three", ""))["error"] == "");
    QVERIFY(h.push(pushBody("alice/tpu-run", "TPU Run Four", "Tpu1VmV38"))["error"] == "");
    QVERIFY(h.ok("kernels.KernelsApiService/SaveKernel", pushBody("bob/b", "Bob GPU Run"),
                 basicAuth("bob", "bob-key-654321"))["error"] == "");
    h.sim->setMaxGpuSessions(3);
    QVERIFY(h.push(pushBody("alice/gpu-two", "GPU Run Two"))["error"] == "");
    const json again = h.push(pushBody("alice/gpu-five", "GPU Run Five"));
    KD_COMPARE_STR(again["error"].get<std::string>(),
                   "Maximum batch GPU session count of 3 reached");
    h.sim->advance(200); // every run finishes
    QCOMPARE(h.sim->activeGpuSessions("alice"), 0);
    QVERIFY(h.push(pushBody("alice/gpu-five", "GPU Run Five"))["error"] == "");
}

void TestSimulator::quickSaveDoesNotRun()
{
    Harness h;
    json body = pushBody("alice/titanic-baseline", "Titanic Baseline", "");
    body["kernelExecutionType"] = "QUICK_SAVE";
    const size_t events = h.sim->sessionLogEventCount("alice/titanic-baseline");
    const json r = h.push(body);
    QCOMPARE(r["versionNumber"], json(2));
    KD_COMPARE_STR(h.sim->kernelStatus("alice/titanic-baseline"), "COMPLETE");
    QCOMPARE(h.sim->sessionLogEventCount("alice/titanic-baseline"), events);
    QCOMPARE(h.status("titanic-baseline"), json({{"status", "COMPLETE"}}));
    // QUICK_SAVE of a GPU kernel does not count against the session limit.
    h.push(pushBody("alice/gpu-one", "GPU Run One"));
    json gpu = pushBody("alice/gpu-one", "GPU Run One");
    gpu["kernelExecutionType"] = "QUICK_SAVE";
    QVERIFY(h.push(gpu)["error"] == "");
}

void TestSimulator::sessionTimeout()
{
    Harness h;
    json body = pushBody("alice/timeout-test", "Timeout Test", "");
    body["sessionTimeoutSeconds"] = 30;
    QVERIFY(h.push(body)["error"] == "");
    h.sim->advance(10 + 30 + 1); // queue 10 (push default) + the timeout
    const json s = h.status("timeout-test");
    KD_COMPARE_STR(s["status"].get<std::string>(), "ERROR");
    QVERIFY(s["failureMessage"].get<std::string>().find("timeout") != std::string::npos);
}

void TestSimulator::phantom404AfterPush()
{
    Harness h(basicWith({{"phantom404AfterPush", true}}));
    QVERIFY(h.push(pushBody("alice/fresh", "Fresh Kernel Here", ""))["error"] == "");
    QCOMPARE(h.status("fresh-kernel-here")["__status"], json(404));
    h.sim->advance(2.5);
    QCOMPARE(h.status("fresh-kernel-here"), json({{"status", "QUEUED"}}));
}

void TestSimulator::scriptedPushesFollowScript()
{
    json scenario = json::parse(basicScenario());
    scenario["kernels"].push_back(
        {{"ref", "alice/chain-step-2"},
         {"title", "Chain Step 2"},
         {"created", false},
         {"kernelSources", {"alice/bert-imdb"}},
         {"script",
          {{{"queueSeconds", 1}, {"runSeconds", 20}, {"outcome", "error"}},
           {{"queueSeconds", 2}, {"runSeconds", 30}}}}});
    Harness h(scenario.dump());
    QVERIFY(h.loaded);
    const auto refs = h.sim->kernelRefs();
    QVERIFY(std::find(refs.begin(), refs.end(), "alice/chain-step-2") == refs.end());
    json body = pushBody("alice/chain-step-2", "Chain Step 2", "");
    body["kernelDataSources"] = {"alice/bert-imdb"};
    QCOMPARE(h.push(body)["versionNumber"], json(1));
    h.sim->advance(22);
    KD_COMPARE_STR(h.sim->kernelStatus("alice/chain-step-2"), "ERROR");
    QCOMPARE(h.push(body)["versionNumber"], json(2));
    h.sim->advance(33);
    KD_COMPARE_STR(h.sim->kernelStatus("alice/chain-step-2"), "COMPLETE");
    QCOMPARE(h.push(body)["versionNumber"], json(3)); // the last step repeats
    h.sim->advance(33);
    KD_COMPARE_STR(h.sim->kernelStatus("alice/chain-step-2"), "COMPLETE");
}

void TestSimulator::createDatasetTakenSlugAndValidation()
{
    Harness h;
    const std::string token = h.uploadFile("weights.bin", std::string(2048, 'x'));
    json body = {
        {"ownerSlug", "alice"},     {"slug", "imdb-reviews"}, {"title", "IMDB Reviews Again"},
        {"licenseName", "CC0-1.0"}, {"isPrivate", true},      {"files", {{{"token", token}}}}};
    QCOMPARE(h.ok("datasets.DatasetApiService/CreateDataset", body),
             json({{"ref", ""},
                   {"url", ""},
                   {"status", "error"},
                   {"error", "The requested slug is already in use"}}));
    auto errorFor = [&](const json &change) {
        json b = body;
        b["slug"] = "fresh-dataset";
        b.update(change);
        return h.ok("datasets.DatasetApiService/CreateDataset", b).value("error", "");
    };
    QVERIFY(errorFor({{"licenseName", "WTFPL"}}).find("license") != std::string::npos);
    QVERIFY(errorFor({{"slug", "abc"}}).find("slug") != std::string::npos);
    QVERIFY(errorFor({{"title", "Tiny"}}).find("title") != std::string::npos);
    QVERIFY(errorFor({{"files", {{{"token", "bogus"}}}}}).find("token") != std::string::npos);
    QVERIFY(errorFor({{"files", json::array()}}).find("file") != std::string::npos);
    std::string url;
    const std::string partial = h.startUpload("half.bin", 100, &url);
    QVERIFY(errorFor({{"files", {{{"token", partial}}}}}).find("incomplete") != std::string::npos);
    QVERIFY(errorFor({{"ownerSlug", "bob"}}).find("permission") != std::string::npos);
    const json created = h.ok("datasets.DatasetApiService/CreateDataset", [&] {
        json b = body;
        b["slug"] = "fresh-dataset";
        return b;
    }());
    QCOMPARE(created["status"], json("ok"));
    KD_COMPARE_STR(created["ref"].get<std::string>(), "alice/fresh-dataset");
}

void TestSimulator::datasetStatusReachesReady()
{
    Harness h;
    const std::string data(4096, 'd');
    const std::string token = h.uploadFile("train.csv", data);
    const json created = h.ok("datasets.DatasetApiService/CreateDataset",
                              {{"ownerSlug", "alice"},
                               {"slug", "epoch-1-output"},
                               {"title", "Epoch 1 Output"},
                               {"licenseName", "other"},
                               {"files", {{{"token", token}, {"description", "d"}}}}});
    QCOMPARE(created["status"], json("ok"));
    const json ref = {{"ownerSlug", "alice"}, {"datasetSlug", "epoch-1-output"}};
    QCOMPARE(h.ok("datasets.DatasetApiService/GetDatasetStatus", ref),
             json({{"status", "NOT_YET_PERSISTED"}}));
    std::set<std::string> seen;
    for (int i = 0; i < 6; ++i) {
        seen.insert(h.ok("datasets.DatasetApiService/GetDatasetStatus", ref)["status"]);
        h.sim->advance(1);
    }
    QVERIFY(seen.count("BLOBS_RECEIVED"));
    QCOMPARE(h.ok("datasets.DatasetApiService/GetDatasetStatus", ref), json({{"status", "READY"}}));
    KD_COMPARE_STR(h.sim->datasetStatus("alice/epoch-1-output"), "READY");
    QCOMPARE(h.ok("datasets.DatasetApiService/GetDataset", ref)["currentVersionNumber"], json(1));
    const std::string token2 = h.uploadFile("train.csv", data + data);
    const json version =
        h.ok("datasets.DatasetApiService/CreateDatasetVersion",
             {{"ownerSlug", "alice"},
              {"datasetSlug", "epoch-1-output"},
              {"body", {{"versionNotes", "epoch 2"}, {"files", {{{"token", token2}}}}}}});
    QCOMPARE(version["status"], json("ok"));
    const json dataset = h.ok("datasets.DatasetApiService/GetDataset", ref);
    QCOMPARE(dataset["currentVersionNumber"], json(2));
    QCOMPARE(dataset["files"][0]["totalBytes"], json(8192));
    QVERIFY(h.sim->datasetStatus("alice/epoch-1-output") != "READY");
    h.sim->advance(5);
    KD_COMPARE_STR(h.sim->datasetStatus("alice/epoch-1-output"), "READY");
    const json byId = h.ok("datasets.DatasetApiService/CreateDatasetVersionById",
                           {{"id", dataset["id"]}, {"body", {{"files", {{{"token", token2}}}}}}});
    QCOMPARE(byId["status"], json("ok"));
    QCOMPARE(h.sim->datasetVersionCount("alice/epoch-1-output"), 3);
    auto missing = h.call("datasets.DatasetApiService/GetDatasetStatus",
                          {{"ownerSlug", "alice"}, {"datasetSlug", "nope-nope"}});
    QCOMPARE(missing->status, 404);
    QCOMPARE(json::parse(missing->body)["code"], json(404));
}

void TestSimulator::quotaGrowsWhileGpuRuns()
{
    Harness h;
    auto quota = [&] {
        return h.ok("kernels.KernelsApiService/GetAcceleratorQuotaStatistics", json::object());
    };
    const json q0 = quota();
    KD_COMPARE_STR(q0["quotaRefreshTime"].get<std::string>(), "2026-06-06T00:00:00.000Z");
    // 3600 s from the scenario plus failing-run's 60 s earlier this week.
    KD_COMPARE_STR(q0["gpuQuota"]["timeUsed"].get<std::string>(), "3660s");
    KD_COMPARE_STR(q0["gpuQuota"]["totalTimeAllowed"].get<std::string>(), "108000s");
    KD_COMPARE_STR(q0["gpuQuota"]["timeReserved"].get<std::string>(), "0s");
    KD_COMPARE_STR(q0["tpuQuota"]["totalTimeAllowed"].get<std::string>(), "72000s");
    KD_COMPARE_STR(q0["tpuQuota"]["timeUsed"].get<std::string>(), "0s");
    QCOMPARE(q0["gpuQuota"]["hasEverRun"], json(true));
    QCOMPARE(q0["tpuQuota"]["hasEverRun"], json(false));
    h.sim->advance(10); // queue ends: queued time is free
    KD_COMPARE_STR(quota()["gpuQuota"]["timeUsed"].get<std::string>(), "3660s");
    h.sim->advance(50.25);
    const json q1 = quota();
    KD_COMPARE_STR(q1["gpuQuota"]["timeUsed"].get<std::string>(), "3710.250s");
    QVERIFY(q1["gpuQuota"]["timeReserved"].get<std::string>() != "0s");
    QCOMPARE(h.sim->gpuSecondsUsed("alice"), 3710.25);
    h.sim->advance(1000); // finished after 100 s of running
    KD_COMPARE_STR(quota()["gpuQuota"]["timeUsed"].get<std::string>(), "3760s");
    // bob has his own quota.
    KD_COMPARE_STR(h.ok("kernels.KernelsApiService/GetAcceleratorQuotaStatistics", json::object(),
                        basicAuth("bob", "bob-key-654321"))["gpuQuota"]["timeUsed"]
                       .get<std::string>(),
                   "3600s");
    // The weekly window rolls over at quotaRefreshTime.
    h.sim->advance(5 * 86400);
    const json q2 = quota();
    KD_COMPARE_STR(q2["quotaRefreshTime"].get<std::string>(), "2026-06-13T00:00:00.000Z");
    KD_COMPARE_STR(q2["gpuQuota"]["timeUsed"].get<std::string>(), "0s");
}

void TestSimulator::faults_data()
{
    QTest::addColumn<QString>("kind");
    QTest::newRow("5xx") << QStringLiteral("5xx");
    QTest::newRow("429") << QStringLiteral("429");
    QTest::newRow("429-no-retry-after") << QStringLiteral("429-no-retry-after");
    QTest::newRow("reset") << QStringLiteral("reset");
    QTest::newRow("malformed") << QStringLiteral("malformed");
    QTest::newRow("stall") << QStringLiteral("stall");
    QTest::newRow("latency") << QStringLiteral("latency");
    QTest::newRow("latency-spike") << QStringLiteral("latency-spike");
    QTest::newRow("truncate") << QStringLiteral("truncate");
}

void TestSimulator::faults()
{
    QFETCH(QString, kind);
    Harness h;
    const std::string blobPath =
        h.pathOf(h.output("titanic-baseline")["files"][1]["url"].get<std::string>());
    Faults f;
    f.retryAfterSeconds = 3;
    f.stallMs = 400;
    if (kind == QStringLiteral("5xx"))
        f.http5xx = 1;
    else if (kind == QStringLiteral("429"))
        f.http429 = 1;
    else if (kind == QStringLiteral("429-no-retry-after"))
        f.http429NoRetryAfter = 1;
    else if (kind == QStringLiteral("reset"))
        f.reset = 1;
    else if (kind == QStringLiteral("malformed"))
        f.malformed = 1;
    else if (kind == QStringLiteral("stall"))
        f.stall = 1;
    else if (kind == QStringLiteral("latency"))
        f.latencyMs = 300;
    else if (kind == QStringLiteral("latency-spike")) {
        f.latencySpikeRate = 1;
        f.latencySpikeMs = 300;
    } else if (kind == QStringLiteral("truncate"))
        f.truncateDownload = 1;
    h.sim->setFaults(f);
    h.sim->clearRequests();

    QElapsedTimer timer;
    timer.start();
    if (kind == QStringLiteral("truncate")) {
        auto res = h.client->Get(blobPath.c_str());
        // Content-Length promises 10000 bytes; the connection closes after half.
        QVERIFY(!res);
        KD_COMPARE_STR(h.sim->requests().back().fault, "truncate");
        auto rpc = h.call("kernels.KernelsApiService/ListKernels", json::object());
        QCOMPARE(rpc->status, 200); // only downloads are cut
        return;
    }
    auto res = h.call("kernels.KernelsApiService/ListKernels", {{"group", "PROFILE"}});
    const qint64 elapsed = timer.elapsed();
    const auto record = h.sim->requests().back();
    if (kind == QStringLiteral("5xx")) {
        QVERIFY(res);
        QVERIFY(res->status == 500 || res->status == 502 || res->status == 503);
        const json body = json::parse(res->body);
        QCOMPARE(body["code"], json(res->status));
        QVERIFY(body["message"].is_string());
        KD_COMPARE_STR(record.fault, "5xx");
    } else if (kind == QStringLiteral("429")) {
        QCOMPARE(res->status, 429);
        KD_COMPARE_STR(res->get_header_value("Retry-After"), "3");
        QCOMPARE(json::parse(res->body), json({{"code", 429}, {"message", "TooManyRequests"}}));
    } else if (kind == QStringLiteral("429-no-retry-after")) {
        QCOMPARE(res->status, 429);
        QVERIFY(!res->has_header("Retry-After"));
        QCOMPARE(json::parse(res->body)["error"], json({{"code", 429},
                                                        {"message", "Too many requests"},
                                                        {"status", "RESOURCE_EXHAUSTED"}}));
    } else if (kind == QStringLiteral("reset")) {
        QVERIFY(!res);
        QCOMPARE(record.status, 0);
        KD_COMPARE_STR(record.fault, "reset");
        // Signed downloads and uploads can be reset too.
        QVERIFY(!h.client->Get(blobPath.c_str()));
    } else if (kind == QStringLiteral("malformed")) {
        QCOMPARE(res->status, 200);
        QVERIFY(json::parse(res->body, nullptr, false).is_discarded());
    } else if (kind == QStringLiteral("stall")) {
        QCOMPARE(res->status, 200);
        QVERIFY2(elapsed >= 390, std::to_string(elapsed).c_str());
        KD_COMPARE_STR(record.fault, "stall");
    } else if (kind == QStringLiteral("latency")) {
        QCOMPARE(res->status, 200);
        QVERIFY(elapsed >= 290);
        QVERIFY(record.fault.empty());
    } else if (kind == QStringLiteral("latency-spike")) {
        QCOMPARE(res->status, 200);
        QVERIFY(elapsed >= 290);
        KD_COMPARE_STR(record.fault, "latency-spike");
    }
    if (kind != QStringLiteral("reset") && kind != QStringLiteral("stall") &&
        kind != QStringLiteral("latency") && kind != QStringLiteral("latency-spike"))
        KD_COMPARE_STR(record.fault, kind.toStdString());
}

void TestSimulator::faultSequenceIsRepeatable()
{
    auto sequence = [](uint64_t seed) {
        Options options;
        options.seed = seed;
        options.faults.http5xx = 0.2;
        options.faults.http429 = 0.2;
        options.faults.malformed = 0.2;
        Harness h(basicScenario(), options);
        std::vector<std::string> seen;
        for (int i = 0; i < 40; ++i) {
            auto res = h.call("kernels.KernelsApiService/GetKernelSessionStatus",
                              {{"userName", "alice"}, {"kernelSlug", "bert-imdb"}});
            seen.push_back(std::to_string(res ? res->status : -1) + ":" +
                           h.sim->requests().back().fault);
        }
        return seen;
    };
    const auto a = sequence(42);
    QVERIFY(a == sequence(42));
    QVERIFY(a != sequence(43));
    const auto faulted = std::count_if(
        a.begin(), a.end(), [](const std::string &s) { return s.find(':') + 1 != s.size(); });
    QVERIFY(faulted > 5 && faulted < 35);
}

void TestSimulator::faultsOnlyOnSelectedPaths()
{
    Harness h;
    Faults f;
    f.http5xx = 1;
    f.onlyPaths = {"/blob/"};
    h.sim->setFaults(f);
    QCOMPARE(h.call("kernels.KernelsApiService/ListKernels", json::object())->status, 200);
    const std::string blobPath =
        h.pathOf(h.output("titanic-baseline")["files"][0]["url"].get<std::string>());
    QVERIFY(h.client->Get(blobPath.c_str())->status >= 500);
}

void TestSimulator::gzipResponses()
{
    Harness h;
    h.client->set_decompress(false);
    auto res = h.client->Post(
        "/api/v1/kernels.KernelsApiService/ListKernels",
        [] {
            auto headers = basicAuth();
            headers.emplace("Accept-Encoding", "gzip, deflate");
            return headers;
        }(),
        R"({"group":"PROFILE"})", "application/json");
    QVERIFY(res);
    QCOMPARE(res->status, 200);
    KD_COMPARE_STR(res->get_header_value("Content-Encoding"), "gzip");
    QVERIFY(json::parse(res->body, nullptr, false).is_discarded()); // compressed bytes
}

void TestSimulator::stopWithOpenStreamIsPrompt()
{
    Harness h;
    h.sim->advance(40);
    Faults f;
    f.stall = 1;
    f.stallMs = 60000;
    f.onlyPaths = {"GetKernel"};
    StreamReader reader(h.sim->port(), "/api/v1/kernels/logs/stream/alice/bert-imdb");
    QTRY_VERIFY(!reader.events().empty());
    // A second client parked in a 60 s stall and a third idle on keep-alive.
    h.sim->setFaults(f);
    std::thread stalled([port = h.sim->port()] {
        httplib::Client c("127.0.0.1", port);
        c.Post("/api/v1/kernels.KernelsApiService/GetKernel", basicAuth(), "{}",
               "application/json");
    });
    httplib::Client keepAlive("127.0.0.1", h.sim->port());
    keepAlive.set_keep_alive(true);
    QVERIFY(keepAlive.Get("/nothing"));
    QTest::qWait(200);
    QElapsedTimer timer;
    timer.start();
    h.sim->stop();
    const qint64 elapsed = timer.elapsed();
    QVERIFY2(elapsed < 1500, std::to_string(elapsed).c_str());
    QVERIFY(!h.sim->isRunning());
    QTRY_VERIFY_WITH_TIMEOUT(reader.finished(), 3000);
    QVERIFY(reader.text().find("END_OF_LOG") == std::string::npos);
    stalled.join();
    // The clock keeps its value across a stop, and the server can start again.
    QCOMPARE(h.sim->now(), 40.0);
    QVERIFY(h.sim->start("127.0.0.1", 0));
    httplib::Client again("127.0.0.1", h.sim->port());
    QCOMPARE(again
                 .Post("/api/v1/kernels.KernelsApiService/ListKernels", basicAuth(), "{}",
                       "application/json")
                 ->status,
             200);
    // Stopping straight after starting must not hang either.
    for (int i = 0; i < 20; ++i) {
        Simulator quick;
        QVERIFY(quick.start("127.0.0.1", 0));
        quick.stop();
    }
}

QTEST_GUILESS_MAIN(TestSimulator)

#include "tst_simulator.moc"
