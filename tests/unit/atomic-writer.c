/*
 * atomic-writer.c - a helper of tests/cli/atomic.sh: copies the lines of
 * SOURCE over TARGET with an atomic writer (keeping mode, owner and
 * mtime), so that the test can kill it at random moments.
 *
 *   atomic-writer [-z] [-k] TARGET SOURCE
 *
 * -z writes gzip; -k exits before the commit without cleaning up, as a
 * crash would.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <retention.h>

int
main(int argc, char **argv)
{
    unsigned flags =
        RET_WRITE_ATOMIC | RET_WRITE_KEEP_META | RET_WRITE_KEEP_MTIME;
    ret_reader *r = NULL;
    ret_writer *w = NULL;
    ret_error err;
    ret_status st;
    const char *line;
    size_t len;
    int i = 1, crash = 0;

    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-z") == 0)
            flags |= RET_WRITE_GZIP;
        else if (strcmp(argv[i], "-k") == 0)
            crash = 1;
        else
            break;
    }
    if (argc - i != 2) {
        fputs("usage: atomic-writer [-z] [-k] TARGET SOURCE\n", stderr);
        return 2;
    }
    if ((st = ret_reader_open(argv[i + 1], &r, &err)) != RET_OK ||
        (st = ret_writer_open(argv[i], flags, &w, &err)) != RET_OK)
        goto out;
    while ((st = ret_reader_next(r, &line, &len, &err)) == RET_OK)
        if ((st = ret_writer_write(w, line, len, &err)) != RET_OK)
            goto out;
    if (st != RET_EOF)
        goto out;
    if (crash)
        _Exit(0);
    st = ret_writer_commit(w, &err);
    w = NULL;
out:
    ret_writer_free(w);
    ret_reader_free(r);
    if (st != RET_OK && st != RET_EOF) {
        fprintf(stderr, "atomic-writer: %s\n", err.message);
        return 1;
    }
    return 0;
}
