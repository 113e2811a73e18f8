#pragma once

#include <QLoggingCategory>

namespace kd {
/// Logging category of the run monitor ("kaggledeck.monitor"). Never log a credential.
Q_DECLARE_LOGGING_CATEGORY(lcMonitor)
} // namespace kd
