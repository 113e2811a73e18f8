#include "wire.h"

#include "kagglelog.h"

#include <QTimeZone>

#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <exception>
#include <limits>
#include <string>

namespace kd::wire {

namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

constexpr qsizetype kMaxMessageChars = 300;
constexpr qint64 kMaxRetryAfterSeconds = 3600;

// --- small conversions ---

std::string utf8(const QString &s)
{
    const QByteArray b = s.toUtf8();
    return std::string(b.constData(), static_cast<size_t>(b.size()));
}

QString fromStd(const std::string &s)
{
    return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size()));
}

QByteArray dump(const ojson &j)
{
    // `replace` keeps dump() from throwing on invalid UTF-8 (QString never produces it, but
    // nothing here may throw).
    const std::string s = j.dump(-1, ' ', false, json::error_handler_t::replace);
    return QByteArray(s.data(), static_cast<qsizetype>(s.size()));
}

/// One line, no control characters, at most `max` characters: server text goes into UI
/// messages and logs.
QString clipText(QStringView text, qsizetype max = kMaxMessageChars)
{
    QString out;
    out.reserve(std::min(text.size(), max + 1));
    bool lastSpace = false;
    for (QChar c : text) {
        if (out.size() >= max)
            break;
        const bool space = c.isSpace() || c.category() == QChar::Other_Control;
        if (space) {
            if (!lastSpace && !out.isEmpty())
                out += u' ';
            lastSpace = true;
        } else {
            out += c;
            lastSpace = false;
        }
    }
    out = out.trimmed();
    if (text.size() > max && out.size() >= max - 1) {
        out.truncate(max - 1);
        out += QChar(0x2026);
    }
    return out;
}

QString quoted(QStringView text)
{
    return u'"' + clipText(text, 80) + u'"';
}

QString typeName(const json &j)
{
    switch (j.type()) {
    case json::value_t::null:
        return QStringLiteral("null");
    case json::value_t::object:
        return QStringLiteral("an object");
    case json::value_t::array:
        return QStringLiteral("an array");
    case json::value_t::string:
        return QStringLiteral("a string");
    case json::value_t::boolean:
        return QStringLiteral("a boolean");
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
        return QStringLiteral("a number");
    case json::value_t::binary:
    case json::value_t::discarded:
        break;
    }
    return QStringLiteral("an unknown value");
}

/// Parses an integer from a JSON number or a numeric string (proto3 JSON int64).
std::optional<qint64> toInt64(const json &v)
{
    if (v.is_number_integer() && !v.is_number_unsigned())
        return v.get<std::int64_t>();
    if (v.is_number_unsigned()) {
        const auto u = v.get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(std::numeric_limits<qint64>::max()))
            return std::nullopt;
        return static_cast<qint64>(u);
    }
    if (v.is_number_float()) {
        const double d = v.get<double>();
        // 2^63 itself is not representable as qint64.
        if (!std::isfinite(d) || d != std::trunc(d) || d >= 9223372036854775808.0 ||
            d < -9223372036854775808.0)
            return std::nullopt;
        return static_cast<qint64>(d);
    }
    if (v.is_string()) {
        const auto &s = v.get_ref<const std::string &>();
        if (s.empty() || s.size() > 24)
            return std::nullopt;
        qint64 out = 0;
        const char *first = s.data();
        const char *last = s.data() + s.size();
        const auto res = std::from_chars(first, last, out);
        if (res.ec != std::errc() || res.ptr != last)
            return std::nullopt;
        return out;
    }
    return std::nullopt;
}

QString normaliseEnum(QStringView text, QStringView typePrefix)
{
    QString n;
    n.reserve(text.size());
    for (QChar c : text.trimmed()) {
        if (c == u'_' || c == u'-' || c == u' ')
            continue;
        n += c.toLower();
    }
    if (n.startsWith(typePrefix)) {
        n.remove(0, typePrefix.size());
        if (n.startsWith(u'.')) // Python enum repr: "KernelWorkerStatus.COMPLETE"
            n.remove(0, 1);
    }
    return n;
}

// --- decoding helpers ---

/// Collects the first decoding error of one call; every message names the call and field.
class Reader
{
public:
    explicit Reader(const char *call) : m_call(QLatin1StringView(call)) {}

    bool failed() const { return m_error.has_value(); }
    const ApiError &error() const { return *m_error; }

    void fail(const QString &message)
    {
        if (!m_error)
            m_error = ApiError::make(ApiError::Kind::Protocol, m_call + u": " + message);
    }

    /// Parses the body into `root`; fails unless it is a JSON object (or an array when
    /// `allowArray`).
    bool parse(QByteArrayView body, json &root, bool allowArray = false)
    {
        root = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
        if (root.is_discarded()) {
            fail(body.trimmed().isEmpty() ? QStringLiteral("body is empty, expected JSON")
                                          : QStringLiteral("body is not JSON"));
            return false;
        }
        if (!root.is_object() && !(allowArray && root.is_array())) {
            fail(QStringLiteral("body is ") + typeName(root) +
                 QStringLiteral(", expected an object"));
            return false;
        }
        return true;
    }

private:
    QString m_call;
    std::optional<ApiError> m_error;
};

/// A JSON object being decoded, with the path used in error messages ("kernels[2].").
class Obj
{
public:
    Obj(Reader &reader, const json &object, QString path = {})
        : m_r(reader), m_j(object), m_path(std::move(path))
    {}

    Reader &reader() const { return m_r; }
    QString name(const char *key) const { return m_path + QLatin1StringView(key); }

    /// The value, or nullptr when missing or null (null means "not set" in proto3 JSON).
    const json *get(const char *key) const
    {
        if (!m_j.is_object())
            return nullptr;
        const auto it = m_j.find(key);
        if (it == m_j.end() || it->is_null())
            return nullptr;
        return &*it;
    }

    void wrongType(const char *key, const json &v, const char *expected) const
    {
        m_r.fail(QStringLiteral("field \"") + name(key) + QStringLiteral("\" must be ") +
                 QLatin1StringView(expected) + QStringLiteral(", got ") + typeName(v));
    }

    QString str(const char *key) const
    {
        const json *v = get(key);
        if (!v)
            return {};
        if (!v->is_string()) {
            wrongType(key, *v, "a string");
            return {};
        }
        return fromStd(v->get_ref<const std::string &>());
    }

    qint64 int64(const char *key) const
    {
        const json *v = get(key);
        if (!v)
            return 0;
        if (const auto n = toInt64(*v))
            return *n;
        if (v->is_number() || v->is_string())
            m_r.fail(QStringLiteral("field \"") + name(key) +
                     QStringLiteral("\" is not a valid 64-bit integer"));
        else
            wrongType(key, *v, "an integer");
        return 0;
    }

    int int32(const char *key) const
    {
        const qint64 n = int64(key);
        if (n > std::numeric_limits<int>::max() || n < std::numeric_limits<int>::min()) {
            m_r.fail(QStringLiteral("field \"") + name(key) + QStringLiteral("\" is out of range"));
            return 0;
        }
        return static_cast<int>(n);
    }

    bool boolean(const char *key) const
    {
        const json *v = get(key);
        if (!v)
            return false;
        if (v->is_boolean())
            return v->get<bool>();
        if (v->is_string()) {
            const QString s = fromStd(v->get_ref<const std::string &>());
            if (s.compare(u"true", Qt::CaseInsensitive) == 0)
                return true;
            if (s.compare(u"false", Qt::CaseInsensitive) == 0)
                return false;
        }
        wrongType(key, *v, "a boolean");
        return false;
    }

    double duration(const char *key) const
    {
        const json *v = get(key);
        if (!v)
            return 0;
        if (v->is_number()) {
            const double d = v->get<double>();
            if (std::isfinite(d))
                return d;
        } else if (v->is_string()) {
            if (const auto d = parseDurationSeconds(fromStd(v->get_ref<const std::string &>())))
                return *d;
            m_r.fail(QStringLiteral("field \"") + name(key) +
                     QStringLiteral("\" is not a valid duration: ") +
                     quoted(fromStd(v->get_ref<const std::string &>())));
            return 0;
        }
        wrongType(key, *v, "a duration");
        return 0;
    }

    QDateTime timestamp(const char *key) const
    {
        const json *v = get(key);
        if (!v)
            return {};
        if (!v->is_string()) {
            wrongType(key, *v, "a timestamp string");
            return {};
        }
        const QString s = fromStd(v->get_ref<const std::string &>());
        if (s.trimmed().isEmpty())
            return {};
        QDateTime t = parseTimestamp(s);
        if (!t.isValid())
            m_r.fail(QStringLiteral("field \"") + name(key) +
                     QStringLiteral("\" is not a valid timestamp: ") + quoted(s));
        return t;
    }

    QStringList strList(const char *key) const
    {
        const json *v = get(key);
        if (!v)
            return {};
        if (!v->is_array()) {
            wrongType(key, *v, "an array of strings");
            return {};
        }
        QStringList out;
        out.reserve(static_cast<qsizetype>(v->size()));
        for (const json &e : *v) {
            if (!e.is_string()) {
                m_r.fail(QStringLiteral("field \"") + name(key) +
                         QStringLiteral("\" must be an array of strings, got ") + typeName(e) +
                         QStringLiteral(" element"));
                return {};
            }
            out.append(fromStd(e.get_ref<const std::string &>()));
        }
        return out;
    }

    /// A nested object; nullptr when missing, error when not an object.
    const json *object(const char *key) const
    {
        const json *v = get(key);
        if (v && !v->is_object()) {
            wrongType(key, *v, "an object");
            return nullptr;
        }
        return v;
    }

    const json *array(const char *key) const
    {
        const json *v = get(key);
        if (v && !v->is_array()) {
            wrongType(key, *v, "an array");
            return nullptr;
        }
        return v;
    }

private:
    Reader &m_r;
    const json &m_j;
    QString m_path;
};

template <typename Enum, typename ParseFn>
std::optional<Enum> enumField(const Obj &o, const char *key, int maxValue, ParseFn parseName,
                              const char *what)
{
    const json *v = o.get(key);
    if (!v)
        return std::nullopt;
    if (v->is_string()) {
        const QString s = fromStd(v->get_ref<const std::string &>());
        if (s.trimmed().isEmpty())
            return std::nullopt;
        if (const auto e = parseName(s))
            return e;
        o.reader().fail(QStringLiteral("unknown ") + QLatin1StringView(what) + u' ' + quoted(s));
        return std::nullopt;
    }
    if (v->is_number()) {
        const auto n = toInt64(*v);
        if (n && *n >= 0 && *n <= maxValue)
            return static_cast<Enum>(*n);
        o.reader().fail(QStringLiteral("unknown ") + QLatin1StringView(what) + QStringLiteral(" ") +
                        fromStd(v->dump(-1, ' ', false, json::error_handler_t::replace)));
        return std::nullopt;
    }
    o.wrongType(key, *v, "an enum name");
    return std::nullopt;
}

KernelMetadata readKernelMetadata(const Obj &o)
{
    KernelMetadata m;
    m.id = o.int64("id");
    m.ref = o.str("ref");
    m.title = o.str("title");
    m.author = o.str("author");
    m.slug = o.str("slug");
    m.lastRunTime = o.timestamp("lastRunTime");
    m.language = o.str("language");
    m.kernelType = o.str("kernelType");
    m.isPrivate = o.boolean("isPrivate");
    m.enableGpu = o.boolean("enableGpu");
    m.enableInternet = o.boolean("enableInternet");
    m.enableTpu = o.boolean("enableTpu");
    m.categoryIds = o.strList("categoryIds");
    m.datasetDataSources = o.strList("datasetDataSources");
    m.kernelDataSources = o.strList("kernelDataSources");
    m.competitionDataSources = o.strList("competitionDataSources");
    m.modelDataSources = o.strList("modelDataSources");
    m.totalVotes = o.int32("totalVotes");
    m.currentVersionNumber = o.int64("currentVersionNumber");
    m.dockerImage = o.str("dockerImage");
    m.machineShape = o.str("machineShape");
    return m;
}

AcceleratorQuota readQuota(const Obj &o)
{
    AcceleratorQuota q;
    q.timeUsedSeconds = o.duration("timeUsed");
    q.timeReservedSeconds = o.duration("timeReserved");
    q.totalTimeAllowedSeconds = o.duration("totalTimeAllowed");
    q.minimumTimeAllowedSeconds = o.duration("minimumTimeAllowed");
    q.isPayToScaleEnabled = o.boolean("isPayToScaleEnabled");
    q.hasEverRun = o.boolean("hasEverRun");
    return q;
}

QUrl toUrl(const QString &s)
{
    // Pre-signed URLs must keep their exact percent-encoding.
    return s.isEmpty() ? QUrl() : QUrl::fromEncoded(s.toUtf8());
}

/// Runs a decoder body and turns any stray exception (allocation failure) into a Protocol
/// error, so no exception ever leaves the codec.
template <typename T, typename Fn> Result<T> guarded(const char *call, Fn fn)
{
    try {
        return fn();
    } catch (const std::exception &e) {
        qCWarning(lcKaggle) << call << "decoder failed:" << e.what();
        return ApiError::make(ApiError::Kind::Protocol,
                              QLatin1StringView(call) + QStringLiteral(": could not decode body"));
    }
}

template <typename T> Result<T> finish(Reader &r, T value)
{
    if (r.failed()) {
        qCDebug(lcKaggle) << "protocol error:" << r.error().message;
        return r.error();
    }
    return value;
}

// --- request encoding helpers ---

void putStr(ojson &j, const char *key, const QString &v)
{
    if (!v.isEmpty())
        j[key] = utf8(v);
}

void putList(ojson &j, const char *key, const QStringList &v)
{
    if (v.isEmpty())
        return;
    ojson a = ojson::array();
    for (const QString &s : v)
        a.push_back(utf8(s));
    j[key] = std::move(a);
}

void putInt(ojson &j, const char *key, qint64 v)
{
    if (v != 0)
        j[key] = v;
}

ojson newFiles(const QList<DatasetNewFile> &files)
{
    ojson a = ojson::array();
    for (const DatasetNewFile &f : files) {
        ojson e = ojson::object();
        putStr(e, "token", f.token);
        putStr(e, "description", f.description);
        a.push_back(std::move(e));
    }
    return a;
}

// --- error mapping ---

ApiError::Kind kindForCode(int code)
{
    if (code == 401)
        return ApiError::Kind::Auth;
    if (code == 403 || code == 404 || code == 410)
        return ApiError::Kind::NotFound;
    if (code == 429)
        return ApiError::Kind::RateLimited;
    if (code == 408)
        return ApiError::Kind::Timeout;
    if (code == 400)
        return ApiError::Kind::Invalid;
    if (code >= 500)
        return ApiError::Kind::Server;
    return ApiError::Kind::Application;
}

/// google.rpc.Code names, for an "error" envelope that carries a status but no code.
std::optional<ApiError::Kind> kindForRpcStatus(QStringView status)
{
    const QString s = status.trimmed().toString().toUpper();
    if (s == u"UNAUTHENTICATED")
        return ApiError::Kind::Auth;
    if (s == u"PERMISSION_DENIED" || s == u"NOT_FOUND")
        return ApiError::Kind::NotFound;
    if (s == u"RESOURCE_EXHAUSTED")
        return ApiError::Kind::RateLimited;
    if (s == u"DEADLINE_EXCEEDED")
        return ApiError::Kind::Timeout;
    if (s == u"INVALID_ARGUMENT" || s == u"FAILED_PRECONDITION" || s == u"OUT_OF_RANGE")
        return ApiError::Kind::Invalid;
    if (s == u"UNAVAILABLE" || s == u"INTERNAL" || s == u"UNKNOWN" || s == u"DATA_LOSS")
        return ApiError::Kind::Server;
    if (s.isEmpty() || s == u"OK")
        return std::nullopt;
    return ApiError::Kind::Application;
}

QString genericMessage(int code)
{
    const char *reason = nullptr;
    switch (code) {
    case 400:
        reason = "Bad Request";
        break;
    case 401:
        reason = "Unauthorized";
        break;
    case 403:
        reason = "Forbidden";
        break;
    case 404:
        reason = "Not Found";
        break;
    case 408:
        reason = "Request Timeout";
        break;
    case 409:
        reason = "Conflict";
        break;
    case 410:
        reason = "Gone";
        break;
    case 429:
        reason = "Too Many Requests";
        break;
    case 500:
        reason = "Internal Server Error";
        break;
    case 502:
        reason = "Bad Gateway";
        break;
    case 503:
        reason = "Service Unavailable";
        break;
    case 504:
        reason = "Gateway Timeout";
        break;
    default:
        break;
    }
    QString m = QStringLiteral("HTTP ") + QString::number(code);
    if (reason)
        m += u' ' + QLatin1StringView(reason);
    return m;
}

/// What a JSON error body says: top-level {code, message} and/or {"error": {...}}.
struct BodyError
{
    std::optional<qint64> code; ///< top-level "code"
    QString message;            ///< top-level "message"
    bool hasEnvelope = false;   ///< "error" is an object
    std::optional<qint64> envelopeCode;
    QString envelopeMessage;
    QString envelopeStatus;
    QString errorString; ///< "error" as a string

    QString bestMessage() const
    {
        if (!envelopeMessage.isEmpty())
            return envelopeMessage;
        if (!message.isEmpty())
            return message;
        return errorString;
    }
};

std::optional<BodyError> readBodyError(QByteArrayView body)
{
    if (body.isEmpty())
        return std::nullopt;
    const json j = json::parse(body.begin(), body.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return std::nullopt;
    BodyError e;
    const auto stringAt = [](const json &o, const char *key) -> QString {
        const auto it = o.find(key);
        if (it == o.end() || !it->is_string())
            return {};
        return fromStd(it->get_ref<const std::string &>());
    };
    const auto codeAt = [](const json &o, const char *key) -> std::optional<qint64> {
        const auto it = o.find(key);
        if (it == o.end())
            return std::nullopt;
        return toInt64(*it);
    };
    e.code = codeAt(j, "code");
    e.message = stringAt(j, "message");
    if (const auto it = j.find("error"); it != j.end()) {
        if (it->is_object()) {
            e.hasEnvelope = true;
            e.envelopeCode = codeAt(*it, "code");
            e.envelopeMessage = stringAt(*it, "message");
            e.envelopeStatus = stringAt(*it, "status");
        } else if (it->is_string()) {
            e.errorString = fromStd(it->get_ref<const std::string &>());
        }
    }
    return e;
}

bool isHttpErrorCode(std::optional<qint64> code)
{
    return code && *code >= 400 && *code <= 599;
}

// --- HTTP-date (RFC 7231 7.1.1.1) ---

int monthNumber(QStringView m)
{
    static const char *const names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                        "jul", "aug", "sep", "oct", "nov", "dec"};
    for (int i = 0; i < 12; ++i) {
        if (m.compare(QLatin1StringView(names[i]), Qt::CaseInsensitive) == 0)
            return i + 1;
    }
    return 0;
}

bool parseHms(QStringView s, int &h, int &m, int &sec)
{
    const QList<QStringView> p = s.split(u':');
    if (p.size() != 3)
        return false;
    bool ok1 = false, ok2 = false, ok3 = false;
    h = p[0].toInt(&ok1);
    m = p[1].toInt(&ok2);
    sec = p[2].toInt(&ok3);
    return ok1 && ok2 && ok3 && p[0].size() == 2 && p[1].size() == 2 && p[2].size() == 2;
}

QDateTime parseHttpDate(QStringView text)
{
    QStringView s = text.trimmed();
    // Drop the weekday of IMF-fixdate ("Wed, ...") and RFC 850 ("Wednesday, ...").
    const qsizetype comma = s.indexOf(u',');
    const bool hadComma = comma >= 0;
    if (hadComma)
        s = s.mid(comma + 1);
    const QList<QStringView> t = s.split(u' ', Qt::SkipEmptyParts);
    int day = 0, month = 0, year = 0, h = 0, mi = 0, sec = 0;
    bool okDay = false, okYear = false, okTime = false;
    QStringView zone;
    if (hadComma && t.size() == 5) {
        // IMF-fixdate: "21 Oct 2015 07:28:00 GMT"
        day = t[0].toInt(&okDay);
        month = monthNumber(t[1]);
        year = t[2].toInt(&okYear);
        okYear = okYear && t[2].size() == 4;
        okTime = parseHms(t[3], h, mi, sec);
        zone = t[4];
    } else if (hadComma && t.size() == 3) {
        // RFC 850: "21-Oct-15 07:28:00 GMT"
        const QList<QStringView> d = t[0].split(u'-');
        if (d.size() == 3) {
            day = d[0].toInt(&okDay);
            month = monthNumber(d[1]);
            year = d[2].toInt(&okYear);
            if (okYear && d[2].size() == 2)
                year += year < 70 ? 2000 : 1900;
        }
        okTime = parseHms(t[1], h, mi, sec);
        zone = t[2];
    } else if (!hadComma && t.size() == 5) {
        // asctime: "Wed Oct 21 07:28:00 2015"
        month = monthNumber(t[1]);
        day = t[2].toInt(&okDay);
        okTime = parseHms(t[3], h, mi, sec);
        year = t[4].toInt(&okYear);
        zone = u"GMT";
    }
    if (!okDay || !okYear || !okTime || month == 0)
        return {};
    if (zone.compare(u"GMT", Qt::CaseInsensitive) != 0 &&
        zone.compare(u"UTC", Qt::CaseInsensitive) != 0)
        return {};
    const QDate date(year, month, day);
    const QTime time(h, mi, std::min(sec, 59));
    if (!date.isValid() || !time.isValid())
        return {};
    return QDateTime(date, time, QTimeZone::utc());
}

bool allDigits(QByteArrayView s)
{
    if (s.isEmpty())
        return false;
    for (char c : s) {
        if (c < '0' || c > '9')
            return false;
    }
    return true;
}

int parseDigits(QStringView s, qsizetype &pos, int count)
{
    int v = 0;
    for (int i = 0; i < count; ++i) {
        if (pos >= s.size() || !s[pos].isDigit() || s[pos].unicode() > 127)
            return -1;
        v = v * 10 + (s[pos].unicode() - u'0');
        ++pos;
    }
    return v;
}

} // namespace

// ================================================================ encoders

QByteArray encodeIntrospectToken(const QString &token)
{
    ojson j = ojson::object();
    putStr(j, "token", token);
    return dump(j);
}

QByteArray encodeListKernels(const ListKernelsRequest &request)
{
    // Field order of ApiListKernelsRequest; enum value 0 (and empty) is the default.
    ojson j = ojson::object();
    if (request.group != u"KERNELS_LIST_VIEW_TYPE_UNSPECIFIED")
        putStr(j, "group", request.group);
    putStr(j, "search", request.search);
    if (request.sortBy != u"HOTNESS")
        putStr(j, "sortBy", request.sortBy);
    putStr(j, "user", request.user);
    putInt(j, "page", request.page);
    putInt(j, "pageSize", request.pageSize);
    putStr(j, "pageToken", request.pageToken);
    return dump(j);
}

QByteArray encodeKernelRef(const KernelRef &ref)
{
    ojson j = ojson::object();
    putStr(j, "userName", ref.owner);
    putStr(j, "kernelSlug", ref.slug);
    return dump(j);
}

QByteArray encodeListKernelSessionOutput(const KernelRef &ref, int pageSize,
                                         const QString &pageToken)
{
    ojson j = ojson::object();
    putStr(j, "userName", ref.owner);
    putStr(j, "kernelSlug", ref.slug);
    putInt(j, "pageSize", pageSize);
    putStr(j, "pageToken", pageToken);
    return dump(j);
}

QByteArray encodeSaveKernel(const SaveKernelRequest &request)
{
    // Order of the SDK's serialised example (kaggle-api.md 3.8).
    ojson j = ojson::object();
    if (request.id)
        j["id"] = *request.id;
    putStr(j, "slug", request.slug);
    putStr(j, "newTitle", request.newTitle);
    putStr(j, "text", request.text);
    putStr(j, "language", request.language);
    putStr(j, "kernelType", request.kernelType);
    putList(j, "datasetDataSources", request.datasetDataSources);
    putList(j, "kernelDataSources", request.kernelDataSources);
    putList(j, "competitionDataSources", request.competitionDataSources);
    putList(j, "modelDataSources", request.modelDataSources);
    putList(j, "categoryIds", request.categoryIds);
    // optional bools: always sent
    j["isPrivate"] = request.isPrivate;
    j["enableGpu"] = request.enableGpu;
    j["enableInternet"] = request.enableInternet;
    j["enableTpu"] = request.enableTpu;
    putStr(j, "dockerImagePinningType", request.dockerImagePinningType);
    putStr(j, "dockerImage", request.dockerImage);
    putInt(j, "sessionTimeoutSeconds", request.sessionTimeoutSeconds);
    switch (request.kernelExecutionType) {
    case KernelExecutionType::Unspecified:
        break;
    case KernelExecutionType::SaveAndRunAll:
        j["kernelExecutionType"] = "SAVE_AND_RUN_ALL";
        break;
    case KernelExecutionType::Interactive:
        j["kernelExecutionType"] = "INTER_ACTIVE";
        break;
    case KernelExecutionType::QuickSave:
        j["kernelExecutionType"] = "QUICK_SAVE";
        break;
    }
    putStr(j, "machineShape", request.machineShape);
    return dump(j);
}

QByteArray encodeGetQuota()
{
    return QByteArrayLiteral("{}");
}

QByteArray encodeStartBlobUpload(const StartBlobUploadRequest &request)
{
    ojson j = ojson::object();
    switch (request.type) {
    case BlobType::Unspecified:
        break;
    case BlobType::Dataset:
        j["type"] = "DATASET";
        break;
    case BlobType::Model:
        j["type"] = "MODEL";
        break;
    case BlobType::Inbox:
        j["type"] = "INBOX";
        break;
    case BlobType::CompetitionSolution:
        j["type"] = "COMPETITION_SOLUTION";
        break;
    }
    putStr(j, "name", request.name);
    putStr(j, "contentType", request.contentType);
    putInt(j, "contentLength", request.contentLength);
    putInt(j, "lastModifiedEpochSeconds", request.lastModifiedEpochSeconds);
    return dump(j);
}

QByteArray encodeCreateDataset(const CreateDatasetRequest &request)
{
    ojson j = ojson::object();
    putStr(j, "ownerSlug", request.ownerSlug);
    putStr(j, "slug", request.slug);
    putStr(j, "title", request.title);
    putStr(j, "licenseName", request.licenseName);
    if (request.isPrivate) // not an optional field: false is the default and is omitted
        j["isPrivate"] = true;
    if (!request.files.isEmpty())
        j["files"] = newFiles(request.files);
    putStr(j, "subtitle", request.subtitle);
    putStr(j, "description", request.description);
    putList(j, "categoryIds", request.categoryIds);
    return dump(j);
}

QByteArray encodeCreateDatasetVersion(const CreateDatasetVersionRequest &request)
{
    ojson body = ojson::object();
    putStr(body, "versionNotes", request.versionNotes);
    if (request.deleteOldVersions)
        body["deleteOldVersions"] = true;
    if (!request.files.isEmpty())
        body["files"] = newFiles(request.files);
    putStr(body, "subtitle", request.subtitle);
    putStr(body, "description", request.description);
    putList(body, "categoryIds", request.categoryIds);

    ojson j = ojson::object();
    putStr(j, "ownerSlug", request.ownerSlug);
    putStr(j, "datasetSlug", request.datasetSlug);
    j["body"] = std::move(body);
    return dump(j);
}

QByteArray encodeDatasetRef(const QString &ownerSlug, const QString &datasetSlug)
{
    ojson j = ojson::object();
    putStr(j, "ownerSlug", ownerSlug);
    putStr(j, "datasetSlug", datasetSlug);
    return dump(j);
}

// ================================================================ decoders

Result<TokenInfo> decodeTokenInfo(QByteArrayView body)
{
    return guarded<TokenInfo>("IntrospectToken", [&]() -> Result<TokenInfo> {
        Reader r("IntrospectToken");
        json root;
        if (!r.parse(body, root))
            return r.error();
        const Obj o(r, root);
        TokenInfo t;
        t.active = o.boolean("active");
        t.username = o.str("username");
        t.clientId = o.str("clientId");
        t.userId = o.int64("userId");
        t.scope = o.str("scope");
        t.exp = o.int64("exp");
        return finish(r, std::move(t));
    });
}

Result<KernelListPage> decodeKernelList(QByteArrayView body)
{
    return guarded<KernelListPage>("ListKernels", [&]() -> Result<KernelListPage> {
        Reader r("ListKernels");
        json root;
        // REST-1.5 returned a bare array of kernels; accept it as a page without a token.
        if (!r.parse(body, root, /*allowArray=*/true))
            return r.error();
        KernelListPage page;
        const json *kernels = nullptr;
        if (root.is_array()) {
            kernels = &root;
        } else {
            const Obj o(r, root);
            kernels = o.array("kernels");
            page.nextPageToken = o.str("nextPageToken");
        }
        if (kernels) {
            page.kernels.reserve(static_cast<qsizetype>(kernels->size()));
            qsizetype i = 0;
            for (const json &k : *kernels) {
                const QString path = QStringLiteral("kernels[") + QString::number(i++) + u']';
                if (!k.is_object()) {
                    r.fail(QStringLiteral("field \"") + path +
                           QStringLiteral("\" must be an object, got ") + typeName(k));
                    break;
                }
                page.kernels.append(readKernelMetadata(Obj(r, k, path + u'.')));
                if (r.failed())
                    break;
            }
        }
        return finish(r, std::move(page));
    });
}

Result<KernelSessionStatus> decodeKernelSessionStatus(QByteArrayView body)
{
    return guarded<KernelSessionStatus>(
        "GetKernelSessionStatus", [&]() -> Result<KernelSessionStatus> {
            Reader r("GetKernelSessionStatus");
            json root;
            if (!r.parse(body, root))
                return r.error();
            const Obj o(r, root);
            KernelSessionStatus s;
            s.status = enumField<KernelStatus>(o, "status", 6, parseKernelStatus, "kernel status")
                           .value_or(KernelStatus::Queued);
            s.failureMessage = o.str("failureMessage");
            return finish(r, std::move(s));
        });
}

Result<KernelOutputPage> decodeKernelOutputPage(QByteArrayView body)
{
    return guarded<KernelOutputPage>("ListKernelSessionOutput", [&]() -> Result<KernelOutputPage> {
        Reader r("ListKernelSessionOutput");
        json root;
        if (!r.parse(body, root))
            return r.error();
        const Obj o(r, root);
        KernelOutputPage page;
        if (const json *files = o.array("files")) {
            qsizetype i = 0;
            for (const json &f : *files) {
                const QString path = QStringLiteral("files[") + QString::number(i++) + u']';
                if (!f.is_object()) {
                    r.fail(QStringLiteral("field \"") + path +
                           QStringLiteral("\" must be an object, got ") + typeName(f));
                    break;
                }
                const Obj fo(r, f, path + u'.');
                OutputFile out;
                out.url = toUrl(fo.str("url"));
                out.fileName = fo.str("fileName");
                page.files.append(std::move(out));
            }
        }
        page.log = o.str("log");
        // The REST form of this call names it "logNullable" (kaggle-api.md 3.4).
        if (page.log.isEmpty())
            page.log = o.str("logNullable");
        page.nextPageToken = o.str("nextPageToken");
        return finish(r, std::move(page));
    });
}

Result<KernelPull> decodeKernelPull(QByteArrayView body)
{
    return guarded<KernelPull>("GetKernel", [&]() -> Result<KernelPull> {
        Reader r("GetKernel");
        json root;
        if (!r.parse(body, root))
            return r.error();
        const Obj o(r, root);
        KernelPull pull;
        if (const json *m = o.object("metadata"))
            pull.metadata = readKernelMetadata(Obj(r, *m, QStringLiteral("metadata.")));
        if (const json *b = o.object("blob")) {
            const Obj bo(r, *b, QStringLiteral("blob."));
            pull.blob.source = bo.str("source");
            pull.blob.language = bo.str("language");
            pull.blob.kernelType = bo.str("kernelType");
            pull.blob.slug = bo.str("slug");
        }
        return finish(r, std::move(pull));
    });
}

Result<SaveKernelResponse> decodeSaveKernel(QByteArrayView body)
{
    return guarded<SaveKernelResponse>("SaveKernel", [&]() -> Result<SaveKernelResponse> {
        Reader r("SaveKernel");
        json root;
        if (!r.parse(body, root))
            return r.error();
        const Obj o(r, root);
        SaveKernelResponse s;
        s.ref = o.str("ref");
        s.url = o.str("url");
        s.versionNumber = o.int64("versionNumber");
        s.error = o.str("error");
        s.invalidTags = o.strList("invalidTags");
        s.invalidDatasetSources = o.strList("invalidDatasetSources");
        s.invalidCompetitionSources = o.strList("invalidCompetitionSources");
        s.invalidKernelSources = o.strList("invalidKernelSources");
        s.invalidModelSources = o.strList("invalidModelSources");
        s.kernelId = o.int64("kernelId");
        return finish(r, std::move(s));
    });
}

Result<QuotaStatistics> decodeQuota(QByteArrayView body)
{
    return guarded<QuotaStatistics>(
        "GetAcceleratorQuotaStatistics", [&]() -> Result<QuotaStatistics> {
            Reader r("GetAcceleratorQuotaStatistics");
            json root;
            if (!r.parse(body, root))
                return r.error();
            const Obj o(r, root);
            QuotaStatistics q;
            q.quotaRefreshTime = o.timestamp("quotaRefreshTime");
            if (const json *g = o.object("gpuQuota"))
                q.gpu = readQuota(Obj(r, *g, QStringLiteral("gpuQuota.")));
            if (const json *t = o.object("tpuQuota"))
                q.tpu = readQuota(Obj(r, *t, QStringLiteral("tpuQuota.")));
            return finish(r, std::move(q));
        });
}

Result<BlobUpload> decodeBlobUpload(QByteArrayView body)
{
    return guarded<BlobUpload>("StartBlobUpload", [&]() -> Result<BlobUpload> {
        Reader r("StartBlobUpload");
        json root;
        if (!r.parse(body, root))
            return r.error();
        const Obj o(r, root);
        BlobUpload b;
        b.token = o.str("token");
        b.createUrl = toUrl(o.str("createUrl"));
        return finish(r, std::move(b));
    });
}

Result<CreateDatasetResponse> decodeCreateDataset(QByteArrayView body)
{
    return guarded<CreateDatasetResponse>("CreateDataset", [&]() -> Result<CreateDatasetResponse> {
        Reader r("CreateDataset");
        json root;
        if (!r.parse(body, root))
            return r.error();
        const Obj o(r, root);
        CreateDatasetResponse c;
        c.ref = o.str("ref");
        c.url = o.str("url");
        c.status = o.str("status");
        c.error = o.str("error");
        c.invalidTags = o.strList("invalidTags");
        return finish(r, std::move(c));
    });
}

Result<DatasetStatus> decodeDatasetStatus(QByteArrayView body)
{
    return guarded<DatasetStatus>("GetDatasetStatus", [&]() -> Result<DatasetStatus> {
        Reader r("GetDatasetStatus");
        json root;
        if (!r.parse(body, root))
            return r.error();
        const Obj o(r, root);
        const DatasetStatus s =
            enumField<DatasetStatus>(o, "status", 8, parseDatasetStatus, "dataset status")
                .value_or(DatasetStatus::NotYetPersisted);
        return finish(r, s);
    });
}

// ================================================================ scalars

std::optional<KernelStatus> parseKernelStatus(QStringView text)
{
    if (text.size() > 100)
        return std::nullopt;
    const QString n = normaliseEnum(text, u"kernelworkerstatus");
    if (n == u"queued")
        return KernelStatus::Queued;
    if (n == u"running")
        return KernelStatus::Running;
    if (n == u"complete")
        return KernelStatus::Complete;
    if (n == u"error")
        return KernelStatus::Error;
    if (n == u"cancelrequested")
        return KernelStatus::CancelRequested;
    if (n == u"cancelacknowledged")
        return KernelStatus::CancelAcknowledged;
    if (n == u"newscript")
        return KernelStatus::NewScript;
    return std::nullopt;
}

std::optional<DatasetStatus> parseDatasetStatus(QStringView text)
{
    if (text.size() > 100)
        return std::nullopt;
    const QString n = normaliseEnum(text, u"databundleversionstatus");
    if (n == u"notyetpersisted")
        return DatasetStatus::NotYetPersisted;
    if (n == u"blobsreceived")
        return DatasetStatus::BlobsReceived;
    if (n == u"blobsdecompressed")
        return DatasetStatus::BlobsDecompressed;
    if (n == u"blobscopiedtosds")
        return DatasetStatus::BlobsCopiedToSds;
    if (n == u"individualblobscompressed")
        return DatasetStatus::IndividualBlobsCompressed;
    if (n == u"ready")
        return DatasetStatus::Ready;
    if (n == u"failed")
        return DatasetStatus::Failed;
    if (n == u"deleted")
        return DatasetStatus::Deleted;
    if (n == u"reprocessing")
        return DatasetStatus::Reprocessing;
    return std::nullopt;
}

std::optional<double> parseDurationSeconds(QStringView text)
{
    QStringView s = text.trimmed();
    if (s.endsWith(u's') || s.endsWith(u'S'))
        s.chop(1);
    if (s.isEmpty() || s.size() > 40)
        return std::nullopt;
    // [-]digits[.digits]
    qsizetype i = 0;
    if (s[0] == u'-')
        ++i;
    const qsizetype intStart = i;
    while (i < s.size() && s[i] >= u'0' && s[i] <= u'9')
        ++i;
    if (i == intStart)
        return std::nullopt;
    if (i < s.size() && s[i] == u'.') {
        ++i;
        const qsizetype fracStart = i;
        while (i < s.size() && s[i] >= u'0' && s[i] <= u'9')
            ++i;
        if (i == fracStart)
            return std::nullopt;
    }
    if (i != s.size())
        return std::nullopt;
    const QByteArray latin = s.toLatin1();
    double out = 0;
    const auto res = std::from_chars(latin.constData(), latin.constData() + latin.size(), out);
    if (res.ec != std::errc() || !std::isfinite(out))
        return std::nullopt;
    return out;
}

QDateTime parseTimestamp(QStringView text)
{
    // RFC 3339: YYYY-MM-DDTHH:MM[:SS[.fraction]][Z|±HH:MM]; no zone means UTC.
    const QStringView s = text.trimmed();
    if (s.size() < 16 || s.size() > 64)
        return {};
    qsizetype p = 0;
    const int year = parseDigits(s, p, 4);
    if (year < 0 || p >= s.size() || s[p++] != u'-')
        return {};
    const int month = parseDigits(s, p, 2);
    if (month < 0 || p >= s.size() || s[p++] != u'-')
        return {};
    const int day = parseDigits(s, p, 2);
    if (day < 0 || p >= s.size())
        return {};
    const QChar sep = s[p++];
    if (sep != u'T' && sep != u't' && sep != u' ')
        return {};
    const int hour = parseDigits(s, p, 2);
    if (hour < 0 || p >= s.size() || s[p++] != u':')
        return {};
    const int minute = parseDigits(s, p, 2);
    if (minute < 0)
        return {};
    int second = 0;
    int msec = 0;
    if (p < s.size() && s[p] == u':') {
        ++p;
        second = parseDigits(s, p, 2);
        if (second < 0)
            return {};
        if (p < s.size() && (s[p] == u'.' || s[p] == u',')) {
            ++p;
            int digits = 0;
            while (p < s.size() && s[p] >= u'0' && s[p] <= u'9') {
                if (digits < 3)
                    msec = msec * 10 + (s[p].unicode() - u'0');
                ++digits;
                ++p;
            }
            if (digits == 0)
                return {};
            for (int d = digits; d < 3; ++d)
                msec *= 10;
        }
    }
    int offsetSeconds = 0;
    if (p < s.size()) {
        const QChar z = s[p++];
        if (z == u'Z' || z == u'z') {
            // UTC
        } else if (z == u'+' || z == u'-') {
            const int oh = parseDigits(s, p, 2);
            if (oh < 0)
                return {};
            if (p < s.size() && s[p] == u':')
                ++p;
            const int om = parseDigits(s, p, 2);
            if (om < 0 || oh > 23 || om > 59)
                return {};
            offsetSeconds = (oh * 3600 + om * 60) * (z == u'-' ? -1 : 1);
        } else {
            return {};
        }
    }
    if (p != s.size())
        return {};
    if (second == 60) { // leap second
        second = 59;
        msec = 999;
    }
    const QDate date(year, month, day);
    const QTime time(hour, minute, second, msec);
    if (!date.isValid() || !time.isValid())
        return {};
    return QDateTime(date, time, QTimeZone::utc()).addSecs(-offsetSeconds);
}

// ================================================================ errors

std::optional<ApiError> errorFromResponse(int httpStatus, QByteArrayView contentType,
                                          QByteArrayView body, QByteArrayView retryAfter)
{
    try {
        const std::optional<BodyError> be = readBodyError(body);
        ApiError error;
        if (httpStatus >= 400) {
            error.kind = kindForCode(httpStatus);
            error.httpStatus = httpStatus;
            const QString m = be ? be->bestMessage() : QString();
            error.message = m.trimmed().isEmpty() ? genericMessage(httpStatus) : clipText(m);
        } else {
            // The SDK also raises on a 2xx JSON body carrying {"code" >= 400}; the Google
            // envelope is checked the same way. "error" as a string (SaveKernel) is in-band
            // and left to the caller.
            const bool isJson = QByteArrayView(contentType.toByteArray().toLower())
                                    .contains(QByteArrayView("application/json"));
            if (!isJson || !be)
                return std::nullopt;
            int code = 0;
            std::optional<ApiError::Kind> kind;
            QString message;
            if (isHttpErrorCode(be->code)) {
                code = static_cast<int>(*be->code);
                kind = kindForCode(code);
                message = be->message.isEmpty() ? be->envelopeMessage : be->message;
            } else if (be->hasEnvelope) {
                if (isHttpErrorCode(be->envelopeCode)) {
                    code = static_cast<int>(*be->envelopeCode);
                    kind = kindForCode(code);
                } else {
                    kind = kindForRpcStatus(be->envelopeStatus);
                    if (!kind && !be->envelopeMessage.isEmpty())
                        kind = ApiError::Kind::Application;
                }
                message = be->envelopeMessage;
            }
            if (!kind)
                return std::nullopt;
            error.kind = *kind;
            error.httpStatus = code; // the effective status named by the body
            if (!message.trimmed().isEmpty())
                error.message = clipText(message);
            else if (code)
                error.message = genericMessage(code);
            else
                error.message = QStringLiteral("the server reported an error (") +
                                clipText(be->envelopeStatus, 60) + u')';
        }
        if (!retryAfter.trimmed().isEmpty())
            error.retryAfter = parseRetryAfter(retryAfter, QDateTime::currentDateTimeUtc());
        return error;
    } catch (const std::exception &) {
        ApiError e =
            ApiError::make(ApiError::Kind::Protocol,
                           QStringLiteral("could not read the error response"), httpStatus);
        return e;
    }
}

std::optional<std::chrono::milliseconds> parseRetryAfter(QByteArrayView value, const QDateTime &now)
{
    const QByteArrayView v = value.trimmed();
    if (v.isEmpty() || v.size() > 100)
        return std::nullopt;
    using std::chrono::milliseconds;
    using std::chrono::seconds;
    const bool negative = v.startsWith('-');
    const QByteArrayView digits = negative ? v.sliced(1) : v;
    if (allDigits(digits)) {
        if (negative)
            return milliseconds(0);
        // Anything longer than the cap is capped without overflowing.
        if (digits.size() > 9)
            return seconds(kMaxRetryAfterSeconds);
        const qint64 n = QByteArray(digits.data(), digits.size()).toLongLong();
        return seconds(std::clamp<qint64>(n, 0, kMaxRetryAfterSeconds));
    }
    const QDateTime when = parseHttpDate(QString::fromLatin1(v.data(), v.size()));
    if (!when.isValid() || !now.isValid())
        return std::nullopt;
    const qint64 ms = now.msecsTo(when);
    return milliseconds(std::clamp<qint64>(ms, 0, kMaxRetryAfterSeconds * 1000));
}

} // namespace kd::wire
