#include "commitqueue.h"

#include "runmonitor.h"

#include <QDataStream>
#include <QIODevice>
#include <QLoggingCategory>
#include <QPointer>

#include <algorithm>

namespace kd {

namespace {

Q_LOGGING_CATEGORY(lcQueue, "kaggledeck.queue", QtInfoMsg)

const QString kLimitKey = QStringLiteral("commitQueue/gpuSessionLimit");
// Bumped when the blob layout changes; older blobs are then refused, not misread.
constexpr quint32 kFormatMagic = 0x4B44436D; // "KDCm"
constexpr quint16 kFormatVersion = 1;

} // namespace

QByteArray CommitQueue::serialize(const SaveKernelRequest &r)
{
    QByteArray data;
    QDataStream out(&data, QIODevice::WriteOnly);
    out.setVersion(QDataStream::Qt_6_4);
    out << kFormatMagic << kFormatVersion;
    out << bool(r.id.has_value()) << qint64(r.id.value_or(0));
    out << r.slug << r.newTitle << r.text << r.language << r.kernelType;
    out << r.datasetDataSources << r.kernelDataSources << r.competitionDataSources
        << r.modelDataSources << r.categoryIds;
    out << r.isPrivate << r.enableGpu << r.enableTpu << r.enableInternet;
    out << r.dockerImagePinningType << r.dockerImage;
    out << qint32(r.sessionTimeoutSeconds) << qint32(r.kernelExecutionType) << r.machineShape;
    return data;
}

std::optional<SaveKernelRequest> CommitQueue::deserialize(const QByteArray &data)
{
    QDataStream in(data);
    in.setVersion(QDataStream::Qt_6_4);
    quint32 magic = 0;
    quint16 version = 0;
    in >> magic >> version;
    if (magic != kFormatMagic || version != kFormatVersion)
        return std::nullopt;
    SaveKernelRequest r;
    bool hasId = false;
    qint64 id = 0;
    qint32 timeout = 0;
    qint32 execution = 0;
    in >> hasId >> id;
    in >> r.slug >> r.newTitle >> r.text >> r.language >> r.kernelType;
    in >> r.datasetDataSources >> r.kernelDataSources >> r.competitionDataSources >>
        r.modelDataSources >> r.categoryIds;
    in >> r.isPrivate >> r.enableGpu >> r.enableTpu >> r.enableInternet;
    in >> r.dockerImagePinningType >> r.dockerImage;
    in >> timeout >> execution >> r.machineShape;
    if (in.status() != QDataStream::Ok || !in.atEnd() ||
        execution < int(KernelExecutionType::Unspecified) ||
        execution > int(KernelExecutionType::QuickSave))
        return std::nullopt;
    if (hasId)
        r.id = id;
    r.sessionTimeoutSeconds = timeout;
    r.kernelExecutionType = static_cast<KernelExecutionType>(execution);
    return r;
}

CommitQueue::CommitQueue(CommitService *service, RunMonitor *monitor, Store *store, QObject *parent)
    : QObject(parent), m_service(service), m_monitor(monitor), m_store(store)
{
    m_items = m_store->queuedCommits();
    m_limit = m_store->value(kLimitKey).toInt();
    connect(m_monitor, &RunMonitor::sessionTransition, this, &CommitQueue::onTransition);
    if (pendingCount() > 0)
        qCInfo(lcQueue) << pendingCount() << "queued commits loaded; GPU limit" << m_limit;
}

int CommitQueue::pendingCount() const
{
    return int(std::count_if(m_items.cbegin(), m_items.cend(), [](const QueuedCommit &c) {
        return c.state == QueuedCommit::State::Pending;
    }));
}

int CommitQueue::activeGpuSessions() const
{
    int count = 0;
    for (RunId id : m_monitor->runIds()) {
        const RunState *s = m_monitor->state(id);
        if (!s || !s->session)
            continue;
        const KernelStatus st = s->session->status;
        if (st != KernelStatus::Queued && st != KernelStatus::Running)
            continue;
        const QString shape =
            s->session->machineShape.isEmpty() ? s->run.machineShape : s->session->machineShape;
        if (acceleratorOf(shape) == Accelerator::Gpu)
            ++count;
    }
    return count;
}

void CommitQueue::setLimit(int limit)
{
    if (limit <= 0 || limit == m_limit)
        return;
    m_limit = limit;
    if (auto r = m_store->setValue(kLimitKey, QString::number(limit)); !r)
        emit problem(r.error().message);
}

Result<qint64> CommitQueue::enqueue(const CommitDraft &draft, int limit)
{
    setLimit(limit);
    QueuedCommit c;
    const auto ref = KernelRef::parse(draft.request.slug);
    c.ref = ref ? ref->toString() : draft.ref.toString();
    if (ref) {
        if (const auto run = m_monitor->runByRef(*ref))
            c.runId = *run;
    }
    c.request = serialize(draft.request);
    c.machineShape = draft.request.machineShape;
    c.createdAt = QDateTime::currentDateTimeUtc();
    c.lastError = tr("Waiting for a free GPU slot");
    const Result<qint64> id = m_store->addQueuedCommit(c);
    if (!id)
        return id;
    c.id = *id;
    m_items.append(c);
    qCInfo(lcQueue).noquote() << "queued the commit of" << c.ref;
    emit queueChanged();
    return id;
}

Result<Done> CommitQueue::remove(qint64 id)
{
    if (m_dispatching == id)
        return ApiError::make(ApiError::Kind::Invalid,
                              tr("This commit is being pushed right now; wait for the result"));
    const Result<Done> r = m_store->removeQueuedCommit(id);
    if (!r)
        return r;
    m_items.removeIf([id](const QueuedCommit &c) { return c.id == id; });
    emit queueChanged();
    return r;
}

Result<Done> CommitQueue::retry(qint64 id)
{
    QueuedCommit *c = item(id);
    if (!c)
        return ApiError::make(ApiError::Kind::NotFound, tr("No queued commit with id %1").arg(id));
    QueuedCommit updated = *c;
    updated.state = QueuedCommit::State::Pending;
    updated.lastError = tr("Waiting for a free GPU slot");
    if (auto r = m_store->updateQueuedCommit(updated); !r)
        return r;
    *c = updated;
    emit queueChanged();
    dispatchIfPossible();
    return Done{};
}

QueuedCommit *CommitQueue::item(qint64 id)
{
    for (QueuedCommit &c : m_items) {
        if (c.id == id)
            return &c;
    }
    return nullptr;
}

void CommitQueue::onTransition(RunId run, const SessionRecord &session, KernelStatus previous)
{
    Q_UNUSED(run)
    const bool gpu = acceleratorOf(session.machineShape) == Accelerator::Gpu;
    // A GPU session that just ended frees a slot even if an unwatched run keeps our count low.
    const bool freed = gpu && isTerminal(session.status) && !isTerminal(previous);
    dispatchIfPossible(freed);
}

void CommitQueue::dispatchIfPossible(bool force)
{
    if (m_dispatching)
        return;
    QueuedCommit *next = nullptr;
    for (QueuedCommit &c : m_items) {
        if (c.state == QueuedCommit::State::Pending) {
            next = &c;
            break;
        }
    }
    if (!next)
        return;
    const bool needsGpu = acceleratorOf(next->machineShape) == Accelerator::Gpu;
    if (!force && needsGpu && m_limit > 0 && activeGpuSessions() >= m_limit)
        return;
    if (!force && needsGpu && m_limit <= 0)
        return; // without the limit only a freed slot is a reason to try again
    const qint64 id = next->id;
    const std::optional<SaveKernelRequest> request = deserialize(next->request);
    if (!request) {
        onOutcome(id, CommitOutcome{CommitOutcome::Status::Failed,
                                    {},
                                    ApiError::make(ApiError::Kind::Io,
                                                   tr("The queued commit could not be read "
                                                      "back (written by another version?)")),
                                    {},
                                    0});
        return;
    }
    CommitDraft draft;
    draft.origin = CommitDraft::Origin::Folder;
    draft.request = *request;
    if (const auto ref = KernelRef::parse(next->ref))
        draft.ref = *ref;
    m_dispatching = id;
    qCInfo(lcQueue).noquote() << "dispatching the queued commit of" << next->ref;
    // The push may outlive the queue (closing the app mid-push): the item then stays pending.
    QPointer<CommitQueue> self(this);
    m_service->commit(draft, [self, id](CommitOutcome outcome) {
        if (self)
            self->onOutcome(id, outcome);
    });
}

void CommitQueue::onOutcome(qint64 id, const CommitOutcome &outcome)
{
    m_dispatching.reset();
    QueuedCommit *c = item(id);
    if (!c)
        return;
    const QString ref = c->ref;
    switch (outcome.status) {
    case CommitOutcome::Status::Pushed: {
        if (auto r = m_store->removeQueuedCommit(id); !r)
            emit problem(r.error().message);
        m_items.removeIf([id](const QueuedCommit &q) { return q.id == id; });
        emit queueChanged();
        emit dispatched(outcome.receipt.ref, outcome.receipt);
        // The push is now a QUEUED GPU session the count sees; the next may still fit.
        dispatchIfPossible();
        return;
    }
    case CommitOutcome::Status::GpuLimitReached: {
        setLimit(outcome.gpuSessionLimit);
        QueuedCommit updated = *c;
        updated.lastError = outcome.error ? outcome.error->message : QString();
        if (auto r = m_store->updateQueuedCommit(updated); !r)
            emit problem(r.error().message);
        *c = updated;
        emit queueChanged();
        return; // stays first in line until the next slot frees up
    }
    case CommitOutcome::Status::Invalid:
    case CommitOutcome::Status::Failed: {
        QueuedCommit updated = *c;
        updated.state = QueuedCommit::State::Failed;
        QStringList lines;
        for (const FieldError &e : outcome.fieldErrors)
            lines << commitFieldName(e.field) + u": " + e.message;
        updated.lastError =
            lines.isEmpty() && outcome.error ? outcome.error->message : lines.join(u'\n');
        if (updated.lastError.isEmpty())
            updated.lastError = tr("The push failed");
        if (auto r = m_store->updateQueuedCommit(updated); !r)
            emit problem(r.error().message);
        *c = updated;
        emit queueChanged();
        emit failed(ref, updated.lastError);
        dispatchIfPossible();
        return;
    }
    }
}

} // namespace kd
