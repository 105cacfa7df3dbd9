/* The codec table (src/base/codec.c), shared by every format: each codec
   decodes what its own library encodes, a result of another size is
   corruption, damaged input is an error with a reason, never a crash, and
   a codec out of the build names its package. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <lz4.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "sl_test.h"

enum { N = 10000 };
static uint8_t plain[N];

static int setup(void **state) {
  (void)state;
  for (int i = 0; i < N; i++) plain[i] = (uint8_t)(i % 97 < 50 ? i % 7 : i * 31);
  return 0;
}

/* src (n bytes, the codec's encoding of plain) decodes back, exactly. */
static void round_trip(sl_codec c, const uint8_t *src, size_t n) {
  uint8_t *out = malloc(N + 16);
  const char *why = NULL;
  sl_status st = sl__decompress(c, src, n, out, N, &why);
  if (st != SL_OK) fail_msg("%s: %s", sl__codec_name(c), why);
  assert_memory_equal(out, plain, N);
  why = NULL; /* asked for one byte more: the sizes differ */
  assert_int_equal(sl__decompress(c, src, n, out, N + 1, &why), SL_EFORMAT);
  assert_non_null(why);
  size_t got = 0; /* up to a capacity, the size that came out */
  assert_int_equal(sl__decompress_some(c, src, n, out, N + 16, &got, &why), SL_OK);
  assert_int_equal(got, N);
  for (size_t cut = 1; cut < n; cut += n / 7 + 1) { /* truncated: an error, no crash */
    why = NULL;
    if (sl__decompress(c, src, n - cut, out, N, &why) != SL_OK) assert_non_null(why);
  }
  free(out);
}

static void test_codec_each_decodes_its_library(void **state) {
  (void)state;
  uint8_t *buf = malloc(2 * N + 1024);
  size_t n = ZSTD_compress(buf, 2 * N + 1024, plain, N, 3);
  round_trip(SL_CODEC_ZSTD, buf, n);
  n = (size_t)LZ4_compress_default((const char *)plain, (char *)buf, N, 2 * N + 1024);
  round_trip(SL_CODEC_LZ4_RAW, buf, n);
  n = LZ4F_compressFrame(buf, 2 * N + 1024, plain, N, NULL);
  round_trip(SL_CODEC_LZ4_FRAME, buf, n);
  uLongf zn = 2 * N + 1024;
  assert_int_equal(compress2(buf, &zn, plain, N, 6), Z_OK);
  round_trip(SL_CODEC_ZLIB, buf, zn);
  round_trip(SL_CODEC_GZIP, buf, zn); /* gzip takes zlib framing too */
  z_stream z = {0};
  assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY), Z_OK);
  z.next_in = plain;
  z.avail_in = N;
  z.next_out = buf;
  z.avail_out = 2 * N + 1024;
  assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
  round_trip(SL_CODEC_GZIP, buf, z.total_out);
  deflateEnd(&z);
  size_t sn = 2 * N + 1024;
  assert_int_equal(snappy_compress((const char *)plain, N, (char *)buf, &sn), SNAPPY_OK);
  round_trip(SL_CODEC_SNAPPY, buf, sn);
  round_trip(SL_CODEC_NONE, plain, N);
  free(buf);
}

static void test_codec_unknown_and_listed(void **state) {
  (void)state;
  uint8_t out[4];
  const char *why = NULL;
  assert_int_equal(sl__decompress(SL_CODEC_COUNT, plain, 4, out, 4, &why), SL_ENOTSUP);
  assert_non_null(why);
  const char *list = sl__codec_list();
  assert_non_null(strstr(list, "UNCOMPRESSED"));
#ifdef SL_HAVE_BROTLI
  assert_non_null(strstr(list, "BROTLI"));
  assert_true(sl__codec_available(SL_CODEC_BROTLI));
#endif
  assert_string_equal(sl__codec_name(SL_CODEC_LZ4_FRAME), "LZ4_FRAME");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_codec_each_decodes_its_library),
      cmocka_unit_test(test_codec_unknown_and_listed),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
