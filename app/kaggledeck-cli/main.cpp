// kaggledeck-cli: the same client and core, for scripts and terminals.
//
// Exit codes: 0 success, 1 usage error (unknown command or option, a missing or malformed
// argument), 2 credentials rejected or missing, 3 not found or permission denied, 4 network,
// timeout or server trouble, 5 any other failure, including input the checks refuse (bad kernel
// metadata, a missing code file, an unknown machine shape, a bad dataset slug or title: nothing
// is sent then), 130 interrupted with Ctrl+C (output-to-dataset keeps its partial files).
//
// Commands that use KaggleDeck's local state (push, persistence, output-to-dataset, chain) open
// the same store and data folder as the app (QStandardPaths::AppDataLocation of
// KaggleDeck/kaggledeck), or those of --data-dir DIR. runs, status, quota and logs never create
// them.

#include "cli.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QLoggingCategory>

#include <cstdio>

namespace {

/// The command name: the first argument that is neither an option nor --data-dir's value.
QString findCommandName(const QStringList &arguments)
{
    for (qsizetype i = 1; i < arguments.size(); ++i) {
        const QString &a = arguments.at(i);
        if (a == u"--data-dir" || a == u"-data-dir") {
            ++i;
            continue;
        }
        if (a == u"--")
            return i + 1 < arguments.size() ? arguments.at(i + 1) : QString();
        if (!a.startsWith(u'-'))
            return a;
    }
    return {};
}

void printHelp(const QString &text, bool toStdout)
{
    std::fputs(qPrintable(text), toStdout ? stdout : stderr);
}

} // namespace

int main(int argc, char **argv)
{
    // The app's names, so AppDataLocation is the app's data folder (the same store).
    QCoreApplication::setOrganizationName(QStringLiteral("KaggleDeck"));
    QCoreApplication::setApplicationName(QStringLiteral("kaggledeck"));
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationVersion(QStringLiteral(KD_VERSION));

    // The core's progress notes are for the app's log; the CLI prints its own lines. Warnings
    // stay, and QT_LOGGING_RULES still wins.
    QLoggingCategory::setFilterRules(
        QStringLiteral("kaggledeck.*.debug=false\nkaggledeck.*.info=false"));

    const QString commandName = findCommandName(app.arguments());
    const kdcli::Command *command = kdcli::findCommand(commandName);

    QCommandLineParser parser;
    parser.setOptionsAfterPositionalArgumentsMode(QCommandLineParser::ParseAsOptions);
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    const QCommandLineOption help(QStringList{QStringLiteral("h"), QStringLiteral("help")});
    const QCommandLineOption dataDir(QStringLiteral("data-dir"), QString(), QStringLiteral("DIR"));
    parser.addOption(help);
    parser.addOption(dataDir);
    // output-to-dataset has its own --version OWNER/SLUG.
    const bool versionFlag = !command || command->name != u"output-to-dataset";
    const QCommandLineOption version(QStringList{QStringLiteral("v"), QStringLiteral("version")});
    if (versionFlag)
        parser.addOption(version);
    if (command)
        parser.addOptions(command->options);

    if (!parser.parse(app.arguments())) {
        kdcli::err(parser.errorText());
        kdcli::info(command ? QStringLiteral("See: kaggledeck-cli %1 --help").arg(command->name)
                            : QStringLiteral("See: kaggledeck-cli --help"));
        return kdcli::Usage;
    }
    if (versionFlag && parser.isSet(version)) {
        kdcli::out(QStringLiteral("kaggledeck-cli " KD_VERSION));
        return kdcli::Ok;
    }
    QStringList args = parser.positionalArguments();
    if (!command) {
        if (!commandName.isEmpty()) {
            kdcli::err(QStringLiteral("unknown command: %1").arg(commandName));
            printHelp(kdcli::globalUsage(), false);
            return kdcli::Usage;
        }
        printHelp(kdcli::globalUsage(), parser.isSet(help));
        return parser.isSet(help) ? kdcli::Ok : kdcli::Usage;
    }
    if (parser.isSet(help)) {
        printHelp(command->help, true);
        return kdcli::Ok;
    }
    args.removeFirst(); // the command name
    if (command->name == u"help") {
        if (args.isEmpty()) {
            printHelp(kdcli::globalUsage(), true);
            return kdcli::Ok;
        }
        const kdcli::Command *topic = kdcli::findCommand(args.first());
        if (!topic) {
            kdcli::err(QStringLiteral("unknown command: %1").arg(args.first()));
            return kdcli::Usage;
        }
        printHelp(topic->help, true);
        return kdcli::Ok;
    }
    if (parser.isSet(dataDir) && parser.value(dataDir).trimmed().isEmpty()) {
        kdcli::err(QStringLiteral("--data-dir needs a folder"));
        return kdcli::Usage;
    }

    kdcli::Context context(&app, &parser, args, parser.value(dataDir));
    const QString &name = command->name;
    if (name == u"runs")
        return kdcli::runRuns(context);
    if (name == u"status")
        return kdcli::runStatus(context);
    if (name == u"quota")
        return kdcli::runQuota(context);
    if (name == u"logs")
        return kdcli::runLogs(context);
    if (name == u"push")
        return kdcli::runPush(context);
    if (name == u"persistence")
        return kdcli::runPersistence(context);
    if (name == u"output-to-dataset")
        return kdcli::runOutputToDataset(context);
    return kdcli::runChain(context);
}
