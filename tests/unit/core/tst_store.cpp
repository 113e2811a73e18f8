#include "store.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <csignal>
#include <limits>

#include <sys/resource.h>
#include <unistd.h>

using namespace kd;

namespace kd {
// Readable QCOMPARE failures for the domain types.
char *toString(const WatchedRun &r)
{
    return QTest::toString(QStringLiteral("WatchedRun{%1 %2 \"%3\" %4 tags=[%5] chain=%6 added=%7 "
                                          "poll=%8/%9 muted=%10 snooze=%11 stuck=%12 log=[%13] "
                                          "metric=[%14] persistence=%15}")
                               .arg(QString::number(r.id), r.ref.toString(), r.title,
                                    r.machineShape, r.tags.join(u','), QString::number(r.chainId),
                                    r.addedAt.toString(Qt::ISODateWithMs),
                                    QString::number(r.settings.pollRunningSeconds),
                                    QString::number(r.settings.pollQueuedSeconds))
                               .arg(QString::number(int(r.settings.muted)))
                               .arg(r.settings.snoozedUntil.toString(Qt::ISODateWithMs),
                                    QString::number(r.settings.stuckMinutes),
                                    r.settings.logPatterns.join(u'|'),
                                    r.settings.metricPatterns.join(u'|'), r.settings.persistence));
}

char *toString(const SessionRecord &s)
{
    return QTest::toString(
        QStringLiteral(
            "SessionRecord{%1 run=%2 v%3 pushed=%4 %5..%6 %7 \"%8\" %9 %10s chain=%11/%12}")
            .arg(QString::number(s.id), QString::number(s.runId), QString::number(s.versionNumber),
                 QString::number(int(s.pushed)), s.firstSeen.toString(Qt::ISODateWithMs),
                 s.endedAt.toString(Qt::ISODateWithMs), statusName(s.status), s.failureMessage,
                 s.machineShape)
            .arg(s.timeoutSeconds)
            .arg(s.chainId)
            .arg(s.chainStep));
}
} // namespace kd

namespace {

QDateTime utc(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC);
}

const qint64 t0 = 1'700'000'000'123; // 2023-11-14, with milliseconds
const double notANumber = std::numeric_limits<double>::quiet_NaN();
const double infinity = std::numeric_limits<double>::infinity();

QByteArray fileHash(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    QCryptographicHash h(QCryptographicHash::Sha256);
    h.addData(&f);
    return h.result().toHex();
}

/// A plain QtSql connection beside the store: looks at the file as another tool would.
class Raw final
{
public:
    explicit Raw(const QString &path)
        : m_name(QStringLiteral("tst_store.raw.%1").arg(++s_count)),
          m_db(QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_name))
    {
        m_db.setDatabaseName(path);
        m_db.open();
    }
    ~Raw()
    {
        m_db.close();
        m_db = QSqlDatabase();
        QSqlDatabase::removeDatabase(m_name);
    }
    QVariant scalar(const QString &sql, const QVariantList &values = {})
    {
        QSqlQuery q(m_db);
        if (!q.prepare(sql))
            return QString(QStringLiteral("prepare failed: ") + q.lastError().text());
        for (qsizetype i = 0; i < values.size(); ++i)
            q.bindValue(int(i), values.at(i));
        if (!q.exec() || !q.next())
            return QString(QStringLiteral("exec failed: ") + q.lastError().text());
        return q.value(0);
    }
    int count(const QString &sql, const QVariantList &values = {})
    {
        return scalar(sql, values).toInt();
    }
    bool exec(const QString &sql)
    {
        QSqlQuery q(m_db);
        return q.prepare(sql) && q.exec();
    }

private:
    static inline int s_count = 0;
    QString m_name;
    QSqlDatabase m_db;
};

WatchedRun sampleRun(const QString &owner = QStringLiteral("alice"),
                     const QString &slug = QStringLiteral("train"))
{
    WatchedRun r;
    r.ref = {owner, slug};
    r.title = QStringLiteral("Train %1").arg(slug);
    r.machineShape = QStringLiteral("NvidiaTeslaT4");
    r.tags = {QStringLiteral("llm"), QStringLiteral("lora")};
    r.addedAt = utc(t0);
    r.settings.logPatterns = {QStringLiteral("CUDA out of memory")};
    return r;
}

SessionRecord sampleSession(RunId run, qint64 firstSeen)
{
    SessionRecord s;
    s.runId = run;
    s.versionNumber = 3;
    s.pushed = true;
    s.firstSeen = utc(firstSeen);
    s.status = KernelStatus::Running;
    s.machineShape = QStringLiteral("NvidiaTeslaP100");
    s.timeoutSeconds = 3600;
    return s;
}

MetricPoint point(SessionId session, const QString &series, double value, double logTime,
                  double epoch = notANumber, qint64 step = -1)
{
    MetricPoint p;
    p.sessionId = session;
    p.series = series;
    p.value = value;
    p.logTime = logTime;
    p.epoch = epoch;
    p.step = step;
    return p;
}

// NaN never equals itself, so "the same" for doubles means both NaN or equal.
bool sameDouble(double a, double b)
{
    return (std::isnan(a) && std::isnan(b)) || a == b;
}

bool samePoint(const MetricPoint &a, const MetricPoint &b)
{
    return a.sessionId == b.sessionId && a.series == b.series && sameDouble(a.value, b.value) &&
           sameDouble(a.logTime, b.logTime) && sameDouble(a.epoch, b.epoch) && a.step == b.step;
}

bool sameAccelerator(const std::optional<AcceleratorQuota> &a,
                     const std::optional<AcceleratorQuota> &b)
{
    if (a.has_value() != b.has_value())
        return false;
    if (!a)
        return true;
    return a->timeUsedSeconds == b->timeUsedSeconds &&
           a->timeReservedSeconds == b->timeReservedSeconds &&
           a->totalTimeAllowedSeconds == b->totalTimeAllowedSeconds &&
           a->minimumTimeAllowedSeconds == b->minimumTimeAllowedSeconds &&
           a->isPayToScaleEnabled == b->isPayToScaleEnabled && a->hasEverRun == b->hasEverRun;
}

bool sameChain(const ChainRecord &a, const ChainRecord &b)
{
    return a.id == b.id && a.name == b.name && a.kernel == b.kernel && a.handoff == b.handoff &&
           a.checkpointPattern == b.checkpointPattern && a.stopRules == b.stopRules &&
           a.state == b.state && a.createdAt == b.createdAt;
}

// Restores the file size limit and SIGXFSZ disposition however the test leaves.
class FileSizeLimit final
{
public:
    explicit FileSizeLimit(rlim_t bytes)
    {
        getrlimit(RLIMIT_FSIZE, &m_old);
        m_oldHandler = std::signal(SIGXFSZ, SIG_IGN); // EFBIG instead of being killed
        rlimit limit = m_old;
        limit.rlim_cur = bytes;
        m_ok = setrlimit(RLIMIT_FSIZE, &limit) == 0;
    }
    ~FileSizeLimit()
    {
        setrlimit(RLIMIT_FSIZE, &m_old);
        std::signal(SIGXFSZ, m_oldHandler);
    }
    bool ok() const { return m_ok; }

private:
    rlimit m_old{};
    void (*m_oldHandler)(int) = nullptr;
    bool m_ok = false;
};

} // namespace

Q_DECLARE_METATYPE(WatchedRun)
Q_DECLARE_METATYPE(KernelStatus)

class TestStore final : public QObject
{
    Q_OBJECT

private:
    QString dbPath() const { return m_dir->filePath(QStringLiteral("history.sqlite")); }
    std::unique_ptr<Store> openStore(const QString &path)
    {
        auto r = Store::open(path);
        if (!r) {
            qWarning().noquote() << "open failed:" << r.error().message;
            return nullptr;
        }
        return std::move(r).value();
    }
    /// A closed store at dbPath() with one run, one session and `points` metric points.
    void makeStore(int points)
    {
        auto store = openStore(dbPath());
        QVERIFY(store);
        const auto run = store->addRun(sampleRun());
        QVERIFY(run);
        const auto session = store->addSession(sampleSession(*run, t0));
        QVERIFY(session);
        QList<MetricPoint> batch;
        for (int i = 0; i < points; ++i)
            batch.append(point(*session, QStringLiteral("loss"), 1.0 / (i + 1), i, i / 100.0, i));
        QVERIFY(store->addMetricPoints(batch));
    }

    std::unique_ptr<QTemporaryDir> m_dir;

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setApplicationName(QStringLiteral("tst_store"));
    }

    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
        // A leaked query or connection shows up as a warning when the store is destroyed.
        QTest::failOnWarning(
            QRegularExpression(QStringLiteral("still in use|duplicate connection")));
        QTest::failOnWarning(QRegularExpression(QStringLiteral("read failed")));
    }

    void cleanup()
    {
        QCOMPARE(QSqlDatabase::connectionNames(), QStringList());
        m_dir.reset();
    }

    // --- opening ------------------------------------------------------------------------------

    void defaultPathIsInTheDataDirectory()
    {
        const QString expected = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) +
                                 QStringLiteral("/kaggledeck.sqlite");
        QCOMPARE(Store::defaultPath(), expected);
    }

    void createsFileAndDirectory()
    {
        const QString path = m_dir->filePath(QStringLiteral("a/b/history.sqlite"));
        {
            auto store = openStore(path);
            QVERIFY(store);
            QCOMPARE(store->path(), path);
            QVERIFY(QFile::exists(path));
            QCOMPARE(store->integrityCheck().value(), QStringLiteral("ok"));
        }
        Raw raw(path);
        QCOMPARE(raw.scalar(QStringLiteral("PRAGMA user_version")).toInt(), Store::schemaVersion());
        QVERIFY(Store::schemaVersion() >= 1);
        QCOMPARE(raw.scalar(QStringLiteral("PRAGMA journal_mode")).toString(),
                 QStringLiteral("wal"));
        QCOMPARE(raw.scalar(QStringLiteral("PRAGMA application_id")).toLongLong(), 0x4B44636B);
        for (const char *table :
             {"runs", "run_tags", "run_patterns", "sessions", "status_events", "quota_snapshots",
              "metric_points", "alerts", "chains", "settings"}) {
            QVERIFY2(raw.count(QStringLiteral("SELECT count(*) FROM sqlite_master WHERE type = "
                                              "'table' AND name = ?"),
                               {QString::fromLatin1(table)}) == 1,
                     table);
        }
        for (const char *index : {"status_events_session", "metric_points_series", "sessions_run"})
            QVERIFY2(raw.count(QStringLiteral("SELECT count(*) FROM sqlite_master WHERE type = "
                                              "'index' AND name = ?"),
                               {QString::fromLatin1(index)}) == 1,
                     index);
    }

    void emptyFileBecomesAStore()
    {
        QFile f(dbPath());
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.close();
        auto store = openStore(dbPath());
        QVERIFY(store);
        QVERIFY(store->addRun(sampleRun()));
        QCOMPARE(store->runs().size(), 1);
    }

    void reopenKeepsEverything()
    {
        RunId runId = 0;
        SessionId sessionId = 0;
        ChainId chainId = 0;
        {
            auto store = openStore(dbPath());
            QVERIFY(store);
            ChainRecord c;
            c.name = QStringLiteral("llama epochs");
            c.kernel = {QStringLiteral("alice"), QStringLiteral("train")};
            c.createdAt = utc(t0);
            chainId = store->addChain(c).value();
            WatchedRun r = sampleRun();
            r.chainId = chainId;
            runId = store->addRun(r).value();
            sessionId = store->addSession(sampleSession(runId, t0)).value();
            QVERIFY(store->addStatusEvent({sessionId, KernelStatus::Running, utc(t0 + 1000)}));
            QVERIFY(store->addMetricPoints({point(sessionId, QStringLiteral("loss"), 0.5, 12)}));
            QVERIFY(store->addQuotaSnapshot({utc(t0), {}}));
            Alert a;
            a.kind = AlertKind::Failed;
            a.runId = runId;
            a.at = utc(t0);
            a.title = QStringLiteral("alice/train failed");
            QVERIFY(store->addAlert(a));
            QVERIFY(store->setValue(QStringLiteral("theme"), QStringLiteral("dark")));
        }
        auto store = openStore(dbPath());
        QVERIFY(store);
        QCOMPARE(store->runs().size(), 1);
        QCOMPARE(store->runs().first().chainId, chainId);
        QCOMPARE(store->sessions(runId).size(), 1);
        QCOMPARE(store->statusEvents(sessionId).size(), 1);
        QCOMPARE(store->metricPoints(sessionId).size(), 1);
        QCOMPARE(store->quotaSnapshots({}).size(), 1);
        QCOMPARE(store->alerts().size(), 1);
        QCOMPARE(store->chains().size(), 1);
        QCOMPARE(store->value(QStringLiteral("theme")), QStringLiteral("dark"));
    }

    void twoStoresInOneProcess()
    {
        const QString other = m_dir->filePath(QStringLiteral("other.sqlite"));
        auto a = openStore(dbPath());
        auto b = openStore(other);
        auto sameFile = openStore(dbPath());
        QVERIFY(a && b && sameFile);
        QVERIFY(a->addRun(sampleRun()));
        QCOMPARE(sameFile->runs().size(), 1); // committed data is visible to another connection
        QCOMPARE(b->runs().size(), 0);
        a.reset(); // destroyed out of order: each removes only its own connection
        QCOMPARE(sameFile->runs().size(), 1);
        sameFile.reset();
        QVERIFY(b->addRun(sampleRun()));
        b.reset();
    }

    void inMemoryStore()
    {
        auto store = openStore(QStringLiteral(":memory:"));
        QVERIFY(store);
        const auto id = store->addRun(sampleRun());
        QVERIFY(id);
        QCOMPARE(store->run(*id)->ref, sampleRun().ref);
        QCOMPARE(store->integrityCheck().value(), QStringLiteral("ok"));
    }

    void openFailures_data()
    {
        QTest::addColumn<QString>("relative");
        QTest::addColumn<ApiError::Kind>("kind");
        QTest::addColumn<QString>("says");
        QTest::newRow("empty path")
            << QString() << ApiError::Kind::Invalid << QStringLiteral("No file name");
        QTest::newRow("a directory")
            << QStringLiteral("dir") << ApiError::Kind::Io << QStringLiteral("is a folder");
        QTest::newRow("folder under a file")
            << QStringLiteral("file.txt/sub/history.sqlite") << ApiError::Kind::Io
            << QStringLiteral("Could not create the folder");
    }

    void openFailures()
    {
        QFETCH(QString, relative);
        QFETCH(ApiError::Kind, kind);
        QFETCH(QString, says);
        QVERIFY(QDir(m_dir->path()).mkdir(QStringLiteral("dir")));
        QFile file(m_dir->filePath(QStringLiteral("file.txt")));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.close();
        const QString path = relative.isEmpty() ? QString() : m_dir->filePath(relative);
        const auto r = Store::open(path);
        QVERIFY(!r);
        QCOMPARE(r.error().kind, kind);
        QVERIFY2(r.error().message.contains(says), qPrintable(r.error().message));
    }

    void refusesNewerStore()
    {
        makeStore(10);
        const int newer = Store::schemaVersion() + 1;
        {
            Raw raw(dbPath());
            QVERIFY(raw.exec(QStringLiteral("PRAGMA user_version = %1").arg(newer)));
        }
        const QByteArray before = fileHash(dbPath());
        QVERIFY(!before.isEmpty());
        const auto r = Store::open(dbPath());
        QVERIFY(!r);
        QCOMPARE(r.error().kind, ApiError::Kind::Io);
        const QString message = r.error().message;
        QVERIFY2(message.contains(dbPath()), qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("newer KaggleDeck")), qPrintable(message));
        QVERIFY2(message.contains(QString::number(newer)), qPrintable(message));
        QCOMPARE(fileHash(dbPath()), before);
        QVERIFY(!QFile::exists(dbPath() + QStringLiteral("-wal")));
        QVERIFY(!QFile::exists(dbPath() + QStringLiteral("-shm")));
        Raw raw(dbPath());
        QCOMPARE(raw.scalar(QStringLiteral("PRAGMA user_version")).toInt(), newer);
    }

    void refusesForeignOrDamagedFile_data()
    {
        // How to spoil the file, and a phrase the error must contain.
        QTest::addColumn<QString>("damage");
        QTest::addColumn<QString>("says");
        QTest::newRow("random bytes") << QStringLiteral("random") << QStringLiteral("not a SQLite");
        QTest::newRow("text file") << QStringLiteral("text") << QStringLiteral("not a SQLite");
        QTest::newRow("bare SQLite header")
            << QStringLiteral("header") << QStringLiteral("damaged");
        QTest::newRow("truncated to the first page")
            << QStringLiteral("truncate-page") << QStringLiteral("damaged");
        QTest::newRow("truncated to half")
            << QStringLiteral("truncate-half") << QStringLiteral("damaged");
        QTest::newRow("overwritten page")
            << QStringLiteral("scribble") << QStringLiteral("damaged");
        QTest::newRow("another program's tables")
            << QStringLiteral("foreign-tables") << QStringLiteral("another application");
        QTest::newRow("another application id")
            << QStringLiteral("foreign-id") << QStringLiteral("another application");
    }

    void refusesForeignOrDamagedFile()
    {
        QFETCH(QString, damage);
        QFETCH(QString, says);
        const QString path = dbPath();
        if (damage.startsWith(u"foreign")) {
            Raw raw(path);
            QVERIFY(damage == u"foreign-tables"
                        ? raw.exec(QStringLiteral("CREATE TABLE notes (body TEXT)"))
                        : raw.exec(QStringLiteral("PRAGMA application_id = 42")));
        } else if (damage == u"random" || damage == u"text" || damage == u"header") {
            QByteArray bytes;
            if (damage == u"random") {
                QRandomGenerator rng(7);
                bytes.resize(8192);
                rng.fillRange(reinterpret_cast<quint32 *>(bytes.data()), bytes.size() / 4);
            } else if (damage == u"text") {
                bytes = "epoch 1 loss 0.5\n";
            } else {
                bytes = QByteArray("SQLite format 3\0", 16) + QByteArray(20, '\1');
            }
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(bytes);
        } else {
            makeStore(4000);
            QFile f(path);
            QVERIFY(f.size() > 16 * 4096);
            if (damage == u"truncate-page") {
                QVERIFY(f.resize(4096));
            } else if (damage == u"truncate-half") {
                QVERIFY(f.resize(f.size() / 2));
            } else {
                QVERIFY(f.open(QIODevice::ReadWrite));
                QVERIFY(f.seek(3 * 4096));
                f.write(QByteArray(64, '\x55'));
            }
        }
        const QByteArray before = fileHash(path);
        const QStringList filesBefore = QDir(m_dir->path()).entryList(QDir::Files);

        const auto r = Store::open(path);
        QVERIFY(!r);
        QCOMPARE(r.error().kind, ApiError::Kind::Io);
        QVERIFY2(r.error().message.contains(path), qPrintable(r.error().message));
        QVERIFY2(r.error().message.contains(says), qPrintable(r.error().message));
        QCOMPARE(fileHash(path), before);
        QCOMPARE(QDir(m_dir->path()).entryList(QDir::Files), filesBefore);
    }

    // --- runs ---------------------------------------------------------------------------------

    void runRoundTrip_data()
    {
        QTest::addColumn<WatchedRun>("run");
        WatchedRun minimal;
        minimal.ref = {QStringLiteral("bob"), QStringLiteral("x")};
        minimal.addedAt = utc(t0);
        QTest::newRow("minimal") << minimal;

        WatchedRun full = sampleRun();
        full.settings.pollRunningSeconds = 15;
        full.settings.pollQueuedSeconds = 120;
        full.settings.muted = true;
        full.settings.snoozedUntil = utc(t0 + 3'600'000);
        full.settings.stuckMinutes = 45;
        full.settings.logPatterns = {QStringLiteral("(?i)nan loss"), QStringLiteral("OOM\\b")};
        full.settings.metricPatterns = {QStringLiteral("val_acc=(?<val_acc>[0-9.]+)")};
        full.settings.persistence = QStringLiteral("files");
        QTest::newRow("every setting") << full;

        WatchedRun injection = sampleRun();
        injection.title = QStringLiteral("'); DROP TABLE runs;--");
        injection.tags = {QStringLiteral("x'); DELETE FROM run_tags; --"), QStringLiteral("\"q\"")};
        injection.settings.persistence = QStringLiteral("' OR 1=1 --");
        QTest::newRow("quotes and SQL") << injection;

        WatchedRun unicode = sampleRun(QStringLiteral("jürgen"), QStringLiteral("模型-训练"));
        unicode.title = QStringLiteral("Ünïcödé ✓ 🚀");
        QTest::newRow("unicode") << unicode;

        WatchedRun lists = sampleRun();
        lists.tags = {QStringLiteral("b"), QStringLiteral("a"), QStringLiteral("b"), QString()};
        lists.settings.logPatterns = {QStringLiteral("line one\nline two"), QStringLiteral("a|b")};
        QTest::newRow("list order, duplicates, newlines") << lists;
    }

    void runRoundTrip()
    {
        QFETCH(WatchedRun, run);
        {
            auto store = openStore(dbPath());
            QVERIFY(store);
            const auto id = store->addRun(run);
            QVERIFY2(id, qPrintable(id ? QString() : id.error().message));
            run.id = *id;
            QCOMPARE(store->run(run.id).value_or(WatchedRun{}), run);
            QCOMPARE(store->runByRef(run.ref).value_or(WatchedRun{}), run);
            QCOMPARE(store->runs(), QList<WatchedRun>{run});
        }
        auto store = openStore(dbPath()); // from the file, not from anything in memory
        QVERIFY(store);
        QCOMPARE(store->runs(), QList<WatchedRun>{run});
        Raw raw(dbPath());
        QCOMPARE(raw.count(QStringLiteral("SELECT count(*) FROM runs")), 1);
    }

    void addRunStampsMissingTime()
    {
        auto store = openStore(dbPath());
        QVERIFY(store);
        WatchedRun r = sampleRun();
        r.addedAt = {};
        const QDateTime before = QDateTime::currentDateTimeUtc();
        const auto id = store->addRun(r);
        QVERIFY(id);
        const QDateTime added = store->run(*id)->addedAt;
        QVERIFY(added >= before.addMSecs(-1));
        QVERIFY(added <= QDateTime::currentDateTimeUtc());
    }

    void duplicateRun_data()
    {
        QTest::addColumn<QString>("owner");
        QTest::addColumn<QString>("slug");
        QTest::addColumn<bool>("accepted");
        QTest::newRow("same ref") << QStringLiteral("alice") << QStringLiteral("train") << false;
        QTest::newRow("other case") << QStringLiteral("Alice") << QStringLiteral("TRAIN") << false;
        QTest::newRow("other owner") << QStringLiteral("bob") << QStringLiteral("train") << true;
        QTest::newRow("other slug") << QStringLiteral("alice") << QStringLiteral("train-2") << true;
    }

    void duplicateRun()
    {
        QFETCH(QString, owner);
        QFETCH(QString, slug);
        QFETCH(bool, accepted);
        auto store = openStore(dbPath());
        QVERIFY(store);
        const auto first = store->addRun(sampleRun());
        QVERIFY(first);
        const auto second = store->addRun(sampleRun(owner, slug));
        QCOMPARE(second.ok(), accepted);
        QCOMPARE(store->runs().size(), accepted ? 2 : 1);
        if (!accepted) {
            QCOMPARE(second.error().kind, ApiError::Kind::Invalid);
            QVERIFY2(second.error().message.contains(QStringLiteral("already watched")),
                     qPrintable(second.error().message));
            QVERIFY2(second.error().message.contains(owner + u'/' + slug),
                     qPrintable(second.error().message));
            QCOMPARE(store->run(*first)->title, sampleRun().title);
        }
    }

    void invalidRefIsRefused()
    {
        auto store = openStore(dbPath());
        QVERIFY(store);
        const auto r = store->addRun(sampleRun(QString(), QStringLiteral("x")));
        QVERIFY(!r);
        QCOMPARE(r.error().kind, ApiError::Kind::Invalid);
        QVERIFY(store->runs().isEmpty());
    }

    void updateRun()
    {
        auto store = openStore(dbPath());
        QVERIFY(store);
        const RunId id = store->addRun(sampleRun()).value();
        ChainRecord c;
        c.name = QStringLiteral("c");
        const ChainId chain = store->addChain(c).value();

        WatchedRun changed = *store->run(id);
        changed.title = QStringLiteral("renamed");
        changed.machineShape = QStringLiteral("Tpu1VmV38");
        changed.tags = {QStringLiteral("new")};
        changed.settings.muted = true;
        changed.settings.metricPatterns = {QStringLiteral("acc=(?<acc>\\d+)")};
        changed.chainId = chain;
        QVERIFY(store->updateRun(changed));
        QCOMPARE(store->run(id).value_or(WatchedRun{}), changed);

        // The ref identifies the kernel and the time it was added is history: neither changes.
        WatchedRun moved = changed;
        moved.ref = {QStringLiteral("mallory"), QStringLiteral("other")};
        moved.addedAt = utc(0);
        QVERIFY(store->updateRun(moved));
        QCOMPARE(store->run(id).value_or(WatchedRun{}), changed);

        WatchedRun dangling = changed;
        dangling.chainId = chain + 100;
        dangling.title = QStringLiteral("must not be saved");
        const auto noChain = store->updateRun(dangling);
        QVERIFY(!noChain);
        QCOMPARE(noChain.error().kind, ApiError::Kind::NotFound);
        QCOMPARE(store->run(id).value_or(WatchedRun{}), changed);

        WatchedRun missing = changed;
        missing.id = id + 100;
        const auto r = store->updateRun(missing);
        QVERIFY(!r);
        QCOMPARE(r.error().kind, ApiError::Kind::NotFound);
    }

    void removeRunCascades()
    {
        auto store = openStore(dbPath());
        QVERIFY(store);
        RunId ids[2];
        SessionId sessions[2][2];
        for (int i = 0; i < 2; ++i) {
            ids[i] =
                store->addRun(sampleRun(QStringLiteral("alice"), QStringLiteral("run%1").arg(i)))
                    .value();
            for (int j = 0; j < 2; ++j) {
                sessions[i][j] = store->addSession(sampleSession(ids[i], t0 + j)).value();
                QVERIFY(store->addStatusEvent({sessions[i][j], KernelStatus::Running, utc(t0)}));
                QVERIFY(
                    store->addMetricPoints({point(sessions[i][j], QStringLiteral("loss"), 1, 1),
                                            point(sessions[i][j], QStringLiteral("acc"), 1, 1)}));
                Alert a;
                a.runId = ids[i];
                a.sessionId = sessions[i][j];
                a.at = utc(t0);
                QVERIFY(store->addAlert(a));
            }
        }
        QVERIFY(store->removeRun(ids[0]));
        QVERIFY(!store->run(ids[0]));
        QVERIFY(!store->runByRef(sampleRun(QStringLiteral("alice"), QStringLiteral("run0")).ref));
        QVERIFY(store->sessions(ids[0]).isEmpty());
        QVERIFY(store->statusEvents(sessions[0][0]).isEmpty());
        QVERIFY(store->metricPoints(sessions[0][1]).isEmpty());

        // The rows are gone from the file, not only unreachable through the API.
        Raw raw(dbPath());
        const auto rows = [&](const char *table) {
            return raw.count(
                QStringLiteral("SELECT count(*) FROM %1").arg(QLatin1StringView(table)));
        };
        QCOMPARE(rows("runs"), 1);
        QCOMPARE(rows("run_tags"), 2);
        QCOMPARE(rows("run_patterns"), 1);
        QCOMPARE(rows("sessions"), 2);
        QCOMPARE(rows("status_events"), 2);
        QCOMPARE(rows("metric_points"), 4);
        QCOMPARE(rows("alerts"), 2);
        QCOMPARE(store->sessions(ids[1]).size(), 2);
        QCOMPARE(store->metricPoints(sessions[1][0]).size(), 2);

        const auto again = store->removeRun(ids[0]);
        QVERIFY(!again);
        QCOMPARE(again.error().kind, ApiError::Kind::NotFound);

        // Watching the kernel again gives a fresh id: nothing that kept the old one is confused.
        const auto readded =
            store->addRun(sampleRun(QStringLiteral("alice"), QStringLiteral("run0"))).value();
        QVERIFY(readded > ids[1]);
        QCOMPARE(store->integrityCheck().value(), QStringLiteral("ok"));
    }

    // --- sessions -----------------------------------------------------------------------------

    void sessionStatusRoundTrip_data()
    {
        QTest::addColumn<KernelStatus>("status");
        for (int s = 0; s <= int(KernelStatus::NewScript); ++s)
            QTest::newRow(qPrintable(statusName(KernelStatus(s)))) << KernelStatus(s);
    }

    void sessionStatusRoundTrip()
    {
        QFETCH(KernelStatus, status);
        auto store = openStore(dbPath());
        QVERIFY(store);
        const RunId run = store->addRun(sampleRun()).value();
        SessionRecord s = sampleSession(run, t0);
        s.status = status;
        s.endedAt = isTerminal(status) ? utc(t0 + 60'000) : QDateTime();
        s.failureMessage =
            status == KernelStatus::Error ? QStringLiteral("CUDA error: 'oops'") : QString();
        s.id = store->addSession(s).value();
        QCOMPARE(store->session(s.id).value_or(SessionRecord{}), s);
        QVERIFY(store->addStatusEvent({s.id, status, utc(t0)}));
        QCOMPARE(store->statusEvents(s.id).first().status, status);
    }

    void sessions()
    {
        auto store = openStore(dbPath());
        QVERIFY(store);
        const RunId run = store->addRun(sampleRun()).value();
        QVERIFY(!store->latestSession(run));
        ChainRecord c;
        c.name = QStringLiteral("chain");
        const ChainId chain = store->addChain(c).value();

        // Added out of time order: the API still answers oldest first.
        SessionRecord later = sampleSession(run, t0 + 7'200'000);
        later.chainId = chain;
        later.chainStep = 2;
        later.id = store->addSession(later).value();
        SessionRecord earlier = sampleSession(run, t0);
        earlier.pushed = false;
        earlier.versionNumber = 0;
        earlier.id = store->addSession(earlier).value();
        QCOMPARE(store->sessions(run), (QList<SessionRecord>{earlier, later}));
        QCOMPARE(store->latestSession(run).value_or(SessionRecord{}), later);

        later.status = KernelStatus::Error;
        later.endedAt = utc(t0 + 9'000'000);
        later.failureMessage = QStringLiteral("Maximum batch GPU session count of 2 reached");
        later.timeoutSeconds = 0;
        later.chainId = 0;
        QVERIFY(store->updateSession(later));
        QCOMPARE(store->session(later.id).value_or(SessionRecord{}), later);
        QVERIFY(store->session(later.id)->isOver());

        SessionRecord orphan = sampleSession(run + 100, t0);
        const auto noRun = store->addSession(orphan);
        QVERIFY(!noRun);
        QCOMPARE(noRun.error().kind, ApiError::Kind::NotFound);
        orphan.id = later.id + 100;
        const auto noSession = store->updateSession(orphan);
        QVERIFY(!noSession);
        QCOMPARE(noSession.error().kind, ApiError::Kind::NotFound);
        QCOMPARE(store->sessions(run).size(), 2);
    }

    void statusEvents()
    {
        auto store = openStore(dbPath());
        QVERIFY(store);
        const RunId run = store->addRun(sampleRun()).value();
        const SessionId a = store->addSession(sampleSession(run, t0)).value();
        const SessionId b = store->addSession(sampleSession(run, t0 + 1)).value();
        const QList<StatusEvent> eventsA{{a, KernelStatus::Queued, utc(t0)},
                                         {a, KernelStatus::Running, utc(t0 + 60'000)},
                                         {a, KernelStatus::Complete, utc(t0 + 3'600'000)}};
        const StatusEvent eventB{b, KernelStatus::Running, utc(t0 + 120'000)};
        QVERIFY(store->addStatusEvent(eventsA[2])); // out of order on purpose
        QVERIFY(store->addStatusEvent(eventsA[0]));
        QVERIFY(store->addStatusEvent(eventB));
        QVERIFY(store->addStatusEvent(eventsA[1]));

        QCOMPARE(store->statusEvents(a), eventsA);
        QCOMPARE(store->statusEvents(b), QList<StatusEvent>{eventB});
        QCOMPARE(store->statusEventsSince(utc(t0 + 60'000)),
                 (QList<StatusEvent>{eventsA[1], eventB, eventsA[2]}));
        QCOMPARE(store->statusEventsSince({}).size(), 4);
        QVERIFY(store->statusEventsSince(utc(t0 + 3'600'001)).isEmpty());

        const auto noSession = store->addStatusEvent({b + 100, KernelStatus::Running, utc(t0)});
        QVERIFY(!noSession);
        QCOMPARE(noSession.error().kind, ApiError::Kind::NotFound);
        const auto noTime = store->addStatusEvent({a, KernelStatus::Running, {}});
        QVERIFY(!noTime);
        QCOMPARE(noTime.error().kind, ApiError::Kind::Invalid);
        QCOMPARE(store->statusEventsSince({}).size(), 4);
    }

    // --- quota --------------------------------------------------------------------------------

    void quotaRoundTrip_data()
    {
        QTest::addColumn<bool>("gpu");
        QTest::addColumn<bool>("tpu");
        QTest::addColumn<bool>("refresh");
        QTest::newRow("gpu and tpu") << true << true << true;
        QTest::newRow("gpu only") << true << false << true;
        QTest::newRow("tpu only") << false << true << true;
        QTest::newRow("neither") << false << false << true;
        QTest::newRow("no refresh time") << true << false << false;
    }

    void quotaRoundTrip()
    {
        QFETCH(bool, gpu);
        QFETCH(bool, tpu);
        QFETCH(bool, refresh);
        auto store = openStore(dbPath());
        QVERIFY(store);
        QuotaSnapshot s;
        s.at = utc(t0);
        if (refresh)
            s.stats.quotaRefreshTime = utc(t0 + 5 * 86'400'000LL);
        if (gpu)
            s.stats.gpu = AcceleratorQuota{37'800.5, 3'600.25, 108'000, 0, false, true};
        if (tpu)
            s.stats.tpu = AcceleratorQuota{0, 0, 72'000, 3'600, true, false};
        QVERIFY(store->addQuotaSnapshot(s));
        const auto back = store->quotaSnapshots({});
        QCOMPARE(back.size(), 1);
        QCOMPARE(back[0].at, s.at);
        QCOMPARE(back[0].stats.quotaRefreshTime, s.stats.quotaRefreshTime);
        QVERIFY(sameAccelerator(back[0].stats.gpu, s.stats.gpu));
        QVERIFY(sameAccelerator(back[0].stats.tpu, s.stats.tpu));
    }

    void quotaSince()
    {
        auto store = openStore(dbPath());
        QVERIFY(store);
        for (qint64 h : {2, 0, 1})
            QVERIFY(store->addQuotaSnapshot({utc(t0 + h * 3'600'000), {}}));
        const auto all = store->quotaSnapshots({});
        QCOMPARE(all.size(), 3);
        QCOMPARE(all[0].at, utc(t0));
        QCOMPARE(all[2].at, utc(t0 + 2 * 3'600'000));
        QCOMPARE(store->quotaSnapshots(utc(t0 + 3'600'000)).size(), 2);
        const auto noTime = store->addQuotaSnapshot({});
        QVERIFY(!noTime);
        QCOMPARE(noTime.error().kind, ApiError::Kind::Invalid);
    }

    // --- metrics ------------------------------------------------------------------------------

    void metricValueRoundTrip_data()
    {
        QTest::addColumn<double>("value");
        QTest::addColumn<double>("epoch");
        QTest::addColumn<qlonglong>("step");
        QTest::newRow("ordinary") << 0.4321 << 1.5 << 120LL;
        QTest::newRow("zero") << 0.0 << 0.0 << 0LL;
        QTest::newRow("negative") << -3.25 << 2.0 << 7LL;
        QTest::newRow("tiny") << 1e-300 << notANumber << -1LL;
        QTest::newRow("huge") << 1.7976931348623157e308 << notANumber << 9'007'199'254'740'993LL;
        QTest::newRow("NaN loss") << notANumber << 3.0 << 300LL;
        QTest::newRow("NaN everything") << notANumber << notANumber << -1LL;
        QTest::newRow("+inf") << infinity << 1.0 << 10LL;
        QTest::newRow("-inf") << -infinity << 1.0 << 10LL;
    }

    void metricValueRoundTrip()
    {
        QFETCH(double, value);
        QFETCH(double, epoch);
        QFETCH(qlonglong, step);
        SessionId session = 0;
        MetricPoint p;
        {
            auto store = openStore(dbPath());
            QVERIFY(store);
            const RunId run = store->addRun(sampleRun()).value();
            session = store->addSession(sampleSession(run, t0)).value();
            p = point(session, QStringLiteral("loss"), value, 12.5, epoch, step);
            QVERIFY(store->addMetricPoints({p}));
        }
        auto store = openStore(dbPath());
        QVERIFY(store);
        const auto back = store->metricPoints(session);
        QCOMPARE(back.size(), 1);
        QVERIFY2(samePoint(back[0], p), qPrintable(QStringLiteral("value %1 epoch %2 step %3")
                                                       .arg(back[0].value)
                                                       .arg(back[0].epoch)
                                                       .arg(back[0].step)));
    }

    void metricSeries()
    {
        auto store = openStore(dbPath());
        QVERIFY(store);
        const RunId run = store->addRun(sampleRun()).value();
        const SessionId a = store->addSession(sampleSession(run, t0)).value();
        const SessionId b = store->addSession(sampleSession(run, t0 + 1)).value();
        const QList<MetricPoint> batch{point(a, QStringLiteral("loss"), 2.0, 1, 0.1, 10),
                                       point(a, QStringLiteral("eval_accuracy"), 0.5, 2, 1, 100),
                                       point(a, QStringLiteral("loss"), 1.0, 3, 0.2, 20),
                                       point(b, QStringLiteral("grad_norm"), 7, 1)};
        QVERIFY(store->addMetricPoints(batch));
        QVERIFY(store->addMetricPoints({}));

        QCOMPARE(store->metricSeries(a),
                 (QStringList{QStringLiteral("eval_accuracy"), QStringLiteral("loss")}));
        QCOMPARE(store->metricSeries(b), QStringList{QStringLiteral("grad_norm")});
        const auto loss = store->metricPoints(a, QStringLiteral("loss"));
        QCOMPARE(loss.size(), 2);
        QVERIFY(samePoint(loss[0], batch[0]));
        QVERIFY(samePoint(loss[1], batch[2]));
        const auto all = store->metricPoints(a);
        QCOMPARE(all.size(), 3);
        QVERIFY(samePoint(all[1], batch[1]));
        QVERIFY(store->metricPoints(a, QStringLiteral("missing")).isEmpty());
    }

    void metricBatchIsAllOrNothing()
    {
        auto store = openStore(dbPath());
        QVERIFY(store);
        const RunId run = store->addRun(sampleRun()).value();
        const SessionId a = store->addSession(sampleSession(run, t0)).value();
        const auto r = store->addMetricPoints({point(a, QStringLiteral("loss"), 1, 1),
                                               point(a, QStringLiteral("loss"), 2, 2),
                                               point(a + 100, QStringLiteral("loss"), 3, 3)});
        QVERIFY(!r);
        QCOMPARE(r.error().kind, ApiError::Kind::NotFound);
        QVERIFY(store->metricPoints(a).isEmpty());
    }

    // --- alerts -------------------------------------------------------------------------------

    void alertKindRoundTrip_data()
    {
        QTest::addColumn<AlertKind>("kind");
        QTest::newRow("finished") << AlertKind::Finished;
        QTest::newRow("failed") << AlertKind::Failed;
        QTest::newRow("cancelled") << AlertKind::Cancelled;
        QTest::newRow("stuck") << AlertKind::Stuck;
        QTest::newRow("log pattern") << AlertKind::LogPattern;
        QTest::newRow("time cap") << AlertKind::TimeCap;
        QTest::newRow("quota low") << AlertKind::QuotaLow;
    }

    void alertKindRoundTrip()
    {
        QFETCH(AlertKind, kind);
        auto store = openStore(dbPath());
        QVERIFY(store);
        const RunId run = store->addRun(sampleRun()).value();
        const SessionId session = store->addSession(sampleSession(run, t0)).value();
        Alert a;
        a.kind = kind;
        const bool accountWide = kind == AlertKind::QuotaLow;
        a.runId = accountWide ? 0 : run;
        a.sessionId = accountWide ? 0 : session;
        a.at = utc(t0);
        a.title = QStringLiteral("alice/train: \"it's\" done");
        a.text = QStringLiteral("Traceback (most recent call last):\n  File 'x.py'");
        a.id = store->addAlert(a).value();
        const auto back = store->alerts();
        QCOMPARE(back.size(), 1);
        QCOMPARE(back[0].id, a.id);
        QCOMPARE(back[0].kind, a.kind);
        QCOMPARE(back[0].runId, a.runId);
        QCOMPARE(back[0].sessionId, a.sessionId);
        QCOMPARE(back[0].at, a.at);
        QCOMPARE(back[0].title, a.title);
        QCOMPARE(back[0].text, a.text);
    }

    void alertsNewestFirstAndAcknowledged()
    {
        auto store = openStore(dbPath());
        QVERIFY(store);
        QList<qint64> ids;
        for (qint64 minutes : {5, 1, 5, 3}) {
            Alert a;
            a.at = utc(t0 + minutes * 60'000);
            a.title = QStringLiteral("at %1").arg(minutes);
            ids.append(store->addAlert(a).value());
        }
        const auto titles = [](const QList<Alert> &alerts) {
            QList<qint64> out;
            for (const Alert &a : alerts)
                out.append(a.id);
            return out;
        };
        // Same time: the later added comes first.
        QCOMPARE(titles(store->alerts()), (QList<qint64>{ids[2], ids[0], ids[3], ids[1]}));
        QCOMPARE(titles(store->alerts(2)), (QList<qint64>{ids[2], ids[0]}));
        QCOMPARE(store->alerts(0).size(), 4);
        QCOMPARE(store->unacknowledgedAlertCount(), 4);

        QVERIFY(store->acknowledgeAlert(ids[0]));
        QCOMPARE(titles(store->alerts(200, AlertFilter::Unacknowledged)),
                 (QList<qint64>{ids[2], ids[3], ids[1]}));
        QCOMPARE(store->alerts().size(), 4);
        QCOMPARE(store->unacknowledgedAlertCount(), 3);
        const auto missing = store->acknowledgeAlert(ids.last() + 100);
        QVERIFY(!missing);
        QCOMPARE(missing.error().kind, ApiError::Kind::NotFound);
        QVERIFY(store->acknowledgeAllAlerts());
        QCOMPARE(store->unacknowledgedAlertCount(), 0);
        QVERIFY(store->alerts(200, AlertFilter::Unacknowledged).isEmpty());

        Alert dangling;
        dangling.at = utc(t0);
        dangling.runId = 999;
        const auto r = store->addAlert(dangling);
        QVERIFY(!r);
        QCOMPARE(r.error().kind, ApiError::Kind::NotFound);
    }

    // --- chains -------------------------------------------------------------------------------

    void chains()
    {
        auto store = openStore(dbPath());
        QVERIFY(store);
        ChainRecord c;
        c.name = QStringLiteral("qwen 7b, epoch by epoch");
        c.kernel = {QStringLiteral("alice"), QStringLiteral("train")};
        c.handoff = QStringLiteral("dataset");
        c.checkpointPattern = QStringLiteral("checkpoint-*/");
        c.stopRules = QStringLiteral("runs<=8;metric:eval_loss:patience=2");
        c.state = QStringLiteral("idle");
        c.createdAt = utc(t0);
        c.id = store->addChain(c).value();
        ChainRecord d;
        d.name = QStringLiteral("second");
        d.id = store->addChain(d).value();
        QVERIFY(d.id > c.id);
        QVERIFY(store->chain(d.id)->createdAt.isValid()); // stamped when missing

        QVERIFY(sameChain(*store->chain(c.id), c));
        c.state = QStringLiteral("running");
        c.stopRules.clear();
        QVERIFY(store->updateChain(c));
        const auto all = store->chains();
        QCOMPARE(all.size(), 2);
        QVERIFY(sameChain(all[0], c));
        QCOMPARE(all[1].name, d.name);

        ChainRecord missing = c;
        missing.id = d.id + 100;
        const auto r = store->updateChain(missing);
        QVERIFY(!r);
        QCOMPARE(r.error().kind, ApiError::Kind::NotFound);
    }

    // --- settings -----------------------------------------------------------------------------

    void keyValue_data()
    {
        QTest::addColumn<QString>("key");
        QTest::addColumn<QString>("value");
        QTest::newRow("plain") << QStringLiteral("ui/theme") << QStringLiteral("dark");
        QTest::newRow("empty value") << QStringLiteral("filter") << QString();
        QTest::newRow("SQL in both")
            << QStringLiteral("k'); DROP TABLE settings;--") << QStringLiteral("v' OR '1'='1");
        QTest::newRow("unicode and newlines")
            << QStringLiteral("ключ") << QStringLiteral("line 1\nline 2\t✓");
    }

    void keyValue()
    {
        QFETCH(QString, key);
        QFETCH(QString, value);
        {
            auto store = openStore(dbPath());
            QVERIFY(store);
            QCOMPARE(store->value(key, QStringLiteral("fallback")), QStringLiteral("fallback"));
            QVERIFY(store->setValue(key, QStringLiteral("first")));
            QVERIFY(store->setValue(key, value));
        }
        auto store = openStore(dbPath());
        QVERIFY(store);
        QCOMPARE(store->value(key, QStringLiteral("fallback")), value);
        QCOMPARE(store->value(QStringLiteral("absent")), QString());
        const auto noKey = store->setValue(QString(), value);
        QVERIFY(!noKey);
        QCOMPARE(noKey.error().kind, ApiError::Kind::Invalid);
        Raw raw(dbPath());
        QCOMPARE(raw.count(QStringLiteral("SELECT count(*) FROM settings")), 1);
    }

    // --- write failures -----------------------------------------------------------------------

    // A real full disk needs a tiny mounted filesystem (root and mount rights). The stand-in:
    // RLIMIT_FSIZE makes every write past the current file sizes fail with EFBIG, the same
    // short-write path SQLite takes when the disk is full.
    void writeFailureLeavesStoreConsistent()
    {
        makeStore(10);
        auto store = openStore(dbPath());
        QVERIFY(store);
        const RunId run = store->runs().first().id;
        const SessionId session = store->latestSession(run)->id;
        QList<MetricPoint> big;
        for (int i = 0; i < 20'000; ++i)
            big.append(point(session, QStringLiteral("loss"), i, i));

        qint64 largest = 0;
        for (const QString &suffix : {QString(), QStringLiteral("-wal"), QStringLiteral("-shm")})
            largest = std::max(largest, QFileInfo(dbPath() + suffix).size());
        Result<Done> failed = Done{};
        {
            FileSizeLimit limit(rlim_t(largest + 4096));
            if (!limit.ok())
                QSKIP("cannot lower RLIMIT_FSIZE here");
            failed = store->addMetricPoints(big);
        }
        QVERIFY(!failed);
        QCOMPARE(failed.error().kind, ApiError::Kind::Io);
        QVERIFY2(failed.error().message.contains(dbPath()), qPrintable(failed.error().message));
        QVERIFY2(failed.error().message.contains(QStringLiteral("20000 metric points")),
                 qPrintable(failed.error().message));
        // Rolled back: none of the batch, all that was there before.
        QCOMPARE(store->metricPoints(session).size(), 10);
        // And the store goes on working once space is back.
        QVERIFY(store->addMetricPoints(big.mid(0, 100)));
        QCOMPARE(store->metricPoints(session).size(), 110);
        QCOMPARE(store->integrityCheck().value(), QStringLiteral("ok"));
        store.reset();
        store = openStore(dbPath());
        QVERIFY(store);
        QCOMPARE(store->metricPoints(session).size(), 110);
    }

    void readOnlyFile()
    {
        if (::geteuid() == 0)
            QSKIP("root writes to read-only files; run as a normal user to cover this");
        makeStore(10);
        QVERIFY(QFile::setPermissions(dbPath(), QFile::ReadOwner | QFile::ReadGroup));
        const QByteArray before = fileHash(dbPath());
        auto store = openStore(dbPath());
        QVERIFY(store); // a current store opens for reading
        QCOMPARE(store->runs().size(), 1);
        const auto r = store->addRun(sampleRun(QStringLiteral("bob"), QStringLiteral("x")));
        QVERIFY(!r);
        QCOMPARE(r.error().kind, ApiError::Kind::Io);
        QVERIFY2(r.error().message.contains(QStringLiteral("read-only")),
                 qPrintable(r.error().message));
        QVERIFY2(r.error().message.contains(dbPath()), qPrintable(r.error().message));
        QCOMPARE(store->runs().size(), 1);
        store.reset();
        QCOMPARE(fileHash(dbPath()), before);
        QVERIFY(QFile::setPermissions(dbPath(), QFile::ReadOwner | QFile::WriteOwner));
    }
};

QTEST_GUILESS_MAIN(TestStore)
#include "tst_store.moc"
