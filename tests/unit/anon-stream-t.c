/*
 * anon-stream-t.c - ret_anonymize_stream() against the per-line loop it
 * replaces: for 1, 2, 3 and 8 threads and blocks of 1, 100 and 4096
 * bytes (and the default), the output, the unparsed line numbers and
 * the counts must be those of the loop, on generated logs of every kind
 * (combined with IPv4, IPv6 and X-Forwarded-For, JSON lines, W3C with
 * changing #Fields, auto-detected formats, anonip columns and regex,
 * garbage, NUL bytes, CRLF, a long line, no final newline, empty input).
 * Then: between() stopping at a block boundary, the memory bound, and
 * errors of the reader, the writer, the callback and a worker.
 *
 * A worker's out-of-memory is provoked with a realloc that fails for
 * large sizes in threads other than the main one (linked with
 * -Wl,--wrap=realloc, see mk/anonymize.am).
 */
#include "internal.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "../tap.h"

/* ---- a realloc that fails on request, in worker threads only ---- */

void *__real_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n);

static pthread_t main_thread;
static size_t fail_from; /* 0: never; set while no worker runs */

void *
__wrap_realloc(void *p, size_t n)
{
    if (fail_from > 0 && n >= fail_from &&
        !pthread_equal(pthread_self(), main_thread))
        return NULL;
    return __real_realloc(p, n);
}

/* ---- growing byte buffers ---- */

struct buf {
    char *p;
    size_t n, cap;
};

static void
buf_add(struct buf *b, const void *d, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 4096;

        while (nc < b->n + n + 1)
            nc *= 2;
        if ((b->p = realloc(b->p, nc)) == NULL)
            abort();
        b->cap = nc;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
buf_printf(struct buf *b, const char *fmt, ...)
{
    char tmp[2048];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp))
        abort();
    buf_add(b, tmp, (size_t)n);
}

/* ---- generated inputs ---- */

static uint64_t rng = 88172645463325252ull;

static unsigned
rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static void
put_addr(struct buf *b)
{
    switch (rnd(4)) {
    case 0:
        buf_printf(b, "2001:db8:%x:%x::%x", rnd(65536), rnd(65536),
                   rnd(65536));
        break;
    case 1:
        buf_printf(b, "::ffff:198.51.%u.%u", rnd(256), rnd(256));
        break;
    default:
        buf_printf(b, "%u.%u.%u.%u", 1 + rnd(223), rnd(256), rnd(256),
                   rnd(256));
    }
}

/* Odd lines: garbage with addresses, NUL bytes, CR, blanks, a long one. */
static bool
put_odd(struct buf *b, unsigned i, bool longline)
{
    switch (rnd(40)) {
    case 0:
        buf_printf(b, "garbage %u from ", i);
        put_addr(b);
        buf_add(b, "\n", 1);
        return true;
    case 1:
        buf_add(b, "nul\0byte 192.0.2.77\0 x\n", 23);
        return true;
    case 2:
        buf_add(b, "\n", 1);
        return true;
    case 3:
        buf_add(b, "# a comment 203.0.113.5\n", 24);
        return true;
    case 4:
        if (!longline)
            return false;
        put_addr(b);
        buf_add(b, " - - [01/Dec/2026:10:00:00 +0000] \"GET /", 40);
        for (unsigned k = 0; k < 20000; k++)
            buf_add(b, "long/path", 9);
        buf_add(b, " HTTP/1.1\" 200 5 \"-\" \"a\"\n", 25);
        return true;
    default:
        return false;
    }
}

/* Combined lines (a trailing X-Forwarded-For field with xff). */
static void
gen_combined(struct buf *b, unsigned n, bool xff, bool odd, bool crlf)
{
    for (unsigned i = 0; i < n; i++) {
        if (odd && put_odd(b, i, i > n / 2))
            continue;
        put_addr(b);
        buf_printf(b, " - - [01/Dec/2026:10:%02u:%02u +0000] \"GET /p/%u?q=%u "
                      "HTTP/1.1\" %u %u \"https://example.org/\" "
                      "\"Mozilla/5.0 (X11) t/%u\"",
                   i / 60 % 60, i % 60, i, rnd(1000), 200 + rnd(5) * 50,
                   rnd(100000), i);
        if (xff) {
            buf_add(b, " \"", 2);
            put_addr(b);
            buf_add(b, ", ", 2);
            put_addr(b);
            buf_add(b, "\"", 1);
        }
        buf_add(b, crlf && i % 3 == 0 ? "\r\n" : "\n", crlf && i % 3 == 0 ? 2 : 1);
    }
}

static void
gen_json(struct buf *b, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (put_odd(b, i, false))
            continue;
        buf_printf(b, "{\"time\":\"2026-12-01T10:%02u:%02uZ\",\"remote_addr\":\"",
                   i / 60 % 60, i % 60);
        put_addr(b);
        buf_printf(b, "\",\"request\":\"GET /j/%u HTTP/1.1\",\"status\":200,"
                      "\"body_bytes_sent\":%u,\"http_x_forwarded_for\":\"",
                   i, rnd(9999));
        put_addr(b);
        buf_add(b, "\"}\n", 3);
    }
}

/* W3C whose #Fields change in the middle, and back at three quarters
 * (a directive after blanks): a parser of state. */
static void
gen_w3c(struct buf *b, unsigned n)
{
    buf_add(b, "#Software: test\n#Version: 1.0\n", 30);
    buf_add(b, "#Fields: date time c-ip cs-method cs-uri-stem sc-status\n", 56);
    for (unsigned i = 0; i < n; i++) {
        if (i == n / 2)
            buf_add(b, "#Fields: date time cs-method cs-uri-stem c-ip "
                       "sc-status s-ip\n", 61);
        if (i == 3 * n / 4)
            buf_add(b, " \t#Fields: date time c-ip cs-method cs-uri-stem "
                       "sc-status\n", 58);
        if (put_odd(b, i, false))
            continue;
        buf_printf(b, "2026-12-01 10:%02u:%02u ", i / 60 % 60, i % 60);
        if (i < n / 2 || i >= 3 * n / 4) {
            put_addr(b);
            buf_printf(b, " GET /w/%u 200\n", i);
        } else {
            buf_printf(b, "GET /w/%u ", i);
            put_addr(b);
            buf_add(b, " 200 ", 5);
            put_addr(b);
            buf_add(b, "\n", 1);
        }
    }
}

/* ---- configurations ---- */

struct conf {
    const char *name;
    const char *format; /* NULL: anonip columns or regex */
    const char *regex;
    unsigned cols[4];
    size_t ncols;
    ret_anon_method method;
    bool scan_all;
};

static const unsigned char key[16] = "0123456789abcdef";

static ret_anonymizer *
make_anon(const struct conf *c)
{
    ret_anonymizer *a;

    if (ret_anonymizer_new(&a, NULL) != RET_OK)
        abort();
    ret_anonymizer_set_method(a, c->method, NULL);
    ret_anonymizer_set_key(a, key, NULL);
    ret_anonymizer_set_scan_all(a, c->scan_all);
    if (c->regex != NULL && ret_anonymizer_set_regex(a, c->regex, NULL) != RET_OK)
        abort();
    if (c->ncols > 0 &&
        ret_anonymizer_set_columns(a, c->cols, c->ncols, " ", NULL) != RET_OK)
        abort();
    return a;
}

/* ---- one run ---- */

struct result {
    struct buf out;
    uint64_t bad[20000];
    size_t nbad;
    bool bad_overflow;
    ret_anon_counts counts;
    ret_status st;
    char msg[512];
    size_t rbuf; /* > 0: read from a file with a buffer this large */
    /* callbacks */
    ret_reader *rd;
    unsigned calls, stop_at, fail_at;
    uint64_t last_raw, stop_read;
    bool raw_backwards;
    uint64_t max_ahead; /* reader offset - raw offset of what is written */
};

static void
on_unparsed(void *ctx, uint64_t line)
{
    struct result *r = ctx;

    if (r->nbad < sizeof(r->bad) / sizeof(r->bad[0]))
        r->bad[r->nbad++] = line;
    else
        r->bad_overflow = true;
}

static void
on_progress(void *ctx, uint64_t raw)
{
    struct result *r = ctx;
    uint64_t at = ret_reader_raw_offset(r->rd);

    if (raw < r->last_raw)
        r->raw_backwards = true;
    r->last_raw = raw;
    if (at - raw > r->max_ahead)
        r->max_ahead = at - raw;
}

static ret_status
on_between(void *ctx, ret_writer **w, ret_error *err)
{
    struct result *r = ctx;

    (void)w;
    r->calls++;
    if (r->fail_at > 0 && r->calls == r->fail_at)
        return ret__fail(err, RET_E_IO, "reopen x.log: test failure");
    if (r->stop_at > 0 && r->calls == r->stop_at) {
        r->stop_read = ret_reader_offset(r->rd);
        return RET_EOF;
    }
    return RET_OK;
}

static int
tmpfile_fd(void)
{
    char path[] = "/tmp/anon-stream-t-XXXXXX";
    int fd = mkstemp(path);

    if (fd < 0)
        abort();
    unlink(path);
    return fd;
}

static void
slurp(int fd, struct buf *b)
{
    char tmp[65536];
    ssize_t n;

    lseek(fd, 0, SEEK_SET);
    while ((n = read(fd, tmp, sizeof(tmp))) > 0)
        buf_add(b, tmp, (size_t)n);
    close(fd);
}

/*
 * threads < 0: the per-line loop as retention anonymize wrote it
 * (the reference); else ret_anonymize_stream. out_fd < 0: a temporary
 * file.
 */
static void
run(const struct conf *c, const void *in, size_t n, int threads, size_t block,
    struct result *r, int out_fd)
{
    ret_format *f = NULL;
    ret_parser *p = NULL;
    ret_anonymizer *a = make_anon(c);
    ret_writer *w;
    ret_error err;
    int fd = out_fd >= 0 ? out_fd : tmpfile_fd(), in_fd = -1;

    memset(&err, 0, sizeof(err));
    if (c->format != NULL &&
        (ret_format_compile(c->format, &f, NULL) != RET_OK ||
         ret_parser_new(f, &p, NULL) != RET_OK))
        abort();
    ret_parser_set_scope(p, RET_PARSE_ADDRESSES);
    if (r->rbuf > 0) {
        /* a file: the reader's runs of lines are at most rbuf bytes */
        in_fd = tmpfile_fd();
        if (write(in_fd, in, n) != (ssize_t)n ||
            lseek(in_fd, 0, SEEK_SET) != 0 ||
            ret__reader_open_fd_size(in_fd, "in.log", r->rbuf, &r->rd,
                                     NULL) != RET_OK)
            abort();
    } else if (ret_reader_open_mem(in, n, "in.log", &r->rd, NULL) != RET_OK) {
        abort(); /* plain memory: one run of every line */
    }
    if (ret_writer_open_fd(fd, "out", 0, &w, NULL) != RET_OK)
        abort();
    if (threads < 0) {
        const char *line, *out;
        size_t len, outlen;
        uint64_t seen = 0;

        for (;;) {
            const ret_record *rec = NULL;
            ret_anon_counts cn;

            if ((r->st = ret_reader_next(r->rd, &line, &len, &err)) != RET_OK)
                break;
            if (p != NULL) {
                ret_status ps = ret_parser_parse(p, line, len, &rec, NULL);

                if (ps != RET_OK) {
                    rec = NULL;
                    if (ps == RET_E_PARSE)
                        on_unparsed(r, ret_reader_line_number(r->rd));
                }
            }
            if ((r->st = ret_anonymizer_line(a, rec, line, len, &out,
                                             &outlen, &err)) != RET_OK)
                break;
            ret_anonymizer_counts(a, &cn);
            if (p == NULL && cn.failclosed != seen) {
                seen = cn.failclosed;
                on_unparsed(r, ret_reader_line_number(r->rd));
            }
            if ((r->st = ret_writer_write(w, out, outlen, &err)) != RET_OK)
                break;
            if (r->stop_at > 0 && ++r->calls == r->stop_at) {
                r->st = RET_EOF;
                break;
            }
        }
        if (r->st == RET_EOF)
            r->st = RET_OK;
    } else {
        ret_anon_stream_opts o;

        memset(&o, 0, sizeof(o));
        o.threads = (unsigned)threads;
        o.block_size = block;
        o.ctx = r;
        o.unparsed = on_unparsed;
        o.progress = on_progress;
        o.between = on_between;
        r->st = ret_anonymize_stream(a, p, r->rd, &w, &o, &err);
    }
    if (r->st != RET_OK)
        memcpy(r->msg, err.message, sizeof(r->msg));
    if (ret_writer_commit(w, NULL) != RET_OK && r->st == RET_OK)
        r->st = RET_E_IO;
    ret_anonymizer_counts(a, &r->counts);
    if (out_fd < 0)
        slurp(fd, &r->out);
    ret_reader_free(r->rd);
    r->rd = NULL;
    if (in_fd >= 0)
        close(in_fd);
    ret_parser_free(p);
    ret_format_free(f);
    ret_anonymizer_free(a);
}

static struct result *
result_new(void)
{
    struct result *r = calloc(1, sizeof(*r));

    if (r == NULL)
        abort();
    return r;
}

static void
result_free(struct result *r)
{
    if (r != NULL)
        free(r->out.p);
    free(r);
}

/* got holds exactly the bytes of want (memcmp takes no NULL). */
static bool
same_out(const struct buf *got, const struct buf *want)
{
    return got->n == want->n &&
           (want->n == 0 || memcmp(got->p, want->p, want->n) == 0);
}

static bool
same_counts(const ret_anon_counts *x, const ret_anon_counts *y)
{
    return x->lines == y->lines && x->addresses == y->addresses &&
           x->hostnames == y->hostnames && x->replaced == y->replaced &&
           x->failclosed == y->failclosed;
}

static bool
same_bad(const struct result *x, const struct result *y)
{
    return x->nbad == y->nbad && !x->bad_overflow && !y->bad_overflow &&
           (x->nbad == 0 ||
            memcmp(x->bad, y->bad, x->nbad * sizeof(x->bad[0])) == 0);
}

/* Every thread count and block size against the loop. */
static void
check_all(const char *what, const struct conf *c, const struct buf *in)
{
    static const int threads[] = {1, 2, 3, 8};
    static const size_t blocks[] = {1, 100, 4096, 0};
    struct result *ref = result_new();
    size_t longest = 0, len = 0;

    for (size_t i = 0; i < in->n; i++) {
        len++;
        if (in->p[i] == '\n' || i + 1 == in->n) {
            if (len > longest)
                longest = len;
            len = 0;
        }
    }
    run(c, in->p, in->n, -1, 0, ref, -1);
    ok(ref->st == RET_OK && (ref->counts.lines > 0) == (in->n > 0),
       "%s (%s): the loop ran (%" PRIu64 " lines, %zu unparsed)", what,
       c->name, ref->counts.lines, ref->nbad);
    for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++)
        for (size_t k = 0; k < sizeof(blocks) / sizeof(blocks[0]); k++) {
            struct result *got = result_new();
            size_t bs = blocks[k] ? blocks[k] : 512 * 1024;
            bool good;

            /* memory (one run), or a file read 64 or 4096 bytes at once */
            got->rbuf = threads[t] == 3 ? 64 : threads[t] == 8 ? 4096 : 0;
            run(c, in->p, in->n, threads[t], blocks[k], got, -1);
            good = got->st == RET_OK && same_out(&got->out, &ref->out);
            ok(good, "%s (%s), %d threads, block %zu: same output", what,
               c->name, threads[t], blocks[k]);
            if (!good)
                diag("status %d (%s), %zu bytes instead of %zu", got->st,
                     got->msg, got->out.n, ref->out.n);
            ok(same_bad(got, ref),
               "%s (%s), %d threads, block %zu: same unparsed lines (%zu)",
               what, c->name, threads[t], blocks[k], got->nbad);
            ok(same_counts(&got->counts, &ref->counts),
               "%s (%s), %d threads, block %zu: same counts", what, c->name,
               threads[t], blocks[k]);
            /* the ring (and the reader's run in hand) bound how far the
             * reader runs ahead */
            ok(!got->raw_backwards &&
                   got->max_ahead <=
                       (2 * (uint64_t)threads[t] + 3) * (bs + longest) +
                           got->rbuf,
               "%s (%s), %d threads, block %zu: progress in order, reader "
               "at most %" PRIu64 " bytes ahead",
               what, c->name, threads[t], blocks[k], got->max_ahead);
            result_free(got);
        }
    result_free(ref);
}

/* Lines in the first n bytes of s. */
static uint64_t
count_lines(const char *s, size_t n)
{
    uint64_t k = 0;

    for (size_t i = 0; i < n; i++)
        k += s[i] == '\n';
    return k;
}

static void
gzip_mem(const struct buf *in, struct buf *out)
{
    z_stream z;
    unsigned char tmp[65536];
    int zr;

    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        abort();
    z.next_in = (unsigned char *)in->p;
    z.avail_in = (uInt)in->n;
    do {
        z.next_out = tmp;
        z.avail_out = sizeof(tmp);
        zr = deflate(&z, Z_FINISH);
        buf_add(out, tmp, sizeof(tmp) - z.avail_out);
    } while (zr == Z_OK);
    deflateEnd(&z);
}

int
main(void)
{
    static const struct conf combined = {"combined", "combined", NULL, {0}, 0,
                                         RET_ANON_TRUNCATE, false};
    static const struct conf xff = {
        "XFF LogFormat",
        "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\" "
        "\"%{X-Forwarded-For}i\"",
        NULL, {0}, 0, RET_ANON_HASH, false};
    static const struct conf autof = {"auto", "auto", NULL, {0}, 0,
                                      RET_ANON_TRUNCATE, false};
    static const struct conf autoscan = {"auto, scan-all", "auto", NULL, {0},
                                         0, RET_ANON_ZERO, true};
    static const struct conf json = {"json", "json", NULL, {0}, 0,
                                     RET_ANON_TRUNCATE, false};
    static const struct conf w3c = {"w3c", "w3c", NULL, {0}, 0,
                                    RET_ANON_TRUNCATE, false};
    static const struct conf cols = {"anonip columns 1 10", NULL, NULL,
                                     {1, 10}, 2, RET_ANON_TRUNCATE, false};
    static const struct conf regex = {"anonip regex", NULL,
                                      "^(\\S+) .* \"([^\"]*)\"$", {0}, 0,
                                      RET_ANON_TRUNCATE, false};
    struct buf b = {0}, gz = {0};
    struct result *ref, *got;

    main_thread = pthread_self();
    signal(SIGPIPE, SIG_IGN);

    /* ---- the same as the loop ---- */
    gen_combined(&b, 2500, false, true, false);
    check_all("combined, odd lines", &combined, &b);
    check_all("combined, odd lines", &autof, &b);
    check_all("combined, odd lines", &cols, &b);
    free(b.p);
    memset(&b, 0, sizeof(b));
    gen_combined(&b, 2000, true, true, true);
    b.n--; /* no final newline */
    check_all("XFF, CRLF, no final newline", &xff, &b);
    check_all("XFF, CRLF, no final newline", &autoscan, &b);
    check_all("XFF, CRLF, no final newline", &regex, &b);
    free(b.p);
    memset(&b, 0, sizeof(b));
    /* the combined preset, whose parser finds where most lines end in
     * its walk of their quotes: a '\n' anywhere in a line ends it */
    gen_combined(&b, 3000, false, true, true);
    for (unsigned i = 0; i < 400; i++)
        b.p[rnd((unsigned)b.n)] = i % 4 == 0 ? '\r' : '\n';
    b.n--; /* no final newline */
    check_all("combined, CRLF, newlines inside the fields", &combined, &b);
    check_all("combined, CRLF, newlines inside the fields", &autof, &b);
    free(b.p);
    memset(&b, 0, sizeof(b));
    gen_json(&b, 2000);
    check_all("JSON lines", &json, &b);
    check_all("JSON lines", &autof, &b);
    free(b.p);
    memset(&b, 0, sizeof(b));
    gen_w3c(&b, 1500);
    check_all("W3C, #Fields changed twice", &w3c, &b);
    check_all("W3C, two #Fields", &autof, &b);
    free(b.p);
    memset(&b, 0, sizeof(b));
    check_all("empty input", &autof, &b);
    check_all("empty input", &cols, &b);
    buf_add(&b, "no newline 192.0.2.1", 20);
    check_all("one line", &autof, &b);
    free(b.p);
    memset(&b, 0, sizeof(b));
    for (unsigned i = 0; i < 500; i++)
        buf_printf(&b, "%u garbage 10.%u.0.1 \x01\xff\n", i, i % 256);
    check_all("garbage only", &autof, &b);
    free(b.p);
    memset(&b, 0, sizeof(b));

    /* ---- between() says stop: everything read so far is written ---- */
    gen_combined(&b, 5000, false, false, false);
    {
        static const struct {
            const struct conf *c;
            int threads;
            unsigned at;
        } stops[] = {{&autof, 1, 5}, {&cols, 3, 5}, {&autof, 3, 60},
                     {&cols, 8, 2}};

        for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++) {
            int t = stops[i].threads;
            uint64_t m;

            ref = result_new();
            run(stops[i].c, b.p, b.n, -1, 0, ref, -1);
            got = result_new();
            got->stop_at = stops[i].at;
            got->rbuf = 16384;
            run(stops[i].c, b.p, b.n, t, 4096, got, -1);
            m = count_lines(got->out.p, got->out.n);
            is_int(got->st, RET_OK, "stop at call %u, %d threads: RET_OK",
                   stops[i].at, t);
            ok(got->out.n < ref->out.n && got->out.n > 0 &&
                   memcmp(got->out.p, ref->out.p, got->out.n) == 0 &&
                   got->out.p[got->out.n - 1] == '\n',
               "stop at call %u, %d threads: whole lines, the loop's first "
               "%" PRIu64,
               stops[i].at, t, m);
            if (t == 1)
                is_int(m, stops[i].at, "stop, 1 thread: after line %u",
                       stops[i].at);
            else
                is_int(m, count_lines(b.p, got->stop_read),
                       "stop at call %u, %d threads: every line read is "
                       "written, no more",
                       stops[i].at, t);
            ok((t == 1 ? m == stops[i].at : m > stops[i].at) && m < 5000,
               "stop at call %u, %d threads: at a line or block boundary",
               stops[i].at, t);
            is_int(got->counts.lines, m,
                   "stop at call %u, %d threads: counts of the lines written",
                   stops[i].at, t);
            result_free(got);
            result_free(ref);
        }
    }

    /* ---- errors ---- */
    got = result_new();
    got->fail_at = 3;
    run(&autof, b.p, b.n, 3, 4096, got, -1);
    is_int(got->st, RET_E_IO, "between() fails: its status");
    is_str(got->msg, "reopen x.log: test failure", "between() fails: its "
                                                   "message");
    result_free(got);
    for (int t = 1; t <= 3; t += 2) {
        int full = open("/dev/full", O_WRONLY);

        if (full < 0) {
            ok(1, "# SKIP no /dev/full");
            continue;
        }
        got = result_new();
        run(&autof, b.p, b.n, t, 4096, got, full);
        close(full);
        is_int(got->st, RET_E_IO, "/dev/full, %d threads: RET_E_IO", t);
        ok(strstr(got->msg, "out") != NULL, "/dev/full, %d threads: %s", t,
           got->msg);
        result_free(got);
    }
    /* a damaged gzip input: the lines before the damage, then the error */
    gzip_mem(&b, &gz);
    gz.n = gz.n * 2 / 3;
    ref = result_new();
    run(&combined, gz.p, gz.n, -1, 0, ref, -1);
    is_int(ref->st, RET_E_GZIP, "truncated gzip: the loop fails");
    for (int t = 1; t <= 8; t *= 2) {
        got = result_new();
        run(&combined, gz.p, gz.n, t, t == 4 ? 1 : 4096, got, -1);
        is_int(got->st, RET_E_GZIP, "truncated gzip, %d threads: RET_E_GZIP",
               t);
        is_str(got->msg, ref->msg, "truncated gzip, %d threads: message", t);
        ok(same_out(&got->out, &ref->out),
           "truncated gzip, %d threads: the lines before it (%zu bytes)", t,
           got->out.n);
        ok(same_bad(got, ref) && same_counts(&got->counts, &ref->counts),
           "truncated gzip, %d threads: unparsed lines and counts", t);
        result_free(got);
    }
    result_free(ref);
    free(gz.p);

    /* a worker runs out of memory on a long line: the lines before it
     * are written, then its error */
    free(b.p);
    memset(&b, 0, sizeof(b));
    gen_combined(&b, 3000, false, false, false);
    ref = result_new();
    run(&autof, b.p, b.n, -1, 0, ref, -1);
    buf_add(&b, "192.0.2.1 - - [01/Dec/2026:10:00:00 +0000] \"GET /", 50);
    for (unsigned k = 0; k < 300000; k++)
        buf_add(&b, "xxxxxxxx", 8);
    buf_add(&b, " HTTP/1.1\" 200 5 \"-\" \"a\"\n", 25);
    gen_combined(&b, 3000, false, false, false);
    fail_from = 1024 * 1024;
    for (int t = 2; t <= 8; t *= 2) {
        got = result_new();
        run(&autof, b.p, b.n, t, 4096, got, -1);
        is_int(got->st, RET_E_NOMEM, "worker out of memory, %d threads: "
                                     "RET_E_NOMEM",
               t);
        ok(strstr(got->msg, "out of memory") != NULL,
           "worker out of memory, %d threads: %s", t, got->msg);
        ok(same_out(&got->out, &ref->out),
           "worker out of memory, %d threads: every line before it", t);
        result_free(got);
    }
    fail_from = 0;
    result_free(ref);
    got = result_new();
    run(&autof, b.p, b.n, 2, 4096, got, -1);
    is_int(got->st, RET_OK, "the same input without the failure: RET_OK");
    result_free(got);
    free(b.p);

    /* arguments */
    is_int(ret_anonymize_stream(NULL, NULL, NULL, NULL, NULL, NULL),
           RET_E_INVAL, "NULL arguments: RET_E_INVAL");
    return done_testing();
}
