/* Parquet reader internals shared by the files of src/formats/parquet/.
 *
 *   thrift.c   Thrift compact protocol, bounded (sizes, depth, list lengths)
 *   footer.c   FileMetaData and PageHeader into the plain structs below
 *   decode.c   value and level encodings (PLAIN, RLE/bit-packed hybrid,
 *              dictionary indices, BYTE_STREAM_SPLIT, DELTA_BINARY_PACKED)
 *   snappy_index.c  tag indexes of snappy streams: single values of a
 *              SNAPPY page without decompressing it (random rows)
 *   codec.c    page decompression (snappy, gzip, zstd, lz4 raw)
 *   column.c   one column chunk of one row group into its strided place
 *   parquet.c  the driver: footer, column selection, probe and read
 *   write.c    the driver's writer (`shardload write --format parquet`)
 *
 * Everything that comes from a file is bounds-checked here; a problem is
 * reported as a short reason ("why") that the driver puts into a message
 * naming the file and the column.
 */
#ifndef SL_PQ_H
#define SL_PQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the Parquet driver assumes a little-endian host (Parquet stores little-endian)"
#endif

/* Limits on what a file may ask of us. */
#define PQ_MAX_FOOTER (256 << 20)   /* bytes of FileMetaData */
#define PQ_MAX_DEPTH 32             /* Thrift struct/list nesting */
#define PQ_MAX_PAGE (1 << 30)       /* bytes of one page, either size */
#define PQ_MAX_LEVEL 60             /* definition/repetition nesting */

/* ------------------------------------------------------------ Thrift */

enum {
  PQ_T_STOP = 0, PQ_T_TRUE = 1, PQ_T_FALSE = 2, PQ_T_BYTE = 3, PQ_T_I16 = 4,
  PQ_T_I32 = 5, PQ_T_I64 = 6, PQ_T_DOUBLE = 7, PQ_T_BINARY = 8, PQ_T_LIST = 9,
  PQ_T_SET = 10, PQ_T_MAP = 11, PQ_T_STRUCT = 12
};

/* A read position in compact-protocol bytes. Errors are sticky: after the
   first, every call returns zero/false and why keeps the first reason. */
typedef struct pq_thrift {
  const uint8_t *p, *end;
  int depth;
  const char *why;
} pq_thrift;

void pq_thrift_init(pq_thrift *t, const void *p, size_t n);
/* Records why (unless a reason is already set) and stops the reading. */
void pq_fail(pq_thrift *t, const char *why);
/* Next field of the current struct; false at its end (STOP) or on error. */
bool pq_field(pq_thrift *t, int16_t *last, int16_t *id, int *type);
int64_t pq_int(pq_thrift *t, int type);
/* An i32 field that must lie in [lo, hi]. */
int32_t pq_i32(pq_thrift *t, int type, int32_t lo, int32_t hi);
bool pq_bool(pq_thrift *t, int type);
const uint8_t *pq_binary(pq_thrift *t, int type, size_t *len);
/* Opens a list (or set); *n is at most the bytes left. */
bool pq_list(pq_thrift *t, int type, int *elem, int64_t *n);
/* Enters a nested struct (checking the type and depth); pair with pq_leave. */
bool pq_enter(pq_thrift *t, int type);
void pq_leave(pq_thrift *t);
void pq_skip(pq_thrift *t, int type);
size_t pq_consumed(const pq_thrift *t, const void *start);

/* ------------------------------------------------------------ metadata */

enum { PQ_BOOLEAN, PQ_INT32, PQ_INT64, PQ_INT96, PQ_FLOAT, PQ_DOUBLE, PQ_BYTE_ARRAY,
       PQ_FLBA };
enum { PQ_REQUIRED, PQ_OPTIONAL, PQ_REPEATED };
enum { PQ_PLAIN = 0, PQ_PLAIN_DICT = 2, PQ_RLE = 3, PQ_BIT_PACKED = 4, PQ_DELTA_BP = 5,
       PQ_RLE_DICT = 8, PQ_BSS = 9 };
enum { PQ_UNCOMPRESSED = 0, PQ_SNAPPY = 1, PQ_GZIP = 2, PQ_BROTLI = 4, PQ_ZSTD = 6,
       PQ_LZ4_RAW = 7 };
enum { PQ_DATA_PAGE = 0, PQ_INDEX_PAGE = 1, PQ_DICT_PAGE = 2, PQ_DATA_PAGE_V2 = 3 };
/* LogicalType union members we look at (the field ids). */
enum { PQ_LT_STRING = 1, PQ_LT_LIST = 3, PQ_LT_DATE = 6, PQ_LT_TIME = 7, PQ_LT_TIMESTAMP = 8,
       PQ_LT_INTEGER = 10, PQ_LT_FLOAT16 = 15 };
/* ConvertedType values we look at. */
enum { PQ_CT_UTF8 = 0, PQ_CT_LIST = 3, PQ_CT_DATE = 6, PQ_CT_TIMESTAMP_MICROS = 10,
       PQ_CT_UINT_8 = 11, PQ_CT_INT_64 = 18 };

typedef struct pq_schema {
  const char *name; /* points into the footer bytes; not NUL-terminated */
  int name_len;
  int type;         /* physical type; -1 for a group */
  int32_t type_length;
  int repetition;   /* -1 when absent (the root) */
  int32_t num_children;
  int converted;    /* -1 when absent */
  int logical;      /* LogicalType member id, 0 when absent */
  int int_bits;     /* LogicalType INTEGER */
  bool int_signed;
  int time_unit;    /* LogicalType TIME, TIMESTAMP: 1 MILLIS, 2 MICROS, 3 NANOS; 0 none */
  bool utc;         /* their isAdjustedToUTC */
} pq_schema;

typedef struct pq_chunk {
  int type;
  int codec;
  int64_t num_values;
  int64_t compressed;   /* total_compressed_size */
  int64_t data_off;
  int64_t dict_off;     /* -1 when absent */
  int64_t index_off;    /* its OffsetIndex; -1 when absent */
  int32_t index_len;
  bool has_meta;
  bool external;        /* file_path set: the chunk is in another file */
  uint32_t encodings;   /* ColumnMetaData encodings: bit e for encoding e (< 31),
                           bit 31 for any later one (inspect) */
  int64_t null_count;   /* Statistics null_count; -1 when the file does not say */
} pq_chunk;

typedef struct pq_group {
  int64_t num_rows;
  int64_t first_row;    /* rows of the groups before it */
  size_t ncols;
  pq_chunk *cols;
} pq_group;

typedef struct pq_meta {
  int64_t num_rows;
  const char *created_by; /* into the footer bytes, not NUL-terminated; NULL if absent */
  int created_by_len;
  size_t nschema;
  pq_schema *schema;
  size_t ngroups;
  pq_group *groups;
} pq_meta;

/* Parses FileMetaData; names point into buf, which must outlive m.
   @return NULL or the reason it does not parse. On failure m is freed. */
const char *pq_parse_meta(const uint8_t *buf, size_t n, pq_meta *m, bool *oom);
void pq_meta_free(pq_meta *m);

typedef struct pq_page {
  int type;
  int32_t uncompressed, compressed;
  int32_t num_values;
  int encoding;
  int def_enc, rep_enc;          /* v1 */
  int32_t num_nulls, num_rows;   /* v2 */
  int32_t def_len, rep_len;      /* v2 */
  bool is_compressed;            /* v2 */
  size_t header_len;
} pq_page;

/* A data page as the chunk's OffsetIndex places it. */
typedef struct pq_loc {
  int64_t offset;       /* of its header in the file */
  int64_t size;         /* header and body, at most INT32_MAX */
  int64_t first_row;    /* within the row group */
} pq_loc;

/* Parses an OffsetIndex and checks that its pages lie in order inside file
   bytes [lo, hi) and start at increasing rows below rows, the first at 0.
   *locs is allocated (sl__free). @return NULL or the reason. */
const char *pq_parse_offset_index(const uint8_t *buf, size_t n, int64_t lo, int64_t hi,
                                  int64_t rows, pq_loc **locs, size_t *nlocs, bool *oom);

/* Parses a PageHeader at p (at most n bytes). @return NULL or the reason. */
const char *pq_parse_page(const uint8_t *p, size_t n, pq_page *h);

const char *pq_type_name(int type);
const char *pq_encoding_name(int enc);
const char *pq_codec_name(int codec);

/* ------------------------------------------------------------ decoding */

/* The reason decoders give when an allocation fails (compared by address). */
extern const char pq_oom[];

/* Bits needed for values 0..max. */
int pq_bit_width(uint32_t max);
/* n values of the RLE/bit-packed hybrid (no length prefix), width <= 32. */
const char *pq_rle(const uint8_t *p, size_t len, int width, uint32_t *out, size_t n);
/* The same into bytes, width <= 8 (levels, booleans). */
const char *pq_rle8(const uint8_t *p, size_t len, int width, uint8_t *out, size_t n);
/* Levels: pq_rle8 that also counts the values equal to match. */
const char *pq_levels(const uint8_t *p, size_t len, int width, uint8_t *out, size_t n,
                      int match, size_t *matches);
/* n PLAIN values of physical type into out (pw bytes each; BOOLEAN: 0/1
   bytes); *used receives the bytes consumed. */
const char *pq_plain(const uint8_t *p, size_t len, int type, size_t pw, size_t n,
                     uint8_t *out, size_t *used);
const char *pq_bss(const uint8_t *p, size_t len, size_t pw, size_t n, uint8_t *out);
const char *pq_delta(const uint8_t *p, size_t len, size_t pw, size_t n, uint8_t *out);
/* Dictionary indices (a width byte, then the hybrid), gathered from dict. */
const char *pq_dict(const uint8_t *p, size_t len, const uint8_t *dict, size_t ndict,
                    size_t pw, size_t n, uint32_t *idx, uint8_t *out);
/* Booleans encoded RLE: a 4-byte length, then the hybrid of width 1. */
const char *pq_rle_bool(const uint8_t *p, size_t len, size_t n, uint8_t *out);

/* ------------------------------------------------------------ snappy index */

/* One tag of a snappy stream (snappy_index.c), in the order of the bytes it
   produces. */
typedef struct pq_snap_tag {
  uint32_t out;  /* where its bytes start in the uncompressed bytes */
  int32_t at;    /* >= 0: a literal, its bytes at this position of the stream;
                    < 0: a copy of the bytes -at before */
} pq_snap_tag;

/* Copies pq_snap_find follows for one byte before it gives up. */
#define PQ_SNAP_HOPS 64

/* The tags of the snappy stream in[0, n), whose m uncompressed bytes out
   are what the codec table decoded from it, each checked against out:
   *tags gets *ntags of them, at most max, and one more whose out is m
   (sl__free). @return NULL, pq_oom, or why the stream is not indexed (too
   many tags, or a stream that a decoder must refuse). */
const char *pq_snap_index(const uint8_t *in, size_t n, const uint8_t *out, size_t m,
                          size_t max, pq_snap_tag **tags, size_t *ntags);
/* Where uncompressed bytes [x, x + *len) start in the stream of the n tags
   (x < tags[n].out): *at, and *len becomes how many of them lie there one
   after another (at least 1). @return false when more than PQ_SNAP_HOPS
   copies lead there. */
bool pq_snap_find(const pq_snap_tag *tags, size_t n, uint64_t x, size_t *len, uint32_t *at);

/* ------------------------------------------------------------ columns */

/* One output column (or the single fixed-size list) as the reader needs it. */
typedef struct pq_col {
  const char *name;
  int name_len;
  size_t leaf;          /* index of its chunk in every row group */
  int type;             /* physical */
  size_t pw;            /* physical bytes per value */
  int max_def, max_rep;
  int list_def;         /* lists: def level at which an element exists */
  bool is_list;
  sl_dtype dtype;       /* as the column holds it (the array's may differ:
                           option dtype converts while interleaving) */
  uint8_t fill[8];      /* option fill_nulls as a value of dtype */
  const struct pq_schema *e; /* its leaf element (for inspect) */
  char desc[96];        /* its type as messages name it ("TIMESTAMP(MICROS) (INT64)") */
} pq_col;

/* Where and how one chunk lands: rows [a, b) of the group go to dst, row r
   at dst + (r - a) * stride, each value ow bytes wide (lists: width values
   per row, checked). fill is NULL when nulls are errors. */
typedef struct pq_target {
  const pq_col *col;
  int64_t a, b;
  uint8_t *dst;
  size_t stride, ow;
  int64_t width;
  const uint8_t *fill;
  int64_t first_row;    /* the group's first row in the file (messages) */
  sl_dtype from, to;    /* lists: the column's type and the array's; values
                           (ow bytes of from) land dw bytes apart */
  size_t dw;
} pq_target;

/* Decoding buffers, reused from chunk to chunk (and from call to call
   through the driver's pool) so that fresh memory, whose page faults cost
   more than the decoding, is paid once. */
typedef struct pq_scratch {
  sl_buf chunk, page, vals, dense, idx, dict, def, rep;
} pq_scratch;

void pq_scratch_free(pq_scratch *sc);

/* One column chunk read page by page. Flat columns come out as one value
   per row as the tile holds it (nulls filled or refused), so that a caller
   can interleave every column's rows in one pass. */
typedef struct pq_cursor {
  const char *path;
  const pq_target *t;   /* the wanted rows [a, b); dst is not used */
  const pq_col *col;
  int codec;
  int64_t group_rows;
  pq_scratch *sc;
  const uint8_t *buf;   /* the chunk's bytes */
  size_t n, pos;        /* their size; the next page header */
  const uint8_t *dict;  /* dictionary values, pw bytes each; NULL: none yet */
  size_t ndict;
  int64_t row;          /* flat: rows of the pages so far; list: current row */
  int64_t elems;        /* list: elements of the current row so far */
  bool done;            /* list: past the wanted rows */
  const uint8_t *vals;  /* flat: values of rows [row - nvals, row), t->ow bytes each */
  int64_t nvals;
  const pq_loc *locs;   /* page locations, when buf holds only some pages */
  size_t nlocs, page;   /* how many; the next data page's entry */
  int64_t locs_end;     /* the row after the last page listed */
  const char *locs_by;  /* where they come from (messages) */
  size_t at;            /* where in buf the first listed page read begins */
  int64_t base;         /* that page's file offset */
  bool page_start;      /* list: the next entry must start a row */
  sl_error *err;
} pq_cursor;

void pq_cursor_init(pq_cursor *cs, const char *path, const pq_chunk *c, const uint8_t *buf,
                    size_t n, int64_t group_rows, const pq_target *t, pq_scratch *sc,
                    sl_error *err);
/* The rows data page h holds as its header tells and, for a v2 page of a
   list column, its repetition levels (stored uncompressed at body, the
   bytes after the header) count; its num_rows is not used there, Arrow C++
   before 12.0 wrote num_values in it (PARQUET-2066). *rows is -1 where they
   cannot be told (a v1 list page); *starts_row is false for a list page
   whose first value continues a row. cap: the most values its row group
   can hold; rep: scratch for the levels. @return NULL or why the page is
   bad (pq_oom: out of memory). */
const char *pq_page_rows(const pq_col *c, const pq_page *h, const uint8_t *body, int64_t cap,
                         sl_buf *rep, int64_t *rows, bool *starts_row);

/* The located pages [*p0, *p1] that hold rows [a, b); false when pages
   [0, *p1] do not follow each other with nothing between (something not
   listed, such as a dictionary written after data pages, may be needed:
   read the chunk whole). */
bool pq_pages_for(const pq_loc *l, size_t n, int64_t a, int64_t b, size_t *p0, size_t *p1);

/* buf holds bytes before the chunk's first data page (its dictionary), then,
   from buf + at, the pages of locs[first...] only: rows start at that
   page's first row, and every page read must lie and start where locs says
   (locs: the OffsetIndex, or what the page headers said, as `by` names
   them; pages listed end at end_row). Pages not read are taken on the
   index's word, as other readers do. */
void pq_cursor_pages(pq_cursor *cs, const pq_loc *locs, size_t nlocs, int64_t end_row,
                     size_t first, size_t at, const char *by);
/* List columns (and flat ones, into t->dst): every wanted row. */
sl_status pq_cursor_read(pq_cursor *cs);
/* Flat columns: the value of row r of the row group (t->ow bytes, as the
   tile holds it) and how many rows follow it contiguously (at least 1). r
   only grows from call to call, starting at t->a or later. */
sl_status pq_cursor_at(pq_cursor *cs, int64_t r, const uint8_t **vals, int64_t *avail);
/* Flat columns: rows [r, r + n) of the row group into dst, contiguous,
   t->ow bytes each. Calls ask for rows in increasing order, starting at t->a
   or later. */
sl_status pq_cursor_copy(pq_cursor *cs, int64_t r, int64_t n, uint8_t *dst);

/* The unit of a DATE, TIME or TIMESTAMP column's integers ("int32 days
   since 1970-01-01"); "" for any other. */
void pq_unit_text(const struct pq_schema *e, char *buf, size_t cap);

/* SL_ENOTSUP naming the file, the column and the codec when this build
   cannot decode codec (the same message at discovery and at reading). */
sl_status pq_codec_check(const char *path, const pq_col *c, int codec, sl_error *err);

/* The driver's write: one REQUIRED PLAIN uncompressed column per array column. */
sl_status sl__parquet_write(const char *path, sl_dtype dtype, int ndim, const int64_t *shape,
                            const void *data, sl_error *err);

/* ------------------------------------------------- the driver's own types */

enum { P_FOOTER_LEN, P_DTYPE, P_WIDTH };

/* One top-level field of the schema and what loading it would mean. */
typedef struct pq_top {
  const pq_schema *e;     /* the top-level element */
  const pq_schema *leaf;  /* its first primitive leaf */
  size_t leaf_idx, nleaves;
  int max_def, max_rep, rep_def;
  sl_dtype dtype;
  const char *why;        /* NULL when loadable; else what it is */
  char desc[96];
} pq_top;

/* A SNAPPY page whose values are read one by one from its stream. */
typedef struct pq_snap {
  pq_snap_tag *tags;    /* NULL: not indexed */
  size_t n;             /* tags (tags[n] ends the last) */
  int64_t stream, len;  /* the stream's file offset and compressed bytes */
  uint32_t vals;        /* where the values start among its uncompressed bytes */
} pq_snap;

/* A flat column chunk's data pages for random rows (pagemap.c): made by
   the first gather that needs it, then read-only. */
typedef struct pq_pmap {
  bool ok;              /* located; false: read the chunk as a range read does */
  size_t n;
  pq_loc *locs;         /* every data page, back to back */
  int64_t *vals;        /* per page: file offset of its first value when its
                           values are read one by one (PLAIN, uncompressed, no
                           null, bytes as the tile holds them); else -1 */
  pq_snap *snap;        /* SNAPPY chunks: per page, its stream's index when its
                           values are read one by one from the stream (PLAIN,
                           no null, as the tile holds them, few tags); NULL
                           for other chunks */
  size_t ntags;         /* in all its indexes (bounded) */
  int64_t end_row;
  int64_t off, lead;    /* the chunk's first byte; bytes before its first data
                           page (the dictionary) */
  const char *by;       /* where the locations come from (messages) */
} pq_pmap;

/* The parsed footer and the selection: a shard's handle, read-only. */
typedef struct pq_file {
  uint8_t *footer;
  size_t footer_len;
  int64_t file_size;
  pq_meta meta;
  size_t nfields;
  pq_top *fields;
  size_t ncols;
  pq_col *cols;
  sl_dtype dtype;         /* of the array (option dtype, or the columns' one type) */
  sl_dtype *types;        /* each selected column's own */
  bool cast;              /* some column's type differs from dtype */
  int64_t width;          /* values per row: columns, or the list length */
  bool has_fill;
  _Atomic(pq_pmap *) *pmaps; /* handles: per row group and column, NULL until a
                                gather makes it (pagemap.c) */
} pq_file;

/* The dataset's options, parsed once (the driver's dataset state). */
typedef sl_table_options pq_options;

/* One selected column while a row group is read: its buffers, where its
   rows go and its place among the pages. */
typedef struct pq_column {
  pq_scratch sc;
  pq_target t;
  pq_cursor cur;
  pq_loc *locs;         /* the chunk's page locations, when needed */
  size_t nlocs, locs_cap;
  sl_buf picked;        /* the gather: this column's values of the rows taken */
} pq_column;

/* schema.c: the top-level fields of f's schema, and the selection of the
   columns o names (or the default) with its dtype and width. */
sl_status pq_read_schema(const char *path, pq_file *f, sl_error *err);
sl_status pq_select_columns(const char *path, const pq_options *o, pq_file *f, sl_error *err);

/* pages.c: the bytes of a chunk from its dictionary page to its end,
   checked to lie between the magic and the footer. */
sl_status pq_chunk_range(const char *path, const pq_file *f, const pq_chunk *c,
                         const pq_col *col, int64_t *off, int64_t *len, sl_error *err);
/* Where chunk c's pages are, for rows [k->t.a, k->t.b) of group g (its bytes
   [off, off + n)): from its OffsetIndex or, when only some rows are wanted,
   from its page headers (*by says which), into k->locs. *ok false: unknown,
   read the chunk whole. */
sl_status pq_locate_pages(const sl_source *src, const pq_file *f, const pq_group *g,
                          const pq_chunk *c, int64_t off, int64_t n, pq_column *k,
                          int64_t *end_row, const char **by, bool *ok, sl_error *err);

/* pagemap.c: the page map of row group gi's chunk of selected column ci,
   made on first use with k's buffers and kept in f until it is freed. */
sl_status pq_pmap_get(const sl_source *src, const pq_file *f, size_t gi, size_t ci,
                      pq_column *k, const pq_pmap **out, sl_error *err);
void pq_pmaps_free(pq_file *f);

/* As pq_locate_pages for every row of the group: from the OffsetIndex, or
   else by walking every page header. *ok false: the pages cannot be told
   (v1 pages of a list column, say). */
sl_status pq_locate_all(const sl_source *src, const pq_file *f, const pq_group *g,
                        const pq_chunk *c, int64_t off, int64_t n, pq_column *k,
                        int64_t *end_row, const char **by, bool *ok, sl_error *err);

/* inspect.c: the driver's inspect slot (columns, codecs, encodings, nulls
   from the statistics, fields left out, row groups), as JSON. */
sl_status pq_inspect(const sl_shard *s, const void *handle, const sl_source *src,
                     char **json, sl_error *err);

#endif
