#pragma once

#include <QByteArray>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

#include <optional>

namespace kd {

/// Kaggle credentials found exactly as the official CLI finds them (kaggle-api.md 2.1, 2.2).
/// The secret is kept private: toString-like helpers never print it.
class Credentials final
{
public:
    enum class Kind { None, AccessToken, ApiKey };
    enum class Source {
        None,
        TokenEnvValue, ///< KAGGLE_API_TOKEN holds the token itself
        TokenEnvFile,  ///< KAGGLE_API_TOKEN names a file
        TokenFile,     ///< ~/.kaggle/access_token or access_token.txt
        KaggleJson,    ///< kaggle.json (username/key), possibly with env overrides
        Environment,   ///< KAGGLE_USERNAME + KAGGLE_KEY only
    };

    Kind kind() const { return m_kind; }
    Source source() const { return m_source; }
    /// File the credential came from (empty for env values). Safe to show.
    QString sourcePath() const { return m_sourcePath; }
    /// Username for key credentials; for tokens, empty until IntrospectToken fills it.
    QString username() const { return m_username; }
    void setUsername(const QString &username) { m_username = username; }
    bool isValid() const { return m_kind != Kind::None; }

    /// "Authorization" header value: "Bearer <token>" or "Basic base64(user:key)".
    QByteArray authorizationHeader() const;
    /// A description safe for logs and the UI, e.g. "API key for alice from ~/.kaggle/kaggle.json".
    QString describe() const;
    /// The access token, for the IntrospectToken body; empty for key credentials.
    QString accessToken() const { return m_kind == Kind::AccessToken ? m_secret : QString(); }
    /// The secret itself, for leak checks in tests only.
    QString secretForLeakChecks() const { return m_secret; }

    static Credentials fromToken(const QString &token, Source source = Source::TokenEnvValue,
                                 const QString &path = {});
    static Credentials fromKey(const QString &username, const QString &key,
                               Source source = Source::Environment, const QString &path = {});

private:
    Kind m_kind = Kind::None;
    Source m_source = Source::None;
    QString m_sourcePath;
    QString m_username;
    QString m_secret;
};

/// Result of discovery: the chosen credential (tokens first, then key), plus warnings the CLI
/// would print (the chmod 600 warning) and an error text when nothing usable was found.
/// The CLI validates a token with IntrospectToken before using it and falls back to the key
/// when it is rejected; `fallback` carries that key credential, if any.
struct CredentialDiscovery
{
    Credentials credentials;
    std::optional<Credentials> fallback;
    QStringList warnings;
    QString error;     ///< why nothing was found, or why a file was unusable
    QString configDir; ///< the kaggle.json directory the CLI would use
};

/// Looks for credentials in `env` and `home`, in the CLI's order. Pure: reads files only.
CredentialDiscovery discoverCredentials(const QProcessEnvironment &env, const QString &home);
/// Same, with the process environment and QDir::homePath().
CredentialDiscovery discoverCredentials();

} // namespace kd
