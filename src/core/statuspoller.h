#pragma once

#include "kaggleclient.h"
#include "kernellistmodel.h"

#include <QObject>
#include <QTimer>

namespace kd {

/// Keeps a KernelListModel current: lists "my kernels" (all pages), then polls every kernel's
/// session status concurrently at a fixed interval. The full run monitor (per-state rates,
/// budget, backoff) replaces this in the monitor core.
class StatusPoller final : public QObject
{
    Q_OBJECT
public:
    StatusPoller(KaggleClient *client, KernelListModel *model, QObject *parent = nullptr);

    void start(int statusIntervalMs = 5'000, int listIntervalMs = 60'000);
    void stop();
    /// Lists kernels and polls all statuses now.
    void refresh();

signals:
    /// The kernel list failed (bad credentials, offline...); empty text when it works again.
    void listError(const QString &message);
    void kernelsListed(int count);
    /// One status round finished (every kernel answered or failed).
    void roundFinished();

private:
    void pollStatuses();

    KaggleClient *m_client;
    KernelListModel *m_model;
    QTimer m_statusTimer;
    QTimer m_listTimer;
    int m_outstanding = 0;
    bool m_listing = false;
};

} // namespace kd
