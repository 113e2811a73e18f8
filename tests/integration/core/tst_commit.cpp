// Commits end to end against the simulator: folder and pulled drafts, what goes on the wire,
// per-field errors, the GPU concurrency limit and the commit queue (also across a restart),
// and the Files persistence mode (self source and the output mirror).

#include "commitqueue.h"
#include "commitservice.h"
#include "curlhttpclient.h"
#include "kaggleclient.h"
#include "logfollower.h"
#include "persistence.h"
#include "quotamodel.h"
#include "runmonitor.h"
#include "simulator.h"
#include "store.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace kd;

namespace {

const QString kUser = QStringLiteral("alice");
const QString kKey = QStringLiteral("alice-key-123456");

QString kernelDir(const char *name)
{
    return QStringLiteral(KD_TEST_DATA_DIR "/kernels/") + QLatin1StringView(name);
}

MonitorSettings fastSettings()
{
    MonitorSettings s;
    s.pollRunningSeconds = 0.1;
    s.pollQueuedSeconds = 0.2;
    s.quotaPollSeconds = 5;
    s.pushGraceSeconds = 30;
    s.maxBackoffSeconds = 1;
    s.requestBudgetPerMinute = 100'000;
    s.followLogs = false;
    return s;
}

QJsonObject parseObject(const std::string &text)
{
    return QJsonDocument::fromJson(QByteArray::fromStdString(text)).object();
}

bool hasField(const QList<FieldError> &errors, CommitField field)
{
    return std::any_of(errors.cbegin(), errors.cend(),
                       [field](const FieldError &e) { return e.field == field; });
}

} // namespace

class TestCommit : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    std::unique_ptr<sim::Simulator> m_sim;
    std::unique_ptr<net::CurlHttpClient> m_http;
    std::unique_ptr<KaggleClient> m_client;
    std::unique_ptr<Store> m_store;
    std::unique_ptr<RunMonitor> m_monitor;
    std::unique_ptr<CommitService> m_service;

    void openStore()
    {
        m_store.reset();
        auto store = Store::open(m_dir.filePath(QStringLiteral("history.sqlite")));
        QVERIFY2(store.ok(), qPrintable(store.ok() ? QString() : store.error().message));
        m_store = std::move(store).value();
    }
    void makeMonitor()
    {
        m_service.reset();
        m_monitor = std::make_unique<RunMonitor>(m_client.get(), m_store.get(), fastSettings());
        m_service = std::make_unique<CommitService>(m_client.get(), m_monitor.get());
    }
    CommitOutcome commit(const CommitDraft &draft)
    {
        std::optional<CommitOutcome> out;
        m_service->commit(draft, [&](CommitOutcome o) { out = std::move(o); });
        [&] { QTRY_VERIFY_WITH_TIMEOUT(out.has_value(), 10000); }();
        return out.value_or(CommitOutcome{});
    }
    std::optional<CommitDraft> pull(const QString &ref)
    {
        std::optional<Result<CommitDraft>> out;
        m_service->prepareFromKernel(*KernelRef::parse(ref),
                                     [&](Result<CommitDraft> d) { out.emplace(std::move(d)); });
        [&] { QTRY_VERIFY_WITH_TIMEOUT(out.has_value(), 10000); }();
        if (!out || !out->ok())
            return std::nullopt;
        return out->value();
    }
    int saveKernelRequests() const
    {
        int n = 0;
        for (const auto &r : m_sim->requests())
            n += r.path.find("SaveKernel") != std::string::npos;
        return n;
    }
    RunId watchAndSettle(const QString &ref, KernelStatus status)
    {
        const auto id = m_monitor->watch(ref);
        if (!id)
            return 0;
        m_monitor->start();
        [&] {
            QTRY_VERIFY_WITH_TIMEOUT(m_monitor->state(*id)->session.has_value(), 10000);
            QTRY_COMPARE_WITH_TIMEOUT(m_monitor->state(*id)->session->status, status, 10000);
            // The accelerator comes with the metadata fetch that follows watch().
            QTRY_VERIFY_WITH_TIMEOUT(
                m_monitor->state(*id)->run.title != m_monitor->state(*id)->run.ref.slug, 10000);
        }();
        return *id;
    }

private slots:
    void init()
    {
        QVERIFY(m_dir.isValid());
        QFile::remove(m_dir.filePath(QStringLiteral("history.sqlite")));
        QDir(m_dir.filePath(QStringLiteral("data"))).removeRecursively();
        sim::Options so;
        so.speed = 0;
        so.seed = 11;
        m_sim = std::make_unique<sim::Simulator>(so);
        std::string error;
        QVERIFY2(m_sim->loadScenarioFile(KD_TEST_DATA_DIR "/scenarios/basic.json", &error),
                 error.c_str());
        QVERIFY(m_sim->start());
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
        makeMonitor();
    }
    void cleanup()
    {
        m_service.reset();
        m_monitor.reset();
        m_store.reset();
        m_client.reset();
        m_http.reset();
        m_sim.reset();
    }

    void mirrorRefusesHostileNamesFromTheServer()
    {
        // The simulator refuses ".." and absolute names in scenarios; an over-long component
        // still reaches the client as the server sent it.
        const auto output = [](const QString &name, int size) {
            return QJsonObject{{QStringLiteral("name"), name}, {QStringLiteral("size"), size}};
        };
        const QJsonObject kernel{
            {QStringLiteral("ref"), QStringLiteral("alice/hostile-outputs")},
            {QStringLiteral("title"), QStringLiteral("Hostile Outputs")},
            {QStringLiteral("kernelType"), QStringLiteral("script")},
            {QStringLiteral("startAt"), -3600},
            {QStringLiteral("queueSeconds"), 5},
            {QStringLiteral("runSeconds"), 60},
            {QStringLiteral("logStyle"), QStringLiteral("plain")},
            {QStringLiteral("outputs"),
             QJsonArray{output(QStringLiteral("ok/file.bin"), 100),
                        output(QString(300, u'x') + QStringLiteral(".bin"), 10),
                        output(QStringLiteral("logs/train.log"), 5)}}};
        const QJsonObject account{{QStringLiteral("username"), kUser},
                                  {QStringLiteral("key"), kKey},
                                  {QStringLiteral("token"), QStringLiteral("KGAT_alice_token")}};
        const QJsonObject world{{QStringLiteral("name"), QStringLiteral("hostile")},
                                {QStringLiteral("accounts"), QJsonArray{account}},
                                {QStringLiteral("kernels"), QJsonArray{kernel}}};
        const std::string scenario = QJsonDocument(world).toJson().toStdString();
        std::string error;
        QVERIFY2(m_sim->loadScenarioJson(scenario, &error), error.c_str());
        const RunId id =
            watchAndSettle(QStringLiteral("alice/hostile-outputs"), KernelStatus::Complete);
        QVERIFY(id);
        PersistenceMirror mirror(m_client.get(), m_monitor.get(),
                                 m_dir.filePath(QStringLiteral("data")));
        QSignalSpy finished(&mirror, &PersistenceMirror::mirrorFinished);
        mirror.mirror(id, *m_monitor->state(id)->session);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);
        const auto report = finished.first().first().value<PersistenceMirror::Report>();
        QVERIFY2(report.ok(), qPrintable(report.failed.join(u'\n')));
        QCOMPARE(report.refused.size(), 1);
        QVERIFY(report.refused.first().contains(u"bytes long"));
        QStringList got = report.downloaded;
        got.sort();
        QCOMPARE(got,
                 (QStringList{QStringLiteral("logs/train.log"), QStringLiteral("ok/file.bin")}));
        QVERIFY(QFileInfo(report.folder + u"/ok/file.bin").isFile());
        QVERIFY(QFileInfo(report.folder + u"/logs/train.log").isFile());
        // Nothing else was written anywhere under the data folder.
        QDir data(m_dir.filePath(QStringLiteral("data")));
        int files = 0;
        for (QDirIterator it(data.path(), QDir::Files, QDirIterator::Subdirectories); it.hasNext();
             it.next())
            ++files;
        QCOMPARE(files, 2);
    }

    void commitFromFolderSendsWhatTheCliSends()
    {
        const auto draft = m_service->prepareFromFolder(kernelDir("good_script"));
        QVERIFY2(draft.ok(), qPrintable(draft.ok() ? QString() : draft.error().message));
        QVERIFY(CommitService::validate(*draft).isEmpty());
        QSignalSpy added(m_monitor.get(), &RunMonitor::runAdded);
        const CommitOutcome o = commit(*draft);
        QVERIFY2(o.ok(), qPrintable(o.error ? o.error->message : QString()));
        QCOMPARE(o.receipt.ref, QStringLiteral("alice/deck-script-run"));
        QCOMPARE(o.receipt.versionNumber, qint64(1));
        QVERIFY(o.receipt.warnings.isEmpty());

        QFile expectedFile(kernelDir("good_script") + u"/expected_push.json");
        QVERIFY(expectedFile.open(QIODevice::ReadOnly));
        const QJsonObject expected = QJsonDocument::fromJson(expectedFile.readAll()).object();
        QVERIFY(!expected.isEmpty());
        const QJsonObject sent = parseObject(m_sim->lastSaveKernelRequest("alice/deck-script-run"));
        QCOMPARE(sent.keys(), expected.keys());
        QCOMPARE(sent, expected);

        // The run is watched and tracked as a pushed session with the push guard.
        QCOMPARE(added.count(), 1);
        const auto run = m_monitor->runByRef({kUser, QStringLiteral("deck-script-run")});
        QVERIFY(run);
        QCOMPARE(o.receipt.runId, *run);
        const RunState *state = m_monitor->state(*run);
        QVERIFY(state->session);
        QVERIFY(state->session->pushed);
        QCOMPARE(state->session->versionNumber, qint64(1));
        QCOMPARE(state->session->machineShape, QStringLiteral("NvidiaTeslaT4"));
        QCOMPARE(m_store->sessions(*run).size(), 1);
    }

    void newKernelRefComesFromTheTitle()
    {
        const auto draft = m_service->prepareFromFolder(kernelDir("good_notebook"));
        QVERIFY2(draft.ok(), qPrintable(draft.ok() ? QString() : draft.error().message));
        QVERIFY(draft->isNew);
        const CommitOutcome o = commit(*draft);
        QVERIFY2(o.ok(), qPrintable(o.error ? o.error->message : QString()));
        QCOMPARE(o.receipt.ref, QStringLiteral("alice/notebook-from-title"));
        QVERIFY(m_monitor->runByRef({kUser, QStringLiteral("notebook-from-title")}));
        QVERIFY(!m_monitor->runByRef({kUser, QStringLiteral("whatever-slug-i-typed")}));
        const QJsonObject sent =
            parseObject(m_sim->lastSaveKernelRequest("alice/notebook-from-title"));
        QCOMPARE(sent.value(u"slug").toString(), QStringLiteral("alice/whatever-slug-i-typed"));
        QCOMPARE(sent.value(u"isPrivate").toBool(true), false);
        // As the CLI does: code-cell outputs cleared before the push.
        QVERIFY(!sent.value(u"text").toString().contains(u"42\\n"));
        QVERIFY(sent.value(u"text").toString().contains(u"\"outputs\": []"));
    }

    void commitFromWatchedKernelChangesTheAccelerator()
    {
        const RunId id =
            watchAndSettle(QStringLiteral("alice/titanic-baseline"), KernelStatus::Complete);
        QVERIFY(id);
        QCOMPARE(m_store->sessions(id).size(), 1);
        auto draft = pull(QStringLiteral("alice/titanic-baseline"));
        QVERIFY(draft);
        QCOMPARE(draft->origin, CommitDraft::Origin::Kernel);
        QCOMPARE(draft->request.machineShape, QString());
        QVERIFY(draft->request.id.has_value());
        draft.value().setAccelerator(QStringLiteral("NvidiaTeslaT4"));
        draft.value().setTimeoutSeconds(3600);
        const CommitOutcome o = commit(*draft);
        QVERIFY2(o.ok(), qPrintable(o.error ? o.error->message : QString()));
        QCOMPARE(o.receipt.runId, id);
        const QJsonObject sent =
            parseObject(m_sim->lastSaveKernelRequest("alice/titanic-baseline"));
        QCOMPARE(sent.value(u"machineShape").toString(), QStringLiteral("NvidiaTeslaT4"));
        QCOMPARE(sent.value(u"sessionTimeoutSeconds").toInt(), 3600);
        QCOMPARE(sent.value(u"enableGpu").toBool(), true);

        // A new session with the push guard: the API still says COMPLETE for a while.
        QCOMPARE(m_store->sessions(id).size(), 2);
        const SessionRecord s = *m_monitor->state(id)->session;
        QVERIFY(s.pushed);
        QCOMPARE(s.machineShape, QStringLiteral("NvidiaTeslaT4"));
        QCOMPARE(s.timeoutSeconds, 3600);
        // Several polls inside the simulator's stale window (frozen clock) see the old COMPLETE.
        QTest::qWait(600);
        QVERIFY(!m_monitor->state(id)->session->isOver());
        m_sim->advance(5);
        QTest::qWait(600);
        QCOMPARE(m_monitor->state(id)->session->status, KernelStatus::Queued);
        QCOMPARE(m_store->sessions(id).size(), 2);
    }

    void folderErrorsArePerField_data()
    {
        QTest::addColumn<QString>("folder");
        QTest::addColumn<int>("field");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("broken metadata") << kernelDir("broken_metadata")
                                         << int(CommitField::Metadata) << QStringLiteral("line 6");
        QTest::newRow("missing code file") << kernelDir("missing_code") << int(CommitField::Code)
                                           << QStringLiteral("does_not_exist.py");
        QTest::newRow("unknown machine shape")
            << kernelDir("unknown_shape") << int(CommitField::Accelerator)
            << QStringLiteral("NvidiaGTX1080");
    }
    void folderErrorsArePerField()
    {
        QFETCH(QString, folder);
        QFETCH(int, field);
        QFETCH(QString, mentions);
        m_sim->clearRequests();
        const auto draft = m_service->prepareFromFolder(folder);
        QVERIFY(!draft.ok());
        const QList<FieldError> errors = CommitService::fieldErrors(draft.error());
        QCOMPARE(errors.size(), 1);
        QCOMPARE(int(errors.first().field), field);
        QVERIFY2(errors.first().message.contains(mentions), qPrintable(errors.first().message));
        QTest::qWait(100);
        QCOMPARE(saveKernelRequests(), 0);
    }

    void invalidDraftIsNotSent()
    {
        auto draft = m_service->prepareFromFolder(kernelDir("good_script"));
        QVERIFY(draft.ok());
        draft.value().setAccelerator(QStringLiteral("NvidiaGTX1080"));
        draft.value().request.newTitle = QStringLiteral("abc");
        draft.value().request.datasetDataSources << QStringLiteral("not-a-ref");
        draft.value().setTimeoutSeconds(13 * 3600);
        m_sim->clearRequests();
        const CommitOutcome o = commit(*draft);
        QCOMPARE(o.status, CommitOutcome::Status::Invalid);
        QVERIFY(hasField(o.fieldErrors, CommitField::Accelerator));
        QVERIFY(hasField(o.fieldErrors, CommitField::Title));
        QVERIFY(hasField(o.fieldErrors, CommitField::DatasetSources));
        QVERIFY(hasField(o.fieldErrors, CommitField::Timeout));
        QTest::qWait(100);
        QCOMPARE(saveKernelRequests(), 0);

        // The TPU cap is 9 h.
        draft = m_service->prepareFromFolder(kernelDir("good_script"));
        draft.value().setAccelerator(QStringLiteral("TpuV5E8"));
        draft.value().setTimeoutSeconds(10 * 3600);
        QVERIFY(hasField(CommitService::validate(*draft), CommitField::Timeout));
        draft.value().setTimeoutSeconds(9 * 3600);
        QVERIFY(CommitService::validate(*draft).isEmpty());
    }

    void unknownDatasetSourceIsReported()
    {
        auto draft = m_service->prepareFromFolder(kernelDir("good_script"));
        QVERIFY(draft.ok());
        draft.value().request.datasetDataSources << QStringLiteral("alice/no-such-dataset");
        const CommitOutcome o = commit(*draft);
        QVERIFY2(o.ok(), qPrintable(o.error ? o.error->message : QString()));
        QCOMPARE(o.receipt.warnings.size(), 1);
        QCOMPARE(o.receipt.warnings.first().field, CommitField::DatasetSources);
        QVERIFY(o.receipt.warnings.first().message.contains(u"alice/no-such-dataset"));

        // A server that rejects the push instead names the field through the details.
        ApiError rejected =
            ApiError::make(ApiError::Kind::Application,
                           QStringLiteral("One or more data sources are invalid"), 200);
        rejected.details << QStringLiteral("invalidDatasetSources: alice/no-such-dataset")
                         << QStringLiteral("invalidKernelSources: bob/secret-work");
        const auto errors = CommitService::fieldErrors(rejected);
        QCOMPARE(errors.size(), 2);
        QCOMPARE(errors.at(0).field, CommitField::DatasetSources);
        QCOMPARE(errors.at(1).field, CommitField::KernelSources);
    }

    void quotaEffectNamesHoursAndRefresh()
    {
        std::optional<Result<QuotaStatistics>> stats;
        m_client->getQuota(nullptr,
                           [&](Result<QuotaStatistics> r) { stats.emplace(std::move(r)); });
        QTRY_VERIFY(stats.has_value());
        QVERIFY(stats->ok());
        QuotaModel quota;
        // The simulator's clock starts at its scenario's startTime.
        quota.update(stats->value(), {}, {}, {}, {},
                     QDateTime(QDate(2026, 6, 1), QTime(12, 0), Qt::UTC));

        auto draft = m_service->prepareFromFolder(kernelDir("good_script"));
        QVERIFY(draft.ok());
        QuotaEffect e = CommitService::quotaEffect(*draft, &quota);
        QCOMPARE(e.accelerator, Accelerator::Gpu);
        QCOMPARE(e.maxSeconds, 12 * 3600.0);
        QVERIFY(e.remainingSeconds);
        QVERIFY2(e.text.contains(u"up to 12 h of GPU"), qPrintable(e.text));
        QVERIFY2(e.text.contains(u"remain until 2026-06-06"), qPrintable(e.text));
        draft.value().setTimeoutSeconds(5400);
        e = CommitService::quotaEffect(*draft, &quota);
        QCOMPARE(e.maxSeconds, 5400.0);
        QVERIFY2(e.text.contains(u"up to 1.5 h of GPU"), qPrintable(e.text));
        draft.value().setAccelerator(QString());
        e = CommitService::quotaEffect(*draft, &quota);
        QCOMPARE(e.accelerator, Accelerator::None);
        QVERIFY(e.text.contains(u"uses no GPU quota"));
    }

    void concurrencyLimitQueuesThenDispatches()
    {
        m_sim->setMaxGpuSessions(1);
        const RunId bert = watchAndSettle(QStringLiteral("alice/bert-imdb"), KernelStatus::Queued);
        QVERIFY(bert);
        CommitQueue queue(m_service.get(), m_monitor.get(), m_store.get());
        QCOMPARE(queue.activeGpuSessions(), 1);

        const auto draft = m_service->prepareFromFolder(kernelDir("good_script"));
        QVERIFY(draft.ok());
        const CommitOutcome o = commit(*draft);
        QCOMPARE(o.status, CommitOutcome::Status::GpuLimitReached);
        QCOMPARE(o.gpuSessionLimit, 1);
        QVERIFY(o.error->message.contains(u"Maximum batch GPU session count of 1 reached"));

        QSignalSpy changed(&queue, &CommitQueue::queueChanged);
        QSignalSpy dispatched(&queue, &CommitQueue::dispatched);
        QVERIFY(queue.enqueue(*draft, o.gpuSessionLimit).ok());
        QCOMPARE(changed.count(), 1);
        QCOMPARE(queue.pendingCount(), 1);
        QCOMPARE(queue.gpuSessionLimit(), 1);
        QCOMPARE(m_store->queuedCommits().size(), 1);

        m_sim->advance(15);
        QTRY_COMPARE(m_monitor->state(bert)->session->status, KernelStatus::Running);
        QCOMPARE(dispatched.count(), 0); // still no free slot
        QCOMPARE(m_sim->kernelStatus("alice/deck-script-run"), std::string());
        m_sim->advance(200);
        QTRY_COMPARE_WITH_TIMEOUT(dispatched.count(), 1, 10000);
        QCOMPARE(dispatched.first().first().toString(), QStringLiteral("alice/deck-script-run"));
        QCOMPARE(queue.pendingCount(), 0);
        QVERIFY(m_store->queuedCommits().isEmpty());
        QCOMPARE(m_sim->kernelStatus("alice/deck-script-run"), std::string("QUEUED"));
        const auto run = m_monitor->runByRef({kUser, QStringLiteral("deck-script-run")});
        QVERIFY(run);
        QVERIFY(m_monitor->state(*run)->session->pushed);
        QCOMPARE(queue.activeGpuSessions(), 1);
    }

    void queueSurvivesARestart()
    {
        m_sim->setMaxGpuSessions(1);
        QVERIFY(watchAndSettle(QStringLiteral("alice/bert-imdb"), KernelStatus::Queued));
        {
            CommitQueue queue(m_service.get(), m_monitor.get(), m_store.get());
            auto draft = m_service->prepareFromFolder(kernelDir("good_script"));
            QVERIFY(draft.ok());
            draft.value().setTimeoutSeconds(7200);
            const CommitOutcome o = commit(*draft);
            QCOMPARE(o.status, CommitOutcome::Status::GpuLimitReached);
            QVERIFY(queue.enqueue(*draft, o.gpuSessionLimit).ok());
        }
        m_service.reset();
        m_monitor.reset();
        openStore();
        makeMonitor();
        CommitQueue queue(m_service.get(), m_monitor.get(), m_store.get());
        QCOMPARE(queue.items().size(), 1);
        QCOMPARE(queue.items().first().state, QueuedCommit::State::Pending);
        QCOMPARE(queue.items().first().ref, QStringLiteral("alice/deck-script-run"));
        QCOMPARE(queue.gpuSessionLimit(), 1);
        const auto request = CommitQueue::deserialize(queue.items().first().request);
        QVERIFY(request);
        QCOMPARE(request->sessionTimeoutSeconds, 7200);
        QCOMPARE(request->machineShape, QStringLiteral("NvidiaTeslaT4"));

        QSignalSpy dispatched(&queue, &CommitQueue::dispatched);
        m_monitor->start();
        const RunId bert = *m_monitor->runByRef({kUser, QStringLiteral("bert-imdb")});
        m_sim->advance(15);
        QTRY_COMPARE(m_monitor->state(bert)->session->status, KernelStatus::Running);
        m_sim->advance(200);
        QTRY_COMPARE_WITH_TIMEOUT(dispatched.count(), 1, 10000);
        QVERIFY(queue.items().isEmpty());
        const QJsonObject sent = parseObject(m_sim->lastSaveKernelRequest("alice/deck-script-run"));
        QCOMPARE(sent.value(u"sessionTimeoutSeconds").toInt(), 7200);
    }

    void otherErrorsFailTheQueuedItem()
    {
        CommitQueue queue(m_service.get(), m_monitor.get(), m_store.get());
        auto draft = m_service->prepareFromFolder(kernelDir("good_script"));
        QVERIFY(draft.ok());
        draft.value().request.slug = QStringLiteral("bob/public-eda"); // not alice's to push
        draft.value().request.newTitle = QStringLiteral("Public EDA");
        QVERIFY(queue.enqueue(*draft, 2).ok());
        QSignalSpy failed(&queue, &CommitQueue::failed);
        queue.dispatchIfPossible(true);
        QTRY_COMPARE(failed.count(), 1);
        QCOMPARE(failed.first().first().toString(), QStringLiteral("bob/public-eda"));
        QVERIFY(failed.first().at(1).toString().contains(u"permission"));
        QCOMPARE(queue.items().first().state, QueuedCommit::State::Failed);
        QCOMPARE(m_store->queuedCommits().first().state, QueuedCommit::State::Failed);
        QVERIFY(queue.remove(queue.items().first().id).ok());
        QVERIFY(m_store->queuedCommits().isEmpty());
    }

    void queueRowsRoundTripThroughTheStore()
    {
        SaveKernelRequest r;
        r.id = 77;
        r.slug = QStringLiteral("alice/x-kernel");
        r.text = QStringLiteral("print('\u00e9')");
        r.datasetDataSources = {QStringLiteral("alice/a"), QStringLiteral("alice/b")};
        r.enableInternet = false;
        r.sessionTimeoutSeconds = 600;
        r.kernelExecutionType = KernelExecutionType::SaveAndRunAll;
        r.machineShape = QStringLiteral("NvidiaL4");
        const QByteArray blob = CommitQueue::serialize(r);
        const auto back = CommitQueue::deserialize(blob);
        QVERIFY(back);
        QCOMPARE(back->id, std::optional<qint64>(77));
        QCOMPARE(back->slug, r.slug);
        QCOMPARE(back->text, r.text);
        QCOMPARE(back->datasetDataSources, r.datasetDataSources);
        QCOMPARE(back->enableInternet, false);
        QCOMPARE(back->sessionTimeoutSeconds, 600);
        QCOMPARE(back->kernelExecutionType, KernelExecutionType::SaveAndRunAll);
        QCOMPARE(back->machineShape, r.machineShape);
        QVERIFY(!CommitQueue::deserialize(blob.left(blob.size() - 3)));
        QVERIFY(!CommitQueue::deserialize(QByteArray("not a request")));

        const RunId run =
            *m_monitor->watch(QStringLiteral("alice/titanic-baseline"), QStringLiteral("T"));
        QueuedCommit a;
        a.runId = run;
        a.ref = QStringLiteral("alice/titanic-baseline");
        a.request = blob;
        a.createdAt = QDateTime::currentDateTimeUtc().addSecs(-10);
        QueuedCommit b = a;
        b.runId = 0;
        b.ref = QStringLiteral("alice/new-one");
        b.createdAt = a.createdAt.addSecs(-5); // older: first in line
        const auto idA = m_store->addQueuedCommit(a);
        const auto idB = m_store->addQueuedCommit(b);
        QVERIFY(idA.ok() && idB.ok());
        auto rows = m_store->queuedCommits();
        QCOMPARE(rows.size(), 2);
        QCOMPARE(rows.at(0).ref, b.ref);
        QCOMPARE(rows.at(1).request, blob);
        QCOMPARE(rows.at(1).runId, run);
        a.id = *idA;
        a.state = QueuedCommit::State::Failed;
        a.lastError = QStringLiteral("nope");
        QVERIFY(m_store->updateQueuedCommit(a).ok());
        // Forgetting the run keeps the queued push (it does not need the run to be pushed).
        QVERIFY(m_monitor->remove(run).ok());
        rows = m_store->queuedCommits();
        QCOMPARE(rows.at(1).state, QueuedCommit::State::Failed);
        QCOMPARE(rows.at(1).lastError, QStringLiteral("nope"));
        QCOMPARE(rows.at(1).runId, RunId(0));
        QVERIFY(m_store->removeQueuedCommit(*idB).ok());
        QCOMPARE(m_store->removeQueuedCommit(*idB).error().kind, ApiError::Kind::NotFound);
        QCOMPARE(m_store->queuedCommits().size(), 1);
        QueuedCommit dangling = b;
        dangling.runId = 987654;
        QCOMPARE(m_store->addQueuedCommit(dangling).error().kind, ApiError::Kind::NotFound);
    }

    void persistenceTexts()
    {
        QCOMPARE(persistence::allModes().size(), 4);
        for (PersistenceMode m : persistence::allModes())
            QCOMPARE(persistence::fromId(persistence::id(m)), std::optional(m));
        QCOMPARE(persistence::fromId(QString()), std::optional(PersistenceMode::None));
        QVERIFY(!persistence::fromId(QStringLiteral("bogus")));
        QVERIFY(persistence::kaggleNotice().contains(u"interactive sessions"));
        QVERIFY(persistence::kaggleNotice().contains(u"public API cannot set"));
        QVERIFY(!persistence::variablesNotPossibleReason(PersistenceMode::VariablesOnly).isEmpty());
        QVERIFY(persistence::committedRunEffect(PersistenceMode::VariablesOnly)
                    .startsWith(u"Not possible for committed runs"));
        QVERIFY(persistence::variablesNotPossibleReason(PersistenceMode::FilesOnly).isEmpty());
        QVERIFY(persistence::carriesFiles(PersistenceMode::VariablesAndFiles));
        QVERIFY(!persistence::carriesFiles(PersistenceMode::VariablesOnly));
    }

    void filesModeCarriesTheSelfSourceAndMirrorsOutputs()
    {
        const RunId id =
            watchAndSettle(QStringLiteral("alice/titanic-baseline"), KernelStatus::Complete);
        QVERIFY(id);
        RunSettings rs = m_monitor->state(id)->run.settings;
        rs.persistence = persistence::id(PersistenceMode::FilesOnly);
        QVERIFY(m_monitor->setRunSettings(id, rs).ok());
        PersistenceMirror mirror(m_client.get(), m_monitor.get(),
                                 m_dir.filePath(QStringLiteral("data")));
        QSignalSpy finished(&mirror, &PersistenceMirror::mirrorFinished);

        auto draft = pull(QStringLiteral("alice/titanic-baseline"));
        QVERIFY(draft);
        QVERIFY(!draft->request.kernelDataSources.contains(u"alice/titanic-baseline"));
        const CommitOutcome o = commit(*draft);
        QVERIFY2(o.ok(), qPrintable(o.error ? o.error->message : QString()));
        QVERIFY(o.receipt.warnings.isEmpty());
        const QJsonObject sent =
            parseObject(m_sim->lastSaveKernelRequest("alice/titanic-baseline"));
        QCOMPARE(sent.value(u"kernelDataSources").toArray(),
                 QJsonArray{QStringLiteral("alice/titanic-baseline")});

        m_sim->advance(20);
        QTRY_COMPARE(m_monitor->state(id)->session->status, KernelStatus::Running);
        QCOMPARE(finished.count(), 0);
        m_sim->advance(300);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 15000);
        const auto report = finished.first().first().value<PersistenceMirror::Report>();
        QVERIFY(report.ok());
        QVERIFY(report.refused.isEmpty());
        QCOMPARE(report.folder,
                 m_dir.filePath(QStringLiteral("data/mirror/alice/titanic-baseline/v%1")
                                    .arg(o.receipt.versionNumber)));
        QStringList expected;
        for (const std::string &name : m_sim->outputFileNames("alice/titanic-baseline"))
            expected << QString::fromStdString(name);
        QVERIFY(!expected.isEmpty());
        QStringList got = report.downloaded;
        got.sort();
        expected.sort();
        QCOMPARE(got, expected);
        for (const QString &name : expected) {
            QVERIFY2(QFileInfo(report.folder + u'/' + name).isFile(), qPrintable(name));
            QVERIFY(!QFileInfo::exists(report.folder + u'/' + name + u".part"));
        }
    }
};

QTEST_GUILESS_MAIN(TestCommit)
#include "tst_commit.moc"
