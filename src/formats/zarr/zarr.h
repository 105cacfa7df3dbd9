/* The Zarr driver (v2 and v3 array stores) by job: meta.c parses .zarray and
 * zarr.json into one description, chunk.c decodes chunks (codec chains,
 * transposes, sharding) and places them into the tile, zarr.c is the driver
 * (stores, groups, expand, probe, open, read), write.c writes v2 stores.
 * Internal to src/formats/zarr. */
#ifndef SL_ZARR_H
#define SL_ZARR_H

#include "base.h"

/* Bytes-to-bytes codecs, in encoding order. */
typedef enum zarr_bb {
  ZB_BLOSC,
  ZB_ZSTD,
  ZB_GZIP,
  ZB_ZLIB,
  ZB_LZ4,   /* numcodecs LZ4: 4-byte little-endian size, then one LZ4 block */
  ZB_BZ2,
  ZB_CRC32C /* 4 bytes of CRC-32C appended */
} zarr_bb;

#define ZARR_MAX_BB 8

/* How one chunk's bytes become a C-order, native-order array of cs. */
typedef struct zarr_pipe {
  int64_t cs[SL_MAX_DIMS]; /* the chunk's shape */
  int perm[SL_MAX_DIMS];   /* stored axis k is axis perm[k] of the chunk */
  bool permuted;
  bool swap;               /* stored byte order is not native */
  int nbb;
  zarr_bb bb[ZARR_MAX_BB];
} zarr_pipe;

typedef struct zarr_array {
  char *dir;          /* the array's directory (chunk paths, messages) */
  int version;        /* 2 or 3 */
  sl_dtype dtype;
  size_t esize;
  int nd;
  int64_t shape[SL_MAX_DIMS];
  zarr_pipe chunk;    /* the chunks of the grid (shards when sharded) */
  char sep;           /* chunk key separator */
  bool key_c;         /* v3 default encoding: keys start with "c" */
  uint8_t fill[16];   /* one element, native order */
  bool fill_zero;
  bool sharded;
  zarr_pipe inner;    /* inner chunks of a shard */
  zarr_pipe index;    /* the index (its bytes codec and crc32c) */
  bool index_end;
  int64_t inner_grid[SL_MAX_DIMS]; /* inner chunks per shard, per axis */
  int64_t ninner;
  bool fortran;       /* v2 order "F" */
  char *codec_json;   /* for inspect, as the metadata says them: v2 [compressor],
                         v3 the codecs; JSON text (malloc: cJSON's), NULL when
                         it could not be kept */
  char *fill_json;    /* the fill_value as written */
} zarr_array;

/* Parses metadata text (version 2: .zarray, 3: zarr.json) of the array in
   dir (named in messages). Object, string and structured dtypes, filters
   and codecs it cannot apply are SL_ENOTSUP naming the array and them. */
sl_status sl__zarr_parse(const char *text, size_t n, int version, const char *dir,
                         zarr_array *out, sl_error *err);
void sl__zarr_free(zarr_array *a);
/* Bytes of one decoded chunk of p. */
int64_t sl__zarr_chunk_bytes(const zarr_array *a, const zarr_pipe *p);

/* Decoding buffers of one thread. */
typedef struct zarr_work {
  sl_buf raw, t1, t2, dec, out, idx;
} zarr_work;

/* Rows [lo, hi) of the array into dst (C order, native). */
sl_status sl__zarr_read_rows(const zarr_array *a, int64_t lo, int64_t hi, uint8_t *dst,
                             zarr_work *w, sl_error *err);
/* Decodes n bytes of chunk bytes into m bytes of out (C order, native):
   what the fuzz target drives. what names the chunk. */
sl_status sl__zarr_decode(const zarr_array *a, const zarr_pipe *p, const uint8_t *in, size_t n,
                          uint8_t *out, size_t m, zarr_work *w, const char *what,
                          sl_error *err);
void sl__zarr_work_free(zarr_work *w);

/* SL_ENOTSUP naming the array and the codec when this build lacks a codec
   of p (chunk.c): discovery refuses what every chunk read would. */
sl_status sl__zarr_codec_check(const zarr_array *a, const zarr_pipe *p, sl_error *err);
/* The codecs of p by name, in encoding order ("blosc", "crc32c"). */
const char *sl__zarr_codec_name(zarr_bb bb);

/* Checks what can be told of each written chunk file without decoding it
   as a read would (a chunk's size and Blosc header sizes; a shard's index:
   its checksums, its entries inside the file), the first max files of the
   grid in C order; *checked counts them. For inspect: it refuses what read
   would. */
sl_status sl__zarr_check_chunks(const zarr_array *a, int64_t max, int64_t *checked,
                                sl_error *err);

/* The driver's inspect slot (inspect.c): format, chunks, codec chain, fill
   value, sharding and the read path, as JSON. */
sl_status sl__zarr_inspect(const sl_shard *s, const void *handle, const sl_source *src,
                           char **json, sl_error *err);

/* Writes a v2 store (uncompressed, C order) at dir. */
sl_status sl__zarr_write(const char *path, sl_dtype dtype, int ndim, const int64_t *shape,
                         const void *data, sl_error *err);

#endif
