#pragma once

#include <QLoggingCategory>

namespace kd {

/// Logging category of the Kaggle client ("kaggledeck.kaggle"). Never log a credential.
Q_DECLARE_LOGGING_CATEGORY(lcKaggle)

} // namespace kd
