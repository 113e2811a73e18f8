#include "logfollower.h"

#include "logformat.h"
#include "monitorlog.h"

#include <QTimer>

namespace kd {

namespace {
constexpr qsizetype kSliceEvents = 2000;
} // namespace

struct LogFollower::Follow
{
    RunId run = 0;
    KernelRef ref;
    SessionId session = 0;
    Mode mode = Mode::Idle;
    qint64 delivered = 0;   ///< events of this session handed out so far
    qint64 received = 0;    ///< events seen on the current connection (replay included)
    quint64 generation = 0; ///< bumps on every new connection or session
    KaggleClient::CallId call = 0;
    int failures = 0; ///< connections in a row that brought nothing new
    bool finishing = false;
    QStringList stderrLines;
    QString lastLine;
    QString stdoutPartial;
    QList<LogEvent> backlog;       ///< fetched, not yet handed out (see drain())
    bool doneAfterBacklog = false; ///< the session's log is complete once the backlog is out
};

LogFollower::LogFollower(KaggleClient *client, std::function<bool()> budget, QObject *parent)
    : QObject(parent), m_client(client), m_budget(std::move(budget))
{}

LogFollower::~LogFollower()
{
    stopAll();
}

void LogFollower::setEnabled(bool enabled)
{
    m_enabled = enabled;
    if (!enabled)
        for (auto &f : m_follows)
            if (f->mode == Mode::Streaming || f->mode == Mode::Polling) {
                m_client->cancel(f->call);
                ++f->generation;
                setMode(*f, Mode::Idle);
            }
}

LogFollower::Follow *LogFollower::find(RunId run)
{
    const auto it = m_follows.constFind(run);
    return it == m_follows.constEnd() ? nullptr : it->get();
}

LogFollower::Mode LogFollower::mode(RunId run) const
{
    const auto it = m_follows.constFind(run);
    return it == m_follows.constEnd() ? Mode::Idle : (*it)->mode;
}

qint64 LogFollower::eventCount(RunId run) const
{
    const auto it = m_follows.constFind(run);
    return it == m_follows.constEnd() ? 0 : (*it)->delivered;
}

QStringList LogFollower::lastStderrLines(RunId run) const
{
    const auto it = m_follows.constFind(run);
    return it == m_follows.constEnd() ? QStringList() : (*it)->stderrLines;
}

QString LogFollower::lastLine(RunId run) const
{
    const auto it = m_follows.constFind(run);
    return it == m_follows.constEnd() ? QString() : (*it)->lastLine;
}

void LogFollower::setMode(Follow &f, Mode mode)
{
    if (f.mode == mode)
        return;
    f.mode = mode;
    emit modeChanged(f.run, mode);
}

LogFollower::Follow &LogFollower::ensure(RunId run, const KernelRef &ref, SessionId session)
{
    auto &slot = m_follows[run];
    if (!slot || slot->session != session) {
        if (slot && slot->call)
            m_client->cancel(slot->call);
        const quint64 generation = slot ? slot->generation + 1 : 1;
        slot = std::make_shared<Follow>();
        slot->generation = generation;
        slot->run = run;
        slot->ref = ref;
        slot->session = session;
        slot->delivered = m_known ? m_known(run, session) : 0;
    }
    return *slot;
}

void LogFollower::follow(RunId run, const KernelRef &ref, SessionId session)
{
    Follow &f = ensure(run, ref, session);
    if (f.mode == Mode::Idle && m_enabled)
        connectStream(run);
}

void LogFollower::finish(RunId run, const KernelRef &ref, SessionId session)
{
    Follow &f = ensure(run, ref, session);
    if (f.finishing || f.mode == Mode::Done)
        return;
    f.finishing = true;
    if (f.call)
        m_client->cancel(f.call);
    f.call = 0;
    ++f.generation;
    reconcile(run);
}

void LogFollower::stop(RunId run)
{
    if (Follow *f = find(run)) {
        if (f->call)
            m_client->cancel(f->call);
        m_follows.remove(run);
    }
}

void LogFollower::stopAll()
{
    for (auto &f : m_follows)
        if (f->call)
            m_client->cancel(f->call);
    m_follows.clear();
}

void LogFollower::later(RunId run, int ms, void (LogFollower::*step)(RunId))
{
    const quint64 generation = find(run) ? find(run)->generation : 0;
    QTimer::singleShot(ms, this, [this, run, generation, step] {
        Follow *f = find(run);
        if (f && f->generation == generation)
            (this->*step)(run);
    });
}

void LogFollower::connectStream(RunId run)
{
    Follow *f = find(run);
    if (!f || f->finishing || !m_enabled)
        return;
    if (!m_budget()) {
        later(run, m_settings.budgetRetryMs, &LogFollower::connectStream);
        return;
    }
    const quint64 generation = ++f->generation;
    f->received = 0;
    setMode(*f, Mode::Streaming);
    KaggleClient::LogStreamHandlers handlers;
    handlers.onEvents = [this, run, generation](const QList<LogEvent> &events) {
        onStreamEvents(run, generation, events);
    };
    handlers.onFinished = [this, run, generation](Result<bool> result) {
        onStreamFinished(run, generation, std::move(result));
    };
    f->call = m_client->streamLogs(f->ref, this, std::move(handlers));
}

void LogFollower::onStreamEvents(RunId run, quint64 generation, const QList<LogEvent> &events)
{
    Follow *f = find(run);
    if (!f || f->generation != generation)
        return;
    // The server replays from the start: the first `delivered` events are known already.
    const qint64 first = f->received;
    f->received += events.size();
    const qint64 skip = std::max<qint64>(0, f->delivered - first);
    if (skip >= events.size())
        return;
    f->failures = 0;
    deliver(*f, events.mid(skip));
}

void LogFollower::onStreamFinished(RunId run, quint64 generation, Result<bool> result)
{
    Follow *f = find(run);
    if (!f || f->generation != generation)
        return;
    f->call = 0;
    if (result && *result) {
        // END_OF_LOG, or the persisted log: the session is over as far as logs go.
        setMode(*f, Mode::Done);
        return;
    }
    if (!result) {
        qCDebug(lcMonitor) << f->ref.toString() << "log stream:" << result.error().message;
        noteError(result.error());
    }
    if (++f->failures >= m_settings.maxFailuresBeforePolling) {
        qCInfo(lcMonitor) << f->ref.toString() << "log stream keeps failing; polling instead";
        setMode(*f, Mode::Polling);
        later(run, 0, &LogFollower::pollOutput);
        return;
    }
    later(run, m_settings.reconnectDelayMs, &LogFollower::connectStream);
}

void LogFollower::noteError(const ApiError &error)
{
    if (error.kind == ApiError::Kind::RateLimited)
        emit rateLimited(error);
}

void LogFollower::pollOutput(RunId run)
{
    Follow *f = find(run);
    if (!f || f->finishing || !m_enabled)
        return;
    if (!m_budget()) {
        later(run, m_settings.budgetRetryMs, &LogFollower::pollOutput);
        return;
    }
    const quint64 generation = f->generation;
    f->call = m_client->listKernelSessionOutput(
        f->ref, this,
        [this, run, generation](Result<KernelOutput> output) {
            Follow *f = find(run);
            if (!f || f->generation != generation)
                return;
            f->call = 0;
            if (output) {
                if (auto parsed = parseLogArray(output->log.toUtf8()))
                    deliverFrom(*f, parsed->events);
            } else {
                noteError(output.error());
            }
            later(run, m_settings.pollIntervalMs, &LogFollower::pollOutput);
        },
        1, 1);
}

void LogFollower::reconcile(RunId run)
{
    Follow *f = find(run);
    if (!f)
        return;
    if (!m_budget()) {
        later(run, m_settings.budgetRetryMs, &LogFollower::reconcile);
        return;
    }
    setMode(*f, Mode::Reconciling);
    const quint64 generation = f->generation;
    f->call = m_client->listKernelSessionOutput(
        f->ref, this,
        [this, run, generation](Result<KernelOutput> output) {
            Follow *f = find(run);
            if (!f || f->generation != generation)
                return;
            f->call = 0;
            if (!output) {
                qCInfo(lcMonitor) << f->ref.toString()
                                  << "stored log not available:" << output.error().message;
                noteError(output.error());
                if (output.error().retriable()) {
                    later(run, m_settings.pollIntervalMs, &LogFollower::reconcile);
                    return;
                }
            } else if (auto parsed = parseLogArray(output->log.toUtf8())) {
                deliverFrom(*f, parsed->events);
                f = find(run);
                if (!f)
                    return;
            }
            f->doneAfterBacklog = true;
            drain(run);
        },
        1, 1);
}

void LogFollower::deliverFrom(Follow &f, const QList<LogEvent> &all)
{
    const qint64 known = f.delivered + f.backlog.size();
    if (all.size() <= known)
        return;
    f.backlog += all.mid(known);
    drain(f.run);
}

void LogFollower::drain(RunId run)
{
    // A stored log can hold a million events: hand them out in slices, one per event-loop
    // turn, so folding and parsing never block the GUI thread for long.
    Follow *f = find(run);
    if (!f)
        return;
    if (!f->backlog.isEmpty()) {
        const qsizetype n = std::min<qsizetype>(f->backlog.size(), kSliceEvents);
        QList<LogEvent> slice = f->backlog.mid(0, n);
        f->backlog.remove(0, n);
        const bool more = !f->backlog.isEmpty();
        deliver(*f, std::move(slice));
        if (more) {
            later(run, 0, &LogFollower::drain);
            return;
        }
        f = find(run); // a slot may have stopped the run
        if (!f)
            return;
    }
    if (f->doneAfterBacklog)
        setMode(*f, Mode::Done);
}

void LogFollower::deliver(Follow &f, QList<LogEvent> fresh)
{
    f.delivered += fresh.size();
    QString last;
    for (const LogEvent &e : std::as_const(fresh)) {
        if (e.stream == LogEvent::Stream::Stderr) {
            for (const QString &line : e.data.split(u'\n', Qt::SkipEmptyParts)) {
                const QString text = line.section(u'\r', -1).trimmed();
                if (!text.isEmpty())
                    f.stderrLines.append(text);
            }
            while (f.stderrLines.size() > m_settings.stderrLinesKept)
                f.stderrLines.removeFirst();
            continue;
        }
        // The last visible stdout line: what a terminal shows after \r overwrites.
        const QString data = f.stdoutPartial + e.data;
        const qsizetype nl = data.lastIndexOf(u'\n');
        const QString tail = data.mid(nl + 1).section(u'\r', -1).trimmed();
        if (!tail.isEmpty()) {
            last = tail;
        } else if (nl >= 0) {
            const QString before = data.left(nl);
            const QString line =
                before.mid(before.lastIndexOf(u'\n') + 1).section(u'\r', -1).trimmed();
            if (!line.isEmpty())
                last = line;
        }
        f.stdoutPartial = data.mid(nl + 1).right(4096);
    }
    const RunId run = f.run;
    const SessionId session = f.session;
    const bool lineChanged = !last.isEmpty() && last != f.lastLine;
    if (lineChanged)
        f.lastLine = last.left(500);
    emit events(run, session, fresh);
    if (lineChanged)
        emit lastLineChanged(run, last.left(500));
}

} // namespace kd
