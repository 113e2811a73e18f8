#include "appsettings.h"

#include "alertengine.h"

#include <QSettings>

#include <algorithm>

namespace kd {

namespace {
const QString kPollRunning = QStringLiteral("poll/runningSeconds");
const QString kPollQueued = QStringLiteral("poll/queuedSeconds");
const QString kBudget = QStringLiteral("poll/budgetPerMinute");
const QString kStuck = QStringLiteral("alerts/stuckMinutes");
const QString kTimeCap = QStringLiteral("alerts/timeCapWarningMinutes");
const QString kPatterns = QStringLiteral("alerts/extraPatterns");
const QString kTail = QStringLiteral("logs/tailLines");
const QString kArchive = QStringLiteral("logs/archiveCapMb");
const QString kAppearance = QStringLiteral("appearance/theme");
} // namespace

AppSettings AppSettings::load()
{
    const AppSettings d;
    const QSettings s;
    AppSettings a;
    // Clamped so a hand-edited file cannot make the app hammer Kaggle or stop polling.
    a.pollRunningSeconds =
        std::clamp(s.value(kPollRunning, d.pollRunningSeconds).toDouble(), 5.0, 3600.0);
    a.pollQueuedSeconds =
        std::clamp(s.value(kPollQueued, d.pollQueuedSeconds).toDouble(), 5.0, 3600.0);
    a.requestBudgetPerMinute =
        std::clamp(s.value(kBudget, d.requestBudgetPerMinute).toInt(), 10, 1000);
    a.stuckMinutes = std::clamp(s.value(kStuck, d.stuckMinutes).toInt(), 1, 24 * 60);
    a.timeCapWarningMinutes =
        std::clamp(s.value(kTimeCap, d.timeCapWarningMinutes).toInt(), 1, 12 * 60);
    a.extraPatterns = s.value(kPatterns).toStringList();
    a.extraPatterns.removeAll(QString());
    a.tailLines = std::clamp(s.value(kTail, d.tailLines).toInt(), 1'000, 1'000'000);
    a.archiveCapMb = std::clamp(s.value(kArchive, d.archiveCapMb).toInt(), 1, 10'000);
    a.appearance = theme::fromString(s.value(kAppearance).toString());
    return a;
}

void AppSettings::save() const
{
    QSettings s;
    s.setValue(kPollRunning, pollRunningSeconds);
    s.setValue(kPollQueued, pollQueuedSeconds);
    s.setValue(kBudget, requestBudgetPerMinute);
    s.setValue(kStuck, stuckMinutes);
    s.setValue(kTimeCap, timeCapWarningMinutes);
    s.setValue(kPatterns, extraPatterns);
    s.setValue(kTail, tailLines);
    s.setValue(kArchive, archiveCapMb);
    s.setValue(kAppearance, theme::toString(appearance));
}

MonitorSettings AppSettings::monitorSettings(MonitorSettings base) const
{
    base.pollRunningSeconds = pollRunningSeconds;
    base.pollQueuedSeconds = pollQueuedSeconds;
    base.requestBudgetPerMinute = requestBudgetPerMinute;
    return base;
}

AlertDefaults AppSettings::alertDefaults(const AlertDefaults &base) const
{
    AlertDefaults d = base;
    d.stuckMinutes = stuckMinutes;
    d.timeCapWarningMinutes = timeCapWarningMinutes;
    d.patterns = builtinAlertPatterns();
    for (const QString &regex : extraPatterns)
        d.patterns.append({regex, regex});
    return d;
}

Deck::Settings AppSettings::deckSettings(Deck::Settings base) const
{
    base.monitor = monitorSettings(base.monitor);
    base.tailLines = tailLines;
    base.archiveCapBytes = qint64(archiveCapMb) * 1024 * 1024;
    return base;
}

void AppSettings::applyTo(Deck *deck) const
{
    deck->monitor()->setSettings(monitorSettings(deck->monitor()->settings()));
    deck->alerts()->setDefaults(alertDefaults(deck->alerts()->defaults()));
}

} // namespace kd
