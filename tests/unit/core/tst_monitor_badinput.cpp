// Bad input: malformed status bodies, garbage in the log stream, an unterminated log array
// while a run is in progress, an absurd Retry-After and clock skew each degrade to a clear
// stale or error state for the affected run alone; the other runs keep updating.
// The network is a routing fake that answers each request by its method and kernel slug.

#include "kaggleclient.h"
#include "logfollower.h"
#include "logformat.h"
#include "runmonitor.h"
#include "runtablemodel.h"
#include "store.h"

#include <QElapsedTimer>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <QTest>
#include <QTimer>

#include <functional>

using namespace kd;

namespace kd {
namespace test {

/// A scripted HttpClient that answers by route, not in FIFO order: the RPC method (or
/// "logs/stream") and the kernel slug of the request. Streaming bodies arrive as chunks.
/// Responses come from the event loop, never re-entrantly from send().
class RoutingHttpClient final : public net::HttpClient
{
public:
    struct Reply
    {
        int status = 200;
        QByteArray body;          ///< JSON for RPCs
        QList<QByteArray> chunks; ///< a streaming body, chunk by chunk
        QByteArray contentType = "application/json";
        net::HttpHeaders extraHeaders;
    };
    /// `call` counts this method's requests for this slug, from 0.
    using Responder = std::function<Reply(const QString &slug, int call)>;
    struct Sent
    {
        QString method;
        QString slug;
        qint64 atMs = 0;
    };

    RoutingHttpClient() { m_clock.start(); }

    void on(const QString &method, Responder responder) { m_routes.insert(method, responder); }

    net::RequestId send(net::HttpRequest request, net::HttpCallbacks callbacks) override
    {
        const net::RequestId id = ++m_nextId;
        const QString path = request.url.path();
        QString method;
        QString slug;
        if (const qsizetype at = path.indexOf(u"/logs/stream/"); at >= 0) {
            method = QStringLiteral("logs/stream");
            slug = path.mid(path.lastIndexOf(u'/') + 1);
        } else {
            method = path.mid(path.lastIndexOf(u'/') + 1);
            slug = QJsonDocument::fromJson(request.body)
                       .object()
                       .value(QStringLiteral("kernelSlug"))
                       .toString();
        }
        const int call = m_calls[method + u'/' + slug]++;
        m_sent.append({method, slug, m_clock.elapsed()});
        const auto route = m_routes.constFind(method);
        Reply reply;
        if (route != m_routes.constEnd()) {
            reply = (*route)(slug, call);
        } else {
            reply.status = 404;
            reply.body = R"({"code":404,"message":"no route"})";
        }
        m_live.insert(id);
        QTimer::singleShot(0, this, [this, id, reply, callbacks, streaming = request.streaming] {
            if (!m_live.contains(id))
                return;
            net::HttpResponse response;
            response.status = reply.status;
            response.headers = {{"Content-Type", reply.contentType}};
            response.headers += reply.extraHeaders;
            if (callbacks.onHeaders)
                callbacks.onHeaders(response.status, response.headers);
            if (streaming && callbacks.onData) {
                for (const QByteArray &chunk : reply.chunks) {
                    if (!m_live.contains(id))
                        return;
                    callbacks.onData(chunk);
                    response.bytesReceived += chunk.size();
                }
                if (reply.chunks.isEmpty() && !reply.body.isEmpty())
                    callbacks.onData(reply.body);
            } else {
                response.body = reply.body;
            }
            if (!m_live.remove(id))
                return;
            callbacks.onFinished(response);
        });
        return id;
    }
    void cancel(net::RequestId id) override { m_live.remove(id); }
    int pendingCount() const override { return int(m_live.size()); }

    int count(const QString &method, const QString &slug = {}) const
    {
        return int(std::count_if(m_sent.cbegin(), m_sent.cend(), [&](const Sent &s) {
            return s.method == method && (slug.isEmpty() || s.slug == slug);
        }));
    }
    /// Requests sent in [fromMs, toMs) since the fake was created.
    int countBetween(qint64 fromMs, qint64 toMs) const
    {
        return int(std::count_if(m_sent.cbegin(), m_sent.cend(),
                                 [&](const Sent &s) { return s.atMs >= fromMs && s.atMs < toMs; }));
    }
    int total() const { return int(m_sent.size()); }
    qint64 elapsedMs() const { return m_clock.elapsed(); }

private:
    QElapsedTimer m_clock;
    QHash<QString, Responder> m_routes;
    QHash<QString, int> m_calls;
    QList<Sent> m_sent;
    QSet<net::RequestId> m_live;
    net::RequestId m_nextId = 0;
};

} // namespace test
} // namespace kd

namespace kd {
namespace {

using test::RoutingHttpClient;
using Reply = RoutingHttpClient::Reply;

const QString kStatus = QStringLiteral("GetKernelSessionStatus");
const QString kQuota = QStringLiteral("GetAcceleratorQuotaStatistics");
const QString kOutput = QStringLiteral("ListKernelSessionOutput");
const QString kStream = QStringLiteral("logs/stream");

Reply statusReply(const char *status)
{
    Reply r;
    r.body = QByteArray("{\"status\":\"") + status + "\"}";
    return r;
}

MonitorSettings fastSettings()
{
    MonitorSettings s;
    s.pollRunningSeconds = 0.05;
    s.pollQueuedSeconds = 0.05;
    s.quotaPollSeconds = 60;
    s.maxBackoffSeconds = 0.5;
    s.jitter = 0;
    s.requestBudgetPerMinute = 100'000;
    s.followLogs = false;
    return s;
}

LogEvent logEvent(double time, const QString &data, bool stderrStream = false)
{
    LogEvent e;
    e.time = time;
    e.data = data;
    e.stream = stderrStream ? LogEvent::Stream::Stderr : LogEvent::Stream::Stdout;
    return e;
}

QByteArray sse(const LogEvent &e)
{
    return "data: " + writeLogEventJson(e) + "\n\n";
}

QByteArray outputReply(const QByteArray &log)
{
    QJsonObject o;
    o.insert(QStringLiteral("files"), QJsonArray());
    o.insert(QStringLiteral("log"), QString::fromUtf8(log));
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

} // namespace
} // namespace kd

class TestMonitorBadInput : public QObject
{
    Q_OBJECT

    std::unique_ptr<RoutingHttpClient> m_http;
    std::unique_ptr<KaggleClient> m_client;
    std::unique_ptr<Store> m_store;

    std::unique_ptr<RunMonitor> makeMonitor(const MonitorSettings &settings = fastSettings())
    {
        auto monitor = std::make_unique<RunMonitor>(m_client.get(), m_store.get(), settings);
        LogFollower::Settings ls;
        ls.reconnectDelayMs = 20;
        ls.pollIntervalMs = 50;
        ls.budgetRetryMs = 20;
        ls.maxFailuresBeforePolling = 3;
        monitor->logFollower()->setSettings(ls);
        return monitor;
    }
    RunId watch(RunMonitor &monitor, const char *slug)
    {
        const auto id = monitor.watch(QStringLiteral("alice/") + QLatin1StringView(slug),
                                      QLatin1StringView(slug));
        return id.ok() ? id.value() : 0;
    }
    static KernelStatus statusOf(const RunMonitor &monitor, RunId id)
    {
        const RunState *s = monitor.state(id);
        return s && s->session ? s->session->status : KernelStatus::NewScript;
    }

private slots:
    void init()
    {
        m_http = std::make_unique<RoutingHttpClient>();
        KaggleClient::Options o;
        o.endpoint = QUrl(QStringLiteral("http://127.0.0.1:9"));
        o.backoffBaseMs = 5;
        o.backoffMaxMs = 20;
        o.maxAttempts = 2;
        m_client = std::make_unique<KaggleClient>(
            m_http.get(), Credentials::fromKey(QStringLiteral("alice"), QStringLiteral("k")), o);
        auto store = Store::open(QStringLiteral(":memory:"));
        QVERIFY(store.ok());
        m_store = std::move(store).value();
        m_http->on(kQuota, [](const QString &, int) {
            Reply r;
            r.body = "{}";
            return r;
        });
    }
    void cleanup()
    {
        m_store.reset();
        m_client.reset();
        m_http.reset();
    }

    void badStatusBodyMarksOnlyThatRunStale_data()
    {
        QTest::addColumn<int>("httpStatus");
        QTest::addColumn<QByteArray>("contentType");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("errorMentions");

        QTest::newRow("unknown status name")
            << 200 << QByteArray("application/json") << QByteArray(R"({"status":"EXPLODED"})")
            << QStringLiteral("EXPLODED");
        QTest::newRow("unknown status number")
            << 200 << QByteArray("application/json") << QByteArray(R"({"status":42})")
            << QStringLiteral("42");
        QTest::newRow("status of the wrong type")
            << 200 << QByteArray("application/json")
            << QByteArray(R"({"status":{"name":"RUNNING"}})") << QStringLiteral("status");
        QTest::newRow("truncated json")
            << 200 << QByteArray("application/json") << QByteArray("{\"status\":\"RUNN")
            << QStringLiteral("GetKernelSessionStatus");
        QTest::newRow("html page with 200")
            << 200 << QByteArray("text/html")
            << QByteArray("<html><body>Service temporarily unavailable</body></html>")
            << QStringLiteral("GetKernelSessionStatus");
        QTest::newRow("json array")
            << 200 << QByteArray("application/json") << QByteArray(R"(["RUNNING"])")
            << QStringLiteral("GetKernelSessionStatus");
    }
    void badStatusBodyMarksOnlyThatRunStale()
    {
        QFETCH(int, httpStatus);
        QFETCH(QByteArray, contentType);
        QFETCH(QByteArray, body);
        QFETCH(QString, errorMentions);

        bool goodRunning = false;
        bool badFixed = false;
        m_http->on(kStatus, [&](const QString &slug, int) {
            if (slug == u"bad" && !badFixed) {
                Reply r;
                r.status = httpStatus;
                r.contentType = contentType;
                r.body = body;
                return r;
            }
            if (slug == u"bad")
                return statusReply("RUNNING");
            return statusReply(goodRunning ? "RUNNING" : "QUEUED");
        });
        auto monitor = makeMonitor();
        RunTableModel model(monitor.get());
        const RunId bad = watch(*monitor, "bad");
        const RunId good = watch(*monitor, "good");
        QVERIFY(bad && good);
        monitor->start();

        // The bad run shows a clear stale state with a reason; nothing was invented for it.
        QTRY_VERIFY(monitor->state(bad)->stale);
        const QModelIndex badRow = model.index(model.rowOf(bad), RunTableModel::StateColumn);
        QVERIFY(model.data(badRow, RunTableModel::StaleRole).toBool());
        QCOMPARE(model.data(badRow, RunTableModel::CategoryRole).toInt(), int(RunCategory::Stale));
        const QString error = model.data(badRow, RunTableModel::ErrorRole).toString();
        QVERIFY2(error.contains(errorMentions, Qt::CaseInsensitive), qPrintable(error));
        QVERIFY(!monitor->state(bad)->session.has_value());
        QCOMPARE(m_store->sessions(bad).size(), 0);

        // The other run keeps updating: its state change is applied and stored.
        QTRY_COMPARE(statusOf(*monitor, good), KernelStatus::Queued);
        goodRunning = true;
        QTRY_COMPARE(statusOf(*monitor, good), KernelStatus::Running);
        QVERIFY(!monitor->state(good)->stale);
        QCOMPARE(m_store->statusEvents(monitor->state(good)->session->id).size(), 2);
        QVERIFY(!monitor->isOffline());

        // The bad run is retried with backoff, not in a loop, and recovers by itself.
        const int badPolls = m_http->count(kStatus, QStringLiteral("bad"));
        const int goodPolls = m_http->count(kStatus, QStringLiteral("good"));
        QTest::qWait(500);
        const int badDuring = m_http->count(kStatus, QStringLiteral("bad")) - badPolls;
        const int goodDuring = m_http->count(kStatus, QStringLiteral("good")) - goodPolls;
        QVERIFY2(badDuring <= 3 && badDuring < goodDuring,
                 qPrintable(QStringLiteral("bad %1, good %2").arg(badDuring).arg(goodDuring)));
        badFixed = true;
        QTRY_COMPARE(statusOf(*monitor, bad), KernelStatus::Running);
        QVERIFY(!monitor->state(bad)->stale);
        QVERIFY(model.data(badRow, RunTableModel::ErrorRole).toString().isEmpty());
    }

    void absurdRetryAfterPausesThenResumes()
    {
        bool limited = false;
        bool otherDone = false;
        m_http->on(kStatus, [&](const QString &slug, int) {
            if (slug == u"limited" && limited) {
                limited = false; // once
                Reply r;
                r.status = 429;
                r.body = R"({"code":429,"message":"TooManyRequests"})";
                r.extraHeaders = {{"Retry-After", "999999"}};
                return r;
            }
            if (slug == u"other" && otherDone)
                return statusReply("COMPLETE");
            return statusReply("RUNNING");
        });
        MonitorSettings settings = fastSettings();
        settings.maxBackoffSeconds = 1; // what the monitor waits at most, whatever it is told
        auto monitor = makeMonitor(settings);
        const RunId id = watch(*monitor, "limited");
        const RunId other = watch(*monitor, "other");
        monitor->start();
        QTRY_COMPARE(statusOf(*monitor, id), KernelStatus::Running);
        QTRY_COMPARE(statusOf(*monitor, other), KernelStatus::Running);
        // The quota refresh that follows the first sightings is done (it ignores the pause).
        QTRY_COMPARE(m_http->count(kQuota), 2);

        limited = true;
        QTRY_VERIFY(monitor->state(id)->stale);
        const qint64 failedAt = m_http->elapsedMs();
        QCOMPARE(monitor->state(id)->errorKind, ApiError::Kind::RateLimited);
        QVERIFY(!monitor->state(id)->error.isEmpty());
        QCOMPARE(statusOf(*monitor, id), KernelStatus::Running); // the last known state
        QVERIFY(!monitor->state(other)->stale);

        // Everyone waits (the limit is per account): no request at all, and no busy loop...
        QTest::qWait(600);
        QCOMPARE(m_http->countBetween(failedAt + 50, m_http->elapsedMs()), 0);
        // ...but not for the hour the header asked: polling resumes for both runs.
        otherDone = true;
        QTRY_VERIFY_WITH_TIMEOUT(!monitor->state(id)->stale, 5000);
        QTRY_COMPARE(statusOf(*monitor, other), KernelStatus::Complete);
        QVERIFY(!monitor->isOffline());
    }

    void rateLimitedQuotaPollPausesEveryRequest()
    {
        m_http->on(kQuota, [](const QString &, int) {
            Reply r;
            r.status = 429;
            r.body = R"({"code":429,"message":"TooManyRequests"})";
            r.extraHeaders = {{"Retry-After", "1"}};
            return r;
        });
        m_http->on(kStatus, [](const QString &, int) { return statusReply("RUNNING"); });
        MonitorSettings settings = fastSettings();
        settings.maxBackoffSeconds = 1;
        auto monitor = makeMonitor(settings);
        const RunId id = watch(*monitor, "busy");
        monitor->start();
        QTRY_COMPARE(statusOf(*monitor, id), KernelStatus::Running);
        // The client retries the read once after Retry-After; then the monitor gets the 429.
        QTRY_COMPARE_WITH_TIMEOUT(m_http->count(kQuota), 2, 5000);
        QTest::qWait(20);
        const qint64 failedAt = m_http->elapsedMs();
        // Retry-After holds back the status polls too (the limit is per account)...
        QTest::qWait(600);
        QCOMPARE(m_http->countBetween(failedAt + 50, m_http->elapsedMs()), 0);
        // ...and then they resume.
        const int statusPolls = m_http->count(kStatus);
        QTRY_VERIFY_WITH_TIMEOUT(m_http->count(kStatus) > statusPolls, 3000);
    }

    void malformedLogsDeliverTheValidEvents_data()
    {
        QTest::addColumn<QList<QByteArray>>("connections"); // SSE bodies; the last repeats
        QTest::addColumn<int>("streamStatus");
        QTest::addColumn<QList<QByteArray>>("storedLogs"); // ListKernelSessionOutput logs
        QTest::addColumn<QStringList>("expected");

        const LogEvent e1 = logEvent(1.0, QStringLiteral("epoch 1 loss=0.90\n"));
        const LogEvent e2 = logEvent(2.0, QStringLiteral("epoch 2 loss=0.70\n"));
        const LogEvent e3 = logEvent(3.0, QStringLiteral("warning: slow step\n"), true);
        const LogEvent e4 = logEvent(4.0, QStringLiteral("epoch 3 loss=0.50\n"));
        const QStringList expected{e1.data, e2.data, e3.data, e4.data};
        const QByteArray full = writeLogArray({e1, e2, e3, e4});
        const QByteArray ended = "data: END_OF_LOG\n\n";

        {
            // Garbage between events, an event split across reads, invalid UTF-8 and a
            // connection that drops before the end; the reconnect replays everything.
            const QByteArray s2 = sse(e2);
            const QByteArray first =
                sse(e1) + "data: {\"stream_name\":\"stdout\",\"time\":\n\n" + s2.left(10);
            const QByteArray rest = s2.mid(10) + ": keep-alive\n\n" + sse(e3);
            const QByteArray tail = "data: \xff\xfe\x80 binary\n\n" + sse(e4) + ended;
            QTest::newRow("garbage in the live stream")
                << QList<QByteArray>{first + rest, first + rest + tail} << 200
                << QList<QByteArray>{full} << expected;
        }
        {
            // The stream gives part of the log and drops; when the run ends, the stored log
            // is unterminated with a torn last element.
            const QByteArray partial = sse(e1) + sse(e2);
            QByteArray torn = full;
            torn.chop(1); // no "]"
            torn += ",{\"stream_name\":\"stdout\",\"ti";
            QTest::newRow("stored log unterminated at the end")
                << QList<QByteArray>{partial} << 200 << QList<QByteArray>{torn} << expected;
        }
        {
            // No stream at all: the follower polls the stored log, which is unterminated while
            // the run is in progress, and then complete.
            const QByteArray one = writeLogArray({e1});
            const QByteArray two = writeLogArray({e1, e2});
            QList<QByteArray> stored{one.left(one.size() - 1) + ",{\"stream_na",
                                     two.left(two.size() - 1), full};
            QTest::newRow("polled log unterminated while running")
                << QList<QByteArray>{QByteArray(R"({"code":503,"message":"unavailable"})")} << 503
                << stored << expected;
        }
    }
    void malformedLogsDeliverTheValidEvents()
    {
        QFETCH(QList<QByteArray>, connections);
        QFETCH(int, streamStatus);
        QFETCH(QList<QByteArray>, storedLogs);
        QFETCH(QStringList, expected);

        bool logsOver = false;
        bool otherOver = false;
        int storedServed = 0;
        m_http->on(kStatus, [&](const QString &slug, int) {
            if (slug == u"logs")
                return statusReply(logsOver ? "COMPLETE" : "RUNNING");
            return statusReply(otherOver ? "ERROR" : "RUNNING");
        });
        m_http->on(kStream, [&](const QString &slug, int call) {
            Reply r;
            if (slug != u"logs") {
                r.contentType = "text/event-stream";
                r.chunks = {sse(logEvent(1, QStringLiteral("other run\n")))};
                return r;
            }
            r.status = streamStatus;
            r.contentType = streamStatus == 200 ? "text/event-stream" : "application/json";
            r.chunks = {connections.at(std::min<qsizetype>(call, connections.size() - 1))};
            return r;
        });
        m_http->on(kOutput, [&](const QString &slug, int) {
            Reply r;
            if (slug != u"logs") {
                r.body = outputReply(writeLogArray({logEvent(1, QStringLiteral("other run\n"))}));
                return r;
            }
            // While running, each poll sees the log grow; once over, the whole log.
            const qsizetype i = logsOver ? storedLogs.size() - 1
                                         : std::min<qsizetype>(storedServed, storedLogs.size() - 2);
            ++storedServed;
            r.body = outputReply(storedLogs.at(std::max<qsizetype>(0, i)));
            return r;
        });

        MonitorSettings settings = fastSettings();
        settings.followLogs = true;
        auto monitor = makeMonitor(settings);
        const RunId id = watch(*monitor, "logs");
        const RunId other = watch(*monitor, "other");
        QStringList delivered;
        connect(monitor->logFollower(), &LogFollower::events, this,
                [&](RunId run, SessionId, const QList<LogEvent> &events) {
                    if (run == id)
                        for (const LogEvent &e : events)
                            delivered.append(e.data);
                });
        monitor->start();
        QTRY_COMPARE(statusOf(*monitor, id), KernelStatus::Running);
        QTRY_VERIFY(delivered.contains(expected.first()));

        // The other run keeps updating while this run's log is a mess.
        otherOver = true;
        QTRY_COMPARE(statusOf(*monitor, other), KernelStatus::Error);
        QVERIFY(!monitor->state(other)->stale);

        QTest::qWait(200); // a few reconnects or polls of the broken log
        logsOver = true;
        QTRY_COMPARE(statusOf(*monitor, id), KernelStatus::Complete);
        QTRY_COMPARE(monitor->logFollower()->mode(id), LogFollower::Mode::Done);

        // Every valid event exactly once, in order; garbage may show as text, never twice.
        QStringList valid;
        for (const QString &line : std::as_const(delivered))
            if (expected.contains(line))
                valid.append(line);
        QCOMPARE(valid, expected);
        QCOMPARE(QSet<QString>(delivered.cbegin(), delivered.cend()).size(), delivered.size());
        // The last line shown ends with the last event (garbage without a newline may lead it).
        QVERIFY2(monitor->state(id)->lastLogLine.endsWith(expected.last().trimmed()),
                 qPrintable(monitor->state(id)->lastLogLine));
        QVERIFY(!monitor->state(id)->stale);
    }

    void clockSkewKeepsPollingAndNeverShowsNegativeTimes()
    {
        qint64 skewMs = 0;
        const auto clock = [&skewMs] { return QDateTime::currentDateTimeUtc().addMSecs(skewMs); };
        bool otherQueued = false;
        m_http->on(kStatus, [&](const QString &slug, int) {
            if (slug == u"other" && otherQueued)
                return statusReply("QUEUED");
            return statusReply("RUNNING");
        });
        auto monitor = makeMonitor();
        monitor->setClock(clock);
        RunTableModel model(monitor.get());
        model.setClock(clock);
        const RunId id = watch(*monitor, "skewed");
        const RunId other = watch(*monitor, "other");
        monitor->start();
        QTRY_COMPARE(statusOf(*monitor, id), KernelStatus::Running);
        QTRY_COMPARE(statusOf(*monitor, other), KernelStatus::Running);
        QTest::qWait(200);
        const int row = model.rowOf(id);
        const auto raw = [&](int column) {
            return model.data(model.index(row, column), RunTableModel::RawRole).toDouble();
        };

        struct Jump
        {
            const char *what;
            qint64 ms;
        };
        for (const Jump jump :
             {Jump{"back an hour", -3'600'000}, Jump{"forward a day", 86'400'000}}) {
            skewMs = jump.ms;
            const int before = m_http->count(kStatus, QStringLiteral("skewed"));
            const int totalBefore = m_http->total();
            QTRY_VERIFY2(m_http->count(kStatus, QStringLiteral("skewed")) > before + 5, jump.what);
            QVERIFY2(raw(RunTableModel::ElapsedColumn) >= 0, jump.what);
            QVERIFY2(raw(RunTableModel::TimeLeftColumn) >= 0, jump.what);
            QVERIFY2(!monitor->state(id)->stale, jump.what);
            // The budget counts the requests of the last minute as the clock now tells it.
            QVERIFY2(monitor->requestsInLastMinute() <= m_http->total() - totalBefore, jump.what);
            // State changes are still applied.
            otherQueued = !otherQueued;
            QTRY_COMPARE(statusOf(*monitor, other),
                         otherQueued ? KernelStatus::Queued : KernelStatus::Running);
        }
        QCOMPARE(raw(RunTableModel::TimeLeftColumn), 0.0); // a day is past the 12 h cap
    }
};

QTEST_GUILESS_MAIN(TestMonitorBadInput)
#include "tst_monitor_badinput.moc"
