// kaggledeck-cli: the same client and core, for scripts and terminals.
//
// Exit codes: 0 success, 1 usage error, 2 credentials rejected or missing, 3 not found or
// permission denied, 4 network, timeout or server trouble, 5 any other failure.

#include "credentials.h"
#include "curlhttpclient.h"
#include "kaggleclient.h"
#include "logfollower.h"
#include "logformat.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>

namespace {

enum Exit { Ok = 0, Usage = 1, AuthFailed = 2, NotFound = 3, Network = 4, Failed = 5 };

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
    default:
        return Failed;
    }
}

void out(const QString &text)
{
    std::fputs(qPrintable(text + u'\n'), stdout);
}

void err(const QString &text)
{
    std::fputs(qPrintable(u"kaggledeck-cli: " + text + u'\n'), stderr);
}

const char *kUsage = R"(Usage: kaggledeck-cli [options] COMMAND [args]

Commands:
  runs                 List your kernels (all pages).
  status REF...        Latest session status of each kernel (owner/slug), fetched concurrently.
  quota                Weekly GPU and TPU quota.
  logs REF [-f]        The log of the kernel's latest session; -f follows a running one live.

Options:
  --json               Machine-readable output (status, quota).
  -h, --help           This help.
  -v, --version        Version.

Environment: KAGGLE_API_TOKEN, KAGGLE_USERNAME/KAGGLE_KEY, KAGGLE_CONFIG_DIR and
KAGGLE_API_ENDPOINT (e.g. http://127.0.0.1:7777 for kaggle-sim) work as for the kaggle CLI.
Exit codes: 0 ok, 1 usage, 2 credentials, 3 not found, 4 network/server, 5 other.
)";

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("kaggledeck-cli"));
    QCoreApplication::setApplicationVersion(QStringLiteral(KD_VERSION));

    QCommandLineParser parser;
    parser.setOptionsAfterPositionalArgumentsMode(QCommandLineParser::ParseAsOptions);
    const QCommandLineOption help({QStringLiteral("h"), QStringLiteral("help")}, {});
    const QCommandLineOption version({QStringLiteral("v"), QStringLiteral("version")}, {});
    const QCommandLineOption json(QStringLiteral("json"), {});
    const QCommandLineOption follow({QStringLiteral("f"), QStringLiteral("follow")}, {});
    parser.addOptions({help, version, json, follow});
    if (!parser.parse(app.arguments())) {
        err(parser.errorText());
        return Usage;
    }
    if (parser.isSet(version)) {
        out(QStringLiteral("kaggledeck-cli " KD_VERSION));
        return Ok;
    }
    const QStringList args = parser.positionalArguments();
    if (parser.isSet(help) || args.isEmpty()) {
        std::fputs(kUsage, parser.isSet(help) ? stdout : stderr);
        return parser.isSet(help) ? Ok : Usage;
    }
    const QString command = args.first();
    const bool asJson = parser.isSet(json);

    QList<kd::KernelRef> refs;
    if (command == u"status") {
        for (const QString &text : args.mid(1)) {
            const auto ref = kd::KernelRef::parse(text);
            if (!ref) {
                err(QStringLiteral("not a kernel reference: %1 (expected owner/slug)").arg(text));
                return Usage;
            }
            refs.append(*ref);
        }
        if (refs.isEmpty()) {
            err(QStringLiteral("status needs at least one owner/slug"));
            return Usage;
        }
    } else if (command == u"logs") {
        const auto ref = args.size() == 2 ? kd::KernelRef::parse(args.at(1)) : std::nullopt;
        if (!ref) {
            err(QStringLiteral("logs needs one owner/slug"));
            return Usage;
        }
        refs.append(*ref);
    } else if (command != u"runs" && command != u"quota") {
        err(QStringLiteral("unknown command: %1").arg(command));
        return Usage;
    }

    const QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    const kd::CredentialDiscovery discovery = kd::discoverCredentials();
    for (const QString &warning : discovery.warnings)
        std::fprintf(stderr, "%s\n", qPrintable(warning));

    kd::net::CurlHttpClient::Options netOptions;
    netOptions.userAgent = kd::KaggleClient::userAgent();
    kd::net::CurlHttpClient http(netOptions);
    kd::KaggleClient::Options options;
    options.endpoint = kd::KaggleClient::endpointFromEnvironment(env);
    kd::KaggleClient client(&http, {}, options);

    int rc = Ok;
    const auto fail = [&](const kd::ApiError &error) {
        err(error.message);
        for (const QString &detail : error.details)
            err(detail);
        rc = exitFor(error);
        app.quit();
    };

    const auto run = [&] {
        if (command == u"runs") {
            kd::ListKernelsRequest request;
            request.pageSize = 100;
            client.listAllKernels(request, &app, [&](kd::Result<QList<kd::KernelMetadata>> r) {
                if (!r)
                    return fail(r.error());
                for (const kd::KernelMetadata &k : *r)
                    out(k.ref + u'\t' + k.title + u'\t' + k.lastRunTime.toString(Qt::ISODate));
                app.quit();
            });
        } else if (command == u"status") {
            auto remaining = std::make_shared<int>(int(refs.size()));
            auto results = std::make_shared<QJsonArray>();
            for (const kd::KernelRef &ref : refs) {
                client.getKernelSessionStatus(
                    ref, &app, [&, ref, remaining, results](kd::Result<kd::KernelSessionStatus> s) {
                        QJsonObject o{{QStringLiteral("ref"), ref.toString()}};
                        if (s) {
                            o[QStringLiteral("status")] = kd::statusName(s->status);
                            if (!s->failureMessage.isEmpty())
                                o[QStringLiteral("failureMessage")] = s->failureMessage;
                            if (!asJson)
                                out(QStringLiteral("%1 has status \"%2\"")
                                        .arg(ref.toString(), kd::statusName(s->status)));
                        } else {
                            o[QStringLiteral("error")] = s.error().message;
                            err(ref.toString() + u": " + s.error().message);
                            rc = std::max(rc, exitFor(s.error()));
                        }
                        results->append(o);
                        if (--*remaining == 0) {
                            if (asJson)
                                out(QString::fromUtf8(QJsonDocument(*results).toJson()));
                            app.quit();
                        }
                    });
            }
        } else if (command == u"logs" && parser.isSet(follow)) {
            // The monitor's follower: SSE with replay dedupe, reconnects and polling fallback.
            auto *follower = new kd::LogFollower(
                &client, [] { return true; }, &app);
            QObject::connect(follower, &kd::LogFollower::events, &app,
                             [](kd::RunId, kd::SessionId, const QList<kd::LogEvent> &events) {
                                 for (const kd::LogEvent &e : events)
                                     std::fputs(e.data.toUtf8().constData(),
                                                e.stream == kd::LogEvent::Stream::Stderr ? stderr
                                                                                         : stdout);
                                 std::fflush(stdout);
                             });
            QObject::connect(follower, &kd::LogFollower::modeChanged, &app,
                             [&](kd::RunId, kd::LogFollower::Mode mode) {
                                 if (mode == kd::LogFollower::Mode::Done)
                                     app.quit();
                             });
            follower->follow(1, refs.first(), 1);
        } else if (command == u"logs") {
            client.listKernelSessionOutput(
                refs.first(), &app,
                [&](kd::Result<kd::KernelOutput> output) {
                    if (!output)
                        return fail(output.error());
                    const auto parsed = kd::parseLogArray(output->log.toUtf8());
                    if (!parsed)
                        return fail(parsed.error());
                    for (const kd::LogEvent &e : parsed->events)
                        std::fputs(e.data.toUtf8().constData(),
                                   e.stream == kd::LogEvent::Stream::Stderr ? stderr : stdout);
                    app.quit();
                },
                1, 1);
        } else {
            client.getQuota(&app, [&](kd::Result<kd::QuotaStatistics> q) {
                if (!q)
                    return fail(q.error());
                const auto row = [&](const char *name, const std::optional<kd::AcceleratorQuota> &a,
                                     QJsonObject &o) {
                    if (!a)
                        return;
                    const double used = a->timeUsedSeconds / 3600;
                    const double total = a->totalTimeAllowedSeconds / 3600;
                    const double reserved = a->timeReservedSeconds / 3600;
                    o[QString::fromLatin1(name)] = QJsonObject{
                        {QStringLiteral("usedHours"), used},
                        {QStringLiteral("reservedHours"), reserved},
                        {QStringLiteral("totalHours"), total},
                        {QStringLiteral("remainingHours"), std::max(0.0, total - used)}};
                    if (!asJson)
                        out(QStringLiteral(
                                "%1\tused %2 h\treserved %3 h\tremaining %4 h\ttotal %5 h")
                                .arg(QString::fromLatin1(name))
                                .arg(used, 0, 'f', 2)
                                .arg(reserved, 0, 'f', 2)
                                .arg(std::max(0.0, total - used), 0, 'f', 2)
                                .arg(total, 0, 'f', 2));
                };
                QJsonObject o;
                row("gpu", q->gpu, o);
                row("tpu", q->tpu, o);
                const QString refresh = q->quotaRefreshTime.toString(Qt::ISODate);
                o[QStringLiteral("refreshAt")] = refresh;
                if (asJson)
                    out(QString::fromUtf8(QJsonDocument(o).toJson()));
                else if (!q->gpu && !q->tpu)
                    out(QStringLiteral("No quota information available"));
                else
                    out(u"refreshAt\t" + refresh);
                app.quit();
            });
        }
    };

    client.authenticate(discovery, &app, [&](kd::Result<kd::Credentials> credentials) {
        if (!credentials)
            return fail(credentials.error());
        client.setCredentials(*credentials);
        run();
    });
    app.exec();
    return rc;
}
