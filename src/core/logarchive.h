#pragma once

#include "apierror.h"
#include "domain.h"

#include <QByteArray>
#include <QFile>
#include <QList>
#include <QString>

#include <optional>

namespace kd {

/// The full log of one session on disk, `<dir>/<sessionId>.log`, in Kaggle's own log-array
/// layout ("[{...}\n,{...}\n", left open while the run goes on), capped in size.
///
/// Each append() is one write to the OS, so what append() acknowledged survives a crash of
/// the app. Past the cap, one truncation marker event ends the file and later events are only
/// counted. A write error (disk full, permissions) puts the archive in a sticky error state:
/// later appends only count what is lost.
class LogArchive final
{
public:
    static constexpr qint64 kDefaultCapBytes = 64LL * 1024 * 1024;

    LogArchive(const QString &dir, SessionId sessionId, qint64 capBytes = kDefaultCapBytes);
    ~LogArchive();
    Q_DISABLE_COPY_MOVE(LogArchive)

    static QString filePathFor(const QString &dir, SessionId sessionId);
    QString filePath() const { return m_path; }
    qint64 capBytes() const { return m_cap; }

    /// Creates the directory and the file, or resumes an existing archive (repairing a torn
    /// last line). append() opens on first use; calling open() first reports errors early.
    bool open();
    bool isOpen() const { return m_file.isOpen(); }
    /// Writes the events in one write. False when they were not all kept because of an error;
    /// events dropped past the cap are not an error.
    bool append(const QList<LogEvent> &events);
    bool append(const LogEvent &event);
    /// Asks the OS to put the file on the disk (fsync), for the end of a session.
    bool sync();
    void close();

    bool hasError() const { return m_error.has_value(); }
    /// Kind Io with a message naming the file and the cause.
    const std::optional<ApiError> &error() const { return m_error; }
    bool isTruncated() const { return m_markerOffset >= 0; }

    /// Events kept in the file (the truncation marker not included).
    qint64 eventCount() const { return m_eventCount; }
    /// Events given to append() and not kept (past the cap or after an error).
    qint64 droppedEventCount() const { return m_droppedEvents; }
    /// UTF-8 bytes of log text not kept.
    qint64 droppedBytes() const { return m_droppedBytes; }
    qint64 sizeOnDisk() const { return m_size; }

    /// The archive as a complete Kaggle log array (closing bracket added).
    Result<QByteArray> readAll() const;
    /// The archived events, the truncation marker included (it is the last event).
    Result<QList<LogEvent>> readEvents() const;
    static Result<QList<LogEvent>> readEvents(const QString &path);
    static Result<QByteArray> readAll(const QString &path);

    static bool isTruncationMarker(const LogEvent &event);
    /// "[KaggleDeck: log truncated at 64 MB; N more bytes not kept]"
    static QString truncationText(qint64 capBytes, qint64 droppedBytes);

private:
    bool resume();
    bool writeAt(qint64 offset, const QByteArray &bytes);
    QByteArray markerLine() const;
    void fail(const QString &what);

    QString m_dir;
    QString m_path;
    qint64 m_cap = kDefaultCapBytes;
    QFile m_file;
    std::optional<ApiError> m_error;
    qint64 m_size = 0; ///< bytes in the file
    qint64 m_eventCount = 0;
    qint64 m_markerOffset = -1; ///< where the marker line starts; -1: not truncated
    double m_markerTime = 0;
    qint64 m_droppedEvents = 0;
    qint64 m_droppedBytes = 0;
    qint64 m_markedBytes = -1; ///< droppedBytes() as the marker on disk says it
};

} // namespace kd
