/* The table of format drivers: built-ins first (the list comes from the
 * build: each folder under src/formats/ adds its name in its driver.cmake),
 * user registrations on top. Nothing else in the library knows which
 * formats exist. A registered table is copied as far as its struct_size
 * reaches, the slots it is too old to have left NULL. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core.h"
#include "sl_drivers.h"

#define SL__DECLARE(n) extern const sl_driver sl__##n##_driver;
SL_BUILTIN_DRIVERS(SL__DECLARE)
#undef SL__DECLARE

static const sl_driver *const builtin[] = {
#define SL__ENTRY(n) &sl__##n##_driver,
    SL_BUILTIN_DRIVERS(SL__ENTRY)
#undef SL__ENTRY
    NULL,
};

#define SL_MAX_USER_DRIVERS 16
static sl_driver user[SL_MAX_USER_DRIVERS];
static size_t nuser;

/* The mandatory slots end with probe. */
#define SL_DRIVER_MIN_SIZE (offsetof(sl_driver, probe) + sizeof(void *))

sl_status sl_register_driver(const sl_driver *d, sl_error *err) {
  sl_error_clear(err);
  if (d == NULL || d->abi != SL_DRIVER_ABI)
    SL_FAIL(err, SL_EINVAL, "sl_register_driver: expected a driver of ABI %d but found %d",
            SL_DRIVER_ABI, d == NULL ? -1 : (int)d->abi);
  if (d->struct_size < SL_DRIVER_MIN_SIZE)
    SL_FAIL(err, SL_EINVAL, "sl_register_driver: a table of %u bytes is too short (at least "
            "%zu: abi, struct_size, name, extensions, probe)", (unsigned)d->struct_size,
            SL_DRIVER_MIN_SIZE);
  /* whole slots only: a size inside one would leave half a pointer */
  size_t n = SL_MIN((size_t)d->struct_size, sizeof(sl_driver)) / sizeof(void *) * sizeof(void *);
  sl_driver copy;
  memset(&copy, 0, sizeof copy);
  memcpy(&copy, d, n);
  copy.struct_size = sizeof copy;
  if (copy.name == NULL || copy.probe == NULL || copy.extensions == NULL)
    SL_FAIL(err, SL_EINVAL, "sl_register_driver: a driver needs a name, extensions and probe");
  if (copy.extents == NULL && copy.read == NULL)
    SL_FAIL(err, SL_EINVAL, "driver %s: needs extents or read", copy.name);
  if (nuser == SL_MAX_USER_DRIVERS)
    SL_FAIL(err, SL_EINVAL, "driver %s: at most %d drivers can be registered", copy.name,
            SL_MAX_USER_DRIVERS);
  user[nuser++] = copy;
  return SL_OK;
}

/* Later registrations win, then built-ins. */
static const sl_driver *nth_driver(size_t i) {
  if (i < nuser) return &user[nuser - 1 - i];
  i -= nuser;
  return i < SL_ARRAY_LEN(builtin) - 1 ? builtin[i] : NULL;
}

/* Whether name (any case) is one of d's names: its own, an alias, or an
   extension without the dot ("h5", "feather", "pq"). */
static bool named(const sl_driver *d, const char *name) {
  if (strcasecmp(d->name, name) == 0) return true;
  for (const char *const *a = d->aliases; a != NULL && *a != NULL; a++)
    if (strcasecmp(*a, name) == 0) return true;
  for (const char *const *e = d->extensions; *e != NULL; e++)
    if ((*e)[0] == '.' && strcasecmp(*e + 1, name) == 0) return true;
  return false;
}

const sl_driver *sl__driver_by_name(const char *name) {
  for (size_t i = 0; nth_driver(i) != NULL; i++) /* names first: registered ones win */
    if (strcmp(nth_driver(i)->name, name) == 0) return nth_driver(i);
  for (size_t i = 0; nth_driver(i) != NULL; i++)
    if (named(nth_driver(i), name)) return nth_driver(i);
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

static char names[128];
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

static void make_names(void) {
  size_t k = 0;
  for (size_t i = 0; builtin[i] != NULL && k < sizeof names; i++)
    k += (size_t)snprintf(names + k, sizeof names - k, "%s%s", i ? " " : "", builtin[i]->name);
}

const char *sl__driver_names(void) {
  pthread_once(&names_once, make_names);
  return names;
}

const char *sl_format_name(const char *format) {
  const sl_driver *d = format ? sl__driver_by_name(format) : NULL;
  return d ? d->name : NULL;
}

const char *sl_format_extension(const char *format, int *writable) {
  const sl_driver *d = format ? sl__driver_by_name(format) : NULL;
  if (writable) *writable = d != NULL && d->write != NULL;
  return d ? d->extensions[0] : NULL;
}

/* An existing directory at path is replaced only by a store over a store
   (the driver recognises it): never a user's directory of other things. */
static sl_status check_replaced(const sl_driver *d, const char *path, sl_error *err) {
  bool is_dir = false;
  sl_error none = {0};
  if (sl__path_kind(path, &is_dir, &none) != SL_OK || !is_dir) return SL_OK;
  char *file = NULL;
  sl_status st = d->store_file != NULL ? d->store_file(path, &file, &none) : SL_OK;
  bool store = st == SL_OK && file != NULL;
  sl__free(file);
  if (!store)
    SL_FAIL(err, SL_EINVAL, "%s: exists and is a directory that is not a %s store; refusing "
            "to replace it", path, d->name);
  return SL_OK;
}

sl_status sl_write_shard(const char *format, const char *path, sl_dtype dtype, int ndim,
                         const int64_t *shape, const void *data, sl_error *err) {
  return sl_write_shard_flags(format, path, dtype, ndim, shape, data, 0, err);
}

sl_status sl_write_shard_flags(const char *format, const char *path, sl_dtype dtype, int ndim,
                               const int64_t *shape, const void *data, unsigned flags,
                               sl_error *err) {
  sl_error_clear(err);
  if (flags & ~SL_WRITE_NO_SYNC) SL_FAIL(err, SL_EINVAL, "%s: unknown write flags %#x", path, flags);
  const sl_driver *d = format ? sl__driver_by_name(format) : sl__driver_for_path(path);
  if (d == NULL)
    SL_FAIL(err, SL_ENOTSUP, "%s: no format driver named '%s' in this build (built in: %s)",
            path, format ? format : "?", sl__driver_names());
  if (d->write == NULL) SL_FAIL(err, SL_ENOTSUP, "%s: the %s driver cannot write", path, d->name);
  if (ndim < 1 || ndim > SL_MAX_DIMS || sl_dtype_size(dtype) == 0)
    SL_FAIL(err, SL_EINVAL, "%s: bad dtype or ndim %d", path, ndim);
  SL_TRY(check_replaced(d, path, err));
  int fd;
  char *tmp;
  SL_TRY(sl__create_temp(path, &fd, &tmp, err));
  sl_status st = d->write(tmp, dtype, ndim, shape, data, err);
  if (st != SL_OK) {
    sl__error_rename(err, tmp, path);
    sl__abort_temp(fd, tmp);
    return st;
  }
  return sl__commit_temp(fd, tmp, path, !(flags & SL_WRITE_NO_SYNC), err);
}
