#pragma once

// Shared pieces of kaggledeck-cli: exit codes, output helpers, and the context a command runs
// in (the parsed command line, the client, the local store the GUI uses).

#include "apierror.h"
#include "credentials.h"
#include "runmonitor.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QString>
#include <QStringList>

#include <functional>
#include <memory>

namespace kd {
class KaggleClient;
class Store;
namespace net {
class CurlHttpClient;
}
} // namespace kd

namespace kdcli {

/// Documented in the usage text and at the top of main.cpp.
enum Exit {
    Ok = 0,
    Usage = 1,
    AuthFailed = 2,
    NotFound = 3,
    Network = 4,
    Failed = 5,
    Interrupted = 130,
};

int exitFor(const kd::ApiError &error);

/// A line on stdout.
void out(const QString &text);
/// "kaggledeck-cli: text" on stderr.
void err(const QString &text);
/// A plain line on stderr (progress, steps, notes).
void info(const QString &text);
/// The message, then one detail a line ("field: message").
void printError(const kd::ApiError &error);

/// One command's description: what `COMMAND --help` prints and the options it accepts.
struct Command
{
    QString name;
    QString help;
    QList<QCommandLineOption> options;
};
const QList<Command> &commands();
const Command *findCommand(const QString &name);
QString globalUsage();

/// Where a command runs: the parsed command line, the client and the local store.
class Context
{
public:
    Context(QCoreApplication *app, const QCommandLineParser *parser, QStringList args,
            QString dataDirOverride);
    ~Context();
    Context(const Context &) = delete;
    Context &operator=(const Context &) = delete;

    QCoreApplication *app() const { return m_app; }
    const QCommandLineParser &parser() const { return *m_parser; }
    /// The positional arguments after the command name.
    const QStringList &args() const { return m_args; }
    bool isSet(const QString &option) const { return m_parser->isSet(option); }
    QString value(const QString &option) const { return m_parser->value(option); }

    /// The GUI's data folder (QStandardPaths AppDataLocation of KaggleDeck/kaggledeck), or the
    /// --data-dir override.
    QString dataDir() const;
    /// `<dataDir>/kaggledeck.sqlite`, the same file as kd::Store::defaultPath().
    QString storePath() const;
    /// Opens the store on first use (creating it when missing); null after printing why not.
    kd::Store *store();

    /// The client (made on first use, without credentials until authenticate()).
    kd::KaggleClient *client();
    /// Finds the credentials as the kaggle CLI does, checks them, then calls `then`. On
    /// failure prints the error and ends with its exit code.
    void authenticate(std::function<void()> then);

    /// Monitor settings for a CLI process: no log streams unless asked; `pollSeconds` > 0
    /// polls queued and running sessions that often (a process waiting for one run).
    static kd::MonitorSettings monitorSettings(bool followLogs, double pollSeconds = 0);

    /// Ends the command with `code` (the event loop stops, or is never entered).
    void finish(int code);
    /// Prints the error and ends with its exit code.
    void fail(const kd::ApiError &error);
    /// Runs the event loop until finish(); returns the exit code.
    int exec();
    bool finished() const { return m_finished; }

private:
    QCoreApplication *m_app;
    const QCommandLineParser *m_parser;
    QStringList m_args;
    QString m_dataDirOverride;
    std::unique_ptr<kd::Store> m_store;
    bool m_storeFailed = false;
    std::unique_ptr<kd::net::CurlHttpClient> m_http;
    std::unique_ptr<kd::KaggleClient> m_client;
    bool m_finished = false;
    int m_rc = Ok;
};

/// Byte progress on stderr: one updating line on a terminal, plain lines (at most one a
/// second per phase) otherwise.
class ProgressPrinter
{
public:
    ProgressPrinter();
    void update(qint64 done, qint64 total, int etaSeconds, const QString &text);
    /// A line that must not be overwritten (a step, a warning).
    void line(const QString &text);
    /// Ends the updating line.
    void finish();

private:
    bool m_tty;
    bool m_open = false;
    QString m_lastText;
    QElapsedTimer m_clock;
    qint64 m_lastPrintMs = -1;
};

QString formatBytes(qint64 bytes);
QString formatDuration(int seconds);

// The commands; each returns the exit code.
int runRuns(Context &c);
int runStatus(Context &c);
int runQuota(Context &c);
int runLogs(Context &c);
int runPush(Context &c);
int runPersistence(Context &c);
int runOutputToDataset(Context &c);
int runChain(Context &c);

} // namespace kdcli
