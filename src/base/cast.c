/* Casting between element types, as numpy does: which casts a casting
 * rule allows (numpy.can_cast for the numeric dtypes) and converting values
 * (ndarray.astype). Pure functions, shared by every driver that loads
 * columns of different types into one array (option dtype, option cast).
 *
 * Values convert directly from the source type to the target (int64 to
 * float32 is one rounding, not two through float64); to nearest, ties to
 * even, as C's conversions and numpy's do. Integers narrow modulo 2^bits.
 * Complex to real keeps the real part. A float that does not fit the
 * target integer (NaN, infinities, beyond int64) is undefined in C and
 * platform-dependent in numpy: here it becomes INT64_MIN (what x86's
 * conversion gives) narrowed to the target's width; a finite one in range
 * of int64 truncates toward zero and then narrows, as numpy does on x86.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "base.h"

/* ---------------------------------------------------------------- rules */

/* numpy's kinds, in the order same_kind casting may climb. */
enum { K_BOOL, K_UINT, K_INT, K_FLOAT, K_COMPLEX };

static int kind(sl_dtype t) {
  switch (t) {
    case SL_BOOL: return K_BOOL;
    case SL_UINT8: case SL_UINT16: case SL_UINT32: case SL_UINT64: return K_UINT;
    case SL_INT8: case SL_INT16: case SL_INT32: case SL_INT64: return K_INT;
    case SL_FLOAT16: case SL_FLOAT32: case SL_FLOAT64: return K_FLOAT;
    default: return K_COMPLEX;
  }
}

/* Bytes of one real component (a complex64 is two 4-byte floats). */
static size_t part_size(sl_dtype t) {
  return kind(t) == K_COMPLEX ? sl_dtype_size(t) / 2 : sl_dtype_size(t);
}

/* numpy's "safe": every value of from is a value of to. An integer fits a
   float whose size is at least twice its own (int64 to float64 is deemed
   safe by numpy too, though not exact). */
static bool safe(sl_dtype from, sl_dtype to) {
  int kf = kind(from), kt = kind(to);
  size_t sf = part_size(from), st = part_size(to);
  if (from == to || kf == K_BOOL) return true;
  switch (kt) {
    case K_BOOL: return false;
    case K_UINT: return kf == K_UINT && st >= sf;
    case K_INT: return (kf == K_INT && st >= sf) || (kf == K_UINT && st > sf);
    default: /* float or complex */
      if (kf == K_COMPLEX && kt != K_COMPLEX) return false;
      if (kf >= K_FLOAT) return st >= sf;
      return st == 8 || st > sf; /* an integer: float64 holds any, else twice the size */
  }
}

bool sl__can_cast(sl_dtype from, sl_dtype to, sl_casting rule) {
  if (sl_dtype_size(from) == 0 || sl_dtype_size(to) == 0) return false;
  switch (rule) {
    case SL_CAST_NO: case SL_CAST_EQUIV: return from == to;
    case SL_CAST_SAFE: return safe(from, to);
    case SL_CAST_SAME_KIND: return safe(from, to) || kind(from) <= kind(to);
    case SL_CAST_UNSAFE: return true;
  }
  return false;
}

static const char *const rule_names[] = {"no", "equiv", "safe", "same_kind", "unsafe"};

const char *sl__casting_name(sl_casting rule) {
  return (unsigned)rule < SL_ARRAY_LEN(rule_names) ? rule_names[rule] : "?";
}

bool sl__casting_parse(const char *s, sl_casting *out) {
  for (size_t i = 0; i < SL_ARRAY_LEN(rule_names); i++)
    if (strcmp(s, rule_names[i]) == 0) {
      *out = (sl_casting)i;
      return true;
    }
  return false;
}

/* ---------------------------------------------------------- conversions */

/* Every source value is loaded as one of four classes (exactly: a float32
   or float16 is exactly a double), then stored into the target. */
typedef struct cplx {
  double re, im;
} cplx;

static double half_to_double(uint16_t h) {
  int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(m | 0x400, e - 25);
  return (h & 0x8000) ? -v : v;
}

/* IEEE binary16 from a double, one rounding (to nearest, ties to even). */
static uint16_t half_from_double(double d) {
  uint16_t sign = signbit(d) ? 0x8000 : 0;
  double a = fabs(d);
  if (isnan(d)) return (uint16_t)(sign | 0x7e00);
  if (a >= 65520.0) return (uint16_t)(sign | 0x7c00); /* rounds past the largest, 65504 */
  if (a == 0) return sign;
  int e;
  frexp(a, &e); /* a = f * 2^e, f in [0.5, 1) */
  int exp = e - 1;                       /* a in [2^exp, 2^(exp+1)) */
  int q = exp < -14 ? -24 : exp - 10;    /* the value of the last mantissa bit */
  double units = nearbyint(ldexp(a, -q)); /* rounds to nearest even (default mode) */
  uint32_t u = (uint32_t)units;
  if (q == -24) return (uint16_t)(sign | u); /* subnormal (or the smallest normal at 1024) */
  /* u in [1024, 2048]: 2048 carries into the exponent */
  if (u == 2048) u = 1024, q++;
  return (uint16_t)(sign | (uint32_t)(q + 10 + 15) << 10 | (u - 1024));
}

/* A float as an integer (see the header comment for values out of range). */
static int64_t f_to_i64(double d) {
  if (!(d > -9223372036854777856.0 && d < 9223372036854775808.0)) return INT64_MIN;
  return (int64_t)d;
}

static uint64_t f_to_u64(double d) {
  if (d >= 9223372036854775808.0 && d < 18446744073709551616.0) return (uint64_t)d;
  return (uint64_t)f_to_i64(d);
}

/* Loads: p may be unaligned. */
#define LOADER(name, CT, RT)                        \
  static inline RT name(const uint8_t *p) {         \
    CT v;                                           \
    memcpy(&v, p, sizeof v);                        \
    return (RT)v;                                   \
  }
LOADER(ld_i8, int8_t, int64_t)
LOADER(ld_i16, int16_t, int64_t)
LOADER(ld_i32, int32_t, int64_t)
LOADER(ld_i64, int64_t, int64_t)
LOADER(ld_u8, uint8_t, uint64_t)
LOADER(ld_u16, uint16_t, uint64_t)
LOADER(ld_u32, uint32_t, uint64_t)
LOADER(ld_u64, uint64_t, uint64_t)
LOADER(ld_f32, float, double)
LOADER(ld_f64, double, double)
static inline int64_t ld_b(const uint8_t *p) { return p[0] != 0; }
static inline double ld_f16(const uint8_t *p) {
  uint16_t h;
  memcpy(&h, p, 2);
  return half_to_double(h);
}
static inline cplx ld_c64(const uint8_t *p) {
  float v[2];
  memcpy(v, p, sizeof v);
  return (cplx){v[0], v[1]};
}
static inline cplx ld_c128(const uint8_t *p) {
  double v[2];
  memcpy(v, p, sizeof v);
  return (cplx){v[0], v[1]};
}

/* Stores: put_<target>_<class>(dst, value), class i (int64), u (uint64),
   f (double), c (complex). */
#define PUT(d, CT, expr)      \
  do {                        \
    CT v_ = (expr);           \
    memcpy((d), &v_, sizeof v_); \
  } while (0)

/* Integers narrow through their unsigned type: modulo 2^bits. */
#define INT_PUTS(T, CT, UT)                                                            \
  static inline void put_##T##_i(uint8_t *d, int64_t v) { PUT(d, UT, (UT)(uint64_t)v); } \
  static inline void put_##T##_u(uint8_t *d, uint64_t v) { PUT(d, UT, (UT)v); }          \
  static inline void put_##T##_f(uint8_t *d, double v) { PUT(d, UT, (UT)(uint64_t)f_to_i64(v)); } \
  static inline void put_##T##_c(uint8_t *d, cplx v) { put_##T##_f(d, v.re); }
INT_PUTS(i8, int8_t, uint8_t)
INT_PUTS(i16, int16_t, uint16_t)
INT_PUTS(i32, int32_t, uint32_t)
INT_PUTS(i64, int64_t, uint64_t)
INT_PUTS(u8, uint8_t, uint8_t)
INT_PUTS(u16, uint16_t, uint16_t)
INT_PUTS(u32, uint32_t, uint32_t)
static inline void put_u64_i(uint8_t *d, int64_t v) { PUT(d, uint64_t, (uint64_t)v); }
static inline void put_u64_u(uint8_t *d, uint64_t v) { PUT(d, uint64_t, v); }
static inline void put_u64_f(uint8_t *d, double v) { PUT(d, uint64_t, f_to_u64(v)); }
static inline void put_u64_c(uint8_t *d, cplx v) { put_u64_f(d, v.re); }

static inline void put_b_i(uint8_t *d, int64_t v) { d[0] = v != 0; }
static inline void put_b_u(uint8_t *d, uint64_t v) { d[0] = v != 0; }
static inline void put_b_f(uint8_t *d, double v) { d[0] = v != 0; } /* NaN is true */
static inline void put_b_c(uint8_t *d, cplx v) { d[0] = v.re != 0 || v.im != 0; }

#define FLOAT_PUTS(T, CT)                                                           \
  static inline void put_##T##_i(uint8_t *d, int64_t v) { PUT(d, CT, (CT)v); }      \
  static inline void put_##T##_u(uint8_t *d, uint64_t v) { PUT(d, CT, (CT)v); }     \
  static inline void put_##T##_f(uint8_t *d, double v) { PUT(d, CT, (CT)v); }       \
  static inline void put_##T##_c(uint8_t *d, cplx v) { PUT(d, CT, (CT)v.re); }
FLOAT_PUTS(f32, float)
FLOAT_PUTS(f64, double)
/* int64 -> float16 through double: two roundings, but every integer that
   differs by them is beyond float16's range. */
static inline void put_f16_i(uint8_t *d, int64_t v) { PUT(d, uint16_t, half_from_double((double)v)); }
static inline void put_f16_u(uint8_t *d, uint64_t v) { PUT(d, uint16_t, half_from_double((double)v)); }
static inline void put_f16_f(uint8_t *d, double v) { PUT(d, uint16_t, half_from_double(v)); }
static inline void put_f16_c(uint8_t *d, cplx v) { put_f16_f(d, v.re); }

#define CPLX_PUTS(T, CT)                                                                     \
  static inline void put_##T##_i(uint8_t *d, int64_t v) { CT p[2] = {(CT)v, 0}; memcpy(d, p, sizeof p); } \
  static inline void put_##T##_u(uint8_t *d, uint64_t v) { CT p[2] = {(CT)v, 0}; memcpy(d, p, sizeof p); } \
  static inline void put_##T##_f(uint8_t *d, double v) { CT p[2] = {(CT)v, 0}; memcpy(d, p, sizeof p); } \
  static inline void put_##T##_c(uint8_t *d, cplx v) { CT p[2] = {(CT)v.re, (CT)v.im}; memcpy(d, p, sizeof p); }
CPLX_PUTS(c64, float)
CPLX_PUTS(c128, double)

/* One loop per (source, target) pair: the switches are outside the loop. */
#define TARGET(E, T, CL, LD)                                          \
  case E:                                                             \
    for (int64_t i = 0; i < n; i++)                                   \
      put_##T##_##CL(dst + (size_t)i * ds, LD(src + (size_t)i * ss)); \
    return;
#define TARGETS(CL, LD)                                                                 \
  switch (to) {                                                                         \
    TARGET(SL_BOOL, b, CL, LD) TARGET(SL_INT8, i8, CL, LD) TARGET(SL_INT16, i16, CL, LD) \
    TARGET(SL_INT32, i32, CL, LD) TARGET(SL_INT64, i64, CL, LD)                          \
    TARGET(SL_UINT8, u8, CL, LD) TARGET(SL_UINT16, u16, CL, LD)                          \
    TARGET(SL_UINT32, u32, CL, LD) TARGET(SL_UINT64, u64, CL, LD)                        \
    TARGET(SL_FLOAT16, f16, CL, LD) TARGET(SL_FLOAT32, f32, CL, LD)                      \
    TARGET(SL_FLOAT64, f64, CL, LD) TARGET(SL_COMPLEX64, c64, CL, LD)                    \
    TARGET(SL_COMPLEX128, c128, CL, LD)                                                  \
    default: return;                                                                    \
  }
#define SOURCE(E, CL, LD) \
  case E: TARGETS(CL, LD)

void sl__convert(uint8_t *dst, size_t ds, sl_dtype to, const uint8_t *src, sl_dtype from,
                 int64_t n) {
  size_t ss = sl_dtype_size(from);
  if (from == to && ds == ss) {
    memcpy(dst, src, (size_t)n * ss);
    return;
  }
  switch (from) {
    SOURCE(SL_BOOL, i, ld_b)
    SOURCE(SL_INT8, i, ld_i8)
    SOURCE(SL_INT16, i, ld_i16)
    SOURCE(SL_INT32, i, ld_i32)
    SOURCE(SL_INT64, i, ld_i64)
    SOURCE(SL_UINT8, u, ld_u8)
    SOURCE(SL_UINT16, u, ld_u16)
    SOURCE(SL_UINT32, u, ld_u32)
    SOURCE(SL_UINT64, u, ld_u64)
    SOURCE(SL_FLOAT16, f, ld_f16)
    SOURCE(SL_FLOAT32, f, ld_f32)
    SOURCE(SL_FLOAT64, f, ld_f64)
    SOURCE(SL_COMPLEX64, c, ld_c64)
    SOURCE(SL_COMPLEX128, c, ld_c128)
    default: return;
  }
}

/* ---------------------------------------------------------- the options */

sl_status sl__cast_options(const char *where, const sl_open_options *o, bool *has,
                           sl_dtype *to, sl_casting *rule, sl_error *err) {
  *has = false;
  *rule = SL_CAST_SAME_KIND;
  const char *cast = o->struct_size >= offsetof(sl_open_options, cast) + sizeof o->cast ? o->cast : NULL;
  if (cast != NULL && !sl__casting_parse(cast, rule))
    SL_FAIL(err, SL_EINVAL, "%s: option cast '%s' is not a casting rule (expected "
            "same_kind or unsafe, or numpy's no, equiv, safe)", where, cast);
  if (o->dtype == NULL) return SL_OK;
  int swap = 0;
  if (sl_dtype_parse(o->dtype, to, &swap) != SL_OK)
    SL_FAIL(err, SL_EINVAL, "%s: option dtype '%s' is not a numeric dtype this library "
            "knows", where, o->dtype);
  if (swap)
    SL_FAIL(err, SL_EINVAL, "%s: option dtype '%s' asks for a byte order: columns load in "
            "native order; give the type alone (e.g. '%s')", where, o->dtype, sl_dtype_str(*to));
  *has = true;
  return SL_OK;
}
