#pragma once

// Folds a stream of log chunks into the lines a terminal would show: "\r" rewrites,
// ANSI colours as style spans, cursor movement of multi-bar tqdm, per-stream state.

#include "types.h"

#include <QList>
#include <QMetaType>
#include <QString>

#include <array>

namespace kd {

/// A run of styled text inside one line; text outside every span has the default style.
struct StyleSpan
{
    /// The 16 basic terminal colours; 256-colour and true-colour codes map to the nearest.
    enum Color : qint8 {
        Default = -1,
        Black = 0,
        Red,
        Green,
        Yellow,
        Blue,
        Magenta,
        Cyan,
        White,
        BrightBlack,
        BrightRed,
        BrightGreen,
        BrightYellow,
        BrightBlue,
        BrightMagenta,
        BrightCyan,
        BrightWhite,
    };

    qint32 start = 0;  ///< in QChars from the start of the line
    qint32 length = 0; ///< in QChars
    Color color = Default;
    bool bold = false;

    friend bool operator==(const StyleSpan &, const StyleSpan &) = default;
};

/// One display line of one stream, without control characters or escape sequences.
struct LogLine
{
    LogEvent::Stream stream = LogEvent::Stream::Stdout;
    double time = 0; ///< log time of the event that wrote the line's current content
    QString text;
    QList<StyleSpan> spans; ///< sorted, non-overlapping, non-empty
    bool progress = false;  ///< the line was rewritten by "\r" (a progress bar)
    /// An earlier state of a progress line that "\r" overwrote: input for the metrics parser
    /// (every tqdm update carries a loss), never a display line. Only reported on request.
    bool superseded = false;

    friend bool operator==(const LogLine &, const LogLine &) = default;
};

/// Terminal emulation for logs: turns LogEvent chunks into completed lines plus one live
/// partial line per stream, the way a terminal shows the same output.
class TerminalLog final
{
public:
    /// Lines longer than this are wrapped: a log without newlines must not grow one line forever.
    static constexpr qsizetype kMaxLineLength = 256 * 1024;

    TerminalLog();

    /// Folds one chunk of one stream and appends the lines it completed to `out`, in order.
    void feed(const LogEvent &event, QList<LogLine> &out);
    void feed(LogEvent::Stream stream, double time, QStringView data, QList<LogLine> &out);
    QList<LogLine> feed(const LogEvent &event);

    /// Ends both streams: partial lines with visible text become completed lines.
    void flush(QList<LogLine> &out);

    /// Also report each overwritten state of a progress line, as a `superseded` line, in
    /// stream order among the completed lines (the metrics parser wants every tqdm update).
    void setReportSuperseded(bool on) { m_reportSuperseded = on; }
    bool reportSuperseded() const { return m_reportSuperseded; }

    /// The line still being written on `stream` (a live tqdm bar, a prompt without "\n").
    /// Empty text when there is none or when it holds only blanks.
    LogLine partial(LogEvent::Stream stream) const;
    bool hasPartial(LogEvent::Stream stream) const;
    /// Changes whenever partial(stream) may have changed; cheap to poll after each batch.
    quint64 partialRevision(LogEvent::Stream stream) const { return state(stream).revision; }

    void reset();

private:
    enum class Esc : quint8 { None, Esc, Csi, Osc, OscEsc, Skip1 };

    struct Row
    {
        QString text;
        QList<StyleSpan> spans;
        qsizetype runStart = 0; ///< where the text in the current style began
        double time = 0;
        bool timeSet = false;
        bool progress = false;
        bool pendingCr = false;   ///< "\r" seen; the next text replaces the row
        qsizetype backspaces = 0; ///< "\b" seen: the next text overwrites that many QChars
    };

    struct State
    {
        LogEvent::Stream stream = LogEvent::Stream::Stdout;
        Row bottom; ///< the last row, the only one that grows the log
        Row upper;  ///< a row above, reached by cursor-up (multi-bar tqdm)
        int up = 0; ///< rows the cursor is above the bottom row
        StyleSpan::Color color = StyleSpan::Default;
        bool bold = false;
        Esc esc = Esc::None;
        bool escOverflow = false;
        qsizetype oscLength = 0;
        std::array<char, 64> params{};
        int paramLength = 0;
        quint64 revision = 0;
    };

    State &state(LogEvent::Stream stream)
    {
        return m_states[stream == LogEvent::Stream::Stderr ? 1 : 0];
    }
    const State &state(LogEvent::Stream stream) const
    {
        return m_states[stream == LogEvent::Stream::Stderr ? 1 : 0];
    }

    static Row &row(State &s) { return s.up > 0 ? s.upper : s.bottom; }
    void appendText(State &s, const QChar *begin, qsizetype length, double time,
                    QList<LogLine> &out);
    void rewrite(State &s, Row &row, double time, QList<LogLine> &out);
    void newline(State &s, double time, QList<LogLine> &out);
    void setStyle(State &s, StyleSpan::Color color, bool bold);
    void dispatchCsi(State &s, char16_t final, double time, QList<LogLine> &out);
    void applySgr(State &s);
    void cursorUp(State &s, int rows, double time, QList<LogLine> &out);
    void cursorDown(State &s, int rows, double time, QList<LogLine> &out);
    void leaveUpper(State &s, double time, QList<LogLine> &out);
    void emitRow(State &s, Row &row, double time, bool superseded, QList<LogLine> &out);
    static void closeRun(const State &s, Row &row);
    static void clearRow(Row &row);

    std::array<State, 2> m_states{};
    bool m_reportSuperseded = false;
};

} // namespace kd

Q_DECLARE_METATYPE(kd::StyleSpan)
