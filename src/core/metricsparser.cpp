#include "metricsparser.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace kd {

namespace {

// Hand-written scanning instead of regular expressions: every log line passes through here
// (hundreds of MB per session), and most lines carry no metric at all. Cheap character
// checks reject those first; user patterns are the only regexes, and only when set.

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr qsizetype kMaxKeyLength = 64;
constexpr size_t kMaxNames = 1024;

inline bool isDigit(char16_t c)
{
    return c >= u'0' && c <= u'9';
}

inline bool isLetter(char16_t c)
{
    return (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z');
}

inline bool isSpace(char16_t c)
{
    return c == u' ' || c == u'\t';
}

inline bool isKeyChar(char16_t c)
{
    return isLetter(c) || isDigit(c) || c == u'_' || c == u'.' || c == u'/';
}

/// Characters that may stand right before a key (or before the blanks before a key).
inline bool isSeparator(char16_t c)
{
    return c == u',' || c == u';' || c == u'|' || c == u'[' || c == u'(' || c == u'{' ||
           c == u'-' || c == u':';
}

inline char16_t lower(char16_t c)
{
    return (c >= u'A' && c <= u'Z') ? char16_t(c + 32) : c;
}

/// Case-insensitive match of an ASCII lower-case word at p.
bool matchWord(const QChar *p, const QChar *e, const char *word)
{
    for (; *word; ++word, ++p) {
        if (p >= e || lower(p->unicode()) != char16_t(*word))
            return false;
    }
    return true;
}

/// A number token at p: [+-] digits [. digits] [e[+-]digits], or nan / inf / infinity.
/// Returns its end, or nullptr when there is none.
const QChar *parseNumber(const QChar *p, const QChar *e, double &value)
{
    const QChar *q = p;
    bool negative = false;
    if (q < e && (*q == u'-' || *q == u'+')) {
        negative = *q == u'-';
        ++q;
    }
    if (q < e && isLetter(q->unicode())) {
        const QChar *end = nullptr;
        if (matchWord(q, e, "nan")) {
            value = kNaN;
            end = q + 3;
        } else if (matchWord(q, e, "infinity")) {
            value = negative ? -HUGE_VAL : HUGE_VAL;
            end = q + 8;
        } else if (matchWord(q, e, "inf")) {
            value = negative ? -HUGE_VAL : HUGE_VAL;
            end = q + 3;
        }
        if (end && (end == e || !(isKeyChar(end->unicode()) && *end != u'.' && *end != u'/')))
            return end;
        return nullptr;
    }
    // Most values have few digits: those are exact as mantissa x 10^k in one correctly rounded
    // operation (Clinger's fast path); the rest go through from_chars.
    const QChar *const start = q;
    int digits = 0;
    int fraction = 0;
    quint64 mantissa = 0;
    while (q < e && isDigit(q->unicode())) {
        mantissa = mantissa * 10 + (q->unicode() - u'0');
        ++q;
        ++digits;
    }
    if (q + 1 < e && *q == u'.' && isDigit(q[1].unicode())) {
        ++q;
        while (q < e && isDigit(q->unicode())) {
            mantissa = mantissa * 10 + (q->unicode() - u'0');
            ++q;
            ++digits;
            ++fraction;
        }
    }
    if (digits == 0)
        return nullptr;
    int exponent = 0;
    if (q + 1 < e && (*q == u'e' || *q == u'E')) {
        const QChar *x = q + 1;
        const bool minus = *x == u'-';
        if (minus || *x == u'+')
            ++x;
        if (x < e && isDigit(x->unicode())) {
            while (x < e && isDigit(x->unicode())) {
                exponent = std::min(exponent * 10 + (x->unicode() - u'0'), 100000);
                ++x;
            }
            if (minus)
                exponent = -exponent;
            q = x;
        }
    }
    static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                        1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                        1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const int scale = exponent - fraction;
    if (digits <= 15 && scale >= -22 && scale <= 22) {
        const double m = double(mantissa);
        value = scale >= 0 ? m * kPow10[scale] : m / kPow10[-scale];
        if (negative)
            value = -value;
        return q;
    }
    if (q - start > 120)
        return nullptr; // no metric has that many digits
    char buffer[128];
    int n = 0;
    if (negative)
        buffer[n++] = '-';
    for (const QChar *c = start; c < q; ++c)
        buffer[n++] = char(c->unicode());
    const auto res = std::from_chars(buffer, buffer + n, value);
    if (res.ec != std::errc() && res.ec != std::errc::result_out_of_range)
        return nullptr;
    return q;
}

/// Whether a value ends at q: not a time ("12:30"), a percentage, a version ("3.10.12"), a
/// path, a unit ("12s") or a thousands group ("25,000").
bool atValueEnd(const QChar *q, const QChar *e)
{
    if (q >= e)
        return true;
    switch (q->unicode()) {
    case u' ':
    case u'\t':
    case u';':
    case u')':
    case u']':
    case u'}':
    case u'|':
    case u'\'':
    case u'"':
        return true;
    case u',':
        return !(q + 1 < e && isDigit(q[1].unicode()));
    case u'.':
        return q + 1 == e || isSpace(q[1].unicode());
    default:
        return false;
    }
}

bool isValidKey(const QChar *k, const QChar *end)
{
    const qsizetype length = end - k;
    if (length <= 0 || length > kMaxKeyLength)
        return false;
    const char16_t first = k->unicode();
    const char16_t last = end[-1].unicode();
    return (isLetter(first) || first == u'_') && last != u'.' && last != u'/';
}

bool equalsLower(QStringView key, const char *word)
{
    const QChar *p = key.data();
    return matchWord(p, p + key.size(), word) && qsizetype(std::strlen(word)) == key.size();
}

bool isEpochKey(QStringView key)
{
    return key.size() == 5 && equalsLower(key, "epoch");
}

bool isStepKey(QStringView key)
{
    switch (key.size()) {
    case 4:
        return equalsLower(key, "step") || equalsLower(key, "iter");
    case 9:
        return equalsLower(key, "iteration");
    case 11:
        return equalsLower(key, "global_step");
    default:
        return false;
    }
}

/// Clock text: "00:37", "1:02:03" (tqdm), "12s", "1:02", "350ms" (Keras). -1 when not one.
double parseClock(QStringView text)
{
    const QChar *p = text.data();
    const QChar *e = p + text.size();
    while (p < e && isSpace(p->unicode()))
        ++p;
    while (e > p && isSpace(e[-1].unicode()))
        --e;
    double scale = 1;
    if (e - p >= 2 && e[-1] == u's' && e[-2] == u'm') {
        e -= 2;
        scale = 0.001;
    } else if (e > p && e[-1] == u's') {
        --e;
    }
    double total = 0;
    qint64 part = 0;
    int digits = 0;
    int parts = 0;
    for (; p < e; ++p) {
        const char16_t c = p->unicode();
        if (isDigit(c)) {
            part = part * 10 + (c - u'0');
            if (++digits > 9)
                return -1;
        } else if (c == u':' && digits > 0 && parts < 2) {
            total = (total + double(part)) * 60;
            part = 0;
            digits = 0;
            ++parts;
        } else {
            return -1;
        }
    }
    if (digits == 0)
        return -1;
    return (total + double(part)) * scale;
}

/// Digits at p, optionally with thousands commas ("3,000"). -1 when none.
qint64 parseCount(const QChar *&p, const QChar *e, bool commas)
{
    qint64 value = 0;
    int digits = 0;
    while (p < e) {
        const char16_t c = p->unicode();
        if (isDigit(c)) {
            if (++digits > 15)
                return -1;
            value = value * 10 + (c - u'0');
        } else if (!(commas && c == u',' && digits > 0 && p + 1 < e && isDigit(p[1].unicode()))) {
            break;
        }
        ++p;
    }
    return digits > 0 ? value : -1;
}

/// Skips a Python value that is not a number: a string, a nested container, None.
const QChar *skipPythonValue(const QChar *p, const QChar *e)
{
    int depth = 0;
    while (p < e) {
        const char16_t c = p->unicode();
        if (c == u'\'' || c == u'"') {
            ++p;
            while (p < e && *p != QChar(c)) {
                if (*p == u'\\')
                    ++p;
                ++p;
            }
            if (p < e)
                ++p;
            continue;
        }
        if (c == u'[' || c == u'{' || c == u'(') {
            ++depth;
        } else if (c == u']' || c == u'}' || c == u')') {
            if (depth == 0)
                return p;
            --depth;
        } else if (c == u',' && depth == 0) {
            return p;
        }
        ++p;
    }
    return p;
}

/// "poch" in any case at p (the word "Epoch" without its E, which is checked later).
inline bool isPoch(const QChar *p, const QChar *e)
{
    return e - p >= 4 && lower(p[0].unicode()) == u'p' && lower(p[1].unicode()) == u'o' &&
           lower(p[2].unicode()) == u'c' && lower(p[3].unicode()) == u'h';
}

enum : unsigned { kEquals = 1, kColon = 2, kBrace = 4, kSlash = 8 };

/// What one pass over a line found: which separators occur, where "Epoch" and a tqdm "%|" are.
struct LineScan
{
    unsigned flags = 0;
    qsizetype epochAt = -1;   ///< the "poch" of the first "Epoch" word
    qsizetype percentAt = -1; ///< the '%' of the first "%|"
};

inline void scanChar(LineScan &s, const QChar *b, const QChar *p, const QChar *e)
{
    switch (p->unicode()) {
    case u'=':
        s.flags |= kEquals;
        break;
    case u':':
        s.flags |= kColon;
        break;
    case u'{':
        s.flags |= kBrace;
        break;
    case u'/':
        s.flags |= kSlash;
        break;
    case u'|':
        if (s.percentAt < 0 && p > b && p[-1] == u'%')
            s.percentAt = p - 1 - b;
        break;
    case u'p':
    case u'P':
        if (s.epochAt < 0 && isPoch(p, e))
            s.epochAt = p - b;
        break;
    default:
        break;
    }
}

LineScan scanLine(const QChar *const b, const QChar *const e)
{
    // Every line of the log comes through here: eight QChars per step where SSE2 is there,
    // looking at single characters only in the blocks that hold one of interest.
    LineScan s;
    const QChar *p = b;
#if defined(__SSE2__)
    const __m128i marks[] = {_mm_set1_epi16('='), _mm_set1_epi16(':'), _mm_set1_epi16('{'),
                             _mm_set1_epi16('/'), _mm_set1_epi16('|'), _mm_set1_epi16('p'),
                             _mm_set1_epi16('P')};
    for (; e - p >= 8; p += 8) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
        __m128i any = _mm_cmpeq_epi16(v, marks[0]);
        for (size_t i = 1; i < std::size(marks); ++i)
            any = _mm_or_si128(any, _mm_cmpeq_epi16(v, marks[i]));
        auto mask = unsigned(_mm_movemask_epi8(any));
        while (mask) {
            const int bit = std::countr_zero(mask);
            scanChar(s, b, p + bit / 2, e);
            mask &= ~(3u << bit);
        }
    }
#endif
    for (; p < e; ++p)
        scanChar(s, b, p, e);
    return s;
}

/// The next a or b at or after p; e when none.
const QChar *findEither(const QChar *p, const QChar *const e, char16_t a, char16_t b)
{
#if defined(__SSE2__)
    const __m128i va = _mm_set1_epi16(short(a));
    const __m128i vb = _mm_set1_epi16(short(b));
    for (; e - p >= 8; p += 8) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
        const auto mask = unsigned(
            _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi16(v, va), _mm_cmpeq_epi16(v, vb))));
        if (mask)
            return p + std::countr_zero(mask) / 2;
    }
#endif
    for (; p < e; ++p) {
        if (p->unicode() == a || p->unicode() == b)
            return p;
    }
    return e;
}

/// The next '=' or ':' at or after p; e when none.
inline const QChar *findPairMark(const QChar *p, const QChar *const e)
{
    return findEither(p, e, u'=', u':');
}

qsizetype nextPoch(const QChar *b, const QChar *e, qsizetype from)
{
    for (const QChar *p = findEither(b + from, e, u'p', u'P'); p < e;
         p = findEither(p + 1, e, u'p', u'P')) {
        if (isPoch(p, e))
            return p - b;
    }
    return -1;
}

/// The first c in [p, e), or e.
inline const QChar *find(const QChar *p, const QChar *e, char16_t c)
{
    while (p < e && p->unicode() != c)
        ++p;
    return p;
}

const QChar *skipSpaces(const QChar *p, const QChar *e)
{
    while (p < e && isSpace(p->unicode()))
        ++p;
    return p;
}

} // namespace

MetricsParser::MetricsParser() : m_epoch(kNaN)
{
    m_pairs.reserve(32);
}

void MetricsParser::reset()
{
    m_epoch = kNaN;
    m_step = -1;
    m_epochIndex = 0;
    m_totalEpochs = 0;
    m_epochStart = -1;
    m_epochDuration = -1;
    m_trainTotal = 0;
    m_loopTotal = 0;
    m_loopDone = false;
    m_loopPerEpoch = false;
    m_loopEpoch = 0;
    m_loopRemaining = -1;
    m_loopDuration = -1;
    m_loopTime = 0;
}

QStringList MetricsParser::setUserPatterns(const QStringList &patterns)
{
    QStringList errors;
    m_patterns.clear();
    for (const QString &pattern : patterns) {
        UserPattern p;
        p.re.setPattern(pattern);
        if (!p.re.isValid()) {
            errors << QStringLiteral("%1: %2 at offset %3")
                          .arg(pattern, p.re.errorString())
                          .arg(p.re.patternErrorOffset());
            continue;
        }
        for (const QString &name : p.re.namedCaptureGroups()) {
            if (!name.isEmpty())
                p.names << name;
        }
        if (p.names.isEmpty()) {
            errors << QStringLiteral("%1: no named capture such as (?<loss>[0-9.]+)").arg(pattern);
            continue;
        }
        p.re.optimize();
        m_patterns.push_back(std::move(p));
    }
    return errors;
}

QList<MetricPoint> MetricsParser::parseLine(QStringView line, double logTime)
{
    QList<MetricPoint> out;
    parseLine(line, logTime, out);
    return out;
}

void MetricsParser::parseLines(const QList<LogLine> &lines, QList<MetricPoint> &out)
{
    for (const LogLine &line : lines)
        parseLine(line.text, line.time, out);
}

void MetricsParser::parseLine(QStringView line, double logTime, QList<MetricPoint> &out)
{
    if (line.isEmpty())
        return;
    const qsizetype builtIn = out.size();
    const QChar *const b = line.data();
    const QChar *const e = b + line.size();
    const LineScan scan = scanLine(b, e);
    const bool equals = scan.flags & kEquals;
    const bool colon = scan.flags & kColon;
    const bool brace = scan.flags & kBrace;
    const bool slash = scan.flags & kSlash;
    const qsizetype epochAt = scan.epochAt;
    const qsizetype percentAt = scan.percentAt;

    if (epochAt >= 0)
        parseEpochMarker(line, logTime, epochAt);

    bool done = false;
    if (brace)
        done = parseDict(line, logTime, out);
    if (!done && percentAt >= 0)
        done = parseTqdm(line, percentAt, logTime, out);
    if (!done && slash)
        done = parseKeras(line, logTime, out);
    if (!done && equals)
        parseHeader(line);
    if (!done && (equals || colon)) {
        scanPairs(line);
        emitPairs(logTime, out);
    }
    if (!m_patterns.empty())
        applyUserPatterns(line, logTime, out, builtIn);
}

void MetricsParser::scanPairs(QStringView text)
{
    m_pairs.clear();
    const QChar *const b = text.data();
    const QChar *const e = b + text.size();
    for (const QChar *p = findPairMark(b, e); p < e; p = findPairMark(p + 1, e)) {
        const char16_t c = p->unicode();
        const QChar *v = p + 1;
        const QChar *keyEnd = p;
        // A blank before '=' or a "key: value" pair needs a one-word key, so that
        // "Num Epochs = 3" or "Trainable params: 7" are not series.
        bool oneWord = c == u':';
        if (c == u'=') {
            if (v < e && *v == u'=') { // "==": a comparison or a pinned version
                ++p;
                continue;
            }
            if (p > b && (p[-1] == u'!' || p[-1] == u'<' || p[-1] == u'>'))
                continue;
            while (keyEnd > b && isSpace(keyEnd[-1].unicode())) {
                --keyEnd;
                oneWord = true;
            }
        } else if (v >= e || !isSpace(v->unicode())) {
            continue; // "12:30:01", "http://", "file.py:83:"
        }
        v = skipSpaces(v, e);
        const QChar *k = keyEnd;
        while (k > b && isKeyChar(k[-1].unicode()))
            --k;
        if (!isValidKey(k, keyEnd))
            continue;
        if (k > b) {
            const char16_t before = k[-1].unicode();
            if (isSpace(before)) {
                if (oneWord) {
                    const QChar *q = k - 1;
                    while (q > b && isSpace(q[-1].unicode()))
                        --q;
                    if (q > b && !isSeparator(q[-1].unicode()))
                        continue;
                }
            } else if (!isSeparator(before)) {
                continue; // "?page=2", "a.b=1" inside a word
            }
        }
        double value = 0;
        const QChar *end = parseNumber(v, e, value);
        if (!end)
            continue;
        qint64 total = -1;
        if (end < e && *end == u'/' && std::isfinite(value) && value == std::floor(value)) {
            const QChar *t = end + 1;
            total = parseCount(t, e, false);
            if (total < 0)
                continue;
            end = t;
        }
        if (!atValueEnd(end, e))
            continue;
        m_pairs.push_back(
            Pair{QStringView(k, keyEnd), value, total, kindOf(QStringView(k, keyEnd))});
        p = end - 1;
    }
}

MetricsParser::PairKind MetricsParser::kindOf(QStringView key)
{
    const char16_t first = key.isEmpty() ? 0 : char16_t(key.front().unicode() | 0x20);
    if (first != u'e' && first != u's' && first != u'g' && first != u'i')
        return PairKind::Metric;
    if (isEpochKey(key))
        return PairKind::Epoch;
    if (isStepKey(key))
        return PairKind::Step;
    return PairKind::Metric;
}

void MetricsParser::emitPairs(double time, QList<MetricPoint> &out, bool applyEpochIndex)
{
    if (m_pairs.empty())
        return;
    // Context first: "epoch=2 loss=0.3" is a loss of epoch 2.
    bool any = false;
    for (const Pair &pair : m_pairs) {
        switch (pair.kind) {
        case PairKind::Epoch:
            if (std::isfinite(pair.value) && pair.value >= 0) {
                const bool whole = pair.value == std::floor(pair.value) && pair.value < 1e6;
                if (applyEpochIndex && whole)
                    setEpochIndex(int(pair.value), int(std::min<qint64>(pair.total, 1000000)),
                                  time);
                m_epoch = pair.value;
            }
            break;
        case PairKind::Step:
            if (std::isfinite(pair.value) && pair.value >= 0 && pair.value < 9e15)
                m_step = qint64(pair.value);
            break;
        case PairKind::Metric:
            any = any || pair.total < 0;
            break;
        }
    }
    if (!any)
        return;
    for (const Pair &pair : m_pairs) {
        if (pair.kind == PairKind::Metric && pair.total < 0)
            addPoint(pair.key, pair.value, time, out);
    }
}

void MetricsParser::addPoint(QStringView series, double value, double time, QList<MetricPoint> &out)
{
    MetricPoint point;
    point.series = intern(series);
    point.value = value;
    point.logTime = time;
    point.epoch = m_epoch;
    point.step = m_step;
    out.append(std::move(point));
}

const QString &MetricsParser::intern(QStringView name)
{
    // Lines of one format name their series in the same order: try the one after the last hit.
    if (m_internHint < m_names.size() && m_names[m_internHint] == name)
        return m_names[m_internHint++];
    for (size_t i = 0; i < m_names.size(); ++i) {
        if (m_names[i] == name) {
            m_internHint = i + 1;
            return m_names[i];
        }
    }
    if (m_names.size() >= kMaxNames) {
        m_overflowName = name.toString(); // a log inventing names: no more caching
        return m_overflowName;
    }
    m_names.push_back(name.toString());
    m_internHint = m_names.size();
    return m_names.back();
}

bool MetricsParser::parseDict(QStringView line, double time, QList<MetricPoint> &out)
{
    const QChar *const b = line.data();
    const QChar *const e = b + line.size();
    const QChar *p = b;
    // The dict starts at a brace followed by a quoted key: {'loss': 0.41, ...}
    for (;; ++p) {
        while (p < e && *p != u'{')
            ++p;
        if (p >= e)
            return false;
        const QChar *q = skipSpaces(p + 1, e);
        if (q < e && (*q == u'\'' || *q == u'"'))
            break;
    }
    m_pairs.clear();
    ++p;
    while (p < e) {
        p = skipSpaces(p, e);
        if (p >= e || *p == u'}')
            break;
        const QChar quote = *p;
        if (quote != u'\'' && quote != u'"')
            break;
        const QChar *keyBegin = ++p;
        while (p < e && *p != quote)
            ++p;
        if (p >= e)
            break;
        const QStringView key(keyBegin, p);
        p = skipSpaces(p + 1, e);
        if (p >= e || *p != u':')
            break;
        p = skipSpaces(p + 1, e);
        double value = 0;
        const QChar *end = parseNumber(p, e, value);
        if (!end && p < e && isLetter(p->unicode())) {
            // numpy 2 reprs and friends: np.float64(0.41), tensor(0.41)
            const QChar *q = p;
            while (q < e && (isKeyChar(q->unicode())))
                ++q;
            if (q < e && *q == u'(') {
                end = parseNumber(skipSpaces(q + 1, e), e, value);
                if (end) {
                    end = skipSpaces(end, e);
                    end = end < e && *end == u')' ? end + 1 : nullptr;
                }
            }
        }
        const QChar *after = end ? skipSpaces(end, e) : nullptr;
        if (after && (after >= e || *after == u',' || *after == u'}')) {
            if (!key.isEmpty() && key.size() <= kMaxKeyLength)
                m_pairs.push_back(Pair{key, value, -1, kindOf(key)});
            p = after;
        } else {
            p = skipPythonValue(p, e); // a string, a list, None: not a series
        }
        if (p < e && *p == u',')
            ++p;
        else
            break;
    }
    if (m_pairs.empty())
        return false;
    // An HF dict's epoch is progress (1.5 = half-way through the second epoch), not an
    // "Epoch N/M" index.
    emitPairs(time, out, false);
    return true;
}

bool MetricsParser::isTrainingBar(QStringView desc, qint64 total, bool lossInPostfix) const
{
    static constexpr QStringView notTraining[] = {
        u"eval",  u"valid",   u"test", u"predict", u"infer",  u"download", u"map",
        u"token", u"generat", u"load", u"extract", u"upload", u"saving",   u"filter",
    };
    static constexpr QStringView training[] = {u"train", u"epoch", u"step", u"iter", u"fit"};
    if (!desc.isEmpty()) {
        for (const QStringView word : notTraining) {
            if (desc.contains(word, Qt::CaseInsensitive))
                return false;
        }
        for (const QStringView word : training) {
            if (desc.contains(word, Qt::CaseInsensitive))
                return true;
        }
        return lossInPostfix;
    }
    if (lossInPostfix)
        return true;
    // The Trainer's bar has no description; its evaluation bar neither, but a different total.
    if (m_trainTotal > 0)
        return total == m_trainTotal;
    if (m_loopTotal > 0 && !m_loopDone)
        return total == m_loopTotal;
    return true;
}

bool MetricsParser::parseTqdm(QStringView line, qsizetype percent, double time,
                              QList<MetricPoint> &out)
{
    // {desc}: {percentage:3.0f}%|{bar}| {n}/{total} [{elapsed}<{remaining}, {rate}{postfix}]
    const QChar *const b = line.data();
    const QChar *const e = b + line.size();
    const QChar *descEnd = b + percent;
    while (descEnd > b && (isDigit(descEnd[-1].unicode()) || descEnd[-1] == u'.'))
        --descEnd;
    if (descEnd == b + percent)
        return false;
    QStringView desc = QStringView(b, descEnd).trimmed();
    if (desc.endsWith(u':'))
        desc.chop(1);
    desc = desc.trimmed();

    const QChar *p = find(b + percent + 2, e, u'|');
    if (p >= e)
        return false;
    p = skipSpaces(p + 1, e);
    qint64 n = parseCount(p, e, false);
    qint64 total = -1;
    if (n >= 0 && p < e && *p == u'/') {
        ++p;
        total = parseCount(p, e, false);
    }
    if (total <= 0 || !(p >= e || isSpace(p->unicode())))
        n = total = -1; // unit-scaled counters ("1.2k/3.4k") are not steps

    double elapsed = -1;
    double remaining = -1;
    QStringView postfix;
    const QChar *open = find(p, e, u'[');
    const QChar *close = e;
    while (close > open && close[-1] != u']')
        --close;
    if (open < e && close > open + 1) {
        --close; // at the ']'
        // [{elapsed}<{remaining}, {rate}{postfix}]
        const QChar *inside = open + 1;
        const QChar *lt = find(inside, close, u'<');
        const QChar *comma = find(inside, close, u',');
        if (lt < comma) {
            elapsed = parseClock(QStringView(inside, lt));
            remaining = parseClock(QStringView(lt + 1, comma));
        }
        if (comma < close) {
            // After the rate: ", loss=0.412, lr=1e-4" (set_postfix)
            const QChar *next = find(comma + 1, close, u',');
            if (next < close)
                postfix = QStringView(next + 1, close);
        }
    }
    m_pairs.clear();
    bool loss = false;
    if (!postfix.isEmpty()) {
        scanPairs(postfix);
        for (const Pair &pair : m_pairs)
            loss = loss || pair.key.contains(u"loss", Qt::CaseInsensitive);
    }
    if (n >= 0 && isTrainingBar(desc, total, loss)) {
        m_step = n;
        updateLoop(n, total, elapsed, remaining, time);
    }
    emitPairs(time, out);
    return true;
}

bool MetricsParser::parseKeras(QStringView line, double time, QList<MetricPoint> &out)
{
    // Keras 2: " 12/500 [>....] - ETA: 1:02 - loss: 0.5" ... "500/500 [====] - 12s 24ms/step"
    // Keras 3: " 12/500 ━━━━━━━━ 1:02 128ms/step - loss: 0.5" ... "500/500 ━━━━ 12s 24ms/step"
    const QChar *const b = line.data();
    const QChar *const e = b + line.size();
    const QChar *p = skipSpaces(b, e);
    const qint64 n = parseCount(p, e, false);
    if (n < 0 || p >= e || *p != u'/')
        return false;
    ++p;
    const qint64 total = parseCount(p, e, false);
    if (total <= 0 || p >= e || *p != u' ')
        return false;
    p = skipSpaces(p, e);
    if (p >= e)
        return false;
    if (*p == u'[') {
        while (p < e && *p != u']')
            ++p;
        if (p >= e)
            return false;
        ++p;
    } else if (*p == QChar(0x2501)) {
        while (p < e && (*p == QChar(0x2501) || *p == QChar(0x2500)))
            ++p;
    } else {
        return false;
    }
    const QStringView rest(p, e);
    // The first time field: "ETA: 1:02" while running, the epoch's duration when done.
    const QChar *t = skipSpaces(p, e);
    if (t < e && *t == u'-')
        t = skipSpaces(t + 1, e);
    bool eta = false;
    if (e - t >= 4 && QStringView(t, 4) == u"ETA:") {
        eta = true;
        t = skipSpaces(t + 4, e);
    }
    const QChar *tokenEnd = t;
    while (tokenEnd < e && !isSpace(tokenEnd->unicode()))
        ++tokenEnd;
    const double clock = parseClock(QStringView(t, tokenEnd));
    double elapsed = -1;
    double remaining = -1;
    if (clock >= 0) {
        if (eta || n < total)
            remaining = clock;
        else
            elapsed = clock;
    }
    if (n >= total)
        remaining = 0;
    m_step = n;
    updateLoop(n, total, elapsed, remaining, time);
    if (elapsed >= 0 && m_epochDuration < 0)
        m_loopDuration = elapsed;
    scanPairs(rest);
    emitPairs(time, out);
    return true;
}

void MetricsParser::updateLoop(qint64 n, qint64 total, double elapsed, double remaining,
                               double time)
{
    m_loopTotal = total;
    m_loopDone = total > 0 && n >= total;
    m_loopPerEpoch = m_trainTotal > 0 ? total != m_trainTotal : m_totalEpochs > 0;
    m_loopEpoch = m_epochIndex;
    if (remaining >= 0) {
        m_loopRemaining = remaining;
        m_loopTime = time;
    } else if (m_loopDone) {
        m_loopRemaining = 0;
        m_loopTime = time;
    }
    if (elapsed >= 0 && remaining >= 0)
        m_loopDuration = elapsed + remaining;
}

void MetricsParser::setEpochIndex(int n, int total, double time)
{
    if (total > 0)
        m_totalEpochs = total;
    if (n != m_epochIndex) {
        if (m_epochIndex > 0 && n == m_epochIndex + 1 && m_epochStart >= 0 && time > m_epochStart)
            m_epochDuration = time - m_epochStart;
        m_epochIndex = n;
        m_epochStart = time;
    }
    m_epoch = n;
}

void MetricsParser::parseEpochMarker(QStringView line, double time, qsizetype at)
{
    // "Epoch 3/10" (Keras, tqdm descriptions, custom loops) anywhere; "Epoch 3" alone only at
    // the start of a line ("Epoch 3: val_loss improved...").
    const QChar *const b = line.data();
    const QChar *const e = b + line.size();
    for (; at >= 0; at = nextPoch(b, e, at + 4)) {
        if (at == 0 || lower(line[at - 1].unicode()) != u'e')
            continue;
        const QChar *word = b + at - 1;
        if (word > b && isLetter(word[-1].unicode()))
            continue;
        const QChar *p = b + at + 4;
        if (p < e && *p == u':')
            ++p;
        if (p >= e || *p != u' ')
            continue;
        p = skipSpaces(p, e);
        if (p < e && *p == u'[')
            ++p;
        const qint64 n = parseCount(p, e, false);
        if (n < 0 || n > 1000000)
            continue;
        if (p < e && *p == u'/') {
            ++p;
            const qint64 total = parseCount(p, e, false);
            if (total > 0 && total <= 1000000 && n <= total) {
                setEpochIndex(int(n), int(total), time);
                return;
            }
            continue;
        }
        const QChar *start = skipSpaces(b, e);
        if (start < e && *start == u'[')
            ++start;
        if (start == word && (p >= e || *p == u':' || *p == u' ' || *p == u',' || *p == u']')) {
            setEpochIndex(int(n), 0, time);
            return;
        }
    }
}

void MetricsParser::parseHeader(QStringView line)
{
    // The Trainer's preamble names the length of the training loop: "Total optimization
    // steps = 3,000". It tells the training bar from evaluation bars.
    const QChar *first = skipSpaces(line.data(), line.data() + line.size());
    if (first >= line.data() + line.size() || *first != u'T')
        return;
    const QStringView trimmed = line.trimmed();
    if (!trimmed.startsWith(u"Total optimization steps"))
        return;
    const qsizetype eq = trimmed.indexOf(u'=');
    if (eq < 0)
        return;
    const QChar *p = skipSpaces(trimmed.data() + eq + 1, trimmed.data() + trimmed.size());
    const qint64 total = parseCount(p, trimmed.data() + trimmed.size(), true);
    if (total > 0)
        m_trainTotal = total;
}

void MetricsParser::applyUserPatterns(QStringView line, double time, QList<MetricPoint> &out,
                                      qsizetype firstOfLine)
{
    const qsizetype builtInEnd = out.size();
    for (const UserPattern &pattern : m_patterns) {
        const QRegularExpressionMatch match = pattern.re.match(line);
        if (!match.hasMatch())
            continue;
        for (const QString &name : pattern.names) {
            const QStringView text = match.capturedView(name).trimmed();
            if (text.isEmpty())
                continue;
            double value = 0;
            const QChar *end = parseNumber(text.data(), text.data() + text.size(), value);
            if (end != text.data() + text.size())
                continue;
            // A pattern for a series the built-in formats already found adds nothing.
            bool known = false;
            for (qsizetype i = firstOfLine; i < builtInEnd && !known; ++i)
                known = out.at(i).series == name;
            if (!known)
                addPoint(name, value, time, out);
        }
    }
}

bool MetricsParser::isBarStale() const
{
    // A new epoch announced before its bar appeared: that epoch is all still to go.
    return m_loopPerEpoch && m_epochIndex > 0 && m_loopEpoch < m_epochIndex;
}

double MetricsParser::etaLogTime() const
{
    return isBarStale() && m_epochStart > m_loopTime ? m_epochStart : m_loopTime;
}

std::optional<double> MetricsParser::etaSeconds() const
{
    if (m_loopRemaining < 0)
        return std::nullopt;
    if (!m_loopPerEpoch || m_totalEpochs <= 0 || m_epochIndex <= 0)
        return m_loopRemaining;
    // The bar covers one epoch: add the epochs still to come at the measured pace.
    double epoch = m_epochDuration > 0 ? m_epochDuration : m_loopDuration;
    if (epoch <= 0 && m_epochStart >= 0 && m_loopTime >= m_epochStart)
        epoch = (m_loopTime - m_epochStart) + m_loopRemaining; // Keras shows only the ETA
    const bool barIsStale = isBarStale();
    const int epochsLeft = std::max(0, m_totalEpochs - m_epochIndex) + (barIsStale ? 1 : 0);
    if (epochsLeft == 0)
        return m_loopRemaining;
    if (epoch <= 0)
        return std::nullopt;
    return (barIsStale ? 0.0 : m_loopRemaining) + epochsLeft * epoch;
}

} // namespace kd
