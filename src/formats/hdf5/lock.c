/* The HDF5 library lock, HDF5's error text, and opening files.
 *
 * The serial HDF5 library is not thread-safe, so every HDF5 call runs under
 * one mutex unless H5is_library_threadsafe says the library locks itself.
 * This lock guards the library, not any state of ours. While we hold it,
 * HDF5's automatic error printing is switched off; failed calls become
 * sl_error messages instead (with HDF5's innermost reason).
 *
 * libhdf5 (1.10.8) dereferences what corrupt files say: some crash it
 * (SIGSEGV in H5Dread and H5Lvisit). A process must not die by a signal on
 * input, and no state survives such a crash to return an error from, so a
 * fault raised inside libhdf5 (this thread holds the lock) prints one line
 * naming the file and ends the process with exit status 1; under mpiexec
 * that ends the job. The handler is installed only while some thread holds
 * the lock (so a program's own later handlers stay in force otherwise), and
 * a fault on any other thread goes to the handler that was there before, as
 * if ours did not exist: our own bugs still crash loudly (and reach ASan's
 * report).
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h5.h"

static pthread_mutex_t h5_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t h5_once = PTHREAD_ONCE_INIT;
static bool h5_threadsafe;
static hid_t h5_fapl = H5P_DEFAULT; /* file access: how every input is opened */
static hid_t h5_dapl[2] = {H5P_DEFAULT, H5P_DEFAULT}; /* dataset access, by allow_external */

/* H5Pset_file_locking appeared in 1.10.7 and 1.12.1. */
#define SL_H5_HAS_FILE_LOCKING                                             \
  (H5_VERS_MAJOR > 1 || H5_VERS_MINOR > 12 ||                              \
   (H5_VERS_MINOR == 12 && H5_VERS_RELEASE >= 1) ||                        \
   (H5_VERS_MINOR == 10 && H5_VERS_RELEASE >= 7))

/* ------------------------------------------------------ faults in HDF5 */

/* The file this thread's HDF5 calls are about; NULL outside the lock. A
   synchronous fault is delivered to the thread that raised it. */
static __thread const char *volatile h5_current;
/* What a corrupt file makes libhdf5 raise: bad pointers (its dense-link
   iteration frees one: SIGSEGV, or glibc's abort on a bad free), and
   divisions by a zero read from the file (SIGFPE). */
static const int h5_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGABRT};
static struct sigaction h5_previous[SL_ARRAY_LEN(h5_signals)];
/* Threads holding the lock (more than one only with a thread-safe HDF5):
   the handler is in place while this is non-zero. */
static pthread_mutex_t h5_sig_mutex = PTHREAD_MUTEX_INITIALIZER;
static int h5_holders;
/* Room for the handler when the fault is a stack overflow (deep recursion
   over a corrupt B-tree): one per thread that calls HDF5 and has none. */
#define SL_H5_ALT_STACK (64 << 10)
static pthread_key_t h5_stack_key;
static __thread bool h5_stack_checked;
static bool h5_have_stack_key;

static void put_err(const char *s) {
  for (size_t n = strlen(s); n > 0;) {
    ssize_t k = write(STDERR_FILENO, s, n);
    if (k <= 0) return;
    s += k;
    n -= (size_t)k;
  }
}

static const char *signal_name(int sig) {
  return sig == SIGSEGV ? "SIGSEGV" : sig == SIGBUS ? "SIGBUS" : sig == SIGFPE ? "SIGFPE"
                                                                               : "SIGABRT";
}

/* Async-signal-safe: write(2) and _exit(2) only. A signal another process
   sent (kill: SI_USER) is not a fault of libhdf5's, whichever thread
   receives it; abort() raises its own (SI_TKILL). */
static void on_fault(int sig, siginfo_t *info, void *ctx) {
  const char *file = h5_current;
  bool sent = info != NULL && info->si_code == SI_USER;
  if (file != NULL && !sent) {
    put_err("shardload: ");
    put_err(file);
    put_err(": libhdf5 crashed (");
    put_err(signal_name(sig));
    put_err(") reading the file's metadata or data: the file is corrupt\n");
    _exit(1);
  }
  size_t i = 0;
  while (i + 1 < SL_ARRAY_LEN(h5_signals) && h5_signals[i] != sig) i++;
  const struct sigaction *prev = &h5_previous[i];
  if (prev->sa_flags & SA_SIGINFO) {
    prev->sa_sigaction(sig, info, ctx);
  } else if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN) {
    prev->sa_handler(sig);
  } else if (prev->sa_handler == SIG_IGN && sent) {
    /* ignored, as it was before us */
  } else {
    /* the default action: returning re-raises a real fault without us; a
       signal sent (kill) is not repeated by returning, so raise it */
    signal(sig, SIG_DFL);
    if (sent) raise(sig);
  }
}

/* Two sigaction calls per signal and lock: 8 system calls, ~1 us on a
   plain kernel (~10 us on the sandboxed one where this was measured), next
   to the H5Fopen and H5Fclose of 150-400 us that every locked section
   makes. */
static void fault_handler_push(void) {
  pthread_mutex_lock(&h5_sig_mutex);
  if (h5_holders++ == 0) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < SL_ARRAY_LEN(h5_signals); i++)
      sigaction(h5_signals[i], &sa, &h5_previous[i]);
  }
  pthread_mutex_unlock(&h5_sig_mutex);
}

static void fault_handler_pop(void) {
  pthread_mutex_lock(&h5_sig_mutex);
  if (--h5_holders == 0)
    for (size_t i = 0; i < SL_ARRAY_LEN(h5_signals); i++)
      sigaction(h5_signals[i], &h5_previous[i], NULL);
  pthread_mutex_unlock(&h5_sig_mutex);
}

static void free_stack(void *p) {
  stack_t off = {.ss_flags = SS_DISABLE};
  sigaltstack(&off, NULL);
  free(p);
}

/* An alternate signal stack for this thread unless it has one (ASan and
   programs may set their own). */
static void ensure_alt_stack(void) {
  if (h5_stack_checked || !h5_have_stack_key) return;
  h5_stack_checked = true;
  stack_t cur;
  if (sigaltstack(NULL, &cur) != 0 || !(cur.ss_flags & SS_DISABLE)) return;
  void *p = malloc(SL_H5_ALT_STACK); /* not sl__malloc: no fault injection here */
  stack_t st = {.ss_sp = p, .ss_size = SL_H5_ALT_STACK, .ss_flags = 0};
  if (p == NULL || sigaltstack(&st, NULL) != 0 || pthread_setspecific(h5_stack_key, p) != 0)
    free_stack(p);
}

/* ------------------------------------------------------------ the lock */

/* External links may lead to files outside the dataset (refused, or with
   allow_external only inside the linking file's directory). */
static herr_t on_external_link(const char *parent, const char *group, const char *child,
                               const char *object, unsigned *flags, hid_t fapl, void *data) {
  (void)group, (void)object, (void)flags, (void)fapl;
  if (data == NULL) return -1;
  return sl__h5_inside_dir(parent, child) ? 0 : -1;
}

static hid_t make_dapl(bool allow) {
  hid_t p = H5Pcreate(H5P_DATASET_ACCESS);
  if (p < 0) return H5P_DEFAULT;
  /* external storage named relative to the HDF5 file, never to the cwd */
  if (H5Pset_efile_prefix(p, "${ORIGIN}") < 0 ||
      H5Pset_elink_cb(p, on_external_link, allow ? (void *)1 : NULL) < 0) {
    H5Pclose(p);
    return H5P_DEFAULT;
  }
  return p;
}

/* A file HDF5 failed to open, list or close (corrupt metadata it cannot
   evict) leaves IDs behind that make H5close print "infinite loop closing
   library" and a table of them at exit, after our one line. After any
   HDF5 failure (every failure path asks sl__h5_reason for HDF5's reason)
   the process exits without H5close: inputs are read-only, and write.c
   closes what it writes. */
static atomic_bool h5_stuck;

void sl__h5_close_file(hid_t f) {
  if (H5Fclose(f) < 0) atomic_store(&h5_stuck, true);
}

hid_t sl__h5_open_path(const char *path) {
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, h5_fapl);
  if (f < 0) atomic_store(&h5_stuck, true);
  return f;
}

void sl__h5_failed(void) { atomic_store(&h5_stuck, true); }

/* Objects still open at exit (a corrupt file can leave some that no close
   frees) would make H5close loop and print, as after a failure. */
static void h5_exit(void) {
  if (!atomic_load(&h5_stuck) && H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) <= 0) H5close();
}

static void h5_init(void) {
  hbool_t ts = 0;
  if (H5dont_atexit() >= 0) atexit(h5_exit); /* fails when HDF5 was opened before us */
  if (H5open() >= 0 && H5is_library_threadsafe(&ts) >= 0) h5_threadsafe = ts;
#if SL_H5_HAS_FILE_LOCKING
  /* Inputs are only ever read, and many ranks open the same files at once:
     HDF5's flock-based locking adds nothing but failures on filesystems
     without flock (some Lustre and NFS mounts). */
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl >= 0 && H5Pset_file_locking(fapl, 0, 1) >= 0) h5_fapl = fapl;
  else if (fapl >= 0) H5Pclose(fapl);
#endif
  h5_dapl[0] = make_dapl(false);
  h5_dapl[1] = make_dapl(true);
  h5_have_stack_key = pthread_key_create(&h5_stack_key, free_stack) == 0;
}

void sl__h5_lock(h5_guard *g, const char *file) {
  pthread_once(&h5_once, h5_init);
  if (!h5_threadsafe) pthread_mutex_lock(&h5_mutex);
  ensure_alt_stack();
  h5_current = file != NULL ? file : "(an HDF5 file)";
  fault_handler_push();
  H5Eget_auto2(H5E_DEFAULT, &g->fn, &g->data);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

void sl__h5_unlock(const h5_guard *g) {
  H5Eset_auto2(H5E_DEFAULT, g->fn, g->data);
  fault_handler_pop();
  h5_current = NULL;
  if (!h5_threadsafe) pthread_mutex_unlock(&h5_mutex);
}

hid_t sl__h5_fapl(void) { return h5_fapl; }
hid_t sl__h5_dapl(bool allow_external) { return h5_dapl[allow_external ? 1 : 0]; }

/* --------------------------------------------------------------- errors */

static herr_t first_error(unsigned n, const H5E_error2_t *e, void *data) {
  char *buf = data;
  if (n == 0 && e->desc != NULL) snprintf(buf, 160, "%s", e->desc);
  return 0;
}

/* HDF5's innermost error description (the most specific one), for messages;
   a fixed 160-byte buffer keeps the one-line message readable. */
const char *sl__h5_reason(char buf[static 160]) {
  atomic_store(&h5_stuck, true);
  snprintf(buf, 160, "unknown HDF5 error");
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_error, buf);
  return buf;
}
/* ------------------------------------------------------- opening files */

static const unsigned char h5_signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

/* HDF5 puts its signature at byte 0 or, after a user block, at 512, 1024,
   2048, ...; checking it ourselves gives a clear "not an HDF5 file" and goes
   through io.c (read-only open, files-opened count, fault injection). */
sl_status sl__h5_check_signature(const sl_source *src, sl_error *err) {
  int64_t fsize = sl_source_size(src);
  bool found = false;
  for (int64_t off = 0; !found && off + 8 <= fsize; off = off ? off * 2 : 512) {
    unsigned char sig[8];
    SL_TRY(sl_source_read(src, off, sizeof sig, sig, err));
    found = memcmp(sig, h5_signature, sizeof sig) == 0;
  }
  if (!found)
    SL_FAIL(err, SL_EFORMAT, "%s: not an HDF5 file (expected the signature \\x89HDF\\r\\n"
            "\\x1a\\n at byte 0, 512, 1024, ... but found none in %lld bytes)",
            sl_source_path(src), (long long)fsize);
  return SL_OK;
}

/* HDF5 opens the file by name with a descriptor of its own: the file under
   that name now must be the one src holds, unchanged. */
sl_status sl__h5_open_file(const sl_source *src, hid_t *f, sl_error *err) {
  char why[160];
  const char *path = sl_source_path(src);
  *f = H5Fopen(path, H5F_ACC_RDONLY, h5_fapl);
  if (*f < 0) atomic_store(&h5_stuck, true);
  if (*f < 0)
    SL_FAIL(err, SL_EFORMAT, "%s: HDF5 cannot open the file: %s", path, sl__h5_reason(why));
  void *handle = NULL;
  sl_status st = SL_OK;
  if (H5Fget_vfd_handle(*f, H5P_DEFAULT, &handle) < 0 || handle == NULL)
    st = sl__fail(err, SL_EIO, "%s: cannot tell which file HDF5 opened: %s", path,
                  sl__h5_reason(why));
  else
    st = sl_source_check_fd(src, *(int *)handle, err);
  if (st != SL_OK) {
    sl__h5_close_file(*f);
    *f = -1;
  }
  return st;
}
