#include "addrundialog.h"

#include "theme.h"

#include <QDialogButtonBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace kd {

AddRunDialog::AddRunDialog(Watch watch, QWidget *parent)
    : QDialog(parent), m_watch(std::move(watch)), m_edit(new QLineEdit(this)),
      m_hint(new QLabel(this)), m_error(new QLabel(this))
{
    setObjectName(QStringLiteral("addRunDialog"));
    setWindowTitle(tr("Add a run"));
    auto *label = new QLabel(tr("Kernel to watch (&owner/slug or a kaggle.com/code link):"), this);
    label->setBuddy(m_edit);
    m_edit->setObjectName(QStringLiteral("addRunEdit"));
    m_edit->setPlaceholderText(
        tr("e.g. alice/bert-imdb or https://www.kaggle.com/code/alice/bert-imdb"));
    m_edit->setClearButtonEnabled(true);
    m_edit->setMinimumWidth(m_edit->fontMetrics().averageCharWidth() * 64);
    m_hint->setObjectName(QStringLiteral("addRunHint"));
    m_hint->setForegroundRole(QPalette::PlaceholderText);
    m_error->setObjectName(QStringLiteral("addRunError"));
    m_error->setWordWrap(true);
    m_error->hide();

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    m_add = buttons->addButton(tr("&Add"), QDialogButtonBox::AcceptRole);
    m_add->setObjectName(QStringLiteral("addRunButton"));
    m_add->setDefault(true);
    connect(buttons, &QDialogButtonBox::accepted, this, &AddRunDialog::submit);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_edit, &QLineEdit::textChanged, this, &AddRunDialog::updateHint);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(label);
    layout->addWidget(m_edit);
    layout->addWidget(m_hint);
    layout->addWidget(m_error);
    layout->addStretch();
    layout->addWidget(buttons);
    updateHint();
}

void AddRunDialog::updateHint()
{
    m_error->hide();
    const QString text = m_edit->text().trimmed();
    m_add->setEnabled(!text.isEmpty());
    const auto ref = KernelRef::parse(text);
    m_hint->setText(text.isEmpty() ? tr("Your own kernels can all be added at once with "
                                        "Import my kernels.")
                    : ref          ? tr("Will watch %1").arg(ref->toString())
                                   : tr("Not a kernel reference yet"));
}

void AddRunDialog::submit()
{
    const Result<RunId> added = m_watch(m_edit->text());
    if (!added) {
        m_error->setStyleSheet(
            QStringLiteral("QLabel { color: %1; }").arg(theme::dangerColor(palette()).name()));
        m_error->setText(added.error().message);
        m_error->show();
        m_edit->setFocus();
        m_edit->selectAll();
        return;
    }
    emit runAdded(*added);
    accept();
}

} // namespace kd
