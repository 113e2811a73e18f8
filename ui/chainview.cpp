#include "chainview.h"
