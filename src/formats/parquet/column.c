/* One column chunk of one row group, decoded into its strided place.
 *
 * A chunk is an optional dictionary page followed by data pages (v1: levels
 * and values compressed together, each level run prefixed by its length;
 * v2: levels stored uncompressed before the possibly compressed values).
 * Pages wholly before the wanted rows are skipped without decompressing
 * when their row count is known without it (flat columns from the header,
 * v2 list pages from their uncompressed repetition levels); decoding stops
 * at the first page past them. Where the driver located the pages (by the
 * chunk's OffsetIndex or by walking the headers) it reads only those
 * holding the wanted rows, and each is checked against its location.
 *
 * Levels map entries to rows. Flat column: one entry per row, present when
 * its definition level is the maximum. List column (one repetition level):
 * repetition level 0 starts a row, an entry with definition level >=
 * list_def is an element, and every row must hold exactly `width` elements.
 *
 * Flat columns are read through a cursor that turns one page at a time into
 * one value per row as the tile holds it (PLAIN values without nulls are
 * used where they lie in the page), so the driver can interleave every
 * column's rows in one pass over the tile. List columns load alone and are
 * decoded straight into their rows.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "pq.h"

static sl_status fail(const pq_cursor *cs, sl_status code, const char *why) {
  const pq_col *c = cs->col;
  if (why == pq_oom) code = SL_ENOMEM;
  SL_FAIL(cs->err, code, "%s: column %.*s: %s (row group starting at row %lld)", cs->path,
          c->name_len, c->name, why, (long long)cs->t->first_row);
}

/* Grows a scratch buffer to hold n bytes; the old contents are not kept. */
static sl_status reserve(pq_cursor *cs, sl_buf *b, size_t n) {
  if (sl__buf_reserve(b, n)) return SL_OK;
  return fail(cs, SL_ENOMEM, "out of memory for a page");
}

/* ------------------------------------------------------------- emitting */

static inline void put(uint8_t *o, const uint8_t *v, size_t ow) {
  switch (ow) {
    case 1: *o = *v; break;
    case 2: memcpy(o, v, 2); break;
    case 4: memcpy(o, v, 4); break;
    default: memcpy(o, v, 8); break;
  }
}

static sl_status null_at(const pq_cursor *cs, int64_t row) {
  const pq_col *c = cs->col;
  SL_FAIL(cs->err, SL_EFORMAT, "%s: column %.*s has a null value at row %lld; nulls cannot "
          "be loaded as numbers unless option fill_nulls gives a value for them", cs->path,
          c->name_len, c->name, (long long)(cs->t->first_row + row));
}

/* A flat page's values as the tile holds them: one ow-byte slot per row.
   Values used where they lie when they already are; else present values
   narrowed (INT32 holding int8, say) and spread out, a null taking the fill
   value (or zero outside the wanted rows, which are never copied out). */
static sl_status densify(pq_cursor *cs, const uint8_t *def, size_t n, size_t present,
                         const uint8_t **vals) {
  const pq_target *t = cs->t;
  const size_t pw = cs->col->pw, ow = t->ow;
  if (present == n && pw == ow) return SL_OK;
  if (!sl__buf_reserve(&cs->sc->dense, n * ow))
    return fail(cs, SL_ENOMEM, "out of memory for a page");
  uint8_t *out = cs->sc->dense.p;
  const uint8_t *v = *vals;
  *vals = out;
  if (present == n) {
    sl__interleave((char *)out, ow, &v, 1, pw, ow, (int64_t)n); /* narrowing */
    return SL_OK;
  }
  const uint8_t max_def = (uint8_t)cs->col->max_def;
  for (size_t i = 0; i < n; i++, out += ow) {
    int64_t r = cs->row + (int64_t)i;
    if (def[i] == max_def) {
      memcpy(out, v, ow);
      v += pw;
      continue;
    }
    bool wanted = r >= t->a && r < t->b;
    if (wanted && t->fill == NULL) return null_at(cs, r);
    if (wanted) memcpy(out, t->fill, ow);
    else memset(out, 0, ow);
  }
  return SL_OK;
}

/* The row just finished must hold exactly width elements. */
static sl_status end_row(const pq_cursor *cs) {
  const pq_target *t = cs->t;
  if (cs->row < t->a || cs->row >= t->b || cs->elems == t->width) return SL_OK;
  const pq_col *c = cs->col;
  SL_FAIL(cs->err, SL_EFORMAT, "%s: column %.*s: row %lld holds a list of %lld values but "
          "expected %lld (every row of a fixed-size list column must hold the same number; "
          "a null or empty list holds none)", cs->path, c->name_len, c->name,
          (long long)(t->first_row + cs->row), (long long)cs->elems, (long long)t->width);
}

static sl_status list_elem(pq_cursor *cs, bool present, const uint8_t *v) {
  const pq_target *t = cs->t;
  if (cs->row >= t->a && cs->row < t->b) {
    if (cs->elems >= t->width) {
      cs->elems++;
      return end_row(cs);
    }
    uint8_t *o = t->dst + (size_t)(cs->row - t->a) * t->stride + (size_t)cs->elems * t->dw;
    if (!present && t->fill == NULL) return null_at(cs, cs->row);
    const uint8_t *src = present ? v : t->fill;
    if (t->from == t->to) {
      put(o, src, t->ow);
    } else { /* option dtype: the value as the column holds it, converted */
      uint8_t one[8];
      put(one, src, t->ow);
      sl__convert(o, t->dw, t->to, one, t->from, 1);
    }
  }
  cs->elems++;
  return SL_OK;
}

static sl_status emit_list(pq_cursor *cs, const uint8_t *def, const uint8_t *rep,
                           size_t n, const uint8_t *vals) {
  const pq_col *c = cs->col;
  size_t v = 0;
  if (cs->page_start && n > 0 && rep[0] != 0)
    return fail(cs, SL_EFORMAT, "a page starts inside a row, though pages must start rows");
  cs->page_start = false;
  for (size_t i = 0; i < n && !cs->done; i++) {
    if (rep[i] == 0) {
      SL_TRY(end_row(cs));
      cs->row++;
      cs->elems = 0;
      if (cs->row >= cs->t->b) {
        cs->done = true;
        break;
      }
    } else if (cs->row < 0) {
      return fail(cs, SL_EFORMAT, "the first value continues a row (repetition level > 0)");
    }
    bool present = def[i] == c->max_def;
    if (def[i] >= c->list_def) SL_TRY(list_elem(cs, present, vals + v * c->pw));
    v += present;
  }
  return SL_OK;
}

/* ------------------------------------------------------------- values */

static sl_status unsupported(const pq_cursor *cs, int enc) {
  const pq_col *c = cs->col;
  SL_FAIL(cs->err, SL_ENOTSUP, "%s: column %.*s uses encoding %s for %s values, which this "
          "reader does not support (supported: PLAIN, PLAIN_DICTIONARY, RLE_DICTIONARY, RLE "
          "for booleans, BYTE_STREAM_SPLIT, DELTA_BINARY_PACKED)", cs->path, c->name_len,
          c->name, pq_encoding_name(enc), pq_type_name(c->type));
}

/* n values of the page into *vals: PLAIN fixed-width values are used where
   they lie; everything else is decoded into scratch. */
static sl_status decode_values(pq_cursor *cs, int enc, const uint8_t *p, size_t len,
                               size_t n, const uint8_t **vals) {
  const int type = cs->col->type;
  const size_t pw = cs->col->pw;
  if (enc == PQ_PLAIN && type != PQ_BOOLEAN) {
    if (pw == 0 || n > len / pw) return fail(cs, SL_EFORMAT, "PLAIN values end early");
    *vals = p;
    return SL_OK;
  }
  SL_TRY(reserve(cs, &cs->sc->vals, n * pw));
  uint8_t *out = cs->sc->vals.p;
  *vals = out;
  const char *why;
  size_t used;
  if (enc == PQ_PLAIN) {
    why = pq_plain(p, len, type, pw, n, out, &used);
  } else if (enc == PQ_PLAIN_DICT || enc == PQ_RLE_DICT) {
    if (cs->dict == NULL)
      return fail(cs, SL_EFORMAT, "a dictionary-encoded page comes without a dictionary page");
    SL_TRY(reserve(cs, &cs->sc->idx, n * sizeof(uint32_t)));
    why = pq_dict(p, len, cs->dict, cs->ndict, pw, n, (uint32_t *)cs->sc->idx.p, out);
  } else if (enc == PQ_RLE && type == PQ_BOOLEAN) {
    why = pq_rle_bool(p, len, n, out);
  } else if (enc == PQ_DELTA_BP && (type == PQ_INT32 || type == PQ_INT64)) {
    why = pq_delta(p, len, pw, n, out);
  } else if (enc == PQ_BSS && type != PQ_BOOLEAN && type != PQ_BYTE_ARRAY) {
    why = pq_bss(p, len, pw, n, out);
  } else {
    return unsupported(cs, enc);
  }
  return why == NULL ? SL_OK : fail(cs, SL_EFORMAT, why);
}

/* ------------------------------------------------------------- pages */

/* A Parquet CompressionCodec in the library's codec table; SL_CODEC_COUNT
   for those it has no decoder for (LZO, the deprecated Hadoop-framed LZ4). */
static sl_codec pq_codec(int codec) {
  switch (codec) {
    case PQ_UNCOMPRESSED: return SL_CODEC_NONE;
    case PQ_SNAPPY: return SL_CODEC_SNAPPY;
    case PQ_GZIP: return SL_CODEC_GZIP;
    case PQ_BROTLI: return SL_CODEC_BROTLI;
    case PQ_ZSTD: return SL_CODEC_ZSTD;
    case PQ_LZ4_RAW: return SL_CODEC_LZ4_RAW;
    default: return SL_CODEC_COUNT;
  }
}

/* "UNCOMPRESSED, SNAPPY, ...": the Parquet codecs this build decodes. */
static void codec_list(char *buf, size_t cap) {
  size_t k = 0;
  buf[0] = '\0';
  for (int c = 0; c <= PQ_LZ4_RAW && k < cap; c++)
    if (pq_codec(c) != SL_CODEC_COUNT && sl__codec_available(pq_codec(c)))
      k += (size_t)snprintf(buf + k, cap - k, "%s%s", k ? ", " : "", pq_codec_name(c));
}

/* The m uncompressed bytes of src: src itself when stored uncompressed,
   else decoded into b. */
static sl_status decompress(pq_cursor *cs, const uint8_t *src, size_t n, size_t m,
                            int codec, sl_buf *b, const uint8_t **out) {
  if (codec == PQ_UNCOMPRESSED && n == m) {
    *out = src;
    return SL_OK;
  }
  SL_TRY(reserve(cs, b, m));
  const char *why = NULL;
  sl_codec sc = pq_codec(codec);
  sl_status st = sc == SL_CODEC_COUNT ? SL_ENOTSUP : sl__decompress(sc, src, n, b->p, m, &why);
  *out = b->p;
  if (st == SL_ENOTSUP) return pq_codec_check(cs->path, cs->col, codec, cs->err);
  return st == SL_OK ? SL_OK : fail(cs, st, why);
}

/* The one message for a codec this build lacks, from discovery (inspect)
   and from reading alike. */
sl_status pq_codec_check(const char *path, const pq_col *c, int codec, sl_error *err) {
  sl_codec sc = pq_codec(codec);
  if (codec == PQ_UNCOMPRESSED || (sc != SL_CODEC_COUNT && sl__codec_available(sc)))
    return SL_OK;
  const char *why = NULL;
  size_t got;
  if (sc != SL_CODEC_COUNT) /* not built in: it answers with the package to install */
    (void)sl__decompress_some(sc, NULL, 0, NULL, 0, &got, &why);
  char list[160];
  codec_list(list, sizeof list);
  SL_FAIL(err, SL_ENOTSUP, "%s: column %.*s uses compression %s, which this build cannot "
          "decode (supported: %s)%s%s", path, c->name_len, c->name, pq_codec_name(codec), list,
          why ? "; install " : "", why ? why : "");
}

static sl_status dictionary_page(pq_cursor *cs, const pq_page *h, const uint8_t *raw) {
  if (cs->dict != NULL) return fail(cs, SL_EFORMAT, "the chunk has two dictionary pages");
  if (h->encoding != PQ_PLAIN && h->encoding != PQ_PLAIN_DICT) return unsupported(cs, h->encoding);
  const uint8_t *body;
  SL_TRY(decompress(cs, raw, (size_t)h->compressed, (size_t)h->uncompressed, cs->codec,
                    &cs->sc->page, &body));
  size_t n = (size_t)h->num_values, pw = cs->col->pw, len = (size_t)h->uncompressed, used;
  bool fits = cs->col->type == PQ_BOOLEAN ? n / 8 <= len : pw > 0 && n <= len / pw;
  if (!fits) return fail(cs, SL_EFORMAT, "the dictionary page holds fewer values than it claims");
  SL_TRY(reserve(cs, &cs->sc->dict, n * pw));
  const char *why = pq_plain(body, len, cs->col->type, pw, n, cs->sc->dict.p, &used);
  if (why != NULL) return fail(cs, SL_EFORMAT, why);
  cs->dict = cs->sc->dict.p;
  cs->ndict = n;
  return SL_OK;
}

/* Levels of one kind: v1 prefixes a 4-byte length (*p advances past it).
   *at_max counts the levels equal to max. */
static sl_status levels(pq_cursor *cs, const uint8_t **p, const uint8_t *end, size_t len,
                        bool prefixed, int enc, int max, uint8_t *out, size_t n,
                        size_t *at_max) {
  if (enc != PQ_RLE) {
    const pq_col *c = cs->col;
    SL_FAIL(cs->err, SL_ENOTSUP, "%s: column %.*s uses level encoding %s, which this reader "
            "does not support (supported: RLE)", cs->path, c->name_len, c->name,
            pq_encoding_name(enc));
  }
  if (prefixed) {
    if (end - *p < 4) return fail(cs, SL_EFORMAT, "levels lack their 4-byte length");
    len = (size_t)(*p)[0] | (size_t)(*p)[1] << 8 | (size_t)(*p)[2] << 16 |
          (size_t)(*p)[3] << 24;
    *p += 4;
  }
  if (len > (size_t)(end - *p)) return fail(cs, SL_EFORMAT, "levels run past the page");
  int width = pq_bit_width((uint32_t)max);
  const char *why = pq_levels(*p, len, width, out, n, max, at_max);
  *p += len;
  if (why != NULL) return fail(cs, SL_EFORMAT, why);
  for (size_t i = 0; max < (1 << width) - 1 && i < n; i++) /* else no level can exceed */
    if (out[i] > max) return fail(cs, SL_EFORMAT, "a level exceeds its maximum");
  return SL_OK;
}

typedef struct page_view {
  const uint8_t *lev, *lev_end;  /* levels (v1: inside body) */
  const uint8_t *body, *end;     /* values (v1: levels first) */
} page_view;

/* Decompresses what must be and says where levels and values are. */
static sl_status open_page(pq_cursor *cs, const pq_page *h, const uint8_t *raw,
                           page_view *pv) {
  const uint8_t *body;
  if (h->type == PQ_DATA_PAGE) {
    SL_TRY(decompress(cs, raw, (size_t)h->compressed, (size_t)h->uncompressed, cs->codec,
                      &cs->sc->page, &body));
    pv->lev = pv->body = body;
    pv->lev_end = pv->end = body + h->uncompressed;
    return SL_OK;
  }
  int64_t lv = (int64_t)h->rep_len + h->def_len;
  if (lv > h->compressed || lv > h->uncompressed)
    return fail(cs, SL_EFORMAT, "v2 page levels are longer than the page");
  pv->lev = raw;
  pv->lev_end = raw + lv;
  bool packed = h->is_compressed && cs->codec != PQ_UNCOMPRESSED;
  SL_TRY(decompress(cs, raw + lv, (size_t)(h->compressed - lv), (size_t)(h->uncompressed - lv),
                    packed ? cs->codec : PQ_UNCOMPRESSED, &cs->sc->page, &body));
  pv->body = body;
  pv->end = body + (h->uncompressed - lv);
  return SL_OK;
}

/* Repetition then definition levels; *present: entries with a value. */
static sl_status page_levels(pq_cursor *cs, const pq_page *h, page_view *pv, size_t n,
                             size_t *present) {
  const pq_col *c = cs->col;
  bool v1 = h->type == PQ_DATA_PAGE;
  const uint8_t *p = pv->lev;
  size_t ignored;
  *present = n;
  if (c->max_rep > 0)
    SL_TRY(levels(cs, &p, pv->lev_end, (size_t)h->rep_len, v1, v1 ? h->rep_enc : PQ_RLE,
                  c->max_rep, cs->sc->rep.p, n, &ignored));
  if (c->max_def > 0)
    SL_TRY(levels(cs, &p, pv->lev_end, (size_t)h->def_len, v1, v1 ? h->def_enc : PQ_RLE,
                  c->max_def, cs->sc->def.p, n, present));
  if (v1) pv->body = p;
  return SL_OK;
}

static const char flat_v2_bad[] =
    "a v2 page of a flat column holds a number of values other than its rows";
static const char too_many_values[] = "a page holds more values than its row group can";

/* A v2 page of a flat column holds one value (or null) a row. */
static sl_status check_flat_v2(pq_cursor *cs, const pq_page *h) {
  if (cs->col->is_list || h->type != PQ_DATA_PAGE_V2 || h->num_rows == h->num_values)
    return SL_OK;
  return fail(cs, SL_EFORMAT, flat_v2_bad);
}

/* The most values a page of the cursor's row group can hold. */
static int64_t values_cap(const pq_cursor *cs) {
  int64_t cap;
  return sl__mul(cs->group_rows, SL_MAX(cs->t->width, 1), &cap) ? cap : INT64_MAX;
}

const char *pq_page_rows(const pq_col *c, const pq_page *h, const uint8_t *body, int64_t cap,
                         sl_buf *rep, int64_t *rows, bool *starts_row) {
  *rows = -1;
  *starts_row = true;
  if (h->num_values > cap) return too_many_values;
  if (!c->is_list) {
    if (h->type == PQ_DATA_PAGE_V2 && h->num_rows != h->num_values) return flat_v2_bad;
    *rows = h->num_values;
    return NULL;
  }
  if (h->type != PQ_DATA_PAGE_V2) return NULL; /* v1 levels are compressed with the values */
  int64_t lv = (int64_t)h->rep_len + h->def_len;
  if (lv > h->compressed || lv > h->uncompressed) return "v2 page levels are longer than the page";
  if (!sl__buf_reserve(rep, (size_t)h->num_values)) return pq_oom;
  size_t starts;
  const char *why = pq_levels(body, (size_t)h->rep_len, pq_bit_width((uint32_t)c->max_rep),
                              rep->p, (size_t)h->num_values, 0, &starts);
  if (why != NULL) return why;
  *rows = (int64_t)starts;
  *starts_row = h->num_values == 0 || rep->p[0] == 0;
  return NULL;
}

/* Levels and values of one data page: n entries, present of them with a
   value (def[i] == max_def; def is NULL without definition levels). */
typedef struct page_data {
  size_t n, present;
  const uint8_t *def, *rep, *vals;
} page_data;

static sl_status decode_page(pq_cursor *cs, const pq_page *h, const uint8_t *raw,
                             page_data *pd) {
  const pq_col *c = cs->col;
  size_t n = (size_t)h->num_values;
  if (c->is_list && (c->max_def < 1 || c->max_rep != 1))
    return fail(cs, SL_EFORMAT, "a list column needs one repetition and a definition level");
  if (h->num_values > values_cap(cs)) return fail(cs, SL_EFORMAT, too_many_values);
  SL_TRY(check_flat_v2(cs, h));
  page_view pv = {0};
  SL_TRY(open_page(cs, h, raw, &pv));
  if (c->max_def > 0) SL_TRY(reserve(cs, &cs->sc->def, n));
  if (c->max_rep > 0) SL_TRY(reserve(cs, &cs->sc->rep, n));
  size_t present;
  SL_TRY(page_levels(cs, h, &pv, n, &present));
  const uint8_t *def = c->max_def > 0 ? cs->sc->def.p : NULL;
  *pd = (page_data){.n = n, .present = present, .def = def,
                    .rep = c->max_rep > 0 ? cs->sc->rep.p : NULL};
  return decode_values(cs, h->encoding, pv.body, (size_t)(pv.end - pv.body), present,
                       &pd->vals);
}

/* Rows a data page holds as its header says (-1: a list's, which the header
   does not tell reliably). */
static int64_t page_rows(const pq_cursor *cs, const pq_page *h) {
  if (cs->col->is_list) return -1;
  return h->type == PQ_DATA_PAGE_V2 ? h->num_rows : h->num_values;
}

/* A page wholly before the wanted rows (raw: its body) is accounted for and
   skipped (*skipped). */
static sl_status skip_page(pq_cursor *cs, const pq_page *h, const uint8_t *raw,
                           bool *skipped) {
  int64_t first = cs->col->is_list ? cs->row + 1 : cs->row, rows;
  bool starts_row; /* a row continued from the page before is before a too */
  *skipped = false;
  if (first >= cs->t->a) return SL_OK;
  const char *why = pq_page_rows(cs->col, h, raw, values_cap(cs), &cs->sc->rep, &rows,
                                 &starts_row);
  if (why != NULL) return fail(cs, SL_EFORMAT, why);
  if (rows < 0 || first + rows > cs->t->a) return SL_OK;
  cs->row += rows;
  if (cs->col->is_list) cs->elems = cs->t->width; /* rows before a are not checked */
  *skipped = true;
  return SL_OK;
}

static sl_status chunk_ends(pq_cursor *cs) {
  char why[160];
  snprintf(why, sizeof why, "the column chunk ends after %lld of its row group's %lld rows",
           (long long)cs->row, (long long)cs->group_rows);
  return fail(cs, SL_EFORMAT, why);
}

/* Rows the pages read so far hold (list: counting the one under way). */
static int64_t rows_so_far(const pq_cursor *cs) {
  return cs->col->is_list ? cs->row + 1 : cs->row;
}

static sl_status index_disagrees(const pq_cursor *cs, const char *what, long long got,
                                 long long said) {
  char why[200];
  snprintf(why, sizeof why, "%s %lld but %s says %lld", what, got, cs->locs_by, said);
  return fail(cs, SL_EFORMAT, why);
}

/* With page locations: the data page whose header is at start must be the
   next one listed, there, of that size, starting at that row and (when its
   header tells) holding the rows up to the next one's. */
static sl_status check_loc(pq_cursor *cs, const pq_page *h, size_t start) {
  if (start < cs->at || cs->page >= cs->nlocs) {
    char why[200];
    snprintf(why, sizeof why, "a data page lies where %s lists none", cs->locs_by);
    return fail(cs, SL_EFORMAT, why);
  }
  const pq_loc *l = &cs->locs[cs->page];
  int64_t size = (int64_t)h->header_len + h->compressed;
  if ((int64_t)(start - cs->at) != l->offset - cs->base)
    return index_disagrees(cs, "a data page starts at file offset",
                           (long long)(cs->base + (int64_t)(start - cs->at)), (long long)l->offset);
  if (size != l->size) return index_disagrees(cs, "a data page takes bytes", size, l->size);
  if (rows_so_far(cs) != l->first_row)
    return index_disagrees(cs, "a data page starts at row", rows_so_far(cs), l->first_row);
  int64_t next = cs->page + 1 < cs->nlocs ? cs->locs[cs->page + 1].first_row : cs->locs_end;
  int64_t rows = page_rows(cs, h);
  if (rows >= 0 && rows != next - l->first_row)
    return index_disagrees(cs, "a data page holds rows", rows, next - l->first_row);
  cs->page++;
  cs->page_start = true;
  return SL_OK;
}

/* The next data page that is not skipped, dictionary pages taken on the
   way; *found is false at the end of the chunk. */
static sl_status next_page(pq_cursor *cs, pq_page *h, const uint8_t **raw, bool *found) {
  *found = false;
  while (cs->pos < cs->n) {
    size_t start = cs->pos;
    const char *why = pq_parse_page(cs->buf + cs->pos, cs->n - cs->pos, h);
    if (why != NULL) return fail(cs, SL_EFORMAT, why);
    cs->pos += h->header_len;
    if ((size_t)h->compressed > cs->n - cs->pos)
      return fail(cs, SL_EFORMAT, "a page runs past the end of its column chunk");
    *raw = cs->buf + cs->pos;
    cs->pos += (size_t)h->compressed;
    bool data = h->type == PQ_DATA_PAGE || h->type == PQ_DATA_PAGE_V2;
    if (data && cs->locs != NULL) SL_TRY(check_loc(cs, h, start));
    bool skipped = false;
    if (data) SL_TRY(skip_page(cs, h, *raw, &skipped));
    if (h->type == PQ_DICT_PAGE) {
      SL_TRY(dictionary_page(cs, h, *raw));
    } else if (data && !skipped) {
      *found = true;
      return SL_OK;
    } /* other pages (index pages) are skipped */
  }
  if (cs->locs != NULL) { /* the pages read must end where the next listed one starts */
    int64_t end = cs->page < cs->nlocs ? cs->locs[cs->page].first_row : cs->locs_end;
    if (rows_so_far(cs) != end)
      return index_disagrees(cs, "the pages read end at row", rows_so_far(cs), end);
  }
  return SL_OK;
}

/* Flat column: the next page's values, one per row, become the cursor's. */
static sl_status next_flat(pq_cursor *cs) {
  pq_page h;
  const uint8_t *raw;
  bool found;
  cs->nvals = 0;
  SL_TRY(next_page(cs, &h, &raw, &found));
  if (!found) return chunk_ends(cs);
  page_data pd;
  SL_TRY(decode_page(cs, &h, raw, &pd));
  SL_TRY(densify(cs, pd.def, pd.n, pd.present, &pd.vals));
  cs->vals = pd.vals;
  cs->nvals = (int64_t)pd.n;
  cs->row += (int64_t)pd.n;
  return SL_OK;
}

void pq_cursor_init(pq_cursor *cs, const char *path, const pq_chunk *c, const uint8_t *buf,
                    size_t n, int64_t group_rows, const pq_target *t, pq_scratch *sc,
                    sl_error *err) {
  assert(t->a >= 0 && t->a <= t->b && t->b <= group_rows);
  *cs = (pq_cursor){.path = path, .t = t, .col = t->col, .codec = c->codec, .sc = sc,
                    .group_rows = group_rows, .buf = buf, .n = n,
                    .row = t->col->is_list ? -1 : 0, .err = err};
}

bool pq_pages_for(const pq_loc *l, size_t n, int64_t a, int64_t b, size_t *p0, size_t *p1) {
  size_t i = 0;
  while (i + 1 < n && l[i + 1].first_row <= a) i++;
  *p0 = i;
  while (i + 1 < n && l[i + 1].first_row < b) i++;
  *p1 = i;
  for (i = 1; i <= *p1; i++)
    if (l[i - 1].offset + l[i - 1].size != l[i].offset) return false;
  return true;
}

void pq_cursor_pages(pq_cursor *cs, const pq_loc *locs, size_t nlocs, int64_t end_row,
                     size_t first, size_t at, const char *by) {
  assert(first < nlocs && locs[first].first_row <= cs->t->a);
  cs->locs = locs;
  cs->locs_by = by;
  cs->nlocs = nlocs;
  cs->locs_end = end_row;
  cs->page = first;
  cs->at = at;
  cs->base = locs[first].offset;
  cs->row = locs[first].first_row;
  if (cs->col->is_list) {
    cs->row--; /* the row under way is the one before */
    cs->elems = cs->t->width; /* rows before a are not checked */
  }
}

sl_status pq_cursor_at(pq_cursor *cs, int64_t r, const uint8_t **vals, int64_t *avail) {
  assert(!cs->col->is_list && r >= cs->t->a && r < cs->t->b);
  while (r >= cs->row) SL_TRY(next_flat(cs));
  int64_t first = cs->row - cs->nvals;
  assert(r >= first);
  *vals = cs->vals + (size_t)(r - first) * cs->t->ow;
  *avail = cs->row - r;
  return SL_OK;
}

sl_status pq_cursor_copy(pq_cursor *cs, int64_t r, int64_t n, uint8_t *dst) {
  while (n > 0) {
    const uint8_t *vals;
    int64_t k;
    SL_TRY(pq_cursor_at(cs, r, &vals, &k));
    k = SL_MIN(k, n);
    memcpy(dst, vals, (size_t)k * cs->t->ow);
    dst += (size_t)k * cs->t->ow;
    r += k;
    n -= k;
  }
  return SL_OK;
}

/* List column: every page up to the wanted rows' end, straight into dst. */
static sl_status read_list(pq_cursor *cs) {
  while (!cs->done) {
    pq_page h;
    const uint8_t *raw;
    bool found;
    SL_TRY(next_page(cs, &h, &raw, &found));
    if (!found) break;
    page_data pd;
    SL_TRY(decode_page(cs, &h, raw, &pd));
    SL_TRY(emit_list(cs, pd.def, pd.rep, pd.n, pd.vals));
  }
  if (!cs->done) { /* the last row is complete and every wanted row came */
    SL_TRY(end_row(cs));
    cs->row++;
  }
  return cs->row < cs->t->b ? chunk_ends(cs) : SL_OK;
}

sl_status pq_cursor_read(pq_cursor *cs) {
  const pq_target *t = cs->t;
  if (t->col->is_list) return read_list(cs);
  assert(t->stride == t->ow); /* one flat column: its rows are contiguous */
  return pq_cursor_copy(cs, t->a, t->b - t->a, t->dst);
}

void pq_scratch_free(pq_scratch *sc) {
  sl_buf *all[] = {&sc->chunk, &sc->page,  &sc->vals, &sc->dense,
                   &sc->idx,   &sc->dict,  &sc->def,  &sc->rep};
  for (size_t i = 0; i < SL_ARRAY_LEN(all); i++) sl__buf_free(all[i]);
}
