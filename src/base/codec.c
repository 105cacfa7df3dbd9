/* The one table of decompressors, with Debian's codec libraries, for every
 * format: Parquet pages, Arrow record batch buffers, HDF5 deflate chunks
 * (and Zarr chunks next).
 *
 * Most formats know the decompressed size, and sl__decompress holds every
 * codec to it: a different result is corruption. Arrow IPC as Arrow JS
 * writes it does not say it truly, so sl__decompress_some decodes up to a
 * capacity and says how much came out. GZIP
 * may be several concatenated members; windowBits 15+32 accepts gzip and
 * zlib headers alike. LZ4_RAW is a bare LZ4 block; LZ4_FRAME one frame or
 * several back to back. A codec whose library is missing from the build
 * answers SL_ENOTSUP naming the package.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "base.h"

#ifdef SL_HAVE_BROTLI
#include <brotli/decode.h>
#endif
#ifdef SL_HAVE_BZ2
#include <bzlib.h>
#endif
#ifdef SL_HAVE_BLOSC
#include <blosc.h>
#endif
#ifdef SL_HAVE_LZ4
#include <lz4.h>
#include <lz4frame.h>
#endif
#ifdef SL_HAVE_SNAPPY
#include <snappy-c.h>
#endif
#ifdef SL_HAVE_ZLIB
#include <zlib.h>
#endif
#ifdef SL_HAVE_ZSTD
#include <zstd.h>
#endif

/* Each decodes n bytes of src into at most m bytes of dst; *got: how many.
   Too little room is corruption too: callers size dst to what must fit. */
typedef sl_status (*decode_fn)(const uint8_t *src, size_t n, uint8_t *dst, size_t m,
                               size_t *got, const char **why);

static sl_status none(const uint8_t *src, size_t n, uint8_t *dst, size_t m, size_t *got,
                      const char **why) {
  if (n > m) {
    *why = "uncompressed data is larger than expected";
    return SL_EFORMAT;
  }
  memcpy(dst, src, n);
  *got = n;
  return SL_OK;
}

#ifdef SL_HAVE_SNAPPY
static sl_status snappy(const uint8_t *src, size_t n, uint8_t *dst, size_t m, size_t *got,
                        const char **why) {
  size_t want = 0;
  if (snappy_uncompressed_length((const char *)src, n, &want) != SNAPPY_OK || want > m) {
    *why = "snappy data does not give the expected uncompressed size";
    return SL_EFORMAT;
  }
  *got = want;
  if (snappy_uncompress((const char *)src, n, (char *)dst, got) != SNAPPY_OK) {
    *why = "snappy data is corrupt";
    return SL_EFORMAT;
  }
  return SL_OK;
}
#endif

#ifdef SL_HAVE_ZLIB
/* windowBits: 15 + 32 detects gzip or zlib framing; 15 is zlib only. */
static sl_status inflate_all(const uint8_t *src, size_t n, uint8_t *dst, size_t m,
                             int window, bool members, size_t *got, const char **why) {
  if (n > UINT_MAX || m > UINT_MAX) {
    *why = "deflate data is too large for zlib";
    return SL_EFORMAT;
  }
  z_stream z;
  memset(&z, 0, sizeof z);
  if (inflateInit2(&z, window) != Z_OK) {
    *why = "zlib cannot start inflating";
    return SL_ENOMEM;
  }
  z.next_in = (Bytef *)src;
  z.avail_in = (uInt)n;
  z.next_out = dst;
  z.avail_out = (uInt)m;
  int rc = Z_OK;
  while (rc == Z_OK ||
         (members && rc == Z_STREAM_END && z.avail_in > 0 && z.avail_out > 0)) {
    if (rc == Z_STREAM_END) rc = inflateReset(&z); /* next concatenated member */
    if (rc == Z_OK) rc = inflate(&z, Z_FINISH);
    if (rc == Z_BUF_ERROR && z.avail_out == 0) break;
  }
  *got = m - z.avail_out;
  inflateEnd(&z);
  if (rc != Z_STREAM_END && !(rc == Z_BUF_ERROR && z.avail_out == 0)) {
    *why = "deflate data is corrupt or does not give the expected uncompressed size";
    return SL_EFORMAT;
  }
  return SL_OK;
}

static sl_status gzip(const uint8_t *src, size_t n, uint8_t *dst, size_t m, size_t *got,
                      const char **why) {
  return inflate_all(src, n, dst, m, 15 + 32, true, got, why);
}

static sl_status zlib(const uint8_t *src, size_t n, uint8_t *dst, size_t m, size_t *got,
                      const char **why) {
  return inflate_all(src, n, dst, m, 15, false, got, why);
}
#endif

#ifdef SL_HAVE_BROTLI
static sl_status brotli(const uint8_t *src, size_t n, uint8_t *dst, size_t m, size_t *got,
                        const char **why) {
  *got = m;
  if (BrotliDecoderDecompress(n, src, got, dst) != BROTLI_DECODER_RESULT_SUCCESS) {
    *why = "brotli data is corrupt or does not give the expected uncompressed size";
    return SL_EFORMAT;
  }
  return SL_OK;
}
#endif

#ifdef SL_HAVE_ZSTD
static sl_status zstd(const uint8_t *src, size_t n, uint8_t *dst, size_t m, size_t *got,
                      const char **why) {
  size_t r = ZSTD_decompress(dst, m, src, n);
  if (ZSTD_isError(r)) {
    *why = ZSTD_getErrorName(r);
    return SL_EFORMAT;
  }
  *got = r;
  return SL_OK;
}
#endif

#ifdef SL_HAVE_LZ4
static sl_status lz4_raw(const uint8_t *src, size_t n, uint8_t *dst, size_t m, size_t *got,
                         const char **why) {
  if (n > INT_MAX || m > INT_MAX) {
    *why = "LZ4 block is too large";
    return SL_EFORMAT;
  }
  int r = LZ4_decompress_safe((const char *)src, (char *)dst, (int)n, (int)m);
  if (r < 0) {
    *why = "LZ4 block is corrupt or does not give the expected uncompressed size";
    return SL_EFORMAT;
  }
  *got = (size_t)r;
  return SL_OK;
}

static sl_status lz4_frame(const uint8_t *src, size_t n, uint8_t *dst, size_t m, size_t *out,
                           const char **why) {
  LZ4F_dctx *ctx;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION))) {
    *why = "out of memory for an LZ4 decoder";
    return SL_ENOMEM;
  }
  size_t in_pos = 0, got = 0, r = 0;
  while (in_pos < n) { /* several frames may follow each other */
    size_t in_n = n - in_pos, out_n = m - got;
    r = LZ4F_decompress(ctx, dst + got, &out_n, src + in_pos, &in_n, NULL);
    if (LZ4F_isError(r) || (in_n == 0 && out_n == 0)) break;
    in_pos += in_n;
    got += out_n;
  }
  LZ4F_freeDecompressionContext(ctx);
  if (LZ4F_isError(r) || in_pos < n || r != 0) {
    *why = LZ4F_isError(r) ? LZ4F_getErrorName(r)
                           : "LZ4 frame is truncated or does not give the expected size";
    return SL_EFORMAT;
  }
  *out = got;
  return SL_OK;
}
#endif

#ifdef SL_HAVE_BZ2
static sl_status bz2(const uint8_t *src, size_t n, uint8_t *dst, size_t m, size_t *got,
                     const char **why) {
  if (n > UINT_MAX || m > UINT_MAX) {
    *why = "bzip2 data is too large for libbz2";
    return SL_EFORMAT;
  }
  unsigned out = (unsigned)m;
  int rc = BZ2_bzBuffToBuffDecompress((char *)dst, &out, (char *)src, (unsigned)n, 0, 0);
  if (rc != BZ_OK) {
    *why = rc == BZ_OUTBUFF_FULL ? "bzip2 data gives more than the expected size"
                                 : "bzip2 data is corrupt or truncated";
    return rc == BZ_MEM_ERROR ? SL_ENOMEM : SL_EFORMAT;
  }
  *got = out;
  return SL_OK;
}
#endif

#ifdef SL_HAVE_BLOSC
/* The 16-byte header says how many bytes the buffer has (cbytes) and gives
   (nbytes): both are checked before libblosc sees the data, which it reads
   as far as cbytes says whatever the buffer holds. */
static sl_status blosc(const uint8_t *src, size_t n, uint8_t *dst, size_t m, size_t *got,
                       const char **why) {
  if (n < BLOSC_MIN_HEADER_LENGTH) {
    *why = "Blosc buffer is shorter than its 16-byte header";
    return SL_EFORMAT;
  }
  size_t nbytes = 0, cbytes = 0, blocksize = 0;
  blosc_cbuffer_sizes(src, &nbytes, &cbytes, &blocksize);
  if (cbytes > n) {
    *why = "Blosc header says more compressed bytes than the buffer holds (truncated)";
    return SL_EFORMAT;
  }
  if (nbytes > m) {
    *why = "Blosc header says more uncompressed bytes than expected";
    return SL_EFORMAT;
  }
  int r = blosc_decompress_ctx(src, dst, m, 1);
  if (r < 0 || (size_t)r != nbytes) {
    *why = "Blosc data is corrupt";
    return SL_EFORMAT;
  }
  *got = (size_t)r;
  return SL_OK;
}
#endif

typedef struct codec_row {
  const char *name;
  decode_fn fn;       /* NULL: not in this build */
  const char *package; /* what would add it */
} codec_row;

static const codec_row codecs[] = {
    [SL_CODEC_NONE] = {"UNCOMPRESSED", none, NULL},
#ifdef SL_HAVE_SNAPPY
    [SL_CODEC_SNAPPY] = {"SNAPPY", snappy, NULL},
#else
    [SL_CODEC_SNAPPY] = {"SNAPPY", NULL, "libsnappy-dev"},
#endif
#ifdef SL_HAVE_ZLIB
    [SL_CODEC_GZIP] = {"GZIP", gzip, NULL},
    [SL_CODEC_ZLIB] = {"ZLIB", zlib, NULL},
#else
    [SL_CODEC_GZIP] = {"GZIP", NULL, "zlib1g-dev"},
    [SL_CODEC_ZLIB] = {"ZLIB", NULL, "zlib1g-dev"},
#endif
#ifdef SL_HAVE_BROTLI
    [SL_CODEC_BROTLI] = {"BROTLI", brotli, NULL},
#else
    [SL_CODEC_BROTLI] = {"BROTLI", NULL, "libbrotli-dev"},
#endif
#ifdef SL_HAVE_ZSTD
    [SL_CODEC_ZSTD] = {"ZSTD", zstd, NULL},
#else
    [SL_CODEC_ZSTD] = {"ZSTD", NULL, "libzstd-dev"},
#endif
#ifdef SL_HAVE_LZ4
    [SL_CODEC_LZ4_RAW] = {"LZ4_RAW", lz4_raw, NULL},
    [SL_CODEC_LZ4_FRAME] = {"LZ4_FRAME", lz4_frame, NULL},
#else
    [SL_CODEC_LZ4_RAW] = {"LZ4_RAW", NULL, "liblz4-dev"},
    [SL_CODEC_LZ4_FRAME] = {"LZ4_FRAME", NULL, "liblz4-dev"},
#endif
#ifdef SL_HAVE_BZ2
    [SL_CODEC_BZ2] = {"BZ2", bz2, NULL},
#else
    [SL_CODEC_BZ2] = {"BZ2", NULL, "libbz2-dev"},
#endif
#ifdef SL_HAVE_BLOSC
    [SL_CODEC_BLOSC] = {"BLOSC", blosc, NULL},
#else
    [SL_CODEC_BLOSC] = {"BLOSC", NULL, "libblosc-dev"},
#endif
};
_Static_assert(SL_ARRAY_LEN(codecs) == SL_CODEC_COUNT, "one row per codec");

const char *sl__codec_name(sl_codec c) {
  return (unsigned)c < SL_CODEC_COUNT ? codecs[c].name : "an unknown codec";
}

bool sl__codec_available(sl_codec c) {
  return (unsigned)c < SL_CODEC_COUNT && codecs[c].fn != NULL;
}

static char codec_list[192];
static pthread_once_t codec_list_once = PTHREAD_ONCE_INIT;

static void make_codec_list(void) {
  size_t k = 0;
  for (size_t i = 0; i < SL_CODEC_COUNT && k < sizeof codec_list; i++)
    if (codecs[i].fn != NULL)
      k += (size_t)snprintf(codec_list + k, sizeof codec_list - k, "%s%s", k ? ", " : "",
                            codecs[i].name);
}

const char *sl__codec_list(void) {
  pthread_once(&codec_list_once, make_codec_list);
  return codec_list;
}

sl_status sl__decompress_some(sl_codec c, const uint8_t *src, size_t n, uint8_t *dst,
                              size_t cap, size_t *got, const char **why) {
  *got = 0;
  if ((unsigned)c >= SL_CODEC_COUNT) {
    *why = "an unknown codec";
    return SL_ENOTSUP;
  }
  if (codecs[c].fn == NULL) {
    *why = codecs[c].package;
    return SL_ENOTSUP;
  }
  /* every decoding driver decompresses here: its span in a trace */
  int64_t t0 = sl__trace_t0();
  sl_status st = codecs[c].fn(src, n, dst, cap, got, why);
  sl__trace_sub("decompress", t0);
  return st;
}

sl_status sl__decompress(sl_codec c, const uint8_t *src, size_t n, uint8_t *dst, size_t m,
                         const char **why) {
  size_t got;
  SL_TRY(sl__decompress_some(c, src, n, dst, m, &got, why));
  if (got != m) {
    *why = "the data does not give the expected uncompressed size";
    return SL_EFORMAT;
  }
  return SL_OK;
}

/* CRC-32C, reflected polynomial 0x82F63B78, one table built once. */
static uint32_t crc32c_table[256];
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;

static void make_crc32c_table(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    crc32c_table[i] = c;
  }
}

uint32_t sl__crc32c(const void *p, size_t n) {
  pthread_once(&crc32c_once, make_crc32c_table);
  const uint8_t *b = p;
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) c = crc32c_table[(c ^ b[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}
