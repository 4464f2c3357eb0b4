/* fuzz-line.c - the record parser: each line of the input through every
 * preset and a few custom formats. Checks that every slice and address
 * lies inside the line. */
#include "internal.h"

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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ret_format *f[NSPECS] = {NULL};
    ret_parser *p[NSPECS] = {NULL};
    const char *s = (const char *)data, *e = s + size;
    ret_error err;
    size_t i;

    for (i = 0; i < NSPECS; i++)
        if (ret_format_compile(specs[i], &f[i], &err) != RET_OK ||
            ret_parser_new(f[i], &p[i], &err) != RET_OK)
            abort();
    while (s < e) {
        const char *nl = memchr(s, '\n', (size_t)(e - s));
        size_t len = nl ? (size_t)(nl - s) + 1 : (size_t)(e - s);

        for (i = 0; i < NSPECS; i++) {
            const ret_record *r;

            if (ret_parser_parse(p[i], s, len, &r, &err) == RET_OK)
                check(r, s, len);
        }
        s += len;
    }
    for (i = 0; i < NSPECS; i++) {
        ret_parser_free(p[i]);
        ret_format_free(f[i]);
    }
    return 0;
}
