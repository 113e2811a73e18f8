// Monitoring cost: 200 runs of one account followed for 10 simulated minutes through a real
// Deck (RunMonitor + LogFollower + RunLog + Store + alerts + models) over libcurl and loopback.
// The simulator runs at KD_BENCH_SPEED (default 20) virtual seconds per real second and every
// interval of the monitor is divided by the same factor, so 10 simulated minutes take 30 s.
//
// Printed: requests by path (sent and answered) against the ideal for the schedule, computed
// from the kernels' true timelines; the busiest simulated minute against the request budget;
// the CPU seconds per hour of simulated monitoring. Three runs:
//  1. the app's transport (6 requests in flight per host; KD_BENCH_MAX_PER_HOST overrides) and
//     budget, the simulator as a separate kaggle-sim process: client CPU is this process's;
//  2. the same with the simulator in-process, cross-checked with Simulator::requests();
//  3. in-process with neither the transport nor the budget limiting: the schedule alone.
// In-process, the client's CPU is the main thread's (the simulator has its own threads).
// Figures are printed, never asserted; the assertions check that every run was monitored.

#include "curlhttpclient.h"
#include "deck.h"
#include "kaggleclient.h"
#include "logfollower.h"
#include "runmonitor.h"
#include "simulator.h"
#include "store.h"

#include <QElapsedTimer>
#include <QFile>
#include <QLoggingCategory>
#include <QMap>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

using namespace kd;

namespace kd {
namespace {

constexpr int kKernels = 200;
constexpr int kRunningAll = 60;     // running for the whole window
constexpr int kQueuedThenRun = 40;  // queued at the start, running later
constexpr int kFinishing = 50;      // running, then complete or error inside the window
constexpr int kCompleteBefore = 50; // finished before monitoring starts
static_assert(kRunningAll + kQueuedThenRun + kFinishing + kCompleteBefore == kKernels);
constexpr double kWindowSeconds = 600;  // simulated
constexpr double kSseIdleSeconds = 180; // Kaggle's load balancer, simulated seconds
constexpr double kLogEventsPerSecond = 0.5;
constexpr double kQuietLogEventsPerSecond = 0.001; // one line per ~17 simulated minutes
const QString kUser = QStringLiteral("bench");
const QString kKey = QStringLiteral("bench-key-000000");

double benchSpeed()
{
    const int speed = qEnvironmentVariableIntValue("KD_BENCH_SPEED");
    return speed > 0 ? speed : 20;
}

/// The app's transport: CurlHttpClientOptions::maxPerHost.
int appMaxPerHost()
{
    const int n = qEnvironmentVariableIntValue("KD_BENCH_MAX_PER_HOST");
    return n > 0 ? n : net::CurlHttpClientOptions{}.maxPerHost;
}

/// The monitor counts its budget over a real minute, which is `speed` simulated ones.
int budgetPerRealMinute(double speed, int perSimulatedMinute)
{
    return int(perSimulatedMinute * speed);
}

/// One kernel's planned first session, in simulated seconds since the simulator started.
struct Plan
{
    enum class Kind { RunningAll, QueuedThenRunning, Finishing, CompleteBefore };
    Kind kind = Kind::RunningAll;
    QString slug;
    double startAt = 0;
    double queueSeconds = 0;
    double runSeconds = 0;
    bool error = false;
    bool gpu = false;
    double logRate = kLogEventsPerSecond;
    const char *style = "hf";

    double runningAt() const { return startAt + queueSeconds; }
    double endAt() const { return startAt + queueSeconds + runSeconds; }
    bool quiet() const { return logRate < kLogEventsPerSecond; }
    /// Status name at simulated time t ("" before the session is queued).
    QString statusAt(double t) const
    {
        if (t < startAt)
            return {};
        if (t < runningAt())
            return QStringLiteral("QUEUED");
        if (t < endAt())
            return QStringLiteral("RUNNING");
        return error ? QStringLiteral("ERROR") : QStringLiteral("COMPLETE");
    }
};

/// The window starts when the monitor starts; the simulator clock has run a little by then
/// (start-up and import), so every timeline leaves a margin of `lead` simulated seconds.
std::vector<Plan> makePlans(double lead)
{
    static const char *const styles[] = {"hf", "tqdm", "keras", "plain"};
    std::vector<Plan> plans;
    int n = 0;
    const auto add = [&](Plan::Kind kind, double startAt, double queue, double run) {
        Plan p;
        p.kind = kind;
        p.slug = QStringLiteral("kernel-%1").arg(n, 3, 10, QLatin1Char('0'));
        p.startAt = startAt;
        p.queueSeconds = queue;
        p.runSeconds = run;
        p.gpu = n % 3 != 0;
        p.style = styles[n % 4];
        plans.push_back(p);
        ++n;
        return &plans.back();
    };
    for (int i = 0; i < kRunningAll; ++i) {
        Plan *p = add(Plan::Kind::RunningAll, -(300 + 20 * i), 10, 20'000);
        if (i % 10 == 0)
            p->logRate = kQuietLogEventsPerSecond; // quiet: the idle drop forces reconnects
    }
    for (int i = 0; i < kQueuedThenRun; ++i)
        add(Plan::Kind::QueuedThenRunning, 0, lead + 60 + 12 * i, 20'000);
    for (int i = 0; i < kFinishing; ++i) {
        // Started long ago; ends 70..560 simulated seconds into the window.
        Plan *p = add(Plan::Kind::Finishing, -600, 10, 590 + lead + 70 + 10 * i);
        p->error = i % 5 == 0;
    }
    for (int i = 0; i < kCompleteBefore; ++i)
        add(Plan::Kind::CompleteBefore, -7200 - 60 * i, 5, 300);
    return plans;
}

std::string scenarioJson(const std::vector<Plan> &plans, double speed)
{
    std::string kernels;
    for (const Plan &p : plans) {
        if (!kernels.empty())
            kernels += ",\n";
        kernels += R"({"ref":"bench/)" + p.slug.toStdString() + R"(","title":"Bench )" +
                   p.slug.toStdString() + R"(","machineShape":")" + (p.gpu ? "NvidiaTeslaT4" : "") +
                   R"(","startAt":)" + std::to_string(p.startAt) + R"(,"queueSeconds":)" +
                   std::to_string(p.queueSeconds) + R"(,"runSeconds":)" +
                   std::to_string(p.runSeconds) + R"(,"outcome":")" +
                   (p.error ? "error" : "complete") + R"(",)" +
                   (p.error ? R"("failureMessage":"CUDA out of memory",)" : "") +
                   R"("epochs":20,"stepsPerEpoch":2000,"logStyle":")" + p.style +
                   R"(","logEventsPerSecond":)" + std::to_string(p.logRate) +
                   R"(,"timeoutSeconds":43200,"checkpointBytes":1024})";
    }
    return R"({"name":"bench-monitor","options":{"startTime":"now","maxGpuSessions":1000,)"
           R"("staleStatusSeconds":0,"sseIdleTimeoutSeconds":)" +
           std::to_string(kSseIdleSeconds / speed) +
           R"(},"accounts":[{"username":"bench","key":"bench-key-000000"}],)"
           R"("quota":{"gpu":{"usedSeconds":3600,"totalSeconds":108000},)"
           R"("tpu":{"usedSeconds":0,"totalSeconds":72000}},"kernels":[)" +
           kernels + "]}";
}

/// Forwards to the real transport and records every request (path and time) and every
/// answer, so the counts are available when the simulator runs in another process.
class CountingHttpClient final : public net::HttpClient
{
public:
    struct Record
    {
        qint64 ms = 0; ///< since the counter was created
        QString path;
    };

    explicit CountingHttpClient(net::HttpClient *inner) : m_inner(inner) { m_clock.start(); }

    net::RequestId send(net::HttpRequest request, net::HttpCallbacks callbacks) override
    {
        m_records.push_back({m_clock.elapsed(), request.url.path()});
        callbacks.onFinished =
            [this, path = request.url.path(),
             finished = std::move(callbacks.onFinished)](const net::HttpResponse &response) {
                if (response.status != 0)
                    m_answers.push_back({m_clock.elapsed(), path});
                if (finished)
                    finished(response);
            };
        return m_inner->send(std::move(request), std::move(callbacks));
    }
    void cancel(net::RequestId id) override { m_inner->cancel(id); }
    int pendingCount() const override { return m_inner->pendingCount(); }

    const std::vector<Record> &records() const { return m_records; }
    /// Requests that got a response (a stream counts when it ends).
    const std::vector<Record> &answers() const { return m_answers; }
    qint64 elapsedMs() const { return m_clock.elapsed(); }

private:
    net::HttpClient *m_inner;
    QElapsedTimer m_clock;
    std::vector<Record> m_records;
    std::vector<Record> m_answers;
};

/// Request category of a path: the RPC method, or "logs/stream".
QString category(const QString &path)
{
    if (path.contains(u"/logs/stream/"))
        return QStringLiteral("logs/stream");
    return path.mid(path.lastIndexOf(u'/') + 1);
}

double cpuSeconds(int who)
{
    rusage u{};
    getrusage(who, &u);
    return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/// User + system CPU seconds of another process, from /proc/<pid>/stat.
double processCpuSeconds(qint64 pid)
{
    QFile f(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    const QByteArray stat = f.readAll();
    const QList<QByteArray> fields = stat.mid(stat.lastIndexOf(')') + 2).split(' ');
    if (fields.size() < 13)
        return -1;
    // After the command: state is field 3, utime 14, stime 15.
    return double(fields[11].toLongLong() + fields[12].toLongLong()) / double(sysconf(_SC_CLK_TCK));
}

double overlap(double from, double to, double a, double b)
{
    return std::max(0.0, std::min(to, b) - std::max(from, a));
}

/// What an ideal client following the schedule sends in the simulated window [a, b].
struct Ideal
{
    double status = 0;
    double quota = 0;
    double streams = 0;
    double storedLogs = 0;
    int stateChanges = 0;
    double total() const { return status + quota + streams + storedLogs; }
};

Ideal idealFor(const std::vector<Plan> &plans, double a, double b, double speed,
               const MonitorSettings &unscaled)
{
    Ideal ideal;
    const double idleReal = kSseIdleSeconds / speed;
    for (const Plan &p : plans) {
        const double queued = overlap(p.startAt, p.runningAt(), a, b);
        const double running = overlap(p.runningAt(), p.endAt(), a, b);
        const bool finishes = p.endAt() > a && p.endAt() <= b;
        // The first sighting, then one poll per interval of each state, then the poll that
        // sees the end.
        ideal.status += 1 + std::floor(running / unscaled.pollRunningSeconds) +
                        std::floor(queued / unscaled.pollQueuedSeconds) + (finishes ? 1 : 0);
        if (running > 0) {
            ideal.streams += 1;
            if (p.quiet()) // each idle drop is reconnected once
                ideal.streams += std::floor(running / speed / idleReal);
        }
        if (p.endAt() <= b)
            ideal.storedLogs += 1; // the stored log of a finished session, once
        ideal.stateChanges += (p.runningAt() > a && p.runningAt() <= b) + finishes;
    }
    // One at the start, one per quota interval, and one after each state change.
    ideal.quota = 1 + std::floor((b - a) / unscaled.quotaPollSeconds) + ideal.stateChanges;
    return ideal;
}

/// A kaggle-sim process on a free loopback port.
class SimProcess
{
public:
    bool start(const QString &program, const QString &scenarioPath, double speed)
    {
        m_process.setProgram(program);
        m_process.setArguments({QStringLiteral("--port"), QStringLiteral("0"),
                                QStringLiteral("--scenario"), scenarioPath,
                                QStringLiteral("--speed"), QString::number(speed),
                                QStringLiteral("--seed"), QStringLiteral("7"),
                                QStringLiteral("--threads"), QStringLiteral("512")});
        m_process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        // Should this benchmark crash, the simulator must not outlive it.
        m_process.setChildProcessModifier([] { prctl(PR_SET_PDEATHSIG, SIGTERM); });
        m_process.start();
        if (!m_process.waitForStarted(10'000))
            return false;
        QByteArray out;
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < 20'000) {
            m_process.waitForReadyRead(1000);
            out += m_process.readAllStandardOutput();
            const qsizetype at = out.indexOf("listening on ");
            const qsizetype end = at < 0 ? -1 : out.indexOf('\n', at);
            if (end > 0) {
                m_started.start();
                m_endpoint = QString::fromLatin1(out.mid(at + 13, end - at - 13)).trimmed();
                return true;
            }
            if (m_process.state() != QProcess::Running)
                return false;
        }
        return false;
    }
    void stop()
    {
        if (m_process.state() == QProcess::NotRunning)
            return;
        m_process.terminate();
        if (!m_process.waitForFinished(10'000))
            m_process.kill();
        m_process.waitForFinished(5000);
    }
    ~SimProcess() { stop(); }

    QString endpoint() const { return m_endpoint; }
    qint64 pid() const { return m_process.processId(); }
    /// Simulated seconds since the server came up (the virtual clock starts at construction,
    /// a few milliseconds earlier).
    double now(double speed) const { return double(m_started.nsecsElapsed()) / 1e9 * speed; }

private:
    QProcess m_process;
    QString m_endpoint;
    QElapsedTimer m_started;
};

} // namespace
} // namespace kd

class BenchMonitor : public QObject
{
    Q_OBJECT

    struct Measured
    {
        int maxPerHost = 0;
        QMap<QString, int> byCategory; ///< monitoring window only
        QMap<QString, int> answeredByCategory;
        QMap<QString, int> byPath;
        int importRequests = 0;
        int busiestSimMinute = 0;
        double windowStart = 0; ///< simulated seconds
        double windowEnd = 0;
        double clientCpu = 0;
        double simCpu = -1;
        double wallSeconds = 0;
        qint64 logEvents = 0;
        QHash<RunId, qint64> eventsByRun;
        int budgetPerMinute = 0;    ///< 0: not limited
        int runsToFollow = 0;       ///< chatty runs running for 2+ simulated minutes
        int runsFollowed = 0;       ///< ...of which some log arrived
        double maxStaleSeconds = 0; ///< longest time since a non-terminal run's last status
        int runsWithStatus = 0;
        int runsAgreeing = 0;
        int alerts = 0;
        int streamsPeak = 0;
        qint64 importStallMs = 0; ///< longest event-loop block while importing the runs
        qint64 windowStallMs = 0; ///< ... while monitoring
    };

    /// Runs the monitor for the window against `endpoint`. `simNow` tells the simulated time,
    /// `simCpu` the simulator's CPU seconds so far (negative when unknown).
    Measured monitor(const QString &endpoint, const std::vector<Plan> &plans,
                     const std::function<double()> &simNow, const std::function<double()> &simCpu,
                     bool inProcess, int maxPerHost, int budgetPerMinute)
    {
        const double speed = benchSpeed();
        Measured m;
        m.maxPerHost = maxPerHost;
        m.budgetPerMinute = budgetPerMinute;
        QTemporaryDir dir;
        if (!dir.isValid())
            qFatal("no temporary directory");
        auto store = Store::open(dir.filePath(QStringLiteral("history.sqlite")));
        if (!store.ok())
            qFatal("store: %s", qPrintable(store.error().message));
        net::CurlHttpClient http({maxPerHost, KaggleClient::userAgent()});
        CountingHttpClient counting(&http);
        KaggleClient::Options options;
        options.endpoint = QUrl(endpoint);
        KaggleClient client(&counting, Credentials::fromKey(kUser, kKey), options);

        const MonitorSettings unscaled;
        Deck::Settings settings;
        settings.monitor.pollRunningSeconds = unscaled.pollRunningSeconds / speed;
        settings.monitor.pollQueuedSeconds = unscaled.pollQueuedSeconds / speed;
        settings.monitor.quotaPollSeconds = unscaled.quotaPollSeconds / speed;
        settings.monitor.pushGraceSeconds = unscaled.pushGraceSeconds / speed;
        settings.monitor.maxBackoffSeconds = unscaled.maxBackoffSeconds / speed;
        settings.monitor.requestBudgetPerMinute =
            budgetPerMinute > 0 ? budgetPerRealMinute(speed, budgetPerMinute) : 1'000'000;
        settings.monitor.followLogs = true;
        settings.alertTickSeconds = 1; // 15 s scaled would be below the timer's resolution
        Deck deck(&client, store->get(), dir.path(), settings);
        LogFollower::Settings ls;
        const LogFollower::Settings defaults;
        ls.reconnectDelayMs = int(defaults.reconnectDelayMs / speed);
        ls.pollIntervalMs = int(defaults.pollIntervalMs / speed);
        ls.budgetRetryMs = int(defaults.budgetRetryMs / speed);
        deck.monitor()->logFollower()->setSettings(ls);
        connect(deck.monitor()->logFollower(), &LogFollower::events, this,
                [&m](RunId run, SessionId, const QList<LogEvent> &events) {
                    m.logEvents += events.size();
                    m.eventsByRun[run] += events.size();
                });
        connect(&deck, &Deck::alertRaised, this, [&m](const Alert &) { ++m.alerts; });

        // A 10 ms probe timer measures how long the event loop (the UI thread) is blocked.
        QTimer probe;
        QElapsedTimer sinceProbe;
        qint64 *stall = &m.importStallMs;
        probe.setInterval(10);
        connect(&probe, &QTimer::timeout, this, [&] {
            *stall = std::max(*stall, sinceProbe.elapsed() - 10);
            sinceProbe.start();
        });
        sinceProbe.start();
        probe.start();

        std::optional<Result<int>> imported;
        deck.monitor()->importMyKernels([&](Result<int> r) { imported.emplace(std::move(r)); });
        if (!QTest::qWaitFor([&] { return imported.has_value(); }, 60'000))
            qFatal("import did not finish");
        if (!imported->ok())
            qFatal("import failed: %s", qPrintable(imported->error().message));
        m.importRequests = int(counting.records().size());
        QTest::qWait(50);
        stall = &m.windowStallMs;

        const size_t first = counting.records().size();
        const qint64 startMs = counting.elapsedMs();
        m.windowStart = simNow();
        const double cpu0 = inProcess ? cpuSeconds(RUSAGE_THREAD) : cpuSeconds(RUSAGE_SELF);
        const double simCpu0 = simCpu();
        QElapsedTimer wall;
        wall.start();
        deck.start();
        // Sample the open streams every simulated 10 s while the window runs.
        const qint64 windowMs = qint64(kWindowSeconds / speed * 1000);
        while (wall.elapsed() < windowMs) {
            QTest::qWait(int(std::min<qint64>(500, windowMs - wall.elapsed())));
            int streaming = 0;
            for (RunId id : deck.monitor()->runIds())
                streaming +=
                    deck.monitor()->logFollower()->mode(id) == LogFollower::Mode::Streaming;
            m.streamsPeak = std::max(m.streamsPeak, streaming);
        }
        m.wallSeconds = double(wall.nsecsElapsed()) / 1e9;
        m.clientCpu = (inProcess ? cpuSeconds(RUSAGE_THREAD) : cpuSeconds(RUSAGE_SELF)) - cpu0;
        const double simCpu1 = simCpu();
        m.simCpu = simCpu0 >= 0 && simCpu1 >= 0 ? simCpu1 - simCpu0 : -1;
        m.windowEnd = simNow();
        const qint64 endMs = counting.elapsedMs();

        for (const auto &answer : counting.answers())
            if (answer.ms >= startMs && answer.ms <= endMs)
                ++m.answeredByCategory[category(answer.path)];
        const auto &records = counting.records();
        std::vector<qint64> times;
        for (size_t i = first; i < records.size(); ++i) {
            if (records[i].ms > endMs)
                break;
            ++m.byCategory[category(records[i].path)];
            QString path = records[i].path;
            if (path.contains(u"/logs/stream/"))
                path = path.left(path.indexOf(u"/logs/stream/") + 13) + u'*';
            ++m.byPath[path];
            times.push_back(records[i].ms);
        }
        // Busiest simulated minute: a sliding window of 60 / speed real seconds.
        const qint64 minuteMs = qint64(60'000 / speed);
        for (size_t lo = 0, hi = 0; hi < times.size(); ++hi) {
            while (times[hi] - times[lo] >= minuteMs)
                ++lo;
            m.busiestSimMinute = std::max(m.busiestSimMinute, int(hi - lo + 1));
        }

        for (RunId id : deck.monitor()->runIds()) {
            const RunState *s = deck.monitor()->state(id);
            if (!s->session)
                continue;
            ++m.runsWithStatus;
            const auto plan = std::find_if(plans.cbegin(), plans.cend(), [&](const Plan &p) {
                return p.slug == s->run.ref.slug;
            });
            if (plan == plans.cend())
                continue;
            // Shown state equals the truth now, or one queued interval ago (the poll lag).
            const QString shown = statusName(s->session->status);
            if (shown == plan->statusAt(m.windowEnd) ||
                shown == plan->statusAt(m.windowEnd - unscaled.pollQueuedSeconds))
                ++m.runsAgreeing;
            if (!isTerminal(s->session->status))
                m.maxStaleSeconds = std::max(
                    m.maxStaleSeconds,
                    double(s->lastUpdate.msecsTo(QDateTime::currentDateTimeUtc())) / 1000 * speed);
            const double running =
                overlap(plan->runningAt(), plan->endAt(), m.windowStart, m.windowEnd - 60);
            if (!plan->quiet() && running >= 120) {
                ++m.runsToFollow;
                m.runsFollowed += m.eventsByRun.value(id) > 0;
            }
        }
        deck.stop();
        return m;
    }

    void print(const char *title, const Measured &m, const std::vector<Plan> &plans)
    {
        const double speed = benchSpeed();
        const MonitorSettings unscaled;
        const Ideal ideal = idealFor(plans, m.windowStart, m.windowEnd, speed, unscaled);
        const double simulated = m.windowEnd - m.windowStart;
        const int perMinute =
            m.budgetPerMinute > 0 ? m.budgetPerMinute : unscaled.requestBudgetPerMinute;
        const double budget = perMinute * simulated / 60;
        int total = 0;
        int answered = 0;
        for (int n : m.byCategory)
            total += n;
        for (int n : m.answeredByCategory)
            answered += n;

        std::printf("\n%s\n", title);
        std::printf("  %d runs (%d running, %d queued then running, %d finishing, %d finished "
                    "before), speed %gx, %d requests in flight per host, budget %s\n",
                    kKernels, kRunningAll, kQueuedThenRun, kFinishing, kCompleteBefore, speed,
                    m.maxPerHost,
                    m.budgetPerMinute > 0
                        ? qPrintable(QStringLiteral("%1 per minute").arg(m.budgetPerMinute))
                        : "not limited");
        std::printf("  window: %.0f simulated s in %.1f real s; import: %d requests (ideal %d)\n",
                    simulated, m.wallSeconds, m.importRequests, int(std::ceil(kKernels / 100.0)));
        std::printf("  requests made (sent by the monitor) by path:\n");
        for (auto it = m.byPath.cbegin(); it != m.byPath.cend(); ++it)
            std::printf("    %-62s %6d\n", qPrintable(it.key()), it.value());
        std::printf("  against the ideal for the schedule (%d state changes in the window):\n",
                    ideal.stateChanges);
        std::printf("    %-24s %6s %9s %9s %7s\n", "", "sent", "answered", "ideal", "ratio");
        const auto row = [&](const char *what, const QString &key, double wanted) {
            const int sent = m.byCategory.value(key);
            std::printf("    %-24s %6d %9d %9.0f %6.2fx\n", what, sent,
                        m.answeredByCategory.value(key), wanted, wanted > 0 ? sent / wanted : 0.0);
        };
        row("status polls", QStringLiteral("GetKernelSessionStatus"), ideal.status);
        row("quota polls", QStringLiteral("GetAcceleratorQuotaStatistics"), ideal.quota);
        row("log stream connects", QStringLiteral("logs/stream"), ideal.streams);
        row("stored-log fetches", QStringLiteral("ListKernelSessionOutput"), ideal.storedLogs);
        std::printf("    %-24s %6d %9d %9.0f %6.2fx\n", "total", total, answered, ideal.total(),
                    total / ideal.total());
        std::printf("  %d per minute allows %.0f requests in the window: %.2fx of that sent; "
                    "the schedule alone needs %.2fx\n",
                    perMinute, budget, total / budget, ideal.total() / budget);
        std::printf("  busiest simulated minute: %d requests sent (vs %d per minute; the monitor "
                    "counts its budget per real minute, %d simulated ones here)\n",
                    m.busiestSimMinute, perMinute, int(speed));
        std::printf("  runs with a status: %d/%d; shown state matches the truth: %d/%d; longest "
                    "a live run went without a status: %.0f simulated s\n",
                    m.runsWithStatus, kKernels, m.runsAgreeing, kKernels, m.maxStaleSeconds);
        std::printf("  logs: %d/%d running runs followed; %lld events delivered; alerts: %d; "
                    "peak streaming runs: %d\n",
                    m.runsFollowed, m.runsToFollow, static_cast<long long>(m.logEvents), m.alerts,
                    m.streamsPeak);
        const double perHour = 3600.0 / simulated;
        std::printf("  event loop blocked at most %lld ms while importing, %lld ms while "
                    "monitoring\n",
                    static_cast<long long>(m.importStallMs),
                    static_cast<long long>(m.windowStallMs));
        std::printf("  CPU: client %.2f s = %.1f CPU s per hour of monitoring", m.clientCpu,
                    m.clientCpu * perHour);
        if (m.simCpu >= 0)
            std::printf("; simulator %.2f s (%.1f per hour)", m.simCpu, m.simCpu * perHour);
        std::printf("\n  (shared machine: CPU figures are noisy)\n");
        std::fflush(stdout);
    }

    static void checkWorkDone(const Measured &m)
    {
        QVERIFY2(m.runsWithStatus == kKernels,
                 qPrintable(QStringLiteral("only %1 of %2 runs got a status in 10 simulated "
                                           "minutes (%3 requests in flight per host)")
                                .arg(m.runsWithStatus)
                                .arg(kKernels)
                                .arg(m.maxPerHost)));
        QVERIFY(m.answeredByCategory.value(QStringLiteral("GetKernelSessionStatus")) >= kKernels);
        // Most running runs had their log followed. Under the default budget (120 requests a
        // minute against a schedule that needs about 4x that) some stream connects wait their
        // turn, so this checks the machinery works, not that the budget covers everything; the
        // figures above say how much arrived.
        QVERIFY2(m.runsFollowed * 2 >= m.runsToFollow,
                 qPrintable(QStringLiteral("the logs of only %1 of %2 running runs arrived "
                                           "(%3 requests in flight per host)")
                                .arg(m.runsFollowed)
                                .arg(m.runsToFollow)
                                .arg(m.maxPerHost)));
    }

    void inProcess(const char *title, int maxPerHost, int budgetPerMinute)
    {
        const double speed = benchSpeed();
        const std::vector<Plan> plans = makePlans(2 * speed);
        sim::Options so;
        so.speed = speed;
        so.seed = 7;
        so.serverThreads = 1024; // every open stream and idle keep-alive holds a thread
        sim::Simulator sim(so);
        std::string error;
        QVERIFY2(sim.loadScenarioJson(scenarioJson(plans, speed), &error), error.c_str());
        QVERIFY(sim.start());
        const double cpuStart = cpuSeconds(RUSAGE_SELF) - cpuSeconds(RUSAGE_THREAD);
        const Measured m = monitor(
            QString::fromStdString(sim.endpoint()), plans, [&] { return sim.now(); },
            [&] { return cpuSeconds(RUSAGE_SELF) - cpuSeconds(RUSAGE_THREAD) - cpuStart; }, true,
            maxPerHost, budgetPerMinute);
        // Cross-check with what the server saw.
        int served = 0;
        int failed = 0;
        for (const sim::RequestRecord &r : sim.requests()) {
            ++served;
            failed += r.status == 0 || r.status >= 400;
        }
        qint64 produced = 0;
        for (const Plan &p : plans)
            produced += qint64(sim.sessionLogEventCount("bench/" + p.slug.toStdString()));
        sim.stop();
        print(title, m, plans);
        std::printf("  the simulator served %d requests in all (import and window), %d failed; "
                    "it produced %lld log events, %.0f%% of them delivered\n",
                    served, failed, static_cast<long long>(produced),
                    produced ? 100.0 * double(m.logEvents) / double(produced) : 0.0);
        std::fflush(stdout);
        checkWorkDone(m);
    }

private slots:
    void initTestCase()
    {
        QLoggingCategory::setFilterRules(
            QStringLiteral("kaggledeck.*.debug=false\nkaggledeck.*.info=false"));
    }

    void againstSimProcess()
    {
#ifndef KD_KAGGLE_SIM
        QSKIP("the kaggle-sim executable is not built");
#else
        const QString program = QStringLiteral(KD_KAGGLE_SIM);
        if (!QFile::exists(program))
            QSKIP("the kaggle-sim executable is not built");
        const double speed = benchSpeed();
        // The import takes a moment of simulated time before the window opens.
        const std::vector<Plan> plans = makePlans(2 * speed);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString scenarioPath = dir.filePath(QStringLiteral("bench-monitor.json"));
        {
            QFile f(scenarioPath);
            QVERIFY(f.open(QIODevice::WriteOnly));
            const std::string json = scenarioJson(plans, speed);
            f.write(json.data(), qint64(json.size()));
        }
        SimProcess sim;
        QVERIFY(sim.start(program, scenarioPath, speed));
        const Measured m = monitor(
            sim.endpoint(), plans, [&] { return sim.now(speed); },
            [&] { return processCpuSeconds(sim.pid()); }, false, appMaxPerHost(),
            MonitorSettings{}.requestBudgetPerMinute);
        sim.stop();
        print("Monitoring cost, kaggle-sim in a separate process (client CPU: this whole process)",
              m, plans);
        checkWorkDone(m);
#endif
    }

    void againstInProcessSim()
    {
        inProcess("Monitoring cost, simulator in-process (client CPU: the main thread)",
                  appMaxPerHost(), MonitorSettings{}.requestBudgetPerMinute);
    }

    void againstInProcessSimWithoutLimits()
    {
        // The schedule alone: how close the monitor comes to the ideal, and its CPU cost, when
        // neither the transport nor the budget caps it.
        inProcess("Monitoring cost, simulator in-process, 256 requests in flight per host, "
                  "budget not limited (client CPU: the main thread)",
                  256, 0);
    }
};

QTEST_GUILESS_MAIN(BenchMonitor)
#include "bench_monitor.moc"
