// Memory: 50 runs with 200,000 log lines each, through the pipeline a Deck keeps per run
// (RunLog: terminal folding, the bounded tail model, the capped archive on disk, metric
// parsing) plus the metric points written to a Store, as Deck::onEvents does. The runs stream
// concurrently: each round hands every run its next batch. Target: peak RSS under 300 MB.
// Printed: VmHWM before and after, VmRSS after the streams end and after the logs are
// dropped, and the ingest rate. Figures are printed, never asserted.
//
// KD_BENCH_MEMORY_LINES overrides the lines per run (e.g. 20000 for a quick run).

#include "runlog.h"
#include "store.h"

#include <QElapsedTimer>
#include <QFile>
#include <QLoggingCategory>
#include <QTemporaryDir>
#include <QTest>

#include <malloc.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

using namespace kd;

namespace kd {
namespace {

constexpr int kRuns = 50;
constexpr int kBatchEvents = 200; // one SSE read's worth
const qint64 kLinesPerRun = qEnvironmentVariableIntValue("KD_BENCH_MEMORY_LINES") > 0
                                ? qEnvironmentVariableIntValue("KD_BENCH_MEMORY_LINES")
                                : 200'000;

/// A field of /proc/self/status in kB ("VmHWM", "VmRSS"), -1 when unavailable.
qint64 statusKb(const char *field)
{
    QFile f(QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    const QByteArray key = QByteArray(field) + ':';
    for (const QByteArray &line : f.readAll().split('\n'))
        if (line.startsWith(key))
            return line.mid(key.size()).trimmed().split(' ').value(0).toLongLong();
    return -1;
}

double mbOfKb(qint64 kb)
{
    return double(kb) / 1024.0;
}

double cpuSeconds(clockid_t clock = CLOCK_PROCESS_CPUTIME_ID)
{
    timespec ts{};
    clock_gettime(clock, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

/// A deterministic fine-tuning log: a Trainer run's tqdm bar redrawn with "\r" on stderr,
/// its log dicts, eval dicts, epoch banners, stderr warnings and checkpoint lines.
class LogMaker
{
public:
    explicit LogMaker(uint64_t seed) : m_state(seed * 0x9E3779B97F4A7C15ULL + 1) {}

    LogEvent next()
    {
        m_time += 0.25;
        const uint32_t r = rand32();
        LogEvent e;
        e.time = m_time;
        const int kind = int(r % 100);
        if (kind < 45) { // a refresh of the progress bar
            e.stream = LogEvent::Stream::Stderr;
            m_step = m_step % kSteps + 1;
            const int pct = m_step * 100 / kSteps;
            e.data = QString::fromStdString(
                fmt("\r%3d%%|%-20s| %d/%d [%02d:%02d<%02d:%02d, %5.2fit/s]", pct,
                    std::string(size_t(pct / 5), '#').c_str(), m_step, kSteps, (m_step / 8) / 60,
                    (m_step / 8) % 60, ((kSteps - m_step) / 8) / 60, ((kSteps - m_step) / 8) % 60,
                    8.0 + (r % 100) / 100.0));
            if (m_step == kSteps)
                e.data += u'\n';
        } else if (kind < 75) { // Trainer log dict
            e.data = QString::fromStdString(
                fmt("{'loss': %.4f, 'grad_norm': %.3f, 'learning_rate': %.2e, 'epoch': %.2f}\n",
                    loss(), 0.5 + (r % 300) / 100.0, 2e-5 * (1.0 - double(m_step) / kSteps),
                    double(m_step) / 1000.0));
        } else if (kind < 77) {
            e.data = QString::fromStdString(
                fmt("{'eval_loss': %.4f, 'eval_accuracy': %.4f, 'eval_runtime': %.2f, 'epoch': "
                    "%.1f}\n",
                    loss() * 1.1, 0.85 + (r % 100) / 1000.0, 12.5, double(m_step / 1000)));
        } else if (kind < 78) {
            e.data = QString::fromStdString(fmt("Epoch %d/10\n", int(m_step / 1000) + 1));
        } else if (kind < 90) {
            e.stream = LogEvent::Stream::Stderr;
            e.data = QStringLiteral("/usr/local/lib/python3.10/dist-packages/transformers/"
                                    "trainer.py:%1: UserWarning: gradient accumulation is "
                                    "deprecated for this model\n")
                         .arg(1000 + r % 3000);
        } else if (kind < 95) {
            e.data = QStringLiteral("Saving model checkpoint to /kaggle/working/checkpoint-%1\n")
                         .arg(m_step);
        } else {
            e.stream = LogEvent::Stream::Stderr;
            e.data = QStringLiteral("\x1b[33mWARNING\x1b[0m: sequence of length %1 truncated "
                                    "to 512 tokens\n")
                         .arg(512 + r % 4000);
        }
        return e;
    }

private:
    static constexpr int kSteps = 3000;

    template <typename... Args> static std::string fmt(const char *f, Args... args)
    {
        char buffer[512];
        std::snprintf(buffer, sizeof buffer, f, args...);
        return buffer;
    }
    uint32_t rand32()
    {
        m_state ^= m_state << 13;
        m_state ^= m_state >> 7;
        m_state ^= m_state << 17;
        return uint32_t(m_state);
    }
    double loss() const { return 0.2 + 1.8 * std::exp(-double(m_step) / 1000.0); }

    uint64_t m_state;
    int m_step = 0;
    double m_time = 0;
};

} // namespace
} // namespace kd

class BenchMemory : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        QLoggingCategory::setFilterRules(QStringLiteral("kaggledeck.*.debug=false"));
    }

    void fiftyRunsOfTwoHundredThousandLines()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        auto store = Store::open(dir.filePath(QStringLiteral("history.sqlite")));
        QVERIFY(store.ok());
        const QString logDir = dir.filePath(QStringLiteral("logs"));
        const qint64 hwmStart = statusKb("VmHWM");

        // The Deck's defaults: a 20,000-line tail and a 64 MB archive per session.
        std::vector<std::unique_ptr<RunLog>> logs;
        std::vector<LogMaker> makers;
        std::vector<qint64> linesFed(kRuns, 0);
        std::vector<SessionId> sessions;
        for (int i = 0; i < kRuns; ++i) {
            // The points reference their session in the store, as the Deck's do.
            WatchedRun run;
            run.ref = {QStringLiteral("bench"), QStringLiteral("run-%1").arg(i)};
            run.title = run.ref.slug;
            run.addedAt = QDateTime::currentDateTimeUtc();
            const auto runId = store.value()->addRun(run);
            QVERIFY(runId.ok());
            SessionRecord session;
            session.runId = runId.value();
            session.firstSeen = run.addedAt;
            session.status = KernelStatus::Running;
            const auto sessionId = store.value()->addSession(session);
            QVERIFY(sessionId.ok());
            sessions.push_back(sessionId.value());
            logs.push_back(
                std::make_unique<RunLog>(runId.value(), sessionId.value(), logDir, RunSettings{}));
            makers.emplace_back(uint64_t(i + 1));
        }

        qint64 events = 0;
        qint64 bytes = 0;
        qint64 shownLines = 0;
        qint64 points = 0;
        qint64 hwmMidway = 0;
        double runLogCpu = 0; // folding, tail, archive, metric parsing
        double storeCpu = 0;  // the metric points into SQLite
        QList<LogEvent> batch;
        batch.reserve(kBatchEvents);
        QElapsedTimer wall;
        wall.start();
        const double cpu0 = cpuSeconds();
        for (bool more = true; more;) {
            more = false;
            for (int i = 0; i < kRuns; ++i) {
                if (linesFed[i] >= kLinesPerRun)
                    continue;
                more = true;
                batch.clear();
                // A "line" is a log event: a tqdm redraw is a line the terminal overwrites.
                for (int k = 0; k < kBatchEvents && linesFed[i] < kLinesPerRun; ++k) {
                    batch.append(makers[i].next());
                    bytes += batch.constLast().data.size();
                    ++linesFed[i];
                }
                events += batch.size();
                const double t0 = cpuSeconds(CLOCK_THREAD_CPUTIME_ID);
                RunLog::Ingested ingested = logs[i]->ingest(batch);
                const double t1 = cpuSeconds(CLOCK_THREAD_CPUTIME_ID);
                shownLines += ingested.lines.size();
                points += ingested.points.size();
                if (!ingested.points.isEmpty()) {
                    const auto stored = store.value()->addMetricPoints(ingested.points);
                    QVERIFY2(stored.ok(),
                             qPrintable(stored.ok() ? QString() : stored.error().message));
                }
                runLogCpu += t1 - t0;
                storeCpu += cpuSeconds(CLOCK_THREAD_CPUTIME_ID) - t1;
            }
            if (hwmMidway == 0 && linesFed[0] >= kLinesPerRun / 2)
                hwmMidway = statusKb("VmHWM");
        }
        for (auto &log : logs)
            log->finish();
        const double seconds = double(wall.nsecsElapsed()) / 1e9;
        const double cpu = cpuSeconds() - cpu0;
        const qint64 hwmEnd = statusKb("VmHWM");
        const qint64 rssEnd = statusKb("VmRSS");

        qint64 tailRows = 0;
        qint64 archived = 0;
        qint64 onDisk = 0;
        for (const auto &log : logs) {
            tailRows += log->tail()->rowCount();
            archived += log->archive().eventCount();
            onDisk += log->archive().sizeOnDisk();
        }
        const QStringList series = store.value()->metricSeries(sessions.front());
        logs.clear();
        malloc_trim(0); // hand freed pages back, so RSS shows what is really still held
        const qint64 rssDropped = statusKb("VmRSS");

        const double mbIn = double(bytes) / (1024.0 * 1024.0);
        std::printf("\nMemory: %d runs x %lld log lines (events), streamed concurrently in "
                    "batches of %d\n",
                    kRuns, static_cast<long long>(kLinesPerRun), kBatchEvents);
        std::printf("  ingested %lld events, %.1f MB of text, %lld display lines, %lld metric "
                    "points (series of run 1: %s)\n",
                    static_cast<long long>(events), mbIn, static_cast<long long>(shownLines),
                    static_cast<long long>(points), qPrintable(series.join(u", ")));
        std::printf("  tails hold %lld rows in all; archives: %lld events, %.1f MB on disk\n",
                    static_cast<long long>(tailRows), static_cast<long long>(archived),
                    double(onDisk) / (1024.0 * 1024.0));
        std::printf("  peak RSS (VmHWM): %.1f MB before, %.1f MB half-way, %.1f MB after   "
                    "(target < 300 MB)\n",
                    mbOfKb(hwmStart), mbOfKb(hwmMidway), mbOfKb(hwmEnd));
        std::printf("  RSS: %.1f MB with the 50 logs open, %.1f MB after dropping them; "
                    "%.2f MB per run over the start, about %.0f bytes per tail row\n",
                    mbOfKb(rssEnd), mbOfKb(rssDropped), mbOfKb(hwmEnd - hwmStart) / kRuns,
                    double(rssEnd - rssDropped) * 1024 / double(std::max<qint64>(1, tailRows)));
        std::printf("  ingest: %.1f MB/s wall, %.1f MB/s per CPU second (%.1f s wall, %.1f s "
                    "CPU; shared machine: noisy)\n",
                    mbIn / seconds, mbIn / cpu, seconds, cpu);
        std::printf("  of the CPU: RunLog::ingest %.1f s (%.1f MB/s), storing the metric points "
                    "%.1f s (%.0f points/s)\n",
                    runLogCpu, mbIn / runLogCpu, storeCpu, double(points) / storeCpu);
        std::fflush(stdout);

        QCOMPARE(events, kRuns * kLinesPerRun);
        QVERIFY(tailRows > 0);
        QVERIFY(archived > 0);
        QVERIFY(points > 0);
    }
};

QTEST_GUILESS_MAIN(BenchMemory)
#include "bench_memory.moc"
