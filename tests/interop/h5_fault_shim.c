/* An LD_PRELOAD stand-in for the corrupt files that crash libhdf5 1.10.8
 * inside H5Dread and H5Lvisit (issue P5, finding 9): those files depend on
 * HDF5's bugs, this does not. H5Dread and H5Lvisit raise SIGSEGV, as the
 * real crashes do, when the file they work on has a name containing
 * $SL_SHIM_CRASH_READ or $SL_SHIM_CRASH_VISIT; otherwise they call HDF5.
 * Built as a module by tests/hdf5.cmake, used by test_h5py_hostile.py. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

static void maybe_crash(hid_t obj, const char *var) {
  const char *want = getenv(var);
  char name[4096] = "";
  if (want != NULL && *want && H5Fget_name(obj, name, sizeof name) > 0 && strstr(name, want))
    raise(SIGSEGV);
}

herr_t H5Dread(hid_t d, hid_t mt, hid_t ms, hid_t fs, hid_t xfer, void *buf) {
  herr_t (*real)(hid_t, hid_t, hid_t, hid_t, hid_t, void *);
  *(void **)&real = dlsym(RTLD_NEXT, "H5Dread");
  maybe_crash(d, "SL_SHIM_CRASH_READ");
  return real(d, mt, ms, fs, xfer, buf);
}

herr_t H5Lvisit(hid_t g, H5_index_t idx, H5_iter_order_t order, H5L_iterate_t op, void *data) {
  herr_t (*real)(hid_t, H5_index_t, H5_iter_order_t, H5L_iterate_t, void *);
  *(void **)&real = dlsym(RTLD_NEXT, "H5Lvisit");
  maybe_crash(g, "SL_SHIM_CRASH_VISIT");
  return real(g, idx, order, op, data);
}
