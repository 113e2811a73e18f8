#include "runlog.h"

namespace kd {

RunLog::RunLog(RunId run, SessionId session, const QString &archiveDir, const RunSettings &settings,
               int tailLines, qint64 archiveCap)
    : m_run(run), m_session(session), m_archive(archiveDir, session, archiveCap),
      m_tail(std::make_unique<LogTailModel>())
{
    m_tail->setMaxLines(tailLines);
    m_terminal.setReportSuperseded(true); // every tqdm update carries a loss value
    m_patternErrors = m_metrics.setUserPatterns(settings.metricPatterns);
}

RunLog::Ingested RunLog::ingest(const QList<LogEvent> &events, bool archive)
{
    Ingested result;
    if (events.isEmpty())
        return result;
    QList<LogLine> folded;
    folded.reserve(events.size());
    for (const LogEvent &e : events) {
        m_terminal.feed(e, folded);
        // The archive's truncation marker is shown, but it is no event of the session.
        if (archive || !LogArchive::isTruncationMarker(e))
            ++m_events;
    }
    m_lastLogTime = events.constLast().time;
    if (archive)
        m_archive.append(events);
    m_metrics.parseLines(folded, result.points);
    for (MetricPoint &p : result.points)
        p.sessionId = m_session;
    m_tail->append(folded, m_terminal);
    result.lines.reserve(folded.size());
    for (LogLine &line : folded)
        if (!line.superseded)
            result.lines.append(std::move(line));
    return result;
}

void RunLog::finish()
{
    QList<LogLine> rest;
    m_terminal.flush(rest);
    m_tail->append(rest, m_terminal);
    m_archive.sync();
}

std::optional<double> RunLog::etaSeconds() const
{
    const auto eta = m_metrics.etaSeconds();
    if (!eta)
        return std::nullopt;
    return std::max(0.0, *eta - (m_lastLogTime - m_metrics.etaLogTime()));
}

} // namespace kd
