#include "notifier.h"

#include "deck.h"
#include "format.h"
#include "runtablemodel.h"
#include "store.h"
#include "theme.h"
#include "uilog.h"

#include <QApplication>
#include <QEvent>
#include <QFrame>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QMenu>
#include <QPushButton>
#include <QScreen>
#include <QSet>
#include <QSystemTrayIcon>
#include <QToolButton>
#include <QVBoxLayout>

namespace kd {

namespace {
constexpr int kListedAlerts = 50;
constexpr int kAlertRole = Qt::UserRole;

QIcon alertIcon(AlertKind kind)
{
    switch (kind) {
    case AlertKind::Finished:
        return QIcon(QStringLiteral(":/icons/state-complete.svg"));
    case AlertKind::Failed:
        return QIcon(QStringLiteral(":/icons/state-error.svg"));
    case AlertKind::Cancelled:
        return QIcon(QStringLiteral(":/icons/state-cancelled.svg"));
    case AlertKind::Stuck:
    case AlertKind::TimeCap:
        return QIcon(QStringLiteral(":/icons/state-timecap.svg"));
    case AlertKind::LogPattern:
    case AlertKind::QuotaLow:
        return QIcon(QStringLiteral(":/icons/state-warning.svg"));
    }
    return {};
}

QSystemTrayIcon::MessageIcon trayIcon(AlertKind kind)
{
    switch (kind) {
    case AlertKind::Failed:
        return QSystemTrayIcon::Critical;
    case AlertKind::Stuck:
    case AlertKind::LogPattern:
    case AlertKind::TimeCap:
    case AlertKind::QuotaLow:
        return QSystemTrayIcon::Warning;
    case AlertKind::Finished:
    case AlertKind::Cancelled:
        break;
    }
    return QSystemTrayIcon::Information;
}
} // namespace

Notifier::Notifier(Deck *deck, QWidget *window)
    : QObject(window), m_deck(deck), m_window(window), m_bell(new QToolButton(window))
{
    m_bell->setObjectName(QStringLiteral("alertsButton"));
    m_bell->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_bell->setAutoRaise(true);
    m_bell->setAccessibleName(tr("Alerts"));
    connect(m_bell, &QToolButton::clicked, this, &Notifier::showAlerts);
    m_bell->installEventFilter(this);
    refreshIcons();

    if (QSystemTrayIcon::isSystemTrayAvailable()) {
        m_tray = new QSystemTrayIcon(QIcon(QStringLiteral(":/icons/kaggledeck.svg")), this);
        m_tray->setObjectName(QStringLiteral("trayIcon"));
        auto *menu = new QMenu(window);
        menu->addAction(tr("Show KaggleDeck"), window, [window] {
            window->showNormal();
            window->raise();
            window->activateWindow();
        });
        menu->addAction(tr("Alerts…"), this, &Notifier::showAlerts);
        menu->addSeparator();
        menu->addAction(tr("Quit"), qApp, &QCoreApplication::quit);
        m_tray->setContextMenu(menu);
        connect(m_tray, &QSystemTrayIcon::activated, window,
                [window](QSystemTrayIcon::ActivationReason reason) {
                    if (reason != QSystemTrayIcon::Trigger)
                        return;
                    window->showNormal();
                    window->raise();
                    window->activateWindow();
                });
        connect(m_tray, &QSystemTrayIcon::messageClicked, this, [this] {
            if (m_lastShown.id != 0 || m_lastShown.runId != 0)
                activate(m_lastShown);
        });
        m_tray->show();
    } else {
        qCInfo(lcUi) << "no system tray: alerts show in the window only";
    }

    connect(deck, &Deck::alertRaised, this, &Notifier::onAlert);
    connect(deck->runFilter(), &RunFilterProxy::countsChanged, this, &Notifier::updateSummary);
    updateSummary();
    updateBell();
}

Notifier::~Notifier() = default;

QString Notifier::summary() const
{
    const RunFilterProxy *p = m_deck->runFilter();
    QStringList parts;
    if (const int n = p->count(RunCategory::Running))
        parts << tr("%1 running").arg(n);
    if (const int n = p->count(RunCategory::Queued))
        parts << tr("%1 queued").arg(n);
    if (const int n = p->count(RunCategory::Error))
        parts << tr("%1 failed").arg(n);
    if (const int n = p->count(RunCategory::Stale))
        parts << tr("%1 stale").arg(n);
    if (parts.isEmpty())
        return p->count(RunCategory::All) == 0 ? tr("No runs watched") : tr("Nothing running");
    return parts.join(QStringLiteral(", "));
}

void Notifier::updateSummary()
{
    if (m_tray)
        m_tray->setToolTip(tr("KaggleDeck: %1").arg(summary()));
}

void Notifier::updateBell()
{
    const int unread = m_deck->store()->unacknowledgedAlertCount();
    m_bell->setText(unread > 0 ? QString::number(unread) : QString());
    m_bell->setToolTip(unread > 0 ? unread == 1
                                        ? tr("1 unread alert: click to see it")
                                        : tr("%1 unread alerts: click to see them").arg(unread)
                                  : tr("Alerts: none unread"));
    emit unreadChanged(unread);
}

void Notifier::refreshIcons()
{
    m_bell->setIcon(theme::icon(QStringLiteral("bell"), m_bell->palette()));
}

bool Notifier::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_bell && event->type() == QEvent::PaletteChange)
        refreshIcons();
    return QObject::eventFilter(watched, event);
}

void Notifier::onAlert(const Alert &alert)
{
    updateBell();
    if (m_popup && m_popup->isVisible())
        fillList();
    if (!m_tray)
        return;
    m_lastShown = alert;
    const QString text = alert.text.section(u'\n', 0, 2);
    m_tray->showMessage(alert.title, text, trayIcon(alert.kind), 10'000);
}

void Notifier::activate(const Alert &alert)
{
    if (alert.id != 0) {
        if (auto r = m_deck->store()->acknowledgeAlert(alert.id); !r)
            qCWarning(lcUi) << "cannot mark the alert read:" << r.error().message;
    }
    if (m_popup)
        m_popup->hide();
    updateBell();
    m_window->showNormal();
    m_window->raise();
    m_window->activateWindow();
    emit runActivated(alert.runId);
}

void Notifier::markAllRead()
{
    if (auto r = m_deck->store()->acknowledgeAllAlerts(); !r)
        qCWarning(lcUi) << "cannot mark the alerts read:" << r.error().message;
    updateBell();
    if (m_popup && m_popup->isVisible())
        fillList();
}

void Notifier::showAlerts()
{
    if (!m_popup) {
        m_popup = new QFrame(m_window, Qt::Popup);
        m_popup->setObjectName(QStringLiteral("alertsPopup"));
        m_popup->setFrameShape(QFrame::StyledPanel);
        auto *layout = new QVBoxLayout(m_popup);
        layout->setContentsMargins(8, 8, 8, 8);
        auto *head = new QHBoxLayout;
        auto *title = new QLabel(tr("<b>Alerts</b>"), m_popup);
        auto *readAll = new QPushButton(tr("Mark all read"), m_popup);
        readAll->setObjectName(QStringLiteral("markAllReadButton"));
        connect(readAll, &QPushButton::clicked, this, &Notifier::markAllRead);
        head->addWidget(title);
        head->addStretch();
        head->addWidget(readAll);
        layout->addLayout(head);
        m_list = new QListWidget(m_popup);
        m_list->setObjectName(QStringLiteral("alertList"));
        m_list->setWordWrap(false);
        m_list->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
        m_list->setTextElideMode(Qt::ElideRight);
        m_list->setUniformItemSizes(false);
        m_list->setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);
        m_list->setSpacing(2);
        layout->addWidget(m_list);
        connect(m_list, &QListWidget::itemClicked, this, [this](QListWidgetItem *item) {
            const int index = item->data(kAlertRole).toInt();
            if (index >= 0 && index < m_listed.size())
                activate(m_listed.at(index));
        });
        connect(m_list, &QListWidget::itemActivated, this, [this](QListWidgetItem *item) {
            const int index = item->data(kAlertRole).toInt();
            if (index >= 0 && index < m_listed.size())
                activate(m_listed.at(index));
        });
    }
    const QFontMetrics fm = m_popup->fontMetrics();
    const QSize size(fm.averageCharWidth() * 76, fm.height() * 24);
    m_popup->resize(size);
    fillList();
    QPoint at =
        m_bell->mapToGlobal(QPoint(m_bell->width(), m_bell->height())) - QPoint(size.width(), 0);
    if (const QScreen *screen = m_bell->screen()) {
        const QRect area = screen->availableGeometry();
        at.setX(
            std::clamp(at.x(), area.left(), std::max(area.left(), area.right() - size.width())));
        at.setY(
            std::clamp(at.y(), area.top(), std::max(area.top(), area.bottom() - size.height())));
    }
    m_popup->move(at);
    m_popup->show();
    m_list->setFocus();
}

void Notifier::fillList()
{
    if (!m_list)
        return;
    m_list->clear();
    m_listed = m_deck->store()->alerts(kListedAlerts);
    QSet<qint64> unread;
    for (const Alert &a : m_deck->store()->alerts(kListedAlerts, AlertFilter::Unacknowledged))
        unread.insert(a.id);
    if (m_listed.isEmpty()) {
        auto *item = new QListWidgetItem(
            tr("No alerts yet.\nFinished or failed runs, stuck runs, tracebacks,\nthe time "
               "cap and a low quota show up here."),
            m_list);
        item->setFlags(Qt::NoItemFlags);
        item->setData(kAlertRole, -1);
        return;
    }
    for (int i = 0; i < m_listed.size(); ++i) {
        const Alert &a = m_listed.at(i);
        // Title, then when and the gist: the first lines of the details on one line.
        QString detail = format::ago(a.at);
        if (const QString gist = a.text.section(u'\n', 0, 1).simplified(); !gist.isEmpty())
            detail += QStringLiteral("  \u00b7  ") + gist;
        const QString text =
            a.title + u'\n' +
            m_list->fontMetrics().elidedText(detail, Qt::ElideRight, m_popup->width() - 90);
        auto *item = new QListWidgetItem(alertIcon(a.kind), text, m_list);
        item->setData(kAlertRole, i);
        item->setToolTip(a.text);
        if (unread.contains(a.id)) {
            QFont font = m_list->font();
            font.setBold(true);
            item->setFont(font);
        }
    }
}

} // namespace kd
