#pragma once

// A scripted HttpClient for tests that need exact control of responses and timing.
// Responses are answered from the event loop, never re-entrantly from send().

#include "httpclient.h"

#include <QElapsedTimer>
#include <QSet>
#include <QTimer>

#include <deque>

namespace kd::test {

class FakeHttpClient final : public net::HttpClient
{
public:
    struct Sent
    {
        net::HttpRequest request;
        qint64 atMs = 0; ///< since the fake was created
    };

    FakeHttpClient() { m_clock.start(); }

    /// Queues the next response (FIFO across all requests).
    void enqueue(int status, QByteArray body, net::HttpHeaders headers = {},
                 net::NetError error = net::NetError::None)
    {
        net::HttpResponse r;
        r.status = status;
        r.body = std::move(body);
        r.headers = std::move(headers);
        if (r.headers.isEmpty() && status != 0)
            r.headers = {{"Content-Type", "application/json"}};
        r.error = error;
        if (error != net::NetError::None)
            r.errorText = QStringLiteral("simulated failure");
        m_queue.push_back(std::move(r));
    }

    net::RequestId send(net::HttpRequest request, net::HttpCallbacks callbacks) override
    {
        const net::RequestId id = ++m_nextId;
        m_sent.append({request, m_clock.elapsed()});
        net::HttpResponse response;
        if (m_queue.empty()) {
            response.error = net::NetError::ConnectFailed;
            response.errorText = QStringLiteral("no scripted response");
        } else {
            response = m_queue.front();
            m_queue.pop_front();
        }
        m_live.insert(id);
        QTimer::singleShot(0, this, [this, id, response, callbacks] {
            if (!m_live.remove(id))
                return;
            if (callbacks.onHeaders && response.status)
                callbacks.onHeaders(response.status, response.headers);
            callbacks.onFinished(response);
        });
        return id;
    }
    void cancel(net::RequestId id) override { m_live.remove(id); }
    int pendingCount() const override { return int(m_live.size()); }

    const QList<Sent> &sent() const { return m_sent; }

private:
    QElapsedTimer m_clock;
    std::deque<net::HttpResponse> m_queue;
    QList<Sent> m_sent;
    QSet<net::RequestId> m_live;
    net::RequestId m_nextId = 0;
};

} // namespace kd::test
