// runs, status, quota and logs: straight client calls, no local store.

#include "cli.h"

#include "kaggleclient.h"
#include "logfollower.h"
#include "logformat.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>
#include <memory>

namespace kdcli {

namespace {

std::optional<kd::KernelRef> parseRef(const QString &text)
{
    const auto ref = kd::KernelRef::parse(text);
    if (!ref)
        err(QStringLiteral("not a kernel reference: %1 (expected owner/slug)").arg(text));
    return ref;
}

void writeEvents(const QList<kd::LogEvent> &events)
{
    for (const kd::LogEvent &e : events)
        std::fputs(e.data.toUtf8().constData(),
                   e.stream == kd::LogEvent::Stream::Stderr ? stderr : stdout);
    std::fflush(stdout);
}

} // namespace

int runRuns(Context &c)
{
    if (!c.args().isEmpty()) {
        err(QStringLiteral("runs takes no arguments"));
        return Usage;
    }
    c.authenticate([&c] {
        kd::ListKernelsRequest request;
        request.pageSize = 100;
        c.client()->listAllKernels(request, c.app(), [&c](kd::Result<QList<kd::KernelMetadata>> r) {
            if (!r)
                return c.fail(r.error());
            for (const kd::KernelMetadata &k : *r)
                out(k.ref + u'\t' + k.title + u'\t' + k.lastRunTime.toString(Qt::ISODate));
            c.finish(Ok);
        });
    });
    return c.exec();
}

int runStatus(Context &c)
{
    QList<kd::KernelRef> refs;
    for (const QString &text : c.args()) {
        const auto ref = parseRef(text);
        if (!ref)
            return Usage;
        refs.append(*ref);
    }
    if (refs.isEmpty()) {
        err(QStringLiteral("status needs at least one owner/slug"));
        return Usage;
    }
    const bool asJson = c.isSet(QStringLiteral("json"));
    auto remaining = std::make_shared<int>(int(refs.size()));
    auto results = std::make_shared<QJsonArray>();
    auto rc = std::make_shared<int>(Ok);
    c.authenticate([&c, refs, asJson, remaining, results, rc] {
        for (const kd::KernelRef &ref : refs) {
            c.client()->getKernelSessionStatus(
                ref, c.app(),
                [&c, ref, asJson, remaining, results, rc](kd::Result<kd::KernelSessionStatus> s) {
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
                        *rc = std::max(*rc, exitFor(s.error()));
                    }
                    results->append(o);
                    if (--*remaining == 0) {
                        if (asJson)
                            out(QString::fromUtf8(QJsonDocument(*results).toJson()));
                        c.finish(*rc);
                    }
                });
        }
    });
    return c.exec();
}

int runQuota(Context &c)
{
    if (!c.args().isEmpty()) {
        err(QStringLiteral("quota takes no arguments"));
        return Usage;
    }
    const bool asJson = c.isSet(QStringLiteral("json"));
    c.authenticate([&c, asJson] {
        c.client()->getQuota(c.app(), [&c, asJson](kd::Result<kd::QuotaStatistics> q) {
            if (!q)
                return c.fail(q.error());
            const auto row = [&](const char *name, const std::optional<kd::AcceleratorQuota> &a,
                                 QJsonObject &o) {
                if (!a)
                    return;
                const double used = a->timeUsedSeconds / 3600;
                const double total = a->totalTimeAllowedSeconds / 3600;
                const double reserved = a->timeReservedSeconds / 3600;
                o[QString::fromLatin1(name)] =
                    QJsonObject{{QStringLiteral("usedHours"), used},
                                {QStringLiteral("reservedHours"), reserved},
                                {QStringLiteral("totalHours"), total},
                                {QStringLiteral("remainingHours"), std::max(0.0, total - used)}};
                if (!asJson)
                    out(QStringLiteral("%1\tused %2 h\treserved %3 h\tremaining %4 h\ttotal %5 h")
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
            c.finish(Ok);
        });
    });
    return c.exec();
}

int runLogs(Context &c)
{
    if (c.args().size() != 1) {
        err(QStringLiteral("logs needs one owner/slug"));
        return Usage;
    }
    const auto ref = parseRef(c.args().first());
    if (!ref)
        return Usage;
    const bool follow = c.isSet(QStringLiteral("follow"));
    c.authenticate([&c, ref = *ref, follow] {
        if (follow) {
            // The monitor's follower: SSE with replay dedupe, reconnects and polling fallback.
            auto *follower = new kd::LogFollower(
                c.client(), [] { return true; }, c.app());
            QObject::connect(follower, &kd::LogFollower::events, c.app(),
                             [](kd::RunId, kd::SessionId, const QList<kd::LogEvent> &events) {
                                 writeEvents(events);
                             });
            QObject::connect(follower, &kd::LogFollower::modeChanged, c.app(),
                             [&c](kd::RunId, kd::LogFollower::Mode mode) {
                                 if (mode == kd::LogFollower::Mode::Done)
                                     c.finish(Ok);
                             });
            follower->follow(1, ref, 1);
            return;
        }
        c.client()->listKernelSessionOutput(
            ref, c.app(),
            [&c](kd::Result<kd::KernelOutput> output) {
                if (!output)
                    return c.fail(output.error());
                const auto parsed = kd::parseLogArray(output->log.toUtf8());
                if (!parsed)
                    return c.fail(parsed.error());
                writeEvents(parsed->events);
                c.finish(Ok);
            },
            1, 1);
    });
    return c.exec();
}

} // namespace kdcli
