/* Parquet value and level encodings (Encodings.md), on byte buffers.
 *
 * Every decoder produces exactly n values or returns the reason it cannot;
 * none reads past len. Bit-packed data is little-endian bit order (least
 * significant bit first), as both the RLE hybrid and DELTA_BINARY_PACKED
 * use it; wrapping arithmetic in DELTA is done unsigned, as the spec asks.
 */
#include <string.h>

#include "pq.h"

const char pq_oom[] = "out of memory";

int pq_bit_width(uint32_t max) {
  int w = 0;
  while (max) {
    w++;
    max >>= 1;
  }
  return w;
}

/* w bits (w <= 64) starting at bit pos of p[0..len); bits past len read 0. */
static uint64_t bits_at(const uint8_t *p, size_t len, uint64_t pos, int w) {
  size_t byte = (size_t)(pos >> 3);
  int shift = (int)(pos & 7);
  uint64_t mask = w == 64 ? ~0ull : (1ull << w) - 1;
  if (byte + 8 <= len && shift + w <= 64) {
    uint64_t v;
    memcpy(&v, p + byte, 8);
    return (v >> shift) & mask;
  }
  unsigned __int128 acc = 0;
  int need = (shift + w + 7) / 8;
  for (int i = 0; i < need && byte + (size_t)i < len; i++)
    acc |= (unsigned __int128)p[byte + (size_t)i] << (8 * i);
  return (uint64_t)(acc >> shift) & mask;
}

static bool uleb(const uint8_t **p, const uint8_t *end, uint64_t *out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64 && *p < end; shift += 7) {
    uint8_t b = *(*p)++;
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *out = v;
      return true;
    }
  }
  return false;
}

/* ------------------------------------------------------------- RLE hybrid */

/* Where a run's values land: uint32 (es 4: dictionary indices) or uint8
   (es 1: levels and booleans, width <= 8); with match >= 0, how many equal
   it is counted on the way (levels: the present values of a page). */
typedef struct rle_out {
  void *p;
  size_t es;
  int64_t match;
  size_t matches;
} rle_out;

static inline void store(rle_out *o, size_t i, uint32_t v) {
  if (o->es == 1) ((uint8_t *)o->p)[i] = (uint8_t)v;
  else ((uint32_t *)o->p)[i] = v;
  o->matches += v == o->match;
}

/* A bit-packed run of groups*8 values; the last run may be cut short. */
static const char *bitpacked_run(const uint8_t **p, const uint8_t *end, uint64_t groups,
                                 int width, rle_out *o, size_t *i, size_t n) {
  if (groups > ((uint64_t)1 << 40)) return "RLE bit-packed run is too long";
  if (groups == 0) return NULL; /* an empty run: its header was the progress */
  size_t left = (size_t)(end - *p);
  uint64_t bytes = groups * (uint64_t)width;
  uint64_t avail = bytes <= left ? groups * 8 : (uint64_t)left * 8 / (width ? width : 1);
  uint64_t take = SL_MIN(avail, (uint64_t)(n - *i));
  if (take == 0) return "RLE bit-packed run ends early";
  for (uint64_t k = 0; k < take; k++)
    store(o, (*i)++, (uint32_t)bits_at(*p, left, k * (uint64_t)width, width));
  *p += bytes <= left ? bytes : left;
  return NULL;
}

static const char *rle_run(const uint8_t **p, const uint8_t *end, uint64_t count, int width,
                           rle_out *o, size_t *i, size_t n) {
  size_t vbytes = (size_t)(width + 7) / 8;
  if ((size_t)(end - *p) < vbytes) return "RLE run value ends early";
  uint32_t v = 0;
  for (size_t k = 0; k < vbytes; k++) v |= (uint32_t)(*p)[k] << (8 * k);
  *p += vbytes;
  count = SL_MIN(count, (uint64_t)(n - *i));
  if (o->es == 1) memset((uint8_t *)o->p + *i, (int)(uint8_t)v, (size_t)count);
  else for (uint64_t k = 0; k < count; k++) ((uint32_t *)o->p)[*i + k] = v;
  if (v == o->match) o->matches += (size_t)count;
  *i += (size_t)count;
  return NULL;
}

static const char *rle(const uint8_t *p, size_t len, int width, rle_out *o, size_t n) {
  const uint8_t *end = p + len;
  if (width < 0 || width > (o->es == 1 ? 8 : 32)) return "RLE bit width is too large";
  size_t i = 0;
  while (i < n) {
    uint64_t h;
    if (!uleb(&p, end, &h)) return "RLE data ends before all values";
    const char *why = h & 1 ? bitpacked_run(&p, end, h >> 1, width, o, &i, n)
                            : rle_run(&p, end, h >> 1, width, o, &i, n);
    if (why != NULL) return why;
  }
  return NULL;
}

const char *pq_rle(const uint8_t *p, size_t len, int width, uint32_t *out, size_t n) {
  rle_out o = {out, 4, -1, 0};
  return rle(p, len, width, &o, n);
}

const char *pq_rle8(const uint8_t *p, size_t len, int width, uint8_t *out, size_t n) {
  rle_out o = {out, 1, -1, 0};
  return rle(p, len, width, &o, n);
}

const char *pq_levels(const uint8_t *p, size_t len, int width, uint8_t *out, size_t n,
                      int match, size_t *matches) {
  rle_out o = {out, 1, match, 0};
  const char *why = rle(p, len, width, &o, n);
  *matches = o.matches;
  return why;
}

const char *pq_rle_bool(const uint8_t *p, size_t len, size_t n, uint8_t *out) {
  if (len < 4) return "RLE boolean data lacks its 4-byte length";
  uint32_t blen = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                  (uint32_t)p[3] << 24;
  if (blen > len - 4) return "RLE boolean length exceeds the page";
  return pq_rle8(p + 4, blen, 1, out, n);
}

/* ------------------------------------------------------------- PLAIN */

const char *pq_plain(const uint8_t *p, size_t len, int type, size_t pw, size_t n,
                     uint8_t *out, size_t *used) {
  if (type == PQ_BOOLEAN) {
    if ((n + 7) / 8 > len) return "PLAIN booleans end early";
    for (size_t i = 0; i < n; i++) out[i] = (p[i >> 3] >> (i & 7)) & 1;
    *used = (n + 7) / 8;
    return NULL;
  }
  if (pw == 0 || n > len / pw) return "PLAIN values end early";
  memcpy(out, p, n * pw);
  *used = n * pw;
  return NULL;
}

/* ------------------------------------------------------ BYTE_STREAM_SPLIT */

/* Byte k of value i is at k * n + i: byte planes, one per value byte. */
const char *pq_bss(const uint8_t *p, size_t len, size_t pw, size_t n, uint8_t *out) {
  if (pw == 0 || n > len / pw) return "BYTE_STREAM_SPLIT data ends early";
  for (size_t k = 0; k < pw; k++) {
    const uint8_t *plane = p + k * n;
    for (size_t i = 0; i < n; i++) out[i * pw + k] = plane[i];
  }
  return NULL;
}

/* ------------------------------------------------------ DELTA_BINARY_PACKED */

typedef struct delta_hdr {
  uint64_t block, mini, total;
  int64_t first;
} delta_hdr;

static const char *delta_header(const uint8_t **p, const uint8_t *end, delta_hdr *h) {
  uint64_t first;
  if (!uleb(p, end, &h->block) || !uleb(p, end, &h->mini) || !uleb(p, end, &h->total) ||
      !uleb(p, end, &first))
    return "DELTA_BINARY_PACKED header ends early";
  h->first = (int64_t)(first >> 1) ^ -(int64_t)(first & 1);
  if (h->block == 0 || h->block % 128 != 0 || h->block > (1u << 20) || h->mini == 0 ||
      h->block % h->mini != 0 || (h->block / h->mini) % 32 != 0)
    return "DELTA_BINARY_PACKED block sizes are invalid";
  return NULL;
}

static void put_value(uint8_t *out, size_t pw, uint64_t v) {
  if (pw == 4) {
    uint32_t x = (uint32_t)v;
    memcpy(out, &x, 4);
  } else {
    memcpy(out, &v, 8);
  }
}

/* One block: min delta, miniblock widths, then the miniblocks. */
static const char *delta_block(const uint8_t **p, const uint8_t *end, const delta_hdr *h,
                               size_t pw, uint64_t *last, uint8_t *out, size_t *i,
                               size_t n) {
  uint64_t zz;
  if (!uleb(p, end, &zz)) return "DELTA_BINARY_PACKED block ends early";
  uint64_t min_delta = (zz >> 1) ^ -(zz & 1);
  if ((uint64_t)(end - *p) < h->mini) return "DELTA_BINARY_PACKED widths end early";
  const uint8_t *widths = *p;
  *p += h->mini;
  uint64_t per = h->block / h->mini;
  for (uint64_t m = 0; m < h->mini && *i < n; m++) {
    int w = widths[m];
    if (w > 64) return "DELTA_BINARY_PACKED miniblock width is over 64";
    uint64_t take = SL_MIN(per, (uint64_t)(n - *i));
    size_t left = (size_t)(end - *p), need = (size_t)((take * (uint64_t)w + 7) / 8);
    if (need > left) return "DELTA_BINARY_PACKED miniblock ends early";
    for (uint64_t k = 0; k < take; k++) {
      *last += min_delta + bits_at(*p, left, k * (uint64_t)w, w);
      put_value(out + (*i)++ * pw, pw, *last);
    }
    size_t full = (size_t)(per * (uint64_t)w / 8);
    *p += SL_MIN(full, left);
  }
  return NULL;
}

const char *pq_delta(const uint8_t *p, size_t len, size_t pw, size_t n, uint8_t *out) {
  const uint8_t *end = p + len;
  delta_hdr h;
  const char *why = delta_header(&p, end, &h);
  if (why != NULL) return why;
  if (h.total < n) return "DELTA_BINARY_PACKED holds fewer values than the page";
  if (pw != 4 && pw != 8) return "DELTA_BINARY_PACKED is only for INT32 and INT64";
  if (n == 0) return NULL;
  uint64_t last = (uint64_t)h.first;
  put_value(out, pw, last);
  size_t i = 1;
  while (i < n && why == NULL) why = delta_block(&p, end, &h, pw, &last, out, &i, n);
  return why;
}

/* ------------------------------------------------------------ dictionary */

const char *pq_dict(const uint8_t *p, size_t len, const uint8_t *dict, size_t ndict,
                    size_t pw, size_t n, uint32_t *idx, uint8_t *out) {
  if (n == 0) return NULL;
  if (len < 1) return "dictionary indices lack their bit width";
  const char *why = pq_rle(p + 1, len - 1, p[0], idx, n);
  for (size_t i = 0; why == NULL && i < n; i++) {
    if (idx[i] >= ndict) why = "dictionary index is past the dictionary's end";
    else memcpy(out + i * pw, dict + (size_t)idx[i] * pw, pw);
  }
  return why;
}
