#pragma once

#include "domain.h"
#include "logarchive.h"
#include "logtailmodel.h"
#include "metricsparser.h"
#include "terminallog.h"

#include <memory>

namespace kd {

/// The log of one run's current session: terminal folding, the bounded in-memory tail, the
/// capped archive on disk and the metrics parsed from it.
class RunLog final
{
public:
    RunLog(RunId run, SessionId session, const QString &archiveDir, const RunSettings &settings,
           int tailLines = LogTailModel::kDefaultMaxLines,
           qint64 archiveCap = LogArchive::kDefaultCapBytes);
    Q_DISABLE_COPY_MOVE(RunLog)

    struct Ingested
    {
        QList<LogLine> lines;      ///< completed display lines (superseded states excluded)
        QList<MetricPoint> points; ///< with sessionId set
    };

    /// Folds new events into the tail, appends them to the archive and parses metrics.
    /// With `archive` false (replaying an archive), the disk file is left alone.
    Ingested ingest(const QList<LogEvent> &events, bool archive = true);
    /// The session ended: completes partial lines and syncs the archive to disk.
    void finish();

    RunId run() const { return m_run; }
    /// Log events of this session taken in so far (replayed from the archive or live).
    qint64 eventCount() const { return m_events; }
    SessionId session() const { return m_session; }
    LogTailModel *tail() const { return m_tail.get(); }
    const LogArchive &archive() const { return m_archive; }
    /// Seconds of training left now, from the metrics; empty when the log does not tell.
    std::optional<double> etaSeconds() const;
    /// Messages for user metric patterns that are invalid.
    const QStringList &patternErrors() const { return m_patternErrors; }

private:
    RunId m_run;
    SessionId m_session;
    TerminalLog m_terminal;
    MetricsParser m_metrics;
    LogArchive m_archive;
    std::unique_ptr<LogTailModel> m_tail;
    QStringList m_patternErrors;
    double m_lastLogTime = 0;
    qint64 m_events = 0;
};

} // namespace kd
