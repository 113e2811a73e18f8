#include "logtailmodel.h"

#include <algorithm>

namespace kd {

namespace {

int indexOf(LogEvent::Stream stream)
{
    return stream == LogEvent::Stream::Stderr ? 1 : 0;
}

} // namespace

LogTailModel::LogTailModel(QObject *parent) : QAbstractListModel(parent) {}

int LogTailModel::rowCount(const QModelIndex &parent) const
{
    if (parent.isValid())
        return 0;
    return static_cast<int>(m_lines.size()) + (m_partials[0] ? 1 : 0) + (m_partials[1] ? 1 : 0);
}

LogTailModel::Row::Row(const LogLine &line)
    : time(line.time), utf8(line.text.toUtf8()),
      spans(line.spans.isEmpty() ? nullptr : std::make_unique<const QList<StyleSpan>>(line.spans)),
      stream(line.stream), progress(line.progress)
{
    utf8.squeeze();
}

LogLine LogTailModel::Row::toLine() const
{
    LogLine line;
    line.stream = stream;
    line.time = time;
    line.text = QString::fromUtf8(utf8);
    if (spans)
        line.spans = *spans;
    line.progress = progress;
    return line;
}

const LogTailModel::Row *LogTailModel::rowAt(int row) const
{
    return row < static_cast<int>(m_lines.size()) ? &m_lines[static_cast<size_t>(row)] : nullptr;
}

const LogLine &LogTailModel::partialAt(int row) const
{
    if (row == static_cast<int>(m_lines.size()) && m_partials[0])
        return *m_partials[0];
    return *m_partials[1];
}

LogLine LogTailModel::lineAt(int row) const
{
    if (const Row *r = rowAt(row))
        return r->toLine();
    return partialAt(row);
}

QString LogTailModel::textAt(int row) const
{
    if (const Row *r = rowAt(row))
        return QString::fromUtf8(r->utf8);
    return partialAt(row).text;
}

LogEvent::Stream LogTailModel::streamAt(int row) const
{
    if (const Row *r = rowAt(row))
        return r->stream;
    return partialAt(row).stream;
}

QVariant LogTailModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const int row = index.row();
    const bool partial = row >= static_cast<int>(m_lines.size());
    const Row *stored = rowAt(row);
    const LogLine *live = stored ? nullptr : &partialAt(row);
    switch (role) {
    case Qt::DisplayRole:
        return stored ? QString::fromUtf8(stored->utf8) : live->text;
    case StreamRole:
        return (stored ? stored->stream : live->stream) == LogEvent::Stream::Stderr ? 1 : 0;
    case TimeRole:
        return stored ? stored->time : live->time;
    case SpansRole:
        if (stored)
            return QVariant::fromValue(stored->spans ? *stored->spans : QList<StyleSpan>());
        return QVariant::fromValue(live->spans);
    case IsProgressRole:
        return stored ? stored->progress : live->progress;
    case LineNumberRole:
        return partial ? qint64(-1) : m_dropped + row + 1;
    case IsPartialRole:
        return partial;
    default:
        return {};
    }
}

QHash<int, QByteArray> LogTailModel::roleNames() const
{
    QHash<int, QByteArray> names = QAbstractListModel::roleNames();
    names.insert(StreamRole, "stream");
    names.insert(TimeRole, "time");
    names.insert(SpansRole, "spans");
    names.insert(IsProgressRole, "isProgress");
    names.insert(LineNumberRole, "lineNumber");
    names.insert(IsPartialRole, "isPartial");
    return names;
}

void LogTailModel::setMaxLines(int maxLines)
{
    m_maxLines = std::max(1, maxLines);
    if (static_cast<qsizetype>(m_lines.size()) > m_maxLines)
        trimTo(m_maxLines);
}

void LogTailModel::trimTo(qsizetype keep)
{
    const auto remove = static_cast<qsizetype>(m_lines.size()) - keep;
    if (remove <= 0)
        return;
    beginRemoveRows({}, 0, static_cast<int>(remove - 1));
    m_lines.erase(m_lines.begin(), m_lines.begin() + remove);
    m_dropped += remove;
    endRemoveRows();
}

void LogTailModel::appendLines(const QList<LogLine> &lines)
{
    qsizetype count = 0;
    for (const LogLine &line : lines)
        count += line.superseded ? 0 : 1;
    if (count == 0)
        return;
    const qsizetype keep = std::min<qsizetype>(count, m_maxLines);
    // Make room first so that the view never holds more than the cap.
    trimTo(m_maxLines - keep);
    // Lines of a batch larger than the cap are dropped without ever being rows.
    qsizetype skip = count - keep;
    m_dropped += skip;
    const auto first = static_cast<int>(m_lines.size());
    beginInsertRows({}, first, first + static_cast<int>(keep) - 1);
    for (const LogLine &line : lines) {
        if (line.superseded)
            continue;
        if (skip > 0) {
            --skip;
            continue;
        }
        m_lines.emplace_back(line);
    }
    endInsertRows();
}

int LogTailModel::partialRow(int index) const
{
    return static_cast<int>(m_lines.size()) + (index == 1 && m_partials[0] ? 1 : 0);
}

void LogTailModel::setPartial(LogEvent::Stream stream, const LogLine &line)
{
    const int i = indexOf(stream);
    std::optional<LogLine> &slot = m_partials[static_cast<size_t>(i)];
    if (line.text.isEmpty()) {
        if (!slot)
            return;
        const int row = partialRow(i);
        beginRemoveRows({}, row, row);
        slot.reset();
        endRemoveRows();
        return;
    }
    if (slot) {
        if (slot->text == line.text && slot->spans == line.spans &&
            slot->progress == line.progress && slot->time == line.time)
            return;
        *slot = line;
        slot->stream = stream;
        slot->superseded = false;
        const QModelIndex changed = index(partialRow(i));
        emit dataChanged(changed, changed);
        return;
    }
    const int row = partialRow(i);
    beginInsertRows({}, row, row);
    slot = line;
    slot->stream = stream;
    slot->superseded = false;
    endInsertRows();
}

void LogTailModel::syncPartials(const TerminalLog &terminal)
{
    for (const LogEvent::Stream stream : {LogEvent::Stream::Stdout, LogEvent::Stream::Stderr}) {
        const auto i = static_cast<size_t>(indexOf(stream));
        const quint64 revision = terminal.partialRevision(stream);
        if (m_revisionsValid && m_partialRevisions[i] == revision)
            continue;
        m_partialRevisions[i] = revision;
        if (!m_partials[i] && !terminal.hasPartial(stream))
            continue;
        setPartial(stream, terminal.partial(stream));
    }
    m_revisionsValid = true;
}

void LogTailModel::append(const QList<LogLine> &lines, const TerminalLog &terminal)
{
    appendLines(lines);
    syncPartials(terminal);
}

int LogTailModel::find(const QString &text, int fromRow, bool forward, Qt::CaseSensitivity cs) const
{
    const int rows = rowCount();
    if (text.isEmpty() || rows == 0)
        return -1;
    if (forward) {
        for (int row = std::max(0, fromRow); row < rows; ++row) {
            if (textAt(row).contains(text, cs))
                return row;
        }
    } else {
        for (int row = std::min(rows - 1, fromRow); row >= 0; --row) {
            if (textAt(row).contains(text, cs))
                return row;
        }
    }
    return -1;
}

bool LogTailModel::isErrorLine(QStringView text)
{
    return text.contains(u"Traceback") || text.contains(u"Error") ||
           text.contains(u"out of memory") || text.contains(u"Exception") ||
           text.contains(u"Segmentation fault") || text.startsWith(u"Killed");
}

int LogTailModel::firstErrorRow() const
{
    const qint64 firstNumber = m_dropped + 1;
    if (m_errorLine != 0 && m_errorLine >= firstNumber)
        return static_cast<int>(m_errorLine - firstNumber);
    if (m_errorLine != 0) {
        // The error line was trimmed away: look again among the lines that are left.
        m_errorLine = 0;
        m_errorScannedTo = 0;
    }
    const qint64 end = totalLineCount();
    for (qint64 number = std::max(m_errorScannedTo, m_dropped) + 1; number <= end; ++number) {
        const Row &line = m_lines[static_cast<size_t>(number - firstNumber)];
        if (line.stream == LogEvent::Stream::Stderr && isErrorLine(QString::fromUtf8(line.utf8))) {
            m_errorLine = number;
            m_errorScannedTo = number;
            return static_cast<int>(number - firstNumber);
        }
    }
    m_errorScannedTo = end;
    return -1;
}

void LogTailModel::clear()
{
    beginResetModel();
    m_lines.clear();
    m_partials = {};
    m_revisionsValid = false;
    m_dropped = 0;
    m_errorLine = 0;
    m_errorScannedTo = 0;
    endResetModel();
}

} // namespace kd
