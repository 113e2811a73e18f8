#include "runpresentation.h"

#include "format.h"
#include "runmonitor.h"

#include <QCoreApplication>
#include <QHash>
#include <QRegularExpression>
#include <QUrl>

namespace kd::present {

namespace {
QString tr(const char *text)
{
    return QCoreApplication::translate("kd::present", text);
}

QString statusText(KernelStatus status)
{
    switch (status) {
    case KernelStatus::Queued:
        return tr("Queued");
    case KernelStatus::NewScript:
        return tr("Starting");
    case KernelStatus::Running:
        return tr("Running");
    case KernelStatus::Complete:
        return tr("Complete");
    case KernelStatus::Error:
        return tr("Error");
    case KernelStatus::CancelRequested:
        return tr("Cancelling");
    case KernelStatus::CancelAcknowledged:
        return tr("Cancelled");
    }
    return tr("Unknown");
}
} // namespace

bool hasNoSession(const RunState &state)
{
    // Kaggle answers 404 "No kernel session found" for a kernel that exists but was never run
    // (or right after a push), and 403 for a deleted or private one; both are NotFound, the
    // HTTP status tells them apart (the text, when no status came).
    static const QRegularExpression noSession(QStringLiteral("no (kernel )?session"),
                                              QRegularExpression::CaseInsensitiveOption);
    if (!state.stale || state.errorKind != ApiError::Kind::NotFound)
        return false;
    if (state.errorHttpStatus != 0)
        return state.errorHttpStatus == 404;
    return noSession.match(state.error).hasMatch();
}

QString errorReason(ApiError::Kind kind)
{
    switch (kind) {
    case ApiError::Kind::Auth:
        return tr("credentials rejected");
    case ApiError::Kind::NotFound:
        return tr("not found");
    case ApiError::Kind::RateLimited:
        return tr("rate limited");
    case ApiError::Kind::Server:
        return tr("server error");
    case ApiError::Kind::Network:
        return tr("offline");
    case ApiError::Kind::Timeout:
        return tr("timed out");
    case ApiError::Kind::Protocol:
        return tr("bad answer");
    case ApiError::Kind::Application:
    case ApiError::Kind::Invalid:
        return tr("request refused");
    case ApiError::Kind::Io:
        return tr("disk error");
    case ApiError::Kind::Cancelled:
        return tr("cancelled");
    }
    return tr("error");
}

QString stateText(const RunState &state)
{
    if (hasNoSession(state))
        return state.session ? statusText(state.session->status) : tr("No run yet");
    if (state.stale) {
        // A kernel that is gone or private is not "stale" to the user: it will not come back
        // by waiting, so it gets its own words.
        if (state.errorKind == ApiError::Kind::NotFound)
            return tr("Not found");
        if (state.errorKind == ApiError::Kind::Auth)
            return tr("Sign-in rejected");
        return tr("Stale: %1").arg(errorReason(state.errorKind));
    }
    if (!state.session)
        return state.lastUpdate.isValid() ? tr("No run yet") : tr("Checking…");
    return statusText(state.session->status);
}

QString stateDetails(const RunState &state)
{
    QStringList lines;
    const QString ref = state.run.ref.toString();
    if (hasNoSession(state)) {
        lines << tr("Kaggle has no committed run of %1 yet: it was never run, or a new version "
                    "is just starting. It is checked again on the usual schedule.")
                     .arg(ref);
        return lines.join(u'\n');
    }
    if (state.stale) {
        switch (state.errorKind) {
        case ApiError::Kind::NotFound:
            lines << tr("Kaggle does not show a run of %1. The kernel may have been deleted, "
                        "made private, renamed, or never run.")
                         .arg(ref);
            break;
        case ApiError::Kind::Auth:
            lines << tr("Kaggle rejected the credentials. Check kaggle.json or "
                        "KAGGLE_API_TOKEN (Settings shows which one is used), then refresh.");
            break;
        case ApiError::Kind::Network:
        case ApiError::Kind::Timeout:
            lines << tr("Kaggle could not be reached; the state shown is the last one known. "
                        "KaggleDeck keeps retrying.");
            break;
        case ApiError::Kind::RateLimited:
            lines << tr("Kaggle asked us to slow down; polling resumes shortly.");
            break;
        default:
            lines << tr("The last status check failed; the state shown is the last one known.");
            break;
        }
        if (!state.error.isEmpty())
            lines << tr("Kaggle said: %1").arg(state.error);
        if (state.session)
            lines << tr("Last known state: %1 (%2)")
                         .arg(statusText(state.session->status), format::ago(state.lastUpdate));
        return lines.join(u'\n');
    }
    if (!state.session) {
        lines << (state.lastUpdate.isValid()
                      ? tr("%1 has no committed run yet.").arg(ref)
                      : tr("Waiting for the first status check of %1.").arg(ref));
        return lines.join(u'\n');
    }
    const SessionRecord &s = *state.session;
    switch (s.status) {
    case KernelStatus::Error:
        lines << (s.failureMessage.isEmpty()
                      ? tr("The run failed; Kaggle gave no failure message. See the log.")
                      : tr("The run failed: %1").arg(s.failureMessage));
        break;
    case KernelStatus::Queued:
    case KernelStatus::NewScript:
        lines << tr("Waiting for an accelerator since %1.").arg(format::ago(s.firstSeen));
        break;
    case KernelStatus::Running:
        lines << tr("Running for %1.")
                     .arg(format::duration(
                         (state.runningSince.isValid() ? state.runningSince : s.firstSeen)
                             .msecsTo(QDateTime::currentDateTimeUtc()) /
                         1000.0));
        break;
    case KernelStatus::Complete:
        lines << tr("Finished %1.").arg(format::ago(s.endedAt));
        break;
    case KernelStatus::CancelRequested:
    case KernelStatus::CancelAcknowledged:
        lines << tr("The run was cancelled.");
        break;
    }
    if (s.versionNumber > 0)
        lines << tr("Version %1").arg(s.versionNumber);
    return lines.join(u'\n');
}

QString categoryName(RunCategory category)
{
    switch (category) {
    case RunCategory::All:
        return tr("All");
    case RunCategory::Unknown:
        return tr("Not run yet");
    case RunCategory::Queued:
        return tr("Queued");
    case RunCategory::Running:
        return tr("Running");
    case RunCategory::Complete:
        return tr("Complete");
    case RunCategory::Error:
        return tr("Error");
    case RunCategory::Cancelled:
        return tr("Cancelled");
    case RunCategory::Stale:
        return tr("Stale");
    }
    return {};
}

QIcon categoryIcon(RunCategory category)
{
    switch (category) {
    case RunCategory::All:
        return QIcon(QStringLiteral(":/icons/state-all.svg"));
    case RunCategory::Unknown:
    case RunCategory::Queued:
        return QIcon(QStringLiteral(":/icons/state-queued.svg"));
    case RunCategory::Running:
        return QIcon(QStringLiteral(":/icons/state-running.svg"));
    case RunCategory::Complete:
        return QIcon(QStringLiteral(":/icons/state-complete.svg"));
    case RunCategory::Error:
        return QIcon(QStringLiteral(":/icons/state-error.svg"));
    case RunCategory::Cancelled:
        return QIcon(QStringLiteral(":/icons/state-cancelled.svg"));
    case RunCategory::Stale:
        return QIcon(QStringLiteral(":/icons/state-stale.svg"));
    }
    return {};
}

QIcon stateIcon(const RunState &state)
{
    // Cached: the table paints this for every visible row on every repaint.
    static const QIcon notFound(QStringLiteral(":/icons/state-notfound.svg"));
    static const QIcon queued(QStringLiteral(":/icons/state-queued.svg"));
    if (hasNoSession(state) && !state.session)
        return queued;
    if (state.stale &&
        (state.errorKind == ApiError::Kind::NotFound || state.errorKind == ApiError::Kind::Auth))
        return notFound;
    static QHash<int, QIcon> cache;
    const RunCategory category = categoryOf(state);
    auto it = cache.find(int(category));
    if (it == cache.end())
        it = cache.insert(int(category), categoryIcon(category));
    return *it;
}

QString acceleratorName(const QString &machineShape)
{
    if (machineShape.isEmpty() || machineShape.compare(u"None", Qt::CaseInsensitive) == 0)
        return tr("CPU");
    if (machineShape == u"NvidiaTeslaT4")
        return tr("GPU T4 ×2");
    if (machineShape == u"NvidiaTeslaP100")
        return tr("GPU P100");
    if (machineShape.startsWith(u"Tpu", Qt::CaseInsensitive)) {
        // Tpu1VmV38 -> TPU v3-8
        QString rest = machineShape.mid(3);
        if (rest.startsWith(u"1Vm"))
            rest = rest.mid(3);
        if (rest.size() == 3 && rest.at(0).toLower() == u'v')
            return tr("TPU v%1-%2").arg(rest.at(1)).arg(rest.at(2));
        return tr("TPU %1").arg(rest);
    }
    QString gpu = machineShape;
    if (gpu.startsWith(u"NvidiaTesla"))
        gpu = gpu.mid(11);
    else if (gpu.startsWith(u"Nvidia"))
        gpu = gpu.mid(6);
    return tr("GPU %1").arg(gpu);
}

QUrl kernelUrl(const KernelRef &ref)
{
    QUrl url(QStringLiteral("https://www.kaggle.com"));
    url.setPath(QStringLiteral("/code/%1/%2").arg(ref.owner, ref.slug));
    return url;
}

} // namespace kd::present
