#include "quickswitcher.h"

#include "runmonitor.h"
#include "runpresentation.h"

#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace kd {

namespace {
constexpr int kRunRole = Qt::UserRole;
} // namespace

QuickSwitcher::QuickSwitcher(RunMonitor *monitor, QWidget *parent)
    : QFrame(parent, Qt::Popup), m_monitor(monitor), m_edit(new QLineEdit(this)),
      m_list(new QListWidget(this))
{
    setObjectName(QStringLiteral("quickSwitcher"));
    setFrameShape(QFrame::StyledPanel);
    m_edit->setObjectName(QStringLiteral("quickSwitcherEdit"));
    m_edit->setPlaceholderText(tr("Jump to a run: type part of its title or owner/slug"));
    m_edit->setClearButtonEnabled(true);
    m_list->setObjectName(QStringLiteral("quickSwitcherList"));
    m_list->setFocusPolicy(Qt::NoFocus);
    m_list->setUniformItemSizes(true);
    auto *hint = new QLabel(tr("↑↓ to choose · Enter to jump · Esc to close"), this);
    hint->setForegroundRole(QPalette::PlaceholderText);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 8, 8, 8);
    layout->addWidget(m_edit);
    layout->addWidget(m_list);
    layout->addWidget(hint);
    m_edit->installEventFilter(this);
    connect(m_edit, &QLineEdit::textChanged, this, &QuickSwitcher::refill);
    connect(m_edit, &QLineEdit::returnPressed, this, &QuickSwitcher::choose);
    connect(m_list, &QListWidget::itemClicked, this, [this](QListWidgetItem *item) {
        m_list->setCurrentItem(item);
        choose();
    });
}

void QuickSwitcher::popup(QWidget *anchor)
{
    m_edit->clear();
    refill();
    const QFontMetrics fm = fontMetrics();
    const int width = std::min(anchor->width() - 40, fm.averageCharWidth() * 72);
    const int rows = std::clamp(int(m_list->count()), 4, 12);
    resize(width, fm.height() * 3 + m_list->sizeHintForRow(0) * rows + 48);
    move(anchor->mapToGlobal(QPoint((anchor->width() - width) / 2, anchor->height() / 8)));
    show();
    m_edit->setFocus(Qt::PopupFocusReason);
}

void QuickSwitcher::refill()
{
    const QStringList words = m_edit->text().split(u' ', Qt::SkipEmptyParts);
    struct Match
    {
        int rank;
        QString title;
        QString ref;
        RunId id;
        QIcon icon;
        QString state;
    };
    QList<Match> matches;
    for (RunId id : m_monitor->runIds()) {
        const RunState *s = m_monitor->state(id);
        if (!s)
            continue;
        const QString title = s->run.title.isEmpty() ? s->run.ref.slug : s->run.title;
        const QString ref = s->run.ref.toString();
        bool all = true;
        for (const QString &word : words)
            all = all && (title.contains(word, Qt::CaseInsensitive) ||
                          ref.contains(word, Qt::CaseInsensitive));
        if (!all)
            continue;
        // Titles that start with what was typed come first, then the rest by title.
        const int rank =
            words.isEmpty() || title.startsWith(words.first(), Qt::CaseInsensitive) ? 0 : 1;
        matches.append({rank, title, ref, id, present::stateIcon(*s), present::stateText(*s)});
    }
    std::sort(matches.begin(), matches.end(), [](const Match &a, const Match &b) {
        return a.rank != b.rank ? a.rank < b.rank
                                : a.title.compare(b.title, Qt::CaseInsensitive) < 0;
    });
    m_list->clear();
    for (const Match &m : std::as_const(matches)) {
        auto *item = new QListWidgetItem(
            m.icon, tr("%1   —   %2 · %3").arg(m.title, m.ref, m.state), m_list);
        item->setData(kRunRole, m.id);
    }
    if (m_list->count() == 0) {
        auto *item = new QListWidgetItem(m_monitor->runIds().isEmpty() ? tr("No runs watched yet")
                                                                       : tr("No run matches"),
                                         m_list);
        item->setFlags(Qt::NoItemFlags);
    } else {
        m_list->setCurrentRow(0);
    }
}

void QuickSwitcher::choose()
{
    const QListWidgetItem *item = m_list->currentItem();
    const RunId id = item ? item->data(kRunRole).toLongLong() : 0;
    if (id == 0)
        return;
    hide();
    emit runChosen(id);
}

bool QuickSwitcher::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_edit && event->type() == QEvent::KeyPress) {
        const auto *key = static_cast<QKeyEvent *>(event);
        const int row = m_list->currentRow();
        switch (key->key()) {
        case Qt::Key_Down:
            if (row + 1 < m_list->count())
                m_list->setCurrentRow(row + 1);
            return true;
        case Qt::Key_Up:
            if (row > 0)
                m_list->setCurrentRow(row - 1);
            return true;
        case Qt::Key_Escape:
            hide();
            return true;
        default:
            break;
        }
    }
    return QFrame::eventFilter(watched, event);
}

} // namespace kd
