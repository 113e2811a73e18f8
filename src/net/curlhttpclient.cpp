#include "curlhttpclient.h"

#include "netlog.h"

#include <QFile>
#include <QHash>
#include <QPointer>
#include <QSocketNotifier>
#include <QTimer>

#include <curl/curl.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <deque>
#include <unordered_map>
#include <utility>
#include <vector>

namespace kd::net {

namespace {

bool ensureCurlGlobalInit()
{
    // Function-local static: initialised once even when clients are created on several threads.
    static const bool ok = [] {
        const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
        if (rc != CURLE_OK)
            qCWarning(lcNet) << "curl_global_init failed:" << curl_easy_strerror(rc);
        return rc == CURLE_OK;
    }();
    return ok;
}

const char *methodName(HttpRequest::Method method)
{
    switch (method) {
    case HttpRequest::Method::Get:
        return "GET";
    case HttpRequest::Method::Post:
        return "POST";
    case HttpRequest::Method::Put:
        return "PUT";
    }
    return "?";
}

/// URL for log lines: query strings and user info may carry tokens.
QString loggableUrl(const QUrl &url)
{
    return url.toDisplayString(QUrl::RemoveUserInfo | QUrl::RemoveQuery | QUrl::RemoveFragment);
}

QString hostKeyOf(const QUrl &url)
{
    const QString scheme = url.scheme().toLower();
    const int port = url.port(scheme == u"https" ? 443 : 80);
    return scheme + u"://" + url.host().toLower() + u':' + QString::number(port);
}

bool hasHeaderInjection(const QByteArray &text)
{
    return text.contains('\r') || text.contains('\n') || text.contains('\0');
}

NetError mapCurlError(CURLcode code)
{
    switch (code) {
    case CURLE_OK:
        return NetError::None;
    case CURLE_OPERATION_TIMEDOUT:
        return NetError::Timeout;
    case CURLE_COULDNT_CONNECT:
        return NetError::ConnectFailed;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return NetError::Resolve;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
        return NetError::Tls;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
        return NetError::ConnectionLost;
    case CURLE_FILESIZE_EXCEEDED:
        return NetError::TooLarge;
    case CURLE_WRITE_ERROR:
    case CURLE_READ_ERROR:
        return NetError::FileError;
    default:
        return NetError::Other;
    }
}

/// Status code from "HTTP/1.1 200 OK" or "HTTP/2 200"; 0 when malformed.
int parseStatusLine(QByteArrayView line)
{
    const qsizetype space = line.indexOf(' ');
    if (space < 0 || line.size() < space + 4)
        return 0;
    int status = 0;
    for (qsizetype i = space + 1; i < space + 4; ++i) {
        const char c = line.at(i);
        if (c < '0' || c > '9')
            return 0;
        status = status * 10 + (c - '0');
    }
    return status;
}

} // namespace

class CurlHttpClient::Private
{
public:
    /// One request from send() until its onFinished has been handed out (or it is cancelled).
    struct Transfer
    {
        Private *owner = nullptr;
        RequestId id = 0;
        HttpRequest request;
        HttpCallbacks callbacks;
        QString hostKey;
        bool holdsSlot = false; // counted in inFlight[hostKey]
        bool capped = true;     // subject to the per-host cap (not a live stream)

        CURL *easy = nullptr;
        curl_slist *headerList = nullptr;
        char errorBuffer[CURL_ERROR_SIZE] = {};

        // Filled by libcurl callbacks.
        int status = 0; // of the response whose headers are being read
        HttpHeaders headers;
        bool finalHeaders = false;
        QFile download;
        bool writingToFile = false;
        QFile upload;
        qint64 uploadStart = 0;
        qint64 uploadSize = 0;
        qint64 uploadPos = 0;
        NetError localError = NetError::None; // why one of our callbacks aborted
        QString localErrorText;
        HttpResponse response;

        // Waiting to be handed to the callbacks once libcurl has returned.
        bool dirty = false;
        bool headersPending = false;
        QByteArray dataPending;
        bool progressPending = false;
        qint64 progressDone = 0;
        qint64 progressTotal = -1;
        bool finished = false;

        void failLocally(NetError error, QString text)
        {
            if (localError != NetError::None)
                return;
            localError = error;
            localErrorText = std::move(text);
        }
    };

    Private(CurlHttpClient *q, Options options);
    ~Private();

    RequestId send(HttpRequest request, HttpCallbacks callbacks);
    void cancel(RequestId id);
    int pendingCount() const { return int(transfers.size()); }

private:
    struct SocketWatch
    {
        QSocketNotifier *read = nullptr;
        QSocketNotifier *write = nullptr;
    };

    static int socketCallback(CURL *easy, curl_socket_t socket, int what, void *userp,
                              void *socketp);
    static int timerCallback(CURLM *multi, long timeoutMs, void *userp);
    static size_t headerCallback(char *buffer, size_t size, size_t count, void *userdata);
    static size_t writeCallback(char *buffer, size_t size, size_t count, void *userdata);
    static size_t readCallback(char *buffer, size_t size, size_t count, void *userdata);
    static int seekCallback(void *userdata, curl_off_t offset, int origin);
    static int progressCallback(void *userdata, curl_off_t dlTotal, curl_off_t dlNow,
                                curl_off_t ulTotal, curl_off_t ulNow);

    NetError validate(const HttpRequest &request, QString *why) const;
    bool start(Transfer *t);
    NetError setupEasy(Transfer *t, QString *why);
    NetError openUpload(Transfer *t, QString *why);
    void releaseEasy(Transfer *t);
    void releaseSlot(Transfer *t);
    void pump(const QString &hostKey);
    void finishLater(Transfer *t, NetError error, const QString &text);
    void completeTransfer(Transfer *t, CURLcode code);

    void updateSocket(curl_socket_t socket, int what);
    void setNotifier(QSocketNotifier *&notifier, curl_socket_t socket, QSocketNotifier::Type type,
                     bool wanted);
    void socketAction(curl_socket_t socket, int events);
    void collectFinished();

    void markDirty(Transfer *t);
    void scheduleDispatch();
    void dispatch();
    bool deliver(RequestId id, const QPointer<CurlHttpClient> &guard);

    CurlHttpClient *const q;
    const Options options;
    CURLM *multi = nullptr;
    QTimer timer;
    RequestId nextId = 1;
    std::unordered_map<RequestId, std::unique_ptr<Transfer>> transfers;
    QHash<QString, int> inFlight;
    QHash<QString, std::deque<RequestId>> waiting;
    std::unordered_map<curl_socket_t, SocketWatch> sockets;
    std::vector<RequestId> dirty;
    bool dispatchScheduled = false;
};

CurlHttpClient::Private::Private(CurlHttpClient *q, Options opts)
    : q(q), options([&] {
          opts.maxPerHost = std::max(1, opts.maxPerHost);
          return opts;
      }())
{
    ensureCurlGlobalInit();
    multi = curl_multi_init();
    if (!multi) {
        qCWarning(lcNet) << "curl_multi_init failed";
        return;
    }
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &Private::socketCallback);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &Private::timerCallback);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, this);
    // The per-host cap is ours (see send()); libcurl's would also hold back live streams.
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, long(std::max(16, options.maxPerHost * 4)));

    timer.setSingleShot(true);
    timer.setTimerType(Qt::PreciseTimer);
    QObject::connect(&timer, &QTimer::timeout, q, [this] { socketAction(CURL_SOCKET_TIMEOUT, 0); });
}

CurlHttpClient::Private::~Private()
{
    timer.stop();
    for (auto &[id, t] : transfers)
        releaseEasy(t.get());
    transfers.clear();
    for (auto &[socket, watch] : sockets) {
        delete watch.read;
        delete watch.write;
    }
    sockets.clear();
    if (multi) {
        // Closing cached connections must not call back into a half-destroyed object.
        curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, nullptr);
        curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, nullptr);
        curl_multi_cleanup(multi);
    }
}

RequestId CurlHttpClient::Private::send(HttpRequest request, HttpCallbacks callbacks)
{
    const RequestId id = nextId++;
    auto owned = std::make_unique<Transfer>();
    Transfer *t = owned.get();
    t->owner = this;
    t->id = id;
    t->request = std::move(request);
    t->callbacks = std::move(callbacks);
    transfers.emplace(id, std::move(owned));

    QString why;
    const NetError error = validate(t->request, &why);
    if (error != NetError::None) {
        qCWarning(lcNet).nospace().noquote()
            << "#" << id << " " << methodName(t->request.method) << " "
            << loggableUrl(t->request.url) << " refused: " << why;
        finishLater(t, error, why);
        return id;
    }

    t->hostKey = hostKeyOf(t->request.url);
    // A live stream (no total timeout) may stay open for hours: counted against the cap, a few
    // of them would starve every other request to that host.
    t->capped = !(t->request.streaming && t->request.totalTimeoutMs == 0);
    auto queue = waiting.find(t->hostKey);
    const bool mustWait = t->capped && (inFlight.value(t->hostKey) >= options.maxPerHost ||
                                        (queue != waiting.end() && !queue->empty()));
    if (mustWait) {
        qCDebug(lcNet).nospace().noquote() << "#" << id << " queued behind " << options.maxPerHost
                                           << " requests to " << t->hostKey;
        waiting[t->hostKey].push_back(id);
    } else {
        start(t);
    }
    return id;
}

void CurlHttpClient::Private::cancel(RequestId id)
{
    const auto it = transfers.find(id);
    if (it == transfers.end())
        return;
    std::unique_ptr<Transfer> t = std::move(it->second);
    transfers.erase(it);
    qCDebug(lcNet).nospace().noquote() << "#" << id << " cancelled";

    if (t->easy)
        releaseEasy(t.get());
    if (t->holdsSlot) {
        releaseSlot(t.get());
        pump(t->hostKey);
    } else if (!t->finished) {
        const auto queue = waiting.find(t->hostKey);
        if (queue != waiting.end()) {
            queue->erase(std::remove(queue->begin(), queue->end(), id), queue->end());
            if (queue->empty())
                waiting.erase(queue);
        }
    }
}

NetError CurlHttpClient::Private::validate(const HttpRequest &request, QString *why) const
{
    if (!multi) {
        *why = QStringLiteral("libcurl could not be initialised");
        return NetError::Other;
    }
    const QUrl &url = request.url;
    const QString scheme = url.scheme().toLower();
    if (!url.isValid() || url.host().isEmpty()) {
        *why = QStringLiteral("Invalid URL");
        return NetError::Other;
    }
    if (scheme != u"https" && scheme != u"http") {
        *why = QStringLiteral("Unsupported URL scheme \"%1\"").arg(scheme);
        return NetError::Other;
    }
    if (scheme == u"http" && !isLoopbackHost(url.host())) {
        *why = QStringLiteral("Refusing plain http to %1: only https is allowed off this machine")
                   .arg(url.host());
        return NetError::InsecureRefused;
    }
    for (const HttpHeader &header : request.headers) {
        if (header.first.isEmpty() || header.first.contains(':') ||
            hasHeaderInjection(header.first) || hasHeaderInjection(header.second)) {
            *why = QStringLiteral("Malformed request header \"%1\"")
                       .arg(QString::fromLatin1(header.first.left(64)));
            return NetError::Other;
        }
    }
    return NetError::None;
}

bool CurlHttpClient::Private::start(Transfer *t)
{
    QString why;
    NetError error = setupEasy(t, &why);
    if (error == NetError::None) {
        const CURLMcode rc = curl_multi_add_handle(multi, t->easy);
        if (rc != CURLM_OK) {
            error = NetError::Other;
            why = QString::fromUtf8(curl_multi_strerror(rc));
        }
    }
    if (error != NetError::None) {
        qCDebug(lcNet).nospace().noquote() << "#" << t->id << " could not start: " << why;
        if (t->easy) {
            curl_easy_cleanup(t->easy);
            t->easy = nullptr;
        }
        curl_slist_free_all(t->headerList);
        t->headerList = nullptr;
        finishLater(t, error, why);
        return false;
    }
    if (t->capped) {
        ++inFlight[t->hostKey];
        t->holdsSlot = true;
    }
    qCDebug(lcNet).nospace().noquote() << "#" << t->id << " " << methodName(t->request.method)
                                       << " " << loggableUrl(t->request.url);
    return true;
}

NetError CurlHttpClient::Private::setupEasy(Transfer *t, QString *why)
{
    CURL *easy = curl_easy_init();
    if (!easy) {
        *why = QStringLiteral("curl_easy_init failed");
        return NetError::Other;
    }
    t->easy = easy;
    const HttpRequest &r = t->request;
    bool ok = true;
    const auto check = [&ok](CURLcode rc) { ok = ok && rc == CURLE_OK; };

    check(curl_easy_setopt(easy, CURLOPT_URL, r.url.toEncoded().constData()));
    check(curl_easy_setopt(easy, CURLOPT_PRIVATE, t));
    check(curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t->errorBuffer));
    check(curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L));
#if LIBCURL_VERSION_NUM >= 0x075500
    check(curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https"));
    check(curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"));
#else
    check(curl_easy_setopt(easy, CURLOPT_PROTOCOLS, long(CURLPROTO_HTTP | CURLPROTO_HTTPS)));
    check(curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS, long(CURLPROTO_HTTP | CURLPROTO_HTTPS)));
#endif
    // Resumable uploads answer 308; the caller has to see it, so never follow.
    check(curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L));
    check(curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L));
    check(curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L));
    check(curl_easy_setopt(easy, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L));
    check(curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, ""));
    check(curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L));
    if (r.connectTimeoutMs > 0)
        check(curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, long(r.connectTimeoutMs)));
    check(curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, long(std::max(0, r.totalTimeoutMs))));
    if (r.stallTimeoutMs > 0) {
        check(curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L));
        check(curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME,
                               long(std::max(1, (r.stallTimeoutMs + 999) / 1000))));
    }
    if (!options.userAgent.isEmpty())
        check(curl_easy_setopt(easy, CURLOPT_USERAGENT, options.userAgent.constData()));

    check(curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &Private::headerCallback));
    check(curl_easy_setopt(easy, CURLOPT_HEADERDATA, t));
    check(curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Private::writeCallback));
    check(curl_easy_setopt(easy, CURLOPT_WRITEDATA, t));
    check(curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L));
    check(curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, &Private::progressCallback));
    check(curl_easy_setopt(easy, CURLOPT_XFERINFODATA, t));

    bool hasExpect = false;
    bool listOk = true;
    const auto appendHeader = [t, &listOk](const char *line) {
        curl_slist *appended = curl_slist_append(t->headerList, line);
        listOk = listOk && appended;
        if (appended)
            t->headerList = appended;
    };
    for (const HttpHeader &header : r.headers) {
        hasExpect = hasExpect || header.first.compare("expect", Qt::CaseInsensitive) == 0;
        // "Name;" is curl's spelling for a header with an empty value ("Name:" deletes it).
        const QByteArray line = header.second.isEmpty()
                                    ? QByteArray(header.first + ';')
                                    : QByteArray(header.first + ": " + header.second);
        appendHeader(line.constData());
    }
    // Avoid the 100-continue round trip (up to a second) on every POST and PUT.
    if (!hasExpect)
        appendHeader("Expect:");
    if (!listOk) {
        *why = QStringLiteral("Out of memory building request headers");
        return NetError::Other;
    }
    check(curl_easy_setopt(easy, CURLOPT_HTTPHEADER, t->headerList));

    switch (r.method) {
    case HttpRequest::Method::Get:
        check(curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L));
        break;
    case HttpRequest::Method::Post:
        check(curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(r.body.size())));
        check(curl_easy_setopt(easy, CURLOPT_COPYPOSTFIELDS, r.body.constData()));
        break;
    case HttpRequest::Method::Put: {
        const NetError error = openUpload(t, why);
        if (error != NetError::None)
            return error;
        check(curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L));
        check(curl_easy_setopt(easy, CURLOPT_READFUNCTION, &Private::readCallback));
        check(curl_easy_setopt(easy, CURLOPT_READDATA, t));
        check(curl_easy_setopt(easy, CURLOPT_SEEKFUNCTION, &Private::seekCallback));
        check(curl_easy_setopt(easy, CURLOPT_SEEKDATA, t));
        check(curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, curl_off_t(t->uploadSize)));
        break;
    }
    }

    if (!ok) {
        *why = QStringLiteral("libcurl rejected an option for this request");
        return NetError::Other;
    }
    return NetError::None;
}

NetError CurlHttpClient::Private::openUpload(Transfer *t, QString *why)
{
    const HttpRequest &r = t->request;
    if (r.uploadFile.isEmpty()) {
        t->uploadStart = 0;
        t->uploadSize = r.body.size();
        return NetError::None;
    }
    t->upload.setFileName(r.uploadFile);
    if (!t->upload.open(QIODevice::ReadOnly)) {
        *why = QStringLiteral("Cannot open %1 for upload: %2")
                   .arg(r.uploadFile, t->upload.errorString());
        return NetError::FileError;
    }
    const qint64 fileSize = t->upload.size();
    const qint64 length = r.uploadLength < 0 ? fileSize - r.uploadOffset : r.uploadLength;
    if (r.uploadOffset < 0 || r.uploadOffset > fileSize || length < 0 ||
        length > fileSize - r.uploadOffset) {
        *why = QStringLiteral("Upload region %1+%2 lies outside %3 (%4 bytes)")
                   .arg(r.uploadOffset)
                   .arg(length)
                   .arg(r.uploadFile)
                   .arg(fileSize);
        return NetError::FileError;
    }
    if (!t->upload.seek(r.uploadOffset)) {
        *why = QStringLiteral("Cannot seek in %1: %2").arg(r.uploadFile, t->upload.errorString());
        return NetError::FileError;
    }
    t->uploadStart = r.uploadOffset;
    t->uploadSize = length;
    return NetError::None;
}

void CurlHttpClient::Private::releaseEasy(Transfer *t)
{
    if (t->easy) {
        curl_multi_remove_handle(multi, t->easy);
        curl_easy_cleanup(t->easy);
        t->easy = nullptr;
    }
    curl_slist_free_all(t->headerList);
    t->headerList = nullptr;
}

void CurlHttpClient::Private::releaseSlot(Transfer *t)
{
    if (!t->holdsSlot)
        return;
    t->holdsSlot = false;
    const auto it = inFlight.find(t->hostKey);
    if (it != inFlight.end() && --*it <= 0)
        inFlight.erase(it);
}

void CurlHttpClient::Private::pump(const QString &hostKey)
{
    while (inFlight.value(hostKey) < options.maxPerHost) {
        const auto queue = waiting.find(hostKey);
        if (queue == waiting.end())
            return;
        if (queue->empty()) {
            waiting.erase(queue);
            return;
        }
        const RequestId next = queue->front();
        queue->pop_front();
        const auto it = transfers.find(next);
        if (it != transfers.end())
            start(it->second.get());
    }
}

void CurlHttpClient::Private::finishLater(Transfer *t, NetError error, const QString &text)
{
    t->response.error = error;
    t->response.errorText = text;
    t->finished = true;
    markDirty(t);
    // Never re-entrantly from send(): the caller may not have stored the id yet.
    scheduleDispatch();
}

void CurlHttpClient::Private::completeTransfer(Transfer *t, CURLcode code)
{
    long curlStatus = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &curlStatus);

    if (t->writingToFile) {
        t->writingToFile = false;
        if (t->download.error() != QFileDevice::NoError && code == CURLE_OK) {
            t->failLocally(NetError::FileError,
                           QStringLiteral("Cannot write %1: %2")
                               .arg(t->request.downloadFile, t->download.errorString()));
        }
        t->download.close();
    }
    t->upload.close();

    HttpResponse &r = t->response;
    r.status = t->finalHeaders ? t->status : (curlStatus >= 200 ? int(curlStatus) : 0);
    if (t->finalHeaders)
        r.headers = t->headers;
    if (t->localError != NetError::None) {
        r.error = t->localError;
        r.errorText = t->localErrorText;
    } else if (code != CURLE_OK) {
        r.error = mapCurlError(code);
        r.errorText = t->errorBuffer[0] ? QString::fromUtf8(t->errorBuffer).trimmed()
                                        : QString::fromUtf8(curl_easy_strerror(code));
    }
    qCDebug(lcNet).nospace().noquote()
        << "#" << t->id << " finished: status " << r.status << ", " << r.bytesReceived << " bytes"
        << (r.errorText.isEmpty() ? QString() : QString(u", " + r.errorText));

    releaseEasy(t);
    releaseSlot(t);
    t->finished = true;
    markDirty(t);
}

void CurlHttpClient::Private::collectFinished()
{
    std::vector<std::pair<CURL *, CURLcode>> done;
    int left = 0;
    while (CURLMsg *msg = curl_multi_info_read(multi, &left)) {
        if (msg->msg == CURLMSG_DONE)
            done.emplace_back(msg->easy_handle, msg->data.result);
    }
    QStringList freedHosts;
    for (const auto &[easy, code] : done) {
        Transfer *t = nullptr;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &t);
        if (!t)
            continue;
        completeTransfer(t, code);
        if (!freedHosts.contains(t->hostKey))
            freedHosts.append(t->hostKey);
    }
    for (const QString &host : std::as_const(freedHosts))
        pump(host);
}

int CurlHttpClient::Private::socketCallback(CURL *, curl_socket_t socket, int what, void *userp,
                                            void *)
{
    static_cast<Private *>(userp)->updateSocket(socket, what);
    return 0;
}

void CurlHttpClient::Private::updateSocket(curl_socket_t socket, int what)
{
    if (what == CURL_POLL_REMOVE) {
        const auto it = sockets.find(socket);
        if (it == sockets.end())
            return;
        // We may be inside this very notifier's activated() signal: retire, don't delete.
        for (QSocketNotifier *n : {it->second.read, it->second.write}) {
            if (n) {
                n->setEnabled(false);
                n->deleteLater();
            }
        }
        sockets.erase(it);
        return;
    }
    SocketWatch &watch = sockets[socket];
    setNotifier(watch.read, socket, QSocketNotifier::Read,
                what == CURL_POLL_IN || what == CURL_POLL_INOUT);
    setNotifier(watch.write, socket, QSocketNotifier::Write,
                what == CURL_POLL_OUT || what == CURL_POLL_INOUT);
}

void CurlHttpClient::Private::setNotifier(QSocketNotifier *&notifier, curl_socket_t socket,
                                          QSocketNotifier::Type type, bool wanted)
{
    if (!notifier) {
        if (!wanted)
            return;
        notifier = new QSocketNotifier(qintptr(socket), type, q);
        const int events = type == QSocketNotifier::Read ? CURL_CSELECT_IN : CURL_CSELECT_OUT;
        QSocketNotifier *n = notifier;
        QObject::connect(n, &QSocketNotifier::activated, q, [this, n, socket, events] {
            if (n->isEnabled())
                socketAction(socket, events);
        });
    }
    notifier->setEnabled(wanted);
}

int CurlHttpClient::Private::timerCallback(CURLM *, long timeoutMs, void *userp)
{
    // Only (re)arm here: libcurl must not be called from inside its own callback.
    auto *d = static_cast<Private *>(userp);
    if (timeoutMs < 0)
        d->timer.stop();
    else
        d->timer.start(int(std::min<long>(timeoutMs, INT_MAX)));
    return 0;
}

void CurlHttpClient::Private::socketAction(curl_socket_t socket, int events)
{
    int running = 0;
    const CURLMcode rc = curl_multi_socket_action(multi, socket, events, &running);
    if (rc != CURLM_OK)
        qCWarning(lcNet) << "curl_multi_socket_action:" << curl_multi_strerror(rc);
    collectFinished();
    dispatch(); // last: a callback may destroy the client
}

size_t CurlHttpClient::Private::headerCallback(char *buffer, size_t size, size_t count,
                                               void *userdata)
{
    auto *t = static_cast<Transfer *>(userdata);
    const size_t length = size * count;
    if (t->finalHeaders)
        return length; // trailers

    QByteArrayView line(buffer, qsizetype(length));
    while (!line.isEmpty() && (line.back() == '\n' || line.back() == '\r'))
        line.chop(1);

    if (line.startsWith("HTTP/")) {
        t->status = parseStatusLine(line);
        t->headers.clear();
        return length;
    }
    if (line.isEmpty()) {
        if (t->status >= 100 && t->status < 200) {
            t->status = 0; // interim (100 Continue): wait for the real response
            t->headers.clear();
            return length;
        }
        t->finalHeaders = true;
        t->headersPending = true;
        t->owner->markDirty(t);
        const HttpRequest &r = t->request;
        if (!r.downloadFile.isEmpty() && t->status >= 200 && t->status < 300) {
            t->download.setFileName(r.downloadFile);
            // Unbuffered so that a full disk fails the write at hand, not a later flush.
            const QIODevice::OpenMode mode =
                QIODevice::WriteOnly | QIODevice::Unbuffered |
                (r.appendToDownload ? QIODevice::Append : QIODevice::Truncate);
            if (!t->download.open(mode)) {
                t->failLocally(NetError::FileError,
                               QStringLiteral("Cannot open %1 for writing: %2")
                                   .arg(r.downloadFile, t->download.errorString()));
                return 0;
            }
            t->writingToFile = true;
        }
        return length;
    }
    if ((line.front() == ' ' || line.front() == '\t') && !t->headers.isEmpty()) {
        QByteArray &value = t->headers.last().second;
        value += ' ';
        value += line.trimmed();
        return length;
    }
    const qsizetype colon = line.indexOf(':');
    if (colon > 0) {
        t->headers.append({line.first(colon).trimmed().toByteArray(),
                           line.sliced(colon + 1).trimmed().toByteArray()});
    }
    return length;
}

size_t CurlHttpClient::Private::writeCallback(char *buffer, size_t size, size_t count,
                                              void *userdata)
{
    auto *t = static_cast<Transfer *>(userdata);
    const size_t length = size * count;
    t->response.bytesReceived += qint64(length);

    if (t->writingToFile) {
        if (t->download.write(buffer, qint64(length)) != qint64(length)) {
            t->failLocally(NetError::FileError,
                           QStringLiteral("Cannot write %1: %2")
                               .arg(t->request.downloadFile, t->download.errorString()));
            return 0;
        }
        return length;
    }
    const bool success = t->status >= 200 && t->status < 300;
    if (t->request.streaming && success) {
        t->dataPending.append(buffer, qsizetype(length));
        t->owner->markDirty(t);
        return length;
    }
    if (t->response.body.size() + qint64(length) > t->request.maxBodyBytes) {
        t->failLocally(NetError::TooLarge,
                       QStringLiteral("Response body exceeds the limit of %1 bytes")
                           .arg(t->request.maxBodyBytes));
        return 0;
    }
    t->response.body.append(buffer, qsizetype(length));
    return length;
}

size_t CurlHttpClient::Private::readCallback(char *buffer, size_t size, size_t count,
                                             void *userdata)
{
    auto *t = static_cast<Transfer *>(userdata);
    const qint64 wanted = std::min<qint64>(qint64(size * count), t->uploadSize - t->uploadPos);
    if (wanted <= 0)
        return 0;
    qint64 got = 0;
    if (t->upload.isOpen()) {
        got = t->upload.read(buffer, wanted);
        if (got <= 0) {
            t->failLocally(NetError::FileError,
                           QStringLiteral("Cannot read %1: %2")
                               .arg(t->request.uploadFile,
                                    got < 0 ? t->upload.errorString()
                                            : QStringLiteral("file shrank during upload")));
            return CURL_READFUNC_ABORT;
        }
    } else {
        got = wanted;
        std::memcpy(buffer, t->request.body.constData() + t->uploadPos, size_t(got));
    }
    t->uploadPos += got;
    return size_t(got);
}

int CurlHttpClient::Private::seekCallback(void *userdata, curl_off_t offset, int origin)
{
    // libcurl rewinds when it resends the body, e.g. on a reused connection that had died.
    auto *t = static_cast<Transfer *>(userdata);
    if (origin != SEEK_SET || offset < 0 || offset > t->uploadSize)
        return CURL_SEEKFUNC_FAIL;
    if (t->upload.isOpen() && !t->upload.seek(t->uploadStart + offset))
        return CURL_SEEKFUNC_FAIL;
    t->uploadPos = offset;
    return CURL_SEEKFUNC_OK;
}

int CurlHttpClient::Private::progressCallback(void *userdata, curl_off_t dlTotal, curl_off_t dlNow,
                                              curl_off_t, curl_off_t ulNow)
{
    auto *t = static_cast<Transfer *>(userdata);
    const bool upload = t->request.method == HttpRequest::Method::Put;
    const qint64 done = upload ? qint64(ulNow) : qint64(dlNow);
    const qint64 total = upload ? t->uploadSize : (dlTotal > 0 ? qint64(dlTotal) : -1);
    if (done != t->progressDone || total != t->progressTotal) {
        t->progressDone = done;
        t->progressTotal = total;
        t->progressPending = true;
        t->owner->markDirty(t);
    }
    return 0;
}

void CurlHttpClient::Private::markDirty(Transfer *t)
{
    if (!t->dirty) {
        t->dirty = true;
        dirty.push_back(t->id);
    }
}

void CurlHttpClient::Private::scheduleDispatch()
{
    if (dispatchScheduled)
        return;
    dispatchScheduled = true;
    QMetaObject::invokeMethod(
        q,
        [this] {
            dispatchScheduled = false;
            dispatch();
        },
        Qt::QueuedConnection);
}

void CurlHttpClient::Private::dispatch()
{
    // Callbacks may send, cancel or even delete the client; work on a snapshot of ids and look
    // each one up again after every callback.
    const QPointer<CurlHttpClient> guard(q);
    const std::vector<RequestId> ids = std::exchange(dirty, {});
    for (const RequestId id : ids) {
        if (!deliver(id, guard))
            return;
    }
}

bool CurlHttpClient::Private::deliver(RequestId id, const QPointer<CurlHttpClient> &guard)
{
    const auto alive = [&] { return transfers.find(id) != transfers.end(); };
    auto it = transfers.find(id);
    if (it == transfers.end())
        return true;
    Transfer *t = it->second.get();
    t->dirty = false;

    if (t->headersPending) {
        t->headersPending = false;
        if (const auto onHeaders = t->callbacks.onHeaders) {
            const HttpHeaders headers = t->headers;
            onHeaders(t->status, headers);
            if (!guard)
                return false;
            if (!alive())
                return true;
        }
    }
    if (!t->dataPending.isEmpty()) {
        const QByteArray chunk = std::exchange(t->dataPending, {});
        if (const auto onData = t->callbacks.onData) {
            onData(chunk);
            if (!guard)
                return false;
            if (!alive())
                return true;
        }
    }
    if (t->progressPending) {
        t->progressPending = false;
        if (const auto onProgress = t->callbacks.onProgress) {
            onProgress(t->progressDone, t->progressTotal);
            if (!guard)
                return false;
            if (!alive())
                return true;
        }
    }
    if (t->finished) {
        it = transfers.find(id);
        std::unique_ptr<Transfer> owned = std::move(it->second);
        transfers.erase(it);
        const HttpResponse response = std::move(owned->response);
        const auto onFinished = std::move(owned->callbacks.onFinished);
        owned.reset();
        if (onFinished) {
            onFinished(response);
            if (!guard)
                return false;
        }
    }
    return true;
}

CurlHttpClient::CurlHttpClient(Options options, QObject *parent)
    : HttpClient(parent), d(std::make_unique<Private>(this, std::move(options)))
{}

CurlHttpClient::~CurlHttpClient() = default;

RequestId CurlHttpClient::send(HttpRequest request, HttpCallbacks callbacks)
{
    return d->send(std::move(request), std::move(callbacks));
}

void CurlHttpClient::cancel(RequestId id)
{
    d->cancel(id);
}

int CurlHttpClient::pendingCount() const
{
    return d->pendingCount();
}

bool CurlHttpClient::isLoopbackHost(const QString &host)
{
    const QString h = host.toLower();
    if (h == u"localhost" || h == u"::1" || h == u"[::1]")
        return true;
    const QList<QStringView> parts = QStringView(h).split(u'.');
    if (parts.size() != 4)
        return false;
    for (const QStringView part : parts) {
        if (part.isEmpty() || part.size() > 3)
            return false;
        for (const QChar c : part) {
            if (!c.isDigit() || c.unicode() > 0x7f)
                return false;
        }
        if (part.toInt() > 255)
            return false;
    }
    return parts.first() == u"127";
}

} // namespace kd::net
