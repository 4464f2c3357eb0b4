/*
 * anonymize.c - rewriting the addresses of a log line, every other byte
 * unchanged.
 *
 * Where the addresses are comes from the line's record (the client and
 * forwarded spans the format parser found), from anonip-style columns
 * or a regular expression, or, when none of these locates an address,
 * from a scan of the whole line: the anonymizer fails closed.
 *
 * The hot path does not allocate: the output buffer grows to the longest
 * line seen and is reused, and a line without an address is returned as
 * it came in.
 */
#include "internal.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
/* find_text has an AVX2 variant, chosen at run time (RET_FIND_WIDE) */
#define RET_FIND_WIDE 1
#include <immintrin.h>
#endif

#ifdef HAVE_GETRANDOM
#include <sys/random.h>
#endif
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

/* What a client field that holds a host name instead of an address
 * becomes: a name that cannot exist (RFC 2606) and tells nothing. */
#define HOSTNAME_TOKEN "hostname.invalid"

#define MAX_COLUMNS 64

/*
 * The client fields met last, each with what ret__ip_parse_token read in
 * it and the text its masked address is written as. A log names the same
 * clients again and again (a page and its images, a crawler, a proxy):
 * such a field then costs a hash and a compare instead of a parse, a
 * mask and a format. Direct-mapped by a hash of the field's text; every
 * setter of what masking depends on empties it. It holds addresses in
 * clear, as the line buffers do, and is wiped when the handle is freed.
 */
#define MEMO_BITS 10 /* 1024 slots of 128 bytes: inside a core's L2 */
#define MEMO_SLOTS (1u << MEMO_BITS)
#define MEMO_TEXT 46   /* the longest address text, brackets and port aside */
#define MEMO_OUT 48

struct memo {
    unsigned char n;      /* the field's length; 0: an empty slot */
    unsigned char outn;   /* the masked text's length */
    bool masked;          /* counted as masked (not a private one spared) */
    char text[MEMO_TEXT]; /* the field */
    char out[MEMO_OUT];   /* its address, masked, as line_record writes it */
    ret__iptok tok;       /* where the address is in the field */
};

struct ret_anonymizer {
    int v4bits, v6bits;
    ret_anon_method method;
    unsigned char key[16];
    bool scan_all;
    bool skip_private;
    uint64_t increment;
    /* anonip mode: columns (0-based, sorted, unique) or a regex */
    unsigned columns[MAX_COLUMNS];
    size_t ncolumns;
    char *delim;
    size_t delimlen;
    char *replace;
    size_t replacelen;
    pcre2_code *re;
    pcre2_match_data *md;
    /* the line being rewritten */
    const char *line;
    size_t copied; /* line bytes before this are in out already */
    size_t edits;
    char *out;
    size_t n, cap;
    size_t base; /* where this line's output starts in out */
    /* while a caller's buffer is out (ret__anonymizer_attach): the
     * handle's own */
    char *own;
    size_t owncap;
    bool attached;
    bool oom;
    bool wide; /* the CPU has AVX2: find_text_wide */
    struct memo *memo; /* MEMO_SLOTS, allocated at first use */
    bool memo_off;     /* its allocation failed: without */
    ret_anon_counts counts;
};

ret_status
ret__random_bytes(void *buf, size_t len, ret_error *err)
{
    unsigned char *p = buf;
    size_t done = 0;
    int fd;

#ifdef HAVE_GETRANDOM
    while (done < len) {
        ssize_t r = getrandom(p + done, len - done, 0);

        if (r < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        done += (size_t)r;
    }
    if (done == len)
        return RET_OK;
#endif
    fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ret__fail_errno(err, RET_E_IO, errno, "open /dev/urandom");
    while (done < len) {
        ssize_t r = read(fd, p + done, len - done);

        if (r <= 0) {
            if (r < 0 && errno == EINTR)
                continue;
            close(fd);
            return ret__fail(err, RET_E_IO, "read /dev/urandom failed");
        }
        done += (size_t)r;
    }
    close(fd);
    return RET_OK;
}

ret_status
ret_anonymizer_new(ret_anonymizer **out, ret_error *err)
{
    ret_anonymizer *a;
    ret_status st;

    if (out == NULL)
        return ret__fail(err, RET_E_INVAL, "ret_anonymizer_new: NULL out");
    if ((a = ret__calloc_lines(1, sizeof(*a))) == NULL)
        return ret__fail(err, RET_E_NOMEM, "out of memory");
    a->v4bits = 24;
    a->v6bits = 48;
    a->method = RET_ANON_TRUNCATE;
#ifdef RET_FIND_WIDE
    __builtin_cpu_init();
    a->wide = __builtin_cpu_supports("avx2") != 0;
#endif
    /* A key of this handle alone, until the caller sets one: hashes are
     * then countable within the run and unlinkable after it. */
    if ((st = ret__random_bytes(a->key, sizeof(a->key), err)) != RET_OK) {
        free(a);
        return st;
    }
    *out = a;
    return RET_OK;
}

/* Forgets every masked text: the settings they were made with change
 * (or the handle goes). */
static void
memo_clear(ret_anonymizer *a)
{
    if (a->memo != NULL)
        memset(a->memo, 0, MEMO_SLOTS * sizeof(*a->memo));
}

void
ret_anonymizer_free(ret_anonymizer *a)
{
    if (a == NULL)
        return;
    if (a->md != NULL)
        pcre2_match_data_free(a->md);
    if (a->re != NULL)
        pcre2_code_free(a->re);
    free(a->delim);
    free(a->replace);
    free(a->attached ? a->own : a->out);
    memo_clear(a); /* the addresses it holds */
    free(a->memo);
    memset(a->key, 0, sizeof(a->key));
    free(a);
}

ret_status
ret_anonymizer_set_prefix(ret_anonymizer *a, int ipv4_bits, int ipv6_bits,
                          ret_error *err)
{
    if (a == NULL)
        return ret__fail(err, RET_E_INVAL, "ret_anonymizer_set_prefix: NULL");
    if (ipv4_bits < 0 || ipv4_bits > 32)
        return ret__fail(err, RET_E_RANGE,
                         "IPv4 prefix %d is not from 0 to 32 bits", ipv4_bits);
    if (ipv6_bits < 0 || ipv6_bits > 128)
        return ret__fail(err, RET_E_RANGE,
                         "IPv6 prefix %d is not from 0 to 128 bits", ipv6_bits);
    a->v4bits = ipv4_bits;
    a->v6bits = ipv6_bits;
    memo_clear(a);
    return RET_OK;
}

ret_status
ret_anonymizer_set_method(ret_anonymizer *a, ret_anon_method method,
                          ret_error *err)
{
    if (a == NULL)
        return ret__fail(err, RET_E_INVAL, "ret_anonymizer_set_method: NULL");
    if (method != RET_ANON_TRUNCATE && method != RET_ANON_ZERO &&
        method != RET_ANON_HASH)
        return ret__fail(err, RET_E_INVAL, "unknown anonymization method %d",
                         (int)method);
    a->method = method;
    memo_clear(a);
    return RET_OK;
}

ret_status
ret_anonymizer_set_key(ret_anonymizer *a, const unsigned char key[16],
                       ret_error *err)
{
    if (a == NULL || key == NULL)
        return ret__fail(err, RET_E_INVAL, "ret_anonymizer_set_key: NULL");
    memcpy(a->key, key, sizeof(a->key));
    memo_clear(a);
    return RET_OK;
}

void
ret_anonymizer_set_scan_all(ret_anonymizer *a, int on)
{
    if (a != NULL)
        a->scan_all = on != 0;
}

void
ret_anonymizer_set_skip_private(ret_anonymizer *a, int on)
{
    if (a != NULL) {
        a->skip_private = on != 0;
        memo_clear(a);
    }
}

ret_status
ret_anonymizer_set_increment(ret_anonymizer *a, uint64_t n, ret_error *err)
{
    if (a == NULL)
        return ret__fail(err, RET_E_INVAL, "ret_anonymizer_set_increment: NULL");
    a->increment = n;
    memo_clear(a);
    return RET_OK;
}

static ret_status
set_string(char **dst, size_t *dstlen, const char *s, ret_error *err)
{
    char *copy = NULL;
    size_t n = 0;

    if (s != NULL) {
        n = strlen(s);
        if ((copy = malloc(n + 1)) == NULL)
            return ret__fail(err, RET_E_NOMEM, "out of memory");
        memcpy(copy, s, n + 1);
    }
    free(*dst);
    *dst = copy;
    *dstlen = n;
    return RET_OK;
}

ret_status
ret_anonymizer_set_replace(ret_anonymizer *a, const char *text,
                           ret_error *err)
{
    if (a == NULL)
        return ret__fail(err, RET_E_INVAL, "ret_anonymizer_set_replace: NULL");
    return set_string(&a->replace, &a->replacelen, text, err);
}

static int
cmp_unsigned(const void *x, const void *y)
{
    unsigned a = *(const unsigned *)x, b = *(const unsigned *)y;

    return a < b ? -1 : a > b;
}

ret_status
ret_anonymizer_set_columns(ret_anonymizer *a, const unsigned *columns,
                           size_t n, const char *delimiter, ret_error *err)
{
    unsigned tmp[MAX_COLUMNS];
    size_t i, m = 0;
    ret_status st;

    if (a == NULL || (n > 0 && columns == NULL))
        return ret__fail(err, RET_E_INVAL, "ret_anonymizer_set_columns: NULL");
    if (n > MAX_COLUMNS)
        return ret__fail(err, RET_E_RANGE, "more than %d columns",
                         MAX_COLUMNS);
    if (n > 0 && (delimiter == NULL || delimiter[0] == '\0'))
        return ret__fail(err, RET_E_INVAL, "the column delimiter is empty");
    for (i = 0; i < n; i++) {
        if (columns[i] < 1 || columns[i] > 65535)
            return ret__fail(err, RET_E_RANGE,
                             "column %u is not from 1 to 65535", columns[i]);
        tmp[i] = columns[i] - 1;
    }
    qsort(tmp, n, sizeof(tmp[0]), cmp_unsigned);
    for (i = 0; i < n; i++)
        if (m == 0 || tmp[m - 1] != tmp[i])
            tmp[m++] = tmp[i];
    if ((st = set_string(&a->delim, &a->delimlen, n ? delimiter : NULL,
                         err)) != RET_OK)
        return st;
    memcpy(a->columns, tmp, m * sizeof(tmp[0]));
    a->ncolumns = m;
    return RET_OK;
}

ret_status
ret_anonymizer_set_regex(ret_anonymizer *a, const char *pattern,
                         ret_error *err)
{
    pcre2_code *re;
    pcre2_match_data *md;
    int code;
    PCRE2_SIZE off;
    unsigned char msg[256];

    if (a == NULL)
        return ret__fail(err, RET_E_INVAL, "ret_anonymizer_set_regex: NULL");
    if (pattern == NULL) {
        if (a->md != NULL)
            pcre2_match_data_free(a->md);
        if (a->re != NULL)
            pcre2_code_free(a->re);
        a->md = NULL;
        a->re = NULL;
        return RET_OK;
    }
    re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &code,
                       &off, NULL);
    if (re == NULL) {
        pcre2_get_error_message(code, msg, sizeof(msg));
        return ret__fail(err, RET_E_INVAL, "regex at offset %zu: %s",
                         (size_t)off, (const char *)msg);
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* optional speed-up */
    if ((md = pcre2_match_data_create_from_pattern(re, NULL)) == NULL) {
        pcre2_code_free(re);
        return ret__fail(err, RET_E_NOMEM, "out of memory");
    }
    if (a->md != NULL)
        pcre2_match_data_free(a->md);
    if (a->re != NULL)
        pcre2_code_free(a->re);
    a->re = re;
    a->md = md;
    return RET_OK;
}

void
ret_anonymizer_counts(const ret_anonymizer *a, ret_anon_counts *out)
{
    if (out == NULL)
        return;
    if (a == NULL)
        memset(out, 0, sizeof(*out));
    else
        *out = a->counts;
}

bool
ret__anonymizer_set_wide(ret_anonymizer *a, bool on)
{
#ifdef RET_FIND_WIDE
    a->wide = on && __builtin_cpu_supports("avx2") != 0;
#else
    (void)on;
#endif
    return a->wide;
}

/*
 * A handle with a's settings and key, for another thread: its output
 * buffer and counts are its own (ret__anonymizer_add_counts sums them).
 */
ret_status
ret__anonymizer_clone(const ret_anonymizer *a, ret_anonymizer **out,
                      ret_error *err)
{
    ret_anonymizer *c;

    if (a == NULL || out == NULL)
        return ret__fail(err, RET_E_INVAL, "ret__anonymizer_clone: NULL");
    if ((c = ret__calloc_lines(1, sizeof(*c))) == NULL)
        return ret__fail(err, RET_E_NOMEM, "out of memory");
    *c = *a;
    c->delim = c->replace = NULL;
    c->re = NULL;
    c->md = NULL;
    c->line = NULL;
    c->out = NULL;
    c->memo = NULL; /* each handle its own */
    c->n = c->cap = c->copied = c->edits = 0;
    c->oom = false;
    memset(&c->counts, 0, sizeof(c->counts));
    if ((a->delim != NULL &&
         (c->delim = malloc(a->delimlen + 1)) == NULL) ||
        (a->replace != NULL &&
         (c->replace = malloc(a->replacelen + 1)) == NULL) ||
        (a->re != NULL && ((c->re = pcre2_code_copy(a->re)) == NULL ||
                           (c->md = pcre2_match_data_create_from_pattern(
                                c->re, NULL)) == NULL))) {
        ret_anonymizer_free(c);
        return ret__fail(err, RET_E_NOMEM, "out of memory");
    }
    if (c->delim != NULL)
        memcpy(c->delim, a->delim, a->delimlen + 1);
    if (c->replace != NULL)
        memcpy(c->replace, a->replace, a->replacelen + 1);
    *out = c;
    return RET_OK;
}

uint64_t
ret__anonymizer_failclosed(const ret_anonymizer *a)
{
    return a->counts.failclosed;
}

/* Adds the counts of from (a clone) to a's. */
void
ret__anonymizer_add_counts(ret_anonymizer *a, const ret_anonymizer *from)
{
    a->counts.lines += from->counts.lines;
    a->counts.addresses += from->counts.addresses;
    a->counts.hostnames += from->counts.hostnames;
    a->counts.replaced += from->counts.replaced;
    a->counts.failclosed += from->counts.failclosed;
}

/* ---- building the output ---- */

/* reserve() when out is too small: grows it, or sets oom. */
static __attribute__((noinline)) bool
grow(ret_anonymizer *a, size_t n)
{
    size_t cap = a->cap ? a->cap : 4096;
    char *nb;

    while (cap - a->n < n) {
        if (cap > SIZE_MAX / 2) {
            a->oom = true;
            return false;
        }
        cap *= 2;
    }
    if ((nb = realloc(a->out, cap)) == NULL) {
        a->oom = true;
        return false;
    }
    a->out = nb;
    a->cap = cap;
    return true;
}

/* Room for n more bytes in out; false (and oom) when there is none.
 * Inline: mostly there is room, two compares. */
static inline bool
reserve(ret_anonymizer *a, size_t n)
{
    if (a->oom)
        return false;
    if (a->cap - a->n >= n)
        return true;
    return grow(a, n);
}

static inline void
put(ret_anonymizer *a, const char *p, size_t n)
{
    if (!reserve(a, n))
        return;
    memcpy(a->out + a->n, p, n);
    a->n += n;
}

/* Replaces line[s..e) with r: the bytes before it are copied first. */
static void
edit(ret_anonymizer *a, size_t s, size_t e, const char *r, size_t rn)
{
    if (s > a->copied)
        put(a, a->line + a->copied, s - a->copied);
    put(a, r, rn);
    a->copied = e;
    a->edits++;
}

/* Adds n to an address of nbytes big-endian bytes; false on overflow. */
static bool
add_to(unsigned char *b, size_t nbytes, uint64_t n)
{
    unsigned char tmp[16];
    size_t i = nbytes;
    unsigned carry = 0;

    memcpy(tmp, b, nbytes);
    while (i-- > 0) {
        unsigned v = tmp[i] + (unsigned)(n & 0xff) + carry;

        tmp[i] = (unsigned char)v;
        carry = v >> 8;
        n >>= 8;
    }
    if (carry || n)
        return false;
    memcpy(b, tmp, nbytes);
    return true;
}

static void
hash_host(const ret_anonymizer *a, unsigned char *b, size_t nbytes, int keep)
{
    unsigned char in[18], h[16];
    uint64_t h1, h2;
    size_t i;

    in[0] = nbytes == 4 ? 4 : 6;
    memcpy(in + 1, b, nbytes);
    in[1 + nbytes] = 1;
    h1 = ret__siphash24(a->key, in, nbytes + 2);
    in[1 + nbytes] = 2;
    h2 = ret__siphash24(a->key, in, nbytes + 2);
    for (i = 0; i < 8; i++) {
        h[i] = (unsigned char)(h1 >> (8 * i));
        h[8 + i] = (unsigned char)(h2 >> (8 * i));
    }
    for (i = 0; i < nbytes; i++) {
        int bit = (int)i * 8;
        unsigned char keepmask;

        if (bit >= keep)
            keepmask = 0;
        else if (keep - bit >= 8)
            keepmask = 0xff;
        else
            keepmask = (unsigned char)(0xff00u >> (keep - bit));
        b[i] = (unsigned char)((b[i] & keepmask) | (h[i] & ~keepmask));
    }
}

void
ret__anonymize_ip(const ret_anonymizer *a, ret_ip *ip)
{
    unsigned char *b = ip->bytes;
    size_t nbytes = 16;
    int keep = a->v6bits;

    if (ip->family == 4) {
        nbytes = 4;
        keep = a->v4bits;
    } else if (ret__ip_embedded_v4(ip)) {
        b += 12;
        nbytes = 4;
        keep = a->v4bits;
    }
    switch (a->method) {
    case RET_ANON_ZERO:
        memset(b, 0, nbytes);
        break;
    case RET_ANON_HASH:
        hash_host(a, b, nbytes, keep);
        break;
    default: /* ret_ip_mask, with the part found above */
        ret__ip_mask_bits(b, nbytes, keep);
        break;
    }
    if (a->increment != 0)
        (void)add_to(b, nbytes, a->increment); /* on overflow: unchanged */
}

/* Writes the anonymized form of the address at line[s..s+len). After
 * glued hex digits ("%3D" of URL encoding) the first group is written
 * with four digits, so that the glued digits and the address still read
 * as the same address: masking is then idempotent. Returns the length of
 * the text written, the last bytes of out (unless out of memory). */
static size_t
mask_at(ret_anonymizer *a, size_t s, size_t len, ret_ip ip, bool dotted,
        bool glued, bool ported)
{
    char buf[64], *p = buf + 8;
    size_t n, first;

    if (!(a->skip_private && ret_ip_is_private(&ip))) {
        ret__anonymize_ip(a, &ip);
        a->counts.addresses++;
    }
    /* An IPv6 address read without its unbracketed ":port" is written
     * with all its groups: compressed, the port would read as a group. */
    if (!(glued && ip.family == 6)) {
        /* The usual case: the text is formatted in place in out. */
        if (s > a->copied)
            put(a, a->line + a->copied, s - a->copied);
        n = 0;
        if (reserve(a, 64)) {
            char *o = a->out + a->n;

            n = ported ? ret__ip_format_full(&ip, dotted, o)
                       : ret__ip_format(&ip, dotted, o);
            a->n += n;
        }
        a->copied = s + len;
        a->edits++;
        return n;
    }
    n = ported ? ret__ip_format_full(&ip, dotted, p)
               : ret__ip_format(&ip, dotted, p);
    if (p[0] == ':') {
        p -= 4;
        memcpy(p, "0000", 4);
        n += 4;
    } else {
        for (first = 0; first < n && p[first] != ':'; first++)
            ;
        while (first++ < 4) {
            *--p = '0';
            n++;
        }
    }
    edit(a, s, s + len, p, n);
    return n;
}

/* Masks every address-looking token in line[s..e); returns how many. */
static size_t
scan_region(ret_anonymizer *a, size_t s, size_t e)
{
    size_t pos = s, found = 0;
    ret_ip ip;
    ret__iptok tok;

    while (pos < e && ret__ip_scan(a->line, e, &pos, &ip, &tok)) {
        mask_at(a, tok.off, tok.len, ip, tok.dotted, tok.glued, tok.ported);
        found++;
    }
    return found;
}

/* Does line[s..e) hold an address (without writing anything)? */
static bool
has_address(const ret_anonymizer *a, size_t s, size_t e)
{
    size_t pos = s;
    ret_ip ip;
    ret__iptok tok;

    if (ret__ip_parse_token(a->line + s, e - s, &ip, &tok))
        return true;
    return ret__ip_scan(a->line, e, &pos, &ip, &tok);
}

static bool
is_dash(const char *p, size_t n)
{
    return n == 0 || (n == 1 && p[0] == '-');
}

/* A DNS name of at least two labels: "proxy.example.net". */
static bool
looks_like_name(const char *p, size_t n)
{
    size_t i;
    bool alpha = false;

    if (memchr(p, '.', n) == NULL)
        return false;

    if (n == 0)
        return false;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
            alpha = true;
        else if (!((c >= '0' && c <= '9') || c == '.' || c == '-' ||
                   c == '_'))
            return false;
    }
    return alpha;
}

enum field_kind {
    FIELD_CLIENT,    /* the client field: a host name there is replaced */
    FIELD_FORWARDED, /* an X-Forwarded-For element: names replaced too */
    FIELD_OTHER,     /* scan only */
    FIELD_COLUMN     /* anonip column or group: --replace applies */
};

/*
 * Rewrites the address of one field line[s..e). Returns the number of
 * addresses found; 0 when there was none (then a host name or, in
 * anonip mode, the --replace text may have been written).
 */
static size_t
do_field(ret_anonymizer *a, size_t s, size_t e, enum field_kind kind)
{
    const char *p = a->line + s;
    size_t n = e - s, found, qs = s, qe = e;
    ret_ip ip;
    ret__iptok tok;

    if (ret__ip_parse_token(p, n, &ip, &tok)) {
        mask_at(a, s + tok.off, tok.len, ip, tok.dotted, false, false);
        return 1;
    }
    if ((found = scan_region(a, s, e)) > 0 || kind == FIELD_OTHER)
        return found;
    if (kind == FIELD_COLUMN && a->replace != NULL) {
        edit(a, s, e, a->replace, a->replacelen);
        a->counts.replaced++;
        return 0;
    }
    /* A quoted value keeps its quotes. */
    if (n >= 2 && p[0] == '"' && p[n - 1] == '"') {
        qs++;
        qe--;
    }
    if (is_dash(a->line + qs, qe - qs))
        return 0;
    if (kind == FIELD_CLIENT ? (qe - qs != 7 ||
                                memcmp(a->line + qs, "unknown", 7) != 0)
                             : looks_like_name(a->line + qs, qe - qs)) {
        edit(a, qs, qe, HOSTNAME_TOKEN, sizeof(HOSTNAME_TOKEN) - 1);
        a->counts.hostnames++;
    }
    return 0;
}

/* The line without its final '\n'. */
static size_t
content_len(const char *line, size_t len)
{
    return len > 0 && line[len - 1] == '\n' ? len - 1 : len;
}

/* One walk over the columns: the selected ones are rewritten; with
 * closed, everything between them is scanned too. Returns the number of
 * addresses found in the selected columns. */
static size_t
columns_pass(ret_anonymizer *a, size_t len, bool closed)
{
    size_t end = content_len(a->line, len), cs = 0, ce, region = 0, ci = 0;
    size_t found = 0;
    unsigned col = 0;

    while (ci < a->ncolumns && cs <= end) {
        const char *d = NULL;

        if (a->delimlen == 1)
            d = ret__find_byte(a->line + cs, a->line + end, a->delim[0]);
        else if (a->delimlen <= end - cs)
            d = memmem(a->line + cs, end - cs, a->delim, a->delimlen);
        ce = d ? (size_t)(d - a->line) : end;
        if (col == a->columns[ci]) {
            if (closed)
                scan_region(a, region, cs);
            if (ce > cs)
                found += do_field(a, cs, ce, FIELD_COLUMN);
            region = ce;
            ci++;
        }
        if (d == NULL)
            break;
        cs = ce + a->delimlen;
        col++;
    }
    if (closed)
        scan_region(a, region, len);
    return found;
}

static void
line_columns(ret_anonymizer *a, size_t len)
{
    ret_anon_counts saved = a->counts;

    /* Mostly a selected column holds the address: one pass. When none
     * does, start again and mask every address-looking token. */
    if (columns_pass(a, len, false) > 0)
        return;
    a->counts = saved;
    a->n = a->base;
    a->copied = 0;
    a->edits = 0;
    columns_pass(a, len, true);
    a->counts.failclosed++;
}

static void
line_regex(ret_anonymizer *a, size_t len)
{
    size_t end = content_len(a->line, len), region = 0, pass;
    PCRE2_SIZE *ov;
    int rc, g;
    bool matched = false;

    /* anonip matches the line without its trailing blanks. */
    while (end > 0 && (a->line[end - 1] == ' ' || a->line[end - 1] == '\t' ||
                       a->line[end - 1] == '\r' || a->line[end - 1] == '\f' ||
                       a->line[end - 1] == '\v'))
        end--;
    rc = pcre2_match(a->re, (PCRE2_SPTR)a->line, end, 0, PCRE2_ANCHORED,
                     a->md, NULL);
    if (rc <= 0) {
        scan_region(a, 0, len);
        a->counts.failclosed++;
        return;
    }
    ov = pcre2_get_ovector_pointer(a->md);
    for (pass = 0; pass < 2; pass++) {
        size_t last = 0;

        region = 0;
        for (g = 1; g < rc; g++) {
            size_t s = ov[2 * g], e = ov[2 * g + 1];

            if (s == PCRE2_UNSET || e <= s || s < last)
                continue; /* unset, empty, or inside an earlier group */
            if (pass == 0) {
                if (has_address(a, s, e)) {
                    matched = true;
                    break;
                }
                continue;
            }
            if (!matched)
                scan_region(a, region, s);
            do_field(a, s, e, FIELD_COLUMN);
            region = last = e;
        }
    }
    if (!matched) {
        scan_region(a, region, len);
        a->counts.failclosed++;
    }
}

/* Are the record's spans usable: inside the line, in order, and one of
 * them a client or forwarded span? A record without one (a format
 * without %h) tells nothing about where the addresses are: the line is
 * scanned. One walk over the spans, inline: it is asked at every line. */
static inline bool
spans_valid(const ret_record *rec, size_t len)
{
    size_t i, last = 0;
    bool client = false;

    if (rec->addr_overflow || rec->naddr > RET__MAX_ADDRS)
        return false;
    for (i = 0; i < rec->naddr; i++) {
        size_t off = rec->addr[i].off, n = rec->addr[i].len;

        if (off < last || off > len || n > len - off)
            return false;
        last = off + n;
        client |= rec->addr[i].kind == RET_ADDR_CLIENT ||
                  rec->addr[i].kind == RET_ADDR_FORWARDED;
    }
    return client;
}

#define MAX_REPEATS 32

/* Is line[off..off+n) a whole address token, not part of a longer one? */
static bool
whole_token(const char *line, size_t len, size_t off, size_t n)
{
    unsigned char before = off > 0 ? (unsigned char)line[off - 1] : ' ';
    unsigned char after = off + n < len ? (unsigned char)line[off + n] : ' ';
    unsigned char after2 =
        off + n + 1 < len ? (unsigned char)line[off + n + 1] : ' ';

    if ((before >= '0' && before <= '9') || before == ':' ||
        (before == '.' && off > 1 && line[off - 2] >= '0' &&
         line[off - 2] <= '9'))
        return false;
    if ((after >= '0' && after <= '9') || after == ':' ||
        (after == '.' && after2 >= '0' && after2 <= '9'))
        return false;
    /* hex digits glued to an IPv6 text make another group */
    if (memchr(line + off, ':', n) != NULL &&
        ((after >= 'a' && after <= 'f') || (after >= 'A' && after <= 'F') ||
         (before >= 'a' && before <= 'f') || (before >= 'A' && before <= 'F')))
        return false;
    return true;
}

/* Does line[off..off+n) overlap one of the naddr spans? */
static bool
inside_span(const ret__addr *addr, size_t naddr, size_t off, size_t n)
{
    size_t i;

    for (i = 0; i < naddr; i++)
        if (off < (size_t)addr[i].off + addr[i].len && off + n > addr[i].off)
            return true;
    return false;
}

/* The first place of needle (m >= 1 bytes) in hay[0..n), or NULL. With
 * SSE2, sixteen positions at a time whose first and last bytes both
 * match the needle's (the two least correlated bytes of an address
 * text); then eight positions at a time for their first two bytes
 * (SWAR); then byte by byte. Cheaper than memmem's set-up on short
 * lines. */
/* memcmp(a, b, n) == 0 for the few bytes of an address text, inline:
 * a library call in find_text's loop would make the compiler keep its
 * vector constants in memory across the call. */
static inline bool
same_bytes(const char *a, const char *b, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

/* The first of the candidate places base + (each bit of z) that holds
 * the whole needle, or NULL: the places' first and last bytes match. */
static inline const char *
first_hit(const char *hay, size_t base, uint64_t z, const char *needle,
          size_t m)
{
    while (z != 0) {
        size_t k = base + (size_t)__builtin_ctzll(z);

        z &= z - 1;
        if (same_bytes(hay + k + 1, needle + 1, m - 2))
            return hay + k;
    }
    return NULL;
}

#ifdef __SSE2__
/* Bit k: p[k] is the needle's first byte (in f) and p[k + m - 1] its
 * last (in l), for the sixteen places k at p. */
static inline unsigned
ends16(const char *p, size_t m, __m128i f, __m128i l)
{
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i y = _mm_loadu_si128((const __m128i *)(const void *)(p + m - 1));

    return (unsigned)_mm_movemask_epi8(
        _mm_and_si128(_mm_cmpeq_epi8(x, f), _mm_cmpeq_epi8(y, l)));
}
#endif

static const char *
find_text(const char *hay, size_t n, const char *needle, size_t m)
{
    const uint64_t ones = UINT64_C(0x0101010101010101);
    const uint64_t highs = UINT64_C(0x8080808080808080);
    size_t i = 0, k;

    if (m == 0 || n < m)
        return NULL;
#ifdef __SSE2__
    if (m >= 2) {
        const __m128i f = _mm_set1_epi8(needle[0]);
        const __m128i l = _mm_set1_epi8(needle[m - 1]);

        for (; i + m - 1 + 16 <= n; i += 16) {
            const char *hit =
                first_hit(hay, i, ends16(hay + i, m, f, l), needle, m);

            if (hit != NULL)
                return hit;
        }
        /* The last (at most 15) positions: one window that ends at the
         * last one, overlapping the loop's, its earlier positions
         * masked off. */
        if (i > 0 && i + m <= n) {
            size_t j = n - m - 15;

            return first_hit(hay, j,
                             ends16(hay + j, m, f, l) & (0xffffu << (i - j)),
                             needle, m);
        }
        if (i > 0)
            return NULL; /* no position left */
    }
#endif
    if (m >= 3) {
        uint64_t b0 = ones * (unsigned char)needle[0];
        uint64_t b1 = ones * (unsigned char)needle[1];

        for (; i + 9 <= n; i += 8) {
            uint64_t x, y, z;

            memcpy(&x, hay + i, 8);
            memcpy(&y, hay + i + 1, 8);
            z = (x ^ b0) | (y ^ b1); /* a zero byte: two bytes match */
            /* exactly the zero bytes, as their high bits */
            z = ~(((z & ~highs) + ~highs) | z | ~highs);
            while (z != 0) {
                /* bytes in memory order: the low byte first (little
                 * endian) or the high byte first (big endian) */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
                k = i + (size_t)(__builtin_clzll(z) / 8);
                z &= ~(UINT64_C(0x80) << (56 - 8 * (k - i)));
#else
                k = i + (size_t)(__builtin_ctzll(z) / 8);
                z &= z - 1;
#endif
                if (k + m <= n && hay[k + 2] == needle[2] &&
                    memcmp(hay + k + 3, needle + 3, m - 3) == 0)
                    return hay + k;
            }
        }
    }
    for (; i + m <= n; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, m) == 0)
            return hay + i;
    return NULL;
}

#ifdef RET_FIND_WIDE
/* ends16 for the 32 places at p (AVX2). */
__attribute__((target("avx2"))) static inline unsigned
ends32(const char *p, size_t m, __m256i f, __m256i l)
{
    __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)p);
    __m256i y =
        _mm256_loadu_si256((const __m256i *)(const void *)(p + m - 1));

    return (unsigned)_mm256_movemask_epi8(
        _mm256_and_si256(_mm256_cmpeq_epi8(x, f), _mm256_cmpeq_epi8(y, l)));
}

/* find_text, 64 then 32 positions at a time (AVX2), for m >= 2: a
 * short hay by find_text itself. */
__attribute__((target("avx2"))) static const char *
find_text_wide(const char *hay, size_t n, const char *needle, size_t m)
{
    const __m256i f = _mm256_set1_epi8(needle[0]);
    const __m256i l = _mm256_set1_epi8(needle[m - 1]);
    const char *hit;
    size_t i = 0, j;

    if (n < m - 1 + 32)
        return find_text(hay, n, needle, m);
    /* a line is mostly 150 to 300 bytes: half the loop's turns */
    for (; i + m - 1 + 64 <= n; i += 64) {
        uint64_t z = ends32(hay + i, m, f, l) |
                     (uint64_t)ends32(hay + i + 32, m, f, l) << 32;

        if ((hit = first_hit(hay, i, z, needle, m)) != NULL)
            return hit;
    }
    if (i + m - 1 + 32 <= n) {
        if ((hit = first_hit(hay, i, ends32(hay + i, m, f, l), needle, m)) !=
            NULL)
            return hit;
        i += 32;
    }
    if (i + m > n)
        return NULL; /* no position left */
    /* The last (at most 31) positions: one window that ends at the last
     * one, overlapping the loop's, its earlier positions masked off. */
    j = n - m - 31;
    return first_hit(hay, j, ends32(hay + j, m, f, l) & (~0u << (i - j)),
                     needle, m);
}
#else
/* No AVX2 variant here: a->wide is never set. */
#define find_text_wide find_text
#endif

static int
cmp_off(const void *x, const void *y)
{
    size_t a = *(const size_t *)x, b = *(const size_t *)y;

    return a < b ? -1 : a > b;
}

/*
 * The client's own address written again elsewhere in the line (a
 * cookie "WEBTRENDS_ID=192.0.2.7-...", a query string, a proxy field the
 * format does not know) is the same personal data: every repetition of a
 * client or forwarded address is found (memmem of its text) and masked
 * too. Fills rep[] with {offset, length} pairs; returns their number.
 */
struct span_parse {
    bool ok;     /* the span is a whole address token */
    ret_ip ip;
    ret__iptok tok;
    /* the memo: the slot that holds the span's masked text (hit), or
     * the slot that takes it once written (slot; NULL when none does) */
    bool hit;
    struct memo *slot;
};

/* A hash of the n bytes at t, 0 .. MEMO_SLOTS - 1: of its first
 * sixteen bytes and its last eight (overlapping: the whole text up to
 * 24 bytes, any IPv6 address of lower-case groups a /64 or a longer one
 * apart; longer texts that differ only in between share a slot, which
 * same_text tells apart), or of each byte of a text shorter than 8. */
static inline size_t
memo_hash(const char *t, size_t n)
{
    const uint64_t k = UINT64_C(0x9e3779b97f4a7c15);
    uint64_t h, w, v;
    size_t i;

    if (n >= 8) {
        memcpy(&w, t, 8);
        h = w * k;
        if (n > 16) {
            memcpy(&v, t + 8, 8);
            h = (h ^ v) * k;
        }
        memcpy(&v, t + n - 8, 8);
        h = (h ^ v ^ n) * k;
    } else {
        h = n * k;
        for (i = 0; i < n; i++)
            h = (h ^ (unsigned char)t[i]) * k;
    }
    return (size_t)(h >> (64 - MEMO_BITS));
}

/* memcmp(x, y, n) == 0 for a field's text (n <= MEMO_TEXT), inline:
 * eight bytes at a time, the last eight overlapping. */
static inline bool
same_text(const char *x, const char *y, size_t n)
{
    uint64_t u, v;
    size_t i;

    if (n < 8)
        return same_bytes(x, y, n);
    for (i = 0; i + 8 < n; i += 8) {
        memcpy(&u, x + i, 8);
        memcpy(&v, y + i, 8);
        if (u != v)
            return false;
    }
    memcpy(&u, x + n - 8, 8);
    memcpy(&v, y + n - 8, 8);
    return u == v;
}

/* Does slot m hold the field t[0..n)? */
static inline bool
memo_holds(const struct memo *m, const char *t, size_t n)
{
    return m->n == n && same_text(m->text, t, n);
}

/* The span [s, s + n) of a->line in the memo: sp filled from it (true),
 * or sp->slot set to where its result goes (false). */
static bool
memo_find(ret_anonymizer *a, size_t s, size_t n, struct span_parse *sp)
{
    const char *t = a->line + s;
    struct memo *m;

    sp->hit = false;
    sp->slot = NULL;
    if (n == 0 || n > MEMO_TEXT)
        return false;
    if (a->memo == NULL) {
        if (a->memo_off ||
            (a->memo = calloc(MEMO_SLOTS, sizeof(*a->memo))) == NULL) {
            a->memo_off = true;
            return false;
        }
    }
    m = &a->memo[memo_hash(t, n)];
    if (!memo_holds(m, t, n)) {
        sp->slot = m;
        return false;
    }
    sp->hit = sp->ok = true;
    sp->slot = m;
    sp->tok = m->tok;
    return true;
}

/* The span [s, s + n) parsed into sp: from the memo, or by
 * ret__ip_parse_token. False when it is no address token. */
static bool
parse_span(ret_anonymizer *a, size_t s, size_t n, struct span_parse *sp)
{
    if (memo_find(a, s, n, sp))
        return true;
    sp->ok = ret__ip_parse_token(a->line + s, n, &sp->ip, &sp->tok);
    return sp->ok;
}

/* find_text, or find_text_wide where the CPU has AVX2 (m >= 2). */
static inline const char *
find_in(const ret_anonymizer *a, const char *hay, size_t n, const char *needle,
        size_t m)
{
    return a->wide ? find_text_wide(hay, n, needle, m)
                   : find_text(hay, n, needle, m);
}

/*
 * The repetitions of span i's address (at tok in it, tok->len >= 2)
 * elsewhere in the line, outside the naddr spans, appended to rep[] from
 * n, in the order of the line. Returns the new count; *full when one
 * more was found than rep[] holds.
 */
static size_t
repeats_of(const ret_anonymizer *a, const ret__addr *addr, size_t naddr,
           size_t i, const ret__iptok *tok, size_t len, size_t rep[][2],
           size_t n, bool *full)
{
    const char *line = a->line, *hit;
    const char *needle = line + addr[i].off + tok->off;
    size_t from = addr[i].off == 0 ? addr[i].len : 0; /* the usual place:
                                                          skip the field */
    size_t m = tok->len;

    while (from + m <= len &&
           (hit = find_in(a, line + from, len - from, needle, m)) != NULL) {
        size_t off = (size_t)(hit - line);

        from = off + 1;
        if (inside_span(addr, naddr, off, m) || !whole_token(line, len, off, m))
            continue;
        if (n == MAX_REPEATS) {
            *full = true;
            return n;
        }
        rep[n][0] = off;
        rep[n][1] = m;
        n++;
    }
    return n;
}

/* The repetitions of every client and forwarded span's address, in the
 * order of the line (line_record masks them in one pass). *full: there
 * are more than rep[] holds. *parsed: bit i set when span i was parsed
 * (into sp[i]) as an address token. */
static size_t
find_repeats(ret_anonymizer *a, const ret_record *rec, size_t len,
             size_t rep[][2], struct span_parse *sp, bool *full,
             unsigned *parsed)
{
    size_t i, n = 0;

    *full = false;
    *parsed = 0;
    for (i = 0; i < rec->naddr && !*full; i++) {
        if (rec->addr[i].kind != RET_ADDR_CLIENT &&
            rec->addr[i].kind != RET_ADDR_FORWARDED)
            continue;
        if (!parse_span(a, rec->addr[i].off, rec->addr[i].len, &sp[i]))
            continue;
        if (sp[i].hit) {
            size_t j;

            /* mask_span writes the slot of an earlier span before it
             * reads this one's: that earlier span leaves it alone */
            for (j = 0; j < i; j++)
                if ((*parsed >> j & 1) && !sp[j].hit &&
                    sp[j].slot == sp[i].slot)
                    sp[j].slot = NULL;
        }
        *parsed |= 1u << i;
        if (sp[i].tok.len < 2)
            continue;
        n = repeats_of(a, rec->addr, rec->naddr, i, &sp[i].tok, len, rep, n,
                       full);
    }
    if (n > 1)
        qsort(rep, n, sizeof(rep[0]), cmp_off);
    return n;
}

/* n bytes from src to dst, inline (a field's or an address's few
 * bytes): eight at a time, the last eight overlapping; no byte past
 * src + n is read. */
static inline void
copy_text(char *dst, const char *src, size_t n)
{
    size_t i;

    if (n >= 8) {
        for (i = 0; i + 8 < n; i += 8)
            memcpy(dst + i, src + i, 8);
        memcpy(dst + n - 8, src + n - 8, 8);
    } else if (n >= 4) {
        memcpy(dst, src, 4);
        memcpy(dst + n - 4, src + n - 4, 4);
    } else {
        for (i = 0; i < n; i++)
            dst[i] = src[i];
    }
}

/*
 * The masked text of the IPv4 address ip written at t (n bytes) into o
 * (MEMO_OUT bytes), without ret__anonymize_ip and ret__ip_format, in the
 * usual settings: truncation to whole bytes, no increment. The text
 * must be the canonical one (no leading zeros: its length is that of
 * its four values written), which ret__ip_format would write: then the
 * result is its first parts and "0" for the others (what follows them
 * in o overwritten too: o keeps no more of the address than its result).
 * Returns the length; 0 when it does not apply (ip is an IPv4 address).
 * *masked: counted as masked, not a private one spared.
 */
static inline __attribute__((always_inline)) size_t
quad_masked(const ret_anonymizer *a, const ret_ip *ip, const char *t,
            size_t n, char *o, bool *masked)
{
    const unsigned char *b = ip->bytes;
    const uint32_t low7 = UINT32_C(0x7f7f7f7f);
    uint32_t v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                 (uint32_t)b[3] << 24;
    /* in each byte of c, the digits of that value besides the first:
     * one for a value from 10, one more from 100 (adding 118 or 28 to
     * the low seven bits carries into the high one, or it is set) */
    uint32_t c = (((v & low7) + UINT32_C(0x76767676)) | v) >> 7 & 0x01010101u;
    size_t cut;
    int keep;

    c += (((v & low7) + UINT32_C(0x1c1c1c1c)) | v) >> 7 & 0x01010101u;
    if (a->method != RET_ANON_TRUNCATE || a->increment != 0 ||
        (a->v4bits & 7) != 0 || 7 + ((c * 0x01010101u) >> 24) != n)
        return 0;
    copy_text(o, t, n);
    *masked = !(a->skip_private && ret_ip_is_private(ip));
    keep = *masked ? a->v4bits / 8 : 4;
    if (keep >= 4)
        return n;
    /* where the first part not kept starts: the kept ones' first digits
     * and dots, and their other digits */
    cut = 2 * (size_t)keep +
          (((c & ((UINT32_C(1) << (8 * keep)) - 1)) * 0x01010101u) >> 24);
    memcpy(o + cut, "0.0.0.0\0\0\0\0\0\0\0\0", 16); /* cut + 16 > n */
    return cut + 2 * (size_t)(4 - keep) - 1;
}

/*
 * The masked text of the IPv6 address ip into o (MEMO_OUT bytes),
 * without ret__anonymize_ip and ret__ip_format, in the usual settings:
 * truncation to whole groups (g of them, 1 to 7), no increment, not
 * written with a dotted tail. When none of the kept groups is zero, the
 * longest run of zero groups is the masked tail: RFC 5952 writes the
 * kept groups in lower case without leading zeros, then "::" (":0" for
 * a single zero group, which is not compressed). A kept zero group, an
 * address with an IPv4 one inside (masked with the IPv4 prefix: its
 * first group is zero, or it is NAT64's 64:ff9b::/96) and a private one
 * spared take the general way. Returns the length; 0 when it does not
 * apply. *masked as quad_masked's.
 */
static size_t
v6_masked(const ret_anonymizer *a, const ret_ip *ip, bool dotted, char *o,
          bool *masked)
{
    const unsigned char *b = ip->bytes;
    int g = a->v6bits / 16, i;

    if (a->method != RET_ANON_TRUNCATE || a->increment != 0 || dotted ||
        (a->v6bits & 15) != 0 || g < 1 || g > 7)
        return 0;
    for (i = 0; i < g; i++)
        if ((b[2 * i] | b[2 * i + 1]) == 0)
            return 0;
    if ((b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) ||
        (a->skip_private && ret_ip_is_private(ip)))
        return 0;
    *masked = true;
    return ret__ip_format_v6_head(b, g, o); /* o has room: 37 + 3 bytes */
}

/* Keeps in slot m the field text[0..n) (n <= MEMO_TEXT), where its
 * address is and whether it was counted as masked; its masked text
 * (outn bytes) is in m->out, or goes there next. */
static inline void
memo_keep(struct memo *m, const char *text, size_t n, const ret__iptok *tok,
          bool masked, size_t outn)
{
    m->n = (unsigned char)n;
    copy_text(m->text, text, n);
    m->tok = *tok;
    m->masked = masked;
    m->outn = (unsigned char)outn;
}

/* The field text[0..n), its address ip at tok, masked the quick way
 * (quad_masked, v6_masked) into slot m and kept there. False when
 * neither applies (m unchanged). */
static inline __attribute__((always_inline)) bool
memo_fill(const ret_anonymizer *a, struct memo *m, const char *text, size_t n,
          const ret_ip *ip, const ret__iptok *tok)
{
    size_t w;
    bool masked;

    w = ip->family == 4
            ? quad_masked(a, ip, text + tok->off, tok->len, m->out, &masked)
            : v6_masked(a, ip, tok->dotted, m->out, &masked);
    if (w == 0)
        return false;
    memo_keep(m, text, n, tok, masked, w);
    return true;
}

/* The address of the span [s, s + n), parsed into sp, masked: the text
 * of the memo; else quad_masked's or mask_at's, then kept in the memo. */
static void
mask_span(ret_anonymizer *a, size_t s, size_t n, const struct span_parse *sp)
{
    size_t at = s + sp->tok.off, w;
    uint64_t before = a->counts.addresses;
    struct memo *m = sp->slot;

    if (!sp->hit) {
        /* filled the quick way, the slot is then written as a hit;
         * else mask_at writes the address, and its text is kept */
        if (m == NULL ||
            !memo_fill(a, m, a->line + s, n, &sp->ip, &sp->tok)) {
            w = mask_at(a, at, sp->tok.len, sp->ip, sp->tok.dotted, false,
                        false);
            if (m == NULL || a->oom || w == 0 || w > sizeof(m->out))
                return;
            memo_keep(m, a->line + s, n, &sp->tok,
                      a->counts.addresses != before, w);
            copy_text(m->out, a->out + a->n - w, w);
            return;
        }
    }
    /* edit(), with a copy of a constant size */
    if (m->masked)
        a->counts.addresses++;
    if (at > a->copied)
        put(a, a->line + a->copied, at - a->copied);
    if (reserve(a, sizeof(m->out))) {
        memcpy(a->out + a->n, m->out, sizeof(m->out));
        a->n += m->outn;
    }
    a->copied = at + sp->tok.len;
    a->edits++;
}

/* Masks the repetitions rep[r..nrep) that start before s, not inside
 * what was masked last (before *last). Returns the next r. */
static size_t
mask_repeats(ret_anonymizer *a, size_t rep[][2], size_t r, size_t nrep,
             size_t s, size_t *last)
{
    for (; r < nrep && rep[r][0] < s; r++) {
        ret_ip ip;
        bool dotted;

        if (rep[r][0] < *last ||
            !ret__ip_parse_exact(a->line + rep[r][0], rep[r][1], &ip,
                                 &dotted))
            continue;
        mask_at(a, rep[r][0], rep[r][1], ip, dotted, false, false);
        *last = rep[r][0] + rep[r][1];
    }
    return r;
}

static enum field_kind
kind_of(ret_addr_kind k)
{
    return k == RET_ADDR_CLIENT      ? FIELD_CLIENT
           : k == RET_ADDR_FORWARDED ? FIELD_FORWARDED
                                     : FIELD_OTHER;
}

static void
line_record(ret_anonymizer *a, const ret_record *rec, size_t len)
{
    size_t rep[MAX_REPEATS][2], nrep = 0, r = 0, i, cursor = 0, last = 0;
    size_t naddr = rec->naddr;
    struct span_parse sp[RET__MAX_ADDRS];
    bool scan = a->scan_all;
    unsigned parsed = 0; /* the spans parsed into sp[] (find_repeats) */

    if (!scan) {
        bool full;

        nrep = find_repeats(a, rec, len, rep, sp, &full, &parsed);
        if (full) {
            /* more repetitions than rep[] holds: every address of the
             * line is masked, as with scan_all */
            nrep = 0;
            scan = true;
        }
    }
    for (i = 0; i <= naddr; i++) {
        size_t s = i < naddr ? rec->addr[i].off : len;
        size_t e = i < naddr ? s + rec->addr[i].len : len;

        /* repetitions of a client address before this span */
        r = mask_repeats(a, rep, r, nrep, s, &last);
        if (i == naddr)
            break;
        if (scan)
            scan_region(a, cursor, s);
        /* Other address fields (server, upstream, realip_remote_addr,
         * Traefik's ClientAddr, addresses in fields the format does not
         * read) are masked too: behind a proxy they may hold a client's
         * address, and a masked server address costs nothing. */
        if (parsed >> i & 1) /* what do_field would parse */
            mask_span(a, s, e - s, &sp[i]);
        else
            do_field(a, s, e, kind_of(rec->addr[i].kind));
        cursor = last = e;
    }
    if (scan)
        scan_region(a, cursor, len);
}

/*
 * line_record's way for the usual line, in one go: one span, the
 * client's field at the line's start, whose address is in the memo or
 * masked the quick way (quad_masked, v6_masked) and is not written
 * again in the line. False, with nothing written, for any other line,
 * which line_record then reads (the memo slot filled meanwhile is the
 * one it would fill).
 */
static inline __attribute__((always_inline)) bool
line_quick(ret_anonymizer *a, const ret_record *rec, size_t len)
{
    const char *line = a->line;
    size_t n = rec->addr[0].len, end;
    const ret__iptok *tok;
    struct memo *m;
    char *o;

    if (rec->naddr != 1 || rec->addr_overflow || rec->addr[0].off != 0 ||
        rec->addr[0].kind != RET_ADDR_CLIENT || a->scan_all ||
        a->memo == NULL || n == 0 || n > MEMO_TEXT || n > len)
        return false;
    m = &a->memo[memo_hash(line, n)];
    if (!memo_holds(m, line, n)) {
        ret__iptok t;
        ret_ip ip;

        if (!ret__ip_parse_token(line, n, &ip, &t) ||
            !memo_fill(a, m, line, n, &ip, &t))
            return false;
    }
    tok = &m->tok;
    /* repeats_of's search, from the field's end: a repetition is
     * line_record's to mask */
    if (tok->len >= 2 && n + tok->len <= len &&
        find_in(a, line + n, len - n, line + tok->off, tok->len) != NULL)
        return false;
    a->edits++;
    if (!reserve(a, len + MEMO_OUT))
        return true; /* out of memory: rewrite tells */
    /* what mask_span and rewrite write: the bytes before the address
     * (a bracket), its masked text, the rest of the line */
    o = a->out + a->n;
    if (tok->off > 0)
        memcpy(o, line, tok->off);
    memcpy(o + tok->off, m->out, MEMO_OUT);
    end = tok->off + tok->len;
    memcpy(o + tok->off + m->outn, line + end, len - end);
    a->n += tok->off + m->outn + (len - end);
    a->copied = len;
    if (m->masked)
        a->counts.addresses++;
    return true;
}

/* Rewrites one line into a->out from a->base; false when out of memory.
 * *same: nothing changed, the line itself is the result. */
static inline __attribute__((always_inline)) bool
rewrite(ret_anonymizer *a, const ret_record *rec, const char *line,
        size_t len, bool *same)
{
    a->line = line;
    a->copied = 0;
    a->edits = 0;
    a->n = a->base;
    a->oom = false;
    a->counts.lines++;
    if (a->re != NULL) {
        line_regex(a, len);
    } else if (a->ncolumns > 0) {
        line_columns(a, len);
    } else if (rec != NULL && line_quick(a, rec, len)) {
        /* written whole */
    } else if (rec != NULL && spans_valid(rec, len)) {
        line_record(a, rec, len);
    } else {
        scan_region(a, 0, len);
        a->counts.failclosed++;
    }
    *same = a->edits == 0;
    if (*same)
        return true;
    if (a->copied < len)
        put(a, line + a->copied, len - a->copied);
    if (a->oom) {
        a->n = a->base;
        return false;
    }
    return true;
}

ret_status
ret_anonymizer_line(ret_anonymizer *a, const ret_record *rec,
                    const char *line, size_t len, const char **out,
                    size_t *outlen, ret_error *err)
{
    bool same;

    if (a == NULL || (line == NULL && len > 0) || out == NULL ||
        outlen == NULL)
        return ret__fail(err, RET_E_INVAL, "ret_anonymizer_line: NULL");
    a->base = 0;
    if (!rewrite(a, rec, line, len, &same))
        return ret__fail(err, RET_E_NOMEM, "out of memory for a line of %zu "
                                           "bytes", len);
    *out = same ? line : a->out;
    *outlen = same ? len : a->n;
    return RET_OK;
}

/*
 * The anonymize stream's blocks: ret__anonymizer_attach makes the
 * caller's buffer (n bytes used of cap) the one results are written to;
 * each ret__anonymizer_line_out appends one line's result to it (the
 * line itself when nothing changed), growing it as needed; and
 * ret__anonymizer_detach gives it back. One copy and no setting-up a
 * line: the handle's own buffer is set aside meanwhile.
 */
void
ret__anonymizer_attach(ret_anonymizer *a, char *buf, size_t n, size_t cap)
{
    a->own = a->out;
    a->owncap = a->cap;
    a->attached = true;
    a->out = buf;
    a->n = n;
    a->cap = cap;
}

ret_status
ret__anonymizer_line_out(ret_anonymizer *a, const ret_record *rec,
                         const char *line, size_t len, ret_error *err)
{
    bool same, ok;

    a->base = a->n;
    ok = rewrite(a, rec, line, len, &same);
    if (ok && same)
        put(a, line, len); /* nothing changed: the line itself */
    if (!ok || a->oom) {
        a->n = a->base;
        return ret__fail(err, RET_E_NOMEM, "out of memory for a line of %zu "
                                           "bytes", len);
    }
    return RET_OK;
}

void
ret__anonymizer_detach(ret_anonymizer *a, char **buf, size_t *n, size_t *cap)
{
    *buf = a->out;
    *n = a->n;
    *cap = a->cap;
    a->out = a->own;
    a->cap = a->owncap;
    a->n = a->base = 0;
    a->attached = false;
}
