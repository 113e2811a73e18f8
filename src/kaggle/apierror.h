#pragma once

#include <QString>
#include <QStringList>

#include <chrono>
#include <optional>
#include <utility>
#include <variant>

namespace kd {

/// The one typed error set of the Kaggle client (kaggle-api.md section 8.1).
struct ApiError
{
    enum class Kind {
        Auth,        ///< 401, or credentials missing or rejected
        NotFound,    ///< 403/404: permission denied, or the kernel does not exist or is private
        RateLimited, ///< 429; retryAfter holds the server's hint when it sent one
        Server,      ///< 5xx
        Network,     ///< connection refused, reset, DNS, TLS
        Timeout,     ///< connect, total or stall timeout
        Protocol,    ///< the body is not JSON, or a required field has the wrong type
        Application, ///< HTTP 200 carrying an error (push "error", dataset "status"/"error")
        Cancelled,   ///< the caller cancelled
        Io,          ///< a local file could not be read or written (disk full, permissions)
        Invalid,     ///< the request itself is invalid (caught before sending)
    };

    Kind kind = Kind::Protocol;
    int httpStatus = 0;
    QString message; ///< human readable; never contains a credential
    std::optional<std::chrono::milliseconds> retryAfter;
    QStringList details; ///< per-field problems, e.g. "invalidDatasetSources: alice/missing"

    static ApiError make(Kind kind, QString message, int httpStatus = 0)
    {
        return ApiError{kind, httpStatus, std::move(message), std::nullopt, {}};
    }
    bool retriable() const
    {
        return kind == Kind::RateLimited || kind == Kind::Server || kind == Kind::Network ||
               kind == Kind::Timeout;
    }
};

/// Short English name of an error kind ("rate limited"), for logs and messages.
QString kindName(ApiError::Kind kind);

/// A value or an ApiError (a small std::expected stand-in that clang 14 can also compile).
template <typename T> class Result
{
public:
    Result(T value) : m_v(std::move(value)) {}
    Result(ApiError error) : m_v(std::move(error)) {}

    bool ok() const { return m_v.index() == 0; }
    explicit operator bool() const { return ok(); }
    const T &value() const & { return std::get<0>(m_v); }
    T &value() & { return std::get<0>(m_v); }
    T &&value() && { return std::get<0>(std::move(m_v)); }
    const T &operator*() const & { return value(); }
    const T *operator->() const { return &value(); }
    const ApiError &error() const { return std::get<1>(m_v); }

private:
    std::variant<T, ApiError> m_v;
};

/// Result of a call that returns nothing.
struct Done
{
};

} // namespace kd
