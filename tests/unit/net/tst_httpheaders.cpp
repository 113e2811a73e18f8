#include "httpclient.h"

#include <QTest>

using namespace kd::net;

class TestHttpHeaders : public QObject
{
    Q_OBJECT

private slots:
    void headerValue_data();
    void headerValue();
    void responseHeader();
};

void TestHttpHeaders::headerValue_data()
{
    QTest::addColumn<QByteArray>("name");
    QTest::addColumn<QByteArray>("expected");
    QTest::newRow("exact") << QByteArrayLiteral("Content-Type")
                           << QByteArrayLiteral("application/json");
    QTest::newRow("lower") << QByteArrayLiteral("content-type")
                           << QByteArrayLiteral("application/json");
    QTest::newRow("upper") << QByteArrayLiteral("ETAG") << QByteArrayLiteral("\"abc\"");
    QTest::newRow("first of repeated")
        << QByteArrayLiteral("set-cookie") << QByteArrayLiteral("a=1");
    QTest::newRow("missing") << QByteArrayLiteral("Location") << QByteArray();
    QTest::newRow("prefix is not a match") << QByteArrayLiteral("Content") << QByteArray();
    QTest::newRow("empty name") << QByteArray() << QByteArray();
}

void TestHttpHeaders::headerValue()
{
    QFETCH(QByteArray, name);
    QFETCH(QByteArray, expected);
    const HttpHeaders headers = {{"Content-Type", "application/json"},
                                 {"etag", "\"abc\""},
                                 {"Set-Cookie", "a=1"},
                                 {"Set-Cookie", "b=2"}};
    QCOMPARE(kd::net::headerValue(headers, name), expected);
}

void TestHttpHeaders::responseHeader()
{
    HttpResponse response;
    response.headers = {{"x-goog-upload-status", "active"}};
    QCOMPARE(response.header("X-Goog-Upload-Status"), QByteArrayLiteral("active"));
    QVERIFY(response.header("Range").isEmpty());
}

QTEST_APPLESS_MAIN(TestHttpHeaders)
#include "tst_httpheaders.moc"
