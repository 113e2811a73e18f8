#include "persistencedialog.h"

#include "deck.h"
#include "theme.h"

#include <QButtonGroup>
#include <QDialogButtonBox>
#include <QDir>
#include <QEvent>
#include <QFrame>
#include <QGroupBox>
#include <QLabel>
#include <QPushButton>
#include <QRadioButton>
#include <QScrollArea>
#include <QUrl>
#include <QVBoxLayout>

namespace kd {

namespace {} // namespace

PersistenceDialog::PersistenceDialog(Deck *deck, QList<RunId> runs, QWidget *parent)
    : QDialog(parent), m_deck(deck)
{
    setObjectName(QStringLiteral("persistenceDialog"));
    setWindowTitle(runs.size() == 1 ? tr("Set persistence")
                                    : tr("Set persistence of %n runs", nullptr, int(runs.size())));

    // What Kaggle does, first: the modes are not what they seem for committed runs.
    auto *notice = new QLabel(persistence::kaggleNotice(), this);
    notice->setObjectName(QStringLiteral("persistenceNotice"));
    notice->setWordWrap(true);
    auto *noticeFrame = new QFrame(this);
    noticeFrame->setFrameShape(QFrame::StyledPanel);
    noticeFrame->setBackgroundRole(QPalette::AlternateBase);
    noticeFrame->setAutoFillBackground(true);
    auto *noticeLayout = new QVBoxLayout(noticeFrame);
    noticeLayout->addWidget(notice);

    auto *list = new QWidget(this);
    auto *listLayout = new QVBoxLayout(list);
    listLayout->setContentsMargins(0, 0, 0, 0);
    for (RunId run : runs) {
        const RunState *state = m_deck->monitor()->state(run);
        if (!state || m_rows.contains(run))
            continue;
        m_runs.append(run);
        listLayout->addWidget(runBox(run, *state, list));
    }
    if (m_runs.isEmpty()) {
        auto *none = new QLabel(tr("None of these runs is watched any more."), list);
        none->setObjectName(QStringLiteral("persistenceNoRuns"));
        listLayout->addWidget(none);
    }
    listLayout->addStretch();

    QWidget *body = list;
    if (m_runs.size() > 2) {
        auto *scroll = new QScrollArea(this);
        scroll->setObjectName(QStringLiteral("persistenceScroll"));
        scroll->setWidgetResizable(true);
        scroll->setFrameShape(QFrame::NoFrame);
        scroll->setWidget(list);
        body = scroll;
    }

    m_error = new QLabel(this);
    m_error->setObjectName(QStringLiteral("persistenceError"));
    m_error->setWordWrap(true);
    m_error->setStyleSheet(theme::labelColourSheet(theme::dangerColor(palette())));
    m_error->hide();

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    m_save = buttons->addButton(tr("&Save"), QDialogButtonBox::AcceptRole);
    m_save->setObjectName(QStringLiteral("persistenceSaveButton"));
    m_save->setDefault(true);
    m_save->setEnabled(!m_runs.isEmpty());
    connect(buttons, &QDialogButtonBox::accepted, this, &PersistenceDialog::save);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(noticeFrame);
    layout->addWidget(body, 1);
    layout->addWidget(m_error);
    layout->addWidget(buttons);

    const int width = fontMetrics().averageCharWidth() * 104;
    const int height = m_runs.size() > 2 ? fontMetrics().lineSpacing() * 40 : sizeHint().height();
    resize(std::max(sizeHint().width(), width), height);
    if (m_runs.size() <= 2)
        theme::fitHeight(this);
}

QWidget *PersistenceDialog::runBox(RunId run, const RunState &state, QWidget *parent)
{
    const KernelRef &ref = state.run.ref;
    const QString title = state.run.title.isEmpty() || state.run.title == ref.slug
                              ? ref.toString()
                              : tr("%1 (%2)").arg(state.run.title, ref.toString());
    auto *box = new QGroupBox(title, parent);
    box->setObjectName(QStringLiteral("persistenceRun_%1").arg(run));
    auto *v = new QVBoxLayout(box);

    Row row;
    row.stored = persistence::modeOf(state.run.settings);
    row.group = new QButtonGroup(box);
    auto *radios = new QHBoxLayout;
    for (PersistenceMode mode : persistence::allModes()) {
        QString text = persistence::label(mode);
        text.replace(u'&', QStringLiteral("&&"));
        auto *button = new QRadioButton(text, box);
        button->setObjectName(
            QStringLiteral("persistenceMode_%1_%2").arg(run).arg(persistence::id(mode)));
        if (persistence::wantsVariables(mode))
            button->setToolTip(persistence::variablesNotPossibleReason(mode));
        row.group->addButton(button, int(mode));
        row.buttons.insert(int(mode), button);
        radios->addWidget(button);
    }
    radios->addStretch();
    row.buttons.value(int(row.stored))->setChecked(true);
    v->addLayout(radios);

    row.effect = new QLabel(box);
    row.effect->setObjectName(QStringLiteral("persistenceEffect_%1").arg(run));
    row.effect->setWordWrap(true);
    v->addWidget(row.effect);

    const QString folder =
        QDir(m_deck->mirror()->mirrorRoot()).filePath(ref.owner + u'/' + ref.slug);
    row.mirror = new QLabel(box);
    row.mirror->setObjectName(QStringLiteral("persistenceMirror_%1").arg(run));
    row.mirror->setWordWrap(true);
    row.mirror->setTextFormat(Qt::RichText);
    row.mirror->setOpenExternalLinks(true);
    row.mirror->setTextInteractionFlags(Qt::TextBrowserInteraction);
    row.mirror->setText(tr("Outputs are mirrored to <a href=\"%1\">%2</a>, one folder per "
                           "version.")
                            .arg(QUrl::fromLocalFile(folder).toString(QUrl::FullyEncoded),
                                 QDir::toNativeSeparators(folder).toHtmlEscaped()));
    row.mirror->setProperty("folder", folder);
    v->addWidget(row.mirror);

    m_rows.insert(run, row);
    connect(row.group, &QButtonGroup::idToggled, this, [this, run](int, bool checked) {
        if (checked)
            updateRow(run);
    });
    updateRow(run);
    return box;
}

void PersistenceDialog::updateRow(RunId run)
{
    const auto it = m_rows.constFind(run);
    if (it == m_rows.constEnd())
        return;
    const PersistenceMode mode = selectedMode(run);
    it->effect->setText(tr("For committed runs: %1").arg(persistence::committedRunEffect(mode)));
    it->effect->setStyleSheet(persistence::wantsVariables(mode)
                                  ? theme::labelColourSheet(theme::warningColor(palette()))
                                  : QString());
    it->mirror->setVisible(persistence::carriesFiles(mode));
    if (m_save) // built: the dialog has its layout
        theme::fitHeight(this);
}

void PersistenceDialog::changeEvent(QEvent *event)
{
    QDialog::changeEvent(event);
    if (event->type() != QEvent::PaletteChange || !m_error)
        return;
    m_error->setStyleSheet(theme::labelColourSheet(theme::dangerColor(palette())));
    for (RunId run : std::as_const(m_runs))
        updateRow(run);
}

QRadioButton *PersistenceDialog::modeButton(RunId run, PersistenceMode mode) const
{
    const auto it = m_rows.constFind(run);
    return it == m_rows.constEnd() ? nullptr : it->buttons.value(int(mode));
}

PersistenceMode PersistenceDialog::selectedMode(RunId run) const
{
    const auto it = m_rows.constFind(run);
    if (it == m_rows.constEnd() || it->group->checkedId() < 0)
        return PersistenceMode::None;
    return PersistenceMode(it->group->checkedId());
}

QLabel *PersistenceDialog::effectLabel(RunId run) const
{
    const auto it = m_rows.constFind(run);
    return it == m_rows.constEnd() ? nullptr : it->effect;
}

QLabel *PersistenceDialog::mirrorLabel(RunId run) const
{
    const auto it = m_rows.constFind(run);
    return it == m_rows.constEnd() ? nullptr : it->mirror;
}

void PersistenceDialog::save()
{
    QStringList problems;
    for (RunId run : std::as_const(m_runs)) {
        Row &row = m_rows[run];
        const PersistenceMode mode = selectedMode(run);
        if (mode == row.stored)
            continue;
        const RunState *state = m_deck->monitor()->state(run);
        if (!state) {
            problems << tr("Run %1 is no longer watched.").arg(run);
            continue;
        }
        RunSettings settings = state->run.settings;
        settings.persistence = persistence::id(mode);
        const Result<Done> saved = m_deck->monitor()->setRunSettings(run, settings);
        if (!saved) {
            problems << tr("%1: %2").arg(state->run.ref.toString(), saved.error().message);
            continue;
        }
        row.stored = mode;
        emit persistenceChanged(run, mode);
    }
    if (!problems.isEmpty()) {
        m_error->setText(tr("Could not save:\n%1").arg(problems.join(u'\n')));
        m_error->show();
        theme::fitHeight(this);
        return;
    }
    accept();
}

} // namespace kd
