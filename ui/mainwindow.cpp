#include "mainwindow.h"
#include "ui_mainwindow.h"

#include "kernellistmodel.h"
#include "statuspoller.h"
#include "statusproxymodel.h"

#include <QHeaderView>
#include <QSortFilterProxyModel>

namespace kd {

MainWindow::MainWindow(KernelListModel *model, StatusPoller *poller, QWidget *parent)
    : QMainWindow(parent), m_ui(std::make_unique<Ui::MainWindow>()), m_model(model)
{
    m_ui->setupUi(this);
    setWindowIcon(QIcon(QStringLiteral(":/icons/kaggledeck.svg")));

    auto *decorated = new StatusProxyModel(KernelListModel::StatusColumn, this);
    decorated->setSourceModel(model);
    auto *sorted = new QSortFilterProxyModel(this);
    sorted->setSourceModel(decorated);
    sorted->setSortRole(KernelListModel::RawRole);
    m_ui->kernelTable->setModel(sorted);
    m_ui->kernelTable->sortByColumn(KernelListModel::RefColumn, Qt::AscendingOrder);
    m_ui->kernelTable->verticalHeader()->hide();
    QHeaderView *header = m_ui->kernelTable->horizontalHeader();
    header->setSectionResizeMode(QHeaderView::ResizeToContents);
    header->setSectionResizeMode(KernelListModel::TitleColumn, QHeaderView::Stretch);

    m_ui->demoBanner->setStyleSheet(QStringLiteral(
        "QLabel { background: #fff4d6; color: #5c4400; border: 1px solid #e8cf8a; "
        "border-radius: 4px; }"));
    m_ui->demoBanner->hide();
    m_ui->errorBanner->setStyleSheet(QStringLiteral(
        "QLabel { background: #fde2e1; color: #7a1c18; border: 1px solid #f0a9a5; "
        "border-radius: 4px; }"));
    m_ui->errorBanner->hide();

    connect(poller, &StatusPoller::listError, this, &MainWindow::showListError);
    connect(poller, &StatusPoller::kernelsListed, this, [this](int count) {
        statusBar()->showMessage(tr("%n kernel(s) from %1", nullptr, count).arg(m_endpointText));
    });
}

MainWindow::~MainWindow() = default;

void MainWindow::setDemoMode(bool demo)
{
    m_ui->demoBanner->setVisible(demo);
    setWindowTitle(demo ? tr("KaggleDeck (demo)") : tr("KaggleDeck"));
}

void MainWindow::setEndpointText(const QString &text)
{
    m_endpointText = text;
    statusBar()->showMessage(tr("Connecting to %1…").arg(text));
}

void MainWindow::showListError(const QString &message)
{
    m_ui->errorBanner->setText(tr("Cannot list kernels: %1").arg(message));
    m_ui->errorBanner->setVisible(!message.isEmpty());
}

} // namespace kd
