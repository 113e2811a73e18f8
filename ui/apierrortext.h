#pragma once

#include "apierror.h"

#include <QString>

namespace kd {

/// What a failed Kaggle call means to the user, one or two sentences; `subject` names what was
/// asked for (e.g. "alice/train"). The detail tabs show it inline, never in a dialog.
QString apiErrorText(const ApiError &error, const QString &subject);

} // namespace kd
