// The on-disk session log: round trips, the size cap and its one marker, resuming after a
// restart, and write errors (disk full, unwritable directory) as a state, never a crash.

#include "logarchive.h"
#include "logformat.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

#include <sys/resource.h>
#include <unistd.h>

using namespace kd;

namespace {

using Stream = LogEvent::Stream;

LogEvent ev(const QString &data, Stream stream = Stream::Stdout, double time = 0)
{
    LogEvent e;
    e.stream = stream;
    e.time = time;
    e.data = data;
    return e;
}

QList<LogEvent> sample()
{
    return {
        ev(QStringLiteral("plain line\n"), Stream::Stdout, 1.5),
        ev(QStringLiteral("warning\r\n"), Stream::Stderr, 2.25),
        ev(QStringLiteral("caf\u00e9 \U0001F600 \u65e5\u672c \"quoted\" back\\slash\n"),
           Stream::Stdout, 3),
        ev(QChar(0x1b) + QStringLiteral("[31mred") + QChar(0x1b) + QStringLiteral("[0m\r"),
           Stream::Stderr, 4.125),
        ev(QStringLiteral("{'loss': 0.41, 'epoch': 1.0}\n"), Stream::Stdout, 1234.000001),
        ev(QString(), Stream::Stdout, 5),
    };
}

QList<LogEvent> withoutMarkers(QList<LogEvent> events)
{
    events.removeIf([](const LogEvent &e) { return LogArchive::isTruncationMarker(e); });
    return events;
}

int markerCount(const QList<LogEvent> &events)
{
    int n = 0;
    for (const LogEvent &e : events)
        n += LogArchive::isTruncationMarker(e) ? 1 : 0;
    return n;
}

} // namespace

class TstLogArchive : public QObject
{
    Q_OBJECT

private slots:
    void roundTrip_data()
    {
        QTest::addColumn<int>("batchSize");
        QTest::newRow("one batch") << 100;
        QTest::newRow("one event per batch") << 1;
        QTest::newRow("pairs") << 2;
    }

    void roundTrip()
    {
        QFETCH(int, batchSize);
        QTemporaryDir dir;
        const QList<LogEvent> events = sample();
        {
            LogArchive archive(dir.filePath(QStringLiteral("logs")), 42);
            QCOMPARE(archive.filePath(), dir.filePath(QStringLiteral("logs/42.log")));
            for (qsizetype i = 0; i < events.size(); i += batchSize)
                QVERIFY(archive.append(events.mid(i, batchSize)));
            QCOMPARE(archive.eventCount(), events.size());
            QVERIFY(!archive.hasError());
            QVERIFY(!archive.isTruncated());
            // Readable while still open: each append reached the file.
            const auto read = archive.readEvents();
            QVERIFY(read.ok());
            QCOMPARE(*read, events);
        }
        const auto read = LogArchive::readEvents(
            LogArchive::filePathFor(dir.filePath(QStringLiteral("logs")), 42));
        QVERIFY(read.ok());
        QCOMPARE(*read, events);
    }

    void fileIsAKaggleLogArray()
    {
        QTemporaryDir dir;
        LogArchive archive(dir.path(), 7);
        const QList<LogEvent> events = sample();
        QVERIFY(archive.append(events));
        QFile f(archive.filePath());
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray bytes = f.readAll();
        // Kaggle's own layout, left open while the run goes on.
        QVERIFY(bytes.startsWith("[{\"stream_name\":\"stdout\",\"time\":1.5,\"data\":"));
        QVERIFY(bytes.contains("}\n,{\"stream_name\":\"stderr\""));
        QVERIFY(bytes.endsWith("}\n"));
        QCOMPARE(archive.sizeOnDisk(), bytes.size());

        const auto all = archive.readAll();
        QVERIFY(all.ok());
        QVERIFY(all->endsWith("}\n]"));
        const auto parsed = parseLogArray(*all);
        QVERIFY(parsed.ok());
        QVERIFY(parsed->complete);
        QCOMPARE(parsed->skipped, 0);
        QCOMPARE(parsed->events, events);
    }

    void emptySessionIsAnEmptyLog()
    {
        QTemporaryDir dir;
        LogArchive archive(dir.path(), 1);
        QVERIFY(archive.open());
        QVERIFY(QFile::exists(archive.filePath()));
        QCOMPARE(archive.readAll().value(), QByteArray("[]"));
        QVERIFY(archive.readEvents().value().isEmpty());
        QCOMPARE(archive.eventCount(), qint64(0));
    }

    void capProducesExactlyOneMarker_data()
    {
        QTest::addColumn<int>("batchSize");
        QTest::addColumn<int>("events");
        QTest::newRow("one big batch") << 1000 << 400;
        QTest::newRow("small batches") << 7 << 400;
        QTest::newRow("one event per batch") << 1 << 400;
    }

    void capProducesExactlyOneMarker()
    {
        QFETCH(int, batchSize);
        QFETCH(int, events);
        QTemporaryDir dir;
        constexpr qint64 cap = 16 * 1024;
        LogArchive archive(dir.path(), 5, cap);
        QList<LogEvent> all;
        for (int i = 0; i < events; ++i)
            all << ev(QStringLiteral("step %1 loss=0.%2 ").arg(i).arg(1000 + i) +
                          QString(60, QChar(u'x')) + u'\n',
                      Stream::Stdout, i);
        for (qsizetype i = 0; i < all.size(); i += batchSize)
            QVERIFY(archive.append(all.mid(i, batchSize))); // past the cap is not an error

        QVERIFY(archive.isTruncated());
        QVERIFY(!archive.hasError());
        const qint64 kept = archive.eventCount();
        QVERIFY(kept > 10 && kept < events);
        QCOMPARE(archive.droppedEventCount(), events - kept);
        qint64 droppedBytes = 0;
        for (qsizetype i = kept; i < all.size(); ++i)
            droppedBytes += all.at(i).data.toUtf8().size();
        QCOMPARE(archive.droppedBytes(), droppedBytes);
        QVERIFY(archive.sizeOnDisk() <= cap + 300);

        const QList<LogEvent> read = archive.readEvents().value();
        QCOMPARE(markerCount(read), 1);
        QVERIFY(LogArchive::isTruncationMarker(read.last()));
        QCOMPARE(read.last().data, LogArchive::truncationText(cap, droppedBytes) + u'\n');
        QCOMPARE(read.last().data,
                 QStringLiteral("[KaggleDeck: log truncated at 16 KB; %1 more bytes not kept]\n")
                     .arg(droppedBytes));
        QCOMPARE(read.last().time, double(kept)); // when the first event was dropped
        QCOMPARE(withoutMarkers(read), all.first(kept));
    }

    void defaultCapText()
    {
        QCOMPARE(LogArchive::truncationText(LogArchive::kDefaultCapBytes, 123),
                 QStringLiteral("[KaggleDeck: log truncated at 64 MB; 123 more bytes not kept]"));
        QVERIFY(!LogArchive::isTruncationMarker(ev(QStringLiteral("[KaggleDeck: hello]\n"))));
    }

    void resumeAfterRestart()
    {
        QTemporaryDir dir;
        const QList<LogEvent> events = sample();
        {
            LogArchive first(dir.path(), 9);
            QVERIFY(first.append(events.first(3)));
        }
        LogArchive second(dir.path(), 9);
        QVERIFY(second.open());
        QCOMPARE(second.eventCount(), qint64(3));
        QVERIFY(second.append(events.sliced(3)));
        QCOMPARE(second.eventCount(), events.size());
        QCOMPARE(second.readEvents().value(), events);
    }

    void resumeKeepsCountingPastTheCap()
    {
        QTemporaryDir dir;
        constexpr qint64 cap = 2048;
        const QString text = QString(100, QChar(u'y')) + u'\n';
        qint64 kept = 0;
        {
            LogArchive first(dir.path(), 3, cap);
            for (int i = 0; i < 40; ++i)
                QVERIFY(first.append(ev(text)));
            QVERIFY(first.isTruncated());
            kept = first.eventCount();
            QCOMPARE(first.droppedEventCount(), 40 - kept);
        }
        LogArchive second(dir.path(), 3, cap);
        QVERIFY(second.open());
        QVERIFY(second.isTruncated());
        QCOMPARE(second.eventCount(), kept);
        QCOMPARE(second.droppedEventCount(), 40 - kept);
        QVERIFY(second.append(QList<LogEvent>(10, ev(text))));
        QCOMPARE(second.droppedEventCount(), 50 - kept);
        QCOMPARE(second.droppedBytes(), (50 - kept) * text.size());
        const QList<LogEvent> read = second.readEvents().value();
        QCOMPARE(markerCount(read), 1);
        QCOMPARE(read.size(), kept + 1);
        QVERIFY(read.last().data.contains(QString::number((50 - kept) * text.size())));
    }

    void tornLastLineIsCut()
    {
        QTemporaryDir dir;
        {
            LogArchive archive(dir.path(), 11);
            QVERIFY(archive.append(sample().first(2)));
        }
        const QString path = LogArchive::filePathFor(dir.path(), 11);
        {
            QFile f(path);
            QVERIFY(f.open(QIODevice::Append));
            f.write(",{\"stream_name\":\"stdout\",\"time\":9,\"da"); // a crash mid-write
        }
        QCOMPARE(LogArchive::readEvents(path).value(), sample().first(2));
        LogArchive resumed(dir.path(), 11);
        QVERIFY(resumed.append(sample().at(2)));
        QCOMPARE(resumed.eventCount(), qint64(3));
        QCOMPARE(resumed.readEvents().value(), sample().first(3));
    }

    void diskFull()
    {
        if (!QFile::exists(QStringLiteral("/dev/full")))
            QSKIP("no /dev/full on this system");
        QTemporaryDir dir;
        QVERIFY(QFile::link(QStringLiteral("/dev/full"), LogArchive::filePathFor(dir.path(), 13)));
        LogArchive archive(dir.path(), 13);
        QVERIFY(!archive.append(sample()));
        QVERIFY(archive.hasError());
        QCOMPARE(archive.error()->kind, ApiError::Kind::Io);
        QVERIFY2(archive.error()->message.contains(QStringLiteral("13.log")),
                 qPrintable(archive.error()->message));
        QCOMPARE(archive.eventCount(), qint64(0));
        QCOMPARE(archive.droppedEventCount(), sample().size());
        // Sticky: later batches are counted, not written, and no marker is attempted.
        QVERIFY(!archive.append(sample()));
        QCOMPARE(archive.droppedEventCount(), 2 * sample().size());
        QVERIFY(!archive.isTruncated());
    }

    void writeFailsMidSession()
    {
        // A file-size limit makes write(2) fail part-way through a batch, as a full disk
        // does: a torn element may be left behind, which readers and a resume must cut.
        QTemporaryDir dir;
        const QList<LogEvent> batch(20, ev(QString(100, QChar(u'z')) + u'\n'));
        rlimit old{};
        QCOMPARE(::getrlimit(RLIMIT_FSIZE, &old), 0);
        const auto previousHandler = std::signal(SIGXFSZ, SIG_IGN);
        rlimit limited = old;
        limited.rlim_cur = 7000;
        QCOMPARE(::setrlimit(RLIMIT_FSIZE, &limited), 0);
        LogArchive archive(dir.path(), 14);
        bool ok = true;
        int batches = 0;
        while (ok && batches < 10) {
            ok = archive.append(batch);
            ++batches;
        }
        ::setrlimit(RLIMIT_FSIZE, &old);
        std::signal(SIGXFSZ, previousHandler);

        QVERIFY(!ok);
        QCOMPARE(batches, 3); // 2 x ~3 KB fit under 7000 bytes, the third does not
        QVERIFY(archive.hasError());
        QCOMPARE(archive.error()->kind, ApiError::Kind::Io);
        QCOMPARE(archive.eventCount(), qint64(40));
        QCOMPARE(archive.droppedEventCount(), qint64(20));
        QVERIFY(!archive.append(batch)); // sticky, no retry loop
        QCOMPARE(archive.droppedEventCount(), qint64(40));
        QCOMPARE(archive.readEvents().value().size(), qint64(40));

        LogArchive resumed(dir.path(), 14);
        QVERIFY(resumed.open());
        QCOMPARE(resumed.eventCount(), qint64(40));
        QVERIFY(resumed.append(sample().first(1)));
        const QList<LogEvent> read = resumed.readEvents().value();
        QCOMPARE(read.size(), qint64(41));
        QCOMPARE(read.last(), sample().first());
    }

    void unwritableDirectory()
    {
        QTemporaryDir dir;
        // A "directory" below a regular file cannot be created, even by root.
        QFile blocker(dir.filePath(QStringLiteral("file")));
        QVERIFY(blocker.open(QIODevice::WriteOnly));
        blocker.close();
        LogArchive archive(dir.filePath(QStringLiteral("file/logs")), 15);
        QVERIFY(!archive.open());
        QVERIFY(archive.hasError());
        QCOMPARE(archive.error()->kind, ApiError::Kind::Io);
        QVERIFY(!archive.append(sample()));
        QCOMPARE(archive.droppedEventCount(), sample().size());
    }

    void readOnlyDirectory()
    {
        if (::geteuid() == 0)
            QSKIP("root ignores directory permissions");
        QTemporaryDir dir;
        QVERIFY(QFile::setPermissions(dir.path(), QFileDevice::ReadOwner | QFileDevice::ExeOwner));
        LogArchive archive(dir.path(), 16);
        QVERIFY(!archive.append(sample()));
        QVERIFY(archive.hasError());
        QFile::setPermissions(dir.path(), QFileDevice::ReadOwner | QFileDevice::WriteOwner |
                                              QFileDevice::ExeOwner);
    }

    void notAnArchive()
    {
        QTemporaryDir dir;
        const QString path = LogArchive::filePathFor(dir.path(), 17);
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("not a log\n");
        f.close();
        LogArchive archive(dir.path(), 17);
        QVERIFY(!archive.open());
        QVERIFY(archive.hasError());
        QVERIFY(!LogArchive::readEvents(path).ok());
        // The foreign file is left alone.
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), QByteArray("not a log\n"));
    }

    void missingFileIsAnError()
    {
        QTemporaryDir dir;
        const auto read = LogArchive::readEvents(dir.filePath(QStringLiteral("404.log")));
        QVERIFY(!read.ok());
        QCOMPARE(read.error().kind, ApiError::Kind::Io);
    }
};

QTEST_GUILESS_MAIN(TstLogArchive)
#include "tst_logarchive.moc"
