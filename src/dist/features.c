/* The one line of what this library was built with, for --version: it
   spans every layer (formats, executors, codecs, MPI), so it lives at the
   top. */
#include <stdio.h>
#include <string.h>

#include "dist.h"

const char *sl_features(void) {
  static _Thread_local char line[384];
  static const sl_executor *const optional[] = {&sl__exec_omp, &sl__exec_gpu};
  char variants[32] = "cpu";
  for (size_t i = 0; i < SL_ARRAY_LEN(optional); i++) {
    sl_error why = {0}; /* built but without a device still counts as built */
    if (optional[i]->available(&why) == SL_OK || why.code != SL_ENOTSUP)
      snprintf(variants + strlen(variants), sizeof variants - strlen(variants), " %s",
               optional[i]->name);
  }
  snprintf(line, sizeof line, "formats: %s; variants: %s; codecs: %s; mpi: %s; tables: casts",
           sl__driver_names(), variants, sl__codec_list(), sl__have_mpi() ? "yes" : "no");
  return line;
}
