#include "chaindialog.h"
