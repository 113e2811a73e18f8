#include "chaindialog.h"

#include "deck.h"
#include "store.h"
#include "theme.h"

#include <QButtonGroup>
#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace kd {

namespace {

QLabel *errorLabel(QWidget *parent, const QString &name)
{
    auto *l = new QLabel(parent);
    l->setObjectName(name);
    l->setWordWrap(true);
    l->setStyleSheet(
        QStringLiteral("QLabel { color: %1; }").arg(theme::dangerColor(parent->palette()).name()));
    l->hide();
    return l;
}

QLabel *hintLabel(const QString &text, QWidget *parent)
{
    auto *l = new QLabel(text, parent);
    l->setWordWrap(true);
    l->setForegroundRole(QPalette::PlaceholderText);
    return l;
}

} // namespace

struct ChainDialog::Private
{
    ChainDialog *q = nullptr;
    Deck *deck = nullptr;
    ChainId created = 0;

    QComboBox *kernel = nullptr;
    QLineEdit *name = nullptr;
    QRadioButton *kernelSources = nullptr;
    QRadioButton *dataset = nullptr;
    QLineEdit *datasetSlug = nullptr;
    QLineEdit *pattern = nullptr;
    QSpinBox *maxRuns = nullptr;
    QCheckBox *stopOnError = nullptr;
    QComboBox *metric = nullptr;
    QSpinBox *patience = nullptr;
    QCheckBox *quotaRule = nullptr;
    QLabel *kernelError = nullptr;
    QLabel *patternError = nullptr;
    QLabel *rulesError = nullptr;
    QLabel *generalError = nullptr;
    QPushButton *create = nullptr;

    void build(const KernelRef &preset);
    void clearErrors();
    void submit();
    void updateSlugHint();
    /// Error lines appeared: a shown window does not grow by itself.
    void growToFit()
    {
        q->layout()->activate();
        q->resize(q->size().expandedTo(q->sizeHint()));
    }
};

void ChainDialog::Private::build(const KernelRef &preset)
{
    q->setObjectName(QStringLiteral("chainDialog"));
    q->setWindowTitle(tr("New chain"));

    auto *intro = hintLabel(tr("A chain commits the kernel again each time a run completes, "
                               "handing the previous run's checkpoint to the next one, until a "
                               "stop rule holds."),
                            q);

    // Kernel and name.
    kernel = new QComboBox(q);
    kernel->setObjectName(QStringLiteral("chainKernel"));
    kernel->setEditable(true);
    kernel->setInsertPolicy(QComboBox::NoInsert);
    for (const WatchedRun &r : deck->store()->runs())
        kernel->addItem(r.ref.toString());
    if (preset.isValid())
        kernel->setCurrentText(preset.toString());
    kernel->lineEdit()->setPlaceholderText(tr("owner/kernel-slug"));
    kernel->setMinimumContentsLength(28);
    kernelError = errorLabel(q, QStringLiteral("chainKernelError"));
    name = new QLineEdit(q);
    name->setObjectName(QStringLiteral("chainName"));
    name->setPlaceholderText(tr("Default: the kernel's slug"));

    auto *general = new QFormLayout;
    general->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    auto *kernelLabel = new QLabel(tr("&Kernel:"), q);
    kernelLabel->setBuddy(kernel);
    auto *nameLabel = new QLabel(tr("&Name:"), q);
    nameLabel->setBuddy(name);
    general->addRow(kernelLabel, kernel);
    general->addRow(QString(), kernelError);
    general->addRow(nameLabel, name);

    // Handoff.
    auto *handoffBox = new QGroupBox(tr("Handoff: how a run's output reaches the next run"), q);
    kernelSources = new QRadioButton(tr("&kernel_sources"), handoffBox);
    kernelSources->setObjectName(QStringLiteral("chainHandoffKernelSources"));
    dataset = new QRadioButton(tr("&Dataset version"), handoffBox);
    dataset->setObjectName(QStringLiteral("chainHandoffDataset"));
    auto *group = new QButtonGroup(handoffBox);
    group->addButton(kernelSources);
    group->addButton(dataset);
    kernelSources->setChecked(true);
    datasetSlug = new QLineEdit(handoffBox);
    datasetSlug->setObjectName(QStringLiteral("chainDatasetSlug"));
    datasetSlug->setEnabled(false);
    auto *hl = new QGridLayout(handoffBox);
    hl->setColumnStretch(1, 1);
    hl->addWidget(kernelSources, 0, 0);
    hl->addWidget(hintLabel(tr("Copies nothing: the next run mounts this kernel's previous output "
                               "(kept by Kaggle only until the next version)."),
                            handoffBox),
                  0, 1);
    hl->addWidget(dataset, 1, 0);
    hl->addWidget(hintLabel(tr("A durable copy: each checkpoint becomes a new version of a "
                               "dataset the next run mounts."),
                            handoffBox),
                  1, 1);
    auto *slugLabel = new QLabel(tr("Dataset s&lug:"), handoffBox);
    slugLabel->setBuddy(datasetSlug);
    auto *slugRow = new QHBoxLayout;
    slugRow->setContentsMargins(24, 0, 0, 0);
    slugRow->addWidget(slugLabel);
    slugRow->addWidget(datasetSlug, 1);
    hl->addLayout(slugRow, 2, 0, 1, 2);
    QObject::connect(dataset, &QRadioButton::toggled, datasetSlug, &QWidget::setEnabled);
    QObject::connect(kernel, &QComboBox::currentTextChanged, q, [this] { updateSlugHint(); });

    // Checkpoint.
    pattern = new QLineEdit(QStringLiteral("checkpoint-*/**"), q);
    pattern->setObjectName(QStringLiteral("chainPattern"));
    pattern->setToolTip(tr("A glob over the output names: * and ? stay inside one folder, ** "
                           "crosses folders. The chain stops when a run leaves no match."));
    patternError = errorLabel(q, QStringLiteral("chainPatternError"));
    auto *patternLabel = new QLabel(tr("&Checkpoint pattern:"), q);
    patternLabel->setBuddy(pattern);
    general->addRow(patternLabel, pattern);
    general->addRow(QString(), patternError);

    // Stop rules.
    auto *rulesBox = new QGroupBox(tr("Stop rules"), q);
    maxRuns = new QSpinBox(rulesBox);
    maxRuns->setObjectName(QStringLiteral("chainMaxRuns"));
    maxRuns->setRange(1, 200);
    maxRuns->setValue(3);
    maxRuns->setSuffix(tr(" runs"));
    stopOnError = new QCheckBox(tr("Stop when a run &fails"), rulesBox);
    stopOnError->setObjectName(QStringLiteral("chainStopOnError"));
    stopOnError->setChecked(true);
    metric = new QComboBox(rulesBox);
    metric->setObjectName(QStringLiteral("chainMetric"));
    metric->setEditable(true);
    metric->addItems({QString(), QStringLiteral("eval_loss"), QStringLiteral("loss"),
                      QStringLiteral("eval_accuracy"), QStringLiteral("accuracy"),
                      QStringLiteral("val_loss")});
    metric->lineEdit()->setPlaceholderText(tr("none"));
    metric->setMinimumContentsLength(14);
    patience = new QSpinBox(rulesBox);
    patience->setObjectName(QStringLiteral("chainPatience"));
    patience->setRange(0, 50);
    patience->setSpecialValueText(tr("off"));
    patience->setSuffix(tr(" runs"));
    quotaRule =
        new QCheckBox(tr("Pause when the GPU &quota forecast cannot cover another run"), rulesBox);
    quotaRule->setObjectName(QStringLiteral("chainQuotaRule"));
    quotaRule->setChecked(true);
    rulesError = errorLabel(rulesBox, QStringLiteral("chainRulesError"));
    auto *rl = new QFormLayout(rulesBox);
    auto *maxLabel = new QLabel(tr("Stop after &at most:"), rulesBox);
    maxLabel->setBuddy(maxRuns);
    auto *maxRow = new QHBoxLayout;
    maxRow->addWidget(maxRuns);
    maxRow->addStretch(1);
    rl->addRow(maxLabel, maxRow);
    rl->addRow(QString(), stopOnError);
    auto *metricRow = new QHBoxLayout;
    metricRow->addWidget(metric, 1);
    auto *patienceLabel = new QLabel(tr("has not improved for"), rulesBox);
    patienceLabel->setBuddy(patience);
    metricRow->addWidget(patienceLabel);
    metricRow->addWidget(patience);
    metricRow->addStretch(1);
    auto *metricLabel = new QLabel(tr("Stop when &metric:"), rulesBox);
    metricLabel->setBuddy(metric);
    rl->addRow(metricLabel, metricRow);
    rl->addRow(QString(), quotaRule);
    rl->addRow(QString(), rulesError);

    generalError = errorLabel(q, QStringLiteral("chainError"));

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, q);
    create = buttons->addButton(tr("Create && &start"), QDialogButtonBox::AcceptRole);
    create->setObjectName(QStringLiteral("chainCreateButton"));
    create->setDefault(true);
    QObject::connect(buttons, &QDialogButtonBox::accepted, q, [this] { submit(); });
    QObject::connect(buttons, &QDialogButtonBox::rejected, q, &QDialog::reject);

    auto *layout = new QVBoxLayout(q);
    layout->addWidget(intro);
    layout->addLayout(general);
    layout->addWidget(handoffBox);
    layout->addWidget(rulesBox);
    layout->addWidget(generalError);
    layout->addStretch(1);
    layout->addWidget(buttons);

    for (QLineEdit *e : {name, pattern, datasetSlug, kernel->lineEdit(), metric->lineEdit()})
        QObject::connect(e, &QLineEdit::textEdited, q, [this] { clearErrors(); });
    QObject::connect(patience, &QSpinBox::valueChanged, q, [this] { clearErrors(); });
    updateSlugHint();
    q->setMinimumWidth(q->fontMetrics().averageCharWidth() * 105);
}

void ChainDialog::Private::updateSlugHint()
{
    const auto ref = KernelRef::parse(kernel->currentText().trimmed());
    datasetSlug->setPlaceholderText(ref ? tr("Default: %1-chain").arg(ref->slug)
                                        : tr("Default: <kernel-slug>-chain"));
}

void ChainDialog::Private::clearErrors()
{
    for (QLabel *l : {kernelError, patternError, rulesError, generalError})
        l->hide();
}

void ChainDialog::Private::submit()
{
    clearErrors();
    const QString kernelText = kernel->currentText().trimmed();
    if (!kernelText.isEmpty() && !KernelRef::parse(kernelText)) {
        kernelError->setText(tr("Give the kernel as owner/kernel-slug or a kaggle.com/code link."));
        kernelError->show();
        kernel->setFocus();
        growToFit();
        return;
    }
    ChainRunner *runner = deck->chains();
    const auto id = runner->create(q->spec());
    if (!id) {
        const ApiError &e = id.error();
        const QStringList problems = e.details.isEmpty() ? QStringList{e.message} : e.details;
        QWidget *focus = nullptr;
        QStringList rules;
        QStringList other;
        for (const QString &p : problems) {
            const QString field = p.section(u':', 0, 0);
            const QString text = p.section(u':', 1).trimmed();
            const QString shown = text.isEmpty() ? p : text.left(1).toUpper() + text.mid(1);
            if (field == u"kernel") {
                kernelError->setText(shown);
                kernelError->show();
                focus = focus ? focus : kernel;
            } else if (field == u"checkpoint pattern") {
                patternError->setText(tr("The checkpoint pattern is required: the chain checks "
                                         "each run's outputs for it."));
                patternError->show();
                focus = focus ? focus : pattern;
            } else if (field == u"stop rules") {
                rules << shown;
                focus = focus ? focus
                              : (p.contains(u"metric") ? static_cast<QWidget *>(metric) : maxRuns);
            } else {
                other << p;
            }
        }
        if (!rules.isEmpty()) {
            rulesError->setText(rules.join(u'\n'));
            rulesError->show();
        }
        if (!other.isEmpty()) {
            generalError->setText(
                tr("The chain could not be created: %1").arg(other.join(QStringLiteral("; "))));
            generalError->show();
        }
        if (focus)
            focus->setFocus();
        growToFit();
        return;
    }
    created = *id;
    const auto started = runner->start(created);
    emit q->chainCreated(created, started ? QString() : started.error().message);
    q->accept();
}

ChainDialog::ChainDialog(Deck *deck, const KernelRef &kernel, QWidget *parent)
    : QDialog(parent), d(std::make_unique<Private>())
{
    d->q = this;
    d->deck = deck;
    d->build(kernel);
    if (kernel.isValid())
        d->name->setFocus();
    else
        d->kernel->setFocus();
}

ChainDialog::~ChainDialog() = default;

ChainSpec ChainDialog::spec() const
{
    ChainSpec s;
    s.name = d->name->text().trimmed();
    if (const auto ref = KernelRef::parse(d->kernel->currentText().trimmed()))
        s.kernel = *ref;
    s.handoff = d->dataset->isChecked() ? ChainHandoff::Dataset : ChainHandoff::KernelSources;
    s.checkpointPattern = d->pattern->text().trimmed();
    s.datasetSlug = d->dataset->isChecked() ? d->datasetSlug->text().trimmed() : QString();
    s.rules.maxRuns = d->maxRuns->value();
    s.rules.stopOnError = d->stopOnError->isChecked();
    s.rules.metric = d->metric->currentText().trimmed();
    s.rules.patience = d->patience->value();
    s.rules.quotaRule = d->quotaRule->isChecked();
    return s;
}

ChainId ChainDialog::chainId() const
{
    return d->created;
}

} // namespace kd
