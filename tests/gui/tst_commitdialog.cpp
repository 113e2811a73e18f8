// The commit and persistence dialogs with real widgets against the simulator over loopback:
// what a commit sends, per-field errors (folder, live validation, the server), the GPU limit
// and the commit queue, commits of watched runs, and the Files persistence mode.

#include "commitdialog.h"
#include "commitqueue.h"
#include "commitservice.h"
#include "detailsfixture.h"
#include "persistence.h"
#include "persistencedialog.h"
#include "quotamodel.h"
#include "runtablemodel.h"

#include <QComboBox>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTest>

using namespace kd;
using kd::test::DetailsFixture;

namespace {

QString kernelDir(const char *name)
{
    return QStringLiteral(KD_TEST_DATA_DIR "/kernels/") + QLatin1StringView(name);
}

template <typename T> T *child(QWidget *root, const char *name)
{
    return root->findChild<T *>(QString::fromLatin1(name));
}

QJsonObject parseObject(const std::string &text)
{
    return QJsonDocument::fromJson(QByteArray::fromStdString(text)).object();
}

bool shown(QLabel *label)
{
    return label && label->isVisible() && !label->text().isEmpty();
}

} // namespace

class TestCommitDialog : public QObject
{
    Q_OBJECT

    std::unique_ptr<DetailsFixture> m_fx;

    int saveKernelRequests() const
    {
        int n = 0;
        for (const auto &r : m_fx->sim->requests())
            n += r.path.find("SaveKernel") != std::string::npos;
        return n;
    }
    bool inRunTable(RunId run) const
    {
        RunTableModel *model = m_fx->deck->runModel();
        for (int row = 0; row < model->rowCount(); ++row) {
            if (model->index(row, 0).data(RunTableModel::RunIdRole).value<RunId>() == run)
                return true;
        }
        return false;
    }
    /// Watches a kernel and waits until its session and metadata are known.
    RunId settled(const char *ref, KernelStatus status)
    {
        const RunId id = m_fx->watch(ref);
        if (!id)
            return 0;
        const bool ok = QTest::qWaitFor(
            [&] {
                const RunState &s = m_fx->state(id);
                return s.session && s.session->status == status && s.run.title != s.run.ref.slug;
            },
            10'000);
        return ok ? id : 0;
    }
    static void show(QDialog *dialog)
    {
        dialog->show();
        if (!QTest::qWaitForWindowExposed(dialog))
            qWarning("the dialog was not exposed");
    }
    static void selectShape(CommitDialog &dialog, const QString &shape)
    {
        QComboBox *combo = dialog.acceleratorCombo();
        combo->setFocus();
        // Through the keyboard, as a user picks an item: Home, then Down to the shape.
        QTest::keyClick(combo, Qt::Key_Home);
        const int target = combo->findData(shape);
        for (int i = 0; i < target; ++i)
            QTest::keyClick(combo, Qt::Key_Down);
    }

private slots:
    void initTestCase() { kd::test::usePalette(false); }

    void init()
    {
        m_fx = std::make_unique<DetailsFixture>();
        QVERIFY(m_fx->setUp());
    }
    void cleanup()
    {
        m_fx->tearDown();
        m_fx.reset();
    }

    void commitFromFolderSendsTheEditedFields()
    {
        CommitDialog dialog(m_fx->deck.get(), std::nullopt);
        show(&dialog);
        QVERIFY(dialog.openFolderButton()->isVisible());
        QVERIFY(!dialog.commitButton()->isEnabled());
        QVERIFY(dialog.loadFolder(kernelDir("good_script")));
        QVERIFY(dialog.commitButton()->isEnabled());
        QCOMPARE(dialog.acceleratorCombo()->currentData().toString(),
                 QStringLiteral("NvidiaTeslaT4"));
        QCOMPARE(child<QLineEdit>(&dialog, "slugEdit")->text(),
                 QStringLiteral("alice/deck-script-run"));
        QCOMPARE(child<QPlainTextEdit>(&dialog, "datasetSourcesEdit")->toPlainText(),
                 QStringLiteral("alice/imdb-reviews"));
        // The quota effect, with the numbers and the refresh time from Kaggle's quota.
        QTRY_VERIFY2_WITH_TIMEOUT(dialog.quotaLabel()->text().contains(u"remain until"),
                                  qPrintable(dialog.quotaLabel()->text()), 10'000);
        const auto forecast = m_fx->deck->quotaModel()->forecast(Accelerator::Gpu);
        QVERIFY(forecast && forecast->refreshTime.isValid());
        QVERIFY2(dialog.quotaLabel()->text().contains(
                     forecast->refreshTime.toUTC().toString(QStringLiteral("yyyy-MM-dd"))),
                 qPrintable(dialog.quotaLabel()->text()));
        QVERIFY(dialog.quotaLabel()->text().contains(u"up to 12 h of GPU"));

        selectShape(dialog, QStringLiteral("NvidiaL4"));
        QCOMPARE(dialog.acceleratorCombo()->currentData().toString(), QStringLiteral("NvidiaL4"));
        QSpinBox *timeout = child<QSpinBox>(&dialog, "timeoutSpin");
        timeout->setFocus();
        timeout->selectAll();
        QTest::keyClicks(timeout, QStringLiteral("90"));
        QCOMPARE(timeout->value(), 90);
        QVERIFY2(dialog.quotaLabel()->text().contains(u"up to 1.5 h of GPU"),
                 qPrintable(dialog.quotaLabel()->text()));
        QTest::mouseClick(child<QRadioButton>(&dialog, "runAllRadio"), Qt::LeftButton);
        QVERIFY(kd::test::saveScreenshot(&dialog, QStringLiteral("commit-dialog.png")));

        QSignalSpy committed(&dialog, &CommitDialog::committed);
        QTest::mouseClick(dialog.commitButton(), Qt::LeftButton);
        // While pushing: inputs disabled, progress shown (the answer needs the event loop).
        QVERIFY(dialog.isBusy());
        QVERIFY(!dialog.commitButton()->isEnabled());
        QVERIFY(!dialog.acceleratorCombo()->isEnabled());
        QVERIFY(!dialog.openFolderButton()->isEnabled());
        QVERIFY(child<QProgressBar>(&dialog, "commitProgress")->isVisible());
        QVERIFY(dialog.statusLabel()->text().contains(u"Pushing alice/deck-script-run"));
        QTRY_COMPARE_WITH_TIMEOUT(committed.count(), 1, 10'000);
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QVERIFY(!dialog.isVisible());
        const auto receipt = committed.first().first().value<CommitReceipt>();
        QCOMPARE(receipt.ref, QStringLiteral("alice/deck-script-run"));

        const QJsonObject sent =
            parseObject(m_fx->sim->lastSaveKernelRequest("alice/deck-script-run"));
        QCOMPARE(sent.value(u"machineShape").toString(), QStringLiteral("NvidiaL4"));
        QCOMPARE(sent.value(u"sessionTimeoutSeconds").toInt(), 5400);
        QCOMPARE(sent.value(u"enableGpu").toBool(), true);
        QCOMPARE(sent.value(u"enableInternet").toBool(true), false);
        QCOMPARE(sent.value(u"isPrivate").toBool(), true);
        QCOMPARE(sent.value(u"datasetDataSources").toArray(),
                 QJsonArray{QStringLiteral("alice/imdb-reviews")});
        QCOMPARE(m_fx->sim->kernelStatus("alice/deck-script-run"), std::string("QUEUED"));

        // The run appears in the table, tracked as a pushed session.
        QVERIFY(receipt.runId);
        QVERIFY(inRunTable(receipt.runId));
        QVERIFY(m_fx->state(receipt.runId).session->pushed);
        QCOMPARE(m_fx->state(receipt.runId).session->machineShape, QStringLiteral("NvidiaL4"));
    }

    void quotaEffectWarnsWhenTheRunMayNotFit()
    {
        // Little GPU quota left, and its refresh is far away.
        QFile file(QStringLiteral(KD_TEST_DATA_DIR "/scenarios/basic.json"));
        QVERIFY(file.open(QIODevice::ReadOnly));
        QJsonObject world = QJsonDocument::fromJson(file.readAll()).object();
        QJsonObject quota = world.value(u"quota").toObject();
        quota.insert(QStringLiteral("refreshTime"),
                     QDateTime::currentDateTimeUtc().addDays(6).toString(Qt::ISODateWithMs));
        QJsonObject gpu = quota.value(u"gpu").toObject();
        gpu.insert(QStringLiteral("usedSeconds"), 100'800); // 2 h of 30 h left
        quota.insert(QStringLiteral("gpu"), gpu);
        world.insert(QStringLiteral("quota"), quota);
        std::string error;
        QVERIFY2(m_fx->sim->loadScenarioJson(QJsonDocument(world).toJson().toStdString(), &error),
                 error.c_str());
        m_fx->deck->monitor()->stop();
        m_fx->deck->monitor()->start(); // polls the quota again

        CommitDialog dialog(m_fx->deck.get(), std::nullopt);
        show(&dialog);
        QVERIFY(dialog.loadFolder(kernelDir("good_script")));
        QTRY_VERIFY2_WITH_TIMEOUT(dialog.quotaLabel()->text().contains(u"2 h remain"),
                                  qPrintable(dialog.quotaLabel()->text()), 10'000);
        QCOMPARE(dialog.quotaLabel()->property("fits").toBool(), false);
        QVERIFY(dialog.quotaLabel()->styleSheet().contains(
            theme::warningColor(dialog.palette()).name()));
        QVERIFY(kd::test::saveScreenshot(&dialog, QStringLiteral("commit-dialog-quota.png")));
        // A one-hour timeout fits in what remains.
        QSpinBox *timeout = child<QSpinBox>(&dialog, "timeoutSpin");
        timeout->setFocus();
        timeout->selectAll();
        QTest::keyClicks(timeout, QStringLiteral("60"));
        QVERIFY2(dialog.quotaLabel()->text().contains(u"up to 1 h of GPU"),
                 qPrintable(dialog.quotaLabel()->text()));
        QCOMPARE(dialog.quotaLabel()->property("fits").toBool(), true);
        QVERIFY(dialog.quotaLabel()->styleSheet().isEmpty());
    }

    void folderErrorsArePerField_data()
    {
        QTest::addColumn<QString>("folder");
        QTest::addColumn<int>("field");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("broken metadata") << kernelDir("broken_metadata")
                                         << int(CommitField::Metadata) << QStringLiteral("line 6");
        QTest::newRow("missing code file") << kernelDir("missing_code") << int(CommitField::Code)
                                           << QStringLiteral("does_not_exist.py");
        QTest::newRow("unknown machine shape")
            << kernelDir("unknown_shape") << int(CommitField::Accelerator)
            << QStringLiteral("NvidiaGTX1080");
    }
    void folderErrorsArePerField()
    {
        QFETCH(QString, folder);
        QFETCH(int, field);
        QFETCH(QString, mentions);
        m_fx->sim->clearRequests();
        CommitDialog dialog(m_fx->deck.get(), std::nullopt);
        show(&dialog);
        QVERIFY(!dialog.loadFolder(folder));
        QLabel *label = dialog.errorLabel(CommitField(field));
        QVERIFY(label);
        QVERIFY2(shown(label), QTest::currentDataTag());
        QVERIFY2(label->text().contains(mentions), qPrintable(label->text()));
        // Exactly one row says something: the one the problem is about.
        int rows = 0;
        for (QLabel *l : dialog.findChildren<QLabel *>()) {
            if (l->objectName().startsWith(u"commitError_") && shown(l))
                ++rows;
        }
        QCOMPARE(rows, 1);
        QVERIFY(!dialog.commitButton()->isEnabled());
        QTest::mouseClick(dialog.commitButton(), Qt::LeftButton);
        if (CommitField(field) == CommitField::Code)
            QVERIFY(kd::test::saveScreenshot(&dialog, QStringLiteral("commit-dialog-error.png")));
        QTest::qWait(200);
        QCOMPARE(saveKernelRequests(), 0);
        QVERIFY(dialog.isVisible());

        // A good folder afterwards clears the error.
        QVERIFY(dialog.loadFolder(kernelDir("good_script")));
        QVERIFY(!shown(label));
        QVERIFY(dialog.commitButton()->isEnabled());
    }

    void validationIsLiveAndPerField()
    {
        CommitDialog dialog(m_fx->deck.get(), std::nullopt);
        show(&dialog);
        QVERIFY(dialog.loadFolder(kernelDir("good_script")));
        QPlainTextEdit *datasets = child<QPlainTextEdit>(&dialog, "datasetSourcesEdit");
        datasets->setFocus();
        datasets->moveCursor(QTextCursor::End);
        QTest::keyClick(datasets, Qt::Key_Return);
        QTest::keyClicks(datasets, QStringLiteral("not-a-ref"));
        QLabel *datasetError = dialog.errorLabel(CommitField::DatasetSources);
        QVERIFY(shown(datasetError));
        QVERIFY(datasetError->text().contains(u"not-a-ref"));
        QVERIFY(!dialog.commitButton()->isEnabled());

        QSpinBox *timeout = child<QSpinBox>(&dialog, "timeoutSpin");
        timeout->setFocus();
        timeout->selectAll();
        QTest::keyClicks(timeout, QString::number(13 * 60));
        QLabel *timeoutError = dialog.errorLabel(CommitField::Timeout);
        QVERIFY(shown(timeoutError));
        QVERIFY2(timeoutError->text().contains(u"12 hours"), qPrintable(timeoutError->text()));
        QVERIFY(!shown(dialog.errorLabel(CommitField::Accelerator)));

        // Fixing one leaves the other.
        datasets->setFocus();
        for (int i = 0; i < int(qstrlen("not-a-ref")) + 1; ++i)
            QTest::keyClick(datasets, Qt::Key_Backspace);
        QVERIFY(!shown(datasetError));
        QVERIFY(shown(timeoutError));
        QVERIFY(!dialog.commitButton()->isEnabled());
        // CPU has the same 12 h cap; a 9 h TPU cap is tighter still.
        selectShape(dialog, QStringLiteral("TpuV5E8"));
        QVERIFY(timeoutError->text().contains(u"9 hours"));
        timeout->setFocus();
        timeout->selectAll();
        QTest::keyClicks(timeout, QString::number(9 * 60));
        QVERIFY(!shown(timeoutError));
        QVERIFY(dialog.commitButton()->isEnabled());
        QVERIFY(dialog.quotaLabel()->text().contains(u"9 h of TPU"));
        QCOMPARE(saveKernelRequests(), 0);
    }

    void serverFieldErrorsArePerField()
    {
        // A Kaggle that refuses unknown sources instead of dropping them.
        QFile file(QStringLiteral(KD_TEST_DATA_DIR "/scenarios/basic.json"));
        QVERIFY(file.open(QIODevice::ReadOnly));
        QJsonObject world = QJsonDocument::fromJson(file.readAll()).object();
        QJsonObject options = world.value(u"options").toObject();
        options.insert(QStringLiteral("rejectInvalidSources"), true);
        world.insert(QStringLiteral("options"), options);
        std::string error;
        QVERIFY2(m_fx->sim->loadScenarioJson(QJsonDocument(world).toJson().toStdString(), &error),
                 error.c_str());

        CommitDialog dialog(m_fx->deck.get(), std::nullopt);
        show(&dialog);
        QVERIFY(dialog.loadFolder(kernelDir("good_script")));
        QPlainTextEdit *datasets = child<QPlainTextEdit>(&dialog, "datasetSourcesEdit");
        datasets->setFocus();
        datasets->moveCursor(QTextCursor::End);
        QTest::keyClick(datasets, Qt::Key_Return);
        QTest::keyClicks(datasets, QStringLiteral("alice/no-such-dataset"));
        QPlainTextEdit *kernels = child<QPlainTextEdit>(&dialog, "kernelSourcesEdit");
        kernels->setFocus();
        QTest::keyClicks(kernels, QStringLiteral("bob/secret-work"));
        QVERIFY(dialog.commitButton()->isEnabled());

        QSignalSpy committed(&dialog, &CommitDialog::committed);
        QTest::mouseClick(dialog.commitButton(), Qt::LeftButton);
        QLabel *datasetError = dialog.errorLabel(CommitField::DatasetSources);
        QLabel *kernelError = dialog.errorLabel(CommitField::KernelSources);
        QTRY_VERIFY_WITH_TIMEOUT(shown(datasetError), 10'000);
        QVERIFY2(datasetError->text().contains(u"alice/no-such-dataset"),
                 qPrintable(datasetError->text()));
        QVERIFY(!datasetError->text().contains(u"imdb-reviews"));
        QVERIFY(shown(kernelError));
        QVERIFY(kernelError->text().contains(u"bob/secret-work"));
        QVERIFY(!shown(dialog.errorLabel(CommitField::Accelerator)));
        QVERIFY(shown(dialog.statusLabel()));
        QVERIFY(dialog.statusLabel()->text().contains(u"nothing was committed"));
        QVERIFY(dialog.isVisible());
        QVERIFY(!dialog.isBusy());
        QCOMPARE(committed.count(), 0);
        QCOMPARE(m_fx->sim->kernelStatus("alice/deck-script-run"), std::string());
        QVERIFY(!m_fx->deck->monitor()->runByRef(*KernelRef::parse(u"alice/deck-script-run")));
        QVERIFY(
            kd::test::saveScreenshot(&dialog, QStringLiteral("commit-dialog-server-error.png")));
        kd::test::usePalette(true);
        QVERIFY(kd::test::saveScreenshot(&dialog,
                                         QStringLiteral("commit-dialog-server-error-dark.png")));
        kd::test::usePalette(false);

        // Editing a field clears the server's verdict on that field only.
        kernels->setFocus();
        kernels->selectAll();
        QTest::keyClick(kernels, Qt::Key_Delete);
        QVERIFY(!shown(kernelError));
        QVERIFY(shown(datasetError));
        QVERIFY(dialog.commitButton()->isEnabled());
    }

    void droppedSourcesAreShownAfterThePush()
    {
        // Kaggle's default: the push succeeds and unknown sources come back in invalid* lists.
        CommitDialog dialog(m_fx->deck.get(), std::nullopt);
        show(&dialog);
        QVERIFY(dialog.loadFolder(kernelDir("good_script")));
        QPlainTextEdit *datasets = child<QPlainTextEdit>(&dialog, "datasetSourcesEdit");
        datasets->setFocus();
        datasets->moveCursor(QTextCursor::End);
        QTest::keyClick(datasets, Qt::Key_Return);
        QTest::keyClicks(datasets, QStringLiteral("alice/no-such-dataset"));
        QSignalSpy committed(&dialog, &CommitDialog::committed);
        QTest::mouseClick(dialog.commitButton(), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(committed.count(), 1, 10'000);
        QVERIFY(dialog.isVisible());
        QLabel *datasetError = dialog.errorLabel(CommitField::DatasetSources);
        QVERIFY(shown(datasetError));
        QVERIFY(datasetError->text().contains(u"alice/no-such-dataset"));
        QVERIFY(dialog.statusLabel()->text().contains(u"Pushed version 1"));
        QVERIFY(!dialog.commitButton()->isVisible());
        QCOMPARE(m_fx->sim->kernelStatus("alice/deck-script-run"), std::string("QUEUED"));
        QPushButton *close = child<QPushButton>(&dialog, "commitCancelButton");
        QTest::mouseClick(close, Qt::LeftButton);
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
    }

    void gpuLimitQueuesThenDispatchesWhenASlotFrees()
    {
        m_fx->sim->setMaxGpuSessions(1);
        const RunId bert = settled("alice/bert-imdb", KernelStatus::Queued);
        QVERIFY(bert);
        CommitQueue *queue = m_fx->deck->commitQueue();
        QTRY_COMPARE(queue->activeGpuSessions(), 1);

        CommitDialog dialog(m_fx->deck.get(), std::nullopt);
        show(&dialog);
        QVERIFY(dialog.loadFolder(kernelDir("good_script")));
        QVERIFY(!dialog.queueButton()->isVisible());
        QTest::mouseClick(dialog.commitButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(dialog.queueButton()->isVisible(), 10'000);
        QLabel *limit = child<QLabel>(&dialog, "gpuLimitText");
        QVERIFY2(limit->text().contains(u"one GPU session at a time"), qPrintable(limit->text()));
        QVERIFY(limit->text().contains(u"by itself"));
        QVERIFY(dialog.isVisible());
        QVERIFY(dialog.commitButton()->isEnabled()); // switching to CPU would also do
        QCOMPARE(m_fx->sim->kernelStatus("alice/deck-script-run"), std::string());
        QVERIFY(kd::test::saveScreenshot(&dialog, QStringLiteral("commit-dialog-gpu-limit.png")));

        QSignalSpy queued(&dialog, &CommitDialog::queued);
        QSignalSpy dispatched(queue, &CommitQueue::dispatched);
        QTest::mouseClick(dialog.queueButton(), Qt::LeftButton);
        QCOMPARE(queued.count(), 1);
        QCOMPARE(queued.first().at(1).toString(), QStringLiteral("alice/deck-script-run"));
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QCOMPARE(queue->pendingCount(), 1);
        QCOMPARE(queue->items().first().id, queued.first().first().toLongLong());
        QCOMPARE(m_fx->store->queuedCommits().size(), 1);

        // bert-imdb starts, still holding the only slot; then it finishes and frees it.
        m_fx->sim->advance(15);
        QTRY_COMPARE_WITH_TIMEOUT(m_fx->status(bert), KernelStatus::Running, 10'000);
        QCOMPARE(dispatched.count(), 0);
        m_fx->sim->advance(200);
        QTRY_COMPARE_WITH_TIMEOUT(dispatched.count(), 1, 15'000);
        QCOMPARE(dispatched.first().first().toString(), QStringLiteral("alice/deck-script-run"));
        QCOMPARE(queue->pendingCount(), 0);
        QVERIFY(m_fx->store->queuedCommits().isEmpty());
        QCOMPARE(m_fx->sim->kernelStatus("alice/deck-script-run"), std::string("QUEUED"));
        const auto run =
            m_fx->deck->monitor()->runByRef(*KernelRef::parse(u"alice/deck-script-run"));
        QVERIFY(run);
        QVERIFY(inRunTable(*run));
    }

    void commitFromAWatchedRun()
    {
        const RunId id = settled("alice/titanic-baseline", KernelStatus::Complete);
        QVERIFY(id);
        CommitDialog dialog(m_fx->deck.get(), id);
        // Busy while the kernel is pulled (the answer needs the event loop).
        QVERIFY(dialog.isBusy());
        QVERIFY(!dialog.statusLabel()->isHidden());
        QVERIFY(dialog.statusLabel()->text().contains(u"Pulling alice/titanic-baseline"));
        QVERIFY(!dialog.commitButton()->isEnabled());
        QVERIFY(dialog.openFolderButton()->isHidden());
        show(&dialog);
        QTRY_VERIFY_WITH_TIMEOUT(!dialog.isBusy(), 10'000);
        QVERIFY(dialog.draft());
        QVERIFY(dialog.commitButton()->isEnabled());
        QVERIFY(child<QLineEdit>(&dialog, "slugEdit")->isReadOnly());
        QCOMPARE(dialog.acceleratorCombo()->currentData().toString(), QString());
        QVERIFY(dialog.quotaLabel()->text().contains(u"no GPU quota"));
        QVERIFY(child<QLabel>(&dialog, "persistenceLabel")->text().contains(u"No persistence"));

        selectShape(dialog, QStringLiteral("NvidiaTeslaT4"));
        QVERIFY(dialog.quotaLabel()->text().contains(u"12 h of GPU"));
        QSignalSpy committed(&dialog, &CommitDialog::committed);
        QTest::mouseClick(dialog.commitButton(), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(committed.count(), 1, 10'000);
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QCOMPARE(committed.first().first().value<CommitReceipt>().runId, id);
        const QJsonObject sent =
            parseObject(m_fx->sim->lastSaveKernelRequest("alice/titanic-baseline"));
        QCOMPARE(sent.value(u"machineShape").toString(), QStringLiteral("NvidiaTeslaT4"));
        QVERIFY(sent.contains(u"id"));
        QVERIFY(m_fx->state(id).session->pushed);
        QCOMPARE(m_fx->store->sessions(id).size(), 2);
    }

    void pullFailureIsShown()
    {
        const RunId id = m_fx->watch("alice/no-such-kernel");
        QVERIFY(id);
        CommitDialog dialog(m_fx->deck.get(), id);
        show(&dialog);
        QLabel *general = dialog.errorLabel(CommitField::General);
        QTRY_VERIFY_WITH_TIMEOUT(shown(general), 10'000);
        QVERIFY2(general->text().contains(u"alice/no-such-kernel"), qPrintable(general->text()));
        QVERIFY(!dialog.isBusy());
        QVERIFY(!dialog.commitButton()->isEnabled());
        QCOMPARE(saveKernelRequests(), 0);
    }

    void persistenceFilesOnlyCarriesTheSelfSource()
    {
        const RunId id = settled("alice/titanic-baseline", KernelStatus::Complete);
        QVERIFY(id);
        {
            PersistenceDialog dialog(m_fx->deck.get(), {id});
            show(&dialog);
            const QString notice = child<QLabel>(&dialog, "persistenceNotice")->text();
            QVERIFY(notice.contains(u"interactive sessions"));
            QVERIFY(notice.contains(u"public API cannot set"));
            QVERIFY(dialog.modeButton(id, PersistenceMode::None)->isChecked());
            QVERIFY(!dialog.mirrorLabel(id)->isVisible());

            QTest::mouseClick(dialog.modeButton(id, PersistenceMode::VariablesOnly),
                              Qt::LeftButton);
            QVERIFY(dialog.effectLabel(id)->text().contains(u"Not possible for committed runs"));
            QVERIFY(!dialog.mirrorLabel(id)->isVisible());

            QTest::mouseClick(dialog.modeButton(id, PersistenceMode::FilesOnly), Qt::LeftButton);
            QCOMPARE(dialog.selectedMode(id), PersistenceMode::FilesOnly);
            QVERIFY(dialog.effectLabel(id)->text().contains(u"/kaggle/input/<slug>"));
            QVERIFY(dialog.mirrorLabel(id)->isVisible());
            const QString folder = dialog.mirrorLabel(id)->property("folder").toString();
            QCOMPARE(folder, QDir(m_fx->deck->mirror()->mirrorRoot())
                                 .filePath(QStringLiteral("alice/titanic-baseline")));
            QVERIFY(kd::test::saveScreenshot(&dialog, QStringLiteral("persistence-dialog.png")));

            QSignalSpy changed(&dialog, &PersistenceDialog::persistenceChanged);
            QTest::mouseClick(dialog.saveButton(), Qt::LeftButton);
            QCOMPARE(changed.count(), 1);
            QCOMPARE(dialog.result(), int(QDialog::Accepted));
        }
        QCOMPARE(m_fx->state(id).run.settings.persistence, QStringLiteral("files"));
        // Stored: the SQLite file has it.
        bool stored = false;
        for (const WatchedRun &r : m_fx->store->runs())
            stored |= r.id == id && r.settings.persistence == u"files";
        QVERIFY(stored);
        {
            PersistenceDialog again(m_fx->deck.get(), {id});
            QVERIFY(again.modeButton(id, PersistenceMode::FilesOnly)->isChecked());
        }

        // The next commit carries the kernel itself in kernel_sources.
        CommitDialog commit(m_fx->deck.get(), id);
        show(&commit);
        QTRY_VERIFY_WITH_TIMEOUT(!commit.isBusy(), 10'000);
        const QString persistenceText = child<QLabel>(&commit, "persistenceLabel")->text();
        QVERIFY2(persistenceText.contains(u"Files only") &&
                     persistenceText.contains(u"/kaggle/input/titanic-baseline"),
                 qPrintable(persistenceText));
        QVERIFY(kd::test::saveScreenshot(&commit, QStringLiteral("commit-dialog-run.png")));
        QSignalSpy committed(&commit, &CommitDialog::committed);
        QTest::mouseClick(commit.commitButton(), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(committed.count(), 1, 10'000);
        const QJsonObject sent =
            parseObject(m_fx->sim->lastSaveKernelRequest("alice/titanic-baseline"));
        QCOMPARE(sent.value(u"kernelDataSources").toArray(),
                 QJsonArray{QStringLiteral("alice/titanic-baseline")});
    }

    void persistenceForSeveralRuns()
    {
        const RunId a = settled("alice/titanic-baseline", KernelStatus::Complete);
        const RunId b = settled("alice/failing-run", KernelStatus::Error);
        QVERIFY(a && b);
        PersistenceDialog dialog(m_fx->deck.get(), {a, b});
        show(&dialog);
        QCOMPARE(dialog.runs(), (QList<RunId>{a, b}));
        QTest::mouseClick(dialog.modeButton(b, PersistenceMode::VariablesAndFiles), Qt::LeftButton);
        QVERIFY(dialog.effectLabel(b)->text().contains(u"variables part is not possible"));
        QVERIFY(dialog.mirrorLabel(b)->isVisible());
        QVERIFY(kd::test::saveScreenshot(&dialog, QStringLiteral("persistence-dialog-two.png")));
        kd::test::usePalette(true);
        QVERIFY(kd::test::saveScreenshot(&dialog, QStringLiteral("persistence-dialog-dark.png")));
        kd::test::usePalette(false);
        QTest::mouseClick(dialog.saveButton(), Qt::LeftButton);
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QCOMPARE(m_fx->state(a).run.settings.persistence, QString());
        QCOMPARE(m_fx->state(b).run.settings.persistence, QStringLiteral("variables_files"));
    }
};

QTEST_MAIN(TestCommitDialog)
#include "tst_commitdialog.moc"
