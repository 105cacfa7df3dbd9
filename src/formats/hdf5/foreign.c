/* Data that HDF5 would read from other files: external storage
 * (H5Pset_external: raw bytes of any file, /etc/shadow included) and
 * virtual datasets (sources in other HDF5 files, by absolute or relative
 * name). A shard is untrusted input, so both are refused unless option
 * hdf5_allow_external is set, and even then every file must resolve
 * (realpath: symbolic links followed) to a file inside the directory of
 * the shard file; virtual sources are checked the same way, recursively.
 * The check runs wherever the dataset is described: at probe and at open.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5.h"

/* Virtual datasets whose sources are virtual, this deep at most. */
#define SL_H5_VDS_DEPTH 4

/* The directory part of path ("." for none), into buf. */
static void dir_of(const char *path, char buf[static PATH_MAX]) {
  const char *slash = strrchr(path, '/');
  if (slash == NULL) snprintf(buf, PATH_MAX, ".");
  else if (slash == path) snprintf(buf, PATH_MAX, "/");
  else snprintf(buf, PATH_MAX, "%.*s", (int)(slash - path), path);
}

/* name as HDF5 would find it next to the file at path: absolute, or
   relative to that file's directory; false when too long. */
static bool beside(const char *path, const char *name, char out[static PATH_MAX]) {
  char dir[PATH_MAX];
  dir_of(path, dir);
  int n = name[0] == '/' ? snprintf(out, PATH_MAX, "%s", name)
                         : snprintf(out, PATH_MAX, "%s/%s", dir, name);
  return n > 0 && n < PATH_MAX;
}

/* Whether real (a realpath) lies strictly inside directory root (one). */
static bool under(const char *real, const char *root) {
  size_t n = strlen(root);
  if (n == 1 && root[0] == '/') return real[0] == '/' && real[1] != '\0';
  return strncmp(real, root, n) == 0 && real[n] == '/';
}

bool sl__h5_inside_dir(const char *path, const char *name) {
  char want[PATH_MAX], dir[PATH_MAX], real[PATH_MAX], root[PATH_MAX];
  dir_of(path, dir);
  return beside(path, name, want) && realpath(dir, root) != NULL &&
         realpath(want, real) != NULL && under(real, root);
}

/* -------------------------------------------------------- the checks */

typedef struct foreign_ctx {
  const char *path, *name; /* the shard, for messages */
  bool allow;
  char root[PATH_MAX];     /* realpath of the shard file's directory */
} foreign_ctx;

/* Refuses file (named inside the HDF5 file at at) unless allowed and
   inside the root directory. what: "external storage file", ... */
static sl_status check_file(const foreign_ctx *c, const char *at, const char *file,
                            const char *what, const char *env, char resolved[static PATH_MAX],
                            sl_error *err) {
  if (!c->allow)
    SL_FAIL(err, SL_EFORMAT, "%s:%s: the dataset's data is read from another file (%s '%s'), "
            "which is refused: a shard must not make the reader open other files; set "
            "option hdf5_allow_external to read such files inside the dataset's directory",
            c->path, c->name, what, file);
  if (getenv(env) != NULL)
    SL_FAIL(err, SL_EFORMAT, "%s:%s: the %s '%s' cannot be checked while the environment "
            "variable %s is set (HDF5 then looks for it there); unset it", c->path, c->name,
            what, file, env);
  char real[PATH_MAX];
  if (!beside(at, file, resolved) || realpath(resolved, real) == NULL)
    SL_FAIL(err, SL_EFORMAT, "%s:%s: the %s '%s' does not resolve to an existing file next to "
            "%s", c->path, c->name, what, file, at);
  if (!under(real, c->root))
    SL_FAIL(err, SL_EFORMAT, "%s:%s: the %s '%s' resolves to %s, outside the dataset's "
            "directory %s, which is refused even with option hdf5_allow_external", c->path,
            c->name, what, file, real, c->root);
  return SL_OK;
}

static sl_status check_external(const foreign_ctx *c, const char *at, hid_t dcpl, int n,
                                sl_error *err) {
  for (int i = 0; i < n; i++) {
    char file[PATH_MAX] = "", resolved[PATH_MAX];
    off_t off = 0;
    hsize_t size = 0;
    if (H5Pget_external(dcpl, (unsigned)i, sizeof file, file, &off, &size) < 0 ||
        strnlen(file, sizeof file) + 1 >= sizeof file)
      SL_FAIL(err, SL_EFORMAT, "%s:%s: cannot read external storage entry %d", c->path,
              c->name, i);
    SL_TRY(check_file(c, at, file, "external storage file", "HDF5_EXTFILE_PREFIX", resolved,
                      err));
  }
  return SL_OK;
}

static sl_status check_dcpl(const foreign_ctx *c, hid_t f, const char *at, hid_t dcpl,
                            int depth, sl_error *err);

/* Source dataset dset of file fname (named inside the file at, open as f). */
static sl_status check_source(const foreign_ctx *c, hid_t f, const char *at, const char *fname,
                              const char *dset, int depth, sl_error *err) {
  if (strchr(fname, '%') != NULL || strchr(dset, '%') != NULL)
    SL_FAIL(err, SL_EFORMAT, "%s:%s: virtual source '%s' '%s' is named by a printf pattern, "
            "whose files cannot be checked beforehand; refused", c->path, c->name, fname, dset);
  char resolved[PATH_MAX];
  bool same = strcmp(fname, ".") == 0;
  if (same) snprintf(resolved, sizeof resolved, "%s", at);
  else SL_TRY(check_file(c, at, fname, "virtual dataset source", "HDF5_VDS_PREFIX", resolved, err));
  hid_t sf = same ? f : sl__h5_open_path(resolved);
  hid_t sd = sf >= 0 ? H5Dopen2(sf, dset, sl__h5_dapl(c->allow)) : -1;
  hid_t sp = sd >= 0 ? H5Dget_create_plist(sd) : -1;
  char why[160];
  sl_status st = SL_OK;
  if (sp < 0)
    st = sl__fail(err, SL_EFORMAT, "%s:%s: cannot open virtual source '%s' in %s: %s", c->path,
                  c->name, dset, resolved, sl__h5_reason(why));
  else
    st = check_dcpl(c, sf, resolved, sp, depth + 1, err);
  if (sp >= 0) H5Pclose(sp);
  if (sd >= 0) H5Dclose(sd);
  if (sf >= 0 && !same) sl__h5_close_file(sf);
  return st;
}

static sl_status check_virtual(const foreign_ctx *c, hid_t f, const char *at, hid_t dcpl,
                               int depth, sl_error *err) {
  size_t n = 0;
  if (H5Pget_virtual_count(dcpl, &n) < 0)
    SL_FAIL(err, SL_EFORMAT, "%s:%s: cannot read the virtual dataset's mappings", c->path,
            c->name);
  if (depth >= SL_H5_VDS_DEPTH)
    SL_FAIL(err, SL_EFORMAT, "%s:%s: virtual dataset sources nest more than %d deep (a cycle?); "
            "refused", c->path, c->name, SL_H5_VDS_DEPTH);
  for (size_t i = 0; i < n; i++) {
    char fname[PATH_MAX] = "", dset[1024] = "";
    ssize_t fl = H5Pget_virtual_filename(dcpl, i, fname, sizeof fname);
    ssize_t dl = H5Pget_virtual_dsetname(dcpl, i, dset, sizeof dset);
    if (fl < 0 || dl < 0 || (size_t)fl >= sizeof fname || (size_t)dl >= sizeof dset)
      SL_FAIL(err, SL_EFORMAT, "%s:%s: cannot read virtual mapping %zu (or its names are too "
              "long)", c->path, c->name, i);
    SL_TRY(check_source(c, f, at, fname, dset, depth, err));
  }
  return SL_OK;
}

static sl_status check_dcpl(const foreign_ctx *c, hid_t f, const char *at, hid_t dcpl,
                            int depth, sl_error *err) {
  int next = H5Pget_external_count(dcpl);
  if (next < 0)
    SL_FAIL(err, SL_EFORMAT, "%s:%s: cannot read the external storage list", c->path, c->name);
  if (next > 0) SL_TRY(check_external(c, at, dcpl, next, err));
  if (H5Pget_layout(dcpl) == H5D_VIRTUAL) SL_TRY(check_virtual(c, f, at, dcpl, depth, err));
  return SL_OK;
}

bool sl__h5_elsewhere(hid_t d, const char *path) {
  hid_t f = H5Iget_file_id(d);
  char name[PATH_MAX] = "";
  ssize_t n = f >= 0 ? H5Fget_name(f, name, sizeof name) : -1;
  if (f >= 0) H5Fclose(f);
  return n < 0 || (size_t)n >= sizeof name || strcmp(name, path) != 0;
}

sl_status sl__h5_check_foreign(hid_t d, hid_t dcpl, const char *path, const char *name,
                               bool allow, sl_error *err) {
  foreign_ctx c = {path, name, allow, ""};
  if (H5Pget_external_count(dcpl) == 0 && H5Pget_layout(dcpl) != H5D_VIRTUAL) return SL_OK;
  char dir[PATH_MAX];
  dir_of(path, dir);
  if (allow && realpath(dir, c.root) == NULL)
    SL_FAIL(err, SL_EIO, "%s:%s: cannot resolve the file's directory %s", path, name, dir);
  hid_t f = H5Iget_file_id(d);
  if (f < 0) SL_FAIL(err, SL_EFORMAT, "%s:%s: cannot tell the dataset's file", path, name);
  sl_status st = check_dcpl(&c, f, path, dcpl, 0, err);
  H5Fclose(f);
  return st;
}
