#pragma once

#include <httplib.h>

#include <QString>
#include <QUrl>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

namespace kd::test {

/// An httplib server on 127.0.0.1 (any free port) running in a background thread, for tests.
///
/// Register handlers on server() before start(). Handlers that stall should wait with idle(),
/// which returns as soon as the server is stopping, so stop() never hangs on them.
class LoopbackServer
{
public:
    LoopbackServer() : m_server(std::make_unique<httplib::Server>()) {}
    /// A TLS server with the given PEM certificate and key.
    LoopbackServer(const std::string &certPath, const std::string &keyPath)
        : m_server(std::make_unique<httplib::SSLServer>(certPath.c_str(), keyPath.c_str())),
          m_tls(true)
    {}
    ~LoopbackServer() { stop(); }

    LoopbackServer(const LoopbackServer &) = delete;
    LoopbackServer &operator=(const LoopbackServer &) = delete;

    httplib::Server &server() { return *m_server; }

    /// Binds and starts serving; returns once the accept loop is running.
    bool start()
    {
        if (!m_server->is_valid())
            return false;
        m_port = m_server->bind_to_any_port("127.0.0.1");
        if (m_port <= 0)
            return false;
        m_thread = std::thread([this] { m_server->listen_after_bind(); });
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!m_server->is_running() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return m_server->is_running();
    }

    /// Stops accepting, wakes stalled handlers and joins all server threads.
    void stop()
    {
        m_stopping = true;
        if (m_thread.joinable()) {
            m_server->stop();
            m_thread.join();
        }
    }

    int port() const { return m_port; }
    bool stopping() const { return m_stopping; }

    /// URL of `path` on this server, e.g. url(u"/hello").
    QUrl url(QStringView path = {}) const
    {
        return QUrl(QString::fromLatin1(m_tls ? "https" : "http") + u"://127.0.0.1:" +
                    QString::number(m_port) + path);
    }
    QUrl url(const QString &path) const { return url(QStringView(path)); }

    /// Sleeps up to `limit`; returns false early when the server is stopping.
    bool idle(std::chrono::milliseconds limit) const
    {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
            if (m_stopping)
                return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return !m_stopping;
    }

private:
    std::unique_ptr<httplib::Server> m_server;
    bool m_tls = false;
    int m_port = 0;
    std::atomic<bool> m_stopping = false;
    std::thread m_thread;
};

} // namespace kd::test
