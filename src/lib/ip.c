/*
 * ip.c - IP addresses: parsing every textual form (RFC 4291, RFC 5952),
 * finding address-looking tokens in free text, masking, formatting.
 *
 * Nothing here allocates; everything works on caller-supplied bytes that
 * need not be NUL-terminated. No message ever quotes the address text.
 */
#include "internal.h"

#include <string.h>

static inline bool
is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static const signed char hex_table[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
     0,  1,  2,  3,  4,  5,  6,  7,  8,  9, -1, -1, -1, -1, -1, -1,
    -1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

static inline int
hex_value(unsigned char c)
{
    return hex_table[c];
}

/* A byte that may be part of an address token in free text. */
static inline bool
is_tokch(unsigned char c)
{
    return hex_value(c) >= 0 || c == ':' || c == '.';
}

/* A dotted quad of exactly p[0..n): 1 to 3 decimal digits per part, each
 * part at most 255. Leading zeros are decimal ("010" is ten): web servers
 * that write them pad with zeros, they do not mean octal. */
static bool
parse_v4(const char *p, size_t n, unsigned char out[4])
{
    const unsigned char *s = (const unsigned char *)p, *e = s + n;
    int part;

    if (n < 7 || n > 15)
        return false;
    for (part = 0; part < 4; part++) {
        unsigned v, d;

        if (e - s >= 3) {
            /* the part's three possible digits are there to look at */
            if ((v = (unsigned)s[0] - '0') > 9)
                return false;
            if ((d = (unsigned)s[1] - '0') > 9) {
                s += 1;
            } else if (v = v * 10 + d, (d = (unsigned)s[2] - '0') > 9) {
                s += 2;
            } else {
                v = v * 10 + d;
                s += 3;
                if (v > 255)
                    return false;
            }
        } else {
            if (s >= e || (v = (unsigned)*s - '0') > 9)
                return false;
            s++;
            if (s < e && (d = (unsigned)*s - '0') <= 9) {
                v = v * 10 + d;
                s++;
            }
        }
        out[part] = (unsigned char)v;
        if (part < 3) {
            if (s >= e || *s != '.')
                return false;
            s++;
        }
    }
    return s == e;
}

/* An IPv6 address of exactly p[0..n), without brackets or zone. The
 * groups are stored as they are read; those after a "::" are moved to
 * the end once their number is known. out is written only on success. */
static bool
parse_v6(const char *p, size_t n, unsigned char out[16], bool *dotted)
{
    const unsigned char *u = (const unsigned char *)p;
    unsigned char b[16] = {0};
    int ng = 0, dc = -1, g;
    size_t i = 0;
    bool dot = false;

    if (n < 2)
        return false;
    if (u[0] == ':') {
        if (u[1] != ':')
            return false;
        dc = 0;
        i = 2;
    }
    while (i < n) {
        unsigned v = 0;
        size_t j = i, lim = n - i > 4 ? i + 4 : n;
        int h;

        while (j < lim && (h = hex_value(u[j])) >= 0) {
            v = v * 16 + (unsigned)h;
            j++;
        }
        if (j < n && u[j] == '.') {
            if (ng > 6 || !parse_v4(p + i, n - i, b + 2 * ng))
                return false;
            ng += 2;
            dot = true;
            break;
        }
        /* no digit, a fifth hex digit, a ninth group */
        if (j == i || (j < n && hex_value(u[j]) >= 0) || ng >= 8)
            return false;
        b[2 * ng] = (unsigned char)(v >> 8);
        b[2 * ng + 1] = (unsigned char)v;
        ng++;
        i = j;
        if (i == n)
            break;
        if (u[i] != ':')
            return false;
        i++;
        if (i < n && u[i] == ':') {
            if (dc >= 0)
                return false;
            dc = ng;
            i++;
        } else if (i == n) {
            return false; /* a single trailing colon */
        }
    }
    if (dc >= 0) {
        if (ng > 7)
            return false;
        /* from the last group down, so none is overwritten unmoved */
        for (g = ng - 1; g >= dc; g--) {
            b[2 * (g + 8 - ng)] = b[2 * g];
            b[2 * (g + 8 - ng) + 1] = b[2 * g + 1];
            b[2 * g] = b[2 * g + 1] = 0;
        }
    } else if (ng != 8) {
        return false;
    }
    memcpy(out, b, 16);
    *dotted = dot;
    return true;
}

bool
ret__ip_parse_exact(const char *p, size_t n, ret_ip *ip, bool *dotted)
{
    ret_ip r;
    bool dot = false;

    memset(&r, 0, sizeof(r));
    if (parse_v4(p, n, r.bytes)) {
        r.family = 4;
    } else if (memchr(p, ':', n) != NULL && parse_v6(p, n, r.bytes, &dot)) {
        r.family = 6;
    } else {
        return false;
    }
    *ip = r;
    if (dotted != NULL)
        *dotted = dot;
    return true;
}

static bool
is_port(const char *p, size_t n)
{
    unsigned v = 0;
    size_t i;

    if (n == 0 || n > 5)
        return false;
    for (i = 0; i < n; i++) {
        if (!is_digit((unsigned char)p[i]))
            return false;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    return v <= 65535;
}

static bool
is_zone(const char *p, size_t n)
{
    size_t i;

    if (n == 0)
        return false;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              is_digit(c) || c == '.' || c == '_' || c == '-' || c == '~'))
            return false;
    }
    return true;
}

/* An IPv6 address with an optional "%zone". */
static bool
parse_v6_zone(const char *p, size_t n, ret_ip *ip, ret__iptok *tok,
              size_t base)
{
    const char *pct = memchr(p, '%', n);
    size_t an = pct ? (size_t)(pct - p) : n;
    bool dot;

    if (pct != NULL && !is_zone(pct + 1, n - an - 1))
        return false;
    memset(ip, 0, sizeof(*ip));
    if (!parse_v6(p, an, ip->bytes, &dot))
        return false;
    ip->family = 6;
    tok->off = base;
    tok->len = an;
    tok->dotted = dot;
    tok->glued = false;
    tok->ported = false;
    return true;
}

bool
ret__ip_parse_token(const char *p, size_t n, ret_ip *ip, ret__iptok *tok)
{
    const char *colon;
    ret_ip r;
    ret__iptok t;

    if (n == 0)
        return false;
    if (p[0] == '[') {
        const char *close = memchr(p, ']', n);
        size_t in;

        if (close == NULL)
            return false;
        in = (size_t)(close - p) - 1;
        if ((size_t)(close - p) + 1 < n) {
            size_t rest = n - (size_t)(close - p) - 1;

            if (close[1] != ':' || !is_port(close + 2, rest - 1))
                return false;
        }
        if (parse_v4(p + 1, in, r.bytes)) {
            memset(r.bytes + 4, 0, 12);
            r.family = 4;
            t.off = 1;
            t.len = in;
            t.dotted = false;
            t.glued = false;
            t.ported = false;
        } else if (!parse_v6_zone(p + 1, in, &r, &t, 1)) {
            return false;
        }
        *ip = r;
        *tok = t;
        return true;
    }
    memset(&r, 0, sizeof(r));
    if (parse_v4(p, n, r.bytes)) {
        r.family = 4;
        t.off = 0;
        t.len = n;
        t.dotted = false;
        t.glued = false;
        t.ported = false;
    } else if (parse_v6_zone(p, n, &r, &t, 0)) {
        /* done */
    } else if ((colon = memchr(p, ':', n)) != NULL &&
               is_port(colon + 1, n - (size_t)(colon - p) - 1) &&
               parse_v4(p, (size_t)(colon - p), r.bytes)) {
        r.family = 4;
        t.off = 0;
        t.len = (size_t)(colon - p);
        t.dotted = false;
        t.glued = false;
        t.ported = false;
    } else {
        return false;
    }
    *ip = r;
    *tok = t;
    return true;
}

ret_status
ret_ip_parse(const char *text, size_t len, ret_ip *out, ret_error *err)
{
    ret_ip ip;
    ret__iptok tok;

    if (text == NULL || out == NULL)
        return ret__fail(err, RET_E_INVAL, "ret_ip_parse: NULL argument");
    if (!ret__ip_parse_token(text, len, &ip, &tok))
        return ret__fail(err, RET_E_PARSE, "not an IP address");
    *out = ip;
    return RET_OK;
}

/* ---- finding addresses in free text ---- */

/* Tries the IPv6 readings of the token p[s..e): whole, without trailing
 * dots or a trailing colon, without an unbracketed ":port", without hex
 * digits glued before the first group. */
static bool
scan_v6(const char *p, size_t s, size_t e, ret_ip *ip, ret__iptok *tok)
{
    size_t cand[4][2], nc = 0, i, first, last, k;
    bool digit = false;

    while (e > s && p[e - 1] == '.')
        e--;
    if (e - s >= 2 && p[e - 1] == ':' && p[e - 2] != ':')
        e--;
    first = last = e;
    for (i = s; i < e; i++) {
        if (p[i] == ':') {
            if (first == e)
                first = i;
            last = i;
        } else if (p[i] != '.') {
            digit = true;
        }
    }
    if (!digit || first == e)
        return false;
    cand[nc][0] = s;
    cand[nc++][1] = e;
    if (last + 1 < e && is_port(p + last + 1, e - last - 1) && last > s) {
        cand[nc][0] = s;
        cand[nc++][1] = last;
    }
    if (first - s > 4) {
        cand[nc][0] = first - 4;
        cand[nc++][1] = e;
    }
    for (k = 0; k < nc; k++) {
        bool dot;

        memset(ip, 0, sizeof(*ip));
        if (parse_v6(p + cand[k][0], cand[k][1] - cand[k][0], ip->bytes,
                     &dot)) {
            ip->family = 6;
            tok->off = cand[k][0];
            tok->len = cand[k][1] - cand[k][0];
            tok->dotted = dot;
            tok->glued = cand[k][0] > s;
            tok->ported = cand[k][1] < e;
            return true;
        }
    }
    return false;
}

/* The first dotted quad in p[s..e) that is not part of a longer dotted
 * number ("1.2.3.4.5" is a version, not an address). Letters next to it
 * do not protect it: "ip1.2.3.4x" is masked. */
static bool
scan_v4(const char *p, size_t s, size_t e, ret_ip *ip, ret__iptok *tok)
{
    size_t j;

    for (j = s; j < e; j++) {
        size_t k = j;
        int part;
        bool good = true;

        if (!is_digit((unsigned char)p[j]))
            continue;
        if (j > s && is_digit((unsigned char)p[j - 1]))
            continue;
        if (j >= s + 2 && p[j - 1] == '.' && is_digit((unsigned char)p[j - 2]))
            continue;
        for (part = 0; part < 4 && good; part++) {
            unsigned v = 0, nd = 0;

            while (k < e && is_digit((unsigned char)p[k])) {
                if (++nd > 3)
                    break;
                v = v * 10 + (unsigned)(p[k] - '0');
                k++;
            }
            if (nd == 0 || nd > 3 || v > 255) {
                good = false;
                break;
            }
            ip->bytes[part] = (unsigned char)v;
            if (part < 3) {
                if (k >= e || p[k] != '.') {
                    good = false;
                    break;
                }
                k++;
            }
        }
        if (!good)
            continue;
        if (k + 1 < e && p[k] == '.' && is_digit((unsigned char)p[k + 1]))
            continue;
        memset(ip->bytes + 4, 0, 12);
        ip->family = 4;
        tok->off = j;
        tok->len = k - j;
        tok->dotted = false;
        tok->glued = false;
        tok->ported = false;
        return true;
    }
    return false;
}

bool
ret__ip_scan(const char *p, size_t n, size_t *pos, ret_ip *ip, ret__iptok *tok)
{
    size_t floor = *pos, i = *pos;

    while (i < n) {
        size_t s, e, ncolon = 0, k;

        while (i < n && p[i] != '.' && p[i] != ':')
            i++;
        if (i >= n)
            break;
        s = i;
        while (s > floor && is_tokch((unsigned char)p[s - 1]))
            s--;
        e = i + 1;
        while (e < n && is_tokch((unsigned char)p[e]))
            e++;
        for (k = s; k < e && ncolon < 2; k++)
            ncolon += p[k] == ':';
        if ((ncolon >= 2 && scan_v6(p, s, e, ip, tok)) ||
            scan_v4(p, s, e, ip, tok)) {
            *pos = tok->off + tok->len;
            return true;
        }
        i = e;
    }
    *pos = n;
    return false;
}

/* ---- classification, masking, formatting ---- */

int
ret__ip_embedded_v4(const ret_ip *ip)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0,
                                             0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0,
                                            0, 0,    0,    0,    0, 0};

    if (ip->family != 6)
        return 0;
    if (memcmp(ip->bytes, mapped, 12) == 0)
        return 1;
    if (memcmp(ip->bytes, nat64, 12) == 0)
        return 2;
    return 0;
}

void
ret__ip_mask_bits(unsigned char *b, size_t nbytes, int keep)
{
    size_t full;

    if (keep < 0)
        keep = 0;
    full = (size_t)keep / 8;
    if (full >= nbytes)
        return;
    if (keep % 8 != 0) {
        b[full] &= (unsigned char)(0xff00u >> (keep % 8));
        full++;
    }
    memset(b + full, 0, nbytes - full);
}

void
ret_ip_mask(ret_ip *ip, int ipv4_bits, int ipv6_bits)
{
    if (ip->family == 4)
        ret__ip_mask_bits(ip->bytes, 4, ipv4_bits);
    else if (ret__ip_embedded_v4(ip))
        ret__ip_mask_bits(ip->bytes + 12, 4, ipv4_bits);
    else
        ret__ip_mask_bits(ip->bytes, 16, ipv6_bits);
}

struct net {
    unsigned char b[16];
    int len;
};

static bool
in_net(const unsigned char *a, const struct net *n)
{
    int full = n->len / 8, rest = n->len % 8;

    if (memcmp(a, n->b, (size_t)full) != 0)
        return false;
    return rest == 0 ||
           ((a[full] ^ n->b[full]) & (unsigned char)(0xff00u >> rest)) == 0;
}

static bool
in_any(const unsigned char *a, const struct net *list, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (in_net(a, &list[i]))
            return true;
    return false;
}

/* Python's ipaddress is_private (the ranges of Debian's Python 3.11,
 * which anonip 1.1.0 runs on): IANA "not globally reachable" blocks
 * minus their exceptions; 100.64.0.0/10 is not private; an IPv4-mapped
 * address is private when its IPv4 address is. */
int
ret_ip_is_private(const ret_ip *ip)
{
    static const struct net v4[] = {
        {{0}, 8},
        {{10}, 8},
        {{127}, 8},
        {{169, 254}, 16},
        {{172, 16}, 12},
        {{192, 0, 0}, 24},
        {{192, 0, 0, 170}, 31},
        {{192, 0, 2}, 24},
        {{192, 168}, 16},
        {{198, 18}, 15},
        {{198, 51, 100}, 24},
        {{203, 0, 113}, 24},
        {{240}, 4},
        {{255, 255, 255, 255}, 32},
    };
    static const struct net v4x[] = {
        {{192, 0, 0, 9}, 32},
        {{192, 0, 0, 10}, 32},
    };
    static const struct net v6[] = {
        {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128},
        {{0}, 128},
        {{0, 0x64, 0xff, 0x9b, 0, 1}, 48},
        {{0x01, 0x00, 0, 0, 0, 0, 0, 0}, 64},
        {{0x20, 0x01, 0x00, 0x00}, 23},
        {{0x20, 0x01, 0x0d, 0xb8}, 32},
        {{0x20, 0x02}, 16},
        {{0xfc}, 7},
        {{0xfe, 0x80}, 10},
    };
    static const struct net v6x[] = {
        {{0x20, 0x01, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128},
        {{0x20, 0x01, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}, 128},
        {{0x20, 0x01, 0x00, 0x03}, 32},
        {{0x20, 0x01, 0x00, 0x04, 0x01, 0x12}, 48},
        {{0x20, 0x01, 0x00, 0x20}, 28},
        {{0x20, 0x01, 0x00, 0x30}, 28},
    };
    const unsigned char *a = ip->bytes;

    if (ip->family == 6 && ret__ip_embedded_v4(ip) == 1)
        a += 12;
    else if (ip->family == 6)
        return in_any(a, v6, sizeof(v6) / sizeof(v6[0])) &&
               !in_any(a, v6x, sizeof(v6x) / sizeof(v6x[0]));
    return in_any(a, v4, sizeof(v4) / sizeof(v4[0])) &&
           !in_any(a, v4x, sizeof(v4x) / sizeof(v4x[0]));
}

/* The decimal text of each octet, NUL-padded to four bytes. */
static const char dec_octet[256][4] = {
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13",
    "14", "15", "16", "17", "18", "19", "20", "21", "22", "23", "24", "25",
    "26", "27", "28", "29", "30", "31", "32", "33", "34", "35", "36", "37",
    "38", "39", "40", "41", "42", "43", "44", "45", "46", "47", "48", "49",
    "50", "51", "52", "53", "54", "55", "56", "57", "58", "59", "60", "61",
    "62", "63", "64", "65", "66", "67", "68", "69", "70", "71", "72", "73",
    "74", "75", "76", "77", "78", "79", "80", "81", "82", "83", "84", "85",
    "86", "87", "88", "89", "90", "91", "92", "93", "94", "95", "96", "97",
    "98", "99", "100", "101", "102", "103", "104", "105", "106", "107", "108",
    "109", "110", "111", "112", "113", "114", "115", "116", "117", "118",
    "119", "120", "121", "122", "123", "124", "125", "126", "127", "128",
    "129", "130", "131", "132", "133", "134", "135", "136", "137", "138",
    "139", "140", "141", "142", "143", "144", "145", "146", "147", "148",
    "149", "150", "151", "152", "153", "154", "155", "156", "157", "158",
    "159", "160", "161", "162", "163", "164", "165", "166", "167", "168",
    "169", "170", "171", "172", "173", "174", "175", "176", "177", "178",
    "179", "180", "181", "182", "183", "184", "185", "186", "187", "188",
    "189", "190", "191", "192", "193", "194", "195", "196", "197", "198",
    "199", "200", "201", "202", "203", "204", "205", "206", "207", "208",
    "209", "210", "211", "212", "213", "214", "215", "216", "217", "218",
    "219", "220", "221", "222", "223", "224", "225", "226", "227", "228",
    "229", "230", "231", "232", "233", "234", "235", "236", "237", "238",
    "239", "240", "241", "242", "243", "244", "245", "246", "247", "248",
    "249", "250", "251", "252", "253", "254", "255",
};

/* A dotted quad. Each octet's text is copied whole (four bytes), the
 * dot written over its padding: no division, no loop over digits. Up to
 * 16 bytes of buf are written; a quad ends every text of format_v6 at
 * byte 30 at the latest, inside the 46 bytes its callers provide. */
static size_t
put_quad(char *buf, const unsigned char *b)
{
    size_t n = 0;
    int i;

    for (i = 0; i < 4; i++) {
        unsigned v = b[i];

        memcpy(buf + n, dec_octet[v], 4);
        n += 1 + (v >= 10) + (v >= 100);
        buf[n++] = '.';
    }
    return n - 1;
}

static size_t
put_hex(char *buf, unsigned v)
{
    static const char digits[] = "0123456789abcdef";
    size_t n = v >= 0x1000 ? 4 : v >= 0x100 ? 3 : v >= 0x10 ? 2 : 1, i;

    for (i = n; i-- > 0; v >>= 4)
        buf[i] = digits[v & 15];
    return n;
}

static size_t
format_v6(const ret_ip *ip, bool dotted, bool compress, char *buf)
{
    unsigned g[8];
    int ng = dotted ? 6 : 8, i, best = -1, bestlen = 0, run = 0;
    size_t n = 0;

    if (ip->family == 4)
        return put_quad(buf, ip->bytes);
    for (i = 0; i < 8; i++)
        g[i] = (unsigned)ip->bytes[2 * i] << 8 | ip->bytes[2 * i + 1];
    /* RFC 5952 4.2: the longest run of two or more zero groups, the
     * first of equal runs, becomes "::". */
    for (i = 0; i < ng; i++) {
        if (g[i] == 0) {
            run++;
            if (run > bestlen) {
                bestlen = run;
                best = i - run + 1;
            }
        } else {
            run = 0;
        }
    }
    if (bestlen < 2 || !compress)
        best = -1;
    for (i = 0; i < ng; i++) {
        if (i == best) {
            buf[n++] = ':';
            buf[n++] = ':';
            i += bestlen - 1;
            continue;
        }
        if (i > 0 && !(best >= 0 && i == best + bestlen))
            buf[n++] = ':';
        n += put_hex(buf + n, g[i]);
    }
    if (dotted) {
        if (!(best >= 0 && best + bestlen == 6))
            buf[n++] = ':';
        n += put_quad(buf + n, ip->bytes + 12);
    }
    return n;
}

size_t
ret__ip_format(const ret_ip *ip, bool dotted, char *buf)
{
    if (ip->family == 4) /* most addresses: not through format_v6 */
        return put_quad(buf, ip->bytes);
    return format_v6(ip, dotted, true, buf);
}

size_t
ret__ip_format_full(const ret_ip *ip, bool dotted, char *buf)
{
    if (ip->family == 4)
        return put_quad(buf, ip->bytes);
    return format_v6(ip, dotted, false, buf);
}

size_t
ret_ip_format(const ret_ip *ip, char *buf, size_t size)
{
    char tmp[64];
    size_t n;

    if (ip == NULL || (ip->family != 4 && ip->family != 6)) {
        if (buf != NULL && size > 0)
            buf[0] = '\0';
        return 0;
    }
    n = ret__ip_format(ip, ret__ip_embedded_v4(ip) != 0, tmp);
    if (buf != NULL && size > 0) {
        size_t c = n < size - 1 ? n : size - 1;

        memcpy(buf, tmp, c);
        buf[c] = '\0';
    }
    return n;
}
