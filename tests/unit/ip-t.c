/* ip-t.c - parsing, formatting, masking and classifying addresses. */
#include "internal.h"

#include <stdint.h>
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


/* ---- the parser as it was before its IPv6 fast path, to check the
 * current one against on many texts: its code, renamed (and its dotted
 * quad read the plain way, quad() being unchanged and checked above) ---- */

static bool
ref_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int
ref_hex(unsigned char c)
{
    if (ref_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Four parts of 1 to 3 digits, each at most 255, between dots; part i
 * in bits 8i..8i+7, or -1. */
static int64_t
ref_quad(const char *p, size_t n)
{
    uint32_t q = 0;
    size_t i = 0;
    int part;

    for (part = 0; part < 4; part++) {
        unsigned v = 0, nd = 0;

        if (part > 0 && (i >= n || p[i++] != '.'))
            return -1;
        while (i < n && ref_digit((unsigned char)p[i]) && nd < 4) {
            v = v * 10 + (unsigned)(p[i++] - '0');
            nd++;
        }
        if (nd == 0 || nd > 3 || v > 255)
            return -1;
        q |= (uint32_t)v << (8 * part);
    }
    return i == n ? (int64_t)q : -1;
}

static bool
ref_parse_v4(const char *p, size_t n, unsigned char out[4])
{
    int64_t q = ref_quad(p, n);

    if (q < 0)
        return false;
    out[0] = (unsigned char)q;
    out[1] = (unsigned char)(q >> 8);
    out[2] = (unsigned char)(q >> 16);
    out[3] = (unsigned char)(q >> 24);
    return true;
}

static inline void
ref_put_v4(ret_ip *ip, ret__iptok *tok, uint32_t q, size_t off, size_t len)
{
    memset(ip, 0, sizeof(*ip));
    ip->family = 4;
    ip->bytes[0] = (unsigned char)q;
    ip->bytes[1] = (unsigned char)(q >> 8);
    ip->bytes[2] = (unsigned char)(q >> 16);
    ip->bytes[3] = (unsigned char)(q >> 24);
    if (tok != NULL) {
        tok->off = off;
        tok->len = len;
        tok->dotted = false;
        tok->glued = false;
        tok->ported = false;
    }
}

static bool
ref_parse_v6(const char *p, size_t n, unsigned char out[16], bool *dotted)
{
    const unsigned char *s = (const unsigned char *)p, *e = s + n;
    unsigned char head[16] = {0}, tail[32] = {0}, *w = head;
    int ng = 0, dc = -1, nt = 0;
    uint64_t h[2], t[2];
    bool dot = false;

    /* Nothing longer can be an address: six four-digit groups, their
     * colons and fifteen bytes of dotted quad are 45. */
    if (n < 2 || n > 45)
        return false;
    if (s[0] == ':') {
        if (s[1] != ':')
            return false;
        dc = 0;
        w = tail + 16;
        s += 2;
        if (s == e)
            goto done; /* "::" */
    }
    for (;;) {
        /* s < e: a group must start here */
        const unsigned char *g = s;
        unsigned v;
        int d;

        /* no digit: no group (nor a dotted quad) */
        if ((d = ref_hex(*s)) < 0)
            return false;
        v = (unsigned)d;
        if (e - s > 4) {
            /* four digits and the byte after them are there to look at */
            if ((d = ref_hex(s[1])) < 0) {
                s += 1;
            } else if (v = v << 4 | (unsigned)d, (d = ref_hex(s[2])) < 0) {
                s += 2;
            } else if (v = v << 4 | (unsigned)d, (d = ref_hex(s[3])) < 0) {
                s += 3;
            } else {
                v = v << 4 | (unsigned)d;
                s += 4;
            }
        } else {
            while (++s < e && (d = ref_hex(*s)) >= 0)
                v = v << 4 | (unsigned)d;
        }
        if (s < e && *s != ':') {
            /* the first part of a dotted quad that ends the address
             * (its digits are read again), else a fifth hex digit or a
             * byte that has no place in an address */
            if (*s != '.' || ng > 6 ||
                !ref_parse_v4((const char *)g, (size_t)(e - g), w))
                return false;
            ng += 2;
            dot = true;
            break;
        }
        if (ng >= 8) /* a ninth group */
            return false;
        w[0] = (unsigned char)(v >> 8);
        w[1] = (unsigned char)v;
        w += 2;
        ng++;
        if (s == e)
            break;
        if (++s == e) /* past the colon */
            return false; /* a single trailing colon */
        if (*s == ':') {
            if (dc >= 0)
                return false;
            dc = ng;
            w = tail + 16;
            if (++s == e)
                break;
        }
    }
done:
    if (dc >= 0 ? ng > 7 : ng != 8)
        return false;
    if (dc >= 0)
        nt = ng - dc;
    /* head OR the zeros and groups of the tail, eight bytes at a time
     * (an OR of bytes: the same in either byte order) */
    memcpy(h, head, 16);
    memcpy(t, tail + 2 * nt, 16);
    h[0] |= t[0];
    h[1] |= t[1];
    memcpy(out, h, 16);
    *dotted = dot;
    return true;
}

static bool
ref_is_port(const char *p, size_t n)
{
    unsigned v = 0;
    size_t i;

    if (n == 0 || n > 5)
        return false;
    for (i = 0; i < n; i++) {
        if (!ref_digit((unsigned char)p[i]))
            return false;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    return v <= 65535;
}

static bool
ref_is_zone(const char *p, size_t n)
{
    size_t i;

    if (n == 0)
        return false;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              ref_digit(c) || c == '.' || c == '_' || c == '-' || c == '~'))
            return false;
    }
    return true;
}

/* An IPv6 address with an optional "%zone". */
static bool
ref_parse_v6_zone(const char *p, size_t n, ret_ip *ip, ret__iptok *tok,
                  size_t base)
{
    const char *pct = memchr(p, '%', n);
    size_t an = pct ? (size_t)(pct - p) : n;
    bool dot;

    if (pct != NULL && !ref_is_zone(pct + 1, n - an - 1))
        return false;
    memset(ip, 0, sizeof(*ip));
    if (!ref_parse_v6(p, an, ip->bytes, &dot))
        return false;
    ip->family = 6;
    tok->off = base;
    tok->len = an;
    tok->dotted = dot;
    tok->glued = false;
    tok->ported = false;
    return true;
}

static bool
ref_token_rest(const char *p, size_t n, ret_ip *ip, ret__iptok *tok)
{
    const char *colon;
    int64_t q;
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

            if (close[1] != ':' || !ref_is_port(close + 2, rest - 1))
                return false;
        }
        if ((q = ref_quad(p + 1, in)) >= 0) {
            ref_put_v4(ip, tok, (uint32_t)q, 1, in);
            return true;
        }
        if (!ref_parse_v6_zone(p + 1, in, &r, &t, 1))
            return false;
        *ip = r;
        *tok = t;
        return true;
    }
    if (ref_parse_v6_zone(p, n, &r, &t, 0)) {
        *ip = r;
        *tok = t;
        return true;
    }
    if ((colon = memchr(p, ':', n)) != NULL &&
        ref_is_port(colon + 1, n - (size_t)(colon - p) - 1) &&
        (q = ref_quad(p, (size_t)(colon - p))) >= 0) {
        ref_put_v4(ip, tok, (uint32_t)q, 0, (size_t)(colon - p));
        return true;
    }
    return false;
}

static bool
ref_exact_v6(const char *p, size_t n, ret_ip *ip, bool *dotted)
{
    ret_ip r;
    bool dot;

    if (memchr(p, ':', n) == NULL || !ref_parse_v6(p, n, r.bytes, &dot))
        return false;
    r.family = 6;
    *ip = r;
    if (dotted != NULL)
        *dotted = dot;
    return true;
}


static bool
ref_parse_token(const char *p, size_t n, ret_ip *ip, ret__iptok *tok)
{
    int64_t q;

    if (n != 0 && p[0] != '[' && (q = ref_quad(p, n)) >= 0) {
        ref_put_v4(ip, tok, (uint32_t)q, 0, n);
        return true;
    }
    return ref_token_rest(p, n, ip, tok);
}

static bool
ref_parse_exact(const char *p, size_t n, ret_ip *ip, bool *dotted)
{
    int64_t q = ref_quad(p, n);

    if (q < 0)
        return ref_exact_v6(p, n, ip, dotted);
    ref_put_v4(ip, NULL, (uint32_t)q, 0, n);
    if (dotted != NULL)
        *dotted = false;
    return true;
}

/* ---- texts to compare on ---- */

static uint64_t
rnd(uint64_t *s)
{
    /* xorshift64*: the same texts on every run */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

static unsigned
rnd_below(uint64_t *s, unsigned n)
{
    return (unsigned)(rnd(s) >> 33) % n;
}

/* An address written in one of its forms (or nearly: "::" may stand for
 * one group, a group may have five digits), with brackets, a port or a
 * zone now and then; IPv6 mostly. Returns the length (< 64). */
static size_t
gen_address(uint64_t *s, char *t)
{
    static const char lower[] = "0123456789abcdef",
                      upper[] = "0123456789ABCDEF";
    unsigned g[8], i, ng, from = 9, to = 9, dotted = rnd_below(s, 6) == 0,
                      bracket = rnd_below(s, 6) == 0, kase = rnd_below(s, 4);
    size_t n = 0;

    if (rnd_below(s, 6) == 0) {
        /* a dotted quad, now and then with a part over 255 or leading
         * zeros, in brackets or with a port */
        if (bracket)
            t[n++] = '[';
        for (i = 0; i < 4; i++)
            n += (size_t)snprintf(t + n, 8, "%s%s%u", i ? "." : "",
                                  rnd_below(s, 8) == 0 ? "0" : "",
                                  rnd_below(s, 3) == 0 ? rnd_below(s, 10)
                                                       : rnd_below(s, 260));
        if (bracket)
            t[n++] = ']';
        if (rnd_below(s, 3) == 0)
            n += (size_t)snprintf(t + n, 8, ":%u", rnd_below(s, 70000));
        return n;
    }
    ng = dotted ? 6 : 8;
    for (i = 0; i < 8; i++) {
        switch (rnd_below(s, 5)) {
        case 0:
        case 1:
            g[i] = 0;
            break;
        case 2:
            g[i] = rnd_below(s, 16) << (4 * rnd_below(s, 4));
            break;
        default:
            g[i] = (unsigned)(rnd(s) >> 48);
        }
    }
    if (rnd_below(s, 4) != 0) {
        /* "::" over groups from..to-1, zero or not */
        from = rnd_below(s, ng + 1);
        to = from + rnd_below(s, ng - from + 1);
        if (rnd_below(s, 3) != 0)
            for (i = from; i < to; i++)
                g[i] = 0;
    }
    if (bracket)
        t[n++] = '[';
    for (i = 0; i < ng; i++) {
        unsigned nd, d;

        if (i == from) {
            t[n++] = ':';
            t[n++] = ':';
            if (to > from)
                i = to - 1;
            else
                i--;
            from = 9;
            if (i + 1 >= ng)
                break;
            continue;
        }
        if (i > 0 && t[n - 1] != ':')
            t[n++] = ':';
        nd = 1u + (g[i] > 0xf) + (g[i] > 0xff) + (g[i] > 0xfff);
        if (rnd_below(s, 4) == 0)
            nd = 4 + (rnd_below(s, 16) == 0); /* leading zeros, or five */
        for (d = nd; d-- > 0;) {
            unsigned v = d < 4 ? (g[i] >> (4 * d)) & 15 : 0;

            t[n++] = kase == 1 || (kase == 2 && rnd_below(s, 2)) ? upper[v]
                                                                 : lower[v];
        }
    }
    if (dotted) {
        if (n > 0 && t[n - 1] != ':')
            t[n++] = ':';
        for (i = 0; i < 4; i++) {
            unsigned v = rnd_below(s, 3) == 0 ? rnd_below(s, 10)
                                              : rnd_below(s, 260);

            n += (size_t)snprintf(t + n, 8, "%s%s%u", i ? "." : "",
                                  rnd_below(s, 8) == 0 ? "0" : "", v);
        }
    }
    if (rnd_below(s, 8) == 0)
        n += (size_t)snprintf(t + n, 8, "%%%s",
                              rnd_below(s, 2) ? "eth0" : "1");
    if (bracket) {
        t[n++] = ']';
        if (rnd_below(s, 2))
            n += (size_t)snprintf(t + n, 8, ":%u", rnd_below(s, 70000));
    } else if (rnd_below(s, 10) == 0) {
        n += (size_t)snprintf(t + n, 8, ":%u", rnd_below(s, 70000));
    }
    return n;
}

/* One of the texts: an address, an address with a byte deleted,
 * inserted, replaced, doubled or cut off, or bytes at random. */
static size_t
gen_text(uint64_t *s, char *t)
{
    static const char bytes[] = "0123456789abcdefABCDEF::::....%[]gGxX -\xff";
    size_t n = 0, at;
    unsigned m = rnd_below(s, 8), i;

    if (m == 7) {
        n = rnd_below(s, 48);
        for (i = 0; i < n; i++)
            t[i] = bytes[rnd_below(s, sizeof(bytes) - 1)];
        return n;
    }
    n = gen_address(s, t);
    at = n ? rnd_below(s, (unsigned)n) : 0;
    switch (m) {
    case 3: /* delete */
        if (n > 0) {
            memmove(t + at, t + at + 1, n - at - 1);
            n--;
        }
        break;
    case 4: /* insert */
        memmove(t + at + 1, t + at, n - at);
        t[at] = bytes[rnd_below(s, sizeof(bytes) - 1)];
        n++;
        break;
    case 5: /* replace, or double */
        if (n > 0 && rnd_below(s, 2)) {
            t[at] = bytes[rnd_below(s, sizeof(bytes) - 1)];
        } else if (n > 0) {
            memmove(t + at + 1, t + at, n - at);
            n++;
        }
        break;
    case 6: /* cut off */
        n = at;
        break;
    default: /* as written */
        break;
    }
    return n;
}

static bool
same_tok(const ret__iptok *a, const ret__iptok *b)
{
    return a->off == b->off && a->len == b->len && a->dotted == b->dotted &&
           a->glued == b->glued && a->ported == b->ported;
}

/* Every text is read by ret__ip_parse_token and ret__ip_parse_exact and
 * the old parser, from the end of a buffer of its own length (a read
 * past it shows under ASan): the same answer, address, token fields,
 * nothing written on a refusal; what parses formats as ref_format
 * writes it. IP_T_TEXTS sets the number of texts. */
static void
differential(void)
{
    const char *env = getenv("IP_T_TEXTS");
    unsigned long count = env ? strtoul(env, NULL, 10) : 400000, i,
                  bad = 0, accepted = 0, v6 = 0, badfmt = 0;
    uint64_t seed = UINT64_C(0x9e3779b97f4a7c15);
    char *own = malloc(64);

    for (i = 0; i < count; i++) {
        char t[128], got[64], want[64];
        size_t n = gen_text(&seed, t), gn, wn;
        const char *p = own + 64 - n;
        ret_ip ip, rip;
        ret__iptok tok, rtok;
        bool ok, rok, dot = false, rdot = false;

        memcpy(own + 64 - n, t, n);
        memset(&ip, 0xa5, sizeof(ip));
        memset(&rip, 0xa5, sizeof(rip));
        memset(&tok, 0xa5, sizeof(tok));
        memset(&rtok, 0xa5, sizeof(rtok));
        ok = ret__ip_parse_token(p, n, &ip, &tok);
        rok = ref_parse_token(p, n, &rip, &rtok);
        if (ok != rok || memcmp(&ip, &rip, sizeof(ip)) != 0 ||
            (ok && !same_tok(&tok, &rtok))) {
            if (bad++ < 5)
                diag("token '%.*s': %d, the old parser %d", (int)n, p, ok, rok);
            continue;
        }
        accepted += ok;
        v6 += ok && ip.family == 6;
        if (ok) {
            gn = ret__ip_format(&ip, tok.dotted, got);
            wn = ip.family == 4 ? (size_t)snprintf(want, sizeof(want),
                                                   "%u.%u.%u.%u", ip.bytes[0],
                                                   ip.bytes[1], ip.bytes[2],
                                                   ip.bytes[3])
                                : ref_format(&ip, tok.dotted, true, want);
            if (gn != wn || memcmp(got, want, gn) != 0) {
                if (badfmt++ < 5)
                    diag("'%.*s' formatted '%.*s', not '%s'", (int)n, p,
                         (int)gn, got, want);
            }
            if (ip.family == 6) {
                gn = ret__ip_format_full(&ip, tok.dotted, got);
                wn = ref_format(&ip, tok.dotted, false, want);
                if ((gn != wn || memcmp(got, want, gn) != 0) && badfmt++ < 5)
                    diag("'%.*s' formatted in full '%.*s', not '%s'", (int)n,
                         p, (int)gn, got, want);
            }
        }
        memset(&ip, 0xa5, sizeof(ip));
        memset(&rip, 0xa5, sizeof(rip));
        ok = ret__ip_parse_exact(p, n, &ip, &dot);
        rok = ref_parse_exact(p, n, &rip, &rdot);
        if (ok != rok || memcmp(&ip, &rip, sizeof(ip)) != 0 ||
            (ok && dot != rdot)) {
            if (bad++ < 5)
                diag("exact '%.*s': %d, the old parser %d", (int)n, p, ok, rok);
        }
    }
    free(own);
    is_int(bad, 0, "%lu texts read as the old parser read them", count);
    is_int(badfmt, 0, "and formatted as RFC 5952 says");
    /* the texts must be worth it: many addresses, many of them not */
    ok(accepted > count / 5 && accepted < count * 4 / 5 &&
           v6 > accepted / 2 && v6 < accepted,
       "%lu of them addresses, %lu IPv6", accepted, v6);
}

/* Both readings of a dotted quad (the words' and SSSE3's) against
 * ref_quad, on texts of 8 to 15 bytes of digits and dots (a byte of
 * something else now and then), each at the end of its buffer: quads
 * of 1 to 4 digits a part, values up to 999, and bytes at random. */
static void
both_quad_ways(void)
{
    const char *env = getenv("IP_T_TEXTS");
    unsigned long count = env ? strtoul(env, NULL, 10) : 400000, i,
                  bad = 0, quads = 0;
    uint64_t seed = UINT64_C(0x2545f4914f6cdd1d);
    char *own = malloc(16);

    for (i = 0; i < count; i++) {
        static const char bytes[] = "0123456789.....x:";
        char t[32];
        size_t n = 0, k;
        int64_t want, got[2];
        int way;

        if (rnd_below(&seed, 2) == 0) {
            for (k = 0; k < 4; k++) {
                unsigned digits = 1 + rnd_below(&seed, rnd_below(&seed, 8) ? 3 : 4),
                         d;

                if (k > 0)
                    t[n++] = '.';
                for (d = 0; d < digits; d++)
                    t[n++] = (char)('0' + rnd_below(&seed, d == 0 ? 3 : 10));
            }
        } else {
            n = 8 + rnd_below(&seed, 8);
            for (k = 0; k < n; k++)
                t[k] = bytes[rnd_below(&seed, sizeof(bytes) - 1)];
        }
        if (n < 8 || n > 15)
            continue;
        memcpy(own + 16 - n, t, n);
        want = ref_quad(own + 16 - n, n);
        quads += want >= 0;
        for (way = 0; way < 2; way++)
            if ((got[way] = ret__ip_quad_way(own + 16 - n, n, way)) != want &&
                bad++ < 5)
                diag("'%.*s' read way %d: %lld, not %lld", (int)n, t, way,
                     (long long)got[way], (long long)want);
    }
    free(own);
    is_int(bad, 0, "%lu texts read both ways as ref_quad reads them", count);
    ok(quads > count / 10 && quads < count * 9 / 10, "%lu of them quads",
       quads);
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
    both_quad_ways();
    differential();
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
