#include "cli.h"

#include "curlhttpclient.h"
#include "kaggleclient.h"
#include "metadata.h"
#include "store.h"

#include <QDir>
#include <QProcessEnvironment>
#include <QStandardPaths>

#include <cstdio>
#include <unistd.h>

namespace kdcli {

int exitFor(const kd::ApiError &error)
{
    switch (error.kind) {
    case kd::ApiError::Kind::Auth:
        return AuthFailed;
    case kd::ApiError::Kind::NotFound:
        return NotFound;
    case kd::ApiError::Kind::Network:
    case kd::ApiError::Kind::Timeout:
    case kd::ApiError::Kind::Server:
    case kd::ApiError::Kind::RateLimited:
        return Network;
    case kd::ApiError::Kind::Cancelled:
        return Interrupted;
    default:
        return Failed;
    }
}

void out(const QString &text)
{
    std::fputs(qPrintable(text + u'\n'), stdout);
    std::fflush(stdout);
}

void err(const QString &text)
{
    std::fputs(qPrintable(u"kaggledeck-cli: " + text + u'\n'), stderr);
}

void info(const QString &text)
{
    std::fputs(qPrintable(text + u'\n'), stderr);
}

void printError(const kd::ApiError &error)
{
    err(error.message);
    for (const QString &detail : error.details)
        info(detail);
}

// --- commands and their help ----------------------------------------------------------------

namespace {

QCommandLineOption flag(const QString &name)
{
    return QCommandLineOption(name);
}

QCommandLineOption valued(const QString &name, const QString &valueName)
{
    return QCommandLineOption(name, QString(), valueName);
}

QList<Command> makeCommands()
{
    const QString json = QStringLiteral("json");
    QList<Command> list;
    list << Command{QStringLiteral("runs"),
                    QStringLiteral(R"(Usage: kaggledeck-cli runs

Lists your kernels (every page): ref, title and last run time, one per line.
)"),
                    {}};
    list << Command{QStringLiteral("status"),
                    QStringLiteral(R"(Usage: kaggledeck-cli status REF... [--json]

The latest session status of each kernel (owner/slug), fetched concurrently.

Options:
  --json    One JSON array: {"ref", "status", "failureMessage"} or {"ref", "error"}.

The exit code is the worst one among the kernels.
)"),
                    {flag(json)}};
    list << Command{QStringLiteral("quota"),
                    QStringLiteral(R"(Usage: kaggledeck-cli quota [--json]

Weekly GPU and TPU quota: used, reserved, remaining and total hours, and the refresh time.

Options:
  --json    One JSON object.
)"),
                    {flag(json)}};
    list << Command{
        QStringLiteral("logs"),
        QStringLiteral(R"(Usage: kaggledeck-cli logs REF [-f]

The log of the kernel's latest session; stderr lines go to stderr.

Options:
  -f, --follow    Follow a running session live until it ends.
)"),
        {QCommandLineOption(QStringList{QStringLiteral("f"), QStringLiteral("follow")})}};
    list << Command{
        QStringLiteral("push"),
        QStringLiteral(
            R"(Usage: kaggledeck-cli push DIR [--accelerator SHAPE] [--quick-save] [--queue] [--wait]

Commits a kernel folder (kernel-metadata.json plus its code file), as
`kaggle kernels push -p DIR` does. The folder is checked first; each problem is printed as
"field: message" and nothing is pushed. Before the push the quota effect is printed
("This run may use up to 12 h of GPU; 29 h remain until ..."). The kernel is then watched
in KaggleDeck's local store, like a commit from the app. When the kernel's persistence mode
keeps files, the push lists the kernel in its own kernel_sources.

Options:
  --accelerator SHAPE  Machine shape instead of the metadata's (see below), or "cpu" for
                       none.
  --quick-save         Quick Save (saves the code without running it) instead of Save & Run All.
  --queue              When Kaggle answers that the GPU concurrency limit is reached, keep the
                       commit in KaggleDeck's commit queue (the same one the app uses) instead
                       of failing. The queue pushes it when a GPU slot frees up, while the app
                       (or a kaggledeck-cli process holding the deck, e.g. `push --wait` or
                       `chain watch`) runs.
  --wait               After the push (or the queued dispatch), poll until the new session is
                       running or over, printing each status change.

Exit codes: 5 when the folder or the options fail the checks (nothing is sent) or Kaggle
refuses the push; 0 when queued with --queue.

Machine shapes: %1.
)")
            .arg(kd::knownMachineShapes().join(QStringLiteral(", "))),
        {valued(QStringLiteral("accelerator"), QStringLiteral("SHAPE")),
         flag(QStringLiteral("quick-save")), flag(QStringLiteral("queue")),
         flag(QStringLiteral("wait"))}};
    list << Command{QStringLiteral("persistence"),
                    QStringLiteral(R"(Usage: kaggledeck-cli persistence REF [MODE]

Shows (without MODE) or sets the persistence mode of a kernel in KaggleDeck's local store,
the same setting as the app's Persistence dialog. Setting a mode on a kernel that is not
watched yet checks it on Kaggle and watches it.

Modes:
  none              No persistence.
  files             Files only: every commit of the kernel adds the kernel itself to its
                    kernel_sources, so the previous output is mounted at /kaggle/input/<slug>,
                    and the app mirrors the outputs locally when a run ends.
  variables         Variables only: NOT possible for committed runs (every committed run
                    starts a fresh process on a new machine); stored for your reference only.
  variables_files   Variables & Files: the files part as above; the variables part is not
                    possible for committed runs.

Kaggle itself applies these modes only to interactive sessions in its notebook editor, and
its public API cannot set them.
)"),
                    {}};
    list << Command{QStringLiteral("output-to-dataset"),
                    QStringLiteral(R"(Usage: kaggledeck-cli output-to-dataset REF [--files GLOB]...
           [--new SLUG --title TITLE [--license L] [--public] | --version OWNER/SLUG --notes TEXT]
           [--attach KERNEL_REF] [--work-dir DIR]

Copies the outputs of the kernel's latest finished session into a new dataset, or a new
version of an existing one: lists the outputs (all pages), downloads the chosen files
(resumable .part files, hostile names refused), uploads them (resumable), creates the dataset
or version and waits until Kaggle reports it READY. Progress (bytes and ETA) goes to stderr.
Ctrl+C cancels cleanly: the partial downloads stay in the work folder, and running the same
command with --work-dir on that folder resumes. The choices are remembered per source kernel:
the target, title, licence and file pattern are reused when their options are omitted.

Options:
  --files GLOB         Only these outputs (repeatable). * and ? stay in one folder, ** crosses
                       folders. Default: the remembered pattern, else every file.
  --new SLUG           Create the dataset <your user>/SLUG.
  --title TITLE        Its title (6 to 50 characters).
  --license L          Its licence (default: remembered, else CC0-1.0).
  --public             Make it public (it is private otherwise; privacy is never remembered).
  --version OWNER/SLUG Add a new version to this existing dataset.
  --notes TEXT         The version notes (default: "Output of REF").
  --attach KERNEL_REF  Then add the dataset to that kernel's dataset_sources and commit it.
  --work-dir DIR       The download folder (default: <data dir>/transfers/...); an earlier
                       attempt's folder resumes it.

Exit codes: 5 when the settings fail the checks (nothing is sent) or the transfer fails;
130 when cancelled with Ctrl+C.
)"),
                    {valued(QStringLiteral("files"), QStringLiteral("GLOB")),
                     valued(QStringLiteral("new"), QStringLiteral("SLUG")),
                     valued(QStringLiteral("title"), QStringLiteral("TITLE")),
                     valued(QStringLiteral("license"), QStringLiteral("L")),
                     flag(QStringLiteral("public")),
                     valued(QStringLiteral("version"), QStringLiteral("OWNER/SLUG")),
                     valued(QStringLiteral("notes"), QStringLiteral("TEXT")),
                     valued(QStringLiteral("attach"), QStringLiteral("KERNEL_REF")),
                     valued(QStringLiteral("work-dir"), QStringLiteral("DIR"))}};
    list << Command{QStringLiteral("chain"),
                    QStringLiteral(R"(Usage: kaggledeck-cli chain ACTION [ID] [options]

Chains of runs (the epoch-by-epoch strategy), shared with the app's chain view.

Actions:
  list                 Every chain: id, state, kernel, steps, name.
  show ID              The chain's settings, its steps with their states, the total GPU hours
                       and the chain log.
  create --kernel REF [--name N] [--handoff kernel_sources|dataset] [--checkpoint GLOB]
         [--max-runs N] [--metric NAME --patience K] [--no-quota-rule]
                       Creates an idle chain (and watches the kernel). --checkpoint is the
                       output every step must leave (default "*"); --max-runs defaults to 3;
                       the chain stops on an error, after N runs, when NAME has not improved
                       for K runs, and (unless --no-quota-rule) when the quota forecast cannot
                       cover another run.
  start ID             Commits the first step, then returns.
  pause ID             Lets the current step finish and starts no next one.
  resume ID            Carries on a paused chain.
  abort ID             Stops after the current step (Kaggle cannot cancel a run).
  watch ID             Runs the autopilot and prints the chain's log lines as they happen,
                       until the chain is done, stopped, aborted or paused.

The autopilot (checking the checkpoint, the handoff, committing the next step) only advances
while a process holding the deck runs: the KaggleDeck app, or `kaggledeck-cli chain watch`.
`start` and `resume` return once the step is committed; keep the app open or run `watch`.
`watch` exits 0 when the chain is done, paused or aborted, 5 when it stopped (an error, a
missing checkpoint, a failed handoff) and 1 for a chain that has not been started.
)"),
                    {valued(QStringLiteral("kernel"), QStringLiteral("REF")),
                     valued(QStringLiteral("name"), QStringLiteral("N")),
                     valued(QStringLiteral("handoff"), QStringLiteral("MODE")),
                     valued(QStringLiteral("checkpoint"), QStringLiteral("GLOB")),
                     valued(QStringLiteral("max-runs"), QStringLiteral("N")),
                     valued(QStringLiteral("metric"), QStringLiteral("NAME")),
                     valued(QStringLiteral("patience"), QStringLiteral("K")),
                     flag(QStringLiteral("no-quota-rule"))}};
    list << Command{QStringLiteral("help"),
                    QStringLiteral(R"(Usage: kaggledeck-cli help [COMMAND]

The general usage, or the help of one command (the same as COMMAND --help).
)"),
                    {}};
    return list;
}

} // namespace

const QList<Command> &commands()
{
    static const QList<Command> list = makeCommands();
    return list;
}

const Command *findCommand(const QString &name)
{
    for (const Command &c : commands()) {
        if (c.name == name)
            return &c;
    }
    return nullptr;
}

QString globalUsage()
{
    return QStringLiteral(R"(Usage: kaggledeck-cli [--data-dir DIR] COMMAND [options] [args]

Commands:
  runs                    List your kernels (all pages).
  status REF... [--json]  Latest session status of each kernel (owner/slug), fetched
                          concurrently.
  quota [--json]          Weekly GPU and TPU quota.
  logs REF [-f]           The log of the kernel's latest session; -f follows a running one.
  push DIR                Commit a kernel folder (like `kaggle kernels push -p DIR`);
                          --accelerator SHAPE, --quick-save, --queue, --wait.
  persistence REF [MODE]  Show or set a kernel's persistence mode (none, files, variables,
                          variables_files).
  output-to-dataset REF   Copy a finished run's outputs into a new dataset (--new SLUG
                          --title T) or a new version (--version OWNER/SLUG --notes T).
  chain ACTION [ID]       Chains of runs: list, show, create, start, pause, resume, abort,
                          watch (the autopilot runs only while `chain watch` or the app runs).
  help [COMMAND]          This text, or one command's help (also COMMAND --help).

Options:
  --data-dir DIR          KaggleDeck's local store and data folder (default: the app's,
                          e.g. ~/.local/share/KaggleDeck/kaggledeck); runs, status, quota and
                          logs do not use it.
  -h, --help              This help.
  -v, --version           Version.

Environment: KAGGLE_API_TOKEN, KAGGLE_USERNAME/KAGGLE_KEY, KAGGLE_CONFIG_DIR and
KAGGLE_API_ENDPOINT (e.g. http://127.0.0.1:7777 for kaggle-sim) work as for the kaggle CLI.
Exit codes: 0 ok, 1 usage, 2 credentials, 3 not found, 4 network/server, 5 other failure
(including input the checks refuse, e.g. bad kernel metadata, an unknown machine shape or a
bad dataset slug: nothing is sent then), 130 interrupted (Ctrl+C).
)");
}

// --- context --------------------------------------------------------------------------------

Context::Context(QCoreApplication *app, const QCommandLineParser *parser, QStringList args,
                 QString dataDirOverride)
    : m_app(app), m_parser(parser), m_args(std::move(args)),
      m_dataDirOverride(std::move(dataDirOverride))
{}

Context::~Context()
{
    // The client first: its callbacks may refer to objects of the command.
    m_client.reset();
    m_http.reset();
    m_store.reset();
}

QString Context::dataDir() const
{
    if (!m_dataDirOverride.isEmpty())
        return QDir(m_dataDirOverride).absolutePath();
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
}

QString Context::storePath() const
{
    if (m_dataDirOverride.isEmpty())
        return kd::Store::defaultPath();
    return QDir(dataDir()).filePath(QStringLiteral("kaggledeck.sqlite"));
}

kd::Store *Context::store()
{
    if (m_store || m_storeFailed)
        return m_store.get();
    const QString path = storePath();
    if (path.isEmpty()) {
        m_storeFailed = true;
        err(QStringLiteral("there is no writable data directory for KaggleDeck's store; use "
                           "--data-dir DIR"));
        return nullptr;
    }
    auto store = kd::Store::open(path);
    if (!store) {
        m_storeFailed = true;
        err(QStringLiteral("cannot open KaggleDeck's store: %1").arg(store.error().message));
        return nullptr;
    }
    m_store = std::move(store).value();
    return m_store.get();
}

kd::KaggleClient *Context::client()
{
    if (!m_client) {
        kd::net::CurlHttpClient::Options netOptions;
        netOptions.userAgent = kd::KaggleClient::userAgent();
        m_http = std::make_unique<kd::net::CurlHttpClient>(netOptions);
        kd::KaggleClient::Options options;
        options.endpoint =
            kd::KaggleClient::endpointFromEnvironment(QProcessEnvironment::systemEnvironment());
        m_client = std::make_unique<kd::KaggleClient>(m_http.get(), kd::Credentials{}, options);
    }
    return m_client.get();
}

void Context::authenticate(std::function<void()> then)
{
    const kd::CredentialDiscovery discovery = kd::discoverCredentials();
    for (const QString &warning : discovery.warnings)
        info(warning);
    client()->authenticate(discovery, m_app,
                           [this, then = std::move(then)](kd::Result<kd::Credentials> r) {
                               if (!r)
                                   return fail(r.error());
                               m_client->setCredentials(*r);
                               then();
                           });
}

kd::MonitorSettings Context::monitorSettings(bool followLogs, double pollSeconds)
{
    kd::MonitorSettings s;
    s.followLogs = followLogs;
    if (pollSeconds > 0) {
        s.pollQueuedSeconds = pollSeconds;
        s.pollRunningSeconds = pollSeconds;
    }
    return s;
}

void Context::finish(int code)
{
    if (m_finished)
        return;
    m_finished = true;
    m_rc = code;
    m_app->exit(code);
}

void Context::fail(const kd::ApiError &error)
{
    printError(error);
    finish(exitFor(error));
}

int Context::exec()
{
    if (!m_finished)
        m_app->exec();
    return m_rc;
}

// --- progress -------------------------------------------------------------------------------

QString formatBytes(qint64 bytes)
{
    if (bytes < 0)
        return QStringLiteral("?");
    constexpr double k = 1024;
    if (bytes < 1024)
        return QStringLiteral("%1 B").arg(bytes);
    if (bytes < k * k)
        return QStringLiteral("%1 KB").arg(bytes / k, 0, 'f', 1);
    if (bytes < k * k * k)
        return QStringLiteral("%1 MB").arg(bytes / (k * k), 0, 'f', 1);
    return QStringLiteral("%1 GB").arg(bytes / (k * k * k), 0, 'f', 2);
}

QString formatDuration(int seconds)
{
    if (seconds < 60)
        return QStringLiteral("%1s").arg(seconds);
    if (seconds < 3600)
        return QStringLiteral("%1m%2s").arg(seconds / 60).arg(seconds % 60, 2, 10, QChar(u'0'));
    return QStringLiteral("%1h%2m")
        .arg(seconds / 3600)
        .arg((seconds % 3600) / 60, 2, 10, QChar(u'0'));
}

ProgressPrinter::ProgressPrinter() : m_tty(::isatty(::fileno(stderr)) != 0)
{
    m_clock.start();
}

void ProgressPrinter::update(qint64 done, qint64 total, int etaSeconds, const QString &text)
{
    QString line = text.isEmpty() ? QStringLiteral("transfer") : text;
    line += QStringLiteral(" | ") + formatBytes(done);
    if (total > 0)
        line += QStringLiteral(" / %1 (%2%)")
                    .arg(formatBytes(total))
                    .arg(int(100.0 * double(done) / double(total)));
    line += etaSeconds >= 0 ? QStringLiteral(", ETA %1").arg(formatDuration(etaSeconds))
                            : QStringLiteral(", ETA unknown");
    const qint64 now = m_clock.elapsed();
    if (m_tty) {
        std::fputs(qPrintable(u'\r' + line + QStringLiteral("\x1b[K")), stderr);
        std::fflush(stderr);
        m_open = true;
        return;
    }
    const bool newPhase = text != m_lastText;
    const bool complete = total > 0 && done >= total;
    if (!newPhase && !complete && m_lastPrintMs >= 0 && now - m_lastPrintMs < 1000)
        return;
    m_lastText = text;
    m_lastPrintMs = now;
    info(line);
}

void ProgressPrinter::line(const QString &text)
{
    finish();
    info(text);
}

void ProgressPrinter::finish()
{
    if (m_open) {
        std::fputs("\n", stderr);
        m_open = false;
    }
}

} // namespace kdcli
