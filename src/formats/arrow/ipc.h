/* Arrow IPC file format (Feather v2): footer, schema and record batch
 * metadata, parsed into plain numbers the driver reads rows with.
 *
 * Shared by the driver (arrow.c), the unit tests and the fuzz target.
 */
#ifndef SL_ARROW_IPC_H
#define SL_ARROW_IPC_H

#include "base.h"

enum { ARROW_CODEC_NONE = -1, ARROW_CODEC_LZ4_FRAME = 0, ARROW_CODEC_ZSTD = 1 };

/* The dataset's options, parsed once (the driver's dataset state). */
typedef sl_table_options arrow_options;

/* One selected column, located in the schema's flattened node/buffer order. */
typedef struct arrow_col {
  char *name;
  bool fsl;              /* FixedSizeList<primitive>: values in a child array */
  bool bits;             /* Bool: values bit-packed */
  int64_t width;         /* values per row (list size, else 1) */
  int64_t node;          /* its FieldNode; an FSL's child is node + 1 */
  int64_t buffer;        /* its validity buffer; next: data, or the FSL child's
                            validity then data */
  int64_t views_before;  /* view-type fields earlier in the schema, whose
                            variadic buffers shift the buffer index */
  sl_dtype dtype;        /* its values' own (Bool: one byte a value once unpacked) */
  char *type;            /* its Arrow type, with the unit of dates and times */
} arrow_col;

/* A selected column inside one batch; offsets are relative to the body. */
typedef struct arrow_part {
  int64_t nulls, child_nulls;
  sl_extent valid, child_valid, data;
} arrow_part;

typedef struct arrow_batch {
  int64_t row0, rows;  /* first row within the file, count */
  int64_t body;        /* file offset of the body */
  int64_t body_len;
  int codec;           /* ARROW_CODEC_* */
  arrow_part *parts;   /* one per selected column */
} arrow_batch;

/* A top-level field the selection left out, and why (inspect). */
typedef struct arrow_skip {
  char *name;
  char *why;
} arrow_skip;

typedef struct arrow_file {
  sl_dtype dtype;      /* of the array: option dtype, or the columns' one type */
  sl_dtype *types;     /* each selected column's own */
  bool cast;           /* some column's type differs from dtype */
  size_t ncols;
  arrow_col *cols;
  int64_t width;       /* values per row of the result: ncols x cols[0].width */
  size_t nbatches;
  arrow_batch *batches;
  int64_t rows;
  bool pooled;         /* counted as a user of the decoding-buffer pool */
  const arrow_options *opts; /* what it was parsed with (the dataset's) */
  bool stream;         /* the stream format (no footer) */
  size_t nskipped;     /* the fields not selected, in schema order */
  arrow_skip *skipped;
} arrow_file;

/* The pool of per-thread decoding buffers (decode.c): a parsed file joins
   it, sl__arrow_file_free leaves it. */
void sl__arrow_pool_join(void);
void sl__arrow_pool_leave(void);

/* Reads n bytes at off, checked against the source's size. */
sl_status sl__arrow_src_read(const sl_source *src, int64_t off, int64_t n, void *buf,
                             sl_error *err);

/* Parses footer, schema and every record batch's metadata (not the bodies)
   and selects the columns of o (NULL: defaults). On failure *out is
   zeroed. Free with sl__arrow_file_free. */
sl_status sl__arrow_parse(const sl_source *src, const arrow_options *o, arrow_file *out,
                          sl_error *err);
void sl__arrow_file_free(arrow_file *f);

/* SL_ENOTSUP naming the file and the codec when this build cannot decode
   codec (ARROW_CODEC_*): the same message from discovery and reading. */
sl_status sl__arrow_codec_check(const sl_source *src, int codec, sl_error *err);

/* Whether rows [lo, hi) of the one selected column are plain bytes in the
   file (uncompressed, no nulls, no conversion): extents answer for them.
   *count: the batches they span. */
bool sl__arrow_plain_rows(const arrow_file *f, int64_t lo, int64_t hi, size_t *count);

/* The driver's inspect slot (inspect.c): batches, codec, columns with
   their nulls from the FieldNodes, fields left out, read path. */
sl_status sl__arrow_inspect(const sl_shard *s, const void *handle, const sl_source *src,
                            char **json, sl_error *err);

/* Decodes file rows [lo, hi) into dst (C order, lo..hi x width values). */
sl_status sl__arrow_read_rows(const arrow_file *f, const sl_source *src,
                              const arrow_options *o, int64_t lo, int64_t hi, void *dst,
                              sl_error *err);

#endif
