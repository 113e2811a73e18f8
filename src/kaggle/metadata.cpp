#include "metadata.h"

#include "kagglelog.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <QStringDecoder>

#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <limits>
#include <string>

namespace kd {

namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

const QString kKernelMetadataFile = QStringLiteral("kernel-metadata.json");
const QString kDatasetMetadataFile = QStringLiteral("dataset-metadata.json");
const QString kLegacyDatasetMetadataFile = QStringLiteral("datapackage.json");

constexpr qint64 kMaxMetadataBytes = 16 * 1024 * 1024;
constexpr int kMaxNotebookDepth = 512;

std::string utf8(const QString &s)
{
    const QByteArray b = s.toUtf8();
    return std::string(b.constData(), static_cast<size_t>(b.size()));
}

QString fromStd(const std::string &s)
{
    return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size()));
}

/// Length as Python's len() counts it (code points), for the CLI's length rules.
qsizetype codePoints(const QString &s)
{
    qsizetype n = 0;
    for (qsizetype i = 0; i < s.size(); ++i) {
        if (s.at(i).isHighSurrogate() && i + 1 < s.size() && s.at(i + 1).isLowSurrogate())
            ++i;
        ++n;
    }
    return n;
}

QString quoted(const QString &s)
{
    QString t = s;
    if (t.size() > 80)
        t = t.left(79) + QChar(0x2026);
    return u'"' + t + u'"';
}

/// A JSON value as an error message shows it: strings quoted, anything else as JSON.
QString shown(const json &v)
{
    if (v.is_string())
        return quoted(fromStd(v.get_ref<const std::string &>()));
    QString s = fromStd(v.dump(-1, ' ', false, json::error_handler_t::replace));
    if (s.size() > 80)
        s = s.left(79) + QChar(0x2026);
    return s;
}

ApiError invalid(const QString &file, const QString &message)
{
    return ApiError::make(ApiError::Kind::Invalid, file + QStringLiteral(": ") + message);
}

// --- JSON syntax errors with a position ---

/// A SAX sink that accepts everything and records where parsing failed.
struct PositionSax
{
    std::size_t position = 0;
    bool null() { return true; }
    bool boolean(bool) { return true; }
    bool number_integer(json::number_integer_t) { return true; }
    bool number_unsigned(json::number_unsigned_t) { return true; }
    bool number_float(json::number_float_t, const std::string &) { return true; }
    bool string(std::string &) { return true; }
    bool binary(json::binary_t &) { return true; }
    bool start_object(std::size_t) { return true; }
    bool key(std::string &) { return true; }
    bool end_object() { return true; }
    bool start_array(std::size_t) { return true; }
    bool end_array() { return true; }
    bool parse_error(std::size_t pos, const std::string &, const json::exception &)
    {
        position = pos;
        return false;
    }
};

/// "line 3, column 7" of a syntax error (only called for text that failed to parse).
QString syntaxErrorPosition(const QByteArray &data)
{
    PositionSax sax;
    json::sax_parse(data.cbegin(), data.cend(), &sax);
    // nlohmann reports how many bytes it had read; the offending byte is the last of them.
    const qsizetype offset = std::min<qsizetype>(static_cast<qsizetype>(sax.position), data.size());
    const qsizetype errorAt = offset > 0 ? offset - 1 : 0;
    qsizetype line = 1;
    qsizetype lineStart = 0;
    for (qsizetype i = 0; i < errorAt; ++i) {
        if (data.at(i) == '\n') {
            ++line;
            lineStart = i + 1;
        }
    }
    // Columns count characters, not UTF-8 continuation bytes.
    qsizetype column = 1;
    for (qsizetype i = lineStart; i < errorAt; ++i) {
        if ((static_cast<unsigned char>(data.at(i)) & 0xC0) != 0x80)
            ++column;
    }
    return QStringLiteral("line %1, column %2").arg(line).arg(column);
}

template <typename Json> Json parseJson(const QByteArray &data, QString &error)
{
    Json j = Json::parse(data.cbegin(), data.cend(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded())
        error = QStringLiteral("invalid JSON at ") + syntaxErrorPosition(data);
    return j;
}

struct FileText
{
    bool ok = false;
    QByteArray data;
    QString error;
};

FileText readFile(const QString &path, qint64 maxBytes = std::numeric_limits<qint64>::max())
{
    FileText t;
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        t.error = f.errorString();
        return t;
    }
    if (f.size() > maxBytes) {
        t.error = QStringLiteral("the file is too large");
        return t;
    }
    t.data = f.readAll();
    if (f.error() != QFileDevice::NoError) {
        t.error = f.errorString();
        return t;
    }
    t.ok = true;
    return t;
}

/// Typed access to the keys of a metadata object; the first error wins and names the key.
class Keys
{
public:
    Keys(const json &object, QString file) : m_j(object), m_file(std::move(file)) {}

    bool failed() const { return m_error.has_value(); }
    const ApiError &error() const { return *m_error; }
    void fail(const QString &message)
    {
        if (!m_error)
            m_error = invalid(m_file, message);
    }

    const json *get(const char *key) const
    {
        const auto it = m_j.find(key);
        if (it == m_j.end() || it->is_null())
            return nullptr;
        return &*it;
    }

    QString string(const char *key)
    {
        const json *v = get(key);
        if (!v)
            return {};
        if (!v->is_string()) {
            fail(QLatin1StringView(key) + QStringLiteral(" must be a string"));
            return {};
        }
        return fromStd(v->get_ref<const std::string &>());
    }

    bool boolean(const char *key, bool fallback)
    {
        const json *v = get(key);
        if (!v)
            return fallback;
        if (v->is_boolean())
            return v->get<bool>();
        if (v->is_string()) {
            const QString s = fromStd(v->get_ref<const std::string &>());
            if (s.compare(u"true", Qt::CaseInsensitive) == 0)
                return true;
            if (s.compare(u"false", Qt::CaseInsensitive) == 0)
                return false;
        }
        fail(QLatin1StringView(key) + QStringLiteral(" must be true or false, got ") + shown(*v));
        return fallback;
    }

    QStringList list(const char *key)
    {
        const json *v = get(key);
        if (!v)
            return {};
        if (!v->is_array()) {
            fail(QLatin1StringView(key) + QStringLiteral(" must be a list of strings"));
            return {};
        }
        QStringList out;
        for (const json &e : *v) {
            if (!e.is_string()) {
                fail(QLatin1StringView(key) + QStringLiteral(" must be a list of strings"));
                return {};
            }
            out << fromStd(e.get_ref<const std::string &>());
        }
        return out;
    }

    /// A positive integer given as a JSON number or a numeric string.
    std::optional<qint64> number(const char *key)
    {
        const json *v = get(key);
        if (!v)
            return std::nullopt;
        std::optional<qint64> n;
        if (v->is_number_integer() && !v->is_number_unsigned()) {
            n = v->get<std::int64_t>();
        } else if (v->is_number_unsigned()) {
            const auto u = v->get<std::uint64_t>();
            if (u <= static_cast<std::uint64_t>(std::numeric_limits<qint64>::max()))
                n = static_cast<qint64>(u);
        } else if (v->is_number_float()) {
            const double d = v->get<double>();
            if (std::isfinite(d) && d == std::trunc(d) && std::abs(d) < 9.0e18)
                n = static_cast<qint64>(d);
        } else if (v->is_string()) {
            const std::string s = utf8(fromStd(v->get_ref<const std::string &>()).trimmed());
            if (s.empty())
                return std::nullopt; // "" means "not set", as the CLI's truthiness test
            qint64 out = 0;
            const auto res = std::from_chars(s.data(), s.data() + s.size(), out);
            if (res.ec == std::errc() && res.ptr == s.data() + s.size())
                n = out;
        }
        if (!n || *n <= 0) {
            fail(QLatin1StringView(key) + QStringLiteral(" must be a positive number, got ") +
                 shown(*v));
            return std::nullopt;
        }
        return n;
    }

private:
    const json &m_j;
    QString m_file;
    std::optional<ApiError> m_error;
};

/// Checks "owner/slug" (no third part). Returns an error text, or empty when fine.
QString checkOwnerSlug(const QString &value, const char *what)
{
    const QStringList parts = value.split(u'/');
    if (parts.size() > 2 && !parts.at(0).isEmpty() && !parts.at(1).isEmpty()) {
        return QStringLiteral("must be owner/%1 without a /version part, got %2")
            .arg(QLatin1StringView(what), quoted(value));
    }
    if (parts.size() != 2 || parts.at(0).trimmed().isEmpty() || parts.at(1).trimmed().isEmpty())
        return QStringLiteral("must be owner/%1, got %2")
            .arg(QLatin1StringView(what), quoted(value));
    return {};
}

// --- Python json.dumps(obj) (default separators, ensure_ascii) for notebook text ---

void pyString(std::string &out, const std::string &s)
{
    static const char hex[] = "0123456789abcdef";
    out += '"';
    const QString u = fromStd(s);
    for (QChar qc : u) {
        const char16_t c = qc.unicode();
        switch (c) {
        case u'"':
            out += "\\\"";
            continue;
        case u'\\':
            out += "\\\\";
            continue;
        case u'\n':
            out += "\\n";
            continue;
        case u'\r':
            out += "\\r";
            continue;
        case u'\t':
            out += "\\t";
            continue;
        case u'\b':
            out += "\\b";
            continue;
        case u'\f':
            out += "\\f";
            continue;
        default:
            break;
        }
        if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
        } else {
            // Non-BMP characters come out as their UTF-16 surrogates, as Python writes them.
            const char esc[6] = {
                '\\',        'u', hex[(c >> 12) & 0xF], hex[(c >> 8) & 0xF], hex[(c >> 4) & 0xF],
                hex[c & 0xF]};
            out.append(esc, 6);
        }
    }
    out += '"';
}

/// Python's float repr: shortest round trip, exponent form when the decimal point position
/// is below -4 or above 16, "1.0" style otherwise.
void pyFloat(std::string &out, double d)
{
    if (std::isnan(d)) {
        out += "NaN";
        return;
    }
    if (std::isinf(d)) {
        out += d > 0 ? "Infinity" : "-Infinity";
        return;
    }
    char buf[64];
    const auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    std::string sci(buf, res.ptr);
    std::string sign;
    if (!sci.empty() && sci[0] == '-') {
        sign = "-";
        sci.erase(0, 1);
    }
    const auto ePos = sci.find('e');
    std::string mantissa = sci.substr(0, ePos);
    const int exp10 = std::stoi(sci.substr(ePos + 1));
    std::string digits;
    for (char c : mantissa) {
        if (c != '.')
            digits += c;
    }
    while (digits.size() > 1 && digits.back() == '0')
        digits.pop_back();
    const int decpt = exp10 + 1; // value = 0.DIGITS x 10^decpt
    out += sign;
    if (digits == "0") {
        out += "0.0";
        return;
    }
    if (decpt > -4 && decpt <= 16) {
        if (decpt <= 0) {
            out += "0.";
            out.append(static_cast<size_t>(-decpt), '0');
            out += digits;
        } else if (static_cast<size_t>(decpt) >= digits.size()) {
            out += digits;
            out.append(static_cast<size_t>(decpt) - digits.size(), '0');
            out += ".0";
        } else {
            out += digits.substr(0, static_cast<size_t>(decpt));
            out += '.';
            out += digits.substr(static_cast<size_t>(decpt));
        }
        return;
    }
    out += digits[0];
    if (digits.size() > 1) {
        out += '.';
        out += digits.substr(1);
    }
    const int e = decpt - 1;
    out += e < 0 ? "e-" : "e+";
    const int ae = std::abs(e);
    if (ae < 10)
        out += '0';
    out += std::to_string(ae);
}

bool pyDump(std::string &out, const ojson &j, int depth)
{
    if (depth > kMaxNotebookDepth)
        return false;
    switch (j.type()) {
    case ojson::value_t::null:
        out += "null";
        return true;
    case ojson::value_t::boolean:
        out += j.get<bool>() ? "true" : "false";
        return true;
    case ojson::value_t::number_integer:
        out += std::to_string(j.get<std::int64_t>());
        return true;
    case ojson::value_t::number_unsigned:
        out += std::to_string(j.get<std::uint64_t>());
        return true;
    case ojson::value_t::number_float:
        pyFloat(out, j.get<double>());
        return true;
    case ojson::value_t::string:
        pyString(out, j.get_ref<const std::string &>());
        return true;
    case ojson::value_t::array: {
        out += '[';
        bool first = true;
        for (const ojson &e : j) {
            if (!first)
                out += ", ";
            first = false;
            if (!pyDump(out, e, depth + 1))
                return false;
        }
        out += ']';
        return true;
    }
    case ojson::value_t::object: {
        out += '{';
        bool first = true;
        for (auto it = j.begin(); it != j.end(); ++it) {
            if (!first)
                out += ", ";
            first = false;
            pyString(out, it.key());
            out += ": ";
            if (!pyDump(out, it.value(), depth + 1))
                return false;
        }
        out += '}';
        return true;
    }
    case ojson::value_t::binary:
    case ojson::value_t::discarded:
        break;
    }
    return false;
}

/// The notebook text the CLI pushes: code-cell outputs cleared, list sources joined, then
/// json.dumps. Returns an error text on failure.
QString prepareNotebook(const QByteArray &data, QString &text)
{
    QByteArray bytes = data;
    if (bytes.startsWith("\xEF\xBB\xBF"))
        bytes.remove(0, 3);
    QString parseError;
    ojson nb = parseJson<ojson>(bytes, parseError);
    if (!parseError.isEmpty())
        return QStringLiteral("is not a valid notebook (") + parseError + u')';
    if (!nb.is_object())
        return QStringLiteral("is not a notebook (expected a JSON object)");
    if (const auto cells = nb.find("cells"); cells != nb.end() && cells->is_array()) {
        qsizetype index = 0;
        for (ojson &cell : *cells) {
            if (!cell.is_object()) {
                ++index;
                continue;
            }
            const auto type = cell.find("cell_type");
            const bool isCode = type != cell.end() && type->is_string() &&
                                type->get_ref<const std::string &>() == "code";
            if (isCode && cell.contains("outputs"))
                cell["outputs"] = ojson::array();
            if (const auto src = cell.find("source"); src != cell.end() && src->is_array()) {
                std::string joined;
                for (const ojson &line : *src) {
                    if (!line.is_string()) {
                        return QStringLiteral("cell %1 has a \"source\" list that is not all "
                                              "strings")
                            .arg(index);
                    }
                    joined += line.get_ref<const std::string &>();
                }
                *src = std::move(joined);
            }
            ++index;
        }
    }
    std::string out;
    out.reserve(static_cast<size_t>(bytes.size()));
    if (!pyDump(out, nb, 0))
        return QStringLiteral("is nested too deeply");
    text = fromStd(out);
    return {};
}

/// Python's text mode reads "\r\n" and "\r" as "\n".
QString universalNewlines(QString s)
{
    if (!s.contains(u'\r'))
        return s;
    s.replace(QStringLiteral("\r\n"), QStringLiteral("\n"));
    s.replace(u'\r', u'\n');
    return s;
}

Result<Done> saveFile(const QString &path, const QByteArray &data)
{
    const QFileInfo info(path);
    if (!QDir().mkpath(info.absolutePath())) {
        return ApiError::make(
            ApiError::Kind::Io,
            QStringLiteral("could not create the folder %1").arg(info.absolutePath()));
    }
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly)) {
        return ApiError::make(ApiError::Kind::Io,
                              QStringLiteral("could not write %1: %2").arg(path, f.errorString()));
    }
    if (f.write(data) != data.size() || !f.commit()) {
        const QString why = f.errorString();
        f.cancelWriting();
        return ApiError::make(ApiError::Kind::Io,
                              QStringLiteral("could not write %1: %2").arg(path, why));
    }
    return Done{};
}

ojson stringArray(const QStringList &list)
{
    ojson a = ojson::array();
    for (const QString &s : list)
        a.push_back(utf8(s));
    return a;
}

QByteArray prettyJson(const ojson &j)
{
    std::string s = j.dump(2, ' ', false, json::error_handler_t::replace);
    s += '\n';
    return QByteArray(s.data(), static_cast<qsizetype>(s.size()));
}

QString canonical(const QStringList &known, const QString &value)
{
    for (const QString &k : known) {
        if (k.compare(value, Qt::CaseInsensitive) == 0)
            return k;
    }
    return {};
}

} // namespace

// ================================================================ kernels

const QStringList &knownMachineShapes()
{
    // docs/kernels.md, "Accelerators available as of Feb 2026" (kaggle-api.md section 4).
    static const QStringList shapes = {
        QStringLiteral("NvidiaTeslaP100"), QStringLiteral("TpuV38"),
        QStringLiteral("NvidiaTeslaT4"),   QStringLiteral("NvidiaTeslaT4Highmem"),
        QStringLiteral("Tpu1VmV38"),       QStringLiteral("NvidiaTeslaA100"),
        QStringLiteral("NvidiaL4"),        QStringLiteral("TpuV5E8"),
        QStringLiteral("NvidiaL4X1"),      QStringLiteral("TpuV6E8"),
        QStringLiteral("NvidiaH100"),      QStringLiteral("NvidiaRtxPro6000"),
    };
    return shapes;
}

Result<KernelFolder> readKernelFolder(const QString &folder)
{
    const QString file = kKernelMetadataFile;
    if (!QFileInfo(folder).isDir())
        return invalid(file, QStringLiteral("the folder %1 does not exist").arg(folder));
    const QString metaPath = QDir(folder).filePath(file);
    if (!QFileInfo(metaPath).isFile())
        return invalid(file, QStringLiteral("not found in %1").arg(folder));
    const FileText raw = readFile(metaPath, kMaxMetadataBytes);
    if (!raw.ok) {
        return ApiError::make(
            ApiError::Kind::Io,
            file + QStringLiteral(": could not read %1: %2").arg(metaPath, raw.error));
    }
    QString parseError;
    const json root = parseJson<json>(raw.data, parseError);
    if (!parseError.isEmpty())
        return invalid(file, parseError);
    if (!root.is_object())
        return invalid(file, QStringLiteral("expected a JSON object"));

    Keys k(root, file);
    KernelFolder out;
    out.folder = folder;
    KernelFolderMetadata &m = out.metadata;
    m.id = k.string("id").trimmed();
    m.idNo = k.number("id_no");
    m.title = k.string("title");
    m.codeFile = k.string("code_file");
    m.language = k.string("language");
    m.kernelType = k.string("kernel_type");
    m.isPrivate = k.boolean("is_private", true);
    m.enableGpu = k.boolean("enable_gpu", false);
    m.enableTpu = k.boolean("enable_tpu", false);
    m.enableInternet = k.boolean("enable_internet", true);
    m.machineShape = k.string("machine_shape").trimmed();
    m.datasetSources = k.list("dataset_sources");
    m.competitionSources = k.list("competition_sources");
    m.kernelSources = k.list("kernel_sources");
    m.modelSources = k.list("model_sources");
    m.keywords = k.list("keywords");
    m.dockerImagePinningType = k.string("docker_image_pinning_type");
    m.dockerImage = k.string("docker_image");
    if (k.failed())
        return k.error();

    // The CLI's kernels_push checks, in its order.
    if (!m.title.isEmpty() && codePoints(m.title) < 5)
        return invalid(file, QStringLiteral("title must be at least five characters, got ") +
                                 quoted(m.title));
    if (m.codeFile.trimmed().isEmpty())
        return invalid(file, QStringLiteral("code_file is required (the notebook or script to "
                                            "push)"));
    if (m.id.isEmpty() && !m.idNo)
        return invalid(file, QStringLiteral("id (owner/kernel-slug) or id_no is required"));
    if (!m.id.isEmpty()) {
        if (const QString e = checkOwnerSlug(m.id, "kernel-slug"); !e.isEmpty())
            return invalid(file, QStringLiteral("id ") + e);
        if (codePoints(m.id.section(u'/', 1)) < 5)
            return invalid(file, QStringLiteral("id: the kernel slug must be at least five "
                                                "characters, got ") +
                                     quoted(m.id));
    }
    static const QStringList languages = {QStringLiteral("python"), QStringLiteral("r"),
                                          QStringLiteral("rmarkdown")};
    if (!languages.contains(m.language))
        return invalid(file, QStringLiteral("language must be one of python, r, rmarkdown, got ") +
                                 quoted(m.language));
    static const QStringList kernelTypes = {QStringLiteral("script"), QStringLiteral("notebook")};
    if (!kernelTypes.contains(m.kernelType))
        return invalid(file, QStringLiteral("kernel_type must be script or notebook, got ") +
                                 quoted(m.kernelType));
    for (const QString &s : std::as_const(m.datasetSources)) {
        if (const QString e = checkOwnerSlug(s, "dataset-slug"); !e.isEmpty())
            return invalid(file, QStringLiteral("dataset_sources entry ") + e);
    }
    for (const QString &s : std::as_const(m.kernelSources)) {
        if (const QString e = checkOwnerSlug(s, "kernel-slug"); !e.isEmpty())
            return invalid(file, QStringLiteral("kernel_sources entry ") + e);
    }
    static const QStringList pinning = {QStringLiteral("original"), QStringLiteral("latest")};
    if (!m.dockerImagePinningType.isEmpty() && !pinning.contains(m.dockerImagePinningType))
        return invalid(file, QStringLiteral("docker_image_pinning_type must be original or "
                                            "latest, got ") +
                                 quoted(m.dockerImagePinningType));
    if (!m.machineShape.isEmpty()) {
        const QString shape = canonical(knownMachineShapes(), m.machineShape);
        if (shape.isEmpty()) {
            return invalid(file, QStringLiteral("machine_shape %1 is not a known accelerator "
                                                "(known: %2)")
                                     .arg(quoted(m.machineShape),
                                          knownMachineShapes().join(QStringLiteral(", "))));
        }
        m.machineShape = shape;
    }

    // The code file, relative to the folder unless absolute.
    out.codeFilePath = QDir::cleanPath(QDir(folder).absoluteFilePath(m.codeFile));
    if (!QFileInfo(out.codeFilePath).isFile()) {
        return invalid(
            file,
            QStringLiteral("code_file %1 not found: %2").arg(quoted(m.codeFile), out.codeFilePath));
    }
    const FileText code = readFile(out.codeFilePath);
    if (!code.ok) {
        return ApiError::make(ApiError::Kind::Io,
                              file + QStringLiteral(": code_file %1 could not be read: %2")
                                         .arg(out.codeFilePath, code.error));
    }
    if (m.kernelType == u"notebook") {
        const QString e = prepareNotebook(code.data, out.codeText);
        if (!e.isEmpty())
            return invalid(file, QStringLiteral("code_file %1 ").arg(out.codeFilePath) + e);
    } else {
        QStringDecoder decoder(QStringDecoder::Utf8);
        QString text = decoder.decode(code.data);
        if (decoder.hasError()) {
            return invalid(file,
                           QStringLiteral("code_file %1 is not UTF-8 text").arg(out.codeFilePath));
        }
        out.codeText = universalNewlines(std::move(text));
    }
    qCDebug(lcKaggle) << "read kernel folder" << folder << "code" << out.codeFilePath
                      << out.codeText.size() << "chars";
    return out;
}

Result<Done> writeKernelFolder(const QString &folder, const KernelFolderMetadata &metadata,
                               const std::optional<QString> &code)
{
    if (!QDir().mkpath(folder)) {
        return ApiError::make(ApiError::Kind::Io,
                              QStringLiteral("could not create the folder %1").arg(folder));
    }
    if (code) {
        if (metadata.codeFile.isEmpty()) {
            return ApiError::make(ApiError::Kind::Invalid,
                                  QStringLiteral("kernel-metadata.json: code_file is required"));
        }
        const QString codePath = QDir(folder).absoluteFilePath(metadata.codeFile);
        const Result<Done> written = saveFile(codePath, code->toUtf8());
        if (!written)
            return written;
    }

    // The key order of `kaggle kernels init` / `pull -m`.
    ojson j = ojson::object();
    j["id"] = utf8(metadata.id);
    if (metadata.idNo)
        j["id_no"] = *metadata.idNo;
    j["title"] = utf8(metadata.title);
    j["code_file"] = utf8(metadata.codeFile);
    j["language"] = utf8(metadata.language);
    j["kernel_type"] = utf8(metadata.kernelType);
    j["is_private"] = metadata.isPrivate;
    j["enable_gpu"] = metadata.enableGpu;
    j["enable_tpu"] = metadata.enableTpu;
    j["enable_internet"] = metadata.enableInternet;
    j["dataset_sources"] = stringArray(metadata.datasetSources);
    j["competition_sources"] = stringArray(metadata.competitionSources);
    j["kernel_sources"] = stringArray(metadata.kernelSources);
    j["model_sources"] = stringArray(metadata.modelSources);
    j["keywords"] = stringArray(metadata.keywords);
    if (!metadata.dockerImagePinningType.isEmpty())
        j["docker_image_pinning_type"] = utf8(metadata.dockerImagePinningType);
    if (!metadata.dockerImage.isEmpty())
        j["docker_image"] = utf8(metadata.dockerImage);
    if (!metadata.machineShape.isEmpty())
        j["machine_shape"] = utf8(metadata.machineShape);
    return saveFile(QDir(folder).filePath(kKernelMetadataFile), prettyJson(j));
}

SaveKernelRequest toSaveKernelRequest(const KernelFolder &folder)
{
    const KernelFolderMetadata &m = folder.metadata;
    SaveKernelRequest r;
    r.id = m.idNo;
    r.slug = m.id;
    r.newTitle = m.title;
    r.text = folder.codeText;
    r.language = m.language;
    r.kernelType = m.kernelType;
    if (m.kernelType == u"notebook" && m.language == u"rmarkdown")
        r.language = QStringLiteral("r"); // as kernels_push does
    r.datasetDataSources = m.datasetSources;
    r.kernelDataSources = m.kernelSources;
    r.competitionDataSources = m.competitionSources;
    r.modelDataSources = m.modelSources;
    r.categoryIds = m.keywords;
    r.isPrivate = m.isPrivate;
    r.enableGpu = m.enableGpu;
    r.enableTpu = m.enableTpu;
    r.enableInternet = m.enableInternet;
    r.dockerImagePinningType = m.dockerImagePinningType;
    r.dockerImage = m.dockerImage;
    r.machineShape = m.machineShape;
    return r;
}

KernelFolderMetadata fromPull(const KernelPull &pull, const QString &codeFile)
{
    const KernelMetadata &s = pull.metadata;
    KernelFolderMetadata m;
    m.id = s.ref;
    if (s.id != 0)
        m.idNo = s.id;
    m.title = s.title;
    m.codeFile = codeFile;
    m.language = s.language.isEmpty() ? pull.blob.language : s.language;
    m.kernelType = s.kernelType.isEmpty() ? pull.blob.kernelType : s.kernelType;
    m.isPrivate = s.isPrivate;
    m.enableGpu = s.enableGpu;
    m.enableTpu = s.enableTpu;
    m.enableInternet = s.enableInternet;
    m.keywords = s.categoryIds;
    m.datasetSources = s.datasetDataSources;
    m.competitionSources = s.competitionDataSources;
    m.kernelSources = s.kernelDataSources;
    m.modelSources = s.modelDataSources;
    m.dockerImage = s.dockerImage;
    m.machineShape = s.machineShape;
    return m;
}

QString defaultCodeFileName(const KernelBlob &blob)
{
    const QString language = blob.language.toLower();
    const QString type = blob.kernelType.toLower();
    QString extension;
    if (type == u"script") {
        if (language == u"python")
            extension = QStringLiteral(".py");
        else if (language == u"r")
            extension = QStringLiteral(".R");
        else if (language == u"rmarkdown")
            extension = QStringLiteral(".Rmd");
        else if (language == u"sqlite")
            extension = QStringLiteral(".sql");
        else if (language == u"julia")
            extension = QStringLiteral(".jl");
    } else if (type == u"notebook") {
        if (language == u"python")
            extension = QStringLiteral(".ipynb");
        else if (language == u"r")
            extension = QStringLiteral(".irnb");
        else if (language == u"julia")
            extension = QStringLiteral(".ijlnb");
    }
    if (extension.isEmpty())
        return QStringLiteral("script.py"); // the CLI's fallback for unknown combinations
    // The slug comes from the server: keep it a plain file name.
    QString slug = blob.slug.section(u'/', -1);
    QString safe;
    for (QChar c : std::as_const(slug)) {
        if (c.isLetterOrNumber() || c == u'-' || c == u'_' || c == u'.')
            safe += c;
    }
    while (safe.startsWith(u'.'))
        safe.remove(0, 1);
    if (safe.isEmpty())
        safe = QStringLiteral("kernel");
    return safe + extension;
}

// ================================================================ datasets

const QStringList &knownLicenses()
{
    static const QStringList licenses = {
        QStringLiteral("CC0-1.0"),
        QStringLiteral("CC-BY-SA-3.0"),
        QStringLiteral("CC-BY-SA-4.0"),
        QStringLiteral("CC-BY-NC-SA-4.0"),
        QStringLiteral("GPL-2.0"),
        QStringLiteral("ODbL-1.0"),
        QStringLiteral("DbCL-1.0"),
        QStringLiteral("copyright-authors"),
        QStringLiteral("other"),
        QStringLiteral("unknown"),
        QStringLiteral("CC-BY-4.0"),
        QStringLiteral("CC-BY-NC-4.0"),
        QStringLiteral("PDDL"),
        QStringLiteral("CC-BY-3.0"),
        QStringLiteral("CC-BY-3.0-IGO"),
        QStringLiteral("US-Government-Works"),
        QStringLiteral("CC-BY-NC-SA-3.0-IGO"),
        QStringLiteral("CDLA-Permissive-1.0"),
        QStringLiteral("CDLA-Sharing-1.0"),
        QStringLiteral("CC-BY-ND-4.0"),
        QStringLiteral("CC-BY-NC-ND-4.0"),
        QStringLiteral("ODC-BY-1.0"),
        QStringLiteral("LGPL-3.0"),
        QStringLiteral("AGPL-3.0"),
        QStringLiteral("FDL-1.3"),
        QStringLiteral("EU-ODP-Legal-Notice"),
        QStringLiteral("apache-2.0"),
        QStringLiteral("GPL-3.0"),
    };
    return licenses;
}

std::optional<ApiError> validateDatasetMetadata(const DatasetFolderMetadata &m)
{
    const auto fail = [](const QString &message) {
        return std::optional<ApiError>(ApiError::make(ApiError::Kind::Invalid, message));
    };
    if (m.id.isEmpty() && !m.idNo)
        return fail(QStringLiteral("id (owner/dataset-slug) or id_no is required"));
    if (!m.id.isEmpty()) {
        if (const QString e = checkOwnerSlug(m.id, "dataset-slug"); !e.isEmpty())
            return fail(QStringLiteral("id ") + e);
        const QString slug = m.id.section(u'/', 1);
        if (slug == u"INSERT_SLUG_HERE")
            return fail(QStringLiteral("id still holds the placeholder INSERT_SLUG_HERE; "
                                       "choose a dataset slug"));
        const qsizetype n = codePoints(slug);
        if (n < 6 || n > 50)
            return fail(QStringLiteral("id: the dataset slug must be between 6 and 50 "
                                       "characters, got %1 (%2)")
                            .arg(n)
                            .arg(quoted(slug)));
    }
    if (m.title == u"INSERT_TITLE_HERE")
        return fail(QStringLiteral("title still holds the placeholder INSERT_TITLE_HERE"));
    if (const qsizetype n = codePoints(m.title); n < 6 || n > 50)
        return fail(QStringLiteral("title must be between 6 and 50 characters, got %1").arg(n));
    if (!m.subtitle.isEmpty()) {
        if (const qsizetype n = codePoints(m.subtitle); n < 20 || n > 80)
            return fail(
                QStringLiteral("subtitle must be between 20 and 80 characters, got %1").arg(n));
    }
    if (m.license.isEmpty())
        return fail(QStringLiteral("licenses must contain exactly one licence"));
    if (canonical(knownLicenses(), m.license).isEmpty()) {
        return fail(QStringLiteral("licenses: %1 is not a known licence name (known: %2)")
                        .arg(quoted(m.license), knownLicenses().join(QStringLiteral(", "))));
    }
    return std::nullopt;
}

Result<DatasetFolderMetadata> readDatasetMetadata(const QString &folder)
{
    QString file = kDatasetMetadataFile;
    QString path = QDir(folder).filePath(file);
    if (!QFileInfo(path).isFile()) {
        const QString legacy = QDir(folder).filePath(kLegacyDatasetMetadataFile);
        if (!QFileInfo(legacy).isFile())
            return invalid(kDatasetMetadataFile, QStringLiteral("not found in %1").arg(folder));
        file = kLegacyDatasetMetadataFile;
        path = legacy;
    }
    const FileText raw = readFile(path, kMaxMetadataBytes);
    if (!raw.ok) {
        return ApiError::make(ApiError::Kind::Io,
                              file +
                                  QStringLiteral(": could not read %1: %2").arg(path, raw.error));
    }
    QString parseError;
    const json root = parseJson<json>(raw.data, parseError);
    if (!parseError.isEmpty())
        return invalid(file, parseError);
    if (!root.is_object())
        return invalid(file, QStringLiteral("expected a JSON object"));

    Keys k(root, file);
    DatasetFolderMetadata m;
    m.title = k.string("title");
    m.id = k.string("id").trimmed();
    m.idNo = k.number("id_no");
    m.subtitle = k.string("subtitle");
    m.description = k.string("description");
    m.keywords = k.list("keywords");
    if (k.failed())
        return k.error();

    const json *licenses = k.get("licenses");
    if (!licenses || !licenses->is_array() || licenses->size() != 1) {
        if (licenses && !licenses->is_array())
            return invalid(file, QStringLiteral("licenses must be a list such as "
                                                "[{\"name\": \"CC0-1.0\"}]"));
        return invalid(file, QStringLiteral("licenses must contain exactly one licence"));
    }
    const json &licence = licenses->front();
    const auto name = licence.is_object() ? licence.find("name") : licence.end();
    if (!licence.is_object() || name == licence.end() || !name->is_string())
        return invalid(file, QStringLiteral("licenses[0].name is required, e.g. "
                                            "[{\"name\": \"CC0-1.0\"}]"));
    m.license = fromStd(name->get_ref<const std::string &>()).trimmed();

    if (const auto e = validateDatasetMetadata(m))
        return invalid(file, e->message);
    m.license = canonical(knownLicenses(), m.license);
    return m;
}

Result<Done> writeDatasetMetadata(const QString &folder, const DatasetFolderMetadata &metadata)
{
    ojson j = ojson::object();
    j["title"] = utf8(metadata.title);
    j["id"] = utf8(metadata.id);
    if (metadata.idNo)
        j["id_no"] = *metadata.idNo;
    if (!metadata.subtitle.isEmpty())
        j["subtitle"] = utf8(metadata.subtitle);
    if (!metadata.description.isEmpty())
        j["description"] = utf8(metadata.description);
    ojson licence = ojson::object();
    licence["name"] = utf8(metadata.license);
    j["licenses"] = ojson::array({licence});
    if (!metadata.keywords.isEmpty())
        j["keywords"] = stringArray(metadata.keywords);
    if (!QDir().mkpath(folder)) {
        return ApiError::make(ApiError::Kind::Io,
                              QStringLiteral("could not create the folder %1").arg(folder));
    }
    return saveFile(QDir(folder).filePath(kDatasetMetadataFile), prettyJson(j));
}

} // namespace kd
