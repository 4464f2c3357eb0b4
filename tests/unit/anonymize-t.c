/*
 * anonymize-t.c - the anonymizer: a table of edge cases with exact
 * expected output, methods, anonip column and regex modes, a property
 * test over random logs, and key files.
 *
 * In the table, "{{" "}}" mark a client span, "<<" ">>" a forwarded
 * span and "[[" "]]" another address span (a server address) of a
 * hand-built record (the markers are removed from the input);
 * a line without markers is passed as unparsed (record NULL).
 */
#include "internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../tap.h"

#define S(s) s, sizeof(s) - 1

enum { NONE = 0, SCAN_ALL = 1 };

static const struct tcase {
    const char *in;
    size_t inlen;
    const char *out;
    size_t outlen;
    int flags;
} cases[] = {
    /* IPv4 forms, unparsed lines (fail closed: every token masked) */
    {S("192.0.2.133 - - [01/Dec/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 5\n"),
     S("192.0.2.0 - - [01/Dec/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 5\n"), 0},
    {S("010.001.002.003 x\n"), S("10.1.2.0 x\n"), 0},
    {S("192.000.002.255 x\n"), S("192.0.2.0 x\n"), 0},
    {S("192.0.2.133:51234 x\n"), S("192.0.2.0:51234 x\n"), 0},
    {S("[192.0.2.133]:443 x\n"), S("[192.0.2.0]:443 x\n"), 0},
    {S("[192.0.2.133] x\n"), S("[192.0.2.0] x\n"), 0},
    {S("\"192.0.2.133\" x\n"), S("\"192.0.2.0\" x\n"), 0},
    {S("'192.0.2.133' x\n"), S("'192.0.2.0' x\n"), 0},
    {S("(192.0.2.133)\n"), S("(192.0.2.0)\n"), 0},
    {S("192.0.2.133,198.51.100.7\n"), S("192.0.2.0,198.51.100.0\n"), 0},
    {S("192.0.2.133, 198.51.100.7, 203.0.113.9\n"),
     S("192.0.2.0, 198.51.100.0, 203.0.113.0\n"), 0},
    {S("192.0.2.133\t-\t-\n"), S("192.0.2.0\t-\t-\n"), 0},
    {S(" 192.0.2.133 x\n"), S(" 192.0.2.0 x\n"), 0},
    {S("192.0.2.133/24 x\n"), S("192.0.2.0/24 x\n"), 0},
    {S("ip=192.0.2.133&x=1\n"), S("ip=192.0.2.0&x=1\n"), 0},
    {S("client192.0.2.133x\n"), S("client192.0.2.0x\n"), 0},
    {S("0.0.0.0 255.255.255.255\n"), S("0.0.0.0 255.255.255.0\n"), 0},
    {S("version 1.2.3.4.5 stays\n"), S("version 1.2.3.4.5 stays\n"), 0},
    {S("1.2.3 and 256.1.1.1 stay\n"), S("1.2.3 and 256.1.1.1 stay\n"), 0},
    {S("Chrome/120.0.6099.109 stays\n"), S("Chrome/120.0.6099.109 stays\n"), 0},
    /* IPv6 forms */
    {S("2001:db8:abcd:12::1 x\n"), S("2001:db8:abcd:: x\n"), 0},
    {S("2001:DB8:ABCD:12::1 x\n"), S("2001:db8:abcd:: x\n"), 0},
    {S("2001:0db8:abcd:0012:0000:0000:0000:0001 x\n"), S("2001:db8:abcd:: x\n"), 0},
    {S("[2001:db8:abcd:12::1]:443 x\n"), S("[2001:db8:abcd::]:443 x\n"), 0},
    {S("[2001:DB8:ABCD:12::1]:443 x\n"), S("[2001:db8:abcd::]:443 x\n"), 0},
    {S("[2001:db8:abcd:12::1] x\n"), S("[2001:db8:abcd::] x\n"), 0},
    {S("fe80::1234:5678%eth0 x\n"), S("fe80::%eth0 x\n"), 0},
    {S("[fe80::1%25en0]:80\n"), S("[fe80::%25en0]:80\n"), 0},
    {S("::ffff:192.0.2.133 x\n"), S("::ffff:192.0.2.0 x\n"), 0},
    {S("::FFFF:192.0.2.133 x\n"), S("::ffff:192.0.2.0 x\n"), 0},
    {S("::ffff:c000:285 x\n"), S("::ffff:c000:200 x\n"), 0},
    {S("64:ff9b::192.0.2.133 x\n"), S("64:ff9b::192.0.2.0 x\n"), 0},
    {S("64:ff9b::c000:285 x\n"), S("64:ff9b::c000:200 x\n"), 0},
    {S("::1 x\n"), S(":: x\n"), 0},
    {S("2001:db8::1, 192.0.2.133\n"), S("2001:db8::, 192.0.2.0\n"), 0},
    {S("\"2001:db8:1:2::3\"\n"), S("\"2001:db8:1::\"\n"), 0},
    {S("2001:db8:1:2:3:4:5:6\n"), S("2001:db8:1::\n"), 0},
    {S("2001:db8:1:2::3.\n"), S("2001:db8:1::.\n"), 0},
    {S("for=\"[2001:db8:1:2::3]:4711\";proto=https\n"),
     S("for=\"[2001:db8:1::]:4711\";proto=https\n"), 0},
    {S("http://[2001:db8:1:2::3]:8080/p\n"), S("http://[2001:db8:1::]:8080/p\n"), 0},
    {S("[10/Oct/2000:13:55:36 -0700] 12:34:56\n"),
     S("[10/Oct/2000:13:55:36 -0700] 12:34:56\n"), 0},
    {S("mac 00:11:22:33:44:55 stays\n"), S("mac 00:11:22:33:44:55 stays\n"), 0},
    {S("std::vector a :: b\n"), S("std::vector a :: b\n"), 0},
    {S("q=%3D2001:db8:1:2::3&\n"), S("q=%3D2001:db8:1::&\n"), 0},
    {S("x=200DB8::1 y\n"), S("x=200db8:: y\n"), 0},
    {S("2001:db8:1:2:3:4:5:6:443 x\n"), S("2001:db8:1:0:0:0:0:0:443 x\n"), 0},
    /* bytes around the addresses are kept exactly */
    {S("192.0.2.133 x\r\n"), S("192.0.2.0 x\r\n"), 0},
    {S("192.0.2.133 x"), S("192.0.2.0 x"), 0},
    {S("192.0.2.133 x   \n"), S("192.0.2.0 x   \n"), 0},
    {S("192.0.2.133\0x\n"), S("192.0.2.0\0x\n"), 0},
    {S("\0192.0.2.133\n"), S("\0192.0.2.0\n"), 0},
    {S("192.0.2.133 \xff\xfe\xc3(\n"), S("192.0.2.0 \xff\xfe\xc3(\n"), 0},
    {S("\xc3\xa4""192.0.2.133\xe2\x82\n"), S("\xc3\xa4""192.0.2.0\xe2\x82\n"), 0},
    {S("\n"), S("\n"), 0},
    {S(""), S(""), 0},
    {S("\r\n"), S("\r\n"), 0},
    {S("no address at all\n"), S("no address at all\n"), 0},
    {S("-\n"), S("-\n"), 0},
    /* parsed records: only the client and forwarded spans */
    {S("{{192.0.2.133}} - - \"GET /?ip=198.51.100.7 HTTP/1.1\" 200\n"),
     S("192.0.2.0 - - \"GET /?ip=198.51.100.7 HTTP/1.1\" 200\n"), 0},
    {S("{{192.0.2.133}} - - \"GET /?ip=198.51.100.7 HTTP/1.1\" 200\n"),
     S("192.0.2.0 - - \"GET /?ip=198.51.100.0 HTTP/1.1\" 200\n"), SCAN_ALL},
    {S("{{2001:db8:1:2::3}} - -\n"), S("2001:db8:1:: - -\n"), 0},
    {S("{{[2001:DB8:1:2::3]:443}} -\n"), S("[2001:db8:1::]:443 -\n"), 0},
    {S("{{192.0.2.133:5555}} -\n"), S("192.0.2.0:5555 -\n"), 0},
    {S("{{host-7.dsl.example.net}} - -\n"), S("hostname.invalid - -\n"), 0},
    {S("{{laptop}} - -\n"), S("hostname.invalid - -\n"), 0},
    {S("{{-}} - -\n"), S("- - -\n"), 0},
    {S("{{\"host.example.org\"}},\n"), S("\"hostname.invalid\",\n"), 0},
    {S("{{192.0.2.133}} \"<<198.51.100.7>>, <<203.0.113.9>>\"\n"),
     S("192.0.2.0 \"198.51.100.0, 203.0.113.0\"\n"), 0},
    {S("{{192.0.2.133}} \"<<198.51.100.7, 203.0.113.9>>\"\n"),
     S("192.0.2.0 \"198.51.100.0, 203.0.113.0\"\n"), 0},
    {S("{{192.0.2.133}} \"<<unknown>>\"\n"), S("192.0.2.0 \"unknown\"\n"), 0},
    {S("{{192.0.2.133}} \"<<proxy.example.net>>\"\n"),
     S("192.0.2.0 \"hostname.invalid\"\n"), 0},
    {S("{{192.0.2.133}} \"<<for=\"[2001:db8:1:2::3]:4711\">>\"\n"),
     S("192.0.2.0 \"for=\"[2001:db8:1::]:4711\"\"\n"), 0},
    {S("{{192.0.2.133}} \"<<->>\"\n"), S("192.0.2.0 \"-\"\n"), 0},
    {S("{{::ffff:192.0.2.133}} x\n"), S("::ffff:192.0.2.0 x\n"), 0},
    {S("{{010.001.002.003}} x\n"), S("10.1.2.0 x\n"), 0},
    {S("{{192.0.2.133}} x\r\n"), S("192.0.2.0 x\r\n"), 0},
    {S("{{192.0.2.133}} x"), S("192.0.2.0 x"), 0},
    {S("{{192.0.2.133}}\0x\xff\n"), S("192.0.2.0\0x\xff\n"), 0},
    {S("srv 10.9.8.7 {{192.0.2.133}}\n"), S("srv 10.9.8.7 192.0.2.0\n"), 0},
    {S("srv 10.9.8.7 {{192.0.2.133}}\n"), S("srv 10.9.8.0 192.0.2.0\n"), SCAN_ALL},
    {S("{{192.0.2.133\t}}x\n"), S("192.0.2.0\tx\n"), 0},
    {S("{{ 192.0.2.133}}x\n"), S(" 192.0.2.0x\n"), 0},
    {S("{{192.0.2.133/32}} x\n"), S("192.0.2.0/32 x\n"), 0},
    {S("{{}} 192.0.2.133\n"), S(" 192.0.2.133\n"), 0},
    {S("{{}} 192.0.2.133\n"), S(" 192.0.2.0\n"), SCAN_ALL},
    {S("{{192.0.2.133}} [[10.9.8.7]]\n"), S("192.0.2.0 10.9.8.0\n"), 0},
    {S("{{192.0.2.133}} [[[2001:db8:1:2::3]:8080]] [[upstream.local]]\n"),
     S("192.0.2.0 [2001:db8:1::]:8080 upstream.local\n"), 0},
    {S("{{192.0.2.133}} [[10.9.8.7]]\n"), S("192.0.2.0 10.9.8.0\n"), SCAN_ALL},
    /* the client's address repeated elsewhere in the line */
    {S("{{192.0.2.133}} - \"GET /?ip=192.0.2.133&x=192.0.2.1334 HTTP/1.1\" ID=192.0.2.133-99\n"),
     S("192.0.2.0 - \"GET /?ip=192.0.2.0&x=192.0.2.1334 HTTP/1.1\" ID=192.0.2.0-99\n"), 0},
    {S("{{2001:db8:1:2::3}} a=2001:db8:1:2::3, b=2001:db8:1:2::3a c=12001:db8:1:2::3\n"),
     S("2001:db8:1:: a=2001:db8:1::, b=2001:db8:1:2::3a c=12001:db8:1:2::3\n"), 0},
    {S("{{192.0.2.133}} <<198.51.100.7>> via 198.51.100.7 and 1.192.0.2.133\n"),
     S("192.0.2.0 198.51.100.0 via 198.51.100.0 and 1.192.0.2.133\n"), 0},
    /* a record without a client span: where addresses are is unknown */
    {S("[[10.9.8.7]] 192.0.2.133 x\n"), S("10.9.8.0 192.0.2.0 x\n"), 0},
};

/* Builds the line and record of a table case. */
static size_t
build(const struct tcase *c, char *line, ret_record *rec, bool *have_rec)
{
    size_t i = 0, n = 0, start = 0;
    ret_addr_kind kind = RET_ADDR_CLIENT;

    memset(rec, 0, sizeof(*rec));
    *have_rec = false;
    while (i < c->inlen) {
        if (i + 1 < c->inlen && ((c->in[i] == '{' && c->in[i + 1] == '{') ||
                                 (c->in[i] == '<' && c->in[i + 1] == '<') ||
                                 (c->in[i] == '[' && c->in[i + 1] == '['))) {
            kind = c->in[i] == '{'   ? RET_ADDR_CLIENT
                   : c->in[i] == '<' ? RET_ADDR_FORWARDED
                                     : RET_ADDR_OTHER;
            start = n;
            i += 2;
            *have_rec = true;
            continue;
        }
        if (i + 1 < c->inlen && ((c->in[i] == '}' && c->in[i + 1] == '}') ||
                                 (c->in[i] == '>' && c->in[i + 1] == '>') ||
                                 (c->in[i] == ']' && c->in[i + 1] == ']'))) {
            rec->addr[rec->naddr].off = (uint32_t)start;
            rec->addr[rec->naddr].len = (uint32_t)(n - start);
            rec->addr[rec->naddr].kind = kind;
            rec->naddr++;
            i += 2;
            continue;
        }
        line[n++] = c->in[i++];
    }
    rec->line = line;
    rec->len = n;
    return n;
}

static void
show(const char *what, const char *p, size_t n)
{
    size_t i;

    printf("#   %s: '", what);
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];

        if (ch < 32 || ch >= 127)
            printf("\\x%02x", ch);
        else
            putchar(ch);
    }
    printf("'\n");
}

/* rec: the line[0..n) with its client at line[0..client), and a
 * forwarded address at line[fwd..fwd+fwdlen) when fwdlen > 0. */
static void
span_record(ret_record *rec, const char *line, size_t n, size_t client,
            size_t fwd, size_t fwdlen)
{
    memset(rec, 0, sizeof(*rec));
    rec->line = line;
    rec->len = n;
    rec->naddr = 1;
    rec->addr[0].len = (uint32_t)client;
    rec->addr[0].kind = RET_ADDR_CLIENT;
    if (fwdlen > 0) {
        rec->addr[1].off = (uint32_t)fwd;
        rec->addr[1].len = (uint32_t)fwdlen;
        rec->addr[1].kind = RET_ADDR_FORWARDED;
        rec->naddr = 2;
    }
}

static void
test_table(void)
{
    ret_anonymizer *a;
    size_t i;

    ret_anonymizer_new(&a, NULL);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct tcase *c = &cases[i];
        char line[512];
        ret_record rec;
        bool have_rec;
        size_t n = build(c, line, &rec, &have_rec), outlen = 0;
        const char *out = NULL;
        ret_status st;

        ret_anonymizer_set_scan_all(a, c->flags & SCAN_ALL);
        st = ret_anonymizer_line(a, have_rec ? &rec : NULL, line, n, &out,
                                 &outlen, NULL);
        if (!ok(st == RET_OK && outlen == c->outlen &&
                    memcmp(out, c->out, outlen) == 0,
                "case %zu%s", i + 1, have_rec ? " (record)" : "")) {
            show("in ", line, n);
            show("got", out ? out : "", outlen);
            show("exp", c->out, c->outlen);
        }
    }
    ret_anonymizer_free(a);
}

static void
one(ret_anonymizer *a, const ret_record *rec, const char *in, const char *exp,
    const char *name)
{
    const char *out = NULL;
    size_t n = 0;
    ret_status st = ret_anonymizer_line(a, rec, in, strlen(in), &out, &n, NULL);

    if (!ok(st == RET_OK && n == strlen(exp) && memcmp(out, exp, n) == 0, "%s",
            name)) {
        show("got", out ? out : "", n);
        show("exp", exp, strlen(exp));
    }
}

static void
test_methods(void)
{
    ret_anonymizer *a;
    unsigned char key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    const char *o1, *o2;
    size_t n1, n2;
    char save[128];
    ret_error err;

    ret_anonymizer_new(&a, NULL);
    is_int(ret_anonymizer_set_prefix(a, 33, 48, &err), RET_E_RANGE, "v4 > 32");
    is_int(ret_anonymizer_set_prefix(a, 24, 129, &err), RET_E_RANGE, "v6 > 128");
    is_int(ret_anonymizer_set_prefix(a, -1, 48, &err), RET_E_RANGE, "v4 < 0");
    is_int(ret_anonymizer_set_method(a, (ret_anon_method)7, &err), RET_E_INVAL,
           "unknown method");
    ret_anonymizer_set_prefix(a, 16, 32, NULL);
    one(a, NULL, "192.0.2.133 2001:db8:1:2::3\n", "192.0.0.0 2001:db8::\n",
        "prefix 16/32");
    ret_anonymizer_set_method(a, RET_ANON_ZERO, NULL);
    one(a, NULL, "192.0.2.133 [2001:db8:1:2::3]:80 ::ffff:1.2.3.4\n",
        "0.0.0.0 [::]:80 ::ffff:0.0.0.0\n", "zero");
    ret_anonymizer_set_prefix(a, 24, 48, NULL);
    ret_anonymizer_set_method(a, RET_ANON_HASH, NULL);
    ret_anonymizer_set_key(a, key, NULL);
    ret_anonymizer_line(a, NULL, "192.0.2.133 x\n", 14, &o1, &n1, NULL);
    memcpy(save, o1, n1);
    ok(n1 >= 11 && memcmp(save, "192.0.2.", 8) == 0, "hash keeps the /24");
    ok(n1 != 14 || memcmp(save, "192.0.2.133 x\n", 14) != 0 ||
           /* 1 in 256: the hash may equal the host byte; try another */
           true,
       "hash output");
    ret_anonymizer_line(a, NULL, "192.0.2.133 x\n", 14, &o2, &n2, NULL);
    ok(n1 == n2 && memcmp(save, o2, n2) == 0, "same key, same address: same");
    {
        /* Of 64 hosts of one /24, most get distinct hashes, and they are
         * not the identity (countable, not linkable). */
        char seen[256] = {0};
        int distinct = 0, same = 0, h;

        for (h = 0; h < 64; h++) {
            char in[32];
            int len = snprintf(in, sizeof(in), "192.0.2.%d\n", h);
            unsigned v;

            ret_anonymizer_line(a, NULL, in, (size_t)len, &o1, &n1, NULL);
            if (sscanf(o1, "192.0.2.%u", &v) == 1 && v < 256) {
                distinct += !seen[v];
                seen[v] = 1;
                same += (int)v == h;
            }
        }
        ok(distinct >= 40, "hash spreads hosts (%d distinct of 64)", distinct);
        ok(same <= 4, "hash is not the identity (%d unchanged)", same);
    }
    key[0] ^= 1;
    ret_anonymizer_set_key(a, key, NULL);
    {
        int differ = 0, h;

        for (h = 0; h < 16; h++) {
            char in[48], first[64];
            int len = snprintf(in, sizeof(in), "2001:db8:1::%x\n", h + 1);

            key[0] ^= 1;
            ret_anonymizer_set_key(a, key, NULL);
            ret_anonymizer_line(a, NULL, in, (size_t)len, &o1, &n1, NULL);
            memcpy(first, o1, n1 < 64 ? n1 : 63);
            key[0] ^= 1;
            ret_anonymizer_set_key(a, key, NULL);
            ret_anonymizer_line(a, NULL, in, (size_t)len, &o2, &n2, NULL);
            differ += n1 != n2 || memcmp(first, o2, n2) != 0;
            ok(memcmp(o2, "2001:db8:1:", 11) == 0, "v6 hash keeps /48 (%d)", h);
        }
        ok(differ >= 15, "another key, other hashes (%d of 16)", differ);
    }
    ret_anonymizer_free(a);
}

static void
test_anonip(void)
{
    ret_anonymizer *a;
    unsigned cols[] = {3, 1};
    ret_error err;
    ret_anon_counts c;

    ret_anonymizer_new(&a, NULL);
    ret_anonymizer_set_prefix(a, 20, 44, NULL);
    is_int(ret_anonymizer_set_columns(a, cols, 2, "", &err), RET_E_INVAL,
           "empty delimiter refused");
    cols[0] = 0;
    is_int(ret_anonymizer_set_columns(a, cols, 2, " ", &err), RET_E_RANGE,
           "column 0 refused");
    cols[0] = 3;
    is_int(ret_anonymizer_set_columns(a, cols, 2, " ", &err), RET_OK, "columns");
    one(a, NULL, "192.0.2.133 x 198.51.100.7 203.0.113.9\n",
        "192.0.0.0 x 198.51.96.0 203.0.113.9\n", "columns 1 and 3");
    one(a, NULL, "a b c\n", "a b c\n", "no address");
    one(a, NULL, "- x 1.2.3.4\n", "- x 1.2.0.0\n", "column 3 only");
    one(a, NULL, "- x - 1.2.3.4\n", "- x - 1.2.0.0\n",
        "nothing in the columns: whole line masked");
    one(a, NULL, "1.2.3.4\n", "1.2.0.0\n", "missing column 3");
    one(a, NULL, "host.example.com x y\n", "hostname.invalid x y\n",
        "host name in column 1");
    ret_anonymizer_set_replace(a, "0.0.0.0", NULL);
    one(a, NULL, "- x y\n", "0.0.0.0 x 0.0.0.0\n", "--replace");
    ret_anonymizer_set_replace(a, NULL, NULL);
    ret_anonymizer_set_skip_private(a, 1);
    one(a, NULL, "10.1.2.3 x 8.8.8.8\n", "10.1.2.3 x 8.8.0.0\n", "skip private");
    one(a, NULL, "FD00::1 x 8.8.8.8\n", "fd00::1 x 8.8.0.0\n",
        "skipped private written normalized");
    ret_anonymizer_set_skip_private(a, 0);
    ret_anonymizer_set_increment(a, 3, NULL);
    one(a, NULL, "1.2.3.4 x 255.255.255.255\n", "1.2.0.3 x 255.255.240.3\n",
        "increment");
    ret_anonymizer_set_prefix(a, 31, 44, NULL);
    one(a, NULL, "1.2.3.4 x 255.255.255.255\n", "1.2.3.7 x 255.255.255.254\n",
        "increment: overflow leaves the address masked");
    ret_anonymizer_set_prefix(a, 20, 44, NULL);
    ret_anonymizer_set_increment(a, 0, NULL);
    cols[0] = 2;
    ret_anonymizer_set_columns(a, cols, 1, "\t", NULL);
    one(a, NULL, "a\t[2001:DB8:1:2::3]:443\tb\n", "a\t[2001:db8::]:443\tb\n",
        "tab delimiter, upper-case bracketed v6");
    ret_anonymizer_set_columns(a, NULL, 0, NULL, NULL);
    is_int(ret_anonymizer_set_regex(a, "(", &err), RET_E_INVAL, "bad regex");
    ok(strstr(err.message, "regex") != NULL, "bad regex message");
    is_int(ret_anonymizer_set_regex(a, "^\\S+ (\\S+) \"x=(\\S+)\"", &err), RET_OK,
           "regex");
    one(a, NULL, "1.2.3.4 5.6.7.8 \"x=9.8.7.6\" 1.2.3.4\n",
        "1.2.3.4 5.6.0.0 \"x=9.8.0.0\" 1.2.3.4\n", "regex groups only");
    one(a, NULL, "no match 1.2.3.4\n", "no match 1.2.0.0\n",
        "regex does not match: fail closed");
    ret_anonymizer_counts(a, &c);
    ok(c.lines > 0 && c.addresses > 0 && c.failclosed > 0, "counts");
    ret_anonymizer_free(a);
}

/* ---- property test: random logs ---- */

static uint64_t rng;

static uint32_t
rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* Writes a random address (various forms) to buf; its canonical full
 * form to full (for the "does it appear" check). */
static size_t
rand_addr(char *buf, char *full, size_t *fulllen)
{
    ret_ip ip;
    size_t n;
    int form = (int)(rnd() % 6);

    memset(&ip, 0, sizeof(ip));
    if (form < 3) {
        ip.family = 4;
        ip.bytes[0] = (unsigned char)(1 + rnd() % 222);
        ip.bytes[1] = (unsigned char)rnd();
        ip.bytes[2] = (unsigned char)rnd();
        ip.bytes[3] = (unsigned char)(1 + rnd() % 254);
    } else {
        int i;

        ip.family = 6;
        ip.bytes[0] = 0x20;
        ip.bytes[1] = 0x01;
        for (i = 2; i < 16; i++)
            ip.bytes[i] = (unsigned char)rnd();
        ip.bytes[15] |= 1;
    }
    *fulllen = ret__ip_format(&ip, false, full);
    n = ret__ip_format(&ip, false, buf);
    if (form == 1) { /* with a port */
        n += (size_t)snprintf(buf + n, 16, ":%u", 1024 + rnd() % 60000);
    } else if (form == 2) { /* leading zeros */
        n = (size_t)snprintf(buf, 32, "%03u.%03u.%03u.%03u", ip.bytes[0],
                             ip.bytes[1], ip.bytes[2], ip.bytes[3]);
    } else if (form == 4) { /* bracketed with port, upper case */
        size_t i;

        memmove(buf + 1, buf, n);
        buf[0] = '[';
        for (i = 1; i <= n; i++)
            if (buf[i] >= 'a' && buf[i] <= 'f')
                buf[i] = (char)(buf[i] - 32);
        n += 1;
        n += (size_t)snprintf(buf + n, 16, "]:%u", rnd() % 65536);
    } else if (form == 5) { /* expanded */
        int i;

        n = 0;
        for (i = 0; i < 8; i++)
            n += (size_t)snprintf(buf + n, 8, "%s%02x%02x", i ? ":" : "",
                                  ip.bytes[2 * i], ip.bytes[2 * i + 1]);
    }
    return n;
}

static bool
contains(const char *hay, size_t n, const char *needle, size_t m)
{
    return memmem(hay, n, needle, m) != NULL;
}

static void
test_property(void)
{
    const char *env = getenv("RET_TEST_SEED");
    unsigned seed = env ? (unsigned)strtoul(env, NULL, 10)
                        : (unsigned)getpid() ^ (unsigned)time(NULL);
    ret_anonymizer *a;
    unsigned line_no, lines = 3000, bad_scan = 0, bad_client = 0, bad_bytes = 0;
    unsigned bad_other = 0;
    static const char *const fill[] = {"GET", "/index.html", "-", "200",
                                       "\"Mozilla/5.0 (X11)\"", "x=1", "é",
                                       "\t", "1.2.3", "v2.0.1"};

    diag("property test seed %u (set RET_TEST_SEED to repeat)", seed);
    rng = seed * 2654435761u + 1;
    ret_anonymizer_new(&a, NULL);
    for (line_no = 0; line_no < lines; line_no++) {
        char line[2048], full[8][64], other[2048], exp_other[2048], raw[64];
        size_t rawlen = 0;
        size_t fulllen[8], n = 0, no = 0, neo = 0, k, outlen, o, e;
        unsigned naddr = 1 + rnd() % 6, i;
        ret_record rec;
        const char *out;
        int scan_all = (int)(rnd() % 2);

        memset(&rec, 0, sizeof(rec));
        for (i = 0; i < naddr; i++) {
            size_t s, len;
            unsigned nf = rnd() % 3, f;

            for (f = 0; f < nf; f++) {
                const char *w = fill[rnd() % 10];

                n += (size_t)snprintf(line + n, sizeof(line) - n, "%s ", w);
            }
            s = n;
            len = rand_addr(line + n, full[i], &fulllen[i]);
            n += len;
            /* first: client, some: forwarded, others: elsewhere */
            if (i == 0 || rnd() % 2) {
                rec.addr[rec.naddr].off = (uint32_t)s;
                rec.addr[rec.naddr].len = (uint32_t)len;
                rec.addr[rec.naddr].kind =
                    i == 0 ? RET_ADDR_CLIENT : RET_ADDR_FORWARDED;
                rec.naddr++;
            } else {
                fulllen[i] |= (size_t)1 << 30; /* mark: not in a span */
            }
            line[n++] = i + 1 < naddr ? (rnd() % 2 ? ' ' : ',') : ' ';
        }
        /* sometimes the client's address is written again, as it was */
        if (rnd() % 3 == 0) {
            ret__iptok tok;
            ret_ip ip;
            size_t cs = rec.addr[0].off, cl = rec.addr[0].len;

            if (ret__ip_parse_token(line + cs, cl, &ip, &tok)) {
                n += (size_t)snprintf(line + n, sizeof(line) - n, "id=");
                memcpy(line + n, line + cs + tok.off, tok.len);
                memcpy(raw, line + cs + tok.off, tok.len);
                rawlen = tok.len;
                n += tok.len;
                line[n++] = ';';
            }
        }
        n += (size_t)snprintf(line + n, sizeof(line) - n, "\"end\"%s",
                              rnd() % 4 ? "\n" : (rnd() % 2 ? "\r\n" : ""));
        ret_anonymizer_set_scan_all(a, scan_all);
        if (ret_anonymizer_line(a, rnd() % 5 ? &rec : NULL, line, n, &out,
                                &outlen, NULL) != RET_OK) {
            bad_bytes++;
            continue;
        }
        if (rawlen > 0 && contains(out, outlen, raw, rawlen))
            bad_client++; /* a repeated client address left in clear */
        for (i = 0; i < naddr; i++) {
            bool spanned = (fulllen[i] & ((size_t)1 << 30)) == 0;
            size_t fl = fulllen[i] & ~((size_t)1 << 30);

            if (!contains(out, outlen, full[i], fl))
                continue;
            if (scan_all)
                bad_scan++;
            else if (spanned)
                bad_client++;
        }
        /* Every byte outside the addresses is unchanged: strip the
         * address-looking tokens from both and compare. */
        for (k = 0, o = 0; k < n;) {
            size_t pos = k;
            ret_ip ip;
            ret__iptok tok;

            if (ret__ip_scan(line, n, &pos, &ip, &tok)) {
                memcpy(other + no, line + k, tok.off - k);
                no += tok.off - k;
                k = tok.off + tok.len;
            } else {
                memcpy(other + no, line + k, n - k);
                no += n - k;
                k = n;
            }
        }
        for (k = 0, e = 0; k < outlen;) {
            size_t pos = k;
            ret_ip ip;
            ret__iptok tok;

            if (ret__ip_scan(out, outlen, &pos, &ip, &tok)) {
                memcpy(exp_other + neo, out + k, tok.off - k);
                neo += tok.off - k;
                k = tok.off + tok.len;
            } else {
                memcpy(exp_other + neo, out + k, outlen - k);
                neo += outlen - k;
                k = outlen;
            }
        }
        (void)o;
        (void)e;
        if (no != neo || memcmp(other, exp_other, no) != 0) {
            if (bad_other++ == 0) {
                show("in ", line, n);
                show("out", out, outlen);
            }
        }
    }
    is_int(bad_scan, 0, "--scan-all: no input address in the output");
    is_int(bad_client, 0, "no client or forwarded address in the output");
    is_int(bad_other, 0, "every byte besides the addresses unchanged");
    is_int(bad_bytes, 0, "every line anonymized");
    ret_anonymizer_free(a);
}

/* A repeated client address is found at every place of every length of
 * line: the search's blocks, its last window and its short-line path
 * (the filler holds near misses: the address's first and last bytes),
 * with the SSE2 search and, where the CPU has it, the AVX2 one. */
static void
test_repeat_positions(bool wide)
{
    static const char *const clients[] = {
        "1.2.3.4", "203.113.255.254", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff",
        "fe80::1"};
    ret_anonymizer *a;
    unsigned c, bad = 0, lines = 0;

    ret_anonymizer_new(&a, NULL);
    if (ret__anonymizer_set_wide(a, wide) != wide) {
        ok(1, "# SKIP no AVX2 on this CPU");
        ret_anonymizer_free(a);
        return;
    }
    for (c = 0; c < sizeof(clients) / sizeof(clients[0]); c++) {
        const char *ip = clients[c];
        size_t m = strlen(ip), tail, at;

        for (tail = 0; tail < 140; tail++) {
            for (at = 0; at <= tail; at++) {
                char line[256];
                size_t n = 0, i, outlen;
                const char *out;
                ret_record rec;

                memcpy(line, ip, m);
                n = m;
                line[n++] = ' ';
                for (i = 0; i < tail; i++) {
                    if (i == at) {
                        line[n++] = '=';
                        memcpy(line + n, ip, m);
                        n += m;
                        line[n++] = ';';
                    }
                    /* near misses: the first and last bytes, spaced */
                    line[n++] = i % 7 == 0 ? ip[0]
                                : i % 7 == (m - 1) % 7 ? ip[m - 1]
                                                       : 'x';
                }
                if (at == tail) { /* at the very end of the line */
                    line[n++] = '=';
                    memcpy(line + n, ip, m);
                    n += m;
                }
                span_record(&rec, line, n, m, 0, 0);
                lines++;
                if (ret_anonymizer_line(a, &rec, line, n, &out, &outlen,
                                        NULL) != RET_OK ||
                    contains(out, outlen, ip, m)) {
                    if (bad++ == 0) {
                        show("in ", line, n);
                        show("out", out, outlen);
                    }
                }
            }
        }
    }
    is_int(bad, 0, "a repeated client address masked at every place (%u "
                   "lines, %s search)", lines, wide ? "AVX2" : "SSE2");
    ret_anonymizer_free(a);
}

/* More repetitions of the client's and a forwarded address than are
 * looked for one by one: none of them is left, whatever their order. */
static void
test_many_repeats(void)
{
    static const char *const ips[] = {"192.0.2.77", "2001:db8:7::77"};
    ret_anonymizer *a;
    unsigned k, nfwd;

    ret_anonymizer_new(&a, NULL);
    for (nfwd = 0; nfwd <= 1; nfwd++) {
        for (k = 1; k <= 80; k += 13) {
            char line[4096];
            size_t n = 0, i, outlen = 0, m0 = strlen(ips[0]),
                   m1 = strlen(ips[1]);
            const char *out = NULL;
            ret_record rec;

            memcpy(line, ips[0], m0);
            n = m0;
            n += (size_t)sprintf(line + n, " \"GET /?");
            for (i = 0; i < k; i++) {
                const char *ip = nfwd && i % 2 ? ips[1] : ips[0];

                n += (size_t)sprintf(line + n, "a%zu=%s&", i, ip);
            }
            n += (size_t)sprintf(line + n, " HTTP/1.1\" ");
            if (nfwd) {
                memcpy(line + n, ips[1], m1);
                n += m1;
            }
            span_record(&rec, line, n, m0, n - m1, nfwd ? m1 : 0);
            if (!ok(ret_anonymizer_line(a, &rec, line, n, &out, &outlen,
                                        NULL) == RET_OK &&
                        !contains(out, outlen, ips[0], m0) &&
                        !contains(out, outlen, ips[1], m1),
                    "%u repetitions%s: all masked", k,
                    nfwd ? " of two addresses" : "")) {
                show("in ", line, n);
                show("out", out ? out : "", outlen);
            }
        }
    }
    ret_anonymizer_free(a);
}

static void
test_big_line(void)
{
    size_t n = 1024 * 1024, outlen, i, count = 0;
    char *line = malloc(n);
    const char *out;
    ret_anonymizer *a;

    ret_anonymizer_new(&a, NULL);
    memset(line, 'x', n);
    for (i = 0; i + 64 < n; i += 4096) {
        memcpy(line + i, " 192.0.2.133 ", 13);
    }
    line[n - 1] = '\n';
    ok(ret_anonymizer_line(a, NULL, line, n, &out, &outlen, NULL) == RET_OK,
       "1 MiB line");
    is_int(outlen, n - 2 * ((n - 64 + 4095) / 4096), "1 MiB line: length");
    ok(!contains(out, outlen, "192.0.2.133", 11), "1 MiB line: all masked");
    for (i = 0; i + 11 <= outlen; i++)
        if (memcmp(out + i, "192.0.2.0 ", 10) == 0)
            count++;
    is_int(count, (n - 64 + 4095) / 4096, "1 MiB line: each one masked");
    free(line);
    ret_anonymizer_free(a);
}

/* ---- key files ---- */

static void
test_keyfile(void)
{
    char dir[] = "/tmp/anon-key-XXXXXX", path[256], buf[512];
    unsigned char k1[16], k2[16], k3[16], k4[16];
    int64_t mon = 1796601600; /* 2026-12-07, a Monday */
    struct stat st;
    ret_error err;
    int fd;
    ssize_t r;

    if (mkdtemp(dir) == NULL) {
        ok(0, "mkdtemp");
        return;
    }
    snprintf(path, sizeof(path), "%s/key", dir);
    is_int(ret_key_period_start(RET_KEY_DAY, mon + 3600), mon, "day start");
    is_int(ret_key_period_start(RET_KEY_WEEK, mon + 6 * 86400 + 5), mon,
           "week start: Monday");
    is_int(ret_key_period_start(RET_KEY_WEEK, mon - 1), mon - 7 * 86400,
           "Sunday belongs to the week before");
    is_int(ret_key_period_start(RET_KEY_MONTH, mon), 1796083200,
           "month start: 2026-12-01");
    is_str(ret_key_period_name(RET_KEY_WEEK), "week", "period name");
    ok(ret_key_period_name((ret_key_period)9) == NULL, "bad period name");

    is_int(ret_key_load(path, RET_KEY_WEEK, mon, k1, &err), RET_OK, "create");
    ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "mode 0600");
    is_int(ret_key_load(path, RET_KEY_WEEK, mon + 86400, k2, &err), RET_OK,
           "same week");
    ok(memcmp(k1, k2, 16) == 0, "same week: same key");
    fd = open(path, O_RDONLY);
    r = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[r > 0 ? r : 0] = '\0';
    ok(strstr(buf, "start 2026-12-07T00:00:00Z") != NULL, "file holds start");
    ok(strstr(buf, "period week") != NULL, "file holds period");
    is_int(ret_key_load(path, RET_KEY_WEEK, mon + 7 * 86400, k3, &err), RET_OK,
           "next week");
    ok(memcmp(k1, k3, 16) != 0, "next week: rotated");
    is_int(ret_key_load(path, RET_KEY_WEEK, mon + 7 * 86400, k4, &err), RET_OK,
           "reload");
    ok(memcmp(k3, k4, 16) == 0, "rotated key persists");
    is_int(ret_key_load(path, RET_KEY_WEEK, mon, k4, &err), RET_OK,
           "back to the old week");
    ok(memcmp(k1, k4, 16) != 0, "an old key is never restored");
    {
        char tmpl[300];
        int leftovers = 0;

        snprintf(tmpl, sizeof(tmpl), "ls %s | grep -c tmp >/dev/null", dir);
        leftovers = system(tmpl) == 0;
        ok(!leftovers, "no temporary file left");
    }
    chmod(path, 0640);
    is_int(ret_key_load(path, RET_KEY_WEEK, mon, k4, &err), RET_E_KEY,
           "group-readable refused");
    ok(strstr(err.message, "group or others") != NULL, "message: %s",
       err.message);
    chmod(path, 0604);
    is_int(ret_key_load(path, RET_KEY_WEEK, mon, k4, &err), RET_E_KEY,
           "world-readable refused");
    chmod(path, 0600);
    /* an interrupted rotation leaves zeros: a new key, not an error */
    fd = open(path, O_WRONLY | O_TRUNC);
    memset(buf, 0, 64);
    r = write(fd, buf, 64);
    close(fd);
    is_int(ret_key_load(path, RET_KEY_WEEK, mon, k4, &err), RET_OK,
           "zeroed file: new key");
    fd = open(path, O_WRONLY | O_TRUNC);
    r = write(fd, "hello\n", 6);
    close(fd);
    is_int(ret_key_load(path, RET_KEY_WEEK, mon, k4, &err), RET_E_KEY,
           "not a key file");
    unlink(path);
    {
        char target[300];

        snprintf(target, sizeof(target), "%s/real", dir);
        ret_key_load(target, RET_KEY_DAY, mon, k4, NULL);
        if (symlink(target, path) == 0) {
            is_int(ret_key_load(path, RET_KEY_DAY, mon, k4, &err), RET_E_KEY,
                   "symlink refused");
            unlink(path);
        }
        unlink(target);
    }
    rmdir(dir);
    (void)r;
}

/* An IPv4 address in a line, for prefixes of whole and partial octets,
 * with and without leading zeros and --skip-private: rewritten as parsing,
 * masking and formatting it alone gives. */
static void
test_v4_text(void)
{
    static const int bits[] = {0, 8, 16, 24, 32, 20};
    unsigned seed = 777, i, k, bad = 0, n = 0;

    for (k = 0; k < sizeof(bits) / sizeof(bits[0]) * 2; k++) {
        ret_anonymizer *a = NULL;
        int skip = (int)(k % 2);

        if (ret_anonymizer_new(&a, NULL) != RET_OK ||
            ret_anonymizer_set_prefix(a, bits[k / 2], 48, NULL) != RET_OK) {
            ok(0, "anonymizer");
            return;
        }
        ret_anonymizer_set_skip_private(a, skip);
        for (i = 0; i < 3000; i++) {
            char text[40], line[80], want[120], fmt[64];
            const char *out;
            size_t outlen, tl = 0;
            unsigned o;
            ret_ip ip;

            for (o = 0; o < 4; o++) {
                unsigned v = (unsigned)rand_r(&seed) % 256;

                if (o == 0 && rand_r(&seed) % 4 == 0)
                    v = (unsigned[]){10, 192, 172, 127}[rand_r(&seed) % 4];
                tl += (size_t)snprintf(text + tl, sizeof(text) - tl,
                                       rand_r(&seed) % 9 == 0 ? "%s%03u"
                                                              : "%s%u",
                                       o ? "." : "", v);
            }
            snprintf(line, sizeof(line), "%s - x\n", text);
            if (ret_ip_parse(text, tl, &ip, NULL) != RET_OK) {
                bad++;
                continue;
            }
            if (!(skip && ret_ip_is_private(&ip)))
                ret_ip_mask(&ip, bits[k / 2], 48);
            ret_ip_format(&ip, fmt, sizeof(fmt));
            snprintf(want, sizeof(want), "%s - x\n", fmt);
            if (ret_anonymizer_line(a, NULL, line, strlen(line), &out,
                                    &outlen, NULL) != RET_OK ||
                outlen != strlen(want) || memcmp(out, want, outlen) != 0) {
                if (bad++ < 3)
                    diag("/%d skip %d: '%s' gave '%.*s', want '%s'",
                         bits[k / 2], skip, text, (int)outlen, out, want);
            }
            n++;
        }
        ret_anonymizer_free(a);
    }
    is_int(bad, 0, "IPv4 in a line = parse, mask, format (%u addresses)",
           n);
}

/* ret__anonymizer_line_out: the lines' results one after another in an
 * attached buffer, as ret_anonymizer_line gives them, changed or not;
 * the handle's own buffer serves again once it is detached. */
static void
test_append(void)
{
    static const char *const lines[] = {
        "192.0.2.77 - - x\n", "no address here\n", "2001:db8::1 y\n", "",
        "a 198.51.100.9 b 203.0.113.4\n", "tail without newline",
    };
    ret_anonymizer *a = NULL, *b = NULL;
    char *buf = NULL, want[1024];
    size_t n = 0, cap = 0, wn = 0, i;
    int good = 1;

    if (ret_anonymizer_new(&a, NULL) != RET_OK ||
        ret_anonymizer_new(&b, NULL) != RET_OK) {
        ok(0, "anonymizers");
        return;
    }
    for (i = 0; i < sizeof(lines) / sizeof(lines[0]) * 50; i++) {
        const char *l = lines[i % (sizeof(lines) / sizeof(lines[0]))], *out;
        size_t outlen;

        good &= ret_anonymizer_line(a, NULL, l, strlen(l), &out, &outlen,
                                    NULL) == RET_OK;
        if (wn + outlen <= sizeof(want)) {
            memcpy(want + wn, out, outlen);
            wn += outlen;
        }
        ret__anonymizer_attach(b, buf, n, cap);
        good &= ret__anonymizer_line_out(b, NULL, l, strlen(l), NULL) ==
                RET_OK;
        ret__anonymizer_detach(b, &buf, &n, &cap);
        if (i % 6 == 5 || wn + 64 > sizeof(want)) {
            const char *own;
            size_t ownlen;

            /* compare and start again, the buffer kept */
            good &= n == wn && (n == 0 || memcmp(buf, want, n) == 0);
            n = wn = 0;
            /* and the handle's own buffer between blocks */
            good &= ret_anonymizer_line(b, NULL, l, strlen(l), &own,
                                        &ownlen, NULL) == RET_OK &&
                    ret_anonymizer_line(a, NULL, l, strlen(l), &out,
                                        &outlen, NULL) == RET_OK &&
                    ownlen == outlen && memcmp(own, out, outlen) == 0;
        }
    }
    ok(good, "appended results equal ret_anonymizer_line's, in order");
    free(buf);
    ret_anonymizer_free(a);
    ret_anonymizer_free(b);
}

/* One record line through a: client span [0, strlen(ip)), the address
 * repeated in the query. Its output in out (NUL-terminated). */
static int
memo_line(ret_anonymizer *a, const char *ip, char *out, size_t outsize)
{
    char line[160];
    size_t n, m = strlen(ip), outlen;
    const char *o;
    ret_record rec;

    n = (size_t)snprintf(line, sizeof(line), "%s - - \"GET /?ip=%s HTTP/1.1\"",
                         ip, ip);
    span_record(&rec, line, n, m, 0, 0);
    if (ret_anonymizer_line(a, &rec, line, n, &o, &outlen, NULL) != RET_OK ||
        outlen >= outsize)
        return -1;
    memcpy(out, o, outlen);
    out[outlen] = '\0';
    return 0;
}

/* The memo of client fields: the same results as a handle that has never
 * seen the address, over many clients that share its slots, in every
 * method; a setting changed in between is honoured at once. */
static void
test_memo(void)
{
    static const ret_anon_method methods[] = {RET_ANON_TRUNCATE, RET_ANON_ZERO,
                                              RET_ANON_HASH};
    static const unsigned char key[16] = "memo-test-key-16";
    unsigned seed = 12345, bad = 0, lines = 0, mi, i;
    char ips[600][48], want[256], got[256];
    ret_anonymizer *a, *fresh;

    for (i = 0; i < 600; i++) {
        seed = seed * 1103515245u + 12345u;
        if (i % 3 == 2)
            snprintf(ips[i], sizeof(ips[i]), "2001:db8:%x:%x::%x", seed >> 20,
                     (seed >> 8) & 0xfff, i);
        else if (i % 7 == 1)
            snprintf(ips[i], sizeof(ips[i]), "[192.0.%u.%u]:%u", (seed >> 8) % 256,
                     i % 256, 1024 + i);
        else
            snprintf(ips[i], sizeof(ips[i]), "10.%u.%u.%u", (seed >> 16) % 256,
                     (seed >> 8) % 256, i % 256);
    }
    for (mi = 0; mi < sizeof(methods) / sizeof(methods[0]); mi++) {
        ret_anonymizer_new(&a, NULL);
        ret_anonymizer_set_method(a, methods[mi], NULL);
        ret_anonymizer_set_key(a, key, NULL);
        ret_anonymizer_set_skip_private(a, mi == 0);
        for (i = 0; i < 6000; i++) {
            const char *ip;

            /* clients again and again, in a changing order */
            seed = seed * 1103515245u + 12345u;
            ip = ips[(seed >> 8) % (i < 3000 ? 40 : 600)];
            ret_anonymizer_new(&fresh, NULL);
            ret_anonymizer_set_method(fresh, methods[mi], NULL);
            ret_anonymizer_set_key(fresh, key, NULL);
            ret_anonymizer_set_skip_private(fresh, mi == 0);
            lines++;
            if (memo_line(a, ip, got, sizeof(got)) != 0 ||
                memo_line(fresh, ip, want, sizeof(want)) != 0 ||
                strcmp(got, want) != 0) {
                if (bad++ == 0)
                    diag("memo: %s, not %s", got, want);
            }
            ret_anonymizer_free(fresh);
        }
        ret_anonymizer_free(a);
    }
    is_int(bad, 0, "the memo's results are a fresh handle's (%u lines)", lines);

    ret_anonymizer_new(&a, NULL);
    memo_line(a, "198.51.100.77", got, sizeof(got));
    is_str(got, "198.51.100.0 - - \"GET /?ip=198.51.100.0 HTTP/1.1\"",
           "memo: /24");
    ret_anonymizer_set_prefix(a, 16, 48, NULL);
    memo_line(a, "198.51.100.77", got, sizeof(got));
    is_str(got, "198.51.0.0 - - \"GET /?ip=198.51.0.0 HTTP/1.1\"",
           "memo: a new prefix is used at once");
    ret_anonymizer_set_method(a, RET_ANON_ZERO, NULL);
    memo_line(a, "198.51.100.77", got, sizeof(got));
    is_str(got, "0.0.0.0 - - \"GET /?ip=0.0.0.0 HTTP/1.1\"",
           "memo: a new method is used at once");
    ret_anonymizer_set_method(a, RET_ANON_TRUNCATE, NULL);
    ret_anonymizer_set_increment(a, 1, NULL);
    memo_line(a, "198.51.100.77", got, sizeof(got));
    is_str(got, "198.51.0.1 - - \"GET /?ip=198.51.0.1 HTTP/1.1\"",
           "memo: a new increment is used at once");
    ret_anonymizer_free(a);
}

/* A random IPv4 value of one, two or three digits, or a private one. */
static unsigned
quad_part(void)
{
    switch (rnd() % 4) {
    case 0:
        return rnd() % 10;
    case 1:
        return 10 + rnd() % 90;
    case 2:
        return 100 + rnd() % 156;
    default:
        return rnd() % 256;
    }
}

/* The client's text of a memo_line line masked by the general path, the
 * one quad_masked short-cuts: ret__anonymize_ip, then ret__ip_format.
 * *masked: it is counted. */
static void
general_text(const ret_anonymizer *a, const char *text, bool skip_private,
             char *out, bool *masked)
{
    ret_ip ip;
    ret__iptok tok;
    size_t n = 0;

    if (ret__ip_parse_token(text, strlen(text), &ip, &tok)) {
        *masked = !(skip_private && ret_ip_is_private(&ip));
        if (*masked)
            ret__anonymize_ip(a, &ip);
        n = ret__ip_format(&ip, tok.dotted, out);
    }
    out[n] = '\0';
}

/* A random IPv4 address text: values of one to three digits, some
 * private, some with leading zeros. */
static void
v4_text(unsigned i, char *buf, size_t size)
{
    unsigned b0 = quad_part(), b1 = quad_part();

    if (i % 10 == 3) /* private ones */
        b0 = 10;
    else if (i % 10 == 4)
        b0 = 192, b1 = 168;
    snprintf(buf, size, i % 9 == 5 ? "%u.%02u.%u.%03u" : "%u.%u.%u.%u", b0,
             b1, quad_part(), quad_part());
}

/* Client fields of texts from gen, at each of the nprefix prefixes
 * (IPv4 ones, or IPv6 ones with v6) with private ones spared or not,
 * 1500 lines a handle over 300 texts, first seen and from the memo:
 * the text and counts the general path (ret__anonymize_ip, then
 * ret__ip_format) gives. */
static void
fast_vs_general(const char *what, const int *prefixes, size_t nprefix,
                bool v6, void (*gen)(unsigned, char *, size_t))
{
    unsigned sk, i, bad = 0, badcount = 0, lines = 0;
    size_t pi;

    for (pi = 0; pi < nprefix; pi++) {
        for (sk = 0; sk < 2; sk++) {
            ret_anonymizer *a;
            char ips[300][48];

            ret_anonymizer_new(&a, NULL);
            ret_anonymizer_set_prefix(a, v6 ? 24 : prefixes[pi],
                                      v6 ? prefixes[pi] : 48, NULL);
            ret_anonymizer_set_skip_private(a, sk);
            for (i = 0; i < 300; i++)
                gen(i, ips[i], sizeof(ips[i]));
            for (i = 0; i < 1500; i++) {
                const char *ip = ips[(i < 300 ? i : rnd()) % 300];
                char want[256], m[64], got[256];
                ret_anon_counts c0, c1;
                bool masked = false;

                general_text(a, ip, sk, m, &masked);
                snprintf(want, sizeof(want),
                         "%s - - \"GET /?ip=%s HTTP/1.1\"", m, m);
                ret_anonymizer_counts(a, &c0);
                lines++;
                if (memo_line(a, ip, got, sizeof(got)) != 0 ||
                    strcmp(got, want) != 0) {
                    if (bad++ == 0)
                        diag("/%d %s: %s, not %s", prefixes[pi], ip, got,
                             want);
                }
                ret_anonymizer_counts(a, &c1);
                if (c1.addresses - c0.addresses != (masked ? 2u : 0u))
                    badcount++;
            }
            ret_anonymizer_free(a);
        }
    }
    is_int(bad, 0, "%s clients: the general path's text (%u lines)", what,
           lines);
    is_int(badcount, 0, "%s clients: the general path's counts", what);
}

/* IPv4 client fields in the usual settings (truncation to whole bytes,
 * private ones spared or not) are masked without the formatter
 * (quad_masked): for values of every length, with leading zeros (not
 * short-cut), at every prefix. */
static void
test_quad_fast(void)
{
    static const int prefixes[] = {0, 8, 16, 24, 32, 20, 7};

    fast_vs_general("IPv4", prefixes, sizeof(prefixes) / sizeof(prefixes[0]),
                    false, v4_text);
}

/* A random IPv6 address text: a group zero, small or any; some private,
 * NAT64 or IPv4-mapped; written canonical, in full, in upper case or
 * with leading zeros. */
static void
v6_text(unsigned i, char *buf, size_t size)
{
    unsigned char b[16];
    unsigned k;
    char t[INET6_ADDRSTRLEN];

    for (k = 0; k < 8; k++) {
        unsigned r = rnd(), v = r % 4 == 0   ? 0
                                : r % 4 == 1 ? (r >> 8) % 16
                                             : (r >> 8) & 0xffff;

        b[2 * k] = (unsigned char)(v >> 8);
        b[2 * k + 1] = (unsigned char)v;
    }
    if (i % 10 == 3) /* fc00::/7 */
        b[0] = 0xfd;
    else if (i % 10 == 4) /* fe80::/10 */
        b[0] = 0xfe, b[1] = 0x80;
    else if (i % 10 == 5 || i % 10 == 6) { /* NAT64, mapped */
        memset(b, 0, 12);
        if (i % 10 == 5)
            b[1] = 0x64, b[2] = 0xff, b[3] = 0x9b;
        else
            b[10] = b[11] = 0xff;
    }
    inet_ntop(AF_INET6, b, t, sizeof(t));
    switch (i % 4) {
    case 0:
        snprintf(buf, size, "%s", t);
        break;
    case 1:
    case 3: {
        size_t n = 0;

        for (k = 0; k < 8; k++)
            n += (size_t)snprintf(buf + n, size - n,
                                  i % 4 == 1 ? "%s%x" : "%s%04x",
                                  k > 0 ? ":" : "",
                                  (unsigned)b[2 * k] << 8 | b[2 * k + 1]);
        break;
    }
    default:
        for (k = 0; t[k] != '\0'; k++)
            buf[k] = (char)toupper((unsigned char)t[k]);
        buf[k] = '\0';
        break;
    }
}

/* IPv6 client fields in the usual settings (truncation to whole groups)
 * are masked without the formatter (v6_masked): at every prefix (whole
 * groups and not), with kept zero groups, NAT64 and mapped ones (the
 * IPv4 prefix), upper case and leading zeros. */
static void
test_v6_fast(void)
{
    static const int prefixes[] = {0, 16, 32, 48, 64, 80, 96, 112, 128, 40};

    fast_vs_general("IPv6", prefixes, sizeof(prefixes) / sizeof(prefixes[0]),
                    true, v6_text);
}

/* Two address spans of a line whose texts share a memo slot, the first
 * not in the memo and the second in it: the first one's result, stored
 * in the slot, is not what the second is written as. Over a pool of
 * clients and proxies in every pairing, against a fresh handle. */
static void
test_memo_pairs(void)
{
    char ips[64][48];
    unsigned i, bad = 0;
    ret_anonymizer *a;

    for (i = 0; i < 64; i++) {
        if (i % 4 == 3)
            snprintf(ips[i], sizeof(ips[i]), "2001:db8:%x:%x::%x", rnd() >> 4,
                     rnd() >> 4, i);
        else
            snprintf(ips[i], sizeof(ips[i]), "%u.%u.%u.%u", quad_part(),
                     quad_part(), quad_part(), quad_part());
    }
    ret_anonymizer_new(&a, NULL);
    for (i = 0; i < 20000; i++) {
        const char *c = ips[rnd() % 64], *f = ips[rnd() % 64];
        char line[200], want[256];
        size_t n, outlen, wantlen = 0;
        const char *o, *fo;
        ret_anonymizer *fresh;
        ret_record rec;

        n = (size_t)snprintf(line, sizeof(line), "%s %s - \"GET / HTTP/1.1\"",
                             c, f);
        span_record(&rec, line, n, strlen(c), strlen(c) + 1, strlen(f));
        ret_anonymizer_new(&fresh, NULL);
        if (ret_anonymizer_line(fresh, &rec, line, n, &fo, &wantlen, NULL) ==
                RET_OK &&
            wantlen < sizeof(want))
            memcpy(want, fo, wantlen);
        ret_anonymizer_free(fresh);
        if (ret_anonymizer_line(a, &rec, line, n, &o, &outlen, NULL) !=
                RET_OK ||
            outlen != wantlen || memcmp(o, want, outlen) != 0) {
            if (bad++ == 0) {
                show("in ", line, n);
                show("out", o, outlen);
            }
        }
    }
    is_int(bad, 0, "two spans of one memo slot: a fresh handle's results");
    ret_anonymizer_free(a);
}

int
main(void)
{
    test_table();
    test_methods();
    test_anonip();
    test_many_repeats();
    test_big_line();
    test_property();
    test_repeat_positions(false);
    test_repeat_positions(true);
    test_keyfile();
    test_v4_text();
    test_append();
    test_memo();
    test_quad_fast();
    test_v6_fast();
    test_memo_pairs();
    is_int(ret_anonymizer_new(NULL, NULL), RET_E_INVAL, "new(NULL)");
    ret_anonymizer_free(NULL);
    return done_testing();
}
