/* The gather (sl_dataset_gather_rows): any list of global rows, in any
 * order and with repeats, into a buffer in the caller's order, as a
 * training loop or a random-access user asks for them.
 *
 * The rows are sorted (with their places in the output) and coalesced into
 * spans, each inside one shard: a run of consecutive rows whose places are
 * consecutive too is read straight into place; anything else (repeats,
 * rows out of order, small gaps worth reading through rather than paying
 * another read for) goes through a scratch buffer and is copied to each of
 * its places. Spans are taken a window of shards at a time, like a range
 * read, but the drivers' handles come from the dataset's handle cache
 * (handles.c) and stay for the next call: per call, what is left is the
 * sort, one identity check (fstat) per file touched, and the reads.
 *
 * Small gathers run on the calling thread whatever the executor: starting
 * OpenMP's team costs more than a few thousand preads of warm pages. */
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define SL_TAKE_STACK 4096             /* scratch that lives on the stack */
#define SL_TAKE_WINDOW 256             /* shards whose handles one window pins */
/* Bytes of rows not asked for that a span reads through rather than
   ending: a pread costs about the same for one row as for a page; a
   decoding driver pays per call to find and decode pages, so it reads
   through more. */
#define SL_TAKE_GAP_EXTENTS 4096
#define SL_TAKE_GAP_DECODE (1 << 20)

typedef struct pick {
  int64_t row; /* global row */
  int64_t pos; /* its place in the output */
} pick;

typedef struct span {
  size_t shard;
  int64_t file_lo, file_hi; /* rows of the shard */
  size_t k0, k1;            /* the picks it serves */
  bool direct;              /* read straight to the place of picks[k0] */
  bool take;                /* the driver's take reads just its picks' rows */
} span;

typedef struct take {
  const sl_dataset *d;
  const pick *picks;
  const span *spans;    /* of the current window */
  const size_t *batches; /* tasks: spans [batches[i], batches[i + 1]), one shard */
  const sl_leaf *L;
  char *dst;
} take;

/* ------------------------------------------------------------ planning */

static int cmp_pick(const void *a, const void *b) {
  const pick *x = a, *y = b;
  if (x->row != y->row) return x->row < y->row ? -1 : 1;
  return (x->pos > y->pos) - (x->pos < y->pos);
}

/* LSD radix sort by row, 11 bits a pass, stable (so picks of one row stay
   in the order of their places): a few thousand rows sort in a tenth of
   qsort's time, which was a twentieth of a 4096-row gather. */
#define SL_RADIX_BITS 11
#define SL_RADIX_MIN 256

static void sort_picks(pick *p, size_t n, int64_t max_row) {
  pick *tmp = n >= SL_RADIX_MIN ? sl__malloc(n * sizeof *tmp) : NULL;
  if (tmp == NULL) { /* few rows, or no memory for the second buffer */
    qsort(p, n, sizeof *p, cmp_pick);
    return;
  }
  int bits = 64 - __builtin_clzll((unsigned long long)max_row | 1);
  pick *src = p, *dst = tmp;
  for (int shift = 0; shift < bits; shift += SL_RADIX_BITS) {
    size_t count[1 << SL_RADIX_BITS] = {0};
    for (size_t i = 0; i < n; i++) count[(src[i].row >> shift) & ((1 << SL_RADIX_BITS) - 1)]++;
    size_t at = 0;
    for (size_t b = 0; b < SL_ARRAY_LEN(count); b++) {
      size_t c = count[b];
      count[b] = at;
      at += c;
    }
    for (size_t i = 0; i < n; i++)
      dst[count[(src[i].row >> shift) & ((1 << SL_RADIX_BITS) - 1)]++] = src[i];
    pick *t = src;
    src = dst;
    dst = t;
  }
  if (src != p) memcpy(p, src, n * sizeof *p);
  sl__free(tmp);
}

/* The picks sorted by row (then place), each row checked first. */
static sl_status make_picks(const sl_dataset *d, const int64_t *rows, size_t n, pick **out,
                            sl_error *err) {
  bool sorted = true;
  for (size_t i = 0; i < n; i++) {
    if (rows[i] < 0 || rows[i] >= d->shape[0])
      SL_FAIL(err, SL_EINVAL, "%s: row index %lld (at position %zu) is outside [0, %lld)",
              d->root, (long long)rows[i], i, (long long)d->shape[0]);
    sorted = sorted && (i == 0 || rows[i - 1] <= rows[i]);
  }
  pick *p = sl__malloc(n * sizeof *p);
  if (p == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory for %zu row indices", d->root, n);
  for (size_t i = 0; i < n; i++) p[i] = (pick){rows[i], (int64_t)i};
  if (!sorted) sort_picks(p, n, d->shape[0] - 1);
  *out = p;
  return SL_OK;
}

/* Whether pick k can join span s: same shard, within the gap, not too
   long. Clears s->direct when it joins other than in place. */
static bool joins(const sl_dataset *d, span *s, const pick *p, size_t k, int64_t gap_rows,
                  int64_t max_rows) {
  int64_t base = d->cum_rows[s->shard], last = base + s->file_hi - 1, r = p[k].row;
  if (r >= d->cum_rows[s->shard + 1] || r - last - 1 > gap_rows || r + 1 - base - s->file_lo >
      max_rows)
    return false;
  int64_t first = base + s->file_lo;
  if (r != last + 1 || p[k].pos != p[s->k0].pos + (r - first)) s->direct = false;
  return true;
}

/* Spans of the sorted picks; out NULL counts them. */
static size_t make_spans(const sl_dataset *d, const pick *p, size_t n, int64_t gap_rows,
                         int64_t max_rows, span *out) {
  size_t ns = 0;
  for (size_t k = 0; k < n;) {
    size_t sh = sl__shard_of_row(d->cum_rows, d->nshards, p[k].row);
    int64_t lo = p[k].row - d->cum_rows[sh];
    span s = {sh, lo, lo + 1, k, k + 1, true, false};
    for (k++; k < n && joins(d, &s, p, k, gap_rows, max_rows); k++) {
      s.file_hi = SL_MAX(s.file_hi, p[k].row - d->cum_rows[sh] + 1);
      s.k1 = k + 1;
    }
    if (out != NULL) out[ns] = s;
    ns++;
  }
  return ns;
}

/* For a driver with take: the picks of each shard, at most SL_TAKE_PICKS
   to a span, so that a large gather still shares out among threads. */
#define SL_TAKE_PICKS 16384
#define SL_TAKE_SHARE_MIN 1024

static size_t make_take_spans(const sl_dataset *d, const pick *p, size_t n, span *out) {
  size_t ns = 0;
  for (size_t k = 0; k < n;) {
    size_t sh = sl__shard_of_row(d->cum_rows, d->nshards, p[k].row), k0 = k;
    while (k < n && k - k0 < SL_TAKE_PICKS && p[k].row < d->cum_rows[sh + 1]) k++;
    while (k < n && k > k0 && p[k].row == p[k - 1].row) k++; /* a row's picks stay together */
    if (out != NULL)
      out[ns] = (span){sh, p[k0].row - d->cum_rows[sh], p[k - 1].row - d->cum_rows[sh] + 1,
                       k0, k, false, true};
    ns++;
  }
  return ns;
}

static sl_status plan(const sl_dataset *d, const pick *p, size_t n, int64_t chunk, span **out,
                      size_t *ns, int64_t *bytes, sl_error *err) {
  bool decode = d->driver->extents == NULL;
  if (decode && d->driver->take != NULL) {
    *ns = make_take_spans(d, p, n, NULL);
    *out = sl__malloc((*ns ? *ns : 1) * sizeof **out);
    if (*out == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory planning a gather", d->root);
    make_take_spans(d, p, n, *out);
    /* what a span may decode is the rows it spans: a large gather shares
       that out, a small one (a few rows, a page each) stays on one thread */
    *bytes = (int64_t)n * d->row_bytes;
    for (size_t i = 0; n >= SL_TAKE_SHARE_MIN && i < *ns; i++)
      *bytes += ((*out)[i].file_hi - (*out)[i].file_lo) * d->row_bytes;
    return SL_OK;
  }
  int64_t rb = SL_MAX(d->row_bytes, 1);
  int64_t gap = (decode ? SL_TAKE_GAP_DECODE : SL_TAKE_GAP_EXTENTS) / rb;
  int64_t max_rows = SL_MAX(chunk / rb, 1);
  *ns = make_spans(d, p, n, gap, max_rows, NULL);
  *out = sl__malloc((*ns ? *ns : 1) * sizeof **out);
  if (*out == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory planning a gather", d->root);
  make_spans(d, p, n, gap, max_rows, *out);
  *bytes = 0;
  for (size_t i = 0; i < *ns; i++) *bytes += ((*out)[i].file_hi - (*out)[i].file_lo) * rb;
  return SL_OK;
}

/* ------------------------------------------------------------- reading */

/* A span read to scratch, then each of its rows copied to its places. */
static sl_status scatter(const take *T, const span *s, const sl_segment *seg, sl_error *err) {
  const sl_dataset *d = T->d;
  size_t rb = (size_t)d->row_bytes, bytes = (size_t)(s->file_hi - s->file_lo) * rb;
  char stack[SL_TAKE_STACK];
  char *buf = bytes <= sizeof stack ? stack : sl__malloc(bytes);
  if (buf == NULL)
    SL_FAIL(err, SL_ENOMEM, "%s: out of memory for %zu bytes of rows", d->shards[s->shard].path,
            bytes);
  sl_status st = sl__leaf_piece(T->L, seg, buf, err);
  int64_t first = d->cum_rows[s->shard] + s->file_lo;
  for (size_t k = s->k0; st == SL_OK && k < s->k1; k++)
    memcpy(T->dst + (size_t)T->picks[k].pos * rb, buf + (size_t)(T->picks[k].row - first) * rb,
           rb);
  if (buf != stack) sl__free(buf);
  return st;
}

/* A span of a driver with take: its distinct rows read by the driver into
   scratch, then each copied to the places that asked for it. */
static sl_status take_span(const take *T, const span *s, sl_error *err) {
  const sl_dataset *d = T->d;
  size_t rb = (size_t)d->row_bytes, m = s->k1 - s->k0, n = 0;
  int64_t base = d->cum_rows[s->shard];
  int64_t *rows = sl__malloc(m * sizeof *rows);
  char *buf = sl__malloc(m * rb);
  sl_status st = SL_OK;
  if (rows == NULL || buf == NULL)
    st = sl__fail(err, SL_ENOMEM, "%s: out of memory for %zu rows", d->shards[s->shard].path, m);
  for (size_t k = s->k0; st == SL_OK && k < s->k1; k++)
    if (n == 0 || rows[n - 1] != T->picks[k].row - base) rows[n++] = T->picks[k].row - base;
  if (st == SL_OK) st = sl__leaf_take(T->L, s->shard, rows, n, buf, err);
  for (size_t k = s->k0, j = 0; st == SL_OK && k < s->k1; k++) {
    if (T->picks[k].row - base != rows[j]) j++;
    memcpy(T->dst + (size_t)T->picks[k].pos * rb, buf + j * rb, rb);
  }
  sl__free(rows);
  sl__free(buf);
  return st;
}

static sl_status span_task(void *ctx, size_t i, sl_error *err) {
  const take *T = ctx;
  const span *s = &T->spans[i];
  if (s->take) return take_span(T, s, err);
  sl_segment seg = {s->shard, s->file_lo, s->file_hi, 0};
  if (!s->direct) return scatter(T, s, &seg, err);
  return sl__leaf_piece(T->L, &seg, T->dst + T->picks[s->k0].pos * T->d->row_bytes, err);
}

/* ------------------------------------------------- copies from a mapping */

/* A gather of random rows is a stream of cache and TLB misses. Listing a
   batch's copies first and then making them in one tight loop, the next
   sources prefetched, lets those misses overlap; with the bookkeeping of
   each span between them (cache, extents, checks) they came one by one,
   at twice NumPy's time per row. */
#define SL_TAKE_OPS 64
#define SL_TAKE_AHEAD 8

typedef struct copy_op {
  char *dst;
  const char *src;
  size_t n;
} copy_op;

typedef struct op_list {
  const copy_op *ops;
  size_t n;
} op_list;

static void copy_ops(void *ctx) {
  const op_list *l = ctx;
  for (size_t i = 0; i < l->n; i++) {
    if (i + SL_TAKE_AHEAD < l->n) __builtin_prefetch(l->ops[i + SL_TAKE_AHEAD].src);
    memcpy(l->ops[i].dst, l->ops[i].src, l->ops[i].n);
  }
}

/* The copies, guarded: the file may have shrunk since it was mapped. */
static sl_status run_ops(const char *path, const copy_op *ops, size_t n, sl_error *err) {
  op_list l = {ops, n};
  return n == 0 ? SL_OK : sl__map_guard(path, copy_ops, &l, err);
}

/* A direct span's extents as copies from the mapping map of file f (each
   checked to lie inside the file as discovered); *ok false when it has
   none or they are not all small (the leaf read takes it). */
static sl_status span_ops(const take *T, const span *s, const sl_file_ref *f, const char *map,
                          copy_op *ops, size_t *nops, bool *ok, sl_error *err) {
  const sl_dataset *d = T->d;
  int64_t want = (s->file_hi - s->file_lo) * d->row_bytes, total = 0;
  sl_segment seg = {s->shard, s->file_lo, s->file_hi, 0};
  sl_extent stack[SL_EXTENTS_STACK], *ex;
  size_t n;
  *ok = false;
  if (want > SL_MAP_MAX) return SL_OK;
  SL_TRY(sl__leaf_extents(T->L, &seg, stack, &ex, &n, err));
  char *dst = T->dst + T->picks[s->k0].pos * d->row_bytes;
  sl_status st = SL_OK;
  if (n > 0 && *nops + n <= SL_TAKE_OPS) {
    *ok = true;
    for (size_t i = 0; i < n && st == SL_OK; i++) {
      int64_t end;
      if (ex[i].length < 0 || ex[i].offset < 0 || !sl__add(total, ex[i].length, &total) ||
          total > want || !sl__add(ex[i].offset, ex[i].length, &end) || end > f->src.size)
        st = sl__fail(err, SL_EFORMAT, "%s: driver %s gave byte ranges that do not match the "
                      "rows or lie past the file's %lld bytes", f->src.path, d->driver->name,
                      (long long)f->src.size);
      else
        ops[(*nops)++] = (copy_op){dst + (total - ex[i].length), map + ex[i].offset,
                                   (size_t)ex[i].length};
    }
    if (st == SL_OK && total != want)
      st = sl__fail(err, SL_EFORMAT, "%s: driver %s gave %lld bytes of ranges for %lld bytes "
                    "of rows", f->src.path, d->driver->name, (long long)total, (long long)want);
  }
  sl__leaf_extents_free(stack, ex);
  return st;
}

static sl_status span_task(void *ctx, size_t i, sl_error *err);


/* Spans [a, b) of one shard whose driver gives extents: small direct spans
   copied from a mapping of the file in batches of listed copies, the rest
   (repeats, long spans, swapped bytes, no mapping) by the leaf read. */
static sl_status mapped_batch(const take *T, size_t a, size_t b, sl_error *err) {
  const sl_dataset *d = T->d;
  size_t shard = T->spans[a].shard;
  sl_file_ref f;
  SL_TRY(sl__cache_get(d->cache, d->file_of[shard], false, T->L->opened, &f, err));
  const char *map = d->shards[shard].swap ? NULL : sl__cache_map(d->cache, &f);
  copy_op ops[SL_TAKE_OPS];
  size_t nops = 0;
  int64_t by[SL_PATH_COUNT] = {0}; /* the spans copied here (the leaf read counts its own) */
  int64_t t0 = T->L->trace != NULL ? sl__now_ns() : 0, lo = INT64_MAX, hi = 0, rows = 0;
  sl_status st = SL_OK;
  for (size_t k = a; st == SL_OK && k < b; k++) {
    bool ok = false;
    if (map != NULL && T->spans[k].direct) st = span_ops(T, &T->spans[k], &f, map, ops, &nops,
                                                         &ok, err);
    if (st == SL_OK && !ok && nops > 0 && map != NULL && T->spans[k].direct) {
      st = run_ops(f.src.path, ops, nops, err); /* full: made, and this span listed again */
      nops = 0;
      if (st == SL_OK) st = span_ops(T, &T->spans[k], &f, map, ops, &nops, &ok, err);
    }
    if (st == SL_OK && !ok) {
      st = span_task((void *)T, k, err);
    } else if (st == SL_OK) {
      by[SL_PATH_MAPPED] += (T->spans[k].file_hi - T->spans[k].file_lo) * d->row_bytes;
      lo = SL_MIN(lo, T->spans[k].file_lo);
      hi = SL_MAX(hi, T->spans[k].file_hi);
      rows += T->spans[k].file_hi - T->spans[k].file_lo;
    }
  }
  if (st == SL_OK) st = run_ops(f.src.path, ops, nops, err);
  sl__cache_put(d->cache, &f);
  if (st != SL_OK || rows == 0) return st;
  sl__counts_add(T->L->counts, by);
  /* one span for the batch's copies (the leaf read traced the rest) */
  int64_t row0 = d->cum_rows[shard];
  sl__leaf_trace(T->L, t0, shard, row0 + lo, row0 + hi, rows, by);
  return SL_OK;
}

/* One task: a batch of spans of one shard. */
static sl_status batch_task(void *ctx, size_t i, sl_error *err) {
  const take *T = ctx;
  size_t a = T->batches[i], b = T->batches[i + 1];
  if (T->d->driver->extents != NULL && T->L->io != SL_IO_DIRECT)
    return mapped_batch(T, a, b, err);
  for (size_t k = a; k < b; k++) SL_TRY(span_task(ctx, k, err));
  return SL_OK;
}

/* Batches of spans [a, b): runs of up to SL_TAKE_BATCH small direct spans
   of one shard, which mapped_batch copies from a mapping in one task
   (merge: the driver gives extents and reads may be mapped); every other
   span is a task of its own, so that threads share out the reads and
   decodes of a large gather. out NULL counts them. */
#define SL_TAKE_BATCH 512

static bool small_direct(const sl_dataset *d, const span *s) {
  return s->direct && !s->take && (s->file_hi - s->file_lo) * d->row_bytes <= SL_MAP_MAX;
}

static size_t make_batches(const sl_dataset *d, bool merge, const span *sp, size_t a, size_t b,
                           size_t *out) {
  size_t nb = 0;
  for (size_t k = a; k < b;) {
    size_t e = k + 1;
    if (merge && small_direct(d, &sp[k]))
      while (e < b && e - k < SL_TAKE_BATCH && sp[e].shard == sp[k].shard &&
             small_direct(d, &sp[e]))
        e++;
    if (out != NULL) out[nb] = k - a;
    nb++;
    k = e;
  }
  if (out != NULL) out[nb] = b - a;
  return nb;
}

typedef struct run {
  const sl_dataset *d;
  const sl_executor *ex;
  int threads;
  sl_io_mode io;
  const pick *picks;
  char *dst;
  _Atomic int64_t fault_ns, opened;
  sl_counts counts;
  sl_trace *trace;
} run;

/* Spans [a, b) (sorted by shard), whose shards lie in
   [first, first + SL_TAKE_WINDOW): their handles pinned, the spans read,
   the handles unpinned. */
static sl_status run_window(run *R, const span *sp, size_t a, size_t b, sl_error *err) {
  const sl_dataset *d = R->d;
  size_t first = sp[a].shard, last = sp[b - 1].shard, got = a;
  const void *handles[SL_TAKE_WINDOW] = {0};
  sl_status st = SL_OK;
  for (; st == SL_OK && got < b; got++)
    if (got == a || sp[got].shard != sp[got - 1].shard)
      st = sl__handle_get(d, sp[got].shard, &R->opened, &handles[sp[got].shard - first], err);
  if (st != SL_OK) got--; /* the failed one holds no pin */
  bool merge = d->driver->extents != NULL && R->io != SL_IO_DIRECT;
  size_t nb = make_batches(d, merge, sp, a, b, NULL);
  size_t *batches = st == SL_OK ? sl__malloc((nb + 1) * sizeof *batches) : NULL;
  if (st == SL_OK && batches == NULL)
    st = sl__fail(err, SL_ENOMEM, "%s: out of memory planning a gather", d->root);
  if (st == SL_OK) {
    make_batches(d, merge, sp, a, b, batches);
    sl_leaf L = {.ds = d, .io = R->io, .first = first, .last = last, .handles = handles,
                 .fault_ns = &R->fault_ns, .opened = &R->opened, .device = -1,
                 .small_maps = true, .counts = &R->counts, .trace = R->trace};
    take T = {d, R->picks, sp + a, batches, &L, R->dst};
    st = R->ex->parallel(nb, batch_task, &T, R->threads, err);
  }
  sl__free(batches);
  for (size_t i = a; i < got; i++)
    if (i == a || sp[i].shard != sp[i - 1].shard) sl__handle_put(d, sp[i].shard);
  return st;
}

static sl_status run_spans(run *R, const span *sp, size_t ns, sl_error *err) {
  for (size_t a = 0; a < ns;) {
    size_t b = a + 1;
    while (b < ns && sp[b].shard - sp[a].shard < SL_TAKE_WINDOW) b++;
    SL_TRY(run_window(R, sp, a, b, err));
    a = b;
  }
  return SL_OK;
}

/* ------------------------------------------------------------------ API */

static void fill_stats(sl_read_stats *st, const run *R, const span *sp, size_t ns, size_t n,
                       double t0) {
  const sl_dataset *d = R->d;
  sl_read_stats_init(st);
  st->rows = (int64_t)n;
  st->bytes = (int64_t)n * d->row_bytes;
  st->first_shard = ns ? (int64_t)sp[0].shard : -1;
  st->last_shard = ns ? (int64_t)sp[ns - 1].shard : -1;
  for (size_t i = 0; i < ns; i++)
    st->files += i == 0 || d->file_of[sp[i].shard] != d->file_of[sp[i - 1].shard];
  st->seconds = sl__now() - t0;
  st->fault_seconds = (double)atomic_load(&R->fault_ns) / 1e9;
  st->threads = R->threads;
  st->variant = R->ex->variant;
  st->io = R->io;
  st->files_opened = atomic_load(&R->opened);
  st->open_files_peak = sl__fd_peak();
  st->open_files_limit = sl__fd_budget();
  st->bytes_direct = atomic_load(&R->counts.path[SL_PATH_DIRECT]);
  st->bytes_cached = atomic_load(&R->counts.path[SL_PATH_CACHED]);
  st->bytes_buffered = atomic_load(&R->counts.path[SL_PATH_BUFFERED]);
  st->bytes_mapped = atomic_load(&R->counts.path[SL_PATH_MAPPED]);
  st->bytes_decoded = atomic_load(&R->counts.path[SL_PATH_DECODED]);
}

/* Auto: one thread for a small gather; device memory is not a gather's. */
static sl_status choose(const sl_read_options *o, int64_t bytes, size_t ns,
                        const sl_executor **ex, int *threads, sl_error *err) {
  if (o->variant == SL_VARIANT_AUTO && (bytes < SL_SMALL_READ || ns < 2))
    return sl__choose_executor(SL_VARIANT_CPU, 1, ex, threads, err);
  if (o->variant != SL_VARIANT_GPU)
    SL_TRY(sl__choose_executor_for(o->variant, o->threads, SL_MEMORY_HOST, false, -1, ex,
                                   threads, NULL, 0, err));
  if (o->variant == SL_VARIANT_GPU || (*ex)->variant == SL_VARIANT_GPU)
    SL_FAIL(err, SL_ENOTSUP, "sl_dataset_gather_rows: the gpu variant cannot gather (its "
            "destination is host memory); use cpu, omp or auto");
  return SL_OK;
}

static sl_status gather(const sl_dataset *d, const pick *p, size_t n, char *dst,
                        const sl_read_options *o, sl_read_stats *full, sl_error *err) {
  double t0 = sl__now();
  span *sp = NULL;
  size_t ns = 0;
  int64_t bytes = 0;
  run R = {d, NULL, 1, o->io, p, dst, 0, 0, {0}, o->trace};
  sl_status st = plan(d, p, n, o->chunk_bytes, &sp, &ns, &bytes, err);
  if (st == SL_OK) st = choose(o, bytes, ns, &R.ex, &R.threads, err);
  if (st == SL_OK) {
    sl__cache_begin(d->cache); /* files kept from earlier calls are checked again */
    st = run_spans(&R, sp, ns, err);
    fill_stats(full, &R, sp, ns, n, t0);
  }
  sl__free(sp);
  return st;
}

/* A small range read (sl_dataset_read_rows, variant auto) through the
   gather's machinery: one span per shard, read in place on the calling
   thread with the shard handles kept, rather than a window opened and
   closed per call (single rows from Python: 110 us a call, 44 with the cpu
   variant, before). */
sl_status sl__take_range(const sl_dataset *d, int64_t lo, int64_t hi, char *dst,
                         const sl_read_options *o, sl_read_stats *full, sl_error *err) {
  double t0 = sl__now();
  size_t ns = sl__segments(d->cum_rows, d->nshards, lo, hi, NULL);
  sl_segment *seg = sl__malloc((ns ? ns : 1) * sizeof *seg);
  span *sp = sl__malloc((ns ? ns : 1) * sizeof *sp);
  pick *p = sl__malloc((ns ? ns : 1) * sizeof *p);
  sl_status st = SL_OK;
  if (seg == NULL || sp == NULL || p == NULL)
    st = sl__fail(err, SL_ENOMEM, "%s: out of memory planning a read", d->root);
  run R = {d, NULL, 1, o->io, p, dst, 0, 0, {0}, o->trace};
  if (st == SL_OK) {
    sl__segments(d->cum_rows, d->nshards, lo, hi, seg);
    for (size_t i = 0; i < ns; i++) {
      p[i] = (pick){d->cum_rows[seg[i].shard] + seg[i].file_lo, seg[i].dst_row};
      sp[i] = (span){seg[i].shard, seg[i].file_lo, seg[i].file_hi, i, i + 1, true, false};
    }
    st = sl__choose_executor(SL_VARIANT_CPU, 1, &R.ex, &R.threads, err);
  }
  if (st == SL_OK) {
    sl__cache_begin(d->cache);
    st = run_spans(&R, sp, ns, err);
    fill_stats(full, &R, sp, ns, (size_t)(hi - lo), t0);
  }
  sl__free(seg);
  sl__free(sp);
  sl__free(p);
  return st;
}

sl_status sl_dataset_gather_rows(const sl_dataset *d, const int64_t *rows, size_t n,
                                 void *dst, const sl_read_options *opts,
                                 sl_read_stats *stats, sl_error *err) {
  sl_error_clear(err);
  sl_read_options o;
  SL_TRY(sl__read_options(opts, &o, err));
  SL_TRY(sl__stats_check(stats, err));
  int64_t total;
  if (n > 0 && (rows == NULL || (dst == NULL && d->row_bytes > 0)))
    SL_FAIL(err, SL_EINVAL, "%s: %zu row indices with a NULL %s", d->root, n,
            rows == NULL ? "index array" : "destination");
  if (n > (size_t)INT64_MAX / sizeof(pick) || !sl__mul((int64_t)n, d->row_bytes, &total))
    SL_FAIL(err, SL_EINVAL, "%s: %zu rows of %lld bytes overflow 64 bits", d->root, n,
            (long long)d->row_bytes);
  sl_read_stats full;
  sl_read_stats_init(&full);
  if (n == 0 || d->row_bytes == 0) { /* nothing to read, but the indices must be valid */
    pick *p = NULL;
    sl_status st = n ? make_picks(d, rows, n, &p, err) : SL_OK;
    sl__free(p);
    return st != SL_OK ? st : sl__stats_out(&full, stats, err);
  }
  pick *p = NULL;
  SL_TRY(make_picks(d, rows, n, &p, err));
  sl_status st = gather(d, p, n, dst, &o, &full, err);
  sl__free(p);
  sl_status so = st == SL_OK ? sl__stats_out(&full, stats, err) : SL_OK;
  return st != SL_OK ? st : so;
}
