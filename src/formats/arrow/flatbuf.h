/* A minimal, bounds-checked reader of FlatBuffers binaries (the encoding of
 * Arrow IPC metadata), for files we do not trust.
 *
 * Layout facts used (flatbuffers.dev "Internals"): all integers are little
 * endian; a buffer starts with a uoffset (u32) to the root table; a table
 * starts with an soffset (i32) whose value, subtracted from the table's
 * position, gives its vtable; a vtable is u16 vtable size, u16 table size,
 * then one u16 per field: the field's offset inside the table, 0 = absent
 * (the default applies). A reference field (table, vector, string) holds a
 * uoffset relative to its own position; a vector is a u32 count followed by
 * the elements; a string is a vector of bytes plus a NUL. A union is two
 * fields: a u8 type tag (id n) and a table reference (id n + 1).
 *
 * Every accessor checks that what it reads lies inside the buffer and
 * returns false otherwise, so a malformed input can never read out of bounds.
 */
#ifndef SL_ARROW_FLATBUF_H
#define SL_ARROW_FLATBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fb_table {
  const uint8_t *buf;
  size_t size;    /* of the whole buffer */
  size_t pos;     /* table start */
  size_t vt;      /* vtable start */
  uint16_t vt_len;
  uint16_t tbl_len;
} fb_table;

typedef struct fb_vector {
  const uint8_t *buf;
  size_t size;
  size_t pos;     /* first element */
  uint32_t len;   /* element count */
} fb_vector;

/* The root table of buf[0, size). */
bool sl__fb_root(const uint8_t *buf, size_t size, fb_table *out);

/* Scalars: absent fields give def; false when the field lies outside. */
bool sl__fb_u8(const fb_table *t, int id, uint8_t def, uint8_t *out);
bool sl__fb_i16(const fb_table *t, int id, int16_t def, int16_t *out);
bool sl__fb_i32(const fb_table *t, int id, int32_t def, int32_t *out);
bool sl__fb_i64(const fb_table *t, int id, int64_t def, int64_t *out);

/* References: *present is false for an absent field (not an error). */
bool sl__fb_table(const fb_table *t, int id, fb_table *out, bool *present);
/* elem_size: bytes per element (4 for a vector of tables or strings). */
bool sl__fb_vector(const fb_table *t, int id, size_t elem_size, fb_vector *out,
                   bool *present);
/* A string field as pointer + length (not NUL-terminated in the buffer's
   guarantee; use len). Absent: s = "", len = 0. */
bool sl__fb_string(const fb_table *t, int id, const char **s, size_t *len);

/* Element i of a vector of tables. */
bool sl__fb_vector_table(const fb_vector *v, uint32_t i, fb_table *out);
/* Element i of a vector of structs of elem_size bytes (caller reads it). */
const uint8_t *sl__fb_vector_struct(const fb_vector *v, uint32_t i, size_t elem_size);

/* Little-endian loads from a checked position. */
static inline uint16_t sl__fb_le16(const uint8_t *p) {
  return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t sl__fb_le32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
         ((uint32_t)p[3] << 24);
}
static inline uint64_t sl__fb_le64(const uint8_t *p) {
  return (uint64_t)sl__fb_le32(p) | ((uint64_t)sl__fb_le32(p + 4) << 32);
}

#endif
