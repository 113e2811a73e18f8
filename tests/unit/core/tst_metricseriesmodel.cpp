// MetricSeriesModel: one series stitched over a run's or a chain's sessions (restarting and
// resumed counters, missing axis values, log order), live appends with exact signals, the
// series list and the best-value helpers. A real store on a temporary file holds the points.

#include "metricseriesmodel.h"
#include "store.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <limits>
#include <memory>

using namespace kd;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
const QString kLoss = QStringLiteral("loss");

/// A point as the test writes it: log time, epoch (NaN unknown), step (-1 unknown).
struct Pt
{
    double logTime = 0;
    double epoch = kNaN;
    qint64 step = -1;
    double value = 1;
};

Pt ep(double logTime, double epoch, double value = 1)
{
    return Pt{logTime, epoch, -1, value};
}

Pt st(double logTime, qint64 step, double value = 1)
{
    return Pt{logTime, kNaN, step, value};
}

MetricPoint metric(SessionId session, const QString &series, const Pt &p)
{
    MetricPoint m;
    m.sessionId = session;
    m.series = series;
    m.value = p.value;
    m.logTime = p.logTime;
    m.epoch = p.epoch;
    m.step = p.step;
    return m;
}

using Sessions = QList<QList<Pt>>;

QList<double> column(const QAbstractItemModel &model, int col)
{
    QList<double> out;
    for (int row = 0; row < model.rowCount(); ++row)
        out.append(model.index(row, col).data(MetricSeriesModel::RawRole).toDouble());
    return out;
}

QList<int> intColumn(const QAbstractItemModel &model, int col)
{
    QList<int> out;
    for (int row = 0; row < model.rowCount(); ++row)
        out.append(model.index(row, col).data(MetricSeriesModel::RawRole).toInt());
    return out;
}

QList<double> boundaryRowsX(const QAbstractItemModel &model)
{
    QList<double> out;
    for (int row = 0; row < model.rowCount(); ++row) {
        const QModelIndex i = model.index(row, MetricSeriesModel::XColumn);
        if (i.data(MetricSeriesModel::IsBoundaryRole).toBool())
            out.append(i.data(MetricSeriesModel::RawRole).toDouble());
    }
    return out;
}

} // namespace

Q_DECLARE_METATYPE(Sessions)

class TestMetricSeriesModel final : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    std::unique_ptr<Store> m_store;
    RunId m_run = 0;
    int m_files = 0;

    /// A fresh store file per test: no test sees another's points.
    void openStore()
    {
        m_store.reset();
        auto store = Store::open(m_dir.filePath(QStringLiteral("h%1.sqlite").arg(++m_files)));
        QVERIFY2(store.ok(), qPrintable(store.ok() ? QString() : store.error().message));
        m_store = std::move(store).value();
        WatchedRun run;
        run.ref = KernelRef{QStringLiteral("alice"), QStringLiteral("train")};
        run.title = QStringLiteral("train");
        auto id = m_store->addRun(run);
        QVERIFY(id.ok());
        m_run = *id;
    }

    SessionId addSession(int minutesAfterStart)
    {
        SessionRecord s;
        s.runId = m_run;
        s.firstSeen = QDateTime(QDate(2025, 6, 2), QTime(8, 0), Qt::UTC)
                          .addSecs(qint64(minutesAfterStart) * 60);
        s.status = KernelStatus::Complete;
        s.machineShape = QStringLiteral("NvidiaTeslaT4");
        auto id = m_store->addSession(s);
        return id.ok() ? *id : 0;
    }

    void addPoints(SessionId session, const QString &series, const QList<Pt> &points)
    {
        QList<MetricPoint> list;
        for (const Pt &p : points)
            list.append(metric(session, series, p));
        QVERIFY(m_store->addMetricPoints(list).ok());
    }

    /// One session per entry, each with `loss` points plus noise in another series that the
    /// model must not show.
    QList<SessionId> fill(const Sessions &sessions)
    {
        QList<SessionId> ids;
        for (qsizetype i = 0; i < sessions.size(); ++i) {
            const SessionId id = addSession(int(i) * 60);
            addPoints(id, kLoss, sessions.at(i));
            addPoints(id, QStringLiteral("learning_rate"), {st(0.5, 999, 1e-4)});
            ids.append(id);
        }
        return ids;
    }

private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }
    void init() { openStore(); }
    void cleanup() { m_store.reset(); }

    void stitching_data()
    {
        QTest::addColumn<MetricSeriesModel::XAxis>("axis");
        QTest::addColumn<Sessions>("sessions");
        QTest::addColumn<QList<double>>("xs");
        QTest::addColumn<QList<int>>("sessionIndexes");
        QTest::addColumn<QList<double>>("boundaries");

        using A = MetricSeriesModel::XAxis;
        QTest::newRow("restarting epochs")
            << A::Epoch << Sessions{{ep(1, 1), ep(2, 2), ep(3, 3)}, {ep(1, 1), ep(2, 2), ep(3, 3)}}
            << QList<double>{1, 2, 3, 4, 5, 6} << QList<int>{0, 0, 0, 1, 1, 1} << QList<double>{4};
        QTest::newRow("resumed epochs")
            << A::Epoch << Sessions{{ep(1, 1), ep(2, 2), ep(3, 3)}, {ep(1, 4), ep(2, 5), ep(3, 6)}}
            << QList<double>{1, 2, 3, 4, 5, 6} << QList<int>{0, 0, 0, 1, 1, 1} << QList<double>{4};
        // The third run resumes the second's counter: it keeps the second's offset.
        QTest::newRow("restart then resume")
            << A::Epoch
            << Sessions{{ep(1, 1), ep(2, 3)}, {ep(1, 1), ep(2, 3)}, {ep(1, 4), ep(2, 6)}}
            << QList<double>{1, 3, 4, 6, 7, 9} << QList<int>{0, 0, 1, 1, 2, 2}
            << QList<double>{4, 7};
        QTest::newRow("equal first value restarts")
            << A::Epoch << Sessions{{ep(1, 1), ep(2, 2)}, {ep(1, 2), ep(2, 3)}}
            << QList<double>{1, 2, 4, 5} << QList<int>{0, 0, 1, 1} << QList<double>{4};
        QTest::newRow("restarting steps")
            << A::Step << Sessions{{st(1, 0), st(2, 50), st(3, 100)}, {st(1, 0), st(2, 50)}}
            << QList<double>{0, 50, 100, 100, 150} << QList<int>{0, 0, 0, 1, 1}
            << QList<double>{100};
        QTest::newRow("resumed steps (HF resume_from_checkpoint)")
            << A::Step << Sessions{{st(1, 10), st(2, 20), st(3, 30)}, {st(1, 40), st(2, 50)}}
            << QList<double>{10, 20, 30, 40, 50} << QList<int>{0, 0, 0, 1, 1} << QList<double>{40};
        // Log time counts from each session's start even when it looks like a resume.
        QTest::newRow("time always offsets")
            << A::Time << Sessions{{ep(5, 1), ep(10, 2)}, {ep(20, 1), ep(30, 2)}}
            << QList<double>{5, 10, 30, 40} << QList<int>{0, 0, 1, 1} << QList<double>{30};
        QTest::newRow("missing epochs carry the previous x")
            << A::Epoch
            << Sessions{{ep(1, kNaN), ep(2, 1), ep(3, kNaN), ep(4, 2)}, {ep(1, kNaN), ep(2, 1)}}
            << QList<double>{0, 1, 1, 2, 2, 3} << QList<int>{0, 0, 0, 0, 1, 1} << QList<double>{2};
        // The middle session never logged a step: it sits at the end of the first, and the
        // third restarts from there (its 5 is not above the first session's 20).
        QTest::newRow("session without steps")
            << A::Step
            << Sessions{{st(1, 10), st(2, 20)}, {ep(1, 1), ep(2, 2), ep(3, 3)}, {st(1, 5)}}
            << QList<double>{10, 20, 20, 20, 20, 25} << QList<int>{0, 0, 1, 1, 1, 2}
            << QList<double>{20, 25};
        QTest::newRow("rows follow log time, not insertion order")
            << A::Epoch << Sessions{{ep(3, 3), ep(1, 1), ep(2, 2)}} << QList<double>{1, 2, 3}
            << QList<int>{0, 0, 0} << QList<double>{};
        QTest::newRow("session without points keeps its index")
            << A::Epoch << Sessions{{ep(1, 1), ep(2, 2)}, {}, {ep(1, 1), ep(2, 2)}}
            << QList<double>{1, 2, 3, 4} << QList<int>{0, 0, 2, 2} << QList<double>{3};
        QTest::newRow("first session without points")
            << A::Epoch << Sessions{{}, {ep(1, 1), ep(2, 2)}} << QList<double>{1, 2}
            << QList<int>{1, 1} << QList<double>{};
        QTest::newRow("single session")
            << A::Epoch << Sessions{{ep(1, 0.5), ep(2, 1.0), ep(3, 1.5)}}
            << QList<double>{0.5, 1.0, 1.5} << QList<int>{0, 0, 0} << QList<double>{};
        QTest::newRow("empty") << A::Step << Sessions{{}, {}} << QList<double>{} << QList<int>{}
                               << QList<double>{};
        QTest::newRow("no sessions")
            << A::Step << Sessions{} << QList<double>{} << QList<int>{} << QList<double>{};
    }

    void stitching()
    {
        QFETCH(MetricSeriesModel::XAxis, axis);
        QFETCH(Sessions, sessions);
        QFETCH(QList<double>, xs);
        QFETCH(QList<int>, sessionIndexes);
        QFETCH(QList<double>, boundaries);

        const QList<SessionId> ids = fill(sessions);
        MetricSeriesModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setStore(m_store.get());
        model.setXAxis(axis);
        model.showSessions(ids, kLoss);

        QCOMPARE(model.rowCount(), xs.size());
        QCOMPARE(column(model, MetricSeriesModel::XColumn), xs);
        QCOMPARE(intColumn(model, MetricSeriesModel::SessionIndexColumn), sessionIndexes);
        QCOMPARE(model.boundaries(), boundaries);
        QCOMPARE(boundaryRowsX(model), boundaries);
        for (int row = 0; row < model.rowCount(); ++row) {
            QCOMPARE(model.index(row, MetricSeriesModel::ValueColumn)
                         .data(MetricSeriesModel::SessionIdRole)
                         .toLongLong(),
                     ids.at(sessionIndexes.at(row)));
        }
    }

    void showRunOrdersSessionsOldestFirst()
    {
        // Recorded newest first; the store orders by firstSeen.
        const SessionId newer = addSession(120);
        const SessionId older = addSession(0);
        addPoints(newer, kLoss, {ep(1, 1, 0.5), ep(2, 2, 0.4)});
        addPoints(older, kLoss, {ep(1, 1, 0.9), ep(2, 2, 0.8)});

        MetricSeriesModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setStore(m_store.get());
        model.setXAxis(MetricSeriesModel::XAxis::Epoch);
        model.showRun(m_run, kLoss);

        QCOMPARE(model.sessions(), (QList<SessionId>{older, newer}));
        QCOMPARE(column(model, MetricSeriesModel::ValueColumn),
                 (QList<double>{0.9, 0.8, 0.5, 0.4}));
        QCOMPARE(column(model, MetricSeriesModel::XColumn), (QList<double>{1, 2, 3, 4}));
        QCOMPARE(model.index(0, 0).data(MetricSeriesModel::SessionIdRole).toLongLong(), older);
        QCOMPARE(model.index(2, 0).data(MetricSeriesModel::SessionIdRole).toLongLong(), newer);
        QCOMPARE(model.index(0, 0).data(MetricSeriesModel::IsBoundaryRole).toBool(), false);
        QCOMPARE(model.index(2, 0).data(MetricSeriesModel::IsBoundaryRole).toBool(), true);
    }

    void cellValues()
    {
        const SessionId s = addSession(0);
        addPoints(s, kLoss, {Pt{12.5, 0.25, 40, 2.5}, Pt{13.0, kNaN, -1, 2.0}});
        MetricSeriesModel model;
        model.setStore(m_store.get());
        model.showSessions({s}, kLoss);

        QCOMPARE(model.columnCount(), int(MetricSeriesModel::ColumnCount));
        const auto cell = [&](int row, int col, int role = MetricSeriesModel::RawRole) {
            return model.index(row, col).data(role);
        };
        QCOMPARE(cell(0, MetricSeriesModel::XColumn).toDouble(), 40.0);
        QCOMPARE(cell(0, MetricSeriesModel::ValueColumn).toDouble(), 2.5);
        QCOMPARE(cell(0, MetricSeriesModel::EpochColumn).toDouble(), 0.25);
        QCOMPARE(cell(0, MetricSeriesModel::StepColumn).toLongLong(), 40);
        QCOMPARE(cell(0, MetricSeriesModel::SessionIndexColumn).toInt(), 0);
        QCOMPARE(cell(0, MetricSeriesModel::LogTimeColumn).toDouble(), 12.5);
        QCOMPARE(cell(0, MetricSeriesModel::StepColumn, Qt::DisplayRole).toLongLong(), 40);
        // Unknown epoch and step: raw NaN / -1, empty display.
        QVERIFY(std::isnan(cell(1, MetricSeriesModel::EpochColumn).toDouble()));
        QCOMPARE(cell(1, MetricSeriesModel::StepColumn).toLongLong(), -1);
        QVERIFY(!cell(1, MetricSeriesModel::EpochColumn, Qt::DisplayRole).isValid());
        QVERIFY(!cell(1, MetricSeriesModel::StepColumn, Qt::DisplayRole).isValid());
        // No step on the second point: it stays at the first point's x.
        QCOMPARE(cell(1, MetricSeriesModel::XColumn).toDouble(), 40.0);
    }

    void availableSeries()
    {
        const SessionId a = addSession(0);
        const SessionId b = addSession(60);
        const SessionId other = addSession(120);
        for (const QString &name : {QStringLiteral("zeta"), QStringLiteral("accuracy"),
                                    QStringLiteral("loss"), QStringLiteral("alpha")})
            addPoints(a, name, {ep(1, 1)});
        for (const QString &name : {QStringLiteral("eval_loss"), QStringLiteral("beta")})
            addPoints(b, name, {ep(1, 1)});
        addPoints(other, QStringLiteral("hidden"), {ep(1, 1)});

        MetricSeriesModel model;
        QSignalSpy changed(&model, &MetricSeriesModel::availableSeriesChanged);
        model.setStore(m_store.get());
        QCOMPARE(changed.count(), 0); // nothing shown yet
        model.showSessions({a, b}, kLoss);
        QCOMPARE(changed.count(), 1);
        const QStringList expected{QStringLiteral("loss"),     QStringLiteral("eval_loss"),
                                   QStringLiteral("accuracy"), QStringLiteral("alpha"),
                                   QStringLiteral("beta"),     QStringLiteral("zeta")};
        QCOMPARE(model.availableSeries(), expected);

        // Live points: a new series of a shown session is announced once; another session's
        // series and a known series are not.
        model.appendPoints({metric(b, QStringLiteral("grad_norm"), ep(5, 2)),
                            metric(b, QStringLiteral("grad_norm"), ep(6, 2)),
                            metric(other, QStringLiteral("other_only"), ep(5, 2)),
                            metric(a, QStringLiteral("alpha"), ep(5, 2))});
        QCOMPARE(changed.count(), 2);
        QCOMPARE(model.availableSeries(),
                 (QStringList{QStringLiteral("loss"), QStringLiteral("eval_loss"),
                              QStringLiteral("accuracy"), QStringLiteral("alpha"),
                              QStringLiteral("beta"), QStringLiteral("grad_norm"),
                              QStringLiteral("zeta")}));
        model.appendPoints({metric(a, QStringLiteral("alpha"), ep(7, 3))});
        QCOMPARE(changed.count(), 2);
    }

    void appendPointsInsertsOnce()
    {
        const QList<SessionId> ids = fill({{ep(1, 1), ep(2, 2), ep(3, 3)}, {ep(1, 1), ep(2, 2)}});
        const SessionId unshown = addSession(500);

        MetricSeriesModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setStore(m_store.get());
        model.setXAxis(MetricSeriesModel::XAxis::Epoch);
        model.showSessions(ids, kLoss);
        QCOMPARE(model.rowCount(), 5);

        QSignalSpy aboutToInsert(&model, &QAbstractItemModel::rowsAboutToBeInserted);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);

        QList<MetricPoint> live;
        for (int i = 0; i < 5; ++i)
            live.append(metric(ids.at(1), kLoss, ep(10 + i, 3 + i, 0.1 * i)));
        for (int i = 0; i < 3; ++i)
            live.insert(2 * i + 1, metric(ids.at(1), QStringLiteral("eval_loss"), ep(10 + i, 3)));
        live.append(metric(unshown, kLoss, ep(10, 1)));
        live.append(metric(unshown, kLoss, ep(11, 2)));
        model.appendPoints(live);

        QCOMPARE(aboutToInsert.count(), 1);
        QCOMPARE(inserted.count(), 1);
        QCOMPARE(inserted.at(0).at(1).toInt(), 5);
        QCOMPARE(inserted.at(0).at(2).toInt(), 9);
        QCOMPARE(reset.count(), 0);
        QCOMPARE(changed.count(), 0);
        QCOMPARE(model.rowCount(), 10);
        // The second session restarted at epoch 1 (offset 3); the live epochs 3..7 follow it.
        QCOMPARE(column(model, MetricSeriesModel::XColumn),
                 (QList<double>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
        QCOMPARE(model.boundaries(), QList<double>{4});
    }

    void appendPointsOutOfPlaceResets_data()
    {
        QTest::addColumn<int>("sessionIndex");
        QTest::addColumn<double>("logTime");
        QTest::addColumn<bool>("reset");
        QTest::addColumn<int>("expectedRow");

        // Two sessions with two rows each (log times 1 and 2), then one without rows.
        QTest::newRow("newest session, later") << 1 << 10.0 << false << 4;
        QTest::newRow("newest session, same log time") << 1 << 2.0 << false << 4;
        QTest::newRow("newest session, missing log time") << 1 << kNaN << false << 4;
        QTest::newRow("session after the newest with rows") << 2 << 0.0 << false << 4;
        QTest::newRow("newest session, earlier") << 1 << 1.5 << true << 3;
        QTest::newRow("earlier session") << 0 << 10.0 << true << 2;
    }

    void appendPointsOutOfPlaceResets()
    {
        QFETCH(int, sessionIndex);
        QFETCH(double, logTime);
        QFETCH(bool, reset);
        QFETCH(int, expectedRow);

        const QList<SessionId> ids = fill({{ep(1, 1), ep(2, 2)}, {ep(1, 1), ep(2, 2)}, {}});
        MetricSeriesModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setStore(m_store.get());
        model.setXAxis(MetricSeriesModel::XAxis::Epoch);
        model.showSessions(ids, kLoss);

        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        model.appendPoints({metric(ids.at(sessionIndex), kLoss, ep(logTime, 3, 0.5))});

        QCOMPARE(inserted.count(), reset ? 0 : 1);
        QCOMPARE(resets.count(), reset ? 1 : 0);
        QCOMPARE(model.rowCount(), 5);
        const QList<double> values = column(model, MetricSeriesModel::ValueColumn);
        QCOMPARE(values.indexOf(0.5), expectedRow);
        QCOMPARE(model.index(expectedRow, MetricSeriesModel::SessionIndexColumn)
                     .data(MetricSeriesModel::RawRole)
                     .toInt(),
                 sessionIndex);
    }

    void appendPointsIgnoresOthers()
    {
        const QList<SessionId> ids = fill({{ep(1, 1)}});
        const SessionId unshown = addSession(500);
        MetricSeriesModel model;
        model.setStore(m_store.get());
        model.showSessions(ids, kLoss);

        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        QSignalSpy series(&model, &MetricSeriesModel::availableSeriesChanged);
        model.appendPoints({});
        model.appendPoints({metric(unshown, kLoss, ep(5, 5))});
        model.appendPoints({metric(ids.at(0), QStringLiteral("learning_rate"), ep(5, 5))});
        QCOMPARE(inserted.count(), 0);
        QCOMPARE(resets.count(), 0);
        QCOMPARE(series.count(), 0);
        QCOMPARE(model.rowCount(), 1);
    }

    void liveOnlyWithoutStore()
    {
        MetricSeriesModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setXAxis(MetricSeriesModel::XAxis::Step);
        model.showSessions({7, 8}, kLoss);
        QCOMPARE(model.rowCount(), 0);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        model.appendPoints({metric(7, kLoss, st(1, 0)), metric(7, kLoss, st(2, 10)),
                            metric(8, kLoss, st(1, 0)), metric(8, kLoss, st(2, 10))});
        QCOMPARE(inserted.count(), 1);
        QCOMPARE(column(model, MetricSeriesModel::XColumn), (QList<double>{0, 10, 10, 20}));
        QCOMPARE(model.availableSeries(), QStringList{kLoss});
    }

    void setXAxisChangesOnlyX()
    {
        const QList<SessionId> ids =
            fill({{Pt{1, 1, 100, 1}, Pt{2, 2, 200, 1}}, {Pt{1, 1, 100, 1}, Pt{3, 2, 200, 1}}});
        MetricSeriesModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setStore(m_store.get());
        model.showSessions(ids, kLoss);
        QCOMPARE(model.xAxis(), MetricSeriesModel::XAxis::Step);
        QCOMPARE(column(model, MetricSeriesModel::XColumn), (QList<double>{100, 200, 300, 400}));

        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QSignalSpy header(&model, &QAbstractItemModel::headerDataChanged);
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        model.setXAxis(MetricSeriesModel::XAxis::Time);
        QCOMPARE(changed.count(), 1);
        QCOMPARE(changed.at(0).at(0).toModelIndex(), model.index(0, MetricSeriesModel::XColumn));
        QCOMPARE(changed.at(0).at(1).toModelIndex(), model.index(3, MetricSeriesModel::XColumn));
        QCOMPARE(changed.at(0).at(2).value<QList<int>>(),
                 (QList<int>{Qt::DisplayRole, MetricSeriesModel::RawRole}));
        QCOMPARE(header.count(), 1);
        QCOMPARE(resets.count(), 0);
        QCOMPARE(column(model, MetricSeriesModel::XColumn), (QList<double>{1, 2, 3, 5}));
        QCOMPARE(model.boundaries(), QList<double>{3});
        QCOMPARE(model.headerData(MetricSeriesModel::XColumn, Qt::Horizontal).toString(),
                 QStringLiteral("Time (stitched)"));

        model.setXAxis(MetricSeriesModel::XAxis::Time);
        QCOMPARE(changed.count(), 1);
        QCOMPARE(header.count(), 1);
    }

    void reloadAndSeries()
    {
        const QList<SessionId> ids = fill({{ep(1, 1)}});
        addPoints(ids.at(0), QStringLiteral("eval_accuracy"), {ep(1, 1, 0.7), ep(2, 2, 0.8)});
        MetricSeriesModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setStore(m_store.get());
        model.showSessions(ids, kLoss);
        QCOMPARE(model.rowCount(), 1);

        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        addPoints(ids.at(0), kLoss, {ep(2, 2), ep(3, 3)});
        model.reload();
        QCOMPARE(resets.count(), 1);
        QCOMPARE(model.rowCount(), 3);

        model.setSeries(QStringLiteral("eval_accuracy"));
        QCOMPARE(resets.count(), 2);
        QCOMPARE(column(model, MetricSeriesModel::ValueColumn), (QList<double>{0.7, 0.8}));
        model.setSeries(QStringLiteral("eval_accuracy"));
        QCOMPARE(resets.count(), 2);

        model.clear();
        QCOMPARE(resets.count(), 3);
        QCOMPARE(model.rowCount(), 0);
        QVERIFY(model.availableSeries().isEmpty());
    }

    void lowerIsBetter_data()
    {
        QTest::addColumn<QString>("series");
        QTest::addColumn<bool>("lower");
        QTest::newRow("loss") << QStringLiteral("loss") << true;
        QTest::newRow("eval_loss") << QStringLiteral("eval_loss") << true;
        QTest::newRow("Val Loss") << QStringLiteral("Val Loss") << true;
        QTest::newRow("val_error") << QStringLiteral("val_error") << true;
        QTest::newRow("perplexity") << QStringLiteral("Perplexity") << true;
        QTest::newRow("eval_accuracy") << QStringLiteral("eval_accuracy") << false;
        QTest::newRow("f1") << QStringLiteral("f1") << false;
        QTest::newRow("bleu") << QStringLiteral("bleu") << false;
    }

    void lowerIsBetter()
    {
        QFETCH(QString, series);
        QFETCH(bool, lower);
        QCOMPARE(MetricSeriesModel::lowerIsBetter(series), lower);
    }

    void bestValues_data()
    {
        QTest::addColumn<QString>("series");
        QTest::addColumn<Sessions>("sessions");
        QTest::addColumn<QList<double>>("perSession"); // NaN written as -999
        QTest::addColumn<double>("best");

        QTest::newRow("loss: minimum")
            << QStringLiteral("loss")
            << Sessions{{ep(1, 1, 0.9), ep(2, 2, 0.6), ep(3, 3, 0.7)}, {ep(1, 1, 0.65)}}
            << QList<double>{0.6, 0.65} << 0.6;
        QTest::newRow("accuracy: maximum")
            << QStringLiteral("eval_accuracy")
            << Sessions{{ep(1, 1, 0.7), ep(2, 2, 0.8)}, {ep(1, 1, 0.75), ep(2, 2, 0.9)}}
            << QList<double>{0.8, 0.9} << 0.9;
        QTest::newRow("NaN values and a session without points")
            << QStringLiteral("loss")
            << Sessions{{ep(1, 1, kNaN), ep(2, 2, 0.5)}, {}, {ep(1, 1, kNaN)}}
            << QList<double>{0.5, -999, -999} << 0.5;
        QTest::newRow("nothing") << QStringLiteral("loss") << Sessions{{}} << QList<double>{-999}
                                 << -999.0;
    }

    void bestValues()
    {
        QFETCH(QString, series);
        QFETCH(Sessions, sessions);
        QFETCH(QList<double>, perSession);
        QFETCH(double, best);

        QList<SessionId> ids;
        for (qsizetype i = 0; i < sessions.size(); ++i) {
            ids.append(addSession(int(i) * 60));
            addPoints(ids.constLast(), series, sessions.at(i));
        }
        MetricSeriesModel model;
        model.setStore(m_store.get());
        model.showSessions(ids, series);

        QList<double> got = model.perSessionBest();
        for (double &v : got) {
            if (std::isnan(v))
                v = -999;
        }
        QCOMPARE(got, perSession);
        const double b = model.bestValue();
        QCOMPARE(std::isnan(b) ? -999.0 : b, best);
    }
};

QTEST_GUILESS_MAIN(TestMetricSeriesModel)
#include "tst_metricseriesmodel.moc"
