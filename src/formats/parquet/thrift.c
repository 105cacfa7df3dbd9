/* Thrift compact protocol, read side only, as Parquet uses it.
 *
 * A field header is one byte: field-id delta (high nibble, 0 = an explicit
 * zigzag i16 follows) and type (low nibble); booleans live in the type.
 * Integers are zigzag LEB128 varints, binary is a varint length and bytes,
 * a list header is size (high nibble, 15 = a varint follows) and element
 * type. Every read is bounded by the buffer; list sizes may not exceed the
 * bytes left (every element takes at least one byte) and nesting is capped,
 * so a hostile footer can neither read out of bounds nor recurse deeply.
 */
#include <string.h>

#include "pq.h"

void pq_fail(pq_thrift *t, const char *why) {
  if (t->why == NULL) t->why = why;
  t->p = t->end;
}

void pq_thrift_init(pq_thrift *t, const void *p, size_t n) {
  t->p = p;
  t->end = t->p + n;
  t->depth = 0;
  t->why = NULL;
}

size_t pq_consumed(const pq_thrift *t, const void *start) {
  return (size_t)(t->p - (const uint8_t *)start);
}

static uint64_t varint(pq_thrift *t) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (t->p >= t->end) {
      pq_fail(t, "Thrift data ends inside a varint");
      return 0;
    }
    uint8_t b = *t->p++;
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  pq_fail(t, "Thrift varint is longer than 10 bytes");
  return 0;
}

static int64_t zigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

bool pq_field(pq_thrift *t, int16_t *last, int16_t *id, int *type) {
  if (t->why != NULL) return false;
  if (t->p >= t->end) {
    pq_fail(t, "Thrift data ends inside a struct");
    return false;
  }
  uint8_t b = *t->p++;
  if (b == PQ_T_STOP) return false;
  *type = b & 0x0f;
  int delta = b >> 4;
  int64_t v = delta ? *last + delta : zigzag(varint(t));
  if (v < INT16_MIN || v > INT16_MAX || *type > PQ_T_STRUCT) {
    pq_fail(t, "Thrift field header is invalid");
    return false;
  }
  *id = *last = (int16_t)v;
  return t->why == NULL;
}

int64_t pq_int(pq_thrift *t, int type) {
  if (type == PQ_T_BYTE) {
    if (t->p >= t->end) {
      pq_fail(t, "Thrift data ends inside a byte");
      return 0;
    }
    return (int8_t)*t->p++;
  }
  if (type != PQ_T_I16 && type != PQ_T_I32 && type != PQ_T_I64) {
    pq_fail(t, "Thrift field has a non-integer type where an integer belongs");
    return 0;
  }
  return zigzag(varint(t));
}

int32_t pq_i32(pq_thrift *t, int type, int32_t lo, int32_t hi) {
  int64_t v = pq_int(t, type);
  if (v < lo || v > hi) {
    pq_fail(t, "Thrift integer field is out of range");
    return lo;
  }
  return (int32_t)v;
}

bool pq_bool(pq_thrift *t, int type) {
  if (type == PQ_T_TRUE || type == PQ_T_FALSE) return type == PQ_T_TRUE;
  pq_fail(t, "Thrift field has a non-boolean type where a boolean belongs");
  return false;
}

const uint8_t *pq_binary(pq_thrift *t, int type, size_t *len) {
  *len = 0;
  if (type != PQ_T_BINARY) {
    pq_fail(t, "Thrift field has a non-binary type where a string belongs");
    return NULL;
  }
  uint64_t n = varint(t);
  if (t->why != NULL) return NULL;
  if (n > (uint64_t)(t->end - t->p)) {
    pq_fail(t, "Thrift string is longer than the data left");
    return NULL;
  }
  const uint8_t *s = t->p;
  t->p += n;
  *len = (size_t)n;
  return s;
}

bool pq_list(pq_thrift *t, int type, int *elem, int64_t *n) {
  *n = 0;
  if (type != PQ_T_LIST && type != PQ_T_SET) {
    pq_fail(t, "Thrift field has a non-list type where a list belongs");
    return false;
  }
  if (t->p >= t->end) {
    pq_fail(t, "Thrift data ends inside a list header");
    return false;
  }
  uint8_t b = *t->p++;
  *elem = b & 0x0f;
  uint64_t size = b >> 4;
  if (size == 15) size = varint(t);
  if (t->why != NULL) return false;
  if (size > (uint64_t)(t->end - t->p)) {
    pq_fail(t, "Thrift list claims more elements than bytes left");
    return false;
  }
  *n = (int64_t)size;
  return true;
}

bool pq_enter(pq_thrift *t, int type) {
  if (type != PQ_T_STRUCT) {
    pq_fail(t, "Thrift field has a non-struct type where a struct belongs");
    return false;
  }
  if (++t->depth > PQ_MAX_DEPTH) {
    pq_fail(t, "Thrift structs nest too deeply");
    return false;
  }
  return t->why == NULL;
}

void pq_leave(pq_thrift *t) { t->depth--; }

static void skip_struct(pq_thrift *t) {
  int16_t last = 0, id;
  int type;
  while (pq_field(t, &last, &id, &type)) pq_skip(t, type);
}

static void skip_n(pq_thrift *t, size_t n) {
  if (n > (size_t)(t->end - t->p)) pq_fail(t, "Thrift value is longer than the data left");
  else t->p += n;
}

/* A list element of a boolean type is one byte, unlike a boolean field. */
static void skip_elements(pq_thrift *t, int elem, int64_t n) {
  for (int64_t i = 0; i < n && t->why == NULL; i++) {
    if (elem == PQ_T_TRUE || elem == PQ_T_FALSE) skip_n(t, 1);
    else pq_skip(t, elem);
  }
}

static void skip_map(pq_thrift *t) {
  uint64_t n = varint(t);
  if (n == 0 || t->why != NULL) return;
  if (t->p >= t->end || n > (uint64_t)(t->end - t->p)) {
    pq_fail(t, "Thrift map claims more entries than bytes left");
    return;
  }
  uint8_t kv = *t->p++;
  for (uint64_t i = 0; i < n && t->why == NULL; i++) {
    skip_elements(t, kv >> 4, 1);
    skip_elements(t, kv & 0x0f, 1);
  }
}

void pq_skip(pq_thrift *t, int type) {
  if (t->why != NULL) return;
  if (++t->depth > PQ_MAX_DEPTH) {
    pq_fail(t, "Thrift values nest too deeply");
    return;
  }
  int elem;
  int64_t n;
  size_t len;
  switch (type) {
    case PQ_T_TRUE: case PQ_T_FALSE: break;
    case PQ_T_BYTE: skip_n(t, 1); break;
    case PQ_T_I16: case PQ_T_I32: case PQ_T_I64: varint(t); break;
    case PQ_T_DOUBLE: skip_n(t, 8); break;
    case PQ_T_BINARY: pq_binary(t, type, &len); break;
    case PQ_T_LIST: case PQ_T_SET:
      if (pq_list(t, type, &elem, &n)) skip_elements(t, elem, n);
      break;
    case PQ_T_MAP: skip_map(t); break;
    case PQ_T_STRUCT: skip_struct(t); break;
    default: pq_fail(t, "Thrift value has an unknown type"); break;
  }
  t->depth--;
}
