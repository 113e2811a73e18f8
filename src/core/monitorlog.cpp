#include "monitorlog.h"

namespace kd {
Q_LOGGING_CATEGORY(lcMonitor, "kaggledeck.monitor", QtInfoMsg)
} // namespace kd
