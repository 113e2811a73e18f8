#pragma once

#include "apierror.h"
#include "credentials.h"
#include "httpclient.h"
#include "types.h"

#include <QHash>
#include <QObject>
#include <QPointer>
#include <QProcessEnvironment>
#include <QRandomGenerator>
#include <QUrl>

#include <functional>
#include <memory>

class QTimer;

namespace kd {

/// Typed asynchronous client of the Kaggle public API (RPC generation, kaggle-api.md 1.2).
///
/// Every call returns at once with a CallId and later invokes its callback exactly once on the
/// client's thread, unless it was cancelled or its context object was destroyed first.
/// Idempotent reads are retried on 429 (Retry-After is a lower bound), 5xx and connection
/// errors with capped, jittered exponential backoff. Writes (push, dataset creation, blob
/// start) are never retried blindly.
class KaggleClient final : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        QUrl endpoint = defaultEndpoint();
        int maxAttempts = 5; ///< for reads, including the first
        int backoffBaseMs = 500;
        int backoffMaxMs = 30'000;
        /// A Retry-After longer than this is not waited for: the call fails RateLimited and
        /// carries the hint, so the caller can schedule (an absurd value never stalls a call).
        int maxRetryAfterMs = 60'000;
        int connectTimeoutMs = 10'000;
        int requestTimeoutMs = 30'000;
        quint32 seed = 0; ///< jitter seed; 0 picks a random one
    };

    template <typename T> using Callback = std::function<void(Result<T>)>;
    using CallId = quint64;
    using Progress = std::function<void(qint64 done, qint64 total)>;

    /// Callbacks of a log stream (kaggle-api.md 3.6).
    struct LogStreamHandlers
    {
        /// Once the response headers arrive: live is true for an SSE stream, false when the
        /// session is over and the body is the persisted log array.
        std::function<void(bool live)> onOpen;
        std::function<void(const QList<LogEvent> &events)> onEvents;
        /// Last. true when the stream ended normally (END_OF_LOG or the full persisted log),
        /// false when the connection closed early (the caller may reconnect).
        Callback<bool> onFinished;
    };

    static QUrl defaultEndpoint();
    /// The endpoint from KAGGLE_API_ENDPOINT, or the default. Trailing slashes are dropped.
    static QUrl endpointFromEnvironment(const QProcessEnvironment &env);
    static QByteArray userAgent();

    KaggleClient(net::HttpClient *http, Credentials credentials, Options options,
                 QObject *parent = nullptr);
    ~KaggleClient() override;

    const Credentials &credentials() const { return m_credentials; }
    void setCredentials(Credentials credentials) { m_credentials = std::move(credentials); }
    /// Asked before every request to the API endpoint: first attempts, retries and pages
    /// alike (not the signed storage URLs of downloads and uploads). False holds the request
    /// back and asks again 250 ms later. The run monitor installs its request budget here.
    using Admission = std::function<bool()>;
    void setAdmission(Admission admission) { m_admission = std::move(admission); }
    const Options &options() const { return m_options; }
    bool usesProductionEndpoint() const;

    /// `{endpoint}/v1/{service}/{method}` on production, `{endpoint}/api/v1/...` otherwise.
    QUrl rpcUrl(QStringView service, QStringView method) const;
    QUrl logStreamUrl(const KernelRef &ref) const;

    /// The CLI's credential choice: a token is checked with IntrospectToken and used when
    /// active (its username filled in); otherwise the key fallback is used, if any.
    CallId authenticate(const CredentialDiscovery &discovery, const QObject *context,
                        Callback<Credentials> done);

    CallId introspectToken(const QString &token, const QObject *context, Callback<TokenInfo> done);
    CallId listKernels(const ListKernelsRequest &request, const QObject *context,
                       Callback<KernelListPage> done);
    /// Follows nextPageToken until the list ends (at most 1000 pages).
    CallId listAllKernels(ListKernelsRequest request, const QObject *context,
                          Callback<QList<KernelMetadata>> done);
    CallId getKernelSessionStatus(const KernelRef &ref, const QObject *context,
                                  Callback<KernelSessionStatus> done);
    /// All pages of ListKernelSessionOutput (or the first `maxPages`, 0 = all); the log comes
    /// from the first page.
    CallId listKernelSessionOutput(const KernelRef &ref, const QObject *context,
                                   Callback<KernelOutput> done, int pageSize = 200,
                                   int maxPages = 0);
    CallId getKernel(const KernelRef &ref, const QObject *context, Callback<KernelPull> done);
    /// A response with `error` set fails with Kind::Application; the invalid* lists are in
    /// ApiError::details as "invalidDatasetSources: owner/slug" lines.
    CallId saveKernel(const SaveKernelRequest &request, const QObject *context,
                      Callback<SaveKernelResponse> done);
    CallId getQuota(const QObject *context, Callback<QuotaStatistics> done);
    CallId startBlobUpload(const StartBlobUploadRequest &request, const QObject *context,
                           Callback<BlobUpload> done);
    /// PUTs a file to a resumable upload URL, resuming through 308 + Range after an
    /// interruption (at most `maxResumes` times). 404 means the upload expired.
    CallId uploadBlob(const BlobUpload &upload, const QString &filePath, const QObject *context,
                      Progress progress, Callback<Done> done, int maxResumes = 10);
    /// Downloads a pre-signed URL (fetched without Kaggle auth) to `targetPath`, through
    /// `targetPath + ".part"`: an existing .part is resumed with a Range request, the size is
    /// checked against what the server announced, and the file is renamed when complete.
    /// Interrupted transfers resume up to `maxResumes` times. The caller makes the path safe.
    CallId downloadFile(const QUrl &url, const QString &targetPath, const QObject *context,
                        Progress progress, Callback<Done> done, int maxResumes = 5);
    CallId createDataset(const CreateDatasetRequest &request, const QObject *context,
                         Callback<CreateDatasetResponse> done);
    CallId createDatasetVersion(const CreateDatasetVersionRequest &request, const QObject *context,
                                Callback<CreateDatasetResponse> done);
    CallId getDatasetStatus(const QString &ownerSlug, const QString &datasetSlug,
                            const QObject *context, Callback<DatasetStatus> done);
    /// One connection to the log stream; replays from the session start (dedupe is the
    /// caller's job). Never retried here: the caller decides when to reconnect.
    CallId streamLogs(const KernelRef &ref, const QObject *context, LogStreamHandlers handlers);

    void cancel(CallId id);
    int activeCalls() const { return int(m_calls.size()); }

private:
    struct Call;

    template <typename T>
    CallId rpc(QStringView service, QStringView method, QByteArray body, bool idempotent,
               const QObject *context, Result<T> (*decode)(QByteArrayView), Callback<T> done);
    template <typename T> void deliver(CallId id, const Callback<T> &done, Result<T> result);
    Call &newCall(const QObject *context, bool idempotent);
    Call *findCall(CallId id);
    net::HttpRequest rpcRequest(QStringView service, QStringView method, QByteArray body) const;
    void send(Call &call, net::HttpRequest request, net::HttpCallbacks callbacks = {});
    void onResponse(CallId id, const net::HttpResponse &response);
    void retryOrFail(Call &call, ApiError error);
    void armRetry(Call &call, int delayMs);
    int backoffDelayMs(int attempt, const ApiError &error);
    struct UploadState;
    struct DownloadState;
    void downloadGet(CallId id, const std::shared_ptr<DownloadState> &state);
    void uploadPut(CallId id, const std::shared_ptr<UploadState> &state, qint64 offset);
    void uploadQuery(CallId id, const std::shared_ptr<UploadState> &state);

    net::HttpClient *m_http;
    Credentials m_credentials;
    Admission m_admission;
    Options m_options;
    QRandomGenerator m_random;
    QHash<CallId, std::shared_ptr<Call>> m_calls;
    CallId m_nextId = 1;
};

/// Maps a transport failure or an HTTP error response to the typed error set.
ApiError errorFromTransport(const net::HttpResponse &response, QStringView what);

} // namespace kd
