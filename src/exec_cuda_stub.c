/* Built when CUDA is not: the gpu variant says which option would add it. */
#include "sl_internal.h"

bool sl__have_cuda(void) { return false; }
