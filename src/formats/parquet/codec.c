/* Page decompression with Debian's codec libraries (Compression.md).
 *
 * The page header gives the uncompressed size, so every codec decodes into
 * a buffer of exactly that size and a different result size is corruption.
 * GZIP may be several concatenated members; windowBits 15+32 accepts gzip
 * and zlib headers alike. LZ4_RAW is a bare LZ4 block. The deprecated LZ4
 * (Hadoop framing) and LZO are not built in.
 */
#include <limits.h>
#include <string.h>

#include <brotli/decode.h>
#include <lz4.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "pq.h"

static sl_status snappy(const uint8_t *src, size_t n, uint8_t *dst, size_t m,
                        const char **why) {
  size_t want = 0;
  if (snappy_uncompressed_length((const char *)src, n, &want) != SNAPPY_OK || want != m) {
    *why = "snappy data does not give the page's uncompressed size";
    return SL_EFORMAT;
  }
  size_t got = m;
  if (snappy_uncompress((const char *)src, n, (char *)dst, &got) != SNAPPY_OK || got != m) {
    *why = "snappy data is corrupt";
    return SL_EFORMAT;
  }
  return SL_OK;
}

static sl_status gzip(const uint8_t *src, size_t n, uint8_t *dst, size_t m,
                      const char **why) {
  if (n > UINT_MAX || m > UINT_MAX) {
    *why = "gzip page is too large";
    return SL_EFORMAT;
  }
  z_stream z;
  memset(&z, 0, sizeof z);
  if (inflateInit2(&z, 15 + 32) != Z_OK) {
    *why = "zlib cannot start inflating";
    return SL_ENOMEM;
  }
  z.next_in = (Bytef *)src;
  z.avail_in = (uInt)n;
  z.next_out = dst;
  z.avail_out = (uInt)m;
  int rc = Z_OK;
  while (rc == Z_OK || (rc == Z_STREAM_END && z.avail_in > 0 && z.avail_out > 0)) {
    if (rc == Z_STREAM_END) rc = inflateReset(&z); /* next concatenated member */
    if (rc == Z_OK) rc = inflate(&z, Z_FINISH);
    if (rc == Z_BUF_ERROR && z.avail_out == 0) break;
  }
  size_t got = m - z.avail_out;
  inflateEnd(&z);
  if ((rc != Z_STREAM_END && rc != Z_BUF_ERROR) || got != m) {
    *why = "gzip data is corrupt or does not give the page's uncompressed size";
    return SL_EFORMAT;
  }
  return SL_OK;
}

static sl_status zstd(const uint8_t *src, size_t n, uint8_t *dst, size_t m, const char **why) {
  size_t got = ZSTD_decompress(dst, m, src, n);
  if (ZSTD_isError(got) || got != m) {
    *why = "zstd data is corrupt or does not give the page's uncompressed size";
    return SL_EFORMAT;
  }
  return SL_OK;
}

static sl_status lz4_raw(const uint8_t *src, size_t n, uint8_t *dst, size_t m,
                         const char **why) {
  if (n > INT_MAX || m > INT_MAX) {
    *why = "LZ4_RAW page is too large";
    return SL_EFORMAT;
  }
  int got = LZ4_decompress_safe((const char *)src, (char *)dst, (int)n, (int)m);
  if (got < 0 || (size_t)got != m) {
    *why = "LZ4_RAW data is corrupt or does not give the page's uncompressed size";
    return SL_EFORMAT;
  }
  return SL_OK;
}

static sl_status brotli(const uint8_t *src, size_t n, uint8_t *dst, size_t m,
                        const char **why) {
  size_t got = m;
  if (BrotliDecoderDecompress(n, src, &got, dst) != BROTLI_DECODER_RESULT_SUCCESS ||
      got != m) {
    *why = "brotli data is corrupt or does not give the page's uncompressed size";
    return SL_EFORMAT;
  }
  return SL_OK;
}

sl_status pq_decompress(int codec, const uint8_t *src, size_t n, uint8_t *dst, size_t m,
                        const char **why) {
  switch (codec) {
    case PQ_UNCOMPRESSED:
      if (n != m) {
        *why = "uncompressed page's two sizes differ";
        return SL_EFORMAT;
      }
      memcpy(dst, src, m);
      return SL_OK;
    case PQ_SNAPPY: return snappy(src, n, dst, m, why);
    case PQ_GZIP: return gzip(src, n, dst, m, why);
    case PQ_BROTLI: return brotli(src, n, dst, m, why);
    case PQ_ZSTD: return zstd(src, n, dst, m, why);
    case PQ_LZ4_RAW: return lz4_raw(src, n, dst, m, why);
    default:
      *why = "compression codec is not supported (supported: UNCOMPRESSED, SNAPPY, GZIP, "
             "BROTLI, ZSTD, LZ4_RAW)";
      return SL_ENOTSUP;
  }
}
