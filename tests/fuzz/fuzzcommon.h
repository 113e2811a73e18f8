#pragma once

// Shared helpers for the libFuzzer targets in tests/fuzz.

#include <QByteArray>
#include <QByteArrayView>
#include <QCoreApplication>
#include <QtGlobal>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace kd::fuzz {

/// Silences qDebug/qWarning output so the fuzzer's own output stays readable and fast.
inline void quietQt()
{
    qInstallMessageHandler([](QtMsgType type, const QMessageLogContext &, const QString &msg) {
        if (type == QtFatalMsg) {
            fprintf(stderr, "qFatal: %s\n", qPrintable(msg));
            abort();
        }
    });
}

/// The fuzz input without its first (selector) byte.
inline QByteArrayView rest(const uint8_t *data, size_t size)
{
    if (size == 0)
        return {};
    return QByteArrayView(reinterpret_cast<const char *>(data) + 1, qsizetype(size - 1));
}

/// A property the fuzzer checks: aborts (a libFuzzer crash) with a message when false.
inline void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz property violated: %s\n", what);
        abort();
    }
}

} // namespace kd::fuzz
