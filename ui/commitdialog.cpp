#include "commitdialog.h"

#include "apierrortext.h"
#include "commitqueue.h"
#include "deck.h"
#include "metadata.h"
#include "persistence.h"
#include "quotamodel.h"
#include "theme.h"

#include <QButtonGroup>
#include <QCheckBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QDialogButtonBox>
#include <QDir>
#include <QEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QFrame>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace kd {

namespace {

QStringList lines(const QPlainTextEdit *edit)
{
    QStringList out;
    for (const QString &line : edit->toPlainText().split(u'\n')) {
        const QString item = line.trimmed();
        if (!item.isEmpty())
            out.append(item);
    }
    return out;
}

QString acceleratorText(const QString &shape)
{
    switch (acceleratorOf(shape)) {
    case Accelerator::None:
        return QCoreApplication::translate("kd::CommitDialog", "None (CPU only)");
    case Accelerator::Gpu:
        return QCoreApplication::translate("kd::CommitDialog", "%1 (GPU)").arg(shape);
    case Accelerator::Tpu:
        return QCoreApplication::translate("kd::CommitDialog", "%1 (TPU)").arg(shape);
    }
    return shape;
}

constexpr CommitField kRows[] = {
    CommitField::General,
    CommitField::Metadata,
    CommitField::Slug,
    CommitField::Title,
    CommitField::Code,
    CommitField::Accelerator,
    CommitField::Internet,
    CommitField::Privacy,
    CommitField::Timeout,
    CommitField::ExecutionType,
    CommitField::DatasetSources,
    CommitField::KernelSources,
    CommitField::CompetitionSources,
    CommitField::ModelSources,
};

} // namespace

CommitDialog::CommitDialog(Deck *deck, std::optional<RunId> run, QWidget *parent)
    : QDialog(parent), m_deck(deck), m_run(run)
{
    setObjectName(QStringLiteral("commitDialog"));
    setWindowTitle(tr("Commit a run"));
    buildUi();
    connect(m_deck->quotaModel(), &QuotaModel::updated, this, &CommitDialog::updateQuota);

    if (!m_run) {
        m_origin->setText(tr("Choose a kernel folder: kernel-metadata.json and its code file, "
                             "as for kaggle kernels push -p."));
        showErrors();
        updateQuota();
        updatePersistence();
        return;
    }
    m_openFolder->hide();
    const RunState *state = m_deck->monitor()->state(*m_run);
    if (!state) {
        showLoadError(
            ApiError::make(ApiError::Kind::Invalid, tr("This run is no longer watched.")));
        return;
    }
    const KernelRef ref = state->run.ref;
    m_origin->setText(
        state->run.title.isEmpty() || state->run.title == ref.slug
            ? tr("Kernel %1, pulled from Kaggle").arg(ref.toString())
            : tr("%1 (%2), pulled from Kaggle").arg(state->run.title, ref.toString()));
    pullKernel(ref);
}

void CommitDialog::buildUi()
{
    // Where the draft comes from.
    m_origin = new QLabel(this);
    m_origin->setObjectName(QStringLiteral("commitOrigin"));
    m_origin->setWordWrap(true);
    m_origin->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_openFolder = new QPushButton(tr("&Open kernel folder…"), this);
    m_openFolder->setObjectName(QStringLiteral("openFolderButton"));
    connect(m_openFolder, &QPushButton::clicked, this, &CommitDialog::chooseFolder);
    auto *originRow = new QHBoxLayout;
    originRow->addWidget(m_origin, 1);
    originRow->addWidget(m_openFolder, 0, Qt::AlignTop);

    m_form = new QWidget(this);
    m_form->setObjectName(QStringLiteral("commitForm"));

    // Left column: the kernel and how it runs.
    auto *settings = new QGroupBox(tr("Kernel"), m_form);
    auto *form = new QFormLayout(settings);
    form->setFieldGrowthPolicy(QFormLayout::ExpandingFieldsGrow);
    const auto withError = [this](QWidget *input, CommitField field, const QString &name,
                                  QWidget *parent) {
        auto *box = new QWidget(parent);
        auto *v = new QVBoxLayout(box);
        v->setContentsMargins(0, 0, 0, 0);
        v->setSpacing(2);
        // Line edits take the row; combos, spins and check boxes keep their size.
        if (qobject_cast<QLineEdit *>(input) || qobject_cast<QLabel *>(input))
            v->addWidget(input);
        else
            v->addWidget(input, 0, Qt::AlignLeft);
        v->addWidget(makeErrorLabel(field, name, box));
        box->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
        return box;
    };

    m_slug = new QLineEdit(settings);
    m_slug->setObjectName(QStringLiteral("slugEdit"));
    m_slug->setPlaceholderText(tr("owner/kernel-slug"));
    auto *slugLabel = new QLabel(tr("Kernel &id:"), settings);
    slugLabel->setBuddy(m_slug);
    form->addRow(slugLabel, withError(m_slug, CommitField::Slug, QStringLiteral("slug"), settings));

    m_title = new QLineEdit(settings);
    m_title->setObjectName(QStringLiteral("titleEdit"));
    m_title->setPlaceholderText(tr("At least five characters"));
    auto *titleLabel = new QLabel(tr("&Title:"), settings);
    titleLabel->setBuddy(m_title);
    form->addRow(titleLabel,
                 withError(m_title, CommitField::Title, QStringLiteral("title"), settings));

    m_code = new QLabel(settings);
    m_code->setObjectName(QStringLiteral("codeLabel"));
    m_code->setWordWrap(true);
    m_code->setTextInteractionFlags(Qt::TextSelectableByMouse);
    form->addRow(tr("Code:"),
                 withError(m_code, CommitField::Code, QStringLiteral("code"), settings));

    m_accelerator = new QComboBox(settings);
    m_accelerator->setObjectName(QStringLiteral("acceleratorCombo"));
    m_accelerator->addItem(acceleratorText(QString()), QString());
    for (const QString &shape : knownMachineShapes())
        m_accelerator->addItem(acceleratorText(shape), shape);
    auto *acceleratorLabel = new QLabel(tr("&Accelerator:"), settings);
    acceleratorLabel->setBuddy(m_accelerator);
    form->addRow(acceleratorLabel, withError(m_accelerator, CommitField::Accelerator,
                                             QStringLiteral("accelerator"), settings));

    m_timeout = new QSpinBox(settings);
    m_timeout->setObjectName(QStringLiteral("timeoutSpin"));
    m_timeout->setRange(0, 24 * 60);
    m_timeout->setSingleStep(30);
    m_timeout->setSuffix(tr(" min"));
    m_timeout->setSpecialValueText(tr("Kaggle's maximum"));
    m_timeout->setToolTip(tr("Kaggle stops a run after 12 h on GPU and CPU, 9 h on TPU."));
    auto *timeoutLabel = new QLabel(tr("Ti&meout:"), settings);
    timeoutLabel->setBuddy(m_timeout);
    form->addRow(timeoutLabel,
                 withError(m_timeout, CommitField::Timeout, QStringLiteral("timeout"), settings));

    m_internet = new QCheckBox(tr("&Internet access"), settings);
    m_internet->setObjectName(QStringLiteral("internetCheck"));
    form->addRow(tr("Network:"), withError(m_internet, CommitField::Internet,
                                           QStringLiteral("internet"), settings));

    m_privacy = new QComboBox(settings);
    m_privacy->setObjectName(QStringLiteral("privacyCombo"));
    m_privacy->addItem(tr("Private"), true);
    m_privacy->addItem(tr("Public"), false);
    auto *privacyLabel = new QLabel(tr("&Privacy:"), settings);
    privacyLabel->setBuddy(m_privacy);
    form->addRow(privacyLabel,
                 withError(m_privacy, CommitField::Privacy, QStringLiteral("privacy"), settings));

    auto *modes = new QWidget(settings);
    auto *modesLayout = new QHBoxLayout(modes);
    modesLayout->setContentsMargins(0, 0, 0, 0);
    m_runAll = new QRadioButton(tr("Save && &Run All"), modes);
    m_runAll->setObjectName(QStringLiteral("runAllRadio"));
    m_runAll->setToolTip(tr("Saves a version and runs it from top to bottom (a commit)."));
    m_quickSave = new QRadioButton(tr("&Quick Save"), modes);
    m_quickSave->setObjectName(QStringLiteral("quickSaveRadio"));
    m_quickSave->setToolTip(tr("Saves a version without running it: no session, no quota."));
    auto *group = new QButtonGroup(modes);
    group->addButton(m_runAll);
    group->addButton(m_quickSave);
    m_runAll->setChecked(true);
    modesLayout->addWidget(m_runAll);
    modesLayout->addWidget(m_quickSave);
    modesLayout->addStretch();
    form->addRow(tr("Run mode:"),
                 withError(modes, CommitField::ExecutionType, QStringLiteral("runMode"), settings));

    // Right column: the inputs mounted under /kaggle/input.
    auto *sources = new QGroupBox(tr("Sources (one per line)"), m_form);
    auto *sourcesLayout = new QVBoxLayout(sources);
    sourcesLayout->addWidget(sourceEdit(m_datasets, CommitField::DatasetSources,
                                        QStringLiteral("datasetSources"), tr("owner/dataset-slug"),
                                        sources));
    sourcesLayout->addWidget(sourceEdit(m_kernels, CommitField::KernelSources,
                                        QStringLiteral("kernelSources"), tr("owner/kernel-slug"),
                                        sources));
    sourcesLayout->addWidget(sourceEdit(m_competitions, CommitField::CompetitionSources,
                                        QStringLiteral("competitionSources"),
                                        tr("competition-slug"), sources));
    sourcesLayout->addWidget(sourceEdit(m_models, CommitField::ModelSources,
                                        QStringLiteral("modelSources"),
                                        tr("owner/model/framework/variation"), sources));

    auto *columns = new QHBoxLayout(m_form);
    columns->setContentsMargins(0, 0, 0, 0);
    columns->addWidget(settings, 3);
    columns->addWidget(sources, 2);
    m_form->setEnabled(false);

    m_persistence = new QLabel(this);
    m_persistence->setObjectName(QStringLiteral("persistenceLabel"));
    m_persistence->setWordWrap(true);
    m_quota = new QLabel(this);
    m_quota->setObjectName(QStringLiteral("quotaEffectLabel"));
    m_quota->setWordWrap(true);

    // The GPU concurrency limit, with the way out.
    m_limitBox = new QFrame(this);
    m_limitBox->setObjectName(QStringLiteral("gpuLimitBox"));
    m_limitBox->setFrameShape(QFrame::StyledPanel);
    auto *limitLayout = new QHBoxLayout(m_limitBox);
    m_limitText = new QLabel(m_limitBox);
    m_limitText->setObjectName(QStringLiteral("gpuLimitText"));
    m_limitText->setWordWrap(true);
    m_queue = new QPushButton(tr("&Queue it"), m_limitBox);
    m_queue->setObjectName(QStringLiteral("queueItButton"));
    connect(m_queue, &QPushButton::clicked, this, &CommitDialog::queueIt);
    limitLayout->addWidget(m_limitText, 1);
    limitLayout->addWidget(m_queue, 0, Qt::AlignVCenter);
    m_limitBox->hide();

    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("commitStatus"));
    m_status->setWordWrap(true);
    m_status->hide();
    m_progress = new QProgressBar(this);
    m_progress->setObjectName(QStringLiteral("commitProgress"));
    m_progress->setRange(0, 0);
    m_progress->setTextVisible(false);
    m_progress->setMaximumHeight(m_progress->fontMetrics().height());
    m_progress->hide();

    auto *buttons = new QDialogButtonBox(this);
    m_cancel = buttons->addButton(QDialogButtonBox::Cancel);
    m_cancel->setObjectName(QStringLiteral("commitCancelButton"));
    m_commit = buttons->addButton(tr("&Commit"), QDialogButtonBox::AcceptRole);
    m_commit->setObjectName(QStringLiteral("commitButton"));
    m_commit->setDefault(true);
    m_commit->setEnabled(false);
    connect(m_commit, &QPushButton::clicked, this, &CommitDialog::submit);
    connect(m_cancel, &QPushButton::clicked, this, [this] {
        if (m_pushed)
            accept();
        else
            reject();
    });

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(originRow);
    layout->addWidget(makeErrorLabel(CommitField::Metadata, QStringLiteral("metadata"), this));
    layout->addWidget(m_form, 1);
    layout->addWidget(m_persistence);
    layout->addWidget(m_quota);
    layout->addWidget(makeErrorLabel(CommitField::General, QStringLiteral("general"), this));
    layout->addWidget(m_limitBox);
    layout->addWidget(m_status);
    layout->addWidget(m_progress);
    layout->addWidget(buttons);

    // Live: each field writes its own part of the draft, so untouched keys stay as loaded.
    connect(m_slug, &QLineEdit::textEdited, this, [this] { fieldEdited(CommitField::Slug); });
    connect(m_title, &QLineEdit::textEdited, this, [this] { fieldEdited(CommitField::Title); });
    connect(m_accelerator, &QComboBox::currentIndexChanged, this,
            [this] { fieldEdited(CommitField::Accelerator); });
    connect(m_timeout, &QSpinBox::valueChanged, this,
            [this] { fieldEdited(CommitField::Timeout); });
    connect(m_internet, &QCheckBox::toggled, this, [this] { fieldEdited(CommitField::Internet); });
    connect(m_privacy, &QComboBox::currentIndexChanged, this,
            [this] { fieldEdited(CommitField::Privacy); });
    connect(group, &QButtonGroup::buttonToggled, this,
            [this] { fieldEdited(CommitField::ExecutionType); });
    const std::pair<QPlainTextEdit *, CommitField> lists[] = {
        {m_datasets, CommitField::DatasetSources},
        {m_kernels, CommitField::KernelSources},
        {m_competitions, CommitField::CompetitionSources},
        {m_models, CommitField::ModelSources}};
    for (const auto &[edit, field] : lists)
        connect(edit, &QPlainTextEdit::textChanged, this, [this, f = field] { fieldEdited(f); });

    const int width = fontMetrics().averageCharWidth() * 128;
    resize(std::max(sizeHint().width(), width), sizeHint().height());
}

void CommitDialog::changeEvent(QEvent *event)
{
    QDialog::changeEvent(event);
    if (event->type() != QEvent::PaletteChange || !m_commit)
        return;
    // The accent colours depend on the palette (light or dark).
    showErrors();
    updateQuota();
    if (!m_limitText->text().isEmpty())
        m_limitText->setStyleSheet(theme::labelColourSheet(theme::warningColor(palette())));
}

QWidget *CommitDialog::sourceEdit(QPlainTextEdit *&edit, CommitField field, const QString &name,
                                  const QString &placeholder, QWidget *parent)
{
    auto *box = new QWidget(parent);
    auto *v = new QVBoxLayout(box);
    v->setContentsMargins(0, 0, 0, 0);
    v->setSpacing(2);
    edit = new QPlainTextEdit(box);
    edit->setObjectName(name + QStringLiteral("Edit"));
    edit->setPlaceholderText(placeholder);
    edit->setTabChangesFocus(true);
    edit->setLineWrapMode(QPlainTextEdit::NoWrap);
    const int lineHeight = edit->fontMetrics().lineSpacing();
    edit->setMinimumHeight(lineHeight * 3 + 12);
    edit->setMaximumHeight(lineHeight * 4 + 12);
    QString title = commitFieldName(field);
    title[0] = title.at(0).toUpper();
    auto *label = new QLabel(tr("%1:").arg(title), box);
    label->setBuddy(edit);
    v->addWidget(label);
    v->addWidget(edit);
    v->addWidget(makeErrorLabel(field, name, box));
    return box;
}

QLabel *CommitDialog::makeErrorLabel(CommitField field, const QString &name, QWidget *parent)
{
    auto *label = new QLabel(parent);
    label->setObjectName(QStringLiteral("commitError_") + name);
    label->setWordWrap(true);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    label->hide();
    m_errorLabels.insert(int(field), label);
    return label;
}

QLabel *CommitDialog::errorLabel(CommitField field) const
{
    return m_errorLabels.value(int(rowOf(field)));
}

CommitField CommitDialog::rowOf(CommitField field) const
{
    switch (field) {
    case CommitField::Language:
    case CommitField::KernelType:
        return CommitField::Code;
    case CommitField::Tags:
    case CommitField::DockerImage:
        return CommitField::General;
    default:
        return field;
    }
}

QList<FieldError> CommitDialog::shownErrors() const
{
    return m_loadErrors + m_validation + m_serverErrors;
}

void CommitDialog::chooseFolder()
{
    const QString dir = QFileDialog::getExistingDirectory(
        this, tr("Open kernel folder"),
        m_draft && !m_draft->folder.isEmpty() ? m_draft->folder : QDir::homePath());
    if (!dir.isEmpty())
        loadFolder(dir);
}

bool CommitDialog::loadFolder(const QString &folder)
{
    if (m_busy || m_pushed)
        return false;
    m_origin->setText(tr("Folder %1").arg(QDir::toNativeSeparators(folder)));
    Result<CommitDraft> draft = m_deck->commits()->prepareFromFolder(folder);
    if (!draft) {
        showLoadError(draft.error());
        return false;
    }
    setDraft(std::move(draft).value());
    return true;
}

void CommitDialog::pullKernel(const KernelRef &ref)
{
    setBusy(true, tr("Pulling %1 from Kaggle…").arg(ref.toString()));
    QPointer<CommitDialog> guard(this);
    m_deck->commits()->prepareFromKernel(ref, [guard, ref](Result<CommitDraft> draft) {
        if (!guard)
            return;
        guard->setBusy(false);
        if (!draft) {
            ApiError error = draft.error();
            error.message = apiErrorText(error, ref.toString());
            guard->showLoadError(error);
            return;
        }
        guard->setDraft(std::move(draft).value());
    });
}

void CommitDialog::showLoadError(const ApiError &error)
{
    m_draft.reset();
    m_loadErrors = CommitService::fieldErrors(error);
    m_validation.clear();
    m_serverErrors.clear();
    m_limitBox->hide();
    m_form->setEnabled(false);
    showErrors();
    updateQuota();
    updatePersistence();
}

void CommitDialog::setDraft(CommitDraft draft)
{
    m_draft = std::move(draft);
    m_loadErrors.clear();
    m_serverErrors.clear();
    m_limitBox->hide();
    fillFields();
    m_form->setEnabled(!m_busy);
    validateNow();
    updateQuota();
    updatePersistence();
}

void CommitDialog::fillFields()
{
    m_filling = true;
    const SaveKernelRequest &r = m_draft->request;
    m_slug->setText(r.slug);
    // A pulled kernel is pushed by its id; its slug is not the user's to change here.
    m_slug->setReadOnly(m_draft->origin == CommitDraft::Origin::Kernel);
    m_slug->setEnabled(m_draft->origin == CommitDraft::Origin::Folder);
    m_title->setText(r.newTitle);
    m_title->setPlaceholderText(m_draft->isNew ? tr("Required for a new kernel (5+ characters)")
                                               : tr("Unchanged"));
    const QString file = m_draft->metadata.codeFile.isEmpty()
                             ? tr("(no code file)")
                             : QFileInfo(m_draft->metadata.codeFile).fileName();
    m_code->setText(tr("%1 · %2 %3").arg(file, r.language, r.kernelType));
    m_code->setToolTip(m_draft->origin == CommitDraft::Origin::Folder
                           ? QDir::toNativeSeparators(
                                 QDir(m_draft->folder).absoluteFilePath(m_draft->metadata.codeFile))
                           : tr("Pulled from Kaggle"));
    const QString shape = effectiveMachineShape(r);
    int index = m_accelerator->findData(shape);
    if (index < 0)
        index = 0;
    m_accelerator->setCurrentIndex(index);
    m_timeout->setValue((r.sessionTimeoutSeconds + 59) / 60);
    m_internet->setChecked(r.enableInternet);
    m_privacy->setCurrentIndex(r.isPrivate ? 0 : 1);
    (r.kernelExecutionType == KernelExecutionType::QuickSave ? m_quickSave : m_runAll)
        ->setChecked(true);
    m_datasets->setPlainText(r.datasetDataSources.join(u'\n'));
    m_kernels->setPlainText(r.kernelDataSources.join(u'\n'));
    m_competitions->setPlainText(r.competitionDataSources.join(u'\n'));
    m_models->setPlainText(r.modelDataSources.join(u'\n'));
    m_filling = false;
}

void CommitDialog::fieldEdited(CommitField field)
{
    if (m_filling || !m_draft)
        return;
    SaveKernelRequest &r = m_draft->request;
    switch (field) {
    case CommitField::Slug:
        r.slug = m_slug->text().trimmed();
        m_draft->metadata.id = r.slug;
        if (const auto ref = KernelRef::parse(r.slug))
            m_draft->ref = *ref;
        updatePersistence();
        break;
    case CommitField::Title:
        r.newTitle = m_title->text().trimmed();
        m_draft->metadata.title = r.newTitle;
        break;
    case CommitField::Accelerator:
        m_draft->setAccelerator(m_accelerator->currentData().toString());
        break;
    case CommitField::Timeout:
        m_draft->setTimeoutSeconds(m_timeout->value() * 60);
        break;
    case CommitField::Internet:
        r.enableInternet = m_draft->metadata.enableInternet = m_internet->isChecked();
        break;
    case CommitField::Privacy:
        r.isPrivate = m_draft->metadata.isPrivate = m_privacy->currentData().toBool();
        break;
    case CommitField::ExecutionType:
        m_draft->setQuickSave(m_quickSave->isChecked());
        break;
    case CommitField::DatasetSources:
        r.datasetDataSources = m_draft->metadata.datasetSources = lines(m_datasets);
        break;
    case CommitField::KernelSources:
        r.kernelDataSources = m_draft->metadata.kernelSources = lines(m_kernels);
        break;
    case CommitField::CompetitionSources:
        r.competitionDataSources = m_draft->metadata.competitionSources = lines(m_competitions);
        break;
    case CommitField::ModelSources:
        r.modelDataSources = m_draft->metadata.modelSources = lines(m_models);
        break;
    default:
        break;
    }
    // The server's verdict on this field is stale once the field changes.
    m_serverErrors.removeIf([this, field](const FieldError &e) {
        return rowOf(e.field) == field || e.field == CommitField::General;
    });
    if (field == CommitField::Accelerator)
        m_limitBox->hide();
    validateNow();
    if (field == CommitField::Accelerator || field == CommitField::Timeout ||
        field == CommitField::ExecutionType)
        updateQuota();
}

void CommitDialog::validateNow()
{
    m_validation = m_draft ? CommitService::validate(*m_draft) : QList<FieldError>{};
    showErrors();
}

void CommitDialog::showErrors()
{
    QHash<int, QStringList> errors;
    QHash<int, QStringList> warnings;
    const auto add = [this](QHash<int, QStringList> &into, const FieldError &e) {
        const CommitField row = rowOf(e.field);
        QString text = e.message;
        // Fields without an input of their own say which key they are about.
        if (row != e.field && (e.field == CommitField::Tags || e.field == CommitField::DockerImage))
            text = tr("%1: %2").arg(commitFieldName(e.field), text);
        if (!into[int(row)].contains(text))
            into[int(row)].append(text);
    };
    for (const FieldError &e : shownErrors())
        add(errors, e);
    for (const FieldError &e : m_warnings)
        add(warnings, e);
    const QColor danger = theme::dangerColor(palette());
    const QColor warning = theme::warningColor(palette());
    for (CommitField field : kRows) {
        QLabel *label = m_errorLabels.value(int(field));
        if (!label)
            continue;
        const QStringList e = errors.value(int(field));
        const QStringList w = warnings.value(int(field));
        if (e.isEmpty() && w.isEmpty()) {
            label->hide();
            label->clear();
            continue;
        }
        label->setStyleSheet(theme::labelColourSheet(e.isEmpty() ? warning : danger));
        label->setText((e.isEmpty() ? w : e).join(u'\n'));
        label->show();
    }
    m_commit->setEnabled(m_draft && !m_busy && !m_pushed && m_validation.isEmpty());
    theme::fitHeight(this);
}

void CommitDialog::updateQuota()
{
    if (!m_draft) {
        m_quota->setText(tr("The quota this run may use shows once a kernel is loaded."));
        m_quota->setStyleSheet(theme::labelColourSheet(theme::mutedColor(palette())));
        return;
    }
    if (m_draft->request.kernelExecutionType == KernelExecutionType::QuickSave) {
        m_quota->setText(tr("A quick save runs nothing and uses no quota."));
        m_quota->setStyleSheet(QString());
        return;
    }
    const QuotaEffect effect = CommitService::quotaEffect(*m_draft, m_deck->quotaModel());
    m_quota->setText(effect.text);
    m_quota->setStyleSheet(effect.fits ? QString()
                                       : theme::labelColourSheet(theme::warningColor(palette())));
    m_quota->setProperty("fits", effect.fits);
}

void CommitDialog::updatePersistence()
{
    if (!m_draft) {
        m_persistence->clear();
        m_persistence->hide();
        return;
    }
    const auto parsed = KernelRef::parse(m_draft->request.slug);
    const KernelRef ref = parsed ? *parsed : m_draft->ref;
    const auto run = ref.isValid() ? m_deck->monitor()->runByRef(ref) : std::nullopt;
    const RunState *state = run ? m_deck->monitor()->state(*run) : nullptr;
    m_persistence->show();
    if (!state) {
        m_persistence->setText(tr("Persistence: none. The kernel is not watched yet; set a "
                                  "persistence mode on its run after this commit."));
        return;
    }
    const PersistenceMode mode = persistence::modeOf(state->run.settings);
    QString text;
    if (persistence::carriesFiles(mode))
        text = tr("Persistence: %1. This commit also adds %2 itself to its kernel sources, so "
                  "the previous output is mounted at /kaggle/input/%3.")
                   .arg(persistence::label(mode), state->run.ref.toString(), state->run.ref.slug);
    else if (mode == PersistenceMode::None)
        text = tr("Persistence: %1. Nothing is carried over from the previous run.")
                   .arg(persistence::label(mode));
    else
        text = tr("Persistence: %1.").arg(persistence::label(mode));
    if (persistence::wantsVariables(mode))
        text += u' ' + tr("Variables cannot be kept for committed runs.");
    m_persistence->setText(text);
}

void CommitDialog::setBusy(bool busy, const QString &message)
{
    m_busy = busy;
    m_form->setEnabled(!busy && m_draft && !m_pushed);
    m_openFolder->setEnabled(!busy && !m_pushed);
    m_queue->setEnabled(!busy);
    m_progress->setVisible(busy);
    if (busy) {
        m_status->setStyleSheet(QString());
        m_status->setText(message);
        m_status->show();
    } else {
        m_status->hide();
    }
    m_commit->setEnabled(m_draft && !busy && !m_pushed && m_validation.isEmpty());
}

void CommitDialog::submit()
{
    if (!m_draft || m_busy || m_pushed)
        return;
    validateNow();
    if (!m_validation.isEmpty())
        return;
    m_serverErrors.clear();
    m_limitBox->hide();
    m_commit->setDefault(true);
    showErrors();
    const QString target =
        m_draft->request.slug.isEmpty() ? m_draft->ref.toString() : m_draft->request.slug;
    setBusy(true, tr("Pushing %1 to Kaggle…").arg(target));
    QPointer<CommitDialog> guard(this);
    m_deck->commits()->commit(*m_draft, [guard](CommitOutcome outcome) {
        if (guard)
            guard->onOutcome(outcome);
    });
}

void CommitDialog::onOutcome(const CommitOutcome &outcome)
{
    setBusy(false);
    switch (outcome.status) {
    case CommitOutcome::Status::Pushed:
        emit committed(outcome.receipt);
        if (outcome.receipt.warnings.isEmpty()) {
            accept();
            return;
        }
        // Pushed, but Kaggle dropped some sources: say which before closing.
        m_pushed = true;
        m_warnings = outcome.receipt.warnings;
        m_form->setEnabled(false);
        m_openFolder->setEnabled(false);
        m_commit->hide();
        m_cancel->setText(tr("Close"));
        m_cancel->setDefault(true);
        m_status->setStyleSheet(theme::labelColourSheet(theme::warningColor(palette())));
        m_status->setText(tr("Pushed version %1 of %2, but Kaggle dropped the sources marked "
                             "above; the run goes on without them.")
                              .arg(outcome.receipt.versionNumber)
                              .arg(outcome.receipt.ref));
        m_status->show();
        showErrors();
        return;
    case CommitOutcome::Status::GpuLimitReached:
        m_gpuLimit = outcome.gpuSessionLimit;
        m_limitText->setText(
            (outcome.gpuSessionLimit == 1
                 ? tr("Kaggle refused the commit: your account may run one GPU session at a "
                      "time, and it is in use.")
                 : tr("Kaggle refused the commit: your account may run %1 GPU sessions at a "
                      "time, and all are in use.")
                       .arg(outcome.gpuSessionLimit)) +
            u' ' +
            tr("Queue it and KaggleDeck pushes it by itself as soon as a watched run frees a "
               "GPU slot, even after a restart."));
        m_limitText->setStyleSheet(theme::labelColourSheet(theme::warningColor(palette())));
        m_limitBox->show();
        theme::fitHeight(this);
        m_queue->setDefault(true);
        m_queue->setFocus();
        return;
    case CommitOutcome::Status::Invalid:
        m_validation = outcome.fieldErrors;
        break;
    case CommitOutcome::Status::Failed: {
        m_serverErrors = outcome.fieldErrors;
        const bool general =
            std::all_of(m_serverErrors.cbegin(), m_serverErrors.cend(),
                        [](const FieldError &e) { return e.field == CommitField::General; });
        if (general && outcome.error) {
            const QString subject = m_draft
                                        ? (m_draft->request.slug.isEmpty() ? m_draft->ref.toString()
                                                                           : m_draft->request.slug)
                                        : QString();
            m_serverErrors = {
                {CommitField::General,
                 tr("Kaggle refused the commit: %1").arg(apiErrorText(*outcome.error, subject))}};
        }
        m_status->setStyleSheet(theme::labelColourSheet(theme::dangerColor(palette())));
        m_status->setText(general ? tr("Nothing was committed.")
                                  : tr("Kaggle refused the commit; nothing was committed. Fix "
                                       "the marked fields and try again."));
        m_status->show();
        break;
    }
    }
    showErrors();
}

void CommitDialog::queueIt()
{
    if (!m_draft)
        return;
    const Result<qint64> id = m_deck->commitQueue()->enqueue(*m_draft, m_gpuLimit);
    if (!id) {
        m_serverErrors = {
            {CommitField::General, tr("Could not queue the commit: %1").arg(id.error().message)}};
        showErrors();
        return;
    }
    const auto ref = KernelRef::parse(m_draft->request.slug);
    emit queued(*id, ref ? ref->toString() : m_draft->ref.toString());
    accept();
}

} // namespace kd
