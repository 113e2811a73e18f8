#pragma once

// Session "persistence" (kaggle-api.md section 7, DESIGN.md "Persistence"): Kaggle applies it
// only to interactive sessions and its public API cannot set it, so for committed runs
// KaggleDeck carries out the "Files" part itself.

#include "apierror.h"
#include "domain.h"

#include <QHash>
#include <QObject>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>

namespace kd {

class KaggleClient;
class RunMonitor;

/// The four modes Kaggle's editor offers; stored by id() in RunSettings::persistence.
enum class PersistenceMode { None, VariablesOnly, FilesOnly, VariablesAndFiles };

/// The modes, their stored ids and the plain text the persistence dialog shows.
namespace persistence {

QList<PersistenceMode> allModes();
/// "none", "variables", "files", "variables_files".
QString id(PersistenceMode mode);
/// An empty id is None; an unknown id is nullopt.
std::optional<PersistenceMode> fromId(const QString &id);
/// The mode of a stored setting; unknown ids read as None.
PersistenceMode modeOf(const RunSettings &settings);
/// "No persistence", "Variables only", "Files only", "Variables & Files".
QString label(PersistenceMode mode);
/// What Kaggle does with the modes and what the public API allows.
QString kaggleNotice();
/// What KaggleDeck does for committed runs of this kernel in this mode.
QString committedRunEffect(PersistenceMode mode);
/// True when the mode keeps files, which KaggleDeck honours for committed runs.
bool carriesFiles(PersistenceMode mode);
/// True when the mode asks for variables, which no committed run can keep.
bool wantsVariables(PersistenceMode mode);
/// Why variables cannot be honoured for committed runs; empty when the mode has none.
QString variablesNotPossibleReason(PersistenceMode mode);

} // namespace persistence

/// Mirrors the outputs of runs with a Files mode to `<dataDir>/mirror/<owner>/<slug>/v<N>/`
/// when a session ends COMPLETE or ERROR.
class PersistenceMirror final : public QObject
{
    Q_OBJECT
public:
    /// One finished mirror.
    struct Report
    {
        RunId run = 0;
        KernelRef ref;
        QString folder;
        QStringList downloaded; ///< relative names, as written
        QStringList refused;    ///< "name: reason" for hostile or invalid names
        QStringList failed;     ///< "name: error" for downloads that failed
        bool ok() const { return failed.isEmpty(); }
    };

    PersistenceMirror(KaggleClient *client, RunMonitor *monitor, QString dataDir,
                      QObject *parent = nullptr);

    QString mirrorRoot() const;
    /// The folder a session's outputs go to.
    QString folderFor(const KernelRef &ref, const SessionRecord &session) const;
    /// Mirrors the latest outputs of `run` now, whatever its mode.
    void mirror(RunId run, const SessionRecord &session);
    /// Mirrors in flight.
    int pending() const { return int(m_inFlight.size()); }

signals:
    void mirrorFinished(const kd::PersistenceMirror::Report &report);
    /// Listing the outputs failed or a folder could not be made.
    void mirrorFailed(kd::RunId run, const kd::ApiError &error);

private:
    void onTransition(RunId run, const SessionRecord &session, KernelStatus previous);
    void downloadNext(qint64 job);

    struct Job;
    KaggleClient *m_client;
    RunMonitor *m_monitor;
    QString m_dataDir;
    QHash<qint64, std::shared_ptr<Job>> m_inFlight;
    qint64 m_nextJob = 1;
};

} // namespace kd
