#include "terminallog.h"

#include <algorithm>
#include <bit>
#include <limits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace kd {

namespace {

// The xterm values of the 16 basic colours, the targets of 256-colour and RGB codes.
constexpr std::array<std::array<int, 3>, 16> kPalette{{
    {0, 0, 0},
    {205, 0, 0},
    {0, 205, 0},
    {205, 205, 0},
    {0, 0, 238},
    {205, 0, 205},
    {0, 205, 205},
    {229, 229, 229},
    {127, 127, 127},
    {255, 0, 0},
    {0, 255, 0},
    {255, 255, 0},
    {92, 92, 255},
    {255, 0, 255},
    {0, 255, 255},
    {255, 255, 255},
}};

StyleSpan::Color nearestColor(int r, int g, int b)
{
    int best = 0;
    int bestDistance = std::numeric_limits<int>::max();
    for (int i = 0; i < 16; ++i) {
        const int dr = r - kPalette[i][0];
        const int dg = g - kPalette[i][1];
        const int db = b - kPalette[i][2];
        const int d = dr * dr + dg * dg + db * db;
        if (d < bestDistance) {
            bestDistance = d;
            best = i;
        }
    }
    return static_cast<StyleSpan::Color>(best);
}

StyleSpan::Color color256(int n)
{
    if (n < 0 || n > 255)
        return StyleSpan::Default;
    if (n < 16)
        return static_cast<StyleSpan::Color>(n);
    if (n < 232) {
        static constexpr int levels[6] = {0, 95, 135, 175, 215, 255};
        const int i = n - 16;
        return nearestColor(levels[i / 36], levels[(i / 6) % 6], levels[i % 6]);
    }
    const int grey = 8 + 10 * (n - 232);
    return nearestColor(grey, grey, grey);
}

inline bool isOrdinary(char16_t c)
{
    return (c >= 0x20 && c != 0x7f) || c == u'\t';
}

/// The first control character (other than tab) at or after p; e when none. Log text is
/// mostly ordinary characters, so this looks at eight QChars per step where SSE2 is there.
const QChar *findControl(const QChar *p, const QChar *const e)
{
#if defined(__SSE2__)
    const __m128i below = _mm_set1_epi16(0x1f);
    const __m128i tab = _mm_set1_epi16(u'\t');
    const __m128i del = _mm_set1_epi16(0x7f);
    const __m128i zero = _mm_setzero_si128();
    for (; e - p >= 8; p += 8) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
        // v <= 0x1f (unsigned) exactly when the saturating v - 0x1f is zero
        const __m128i control = _mm_cmpeq_epi16(_mm_subs_epu16(v, below), zero);
        const __m128i hit = _mm_or_si128(_mm_andnot_si128(_mm_cmpeq_epi16(v, tab), control),
                                         _mm_cmpeq_epi16(v, del));
        const auto mask = unsigned(_mm_movemask_epi8(hit));
        if (mask)
            return p + std::countr_zero(mask) / 2;
    }
#endif
    while (p < e && isOrdinary(p->unicode()))
        ++p;
    return p;
}

bool isBlank(const QString &text)
{
    for (const QChar c : text) {
        if (c != u' ' && c != u'\t')
            return false;
    }
    return true;
}

/// Drops spans (or their parts) past `size` after text was cut.
void clipSpans(QList<StyleSpan> &spans, qsizetype size)
{
    while (!spans.isEmpty() && spans.last().start >= size)
        spans.removeLast();
    if (!spans.isEmpty()) {
        StyleSpan &last = spans.last();
        last.length = static_cast<qint32>(std::min<qsizetype>(last.length, size - last.start));
    }
}

constexpr int kMaxUp = 1000;
constexpr qsizetype kMaxOscLength = 4096;

} // namespace

TerminalLog::TerminalLog()
{
    m_states[0].stream = LogEvent::Stream::Stdout;
    m_states[1].stream = LogEvent::Stream::Stderr;
}

void TerminalLog::feed(const LogEvent &event, QList<LogLine> &out)
{
    feed(event.stream, event.time, event.data, out);
}

QList<LogLine> TerminalLog::feed(const LogEvent &event)
{
    QList<LogLine> out;
    feed(event, out);
    return out;
}

void TerminalLog::feed(LogEvent::Stream stream, double time, QStringView data, QList<LogLine> &out)
{
    State &s = state(stream);
    ++s.revision;
    const QChar *p = data.data();
    const QChar *const e = p + data.size();
    while (p < e) {
        if (s.esc == Esc::None) {
            const QChar *run = p;
            p = findControl(p, e);
            if (p > run)
                appendText(s, run, p - run, time, out);
            if (p == e)
                break;
            const char16_t c = p->unicode();
            ++p;
            switch (c) {
            case u'\n':
                newline(s, time, out);
                break;
            case u'\r': {
                Row &r = row(s);
                r.pendingCr = true;
                r.backspaces = 0;
                break;
            }
            case u'\b': {
                Row &r = row(s);
                // At column 0 a backspace goes nowhere.
                if (!r.pendingCr && r.backspaces < r.text.size())
                    ++r.backspaces;
                break;
            }
            case 0x1b:
                s.esc = Esc::Esc;
                break;
            default:
                break; // bell, NUL, form feed...: nothing a log view should show
            }
            continue;
        }

        // Inside an escape sequence, one QChar at a time: sequences may be split across chunks.
        const char16_t c = p->unicode();
        switch (s.esc) {
        case Esc::None:
            break;
        case Esc::Esc:
            if (c == u'[') {
                s.esc = Esc::Csi;
                s.paramLength = 0;
                s.escOverflow = false;
                ++p;
            } else if (c == u']') {
                s.esc = Esc::Osc;
                s.oscLength = 0;
                ++p;
            } else if (c == u'(' || c == u')' || c == u'*' || c == u'+' || c == u'#' || c == u'%') {
                s.esc = Esc::Skip1;
                ++p;
            } else if (c == 0x1b) {
                ++p; // ESC ESC: the first one is void
            } else if (c < 0x20 || c >= 0x7f) {
                s.esc = Esc::None; // not a sequence: handle the character normally
            } else {
                s.esc = Esc::None; // a two-character sequence (ESC 7, ESC M, ESC =)
                ++p;
            }
            break;
        case Esc::Csi:
            if (c >= 0x20 && c <= 0x3f) {
                if (s.paramLength < static_cast<int>(s.params.size()))
                    s.params[static_cast<size_t>(s.paramLength++)] = static_cast<char>(c);
                else
                    s.escOverflow = true;
                ++p;
            } else if (c >= 0x40 && c <= 0x7e) {
                s.esc = Esc::None;
                ++p;
                if (!s.escOverflow)
                    dispatchCsi(s, c, time, out);
            } else if (c == 0x1b) {
                s.esc = Esc::Esc;
                ++p;
            } else {
                s.esc = Esc::None; // a broken sequence: the character is text or a control
            }
            break;
        case Esc::Osc:
            if (c == 0x07) {
                s.esc = Esc::None;
                ++p;
            } else if (c == 0x1b) {
                s.esc = Esc::OscEsc;
                ++p;
            } else if (c == u'\n' || ++s.oscLength > kMaxOscLength) {
                s.esc = Esc::None; // never terminated: do not swallow the log
            } else {
                ++p;
            }
            break;
        case Esc::OscEsc:
            if (c == u'\\') {
                s.esc = Esc::None;
                ++p;
            } else {
                s.esc = Esc::Esc; // the ESC starts a new sequence
            }
            break;
        case Esc::Skip1:
            s.esc = Esc::None;
            if (c >= 0x20 && c != 0x7f)
                ++p;
            break;
        }
    }
}

void TerminalLog::flush(QList<LogLine> &out)
{
    for (State &s : m_states) {
        ++s.revision;
        if (s.up > 0)
            leaveUpper(s, s.upper.time, out);
        s.up = 0;
        Row &b = s.bottom;
        if (!isBlank(b.text))
            emitRow(s, b, b.time, false, out);
        clearRow(b);
        b.progress = false;
        b.pendingCr = false;
        s.esc = Esc::None;
    }
}

LogLine TerminalLog::partial(LogEvent::Stream stream) const
{
    const State &s = state(stream);
    LogLine line;
    line.stream = stream;
    if (isBlank(s.bottom.text))
        return line;
    Row r = s.bottom;
    closeRun(s, r);
    line.time = r.time;
    line.text = std::move(r.text);
    line.spans = std::move(r.spans);
    line.progress = r.progress;
    return line;
}

bool TerminalLog::hasPartial(LogEvent::Stream stream) const
{
    return !isBlank(state(stream).bottom.text);
}

void TerminalLog::reset()
{
    for (State &s : m_states) {
        const quint64 revision = s.revision + 1;
        const LogEvent::Stream stream = s.stream;
        s = State{};
        s.stream = stream;
        s.revision = revision;
    }
}

void TerminalLog::appendText(State &s, const QChar *begin, qsizetype length, double time,
                             QList<LogLine> &out)
{
    Row &r = row(s);
    if (r.pendingCr) {
        rewrite(s, r, time, out);
    } else if (r.backspaces > 0) {
        // Backspaces move the cursor left; what follows overwrites. Back to column 0 is a
        // rewrite (Keras' dynamic bar), a step back is an edit (spinners).
        if (r.backspaces >= r.text.size()) {
            rewrite(s, r, time, out);
        } else {
            closeRun(s, r);
            r.text.chop(r.backspaces);
            clipSpans(r.spans, r.text.size());
            r.runStart = r.text.size();
            r.backspaces = 0;
        }
    }
    if (!r.timeSet) {
        r.time = time;
        r.timeSet = true;
    }
    while (length > 0) {
        qsizetype room = kMaxLineLength - r.text.size();
        if (room <= 0) {
            // Wrapped like a terminal does, so memory stays bounded.
            emitRow(s, r, time, false, out);
            r.time = time;
            r.timeSet = true;
            room = kMaxLineLength;
        }
        const qsizetype n = std::min(length, room);
        r.text.append(begin, n);
        begin += n;
        length -= n;
    }
}

void TerminalLog::rewrite(State &s, Row &r, double time, QList<LogLine> &out)
{
    r.pendingCr = false;
    r.backspaces = 0;
    if (m_reportSuperseded && &r == &s.bottom && !isBlank(r.text))
        emitRow(s, r, time, true, out);
    clearRow(r);
    r.progress = true;
}

void TerminalLog::newline(State &s, double time, QList<LogLine> &out)
{
    if (s.up > 0) {
        // Moving down through rows printed earlier (multi-bar tqdm), not adding a line.
        leaveUpper(s, time, out);
        if (--s.up == 0) {
            s.bottom.pendingCr = true;
            s.bottom.backspaces = 0;
        }
        return;
    }
    Row &b = s.bottom;
    emitRow(s, b, time, false, out);
    b.progress = false;
    b.pendingCr = false;
    b.backspaces = 0;
}

void TerminalLog::leaveUpper(State &s, double time, QList<LogLine> &out)
{
    // A row above the bottom can no longer change the lines already shown: its new content
    // (an outer bar's update, a tqdm.write message) becomes a line of its own.
    Row &u = s.upper;
    if (!isBlank(u.text))
        emitRow(s, u, time, false, out);
    clearRow(u);
    u.progress = false;
    u.pendingCr = false;
    u.backspaces = 0;
}

void TerminalLog::cursorUp(State &s, int rows, double time, QList<LogLine> &out)
{
    if (rows <= 0)
        rows = 1;
    if (s.up > 0)
        leaveUpper(s, time, out);
    else
        closeRun(s, s.bottom);
    s.up = std::min(s.up + rows, kMaxUp);
    s.upper.runStart = 0;
}

void TerminalLog::cursorDown(State &s, int rows, double time, QList<LogLine> &out)
{
    if (rows <= 0)
        rows = 1;
    while (rows-- > 0 && s.up > 0)
        newline(s, time, out);
}

void TerminalLog::emitRow(State &s, Row &r, double time, bool superseded, QList<LogLine> &out)
{
    closeRun(s, r);
    LogLine line;
    line.stream = s.stream;
    line.time = r.timeSet ? r.time : time;
    line.text = std::move(r.text);
    line.spans = std::move(r.spans);
    line.progress = r.progress;
    line.superseded = superseded;
    out.append(std::move(line));
    clearRow(r);
}

void TerminalLog::clearRow(Row &r)
{
    r.text.clear();
    r.spans.clear();
    r.runStart = 0;
    r.timeSet = false;
}

void TerminalLog::closeRun(const State &s, Row &r)
{
    const qsizetype end = r.text.size();
    if ((s.color != StyleSpan::Default || s.bold) && end > r.runStart) {
        if (!r.spans.isEmpty()) {
            StyleSpan &last = r.spans.last();
            if (last.start + last.length == r.runStart && last.color == s.color &&
                last.bold == s.bold) {
                last.length += static_cast<qint32>(end - r.runStart);
                r.runStart = end;
                return;
            }
        }
        r.spans.append(StyleSpan{static_cast<qint32>(r.runStart),
                                 static_cast<qint32>(end - r.runStart), s.color, s.bold});
    }
    r.runStart = end;
}

void TerminalLog::setStyle(State &s, StyleSpan::Color color, bool bold)
{
    if (color == s.color && bold == s.bold)
        return;
    closeRun(s, row(s));
    s.color = color;
    s.bold = bold;
}

void TerminalLog::dispatchCsi(State &s, char16_t final, double time, QList<LogLine> &out)
{
    // Private (ESC[?25l) and intermediate-byte sequences change nothing a log shows.
    for (int i = 0; i < s.paramLength; ++i) {
        const char c = s.params[static_cast<size_t>(i)];
        if (!(c >= '0' && c <= '9') && c != ';' && c != ':')
            return;
    }
    if (final == u'm') {
        applySgr(s);
        return;
    }
    int n = 0;
    for (int i = 0; i < s.paramLength; ++i) {
        const char c = s.params[static_cast<size_t>(i)];
        if (c < '0' || c > '9')
            break;
        n = std::min(n * 10 + (c - '0'), 100000);
    }
    Row &r = row(s);
    switch (final) {
    case u'K': // erase in line
        if (n == 0 && !r.pendingCr && r.backspaces == 0)
            break; // erase right of the cursor, which is the end of the row
        rewrite(s, r, time, out);
        break;
    case u'G': // cursor to column n
        if (n <= 1) {
            r.pendingCr = true;
            r.backspaces = 0;
        }
        break;
    case u'A':
        cursorUp(s, n, time, out);
        break;
    case u'F':
        cursorUp(s, n, time, out);
        row(s).pendingCr = true;
        break;
    case u'B':
        cursorDown(s, n, time, out);
        break;
    case u'E':
        cursorDown(s, n, time, out);
        row(s).pendingCr = true;
        break;
    default:
        break; // J (erase display), H (home), C/D (columns), s/u: no effect on a line log
    }
}

void TerminalLog::applySgr(State &s)
{
    // Numbers, and whether each came after ':' (a sub-parameter of the previous one).
    std::array<int, 32> values{};
    std::array<bool, 32> sub{};
    int count = 0;
    {
        int value = 0;
        bool isSub = false;
        for (int i = 0; i <= s.paramLength; ++i) {
            const char c = i < s.paramLength ? s.params[static_cast<size_t>(i)] : ';';
            if (c >= '0' && c <= '9') {
                value = std::min(value * 10 + (c - '0'), 100000);
                continue;
            }
            if (count < static_cast<int>(values.size())) {
                values[static_cast<size_t>(count)] = value;
                sub[static_cast<size_t>(count)] = isSub;
                ++count;
            }
            value = 0;
            isSub = c == ':';
        }
    }
    StyleSpan::Color color = s.color;
    bool bold = s.bold;
    for (int i = 0; i < count; ++i) {
        const int code = values[static_cast<size_t>(i)];
        if (code == 38 || code == 48) {
            // Extended colour: "38;5;n", "38;2;r;g;b", "38:5:n", "38:2:[cs]:r:g:b".
            int j = i + 1;
            std::array<int, 6> args{};
            int argc = 0;
            if (j < count && sub[static_cast<size_t>(j)]) {
                while (j < count && sub[static_cast<size_t>(j)] && argc < 6)
                    args[static_cast<size_t>(argc++)] = values[static_cast<size_t>(j++)];
                if (argc == 5 && args[0] == 2) // with the colour-space id
                    args = {2, args[2], args[3], args[4], 0, 0};
            } else if (j < count) {
                const int kind = values[static_cast<size_t>(j)];
                const int need = kind == 5 ? 2 : kind == 2 ? 4 : 1;
                while (j < count && argc < need)
                    args[static_cast<size_t>(argc++)] = values[static_cast<size_t>(j++)];
            }
            i = j - 1;
            if (code == 48)
                continue; // backgrounds are not kept
            if (argc >= 2 && args[0] == 5)
                color = color256(args[1]);
            else if (argc >= 4 && args[0] == 2)
                color = nearestColor(std::clamp(args[1], 0, 255), std::clamp(args[2], 0, 255),
                                     std::clamp(args[3], 0, 255));
            continue;
        }
        if (code == 0) {
            color = StyleSpan::Default;
            bold = false;
        } else if (code == 1) {
            bold = true;
        } else if (code == 22) {
            bold = false;
        } else if (code >= 30 && code <= 37) {
            color = static_cast<StyleSpan::Color>(code - 30);
        } else if (code == 39) {
            color = StyleSpan::Default;
        } else if (code >= 90 && code <= 97) {
            color = static_cast<StyleSpan::Color>(code - 90 + 8);
        }
    }
    setStyle(s, color, bold);
}

} // namespace kd
