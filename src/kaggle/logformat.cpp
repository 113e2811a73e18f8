#include "logformat.h"

#include "kagglelog.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <string>
#include <string_view>

namespace kd {

namespace {

// A hand-written scanner instead of a JSON DOM: persisted logs reach hundreds of MB, and the
// array is flat ({stream_name, time, data} objects), so one pass over the bytes that decodes
// each element directly into a LogEvent is several times faster than building a DOM, and it
// can stop cleanly at a truncated tail.

enum class Step { Ok, Malformed, Truncated };

inline bool isWs(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

inline void skipWs(const char *&p, const char *e)
{
    while (p < e && isWs(*p))
        ++p;
}

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; ++i) {
        const int h = hexValue(p[i]);
        if (h < 0)
            return -1;
        v = (v << 4) | h;
    }
    return v;
}

void appendUtf8(std::string &out, char32_t cp)
{
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

/// Decodes the JSON string at `p` (pointing at the opening quote). `out` views either the
/// input (no escapes) or `scratch`.
Step parseString(const char *&p, const char *e, std::string &scratch, std::string_view &out)
{
    ++p;
    const char *start = p;
    const char *quote = static_cast<const char *>(std::memchr(p, '"', static_cast<size_t>(e - p)));
    if (!quote)
        return Step::Truncated;
    const char *bs =
        static_cast<const char *>(std::memchr(p, '\\', static_cast<size_t>(quote - p)));
    if (!bs) {
        out = std::string_view(start, static_cast<size_t>(quote - start));
        p = quote + 1;
        return Step::Ok;
    }
    scratch.clear();
    while (true) {
        // [p, bs) is plain text; `quote` is the first quote at or after p.
        scratch.append(p, static_cast<size_t>(bs - p));
        p = bs;
        if (e - p < 2)
            return Step::Truncated;
        const char x = p[1];
        p += 2;
        switch (x) {
        case '"':
            scratch += '"';
            break;
        case '\\':
            scratch += '\\';
            break;
        case '/':
            scratch += '/';
            break;
        case 'b':
            scratch += '\b';
            break;
        case 'f':
            scratch += '\f';
            break;
        case 'n':
            scratch += '\n';
            break;
        case 'r':
            scratch += '\r';
            break;
        case 't':
            scratch += '\t';
            break;
        case 'u': {
            if (e - p < 4)
                return Step::Truncated;
            char32_t cp = 0;
            const int hi = hex4(p);
            if (hi < 0)
                return Step::Malformed;
            p += 4;
            cp = static_cast<char32_t>(hi);
            if (hi >= 0xD800 && hi <= 0xDBFF) {
                if (p >= e)
                    return Step::Truncated;
                if (p[0] == '\\') {
                    if (e - p < 6)
                        return Step::Truncated;
                    const int lo = p[1] == 'u' ? hex4(p + 2) : -1;
                    if (lo >= 0xDC00 && lo <= 0xDFFF) {
                        cp = 0x10000 + ((static_cast<char32_t>(hi) - 0xD800) << 10) +
                             (static_cast<char32_t>(lo) - 0xDC00);
                        p += 6;
                    } else {
                        cp = 0xFFFD;
                    }
                } else {
                    cp = 0xFFFD;
                }
            } else if (hi >= 0xDC00 && hi <= 0xDFFF) {
                cp = 0xFFFD;
            }
            appendUtf8(scratch, cp);
            break;
        }
        default:
            return Step::Malformed;
        }
        if (p > quote) { // the quote we knew of was escaped: find the next one
            quote = static_cast<const char *>(std::memchr(p, '"', static_cast<size_t>(e - p)));
            if (!quote)
                return Step::Truncated;
        }
        bs = static_cast<const char *>(std::memchr(p, '\\', static_cast<size_t>(quote - p)));
        if (!bs) {
            scratch.append(p, static_cast<size_t>(quote - p));
            p = quote + 1;
            out = scratch;
            return Step::Ok;
        }
    }
}

/// Skips a string without decoding it.
Step skipString(const char *&p, const char *e)
{
    ++p;
    while (p < e) {
        const char c = *p;
        if (c == '"') {
            ++p;
            return Step::Ok;
        }
        p += c == '\\' ? 2 : 1;
    }
    return Step::Truncated;
}

inline bool isTokenChar(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
           c == '+' || c == '.';
}

/// Skips any JSON value (nested containers by bracket depth, without recursion).
Step skipValue(const char *&p, const char *e)
{
    skipWs(p, e);
    if (p >= e)
        return Step::Truncated;
    const char c = *p;
    if (c == '"')
        return skipString(p, e);
    if (c == '{' || c == '[') {
        qint64 depth = 0;
        while (p < e) {
            const char d = *p;
            if (d == '"') {
                if (skipString(p, e) != Step::Ok)
                    return Step::Truncated;
                continue;
            }
            if (d == '{' || d == '[') {
                ++depth;
            } else if (d == '}' || d == ']') {
                if (--depth == 0) {
                    ++p;
                    return Step::Ok;
                }
            }
            ++p;
        }
        return Step::Truncated;
    }
    const char *start = p;
    while (p < e && isTokenChar(*p))
        ++p;
    if (p == start)
        return Step::Malformed;
    if (p >= e)
        return Step::Truncated; // the token may continue in data not received yet
    return Step::Ok;
}

/// Parses a number token; `ok` is false for anything that is not a finite number.
Step parseNumber(const char *&p, const char *e, double &value, bool &ok)
{
    const char *start = p;
    while (p < e && isTokenChar(*p))
        ++p;
    if (p >= e)
        return Step::Truncated;
    if (p == start)
        return Step::Malformed;
    const auto res = std::from_chars(start, p, value);
    ok = res.ec == std::errc() && res.ptr == p && std::isfinite(value);
    return Step::Ok;
}

enum class Key { StreamName, Time, Data, Other };

Key keyOf(std::string_view k)
{
    if (k == "data")
        return Key::Data;
    if (k == "time")
        return Key::Time;
    if (k == "stream_name")
        return Key::StreamName;
    return Key::Other;
}

/// Parses one {stream_name, time, data} object at `p` ('{'). `valid` is false when the
/// object is well-formed JSON but "data" is not a string.
Step parseEvent(const char *&p, const char *e, std::string &scratch, LogEvent &ev, bool &valid)
{
    ev = LogEvent{};
    valid = true;
    ++p;
    skipWs(p, e);
    if (p >= e)
        return Step::Truncated;
    if (*p == '}') {
        ++p;
        return Step::Ok;
    }
    while (true) {
        skipWs(p, e);
        if (p >= e)
            return Step::Truncated;
        if (*p != '"')
            return Step::Malformed;
        std::string_view keyView;
        if (const Step s = parseString(p, e, scratch, keyView); s != Step::Ok)
            return s;
        const Key key = keyOf(keyView);
        skipWs(p, e);
        if (p >= e)
            return Step::Truncated;
        if (*p != ':')
            return Step::Malformed;
        ++p;
        skipWs(p, e);
        if (p >= e)
            return Step::Truncated;
        const char c = *p;
        switch (key) {
        case Key::Data:
            if (c == '"') {
                std::string_view v;
                if (const Step s = parseString(p, e, scratch, v); s != Step::Ok)
                    return s;
                ev.data = QString::fromUtf8(v.data(), static_cast<qsizetype>(v.size()));
            } else {
                const bool isNull = c == 'n';
                if (const Step s = skipValue(p, e); s != Step::Ok)
                    return s;
                if (!isNull)
                    valid = false;
                ev.data.clear();
            }
            break;
        case Key::StreamName:
            if (c == '"') {
                std::string_view v;
                if (const Step s = parseString(p, e, scratch, v); s != Step::Ok)
                    return s;
                ev.stream = v == "stderr" ? LogEvent::Stream::Stderr : LogEvent::Stream::Stdout;
            } else {
                if (const Step s = skipValue(p, e); s != Step::Ok)
                    return s;
                ev.stream = LogEvent::Stream::Stdout;
            }
            break;
        case Key::Time:
            if (c == '-' || (c >= '0' && c <= '9')) {
                bool ok = false;
                double t = 0;
                if (const Step s = parseNumber(p, e, t, ok); s != Step::Ok)
                    return s;
                ev.time = ok ? t : 0;
            } else if (c == '"') {
                std::string_view v;
                if (const Step s = parseString(p, e, scratch, v); s != Step::Ok)
                    return s;
                double t = 0;
                const auto res = std::from_chars(v.data(), v.data() + v.size(), t);
                ev.time =
                    (res.ec == std::errc() && res.ptr == v.data() + v.size() && std::isfinite(t))
                        ? t
                        : 0;
            } else {
                if (const Step s = skipValue(p, e); s != Step::Ok)
                    return s;
                ev.time = 0;
            }
            break;
        case Key::Other:
            if (const Step s = skipValue(p, e); s != Step::Ok)
                return s;
            break;
        }
        skipWs(p, e);
        if (p >= e)
            return Step::Truncated;
        if (*p == ',') {
            ++p;
            continue;
        }
        if (*p == '}') {
            ++p;
            return Step::Ok;
        }
        return Step::Malformed;
    }
}

void appendJsonString(QByteArray &out, const QString &s)
{
    const QByteArray u = s.toUtf8();
    out.reserve(out.size() + u.size() + 2);
    out += '"';
    const char *p = u.constData();
    const char *e = p + u.size();
    const char *run = p;
    for (; p < e; ++p) {
        const auto c = static_cast<unsigned char>(*p);
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        out.append(run, p - run);
        run = p + 1;
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        default: {
            static const char digits[] = "0123456789abcdef";
            const char esc[6] = {'\\', 'u', '0', '0', digits[c >> 4], digits[c & 0xF]};
            out.append(esc, 6);
            break;
        }
        }
    }
    out.append(run, p - run);
    out += '"';
}

void appendEvent(QByteArray &out, const LogEvent &event)
{
    out += "{\"stream_name\":";
    out += event.stream == LogEvent::Stream::Stderr ? "\"stderr\"" : "\"stdout\"";
    out += ",\"time\":";
    char buf[64];
    const double t = std::isfinite(event.time) ? event.time : 0.0;
    const auto res = std::to_chars(buf, buf + sizeof buf, t);
    out.append(buf, res.ptr - buf);
    out += ",\"data\":";
    appendJsonString(out, event.data);
    out += '}';
}

constexpr qsizetype kMaxSseLineBytes = 16 * 1024 * 1024;

} // namespace

Result<LogArrayParse> parseLogArray(QByteArrayView text)
{
    const char *p = text.data();
    const char *e = p + text.size();
    if (e - p >= 3 && std::memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    LogArrayParse out;
    skipWs(p, e);
    if (p >= e)
        return out; // an empty log
    if (*p != '[') {
        return ApiError::make(ApiError::Kind::Protocol,
                              QStringLiteral("kernel log: not a JSON array of log events"));
    }
    ++p;
    // Typical events are 80-200 bytes; over-reserving a little is cheaper than regrowing.
    out.events.reserve(std::min<qsizetype>(text.size() / 128 + 16, 4 * 1024 * 1024));
    out.complete = false;
    std::string scratch;
    bool inGarbage = false;
    LogEvent ev;
    while (true) {
        skipWs(p, e);
        if (p >= e)
            break;
        const char c = *p;
        if (c == ']') {
            out.complete = true;
            break;
        }
        if (c == ',') {
            ++p;
            inGarbage = false;
            continue;
        }
        if (c == '{') {
            inGarbage = false;
            const char *elementStart = p;
            bool valid = true;
            const Step s = parseEvent(p, e, scratch, ev, valid);
            if (s == Step::Truncated)
                break;
            if (s == Step::Ok) {
                if (valid)
                    out.events.append(std::move(ev));
                else
                    ++out.skipped;
                continue;
            }
            // Malformed: step over the element by bracket depth and carry on.
            ++out.skipped;
            p = elementStart;
            if (skipValue(p, e) != Step::Ok)
                break;
            continue;
        }
        // Not an object: a stray value or garbage.
        if (!inGarbage)
            ++out.skipped;
        const Step s = skipValue(p, e);
        if (s == Step::Truncated)
            break;
        if (s == Step::Malformed) {
            inGarbage = true;
            ++p;
        }
    }
    if (!out.complete)
        qCDebug(lcKaggle) << "log array is truncated;" << out.events.size() << "complete events";
    if (out.skipped)
        qCDebug(lcKaggle) << "log array:" << out.skipped << "malformed elements skipped";
    return out;
}

QByteArray writeLogEventJson(const LogEvent &event)
{
    QByteArray out;
    appendEvent(out, event);
    return out;
}

QByteArray writeLogArray(const QList<LogEvent> &events)
{
    QByteArray out;
    out += '[';
    for (qsizetype i = 0; i < events.size(); ++i) {
        if (i > 0)
            out += ',';
        appendEvent(out, events.at(i));
        out += '\n';
    }
    out += ']';
    return out;
}

// ---------------------------------------------------------------- SSE

QList<LogEvent> SseLogParser::feed(QByteArrayView chunk)
{
    QList<LogEvent> events;
    if (m_ended)
        return events;

    const auto handleLine = [&](QByteArrayView line) {
        if (line.endsWith('\r'))
            line.chop(1);
        if (!line.startsWith("data:"))
            return; // event:, id:, retry:, ":" comments and blank lines
        QByteArrayView payload = line.sliced(5);
        if (payload.startsWith(' '))
            payload = payload.sliced(1);
        if (payload.trimmed() == "END_OF_LOG") {
            m_ended = true;
            return;
        }
        const char *p = payload.data();
        const char *e = p + payload.size();
        skipWs(p, e);
        if (p < e && *p == '{') {
            LogEvent ev;
            bool valid = true;
            std::string scratch;
            if (parseEvent(p, e, scratch, ev, valid) == Step::Ok && valid) {
                skipWs(p, e);
                if (p == e) {
                    events.append(std::move(ev));
                    return;
                }
            }
        }
        // Not a JSON event: the CLI prints the payload as text.
        LogEvent text;
        text.data = QString::fromUtf8(payload);
        events.append(std::move(text));
    };

    qsizetype pos = 0;
    while (pos < chunk.size() && !m_ended) {
        const QByteArrayView rest = chunk.sliced(pos);
        const qsizetype nl = rest.indexOf('\n');
        if (m_dropping) {
            if (nl < 0)
                return events;
            m_dropping = false;
            pos += nl + 1;
            continue;
        }
        if (nl < 0) {
            m_buffer.append(rest.data(), rest.size());
            if (m_buffer.size() > kMaxSseLineBytes) {
                qCWarning(lcKaggle)
                    << "log stream: dropping a line longer than" << kMaxSseLineBytes << "bytes";
                m_buffer.clear();
                m_buffer.squeeze();
                m_dropping = true;
                ++m_droppedLines;
            }
            return events;
        }
        const QByteArrayView piece = rest.first(nl);
        if (m_buffer.isEmpty()) {
            if (piece.size() <= kMaxSseLineBytes)
                handleLine(piece);
            else
                ++m_droppedLines;
        } else {
            if (m_buffer.size() + piece.size() <= kMaxSseLineBytes) {
                m_buffer.append(piece.data(), piece.size());
                handleLine(m_buffer);
            } else {
                ++m_droppedLines;
            }
            m_buffer.clear();
        }
        pos += nl + 1;
    }
    if (m_ended) {
        m_buffer.clear();
        m_buffer.squeeze();
    }
    return events;
}

} // namespace kd
