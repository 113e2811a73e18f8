#pragma once

#include "commitservice.h"
#include "domain.h"

#include <QDialog>
#include <QHash>
#include <QList>

#include <optional>

class QButtonGroup;
class QCheckBox;
class QComboBox;
class QFrame;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QRadioButton;
class QSpinBox;
class QWidget;

namespace kd {

class Deck;

/// Commits a kernel, from a folder (as `kaggle kernels push -p DIR`) or from a watched run
/// (pulled through GetKernel): edits the accelerator, internet, privacy, timeout, run mode and
/// sources, validates them live as the CLI does, shows the quota the run may use, pushes, and
/// offers to queue the commit when Kaggle's GPU concurrency limit refuses it.
class CommitDialog final : public QDialog
{
    Q_OBJECT
public:
    /// With a run, pulls that kernel to edit; without one, asks for a kernel folder.
    CommitDialog(Deck *deck, std::optional<RunId> run, QWidget *parent = nullptr);

    /// Reads a kernel folder (what "Open kernel folder…" does after its file dialog).
    /// False, with the problem shown next to its field, when the folder cannot be pushed.
    bool loadFolder(const QString &folder);

    /// The draft as edited so far; nullopt until a folder or kernel is loaded.
    std::optional<CommitDraft> draft() const { return m_draft; }
    /// The problems shown now, from validation, the folder or the server.
    QList<FieldError> shownErrors() const;
    /// The error label of a field (hidden while the field is fine).
    QLabel *errorLabel(CommitField field) const;

    QPushButton *commitButton() const { return m_commit; }
    QPushButton *openFolderButton() const { return m_openFolder; }
    QPushButton *queueButton() const { return m_queue; }
    QComboBox *acceleratorCombo() const { return m_accelerator; }
    QLabel *quotaLabel() const { return m_quota; }
    QLabel *statusLabel() const { return m_status; }
    bool isBusy() const { return m_busy; }

signals:
    /// Kaggle accepted the push; the run is watched and appears in the run table.
    void committed(const kd::CommitReceipt &receipt);
    /// The draft went to the commit queue (id in deck->commitQueue()); it is pushed by itself
    /// when a GPU slot frees up.
    void queued(qint64 id, const QString &ref);

protected:
    void changeEvent(QEvent *event) override;

private:
    void buildUi();
    QWidget *sourceEdit(QPlainTextEdit *&edit, CommitField field, const QString &name,
                        const QString &placeholder, QWidget *parent);
    QLabel *makeErrorLabel(CommitField field, const QString &name, QWidget *parent);
    void chooseFolder();
    void pullKernel(const KernelRef &ref);
    void setDraft(CommitDraft draft);
    void showLoadError(const ApiError &error);
    void fillFields();
    void fieldEdited(CommitField field);
    void updateDraftFromFields();
    void validateNow();
    void showErrors();
    void updateQuota();
    void updatePersistence();
    void setBusy(bool busy, const QString &message = {});
    void submit();
    void onOutcome(const CommitOutcome &outcome);
    void queueIt();
    /// Where a field's problems are shown (fields without an input share a row).
    CommitField rowOf(CommitField field) const;

    Deck *m_deck;
    std::optional<RunId> m_run;
    std::optional<CommitDraft> m_draft;
    QList<FieldError> m_validation; ///< from CommitService::validate, live
    QList<FieldError> m_loadErrors; ///< the folder or the pull failed
    QList<FieldError> m_serverErrors;
    QList<FieldError> m_warnings; ///< a successful push's dropped sources
    int m_gpuLimit = 0;
    bool m_busy = false;
    bool m_filling = false;
    bool m_pushed = false;

    QLabel *m_origin = nullptr;
    QPushButton *m_openFolder = nullptr;
    QWidget *m_form = nullptr;
    QLineEdit *m_slug = nullptr;
    QLineEdit *m_title = nullptr;
    QLabel *m_code = nullptr;
    QComboBox *m_accelerator = nullptr;
    QCheckBox *m_internet = nullptr;
    QComboBox *m_privacy = nullptr;
    QSpinBox *m_timeout = nullptr;
    QRadioButton *m_runAll = nullptr;
    QRadioButton *m_quickSave = nullptr;
    QPlainTextEdit *m_datasets = nullptr;
    QPlainTextEdit *m_kernels = nullptr;
    QPlainTextEdit *m_competitions = nullptr;
    QPlainTextEdit *m_models = nullptr;
    QLabel *m_persistence = nullptr;
    QLabel *m_quota = nullptr;
    QHash<int, QLabel *> m_errorLabels;
    QLabel *m_status = nullptr;
    QProgressBar *m_progress = nullptr;
    QFrame *m_limitBox = nullptr;
    QLabel *m_limitText = nullptr;
    QPushButton *m_queue = nullptr;
    QPushButton *m_commit = nullptr;
    QPushButton *m_cancel = nullptr;
};

} // namespace kd
