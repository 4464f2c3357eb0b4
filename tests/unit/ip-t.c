/* ip-t.c - parsing, formatting, masking and classifying addresses. */
#include "internal.h"

#include <stdlib.h>

#include "../tap.h"

/* Parses text, formats it back (RFC 5952). */
static const char *
roundtrip(const char *text)
{
    static char buf[64];
    ret_ip ip;
    ret_error err;

    if (ret_ip_parse(text, strlen(text), &ip, &err) != RET_OK)
        return "(error)";
    ret_ip_format(&ip, buf, sizeof(buf));
    return buf;
}

static const char *
masked(const char *text, int v4, int v6)
{
    static char buf[64];
    ret_ip ip;

    if (ret_ip_parse(text, strlen(text), &ip, NULL) != RET_OK)
        return "(error)";
    ret_ip_mask(&ip, v4, v6);
    ret_ip_format(&ip, buf, sizeof(buf));
    return buf;
}

static int
private(const char *text)
{
    ret_ip ip;

    if (ret_ip_parse(text, strlen(text), &ip, NULL) != RET_OK)
        return -1;
    return ret_ip_is_private(&ip);
}

/* The address tokens ret__ip_scan finds, as "off+len,off+len". */
static const char *
scan(const char *text)
{
    static char buf[256];
    size_t pos = 0, n = strlen(text), used = 0;
    ret_ip ip;
    ret__iptok tok;

    buf[0] = '\0';
    while (ret__ip_scan(text, n, &pos, &ip, &tok))
        used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%zu+%zu",
                                 used ? "," : "", tok.off, tok.len);
    return buf;
}

/* RFC 5952 text the slow way, to check ret__ip_format against: groups
 * with "%x", the first longest run of two or more zero groups as "::". */
static size_t
ref_format(const ret_ip *ip, bool dotted, bool compress, char *buf)
{
    int ng = dotted ? 6 : 8, i, best = -1, bestlen = 1, run = 0;
    size_t n = 0;

    for (i = 0; i < ng; i++) {
        run = ip->bytes[2 * i] == 0 && ip->bytes[2 * i + 1] == 0 ? run + 1 : 0;
        if (compress && run > bestlen) {
            bestlen = run;
            best = i - run + 1;
        }
    }
    for (i = 0; i < ng; i++) {
        if (i == best) {
            n += (size_t)sprintf(buf + n, "::");
            i += bestlen - 1;
            continue;
        }
        n += (size_t)sprintf(buf + n, "%s%x", i > 0 && i != best + bestlen ? ":" : "",
                             (unsigned)ip->bytes[2 * i] << 8 | ip->bytes[2 * i + 1]);
    }
    if (dotted)
        n += (size_t)sprintf(buf + n, "%s%u.%u.%u.%u",
                             best >= 0 && best + bestlen == 6 ? "" : ":",
                             ip->bytes[12], ip->bytes[13], ip->bytes[14],
                             ip->bytes[15]);
    return n;
}

/* Every pattern of zero groups, with groups of one to four digits, in
 * both notations, compressed and full; the text parses back. */
static void
format_every_zero_pattern(void)
{
    static const unsigned vals[] = {0x1, 0xab, 0xf00, 0xffff, 0x10, 0x2345};
    unsigned m, bad = 0, badparse = 0;
    int i, dotted, full;

    for (m = 0; m < 256; m++) {
        ret_ip ip, back;
        bool dot;

        ip.family = 6;
        for (i = 0; i < 8; i++) {
            unsigned v = (m >> i & 1) ? 0 : vals[(m + (unsigned)i) % 6];

            ip.bytes[2 * i] = (unsigned char)(v >> 8);
            ip.bytes[2 * i + 1] = (unsigned char)v;
        }
        for (dotted = 0; dotted < 2; dotted++)
            for (full = 0; full < 2; full++) {
                char got[64], want[64];
                size_t n = full ? ret__ip_format_full(&ip, dotted, got)
                                : ret__ip_format(&ip, dotted, got);
                size_t wn = ref_format(&ip, dotted, !full, want);

                if (n != wn || memcmp(got, want, n) != 0) {
                    if (bad++ < 5)
                        diag("mask %02x dotted %d full %d: '%.*s', not '%s'", m,
                             dotted, full, (int)n, got, want);
                }
                if (!ret__ip_parse_exact(got, n, &back, &dot) ||
                    memcmp(back.bytes, ip.bytes, 16) != 0 ||
                    dot != (dotted != 0))
                    badparse++;
            }
    }
    is_int(bad, 0, "every zero-group pattern formatted as RFC 5952 says");
    is_int(badparse, 0, "and each text parses back to the address");
}

/* Every layout of a dotted quad: 1, 2 or 3 digits in each part (81 of
 * them), with the largest value, 255 in three digits, and 256 there,
 * each text alone in a buffer of its own length (so that a read past
 * it shows under ASan), alone, in brackets, with a port, and as the
 * tail of an IPv6 address. */
static void
every_quad_layout(void)
{
    static const char *digits[4] = {"", "9", "99", "255"};
    unsigned layout, bad = 0;
    int big;

    for (big = 0; big < 2; big++)
        for (layout = 0; layout < 81; layout++) {
            char text[64], form[64];
            unsigned l[4], k, want[4];
            size_t n = 0;
            int f;

            for (k = 0; k < 4; k++) {
                l[k] = 1 + layout / (k == 0 ? 1 : k == 1 ? 3 : k == 2 ? 9 : 27) % 3;
                want[k] = l[k] == 1 ? 9 : l[k] == 2 ? 99 : 255;
            }
            for (k = 0; k < 4; k++) {
                /* big: each part of three digits is 256 */
                const char *d = big && l[k] == 3 ? "256" : digits[l[k]];

                if (k > 0)
                    text[n++] = '.';
                memcpy(text + n, d, strlen(d));
                n += strlen(d);
            }
            text[n] = '\0';
            for (f = 0; f < 4; f++) {
                static const char *pre[] = {"", "[", "", "::ffff:"},
                                  *post[] = {"", "]", ":443", ""};
                int fn = snprintf(form, sizeof(form), "%s%s%s", pre[f], text,
                                  post[f]);
                char *own = malloc((size_t)fn);
                ret_ip ip;
                ret__iptok tok;
                bool ok_, want_ok = !big || (l[0] < 3 && l[1] < 3 && l[2] < 3 &&
                                             l[3] < 3);
                unsigned off = f == 3 ? 12 : 0;

                memcpy(own, form, (size_t)fn);
                ok_ = ret__ip_parse_token(own, (size_t)fn, &ip, &tok);
                if (ok_ != want_ok ||
                    (ok_ && (ip.bytes[off] != want[0] ||
                             ip.bytes[off + 1] != want[1] ||
                             ip.bytes[off + 2] != want[2] ||
                             ip.bytes[off + 3] != want[3] ||
                             ip.family != (f == 3 ? 6 : 4) ||
                             (f < 3 && (tok.off != (f == 1) ||
                                        tok.len != n))))) {
                    if (bad++ < 5)
                        diag("'%s': %s", form, ok_ ? "misread" : "refused");
                }
                free(own);
            }
        }
    is_int(bad, 0, "every digit count of every part, alone, [], :port, v6 tail");
}

int
main(void)
{
    static const struct {
        const char *in, *out;
    } forms[] = {
        {"192.0.2.1", "192.0.2.1"},
        {"0.0.0.0", "0.0.0.0"},
        {"255.255.255.255", "255.255.255.255"},
        {"010.001.002.003", "10.1.2.3"},
        {"192.0.2.1:8080", "192.0.2.1"},
        {"[192.0.2.1]:443", "192.0.2.1"},
        {"[192.0.2.1]", "192.0.2.1"},
        {"2001:db8::1", "2001:db8::1"},
        {"2001:DB8::1", "2001:db8::1"},
        {"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
        {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
        {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
        {"::", "::"},
        {"::1", "::1"},
        {"1::", "1::"},
        {"fe80::1%eth0", "fe80::1"},
        {"[fe80::1%eth0]:80", "fe80::1"},
        {"[2001:db8::1]", "2001:db8::1"},
        {"[2001:db8::1]:443", "2001:db8::1"},
        {"::ffff:192.0.2.1", "::ffff:192.0.2.1"},
        {"::FFFF:C000:0201", "::ffff:192.0.2.1"},
        {"64:ff9b::192.0.2.1", "64:ff9b::192.0.2.1"},
        {"::192.0.2.1", "::c000:201"},
        {"2001:db8:1:2:3:4:5:6", "2001:db8:1:2:3:4:5:6"},
        {"0:0:0:0:0:0:0:0", "::"},
        /* "::" standing for one group, at either end */
        {"::1:2:3:4:5:6:7", "0:1:2:3:4:5:6:7"},
        {"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"},
        {"1:2:3::4:5:6:7", "1:2:3:0:4:5:6:7"},
        /* groups of every length, leading zeros, mixed case */
        {"0:ab:abc:AbCd:1:010:0100:1000", "0:ab:abc:abcd:1:10:100:1000"},
        {"000a::0FFF", "a::fff"},
        /* a dotted tail after six groups, or after "::" and five */
        {"1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"},
        {"1:2:3:4:5::1.2.3.4", "1:2:3:4:5:0:102:304"},
        {"1::1.2.3.4", "1::102:304"},
        {"::ffff:001.002.003.004", "::ffff:1.2.3.4"},
        /* the longest text an address can have (45 bytes) */
        {"0000:0000:0000:0000:0000:ffff:255.255.255.255",
         "::ffff:255.255.255.255"},
        {"64:ff9b::", "64:ff9b::0.0.0.0"},
        {"64:FF9B::C000:221", "64:ff9b::192.0.2.33"},
        {"[::ffff:1.2.3.4]:80", "::ffff:1.2.3.4"},
        {"::1%lo", "::1"},
        /* every length of dotted quad, 7 to 15 bytes */
        {"1.2.3.4", "1.2.3.4"},
        {"1.2.3.45", "1.2.3.45"},
        {"12.3.45.6", "12.3.45.6"},
        {"1.23.255.9", "1.23.255.9"},
        {"9.99.199.249", "9.99.199.249"},
        {"255.0.10.100", "255.0.10.100"},
        {"100.20.3.255", "100.20.3.255"},
        {"250.251.252.253", "250.251.252.253"},
        {"00.0.000.0", "0.0.0.0"},
        {"1.2.3.4:0", "1.2.3.4"},
        {"[1.2.3.4]:65535", "1.2.3.4"},
        {"255.255.255.255:65535", "255.255.255.255"},
    };
    static const char *bad[] = {
        "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4:", "1.2.3.4:99999",
        "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1:::2", "::1::2", "12345::",
        "[::1", "::1]", "fe80::1%", "[1.2.3.4]x", "example.com", "1.2.3.4/24",
        "0x1.2.3.4", " 1.2.3.4", "1.2.3.4 ", "1.2.3.04444",
        /* IPv6: too many groups with "::", a trailing or single colon,
         * five-digit groups, bad dotted tails, stray bytes */
        ":", ":1::", "1:", "::1:", "1:2", "1::2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", "1:2:3:4:5:6::1.2.3.4",
        "1:2:3:4:5:6:7:1.2.3.4", "00000::", "::00000", "1:23456::",
        "0000:0000:0000:0000:0000:0ffff:1.2.3.4", "::1.2.3", "::1.2.3.4.5",
        "::256.1.2.3", "::1234.1.2.3", "::abc.1.2.3", "::.1.2.3", "1.2.3.4::",
        "::g", "::1 ", "::1/64", "[::1]:65536", "[::1]:", "[::1]::80",
        "::1%", "::1%a b", "[::1%eth0",
        /* dotted quads: empty parts, four digits, a part over 255, bytes
         * next to the digits that are no dot, a fifth part */
        "1..2.3", ".1.2.3", "1.2.3.", "1.2.3.4.", "1.2.3..4", "1.2..3.4",
        "1.2.3.256", "1.2.256.3", "1.256.2.3", "1.2.3.1000", "1000.1.2.3",
        "1.2.3.4444", "0001.2.3.4", "1.2.3.4a", "a1.2.3.4", "1.2/3.4",
        "1.2.3/4", "1.2.3.4:65536", "1.2.3.4:-1", "1.2.3.4%eth0", "1,2.3.4",
        "1.2.3.4.5.6", "12345678", "123456789012345", "1.2.3:4", "[1.2.3.4",
        "1.2.3.4]", "299.1.2.3", "1.2.3.260", "1.2.3.4 5", "100.100.100.1000",
        "1.2.3.-4", "1.2.3.+4", "1.2.3.4:80:80", "[1.2.3.4:80]", "1.2.3",
        "1.2", "1", "...", "....", "1.2.3.4\xff",
    };
    size_t i;
    ret_ip ip;
    ret_error err;
    char buf[64];

    for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
        is_str(roundtrip(forms[i].in), forms[i].out, "parse/format %s",
               forms[i].in);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&err, 0, sizeof(err));
        ok(ret_ip_parse(bad[i], strlen(bad[i]), &ip, &err) == RET_E_PARSE,
           "'%s' is not an address", bad[i]);
        ok(bad[i][0] == '\0' || strstr(err.message, bad[i]) == NULL,
           "the message does not quote '%s'", bad[i]);
    }
    is_int(ret_ip_parse(NULL, 0, &ip, NULL), RET_E_INVAL, "NULL text");
    /* Not NUL-terminated input: only len bytes are read. */
    is_int(ret_ip_parse("10.0.0.1xyz", 8, &ip, NULL), RET_OK, "length bounds");
    ok(ip.family == 4 && ip.bytes[0] == 10 && ip.bytes[3] == 1,
       "10.0.0.1 parsed from a prefix");

    /* RFC 5952 formatting: longest run, first of equals, no single 0. */
    is_str(roundtrip("1:0:0:2:0:0:0:3"), "1:0:0:2::3", "longest zero run");
    is_str(roundtrip("1:0:0:2:0:0:3:4"), "1::2:0:0:3:4", "first of equal runs");
    is_str(roundtrip("1:0:2:3:4:5:6:7"), "1:0:2:3:4:5:6:7", "single 0 kept");
    is_int(ret_ip_format(NULL, buf, sizeof(buf)), 0, "format NULL");
    ret_ip_parse("2001:db8::1", 11, &ip, NULL);
    is_int(ret_ip_format(&ip, buf, 5), 11, "short buffer: full length");
    is_str(buf, "2001", "short buffer: truncated and terminated");

    format_every_zero_pattern();
    every_quad_layout();
    ret_ip_parse("::ffff:1.2.3.4", 14, &ip, NULL);
    is_int(ret__ip_format_full(&ip, true, buf), 22, "full, dotted: length");
    is_str((buf[22] = '\0', buf), "0:0:0:0:0:ffff:1.2.3.4", "full, dotted");
    is_int(ret__ip_format_full(&ip, false, buf), 22, "full: length");
    is_str((buf[22] = '\0', buf), "0:0:0:0:0:ffff:102:304", "full");

    /* Masking. */
    is_str(masked("192.0.2.133", 24, 48), "192.0.2.0", "v4 /24");
    is_str(masked("192.0.2.133", 20, 48), "192.0.0.0", "v4 /20");
    is_str(masked("192.0.2.133", 0, 48), "0.0.0.0", "v4 /0");
    is_str(masked("192.0.2.133", 32, 48), "192.0.2.133", "v4 /32");
    is_str(masked("192.0.2.133", 25, 48), "192.0.2.128", "v4 /25");
    is_str(masked("2001:db8:abcd:1234::1", 24, 48), "2001:db8:abcd::", "v6 /48");
    is_str(masked("2001:db8:abcd:1234::1", 24, 44), "2001:db8:abc0::", "v6 /44");
    is_str(masked("2001:db8:abcd:1234::1", 24, 0), "::", "v6 /0");
    is_str(masked("2001:db8:abcd:1234::1", 24, 128), "2001:db8:abcd:1234::1",
           "v6 /128");
    is_str(masked("::ffff:192.0.2.133", 24, 48), "::ffff:192.0.2.0",
           "mapped: IPv4 prefix");
    is_str(masked("64:ff9b::192.0.2.133", 16, 48), "64:ff9b::192.0.0.0",
           "NAT64: IPv4 prefix");

    /* Python's is_private, as anonip --skip-private uses it. */
    is_int(private("10.1.2.3"), 1, "10/8 private");
    is_int(private("172.31.255.255"), 1, "172.16/12 private");
    is_int(private("172.32.0.0"), 0, "172.32 not private");
    is_int(private("100.64.0.1"), 0, "100.64/10 not private (Python)");
    is_int(private("192.0.0.9"), 0, "192.0.0.9 exception");
    is_int(private("192.0.0.8"), 1, "192.0.0.8 private");
    is_int(private("8.8.8.8"), 0, "8.8.8.8 public");
    is_int(private("255.255.255.255"), 1, "broadcast private");
    is_int(private("::1"), 1, "::1 private");
    is_int(private("fd00::1"), 1, "fc00::/7 private");
    is_int(private("fe80::1"), 1, "link-local private");
    is_int(private("2001:db8::1"), 1, "documentation private");
    is_int(private("2001:4860::8888"), 0, "public v6");
    is_int(private("2001:20::1"), 0, "2001:20::/28 exception");
    is_int(private("::ffff:10.0.0.1"), 1, "mapped private follows IPv4");
    is_int(private("::ffff:8.8.8.8"), 0, "mapped public follows IPv4");
    is_int(private("2002::1"), 1, "6to4 private");

    /* Scanning free text. */
    is_str(scan("a 192.0.2.1 b"), "2+9", "dotted quad between blanks");
    is_str(scan("010.001.002.003"), "0+15", "leading zeros");
    is_str(scan("x=1.2.3.4,5.6.7.8"), "2+7,10+7", "XFF list");
    is_str(scan("ip1.2.3.4x"), "2+7", "glued to letters: still masked");
    is_str(scan("v1.2.3.4.5 and 1.2.3"), "", "versions are not addresses");
    is_str(scan("999.1.2.3 1.2.3.256"), "", "out of range parts");
    is_str(scan("[2001:db8::1]:443"), "1+11", "bracketed v6 with port");
    is_str(scan("2001:DB8::A"), "0+11", "upper case v6");
    is_str(scan("fe80::1%eth0"), "0+7", "zone stays outside the address");
    is_str(scan("::ffff:1.2.3.4"), "0+14", "mapped");
    is_str(scan("[10/Oct/2000:13:55:36 -0700]"), "", "CLF time is no address");
    is_str(scan("12:34:56 00:11:22:33:44:55"), "", "times and MACs are not");
    is_str(scan("1.2.3.4:80"), "0+7", "v4 with port");
    is_str(scan("http://[::1]:8080/x"), "8+3", "URL host");
    is_str(scan("for=\"[2001:db8::1]:4711\""), "6+11", "Forwarded: for=");
    is_str(scan("a :: b"), "", "bare :: is ignored");
    is_str(scan("2001:db8::1."), "0+11", "sentence end dot");
    is_str(scan("2001:db8::1:"), "0+11", "trailing colon");
    is_str(scan("1.2.3.4."), "0+7", "v4 then a dot");
    return done_testing();
}
