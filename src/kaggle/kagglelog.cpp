#include "kagglelog.h"

namespace kd {

Q_LOGGING_CATEGORY(lcKaggle, "kaggledeck.kaggle", QtInfoMsg)

} // namespace kd
