// Every KaggleClient call end to end: libcurl over loopback against the in-process simulator,
// including injected faults.

#include "curlhttpclient.h"
#include "kaggleclient.h"
#include "logformat.h"
#include "simulator.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace kd;

namespace {

const QString kUser = QStringLiteral("alice");
const QString kKey = QStringLiteral("alice-key-123456");
const QString kToken = QStringLiteral("KGAT_alice_token_abcdef");

template <typename T> struct Waiter
{
    std::optional<Result<T>> result;
    KaggleClient::Callback<T> callback()
    {
        return [this](Result<T> r) { result.emplace(std::move(r)); };
    }
    const Result<T> &wait(int ms = 20'000)
    {
        if (!QTest::qWaitFor([this] { return result.has_value(); }, ms))
            qFatal("call did not finish in time");
        return *result;
    }
};

KernelRef ref(const char *text)
{
    return *KernelRef::parse(QString::fromLatin1(text));
}

} // namespace

class TestClientE2E : public QObject
{
    Q_OBJECT

    std::unique_ptr<sim::Simulator> m_sim;
    std::unique_ptr<net::CurlHttpClient> m_http;
    std::unique_ptr<KaggleClient> m_client;

    KaggleClient::Options options() const
    {
        KaggleClient::Options o;
        o.endpoint = QUrl(QString::fromStdString(m_sim->endpoint()));
        o.backoffBaseMs = 20;
        o.backoffMaxMs = 200;
        o.seed = 3;
        return o;
    }

private slots:
    void init()
    {
        sim::Options so;
        so.speed = 0; // the test moves the clock
        so.seed = 42;
        m_sim = std::make_unique<sim::Simulator>(so);
        std::string error;
        QVERIFY2(m_sim->loadScenarioFile(KD_TEST_DATA_DIR "/scenarios/basic.json", &error),
                 error.c_str());
        QVERIFY(m_sim->start("127.0.0.1", 0));
        m_http = std::make_unique<net::CurlHttpClient>();
        m_client = std::make_unique<KaggleClient>(m_http.get(), Credentials::fromKey(kUser, kKey),
                                                  options());
    }
    void cleanup()
    {
        m_client.reset();
        m_http.reset();
        m_sim.reset();
    }

    void authenticateWithTokenFillsUsername()
    {
        CredentialDiscovery d;
        d.credentials = Credentials::fromToken(kToken);
        Waiter<Credentials> w;
        m_client->authenticate(d, nullptr, w.callback());
        const auto &r = w.wait();
        QVERIFY2(r.ok(), qPrintable(r.ok() ? QString() : r.error().message));
        QCOMPARE(r->username(), kUser);
        QCOMPARE(r->kind(), Credentials::Kind::AccessToken);
    }

    void rejectedTokenFallsBackToKey()
    {
        CredentialDiscovery d;
        d.credentials = Credentials::fromToken(QStringLiteral("KGAT_revoked"));
        d.fallback = Credentials::fromKey(kUser, kKey);
        Waiter<Credentials> w;
        m_client->authenticate(d, nullptr, w.callback());
        const auto &r = w.wait();
        QVERIFY(r.ok());
        QCOMPARE(r->kind(), Credentials::Kind::ApiKey);
    }

    void wrongKeyIsAnAuthError()
    {
        m_client->setCredentials(Credentials::fromKey(kUser, QStringLiteral("wrong-key")));
        Waiter<KernelListPage> w;
        m_client->listKernels({}, nullptr, w.callback());
        const auto &r = w.wait();
        QVERIFY(!r.ok());
        QCOMPARE(r.error().kind, ApiError::Kind::Auth);
        QVERIFY(!r.error().message.contains(u"wrong-key"));
    }

    void listAllKernelsFollowsPages()
    {
        ListKernelsRequest request;
        request.pageSize = 1;
        Waiter<QList<KernelMetadata>> w;
        m_client->listAllKernels(request, nullptr, w.callback());
        const auto &r = w.wait();
        QVERIFY2(r.ok(), qPrintable(r.ok() ? QString() : r.error().message));
        int mine = 0; // "my kernels": alice's, not bob's
        for (const std::string &ref : m_sim->kernelRefs())
            mine += ref.rfind("alice/", 0) == 0;
        QCOMPARE(int(r->size()), mine);
        QVERIFY(r->size() >= 3);
        int listCalls = 0;
        for (const auto &rec : m_sim->requests())
            listCalls += rec.path.find("ListKernels") != std::string::npos;
        QCOMPARE(listCalls, int(r->size())); // one page per kernel
    }

    void statusFollowsTheLifecycle()
    {
        const std::string target = m_sim->kernelRefs().front();
        const KernelRef kernel = *KernelRef::parse(QString::fromStdString(target));
        for (int step = 0; step < 200; ++step) {
            Waiter<KernelSessionStatus> w;
            m_client->getKernelSessionStatus(kernel, nullptr, w.callback());
            const auto &r = w.wait();
            QVERIFY2(r.ok(), qPrintable(r.ok() ? QString() : r.error().message));
            QCOMPARE(QString::fromStdString(m_sim->kernelStatus(target)), statusName(r->status));
            if (isTerminal(r->status))
                return;
            m_sim->advance(60);
        }
        QFAIL("the kernel never finished");
    }

    void outputPagesAndLog()
    {
        // Finish every session, then list one kernel's outputs page by page.
        m_sim->advance(24 * 3600);
        for (const std::string &text : m_sim->kernelRefs()) {
            if (text.rfind("alice/", 0) != 0 || m_sim->kernelStatus(text).empty())
                continue; // not ours, or never ran: no session output
            Waiter<KernelOutput> w;
            m_client->listKernelSessionOutput(*KernelRef::parse(QString::fromStdString(text)),
                                              nullptr, w.callback(), 1);
            const auto &r = w.wait();
            QVERIFY2(r.ok(), qPrintable(r.ok() ? QString() : r.error().message));
            const auto log = parseLogArray(r->log.toUtf8());
            QVERIFY(log.ok());
            QVERIFY(log->complete);
            QCOMPARE(size_t(log->events.size()), m_sim->sessionLogEventCount(text));
            for (const OutputFile &f : r->files)
                QVERIFY(f.url.isValid() && !f.fileName.isEmpty());
        }
    }

    void pullReturnsSourceAndMetadata()
    {
        const KernelRef kernel =
            *KernelRef::parse(QString::fromStdString(m_sim->kernelRefs().front()));
        Waiter<KernelPull> w;
        m_client->getKernel(kernel, nullptr, w.callback());
        const auto &r = w.wait();
        QVERIFY2(r.ok(), qPrintable(r.ok() ? QString() : r.error().message));
        QCOMPARE(r->metadata.ref, kernel.toString());
        QVERIFY(!r->blob.source.isEmpty());
    }

    void pushCreatesAKernelAndRuns()
    {
        SaveKernelRequest push;
        push.slug = QStringLiteral("alice/fresh-run");
        push.newTitle = QStringLiteral("Fresh Fine Tune");
        push.text = QStringLiteral("print('hello')");
        push.language = QStringLiteral("python");
        push.kernelType = QStringLiteral("script");
        Waiter<SaveKernelResponse> w;
        m_client->saveKernel(push, nullptr, w.callback());
        const auto &r = w.wait();
        QVERIFY2(r.ok(), qPrintable(r.ok() ? QString() : r.error().message));
        QCOMPARE(r->ref,
                 QStringLiteral("alice/fresh-fine-tune")); // Kaggle derives it from the title
        QCOMPARE(r->versionNumber, qint64(1));
        Waiter<KernelSessionStatus> s;
        m_client->getKernelSessionStatus(ref("alice/fresh-fine-tune"), nullptr, s.callback());
        QVERIFY(s.wait().ok());
    }

    void pushWithMissingSourceNamesTheField()
    {
        SaveKernelRequest push;
        push.slug = QStringLiteral("alice/with-sources");
        push.newTitle = QStringLiteral("With Sources");
        push.text = QStringLiteral("print(1)");
        push.language = QStringLiteral("python");
        push.kernelType = QStringLiteral("script");
        push.datasetDataSources = {QStringLiteral("alice/no-such-dataset")};
        Waiter<SaveKernelResponse> w;
        m_client->saveKernel(push, nullptr, w.callback());
        // Kaggle pushes anyway and lists what it dropped (the CLI prints a notice).
        const auto &r = w.wait();
        QVERIFY2(r.ok(), qPrintable(r.ok() ? QString() : r.error().message));
        QCOMPARE(r->invalidDatasetSources, QStringList{QStringLiteral("alice/no-such-dataset")});
    }

    void gpuConcurrencyLimitIsAnApplicationError()
    {
        ApiError last;
        for (int i = 0; i < 6; ++i) {
            SaveKernelRequest push;
            push.slug = QStringLiteral("alice/gpu-run-%1").arg(i);
            push.newTitle = QStringLiteral("GPU Run Number %1").arg(i);
            push.text = QStringLiteral("print(1)");
            push.language = QStringLiteral("python");
            push.kernelType = QStringLiteral("script");
            push.machineShape = QStringLiteral("NvidiaTeslaT4");
            Waiter<SaveKernelResponse> w;
            m_client->saveKernel(push, nullptr, w.callback());
            if (!w.wait().ok()) {
                last = w.wait().error();
                break;
            }
        }
        QCOMPARE(last.kind, ApiError::Kind::Application);
        QVERIFY2(last.message.startsWith(u"Maximum batch GPU session count of"),
                 qPrintable(last.message));
    }

    void quotaNumbers()
    {
        Waiter<QuotaStatistics> w;
        m_client->getQuota(nullptr, w.callback());
        const auto &r = w.wait();
        QVERIFY2(r.ok(), qPrintable(r.ok() ? QString() : r.error().message));
        QVERIFY(r->gpu.has_value());
        QVERIFY(r->gpu->totalTimeAllowedSeconds > 0);
        QVERIFY(r->gpu->timeUsedSeconds >= 3600.0); // basic.json, plus sessions of this week
        QCOMPARE(r->gpu->totalTimeAllowedSeconds, 108000.0);
        QCOMPARE(
            r->quotaRefreshTime,
            QDateTime::fromString(QStringLiteral("2026-06-06T00:00:00.000Z"), Qt::ISODateWithMs));
    }

    void uploadCreateDatasetAndWaitReady()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("weights.bin"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        QByteArray chunk(1 << 20, 'w');
        for (int i = 0; i < 3; ++i)
            f.write(chunk);
        f.close();

        StartBlobUploadRequest start;
        start.name = QStringLiteral("weights.bin");
        start.contentLength = 3 << 20;
        start.lastModifiedEpochSeconds = 1'700'000'000;
        Waiter<BlobUpload> b;
        m_client->startBlobUpload(start, nullptr, b.callback());
        QVERIFY(b.wait().ok());

        qint64 lastProgress = 0;
        Waiter<Done> u;
        m_client->uploadBlob(
            *b.wait(), path, nullptr, [&](qint64 done, qint64) { lastProgress = done; },
            u.callback());
        QVERIFY2(u.wait().ok(), qPrintable(u.wait().ok() ? QString() : u.wait().error().message));
        QCOMPARE(lastProgress, qint64(3 << 20));

        CreateDatasetRequest create;
        create.ownerSlug = kUser;
        create.slug = QStringLiteral("epoch-one-weights");
        create.title = QStringLiteral("Epoch One Weights");
        create.licenseName = QStringLiteral("CC0-1.0");
        create.files = {{b.wait()->token, QStringLiteral("weights")}};
        Waiter<CreateDatasetResponse> c;
        m_client->createDataset(create, nullptr, c.callback());
        QVERIFY2(c.wait().ok(), qPrintable(c.wait().ok() ? QString() : c.wait().error().message));

        for (int i = 0; i < 100; ++i) {
            Waiter<DatasetStatus> s;
            m_client->getDatasetStatus(kUser, create.slug, nullptr, s.callback());
            QVERIFY(s.wait().ok());
            if (*s.wait() == DatasetStatus::Ready)
                break;
            QVERIFY(*s.wait() != DatasetStatus::Failed);
            m_sim->advance(5);
        }
        Waiter<DatasetStatus> s;
        m_client->getDatasetStatus(kUser, create.slug, nullptr, s.callback());
        QCOMPARE(*s.wait(), DatasetStatus::Ready);

        // Same slug again: Kaggle answers 200 with an error.
        Waiter<CreateDatasetResponse> again;
        m_client->createDataset(create, nullptr, again.callback());
        QVERIFY(!again.wait().ok());
        QCOMPARE(again.wait().error().kind, ApiError::Kind::Application);

        CreateDatasetVersionRequest version;
        version.ownerSlug = kUser;
        version.datasetSlug = create.slug;
        version.versionNotes = QStringLiteral("epoch 2");
        Waiter<BlobUpload> b2;
        m_client->startBlobUpload(start, nullptr, b2.callback());
        Waiter<Done> u2;
        m_client->uploadBlob(*b2.wait(), path, nullptr, {}, u2.callback());
        QVERIFY(u2.wait().ok());
        version.files = {{b2.wait()->token, {}}};
        Waiter<CreateDatasetResponse> v;
        m_client->createDatasetVersion(version, nullptr, v.callback());
        QVERIFY2(v.wait().ok(), qPrintable(v.wait().ok() ? QString() : v.wait().error().message));
    }

    void logStreamLiveThenPersisted()
    {
        // Find a kernel that runs, make it emit some log, then stream it.
        std::string running;
        for (int i = 0; i < 100 && running.empty(); ++i) {
            for (const std::string &r : m_sim->kernelRefs())
                if (m_sim->kernelStatus(r) == "RUNNING")
                    running = r;
            if (running.empty())
                m_sim->advance(5);
        }
        QVERIFY(!running.empty());
        m_sim->advance(10);
        const KernelRef kernel = *KernelRef::parse(QString::fromStdString(running));

        std::optional<bool> live;
        QList<LogEvent> events;
        Waiter<bool> w;
        KaggleClient::LogStreamHandlers h;
        h.onOpen = [&](bool isLive) { live = isLive; };
        h.onEvents = [&](const QList<LogEvent> &e) { events += e; };
        h.onFinished = w.callback();
        const auto id = m_client->streamLogs(kernel, nullptr, h);
        QTRY_VERIFY(live.has_value());
        QVERIFY(*live);
        QTRY_VERIFY(!events.isEmpty());
        m_client->cancel(id);

        // Let the session end; the same URL now answers with the persisted array.
        m_sim->advance(24 * 3600);
        events.clear();
        live.reset();
        Waiter<bool> w2;
        h.onFinished = w2.callback();
        m_client->streamLogs(kernel, nullptr, h);
        const auto &r = w2.wait();
        QVERIFY2(r.ok(), qPrintable(r.ok() ? QString() : r.error().message));
        QVERIFY(*r);
        QCOMPARE(live, std::optional<bool>(false));
        QCOMPARE(size_t(events.size()), m_sim->sessionLogEventCount(running));
    }

    void downloadResumesAfterTruncation()
    {
        m_sim->advance(24 * 3600);
        Waiter<KernelOutput> out;
        m_client->listKernelSessionOutput(ref("alice/bert-imdb"), nullptr, out.callback());
        QVERIFY(out.wait().ok());
        QVERIFY(!out.wait()->files.isEmpty());
        OutputFile biggest = out.wait()->files.first();
        for (const OutputFile &f : out.wait()->files)
            if (f.fileName.endsWith(u"model.safetensors"))
                biggest = f;

        QTemporaryDir dir;
        const QString clean = dir.filePath(QStringLiteral("clean.bin"));
        Waiter<Done> first;
        m_client->downloadFile(biggest.url, clean, nullptr, {}, first.callback());
        QVERIFY2(first.wait().ok(),
                 qPrintable(first.wait().ok() ? QString() : first.wait().error().message));

        sim::Faults faults;
        faults.truncateDownload = 0.6;
        faults.onlyPaths = {"/blob/"};
        m_sim->setFaults(faults);
        m_sim->clearRequests();
        QFile a(clean);
        QVERIFY(a.open(QIODevice::ReadOnly));
        const QByteArray expected = a.readAll();
        int truncated = 0;
        // Each download draws its faults; a few downloads make sure some were cut short.
        for (int i = 0; i < 6 && truncated < 2; ++i) {
            const QString target = dir.filePath(QStringLiteral("resumed-%1.bin").arg(i));
            qint64 lastDone = 0;
            Waiter<Done> w;
            m_client->downloadFile(
                biggest.url, target, nullptr, [&](qint64 done, qint64) { lastDone = done; },
                w.callback(), 20);
            QVERIFY2(w.wait().ok(),
                     qPrintable(w.wait().ok() ? QString() : w.wait().error().message));
            QVERIFY(!QFile::exists(target + QStringLiteral(".part")));
            QFile b(target);
            QVERIFY(b.open(QIODevice::ReadOnly));
            QVERIFY(b.readAll() == expected);
            QCOMPARE(lastDone, qint64(expected.size()));
            truncated = 0;
            for (const auto &r : m_sim->requests())
                truncated += !r.fault.empty();
        }
        QVERIFY2(truncated > 0, "the fault never fired");
    }

    void downloadRetriesServerErrors()
    {
        m_sim->advance(24 * 3600);
        Waiter<KernelOutput> out;
        m_client->listKernelSessionOutput(ref("alice/bert-imdb"), nullptr, out.callback());
        QVERIFY(out.wait().ok());
        QVERIFY(!out.wait()->files.isEmpty());
        const OutputFile file = out.wait()->files.first();

        // Half of the storage answers are 5xx or 429: the download goes on until it is whole.
        sim::Faults faults;
        faults.http5xx = 0.3;
        faults.http429 = 0.2;
        faults.retryAfterSeconds = 0;
        faults.onlyPaths = {"/blob/"};
        m_sim->setFaults(faults);
        m_sim->clearRequests();
        QTemporaryDir dir;
        int refused = 0;
        for (int i = 0; i < 4 && refused == 0; ++i) {
            const QString target = dir.filePath(QStringLiteral("f-%1.bin").arg(i));
            Waiter<Done> w;
            m_client->downloadFile(file.url, target, nullptr, {}, w.callback(), 20);
            QVERIFY2(w.wait().ok(),
                     qPrintable(w.wait().ok() ? QString() : w.wait().error().message));
            QVERIFY(QFile::exists(target));
            for (const auto &r : m_sim->requests())
                refused += r.status >= 429 ? 1 : 0;
        }
        m_sim->setFaults({});
        QVERIFY2(refused > 0, "the fault never fired");
    }

    // --- faults ----------------------------------------------------------------------------

    void retryAfterHonouredOn429()
    {
        sim::Faults faults;
        faults.http429 = 1.0;
        faults.retryAfterSeconds = 1;
        faults.onlyPaths = {"GetAcceleratorQuotaStatistics"};
        m_sim->setFaults(faults);
        m_sim->clearRequests();
        KaggleClient::Options o = options();
        o.maxAttempts = 2;
        m_client =
            std::make_unique<KaggleClient>(m_http.get(), Credentials::fromKey(kUser, kKey), o);
        Waiter<QuotaStatistics> w;
        m_client->getQuota(nullptr, w.callback());
        const auto &r = w.wait();
        QVERIFY(!r.ok());
        QCOMPARE(r.error().kind, ApiError::Kind::RateLimited);
        const auto recs = m_sim->requests();
        QCOMPARE(recs.size(), size_t(2));
        QVERIFY2(recs[1].realTime - recs[0].realTime >= 0.95,
                 "the second attempt did not wait for Retry-After");
    }

    void readsRetriedOn5xx()
    {
        sim::Faults faults;
        faults.http5xx = 0.5;
        faults.onlyPaths = {"GetKernelSessionStatus"};
        m_sim->setFaults(faults);
        m_sim->clearRequests();
        const KernelRef kernel =
            *KernelRef::parse(QString::fromStdString(m_sim->kernelRefs().front()));
        int ok = 0;
        for (int i = 0; i < 10; ++i) {
            Waiter<KernelSessionStatus> w;
            m_client->getKernelSessionStatus(kernel, nullptr, w.callback());
            ok += w.wait().ok();
        }
        int faulted = 0;
        for (const auto &rec : m_sim->requests())
            faulted += !rec.fault.empty();
        QVERIFY(faulted > 0);
        QVERIFY2(ok >= 9, "retries should hide most 50% 5xx faults");
        QCOMPARE(m_sim->requests().size(), size_t(10 + faulted));
    }

    void pushNotRetriedOn5xx()
    {
        sim::Faults faults;
        faults.http5xx = 1.0;
        faults.onlyPaths = {"SaveKernel"};
        m_sim->setFaults(faults);
        m_sim->clearRequests();
        SaveKernelRequest push;
        push.slug = QStringLiteral("alice/x");
        push.newTitle = QStringLiteral("Never Retried");
        push.text = QStringLiteral("print(1)");
        Waiter<SaveKernelResponse> w;
        m_client->saveKernel(push, nullptr, w.callback());
        QCOMPARE(w.wait().error().kind, ApiError::Kind::Server);
        QTest::qWait(300);
        QCOMPARE(m_sim->requests().size(), size_t(1));
    }

    void malformedBodiesGiveTypedErrors()
    {
        sim::Faults faults;
        faults.malformed = 1.0;
        m_sim->setFaults(faults);
        Waiter<KernelListPage> w;
        m_client->listKernels({}, nullptr, w.callback());
        QCOMPARE(w.wait().error().kind, ApiError::Kind::Protocol);
        Waiter<QuotaStatistics> q;
        m_client->getQuota(nullptr, q.callback());
        QCOMPARE(q.wait().error().kind, ApiError::Kind::Protocol);
    }

    void connectionResetsAreNetworkErrors()
    {
        sim::Faults faults;
        faults.reset = 1.0;
        m_sim->setFaults(faults);
        Waiter<KernelListPage> w;
        m_client->listKernels({}, nullptr, w.callback());
        QVERIFY(!w.wait().ok());
        QVERIFY(w.wait().error().kind == ApiError::Kind::Network ||
                w.wait().error().kind == ApiError::Kind::Protocol);
    }

    void refusedConnectionIsANetworkError()
    {
        const QUrl endpoint = options().endpoint;
        m_sim->stop();
        Waiter<KernelListPage> w;
        m_client->listKernels({}, nullptr, w.callback());
        QCOMPARE(w.wait().error().kind, ApiError::Kind::Network);
        Q_UNUSED(endpoint);
    }
};

QTEST_GUILESS_MAIN(TestClientE2E)
#include "tst_client_e2e.moc"
