/* The trace recorder (sl_trace): spans for a Chrome trace / Perfetto
 * timeline, appended by many threads at once without a lock.
 *
 * Each thread that records into a trace has its own buffer: blocks of
 * events chained (never moved, so growing one copies nothing) and an arena
 * for the strings it copies. The first span a thread records registers its
 * buffer under the trace's lock; a thread-local slot remembers it, keyed by
 * the trace's serial number (never reused, unlike an address), so every
 * later span is a clock read and a few stores into memory no other thread
 * touches. Rendering reads every buffer: it is for after the recording
 * threads are done (joined, or past the parallel loop's end).
 *
 * Out of memory while recording drops the span and counts it; a trace
 * must never fail the read it watches.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base.h"

#define SL_TRACE_BLOCK 256
#define SL_TRACE_ARENA (16 << 10)

typedef struct event {
  const char *name, *cat;  /* cat static; name static or in the arena */
  const char *file;        /* in the arena */
  int64_t begin, end;      /* sl__now_ns */
  int64_t shard, row_lo, row_hi; /* -1 for a span that is not a piece */
  int64_t rows;            /* rows read in [row_lo, row_hi) */
  int64_t by_path[SL_PATH_COUNT];
} event;

typedef struct block {
  struct block *next;
  size_t n;
  event ev[SL_TRACE_BLOCK];
} block;

typedef struct arena {
  struct arena *next;
  size_t used, cap;
  char text[];
} arena;

typedef struct tbuf {
  struct tbuf *next;
  pthread_t owner;
  int tid;        /* 1, 2, ... in the order threads first recorded */
  bool main;      /* the thread that made the trace */
  block *head, *tail;
  arena *strings;
  _Atomic int64_t count; /* spans kept (read by sl_trace_count meanwhile) */
  int64_t dropped;
} tbuf;

struct sl_trace {
  pthread_mutex_t lock;
  uint64_t serial;
  pthread_t creator;
  int64_t wall_minus_mono; /* sl__wall_ns() - sl__now_ns() when made */
  tbuf *bufs;
  int nbufs;
};

static _Atomic uint64_t serials = 1;
static _Thread_local struct {
  uint64_t serial;
  tbuf *buf;
} mine;
static _Thread_local sl_trace *current;

static const char *const path_names[SL_PATH_COUNT] = {"direct", "cached", "buffered",
                                                      "mapped", "decoded"};

const char *sl__path_name(sl_path p) {
  return (unsigned)p < SL_PATH_COUNT ? path_names[p] : "?";
}

/* ------------------------------------------------------------ the API */

sl_status sl_trace_new(sl_trace **out, sl_error *err) {
  sl_error_clear(err);
  *out = sl__calloc(1, sizeof **out);
  if (*out == NULL) SL_FAIL(err, SL_ENOMEM, "out of memory for a trace");
  pthread_mutex_init(&(*out)->lock, NULL);
  (*out)->serial = atomic_fetch_add(&serials, 1);
  (*out)->creator = pthread_self();
  (*out)->wall_minus_mono = sl__wall_ns() - sl__now_ns();
  return SL_OK;
}

static void free_buf(tbuf *b) {
  for (block *k = b->head, *next; k != NULL; k = next) {
    next = k->next;
    sl__free(k);
  }
  for (arena *a = b->strings, *next; a != NULL; a = next) {
    next = a->next;
    sl__free(a);
  }
  sl__free(b);
}

void sl_trace_free(sl_trace *t) {
  if (t == NULL) return;
  for (tbuf *b = t->bufs, *next; b != NULL; b = next) {
    next = b->next;
    free_buf(b);
  }
  pthread_mutex_destroy(&t->lock);
  sl__free(t);
}

int64_t sl_trace_clock(void) { return sl__now_ns(); }

int64_t sl_trace_count(const sl_trace *t) {
  if (t == NULL) return 0;
  sl_trace *w = (sl_trace *)t; /* the lock only */
  int64_t n = 0;
  pthread_mutex_lock(&w->lock);
  for (const tbuf *b = t->bufs; b != NULL; b = b->next) n += atomic_load(&b->count);
  pthread_mutex_unlock(&w->lock);
  return n;
}

/* ------------------------------------------------------------ recording */

/* The calling thread's buffer in t, registered on its first span. */
static tbuf *my_buf(sl_trace *t) {
  if (mine.serial == t->serial) return mine.buf;
  pthread_t self = pthread_self();
  pthread_mutex_lock(&t->lock);
  tbuf *b = t->bufs;
  while (b != NULL && !pthread_equal(b->owner, self)) b = b->next;
  if (b == NULL && (b = sl__calloc(1, sizeof *b)) != NULL) {
    b->owner = self;
    b->main = pthread_equal(self, t->creator);
    b->tid = ++t->nbufs;
    b->next = t->bufs;
    t->bufs = b;
  }
  pthread_mutex_unlock(&t->lock);
  if (b != NULL) {
    mine.serial = t->serial;
    mine.buf = b;
  }
  return b;
}

static event *new_event(tbuf *b) {
  if (b->tail == NULL || b->tail->n == SL_TRACE_BLOCK) {
    block *k = sl__malloc(sizeof *k);
    if (k == NULL) return NULL;
    k->next = NULL;
    k->n = 0;
    if (b->tail) b->tail->next = k;
    else b->head = k;
    b->tail = k;
  }
  return &b->tail->ev[b->tail->n];
}

/* s copied into the thread's arena; NULL when out of memory. */
static const char *keep(tbuf *b, const char *s) {
  size_t n = strlen(s) + 1;
  arena *a = b->strings;
  if (a == NULL || a->cap - a->used < n) {
    size_t cap = SL_MAX(n, (size_t)SL_TRACE_ARENA);
    if ((a = sl__malloc(sizeof *a + cap)) == NULL) return NULL;
    a->next = b->strings;
    a->used = 0;
    a->cap = cap;
    b->strings = a;
  }
  char *p = a->text + a->used;
  memcpy(p, s, n);
  a->used += n;
  return p;
}

/* A span begun at begin ends now; file and name are copied when asked. */
static void record(sl_trace *t, const char *name, const char *cat, bool copy_name,
                   int64_t begin, const sl_trace_piece *p) {
  int64_t end = sl__now_ns();
  tbuf *b = my_buf(t);
  if (b == NULL) return;
  event *e = new_event(b);
  const char *nm = e && copy_name ? keep(b, name) : name;
  const char *file = e && p && p->file ? keep(b, p->file) : NULL;
  if (e == NULL || nm == NULL || (p && p->file && file == NULL)) {
    b->dropped++;
    return;
  }
  *e = (event){nm, cat, file, begin, end, -1, -1, -1, 0, {0}};
  if (p != NULL) {
    e->shard = p->shard;
    e->row_lo = p->row_lo;
    e->row_hi = p->row_hi;
    e->rows = p->rows > 0 ? p->rows : p->row_hi - p->row_lo;
    memcpy(e->by_path, p->by_path, sizeof e->by_path);
  }
  b->tail->n++;
  atomic_fetch_add_explicit(&b->count, 1, memory_order_relaxed);
}

void sl_trace_span(sl_trace *t, const char *name, int64_t begin) {
  if (t != NULL && name != NULL) record(t, name, "user", true, begin, NULL);
}

void sl__trace_phase(sl_trace *t, const char *name, int64_t begin) {
  if (t != NULL) record(t, name, "phase", false, begin, NULL);
}

void sl__trace_piece_span(sl_trace *t, int64_t begin, const sl_trace_piece *p) {
  if (t != NULL) record(t, "piece", "piece", false, begin, p);
}

void sl__trace_set_current(sl_trace *t) { current = t; }

int64_t sl__trace_t0(void) { return current != NULL ? sl__now_ns() : 0; }

void sl__trace_sub(const char *name, int64_t t0) {
  if (current != NULL && t0 != 0) record(current, name, "decode", false, t0, NULL);
}

/* ------------------------------------------------------------ rendering */

typedef struct text {
  char *p;
  size_t n, cap;
  bool failed;
} text;

static void put(text *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(text *s, const char *fmt, ...) {
  for (int tries = 0; !s->failed && tries < 2; tries++) {
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(s->p ? s->p + s->n : NULL, s->p ? s->cap - s->n : 0, fmt, ap);
    va_end(ap);
    if (k < 0) s->failed = true;
    else if (s->p != NULL && (size_t)k < s->cap - s->n) {
      s->n += (size_t)k;
      return;
    } else {
      size_t cap = SL_MAX(s->cap * 2, s->n + (size_t)k + 4096);
      char *q = sl__realloc(s->p, cap);
      if (q == NULL) s->failed = true;
      else s->p = q, s->cap = cap;
    }
  }
}

/* s as a JSON string: file names are bytes, JSON is UTF-8, so a byte that
   is not part of valid UTF-8 becomes U+FFFD. */
static void put_string(text *out, const char *s) {
  put(out, "\"");
  for (const unsigned char *p = (const unsigned char *)s; *p;) {
    size_t n = sl__utf8_len(p);
    if (n == 0) put(out, "\\ufffd"), n = 1;
    else if (*p == '"' || *p == '\\') put(out, "\\%c", *p);
    else if (*p < 0x20) put(out, "\\u%04x", *p);
    else put(out, "%.*s", (int)n, (const char *)p);
    p += n;
  }
  put(out, "\"");
}

static void put_args(text *s, const event *e) {
  int64_t bytes = 0;
  int kinds = 0, last = 0;
  for (int k = 0; k < SL_PATH_COUNT; k++)
    if (e->by_path[k] > 0) bytes += e->by_path[k], kinds++, last = k;
  put(s, ",\"args\":{\"file\":");
  put_string(s, e->file ? e->file : "");
  put(s, ",\"shard\":%" PRId64 ",\"row_lo\":%" PRId64 ",\"row_hi\":%" PRId64
      ",\"rows\":%" PRId64 ",\"bytes\":%" PRId64 ",\"path\":\"%s\"", e->shard, e->row_lo,
      e->row_hi, e->rows, bytes, kinds == 1 ? path_names[last] : "mixed");
  for (int k = 0; kinds > 1 && k < SL_PATH_COUNT; k++)
    if (e->by_path[k] > 0) put(s, ",\"bytes_%s\":%" PRId64, path_names[k], e->by_path[k]);
  put(s, "}");
}

static void put_event(text *s, const sl_trace *t, const event *e, int rank, int tid,
                      int64_t origin) {
  /* microseconds with three decimals from integers: %f would follow the
     caller's locale (a decimal comma is not JSON) */
  int64_t ts = e->begin + t->wall_minus_mono - origin, dur = e->end - e->begin;
  if (ts < 0) ts = 0;
  if (dur < 0) dur = 0;
  put(s, ",\n{\"name\":");
  put_string(s, e->name);
  put(s, ",\"cat\":\"%s\",\"ph\":\"X\",\"ts\":%" PRId64 ".%03" PRId64 ",\"dur\":%" PRId64
      ".%03" PRId64 ",\"pid\":%d,\"tid\":%d", e->cat, ts / 1000, ts % 1000, dur / 1000,
      dur % 1000, rank, tid);
  if (e->shard >= 0) put_args(s, e);
  put(s, "}");
}

static void put_threads(text *s, const sl_trace *t, int rank) {
  for (const tbuf *b = t->bufs; b != NULL; b = b->next) {
    put(s, ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"args\":{"
        "\"name\":", rank, b->tid);
    char name[32];
    if (b->main) snprintf(name, sizeof name, "main");
    else snprintf(name, sizeof name, "thread %d", b->tid);
    put_string(s, name);
    put(s, "}},\n{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,"
        "\"args\":{\"sort_index\":%d}}", rank, b->tid, b->main ? 0 : b->tid);
    if (b->dropped > 0)
      put(s, ",\n{\"name\":\"dropped\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"args\":{"
          "\"spans\":%" PRId64 "}}", rank, b->tid, b->dropped);
  }
}

sl_status sl__trace_render(const sl_trace *t, int rank, int64_t origin_ns, char **out,
                           size_t *n, sl_error *err) {
  text s = {0};
  char host[256], label[320];
  sl__host_name(host, sizeof host);
  snprintf(label, sizeof label, "rank %d (%s)", rank, host);
  put(&s, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":0,\"args\":{\"name\":",
      rank);
  put_string(&s, label);
  put(&s, "}},\n{\"name\":\"process_sort_index\",\"ph\":\"M\",\"pid\":%d,\"tid\":0,\"args\":"
      "{\"sort_index\":%d}}", rank, rank);
  if (t != NULL) {
    put_threads(&s, t, rank);
    for (const tbuf *b = t->bufs; b != NULL; b = b->next)
      for (const block *k = b->head; k != NULL; k = k->next)
        for (size_t i = 0; i < k->n; i++) put_event(&s, t, &k->ev[i], rank, b->tid, origin_ns);
  }
  if (s.failed) {
    sl__free(s.p);
    SL_FAIL(err, SL_ENOMEM, "out of memory writing the trace of rank %d", rank);
  }
  *out = s.p;
  *n = s.n;
  return SL_OK;
}

int64_t sl__trace_first(const sl_trace *t) {
  int64_t first = INT64_MAX;
  for (const tbuf *b = t ? t->bufs : NULL; b != NULL; b = b->next)
    for (const block *k = b->head; k != NULL; k = k->next)
      for (size_t i = 0; i < k->n; i++) first = SL_MIN(first, k->ev[i].begin);
  return first == INT64_MAX ? first : first + t->wall_minus_mono;
}
