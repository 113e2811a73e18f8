#include "shortcutsdialog.h"

#include <QDialogButtonBox>
#include <QHeaderView>
#include <QKeySequence>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>

namespace kd {

namespace {
QString native(QKeySequence::StandardKey key)
{
    return QKeySequence(key).toString(QKeySequence::NativeText);
}
QString native(const QString &portable)
{
    return QKeySequence(portable).toString(QKeySequence::NativeText);
}
} // namespace

QList<ShortcutsDialog::Entry> ShortcutsDialog::entries()
{
    return {
        {tr("Up / Down, K / J"), tr("Previous / next run in the table")},
        {native(QStringLiteral("Ctrl+K")), tr("Jump to a run by name")},
        {QStringLiteral("/"), tr("Search the log of the selected run")},
        {tr("F3 / Shift+F3"), tr("Next / previous search match")},
        {QStringLiteral("F"), tr("Follow the log on or off")},
        {native(QStringLiteral("Ctrl+F")), tr("Filter the run table")},
        {tr("Enter"), tr("Open the log of the selected run")},
        {native(QStringLiteral("Ctrl+N")), tr("Add a run to watch")},
        {native(QStringLiteral("Ctrl+Shift+C")), tr("Commit the selected kernel or a folder")},
        {native(QStringLiteral("Ctrl+Shift+P")), tr("Persistence of the selected kernels")},
        {native(QStringLiteral("Ctrl+Shift+D")), tr("Output → Dataset from the selected run")},
        {native(QStringLiteral("Ctrl+Shift+H")), tr("New chain of the selected kernel")},
        {native(QKeySequence::Refresh), tr("Refresh now")},
        {native(QStringLiteral("Ctrl+C")), tr("Copy the refs of the selected runs")},
        {native(QKeySequence::Delete), tr("Stop watching the selected runs")},
        {native(QKeySequence::Preferences).isEmpty() ? native(QStringLiteral("Ctrl+,"))
                                                     : native(QKeySequence::Preferences),
         tr("Settings")},
        {native(QStringLiteral("F1")), tr("This list")},
        {native(QKeySequence::Quit).isEmpty() ? native(QStringLiteral("Ctrl+Q"))
                                              : native(QKeySequence::Quit),
         tr("Quit")},
    };
}

ShortcutsDialog::ShortcutsDialog(QWidget *parent) : QDialog(parent)
{
    setObjectName(QStringLiteral("shortcutsDialog"));
    setWindowTitle(tr("Keyboard shortcuts"));
    const QList<Entry> rows = entries();
    auto *table = new QTableWidget(int(rows.size()), 2, this);
    table->setObjectName(QStringLiteral("shortcutsTable"));
    table->setHorizontalHeaderLabels({tr("Keys"), tr("Action")});
    table->verticalHeader()->hide();
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table->setSelectionMode(QAbstractItemView::NoSelection);
    table->setFocusPolicy(Qt::NoFocus);
    table->setShowGrid(false);
    table->setAlternatingRowColors(true);
    for (int i = 0; i < rows.size(); ++i) {
        auto *keys = new QTableWidgetItem(rows.at(i).keys);
        QFont bold = keys->font();
        bold.setBold(true);
        keys->setFont(bold);
        table->setItem(i, 0, keys);
        table->setItem(i, 1, new QTableWidgetItem(rows.at(i).action));
    }
    table->resizeColumnsToContents();
    table->horizontalHeader()->setStretchLastSection(true);
    table->resizeRowsToContents();

    auto *note = new QLabel(
        tr("Single-key shortcuts (J, K, F, /) work when the focus is not in a text field."), this);
    note->setWordWrap(true);
    note->setForegroundRole(QPalette::PlaceholderText);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(table);
    layout->addWidget(note);
    layout->addWidget(buttons);
    const int width = table->horizontalHeader()->length() + 80;
    const int height = table->verticalHeader()->length() + table->horizontalHeader()->height() +
                       note->sizeHint().height() + buttons->sizeHint().height() + 60;
    resize(std::max(width, 460), height);
}

} // namespace kd
