#include "format.h"

#include <QCoreApplication>
#include <QLocale>

#include <cmath>

namespace kd::format {

namespace {
QString tr(const char *text)
{
    return QCoreApplication::translate("format", text);
}
} // namespace

QString duration(double seconds)
{
    if (!std::isfinite(seconds) || seconds < 0)
        return QStringLiteral("--");
    const qint64 s = qint64(std::llround(seconds));
    if (s < 60)
        return tr("%1 s").arg(s);
    if (s < 3600)
        return tr("%1 min").arg(s / 60);
    if (s < 86400)
        return tr("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60, 2, 10, QLatin1Char('0'));
    return tr("%1 d %2 h").arg(s / 86400).arg((s % 86400) / 3600);
}

QString countdown(double seconds)
{
    if (!std::isfinite(seconds) || seconds < 0)
        return QStringLiteral("--");
    const qint64 s = qint64(seconds);
    return QStringLiteral("%1:%2:%3")
        .arg(s / 3600)
        .arg((s % 3600) / 60, 2, 10, QLatin1Char('0'))
        .arg(s % 60, 2, 10, QLatin1Char('0'));
}

QString hours(double seconds)
{
    if (!std::isfinite(seconds))
        return QStringLiteral("--");
    const double h = seconds / 3600.0;
    if (std::abs(h) < 0.005)
        return tr("0 h");
    return tr("%1 h").arg(QLocale().toString(h, 'f', 2));
}

QString ago(const QDateTime &when, const QDateTime &now)
{
    if (!when.isValid())
        return tr("never");
    const qint64 s = when.secsTo(now);
    if (s < 10)
        return tr("just now");
    if (s < 60)
        return tr("%1 s ago").arg(s);
    if (s < 3600)
        return tr("%1 min ago").arg(s / 60);
    if (s < 86400)
        return tr("%1 h ago").arg(s / 3600);
    return QLocale().toString(when.toLocalTime().date(), QLocale::ShortFormat);
}

QString bytes(qint64 bytes)
{
    return QLocale().formattedDataSize(bytes, 1, QLocale::DataSizeSIFormat);
}

QString shortTime(const QDateTime &when)
{
    if (!when.isValid())
        return QStringLiteral("--");
    const QDateTime local = when.toLocalTime();
    if (std::abs(local.secsTo(QDateTime::currentDateTime())) < 6 * 86400)
        return QLocale().toString(local, QStringLiteral("ddd HH:mm"));
    return QLocale().toString(local, QLocale::ShortFormat);
}

QString metricValue(double v)
{
    if (!std::isfinite(v))
        return QLocale().toString(v);
    const double a = std::abs(v);
    if (a != 0 && (a < 1e-3 || a >= 1e6))
        return QLocale().toString(v, 'e', 3);
    return QLocale().toString(v, 'g', 6);
}

} // namespace kd::format
