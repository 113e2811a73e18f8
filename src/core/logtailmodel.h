#pragma once

#include "terminallog.h"

#include <QAbstractListModel>

#include <array>
#include <deque>
#include <memory>
#include <optional>

namespace kd {

/// The last N display lines of one session's log, plus the live partial line of each stream
/// as the last rows. Appends come in batches (one insert and at most one trim per batch);
/// a changing partial line is updated in place with dataChanged.
///
/// Completed lines are stored compactly (UTF-8 text, colour spans only when a line has
/// some): 50 tails of 20,000 lines must fit in the memory budget. Row accessors build the
/// LogLine on demand.
class LogTailModel final : public QAbstractListModel
{
    Q_OBJECT
public:
    static constexpr int kDefaultMaxLines = 20000;

    enum Role {
        StreamRole = Qt::UserRole + 1, ///< int: 0 stdout, 1 stderr
        TimeRole,                      ///< double: seconds since session start
        SpansRole,                     ///< QList<StyleSpan>
        IsProgressRole,                ///< bool: rewritten by "\r" (a progress bar)
        LineNumberRole,                ///< qint64: 1-based since session start; -1 when partial
        IsPartialRole,                 ///< bool: the live line, still being written
    };

    explicit LogTailModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

    int maxLines() const { return m_maxLines; }
    /// Trims at once (one rowsRemoved) when fewer lines are allowed than are held.
    void setMaxLines(int maxLines);

    /// Appends completed lines (superseded ones are skipped) before the partial rows.
    void appendLines(const QList<LogLine> &lines);
    /// Shows `line` as the live row of its stream; a line with empty text removes that row.
    void setPartial(LogEvent::Stream stream, const LogLine &line);
    /// Takes both partial lines from `terminal`, touching only rows whose revision moved.
    void syncPartials(const TerminalLog &terminal);
    /// One batch: appendLines(lines), then syncPartials(terminal).
    void append(const QList<LogLine> &lines, const TerminalLog &terminal);

    /// The row's line; partial rows included.
    LogLine lineAt(int row) const;
    QString textAt(int row) const;
    LogEvent::Stream streamAt(int row) const;
    int completedRowCount() const { return static_cast<int>(m_lines.size()); }
    /// Completed lines since the session start (or the last clear), kept or dropped.
    qint64 totalLineCount() const { return m_dropped + static_cast<qint64>(m_lines.size()); }
    /// Lines 1..droppedLineCount() are no longer in memory.
    qint64 droppedLineCount() const { return m_dropped; }

    /// The first row at or after (forward) / at or before (backward) `fromRow` whose text
    /// contains `text`; -1 when none. Does not wrap around.
    int find(const QString &text, int fromRow, bool forward = true,
             Qt::CaseSensitivity cs = Qt::CaseInsensitive) const;
    /// The first kept stderr line that looks like a failure (Traceback, ...Error, CUDA out of
    /// memory); -1 when none.
    int firstErrorRow() const;
    static bool isErrorLine(QStringView text);

    /// Forgets everything, numbering included (a new session).
    void clear();

private:
    /// A completed line as stored: about a third of a LogLine's footprint.
    struct Row
    {
        explicit Row(const LogLine &line);
        LogLine toLine() const;

        double time = 0;
        QByteArray utf8;
        std::unique_ptr<const QList<StyleSpan>> spans; ///< null when the line has none
        LogEvent::Stream stream = LogEvent::Stream::Stdout;
        bool progress = false;
    };

    int partialRow(int index) const;
    void trimTo(qsizetype keep);
    const Row *rowAt(int row) const; ///< null for a partial row
    const LogLine &partialAt(int row) const;

    std::deque<Row> m_lines;
    std::array<std::optional<LogLine>, 2> m_partials; ///< stdout, stderr
    std::array<quint64, 2> m_partialRevisions{};
    bool m_revisionsValid = false;
    int m_maxLines = kDefaultMaxLines;
    qint64 m_dropped = 0;
    // firstErrorRow() scans each line once: absolute line numbers, 0 = none.
    mutable qint64 m_errorLine = 0;
    mutable qint64 m_errorScannedTo = 0;
};

} // namespace kd
