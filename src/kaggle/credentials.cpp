#include "credentials.h"

#include "kagglelog.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <nlohmann/json.hpp>

namespace kd {

namespace {

constexpr qint64 kMaxTokenFileBytes = 64 * 1024;
constexpr qint64 kMaxConfigFileBytes = 1024 * 1024;

struct FileRead
{
    bool ok = false;
    QByteArray data;
    QString problem; ///< why it could not be read; never the contents
};

FileRead readSmallFile(const QString &path, qint64 maxBytes)
{
    FileRead r;
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        r.problem = QStringLiteral("could not read %1: %2").arg(path, f.errorString());
        return r;
    }
    r.data = f.read(maxBytes + 1);
    if (r.data.size() > maxBytes) {
        r.problem = QStringLiteral("%1 is too large to be a Kaggle credential file").arg(path);
        r.data.clear();
        return r;
    }
    r.ok = true;
    return r;
}

/// A token found by the SDK's get_access_token_from_env() rules (kaggle-api.md 2.1).
struct TokenLookup
{
    QString token;
    Credentials::Source source = Credentials::Source::None;
    QString path;
};

/// The token file's stripped contents, as _get_access_token_from_file() reads it; empty when
/// the file is missing or empty.
QString tokenFromFile(const QString &path, QStringList &warnings)
{
    if (path.isEmpty() || !QFileInfo::exists(path))
        return {};
    FileRead r = readSmallFile(path, kMaxTokenFileBytes);
    if (!r.ok) {
        warnings << r.problem;
        return {};
    }
    const QString token = QString::fromUtf8(r.data).trimmed();
    if (token.isEmpty())
        qCDebug(lcKaggle) << "token file is empty:" << path;
    return token;
}

std::optional<TokenLookup> findToken(const QProcessEnvironment &env, const QString &home,
                                     QStringList &warnings)
{
    // Inside a Kaggle notebook the runtime provides a token file.
    if (env.contains(QStringLiteral("KAGGLE_KERNEL_RUN_TYPE")) &&
        env.contains(QStringLiteral("KAGGLE_DATA_PROXY_URL"))) {
        const QString path = env.value(QStringLiteral("KAGGLE_API_V1_TOKEN"));
        const QString token = tokenFromFile(path, warnings);
        if (!token.isEmpty())
            return TokenLookup{token, Credentials::Source::TokenEnvFile, path};
    }

    const QString value = env.value(QStringLiteral("KAGGLE_API_TOKEN"));
    if (!value.isEmpty()) {
        if (QFileInfo::exists(value)) {
            // The SDK stops here even when the file is empty: it does not go on to
            // ~/.kaggle/access_token.
            const QString token = tokenFromFile(value, warnings);
            if (token.isEmpty()) {
                warnings << QStringLiteral("KAGGLE_API_TOKEN names the file %1, which holds no "
                                           "token; it is ignored")
                                .arg(value);
                return std::nullopt;
            }
            qCDebug(lcKaggle) << "using the access token from the file named by KAGGLE_API_TOKEN";
            return TokenLookup{token, Credentials::Source::TokenEnvFile, value};
        }
        qCDebug(lcKaggle) << "using the access token from KAGGLE_API_TOKEN";
        return TokenLookup{value.trimmed(), Credentials::Source::TokenEnvValue, {}};
    }

    // Hard-coded under the home directory; KAGGLE_CONFIG_DIR does not apply.
    const QString kaggleDir = QDir(home).filePath(QStringLiteral(".kaggle"));
    for (const QString &name :
         {QStringLiteral("access_token"), QStringLiteral("access_token.txt")}) {
        const QString path = QDir(kaggleDir).filePath(name);
        const QString token = tokenFromFile(path, warnings);
        if (!token.isEmpty()) {
            qCDebug(lcKaggle) << "using the access token from" << path;
            return TokenLookup{token, Credentials::Source::TokenFile, path};
        }
    }
    return std::nullopt;
}

/// The directory of kaggle.json, exactly as the CLI chooses it (without creating it).
QString kaggleConfigDir(const QProcessEnvironment &env, const QString &home)
{
    const QString fromEnv = env.value(QStringLiteral("KAGGLE_CONFIG_DIR"));
    if (!fromEnv.isEmpty())
        return QDir::cleanPath(fromEnv);
    const QString dotKaggle = QDir(home).filePath(QStringLiteral(".kaggle"));
#ifdef Q_OS_LINUX
    if (!QFileInfo::exists(dotKaggle)) {
        QString xdg = env.value(QStringLiteral("XDG_CONFIG_HOME"));
        if (xdg.isEmpty())
            xdg = QDir(home).filePath(QStringLiteral(".config"));
        return QDir(xdg).filePath(QStringLiteral("kaggle"));
    }
#endif
    return dotKaggle;
}

struct KeyConfig
{
    QString username;
    QString key;
    bool usernameFromFile = false;
    bool keyFromFile = false;
    QString problem; ///< kaggle.json exists but is unusable
};

KeyConfig readKaggleJson(const QString &path, QStringList &warnings)
{
    KeyConfig c;
    const QFileInfo info(path);
    if (!info.exists())
        return c;
    if (!info.isFile()) {
        c.problem = QStringLiteral("%1 is not a file").arg(path);
        return c;
    }
#ifdef Q_OS_UNIX
    if (info.permissions() & (QFileDevice::ReadGroup | QFileDevice::ReadOther)) {
        warnings << QStringLiteral("Warning: Your Kaggle API key is readable by other users on "
                                   "this system! To fix this, you can run 'chmod 600 %1'")
                        .arg(path);
    }
#endif
    const FileRead r = readSmallFile(path, kMaxConfigFileBytes);
    if (!r.ok) {
        c.problem = r.problem;
        return c;
    }
    const nlohmann::json j =
        nlohmann::json::parse(r.data.cbegin(), r.data.cend(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
        // Never quote the file: it holds the key.
        c.problem = QStringLiteral("%1 is not valid JSON; expected {\"username\": \"...\", "
                                   "\"key\": \"...\"}")
                        .arg(path);
        return c;
    }
    for (const char *name : {"username", "key"}) {
        const auto it = j.find(name);
        if (it == j.end() || it->is_null())
            continue;
        if (!it->is_string()) {
            c.problem =
                QStringLiteral("%1: \"%2\" must be a string").arg(path, QLatin1StringView(name));
            return c;
        }
        const auto &s = it->get_ref<const std::string &>();
        const QString value =
            QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size())).trimmed();
        if (value.isEmpty())
            continue;
        if (std::string_view(name) == "username") {
            c.username = value;
            c.usernameFromFile = true;
        } else {
            c.key = value;
            c.keyFromFile = true;
        }
    }
    return c;
}

QString helpText(const QString &configDir)
{
    return QStringLiteral(
               "No Kaggle credentials found. Create an API token at "
               "https://www.kaggle.com/settings/api and either set KAGGLE_API_TOKEN to it (or to "
               "the path of a file holding it) or save it as ~/.kaggle/access_token; or put your "
               "legacy API key in %1 as {\"username\": \"...\", \"key\": \"...\"} (chmod 600), or "
               "set KAGGLE_USERNAME and KAGGLE_KEY.")
        .arg(QDir(configDir).filePath(QStringLiteral("kaggle.json")));
}

} // namespace

QByteArray Credentials::authorizationHeader() const
{
    switch (m_kind) {
    case Kind::AccessToken:
        return QByteArrayLiteral("Bearer ") + m_secret.toUtf8();
    case Kind::ApiKey:
        return QByteArrayLiteral("Basic ") + (m_username + u':' + m_secret).toUtf8().toBase64();
    case Kind::None:
        break;
    }
    return {};
}

QString Credentials::describe() const
{
    switch (m_kind) {
    case Kind::None:
        return QStringLiteral("no credentials");
    case Kind::AccessToken: {
        QString d = QStringLiteral("API token");
        if (!m_username.isEmpty())
            d += QStringLiteral(" for ") + m_username;
        switch (m_source) {
        case Source::TokenEnvValue:
            d += QStringLiteral(" from KAGGLE_API_TOKEN");
            break;
        case Source::TokenEnvFile:
            d += QStringLiteral(" from ") + m_sourcePath +
                 QStringLiteral(" (named by the environment)");
            break;
        default:
            if (!m_sourcePath.isEmpty())
                d += QStringLiteral(" from ") + m_sourcePath;
            break;
        }
        return d;
    }
    case Kind::ApiKey: {
        QString d = QStringLiteral("API key for ") + m_username;
        if (m_source == Source::Environment)
            d += QStringLiteral(" from KAGGLE_USERNAME/KAGGLE_KEY");
        else if (!m_sourcePath.isEmpty())
            d += QStringLiteral(" from ") + m_sourcePath;
        return d;
    }
    }
    return {};
}

Credentials Credentials::fromToken(const QString &token, Source source, const QString &path)
{
    Credentials c;
    c.m_kind = token.isEmpty() ? Kind::None : Kind::AccessToken;
    c.m_source = token.isEmpty() ? Source::None : source;
    c.m_sourcePath = path;
    c.m_secret = token;
    return c;
}

Credentials Credentials::fromKey(const QString &username, const QString &key, Source source,
                                 const QString &path)
{
    Credentials c;
    const bool ok = !username.isEmpty() && !key.isEmpty();
    c.m_kind = ok ? Kind::ApiKey : Kind::None;
    c.m_source = ok ? source : Source::None;
    c.m_sourcePath = path;
    c.m_username = username;
    c.m_secret = key;
    return c;
}

CredentialDiscovery discoverCredentials(const QProcessEnvironment &env, const QString &home)
{
    CredentialDiscovery d;
    const std::optional<TokenLookup> token = findToken(env, home, d.warnings);

    // The legacy key: kaggle.json first, then KAGGLE_USERNAME / KAGGLE_KEY override it.
    // (The CLI would create the config directory; a viewer does not.)
    d.configDir = kaggleConfigDir(env, home);
    const QString jsonPath = QDir(d.configDir).filePath(QStringLiteral("kaggle.json"));
    KeyConfig key = readKaggleJson(jsonPath, d.warnings);
    bool usernameFromEnv = false;
    bool keyFromEnv = false;
    if (const QString u = env.value(QStringLiteral("KAGGLE_USERNAME")); !u.isEmpty()) {
        key.username = u.trimmed();
        usernameFromEnv = true;
    }
    if (const QString k = env.value(QStringLiteral("KAGGLE_KEY")); !k.isEmpty()) {
        key.key = k.trimmed();
        keyFromEnv = true;
    }
    std::optional<Credentials> keyCredential;
    if (!key.username.isEmpty() && !key.key.isEmpty()) {
        if (usernameFromEnv && keyFromEnv)
            keyCredential =
                Credentials::fromKey(key.username, key.key, Credentials::Source::Environment);
        else
            keyCredential = Credentials::fromKey(key.username, key.key,
                                                 Credentials::Source::KaggleJson, jsonPath);
    }

    if (token && !token->token.isEmpty()) {
        d.credentials = Credentials::fromToken(token->token, token->source, token->path);
        d.fallback = keyCredential;
    } else if (keyCredential) {
        d.credentials = *keyCredential;
    }

    if (d.credentials.isValid()) {
        if (!key.problem.isEmpty())
            d.warnings << key.problem;
        qCDebug(lcKaggle) << "credentials:" << d.credentials.describe();
        if (d.fallback)
            qCDebug(lcKaggle) << "fallback credentials:" << d.fallback->describe();
    } else {
        QString error;
        if (!key.problem.isEmpty())
            error = key.problem + QStringLiteral(". ");
        else if (!key.username.isEmpty() && key.key.isEmpty())
            error = QStringLiteral("%1 has a username but no \"key\". ").arg(jsonPath);
        else if (key.username.isEmpty() && !key.key.isEmpty())
            error = QStringLiteral("A Kaggle key was found but no username (set \"username\" in "
                                   "%1 or KAGGLE_USERNAME). ")
                        .arg(jsonPath);
        d.error = error + helpText(d.configDir);
        qCDebug(lcKaggle) << "no usable credentials found; config dir" << d.configDir;
    }
    for (const QString &w : std::as_const(d.warnings))
        qCWarning(lcKaggle).noquote() << w;
    return d;
}

CredentialDiscovery discoverCredentials()
{
    return discoverCredentials(QProcessEnvironment::systemEnvironment(), QDir::homePath());
}

} // namespace kd
