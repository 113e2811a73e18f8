// QuotaModel and QuotaUsageModel: the quota panel's rows (unknown until the first update,
// Kaggle's numbers or the local fallback), exact change signals per cell, burn-down from the
// stored snapshots, and the hours per run and chain. Every time is fixed.

#include "quotamodel.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>
#include <QTimeZone>

using namespace kd;

namespace {

constexpr double kHour = 3600.0;

const QString kT4 = QStringLiteral("NvidiaTeslaT4");
const QString kTpu = QStringLiteral("Tpu1VmV38");

QDateTime utc(int y, int mo, int d, int h = 0, int mi = 0)
{
    return QDateTime(QDate(y, mo, d), QTime(h, mi), QTimeZone::utc());
}

/// Wednesday 4 June 2025, 12:00 UTC; Kaggle's refresh is Saturday 7 June 00:00 UTC.
const QDateTime kNow = utc(2025, 6, 4, 12);
const QDateTime kSaturday = utc(2025, 6, 7);

AcceleratorQuota quota(double usedH, double totalH, double reservedH = 0)
{
    AcceleratorQuota q;
    q.timeUsedSeconds = usedH * kHour;
    q.totalTimeAllowedSeconds = totalH * kHour;
    q.timeReservedSeconds = reservedH * kHour;
    q.hasEverRun = true;
    return q;
}

QuotaStatistics stats(double gpuUsedH = 10, double gpuReservedH = 0, double tpuUsedH = 2,
                      double tpuReservedH = 0, double gpuTotalH = 30, bool hasTpu = true)
{
    QuotaStatistics s;
    s.quotaRefreshTime = kSaturday;
    s.gpu = quota(gpuUsedH, gpuTotalH, gpuReservedH);
    if (hasTpu)
        s.tpu = quota(tpuUsedH, 20, tpuReservedH);
    return s;
}

QuotaForecast::Input input(const std::optional<QuotaStatistics> &api,
                           const QList<QuotaForecast::PlannedRun> &planned = {})
{
    QuotaForecast::Input in;
    in.now = kNow;
    if (api)
        in.snapshot = QuotaSnapshot{kNow, *api};
    in.planned = planned;
    return in;
}

SessionRecord session(SessionId id, RunId run, const QString &shape, KernelStatus status,
                      ChainId chain = 0)
{
    SessionRecord s;
    s.id = id;
    s.runId = run;
    s.machineShape = shape;
    s.status = status;
    s.chainId = chain;
    s.firstSeen = kNow.addDays(-1);
    return s;
}

StatusEvent ev(SessionId id, KernelStatus status, int minutesFromNow)
{
    return StatusEvent{id, status, kNow.addSecs(qint64(minutesFromNow) * 60)};
}

/// "row:first-last:roles" per dataChanged, roles as letters: D display, R raw, S summary,
/// T tooltip; "*" for every role.
QStringList describe(const QSignalSpy &spy)
{
    QStringList out;
    for (const QList<QVariant> &args : spy) {
        const QModelIndex tl = args.at(0).toModelIndex();
        const QModelIndex br = args.at(1).toModelIndex();
        QString roles;
        for (int role : args.at(2).value<QList<int>>()) {
            switch (role) {
            case Qt::DisplayRole:
                roles += u'D';
                break;
            case QuotaModel::RawRole:
                roles += u'R';
                break;
            case QuotaModel::SummaryRole:
                roles += u'S';
                break;
            case Qt::ToolTipRole:
                roles += u'T';
                break;
            default:
                roles += u'?';
            }
        }
        if (roles.isEmpty())
            roles = QStringLiteral("*");
        QString row = QString::number(tl.row());
        if (br.row() != tl.row())
            row += u'-' + QString::number(br.row());
        out.append(row + u':' + QString::number(tl.column()) + u'-' + QString::number(br.column()) +
                   u':' + roles);
    }
    return out;
}

QVariant cell(const QAbstractItemModel &m, int row, int column, int role = QuotaModel::RawRole)
{
    return m.index(row, column).data(role);
}

} // namespace

class TestQuotaModel final : public QObject
{
    Q_OBJECT

private slots:
    void unknownBeforeUpdate()
    {
        QuotaModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(model.columnCount(), int(QuotaModel::ColumnCount));
        QCOMPARE(model.headerData(QuotaModel::GpuRow, Qt::Vertical).toString(),
                 QStringLiteral("GPU"));
        QCOMPARE(model.headerData(QuotaModel::TpuRow, Qt::Vertical).toString(),
                 QStringLiteral("TPU"));
        for (int row = 0; row < 2; ++row) {
            QCOMPARE(cell(model, row, 0, QuotaModel::KnownRole).toBool(), false);
            QCOMPARE(cell(model, row, 0, QuotaModel::AcceleratorRole).toInt(),
                     int(row == 0 ? Accelerator::Gpu : Accelerator::Tpu));
            for (int column = 0; column < QuotaModel::ColumnCount; ++column) {
                QVERIFY(!cell(model, row, column).isValid());
                QCOMPARE(cell(model, row, column, Qt::DisplayRole).toString(),
                         QStringLiteral("unknown"));
            }
        }
        QVERIFY(!model.forecast(Accelerator::Gpu));
        QVERIFY(!model.refreshTime().isValid());
        QCOMPARE(model.secondsToRefresh(kNow), -1.0);
        QVERIFY(model.burnDown(Accelerator::Gpu).forecast.isEmpty());
        QVERIFY(!model.isLow(Accelerator::Gpu));
    }

    void firstUpdateFillsBothRows()
    {
        QuotaModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QSignalSpy updated(&model, &QuotaModel::updated);
        model.update(stats(10, 1), {}, {}, {}, {}, kNow);

        QCOMPARE(describe(changed),
                 (QStringList{QStringLiteral("0:0-7:*"), QStringLiteral("1:0-7:*")}));
        QCOMPARE(updated.count(), 1);

        QCOMPARE(cell(model, 0, QuotaModel::UsedColumn).toDouble(), 10 * kHour);
        QCOMPARE(cell(model, 0, QuotaModel::ReservedColumn).toDouble(), 1 * kHour);
        QCOMPARE(cell(model, 0, QuotaModel::RemainingColumn).toDouble(), 20 * kHour);
        QCOMPARE(cell(model, 0, QuotaModel::TotalColumn).toDouble(), 30 * kHour);
        QCOMPARE(cell(model, 0, QuotaModel::ProjectedColumn).toDouble(), 11 * kHour);
        QCOMPARE(cell(model, 0, QuotaModel::CoversColumn).toBool(), true);
        QCOMPARE(cell(model, 0, QuotaModel::ShortfallColumn).toDouble(), 0.0);
        QCOMPARE(cell(model, 0, QuotaModel::SourceColumn).toInt(), int(QuotaForecast::Source::Api));
        QCOMPARE(cell(model, 0, QuotaModel::UsedColumn, Qt::DisplayRole).toString(),
                 QStringLiteral("10 h"));
        QCOMPARE(cell(model, 0, QuotaModel::SourceColumn, Qt::DisplayRole).toString(),
                 QStringLiteral("Kaggle"));
        QCOMPARE(cell(model, 1, QuotaModel::UsedColumn).toDouble(), 2 * kHour);
        QCOMPARE(cell(model, 1, QuotaModel::TotalColumn).toDouble(), 20 * kHour);
        QCOMPARE(cell(model, 1, 0, QuotaModel::KnownRole).toBool(), true);

        QuotaForecast direct;
        QuotaForecast::Input in = input(stats(10, 1));
        const QuotaForecast::Result gpu = direct.forecast(in);
        QCOMPARE(cell(model, 0, QuotaModel::CoversColumn, QuotaModel::SummaryRole).toString(),
                 gpu.summary);
        QCOMPARE(cell(model, 0, QuotaModel::UsedColumn, Qt::ToolTipRole).toString(), gpu.summary);
        in.accelerator = Accelerator::Tpu;
        QCOMPARE(cell(model, 1, QuotaModel::UsedColumn, QuotaModel::SummaryRole).toString(),
                 direct.forecast(in).summary);
        QVERIFY(model.forecast(Accelerator::Tpu));
        QCOMPARE(model.forecast(Accelerator::Tpu)->accelerator, Accelerator::Tpu);
        QCOMPARE(model.forecast(Accelerator::Gpu)->projectedSeconds, gpu.projectedSeconds);

        QCOMPARE(model.refreshTime(), kSaturday);
        QCOMPARE(model.secondsToRefresh(kNow), 60 * kHour);
        QCOMPARE(model.secondsToRefresh(kSaturday.addSecs(10)), 0.0);
    }

    void changeSignals_data()
    {
        QTest::addColumn<double>("gpuUsedH");
        QTest::addColumn<double>("gpuTotalH");
        QTest::addColumn<double>("tpuReservedH");
        QTest::addColumn<bool>("hasTpu");
        QTest::addColumn<double>("plannedGpuH");
        QTest::addColumn<QStringList>("expected");

        // Starting point: GPU 10 of 30 h, TPU 2 of 20 h, nothing reserved or planned.
        QTest::newRow("nothing changed") << 10.0 << 30.0 << 0.0 << true << 0.0 << QStringList{};
        QTest::newRow("only GPU used")
            << 11.0 << 30.0 << 0.0 << true << 0.0
            << QStringList{QStringLiteral("0:0-0:DR"), QStringLiteral("0:2-2:DR"),
                           QStringLiteral("0:4-4:DR"), QStringLiteral("0:0-7:ST")};
        // One second more: the cells' raw values move, the summary's rounded hours do not.
        QTest::newRow("GPU used by a second")
            << 10.0 + 1 / kHour << 30.0 << 0.0 << true << 0.0
            << QStringList{QStringLiteral("0:0-0:DR"), QStringLiteral("0:2-2:DR"),
                           QStringLiteral("0:4-4:DR")};
        QTest::newRow("GPU total: adjacent cells in one signal")
            << 10.0 << 40.0 << 0.0 << true << 0.0
            << QStringList{QStringLiteral("0:2-3:DR"), QStringLiteral("0:0-7:ST")};
        QTest::newRow("GPU over the quota")
            << 29.0 << 30.0 << 0.0 << true << 5.0
            << QStringList{QStringLiteral("0:0-0:DR"), QStringLiteral("0:2-2:DR"),
                           QStringLiteral("0:4-6:DR"), QStringLiteral("0:0-7:ST")};
        QTest::newRow("only TPU reserved")
            << 10.0 << 30.0 << 3.0 << true << 0.0
            << QStringList{QStringLiteral("1:1-1:DR"), QStringLiteral("1:4-4:DR"),
                           QStringLiteral("1:0-7:ST")};
        // No TPU numbers from Kaggle: the TPU row falls back to the local estimate (no local
        // TPU sessions, the default 20 h total).
        QTest::newRow("TPU numbers gone")
            << 10.0 << 30.0 << 0.0 << false << 0.0
            << QStringList{QStringLiteral("1:0-0:DR"), QStringLiteral("1:2-2:DR"),
                           QStringLiteral("1:4-4:DR"), QStringLiteral("1:7-7:DR"),
                           QStringLiteral("1:0-7:ST")};
    }

    void changeSignals()
    {
        QFETCH(double, gpuUsedH);
        QFETCH(double, gpuTotalH);
        QFETCH(double, tpuReservedH);
        QFETCH(bool, hasTpu);
        QFETCH(double, plannedGpuH);
        QFETCH(QStringList, expected);

        QuotaModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.update(input(stats()));

        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QSignalSpy updated(&model, &QuotaModel::updated);
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        QList<QuotaForecast::PlannedRun> planned;
        if (plannedGpuH > 0)
            planned.append({Accelerator::Gpu, plannedGpuH * kHour});
        model.update(input(stats(gpuUsedH, 0, 2, tpuReservedH, gpuTotalH, hasTpu), planned));

        QCOMPARE(describe(changed), expected);
        QCOMPARE(updated.count(), 1);
        QCOMPARE(resets.count(), 0);
    }

    void overQuotaCells()
    {
        QuotaModel model;
        model.update(input(stats(29), {{Accelerator::Gpu, 5 * kHour}}));
        QCOMPARE(cell(model, 0, QuotaModel::ProjectedColumn).toDouble(), 34 * kHour);
        QCOMPARE(cell(model, 0, QuotaModel::CoversColumn).toBool(), false);
        QCOMPARE(cell(model, 0, QuotaModel::ShortfallColumn).toDouble(), 4 * kHour);
        QCOMPARE(cell(model, 0, QuotaModel::ShortfallColumn, Qt::DisplayRole).toString(),
                 QStringLiteral("4 h"));
        QVERIFY(model.isLow(Accelerator::Gpu)); // 1 h left now, under the 3 h floor
        QVERIFY(!model.isLow(Accelerator::Tpu));
    }

    void fallbackFromLocalSessions()
    {
        // Kaggle sent nothing: two hours of a running T4 session are the used time, and it is
        // expected to run one more hour.
        const QList<SessionRecord> sessions{session(1, 1, kT4, KernelStatus::Running)};
        const QList<StatusEvent> events{ev(1, KernelStatus::Queued, -130),
                                        ev(1, KernelStatus::Running, -120)};
        QuotaModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.update(std::nullopt, sessions, events, {{1, 1 * kHour}}, {}, kNow);

        QCOMPARE(cell(model, 0, QuotaModel::SourceColumn).toInt(),
                 int(QuotaForecast::Source::FallbackWindow));
        QCOMPARE(cell(model, 0, QuotaModel::SourceColumn, Qt::DisplayRole).toString(),
                 QStringLiteral("Local estimate"));
        QCOMPARE(cell(model, 0, QuotaModel::UsedColumn).toDouble(), 2 * kHour);
        QCOMPARE(cell(model, 0, QuotaModel::ProjectedColumn).toDouble(), 3 * kHour);
        QCOMPARE(cell(model, 0, QuotaModel::TotalColumn).toDouble(), 30 * kHour);
        QCOMPARE(cell(model, 1, QuotaModel::UsedColumn).toDouble(), 0.0);
        QCOMPARE(cell(model, 1, QuotaModel::TotalColumn).toDouble(), 20 * kHour);
        QVERIFY(cell(model, 0, QuotaModel::UsedColumn, QuotaModel::SummaryRole)
                    .toString()
                    .contains(QStringLiteral("no quota data from Kaggle")));
        QCOMPARE(model.refreshTime(), QuotaForecast::nextFallbackRefresh(kNow));

        // A larger fallback total recomputes from the same inputs: only GPU remaining and
        // total move.
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QSignalSpy updated(&model, &QuotaModel::updated);
        QuotaForecast::Settings settings = model.settings();
        settings.fallbackGpuTotalSeconds = 40 * kHour;
        model.setSettings(settings);
        QCOMPARE(describe(changed),
                 (QStringList{QStringLiteral("0:2-3:DR"), QStringLiteral("0:0-7:ST")}));
        QCOMPARE(updated.count(), 1);
        QCOMPARE(cell(model, 0, QuotaModel::TotalColumn).toDouble(), 40 * kHour);
    }

    void settingsBeforeUpdateDoNotForecast()
    {
        QuotaModel model;
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QSignalSpy updated(&model, &QuotaModel::updated);
        QuotaForecast::Settings settings;
        settings.fallbackTpuTotalSeconds = 5 * kHour;
        model.setSettings(settings);
        QCOMPARE(changed.count(), 0);
        QCOMPARE(updated.count(), 0);
        QCOMPARE(model.settings().fallbackTpuTotalSeconds, 5 * kHour);
        QVERIFY(!model.forecast(Accelerator::Tpu));
    }

    void burnDownFromSnapshots()
    {
        QuotaModel model;
        const auto snap = [](const QDateTime &at, double gpuUsedH) {
            return QuotaSnapshot{at, stats(gpuUsedH)};
        };
        // Out of order, and one from last week's window that must not show.
        const QList<QuotaSnapshot> snapshots{snap(kNow.addSecs(-3 * 3600), 9.5),
                                             snap(kNow.addDays(-2), 4), snap(kNow.addDays(-5), 25),
                                             snap(kNow.addDays(-1), 7)};
        model.setSnapshots(snapshots);
        const QuotaForecast::Input in = input(stats(10), {{Accelerator::Gpu, 6 * kHour}});
        model.update(in);

        const QuotaForecast::BurnDown b = model.burnDown(Accelerator::Gpu);
        QCOMPARE(b.actual, (QList<QuotaForecast::BurnPoint>{{kNow.addDays(-2), 26},
                                                            {kNow.addDays(-1), 23},
                                                            {kNow.addSecs(-3 * 3600), 20.5}}));
        QVERIFY(b.forecast.size() >= 2);
        QCOMPARE(b.forecast.constFirst().at, kNow);
        QCOMPARE(b.forecast.constFirst().remainingHours, 20.0);
        QCOMPARE(b.forecast.constLast().at, kSaturday);
        QCOMPARE(b.forecast.constLast().remainingHours, 14.0);

        const QuotaForecast::BurnDown tpu = model.burnDown(Accelerator::Tpu);
        QCOMPARE(tpu.actual.size(), 3);
        QCOMPARE(tpu.actual.constFirst().remainingHours, 18.0);
        QCOMPARE(tpu.forecast.constLast().remainingHours, 18.0);
    }

    void clearMakesRowsUnknown()
    {
        QuotaModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.update(input(stats()));
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        model.clear();
        QCOMPARE(describe(changed),
                 (QStringList{QStringLiteral("0:0-7:*"), QStringLiteral("1:0-7:*")}));
        QCOMPARE(cell(model, 1, 0, QuotaModel::KnownRole).toBool(), false);
        QVERIFY(!model.forecast(Accelerator::Gpu));
        model.clear();
        QCOMPARE(changed.count(), 2);
    }

    // --- QuotaUsageModel --------------------------------------------------------------------

    void usagePerRunAndChain()
    {
        QList<SessionRecord> sessions{
            session(1, 10, kT4, KernelStatus::Running),
            session(2, 20, kTpu, KernelStatus::Complete),
            session(3, 30, kT4, KernelStatus::Complete, 5),
            session(4, 40, QString(), KernelStatus::Complete), // CPU: not billed
        };
        QList<StatusEvent> events{
            ev(1, KernelStatus::Running, -120),  ev(2, KernelStatus::Running, -180),
            ev(2, KernelStatus::Complete, -120), ev(3, KernelStatus::Running, -60),
            ev(3, KernelStatus::Complete, -30),  ev(4, KernelStatus::Running, -60),
        };

        QuotaUsageModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setNames({{10, QStringLiteral("bert finetune")}, {30, QStringLiteral("llama")}});
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        model.update(sessions, events, kNow);
        QCOMPARE(resets.count(), 1);
        QCOMPARE(model.rowCount(), 4);

        const auto text = [&](int row, int column) {
            return cell(model, row, column, Qt::DisplayRole).toString();
        };
        const auto seconds = [&](int row, int column) {
            return cell(model, row, column, QuotaUsageModel::RawRole).toDouble();
        };
        QCOMPARE(text(0, QuotaUsageModel::NameColumn), QStringLiteral("bert finetune"));
        QCOMPARE(text(1, QuotaUsageModel::NameColumn), QStringLiteral("Run 20"));
        QCOMPARE(text(2, QuotaUsageModel::NameColumn), QStringLiteral("llama"));
        QCOMPARE(text(3, QuotaUsageModel::NameColumn), QStringLiteral("Chain 5"));
        QCOMPARE(seconds(0, QuotaUsageModel::GpuColumn), 2 * kHour);
        QCOMPARE(seconds(0, QuotaUsageModel::TpuColumn), 0.0);
        QCOMPARE(seconds(1, QuotaUsageModel::TpuColumn), 1 * kHour);
        QCOMPARE(seconds(2, QuotaUsageModel::GpuColumn), 0.5 * kHour);
        QCOMPARE(seconds(3, QuotaUsageModel::GpuColumn), 0.5 * kHour);
        QCOMPARE(text(2, QuotaUsageModel::GpuColumn), QStringLiteral("0.5 h"));
        QCOMPARE(cell(model, 3, 0, QuotaUsageModel::KindRole).toInt(),
                 int(QuotaUsageModel::Kind::Chain));
        QCOMPARE(cell(model, 3, 0, QuotaUsageModel::IdRole).toLongLong(), 5);
        QCOMPARE(model.rowOf(QuotaUsageModel::Kind::Run, 30), 2);
        QCOMPARE(model.rowOf(QuotaUsageModel::Kind::Run, 40), -1);

        // Half an hour later only the running session's run has moved.
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        model.update(sessions, events, kNow.addSecs(1800));
        QCOMPARE(resets.count(), 1);
        QCOMPARE(changed.count(), 1);
        QCOMPARE(changed.at(0).at(0).toModelIndex(), model.index(0, QuotaUsageModel::GpuColumn));
        QCOMPARE(changed.at(0).at(1).toModelIndex(), model.index(0, QuotaUsageModel::TpuColumn));
        QCOMPARE(seconds(0, QuotaUsageModel::GpuColumn), 2.5 * kHour);

        // Clipped to a window that began an hour ago.
        model.update(sessions, events, kNow, kNow.addSecs(-3600));
        QCOMPARE(seconds(0, QuotaUsageModel::GpuColumn), 1 * kHour);
        QCOMPARE(seconds(1, QuotaUsageModel::TpuColumn), 0.0);
        QCOMPARE(changed.count(), 3); // rows 0 and 1; run 30 and chain 5 are inside the window

        // Renaming touches only the renamed row's name.
        changed.clear();
        model.setNames({{10, QStringLiteral("bert finetune")},
                        {20, QStringLiteral("vit on tpu")},
                        {30, QStringLiteral("llama")}});
        QCOMPARE(changed.count(), 1);
        QCOMPARE(changed.at(0).at(0).toModelIndex(), model.index(1, QuotaUsageModel::NameColumn));
        QCOMPARE(text(1, QuotaUsageModel::NameColumn), QStringLiteral("vit on tpu"));
        model.setNames({{10, QStringLiteral("bert finetune")},
                        {20, QStringLiteral("vit on tpu")},
                        {30, QStringLiteral("llama")}});
        QCOMPARE(changed.count(), 1);

        // A new run is a different set of rows.
        sessions.append(session(5, 50, kT4, KernelStatus::Queued));
        model.update(sessions, events, kNow);
        QCOMPARE(resets.count(), 2);
        QCOMPARE(model.rowCount(), 5);
        QCOMPARE(model.rowOf(QuotaUsageModel::Kind::Run, 50), 3);
    }
};

QTEST_GUILESS_MAIN(TestQuotaModel)
#include "tst_quotamodel.moc"
