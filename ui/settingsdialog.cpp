#include "settingsdialog.h"

#include "theme.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QTabWidget>
#include <QVBoxLayout>

namespace kd {

namespace {
QLabel *note(const QString &text, QWidget *parent)
{
    auto *label = new QLabel(text, parent);
    label->setWordWrap(true);
    label->setForegroundRole(QPalette::PlaceholderText);
    return label;
}

QSpinBox *spin(int min, int max, int value, const QString &suffix, const QString &name,
               QWidget *parent)
{
    auto *box = new QSpinBox(parent);
    box->setObjectName(name);
    box->setRange(min, max);
    box->setValue(value);
    box->setSuffix(suffix);
    box->setMinimumWidth(box->fontMetrics().horizontalAdvance(QStringLiteral("000000 min")) + 40);
    return box;
}
} // namespace

SettingsDialog::SettingsDialog(const AppSettings &settings, const Account &account, QWidget *parent)
    : QDialog(parent), m_initial(settings)
{
    setObjectName(QStringLiteral("settingsDialog"));
    setWindowTitle(tr("KaggleDeck Settings"));
    auto *tabs = new QTabWidget(this);
    tabs->setObjectName(QStringLiteral("settingsTabs"));
    tabs->addTab(accountPage(account), tr("Account"));
    tabs->addTab(pollingPage(), tr("Polling"));
    tabs->addTab(alertsPage(), tr("Alerts"));
    tabs->addTab(logsPage(), tr("Logs"));
    tabs->addTab(appearancePage(), tr("Appearance"));

    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(tabs);
    layout->addWidget(m_buttons);
    resize(std::max(sizeHint().width(), 560), std::max(sizeHint().height(), 420));
}

QWidget *SettingsDialog::accountPage(const Account &account)
{
    auto *page = new QWidget(this);
    auto *form = new QFormLayout(page);
    form->setRowWrapPolicy(QFormLayout::WrapLongRows);
    auto *credentials = new QLabel(account.credentials, page);
    credentials->setObjectName(QStringLiteral("credentialSourceLabel"));
    credentials->setWordWrap(true);
    credentials->setTextInteractionFlags(Qt::TextSelectableByMouse);
    form->addRow(tr("Credentials:"), credentials);
    if (!account.warnings.isEmpty()) {
        auto *warnings = new QLabel(account.warnings.join(u'\n'), page);
        warnings->setObjectName(QStringLiteral("credentialWarnings"));
        warnings->setWordWrap(true);
        warnings->setStyleSheet(
            QStringLiteral("QLabel { color: %1; }").arg(theme::warningColor(palette()).name()));
        form->addRow(QString(), warnings);
    }
    form->addRow(QString(),
                 note(account.demo
                          ? tr("Demo mode uses the simulator's own account; your Kaggle "
                               "credentials are not read.")
                          : tr("KaggleDeck looks for credentials as the kaggle command line "
                               "tool does: KAGGLE_API_TOKEN or ~/.kaggle/access_token first, "
                               "then kaggle.json or KAGGLE_USERNAME/KAGGLE_KEY. The key itself "
                               "is never shown. Edit those files to change the account, then "
                               "restart KaggleDeck."),
                      page));
    auto *endpoint = new QLabel(account.endpoint, page);
    endpoint->setObjectName(QStringLiteral("endpointLabel"));
    endpoint->setTextInteractionFlags(Qt::TextSelectableByMouse);
    form->addRow(tr("Endpoint:"), endpoint);
    form->addRow(QString(),
                 note(tr("Set KAGGLE_API_ENDPOINT before starting KaggleDeck to use another "
                         "server, e.g. http://127.0.0.1:7777 for the kaggle-sim simulator."),
                      page));
    return page;
}

QWidget *SettingsDialog::pollingPage()
{
    auto *page = new QWidget(this);
    auto *form = new QFormLayout(page);
    m_pollRunning = spin(5, 3600, int(m_initial.pollRunningSeconds), tr(" s"),
                         QStringLiteral("pollRunningSpin"), page);
    m_pollQueued = spin(5, 3600, int(m_initial.pollQueuedSeconds), tr(" s"),
                        QStringLiteral("pollQueuedSpin"), page);
    m_budget = spin(10, 1000, m_initial.requestBudgetPerMinute, tr(" per minute"),
                    QStringLiteral("budgetSpin"), page);
    form->addRow(tr("Check running runs every:"), m_pollRunning);
    form->addRow(tr("Check queued runs every:"), m_pollQueued);
    form->addRow(tr("Request budget:"), m_budget);
    form->addRow(QString(),
                 note(tr("Finished runs are not polled. The budget caps every request "
                         "KaggleDeck makes (status, logs, outputs, quota) so it stays polite "
                         "to Kaggle however many runs you watch."),
                      page));
    return page;
}

QWidget *SettingsDialog::alertsPage()
{
    auto *page = new QWidget(this);
    auto *form = new QFormLayout(page);
    m_stuck =
        spin(1, 24 * 60, m_initial.stuckMinutes, tr(" min"), QStringLiteral("stuckSpin"), page);
    m_timeCap = spin(1, 12 * 60, m_initial.timeCapWarningMinutes, tr(" min"),
                     QStringLiteral("timeCapSpin"), page);
    form->addRow(tr("Warn when a running log is silent for:"), m_stuck);
    form->addRow(tr("Warn before the time cap:"), m_timeCap);
    m_patterns = new QPlainTextEdit(m_initial.extraPatterns.join(u'\n'), page);
    m_patterns->setObjectName(QStringLiteral("patternsEdit"));
    m_patterns->setPlaceholderText(tr("One regular expression per line, e.g. (?i)early stopping"));
    m_patterns->setTabChangesFocus(true);
    m_patterns->setMinimumHeight(m_patterns->fontMetrics().height() * 5);
    form->addRow(tr("Extra log patterns:"), m_patterns);
    m_patternError = new QLabel(page);
    m_patternError->setObjectName(QStringLiteral("patternError"));
    m_patternError->setWordWrap(true);
    m_patternError->setStyleSheet(
        QStringLiteral("QLabel { color: %1; }").arg(theme::dangerColor(palette()).name()));
    m_patternError->hide();
    form->addRow(QString(), m_patternError);
    form->addRow(QString(),
                 note(tr("Tracebacks, CUDA out of memory and a NaN loss are always detected. "
                         "Mute or snooze a single run from its context menu."),
                      page));
    connect(m_patterns, &QPlainTextEdit::textChanged, this, &SettingsDialog::validatePatterns);
    return page;
}

QWidget *SettingsDialog::logsPage()
{
    auto *page = new QWidget(this);
    auto *form = new QFormLayout(page);
    m_tailLines = spin(1'000, 1'000'000, m_initial.tailLines, tr(" lines"),
                       QStringLiteral("tailLinesSpin"), page);
    m_tailLines->setSingleStep(1'000);
    m_archiveCap =
        spin(1, 10'000, m_initial.archiveCapMb, tr(" MB"), QStringLiteral("archiveCapSpin"), page);
    form->addRow(tr("Lines kept in memory per run:"), m_tailLines);
    form->addRow(tr("Full log kept on disk, up to:"), m_archiveCap);
    form->addRow(QString(), note(tr("These take effect at the next start."), page));
    return page;
}

QWidget *SettingsDialog::appearancePage()
{
    auto *page = new QWidget(this);
    auto *form = new QFormLayout(page);
    m_appearance = new QComboBox(page);
    m_appearance->setObjectName(QStringLiteral("appearanceCombo"));
    m_appearance->addItem(tr("Follow the system"), int(theme::Appearance::System));
    m_appearance->addItem(tr("Light"), int(theme::Appearance::Light));
    m_appearance->addItem(tr("Dark"), int(theme::Appearance::Dark));
    m_appearance->setCurrentIndex(m_appearance->findData(int(m_initial.appearance)));
    form->addRow(tr("Theme:"), m_appearance);
    return page;
}

void SettingsDialog::validatePatterns()
{
    QStringList problems;
    const QStringList lines = m_patterns->toPlainText().split(u'\n', Qt::SkipEmptyParts);
    for (const QString &line : lines) {
        const QRegularExpression re(line.trimmed());
        if (!re.isValid())
            problems << tr("“%1”: %2").arg(line.trimmed(), re.errorString());
    }
    m_patternError->setText(problems.join(u'\n'));
    m_patternError->setVisible(!problems.isEmpty());
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(problems.isEmpty());
}

AppSettings SettingsDialog::settings() const
{
    AppSettings s = m_initial;
    s.pollRunningSeconds = m_pollRunning->value();
    s.pollQueuedSeconds = m_pollQueued->value();
    s.requestBudgetPerMinute = m_budget->value();
    s.stuckMinutes = m_stuck->value();
    s.timeCapWarningMinutes = m_timeCap->value();
    s.extraPatterns.clear();
    for (const QString &line : m_patterns->toPlainText().split(u'\n', Qt::SkipEmptyParts))
        if (!line.trimmed().isEmpty())
            s.extraPatterns << line.trimmed();
    s.tailLines = m_tailLines->value();
    s.archiveCapMb = m_archiveCap->value();
    s.appearance = theme::Appearance(m_appearance->currentData().toInt());
    return s;
}

} // namespace kd
