#include "curlhttpclient.h"
#include "loopbackserver.h"

#include <QFile>
#include <QFileInfo>
#include <QPointer>
#include <QProcess>
#include <QRandomGenerator>
#include <QScopeGuard>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

using namespace kd::net;
using kd::test::LoopbackServer;
using namespace std::chrono_literals;
using namespace Qt::StringLiterals;

namespace {

/// Everything the callbacks of one request reported.
struct Tracker
{
    int headerCalls = 0;
    int headerStatus = 0;
    HttpHeaders headers;
    QList<QByteArray> chunks;
    int progressCalls = 0;
    qint64 lastDone = -1;
    qint64 lastTotal = -2;
    int finishedCalls = 0;
    HttpResponse response;
};

HttpCallbacks track(const std::shared_ptr<Tracker> &t)
{
    HttpCallbacks cb;
    cb.onHeaders = [t](int status, const HttpHeaders &headers) {
        ++t->headerCalls;
        t->headerStatus = status;
        t->headers = headers;
    };
    cb.onData = [t](const QByteArray &chunk) { t->chunks.append(chunk); };
    cb.onProgress = [t](qint64 done, qint64 total) {
        ++t->progressCalls;
        t->lastDone = done;
        t->lastTotal = total;
    };
    cb.onFinished = [t](const HttpResponse &response) {
        ++t->finishedCalls;
        t->response = response;
    };
    return cb;
}

HttpRequest get(const QUrl &url)
{
    HttpRequest r;
    r.url = url;
    return r;
}

QByteArray toBytes(const std::string &s)
{
    return QByteArray::fromStdString(s);
}

/// Deterministic content for big bodies, checkable at any offset.
char patternByte(size_t offset)
{
    return char('a' + offset % 23);
}

constexpr int kWaitMs = 30'000;

} // namespace

class TestCurlHttpClient : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void loopbackHosts_data();
    void loopbackHosts();
    void getWithBody();
    void statusCodesPassThrough_data();
    void statusCodesPassThrough();
    void postJson();
    void interimResponseIgnored();
    void totalTimeout();
    void connectionRefused();
    void stallGuard();
    void largeDownloadStreamsToFile();
    void errorBodyNotWrittenToFile();
    void streamingDeliversChunks();
    void resumablePutOfFileRegions();
    void putInMemoryBody_data();
    void putInMemoryBody();
    void uploadFileMissing();
    void gzipDecoded();
    void cancelInFlight();
    void cancelQueuedAndRefused();
    void cancelFromOwnData();
    void perHostCap();
    void queuedRequestsStartInOrder();
    void queuedTimeNotCountedAsTimeout();
    void connectionReuse();
    void insecureHttpRefused();
    void proxyFromEnvironment();
    void diskFull();
    void tooLarge();
    void reentrantSendFromFinished();
    void cancelOtherFromFinished();
    void destroyWithRequestsInFlight();
    void destroyFromFinished();
    void tlsHandshakeFailure();
    void tlsUntrustedCertificate();

private:
    CurlHttpClient::Options options(int maxPerHost = 6) const
    {
        CurlHttpClient::Options o;
        o.maxPerHost = maxPerHost;
        o.userAgent = QByteArrayLiteral("KaggleDeck-test/1.0");
        return o;
    }
};

void TestCurlHttpClient::initTestCase()
{
    // Loopback tests must not be routed through whatever proxy the machine uses.
    for (const char *name : {"http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY",
                             "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"})
        qunsetenv(name);
}

void TestCurlHttpClient::loopbackHosts_data()
{
    QTest::addColumn<QString>("host");
    QTest::addColumn<bool>("loopback");
    QTest::newRow("localhost") << QStringLiteral("localhost") << true;
    QTest::newRow("LOCALHOST") << QStringLiteral("LOCALHOST") << true;
    QTest::newRow("127.0.0.1") << QStringLiteral("127.0.0.1") << true;
    QTest::newRow("127.200.3.4") << QStringLiteral("127.200.3.4") << true;
    QTest::newRow("::1") << QStringLiteral("::1") << true;
    QTest::newRow("128.0.0.1") << QStringLiteral("128.0.0.1") << false;
    QTest::newRow("127.0.0.256") << QStringLiteral("127.0.0.256") << false;
    QTest::newRow("127.0.0.1.evil.com") << QStringLiteral("127.0.0.1.evil.com") << false;
    QTest::newRow("localhost.evil.com") << QStringLiteral("localhost.evil.com") << false;
    QTest::newRow("example.com") << QStringLiteral("example.com") << false;
    QTest::newRow("10.0.0.1") << QStringLiteral("10.0.0.1") << false;
    QTest::newRow("empty") << QString() << false;
}

void TestCurlHttpClient::loopbackHosts()
{
    QFETCH(QString, host);
    QFETCH(bool, loopback);
    QCOMPARE(CurlHttpClient::isLoopbackHost(host), loopback);
}

void TestCurlHttpClient::getWithBody()
{
    LoopbackServer srv;
    std::mutex mutex;
    std::string userAgent;
    srv.server().Get("/hello", [&](const httplib::Request &req, httplib::Response &res) {
        {
            std::lock_guard lock(mutex);
            userAgent = req.get_header_value("User-Agent");
        }
        res.set_header("X-Custom", "yes");
        res.set_content("hello world", "text/plain");
    });
    QVERIFY(srv.start());

    CurlHttpClient client(options());
    auto t = std::make_shared<Tracker>();
    client.send(get(srv.url(u"/hello")), track(t));
    QCOMPARE(client.pendingCount(), 1);
    QTRY_COMPARE_WITH_TIMEOUT(t->finishedCalls, 1, kWaitMs);

    QVERIFY(t->response.ok());
    QCOMPARE(t->response.status, 200);
    QCOMPARE(t->response.body, QByteArrayLiteral("hello world"));
    QCOMPARE(t->response.header("x-custom"), QByteArrayLiteral("yes"));
    QCOMPARE(t->headerCalls, 1);
    QCOMPARE(t->headerStatus, 200);
    QCOMPARE(headerValue(t->headers, "X-CUSTOM"), QByteArrayLiteral("yes"));
    QCOMPARE(client.pendingCount(), 0);
    std::lock_guard lock(mutex);
    QCOMPARE(toBytes(userAgent), QByteArrayLiteral("KaggleDeck-test/1.0"));
}

void TestCurlHttpClient::statusCodesPassThrough_data()
{
    QTest::addColumn<int>("status");
    QTest::newRow("204") << 204;
    QTest::newRow("302") << 302;
    QTest::newRow("308") << 308;
    QTest::newRow("404") << 404;
    QTest::newRow("500") << 500;
}

void TestCurlHttpClient::statusCodesPassThrough()
{
    QFETCH(int, status);
    LoopbackServer srv;
    std::atomic<int> targetHits = 0;
    srv.server().Get(R"(/status/(\d+))", [](const httplib::Request &req, httplib::Response &res) {
        res.status = std::stoi(req.matches[1].str());
        if (res.status >= 300 && res.status < 400)
            res.set_header("Location", "/target");
        if (res.status != 204)
            res.set_content("status " + req.matches[1].str(), "text/plain");
    });
    srv.server().Get("/target", [&](const httplib::Request &, httplib::Response &res) {
        ++targetHits;
        res.set_content("redirected", "text/plain");
    });
    QVERIFY(srv.start());

    CurlHttpClient client(options());
    auto t = std::make_shared<Tracker>();
    client.send(get(srv.url(u"/status/" + QString::number(status))), track(t));
    QTRY_COMPARE_WITH_TIMEOUT(t->finishedCalls, 1, kWaitMs);

    QCOMPARE(t->response.error, NetError::None);
    QCOMPARE(t->response.status, status);
    QCOMPARE(t->headerStatus, status);
    QCOMPARE(t->response.ok(), status < 300);
    if (status == 204)
        QVERIFY(t->response.body.isEmpty());
    else
        QCOMPARE(t->response.body, "status " + QByteArray::number(status));
    if (status >= 300 && status < 400) {
        QCOMPARE(t->response.header("Location"), QByteArrayLiteral("/target"));
        QCOMPARE(targetHits.load(), 0); // redirects are the caller's business
    }
}

void TestCurlHttpClient::postJson()
{
    LoopbackServer srv;
    std::mutex mutex;
    std::string contentType, body;
    bool sawExpect = true;
    srv.server().Post("/echo", [&](const httplib::Request &req, httplib::Response &res) {
        std::lock_guard lock(mutex);
        contentType = req.get_header_value("Content-Type");
        body = req.body;
        sawExpect = req.has_header("Expect");
        res.set_content(req.body, "application/json");
    });
    QVERIFY(srv.start());

    CurlHttpClient client(options());
    HttpRequest r;
    r.method = HttpRequest::Method::Post;
    r.url = srv.url(u"/echo");
    r.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer s3cret"}};
    r.body = QByteArrayLiteral(R"({"kernel":"me/nb","n":1})");
    auto t = std::make_shared<Tracker>();
    client.send(r, track(t));
    QTRY_COMPARE_WITH_TIMEOUT(t->finishedCalls, 1, kWaitMs);

    QVERIFY(t->response.ok());
    QCOMPARE(t->response.body, r.body);
    std::lock_guard lock(mutex);
    QCOMPARE(toBytes(contentType), QByteArrayLiteral("application/json"));
    QCOMPARE(toBytes(body), r.body);
    QVERIFY(!sawExpect);
}

void TestCurlHttpClient::interimResponseIgnored()
{
    LoopbackServer srv;
    srv.server().Put("/put", [](const httplib::Request &req, httplib::Response &res) {
        res.set_content("got " + std::to_string(req.body.size()), "text/plain");
    });
    QVERIFY(srv.start());

    CurlHttpClient client(options());
    HttpRequest r;
    r.method = HttpRequest::Method::Put;
    r.url = srv.url(u"/put");
    r.headers = {{"Expect", "100-continue"}}; // the server answers 100 before the real status
    r.body = QByteArrayLiteral("abc");
    auto t = std::make_shared<Tracker>();
    client.send(r, track(t));
    QTRY_COMPARE_WITH_TIMEOUT(t->finishedCalls, 1, kWaitMs);

    QVERIFY(t->response.ok());
    QCOMPARE(t->headerCalls, 1);
    QCOMPARE(t->headerStatus, 200);
    QCOMPARE(t->response.body, QByteArrayLiteral("got 3"));
}

void TestCurlHttpClient::totalTimeout()
{
    LoopbackServer srv;
    srv.server().Get("/sleep", [&](const httplib::Request &, httplib::Response &res) {
        srv.idle(20s);
        res.set_content("late", "text/plain");
    });
    QVERIFY(srv.start());

    CurlHttpClient client(options());
    HttpRequest r = get(srv.url(u"/sleep"));
    r.totalTimeoutMs = 300;
    auto t = std::make_shared<Tracker>();
    client.send(r, track(t));
    QTRY_COMPARE_WITH_TIMEOUT(t->finishedCalls, 1, kWaitMs);

    QCOMPARE(t->response.error, NetError::Timeout);
    QCOMPARE(t->response.status, 0);
    QVERIFY(!t->response.errorText.isEmpty());
    QCOMPARE(t->headerCalls, 0);
}

void TestCurlHttpClient::connectionRefused()
{
    int closedPort = 0;
    {
        LoopbackServer srv;
        QVERIFY(srv.start());
        closedPort = srv.port();
    }
    CurlHttpClient client(options());
    HttpRequest r = get(QUrl(u"http://127.0.0.1:" + QString::number(closedPort) + u"/x"));
    r.headers = {{"Authorization", "Bearer top-secret-token"}};
    auto t = std::make_shared<Tracker>();
    client.send(r, track(t));
    QTRY_COMPARE_WITH_TIMEOUT(t->finishedCalls, 1, kWaitMs);

    QCOMPARE(t->response.error, NetError::ConnectFailed);
    QCOMPARE(t->response.status, 0);
    QVERIFY(!t->response.errorText.isEmpty());
    QVERIFY(!t->response.errorText.contains(u"top-secret-token"));
}

void TestCurlHttpClient::stallGuard()
{
    LoopbackServer srv;
    srv.server().Get("/stall", [&](const httplib::Request &, httplib::Response &res) {
        res.set_content_provider(1'000'000, "application/octet-stream",
                                 [&](size_t offset, size_t, httplib::DataSink &sink) {
                                     if (offset == 0) {
                                         const std::string head(1000, 'x');
                                         return sink.write(head.data(), head.size());
                                     }
                                     srv.idle(60s); // stalls mid-body
                                     return false;
                                 });
    });
    QVERIFY(srv.start());

    CurlHttpClient client(options());
    HttpRequest r = get(srv.url(u"/stall"));
    r.totalTimeoutMs = 0;
    r.stallTimeoutMs = 1000;
    auto t = std::make_shared<Tracker>();
    client.send(r, track(t));
    QTRY_COMPARE_WITH_TIMEOUT(t->finishedCalls, 1, kWaitMs);

    QCOMPARE(t->response.error, NetError::Timeout);
    QCOMPARE(t->response.status, 200);
    QCOMPARE(t->response.bytesReceived, 1000);
    QVERIFY(!t->response.ok());
}

void TestCurlHttpClient::largeDownloadStreamsToFile()
{
    constexpr size_t kSize = 50 * 1024 * 1024;
    LoopbackServer srv;
    srv.server().Get("/big", [](const httplib::Request &, httplib::Response &res) {
        res.set_content_provider(kSize, "application/octet-stream",
                                 [](size_t offset, size_t length, httplib::DataSink &sink) {
                                     std::string chunk(std::min<size_t>(length, 256 * 1024), '\0');
                                     for (size_t i = 0; i < chunk.size(); ++i)
                                         chunk[i] = patternByte(offset + i);
                                     return sink.write(chunk.data(), chunk.size());
                                 });
    });
    QVERIFY(srv.start());

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("big.bin"));
    CurlHttpClient client(options());
    HttpRequest r = get(srv.url(u"/big"));
    r.downloadFile = path;
    r.totalTimeoutMs = 0;
    r.maxBodyBytes = 1024; // the cap is for memory bodies only
    auto t = std::make_shared<Tracker>();
    client.send(r, track(t));
    QTRY_COMPARE_WITH_TIMEOUT(t->finishedCalls, 1, 120'000);

    QVERIFY2(t->response.ok(), qPrintable(t->response.errorText));
    QVERIFY(t->response.body.isEmpty());
    QCOMPARE(t->response.bytesReceived, qint64(kSize));
    QCOMPARE(QFileInfo(path).size(), qint64(kSize));
    QVERIFY(t->progressCalls > 0);
    QCOMPARE(t->lastDone, qint64(kSize));
    QCOMPARE(t->lastTotal, qint64(kSize));

    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    for (const qint64 at : {qint64(0), qint64(12'345'677), qint64(kSize - 1)}) {
        QVERIFY(file.seek(at));
        char c = 0;
        QVERIFY(file.getChar(&c));
        QCOMPARE(c, patternByte(size_t(at)));
    }
}

void TestCurlHttpClient::errorBodyNotWrittenToFile()
{
    LoopbackServer srv;
    srv.server().Get("/gone", [](const httplib::Request &, httplib::Response &res) {
        res.status = 404;
        res.set_content("no such file", "text/plain");
    });
    QVERIFY(srv.start());

    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("out.bin"));
    CurlHttpClient client(options());
    HttpRequest r = get(srv.url(u"/gone"));
    r.downloadFile = path;
    auto t = std::make_shared<Tracker>();
    client.send(r, track(t));
    QTRY_COMPARE_WITH_TIMEOUT(t->finishedCalls, 1, kWaitMs);

    QCOMPARE(t->response.status, 404);
    QCOMPARE(t->response.error, NetError::None);
    QCOMPARE(t->response.body, QByteArrayLiteral("no such file"));
    QVERIFY(!QFile::exists(path));
}

void TestCurlHttpClient::streamingDeliversChunks()
{
    // The server sends event n only once the client has seen event n-1, so a client that
    // buffered the body until the end would time out instead of passing by luck.
    std::atomic<int> seen = 0;
    LoopbackServer srv;
    srv.server().Get("/events", [&](const httplib::Request &, httplib::Response &res) {
        res.set_chunked_content_provider(
            "text/event-stream", [&, n = 0](size_t, httplib::DataSink &sink) mutable {
                for (int waited = 0; seen.load() < n && waited < 2000; ++waited) {
                    if (!srv.idle(5ms))
                        return false;
                }
                if (n == 5) {
                    sink.done();
                    return true;
                }
                const std::string event = "data: " + std::to_string(n++) + "\n\n";
                return sink.write(event.data(), event.size());
            });
    });
    QVERIFY(srv.start());

    CurlHttpClient client(options());
    HttpRequest r = get(srv.url(u"/events"));
    r.streaming = true;
    r.totalTimeoutMs = 0;
    auto t = std::make_shared<Tracker>();
    int chunksAtFinish = -1;
    HttpCallbacks cb = track(t);
    cb.onData = [t, &seen](const QByteArray &chunk) {
        t->chunks.append(chunk);
        seen = int(t->chunks.join().count("\n\n"));
    };
    cb.onFinished = [t, &chunksAtFinish](const HttpResponse &response) {
        chunksAtFinish = int(t->chunks.size());
        ++t->finishedCalls;
        t->response = response;
    };
    client.send(r, cb);
    QTRY_COMPARE_WITH_TIMEOUT(t->finishedCalls, 1, kWaitMs);

    QVERIFY2(t->response.ok(), qPrintable(t->response.errorText));
    QVERIFY2(t->chunks.size() >= 5, "each event must reach onData before the next is sent");
    QCOMPARE(chunksAtFinish, int(t->chunks.size()));
    QCOMPARE(t->chunks.join(), QByteArrayLiteral("data: 0\n\ndata: 1\n\ndata: 2\n\n"
                                                 "data: 3\n\ndata: 4\n\n"));
    QVERIFY(t->response.body.isEmpty());
    QCOMPARE(t->headerCalls, 1);
}

void TestCurlHttpClient::resumablePutOfFileRegions()
{
    LoopbackServer srv;
    std::mutex mutex;
    std::string received;
    qint64 expectedTotal = -1;
    bool sawExpect = false;
    srv.server().Put("/upload", [&](const httplib::Request &req, httplib::Response &res) {
        // Content-Range: bytes <first>-<last>/<total>
        const std::string range = req.get_header_value("Content-Range");
        long long first = 0, last = 0, total = 0;
        if (std::sscanf(range.c_str(), "bytes %lld-%lld/%lld", &first, &last, &total) != 3 ||
            last - first + 1 != static_cast<long long>(req.body.size())) {
            res.status = 400;
            return;
        }
        std::lock_guard lock(mutex);
        sawExpect = sawExpect || req.has_header("Expect"); // would cost a round trip per part
        if (received.size() != size_t(first)) {
            res.status = 409;
            return;
        }
        received += req.body;
        expectedTotal = total;
        if (received.size() < size_t(total)) {
            res.status = 308;
            res.set_header("Range", "bytes=0-" + std::to_string(received.size() - 1));
        } else {
            res.status = 200;
            res.set_content("{\"done\":true}", "application/json");
        }
    });
    QVERIFY(srv.start());

    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("payload.bin"));
    QByteArray content(3 * 1024 * 1024 + 123, Qt::Uninitialized);
    QRandomGenerator rng(42);
    for (char &c : content)
        c = char(rng.bounded(256));
    {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        QCOMPARE(f.write(content), qint64(content.size()));
    }

    CurlHttpClient client(options());
    const qint64 size = content.size();
    const qint64 half = size / 2;
    const auto putRegion = [&](qint64 offset, qint64 length) {
        HttpRequest r;
        r.method = HttpRequest::Method::Put;
        r.url = srv.url(u"/upload");
        r.uploadFile = path;
        r.uploadOffset = offset;
        r.uploadLength = length;
        const qint64 last = offset + (length < 0 ? size - offset : length) - 1;
        r.headers = {{"Content-Range", "bytes " + QByteArray::number(offset) + '-' +
                                           QByteArray::number(last) + '/' +
                                           QByteArray::number(size)}};
        auto t = std::make_shared<Tracker>();
        client.send(r, track(t));
        return t;
    };

    auto first = putRegion(0, half);
    QTRY_COMPARE_WITH_TIMEOUT(first->finishedCalls, 1, kWaitMs);
    QCOMPARE(first->response.error, NetError::None);
    QCOMPARE(first->response.status, 308);
    QCOMPARE(first->response.header("range"), "bytes=0-" + QByteArray::number(half - 1));
    QCOMPARE(first->lastDone, half);
    QCOMPARE(first->lastTotal, half);

    auto second = putRegion(half, -1); // "to the end"
    QTRY_COMPARE_WITH_TIMEOUT(second->finishedCalls, 1, kWaitMs);
    QVERIFY2(second->response.ok(), qPrintable(second->response.errorText));
    QCOMPARE(second->response.status, 200);

    std::lock_guard lock(mutex);
    QCOMPARE(expectedTotal, size);
    QVERIFY(!sawExpect);
    QCOMPARE(received.size(), size_t(size));
    QVERIFY(toBytes(received) == content);
}

void TestCurlHttpClient::putInMemoryBody_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("small") << QByteArrayLiteral("{\"a\":1}");
}

void TestCurlHttpClient::putInMemoryBody()
{
    QFETCH(QByteArray, body);
    LoopbackServer srv;
    std::mutex mutex;
    std::string contentLength, received;
    srv.server().Put("/put", [&](const httplib::Request &req, httplib::Response &res) {
        std::lock_guard lock(mutex);
        contentLength = req.get_header_value("Content-Length");
        received = req.body;
        res.status = 200;
    });
    QVERIFY(srv.start());

    CurlHttpClient client(options());
    HttpRequest r;
    r.method = HttpRequest::Method::Put;
    r.url = srv.url(u"/put");
    r.body = body;
    auto t = std::make_shared<Tracker>();
    client.send(r, track(t));
    QTRY_COMPARE_WITH_TIMEOUT(t->finishedCalls, 1, kWaitMs);

    QVERIFY2(t->response.ok(), qPrintable(t->response.errorText));
    std::lock_guard lock(mutex);
    QCOMPARE(toBytes(contentLength), QByteArray::number(body.size()));
    QCOMPARE(toBytes(received), body);
}

void TestCurlHttpClient::uploadFileMissing()
{
    LoopbackServer srv;
    std::atomic<int> hits = 0;
    srv.server().Put("/put", [&](const httplib::Request &, httplib::Response &) { ++hits; });
    QVERIFY(srv.start());

    CurlHttpClient client(options());
    HttpRequest r;
    r.method = HttpRequest::Method::Put;
    r.url = srv.url(u"/put");
    r.uploadFile = QStringLiteral("/nonexistent/kaggledeck/upload.bin");
    auto t = std::make_shared<Tracker>();
    client.send(r, track(t));
    QCOMPARE(t->finishedCalls, 0); // never re-entrantly from send()
    QTRY_COMPARE_WITH_TIMEOUT(t->finishedCalls, 1, kWaitMs);

    QCOMPARE(t->response.error, NetError::FileError);
    QVERIFY(t->response.errorText.contains(u"upload.bin"));
    QCOMPARE(hits.load(), 0);
    QCOMPARE(client.pendingCount(), 0);
}

void TestCurlHttpClient::gzipDecoded()
{
    const std::string text = [] {
        std::string s;
        for (int i = 0; i < 2000; ++i)
            s += "line " + std::to_string(i) + " of a compressible kernel log\n";
        return s;
    }();
    LoopbackServer srv;
    std::mutex mutex;
    std::string acceptEncoding;
    size_t compressedSize = 0;
    srv.server().Get("/log", [&](const httplib::Request &req, httplib::Response &res) {
        std::string gz;
        httplib::detail::gzip_compressor compressor;
        compressor.compress(text.data(), text.size(), true, [&](const char *data, size_t n) {
            gz.append(data, n);
            return true;
        });
        std::lock_guard lock(mutex);
        acceptEncoding = req.get_header_value("Accept-Encoding");
        compressedSize = gz.size();
        res.set_header("Content-Encoding", "gzip");
        // octet-stream: httplib would otherwise compress the body a second time.
        res.set_content(gz, "application/octet-stream");
    });
    QVERIFY(srv.start());

    CurlHttpClient client(options());
    auto t = std::make_shared<Tracker>();
    client.send(get(srv.url(u"/log")), track(t));
    QTRY_COMPARE_WITH_TIMEOUT(t->finishedCalls, 1, kWaitMs);

    QVERIFY2(t->response.ok(), qPrintable(t->response.errorText));
    QCOMPARE(t->response.header("Content-Encoding"), QByteArrayLiteral("gzip"));
    QCOMPARE(t->response.body, toBytes(text));
    std::lock_guard lock(mutex);
    QVERIFY(compressedSize < text.size() / 4);
    QVERIFY(toBytes(acceptEncoding).contains("gzip"));
}

void TestCurlHttpClient::cancelInFlight()
{
    LoopbackServer srv;
    std::atomic<bool> entered = false;
    srv.server().Get("/sleep", [&](const httplib::Request &, httplib::Response &res) {
        entered = true;
        srv.idle(20s);
        res.set_content("late", "text/plain");
    });
    QVERIFY(srv.start());

    CurlHttpClient client(options());
    auto t = std::make_shared<Tracker>();
    const RequestId id = client.send(get(srv.url(u"/sleep")), track(t));
    QTRY_VERIFY_WITH_TIMEOUT(entered.load(), kWaitMs);
    client.cancel(id);
    QCOMPARE(client.pendingCount(), 0);
    client.cancel(id); // unknown ids are ignored
    client.cancel(9999);

    // The request must stay dead; a further request shows the client still works.
    auto after = std::make_shared<Tracker>();
    HttpRequest r = get(srv.url(u"/sleep"));
    r.totalTimeoutMs = 200;
    client.send(r, track(after));
    QTRY_COMPARE_WITH_TIMEOUT(after->finishedCalls, 1, kWaitMs);
    QCOMPARE(t->finishedCalls, 0);
    QCOMPARE(t->headerCalls, 0);
}

void TestCurlHttpClient::cancelQueuedAndRefused()
{
    LoopbackServer srv;
    std::atomic<int> hits = 0;
    srv.server().Get("/sleep", [&](const httplib::Request &, httplib::Response &res) {
        ++hits;
        srv.idle(20s);
        res.set_content("late", "text/plain");
    });
    QVERIFY(srv.start());

    CurlHttpClient client(options(1));
    auto running = std::make_shared<Tracker>();
    auto queued = std::make_shared<Tracker>();
    auto refused = std::make_shared<Tracker>();
    const RequestId runningId = client.send(get(srv.url(u"/sleep")), track(running));
    const RequestId queuedId = client.send(get(srv.url(u"/sleep")), track(queued));
    const RequestId refusedId = client.send(get(QUrl(u"http://example.com/"_s)), track(refused));
    QCOMPARE(client.pendingCount(), 3);
    client.cancel(queuedId);
    client.cancel(refusedId);
    QCOMPARE(client.pendingCount(), 1);
    QTRY_COMPARE_WITH_TIMEOUT(hits.load(), 1, kWaitMs);
    client.cancel(runningId);
    QCOMPARE(client.pendingCount(), 0);

    // A sentinel through the same host proves the queue moved on without the cancelled one.
    auto sentinel = std::make_shared<Tracker>();
    HttpRequest r = get(srv.url(u"/sleep"));
    r.totalTimeoutMs = 200;
    client.send(r, track(sentinel));
    QTRY_COMPARE_WITH_TIMEOUT(sentinel->finishedCalls, 1, kWaitMs);
    QCOMPARE(running->finishedCalls + queued->finishedCalls + refused->finishedCalls, 0);
    QCOMPARE(hits.load(), 2);
}

void TestCurlHttpClient::cancelFromOwnData()
{
    // A log viewer closing its stream: cancel() from inside the request's own onData.
    LoopbackServer srv;
    srv.server().Get("/events", [&](const httplib::Request &, httplib::Response &res) {
        res.set_chunked_content_provider("text/event-stream", [&](size_t, httplib::DataSink &sink) {
            const std::string event = "data: tick\n\n";
            return sink.write(event.data(), event.size()) && srv.idle(20ms);
        });
    });
    QVERIFY(srv.start());

    CurlHttpClient client(options());
    HttpRequest r = get(srv.url(u"/events"));
    r.streaming = true;
    r.totalTimeoutMs = 0;
    auto t = std::make_shared<Tracker>();
    HttpCallbacks cb = track(t);
    RequestId id = 0;
    cb.onData = [&, t](const QByteArray &chunk) {
        t->chunks.append(chunk);
        client.cancel(id);
    };
    id = client.send(r, cb);
    QTRY_COMPARE_WITH_TIMEOUT(t->chunks.size(), 1, kWaitMs);
    QCOMPARE(client.pendingCount(), 0);

    auto sentinel = std::make_shared<Tracker>();
    HttpRequest probe = get(srv.url(u"/events"));
    probe.totalTimeoutMs = 200;
    client.send(probe, track(sentinel));
    QTRY_COMPARE_WITH_TIMEOUT(sentinel->finishedCalls, 1, kWaitMs);
    QCOMPARE(t->chunks.size(), 1);
    QCOMPARE(t->finishedCalls, 0);
}

void TestCurlHttpClient::perHostCap()
{
    LoopbackServer srv;
    constexpr int kRequests = 10;
    std::atomic<int> started = 0;
    std::atomic<int> current = 0;
    std::atomic<int> maxSeen = 0;
    srv.server().Get("/slow", [&](const httplib::Request &, httplib::Response &res) {
        ++started;
        const int now = ++current;
        int seen = maxSeen.load();
        while (now > seen && !maxSeen.compare_exchange_weak(seen, now)) {
        }
        // Hold each request until a partner is in flight, then linger so that a third,
        // were the cap broken, would be seen too.
        for (int i = 0; i < 1000 && current < 2 && started < kRequests; ++i)
            srv.idle(5ms);
        srv.idle(50ms);
        --current;
        res.set_content("ok", "text/plain");
    });
    QVERIFY(srv.start());

    CurlHttpClient client(options(2));
    std::vector<std::shared_ptr<Tracker>> trackers;
    for (int i = 0; i < kRequests; ++i) {
        trackers.push_back(std::make_shared<Tracker>());
        client.send(get(srv.url(u"/slow")), track(trackers.back()));
    }
    QCOMPARE(client.pendingCount(), kRequests);
    QTRY_VERIFY_WITH_TIMEOUT(std::all_of(trackers.begin(), trackers.end(),
                                         [](const auto &t) { return t->finishedCalls == 1; }),
                             kWaitMs);
    for (const auto &t : trackers)
        QVERIFY(t->response.ok());
    QCOMPARE(maxSeen.load(), 2);
    QCOMPARE(client.pendingCount(), 0);
}

void TestCurlHttpClient::queuedRequestsStartInOrder()
{
    LoopbackServer srv;
    std::mutex mutex;
    std::vector<std::string> order;
    srv.server().Get(R"(/n/(\d+))", [&](const httplib::Request &req, httplib::Response &res) {
        {
            std::lock_guard lock(mutex);
            order.push_back(req.matches[1].str());
        }
        srv.idle(20ms);
        res.set_content("ok", "text/plain");
    });
    QVERIFY(srv.start());

    CurlHttpClient client(options(1));
    int finished = 0;
    for (int i = 0; i < 6; ++i) {
        HttpCallbacks cb;
        cb.onFinished = [&finished](const HttpResponse &) { ++finished; };
        client.send(get(srv.url(u"/n/" + QString::number(i))), cb);
    }
    QTRY_COMPARE_WITH_TIMEOUT(finished, 6, kWaitMs);
    std::lock_guard lock(mutex);
    QCOMPARE(order, (std::vector<std::string>{"0", "1", "2", "3", "4", "5"}));
}

void TestCurlHttpClient::queuedTimeNotCountedAsTimeout()
{
    // The total timeout covers the transfer, not the wait for a free per-host slot.
    LoopbackServer srv;
    srv.server().Get("/slow", [&](const httplib::Request &, httplib::Response &res) {
        srv.idle(1500ms);
        res.set_content("slow", "text/plain");
    });
    srv.server().Get("/fast", [](const httplib::Request &, httplib::Response &res) {
        res.set_content("fast", "text/plain");
    });
    QVERIFY(srv.start());

    CurlHttpClient client(options(1));
    auto slow = std::make_shared<Tracker>();
    auto fast = std::make_shared<Tracker>();
    client.send(get(srv.url(u"/slow")), track(slow));
    HttpRequest r = get(srv.url(u"/fast"));
    r.totalTimeoutMs = 700;
    client.send(r, track(fast));
    QTRY_COMPARE_WITH_TIMEOUT(fast->finishedCalls, 1, kWaitMs);

    QCOMPARE(slow->finishedCalls, 1);
    QVERIFY2(fast->response.ok(), qPrintable(fast->response.errorText));
    QCOMPARE(fast->response.body, QByteArrayLiteral("fast"));
}

void TestCurlHttpClient::connectionReuse()
{
    LoopbackServer srv;
    srv.server().set_keep_alive_max_count(100);
    std::mutex mutex;
    std::set<int> ports;
    srv.server().Get("/ping", [&](const httplib::Request &req, httplib::Response &res) {
        std::lock_guard lock(mutex);
        ports.insert(req.remote_port);
        res.set_content("pong", "text/plain");
    });
    QVERIFY(srv.start());

    CurlHttpClient client(options());
    for (int i = 0; i < 10; ++i) {
        auto t = std::make_shared<Tracker>();
        client.send(get(srv.url(u"/ping")), track(t));
        QTRY_COMPARE_WITH_TIMEOUT(t->finishedCalls, 1, kWaitMs);
        QVERIFY(t->response.ok());
    }
    std::lock_guard lock(mutex);
    QVERIFY2(ports.size() <= 2, qPrintable(QString::number(ports.size())));
}

void TestCurlHttpClient::insecureHttpRefused()
{
    // Were the request to touch the network, it would go to this proxy.
    LoopbackServer proxy;
    std::atomic<int> proxied = 0;
    proxy.server().Get(".*", [&](const httplib::Request &, httplib::Response &res) {
        ++proxied;
        res.set_content("proxied", "text/plain");
    });
    QVERIFY(proxy.start());
    qputenv("http_proxy", proxy.url().toEncoded());
    const auto restore = qScopeGuard([] { qunsetenv("http_proxy"); });

    CurlHttpClient client(options());
    auto t = std::make_shared<Tracker>();
    client.send(get(QUrl(u"http://example.com/"_s)), track(t));
    QCOMPARE(t->finishedCalls, 0); // delivered from the event loop, not from inside send()
    QTRY_COMPARE_WITH_TIMEOUT(t->finishedCalls, 1, kWaitMs);

    QCOMPARE(t->response.error, NetError::InsecureRefused);
    QCOMPARE(t->response.status, 0);
    QVERIFY(!t->response.errorText.isEmpty());
    QCOMPARE(proxied.load(), 0);
    QCOMPARE(client.pendingCount(), 0);
}

void TestCurlHttpClient::proxyFromEnvironment()
{
    LoopbackServer proxy;
    std::mutex mutex;
    std::string target;
    proxy.server().Get(".*", [&](const httplib::Request &req, httplib::Response &res) {
        std::lock_guard lock(mutex);
        target = req.target;
        res.set_content("proxied", "text/plain");
    });
    QVERIFY(proxy.start());
    qputenv("http_proxy", proxy.url().toEncoded());
    const auto restore = qScopeGuard([] { qunsetenv("http_proxy"); });

    CurlHttpClient client(options());
    auto t = std::make_shared<Tracker>();
    client.send(get(QUrl(u"http://localhost:9/via-proxy"_s)), track(t));
    QTRY_COMPARE_WITH_TIMEOUT(t->finishedCalls, 1, kWaitMs);

    QVERIFY2(t->response.ok(), qPrintable(t->response.errorText));
    QCOMPARE(t->response.body, QByteArrayLiteral("proxied"));
    std::lock_guard lock(mutex);
    QCOMPARE(toBytes(target), QByteArrayLiteral("http://localhost:9/via-proxy"));
}

void TestCurlHttpClient::diskFull()
{
    if (!QFile::exists(QStringLiteral("/dev/full")))
        QSKIP("no /dev/full on this platform");
    LoopbackServer srv;
    srv.server().Get("/data", [](const httplib::Request &, httplib::Response &res) {
        res.set_content(std::string(200'000, 'z'), "application/octet-stream");
    });
    QVERIFY(srv.start());

    CurlHttpClient client(options());
    HttpRequest r = get(srv.url(u"/data"));
    r.downloadFile = QStringLiteral("/dev/full");
    auto t = std::make_shared<Tracker>();
    client.send(r, track(t));
    QTRY_COMPARE_WITH_TIMEOUT(t->finishedCalls, 1, kWaitMs);

    QCOMPARE(t->response.error, NetError::FileError);
    QVERIFY2(t->response.errorText.contains(u"/dev/full"), qPrintable(t->response.errorText));
    QVERIFY(!t->response.ok());
    QVERIFY(t->response.bytesReceived < 200'000); // aborted, not drained
}

void TestCurlHttpClient::tooLarge()
{
    LoopbackServer srv;
    srv.server().Get("/data", [](const httplib::Request &, httplib::Response &res) {
        res.set_content(std::string(100'000, 'z'), "application/octet-stream");
    });
    QVERIFY(srv.start());

    CurlHttpClient client(options());
    HttpRequest r = get(srv.url(u"/data"));
    r.maxBodyBytes = 1000;
    auto t = std::make_shared<Tracker>();
    client.send(r, track(t));
    QTRY_COMPARE_WITH_TIMEOUT(t->finishedCalls, 1, kWaitMs);

    QCOMPARE(t->response.error, NetError::TooLarge);
    QVERIFY(t->response.body.size() <= 1000);
    QVERIFY(!t->response.errorText.isEmpty());
}

void TestCurlHttpClient::reentrantSendFromFinished()
{
    LoopbackServer srv;
    srv.server().Get(R"(/n/(\d+))", [](const httplib::Request &req, httplib::Response &res) {
        res.set_content("n" + req.matches[1].str(), "text/plain");
    });
    QVERIFY(srv.start());

    CurlHttpClient client(options(1));
    QList<QByteArray> bodies;
    std::function<void(int)> sendNext = [&](int n) {
        HttpCallbacks cb;
        cb.onFinished = [&, n](const HttpResponse &response) {
            bodies.append(response.body);
            if (n < 4)
                sendNext(n + 1); // chain from inside onFinished
        };
        client.send(get(srv.url(u"/n/" + QString::number(n))), cb);
    };
    sendNext(0);
    QTRY_COMPARE_WITH_TIMEOUT(bodies.size(), 5, kWaitMs);
    QCOMPARE(bodies, (QList<QByteArray>{"n0", "n1", "n2", "n3", "n4"}));
    QCOMPARE(client.pendingCount(), 0);
}

void TestCurlHttpClient::cancelOtherFromFinished()
{
    LoopbackServer srv;
    srv.server().Get("/fast", [](const httplib::Request &, httplib::Response &res) {
        res.set_content("fast", "text/plain");
    });
    srv.server().Get("/sleep", [&](const httplib::Request &, httplib::Response &res) {
        srv.idle(20s);
        res.set_content("late", "text/plain");
    });
    QVERIFY(srv.start());

    CurlHttpClient client(options());
    auto slow = std::make_shared<Tracker>();
    const RequestId slowId = client.send(get(srv.url(u"/sleep")), track(slow));
    int fastFinished = 0;
    HttpCallbacks cb;
    cb.onFinished = [&](const HttpResponse &) {
        ++fastFinished;
        client.cancel(slowId);
    };
    client.send(get(srv.url(u"/fast")), cb);
    QTRY_COMPARE_WITH_TIMEOUT(fastFinished, 1, kWaitMs);
    QCOMPARE(client.pendingCount(), 0);

    auto sentinel = std::make_shared<Tracker>();
    client.send(get(srv.url(u"/fast")), track(sentinel));
    QTRY_COMPARE_WITH_TIMEOUT(sentinel->finishedCalls, 1, kWaitMs);
    QCOMPARE(slow->finishedCalls, 0);
}

void TestCurlHttpClient::destroyWithRequestsInFlight()
{
    LoopbackServer srv;
    std::atomic<int> entered = 0;
    srv.server().Get("/sleep", [&](const httplib::Request &, httplib::Response &res) {
        ++entered;
        srv.idle(20s);
        res.set_content("late", "text/plain");
    });
    QVERIFY(srv.start());

    auto client = std::make_unique<CurlHttpClient>(options(2));
    auto calls = std::make_shared<int>(0);
    HttpCallbacks cb;
    cb.onHeaders = [calls](int, const HttpHeaders &) { ++*calls; };
    cb.onFinished = [calls](const HttpResponse &) { ++*calls; };
    for (int i = 0; i < 3; ++i) // the third waits in the per-host queue
        client->send(get(srv.url(u"/sleep")), cb);
    QTRY_COMPARE_WITH_TIMEOUT(entered.load(), 2, kWaitMs);
    client->send(get(QUrl(u"http://example.com/"_s)), cb); // refused, delivery still queued
    QCOMPARE(client->pendingCount(), 4);
    client.reset();

    // Give stray notifiers, timers and queued deliveries a chance to misfire.
    QTest::qWait(200);
    QCOMPARE(*calls, 0);
}

void TestCurlHttpClient::destroyFromFinished()
{
    LoopbackServer srv;
    srv.server().Get("/fast", [](const httplib::Request &, httplib::Response &res) {
        res.set_content("fast", "text/plain");
    });
    srv.server().Get("/sleep", [&](const httplib::Request &, httplib::Response &res) {
        srv.idle(20s);
        res.set_content("late", "text/plain");
    });
    QVERIFY(srv.start());

    auto *client = new CurlHttpClient(options());
    QPointer<CurlHttpClient> watch(client);
    auto slow = std::make_shared<Tracker>();
    client->send(get(srv.url(u"/sleep")), track(slow));
    HttpCallbacks cb;
    cb.onFinished = [client](const HttpResponse &) { delete client; };
    client->send(get(srv.url(u"/fast")), cb);
    QTRY_VERIFY_WITH_TIMEOUT(watch.isNull(), kWaitMs);
    QTest::qWait(100);
    QCOMPARE(slow->finishedCalls, 0);
}

void TestCurlHttpClient::tlsHandshakeFailure()
{
    // A plain HTTP server cannot complete a TLS handshake.
    LoopbackServer srv;
    std::atomic<int> hits = 0;
    srv.server().Get("/x", [&](const httplib::Request &, httplib::Response &) { ++hits; });
    QVERIFY(srv.start());

    CurlHttpClient client(options());
    HttpRequest r = get(QUrl(u"https://127.0.0.1:" + QString::number(srv.port()) + u"/x"));
    r.headers = {{"Authorization", "Bearer top-secret-token"}};
    auto t = std::make_shared<Tracker>();
    client.send(r, track(t));
    QTRY_COMPARE_WITH_TIMEOUT(t->finishedCalls, 1, kWaitMs);

    QCOMPARE(t->response.error, NetError::Tls);
    QVERIFY(!t->response.errorText.contains(u"top-secret-token"));
    QCOMPARE(hits.load(), 0);
}

void TestCurlHttpClient::tlsUntrustedCertificate()
{
    const QString openssl = QStandardPaths::findExecutable(QStringLiteral("openssl"));
    if (openssl.isEmpty())
        QSKIP("openssl is needed to make a self-signed certificate");
    QTemporaryDir dir;
    const QString cert = dir.filePath(QStringLiteral("cert.pem"));
    const QString key = dir.filePath(QStringLiteral("key.pem"));
    QProcess p;
    p.start(openssl, {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"),
                      QStringLiteral("ec"), QStringLiteral("-pkeyopt"),
                      QStringLiteral("ec_paramgen_curve:prime256v1"), QStringLiteral("-nodes"),
                      QStringLiteral("-days"), QStringLiteral("1"), QStringLiteral("-subj"),
                      QStringLiteral("/CN=127.0.0.1"), QStringLiteral("-addext"),
                      QStringLiteral("subjectAltName=IP:127.0.0.1"), QStringLiteral("-keyout"), key,
                      QStringLiteral("-out"), cert});
    QVERIFY(p.waitForFinished(30'000));
    if (p.exitCode() != 0)
        QSKIP("openssl could not make a certificate");

    LoopbackServer srv(cert.toStdString(), key.toStdString());
    std::atomic<int> hits = 0;
    srv.server().Get("/x", [&](const httplib::Request &, httplib::Response &res) {
        ++hits;
        res.set_content("should not be reached", "text/plain");
    });
    QVERIFY(srv.start());

    CurlHttpClient client(options());
    auto t = std::make_shared<Tracker>();
    client.send(get(srv.url(u"/x")), track(t));
    QTRY_COMPARE_WITH_TIMEOUT(t->finishedCalls, 1, kWaitMs);

    QCOMPARE(t->response.error, NetError::Tls);
    QVERIFY(t->response.body.isEmpty());
    QCOMPARE(hits.load(), 0);
}

QTEST_GUILESS_MAIN(TestCurlHttpClient)
#include "tst_curlhttpclient.moc"
