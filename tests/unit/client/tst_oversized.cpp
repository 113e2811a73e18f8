// Oversized answers over real loopback HTTP: a huge JSON answer, a 2 GB persisted log and a
// 40 MB SSE line each end in a clear error (or a dropped line), never in memory exhaustion,
// and the 2 GB log is not read to its end.

#include "curlhttpclient.h"
#include "kaggleclient.h"
#include "loopbackserver.h"

#include <QFile>
#include <QTest>

#include <atomic>
#include <optional>

using namespace kd;

namespace {

/// Peak resident memory of this process in MB, from /proc/self/status.
double peakRssMb()
{
    QFile f(QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : f.readAll().split('\n'))
        if (line.startsWith("VmHWM:"))
            return line.mid(6).trimmed().split(' ').value(0).toDouble() / 1024.0;
    return -1;
}

} // namespace

class TestOversized : public QObject
{
    Q_OBJECT

    test::LoopbackServer m_server;
    std::atomic<qint64> m_hugeLogSent{0};
    net::CurlHttpClient m_http;
    std::unique_ptr<KaggleClient> m_client;

private slots:
    void initTestCase()
    {
        // ListKernels: 70 MB of kernels (the cap for an answer held in memory is 64 MB).
        m_server.server().Post(R"(/api/v1/.*/ListKernels)", [](const httplib::Request &,
                                                               httplib::Response &res) {
            res.set_chunked_content_provider(
                "application/json", [sent = qint64(0)](size_t, httplib::DataSink &sink) mutable {
                    if (sent == 0)
                        sink.write("{\"kernels\":[", 12);
                    const std::string item =
                        "{\"ref\":\"alice/" + std::string(200, 'k') + "\",\"title\":\"t\"},";
                    std::string chunk;
                    for (int i = 0; i < 4096; ++i)
                        chunk += item;
                    sent += qint64(chunk.size());
                    if (!sink.write(chunk.data(), chunk.size()))
                        return false;
                    if (sent > 70LL * 1024 * 1024) {
                        sink.write("{}]}", 4);
                        sink.done();
                    }
                    return true;
                });
        });
        // A finished session whose persisted log is 2 GB.
        m_server.server().Get("/api/v1/kernels/logs/stream/alice/huge-log",
                              [this](const httplib::Request &, httplib::Response &res) {
                                  res.set_chunked_content_provider(
                                      "application/json", [this](size_t, httplib::DataSink &sink) {
                                          static const std::string event =
                                              R"({"stream_name":"stdout","time":1.0,"data":")" +
                                              std::string(1000, 'x') + R"(\n"},)";
                                          std::string chunk = m_hugeLogSent == 0 ? "[" : "";
                                          for (int i = 0; i < 1024; ++i)
                                              chunk += event;
                                          if (!sink.write(chunk.data(), chunk.size()))
                                              return false;
                                          m_hugeLogSent += qint64(chunk.size());
                                          if (m_hugeLogSent > 2LL * 1024 * 1024 * 1024) {
                                              sink.write("{}]", 3);
                                              sink.done();
                                          }
                                          return true;
                                      });
                              });
        // A live stream with one 40 MB line, then a normal event and the end.
        m_server.server().Get(
            "/api/v1/kernels/logs/stream/alice/huge-line",
            [](const httplib::Request &, httplib::Response &res) {
                res.set_chunked_content_provider(
                    "text/event-stream", [step = 0](size_t, httplib::DataSink &sink) mutable {
                        std::string chunk;
                        if (step == 0)
                            chunk = "data: ";
                        else if (step <= 40)
                            chunk = std::string(1024 * 1024, 'y');
                        else if (step == 41)
                            chunk = "\n\ndata: "
                                    R"({"stream_name":"stdout","time":2.0,"data":"after\n"})"
                                    "\n\ndata: END_OF_LOG\n\n";
                        else {
                            sink.done();
                            return true;
                        }
                        ++step;
                        return sink.write(chunk.data(), chunk.size());
                    });
            });
        QVERIFY(m_server.start());
        KaggleClient::Options o;
        o.endpoint = QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_server.port()));
        o.maxAttempts = 1;
        m_client = std::make_unique<KaggleClient>(
            &m_http, Credentials::fromKey(QStringLiteral("alice"), QStringLiteral("k")), o);
    }

    void hugeJsonAnswerIsAClearError()
    {
        std::optional<Result<KernelListPage>> page;
        m_client->listKernels({}, nullptr, [&](Result<KernelListPage> r) { page = std::move(r); });
        QTRY_VERIFY_WITH_TIMEOUT(page.has_value(), 60'000);
        QVERIFY(!page->ok());
        QCOMPARE(page->error().kind, ApiError::Kind::Protocol);
        QVERIFY2(page->error().message.contains(u"larger") ||
                     page->error().message.contains(u"too large") ||
                     page->error().message.contains(u"exceed"),
                 qPrintable(page->error().message));
    }

    void twoGigabyteLogIsCappedAndNotReadToTheEnd()
    {
        std::optional<Result<bool>> finished;
        int events = 0;
        KaggleClient::LogStreamHandlers h;
        h.onEvents = [&](const QList<LogEvent> &e) { events += int(e.size()); };
        h.onFinished = [&](Result<bool> r) { finished = std::move(r); };
        m_client->streamLogs({QStringLiteral("alice"), QStringLiteral("huge-log")}, nullptr, h);
        QTRY_VERIFY_WITH_TIMEOUT(finished.has_value(), 120'000);
        QVERIFY(!finished->ok());
        QVERIFY2(finished->error().message.contains(u"larger than 64 MB"),
                 qPrintable(finished->error().message));
        QCOMPARE(events, 0);
        // The transfer stopped near the cap, far from the 2 GB on offer.
        QTest::qWait(200);
        const qint64 sent = m_hugeLogSent;
        QVERIFY2(sent < 1024LL * 1024 * 1024, qPrintable(QString::number(sent)));
    }

    void fortyMegabyteSseLineIsDroppedAndTheStreamGoesOn()
    {
        std::optional<Result<bool>> finished;
        QList<LogEvent> events;
        KaggleClient::LogStreamHandlers h;
        h.onEvents = [&](const QList<LogEvent> &e) { events += e; };
        h.onFinished = [&](Result<bool> r) { finished = std::move(r); };
        m_client->streamLogs({QStringLiteral("alice"), QStringLiteral("huge-line")}, nullptr, h);
        QTRY_VERIFY_WITH_TIMEOUT(finished.has_value(), 60'000);
        QVERIFY2(finished->ok(),
                 qPrintable(finished->ok() ? QString() : finished->error().message));
        QVERIFY(**finished); // END_OF_LOG arrived
        QCOMPARE(events.size(), 1);
        QCOMPARE(events.first().data, QStringLiteral("after\n"));
    }

    void memoryStayedBounded()
    {
        // 70 MB of JSON, 2 GB of log and a 40 MB line went by; the process never held them.
        const double peak = peakRssMb();
        qInfo("peak RSS %.0f MB", peak);
#if defined(__SANITIZE_ADDRESS__)
        // AddressSanitizer keeps freed memory in quarantine (256 MB) and adds shadow memory.
        const double bound = 1024;
#else
        const double bound = 400;
#endif
        QVERIFY2(peak < bound, qPrintable(QString::number(peak)));
    }

    void cleanupTestCase()
    {
        m_server.stop();
    }
};

QTEST_GUILESS_MAIN(TestOversized)
#include "tst_oversized.moc"
