// kaggledeck: the desktop dashboard. --help and --version work without a display.

#include "credentials.h"
#include "curlhttpclient.h"
#include "kaggleclient.h"
#include "kernellistmodel.h"
#include "mainwindow.h"
#include "simulator.h"
#include "statuspoller.h"

#include <QApplication>
#include <QCommandLineParser>
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
    QCommandLineParser parser;
    describeOptions(parser);
    parser.process(app);

    std::unique_ptr<kd::sim::Simulator> simulator;
    kd::KaggleClient::Options options;
    kd::CredentialDiscovery discovery;
    const bool demo = parser.isSet(QStringLiteral("demo"));
    if (demo) {
        kd::sim::Options simOptions;
        simOptions.speed = parser.value(QStringLiteral("speed")).toDouble();
        simulator = std::make_unique<kd::sim::Simulator>(simOptions);
        std::string error;
        const bool loaded =
            parser.isSet(QStringLiteral("scenario"))
                ? simulator->loadScenarioFile(parser.value(QStringLiteral("scenario")).toStdString(),
                                              &error)
                : simulator->loadScenarioJson(kd::sim::Simulator::builtinDemoScenario(), &error);
        if (!loaded || !simulator->start("127.0.0.1", 0)) {
            std::fprintf(stderr, "kaggledeck: cannot start the simulator: %s\n",
                         error.empty() ? "no free port" : error.c_str());
            return 1;
        }
        options.endpoint = QUrl(QString::fromStdString(simulator->endpoint()));
        discovery.credentials = kd::Credentials::fromKey(
            QStringLiteral("demo"), QStringLiteral("demo-key-not-secret"),
            kd::Credentials::Source::Environment);
    } else {
        options.endpoint =
            kd::KaggleClient::endpointFromEnvironment(QProcessEnvironment::systemEnvironment());
        discovery = kd::discoverCredentials();
        for (const QString &warning : discovery.warnings)
            std::fprintf(stderr, "%s\n", qPrintable(warning));
    }

    kd::net::CurlHttpClient::Options netOptions;
    netOptions.userAgent = kd::KaggleClient::userAgent();
    kd::net::CurlHttpClient http(netOptions);
    kd::KaggleClient client(&http, {}, options);
    kd::KernelListModel model;
    kd::StatusPoller poller(&client, &model);
    kd::MainWindow window(&model, &poller);
    window.setDemoMode(demo);
    window.setEndpointText(demo ? QObject::tr("the built-in simulator")
                                : options.endpoint.toDisplayString());
    window.show();

    client.authenticate(discovery, &poller, [&](kd::Result<kd::Credentials> credentials) {
        if (!credentials) {
            emit poller.listError(credentials.error().message);
            return;
        }
        client.setCredentials(*credentials);
        poller.start(demo ? 2'000 : 15'000);
    });

    if (parser.isSet(QStringLiteral("quit-after"))) {
        const int seconds = parser.value(QStringLiteral("quit-after")).toInt();
        QTimer::singleShot(seconds * 1000, &app, &QCoreApplication::quit);
    }
    const int rc = app.exec();
    poller.stop();
    return rc;
}
