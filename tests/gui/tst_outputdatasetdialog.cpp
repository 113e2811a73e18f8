// The Output -> Dataset dialog with real widgets against the simulator over loopback: the
// output list and the pattern, a hostile name refused and shown, a new dataset that reaches
// READY, defaults prefilled the second time (one click makes a new version), cancel keeping
// the .part file for a resume, and per-field errors (validation and a taken slug).

#include "detailsfixture.h"
#include "outputdatasetdialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDirIterator>
#include <QFileInfo>
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
#include <QTest>
#include <QTreeWidget>

#include <csignal>
#include <sys/resource.h>

using namespace kd;
using kd::test::DetailsFixture;

namespace {

template <typename T> T *child(QWidget *root, const char *name)
{
    auto *w = root->findChild<T *>(QString::fromLatin1(name));
    if (!w)
        qWarning("no child %s", name);
    return w;
}

QStringList partFiles(const QString &dir)
{
    QStringList out;
    QDirIterator it(dir, {QStringLiteral("*.part")}, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext())
        out << it.next();
    return out;
}

void setText(QLineEdit *edit, const QString &text)
{
    edit->selectAll();
    QTest::keyClick(edit, Qt::Key_Delete);
    QTest::keyClicks(edit, text);
}

const QStringList kEpoch1 = {QStringLiteral("checkpoint-epoch1/model.safetensors"),
                             QStringLiteral("checkpoint-epoch1/optimizer.pt"),
                             QStringLiteral("checkpoint-epoch1/trainer_state.json")};

/// The first transferFinished of a dialog after it is made.
struct Finished
{
    std::optional<Result<QString>> got;
    QMetaObject::Connection connection;
    explicit Finished(OutputDatasetDialog *dialog)
    {
        connection = QObject::connect(dialog, &OutputDatasetDialog::transferFinished,
                                      [this](const Result<QString> &r) {
                                          if (!got)
                                              got.emplace(r);
                                      });
    }
    ~Finished() { QObject::disconnect(connection); }
    Result<QString> result() const { return got ? *got : Result<QString>(QString()); }
};

} // namespace

class TestOutputDatasetDialog : public QObject
{
    Q_OBJECT

    std::unique_ptr<DetailsFixture> m_fx;
    RunId m_run = 0;

    std::unique_ptr<OutputDatasetDialog> open()
    {
        auto dialog = std::make_unique<OutputDatasetDialog>(m_fx->deck.get(), m_run);
        OutputToDataset::Options o;
        o.dataDir = m_fx->dir.path();
        o.pollInitialMs = 20;
        o.pollMaxMs = 100;
        o.processingTimeoutMs = 20'000;
        dialog->setTransferOptions(o);
        // The frozen clock moves only when we say: let Kaggle "process" the upload.
        connect(dialog.get(), &OutputDatasetDialog::transferStateChanged, this,
                [this](OutputToDataset::State s) {
                    if (s == OutputToDataset::State::Processing)
                        m_fx->sim->advance(10);
                });
        dialog->show();
        if (!QTest::qWaitForWindowExposed(dialog.get()))
            qWarning("the dialog was not exposed");
        if (!QTest::qWaitFor([&] { return !dialog->outputNames().isEmpty(); }, 20'000))
            qWarning("the outputs were not listed");
        return dialog;
    }

    bool waitFinished(OutputDatasetDialog *dialog, const Finished &f, int ms = 60'000)
    {
        Q_UNUSED(dialog);
        return QTest::qWaitFor([&] { return f.got.has_value(); }, ms);
    }

    static QString resultText(OutputDatasetDialog *dialog)
    {
        return child<QLabel>(dialog, "outputDatasetResult")->text();
    }

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        // A write past RLIMIT_FSIZE must fail with EFBIG, not kill the test (full disk).
        std::signal(SIGXFSZ, SIG_IGN);
    }
    void init()
    {
        kd::test::usePalette(false);
        m_fx = std::make_unique<DetailsFixture>();
        QVERIFY(m_fx->setUp());
        m_fx->sim->advance(24 * 3600); // every run is over, with its outputs
        m_run = m_fx->watch("alice/bert-imdb");
        QVERIFY(m_run);
        QVERIFY(QTest::qWaitFor([&] { return m_fx->hasSession(m_run); }, 10'000));
        QTRY_COMPARE_WITH_TIMEOUT(m_fx->status(m_run), KernelStatus::Complete, 10'000);
    }
    void cleanup()
    {
        m_fx->tearDown();
        m_fx.reset();
    }

    void listsOutputsAndSelectsByPattern()
    {
        auto dialog = open();
        QCOMPARE(dialog->outputNames().size(), 7);
        auto *files = child<QTreeWidget>(dialog.get(), "outputDatasetFiles");
        QCOMPARE(files->topLevelItemCount(), 7);
        // Every file is offered, checked, with the size unknown until downloaded.
        for (int i = 0; i < files->topLevelItemCount(); ++i) {
            QVERIFY(files->topLevelItem(i)->flags() & Qt::ItemIsUserCheckable);
            QCOMPARE(files->topLevelItem(i)->checkState(0), Qt::Checked);
            QCOMPARE(files->topLevelItem(i)->text(1), QStringLiteral("—"));
        }
        QCOMPARE(dialog->checkedNames().size(), 7);
        auto *summary = child<QLabel>(dialog.get(), "outputDatasetSummary");
        QVERIFY2(summary->text().contains(u"7 of 7"), qPrintable(summary->text()));
        QVERIFY(kd::test::saveScreenshot(dialog.get(), QStringLiteral("output-dataset.png")));

        auto *pattern = child<QLineEdit>(dialog.get(), "outputDatasetPattern");
        pattern->setFocus();
        QTest::keyClicks(pattern, QStringLiteral("checkpoint-epoch1/**"));
        QCOMPARE(dialog->checkedNames(), kEpoch1);
        QVERIFY2(summary->text().contains(u"3 of 7"), qPrintable(summary->text()));
        // The pattern is what the request carries, so it is what is remembered.
        QCOMPARE(dialog->request().selection.mode, OutputSelection::Mode::Glob);
        QCOMPARE(dialog->request().selection.pattern, QStringLiteral("checkpoint-epoch1/**"));

        // A checkbox changed by hand turns the selection into explicit names.
        QTreeWidgetItem *submission =
            files->findItems(QStringLiteral("submission.csv"), Qt::MatchExactly).value(0);
        QVERIFY(submission);
        submission->setCheckState(0, Qt::Checked);
        QCOMPARE(dialog->checkedNames().size(), 4);
        QCOMPARE(dialog->request().selection.mode, OutputSelection::Mode::Names);

        QTest::mouseClick(child<QPushButton>(dialog.get(), "outputDatasetNone"), Qt::LeftButton);
        QVERIFY(dialog->checkedNames().isEmpty());
        // Nothing chosen: Start says so, and nothing is sent.
        m_fx->sim->clearRequests();
        QTest::mouseClick(child<QPushButton>(dialog.get(), "outputDatasetStart"), Qt::LeftButton);
        auto *selectionError = child<QLabel>(dialog.get(), "outputDatasetSelectionError");
        QVERIFY(selectionError->isVisible());
        QVERIFY(dialog->job() == nullptr);

        QTest::mouseClick(child<QPushButton>(dialog.get(), "outputDatasetAll"), Qt::LeftButton);
        QCOMPARE(dialog->checkedNames().size(), 7);
        QVERIFY(pattern->text().isEmpty());
        QCOMPARE(dialog->request().selection.mode, OutputSelection::Mode::All);
    }

    void newDatasetReachesReadyAndDefaultsMakeTheSecondTimeOneClick()
    {
        {
            auto dialog = open();
            auto *pattern = child<QLineEdit>(dialog.get(), "outputDatasetPattern");
            pattern->setFocus();
            QTest::keyClicks(pattern, QStringLiteral("checkpoint-epoch1/**"));
            setText(child<QLineEdit>(dialog.get(), "outputDatasetTitle"),
                    QStringLiteral("BERT IMDB epoch one"));
            setText(child<QLineEdit>(dialog.get(), "outputDatasetSlug"),
                    QStringLiteral("bert-imdb-gui"));
            Finished finished(dialog.get());
            QTest::mouseClick(child<QPushButton>(dialog.get(), "outputDatasetStart"),
                              Qt::LeftButton);
            QVERIFY(child<QPushButton>(dialog.get(), "outputDatasetCancel")->isEnabled());
            QVERIFY(waitFinished(dialog.get(), finished));
            const auto result = finished.result();
            QVERIFY2(result.ok(), qPrintable(resultText(dialog.get())));
            QCOMPARE(*result, QStringLiteral("alice/bert-imdb-gui"));
            QCOMPARE(m_fx->sim->datasetStatus("alice/bert-imdb-gui"), std::string("READY"));
            QCOMPARE(m_fx->sim->datasetVersionCount("alice/bert-imdb-gui"), 1);

            QVERIFY2(resultText(dialog.get()).contains(u"alice/bert-imdb-gui"),
                     qPrintable(resultText(dialog.get())));
            QVERIFY(resultText(dialog.get()).contains(u"READY"));
            QCOMPARE(dialog->readyRef(), QStringLiteral("alice/bert-imdb-gui"));
            const QString log =
                child<QPlainTextEdit>(dialog.get(), "outputDatasetLog")->toPlainText();
            for (const char *step : {"3 of 7 files chosen", "Downloaded", "Uploaded", "Done"})
                QVERIFY2(log.contains(QString::fromLatin1(step)), qPrintable(log));
            // The sizes of the copied files are known now.
            auto *files = child<QTreeWidget>(dialog.get(), "outputDatasetFiles");
            for (const QString &name : kEpoch1) {
                QTreeWidgetItem *item = files->findItems(name, Qt::MatchExactly).value(0);
                QVERIFY(item);
                QVERIFY2(!item->text(1).isEmpty() && item->text(1) != QStringLiteral("—"),
                         qPrintable(item->text(1)));
            }
            auto *bar = child<QProgressBar>(dialog.get(), "outputDatasetProgress");
            QCOMPARE(bar->value(), bar->maximum());
            QVERIFY(
                kd::test::saveScreenshot(dialog.get(), QStringLiteral("output-dataset-ready.png")));
        }

        // Second time: everything prefilled, the focus on Start; one click makes a version.
        auto dialog = open();
        auto *start = child<QPushButton>(dialog.get(), "outputDatasetStart");
        QCOMPARE(dialog->focusWidget(), start);
        QVERIFY(child<QRadioButton>(dialog.get(), "outputDatasetNewVersion")->isChecked());
        QCOMPARE(child<QLineEdit>(dialog.get(), "outputDatasetRef")->text(),
                 QStringLiteral("alice/bert-imdb-gui"));
        QVERIFY(!child<QLineEdit>(dialog.get(), "outputDatasetNotes")->text().isEmpty());
        QCOMPARE(child<QLineEdit>(dialog.get(), "outputDatasetPattern")->text(),
                 QStringLiteral("checkpoint-epoch1/**"));
        QCOMPARE(dialog->checkedNames(), kEpoch1);
        QVERIFY(kd::test::saveScreenshot(dialog.get(),
                                         QStringLiteral("output-dataset-second-time.png")));
        Finished finished(dialog.get());
        QTest::keyClick(dialog.get(), Qt::Key_Return); // the default button: Start
        QVERIFY(waitFinished(dialog.get(), finished));
        QVERIFY2(finished.result().ok(), qPrintable(resultText(dialog.get())));
        QCOMPARE(m_fx->sim->datasetVersionCount("alice/bert-imdb-gui"), 2);
        QVERIFY(resultText(dialog.get()).contains(u"READY"));
    }

    void hostileNameIsRefusedAndShown()
    {
        auto dialog = open();
        QList<OutputFile> outputs;
        const QStringList names = dialog->outputNames();
        // Real signed URLs behind the hostile names (the simulator refuses them in scenarios).
        std::optional<Result<QList<OutputFile>>> listed;
        OutputToDataset lister(m_fx->client.get(), {});
        connect(&lister, &OutputToDataset::outputsListed,
                [&](const Result<QList<OutputFile>> &r) { listed.emplace(r); });
        lister.listOutputs(KernelRef{QStringLiteral("alice"), QStringLiteral("bert-imdb")});
        QTRY_VERIFY_WITH_TIMEOUT(listed.has_value(), 20'000);
        QVERIFY(listed->ok());
        outputs = listed->value();
        const QUrl url = outputs.first().url;
        outputs << OutputFile{url, QStringLiteral("../evil.txt")}
                << OutputFile{url, QStringLiteral("/tmp/evil-absolute.txt")};
        dialog->setOutputs(outputs);

        auto *refused = child<QLabel>(dialog.get(), "outputDatasetRefused");
        QVERIFY(refused->isVisible());
        QVERIFY2(refused->text().contains(u"../evil.txt"), qPrintable(refused->text()));
        QVERIFY(refused->text().contains(u"/tmp/evil-absolute.txt"));
        auto *files = child<QTreeWidget>(dialog.get(), "outputDatasetFiles");
        QTreeWidgetItem *evil =
            files->findItems(QStringLiteral("../evil.txt"), Qt::MatchExactly).value(0);
        QVERIFY(evil);
        QVERIFY(!(evil->flags() & Qt::ItemIsUserCheckable));
        QVERIFY(!(evil->flags() & Qt::ItemIsEnabled));
        QCOMPARE(evil->text(1), QStringLiteral("refused"));
        QVERIFY(!dialog->checkedNames().contains(QStringLiteral("../evil.txt")));
        QCOMPARE(dialog->checkedNames().size(), 7);
        QVERIFY(
            kd::test::saveScreenshot(dialog.get(), QStringLiteral("output-dataset-refused.png")));

        // "Everything" still copies only the safe files; the refused ones stay listed.
        setText(child<QLineEdit>(dialog.get(), "outputDatasetSlug"),
                QStringLiteral("bert-safe-only"));
        auto *folder = child<QLineEdit>(dialog.get(), "outputDatasetFolder");
        const QString work = m_fx->dir.filePath(QStringLiteral("work/inner"));
        setText(folder, work);
        Finished finished(dialog.get());
        QTest::mouseClick(child<QPushButton>(dialog.get(), "outputDatasetStart"), Qt::LeftButton);
        QVERIFY(waitFinished(dialog.get(), finished));
        QVERIFY2(finished.result().ok(), qPrintable(resultText(dialog.get())));
        QCOMPARE(m_fx->sim->datasetStatus("alice/bert-safe-only"), std::string("READY"));
        QCOMPARE(dialog->job()->files().size(), 7);
        QVERIFY(refused->isVisible());
        QVERIFY(refused->text().contains(u"../evil.txt"));
        QVERIFY(!QFileInfo::exists(m_fx->dir.filePath(QStringLiteral("work/evil.txt"))));
        QVERIFY(!QFileInfo::exists(QStringLiteral("/tmp/evil-absolute.txt")));
        QDirIterator it(work, QDir::Files, QDirIterator::Subdirectories);
        while (it.hasNext())
            QVERIFY2(!it.next().contains(u"evil"), qPrintable(it.filePath()));
        Q_UNUSED(names);
    }

    void cancelKeepsThePartFileAndStartResumes()
    {
        auto dialog = open();
        // Every download breaks off half-way and each resume waits, so the first file sits as
        // a .part for a while.
        sim::Faults faults;
        faults.truncateDownload = 1.0;
        faults.latencyMs = 300;
        faults.onlyPaths = {"/blob/"};
        m_fx->sim->setFaults(faults);
        auto *pattern = child<QLineEdit>(dialog.get(), "outputDatasetPattern");
        pattern->setFocus();
        QTest::keyClicks(pattern, QStringLiteral("checkpoint-epoch1/**"));
        setText(child<QLineEdit>(dialog.get(), "outputDatasetSlug"),
                QStringLiteral("bert-cancelled"));
        Finished finished(dialog.get());
        QTest::mouseClick(child<QPushButton>(dialog.get(), "outputDatasetStart"), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(dialog->job() && !dialog->job()->workDir().isEmpty() &&
                                     !partFiles(dialog->job()->workDir()).isEmpty(),
                                 20'000);
        const QString work = dialog->job()->workDir();
        QTRY_VERIFY_WITH_TIMEOUT(QFileInfo(partFiles(work).first()).size() > 0, 20'000);
        QCOMPARE(dialog->job()->state(), OutputToDataset::State::Downloading);
        auto *status = child<QLabel>(dialog.get(), "outputDatasetStatus");
        QVERIFY2(status->text().contains(u"Downloading"), qPrintable(status->text()));
        auto *cancel = child<QPushButton>(dialog.get(), "outputDatasetCancel");
        QVERIFY(cancel->isEnabled());
        QVERIFY(kd::test::saveScreenshot(dialog.get(),
                                         QStringLiteral("output-dataset-downloading.png")));
        QTest::mouseClick(cancel, Qt::LeftButton);
        QVERIFY(waitFinished(dialog.get(), finished));
        QCOMPARE(finished.result().error().kind, ApiError::Kind::Cancelled);
        QVERIFY2(resultText(dialog.get()).contains(u".part"), qPrintable(resultText(dialog.get())));
        QVERIFY(resultText(dialog.get()).contains(u"resume"));
        QCOMPARE(partFiles(work).size(), 1);
        QVERIFY(!cancel->isEnabled());
        // The folder is kept in the form, so Start resumes.
        QCOMPARE(QDir::fromNativeSeparators(
                     child<QLineEdit>(dialog.get(), "outputDatasetFolder")->text()),
                 work);
        QVERIFY(
            kd::test::saveScreenshot(dialog.get(), QStringLiteral("output-dataset-cancelled.png")));

        m_fx->sim->setFaults({});
        Finished again(dialog.get());
        QTest::mouseClick(child<QPushButton>(dialog.get(), "outputDatasetStart"), Qt::LeftButton);
        QVERIFY(waitFinished(dialog.get(), again));
        QVERIFY2(again.result().ok(), qPrintable(resultText(dialog.get())));
        QCOMPARE(dialog->job()->workDir(), work);
        QVERIFY(child<QPlainTextEdit>(dialog.get(), "outputDatasetLog")
                    ->toPlainText()
                    .contains(u"Resuming"));
        QCOMPARE(partFiles(work), QStringList());
        QCOMPARE(m_fx->sim->datasetStatus("alice/bert-cancelled"), std::string("READY"));
    }

    void attachesTheDatasetToAKernelAndCommitsIt()
    {
        auto dialog = open();
        auto *pattern = child<QLineEdit>(dialog.get(), "outputDatasetPattern");
        pattern->setFocus();
        QTest::keyClicks(pattern, QStringLiteral("submission.csv"));
        QCOMPARE(dialog->checkedNames(), QStringList{QStringLiteral("submission.csv")});
        setText(child<QLineEdit>(dialog.get(), "outputDatasetSlug"),
                QStringLiteral("bert-predictions"));
        auto *attach = child<QCheckBox>(dialog.get(), "outputDatasetAttach");
        auto *kernel = child<QComboBox>(dialog.get(), "outputDatasetAttachKernel");
        QVERIFY(!kernel->isEnabled());
        QTest::mouseClick(attach, Qt::LeftButton);
        QVERIFY(attach->isChecked());
        QVERIFY(kernel->isEnabled());
        QCOMPARE(kernel->currentText(), QStringLiteral("alice/bert-imdb"));
        std::optional<std::pair<bool, QString>> attached;
        connect(dialog.get(), &OutputDatasetDialog::attachFinished, this,
                [&](bool ok, const QString &message) { attached.emplace(ok, message); });
        Finished finished(dialog.get());
        QTest::mouseClick(child<QPushButton>(dialog.get(), "outputDatasetStart"), Qt::LeftButton);
        QVERIFY(waitFinished(dialog.get(), finished));
        QVERIFY2(finished.result().ok(), qPrintable(resultText(dialog.get())));
        QTRY_VERIFY_WITH_TIMEOUT(attached.has_value(), 20'000);
        QVERIFY2(attached->first, qPrintable(attached->second));
        const auto sent =
            QJsonDocument::fromJson(
                QByteArray::fromStdString(m_fx->sim->lastSaveKernelRequest("alice/bert-imdb")))
                .object();
        QVERIFY(sent.value(u"datasetDataSources")
                    .toArray()
                    .contains(QJsonValue(QStringLiteral("alice/bert-predictions"))));
        QVERIFY2(resultText(dialog.get()).contains(u"Committed alice/bert-imdb"),
                 qPrintable(resultText(dialog.get())));
        QVERIFY(child<QPlainTextEdit>(dialog.get(), "outputDatasetLog")
                    ->toPlainText()
                    .contains(u"Attaching alice/bert-predictions"));
        QVERIFY(
            kd::test::saveScreenshot(dialog.get(), QStringLiteral("output-dataset-attached.png")));
    }

    void creationErrorIsExplained()
    {
        auto dialog = open();
        sim::Faults faults;
        faults.http5xx = 1.0;
        faults.onlyPaths = {"CreateDataset"};
        m_fx->sim->setFaults(faults);
        auto *pattern = child<QLineEdit>(dialog.get(), "outputDatasetPattern");
        pattern->setFocus();
        QTest::keyClicks(pattern, QStringLiteral("submission.csv"));
        setText(child<QLineEdit>(dialog.get(), "outputDatasetSlug"),
                QStringLiteral("server-broke"));
        Finished finished(dialog.get());
        QTest::mouseClick(child<QPushButton>(dialog.get(), "outputDatasetStart"), Qt::LeftButton);
        QVERIFY(waitFinished(dialog.get(), finished));
        QVERIFY(!finished.result().ok());
        const QString text = resultText(dialog.get());
        QVERIFY2(text.contains(u"Creating alice/server-broke failed"), qPrintable(text));
        QVERIFY2(text.contains(u"not attached to any dataset"), qPrintable(text));
        QCOMPARE(child<QLabel>(dialog.get(), "outputDatasetStatus")->text(),
                 QStringLiteral("Failed"));
        QVERIFY(child<QPushButton>(dialog.get(), "outputDatasetStart")->isEnabled());
        QCOMPARE(m_fx->sim->datasetStatus("alice/server-broke"), std::string());
        QVERIFY(kd::test::saveScreenshot(dialog.get(),
                                         QStringLiteral("output-dataset-create-failed.png")));
    }

    void fullDiskIsExplainedAndTheFolderKept()
    {
        auto dialog = open();
        auto *pattern = child<QLineEdit>(dialog.get(), "outputDatasetPattern");
        pattern->setFocus();
        QTest::keyClicks(pattern, QStringLiteral("checkpoint-epoch1/**"));
        setText(child<QLineEdit>(dialog.get(), "outputDatasetSlug"), QStringLiteral("full-disk"));
        const QString work = m_fx->dir.filePath(QStringLiteral("full"));
        setText(child<QLineEdit>(dialog.get(), "outputDatasetFolder"), work);
        Finished finished(dialog.get());
        {
            // Writes past 40 kB fail with EFBIG, as on a full disk: the first file is 69 kB.
            rlimit saved{};
            QVERIFY(getrlimit(RLIMIT_FSIZE, &saved) == 0);
            rlimit limited = saved;
            limited.rlim_cur = 40'000;
            if (setrlimit(RLIMIT_FSIZE, &limited) != 0)
                QSKIP("cannot lower RLIMIT_FSIZE here");
            QTest::mouseClick(child<QPushButton>(dialog.get(), "outputDatasetStart"),
                              Qt::LeftButton);
            const bool done = waitFinished(dialog.get(), finished);
            setrlimit(RLIMIT_FSIZE, &saved);
            QVERIFY(done);
        }
        QVERIFY(!finished.result().ok());
        QCOMPARE(finished.result().error().kind, ApiError::Kind::Io);
        const QString text = resultText(dialog.get());
        QVERIFY2(text.contains(u"disk full"), qPrintable(text));
        QVERIFY2(text.contains(u"Nothing was uploaded"), qPrintable(text));
        QVERIFY2(text.contains(u"resume"), qPrintable(text));
        QCOMPARE(QDir::fromNativeSeparators(
                     child<QLineEdit>(dialog.get(), "outputDatasetFolder")->text()),
                 work);
        QCOMPARE(partFiles(work).size(), 1);
        QVERIFY(
            kd::test::saveScreenshot(dialog.get(), QStringLiteral("output-dataset-disk-full.png")));

        // Space again: Start resumes in the same folder.
        Finished again(dialog.get());
        QTest::mouseClick(child<QPushButton>(dialog.get(), "outputDatasetStart"), Qt::LeftButton);
        QVERIFY(waitFinished(dialog.get(), again));
        QVERIFY2(again.result().ok(), qPrintable(resultText(dialog.get())));
        QCOMPARE(partFiles(work), QStringList());
        QCOMPARE(m_fx->sim->datasetStatus("alice/full-disk"), std::string("READY"));
    }

    void errorsAreShownPerField()
    {
        auto dialog = open();
        // Validation as the CLI does it, before any request.
        setText(child<QLineEdit>(dialog.get(), "outputDatasetTitle"), QStringLiteral("abc"));
        setText(child<QLineEdit>(dialog.get(), "outputDatasetSlug"), QStringLiteral("x"));
        m_fx->sim->clearRequests();
        QTest::mouseClick(child<QPushButton>(dialog.get(), "outputDatasetStart"), Qt::LeftButton);
        auto *titleError = child<QLabel>(dialog.get(), "outputDatasetTitleError");
        auto *slugError = child<QLabel>(dialog.get(), "outputDatasetSlugError");
        QVERIFY(titleError->isVisible());
        QVERIFY(slugError->isVisible());
        QVERIFY(!child<QLabel>(dialog.get(), "outputDatasetLicenseError")->isVisible());
        QVERIFY(dialog->job() == nullptr);
        QTest::qWait(50);
        QCOMPARE(m_fx->sim->requests().size(), size_t(0));
        // The focus goes to the first field in error.
        QCOMPARE(dialog->focusWidget(), child<QLineEdit>(dialog.get(), "outputDatasetSlug"));
        QVERIFY(
            kd::test::saveScreenshot(dialog.get(), QStringLiteral("output-dataset-invalid.png")));

        // A slug that is taken (alice/imdb-reviews exists): refused before any download, said
        // under the slug field.
        setText(child<QLineEdit>(dialog.get(), "outputDatasetTitle"),
                QStringLiteral("IMDB reviews again"));
        setText(child<QLineEdit>(dialog.get(), "outputDatasetSlug"),
                QStringLiteral("imdb-reviews"));
        QVERIFY(!titleError->isVisible());
        Finished finished(dialog.get());
        QTest::mouseClick(child<QPushButton>(dialog.get(), "outputDatasetStart"), Qt::LeftButton);
        QVERIFY(waitFinished(dialog.get(), finished));
        QVERIFY(!finished.result().ok());
        QVERIFY(slugError->isVisible());
        QVERIFY2(slugError->text().contains(u"already in use", Qt::CaseInsensitive),
                 qPrintable(slugError->text()));
        QVERIFY2(resultText(dialog.get()).contains(u"alice/imdb-reviews"),
                 qPrintable(resultText(dialog.get())));
        QCOMPARE(m_fx->sim->datasetVersionCount("alice/imdb-reviews"), 1);
        int blobs = 0;
        for (const auto &r : m_fx->sim->requests())
            blobs += r.path.find("/blob/") != std::string::npos;
        QCOMPARE(blobs, 0);
        QVERIFY(kd::test::saveScreenshot(dialog.get(),
                                         QStringLiteral("output-dataset-slug-taken.png")));
    }
};

QTEST_MAIN(TestOutputDatasetDialog)
#include "tst_outputdatasetdialog.moc"
