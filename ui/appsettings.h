#pragma once

#include "deck.h"
#include "theme.h"

#include <QStringList>

namespace kd {

struct AlertDefaults;

/// The user's preferences (what the settings dialog edits), persisted with QSettings.
struct AppSettings
{
    double pollRunningSeconds = 15;
    double pollQueuedSeconds = 60;
    int requestBudgetPerMinute = 120;
    int stuckMinutes = 20;
    int timeCapWarningMinutes = 30;
    QStringList extraPatterns; ///< regular expressions, one alert rule each
    int tailLines = 20'000;
    int archiveCapMb = 64;
    theme::Appearance appearance = theme::Appearance::System;

    static AppSettings load();
    void save() const;

    /// `base` with the user's choices laid over it (fields the user cannot edit are kept).
    MonitorSettings monitorSettings(MonitorSettings base) const;
    AlertDefaults alertDefaults(const AlertDefaults &base) const;
    Deck::Settings deckSettings(Deck::Settings base) const;
    /// Applies what can change while running: polling and alert rules. Log retention sizes
    /// take effect at the next start (the tails in memory are already sized).
    void applyTo(Deck *deck) const;

    friend bool operator==(const AppSettings &, const AppSettings &) = default;
};

} // namespace kd
