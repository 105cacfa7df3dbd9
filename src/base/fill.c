/* Option fill_nulls: the text a user gives, as one element of the dtype being
   loaded. Shared by every table-format driver that meets nulls. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"

/* IEEE binary16 from a float, rounding to nearest even. */
uint16_t sl__half_from_float(float v) {
  uint32_t x;
  memcpy(&x, &v, 4);
  uint32_t sign = (x >> 16) & 0x8000, mant = x & 0x7fffff;
  int exp = (int)((x >> 23) & 0xff) - 127 + 15;
  if (((x >> 23) & 0xff) == 0xff) return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 : 0));
  if (exp >= 31) return (uint16_t)(sign | 0x7c00);
  uint32_t h, rem, halfway;
  if (exp <= 0) { /* subnormal half */
    if (exp < -10) return (uint16_t)sign;
    mant |= 0x800000;
    int shift = 14 - exp;
    h = mant >> shift;
    rem = mant & ((1u << shift) - 1);
    halfway = 1u << (shift - 1);
  } else {
    h = (uint32_t)exp << 10 | mant >> 13;
    rem = mant & 0x1fff;
    halfway = 0x1000;
  }
  if (rem > halfway || (rem == halfway && (h & 1))) h++; /* carries into the exponent */
  return (uint16_t)(sign | h);
}

/* Integer dtypes: the range a fill value must lie in. */
static bool int_range(sl_dtype dt, double *lo, double *hi) {
  static const struct { sl_dtype dt; double lo, hi; } r[] = {
      {SL_INT8, -128.0, 127.0}, {SL_INT16, -32768.0, 32767.0},
      {SL_INT32, -2147483648.0, 2147483647.0}, {SL_INT64, -9223372036854775808.0, 9223372036854775807.0},
      {SL_UINT8, 0, 255.0}, {SL_UINT16, 0, 65535.0}, {SL_UINT32, 0, 4294967295.0},
      {SL_UINT64, 0, 18446744073709551615.0}};
  for (size_t i = 0; i < SL_ARRAY_LEN(r); i++)
    if (r[i].dt == dt) {
      *lo = r[i].lo;
      *hi = r[i].hi;
      return true;
    }
  return false;
}

/* Integers parse exactly (int64/uint64 beyond 2^53 too); others via double. */
static bool parse_integer(const char *s, sl_dtype dt, uint8_t *out) {
  char *end;
  errno = 0;
  if (dt == SL_UINT64 && s[0] != '-') {
    unsigned long long u = strtoull(s, &end, 10);
    if (errno || *end || end == s) return false;
    memcpy(out, &u, 8);
    return true;
  }
  long long v = strtoll(s, &end, 10);
  if (errno || *end || end == s) return false;
  double lo, hi;
  if (!int_range(dt, &lo, &hi) || (double)v < lo || (double)v > hi) return false;
  int64_t x = v;
  memcpy(out, &x, sl_dtype_size(dt)); /* little-endian: the low bytes */
  return true;
}

static bool fill_from_double(double v, sl_dtype dt, uint8_t *out) {
  double lo, hi;
  if (dt == SL_BOOL) {
    out[0] = v != 0;
  } else if (dt == SL_FLOAT16) {
    uint16_t h = sl__half_from_float((float)v);
    memcpy(out, &h, 2);
  } else if (dt == SL_FLOAT32) {
    float x = (float)v;
    memcpy(out, &x, 4);
  } else if (dt == SL_FLOAT64) {
    memcpy(out, &v, 8);
  } else if (int_range(dt, &lo, &hi)) {
    if (v != floor(v) || v < lo || v > hi) return false;
    int64_t x = v >= 9223372036854775808.0 ? (int64_t)(uint64_t)v : (int64_t)v;
    memcpy(out, &x, sl_dtype_size(dt));
  } else {
    return false;
  }
  return true;
}

sl_status sl__parse_fill(const char *path, const char *s, sl_dtype dt, uint8_t *out,
                         sl_error *err) {
  memset(out, 0, sl_dtype_size(dt));
  if (parse_integer(s, dt, out)) return SL_OK;
  char *end;
  double v = strtod(s, &end);
  if (end == s || *end != '\0' || !fill_from_double(v, dt, out))
    SL_FAIL(err, SL_EINVAL, "%s: option fill_nulls '%s' is not a number that %s can hold", path, s,
            sl_dtype_str(dt));
  return SL_OK;
}
