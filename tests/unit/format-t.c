/* format-t.c - log timestamps, the format compiler and the record parser. */
#include "internal.h"
#include "format-int.h"

#include <stdlib.h>
#include <string.h>

#include "../tap.h"

/* ---- helpers --------------------------------------------------------- */

static ret_format *
compile(const char *spec)
{
    ret_format *f = NULL;
    ret_error err;

    if (ret_format_compile(spec, &f, &err) != RET_OK) {
        diag("compile '%s': %s", spec, err.message);
        return NULL;
    }
    return f;
}

struct P {
    ret_format *f;
    ret_parser *p;
    ret_error err;
    ret_status st;
    const ret_record *r;
};

static void
open_p(struct P *x, const char *spec)
{
    memset(x, 0, sizeof(*x));
    x->f = compile(spec);
    if (x->f == NULL || ret_parser_new(x->f, &x->p, &x->err) != RET_OK) {
        diag("no parser for '%s'", spec);
        exit(1);
    }
}

static void
close_p(struct P *x)
{
    ret_parser_free(x->p);
    ret_format_free(x->f);
}

static const ret_record *
parse(struct P *x, const char *line)
{
    x->r = NULL;
    memset(&x->err, 0, sizeof(x->err));
    x->st = ret_parser_parse(x->p, line, strlen(line), &x->r, &x->err);
    return x->st == RET_OK ? x->r : NULL;
}

/* The field as a NUL-terminated string in a static buffer, "(absent)". */
static const char *
fld(const ret_record *r, ret_field f)
{
    static char buf[8][512];
    static unsigned k;
    const char *p;
    size_t n;
    char *b = buf[k++ % 8];

    if (r == NULL)
        return "(no record)";
    if (!ret_record_field(r, f, &p, &n))
        return "(absent)";
    if (n >= 512)
        n = 511;
    memcpy(b, p, n);
    b[n] = '\0';
    return b;
}

/* The i-th address token as a string, prefixed with its kind letter. */
static const char *
addr(const ret_record *r, size_t i)
{
    static char buf[8][128];
    static unsigned k;
    char *b = buf[k++ % 8];
    size_t off, len;
    ret_addr_kind kind;

    if (r == NULL || !ret_record_address(r, i, &off, &len, &kind))
        return "(none)";
    if (len > 120)
        len = 120;
    b[0] = kind == RET_ADDR_CLIENT ? 'c' : kind == RET_ADDR_FORWARDED ? 'f'
                                                                      : 'o';
    b[1] = ' ';
    memcpy(b + 2, r->line + off, len);
    b[len + 2] = '\0';
    return b;
}

static int64_t
rtime(const ret_record *r, int32_t *off)
{
    int64_t t = -1;
    int32_t o = 0;

    if (r == NULL || !ret_record_time(r, &t, &o))
        return -1;
    if (off)
        *off = o;
    return t;
}

static bool
reason_is(struct P *x, const char *word)
{
    size_t n = strlen(word);

    return x->st == RET_E_PARSE && strncmp(x->err.message, word, n) == 0 &&
           x->err.message[n] == ':';
}

/* ---- timestamps ------------------------------------------------------- */

static void
test_time(void)
{
    struct ret__time_parts tp;
    int64_t t = 0, d;
    int32_t o = 0;

    ok(ret__time_clf("10/Oct/2000:13:55:36 -0700", 26, &t, &o), "CLF");
    is_int(t, 971211336, "CLF time is UTC");
    is_int(o, -7 * 3600, "CLF offset -0700");
    ok(ret__time_clf("29/Feb/2024:00:00:00 +0000", 26, &t, &o) &&
           t == 1709164800, "CLF leap day 2024");
    ok(!ret__time_clf("29/Feb/2023:00:00:00 +0000", 26, &t, &o),
       "no 29 February 2023");
    ok(!ret__time_clf("29/Feb/1900:00:00:00 +0000", 26, &t, &o),
       "1900 is not a leap year");
    ok(ret__time_clf("29/Feb/2000:00:00:00 +0000", 26, &t, &o),
       "2000 is a leap year");
    ok(!ret__time_clf("32/Oct/2000:13:55:36 -0700", 26, &t, &o), "day 32");
    ok(!ret__time_clf("10/Foo/2000:13:55:36 -0700", 26, &t, &o), "month Foo");
    ok(!ret__time_clf("10/Oct/2000:24:55:36 -0700", 26, &t, &o), "hour 24");
    ok(!ret__time_clf("10/Oct/2000:13:55:36 -07", 24, &t, &o) ||
           o == -7 * 3600, "short offset read as hours");
    ok(!ret__time_clf("10/Oct/2000:13:55:36 x0700", 26, &t, &o),
       "garbage offset");
    ok(ret__time_clf("30/Jul/2018:09:03:52.726", 24, &t, &o) &&
           t == 1532941432 && o == 0, "CLF with milliseconds, no offset");
    ok(ret__time_clf("10/oct/2000:13:55:36 +0530", 26, &t, &o) &&
           o == 5 * 3600 + 1800, "lower-case month, +0530");

    ok(ret__time_iso("2023-08-11T11:39:21.773360139Z", 30, &t, &o) &&
           t == 1691753961 && o == 0, "ISO with nanoseconds and Z");
    ok(ret__time_iso("2026-12-01T10:00:00+05:30", 25, &t, &o) &&
           t == 1796099400 && o == 19800, "ISO +05:30");
    ok(ret__time_iso("2026-12-01T10:00:00+0530", 24, &t, &o) &&
           t == 1796099400, "ISO +0530");
    ok(ret__time_iso("2026-12-01 04:30:00", 19, &t, &o) &&
           t == 1796099400 && o == 0, "ISO with a space, no offset: UTC");
    ok(ret__time_iso("2000-10-10T13:55:36,5-07:00", 27, &t, &o) &&
           t == 971211336 && o == -25200, "ISO comma fraction, -07:00");
    ok(!ret__time_iso("2026-13-01T10:00:00Z", 20, &t, &o), "month 13");
    ok(!ret__time_iso("2026-12-01T10:00:00Q", 20, &t, &o), "trailing Q");

    ok(ret__time_epoch("1703373474.8155608", 18, 0, &t) && t == 1703373474,
       "epoch seconds with a fraction");
    ok(ret__time_epoch("1703373474815", 13, 0, &t) && t == 1703373474,
       "epoch milliseconds by magnitude");
    ok(ret__time_epoch("1703373474815123", 16, 0, &t) && t == 1703373474,
       "epoch microseconds by magnitude");
    ok(ret__time_epoch("1703373474815123456", 19, 0, &t) && t == 1703373474,
       "epoch nanoseconds by magnitude");
    ok(ret__time_epoch("1703373474815", 13, 1000, &t) && t == 1703373474,
       "epoch milliseconds by scale");
    ok(!ret__time_epoch("17033a", 6, 0, &t), "epoch with a letter");
    ok(!ret__time_epoch("99999999999999999999", 20, 0, &t), "epoch overflow");

    ok(ret__time_date("2018-01-01", 10, &d) && d == 17532, "W3C date");
    ok(ret__time_of_day("08:09:10", 8, &o) && o == 29350, "W3C time");
    ok(ret__time_of_day("17:00:00.660", 12, &o) && o == 61200,
       "W3C time with milliseconds");
    ok(!ret__time_of_day("8:09:10", 7, &o), "W3C time needs two digits");

    ret__time_parts_init(&tp);
    ok(ret__time_strf("%d/%b/%Y:%H:%M:%S %z", 20,
                      "10/Oct/2000:13:55:36 -0700", 26, &tp) &&
           ret__time_combine(&tp, &t, &o) && t == 971211336 && o == -25200,
       "strftime subset: CLF spelled out");
    ret__time_parts_init(&tp);
    ok(ret__time_strf("%A, %B %e %Y %I:%M %p", 21,
                      "Sunday, October  1 2000 01:55 PM", 32, &tp) &&
           ret__time_combine(&tp, &t, &o) && t == 970408500,
       "strftime subset: names, %%e, %%I %%p");
    ret__time_parts_init(&tp);
    ok(!ret__time_strf("%Y-%m-%d", 8, "2000-10-1x", 10, &tp),
       "strftime subset rejects a mismatch");
    {
        char bad = 0;

        ok(!ret__time_strf_valid("%Y %Q", 5, &bad) && bad == 'Q',
           "unsupported conversion found");
    }
}

/* ---- the compiler --------------------------------------------------- */

static void
compile_error(const char *spec, const char *needle)
{
    ret_format *f = NULL;
    ret_error err;
    ret_status st;

    memset(&err, 0, sizeof(err));
    st = ret_format_compile(spec, &f, &err);
    ok(st == RET_E_FORMAT && f == NULL && strstr(err.message, needle),
       "'%s' is refused: %s", spec, needle);
    if (st != RET_E_FORMAT || strstr(err.message, needle) == NULL)
        diag("status %d, message '%s'", (int)st, err.message);
    ret_format_free(f);
}

static void
test_compiler(void)
{
    const char *name, *def;
    ret_format *f;
    size_t i;

    compile_error("%h %Z", "column 4: unknown directive '%Z'");
    compile_error("%h %{User-Agent", "column 4: unterminated '%{'");
    compile_error("%h%l", "column 3: two fields without a separator");
    compile_error("%h %", "lacks a directive letter");
    compile_error("%h %i", "%i needs a header name");
    compile_error("%h %{%Q}t", "unsupported time conversion '%Q'");
    compile_error("nginx:$remote_addr $", "'$' without a variable name");
    compile_error("nginx:$remote_addr ${status", "unterminated '${'");
    compile_error("nginx:just text", "has no field");
    compile_error("", "empty format");
    compile_error("frobnicate", "unknown format 'frobnicate'");
    compile_error("regex:(", "regex: column");
    compile_error("regex:^\\S+$", "no named group");
    compile_error("regex:^(?<bogus>\\S+)$", "unknown group name 'bogus'");

    for (i = 0; (name = ret_format_preset(i, &def)) != NULL; i++) {
        f = compile(name);
        ok(f != NULL && strcmp(ret_format_name(f), name) == 0 && def &&
               *def, "preset %s compiles", name);
        ret_format_free(f);
    }
    ok(i >= 9, "nine presets or more");
    ok(ret_format_preset(i, &def) == NULL, "NULL past the last preset");
    ok((f = compile("%h %l %u %t \"%r\" %>s %b %D %{ms}T %v %p %I %O "
                    "%{X-Forwarded-For}i %{Set-Cookie}o %{HOME}e %a %A %m "
                    "%U %q %H %B %T %V %400,501{Referer}i %!200b %<s "
                    "%{%d/%b/%Y}t %{msec}t %{usec_frac}t %%")) != NULL,
       "every Apache directive of the list compiles");
    ret_format_free(f);
    ok((f = compile("nginx:'$remote_addr - $remote_user [$time_local] '\n"
                    "    '\"$request\" $status $body_bytes_sent';")) != NULL,
       "an nginx.conf string in quoted parts compiles");
    ret_format_free(f);
    ret_format_free(NULL);
}

/* ---- Apache and nginx lines ----------------------------------------- */

static const char combined_line[] =
    "83.149.9.216 - frank [17/May/2015:10:05:03 +0000] "
    "\"GET /presentations/kibana.png?size=1&x=%20y HTTP/1.1\" 200 203023 "
    "\"http://semicomplete.com/presentations/\" \"Mozilla/5.0 (Macintosh; "
    "Intel Mac OS X 10_9_1) \\\"quoted\\\" Safari/537.36\"\n";

static void
test_combined(void)
{
    struct P x;
    const ret_record *r;
    int32_t off = 1;

    open_p(&x, "combined");
    r = parse(&x, combined_line);
    ok(r != NULL, "combined line parses");
    is_str(fld(r, RET_F_CLIENT), "83.149.9.216", "client");
    is_str(fld(r, RET_F_USER), "frank", "user");
    is_str(fld(r, RET_F_TIME), "17/May/2015:10:05:03 +0000", "time field");
    is_int(rtime(r, &off), 1431857103, "time");
    is_int(off, 0, "offset");
    is_str(fld(r, RET_F_REQUEST),
           "GET /presentations/kibana.png?size=1&x=%20y HTTP/1.1", "request");
    is_str(fld(r, RET_F_METHOD), "GET", "method");
    is_str(fld(r, RET_F_PATH), "/presentations/kibana.png", "path");
    is_str(fld(r, RET_F_QUERY), "size=1&x=%20y", "query");
    is_str(fld(r, RET_F_PROTOCOL), "HTTP/1.1", "protocol");
    is_int(ret_record_status(r), 200, "status");
    is_int(ret_record_bytes(r), 203023, "bytes");
    is_str(fld(r, RET_F_REFERER), "http://semicomplete.com/presentations/",
           "referer");
    is_str(fld(r, RET_F_USER_AGENT),
           "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) \\\"quoted\\\" "
           "Safari/537.36", "user agent with escaped quotes, raw");
    is_int(ret_record_address_count(r), 1, "one address");
    is_str(addr(r, 0), "c 83.149.9.216", "the client address at 0");

    /* the same line with CRLF */
    {
        char crlf[sizeof(combined_line) + 1];

        memcpy(crlf, combined_line, sizeof(combined_line) - 2);
        memcpy(crlf + sizeof(combined_line) - 2, "\r\n", 3);
        r = parse(&x, crlf);
        is_str(fld(r, RET_F_USER_AGENT),
               "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) \\\"quoted\\\" "
               "Safari/537.36", "CRLF: the \\r is not in the last field");
    }
    /* absolute-form targets (a forward proxy's log): the URL's path and
     * host, never its credentials */
    {
        static const struct {
            const char *target, *path, *query, *vhost;
        } t[] = {
            {"http://www.example.com/a/b?c=1", "/a/b", "c=1",
             "www.example.com"},
            {"https://user:secret@shop.example.org:8443/cart", "/cart",
             "(absent)", "shop.example.org"},
            {"http://[2001:db8::1]:8080/x?y", "/x", "y", "(absent)"},
            {"http://192.0.2.7/z", "/z", "(absent)", "(absent)"},
            {"HTTP://Example.COM", "(absent)", "(absent)", "Example.COM"},
            {"example.com:443", "example.com:443", "(absent)", "(absent)"},
            {"/http://not.a.url/", "/http://not.a.url/", "(absent)",
             "(absent)"},
        };
        size_t i;

        for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
            char line[256];

            snprintf(line, sizeof(line),
                     "1.2.3.4 - - [17/May/2015:10:05:03 +0000] \"GET %s "
                     "HTTP/1.1\" 200 5 \"-\" \"-\"", t[i].target);
            r = parse(&x, line);
            is_str(fld(r, RET_F_PATH), t[i].path, "target %s: path",
                   t[i].target);
            is_str(fld(r, RET_F_QUERY), t[i].query, "target %s: query",
                   t[i].target);
            is_str(fld(r, RET_F_VHOST), t[i].vhost, "target %s: host",
                   t[i].target);
        }
    }

    r = parse(&x, "1.2.3.4 - - [17/May/2015:10:05:03 +0000] \"HEAD / "
                  "HTTP/1.0\" 304 - \"-\" \"-\"");
    ok(r != NULL, "bytes '-' parses");
    is_int(ret_record_bytes(r), 0, "bytes '-' is 0 body bytes");
    is_str(fld(r, RET_F_BYTES), "(absent)", "bytes '-': no field");
    is_str(fld(r, RET_F_REFERER), "(absent)", "referer '-' is absent");
    is_str(fld(r, RET_F_USER), "(absent)", "user '-' is absent");

    parse(&x, "1.2.3.4 - - [17/May/2015:10:05:03 +0000] \"GET / HTTP/1.1\" "
              "200 12 \"-\" \"Mozilla/5.0 (unclosed");
    ok(reason_is(&x, "quote"), "unclosed quote: reason quote (%s)",
       x.err.message);
    ok(strstr(x.err.message, "1.2.3.4") == NULL,
       "the error does not quote the address");
    parse(&x, "1.2.3.4 - - [17/May/2015:10:05:03 +0000] \"GET / HTTP/1.1\" "
              "2x0 12 \"-\" \"-\"");
    ok(reason_is(&x, "status"), "bad status: reason status");
    parse(&x, "1.2.3.4 - - [17/May/2015:10:05:03 +0000] \"GET / HTTP/1.1\" "
              "200 1k2 \"-\" \"-\"");
    ok(reason_is(&x, "bytes"), "bad bytes: reason bytes");
    parse(&x, "1.2.3.4 - - [31/Jun/2015:10:05:03 +0000] \"GET / HTTP/1.1\" "
              "200 12 \"-\" \"-\"");
    ok(reason_is(&x, "time"), "31 June: reason time");
    parse(&x, "1.2.3.4 - - [17/May/2015:10:05:03 +0000] \"GET / HTTP/1.1\"");
    ok(reason_is(&x, "fields"), "common line for combined: reason fields");
    r = parse(&x, combined_line);
    ok(r != NULL, "the parser stays usable after errors");
    is_int(parse(&x, "") == NULL && x.st == RET_EOF, 1, "empty line: EOF");
    is_int(parse(&x, "   \r\n") == NULL && x.st == RET_EOF, 1,
           "blank line: EOF");
    is_int(parse(&x, "# a comment") == NULL && x.st == RET_EOF, 1,
           "comment: EOF");

    /* an IPv6 client, brackets and port, zone */
    r = parse(&x, "[2001:db8::1]:443 - - [17/May/2015:10:05:03 +0200] "
                  "\"GET / HTTP/1.1\" 200 1 \"-\" \"-\"");
    is_str(addr(r, 0), "c [2001:db8::1]:443", "bracketed IPv6 with port");
    is_int(rtime(r, &off), 1431857103 - 7200, "+0200 honoured");
    is_int(off, 7200, "offset +0200");
    r = parse(&x, "fe80::1%eth0 - - [17/May/2015:10:05:03 +0000] "
                  "\"GET / HTTP/1.1\" 200 1 \"-\" \"-\"");
    is_str(addr(r, 0), "c fe80::1%eth0", "IPv6 with a zone");
    r = parse(&x, "unix: - - [17/May/2015:10:05:03 +0000] \"hello\" 400 173 "
                  "\"-\" \"-\"");
    is_str(fld(r, RET_F_CLIENT), "unix:", "unix: client");
    is_str(fld(r, RET_F_REQUEST), "hello", "request without method");
    is_str(fld(r, RET_F_METHOD), "(absent)", "no method in 'hello'");
    is_str(fld(r, RET_F_PATH), "(absent)", "no path in 'hello'");
    /* an XFF list in the client position */
    r = parse(&x, "10.0.0.2, 10.0.0.1, 127.0.0.1 - - [07/Dec/2016:11:05:07 "
                  "+0100] \"GET /ocelot HTTP/1.1\" 200 571 \"-\" \"-\"");
    is_str(fld(r, RET_F_CLIENT), "10.0.0.2, 10.0.0.1, 127.0.0.1",
           "client list field");
    is_int(ret_record_address_count(r), 3, "three client addresses");
    is_str(addr(r, 1), "c 10.0.0.1", "second list element");
    is_str(addr(r, 2), "c 127.0.0.1", "third list element");
    is_int(rtime(r, NULL), 1481105107, "+0100 time");
    /* more than the format: address-looking tokens are listed */
    r = parse(&x, "1.2.3.4 - - [17/May/2015:10:05:03 +0000] \"GET / HTTP/1.1\" "
                  "200 1 \"-\" \"-\" \"192.0.2.7, 2001:db8::7\" 0.003");
    ok(r != NULL, "extra trailing fields are allowed");
    is_int(ret_record_address_count(r), 3, "trailing addresses listed");
    is_str(addr(r, 1), "f 192.0.2.7", "trailing IPv4");
    is_str(addr(r, 2), "f 2001:db8::7", "trailing IPv6");
    /* NUL bytes and invalid UTF-8 inside a quoted field */
    {
        static const char nul[] = "1.2.3.4 - - [17/May/2015:10:05:03 +0000] "
                                  "\"GET /\0\xff\xfe HTTP/1.1\" 200 1 \"-\" "
                                  "\"\xa4\xa4\"";

        x.st = ret_parser_parse(x.p, nul, sizeof(nul) - 1, &r, &x.err);
        ok(x.st == RET_OK, "NUL and invalid UTF-8 bytes parse");
        ok(x.st == RET_OK && r->f[RET_F_PATH].n == 4,
           "path keeps its NUL and bytes");
    }
    close_p(&x);

    open_p(&x, "common");
    r = parse(&x, "piweba4y.prodigy.com - - [01/Aug/1995:00:00:01 -0400] "
                  "\"GET /images/launch-logo.gif HTTP/1.0\" 200 1713");
    is_str(fld(r, RET_F_CLIENT), "piweba4y.prodigy.com", "hostname client");
    is_int(rtime(r, NULL), 807249601, "1995 time with -0400");
    close_p(&x);
}

static void
test_nginx(void)
{
    struct P x;
    const ret_record *r;

    open_p(&x, "nginx:$remote_addr - $remote_user [$time_local] \"$request\" "
               "$status $body_bytes_sent \"$http_referer\" \"$http_user_agent\" "
               "\"$http_x_forwarded_for\" $request_time $upstream_addr "
               "$host");
    r = parse(&x, "2a03:0000:10ff:f00f:0000:0000:0:8000, 10.225.192.17 "
                  "10.2.2.121 - - [30/Dec/2016:06:47:09 +0000] \"GET "
                  "/test.html HTTP/1.1\" 404 8571 \"-\" \"Facebot\" "
                  "\"203.0.113.9, 198.51.100.2\" 0.250 10.0.0.5:80, "
                  "[2001:db8::5]:8080 : unix:/run/php.sock example.com");
    ok(r != NULL, "nginx line with lists parses (%s)", x.err.message);
    is_str(addr(r, 0), "c 2a03:0000:10ff:f00f:0000:0000:0:8000",
           "full-form IPv6 client");
    is_str(addr(r, 1), "c 10.225.192.17", "second client element");
    is_str(addr(r, 2), "c 10.2.2.121", "third client element");
    is_str(addr(r, 3), "f 203.0.113.9", "first XFF element");
    is_str(addr(r, 4), "f 198.51.100.2", "second XFF element");
    is_str(addr(r, 5), "o 10.0.0.5:80", "upstream with port");
    is_str(addr(r, 6), "o [2001:db8::5]:8080", "bracketed upstream");
    is_str(addr(r, 7), "o unix:/run/php.sock", "unix upstream");
    is_int(ret_record_address_count(r), 8, "eight addresses");
    is_str(fld(r, RET_F_XFF), "203.0.113.9, 198.51.100.2", "xff field");
    is_str(fld(r, RET_F_VHOST), "example.com", "host");
    is_int(r ? r->duration_us : 0, 250000, "request_time in microseconds");
    close_p(&x);

    open_p(&x, "nginx:$remote_addr [$time_iso8601] $msec \"$request_method "
               "$request_uri $server_protocol\" $status");
    r = parse(&x, "192.0.2.1 [2026-12-01T10:00:00+05:30] 1796099400.123 "
                  "\"POST /a/b?c=d HTTP/2.0\" 201");
    is_int(rtime(r, NULL), 1796099400, "time_iso8601");
    is_str(fld(r, RET_F_METHOD), "POST", "request_method");
    is_str(fld(r, RET_F_PATH), "/a/b", "request_uri path");
    is_str(fld(r, RET_F_QUERY), "c=d", "request_uri query");
    is_str(fld(r, RET_F_PROTOCOL), "HTTP/2.0", "server_protocol");
    is_int(ret_record_status(r), 201, "status");
    close_p(&x);

    open_p(&x, "nginx:$proxy_protocol_addr $remote_addr \"$http_x_original_for\" "
               "$status");
    r = parse(&x, "203.0.113.50 10.0.0.1 \"198.51.100.60, 192.0.2.70\" 200");
    ok(r != NULL, "unknown variables parse");
    is_str(addr(r, 0), "c 203.0.113.50", "proxy_protocol_addr is a client");
    is_str(addr(r, 2), "f 198.51.100.60", "address in an unread field");
    is_str(addr(r, 3), "f 192.0.2.70", "all of them");
    close_p(&x);

    open_p(&x, "%h %l %u %{%d/%b/%Y:%H:%M:%S}t %{%z}t \"%r\" %>s %b "
               "\"%{Forwarded}i\" %D");
    r = parse(&x, "192.0.2.1 - - 10/Oct/2000:13:55:36 -0700 \"GET / "
                  "HTTP/1.1\" 200 5 \"for=192.0.2.60;proto=http;by=203.0.113.43, "
                  "for=\\\"[2001:db8:cafe::17]:4711\\\"\" 1234");
    ok(r != NULL, "strftime time in two fields (%s)", x.err.message);
    is_int(rtime(r, NULL), 971211336, "%%{format}t and %%{%%z}t combined");
    is_str(addr(r, 1), "f 192.0.2.60", "Forwarded for=");
    is_str(addr(r, 2), "o 203.0.113.43", "Forwarded by=");
    is_int(r ? r->duration_us : 0, 1234, "%%D microseconds");
    close_p(&x);
}

/* ---- W3C, JSON, HAProxy, regex -------------------------------------- */

static void
test_w3c(void)
{
    struct P x;
    const ret_record *r;

    open_p(&x, "w3c");
    r = parse(&x, "2018-01-01 08:09:10 127.0.0.1 GET / q=100 80 - "
                  "81.2.69.143 Mozilla/5.0+(Windows+NT+6.1) - 200 0 0 123");
    ok(r != NULL, "a record without a header: IIS default fields");
    is_str(addr(r, 0), "o 127.0.0.1", "s-ip");
    is_str(addr(r, 1), "c 81.2.69.143", "c-ip");
    is_int(rtime(r, NULL), 1514794150, "date + time, UTC");
    is_str(fld(r, RET_F_USER_AGENT), "Mozilla/5.0+(Windows+NT+6.1)",
           "user agent with + kept raw");
    is_int(r ? r->duration_us : 0, 123000, "time-taken in ms");
    is_int(parse(&x, "#Software: Microsoft Internet Information Services "
                     "10.0") == NULL && x.st == RET_EOF, 1, "#Software: EOF");
    is_int(parse(&x, "#Date: 2018-01-02 00:00:00") == NULL && x.st == RET_EOF,
           1, "#Date: EOF");
    parse(&x, "#Fields: time c-ip cs-method cs-uri-stem sc-status "
              "cs(Referer) X-Forwarded-For\r\n");
    ok(x.st == RET_EOF, "#Fields: EOF");
    r = parse(&x, "10:11:12 ::1%0 GET /x.gif 404 \"http://a/b c\" "
                  "203.0.113.1,198.51.100.1\r\n");
    ok(r != NULL, "record of the second header block (%s)", x.err.message);
    is_int(rtime(r, NULL), 1514887872, "time-only record takes #Date");
    is_str(addr(r, 0), "c ::1%0", "c-ip with a zone");
    is_str(fld(r, RET_F_REFERER), "http://a/b c", "quoted referer");
    is_str(addr(r, 2), "f 198.51.100.1", "X-Forwarded-For list element");
    is_int(ret_record_status(r), 404, "sc-status of the new block");
    parse(&x, "#Fields: date time c-ip cs-uri-stem sc-status");
    r = parse(&x, "2018-01-03 00:00:00 192.0.2.1 /y 200 extra 198.51.100.3");
    ok(r != NULL, "more values than #Fields declares");
    parse(&x, "#GMT-Offset: -0800");
    r = parse(&x, "2001-10-31 00:00:18 192.0.2.1 /z 200");
    is_int(rtime(r, NULL), 1004515218, "#GMT-Offset: -0800 honoured");
    parse(&x, "2018-01-03 00:00:00 192.0.2.1 /y 200 extra 198.51.100.3");
    is_str(addr(r, 1), "f 198.51.100.3", "their addresses are listed");
    parse(&x, "2018-01-03 00:00:00 192.0.2.1 \"/unclosed 200");
    ok(reason_is(&x, "quote"), "unclosed quote in W3C");
    close_p(&x);
}

static void
test_json(void)
{
    struct P x;
    const ret_record *r;

    open_p(&x, "json");
    r = parse(&x, "{\"level\":\"info\",\"ts\":1703373474.8155608,"
                  "\"request\":{\"remote_ip\":\"10.0.0.1\",\"remote_port\":"
                  "\"64985\",\"client_ip\":\"1.2.3.4\",\"proto\":\"HTTP/2.0\","
                  "\"method\":\"GET\",\"host\":\"example.com\",\"uri\":"
                  "\"/beta/?a=1\",\"headers\":{\"Te\":[\"trailers\"],"
                  "\"User-Agent\":[\"Mozilla/5.0 \\\"x\\\"\"],\"Referer\":"
                  "[\"https://example.com/\"],\"Dnt\":[\"1\"]},\"tls\":"
                  "{\"server_name\":\"other.example\"}},\"duration\":0.25,"
                  "\"size\":3609,\"status\":200,\"resp_headers\":{\"Server\":"
                  "[\"Caddy\"]}}");
    ok(r != NULL, "Caddy line parses (%s)", x.err.message);
    is_int(rtime(r, NULL), 1703373474, "ts epoch float");
    is_str(fld(r, RET_F_CLIENT), "1.2.3.4", "client_ip is the client");
    is_int(ret_record_address_count(r), 2, "remote_ip and client_ip");
    is_str(addr(r, 0), "c 10.0.0.1", "remote_ip (the proxy) listed");
    is_str(addr(r, 1), "c 1.2.3.4", "client_ip listed");
    is_str(fld(r, RET_F_METHOD), "GET", "method");
    is_str(fld(r, RET_F_PATH), "/beta/", "uri path");
    is_str(fld(r, RET_F_QUERY), "a=1", "uri query");
    is_str(fld(r, RET_F_USER_AGENT), "Mozilla/5.0 \\\"x\\\"",
           "header array element, raw");
    is_str(fld(r, RET_F_REFERER), "https://example.com/", "referer header");
    is_str(fld(r, RET_F_VHOST), "example.com", "request.host, not tls");
    is_str(fld(r, RET_F_DNT), "1", "Dnt header");
    is_int(ret_record_status(r), 200, "status");
    is_int(ret_record_bytes(r), 3609, "size");
    is_int(r ? r->duration_us : 0, 250000, "duration seconds");

    r = parse(&x, "{\"ClientAddr\": \"172.20.0.1:52458\",\"ClientHost\": "
                  "\"1.2.3.4\",\"DownstreamContentSize\":15,"
                  "\"DownstreamStatus\":\"200\",\"Duration\":10002425284,"
                  "\"RequestMethod\":\"GET\",\"RequestPath\":\"/my/app?id=1\","
                  "\"RequestProtocol\":\"HTTP/1.1\",\"StartUTC\":"
                  "\"2023-08-11T11:39:21.773360139Z\",\"request_User-Agent\":"
                  "\"Prometheus/2.40.5\"}");
    ok(r != NULL, "Traefik line parses (%s)", x.err.message);
    is_str(addr(r, 0), "o 172.20.0.1:52458", "ClientAddr with port");
    is_str(fld(r, RET_F_CLIENT), "1.2.3.4", "ClientHost is the client");
    is_int(rtime(r, NULL), 1691753961, "StartUTC");
    is_int(ret_record_status(r), 200, "string status");
    is_int(r ? r->duration_us : 0, 10002425, "Duration in ns");
    is_str(fld(r, RET_F_USER_AGENT), "Prometheus/2.40.5", "request_User-Agent");

    r = parse(&x, "{\"time_local\": \"10/Oct/2000:13:55:36 -0700\", "
                  "\"remote_addr\": \"192.168.1.2\", \"request\": \"GET / "
                  "HTTP/1.1\", \"status\": \"404\", \"body_bytes_sent\": 0, "
                  "\"http_x_forwarded_for\": \"203.0.113.1, 203.0.113.2\"}");
    ok(r != NULL, "nginx JSON parses");
    is_int(rtime(r, NULL), 971211336, "time_local in JSON");
    is_int(ret_record_address_count(r), 3, "client and two XFF addresses");
    is_str(addr(r, 2), "f 203.0.113.2", "XFF element");
    parse(&x, "{\"remote_addr\": \"1.2.3.4\", \"status\": ");
    ok(reason_is(&x, "json"), "truncated JSON: reason json");
    r = parse(&x, "{\"time\": \"Sat, 23 Dec 2023 23:17:54 GMT\", \"ts\": "
                  "1703373474, \"remote_addr\": \"192.0.2.1\", \"status\": "
                  "\"ok\", \"status_code\": 404}");
    ok(r != NULL, "JSON: values of unread forms are skipped (%s)",
       x.err.message);
    is_int(rtime(r, NULL), 1703373474, "JSON: the time another key has");
    is_int(ret_record_status(r), 404, "JSON: the status another key has");
    parse(&x, "{\"time\": \"yesterday\", \"remote_addr\": \"192.0.2.1\"}");
    ok(reason_is(&x, "time"), "JSON: no readable time at all: reason time");
    parse(&x, "{\"msg\": \"server started\"}");
    ok(reason_is(&x, "fields"), "JSON without access fields: reason fields");
    parse(&x, "not json at all");
    ok(reason_is(&x, "json"), "no object: reason json");
    r = parse(&x, "caddy  | {\"request\":{\"client_ip\":\"240e:1:1::1234\"},"
                  "\"status\":301}");
    is_str(addr(r, 0), "c 240e:1:1::1234", "a prefix before the object");
    close_p(&x);
}

static void
test_haproxy_regex(void)
{
    struct P x;
    const ret_record *r;

    open_p(&x, "haproxy");
    r = parse(&x, "Feb 25 16:19:49 192.168.4.2 haproxy[7]: "
                  "141.35.244.171:53332 [25/Feb/2019:16:19:48.143] "
                  "prod_http_in~ bk_admin/nginx_sonst 0/0/7/1457/1487 200 "
                  "11394 - - ---- 2/1/0/0/0 0/0 {Mozilla/5.0 (Windows NT 6.1; "
                  "rv:65.0) Firefox/65.0|10.1.2.3} {} \"GET /admin?x=1 "
                  "HTTP/1.1\"");
    ok(r != NULL, "HAProxy line parses (%s)", x.err.message);
    is_str(addr(r, 0), "c 141.35.244.171:53332", "client ip:port");
    is_str(addr(r, 1), "f 10.1.2.3", "captured X-Forwarded-For");
    is_str(fld(r, RET_F_USER_AGENT),
           "Mozilla/5.0 (Windows NT 6.1; rv:65.0) Firefox/65.0",
           "captured user agent");
    is_int(rtime(r, NULL), 1551111588, "accept date as UTC");
    is_int(ret_record_status(r), 200, "status");
    is_int(ret_record_bytes(r), 11394, "bytes");
    is_str(fld(r, RET_F_PATH), "/admin", "path");
    is_int(r ? r->duration_us : 0, 1487000, "total time");
    parse(&x, "h haproxy[1]: 10.0.0.1:5 [25/Feb/2019:16:19:48.143] fe be/s "
              "0/0/7/1457/1487");
    ok(reason_is(&x, "fields"), "a line that ends after the timers");
    parse(&x, "Feb 25 16:19:38 192.168.4.2 haproxy[1]: Proxy x started.");
    ok(reason_is(&x, "fields"), "a non-request line: reason fields");
    close_p(&x);

    open_p(&x, "regex:^(?<host>\\S+) \\[(?<time>[^]]+)\\] \"(?<request>[^\"]*)\" "
               "(?<status>\\d+)");
    r = parse(&x, "192.0.2.9 [2026-12-01T10:00:00+05:30] \"GET /r?q HTTP/1.1\" "
                  "302 from 198.51.100.77");
    ok(r != NULL, "regex line parses");
    is_int(rtime(r, NULL), 1796099400, "regex time");
    is_str(fld(r, RET_F_PATH), "/r", "regex request split");
    is_int(ret_record_status(r), 302, "regex status");
    is_str(addr(r, 0), "c 192.0.2.9", "regex host");
    is_str(addr(r, 1), "f 198.51.100.77", "address outside the groups");
    parse(&x, "nothing like it");
    ok(reason_is(&x, "regex"), "no match: reason regex");
    close_p(&x);

    /* catastrophic backtracking gives up on the line */
    open_p(&x, "regex:^(?<host>(a+)+)$");
    {
        char l[64];

        memset(l, 'a', 40);
        memcpy(l + 40, "b", 2);
        parse(&x, l);
        ok(reason_is(&x, "regex"), "a backtracking pattern gives up");
    }
    close_p(&x);
}

static void
test_auto(void)
{
    struct P x;
    const ret_record *r;
    int i;

    open_p(&x, "auto");
    ok(ret_parser_format_name(x.p) == NULL, "nothing detected yet");
    r = parse(&x, combined_line);
    ok(r != NULL, "auto parses a combined line");
    is_str(ret_parser_format_name(x.p), "combined", "auto: combined");
    is_str(fld(r, RET_F_USER), "frank", "auto record fields");
    close_p(&x);

    open_p(&x, "auto");
    for (i = 0; i < 3; i++)
        r = parse(&x, "1.2.3.4 - - [17/May/2015:10:05:03 +0000] \"GET / "
                      "HTTP/1.1\" 200 1");
    is_str(ret_parser_format_name(x.p), "common", "auto: common");
    close_p(&x);

    open_p(&x, "auto");
    parse(&x, "#Software: Microsoft Internet Information Services 8.5");
    is_str(ret_parser_format_name(x.p), "w3c", "auto: w3c by its header");
    parse(&x, "#Fields: date time c-ip sc-status");
    r = parse(&x, "2018-01-01 08:09:10 192.0.2.1 200");
    is_int(ret_record_status(r), 200, "auto w3c record");
    close_p(&x);

    open_p(&x, "auto");
    r = parse(&x, "{\"remote_addr\":\"192.0.2.1\",\"status\":200}");
    is_str(ret_parser_format_name(x.p), "json", "auto: json");
    close_p(&x);

    open_p(&x, "auto");
    for (i = 0; i < 3; i++)
        r = parse(&x, "www.example.org 10.0.0.2, 192.0.2.1 - - [17/May/2015:"
                      "10:05:03 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"-\"");
    is_str(ret_parser_format_name(x.p), "vhost_combined_noport",
           "auto: vhost in front, no port");
    is_str(fld(r, RET_F_VHOST), "www.example.org", "its vhost");
    is_str(fld(r, RET_F_CLIENT), "10.0.0.2, 192.0.2.1", "its client list");
    for (i = 0; i < 3; i++)
        r = parse(&x, "10.0.0.2, 10.0.0.1, 192.0.2.1 - - [17/May/2015:"
                      "10:05:03 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"-\"");
    is_int(ret_record_address_count(r), 3,
           "a client list is never taken for a vhost");
    close_p(&x);

    open_p(&x, "auto");
    parse(&x, "garbage that is no log line");
    ok(reason_is(&x, "format"), "auto: no format fits: reason format");
    ok(ret_parser_format_name(x.p) == NULL, "still nothing detected");
    close_p(&x);
}

static void
test_long_line(void)
{
    size_t n = 1 << 20, i;
    char *l = malloc(n + 200);
    struct P x;
    const ret_record *r;
    int len;

    if (l == NULL)
        return;
    len = snprintf(l, 200, "1.2.3.4 - - [17/May/2015:10:05:03 +0000] \"GET /");
    for (i = 0; i < n; i++)
        l[len + i] = 'a';
    {
        static const char tail[] = " HTTP/1.1\" 200 1 \"-\" \"-\"";

        memcpy(l + len + n, tail, sizeof(tail));
    }
    open_p(&x, "combined");
    x.st = ret_parser_parse(x.p, l, strlen(l), &r, &x.err);
    ok(x.st == RET_OK && r->f[RET_F_PATH].n == n + 1, "a 1 MiB request");
    /* unbalanced: only an opening quote, 1 MiB long */
    x.st = ret_parser_parse(x.p, l, len + n, &r, &x.err);
    ok(reason_is(&x, "quote"), "1 MiB unclosed quote: reason quote");
    close_p(&x);
    free(l);
}

static void
test_api_edges(void)
{
    struct P x;
    const ret_record *r;
    const char *p;
    size_t n, off, len;
    ret_addr_kind k;
    ret_error err;
    ret_parser *ps = NULL;
    int64_t t;
    int32_t o;

    ok(ret_format_compile(NULL, NULL, &err) == RET_E_INVAL, "compile NULL");
    ok(ret_parser_new(NULL, &ps, &err) == RET_E_INVAL && ps == NULL,
       "parser of NULL format");
    ok(ret_parser_format_name(NULL) == NULL, "format name of NULL");
    ret_parser_free(NULL);
    ok(ret_record_field(NULL, RET_F_CLIENT, &p, &n) == 0, "field of NULL");
    ok(ret_record_time(NULL, &t, &o) == 0, "time of NULL");
    ok(ret_record_status(NULL) == 0 && ret_record_bytes(NULL) == -1,
       "status and bytes of NULL");
    ok(ret_record_address_count(NULL) == 0 &&
           ret_record_address(NULL, 0, &off, &len, &k) == 0,
       "addresses of NULL");
    open_p(&x, "common");
    ok(ret_parser_parse(x.p, NULL, 0, &r, &err) == RET_EOF, "NULL, 0: EOF");
    ok(ret_parser_parse(x.p, NULL, 5, &r, &err) == RET_E_INVAL,
       "NULL line with a length: invalid");
    r = parse(&x, "1.2.3.4 - - [17/May/2015:10:05:03 +0000] \"GET / HTTP/1.1\" "
                  "200 1");
    ok(ret_record_field(r, RET_F__COUNT, &p, &n) == 0, "field out of range");
    ok(ret_record_address(r, 1, &off, &len, &k) == 0,
       "address out of range");
    ok(ret_record_field(r, RET_F_REFERER, &p, &n) == 0,
       "a field the format lacks");
    ok(ret_record_bytes(r) == 1 && ret_record_status(r) == 200,
       "bytes and status");
    is_str(ret_parser_format_name(x.p), "common", "format name of a preset");
    close_p(&x);
}

/* Consecutive lines: the parser remembers the last day and offset; every
 * time must still be the one ret__time_clf() gives on its own. */
static void
test_time_cache(void)
{
    static const char *const t[] = {
        "10/Oct/2000:13:55:36 -0700", "10/Oct/2000:13:55:37 -0700",
        "10/Oct/2000:23:59:60 -0700", "11/Oct/2000:00:00:00 -0700",
        "11/Oct/2000:00:00:00 +0200", "11/Oct/2000:00:00:00 -0700",
        "11/oct/2000:01:02:03 -0700", "11/Oct/2001:01:02:03 -0700",
        "29/Feb/2024:12:00:00 +0000", "29/Feb/2024:12:00:01 +0000",
        "29/Feb/2024:24:00:00 +0000", "29/Feb/2024:12:60:00 +0000",
        "29/Feb/2024:12:00:61 +0000", "29/Feb/2024:1a:00:00 +0000",
        "29/Feb/2024:12-00:00 +0000", "29/Feb/2024:12:00:02 +0000",
        "29/Feb/2023:12:00:02 +0000", "29/Feb/2024:12:00:03 +0060",
        "1/Mar/2024:12:00:03 +0000", "01/Mar/2024:12:00:04 +0000",
    };
    struct P x;
    char line[256];
    size_t i;

    open_p(&x, "combined");
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        int64_t want = -1, got;
        int32_t wo = 0, go = 0;
        bool okw = ret__time_clf(t[i], strlen(t[i]), &want, &wo);

        snprintf(line, sizeof(line),
                 "192.0.2.1 - - [%s] \"GET / HTTP/1.1\" 200 1 \"-\" \"a\"",
                 t[i]);
        got = rtime(parse(&x, line), &go);
        if (okw)
            ok(got == want && go == wo, "cached CLF time %s", t[i]);
        else
            ok(got == -1 && reason_is(&x, "time"), "cached CLF time %s fails",
               t[i]);
    }
    close_p(&x);
}

/* ---- AWS load balancers, vhost_common, S3 ------------------------------ */

/* Lines written after AWS's and Apache's documentation of each format,
 * with documentation addresses. */
#define ELB_LINE                                                             \
    "2024-03-05T14:07:09.123456Z web-lb 203.0.113.7:51234 10.0.3.4:8080 "    \
    "0.000041 0.004512 0.000022 404 404 0 1532 \"GET "                       \
    "https://shop.example.org:443/cart/view?id=7&x=1 HTTP/1.1\" "           \
    "\"curl/8.5.0\" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2"
#define ALB_LINE                                                             \
    "h2 2024-03-05T14:07:09.654321Z app/prod-alb/50dc6c495c0c9188 "          \
    "192.0.2.10:49152 10.0.1.20:80 0.001 0.250 0.000 200 201 412 10240 "     \
    "\"GET https://api.example.net:443/v1/items?page=2 HTTP/2.0\" "         \
    "\"Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Firefox/123.0\" "          \
    "ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 "                                   \
    "arn:aws:elasticloadbalancing:eu-central-1:111122223333:targetgroup/"   \
    "tg-api/73e2d6bc24d8a067 \"Root=1-65e7255d-0123456789abcdef01234567\" " \
    "\"api.example.net\" \"arn:aws:acm:eu-central-1:111122223333:"          \
    "certificate/12345678-1234-1234-1234-123456789012\" 1 "                 \
    "2024-03-05T14:07:09.403000Z \"forward\" \"-\" \"-\" "                  \
    "\"10.0.1.20:80 10.0.1.21:80\" \"200\" \"-\" \"-\" TID_0123456789abcdef"
#define VHOST_COMMON_LINE                                                    \
    "www.example.org 192.0.2.5 - alice [05/Mar/2024:15:07:09 +0100] "       \
    "\"GET /index.html?lang=de HTTP/1.1\" 200 5120"
#define S3_LINE                                                              \
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef "      \
    "assets-bucket [05/Mar/2024:14:07:09 +0000] 203.0.113.200 - "           \
    "3E57427F3EXAMPLE REST.GET.OBJECT img/logo.png \"GET "                  \
    "/assets-bucket/img/logo.png?versionId=3 HTTP/1.1\" 200 - 2048 2048 25 " \
    "24 \"https://www.example.org/\" \"Mozilla/5.0 Safari/605.1.15\" - "    \
    "aGVsbG8gd29ybGQ= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader "        \
    "assets-bucket.s3.eu-central-1.amazonaws.com TLSv1.3 - -"

static void
test_elb(void)
{
    struct P x;
    const ret_record *r;
    int32_t off = 1;

    open_p(&x, "elb");
    r = parse(&x, ELB_LINE);
    ok(r != NULL, "ELB line parses (%s)", x.err.message);
    is_int(rtime(r, &off), 1709647629, "ELB: time, UTC");
    is_int(off, 0, "ELB: offset Z");
    is_int(ret_record_address_count(r), 2, "ELB: client and backend");
    is_str(addr(r, 0), "c 203.0.113.7:51234", "ELB: client ip:port");
    is_str(addr(r, 1), "o 10.0.3.4:8080", "ELB: backend, another address");
    is_str(fld(r, RET_F_CLIENT), "203.0.113.7:51234", "ELB: client field");
    is_int(ret_record_status(r), 404, "ELB: the load balancer's status");
    is_int(ret_record_bytes(r), 1532, "ELB: sent bytes");
    is_str(fld(r, RET_F_METHOD), "GET", "ELB: method");
    is_str(fld(r, RET_F_PATH), "/cart/view", "ELB: the path of the URL");
    is_str(fld(r, RET_F_QUERY), "id=7&x=1", "ELB: query");
    is_str(fld(r, RET_F_PROTOCOL), "HTTP/1.1", "ELB: protocol");
    is_str(fld(r, RET_F_VHOST), "shop.example.org", "ELB: host of the URL");
    is_str(fld(r, RET_F_REQUEST),
           "GET https://shop.example.org:443/cart/view?id=7&x=1 HTTP/1.1",
           "ELB: request");
    is_str(fld(r, RET_F_USER_AGENT), "curl/8.5.0", "ELB: user agent");
    is_int(r ? r->duration_us : 0, 4512, "ELB: backend processing time");
    ok(!x.p->partial, "ELB: read whole");
    /* no backend, times -1, a status of the load balancer alone */
    r = parse(&x, "2024-03-05T14:07:10.000001Z web-lb 198.51.100.23:40000 - "
                  "-1 -1 -1 503 - 0 0 \"POST http://shop.example.org:80/api "
                  "HTTP/1.1\" \"-\" - -");
    ok(r != NULL, "ELB: '-' backend and statuses, -1 times (%s)",
       x.err.message);
    is_int(ret_record_address_count(r), 1, "ELB: no backend address");
    is_int(ret_record_status(r), 503, "ELB: 503 without a backend");
    is_int(ret_record_bytes(r), 0, "ELB: no bytes");
    is_int(r ? r->duration_us : 0, -1, "ELB: no backend time");
    is_str(fld(r, RET_F_USER_AGENT), "(absent)", "ELB: '-' user agent");
    is_str(fld(r, RET_F_PATH), "/api", "ELB: path");
    /* a TCP listener: no request, no status */
    r = parse(&x, "2024-03-05T14:07:11.5Z tcp-lb 192.0.2.44:3000 "
                  "10.0.3.5:22 0.000100 0.000200 0.000300 - - 120 4096 "
                  "\"- - - \" \"-\" - -");
    ok(r != NULL, "ELB: a TCP connection (%s)", x.err.message);
    is_int(ret_record_status(r), 0, "ELB TCP: no status");
    is_int(ret_record_bytes(r), 4096, "ELB TCP: bytes");
    is_str(fld(r, RET_F_METHOD), "(absent)", "ELB TCP: no method");
    is_str(fld(r, RET_F_PATH), "(absent)", "ELB TCP: no path");
    is_str(addr(r, 0), "c 192.0.2.44:3000", "ELB TCP: client");
    /* before 2014: the line ends after the request */
    r = parse(&x, "2014-01-02T03:04:05.000006Z old-lb [2001:db8::5]:1234 "
                  "10.0.0.9:80 0.1 0.2 0.3 200 200 0 77 \"GET "
                  "http://example.com:80/ HTTP/1.1\"");
    ok(r != NULL, "ELB: the old format without user agent (%s)",
       x.err.message);
    is_int(rtime(r, NULL), 1388631845, "ELB old: time");
    is_str(addr(r, 0), "c [2001:db8::5]:1234", "ELB: bracketed IPv6 client");
    is_str(fld(r, RET_F_PATH), "/", "ELB old: path");
    parse(&x, "2024-03-05T14:07:09Z web-lb 203.0.113.7:51234 - 0.1 0.x 0.1 "
              "200 200 0 1 \"GET / HTTP/1.1\" \"x\" - -");
    ok(reason_is(&x, "fields"), "ELB: a time that is no number: fields");
    parse(&x, "2024-03-05T14:07:09Z web-lb 203.0.113.7:51234 - 0.1 0.1 0.1 "
              "200 200 0 1 \"GET / HTTP/1.1\" \"x\" -");
    ok(reason_is(&x, "fields"), "ELB: a field missing: fields");
    parse(&x, "2024-13-05T14:07:09Z web-lb 203.0.113.7:51234 - 0.1 0.1 0.1 "
              "200 200 0 1 \"GET / HTTP/1.1\" \"x\" - -");
    ok(reason_is(&x, "time"), "ELB: month 13: time");
    parse(&x, "2024-03-05T14:07:09Z web-lb 203.0.113.7:51234 - 0.1 0.1 0.1 "
              "200 200 0 1 \"GET / HTTP/1.1\" \"x - -");
    ok(reason_is(&x, "quote"), "ELB: unterminated quote: quote");
    parse(&x, ALB_LINE);
    ok(x.st == RET_E_PARSE, "ELB does not read an ALB line");
    parse(&x, "83.149.9.216 - - [17/May/2015:10:05:03 +0000] \"GET / "
              "HTTP/1.1\" 200 1 \"-\" \"-\"");
    ok(x.st == RET_E_PARSE, "ELB does not read a combined line");
    ok(parse(&x, "# a comment") == NULL && x.st == RET_EOF,
       "ELB: a comment is skipped");
    close_p(&x);
}

static void
test_alb(void)
{
    struct P x;
    const ret_record *r;
    char line[2048];

    open_p(&x, "alb");
    r = parse(&x, ALB_LINE);
    ok(r != NULL, "ALB line parses (%s)", x.err.message);
    is_int(rtime(r, NULL), 1709647629, "ALB: time, UTC");
    is_int(ret_record_address_count(r), 4,
           "ALB: client, target and the target list");
    is_str(addr(r, 0), "c 192.0.2.10:49152", "ALB: client ip:port");
    is_str(addr(r, 1), "o 10.0.1.20:80", "ALB: target");
    is_str(addr(r, 2), "o 10.0.1.20:80", "ALB: target list 1");
    is_str(addr(r, 3), "o 10.0.1.21:80", "ALB: target list 2");
    is_int(ret_record_status(r), 200, "ALB: elb_status_code");
    is_int(ret_record_bytes(r), 10240, "ALB: sent bytes");
    is_str(fld(r, RET_F_METHOD), "GET", "ALB: method");
    is_str(fld(r, RET_F_PATH), "/v1/items", "ALB: path, not the URL");
    is_str(fld(r, RET_F_QUERY), "page=2", "ALB: query");
    is_str(fld(r, RET_F_PROTOCOL), "HTTP/2.0", "ALB: protocol");
    is_str(fld(r, RET_F_VHOST), "api.example.net", "ALB: host");
    is_str(fld(r, RET_F_USER_AGENT),
           "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Firefox/123.0",
           "ALB: user agent with spaces");
    is_int(r ? r->duration_us : 0, 250000, "ALB: target processing time");
    ok(!x.p->partial, "ALB: read whole");
    /* fields a newer version appends: read, their addresses listed */
    snprintf(line, sizeof(line), "%s \"new\" 198.51.100.99", ALB_LINE);
    r = parse(&x, line);
    ok(r != NULL, "ALB: trailing fields of a newer version (%s)",
       x.err.message);
    is_int(ret_record_address_count(r), 5, "ALB: an address among them");
    is_str(addr(r, 4), "f 198.51.100.99", "ALB: listed, to be masked");
    /* the shortest: up to target_group_arn; '-' target and statuses */
    r = parse(&x, "http 2024-03-05T14:08:00.000000Z app/prod-alb/50dc6c49 "
                  "[2001:db8::77]:50000 - -1 -1 -1 460 - 38 0 \"GET "
                  "http://api.example.net:80/ HTTP/1.1\" \"-\" - - -");
    ok(r != NULL, "ALB: '-' target, -1 times (%s)", x.err.message);
    is_int(rtime(r, NULL), 1709647680, "ALB short: time");
    is_int(ret_record_address_count(r), 1, "ALB short: the client alone");
    is_str(addr(r, 0), "c [2001:db8::77]:50000", "ALB: IPv6 client");
    is_int(ret_record_status(r), 460, "ALB: 460");
    is_int(ret_record_bytes(r), 0, "ALB: 0 bytes");
    is_str(fld(r, RET_F_PATH), "/", "ALB short: path");
    is_int(r ? r->duration_us : 0, -1, "ALB: no target time");
    parse(&x, "http 2024-03-05T14:08:00.000000Z app/prod-alb/50dc6c49 "
              "192.0.2.1:5 - -1 -1 -1 460 - 38 0 \"GET http://a:80/ "
              "HTTP/1.1\" \"-\" - -");
    ok(reason_is(&x, "fields"), "ALB: no target_group_arn: fields");
    parse(&x, "HTTPS 2024-03-05T14:08:00.000000Z app/prod-alb/50dc6c49 "
              "192.0.2.1:5 - -1 -1 -1 460 - 38 0 \"GET http://a:80/ "
              "HTTP/1.1\" \"-\" - - -");
    ok(reason_is(&x, "fields"), "ALB: not a type: fields");
    parse(&x, "http 2024-03-05T14:08:00.000000Z app/prod-alb/50dc6c49 "
              "192.0.2.1:5 - -1 -1 -1 4600 - 38 0 \"GET http://a:80/ "
              "HTTP/1.1\" \"-\" - - -");
    ok(reason_is(&x, "status"), "ALB: status 4600: status");
    parse(&x, ELB_LINE);
    ok(x.st == RET_E_PARSE, "ALB does not read an ELB line");
    close_p(&x);
}

static void
test_vhost_common_s3(void)
{
    struct P x;
    const ret_record *r;
    int32_t off = 0;

    open_p(&x, "vhost_common");
    r = parse(&x, VHOST_COMMON_LINE);
    ok(r != NULL, "vhost_common line parses (%s)", x.err.message);
    is_str(fld(r, RET_F_VHOST), "www.example.org", "vhost_common: vhost");
    is_str(addr(r, 0), "c 192.0.2.5", "vhost_common: client");
    is_int(ret_record_address_count(r), 1, "vhost_common: one address");
    is_str(fld(r, RET_F_USER), "alice", "vhost_common: user");
    is_int(rtime(r, &off), 1709647629, "vhost_common: time, UTC");
    is_int(off, 3600, "vhost_common: offset +0100");
    is_int(ret_record_status(r), 200, "vhost_common: status");
    is_int(ret_record_bytes(r), 5120, "vhost_common: bytes");
    is_str(fld(r, RET_F_PATH), "/index.html", "vhost_common: path");
    is_str(fld(r, RET_F_QUERY), "lang=de", "vhost_common: query");
    ok(!x.p->partial, "vhost_common: read whole");
    r = parse(&x, "h.example 2001:db8::9 - - [05/Mar/2024:15:07:09 +0100] "
                  "\"GET / HTTP/1.1\" 304 -");
    ok(r != NULL, "vhost_common: '-' user and bytes");
    is_int(ret_record_bytes(r), 0, "vhost_common: '-' bytes are 0");
    is_str(fld(r, RET_F_USER), "(absent)", "vhost_common: '-' user");
    is_str(addr(r, 0), "c 2001:db8::9", "vhost_common: IPv6 client");
    parse(&x, "192.0.2.5 - - [05/Mar/2024:15:07:09 +0100] \"GET / "
              "HTTP/1.1\" 200 1");
    ok(reason_is(&x, "time"), "vhost_common does not read common");
    close_p(&x);

    open_p(&x, "s3");
    r = parse(&x, S3_LINE);
    ok(r != NULL, "S3 line parses (%s)", x.err.message);
    is_str(fld(r, RET_F_VHOST), "assets-bucket", "S3: the bucket as vhost");
    is_int(ret_record_address_count(r), 1, "S3: one address");
    is_str(addr(r, 0), "c 203.0.113.200", "S3: remote IP");
    is_str(fld(r, RET_F_USER), "(absent)", "S3: '-' requester");
    is_int(rtime(r, NULL), 1709647629, "S3: time");
    is_int(ret_record_status(r), 200, "S3: status");
    is_int(ret_record_bytes(r), 2048, "S3: bytes sent");
    is_str(fld(r, RET_F_PATH), "/assets-bucket/img/logo.png", "S3: path");
    is_str(fld(r, RET_F_QUERY), "versionId=3", "S3: query");
    is_str(fld(r, RET_F_REFERER), "https://www.example.org/", "S3: referer");
    is_str(fld(r, RET_F_USER_AGENT), "Mozilla/5.0 Safari/605.1.15",
           "S3: user agent");
    is_int(r ? r->duration_us : 0, 25000, "S3: total time in ms");
    r = parse(&x, "0123456789abcdef0123456789abcdef0123456789abcdef01234567"
                  "89abcdef b [05/Mar/2024:14:07:09 +0000] 192.0.2.8 "
                  "arn:aws:iam::111122223333:user/ops 891CE47D2EXAMPLE "
                  "REST.GET.OBJECT nokey \"GET /b/nokey HTTP/1.1\" 404 "
                  "NoSuchKey - - 3 - \"-\" \"aws-cli/2.15.0\"");
    ok(r != NULL, "S3: an error, '-' bytes and times (%s)", x.err.message);
    is_int(ret_record_status(r), 404, "S3: 404");
    is_int(ret_record_bytes(r), 0, "S3: '-' bytes are 0");
    is_str(fld(r, RET_F_USER), "arn:aws:iam::111122223333:user/ops",
           "S3: requester");
    ok(!x.p->partial, "S3: a line of the 2012 length is read whole");
    parse(&x, VHOST_COMMON_LINE);
    ok(x.st == RET_E_PARSE, "S3 does not read vhost_common");
    close_p(&x);
}

/* auto picks each of them from its lines; the ones it picked before stay */
static void
test_auto_new(void)
{
    static const struct {
        const char *line, *name;
    } t[] = {
        {ELB_LINE, "elb"},
        {ALB_LINE, "alb"},
        {VHOST_COMMON_LINE, "vhost_common"},
        {S3_LINE, "s3"},
        {"www.example.org 192.0.2.5 - - [05/Mar/2024:15:07:09 +0100] "
         "\"GET / HTTP/1.1\" 200 1 \"-\" \"curl\"",
         "vhost_combined_noport"},
        {"192.0.2.5 - - [05/Mar/2024:15:07:09 +0100] \"GET / HTTP/1.1\" 200 1",
         "common"},
    };
    size_t i, k;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct P x;
        const ret_record *r = NULL;
        const char *name;

        open_p(&x, "auto");
        if (i == 0)
            parse(&x, "# a comment before the first request");
        for (k = 0; k < 25; k++)
            r = parse(&x, t[i].line);
        name = ret_parser_format_name(x.p);
        ok(name != NULL && strcmp(name, t[i].name) == 0, "auto: %s (%s)",
           t[i].name, name ? name : "none");
        ok(x.p->locked, "auto: %s settled", t[i].name);
        ok(r != NULL && ret_record_address_count(r) >= 1 &&
               r->addr[0].kind == RET_ADDR_CLIENT,
           "auto: %s record with its client", t[i].name);
        close_p(&x);
    }
}

/* RET_PARSE_ADDRESSES: the same lines parse, with the same addresses;
 * the request, where it is kept, is left unsplit. */
static void
test_scope(void)
{
    static const struct {
        const char *spec, *line;
    } t[] = {
        {"combined", "83.149.9.216 - frank [17/May/2015:10:05:03 +0000] "
                     "\"GET /a/b.png?size=1 HTTP/1.1\" 200 203 \"-\" \"x\""},
        {"combined", "2001:db8::7, 10.1.2.3 - - [17/May/2015:10:05:03 +0000] "
                     "\"POST /login HTTP/2.0\" 302 0 \"-\" \"-\" extra 192.0.2.9"},
        {"combined", "83.149.9.216 - - [17/May/2015:10:05:03 +0000] \"-\" "
                     "400 0 \"-\" \"-\""},
        {"combined", "83.149.9.216 - - [32/May/2015:10:05:03 +0000] "
                     "\"GET / HTTP/1.1\" 200 1 \"-\" \"-\""},
        {"combined", "83.149.9.216 - - [17/May/2015:10:05:03 +0000] "
                     "\"GET / HTTP/1.1\" 2x0 1 \"-\" \"-\""},
        {"nginx", "198.51.100.4 - - [17/May/2015:10:05:03 +0000] \"GET "
                  "/?q=1 HTTP/1.1\" 200 5 \"-\" \"curl\""},
        {"json", "{\"remote_addr\":\"192.0.2.1\",\"time_iso8601\":"
                 "\"2015-05-17T10:05:03+00:00\",\"request\":\"GET /x?y HTTP/1.1\","
                 "\"status\":200,\"http_x_forwarded_for\":\"203.0.113.5\"}"},
        {"haproxy", "Feb  6 12:14:14 localhost haproxy[14389]: 10.0.1.2:33317 "
                    "[06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 "
                    "200 2750 - - ---- 1/1/1/1/0 0/0 \"GET /index.html?a HTTP/1.1\""},
        {"auto", "83.149.9.216 - - [17/May/2015:10:05:03 +0000] "
                 "\"GET /a?b HTTP/1.1\" 200 203 \"-\" \"x\""},
        {"elb", ELB_LINE},
        {"alb", ALB_LINE},
    };
    size_t i, j;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct P all, ad;
        const ret_record *ra, *rb;
        size_t na, nb;

        open_p(&all, t[i].spec);
        open_p(&ad, t[i].spec);
        ret_parser_set_scope(ad.p, RET_PARSE_ADDRESSES);
        ra = parse(&all, t[i].line);
        rb = parse(&ad, t[i].line);
        is_int(ad.st, all.st, "scope %zu (%s): the same status", i,
               t[i].spec);
        if (ra != NULL && rb != NULL) {
            na = ret_record_address_count(ra);
            nb = ret_record_address_count(rb);
            is_int(nb, na, "scope %zu: the same number of addresses", i);
            for (j = 0; j < na && j < nb; j++)
                is_str(addr(rb, j), addr(ra, j), "scope %zu: address %zu", i,
                       j);
            if (fld(rb, RET_F_REQUEST)[0] != '(')
                is_str(fld(rb, RET_F_REQUEST), fld(ra, RET_F_REQUEST),
                       "scope %zu: the request, where kept, is the same", i);
            if (fld(ra, RET_F_PATH)[0] != '(')
                is_str(fld(rb, RET_F_PATH), "(absent)",
                       "scope %zu: but not split", i);
        }
        close_p(&all);
        close_p(&ad);
    }
    /* a fork reads as its parent does, in the same scope */
    {
        struct P x;
        ret_parser *fk = NULL;
        const ret_record *r;
        const char *w1, *w2;
        ret_error e;
        size_t k;

        open_p(&x, "auto");
        ret_parser_set_scope(x.p, RET_PARSE_ADDRESSES);
        ok(ret__parser_fork(x.p, &fk, &e) != RET_OK,
           "an auto parser still detecting cannot be forked");
        for (k = 0; k < 25; k++)
            parse(&x, t[0].line);
        ok(ret__parser_fork(x.p, &fk, &e) == RET_OK, "a settled one can");
        r = NULL;
        if (fk != NULL &&
            ret_parser_parse(fk, t[0].line, strlen(t[0].line), &r, &e) ==
                RET_OK) {
            is_str(addr(r, 0), "c 83.149.9.216", "the fork finds the client");
            is_str(fld(r, RET_F_PATH), "(absent)", "in the parent's scope");
        } else {
            ok(0, "the fork parses");
        }
        ret_parser_free(fk);
        close_p(&x);
        /* W3C: a fork takes the #Fields: read so far, and keeps its own */
        open_p(&x, "auto");
        parse(&x, "#Fields: date time c-ip cs-uri-stem sc-status");
        ok(ret__parser_keeps_state(x.p), "W3C keeps state between lines");
        fk = NULL;
        ok(ret__parser_fork(x.p, &fk, &e) == RET_OK, "W3C can be forked");
        r = NULL;
        w1 = "2026-12-01 10:00:00 192.0.2.9 /a 200";
        w2 = "192.0.2.10 2026-12-01 10:00:00 /a 200";
        if (fk != NULL &&
            ret_parser_parse(fk, w1, strlen(w1), &r, &e) == RET_OK) {
            is_str(addr(r, 0), "c 192.0.2.9", "the W3C fork has the fields");
            parse(&x, "#Fields: c-ip date time cs-uri-stem sc-status");
            ret__parser_copy_state(fk, x.p);
            r = NULL;
            if (ret_parser_parse(fk, w2, strlen(w2), &r, &e) != RET_OK)
                r = NULL;
            is_str(r ? addr(r, 0) : "(none)", "c 192.0.2.10",
                   "the parent's new #Fields: copied into the fork");
        } else {
            ok(0, "the W3C fork parses");
        }
        ret_parser_free(fk);
        close_p(&x);
        open_p(&x, "combined");
        ok(!ret__parser_keeps_state(x.p), "combined keeps no state");
        close_p(&x);
    }
}

/* A record as text: every field, the time, status, bytes, addresses. */
static void
rec_text(const ret_record *r, char *buf, size_t size)
{
    size_t n = 0, i, off, len;
    int f;
    int64_t t = 0;
    int32_t o = 0;
    ret_addr_kind k;

    for (f = 0; f < RET_F__COUNT; f++) {
        const char *p;
        size_t fn;

        if (ret_record_field(r, (ret_field)f, &p, &fn))
            n += (size_t)snprintf(buf + n, size - n, "%d@%td+%zu;", f,
                                  p - r->line, fn);
        if (n >= size)
            return;
    }
    if (ret_record_time(r, &t, &o))
        n += (size_t)snprintf(buf + n, size - n, "t%lld%+d;", (long long)t,
                              (int)o);
    if (n < size)
        n += (size_t)snprintf(buf + n, size - n, "s%d b%lld;",
                              ret_record_status(r),
                              (long long)ret_record_bytes(r));
    for (i = 0; n < size && ret_record_address(r, i, &off, &len, &k); i++)
        n += (size_t)snprintf(buf + n, size - n, "a%d@%zu+%zu;", (int)k, off,
                              len);
}

/* The addresses of a record as text. */
static void
addrs_text(const ret_record *r, char *buf, size_t size)
{
    size_t n = 0, i, off, len;
    ret_addr_kind k;

    buf[0] = '\0';
    for (i = 0; n < size && ret_record_address(r, i, &off, &len, &k); i++)
        n += (size_t)snprintf(buf + n, size - n, "a%d@%zu+%zu;", (int)k, off,
                              len);
}

/* A parse's outcome as text: its record (rec_text), or its status and
 * message. */
static void
result_text(ret_status st, const ret_record *r, const ret_error *e,
            char *buf, size_t size)
{
    buf[0] = '\0';
    if (st == RET_OK)
        rec_text(r, buf, size);
    else
        snprintf(buf, size, "%d %s", (int)st, e->message);
}

/* Up to three random edits of buf[start..n): a byte replaced by one of
 * the nnoise bytes of noise, deleted, inserted (where buf, of cap
 * bytes, has room), or the text cut there (one time in cut); returns
 * the new n. */
static size_t
mutate(char *buf, size_t start, size_t n, size_t cap, const char *noise,
       size_t nnoise, unsigned cut, unsigned *seed)
{
    unsigned m, nm = (unsigned)(rand_r(seed) % 4);

    for (m = 0; m < nm && n > start; m++) {
        size_t at = start + (size_t)rand_r(seed) % (n - start);
        char c = noise[(size_t)rand_r(seed) % nnoise];

        switch (rand_r(seed) % 4) {
        case 0: buf[at] = c; break;
        case 1: /* delete */
            memmove(buf + at, buf + at + 1, n - at - 1);
            n--;
            break;
        case 2: /* insert */
            if (n + 1 < cap) {
                memmove(buf + at + 1, buf + at, n - at);
                buf[at] = c;
                n++;
            }
            break;
        default: /* cut short */
            if (cut <= 1 || rand_r(seed) % cut != 0)
                n = at;
        }
    }
    return n;
}

/* The combined preset's own scanner against the generic one, on random
 * mutations of real lines: the same result, record and message. In the
 * addresses scope (where the usual lines take a shorter way, which
 * stores the addresses alone): the same result, message and addresses. */
static void
test_specialized(void)
{
    static const char *const seeds[] = {
        combined_line,
        "2001:db8::1, 10.0.0.1 - - [01/Dec/2026:10:00:00 +0100] \"GET /a?b=1 "
        "HTTP/1.1\" 200 512 \"https://x.example/\" \"Mozilla/5.0 (X11)\"",
        "[::1]:443 - u [01/Dec/2026:10:00:00 -0000] \"-\" 400 - \"-\" \"-\"",
        "\"192.0.2.1\" - - [01/Dec/2026:10:00:00 +0000] \"POST / HTTP/2.0\" "
        "201 0 \"-\" \"a \\\"b\\\" c\" extra 192.0.2.2",
        "192.0.2.1 id=192.0.2.3 - [01/Dec/2026:10:00:00 +0000] \"GET "
        "/x?ip=192.0.2.1 HTTP/1.1\" 200 - \"http://192.0.2.1/\" \"ua\"",
        "2001:db8:1::7 - - [01/Dec/2026:10:00:00 +0000] \"\" 404 17 \"\" \"\"",
        /* fields of several 16- and 32-byte looks (quotes_*) */
        "203.0.113.77 - - [01/Dec/2026:10:00:01 +0000] \"GET /downloads/"
        "preisblatt-2026.pdf?utm_source=newsletter HTTP/1.1\" 200 48213 "
        "\"https://www.example.org/search?q=strom&page=2\" \"Mozilla/5.0 "
        "(Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/131.0.0.0 Safari/537.36\"",
    };
    static const char noise[] = " \"[]\\-,:./0123456789aZ\t%";
    struct P gen, spe, adr, nar;
    char line[600], a[2048], b[2048];
    unsigned seed = 12345, i, bad = 0, parsed = 0, bad_adr = 0, short_way = 0,
             bad_nar = 0;
    bool wide;
    size_t n, iters = 200000;

    open_p(&gen, "combined");
    open_p(&spe, "combined");
    open_p(&adr, "combined");
    ret_parser_set_scope(adr.p, RET_PARSE_ADDRESSES);
    /* the addresses scope again, with the narrow search of its quotes;
     * adr has the wide one where the CPU has it */
    open_p(&nar, "combined");
    ret_parser_set_scope(nar.p, RET_PARSE_ADDRESSES);
    ok(!ret__parser_set_wide(nar.p, false), "the wide search can be off");
    wide = ret__parser_set_wide(adr.p, true);
    diag("the wide search is %s", wide ? "on" : "not available here");
    ok(ret__parser_specialized(spe.p), "combined has its own scanner");
    ret__parser_set_generic(gen.p);
    ok(!ret__parser_specialized(gen.p), "which can be turned off");
    for (i = 0; i < iters; i++) {
        const char *sd = seeds[i % (sizeof(seeds) / sizeof(seeds[0]))];
        const ret_record *ra, *rb;
        ret_error ea, eb;
        ret_status sa, sb;

        n = strlen(sd);
        memcpy(line, sd, n);
        n = mutate(line, 0, n, sizeof(line), noise, sizeof(noise) - 1, 1,
                   &seed);
        memset(&ea, 0, sizeof(ea));
        memset(&eb, 0, sizeof(eb));
        ra = rb = NULL;
        sa = ret_parser_parse(gen.p, line, n, &ra, &ea);
        sb = ret_parser_parse(spe.p, line, n, &rb, &eb);
        result_text(sa, ra, &ea, a, sizeof(a));
        result_text(sb, rb, &eb, b, sizeof(b));
        parsed += sa == RET_OK;
        if (sa != sb || strcmp(a, b) != 0) {
            if (bad++ < 3)
                diag("differ on '%.*s':\n  generic: %s\n  special: %s",
                     (int)n, line, a, b);
        }
        /* the addresses scope, against the generic scanner */
        memset(&eb, 0, sizeof(eb));
        rb = NULL;
        sb = ret_parser_parse(adr.p, line, n, &rb, &eb);
        if (sa == RET_OK)
            addrs_text(ra, a, sizeof(a));
        if (sb == RET_OK) {
            addrs_text(rb, b, sizeof(b));
            short_way += !ret_record_field(rb, RET_F_TIME, NULL, NULL);
        } else {
            snprintf(b, sizeof(b), "%d %s", (int)sb, eb.message);
        }
        if (sa != sb || strcmp(a, b) != 0) {
            if (bad_adr++ < 3)
                diag("addresses scope differs on '%.*s':\n  generic: %s\n"
                     "  scope:   %s", (int)n, line, a, b);
        }
        memset(&eb, 0, sizeof(eb));
        rb = NULL;
        sb = ret_parser_parse(nar.p, line, n, &rb, &eb);
        if (sb == RET_OK)
            addrs_text(rb, b, sizeof(b));
        else
            snprintf(b, sizeof(b), "%d %s", (int)sb, eb.message);
        if (sa != sb || strcmp(a, b) != 0) {
            if (bad_nar++ < 3)
                diag("narrow search differs on '%.*s':\n  generic: %s\n"
                     "  narrow:  %s", (int)n, line, a, b);
        }
    }
    is_int(bad, 0, "the two scanners agree on %zu mutated lines", iters);
    is_int(bad_adr, 0, "and in the addresses scope, their addresses too");
    is_int(bad_nar, 0, "with the narrow search of the quotes too");
    ok(short_way > iters / 10 && short_way < parsed,
       "the shorter way read some of the lines, not all (%u)", short_way);
    ok(parsed > iters / 10 && parsed < iters - iters / 10,
       "both outcomes were tried (%u parsed)", parsed);
    close_p(&gen);
    close_p(&spe);
    close_p(&adr);
    close_p(&nar);
}

/*
 * ret__parser_parse_next (a combined line's end found in its walk of the
 * quotes) against memchr + ret_parser_parse, on blocks of mutated lines:
 * '\n' inside the fields, "\r\n", NUL bytes, quotes anywhere, comments,
 * blank and short lines, no final newline. Each block is a buffer of its
 * own exact size, so that a read past its end is caught (ASan). The
 * same lengths, results, messages and records, with the wide search of
 * the quotes and the narrow one, in both scopes.
 */
static void
test_parse_next(void)
{
    static const char *const seeds[] = {
        combined_line,
        "2001:db8::1, 10.0.0.1 - - [01/Dec/2026:10:00:00 +0100] \"GET /a?b=1 "
        "HTTP/1.1\" 200 512 \"https://x.example/\" \"Mozilla/5.0 (X11)\"",
        "192.0.2.1 - frank [01/Dec/2026:10:00:00 +0000] \"GET / HTTP/1.1\" "
        "200 - \"-\" \"-\"",
        "192.0.2.1 id=192.0.2.3 - [01/Dec/2026:10:00:00 +0000] \"GET "
        "/x?ip=192.0.2.1 HTTP/1.1\" 200 - \"http://192.0.2.1/\" \"ua\"",
        "2001:db8:1::7 - - [01/Dec/2026:10:00:00 +0000] \"\" 404 17 \"\" \"\"",
        "203.0.113.77 - - [01/Dec/2026:10:00:01 +0000] \"GET /downloads/"
        "preisblatt-2026.pdf?utm_source=newsletter HTTP/1.1\" 200 48213 "
        "\"https://www.example.org/search?q=strom&page=2\" \"Mozilla/5.0 "
        "(Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/131.0.0.0 Safari/537.36\"",
        "\"192.0.2.1\" - - [01/Dec/2026:10:00:00 +0000] \"POST / HTTP/2.0\" "
        "201 0 \"-\" \"a \\\"b\\\" c\" extra 192.0.2.2",
        "10.1.2.3 - - [02/Dec/2026:23:59:59 -0500] \"GET /x HTTP/1.0\" 304 0 "
        "\"-\" \"curl/8\"",
        "# 192.0.2.9 - - [01/Dec/2026:10:00:00 +0000] \"GET /\" 200 1 \"-\" "
        "\"-\"",
        "short 192.0.2.4",
        "",
        " \t ",
    };
    static const char noise[] = "\n\n\r\"\"\0 []\\-,:/09aZ\t";
    enum { NP = 4 };
    struct P ref[NP], nxt[NP];
    char blk[4096], a[2048], b[2048];
    unsigned seed = 4242, bad = 0, lines = 0, quick = 0, nonl = 0, k;
    size_t iters = 40000, it;
    bool wide;

    /* 0, 1: the addresses scope, wide and narrow; 2: the whole record;
     * 3: an auto parser (detecting, then combined) */
    for (k = 0; k < NP; k++) {
        open_p(&ref[k], k == 3 ? "auto" : "combined");
        open_p(&nxt[k], k == 3 ? "auto" : "combined");
        if (k != 2) {
            ret_parser_set_scope(ref[k].p, RET_PARSE_ADDRESSES);
            ret_parser_set_scope(nxt[k].p, RET_PARSE_ADDRESSES);
        }
    }
    wide = ret__parser_set_wide(nxt[0].p, true);
    ret__parser_set_wide(ref[0].p, true);
    ok(!ret__parser_set_wide(nxt[1].p, false) &&
           !ret__parser_set_wide(ref[1].p, false),
       "the narrow search for the block's lines");
    diag("the wide search is %s", wide ? "on" : "not available here");
    for (it = 0; it < iters; it++) {
        size_t n = 0, nl = 1 + (size_t)rand_r(&seed) % 6, j;
        char *buf;

        for (j = 0; j < nl; j++) {
            const char *sd = seeds[(size_t)rand_r(&seed) %
                                   (rand_r(&seed) % 4 == 0
                                        ? sizeof(seeds) / sizeof(seeds[0])
                                        : 6)];
            size_t sn = strlen(sd), start = n;

            if (n + sn + 8 > sizeof(blk))
                break;
            memcpy(blk + n, sd, sn);
            n = mutate(blk, start, n + sn, sizeof(blk), noise,
                       sizeof(noise) - 1, 2, &seed);
            /* the line's end: mostly "\n", then "\r\n", "\r", none */
            switch (rand_r(&seed) % 8) {
            case 0: blk[n++] = '\r'; blk[n++] = '\n'; break;
            case 1: blk[n++] = '\r'; break;
            case 2: /* none at the block's end */
                if (j + 1 != nl)
                    blk[n++] = '\n';
                break;
            default: blk[n++] = '\n';
            }
        }
        if (n == 0)
            continue;
        /* a buffer of the block's size: nothing readable after it */
        if ((buf = malloc(n)) == NULL)
            abort();
        memcpy(buf, blk, n);
        for (k = 0; k < NP; k++) {
            const char *line = buf, *end = buf + n;

            while (line < end) {
                const char *q = memchr(line, '\n', (size_t)(end - line));
                size_t la = q != NULL ? (size_t)(q - line) + 1
                                      : (size_t)(end - line),
                       lb = 0;
                const ret_record *ra = NULL, *rb = NULL;
                ret_error ea, eb;
                ret_status sa, sb;

                memset(&ea, 0, sizeof(ea));
                memset(&eb, 0, sizeof(eb));
                sa = ret_parser_parse(ref[k].p, line, la, &ra, &ea);
                sb = ret__parser_parse_next(nxt[k].p, line, end, &lb, &rb,
                                            &eb);
                result_text(sa, ra, &ea, a, sizeof(a));
                result_text(sb, rb, &eb, b, sizeof(b));
                if (la != lb || sa != sb || strcmp(a, b) != 0 ||
                    (sa == RET_OK &&
                     (ra->line != line || rb->line != line ||
                      ra->len != rb->len))) {
                    if (bad++ < 3)
                        diag("parser %u differs on '%.*s' (%zu bytes "
                             "left):\n  memchr: %zu %s\n  next:   %zu %s",
                             k, (int)la, line, (size_t)(end - line), la, a,
                             lb, b);
                }
                if (k == 0) {
                    lines++;
                    quick += sa == RET_OK &&
                             !ret_record_field(ra, RET_F_TIME, NULL, NULL);
                    nonl += q == NULL && sa == RET_OK;
                }
                /* go on after the reference's line: one difference
                 * does not hide the rest */
                line += la;
            }
        }
        free(buf);
    }
    is_int(bad, 0, "the lines of %zu mutated blocks: same lengths, results "
                   "and records as memchr + ret_parser_parse", iters);
    ok(quick > lines / 8 && quick < lines - lines / 10,
       "many lines took the short way, not all (%u of %u)", quick, lines);
    ok(nonl > 100, "some ended the block without a newline (%u)", nonl);
    ok(ret__parser_specialized(nxt[3].p), "the auto parser chose combined");
    for (k = 0; k < NP; k++) {
        close_p(&ref[k]);
        close_p(&nxt[k]);
    }
}

int
main(void)
{
    test_time();
    test_time_cache();
    test_compiler();
    test_combined();
    test_nginx();
    test_w3c();
    test_json();
    test_haproxy_regex();
    test_elb();
    test_alb();
    test_vhost_common_s3();
    test_auto();
    test_auto_new();
    test_long_line();
    test_api_edges();
    test_scope();
    test_specialized();
    test_parse_next();
    return done_testing();
}
