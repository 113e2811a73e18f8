#pragma once

#include <QDialog>

namespace kd {

/// Help -> Keyboard shortcuts: every key the window understands, in one table.
class ShortcutsDialog final : public QDialog
{
    Q_OBJECT
public:
    struct Entry
    {
        QString keys;
        QString action;
    };
    /// The shortcuts, in the order they are listed (the window binds the same keys).
    static QList<Entry> entries();

    explicit ShortcutsDialog(QWidget *parent = nullptr);
};

} // namespace kd
