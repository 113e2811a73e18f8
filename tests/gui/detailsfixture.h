#pragma once

// The real stack behind the detail tabs: the simulator on loopback, libcurl, the Kaggle client,
// a SQLite store in a temporary directory and a Deck with fast polling.

#include "curlhttpclient.h"
#include "deck.h"
#include "kaggleclient.h"
#include "logfollower.h"
#include "runmonitor.h"
#include "simulator.h"
#include "store.h"
#include "theme.h"

#include <QApplication>
#include <QDir>
#include <QStandardPaths>
#include <QStyleFactory>
#include <QTemporaryDir>
#include <QTest>
#include <QWidget>

#include <memory>

namespace kd::test {

struct DetailsFixture
{
    QTemporaryDir dir;
    std::unique_ptr<sim::Simulator> sim;
    std::unique_ptr<net::CurlHttpClient> http;
    std::unique_ptr<KaggleClient> client;
    std::unique_ptr<Store> store;
    std::unique_ptr<Deck> deck;

    /// False (with a warning) when a piece cannot start.
    bool setUp(int tailLines = 20'000)
    {
        if (!dir.isValid())
            return false;
        sim::Options so;
        so.speed = 0; // the test moves the clock
        so.seed = 7;
        so.sseIdleTimeoutSeconds = 5;
        sim = std::make_unique<sim::Simulator>(so);
        std::string error;
        if (!sim->loadScenarioFile(KD_TEST_DATA_DIR "/scenarios/basic.json", &error)) {
            qWarning("scenario: %s", error.c_str());
            return false;
        }
        if (!sim->start())
            return false;
        http = std::make_unique<net::CurlHttpClient>();
        KaggleClient::Options o;
        o.endpoint = QUrl(QString::fromStdString(sim->endpoint()));
        o.backoffBaseMs = 10;
        o.backoffMaxMs = 50;
        o.maxAttempts = 2;
        o.requestTimeoutMs = 5000;
        client = std::make_unique<KaggleClient>(
            http.get(),
            Credentials::fromKey(QStringLiteral("alice"), QStringLiteral("alice-key-123456")), o);
        auto opened = Store::open(dir.filePath(QStringLiteral("history.sqlite")));
        if (!opened.ok()) {
            qWarning("store: %s", qPrintable(opened.error().message));
            return false;
        }
        store = std::move(opened).value();
        Deck::Settings settings;
        settings.monitor.pollRunningSeconds = 0.1;
        settings.monitor.pollQueuedSeconds = 0.2;
        settings.monitor.quotaPollSeconds = 30;
        settings.monitor.pushGraceSeconds = 30;
        settings.monitor.maxBackoffSeconds = 1;
        settings.monitor.requestBudgetPerMinute = 100'000;
        settings.tailLines = tailLines;
        deck = std::make_unique<Deck>(client.get(), store.get(), dir.path(), settings);
        LogFollower::Settings ls;
        ls.reconnectDelayMs = 50;
        ls.pollIntervalMs = 200;
        deck->monitor()->logFollower()->setSettings(ls);
        deck->start();
        return true;
    }

    void tearDown()
    {
        deck.reset();
        store.reset();
        client.reset();
        http.reset();
        sim.reset();
    }

    /// Watches a kernel and waits for its first status; 0 on failure.
    RunId watch(const char *ref)
    {
        const auto id = deck->monitor()->watch(QString::fromLatin1(ref));
        if (!id.ok())
            return 0;
        deck->monitor()->pollNow(*id);
        return *id;
    }

    const RunState &state(RunId id) const { return *deck->monitor()->state(id); }
    bool hasSession(RunId id) const { return state(id).session.has_value(); }
    KernelStatus status(RunId id) const { return state(id).session->status; }
};

/// Light by default; dark for the second set of screenshots. Fusion looks the same everywhere.
inline void usePalette(bool dark)
{
    QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
    QApplication::setPalette(dark ? theme::darkPalette() : theme::lightPalette());
}

/// Saves a screenshot artifact (no pixel comparison).
inline bool saveScreenshot(QWidget *widget, const QString &name)
{
    // Layouts settle in posted events; a grab before them shows stale geometry.
    QCoreApplication::processEvents();
    QDir().mkpath(QStringLiteral(KD_SCREENSHOT_DIR));
    return widget->grab().save(QDir(QStringLiteral(KD_SCREENSHOT_DIR)).filePath(name));
}

} // namespace kd::test
