#pragma once

#include "appsettings.h"

#include <QDialog>

class QComboBox;
class QDialogButtonBox;
class QLabel;
class QPlainTextEdit;
class QSpinBox;

namespace kd {

/// Preferences: where the credentials came from (never the key), the endpoint, polling,
/// alert rules, log retention and appearance.
class SettingsDialog final : public QDialog
{
    Q_OBJECT
public:
    struct Account
    {
        QString credentials;  ///< Credentials::describe() or the demo's description
        QStringList warnings; ///< e.g. the chmod 600 warning
        QString endpoint;
        bool demo = false;
    };

    SettingsDialog(const AppSettings &settings, const Account &account, QWidget *parent = nullptr);

    AppSettings settings() const;

private:
    QWidget *accountPage(const Account &account);
    QWidget *pollingPage();
    QWidget *alertsPage();
    QWidget *logsPage();
    QWidget *appearancePage();
    void validatePatterns();

    AppSettings m_initial;
    QSpinBox *m_pollRunning = nullptr;
    QSpinBox *m_pollQueued = nullptr;
    QSpinBox *m_budget = nullptr;
    QSpinBox *m_stuck = nullptr;
    QSpinBox *m_timeCap = nullptr;
    QPlainTextEdit *m_patterns = nullptr;
    QLabel *m_patternError = nullptr;
    QSpinBox *m_tailLines = nullptr;
    QSpinBox *m_archiveCap = nullptr;
    QComboBox *m_appearance = nullptr;
    QDialogButtonBox *m_buttons = nullptr;
};

} // namespace kd
