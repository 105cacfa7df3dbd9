/* Every system call on files lives here: opening read-only, pread loops that
   survive short reads and EINTR, O_DIRECT alignment, and the temporary-name
   dance that keeps half-written files from appearing under a final name. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "base.h"

/* Fault injection, armed by tests while other threads may be reading. */
static _Atomic long io_countdown, open_countdown;
static _Atomic bool io_repeat, io_short, io_failing;

void sl__io_fail_at(long nth, bool repeat, bool short_read) {
  atomic_store(&io_failing, false);
  atomic_store(&io_repeat, repeat);
  atomic_store(&io_short, short_read);
  atomic_store(&io_countdown, nth);
}

void sl__open_fail_at(long nth) { atomic_store(&open_countdown, nth); }

/* A countdown reaching zero now. */
static bool fires(_Atomic long *countdown) {
  return atomic_load_explicit(countdown, memory_order_relaxed) != 0 &&
         atomic_fetch_sub(countdown, 1) == 1;
}

/* @return 0: do the real read, -1: fail with EIO, 1: return a short read. */
static int injected(void) {
  bool shorten = atomic_load_explicit(&io_short, memory_order_relaxed);
  if (atomic_load_explicit(&io_failing, memory_order_relaxed))
    return atomic_load(&io_repeat) ? (shorten ? 1 : -1) : 0;
  if (!fires(&io_countdown)) return 0;
  atomic_store(&io_failing, true);
  return shorten ? 1 : -1;
}

double sl__now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int64_t sl__now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + (int64_t)ts.tv_nsec;
}

int64_t sl__wall_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + (int64_t)ts.tv_nsec;
}

void sl__host_name(char *buf, size_t cap) {
  if (cap == 0) return;
  if (gethostname(buf, cap) != 0) snprintf(buf, cap, "?");
  buf[cap - 1] = '\0'; /* a truncated name need not be terminated */
}

static void id_of(const struct stat *st, sl_file_id *id) {
  *id = (sl_file_id){(uint64_t)st->st_dev, (uint64_t)st->st_ino, (int64_t)st->st_size,
                     (int64_t)st->st_mtim.tv_sec, (int64_t)st->st_mtim.tv_nsec};
}

/* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer;
   the fstat that follows refuses anything but a regular file. */
sl_status sl__open_read(const char *path, bool direct, int *fd, sl_file_id *id,
                        sl_error *err) {
  int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK;
#ifdef SL_HAVE_O_DIRECT
  if (direct) flags |= O_DIRECT;
#else
  if (direct) SL_FAIL(err, SL_ENOTSUP, "%s: O_DIRECT is not available on this system", path);
#endif
  int f;
  if (fires(&open_countdown)) {
    f = -1;
    errno = EMFILE;
  } else {
    do f = open(path, flags);
    while (f < 0 && errno == EINTR);
  }
  if (f < 0) {
    int e = errno;
    sl_status code = direct && e == EINVAL ? SL_ENOTSUP : e == ENOENT ? SL_ENOENT : SL_EIO;
    if (code == SL_ENOTSUP) sl__fail(err, code, "%s: the filesystem refuses O_DIRECT", path);
    else sl__fail(err, code, "%s: cannot open: %s", path, strerror(e));
    errno = e; /* for callers that act on EMFILE */
    return code;
  }
  struct stat st;
  if (fstat(f, &st) != 0) {
    int e = errno;
    close(f);
    SL_FAIL(err, SL_EIO, "%s: cannot stat: %s", path, strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    close(f);
    SL_FAIL(err, SL_EFORMAT, "%s: not a regular file", path);
  }
  if (id != NULL) id_of(&st, id);
  *fd = f;
  return SL_OK;
}

sl_status sl__fstat_id(int fd, const char *path, sl_file_id *id, sl_error *err) {
  struct stat st;
  if (fstat(fd, &st) != 0) SL_FAIL(err, SL_EIO, "%s: cannot stat: %s", path, strerror(errno));
  id_of(&st, id);
  return SL_OK;
}

sl_status sl__check_id(const char *path, const sl_file_id *now, const sl_file_id *was,
                       sl_error *err) {
  char what[160] = "";
  size_t k = 0;
  bool dev = was->dev != SL_DEV_UNKNOWN && now->dev != was->dev;
  if (dev || now->ino != was->ino)
    k += (size_t)snprintf(what + k, sizeof what - k, "inode");
  if (now->size != was->size)
    k += (size_t)snprintf(what + k, sizeof what - k, "%ssize %lld, was %lld", k ? ", " : "",
                          (long long)now->size, (long long)was->size);
  if (now->mtime_sec != was->mtime_sec || now->mtime_nsec != was->mtime_nsec)
    k += (size_t)snprintf(what + k, sizeof what - k, "%smtime", k ? ", " : "");
  if (k == 0) return SL_OK;
  SL_FAIL(err, SL_ECHANGED, "%s changed since the dataset was opened (%s)", path, what);
}

void sl__close(int fd) {
  if (fd >= 0) close(fd);
}

/* Bytes the library has read through sl__pread_some/full (tests: what a
   buffered read touched; O_DIRECT reads are not counted). */
static _Atomic int64_t bytes_read;

int64_t sl__bytes_read(void) { return atomic_load_explicit(&bytes_read, memory_order_relaxed); }

sl_status sl__pread_some(int fd, const char *path, void *buf, size_t n, int64_t off,
                         size_t *got, sl_error *err) {
  size_t done = 0;
  while (done < n) {
    int inj = injected();
    ssize_t r;
    if (inj < 0) {
      r = -1;
      errno = EIO;
    } else {
      size_t want = n - done;
      if (inj > 0 && want > 1) want /= 2; /* a short read the loop must absorb */
      r = pread(fd, (char *)buf + done, want, (off_t)(off + (int64_t)done));
    }
    if (r < 0) {
      if (errno == EINTR) continue;
      SL_FAIL(err, SL_EIO, "%s: read of %zu bytes at offset %lld failed: %s", path, n - done,
              (long long)(off + (int64_t)done), strerror(errno));
    }
    if (r == 0) break;
    done += (size_t)r;
  }
  atomic_fetch_add_explicit(&bytes_read, (int64_t)done, memory_order_relaxed);
  *got = done;
  return SL_OK;
}

sl_status sl__pread_full(int fd, const char *path, void *buf, size_t n, int64_t off,
                         sl_error *err) {
  size_t got;
  SL_TRY(sl__pread_some(fd, path, buf, n, off, &got, err));
  if (got < n)
    SL_FAIL(err, SL_EFORMAT,
            "%s: file ends at byte %lld but %zu bytes were expected from offset %lld", path,
            (long long)(off + (int64_t)got), n, (long long)off);
  return SL_OK;
}

sl_status sl__pwrite_full(int fd, const char *path, const void *buf, size_t n,
                          int64_t off, sl_error *err) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = pwrite(fd, (const char *)buf + done, n - done, (off_t)(off + (int64_t)done));
    if (r < 0) {
      if (errno == EINTR) continue;
      SL_FAIL(err, SL_EIO, "%s: write of %zu bytes at offset %lld failed: %s", path,
              n - done, (long long)(off + (int64_t)done), strerror(errno));
    }
    done += (size_t)r;
  }
  return SL_OK;
}

sl_status sl__file_size(int fd, const char *path, int64_t *size, sl_error *err) {
  struct stat st;
  if (fstat(fd, &st) != 0) SL_FAIL(err, SL_EIO, "%s: cannot stat: %s", path, strerror(errno));
  if (!S_ISREG(st.st_mode)) SL_FAIL(err, SL_EFORMAT, "%s: not a regular file", path);
  *size = (int64_t)st.st_size;
  return SL_OK;
}

/* statx knows the real O_DIRECT limits on Linux 6.1+; before that, the
   logical block size of 512 is what most devices want, and 4096 is always
   enough. */
size_t sl__direct_align(int fd) {
#if defined(STATX_DIOALIGN)
  struct statx sx;
  if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 &&
      (sx.stx_mask & STATX_DIOALIGN) && sx.stx_dio_offset_align > 0) {
    size_t a = SL_MAX(sx.stx_dio_offset_align, sx.stx_dio_mem_align);
    if (a <= 4096) return a;
  }
#else
  (void)fd;
#endif
  return 4096;
}

/* ------------------------------------------------------- temporary files */

/* The temporary name is fixed per output (PATH.shardload-tmp): a run killed
   before it could clean up leaves at most one, which the next write of the
   same output takes over, and a lock on it keeps two writers of one output
   apart. The names of the temporary files this process is writing are kept
   where a signal handler can reach them: sl_remove_temp_files unlinks them
   (async-signal-safe), so an interrupted command leaves nothing behind. */
#define SL_TEMP_SUFFIX ".shardload-tmp"
#define SL_MAX_TEMPS 16
#define SL_TEMP_NAME_MAX 4096

static char temp_names[SL_MAX_TEMPS][SL_TEMP_NAME_MAX];
static _Atomic int temp_live[SL_MAX_TEMPS];
static pthread_mutex_t temp_lock = PTHREAD_MUTEX_INITIALIZER;

void sl__temp_register(const char *name) {
  size_t n = strlen(name) + 1;
  if (n > SL_TEMP_NAME_MAX) return;
  pthread_mutex_lock(&temp_lock);
  for (int i = 0; i < SL_MAX_TEMPS; i++)
    if (atomic_load(&temp_live[i]) == 0) {
      memcpy(temp_names[i], name, n);
      atomic_store(&temp_live[i], 1);
      break;
    }
  pthread_mutex_unlock(&temp_lock);
}

void sl__temp_forget(const char *name) {
  pthread_mutex_lock(&temp_lock);
  for (int i = 0; i < SL_MAX_TEMPS; i++)
    if (atomic_load(&temp_live[i]) != 0 && strcmp(temp_names[i], name) == 0) {
      atomic_store(&temp_live[i], 0);
      break;
    }
  pthread_mutex_unlock(&temp_lock);
}

/* A temporary that a driver made a directory (a store, one level of
   files), with system calls only: this runs in signal handlers. */
static void remove_dir_now(const char *name) {
  int fd = open(name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return;
  char buf[4096];
  long n;
  while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0)
    for (long off = 0; off < n;) {
      const struct dirent64 *e = (const struct dirent64 *)(buf + off);
      const char *d = e->d_name;
      if (!(d[0] == '.' && (d[1] == '\0' || (d[1] == '.' && d[2] == '\0'))))
        unlinkat(fd, d, 0);
      off += e->d_reclen;
    }
  close(fd);
  rmdir(name);
}

void sl_remove_temp_files(void) {
  for (int i = 0; i < SL_MAX_TEMPS; i++)
    if (atomic_load(&temp_live[i]) != 0 && unlink(temp_names[i]) != 0 && errno == EISDIR)
      remove_dir_now(temp_names[i]);
}

/* An existing output that is not a regular file (a symlink, FIFO, device or
   directory) is never replaced: renaming over it would swap a device node or
   a link for a file of ours. */
static sl_status check_output(const char *path, bool allow_dir, sl_error *err) {
  if (path == NULL || *path == '\0')
    SL_FAIL(err, SL_EINVAL, "the output path is empty");
  struct stat st;
  if (lstat(path, &st) != 0) {
    if (errno == ENOENT) return SL_OK;
    SL_FAIL(err, SL_EIO, "%s: cannot check the output path: %s", path, strerror(errno));
  }
  if (!S_ISREG(st.st_mode) && !(allow_dir && S_ISDIR(st.st_mode)))
    SL_FAIL(err, SL_EINVAL, "%s: exists and is %s, not a regular file; refusing to replace it",
            path, S_ISLNK(st.st_mode) ? "a symbolic link" : S_ISDIR(st.st_mode) ? "a directory"
                  : S_ISFIFO(st.st_mode) ? "a FIFO" : S_ISSOCK(st.st_mode) ? "a socket"
                  : "a device");
  return SL_OK;
}

int sl__stat_id(const char *path, bool follow, sl_file_id *id) {
  struct stat st;
  if ((follow ? stat(path, &st) : lstat(path, &st)) != 0) return errno;
  id_of(&st, id);
  return 0;
}

/* An open-file-description lock: unlike flock it does not collide with the
   flock HDF5 takes on the file it writes under our temporary name. */
static int lock_whole(int fd) {
  struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
  return fcntl(fd, F_OFD_SETLK, &fl);
}

sl_status sl__check_output_path(const char *path, sl_error *err) {
  return check_output(path, false, err);
}

/* A directory may be there: a driver's output can be a store directory,
   which commit replaces with the new one (a file cannot replace it). */
/* Opens (or creates) the temporary name and locks it; *e: 0, EBUSY when
   another process holds it, EEXIST when it is not a regular file. */
static int open_temp(const char *name, int *e) {
  int f = open(name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
  if (f < 0 && errno == EISDIR) { /* a store a killed writer left under the name */
    remove_dir_now(name);
    f = open(name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
  }
  *e = f < 0 ? errno : 0;
  struct stat st;
  if (f >= 0 && (fstat(f, &st) != 0 || !S_ISREG(st.st_mode))) *e = EEXIST;
  else if (f >= 0 && lock_whole(f) != 0) *e = errno == EAGAIN || errno == EACCES ? EBUSY : errno;
  if (*e != 0 && f >= 0) {
    close(f);
    f = -1;
  }
  return f;
}

static bool still_named(int f, const char *name) {
  struct stat a, b;
  return fstat(f, &a) == 0 && lstat(name, &b) == 0 && a.st_dev == b.st_dev &&
         a.st_ino == b.st_ino;
}

sl_status sl__create_temp(const char *path, int *fd, char **tmp, sl_error *err) {
  SL_TRY(check_output(path, true, err));
  size_t n = strlen(path) + sizeof SL_TEMP_SUFFIX;
  if (n > SL_TEMP_NAME_MAX) SL_FAIL(err, SL_EINVAL, "%s: path too long", path);
  char *name = sl__malloc(n);
  if (name == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", path);
  snprintf(name, n, "%s" SL_TEMP_SUFFIX, path);
  /* O_NOFOLLOW and the fstat: a link or FIFO planted under the name is
     never written through or waited on */
  int f, e;
  for (int tries = 0;; tries++) {
    f = open_temp(name, &e);
    /* the file locked must still be the one under the name: a writer that
       finished meanwhile renamed it into place, and truncating that would
       destroy its output */
    if (e != 0 || still_named(f, name)) break;
    close(f);
    if (tries == 3) {
      f = -1, e = EBUSY;
      break;
    }
  }
  if (e == 0 && ftruncate(f, 0) != 0) e = errno;
  if (e != 0) {
    if (f >= 0) close(f);
    sl__free(name);
    if (e == EBUSY) SL_FAIL(err, SL_EIO, "%s: another process is writing it now", path);
    if (e == EEXIST || e == ELOOP)
      SL_FAIL(err, SL_EIO, "%s: cannot write it: something other than a regular file holds "
              "the name of its temporary file (%s" SL_TEMP_SUFFIX ")", path, path);
    SL_FAIL(err, SL_EIO, "%s: cannot create a file beside it: %s", path, strerror(e));
  }
  /* the flag off again: writes to a regular file never block anyway */
  fcntl(f, F_SETFL, fcntl(f, F_GETFL) & ~O_NONBLOCK);
  sl__temp_register(name);
  *fd = f;
  *tmp = name;
  return SL_OK;
}

/* A temporary file, or one that a driver made a directory (a Zarr store):
   its files, then itself (one level: that is all such a store holds). */
static void remove_tmp(const char *tmp) {
  if (unlink(tmp) != 0 && errno == EISDIR) remove_dir_now(tmp);
}

void sl__abort_temp(int fd, char *tmp) {
  if (tmp != NULL) {
    remove_tmp(tmp);
    sl__temp_forget(tmp);
  }
  if (fd >= 0) close(fd);
  sl__free(tmp);
}


/* rename, and for a directory over a directory (a store written again):
   the old one aside first, removed after. */
static int replace(const char *tmp, const char *path) {
  if (rename(tmp, path) == 0) return 0;
  if (errno != ENOTEMPTY && errno != EEXIST) return -1;
  char old[4096];
  snprintf(old, sizeof old, "%s.old.%ld", path, (long)getpid());
  if (rename(path, old) != 0) return -1;
  if (rename(tmp, path) != 0) {
    int e = errno;
    rename(old, path);
    errno = e;
    return -1;
  }
  remove_tmp(old);
  return 0;
}

/* The rename happens while the lock is held, so a second writer that opens
   the name afterwards makes a new file rather than truncating ours. A
   temporary that became a directory (a store) may replace a store. */
sl_status sl__commit_temp(int fd, char *tmp, const char *path, bool sync, sl_error *err) {
  int e = 0;
  if (sync && fsync(fd) != 0) e = errno;
  struct stat ts;
  bool store = lstat(tmp, &ts) == 0 && S_ISDIR(ts.st_mode);
  sl_status st = e == 0 && !store ? sl__check_output_path(path, err) : SL_OK;
  if (st != SL_OK) {
    sl__abort_temp(fd, tmp);
    return st;
  }
  if (e == 0 && (store ? replace(tmp, path) : rename(tmp, path)) != 0) e = errno;
  if (close(fd) != 0 && e == 0) e = errno;
  if (e != 0) remove_tmp(tmp);
  sl__temp_forget(tmp);
  if (e != 0) {
    sl__free(tmp);
    SL_FAIL(err, SL_EIO, "%s: cannot finish writing: %s", path, strerror(e));
  }
  sl__free(tmp);
  return SL_OK;
}

sl_status sl__make_dir(const char *path, sl_error *err) {
  if (mkdir(path, 0755) != 0)
    SL_FAIL(err, SL_EIO, "%s: cannot create the directory: %s", path, strerror(errno));
  return SL_OK;
}

void sl__remove(const char *path) {
  if (unlink(path) != 0) rmdir(path);
}

/* Names of the entries of a directory (no "." or ".."), malloc'd. */
sl_status sl__list_dir(const char *path, char ***names, size_t *n, sl_error *err) {
  DIR *d = opendir(path);
  if (d == NULL) {
    int e = errno;
    SL_FAIL(err, e == ENOENT ? SL_ENOENT : SL_EIO, "%s: cannot list the directory: %s", path,
            strerror(e));
  }
  char **v = NULL;
  size_t count = 0, cap = 0;
  sl_status st = SL_OK;
  struct dirent *de;
  while (st == SL_OK && (de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
    if (count == cap) {
      cap = cap ? cap * 2 : 64;
      char **nv = sl__realloc(v, cap * sizeof *v);
      if (nv == NULL) {
        st = sl__fail(err, SL_ENOMEM, "%s: out of memory listing the directory", path);
        break;
      }
      v = nv;
    }
    if ((v[count] = sl__strdup(de->d_name)) == NULL)
      st = sl__fail(err, SL_ENOMEM, "%s: out of memory listing the directory", path);
    else
      count++;
  }
  closedir(d);
  if (st != SL_OK) {
    sl__free_names(v, count);
    return st;
  }
  *names = v;
  *n = count;
  return SL_OK;
}

void sl__free_names(char **v, size_t n) {
  for (size_t i = 0; i < n; i++) sl__free(v[i]);
  sl__free(v);
}

/* @return 1 directory, 0 other existing file, SL_ENOENT-style failure otherwise. */
sl_status sl__path_kind(const char *path, bool *is_dir, sl_error *err) {
  struct stat st;
  if (stat(path, &st) != 0) {
    int e = errno;
    SL_FAIL(err, e == ENOENT || e == ENOTDIR ? SL_ENOENT : SL_EIO, "%s: %s", path,
            e == ENOENT ? "no such file or directory" : strerror(e));
  }
  *is_dir = S_ISDIR(st.st_mode);
  return SL_OK;
}

/* Reads what the page cache already holds, without blocking on the device
   (RWF_NOWAIT); *got may be anything from 0 to n. Lets --io auto serve warm
   data from memory and send only the cold rest through O_DIRECT. */
sl_status sl__pread_cached(int fd, const char *path, void *buf, size_t n, int64_t off,
                           size_t *got, sl_error *err) {
  *got = 0;
#ifdef SL_HAVE_RWF_NOWAIT
  while (*got < n) {
    struct iovec v = {(char *)buf + *got, n - *got};
    ssize_t r = preadv2(fd, &v, 1, (off_t)(off + (int64_t)*got), RWF_NOWAIT);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EOPNOTSUPP || errno == EINVAL)) break;
    if (r < 0)
      SL_FAIL(err, SL_EIO, "%s: read of %zu bytes at offset %lld failed: %s", path, n - *got,
              (long long)(off + (int64_t)*got), strerror(errno));
    if (r == 0) break;
    *got += (size_t)r;
  }
#else
  (void)fd, (void)path, (void)buf, (void)n, (void)off, (void)err;
#endif
  return SL_OK;
}

/* An O_DIRECT read of exactly n aligned bytes. *refused: the kernel rejected
   the alignment (EINVAL), and the caller should read buffered instead. */
sl_status sl__pread_direct(int fd, const char *path, void *buf, size_t n, int64_t off,
                           bool *refused, sl_error *err) {
  *refused = false;
  size_t done = 0;
  while (done < n) {
    int inj = injected();
    ssize_t r = inj < 0 ? (errno = EIO, -1)
                        : pread(fd, (char *)buf + done, n - done, (off_t)(off + (int64_t)done));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EINVAL && done == 0) {
      *refused = true;
      return SL_OK;
    }
    if (r < 0)
      SL_FAIL(err, SL_EIO, "%s: direct read of %zu bytes at offset %lld failed: %s", path,
              n - done, (long long)(off + (int64_t)done), strerror(errno));
    if (r == 0)
      SL_FAIL(err, SL_EFORMAT, "%s: file ends at byte %lld but %zu bytes were expected from "
              "offset %lld", path, (long long)(off + (int64_t)done), n, (long long)off);
    done += (size_t)r;
  }
  return SL_OK;
}

sl_status sl__open_write(const char *path, int *fd, sl_error *err) {
  int f = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (f < 0) SL_FAIL(err, SL_EIO, "%s: cannot open for writing: %s", path, strerror(errno));
  *fd = f;
  return SL_OK;
}

/* A new file inside a directory being written (a store's chunks). */
sl_status sl__create_write(const char *path, int *fd, sl_error *err) {
  int f = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (f < 0) SL_FAIL(err, SL_EIO, "%s: cannot create: %s", path, strerror(errno));
  *fd = f;
  return SL_OK;
}

sl_status sl__truncate(int fd, const char *path, int64_t size, sl_error *err) {
  if (ftruncate(fd, (off_t)size) != 0)
    SL_FAIL(err, SL_EIO, "%s: cannot size the file to %lld bytes: %s", path, (long long)size,
            strerror(errno));
  return SL_OK;
}

/* ------------------------------------------------------------- mappings */

/* A read-only shared mapping of the first size bytes of fd; NULL when the
   system refuses (the caller then reads with pread). */
void *sl__map_file(int fd, int64_t size) {
  if (size <= 0 || (uint64_t)size > SIZE_MAX) return NULL;
  void *p = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
  return p == MAP_FAILED ? NULL : p;
}

void sl__unmap_file(void *p, int64_t size) {
  if (p != NULL) munmap(p, (size_t)size);
}


/* A mapping read after its file shrank raises SIGBUS on the pages past the
   new end: the file changed under us, which every other read reports as an
   error naming the file. While a thread runs a guarded function, a SIGBUS
   it takes jumps back to the guard, which reports exactly that; any other
   SIGBUS (not ours, or another thread's) goes to the handler that was there
   before (Open MPI's, say) or takes its default course. The handler is
   installed on the first guarded run and checked again at the start of
   every read (sl__map_guard_arm): one system call a read, not a guard. */
static _Thread_local sigjmp_buf *guard_jump;
static struct sigaction bus_before;
static pthread_mutex_t bus_mu = PTHREAD_MUTEX_INITIALIZER;

/* Set while this thread is in the handler that was there before: one that
   passes what is not its own to the one before it (faulthandler and crash
   reporters do) may be passing it back to on_bus, when on_bus was put back
   over it by a later read; taking the default course then ends the loop. */
static _Thread_local bool bus_chaining;

static void on_bus(int sig, siginfo_t *si, void *uc) {
  if (guard_jump != NULL) siglongjmp(*guard_jump, 1);
  /* a fault (not a kill) cannot be ignored: returning re-runs the access */
  bool fault = si != NULL && si->si_code > 0;
  if (!bus_chaining) {
    bus_chaining = true;
    if (bus_before.sa_flags & SA_SIGINFO) {
      if (bus_before.sa_sigaction != NULL) {
        bus_before.sa_sigaction(sig, si, uc);
        bus_chaining = false;
        return;
      }
    } else if (bus_before.sa_handler == SIG_IGN && !fault) {
      bus_chaining = false;
      return;
    } else if (bus_before.sa_handler != SIG_DFL && bus_before.sa_handler != SIG_IGN) {
      bus_before.sa_handler(sig);
      bus_chaining = false;
      return;
    }
    bus_chaining = false;
  }
  signal(SIGBUS, SIG_DFL); /* returning re-runs a faulting access, which now kills */
  if (!fault) raise(sig);
}

/* Installs on_bus unless it is the handler now: a program or library may
   have put its own in since (Open MPI at MPI_Init, a test harness), which
   on_bus then calls for what is not its own. */
void sl__map_guard_arm(void) {
  struct sigaction now;
  pthread_mutex_lock(&bus_mu);
  if (sigaction(SIGBUS, NULL, &now) == 0 &&
      !((now.sa_flags & SA_SIGINFO) && now.sa_sigaction == on_bus)) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_bus;
    /* not blocked while it runs: the jump out leaves the mask as it was,
       and the guard need not save it (a system call per guarded run) */
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &bus_before);
  }
  pthread_mutex_unlock(&bus_mu);
}

static pthread_once_t bus_once = PTHREAD_ONCE_INIT;

sl_status sl__map_guard(const char *path, void (*fn)(void *ctx), void *ctx, sl_error *err) {
  pthread_once(&bus_once, sl__map_guard_arm);
  sigjmp_buf here;
  sigjmp_buf *volatile outer = guard_jump;
  if (sigsetjmp(here, 0) != 0) {
    guard_jump = outer;
    SL_FAIL(err, SL_ECHANGED, "%s changed while it was being read (it is shorter than when "
            "it was opened)", path);
  }
  guard_jump = &here;
  fn(ctx);
  guard_jump = outer;
  return SL_OK;
}
