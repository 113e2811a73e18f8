// kaggledeck-cli end to end: the real binary (QProcess) against the simulator on loopback,
// with its store in a temporary --data-dir. Covers every subcommand's help, push (good folder,
// broken folders, the GPU limit and --queue), persistence and the self source it adds to the
// next push, output-to-dataset to a READY dataset (and the remembered target), chains, status
// of several kernels, the exit codes of bad credentials and an unreachable endpoint, that the
// commands without state create no store, and that no key ever reaches the output.

#include "simulator.h"
#include "store.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <sys/types.h>

using namespace kd;

namespace {

const QString kUser = QStringLiteral("alice");
const QString kKey = QStringLiteral("alice-key-123456");
const QString kWrongKey = QStringLiteral("wrong-secret-key-987654");

QString kernelDir(const char *name)
{
    return QStringLiteral(KD_TEST_DATA_DIR "/kernels/") + QLatin1StringView(name);
}

QJsonObject parseObject(const std::string &text)
{
    return QJsonDocument::fromJson(QByteArray::fromStdString(text)).object();
}

struct Outcome
{
    int code = -1;
    QString out;
    QString err;
    QString all() const { return out + err; }
};

} // namespace

class TestCli : public QObject
{
    Q_OBJECT

    std::unique_ptr<QTemporaryDir> m_tmp;
    std::unique_ptr<sim::Simulator> m_sim;
    QString m_dataDir;
    QStringList m_leaks; ///< outputs that contained a key

    QProcessEnvironment baseEnv() const
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        for (const QString &name : env.keys()) {
            if (name.startsWith(u"KAGGLE_"))
                env.remove(name);
        }
        env.insert(QStringLiteral("KAGGLE_API_ENDPOINT"),
                   QString::fromStdString(m_sim->endpoint()));
        env.insert(QStringLiteral("KAGGLE_USERNAME"), kUser);
        env.insert(QStringLiteral("KAGGLE_KEY"), kKey);
        // No real kaggle.json, and no real app data folder, whatever the machine has.
        env.insert(QStringLiteral("KAGGLE_CONFIG_DIR"), m_tmp->filePath(QStringLiteral("kaggle")));
        env.insert(QStringLiteral("XDG_DATA_HOME"), m_tmp->filePath(QStringLiteral("xdg")));
        env.insert(QStringLiteral("HOME"), m_tmp->filePath(QStringLiteral("home")));
        return env;
    }

    Outcome cli(const QStringList &args, bool withDataDir = true,
                std::optional<QProcessEnvironment> env = std::nullopt, int timeoutMs = 90'000)
    {
        QProcess p;
        p.setProcessEnvironment(env ? *env : baseEnv());
        QStringList all;
        if (withDataDir)
            all << QStringLiteral("--data-dir") << m_dataDir;
        all << args;
        p.start(QStringLiteral(KD_CLI_PATH), all);
        Outcome o;
        if (!p.waitForStarted(10'000)) {
            o.err = QStringLiteral("not started: ") + p.errorString();
            return o;
        }
        // The simulator serves on its own threads: blocking here is fine.
        if (!p.waitForFinished(timeoutMs)) {
            p.kill();
            p.waitForFinished(5000);
            o.err = QStringLiteral("timed out");
            return o;
        }
        o.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
        o.out = QString::fromUtf8(p.readAllStandardOutput());
        o.err = QString::fromUtf8(p.readAllStandardError());
        for (const QString &secret : {kKey, kWrongKey}) {
            if (o.all().contains(secret))
                m_leaks << all.join(u' ');
        }
        return o;
    }

    std::unique_ptr<Store> openStore()
    {
        auto store = Store::open(QDir(m_dataDir).filePath(QStringLiteral("kaggledeck.sqlite")));
        if (!store)
            return nullptr;
        return std::move(store).value();
    }

    int saveKernelRequests() const
    {
        int n = 0;
        for (const auto &r : m_sim->requests())
            n += r.path.find("SaveKernel") != std::string::npos;
        return n;
    }

    static QString describe(const Outcome &o)
    {
        return QStringLiteral("exit %1\n--- stdout\n%2\n--- stderr\n%3")
            .arg(o.code)
            .arg(o.out, o.err);
    }

private slots:
    void init()
    {
        m_tmp = std::make_unique<QTemporaryDir>();
        QVERIFY(m_tmp->isValid());
        QDir(m_tmp->path()).mkpath(QStringLiteral("kaggle"));
        QDir(m_tmp->path()).mkpath(QStringLiteral("home"));
        m_dataDir = m_tmp->filePath(QStringLiteral("data"));
        m_leaks.clear();
        sim::Options so;
        so.speed = 0;
        so.seed = 7;
        m_sim = std::make_unique<sim::Simulator>(so);
        std::string error;
        QVERIFY2(m_sim->loadScenarioFile(KD_TEST_DATA_DIR "/scenarios/basic.json", &error),
                 error.c_str());
        QVERIFY(m_sim->start());
        m_sim->setSpeed(0);
    }

    void cleanup()
    {
        if (m_sim)
            m_sim->stop();
        m_sim.reset();
        m_tmp.reset();
        QVERIFY2(m_leaks.isEmpty(), qPrintable(u"a key was printed by: " + m_leaks.join(u'\n')));
    }

    // --- help and usage -------------------------------------------------------------------------

    void helpForEachCommand_data()
    {
        QTest::addColumn<QString>("command");
        QTest::addColumn<QStringList>("mentions");
        QTest::newRow("runs") << QStringLiteral("runs") << QStringList{QStringLiteral("kernels")};
        QTest::newRow("status") << QStringLiteral("status")
                                << QStringList{QStringLiteral("--json")};
        QTest::newRow("quota") << QStringLiteral("quota") << QStringList{QStringLiteral("--json")};
        QTest::newRow("logs") << QStringLiteral("logs") << QStringList{QStringLiteral("--follow")};
        QTest::newRow("push") << QStringLiteral("push")
                              << QStringList{QStringLiteral("--accelerator"),
                                             QStringLiteral("--quick-save"),
                                             QStringLiteral("--queue"), QStringLiteral("--wait"),
                                             QStringLiteral("NvidiaTeslaT4")};
        QTest::newRow("persistence")
            << QStringLiteral("persistence")
            << QStringList{QStringLiteral("files"), QStringLiteral("variables_files"),
                           QStringLiteral("NOT possible for committed runs")};
        QTest::newRow("output-to-dataset")
            << QStringLiteral("output-to-dataset")
            << QStringList{QStringLiteral("--files"),    QStringLiteral("--new"),
                           QStringLiteral("--title"),    QStringLiteral("--license"),
                           QStringLiteral("--public"),   QStringLiteral("--version"),
                           QStringLiteral("--notes"),    QStringLiteral("--attach"),
                           QStringLiteral("--work-dir"), QStringLiteral("Ctrl+C")};
        QTest::newRow("chain")
            << QStringLiteral("chain")
            << QStringList{QStringLiteral("create"),       QStringLiteral("--handoff"),
                           QStringLiteral("--checkpoint"), QStringLiteral("--max-runs"),
                           QStringLiteral("--patience"),   QStringLiteral("--no-quota-rule"),
                           QStringLiteral("watch"),        QStringLiteral("only advances")};
    }
    void helpForEachCommand()
    {
        QFETCH(QString, command);
        QFETCH(QStringList, mentions);
        const Outcome o = cli({command, QStringLiteral("--help")}, false);
        QCOMPARE(o.code, 0);
        QVERIFY2(o.out.startsWith(u"Usage: kaggledeck-cli " + command), qPrintable(o.out));
        for (const QString &m : mentions)
            QVERIFY2(o.out.contains(m), qPrintable(m + u" missing in:\n" + o.out));
        // `help COMMAND` says the same.
        const Outcome h = cli({QStringLiteral("help"), command}, false);
        QCOMPARE(h.code, 0);
        QCOMPARE(h.out, o.out);
        // The general usage names the command.
        const Outcome g = cli({QStringLiteral("--help")}, false);
        QCOMPARE(g.code, 0);
        QVERIFY(g.out.contains(u"\n  " + command));
        // Help needs no store.
        QVERIFY(!QFileInfo::exists(m_dataDir));
    }

    void usageErrorsExitOne()
    {
        QCOMPARE(cli({QStringLiteral("frobnicate")}).code, 1);
        QCOMPARE(cli({}).code, 1);
        QCOMPARE(cli({QStringLiteral("push")}).code, 1);
        QCOMPARE(
            cli({QStringLiteral("push"), kernelDir("good_script"), QStringLiteral("--bogus")}).code,
            1);
        QCOMPARE(cli({QStringLiteral("status"), QStringLiteral("not a ref")}).code, 1);
        QCOMPARE(cli({QStringLiteral("persistence"), QStringLiteral("alice/x"),
                      QStringLiteral("sometimes")})
                     .code,
                 1);
        QCOMPARE(cli({QStringLiteral("chain"), QStringLiteral("show")}).code, 1);
        QCOMPARE(cli({QStringLiteral("chain"), QStringLiteral("list"), QStringLiteral("--kernel"),
                      QStringLiteral("alice/x")})
                     .code,
                 1);
        QCOMPARE(cli({QStringLiteral("output-to-dataset"), QStringLiteral("alice/titanic-baseline"),
                      QStringLiteral("--new"), QStringLiteral("a"), QStringLiteral("--version"),
                      QStringLiteral("alice/b")})
                     .code,
                 1);
        const Outcome v = cli({QStringLiteral("--version")}, false);
        QCOMPARE(v.code, 0);
        QVERIFY(v.out.startsWith(u"kaggledeck-cli "));
        QCOMPARE(saveKernelRequests(), 0);
    }

    // --- push -----------------------------------------------------------------------------------

    void pushGoodFolder()
    {
        const Outcome o = cli({QStringLiteral("push"), kernelDir("good_script")});
        QVERIFY2(o.code == 0, qPrintable(describe(o)));
        QVERIFY2(o.out.contains(u"This run may use up to 12 h of GPU"), qPrintable(o.out));
        QVERIFY2(o.out.contains(u"Pushed alice/deck-script-run version 1"), qPrintable(o.out));

        QFile expectedFile(kernelDir("good_script") + u"/expected_push.json");
        QVERIFY(expectedFile.open(QIODevice::ReadOnly));
        const QJsonObject expected = QJsonDocument::fromJson(expectedFile.readAll()).object();
        QVERIFY(!expected.isEmpty());
        QCOMPARE(parseObject(m_sim->lastSaveKernelRequest("alice/deck-script-run")), expected);
        QCOMPARE(m_sim->kernelStatus("alice/deck-script-run"), std::string("QUEUED"));

        // Watched and tracked in the store the app uses, as a pushed session.
        auto store = openStore();
        QVERIFY(store);
        const QList<WatchedRun> runs = store->runs();
        QCOMPARE(runs.size(), 1);
        QCOMPARE(runs.first().ref.toString(), QStringLiteral("alice/deck-script-run"));
        const QList<SessionRecord> sessions = store->sessions(runs.first().id);
        QCOMPARE(sessions.size(), 1);
        QVERIFY(sessions.first().pushed);
    }

    void pushOptionsChangeTheRequest()
    {
        const Outcome o =
            cli({QStringLiteral("push"), kernelDir("good_script"), QStringLiteral("--accelerator"),
                 QStringLiteral("cpu"), QStringLiteral("--quick-save")});
        QVERIFY2(o.code == 0, qPrintable(describe(o)));
        QVERIFY2(o.out.contains(u"uses no GPU quota"), qPrintable(o.out));
        const QJsonObject sent = parseObject(m_sim->lastSaveKernelRequest("alice/deck-script-run"));
        QCOMPARE(sent.value(u"machineShape").toString(), QString());
        QCOMPARE(sent.value(u"enableGpu").toBool(true), false);
        QCOMPARE(sent.value(u"kernelExecutionType").toString(), QStringLiteral("QUICK_SAVE"));
    }

    void pushBadFolders_data()
    {
        QTest::addColumn<QString>("folder");
        QTest::addColumn<QStringList>("extra");
        QTest::addColumn<QString>("line");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("broken metadata")
            << kernelDir("broken_metadata") << QStringList{}
            << QStringLiteral("kernel-metadata.json: ") << QStringLiteral("line 6");
        QTest::newRow("missing code file")
            << kernelDir("missing_code") << QStringList{} << QStringLiteral("code file: ")
            << QStringLiteral("does_not_exist.py");
        QTest::newRow("unknown machine shape")
            << kernelDir("unknown_shape") << QStringList{} << QStringLiteral("accelerator: ")
            << QStringLiteral("NvidiaGTX1080");
        QTest::newRow("unknown --accelerator")
            << kernelDir("good_script")
            << QStringList{QStringLiteral("--accelerator"), QStringLiteral("NvidiaGTX1080")}
            << QStringLiteral("accelerator: ") << QStringLiteral("NvidiaGTX1080");
        QTest::newRow("no such folder")
            << m_tmpPathPlaceholder() << QStringList{} << QStringLiteral("kernel-metadata.json: ")
            << QStringLiteral("does not exist");
    }
    void pushBadFolders()
    {
        QFETCH(QString, folder);
        QFETCH(QStringList, extra);
        QFETCH(QString, line);
        QFETCH(QString, mentions);
        if (folder == m_tmpPathPlaceholder())
            folder = m_tmp->filePath(QStringLiteral("nowhere"));
        const Outcome o = cli(QStringList{QStringLiteral("push"), folder} + extra);
        QVERIFY2(o.code == 5, qPrintable(describe(o)));
        // One "field: message" line that names the problem.
        bool found = false;
        for (const QString &l : o.err.split(u'\n')) {
            if (l.startsWith(line) && l.contains(mentions))
                found = true;
        }
        QVERIFY2(found, qPrintable(describe(o)));
        QVERIFY(o.err.contains(u"Nothing was pushed"));
        QVERIFY(o.out.isEmpty());
        QCOMPARE(saveKernelRequests(), 0);
        QCOMPARE(m_sim->kernelStatus("alice/deck-script-run"), std::string());
    }

    void gpuLimitFailsOrQueues()
    {
        m_sim->setMaxGpuSessions(1);
        QCOMPARE(m_sim->activeGpuSessions("alice"), 1); // bert-imdb is queued

        Outcome o = cli({QStringLiteral("push"), kernelDir("good_script")});
        QVERIFY2(o.code == 5, qPrintable(describe(o)));
        QVERIFY(o.err.contains(u"Maximum batch GPU session count of 1 reached"));
        QVERIFY(o.err.contains(u"--queue"));
        {
            auto store = openStore();
            QVERIFY(store);
            QVERIFY(store->queuedCommits().isEmpty());
        }

        o = cli({QStringLiteral("push"), kernelDir("good_script"), QStringLiteral("--queue")});
        QVERIFY2(o.code == 0, qPrintable(describe(o)));
        QVERIFY2(o.out.contains(u"Queued alice/deck-script-run"), qPrintable(o.out));
        QVERIFY(o.out.contains(u"when a GPU slot frees up"));
        QCOMPARE(m_sim->kernelStatus("alice/deck-script-run"), std::string());
        auto store = openStore();
        QVERIFY(store);
        const QList<QueuedCommit> queued = store->queuedCommits();
        QCOMPARE(queued.size(), 1);
        QCOMPARE(queued.first().ref, QStringLiteral("alice/deck-script-run"));
        QCOMPARE(queued.first().state, QueuedCommit::State::Pending);
        QCOMPARE(queued.first().machineShape, QStringLiteral("NvidiaTeslaT4"));
    }

    void queuedPushWithWaitIsDispatchedWhenASlotFrees()
    {
        m_sim->setMaxGpuSessions(1);
        QCOMPARE(m_sim->activeGpuSessions("alice"), 1);
        // bert-imdb must be watched for the queue to see its slot free up.
        Outcome o = cli({QStringLiteral("persistence"), QStringLiteral("alice/bert-imdb"),
                         QStringLiteral("none")});
        QVERIFY2(o.code == 0, qPrintable(describe(o)));
        m_sim->setSpeed(50); // bert-imdb queues 10 s and runs 100 s
        o = cli({QStringLiteral("push"), kernelDir("good_script"), QStringLiteral("--queue"),
                 QStringLiteral("--wait")},
                true, std::nullopt, 300'000);
        QVERIFY2(o.code == 0, qPrintable(describe(o)));
        QVERIFY2(o.out.contains(u"Queued alice/deck-script-run"), qPrintable(o.out));
        QVERIFY2(o.out.contains(u"Pushed alice/deck-script-run version 1"), qPrintable(o.out));
        QVERIFY2(o.out.contains(u"alice/deck-script-run: RUNNING") ||
                     o.out.contains(u"alice/deck-script-run: COMPLETE"),
                 qPrintable(o.out));
        QCOMPARE(QJsonDocument::fromJson(QByteArray::fromStdString(
                                             m_sim->lastSaveKernelRequest("alice/deck-script-run")))
                     .object()
                     .value(u"machineShape")
                     .toString(),
                 QStringLiteral("NvidiaTeslaT4"));
        auto store = openStore();
        QVERIFY(store);
        QVERIFY(store->queuedCommits().isEmpty());
    }

    void pushWaitsUntilRunning()
    {
        m_sim->setSpeed(30);
        const Outcome o =
            cli({QStringLiteral("push"), kernelDir("good_script"), QStringLiteral("--wait")});
        QVERIFY2(o.code == 0, qPrintable(describe(o)));
        QVERIFY2(o.out.contains(u"alice/deck-script-run: QUEUED"), qPrintable(o.out));
        QVERIFY2(o.out.contains(u"alice/deck-script-run: RUNNING") ||
                     o.out.contains(u"alice/deck-script-run: COMPLETE"),
                 qPrintable(o.out));
    }

    // --- persistence ----------------------------------------------------------------------------

    void persistenceSetShowAndSelfSource()
    {
        m_sim->setMaxGpuSessions(10);
        Outcome o = cli({QStringLiteral("push"), kernelDir("good_script")});
        QVERIFY2(o.code == 0, qPrintable(describe(o)));
        QVERIFY(parseObject(m_sim->lastSaveKernelRequest("alice/deck-script-run"))
                    .value(u"kernelDataSources")
                    .toArray()
                    .isEmpty());

        o = cli({QStringLiteral("persistence"), QStringLiteral("alice/deck-script-run")});
        QVERIFY2(o.code == 0, qPrintable(describe(o)));
        QVERIFY2(o.out.startsWith(u"alice/deck-script-run: none"), qPrintable(o.out));

        o = cli({QStringLiteral("persistence"), QStringLiteral("alice/deck-script-run"),
                 QStringLiteral("files")});
        QVERIFY2(o.code == 0, qPrintable(describe(o)));
        QVERIFY(o.out.contains(u"public API cannot set"));
        o = cli({QStringLiteral("persistence"), QStringLiteral("alice/deck-script-run")});
        QVERIFY2(o.code == 0, qPrintable(describe(o)));
        QVERIFY2(o.out.startsWith(u"alice/deck-script-run: files (Files only)"), qPrintable(o.out));
        {
            auto store = openStore();
            QVERIFY(store);
            QCOMPARE(store->runs().first().settings.persistence, QStringLiteral("files"));
        }

        // The next push carries the kernel itself as a kernel source.
        o = cli({QStringLiteral("push"), kernelDir("good_script")});
        QVERIFY2(o.code == 0, qPrintable(describe(o)));
        QVERIFY(o.out.contains(u"version 2"));
        QCOMPARE(parseObject(m_sim->lastSaveKernelRequest("alice/deck-script-run"))
                     .value(u"kernelDataSources")
                     .toArray(),
                 QJsonArray{QStringLiteral("alice/deck-script-run")});
    }

    void persistenceVariablesAndUnwatchedKernels()
    {
        // Not watched yet: checked on Kaggle, then watched with the mode.
        Outcome o = cli({QStringLiteral("persistence"), QStringLiteral("alice/titanic-baseline"),
                         QStringLiteral("variables")});
        QVERIFY2(o.code == 0, qPrintable(describe(o)));
        QVERIFY2(o.out.contains(u"Not possible for committed runs"), qPrintable(o.out));
        QVERIFY(o.out.contains(u"fresh Python process"));
        {
            auto store = openStore();
            QVERIFY(store);
            QCOMPARE(store->runs().size(), 1);
            QCOMPARE(store->runs().first().title, QStringLiteral("Titanic Baseline"));
            QCOMPARE(store->runs().first().settings.persistence, QStringLiteral("variables"));
        }
        o = cli({QStringLiteral("persistence"), QStringLiteral("alice/titanic-baseline"),
                 QStringLiteral("variables_files")});
        QVERIFY2(o.code == 0, qPrintable(describe(o)));
        QVERIFY(o.out.contains(u"The variables part is not possible"));

        // A kernel Kaggle does not show is not stored.
        o = cli({QStringLiteral("persistence"), QStringLiteral("bob/secret-work"),
                 QStringLiteral("files")});
        QVERIFY2(o.code == 3, qPrintable(describe(o)));
        QVERIFY(o.err.contains(u"Nothing was stored"));
        auto store = openStore();
        QCOMPARE(store->runs().size(), 1);
    }

    // --- output to dataset ----------------------------------------------------------------------

    void outputToDatasetNewThenRemembered()
    {
        m_sim->setSpeed(20); // lets Kaggle "process" the upload
        Outcome o =
            cli({QStringLiteral("output-to-dataset"), QStringLiteral("alice/titanic-baseline"),
                 QStringLiteral("--new"), QStringLiteral("titanic-out"), QStringLiteral("--title"),
                 QStringLiteral("Titanic outputs")});
        QVERIFY2(o.code == 0, qPrintable(describe(o)));
        QVERIFY2(o.out.contains(u"Dataset alice/titanic-out is ready (2 files)"),
                 qPrintable(describe(o)));
        QCOMPARE(m_sim->datasetStatus("alice/titanic-out"), std::string("READY"));
        QCOMPARE(m_sim->datasetVersionCount("alice/titanic-out"), 1);
        // Progress with bytes and ETA went to stderr, as plain lines (not a terminal).
        QVERIFY2(o.err.contains(u"ETA"), qPrintable(o.err));
        QVERIFY2(o.err.contains(u" KB / ") || o.err.contains(u" B / "), qPrintable(o.err));
        QVERIFY(!o.err.contains(u'\r'));
        // The work folder is under the data dir.
        QVERIFY(QDir(m_dataDir + u"/transfers").exists());

        // The second time needs no options: a new version of the same dataset.
        o = cli({QStringLiteral("output-to-dataset"), QStringLiteral("alice/titanic-baseline"),
                 QStringLiteral("--files"), QStringLiteral("*.csv"), QStringLiteral("--attach"),
                 QStringLiteral("alice/titanic-baseline")});
        QVERIFY2(o.code == 0, qPrintable(describe(o)));
        QVERIFY(o.err.contains(u"remembered target: a new version of alice/titanic-out"));
        QVERIFY2(o.out.contains(u"Dataset alice/titanic-out is ready (1 files)"),
                 qPrintable(describe(o)));
        QCOMPARE(m_sim->datasetVersionCount("alice/titanic-out"), 2);
        // --attach: the kernel was committed with the dataset among its sources.
        QVERIFY2(o.out.contains(u"Pushed alice/titanic-baseline version"), qPrintable(o.out));
        QVERIFY(parseObject(m_sim->lastSaveKernelRequest("alice/titanic-baseline"))
                    .value(u"datasetDataSources")
                    .toArray()
                    .contains(QStringLiteral("alice/titanic-out")));
    }

    void ctrlCCancelsTheTransferAndItResumes()
    {
        m_sim->setSpeed(20);
        sim::Faults stall;
        stall.stall = 1;
        stall.stallMs = 60'000;
        stall.onlyPaths = {"/blob/"}; // the output downloads hang
        m_sim->setFaults(stall);
        const QStringList args = {QStringLiteral("--data-dir"),
                                  m_dataDir,
                                  QStringLiteral("output-to-dataset"),
                                  QStringLiteral("alice/titanic-baseline"),
                                  QStringLiteral("--new"),
                                  QStringLiteral("titanic-resumed"),
                                  QStringLiteral("--title"),
                                  QStringLiteral("Titanic resumed")};
        QProcess p;
        p.setProcessEnvironment(baseEnv());
        p.start(QStringLiteral(KD_CLI_PATH), args);
        QVERIFY(p.waitForStarted(10'000));
        QByteArray err;
        QDeadlineTimer deadline(60'000);
        while (!err.contains("Downloading submission.csv") && !deadline.hasExpired() &&
               p.state() == QProcess::Running) {
            p.waitForReadyRead(200);
            err += p.readAllStandardError();
        }
        QVERIFY2(err.contains("Downloading submission.csv"), err.constData());
        QVERIFY(::kill(pid_t(p.processId()), SIGINT) == 0);
        QVERIFY(p.waitForFinished(30'000));
        err += p.readAllStandardError();
        const QString text = QString::fromUtf8(err);
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);
        QVERIFY2(p.exitCode() == 130, qPrintable(text));
        QVERIFY2(text.contains(u".part files) are kept in"), qPrintable(text));
        QVERIFY(!text.contains(kKey));
        QCOMPARE(m_sim->datasetStatus("alice/titanic-resumed"), std::string());

        // The message names the work folder; --work-dir on it finishes the job.
        const QRegularExpression workDir(QStringLiteral("--work-dir \"([^\"]+)\""));
        const auto match = workDir.match(text);
        QVERIFY2(match.hasMatch(), qPrintable(text));
        QVERIFY(QFileInfo(match.captured(1)).isDir());
        m_sim->setFaults({});
        const Outcome o =
            cli(args.mid(2) + QStringList{QStringLiteral("--work-dir"), match.captured(1)});
        QVERIFY2(o.code == 0, qPrintable(describe(o)));
        QCOMPARE(m_sim->datasetStatus("alice/titanic-resumed"), std::string("READY"));
    }

    void outputToDatasetRefusesBadSettings()
    {
        Outcome o =
            cli({QStringLiteral("output-to-dataset"), QStringLiteral("alice/titanic-baseline"),
                 QStringLiteral("--new"), QStringLiteral("abc"), QStringLiteral("--title"),
                 QStringLiteral("Titanic outputs")});
        QVERIFY2(o.code == 5, qPrintable(describe(o)));
        QVERIFY2(o.err.contains(u"\nslug: "), qPrintable(o.err));
        QVERIFY(o.err.contains(u"Nothing was sent"));
        o = cli({QStringLiteral("output-to-dataset"), QStringLiteral("alice/titanic-baseline"),
                 QStringLiteral("--new"), QStringLiteral("good-slug")});
        QVERIFY2(o.code == 5, qPrintable(describe(o)));
        QVERIFY2(o.err.contains(u"\ntitle: "), qPrintable(o.err));
        // Nothing remembered yet and no target given.
        o = cli({QStringLiteral("output-to-dataset"), QStringLiteral("alice/titanic-baseline")});
        QVERIFY2(o.code == 1, qPrintable(describe(o)));
        QVERIFY(m_sim->datasetRefs().size() == 1); // only the scenario's
        QCOMPARE(m_sim->requests().size(), size_t(0));
    }

    // --- chains ---------------------------------------------------------------------------------

    void chainCreateListShowStart()
    {
        Outcome o = cli({QStringLiteral("chain"), QStringLiteral("list")});
        QVERIFY2(o.code == 0, qPrintable(describe(o)));
        QVERIFY(o.out.isEmpty());

        o = cli({QStringLiteral("chain"), QStringLiteral("create"), QStringLiteral("--kernel"),
                 QStringLiteral("alice/titanic-baseline"), QStringLiteral("--name"),
                 QStringLiteral("epochs"), QStringLiteral("--checkpoint"),
                 QStringLiteral("model.pkl"), QStringLiteral("--max-runs"), QStringLiteral("4"),
                 QStringLiteral("--metric"), QStringLiteral("eval_loss"),
                 QStringLiteral("--patience"), QStringLiteral("2")});
        QVERIFY2(o.code == 0, qPrintable(describe(o)));
        QVERIFY2(o.out.startsWith(u"Created chain 1 (epochs)"), qPrintable(o.out));

        // The rules are checked by the runner.
        o = cli({QStringLiteral("chain"), QStringLiteral("create"), QStringLiteral("--kernel"),
                 QStringLiteral("alice/titanic-baseline"), QStringLiteral("--max-runs"),
                 QStringLiteral("0")});
        QVERIFY2(o.code == 5, qPrintable(describe(o)));
        QVERIFY(o.err.contains(u"at least one run"));
        o = cli({QStringLiteral("chain"), QStringLiteral("create"), QStringLiteral("--kernel"),
                 QStringLiteral("bob/secret-work")});
        QVERIFY2(o.code == 3, qPrintable(describe(o)));

        o = cli({QStringLiteral("chain"), QStringLiteral("list")});
        QVERIFY2(o.code == 0, qPrintable(describe(o)));
        QCOMPARE(o.out.trimmed(),
                 QStringLiteral("1\tidle\talice/titanic-baseline\t0 steps\tepochs"));

        o = cli({QStringLiteral("chain"), QStringLiteral("show"), QStringLiteral("1")});
        QVERIFY2(o.code == 0, qPrintable(describe(o)));
        for (const char *m : {"Chain 1: epochs", "kernel:     alice/titanic-baseline",
                              "handoff:    kernel_sources", "checkpoint: model.pkl",
                              "at most 4 runs", "when eval_loss has not improved for 2 runs",
                              "state:      idle", "total:      ", "Steps:", "Log:", "created"})
            QVERIFY2(o.out.contains(QLatin1StringView(m)),
                     qPrintable(QLatin1StringView(m) + u"\n" + o.out));
        QCOMPARE(cli({QStringLiteral("chain"), QStringLiteral("show"), QStringLiteral("42")}).code,
                 3);

        // start commits the first step and returns.
        const int versions = m_sim->kernelVersionCount("alice/titanic-baseline");
        o = cli({QStringLiteral("chain"), QStringLiteral("start"), QStringLiteral("1")});
        QVERIFY2(o.code == 0, qPrintable(describe(o)));
        QVERIFY2(o.out.contains(u"chain 1: running"), qPrintable(describe(o)));
        QVERIFY(o.err.contains(u"chain watch 1"));
        QCOMPARE(m_sim->kernelVersionCount("alice/titanic-baseline"), versions + 1);
        o = cli({QStringLiteral("chain"), QStringLiteral("show"), QStringLiteral("1")});
        QVERIFY2(o.out.contains(u"state:      running"), qPrintable(o.out));
        QVERIFY2(o.out.contains(QStringLiteral("  %1  running").arg(1, 3)), qPrintable(o.out));

        // pause while a step runs: asked, the step finishes first.
        o = cli({QStringLiteral("chain"), QStringLiteral("pause"), QStringLiteral("1")});
        QVERIFY2(o.code == 0, qPrintable(describe(o)));
        auto store = openStore();
        QVERIFY(store);
        QCOMPARE(store->chains().size(), 1);
        QCOMPARE(store->chainProgress(1).pending, QStringLiteral("pause"));
    }

    void chainWatchRunsTheAutopilotUntilDone()
    {
        m_sim->setSpeed(50);
        Outcome o = cli({QStringLiteral("chain"), QStringLiteral("create"),
                         QStringLiteral("--kernel"), QStringLiteral("alice/titanic-baseline"),
                         QStringLiteral("--max-runs"), QStringLiteral("1")});
        QVERIFY2(o.code == 0, qPrintable(describe(o)));
        o = cli({QStringLiteral("chain"), QStringLiteral("watch"), QStringLiteral("1")});
        QVERIFY2(o.code == 1, qPrintable(describe(o))); // not started yet
        o = cli({QStringLiteral("chain"), QStringLiteral("start"), QStringLiteral("1")});
        QVERIFY2(o.code == 0, qPrintable(describe(o)));
        o = cli({QStringLiteral("chain"), QStringLiteral("watch"), QStringLiteral("1")}, true,
                std::nullopt, 300'000);
        QVERIFY2(o.code == 0, qPrintable(describe(o)));
        QVERIFY2(o.out.contains(u"step 1: the run completed"), qPrintable(describe(o)));
        QVERIFY2(o.out.contains(u"chain 1: done"), qPrintable(describe(o)));
        // Settled: watch returns at once.
        o = cli({QStringLiteral("chain"), QStringLiteral("watch"), QStringLiteral("1")});
        QVERIFY2(o.code == 0, qPrintable(describe(o)));
        QVERIFY(o.out.startsWith(u"chain 1: done"));
    }

    // --- status and failures --------------------------------------------------------------------

    void statusOfSeveralKernels()
    {
        const QStringList refs = {QStringLiteral("alice/bert-imdb"),
                                  QStringLiteral("alice/titanic-baseline"),
                                  QStringLiteral("alice/failing-run")};
        Outcome o = cli(QStringList{QStringLiteral("status")} + refs, false);
        QVERIFY2(o.code == 0, qPrintable(describe(o)));
        for (const QString &ref : refs)
            QVERIFY2(o.out.contains(QStringLiteral("%1 has status \"%2\"")
                                        .arg(ref, QString::fromStdString(
                                                      m_sim->kernelStatus(ref.toStdString())))),
                     qPrintable(o.out));

        o = cli(QStringList{QStringLiteral("status"), QStringLiteral("--json")} + refs, false);
        QVERIFY2(o.code == 0, qPrintable(describe(o)));
        const QJsonArray array = QJsonDocument::fromJson(o.out.toUtf8()).array();
        QCOMPARE(array.size(), 3);
        for (const QJsonValue &v : array) {
            const QString ref = v[u"ref"].toString();
            QCOMPARE(v[u"status"].toString(),
                     QString::fromStdString(m_sim->kernelStatus(ref.toStdString())));
        }

        // One kernel that cannot be seen: the others still print, the exit code says so.
        o = cli({QStringLiteral("status"), QStringLiteral("alice/bert-imdb"),
                 QStringLiteral("bob/secret-work")},
                false);
        QCOMPARE(o.code, 3);
        QVERIFY(o.out.contains(u"alice/bert-imdb has status"));
        QVERIFY(o.err.contains(u"bob/secret-work"));

        // Commands without state create no store, neither --data-dir's nor the app's.
        QVERIFY(!QFileInfo::exists(m_dataDir));
        o = cli({QStringLiteral("status"), QStringLiteral("alice/bert-imdb")}, true);
        QCOMPARE(o.code, 0);
        QVERIFY(!QFileInfo::exists(m_dataDir));
        QVERIFY(!QFileInfo::exists(m_tmp->filePath(QStringLiteral("xdg"))));
    }

    void defaultDataDirIsTheApps()
    {
        const Outcome o = cli({QStringLiteral("persistence"),
                               QStringLiteral("alice/titanic-baseline"), QStringLiteral("files")},
                              false);
        QVERIFY2(o.code == 0, qPrintable(describe(o)));
        // XDG_DATA_HOME/<organization>/<application>, as QStandardPaths gives the app.
        const QString path =
            m_tmp->filePath(QStringLiteral("xdg/KaggleDeck/kaggledeck/kaggledeck.sqlite"));
        QVERIFY2(QFileInfo::exists(path), qPrintable(path));
        QVERIFY(!QFileInfo::exists(m_dataDir));
    }

    void wrongCredentialsExitTwo()
    {
        QProcessEnvironment env = baseEnv();
        env.insert(QStringLiteral("KAGGLE_KEY"), kWrongKey);
        Outcome o = cli({QStringLiteral("status"), QStringLiteral("alice/bert-imdb")}, false, env);
        QVERIFY2(o.code == 2, qPrintable(describe(o)));
        o = cli({QStringLiteral("push"), kernelDir("good_script")}, true, env);
        QVERIFY2(o.code == 2, qPrintable(describe(o)));
        QCOMPARE(m_sim->kernelStatus("alice/deck-script-run"), std::string());
        // No credentials at all.
        env.remove(QStringLiteral("KAGGLE_KEY"));
        env.remove(QStringLiteral("KAGGLE_USERNAME"));
        o = cli({QStringLiteral("quota")}, false, env);
        QVERIFY2(o.code == 2, qPrintable(describe(o)));
    }

    void unreachableEndpointExitsFour()
    {
        // A port that was just free: nothing listens there.
        int port = 0;
        {
            sim::Simulator other;
            QVERIFY(other.start());
            port = other.port();
            other.stop();
        }
        QProcessEnvironment env = baseEnv();
        env.insert(QStringLiteral("KAGGLE_API_ENDPOINT"),
                   QStringLiteral("http://127.0.0.1:%1").arg(port));
        Outcome o = cli({QStringLiteral("status"), QStringLiteral("alice/bert-imdb")}, false, env);
        QVERIFY2(o.code == 4, qPrintable(describe(o)));
        o = cli({QStringLiteral("push"), kernelDir("good_script")}, true, env);
        QVERIFY2(o.code == 4, qPrintable(describe(o)));
    }

private:
    static QString m_tmpPathPlaceholder() { return QStringLiteral("<tmp>/nowhere"); }
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
