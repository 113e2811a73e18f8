#include "logarchive.h"

#include "logformat.h"

#include <QDir>
#include <QFileInfo>

#include <cstring>

#ifdef Q_OS_UNIX
#include <unistd.h>
#endif

namespace kd {

namespace {

// The marker carries its counts as extra members, which parseLogArray skips, so a resumed
// archive (the app restarted mid-run) keeps counting where it stopped.
constexpr char kDroppedEventsKey[] = "\"kd_dropped_events\":";
constexpr char kDroppedBytesKey[] = "\"kd_dropped_bytes\":";
constexpr QStringView kMarkerPrefix = u"[KaggleDeck: log truncated at ";

qint64 utf8Length(QStringView text)
{
    qint64 n = 0;
    for (const QChar c : text) {
        const char16_t u = c.unicode();
        n += u < 0x80 ? 1 : u < 0x800 ? 2 : c.isSurrogate() ? 2 : 3;
    }
    return n;
}

QString sizeText(qint64 bytes)
{
    constexpr qint64 kib = 1024;
    constexpr qint64 mib = 1024 * kib;
    if (bytes >= mib && bytes % mib == 0)
        return QStringLiteral("%1 MB").arg(bytes / mib);
    if (bytes >= kib && bytes % kib == 0)
        return QStringLiteral("%1 KB").arg(bytes / kib);
    return QStringLiteral("%1 bytes").arg(bytes);
}

qint64 numberAfter(const QByteArray &line, const char *key)
{
    const qsizetype at = line.indexOf(key);
    if (at < 0)
        return 0;
    qint64 value = 0;
    for (qsizetype i = at + qsizetype(std::strlen(key)); i < line.size(); ++i) {
        const char c = line.at(i);
        if (c < '0' || c > '9')
            break;
        value = value * 10 + (c - '0');
    }
    return value;
}

} // namespace

LogArchive::LogArchive(const QString &dir, SessionId sessionId, qint64 capBytes)
    : m_dir(dir), m_path(filePathFor(dir, sessionId)), m_cap(std::max<qint64>(capBytes, 1024)),
      m_file(m_path)
{}

LogArchive::~LogArchive()
{
    close();
}

QString LogArchive::filePathFor(const QString &dir, SessionId sessionId)
{
    return QDir(dir).filePath(QString::number(sessionId) + QStringLiteral(".log"));
}

QString LogArchive::truncationText(qint64 capBytes, qint64 droppedBytes)
{
    return kMarkerPrefix + sizeText(capBytes) +
           QStringLiteral("; %1 more bytes not kept]").arg(droppedBytes);
}

bool LogArchive::isTruncationMarker(const LogEvent &event)
{
    return QStringView(event.data).startsWith(kMarkerPrefix) &&
           event.data.contains(QStringLiteral("more bytes not kept]"));
}

void LogArchive::fail(const QString &what)
{
    if (m_error)
        return;
    const QString cause = m_file.errorString();
    m_error = ApiError::make(ApiError::Kind::Io,
                             what + QStringLiteral(" (") + m_path + QStringLiteral("): ") + cause);
    m_file.close();
}

bool LogArchive::open()
{
    if (m_error)
        return false;
    if (m_file.isOpen())
        return true;
    if (!QDir().mkpath(m_dir)) {
        m_error = ApiError::make(ApiError::Kind::Io,
                                 QStringLiteral("cannot create the log directory ") + m_dir);
        return false;
    }
    // Unbuffered: each append is one write(2), nothing lingers in a user-space buffer.
    if (!m_file.open(QIODevice::ReadWrite | QIODevice::Unbuffered)) {
        fail(QStringLiteral("cannot open the log archive"));
        return false;
    }
    if (QFileInfo(m_path).isFile() && m_file.size() > 0)
        return resume();
    m_size = 0;
    if (!writeAt(0, QByteArrayLiteral("[")))
        return false;
    m_size = 1;
    return true;
}

bool LogArchive::resume()
{
    // One element per line (newlines inside data are escaped): count lines, find the last.
    const qint64 fileSize = m_file.size();
    QByteArray head = m_file.read(1);
    if (head != "[") {
        m_error = ApiError::make(ApiError::Kind::Io,
                                 QStringLiteral("not a KaggleDeck log archive: ") + m_path);
        m_file.close();
        return false;
    }
    qint64 lines = 0;
    qint64 lastEnd = 1;       // just past the last '\n'
    qint64 lastLineStart = 1; // start of the line that ends there
    qint64 offset = 1;
    constexpr qint64 block = 1 << 20;
    while (offset < fileSize) {
        const QByteArray chunk = m_file.read(std::min(block, fileSize - offset));
        if (chunk.isEmpty()) {
            fail(QStringLiteral("cannot read the log archive"));
            return false;
        }
        const char *p = chunk.constData();
        const char *e = p + chunk.size();
        while (const char *nl = static_cast<const char *>(std::memchr(p, '\n', size_t(e - p)))) {
            ++lines;
            lastLineStart = lastEnd;
            lastEnd = offset + (nl - chunk.constData()) + 1;
            p = nl + 1;
        }
        offset += chunk.size();
    }
    if (lastEnd < fileSize && !m_file.resize(lastEnd)) { // a torn last write
        fail(QStringLiteral("cannot repair the log archive"));
        return false;
    }
    m_size = lastEnd;
    m_eventCount = lines;
    if (lines > 0 && m_file.seek(lastLineStart)) {
        const QByteArray last = m_file.read(lastEnd - lastLineStart);
        if (last.contains(kDroppedEventsKey)) {
            m_markerOffset = lastLineStart;
            --m_eventCount;
            m_droppedEvents = numberAfter(last, kDroppedEventsKey);
            m_droppedBytes = numberAfter(last, kDroppedBytesKey);
            m_markedBytes = m_droppedBytes;
            QByteArray element = last.startsWith(',') ? last.mid(1) : last;
            element.prepend('[');
            element.append(']');
            const auto parsed = parseLogArray(element);
            if (parsed.ok() && !parsed->events.isEmpty())
                m_markerTime = parsed->events.constFirst().time;
        }
    }
    return true;
}

bool LogArchive::writeAt(qint64 offset, const QByteArray &bytes)
{
    // A device (a FIFO, /dev/full) has no offsets; writes go where they go.
    const bool positioned = m_file.isSequential() || m_file.seek(offset);
    if (!positioned || m_file.write(bytes) != bytes.size()) {
        const QString cause = m_file.errorString();
        // Cut a partial write back to what was acknowledged, so that the file and the counts
        // agree; shrinking works on a full disk too. Readers cut a torn tail if this fails.
        if (!m_file.isSequential())
            m_file.resize(m_size);
        m_error =
            ApiError::make(ApiError::Kind::Io, QStringLiteral("cannot write the log archive (") +
                                                   m_path + QStringLiteral("): ") + cause);
        m_file.close();
        return false;
    }
    return true;
}

QByteArray LogArchive::markerLine() const
{
    LogEvent marker;
    marker.stream = LogEvent::Stream::Stderr;
    marker.time = m_markerTime;
    marker.data = truncationText(m_cap, m_droppedBytes) + u'\n';
    QByteArray json = writeLogEventJson(marker);
    json.chop(1); // the closing brace
    json += ',';
    json += kDroppedEventsKey;
    json += QByteArray::number(m_droppedEvents);
    json += ',';
    json += kDroppedBytesKey;
    json += QByteArray::number(m_droppedBytes);
    json += "}\n";
    if (m_markerOffset > 1)
        json.prepend(',');
    return json;
}

bool LogArchive::append(const LogEvent &event)
{
    return append(QList<LogEvent>{event});
}

bool LogArchive::append(const QList<LogEvent> &events)
{
    if (events.isEmpty())
        return !m_error;
    const auto dropAll = [&](qsizetype from) {
        for (qsizetype i = from; i < events.size(); ++i) {
            ++m_droppedEvents;
            m_droppedBytes += utf8Length(events.at(i).data);
        }
    };
    if (!open()) {
        dropAll(0);
        return false;
    }
    QByteArray batch;
    qint64 size = m_size;
    qint64 kept = 0;
    qint64 keptBytes = 0;
    for (const LogEvent &event : events) {
        if (m_markerOffset < 0) {
            const QByteArray json = writeLogEventJson(event);
            const qint64 needed = (size > 1 ? 1 : 0) + json.size() + 1;
            if (size + needed <= m_cap) {
                if (size > 1)
                    batch += ',';
                batch += json;
                batch += '\n';
                size += needed;
                ++kept;
                keptBytes += utf8Length(event.data);
                continue;
            }
            m_markerOffset = size; // the marker follows the last event that fits
            m_markerTime = event.time;
        }
        ++m_droppedEvents;
        m_droppedBytes += utf8Length(event.data);
    }
    if (!batch.isEmpty()) {
        if (!writeAt(m_size, batch)) {
            m_markerOffset = -1;
            m_droppedEvents += kept;
            m_droppedBytes += keptBytes;
            return false;
        }
        m_size = size;
        m_eventCount += kept;
    }
    if (m_markerOffset >= 0 && m_markedBytes != m_droppedBytes) {
        // The marker is always the last line: rewriting it in place updates its count.
        const QByteArray marker = markerLine();
        if (!writeAt(m_markerOffset, marker))
            return false;
        m_size = m_markerOffset + marker.size();
        m_markedBytes = m_droppedBytes;
    }
    return true;
}

bool LogArchive::sync()
{
    if (!m_file.isOpen())
        return !m_error;
#ifdef Q_OS_UNIX
    if (::fsync(m_file.handle()) != 0) {
        fail(QStringLiteral("cannot sync the log archive"));
        return false;
    }
#endif
    return true;
}

void LogArchive::close()
{
    if (m_file.isOpen())
        m_file.close();
}

Result<QByteArray> LogArchive::readAll(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        return ApiError::make(ApiError::Kind::Io, QStringLiteral("cannot read the log archive (") +
                                                      path + QStringLiteral("): ") +
                                                      file.errorString());
    }
    QByteArray bytes = file.readAll();
    // Cut a torn last line, then close the array the way Kaggle does.
    const qsizetype lastNewline = bytes.lastIndexOf('\n');
    bytes.truncate(lastNewline >= 0 ? lastNewline + 1 : std::min<qsizetype>(bytes.size(), 1));
    if (bytes.isEmpty())
        bytes = "[";
    bytes += ']';
    return bytes;
}

Result<QList<LogEvent>> LogArchive::readEvents(const QString &path)
{
    Result<QByteArray> bytes = readAll(path);
    if (!bytes)
        return bytes.error();
    Result<LogArrayParse> parsed = parseLogArray(*bytes);
    if (!parsed) {
        return ApiError::make(ApiError::Kind::Io, QStringLiteral("not a log archive (") + path +
                                                      QStringLiteral("): ") +
                                                      parsed.error().message);
    }
    return std::move(parsed).value().events;
}

Result<QByteArray> LogArchive::readAll() const
{
    return readAll(m_path);
}

Result<QList<LogEvent>> LogArchive::readEvents() const
{
    return readEvents(m_path);
}

} // namespace kd
