#include "store.h"

#include "storemigrations.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QLoggingCategory>
#include <QSet>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>

#include <atomic>
#include <cmath>
#include <limits>
#include <type_traits>

namespace kd {

namespace {

Q_LOGGING_CATEGORY(lcDb, "kaggledeck.db", QtInfoMsg)

using Kind = ApiError::Kind;

const QString sqliteDriver = QStringLiteral("QSQLITE");
// Long enough for another KaggleDeck process (or the CLI) to finish a write; short enough
// that a stuck lock holder becomes an error the user sees rather than a frozen window.
const QString connectOptions = QStringLiteral("QSQLITE_BUSY_TIMEOUT=5000");

QString nextConnectionName(QLatin1StringView prefix)
{
    static std::atomic<quint64> counter{0};
    return prefix + QString::number(++counter);
}

QString rawText(const QSqlError &error)
{
    return error.databaseText().isEmpty() ? error.driverText() : error.databaseText();
}

// SQLite result codes we explain in words (the primary code is the low byte of an extended
// code; QSQLITE enables extended codes).
QString reasonOf(const QSqlError &error)
{
    const QString raw = rawText(error);
    QString plain;
    switch (error.nativeErrorCode().toInt() & 0xff) {
    case 5: // SQLITE_BUSY
    case 6: // SQLITE_LOCKED
        plain = QStringLiteral("another program keeps the database locked");
        break;
    case 8: // SQLITE_READONLY
        plain = QStringLiteral("the file or its folder is read-only");
        break;
    case 10: // SQLITE_IOERR
        plain = QStringLiteral("reading or writing the file failed");
        break;
    case 11: // SQLITE_CORRUPT
        plain = QStringLiteral("the file is damaged");
        break;
    case 13: // SQLITE_FULL
        plain = QStringLiteral("the disk is full");
        break;
    case 14: // SQLITE_CANTOPEN
        plain = QStringLiteral("the file cannot be opened");
        break;
    case 26: // SQLITE_NOTADB
        plain = QStringLiteral("the file is not a SQLite database");
        break;
    default:
        return raw.isEmpty() ? QStringLiteral("unknown database error") : raw;
    }
    return raw.isEmpty() ? plain : plain + u" (" + raw + u')';
}

ApiError ioError(const QString &what, const QString &path, const QSqlError &error)
{
    return ApiError::make(
        Kind::Io, QStringLiteral("Could not %1 in %2: %3").arg(what, path, reasonOf(error)));
}

bool isCorruption(const QSqlError &error)
{
    const int code = error.nativeErrorCode().toInt() & 0xff;
    return code == 11 || code == 26;
}

// Null QVariants of the column's type bind as SQL NULL.
QVariant msOrNull(const QDateTime &t)
{
    return t.isValid() ? QVariant(t.toMSecsSinceEpoch()) : QVariant(QMetaType::fromType<qint64>());
}

QVariant idOrNull(qint64 id)
{
    return id != 0 ? QVariant(id) : QVariant(QMetaType::fromType<qint64>());
}

// SQLite turns a NaN into NULL itself; binding NULL explicitly makes that visible here.
QVariant realOrNull(double v)
{
    return std::isnan(v) ? QVariant(QMetaType::fromType<double>()) : QVariant(v);
}

QDateTime timeAt(const QSqlQuery &q, int column)
{
    return q.isNull(column) ? QDateTime()
                            : QDateTime::fromMSecsSinceEpoch(q.value(column).toLongLong(), Qt::UTC);
}

double realAt(const QSqlQuery &q, int column)
{
    return q.isNull(column) ? std::numeric_limits<double>::quiet_NaN() : q.value(column).toDouble();
}

KernelStatus statusFrom(int value)
{
    if (value < int(KernelStatus::Queued) || value > int(KernelStatus::NewScript)) {
        qCWarning(lcDb) << "unknown session status" << value << "in the store, read as queued";
        return KernelStatus::Queued;
    }
    return static_cast<KernelStatus>(value);
}

struct AlertKindName
{
    AlertKind kind;
    QLatin1StringView name;
};
constexpr AlertKindName alertKindNames[] = {
    {AlertKind::Finished, QLatin1StringView("finished")},
    {AlertKind::Failed, QLatin1StringView("failed")},
    {AlertKind::Cancelled, QLatin1StringView("cancelled")},
    {AlertKind::Stuck, QLatin1StringView("stuck")},
    {AlertKind::LogPattern, QLatin1StringView("log_pattern")},
    {AlertKind::TimeCap, QLatin1StringView("time_cap")},
    {AlertKind::QuotaLow, QLatin1StringView("quota_low")},
};

QString alertKindName(AlertKind kind)
{
    for (const auto &k : alertKindNames) {
        if (k.kind == kind)
            return QString(k.name);
    }
    return QString();
}

AlertKind alertKindFrom(const QString &name)
{
    for (const auto &k : alertKindNames) {
        if (name == k.name)
            return k.kind;
    }
    qCWarning(lcDb) << "unknown alert kind" << name << "in the store, read as finished";
    return AlertKind::Finished;
}

// QSQLITE binds a null QString as SQL NULL; our text columns are NOT NULL and the domain
// types do not tell a null string from an empty one, so both are stored as ''.
void bindAll(QSqlQuery &q, const QVariantList &values)
{
    static const QString empty = QStringLiteral("");
    for (qsizetype i = 0; i < values.size(); ++i) {
        const QVariant &v = values.at(i);
        const bool nullText = v.typeId() == QMetaType::QString && v.toString().isNull();
        q.bindValue(int(i), nullText ? QVariant(empty) : v);
    }
}

// A read: prepared, forward-only (QSQLITE would otherwise cache every row), failures logged.
bool read(QSqlQuery &q, const QString &sql, const QVariantList &values = {})
{
    q.setForwardOnly(true);
    if (q.prepare(sql)) {
        bindAll(q, values);
        if (q.exec())
            return true;
    }
    qCWarning(lcDb).noquote() << "read failed:" << reasonOf(q.lastError()) << "in:" << sql;
    return false;
}

/// One write transaction. BEGIN IMMEDIATE takes the write lock up front, so a concurrent
/// writer waits for the busy timeout here instead of failing on a lock upgrade midway. Rolled
/// back on destruction unless committed, so every early return leaves the file as it was.
class Writer final
{
public:
    Writer(const QSqlDatabase &db, const QString &path, QString what)
        : m_db(db), m_path(path), m_what(std::move(what))
    {
        QSqlQuery q(m_db);
        m_open = q.prepare(QStringLiteral("BEGIN IMMEDIATE")) && q.exec();
        if (!m_open)
            m_error = q.lastError();
    }
    ~Writer()
    {
        if (!m_open)
            return;
        // After a disk-full or I/O error SQLite may already have rolled back by itself; then
        // this ROLLBACK fails harmlessly.
        QSqlQuery q(m_db);
        if (!q.prepare(QStringLiteral("ROLLBACK")) || !q.exec())
            qCDebug(lcDb) << "rollback:" << q.lastError().text();
    }
    Writer(const Writer &) = delete;
    Writer &operator=(const Writer &) = delete;

    bool began() const { return m_open; }
    ApiError error() const { return ioError(m_what, m_path, m_error); }

    bool prepare(QSqlQuery &q, const QString &sql)
    {
        if (q.prepare(sql))
            return true;
        m_error = q.lastError();
        return false;
    }
    bool run(QSqlQuery &q, const QVariantList &values)
    {
        bindAll(q, values);
        if (q.exec())
            return true;
        m_error = q.lastError();
        return false;
    }
    bool exec(QSqlQuery &q, const QString &sql, const QVariantList &values = {})
    {
        return prepare(q, sql) && run(q, values);
    }

    /// nullopt (error() tells why) when the lookup itself failed.
    std::optional<bool> exists(const QString &sql, qint64 id)
    {
        QSqlQuery q(m_db);
        if (!exec(q, sql, {id}))
            return std::nullopt;
        return q.next();
    }

    bool commit()
    {
        QSqlQuery q(m_db);
        if (!q.prepare(QStringLiteral("COMMIT")) || !q.exec()) {
            m_error = q.lastError();
            return false;
        }
        m_open = false;
        return true;
    }

private:
    QSqlDatabase m_db;
    QString m_path;
    QString m_what;
    QSqlError m_error;
    bool m_open = false;
};

ApiError notFound(const QString &message)
{
    return ApiError::make(Kind::NotFound, message);
}

ApiError invalid(const QString &message)
{
    return ApiError::make(Kind::Invalid, message);
}

// Looks up a referenced row before a write so a dangling id is a clear NotFound rather than
// SQLite's anonymous "FOREIGN KEY constraint failed".
std::optional<ApiError> require(Writer &w, const QString &sql, qint64 id, const QString &missing)
{
    const auto found = w.exists(sql, id);
    if (!found)
        return w.error();
    if (!*found)
        return notFound(missing);
    return std::nullopt;
}

std::optional<ApiError> requireRun(Writer &w, RunId id)
{
    return require(w, QStringLiteral("SELECT 1 FROM runs WHERE id = ?"), id,
                   QStringLiteral("No run with id %1 in the history").arg(id));
}

std::optional<ApiError> requireSession(Writer &w, SessionId id)
{
    return require(w, QStringLiteral("SELECT 1 FROM sessions WHERE id = ?"), id,
                   QStringLiteral("No session with id %1 in the history").arg(id));
}

std::optional<ApiError> requireChain(Writer &w, ChainId id)
{
    if (id == 0)
        return std::nullopt;
    return require(w, QStringLiteral("SELECT 1 FROM chains WHERE id = ?"), id,
                   QStringLiteral("No chain with id %1 in the history").arg(id));
}

// --- opening --------------------------------------------------------------------------------

struct Identity
{
    qint64 applicationId = 0;
    int userVersion = 0;
    int tables = 0; ///< user tables, to tell an empty database from another program's
};

std::optional<Identity> readIdentity(const QSqlDatabase &db, QSqlError *error)
{
    Identity id;
    QSqlQuery q(db);
    const auto scalar = [&](const QString &sql, auto *out) {
        if (!q.prepare(sql) || !q.exec() || !q.next()) {
            *error = q.lastError();
            return false;
        }
        *out = q.value(0).value<std::remove_pointer_t<decltype(out)>>();
        q.finish();
        return true;
    };
    if (!scalar(QStringLiteral("PRAGMA application_id"), &id.applicationId) ||
        !scalar(QStringLiteral("PRAGMA user_version"), &id.userVersion) ||
        !scalar(QStringLiteral("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                               "name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"),
                &id.tables))
        return std::nullopt;
    return id;
}

const QString untouched = QStringLiteral("it was left untouched");

std::optional<ApiError> refuse(const QString &path, const Identity &id)
{
    const qint64 ours = storeschema::applicationId;
    if (id.applicationId != 0 && id.applicationId != ours)
        return ApiError::make(
            Kind::Io, QStringLiteral("%1 is another application's SQLite database (application "
                                     "id 0x%2), not a KaggleDeck history; %3")
                          .arg(path, QString::number(quint32(id.applicationId), 16), untouched));
    if (id.applicationId == 0 && (id.userVersion != 0 || id.tables != 0))
        return ApiError::make(
            Kind::Io,
            QStringLiteral("%1 is a SQLite database of another application, not a KaggleDeck "
                           "history; %2")
                .arg(path, untouched));
    if (id.userVersion > storeschema::latestVersion())
        return ApiError::make(Kind::Io,
                              QStringLiteral("The history %1 was written by a newer KaggleDeck "
                                             "(schema version %2; this version reads up to %3); %4")
                                  .arg(path, QString::number(id.userVersion),
                                       QString::number(storeschema::latestVersion()), untouched));
    return std::nullopt;
}

ApiError damaged(const QString &path, const QString &problems)
{
    return ApiError::make(
        Kind::Io, QStringLiteral("The history %1 is damaged (%2); %3. Move it aside to start a "
                                 "new history.")
                      .arg(path, problems, untouched));
}

// Looks at an existing file before anything may write to it: the header bytes, then a
// read-only connection for the identity pragmas and a quick_check (a fraction of a second
// even for a large history). Only a file that passes is opened for writing, so a damaged,
// foreign or newer file is never modified by a migration or the switch to WAL.
std::optional<ApiError> probe(const QString &path)
{
    {
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly))
            return ApiError::make(
                Kind::Io,
                QStringLiteral("Could not read the history %1: %2").arg(path, file.errorString()));
        if (file.size() == 0)
            return std::nullopt; // SQLite treats an empty file as an empty database
        static const QByteArray magic("SQLite format 3\0", 16);
        const QByteArray header = file.read(100);
        if (!header.startsWith(magic))
            return ApiError::make(Kind::Io,
                                  QStringLiteral("%1 is not a KaggleDeck history (not a SQLite "
                                                 "database); %2")
                                      .arg(path, untouched));
        if (header.size() < 100)
            return damaged(path, QStringLiteral("the file is truncated"));
    }

    // A read-only connection to a WAL database creates the -wal and -shm files it needs;
    // remove them again when we refuse the file and they were not there before.
    const QString wal = path + u"-wal";
    const QString shm = path + u"-shm";
    const bool hadWal = QFileInfo::exists(wal);
    const bool hadShm = QFileInfo::exists(shm);

    std::optional<ApiError> verdict;
    const QString name = nextConnectionName(QLatin1StringView("kaggledeck.store.probe."));
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(sqliteDriver, name);
        db.setDatabaseName(path);
        db.setConnectOptions(connectOptions + u";QSQLITE_OPEN_READONLY");
        QSqlError error;
        if (!db.open()) {
            verdict = ioError(QStringLiteral("open the history"), path, db.lastError());
        } else if (const auto id = readIdentity(db, &error); !id) {
            verdict = isCorruption(error)
                          ? damaged(path, rawText(error))
                          : ioError(QStringLiteral("read the history"), path, error);
        } else if (auto refused = refuse(path, *id)) {
            verdict = std::move(refused);
        } else {
            QSqlQuery q(db);
            QStringList problems;
            if (q.prepare(QStringLiteral("PRAGMA quick_check")) && q.exec()) {
                while (q.next())
                    problems << q.value(0).toString();
            }
            if (q.lastError().isValid()) {
                verdict = isCorruption(q.lastError())
                              ? damaged(path, rawText(q.lastError()))
                              : ioError(QStringLiteral("check the history"), path, q.lastError());
            } else if (problems != QStringList{QStringLiteral("ok")}) {
                verdict = damaged(path, problems.mid(0, 5).join(QStringLiteral("; ")));
            }
        }
        db.close();
    }
    QSqlDatabase::removeDatabase(name);

    if (verdict) {
        if (!hadWal && QFileInfo(wal).size() == 0)
            QFile::remove(wal);
        if (!hadShm)
            QFile::remove(shm);
    }
    return verdict;
}

bool execPragma(QSqlDatabase &db, const QString &sql, QVariant *result, QSqlError *error)
{
    QSqlQuery q(db);
    if (!q.prepare(sql) || !q.exec()) {
        *error = q.lastError();
        return false;
    }
    if (result && q.next())
        *result = q.value(0);
    return true;
}

std::optional<ApiError> migrate(QSqlDatabase &db, const QString &path)
{
    for (const storeschema::Migration &step : storeschema::migrations()) {
        // A current store needs no write lock: a read-only file still opens for reading.
        QSqlError error;
        auto id = readIdentity(db, &error);
        if (!id)
            return ioError(QStringLiteral("read the history"), path, error);
        if (auto refused = refuse(path, *id))
            return refused;
        if (id->userVersion >= step.toVersion)
            continue;

        const QString what = QStringLiteral("upgrade the history to schema version %1 (%2)")
                                 .arg(QString::number(step.toVersion), QString(step.summary));
        Writer w(db, path, what);
        if (!w.began())
            return w.error();
        // Again under the write lock: another process may have migrated meanwhile.
        id = readIdentity(db, &error);
        if (!id)
            return ioError(what, path, error);
        if (auto refused = refuse(path, *id))
            return refused;
        if (id->userVersion >= step.toVersion)
            continue;
        qCInfo(lcDb).noquote() << "migrating" << path << "to schema version" << step.toVersion
                               << "-" << step.summary;
        if (const QSqlError e = step.apply(db); e.isValid())
            return ioError(what, path, e);
        // PRAGMA arguments cannot be bound; both numbers are our own constants.
        QSqlQuery q(db);
        if (!w.exec(q,
                    QStringLiteral("PRAGMA application_id = %1").arg(storeschema::applicationId)) ||
            !w.exec(q, QStringLiteral("PRAGMA user_version = %1").arg(step.toVersion)) ||
            !w.commit())
            return w.error();
    }
    return std::nullopt;
}

// --- rows -----------------------------------------------------------------------------------

const QString runColumns = QStringLiteral(
    "SELECT id, owner, slug, title, machine_shape, added_at, chain_id, poll_running_seconds, "
    "poll_queued_seconds, muted, snoozed_until, stuck_minutes, persistence FROM runs ");

WatchedRun runAt(const QSqlQuery &q)
{
    WatchedRun r;
    r.id = q.value(0).toLongLong();
    r.ref = {q.value(1).toString(), q.value(2).toString()};
    r.title = q.value(3).toString();
    r.machineShape = q.value(4).toString();
    r.addedAt = timeAt(q, 5);
    r.chainId = q.value(6).toLongLong();
    r.settings.pollRunningSeconds = q.value(7).toInt();
    r.settings.pollQueuedSeconds = q.value(8).toInt();
    r.settings.muted = q.value(9).toBool();
    r.settings.snoozedUntil = timeAt(q, 10);
    r.settings.stuckMinutes = q.value(11).toInt();
    r.settings.persistence = q.value(12).toString();
    return r;
}

// Runs with their tags and patterns in three queries however many runs there are.
QList<WatchedRun> loadRuns(const QSqlDatabase &db, const QString &where, const QVariantList &values)
{
    QList<WatchedRun> runs;
    QHash<RunId, qsizetype> index;
    {
        QSqlQuery q(db);
        if (!read(q, runColumns + where + u" ORDER BY id", values))
            return {};
        while (q.next()) {
            index.insert(q.value(0).toLongLong(), runs.size());
            runs.append(runAt(q));
        }
    }
    if (runs.isEmpty())
        return runs;
    // One run: filter by its id; many: read all (cheaper than an IN list, and runs are few).
    const bool one = runs.size() == 1;
    const QVariantList oneId{runs.first().id};
    {
        QSqlQuery q(db);
        if (read(q,
                 one ? QStringLiteral("SELECT run_id, tag FROM run_tags WHERE run_id = ? ORDER BY "
                                      "position")
                     : QStringLiteral("SELECT run_id, tag FROM run_tags ORDER BY run_id, position"),
                 one ? oneId : QVariantList{})) {
            while (q.next()) {
                if (const auto i = index.constFind(q.value(0).toLongLong()); i != index.cend())
                    runs[*i].tags.append(q.value(1).toString());
            }
        }
    }
    {
        QSqlQuery q(db);
        if (read(q,
                 one ? QStringLiteral("SELECT run_id, kind, pattern FROM run_patterns WHERE "
                                      "run_id = ? ORDER BY kind, position")
                     : QStringLiteral("SELECT run_id, kind, pattern FROM run_patterns ORDER BY "
                                      "run_id, kind, position"),
                 one ? oneId : QVariantList{})) {
            while (q.next()) {
                const auto i = index.constFind(q.value(0).toLongLong());
                if (i == index.cend())
                    continue;
                RunSettings &s = runs[*i].settings;
                (q.value(1).toString() == u"log" ? s.logPatterns : s.metricPatterns)
                    .append(q.value(2).toString());
            }
        }
    }
    return runs;
}

// Rewrites the list-valued parts of a run (tags, patterns) inside the caller's transaction.
bool writeRunLists(Writer &w, const QSqlDatabase &db, const WatchedRun &run)
{
    QSqlQuery q(db);
    if (!w.exec(q, QStringLiteral("DELETE FROM run_tags WHERE run_id = ?"), {run.id}) ||
        !w.exec(q, QStringLiteral("DELETE FROM run_patterns WHERE run_id = ?"), {run.id}))
        return false;
    if (!w.prepare(q,
                   QStringLiteral("INSERT INTO run_tags (run_id, position, tag) VALUES (?, ?, ?)")))
        return false;
    for (qsizetype i = 0; i < run.tags.size(); ++i) {
        if (!w.run(q, {run.id, qint64(i), run.tags.at(i)}))
            return false;
    }
    if (!w.prepare(q, QStringLiteral("INSERT INTO run_patterns (run_id, kind, position, pattern) "
                                     "VALUES (?, ?, ?, ?)")))
        return false;
    const auto patterns = [&](const QString &kind, const QStringList &list) {
        for (qsizetype i = 0; i < list.size(); ++i) {
            if (!w.run(q, {run.id, kind, qint64(i), list.at(i)}))
                return false;
        }
        return true;
    };
    return patterns(QStringLiteral("log"), run.settings.logPatterns) &&
           patterns(QStringLiteral("metric"), run.settings.metricPatterns);
}

const QString sessionColumns = QStringLiteral(
    "SELECT id, run_id, version_number, pushed, first_seen, ended_at, status, failure_message, "
    "machine_shape, timeout_seconds, chain_id, chain_step FROM sessions ");

SessionRecord sessionAt(const QSqlQuery &q)
{
    SessionRecord s;
    s.id = q.value(0).toLongLong();
    s.runId = q.value(1).toLongLong();
    s.versionNumber = q.value(2).toLongLong();
    s.pushed = q.value(3).toBool();
    s.firstSeen = timeAt(q, 4);
    s.endedAt = timeAt(q, 5);
    s.status = statusFrom(q.value(6).toInt());
    s.failureMessage = q.value(7).toString();
    s.machineShape = q.value(8).toString();
    s.timeoutSeconds = q.value(9).toInt();
    s.chainId = q.value(10).toLongLong();
    s.chainStep = q.value(11).toInt();
    return s;
}

QVariantList sessionValues(const SessionRecord &s)
{
    return {s.versionNumber,     s.pushed,         msOrNull(s.firstSeen), msOrNull(s.endedAt),
            int(s.status),       s.failureMessage, s.machineShape,        s.timeoutSeconds,
            idOrNull(s.chainId), s.chainStep};
}

StatusEvent eventAt(const QSqlQuery &q)
{
    return {q.value(0).toLongLong(), statusFrom(q.value(1).toInt()), timeAt(q, 2)};
}

QVariantList acceleratorValues(const std::optional<AcceleratorQuota> &a)
{
    const AcceleratorQuota v = a.value_or(AcceleratorQuota{});
    return {a.has_value(),
            v.timeUsedSeconds,
            v.timeReservedSeconds,
            v.totalTimeAllowedSeconds,
            v.minimumTimeAllowedSeconds,
            v.isPayToScaleEnabled,
            v.hasEverRun};
}

std::optional<AcceleratorQuota> acceleratorAt(const QSqlQuery &q, int first)
{
    if (!q.value(first).toBool())
        return std::nullopt;
    AcceleratorQuota a;
    a.timeUsedSeconds = q.value(first + 1).toDouble();
    a.timeReservedSeconds = q.value(first + 2).toDouble();
    a.totalTimeAllowedSeconds = q.value(first + 3).toDouble();
    a.minimumTimeAllowedSeconds = q.value(first + 4).toDouble();
    a.isPayToScaleEnabled = q.value(first + 5).toBool();
    a.hasEverRun = q.value(first + 6).toBool();
    return a;
}

const QString chainColumns = QStringLiteral(
    "SELECT id, name, owner, slug, handoff, checkpoint_pattern, stop_rules, state, created_at "
    "FROM chains ");

ChainRecord chainAt(const QSqlQuery &q)
{
    ChainRecord c;
    c.id = q.value(0).toLongLong();
    c.name = q.value(1).toString();
    c.kernel = {q.value(2).toString(), q.value(3).toString()};
    c.handoff = q.value(4).toString();
    c.checkpointPattern = q.value(5).toString();
    c.stopRules = q.value(6).toString();
    c.state = q.value(7).toString();
    c.createdAt = timeAt(q, 8);
    return c;
}

QVariantList chainValues(const ChainRecord &c)
{
    return {c.name,      c.kernel.owner, c.kernel.slug, c.handoff, c.checkpointPattern,
            c.stopRules, c.state};
}

QDateTime nowIfInvalid(const QDateTime &t)
{
    return t.isValid() ? t : QDateTime::currentDateTimeUtc();
}

} // namespace

// --- Store ----------------------------------------------------------------------------------

QString Store::defaultPath()
{
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    return dir.isEmpty() ? QString() : dir + u"/kaggledeck.sqlite";
}

int Store::schemaVersion()
{
    return storeschema::latestVersion();
}

Store::Store(QString path, QString connectionName)
    : m_path(std::move(path)), m_connectionName(std::move(connectionName)),
      m_db(QSqlDatabase::addDatabase(sqliteDriver, m_connectionName))
{}

Store::~Store()
{
    m_db.close();
    // removeDatabase needs the last handle gone, or Qt warns the connection is still in use.
    m_db = QSqlDatabase();
    QSqlDatabase::removeDatabase(m_connectionName);
}

Result<std::unique_ptr<Store>> Store::open(const QString &path)
{
    if (path.isEmpty())
        return invalid(QStringLiteral("No file name given for the history database"));
    const bool inMemory = path == u":memory:";
    if (!inMemory) {
        const QFileInfo info(path);
        if (info.exists()) {
            if (info.isDir())
                return ApiError::make(
                    Kind::Io, QStringLiteral("The history %1 is a folder, not a file").arg(path));
            if (auto refused = probe(path))
                return *refused;
        } else if (!QDir().mkpath(info.absolutePath())) {
            return ApiError::make(Kind::Io,
                                  QStringLiteral("Could not create the folder %1 for the history")
                                      .arg(info.absolutePath()));
        }
    }

    std::unique_ptr<Store> store(
        new Store(path, nextConnectionName(QLatin1StringView("kaggledeck.store."))));
    QSqlDatabase &db = store->m_db;
    if (!db.isValid())
        return ApiError::make(Kind::Io, QStringLiteral("The Qt SQLite driver (QSQLITE) is not "
                                                       "installed; cannot open the history %1")
                                            .arg(path));
    db.setDatabaseName(path);
    db.setConnectOptions(connectOptions);
    if (!db.open())
        return ioError(QStringLiteral("open the history"), path, db.lastError());

    // Per-connection settings; none of them can run inside a transaction.
    QSqlError error;
    QVariant mode;
    QVariant foreignKeys;
    if (!execPragma(db, QStringLiteral("PRAGMA foreign_keys = ON"), nullptr, &error) ||
        !execPragma(db, QStringLiteral("PRAGMA foreign_keys"), &foreignKeys, &error) ||
        !execPragma(db, QStringLiteral("PRAGMA journal_mode = WAL"), &mode, &error) ||
        // NORMAL in WAL mode: a commit is in the OS before COMMIT returns, so a killed process
        // loses nothing; only a power cut can drop the last commits (never corrupting).
        !execPragma(db, QStringLiteral("PRAGMA synchronous = NORMAL"), nullptr, &error) ||
        // Trim the WAL after a checkpoint so one large batch does not leave a large file.
        !execPragma(db, QStringLiteral("PRAGMA journal_size_limit = 8388608"), nullptr, &error))
        return ioError(QStringLiteral("set up the history"), path, error);
    if (foreignKeys.toInt() != 1)
        return ApiError::make(Kind::Io, QStringLiteral("The SQLite library lacks foreign key "
                                                       "support; cannot open the history %1")
                                            .arg(path));
    if (!inMemory && mode.toString().compare(u"wal", Qt::CaseInsensitive) != 0)
        qCWarning(lcDb).noquote() << "WAL is not available for" << path << "- journal mode"
                                  << mode.toString();

    if (auto failed = migrate(db, path))
        return *failed;
    qCDebug(lcDb).noquote() << "opened" << path << "schema version" << schemaVersion();
    return store;
}

// --- runs -----------------------------------------------------------------------------------

Result<RunId> Store::addRun(const WatchedRun &run)
{
    if (!run.ref.isValid())
        return invalid(QStringLiteral("Cannot watch \"%1\": not an owner/slug kernel reference")
                           .arg(run.ref.toString()));
    Writer w(m_db, m_path, QStringLiteral("add the run %1").arg(run.ref.toString()));
    if (!w.began())
        return w.error();
    {
        QSqlQuery q(m_db);
        if (!w.exec(q, QStringLiteral("SELECT owner, slug FROM runs WHERE owner = ? AND slug = ?"),
                    {run.ref.owner, run.ref.slug}))
            return w.error();
        if (q.next())
            return invalid(
                QStringLiteral("%1 is already watched (as %2/%3)")
                    .arg(run.ref.toString(), q.value(0).toString(), q.value(1).toString()));
    }
    if (auto missing = requireChain(w, run.chainId))
        return *missing;
    QSqlQuery q(m_db);
    if (!w.exec(q,
                QStringLiteral("INSERT INTO runs (owner, slug, title, machine_shape, added_at, "
                               "chain_id, poll_running_seconds, poll_queued_seconds, muted, "
                               "snoozed_until, stuck_minutes, persistence) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                {run.ref.owner, run.ref.slug, run.title, run.machineShape,
                 msOrNull(nowIfInvalid(run.addedAt)), idOrNull(run.chainId),
                 run.settings.pollRunningSeconds, run.settings.pollQueuedSeconds,
                 run.settings.muted, msOrNull(run.settings.snoozedUntil), run.settings.stuckMinutes,
                 run.settings.persistence}))
        return w.error();
    WatchedRun stored = run;
    stored.id = q.lastInsertId().toLongLong();
    if (!writeRunLists(w, m_db, stored) || !w.commit())
        return w.error();
    return stored.id;
}

Result<Done> Store::updateRun(const WatchedRun &run)
{
    Writer w(m_db, m_path, QStringLiteral("save the run %1").arg(run.ref.toString()));
    if (!w.began())
        return w.error();
    if (auto missing = requireChain(w, run.chainId))
        return *missing;
    QSqlQuery q(m_db);
    if (!w.exec(q,
                QStringLiteral("UPDATE runs SET title = ?, machine_shape = ?, chain_id = ?, "
                               "poll_running_seconds = ?, poll_queued_seconds = ?, muted = ?, "
                               "snoozed_until = ?, stuck_minutes = ?, persistence = ? "
                               "WHERE id = ?"),
                {run.title, run.machineShape, idOrNull(run.chainId),
                 run.settings.pollRunningSeconds, run.settings.pollQueuedSeconds,
                 run.settings.muted, msOrNull(run.settings.snoozedUntil), run.settings.stuckMinutes,
                 run.settings.persistence, run.id}))
        return w.error();
    if (q.numRowsAffected() == 0)
        return notFound(QStringLiteral("No run with id %1 in the history").arg(run.id));
    if (!writeRunLists(w, m_db, run) || !w.commit())
        return w.error();
    return Done{};
}

Result<Done> Store::removeRun(RunId id)
{
    Writer w(m_db, m_path, QStringLiteral("remove run %1").arg(id));
    if (!w.began())
        return w.error();
    QSqlQuery q(m_db);
    // The foreign keys cascade to tags, patterns, sessions, events, metric points and alerts.
    if (!w.exec(q, QStringLiteral("DELETE FROM runs WHERE id = ?"), {id}))
        return w.error();
    if (q.numRowsAffected() == 0)
        return notFound(QStringLiteral("No run with id %1 in the history").arg(id));
    if (!w.commit())
        return w.error();
    return Done{};
}

QList<WatchedRun> Store::runs() const
{
    return loadRuns(m_db, {}, {});
}

std::optional<WatchedRun> Store::run(RunId id) const
{
    const auto found = loadRuns(m_db, QStringLiteral("WHERE id = ?"), {id});
    return found.isEmpty() ? std::nullopt : std::optional(found.first());
}

std::optional<WatchedRun> Store::runByRef(const KernelRef &ref) const
{
    const auto found =
        loadRuns(m_db, QStringLiteral("WHERE owner = ? AND slug = ?"), {ref.owner, ref.slug});
    return found.isEmpty() ? std::nullopt : std::optional(found.first());
}

// --- sessions -------------------------------------------------------------------------------

Result<SessionId> Store::addSession(const SessionRecord &s)
{
    Writer w(m_db, m_path, QStringLiteral("add a session of run %1").arg(s.runId));
    if (!w.began())
        return w.error();
    if (auto missing = requireRun(w, s.runId))
        return *missing;
    if (auto missing = requireChain(w, s.chainId))
        return *missing;
    QSqlQuery q(m_db);
    if (!w.exec(q,
                QStringLiteral("INSERT INTO sessions (run_id, version_number, pushed, first_seen, "
                               "ended_at, status, failure_message, machine_shape, "
                               "timeout_seconds, chain_id, chain_step) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                QVariantList{s.runId} + sessionValues(s)))
        return w.error();
    const SessionId id = q.lastInsertId().toLongLong();
    if (!w.commit())
        return w.error();
    return id;
}

Result<Done> Store::updateSession(const SessionRecord &s)
{
    Writer w(m_db, m_path, QStringLiteral("save session %1").arg(s.id));
    if (!w.began())
        return w.error();
    if (auto missing = requireChain(w, s.chainId))
        return *missing;
    QSqlQuery q(m_db);
    // run_id is not updated: a session belongs to its run for good.
    if (!w.exec(q,
                QStringLiteral("UPDATE sessions SET version_number = ?, pushed = ?, "
                               "first_seen = ?, ended_at = ?, status = ?, failure_message = ?, "
                               "machine_shape = ?, timeout_seconds = ?, chain_id = ?, "
                               "chain_step = ? WHERE id = ?"),
                sessionValues(s) + QVariantList{s.id}))
        return w.error();
    if (q.numRowsAffected() == 0)
        return notFound(QStringLiteral("No session with id %1 in the history").arg(s.id));
    if (!w.commit())
        return w.error();
    return Done{};
}

std::optional<SessionRecord> Store::session(SessionId id) const
{
    QSqlQuery q(m_db);
    if (read(q, sessionColumns + u"WHERE id = ?", {id}) && q.next())
        return sessionAt(q);
    return std::nullopt;
}

QList<SessionRecord> Store::sessions(RunId run) const
{
    QList<SessionRecord> result;
    QSqlQuery q(m_db);
    if (read(q, sessionColumns + u"WHERE run_id = ? ORDER BY first_seen, id", {run})) {
        while (q.next())
            result.append(sessionAt(q));
    }
    return result;
}

std::optional<SessionRecord> Store::latestSession(RunId run) const
{
    QSqlQuery q(m_db);
    if (read(q, sessionColumns + u"WHERE run_id = ? ORDER BY first_seen DESC, id DESC LIMIT 1",
             {run}) &&
        q.next())
        return sessionAt(q);
    return std::nullopt;
}

Result<Done> Store::addStatusEvent(const StatusEvent &e)
{
    if (!e.at.isValid())
        return invalid(QStringLiteral("A status event of session %1 has no time").arg(e.sessionId));
    Writer w(m_db, m_path, QStringLiteral("add a status change of session %1").arg(e.sessionId));
    if (!w.began())
        return w.error();
    if (auto missing = requireSession(w, e.sessionId))
        return *missing;
    QSqlQuery q(m_db);
    if (!w.exec(
            q,
            QStringLiteral("INSERT INTO status_events (session_id, status, at) VALUES (?, ?, ?)"),
            {e.sessionId, int(e.status), msOrNull(e.at)}) ||
        !w.commit())
        return w.error();
    return Done{};
}

QList<StatusEvent> Store::statusEvents(SessionId session) const
{
    QList<StatusEvent> result;
    QSqlQuery q(m_db);
    if (read(q,
             QStringLiteral("SELECT session_id, status, at FROM status_events WHERE session_id = ? "
                            "ORDER BY at, id"),
             {session})) {
        while (q.next())
            result.append(eventAt(q));
    }
    return result;
}

QList<StatusEvent> Store::statusEventsSince(const QDateTime &since) const
{
    QList<StatusEvent> result;
    QSqlQuery q(m_db);
    const qint64 from =
        since.isValid() ? since.toMSecsSinceEpoch() : std::numeric_limits<qint64>::min();
    if (read(q,
             QStringLiteral("SELECT session_id, status, at FROM status_events WHERE at >= ? "
                            "ORDER BY at, id"),
             {from})) {
        while (q.next())
            result.append(eventAt(q));
    }
    return result;
}

// --- quota ----------------------------------------------------------------------------------

Result<Done> Store::addQuotaSnapshot(const QuotaSnapshot &s)
{
    if (!s.at.isValid())
        return invalid(QStringLiteral("A quota snapshot has no time"));
    Writer w(m_db, m_path, QStringLiteral("add a quota snapshot"));
    if (!w.began())
        return w.error();
    QSqlQuery q(m_db);
    if (!w.exec(q,
                QStringLiteral("INSERT INTO quota_snapshots (at, refresh_time, "
                               "has_gpu, gpu_used, gpu_reserved, gpu_total, gpu_min, "
                               "gpu_pay_to_scale, gpu_has_ever_run, "
                               "has_tpu, tpu_used, tpu_reserved, tpu_total, tpu_min, "
                               "tpu_pay_to_scale, tpu_has_ever_run) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                QVariantList{msOrNull(s.at), msOrNull(s.stats.quotaRefreshTime)} +
                    acceleratorValues(s.stats.gpu) + acceleratorValues(s.stats.tpu)) ||
        !w.commit())
        return w.error();
    return Done{};
}

QList<QuotaSnapshot> Store::quotaSnapshots(const QDateTime &since) const
{
    QList<QuotaSnapshot> result;
    QSqlQuery q(m_db);
    const qint64 from =
        since.isValid() ? since.toMSecsSinceEpoch() : std::numeric_limits<qint64>::min();
    if (read(q,
             QStringLiteral("SELECT at, refresh_time, "
                            "has_gpu, gpu_used, gpu_reserved, gpu_total, gpu_min, "
                            "gpu_pay_to_scale, gpu_has_ever_run, "
                            "has_tpu, tpu_used, tpu_reserved, tpu_total, tpu_min, "
                            "tpu_pay_to_scale, tpu_has_ever_run "
                            "FROM quota_snapshots WHERE at >= ? ORDER BY at, id"),
             {from})) {
        while (q.next()) {
            QuotaSnapshot s;
            s.at = timeAt(q, 0);
            s.stats.quotaRefreshTime = timeAt(q, 1);
            s.stats.gpu = acceleratorAt(q, 2);
            s.stats.tpu = acceleratorAt(q, 9);
            result.append(s);
        }
    }
    return result;
}

// --- metrics --------------------------------------------------------------------------------

Result<Done> Store::addMetricPoints(const QList<MetricPoint> &points)
{
    if (points.isEmpty())
        return Done{};
    Writer w(m_db, m_path, QStringLiteral("add %1 metric points").arg(points.size()));
    if (!w.began())
        return w.error();
    QSet<SessionId> sessions;
    for (const MetricPoint &p : points) {
        if (!sessions.contains(p.sessionId)) {
            if (auto missing = requireSession(w, p.sessionId))
                return *missing;
            sessions.insert(p.sessionId);
        }
    }
    QSqlQuery q(m_db);
    if (!w.prepare(q, QStringLiteral("INSERT INTO metric_points (session_id, series, value, "
                                     "log_time, epoch, step) VALUES (?, ?, ?, ?, ?, ?)")))
        return w.error();
    for (const MetricPoint &p : points) {
        if (!w.run(q, {p.sessionId, p.series, realOrNull(p.value), realOrNull(p.logTime),
                       realOrNull(p.epoch), p.step}))
            return w.error();
    }
    if (!w.commit())
        return w.error();
    return Done{};
}

QList<MetricPoint> Store::metricPoints(SessionId session, const QString &series) const
{
    QList<MetricPoint> result;
    QSqlQuery q(m_db);
    const bool all = series.isEmpty();
    const bool ok =
        all ? read(q,
                   QStringLiteral("SELECT session_id, series, value, log_time, epoch, step FROM "
                                  "metric_points WHERE session_id = ? ORDER BY id"),
                   {session})
            : read(q,
                   QStringLiteral("SELECT session_id, series, value, log_time, epoch, step FROM "
                                  "metric_points WHERE session_id = ? AND series = ? ORDER BY id"),
                   {session, series});
    if (ok) {
        while (q.next()) {
            MetricPoint p;
            p.sessionId = q.value(0).toLongLong();
            p.series = q.value(1).toString();
            p.value = realAt(q, 2);
            p.logTime = realAt(q, 3);
            p.epoch = realAt(q, 4);
            p.step = q.value(5).toLongLong();
            result.append(p);
        }
    }
    return result;
}

QStringList Store::metricSeries(SessionId session) const
{
    QStringList result;
    QSqlQuery q(m_db);
    if (read(q,
             QStringLiteral("SELECT DISTINCT series FROM metric_points WHERE session_id = ? "
                            "ORDER BY series"),
             {session})) {
        while (q.next())
            result.append(q.value(0).toString());
    }
    return result;
}

// --- alerts ---------------------------------------------------------------------------------

Result<qint64> Store::addAlert(const Alert &a)
{
    if (!a.at.isValid())
        return invalid(QStringLiteral("The alert \"%1\" has no time").arg(a.title));
    Writer w(m_db, m_path, QStringLiteral("add the alert \"%1\"").arg(a.title));
    if (!w.began())
        return w.error();
    if (a.runId != 0) {
        if (auto missing = requireRun(w, a.runId))
            return *missing;
    }
    if (a.sessionId != 0) {
        if (auto missing = requireSession(w, a.sessionId))
            return *missing;
    }
    QSqlQuery q(m_db);
    if (!w.exec(q,
                QStringLiteral("INSERT INTO alerts (kind, run_id, session_id, at, title, text) "
                               "VALUES (?, ?, ?, ?, ?, ?)"),
                {alertKindName(a.kind), idOrNull(a.runId), idOrNull(a.sessionId), msOrNull(a.at),
                 a.title, a.text}))
        return w.error();
    const qint64 id = q.lastInsertId().toLongLong();
    if (!w.commit())
        return w.error();
    return id;
}

Result<Done> Store::acknowledgeAlert(qint64 id)
{
    Writer w(m_db, m_path, QStringLiteral("acknowledge alert %1").arg(id));
    if (!w.began())
        return w.error();
    QSqlQuery q(m_db);
    if (!w.exec(q, QStringLiteral("UPDATE alerts SET acknowledged = 1 WHERE id = ?"), {id}))
        return w.error();
    if (q.numRowsAffected() == 0)
        return notFound(QStringLiteral("No alert with id %1 in the history").arg(id));
    if (!w.commit())
        return w.error();
    return Done{};
}

Result<Done> Store::acknowledgeAllAlerts()
{
    Writer w(m_db, m_path, QStringLiteral("acknowledge the alerts"));
    QSqlQuery q(m_db);
    if (!w.began() ||
        !w.exec(q, QStringLiteral("UPDATE alerts SET acknowledged = 1 WHERE acknowledged = 0")) ||
        !w.commit())
        return w.error();
    return Done{};
}

QList<Alert> Store::alerts(int limit, AlertFilter filter) const
{
    QList<Alert> result;
    QSqlQuery q(m_db);
    // LIMIT -1 is SQLite's "no limit".
    const QVariantList values{limit > 0 ? limit : -1};
    const bool ok =
        filter == AlertFilter::All
            ? read(q,
                   QStringLiteral("SELECT id, kind, run_id, session_id, at, title, text FROM "
                                  "alerts ORDER BY at DESC, id DESC LIMIT ?"),
                   values)
            : read(q,
                   QStringLiteral("SELECT id, kind, run_id, session_id, at, title, text FROM "
                                  "alerts WHERE acknowledged = 0 ORDER BY at DESC, id DESC "
                                  "LIMIT ?"),
                   values);
    if (ok) {
        while (q.next()) {
            Alert a;
            a.id = q.value(0).toLongLong();
            a.kind = alertKindFrom(q.value(1).toString());
            a.runId = q.value(2).toLongLong();
            a.sessionId = q.value(3).toLongLong();
            a.at = timeAt(q, 4);
            a.title = q.value(5).toString();
            a.text = q.value(6).toString();
            result.append(a);
        }
    }
    return result;
}

int Store::unacknowledgedAlertCount() const
{
    QSqlQuery q(m_db);
    if (read(q, QStringLiteral("SELECT count(*) FROM alerts WHERE acknowledged = 0")) && q.next())
        return q.value(0).toInt();
    return 0;
}

// --- chains ---------------------------------------------------------------------------------

Result<ChainId> Store::addChain(const ChainRecord &c)
{
    Writer w(m_db, m_path, QStringLiteral("add the chain \"%1\"").arg(c.name));
    if (!w.began())
        return w.error();
    QSqlQuery q(m_db);
    if (!w.exec(q,
                QStringLiteral("INSERT INTO chains (name, owner, slug, handoff, "
                               "checkpoint_pattern, stop_rules, state, created_at) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
                chainValues(c) + QVariantList{msOrNull(nowIfInvalid(c.createdAt))}))
        return w.error();
    const ChainId id = q.lastInsertId().toLongLong();
    if (!w.commit())
        return w.error();
    return id;
}

Result<Done> Store::updateChain(const ChainRecord &c)
{
    Writer w(m_db, m_path, QStringLiteral("save the chain \"%1\"").arg(c.name));
    if (!w.began())
        return w.error();
    QSqlQuery q(m_db);
    if (!w.exec(q,
                QStringLiteral("UPDATE chains SET name = ?, owner = ?, slug = ?, handoff = ?, "
                               "checkpoint_pattern = ?, stop_rules = ?, state = ?, "
                               "created_at = ? WHERE id = ?"),
                chainValues(c) + QVariantList{msOrNull(c.createdAt), c.id}))
        return w.error();
    if (q.numRowsAffected() == 0)
        return notFound(QStringLiteral("No chain with id %1 in the history").arg(c.id));
    if (!w.commit())
        return w.error();
    return Done{};
}

std::optional<ChainRecord> Store::chain(ChainId id) const
{
    QSqlQuery q(m_db);
    if (read(q, chainColumns + u"WHERE id = ?", {id}) && q.next())
        return chainAt(q);
    return std::nullopt;
}

QList<ChainRecord> Store::chains() const
{
    QList<ChainRecord> result;
    QSqlQuery q(m_db);
    if (read(q, chainColumns + u"ORDER BY id")) {
        while (q.next())
            result.append(chainAt(q));
    }
    return result;
}

Result<Done> Store::setChainProgress(ChainId id, const ChainProgress &progress)
{
    Writer w(m_db, m_path, QStringLiteral("save the progress of chain %1").arg(id));
    if (!w.began())
        return w.error();
    QSqlQuery q(m_db);
    if (!w.exec(q,
                QStringLiteral("UPDATE chains SET reason = ?, dataset_ref = ?, pending = ? "
                               "WHERE id = ?"),
                {progress.reason, progress.datasetRef, progress.pending, id}))
        return w.error();
    if (q.numRowsAffected() == 0)
        return notFound(QStringLiteral("No chain with id %1 in the history").arg(id));
    if (!w.commit())
        return w.error();
    return Done{};
}

ChainProgress Store::chainProgress(ChainId id) const
{
    ChainProgress p;
    QSqlQuery q(m_db);
    if (read(q, QStringLiteral("SELECT reason, dataset_ref, pending FROM chains WHERE id = ?"),
             {id}) &&
        q.next()) {
        p.reason = q.value(0).toString();
        p.datasetRef = q.value(1).toString();
        p.pending = q.value(2).toString();
    }
    return p;
}

Result<Done> Store::saveChainStep(const ChainStepRecord &step)
{
    Writer w(m_db, m_path,
             QStringLiteral("save step %1 of chain %2").arg(step.step).arg(step.chainId));
    if (!w.began())
        return w.error();
    if (auto missing =
            require(w, QStringLiteral("SELECT 1 FROM chains WHERE id = ?"), step.chainId,
                    QStringLiteral("No chain with id %1 in the history").arg(step.chainId)))
        return *missing;
    if (step.runId != 0) {
        if (auto missing = requireRun(w, step.runId))
            return *missing;
    }
    if (step.sessionId != 0) {
        if (auto missing = requireSession(w, step.sessionId))
            return *missing;
    }
    QSqlQuery q(m_db);
    if (!w.exec(q,
                QStringLiteral("INSERT OR REPLACE INTO chain_steps (chain_id, step, run_id, "
                               "session_id, state, started_at, ended_at, note) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
                {step.chainId, step.step, idOrNull(step.runId), idOrNull(step.sessionId),
                 step.state, msOrNull(step.startedAt), msOrNull(step.endedAt), step.note}) ||
        !w.commit())
        return w.error();
    return Done{};
}

QList<ChainStepRecord> Store::chainSteps(ChainId chain) const
{
    QList<ChainStepRecord> result;
    QSqlQuery q(m_db);
    if (read(q,
             QStringLiteral("SELECT chain_id, step, run_id, session_id, state, started_at, "
                            "ended_at, note FROM chain_steps WHERE chain_id = ? ORDER BY step"),
             {chain})) {
        while (q.next()) {
            ChainStepRecord s;
            s.chainId = q.value(0).toLongLong();
            s.step = q.value(1).toInt();
            s.runId = q.value(2).toLongLong();
            s.sessionId = q.value(3).toLongLong();
            s.state = q.value(4).toString();
            s.startedAt = timeAt(q, 5);
            s.endedAt = timeAt(q, 6);
            s.note = q.value(7).toString();
            result.append(s);
        }
    }
    return result;
}

Result<Done> Store::addChainLog(const ChainLogEntry &entry)
{
    Writer w(m_db, m_path, QStringLiteral("log to chain %1").arg(entry.chainId));
    if (!w.began())
        return w.error();
    if (auto missing =
            require(w, QStringLiteral("SELECT 1 FROM chains WHERE id = ?"), entry.chainId,
                    QStringLiteral("No chain with id %1 in the history").arg(entry.chainId)))
        return *missing;
    QSqlQuery q(m_db);
    if (!w.exec(q, QStringLiteral("INSERT INTO chain_log (chain_id, at, text) VALUES (?, ?, ?)"),
                {entry.chainId, msOrNull(nowIfInvalid(entry.at)), entry.text}) ||
        !w.commit())
        return w.error();
    return Done{};
}

QList<ChainLogEntry> Store::chainLog(ChainId chain) const
{
    QList<ChainLogEntry> result;
    QSqlQuery q(m_db);
    if (read(q,
             QStringLiteral("SELECT chain_id, at, text FROM chain_log WHERE chain_id = ? "
                            "ORDER BY at, id"),
             {chain})) {
        while (q.next())
            result.append({q.value(0).toLongLong(), timeAt(q, 1), q.value(2).toString()});
    }
    return result;
}

// --- commit queue ---------------------------------------------------------------------------

namespace {

QString queueStateName(QueuedCommit::State state)
{
    return state == QueuedCommit::State::Failed ? QStringLiteral("failed")
                                                : QStringLiteral("pending");
}

} // namespace

Result<qint64> Store::addQueuedCommit(const QueuedCommit &c)
{
    Writer w(m_db, m_path, QStringLiteral("queue the commit of %1").arg(c.ref));
    if (!w.began())
        return w.error();
    if (c.runId != 0) {
        if (auto missing = requireRun(w, c.runId))
            return *missing;
    }
    QSqlQuery q(m_db);
    if (!w.exec(q,
                QStringLiteral("INSERT INTO commit_queue (run_id, ref, request, machine_shape, "
                               "created_at, state, last_error) VALUES (?, ?, ?, ?, ?, ?, ?)"),
                {idOrNull(c.runId), c.ref, c.request, c.machineShape,
                 msOrNull(nowIfInvalid(c.createdAt)), queueStateName(c.state), c.lastError}))
        return w.error();
    const qint64 id = q.lastInsertId().toLongLong();
    if (!w.commit())
        return w.error();
    return id;
}

Result<Done> Store::updateQueuedCommit(const QueuedCommit &c)
{
    Writer w(m_db, m_path, QStringLiteral("update the queued commit of %1").arg(c.ref));
    if (!w.began())
        return w.error();
    QSqlQuery q(m_db);
    if (!w.exec(q, QStringLiteral("UPDATE commit_queue SET state = ?, last_error = ? WHERE id = ?"),
                {queueStateName(c.state), c.lastError, c.id}))
        return w.error();
    if (q.numRowsAffected() == 0)
        return notFound(QStringLiteral("No queued commit with id %1").arg(c.id));
    if (!w.commit())
        return w.error();
    return Done{};
}

Result<Done> Store::removeQueuedCommit(qint64 id)
{
    Writer w(m_db, m_path, QStringLiteral("remove a queued commit"));
    if (!w.began())
        return w.error();
    QSqlQuery q(m_db);
    if (!w.exec(q, QStringLiteral("DELETE FROM commit_queue WHERE id = ?"), {id}))
        return w.error();
    if (q.numRowsAffected() == 0)
        return notFound(QStringLiteral("No queued commit with id %1").arg(id));
    if (!w.commit())
        return w.error();
    return Done{};
}

QList<QueuedCommit> Store::queuedCommits() const
{
    QList<QueuedCommit> result;
    QSqlQuery q(m_db);
    if (read(q, QStringLiteral("SELECT id, run_id, ref, request, machine_shape, created_at, "
                               "state, last_error FROM commit_queue ORDER BY created_at, id"))) {
        while (q.next()) {
            QueuedCommit c;
            c.id = q.value(0).toLongLong();
            c.runId = q.value(1).toLongLong();
            c.ref = q.value(2).toString();
            c.request = q.value(3).toByteArray();
            c.machineShape = q.value(4).toString();
            c.createdAt = timeAt(q, 5);
            c.state = q.value(6).toString() == u"failed" ? QueuedCommit::State::Failed
                                                         : QueuedCommit::State::Pending;
            c.lastError = q.value(7).toString();
            result.append(c);
        }
    }
    return result;
}

// --- settings -------------------------------------------------------------------------------

Result<Done> Store::setValue(const QString &key, const QString &value)
{
    if (key.isEmpty())
        return invalid(QStringLiteral("A setting needs a name"));
    Writer w(m_db, m_path, QStringLiteral("save the setting %1").arg(key));
    QSqlQuery q(m_db);
    if (!w.began() ||
        !w.exec(q,
                QStringLiteral("INSERT INTO settings (key, value) VALUES (?, ?) "
                               "ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
                {key, value}) ||
        !w.commit())
        return w.error();
    return Done{};
}

QString Store::value(const QString &key, const QString &fallback) const
{
    QSqlQuery q(m_db);
    if (read(q, QStringLiteral("SELECT value FROM settings WHERE key = ?"), {key}) && q.next())
        return q.value(0).toString();
    return fallback;
}

Result<QString> Store::integrityCheck() const
{
    QSqlQuery q(m_db);
    q.setForwardOnly(true);
    QStringList problems;
    if (q.prepare(QStringLiteral("PRAGMA integrity_check")) && q.exec()) {
        while (q.next())
            problems << q.value(0).toString();
    }
    if (q.lastError().isValid())
        return ioError(QStringLiteral("check the history"), m_path, q.lastError());
    return problems.join(u'\n');
}

} // namespace kd
