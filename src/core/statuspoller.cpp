#include "statuspoller.h"

namespace kd {

StatusPoller::StatusPoller(KaggleClient *client, KernelListModel *model, QObject *parent)
    : QObject(parent), m_client(client), m_model(model)
{
    connect(&m_statusTimer, &QTimer::timeout, this, &StatusPoller::pollStatuses);
    connect(&m_listTimer, &QTimer::timeout, this, &StatusPoller::refresh);
}

void StatusPoller::start(int statusIntervalMs, int listIntervalMs)
{
    m_statusTimer.start(statusIntervalMs);
    m_listTimer.start(listIntervalMs);
    refresh();
}

void StatusPoller::stop()
{
    m_statusTimer.stop();
    m_listTimer.stop();
}

void StatusPoller::refresh()
{
    if (m_listing)
        return;
    m_listing = true;
    ListKernelsRequest request; // my kernels, most recently run first
    request.pageSize = 100;
    m_client->listAllKernels(request, this, [this](Result<QList<KernelMetadata>> kernels) {
        m_listing = false;
        if (!kernels) {
            emit listError(kernels.error().message);
            return;
        }
        emit listError({});
        m_model->setKernels(*kernels);
        emit kernelsListed(int(kernels->size()));
        pollStatuses();
    });
}

void StatusPoller::pollStatuses()
{
    if (m_outstanding > 0)
        return; // the previous round is still out; don't pile up
    const QList<KernelRef> refs = m_model->refs();
    m_outstanding = int(refs.size());
    for (const KernelRef &ref : refs) {
        m_client->getKernelSessionStatus(ref, this, [this, ref](Result<KernelSessionStatus> s) {
            const QDateTime now = QDateTime::currentDateTimeUtc();
            if (s)
                m_model->setStatus(ref, *s, now);
            else
                m_model->setError(ref, s.error(), now);
            if (--m_outstanding == 0)
                emit roundFinished();
        });
    }
}

} // namespace kd
