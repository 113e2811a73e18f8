// Writes to a Store in a loop until it is killed, for tst_store_crash.
//
// Usage: store_writer <database> <seed>
// Each iteration records one whole session (the session, its status changes, a batch of
// metric points, its end) in several transactions, then prints "ACK <session id> <points>"
// once the last of them has committed. Everything acknowledged must survive a SIGKILL.

#include "store.h"

#include <QCoreApplication>
#include <QRandomGenerator>

#include <cstdio>

using namespace kd;

namespace {

int fail(const char *step, const ApiError &error)
{
    std::fprintf(stderr, "store_writer: %s: %s\n", step, qPrintable(error.message));
    return 3;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    if (args.size() != 3) {
        std::fprintf(stderr, "usage: store_writer <database> <seed>\n");
        return 2;
    }
    auto opened = Store::open(args.at(1));
    if (!opened)
        return fail("open", opened.error());
    Store &store = *opened.value();
    QRandomGenerator rng(args.at(2).toUInt());

    const KernelRef ref{QStringLiteral("crash"), QStringLiteral("test")};
    RunId run = 0;
    if (const auto existing = store.runByRef(ref)) {
        run = existing->id;
    } else {
        WatchedRun w;
        w.ref = ref;
        w.title = QStringLiteral("crash test");
        const auto added = store.addRun(w);
        if (!added)
            return fail("addRun", added.error());
        run = *added;
    }

    for (;;) {
        const QDateTime now = QDateTime::currentDateTimeUtc();
        SessionRecord s;
        s.runId = run;
        s.firstSeen = now;
        s.status = KernelStatus::Queued;
        const auto sid = store.addSession(s);
        if (!sid)
            return fail("addSession", sid.error());
        s.id = *sid;
        if (const auto r = store.addStatusEvent({s.id, KernelStatus::Queued, now}); !r)
            return fail("addStatusEvent", r.error());
        if (const auto r = store.addStatusEvent({s.id, KernelStatus::Running, now}); !r)
            return fail("addStatusEvent", r.error());

        // Values derived from the session id and index so the test can check contents.
        const int count = 20 + int(rng.bounded(180));
        QList<MetricPoint> points;
        points.reserve(count);
        for (int i = 0; i < count; ++i) {
            MetricPoint p;
            p.sessionId = s.id;
            p.series = i % 2 ? QStringLiteral("loss") : QStringLiteral("lr");
            p.value = double(s.id) + i / 1024.0;
            p.logTime = i;
            p.step = i;
            points.append(p);
        }
        if (const auto r = store.addMetricPoints(points); !r)
            return fail("addMetricPoints", r.error());

        s.status = KernelStatus::Complete;
        s.endedAt = QDateTime::currentDateTimeUtc();
        if (const auto r = store.updateSession(s); !r)
            return fail("updateSession", r.error());
        if (const auto r = store.addStatusEvent({s.id, KernelStatus::Complete, s.endedAt}); !r)
            return fail("addStatusEvent", r.error());
        if (const auto r = store.setValue(QStringLiteral("last-session"), QString::number(s.id));
            !r)
            return fail("setValue", r.error());

        std::printf("ACK %lld %d\n", static_cast<long long>(s.id), count);
        std::fflush(stdout);
    }
}
