// Folding log chunks into terminal lines: "\r" rewrites, ANSI styles, chunk boundaries.

#include "terminallog.h"

#include <QFile>
#include <QTest>

using namespace kd;

namespace kd {
// Readable QCOMPARE failures.
char *toString(const StyleSpan &span)
{
    return QTest::toString(QStringLiteral("{%1,%2,colour %3%4}")
                               .arg(span.start)
                               .arg(span.length)
                               .arg(int(span.color))
                               .arg(span.bold ? QStringLiteral(",bold") : QString()));
}
} // namespace kd

namespace {

using Stream = LogEvent::Stream;

LogEvent chunk(const QString &data, Stream stream = Stream::Stdout, double time = 1)
{
    LogEvent e;
    e.stream = stream;
    e.time = time;
    e.data = data;
    return e;
}

QStringList texts(const QList<LogLine> &lines)
{
    QStringList out;
    for (const LogLine &l : lines)
        out << l.text;
    return out;
}

/// Everything a fold produced: lines in order, then the partial line of each stream.
struct Fold
{
    QList<LogLine> lines;
    LogLine out;
    LogLine err;
    friend bool operator==(const Fold &, const Fold &) = default;
};

Fold foldChunks(const QStringList &chunks, bool superseded = false, Stream stream = Stream::Stdout)
{
    TerminalLog log;
    log.setReportSuperseded(superseded);
    Fold f;
    for (const QString &piece : chunks)
        log.feed(chunk(piece, stream), f.lines);
    f.out = log.partial(Stream::Stdout);
    f.err = log.partial(Stream::Stderr);
    return f;
}

QString esc(const char *rest)
{
    return QChar(0x1b) + QString::fromUtf8(rest);
}

bool hasControl(const QString &text)
{
    for (const QChar c : text) {
        if (c.unicode() < 0x20 && c != u'\t')
            return true;
        if (c.unicode() == 0x7f)
            return true;
    }
    return false;
}

QString readFixture(const char *name)
{
    QFile f(QStringLiteral(KD_TEST_DATA_DIR "/logs/") + QLatin1StringView(name));
    if (!f.open(QIODevice::ReadOnly))
        qFatal("missing fixture %s", name);
    return QString::fromUtf8(f.readAll());
}

/// Inputs that exercise every state of the folder; used by the chunk-split tests.
QStringList trickyInputs()
{
    return {
        QStringLiteral("plain line\nsecond line\r\nthird"),
        QStringLiteral("\r  0%|          | 0/10\r 50%|█████     | 5/10\r100%|██████████| 10/10\n"),
        esc("[1;31mTraceback") + esc("[0m (most recent call last):\r\n") + esc("[38;5;208m") +
            QStringLiteral("orange") + esc("[38;2;10;20;250mblue") + esc("[m\n"),
        QStringLiteral("abc\r") + esc("[Kxyz\n") + esc("]8;;https://kaggle.com") + QChar(0x07) +
            QStringLiteral("link") + esc("]8;;") + esc("\\") + QStringLiteral("\n"),
        QStringLiteral("1/3 [>..]") + QString(9, QChar(u'\b')) + QStringLiteral("\r2/3 [=>.]") +
            QString(9, QChar(u'\b')) + QStringLiteral("\r3/3 [===] - 2s\n"),
        QStringLiteral("\rEpoch 0%\n\rtrain 0%") + esc("[A") + QStringLiteral("\n\rtrain 50%") +
            esc("[A") + QStringLiteral("\rEpoch 100%\n\r        ") + esc("[A") +
            QStringLiteral("\n") + QStringLiteral("done\n"),
        QStringLiteral("spin |\b/\b-\b\\\b|\ndone"),
        QStringLiteral("caf\u00e9 \U0001F600 \u65e5\u672c\n"),
    };
}

} // namespace

class TstTerminalLog : public QObject
{
    Q_OBJECT

private slots:
    void lines_data()
    {
        QTest::addColumn<QString>("input");
        QTest::addColumn<QStringList>("expected");
        QTest::addColumn<QList<bool>>("progress");
        QTest::addColumn<QString>("partial");

        QTest::newRow("plain") << QStringLiteral("a\nb\n")
                               << QStringList{QStringLiteral("a"), QStringLiteral("b")}
                               << QList<bool>{false, false} << QString();
        QTest::newRow("crlf is a plain newline")
            << QStringLiteral("a\r\nb\r\n") << QStringList{QStringLiteral("a"), QStringLiteral("b")}
            << QList<bool>{false, false} << QString();
        QTest::newRow("no trailing newline")
            << QStringLiteral("a\nb") << QStringList{QStringLiteral("a")} << QList<bool>{false}
            << QStringLiteral("b");
        QTest::newRow("empty lines") << QStringLiteral("\n\n") << QStringList{QString(), QString()}
                                     << QList<bool>{false, false} << QString();
        QTest::newRow("tqdm collapses to its last state")
            << QStringLiteral("\r 10%|█         | 1/10\r 20%|██        | 2/10\r100%|██████████| "
                              "10/10\n")
            << QStringList{QStringLiteral("100%|██████████| 10/10")} << QList<bool>{true}
            << QString();
        QTest::newRow("carriage return replaces a longer line")
            << QStringLiteral("abcdef\rXY\n") << QStringList{QStringLiteral("XY")}
            << QList<bool>{true} << QString();
        QTest::newRow("trailing carriage return keeps the text until more comes")
            << QStringLiteral("line\nabc\r") << QStringList{QStringLiteral("line")}
            << QList<bool>{false} << QStringLiteral("abc");
        QTest::newRow("two carriage returns then newline")
            << QStringLiteral("abc\r\r\n") << QStringList{QStringLiteral("abc")}
            << QList<bool>{false} << QString();
        QTest::newRow("erase line after carriage return")
            << (QStringLiteral("abc\r") + esc("[Kxy\n")) << QStringList{QStringLiteral("xy")}
            << QList<bool>{true} << QString();
        QTest::newRow("erase whole line")
            << (QStringLiteral("abc") + esc("[2Kxy\n")) << QStringList{QStringLiteral("xy")}
            << QList<bool>{true} << QString();
        QTest::newRow("erase to end of line at the end is nothing")
            << (QStringLiteral("abc") + esc("[Kxy\n")) << QStringList{QStringLiteral("abcxy")}
            << QList<bool>{false} << QString();
        QTest::newRow("cursor to column 1")
            << (QStringLiteral("abc") + esc("[1Gxy\n")) << QStringList{QStringLiteral("xy")}
            << QList<bool>{true} << QString();
        QTest::newRow("spinner backspaces overwrite")
            << QStringLiteral("Working |\b/\b-\b\\\n") << QStringList{QStringLiteral("Working \\")}
            << QList<bool>{false} << QString();
        QTest::newRow("keras backspaces to column 0")
            << (QStringLiteral("1/5 [==>..]") + QString(11, QChar(u'\b')) +
                QStringLiteral("\r2/5 [===>.]\n"))
            << QStringList{QStringLiteral("2/5 [===>.]")} << QList<bool>{true} << QString();
        QTest::newRow("backspaces without new text leave the line")
            << QStringLiteral("abc\b\b\n") << QStringList{QStringLiteral("abc")}
            << QList<bool>{false} << QString();
        QTest::newRow("bell, NUL, DEL and form feed dropped")
            << QStringView(u"a\u0007b\u0000c\u007fd\u000ce\n", 11).toString()
            << QStringList{QStringLiteral("abcde")} << QList<bool>{false} << QString();
        QTest::newRow("tab kept") << QStringLiteral("a\tb\n") << QStringList{QStringLiteral("a\tb")}
                                  << QList<bool>{false} << QString();
        QTest::newRow("osc hyperlink stripped")
            << (esc("]8;;https://x.org") + QChar(0x07) + QStringLiteral("link") + esc("]8;;") +
                esc("\\") + QStringLiteral("\n"))
            << QStringList{QStringLiteral("link")} << QList<bool>{false} << QString();
        QTest::newRow("private mode stripped")
            << (esc("[?25lhidden cursor") + esc("[?25h\n"))
            << QStringList{QStringLiteral("hidden cursor")} << QList<bool>{false} << QString();
        QTest::newRow("charset designation stripped")
            << (esc("(Bplain") + esc("=\n")) << QStringList{QStringLiteral("plain")}
            << QList<bool>{false} << QString();
        QTest::newRow("unterminated osc ends at newline")
            << (esc("]0;title never ends\nnext\n"))
            << QStringList{QString(), QStringLiteral("next")} << QList<bool>{false, false}
            << QString();
        QTest::newRow("broken csi")
            << (esc("[12\nok\n")) << QStringList{QString(), QStringLiteral("ok")}
            << QList<bool>{false, false} << QString();
        QTest::newRow("cursor up at a single bar rewrites nothing above")
            << (QStringLiteral("\rbar 1") + esc("[A") + QStringLiteral("\n\rbar 2\n"))
            << QStringList{QStringLiteral("bar 2")} << QList<bool>{true} << QString();
    }

    void lines()
    {
        QFETCH(QString, input);
        QFETCH(QStringList, expected);
        QFETCH(QList<bool>, progress);
        QFETCH(QString, partial);

        const Fold f = foldChunks({input});
        QCOMPARE(texts(f.lines), expected);
        QList<bool> flags;
        for (const LogLine &l : f.lines)
            flags << l.progress;
        QCOMPARE(flags, progress);
        QCOMPARE(f.out.text, partial);
        QVERIFY(f.err.text.isEmpty());
    }

    void ansi_data()
    {
        QTest::addColumn<QString>("input");
        QTest::addColumn<QString>("text");
        QTest::addColumn<QList<StyleSpan>>("spans");

        using C = StyleSpan::Color;
        QTest::newRow("red then reset")
            << (esc("[31merror") + esc("[0m ok\n")) << QStringLiteral("error ok")
            << QList<StyleSpan>{{0, 5, C::Red, false}};
        QTest::newRow("bold bright green")
            << (esc("[1;92mPASS") + esc("[0m\n")) << QStringLiteral("PASS")
            << QList<StyleSpan>{{0, 4, C::BrightGreen, true}};
        QTest::newRow("39 keeps bold, 22 ends it")
            << (esc("[1m") + esc("[31mA") + esc("[39mB") + esc("[22mC\n")) << QStringLiteral("ABC")
            << QList<StyleSpan>{{0, 1, C::Red, true}, {1, 1, C::Default, true}};
        QTest::newRow("256-colour red") << (esc("[38;5;196mX") + esc("[m\n")) << QStringLiteral("X")
                                        << QList<StyleSpan>{{0, 1, C::BrightRed, false}};
        QTest::newRow("256-colour basic index")
            << (esc("[38;5;4mX") + esc("[m\n")) << QStringLiteral("X")
            << QList<StyleSpan>{{0, 1, C::Blue, false}};
        QTest::newRow("256-colour grey")
            << (esc("[38;5;244mX") + esc("[m\n")) << QStringLiteral("X")
            << QList<StyleSpan>{{0, 1, C::BrightBlack, false}};
        QTest::newRow("true colour")
            << (esc("[38;2;0;200;0mG") + esc("[0m\n")) << QStringLiteral("G")
            << QList<StyleSpan>{{0, 1, C::Green, false}};
        QTest::newRow("true colour, colon form with colour space")
            << (esc("[38:2::0:0:238mB") + esc("[0m\n")) << QStringLiteral("B")
            << QList<StyleSpan>{{0, 1, C::Blue, false}};
        QTest::newRow("backgrounds ignored, then red")
            << (esc("[48;5;21;31mR") + esc("[41mS") + esc("[0m\n")) << QStringLiteral("RS")
            << QList<StyleSpan>{{0, 2, C::Red, false}};
        QTest::newRow("same style twice is one span")
            << (esc("[31ma") + esc("[31mb") + esc("[0mc\n")) << QStringLiteral("abc")
            << QList<StyleSpan>{{0, 2, C::Red, false}};
        QTest::newRow("empty SGR resets") << (esc("[31ma") + esc("[mb\n")) << QStringLiteral("ab")
                                          << QList<StyleSpan>{{0, 1, C::Red, false}};
        QTest::newRow("style in the middle")
            << (QStringLiteral("x ") + esc("[33mwarn") + esc("[0m y\n"))
            << QStringLiteral("x warn y") << QList<StyleSpan>{{2, 4, C::Yellow, false}};
        QTest::newRow("colour of a rewritten line starts over")
            << (esc("[32mold\r") + esc("[34mnew") + esc("[0m\n")) << QStringLiteral("new")
            << QList<StyleSpan>{{0, 3, C::Blue, false}};
    }

    void ansi()
    {
        QFETCH(QString, input);
        QFETCH(QString, text);
        QFETCH(QList<StyleSpan>, spans);

        const Fold f = foldChunks({input});
        QCOMPARE(f.lines.size(), 1);
        QCOMPARE(f.lines.first().text, text);
        QCOMPARE(f.lines.first().spans, spans);
    }

    void styleCarriesAcrossLines()
    {
        const Fold f = foldChunks({esc("[33mone\ntwo") + esc("[0m three\n")});
        QCOMPARE(texts(f.lines), (QStringList{QStringLiteral("one"), QStringLiteral("two three")}));
        QCOMPARE(f.lines.at(0).spans, (QList<StyleSpan>{{0, 3, StyleSpan::Yellow, false}}));
        QCOMPARE(f.lines.at(1).spans, (QList<StyleSpan>{{0, 3, StyleSpan::Yellow, false}}));
    }

    void chunkSplitsGiveIdenticalOutput_data()
    {
        QTest::addColumn<QString>("input");
        QTest::addColumn<bool>("superseded");
        const QStringList inputs = trickyInputs();
        for (qsizetype i = 0; i < inputs.size(); ++i) {
            QTest::addRow("input %d", int(i)) << inputs.at(i) << false;
            QTest::addRow("input %d, superseded states", int(i)) << inputs.at(i) << true;
        }
        QTest::newRow("nested tqdm fixture") << readFixture("terminal_tqdm_nested.stderr") << true;
    }

    void chunkSplitsGiveIdenticalOutput()
    {
        QFETCH(QString, input);
        QFETCH(bool, superseded);

        const Fold whole = foldChunks({input}, superseded);
        QVERIFY(!whole.lines.isEmpty() || !whole.out.text.isEmpty());
        for (qsizetype at = 0; at <= input.size(); ++at) {
            const Fold split = foldChunks({input.first(at), input.sliced(at)}, superseded);
            if (!(split == whole)) {
                QCOMPARE(texts(split.lines), texts(whole.lines));
                QCOMPARE(split.out.text, whole.out.text);
                QFAIL(qPrintable(QStringLiteral("split at %1 differs in spans or flags").arg(at)));
            }
        }
        QStringList single;
        for (const QChar c : input)
            single << QString(c);
        const Fold chars = foldChunks(single, superseded);
        QCOMPARE(texts(chars.lines), texts(whole.lines));
        QVERIFY(chars == whole);
    }

    void ansiNeverLeaks_data()
    {
        QTest::addColumn<QString>("input");
        const QStringList inputs = trickyInputs();
        for (qsizetype i = 0; i < inputs.size(); ++i)
            QTest::addRow("tricky %d", int(i)) << inputs.at(i);
        QTest::newRow("escape at the very end") << (QStringLiteral("text") + QChar(0x1b));
        QTest::newRow("csi at the very end") << (QStringLiteral("text") + esc("[31"));
        QTest::newRow("huge parameter") << (esc("[999999999999999999999m") + QStringLiteral("x\n"));
        QTest::newRow("overlong parameters")
            << (esc("[") + QString(200, QChar(u'1')) + QStringLiteral("mvisible\n"));
        QTest::newRow("escape escape") << (esc("") + esc("[31mred\n"));
        QTest::newRow("escape then newline") << (esc("\nafter\n"));
        QTest::newRow("osc longer than the limit")
            << (esc("]0;") + QString(5000, QChar(u'x')) + QStringLiteral("\nok\n"));
        QTest::newRow("every C0 control") << []() -> QString {
            QString s;
            for (char16_t c = 0; c < 0x20; ++c)
                s += QChar(c) + QStringLiteral("x");
            return s + QStringLiteral("\n");
        }();
        QTest::newRow("cursor movement soup")
            << (esc("[2J") + esc("[H") + esc("[5C") + esc("[3D") + esc("[s") + esc("[u") +
                esc("7") + esc("8") + esc("M") + esc("[3A") + QStringLiteral("a\n") + esc("[2B") +
                QStringLiteral("b\n") + esc("[2F") + QStringLiteral("c") + esc("[E") +
                QStringLiteral("d\n"));
    }

    void ansiNeverLeaks()
    {
        QFETCH(QString, input);
        for (qsizetype at = 0; at <= input.size(); ++at) {
            TerminalLog log;
            log.setReportSuperseded(true);
            QList<LogLine> lines;
            log.feed(chunk(input.first(at)), lines);
            log.feed(chunk(input.sliced(at)), lines);
            const LogLine partial = log.partial(Stream::Stdout);
            log.flush(lines);
            for (const LogLine &l : lines)
                QVERIFY2(!hasControl(l.text), qPrintable(l.text.toHtmlEscaped()));
            QVERIFY(!hasControl(partial.text));
        }
    }

    void nestedTqdmFixture()
    {
        // Real tqdm 4.64 output (nested bars, leave=False inner bar, tqdm.write on stdout)
        // captured through a pipe as on Kaggle. A terminal ends with the outer bar at 100%
        // and "done"; the log keeps each state the outer bar had when the inner bar moved on.
        const QString input = readFixture("terminal_tqdm_nested.stderr");
        const Fold f = foldChunks({input}, false, Stream::Stderr);
        const QStringList lines = texts(f.lines);
        QCOMPARE(lines.size(), 4);
        QVERIFY2(lines.at(0).startsWith(u"Epoch:   0%|"), qPrintable(lines.at(0)));
        QVERIFY2(lines.at(1).startsWith(u"Epoch:  50%|"), qPrintable(lines.at(1)));
        QVERIFY2(lines.at(2).startsWith(u"Epoch: 100%|"), qPrintable(lines.at(2)));
        QCOMPARE(lines.at(3), QStringLiteral("done"));
        for (const LogLine &l : f.lines)
            QCOMPARE(l.stream, Stream::Stderr);
        QVERIFY(f.err.text.isEmpty());
        QVERIFY(f.out.text.isEmpty());

        // With superseded states, every inner-bar update is there for the metrics parser.
        const Fold all = foldChunks({input}, true, Stream::Stderr);
        int inner = 0;
        for (const LogLine &l : all.lines) {
            if (l.superseded && l.text.startsWith(u"train:"))
                ++inner;
        }
        QCOMPARE(inner, 8); // 0%, 33%, 67%, 100% of both epochs
    }

    void superseded_data()
    {
        QTest::addColumn<bool>("report");
        QTest::addColumn<QStringList>("expected");
        QTest::addColumn<QList<bool>>("superseded");
        QTest::newRow("off") << false << QStringList{QStringLiteral("3")} << QList<bool>{false};
        QTest::newRow("on") << true
                            << QStringList{QStringLiteral("1"), QStringLiteral("2"),
                                           QStringLiteral("3")}
                            << QList<bool>{true, true, false};
    }

    void superseded()
    {
        QFETCH(bool, report);
        QFETCH(QStringList, expected);
        QFETCH(QList<bool>, superseded);
        // Blank states (tqdm clearing its bar) are not worth a metrics pass.
        const Fold f = foldChunks({QStringLiteral("\r1\r2\r   \r3\n")}, report);
        QCOMPARE(texts(f.lines), expected);
        QList<bool> flags;
        for (const LogLine &l : f.lines)
            flags << l.superseded;
        QCOMPARE(flags, superseded);
    }

    void partialLine()
    {
        TerminalLog log;
        QList<LogLine> lines;
        const quint64 r0 = log.partialRevision(Stream::Stdout);
        QVERIFY(!log.hasPartial(Stream::Stdout));

        log.feed(chunk(QStringLiteral("\r 10%|█")), lines);
        QVERIFY(lines.isEmpty());
        QVERIFY(log.hasPartial(Stream::Stdout));
        QCOMPARE(log.partial(Stream::Stdout).text, QStringLiteral(" 10%|█"));
        QVERIFY(log.partial(Stream::Stdout).progress);
        const quint64 r1 = log.partialRevision(Stream::Stdout);
        QVERIFY(r1 != r0);
        QCOMPARE(log.partialRevision(Stream::Stderr), quint64(0));

        log.feed(chunk(QStringLiteral("\r 20%|██")), lines);
        QVERIFY(lines.isEmpty());
        QCOMPARE(log.partial(Stream::Stdout).text, QStringLiteral(" 20%|██"));
        QVERIFY(log.partialRevision(Stream::Stdout) != r1);

        log.feed(chunk(QStringLiteral("\n")), lines);
        QCOMPARE(texts(lines), QStringList{QStringLiteral(" 20%|██")});
        QVERIFY(!log.hasPartial(Stream::Stdout));
        QVERIFY(log.partial(Stream::Stdout).text.isEmpty());

        // A bar cleared with blanks (leave=False) is no live line.
        log.feed(chunk(QStringLiteral("\r50%\r      \r")), lines);
        QVERIFY(!log.hasPartial(Stream::Stdout));
    }

    void partialSpansAreClosed()
    {
        TerminalLog log;
        QList<LogLine> lines;
        log.feed(chunk(esc("[31mred so far")), lines);
        QCOMPARE(log.partial(Stream::Stdout).spans,
                 (QList<StyleSpan>{{0, 10, StyleSpan::Red, false}}));
        log.feed(chunk(QStringLiteral(" and more\n")), lines);
        QCOMPARE(lines.first().spans, (QList<StyleSpan>{{0, 19, StyleSpan::Red, false}}));
    }

    void streamsKeptApart()
    {
        TerminalLog log;
        QList<LogLine> lines;
        log.feed(chunk(QStringLiteral("out-a "), Stream::Stdout), lines);
        log.feed(chunk(QStringLiteral("\r 10%"), Stream::Stderr), lines);
        log.feed(chunk(QStringLiteral("out-b\n"), Stream::Stdout), lines);
        log.feed(chunk(esc("[31m"), Stream::Stderr), lines);
        log.feed(chunk(QStringLiteral("plain\n"), Stream::Stdout), lines);
        log.feed(chunk(QStringLiteral("\r 20%"), Stream::Stderr), lines);

        QCOMPARE(texts(lines),
                 (QStringList{QStringLiteral("out-a out-b"), QStringLiteral("plain")}));
        QVERIFY(lines.at(1).spans.isEmpty()); // stderr's colour is stderr's
        QCOMPARE(lines.at(0).stream, Stream::Stdout);
        QCOMPARE(log.partial(Stream::Stderr).text, QStringLiteral(" 20%"));
        QCOMPARE(log.partial(Stream::Stderr).stream, Stream::Stderr);
        QCOMPARE(log.partial(Stream::Stderr).spans,
                 (QList<StyleSpan>{{0, 4, StyleSpan::Red, false}}));
        QVERIFY(!log.hasPartial(Stream::Stdout));
    }

    void lineTime()
    {
        TerminalLog log;
        QList<LogLine> lines;
        log.feed(chunk(QStringLiteral("abc"), Stream::Stdout, 1), lines);
        log.feed(chunk(QStringLiteral("def\n"), Stream::Stdout, 2), lines);
        log.feed(chunk(QStringLiteral("\r10%"), Stream::Stdout, 3), lines);
        log.feed(chunk(QStringLiteral("\r20%"), Stream::Stdout, 4), lines);
        log.feed(chunk(QStringLiteral("\n"), Stream::Stdout, 5), lines);
        log.feed(chunk(QStringLiteral("\n"), Stream::Stdout, 6), lines);
        QCOMPARE(lines.size(), 3);
        QCOMPARE(lines.at(0).time, 1.0); // when the line began
        QCOMPARE(lines.at(1).time, 4.0); // when the bar reached its last state
        QCOMPARE(lines.at(2).time, 6.0); // an empty line: when it ended
    }

    void longLinesWrap()
    {
        TerminalLog log;
        QList<LogLine> lines;
        const qsizetype n = TerminalLog::kMaxLineLength * 2 + 10;
        log.feed(chunk(QString(n, QChar(u'x'))), lines);
        QCOMPARE(lines.size(), 2);
        QCOMPARE(lines.at(0).text.size(), TerminalLog::kMaxLineLength);
        QCOMPARE(log.partial(Stream::Stdout).text.size(), qsizetype(10));
    }

    void flushEndsPartialLines()
    {
        TerminalLog log;
        QList<LogLine> lines;
        log.feed(chunk(QStringLiteral("no newline at the end"), Stream::Stdout), lines);
        log.feed(chunk(QStringLiteral("\r   "), Stream::Stderr), lines);
        log.flush(lines);
        QCOMPARE(texts(lines), QStringList{QStringLiteral("no newline at the end")});
        QVERIFY(!log.hasPartial(Stream::Stdout));
        lines.clear();
        log.flush(lines);
        QVERIFY(lines.isEmpty());
    }

    void resetForgetsState()
    {
        TerminalLog log;
        QList<LogLine> lines;
        log.feed(chunk(esc("[31mpartial") + esc("[")), lines);
        const quint64 before = log.partialRevision(Stream::Stdout);
        log.reset();
        QVERIFY(log.partialRevision(Stream::Stdout) != before);
        QVERIFY(!log.hasPartial(Stream::Stdout));
        log.feed(chunk(QStringLiteral("mplain\n")), lines);
        QCOMPARE(texts(lines), QStringList{QStringLiteral("mplain")});
        QVERIFY(lines.first().spans.isEmpty());
    }
};

QTEST_APPLESS_MAIN(TstTerminalLog)
#include "tst_terminallog.moc"
