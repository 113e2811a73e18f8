#include "safepath.h"

#include <QDir>
#include <QFileInfo>
#include <QRegularExpression>

namespace kd {
namespace {

// Control characters are shown escaped so that a hostile name cannot garble the message or
// the log it ends up in.
QString displayName(const QString &name)
{
    QString out;
    out.reserve(name.size() + 2);
    out += u'"';
    for (const QChar c : name) {
        const char16_t u = c.unicode();
        if (u < 0x20 || u == 0x7f || (u >= 0x80 && u < 0xa0))
            out += QStringLiteral("\\x%1").arg(int(u), 2, 16, QLatin1Char('0'));
        else
            out += c;
    }
    out += u'"';
    return out;
}

ApiError refuse(const QString &fileName, const QString &why,
                ApiError::Kind kind = ApiError::Kind::Invalid)
{
    ApiError e = ApiError::make(
        kind, QStringLiteral("refused output file %1: %2").arg(displayName(fileName), why));
    e.details = {fileName};
    return e;
}

bool isInside(const QString &root, const QString &path)
{
    return path == root || path.startsWith(root.endsWith(u'/') ? root : root + u'/');
}

} // namespace

std::optional<ApiError> checkOutputName(const QString &fileName)
{
    if (fileName.isEmpty())
        return refuse(fileName, QStringLiteral("the name is empty"));
    for (const QChar c : fileName) {
        const char16_t u = c.unicode();
        if (u == 0)
            return refuse(fileName, QStringLiteral("the name contains a NUL character"));
        if (u < 0x20 || u == 0x7f || (u >= 0x80 && u < 0xa0))
            return refuse(fileName, QStringLiteral("the name contains a control character"));
    }
    if (fileName.contains(u'\\'))
        return refuse(fileName, QStringLiteral("the name contains a backslash (a Windows "
                                               "separator or an escape)"));
    if (fileName.startsWith(u'/'))
        return refuse(fileName, QStringLiteral("the name is an absolute path"));
    static const QRegularExpression drive(QStringLiteral("^[A-Za-z]:"));
    if (drive.match(fileName).hasMatch())
        return refuse(fileName, QStringLiteral("the name starts with a drive letter"));
    const QStringList parts = fileName.split(u'/');
    for (const QString &part : parts) {
        if (part.isEmpty())
            return refuse(fileName, QStringLiteral("the name has an empty path component"));
        if (part == u"." || part == u"..")
            return refuse(fileName,
                          QStringLiteral("the name has a \"%1\" path component").arg(part));
        if (const qsizetype n = part.toUtf8().size(); n > kMaxOutputComponentBytes)
            return refuse(fileName, QStringLiteral("a path component is %1 bytes long (at most "
                                                   "%2)")
                                        .arg(n)
                                        .arg(kMaxOutputComponentBytes));
    }
    return std::nullopt;
}

Result<QString> safeOutputPath(const QString &targetDir, const QString &fileName)
{
    if (auto e = checkOutputName(fileName))
        return *e;
    if (targetDir.isEmpty())
        return refuse(fileName, QStringLiteral("no target folder was given"));
    const QString root = QDir::cleanPath(QDir(targetDir).absolutePath());
    const QString joined = root + u'/' + fileName;
    if (const qsizetype n = joined.toUtf8().size(); n > kMaxOutputPathBytes)
        return refuse(fileName, QStringLiteral("the full path is %1 bytes long (at most %2)")
                                    .arg(n)
                                    .arg(kMaxOutputPathBytes));
    const QString cleaned = QDir::cleanPath(joined);
    if (!isInside(root, cleaned) || cleaned == root)
        return refuse(fileName, QStringLiteral("the path leaves the target folder"));

    if (!QDir().mkpath(root))
        return refuse(fileName, QStringLiteral("cannot create the target folder %1").arg(root),
                      ApiError::Kind::Io);
    const QString canonicalRoot = QFileInfo(root).canonicalFilePath();
    if (canonicalRoot.isEmpty())
        return refuse(fileName, QStringLiteral("cannot resolve the target folder %1").arg(root),
                      ApiError::Kind::Io);

    // Walk what already exists below the target: a symlink planted there (by an earlier
    // extraction, another tool or an attacker) would redirect the write.
    const QStringList parts = fileName.split(u'/');
    QString path = root;
    for (qsizetype i = 0; i < parts.size(); ++i) {
        path += u'/' + parts.at(i);
        const QFileInfo info(path);
        if (info.isSymLink())
            return refuse(fileName, QStringLiteral("%1 is a symbolic link").arg(displayName(path)));
        const bool last = i == parts.size() - 1;
        if (!last && info.exists() && !info.isDir())
            return refuse(fileName,
                          QStringLiteral("%1 exists and is not a folder").arg(displayName(path)),
                          ApiError::Kind::Io);
        if (last && info.isDir())
            return refuse(fileName, QStringLiteral("a folder of that name already exists"),
                          ApiError::Kind::Io);
    }
    if (QFileInfo(cleaned + QStringLiteral(".part")).isSymLink())
        return refuse(fileName, QStringLiteral("its .part file is a symbolic link"));

    const QString parent = QFileInfo(cleaned).absolutePath();
    if (!QDir().mkpath(parent))
        return refuse(fileName, QStringLiteral("cannot create the folder %1").arg(parent),
                      ApiError::Kind::Io);
    // A race (a symlink swapped in while we created folders) shows up here.
    const QString canonicalParent = QFileInfo(parent).canonicalFilePath();
    if (canonicalParent.isEmpty() || !isInside(canonicalRoot, canonicalParent))
        return refuse(fileName, QStringLiteral("its folder resolves outside the target folder"));
    return QString(canonicalParent + u'/' + parts.last());
}

} // namespace kd
