#include "outputdatasetdialog.h"
