/* What the command shows while it works (--progress): one line on standard
 * error, on rank 0, rewritten in place ('\r', then clear to the end of the
 * line): the phase, or during the load the bytes read across the ranks,
 * the percentage, GB/s and the time left, as the library's progress
 * callback reports them a few times a second; a summary line once the
 * load is done. Shown when standard error is a terminal (--progress) or
 * always (--progress=always). Also the sizes of the reports. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* "100 B", "12.5 KiB", "3.0 MiB", "2.0 GiB" (inspect's and read's). */
void size_text(int64_t bytes, char *buf, size_t cap) {
  static const char *const unit[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) {
    snprintf(buf, cap, "%lld B", (long long)bytes);
    return;
  }
  double v = (double)bytes / 1024;
  size_t u = 0;
  while (v >= 1024 && u + 1 < sizeof unit / sizeof unit[0]) v /= 1024, u++;
  snprintf(buf, cap, "%.1f %s", v, unit[u]);
}

/* Under mpiexec a rank's standard error is a pipe to mpiexec, whatever
   mpiexec's own is, while Open MPI gives standard output a terminal when
   mpiexec has one: there, that one says whether a person is watching. */
bool live_wanted(const args *a) {
  if (a->progress == PROGRESS_ALWAYS) return true;
  return a->progress == PROGRESS_AUTO &&
         (isatty(2) || (sl_comm_is_mpi(the_comm) && isatty(1)));
}

/* One write of the whole line, so that it never shows half-drawn. */
static void show(const char *line, bool end) {
  char buf[512];
  snprintf(buf, sizeof buf, "\r\033[K%s%s", line, end ? "\n" : "");
  say(stderr, "%s", buf);
  if (rank0) fflush(stderr);
}

void live_phase(const args *a, const char *what) {
  if (!live_wanted(a)) return;
  char line[256];
  snprintf(line, sizeof line, "shardload: %s", what);
  show(line, false);
}

void live_clear(const args *a) {
  if (live_wanted(a)) show("", false);
}

/* Whose bytes the line counts. */
static const char *scope(const sl_progress *p, char *buf, size_t cap) {
  if (p->ranks < p->ranks_total) snprintf(buf, cap, ", rank 0 only (MPI without threads)");
  else if (p->ranks_total > 1) snprintf(buf, cap, ", %d ranks", p->ranks_total);
  else buf[0] = '\0';
  return buf;
}

void live_progress(const sl_progress *p, void *user) {
  (void)user;
  char done[32], total[32], who[64], line[256];
  size_text(p->bytes_done, done, sizeof done);
  size_text(p->bytes_total, total, sizeof total);
  double rate = p->seconds > 0 ? (double)p->bytes_done / p->seconds : 0;
  if (p->final) {
    char of[48] = "";
    if (p->bytes_done != p->bytes_total) snprintf(of, sizeof of, " of %s", total);
    snprintf(line, sizeof line, "shardload: read %s%s in %.2f s (%.2f GB/s%s)", done, of,
             p->seconds, rate / 1e9, scope(p, who, sizeof who));
    show(line, true);
    return;
  }
  double pct = p->bytes_total > 0 ? 100.0 * (double)p->bytes_done / (double)p->bytes_total : 100;
  char eta[32] = "--";
  if (rate > 0) snprintf(eta, sizeof eta, "%.1f s", (double)(p->bytes_total - p->bytes_done) / rate);
  snprintf(line, sizeof line, "shardload: %s / %s %3.0f%%  %.2f GB/s  ETA %s%s", done, total,
           pct, rate / 1e9, eta, scope(p, who, sizeof who));
  show(line, false);
}
