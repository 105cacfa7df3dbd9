/* The HDF5 library lock, HDF5's error text, and opening files.
 *
 * The serial HDF5 library is not thread-safe, so every HDF5 call runs under
 * one mutex unless H5is_library_threadsafe says the library locks itself.
 * This lock guards the library, not any state of ours. While we hold it,
 * HDF5's automatic error printing is switched off; failed calls become
 * sl_error messages instead (with HDF5's innermost reason).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "h5.h"

static pthread_mutex_t h5_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t h5_once = PTHREAD_ONCE_INIT;
static bool h5_threadsafe;
static hid_t h5_fapl = H5P_DEFAULT; /* file access: how every input is opened */

/* H5Pset_file_locking appeared in 1.10.7 and 1.12.1. */
#define SL_H5_HAS_FILE_LOCKING                                             \
  (H5_VERS_MAJOR > 1 || H5_VERS_MINOR > 12 ||                              \
   (H5_VERS_MINOR == 12 && H5_VERS_RELEASE >= 1) ||                        \
   (H5_VERS_MINOR == 10 && H5_VERS_RELEASE >= 7))

static void h5_init(void) {
  hbool_t ts = 0;
  if (H5open() >= 0 && H5is_library_threadsafe(&ts) >= 0) h5_threadsafe = ts;
#if SL_H5_HAS_FILE_LOCKING
  /* Inputs are only ever read, and many ranks open the same files at once:
     HDF5's flock-based locking adds nothing but failures on filesystems
     without flock (some Lustre and NFS mounts). */
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl >= 0 && H5Pset_file_locking(fapl, 0, 1) >= 0) h5_fapl = fapl;
  else if (fapl >= 0) H5Pclose(fapl);
#endif
}

void sl__h5_lock(h5_guard *g) {
  pthread_once(&h5_once, h5_init);
  if (!h5_threadsafe) pthread_mutex_lock(&h5_mutex);
  H5Eget_auto2(H5E_DEFAULT, &g->fn, &g->data);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

void sl__h5_unlock(const h5_guard *g) {
  H5Eset_auto2(H5E_DEFAULT, g->fn, g->data);
  if (!h5_threadsafe) pthread_mutex_unlock(&h5_mutex);
}

/* --------------------------------------------------------------- errors */

static herr_t first_error(unsigned n, const H5E_error2_t *e, void *data) {
  char *buf = data;
  if (n == 0 && e->desc != NULL) snprintf(buf, 160, "%s", e->desc);
  return 0;
}

/* HDF5's innermost error description (the most specific one), for messages;
   a fixed 160-byte buffer keeps the one-line message readable. */
const char *sl__h5_reason(char buf[static 160]) {
  snprintf(buf, 160, "unknown HDF5 error");
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_error, buf);
  return buf;
}
/* ------------------------------------------------------- opening files */

static const unsigned char h5_signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

/* HDF5 puts its signature at byte 0 or, after a user block, at 512, 1024,
   2048, ...; checking it ourselves gives a clear "not an HDF5 file" and goes
   through io.c (read-only open, files-opened count, fault injection). */
sl_status sl__h5_check_signature(const sl_source *src, sl_error *err) {
  int64_t fsize = sl_source_size(src);
  bool found = false;
  for (int64_t off = 0; !found && off + 8 <= fsize; off = off ? off * 2 : 512) {
    unsigned char sig[8];
    SL_TRY(sl_source_read(src, off, sizeof sig, sig, err));
    found = memcmp(sig, h5_signature, sizeof sig) == 0;
  }
  if (!found)
    SL_FAIL(err, SL_EFORMAT, "%s: not an HDF5 file (expected the signature \\x89HDF\\r\\n"
            "\\x1a\\n at byte 0, 512, 1024, ... but found none in %lld bytes)",
            sl_source_path(src), (long long)fsize);
  return SL_OK;
}

/* HDF5 opens the file by name with a descriptor of its own: the file under
   that name now must be the one src holds, unchanged. */
sl_status sl__h5_open_file(const sl_source *src, hid_t *f, sl_error *err) {
  char why[160];
  const char *path = sl_source_path(src);
  *f = H5Fopen(path, H5F_ACC_RDONLY, h5_fapl);
  if (*f < 0)
    SL_FAIL(err, SL_EFORMAT, "%s: HDF5 cannot open the file: %s", path, sl__h5_reason(why));
  void *handle = NULL;
  sl_status st = SL_OK;
  if (H5Fget_vfd_handle(*f, H5P_DEFAULT, &handle) < 0 || handle == NULL)
    st = sl__fail(err, SL_EIO, "%s: cannot tell which file HDF5 opened: %s", path,
                  sl__h5_reason(why));
  else
    st = sl_source_check_fd(src, *(int *)handle, err);
  if (st != SL_OK) {
    H5Fclose(*f);
    *f = -1;
  }
  return st;
}
