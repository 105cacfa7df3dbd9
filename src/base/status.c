/* Status codes, error reports, dtypes and version: the tables every other
   file looks things up in. */
#include <stdio.h>
#include <string.h>

#include "base.h"

unsigned sl_version_number(void) { return SL_VERSION_NUMBER; }

const char *sl_strerror(sl_status code) {
  switch (code) {
#define SL__CASE(name, value, text) \
  case name:                        \
    return text;
    SL_STATUS_MAP(SL__CASE)
#undef SL__CASE
  }
  return "unknown status";
}

const char *sl_status_name(sl_status code) {
  switch (code) {
#define SL__CASE(name, value, text) \
  case name:                        \
    return #name;
    SL_STATUS_MAP(SL__CASE)
#undef SL__CASE
  }
  return "SL_UNKNOWN";
}

void sl_error_clear(sl_error *e) {
  if (e == NULL) return;
  e->code = SL_OK;
  e->message[0] = '\0';
}

/* Messages are one line: any newline a caller's text brings is flattened. */
static void flatten(char *s) {
  for (; *s; s++)
    if (*s == '\n' || *s == '\r') *s = ' ';
}

sl_status sl__vfail(sl_error *err, sl_status code, const char *fmt, va_list ap) {
  if (err == NULL || err->code != SL_OK) return code;
  err->code = code;
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  flatten(err->message);
  return code;
}

sl_status sl__fail(sl_error *err, sl_status code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sl__vfail(err, code, fmt, ap);
  va_end(ap);
  return code;
}

sl_status sl_error_setf(sl_error *err, sl_status code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sl__vfail(err, code, fmt, ap);
  va_end(ap);
  return code;
}

/* Writers work under a temporary name; their messages name the output
   instead, which is what the user asked for. */
void sl__error_rename(sl_error *err, const char *from, const char *to) {
  if (err == NULL || from == NULL || *from == '\0') return;
  char out[sizeof err->message];
  size_t k = 0, nf = strlen(from), nt = strlen(to);
  for (const char *p = err->message; *p && k + 1 < sizeof out;) {
    if (strncmp(p, from, nf) == 0 && k + nt + 1 < sizeof out) {
      memcpy(out + k, to, nt);
      k += nt;
      p += nf;
    } else {
      out[k++] = *p++;
    }
  }
  out[k] = '\0';
  memcpy(err->message, out, k + 1);
}

/* ------------------------------------------------------------------ dtypes */

typedef struct dtype_row {
  const char *str;
  size_t size;
  const char *name;
} dtype_row;

static const dtype_row dtypes[] = {
    [SL_BOOL] = {"|b1", 1, "bool"},          [SL_INT8] = {"|i1", 1, "int8"},
    [SL_INT16] = {"<i2", 2, "int16"},        [SL_INT32] = {"<i4", 4, "int32"},
    [SL_INT64] = {"<i8", 8, "int64"},        [SL_UINT8] = {"|u1", 1, "uint8"},
    [SL_UINT16] = {"<u2", 2, "uint16"},      [SL_UINT32] = {"<u4", 4, "uint32"},
    [SL_UINT64] = {"<u8", 8, "uint64"},      [SL_FLOAT16] = {"<f2", 2, "float16"},
    [SL_FLOAT32] = {"<f4", 4, "float32"},    [SL_FLOAT64] = {"<f8", 8, "float64"},
    [SL_COMPLEX64] = {"<c8", 8, "complex64"}, [SL_COMPLEX128] = {"<c16", 16, "complex128"},
};
_Static_assert(SL_ARRAY_LEN(dtypes) == SL_DTYPE_COUNT, "one row per dtype");

size_t sl_dtype_size(sl_dtype t) {
  return (unsigned)t < SL_DTYPE_COUNT ? dtypes[t].size : 0;
}

const char *sl_dtype_str(sl_dtype t) {
  return (unsigned)t < SL_DTYPE_COUNT ? dtypes[t].str : "?";
}

/* Matches the kind+size part of a numpy spelling ("f4", "b1", "c16"). */
static bool parse_code(const char *s, sl_dtype *out) {
  for (int t = 0; t < SL_DTYPE_COUNT; t++) {
    if (strcmp(s, dtypes[t].str + 1) == 0 || strcmp(s, dtypes[t].name) == 0) {
      *out = (sl_dtype)t;
      return true;
    }
  }
  if (strcmp(s, "?") == 0 || strcmp(s, "b") == 0) *out = SL_BOOL;
  else if (strcmp(s, "B") == 0) *out = SL_UINT8;
  else if (strcmp(s, "half") == 0) *out = SL_FLOAT16;
  else if (strcmp(s, "float") == 0 || strcmp(s, "double") == 0) *out = SL_FLOAT64;
  else return false;
  return true;
}

sl_status sl_dtype_parse(const char *s, sl_dtype *out, int *swap) {
  if (s == NULL || out == NULL) return SL_EINVAL;
  int big = 0;
  if (*s == '<' || *s == '|' || *s == '=') {
    s++;
  } else if (*s == '>') {
    big = 1;
    s++;
  }
  sl_dtype t;
  if (!parse_code(s, &t)) return SL_EINVAL;
  *out = t;
  if (swap != NULL) *swap = big && dtypes[t].size > 1;
  return SL_OK;
}

size_t sl__swap_unit(sl_dtype t) {
  if (t == SL_COMPLEX64) return 4;
  if (t == SL_COMPLEX128) return 8;
  return sl_dtype_size(t);
}

#define SL__BSWAP_LOOP(type, fn)      \
  do {                                \
    type *p = buf;                    \
    for (size_t i = 0; i < n; i++) p[i] = fn(p[i]); \
  } while (0)

void sl__byteswap(void *buf, size_t n, size_t elem_size, sl_dtype t) {
  size_t unit = sl__swap_unit(t);
  n = n * elem_size / unit;
  switch (unit) {
    case 2: SL__BSWAP_LOOP(uint16_t, __builtin_bswap16); break;
    case 4: SL__BSWAP_LOOP(uint32_t, __builtin_bswap32); break;
    case 8: SL__BSWAP_LOOP(uint64_t, __builtin_bswap64); break;
    default: break;
  }
}
