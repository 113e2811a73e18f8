#pragma once

#include "domain.h"

#include <QObject>
#include <QPointer>

class QFrame;
class QListWidget;
class QSystemTrayIcon;
class QToolButton;
class QWidget;

namespace kd {

class Deck;

/// Tells the user about the core's alerts: a tray icon with a summary of states and desktop
/// notifications when the desktop has a tray, and in every case a bell button in the window
/// whose list shows recent alerts. Clicking a notification or a listed alert selects its run.
class Notifier final : public QObject
{
    Q_OBJECT
public:
    Notifier(Deck *deck, QWidget *window);
    ~Notifier() override;

    /// The in-window bell (objectName "alertsButton"): unread count, opens the alert list.
    QToolButton *bellButton() const { return m_bell; }
    bool hasTray() const { return m_tray != nullptr; }
    /// "2 running, 1 queued, 1 failed" (the tray tooltip).
    QString summary() const;

    /// What clicking a notification or a listed alert does: marks it read and selects its
    /// run (emits runActivated; 0 for account-wide alerts such as low quota).
    void activate(const Alert &alert);
    /// Opens the alert list (objectName "alertsPopup", list "alertList") under the bell.
    void showAlerts();
    void markAllRead();

signals:
    void runActivated(kd::RunId run);
    void unreadChanged(int unread);

private:
    void onAlert(const Alert &alert);
    void updateSummary();
    void updateBell();
    void fillList();
    void refreshIcons();
    bool eventFilter(QObject *watched, QEvent *event) override;

    Deck *m_deck;
    QWidget *m_window;
    QToolButton *m_bell;
    QSystemTrayIcon *m_tray = nullptr;
    QPointer<QFrame> m_popup;
    QListWidget *m_list = nullptr;
    Alert m_lastShown; ///< the alert of the last desktop notification (messageClicked)
    QList<Alert> m_listed;
};

} // namespace kd
