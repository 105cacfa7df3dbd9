/* shardload inspect: discovery, then every shard opened as a read opens it
 * and described by its driver (sl_dataset_inspect), so that a shard read
 * would refuse is refused here with read's message. What it prints: the
 * array `read` produces and why (the columns, in order, their stored and
 * loaded types, the conversion option dtype makes, the fields left out and
 * why), how the data is stored (codecs, encodings, chunks, row groups,
 * record batches), whether nulls exist, and which read path each shard
 * takes. Text for people; --json for programs, with every shard's account
 * in full and a summary over the shards.
 *
 * Only rank 0 inspects (under mpiexec the others wait for its outcome). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Shards listed one by one in the text; beyond, runs of shards that read
   like shard 0 are summarised (--json has every one). */
#define LIST_ALL 16
#define LIST_HEAD 8
#define LIST_TAIL 2
/* Column lines in the text before "... N more". */
#define LIST_COLUMNS 64

/* ------------------------------------------------------------ the summary */

static size_t count_files(const sl_dataset *d) {
  size_t n = sl_dataset_num_shards(d), files = 0;
  const char *last = NULL;
  for (size_t i = 0; i < n; i++) { /* shards of one file are neighbours */
    const char *p = sl_dataset_shard(d, i, NULL, NULL);
    files += last == NULL || strcmp(p, last) != 0;
    last = p;
  }
  return files;
}

void describe(const sl_dataset *d, const char *path, char *buf, size_t cap) {
  int64_t shape[SL_MAX_DIMS];
  int nd = sl_dataset_shape(d, shape);
  size_t n = sl_dataset_num_shards(d), files = count_files(d);
  char st[256], size[32], in[64] = "";
  shape_text(shape, nd, st, sizeof st);
  size_text(sl_dataset_nbytes(d), size, sizeof size);
  if (files != n) snprintf(in, sizeof in, " in %zu file%s", files, files == 1 ? "" : "s");
  snprintf(buf, cap, "%s: %zu %s shard%s%s, shape %s %s, %s", path, n, sl_dataset_format(d),
           n == 1 ? "" : "s", in, st, sl_dtype_str(sl_dataset_dtype(d)), size);
}

/* ------------------------------------------------------ over the shards */

/* Whether x converts to an integer type of 64 bits without undefined
   behaviour (NaN, infinities and 1e300 do not: a Zarr fill value may be any). */
static bool integral_range(double x) { return x >= -0x1p63 && x < 0x1p63; }

/* A count from an account: a driver's (a registered one's too), so dflt
   for anything out of range. */
static int64_t num(const cJSON *o, const char *key, int64_t dflt) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  bool ok = cJSON_IsNumber(v) && integral_range(v->valuedouble);
  return ok ? (int64_t)v->valuedouble : dflt;
}

static const char *str(const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void add_unique(cJSON *to, const cJSON *names) {
  const cJSON *e;
  cJSON_ArrayForEach(e, names) {
    if (!cJSON_IsString(e)) continue;
    const cJSON *have;
    bool seen = false;
    cJSON_ArrayForEach(have, to) seen |= strcmp(have->valuestring, e->valuestring) == 0;
    if (!seen) cJSON_AddItemToArray(to, cJSON_CreateString(e->valuestring));
  }
}

/* Row groups or batches of every shard: their count, fewest and most rows. */
static void sum_units(cJSON *sum, const cJSON *shards, const char *key) {
  int64_t count = 0, lo = -1, hi = -1;
  bool any = false;
  const cJSON *s;
  cJSON_ArrayForEach(s, shards) {
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(s, key);
    if (!cJSON_IsObject(u)) continue;
    any = true;
    count += num(u, "count", 0);
    int64_t a = num(u, "min_rows", -1), b = num(u, "max_rows", -1);
    if (a >= 0 && (lo < 0 || a < lo)) lo = a;
    if (b > hi) hi = b;
  }
  if (!any) return;
  cJSON *o = cJSON_AddObjectToObject(sum, key);
  cJSON_AddNumberToObject(o, "count", (double)count);
  if (lo >= 0) cJSON_AddNumberToObject(o, "min_rows", (double)lo);
  if (hi >= 0) cJSON_AddNumberToObject(o, "max_rows", (double)hi);
}

/* Column k's nulls over every shard: a count when every shard says, true
   when one has some, null (unknown) when some shard cannot say and none
   has any. */
static void sum_nulls(cJSON *col, const cJSON *shards, int k) {
  int64_t total = 0;
  bool unknown = false;
  const cJSON *s;
  cJSON_ArrayForEach(s, shards) {
    const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(s, "columns"), k);
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(c, "nulls");
    if (cJSON_IsTrue(n) && num(c, "null_count", -1) < 0) unknown = true, total += 1;
    else if (cJSON_IsBool(n)) total += num(c, "null_count", 0);
    else unknown = true;
  }
  cJSON_DeleteItemFromObjectCaseSensitive(col, "nulls");
  cJSON_DeleteItemFromObjectCaseSensitive(col, "null_count");
  if (total > 0) cJSON_AddTrueToObject(col, "nulls");
  else if (unknown) cJSON_AddNullToObject(col, "nulls");
  else cJSON_AddFalseToObject(col, "nulls");
  if (!unknown) cJSON_AddNumberToObject(col, "null_count", (double)total);
}

/* Shard 0's columns, each with its nulls over every shard and whether
   option dtype converts it. */
static void sum_columns(cJSON *sum, const cJSON *shards, const sl_dataset *d) {
  const cJSON *first = cJSON_GetArrayItem(shards, 0);
  const cJSON *cols = cJSON_GetObjectItemCaseSensitive(first, "columns");
  if (!cJSON_IsArray(cols)) return;
  cJSON *out = cJSON_Duplicate(cols, true);
  cJSON *c;
  int k = 0;
  cJSON_ArrayForEach(c, out) {
    sum_nulls(c, shards, k++);
    const char *dt = str(c, "dtype");
    cJSON_AddBoolToObject(c, "converted",
                          dt != NULL && strcmp(dt, sl_dtype_str(sl_dataset_dtype(d))) != 0);
  }
  cJSON_AddItemToObject(sum, "columns", out);
  const cJSON *skipped = cJSON_GetObjectItemCaseSensitive(first, "skipped");
  if (cJSON_IsArray(skipped)) cJSON_AddItemToObject(sum, "skipped", cJSON_Duplicate(skipped, true));
}

static cJSON *summary(const sl_dataset *d, const args *a, const cJSON *shards) {
  cJSON *sum = cJSON_CreateObject(), *paths = cJSON_AddObjectToObject(sum, "read_paths");
  cJSON *codecs = cJSON_CreateArray(), *encodings = cJSON_CreateArray();
  const cJSON *s;
  cJSON_ArrayForEach(s, shards) {
    const char *p = str(s, "read_path");
    p = p ? p : "unknown";
    cJSON *n = cJSON_GetObjectItemCaseSensitive(paths, p);
    if (n) cJSON_SetNumberValue(n, n->valuedouble + 1);
    else cJSON_AddNumberToObject(paths, p, 1);
    add_unique(codecs, cJSON_GetObjectItemCaseSensitive(s, "codecs"));
    add_unique(encodings, cJSON_GetObjectItemCaseSensitive(s, "encodings"));
  }
  cJSON_AddNumberToObject(sum, "files", (double)count_files(d));
  cJSON_AddItemToObject(sum, "codecs", codecs);
  if (cJSON_GetArraySize(encodings) > 0) cJSON_AddItemToObject(sum, "encodings", encodings);
  else cJSON_Delete(encodings);
  sum_units(sum, shards, "row_groups");
  sum_units(sum, shards, "batches");
  sum_columns(sum, shards, d);
  if (a->open.dtype != NULL && cJSON_GetObjectItemCaseSensitive(sum, "columns") != NULL) {
    cJSON *cv = cJSON_AddObjectToObject(sum, "conversion");
    cJSON_AddStringToObject(cv, "dtype", sl_dtype_str(sl_dataset_dtype(d)));
    cJSON_AddStringToObject(cv, "cast", a->open.cast ? a->open.cast : "same_kind");
  }
  return sum;
}

/* ------------------------------------------------------------------ text */

/* A value as a line of text says it: strings bare, numbers plain, lists
   "a, b" (numbers "(64, 3)"), objects "name (key value, ...)". */
static size_t value_text(const cJSON *v, char *buf, size_t cap);

static size_t put(char *buf, size_t cap, size_t k, const char *fmt, const char *s) {
  if (k >= cap) return k;
  return k + (size_t)snprintf(buf + k, cap - k, fmt, s);
}

static size_t object_text(const cJSON *v, char *buf, size_t cap) {
  const char *key = str(v, "name") ? "name" : str(v, "id") ? "id" : NULL; /* numcodecs: id */
  const char *name = key ? str(v, key) : NULL;
  size_t k = name ? put(buf, cap, 0, "%s", name) : 0;
  bool first = true;
  const cJSON *e;
  cJSON_ArrayForEach(e, v) {
    if (name && strcmp(e->string, key) == 0) continue;
    k = put(buf, cap, k, first ? (name ? " (%s " : "%s ") : ", %s ", e->string);
    if (k < cap) k += value_text(e, buf + k, cap - k);
    first = false;
  }
  if (name && !first) k = put(buf, cap, k, "%s", ")");
  return k;
}

static size_t value_text(const cJSON *v, char *buf, size_t cap) {
  if (cap == 0) return 0;
  buf[0] = '\0';
  if (cJSON_IsString(v)) return put(buf, cap, 0, "%s", v->valuestring);
  if (cJSON_IsNumber(v)) {
    double x = v->valuedouble;
    bool whole = integral_range(x) && x == (double)(long long)x;
    return (size_t)(whole ? snprintf(buf, cap, "%lld", (long long)x)
                          : snprintf(buf, cap, "%g", x));
  }
  if (cJSON_IsBool(v)) return put(buf, cap, 0, "%s", cJSON_IsTrue(v) ? "yes" : "no");
  if (cJSON_IsNull(v)) return put(buf, cap, 0, "%s", "unknown");
  if (cJSON_IsObject(v)) return object_text(v, buf, cap);
  bool numbers = cJSON_IsNumber(v->child);
  size_t k = numbers ? put(buf, cap, 0, "%s", "(") : 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, v) {
    if (e != v->child) k = put(buf, cap, k, "%s", cJSON_IsObject(e) ? "; " : ", ");
    if (k < cap) k += value_text(e, buf + k, cap - k);
  }
  if (numbers) k = put(buf, cap, k, "%s", cJSON_GetArraySize(v) == 1 ? ",)" : ")");
  return k;
}

/* "a, b, c" of an array of objects' key. */
static void names_text(const cJSON *arr, const char *key, char *buf, size_t cap) {
  size_t k = 0;
  buf[0] = '\0';
  const cJSON *e;
  cJSON_ArrayForEach(e, arr) {
    const char *s = str(e, key);
    k = put(buf, cap, k, k ? ", %s" : "%s", s ? s : "?");
  }
}

/* "    x  DOUBLE (<f8) -> <f4: unit; nulls: none" */
static void column_line(const cJSON *c, const sl_dataset *d, const char *fill) {
  char line[1024];
  const char *name = str(c, "name"), *stored = str(c, "stored"), *dt = str(c, "dtype");
  const char *unit = str(c, "unit"), *to = sl_dtype_str(sl_dataset_dtype(d));
  size_t k = (size_t)snprintf(line, sizeof line, "    %s  %s (%s)", name ? name : "?",
                              stored ? stored : "?", dt ? dt : "?");
  if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "converted")))
    k = put(line, sizeof line, k, " -> %s", to);
  if (unit && unit[0]) k = put(line, sizeof line, k, ": %s", unit);
  const cJSON *nulls = cJSON_GetObjectItemCaseSensitive(c, "nulls");
  int64_t count = num(c, "null_count", -1);
  char nt[64];
  if (cJSON_IsFalse(nulls)) snprintf(nt, sizeof nt, "none");
  else if (cJSON_IsTrue(nulls) && count >= 0) snprintf(nt, sizeof nt, "%lld", (long long)count);
  else if (cJSON_IsTrue(nulls)) snprintf(nt, sizeof nt, "some");
  else snprintf(nt, sizeof nt, "unknown (the file does not say)");
  say(stdout, "%s; nulls: %s%s%s%s\n", line, nt, fill && !cJSON_IsFalse(nulls) ? " (--fill-nulls " : "",
      fill && !cJSON_IsFalse(nulls) ? fill : "", fill && !cJSON_IsFalse(nulls) ? ")" : "");
}

static void array_lines(const cJSON *sum, const cJSON *first, const sl_dataset *d,
                        const args *a) {
  int64_t shape[SL_MAX_DIMS];
  char st[256], list[2048], conv[256] = "";
  shape_text(shape, sl_dataset_shape(d, shape), st, sizeof st);
  const char *dt = sl_dtype_str(sl_dataset_dtype(d)), *stored = str(first, "stored");
  const cJSON *cols = cJSON_GetObjectItemCaseSensitive(sum, "columns");
  if (!cJSON_IsArray(cols)) {
    if (stored && strcmp(stored, dt) != 0) say(stdout, "  array: %s %s, stored as %s\n", st, dt,
                                                  stored);
    else say(stdout, "  array: %s %s\n", st, dt);
    return;
  }
  names_text(cols, "name", list, sizeof list);
  const cJSON *cv = cJSON_GetObjectItemCaseSensitive(sum, "conversion");
  if (cv) snprintf(conv, sizeof conv, ", converted by --dtype %s (--cast %s)", a->open.dtype,
                   str(cv, "cast"));
  say(stdout, "  array: %s %s from column%s %s%s\n", st, dt,
      cJSON_GetArraySize(cols) == 1 ? "" : "s", list, conv);
  int k = 0;
  const cJSON *c;
  cJSON_ArrayForEach(c, cols) if (k++ < LIST_COLUMNS) column_line(c, d, a->open.fill_nulls);
  if (k > LIST_COLUMNS) say(stdout, "    ... %d more columns (--json lists them)\n",
                            k - LIST_COLUMNS);
}

static void skipped_line(const cJSON *sum) {
  const cJSON *sk = cJSON_GetObjectItemCaseSensitive(sum, "skipped");
  if (cJSON_GetArraySize(sk) == 0) return;
  char line[4096], why[512];
  size_t k = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, sk) {
    with_flags(str(e, "why") ? str(e, "why") : "?", why, sizeof why);
    if (k < sizeof line)
      k += (size_t)snprintf(line + k, sizeof line - k, "%s%s (%s)", k ? ", " : "",
                            str(e, "name") ? str(e, "name") : "?", why);
  }
  say(stdout, "  left out: %s\n", line);
}

/* The keys every format may give, printed by name; the others are the
   format's own and are printed as they come. */
static bool common_key(const char *k) {
  static const char *const known[] = {"path", "member", "rows", "read_path", "read_note",
                                      "codecs", "encodings", "row_groups", "batches",
                                      "columns", "skipped", "stored"};
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
    if (strcmp(k, known[i]) == 0) return true;
  return false;
}

/* "3 row groups of 452 to 2048 rows" (one and many: "row group", "row groups"). */
static size_t units_text(const cJSON *u, const char *one, const char *many, char *buf,
                         size_t cap) {
  int64_t n = num(u, "count", 0), lo = num(u, "min_rows", -1), hi = num(u, "max_rows", -1);
  const char *w = n == 1 ? one : many;
  if (n == 0 || lo < 0) return (size_t)snprintf(buf, cap, "%lld %s", (long long)n, w);
  if (lo == hi)
    return (size_t)snprintf(buf, cap, "%lld %s of %lld row%s", (long long)n, w, (long long)lo,
                            lo == 1 ? "" : "s");
  return (size_t)snprintf(buf, cap, "%lld %s of %lld to %lld rows", (long long)n, w,
                          (long long)lo, (long long)hi);
}

/* "  storage: codecs ZSTD; encodings PLAIN; 3 row groups of 2048 rows; ..." */
static void storage_line(const cJSON *sum, const cJSON *first, size_t nshards) {
  char line[4096], v[4096];
  size_t k = 0;
  const cJSON *codecs = cJSON_GetObjectItemCaseSensitive(sum, "codecs");
  value_text(codecs, v, sizeof v);
  k = cJSON_GetArraySize(codecs) ? put(line, sizeof line, k, "codecs %s", v)
                                  : put(line, sizeof line, k, "%s", "not compressed");
  const cJSON *enc = cJSON_GetObjectItemCaseSensitive(sum, "encodings");
  if (enc && value_text(enc, v, sizeof v)) k = put(line, sizeof line, k, "; encodings %s", v);
  const cJSON *u = cJSON_GetObjectItemCaseSensitive(sum, "row_groups");
  if (u && units_text(u, "row group", "row groups", v, sizeof v)) k = put(line, sizeof line, k, "; %s", v);
  u = cJSON_GetObjectItemCaseSensitive(sum, "batches");
  if (u && units_text(u, "record batch", "record batches", v, sizeof v)) k = put(line, sizeof line, k, "; %s", v);
  say(stdout, "  storage: %s\n", line);
  k = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, first) {
    if (common_key(e->string) || (cJSON_IsArray(e) && cJSON_GetArraySize(e) == 0)) continue;
    value_text(e, v, sizeof v);
    k = put(line, sizeof line, k, k ? ", %s" : "%s", e->string);
    k = put(line, sizeof line, k, " %s", v);
  }
  with_flags(line, v, sizeof v);
  if (k) say(stdout, "  %s: %s\n", nshards > 1 ? "format (shard 0)" : "format", v);
}

static void read_path_line(const cJSON *sum, const cJSON *first) {
  char line[1024], note[512];
  size_t k = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(sum, "read_paths")) {
    int n = (int)e->valuedouble;
    if (k < sizeof line)
      k += (size_t)snprintf(line + k, sizeof line - k, "%s%s (%d shard%s)", k ? ", " : "",
                            e->string, n, n == 1 ? "" : "s");
  }
  const char *why = str(first, "read_note");
  with_flags(why ? why : "", note, sizeof note);
  say(stdout, "  read path: %s%s%s\n", line, why ? "; shard 0: " : "", why ? note : "");
}

static void shard_line(size_t i, const cJSON *s, const char *note0) {
  const char *member = str(s, "member"), *note = str(s, "read_note");
  char extra[512] = "", units[128] = "";
  if (note && (note0 == NULL || strcmp(note, note0) != 0)) {
    extra[0] = ':', extra[1] = ' ';
    with_flags(note, extra + 2, sizeof extra - 2);
  }
  const cJSON *u = cJSON_GetObjectItemCaseSensitive(s, "row_groups");
  if (u) units_text(u, "row group", "row groups", units + 2, sizeof units - 2), memcpy(units, ", ", 2);
  if ((u = cJSON_GetObjectItemCaseSensitive(s, "batches")) != NULL)
    units_text(u, "record batch", "record batches", units + 2, sizeof units - 2), memcpy(units, ", ", 2);
  int64_t rows = num(s, "rows", 0);
  /* a driver's account may leave either out */
  const char *path = str(s, "path"), *how = str(s, "read_path");
  say(stdout, "  [%zu] %s%s%s  %lld row%s  %s%s%s\n", i, path ? path : "?",
      member ? ":" : "", member ? member : "", (long long)rows, rows == 1 ? "" : "s",
      how ? how : "unknown", units, extra);
}

/* Whether shard s reads as shard 0 does (then it may be summarised). */
static bool like_first(const cJSON *s, const cJSON *first) {
  const char *p = str(s, "read_path"), *p0 = str(first, "read_path");
  const char *n = str(s, "read_note"), *n0 = str(first, "read_note");
  return p && p0 && strcmp(p, p0) == 0 && (n == n0 || (n && n0 && strcmp(n, n0) == 0));
}

static void shard_lines(const cJSON *shards) {
  const cJSON *first = cJSON_GetArrayItem(shards, 0);
  size_t n = (size_t)cJSON_GetArraySize(shards), i = 0, hidden = 0;
  int64_t hidden_rows = 0;
  const cJSON *s;
  cJSON_ArrayForEach(s, shards) {
    bool show = n <= LIST_ALL || i < LIST_HEAD || i + LIST_TAIL >= n || !like_first(s, first);
    if (!show) hidden++, hidden_rows += num(s, "rows", 0);
    if (show && hidden)
      say(stdout, "  ... [%zu] to [%zu]: %zu shards, %lld rows, read like [0] (--json lists "
          "each)\n", i - hidden, i - 1, hidden, (long long)hidden_rows);
    if (show) hidden = 0, hidden_rows = 0, shard_line(i, s, str(first, "read_note"));
    i++;
  }
}

static void print_text(const sl_dataset *d, const args *a, const cJSON *sum,
                       const cJSON *shards) {
  char line[1024];
  describe(d, a->path, line, sizeof line);
  say(stdout, "%s\n", line);
  const cJSON *first = cJSON_GetArrayItem(shards, 0);
  if (first == NULL) return;
  array_lines(sum, first, d, a);
  skipped_line(sum);
  storage_line(sum, first, (size_t)cJSON_GetArraySize(shards));
  read_path_line(sum, first);
  shard_lines(shards);
}

/* ------------------------------------------------------------------ json */

static void print_json_report(const sl_dataset *d, const args *a, const char *cols,
                              cJSON *sum, cJSON *shards) {
  cJSON *j = json_report();
  print_dataset_json(d, a->path, j);
  if (cols[0]) cJSON_AddStringToObject(j, "columns", cols);
  cJSON_AddItemToObject(j, "summary", sum);
  cJSON_AddItemToObject(j, "shards", shards);
  print_json(j);
  cJSON_Delete(j);
}

/* ------------------------------------------------------------- the command */

/* Every shard's account, in order; the first failure stops it (err). */
static sl_status inspect_all(const sl_dataset *d, cJSON *shards, sl_error *err) {
  size_t n = sl_dataset_num_shards(d);
  for (size_t i = 0; i < n; i++) {
    char *text = NULL;
    sl_status st = sl_dataset_inspect(d, i, &text, err);
    if (st != SL_OK) return st;
    cJSON *s = cJSON_Parse(text);
    sl_free(text);
    if (s == NULL) {
      snprintf(err->message, sizeof err->message, "%s: out of memory for its account",
               sl_dataset_shard(d, i, NULL, NULL));
      return err->code = SL_ENOMEM;
    }
    cJSON_AddItemToArray(shards, s);
  }
  return SL_OK;
}

static sl_status run(const sl_dataset *d, const args *a, sl_error *err) {
  char cols[2048] = ""; /* the first shard's columns, types and units (table formats) */
  if (sl_dataset_num_shards(d) > 0 && sl_dataset_describe(d, 0, cols, sizeof cols, err) != SL_OK)
    return err->code;
  cJSON *shards = cJSON_CreateArray();
  sl_status st = inspect_all(d, shards, err);
  if (st != SL_OK) {
    cJSON_Delete(shards);
    return st;
  }
  cJSON *sum = summary(d, a, shards);
  if (a->json) {
    print_json_report(d, a, cols, sum, shards);
    return SL_OK;
  }
  print_text(d, a, sum, shards);
  cJSON_Delete(sum);
  cJSON_Delete(shards);
  return SL_OK;
}

int cmd_inspect(sl_comm *comm, args *a) {
  sl_dataset *d;
  sl_error err = {0};
  int rc = open_dataset(comm, a, &d);
  if (rc != 0) return rc;
  sl_status st = sl_comm_rank(comm) == 0 ? run(d, a, &err) : SL_OK;
  st = sl_comm_agree(comm, st, &err);
  sl_dataset_free(d);
  return st == SL_OK ? 0 : data_error(&err);
}
