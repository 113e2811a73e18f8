// Credential discovery in the official CLI's order (kaggle-api.md 2.1, 2.2), against a
// temporary HOME and a constructed environment.

#include "credentials.h"

#include <QDir>
#include <QFile>
#include <QLoggingCategory>
#include <QMutex>
#include <QTemporaryDir>
#include <QTest>

using namespace kd;

namespace {

const QString kToken = QStringLiteral("KGAT_0123456789abcdef0123456789abcdef");
const QString kKey = QStringLiteral("f00dfacecafebabe0123456789abcdef");

/// A file to create under the temporary HOME ("$HOME" is replaced in paths and values).
struct FileSpec
{
    QString path;
    QByteArray content;
    int mode = 0600; ///< octal permission bits; -1 creates a directory
};

using Env = QMap<QString, QString>;

struct Expect
{
    Credentials::Kind kind = Credentials::Kind::None;
    Credentials::Source source = Credentials::Source::None;
    QString sourcePath;
    QString username;
    QByteArray authorization;
    Credentials::Kind fallback = Credentials::Kind::None;
    QString configDir;
    QStringList warningsContain;
    QStringList errorContains;
};

QByteArray basic(const QString &user, const QString &key)
{
    return "Basic " + (user + u':' + key).toUtf8().toBase64();
}

QByteArray bearer(const QString &token)
{
    return "Bearer " + token.toUtf8();
}

QByteArray kaggleJson(const QString &user, const QString &key)
{
    return QStringLiteral(R"({"username": "%1", "key": "%2"})").arg(user, key).toUtf8();
}

QFileDevice::Permissions toPermissions(int mode)
{
    QFileDevice::Permissions p;
    if (mode & 0400)
        p |= QFileDevice::ReadOwner | QFileDevice::ReadUser;
    if (mode & 0200)
        p |= QFileDevice::WriteOwner | QFileDevice::WriteUser;
    if (mode & 0040)
        p |= QFileDevice::ReadGroup;
    if (mode & 0020)
        p |= QFileDevice::WriteGroup;
    if (mode & 0004)
        p |= QFileDevice::ReadOther;
    if (mode & 0002)
        p |= QFileDevice::WriteOther;
    return p;
}

/// Builds the HOME tree and the environment of one scenario.
class Scenario
{
public:
    explicit Scenario(const QList<FileSpec> &files, const QMap<QString, QString> &env)
    {
        QVERIFY(m_dir.isValid());
        m_home = m_dir.path() + QStringLiteral("/home");
        QVERIFY(QDir().mkpath(m_home));
        for (const FileSpec &f : files) {
            const QString path = expand(f.path);
            if (f.mode < 0) {
                QVERIFY(QDir().mkpath(path));
                continue;
            }
            QVERIFY(QDir().mkpath(QFileInfo(path).absolutePath()));
            QFile file(path);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(f.content);
            file.close();
            QVERIFY(file.setPermissions(toPermissions(f.mode)));
        }
        for (auto it = env.begin(); it != env.end(); ++it)
            m_env.insert(it.key(), expand(it.value()));
    }

    QString expand(const QString &s) const
    {
        QString r = s;
        return r.replace(QStringLiteral("$HOME"), m_home);
    }
    CredentialDiscovery run() const { return discoverCredentials(m_env, m_home); }

private:
    QTemporaryDir m_dir;
    QString m_home;
    QProcessEnvironment m_env; ///< empty: nothing from the test process leaks in
};

// Captures every Qt message while installed (the leak check).
QMutex g_logMutex;
QStringList g_log;

QLoggingCategory::CategoryFilter g_previousFilter = nullptr;

/// Forces every kaggledeck.* category fully on. QT_LOGGING_RULES (ctest sets
/// kaggledeck.*.debug=false) outranks setFilterRules(); a filter outranks both.
void enableKaggleDeckLogging(QLoggingCategory *category)
{
    if (g_previousFilter)
        g_previousFilter(category);
    if (qstrncmp(category->categoryName(), "kaggledeck.", 11) == 0) {
        category->setEnabled(QtDebugMsg, true);
        category->setEnabled(QtInfoMsg, true);
        category->setEnabled(QtWarningMsg, true);
    }
}

void captureMessages(QtMsgType, const QMessageLogContext &context, const QString &message)
{
    QMutexLocker lock(&g_logMutex);
    g_log << QLatin1StringView(context.category ? context.category : "") + u' ' + message;
}

} // namespace

Q_DECLARE_METATYPE(FileSpec)
Q_DECLARE_METATYPE(Expect)

class TestCredentials : public QObject
{
    Q_OBJECT

private slots:
    void discovery_data();
    void discovery();
    void permissionWarning_data();
    void permissionWarning();
    void headersAndDescribe();
    void noSecretInLogsOrTexts();
};

void TestCredentials::discovery_data()
{
    QTest::addColumn<QList<FileSpec>>("files");
    QTest::addColumn<Env>("env");
    QTest::addColumn<Expect>("expect");

    using K = Credentials::Kind;
    using S = Credentials::Source;
    const QString dotKaggle = QStringLiteral("$HOME/.kaggle");
    const FileSpec homeJson{dotKaggle + QStringLiteral("/kaggle.json"),
                            kaggleJson(QStringLiteral("alice"), kKey)};
    const FileSpec accessToken{dotKaggle + QStringLiteral("/access_token"),
                               "  " + kToken.toUtf8() + "\n"};
    const FileSpec accessTokenTxt{dotKaggle + QStringLiteral("/access_token.txt"),
                                  "KGAT_txt_token\r\n"};

    {
        Expect e;
        e.kind = K::AccessToken;
        e.source = S::TokenEnvValue;
        e.authorization = bearer(QStringLiteral("KGAT_from_env_value"));
        e.fallback = K::ApiKey;
        e.configDir = dotKaggle;
        QTest::newRow("env token value beats everything")
            << QList<FileSpec>{homeJson, accessToken, accessTokenTxt}
            << QMap<QString, QString>{{QStringLiteral("KAGGLE_API_TOKEN"),
                                       QStringLiteral("KGAT_from_env_value")}}
            << e;
    }
    {
        Expect e;
        e.kind = K::AccessToken;
        e.source = S::TokenEnvFile;
        e.sourcePath = QStringLiteral("$HOME/secrets/token.txt");
        e.authorization = bearer(QStringLiteral("KGAT_from_env_file"));
        e.configDir = dotKaggle;
        QTest::newRow("env token names a file (stripped)")
            << QList<FileSpec>{{QStringLiteral("$HOME/secrets/token.txt"),
                                "\n  KGAT_from_env_file \t\n"},
                               accessToken}
            << QMap<QString, QString>{{QStringLiteral("KAGGLE_API_TOKEN"),
                                       QStringLiteral("$HOME/secrets/token.txt")}}
            << e;
    }
    {
        // The SDK returns at once for an existing file, even an empty one, and never looks at
        // ~/.kaggle/access_token; the CLI then falls back to the key.
        Expect e;
        e.kind = K::ApiKey;
        e.source = S::KaggleJson;
        e.username = QStringLiteral("alice");
        e.sourcePath = dotKaggle + QStringLiteral("/kaggle.json");
        e.authorization = basic(QStringLiteral("alice"), kKey);
        e.configDir = dotKaggle;
        e.warningsContain = {QStringLiteral("KAGGLE_API_TOKEN"), QStringLiteral("no token")};
        QTest::newRow("env token file empty stops the token search")
            << QList<FileSpec>{{QStringLiteral("$HOME/empty.txt"), " \n"}, accessToken, homeJson}
            << QMap<QString, QString>{{QStringLiteral("KAGGLE_API_TOKEN"),
                                       QStringLiteral("$HOME/empty.txt")}}
            << e;
    }
    {
        Expect e;
        e.kind = K::AccessToken;
        e.source = S::TokenFile;
        e.sourcePath = dotKaggle + QStringLiteral("/access_token");
        e.authorization = bearer(kToken);
        e.fallback = K::ApiKey;
        e.configDir = dotKaggle;
        QTest::newRow("access_token beats access_token.txt and kaggle.json")
            << QList<FileSpec>{accessToken, accessTokenTxt, homeJson} << QMap<QString, QString>{}
            << e;
    }
    {
        Expect e;
        e.kind = K::AccessToken;
        e.source = S::TokenFile;
        e.sourcePath = dotKaggle + QStringLiteral("/access_token.txt");
        e.authorization = bearer(QStringLiteral("KGAT_txt_token"));
        e.configDir = dotKaggle;
        QTest::newRow("access_token.txt when access_token is empty")
            << QList<FileSpec>{{dotKaggle + QStringLiteral("/access_token"), "\n"}, accessTokenTxt}
            << QMap<QString, QString>{} << e;
    }
    {
        Expect e;
        e.kind = K::ApiKey;
        e.source = S::KaggleJson;
        e.username = QStringLiteral("carol");
        e.sourcePath = QStringLiteral("$HOME/cfg/kaggle.json");
        e.authorization = basic(QStringLiteral("carol"), QStringLiteral("cfgkey"));
        e.configDir = QStringLiteral("$HOME/cfg");
        QTest::newRow("access_token ignores KAGGLE_CONFIG_DIR")
            << QList<FileSpec>{{QStringLiteral("$HOME/cfg/access_token"), "KGAT_wrong_place"},
                               {QStringLiteral("$HOME/cfg/kaggle.json"),
                                kaggleJson(QStringLiteral("carol"), QStringLiteral("cfgkey"))},
                               homeJson}
            << QMap<QString, QString>{{QStringLiteral("KAGGLE_CONFIG_DIR"),
                                       QStringLiteral("$HOME/cfg")}}
            << e;
    }
    {
        Expect e;
        e.kind = K::ApiKey;
        e.source = S::KaggleJson;
        e.username = QStringLiteral("alice");
        e.sourcePath = dotKaggle + QStringLiteral("/kaggle.json");
        e.authorization = basic(QStringLiteral("alice"), kKey);
        e.configDir = dotKaggle;
        QTest::newRow("kaggle.json") << QList<FileSpec>{homeJson} << QMap<QString, QString>{} << e;
    }
    {
        Expect e;
        e.kind = K::ApiKey;
        e.source = S::KaggleJson;
        e.username = QStringLiteral("dave");
        e.sourcePath = QStringLiteral("$HOME/.config/kaggle/kaggle.json");
        e.authorization = basic(QStringLiteral("dave"), QStringLiteral("xdgkey"));
        e.configDir = QStringLiteral("$HOME/.config/kaggle");
        QTest::newRow("~/.config/kaggle when ~/.kaggle is missing")
            << QList<FileSpec>{{QStringLiteral("$HOME/.config/kaggle/kaggle.json"),
                                kaggleJson(QStringLiteral("dave"), QStringLiteral("xdgkey"))}}
            << QMap<QString, QString>{} << e;
    }
    {
        Expect e;
        e.configDir = dotKaggle;
        e.errorContains = {QStringLiteral("$HOME/.kaggle/kaggle.json")};
        QTest::newRow("~/.config/kaggle ignored when ~/.kaggle exists")
            << QList<FileSpec>{{dotKaggle, {}, -1},
                               {QStringLiteral("$HOME/.config/kaggle/kaggle.json"),
                                kaggleJson(QStringLiteral("dave"), QStringLiteral("xdgkey"))}}
            << QMap<QString, QString>{} << e;
    }
    {
        Expect e;
        e.kind = K::ApiKey;
        e.source = S::KaggleJson;
        e.username = QStringLiteral("erin");
        e.sourcePath = QStringLiteral("$HOME/xdg/kaggle/kaggle.json");
        e.authorization = basic(QStringLiteral("erin"), QStringLiteral("k2"));
        e.configDir = QStringLiteral("$HOME/xdg/kaggle");
        QTest::newRow("XDG_CONFIG_HOME")
            << QList<FileSpec>{{QStringLiteral("$HOME/xdg/kaggle/kaggle.json"),
                                kaggleJson(QStringLiteral("erin"), QStringLiteral("k2"))},
                               {QStringLiteral("$HOME/.config/kaggle/kaggle.json"),
                                kaggleJson(QStringLiteral("dave"), QStringLiteral("xdgkey"))}}
            << QMap<QString, QString>{{QStringLiteral("XDG_CONFIG_HOME"),
                                       QStringLiteral("$HOME/xdg")}}
            << e;
    }
    {
        Expect e;
        e.kind = K::ApiKey;
        e.source = S::KaggleJson;
        e.username = QStringLiteral("alice");
        e.sourcePath = dotKaggle + QStringLiteral("/kaggle.json");
        e.authorization = basic(QStringLiteral("alice"), QStringLiteral("envkey"));
        e.configDir = dotKaggle;
        QTest::newRow("KAGGLE_KEY overrides the file")
            << QList<FileSpec>{homeJson}
            << QMap<QString, QString>{{QStringLiteral("KAGGLE_KEY"), QStringLiteral("envkey")}}
            << e;
    }
    {
        Expect e;
        e.kind = K::ApiKey;
        e.source = S::Environment;
        e.username = QStringLiteral("bob");
        e.authorization = basic(QStringLiteral("bob"), QStringLiteral("envkey"));
        e.configDir = dotKaggle;
        QTest::newRow("KAGGLE_USERNAME and KAGGLE_KEY override both")
            << QList<FileSpec>{homeJson}
            << QMap<QString, QString>{{QStringLiteral("KAGGLE_USERNAME"), QStringLiteral("bob")},
                                      {QStringLiteral("KAGGLE_KEY"), QStringLiteral("envkey")}}
            << e;
    }
    {
        Expect e;
        e.kind = K::ApiKey;
        e.source = S::Environment;
        e.username = QStringLiteral("bob");
        e.authorization = basic(QStringLiteral("bob"), QStringLiteral("envkey"));
        e.configDir = QStringLiteral("$HOME/.config/kaggle");
        QTest::newRow("environment only")
            << QList<FileSpec>{}
            << QMap<QString, QString>{{QStringLiteral("KAGGLE_USERNAME"), QStringLiteral("bob")},
                                      {QStringLiteral("KAGGLE_KEY"), QStringLiteral("envkey")}}
            << e;
    }
    {
        Expect e;
        e.kind = K::ApiKey;
        e.source = S::KaggleJson;
        e.username = QStringLiteral("frank");
        e.sourcePath = dotKaggle + QStringLiteral("/kaggle.json");
        e.authorization = basic(QStringLiteral("frank"), QStringLiteral("filekey"));
        e.configDir = dotKaggle;
        QTest::newRow("username from env, key from file")
            << QList<FileSpec>{{dotKaggle + QStringLiteral("/kaggle.json"),
                                R"({"key": "filekey"})"}}
            << QMap<QString, QString>{{QStringLiteral("KAGGLE_USERNAME"), QStringLiteral("frank")}}
            << e;
    }
    {
        Expect e;
        e.configDir = dotKaggle;
        e.errorContains = {QStringLiteral("$HOME/.kaggle/kaggle.json"),
                           QStringLiteral("not valid JSON")};
        QTest::newRow("malformed kaggle.json")
            << QList<FileSpec>{{dotKaggle + QStringLiteral("/kaggle.json"),
                                R"({"username": "alice", "key": ")" + kKey.toUtf8()}}
            << QMap<QString, QString>{} << e;
    }
    {
        Expect e;
        e.kind = K::AccessToken;
        e.source = S::TokenEnvValue;
        e.authorization = bearer(kToken);
        e.configDir = dotKaggle;
        e.warningsContain = {QStringLiteral("$HOME/.kaggle/kaggle.json"),
                             QStringLiteral("not valid JSON")};
        QTest::newRow("malformed kaggle.json with a token is a warning")
            << QList<FileSpec>{{dotKaggle + QStringLiteral("/kaggle.json"),
                                "username=alice\nkey=x"}}
            << QMap<QString, QString>{{QStringLiteral("KAGGLE_API_TOKEN"), kToken}} << e;
    }
    {
        Expect e;
        e.configDir = dotKaggle;
        e.errorContains = {QStringLiteral("\"username\""), QStringLiteral("string")};
        QTest::newRow("username of the wrong type")
            << QList<FileSpec>{{dotKaggle + QStringLiteral("/kaggle.json"),
                                R"({"username": 42, "key": "k"})"}}
            << QMap<QString, QString>{} << e;
    }
    {
        Expect e;
        e.configDir = dotKaggle;
        e.errorContains = {QStringLiteral("no \"key\"")};
        QTest::newRow("username without key")
            << QList<FileSpec>{{dotKaggle + QStringLiteral("/kaggle.json"),
                                R"({"username": "alice"})"}}
            << QMap<QString, QString>{} << e;
    }
    {
        Expect e;
        e.configDir = QStringLiteral("$HOME/.config/kaggle");
        e.errorContains = {
            QStringLiteral("KAGGLE_API_TOKEN"), QStringLiteral("~/.kaggle/access_token"),
            QStringLiteral("kaggle.json"),      QStringLiteral("KAGGLE_USERNAME"),
            QStringLiteral("KAGGLE_KEY"),       QStringLiteral("kaggle.com/settings")};
        QTest::newRow("nothing found") << QList<FileSpec>{} << QMap<QString, QString>{} << e;
    }
    {
        Expect e;
        e.configDir = dotKaggle;
        e.errorContains = {QStringLiteral("No Kaggle credentials")};
        QTest::newRow("empty env values are unset")
            << QList<FileSpec>{{dotKaggle, {}, -1}}
            << QMap<QString, QString>{{QStringLiteral("KAGGLE_API_TOKEN"), QString()},
                                      {QStringLiteral("KAGGLE_USERNAME"), QString()},
                                      {QStringLiteral("KAGGLE_KEY"), QString()}}
            << e;
    }
    {
        Expect e;
        e.kind = K::AccessToken;
        e.source = S::TokenEnvFile;
        e.sourcePath = QStringLiteral("$HOME/nb/token");
        e.authorization = bearer(QStringLiteral("KGAT_notebook"));
        e.configDir = dotKaggle;
        QTest::newRow("inside a Kaggle notebook")
            << QList<FileSpec>{{QStringLiteral("$HOME/nb/token"), "KGAT_notebook\n"}, accessToken}
            << QMap<QString, QString>{{QStringLiteral("KAGGLE_KERNEL_RUN_TYPE"),
                                       QStringLiteral("Batch")},
                                      {QStringLiteral("KAGGLE_DATA_PROXY_URL"),
                                       QStringLiteral("http://proxy")},
                                      {QStringLiteral("KAGGLE_API_V1_TOKEN"),
                                       QStringLiteral("$HOME/nb/token")},
                                      {QStringLiteral("KAGGLE_API_TOKEN"),
                                       QStringLiteral("KGAT_other")}}
            << e;
    }
}

void TestCredentials::discovery()
{
    QFETCH(QList<FileSpec>, files);
    QFETCH(Expect, expect);
    QFETCH(Env, env);
    const Scenario s(files, env);
    if (QTest::currentTestFailed())
        return;
    const CredentialDiscovery d = s.run();

    QCOMPARE(int(d.credentials.kind()), int(expect.kind));
    QCOMPARE(int(d.credentials.source()), int(expect.source));
    QCOMPARE(d.credentials.sourcePath(), s.expand(expect.sourcePath));
    QCOMPARE(d.credentials.username(), expect.username);
    QCOMPARE(d.credentials.authorizationHeader(), expect.authorization);
    QCOMPARE(d.credentials.isValid(), expect.kind != Credentials::Kind::None);
    QCOMPARE(int(d.fallback ? d.fallback->kind() : Credentials::Kind::None), int(expect.fallback));
    QCOMPARE(QDir::cleanPath(d.configDir), QDir::cleanPath(s.expand(expect.configDir)));
    for (const QString &w : std::as_const(expect.warningsContain)) {
        const QString needle = s.expand(w);
        QVERIFY2(
            d.warnings.join(u'\n').contains(needle),
            qPrintable(
                QStringLiteral("warnings lack \"%1\": %2").arg(needle, d.warnings.join(u'\n'))));
    }
    if (expect.errorContains.isEmpty()) {
        QVERIFY2(d.error.isEmpty(), qPrintable(d.error));
    } else {
        for (const QString &t : std::as_const(expect.errorContains))
            QVERIFY2(d.error.contains(s.expand(t)), qPrintable(d.error));
    }
    if (expect.kind == Credentials::Kind::None)
        QVERIFY(!d.error.isEmpty());
    // The CLI would create the config directory; a viewer must not.
    if (expect.kind == Credentials::Kind::None &&
        expect.configDir != QStringLiteral("$HOME/.kaggle"))
        QVERIFY(!QFileInfo::exists(s.expand(expect.configDir)));
}

void TestCredentials::permissionWarning_data()
{
    QTest::addColumn<int>("mode");
    QTest::addColumn<bool>("warned");
    QTest::newRow("600") << 0600 << false;
    QTest::newRow("400") << 0400 << false;
    QTest::newRow("644") << 0644 << true;
    QTest::newRow("640 group") << 0640 << true;
    QTest::newRow("604 other") << 0604 << true;
}

void TestCredentials::permissionWarning()
{
#ifndef Q_OS_UNIX
    QSKIP("file modes are a Unix check");
#endif
    QFETCH(int, mode);
    QFETCH(bool, warned);
    const Scenario s({{QStringLiteral("$HOME/.kaggle/kaggle.json"),
                       kaggleJson(QStringLiteral("alice"), kKey), mode}},
                     {});
    const CredentialDiscovery d = s.run();
    QCOMPARE(int(d.credentials.kind()), int(Credentials::Kind::ApiKey));
    const QString expected =
        QStringLiteral("Warning: Your Kaggle API key is readable by other users on this "
                       "system! To fix this, you can run 'chmod 600 %1'")
            .arg(s.expand(QStringLiteral("$HOME/.kaggle/kaggle.json")));
    QCOMPARE(d.warnings.contains(expected), warned);
    QCOMPARE(d.warnings.size(), warned ? 1 : 0);
}

void TestCredentials::headersAndDescribe()
{
    const Credentials token = Credentials::fromToken(
        kToken, Credentials::Source::TokenFile, QStringLiteral("/home/u/.kaggle/access_token"));
    QCOMPARE(token.authorizationHeader(), bearer(kToken));
    QVERIFY(token.describe().contains(QStringLiteral("/home/u/.kaggle/access_token")));
    const Credentials key = Credentials::fromKey(QStringLiteral("alice"), QStringLiteral("s3cr3t"));
    QCOMPARE(key.authorizationHeader(), QByteArray("Basic YWxpY2U6czNjcjN0")); // alice:s3cr3t
    QCOMPARE(key.describe(), QStringLiteral("API key for alice from KAGGLE_USERNAME/KAGGLE_KEY"));
    Credentials named = token;
    named.setUsername(QStringLiteral("alice"));
    QVERIFY(named.describe().contains(QStringLiteral("alice")));
    QVERIFY(!Credentials().isValid());
    QVERIFY(Credentials().authorizationHeader().isEmpty());
    QVERIFY(!Credentials::fromKey(QStringLiteral("alice"), {}).isValid());
    QVERIFY(!Credentials::fromToken({}).isValid());
    // Any token string works, not only KGAT_ ones.
    QCOMPARE(Credentials::fromToken(QStringLiteral("legacy-token")).authorizationHeader(),
             QByteArray("Bearer legacy-token"));
}

void TestCredentials::noSecretInLogsOrTexts()
{
    // Every discovery path with debug logging on; nothing may print a key or a token.
    QLoggingCategory::setFilterRules(QStringLiteral("kaggledeck.*=true"));
    g_previousFilter = QLoggingCategory::installFilter(enableKaggleDeckLogging);
    g_log.clear();
    const QtMessageHandler previous = qInstallMessageHandler(captureMessages);

    const QByteArray brokenJson = R"({"username": "alice", "key": ")" + kKey.toUtf8() + "\",";
    const QList<QPair<QList<FileSpec>, QMap<QString, QString>>> scenarios = {
        {{{QStringLiteral("$HOME/.kaggle/kaggle.json"), kaggleJson(QStringLiteral("alice"), kKey),
           0644}},
         {{QStringLiteral("KAGGLE_API_TOKEN"), kToken}}},
        {{{QStringLiteral("$HOME/.kaggle/access_token"), kToken.toUtf8()},
          {QStringLiteral("$HOME/.kaggle/kaggle.json"), kaggleJson(QStringLiteral("alice"), kKey)}},
         {}},
        {{{QStringLiteral("$HOME/t"), kToken.toUtf8()}},
         {{QStringLiteral("KAGGLE_API_TOKEN"), QStringLiteral("$HOME/t")}}},
        {{{QStringLiteral("$HOME/.kaggle/kaggle.json"), brokenJson}}, {}},
        {{{QStringLiteral("$HOME/.kaggle/kaggle.json"), brokenJson}},
         {{QStringLiteral("KAGGLE_API_TOKEN"), kToken}}},
        {{},
         {{QStringLiteral("KAGGLE_USERNAME"), QStringLiteral("bob")},
          {QStringLiteral("KAGGLE_KEY"), kKey}}},
        {{}, {{QStringLiteral("KAGGLE_KEY"), kKey}}},
        {{{QStringLiteral("$HOME/.kaggle/kaggle.json"), R"({"key": ")" + kKey.toUtf8() + "\"}"}},
         {}},
    };
    QStringList texts;
    for (const auto &[files, env] : scenarios) {
        const Scenario s(files, env);
        const CredentialDiscovery d = s.run();
        texts << d.credentials.describe() << d.warnings << d.error;
        if (d.fallback)
            texts << d.fallback->describe();
    }
    qInstallMessageHandler(previous);
    QLoggingCategory::installFilter(g_previousFilter);
    QLoggingCategory::setFilterRules(QString());

    const QString captured = g_log.join(u'\n');
    QVERIFY2(captured.contains(QStringLiteral("kaggledeck.kaggle")),
             "debug logging was not captured, the check would prove nothing");
    QVERIFY(captured.contains(QStringLiteral("credentials:")));
    const QString all = captured + u'\n' + texts.join(u'\n');
    // Not even a fragment: no 10-character window of a secret may appear.
    for (const QString &secret : {kToken, kKey}) {
        for (qsizetype i = 0; i + 10 <= secret.size(); ++i) {
            QVERIFY2(!all.contains(secret.mid(i, 10)),
                     qPrintable(QStringLiteral("a secret leaked into: ") + all));
        }
    }
    QVERIFY(!all.contains(QString::fromLatin1(basic(QStringLiteral("alice"), kKey))));
}

QTEST_GUILESS_MAIN(TestCredentials)
#include "tst_credentials.moc"
