/*
 * policy.c - retention.conf(5): reading, validating and looking up
 * policies. Decisions are in decide.c, the lifecycle text in explain.c.
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_POLICY_BYTES (1u << 20) /* a policy file larger than 1 MiB */
#define MAX_TOKENS 64               /* values on one line */
#define MAX_YEARS 1000              /* longest duration */
#define MAX_FILES 256               /* policy files in a directory */

/* ---- memory ---------------------------------------------------------- */

struct block {
    struct block *next;
    size_t used, cap;
    char data[];
};

struct ret_policy {
    struct block *arena;
    ret__header **hdr;
    size_t nhdr;
    ret_category **cat;
    size_t ncat;
    char hash[65];
};

static void *
arena_alloc(ret_policy *p, size_t n)
{
    struct block *b = p->arena;
    void *r;

    n = (n + 15) & ~(size_t)15;
    if (b == NULL || b->cap - b->used < n) {
        size_t cap = n > 8192 ? n : 8192;

        if ((b = malloc(sizeof(*b) + cap)) == NULL)
            return NULL;
        b->next = p->arena;
        b->used = 0;
        b->cap = cap;
        p->arena = b;
    }
    r = b->data + b->used;
    b->used += n;
    memset(r, 0, n);
    return r;
}

static char *
arena_strndup(ret_policy *p, const char *s, size_t n)
{
    char *r = arena_alloc(p, n + 1);

    if (r != NULL) {
        memcpy(r, s, n);
        r[n] = '\0';
    }
    return r;
}

void
ret_policy_free(ret_policy *p)
{
    struct block *b, *next;
    size_t i;

    if (p == NULL)
        return;
    for (i = 0; i < p->ncat; i++) {
        free(p->cat[i]->src);
        free(p->cat[i]);
    }
    free(p->cat);
    free(p->hdr);
    for (b = p->arena; b != NULL; b = next) {
        next = b->next;
        free(b);
    }
    free(p);
}

/* ---- SHA-256 (FIPS 180-4), for ret_policy_hash ---------------------- */

struct sha256 {
    uint32_t h[8];
    unsigned char buf[64];
    size_t nbuf;
    uint64_t total;
};

static const uint32_t sha_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void
sha_block(struct sha256 *s, const unsigned char *p)
{
    uint32_t w[64], a, b, c, d, e, f, g, h, t1, t2;
    int i;

    for (i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (i = 16; i < 64; i++)
        w[i] = w[i - 16] + (ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^
                            (w[i - 15] >> 3)) +
               w[i - 7] +
               (ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10));
    a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3];
    e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
    for (i = 0; i < 64; i++) {
        t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) +
             sha_k[i] + w[i];
        t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) +
             ((a & b) ^ (a & c) ^ (b & c));
        h = g, g = f, f = e, e = d + t1;
        d = c, c = b, b = a, a = t1 + t2;
    }
    s->h[0] += a, s->h[1] += b, s->h[2] += c, s->h[3] += d;
    s->h[4] += e, s->h[5] += f, s->h[6] += g, s->h[7] += h;
}

static void
sha_init(struct sha256 *s)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372,
                                   0xa54ff53a, 0x510e527f, 0x9b05688c,
                                   0x1f83d9ab, 0x5be0cd19};

    memcpy(s->h, iv, sizeof(iv));
    s->nbuf = 0;
    s->total = 0;
}

static void
sha_update(struct sha256 *s, const void *data, size_t len)
{
    const unsigned char *p = data;

    s->total += len;
    while (len > 0) {
        size_t n = 64 - s->nbuf < len ? 64 - s->nbuf : len;

        memcpy(s->buf + s->nbuf, p, n);
        s->nbuf += n;
        p += n;
        len -= n;
        if (s->nbuf == 64) {
            sha_block(s, s->buf);
            s->nbuf = 0;
        }
    }
}

static void
sha_hex(struct sha256 *s, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    uint64_t bits = s->total * 8;
    unsigned char pad = 0x80, len[8];
    int i;

    sha_update(s, &pad, 1);
    pad = 0;
    while (s->nbuf != 56)
        sha_update(s, &pad, 1);
    for (i = 0; i < 8; i++)
        len[i] = (unsigned char)(bits >> (56 - 8 * i));
    sha_update(s, len, 8);
    for (i = 0; i < 32; i++) {
        unsigned char b = (unsigned char)(s->h[i / 4] >> (24 - 8 * (i % 4)));

        out[2 * i] = hex[b >> 4];
        out[2 * i + 1] = hex[b & 15];
    }
    out[64] = '\0';
}

/* ---- lexer ----------------------------------------------------------- */

enum tok_type { T_WORD, T_STRING, T_LBRACE, T_RBRACE, T_NL, T_EOF };

struct tok {
    enum tok_type type;
    const char *raw; /* in the text */
    size_t rawlen;
    char *val;       /* decoded, NUL-terminated (arena) */
    size_t len;
    unsigned line, col;
};

struct parser {
    ret_policy *pol;
    const char *file;
    const char *s, *e;
    unsigned line, col;
    ret_error *err;
    ret__header *hdr;
    ret_category **first; /* this file's categories in pol->cat */
    size_t first_index;
};

static ret_status perr(struct parser *ps, unsigned line, unsigned col,
                       const char *fmt, ...) RET_PRINTF(4, 5);

static ret_status
perr(struct parser *ps, unsigned line, unsigned col, const char *fmt, ...)
{
    char msg[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return ret__fail(ps->err, RET_E_POLICY, "%s:%u:%u: %s", ps->file, line,
                     col, msg);
}

static ret_status
nomem(struct parser *ps)
{
    return ret__fail(ps->err, RET_E_NOMEM, "%s: out of memory", ps->file);
}

static void
advance(struct parser *ps, size_t n)
{
    while (n-- > 0 && ps->s < ps->e) {
        unsigned char c = (unsigned char)*ps->s++;

        if (c == '\n') {
            ps->line++;
            ps->col = 1;
        } else if ((c & 0xc0) != 0x80) {
            ps->col++; /* columns count characters, not UTF-8 bytes */
        }
    }
}

static bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Shows a token safely in a message: at most 40 bytes, no controls. */
static const char *
show(const char *p, size_t n, char *buf, size_t size)
{
    size_t i, j = 0;

    for (i = 0; i < n && j + 4 < size && i < 40; i++) {
        unsigned char c = (unsigned char)p[i];

        buf[j++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    if (i < n && j + 4 < size) {
        buf[j++] = '.';
        buf[j++] = '.';
        buf[j++] = '.';
    }
    buf[j] = '\0';
    return buf;
}

static ret_status
lex_string(struct parser *ps, struct tok *t)
{
    const char *p = ps->s + 1;
    char *out;
    size_t n = 0;

    /* Decoded text is never longer than the raw text. */
    for (; p < ps->e && *p != '"' && *p != '\n'; p++)
        if (*p == '\\' && p + 1 < ps->e)
            p++;
    if (p >= ps->e || *p != '"')
        return perr(ps, t->line, t->col, "unterminated string");
    if ((out = arena_alloc(ps->pol, (size_t)(p - ps->s))) == NULL)
        return nomem(ps);
    t->raw = ps->s;
    t->rawlen = (size_t)(p - ps->s) + 1;
    for (p = ps->s + 1; *p != '"'; p++) {
        if ((unsigned char)*p < 0x20 && *p != '\t')
            return perr(ps, t->line, t->col + (unsigned)(p - ps->s),
                        "control character 0x%02x in a string",
                        (unsigned char)*p);
        if (*p != '\\') {
            out[n++] = *p;
            continue;
        }
        p++;
        switch (*p) {
        case '"': out[n++] = '"'; break;
        case '\\': out[n++] = '\\'; break;
        case 'n': out[n++] = '\n'; break;
        case 't': out[n++] = '\t'; break;
        default: {
            unsigned col = t->col + (unsigned)(p - ps->s) - 1;
            char c = *p;

            return perr(ps, t->line, col,
                        "unknown escape '\\%c' in string (use \\\", \\\\, "
                        "\\n or \\t)",
                        c >= 0x20 && c < 0x7f ? c : '?');
        }
        }
    }
    out[n] = '\0';
    t->val = out;
    t->len = n;
    t->type = T_STRING;
    advance(ps, t->rawlen);
    return RET_OK;
}

static ret_status
lex(struct parser *ps, struct tok *t)
{
    const char *p;

    for (;;) {
        while (ps->s < ps->e && is_space(*ps->s))
            advance(ps, 1);
        if (ps->s < ps->e && *ps->s == '#') {
            while (ps->s < ps->e && *ps->s != '\n')
                advance(ps, 1);
        }
        if (ps->s + 1 < ps->e && ps->s[0] == '\\' && ps->s[1] == '\n') {
            advance(ps, 2); /* line continuation */
            continue;
        }
        break;
    }
    memset(t, 0, sizeof(*t));
    t->line = ps->line;
    t->col = ps->col;
    t->raw = ps->s;
    if (ps->s >= ps->e) {
        t->type = T_EOF;
        return RET_OK;
    }
    if (*ps->s == '\0')
        return perr(ps, t->line, t->col, "NUL byte in the policy text");
    if (((unsigned char)*ps->s < 0x20 && *ps->s != '\n') || *ps->s == 0x7f)
        return perr(ps, t->line, t->col, "control character 0x%02x in the "
                    "policy text", (unsigned char)*ps->s);
    if (*ps->s == '\n') {
        t->type = T_NL;
        t->rawlen = 1;
        advance(ps, 1);
        return RET_OK;
    }
    if (*ps->s == '"')
        return lex_string(ps, t);
    for (p = ps->s; p < ps->e && !is_space(*p) && *p != '\n' && *p != '"' &&
                    (unsigned char)*p >= 0x20 && *p != 0x7f;
         p++)
        if (*p == '#' && p > ps->s && is_space(p[-1]))
            break;
    t->rawlen = (size_t)(p - ps->s);
    if ((t->val = arena_strndup(ps->pol, ps->s, t->rawlen)) == NULL)
        return nomem(ps);
    t->len = t->rawlen;
    if (t->len == 1 && t->val[0] == '{')
        t->type = T_LBRACE;
    else if (t->len == 1 && t->val[0] == '}')
        t->type = T_RBRACE;
    else
        t->type = T_WORD;
    advance(ps, t->rawlen);
    return RET_OK;
}

/* Reads the rest of a line: values up to a newline, '}' or the end. The
 * terminator is left in *end. */
static ret_status
lex_line(struct parser *ps, struct tok *v, size_t *nv, struct tok *end)
{
    ret_status st;

    *nv = 0;
    memset(end, 0, sizeof(*end));
    for (;;) {
        struct tok t;

        if ((st = lex(ps, &t)) != RET_OK)
            return st;
        if (t.type == T_NL && *nv > 0 && v[*nv - 1].type == T_WORD &&
            v[*nv - 1].len > 0 && v[*nv - 1].val[v[*nv - 1].len - 1] == ',')
            continue; /* a list ending in a comma goes on */
        if (t.type == T_NL || t.type == T_EOF || t.type == T_RBRACE) {
            *end = t;
            return RET_OK;
        }
        if (t.type == T_LBRACE)
            return perr(ps, t.line, t.col, "unexpected '{'");
        if (*nv == MAX_TOKENS)
            return perr(ps, t.line, t.col, "too many values on one line");
        v[(*nv)++] = t;
    }
}

/* ---- hints ----------------------------------------------------------- */

static size_t
distance(const char *a, size_t na, const char *b)
{
    size_t nb = strlen(b), i, j, row[32];

    if (na >= 31 || nb >= 31)
        return 99;
    for (j = 0; j <= nb; j++)
        row[j] = j;
    for (i = 1; i <= na; i++) {
        size_t prev = row[0], tmp;

        row[0] = i;
        for (j = 1; j <= nb; j++) {
            size_t best = prev + (a[i - 1] != b[j - 1]);

            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            tmp = row[j];
            row[j] = best;
            prev = tmp;
        }
    }
    return row[nb];
}

/* The closest of names (NULL-terminated) to word, or NULL. */
static const char *
closest(const char *word, size_t n, const char *const *names)
{
    const char *best = NULL;
    size_t bd = 3, i;

    for (i = 0; names[i] != NULL; i++) {
        size_t d = distance(word, n, names[i]);

        if (d < bd || (n >= 2 && d == 99 && strstr(names[i], word))) {
            bd = d;
            best = names[i];
        }
    }
    if (best == NULL)
        for (i = 0; names[i] != NULL; i++)
            if (n >= 2 && strstr(names[i], word) != NULL)
                return names[i];
    return best;
}

static ret_status
unknown(struct parser *ps, const struct tok *t, const char *what,
        const char *const *names)
{
    char buf[64];
    const char *hint = closest(t->val, t->len, names);

    char list[160];
    size_t i, n = 0;

    show(t->val, t->len, buf, sizeof(buf));
    if (hint != NULL)
        return perr(ps, t->line, t->col, "unknown %s '%s' (did you mean '%s'?)",
                    what, buf, hint);
    for (i = 0; names[i] != NULL; i++)
        ;
    if (i > 7)
        return perr(ps, t->line, t->col, "unknown %s '%s'", what, buf);
    list[0] = '\0';
    for (i = 0; names[i] != NULL && n < sizeof(list); i++)
        n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
                              i == 0 ? "" : names[i + 1] ? ", " : " or ",
                              names[i]);
    return perr(ps, t->line, t->col, "unknown %s '%s' (use %s)", what, buf,
                list);
}

/* ---- values ---------------------------------------------------------- */

static bool
tok_is(const struct tok *t, const char *word)
{
    return t->type == T_WORD && strcmp(t->val, word) == 0;
}

static char *
location(struct parser *ps, unsigned line)
{
    char buf[32];
    size_t n = strlen(ps->file);
    int k = snprintf(buf, sizeof(buf), ":%u", line);
    char *r = arena_alloc(ps->pol, n + (size_t)k + 1);

    if (r != NULL) {
        memcpy(r, ps->file, n);
        memcpy(r + n, buf, (size_t)k + 1);
    }
    return r;
}

/* Parses a duration token: number-unit pairs, units s m h d w y. */
static ret_status
duration(struct parser *ps, const struct tok *t, ret__span *out)
{
    const char *s = t->val, *e = t->val + t->len;
    char buf[64];
    int64_t secs = 0, years = 0;

    show(t->val, t->len, buf, sizeof(buf));
    if (t->type != T_WORD || t->len == 0 || *s < '0' || *s > '9')
        return perr(ps, t->line, t->col,
                    "invalid duration '%s' (expected a number and a unit: "
                    "90d, 12h, 10y)",
                    buf);
    while (s < e) {
        int64_t v = 0, unit = 0;
        const char *start = s;

        while (s < e && *s >= '0' && *s <= '9') {
            if (v > (INT64_MAX - 9) / 10)
                return perr(ps, t->line, t->col,
                            "duration '%s' is too large (at most %d years)",
                            buf, MAX_YEARS);
            v = v * 10 + (*s++ - '0');
        }
        if (s == start)
            return perr(ps, t->line, t->col + (unsigned)(s - t->val),
                        "invalid duration '%s' (expected a number and a "
                        "unit: 90d, 12h, 10y)",
                        buf);
        if (s == e)
            return perr(ps, t->line, t->col, "duration '%s' needs a unit "
                        "(s, m, h, d, w or y)", buf);
        switch (*s) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        case 'w': unit = 7 * 86400; break;
        case 'y': unit = -1; break;
        default:
            return perr(ps, t->line, t->col + (unsigned)(s - t->val),
                        "unknown duration unit '%c' in '%s' (use s, m, h, "
                        "d, w or y)",
                        (unsigned char)*s >= 0x20 && *s != 0x7f ? *s : '?',
                        buf);
        }
        s++;
        if (unit < 0) {
            if (v > MAX_YEARS - years)
                return perr(ps, t->line, t->col,
                            "duration '%s' is too large (at most %d years)",
                            buf, MAX_YEARS);
            years += v;
        } else {
            if (v > ((int64_t)MAX_YEARS * 366 * 86400 - secs) / unit)
                return perr(ps, t->line, t->col,
                            "duration '%s' is too large (at most %d years)",
                            buf, MAX_YEARS);
            secs += v * unit;
        }
    }
    out->years = (int32_t)years;
    out->secs = secs;
    return RET_OK;
}

static bool
is_ident(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || n > 64 || !((s[0] >= 'a' && s[0] <= 'z') ||
                              (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
        return false;
    for (i = 1; i < n; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

static bool
is_name(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || n > 64)
        return false;
    for (i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' ||
              (i > 0 && (c == '-' || c == '.'))))
            return false;
    }
    return true;
}

/* Exactly one value after a key. */
static ret_status
one_value(struct parser *ps, const struct tok *key, const struct tok *v,
          size_t nv, const char *example)
{
    if (nv == 0)
        return perr(ps, key->line, key->col + (unsigned)key->len,
                    "'%s' needs a value (%s)", key->val, example);
    if (nv > 1)
        return perr(ps, v[1].line, v[1].col,
                    "'%s' takes one value (put text with spaces in "
                    "\"quotes\")",
                    key->val);
    return RET_OK;
}

/* Remembers where a key was first seen in a block, to refuse a second. */
struct seen {
    const char *key;
    unsigned line;
};

static ret_status
once(struct parser *ps, struct seen *seen, size_t nseen, const struct tok *k)
{
    size_t i;

    for (i = 0; i < nseen; i++)
        if (strcmp(seen[i].key, k->val) == 0) {
            if (seen[i].line != 0)
                return perr(ps, k->line, k->col,
                            "duplicate key '%s' (first at line %u)", k->val,
                            seen[i].line);
            seen[i].line = k->line;
            return RET_OK;
        }
    return RET_OK;
}

/* ---- the policy block ------------------------------------------------ */

static const char *const policy_keys[] = {
    "name", "controller", "version", "effective", "schedule", "state",
    "geoip", NULL};

static ret_status
policy_key(struct parser *ps, ret__header *h, const struct tok *k,
           const struct tok *v, size_t nv)
{
    ret_status st;
    char buf[64];

    if (tok_is(k, "name") || tok_is(k, "controller") || tok_is(k, "state") ||
        tok_is(k, "geoip")) {
        if ((st = one_value(ps, k, v, nv, tok_is(k, "state")
                                              ? "a directory"
                                              : tok_is(k, "geoip")
                                                    ? "an .mmdb file"
                                                    : "\"text\"")) != RET_OK)
            return st;
        if (v[0].len == 0)
            return perr(ps, v[0].line, v[0].col, "'%s' is empty", k->val);
        if (k->val[0] == 'n')
            h->name = v[0].val;
        else if (k->val[0] == 'c')
            h->controller = v[0].val;
        else if (k->val[0] == 's')
            h->state = v[0].val;
        else
            h->geoip = v[0].val;
        return RET_OK;
    }
    if (tok_is(k, "version")) {
        size_t i;

        if ((st = one_value(ps, k, v, nv, "1.2")) != RET_OK)
            return st;
        for (i = 0; i < v[0].len; i++) {
            char c = v[0].val[i];

            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                  (c >= 'A' && c <= 'Z') || c == '.' || c == '-'))
                break;
        }
        if (v[0].len == 0 || i < v[0].len || v[0].len > 32)
            return perr(ps, v[0].line, v[0].col,
                        "invalid version '%s' (use digits, letters, '.' "
                        "and '-': 1.2)",
                        show(v[0].val, v[0].len, buf, sizeof(buf)));
        h->version = v[0].val;
        return RET_OK;
    }
    if (tok_is(k, "effective")) {
        ret_error e;

        if ((st = one_value(ps, k, v, nv, "2017-12-01")) != RET_OK)
            return st;
        if (ret_time_parse(v[0].val, v[0].len, &h->effective, NULL, &e) !=
            RET_OK)
            return perr(ps, v[0].line, v[0].col,
                        "invalid date '%s' (expected 2017-12-01)",
                        show(v[0].val, v[0].len, buf, sizeof(buf)));
        h->has_effective = true;
        return RET_OK;
    }
    /* schedule */
    if ((st = one_value(ps, k, v, nv, "daily, hourly or none")) != RET_OK)
        return st;
    if (tok_is(&v[0], "daily")) {
        h->schedule = 86400;
    } else if (tok_is(&v[0], "hourly")) {
        h->schedule = 3600;
    } else if (tok_is(&v[0], "weekly")) {
        h->schedule = 7 * 86400;
    } else if (tok_is(&v[0], "none")) {
        h->schedule = 0;
    } else if (v[0].len > 0 && v[0].val[0] >= '0' && v[0].val[0] <= '9') {
        ret__span sp;

        if ((st = duration(ps, &v[0], &sp)) != RET_OK)
            return st;
        if (sp.years != 0 || sp.secs > 31 * 86400)
            return perr(ps, v[0].line, v[0].col,
                        "schedule '%s' is too long (at most 31d)",
                        show(v[0].val, v[0].len, buf, sizeof(buf)));
        h->schedule = sp.secs;
    } else {
        static const char *const names[] = {"daily", "hourly", "weekly",
                                            "none", NULL};

        return unknown(ps, &v[0], "schedule", names);
    }
    return RET_OK;
}

/* ---- categories ------------------------------------------------------ */

static const char *const category_keys[] = {
    "description", "personal",   "purpose", "files", "format",
    "table",       "anonymize",  "statistics", "delete", "retain",
    "hold",        NULL};

static const char *const field_names[RET_F__COUNT + 1] = {
    [RET_F_CLIENT] = "client-ip",     [RET_F_USER] = "user",
    [RET_F_TIME] = NULL,              [RET_F_REQUEST] = NULL,
    [RET_F_METHOD] = NULL,            [RET_F_PATH] = NULL,
    [RET_F_QUERY] = "query",          [RET_F_PROTOCOL] = NULL,
    [RET_F_STATUS] = NULL,            [RET_F_BYTES] = NULL,
    [RET_F_REFERER] = "referrer",     [RET_F_USER_AGENT] = "user-agent",
    [RET_F_VHOST] = NULL,             [RET_F_XFF] = "forwarded-ip",
    [RET_F_DURATION] = NULL,          [RET_F_DNT] = NULL,
    [RET_F_GPC] = NULL,               [RET_F_COOKIE] = "cookie",
    [RET_F__COUNT] = NULL};

static const char *const field_list[] = {"client-ip", "forwarded-ip", "user",
                                         "referrer",  "query", "user-agent",
                                         "cookie",    NULL};

const char *
ret_policy_field_name(ret_field f)
{
    if ((unsigned)f >= RET_F__COUNT)
        return NULL;
    return field_names[f];
}

static const char *const column_keys[RET_COL__COUNT + 1] = {
    [RET_COL_TIME] = "time",
    [RET_COL_SUBJECT] = "subject",
    [RET_COL_HOLD] = "hold",
    [RET_COL_COMPLETED] = "completed",
    [RET_COL_RETAIN_UNTIL] = "retain-until",
    [RET_COL_RESTRICTED] = "restricted",
    [RET_COL_CLIENT_IP] = "client-ip",
    [RET_COL__COUNT] = NULL};

static ret_status
add_source(struct parser *ps, ret_category *c, struct ret_source **out)
{
    struct ret_source *n;

    if (c->nsrc >= 256)
        return perr(ps, ps->line, 1, "too many sources in category '%s'",
                    c->name);
    n = realloc(c->src, (c->nsrc + 1) * sizeof(*n));
    if (n == NULL)
        return nomem(ps);
    c->src = n;
    *out = &n[c->nsrc++];
    memset(*out, 0, sizeof(**out));
    return RET_OK;
}

static ret_status
add_rule(struct parser *ps, ret_category *c, const struct tok *k,
         struct ret_rule **out)
{
    struct ret_rule *r;

    if (c->nrules >= RET__MAX_RULES)
        return perr(ps, k->line, k->col, "too many rules in category '%s' "
                    "(at most %d)", c->name, RET__MAX_RULES);
    r = &c->rules[c->nrules++];
    memset(r, 0, sizeof(*r));
    r->line = k->line;
    r->col = k->col;
    if ((r->loc = location(ps, k->line)) == NULL)
        return nomem(ps);
    *out = r;
    return RET_OK;
}

static ret_status
table_key(struct parser *ps, ret_category *c, const struct tok *k,
          const struct tok *v, size_t nv)
{
    struct ret_source *s;
    ret_status st;
    char buf[64];
    size_t i;

    if (nv < 2)
        return perr(ps, k->line, k->col,
                    "'table' needs a database and a table (table "
                    "sqlite:/path/db TABLE time=COLUMN ...)");
    if (strncmp(v[0].val, "sqlite:", 7) != 0 || v[0].len == 7)
        return perr(ps, v[0].line, v[0].col,
                    "invalid database '%s' (expected sqlite:/path/to.db)",
                    show(v[0].val, v[0].len, buf, sizeof(buf)));
    if (!is_ident(v[1].val, v[1].len))
        return perr(ps, v[1].line, v[1].col,
                    "invalid table name '%s' (letters, digits and '_')",
                    show(v[1].val, v[1].len, buf, sizeof(buf)));
    if ((st = add_source(ps, c, &s)) != RET_OK)
        return st;
    s->kind = RET_SOURCE_SQLITE;
    s->path = v[0].val + 7;
    s->table = v[1].val;
    s->line = k->line;
    s->col_no = k->col;
    for (i = 2; i < nv; i++) {
        const char *eq = memchr(v[i].val, '=', v[i].len);
        struct tok name = v[i];
        const char *colname;
        size_t colen;
        unsigned colcol, j;

        if (eq == NULL)
            return perr(ps, v[i].line, v[i].col,
                        "expected COLUMN-ROLE=NAME, got '%s' (time=, "
                        "subject=, hold=, completed=, retain-until=, "
                        "restricted=, client-ip=)",
                        show(v[i].val, v[i].len, buf, sizeof(buf)));
        name.len = (size_t)(eq - v[i].val);
        name.val = arena_strndup(ps->pol, v[i].val, name.len);
        if (name.val == NULL)
            return nomem(ps);
        for (j = 0; j < RET_COL__COUNT; j++)
            if (strcmp(column_keys[j], name.val) == 0)
                break;
        if (j == RET_COL__COUNT)
            return unknown(ps, &name, "column role", column_keys);
        if (s->col[j] != NULL)
            return perr(ps, v[i].line, v[i].col, "column role '%s' given "
                        "twice", name.val);
        colname = eq + 1;
        colen = v[i].len - name.len - 1;
        colcol = v[i].col + (unsigned)name.len + 1;
        if (colen == 0 && i + 1 < nv && v[i + 1].type == T_STRING &&
            v[i + 1].line == v[i].line &&
            v[i + 1].col == v[i].col + (unsigned)v[i].len) {
            i++; /* role="column" */
            colname = v[i].val;
            colen = v[i].len;
            colcol = v[i].col;
        }
        if (!is_ident(colname, colen))
            return perr(ps, v[i].line, colcol,
                        "invalid column name '%s' (letters, digits and '_')",
                        show(colname, colen, buf, sizeof(buf)));
        s->col[j] = colname;
    }
    if (s->col[RET_COL_TIME] == NULL)
        return perr(ps, k->line, k->col,
                    "table '%s' needs time=COLUMN (the record's time)",
                    s->table);
    return RET_OK;
}

static ret_status
anonymize_key(struct parser *ps, ret_category *c, const struct tok *k,
              const struct tok *v, size_t nv, struct seen *ipset)
{
    struct ret_rule *r;
    ret_status st;
    unsigned fields = 0;
    size_t i = 0;
    bool method = false, prefix = false;
    char buf[64];

    if ((st = add_rule(ps, c, k, &r)) != RET_OK)
        return st;
    r->action = RET_ANONYMIZE;
    r->anchor = RET_ANCHOR_TIME;
    for (; i < nv && !tok_is(&v[i], "after"); i++) {
        const char *p = v[i].val, *e = v[i].val + v[i].len;

        while (p < e) {
            const char *q = memchr(p, ',', (size_t)(e - p));
            struct tok f = v[i];
            unsigned j;
            size_t x;

            if (q == NULL)
                q = e;
            f.col = v[i].col + (unsigned)(p - v[i].val);
            f.len = (size_t)(q - p);
            if (f.len > 0) {
                if ((f.val = arena_strndup(ps->pol, p, f.len)) == NULL)
                    return nomem(ps);
                for (j = 0; j < RET_F__COUNT; j++)
                    if (field_names[j] && strcmp(field_names[j], f.val) == 0)
                        break;
                if (j == RET_F__COUNT && f.val[0] >= '0' && f.val[0] <= '9')
                    return perr(ps, f.line, f.col,
                                "expected 'after' before '%s' (anonymize "
                                "client-ip after 7d)",
                                show(f.val, f.len, buf, sizeof(buf)));
                if (j == RET_F__COUNT)
                    return unknown(ps, &f, "field", field_list);
                for (x = 0; x + 1 < c->nrules; x++)
                    if (c->rules[x].action == RET_ANONYMIZE &&
                        (c->rules[x].fields & (1u << j)))
                        return perr(ps, f.line, f.col,
                                    "field '%s' is already anonymized by "
                                    "line %u",
                                    f.val, c->rules[x].line);
                fields |= 1u << j;
            }
            p = q + 1;
        }
    }
    if (fields == 0)
        return perr(ps, k->line, k->col + (unsigned)k->len,
                    "'anonymize' needs a field (anonymize client-ip after "
                    "7d)");
    if (i == nv)
        return perr(ps, k->line, k->col,
                    "'anonymize' needs 'after DURATION' (anonymize "
                    "client-ip after 7d)");
    if (++i == nv)
        return perr(ps, v[i - 1].line, v[i - 1].col + 5,
                    "'after' needs a duration (7d)");
    if ((st = duration(ps, &v[i], &r->after)) != RET_OK)
        return st;
    r->fields = fields;
    for (i++; i < nv; i++) {
        if (tok_is(&v[i], "prefix")) {
            unsigned a = 0, b = 0;
            int n = 0;
            char tail;

            if (prefix)
                return perr(ps, v[i].line, v[i].col, "'prefix' given twice");
            if (++i == nv)
                return perr(ps, v[i - 1].line, v[i - 1].col,
                            "'prefix' needs IPV4/IPV6 bits (24/48)");
            if (sscanf(v[i].val, "%3u/%3u%c%n", &a, &b, &tail, &n) != 2 ||
                v[i].val[0] < '0' || v[i].val[0] > '9' || a > 32 ||
                b > 128)
                return perr(ps, v[i].line, v[i].col,
                            "invalid prefix '%s' (IPv4 bits 0..32, IPv6 "
                            "bits 0..128: 24/48)",
                            show(v[i].val, v[i].len, buf, sizeof(buf)));
            prefix = true;
            if (ipset->line != 0 &&
                (c->ipv4_prefix != (int)a || c->ipv6_prefix != (int)b))
                return perr(ps, v[i].line, v[i].col,
                            "prefix differs from the one at line %u (one "
                            "prefix per category)",
                            ipset->line);
            c->ipv4_prefix = (int)a;
            c->ipv6_prefix = (int)b;
        } else if (tok_is(&v[i], "method")) {
            static const char *const methods[] = {"truncate", "zero", "hash",
                                                  NULL};
            ret_anon_method m;

            if (method)
                return perr(ps, v[i].line, v[i].col, "'method' given twice");
            if (++i == nv)
                return perr(ps, v[i - 1].line, v[i - 1].col,
                            "'method' needs truncate, zero or hash");
            if (tok_is(&v[i], "truncate"))
                m = RET_ANON_TRUNCATE;
            else if (tok_is(&v[i], "zero"))
                m = RET_ANON_ZERO;
            else if (tok_is(&v[i], "hash"))
                m = RET_ANON_HASH;
            else
                return unknown(ps, &v[i], "method", methods);
            method = true;
            if (ipset->line != 0 && c->method != m)
                return perr(ps, v[i].line, v[i].col,
                            "method differs from the one at line %u (one "
                            "method per category)",
                            ipset->line);
            c->method = m;
        } else {
            static const char *const opts[] = {"prefix", "method", NULL};

            return unknown(ps, &v[i], "anonymize option", opts);
        }
    }
    if ((prefix || method) && ipset->line == 0)
        ipset->line = k->line;
    return RET_OK;
}

static ret_status
delete_key(struct parser *ps, ret_category *c, const struct tok *k,
           const struct tok *v, size_t nv)
{
    struct ret_rule *r;
    ret_status st;
    char buf[64];

    if (nv == 0 || !tok_is(&v[0], "after"))
        return perr(ps, nv ? v[0].line : k->line,
                    nv ? v[0].col : k->col + (unsigned)k->len,
                    "expected 'delete after DURATION' or 'delete after "
                    "completion'");
    if (nv == 1)
        return perr(ps, v[0].line, v[0].col + 5,
                    "'after' needs a duration (90d) or 'completion'");
    if (tok_is(&v[1], "completion")) {
        if (c->del_completion >= 0)
            return perr(ps, k->line, k->col,
                        "second 'delete after completion' (first at line %u)",
                        c->rules[c->del_completion].line);
        if ((st = add_rule(ps, c, k, &r)) != RET_OK)
            return st;
        r->action = RET_DELETE;
        r->anchor = RET_ANCHOR_COMPLETION;
        c->del_completion = (int)c->nrules - 1;
        if (nv == 2)
            return RET_OK;
        if (tok_is(&v[2], "+")) {
            if (nv == 3)
                return perr(ps, v[2].line, v[2].col + 1,
                            "'+' needs a duration (delete after completion "
                            "+ 30d)");
            if (nv > 4)
                return perr(ps, v[4].line, v[4].col, "unexpected '%s'",
                            show(v[4].val, v[4].len, buf, sizeof(buf)));
            return duration(ps, &v[3], &r->after);
        }
        if (v[2].val[0] == '+' && nv == 3) {
            struct tok d = v[2];

            d.val++;
            d.len--;
            d.col++;
            return duration(ps, &d, &r->after);
        }
        return perr(ps, v[2].line, v[2].col,
                    "unexpected '%s' (delete after completion [+ DURATION])",
                    show(v[2].val, v[2].len, buf, sizeof(buf)));
    }
    if (c->del_time >= 0)
        return perr(ps, k->line, k->col,
                    "second 'delete after' rule (first at line %u)",
                    c->rules[c->del_time].line);
    if ((st = add_rule(ps, c, k, &r)) != RET_OK)
        return st;
    r->action = RET_DELETE;
    r->anchor = RET_ANCHOR_TIME;
    c->del_time = (int)c->nrules - 1;
    if ((st = duration(ps, &v[1], &r->after)) != RET_OK)
        return st;
    if (nv > 2)
        return perr(ps, v[2].line, v[2].col, "unexpected '%s' after the "
                    "duration",
                    show(v[2].val, v[2].len, buf, sizeof(buf)));
    if (r->after.years == 0 && r->after.secs == 0)
        return perr(ps, v[1].line, v[1].col,
                    "'delete after 0s' would delete every record at once");
    return RET_OK;
}

static ret_status
retain_key(struct parser *ps, ret_category *c, const struct tok *k,
           const struct tok *v, size_t nv)
{
    struct ret_rule *r;
    ret_status st;
    char buf[64];

    if (nv == 0)
        return perr(ps, k->line, k->col + (unsigned)k->len,
                    "'retain' needs a duration (retain 10y from "
                    "end-of-year)");
    if ((st = add_rule(ps, c, k, &r)) != RET_OK)
        return st;
    r->action = RET_RESTRICT;
    r->anchor = RET_ANCHOR_TIME;
    c->retain = (int)c->nrules - 1;
    if ((st = duration(ps, &v[0], &r->after)) != RET_OK)
        return st;
    if (nv == 1)
        return RET_OK;
    if (!tok_is(&v[1], "from"))
        return perr(ps, v[1].line, v[1].col,
                    "unexpected '%s' (retain DURATION [from end-of-year])",
                    show(v[1].val, v[1].len, buf, sizeof(buf)));
    if (nv == 2)
        return perr(ps, v[1].line, v[1].col + 4,
                    "'from' needs end-of-year or record");
    if (tok_is(&v[2], "end-of-year")) {
        r->anchor = RET_ANCHOR_END_OF_YEAR;
        if (r->after.secs != 0)
            return perr(ps, v[0].line, v[0].col,
                        "a retention from end-of-year is counted in whole "
                        "years (10y)");
    } else if (!tok_is(&v[2], "record")) {
        static const char *const names[] = {"end-of-year", "record", NULL};

        return unknown(ps, &v[2], "retention start", names);
    }
    if (nv > 3)
        return perr(ps, v[3].line, v[3].col, "unexpected '%s'",
                    show(v[3].val, v[3].len, buf, sizeof(buf)));
    return RET_OK;
}

static ret_status
yes_no(struct parser *ps, const struct tok *k, const struct tok *v, size_t nv,
       bool *out)
{
    static const char *const names[] = {"yes", "no", NULL};
    ret_status st;

    if ((st = one_value(ps, k, v, nv, "yes or no")) != RET_OK)
        return st;
    if (tok_is(&v[0], "yes"))
        *out = true;
    else if (tok_is(&v[0], "no"))
        *out = false;
    else
        return unknown(ps, &v[0], "value", names);
    return RET_OK;
}

static ret_status
category_key(struct parser *ps, ret_category *c, const struct tok *k,
             const struct tok *v, size_t nv, struct seen *ipset)
{
    ret_status st;
    size_t i;

    if (tok_is(k, "description") || tok_is(k, "purpose") ||
        tok_is(k, "format")) {
        if ((st = one_value(ps, k, v, nv, k->val[0] == 'f' ? "combined"
                                                           : "\"text\"")) !=
            RET_OK)
            return st;
        if (v[0].len == 0)
            return perr(ps, v[0].line, v[0].col, "'%s' is empty", k->val);
        if (k->val[0] == 'd') {
            c->description = v[0].val;
        } else if (k->val[0] == 'p') {
            c->purpose = v[0].val;
        } else {
            ret_format *fmt = NULL;
            ret_error fe;
            const char *m = fe.message;

            /* A format that would not compile fails here, not at 3 am. */
            if (ret_format_compile(v[0].val, &fmt, &fe) != RET_OK) {
                if (strncmp(m, "format: ", 8) == 0)
                    m += 8;
                return perr(ps, v[0].line, v[0].col, "invalid format: %s",
                            m);
            }
            ret_format_free(fmt);
            c->format = v[0].val;
        }
        return RET_OK;
    }
    if (tok_is(k, "personal")) {
        size_t n = 0;
        char *out;

        if (nv == 0)
            return perr(ps, k->line, k->col + (unsigned)k->len,
                        "'personal' needs a list (personal ip, referrer)");
        for (i = 0; i < nv; i++)
            n += v[i].len + 2;
        if ((out = arena_alloc(ps->pol, n + 1)) == NULL)
            return nomem(ps);
        n = 0;
        for (i = 0; i < nv; i++) {
            size_t len = v[i].len;
            bool comma = false;

            while (len > 0 && v[i].val[len - 1] == ',') {
                len--;
                comma = true;
            }
            if (len > 0 && n > 0 && out[n - 1] != ' ')
                out[n++] = ' ';
            memcpy(out + n, v[i].val, len);
            n += len;
            if (comma && n > 0 && out[n - 1] != ' ') {
                out[n++] = ',';
                out[n++] = ' ';
            }
        }
        while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == ','))
            n--;
        out[n] = '\0';
        c->personal = out;
        return RET_OK;
    }
    if (tok_is(k, "files")) {
        if (nv == 0)
            return perr(ps, k->line, k->col + (unsigned)k->len,
                        "'files' needs a path or glob "
                        "(/var/log/nginx/access.log*)");
        for (i = 0; i < nv; i++) {
            struct ret_source *s;
            char buf[64];

            if (v[i].val[0] != '/' && strcmp(v[i].val, "-") != 0)
                return perr(ps, v[i].line, v[i].col,
                            "'%s' is not an absolute path",
                            show(v[i].val, v[i].len, buf, sizeof(buf)));
            if ((st = add_source(ps, c, &s)) != RET_OK)
                return st;
            s->kind = RET_SOURCE_FILES;
            s->path = v[i].val;
            s->line = v[i].line;
            s->col_no = v[i].col;
        }
        return RET_OK;
    }
    if (tok_is(k, "table"))
        return table_key(ps, c, k, v, nv);
    if (tok_is(k, "anonymize"))
        return anonymize_key(ps, c, k, v, nv, ipset);
    if (tok_is(k, "statistics"))
        return yes_no(ps, k, v, nv, &c->statistics);
    if (tok_is(k, "delete"))
        return delete_key(ps, c, k, v, nv);
    if (tok_is(k, "retain"))
        return retain_key(ps, c, k, v, nv);
    /* hold */
    if ((st = one_value(ps, k, v, nv, "restrict or keep")) != RET_OK)
        return st;
    if (tok_is(&v[0], "restrict")) {
        c->hold = RET_HOLD_RESTRICT;
    } else if (tok_is(&v[0], "keep")) {
        c->hold = RET_HOLD_KEEP;
    } else {
        static const char *const names[] = {"restrict", "keep", NULL};

        return unknown(ps, &v[0], "hold mode", names);
    }
    if ((c->hold_loc = location(ps, k->line)) == NULL)
        return nomem(ps);
    return RET_OK;
}

static double
approx_secs(ret__span s)
{
    return (double)s.years * 365.2425 * 86400.0 + (double)s.secs;
}

/* Checks a finished category as a whole. */
static ret_status
category_check(struct parser *ps, ret_category *c)
{
    size_t i;

    if (c->del_time < 0 && c->del_completion < 0)
        return perr(ps, c->line, c->col,
                    "category '%s' has no delete rule (add 'delete after "
                    "90d' or 'delete after completion')",
                    c->name);
    if (c->del_time >= 0) {
        const struct ret_rule *d = &c->rules[c->del_time];

        for (i = 0; i < c->nrules; i++) {
            const struct ret_rule *r = &c->rules[i];

            if (r->action == RET_ANONYMIZE &&
                approx_secs(r->after) >= approx_secs(d->after))
                return perr(ps, r->line, r->col,
                            "anonymize after is not before delete after "
                            "(line %u): the record would be deleted first",
                            d->line);
            if (r->action == RET_RESTRICT && r->anchor == RET_ANCHOR_TIME &&
                approx_secs(r->after) <= approx_secs(d->after))
                return perr(ps, r->line, r->col,
                            "retain is not longer than delete after (line "
                            "%u): it would never apply",
                            d->line);
        }
    }
    for (i = 0; i < c->nsrc; i++) {
        struct ret_source *s = &c->src[i];

        if (s->kind == RET_SOURCE_FILES) {
            s->format = c->format != NULL ? c->format : "auto";
            if (c->del_completion >= 0 && c->del_time < 0)
                return perr(ps, s->line, s->col_no,
                            "log files have no completion time: 'delete "
                            "after completion' needs a table with "
                            "completed=COLUMN");
        } else {
            s->format = NULL;
            if (c->del_completion >= 0 && s->col[RET_COL_COMPLETED] == NULL)
                return perr(ps, s->line, s->col_no,
                            "'delete after completion' needs "
                            "completed=COLUMN in table '%s'",
                            s->table);
        }
    }
    if (c->format != NULL && c->nsrc > 0) {
        for (i = 0; i < c->nsrc; i++)
            if (c->src[i].kind == RET_SOURCE_FILES)
                break;
        if (i == c->nsrc)
            return perr(ps, c->line, c->col,
                        "category '%s' has a format but no files", c->name);
    }
    return RET_OK;
}

/* A new category in ps->pol, or NULL when out of memory. */
static ret_category *
add_category(struct parser *ps)
{
    ret_policy *p = ps->pol;
    ret_category **n, *c;

    if ((c = calloc(1, sizeof(*c))) == NULL)
        return NULL;
    if ((n = realloc(p->cat, (p->ncat + 1) * sizeof(*n))) == NULL) {
        free(c);
        return NULL;
    }
    p->cat = n;
    p->cat[p->ncat++] = c;
    c->del_time = c->del_completion = c->retain = -1;
    c->ipv4_prefix = 24;
    c->ipv6_prefix = 48;
    c->method = RET_ANON_TRUNCATE;
    c->hold = RET_HOLD_RESTRICT;
    return c;
}

/* Parses the body of a block up to its '}'. cat is NULL for "policy". */
static ret_status
block(struct parser *ps, const struct tok *open, ret_category *cat)
{
    struct seen pseen[] = {{"name", 0},      {"controller", 0},
                           {"version", 0},   {"effective", 0},
                           {"schedule", 0},  {"state", 0},
                           {"geoip", 0}};
    struct seen cseen[] = {{"description", 0}, {"personal", 0},
                           {"purpose", 0},     {"format", 0},
                           {"statistics", 0},  {"retain", 0},
                           {"hold", 0}};
    struct seen ipset = {"prefix", 0};
    struct tok v[MAX_TOKENS + 1], end = {0};
    ret_status st;
    size_t nv;

    for (;;) {
        struct tok k;

        if ((st = lex(ps, &k)) != RET_OK)
            return st;
        if (k.type == T_NL)
            continue;
        if (k.type == T_RBRACE)
            return RET_OK;
        if (k.type == T_EOF) {
            if (cat != NULL)
                return perr(ps, open->line, open->col,
                            "category '%s' is not closed (missing '}')",
                            cat->name);
            return perr(ps, open->line, open->col,
                        "policy block is not closed (missing '}')");
        }
        if (k.type != T_WORD)
            return perr(ps, k.line, k.col, "%s",
                        k.type == T_STRING ? "expected a key, not a string"
                                           : "unexpected '{'");
        if (tok_is(&k, "category") || tok_is(&k, "policy"))
            return perr(ps, k.line, k.col,
                        "'%s' inside a block (is a '}' missing before it?)",
                        k.val);
        if ((st = lex_line(ps, v, &nv, &end)) != RET_OK)
            return st;
        if (cat == NULL) {
            size_t i;

            for (i = 0; policy_keys[i] != NULL; i++)
                if (strcmp(policy_keys[i], k.val) == 0)
                    break;
            if (policy_keys[i] == NULL) {
                for (i = 0; category_keys[i] != NULL; i++)
                    if (strcmp(category_keys[i], k.val) == 0)
                        return perr(ps, k.line, k.col,
                                    "'%s' belongs in a category block, not "
                                    "in the policy block",
                                    k.val);
                return unknown(ps, &k, "key", policy_keys);
            }
            if ((st = once(ps, pseen, sizeof(pseen) / sizeof(pseen[0]),
                           &k)) != RET_OK ||
                (st = policy_key(ps, ps->hdr, &k, v, nv)) != RET_OK)
                return st;
        } else {
            size_t i;

            for (i = 0; category_keys[i] != NULL; i++)
                if (strcmp(category_keys[i], k.val) == 0)
                    break;
            if (category_keys[i] == NULL) {
                for (i = 0; policy_keys[i] != NULL; i++)
                    if (strcmp(policy_keys[i], k.val) == 0)
                        return perr(ps, k.line, k.col,
                                    "'%s' belongs in the policy block",
                                    k.val);
                return unknown(ps, &k, "key", category_keys);
            }
            if ((st = once(ps, cseen, sizeof(cseen) / sizeof(cseen[0]),
                           &k)) != RET_OK ||
                (st = category_key(ps, cat, &k, v, nv, &ipset)) != RET_OK)
                return st;
        }
        if (end.type == T_RBRACE)
            return RET_OK;
        if (end.type == T_EOF && cat != NULL)
            return perr(ps, open->line, open->col,
                        "category '%s' is not closed (missing '}')",
                        cat->name);
        if (end.type == T_EOF)
            return perr(ps, open->line, open->col,
                        "policy block is not closed (missing '}')");
    }
}

/* After a block's '}' only a newline, a comment or the end may follow. */
static ret_status
block_end(struct parser *ps)
{
    struct tok t;
    ret_status st;

    if ((st = lex(ps, &t)) != RET_OK)
        return st;
    if (t.type != T_NL && t.type != T_EOF)
        return perr(ps, t.line, t.col, "expected a new line after '}'");
    return RET_OK;
}

static ret_status
parse_file(struct parser *ps, const char *text, size_t len)
{
    static const char *const blocks[] = {"policy", "category", NULL};
    ret__header *h = ps->hdr;
    struct tok policy_tok = {0};
    size_t first = ps->pol->ncat, i, j;
    ret_status st;

    ps->s = text;
    ps->e = text + len;
    ps->line = ps->col = 1;
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        ps->s += 3; /* a UTF-8 byte order mark */
    for (;;) {
        struct tok t, name, open;

        if ((st = lex(ps, &t)) != RET_OK)
            return st;
        if (t.type == T_NL)
            continue;
        if (t.type == T_EOF)
            break;
        if (t.type == T_RBRACE)
            return perr(ps, t.line, t.col, "unexpected '}'");
        if (t.type != T_WORD)
            return perr(ps, t.line, t.col,
                        "expected 'policy {' or 'category NAME {'");
        if (tok_is(&t, "policy")) {
            if (policy_tok.line != 0)
                return perr(ps, t.line, t.col,
                            "second policy block (first at line %u; one "
                            "policy per file)",
                            policy_tok.line);
            policy_tok = t;
            if ((st = lex(ps, &open)) != RET_OK)
                return st;
            if (open.type != T_LBRACE)
                return perr(ps, open.line, open.col,
                            "expected '{' after 'policy'");
            if ((h->loc = location(ps, t.line)) == NULL)
                return nomem(ps);
            if ((st = block(ps, &t, NULL)) != RET_OK ||
                (st = block_end(ps)) != RET_OK)
                return st;
            continue;
        }
        if (!tok_is(&t, "category")) {
            for (i = 0; category_keys[i] != NULL; i++)
                if (strcmp(category_keys[i], t.val) == 0)
                    return perr(ps, t.line, t.col,
                                "'%s' outside a block (put it in 'category "
                                "NAME { }')",
                                t.val);
            for (i = 0; policy_keys[i] != NULL; i++)
                if (strcmp(policy_keys[i], t.val) == 0)
                    return perr(ps, t.line, t.col,
                                "'%s' outside a block (put it in 'policy "
                                "{ }')",
                                t.val);
            return unknown(ps, &t, "block", blocks);
        }
        if ((st = lex(ps, &name)) != RET_OK)
            return st;
        if (name.type != T_WORD && name.type != T_STRING)
            return perr(ps, name.line, name.col,
                        "expected a category name after 'category'");
        if (!is_name(name.val, name.len)) {
            char buf[64];
            size_t n = name.len;

            if (n > 1 && name.val[n - 1] == '{' && is_name(name.val, n - 1))
                return perr(ps, name.line, name.col + (unsigned)n - 1,
                            "missing space before '{'");
            return perr(ps, name.line, name.col,
                        "invalid category name '%s' (letters, digits, '-', "
                        "'_' and '.')",
                        show(name.val, name.len, buf, sizeof(buf)));
        }
        for (i = first; i < ps->pol->ncat; i++)
            if (strcmp(ps->pol->cat[i]->name, name.val) == 0)
                return perr(ps, name.line, name.col,
                            "duplicate category '%s' (first at line %u)",
                            name.val, ps->pol->cat[i]->line);
        if ((st = lex(ps, &open)) != RET_OK)
            return st;
        if (open.type != T_LBRACE)
            return perr(ps, open.line, open.col,
                        "expected '{' after the category name");
        {
            ret_category *c = add_category(ps);

            if (c == NULL)
                return nomem(ps);
            c->hdr = h;
            c->name = name.val;
            c->line = t.line;
            c->col = t.col;
            if ((c->loc = location(ps, t.line)) == NULL)
                return nomem(ps);
            if ((st = block(ps, &t, c)) != RET_OK ||
                (st = block_end(ps)) != RET_OK ||
                (st = category_check(ps, c)) != RET_OK)
                return st;
        }
    }
    if (policy_tok.line == 0)
        return perr(ps, 1, 1,
                    "no policy block (a policy file needs 'policy { "
                    "controller \"...\" version 1.0 }')");
    if (h->controller == NULL)
        return perr(ps, policy_tok.line, policy_tok.col,
                    "policy block has no controller (add: controller "
                    "\"Company GmbH\")");
    if (h->version == NULL)
        return perr(ps, policy_tok.line, policy_tok.col,
                    "policy block has no version (add: version 1.0)");
    if (ps->pol->ncat == first)
        return perr(ps, policy_tok.line, policy_tok.col,
                    "policy has no category (add 'category NAME { ... }')");
    (void)j;
    return RET_OK;
}

static const char *
file_id(ret_policy *p, const char *file)
{
    const char *b = strrchr(file, '/');
    size_t n;

    b = b != NULL ? b + 1 : file;
    n = strlen(b);
    if (n > 5 && strcmp(b + n - 5, ".conf") == 0)
        n -= 5;
    return arena_strndup(p, b, n);
}

/* Parses one file's text into p. */
static ret_status
parse_into(ret_policy *p, const char *text, size_t len, const char *filename,
           ret_error *err)
{
    struct parser ps;
    ret__header *h, **nh;

    memset(&ps, 0, sizeof(ps));
    ps.pol = p;
    ps.err = err;
    if ((ps.file = arena_strndup(p, filename, strlen(filename))) == NULL ||
        (h = arena_alloc(p, sizeof(*h))) == NULL ||
        (h->id = file_id(p, filename)) == NULL)
        return ret__fail(err, RET_E_NOMEM, "%s: out of memory", filename);
    if ((nh = realloc(p->hdr, (p->nhdr + 1) * sizeof(*nh))) == NULL)
        return ret__fail(err, RET_E_NOMEM, "%s: out of memory", filename);
    p->hdr = nh;
    p->hdr[p->nhdr++] = h;
    h->file = ps.file;
    h->schedule = 86400;
    h->state = "/var/lib/retention";
    ps.hdr = h;
    return parse_file(&ps, text, len);
}

ret_status
ret_policy_parse(const char *text, size_t len, const char *filename,
                 ret_policy **out, ret_error *err)
{
    ret_policy *p;
    struct sha256 sha;
    ret_status st;

    if (out == NULL || (text == NULL && len > 0))
        return ret__fail(err, RET_E_INVAL, "policy: no text given");
    if (filename == NULL)
        filename = "policy";
    if (len > MAX_POLICY_BYTES)
        return ret__fail(err, RET_E_POLICY, "%s: larger than %u bytes",
                         filename, MAX_POLICY_BYTES);
    if ((p = calloc(1, sizeof(*p))) == NULL)
        return ret__fail(err, RET_E_NOMEM, "%s: out of memory", filename);
    if ((st = parse_into(p, text ? text : "", len, filename, err)) != RET_OK)
        goto out;
    sha_init(&sha);
    sha_update(&sha, text ? text : "", len);
    sha_hex(&sha, p->hash);
    *out = p;
    p = NULL;
out:
    ret_policy_free(p);
    return st;
}

/* Reads a policy file whole, refusing one that others could change. */
static ret_status
read_policy_file(const char *path, char **text, size_t *len, ret_error *err)
{
    struct stat st;
    char *buf = NULL;
    size_t n = 0;
    ret_status rs = RET_OK;
    int fd;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
        return ret__fail_errno(err, errno == ENOENT ? RET_E_NOTFOUND
                                                    : RET_E_IO,
                               errno, "%s", path);
    if (fstat(fd, &st) != 0) {
        rs = ret__fail_errno(err, RET_E_IO, errno, "%s", path);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rs = ret__fail(err, RET_E_POLICY, "%s: not a regular file", path);
        goto out;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        rs = ret__fail(err, RET_E_UNSAFE,
                       "%s: refusing a policy writable by group or others "
                       "(chmod go-w %s)",
                       path, path);
        goto out;
    }
    if (st.st_size > MAX_POLICY_BYTES) {
        rs = ret__fail(err, RET_E_POLICY, "%s: larger than %u bytes", path,
                       MAX_POLICY_BYTES);
        goto out;
    }
    if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
        rs = ret__fail(err, RET_E_NOMEM, "%s: out of memory", path);
        goto out;
    }
    while (n <= (size_t)st.st_size) {
        ssize_t r = read(fd, buf + n, (size_t)st.st_size + 1 - n);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rs = ret__fail_errno(err, RET_E_IO, errno, "read %s", path);
            goto out;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (n > (size_t)st.st_size) {
        rs = ret__fail(err, RET_E_IO, "%s: changed while being read", path);
        goto out;
    }
    *text = buf;
    *len = n;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return rs;
}

static int
compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

ret_status
ret_policy_load(const char *path, ret_policy **out, ret_error *err)
{
    ret_policy *p = NULL;
    struct sha256 sha;
    struct stat st;
    char **names = NULL, *text = NULL;
    size_t nnames = 0, i, len;
    ret_status rs = RET_OK;
    DIR *d = NULL;

    if (path == NULL || out == NULL)
        return ret__fail(err, RET_E_INVAL, "policy: no path given");
    if (stat(path, &st) != 0)
        return ret__fail_errno(err, errno == ENOENT ? RET_E_NOTFOUND
                                                    : RET_E_IO,
                               errno, "%s", path);
    if ((p = calloc(1, sizeof(*p))) == NULL)
        return ret__fail(err, RET_E_NOMEM, "%s: out of memory", path);
    sha_init(&sha);
    if (!S_ISDIR(st.st_mode)) {
        if ((rs = read_policy_file(path, &text, &len, err)) != RET_OK ||
            (rs = parse_into(p, text, len, path, err)) != RET_OK)
            goto out;
        sha_update(&sha, text, len);
    } else {
        struct dirent *de;

        if (st.st_mode & S_IWOTH) {
            rs = ret__fail(err, RET_E_UNSAFE,
                           "%s: refusing a policy directory writable by "
                           "others (chmod o-w %s)",
                           path, path);
            goto out;
        }
        if ((d = opendir(path)) == NULL) {
            rs = ret__fail_errno(err, RET_E_IO, errno, "%s", path);
            goto out;
        }
        while ((de = readdir(d)) != NULL) {
            size_t n = strlen(de->d_name);
            char **nn;

            if (de->d_name[0] == '.' || n <= 5 ||
                strcmp(de->d_name + n - 5, ".conf") != 0)
                continue;
            if (nnames == MAX_FILES) {
                rs = ret__fail(err, RET_E_POLICY,
                               "%s: more than %d policy files", path,
                               MAX_FILES);
                goto out;
            }
            if ((nn = realloc(names, (nnames + 1) * sizeof(*nn))) == NULL ||
                (names = nn, (nn[nnames] = strdup(de->d_name)) == NULL)) {
                rs = ret__fail(err, RET_E_NOMEM, "%s: out of memory", path);
                goto out;
            }
            nnames++;
        }
        if (nnames == 0) {
            rs = ret__fail(err, RET_E_POLICY, "%s: no *.conf policy file in "
                           "the directory", path);
            goto out;
        }
        qsort(names, nnames, sizeof(*names), compare_names);
        for (i = 0; i < nnames; i++) {
            size_t pl = strlen(path), nl = strlen(names[i]);
            char *full = malloc(pl + nl + 2);

            if (full == NULL) {
                rs = ret__fail(err, RET_E_NOMEM, "%s: out of memory", path);
                goto out;
            }
            memcpy(full, path, pl);
            if (pl > 0 && path[pl - 1] == '/')
                pl--;
            full[pl] = '/';
            memcpy(full + pl + 1, names[i], nl + 1);
            rs = read_policy_file(full, &text, &len, err);
            if (rs == RET_OK)
                rs = parse_into(p, text, len, full, err);
            free(full);
            if (rs != RET_OK)
                goto out;
            sha_update(&sha, names[i], nl + 1);
            sha_update(&sha, text, len);
            free(text);
            text = NULL;
        }
        /* One policy a controller: two versions of one statement both
         * enforced would apply the older rules too. */
        for (i = 1; i < p->nhdr; i++) {
            size_t j;

            for (j = 0; j < i; j++)
                if (strcmp(p->hdr[i]->controller, p->hdr[j]->controller) ==
                    0) {
                    rs = ret__fail(err, RET_E_POLICY,
                                   "%s: controller '%s' already has a "
                                   "policy in %s (one policy a controller: "
                                   "keep earlier versions outside %s)",
                                   p->hdr[i]->loc, p->hdr[i]->controller,
                                   p->hdr[j]->file, path);
                    goto out;
                }
        }
    }
    sha_hex(&sha, p->hash);
    *out = p;
    p = NULL;
out:
    if (d != NULL)
        closedir(d);
    for (i = 0; i < nnames; i++)
        free(names[i]);
    free(names);
    free(text);
    ret_policy_free(p);
    return rs;
}

/* ---- accessors ------------------------------------------------------- */

const char *
ret_policy_hash(const ret_policy *p)
{
    return p != NULL ? p->hash : "";
}

size_t
ret_policy_category_count(const ret_policy *p)
{
    return p != NULL ? p->ncat : 0;
}

const ret_category *
ret_policy_category(const ret_policy *p, size_t i)
{
    return p != NULL && i < p->ncat ? p->cat[i] : NULL;
}

const ret_category *
ret_policy_find(const ret_policy *p, const char *name)
{
    const char *slash;
    size_t i;

    if (p == NULL || name == NULL)
        return NULL;
    slash = strchr(name, '/');
    for (i = 0; i < p->ncat; i++) {
        const ret_category *c = p->cat[i];

        if (slash == NULL) {
            if (strcmp(c->name, name) == 0)
                return c;
        } else if (strlen(c->hdr->id) == (size_t)(slash - name) &&
                   memcmp(c->hdr->id, name, (size_t)(slash - name)) == 0 &&
                   strcmp(c->name, slash + 1) == 0) {
            return c;
        }
    }
    return NULL;
}

const char *
ret_category_name(const ret_category *c)
{
    return c->name;
}

const char *
ret_category_description(const ret_category *c)
{
    return c->description;
}

const char *
ret_category_controller(const ret_category *c)
{
    return c->hdr->controller;
}

const char *
ret_category_version(const ret_category *c)
{
    return c->hdr->version;
}

const char *
ret_category_state_dir(const ret_category *c)
{
    return c->hdr->state;
}

int64_t
ret_category_schedule(const ret_category *c)
{
    return c->hdr->schedule;
}

int
ret_category_statistics(const ret_category *c)
{
    return c->statistics;
}

const char *
ret_category_geoip(const ret_category *c)
{
    return c->hdr->geoip;
}

const char *
ret_category_policy_id(const ret_category *c)
{
    return c->hdr->id;
}

const char *
ret_category_policy_file(const ret_category *c)
{
    return c->hdr->file;
}

const char *
ret_category_policy_name(const ret_category *c)
{
    return c->hdr->name;
}

int
ret_category_effective(const ret_category *c, int64_t *t)
{
    if (!c->hdr->has_effective)
        return 0;
    if (t != NULL)
        *t = c->hdr->effective;
    return 1;
}

const char *
ret_category_personal(const ret_category *c)
{
    return c->personal;
}

const char *
ret_category_purpose(const ret_category *c)
{
    return c->purpose;
}

const char *
ret_category_location(const ret_category *c)
{
    return c->loc;
}

ret_hold_mode
ret_category_hold(const ret_category *c)
{
    return c->hold;
}

size_t
ret_category_rule_count(const ret_category *c)
{
    return c->nrules;
}

const ret_rule *
ret_category_rule(const ret_category *c, size_t i)
{
    return i < c->nrules ? &c->rules[i] : NULL;
}

ret_action
ret_rule_action(const ret_rule *r)
{
    return r->action;
}

ret_anchor
ret_rule_anchor(const ret_rule *r)
{
    return r->anchor;
}

int
ret_rule_years(const ret_rule *r)
{
    return r->after.years;
}

int64_t
ret_rule_seconds(const ret_rule *r)
{
    return r->after.secs;
}

unsigned
ret_rule_fields(const ret_rule *r)
{
    return r->fields;
}

const char *
ret_rule_location(const ret_rule *r)
{
    return r->loc;
}

size_t
ret_category_source_count(const ret_category *c)
{
    return c->nsrc;
}

const ret_source *
ret_category_source(const ret_category *c, size_t i)
{
    return i < c->nsrc ? &c->src[i] : NULL;
}

ret_source_kind
ret_source_type(const ret_source *s)
{
    return s->kind;
}

const char *
ret_source_path(const ret_source *s)
{
    return s->path;
}

const char *
ret_source_format(const ret_source *s)
{
    return s->kind == RET_SOURCE_FILES ? s->format : NULL;
}

const char *
ret_source_table(const ret_source *s)
{
    return s->table;
}

const char *
ret_source_column(const ret_source *s, ret_column col)
{
    if ((unsigned)col >= RET_COL__COUNT)
        return NULL;
    return s->col[col];
}
