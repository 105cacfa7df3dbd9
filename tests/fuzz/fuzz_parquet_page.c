/* Fuzz target for Parquet pages: page headers, decompression, levels and
   every value encoding. The first four bytes choose the physical type, the
   codec and the definition and repetition levels; the rest is a column chunk
   (a list of 4 values per row when there is a repetition level) whose first
   256 rows are decoded. Any bytes must decode or fail with a one-line error.

   Where the first 256 rows decode, rows [lo, 256) (lo from the second byte)
   are decoded again from only the pages that hold them, located from the
   page headers as for a file without an OffsetIndex: they must come out the
   same, and for a flat column they must decode at all. */
#undef NDEBUG /* the checks below are the point, in every build type */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "parquet/pq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ------------------------------------------------ a chunk in memory */

enum { FUZZ_ROWS = 256, FUZZ_WIDTH = 4, FUZZ_GROUP_ROWS = 1 << 20 };

/* Data page locations of an in-memory chunk from its headers (as the driver
   walks a file without an OffsetIndex); 0 where a page's rows are unknown. */
static size_t fuzz_walk(const uint8_t *buf, size_t n, const pq_col *col, pq_loc *locs,
                        size_t cap, sl_buf *rep, int64_t *end_row) {
  size_t k = 0, pos = 0;
  int64_t row = 0, rows;
  bool starts_row;
  while (pos < n && k < cap) {
    pq_page h;
    if (pq_parse_page(buf + pos, n - pos, &h) != NULL) return 0;
    size_t size = h.header_len + (size_t)h.compressed;
    if (size > n - pos) return 0;
    if (h.type == PQ_DATA_PAGE || h.type == PQ_DATA_PAGE_V2) {
      if (pq_page_rows(col, &h, buf + pos + h.header_len, FUZZ_GROUP_ROWS * FUZZ_WIDTH, rep,
                       &rows, &starts_row) != NULL || rows <= 0 || !starts_row ||
          rows > FUZZ_GROUP_ROWS - row)
        return 0;
      locs[k++] = (pq_loc){(int64_t)pos, (int64_t)size, row};
      row += rows;
    }
    pos += size;
  }
  *end_row = row;
  return pos == n ? k : 0;
}

/* A column chunk of a flat column (or, with max_rep, a list of 4 values per
   row) of a row group of 2^20 rows: rows [lo, hi) of its first 256 into
   their places in dst (8 bytes a value at most, 4 values a row for lists),
   nulls as 0: from the whole chunk, or (paged) from only the pages holding
   them, located from the headers. */
static sl_status decode_rows(const uint8_t *buf, size_t n, int type, int codec, int max_def,
                             int max_rep, int64_t lo, int64_t hi, bool paged, void *dst,
                             sl_error *err) {
  static const size_t widths[] = {1, 4, 8, 12, 4, 8, 0, 2};
  if (type < 0 || type > PQ_FLBA || type == PQ_INT96 || type == PQ_BYTE_ARRAY)
    SL_FAIL(err, SL_EINVAL, "<buffer>: type %d is not decodable", type);
  if (lo < 0 || lo >= hi || hi > FUZZ_ROWS)
    SL_FAIL(err, SL_EINVAL, "<buffer>: rows [%lld, %lld) are not decodable", (long long)lo,
            (long long)hi);
  pq_col col = {.name = "fuzz", .name_len = 4, .type = type, .pw = widths[type],
                .max_def = max_def, .max_rep = max_rep,
                .list_def = max_rep ? (max_def >= 3 ? max_def - 1 : max_def) : 0,
                .is_list = max_rep > 0};
  int64_t width = max_rep ? FUZZ_WIDTH : 1;
  uint8_t fill[8] = {0};
  size_t ow = col.pw;
  pq_target t = {.col = &col, .a = lo, .b = hi, .stride = (size_t)width * ow,
                 .ow = ow, .width = width, .fill = fill, .first_row = 0, .dw = ow};
  t.dst = (uint8_t *)dst + (size_t)lo * t.stride;
  pq_chunk c = {.type = type, .codec = codec};
  pq_scratch sc = {0};
  pq_cursor cs;
  pq_loc locs[64];
  int64_t end_row = 0;
  size_t nlocs = paged ? fuzz_walk(buf, n, &col, locs, 64, &sc.rep, &end_row) : 0, p0, p1;
  uint8_t *part = NULL;
  if (nlocs > 0 && pq_pages_for(locs, nlocs, lo, hi, &p0, &p1)) {
    /* the bytes before the first data page, then those holding [lo, hi) */
    size_t lead = (size_t)locs[0].offset, from = (size_t)locs[p0].offset;
    size_t len = (size_t)(locs[p1].offset + locs[p1].size) - from;
    part = sl__malloc(lead + len);
    if (part == NULL) SL_FAIL(err, SL_ENOMEM, "<buffer>: out of memory");
    memcpy(part, buf, lead);
    memcpy(part + lead, buf + from, len);
    pq_cursor_init(&cs, "<buffer>", &c, part, lead + len, FUZZ_GROUP_ROWS, &t, &sc, err);
    pq_cursor_pages(&cs, locs, nlocs, end_row, p0, lead, "a walk over its page headers");
  } else {
    pq_cursor_init(&cs, "<buffer>", &c, buf, n, FUZZ_GROUP_ROWS, &t, &sc, err);
  }
  sl_status st = pq_cursor_read(&cs);
  pq_scratch_free(&sc);
  sl__free(part);
  return st;
}

enum { ROWS = 256, ROW_MAX = 4 * 8 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const int types[] = {PQ_BOOLEAN, PQ_INT32, PQ_INT64, PQ_FLOAT, PQ_DOUBLE, PQ_FLBA};
  static const int codecs[] = {PQ_UNCOMPRESSED, PQ_SNAPPY, PQ_GZIP, PQ_ZSTD, PQ_LZ4_RAW, 4};
  static uint8_t whole[ROWS * ROW_MAX], part[ROWS * ROW_MAX];
  if (size < 4) return 0;
  int type = types[data[0] % 6], codec = codecs[data[1] % 6];
  int max_rep = data[3] & 1;
  int max_def = data[2] % 4;
  if (max_rep && max_def == 0) max_def = 1; /* a list needs a definition level */
  sl_error err = {0};
  sl_status st = decode_rows(data + 4, size - 4, type, codec, max_def, max_rep, 0,
                                         ROWS, false, whole, &err);
  if (st != SL_OK) {
    assert(err.code != SL_OK && strchr(err.message, '\n') == NULL);
    return 0;
  }
  int64_t lo = (data[1] / 6) * 6; /* 0..252 */
  memcpy(part, whole, sizeof part);
  err = (sl_error){0};
  st = decode_rows(data + 4, size - 4, type, codec, max_def, max_rep, lo, ROWS,
                               true, part, &err);
  if (st != SL_OK) assert(max_rep && err.code != SL_OK && strchr(err.message, '\n') == NULL);
  else assert(memcmp(part, whole, sizeof part) == 0);
  return 0;
}
