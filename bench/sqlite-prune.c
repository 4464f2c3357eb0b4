/*
 * sqlite-prune.c - times ret_table_prune on one table for bench-sqlite.sh.
 *
 *   sqlite-prune DB TABLE TIME-COLUMN NOW MAX-AGE
 *
 * Prints "seconds deleted max_lock_ms checkpoint_ms flags".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <retention.h>

int
main(int argc, char **argv)
{
    char text[4096];
    ret_policy *p = NULL;
    const ret_category *c;
    ret_table_result r;
    ret_error err;
    struct timespec t0, t1;
    int64_t now;

    if (argc != 6) {
        fprintf(stderr, "usage: sqlite-prune DB TABLE TIME-COLUMN NOW "
                        "MAX-AGE\n");
        return 2;
    }
    now = strtoll(argv[4], NULL, 10);
    snprintf(text, sizeof(text),
             "policy {\n name \"bench\"\n controller \"bench\"\n version 1\n"
             " effective 2026-01-01\n schedule none\n}\n"
             "category bench {\n table sqlite:%s %s time=%s\n"
             " delete after %s\n}\n",
             argv[1], argv[2], argv[3], argv[5]);
    if (ret_policy_parse(text, strlen(text), "bench.conf", &p, &err) !=
        RET_OK) {
        fprintf(stderr, "sqlite-prune: %s\n", err.message);
        return 2;
    }
    c = ret_policy_find(p, "bench");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (ret_table_prune(c, ret_category_source(c, 0), now, 0, &r, &err) !=
        RET_OK) {
        fprintf(stderr, "sqlite-prune: %s\n", err.message);
        ret_policy_free(p);
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%.3f %" PRIu64 " %.1f %.1f %#x\n",
           (double)(t1.tv_sec - t0.tv_sec) +
               (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
           r.deleted, r.max_lock_ms, r.checkpoint_ms, r.flags);
    ret_policy_free(p);
    return 0;
}
