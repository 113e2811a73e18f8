#pragma once

#include "domain.h"

#include <QFrame>

class QLineEdit;
class QListWidget;

namespace kd {

class RunMonitor;

/// Ctrl+K: a popup to jump to a run by typing part of its title or ref; Enter selects.
class QuickSwitcher final : public QFrame
{
    Q_OBJECT
public:
    QuickSwitcher(RunMonitor *monitor, QWidget *parent);

    /// Shows the popup near the top of `anchor`, empty and focused.
    void popup(QWidget *anchor);
    QLineEdit *lineEdit() const { return m_edit; }
    QListWidget *list() const { return m_list; }

signals:
    void runChosen(kd::RunId run);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void refill();
    void choose();

    RunMonitor *m_monitor;
    QLineEdit *m_edit;
    QListWidget *m_list;
};

} // namespace kd
