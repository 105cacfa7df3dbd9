/* Tag indexes of snappy streams: single values of a SNAPPY page read from
 * its compressed bytes, so that a random-row gather does not decompress a
 * whole page for the few rows it wants from it.
 *
 * A snappy stream is a varint (the uncompressed length) and then tags, each
 * a literal (its bytes follow the tag) or a copy of bytes produced earlier
 * (an offset back and a length; the offset may be less than the length, the
 * bytes repeating). Writers emit a literal tag per 64 KiB block of data that
 * does not compress (random doubles are all literals), so a page of a
 * megabyte has some sixteen tags: their starts in the output, sorted, tell
 * where any output byte comes from with one binary search, and a copy sends
 * the search to an earlier position, tag by tag, until a literal holds it.
 *
 * The walk that builds an index checks every rule a decoder checks (tags
 * within the stream, copies within what was produced, the lengths adding up
 * to the varint) and compares each tag's bytes with what the codec table
 * decoded from the same stream: an index only ever says what the decoder
 * says. A stream that fails any of it is not indexed, and its page is
 * decoded (and judged) as a range read decodes it.
 */
#include <assert.h>
#include <string.h>

#include "pq.h"

/* The varint that opens a stream: the uncompressed length, below 2^32. */
static bool stream_length(const uint8_t *in, size_t n, size_t *pos, uint64_t *len) {
  *len = 0;
  for (int shift = 0; shift < 35 && *pos < n; shift += 7) {
    uint8_t b = in[(*pos)++];
    *len |= (uint64_t)(b & 0x7f) << shift;
    if (b < 0x80) return *len <= UINT32_MAX;
  }
  return false;
}

/* k little-endian bytes at p. */
static uint32_t le(const uint8_t *p, int k) {
  uint32_t v = 0;
  for (int i = 0; i < k; i++) v |= (uint32_t)p[i] << (8 * i);
  return v;
}

/* One tag as the walk reads it. */
typedef struct snap_tag {
  uint64_t len;   /* bytes it produces */
  uint64_t at;    /* literal: where its bytes start in the stream */
  bool copy;
  uint32_t off;   /* copy: how far back */
} snap_tag;

/* The tag at *pos; false when it runs past the stream. */
static bool read_tag(const uint8_t *in, size_t n, size_t *pos, snap_tag *t) {
  static const int extra[4] = {0, 1, 2, 4}; /* bytes after the tag byte, by kind */
  uint8_t tag = in[(*pos)++];
  int kind = tag & 3, k = kind == 0 && tag >> 2 >= 60 ? (tag >> 2) - 59 : extra[kind];
  if ((size_t)k > n - *pos) return false;
  uint32_t v = le(in + *pos, k);
  *pos += (size_t)k;
  *t = (snap_tag){0};
  switch (kind) {
    case 0: /* literal: length - 1 in the tag, or in the k bytes after it */
      t->len = (k ? (uint64_t)v : (uint64_t)(tag >> 2)) + 1;
      t->at = *pos;
      if (t->len > n - *pos) return false;
      *pos += (size_t)t->len;
      return true;
    case 1: /* copy: 3 bits of length - 4, 11 bits of offset */
      t->copy = true;
      t->len = 4 + ((tag >> 2) & 7);
      t->off = (uint32_t)(tag >> 5) << 8 | v;
      return true;
    default: /* copy: length - 1 in the tag, a 2- or 4-byte offset */
      t->copy = true;
      t->len = 1 + (uint64_t)(tag >> 2);
      t->off = v;
      return true;
  }
}

/* Walks the stream's tags after the varint at *pos, checking each against
   out (m bytes, the decoder's output) when out is given and recording them
   in tags when that is given. *k: how many, at most max.
   @return NULL or why the stream is not indexed. */
static const char *walk(const uint8_t *in, size_t n, size_t pos, const uint8_t *out,
                        uint64_t m, size_t max, pq_snap_tag *tags, size_t *k) {
  uint64_t done = 0;
  for (*k = 0; pos < n; ++*k) {
    snap_tag t;
    if (*k == max) return "more tags than an index takes";
    if (!read_tag(in, n, &pos, &t)) return "a tag runs past the stream";
    if (t.len > m - done) return "the tags make more bytes than the stream's length";
    if (!t.copy && out != NULL && memcmp(out + done, in + t.at, t.len) != 0)
      return "a literal differs from the decoder's output";
    if (t.copy && (t.off == 0 || t.off > done))
      return "a copy reaches outside what came before";
    /* byte by byte, out[x] == out[x - off], overlapping or not */
    if (t.copy && out != NULL && memcmp(out + done, out + done - t.off, t.len) != 0)
      return "a copy differs from the decoder's output";
    if (tags != NULL)
      tags[*k] = (pq_snap_tag){(uint32_t)done, t.copy ? -(int32_t)t.off : (int32_t)t.at};
    done += t.len;
  }
  if (done != m) return "the tags make fewer bytes than the stream's length";
  if (tags != NULL) tags[*k] = (pq_snap_tag){(uint32_t)m, 0};
  return NULL;
}

const char *pq_snap_index(const uint8_t *in, size_t n, const uint8_t *out, size_t m,
                          size_t max, pq_snap_tag **tags, size_t *ntags) {
  *tags = NULL;
  *ntags = 0;
  size_t pos = 0, k;
  uint64_t len;
  if (n > PQ_MAX_PAGE || m > PQ_MAX_PAGE) return "the stream is larger than a page may be";
  if (!stream_length(in, n, &pos, &len) || len != m)
    return "the stream's length is not the page's";
  const char *why = walk(in, n, pos, out, m, max, NULL, &k);
  if (why != NULL) return why;
  pq_snap_tag *t = sl__malloc((k + 1) * sizeof *t);
  if (t == NULL) return pq_oom;
  why = walk(in, n, pos, NULL, m, max, t, &k);
  assert(why == NULL); /* the same walk as the first */
  *tags = t;
  *ntags = k;
  return NULL;
}

/* The tag that produced byte x: the last whose start is not after it.
   Without branches (random values make them unpredictable): the search
   halves [lo, lo + len), t[lo].out <= x throughout. */
static size_t tag_of(const pq_snap_tag *t, size_t n, uint64_t x) {
  size_t lo = 0;
  for (size_t len = n; len > 1; len -= len / 2) lo = t[lo + len / 2].out <= x ? lo + len / 2 : lo;
  return lo;
}

bool pq_snap_find(const pq_snap_tag *t, size_t n, uint64_t x, size_t *len, uint32_t *at) {
  assert(n > 0 && x < t[n].out && *len > 0);
  uint64_t k = *len;
  for (int hop = 0; hop <= PQ_SNAP_HOPS; hop++) {
    size_t i = tag_of(t, n, x);
    uint64_t d = x - t[i].out;
    k = SL_MIN(k, t[i + 1].out - x);
    if (t[i].at >= 0) {
      *at = (uint32_t)t[i].at + (uint32_t)d;
      *len = (size_t)k;
      return true;
    }
    /* a copy from o back repeats the o bytes before it: byte d of the copy
       is byte d % o of those, and they run on together until the period
       ends, all before this tag (the next search lands earlier) */
    uint64_t o = (uint64_t)(-(int64_t)t[i].at);
    assert(o <= t[i].out);
    k = SL_MIN(k, o - d % o);
    x = t[i].out - o + d % o;
  }
  return false;
}
