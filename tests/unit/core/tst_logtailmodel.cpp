// The log tail model: batched appends and trims with exact signal counts, the live partial
// rows, roles, find and the first error.

#include "logtailmodel.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

#include <memory>

using namespace kd;

namespace {

using Stream = LogEvent::Stream;

LogLine line(const QString &text, Stream stream = Stream::Stdout, double time = 0)
{
    LogLine l;
    l.stream = stream;
    l.time = time;
    l.text = text;
    return l;
}

QList<LogLine> numbered(int from, int count)
{
    QList<LogLine> lines;
    for (int i = from; i < from + count; ++i)
        lines << line(QStringLiteral("line %1").arg(i), Stream::Stdout, i);
    return lines;
}

LogEvent chunk(const QString &data, Stream stream = Stream::Stdout, double time = 0)
{
    LogEvent e;
    e.stream = stream;
    e.time = time;
    e.data = data;
    return e;
}

/// Spies on every signal that changes rows or data.
struct Spies
{
    explicit Spies(LogTailModel *m)
        : inserted(m, &QAbstractItemModel::rowsInserted),
          removed(m, &QAbstractItemModel::rowsRemoved),
          changed(m, &QAbstractItemModel::dataChanged), reset(m, &QAbstractItemModel::modelReset)
    {}
    void clear()
    {
        inserted.clear();
        removed.clear();
        changed.clear();
        reset.clear();
    }
    QSignalSpy inserted;
    QSignalSpy removed;
    QSignalSpy changed;
    QSignalSpy reset;
};

} // namespace

class TstLogTailModel : public QObject
{
    Q_OBJECT

    std::unique_ptr<LogTailModel> m_model;
    std::unique_ptr<QAbstractItemModelTester> m_tester;

    QString textAt(int row) const { return m_model->index(row).data().toString(); }
    qint64 numberAt(int row) const
    {
        return m_model->index(row).data(LogTailModel::LineNumberRole).toLongLong();
    }

private slots:
    void init()
    {
        m_model = std::make_unique<LogTailModel>();
        m_tester = std::make_unique<QAbstractItemModelTester>(
            m_model.get(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    }

    void cleanup()
    {
        m_tester.reset();
        m_model.reset();
    }

    void defaults()
    {
        QCOMPARE(m_model->maxLines(), 20000);
        QCOMPARE(m_model->rowCount(), 0);
        QCOMPARE(m_model->droppedLineCount(), qint64(0));
        QCOMPARE(m_model->firstErrorRow(), -1);
    }

    void batchIsOneInsert()
    {
        Spies spies(m_model.get());
        m_model->appendLines(numbered(1, 100));
        QCOMPARE(spies.inserted.count(), 1);
        QCOMPARE(spies.inserted.at(0).at(1).toInt(), 0);
        QCOMPARE(spies.inserted.at(0).at(2).toInt(), 99);
        QCOMPARE(spies.removed.count(), 0);
        QCOMPARE(spies.changed.count(), 0);
        QCOMPARE(m_model->rowCount(), 100);
        QCOMPARE(textAt(99), QStringLiteral("line 100"));

        spies.clear();
        m_model->appendLines({});
        QCOMPARE(spies.inserted.count(), 0);
    }

    void capTrimsInOneRemove_data()
    {
        QTest::addColumn<int>("cap");
        QTest::addColumn<int>("existing");
        QTest::addColumn<int>("batch");
        QTest::addColumn<int>("removed");  // rows in the one rowsRemoved, 0 = no signal
        QTest::addColumn<int>("inserted"); // rows in the one rowsInserted
        QTest::addColumn<qint64>("dropped");

        QTest::newRow("fits") << 100 << 50 << 50 << 0 << 50 << qint64(0);
        QTest::newRow("one over") << 100 << 100 << 1 << 1 << 1 << qint64(1);
        QTest::newRow("exceeds") << 100 << 80 << 50 << 30 << 50 << qint64(30);
        QTest::newRow("batch equals cap") << 100 << 60 << 100 << 60 << 100 << qint64(60);
        QTest::newRow("batch larger than cap") << 10 << 5 << 25 << 5 << 10 << qint64(20);
        QTest::newRow("batch larger than an empty cap") << 10 << 0 << 25 << 0 << 10 << qint64(15);
    }

    void capTrimsInOneRemove()
    {
        QFETCH(int, cap);
        QFETCH(int, existing);
        QFETCH(int, batch);
        QFETCH(int, removed);
        QFETCH(int, inserted);
        QFETCH(qint64, dropped);

        m_model->setMaxLines(cap);
        if (existing > 0)
            m_model->appendLines(numbered(1, existing));
        Spies spies(m_model.get());
        m_model->appendLines(numbered(existing + 1, batch));

        QCOMPARE(spies.removed.count(), removed > 0 ? 1 : 0);
        if (removed > 0) {
            QCOMPARE(spies.removed.at(0).at(1).toInt(), 0);
            QCOMPARE(spies.removed.at(0).at(2).toInt(), removed - 1);
        }
        QCOMPARE(spies.inserted.count(), 1);
        const int first = spies.inserted.at(0).at(1).toInt();
        QCOMPARE(spies.inserted.at(0).at(2).toInt() - first + 1, inserted);
        QCOMPARE(m_model->rowCount(), std::min(cap, existing + batch));
        QCOMPARE(m_model->droppedLineCount(), dropped);
        QCOMPARE(m_model->totalLineCount(), qint64(existing + batch));
        // The newest line is always kept, with its absolute number.
        const int last = m_model->rowCount() - 1;
        QCOMPARE(textAt(last), QStringLiteral("line %1").arg(existing + batch));
        QCOMPARE(numberAt(last), qint64(existing + batch));
        QCOMPARE(numberAt(0), dropped + 1);
        QCOMPARE(textAt(0), QStringLiteral("line %1").arg(dropped + 1));
    }

    void setMaxLinesTrimsAtOnce()
    {
        m_model->appendLines(numbered(1, 50));
        Spies spies(m_model.get());
        m_model->setMaxLines(20);
        QCOMPARE(spies.removed.count(), 1);
        QCOMPARE(spies.removed.at(0).at(2).toInt(), 29);
        QCOMPARE(m_model->rowCount(), 20);
        QCOMPARE(m_model->droppedLineCount(), qint64(30));
        QCOMPARE(textAt(0), QStringLiteral("line 31"));
        spies.clear();
        m_model->setMaxLines(100);
        QCOMPARE(spies.removed.count(), 0);
    }

    void partialUpdatedInPlace()
    {
        TerminalLog terminal;
        QList<LogLine> lines;
        m_model->appendLines(numbered(1, 3));
        Spies spies(m_model.get());

        terminal.feed(chunk(QStringLiteral("\r 10%|█"), Stream::Stderr), lines);
        m_model->append(lines, terminal);
        QCOMPARE(spies.inserted.count(), 1); // the live row appears
        QCOMPARE(m_model->rowCount(), 4);
        QCOMPARE(textAt(3), QStringLiteral(" 10%|█"));
        QVERIFY(m_model->index(3).data(LogTailModel::IsPartialRole).toBool());
        QVERIFY(m_model->index(3).data(LogTailModel::IsProgressRole).toBool());
        QCOMPARE(numberAt(3), qint64(-1));

        // Nine updates of the bar: nine dataChanged on that row, no row churn.
        for (int i = 2; i <= 10; ++i) {
            lines.clear();
            terminal.feed(chunk(QStringLiteral("\r %1%|█").arg(i * 10), Stream::Stderr), lines);
            m_model->append(lines, terminal);
        }
        QCOMPARE(spies.inserted.count(), 1);
        QCOMPARE(spies.removed.count(), 0);
        QCOMPARE(spies.changed.count(), 9);
        for (const QList<QVariant> &args : std::as_const(spies.changed)) {
            QCOMPARE(args.at(0).toModelIndex().row(), 3);
            QCOMPARE(args.at(1).toModelIndex().row(), 3);
        }
        QCOMPARE(textAt(3), QStringLiteral(" 100%|█"));

        // A batch with nothing new for the bar does not touch it.
        spies.clear();
        lines.clear();
        terminal.feed(chunk(QStringLiteral("stdout line\n"), Stream::Stdout), lines);
        m_model->append(lines, terminal);
        QCOMPARE(spies.inserted.count(), 1);
        QCOMPARE(spies.inserted.at(0).at(1).toInt(), 3); // before the live row
        QCOMPARE(spies.changed.count(), 0);
        QCOMPARE(textAt(3), QStringLiteral("stdout line"));
        QCOMPARE(textAt(4), QStringLiteral(" 100%|█"));

        // The bar completes: it becomes a numbered line, the live row goes.
        spies.clear();
        lines.clear();
        terminal.feed(chunk(QStringLiteral("\n"), Stream::Stderr), lines);
        m_model->append(lines, terminal);
        QCOMPARE(spies.inserted.count(), 1);
        QCOMPARE(spies.removed.count(), 1);
        QCOMPARE(m_model->rowCount(), 5);
        QCOMPARE(textAt(4), QStringLiteral(" 100%|█"));
        QCOMPARE(numberAt(4), qint64(5));
        QVERIFY(!m_model->index(4).data(LogTailModel::IsPartialRole).toBool());
    }

    void partialRowsKeepTheirOrder()
    {
        m_model->appendLines(numbered(1, 2));
        m_model->setPartial(Stream::Stderr, line(QStringLiteral("err partial"), Stream::Stderr));
        m_model->setPartial(Stream::Stdout, line(QStringLiteral("out partial")));
        QCOMPARE(m_model->rowCount(), 4);
        QCOMPARE(textAt(2), QStringLiteral("out partial"));
        QCOMPARE(textAt(3), QStringLiteral("err partial"));
        QCOMPARE(m_model->index(3).data(LogTailModel::StreamRole).toInt(), 1);

        Spies spies(m_model.get());
        m_model->setPartial(Stream::Stdout, line(QStringLiteral("out partial")));
        QCOMPARE(spies.changed.count(), 0); // nothing changed
        m_model->setPartial(Stream::Stdout, LogLine{});
        QCOMPARE(spies.removed.count(), 1);
        QCOMPARE(spies.removed.at(0).at(1).toInt(), 2);
        QCOMPARE(textAt(2), QStringLiteral("err partial"));
        QCOMPARE(m_model->completedRowCount(), 2);
    }

    void supersededLinesAreNotRows()
    {
        QList<LogLine> lines = numbered(1, 3);
        lines[1].superseded = true;
        Spies spies(m_model.get());
        m_model->appendLines(lines);
        QCOMPARE(spies.inserted.count(), 1);
        QCOMPARE(m_model->rowCount(), 2);
        QCOMPARE(textAt(1), QStringLiteral("line 3"));
        spies.clear();
        lines = numbered(4, 1);
        lines[0].superseded = true;
        m_model->appendLines(lines);
        QCOMPARE(spies.inserted.count(), 0);
    }

    void roles()
    {
        LogLine l = line(QStringLiteral("warn: careful"), Stream::Stderr, 12.5);
        l.spans = {StyleSpan{0, 4, StyleSpan::Yellow, true}};
        l.progress = true;
        m_model->appendLines({l});
        const QModelIndex i = m_model->index(0);
        QCOMPARE(i.data(Qt::DisplayRole).toString(), QStringLiteral("warn: careful"));
        QCOMPARE(i.data(LogTailModel::StreamRole).toInt(), 1);
        QCOMPARE(i.data(LogTailModel::TimeRole).toDouble(), 12.5);
        QCOMPARE(i.data(LogTailModel::SpansRole).value<QList<StyleSpan>>(), l.spans);
        QVERIFY(i.data(LogTailModel::IsProgressRole).toBool());
        QCOMPARE(i.data(LogTailModel::LineNumberRole).toLongLong(), qint64(1));
        QVERIFY(!i.data(LogTailModel::IsPartialRole).toBool());
        QVERIFY(!i.data(Qt::DecorationRole).isValid());
        const QHash<int, QByteArray> names = m_model->roleNames();
        QCOMPARE(names.value(LogTailModel::SpansRole), QByteArray("spans"));
        QCOMPARE(names.value(LogTailModel::LineNumberRole), QByteArray("lineNumber"));
    }

    void find_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<int>("from");
        QTest::addColumn<bool>("forward");
        QTest::addColumn<bool>("caseSensitive");
        QTest::addColumn<int>("expected");

        // rows: 0 "alpha", 1 "Beta", 2 "gamma beta", 3 "delta", 4 partial "beta live"
        QTest::newRow("forward from start") << QStringLiteral("beta") << 0 << true << false << 1;
        QTest::newRow("forward from a match") << QStringLiteral("beta") << 1 << true << false << 1;
        QTest::newRow("forward next") << QStringLiteral("beta") << 2 << true << false << 2;
        QTest::newRow("forward case sensitive") << QStringLiteral("beta") << 0 << true << true << 2;
        QTest::newRow("forward into the partial row")
            << QStringLiteral("live") << 0 << true << false << 4;
        QTest::newRow("forward none after") << QStringLiteral("alpha") << 1 << true << false << -1;
        QTest::newRow("backward") << QStringLiteral("beta") << 3 << false << false << 2;
        QTest::newRow("backward case sensitive")
            << QStringLiteral("Beta") << 3 << false << true << 1;
        QTest::newRow("backward from past the end")
            << QStringLiteral("alpha") << 100 << false << false << 0;
        QTest::newRow("no match") << QStringLiteral("zeta") << 0 << true << false << -1;
        QTest::newRow("empty text") << QString() << 0 << true << false << -1;
    }

    void find()
    {
        QFETCH(QString, text);
        QFETCH(int, from);
        QFETCH(bool, forward);
        QFETCH(bool, caseSensitive);
        QFETCH(int, expected);
        m_model->appendLines({line(QStringLiteral("alpha")), line(QStringLiteral("Beta")),
                              line(QStringLiteral("gamma beta")), line(QStringLiteral("delta"))});
        m_model->setPartial(Stream::Stdout, line(QStringLiteral("beta live")));
        QCOMPARE(m_model->find(text, from, forward,
                               caseSensitive ? Qt::CaseSensitive : Qt::CaseInsensitive),
                 expected);
    }

    void isErrorLine_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("error");
        QTest::newRow("traceback") << QStringLiteral("Traceback (most recent call last):") << true;
        QTest::newRow("exception class")
            << QStringLiteral("RuntimeError: expected scalar type Float") << true;
        QTest::newRow("cuda oom")
            << QStringLiteral("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate")
            << true;
        QTest::newRow("killed") << QStringLiteral("Killed") << true;
        QTest::newRow("warning") << QStringLiteral("UserWarning: CUDA initialization") << false;
        QTest::newRow("tqdm") << QStringLiteral(" 45%|████▌     | 450/1000") << false;
    }

    void isErrorLine()
    {
        QFETCH(QString, text);
        QFETCH(bool, error);
        QCOMPARE(LogTailModel::isErrorLine(text), error);
    }

    void firstErrorRow()
    {
        m_model->setMaxLines(5);
        m_model->appendLines({line(QStringLiteral("ValueError in stdout is not it")),
                              line(QStringLiteral("UserWarning: fine"), Stream::Stderr)});
        QCOMPARE(m_model->firstErrorRow(), -1);
        m_model->appendLines(
            {line(QStringLiteral("Traceback (most recent call last):"), Stream::Stderr),
             line(QStringLiteral("  File \"train.py\", line 3"), Stream::Stderr),
             line(QStringLiteral("RuntimeError: CUDA out of memory"), Stream::Stderr)});
        QCOMPARE(m_model->firstErrorRow(), 2);
        QCOMPARE(m_model->firstErrorRow(), 2); // cached
        // The traceback line scrolls out; the next error line is the first now.
        m_model->appendLines(numbered(1, 3));
        QCOMPARE(m_model->droppedLineCount(), qint64(3));
        QCOMPARE(m_model->firstErrorRow(), 1);
        QCOMPARE(textAt(1), QStringLiteral("RuntimeError: CUDA out of memory"));
        m_model->appendLines(numbered(4, 2));
        QCOMPARE(m_model->firstErrorRow(), -1);
    }

    void clearStartsOver()
    {
        m_model->setMaxLines(10);
        m_model->appendLines(numbered(1, 15));
        m_model->setPartial(Stream::Stdout, line(QStringLiteral("live")));
        Spies spies(m_model.get());
        m_model->clear();
        QCOMPARE(spies.reset.count(), 1);
        QCOMPARE(m_model->rowCount(), 0);
        QCOMPARE(m_model->droppedLineCount(), qint64(0));
        QCOMPARE(m_model->maxLines(), 10);
        m_model->appendLines(numbered(1, 1));
        QCOMPARE(numberAt(0), qint64(1));
    }

    void syncAfterClearShowsTheLiveLineAgain()
    {
        TerminalLog terminal;
        QList<LogLine> lines;
        terminal.feed(chunk(QStringLiteral("prompt> ")), lines);
        m_model->append(lines, terminal);
        QCOMPARE(m_model->rowCount(), 1);
        m_model->clear();
        m_model->syncPartials(terminal);
        QCOMPARE(m_model->rowCount(), 1);
        QCOMPARE(textAt(0), QStringLiteral("prompt> "));
    }
};

QTEST_GUILESS_MAIN(TstLogTailModel)
#include "tst_logtailmodel.moc"
