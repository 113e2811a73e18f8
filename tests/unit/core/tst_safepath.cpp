// safeOutputPath: untrusted output file names never lead a write outside the target folder.

#include "safepath.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>

using namespace kd;

class TestSafePath : public QObject
{
    Q_OBJECT

    QTemporaryDir m_tmp;
    QString target() const { return m_tmp.filePath(QStringLiteral("target")); }

private slots:
    void init()
    {
        QDir(target()).removeRecursively();
        QVERIFY(QDir().mkpath(target()));
    }

    void names_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<bool>("accepted");
        QTest::addColumn<QString>("reason"); // part of the message when refused

        const QString longComponent(kMaxOutputComponentBytes, u'a');
        const QString tooLongComponent(kMaxOutputComponentBytes + 1, u'a');
        // 2-byte UTF-8 characters: few characters, too many bytes.
        const QString wideComponent(kMaxOutputComponentBytes / 2 + 1, QChar(0x00e9));
        QString deep;
        for (int i = 0; i < 40; ++i)
            deep += QString(120, u'd') + u'/';
        deep += QStringLiteral("f.bin");

        QTest::newRow("plain") << QStringLiteral("submission.csv") << true << QString();
        QTest::newRow("nested") << QStringLiteral("checkpoint-epoch1/model.safetensors") << true
                                << QString();
        QTest::newRow("deeply nested") << QStringLiteral("a/b/c/d/e/f.txt") << true << QString();
        QTest::newRow("dots inside a name") << QStringLiteral("model..v2.bin") << true << QString();
        QTest::newRow("three dots") << QStringLiteral("...") << true << QString();
        QTest::newRow("hidden file") << QStringLiteral(".hidden") << true << QString();
        QTest::newRow("unicode") << QStringLiteral("r\u00e9sultats/donn\u00e9es.csv") << true
                                 << QString();
        QTest::newRow("spaces") << QStringLiteral("my outputs/final model.pt") << true << QString();
        QTest::newRow("colon later") << QStringLiteral("logs/run:1.txt") << true << QString();
        QTest::newRow("longest component") << longComponent << true << QString();

        QTest::newRow("empty") << QString() << false << QStringLiteral("empty");
        QTest::newRow("parent") << QStringLiteral("../evil.txt") << false
                                << QStringLiteral("\"..\"");
        QTest::newRow("parent in the middle")
            << QStringLiteral("a/../../evil.txt") << false << QStringLiteral("\"..\"");
        QTest::newRow("parent at the end")
            << QStringLiteral("a/..") << false << QStringLiteral("\"..\"");
        QTest::newRow("only parent") << QStringLiteral("..") << false << QStringLiteral("\"..\"");
        QTest::newRow("dot component")
            << QStringLiteral("./a.txt") << false << QStringLiteral("\".\"");
        QTest::newRow("absolute") << QStringLiteral("/etc/passwd") << false
                                  << QStringLiteral("absolute");
        QTest::newRow("absolute root")
            << QStringLiteral("/") << false << QStringLiteral("absolute");
        QTest::newRow("backslash parent")
            << QStringLiteral("..\\evil.txt") << false << QStringLiteral("backslash");
        QTest::newRow("backslash separator")
            << QStringLiteral("dir\\file.txt") << false << QStringLiteral("backslash");
        QTest::newRow("windows absolute")
            << QStringLiteral("C:\\Windows\\x.dll") << false << QStringLiteral("backslash");
        QTest::newRow("drive letter")
            << QStringLiteral("C:evil.txt") << false << QStringLiteral("drive letter");
        QTest::newRow("drive letter slash")
            << QStringLiteral("d:/evil.txt") << false << QStringLiteral("drive letter");
        QTest::newRow("NUL") << QString(QStringLiteral("ok.txt") + QChar(0) + QStringLiteral(".sh"))
                             << false << QStringLiteral("NUL");
        QTest::newRow("newline") << QStringLiteral("a\nb.txt") << false
                                 << QStringLiteral("control");
        QTest::newRow("escape") << QStringLiteral("\x1b[31mred.txt") << false
                                << QStringLiteral("control");
        QTest::newRow("DEL") << QStringLiteral("a\x7f.txt") << false << QStringLiteral("control");
        QTest::newRow("C1 control")
            << QStringLiteral("a\u0085.txt") << false << QStringLiteral("control");
        QTest::newRow("double slash")
            << QStringLiteral("a//b.txt") << false << QStringLiteral("empty path component");
        QTest::newRow("trailing slash")
            << QStringLiteral("dir/") << false << QStringLiteral("empty path component");
        QTest::newRow("component too long")
            << tooLongComponent << false << QStringLiteral("bytes long");
        QTest::newRow("component too long in bytes")
            << wideComponent << false << QStringLiteral("bytes long");
        QTest::newRow("path too long") << deep << false << QStringLiteral("full path");
    }

    void names()
    {
        QFETCH(QString, name);
        QFETCH(bool, accepted);
        QFETCH(QString, reason);

        const auto pure = checkOutputName(name);
        const auto path = safeOutputPath(target(), name);
        if (accepted) {
            QVERIFY2(!pure, qPrintable(pure ? pure->message : QString()));
            QVERIFY2(path.ok(), qPrintable(path.ok() ? QString() : path.error().message));
            const QString root = QFileInfo(target()).canonicalFilePath();
            QVERIFY2(path->startsWith(root + u'/'), qPrintable(*path));
            QVERIFY(path->endsWith(name.section(u'/', -1)));
            QVERIFY(QFileInfo(*path).absoluteDir().exists()); // parents were created
            QFile f(*path);
            QVERIFY(f.open(QIODevice::WriteOnly));
        } else {
            QVERIFY(!path.ok());
            QCOMPARE(path.error().kind, ApiError::Kind::Invalid);
            QVERIFY2(path.error().message.contains(reason), qPrintable(path.error().message));
            QVERIFY2(path.error().message.startsWith(u"refused output file \""),
                     qPrintable(path.error().message));
            QCOMPARE(path.error().details, QStringList{name});
            // Nothing was created for a refused name.
            QCOMPARE(QDir(target()).entryList(QDir::AllEntries | QDir::NoDotAndDotDot |
                                              QDir::Hidden | QDir::System),
                     QStringList());
            QVERIFY(!QFileInfo::exists(m_tmp.filePath(QStringLiteral("evil.txt"))));
        }
    }

    void controlCharactersAreShownEscaped()
    {
        const auto path = safeOutputPath(target(), QStringLiteral("a\nb"));
        QVERIFY(!path.ok());
        QVERIFY(!path.error().message.contains(u'\n'));
        QVERIFY2(path.error().message.contains(u"a\\x0ab"), qPrintable(path.error().message));
    }

    void symlinkedFolderInsideTargetIsRefused()
    {
        QVERIFY(QDir().mkpath(m_tmp.filePath(QStringLiteral("elsewhere"))));
        QVERIFY(QFile::link(m_tmp.filePath(QStringLiteral("elsewhere")),
                            target() + QStringLiteral("/checkpoint-epoch1")));
        const auto path =
            safeOutputPath(target(), QStringLiteral("checkpoint-epoch1/model.safetensors"));
        QVERIFY(!path.ok());
        QVERIFY2(path.error().message.contains(u"symbolic link"), qPrintable(path.error().message));
        // A sibling name is still fine.
        QVERIFY(safeOutputPath(target(), QStringLiteral("checkpoint-epoch2/model.safetensors")));
    }

    void symlinkedFileIsRefused()
    {
        QVERIFY(QFile::link(m_tmp.filePath(QStringLiteral("victim.txt")),
                            target() + QStringLiteral("/submission.csv")));
        const auto path = safeOutputPath(target(), QStringLiteral("submission.csv"));
        QVERIFY(!path.ok());
        QVERIFY(path.error().message.contains(u"symbolic link"));
    }

    void symlinkedPartFileIsRefused()
    {
        QVERIFY(QFile::link(m_tmp.filePath(QStringLiteral("victim.txt")),
                            target() + QStringLiteral("/model.bin.part")));
        const auto path = safeOutputPath(target(), QStringLiteral("model.bin"));
        QVERIFY(!path.ok());
        QVERIFY(path.error().message.contains(u".part"));
    }

    void symlinkedTargetItselfIsFollowed()
    {
        // The user chose the target; a link there is theirs and is resolved once.
        const QString real = m_tmp.filePath(QStringLiteral("real-target"));
        const QString link = m_tmp.filePath(QStringLiteral("link-target"));
        QVERIFY(QDir().mkpath(real));
        QVERIFY(QFile::link(real, link));
        const auto path = safeOutputPath(link, QStringLiteral("a/b.txt"));
        QVERIFY2(path.ok(), qPrintable(path.ok() ? QString() : path.error().message));
        QCOMPARE(*path, QFileInfo(real).canonicalFilePath() + QStringLiteral("/a/b.txt"));
    }

    void fileInTheWayOfAFolderIsAnIoError()
    {
        QFile f(target() + QStringLiteral("/checkpoint"));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.close();
        const auto path = safeOutputPath(target(), QStringLiteral("checkpoint/model.bin"));
        QVERIFY(!path.ok());
        QCOMPARE(path.error().kind, ApiError::Kind::Io);
        QVERIFY(path.error().message.contains(u"not a folder"));
    }

    void targetIsCreatedWhenMissing()
    {
        const QString fresh = m_tmp.filePath(QStringLiteral("new/deeper"));
        const auto path = safeOutputPath(fresh, QStringLiteral("x.txt"));
        QVERIFY(path.ok());
        QVERIFY(QFileInfo(fresh).isDir());
    }
};

QTEST_APPLESS_MAIN(TestSafePath)
#include "tst_safepath.moc"
