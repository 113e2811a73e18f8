#pragma once

// The JSON codecs of the Kaggle RPC API (kaggle-api.md 1.3, 1.4, 8.1). This header exposes no
// JSON type: requests are encoded to bytes and responses decoded from bytes. The only place that
// includes nlohmann/json in the client is wire.cpp (and the log and metadata readers).

#include "apierror.h"
#include "types.h"

#include <QByteArray>
#include <QByteArrayView>

#include <optional>

namespace kd::wire {

// --- Request encoders: lowerCamelCase keys, defaults omitted, enums by name. ---
QByteArray encodeIntrospectToken(const QString &token);
QByteArray encodeListKernels(const ListKernelsRequest &request);
/// {"userName","kernelSlug"} for GetKernelSessionStatus and GetKernel.
QByteArray encodeKernelRef(const KernelRef &ref);
QByteArray encodeListKernelSessionOutput(const KernelRef &ref, int pageSize,
                                         const QString &pageToken);
QByteArray encodeSaveKernel(const SaveKernelRequest &request);
QByteArray encodeGetQuota(); ///< "{}"
QByteArray encodeStartBlobUpload(const StartBlobUploadRequest &request);
QByteArray encodeCreateDataset(const CreateDatasetRequest &request);
QByteArray encodeCreateDatasetVersion(const CreateDatasetVersionRequest &request);
QByteArray encodeDatasetRef(const QString &ownerSlug, const QString &datasetSlug);

// --- Response decoders: tolerant of enum spellings, int64 as string or number, missing
// fields; strict about non-JSON bodies and wrong types (ApiError::Kind::Protocol). ---
Result<TokenInfo> decodeTokenInfo(QByteArrayView body);
Result<KernelListPage> decodeKernelList(QByteArrayView body);
Result<KernelSessionStatus> decodeKernelSessionStatus(QByteArrayView body);
Result<KernelOutputPage> decodeKernelOutputPage(QByteArrayView body);
Result<KernelPull> decodeKernelPull(QByteArrayView body);
/// Push failures (HTTP 200 with "error") decode fine; the client turns them into errors.
Result<SaveKernelResponse> decodeSaveKernel(QByteArrayView body);
Result<QuotaStatistics> decodeQuota(QByteArrayView body);
Result<BlobUpload> decodeBlobUpload(QByteArrayView body);
Result<CreateDatasetResponse> decodeCreateDataset(QByteArrayView body);
Result<DatasetStatus> decodeDatasetStatus(QByteArrayView body);

// --- Lenient scalar parsing, exposed for tests and for the simulator's tests. ---
/// "COMPLETE", "complete", "cancelAcknowledged", "KERNEL_WORKER_STATUS_COMPLETE", ...
std::optional<KernelStatus> parseKernelStatus(QStringView text);
std::optional<DatasetStatus> parseDatasetStatus(QStringView text);
/// Protobuf JSON durations: "3600s", "151.500s", "0s"; nullopt when malformed.
std::optional<double> parseDurationSeconds(QStringView text);
/// RFC 3339 / ISO-8601 with or without milliseconds; invalid QDateTime when malformed.
QDateTime parseTimestamp(QStringView text);

/// Maps an HTTP response to an ApiError per section 8.1: HTTP status, top-level
/// {"code","message"} with code >= 400 (even on 2xx when the body is JSON), and the Google
/// envelope {"error":{"code","message","status"}}. `retryAfter` is the raw Retry-After header
/// (seconds or HTTP-date). Returns nullopt when the response is a success.
std::optional<ApiError> errorFromResponse(int httpStatus, QByteArrayView contentType,
                                          QByteArrayView body, QByteArrayView retryAfter);

/// Retry-After as seconds or an HTTP-date relative to `now`; nullopt when absent or malformed.
std::optional<std::chrono::milliseconds> parseRetryAfter(QByteArrayView value,
                                                         const QDateTime &now);

} // namespace kd::wire
