/* Text the library compares or writes whatever the format: natural order
   of names, lists of names in messages, and the header of the .npy files
   that `write` and --output produce. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"

/* Natural order: digit runs compare as numbers, so shard_2 < shard_10.
   Numbers that differ only in leading zeros (part-01, part-1) compare
   equal here; the caller breaks such ties. */
static int natural_only(const char *a, const char *b) {
  while (*a && *b) {
    if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
      while (*a == '0') a++;
      while (*b == '0') b++;
      size_t la = 0, lb = 0;
      while (isdigit((unsigned char)a[la])) la++;
      while (isdigit((unsigned char)b[lb])) lb++;
      if (la != lb) return la < lb ? -1 : 1;
      int c = strncmp(a, b, la);
      if (c != 0) return c;
      a += la;
      b += lb;
    } else {
      if (*a != *b) return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
      a++;
      b++;
    }
  }
  return *a ? 1 : *b ? -1 : 0;
}

/* Ties of the natural order go to strcmp, so that the order is total: a
   listing sorts the same way whatever order the directory returned. */
int sl__natural_cmp(const char *a, const char *b) {
  int c = natural_only(a, b);
  if (c != 0) return c;
  c = strcmp(a, b);
  return c < 0 ? -1 : c > 0;
}

#define SL_NAMES_MAX 16

void sl__names_text(const sl_name *names, size_t n, char *buf, size_t cap) {
  size_t k = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < n && i < SL_NAMES_MAX && k < cap; i++)
    k += (size_t)snprintf(buf + k, cap - k, "%s%.*s", i ? ", " : "", (int)names[i].len,
                          names[i].p);
  if (n > SL_NAMES_MAX && k < cap) snprintf(buf + k, cap - k, ", ... (%zu in all)", n);
}

sl_status sl__npy_header(sl_dtype t, int ndim, const int64_t *shape, char *buf, size_t cap,
                         size_t *len, sl_error *err) {
  char dict[64 + SL_MAX_DIMS * 24];
  int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                   sl_dtype_str(t));
  for (int i = 0; i < ndim; i++)
    n += snprintf(dict + n, sizeof dict - (size_t)n, "%lld,%s", (long long)shape[i],
                  i + 1 < ndim ? " " : "");
  n += snprintf(dict + n, sizeof dict - (size_t)n, "), }");
  /* magic(6) + version(2) + len(2) + dict + padding + '\n', total a multiple of 64 */
  size_t total = ((size_t)n + 10 + 1 + 63) / 64 * 64;
  if (total > cap) SL_FAIL(err, SL_EINVAL, "npy header of %zu bytes does not fit", total);
  size_t hl = total - 10;
  memcpy(buf, "\x93NUMPY\x01\x00", 8);
  buf[8] = (char)(hl & 0xff);
  buf[9] = (char)(hl >> 8);
  memcpy(buf + 10, dict, (size_t)n);
  memset(buf + 10 + n, ' ', total - 10 - (size_t)n - 1);
  buf[total - 1] = '\n';
  *len = total;
  return SL_OK;
}


size_t sl__utf8_len(const unsigned char *p) {
  int n = p[0] < 0x80 ? 1 : p[0] >= 0xc2 && p[0] < 0xe0 ? 2 : p[0] >= 0xe0 && p[0] < 0xf0 ? 3
          : p[0] >= 0xf0 && p[0] < 0xf5 ? 4 : 0;
  for (int i = 1; i < n; i++)
    if ((p[i] & 0xc0) != 0x80) return 0;
  if (n == 3 && ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0))) return 0;
  if (n == 4 && ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))) return 0;
  return (size_t)n;
}

char *sl__utf8_valid(char *s) {
  if (s == NULL) return NULL;
  size_t bad = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p;) {
    size_t n = sl__utf8_len(p);
    bad += n == 0;
    p += n ? n : 1;
  }
  if (bad == 0) return s;
  char *t = malloc(strlen(s) + 2 * bad + 1); /* malloc: the text's owner frees with free() */
  if (t != NULL) {
    char *o = t;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
      size_t n = sl__utf8_len(p);
      if (n == 0) memcpy(o, "\xef\xbf\xbd", 3), o += 3, n = 1;
      else memcpy(o, p, n), o += n;
      p += n;
    }
    *o = '\0';
  }
  free(s);
  return t;
}
