#include "netlog.h"

namespace kd::net {
Q_LOGGING_CATEGORY(lcNet, "kaggledeck.net", QtInfoMsg)
} // namespace kd::net
