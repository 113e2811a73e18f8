#pragma once

#include <QLoggingCategory>

namespace kd::net {
Q_DECLARE_LOGGING_CATEGORY(lcNet)
} // namespace kd::net
