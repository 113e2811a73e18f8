// libFuzzer target: every response decoder of src/kaggle/wire.h.
// Input: one selector byte (value % 12 picks the decoder, so '0'..'9', ':' and ';' are
// readable selectors), then the response body.
//   0 TokenInfo  1 KernelList  2 KernelSessionStatus  3 KernelOutputPage  4 KernelPull
//   5 SaveKernel  6 Quota  7 BlobUpload  8 CreateDataset  9 DatasetStatus
//   10 errorFromResponse: 2 bytes HTTP status (big endian, % 600), then
//      "content-type\nretry-after\nbody"
//   11 scalar parsers (status, dataset status, duration, timestamp, Retry-After) on the text

#include "fuzzcommon.h"
#include "wire.h"

#include <QDateTime>
#include <QString>

#include <cmath>

using namespace kd;

namespace {

template <typename T> void touch(const Result<T> &r)
{
    if (!r.ok())
        fuzz::check(!r.error().message.isEmpty(), "a decode error has a message");
}

void decodeError(QByteArrayView in)
{
    if (in.size() < 2)
        return;
    const int status = ((uint8_t(in[0]) << 8) | uint8_t(in[1])) % 600;
    QByteArrayView text = in.sliced(2);
    const qsizetype nl1 = text.indexOf('\n');
    QByteArrayView contentType = nl1 < 0 ? text : text.first(nl1);
    QByteArrayView after = nl1 < 0 ? QByteArrayView() : text.sliced(nl1 + 1);
    const qsizetype nl2 = after.indexOf('\n');
    QByteArrayView retryAfter = nl2 < 0 ? after : after.first(nl2);
    QByteArrayView body = nl2 < 0 ? QByteArrayView() : after.sliced(nl2 + 1);
    const auto error = wire::errorFromResponse(status, contentType, body, retryAfter);
    if (error && error->retryAfter)
        fuzz::check(error->retryAfter->count() >= 0 && error->retryAfter->count() <= 3'600'000,
                    "Retry-After in [0, 1 h]");
}

void scalars(QByteArrayView in)
{
    const QString text = QString::fromUtf8(in);
    (void)wire::parseKernelStatus(text);
    (void)wire::parseDatasetStatus(text);
    if (const auto d = wire::parseDurationSeconds(text))
        fuzz::check(!std::isnan(*d), "duration is a number");
    (void)wire::parseTimestamp(text);
    static const QDateTime now = QDateTime::fromSecsSinceEpoch(1'700'000'000, Qt::UTC);
    if (const auto ms = wire::parseRetryAfter(in, now))
        fuzz::check(ms->count() >= 0 && ms->count() <= 3'600'000, "Retry-After in [0, 1 h]");
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    fuzz::quietQt();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const QByteArrayView body = fuzz::rest(data, size);
    switch (data[0] % 12) {
    case 0:
        touch(wire::decodeTokenInfo(body));
        break;
    case 1:
        touch(wire::decodeKernelList(body));
        break;
    case 2:
        touch(wire::decodeKernelSessionStatus(body));
        break;
    case 3:
        touch(wire::decodeKernelOutputPage(body));
        break;
    case 4:
        touch(wire::decodeKernelPull(body));
        break;
    case 5:
        touch(wire::decodeSaveKernel(body));
        break;
    case 6:
        touch(wire::decodeQuota(body));
        break;
    case 7:
        touch(wire::decodeBlobUpload(body));
        break;
    case 8:
        touch(wire::decodeCreateDataset(body));
        break;
    case 9:
        touch(wire::decodeDatasetStatus(body));
        break;
    case 10:
        decodeError(body);
        break;
    default:
        scalars(body);
        break;
    }
    // Every decoded body also goes through the error mapping, as the client does on HTTP 200.
    if (data[0] % 12 < 10)
        (void)wire::errorFromResponse(200, "application/json", body, {});
    return 0;
}
