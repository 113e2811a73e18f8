#pragma once

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QPair>
#include <QString>
#include <QUrl>

#include <functional>

namespace kd::net {

/// One header as sent or received; names compare case-insensitively.
using HttpHeader = QPair<QByteArray, QByteArray>;
using HttpHeaders = QList<HttpHeader>;

/// Returns the first value of a header, or an empty array.
QByteArray headerValue(const HttpHeaders &headers, QByteArrayView name);

/// What a transfer failed with, below the level of HTTP status codes.
enum class NetError {
    None,
    Cancelled,       ///< cancel() was called
    Timeout,         ///< connect or total timeout, or the stall guard fired
    ConnectFailed,   ///< refused, unreachable, reset during connect
    Resolve,         ///< host name could not be resolved
    Tls,             ///< certificate or handshake failure (never ignored)
    ConnectionLost,  ///< reset or closed mid-transfer, partial body
    TooLarge,        ///< the body exceeded HttpRequest::maxBodyBytes
    FileError,       ///< the download or upload file could not be opened or written
    InsecureRefused, ///< plain http to a non-loopback host
    Other,
};

/// A request as the transport sees it. Build one, hand it to HttpClient::send().
struct HttpRequest
{
    enum class Method { Get, Post, Put };
    Method method = Method::Get;
    QUrl url;
    HttpHeaders headers;
    QByteArray body; ///< POST body (or a small PUT body when uploadFile is empty)

    /// PUT a region of a file (resumable uploads). uploadLength -1 means "to the end".
    QString uploadFile;
    qint64 uploadOffset = 0;
    qint64 uploadLength = -1;

    /// When set, the 2xx response body is written to this file instead of memory.
    /// Non-2xx bodies still go to HttpResponse::body (they are error texts).
    QString downloadFile;
    bool appendToDownload = false; ///< append (resume) instead of truncating

    /// When true, body chunks go to Callbacks::onData as they arrive and are not kept.
    bool streaming = false;

    int connectTimeoutMs = 10'000;
    int totalTimeoutMs = 60'000; ///< 0: no total limit (streams, big downloads)
    /// Abort when fewer than 1 byte/s arrive for this long (a stalled peer). 0: off.
    int stallTimeoutMs = 0;
    /// Cap for bodies kept in memory; a larger body fails with NetError::TooLarge.
    qint64 maxBodyBytes = 64 * 1024 * 1024;
};

struct HttpResponse
{
    int status = 0; ///< HTTP status, 0 when no response arrived
    HttpHeaders headers;
    QByteArray body; ///< empty for streaming and file downloads (unless not 2xx)
    qint64 bytesReceived = 0;
    NetError error = NetError::None;
    QString errorText; ///< readable text from CURLOPT_ERRORBUFFER; never holds credentials

    bool ok() const { return error == NetError::None && status >= 200 && status < 300; }
    QByteArray header(QByteArrayView name) const { return headerValue(headers, name); }
};

using RequestId = quint64;

/// Callbacks for one request. All are invoked on the thread that owns the HttpClient.
struct HttpCallbacks
{
    /// Once, when the status line and headers of the final response are in.
    std::function<void(int status, const HttpHeaders &headers)> onHeaders;
    /// For streaming requests: each body chunk as it arrives.
    std::function<void(const QByteArray &chunk)> onData;
    /// Transfer progress: bytes done and total (total -1 when unknown), for up- or download.
    std::function<void(qint64 done, qint64 total)> onProgress;
    /// Exactly once, last. Not invoked after cancel() returns.
    std::function<void(const HttpResponse &response)> onFinished;
};

/// Asynchronous HTTP transport. Implementations never block the calling thread.
class HttpClient : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;
    ~HttpClient() override = default;

    virtual RequestId send(HttpRequest request, HttpCallbacks callbacks) = 0;
    /// Aborts a request; its onFinished is not called. Unknown ids are ignored.
    virtual void cancel(RequestId id) = 0;
    /// Number of requests queued or in flight.
    virtual int pendingCount() const = 0;
};

} // namespace kd::net
