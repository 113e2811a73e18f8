// Chains end to end against the simulator (frozen clock, advance()): the kernel_sources and
// dataset handoffs, the stop rules (runs, error, metric, quota, missing checkpoint), pause and
// resume, and a restart in the middle of a chain.

#include "chainrunner.h"
#include "commitqueue.h"
#include "curlhttpclient.h"
#include "deck.h"
#include "kaggleclient.h"
#include "logfollower.h"
#include "metricseriesmodel.h"
#include "runmonitor.h"
#include "simulator.h"
#include "store.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <functional>

using namespace kd;

namespace {

const QString kUser = QStringLiteral("alice");
const QString kKey = QStringLiteral("alice-key-123456");
const char *const kRef = "alice/llm-chain";
const KernelRef kKernel{QStringLiteral("alice"), QStringLiteral("llm-chain")};

QJsonObject step(const QString &outcome = QStringLiteral("complete"))
{
    QJsonObject s{
        {QStringLiteral("queueSeconds"), 5},   {QStringLiteral("runSeconds"), 120},
        {QStringLiteral("outcome"), outcome},  {QStringLiteral("epochs"), 1},
        {QStringLiteral("stepsPerEpoch"), 40}, {QStringLiteral("logStyle"), QStringLiteral("hf")}};
    if (outcome == u"error")
        s.insert(QStringLiteral("failureMessage"), QStringLiteral("CUDA out of memory"));
    return s;
}

/// A world with alice and the chain's kernel; `script` holds one run spec per push.
std::string scenario(const QJsonArray &script, double gpuUsedSeconds = 3600,
                     const QJsonArray &otherKernels = {})
{
    QJsonObject kernel = step();
    kernel.insert(QStringLiteral("ref"), QString::fromLatin1(kRef));
    kernel.insert(QStringLiteral("title"), QStringLiteral("LLM Chain"));
    kernel.insert(QStringLiteral("language"), QStringLiteral("python"));
    kernel.insert(QStringLiteral("kernelType"), QStringLiteral("script"));
    kernel.insert(QStringLiteral("machineShape"), QStringLiteral("NvidiaTeslaT4"));
    kernel.insert(QStringLiteral("enableGpu"), true);
    kernel.insert(QStringLiteral("source"), QStringLiteral("print('train one epoch')"));
    kernel.insert(QStringLiteral("startAt"), -7200);
    kernel.insert(QStringLiteral("script"), script);
    const QJsonObject account{{QStringLiteral("username"), kUser},
                              {QStringLiteral("key"), kKey},
                              {QStringLiteral("token"), QStringLiteral("KGAT_alice_token")}};
    const QJsonObject quota{
        // Four days ahead, whatever the weekday: the week must not roll over during the test.
        {QStringLiteral("refreshTime"),
         QDateTime::currentDateTimeUtc().addDays(4).toString(Qt::ISODateWithMs)},
        {QStringLiteral("gpu"), QJsonObject{{QStringLiteral("usedSeconds"), gpuUsedSeconds},
                                            {QStringLiteral("totalSeconds"), 108000},
                                            {QStringLiteral("minimumSeconds"), 108000},
                                            {QStringLiteral("hasEverRun"), true}}}};
    QJsonArray kernels{kernel};
    for (const QJsonValue &k : otherKernels)
        kernels.append(k);
    const QJsonObject world{
        {QStringLiteral("name"), QStringLiteral("chain")},
        {QStringLiteral("options"), QJsonObject{{QStringLiteral("datasetProcessingSeconds"), 5}}},
        {QStringLiteral("accounts"), QJsonArray{account}},
        {QStringLiteral("quota"), quota},
        {QStringLiteral("kernels"), kernels}};
    return QJsonDocument(world).toJson().toStdString();
}

Deck::Settings fastSettings()
{
    Deck::Settings s;
    s.monitor.pollRunningSeconds = 0.1;
    s.monitor.pollQueuedSeconds = 0.2;
    s.monitor.quotaPollSeconds = 1;
    s.monitor.pushGraceSeconds = 30;
    s.monitor.maxBackoffSeconds = 1;
    s.monitor.requestBudgetPerMinute = 100'000;
    s.monitor.followLogs = true;
    s.alertTickSeconds = 1;
    return s;
}

QJsonObject parseObject(const std::string &text)
{
    return QJsonDocument::fromJson(QByteArray::fromStdString(text)).object();
}

QStringList logTexts(const QList<ChainLogEntry> &log)
{
    QStringList texts;
    for (const ChainLogEntry &e : log)
        texts << e.text;
    return texts;
}

bool anyContains(const QStringList &lines, const QString &text)
{
    return std::any_of(lines.cbegin(), lines.cend(),
                       [&](const QString &l) { return l.contains(text); });
}

} // namespace

class TestChain : public QObject
{
    Q_OBJECT

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<sim::Simulator> m_sim;
    std::unique_ptr<net::CurlHttpClient> m_http;
    std::unique_ptr<KaggleClient> m_client;
    std::unique_ptr<Store> m_store;
    std::unique_ptr<Deck> m_deck;
    ChainRunner *m_runner = nullptr; ///< owned by the deck
    QDateTime m_start;

    void openStore()
    {
        m_store.reset();
        auto store = Store::open(m_dir->filePath(QStringLiteral("history.sqlite")));
        QVERIFY2(store.ok(), qPrintable(store.ok() ? QString() : store.error().message));
        m_store = std::move(store).value();
    }
    void makeDeck()
    {
        m_deck =
            std::make_unique<Deck>(m_client.get(), m_store.get(), m_dir->path(), fastSettings());
        LogFollower::Settings ls;
        ls.reconnectDelayMs = 50;
        ls.pollIntervalMs = 100;
        ls.budgetRetryMs = 50;
        m_deck->monitor()->logFollower()->setSettings(ls);
        // The monitor stamps transitions with the simulator's clock, so run durations (GPU
        // hours, the quota rule's expected run) are the virtual ones.
        m_deck->monitor()->setClock([sim = m_sim.get(), start = m_start] {
            return start.addMSecs(qint64(sim->now() * 1000));
        });
        m_runner = m_deck->chains();
        m_deck->start();
    }
    void load(const std::string &json)
    {
        std::string error;
        QVERIFY2(m_sim->loadScenarioJson(json, &error), error.c_str());
    }
    /// Moves the simulator's clock in small steps until `done` holds.
    bool drive(const std::function<bool()> &done, int rounds = 300, double seconds = 10)
    {
        for (int i = 0; i < rounds; ++i) {
            if (done())
                return true;
            m_sim->advance(seconds);
            QTest::qWait(60);
        }
        return done();
    }
    bool settled(ChainId id) const
    {
        const auto s = m_runner->state(id);
        return s == ChainRunner::State::Done || s == ChainRunner::State::Stopped ||
               s == ChainRunner::State::Aborted || s == ChainRunner::State::Paused;
    }
    int pushes() const
    {
        int n = 0;
        for (const auto &r : m_sim->requests())
            n += r.path.find("SaveKernel") != std::string::npos && r.status == 200;
        return n;
    }
    ChainId makeChain(ChainSpec spec)
    {
        spec.kernel = kKernel;
        if (spec.checkpointPattern.isEmpty())
            spec.checkpointPattern = QStringLiteral("checkpoint-*/model.safetensors");
        const auto id = m_runner->create(spec);
        if (!id) {
            qWarning() << id.error().message;
            return 0;
        }
        return *id;
    }
    QString why(ChainId id) const
    {
        return ChainRunner::stateId(m_runner->state(id)) + u": " + m_runner->reason(id) + u"\n" +
               logTexts(m_runner->log(id)).join(u'\n');
    }

private slots:
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
        sim::Options so;
        so.speed = 0;
        so.seed = 7;
        m_sim = std::make_unique<sim::Simulator>(so);
        QVERIFY(m_sim->start());
        // The default scenario start is the wall clock when the simulator was made.
        m_start = QDateTime::currentDateTimeUtc();
        m_http = std::make_unique<net::CurlHttpClient>();
        KaggleClient::Options o;
        o.endpoint = QUrl(QString::fromStdString(m_sim->endpoint()));
        o.backoffBaseMs = 10;
        o.backoffMaxMs = 50;
        o.maxAttempts = 2;
        o.requestTimeoutMs = 5000;
        m_client =
            std::make_unique<KaggleClient>(m_http.get(), Credentials::fromKey(kUser, kKey), o);
        openStore();
    }
    void cleanup()
    {
        m_runner = nullptr;
        m_deck.reset();
        m_store.reset();
        m_client.reset();
        m_http.reset();
        m_sim.reset();
        m_dir.reset();
    }

    void stopRulesRoundTrip()
    {
        ChainStopRules r;
        r.maxRuns = 7;
        r.metric = QStringLiteral("eval_loss");
        r.patience = 2;
        r.quotaRule = false;
        QCOMPARE(ChainStopRules::fromText(r.toText()), r);
        QCOMPARE(ChainStopRules::fromText(QStringLiteral("max_runs=x\nbogus\npatience=-1")),
                 ChainStopRules{});
        for (const auto &n : {ChainRunner::State::Idle, ChainRunner::State::HandingOff,
                              ChainRunner::State::Aborted})
            QCOMPARE(ChainRunner::stateFromId(ChainRunner::stateId(n)), std::optional(n));
    }

    void createValidates()
    {
        load(scenario({step()}));
        makeDeck();
        ChainSpec spec;
        spec.kernel = kKernel;
        QCOMPARE(m_runner->create(spec).error().kind, ApiError::Kind::Invalid);
        spec.checkpointPattern = QStringLiteral("*.pt");
        spec.rules.patience = 2;
        QVERIFY(m_runner->create(spec).error().message.contains(u"metric"));
        QVERIFY(m_store->chains().isEmpty());
    }

    void kernelSourcesChainRunsToDone()
    {
        load(scenario({step(), step(), step()}));
        makeDeck();
        ChainSpec spec;
        spec.name = QStringLiteral("llm epochs");
        spec.rules.maxRuns = 3;
        QSignalSpy states(m_runner, &ChainRunner::stateChanged);
        QSignalSpy logged(m_runner, &ChainRunner::logged);
        const ChainId id = makeChain(spec);
        QVERIFY(id);
        // Created chains are persisted and watched.
        QVERIFY(m_deck->monitor()->runByRef(kKernel));
        QCOMPARE(m_store->chain(id)->state, QStringLiteral("idle"));
        QVERIFY(m_runner->start(id).ok());
        QStringList kernelSourcesPerPush;
        int seenPushes = 0;
        QVERIFY2(drive([&] {
                     if (pushes() > seenPushes) {
                         seenPushes = pushes();
                         const QJsonObject sent = parseObject(m_sim->lastSaveKernelRequest(kRef));
                         QStringList sources;
                         for (const auto &v : sent.value(u"kernelDataSources").toArray())
                             sources << v.toString();
                         kernelSourcesPerPush << sources.join(u',');
                     }
                     return settled(id);
                 }),
                 qPrintable(why(id)));
        QCOMPARE(m_runner->state(id), ChainRunner::State::Done);
        QVERIFY(m_runner->reason(id).contains(u"3 runs"));
        QCOMPARE(pushes(), 3);
        // The first push starts fresh; every later one mounts the kernel's previous output.
        QCOMPARE(kernelSourcesPerPush,
                 (QStringList{QString(), QString::fromLatin1(kRef), QString::fromLatin1(kRef)}));

        const auto steps = m_runner->steps(id);
        QCOMPARE(steps.size(), 3);
        QList<SessionId> sessions;
        for (const ChainStepRecord &s : steps) {
            QCOMPARE(s.state, QStringLiteral("complete"));
            QVERIFY(s.sessionId != 0);
            QVERIFY(s.note.contains(u"checkpoint-epoch1/model.safetensors"));
            sessions << s.sessionId;
            // The session knows its chain and step, for the stitched metric series.
            const auto session = m_store->session(s.sessionId);
            QCOMPARE(session->chainId, id);
            QCOMPARE(session->chainStep, s.step);
            QCOMPARE(session->status, KernelStatus::Complete);
        }
        QCOMPARE(m_runner->sessions(id), sessions);
        QCOMPARE(m_store->chainSteps(id), steps);
        QCOMPARE(m_store->chain(id)->state, QStringLiteral("done"));

        // Every step is in the log (stored and emitted).
        const QStringList log = logTexts(m_runner->log(id));
        for (int n = 1; n <= 3; ++n) {
            QVERIFY2(anyContains(log, QStringLiteral("step %1: committed").arg(n)),
                     qPrintable(log.join(u'\n')));
            QVERIFY(anyContains(log, QStringLiteral("step %1: checkpoint found").arg(n)));
        }
        QVERIFY(anyContains(log, QStringLiteral("handoff through kernel_sources")));
        QCOMPARE(logged.count(), log.size());
        QCOMPARE(states.last().at(1).value<ChainRunner::State>(), ChainRunner::State::Done);

        // Three GPU runs of about two minutes each.
        const double gpu = m_runner->usage(id).gpuSeconds;
        QVERIFY2(gpu >= 3 * 100 && gpu <= 3 * 200, qPrintable(QString::number(gpu)));

        // The chain's metric series stitches the three sessions.
        MetricSeriesModel model;
        model.setStore(m_store.get());
        model.showSessions(m_runner->sessions(id), QStringLiteral("loss"));
        QVERIFY(model.rowCount() > 0);
        QCOMPARE(model.perSessionBest().size(), 3);
    }

    void datasetHandoffVersionsTheChainDataset()
    {
        load(scenario({step(), step(), step()}));
        makeDeck();
        ChainSpec spec;
        spec.handoff = ChainHandoff::Dataset;
        spec.datasetSlug = QStringLiteral("llm-chain-ckpt");
        spec.rules.maxRuns = 3;
        const ChainId id = makeChain(spec);
        QVERIFY(id);
        QVERIFY(m_runner->start(id).ok());
        QStringList datasetSourcesPerPush;
        int seenPushes = 0;
        QVERIFY2(drive([&] {
                     if (pushes() > seenPushes) {
                         seenPushes = pushes();
                         const QJsonObject sent = parseObject(m_sim->lastSaveKernelRequest(kRef));
                         QStringList sources;
                         for (const auto &v : sent.value(u"datasetDataSources").toArray())
                             sources << v.toString();
                         datasetSourcesPerPush << sources.join(u',');
                     }
                     return settled(id);
                 }),
                 qPrintable(why(id)));
        QCOMPARE(m_runner->state(id), ChainRunner::State::Done);
        QCOMPARE(pushes(), 3);
        const QString dataset = QStringLiteral("alice/llm-chain-ckpt");
        QCOMPARE(datasetSourcesPerPush, (QStringList{QString(), dataset, dataset}));
        // Created on the first handoff, versioned on the second.
        QCOMPARE(m_sim->datasetStatus("alice/llm-chain-ckpt"), std::string("READY"));
        QCOMPARE(m_sim->datasetVersionCount("alice/llm-chain-ckpt"), 2);
        QCOMPARE(m_store->chainProgress(id).datasetRef, dataset);
        const QStringList log = logTexts(m_runner->log(id));
        QVERIFY(anyContains(log, QStringLiteral("into the new dataset alice/llm-chain-ckpt")));
        QVERIFY(anyContains(log, QStringLiteral("into a new version of alice/llm-chain-ckpt")));
    }

    void stopsOnAnError()
    {
        load(scenario({step(), step(QStringLiteral("error")), step()}));
        makeDeck();
        ChainSpec spec;
        spec.rules.maxRuns = 3;
        const ChainId id = makeChain(spec);
        QVERIFY(m_runner->start(id).ok());
        QVERIFY2(drive([&] { return settled(id); }), qPrintable(why(id)));
        QCOMPARE(m_runner->state(id), ChainRunner::State::Stopped);
        QVERIFY2(m_runner->reason(id).startsWith(u"step 2 failed: "), qPrintable(why(id)));
        QVERIFY(m_runner->reason(id).contains(u"CUDA out of memory"));
        // Nothing more is pushed, even later.
        for (int i = 0; i < 10; ++i) {
            m_sim->advance(30);
            QTest::qWait(30);
        }
        QCOMPARE(pushes(), 2);
        QCOMPARE(m_runner->steps(id).last().state, QStringLiteral("failed"));
        QCOMPARE(m_store->chain(id)->state, QStringLiteral("stopped"));
        QCOMPARE(m_store->chainProgress(id).reason, m_runner->reason(id));
    }

    void stopsOnItsMetricRule()
    {
        // eval_loss improves on step 2, then overfits: worse on step 3.
        QJsonObject s1 = step(), s2 = step(), s3 = step();
        s1.insert(QStringLiteral("baseLoss"), 2.0);
        s2.insert(QStringLiteral("baseLoss"), 1.0);
        s3.insert(QStringLiteral("baseLoss"), 1.8);
        load(scenario({s1, s2, s3, step(), step()}));
        makeDeck();
        ChainSpec spec;
        spec.rules.maxRuns = 5;
        spec.rules.metric = QStringLiteral("eval_loss");
        spec.rules.patience = 1;
        const ChainId id = makeChain(spec);
        QVERIFY(m_runner->start(id).ok());
        QVERIFY2(drive([&] { return settled(id); }, 300, 5), qPrintable(why(id)));
        QCOMPARE(m_runner->state(id), ChainRunner::State::Done);
        QCOMPARE(m_runner->reason(id), QStringLiteral("eval_loss has not improved for 1 run"));
        QCOMPARE(pushes(), 3);
        MetricSeriesModel model;
        model.setStore(m_store.get());
        model.showSessions(m_runner->sessions(id), QStringLiteral("eval_loss"));
        const QList<double> best = model.perSessionBest();
        QCOMPARE(best.size(), 3);
        QVERIFY(best.at(1) < best.at(0));
        QVERIFY(best.at(2) > best.at(1));
    }

    void pausesOnTheQuotaRule()
    {
        // Two and a half minutes of GPU left: after one two-minute step, not enough for another.
        load(scenario({step(), step(), step()}, 108000 - 150));
        makeDeck();
        ChainSpec spec;
        spec.rules.maxRuns = 3;
        const ChainId id = makeChain(spec);
        QVERIFY(m_runner->start(id).ok());
        QVERIFY2(drive([&] { return settled(id); }), qPrintable(why(id)));
        QCOMPARE(m_runner->state(id), ChainRunner::State::Paused);
        QVERIFY2(m_runner->reason(id).startsWith(u"the GPU quota cannot cover another run before"),
                 qPrintable(why(id)));
        QCOMPARE(pushes(), 1);
    }

    void missingCheckpointStops()
    {
        load(scenario({step(), step()}));
        makeDeck();
        ChainSpec spec;
        spec.checkpointPattern = QStringLiteral("*.pt");
        const ChainId id = makeChain(spec);
        QVERIFY(m_runner->start(id).ok());
        QVERIFY2(drive([&] { return settled(id); }), qPrintable(why(id)));
        QCOMPARE(m_runner->state(id), ChainRunner::State::Stopped);
        QCOMPARE(m_runner->reason(id), QStringLiteral("checkpoint not found: *.pt"));
        QCOMPARE(pushes(), 1);
    }

    void pauseThenResume()
    {
        load(scenario({step(), step()}));
        makeDeck();
        ChainSpec spec;
        spec.rules.maxRuns = 2;
        const ChainId id = makeChain(spec);
        QVERIFY(m_runner->start(id).ok());
        QTRY_COMPARE(m_runner->state(id), ChainRunner::State::Running);
        QVERIFY(m_runner->pause(id).ok());
        QCOMPARE(m_store->chainProgress(id).pending, QStringLiteral("pause"));
        QVERIFY2(drive([&] { return settled(id); }), qPrintable(why(id)));
        QCOMPARE(m_runner->state(id), ChainRunner::State::Paused);
        QCOMPARE(m_runner->reason(id), QStringLiteral("paused by the user after step 1"));
        for (int i = 0; i < 5; ++i) {
            m_sim->advance(30);
            QTest::qWait(30);
        }
        QCOMPARE(pushes(), 1);
        QVERIFY(m_runner->resume(id).ok());
        QVERIFY2(drive([&] { return m_runner->state(id) == ChainRunner::State::Done; }),
                 qPrintable(why(id)));
        QCOMPARE(pushes(), 2);
        QVERIFY(!m_runner->resume(id).ok());
    }

    void abortStopsAfterTheCurrentStep()
    {
        load(scenario({step(), step()}));
        makeDeck();
        ChainSpec spec;
        spec.rules.maxRuns = 2;
        const ChainId id = makeChain(spec);
        QVERIFY(m_runner->start(id).ok());
        QTRY_COMPARE(m_runner->state(id), ChainRunner::State::Running);
        QVERIFY(m_runner->abort(id).ok());
        // The run on Kaggle is not cancelled: it finishes.
        QVERIFY2(drive([&] { return settled(id); }), qPrintable(why(id)));
        QCOMPARE(m_runner->state(id), ChainRunner::State::Aborted);
        QCOMPARE(m_runner->steps(id).first().state, QStringLiteral("complete"));
        QCOMPARE(pushes(), 1);
    }

    void waitsInTheCommitQueueForAGpuSlot()
    {
        // Another GPU run holds the only slot for five minutes.
        QJsonObject other = step();
        other.insert(QStringLiteral("ref"), QStringLiteral("alice/other-gpu"));
        other.insert(QStringLiteral("title"), QStringLiteral("Other GPU"));
        other.insert(QStringLiteral("kernelType"), QStringLiteral("script"));
        other.insert(QStringLiteral("machineShape"), QStringLiteral("NvidiaTeslaT4"));
        other.insert(QStringLiteral("enableGpu"), true);
        other.insert(QStringLiteral("runSeconds"), 300);
        load(scenario({step()}, 3600, {other}));
        m_sim->setMaxGpuSessions(1);
        makeDeck();
        QVERIFY(m_deck->monitor()->watch(QStringLiteral("alice/other-gpu")).ok());
        ChainSpec spec;
        spec.rules.maxRuns = 1;
        const ChainId id = makeChain(spec);
        QVERIFY(m_runner->start(id).ok());
        QTRY_COMPARE(m_runner->state(id), ChainRunner::State::Queued);
        QCOMPARE(m_runner->steps(id).first().state, QStringLiteral("queued"));
        QCOMPARE(m_deck->commitQueue()->pendingCount(), 1);
        QVERIFY2(drive([&] { return settled(id); }), qPrintable(why(id)));
        QCOMPARE(m_runner->state(id), ChainRunner::State::Done);
        QCOMPARE(m_runner->steps(id).first().state, QStringLiteral("complete"));
        QVERIFY(anyContains(logTexts(m_runner->log(id)), QStringLiteral("GPU slot freed up")));
    }

    void restartInTheMiddleResumes()
    {
        load(scenario({step(), step(), step()}));
        makeDeck();
        ChainSpec spec;
        spec.rules.maxRuns = 3;
        const ChainId id = makeChain(spec);
        QVERIFY(m_runner->start(id).ok());
        QVERIFY2(drive([&] {
                     const auto steps = m_runner->steps(id);
                     return steps.size() == 2 && steps.last().sessionId != 0 &&
                            m_sim->kernelStatus(kRef) == "RUNNING";
                 }),
                 qPrintable(why(id)));
        QCOMPARE(pushes(), 2);

        // KaggleDeck closes while step 2 runs; the run ends while it is closed.
        m_runner = nullptr;
        m_deck.reset();
        m_sim->advance(600);
        QCOMPARE(m_sim->kernelStatus(kRef), std::string("COMPLETE"));
        openStore();
        QCOMPARE(m_store->chain(id)->state, QStringLiteral("running"));
        makeDeck();
        QCOMPARE(m_runner->state(id), ChainRunner::State::Running);
        QVERIFY2(drive([&] { return settled(id); }), qPrintable(why(id)));
        QCOMPARE(m_runner->state(id), ChainRunner::State::Done);
        QCOMPARE(pushes(), 3);
        const auto steps = m_runner->steps(id);
        QCOMPARE(steps.size(), 3);
        for (const ChainStepRecord &s : steps)
            QCOMPARE(s.state, QStringLiteral("complete"));
        QVERIFY(anyContains(logTexts(m_runner->log(id)), QStringLiteral("after a restart")));
    }

    /// Closes KaggleDeck as if it died while pushing step 2: the step has no session yet and
    /// notes the version it pushed over. Returns the chain.
    ChainId crashWhilePushingStep2(qint64 versionAdded)
    {
        load(scenario({step(), step(), step()}));
        makeDeck();
        ChainSpec spec;
        spec.rules.maxRuns = 2;
        const ChainId id = makeChain(spec);
        if (!m_runner->start(id).ok())
            return 0;
        if (!drive([&] {
                const auto steps = m_runner->steps(id);
                return steps.size() == 2 && steps.last().sessionId != 0;
            }))
            return 0;
        m_runner = nullptr;
        m_deck.reset();
        // What the store holds when the process dies between SaveKernel and its answer.
        ChainStepRecord pushing = m_store->chainSteps(id).last();
        pushing.sessionId = 0;
        pushing.state = QStringLiteral("committing");
        pushing.note = QStringLiteral("pushing over version %1")
                           .arg(m_sim->kernelVersionCount(kRef) - versionAdded);
        if (!m_store->saveChainStep(pushing).ok())
            return 0;
        ChainRecord record = *m_store->chain(id);
        record.state = QStringLiteral("committing");
        if (!m_store->updateChain(record).ok())
            return 0;
        return id;
    }

    void restartDuringAPushThatWentOutDoesNotPushAgain()
    {
        const ChainId id = crashWhilePushingStep2(1); // Kaggle has the pushed version
        QVERIFY(id);
        QCOMPARE(pushes(), 2);
        openStore();
        makeDeck();
        QVERIFY2(drive([&] { return settled(id); }), qPrintable(why(id)));
        QCOMPARE(m_runner->state(id), ChainRunner::State::Done);
        QCOMPARE(pushes(), 2); // step 2 was not pushed twice
        const auto steps = m_runner->steps(id);
        QCOMPARE(steps.size(), 2);
        QVERIFY(steps.last().sessionId != 0);
        QCOMPARE(steps.last().state, QStringLiteral("complete"));
        QVERIFY2(anyContains(logTexts(m_runner->log(id)), QStringLiteral("went out")),
                 qPrintable(why(id)));
    }

    void restartDuringAPushThatDidNotGoOutPushesIt()
    {
        const ChainId id = crashWhilePushingStep2(0); // Kaggle never got the push
        QVERIFY(id);
        QCOMPARE(pushes(), 2);
        openStore();
        makeDeck();
        QVERIFY2(drive([&] { return settled(id); }), qPrintable(why(id)));
        QCOMPARE(m_runner->state(id), ChainRunner::State::Done);
        QCOMPARE(pushes(), 3);
        QCOMPARE(m_runner->steps(id).size(), 2);
        QVERIFY2(anyContains(logTexts(m_runner->log(id)), QStringLiteral("did not go out")),
                 qPrintable(why(id)));
    }
};

QTEST_GUILESS_MAIN(TestChain)
#include "tst_chain.moc"
