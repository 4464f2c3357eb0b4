/*
 * fuzz-gzip.c - the line reader on arbitrary bytes: plain or gzip, whole,
 * truncated or damaged. Reads every line twice, with the default buffer
 * and with a tiny one, and aborts unless both give the same lines, the
 * same final status, and every line is a line.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct out {
    unsigned char *p;
    size_t n, cap, lines;
    ret_status st;
};

static void
collect(ret_reader *r, struct out *o)
{
    const char *line;
    size_t len;
    ret_error err;
    int unterminated = 0;

    while ((o->st = ret_reader_next(r, &line, &len, &err)) == RET_OK) {
        const char *nl = memchr(line, '\n', len);

        /* one line: non-empty, a '\n' only at its end, only the last
         * without one */
        if (len == 0 || unterminated || (nl != NULL && nl != line + len - 1))
            abort();
        unterminated = nl == NULL;
        if (o->cap - o->n < len) {
            size_t ncap = (o->cap + len) * 2;
            unsigned char *np = realloc(o->p, ncap);

            if (np == NULL)
                abort();
            o->p = np;
            o->cap = ncap;
        }
        memcpy(o->p + o->n, line, len);
        o->n += len;
        o->lines++;
    }
    if (o->st != RET_EOF && err.status != o->st)
        abort();
    if (ret_reader_offset(r) != o->n || ret_reader_line_number(r) != o->lines)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct out a = {0}, b = {0};
    ret_reader *r = NULL;
    size_t small = 16 + (size > 0 ? data[size - 1] % 48 : 0);

    if (ret_reader_open_mem(data, size, "fuzz", &r, NULL) != RET_OK)
        abort();
    collect(r, &a);
    ret_reader_free(r);
    if (ret__reader_open_mem_size(data, size, "fuzz", small, &r, NULL) !=
        RET_OK)
        abort();
    collect(r, &b);
    ret_reader_free(r);
    if (a.st != b.st || a.n != b.n || a.lines != b.lines ||
        (a.n > 0 && memcmp(a.p, b.p, a.n) != 0))
        abort();
    /* plain input comes back byte for byte */
    if (size < 2 || data[0] != 0x1f || data[1] != 0x8b) {
        if (a.st != RET_EOF || a.n != size ||
            (size > 0 && memcmp(a.p, data, size) != 0))
            abort();
    }
    free(a.p);
    free(b.p);
    return 0;
}
