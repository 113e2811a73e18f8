#pragma once

// The schema history of the local store. Internal to Store: nothing else includes this.

#include <QLatin1StringView>
#include <QSqlDatabase>
#include <QSqlError>

#include <span>

namespace kd::storeschema {

/// PRAGMA application_id of a KaggleDeck store ("KDck"), so `file(1)` and we can tell our
/// files from other SQLite databases.
inline constexpr qint32 applicationId = 0x4B44636B;

/// One forward step of the schema, run by Store inside its own transaction.
struct Migration
{
    int toVersion;
    QLatin1StringView summary;
    /// Returns an invalid QSqlError on success, the failing statement's error otherwise.
    QSqlError (*apply)(QSqlDatabase &db);
};

/// Every step in order; version N is reached by applying steps 1..N. Steps are never edited
/// once released: a change to the schema is a new step.
std::span<const Migration> migrations();

/// The version the last step reaches (the `PRAGMA user_version` of a current store).
int latestVersion();

} // namespace kd::storeschema
