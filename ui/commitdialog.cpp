#include "commitdialog.h"
