#pragma once

// The Kaggle log formats (kaggle-api.md 3.5, 3.6): the persisted JSON array of
// {stream_name, time, data} objects, and the SSE stream of the same events.

#include "apierror.h"
#include "types.h"

#include <QByteArray>
#include <QList>

#include <functional>

namespace kd {

struct LogArrayParse
{
    QList<LogEvent> events;
    bool complete = true; ///< false when the array was truncated (a run in progress)
    int skipped = 0;      ///< malformed elements that were skipped
};

/// Parses the persisted log. Tolerates a truncated or unterminated array (returns the complete
/// elements, complete=false), "\r\n" in data, unicode, and one object per line with leading
/// commas. An empty text is an empty log. A body that is not a log array at all is a Protocol
/// error.
Result<LogArrayParse> parseLogArray(QByteArrayView text);

/// Serialises events as Kaggle does: "[{...}\n,{...}\n]" (used by the simulator and tests).
QByteArray writeLogArray(const QList<LogEvent> &events);
/// One SSE event line payload: {"stream_name":..,"time":..,"data":..}.
QByteArray writeLogEventJson(const LogEvent &event);

/// Incremental text/event-stream parser. Feed raw chunks as they arrive; complete `data:`
/// payloads become events. "data: END_OF_LOG" ends the stream; a payload that is not JSON is
/// treated as {"data": payload} as the CLI does. Lines split across chunks are reassembled.
class SseLogParser final
{
public:
    /// Returns the events completed by this chunk.
    QList<LogEvent> feed(QByteArrayView chunk);
    bool ended() const { return m_ended; }
    qint64 bufferedBytes() const { return m_buffer.size(); }
    /// Lines that grew beyond 16 MB without a newline; they are dropped, not buffered forever.
    qint64 droppedLines() const { return m_droppedLines; }

private:
    QByteArray m_buffer;
    bool m_ended = false;
    bool m_dropping = false; ///< discarding the rest of an over-long line
    qint64 m_droppedLines = 0;
};

} // namespace kd
