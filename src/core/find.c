/* Which files an input holds, the first half of discovery (layout.c probes
 * them). A file is itself; a directory a store driver claims is that
 * store; another directory is searched with option pattern, else for
 * shard_NNNN.<ext> files (contiguous from 0, four or more digits, so that
 * shard_10000 follows shard_9999), else walked through its Hive-style
 * key=value folders (what Spark, pyarrow and DuckDB write).
 *
 * Names starting with _ or . are sidecars (_meta.json, _SUCCESS,
 * _common_metadata, .part-0.crc), never shards: listings, patterns and
 * walks skip them unless a pattern's component starts with the same
 * character; a file given as an input is always taken. Every order is the
 * total natural order of relative paths, so no listing's order shows
 * through, and a directory that yields nothing says what it holds and
 * which pattern would read it.
 *
 * Symbolic links: a walk goes into a folder of its own accord (for **, or
 * a key=value folder) only when the folder is no symbolic link, as
 * Python's rglob does for **, so a link to an ancestor (ln -s . a) can
 * neither repeat every shard nor loop; an input given as a link, and a
 * link a pattern component other than ** names, are followed. The
 * (device, inode) of each folder on the current descent is kept, so a loop
 * without links (a bind mount) is not entered either, and a file or store
 * that one walk reaches twice (two links to it) is taken once, at its
 * first path in natural order. A ** walk takes a store as one entry
 * and never goes inside it: its chunk files are the driver's business.
 */
#include <assert.h>
#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* Folders a walk descends below its input (the length of its descent's
   record of identities). */
#define SL_WALK_DEPTH 64

/* ------------------------------------------------------------ the list */

static bool is_sidecar(const char *name) { return name[0] == '_' || name[0] == '.'; }

static char *join(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = sl__malloc(n);
  if (p != NULL) snprintf(p, n, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name);
  return p;
}

/* rel/name, or name at the top. */
static char *child(const char *rel, const char *name) {
  return *rel ? join(rel, name) : sl__strdup(name);
}

void sl__found_list_free(sl_found_list *l) {
  for (size_t i = 0; i < l->n; i++) {
    sl__free(l->v[i].path);
    sl__free(l->v[i].store);
  }
  sl__free(l->v);
  *l = (sl_found_list){0};
}

/* Appends a file, taking path and store (freed when this fails). */
static sl_status push(sl_found_list *l, char *path, char *store, const sl_driver *drv,
                      bool whole, const char *where, sl_error *err) {
  sl_status st = SL_OK;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    sl_found *v = sl__grow(l->v, l->cap, cap, sizeof *v);
    if (v == NULL) {
      st = sl__fail(err, SL_ENOMEM, "%s: out of memory listing shards", where);
    } else {
      l->v = v;
      l->cap = cap;
    }
  }
  if (st == SL_OK && path == NULL)
    st = sl__fail(err, SL_ENOMEM, "%s: out of memory listing shards", where);
  if (st != SL_OK) {
    sl__free(path);
    sl__free(store);
    return st;
  }
  l->v[l->n++] = (sl_found){path, store, drv, whole};
  return SL_OK;
}

/* The driver that reads a file: the format given, else the one its name says. */
static const sl_driver *driver_of(const char *name, const sl_open_options *o) {
  return o->format ? sl__driver_by_name(o->format) : sl__driver_for_path(name);
}

/* Whether path is a directory; missing or unreadable counts as not. */
static bool is_dir_path(const char *path) {
  bool is_dir = false;
  sl_error none = {0};
  return sl__path_kind(path, &is_dir, &none) == SL_OK && is_dir;
}

/* A store: the file that stands for it (taken), its directory kept for
   messages. */
static sl_status push_store_file(sl_found_list *l, char *file, const char *dir,
                                 const sl_driver *drv, bool whole, sl_error *err) {
  char *copy = sl__strdup(dir);
  if (copy == NULL) {
    sl__free(file);
    SL_FAIL(err, SL_ENOMEM, "%s: out of memory", dir);
  }
  return push(l, file, copy, drv, whole, dir, err);
}

/* A directory that must be a store of drv. */
static sl_status push_store(sl_found_list *l, const sl_driver *drv, const char *dir,
                            bool whole, sl_error *err) {
  char *file = NULL;
  SL_TRY(drv->store_file(dir, &file, err));
  if (file == NULL)
    SL_FAIL(err, SL_ELAYOUT, "%s: a directory that is not a %s store", dir, drv->name);
  return push_store_file(l, file, dir, drv, whole, err);
}

/* The driver (format, else any) whose store dir is, and the file that
   stands for it; *drv NULL when none claims it. */
static sl_status find_store(const char *dir, const char *format, const sl_driver **drv,
                            char **file, sl_error *err) {
  *drv = NULL;
  *file = NULL;
  for (size_t i = 0; sl__driver_at(i) != NULL; i++) {
    const sl_driver *d = sl__driver_at(i);
    if (d->store_file == NULL || (format != NULL && strcmp(format, d->name) != 0))
      continue;
    SL_TRY(d->store_file(dir, file, err));
    if (*file != NULL) {
      *drv = d;
      return SL_OK;
    }
  }
  return SL_OK;
}

/* ------------------------------------------------------ shard_NNNN names */

typedef struct numbered {
  const char *name;  /* entry name */
  int64_t index;
} numbered;

/* Parses "shard_<digits><ext>" for one of d's extensions; @return index,
   -1 (not a shard name) or SL_INDEX_OVERFLOW (a number beyond 64 bits). */
#define SL_INDEX_OVERFLOW (-2)
static int64_t shard_index(const sl_driver *d, const char *name) {
  if (strncmp(name, "shard_", 6) != 0) return -1;
  const char *ext = sl__driver_ext(d, name);
  if (ext == NULL) return -1;
  const char *p = name + 6, *end = name + strlen(name) - strlen(ext);
  if (end - p < 4) return -1;
  int64_t v = 0;
  bool overflow = false;
  for (; p < end; p++) {
    if (!isdigit((unsigned char)*p)) return -1;
    if (!sl__mul(v, 10, &v) || !sl__add(v, *p - '0', &v)) overflow = true;
  }
  return overflow ? SL_INDEX_OVERFLOW : v;
}

static int cmp_numbered(const void *x, const void *y) {
  const numbered *a = x, *b = y;
  if (a->index != b->index) return a->index < b->index ? -1 : 1;
  return sl__natural_cmp(a->name, b->name);
}

/* Collects shard_NNNN files of driver drv among names; out may be NULL. */
static size_t match_shards(const sl_driver *drv, char **names, size_t n, numbered *out) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    int64_t idx = shard_index(drv, names[i]);
    if (idx == -1) continue;
    if (out) out[k] = (numbered){names[i], idx};
    k++;
  }
  return k;
}

/* The format of a directory's shard_NNNN files: the one given, or the only
   one present; NULL when there are none. */
static sl_status shard_driver(const char *dir, const sl_open_options *o, char **names,
                              size_t n, const sl_driver **out, sl_error *err) {
  *out = NULL;
  if (o->format != NULL) {
    const sl_driver *d = sl__driver_by_name(o->format);
    if (match_shards(d, names, n, NULL) > 0) *out = d;
    return SL_OK;
  }
  for (size_t i = 0; sl__driver_at(i) != NULL; i++) {
    const sl_driver *d = sl__driver_at(i);
    if (match_shards(d, names, n, NULL) == 0) continue;
    if (*out != NULL && *out != d)
      SL_FAIL(err, SL_ELAYOUT, "%s: holds shards of two formats (%s and %s); choose one with "
              "option format", dir, (*out)->name, d->name);
    *out = d;
  }
  return SL_OK;
}

/* Checks the numbering is 0..n-1 with no hole and no duplicate. */
static sl_status check_sequence(const char *dir, const sl_driver *drv, const numbered *f,
                                size_t n, sl_error *err) {
  for (size_t i = 0; i < n; i++)
    if (f[i].index == SL_INDEX_OVERFLOW)
      SL_FAIL(err, SL_ELAYOUT, "%s: %s has a shard number beyond 64 bits", dir, f[i].name);
  for (size_t i = 0; i < n; i++) {
    if (f[i].index == (int64_t)i) continue;
    if (i > 0 && f[i].index == f[i - 1].index)
      SL_FAIL(err, SL_ELAYOUT, "%s: %s and %s both claim shard number %lld", dir,
              f[i - 1].name, f[i].name, (long long)f[i].index);
    SL_FAIL(err, SL_ELAYOUT, "%s: shard sequence has a hole: shard_%04zu%s is missing "
            "(found %zu shards, the last is %s)", dir, i, drv->extensions[0], n,
            f[n - 1].name);
  }
  return SL_OK;
}

/* A shard_NNNN entry of dir: its file, or the store it is. */
static sl_status push_shard(sl_found_list *l, const sl_driver *drv, const char *dir,
                            const char *name, sl_error *err) {
  char *path = join(dir, name);
  if (path == NULL || drv->store_file == NULL || !is_dir_path(path))
    return push(l, path, NULL, drv, false, dir, err);
  sl_status st = push_store(l, drv, path, false, err);
  sl__free(path);
  return st;
}

static sl_status take_shards(const char *dir, const sl_driver *drv, char **names, size_t n,
                             sl_found_list *out, sl_error *err) {
  size_t k = match_shards(drv, names, n, NULL);
  numbered *f = sl__calloc(k, sizeof *f);
  if (f == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", dir);
  match_shards(drv, names, n, f);
  qsort(f, k, sizeof *f, cmp_numbered);
  sl_status st = check_sequence(dir, drv, f, k, err);
  for (size_t i = 0; st == SL_OK && i < k; i++) st = push_shard(out, drv, dir, f[i].name, err);
  sl__free(f);
  return st;
}

/* ------------------------------------------------------------- walks */

/* A name a walk found: its path relative to the input and its full path;
   its identity (known when stat succeeded) finds a second path to it. */
typedef struct entry {
  char *rel, *full;
  bool is_dir, known, repeat;
  uint64_t dev, ino;
  size_t at; /* its place in natural order, once sorted */
} entry;

/* A walk below one directory input: by option pattern's components, or
   through key=value folders (comps NULL). */
typedef struct walker {
  const char *top;
  const sl_open_options *o;
  const char **comps;
  size_t nc;
  entry *v;
  size_t n, cap;
  sl_file_id up[SL_WALK_DEPTH + 1]; /* the folders on the descent, by depth */
} walker;

static void walker_free(walker *w) {
  for (size_t i = 0; i < w->n; i++) {
    sl__free(w->v[i].rel);
    sl__free(w->v[i].full);
  }
  sl__free(w->v);
  sl__free((void *)w->comps);
}

/* Keeps rel and full (taken: the caller's copies become NULL). */
static sl_status add_entry(walker *w, char **rel, char **full, bool is_dir, sl_error *err) {
  if (w->n == w->cap) {
    size_t cap = w->cap ? w->cap * 2 : 64;
    entry *v = sl__grow(w->v, w->cap, cap, sizeof *v);
    if (v == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory listing files", w->top);
    w->v = v;
    w->cap = cap;
  }
  entry *e = &w->v[w->n++];
  sl_file_id id;
  *e = (entry){.rel = *rel, .full = *full, .is_dir = is_dir};
  e->known = sl__stat_id(e->full, true, &id) == 0;
  e->dev = e->known ? id.dev : 0;
  e->ino = e->known ? id.ino : 0;
  *rel = *full = NULL;
  return SL_OK;
}

/* Records dir as the folder at depth of the current descent. */
static void note_folder(walker *w, const char *dir, int depth) {
  assert(depth >= 0 && depth <= SL_WALK_DEPTH);
  if (sl__stat_id(dir, true, &w->up[depth]) != 0) w->up[depth] = (sl_file_id){0};
}

/* Whether a walk goes into folder path, depth deep, of its own accord: not
   through a symbolic link (its own identity differs from its target's),
   not into a folder it is already inside. */
static bool may_enter(const walker *w, const char *path, int depth) {
  sl_file_id own, id;
  if (sl__stat_id(path, false, &own) != 0 || sl__stat_id(path, true, &id) != 0) return false;
  if (own.dev != id.dev || own.ino != id.ino) return false;
  for (int i = 0; i < depth && i <= SL_WALK_DEPTH; i++)
    if (w->up[i].dev == id.dev && w->up[i].ino == id.ino) return false;
  return true;
}

static sl_status too_deep(const walker *w, sl_error *err) {
  SL_FAIL(err, SL_ELAYOUT, "%s: folders nest more than %d deep below it", w->top,
          SL_WALK_DEPTH);
}

static int cmp_entry(const void *x, const void *y) {
  return sl__natural_cmp(((const entry *)x)->rel, ((const entry *)y)->rel);
}

/* A folder found: a store of the format given (else of any driver) is one
   entry; another folder is no shard and is left out, unless its name says
   it is a store (x.zarr): then it is refused as a broken one. */
static sl_status take_folder(const walker *w, const entry *e, sl_found_list *out,
                             sl_error *err) {
  const sl_driver *drv;
  char *file;
  SL_TRY(find_store(e->full, w->o->format, &drv, &file, err));
  if (drv != NULL) return push_store_file(out, file, e->full, drv, false, err);
  const sl_driver *named = sl__driver_for_path(e->full);
  if (named != NULL && named->store_file != NULL &&
      (w->o->format == NULL || strcmp(w->o->format, named->name) == 0))
    SL_FAIL(err, SL_ELAYOUT, "%s: a directory that is not a %s store", e->full, named->name);
  return SL_OK;
}

/* One entry into the list: a file its driver reads, a store. */
static sl_status take_entry(const walker *w, const entry *e, sl_found_list *out,
                            sl_error *err) {
  if (e->is_dir) return take_folder(w, e, out, err);
  const sl_driver *drv = driver_of(e->full, w->o);
  if (drv == NULL)
    SL_FAIL(err, SL_ELAYOUT, "%s: no format driver knows the extension of %s; choose one "
            "with option format", w->top, e->rel);
  return push(out, sl__strdup(e->full), NULL, drv, false, w->top, err);
}

/* By identity, then natural order; unknown identities last. */
static int cmp_identity(const void *x, const void *y) {
  const entry *a = *(entry *const *)x, *b = *(entry *const *)y;
  if (a->known != b->known) return a->known ? -1 : 1;
  if (a->dev != b->dev) return a->dev < b->dev ? -1 : 1;
  if (a->ino != b->ino) return a->ino < b->ino ? -1 : 1;
  return a->at < b->at ? -1 : a->at > b->at;
}

/* Marks each entry after the first of its identity: one file reached by two
   paths (links) is one shard. Sorting pointers keeps this n log n. */
static sl_status mark_repeats(walker *w, sl_error *err) {
  entry **by = sl__calloc(w->n, sizeof *by);
  if (by == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory listing files", w->top);
  for (size_t i = 0; i < w->n; i++) {
    w->v[i].at = i;
    by[i] = &w->v[i];
  }
  qsort(by, w->n, sizeof *by, cmp_identity);
  for (size_t i = 1; i < w->n; i++)
    by[i]->repeat = by[i]->known && by[i - 1]->known && by[i]->dev == by[i - 1]->dev &&
                    by[i]->ino == by[i - 1]->ino;
  sl__free(by);
  return SL_OK;
}

/* The walk's finds in natural order of relative path, each once (two **
   components can reach a path twice: other/other/x.npy; links, a file). */
static sl_status take_entries(walker *w, sl_found_list *out, sl_error *err) {
  if (w->n == 0) return SL_OK; /* v is NULL, which qsort must not see */
  qsort(w->v, w->n, sizeof *w->v, cmp_entry);
  SL_TRY(mark_repeats(w, err));
  for (size_t i = 0; i < w->n; i++) {
    bool same_path = i > 0 && strcmp(w->v[i].rel, w->v[i - 1].rel) == 0;
    if (!same_path && !w->v[i].repeat) SL_TRY(take_entry(w, &w->v[i], out, err));
  }
  return SL_OK;
}

/* ---------------------------------------------------------- patterns */

/* A sidecar matches only a component that starts with its first character
   (_meta.json matches '_*', never '*'); dot files as FNM_PERIOD has it. */
static bool comp_matches(const char *comp, const char *name) {
  if (is_sidecar(name) && comp[0] != name[0]) return false;
  return fnmatch(comp, name, FNM_PERIOD) == 0;
}

static bool has_magic(const char *comp) { return strpbrk(comp, "*?[\\") != NULL; }

static sl_status glob_dir(walker *w, const char *dir, const char *rel, size_t ci, int depth,
                          sl_error *err);

/* name in dir matched component ci: the last component's match is a find,
   an earlier one's a folder to search for the next component. */
static sl_status glob_name(walker *w, const char *dir, const char *rel, const char *name,
                           size_t ci, int depth, sl_error *err) {
  char *full = join(dir, name), *r = child(rel, name);
  sl_status st = full && r ? SL_OK : sl__fail(err, SL_ENOMEM, "%s: out of memory", w->top);
  bool d = st == SL_OK && is_dir_path(full);
  if (st == SL_OK && ci + 1 == w->nc) st = add_entry(w, &r, &full, d, err);
  else if (st == SL_OK && d) st = glob_dir(w, full, r, ci + 1, depth + 1, err);
  sl__free(full);
  sl__free(r);
  return st;
}

/* A component without wildcards names one entry: no listing needed. */
static sl_status glob_literal(walker *w, const char *dir, const char *rel, size_t ci,
                              int depth, sl_error *err) {
  const char *comp = w->comps[ci];
  char *full = join(dir, comp);
  if (full == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", w->top);
  bool is_dir = false;
  sl_error none = {0};
  bool exists = sl__path_kind(full, &is_dir, &none) == SL_OK;
  sl__free(full);
  return exists ? glob_name(w, dir, rel, comp, ci, depth, err) : SL_OK;
}

/* Whether ** goes on into folder path: one it may enter that is no store
   of any driver (a store is one entry, found by the component after the
   **; its chunk files are never shards, whatever the format given). */
static sl_status any_depth_enters(const walker *w, const char *path, int depth, bool *enter,
                                  sl_error *err) {
  *enter = false;
  if (!is_dir_path(path) || !may_enter(w, path, depth)) return SL_OK;
  const sl_driver *drv;
  char *file;
  SL_TRY(find_store(path, NULL, &drv, &file, err));
  sl__free(file);
  *enter = drv == NULL;
  return SL_OK;
}

/* ** : component ci + 1 here (no folder), and ** again in every folder. */
static sl_status glob_any_depth(walker *w, const char *dir, const char *rel, size_t ci,
                                int depth, char **names, size_t n, sl_error *err) {
  SL_TRY(glob_dir(w, dir, rel, ci + 1, depth, err));
  for (size_t i = 0; i < n; i++) {
    if (is_sidecar(names[i])) continue;
    char *full = join(dir, names[i]), *r = child(rel, names[i]);
    sl_status st = full && r ? SL_OK : sl__fail(err, SL_ENOMEM, "%s: out of memory", w->top);
    bool enter = false;
    if (st == SL_OK) st = any_depth_enters(w, full, depth + 1, &enter, err);
    if (st == SL_OK && enter) st = glob_dir(w, full, r, ci, depth + 1, err);
    sl__free(full);
    sl__free(r);
    SL_TRY(st);
  }
  return SL_OK;
}

/* Matches component ci (and the rest) in dir, whose path below the input
   is rel. */
static sl_status glob_dir(walker *w, const char *dir, const char *rel, size_t ci, int depth,
                          sl_error *err) {
  if (depth > SL_WALK_DEPTH) return too_deep(w, err);
  note_folder(w, dir, depth);
  const char *comp = w->comps[ci];
  bool any_depth = strcmp(comp, "**") == 0;
  if (!any_depth && !has_magic(comp)) return glob_literal(w, dir, rel, ci, depth, err);
  char **names;
  size_t n;
  SL_TRY(sl__list_dir(dir, &names, &n, err));
  sl_status st = SL_OK;
  if (any_depth) st = glob_any_depth(w, dir, rel, ci, depth, names, n, err);
  for (size_t i = 0; !any_depth && st == SL_OK && i < n; i++)
    if (comp_matches(comp, names[i])) st = glob_name(w, dir, rel, names[i], ci, depth, err);
  sl__free_names(names, n);
  return st;
}

/* Option pattern as components: empty ones dropped (a//b, a leading /),
   runs of ** as one, and a last ** as ** then * (every file below). The
   components point into *copy. */
static sl_status split_pattern(const char *top, const char *pat, char **copy, walker *w,
                               sl_error *err) {
  size_t max = 2;
  for (const char *p = pat; *p; p++) max += *p == '/';
  *copy = sl__strdup(pat);
  w->comps = sl__calloc(max, sizeof *w->comps);
  if (*copy == NULL || w->comps == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", top);
  char *save = NULL;
  for (char *t = strtok_r(*copy, "/", &save); t != NULL; t = strtok_r(NULL, "/", &save)) {
    bool twice = strcmp(t, "**") == 0 && w->nc > 0 && strcmp(w->comps[w->nc - 1], "**") == 0;
    if (!twice) w->comps[w->nc++] = t;
  }
  if (w->nc > 0 && strcmp(w->comps[w->nc - 1], "**") == 0) w->comps[w->nc++] = "*";
  return SL_OK;
}

static sl_status find_pattern(const char *dir, const sl_open_options *o, sl_found_list *out,
                              sl_error *err) {
  walker w = {.top = dir, .o = o};
  char *copy = NULL;
  size_t before = out->n;
  sl_status st = split_pattern(dir, o->pattern, &copy, &w, err);
  if (st == SL_OK && w.nc > 0) st = glob_dir(&w, dir, "", 0, 0, err);
  if (st == SL_OK) st = take_entries(&w, out, err);
  if (st == SL_OK && out->n == before)
    st = sl__fail(err, SL_ELAYOUT, "%s: no file matches the pattern '%s'", dir, o->pattern);
  walker_free(&w);
  sl__free(copy);
  return st;
}

/* ------------------------------------------------------- Hive folders */

/* key=value, the key not empty and not a sidecar's name. */
static bool is_hive_name(const char *name) {
  const char *eq = strchr(name, '=');
  return eq != NULL && eq != name && !is_sidecar(name);
}

static sl_status has_hive_folder(const char *dir, char **names, size_t n, bool *has,
                                 sl_error *err) {
  *has = false;
  for (size_t i = 0; !*has && i < n; i++) {
    if (!is_hive_name(names[i])) continue;
    char *full = join(dir, names[i]);
    if (full == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", dir);
    *has = is_dir_path(full);
    sl__free(full);
  }
  return SL_OK;
}

/* A name the walk takes: one that the format given (else any driver)
   claims by its extension. */
static bool claimed(const sl_open_options *o, const char *name) {
  if (o->format == NULL) return sl__driver_for_path(name) != NULL;
  return sl__driver_ext(sl__driver_by_name(o->format), name) != NULL;
}

static sl_status hive_dir(walker *w, const char *dir, const char *rel, int depth,
                          sl_error *err);

static sl_status hive_name(walker *w, const char *dir, const char *rel, const char *name,
                           int depth, sl_error *err) {
  char *full = join(dir, name), *r = child(rel, name);
  sl_status st = full && r ? SL_OK : sl__fail(err, SL_ENOMEM, "%s: out of memory", w->top);
  bool d = st == SL_OK && is_dir_path(full);
  if (st == SL_OK && d && is_hive_name(name)) {
    /* a key=value folder that is a link (or a loop) is not followed */
    if (may_enter(w, full, depth + 1)) st = hive_dir(w, full, r, depth + 1, err);
  } else if (st == SL_OK && claimed(w->o, name)) {
    st = add_entry(w, &r, &full, d, err);
  }
  sl__free(full);
  sl__free(r);
  return st;
}

/* Every claimed file (or store) of dir, and of its key=value folders. */
static sl_status hive_dir(walker *w, const char *dir, const char *rel, int depth,
                          sl_error *err) {
  if (depth > SL_WALK_DEPTH) return too_deep(w, err);
  note_folder(w, dir, depth);
  char **names;
  size_t n;
  SL_TRY(sl__list_dir(dir, &names, &n, err));
  sl_status st = SL_OK;
  for (size_t i = 0; st == SL_OK && i < n; i++)
    if (!is_sidecar(names[i])) st = hive_name(w, dir, rel, names[i], depth, err);
  sl__free_names(names, n);
  return st;
}

static sl_status find_hive(const char *dir, const sl_open_options *o, sl_found_list *out,
                           sl_error *err) {
  walker w = {.top = dir, .o = o};
  size_t before = out->n;
  sl_status st = hive_dir(&w, dir, "", 0, err);
  if (st == SL_OK) st = take_entries(&w, out, err);
  if (st == SL_OK && out->n == before)
    st = sl__fail(err, SL_ELAYOUT, "%s: its key=value folders hold no file that format%s %s "
                  "reads by extension", dir, o->format ? "" : "s",
                  o->format ? o->format : sl__driver_names());
  walker_free(&w);
  return st;
}

/* ------------------------------------------------------ nothing found */

/* The extension of the format given (else of any driver) that most names
   end in, NULL when none does; of equal counts, the one seen first. */
static const char *common_ext(const sl_open_options *o, char *const *names, size_t n) {
  const char *ext[32];
  size_t count[32], k = 0, best = 0;
  for (size_t i = 0; i < n; i++) {
    const sl_driver *d = is_sidecar(names[i]) ? NULL : driver_of(names[i], o);
    const char *e = d ? sl__driver_ext(d, names[i]) : NULL;
    size_t j = 0;
    while (e != NULL && j < k && ext[j] != e) j++;
    if (e == NULL || (j == k && k == SL_ARRAY_LEN(ext))) continue;
    if (j == k) {
      ext[k] = e;
      count[k++] = 0;
    }
    count[j]++;
  }
  for (size_t j = 1; j < k; j++)
    if (count[j] > count[best]) best = j;
  return k ? ext[best] : NULL;
}

static int cmp_names(const void *x, const void *y) {
  return sl__natural_cmp(*(char *const *)x, *(char *const *)y);
}

/* The listing of an empty directory is NULL, which qsort must not see. */
static void sort_names(char **names, size_t n) {
  if (n > 1) qsort(names, n, sizeof *names, cmp_names);
}

/* "a, b, c and 4 more" of names (sidecars or the others), folders with a
   slash; @return how many there were. */
static size_t list_names(const char *dir, char *const *names, size_t n, bool sidecars,
                         char *buf, size_t cap) {
  size_t shown = 0, all = 0, k = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    if (is_sidecar(names[i]) != sidecars) continue;
    if (all++ >= 3 || k >= cap) continue;
    char *full = join(dir, names[i]);
    bool d = full != NULL && is_dir_path(full);
    sl__free(full);
    k += (size_t)snprintf(buf + k, cap - k, "%s%s%s", shown++ ? ", " : "", names[i],
                          d ? "/" : "");
  }
  if (all > shown && k < cap) snprintf(buf + k, cap - k, " and %zu more", all - shown);
  return all;
}

/* One level down: the extension most files of dir's first folder holding
   any end in, for a pattern of two components ('*', then '*.ext'). */
static const char *ext_in_folders(const char *dir, const sl_open_options *o, char *const *names,
                                  size_t n) {
  const char *found = NULL;
  for (size_t i = 0, tried = 0; found == NULL && i < n && tried < 16; i++) {
    if (is_sidecar(names[i])) continue;
    char *full = join(dir, names[i]), **sub = NULL;
    size_t m = 0;
    sl_error none = {0};
    if (full != NULL && is_dir_path(full) && sl__list_dir(full, &sub, &m, &none) == SL_OK) {
      tried++;
      sort_names(sub, m);
      found = common_ext(o, sub, m);
      sl__free_names(sub, m);
    }
    sl__free(full);
  }
  return found;
}

/* What to do about a directory that holds no shard_NNNN file: its names,
   and the option pattern that reads them. */
static void advice(const char *dir, const sl_open_options *o, char **names, size_t n,
                   char *buf, size_t cap) {
  char held[512];
  sort_names(names, n);
  if (list_names(dir, names, n, false, held, sizeof held) == 0) {
    if (list_names(dir, names, n, true, held, sizeof held) == 0)
      snprintf(buf, cap, "it is empty");
    else
      snprintf(buf, cap, "it holds only %s, and names starting with _ or . are never shards",
               held);
    return;
  }
  const char *ext = common_ext(o, names, n);
  const char *below = ext ? NULL : ext_in_folders(dir, o, names, n);
  if (ext != NULL)
    snprintf(buf, cap, "it holds %s: to read them, give option pattern '*%s'", held, ext);
  else if (below != NULL)
    snprintf(buf, cap, "it holds %s: to read the files in its folders, give option pattern "
             "'*/*%s'", held, below);
  else if (o->format != NULL)
    snprintf(buf, cap, "it holds %s, none with an extension of format %s (choose the files "
             "with option pattern)", held, o->format);
  else
    snprintf(buf, cap, "it holds %s, none with an extension a format driver knows (choose "
             "the format with option format, the files with option pattern)", held);
}

static sl_status nothing_found(const char *dir, const sl_open_options *o, char **names,
                               size_t n, sl_error *err) {
  char why[1024];
  advice(dir, o, names, n, why, sizeof why);
  SL_FAIL(err, SL_ELAYOUT, "%s: no shard files found (looked for shard_NNNN.<ext>, four or "
          "more digits, for format%s %s); %s", dir, o->format ? "" : "s",
          o->format ? o->format : sl__driver_names(), why);
}

/* ------------------------------------------------------------- inputs */

/* A directory without a pattern: its shard_NNNN files, else its key=value
   folders, else advice. */
static sl_status find_in_dir(const char *dir, const sl_open_options *o, sl_found_list *out,
                             sl_error *err) {
  char **names;
  size_t n;
  SL_TRY(sl__list_dir(dir, &names, &n, err));
  const sl_driver *drv = NULL;
  bool hive = false;
  sl_status st = shard_driver(dir, o, names, n, &drv, err);
  if (st == SL_OK && drv == NULL) st = has_hive_folder(dir, names, n, &hive, err);
  if (st == SL_OK && drv != NULL) st = take_shards(dir, drv, names, n, out, err);
  else if (st == SL_OK && hive) st = find_hive(dir, o, out, err);
  else if (st == SL_OK) st = nothing_found(dir, o, names, n, err);
  sl__free_names(names, n);
  return st;
}

/* A file given as an input: always taken, whatever its name. */
static sl_status take_given_file(const char *path, const sl_open_options *o,
                                 sl_found_list *out, sl_error *err) {
  const sl_driver *drv = driver_of(path, o);
  if (drv == NULL)
    SL_FAIL(err, SL_ELAYOUT, "%s: unknown file extension (built in: %s); choose one with "
            "option format", path, sl__driver_names());
  return push(out, sl__strdup(path), NULL, drv, true, path, err);
}

sl_status sl__find_files(const char *path, const sl_open_options *o, sl_found_list *out,
                         sl_error *err) {
  assert(o->format == NULL || sl__driver_by_name(o->format) != NULL);
  bool is_dir;
  SL_TRY(sl__path_kind(path, &is_dir, err));
  if (!is_dir) return take_given_file(path, o, out, err);
  const sl_driver *drv;
  char *file;
  SL_TRY(find_store(path, o->format, &drv, &file, err));
  if (drv != NULL) return push_store_file(out, file, path, drv, true, err);
  if (o->pattern != NULL) return find_pattern(path, o, out, err);
  return find_in_dir(path, o, out, err);
}
