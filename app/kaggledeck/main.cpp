// kaggledeck: the desktop dashboard. --help and --version work without a display.

#include "alertengine.h"
#include "appsettings.h"
#include "credentials.h"
#include "curlhttpclient.h"
#include "deck.h"
#include "firstrunwidget.h"
#include "kaggleclient.h"
#include "mainwindow.h"
#include "simulator.h"
#include "store.h"
#include "theme.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QLoggingCategory>
#include <QMessageBox>
#include <QPointer>
#include <QScreen>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTimer>

#include <cstdio>
#include <memory>

namespace {

void describeOptions(QCommandLineParser &parser)
{
    parser.setApplicationDescription(QStringLiteral(
        "KaggleDeck watches your Kaggle notebook runs, their logs and your GPU quota.\n"
        "Credentials are found as the kaggle CLI finds them: KAGGLE_API_TOKEN or "
        "~/.kaggle/access_token, then kaggle.json (KAGGLE_CONFIG_DIR, ~/.kaggle, "
        "~/.config/kaggle) or KAGGLE_USERNAME/KAGGLE_KEY. KAGGLE_API_ENDPOINT points the "
        "client at another server, e.g. http://127.0.0.1:7777 for kaggle-sim."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOption({QStringLiteral("demo"),
                      QStringLiteral("Run on the built-in Kaggle simulator (no account needed).")});
    parser.addOption({QStringLiteral("speed"),
                      QStringLiteral("Demo only: simulated seconds per real second (default 20)."),
                      QStringLiteral("factor"), QStringLiteral("20")});
    parser.addOption({QStringLiteral("scenario"),
                      QStringLiteral("Demo only: a simulator scenario JSON file instead of the "
                                     "built-in demo."),
                      QStringLiteral("file")});
    parser.addOption({QStringLiteral("quit-after"),
                      QStringLiteral("Quit after the given number of seconds (smoke tests)."),
                      QStringLiteral("seconds")});
}

bool wantsTextOnly(int argc, char **argv)
{
    for (int i = 1; i < argc; ++i) {
        const QByteArrayView arg(argv[i]);
        if (arg == "--help" || arg == "-h" || arg == "--help-all" || arg == "--version" ||
            arg == "-v" || arg == "-?")
            return true;
    }
    return false;
}

struct DemoOptions
{
    double speed = 20;
    QString scenarioFile; ///< empty: the built-in demo scenario
};

/// Owns everything the window shows, in the order it must be torn down, and walks the user
/// from the first-run screen or straight into the dashboard (real account or demo).
class Launcher final
{
public:
    explicit Launcher(QApplication *app) : m_app(app) {}
    ~Launcher()
    {
        // Widgets first (they hold pointers into the deck), the simulator last.
        m_window.reset();
        m_firstRun.reset();
        if (m_deck)
            m_deck->stop();
        m_deck.reset();
        m_client.reset();
        m_http.reset();
        m_store.reset();
        if (m_sim)
            m_sim->stop();
        m_sim.reset();
    }
    Launcher(const Launcher &) = delete;
    Launcher &operator=(const Launcher &) = delete;

    /// Returns false (after telling the user) when the app cannot start.
    bool startNormal()
    {
        const QString path = kd::Store::defaultPath();
        if (path.isEmpty())
            return fail(QObject::tr("There is no writable data directory for the history "
                                    "database."));
        auto store = kd::Store::open(path);
        if (!store) {
            // Shown once; the file is left as it is so nothing the user had is lost.
            return fail(QObject::tr("KaggleDeck cannot open its history database:\n\n%1\n\n"
                                    "Move the file away to start with an empty history, or "
                                    "use a newer KaggleDeck if one wrote it.")
                            .arg(store.error().message));
        }
        m_store = std::move(store).value();
        m_dataDir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
        m_endpoint =
            kd::KaggleClient::endpointFromEnvironment(QProcessEnvironment::systemEnvironment());
        const kd::CredentialDiscovery discovery = kd::discoverCredentials();
        for (const QString &warning : discovery.warnings)
            std::fprintf(stderr, "kaggledeck: %s\n", qPrintable(warning));
        if (!discovery.credentials.isValid()) {
            showFirstRun();
            return true;
        }
        authenticate(discovery);
        return true;
    }

    bool startDemo(const DemoOptions &options)
    {
        if (m_firstRun)
            m_firstRun->hide();
        // A client made for rejected real credentials must not talk to the simulator.
        m_client.reset();
        kd::sim::Options simOptions;
        simOptions.speed = options.speed;
        m_sim = std::make_unique<kd::sim::Simulator>(simOptions);
        std::string error;
        const bool loaded =
            options.scenarioFile.isEmpty()
                ? m_sim->loadScenarioJson(kd::sim::Simulator::builtinDemoScenario(), &error)
                : m_sim->loadScenarioFile(options.scenarioFile.toStdString(), &error);
        if (!loaded)
            return fail(QObject::tr("The demo scenario cannot be loaded: %1")
                            .arg(QString::fromStdString(error)));
        if (!m_sim->start("127.0.0.1", 0))
            return fail(QObject::tr("The built-in simulator cannot listen on a loopback port."));
        // A simulator scenario (or the accelerated clock) keeps its options; the speed flag
        // wins so --speed always means what it says.
        m_sim->setSpeed(options.speed);

        // Demo history lives and dies with this process: the real store is never touched.
        m_demoDir = std::make_unique<QTemporaryDir>();
        if (!m_demoDir->isValid())
            return fail(QObject::tr("No temporary directory for the demo."));
        auto store = kd::Store::open(m_demoDir->filePath(QStringLiteral("demo.sqlite")));
        if (!store)
            return fail(store.error().message);
        m_store = std::move(store).value();
        m_dataDir = m_demoDir->path();
        m_endpoint = QUrl(QString::fromStdString(m_sim->endpoint()));

        kd::Deck::Settings settings = kd::AppSettings::load().deckSettings({});
        // The simulator runs 20x faster than Kaggle: poll faster so the demo looks alive.
        settings.monitor.pollRunningSeconds = 2;
        settings.monitor.pollQueuedSeconds = 3;
        settings.monitor.quotaPollSeconds = 15;
        settings.monitor.requestBudgetPerMinute = 1000;
        const kd::Credentials demo =
            kd::Credentials::fromKey(QStringLiteral("demo"), QStringLiteral("demo-key-not-secret"),
                                     kd::Credentials::Source::Environment);
        openDashboard(demo, settings, true, {});
        m_window->importMyKernels();
        return true;
    }

    void setDemoOptions(const DemoOptions &options) { m_demoOptions = options; }

private:
    bool fail(const QString &message)
    {
        std::fprintf(stderr, "kaggledeck: %s\n", qPrintable(message));
        QMessageBox::critical(nullptr, QObject::tr("KaggleDeck"), message);
        return false;
    }

    void showFirstRun()
    {
        if (!m_firstRun) {
            m_firstRun = std::make_unique<kd::FirstRunWidget>();
            m_firstRun->setWindowIcon(QIcon(QStringLiteral(":/icons/kaggledeck.svg")));
            QObject::connect(
                m_firstRun.get(), &kd::FirstRunWidget::credentialsFound, m_app,
                [this](const kd::CredentialDiscovery &discovery) { authenticate(discovery); });
            QObject::connect(m_firstRun.get(), &kd::FirstRunWidget::demoRequested, m_app, [this] {
                // The real store stays closed for the demo; reopen it on the next start.
                m_store.reset();
                if (!startDemo(m_demoOptions))
                    m_app->exit(1);
            });
            m_firstRun->resize(
                QSize(920, 680).boundedTo(m_firstRun->screen()->availableSize() * 0.9));
        }
        m_firstRun->show();
    }

    void authenticate(const kd::CredentialDiscovery &discovery)
    {
        ensureClient(discovery.credentials);
        m_client->authenticate(
            discovery, m_app, [this, discovery](kd::Result<kd::Credentials> credentials) {
                if (credentials) {
                    openDashboard(*credentials, kd::AppSettings::load().deckSettings({}), false,
                                  discovery.warnings);
                    return;
                }
                if (credentials.error().kind == kd::ApiError::Kind::Auth) {
                    showFirstRun();
                    m_firstRun->setRejected(discovery, credentials.error().message);
                    return;
                }
                // Kaggle is unreachable, so the token cannot be checked yet: use it as it is;
                // the dashboard shows the offline state and a rejection later if it comes.
                openDashboard(discovery.credentials, kd::AppSettings::load().deckSettings({}),
                              false, discovery.warnings);
            });
    }

    void ensureClient(const kd::Credentials &credentials)
    {
        if (!m_http) {
            kd::net::CurlHttpClient::Options netOptions;
            netOptions.userAgent = kd::KaggleClient::userAgent();
            m_http = std::make_unique<kd::net::CurlHttpClient>(netOptions);
        }
        if (!m_client) {
            kd::KaggleClient::Options options;
            options.endpoint = m_endpoint;
            m_client = std::make_unique<kd::KaggleClient>(m_http.get(), credentials, options);
        } else {
            m_client->setCredentials(credentials);
        }
    }

    void openDashboard(const kd::Credentials &credentials, const kd::Deck::Settings &settings,
                       bool demo, const QStringList &warnings)
    {
        if (m_window)
            return;
        ensureClient(credentials);
        m_deck = std::make_unique<kd::Deck>(m_client.get(), m_store.get(), m_dataDir, settings);
        m_deck->alerts()->setDefaults(
            kd::AppSettings::load().alertDefaults(m_deck->alerts()->defaults()));
        m_window = std::make_unique<kd::MainWindow>(m_deck.get());
        m_window->setDemoMode(demo);
        if (!demo)
            m_window->setCredentialInfo(credentials.describe(), warnings);
        m_window->showAtStart();
        if (m_firstRun) {
            // We may be inside one of its signals (the demo button): delete it later.
            m_firstRun->hide();
            m_firstRun.release()->deleteLater();
        }
        m_deck->start();
    }

    QApplication *m_app;
    DemoOptions m_demoOptions;
    std::unique_ptr<kd::sim::Simulator> m_sim;
    std::unique_ptr<QTemporaryDir> m_demoDir;
    std::unique_ptr<kd::Store> m_store;
    std::unique_ptr<kd::net::CurlHttpClient> m_http;
    std::unique_ptr<kd::KaggleClient> m_client;
    std::unique_ptr<kd::Deck> m_deck;
    std::unique_ptr<kd::FirstRunWidget> m_firstRun;
    std::unique_ptr<kd::MainWindow> m_window;
    QString m_dataDir;
    QUrl m_endpoint = kd::KaggleClient::defaultEndpoint();
};

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication::setApplicationName(QStringLiteral("kaggledeck"));
    QCoreApplication::setOrganizationName(QStringLiteral("KaggleDeck"));
    QCoreApplication::setApplicationVersion(QStringLiteral(KD_VERSION));

    if (wantsTextOnly(argc, argv)) {
        QCoreApplication app(argc, argv);
        QCommandLineParser parser;
        describeOptions(parser);
        parser.process(app); // prints and exits
        return 0;
    }

    QApplication app(argc, argv);
    QApplication::setApplicationDisplayName(QStringLiteral("KaggleDeck"));
    QApplication::setDesktopFileName(QStringLiteral("io.github.kaggledeck.KaggleDeck"));
    QCommandLineParser parser;
    describeOptions(parser);
    parser.process(app);

    // Debug chatter of our modules stays off unless QT_LOGGING_RULES asks for it.
    QLoggingCategory::setFilterRules(QStringLiteral("kaggledeck.*.debug=false"));
    kd::theme::apply(kd::AppSettings::load().appearance);

    DemoOptions demo;
    bool speedOk = false;
    demo.speed = parser.value(QStringLiteral("speed")).toDouble(&speedOk);
    if (!speedOk || demo.speed < 0) {
        std::fprintf(stderr, "kaggledeck: --speed needs a number >= 0\n");
        return 2;
    }
    demo.scenarioFile = parser.value(QStringLiteral("scenario"));

    int quitAfter = 0;
    if (parser.isSet(QStringLiteral("quit-after"))) {
        bool ok = false;
        quitAfter = parser.value(QStringLiteral("quit-after")).toInt(&ok);
        if (!ok || quitAfter <= 0) {
            std::fprintf(stderr, "kaggledeck: --quit-after needs a positive number of seconds\n");
            return 2;
        }
    }

    int rc = 0;
    {
        Launcher launcher(&app);
        launcher.setDemoOptions(demo);
        const bool started = parser.isSet(QStringLiteral("demo")) ? launcher.startDemo(demo)
                                                                  : launcher.startNormal();
        if (!started)
            return 1;
        if (quitAfter > 0)
            QTimer::singleShot(quitAfter * 1000, &app, [] {
                // Closing the windows saves their layout like a user's quit would.
                QApplication::closeAllWindows();
                QCoreApplication::quit();
            });
        rc = app.exec();
    }
    return rc;
}
