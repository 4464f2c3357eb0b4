/*
 * read-lines.c - the reader (and writer) at full speed, for make bench.
 *
 *   read-lines FILE                 counts the lines of FILE
 *   read-lines [-z] -o OUT FILE     copies them to OUT (-z: gzip)
 */
#include <stdio.h>
#include <string.h>

#include <retention.h>

int
main(int argc, char **argv)
{
    const char *out = NULL, *line;
    unsigned flags = 0;
    ret_reader *r = NULL;
    ret_writer *w = NULL;
    ret_error err;
    ret_status st;
    size_t len;
    int i;

    for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != 0; i++) {
        if (strcmp(argv[i], "-z") == 0)
            flags |= RET_WRITE_GZIP;
        else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
            out = argv[++i];
        else
            break;
    }
    if (argc - i != 1) {
        fputs("usage: read-lines [-z] [-o OUT] FILE\n", stderr);
        return 2;
    }
    if ((st = ret_reader_open(argv[i], &r, &err)) != RET_OK)
        goto out;
    if (out != NULL && (st = ret_writer_open(out, flags, &w, &err)) != RET_OK)
        goto out;
    while ((st = ret_reader_next(r, &line, &len, &err)) == RET_OK)
        if (w != NULL && (st = ret_writer_write(w, line, len, &err)) != RET_OK)
            goto out;
    if (st != RET_EOF)
        goto out;
    if (w != NULL) {
        st = ret_writer_commit(w, &err);
        w = NULL;
        if (st != RET_OK)
            goto out;
    }
    printf("%llu\n", (unsigned long long)ret_reader_line_number(r));
    st = RET_OK;
out:
    ret_writer_free(w);
    ret_reader_free(r);
    if (st != RET_OK) {
        fprintf(stderr, "read-lines: %s\n", err.message);
        return 1;
    }
    return 0;
}
