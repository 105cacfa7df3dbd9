/* Bounds-checked FlatBuffers reader; see flatbuf.h for the layout. */
#include "flatbuf.h"

#include <string.h>

/* pos + n lies inside [0, size). */
static bool fits(size_t size, size_t pos, size_t n) {
  return pos <= size && n <= size - pos;
}

/* The table at pos, with its vtable checked. */
static bool table_at(const uint8_t *buf, size_t size, size_t pos, fb_table *out) {
  if (!fits(size, pos, 4)) return false;
  int64_t vt = (int64_t)pos - (int32_t)sl__fb_le32(buf + pos);
  if (vt < 0 || !fits(size, (size_t)vt, 4)) return false;
  uint16_t vt_len = sl__fb_le16(buf + vt), tbl_len = sl__fb_le16(buf + vt + 2);
  if (vt_len < 4 || vt_len % 2 != 0 || !fits(size, (size_t)vt, vt_len) || tbl_len < 4 ||
      !fits(size, pos, tbl_len))
    return false;
  *out = (fb_table){buf, size, pos, (size_t)vt, vt_len, tbl_len};
  return true;
}

bool sl__fb_root(const uint8_t *buf, size_t size, fb_table *out) {
  if (size < 4) return false;
  return table_at(buf, size, sl__fb_le32(buf), out);
}

/* Offset of field id inside the table (0 = absent); false when the field's
   n bytes would leave the table. */
static bool field(const fb_table *t, int id, size_t n, size_t *off) {
  size_t slot = 4 + 2 * (size_t)id;
  *off = 0;
  if (id < 0) return false;
  if (slot + 2 > t->vt_len) return true; /* newer writer than the vtable: absent */
  *off = sl__fb_le16(t->buf + t->vt + slot);
  if (*off == 0) return true;
  return *off + n <= t->tbl_len;
}

#define SCALAR(fn, T, load)                                        \
  bool fn(const fb_table *t, int id, T def, T *out) {              \
    size_t off;                                                    \
    *out = def;                                                    \
    if (!field(t, id, sizeof(T), &off)) return false;              \
    if (off != 0) *out = (T)load(t->buf + t->pos + off);           \
    return true;                                                   \
  }

static uint8_t le8(const uint8_t *p) { return *p; }
SCALAR(sl__fb_u8, uint8_t, le8)
SCALAR(sl__fb_i16, int16_t, sl__fb_le16)
SCALAR(sl__fb_i32, int32_t, sl__fb_le32)
SCALAR(sl__fb_i64, int64_t, sl__fb_le64)

/* The position a reference field points to. */
static bool deref(const fb_table *t, int id, size_t *target, bool *present) {
  size_t off;
  *present = false;
  if (!field(t, id, 4, &off)) return false;
  if (off == 0) return true;
  size_t at = t->pos + off;
  uint32_t rel = sl__fb_le32(t->buf + at);
  if (rel > t->size - at) return false;
  *target = at + rel;
  *present = true;
  return true;
}

bool sl__fb_table(const fb_table *t, int id, fb_table *out, bool *present) {
  size_t target;
  if (!deref(t, id, &target, present)) return false;
  return !*present || table_at(t->buf, t->size, target, out);
}

static bool vector_at(const uint8_t *buf, size_t size, size_t pos, size_t elem_size,
                      fb_vector *out) {
  if (!fits(size, pos, 4)) return false;
  uint32_t len = sl__fb_le32(buf + pos);
  if (elem_size != 0 && len > (size - pos - 4) / elem_size) return false;
  *out = (fb_vector){buf, size, pos + 4, len};
  return true;
}

bool sl__fb_vector(const fb_table *t, int id, size_t elem_size, fb_vector *out,
                   bool *present) {
  size_t target;
  memset(out, 0, sizeof *out);
  if (!deref(t, id, &target, present)) return false;
  return !*present || vector_at(t->buf, t->size, target, elem_size, out);
}

bool sl__fb_string(const fb_table *t, int id, const char **s, size_t *len) {
  fb_vector v;
  bool present;
  *s = "";
  *len = 0;
  if (!sl__fb_vector(t, id, 1, &v, &present)) return false;
  if (!present) return true;
  *s = (const char *)v.buf + v.pos;
  *len = v.len;
  return true;
}

bool sl__fb_vector_table(const fb_vector *v, uint32_t i, fb_table *out) {
  if (i >= v->len) return false;
  size_t at = v->pos + 4 * (size_t)i;
  uint32_t rel = sl__fb_le32(v->buf + at);
  if (rel > v->size - at) return false;
  return table_at(v->buf, v->size, at + rel, out);
}

const uint8_t *sl__fb_vector_struct(const fb_vector *v, uint32_t i, size_t elem_size) {
  if (i >= v->len) return NULL;
  return v->buf + v->pos + (size_t)i * elem_size;
}
