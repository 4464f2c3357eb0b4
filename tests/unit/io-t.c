/* io-t.c - line readers (plain, gzip, pipes, memory) and writers. */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "../tap.h"

static char tmpdir[4096];

/* ---- helpers --------------------------------------------------------- */

struct bytes {
    unsigned char *p;
    size_t n, cap;
};

static void
bytes_add(struct bytes *b, const void *p, size_t n)
{
    if (b->cap - b->n < n) {
        size_t ncap = b->cap ? b->cap : 256;

        while (ncap - b->n < n)
            ncap *= 2;
        b->p = realloc(b->p, ncap);
        if (b->p == NULL)
            abort();
        b->cap = ncap;
    }
    if (n > 0)
        memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void
bytes_free(struct bytes *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

/* Appends one gzip member holding p[0, n) at the given level. */
static void
gz_member(struct bytes *out, const void *p, size_t n, int level)
{
    z_stream zs;
    unsigned char buf[65536];
    int zr;

    memset(&zs, 0, sizeof(zs));
    if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK)
        abort();
    zs.next_in = (unsigned char *)(uintptr_t)p;
    zs.avail_in = (uInt)n;
    do {
        zs.next_out = buf;
        zs.avail_out = sizeof(buf);
        zr = deflate(&zs, Z_FINISH);
        bytes_add(out, buf, sizeof(buf) - zs.avail_out);
    } while (zr == Z_OK);
    if (zr != Z_STREAM_END)
        abort();
    deflateEnd(&zs);
}

/* What plain zlib decodes from p[0, n) (members concatenated) before it
 * stops: the reference for damaged input. */
static void
gunzip_ref(const unsigned char *p, size_t n, struct bytes *out)
{
    z_stream zs;
    unsigned char buf[65536];
    int zr;

    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 15 + 16) != Z_OK)
        abort();
    zs.next_in = (unsigned char *)(uintptr_t)p;
    zs.avail_in = (uInt)n;
    for (;;) {
        zs.next_out = buf;
        zs.avail_out = sizeof(buf);
        zr = inflate(&zs, Z_NO_FLUSH);
        bytes_add(out, buf, sizeof(buf) - zs.avail_out);
        if (zr == Z_STREAM_END) {
            if (zs.avail_in == 0)
                break;
            inflateReset(&zs);
            continue;
        }
        if (zr != Z_OK)
            break;
    }
    inflateEnd(&zs);
}

/* Reads everything; checks that each line is a line (one '\n', at its
 * end, only the last may lack it). Returns the final status. */
static ret_status
read_all(ret_reader *r, struct bytes *out, size_t *nlines, int *shape_ok,
         ret_error *err)
{
    const char *line;
    size_t len;
    ret_status st;
    int last_unterminated = 0;

    *nlines = 0;
    *shape_ok = 1;
    while ((st = ret_reader_next(r, &line, &len, err)) == RET_OK) {
        const char *nl = memchr(line, '\n', len);

        if (len == 0 || last_unterminated ||
            (nl != NULL && nl != line + len - 1))
            *shape_ok = 0;
        if (nl == NULL)
            last_unterminated = 1;
        bytes_add(out, line, len);
        (*nlines)++;
    }
    return st;
}

static size_t
count_lines(const unsigned char *p, size_t n)
{
    size_t i, c = 0;

    for (i = 0; i < n; i++)
        if (p[i] == '\n')
            c++;
    return c + (n > 0 && p[n - 1] != '\n');
}

static void
write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");

    if (f == NULL || (n > 0 && fwrite(p, 1, n, f) != n) || fclose(f) != 0) {
        perror(path);
        abort();
    }
}

static int
read_file(const char *path, struct bytes *out)
{
    FILE *f = fopen(path, "rb");
    char buf[65536];
    size_t n;

    out->n = 0;
    if (f == NULL)
        return -1;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        bytes_add(out, buf, n);
    fclose(f);
    return 0;
}

static const char *
tpath(const char *name)
{
    static char path[8][4200];
    static int k;

    k = (k + 1) % 8;
    snprintf(path[k], sizeof(path[k]), "%s/%s", tmpdir, name);
    return path[k];
}

/* Reads p[0, n) from memory with a buffer size, and checks it comes back
 * whole as count_lines() lines. */
static int
roundtrip_mem(const void *p, size_t n, const unsigned char *want, size_t want_n,
              size_t bufsize)
{
    ret_reader *r = NULL;
    struct bytes got = {0};
    size_t nl;
    int shape, good;
    ret_status st;

    if (ret__reader_open_mem_size(p, n, "mem", bufsize, &r, NULL) != RET_OK)
        return 0;
    st = read_all(r, &got, &nl, &shape, NULL);
    good = st == RET_EOF && shape && got.n == want_n &&
           (want_n == 0 || memcmp(got.p, want, want_n) == 0) &&
           nl == count_lines(want, want_n) && ret_reader_line_number(r) == nl &&
           ret_reader_offset(r) == want_n;
    ret_reader_free(r);
    bytes_free(&got);
    return good;
}

static int
roundtrip_file(const char *path, const unsigned char *want, size_t want_n,
               size_t bufsize, int want_gzip)
{
    ret_reader *r = NULL;
    struct bytes got = {0};
    size_t nl;
    int shape, good, fd = open(path, O_RDONLY);
    ret_status st;

    if (fd < 0)
        return 0;
    if (ret__reader_open_fd_size(fd, path, bufsize, &r, NULL) != RET_OK) {
        close(fd);
        return 0;
    }
    st = read_all(r, &got, &nl, &shape, NULL);
    good = st == RET_EOF && shape && got.n == want_n &&
           (want_n == 0 || memcmp(got.p, want, want_n) == 0) &&
           nl == count_lines(want, want_n) &&
           ret_reader_is_gzip(r) == want_gzip;
    ret_reader_free(r);
    close(fd);
    bytes_free(&got);
    return good;
}

/* A sample with short, long, empty, CRLF, NUL and non-UTF-8 lines and
 * no final newline. */
static void
make_sample(struct bytes *b, unsigned seed, size_t nlines, int final_nl)
{
    size_t i, j;

    for (i = 0; i < nlines; i++) {
        size_t len = (seed = seed * 1103515245u + 12345u) >> 16;

        len %= (i % 7 == 0) ? 300 : 40;
        for (j = 0; j < len; j++) {
            unsigned char c = (unsigned char)('a' + (i + j) % 26);

            if ((i + j) % 13 == 0)
                c = 0;
            else if ((i + j) % 17 == 0)
                c = 0xff;
            else if ((i + j) % 11 == 0)
                c = '\r';
            bytes_add(b, &c, 1);
        }
        if (i % 5 == 0)
            bytes_add(b, "\r", 1);
        if (i + 1 < nlines || final_nl)
            bytes_add(b, "\n", 1);
    }
}

/* ---- reader tests ---------------------------------------------------- */

static void
test_plain_mem(void)
{
    static const char text[] = "one\ntwo\r\n\nfo\0ur\n\xff\xfe bad utf8\nlast";
    ret_reader *r = NULL;
    const char *line;
    size_t len;
    ret_error err;
    ret_status st;

    ok(ret_reader_open_mem(text, sizeof(text) - 1, "t", &r, &err) == RET_OK,
       "open_mem");
    ok(!ret_reader_is_gzip(r), "plain memory is not gzip");
    st = ret_reader_next(r, &line, &len, &err);
    ok(st == RET_OK && len == 4 && memcmp(line, "one\n", 4) == 0,
       "first line with its newline");
    ok(line == text, "a line in memory is returned in place (zero copy)");
    st = ret_reader_next(r, &line, &len, &err);
    ok(st == RET_OK && len == 5 && memcmp(line, "two\r\n", 5) == 0,
       "CRLF passes through");
    st = ret_reader_next(r, &line, &len, &err);
    ok(st == RET_OK && len == 1 && line[0] == '\n', "empty line");
    st = ret_reader_next(r, &line, &len, &err);
    ok(st == RET_OK && len == 6 && memcmp(line, "fo\0ur\n", 6) == 0,
       "NUL byte passes through");
    st = ret_reader_next(r, &line, &len, &err);
    ok(st == RET_OK && len == 12 &&
           memcmp(line, "\xff\xfe bad utf8\n", 12) == 0,
       "invalid UTF-8 passes through");
    st = ret_reader_next(r, &line, &len, &err);
    ok(st == RET_OK && len == 4 && memcmp(line, "last", 4) == 0,
       "last line without newline");
    is_int(ret_reader_line_number(r), 6, "line number");
    is_int(ret_reader_offset(r), sizeof(text) - 1, "offset");
    is_int(ret_reader_raw_size(r), sizeof(text) - 1, "raw size");
    is_int(ret_reader_raw_offset(r), sizeof(text) - 1, "raw offset");
    is_int(ret_reader_next(r, &line, &len, &err), RET_EOF, "then EOF");
    is_int(ret_reader_next(r, &line, &len, &err), RET_EOF, "EOF again");
    ret_reader_free(r);
    ret_reader_free(NULL);

    ok(ret_reader_open_mem("", 0, "empty", &r, &err) == RET_OK &&
           ret_reader_next(r, &line, &len, &err) == RET_EOF,
       "empty memory: EOF at once");
    ret_reader_free(r);
}

static void
test_boundaries(void)
{
    struct bytes s = {0}, gz = {0};
    size_t bs;
    int good_plain = 1, good_gz = 1, good_gzmem = 1;
    const char *p = tpath("sample.log"), *pz = tpath("sample.log.gz");

    make_sample(&s, 7, 400, 0);
    gz_member(&gz, s.p, s.n, 6);
    write_file(p, s.p, s.n);
    write_file(pz, gz.p, gz.n);
    for (bs = 16; bs <= 331; bs++) {
        if (!roundtrip_file(p, s.p, s.n, bs, 0)) {
            if (good_plain)
                diag("plain file, buffer %zu", bs);
            good_plain = 0;
        }
        if (!roundtrip_file(pz, s.p, s.n, bs, 1)) {
            if (good_gz)
                diag("gzip file, buffer %zu", bs);
            good_gz = 0;
        }
        if (!roundtrip_mem(gz.p, gz.n, s.p, s.n, bs)) {
            if (good_gzmem)
                diag("gzip memory, buffer %zu", bs);
            good_gzmem = 0;
        }
    }
    ok(good_plain, "plain file: lines split across every buffer boundary "
                   "(buffers of 16..331 bytes)");
    ok(good_gz, "gzip file: lines split across every buffer boundary");
    ok(good_gzmem, "gzip memory: lines split across every buffer boundary");
    ok(roundtrip_file(p, s.p, s.n, 256 * 1024, 0) &&
           roundtrip_file(pz, s.p, s.n, 256 * 1024, 1),
       "default buffer size");
    ok(roundtrip_mem(s.p, s.n, s.p, s.n, 16), "plain memory");
    bytes_free(&s);

    make_sample(&s, 9, 300, 1);
    write_file(p, s.p, s.n);
    ok(roundtrip_file(p, s.p, s.n, 17, 0) &&
           roundtrip_file(p, s.p, s.n, 256 * 1024, 0),
       "file ending in a newline");
    bytes_free(&s);
    bytes_free(&gz);
}

static void
test_gzip_files(void)
{
    struct bytes s1 = {0}, s2 = {0}, all = {0}, gz = {0};
    ret_reader *r = NULL;
    ret_error err;
    const char *line;
    size_t len;
    const char *p = tpath("multi.gz");

    make_sample(&s1, 1, 200, 1);
    make_sample(&s2, 2, 100, 0);
    bytes_add(&all, s1.p, s1.n);
    bytes_add(&all, s2.p, s2.n);

    /* multi-member, with an empty member in between and at the end */
    gz_member(&gz, s1.p, s1.n, 6);
    gz_member(&gz, "", 0, 6);
    gz_member(&gz, s2.p, s2.n, 1);
    gz_member(&gz, "", 0, 9);
    write_file(p, gz.p, gz.n);
    ok(roundtrip_file(p, all.p, all.n, 256 * 1024, 1),
       "multi-member gzip file read whole (empty members too)");
    ok(roundtrip_file(p, all.p, all.n, 20, 1),
       "multi-member gzip with a tiny buffer");
    ok(roundtrip_mem(gz.p, gz.n, all.p, all.n, 1024),
       "multi-member gzip in memory");

    /* a member boundary inside a line: the line is joined */
    gz.n = 0;
    gz_member(&gz, "first half, ", 12, 6);
    gz_member(&gz, "second half\nnext\n", 17, 6);
    ok(roundtrip_mem(gz.p, gz.n,
                     (const unsigned char *)"first half, second half\nnext\n",
                     29, 64),
       "a line split across members is one line");

    /* only an empty member */
    gz.n = 0;
    gz_member(&gz, "", 0, 6);
    write_file(p, gz.p, gz.n);
    ok(ret_reader_open(p, &r, &err) == RET_OK && ret_reader_is_gzip(r) &&
           ret_reader_next(r, &line, &len, &err) == RET_EOF,
       "an empty gzip member: gzip, no lines");
    ret_reader_free(r);

    /* empty file */
    write_file(p, "", 0);
    ok(ret_reader_open(p, &r, &err) == RET_OK && !ret_reader_is_gzip(r) &&
           ret_reader_next(r, &line, &len, &err) == RET_EOF,
       "an empty file: no lines");
    ret_reader_free(r);

    /* zero padding after the last member is accepted */
    gz.n = 0;
    gz_member(&gz, s1.p, s1.n, 6);
    bytes_add(&gz, "\0\0\0\0\0\0\0\0", 8);
    ok(roundtrip_mem(gz.p, gz.n, s1.p, s1.n, 4096),
       "zero padding after gzip data is ignored");
    bytes_free(&s1);
    bytes_free(&s2);
    bytes_free(&all);
    bytes_free(&gz);
}

static void
test_magic_not_name(void)
{
    struct bytes s = {0}, gz = {0};
    ret_reader *r = NULL;
    ret_error err;
    const char *line;
    size_t len;

    make_sample(&s, 3, 50, 1);
    gz_member(&gz, s.p, s.n, 6);
    write_file(tpath("plain.gz"), s.p, s.n);
    write_file(tpath("packed.log"), gz.p, gz.n);
    ok(roundtrip_file(tpath("plain.gz"), s.p, s.n, 256 * 1024, 0),
       "a .gz name with plain content reads as plain");
    ok(roundtrip_file(tpath("packed.log"), s.p, s.n, 256 * 1024, 1),
       "gzip content without a .gz name is decompressed");
    ok(ret_reader_open(tpath("packed.log"), &r, &err) == RET_OK &&
           ret_reader_is_gzip(r),
       "ret_reader_open detects gzip by its magic");
    is_int(ret_reader_raw_size(r), gz.n, "raw size is the compressed size");
    while (ret_reader_next(r, &line, &len, &err) == RET_OK)
        ;
    is_int(ret_reader_raw_offset(r), gz.n, "raw offset reaches the end");
    is_int(ret_reader_offset(r), s.n, "offset counts decoded bytes");
    ret_reader_free(r);

    /* one byte that looks like the start of the magic */
    write_file(tpath("one"), "\x1f", 1);
    ok(roundtrip_file(tpath("one"), (const unsigned char *)"\x1f", 1, 16, 0),
       "a lone 0x1f byte is plain");
    bytes_free(&s);
    bytes_free(&gz);
}

static void
test_long_lines(void)
{
    size_t n = 1024 * 1024, i;
    struct bytes s = {0}, gz = {0};
    unsigned char *big = malloc(n + 1);
    const char *p = tpath("long.log");
    ret_reader *r = NULL;
    ret_error err;
    const char *line;
    size_t len;
    z_stream zs;
    unsigned char chunk[65536], zbuf[65536];
    unsigned char tail[] = "\nend\n";
    int good = 1, zr;

    for (i = 0; i < n; i++)
        big[i] = (unsigned char)('A' + i % 23);
    big[n] = '\n';
    bytes_add(&s, "short\n", 6);
    bytes_add(&s, big, n + 1);
    bytes_add(&s, "after\n", 6);
    bytes_add(&s, big, n); /* unterminated 1 MiB last line */
    write_file(p, s.p, s.n);
    ok(roundtrip_file(p, s.p, s.n, 256 * 1024, 0),
       "1 MiB lines from a file (default buffer)");
    ok(roundtrip_file(p, s.p, s.n, 1000, 0), "1 MiB lines, small buffer");
    gz_member(&gz, s.p, s.n, 6);
    ok(roundtrip_mem(gz.p, gz.n, s.p, s.n, 256 * 1024),
       "1 MiB lines from gzip");
    free(big);
    bytes_free(&s);

    /* a 64 MiB line, gzip compressed as it is made */
    gz.n = 0;
    memset(&zs, 0, sizeof(zs));
    deflateInit2(&zs, 1, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
    memset(chunk, 'x', sizeof(chunk));
    for (i = 0; i <= 1024; i++) {
        zs.next_in = chunk;
        zs.avail_in = i < 1024 ? sizeof(chunk) : 0;
        if (i == 1024) {
            zs.next_in = tail;
            zs.avail_in = 5;
        }
        do {
            zs.next_out = zbuf;
            zs.avail_out = sizeof(zbuf);
            zr = deflate(&zs, i < 1024 ? Z_NO_FLUSH : Z_FINISH);
            bytes_add(&gz, zbuf, sizeof(zbuf) - zs.avail_out);
        } while (zs.avail_out == 0 || (i == 1024 && zr == Z_OK));
    }
    deflateEnd(&zs);
    ok(ret_reader_open_mem(gz.p, gz.n, "big", &r, &err) == RET_OK,
       "open 64 MiB line");
    good = ret_reader_next(r, &line, &len, &err) == RET_OK &&
           len == 64u * 1024 * 1024 + 1 && line[len - 1] == '\n';
    for (i = 0; good && i + 1 < len; i++)
        good = line[i] == 'x';
    ok(good, "a 64 MiB line comes back whole");
    ok(ret_reader_next(r, &line, &len, &err) == RET_OK && len == 4 &&
           memcmp(line, "end\n", 4) == 0 &&
           ret_reader_next(r, &line, &len, &err) == RET_EOF,
       "then the next line and EOF");
    ret_reader_free(r);
    bytes_free(&gz);
}

/* Reads damaged gzip p[0, n): the bytes must be exactly what zlib
 * decodes before the damage, then RET_E_GZIP naming file and offset. */
static int
damaged(const unsigned char *p, size_t n, const char *name, size_t bufsize,
        int use_file, char *msg, size_t msgsize)
{
    struct bytes ref = {0}, got = {0};
    ret_reader *r = NULL;
    ret_error err;
    size_t nl;
    int shape, good = 0, fd = -1;
    ret_status st;

    gunzip_ref(p, n, &ref);
    if (use_file) {
        write_file(tpath(name), p, n);
        fd = open(tpath(name), O_RDONLY);
        st = ret__reader_open_fd_size(fd, name, bufsize, &r, &err);
    } else {
        st = ret__reader_open_mem_size(p, n, name, bufsize, &r, &err);
    }
    if (st != RET_OK)
        goto out;
    memset(&err, 0, sizeof(err));
    st = read_all(r, &got, &nl, &shape, &err);
    good = st == RET_E_GZIP && err.status == RET_E_GZIP && shape &&
           got.n == ref.n && (ref.n == 0 || memcmp(got.p, ref.p, ref.n) == 0) &&
           strstr(err.message, name) != NULL &&
           strstr(err.message, " at byte ") != NULL;
    if (msg != NULL)
        snprintf(msg, msgsize, "%s", err.message);
    /* the error sticks */
    if (good && ret_reader_next(r, &(const char *){NULL}, &(size_t){0}, NULL) !=
                    RET_E_GZIP)
        good = 0;
out:
    if (!good)
        diag("damaged %s (%zu bytes, buffer %zu): st %d, got %zu of %zu: %s",
             name, n, bufsize, (int)st, got.n, ref.n, err.message);
    ret_reader_free(r);
    if (fd >= 0)
        close(fd);
    bytes_free(&ref);
    bytes_free(&got);
    return good;
}

static void
test_damaged_gzip(void)
{
    struct bytes s = {0}, gz = {0}, g2 = {0};
    size_t cut, i;
    int good = 1;
    char msg[512], want[64];

    make_sample(&s, 5, 3000, 1);
    gz_member(&gz, s.p, s.n, 6);

    /* truncated at many points, read from a file and from memory */
    for (cut = 2; cut < gz.n; cut += 1 + cut / 8)
        good &= damaged(gz.p, cut, "cut.gz", 4096, 1, NULL, 0) &
                damaged(gz.p, cut, "cut.gz", 100, 0, NULL, 0);
    ok(good, "truncated gzip: every byte decoded before the cut, then "
             "RET_E_GZIP");
    ok(damaged(gz.p, gz.n - 4, "trailer.gz", 256 * 1024, 1, msg, sizeof(msg)),
       "trailer cut off: all content, then RET_E_GZIP");
    snprintf(want, sizeof(want), "at byte %zu", gz.n - 4);
    ok(strstr(msg, want) != NULL && strstr(msg, "truncated") != NULL,
       "message names the compressed offset: %s", msg);

    /* a whole number of lines survives a cut in the middle */
    ok(damaged(gz.p, gz.n / 2, "half.gz", 256 * 1024, 1, msg, sizeof(msg)),
       "cut in the middle");

    /* flipped bytes */
    good = 1;
    for (i = 10; i < gz.n - 8; i += 1 + gz.n / 40) {
        g2.n = 0;
        bytes_add(&g2, gz.p, gz.n);
        g2.p[i] ^= 0x55;
        good &= damaged(g2.p, g2.n, "flip.gz", 8192, 1, NULL, 0);
    }
    ok(good, "corrupt gzip (a flipped byte): RET_E_GZIP after what decoded");
    g2.n = 0;
    bytes_add(&g2, gz.p, gz.n);
    g2.p[gz.n - 6] ^= 1;
    ok(damaged(g2.p, g2.n, "crc.gz", 256 * 1024, 0, msg, sizeof(msg)),
       "bad CRC: all content, then RET_E_GZIP");
    ok(strstr(msg, "corrupt") != NULL, "message says corrupt: %s", msg);

    /* trailing garbage, e.g. plain lines appended to a .gz file */
    g2.n = 0;
    bytes_add(&g2, gz.p, gz.n);
    bytes_add(&g2, "appended plain line\n", 20);
    ok(damaged(g2.p, g2.n, "tail.gz", 256 * 1024, 1, msg, sizeof(msg)),
       "trailing garbage: the content, then RET_E_GZIP");
    snprintf(want, sizeof(want), "at byte %zu", gz.n);
    ok(strstr(msg, want) != NULL, "trailing garbage offset: %s", msg);
    bytes_free(&s);
    bytes_free(&gz);
    bytes_free(&g2);
}

/* Writes p[0, n) to a pipe from a child in small pieces. */
static pid_t
feed_pipe(int *rfd, const void *p, size_t n)
{
    int fds[2];
    pid_t pid;

    if (pipe(fds) != 0)
        abort();
    pid = fork();
    if (pid == 0) {
        size_t off = 0, piece = 1;

        close(fds[0]);
        while (off < n) {
            size_t k = n - off < piece ? n - off : piece;
            ssize_t w = write(fds[1], (const char *)p + off, k);

            if (w <= 0)
                _exit(1);
            off += (size_t)w;
            piece = piece * 3 + 1;
            if (piece > 70000)
                piece = 1;
        }
        _exit(0);
    }
    close(fds[1]);
    *rfd = fds[0];
    return pid;
}

static void
test_pipes(void)
{
    struct bytes s = {0}, gz = {0}, got = {0};
    ret_reader *r = NULL;
    ret_error err;
    size_t nl;
    int fd, shape, status, saved;
    pid_t pid;
    ret_status st;

    make_sample(&s, 11, 2000, 0);
    gz_member(&gz, s.p, s.n, 6);

    pid = feed_pipe(&fd, s.p, s.n);
    ok(ret_reader_open_fd(fd, "pipe", &r, &err) == RET_OK, "open a pipe");
    st = read_all(r, &got, &nl, &shape, &err);
    ok(st == RET_EOF && got.n == s.n && memcmp(got.p, s.p, s.n) == 0,
       "plain data through a pipe in odd pieces");
    is_int(ret_reader_raw_size(r), 0, "a pipe has no known size");
    ret_reader_free(r);
    ok(fcntl(fd, F_GETFD) != -1, "the reader does not close its fd");
    close(fd);
    waitpid(pid, &status, 0);

    got.n = 0;
    pid = feed_pipe(&fd, gz.p, gz.n);
    ok(ret_reader_open_fd(fd, "gzpipe", &r, &err) == RET_OK &&
           ret_reader_is_gzip(r),
       "gzip through a pipe is detected");
    st = read_all(r, &got, &nl, &shape, &err);
    ok(st == RET_EOF && got.n == s.n && memcmp(got.p, s.p, s.n) == 0,
       "gzip data through a pipe");
    ret_reader_free(r);
    close(fd);
    waitpid(pid, &status, 0);

    /* "-" is standard input */
    got.n = 0;
    pid = feed_pipe(&fd, gz.p, gz.n);
    saved = dup(STDIN_FILENO);
    dup2(fd, STDIN_FILENO);
    close(fd);
    ok(ret_reader_open("-", &r, &err) == RET_OK, "open -");
    st = read_all(r, &got, &nl, &shape, &err);
    ok(st == RET_EOF && got.n == s.n && memcmp(got.p, s.p, s.n) == 0,
       "\"-\" reads standard input");
    ret_reader_free(r);
    dup2(saved, STDIN_FILENO);
    close(saved);
    waitpid(pid, &status, 0);
    bytes_free(&s);
    bytes_free(&gz);
    bytes_free(&got);
}

/* Non-blocking descriptors (an inherited standard input or output) are
 * waited for, not failed. */
static void
test_nonblocking(void)
{
    ret_reader *r = NULL;
    ret_writer *w = NULL;
    ret_error err;
    struct bytes got = {0}, big = {0};
    size_t nl;
    int fds[2], shape, status = -1;
    pid_t pid;
    ret_status st;

    if (pipe(fds) != 0)
        abort();
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    pid = fork();
    if (pid == 0) {
        close(fds[0]);
        usleep(30000);
        if (write(fds[1], "a\n", 2) != 2)
            _exit(1);
        usleep(30000);
        if (write(fds[1], "b\nc", 3) != 3)
            _exit(1);
        _exit(0);
    }
    close(fds[1]);
    st = ret_reader_open_fd(fds[0], "nbpipe", &r, &err);
    if (st == RET_OK)
        st = read_all(r, &got, &nl, &shape, &err);
    ok(st == RET_EOF && got.n == 5 && memcmp(got.p, "a\nb\nc", 5) == 0 &&
           nl == 3,
       "reading a non-blocking pipe waits for data (%s)",
       st == RET_EOF ? "ok" : err.message);
    ret_reader_free(r);
    close(fds[0]);
    waitpid(pid, &status, 0);

    /* a slow reader of a non-blocking pipe */
    make_sample(&big, 12, 20000, 1);
    if (pipe(fds) != 0)
        abort();
    pid = fork();
    if (pid == 0) {
        char buf[4096];
        size_t total = 0;
        ssize_t k;

        close(fds[1]);
        usleep(30000);
        while ((k = read(fds[0], buf, sizeof(buf))) > 0)
            total += (size_t)k;
        _exit(total == big.n ? 0 : 1);
    }
    close(fds[0]);
    fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK);
    st = ret_writer_open_fd(fds[1], "nbpipe", 0, &w, &err);
    if (st == RET_OK &&
        (st = ret_writer_write(w, big.p, big.n, &err)) == RET_OK)
        st = ret_writer_commit(w, &err);
    else
        ret_writer_free(w);
    close(fds[1]);
    waitpid(pid, &status, 0);
    ok(st == RET_OK && WIFEXITED(status) && WEXITSTATUS(status) == 0,
       "writing a non-blocking pipe waits for room (%zu bytes)", big.n);
    bytes_free(&got);
    bytes_free(&big);
}

static void
test_open_errors(void)
{
    ret_reader *r = NULL;
    ret_error err;
    const char *missing = tpath("no-such-file.log");

    memset(&err, 0, sizeof(err));
    is_int(ret_reader_open(missing, &r, &err), RET_E_NOTFOUND,
           "missing file: RET_E_NOTFOUND");
    ok(r == NULL, "out not written on failure");
    ok(strstr(err.message, missing) != NULL &&
           strstr(err.message, strerror(ENOENT)) != NULL,
       "message names the path and the errno text: %s", err.message);
    is_int(ret_reader_open(tmpdir, &r, &err), RET_E_IO,
           "a directory: RET_E_IO");
    ok(strstr(err.message, tmpdir) != NULL, "message names it: %s",
       err.message);
    is_int(ret_reader_open_mem(NULL, 1, "x", &r, &err), RET_E_INVAL,
           "NULL data");
}

/* ---- writer tests ---------------------------------------------------- */

/* Writes b in pieces of varying size. */
static int
write_pieces(ret_writer *w, const struct bytes *b, ret_error *err)
{
    size_t off = 0, piece = 1;

    while (off < b->n) {
        size_t k = b->n - off < piece ? b->n - off : piece;

        if (ret_writer_write(w, b->p + off, k, err) != RET_OK)
            return 0;
        off += k;
        piece = piece * 7 + 3;
        if (piece > 3000000)
            piece = 1;
    }
    return 1;
}

/* Reads path back through a reader: its decoded bytes equal want. */
static int
file_reads_as(const char *path, const struct bytes *want, int want_gzip)
{
    return roundtrip_file(path, want->p, want->n, 256 * 1024, want_gzip);
}

static int
gzip_tool_ok(const char *path)
{
    char cmd[4300];

    if (system("gzip --version >/dev/null 2>&1") != 0)
        return -1;
    snprintf(cmd, sizeof(cmd), "gzip -t '%s'", path);
    return system(cmd) == 0;
}

static void
test_writer_plain_gzip(void)
{
    struct bytes s = {0}, got = {0}, dec = {0};
    ret_writer *w = NULL;
    ret_error err;
    const char *p = tpath("w.log"), *pz = tpath("w.log.gz");
    int t;

    make_sample(&s, 21, 40000, 0); /* about 2.6 MB: several gzip blocks */
    ok(ret_writer_open(p, 0, &w, &err) == RET_OK && write_pieces(w, &s, &err) &&
           ret_writer_commit(w, &err) == RET_OK,
       "plain writer");
    ok(read_file(p, &got) == 0 && got.n == s.n && memcmp(got.p, s.p, s.n) == 0,
       "plain output is byte-exact");

    ok(ret_writer_open(pz, RET_WRITE_GZIP, &w, &err) == RET_OK &&
           write_pieces(w, &s, &err) && ret_writer_commit(w, &err) == RET_OK,
       "gzip writer");
    read_file(pz, &got);
    ok(got.n > 2 && got.p[0] == 0x1f && got.p[1] == 0x8b && got.n < s.n,
       "gzip output is gzip and smaller (%zu of %zu bytes)", got.n, s.n);
    gunzip_ref(got.p, got.n, &dec);
    ok(dec.n == s.n && memcmp(dec.p, s.p, s.n) == 0,
       "gzip output decompresses (zlib) to the same bytes");
    ok(file_reads_as(pz, &s, 1), "and reads back through the reader");
    t = gzip_tool_ok(pz);
    if (t < 0)
        ok(1, "# SKIP gzip not installed");
    else
        ok(t, "gzip -t accepts the output");

    /* small output: compressed without the worker thread */
    got.n = dec.n = 0;
    ok(ret_writer_open(pz, RET_WRITE_GZIP, &w, &err) == RET_OK &&
           ret_writer_write(w, "x\n", 2, &err) == RET_OK &&
           ret_writer_commit(w, &err) == RET_OK && read_file(pz, &got) == 0,
       "small gzip output");
    gunzip_ref(got.p, got.n, &dec);
    ok(dec.n == 2 && memcmp(dec.p, "x\n", 2) == 0 && gzip_tool_ok(pz) != 0,
       "small gzip output decompresses");

    /* empty gzip output is still a valid gzip file */
    ok(ret_writer_open(pz, RET_WRITE_GZIP, &w, &err) == RET_OK &&
           ret_writer_commit(w, &err) == RET_OK && read_file(pz, &got) == 0 &&
           got.n >= 20 && gzip_tool_ok(pz) != 0,
       "empty gzip output is a valid gzip file");
    bytes_free(&s);
    bytes_free(&got);
    bytes_free(&dec);
}

/* The gzip worker thread blocks signals, so that they reach the caller's
 * thread (and interrupt its reads). Linux /proc only. */
static void
test_writer_thread_signals(void)
{
    ret_writer *w = NULL;
    ret_error err;
    struct bytes s = {0};
    FILE *f;
    DIR *d;
    struct dirent *de;
    char path[300], buf[256];
    unsigned long long blk;
    int tasks = 0, blocked = 0;
    sigset_t set;

    if (access("/proc/self/task", R_OK) != 0) {
        ok(1, "# SKIP no /proc");
        return;
    }
    /* the caller's thread takes these signals (whatever we inherited) */
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    make_sample(&s, 8, 50000, 1);
    ok(ret_writer_open("/dev/null", RET_WRITE_GZIP, &w, &err) == RET_OK &&
           write_pieces(w, &s, &err),
       "gzip writer with more than a block written");
    /* read in this process: a forked reader could catch the caller
     * inside fork(), where some libraries block signals */
    if ((d = opendir("/proc/self/task")) != NULL) {
        while ((de = readdir(d)) != NULL) {
            if (de->d_name[0] == '.')
                continue;
            snprintf(path, sizeof(path), "/proc/self/task/%s/status",
                     de->d_name);
            if ((f = fopen(path, "r")) == NULL)
                continue;
            tasks++;
            while (fgets(buf, sizeof(buf), f) != NULL)
                if (sscanf(buf, "SigBlk: %llx", &blk) == 1 &&
                    (blk & 0x4003) == 0x4003) /* HUP, INT, TERM */
                    blocked++;
            fclose(f);
        }
        closedir(d);
    }
    is_int(tasks, 2, "the writer runs one worker thread");
    is_int(blocked, 1, "the worker blocks SIGHUP, SIGINT and SIGTERM");
    ok(ret_writer_commit(w, &err) == RET_OK, "commit");
    bytes_free(&s);
}

static void
test_writer_flush(void)
{
    ret_writer *w = NULL;
    ret_error err;
    struct bytes got = {0}, dec = {0}, want = {0};
    const char *p = tpath("lb.log"), *pz = tpath("lb.log.gz");
    int good = 1, i;
    char line[64];

    /* LINEBUF: each write is in the file at once */
    ok(ret_writer_open(p, RET_WRITE_LINEBUF, &w, &err) == RET_OK,
       "open line-buffered");
    for (i = 0; i < 20; i++) {
        int n = snprintf(line, sizeof(line), "line %d\n", i);

        bytes_add(&want, line, (size_t)n);
        good &= ret_writer_write(w, line, (size_t)n, &err) == RET_OK &&
                read_file(p, &got) == 0 && got.n == want.n &&
                memcmp(got.p, want.p, want.n) == 0;
    }
    ok(good, "line-buffered plain: every line is written at once");
    ok(ret_writer_commit(w, &err) == RET_OK, "commit");

    /* LINEBUF gzip: each line decodes from the file at once */
    want.n = 0;
    good = 1;
    ok(ret_writer_open(pz, RET_WRITE_GZIP | RET_WRITE_LINEBUF, &w, &err) ==
           RET_OK,
       "open line-buffered gzip");
    for (i = 0; i < 20; i++) {
        int n = snprintf(line, sizeof(line), "gz line %d\n", i);

        bytes_add(&want, line, (size_t)n);
        good &= ret_writer_write(w, line, (size_t)n, &err) == RET_OK &&
                read_file(pz, &got) == 0;
        dec.n = 0;
        gunzip_ref(got.p, got.n, &dec);
        good &= dec.n == want.n && memcmp(dec.p, want.p, want.n) == 0;
    }
    ok(good, "line-buffered gzip: every line can be decoded at once");
    ok(ret_writer_commit(w, &err) == RET_OK && gzip_tool_ok(pz) != 0,
       "commit: a complete gzip file");

    /* without LINEBUF, nothing is written before flush; all after it */
    ok(ret_writer_open(p, 0, &w, &err) == RET_OK &&
           ret_writer_write(w, "buffered\n", 9, &err) == RET_OK &&
           read_file(p, &got) == 0 && got.n == 0,
       "plain output is buffered");
    ok(ret_writer_flush(w, &err) == RET_OK && read_file(p, &got) == 0 &&
           got.n == 9,
       "ret_writer_flush writes it");
    ret_writer_free(w);
    ok(ret_writer_open(pz, RET_WRITE_GZIP, &w, &err) == RET_OK &&
           ret_writer_write(w, "buffered\n", 9, &err) == RET_OK &&
           ret_writer_flush(w, &err) == RET_OK && read_file(pz, &got) == 0,
       "gzip flush");
    dec.n = 0;
    gunzip_ref(got.p, got.n, &dec);
    ok(dec.n == 9 && memcmp(dec.p, "buffered\n", 9) == 0,
       "flushed gzip output decodes");
    ret_writer_free(w);
    bytes_free(&got);
    bytes_free(&dec);
    bytes_free(&want);
}

static void
test_writer_append_fd(void)
{
    ret_writer *w = NULL;
    ret_reader *r = NULL;
    ret_error err;
    struct bytes got = {0}, want = {0};
    const char *p = tpath("ap.log"), *pz = tpath("ap.log.gz"),
               *po = tpath("stdout.txt");
    int fds[2], saved, fd, shape;
    size_t nl;

    write_file(p, "old\n", 4);
    ok(ret_writer_open(p, RET_WRITE_APPEND, &w, &err) == RET_OK &&
           ret_writer_write(w, "new\n", 4, &err) == RET_OK &&
           ret_writer_commit(w, &err) == RET_OK && read_file(p, &got) == 0 &&
           got.n == 8 && memcmp(got.p, "old\nnew\n", 8) == 0,
       "APPEND keeps the old content");
    ok(ret_writer_open(p, 0, &w, &err) == RET_OK &&
           ret_writer_write(w, "x\n", 2, &err) == RET_OK &&
           ret_writer_commit(w, &err) == RET_OK && read_file(p, &got) == 0 &&
           got.n == 2,
       "without APPEND the file is truncated");

    bytes_add(&want, "member one\nmember two\n", 22);
    ok(ret_writer_open(pz, RET_WRITE_GZIP, &w, &err) == RET_OK &&
           ret_writer_write(w, "member one\n", 11, &err) == RET_OK &&
           ret_writer_commit(w, &err) == RET_OK &&
           ret_writer_open(pz, RET_WRITE_GZIP | RET_WRITE_APPEND, &w, &err) ==
               RET_OK &&
           ret_writer_write(w, "member two\n", 11, &err) == RET_OK &&
           ret_writer_commit(w, &err) == RET_OK,
       "gzip APPEND adds a member");
    ok(file_reads_as(pz, &want, 1) && gzip_tool_ok(pz) != 0,
       "the two-member file reads whole");

    /* "-" is standard output */
    fflush(stdout);
    saved = dup(STDOUT_FILENO);
    fd = open(po, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, STDOUT_FILENO);
    close(fd);
    if (ret_writer_open("-", RET_WRITE_GZIP, &w, &err) == RET_OK) {
        ret_writer_write(w, "to stdout\n", 10, &err);
        ret_writer_commit(w, &err);
    }
    dup2(saved, STDOUT_FILENO);
    close(saved);
    want.n = 0;
    bytes_add(&want, "to stdout\n", 10);
    ok(file_reads_as(po, &want, 1), "\"-\" writes to standard output");
    ok(fcntl(STDOUT_FILENO, F_GETFD) != -1, "standard output stays open");

    /* an fd: a pipe read back by a reader */
    if (pipe(fds) != 0)
        abort();
    ok(ret_writer_open_fd(fds[1], "pipe", 0, &w, &err) == RET_OK &&
           ret_writer_write(w, "through a pipe\n", 15, &err) == RET_OK &&
           ret_writer_commit(w, &err) == RET_OK,
       "writer on a pipe");
    ok(fcntl(fds[1], F_GETFD) != -1, "the writer does not close its fd");
    close(fds[1]);
    got.n = 0;
    ok(ret_reader_open_fd(fds[0], "pipe", &r, &err) == RET_OK &&
           read_all(r, &got, &nl, &shape, &err) == RET_EOF && got.n == 15 &&
           memcmp(got.p, "through a pipe\n", 15) == 0,
       "and the reader gets it");
    ret_reader_free(r);
    close(fds[0]);
    ok(ret_writer_open_fd(1, "x", RET_WRITE_ATOMIC, &w, &err) == RET_E_INVAL,
       "open_fd refuses ATOMIC");
    bytes_free(&got);
    bytes_free(&want);
}

/* Names in tmpdir that start with prefix. */
static int
count_prefixed(const char *prefix, char *found, size_t size)
{
    char cmd[4400];
    FILE *f;
    int n = 0;
    char buf[4200];

    snprintf(cmd, sizeof(cmd), "ls -a '%s'", tmpdir);
    f = popen(cmd, "r");
    if (f == NULL)
        return -1;
    while (fgets(buf, sizeof(buf), f) != NULL) {
        if (strncmp(buf, prefix, strlen(prefix)) == 0) {
            buf[strcspn(buf, "\n")] = 0;
            if (found != NULL)
                snprintf(found, size, "%s", buf);
            n++;
        }
    }
    pclose(f);
    return n;
}

static void
test_writer_atomic(void)
{
    ret_writer *w = NULL;
    ret_error err;
    struct bytes got = {0}, big = {0};
    const char *p = tpath("access.log");
    char tmpname[4200] = "", tmppath[4300];
    struct stat st, st2;
    mode_t old_umask;
    struct timespec ts[2] = {{1577880000, 0}, {1577880000, 0}};

    write_file(p, "old content\n", 12);
    stat(p, &st);
    ok(ret_writer_open(p, RET_WRITE_ATOMIC, &w, &err) == RET_OK &&
           ret_writer_write(w, "new content\n", 12, &err) == RET_OK &&
           ret_writer_flush(w, &err) == RET_OK,
       "atomic writer, written and flushed");
    ok(read_file(p, &got) == 0 && got.n == 12 &&
           memcmp(got.p, "old content\n", 12) == 0,
       "before commit the target is untouched");
    is_int(count_prefixed(".access.log.retention-", tmpname, sizeof(tmpname)),
           1, "one temporary file beside it: %s", tmpname);
    ok(strlen(tmpname) == strlen(".access.log.retention-XXXXXX"),
       "temporary name .access.log.retention-XXXXXX");
    is_int(count_prefixed("access.log", NULL, 0), 1,
           "the temporary file does not match access.log*");
    snprintf(tmppath, sizeof(tmppath), "%s/%s", tmpdir, tmpname);
    ok(ret_writer_commit(w, &err) == RET_OK, "commit");
    ok(read_file(p, &got) == 0 && got.n == 12 &&
           memcmp(got.p, "new content\n", 12) == 0,
       "after commit the target has the new content");
    ok(access(tmppath, F_OK) != 0, "the temporary file is gone");
    stat(p, &st2);
    ok(st.st_ino != st2.st_ino, "the target was replaced (a new inode)");

    /* free without commit leaves the old file */
    ok(ret_writer_open(p, RET_WRITE_ATOMIC | RET_WRITE_GZIP, &w, &err) ==
           RET_OK,
       "atomic gzip writer");
    make_sample(&big, 4, 30000, 1);
    write_pieces(w, &big, &err);
    ret_writer_free(w);
    ok(read_file(p, &got) == 0 && got.n == 12 &&
           memcmp(got.p, "new content\n", 12) == 0,
       "free without commit: the old file is untouched");
    is_int(count_prefixed(".access.log.retention-", NULL, 0), 0,
           "free without commit: the temporary file is removed");

    /* atomic gzip commit */
    ok(ret_writer_open(p, RET_WRITE_ATOMIC | RET_WRITE_GZIP, &w, &err) ==
               RET_OK &&
           write_pieces(w, &big, &err) && ret_writer_commit(w, &err) == RET_OK,
       "atomic gzip commit");
    ok(file_reads_as(p, &big, 1), "atomic gzip output reads back");

    /* modes: without KEEP_META 0644 less the umask */
    old_umask = umask(027);
    chmod(p, 0600);
    ok(ret_writer_open(p, RET_WRITE_ATOMIC, &w, &err) == RET_OK &&
           ret_writer_commit(w, &err) == RET_OK && stat(p, &st) == 0,
       "atomic replace without KEEP_META");
    is_int(st.st_mode & 07777, 0640, "mode is 0644 less the umask");
    unlink(p);
    ok(ret_writer_open(p, RET_WRITE_ATOMIC | RET_WRITE_KEEP_META, &w, &err) ==
               RET_OK &&
           ret_writer_commit(w, &err) == RET_OK && stat(p, &st) == 0,
       "KEEP_META without an old file");
    is_int(st.st_mode & 07777, 0640, "a new file: 0644 less the umask");
    umask(old_umask);

    /* KEEP_META keeps the mode (and the owner, as root) */
    chmod(p, 0604);
    if (geteuid() == 0 && chown(p, 1234, 5678) != 0)
        diag("chown failed: %s", strerror(errno));
    stat(p, &st);
    ok(ret_writer_open(p, RET_WRITE_ATOMIC | RET_WRITE_KEEP_META, &w, &err) ==
           RET_OK,
       "open KEEP_META");
    if (count_prefixed(".access.log.retention-", tmpname, sizeof(tmpname)) ==
        1) {
        snprintf(tmppath, sizeof(tmppath), "%s/%s", tmpdir, tmpname);
        stat(tmppath, &st2);
    } else {
        memset(&st2, 0, sizeof(st2));
    }
    is_int(st2.st_mode & 07777, 0604,
           "the temporary file has the old mode from the start");
    ok(ret_writer_write(w, "meta\n", 5, &err) == RET_OK &&
           ret_writer_commit(w, &err) == RET_OK && stat(p, &st2) == 0,
       "commit KEEP_META");
    is_int(st2.st_mode & 07777, 0604, "KEEP_META keeps the mode");
    ok(st2.st_uid == st.st_uid && st2.st_gid == st.st_gid,
       "KEEP_META keeps the owner %lu:%lu", (unsigned long)st.st_uid,
       (unsigned long)st.st_gid);
    if (geteuid() == 0)
        ok(st2.st_uid == 1234 && st2.st_gid == 5678,
           "KEEP_META keeps another user's owner (as root)");

    /* KEEP_MTIME */
    utimensat(AT_FDCWD, p, ts, 0);
    ok(ret_writer_open(p, RET_WRITE_ATOMIC | RET_WRITE_KEEP_MTIME, &w, &err) ==
               RET_OK &&
           ret_writer_write(w, "mtime\n", 6, &err) == RET_OK &&
           ret_writer_commit(w, &err) == RET_OK && stat(p, &st) == 0,
       "commit KEEP_MTIME");
    is_int(st.st_mtim.tv_sec, 1577880000, "KEEP_MTIME keeps the old mtime");
    ok(ret_writer_open(p, RET_WRITE_ATOMIC, &w, &err) == RET_OK &&
           ret_writer_commit(w, &err) == RET_OK && stat(p, &st) == 0 &&
           st.st_mtim.tv_sec > 1577880000 + 86400,
       "without KEEP_MTIME the mtime is new");

    /* a new file */
    ok(ret_writer_open(tpath("fresh.log"), RET_WRITE_ATOMIC, &w, &err) ==
               RET_OK &&
           ret_writer_write(w, "fresh\n", 6, &err) == RET_OK &&
           ret_writer_commit(w, &err) == RET_OK &&
           read_file(tpath("fresh.log"), &got) == 0 && got.n == 6,
       "atomic writer creates a new file");
    bytes_free(&got);
    bytes_free(&big);
}

/* Temporary files are locked while written, so that the cleaner of
 * killed runs' temporary files (ret__safe_clean_temps, run by prune)
 * removes only those. */
static void
test_writer_stale_temps(void)
{
    ret_writer *w = NULL;
    ret_error err;
    const char *p = tpath("crash.log");
    char name[4200] = "", path[4300];
    int fd, dirfd, status;
    pid_t pid;

    write_file(p, "old\n", 4);
    dirfd = open(tmpdir, O_RDONLY | O_DIRECTORY);
    ok(ret_writer_open(p, RET_WRITE_ATOMIC, &w, &err) == RET_OK &&
           ret_writer_write(w, "new\n", 4, &err) == RET_OK,
       "a live atomic writer");
    is_int(count_prefixed(".crash.log.retention-", name, sizeof(name)), 1,
           "its temporary file %s", name);
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    fd = open(path, O_RDONLY);
    ok(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK,
       "is locked while it is written");
    if (fd >= 0)
        close(fd);
    ret__safe_clean_temps(dirfd, "crash.log");
    ok(access(path, F_OK) == 0, "the cleaner leaves it alone");
    ok(ret_writer_commit(w, &err) == RET_OK, "and the commit succeeds");

    pid = fork();
    if (pid == 0) {
        if (ret_writer_open(p, RET_WRITE_ATOMIC, &w, NULL) != RET_OK ||
            ret_writer_write(w, "never\n", 6, NULL) != RET_OK ||
            ret_writer_flush(w, NULL) != RET_OK)
            _exit(1);
        _exit(0); /* killed: no commit, no free */
    }
    waitpid(pid, &status, 0);
    is_int(count_prefixed(".crash.log.retention-", NULL, 0), 1,
           "a killed writer leaves its temporary file");
    ret__safe_clean_temps(dirfd, "crash.log");
    is_int(count_prefixed(".crash.log.retention-", NULL, 0), 0,
           "the cleaner of killed runs removes it");
    ok(roundtrip_file(p, (const unsigned char *)"new\n", 4, 64, 0),
       "the target keeps the committed content");
    close(dirfd);
}

static void
test_writer_errors(void)
{
    ret_writer *w = NULL;
    ret_error err;
    const char *p = tpath("target.log"), *l = tpath("link.log"),
               *h = tpath("hard.log"), *bad = tpath("no/such/dir/x.log");
    ret_status st;
    int i;

    write_file(p, "target\n", 7);
    if (symlink(p, l) != 0 || link(p, h) != 0)
        diag("link: %s", strerror(errno));
    memset(&err, 0, sizeof(err));
    is_int(ret_writer_open(l, RET_WRITE_ATOMIC, &w, &err), RET_E_UNSAFE,
           "atomic replace of a symlink is refused");
    ok(strstr(err.message, l) != NULL, "message: %s", err.message);
    is_int(ret_writer_open(h, RET_WRITE_ATOMIC, &w, &err), RET_E_UNSAFE,
           "atomic replace of a hard-linked file is refused");
    ok(strstr(err.message, "hard link") != NULL, "message: %s", err.message);
    unlink(h);
    unlink(l);

    is_int(ret_writer_open(bad, RET_WRITE_ATOMIC, &w, &err), RET_E_NOTFOUND,
           "atomic writer in a missing directory");
    ok(strstr(err.message, "no/such/dir") != NULL &&
           strstr(err.message, strerror(ENOENT)) != NULL,
       "message names the path and errno text: %s", err.message);
    ok(w == NULL, "out not written on failure");
    is_int(ret_writer_open(bad, 0, &w, &err), RET_E_NOTFOUND,
           "plain writer in a missing directory");
    is_int(ret_writer_open(p, RET_WRITE_ATOMIC | RET_WRITE_APPEND, &w, &err),
           RET_E_INVAL, "ATOMIC with APPEND is refused");
    is_int(ret_writer_open("-", RET_WRITE_ATOMIC, &w, &err), RET_E_INVAL,
           "ATOMIC on standard output is refused");
    is_int(ret_writer_open(p, RET_WRITE_KEEP_MTIME, &w, &err), RET_E_INVAL,
           "KEEP_MTIME without ATOMIC is refused");
    is_int(ret_writer_open(p, 0x1000, &w, &err), RET_E_INVAL,
           "unknown flags are refused");

    /* a full disk */
    if (access("/dev/full", W_OK) == 0) {
        ok(ret_writer_open("/dev/full", 0, &w, &err) == RET_OK,
           "open /dev/full");
        st = RET_OK;
        for (i = 0; i < 100 && st == RET_OK; i++)
            st = ret_writer_write(w, "0123456789abcdef0123456789abcdef\n", 33,
                                  &err);
        if (st == RET_OK)
            st = ret_writer_commit(w, &err);
        else
            ret_writer_free(w);
        is_int(st, RET_E_IO, "writing to a full disk fails with RET_E_IO");
        ok(strstr(err.message, "/dev/full") != NULL &&
               strstr(err.message, strerror(ENOSPC)) != NULL,
           "message: %s", err.message);
        ok(ret_writer_open("/dev/full", RET_WRITE_GZIP, &w, &err) == RET_OK,
           "gzip to /dev/full");
        st = ret_writer_write(w, "x\n", 2, &err);
        if (st == RET_OK)
            st = ret_writer_commit(w, &err);
        else
            ret_writer_free(w);
        is_int(st, RET_E_IO, "gzip commit to a full disk fails");
        ok(ret_writer_open("/dev/full", 0, &w, &err) == RET_OK &&
               ret_writer_write(w, "x\n", 2, &err) == RET_OK &&
               ret_writer_flush(w, &err) == RET_E_IO &&
               ret_writer_write(w, "y\n", 2, &err) == RET_E_IO,
           "a failed writer stays failed");
        ret_writer_free(w);
    } else {
        ok(1, "# SKIP no /dev/full");
    }
    ret_writer_free(NULL);
}

/* ---- main ------------------------------------------------------------ */

static void
cleanup(void)
{
    char cmd[4200];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        diag("could not remove %s", tmpdir);
}

/* Runs of whole lines (ret__reader_next_run): together the input, each
 * ending in a newline but the input's last, from memory, plain and gzip
 * files, truncated gzip. */
static int
runs_ok(ret_reader *r, const unsigned char *want, size_t want_n,
        ret_status want_end)
{
    struct bytes got = {0};
    const char *p;
    size_t n, runs = 0;
    ret_status st;
    int good = 1;

    while ((st = ret__reader_next_run(r, &p, &n, NULL)) == RET_OK) {
        good &= n > 0;
        bytes_add(&got, p, n);
        if (p[n - 1] != '\n')
            good &= got.n == want_n; /* only the last may lack it */
        runs++;
    }
    good &= st == want_end && got.n == want_n &&
            (want_n == 0 || memcmp(got.p, want, want_n) == 0) &&
            ret_reader_offset(r) == want_n;
    ret__reader_add_lines(r, count_lines(want, want_n));
    good &= ret_reader_line_number(r) == count_lines(want, want_n);
    bytes_free(&got);
    return good && (want_n == 0 || runs > 0);
}

static void
test_runs(void)
{
    static const size_t sizes[] = {16, 17, 100, 4096, 256 * 1024};
    struct bytes s = {0}, gz = {0}, cut = {0};
    char path[4200];
    size_t i;
    int good = 1, fd;
    ret_reader *r;

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        int final_nl;

        for (final_nl = 0; final_nl < 2; final_nl++) {
            s.n = 0;
            gz.n = 0;
            make_sample(&s, 9 + (unsigned)i, 500, final_nl);
            r = NULL;
            good &= ret__reader_open_mem_size(s.p, s.n, "m", sizes[i], &r,
                                              NULL) == RET_OK &&
                    runs_ok(r, s.p, s.n, RET_EOF);
            ret_reader_free(r);
            gz_member(&gz, s.p, s.n, 6);
            snprintf(path, sizeof(path), "%s/runs.gz", tmpdir);
            write_file(path, gz.p, gz.n);
            r = NULL;
            fd = open(path, O_RDONLY);
            good &= fd >= 0 &&
                    ret__reader_open_fd_size(fd, path, sizes[i], &r, NULL) ==
                        RET_OK &&
                    runs_ok(r, s.p, s.n, RET_EOF);
            ret_reader_free(r);
            if (fd >= 0)
                close(fd);
        }
    }
    ok(good, "runs of whole lines give back the input (memory, gzip file)");

    /* the same, each run handed over with its buffer: plain and gzip
     * files, a buffer given back each time */
    good = 1;
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        int gzipped;

        s.n = 0;
        gz.n = 0;
        make_sample(&s, 21 + (unsigned)i, 700, (int)(i % 2));
        gz_member(&gz, s.p, s.n, 1);
        for (gzipped = 0; gzipped < 2; gzipped++) {
            struct bytes got = {0};
            char *mine = NULL;
            size_t cap = 0, off, n, bs;
            ret_status st;

            snprintf(path, sizeof(path), "%s/swap%d", tmpdir, gzipped);
            write_file(path, gzipped ? gz.p : s.p, gzipped ? gz.n : s.n);
            r = NULL;
            fd = open(path, O_RDONLY);
            if (fd < 0 ||
                ret__reader_open_fd_size(fd, path, sizes[i], &r, NULL) !=
                    RET_OK) {
                good = 0;
                if (fd >= 0)
                    close(fd);
                continue;
            }
            good &= ret__reader_can_swap(r, &bs) && bs == sizes[i];
            while ((st = ret__reader_swap_run(r, &mine, &cap, &off, &n,
                                              NULL)) == RET_OK) {
                good &= n > 0 && off + n <= cap;
                bytes_add(&got, mine + off, n);
                memset(mine, 'x', cap); /* ours now: the reader keeps off */
            }
            good &= st == RET_EOF && got.n == s.n &&
                    memcmp(got.p, s.p, s.n) == 0 &&
                    ret_reader_offset(r) == s.n;
            ret_reader_free(r);
            close(fd);
            free(mine);
            bytes_free(&got);
        }
    }
    ok(good, "runs handed over with their buffers give back the input");
    r = NULL;
    good = ret__reader_open_mem_size("a\n", 2, "m", 16, &r, NULL) == RET_OK;
    {
        size_t bs;

        ok(good && !ret__reader_can_swap(r, &bs),
           "a plain memory input keeps its bytes where they are");
    }
    ret_reader_free(r);
    r = NULL;
    good = ret__reader_open_mem_size("", 0, "m", 16, &r, NULL) == RET_OK &&
           runs_ok(r, (const unsigned char *)"", 0, RET_EOF);
    ret_reader_free(r);
    ok(good, "no run from empty input");
    /* a truncated member: the lines decoded before the damage, then the
     * error */
    {
        const char *p;
        size_t n;
        ret_status st;

        snprintf(path, sizeof(path), "%s/runs-cut.gz", tmpdir);
        write_file(path, gz.p, gz.n / 2);
        fd = open(path, O_RDONLY);
        r = NULL;
        st = RET_E_INVAL;
        if (fd >= 0 && ret__reader_open_fd_size(fd, path, 4096, &r, NULL) ==
                           RET_OK)
            while ((st = ret__reader_next_run(r, &p, &n, NULL)) == RET_OK)
                bytes_add(&cut, p, n);
        ok(st == RET_E_GZIP && cut.n > 0 && cut.n <= s.n &&
               memcmp(cut.p, s.p, cut.n) == 0,
           "truncated gzip: %zu bytes of runs as decoded, then RET_E_GZIP",
           cut.n);
        ret_reader_free(r);
        if (fd >= 0)
            close(fd);
    }
    bytes_free(&s);
    bytes_free(&gz);
    bytes_free(&cut);
}

int
main(void)
{
    const char *t = getenv("TMPDIR");

    snprintf(tmpdir, sizeof(tmpdir), "%s/io-t.XXXXXX", t ? t : "/tmp");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_plain_mem();
    test_boundaries();
    test_gzip_files();
    test_magic_not_name();
    test_long_lines();
    test_damaged_gzip();
    test_pipes();
    test_nonblocking();
    test_open_errors();
    test_runs();
    test_writer_plain_gzip();
    test_writer_thread_signals();
    test_writer_flush();
    test_writer_append_fd();
    test_writer_atomic();
    test_writer_stale_temps();
    test_writer_errors();
    cleanup();
    return done_testing();
}
