/* HDF5 types and our dtypes: what a file's type loads as (every integer
 * and IEEE float in either byte order, h5py's bool enum and complex
 * compound), the native memory type HDF5 converts into, and the file types
 * h5py writes. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "h5.h"

/* ------------------------------------------------------------- types */

static sl_status bad_type(const char *path, const char *name, const char *what,
                          sl_error *err) {
  SL_FAIL(err, SL_EFORMAT, "%s:%s: element type is %s, which cannot be loaded as numbers "
          "(expected bool, int8-64, uint8-64, float16/32/64 or complex64/128)", path, name,
          what);
}

static sl_status byte_order(hid_t t, size_t size, const char *path, const char *name,
                            int *swap, sl_error *err) {
  H5T_order_t o = H5Tget_order(t);
  if (size > 1 && o != H5T_ORDER_LE && o != H5T_ORDER_BE)
    return bad_type(path, name, "of a mixed (VAX) byte order", err);
  *swap = size > 1 && o == H5T_ORDER_BE;
  return SL_OK;
}

static sl_status int_type(hid_t t, const char *path, const char *name, sl_dtype *dt,
                          int *swap, sl_error *err) {
  static const sl_dtype by_size[2][9] = {
      {[1] = SL_UINT8, [2] = SL_UINT16, [4] = SL_UINT32, [8] = SL_UINT64},
      {[1] = SL_INT8, [2] = SL_INT16, [4] = SL_INT32, [8] = SL_INT64}};
  size_t size = H5Tget_size(t);
  bool sign = H5Tget_sign(t) == H5T_SGN_2;
  char what[96];
  if ((size != 1 && size != 2 && size != 4 && size != 8) || H5Tget_offset(t) != 0 ||
      H5Tget_precision(t) != 8 * size) {
    snprintf(what, sizeof what, "a %d-bit integer stored in %zu bytes", (int)H5Tget_precision(t),
             size);
    return bad_type(path, name, what, err);
  }
  *dt = by_size[sign][size];
  return byte_order(t, size, path, name, swap, err);
}

/* IEEE 754 binary16/32/64 only: sign, exponent and mantissa where numpy
   expects them. Other layouts would need a bit-level conversion. */
static sl_status float_type(hid_t t, const char *path, const char *name, sl_dtype *dt,
                            int *swap, sl_error *err) {
  size_t size = H5Tget_size(t), spos, epos, esize, mpos, msize;
  H5Tget_fields(t, &spos, &epos, &esize, &mpos, &msize);
  size_t eb = H5Tget_ebias(t);
  bool ieee = H5Tget_offset(t) == 0 && H5Tget_precision(t) == 8 * size &&
              H5Tget_norm(t) == H5T_NORM_IMPLIED && spos == 8 * size - 1 && mpos == 0 &&
              epos == msize && esize + msize + 1 == 8 * size &&
              ((size == 2 && esize == 5 && eb == 15) || (size == 4 && esize == 8 && eb == 127) ||
               (size == 8 && esize == 11 && eb == 1023));
  if (!ieee) {
    char what[128];
    snprintf(what, sizeof what, "a %zu-byte float that is not IEEE 754 (%zu exponent bits, "
             "%zu mantissa bits, bias %zu)", size, esize, msize, eb);
    return bad_type(path, name, what, err);
  }
  *dt = size == 2 ? SL_FLOAT16 : size == 4 ? SL_FLOAT32 : SL_FLOAT64;
  return byte_order(t, size, path, name, swap, err);
}

/* True when enum member i is called want and has value v. */
static bool enum_member_is(hid_t t, unsigned i, const char *want, int v) {
  char *n = H5Tget_member_name(t, i);
  signed char value = -1;
  bool ok = n != NULL && strcmp(n, want) == 0 && H5Tget_member_value(t, i, &value) >= 0 &&
            value == v;
  if (n != NULL) H5free_memory(n);
  return ok;
}

/* h5py stores bool as an enum of int8 {FALSE = 0, TRUE = 1}; its bytes are
   numpy's bool bytes. Other enums have no numpy meaning we could keep. */
static sl_status bool_type(hid_t t, const char *path, const char *name, sl_dtype *dt,
                           int *swap, sl_error *err) {
  hid_t base = H5Tget_super(t);
  bool ok = base >= 0 && H5Tget_class(base) == H5T_INTEGER && H5Tget_size(base) == 1 &&
            H5Tget_nmembers(t) == 2 &&
            ((enum_member_is(t, 0, "FALSE", 0) && enum_member_is(t, 1, "TRUE", 1)) ||
             (enum_member_is(t, 0, "TRUE", 1) && enum_member_is(t, 1, "FALSE", 0)));
  if (base >= 0) H5Tclose(base);
  if (!ok) return bad_type(path, name, "an enum that is not h5py's bool {FALSE=0, TRUE=1}", err);
  *dt = SL_BOOL;
  *swap = 0;
  return SL_OK;
}

/* Member i of a compound: a float of size fs at offset off, named like want. */
static bool complex_part(hid_t t, unsigned i, size_t fs, const char *want) {
  if (H5Tget_member_class(t, i) != H5T_FLOAT || H5Tget_member_offset(t, i) != i * fs)
    return false;
  char *n = H5Tget_member_name(t, i);
  hid_t m = H5Tget_member_type(t, i);
  bool ok = n != NULL && m >= 0 && H5Tget_size(m) == fs && tolower((unsigned char)n[0]) == *want;
  if (m >= 0) H5Tclose(m);
  if (n != NULL) H5free_memory(n);
  return ok;
}

/* h5py stores complex as a compound {r, i} of two equal IEEE floats. */
static sl_status complex_type(hid_t t, const char *path, const char *name, sl_dtype *dt,
                              int *swap, sl_error *err) {
  size_t size = H5Tget_size(t), fs = size / 2;
  if (H5Tget_nmembers(t) != 2 || (fs != 4 && fs != 8) || size != 2 * fs ||
      !complex_part(t, 0, fs, "r") || !complex_part(t, 1, fs, "i"))
    return bad_type(path, name, "a compound that is not h5py's complex {r, i} of two float32 "
                    "or two float64", err);
  hid_t re = H5Tget_member_type(t, 0), im = H5Tget_member_type(t, 1);
  sl_dtype part;
  int swap_re = 0, swap_im = 0;
  sl_status st = float_type(re, path, name, &part, &swap_re, err);
  if (st == SL_OK) st = float_type(im, path, name, &part, &swap_im, err);
  H5Tclose(re);
  H5Tclose(im);
  SL_TRY(st);
  if (swap_re != swap_im)
    return bad_type(path, name, "a complex whose two parts differ in byte order", err);
  *dt = fs == 4 ? SL_COMPLEX64 : SL_COMPLEX128;
  *swap = swap_re;
  return SL_OK;
}

static const char *class_name(H5T_class_t c) {
  switch (c) {
    case H5T_STRING: return "a string";
    case H5T_VLEN: return "a variable-length sequence";
    case H5T_ARRAY: return "an array type";
    case H5T_OPAQUE: return "opaque bytes";
    case H5T_REFERENCE: return "an object reference";
    case H5T_BITFIELD: return "a bitfield";
    case H5T_TIME: return "a time";
    default: return "of an unknown type class";
  }
}

/* The file type as one of our dtypes, and whether its bytes need a swap. */
sl_status sl__h5_classify(hid_t t, const char *path, const char *name, sl_dtype *dt,
                          int *swap, sl_error *err) {
  H5T_class_t c = H5Tget_class(t);
  switch (c) {
    case H5T_INTEGER: return int_type(t, path, name, dt, swap, err);
    case H5T_FLOAT: return float_type(t, path, name, dt, swap, err);
    case H5T_ENUM: return bool_type(t, path, name, dt, swap, err);
    case H5T_COMPOUND: return complex_type(t, path, name, dt, swap, err);
    default: return bad_type(path, name, class_name(c), err);
  }
}

/* The fixed native type of an integer or float dtype, -1 for the others.
   (H5T_NATIVE_* are function calls in disguise, so no table of them.) */
static hid_t native_fixed(sl_dtype dt) {
  switch (dt) {
    case SL_INT8: return H5T_NATIVE_INT8;
    case SL_INT16: return H5T_NATIVE_INT16;
    case SL_INT32: return H5T_NATIVE_INT32;
    case SL_INT64: return H5T_NATIVE_INT64;
    case SL_UINT8: return H5T_NATIVE_UINT8;
    case SL_UINT16: return H5T_NATIVE_UINT16;
    case SL_UINT32: return H5T_NATIVE_UINT32;
    case SL_UINT64: return H5T_NATIVE_UINT64;
    case SL_FLOAT32: return H5T_NATIVE_FLOAT;
    case SL_FLOAT64: return H5T_NATIVE_DOUBLE;
    default: return -1;
  }
}

/* A compound {re, im} of two part types, size 2*fs; NULL names mean r, i. */
static hid_t complex_compound(size_t fs, hid_t part, const char *re, const char *im) {
  hid_t t = H5Tcreate(H5T_COMPOUND, 2 * fs);
  if (t >= 0 && (H5Tinsert(t, re ? re : "r", 0, part) < 0 ||
                 H5Tinsert(t, im ? im : "i", fs, part) < 0)) {
    H5Tclose(t);
    t = -1;
  }
  return t;
}

/* The native memory type for dt, with the file type's member names where
   HDF5 matches members by name (complex). @return < 0 on failure. */
hid_t sl__h5_memory_type(sl_dtype dt, hid_t ftype) {
  if (dt == SL_BOOL) return H5Tcopy(ftype); /* one byte: nothing to convert */
  if (dt == SL_FLOAT16) {                   /* HDF5 has no native half */
    hid_t t = H5Tcopy(ftype);
    if (t >= 0 && H5Tset_order(t, H5Tget_order(H5T_NATIVE_INT)) < 0) {
      H5Tclose(t);
      t = -1;
    }
    return t;
  }
  if (dt == SL_COMPLEX64 || dt == SL_COMPLEX128) {
    char *re = H5Tget_member_name(ftype, 0), *im = H5Tget_member_name(ftype, 1);
    hid_t t = re == NULL || im == NULL ? -1
              : dt == SL_COMPLEX64     ? complex_compound(4, H5T_NATIVE_FLOAT, re, im)
                                       : complex_compound(8, H5T_NATIVE_DOUBLE, re, im);
    if (re != NULL) H5free_memory(re);
    if (im != NULL) H5free_memory(im);
    return t;
  }
  hid_t fixed = native_fixed(dt);
  return fixed >= 0 ? H5Tcopy(fixed) : -1;
}
/* --------------------------------------------------------- file types */

/* The fixed little-endian file type of an integer or float dtype, or -1. */
static hid_t file_fixed(sl_dtype dt) {
  switch (dt) {
    case SL_INT8: return H5T_STD_I8LE;
    case SL_INT16: return H5T_STD_I16LE;
    case SL_INT32: return H5T_STD_I32LE;
    case SL_INT64: return H5T_STD_I64LE;
    case SL_UINT8: return H5T_STD_U8LE;
    case SL_UINT16: return H5T_STD_U16LE;
    case SL_UINT32: return H5T_STD_U32LE;
    case SL_UINT64: return H5T_STD_U64LE;
    case SL_FLOAT32: return H5T_IEEE_F32LE;
    case SL_FLOAT64: return H5T_IEEE_F64LE;
    default: return -1;
  }
}

/* The file type h5py would write for dt, little-endian. */
hid_t sl__h5_file_type(sl_dtype dt) {
  hid_t t = -1;
  if (dt == SL_BOOL) {
    signed char no = 0, yes = 1;
    t = H5Tenum_create(H5T_NATIVE_INT8);
    if (t >= 0 && (H5Tenum_insert(t, "FALSE", &no) < 0 || H5Tenum_insert(t, "TRUE", &yes) < 0)) {
      H5Tclose(t);
      t = -1;
    }
  } else if (dt == SL_FLOAT16) { /* h5py's recipe for IEEE binary16 */
    t = H5Tcopy(H5T_IEEE_F32LE);
    if (t >= 0 && (H5Tset_fields(t, 15, 10, 5, 0, 10) < 0 || H5Tset_size(t, 2) < 0 ||
                   H5Tset_ebias(t, 15) < 0)) {
      H5Tclose(t);
      t = -1;
    }
  } else if (dt == SL_COMPLEX64) {
    t = complex_compound(4, H5T_IEEE_F32LE, NULL, NULL);
  } else if (dt == SL_COMPLEX128) {
    t = complex_compound(8, H5T_IEEE_F64LE, NULL, NULL);
  } else if (file_fixed(dt) >= 0) {
    t = H5Tcopy(file_fixed(dt));
  }
  return t;
}