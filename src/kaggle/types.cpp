#include "types.h"

#include "apierror.h"

namespace kd {

namespace {

bool isRefChar(QChar c)
{
    const char16_t u = c.unicode();
    return (u >= u'a' && u <= u'z') || (u >= u'A' && u <= u'Z') || (u >= u'0' && u <= u'9') ||
           u == u'-' || u == u'_' || u == u'.';
}

bool isRefSegment(QStringView s)
{
    if (s.isEmpty() || s.size() > 200)
        return false;
    bool onlyDots = true;
    for (QChar c : s) {
        if (!isRefChar(c))
            return false;
        onlyDots = onlyDots && c == u'.';
    }
    return !onlyDots; // "." and ".." would be path tricks, not names
}

} // namespace

std::optional<KernelRef> KernelRef::parse(QStringView text)
{
    QStringView s = text.trimmed();
    if (const auto i = s.indexOf(u'#'); i >= 0)
        s = s.left(i);
    if (const auto i = s.indexOf(u'?'); i >= 0)
        s = s.left(i);

    bool isUrl = false;
    if (s.startsWith(u"https://", Qt::CaseInsensitive)) {
        s = s.mid(8);
        isUrl = true;
    } else if (s.startsWith(u"http://", Qt::CaseInsensitive)) {
        s = s.mid(7);
        isUrl = true;
    }
    if (s.startsWith(u"www.kaggle.com/", Qt::CaseInsensitive)) {
        s = s.mid(15);
        isUrl = true;
    } else if (s.startsWith(u"kaggle.com/", Qt::CaseInsensitive)) {
        s = s.mid(11);
        isUrl = true;
    } else if (isUrl) {
        return std::nullopt; // another host
    }

    QList<QStringView> parts = s.split(u'/');
    while (!parts.isEmpty() && parts.constLast().isEmpty())
        parts.removeLast();

    QStringView owner;
    QStringView slug;
    if (isUrl) {
        // kaggle.com/code/<owner>/<slug>[/edit|/notebook|/log|/versions/N...]
        if (parts.size() < 3 || parts.at(0).compare(u"code", Qt::CaseInsensitive) != 0)
            return std::nullopt;
        owner = parts.at(1);
        slug = parts.at(2);
    } else {
        if (parts.size() != 2)
            return std::nullopt;
        owner = parts.at(0);
        slug = parts.at(1);
    }
    if (!isRefSegment(owner) || !isRefSegment(slug))
        return std::nullopt;
    return KernelRef{owner.toString(), slug.toString()};
}

bool isTerminal(KernelStatus status)
{
    return status == KernelStatus::Complete || status == KernelStatus::Error ||
           status == KernelStatus::CancelAcknowledged;
}

QString statusName(KernelStatus status)
{
    switch (status) {
    case KernelStatus::Queued:
        return QStringLiteral("QUEUED");
    case KernelStatus::Running:
        return QStringLiteral("RUNNING");
    case KernelStatus::Complete:
        return QStringLiteral("COMPLETE");
    case KernelStatus::Error:
        return QStringLiteral("ERROR");
    case KernelStatus::CancelRequested:
        return QStringLiteral("CANCEL_REQUESTED");
    case KernelStatus::CancelAcknowledged:
        return QStringLiteral("CANCEL_ACKNOWLEDGED");
    case KernelStatus::NewScript:
        return QStringLiteral("NEW_SCRIPT");
    }
    return QStringLiteral("UNKNOWN");
}

QString datasetStatusName(DatasetStatus status)
{
    switch (status) {
    case DatasetStatus::NotYetPersisted:
        return QStringLiteral("NOT_YET_PERSISTED");
    case DatasetStatus::BlobsReceived:
        return QStringLiteral("BLOBS_RECEIVED");
    case DatasetStatus::BlobsDecompressed:
        return QStringLiteral("BLOBS_DECOMPRESSED");
    case DatasetStatus::BlobsCopiedToSds:
        return QStringLiteral("BLOBS_COPIED_TO_SDS");
    case DatasetStatus::IndividualBlobsCompressed:
        return QStringLiteral("INDIVIDUAL_BLOBS_COMPRESSED");
    case DatasetStatus::Ready:
        return QStringLiteral("READY");
    case DatasetStatus::Failed:
        return QStringLiteral("FAILED");
    case DatasetStatus::Deleted:
        return QStringLiteral("DELETED");
    case DatasetStatus::Reprocessing:
        return QStringLiteral("REPROCESSING");
    }
    return QStringLiteral("UNKNOWN");
}

QString kindName(ApiError::Kind kind)
{
    switch (kind) {
    case ApiError::Kind::Auth:
        return QStringLiteral("authentication failed");
    case ApiError::Kind::NotFound:
        return QStringLiteral("not found or no permission");
    case ApiError::Kind::RateLimited:
        return QStringLiteral("rate limited");
    case ApiError::Kind::Server:
        return QStringLiteral("server error");
    case ApiError::Kind::Network:
        return QStringLiteral("network error");
    case ApiError::Kind::Timeout:
        return QStringLiteral("timeout");
    case ApiError::Kind::Protocol:
        return QStringLiteral("protocol error");
    case ApiError::Kind::Application:
        return QStringLiteral("request failed");
    case ApiError::Kind::Cancelled:
        return QStringLiteral("cancelled");
    case ApiError::Kind::Io:
        return QStringLiteral("file error");
    case ApiError::Kind::Invalid:
        return QStringLiteral("invalid request");
    }
    return QStringLiteral("unknown error");
}

} // namespace kd
