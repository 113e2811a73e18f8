#include "persistencedialog.h"
