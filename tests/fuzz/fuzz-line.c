/* fuzz-line.c - the record parser: each line of the input through every
 * preset and a few custom formats. Checks that every slice and address
 * lies inside the line, that the combined preset's own scanner, in
 * both scopes, reads each line as the generic scanner does, and that
 * ret__parser_parse_next, given the rest of the input (a copy of its
 * exact size), finds each line's end and reads the line as memchr and
 * ret_parser_parse do, with the wide search of the quotes and without. */
#include "format-int.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const specs[] = {
    "auto", "common", "combined", "vhost_combined", "nginx", "nginx_main",
    "json", "w3c", "haproxy", "elb", "alb", "s3", "vhost_common",
    "%h %l %u %{%d/%b/%Y:%H:%M:%S %z}t \"%r\" %>s %b %D \"%{Forwarded}i\"",
    ("nginx:$remote_addr [$time_iso8601] $msec \"$request\" $status "
     "$upstream_addr \"$http_x_forwarded_for\""),
    ("regex:^(?<host>\\S+) \\[(?<time>[^]]*)\\] \"(?<request>[^\"]*)\" "
     "(?<status>\\S+)"),
};
#define NSPECS (sizeof(specs) / sizeof(specs[0]))

static void
check(const ret_record *r, const char *line, size_t len)
{
    size_t i, off, n;
    const char *p;
    ret_addr_kind k;

    for (i = 0; i < RET_F__COUNT; i++)
        if (ret_record_field(r, (ret_field)i, &p, &n) &&
            (p < line || p + n > line + len))
            abort();
    for (i = 0; i < ret_record_address_count(r); i++)
        if (!ret_record_address(r, i, &off, &n, &k) || off + n > len ||
            n == 0)
            abort();
}

/* x and y hold the same addresses, at the same offsets. */
static void
same_addresses(const ret_record *x, const ret_record *y)
{
    size_t i, n, off[2], cnt[2];
    ret_addr_kind k[2];

    if ((n = ret_record_address_count(x)) != ret_record_address_count(y))
        abort();
    for (i = 0; i < n; i++)
        if (!ret_record_address(x, i, &off[0], &cnt[0], &k[0]) ||
            !ret_record_address(y, i, &off[1], &cnt[1], &k[1]) ||
            off[0] != off[1] || cnt[0] != cnt[1] || k[0] != k[1])
            abort();
}

/* x (of the line at xl) and y (of the same line at yl) have the same
 * fields, at the same places of their lines. */
static void
same_fields(const ret_record *x, const char *xl, const ret_record *y,
            const char *yl)
{
    const char *fp[2];
    size_t i, cnt[2];

    for (i = 0; i < RET_F__COUNT; i++) {
        int a = ret_record_field(x, (ret_field)i, &fp[0], &cnt[0]);
        int b = ret_record_field(y, (ret_field)i, &fp[1], &cnt[1]);

        if (a != b || (a && (fp[0] - xl != fp[1] - yl || cnt[0] != cnt[1])))
            abort();
    }
}

/* The same result and addresses (and in scope ALL, fields) as the
 * generic scanner's, g; its result is sg. */
static void
same(ret_parser *p, const ret_record *g, ret_status sg, const char *line,
     size_t len, bool fields)
{
    const ret_record *r;
    ret_error err;

    if (ret_parser_parse(p, line, len, &r, &err) != sg)
        abort();
    if (sg != RET_OK)
        return;
    same_addresses(r, g);
    if (fields)
        same_fields(r, line, g, line);
}

/* The line at line of [line, end) through ret__parser_parse_next: the
 * length len, the result sr and the record r (of the same line at
 * another address, ref) that ret_parser_parse gave. */
static void
same_next(ret_parser *p, const ret_record *r, ret_status sr, size_t len,
          const char *ref, const char *line, const char *end)
{
    const ret_record *x = NULL;
    ret_error err;
    size_t n;
    int64_t t[2];
    int32_t o[2];

    if (ret__parser_parse_next(p, line, end, &n, &x, &err) != sr || n != len)
        abort();
    if (sr != RET_OK)
        return;
    if (x->line != line || x->len != r->len ||
        ret_record_status(x) != ret_record_status(r) ||
        ret_record_bytes(x) != ret_record_bytes(r) ||
        ret_record_time(x, &t[0], &o[0]) != ret_record_time(r, &t[1], &o[1]) ||
        (ret_record_time(r, NULL, NULL) && (t[0] != t[1] || o[0] != o[1])))
        abort();
    same_addresses(x, r);
    same_fields(x, line, r, ref);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ret_format *f[NSPECS] = {NULL};
    ret_parser *p[NSPECS] = {NULL};
    const char *s = (const char *)data, *e = s + size;
    ret_error err;
    size_t i;

    ret_format *cf = NULL;
    ret_parser *gen = NULL, *all = NULL, *adr = NULL;
    /* parse_next: the references (ret_parser_parse) and the parsers
     * given the rest of the input, the addresses scope wide and narrow
     * and the whole record */
    ret_parser *ref[3] = {NULL}, *nxt[3] = {NULL};
    char *copy = malloc(size > 0 ? size : 1);

    for (i = 0; i < NSPECS; i++)
        if (ret_format_compile(specs[i], &f[i], &err) != RET_OK ||
            ret_parser_new(f[i], &p[i], &err) != RET_OK)
            abort();
    if (ret_format_compile("combined", &cf, &err) != RET_OK ||
        ret_parser_new(cf, &gen, &err) != RET_OK ||
        ret_parser_new(cf, &all, &err) != RET_OK ||
        ret_parser_new(cf, &adr, &err) != RET_OK)
        abort();
    ret__parser_set_generic(gen);
    ret_parser_set_scope(adr, RET_PARSE_ADDRESSES);
    if (copy == NULL)
        abort();
    memcpy(copy, data, size);
    for (i = 0; i < 3; i++) {
        if (ret_parser_new(cf, &ref[i], &err) != RET_OK ||
            ret_parser_new(cf, &nxt[i], &err) != RET_OK)
            abort();
        if (i < 2) {
            ret_parser_set_scope(ref[i], RET_PARSE_ADDRESSES);
            ret_parser_set_scope(nxt[i], RET_PARSE_ADDRESSES);
        }
        (void)ret__parser_set_wide(ref[i], i != 1);
        (void)ret__parser_set_wide(nxt[i], i != 1);
    }
    while (s < e) {
        const char *nl = memchr(s, '\n', (size_t)(e - s));
        size_t len = nl ? (size_t)(nl - s) + 1 : (size_t)(e - s);

        const ret_record *g = NULL;
        ret_status sg;

        for (i = 0; i < NSPECS; i++) {
            const ret_record *r;

            if (ret_parser_parse(p[i], s, len, &r, &err) == RET_OK)
                check(r, s, len);
        }
        sg = ret_parser_parse(gen, s, len, &g, &err);
        same(all, g, sg, s, len, true);
        same(adr, g, sg, s, len, false);
        for (i = 0; i < 3; i++) {
            const ret_record *r = NULL;
            ret_status sr = ret_parser_parse(ref[i], s, len, &r, &err);
            size_t at = (size_t)(s - (const char *)data);

            same_next(nxt[i], r, sr, len, s, copy + at, copy + size);
        }
        s += len;
    }
    for (i = 0; i < 3; i++) {
        ret_parser_free(ref[i]);
        ret_parser_free(nxt[i]);
    }
    free(copy);
    ret_parser_free(gen);
    ret_parser_free(all);
    ret_parser_free(adr);
    ret_format_free(cf);
    for (i = 0; i < NSPECS; i++) {
        ret_parser_free(p[i]);
        ret_format_free(f[i]);
    }
    return 0;
}
