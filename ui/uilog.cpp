#include "uilog.h"

Q_LOGGING_CATEGORY(lcUi, "kaggledeck.ui", QtInfoMsg)
