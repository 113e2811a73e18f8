#include "storemigrations.h"

#include <QSqlQuery>
#include <QStringList>

#include <array>

namespace kd::storeschema {

namespace {

QSqlError execAll(QSqlDatabase &db, std::span<const char *const> statements)
{
    for (const char *sql : statements) {
        QSqlQuery q(db);
        if (!q.prepare(QString::fromLatin1(sql)) || !q.exec())
            return q.lastError();
    }
    return {};
}

// Conventions: times are UTC milliseconds since the epoch (NULL when unknown); ids that
// others hold on to (runs, sessions, alerts, chains) are AUTOINCREMENT so a deleted id is
// never handed out again; 0 ids in the domain types are NULL here so foreign keys hold;
// every foreign key column is indexed so cascades do not scan.
constexpr std::array version1{
    R"(CREATE TABLE chains (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL DEFAULT '',
        owner TEXT NOT NULL DEFAULT '',
        slug TEXT NOT NULL DEFAULT '',
        handoff TEXT NOT NULL DEFAULT '',
        checkpoint_pattern TEXT NOT NULL DEFAULT '',
        stop_rules TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL DEFAULT '',
        created_at INTEGER
    ))",
    // Kaggle user names and slugs are case-insensitive, hence NOCASE on the unique ref.
    R"(CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        owner TEXT NOT NULL COLLATE NOCASE,
        slug TEXT NOT NULL COLLATE NOCASE,
        title TEXT NOT NULL DEFAULT '',
        machine_shape TEXT NOT NULL DEFAULT '',
        added_at INTEGER,
        chain_id INTEGER REFERENCES chains(id) ON DELETE SET NULL,
        poll_running_seconds INTEGER NOT NULL DEFAULT 0,
        poll_queued_seconds INTEGER NOT NULL DEFAULT 0,
        muted INTEGER NOT NULL DEFAULT 0,
        snoozed_until INTEGER,
        stuck_minutes INTEGER NOT NULL DEFAULT 0,
        persistence TEXT NOT NULL DEFAULT '',
        UNIQUE (owner, slug)
    ))",
    "CREATE INDEX runs_chain ON runs(chain_id)",
    R"(CREATE TABLE run_tags (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        tag TEXT NOT NULL,
        PRIMARY KEY (run_id, position)
    ) WITHOUT ROWID)",
    "CREATE INDEX run_tags_tag ON run_tags(tag)",
    // The list-valued run settings (alert and metric regexes), one row per pattern.
    R"(CREATE TABLE run_patterns (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('log', 'metric')),
        position INTEGER NOT NULL,
        pattern TEXT NOT NULL,
        PRIMARY KEY (run_id, kind, position)
    ) WITHOUT ROWID)",
    R"(CREATE TABLE sessions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        version_number INTEGER NOT NULL DEFAULT 0,
        pushed INTEGER NOT NULL DEFAULT 0,
        first_seen INTEGER,
        ended_at INTEGER,
        status INTEGER NOT NULL,
        failure_message TEXT NOT NULL DEFAULT '',
        machine_shape TEXT NOT NULL DEFAULT '',
        timeout_seconds INTEGER NOT NULL DEFAULT 0,
        chain_id INTEGER REFERENCES chains(id) ON DELETE SET NULL,
        chain_step INTEGER NOT NULL DEFAULT 0
    ))",
    "CREATE INDEX sessions_run ON sessions(run_id, first_seen)",
    "CREATE INDEX sessions_chain ON sessions(chain_id)",
    R"(CREATE TABLE status_events (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        status INTEGER NOT NULL,
        at INTEGER NOT NULL
    ))",
    "CREATE INDEX status_events_session ON status_events(session_id, at)",
    "CREATE INDEX status_events_at ON status_events(at)",
    // Seconds as REAL, as the API reports them; the has_* flags tell "no TPU quota" from zero.
    R"(CREATE TABLE quota_snapshots (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        refresh_time INTEGER,
        has_gpu INTEGER NOT NULL DEFAULT 0,
        gpu_used REAL NOT NULL DEFAULT 0,
        gpu_reserved REAL NOT NULL DEFAULT 0,
        gpu_total REAL NOT NULL DEFAULT 0,
        gpu_min REAL NOT NULL DEFAULT 0,
        gpu_pay_to_scale INTEGER NOT NULL DEFAULT 0,
        gpu_has_ever_run INTEGER NOT NULL DEFAULT 0,
        has_tpu INTEGER NOT NULL DEFAULT 0,
        tpu_used REAL NOT NULL DEFAULT 0,
        tpu_reserved REAL NOT NULL DEFAULT 0,
        tpu_total REAL NOT NULL DEFAULT 0,
        tpu_min REAL NOT NULL DEFAULT 0,
        tpu_pay_to_scale INTEGER NOT NULL DEFAULT 0,
        tpu_has_ever_run INTEGER NOT NULL DEFAULT 0
    ))",
    "CREATE INDEX quota_snapshots_at ON quota_snapshots(at)",
    // SQLite stores a NaN as NULL, so NULL in the REAL columns reads back as NaN.
    R"(CREATE TABLE metric_points (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        series TEXT NOT NULL,
        value REAL,
        log_time REAL,
        epoch REAL,
        step INTEGER NOT NULL DEFAULT -1
    ))",
    "CREATE INDEX metric_points_series ON metric_points(session_id, series)",
    // Kinds are stored by name: AlertKind has no fixed numbering.
    R"(CREATE TABLE alerts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        run_id INTEGER REFERENCES runs(id) ON DELETE CASCADE,
        session_id INTEGER REFERENCES sessions(id) ON DELETE CASCADE,
        at INTEGER NOT NULL,
        title TEXT NOT NULL DEFAULT '',
        text TEXT NOT NULL DEFAULT '',
        acknowledged INTEGER NOT NULL DEFAULT 0
    ))",
    "CREATE INDEX alerts_at ON alerts(at)",
    "CREATE INDEX alerts_run ON alerts(run_id)",
    "CREATE INDEX alerts_session ON alerts(session_id)",
    R"(CREATE TABLE settings (
        key TEXT NOT NULL PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID)",
};

QSqlError createVersion1(QSqlDatabase &db)
{
    return execAll(db, version1);
}

// The local commit queue: pushes refused by the GPU concurrency limit, waiting for a slot.
// The request is the SaveKernelRequest as a QDataStream blob (no JSON in the core).
constexpr std::array version2{
    R"(CREATE TABLE commit_queue (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
        ref TEXT NOT NULL,
        request BLOB NOT NULL,
        machine_shape TEXT NOT NULL DEFAULT '',
        created_at INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'failed')),
        last_error TEXT NOT NULL DEFAULT ''
    ))",
    "CREATE INDEX commit_queue_run ON commit_queue(run_id)",
};

QSqlError createVersion2(QSqlDatabase &db)
{
    return execAll(db, version2);
}

// Chains: one row per step (the run and session it committed, its state and a note), the
// chain's own log, and on the chain what a restart needs to go on (why it stopped, the
// dataset it versions, a pause or abort asked for while a step runs).
constexpr std::array version3{
    R"(CREATE TABLE chain_steps (
        chain_id INTEGER NOT NULL REFERENCES chains(id) ON DELETE CASCADE,
        step INTEGER NOT NULL,
        run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
        session_id INTEGER REFERENCES sessions(id) ON DELETE SET NULL,
        state TEXT NOT NULL DEFAULT '',
        started_at INTEGER,
        ended_at INTEGER,
        note TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (chain_id, step)
    ) WITHOUT ROWID)",
    "CREATE INDEX chain_steps_session ON chain_steps(session_id)",
    "CREATE INDEX chain_steps_run ON chain_steps(run_id)",
    R"(CREATE TABLE chain_log (
        id INTEGER PRIMARY KEY,
        chain_id INTEGER NOT NULL REFERENCES chains(id) ON DELETE CASCADE,
        at INTEGER NOT NULL,
        text TEXT NOT NULL
    ))",
    "CREATE INDEX chain_log_chain ON chain_log(chain_id, at)",
    "ALTER TABLE chains ADD COLUMN reason TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE chains ADD COLUMN dataset_ref TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE chains ADD COLUMN pending TEXT NOT NULL DEFAULT ''",
};

QSqlError createVersion3(QSqlDatabase &db)
{
    return execAll(db, version3);
}

constexpr std::array<Migration, 3> steps{
    Migration{1, QLatin1StringView("create the history tables"), &createVersion1},
    Migration{2, QLatin1StringView("add the commit queue"), &createVersion2},
    Migration{3, QLatin1StringView("add chain steps and the chain log"), &createVersion3},
};

} // namespace

std::span<const Migration> migrations()
{
    return steps;
}

int latestVersion()
{
    return steps.back().toVersion;
}

} // namespace kd::storeschema
