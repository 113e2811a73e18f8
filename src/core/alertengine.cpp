#include "alertengine.h"

#include <QLocale>
#include <QLoggingCategory>

#include <cmath>

namespace kd {

namespace {

Q_LOGGING_CATEGORY(lcAlerts, "kaggledeck.alerts", QtInfoMsg)

QString runLabel(const WatchedRun &run)
{
    if (run.ref.isValid())
        return run.ref.toString();
    if (!run.title.isEmpty())
        return run.title;
    return QStringLiteral("Run ") + QString::number(run.id);
}

QString formatClock(const QDateTime &at)
{
    return QLocale::c().toString(at.toUTC(), u"HH:mm") + QStringLiteral(" UTC");
}

QString formatDuration(qint64 seconds)
{
    const qint64 minutes = std::max<qint64>(0, (seconds + 30) / 60);
    const qint64 h = minutes / 60;
    const qint64 m = minutes % 60;
    if (h == 0)
        return QString::number(m) + QStringLiteral(" min");
    if (m == 0)
        return QString::number(h) + QStringLiteral(" h");
    return QString::number(h) + QStringLiteral(" h ") + QString::number(m) + QStringLiteral(" min");
}

/// The whole line a match sits in: log events may carry several lines (tqdm, tracebacks).
QString lineAround(const QString &text, qsizetype position)
{
    const qsizetype begin = text.lastIndexOf(u'\n', position) + 1;
    qsizetype end = text.indexOf(u'\n', position);
    if (end < 0)
        end = text.size();
    constexpr qsizetype maxChars = 500;
    return text.mid(begin, std::min(end - begin, maxChars)).trimmed();
}

bool isLossSeries(const QString &series)
{
    return series.contains(u"loss", Qt::CaseInsensitive);
}

} // namespace

QList<AlertPattern> builtinAlertPatterns()
{
    return {
        {QStringLiteral("Python traceback"),
         QStringLiteral(R"(Traceback \(most recent call last\))")},
        // PyTorch prints both in one error ("torch.OutOfMemoryError: CUDA out of memory."):
        // one rule, so one alert.
        {QStringLiteral("CUDA out of memory"),
         QStringLiteral("CUDA out of memory|OutOfMemoryError")},
        // Keras "loss: nan", HF Trainer "'loss': nan", "val_loss=nan"...
        {AlertEngine::nanLossPatternName(),
         QStringLiteral(R"re((?i)loss['"]?\s*[:=]\s*['"]?[-+]?nan\b)re")},
    };
}

QString AlertEngine::nanLossPatternName()
{
    return QStringLiteral("NaN loss");
}

AlertEngine::AlertEngine(QObject *parent) : QObject(parent)
{
    // The monitor may live in another thread one day; queued connections need the name.
    qRegisterMetaType<kd::Alert>("kd::Alert");
}

void AlertEngine::setDefaults(const Defaults &defaults)
{
    m_defaults = defaults;
}

void AlertEngine::setGlobalSnooze(const QDateTime &until)
{
    m_globalSnooze = until;
}

void AlertEngine::setRun(const WatchedRun &run)
{
    m_runs.insert(run.id, run);
}

AlertEngine::SessionState &AlertEngine::stateFor(const WatchedRun &run, SessionId session)
{
    m_runs.insert(run.id, run);
    SessionState &state = m_sessions[session];
    state.runId = run.id;
    if (state.session.id == 0) {
        state.session.id = session;
        state.session.runId = run.id;
    }
    return state;
}

void AlertEngine::onStatus(const WatchedRun &run, const SessionRecord &session,
                           KernelStatus previous, const QStringList &lastStderrLines,
                           const QDateTime &now)
{
    SessionState &state = stateFor(run, session.id);
    const KernelStatus status = session.status;
    state.session = session;

    if (status == KernelStatus::Running) {
        const bool newStretch = previous != KernelStatus::Running;
        if (session.runningSince.isValid()) {
            state.runningSince = session.runningSince;
        } else if (newStretch || !state.runningSince.isValid()) {
            // Seen running before we saw it start (app restarted): the push time is the
            // earliest it can have started, which warns early rather than too late.
            state.runningSince =
                newStretch || !session.firstSeen.isValid() ? now : session.firstSeen;
        }
        // Silence is counted from when we could first have heard the run, never from before.
        if (newStretch || !state.lastActivity.isValid()) {
            state.lastActivity = now;
            state.stuckFired = false;
        }
    }

    if (status == previous || !isTerminal(status) || state.terminalFired)
        return;
    state.terminalFired = true;

    Alert alert;
    alert.runId = run.id;
    alert.sessionId = session.id;
    alert.at = now;
    const QString label = runLabel(run);
    switch (status) {
    case KernelStatus::Complete: {
        alert.kind = AlertKind::Finished;
        alert.title = label + QStringLiteral(" finished");
        alert.text = QStringLiteral("The run completed");
        if (state.runningSince.isValid()) {
            const QDateTime end = session.endedAt.isValid() ? session.endedAt : now;
            alert.text += QStringLiteral(" after ") +
                          formatDuration(state.runningSince.secsTo(end)) +
                          QStringLiteral(" of running");
        }
        alert.text += u'.';
        break;
    }
    case KernelStatus::Error: {
        alert.kind = AlertKind::Failed;
        alert.title = label + QStringLiteral(" failed");
        const QString message = session.failureMessage.trimmed();
        alert.text =
            message.isEmpty() ? QStringLiteral("Kaggle gave no failure message.") : message;
        if (!lastStderrLines.isEmpty()) {
            alert.text += QStringLiteral("\n\nLast stderr lines:\n") + lastStderrLines.join(u'\n');
        }
        break;
    }
    default:
        alert.kind = AlertKind::Cancelled;
        alert.title = label + QStringLiteral(" was cancelled");
        alert.text =
            QStringLiteral("The run was cancelled (") + statusName(status) + QStringLiteral(").");
        break;
    }
    raise(alert, &m_runs[run.id]);
}

void AlertEngine::onLogLines(const WatchedRun &run, SessionId session, const LogLines &lines,
                             const QDateTime &now)
{
    if (lines.isEmpty())
        return;
    SessionState &state = stateFor(run, session);
    // Any output ends the current silence; a later one is a new stuck episode.
    state.lastActivity = now;
    state.stuckFired = false;

    for (const LogEvent &line : lines) {
        for (const AlertPattern &p : m_defaults.patterns)
            checkPattern(run, state, p.name, p.regex, line, now);
        for (const QString &regex : run.settings.logPatterns) {
            checkPattern(run, state, QStringLiteral("log matched \"") + regex + u'"', regex, line,
                         now);
        }
    }
}

void AlertEngine::checkPattern(const WatchedRun &run, SessionState &state, const QString &name,
                               const QString &regex, const LogEvent &line, const QDateTime &now)
{
    if (state.patternsFired.contains(name))
        return;
    const QRegularExpression re = compiled(regex);
    if (!re.isValid())
        return;
    const QRegularExpressionMatch match = re.match(line.data);
    if (!match.hasMatch())
        return;
    state.patternsFired.insert(name);

    Alert alert;
    alert.kind = AlertKind::LogPattern;
    alert.runId = run.id;
    alert.sessionId = state.session.id;
    alert.at = now;
    alert.title = runLabel(run) + QStringLiteral(": ") + name;
    alert.text = QStringLiteral("Matched in ") +
                 (line.stream == LogEvent::Stream::Stderr ? QStringLiteral("stderr")
                                                          : QStringLiteral("stdout")) +
                 QStringLiteral(" at ") + QString::number(line.time, 'f', 1) +
                 QStringLiteral(" s:\n") + lineAround(line.data, match.capturedStart());
    raise(alert, &m_runs[run.id]);
}

void AlertEngine::onMetricPoints(const WatchedRun &run, const QList<MetricPoint> &points,
                                 const QDateTime &now)
{
    const QString name = nanLossPatternName();
    for (const MetricPoint &p : points) {
        if (!std::isnan(p.value) || !isLossSeries(p.series))
            continue;
        SessionState &state = stateFor(run, p.sessionId);
        if (state.patternsFired.contains(name))
            continue;
        state.patternsFired.insert(name);

        Alert alert;
        alert.kind = AlertKind::LogPattern;
        alert.runId = run.id;
        alert.sessionId = p.sessionId;
        alert.at = now;
        alert.title = runLabel(run) + QStringLiteral(": ") + name;
        alert.text = QStringLiteral("The metric \"") + p.series + QStringLiteral("\" became NaN");
        if (p.step >= 0)
            alert.text += QStringLiteral(" at step ") + QString::number(p.step);
        if (!std::isnan(p.epoch))
            alert.text += QStringLiteral(" (epoch ") + QString::number(p.epoch, 'g', 4) + u')';
        alert.text += QStringLiteral(". Training has diverged; further steps are wasted GPU time.");
        raise(alert, &m_runs[run.id]);
    }
}

void AlertEngine::onQuota(const QuotaForecast::Result &forecast, const QDateTime &now)
{
    QuotaState &state = forecast.accelerator == Accelerator::Tpu ? m_tpuQuota : m_gpuQuota;
    if (forecast.refreshTime.isValid() && forecast.refreshTime != state.refreshTime) {
        // A new weekly window: whatever was said about the last one no longer holds.
        if (state.refreshTime.isValid())
            state.fired = false;
        state.refreshTime = forecast.refreshTime;
    }

    const bool low = m_defaults.quotaLow.isLow(forecast.remainingNowSeconds, forecast.totalSeconds);
    if (!low) {
        state.fired = false;
        return;
    }
    if (state.fired)
        return;
    state.fired = true;

    const QString accelerator =
        forecast.accelerator == Accelerator::Tpu ? QStringLiteral("TPU") : QStringLiteral("GPU");
    Alert alert;
    alert.kind = AlertKind::QuotaLow;
    alert.at = now;
    alert.title = accelerator + QStringLiteral(" quota low");
    alert.text = QuotaForecast::formatHours(std::max(0.0, forecast.remainingNowSeconds)) +
                 QStringLiteral(" of ") + QuotaForecast::formatHours(forecast.totalSeconds) + u' ' +
                 accelerator + QStringLiteral(" left until ") +
                 QLocale::c().toString(forecast.refreshTime.toUTC(), u"ddd HH:mm") +
                 QStringLiteral(" UTC.\n") + forecast.summary;
    raise(alert, nullptr);
}

void AlertEngine::onQuota(const QuotaStatistics &stats, const QDateTime &now)
{
    QuotaForecast::Input input;
    input.now = now;
    input.snapshot = QuotaSnapshot{now, stats};
    for (Accelerator accelerator : {Accelerator::Gpu, Accelerator::Tpu}) {
        if (!(accelerator == Accelerator::Tpu ? stats.tpu : stats.gpu))
            continue;
        input.accelerator = accelerator;
        const QuotaForecast::Result result = QuotaForecast().forecast(input);
        // Without usable numbers the forecast falls back to local attribution, of which we
        // were given none here: saying "quota low" (or not) from that would be a guess.
        if (result.source == QuotaForecast::Source::Api)
            onQuota(result, now);
    }
}

void AlertEngine::tick(const QDateTime &now)
{
    for (auto it = m_sessions.begin(); it != m_sessions.end(); ++it) {
        SessionState &state = it.value();
        if (state.session.status != KernelStatus::Running || !state.runningSince.isValid())
            continue;
        const WatchedRun &run = m_runs[state.runId];
        const QString label = runLabel(run);

        const int stuckMinutes =
            run.settings.stuckMinutes > 0 ? run.settings.stuckMinutes : m_defaults.stuckMinutes;
        if (stuckMinutes > 0 && !state.stuckFired && state.lastActivity.isValid() &&
            state.lastActivity.secsTo(now) >= qint64(stuckMinutes) * 60) {
            state.stuckFired = true;
            Alert alert;
            alert.kind = AlertKind::Stuck;
            alert.runId = run.id;
            alert.sessionId = state.session.id;
            alert.at = now;
            alert.title = label + QStringLiteral(" may be stuck");
            alert.text = QStringLiteral("No new log output for ") +
                         formatDuration(state.lastActivity.secsTo(now)) +
                         QStringLiteral(" while running (since ") +
                         formatClock(state.lastActivity) + QStringLiteral(").");
            raise(alert, &run);
        }

        const QString shape =
            state.session.machineShape.isEmpty() ? run.machineShape : state.session.machineShape;
        const Accelerator accelerator = acceleratorOf(shape);
        const double cap = QuotaForecast::runCapSeconds(accelerator, state.session.timeoutSeconds);
        const QDateTime capAt = state.runningSince.addSecs(qint64(cap));
        const QDateTime warnAt = capAt.addSecs(-qint64(m_defaults.timeCapWarningMinutes) * 60);
        if (!state.timeCapFired && now >= warnAt) {
            state.timeCapFired = true;
            const bool byTimeout = cap < QuotaForecast::runCapSeconds(accelerator);
            QString capName;
            if (byTimeout) {
                capName = QStringLiteral("its ") + formatDuration(qint64(cap)) +
                          QStringLiteral(" session timeout");
            } else {
                capName = QStringLiteral("the ") + formatDuration(qint64(cap));
                if (accelerator != Accelerator::None)
                    capName += accelerator == Accelerator::Tpu ? QStringLiteral(" TPU")
                                                               : QStringLiteral(" GPU");
                capName += QStringLiteral(" run cap");
            }
            const QString countdown =
                now < capAt ? QString(QStringLiteral("in ") + formatDuration(now.secsTo(capAt)))
                            : QStringLiteral("now");
            Alert alert;
            alert.kind = AlertKind::TimeCap;
            alert.runId = run.id;
            alert.sessionId = state.session.id;
            alert.at = now;
            alert.title = label + QStringLiteral(" is near its time cap");
            alert.text = QStringLiteral("Kaggle stops the run at ") + formatClock(capAt) +
                         QStringLiteral(" (") + capName + QStringLiteral(", ") + countdown +
                         QStringLiteral("). Anything not saved to /kaggle/working by then is "
                                        "lost.");
            raise(alert, &run);
        }
    }
}

void AlertEngine::forgetSession(SessionId session)
{
    m_sessions.remove(session);
}

void AlertEngine::forgetRun(RunId run)
{
    m_runs.remove(run);
    for (auto it = m_sessions.begin(); it != m_sessions.end();) {
        if (it.value().runId == run)
            it = m_sessions.erase(it);
        else
            ++it;
    }
}

QRegularExpression AlertEngine::compiled(const QString &regex)
{
    if (const auto it = m_regexCache.constFind(regex); it != m_regexCache.constEnd())
        return *it;
    QRegularExpression re(regex);
    if (!re.isValid()) {
        qCWarning(lcAlerts) << "ignoring invalid alert pattern" << regex << ':' << re.errorString();
    }
    m_regexCache.insert(regex, re);
    return re;
}

bool AlertEngine::suppressed(const WatchedRun *run, const QDateTime &now) const
{
    if (m_globalSnooze.isValid() && now < m_globalSnooze)
        return true;
    if (!run)
        return false;
    return run->settings.muted ||
           (run->settings.snoozedUntil.isValid() && now < run->settings.snoozedUntil);
}

void AlertEngine::raise(Alert alert, const WatchedRun *run)
{
    if (suppressed(run, alert.at)) {
        qCDebug(lcAlerts) << "suppressed (muted or snoozed):" << alert.title;
        return;
    }
    alert.id = m_nextId++;
    emit alertRaised(alert);
}

} // namespace kd
