#pragma once

#include "apierror.h"
#include "domain.h"

#include <QDialog>

#include <functional>

class QLabel;
class QLineEdit;
class QPushButton;

namespace kd {

/// Asks for a kernel to watch (owner/slug or a kaggle.com/code link) and shows why one is
/// refused right under the field, without closing.
class AddRunDialog final : public QDialog
{
    Q_OBJECT
public:
    using Watch = std::function<Result<RunId>(const QString &refOrUrl)>;

    explicit AddRunDialog(Watch watch, QWidget *parent = nullptr);

    QLineEdit *lineEdit() const { return m_edit; }

signals:
    void runAdded(kd::RunId run);

private:
    void updateHint();
    void submit();

    Watch m_watch;
    QLineEdit *m_edit;
    QLabel *m_hint;
    QLabel *m_error;
    QPushButton *m_add;
};

} // namespace kd
