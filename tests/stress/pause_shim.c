/* Tests only (stress and multihost tiers): an LD_PRELOAD shim that stops one
 * rank at a chosen point so a test can kill it, or cut its host off, at a
 * known moment instead of racing the load.
 *
 *   SL_PAUSE_AT=read   the first pread/preadv2 of shard data (a *.npy file at
 *                      an offset > 0, i.e. after discovery read the header)
 *   SL_PAUSE_AT=fsync  the first fsync/fdatasync of a file in SL_PAUSE_DIR
 *                      (the --output file's directory: the temporary file,
 *                      whatever its name, written in full and not yet renamed)
 *   SL_PAUSE_RANK=K    only on the rank whose OMPI_COMM_WORLD_RANK is K (0)
 *   SL_PAUSE_MARK=F    created when the pause begins: "pid host path size\n"
 *   SL_PAUSE_SECONDS=S how long to wait at most (60); a signal ends it early
 *
 * Nothing in the library or the command knows about it. It is built without
 * sanitizers (ASan builds run it with verify_asan_link_order=0). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static int paused; /* pause once per process */

static int fd_path(int fd, char *buf, size_t cap) {
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, buf, cap - 1);
  if (n < 0) return -1;
  buf[n] = '\0';
  return 0;
}

static int armed(const char *what) {
  const char *at = getenv("SL_PAUSE_AT"), *want = getenv("SL_PAUSE_RANK");
  const char *rank = getenv("OMPI_COMM_WORLD_RANK");
  if (paused || at == NULL || strcmp(at, what) != 0) return 0;
  return atoi(want ? want : "0") == atoi(rank ? rank : "0");
}

static void mark(const char *path, int fd) {
  const char *m = getenv("SL_PAUSE_MARK");
  char host[256] = "?";
  struct stat st;
  long long size = fstat(fd, &st) == 0 ? (long long)st.st_size : -1;
  gethostname(host, sizeof host);
  if (m == NULL) return;
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.part", m);
  FILE *f = fopen(tmp, "w");
  if (f == NULL) return;
  fprintf(f, "%ld %s %s %lld\n", (long)getpid(), host, path, size);
  fclose(f);
  rename(tmp, m); /* the test sees the whole line or nothing */
}

/* Sleeps until the time is up or a signal arrives (then the call goes on and
   the signal's own effect, if any, follows). */
static void hold(const char *path, int fd) {
  paused = 1;
  mark(path, fd);
  const char *s = getenv("SL_PAUSE_SECONDS");
  struct timespec left = {s ? atol(s) : 60, 0};
  int e = errno;
  (void)nanosleep(&left, &left);
  errno = e;
}

static void maybe_read(int fd, off_t off) {
  char p[4096];
  size_t n;
  if (off <= 0 || !armed("read") || fd_path(fd, p, sizeof p) != 0) return;
  n = strlen(p);
  if (n > 4 && strcmp(p + n - 4, ".npy") == 0 && strstr(p, ".tmp") == NULL) hold(p, fd);
}

static void maybe_sync(int fd) {
  char p[4096];
  const char *dir = getenv("SL_PAUSE_DIR");
  size_t n = dir ? strlen(dir) : 0;
  if (!armed("fsync") || dir == NULL || fd_path(fd, p, sizeof p) != 0) return;
  if (strncmp(p, dir, n) == 0 && p[n] == '/' && strchr(p + n + 1, '/') == NULL) hold(p, fd);
}

typedef ssize_t (*pread_fn)(int, void *, size_t, off_t);
typedef ssize_t (*preadv2_fn)(int, const struct iovec *, int, off_t, int);
typedef int (*sync_fn)(int);

/* The next definition of name (libc's); looked up on first use. */
static void *next(void **slot, const char *name) {
  if (*slot == NULL) *slot = dlsym(RTLD_NEXT, name);
  return *slot;
}

ssize_t pread(int fd, void *buf, size_t n, off_t off) {
  static void *f;
  maybe_read(fd, off);
  return ((pread_fn)next(&f, "pread"))(fd, buf, n, off);
}

ssize_t pread64(int fd, void *buf, size_t n, off_t off) {
  static void *f;
  maybe_read(fd, off);
  return ((pread_fn)next(&f, "pread64"))(fd, buf, n, off);
}

ssize_t preadv2(int fd, const struct iovec *v, int cnt, off_t off, int flags) {
  static void *f;
  maybe_read(fd, off);
  return ((preadv2_fn)next(&f, "preadv2"))(fd, v, cnt, off, flags);
}

ssize_t preadv64v2(int fd, const struct iovec *v, int cnt, off_t off, int flags) {
  static void *f;
  maybe_read(fd, off);
  return ((preadv2_fn)next(&f, "preadv64v2"))(fd, v, cnt, off, flags);
}

int fsync(int fd) {
  static void *f;
  maybe_sync(fd);
  return ((sync_fn)next(&f, "fsync"))(fd);
}

int fdatasync(int fd) {
  static void *f;
  maybe_sync(fd);
  return ((sync_fn)next(&f, "fdatasync"))(fd);
}
