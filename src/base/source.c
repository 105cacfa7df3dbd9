/* Byte sources: what every parser reads through. A file source wraps a
 * descriptor (from the file cache, or opened here for a probe) and its
 * identity; a memory source wraps a buffer, so that fuzz targets and tests
 * run the drivers' real parsing code on bytes in memory. */
#include <string.h>

#include "base.h"

void sl__source_memory(sl_source *s, const char *name, const void *p, size_t n) {
  memset(s, 0, sizeof *s);
  s->path = name;
  s->fd = -1;
  s->mem = p;
  s->size = (int64_t)n;
}

sl_status sl__source_open(sl_source *s, const char *path, sl_error *err) {
  memset(s, 0, sizeof *s);
  s->path = path;
  s->fd = -1;
  int fd;
  SL_TRY(sl__open_read(path, false, &fd, &s->id, err));
  s->fd = fd;
  s->size = s->id.size;
  return SL_OK;
}

void sl__source_close(sl_source *s) {
  if (s->mem == NULL) sl__close(s->fd);
  s->fd = -1;
}

typedef struct copy {
  void *dst;
  const void *src;
  size_t n;
} copy;

static void copy_run(void *ctx) {
  const copy *c = ctx;
  memcpy(c->dst, c->src, c->n);
}

sl_status sl_source_read_some(const sl_source *s, int64_t off, size_t n, void *buf,
                              size_t *got, sl_error *err) {
  *got = 0;
  if (off < 0)
    SL_FAIL(err, SL_EFORMAT, "%s: a read at the negative offset %lld", s->path, (long long)off);
  /* no read past the size the file had when it was identified: on a tiny
     file a 4 KiB header read is then one pread, not two */
  size_t left = off < s->size ? (size_t)SL_MIN((int64_t)n, s->size - off) : 0;
  if (s->mem == NULL) return sl__pread_some(s->fd, s->path, buf, left, off, got, err);
  *got = left;
  if (left == 0) return SL_OK;
  if (s->fd < 0) { /* bytes in memory */
    memcpy(buf, s->mem + off, left);
    return SL_OK;
  }
  copy c = {buf, s->mem + off, left}; /* a mapping of the file: it may have shrunk */
  return sl__map_guard(s->path, copy_run, &c, err);
}

sl_status sl_source_read(const sl_source *s, int64_t off, size_t n, void *buf,
                         sl_error *err) {
  size_t got;
  SL_TRY(sl_source_read_some(s, off, n, buf, &got, err));
  if (got < n)
    SL_FAIL(err, SL_EFORMAT,
            "%s: file ends at byte %lld but %zu bytes were expected from offset %lld",
            s->path, (long long)(off + (int64_t)got), n, (long long)off);
  return SL_OK;
}

int64_t sl_source_size(const sl_source *s) { return s->size; }

const char *sl_source_path(const sl_source *s) { return s->path; }

sl_status sl_source_check_fd(const sl_source *s, int fd, sl_error *err) {
  if (s->fd < 0) return SL_OK; /* bytes in memory: nothing on disk to compare with */
  sl_file_id now;
  SL_TRY(sl__fstat_id(fd, s->path, &now, err));
  return sl__check_id(s->path, &now, &s->id, err);
}
