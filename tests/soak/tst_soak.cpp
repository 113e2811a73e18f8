// Chaos soak: 50 runs through full lifecycles against the simulator with faults on (10% 5xx,
// 5% 429 with Retry-After, 5% connection resets, 2% malformed bodies, latency spikes, stalled
// streams), with a chain and an Output -> Dataset in the middle. The whole Deck runs as the app
// runs it: real curl over loopback, a SQLite file, log archives on disk.
//
// Checked: no crash or hang; every run ends in the simulator's true final state; every log
// event arrives exactly once and in order (against the stored log, fetched without faults at
// the end); API requests never exceed the budget in any 60 s window; a request refused with
// Retry-After is not sent again before it; the store passes integrity_check; and no secret
// (the key, the token, a rejected key) appears in any log line, error text, the database or
// a file the app wrote. Figures are printed.
//
// Writes (SaveKernel, CreateDataset, CreateDatasetVersion) get no faults: KaggleDeck never
// repeats a write blindly, so a fault there is a failure shown to the user (tested in
// tst_commit and tst_outputtodataset), not something a soak can assert its way around.

#include "chainrunner.h"
#include "curlhttpclient.h"
#include "deck.h"
#include "kaggleclient.h"
#include "logfollower.h"
#include "logformat.h"
#include "outputtransfer.h"
#include "simulator.h"
#include "store.h"
#include "wire.h"

#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QScopeGuard>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>

using namespace kd;

namespace {

const QString kUser = QStringLiteral("soak");
const QString kKey = QStringLiteral("soak-KEY-5ecret-31415926");
const QString kToken = QStringLiteral("KGAT_soak_T0KEN_5ecret_27182818");
const QString kWrongKey = QStringLiteral("wrong-KEY-5ecret-16180339");
constexpr int kPlainRuns = 48; // + the chain's kernel + the Output -> Dataset source = 50
constexpr double kSpeed = 30;  // virtual seconds per real second
constexpr int kBudget = 600;   // requests per minute
constexpr int kRetryAfterSeconds = 1;
const int kSoakSeconds = qEnvironmentVariableIntValue("KD_SOAK_SECONDS") > 0
                             ? qEnvironmentVariableIntValue("KD_SOAK_SECONDS")
                             : 420; // the deadline for everything to settle

QString slugOf(int i)
{
    return QStringLiteral("run-%1").arg(i, 2, 10, QLatin1Char('0'));
}

QJsonObject runFields(int queue, int run, const QString &outcome, double logRate)
{
    QJsonObject o{{QStringLiteral("queueSeconds"), queue},
                  {QStringLiteral("runSeconds"), run},
                  {QStringLiteral("outcome"), outcome},
                  {QStringLiteral("epochs"), 2},
                  {QStringLiteral("stepsPerEpoch"), 200},
                  {QStringLiteral("logStyle"), QStringLiteral("hf")},
                  {QStringLiteral("logEventsPerSecond"), logRate},
                  {QStringLiteral("checkpointBytes"), 4096}};
    if (outcome == u"error")
        o.insert(QStringLiteral("failureMessage"), QStringLiteral("CUDA out of memory"));
    return o;
}

QJsonObject kernel(const QString &slug, int startAt, QJsonObject fields)
{
    fields.insert(QStringLiteral("ref"), QString(kUser + u'/' + slug));
    fields.insert(QStringLiteral("title"), slug);
    fields.insert(QStringLiteral("language"), QStringLiteral("python"));
    fields.insert(QStringLiteral("kernelType"), QStringLiteral("script"));
    fields.insert(QStringLiteral("machineShape"), QStringLiteral("NvidiaTeslaT4"));
    fields.insert(QStringLiteral("enableGpu"), true);
    fields.insert(QStringLiteral("source"), QStringLiteral("print('train')"));
    fields.insert(QStringLiteral("startAt"), startAt);
    return fields;
}

std::string scenario()
{
    QJsonArray kernels;
    // Staggered starts; lifecycles of 1 to 3 real minutes; every tenth run fails, a few are
    // cancelled.
    for (int i = 0; i < kPlainRuns; ++i) {
        const QString outcome = i % 10 == 7   ? QStringLiteral("error")
                                : i % 10 == 9 ? QStringLiteral("cancel")
                                              : QStringLiteral("complete");
        kernels.append(kernel(slugOf(i), (i % 12) * 60,
                              runFields(30 + (i % 5) * 30, 900 + (i % 7) * 400, outcome, 0.25)));
    }
    // The Output -> Dataset source: a short run that completes early.
    kernels.append(
        kernel(QStringLiteral("source"), 0, runFields(10, 300, QStringLiteral("complete"), 0.25)));
    // The chain's kernel: one finished session, then a session per push.
    QJsonObject chain = kernel(QStringLiteral("chain"), -7200,
                               runFields(10, 600, QStringLiteral("complete"), 0.25));
    chain.insert(QStringLiteral("script"),
                 QJsonArray{runFields(20, 900, QStringLiteral("complete"), 0.25)});
    kernels.append(chain);

    const QJsonObject account{{QStringLiteral("username"), kUser},
                              {QStringLiteral("key"), kKey},
                              {QStringLiteral("token"), kToken}};
    const QJsonObject quota{
        {QStringLiteral("refreshTime"),
         QDateTime::currentDateTimeUtc().addDays(4).toString(Qt::ISODateWithMs)},
        {QStringLiteral("gpu"), QJsonObject{{QStringLiteral("usedSeconds"), 3600},
                                            {QStringLiteral("totalSeconds"), 10'800'000},
                                            {QStringLiteral("minimumSeconds"), 108000},
                                            {QStringLiteral("hasEverRun"), true}}}};
    const QJsonObject options{{QStringLiteral("startTime"), QStringLiteral("now")},
                              {QStringLiteral("maxGpuSessions"), 100},
                              {QStringLiteral("staleStatusSeconds"), 0},
                              {QStringLiteral("datasetProcessingSeconds"), 5}};
    const QJsonObject world{{QStringLiteral("name"), QStringLiteral("soak")},
                            {QStringLiteral("options"), options},
                            {QStringLiteral("accounts"), QJsonArray{account}},
                            {QStringLiteral("quota"), quota},
                            {QStringLiteral("kernels"), kernels}};
    return QJsonDocument(world).toJson().toStdString();
}

sim::Faults chaos()
{
    sim::Faults f;
    f.http5xx = 0.10;
    f.http429 = 0.05;
    f.retryAfterSeconds = kRetryAfterSeconds;
    f.reset = 0.05;
    f.malformed = 0.02;
    f.stall = 0.02;
    f.stallMs = 4000;
    f.latencySpikeRate = 0.05;
    f.latencySpikeMs = 800;
    // Every read; the writes are left alone (see the top of the file).
    f.onlyPaths = {"GetKernelSessionStatus",
                   "ListKernelSessionOutput",
                   "logs/stream",
                   "GetAcceleratorQuotaStatistics",
                   "GetKernel",
                   "ListKernels",
                   "GetDatasetStatus",
                   "/blob/"}; // storage downloads; "/blobs." is StartBlobUpload, a write
    return f;
}

/// The real transport, with every request and answer written down: what the budget and
/// Retry-After checks read. A recorder in addition to curl, not a fake instead of it.
class RecordingHttpClient final : public net::HttpClient
{
public:
    struct Sent
    {
        qint64 seq = 0; ///< order of sends and refusals (ms are too coarse to order them)
        qint64 atMs = 0;
        QString key; ///< method + URL + body: the same logical request
        bool api = false;
    };
    struct Refused
    {
        qint64 seq = 0;
        qint64 atMs = 0;
        QString key;
        qint64 retryAfterMs = 0;
    };

    RecordingHttpClient() { m_clock.start(); }

    net::RequestId send(net::HttpRequest request, net::HttpCallbacks callbacks) override
    {
        const QString key = QString::number(int(request.method)) + u' ' + request.url.toString() +
                            u' ' + QString::fromUtf8(request.body);
        m_sent.append(
            {++m_seq, m_clock.elapsed(), key, request.url.path().startsWith(u"/api/v1/")});
        auto finished = std::move(callbacks.onFinished);
        callbacks.onFinished = [this, key, finished](const net::HttpResponse &response) {
            if (response.status == 429) {
                const qint64 seconds = response.header("Retry-After").toLongLong();
                if (seconds > 0)
                    m_refused.append({++m_seq, m_clock.elapsed(), key, seconds * 1000});
            }
            if (finished)
                finished(response);
        };
        return m_curl.send(std::move(request), std::move(callbacks));
    }
    void cancel(net::RequestId id) override { m_curl.cancel(id); }
    int pendingCount() const override { return m_curl.pendingCount(); }

    const QList<Sent> &sent() const { return m_sent; }
    const QList<Refused> &refused() const { return m_refused; }

private:
    net::CurlHttpClient m_curl;
    QElapsedTimer m_clock;
    qint64 m_seq = 0;
    QList<Sent> m_sent;
    QList<Refused> m_refused;
};

/// Every message of every category, debug included, for the secret check.
QStringList *g_messages = nullptr;
QtMessageHandler g_previous = nullptr;

void captureMessage(QtMsgType type, const QMessageLogContext &context, const QString &text)
{
    if (g_messages)
        g_messages->append(text);
    if (type != QtDebugMsg && type != QtInfoMsg && g_previous)
        g_previous(type, context, text);
}

} // namespace

class TestSoak : public QObject
{
    Q_OBJECT

private slots:
    void fiftyRunsUnderChaos();
};

void TestSoak::fiftyRunsUnderChaos()
{
    QStringList messages;
    g_messages = &messages;
    g_previous = qInstallMessageHandler(captureMessage);
    QLoggingCategory::setFilterRules(QStringLiteral("kaggledeck.*=true"));
    const auto restore = qScopeGuard([] {
        qInstallMessageHandler(g_previous);
        g_messages = nullptr;
        QLoggingCategory::setFilterRules(QStringLiteral("kaggledeck.*.debug=false"));
    });

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    sim::Options so;
    so.speed = kSpeed;
    so.seed = 20261128;
    so.serverThreads = 160;
    so.sseIdleTimeoutSeconds = 20;
    sim::Simulator simulator(so);
    std::string error;
    QVERIFY2(simulator.loadScenarioJson(scenario(), &error), error.c_str());
    QVERIFY(simulator.start());

    RecordingHttpClient http;
    KaggleClient::Options co;
    co.endpoint = QUrl(QString::fromStdString(simulator.endpoint()));
    co.backoffBaseMs = 200;
    co.backoffMaxMs = 3000;
    co.maxRetryAfterMs = 10'000;
    co.requestTimeoutMs = 15'000;
    KaggleClient client(&http, Credentials::fromKey(kUser, kKey), co);
    // The token is checked and a rejected key is tried on the way: neither may leak.
    {
        KaggleClient wrong(&http, Credentials::fromKey(kUser, kWrongKey), co);
        std::optional<Result<QuotaStatistics>> refused;
        wrong.getQuota(this, [&](Result<QuotaStatistics> r) { refused = std::move(r); });
        std::optional<Result<TokenInfo>> token;
        client.introspectToken(kToken, this, [&](Result<TokenInfo> r) { token = std::move(r); });
        QTRY_VERIFY_WITH_TIMEOUT(refused.has_value() && token.has_value(), 10'000);
        QVERIFY(!refused->ok());
        QCOMPARE(refused->error().kind, ApiError::Kind::Auth);
        messages << refused->error().message;
        QVERIFY2(token->ok(), qPrintable(token->ok() ? QString() : token->error().message));
    }

    auto opened = Store::open(dir.filePath(QStringLiteral("history.sqlite")));
    QVERIFY(opened.ok());
    std::unique_ptr<Store> store = std::move(opened).value();
    Deck::Settings settings;
    settings.monitor.pollRunningSeconds = 4;
    settings.monitor.pollQueuedSeconds = 6;
    settings.monitor.quotaPollSeconds = 30;
    settings.monitor.maxBackoffSeconds = 8;
    settings.monitor.requestBudgetPerMinute = kBudget;
    settings.monitor.followLogs = true;
    Deck deck(&client, store.get(), dir.path(), settings);
    deck.chains()->setReadRetryDelayMs(1000);

    // Every event the follower hands out, per run and session.
    std::map<std::pair<RunId, SessionId>, QList<LogEvent>> received;
    connect(deck.monitor()->logFollower(), &LogFollower::events, this,
            [&](RunId run, SessionId session, const QList<LogEvent> &events) {
                received[{run, session}] += events;
            });

    QHash<QString, RunId> runs;
    QStringList refs;
    for (int i = 0; i < kPlainRuns; ++i)
        refs << kUser + u'/' + slugOf(i);
    refs << kUser + QStringLiteral("/source") << kUser + QStringLiteral("/chain");
    for (const QString &ref : std::as_const(refs)) {
        const auto id = deck.monitor()->watch(ref);
        QVERIFY2(id.ok(), qPrintable(ref));
        runs.insert(ref, *id);
    }
    simulator.setFaults(chaos());
    deck.start();

    // Event-loop responsiveness while it all happens.
    QElapsedTimer loop;
    loop.start();
    qint64 lastBeat = 0;
    qint64 worstGapMs = 0;
    QTimer beat;
    beat.setInterval(50);
    connect(&beat, &QTimer::timeout, this, [&] {
        worstGapMs = std::max(worstGapMs, loop.elapsed() - lastBeat);
        lastBeat = loop.elapsed();
    });
    beat.start();

    const KernelRef chainKernel{kUser, QStringLiteral("chain")};
    const KernelRef source{kUser, QStringLiteral("source")};
    ChainId chain = 0;
    OutputToDataset::Options jo;
    jo.dataDir = dir.path();
    jo.pollInitialMs = 500;
    jo.pollMaxMs = 2000;
    OutputToDataset job(&client, jo);
    int jobAttempts = 0;
    QStringList jobErrors;
    QString jobWorkDir;
    const auto startJob = [&] {
        OutputToDatasetRequest r;
        r.source = source;
        r.title = QStringLiteral("Soak outputs");
        r.slug = QStringLiteral("soak-outputs");
        r.workDir = jobWorkDir; // a retry resumes the same folder
        ++jobAttempts;
        job.start(r);
        jobWorkDir = job.workDir();
    };
    bool jobDone = false;
    connect(&job, &OutputToDataset::finished, this, [&](const Result<QString> &r) {
        if (r.ok()) {
            jobDone = true;
            return;
        }
        jobErrors << r.error().message;
        // What a user would do: try again (the download resumes). A taken slug means an
        // earlier attempt created it after all.
        if (simulator.datasetStatus("soak/soak-outputs").empty() && jobAttempts < 6)
            QTimer::singleShot(1000, &job, startJob);
        else
            jobDone = true;
    });

    const auto statusOf = [&](const QString &ref) {
        const RunState *s = deck.monitor()->state(runs.value(ref));
        return s && s->session ? s->session->status : KernelStatus::NewScript;
    };
    const auto allSettled = [&] {
        for (const QString &ref : std::as_const(refs)) {
            const QString truth = QString::fromStdString(simulator.kernelStatus(ref.toStdString()));
            const auto status = wire::parseKernelStatus(truth);
            if (!status || !isTerminal(*status) || statusName(statusOf(ref)) != truth)
                return false;
        }
        const auto state = chain ? deck.chains()->state(chain) : ChainRunner::State::Idle;
        return chain && state != ChainRunner::State::Running &&
               state != ChainRunner::State::Committing && state != ChainRunner::State::Queued &&
               state != ChainRunner::State::HandingOff && jobDone;
    };

    QElapsedTimer wall;
    wall.start();
    while (!allSettled() && wall.elapsed() < kSoakSeconds * 1000LL) {
        QTest::qWait(200);
        if (!chain && wall.elapsed() > 20'000) {
            ChainSpec spec;
            spec.name = QStringLiteral("soak chain");
            spec.kernel = chainKernel;
            spec.checkpointPattern = QStringLiteral("checkpoint-*/model.safetensors");
            spec.rules.maxRuns = 2;
            const auto id = deck.chains()->create(spec);
            QVERIFY2(id.ok(), qPrintable(id.ok() ? QString() : id.error().message));
            chain = *id;
            QVERIFY(deck.chains()->start(chain).ok());
        }
        if (jobAttempts == 0 && statusOf(source.toString()) == KernelStatus::Complete)
            startJob();
    }
    const double soakSeconds = wall.elapsed() / 1000.0;
    beat.stop();

    // --- The truth, fetched without faults.
    simulator.setFaults({});
    int runsRight = 0;
    QStringList wrongRuns;
    for (const QString &ref : std::as_const(refs)) {
        const QString truth = QString::fromStdString(simulator.kernelStatus(ref.toStdString()));
        const auto shown = statusOf(ref);
        if (statusName(shown) == truth)
            ++runsRight;
        else
            wrongRuns << ref + u": shows " + statusName(shown) + u", is " + truth;
    }

    // Logs: the events of each run's latest session against its stored log.
    KaggleClient clean(&http, Credentials::fromKey(kUser, kKey), co);
    int logsCompared = 0;
    qint64 eventsCompared = 0;
    QStringList logProblems;
    for (const QString &ref : std::as_const(refs)) {
        const RunState *s = deck.monitor()->state(runs.value(ref));
        if (!s || !s->session)
            continue;
        std::optional<Result<KernelOutput>> output;
        clean.listKernelSessionOutput(
            *KernelRef::parse(ref), this, [&](Result<KernelOutput> r) { output = std::move(r); }, 1,
            1);
        QTRY_VERIFY_WITH_TIMEOUT(output.has_value(), 30'000);
        QVERIFY2(output->ok(), qPrintable(ref));
        const auto stored = parseLogArray((*output)->log.toUtf8());
        QVERIFY2(stored.ok(), qPrintable(ref));
        const QList<LogEvent> &got = received[{s->run.id, s->session->id}];
        ++logsCompared;
        eventsCompared += stored->events.size();
        if (size_t(stored->events.size()) != simulator.sessionLogEventCount(ref.toStdString()))
            logProblems << ref + u": the stored log and the simulator's record differ";
        if (got != stored->events)
            logProblems << ref + QStringLiteral(": received %1 events, the log has %2")
                                     .arg(got.size())
                                     .arg(stored->events.size());
    }

    // Requests: the budget in every 60 s window, and Retry-After.
    QList<qint64> apiTimes;
    for (const auto &s : http.sent())
        if (s.api)
            apiTimes << s.atMs;
    int worstWindow = 0;
    for (qsizetype i = 0, j = 0; i < apiTimes.size(); ++i) {
        while (apiTimes[i] - apiTimes[j] >= 60'000)
            ++j;
        worstWindow = std::max(worstWindow, int(i - j + 1));
    }
    int retryAfterViolations = 0;
    qint64 shortestWaitMs = -1;
    for (const auto &r : http.refused()) {
        for (const auto &s : http.sent()) {
            // The first same request sent after the refusal arrived (one already on its way
            // could not know of it).
            if (s.seq < r.seq || s.key != r.key)
                continue;
            const qint64 wait = s.atMs - r.atMs;
            shortestWaitMs = shortestWaitMs < 0 ? wait : std::min(shortestWaitMs, wait);
            if (wait < r.retryAfterMs) {
                ++retryAfterViolations;
                std::printf("  Retry-After not honoured: %s sent again after %lld ms\n",
                            qPrintable(r.key.left(160)), wait);
            }
            break;
        }
    }
    std::map<std::string, int> faults;
    for (const auto &r : simulator.requests())
        if (!r.fault.empty())
            ++faults[r.fault];

    const auto chainState = deck.chains()->state(chain);
    const auto chainInfo = deck.chains()->chain(chain);
    const std::string datasetStatus = simulator.datasetStatus("soak/soak-outputs");
    const auto integrity = store->integrityCheck();

    std::printf("\nChaos soak: %d runs, %.0f s (simulator at %gx), budget %d/min\n",
                int(refs.size()), soakSeconds, kSpeed, kBudget);
    std::printf("  final states right: %d of %d\n", runsRight, int(refs.size()));
    std::printf("  logs compared: %d sessions, %lld events; problems: %d\n", logsCompared,
                eventsCompared, int(logProblems.size()));
    std::printf("  requests: %d sent, %d to the API; busiest 60 s window %d (budget %d)\n",
                int(http.sent().size()), int(apiTimes.size()), worstWindow, kBudget);
    std::printf("  faults served:");
    for (const auto &[kind, n] : faults)
        std::printf(" %s %d;", kind.c_str(), n);
    std::printf("\n  429 with Retry-After: %d; shortest wait before the same request: %lld ms "
                "(asked %d ms); violations: %d\n",
                int(http.refused().size()), shortestWaitMs, kRetryAfterSeconds * 1000,
                retryAfterViolations);
    std::printf("  chain: %s, %d steps (%s)\n", qPrintable(ChainRunner::stateId(chainState)),
                chainInfo ? int(chainInfo->steps.size()) : 0,
                qPrintable(deck.chains()->reason(chain)));
    std::printf(
        "  Output -> Dataset: %s after %d attempt(s)%s%s\n", datasetStatus.c_str(), jobAttempts,
        jobErrors.isEmpty() ? "" : "; errors: ", qPrintable(jobErrors.join(QStringLiteral(" | "))));
    std::printf("  event loop: longest gap %lld ms; log lines captured: %d\n", worstGapMs,
                int(messages.size()));
    std::printf("  store integrity_check: %s\n",
                integrity.ok() ? qPrintable(*integrity) : qPrintable(integrity.error().message));
    std::fflush(stdout);

    QVERIFY2(wrongRuns.isEmpty(), qPrintable(wrongRuns.join(u'\n')));
    QVERIFY2(logProblems.isEmpty(), qPrintable(logProblems.join(u'\n')));
    QVERIFY2(worstWindow <= kBudget, "the request budget was exceeded");
    QCOMPARE(retryAfterViolations, 0);
    QVERIFY(!http.refused().isEmpty()); // the 429 path really ran
    QCOMPARE(chainState, ChainRunner::State::Done);
    QCOMPARE(chainInfo->steps.size(), 2);
    QCOMPARE(datasetStatus, std::string("READY"));
    QVERIFY(integrity.ok());
    QCOMPARE(*integrity, QStringLiteral("ok"));

    // --- Secrets: nowhere in what the app said or wrote.
    for (const RunId id : deck.monitor()->runIds())
        messages << deck.monitor()->state(id)->error;
    messages << deck.chains()->reason(chain) << job.log() << jobErrors;
    for (const auto &entry : deck.chains()->log(chain))
        messages << entry.text;
    const QByteArray basic = (kUser + u':' + kKey).toUtf8().toBase64();
    const QList<QByteArray> secrets{kKey.toUtf8(), kToken.toUtf8(), kWrongKey.toUtf8(), basic,
                                    (kUser + u':' + kWrongKey).toUtf8().toBase64()};
    const QByteArray said = messages.join(u'\n').toUtf8();
    for (const QByteArray &secret : secrets)
        QVERIFY2(!said.contains(secret), "a secret reached a log line or an error text");
    store.reset(); // the database, its WAL and every other file the app wrote
    int filesChecked = 0;
    QDirIterator files(dir.path(), QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (files.hasNext()) {
        QFile f(files.next());
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray bytes = f.readAll();
        ++filesChecked;
        for (const QByteArray &secret : secrets)
            QVERIFY2(!bytes.contains(secret), qPrintable(u"a secret is in " + f.fileName()));
    }
    std::printf("  secrets: none in %d log lines and error texts, none in %d files\n",
                int(messages.size()), filesChecked);
}

QTEST_GUILESS_MAIN(TestSoak)
#include "tst_soak.moc"
