/* Regression driver: runs the fuzz target over every file under the given
   directories (the committed corpus, the fixtures). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static long replayed;

static void replay_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return;
  uint8_t *buf = malloc(1 << 20);
  size_t n = fread(buf, 1, 1 << 20, f);
  fclose(f);
  LLVMFuzzerTestOneInput(buf, n);
  /* every prefix too: truncation is the commonest corruption */
  for (size_t cut = 0; cut < n && cut < 512; cut++) LLVMFuzzerTestOneInput(buf, cut);
  free(buf);
  replayed++;
}

static void walk(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) return;
  if (!S_ISDIR(st.st_mode)) {
    replay_file(path);
    return;
  }
  DIR *d = opendir(path);
  struct dirent *e;
  while (d && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char sub[4096];
    snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
    walk(sub);
  }
  if (d) closedir(d);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) walk(argv[i]);
  printf("replayed %ld inputs\n", replayed);
  return replayed > 0 ? 0 : 1;
}
