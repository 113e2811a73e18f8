#pragma once

// How numbers and times read in KaggleDeck; one place so every view agrees.

#include <QDateTime>
#include <QString>

namespace kd::format {

/// "45 s", "12 min", "3 h 05 min", "2 d 4 h".
QString duration(double seconds);
/// A countdown: "11:42:05" (h:mm:ss), "--" when negative.
QString countdown(double seconds);
/// "3.25 h"; "0 h" for zero.
QString hours(double seconds);
/// "just now", "2 min ago", "3 h ago", or a date for older times.
QString ago(const QDateTime &when, const QDateTime &now = QDateTime::currentDateTimeUtc());
/// "1.2 MB", "512 B".
QString bytes(qint64 bytes);
/// Local time "Sat 00:00" style for refresh times within a week, else a date.
QString shortTime(const QDateTime &when);
/// A metric value: six significant digits, scientific notation when tiny or huge.
QString metricValue(double v);

} // namespace kd::format
