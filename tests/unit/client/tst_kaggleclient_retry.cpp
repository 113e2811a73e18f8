// KaggleClient retry and error policy against a scripted transport, where exact responses and
// the gaps between attempts can be controlled. The same behaviour is exercised end to end
// against the simulator in tests/integration/client.

#include "fakehttpclient.h"
#include "kaggleclient.h"

#include <QTest>

using namespace kd;

namespace {

template <typename T> struct Waiter
{
    std::optional<Result<T>> result;
    KaggleClient::Callback<T> callback()
    {
        return [this](Result<T> r) { result.emplace(std::move(r)); };
    }
};

KaggleClient::Options fastOptions()
{
    KaggleClient::Options o;
    o.endpoint = QUrl(QStringLiteral("http://127.0.0.1:9"));
    o.backoffBaseMs = 40;
    o.backoffMaxMs = 200;
    o.maxAttempts = 4;
    o.seed = 7;
    return o;
}

const QByteArray kRunning = R"({"status":"RUNNING"})";
const KernelRef kRef{QStringLiteral("alice"), QStringLiteral("train")};

} // namespace

class TestKaggleClientRetry : public QObject
{
    Q_OBJECT
private slots:
    void readRetriesOn5xxThenSucceeds()
    {
        test::FakeHttpClient http;
        http.enqueue(500, R"({"code":500,"message":"Internal error"})");
        http.enqueue(503, "<html>unavailable</html>", {{"Content-Type", "text/html"}});
        http.enqueue(200, kRunning);
        KaggleClient client(&http,
                            Credentials::fromKey(QStringLiteral("alice"), QStringLiteral("k-123")),
                            fastOptions());
        Waiter<KernelSessionStatus> w;
        client.getKernelSessionStatus(kRef, nullptr, w.callback());
        QTRY_VERIFY(w.result.has_value());
        QVERIFY(w.result->ok());
        QCOMPARE(w.result->value().status, KernelStatus::Running);
        QCOMPARE(http.sent().size(), 3);
        // Backoff grows: attempt 2 waits >= 50% of 40 ms, attempt 3 >= 50% of 80 ms.
        QVERIFY(http.sent()[1].atMs - http.sent()[0].atMs >= 20);
        QVERIFY(http.sent()[2].atMs - http.sent()[1].atMs >= 40);
    }

    void readGivesUpAfterMaxAttempts()
    {
        test::FakeHttpClient http;
        for (int i = 0; i < 6; ++i)
            http.enqueue(502, R"({"code":502,"message":"Bad gateway"})");
        KaggleClient client(&http, {}, fastOptions());
        Waiter<KernelSessionStatus> w;
        client.getKernelSessionStatus(kRef, nullptr, w.callback());
        QTRY_VERIFY(w.result.has_value());
        QVERIFY(!w.result->ok());
        QCOMPARE(w.result->error().kind, ApiError::Kind::Server);
        QCOMPARE(http.sent().size(), 4);
    }

    void retryAfterIsALowerBound()
    {
        test::FakeHttpClient http;
        http.enqueue(429, R"({"code":429,"message":"TooManyRequests"})",
                     {{"Content-Type", "application/json"}, {"Retry-After", "1"}});
        http.enqueue(200, kRunning);
        KaggleClient client(&http, {}, fastOptions());
        Waiter<KernelSessionStatus> w;
        client.getKernelSessionStatus(kRef, nullptr, w.callback());
        QTRY_VERIFY_WITH_TIMEOUT(w.result.has_value(), 5000);
        QVERIFY(w.result->ok());
        QCOMPARE(http.sent().size(), 2);
        QVERIFY2(http.sent()[1].atMs - http.sent()[0].atMs >= 1000,
                 "the retry came before Retry-After");
    }

    void admissionHoldsBackFirstAttemptsAndRetries()
    {
        test::FakeHttpClient http;
        http.enqueue(502, R"({"code":502,"message":"Bad gateway"})");
        http.enqueue(200, kRunning);
        KaggleClient client(&http, {}, fastOptions());
        int asked = 0;
        int refusals = 2; // the budget is full twice before the first attempt
        client.setAdmission([&] {
            ++asked;
            if (refusals > 0) {
                --refusals;
                return false;
            }
            return true;
        });
        Waiter<KernelSessionStatus> w;
        client.getKernelSessionStatus(kRef, nullptr, w.callback());
        QCOMPARE(http.sent().size(), 0); // held back, not sent
        QTRY_VERIFY_WITH_TIMEOUT(w.result.has_value(), 5000);
        QVERIFY(w.result->ok());
        QCOMPARE(http.sent().size(), 2);
        // Two refusals, the first attempt, then the retry asked again.
        QCOMPARE(asked, 4);
        // A request held back waits about the admission interval, not a busy loop.
        QVERIFY(http.sent()[0].atMs >= 2 * 200);
    }

    void absurdRetryAfterFailsWithTheHint()
    {
        test::FakeHttpClient http;
        http.enqueue(429,
                     R"({"error":{"code":429,"message":"Too many requests",)"
                     R"("status":"RESOURCE_EXHAUSTED"}})",
                     {{"Content-Type", "application/json"}, {"Retry-After", "86400"}});
        KaggleClient client(&http, {}, fastOptions());
        Waiter<KernelSessionStatus> w;
        client.getKernelSessionStatus(kRef, nullptr, w.callback());
        QTRY_VERIFY(w.result.has_value());
        QCOMPARE(w.result->error().kind, ApiError::Kind::RateLimited);
        QVERIFY(w.result->error().retryAfter.has_value());
        QCOMPARE(http.sent().size(), 1);
    }

    void pushIsNeverRetried_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<int>("error");
        QTest::newRow("500") << 500 << int(net::NetError::None);
        QTest::newRow("429") << 429 << int(net::NetError::None);
        QTest::newRow("reset") << 0 << int(net::NetError::ConnectionLost);
        QTest::newRow("timeout") << 0 << int(net::NetError::Timeout);
    }
    void pushIsNeverRetried()
    {
        QFETCH(int, status);
        QFETCH(int, error);
        test::FakeHttpClient http;
        http.enqueue(status, R"({"code":500,"message":"Internal error"})", {},
                     net::NetError(error));
        http.enqueue(200, R"({"ref":"alice/train","versionNumber":2})");
        KaggleClient client(&http, {}, fastOptions());
        SaveKernelRequest push;
        push.slug = QStringLiteral("alice/train");
        push.text = QStringLiteral("print(1)");
        Waiter<SaveKernelResponse> w;
        client.saveKernel(push, nullptr, w.callback());
        QTRY_VERIFY(w.result.has_value());
        QVERIFY(!w.result->ok());
        QTest::qWait(300); // longer than any backoff: a retry would show up here
        QCOMPARE(http.sent().size(), 1);
    }

    void pushApplicationErrorCarriesFieldDetails()
    {
        test::FakeHttpClient http;
        http.enqueue(200, R"({"ref":null,"url":null,"versionNumber":null,)"
                          R"("error":"Maximum batch GPU session count of 2 reached",)"
                          R"("invalidDatasetSources":["alice/missing"]})");
        KaggleClient client(&http, {}, fastOptions());
        Waiter<SaveKernelResponse> w;
        client.saveKernel(SaveKernelRequest{}, nullptr, w.callback());
        QTRY_VERIFY(w.result.has_value());
        QCOMPARE(w.result->error().kind, ApiError::Kind::Application);
        QCOMPARE(w.result->error().message,
                 QStringLiteral("Maximum batch GPU session count of 2 reached"));
        QCOMPARE(w.result->error().details,
                 QStringList{QStringLiteral("invalidDatasetSources: alice/missing")});
    }

    void malformedBodyIsAProtocolErrorNotRetried()
    {
        test::FakeHttpClient http;
        http.enqueue(200, R"({"kernels": [)");
        http.enqueue(200, R"({"kernels": []})");
        KaggleClient client(&http, {}, fastOptions());
        Waiter<KernelListPage> w;
        client.listKernels({}, nullptr, w.callback());
        QTRY_VERIFY(w.result.has_value());
        QCOMPARE(w.result->error().kind, ApiError::Kind::Protocol);
        QCOMPARE(http.sent().size(), 1);
    }

    void http200WithErrorCodeIsAnError()
    {
        test::FakeHttpClient http;
        http.enqueue(200, R"({"code":403,"message":"Permission 'kernels.get' was denied"})");
        KaggleClient client(&http, {}, fastOptions());
        Waiter<KernelSessionStatus> w;
        client.getKernelSessionStatus(kRef, nullptr, w.callback());
        QTRY_VERIFY(w.result.has_value());
        QCOMPARE(w.result->error().kind, ApiError::Kind::NotFound);
        QVERIFY(w.result->error().message.contains(u"kernels.get"));
    }

    void cancelledCallNeverCallsBack()
    {
        test::FakeHttpClient http;
        http.enqueue(500, "{}");
        http.enqueue(200, kRunning);
        KaggleClient::Options slow = fastOptions();
        slow.backoffBaseMs = 2000; // the cancel must land inside the backoff, even under load
        slow.backoffMaxMs = 4000;
        KaggleClient client(&http, {}, slow);
        bool called = false;
        const auto id = client.getKernelSessionStatus(
            kRef, nullptr, [&](Result<KernelSessionStatus>) { called = true; });
        QTRY_COMPARE(http.sent().size(), 1);
        client.cancel(id); // during the backoff
        QTest::qWait(300);
        QVERIFY(!called);
        QCOMPARE(http.sent().size(), 1);
        QCOMPARE(client.activeCalls(), 0);
    }

    void destroyedContextDropsTheCallback()
    {
        test::FakeHttpClient http;
        http.enqueue(200, kRunning);
        KaggleClient client(&http, {}, fastOptions());
        bool called = false;
        auto *context = new QObject;
        client.getKernelSessionStatus(kRef, context,
                                      [&](Result<KernelSessionStatus>) { called = true; });
        delete context;
        QTest::qWait(50);
        QVERIFY(!called);
        QCOMPARE(client.activeCalls(), 0);
    }

    void requestShapeFollowsTheSdk()
    {
        test::FakeHttpClient http;
        http.enqueue(200, kRunning);
        KaggleClient client(&http, Credentials::fromToken(QStringLiteral("KGAT_secret_token_1")),
                            fastOptions());
        Waiter<KernelSessionStatus> w;
        client.getKernelSessionStatus(kRef, nullptr, w.callback());
        QTRY_VERIFY(w.result.has_value());
        const net::HttpRequest &r = http.sent().first().request;
        QCOMPARE(r.method, net::HttpRequest::Method::Post);
        QCOMPARE(r.url.toString(), QStringLiteral("http://127.0.0.1:9/api/v1/"
                                                  "kernels.KernelsApiService/"
                                                  "GetKernelSessionStatus"));
        QCOMPARE(net::headerValue(r.headers, "Authorization"),
                 QByteArray("Bearer KGAT_secret_token_1"));
        QCOMPARE(net::headerValue(r.headers, "Content-Type"), QByteArray("application/json"));
        QVERIFY(net::headerValue(r.headers, "User-Agent").startsWith("KaggleDeck/"));
    }

    void endpointSelection()
    {
        QProcessEnvironment env;
        QCOMPARE(KaggleClient::endpointFromEnvironment(env).toString(),
                 QStringLiteral("https://api.kaggle.com"));
        env.insert(QStringLiteral("KAGGLE_API_ENDPOINT"), QStringLiteral("http://127.0.0.1:7777/"));
        QCOMPARE(KaggleClient::endpointFromEnvironment(env).toString(),
                 QStringLiteral("http://127.0.0.1:7777"));
        test::FakeHttpClient http;
        KaggleClient prod(&http, {}, KaggleClient::Options{});
        QCOMPARE(prod.rpcUrl(u"kernels.KernelsApiService", u"ListKernels").toString(),
                 QStringLiteral("https://api.kaggle.com/v1/kernels.KernelsApiService/ListKernels"));
        QCOMPARE(prod.logStreamUrl(kRef).toString(),
                 QStringLiteral("https://api.kaggle.com/v1/kernels/logs/stream/alice/train"));
        KaggleClient local(&http, {}, fastOptions());
        QCOMPARE(local.logStreamUrl(kRef).toString(),
                 QStringLiteral("http://127.0.0.1:9/api/v1/kernels/logs/stream/alice/train"));
    }
};

QTEST_GUILESS_MAIN(TestKaggleClientRetry)
#include "tst_kaggleclient_retry.moc"
