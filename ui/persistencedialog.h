#pragma once

#include "domain.h"
#include "persistence.h"

#include <QDialog>
#include <QHash>
#include <QList>

class QButtonGroup;
class QLabel;
class QPushButton;
class QRadioButton;

namespace kd {

class Deck;
struct RunState;

/// Sets Kaggle's session persistence mode of one or more watched kernels. Says plainly that
/// Kaggle applies the modes only to interactive sessions and that its public API cannot set
/// them, and what KaggleDeck does instead for committed runs: with "Files" every commit adds
/// the kernel to its own kernel sources and the outputs are mirrored locally; "Variables"
/// cannot be kept for committed runs and is marked so. Saves through the run settings.
class PersistenceDialog final : public QDialog
{
    Q_OBJECT
public:
    PersistenceDialog(Deck *deck, QList<RunId> runs, QWidget *parent = nullptr);

    /// The runs shown (those still watched), in order.
    QList<RunId> runs() const { return m_runs; }
    /// The radio button of a mode for a run; null when the run is not shown.
    QRadioButton *modeButton(RunId run, PersistenceMode mode) const;
    PersistenceMode selectedMode(RunId run) const;
    /// What committed runs get in the selected mode (live).
    QLabel *effectLabel(RunId run) const;
    /// The local mirror folder of the run's outputs (shown while a Files mode is selected).
    QLabel *mirrorLabel(RunId run) const;
    QLabel *errorLabel() const { return m_error; }
    QPushButton *saveButton() const { return m_save; }

signals:
    /// A run's stored mode changed (after Save).
    void persistenceChanged(kd::RunId run, kd::PersistenceMode mode);

protected:
    void changeEvent(QEvent *event) override;

private:
    struct Row
    {
        QButtonGroup *group = nullptr;
        QHash<int, QRadioButton *> buttons;
        QLabel *effect = nullptr;
        QLabel *mirror = nullptr;
        PersistenceMode stored = PersistenceMode::None;
    };
    QWidget *runBox(RunId run, const RunState &state, QWidget *parent);
    void updateRow(RunId run);
    void save();

    Deck *m_deck;
    QList<RunId> m_runs;
    QHash<RunId, Row> m_rows;
    QLabel *m_error = nullptr;
    QPushButton *m_save = nullptr;
};

} // namespace kd
