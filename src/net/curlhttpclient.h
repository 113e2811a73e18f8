#pragma once

#include "httpclient.h"

#include <memory>

namespace kd::net {

/// Settings for CurlHttpClient. Declared outside the class so it can be a default argument.
struct CurlHttpClientOptions
{
    /// Requests in flight per scheme+host+port; further ones wait in FIFO order. Live streams
    /// (streaming with no total timeout) are not counted: they would starve everything else.
    int maxPerHost = 6;
    /// Sent as User-Agent unless a request sets its own.
    QByteArray userAgent;
};

/// HttpClient on libcurl's multi interface, driven by the Qt event loop of the owning thread.
class CurlHttpClient final : public HttpClient
{
    Q_OBJECT
public:
    using Options = CurlHttpClientOptions;

    explicit CurlHttpClient(Options options = {}, QObject *parent = nullptr);
    /// Aborts everything in flight; no callback runs afterwards.
    ~CurlHttpClient() override;

    RequestId send(HttpRequest request, HttpCallbacks callbacks) override;
    void cancel(RequestId id) override;
    int pendingCount() const override;

    /// Plain http is allowed only to these hosts: 127.0.0.0/8, ::1 and "localhost".
    static bool isLoopbackHost(const QString &host);

private:
    class Private;
    std::unique_ptr<Private> d;
};

} // namespace kd::net
