#include "outputdatasetdialog.h"

#include "commitqueue.h"
#include "commitservice.h"
#include "deck.h"
#include "format.h"
#include "metadata.h"
#include "runmonitor.h"
#include "safepath.h"
#include "store.h"
#include "theme.h"

#include <QButtonGroup>
#include <QCheckBox>
#include <QComboBox>
#include <QDate>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QRegularExpression>
#include <QScrollBar>
#include <QSet>
#include <QStackedWidget>
#include <QTime>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace kd {

namespace {

enum Column { NameColumn, SizeColumn, ColumnCount };
constexpr int kRefusedRole = Qt::UserRole + 1;

/// A slug suggestion from a title or kernel slug: lower case, dashes, 6-50 characters.
QString slugFrom(const QString &text)
{
    QString s = text.toLower();
    s.replace(QRegularExpression(QStringLiteral("[^a-z0-9]+")), QStringLiteral("-"));
    s.remove(QRegularExpression(QStringLiteral("^-+|-+$")));
    if (s.size() > 50)
        s = s.left(50);
    while (s.size() < 6)
        s += QStringLiteral("-data");
    return s;
}

QLabel *makeErrorLabel(QWidget *parent, const QString &name)
{
    auto *l = new QLabel(parent);
    l->setObjectName(name);
    l->setWordWrap(true);
    l->setStyleSheet(
        QStringLiteral("QLabel { color: %1; }").arg(theme::dangerColor(parent->palette()).name()));
    l->hide();
    return l;
}

QString stateText(OutputToDataset::State s)
{
    using S = OutputToDataset::State;
    switch (s) {
    case S::Idle:
        return OutputDatasetDialog::tr("Ready to start");
    case S::Listing:
        return OutputDatasetDialog::tr("Listing the outputs…");
    case S::Downloading:
        return OutputDatasetDialog::tr("Downloading…");
    case S::Uploading:
        return OutputDatasetDialog::tr("Uploading…");
    case S::Creating:
        return OutputDatasetDialog::tr("Creating the dataset…");
    case S::Processing:
        return OutputDatasetDialog::tr("Waiting for Kaggle to process the files (READY)…");
    case S::Done:
        return OutputDatasetDialog::tr("Done");
    case S::Failed:
        return OutputDatasetDialog::tr("Failed");
    case S::Cancelled:
        return OutputDatasetDialog::tr("Cancelled");
    }
    return {};
}

} // namespace

struct OutputDatasetDialog::Private
{
    OutputDatasetDialog *q = nullptr;
    Deck *deck = nullptr;
    RunId run = 0;
    KernelRef source;
    QString kernelTitle;
    qint64 version = 0;
    OutputToDatasetDefaults defaults;
    bool hasDefaults = false;
    OutputToDataset::Options options;

    std::unique_ptr<OutputToDataset> lister;
    std::unique_ptr<OutputToDataset> job;
    QList<OutputFile> outputs;
    bool listed = false;
    bool updatingChecks = false;
    QString readyRef;

    // Files
    QLineEdit *pattern = nullptr;
    QTreeWidget *files = nullptr;
    QLabel *filesSummary = nullptr;
    QLabel *refused = nullptr;
    QLabel *selectionError = nullptr;

    // Target
    QRadioButton *newDataset = nullptr;
    QRadioButton *newVersion = nullptr;
    QStackedWidget *targetStack = nullptr;
    QLineEdit *title = nullptr;
    QLineEdit *slug = nullptr;
    QComboBox *license = nullptr;
    QCheckBox *isPrivate = nullptr;
    QLineEdit *datasetRef = nullptr;
    QLineEdit *notes = nullptr;
    QLabel *titleError = nullptr;
    QLabel *slugError = nullptr;
    QLabel *licenseError = nullptr;
    QLabel *refError = nullptr;
    QLabel *notesError = nullptr;

    // Folder and attach
    QLineEdit *folder = nullptr;
    QPushButton *browse = nullptr;
    QCheckBox *attach = nullptr;
    QComboBox *attachKernel = nullptr;
    QLabel *attachError = nullptr;

    // Progress
    QProgressBar *bar = nullptr;
    QLabel *status = nullptr;
    QPlainTextEdit *log = nullptr;
    QLabel *result = nullptr;
    QLabel *prefillHint = nullptr;

    QPushButton *start = nullptr;
    QPushButton *cancel = nullptr;
    QPushButton *close = nullptr;

    void build();
    QWidget *buildFiles();
    QWidget *buildTarget();
    void prefill();
    void listOutputs();
    void fillList();
    void applyPattern();
    void updateSummary();
    void clearErrors();
    bool showErrors(const QStringList &details);
    void setRunning(bool running);
    void appendLog(const QString &line);
    void onStart();
    void onProgress(qint64 done, qint64 total, int eta, const QString &text);
    void onFinished(const Result<QString> &ref);
    void attachAndCommit(const QString &ref);
    void setResult(const QString &text, const QColor &color);
    void updateSizes();
};

void OutputDatasetDialog::Private::build()
{
    q->setObjectName(QStringLiteral("outputDatasetDialog"));
    q->setWindowTitle(tr("Output → Dataset — %1").arg(source.toString()));
    q->setSizeGripEnabled(true);

    auto *intro = new QLabel(q);
    intro->setObjectName(QStringLiteral("outputDatasetIntro"));
    intro->setWordWrap(true);
    intro->setText(version > 0
                       ? tr("Copy output files of <b>%1</b> (version %2) into a Kaggle dataset, so "
                            "another run can mount them as input.")
                             .arg(source.toString().toHtmlEscaped())
                             .arg(version)
                       : tr("Copy output files of <b>%1</b> into a Kaggle dataset, so another run "
                            "can mount them as input.")
                             .arg(source.toString().toHtmlEscaped()));

    prefillHint = new QLabel(q);
    prefillHint->setObjectName(QStringLiteral("outputDatasetPrefillHint"));
    prefillHint->setWordWrap(true);
    prefillHint->setForegroundRole(QPalette::PlaceholderText);
    prefillHint->hide();

    auto *top = new QHBoxLayout;
    top->addWidget(buildFiles(), 3);
    top->addWidget(buildTarget(), 2);

    // Progress
    auto *progressBox = new QGroupBox(tr("Progress"), q);
    bar = new QProgressBar(progressBox);
    bar->setObjectName(QStringLiteral("outputDatasetProgress"));
    bar->setRange(0, 1000);
    bar->setValue(0);
    bar->setTextVisible(false);
    status = new QLabel(tr("Ready to start"), progressBox);
    status->setObjectName(QStringLiteral("outputDatasetStatus"));
    status->setWordWrap(true);
    log = new QPlainTextEdit(progressBox);
    log->setObjectName(QStringLiteral("outputDatasetLog"));
    log->setReadOnly(true);
    log->setMaximumBlockCount(2000);
    log->setPlaceholderText(tr("The steps of the transfer appear here."));
    log->setMinimumHeight(log->fontMetrics().lineSpacing() * 5);
    result = new QLabel(progressBox);
    result->setObjectName(QStringLiteral("outputDatasetResult"));
    result->setWordWrap(true);
    result->setTextFormat(Qt::RichText);
    result->setTextInteractionFlags(Qt::TextBrowserInteraction);
    result->setOpenExternalLinks(true);
    result->hide();
    auto *pl = new QVBoxLayout(progressBox);
    pl->addWidget(bar);
    pl->addWidget(status);
    pl->addWidget(log, 1);
    pl->addWidget(result);

    auto *buttons = new QDialogButtonBox(q);
    start = buttons->addButton(tr("&Start"), QDialogButtonBox::AcceptRole);
    start->setObjectName(QStringLiteral("outputDatasetStart"));
    start->setDefault(true);
    start->setAutoDefault(true);
    cancel = buttons->addButton(tr("Cancel &transfer"), QDialogButtonBox::ActionRole);
    cancel->setObjectName(QStringLiteral("outputDatasetCancel"));
    cancel->setToolTip(tr("Stops the transfer; partial downloads are kept as .part files so "
                          "Start resumes them."));
    cancel->setEnabled(false);
    close = buttons->addButton(QDialogButtonBox::Close);
    close->setObjectName(QStringLiteral("outputDatasetClose"));
    close->setAutoDefault(false);
    QObject::connect(start, &QPushButton::clicked, q, [this] { onStart(); });
    QObject::connect(cancel, &QPushButton::clicked, q, [this] {
        if (job && job->isRunning())
            job->cancel();
    });
    QObject::connect(close, &QPushButton::clicked, q, &QDialog::reject);

    auto *layout = new QVBoxLayout(q);
    layout->addWidget(intro);
    layout->addWidget(prefillHint);
    layout->addLayout(top, 3);
    layout->addWidget(progressBox, 2);
    layout->addWidget(buttons);
    q->resize(980, 760);
}

QWidget *OutputDatasetDialog::Private::buildFiles()
{
    auto *box = new QGroupBox(tr("Files"), q);
    auto *patternLabel = new QLabel(tr("&Pattern:"), box);
    pattern = new QLineEdit(box);
    pattern->setObjectName(QStringLiteral("outputDatasetPattern"));
    pattern->setPlaceholderText(tr("e.g. checkpoint-*/** — checks the matching files"));
    pattern->setToolTip(tr("A glob over the output names: * and ? stay inside one folder, ** "
                           "crosses folders, [abc] is a class. Empty: every file."));
    pattern->setClearButtonEnabled(true);
    patternLabel->setBuddy(pattern);
    auto *all = new QPushButton(tr("&All"), box);
    all->setObjectName(QStringLiteral("outputDatasetAll"));
    all->setAutoDefault(false);
    auto *none = new QPushButton(tr("&None"), box);
    none->setObjectName(QStringLiteral("outputDatasetNone"));
    none->setAutoDefault(false);
    auto *row = new QHBoxLayout;
    row->addWidget(patternLabel);
    row->addWidget(pattern, 1);
    row->addWidget(all);
    row->addWidget(none);

    files = new QTreeWidget(box);
    files->setObjectName(QStringLiteral("outputDatasetFiles"));
    files->setColumnCount(ColumnCount);
    files->setHeaderLabels({tr("Output file"), tr("Size")});
    files->headerItem()->setToolTip(SizeColumn,
                                    tr("Kaggle's list of outputs carries no sizes; a size shows "
                                       "once the file is downloaded"));
    files->setRootIsDecorated(false);
    files->setUniformRowHeights(true);
    files->setAlternatingRowColors(true);
    files->header()->setStretchLastSection(false);
    files->header()->setSectionResizeMode(NameColumn, QHeaderView::Stretch);
    files->header()->setSectionResizeMode(SizeColumn, QHeaderView::ResizeToContents);
    files->setMinimumHeight(files->fontMetrics().lineSpacing() * 8);
    filesSummary = new QLabel(tr("Listing the outputs…"), box);
    filesSummary->setObjectName(QStringLiteral("outputDatasetSummary"));
    filesSummary->setWordWrap(true);
    refused = makeErrorLabel(box, QStringLiteral("outputDatasetRefused"));
    refused->setTextInteractionFlags(Qt::TextSelectableByMouse);
    refused->setTextFormat(Qt::RichText);
    selectionError = makeErrorLabel(box, QStringLiteral("outputDatasetSelectionError"));

    QObject::connect(pattern, &QLineEdit::textChanged, q, [this] { applyPattern(); });
    QObject::connect(all, &QPushButton::clicked, q, [this] {
        const QSignalBlocker block(pattern);
        pattern->clear();
        applyPattern();
    });
    QObject::connect(none, &QPushButton::clicked, q, [this] {
        updatingChecks = true;
        for (int i = 0; i < files->topLevelItemCount(); ++i) {
            QTreeWidgetItem *item = files->topLevelItem(i);
            if (!item->data(NameColumn, kRefusedRole).toBool())
                item->setCheckState(NameColumn, Qt::Unchecked);
        }
        updatingChecks = false;
        updateSummary();
    });
    QObject::connect(files, &QTreeWidget::itemChanged, q, [this](QTreeWidgetItem *, int column) {
        if (!updatingChecks && column == NameColumn)
            updateSummary();
    });

    auto *layout = new QVBoxLayout(box);
    layout->addLayout(row);
    layout->addWidget(files, 1);
    layout->addWidget(filesSummary);
    layout->addWidget(refused);
    layout->addWidget(selectionError);
    return box;
}

QWidget *OutputDatasetDialog::Private::buildTarget()
{
    auto *box = new QGroupBox(tr("Target"), q);
    newDataset = new QRadioButton(tr("New &dataset"), box);
    newDataset->setObjectName(QStringLiteral("outputDatasetNewDataset"));
    newVersion = new QRadioButton(tr("New &version of an existing dataset"), box);
    newVersion->setObjectName(QStringLiteral("outputDatasetNewVersion"));
    auto *group = new QButtonGroup(box);
    group->addButton(newDataset);
    group->addButton(newVersion);
    newDataset->setChecked(true);

    targetStack = new QStackedWidget(box);
    // New dataset.
    auto *datasetPage = new QWidget(targetStack);
    auto *df = new QFormLayout(datasetPage);
    df->setContentsMargins(0, 0, 0, 0);
    df->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    title = new QLineEdit(datasetPage);
    title->setObjectName(QStringLiteral("outputDatasetTitle"));
    title->setPlaceholderText(tr("6 to 50 characters"));
    titleError = makeErrorLabel(datasetPage, QStringLiteral("outputDatasetTitleError"));
    slug = new QLineEdit(datasetPage);
    slug->setObjectName(QStringLiteral("outputDatasetSlug"));
    slug->setPlaceholderText(tr("6 to 50 characters, e.g. bert-imdb-checkpoint"));
    auto *slugRow = new QHBoxLayout;
    auto *owner = new QLabel(
        deck->client() ? deck->client()->credentials().username() + u'/' : QString(), datasetPage);
    owner->setForegroundRole(QPalette::PlaceholderText);
    slugRow->addWidget(owner);
    slugRow->addWidget(slug, 1);
    slugError = makeErrorLabel(datasetPage, QStringLiteral("outputDatasetSlugError"));
    license = new QComboBox(datasetPage);
    license->setObjectName(QStringLiteral("outputDatasetLicense"));
    license->setEditable(true);
    license->addItems(knownLicenses());
    license->setToolTip(tr("The licence name as `kaggle datasets create` takes it"));
    licenseError = makeErrorLabel(datasetPage, QStringLiteral("outputDatasetLicenseError"));
    isPrivate = new QCheckBox(tr("&Private (only you can see it)"), datasetPage);
    isPrivate->setObjectName(QStringLiteral("outputDatasetPrivate"));
    isPrivate->setChecked(true);
    auto *titleLabel = new QLabel(tr("&Title:"), datasetPage);
    titleLabel->setBuddy(title);
    auto *slugLabel = new QLabel(tr("S&lug:"), datasetPage);
    slugLabel->setBuddy(slug);
    auto *licenseLabel = new QLabel(tr("Li&cence:"), datasetPage);
    licenseLabel->setBuddy(license);
    df->addRow(titleLabel, title);
    df->addRow(QString(), titleError);
    df->addRow(slugLabel, slugRow);
    df->addRow(QString(), slugError);
    df->addRow(licenseLabel, license);
    df->addRow(QString(), licenseError);
    df->addRow(tr("Privacy:"), isPrivate);
    targetStack->addWidget(datasetPage);

    // New version.
    auto *versionPage = new QWidget(targetStack);
    auto *vf = new QFormLayout(versionPage);
    vf->setContentsMargins(0, 0, 0, 0);
    vf->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    datasetRef = new QLineEdit(versionPage);
    datasetRef->setObjectName(QStringLiteral("outputDatasetRef"));
    datasetRef->setPlaceholderText(tr("owner/dataset-slug"));
    refError = makeErrorLabel(versionPage, QStringLiteral("outputDatasetRefError"));
    notes = new QLineEdit(versionPage);
    notes->setObjectName(QStringLiteral("outputDatasetNotes"));
    notes->setPlaceholderText(tr("What changed in this version"));
    notesError = makeErrorLabel(versionPage, QStringLiteral("outputDatasetNotesError"));
    auto *refLabel = new QLabel(tr("Data&set:"), versionPage);
    refLabel->setBuddy(datasetRef);
    auto *notesLabel = new QLabel(tr("N&otes:"), versionPage);
    notesLabel->setBuddy(notes);
    vf->addRow(refLabel, datasetRef);
    vf->addRow(QString(), refError);
    vf->addRow(notesLabel, notes);
    vf->addRow(QString(), notesError);
    targetStack->addWidget(versionPage);

    QObject::connect(newVersion, &QRadioButton::toggled, q, [this](bool on) {
        targetStack->setCurrentIndex(on ? 1 : 0);
        clearErrors();
    });

    // Download folder.
    folder = new QLineEdit(box);
    folder->setObjectName(QStringLiteral("outputDatasetFolder"));
    const QString transfers =
        QDir::toNativeSeparators(QDir(deck->dataDir()).filePath(QStringLiteral("transfers")));
    folder->setPlaceholderText(tr("Default: a new folder in transfers/"));
    folder->setToolTip(tr("Where the files are downloaded before the upload (default: a new "
                          "folder under %1). Give the folder of an interrupted transfer to "
                          "resume it.")
                           .arg(transfers));
    browse = new QPushButton(tr("&Browse…"), box);
    browse->setAutoDefault(false);
    QObject::connect(browse, &QPushButton::clicked, q, [this] {
        const QString dir =
            QFileDialog::getExistingDirectory(q, tr("Download folder"), folder->text());
        if (!dir.isEmpty())
            folder->setText(QDir::toNativeSeparators(dir));
    });
    auto *folderLabel = new QLabel(tr("Download &folder:"), box);
    folderLabel->setBuddy(folder);
    auto *folderRow = new QHBoxLayout;
    folderRow->addWidget(folder, 1);
    folderRow->addWidget(browse);

    // Attach and commit.
    attach = new QCheckBox(tr("&Attach the dataset to this kernel and commit it:"), box);
    attach->setObjectName(QStringLiteral("outputDatasetAttach"));
    attach->setToolTip(tr("When the dataset is READY, it is added to the kernel's dataset "
                          "sources and the kernel is committed (Save & Run All)."));
    attachKernel = new QComboBox(box);
    attachKernel->setObjectName(QStringLiteral("outputDatasetAttachKernel"));
    attachKernel->setEditable(true);
    for (const WatchedRun &r : deck->store()->runs())
        attachKernel->addItem(r.ref.toString());
    attachKernel->setCurrentText(source.toString());
    attachKernel->setEnabled(false);
    attachError = makeErrorLabel(box, QStringLiteral("outputDatasetAttachError"));
    QObject::connect(attach, &QCheckBox::toggled, attachKernel, &QWidget::setEnabled);

    auto *layout = new QVBoxLayout(box);
    layout->addWidget(newDataset);
    layout->addWidget(newVersion);
    layout->addSpacing(4);
    layout->addWidget(targetStack);
    layout->addSpacing(8);
    layout->addWidget(folderLabel);
    layout->addLayout(folderRow);
    layout->addSpacing(8);
    layout->addWidget(attach);
    layout->addWidget(attachKernel);
    layout->addWidget(attachError);
    layout->addStretch(1);

    for (QLineEdit *e : {title, slug, datasetRef, notes})
        QObject::connect(e, &QLineEdit::textEdited, q, [this] { clearErrors(); });
    return box;
}

void OutputDatasetDialog::Private::prefill()
{
    defaults = OutputToDataset::loadDefaults(deck->store(), source);
    hasDefaults = !defaults.datasetSlug.isEmpty();
    const QString baseTitle = kernelTitle.isEmpty() ? source.slug : kernelTitle;
    QString suggestedTitle = tr("%1 output").arg(baseTitle).left(50);
    if (suggestedTitle.size() < 6)
        suggestedTitle = tr("Output of %1").arg(source.slug).left(50);
    title->setText(defaults.title.isEmpty() ? suggestedTitle : defaults.title);
    license->setCurrentText(defaults.license);
    isPrivate->setChecked(defaults.isPrivate);
    if (defaults.target == DatasetTargetKind::NewVersion) {
        newVersion->setChecked(true);
        datasetRef->setText(defaults.datasetSlug);
        slug->setText(slugFrom(source.slug + QStringLiteral("-output")));
    } else {
        newDataset->setChecked(true);
        slug->setText(defaults.datasetSlug.isEmpty()
                          ? slugFrom(source.slug + QStringLiteral("-output"))
                          : defaults.datasetSlug);
    }
    notes->setText(version > 0
                       ? tr("Outputs of %1 version %2").arg(source.toString()).arg(version)
                       : tr("Outputs of %1, %2")
                             .arg(source.toString(), QDate::currentDate().toString(Qt::ISODate)));
    if (defaults.selectionMode == OutputSelection::Mode::Glob)
        pattern->setText(defaults.pattern);
    if (hasDefaults) {
        prefillHint->setText(
            defaults.target == DatasetTargetKind::NewVersion
                ? tr("Prefilled from last time: a new version of %1. Press Enter to start.")
                      .arg(defaults.datasetSlug)
                : tr("Prefilled from last time. Press Enter to start."));
        prefillHint->show();
    }
}

void OutputDatasetDialog::Private::listOutputs()
{
    lister = std::make_unique<OutputToDataset>(deck->client(), options);
    QObject::connect(lister.get(), &OutputToDataset::outputsListed, q,
                     [this](const Result<QList<OutputFile>> &r) {
                         if (!r) {
                             filesSummary->setText(
                                 tr("The outputs could not be listed: %1").arg(r.error().message));
                             return;
                         }
                         q->setOutputs(*r);
                     });
    lister->listOutputs(source);
}

void OutputDatasetDialog::Private::fillList()
{
    updatingChecks = true;
    files->clear();
    QStringList refusedLines;
    for (const OutputFile &f : std::as_const(outputs)) {
        auto *item = new QTreeWidgetItem(files);
        QString shown = f.fileName;
        shown.replace(u'\n', QStringLiteral("\\n"));
        item->setText(NameColumn, shown);
        item->setData(NameColumn, Qt::UserRole, f.fileName);
        item->setText(SizeColumn, QStringLiteral("—"));
        item->setTextAlignment(SizeColumn, Qt::AlignRight | Qt::AlignVCenter);
        if (auto e = checkOutputName(f.fileName)) {
            // Never offered: a name that could write outside the download folder.
            item->setData(NameColumn, kRefusedRole, true);
            item->setFlags(item->flags() & ~(Qt::ItemIsUserCheckable | Qt::ItemIsEnabled));
            item->setText(SizeColumn, tr("refused"));
            item->setToolTip(NameColumn, e->message);
            item->setForeground(NameColumn, theme::dangerColor(q->palette()));
            item->setForeground(SizeColumn, theme::dangerColor(q->palette()));
            refusedLines << e->message.toHtmlEscaped();
        } else {
            item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
            item->setCheckState(NameColumn, Qt::Checked);
            item->setToolTip(NameColumn, f.fileName);
        }
    }
    updatingChecks = false;
    if (refusedLines.isEmpty()) {
        refused->hide();
    } else {
        refused->setText(tr("Refused (the name could write outside the download folder):<br>%1")
                             .arg(refusedLines.join(QStringLiteral("<br>"))));
        refused->show();
    }
    applyPattern();
}

void OutputDatasetDialog::Private::applyPattern()
{
    selectionError->hide();
    const QString p = pattern->text().trimmed();
    QSet<QString> matching;
    if (!p.isEmpty()) {
        OutputSelection s;
        s.mode = OutputSelection::Mode::Glob;
        s.pattern = p;
        const auto chosen = OutputToDataset::select(outputs, s);
        if (!chosen) {
            selectionError->setText(chosen.error().message);
            selectionError->show();
            return;
        }
        for (const OutputFile &f : *chosen)
            matching.insert(f.fileName);
    }
    updatingChecks = true;
    for (int i = 0; i < files->topLevelItemCount(); ++i) {
        QTreeWidgetItem *item = files->topLevelItem(i);
        if (item->data(NameColumn, kRefusedRole).toBool())
            continue;
        const bool on =
            p.isEmpty() || matching.contains(item->data(NameColumn, Qt::UserRole).toString());
        item->setCheckState(NameColumn, on ? Qt::Checked : Qt::Unchecked);
    }
    updatingChecks = false;
    updateSummary();
}

void OutputDatasetDialog::Private::updateSummary()
{
    if (!listed) {
        filesSummary->setText(tr("Listing the outputs…"));
        return;
    }
    if (outputs.isEmpty()) {
        filesSummary->setText(tr("%1 has no output files.").arg(source.toString()));
        return;
    }
    const int checked = int(q->checkedNames().size());
    qint64 bytes = 0;
    bool allKnown = true;
    if (job) {
        for (const TransferFile &f : job->files()) {
            if (f.size >= 0)
                bytes += f.size;
            else
                allKnown = false;
        }
    }
    QString text = tr("%1 of %2 files chosen").arg(checked).arg(outputs.size());
    if (job && !job->files().isEmpty() && allKnown)
        text += tr(" · %1 downloaded").arg(format::bytes(bytes));
    filesSummary->setText(text);
    selectionError->hide();
}

void OutputDatasetDialog::Private::updateSizes()
{
    if (!job)
        return;
    QHash<QString, qint64> sizes;
    for (const TransferFile &f : job->files())
        if (f.size >= 0)
            sizes.insert(f.name, f.size);
    for (int i = 0; i < files->topLevelItemCount(); ++i) {
        QTreeWidgetItem *item = files->topLevelItem(i);
        const auto it = sizes.constFind(item->data(NameColumn, Qt::UserRole).toString());
        if (it != sizes.cend())
            item->setText(SizeColumn, format::bytes(*it));
    }
}

void OutputDatasetDialog::Private::clearErrors()
{
    for (QLabel *l :
         {titleError, slugError, licenseError, refError, notesError, selectionError, attachError})
        l->hide();
}

bool OutputDatasetDialog::Private::showErrors(const QStringList &details)
{
    bool any = false;
    QWidget *first = nullptr;
    for (const QString &d : details) {
        const QString field = d.section(u':', 0, 0).trimmed();
        QString text = d.section(u':', 1).trimmed();
        // The CLI's messages name the metadata key ("id: ..."); the field is already clear.
        if (text.startsWith(u"id:", Qt::CaseInsensitive))
            text = text.mid(3).trimmed();
        QLabel *label = nullptr;
        QWidget *widget = nullptr;
        if (field == u"title") {
            label = titleError;
            widget = title;
        } else if (field == u"slug") {
            label = slugError;
            widget = slug;
        } else if (field == u"license") {
            label = licenseError;
            widget = license;
        } else if (field == u"datasetRef") {
            label = refError;
            widget = datasetRef;
        } else if (field == u"versionNotes") {
            label = notesError;
            widget = notes;
        } else if (field == u"selection") {
            label = selectionError;
            widget = files;
        }
        if (!label)
            continue;
        QString shown = text.isEmpty() ? d : text.left(1).toUpper() + text.mid(1);
        if (field == u"slug" && text.contains(u"already in use"))
            shown = tr("Already in use: choose another slug, or make a new version of "
                       "%1/%2 instead.")
                        .arg(deck->client()->credentials().username(), slug->text().trimmed());
        label->setText(shown);
        label->show();
        any = true;
        if (!first)
            first = widget;
    }
    if (first)
        first->setFocus();
    return any;
}

void OutputDatasetDialog::Private::setRunning(bool running)
{
    start->setEnabled(!running);
    cancel->setEnabled(running);
    close->setToolTip(running ? tr("Cancels the transfer (partial downloads are kept) and "
                                   "closes")
                              : QString());
    for (QWidget *w : std::initializer_list<QWidget *>{pattern, files, newDataset, newVersion,
                                                       targetStack, folder, browse, attach})
        w->setEnabled(!running);
    attachKernel->setEnabled(!running && attach->isChecked());
    if (running)
        cancel->setFocus();
}

void OutputDatasetDialog::Private::appendLog(const QString &line)
{
    // The job's lines carry their time already; the dialog's own ones get it here.
    static const QRegularExpression stamped(QStringLiteral("^\\d\\d:\\d\\d:\\d\\d "));
    log->appendPlainText(stamped.match(line).hasMatch()
                             ? line
                             : QTime::currentTime().toString(QStringLiteral("HH:mm:ss ")) + line);
    log->verticalScrollBar()->setValue(log->verticalScrollBar()->maximum());
}

void OutputDatasetDialog::Private::setResult(const QString &text, const QColor &color)
{
    result->setStyleSheet(QStringLiteral("QLabel { color: %1; }").arg(color.name()));
    result->setText(text);
    result->show();
}

void OutputDatasetDialog::Private::onStart()
{
    clearErrors();
    result->hide();
    const OutputToDatasetRequest r = q->request();
    if (r.selection.mode == OutputSelection::Mode::Names && r.selection.names.isEmpty()) {
        selectionError->setText(tr("Choose at least one file (checkbox or pattern)."));
        selectionError->show();
        files->setFocus();
        return;
    }
    if (auto e = OutputToDataset::validate(r)) {
        if (!showErrors(e->details))
            setResult(e->message, theme::dangerColor(q->palette()));
        return;
    }
    if (attach->isChecked() && !KernelRef::parse(attachKernel->currentText().trimmed())) {
        attachError->setText(tr("Give the kernel as owner/kernel-slug."));
        attachError->show();
        attachKernel->setFocus();
        return;
    }

    job = std::make_unique<OutputToDataset>(deck->client(), options);
    OutputToDataset *j = job.get();
    QObject::connect(j, &OutputToDataset::stateChanged, q, [this](OutputToDataset::State s) {
        status->setText(stateText(s));
        if (s == OutputToDataset::State::Creating || s == OutputToDataset::State::Processing)
            bar->setRange(0, 0);
        emit q->transferStateChanged(s);
    });
    QObject::connect(j, &OutputToDataset::progress, q,
                     [this](qint64 done, qint64 total, int eta, const QString &text) {
                         onProgress(done, total, eta, text);
                     });
    QObject::connect(j, &OutputToDataset::logged, q,
                     [this](const QString &line) { appendLog(line); });
    QObject::connect(j, &OutputToDataset::finished, q,
                     [this](const Result<QString> &ref) { onFinished(ref); });
    log->clear();
    bar->setRange(0, 1000);
    bar->setValue(0);
    setRunning(true);
    readyRef.clear();
    if (listed)
        j->start(r, outputs);
    else
        j->start(r);
}

void OutputDatasetDialog::Private::onProgress(qint64 done, qint64 total, int eta,
                                              const QString &text)
{
    if (total > 0) {
        bar->setRange(0, 1000);
        bar->setValue(int(std::min<qint64>(1000, done * 1000 / total)));
    } else {
        bar->setRange(0, 0);
    }
    QString line = text;
    QString amount = total > 0 ? tr("%1 of %2").arg(format::bytes(done), format::bytes(total))
                               : format::bytes(done);
    line += tr(" — %1 in all").arg(amount);
    if (eta >= 0)
        line += tr(" · about %1 left").arg(format::duration(eta));
    status->setText(line);
    updateSizes();
}

void OutputDatasetDialog::Private::onFinished(const Result<QString> &ref)
{
    setRunning(false);
    updateSizes();
    updateSummary();
    const QStringList refusedNow = job ? job->refusedNames() : QStringList();
    if (!refusedNow.isEmpty()) {
        QStringList lines;
        for (const QString &r : refusedNow)
            lines << r.toHtmlEscaped();
        refused->setText(tr("Refused (the name could write outside the download folder):<br>%1")
                             .arg(lines.join(QStringLiteral("<br>"))));
        refused->show();
    }
    if (ref) {
        readyRef = *ref;
        bar->setRange(0, 1000);
        bar->setValue(1000);
        status->setText(tr("Done"));
        const QString url =
            QStringLiteral("https://www.kaggle.com/datasets/") + QString(*ref).toHtmlEscaped();
        setResult(tr("✔ <b>%1</b> is READY — <a href=\"%2\">open on Kaggle</a>")
                      .arg(QString(*ref).toHtmlEscaped(), url),
                  QColor(theme::isDark(q->palette()) ? QColor(0x6c, 0xd0, 0x7a)
                                                     : QColor(0x1e, 0x7e, 0x34)));
        // Remembered so the next transfer is one click: the next one adds a version of
        // this dataset (a new dataset with the same slug would be refused as taken).
        const OutputToDatasetRequest r = q->request();
        OutputToDatasetDefaults d = OutputToDataset::defaultsFrom(r);
        d.license = r.target == DatasetTargetKind::NewDataset ? d.license : defaults.license;
        d.isPrivate = r.target == DatasetTargetKind::NewDataset ? d.isPrivate : defaults.isPrivate;
        if (r.target == DatasetTargetKind::NewVersion)
            d.title = defaults.title;
        d.target = DatasetTargetKind::NewVersion;
        d.datasetSlug = *ref;
        if (auto saved = OutputToDataset::saveDefaults(deck->store(), source, d); !saved)
            appendLog(tr("The choices could not be remembered: %1").arg(saved.error().message));
        close->setDefault(true);
        close->setFocus();
        emit q->transferFinished(ref);
        if (attach->isChecked())
            attachAndCommit(*ref);
        return;
    }

    const ApiError &e = ref.error();
    const QString dir = job ? job->workDir() : QString();
    if (e.kind == ApiError::Kind::Cancelled) {
        status->setText(tr("Cancelled"));
        bar->setRange(0, 1000);
        if (!dir.isEmpty()) {
            folder->setText(QDir::toNativeSeparators(dir));
            setResult(tr("Cancelled. The files downloaded so far, and partial ones as .part "
                         "files, are kept in %1. Start again with this folder to resume.")
                          .arg(QDir::toNativeSeparators(dir).toHtmlEscaped()),
                      theme::warningColor(q->palette()));
        } else {
            setResult(tr("Cancelled before anything was downloaded."),
                      theme::warningColor(q->palette()));
        }
    } else {
        status->setText(tr("Failed"));
        bar->setRange(0, 1000);
        bar->setValue(0);
        showErrors(e.details);
        QString text = e.message.toHtmlEscaped();
        if (e.kind != ApiError::Kind::Invalid && !dir.isEmpty() && QDir(dir).exists()) {
            // Keep the folder so Start resumes instead of downloading again.
            folder->setText(QDir::toNativeSeparators(dir));
            if (!e.message.contains(u"resume", Qt::CaseInsensitive))
                text += tr("<br>The downloaded files are kept in %1; Start again to resume.")
                            .arg(QDir::toNativeSeparators(dir).toHtmlEscaped());
        }
        setResult(text, theme::dangerColor(q->palette()));
    }
    emit q->transferFinished(ref);
}

void OutputDatasetDialog::Private::attachAndCommit(const QString &ref)
{
    const auto kernel = KernelRef::parse(attachKernel->currentText().trimmed());
    if (!kernel)
        return;
    appendLog(tr("Attaching %1 to the dataset sources of %2").arg(ref, kernel->toString()));
    QPointer<OutputDatasetDialog> guard(q);
    deck->commits()->prepareFromKernel(
        *kernel, [this, guard, ref, kernel = *kernel](Result<CommitDraft> draft) {
            if (!guard)
                return;
            const auto fail = [this](const QString &message) {
                appendLog(message);
                attachError->setText(message);
                attachError->show();
                emit q->attachFinished(false, message);
            };
            if (!draft) {
                fail(tr("%1 could not be pulled, so it was not committed: %2")
                         .arg(kernel.toString(), draft.error().message));
                return;
            }
            CommitDraft d = std::move(draft).value();
            if (!d.request.datasetDataSources.contains(ref, Qt::CaseInsensitive))
                d.request.datasetDataSources.append(ref);
            d.metadata.datasetSources = d.request.datasetDataSources;
            appendLog(tr("Committing %1 with %2 as input").arg(kernel.toString(), ref));
            deck->commits()->commit(d, [this, guard, d, kernel, fail](CommitOutcome outcome) {
                if (!guard)
                    return;
                if (outcome.ok()) {
                    const QString message =
                        tr("Committed %1 as version %2, with the dataset "
                           "attached")
                            .arg(outcome.receipt.ref.isEmpty() ? kernel.toString()
                                                               : outcome.receipt.ref)
                            .arg(outcome.receipt.versionNumber);
                    appendLog(message);
                    setResult(result->text() + QStringLiteral("<br>") + message.toHtmlEscaped(),
                              QColor(theme::isDark(q->palette()) ? QColor(0x6c, 0xd0, 0x7a)
                                                                 : QColor(0x1e, 0x7e, 0x34)));
                    emit q->attachFinished(true, message);
                    return;
                }
                if (outcome.status == CommitOutcome::Status::GpuLimitReached) {
                    const auto queued = deck->commitQueue()->enqueue(d, outcome.gpuSessionLimit);
                    if (queued) {
                        const QString message =
                            tr("Every GPU slot is busy: the commit of %1 is queued and goes out "
                               "when one frees up")
                                .arg(kernel.toString());
                        appendLog(message);
                        emit q->attachFinished(true, message);
                        return;
                    }
                    fail(tr("Every GPU slot is busy and the commit could not be queued: %1")
                             .arg(queued.error().message));
                    return;
                }
                QString message = outcome.error ? outcome.error->message : tr("unknown error");
                for (const FieldError &f : std::as_const(outcome.fieldErrors))
                    if (!message.contains(f.message))
                        message += QStringLiteral("; ") + f.message;
                fail(tr("The dataset is ready, but committing %1 failed: %2")
                         .arg(kernel.toString(), message));
            });
        });
}

OutputDatasetDialog::OutputDatasetDialog(Deck *deck, RunId run, QWidget *parent)
    : QDialog(parent), d(std::make_unique<Private>())
{
    d->q = this;
    d->deck = deck;
    d->run = run;
    d->options.dataDir = deck->dataDir();
    if (const auto r = deck->store()->run(run)) {
        d->source = r->ref;
        d->kernelTitle = r->title;
    }
    if (const auto s = deck->store()->latestSession(run))
        d->version = s->versionNumber;
    d->build();
    d->prefill();
    d->listOutputs();
    if (d->hasDefaults)
        d->start->setFocus();
    else
        d->title->setFocus();
}

void OutputDatasetDialog::reject()
{
    // Nothing runs on without the dialog: closing cancels, and says where the files are.
    if (d->job && d->job->isRunning())
        d->job->cancel();
    QDialog::reject();
}

OutputDatasetDialog::~OutputDatasetDialog()
{
    if (d->job && d->job->isRunning())
        d->job->cancel();
}

void OutputDatasetDialog::setOutputs(const QList<OutputFile> &outputs)
{
    d->outputs = outputs;
    d->listed = true;
    d->fillList();
    emit outputsLoaded();
}

QStringList OutputDatasetDialog::outputNames() const
{
    QStringList names;
    for (const OutputFile &f : std::as_const(d->outputs))
        names << f.fileName;
    return names;
}

QStringList OutputDatasetDialog::checkedNames() const
{
    QStringList names;
    for (int i = 0; i < d->files->topLevelItemCount(); ++i) {
        const QTreeWidgetItem *item = d->files->topLevelItem(i);
        if (!item->data(NameColumn, kRefusedRole).toBool() &&
            item->checkState(NameColumn) == Qt::Checked)
            names << item->data(NameColumn, Qt::UserRole).toString();
    }
    return names;
}

OutputToDatasetRequest OutputDatasetDialog::request() const
{
    OutputToDatasetRequest r;
    r.source = d->source;
    r.target =
        d->newVersion->isChecked() ? DatasetTargetKind::NewVersion : DatasetTargetKind::NewDataset;
    r.title = d->title->text().trimmed();
    r.slug = d->slug->text().trimmed();
    r.license = d->license->currentText().trimmed();
    r.isPrivate = d->isPrivate->isChecked();
    r.datasetRef = d->datasetRef->text().trimmed();
    r.versionNotes = d->notes->text().trimmed();
    r.workDir = QDir::fromNativeSeparators(d->folder->text().trimmed());
    // Refused names were shown and never checked; any the job finds are skipped and listed.
    r.skipUnsafeNames = true;

    const QStringList checked = checkedNames();
    QStringList safe;
    for (int i = 0; i < d->files->topLevelItemCount(); ++i) {
        const QTreeWidgetItem *item = d->files->topLevelItem(i);
        if (!item->data(NameColumn, kRefusedRole).toBool())
            safe << item->data(NameColumn, Qt::UserRole).toString();
    }
    const QString p = d->pattern->text().trimmed();
    QStringList matching;
    if (!p.isEmpty()) {
        OutputSelection s;
        s.mode = OutputSelection::Mode::Glob;
        s.pattern = p;
        if (const auto chosen = OutputToDataset::select(d->outputs, s))
            for (const OutputFile &f : *chosen)
                if (safe.contains(f.fileName))
                    matching << f.fileName;
    }
    if (!p.isEmpty() && checked == matching && !checked.isEmpty()) {
        // The pattern is what is remembered, so next time it picks that run's files.
        r.selection.mode = OutputSelection::Mode::Glob;
        r.selection.pattern = p;
    } else if (checked == safe && !checked.isEmpty()) {
        r.selection.mode = OutputSelection::Mode::All;
    } else {
        r.selection.mode = OutputSelection::Mode::Names;
        r.selection.names = checked;
    }
    return r;
}

void OutputDatasetDialog::setTransferOptions(const OutputToDataset::Options &options)
{
    d->options = options;
    if (d->options.dataDir.isEmpty())
        d->options.dataDir = d->deck->dataDir();
}

OutputToDataset *OutputDatasetDialog::job() const
{
    return d->job.get();
}

QString OutputDatasetDialog::readyRef() const
{
    return d->readyRef;
}

} // namespace kd
