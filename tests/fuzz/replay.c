/*
 * replay.c - runs a fuzz target over its corpus without libFuzzer, as a
 * TAP test: one line per corpus file. The corpus is
 * $top_srcdir/tests/fuzz/corpus/FUZZ_NAME/, or the directories or files
 * given as arguments.
 */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned ntests;

static int
run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0, n;

    if (f == NULL) {
        printf("not ok %u - %s: cannot open\n", ++ntests, path);
        return 1;
    }
    for (;;) {
        if (cap - len < 65536) {
            uint8_t *nb = realloc(buf, cap = cap * 2 + 65536);
            if (nb == NULL) {
                fclose(f);
                free(buf);
                printf("not ok %u - %s: out of memory\n", ++ntests, path);
                return 1;
            }
            buf = nb;
        }
        n = fread(buf + len, 1, cap - len, f);
        if (n == 0)
            break;
        len += n;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    printf("ok %u - %s\n", ++ntests, path);
    return 0;
}

static int
compare(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
run_path(const char *path)
{
    struct stat st;
    DIR *d;
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, i;
    int failed = 0;

    if (stat(path, &st) != 0) {
        printf("not ok %u - %s: missing\n", ++ntests, path);
        return 1;
    }
    if (!S_ISDIR(st.st_mode))
        return run_file(path);
    if ((d = opendir(path)) == NULL)
        return 1;
    while ((de = readdir(d)) != NULL) {
        char **nn;
        size_t l;

        if (de->d_name[0] == '.')
            continue;
        if ((nn = realloc(names, (n + 1) * sizeof(*names))) == NULL)
            break;
        names = nn;
        l = strlen(path) + strlen(de->d_name) + 2;
        if ((names[n] = malloc(l)) == NULL)
            break;
        snprintf(names[n], l, "%s/%s", path, de->d_name);
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof(*names), compare);
    for (i = 0; i < n; i++) {
        failed |= run_file(names[i]);
        free(names[i]);
    }
    free(names);
    return failed;
}

int
main(int argc, char **argv)
{
    const char *top = getenv("top_srcdir");
    char dir[4096];
    int failed = 0, i;

    if (argc > 1) {
        for (i = 1; i < argc; i++)
            failed |= run_path(argv[i]);
    } else {
        snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s",
                 top ? top : ".", FUZZ_NAME);
        failed = run_path(dir);
    }
    printf("1..%u\n", ntests);
    return failed;
}
