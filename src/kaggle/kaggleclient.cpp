#include "kaggleclient.h"

#include "kagglelog.h"
#include "logformat.h"
#include "wire.h"

#include <QDateTime>
#include <QFileInfo>
#include <QTimer>

#include <algorithm>
#include <cmath>

namespace kd {

namespace {

constexpr int kMaxPages = 1000;
/// How often a request held back by the admission check asks again.
constexpr int kAdmissionRetryMs = 250;
/// The same cap as a session's log archive (LogArchive): more would not be kept anyway.
constexpr qint64 kMaxPersistedLogBytes = 64LL * 1024 * 1024;
// Kaggle's load balancer drops idle SSE connections after about three minutes; a silent stream
// past this is a stalled peer, not a quiet training run.
constexpr int kLogStreamStallMs = 240'000;

const QString kKernels = QStringLiteral("kernels.KernelsApiService");
const QString kDatasets = QStringLiteral("datasets.DatasetApiService");
const QString kBlobs = QStringLiteral("blobs.BlobApiService");
const QString kOAuth = QStringLiteral("security.OAuthService");

bool isProductionHost(const QUrl &url)
{
    return url.scheme() == u"https" && url.host() == u"api.kaggle.com";
}

// "bytes=0-1234" -> 1234; -1 when absent or malformed.
qint64 lastByteFromRange(const QByteArray &range)
{
    const qsizetype dash = range.lastIndexOf('-');
    if (!range.startsWith("bytes=") || dash < 0)
        return -1;
    bool ok = false;
    const qint64 last = range.mid(dash + 1).trimmed().toLongLong(&ok);
    return ok ? last : -1;
}

} // namespace

/// One logical call: possibly several HTTP requests (retries, pages, upload resumes).
struct KaggleClient::Call
{
    CallId id = 0;
    QPointer<const QObject> context;
    bool hasContext = false;
    bool idempotent = false;
    int attempt = 0; ///< attempts made of the current request
    net::RequestId netId = 0;
    net::HttpRequest request;
    net::HttpCallbacks callbacks;
    QTimer *retryTimer = nullptr;
    /// The 2xx response of the current request.
    std::function<void(const net::HttpResponse &)> onSuccess;
    /// A final error (after retries).
    std::function<void(ApiError)> onFailure;
    /// When set, replaces the generic status mapping (uploads, log streams).
    std::function<void(const net::HttpResponse &)> onRaw;

    bool contextGone() const { return hasContext && context.isNull(); }
};

QUrl KaggleClient::defaultEndpoint()
{
    return QUrl(QStringLiteral("https://api.kaggle.com"));
}

QUrl KaggleClient::endpointFromEnvironment(const QProcessEnvironment &env)
{
    QString value = env.value(QStringLiteral("KAGGLE_API_ENDPOINT")).trimmed();
    while (value.endsWith(u'/'))
        value.chop(1);
    if (value.isEmpty())
        return defaultEndpoint();
    return QUrl(value);
}

QByteArray KaggleClient::userAgent()
{
    return QByteArrayLiteral("KaggleDeck/" KD_VERSION);
}

KaggleClient::KaggleClient(net::HttpClient *http, Credentials credentials, Options options,
                           QObject *parent)
    : QObject(parent), m_http(http), m_credentials(std::move(credentials)),
      m_options(std::move(options)),
      m_random(m_options.seed ? m_options.seed : QRandomGenerator::global()->generate())
{}

KaggleClient::~KaggleClient()
{
    const auto ids = m_calls.keys();
    for (CallId id : ids)
        cancel(id);
}

bool KaggleClient::usesProductionEndpoint() const
{
    return isProductionHost(m_options.endpoint);
}

QUrl KaggleClient::rpcUrl(QStringView service, QStringView method) const
{
    QUrl url = m_options.endpoint;
    QString base = url.path();
    while (base.endsWith(u'/'))
        base.chop(1);
    const QString prefix =
        usesProductionEndpoint() ? QStringLiteral("/v1/") : QStringLiteral("/api/v1/");
    url.setPath(base + prefix + service + u'/' + method);
    return url;
}

QUrl KaggleClient::logStreamUrl(const KernelRef &ref) const
{
    QUrl url = m_options.endpoint;
    QString base = url.path();
    while (base.endsWith(u'/'))
        base.chop(1);
    const QString prefix =
        usesProductionEndpoint() ? QStringLiteral("/v1/") : QStringLiteral("/api/v1/");
    url.setPath(base + prefix + u"kernels/logs/stream/" + ref.owner + u'/' + ref.slug);
    return url;
}

// ---------------------------------------------------------------------------------------------
// Call plumbing

KaggleClient::Call &KaggleClient::newCall(const QObject *context, bool idempotent)
{
    auto call = std::make_shared<Call>();
    call->id = m_nextId++;
    call->context = context;
    call->hasContext = context != nullptr;
    call->idempotent = idempotent;
    if (context) {
        const CallId id = call->id;
        // A caller that goes away takes its calls with it.
        connect(context, &QObject::destroyed, this, [this, id] { cancel(id); });
    }
    m_calls.insert(call->id, call);
    return *call;
}

KaggleClient::Call *KaggleClient::findCall(CallId id)
{
    const auto it = m_calls.constFind(id);
    return it == m_calls.constEnd() ? nullptr : it->get();
}

net::HttpRequest KaggleClient::rpcRequest(QStringView service, QStringView method,
                                          QByteArray body) const
{
    net::HttpRequest request;
    request.method = net::HttpRequest::Method::Post;
    request.url = rpcUrl(service, method);
    request.body = std::move(body);
    request.headers = {{"Content-Type", "application/json"},
                       {"Accept", "application/json"},
                       {"User-Agent", userAgent()}};
    if (m_credentials.isValid())
        request.headers.append({"Authorization", m_credentials.authorizationHeader()});
    request.connectTimeoutMs = m_options.connectTimeoutMs;
    request.totalTimeoutMs = m_options.requestTimeoutMs;
    return request;
}

void KaggleClient::send(Call &call, net::HttpRequest request, net::HttpCallbacks callbacks)
{
    call.request = std::move(request);
    call.callbacks = std::move(callbacks);
    // Requests to the API (not the signed storage URLs) wait for the owner's request budget.
    if (m_admission && call.request.url.host() == m_options.endpoint.host() &&
        call.request.url.port() == m_options.endpoint.port() && !m_admission()) {
        armRetry(call, kAdmissionRetryMs);
        return;
    }
    ++call.attempt;
    net::HttpCallbacks wired = call.callbacks;
    const CallId id = call.id;
    wired.onFinished = [this, id](const net::HttpResponse &response) { onResponse(id, response); };
    call.netId = m_http->send(call.request, std::move(wired));
}

void KaggleClient::onResponse(CallId id, const net::HttpResponse &response)
{
    Call *call = findCall(id);
    if (!call)
        return;
    call->netId = 0;
    if (call->onRaw) {
        call->onRaw(response);
        return;
    }
    const QString what = call->request.url.path().section(u'/', -1);
    if (response.error != net::NetError::None) {
        retryOrFail(*call, errorFromTransport(response, what));
        return;
    }
    if (auto error = wire::errorFromResponse(response.status, response.header("Content-Type"),
                                             response.body, response.header("Retry-After"))) {
        error->message = what + u": " + error->message;
        retryOrFail(*call, std::move(*error));
        return;
    }
    call->onSuccess(response);
}

int KaggleClient::backoffDelayMs(int attempt, const ApiError &error)
{
    const double exp = m_options.backoffBaseMs * std::pow(2.0, std::max(0, attempt - 1));
    const double capped = std::min(exp, double(m_options.backoffMaxMs));
    // Jitter in [50%, 100%] spreads clients that failed together.
    const double jittered = capped * (0.5 + 0.5 * m_random.generateDouble());
    const qint64 hint = error.retryAfter ? error.retryAfter->count() : 0;
    return int(std::max<qint64>(qint64(jittered), hint));
}

void KaggleClient::retryOrFail(Call &call, ApiError error)
{
    const bool hintTooLong =
        error.retryAfter && error.retryAfter->count() > m_options.maxRetryAfterMs;
    if (call.idempotent && error.retriable() && !hintTooLong &&
        call.attempt < m_options.maxAttempts) {
        const int delay = backoffDelayMs(call.attempt, error);
        qCDebug(lcKaggle) << "retrying" << call.request.url.path() << "in" << delay << "ms after"
                          << kindName(error.kind);
        armRetry(call, delay);
        return;
    }
    call.onFailure(std::move(error));
}

void KaggleClient::armRetry(Call &call, int delayMs)
{
    if (!call.retryTimer) {
        call.retryTimer = new QTimer(this);
        call.retryTimer->setSingleShot(true);
        // A coarse timer may fire up to 5% early; Retry-After is a lower bound.
        call.retryTimer->setTimerType(Qt::PreciseTimer);
        const CallId id = call.id;
        connect(call.retryTimer, &QTimer::timeout, this, [this, id] {
            if (Call *c = findCall(id))
                send(*c, c->request, c->callbacks);
        });
    }
    call.retryTimer->start(delayMs);
}

template <typename T>
void KaggleClient::deliver(CallId id, const Callback<T> &done, Result<T> result)
{
    const auto it = m_calls.find(id);
    if (it == m_calls.end())
        return;
    // Erase first: the callback may start or cancel other calls.
    const std::shared_ptr<Call> call = it.value();
    m_calls.erase(it);
    if (call->retryTimer)
        call->retryTimer->deleteLater();
    if (call->contextGone() || !done)
        return;
    done(std::move(result));
}

template <typename T>
KaggleClient::CallId KaggleClient::rpc(QStringView service, QStringView method, QByteArray body,
                                       bool idempotent, const QObject *context,
                                       Result<T> (*decode)(QByteArrayView), Callback<T> done)
{
    Call &call = newCall(context, idempotent);
    const CallId id = call.id;
    call.onFailure = [this, id, done](ApiError error) { deliver<T>(id, done, std::move(error)); };
    call.onSuccess = [this, id, done, decode](const net::HttpResponse &response) {
        deliver<T>(id, done, decode(response.body));
    };
    send(call, rpcRequest(service, method, std::move(body)));
    return id;
}

void KaggleClient::cancel(CallId id)
{
    const auto it = m_calls.find(id);
    if (it == m_calls.end())
        return;
    const std::shared_ptr<Call> call = it.value();
    m_calls.erase(it);
    if (call->netId)
        m_http->cancel(call->netId);
    if (call->retryTimer)
        call->retryTimer->deleteLater();
}

// ---------------------------------------------------------------------------------------------
// Typed calls

KaggleClient::CallId KaggleClient::authenticate(const CredentialDiscovery &discovery,
                                                const QObject *context, Callback<Credentials> done)
{
    if (discovery.credentials.kind() != Credentials::Kind::AccessToken) {
        Call &call = newCall(context, false);
        const CallId id = call.id;
        Result<Credentials> result =
            discovery.credentials.isValid()
                ? Result<Credentials>(discovery.credentials)
                : Result<Credentials>(ApiError::make(ApiError::Kind::Auth, discovery.error));
        // Deliver from the event loop so the callback never runs inside this call.
        QTimer::singleShot(0, this, [this, id, done, result] { deliver(id, done, result); });
        return id;
    }
    Credentials token = discovery.credentials;
    const std::optional<Credentials> fallback = discovery.fallback;
    const Credentials previous = m_credentials;
    m_credentials = token;
    return introspectToken(
        token.accessToken(), context,
        [this, token, fallback, previous, done](Result<TokenInfo> info) mutable {
            m_credentials = previous;
            if (info && info->active && !info->username.isEmpty()) {
                token.setUsername(info->username);
                done(token);
                return;
            }
            const bool rejected = info || info.error().kind == ApiError::Kind::Auth ||
                                  info.error().kind == ApiError::Kind::NotFound ||
                                  info.error().kind == ApiError::Kind::Invalid;
            if (!rejected) {
                done(info.error()); // network trouble: we cannot tell yet
                return;
            }
            qCInfo(lcKaggle) << "access token not accepted; trying the next credential";
            if (fallback) {
                done(*fallback);
                return;
            }
            done(ApiError::make(ApiError::Kind::Auth,
                                QStringLiteral("The access token from %1 was not accepted by "
                                               "Kaggle (inactive or revoked).")
                                    .arg(token.describe())));
        });
}

KaggleClient::CallId KaggleClient::introspectToken(const QString &token, const QObject *context,
                                                   Callback<TokenInfo> done)
{
    return rpc<TokenInfo>(kOAuth, u"IntrospectToken", wire::encodeIntrospectToken(token), true,
                          context, &wire::decodeTokenInfo, std::move(done));
}

KaggleClient::CallId KaggleClient::listKernels(const ListKernelsRequest &request,
                                               const QObject *context,
                                               Callback<KernelListPage> done)
{
    return rpc<KernelListPage>(kKernels, u"ListKernels", wire::encodeListKernels(request), true,
                               context, &wire::decodeKernelList, std::move(done));
}

KaggleClient::CallId KaggleClient::listAllKernels(ListKernelsRequest request,
                                                  const QObject *context,
                                                  Callback<QList<KernelMetadata>> done)
{
    struct State
    {
        ListKernelsRequest request;
        QList<KernelMetadata> kernels;
        int pages = 0;
    };
    auto state = std::make_shared<State>();
    state->request = std::move(request);
    state->request.pageToken.clear();
    Call &call = newCall(context, true);
    const CallId id = call.id;
    using R = QList<KernelMetadata>;
    call.onFailure = [this, id, done](ApiError error) { deliver<R>(id, done, std::move(error)); };
    call.onSuccess = [this, id, done, state](const net::HttpResponse &response) {
        auto page = wire::decodeKernelList(response.body);
        if (!page)
            return deliver<R>(id, done, page.error());
        state->kernels += page->kernels;
        const QString next = page->nextPageToken;
        if (next.isEmpty())
            return deliver<R>(id, done, state->kernels);
        if (++state->pages >= kMaxPages || next == state->request.pageToken)
            return deliver<R>(id, done,
                              ApiError::make(ApiError::Kind::Protocol,
                                             QStringLiteral("ListKernels: paging does not end")));
        state->request.pageToken = next;
        if (Call *c = findCall(id)) {
            c->attempt = 0;
            send(*c, rpcRequest(kKernels, u"ListKernels", wire::encodeListKernels(state->request)));
        }
    };
    send(call, rpcRequest(kKernels, u"ListKernels", wire::encodeListKernels(state->request)));
    return id;
}

KaggleClient::CallId KaggleClient::getKernelSessionStatus(const KernelRef &ref,
                                                          const QObject *context,
                                                          Callback<KernelSessionStatus> done)
{
    return rpc<KernelSessionStatus>(kKernels, u"GetKernelSessionStatus", wire::encodeKernelRef(ref),
                                    true, context, &wire::decodeKernelSessionStatus,
                                    std::move(done));
}

KaggleClient::CallId KaggleClient::listKernelSessionOutput(const KernelRef &ref,
                                                           const QObject *context,
                                                           Callback<KernelOutput> done,
                                                           int pageSize, int maxPages)
{
    struct State
    {
        KernelOutput output;
        QString token;
        int pages = 0;
    };
    auto state = std::make_shared<State>();
    Call &call = newCall(context, true);
    const CallId id = call.id;
    call.onFailure = [this, id, done](ApiError error) {
        deliver<KernelOutput>(id, done, std::move(error));
    };
    call.onSuccess = [this, id, done, state, ref, pageSize,
                      maxPages](const net::HttpResponse &response) {
        auto page = wire::decodeKernelOutputPage(response.body);
        if (!page)
            return deliver<KernelOutput>(id, done, page.error());
        if (state->pages == 0)
            state->output.log = page->log;
        state->output.files += page->files;
        const QString next = page->nextPageToken;
        if (next.isEmpty() || (maxPages > 0 && state->pages + 1 >= maxPages))
            return deliver<KernelOutput>(id, done, state->output);
        if (++state->pages >= kMaxPages || next == state->token)
            return deliver<KernelOutput>(
                id, done,
                ApiError::make(ApiError::Kind::Protocol,
                               QStringLiteral("ListKernelSessionOutput: paging does not end")));
        state->token = next;
        if (Call *c = findCall(id)) {
            c->attempt = 0;
            send(*c, rpcRequest(kKernels, u"ListKernelSessionOutput",
                                wire::encodeListKernelSessionOutput(ref, pageSize, next)));
        }
    };
    send(call, rpcRequest(kKernels, u"ListKernelSessionOutput",
                          wire::encodeListKernelSessionOutput(ref, pageSize, {})));
    return id;
}

KaggleClient::CallId KaggleClient::getKernel(const KernelRef &ref, const QObject *context,
                                             Callback<KernelPull> done)
{
    return rpc<KernelPull>(kKernels, u"GetKernel", wire::encodeKernelRef(ref), true, context,
                           &wire::decodeKernelPull, std::move(done));
}

KaggleClient::CallId KaggleClient::saveKernel(const SaveKernelRequest &request,
                                              const QObject *context,
                                              Callback<SaveKernelResponse> done)
{
    auto checked = [done](Result<SaveKernelResponse> result) {
        if (!result || result->error.isEmpty()) {
            done(std::move(result));
            return;
        }
        const SaveKernelResponse &r = *result;
        ApiError error = ApiError::make(ApiError::Kind::Application, r.error, 200);
        const auto addAll = [&error](const char *field, const QStringList &values) {
            for (const QString &v : values)
                error.details << QString::fromLatin1(field) + u": " + v;
        };
        addAll("invalidTags", r.invalidTags);
        addAll("invalidDatasetSources", r.invalidDatasetSources);
        addAll("invalidCompetitionSources", r.invalidCompetitionSources);
        addAll("invalidKernelSources", r.invalidKernelSources);
        addAll("invalidModelSources", r.invalidModelSources);
        done(std::move(error));
    };
    return rpc<SaveKernelResponse>(kKernels, u"SaveKernel", wire::encodeSaveKernel(request), false,
                                   context, &wire::decodeSaveKernel, std::move(checked));
}

KaggleClient::CallId KaggleClient::getQuota(const QObject *context, Callback<QuotaStatistics> done)
{
    return rpc<QuotaStatistics>(kKernels, u"GetAcceleratorQuotaStatistics", wire::encodeGetQuota(),
                                true, context, &wire::decodeQuota, std::move(done));
}

KaggleClient::CallId KaggleClient::startBlobUpload(const StartBlobUploadRequest &request,
                                                   const QObject *context,
                                                   Callback<BlobUpload> done)
{
    return rpc<BlobUpload>(kBlobs, u"StartBlobUpload", wire::encodeStartBlobUpload(request), false,
                           context, &wire::decodeBlobUpload, std::move(done));
}

namespace {
// CreateDataset answers HTTP 200 with status != "ok" or an error text on failure (5.3).
KaggleClient::Callback<CreateDatasetResponse>
checkedDatasetCallback(KaggleClient::Callback<CreateDatasetResponse> done)
{
    return [done](Result<CreateDatasetResponse> result) {
        if (result &&
            (!result->error.isEmpty() || result->status.compare(u"ok", Qt::CaseInsensitive) != 0)) {
            QString message = result->error;
            if (message.isEmpty())
                message =
                    QStringLiteral("dataset creation failed (status \"%1\")").arg(result->status);
            ApiError error = ApiError::make(ApiError::Kind::Application, message, 200);
            for (const QString &tag : result->invalidTags)
                error.details << u"invalidTags: " + tag;
            done(std::move(error));
            return;
        }
        done(std::move(result));
    };
}
} // namespace

KaggleClient::CallId KaggleClient::createDataset(const CreateDatasetRequest &request,
                                                 const QObject *context,
                                                 Callback<CreateDatasetResponse> done)
{
    return rpc<CreateDatasetResponse>(
        kDatasets, u"CreateDataset", wire::encodeCreateDataset(request), false, context,
        &wire::decodeCreateDataset, checkedDatasetCallback(std::move(done)));
}

KaggleClient::CallId KaggleClient::createDatasetVersion(const CreateDatasetVersionRequest &request,
                                                        const QObject *context,
                                                        Callback<CreateDatasetResponse> done)
{
    return rpc<CreateDatasetResponse>(
        kDatasets, u"CreateDatasetVersion", wire::encodeCreateDatasetVersion(request), false,
        context, &wire::decodeCreateDataset, checkedDatasetCallback(std::move(done)));
}

KaggleClient::CallId KaggleClient::getDatasetStatus(const QString &ownerSlug,
                                                    const QString &datasetSlug,
                                                    const QObject *context,
                                                    Callback<DatasetStatus> done)
{
    return rpc<DatasetStatus>(kDatasets, u"GetDatasetStatus",
                              wire::encodeDatasetRef(ownerSlug, datasetSlug), true, context,
                              &wire::decodeDatasetStatus, std::move(done));
}

// ---------------------------------------------------------------------------------------------
// Resumable upload (kaggle-api.md 5.2)

struct KaggleClient::UploadState
{
    QUrl url;
    QString filePath;
    qint64 size = 0;
    int resumes = 0;
    int maxResumes = 10;
    KaggleClient::Progress progress;
    KaggleClient::Callback<Done> done;
};

KaggleClient::CallId KaggleClient::uploadBlob(const BlobUpload &upload, const QString &filePath,
                                              const QObject *context, Progress progress,
                                              Callback<Done> done, int maxResumes)
{
    Call &call = newCall(context, false);
    const CallId id = call.id;
    const QFileInfo info(filePath);
    if (!info.isFile() || !info.isReadable()) {
        const ApiError error = ApiError::make(
            ApiError::Kind::Io, QStringLiteral("cannot read %1").arg(info.fileName()));
        QTimer::singleShot(0, this, [this, id, done, error] { deliver<Done>(id, done, error); });
        return id;
    }
    auto state = std::make_shared<UploadState>();
    state->url = upload.createUrl;
    state->filePath = filePath;
    state->size = info.size();
    state->maxResumes = maxResumes;
    state->progress = std::move(progress);
    state->done = done;
    call.onFailure = [this, id, done](ApiError error) {
        deliver<Done>(id, done, std::move(error));
    };
    // The raw handler keeps the state alive; uploadPut/uploadQuery reach it through the call.
    call.onRaw = [this, id, state](const net::HttpResponse &response) {
        Call *c = findCall(id);
        if (!c)
            return;
        const bool isQuery = c->request.uploadFile.isEmpty();
        const int status = response.error == net::NetError::None ? response.status : 0;
        if (status == 200 || status == 201) {
            if (state->progress)
                state->progress(state->size, state->size);
            deliver<Done>(id, state->done, Done{});
            return;
        }
        if (status == 308) {
            const qint64 last = lastByteFromRange(response.header("Range"));
            const qint64 next = last + 1;
            if (next >= state->size && state->size > 0) {
                // Everything is there but the server has not confirmed: ask again.
                uploadQuery(id, state);
                return;
            }
            c->attempt = 0;
            uploadPut(id, state, next);
            return;
        }
        if (status == 404) {
            deliver<Done>(id, state->done,
                          ApiError::make(ApiError::Kind::NotFound,
                                         QStringLiteral("the upload session expired; start the "
                                                        "upload again"),
                                         404));
            return;
        }
        const bool transient = status == 0 || status >= 500 || status == 429;
        if (transient && state->resumes < state->maxResumes) {
            ++state->resumes;
            const ApiError why = status == 0 ? errorFromTransport(response, u"upload")
                                             : ApiError::make(ApiError::Kind::Server, {}, status);
            qCInfo(lcKaggle) << "upload interrupted (" << kindName(why.kind) << "), resume"
                             << state->resumes << "of" << state->maxResumes;
            const int delay = backoffDelayMs(state->resumes, why);
            QTimer::singleShot(delay, Qt::PreciseTimer, this,
                               [this, id, state] { uploadQuery(id, state); });
            return;
        }
        ApiError error =
            status == 0
                ? errorFromTransport(response, u"upload")
                : ApiError::make(ApiError::Kind::Server,
                                 QStringLiteral("upload failed with HTTP %1").arg(status), status);
        if (isQuery && status == 0)
            error.message += QStringLiteral(" (after %1 resumes)").arg(state->resumes);
        deliver<Done>(id, state->done, std::move(error));
    };
    uploadPut(id, state, 0);
    return id;
}

void KaggleClient::uploadPut(CallId id, const std::shared_ptr<UploadState> &state, qint64 offset)
{
    Call *call = findCall(id);
    if (!call)
        return;
    net::HttpRequest request;
    request.method = net::HttpRequest::Method::Put;
    request.url = state->url;
    request.headers = {{"User-Agent", userAgent()}, {"Content-Type", "application/octet-stream"}};
    if (state->size > 0)
        request.headers.append({"Content-Range", QByteArray("bytes ") + QByteArray::number(offset) +
                                                     '-' + QByteArray::number(state->size - 1) +
                                                     '/' + QByteArray::number(state->size)});
    request.uploadFile = state->filePath;
    request.uploadOffset = offset;
    request.uploadLength = state->size - offset;
    request.connectTimeoutMs = m_options.connectTimeoutMs;
    request.totalTimeoutMs = 0; // big files take long; the stall guard catches dead peers
    request.stallTimeoutMs = 60'000;
    net::HttpCallbacks callbacks;
    if (state->progress) {
        const auto progress = state->progress;
        const qint64 size = state->size;
        callbacks.onProgress = [progress, offset, size](qint64 done, qint64) {
            progress(offset + done, size);
        };
    }
    send(*call, std::move(request), std::move(callbacks));
}

void KaggleClient::uploadQuery(CallId id, const std::shared_ptr<UploadState> &state)
{
    Call *call = findCall(id);
    if (!call)
        return;
    net::HttpRequest request;
    request.method = net::HttpRequest::Method::Put;
    request.url = state->url;
    request.headers = {{"User-Agent", userAgent()},
                       {"Content-Range", "bytes */" + QByteArray::number(state->size)}};
    request.connectTimeoutMs = m_options.connectTimeoutMs;
    request.totalTimeoutMs = m_options.requestTimeoutMs;
    send(*call, std::move(request));
}

// ---------------------------------------------------------------------------------------------
// Resumable download of signed output URLs

struct KaggleClient::DownloadState
{
    QUrl url;
    QString target;
    QString part;
    qint64 offset = 0;    ///< bytes already in the .part file when this request started
    qint64 expected = -1; ///< total size announced by the server
    int resumes = 0;
    int maxResumes = 5;
    bool restarted = false; ///< the server ignored Range once; we started over
    KaggleClient::Progress progress;
    KaggleClient::Callback<Done> done;
};

namespace {
// "bytes 100-199/1000" -> 1000; -1 when absent or "*".
qint64 totalFromContentRange(const QByteArray &value)
{
    const qsizetype slash = value.lastIndexOf('/');
    bool ok = false;
    const qint64 total = slash < 0 ? -1 : value.mid(slash + 1).trimmed().toLongLong(&ok);
    return ok ? total : -1;
}
} // namespace

KaggleClient::CallId KaggleClient::downloadFile(const QUrl &url, const QString &targetPath,
                                                const QObject *context, Progress progress,
                                                Callback<Done> done, int maxResumes)
{
    Call &call = newCall(context, true);
    const CallId id = call.id;
    auto state = std::make_shared<DownloadState>();
    state->url = url;
    state->target = targetPath;
    state->part = targetPath + QStringLiteral(".part");
    state->maxResumes = maxResumes;
    state->progress = std::move(progress);
    state->done = std::move(done);
    call.onFailure = [this, id, state](ApiError error) {
        deliver<Done>(id, state->done, std::move(error));
    };
    call.onRaw = [this, id, state](const net::HttpResponse &response) {
        const QFileInfo part(state->part);
        const qint64 have = part.exists() ? part.size() : 0;
        if (response.error == net::NetError::FileError) {
            deliver<Done>(
                id, state->done,
                ApiError::make(ApiError::Kind::Io,
                               QStringLiteral("cannot write %1: %2")
                                   .arg(QFileInfo(state->target).fileName(), response.errorText)));
            return;
        }
        const bool httpOk = response.error == net::NetError::None &&
                            (response.status == 200 || response.status == 206);
        if (response.error == net::NetError::None && !httpOk) {
            ApiError error =
                wire::errorFromResponse(response.status, response.header("Content-Type"),
                                        response.body, response.header("Retry-After"))
                    .value_or(ApiError::make(ApiError::Kind::Server, {}));
            // A busy or failing storage server (5xx, 429): try again later, from what we have.
            if (error.retriable() && state->resumes < state->maxResumes) {
                ++state->resumes;
                QTimer::singleShot(backoffDelayMs(state->resumes, error), Qt::PreciseTimer, this,
                                   [this, id, state] { downloadGet(id, state); });
                return;
            }
            error.message = QStringLiteral("download of %1 failed: %2")
                                .arg(QFileInfo(state->target).fileName(), error.message);
            deliver<Done>(id, state->done, std::move(error));
            return;
        }
        const bool complete = httpOk && state->expected >= 0 && have == state->expected;
        if (complete || (httpOk && state->expected < 0)) {
            QFile::remove(state->target);
            if (!QFile::rename(state->part, state->target)) {
                deliver<Done>(id, state->done,
                              ApiError::make(ApiError::Kind::Io,
                                             QStringLiteral("cannot rename %1 into place")
                                                 .arg(QFileInfo(state->part).fileName())));
                return;
            }
            deliver<Done>(id, state->done, Done{});
            return;
        }
        // Cut short (a dropped connection or a truncated body): resume from what we have.
        if (state->resumes++ >= state->maxResumes) {
            deliver<Done>(id, state->done,
                          ApiError::make(ApiError::Kind::Network,
                                         QStringLiteral("download of %1 kept breaking off "
                                                        "(%2 of %3 bytes)")
                                             .arg(QFileInfo(state->target).fileName())
                                             .arg(have)
                                             .arg(state->expected)));
            return;
        }
        const ApiError why = ApiError::make(ApiError::Kind::Network, {});
        QTimer::singleShot(backoffDelayMs(state->resumes, why), Qt::PreciseTimer, this,
                           [this, id, state] { downloadGet(id, state); });
    };
    downloadGet(id, state);
    return id;
}

void KaggleClient::downloadGet(CallId id, const std::shared_ptr<DownloadState> &state)
{
    Call *call = findCall(id);
    if (!call)
        return;
    const QFileInfo part(state->part);
    state->offset = part.exists() ? part.size() : 0;
    net::HttpRequest request;
    request.method = net::HttpRequest::Method::Get;
    request.url = state->url;
    request.headers = {{"User-Agent", userAgent()}};
    if (state->offset > 0)
        request.headers.append({"Range", "bytes=" + QByteArray::number(state->offset) + '-'});
    request.downloadFile = state->part;
    request.appendToDownload = state->offset > 0;
    request.connectTimeoutMs = m_options.connectTimeoutMs;
    request.totalTimeoutMs = 0;
    request.stallTimeoutMs = 60'000;
    net::HttpCallbacks callbacks;
    callbacks.onHeaders = [this, id, state](int status, const net::HttpHeaders &headers) {
        if (status == 206) {
            state->expected = totalFromContentRange(net::headerValue(headers, "Content-Range"));
        } else if (status == 200) {
            bool ok = false;
            const qint64 length = net::headerValue(headers, "Content-Length").toLongLong(&ok);
            state->expected = ok ? length : -1;
            if (state->offset > 0 && !state->restarted) {
                // The server ignored Range: start over instead of appending a second copy.
                state->restarted = true;
                if (Call *c = findCall(id); c && c->netId) {
                    m_http->cancel(c->netId);
                    c->netId = 0;
                }
                QFile::remove(state->part);
                QTimer::singleShot(0, this, [this, id, state] { downloadGet(id, state); });
            }
        }
    };
    if (state->progress) {
        callbacks.onProgress = [state](qint64 done, qint64) {
            state->progress(state->offset + done, state->expected);
        };
    }
    send(*call, std::move(request), std::move(callbacks));
}

// ---------------------------------------------------------------------------------------------
// Log stream (kaggle-api.md 3.6)

namespace {
ApiError persistedLogTooLarge()
{
    return ApiError::make(ApiError::Kind::Protocol,
                          QStringLiteral("log stream: the persisted log is larger than %1 MB; "
                                         "KaggleDeck keeps what it streamed live")
                              .arg(kMaxPersistedLogBytes >> 20));
}
} // namespace

KaggleClient::CallId KaggleClient::streamLogs(const KernelRef &ref, const QObject *context,
                                              LogStreamHandlers handlers)
{
    struct State
    {
        bool live = false;
        int status = 0;
        QByteArray contentType;
        QByteArray buffer; // persisted log or error body
        SseLogParser parser;
        bool tooLarge = false;
    };
    auto state = std::make_shared<State>();
    Call &call = newCall(context, true);
    const CallId id = call.id;
    const auto alive = [this, id] {
        const Call *c = findCall(id);
        return c && !c->contextGone();
    };
    call.onFailure = [this, id, done = handlers.onFinished](ApiError error) {
        deliver<bool>(id, done, std::move(error));
    };
    call.onRaw = [this, id, state, handlers](const net::HttpResponse &response) {
        if (response.error != net::NetError::None && state->status == 0) {
            deliver<bool>(id, handlers.onFinished, errorFromTransport(response, u"log stream"));
            return;
        }
        if (auto error = wire::errorFromResponse(response.status, state->contentType, state->buffer,
                                                 response.header("Retry-After"))) {
            error->message = u"log stream: " + error->message;
            deliver<bool>(id, handlers.onFinished, std::move(*error));
            return;
        }
        if (state->live) {
            deliver<bool>(id, handlers.onFinished, state->parser.ended());
            return;
        }
        if (state->tooLarge) {
            deliver<bool>(id, handlers.onFinished, persistedLogTooLarge());
            return;
        }
        if (response.error != net::NetError::None) {
            deliver<bool>(id, handlers.onFinished, errorFromTransport(response, u"log stream"));
            return;
        }
        auto parsed = parseLogArray(state->buffer);
        if (!parsed) {
            deliver<bool>(id, handlers.onFinished, parsed.error());
            return;
        }
        if (handlers.onEvents && !parsed->events.isEmpty())
            handlers.onEvents(parsed->events);
        deliver<bool>(id, handlers.onFinished, true);
    };

    net::HttpRequest request;
    request.method = net::HttpRequest::Method::Get;
    request.url = logStreamUrl(ref);
    request.headers = {{"Accept", "text/event-stream, */*"}, {"User-Agent", userAgent()}};
    if (m_credentials.isValid())
        request.headers.append({"Authorization", m_credentials.authorizationHeader()});
    request.streaming = true;
    request.connectTimeoutMs = m_options.connectTimeoutMs;
    request.totalTimeoutMs = 0;
    request.stallTimeoutMs = kLogStreamStallMs;

    net::HttpCallbacks callbacks;
    callbacks.onHeaders = [state, alive,
                           onOpen = handlers.onOpen](int status, const net::HttpHeaders &headers) {
        state->status = status;
        state->contentType = net::headerValue(headers, "Content-Type");
        state->live = status == 200 && state->contentType.startsWith("text/event-stream");
        if (status == 200 && onOpen && alive())
            onOpen(state->live);
    };
    callbacks.onData = [this, id, state, alive, onEvents = handlers.onEvents,
                        done = handlers.onFinished](const QByteArray &chunk) {
        if (state->live) {
            const QList<LogEvent> events = state->parser.feed(chunk);
            if (!events.isEmpty() && onEvents && alive())
                onEvents(events);
            return;
        }
        if (state->tooLarge)
            return;
        if (state->buffer.size() + chunk.size() > kMaxPersistedLogBytes) {
            state->tooLarge = true;
            state->buffer.clear();
            state->buffer.squeeze();
            // Stop now rather than read the rest of a huge body (outside curl's callback).
            QTimer::singleShot(0, this, [this, id, done] {
                Call *c = findCall(id);
                if (!c)
                    return;
                if (c->netId) {
                    m_http->cancel(c->netId);
                    c->netId = 0;
                }
                deliver<bool>(id, done, persistedLogTooLarge());
            });
            return;
        }
        state->buffer += chunk;
    };
    send(call, std::move(request), std::move(callbacks));
    return id;
}

// ---------------------------------------------------------------------------------------------

ApiError errorFromTransport(const net::HttpResponse &response, QStringView what)
{
    using net::NetError;
    ApiError::Kind kind = ApiError::Kind::Network;
    switch (response.error) {
    case NetError::Timeout:
        kind = ApiError::Kind::Timeout;
        break;
    case NetError::Cancelled:
        kind = ApiError::Kind::Cancelled;
        break;
    case NetError::TooLarge:
        kind = ApiError::Kind::Protocol;
        break;
    case NetError::FileError:
        kind = ApiError::Kind::Io;
        break;
    default:
        break;
    }
    QString text = response.errorText;
    if (text.isEmpty())
        text = QStringLiteral("network error");
    return ApiError::make(kind, what + u": " + text, response.status);
}

} // namespace kd
