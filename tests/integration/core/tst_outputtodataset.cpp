// Output -> Dataset end to end: libcurl over loopback against the in-process simulator
// (basic.json, frozen clock moved with advance()), with the failure paths of the actions issue:
// interrupted uploads and truncated downloads resume, a taken slug and a failed creation are
// explained, hostile names are refused, a full disk stops the job before any upload, cancel
// keeps the partial files, and bad settings are refused before any request.

#include "curlhttpclient.h"
#include "kaggleclient.h"
#include "outputtransfer.h"
#include "simulator.h"
#include "store.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <sys/resource.h>

using namespace kd;

namespace {

const QString kUser = QStringLiteral("alice");
const QString kKey = QStringLiteral("alice-key-123456");
const KernelRef kBert{QStringLiteral("alice"), QStringLiteral("bert-imdb")};

QByteArray readAll(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

QStringList partFiles(const QString &dir)
{
    QStringList out;
    QDirIterator it(dir, {QStringLiteral("*.part")}, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext())
        out << it.next();
    return out;
}

int countRequests(const sim::Simulator &sim, const char *pathPart)
{
    int n = 0;
    for (const auto &r : sim.requests())
        n += r.path.find(pathPart) != std::string::npos;
    return n;
}

// Restores the file size limit even when a check fails half-way.
struct FileSizeLimit
{
    rlimit saved{};
    bool active = false;
    explicit FileSizeLimit(rlim_t bytes)
    {
        if (getrlimit(RLIMIT_FSIZE, &saved) != 0)
            return;
        rlimit limited = saved;
        limited.rlim_cur = bytes;
        active = setrlimit(RLIMIT_FSIZE, &limited) == 0;
    }
    ~FileSizeLimit()
    {
        if (active)
            setrlimit(RLIMIT_FSIZE, &saved);
    }
};

} // namespace

class TestOutputToDataset : public QObject
{
    Q_OBJECT

    std::unique_ptr<sim::Simulator> m_sim;
    std::unique_ptr<net::CurlHttpClient> m_http;
    std::unique_ptr<KaggleClient> m_client;
    std::unique_ptr<QTemporaryDir> m_tmp;
    std::unique_ptr<OutputToDataset> m_job;
    std::optional<Result<QString>> m_result;
    int m_finishedCount = 0;
    int m_attachCount = 0;
    QList<OutputToDataset::State> m_states;

    OutputToDataset::Options jobOptions() const
    {
        OutputToDataset::Options o;
        o.dataDir = m_tmp->path();
        o.pollInitialMs = 20;
        o.pollMaxMs = 100;
        o.processingTimeoutMs = 20'000;
        return o;
    }

    void newJob()
    {
        m_job = std::make_unique<OutputToDataset>(m_client.get(), jobOptions());
        m_result.reset();
        m_finishedCount = 0;
        m_attachCount = 0;
        m_states.clear();
        connect(m_job.get(), &OutputToDataset::finished, this, [this](const Result<QString> &r) {
            m_result.emplace(r);
            ++m_finishedCount;
        });
        connect(m_job.get(), &OutputToDataset::readyForAttach, this, [this] { ++m_attachCount; });
        connect(m_job.get(), &OutputToDataset::stateChanged, this,
                [this](OutputToDataset::State s) {
                    m_states << s;
                    // The frozen clock moves only when we say: let Kaggle "process" the upload.
                    if (s == OutputToDataset::State::Processing)
                        m_sim->advance(10);
                });
    }

    const Result<QString> &waitFinished(int ms = 60'000)
    {
        if (!QTest::qWaitFor([this] { return m_result.has_value(); }, ms))
            qFatal("the transfer did not finish in time");
        return *m_result;
    }

    OutputToDatasetRequest newDataset(const QString &slug) const
    {
        OutputToDatasetRequest r;
        r.source = kBert;
        r.target = DatasetTargetKind::NewDataset;
        r.title = QStringLiteral("BERT IMDB epoch one");
        r.slug = slug;
        r.license = QStringLiteral("cc0-1.0"); // the CLI accepts any case
        r.isPrivate = true;
        r.selection.mode = OutputSelection::Mode::Glob;
        r.selection.pattern = QStringLiteral("checkpoint-epoch1/**");
        return r;
    }

    QString message() const
    {
        return m_result && !m_result->ok() ? m_result->error().message : QString();
    }

    void checkUploadedMatchesLocal()
    {
        for (const TransferFile &f : m_job->files()) {
            QVERIFY2(!f.token.isEmpty(), qPrintable(f.name));
            const auto uploaded = m_sim->uploadedBytes(f.token.toStdString());
            QVERIFY(uploaded.has_value());
            const QByteArray local = readAll(f.localPath);
            QCOMPARE(qint64(local.size()), f.size);
            QVERIFY2(QByteArray::fromStdString(*uploaded) == local, qPrintable(f.name));
        }
    }

private slots:
    void initTestCase()
    {
        // A write past RLIMIT_FSIZE must fail with EFBIG, not kill the test (diskFull).
        std::signal(SIGXFSZ, SIG_IGN);
    }

    void init()
    {
        sim::Options so;
        so.speed = 0;
        so.seed = 42;
        m_sim = std::make_unique<sim::Simulator>(so);
        std::string error;
        QVERIFY2(m_sim->loadScenarioFile(KD_TEST_DATA_DIR "/scenarios/basic.json", &error),
                 error.c_str());
        QVERIFY(m_sim->start("127.0.0.1", 0));
        m_sim->advance(24 * 3600); // every run is over, with its outputs
        m_http = std::make_unique<net::CurlHttpClient>();
        KaggleClient::Options o;
        o.endpoint = QUrl(QString::fromStdString(m_sim->endpoint()));
        o.backoffBaseMs = 20;
        o.backoffMaxMs = 200;
        o.seed = 3;
        m_client =
            std::make_unique<KaggleClient>(m_http.get(), Credentials::fromKey(kUser, kKey), o);
        m_tmp = std::make_unique<QTemporaryDir>();
        QVERIFY(m_tmp->isValid());
        newJob();
        m_sim->clearRequests();
    }

    void cleanup()
    {
        m_job.reset();
        m_client.reset();
        m_http.reset();
        m_sim.reset();
        m_tmp.reset();
    }

    // --- selection (no network) -------------------------------------------------------------

    void selection_data()
    {
        QTest::addColumn<int>("mode");
        QTest::addColumn<QString>("pattern");
        QTest::addColumn<QStringList>("names");
        QTest::addColumn<QStringList>("expected");
        const QStringList glob = {QStringLiteral("checkpoint-epoch1/model.safetensors"),
                                  QStringLiteral("checkpoint-epoch1/optimizer.pt"),
                                  QStringLiteral("checkpoint-epoch1/trainer_state.json")};
        const auto G = int(OutputSelection::Mode::Glob);
        const auto R = int(OutputSelection::Mode::Regex);
        const auto N = int(OutputSelection::Mode::Names);
        QTest::newRow("all") << int(OutputSelection::Mode::All) << QString() << QStringList()
                             << QStringList{QStringLiteral("*")};
        QTest::newRow("glob folder")
            << G << QStringLiteral("checkpoint-epoch1/**") << QStringList() << glob;
        QTest::newRow("glob star does not cross folders")
            << G << QStringLiteral("*.pt") << QStringList() << QStringList();
        QTest::newRow("glob double star anywhere")
            << G << QStringLiteral("**/*.pt") << QStringList()
            << QStringList{QStringLiteral("checkpoint-epoch1/optimizer.pt"),
                           QStringLiteral("checkpoint-epoch2/optimizer.pt")};
        QTest::newRow("glob double star matches top level")
            << G << QStringLiteral("**/submission.csv") << QStringList()
            << QStringList{QStringLiteral("submission.csv")};
        QTest::newRow("glob any checkpoint model")
            << G << QStringLiteral("checkpoint-*/model.safetensors") << QStringList()
            << QStringList{QStringLiteral("checkpoint-epoch1/model.safetensors"),
                           QStringLiteral("checkpoint-epoch2/model.safetensors")};
        QTest::newRow("glob question mark and class")
            << G << QStringLiteral("checkpoint-epoch[2-9]/?odel.safetensors") << QStringList()
            << QStringList{QStringLiteral("checkpoint-epoch2/model.safetensors")};
        QTest::newRow("glob negated class")
            << G << QStringLiteral("checkpoint-epoch[!1]/optimizer.pt") << QStringList()
            << QStringList{QStringLiteral("checkpoint-epoch2/optimizer.pt")};
        QTest::newRow("glob dot is literal")
            << G << QStringLiteral("submission?csv") << QStringList()
            << QStringList{QStringLiteral("submission.csv")};
        QTest::newRow("glob plus is literal")
            << G << QStringLiteral("a+b") << QStringList() << QStringList();
        QTest::newRow("regex searches")
            << R << QStringLiteral("epoch2/.*\\.pt$") << QStringList()
            << QStringList{QStringLiteral("checkpoint-epoch2/optimizer.pt")};
        QTest::newRow("regex csv") << R << QStringLiteral("\\.csv$") << QStringList()
                                   << QStringList{QStringLiteral("submission.csv")};
        QTest::newRow("names keep listing order")
            << N << QString()
            << QStringList{QStringLiteral("submission.csv"),
                           QStringLiteral("checkpoint-epoch1/optimizer.pt"),
                           QStringLiteral("not-there.bin")}
            << QStringList{QStringLiteral("checkpoint-epoch1/optimizer.pt"),
                           QStringLiteral("submission.csv")};
    }

    void selection()
    {
        QFETCH(int, mode);
        QFETCH(QString, pattern);
        QFETCH(QStringList, names);
        QFETCH(QStringList, expected);
        QList<OutputFile> outputs;
        for (int e = 1; e <= 2; ++e)
            for (const char *f : {"model.safetensors", "optimizer.pt", "trainer_state.json"})
                outputs << OutputFile{QUrl(), QStringLiteral("checkpoint-epoch%1/").arg(e) +
                                                  QString::fromLatin1(f)};
        outputs << OutputFile{QUrl(), QStringLiteral("submission.csv")};
        OutputSelection s;
        s.mode = OutputSelection::Mode(mode);
        s.pattern = pattern;
        s.names = names;
        const auto chosen = OutputToDataset::select(outputs, s);
        QVERIFY(chosen.ok());
        QStringList got;
        for (const OutputFile &f : *chosen)
            got << f.fileName;
        if (expected == QStringList{QStringLiteral("*")})
            QCOMPARE(got.size(), outputs.size());
        else
            QCOMPARE(got, expected);
    }

    void invalidRegexIsRefused()
    {
        OutputSelection s;
        s.mode = OutputSelection::Mode::Regex;
        s.pattern = QStringLiteral("checkpoint-(");
        const auto chosen = OutputToDataset::select({}, s);
        QVERIFY(!chosen.ok());
        QCOMPARE(chosen.error().kind, ApiError::Kind::Invalid);
        QVERIFY(chosen.error().message.contains(u"checkpoint-("));
    }

    // --- validation before any request --------------------------------------------------------

    void validationErrorsPerField_data()
    {
        QTest::addColumn<int>("target");
        QTest::addColumn<QString>("title");
        QTest::addColumn<QString>("slug");
        QTest::addColumn<QString>("license");
        QTest::addColumn<QString>("datasetRef");
        QTest::addColumn<QString>("notes");
        QTest::addColumn<QString>("pattern");
        QTest::addColumn<QStringList>("fields");
        const int D = int(DatasetTargetKind::NewDataset);
        const int V = int(DatasetTargetKind::NewVersion);
        const QString okTitle = QStringLiteral("Good title here");
        const QString okSlug = QStringLiteral("good-slug");
        const QString cc0 = QStringLiteral("CC0-1.0");
        QTest::newRow("all three bad")
            << D << QStringLiteral("abc") << QStringLiteral("x") << QStringLiteral("MIT-ish")
            << QString() << QString() << QString()
            << QStringList{QStringLiteral("slug"), QStringLiteral("title"),
                           QStringLiteral("license")};
        QTest::newRow("title too long")
            << D << QString(51, u't') << okSlug << cc0 << QString() << QString() << QString()
            << QStringList{QStringLiteral("title")};
        QTest::newRow("title placeholder")
            << D << QStringLiteral("INSERT_TITLE_HERE") << okSlug << cc0 << QString() << QString()
            << QString() << QStringList{QStringLiteral("title")};
        QTest::newRow("slug placeholder")
            << D << okTitle << QStringLiteral("INSERT_SLUG_HERE") << cc0 << QString() << QString()
            << QString() << QStringList{QStringLiteral("slug")};
        QTest::newRow("slug with owner")
            << D << okTitle << QStringLiteral("alice/good-slug") << cc0 << QString() << QString()
            << QString() << QStringList{QStringLiteral("slug")};
        QTest::newRow("slug too long")
            << D << okTitle << QString(51, u's') << cc0 << QString() << QString() << QString()
            << QStringList{QStringLiteral("slug")};
        QTest::newRow("no licence") << D << okTitle << okSlug << QString() << QString() << QString()
                                    << QString() << QStringList{QStringLiteral("license")};
        QTest::newRow("bad glob") << D << okTitle << okSlug << cc0 << QString() << QString()
                                  << QStringLiteral("(") << QStringList();
        QTest::newRow("bad regex")
            << D << okTitle << okSlug << cc0 << QString() << QString() << QStringLiteral("re:(")
            << QStringList{QStringLiteral("selection")};
        QTest::newRow("version without notes")
            << V << QString() << QString() << QString() << QStringLiteral("alice/imdb-reviews")
            << QStringLiteral("  ") << QString() << QStringList{QStringLiteral("versionNotes")};
        QTest::newRow("version bad ref")
            << V << QString() << QString() << QString() << QStringLiteral("imdb-reviews")
            << QString() << QString()
            << QStringList{QStringLiteral("datasetRef"), QStringLiteral("versionNotes")};
    }

    void validationErrorsPerField()
    {
        QFETCH(int, target);
        QFETCH(QString, title);
        QFETCH(QString, slug);
        QFETCH(QString, license);
        QFETCH(QString, datasetRef);
        QFETCH(QString, notes);
        QFETCH(QString, pattern);
        QFETCH(QStringList, fields);

        OutputToDatasetRequest r;
        r.source = kBert;
        r.target = DatasetTargetKind(target);
        r.title = title;
        r.slug = slug;
        r.license = license;
        r.datasetRef = datasetRef;
        r.versionNotes = notes;
        if (pattern.startsWith(u"re:")) {
            r.selection.mode = OutputSelection::Mode::Regex;
            r.selection.pattern = pattern.mid(3);
        } else if (!pattern.isEmpty()) {
            // A glob is always a valid pattern: "(" is a literal.
            r.selection.mode = OutputSelection::Mode::Glob;
            r.selection.pattern = pattern;
        }

        m_job->start(r);
        if (fields.isEmpty()) {
            // Valid: the job goes to Kaggle. Stop it there.
            QCOMPARE(m_job->state(), OutputToDataset::State::Listing);
            m_job->cancel();
            QCOMPARE(m_job->state(), OutputToDataset::State::Cancelled);
            return;
        }
        // Refused synchronously, before any request.
        QVERIFY(m_result.has_value());
        QVERIFY(!m_result->ok());
        QCOMPARE(m_result->error().kind, ApiError::Kind::Invalid);
        QStringList got;
        for (const QString &d : m_result->error().details)
            got << d.section(u':', 0, 0);
        QCOMPARE(got, fields);
        for (const QString &field : fields)
            QVERIFY2(m_result->error().message.contains(field + u':'), qPrintable(message()));
        QCOMPARE(m_job->state(), OutputToDataset::State::Failed);
        QCOMPARE(m_states, QList<OutputToDataset::State>{OutputToDataset::State::Failed});
        QTest::qWait(50);
        QCOMPARE(m_sim->requests().size(), size_t(0));
        QCOMPARE(m_finishedCount, 1);
        QVERIFY(!m_job->log().isEmpty());
    }

    // --- happy paths --------------------------------------------------------------------------

    void newDatasetBecomesReady()
    {
        QSignalSpy progress(m_job.get(), &OutputToDataset::progress);
        m_job->start(newDataset(QStringLiteral("bert-imdb-epoch1")));
        const auto &r = waitFinished();
        QVERIFY2(r.ok(), qPrintable(message()));
        QCOMPARE(*r, QStringLiteral("alice/bert-imdb-epoch1"));
        using S = OutputToDataset::State;
        QCOMPARE(m_states, (QList<S>{S::Listing, S::Downloading, S::Uploading, S::Creating,
                                     S::Processing, S::Done}));
        QCOMPARE(m_attachCount, 1);
        QCOMPARE(m_finishedCount, 1);

        QCOMPARE(m_sim->datasetStatus("alice/bert-imdb-epoch1"), std::string("READY"));
        QCOMPARE(m_sim->datasetVersionCount("alice/bert-imdb-epoch1"), 1);
        QCOMPARE(m_job->files().size(), 3);
        QStringList names;
        for (const TransferFile &f : m_job->files())
            names << f.name;
        QCOMPARE(names, (QStringList{QStringLiteral("checkpoint-epoch1/model.safetensors"),
                                     QStringLiteral("checkpoint-epoch1/optimizer.pt"),
                                     QStringLiteral("checkpoint-epoch1/trainer_state.json")}));
        // checkpointBytes 65536 in basic.json, + 4096 per epoch (sim/outputfiles.cpp).
        QCOMPARE(m_job->files().at(0).size, qint64(65536 + 4096));
        QCOMPARE(m_job->files().at(1).size, qint64(2 * 65536 + 4096));
        checkUploadedMatchesLocal();

        // The default work folder, with the folder structure kept and no .part left.
        QVERIFY2(m_job->workDir().startsWith(
                     m_tmp->filePath(QStringLiteral("transfers/alice-bert-imdb-epoch1-"))),
                 qPrintable(m_job->workDir()));
        QVERIFY(QFileInfo(m_job->workDir() + QStringLiteral("/checkpoint-epoch1/model.safetensors"))
                    .isFile());
        QCOMPARE(partFiles(m_job->workDir()), QStringList());

        // Progress: both phases reported; the upload ends at exactly all bytes.
        QVERIFY(progress.size() >= 2);
        const qint64 total =
            m_job->files().at(0).size + m_job->files().at(1).size + m_job->files().at(2).size;
        const QList<QVariant> last = progress.last();
        QCOMPARE(last.at(0).toLongLong(), total);
        QCOMPARE(last.at(1).toLongLong(), total);
        bool sawDownload = false;
        for (const auto &p : progress)
            sawDownload |= p.at(3).toString().startsWith(u"Downloading");
        QVERIFY(sawDownload);

        // Every step is in the log.
        const QString log = m_job->log().join(u'\n');
        for (const char *step : {"Listing the outputs", "3 of 7 files chosen", "Downloaded",
                                 "Uploaded", "Creating the private dataset", "Done"})
            QVERIFY2(log.contains(QString::fromLatin1(step)), qPrintable(log));
        QCOMPARE(countRequests(*m_sim, "CreateDataset"), 1);
    }

    void progressCarriesBytesAndEta()
    {
        // Slow answers, so that the rate is sampled a few times during the download.
        sim::Faults faults;
        faults.latencyMs = 300;
        faults.onlyPaths = {"/blob/"};
        m_sim->setFaults(faults);
        QSignalSpy progress(m_job.get(), &OutputToDataset::progress);
        OutputToDatasetRequest r = newDataset(QStringLiteral("with-eta"));
        r.selection.pattern = QStringLiteral("checkpoint-*/**");
        m_job->start(r);
        QVERIFY2(waitFinished().ok(), qPrintable(message()));
        qint64 lastDone = -1;
        bool sawEta = false;
        for (const auto &p : progress) {
            if (!p.at(3).toString().startsWith(u"Downloading"))
                continue;
            const qint64 done = p.at(0).toLongLong();
            const qint64 total = p.at(1).toLongLong();
            QVERIFY2(done >= lastDone, "download progress went backwards");
            lastDone = done;
            if (total > 0)
                QVERIFY(done <= total);
            sawEta |= p.at(2).toInt() >= 0 && total > 0;
        }
        QVERIFY(lastDone > 0);
        QVERIFY2(sawEta, "no ETA during a download of several seconds");
    }

    void newVersionOfExistingDataset()
    {
        QCOMPARE(m_sim->datasetVersionCount("alice/imdb-reviews"), 1);
        OutputToDatasetRequest r;
        r.source = kBert;
        r.target = DatasetTargetKind::NewVersion;
        r.datasetRef = QStringLiteral("alice/imdb-reviews");
        r.versionNotes = QStringLiteral("epoch 2 checkpoint and predictions");
        r.selection.mode = OutputSelection::Mode::Names;
        r.selection.names = {QStringLiteral("checkpoint-epoch2/model.safetensors"),
                             QStringLiteral("submission.csv")};
        m_job->start(r);
        const auto &result = waitFinished();
        QVERIFY2(result.ok(), qPrintable(message()));
        QCOMPARE(*result, QStringLiteral("alice/imdb-reviews"));
        QCOMPARE(m_sim->datasetVersionCount("alice/imdb-reviews"), 2);
        QCOMPARE(m_sim->datasetStatus("alice/imdb-reviews"), std::string("READY"));
        QCOMPARE(m_job->files().size(), 2);
        checkUploadedMatchesLocal();
        QVERIFY(m_job->log().join(u'\n').contains(u"epoch 2 checkpoint and predictions"));
        QCOMPARE(countRequests(*m_sim, "CreateDatasetVersion"), 1);
    }

    void versionOfMissingDatasetFailsEarly()
    {
        OutputToDatasetRequest r;
        r.source = kBert;
        r.target = DatasetTargetKind::NewVersion;
        r.datasetRef = QStringLiteral("alice/no-such-dataset");
        r.versionNotes = QStringLiteral("v2");
        m_job->start(r);
        QVERIFY(!waitFinished().ok());
        QVERIFY2(message().contains(u"not found"), qPrintable(message()));
        QCOMPARE(countRequests(*m_sim, "/blob/"), 0);
        QCOMPARE(countRequests(*m_sim, "StartBlobUpload"), 0);
    }

    void defaultsMakeTheSecondTimeOneClick()
    {
        auto store = Store::open(QStringLiteral(":memory:"));
        QVERIFY(store.ok());
        Store *s = store.value().get();
        const OutputToDatasetDefaults fresh = OutputToDataset::loadDefaults(s, kBert);
        QCOMPARE(fresh.target, DatasetTargetKind::NewDataset);
        QCOMPARE(fresh.license, QStringLiteral("CC0-1.0"));
        QVERIFY(fresh.isPrivate);
        QVERIFY(fresh.datasetSlug.isEmpty());

        OutputToDatasetRequest r = newDataset(QStringLiteral("bert-imdb-ckpt"));
        r.license = QStringLiteral("cc-by-4.0");
        r.isPrivate = false;
        QVERIFY(OutputToDataset::saveDefaults(s, kBert, OutputToDataset::defaultsFrom(r)).ok());

        const OutputToDatasetDefaults d = OutputToDataset::loadDefaults(s, kBert);
        QCOMPARE(d.target, DatasetTargetKind::NewDataset);
        QCOMPARE(d.license, QStringLiteral("CC-BY-4.0"));
        QVERIFY(!d.isPrivate);
        QCOMPARE(d.selectionMode, OutputSelection::Mode::Glob);
        QCOMPARE(d.pattern, QStringLiteral("checkpoint-epoch1/**"));
        QCOMPARE(d.datasetSlug, QStringLiteral("bert-imdb-ckpt"));
        QCOMPARE(d.title, r.title);
        // The slug is remembered per source kernel; the rest is global.
        const OutputToDatasetDefaults other = OutputToDataset::loadDefaults(
            s, KernelRef{QStringLiteral("alice"), QStringLiteral("titanic-baseline")});
        QVERIFY(other.datasetSlug.isEmpty());
        QCOMPARE(other.pattern, d.pattern);

        // After a first dataset, the remembered target becomes "new version of it".
        OutputToDatasetRequest v;
        v.source = kBert;
        v.target = DatasetTargetKind::NewVersion;
        v.datasetRef = QStringLiteral("alice/bert-imdb-ckpt");
        v.versionNotes = QStringLiteral("next epoch");
        v.selection = r.selection;
        QVERIFY(OutputToDataset::saveDefaults(s, kBert, OutputToDataset::defaultsFrom(v)).ok());
        const OutputToDatasetDefaults again = OutputToDataset::loadDefaults(s, kBert);
        QCOMPARE(again.target, DatasetTargetKind::NewVersion);
        QCOMPARE(again.datasetSlug, QStringLiteral("alice/bert-imdb-ckpt"));
    }

    // --- resumable transfers ------------------------------------------------------------------

    void interruptedUploadResumes()
    {
        sim::Faults faults;
        faults.uploadInterruptAfterBytes = 30'000; // every file above this is cut once
        m_sim->setFaults(faults);
        m_job->start(newDataset(QStringLiteral("resumed-upload")));
        const auto &r = waitFinished();
        QVERIFY2(r.ok(), qPrintable(message()));
        QCOMPARE(m_sim->datasetStatus("alice/resumed-upload"), std::string("READY"));
        checkUploadedMatchesLocal();
        int cut = 0;
        int puts = 0;
        for (const auto &rec : m_sim->requests()) {
            if (rec.method == "PUT") {
                ++puts;
                cut += !rec.fault.empty() || rec.status == 0 || rec.status == 308;
            }
        }
        QVERIFY2(cut >= 2, "the two large files should each have been cut and resumed");
        QVERIFY(puts > 3); // more than one PUT per file
    }

    void refusedUploadStartsAreAskedAgain()
    {
        // Every other StartBlobUpload is refused with 429 and Retry-After: a refusal, so the
        // job asks again after the wait instead of failing.
        sim::Faults faults;
        faults.http429 = 0.5;
        faults.retryAfterSeconds = 1;
        faults.onlyPaths = {"StartBlobUpload"};
        m_sim->setFaults(faults);
        m_job->start(newDataset(QStringLiteral("refused-starts")));
        const auto &r = waitFinished();
        m_sim->setFaults({});
        QVERIFY2(r.ok(), qPrintable(message()));
        QCOMPARE(m_sim->datasetStatus("alice/refused-starts"), std::string("READY"));
        int refused = 0;
        for (const auto &rec : m_sim->requests())
            refused += rec.path.find("StartBlobUpload") != std::string::npos && rec.status == 429;
        QVERIFY2(refused > 0, "the fault never fired");
        QVERIFY(message().contains(u"trying again") ||
                m_job->log().join(u'\n').contains(u"trying again"));
    }

    void truncatedDownloadsResume()
    {
        sim::Faults faults;
        faults.truncateDownload = 0.6;
        faults.onlyPaths = {"/blob/"};
        m_sim->setFaults(faults);
        OutputToDatasetRequest r = newDataset(QStringLiteral("resumed-download"));
        r.selection.pattern = QStringLiteral("checkpoint-*/**");
        m_job->start(r);
        const auto &result = waitFinished();
        QVERIFY2(result.ok(), qPrintable(message()));
        int truncated = 0;
        for (const auto &rec : m_sim->requests())
            truncated += rec.fault.find("trunc") != std::string::npos;
        QVERIFY2(truncated > 0, "the fault never fired");
        QCOMPARE(m_job->files().size(), 6);
        for (const TransferFile &f : m_job->files()) {
            if (f.name.endsWith(u"model.safetensors")) {
                const int epoch = f.name.mid(16, 1).toInt();
                QCOMPARE(f.size, qint64(65536 + epoch * 4096));
            }
        }
        QCOMPARE(partFiles(m_job->workDir()), QStringList());
        checkUploadedMatchesLocal();
        QCOMPARE(m_sim->datasetStatus("alice/resumed-download"), std::string("READY"));
    }

    // --- failures -----------------------------------------------------------------------------

    void takenSlugIsExplainedBeforeAnyTransfer()
    {
        m_job->start(newDataset(QStringLiteral("bert-imdb-taken")));
        QVERIFY2(waitFinished().ok(), qPrintable(message()));

        newJob();
        m_sim->clearRequests();
        m_job->start(newDataset(QStringLiteral("bert-imdb-taken")));
        const auto &r = waitFinished();
        QVERIFY(!r.ok());
        QVERIFY2(message().contains(u"already in use"), qPrintable(message()));
        QVERIFY(message().contains(u"alice/bert-imdb-taken"));
        QCOMPARE(r.error().details, QStringList{QStringLiteral("slug: already in use")});
        QCOMPARE(m_job->state(), OutputToDataset::State::Failed);
        QCOMPARE(countRequests(*m_sim, "/blob/"), 0);
        QCOMPARE(countRequests(*m_sim, "StartBlobUpload"), 0);
        QCOMPARE(m_sim->datasetVersionCount("alice/bert-imdb-taken"), 1);
        QCOMPARE(m_attachCount, 0);
    }

    void takenSlugAtCreationSaysBlobsAreUnattached()
    {
        // The slug is taken between our check and the creation (another client was faster):
        // start a job, and create the dataset behind its back while it downloads.
        bool raced = false;
        connect(m_job.get(), &OutputToDataset::stateChanged, this, [&](OutputToDataset::State s) {
            if (s != OutputToDataset::State::Uploading || raced)
                return;
            raced = true;
            auto other = std::make_unique<OutputToDataset>(m_client.get(), jobOptions());
            std::optional<Result<QString>> done;
            connect(other.get(), &OutputToDataset::finished,
                    [&](const Result<QString> &r) { done.emplace(r); });
            connect(other.get(), &OutputToDataset::stateChanged, [this](OutputToDataset::State st) {
                if (st == OutputToDataset::State::Processing)
                    m_sim->advance(10);
            });
            OutputToDatasetRequest r = newDataset(QStringLiteral("raced-slug"));
            r.selection.mode = OutputSelection::Mode::Names;
            r.selection.names = {QStringLiteral("submission.csv")};
            other->start(r);
            if (!QTest::qWaitFor([&] { return done.has_value(); }, 30'000))
                qFatal("the racing transfer did not finish");
        });
        m_job->start(newDataset(QStringLiteral("raced-slug")));
        const auto &r = waitFinished();
        QVERIFY(raced);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().kind, ApiError::Kind::Application);
        QVERIFY2(message().contains(u"already in use"), qPrintable(message()));
        QVERIFY2(message().contains(u"not attached to any dataset"), qPrintable(message()));
        QCOMPARE(r.error().details, QStringList{QStringLiteral("slug: already in use")});
        QCOMPARE(m_sim->datasetVersionCount("alice/raced-slug"), 1); // the other one's
    }

    void creationFailureSaysBlobsAreUnattached()
    {
        sim::Faults faults;
        faults.http5xx = 1.0;
        faults.onlyPaths = {"CreateDataset"};
        m_sim->setFaults(faults);
        m_job->start(newDataset(QStringLiteral("server-broke")));
        const auto &r = waitFinished();
        QVERIFY(!r.ok());
        QVERIFY2(message().contains(u"Creating alice/server-broke failed"), qPrintable(message()));
        QVERIFY2(message().contains(u"3 uploaded file(s) are not attached to any dataset"),
                 qPrintable(message()));
        QCOMPARE(countRequests(*m_sim, "CreateDataset"), 1); // a write is never retried blindly
        QCOMPARE(m_sim->datasetStatus("alice/server-broke"), std::string());
        QCOMPARE(m_states.last(), OutputToDataset::State::Failed);
        QVERIFY(m_job->log().last().contains(u"not attached"));
    }

    void hostileNamesAreRefused()
    {
        // The simulator refuses such names in scenarios, so the list is given directly, with
        // real signed URLs behind the hostile names.
        std::optional<Result<QList<OutputFile>>> listed;
        connect(m_job.get(), &OutputToDataset::outputsListed, this,
                [&](const Result<QList<OutputFile>> &r) { listed.emplace(r); });
        m_job->listOutputs(kBert);
        QTRY_VERIFY_WITH_TIMEOUT(listed.has_value(), 20'000);
        QVERIFY(listed->ok());
        QCOMPARE(listed->value().size(), 7);
        const QUrl url = listed->value().first().url;
        QList<OutputFile> outputs = listed->value();
        const QStringList hostile = {QStringLiteral("../evil.txt"),
                                     QStringLiteral("/tmp/evil-absolute.txt"),
                                     QStringLiteral("checkpoint-epoch1/../../evil2.txt"),
                                     QStringLiteral("..\\evil3.txt"),
                                     QStringLiteral("C:evil4.txt"),
                                     QStringLiteral("evil\n.txt")};
        for (const QString &name : hostile)
            outputs << OutputFile{url, name};

        OutputToDatasetRequest r = newDataset(QStringLiteral("hostile-names"));
        r.selection.mode = OutputSelection::Mode::All;
        r.workDir = m_tmp->filePath(QStringLiteral("work/inner"));
        m_sim->clearRequests();
        m_job->start(r, outputs);
        const auto &result = waitFinished();
        QVERIFY(!result.ok());
        QCOMPARE(result.error().kind, ApiError::Kind::Invalid);
        QCOMPARE(result.error().details.size(), hostile.size());
        QCOMPARE(m_job->refusedNames().size(), hostile.size());
        QVERIFY2(message().contains(u"\"../evil.txt\""), qPrintable(message()));
        QVERIFY2(message().contains(u"nothing was downloaded"), qPrintable(message()));
        QCOMPARE(countRequests(*m_sim, "/blob/"), 0);
        QVERIFY(!QFileInfo::exists(r.workDir)); // not even the folder was made

        // Allowed to skip them: the safe files make the dataset, nothing lands outside.
        newJob();
        r.skipUnsafeNames = true;
        r.selection.mode = OutputSelection::Mode::Glob;
        r.selection.pattern = QStringLiteral("**");
        m_job->start(r, outputs);
        const auto &second = waitFinished();
        QVERIFY2(second.ok(), qPrintable(message()));
        QCOMPARE(m_job->files().size(), 7);
        QCOMPARE(m_job->refusedNames().size(), hostile.size());
        QVERIFY(m_job->log().join(u'\n').contains(u"Skipped: refused output file \"../evil.txt\""));
        const QStringList escaped = {m_tmp->filePath(QStringLiteral("work/evil.txt")),
                                     m_tmp->filePath(QStringLiteral("evil2.txt")),
                                     m_tmp->filePath(QStringLiteral("work/evil2.txt")),
                                     QStringLiteral("/tmp/evil-absolute.txt")};
        for (const QString &path : escaped)
            QVERIFY2(!QFileInfo::exists(path), qPrintable(path));
        QDirIterator it(r.workDir, QDir::Files, QDirIterator::Subdirectories);
        while (it.hasNext())
            QVERIFY2(!it.next().contains(u"evil"), qPrintable(it.filePath()));
        QCOMPARE(m_sim->datasetStatus("alice/hostile-names"), std::string("READY"));
    }

    void fullDiskStopsBeforeAnyUpload()
    {
        OutputToDatasetRequest r = newDataset(QStringLiteral("full-disk"));
        r.workDir = m_tmp->filePath(QStringLiteral("full"));
        {
            // Writes past 40 kB fail with EFBIG, as on a full disk: the first file is 69 kB.
            FileSizeLimit limit(40'000);
            if (!limit.active)
                QSKIP("cannot lower RLIMIT_FSIZE here");
            m_job->start(r);
            waitFinished();
        }
        QVERIFY(!m_result->ok());
        QCOMPARE(m_result->error().kind, ApiError::Kind::Io);
        QVERIFY2(message().contains(u"checkpoint-epoch1/model.safetensors"), qPrintable(message()));
        QVERIFY2(message().contains(u"disk full"), qPrintable(message()));
        QVERIFY2(message().contains(u"Nothing was uploaded"), qPrintable(message()));
        QCOMPARE(countRequests(*m_sim, "StartBlobUpload"), 0);
        QCOMPARE(countRequests(*m_sim, "CreateDataset"), 0);
        QCOMPARE(m_sim->datasetStatus("alice/full-disk"), std::string());
        const QStringList parts = partFiles(r.workDir);
        QCOMPARE(parts.size(), 1);
        QVERIFY(QFileInfo(parts.first()).size() > 0);

        // Space again: the same work folder resumes and completes.
        newJob();
        m_job->start(r);
        QVERIFY2(waitFinished().ok(), qPrintable(message()));
        QVERIFY(m_job->log().join(u'\n').contains(u"Resuming checkpoint-epoch1/model.safetensors"));
        QCOMPARE(m_job->files().at(0).size, qint64(65536 + 4096));
        checkUploadedMatchesLocal();
    }

    void cancelKeepsPartialFiles()
    {
        // Every download breaks off half-way, so the first file sits as a .part for a while.
        sim::Faults faults;
        faults.truncateDownload = 1.0;
        faults.latencyMs = 300; // and each resume waits, so the window is wide
        faults.onlyPaths = {"/blob/"};
        m_sim->setFaults(faults);
        OutputToDatasetRequest r = newDataset(QStringLiteral("cancelled-one"));
        r.workDir = m_tmp->filePath(QStringLiteral("cancel"));
        m_job->start(r);
        QTRY_VERIFY_WITH_TIMEOUT(!partFiles(r.workDir).isEmpty() &&
                                     QFileInfo(partFiles(r.workDir).first()).size() > 0,
                                 20'000);
        QCOMPARE(m_job->state(), OutputToDataset::State::Downloading);
        m_job->cancel();
        QVERIFY(m_result.has_value());
        QCOMPARE(m_result->error().kind, ApiError::Kind::Cancelled);
        QVERIFY(message().contains(u"Cancelled"));
        QCOMPARE(m_job->state(), OutputToDataset::State::Cancelled);
        QCOMPARE(m_states.last(), OutputToDataset::State::Cancelled);
        QTest::qWait(300); // no late callback changes anything
        QCOMPARE(m_finishedCount, 1);
        QCOMPARE(m_job->state(), OutputToDataset::State::Cancelled);
        QCOMPARE(partFiles(r.workDir).size(), 1);
        QCOMPARE(countRequests(*m_sim, "StartBlobUpload"), 0);

        // Resume later with the same folder.
        m_sim->setFaults({});
        newJob();
        m_job->start(r);
        QVERIFY2(waitFinished().ok(), qPrintable(message()));
        QCOMPARE(partFiles(r.workDir), QStringList());
        checkUploadedMatchesLocal();
    }
};

QTEST_GUILESS_MAIN(TestOutputToDataset)
#include "tst_outputtodataset.moc"
