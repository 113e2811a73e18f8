#pragma once

#include <QMainWindow>

#include <memory>

namespace Ui {
class MainWindow;
}

namespace kd {

class KernelListModel;
class StatusPoller;

/// The first KaggleDeck window: the account's kernels with their live session status.
class MainWindow final : public QMainWindow
{
    Q_OBJECT
public:
    MainWindow(KernelListModel *model, StatusPoller *poller, QWidget *parent = nullptr);
    ~MainWindow() override;

    /// Shows the demo banner and the endpoint the data comes from.
    void setDemoMode(bool demo);
    void setEndpointText(const QString &text);

private:
    void showListError(const QString &message);

    std::unique_ptr<Ui::MainWindow> m_ui;
    KernelListModel *m_model;
    QString m_endpointText;
};

} // namespace kd
