// The persisted log array and the SSE log stream (kaggle-api.md 3.5, 3.6).

#include "logformat.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <cstring>

using namespace kd;

namespace {

QByteArray readData(const char *name)
{
    QFile f(QStringLiteral(KD_TEST_DATA_DIR "/logs/") + QLatin1StringView(name));
    if (!f.open(QIODevice::ReadOnly))
        qFatal("missing fixture %s", name);
    return f.readAll();
}

LogEvent event(LogEvent::Stream stream, double time, const QString &data)
{
    LogEvent e;
    e.stream = stream;
    e.time = time;
    e.data = data;
    return e;
}

LogEvent out(double time, const QString &data)
{
    return event(LogEvent::Stream::Stdout, time, data);
}

LogEvent err(double time, const QString &data)
{
    return event(LogEvent::Stream::Stderr, time, data);
}

/// The events of tests/data/logs/kaggle_layout.expected.json (written by Python's json).
QList<LogEvent> expectedLayoutEvents()
{
    const QJsonArray a = QJsonDocument::fromJson(readData("kaggle_layout.expected.json")).array();
    QList<LogEvent> events;
    for (const QJsonValue &v : a) {
        const QJsonObject o = v.toObject();
        events << event(o.value(QStringLiteral("stream_name")).toString() == u"stderr"
                            ? LogEvent::Stream::Stderr
                            : LogEvent::Stream::Stdout,
                        o.value(QStringLiteral("time")).toDouble(),
                        o.value(QStringLiteral("data")).toString());
    }
    return events;
}

QList<LogEvent> feedAll(SseLogParser &parser, const QList<QByteArray> &chunks)
{
    QList<LogEvent> events;
    for (const QByteArray &c : chunks)
        events += parser.feed(c);
    return events;
}

/// The events the SSE fixture (tests/data/logs/sse_stream.txt) must produce.
QList<LogEvent> expectedSseEvents()
{
    const QList<LogEvent> layout = expectedLayoutEvents();
    return {
        layout.at(0),
        layout.at(1),
        layout.at(2),
        out(0, QStringLiteral("plain text line, not JSON")),
        out(0,
            QStringLiteral(R"({"stream_name": "stderr", "time": 14.0, "data": "half"} trailing)")),
        layout.at(4),
    };
}

} // namespace

Q_DECLARE_METATYPE(LogEvent)

class TestLogFormat : public QObject
{
    Q_OBJECT

private slots:
    void kaggleLayoutFixture();
    void parse_data();
    void parse();
    void notALogArray_data();
    void notALogArray();
    void everyTruncationKeepsCompleteEvents();
    void deepUnknownValuesAreSkipped();
    void writeLogArrayLayout();
    void roundTrip();
    void sseFixture();
    void sseSplitAtEveryByte();
    void sseByteByByte();
    void sseEndOfLogStopsTheStream();
    void sseOverlongLineIsDropped();
};

void TestLogFormat::kaggleLayoutFixture()
{
    const auto r = parseLogArray(readData("kaggle_layout.log"));
    QVERIFY(r.ok());
    QVERIFY(r->complete);
    QCOMPARE(r->skipped, 0);
    QCOMPARE(r->events, expectedLayoutEvents());
    QCOMPARE(r->events.at(1).data, QStringLiteral("Caf\u00e9 \u2615 na\u00efve \U0001F600 "
                                                  "\u65e5\u672c\u8a9e\n"));
    QVERIFY(r->events.at(0).data.endsWith(QStringLiteral("\r\n")));
}

void TestLogFormat::parse_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QList<LogEvent>>("events");
    QTest::addColumn<bool>("complete");
    QTest::addColumn<int>("skipped");

    const QByteArray a = R"({"stream_name":"stdout","time":1.5,"data":"a\n"})";
    const QByteArray b = R"({"stream_name":"stderr","time":2,"data":"b\r\n"})";
    const LogEvent ea = out(1.5, QStringLiteral("a\n"));
    const LogEvent eb = err(2, QStringLiteral("b\r\n"));

    QTest::newRow("empty text") << QByteArray() << QList<LogEvent>{} << true << 0;
    QTest::newRow("whitespace") << QByteArray(" \r\n\t") << QList<LogEvent>{} << true << 0;
    QTest::newRow("empty array") << QByteArray("[]") << QList<LogEvent>{} << true << 0;
    QTest::newRow("empty array lines") << QByteArray("[\n]\n") << QList<LogEvent>{} << true << 0;
    QTest::newRow("kaggle layout")
        << QByteArray("[" + a + "\n," + b + "\n]") << QList<LogEvent>{ea, eb} << true << 0;
    QTest::newRow("crlf layout") << QByteArray("[" + a + "\r\n," + b + "\r\n]\r\n")
                                 << QList<LogEvent>{ea, eb} << true << 0;
    QTest::newRow("compact") << QByteArray("[" + a + "," + b + "]") << QList<LogEvent>{ea, eb}
                             << true << 0;
    QTest::newRow("pretty") << QByteArray("[\n  " + a + ",\n  " + b + "\n]")
                            << QList<LogEvent>{ea, eb} << true << 0;
    QTest::newRow("bom") << QByteArray("\xEF\xBB\xBF[" + a + "]") << QList<LogEvent>{ea} << true
                         << 0;
    QTest::newRow("truncated mid object")
        << QByteArray("[" + a + "\n," + b.left(20)) << QList<LogEvent>{ea} << false << 0;
    QTest::newRow("truncated after comma")
        << QByteArray("[" + a + "\n,") << QList<LogEvent>{ea} << false << 0;
    QTest::newRow("unterminated array")
        << QByteArray("[" + a + "\n," + b + "\n") << QList<LogEvent>{ea, eb} << false << 0;
    QTest::newRow("truncated in escape")
        << QByteArray("[" + a + "\n,{\"data\":\"x\\u00") << QList<LogEvent>{ea} << false << 0;
    QTest::newRow("truncated in surrogate pair")
        << QByteArray("[" + a + "\n,{\"data\":\"\\ud83d\\ude") << QList<LogEvent>{ea} << false << 0;
    QTest::newRow("truncated in number")
        << QByteArray("[" + a + "\n,{\"time\":12") << QList<LogEvent>{ea} << false << 0;
    QTest::newRow("only bracket") << QByteArray("[") << QList<LogEvent>{} << false << 0;
    QTest::newRow("escapes") << QByteArray(R"([{"data":"q\"uote\\back\/slash\t\b\f"}])")
                             << QList<LogEvent>{out(0, QStringLiteral("q\"uote\\back/slash\t\b\f"))}
                             << true << 0;
    QTest::newRow("unicode escapes")
        << QByteArray(R"([{"data":"\u00e9\u00E9 \ud83d\ude00 \u65e5"}])")
        << QList<LogEvent>{out(0, QStringLiteral("\u00e9\u00e9 \U0001F600 \u65e5"))} << true << 0;
    QTest::newRow("lone surrogates")
        << QByteArray(R"([{"data":"a\ud83db"},{"data":"\ude00"},{"data":"\ud83d"}])")
        << QList<LogEvent>{out(0, QStringLiteral("a\uFFFDb")), out(0, QStringLiteral("\uFFFD")),
                           out(0, QStringLiteral("\uFFFD"))}
        << true << 0;
    QTest::newRow("raw utf8") << QByteArray("[{\"data\":\"caf\xc3\xa9 \xf0\x9f\x9a\x80\"}]")
                              << QList<LogEvent>{out(0, QStringLiteral("caf\u00e9 \U0001F680"))}
                              << true << 0;
    QTest::newRow("other stream is stdout")
        << QByteArray(R"([{"stream_name":"stdlog","data":"x"},{"stream_name":5,"data":"y"}])")
        << QList<LogEvent>{out(0, QStringLiteral("x")), out(0, QStringLiteral("y"))} << true << 0;
    QTest::newRow("missing or odd time")
        << QByteArray(
               R"([{"data":"x"},{"time":null,"data":"y"},{"time":"2.5","data":"z"},{"time":1e999,"data":"w"},{"time":-1,"data":"v"}])")
        << QList<LogEvent>{out(0, QStringLiteral("x")), out(0, QStringLiteral("y")),
                           out(2.5, QStringLiteral("z")), out(0, QStringLiteral("w")),
                           out(-1, QStringLiteral("v"))}
        << true << 0;
    QTest::newRow("key order and unknown keys")
        << QByteArray(
               R"([{"data":"x","extra":{"a":[1,{"b":"]}"}]},"time":3,"stream_name":"stderr","n":null,"t":true}])")
        << QList<LogEvent>{err(3, QStringLiteral("x"))} << true << 0;
    QTest::newRow("missing data is an empty event")
        << QByteArray(R"([{"stream_name":"stdout","time":1},{}])")
        << QList<LogEvent>{out(1, {}), out(0, {})} << true << 0;
    QTest::newRow("data of the wrong type is skipped")
        << QByteArray("[" + a + R"(,{"data":5},{"data":["x"]},)" + b + "]")
        << QList<LogEvent>{ea, eb} << true << 2;
    QTest::newRow("malformed element is skipped")
        << QByteArray("[" + a + "\n,{\"data\":\"x\" \"time\":1}\n," + b + "\n]")
        << QList<LogEvent>{ea, eb} << true << 1;
    QTest::newRow("bad escape is skipped")
        << QByteArray("[" + a + "\n,{\"data\":\"\\x41\"}\n," + b + "\n]") << QList<LogEvent>{ea, eb}
        << true << 1;
    QTest::newRow("non-object elements are skipped")
        << QByteArray("[1, \"text\", null, [" + a + "], " + a + "]") << QList<LogEvent>{ea} << true
        << 4;
    QTest::newRow("garbage between elements")
        << QByteArray("[" + a + " }}} " + b + "]") << QList<LogEvent>{ea, eb} << true << 1;
    QTest::newRow("double commas")
        << QByteArray("[," + a + ",,," + b + ",]") << QList<LogEvent>{ea, eb} << true << 0;
    QTest::newRow("trailing text after array")
        << QByteArray("[" + a + "]\ntrailing") << QList<LogEvent>{ea} << true << 0;
    QTest::newRow("nul byte in data")
        << QByteArray("[{\"data\":\"a\\u0000b\"}]")
        << QList<LogEvent>{out(0, QString(QStringLiteral("a")) + QChar(0) + u'b')} << true << 0;
}

void TestLogFormat::parse()
{
    QFETCH(QByteArray, text);
    QFETCH(QList<LogEvent>, events);
    QFETCH(bool, complete);
    QFETCH(int, skipped);
    const auto r = parseLogArray(text);
    QVERIFY(r.ok());
    QCOMPARE(r->events.size(), events.size());
    for (qsizetype i = 0; i < events.size(); ++i) {
        QCOMPARE(r->events.at(i).data, events.at(i).data);
        QCOMPARE(r->events.at(i).time, events.at(i).time);
        QCOMPARE(int(r->events.at(i).stream), int(events.at(i).stream));
    }
    QCOMPARE(r->complete, complete);
    QCOMPARE(r->skipped, skipped);
}

void TestLogFormat::notALogArray_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::newRow("plain text") << QByteArray("hello world");
    QTest::newRow("object") << QByteArray(R"({"stream_name":"stdout","data":"x"})");
    QTest::newRow("html") << QByteArray("<html><body>404</body></html>");
    QTest::newRow("number") << QByteArray("42");
}

void TestLogFormat::notALogArray()
{
    QFETCH(QByteArray, text);
    const auto r = parseLogArray(text);
    QVERIFY(!r.ok());
    QCOMPARE(r.error().kind, ApiError::Kind::Protocol);
}

void TestLogFormat::everyTruncationKeepsCompleteEvents()
{
    // A log fetched while the run writes it can end anywhere: every prefix must give the
    // events that are complete in it, in order, and complete=false.
    const QByteArray full = readData("kaggle_layout.log");
    const QList<LogEvent> all = expectedLayoutEvents();
    qsizetype lastCount = 0;
    for (qsizetype n = 0; n < full.size(); ++n) {
        const auto r = parseLogArray(full.left(n));
        QVERIFY(r.ok());
        QCOMPARE(r->skipped, 0);
        QVERIFY2(n == 0 || !r->complete, qPrintable(QString::number(n)));
        QVERIFY(r->events.size() >= lastCount);
        QVERIFY(r->events.size() <= all.size());
        for (qsizetype i = 0; i < r->events.size(); ++i)
            QCOMPARE(r->events.at(i), all.at(i));
        lastCount = r->events.size();
    }
    QCOMPARE(lastCount, all.size()); // only the closing bracket was missing
    QVERIFY(parseLogArray(full)->complete);
}

void TestLogFormat::deepUnknownValuesAreSkipped()
{
    const QByteArray deep =
        "[{\"x\":" + QByteArray(100000, '[') + QByteArray(100000, ']') + ",\"data\":\"after\"}]";
    const auto r = parseLogArray(deep);
    QVERIFY(r.ok());
    QCOMPARE(r->events.size(), 1);
    QCOMPARE(r->events.at(0).data, QStringLiteral("after"));
    const auto open = parseLogArray(QByteArray("[{\"x\":" + QByteArray(100000, '{')));
    QVERIFY(open.ok());
    QVERIFY(!open->complete);
}

void TestLogFormat::writeLogArrayLayout()
{
    const QList<LogEvent> events = {out(1.5, QStringLiteral("hi\n")),
                                    err(6.409935486, QStringLiteral("a\"b\\c\r\n\u00e9\u0001"))};
    QCOMPARE(writeLogArray(events),
             QByteArray("[{\"stream_name\":\"stdout\",\"time\":1.5,\"data\":\"hi\\n\"}\n"
                        ",{\"stream_name\":\"stderr\",\"time\":6.409935486,"
                        "\"data\":\"a\\\"b\\\\c\\r\\n\xc3\xa9\\u0001\"}\n]"));
    QCOMPARE(writeLogArray({}), QByteArray("[]"));
    QCOMPARE(writeLogEventJson(out(2, QStringLiteral("x"))),
             QByteArray(R"({"stream_name":"stdout","time":2,"data":"x"})"));
    // Python's json reads it back the same way: valid JSON.
    QJsonParseError e;
    const QJsonDocument d = QJsonDocument::fromJson(writeLogArray(events), &e);
    QCOMPARE(e.error, QJsonParseError::NoError);
    QCOMPARE(d.array().at(1).toObject().value(QStringLiteral("data")).toString(),
             events.at(1).data);
}

void TestLogFormat::roundTrip()
{
    QList<LogEvent> events = expectedLayoutEvents();
    events << out(0, {}) << err(1e-9, QStringLiteral("\u007f\u2028\u2029 \t"))
           << out(123456.789, QString(QChar(0)) + QStringLiteral("nul"))
           << out(7, QString(10000, u'x') + QStringLiteral("\U0001F600"));
    const QByteArray text = writeLogArray(events);
    const auto r = parseLogArray(text);
    QVERIFY(r.ok());
    QVERIFY(r->complete);
    QCOMPARE(r->skipped, 0);
    QCOMPARE(r->events, events);
    // The SSE form of the same events.
    SseLogParser sse;
    QByteArray stream;
    for (const LogEvent &e : std::as_const(events))
        stream += "data: " + writeLogEventJson(e) + "\n\n";
    QCOMPARE(sse.feed(stream), events);
}

void TestLogFormat::sseFixture()
{
    SseLogParser parser;
    const QList<LogEvent> events = parser.feed(readData("sse_stream.txt"));
    QCOMPARE(events, expectedSseEvents());
    QVERIFY(parser.ended());
    QCOMPARE(parser.bufferedBytes(), 0);
}

void TestLogFormat::sseSplitAtEveryByte()
{
    const QByteArray stream = readData("sse_stream.txt");
    const QList<LogEvent> expected = expectedSseEvents();
    for (qsizetype cut = 0; cut <= stream.size(); ++cut) {
        SseLogParser parser;
        const QList<LogEvent> events = feedAll(parser, {stream.left(cut), stream.mid(cut)});
        QVERIFY2(events == expected, qPrintable(QStringLiteral("split at %1").arg(cut)));
        QVERIFY(parser.ended());
    }
}

void TestLogFormat::sseByteByByte()
{
    const QByteArray stream = readData("sse_stream.txt");
    SseLogParser parser;
    QList<LogEvent> events;
    qsizetype sentinelAt = stream.indexOf("END_OF_LOG") + qsizetype(strlen("END_OF_LOG"));
    for (qsizetype i = 0; i < stream.size(); ++i) {
        events += parser.feed(stream.mid(i, 1));
        // The sentinel takes effect at the end of its line, not before.
        if (i < sentinelAt)
            QVERIFY(!parser.ended());
    }
    QCOMPARE(events, expectedSseEvents());
    QVERIFY(parser.ended());
}

void TestLogFormat::sseEndOfLogStopsTheStream()
{
    SseLogParser parser;
    QCOMPARE(parser.feed("data: {\"data\":\"a\"}\r\ndata:END_OF_LOG\r\n").size(), 1);
    QVERIFY(parser.ended());
    QVERIFY(parser.feed("data: {\"data\":\"late\"}\n").isEmpty());
    QCOMPARE(parser.bufferedBytes(), 0);

    // A line that is not complete yet produces nothing until its newline arrives.
    SseLogParser partial;
    QVERIFY(partial.feed("data: {\"data\":\"x\"}").isEmpty());
    QVERIFY(partial.bufferedBytes() > 0);
    QCOMPARE(partial.feed("\n"), QList<LogEvent>{out(0, QStringLiteral("x"))});
    QVERIFY(!partial.ended());
    // "data" without a colon is not a data line; blank payloads are text events.
    QVERIFY(partial.feed("data\nevent: data: x\n").isEmpty());
    QCOMPARE(partial.feed("data:\n"), QList<LogEvent>{out(0, {})});
}

void TestLogFormat::sseOverlongLineIsDropped()
{
    SseLogParser parser;
    const QByteArray chunk(1024 * 1024, 'x');
    parser.feed("data: ");
    for (int i = 0; i < 20; ++i) {
        QVERIFY(parser.feed(chunk).isEmpty());
        QVERIFY(parser.bufferedBytes() <= 16 * 1024 * 1024);
    }
    QCOMPARE(parser.droppedLines(), 1);
    QCOMPARE(parser.bufferedBytes(), 0);
    // The rest of the long line is discarded; the next line parses normally.
    const QList<LogEvent> events = parser.feed("xxx\ndata: {\"data\":\"next\"}\n");
    QCOMPARE(events, QList<LogEvent>{out(0, QStringLiteral("next"))});
    QCOMPARE(parser.droppedLines(), 1);
}

QTEST_APPLESS_MAIN(TestLogFormat)
#include "tst_logformat.moc"
