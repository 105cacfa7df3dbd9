/* The table of format drivers: built-ins first, user registrations on top.
   Nothing else in the library knows which formats exist. */
#include <string.h>

#include "sl_internal.h"

static const sl_driver *const builtin[] = {
    &sl__npy_driver,
#ifdef SL_HAVE_HDF5
    &sl__hdf5_driver,
#endif
#ifdef SL_HAVE_RAW
    &sl__raw_driver,
#endif
#ifdef SL_HAVE_PARQUET
    &sl__parquet_driver,
#endif
#ifdef SL_HAVE_ARROW
    &sl__arrow_driver,
#endif
    NULL,
};

#define SL_MAX_USER_DRIVERS 16
static const sl_driver *user[SL_MAX_USER_DRIVERS];
static size_t nuser;

sl_status sl_register_driver(const sl_driver *d, sl_error *err) {
  if (d == NULL || d->name == NULL || d->probe == NULL || d->extensions == NULL)
    SL_FAIL(err, SL_EINVAL, "sl_register_driver: a driver needs a name, extensions and probe");
  if (d->extents == NULL && d->read == NULL)
    SL_FAIL(err, SL_EINVAL, "driver %s: needs extents or read", d->name);
  if (nuser == SL_MAX_USER_DRIVERS)
    SL_FAIL(err, SL_EINVAL, "driver %s: at most %d drivers can be registered", d->name,
            SL_MAX_USER_DRIVERS);
  user[nuser++] = d;
  return SL_OK;
}

/* Later registrations win, then built-ins. */
static const sl_driver *nth_driver(size_t i) {
  if (i < nuser) return user[nuser - 1 - i];
  i -= nuser;
  return i < SL_ARRAY_LEN(builtin) - 1 ? builtin[i] : NULL;
}

const sl_driver *sl__driver_by_name(const char *name) {
  for (size_t i = 0; nth_driver(i) != NULL; i++)
    if (strcmp(nth_driver(i)->name, name) == 0) return nth_driver(i);
  return NULL;
}

const sl_driver *sl_find_driver(const char *name) {
  return name ? sl__driver_by_name(name) : NULL;
}

static bool has_suffix(const char *s, const char *suf) {
  size_t n = strlen(s), m = strlen(suf);
  return n >= m && strcmp(s + n - m, suf) == 0;
}

const sl_driver *sl__driver_for_path(const char *path) {
  for (size_t i = 0; nth_driver(i) != NULL; i++)
    for (const char *const *e = nth_driver(i)->extensions; *e != NULL; e++)
      if (has_suffix(path, *e)) return nth_driver(i);
  return NULL;
}

/* The extension of name that d claims, or NULL. */
const char *sl__driver_ext(const sl_driver *d, const char *name) {
  for (const char *const *e = d->extensions; *e != NULL; e++)
    if (has_suffix(name, *e)) return *e;
  return NULL;
}

const sl_driver *sl__driver_at(size_t i) { return nth_driver(i); }

const char *sl__driver_names(void) {
  static const char names[] = "npy"
#ifdef SL_HAVE_HDF5
                              " hdf5"
#endif
#ifdef SL_HAVE_RAW
                              " raw"
#endif
#ifdef SL_HAVE_PARQUET
                              " parquet"
#endif
#ifdef SL_HAVE_ARROW
                              " arrow"
#endif
      ;
  return names;
}

sl_status sl_write_shard(const char *format, const char *path, sl_dtype dtype, int ndim,
                         const int64_t *shape, const void *data, sl_error *err) {
  const sl_driver *d = format ? sl__driver_by_name(format) : sl__driver_for_path(path);
  if (d == NULL)
    SL_FAIL(err, SL_ENOTSUP, "%s: no format driver named '%s' in this build (built in: %s)",
            path, format ? format : "?", sl__driver_names());
  if (d->write == NULL) SL_FAIL(err, SL_ENOTSUP, "%s: the %s driver cannot write", path, d->name);
  if (ndim < 1 || ndim > SL_MAX_DIMS || sl_dtype_size(dtype) == 0)
    SL_FAIL(err, SL_EINVAL, "%s: bad dtype or ndim %d", path, ndim);
  int fd;
  char *tmp;
  SL_TRY(sl__create_temp(path, &fd, &tmp, err));
  sl_status st = d->write(tmp, dtype, ndim, shape, data, err);
  if (st != SL_OK) {
    sl__abort_temp(fd, tmp);
    return st;
  }
  return sl__commit_temp(fd, tmp, path, err);
}
