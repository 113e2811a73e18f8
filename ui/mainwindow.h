#pragma once

#include "domain.h"

#include <QDateTime>
#include <QMainWindow>
#include <QPointer>

#include <memory>

namespace Ui {
class MainWindow;
}

class QLabel;
class QProgressBar;
class QTableView;

namespace kd {

class Deck;
class FilterSidebar;
class LogView;
class ChainView;
class MetricsChart;
class Notifier;
class OutputsView;
class QuickSwitcher;
class QuotaPanel;
class RunInfoView;
class RunTableDelegate;
class TimelineChart;

/// The dashboard: the run table with its filter sidebar, the detail tabs of the selected
/// run, the quota dock, alerts and the status bar, all over one Deck.
class MainWindow final : public QMainWindow
{
    Q_OBJECT
public:
    explicit MainWindow(Deck *deck, QWidget *parent = nullptr);
    ~MainWindow() override;

    /// Shows the demo banner (and tells Settings the credentials are the simulator's).
    void setDemoMode(bool demo);
    /// What Settings shows about the credentials (never the key) and their warnings.
    void setCredentialInfo(const QString &description, const QStringList &warnings);

    /// Shows the window: maximized on a first start on a small screen, else as last time.
    void showAtStart();
    /// Imports the account's kernels with progress in the status bar.
    void importMyKernels();
    /// Selects the run's row (clearing filters that hide it) and scrolls to it.
    void selectRun(RunId run);
    RunId currentRun() const;
    QList<RunId> selectedRuns() const;

    Notifier *notifier() const { return m_notifier; }
    QTableView *runTable() const;
    LogView *logView() const { return m_logView; }

protected:
    void closeEvent(QCloseEvent *event) override;
    void changeEvent(QEvent *event) override;
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void setupTable();
    void setupDetail();
    void setupStatusBar();
    void setupActions();
    void refreshIcons();
    void styleBanners();
    void restoreLayout();
    void saveLayout() const;

    void onCurrentChanged();
    void onSelectionChanged();
    void updateEmptyState();
    void tick();
    void updateStatus();
    void updateProblems();
    void updateRunActions();
    void showMessage(const QString &text, int timeoutMs = 8000);
    void noteError(const QString &text);

    void addRun();
    void openCommit();
    void openPersistence();
    void openOutputToDataset();
    void openNewChain();
    void openSettings();
    void showShortcuts();
    void showAbout();
    void showContextMenu(const QPoint &pos);
    void showHeaderMenu(const QPoint &pos);
    void openOnKaggle();
    void copyRefs();
    void refreshSelected();
    void editTags();
    void setMuted(bool muted);
    void toggleSnooze();
    void removeSelected();
    void moveSelection(int delta);
    void focusLogSearch();
    void toggleFollow();
    void showLogTab();
    /// Single-key shortcuts do nothing while the user types into a text field.
    bool typing() const;

    std::unique_ptr<Ui::MainWindow> m_ui;
    Deck *m_deck;
    FilterSidebar *m_sidebar = nullptr;
    RunTableDelegate *m_delegate = nullptr;
    LogView *m_logView = nullptr;
    TimelineChart *m_timeline = nullptr;
    MetricsChart *m_metrics = nullptr;
    ChainView *m_chainView = nullptr;
    OutputsView *m_outputs = nullptr;
    RunInfoView *m_info = nullptr;
    QuotaPanel *m_quota = nullptr;
    Notifier *m_notifier = nullptr;
    QuickSwitcher *m_switcher = nullptr;
    QLabel *m_emptyLabel = nullptr;
    QLabel *m_connection = nullptr;
    QLabel *m_summary = nullptr;
    QLabel *m_message = nullptr;
    QLabel *m_lastError = nullptr;
    QProgressBar *m_importProgress = nullptr;
    QTimer *m_tick = nullptr;
    QTimer *m_messageTimer = nullptr;
    QPointer<QWidget> m_shortcuts;
    bool m_demo = false;
    bool m_importing = false;
    bool m_restoredGeometry = false;
    QString m_credentialText;
    QStringList m_credentialWarnings;
    QDateTime m_offlineSince;
    QString m_lastErrorText;
    QDateTime m_lastErrorAt;
    RunId m_shownRun = 0;
};

} // namespace kd
