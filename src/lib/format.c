/*
 * format.c - log formats compiled into field scanners, the record parser
 * and the record accessors.
 *
 * An Apache LogFormat or nginx log_format string is compiled once into a
 * list of literals and fields. Parsing a line walks that list: a field
 * ends where the next literal starts (memchr), a quoted field at its
 * closing quote (backslash escapes skipped). Values are slices of the
 * line: nothing is copied or allocated per line. The combined preset,
 * most logs' format, is walked by the same steps with its list as
 * constants (scan_combined), which the compiler turns into its own code.
 */
#include "format-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) && defined(__SSE2__) &&                                \
    (defined(__GNUC__) || defined(__clang__))
/* the quotes of a combined line have an AVX2 search, chosen at run time
 * (ps->wide) */
#define RET_SCAN_WIDE 1
#include <immintrin.h>
#endif

/* ---- presets ------------------------------------------------------ */

static const struct preset {
    const char *name;
    const char *def;
} presets[] = {
    {"auto", "detected per input from its first lines"},
    {"common", "%h %l %u %t \"%r\" %>s %b"},
    {"combined", "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" "
                 "\"%{User-Agent}i\""},
    {"vhost_combined", "%v:%p %h %l %u %t \"%r\" %>s %O \"%{Referer}i\" "
                       "\"%{User-Agent}i\""},
    {"nginx", "nginx:$remote_addr - $remote_user [$time_local] \"$request\" "
              "$status $body_bytes_sent \"$http_referer\" "
              "\"$http_user_agent\""},
    {"nginx_main",
     "nginx:$remote_addr - $remote_user [$time_local] \"$request\" "
     "$status $body_bytes_sent \"$http_referer\" \"$http_user_agent\" "
     "\"$http_x_forwarded_for\""},
    {"vhost_combined_noport", "%v %h %l %u %t \"%r\" %>s %b \"%{Referer}i\" "
                              "\"%{User-Agent}i\""},
    {"json", "one JSON object a line: nginx, Caddy, Traefik, Cloudflare "
             "key names"},
    {"w3c", "W3C extended logs as IIS writes them, driven by #Fields: "
            "headers"},
    {"haproxy", "the HAProxy HTTP log: syslog prefix, client:port [date] "
                "... \"request\""},
    {"vhost_common", "%v %h %l %u %t \"%r\" %>s %b"},
    {"elb", "AWS Classic Load Balancer: time elb client:port backend:port "
            "... \"request\" \"user_agent\" ssl_cipher ssl_protocol"},
    {"alb", "AWS Application Load Balancer: type time elb client:port "
            "target:port ... \"request\" \"user_agent\" ..."},
    {"s3", "%{bucket_owner}n %v %t %h %u %{request_id}n %{operation}n "
           "%{key}n \"%r\" %>s %{error_code}n %b %{object_size}n %{ms}T "
           "%{turnaround_time}n \"%{Referer}i\" \"%{User-Agent}i\""},
};
#define NPRESETS (sizeof(presets) / sizeof(presets[0]))

/* Candidates of "auto", most specific first (ties go to the first). */
static const char *const auto_order[] = {
    "w3c",      "json",  "haproxy", "vhost_combined", "nginx_main",
    "combined", "vhost_combined_noport", "nginx", "common",
    /* added later: after the others, so that no log they read changes */
    "vhost_common", "s3", "elb", "alb",
};
#define NAUTO (sizeof(auto_order) / sizeof(auto_order[0]))
_Static_assert(NAUTO <= RET__AUTO_MAX, "RET__AUTO_MAX: too few candidates");
/* Lines looked at before the choice is final. A line parsed whole
 * scores 2, one with more than the format 1: combined beats common on a
 * combined log even when common reads more of its lines. */
#define AUTO_LINES 20

const char *
ret_format_preset(size_t i, const char **definition)
{
    if (i >= NPRESETS)
        return NULL;
    if (definition)
        *definition = presets[i].def;
    return presets[i].name;
}

/* ---- the compiler -------------------------------------------------- */

struct builder {
    ret_format *f;
    size_t cap;
    size_t buflen;
    size_t bufcap;
};

static ret_status
add_item(struct builder *b, const struct ret__item *it, ret_error *err)
{
    if (b->f->nitems == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 16;
        struct ret__item *n = realloc(b->f->items, nc * sizeof(*n));

        if (n == NULL)
            return ret__fail(err, RET_E_NOMEM, "out of memory");
        b->f->items = n;
        b->cap = nc;
    }
    b->f->items[b->f->nitems++] = *it;
    return RET_OK;
}

/* Literal bytes are stored in f->buf, sized for the whole spec up front,
 * so that item pointers stay valid. */
static const char *
store_bytes(struct builder *b, const char *s, size_t n)
{
    char *p = b->f->buf + b->buflen;

    memcpy(p, s, n);
    b->buflen += n;
    b->f->buf[b->buflen++] = '\0';
    return p;
}

static ret_status
add_lit(struct builder *b, const char *s, size_t n, ret_error *err)
{
    struct ret__item it = {0};
    ret_format *f = b->f;

    if (n == 0)
        return RET_OK;
    if (f->nitems > 0 && f->items[f->nitems - 1].lit) {
        /* merge: the previous literal is last in buf */
        struct ret__item *prev = &f->items[f->nitems - 1];

        b->buflen--; /* over its NUL */
        memcpy(f->buf + b->buflen, s, n);
        b->buflen += n;
        f->buf[b->buflen++] = '\0';
        prev->n += n;
        return RET_OK;
    }
    it.lit = true;
    it.s = store_bytes(b, s, n);
    it.n = n;
    return add_item(b, &it, err);
}

static ret_status
add_field(struct builder *b, enum ret__fk kind, int scale, const char *arg,
          size_t argn, size_t column, ret_error *err)
{
    struct ret__item it = {0};
    ret_format *f = b->f;

    if (f->nitems > 0 && !f->items[f->nitems - 1].lit)
        return ret__fail(err, RET_E_FORMAT,
                         "format: column %zu: two fields without a "
                         "separator between them",
                         column);
    it.kind = kind;
    it.scale = scale;
    if (arg) {
        it.s = store_bytes(b, arg, argn);
        it.n = argn;
    }
    if (kind == FK_TIME_STRF)
        f->has_strf = true;
    return add_item(b, &it, err);
}

static bool
name_eq(const char *a, size_t n, const char *b)
{
    size_t i;

    for (i = 0; i < n; i++) {
        char c = a[i], d = b[i];

        if (d == '\0')
            return false;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c == '-')
            c = '_';
        if (c != d)
            return false;
    }
    return b[n] == '\0';
}

enum ret__fk
ret__header_kind(const char *name, size_t n)
{
    static const struct {
        const char *name;
        enum ret__fk kind;
    } h[] = {
        {"referer", FK_REFERER},     {"referrer", FK_REFERER},
        {"user_agent", FK_UA},       {"x_forwarded_for", FK_XFF},
        {"x_real_ip", FK_XFF},       {"x_client_ip", FK_XFF},
        {"true_client_ip", FK_XFF},  {"cf_connecting_ip", FK_XFF},
        {"x_cluster_client_ip", FK_XFF}, {"forwarded", FK_FORWARDED},
        {"dnt", FK_DNT},             {"sec_gpc", FK_GPC},
        {"cookie", FK_COOKIE},       {"host", FK_VHOST},
    };
    size_t i;

    for (i = 0; i < sizeof(h) / sizeof(h[0]); i++)
        if (name_eq(name, n, h[i].name))
            return h[i].kind;
    return FK_IGNORE;
}

/* Apache %{...}t argument. */
static ret_status
apache_time(struct builder *b, const char *arg, size_t n, size_t column,
            ret_error *err)
{
    char bad;

    if (n >= 6 && memcmp(arg, "begin:", 6) == 0) {
        arg += 6;
        n -= 6;
    } else if (n >= 4 && memcmp(arg, "end:", 4) == 0) {
        arg += 4;
        n -= 4;
    }
    if (n == 3 && memcmp(arg, "sec", 3) == 0)
        return add_field(b, FK_TIME_EPOCH, 1, NULL, 0, column, err);
    if (n == 4 && memcmp(arg, "msec", 4) == 0)
        return add_field(b, FK_TIME_EPOCH, 1000, NULL, 0, column, err);
    if (n == 4 && memcmp(arg, "usec", 4) == 0)
        return add_field(b, FK_TIME_EPOCH, 1000000, NULL, 0, column, err);
    if ((n == 9 && memcmp(arg, "msec_frac", 9) == 0) ||
        (n == 9 && memcmp(arg, "usec_frac", 9) == 0))
        return add_field(b, FK_IGNORE, 0, NULL, 0, column, err);
    if (n == 0) /* %t: "[10/Oct/2000:13:55:36 -0700]", brackets included */
        return add_field(b, FK_TIME_CLF, 1, NULL, 0, column, err);
    if (!ret__time_strf_valid(arg, n, &bad))
        return ret__fail(err, RET_E_FORMAT,
                         "format: column %zu: unsupported time conversion "
                         "'%%%c' in %%{...}t",
                         column, bad ? bad : '?');
    return add_field(b, FK_TIME_STRF, 0, arg, n, column, err);
}

static ret_status
compile_apache(struct builder *b, const char *s, size_t n, ret_error *err)
{
    const char *p = s, *e = s + n, *lit = s;
    ret_status st;

    while (p < e) {
        const char *start, *arg = NULL;
        size_t argn = 0, column;
        enum ret__fk kind;
        int scale = 0;
        char c;

        if (*p == '\\' && p + 1 < e) {
            /* "\t" "\n" and "\"" as written in httpd.conf */
            char ch = p[1] == 't' ? '\t' : p[1] == 'n' ? '\n' : p[1];

            if ((st = add_lit(b, lit, (size_t)(p - lit), err)) != RET_OK ||
                (st = add_lit(b, &ch, 1, err)) != RET_OK)
                return st;
            p += 2;
            lit = p;
            continue;
        }
        if (*p != '%') {
            p++;
            continue;
        }
        if ((st = add_lit(b, lit, (size_t)(p - lit), err)) != RET_OK)
            return st;
        start = p;
        column = (size_t)(p - s) + 1;
        p++;
        /* modifiers: status conditions and < > */
        while (p < e && (*p == '!' || *p == ',' || *p == '<' || *p == '>' ||
                         (*p >= '0' && *p <= '9')))
            p++;
        if (p < e && *p == '{') {
            const char *q = memchr(p, '}', (size_t)(e - p));

            if (q == NULL)
                return ret__fail(err, RET_E_FORMAT,
                                 "format: column %zu: unterminated '%%{'",
                                 column);
            arg = p + 1;
            argn = (size_t)(q - arg);
            p = q + 1;
        }
        if (p >= e)
            return ret__fail(err, RET_E_FORMAT,
                             "format: column %zu: '%.*s' lacks a directive "
                             "letter",
                             column, (int)(e - start), start);
        c = *p++;
        switch (c) {
        case '%':
            if ((st = add_lit(b, "%", 1, err)) != RET_OK)
                return st;
            lit = p;
            continue;
        case 'h':
            kind = FK_CLIENT;
            break;
        case 'a':
            kind = FK_CLIENT;
            break;
        case 'A':
            kind = FK_ADDR;
            break;
        case 'u':
            kind = FK_USER;
            break;
        case 't':
            if ((st = apache_time(b, arg, argn, column, err)) != RET_OK)
                return st;
            lit = p;
            continue;
        case 'r':
            kind = FK_REQUEST;
            break;
        case 'm':
            kind = FK_METHOD;
            break;
        case 'U':
            kind = FK_PATH;
            break;
        case 'q':
            kind = FK_QUERY_Q;
            break;
        case 'H':
            kind = FK_PROTOCOL;
            break;
        case 's':
            kind = FK_STATUS;
            break;
        case 'b':
        case 'B':
            kind = FK_BYTES;
            break;
        case 'O':
            kind = FK_BYTES_ALL;
            break;
        case 'D':
            kind = FK_DUR_US;
            break;
        case 'T':
            kind = FK_DUR_S;
            if (arg && argn == 2 && memcmp(arg, "ms", 2) == 0)
                kind = FK_DUR_MS;
            else if (arg && argn == 2 && memcmp(arg, "us", 2) == 0)
                kind = FK_DUR_US;
            break;
        case 'v':
        case 'V':
            kind = FK_VHOST;
            break;
        case 'p':
            kind = FK_PORT;
            break;
        case 'i':
            if (arg == NULL)
                return ret__fail(err, RET_E_FORMAT,
                                 "format: column %zu: %%i needs a header "
                                 "name: %%{User-Agent}i",
                                 column);
            kind = ret__header_kind(arg, argn);
            break;
        case 'o':
        case 'e':
        case 'n':
        case 'x':
        case 'C':
        case '^':
            if (arg == NULL && c != 'x')
                return ret__fail(err, RET_E_FORMAT,
                                 "format: column %zu: %%%c needs a name: "
                                 "%%{NAME}%c",
                                 column, c, c);
            if (c == '^') { /* %{name}^ti / ^to */
                if (p + 1 < e)
                    p += 2;
                else
                    return ret__fail(err, RET_E_FORMAT,
                                     "format: column %zu: incomplete %%^",
                                     column);
            }
            kind = FK_IGNORE;
            break;
        case 'l':
        case 'I':
        case 'S':
        case 'P':
        case 'k':
        case 'L':
        case 'R':
        case 'X':
        case 'f':
        case 'c':
            kind = FK_IGNORE;
            break;
        default:
            return ret__fail(err, RET_E_FORMAT,
                             "format: column %zu: unknown directive '%%%c'",
                             column, c);
        }
        if ((st = add_field(b, kind, scale, NULL, 0, column, err)) != RET_OK)
            return st;
        lit = p;
    }
    return add_lit(b, lit, (size_t)(p - lit), err);
}

static enum ret__fk
nginx_kind(const char *v, size_t n, int *scale)
{
    static const struct {
        const char *name;
        enum ret__fk kind;
    } t[] = {
        {"remote_addr", FK_CLIENT},
        {"realip_remote_addr", FK_ADDR},
        {"remote_user", FK_USER},
        {"time_local", FK_TIME_CLF},
        {"time_iso8601", FK_TIME_ISO},
        {"msec", FK_TIME_EPOCH},
        {"request", FK_REQUEST},
        {"status", FK_STATUS},
        {"body_bytes_sent", FK_BYTES},
        {"bytes_sent", FK_BYTES_ALL},
        {"host", FK_VHOST},
        {"http_host", FK_VHOST},
        {"server_name", FK_VHOST},
        {"request_time", FK_DUR_S},
        {"request_method", FK_METHOD},
        {"request_uri", FK_URI},
        {"uri", FK_PATH},
        {"document_uri", FK_PATH},
        {"args", FK_QUERY},
        {"query_string", FK_QUERY},
        {"server_protocol", FK_PROTOCOL},
        {"upstream_addr", FK_ADDR},
        {"server_addr", FK_ADDR},
        {"proxy_add_x_forwarded_for", FK_XFF},
        {"proxy_protocol_addr", FK_CLIENT},
        {"proxy_protocol_server_addr", FK_ADDR},
        {"binary_remote_addr", FK_PORT}, /* binary bytes: not scanned */
        {"remote_port", FK_PORT},
        {"server_port", FK_PORT},
    };
    size_t i;

    *scale = 0;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (strlen(t[i].name) == n && memcmp(t[i].name, v, n) == 0) {
            if (t[i].kind == FK_TIME_EPOCH)
                *scale = 1;
            return t[i].kind;
        }
    if (n > 5 && memcmp(v, "http_", 5) == 0)
        return ret__header_kind(v + 5, n - 5);
    return FK_IGNORE;
}

static bool
nginx_var_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_';
}

static ret_status
compile_nginx(struct builder *b, const char *s, size_t n, ret_error *err)
{
    const char *p = s, *e = s + n, *lit = s;
    ret_status st;

    while (p < e) {
        const char *v;
        size_t vn, column;
        enum ret__fk kind;
        int scale;

        if (*p != '$') {
            p++;
            continue;
        }
        if ((st = add_lit(b, lit, (size_t)(p - lit), err)) != RET_OK)
            return st;
        column = (size_t)(p - s) + 1;
        p++;
        if (p < e && *p == '{') {
            const char *q = memchr(p, '}', (size_t)(e - p));

            if (q == NULL)
                return ret__fail(err, RET_E_FORMAT,
                                 "format: column %zu: unterminated '${'",
                                 column);
            v = p + 1;
            vn = (size_t)(q - v);
            p = q + 1;
        } else {
            v = p;
            while (p < e && nginx_var_char(*p))
                p++;
            vn = (size_t)(p - v);
        }
        if (vn == 0)
            return ret__fail(err, RET_E_FORMAT,
                             "format: column %zu: '$' without a variable "
                             "name",
                             column);
        kind = nginx_kind(v, vn, &scale);
        if ((st = add_field(b, kind, scale, NULL, 0, column, err)) != RET_OK)
            return st;
        lit = p;
    }
    return add_lit(b, lit, (size_t)(p - lit), err);
}

/* nginx.conf style: 'part one ' 'part two': the quoted parts joined. */
static char *
nginx_unquote(const char *s, size_t n, size_t *outn)
{
    const char *p = s, *e = s + n;
    char *out = malloc(n + 1), *o = out;

    if (out == NULL)
        return NULL;
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    if (p >= e || *p != '\'') {
        memcpy(out, s, n);
        *outn = n;
        return out;
    }
    while (p < e) {
        if (*p == '\'') {
            const char *q = memchr(p + 1, '\'', (size_t)(e - p - 1));

            if (q == NULL)
                q = e;
            memcpy(o, p + 1, (size_t)(q - p - 1));
            o += q - p - 1;
            p = q < e ? q + 1 : e;
        } else {
            p++; /* whitespace between the parts, a trailing ';' */
        }
    }
    *outn = (size_t)(o - out);
    return out;
}

static void
mark_quoted(ret_format *f)
{
    size_t i;

    for (i = 0; i < f->nitems; i++) {
        struct ret__item *it = &f->items[i];

        if (it->lit || i == 0 || i + 1 >= f->nitems)
            continue;
        if (f->items[i - 1].s[f->items[i - 1].n - 1] == '"' &&
            f->items[i + 1].s[0] == '"')
            it->quoted = true;
    }
}

static const char *
preset_def(const char *name)
{
    size_t i;

    for (i = 0; i < NPRESETS; i++)
        if (strcmp(presets[i].name, name) == 0)
            return presets[i].def;
    return NULL;
}

static ret_status
compile_fields(ret_format *f, const char *spec, ret_error *err)
{
    struct builder b = {f, 0, 0, 0};
    size_t n = strlen(spec), un = 0;
    char *un_spec = NULL;
    bool nginx = strncmp(spec, "nginx:", 6) == 0;
    ret_status st;

    if (nginx) {
        if ((un_spec = nginx_unquote(spec + 6, n - 6, &un)) == NULL)
            return ret__fail(err, RET_E_NOMEM, "out of memory");
    } else {
        un = n;
    }
    /* every literal byte and argument fits in 2 * spec + NULs */
    if ((f->buf = malloc(2 * un + 2 * (un + 1) + 16)) == NULL) {
        st = ret__fail(err, RET_E_NOMEM, "out of memory");
        goto out;
    }
    f->kind = FMT_FIELDS;
    if (nginx)
        st = compile_nginx(&b, un_spec, un, err);
    else
        st = compile_apache(&b, spec, n, err);
    if (st != RET_OK)
        goto out;
    {
        size_t i, nfields = 0;

        for (i = 0; i < f->nitems; i++)
            nfields += !f->items[i].lit;
        if (nfields == 0) {
            st = ret__fail(err, RET_E_FORMAT,
                           "format: '%.*s' has no field (%s)",
                           (int)(n > 60 ? 60 : n), spec,
                           nginx ? "$remote_addr ..." : "%h ...");
            goto out;
        }
    }
    mark_quoted(f);
out:
    free(un_spec);
    return st;
}

/* The presets read by a parser of their own, not by the field scanner:
 * their kind, FMT_FIELDS for any other spec. */
static enum ret__fmt_kind
own_parser(const char *spec)
{
    static const struct {
        const char *name;
        enum ret__fmt_kind kind;
    } own[] = {
        {"auto", FMT_AUTO},       {"json", FMT_JSON}, {"w3c", FMT_W3C},
        {"haproxy", FMT_HAPROXY}, {"elb", FMT_ELB},   {"alb", FMT_ALB},
    };
    size_t i;

    for (i = 0; i < sizeof(own) / sizeof(own[0]); i++)
        if (strcmp(spec, own[i].name) == 0)
            return own[i].kind;
    return FMT_FIELDS;
}

ret_status
ret_format_compile(const char *spec, ret_format **out, ret_error *err)
{
    ret_format *f = NULL;
    enum ret__fmt_kind kind;
    const char *def;
    ret_status st;

    if (spec == NULL || out == NULL)
        return ret__fail(err, RET_E_INVAL, "no format given");
    if (*spec == '\0')
        return ret__fail(err, RET_E_FORMAT, "format: empty format");
    if ((f = calloc(1, sizeof(*f))) == NULL)
        return ret__fail(err, RET_E_NOMEM, "out of memory");
    if ((f->name = strdup(spec)) == NULL) {
        st = ret__fail(err, RET_E_NOMEM, "out of memory");
        goto out;
    }
    if ((kind = own_parser(spec)) != FMT_FIELDS) {
        f->kind = kind;
        st = RET_OK;
    } else if (strncmp(spec, "regex:", 6) == 0) {
        f->kind = FMT_REGEX;
        st = ret__regex_compile(f, spec + 6, err);
    } else if ((def = preset_def(spec)) != NULL) {
        st = compile_fields(f, def, err);
    } else if (strncmp(spec, "nginx:", 6) != 0 && strchr(spec, '%') == NULL &&
               strchr(spec, '$') == NULL) {
        st = ret__fail(err, RET_E_FORMAT,
                       "format: unknown format '%.60s' (a preset: auto, "
                       "common, combined, vhost_combined, "
                       "vhost_combined_noport, vhost_common, nginx, "
                       "nginx_main, json, w3c, haproxy, elb, alb, s3; an "
                       "Apache "
                       "LogFormat; nginx:...; regex:...)",
                       spec);
    } else if (strncmp(spec, "nginx:", 6) != 0 &&
               strchr(spec, '%') == NULL) {
        st = ret__fail(err, RET_E_FORMAT,
                       "format: '%.60s' looks like an nginx log_format: "
                       "write it as nginx:'...'",
                       spec);
    } else {
        st = compile_fields(f, spec, err);
    }
out:
    if (st != RET_OK) {
        ret_format_free(f);
        return st;
    }
    *out = f;
    return RET_OK;
}

const char *
ret_format_name(const ret_format *f)
{
    return f ? f->name : NULL;
}

void
ret_format_free(ret_format *f)
{
    if (f == NULL)
        return;
    ret__regex_free(f->re);
    free(f->items);
    free(f->buf);
    free(f->name);
    free(f);
}

/* ---- filling records ------------------------------------------------ */

/* Every field of r absent. */
static inline __attribute__((always_inline)) void
rec_no_fields(ret_record *r)
{
    size_t i;

    /* Not memset, nor a loop the compiler turns into one: for a few
     * hundred bytes its "rep stos" costs more than the stores, which are
     * written out here, a slice at a time (sixteen bytes on 64 bits). */
#ifdef __SSE2__
    if (sizeof(ret__slice) == 16) {
#pragma GCC unroll 18
        for (i = 0; i < RET_F__COUNT; i++)
            _mm_storeu_si128((__m128i *)(void *)&r->f[i], _mm_setzero_si128());
    } else
#endif
    {
#pragma GCC unroll 18
        for (i = 0; i < RET_F__COUNT; i++) {
            r->f[i].p = NULL;
            r->f[i].n = 0;
        }
    }
}

/*
 * ret__rec_reset, inlined where a line takes few steps besides
 * (quick_body). With fields, for a reading that sets them: r->f[] is
 * cleared. Without (quick_body's, which sets none), only when an
 * earlier reading may have set some: then they stay absent, line after
 * line, and are not written again.
 */
static inline __attribute__((always_inline)) void
rec_reset(ret_record *r, const char *line, size_t len, bool fields)
{
    if (fields || !r->f_absent)
        rec_no_fields(r);
    r->f_absent = !fields;
    r->line = line;
    r->len = len;
    r->time = 0;
    r->utc_offset = 0;
    r->has_time = false;
    r->status = 0;
    r->bytes = -1;
    r->duration_us = -1;
    r->naddr = 0;
    r->addr_overflow = false;
}

void
ret__rec_reset(ret_record *r, const char *line, size_t len)
{
    rec_reset(r, line, len, true);
}

ret_status
ret__parse_fail(ret_error *err, const char *reason, size_t column)
{
    return ret__fail(err, RET_E_PARSE, "%s: column %zu", reason, column);
}

static inline __attribute__((always_inline)) void
add_addr(ret_record *r, size_t off, size_t n, ret_addr_kind kind)
{
    if (n == 0 || (n == 1 && r->line[off] == '-'))
        return;
    if (r->naddr >= RET__MAX_ADDRS) {
        r->addr_overflow = true;
        return;
    }
    r->addr[r->naddr].off = (uint32_t)off;
    r->addr[r->naddr].len = (uint32_t)n;
    r->addr[r->naddr].kind = kind;
    r->naddr++;
}

/* The separators of an address list, ',' ' ' '"' '\t' '\'', as a table:
 * one load a byte instead of five compares. */
static const unsigned char list_sep_tab[256] = {
    ['\t'] = 1, [' '] = 1, ['"'] = 1, ['\''] = 1, [','] = 1,
};

static inline bool
list_sep(char c)
{
    return list_sep_tab[(unsigned char)c] != 0;
}

#ifdef __SSE2__
/* The list separators among the sixteen bytes at p, as bits. */
static inline uint32_t
list_sep16(const char *p)
{
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i m = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(' ')),
                     _mm_cmpeq_epi8(x, _mm_set1_epi8(','))),
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
                                  _mm_cmpeq_epi8(x, _mm_set1_epi8('\''))),
                     _mm_cmpeq_epi8(x, _mm_set1_epi8('\t'))));

    return (uint32_t)_mm_movemask_epi8(m);
}
#endif

void
ret__rec_addr_list(ret_record *r, size_t off, size_t n, ret_addr_kind kind)
{
    const char *l = r->line;
    size_t i = off, e = off + n;

#ifdef __SSE2__
    /* Mostly one address and no separator: sixteen bytes at a look (an
     * IPv4 address), or two (IPv6). */
    if (n > 0 && n <= 32 && r->len - off >= (n <= 16 ? 16u : 32u)) {
        uint32_t bits = list_sep16(l + off);

        if (n > 16)
            bits |= list_sep16(l + off + 16) << 16;
        if ((bits & (UINT32_MAX >> (32 - n))) == 0) {
            if (!(n == 1 && l[off] == ':'))
                add_addr(r, off, n, kind);
            return;
        }
    }
#endif

    while (i < e) {
        size_t s;

        while (i < e && list_sep(l[i]))
            i++;
        s = i;
        while (i < e && !list_sep(l[i]))
            i++;
        if (i > s) {
            /* $upstream_addr groups: "a:80 : b:80" */
            if (!(i - s == 1 && l[s] == ':'))
                add_addr(r, s, i - s, kind);
        }
    }
}

/* Forwarded: for=192.0.2.60;proto=http;by=203.0.113.43, for="[::1]:80" */
static void
forwarded_list(ret_record *r, size_t off, size_t n)
{
    const char *l = r->line;
    size_t i = off, e = off + n;

    while (i < e) {
        size_t s, ve;
        ret_addr_kind kind;

        while (i < e && (l[i] == ' ' || l[i] == ',' || l[i] == ';'))
            i++;
        s = i;
        while (i < e && l[i] != '=' && l[i] != ';' && l[i] != ',')
            i++;
        if (i >= e || l[i] != '=') {
            continue;
        }
        if (i - s == 3 && (l[s] | 0x20) == 'f' && (l[s + 1] | 0x20) == 'o' &&
            (l[s + 2] | 0x20) == 'r')
            kind = RET_ADDR_FORWARDED;
        else if (i - s == 2 && (l[s] | 0x20) == 'b' &&
                 (l[s + 1] | 0x20) == 'y')
            kind = RET_ADDR_OTHER;
        else
            kind = (ret_addr_kind)-1;
        i++;
        if (i < e && l[i] == '"') {
            s = ++i;
            while (i < e && l[i] != '"')
                i++;
            ve = i;
            if (i < e)
                i++;
        } else {
            s = i;
            while (i < e && l[i] != ';' && l[i] != ',' && l[i] != ' ')
                i++;
            ve = i;
        }
        if (kind != (ret_addr_kind)-1)
            add_addr(r, s, ve - s, kind);
    }
}

static inline bool
hexdig(char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* Does [p, p+n) look like an IPv4 or IPv6 address (with port, brackets,
 * zone)? Cheap, conservative: used only on unparsed parts of a line. */
static bool
looks_like_ip(const char *p, size_t n)
{
    size_t i, dots = 0, colons = 0, digits = 0;
    bool dbl = false;

    if (n < 3)
        return false;
    if (p[0] == '[')
        p++, n--;
    for (i = 0; i < n; i++) {
        char c = p[i];

        if (c == '.')
            dots++;
        else if (c == ':') {
            colons++;
            if (i > 0 && p[i - 1] == ':')
                dbl = true;
        } else if (c >= '0' && c <= '9')
            digits++;
        else if (c == ']' || c == '%')
            break; /* zone or end of bracket: enough seen */
        else if (!hexdig(c))
            return false;
    }
    if (dots == 3 && colons <= 1 && digits >= 4)
        return true;
    return colons >= 2 && (dbl || colons >= 7);
}

void
ret__rec_scan_addrs(ret_record *r, size_t off, size_t n)
{
    const char *l = r->line;
    size_t i = off, e = off + n;

    while (i < e) {
        size_t s;

        while (i < e && !hexdig(l[i]) && l[i] != ':' && l[i] != '[')
            i++;
        s = i;
        while (i < e && (hexdig(l[i]) || l[i] == '.' || l[i] == ':' ||
                         l[i] == '[' || l[i] == ']' || l[i] == '%'))
            i++;
        if (i == s) {
            i++;
            continue;
        }
        /* a token glued to letters (a word, a hash) is not an address */
        if ((s > off && ((l[s - 1] | 0x20) >= 'g' && (l[s - 1] | 0x20) <= 'z')) ||
            (i < e && ((l[i] | 0x20) >= 'g' && (l[i] | 0x20) <= 'z')))
            continue;
        /* of unknown role, most likely a forwarded-for list: listed as
         * RET_ADDR_FORWARDED so that anonymization masks it (fail
         * closed) */
        if (looks_like_ip(l + s, i - s))
            add_addr(r, s, i - s, RET_ADDR_FORWARDED);
    }
}

void
ret__rec_sort_addrs(ret_record *r)
{
    unsigned i, j;

    /* insertion sort: a handful of entries, mostly in order already */
    for (i = 1; i < r->naddr; i++) {
        ret__addr a = r->addr[i];

        for (j = i; j > 0 && r->addr[j - 1].off > a.off; j--)
            r->addr[j] = r->addr[j - 1];
        r->addr[j] = a;
    }
}

static inline void
set_field(ret_record *r, ret_field f, size_t off, size_t n)
{
    if (n == 1 && r->line[off] == '-')
        return;
    if (r->f[f].p != NULL)
        return; /* the first occurrence wins */
    r->f[f].p = r->line + off;
    r->f[f].n = n;
}

static void
split_uri(ret_record *r, const char *p, size_t n, bool path_only)
{
    const char *q = ret__find_byte(p, p + n, '?');

    if (q == NULL || path_only) {
        if (r->f[RET_F_PATH].p == NULL && n > 0) {
            r->f[RET_F_PATH].p = p;
            r->f[RET_F_PATH].n = n;
        }
        return;
    }
    if (r->f[RET_F_PATH].p == NULL) {
        r->f[RET_F_PATH].p = p;
        r->f[RET_F_PATH].n = (size_t)(q - p);
    }
    if (r->f[RET_F_QUERY].p == NULL) {
        r->f[RET_F_QUERY].p = q + 1;
        r->f[RET_F_QUERY].n = n - (size_t)(q - p) - 1;
    }
}

static bool
method_ok(const char *p, size_t n)
{
    size_t i;

    if (n == 0 || n > 32)
        return false;
    for (i = 0; i < n; i++) {
        char c = p[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' ||
              c == '_'))
            return false;
    }
    return true;
}

/*
 * A request's target in absolute form, "http://user@host:8080/p?q" (what
 * a forward proxy logs, and what a client may send): the host name,
 * without user, password or port, is the virtual host where none was
 * written (an address is not: a proxy's target may be anyone's); the
 * path and query are split as the origin form's. False when t[0..n) is
 * no such URL.
 */
static bool
split_absolute(ret_record *r, const char *t, size_t n)
{
    const char *e = t + n, *h, *he, *path, *at;
    ret_ip ip;
    bool dotted;

    for (h = t; h < e && (*h | 0x20) >= 'a' && (*h | 0x20) <= 'z'; h++)
        ;
    if (h == t || e - h < 3 || memcmp(h, "://", 3) != 0)
        return false;
    h += 3;
    for (path = h; path < e && *path != '/' && *path != '?'; path++)
        ;
    /* the credentials of "user:password@host" are no one's statistic */
    while ((at = memchr(h, '@', (size_t)(path - h))) != NULL)
        h = at + 1;
    if ((he = memchr(h, ':', (size_t)(path - h))) == NULL)
        he = path;
    if (he > h && *h != '[' && !ret__ip_parse_exact(h, (size_t)(he - h), &ip,
                                                    &dotted))
        set_field(r, RET_F_VHOST, (size_t)(h - r->line), (size_t)(he - h));
    if (path < e && *path == '/')
        split_uri(r, path, (size_t)(e - path), false);
    return true;
}

/* "GET /path?query HTTP/1.1" */
static void
split_request(ret_record *r, const char *p, size_t n)
{
    const char *sp = ret__find_byte(p, p + n, ' '), *last, *t;
    size_t tn;

    if (sp == NULL || !method_ok(p, (size_t)(sp - p)))
        return;
    if (r->f[RET_F_METHOD].p == NULL) {
        r->f[RET_F_METHOD].p = p;
        r->f[RET_F_METHOD].n = (size_t)(sp - p);
    }
    t = sp + 1;
    last = p + n;
    while (last > t && last[-1] != ' ')
        last--;
    if (last > t && p + n - last >= 5 && memcmp(last, "HTTP/", 5) == 0) {
        tn = (size_t)(last - 1 - t);
        if (r->f[RET_F_PROTOCOL].p == NULL) {
            r->f[RET_F_PROTOCOL].p = last;
            r->f[RET_F_PROTOCOL].n = (size_t)(p + n - last);
        }
    } else {
        tn = (size_t)(p + n - t);
    }
    if (tn > 0 && !split_absolute(r, t, tn))
        split_uri(r, t, tn, false);
}

static inline bool
parse_uint(const char *p, size_t n, int64_t *v)
{
    int64_t x = 0;
    size_t i;

    if (n == 0 || n > 18)
        return false;
    for (i = 0; i < n; i++) {
        unsigned d = (unsigned)(unsigned char)p[i] - '0';

        if (d > 9)
            return false;
        x = x * 10 + d;
    }
    *v = x;
    return true;
}

/* Would parse_uint(p, n) read a number? 1 to 18 digits (the value is not
 * wanted). */
static inline bool
uint_ok(const char *p, size_t n)
{
    size_t i;

    if (n == 0 || n > 18)
        return false;
    for (i = 0; i < n; i++)
        if ((unsigned)(unsigned char)p[i] - '0' > 9)
            return false;
    return true;
}

/* uint_ok where the eight bytes that end at p + n may be read: up to
 * eight digits in one word (the bytes before p shifted out), each byte
 * less '0' below ten without a carry into the next. */
static inline __attribute__((always_inline)) bool
uint_ok_back(const char *p, size_t n)
{
    uint64_t x, z;

    if (n == 0 || n > 8)
        return uint_ok(p, n);
    memcpy(&x, p + n - 8, 8);
    memcpy(&z, "00000000", 8);
    x ^= z;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    x <<= 8 * (8 - n); /* p's bytes are the low ones */
#else
    x >>= 8 * (8 - n); /* p's bytes are the high ones */
#endif
    return ((((x & 0x7f7f7f7f7f7f7f7fu) + 0x7676767676767676u) | x) &
            0x8080808080808080u) == 0;
}

/* "0.123" seconds (or ms, us, ns by mult) into microseconds. */
static bool
parse_duration(const char *p, size_t n, int64_t num, int64_t den,
               int64_t *us)
{
    int64_t ip = 0, frac = 0, fd = 1;
    size_t i = 0;

    if (n == 0)
        return false;
    for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
        if (ip > INT64_MAX / 100)
            return false;
        ip = ip * 10 + (p[i] - '0');
    }
    if (i < n && p[i] == '.') {
        for (i++; i < n && p[i] >= '0' && p[i] <= '9'; i++)
            if (fd < 1000000000) {
                frac = frac * 10 + (p[i] - '0');
                fd *= 10;
            }
    }
    if (i != n || ip > INT64_MAX / num / 2)
        return false;
    *us = (ip * num + frac * num / fd) / den;
    return true;
}

/* The body of ret__rec_store(), inlined into the field scanner's loop. */
static inline __attribute__((always_inline)) bool
rec_store(ret_record *r, struct ret__fill *fl, enum ret__fk kind, int scale,
          const char *arg, size_t argn, size_t off, size_t n)
{
    const char *p = r->line + off;
    bool dash = n == 1 && *p == '-';
    int64_t v;
    int32_t o;

    switch (kind) {
    case FK_IGNORE:
        /* a field we do not read may still hold an address
         * (%{X-Original-Forwarded-For}i, $proxy_protocol_addr...) */
        if (n > 6)
            ret__rec_scan_addrs(r, off, n);
        return true;
    case FK_PORT:
        return true;
    case FK_CLIENT:
        if (n == 0) {
            fl->reason = "fields";
            return false;
        }
        set_field(r, RET_F_CLIENT, off, n);
        ret__rec_addr_list(r, off, n, RET_ADDR_CLIENT);
        return true;
    case FK_ADDR:
        ret__rec_addr_list(r, off, n, RET_ADDR_OTHER);
        return true;
    case FK_XFF:
        set_field(r, RET_F_XFF, off, n);
        ret__rec_addr_list(r, off, n, RET_ADDR_FORWARDED);
        return true;
    case FK_FORWARDED:
        set_field(r, RET_F_XFF, off, n);
        forwarded_list(r, off, n);
        return true;
    case FK_USER:
        set_field(r, RET_F_USER, off, n);
        return true;
    case FK_TIME:
    case FK_TIME_CLF:
    case FK_TIME_ISO:
    case FK_TIME_EPOCH:
        if (dash || r->has_time)
            return true;
        if (kind == FK_TIME_CLF ? ret__time_clf(p, n, &r->time, &o)
            : kind == FK_TIME_ISO ? ret__time_iso(p, n, &r->time, &o)
            : kind == FK_TIME_EPOCH
                ? (o = 0, ret__time_epoch(p, n, scale, &r->time))
                : ret__time_any(p, n, &r->time, &o)) {
            set_field(r, RET_F_TIME, off, n);
            r->utc_offset = o;
            r->has_time = true;
            return true;
        }
        fl->reason = "time";
        return false;
    case FK_TIME_STRF:
        set_field(r, RET_F_TIME, off, n);
        if (!ret__time_strf(arg, argn, p, n, &fl->tp)) {
            fl->reason = "time";
            return false;
        }
        return true;
    case FK_TIME_DATE:
        if (dash)
            return true;
        set_field(r, RET_F_TIME, off, n);
        if (!ret__time_date(p, n, &fl->tp.days)) {
            fl->reason = "time";
            return false;
        }
        fl->tp.has_date = true;
        return true;
    case FK_TIME_TOD:
        if (dash)
            return true;
        if (r->f[RET_F_TIME].p == NULL)
            set_field(r, RET_F_TIME, off, n);
        else if (r->f[RET_F_TIME].p + r->f[RET_F_TIME].n + 1 == p)
            r->f[RET_F_TIME].n += n + 1; /* "date time" */
        if (!ret__time_of_day(p, n, &fl->tp.sod)) {
            fl->reason = "time";
            return false;
        }
        fl->tp.has_sod = true;
        return true;
    case FK_REQUEST:
        set_field(r, RET_F_REQUEST, off, n);
        if (!dash && !r->addr_only)
            split_request(r, p, n);
        return true;
    case FK_METHOD:
        set_field(r, RET_F_METHOD, off, n);
        return true;
    case FK_PATH:
        if (!dash && !r->addr_only)
            split_uri(r, p, n, true);
        return true;
    case FK_URI:
        if (!dash && !r->addr_only)
            split_uri(r, p, n, false);
        return true;
    case FK_QUERY:
        set_field(r, RET_F_QUERY, off, n);
        return true;
    case FK_QUERY_Q:
        if (n > 0 && *p == '?')
            set_field(r, RET_F_QUERY, off + 1, n - 1);
        return true;
    case FK_PROTOCOL:
        set_field(r, RET_F_PROTOCOL, off, n);
        return true;
    case FK_STATUS:
        if (dash || n == 0)
            return true;
        if (n != 3 || (unsigned)(unsigned char)p[0] - '1' > 8 ||
            (unsigned)(unsigned char)p[1] - '0' > 9 ||
            (unsigned)(unsigned char)p[2] - '0' > 9) {
            /* three digits, 100 to 999 */
            fl->reason = "status";
            return false;
        }
        if (r->status == 0) {
            set_field(r, RET_F_STATUS, off, n);
            r->status = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
        }
        return true;
    case FK_BYTES:
    case FK_BYTES_ALL: {
        int rank = kind == FK_BYTES ? 2 : 1;

        if (dash) {
            /* CLF: '-' for no body bytes */
            if (rank > fl->bytes_rank) {
                r->bytes = 0;
                fl->bytes_rank = rank;
            }
            return true;
        }
        if (!parse_uint(p, n, &v)) {
            fl->reason = "bytes";
            return false;
        }
        if (rank > fl->bytes_rank) {
            r->f[RET_F_BYTES].p = p;
            r->f[RET_F_BYTES].n = n;
            r->bytes = v;
            fl->bytes_rank = rank;
        }
        return true;
    }
    case FK_REFERER:
        set_field(r, RET_F_REFERER, off, n);
        return true;
    case FK_UA:
    case FK_UA_PLUS:
        set_field(r, RET_F_USER_AGENT, off, n);
        return true;
    case FK_VHOST:
        if (n > 0 && p[n - 1] == ',') {
            /* "10.0.0.2, 10.0.0.1 ...": a client list, not a host */
            fl->reason = "fields";
            return false;
        }
        set_field(r, RET_F_VHOST, off, n);
        return true;
    case FK_DUR_US:
    case FK_DUR_MS:
    case FK_DUR_S:
    case FK_DUR_NS:
        if (dash || r->duration_us >= 0)
            return true;
        set_field(r, RET_F_DURATION, off, n);
        if (kind == FK_DUR_US)
            parse_duration(p, n, 1, 1, &r->duration_us);
        else if (kind == FK_DUR_MS)
            parse_duration(p, n, 1000, 1, &r->duration_us);
        else if (kind == FK_DUR_S)
            parse_duration(p, n, 1000000, 1, &r->duration_us);
        else
            parse_duration(p, n, 1, 1000, &r->duration_us);
        return true;
    case FK_DNT:
        set_field(r, RET_F_DNT, off, n);
        return true;
    case FK_GPC:
        set_field(r, RET_F_GPC, off, n);
        return true;
    case FK_COOKIE:
        set_field(r, RET_F_COOKIE, off, n);
        return true;
    }
    return true;
}

bool
ret__rec_finish(ret_record *r, struct ret__fill *fl)
{
    int32_t o;

    if (!r->has_time && (fl->tp.has_date || fl->tp.has_epoch)) {
        if (!ret__time_combine(&fl->tp, &r->time, &o)) {
            fl->reason = "time";
            return false;
        }
        r->utc_offset = o;
        r->has_time = true;
    } else if (r->has_time && fl->tp.has_offset && !fl->tp.has_date) {
        /* %{%z}t beside a time without offset */
        r->time -= fl->tp.offset - r->utc_offset;
        r->utc_offset = fl->tp.offset;
    }
    return true;
}

bool
ret__rec_store(ret_record *r, struct ret__fill *fl, enum ret__fk kind,
               int scale, const char *arg, size_t argn, size_t off, size_t n)
{
    return rec_store(r, fl, kind, scale, arg, argn, off, n);
}

/* ---- the field scanner ---------------------------------------------- */

/* Does the literal it (n >= 1) start at l + i, of e? Literals are short:
 * a byte or two, compared inline. */
static inline bool
lit_at(const char *l, size_t i, size_t e, const struct ret__item *it)
{
    size_t k;

    if (e - i < it->n || l[i] != it->s[0])
        return false;
    if (it->n > 8)
        return memcmp(l + i + 1, it->s + 1, it->n - 1) == 0;
    for (k = 1; k < it->n; k++)
        if (l[i + k] != it->s[k])
            return false;
    return true;
}

/* End of a quoted field starting at i: the first unescaped '"' followed
 * by the rest of the next literal (and, for the last literal, by the end
 * of the line or a space). Returns e when there is none. */
static inline __attribute__((always_inline)) size_t
quoted_end(const char *l, size_t i, size_t e, const struct ret__item *next,
           bool next_is_last, bool *closed)
{
    *closed = false;
    while (i < e) {
        const char *q = ret__find_byte(l + i, l + e, '"');
        size_t k, bs = 0;

        if (q == NULL)
            return e;
        k = (size_t)(q - l);
        while (k - bs > 0 && l[k - bs - 1] == '\\')
            bs++;
        if (bs % 2 == 0)
            *closed = true;
        if (bs % 2 == 0 && lit_at(l, k, e, next) &&
            (!next_is_last || k + next->n == e || l[k + next->n] == ' '))
            return k;
        i = k + 1;
    }
    return e;
}

/* Is "hh:mm:ss" at p a time of day (hh at most 23, mm 59, ss 60)? Its
 * digits' values then in d (d[2] and d[5], the colons, 0). All eight
 * bytes at once, less "00:00:00": a digit becomes 0 to 9, a ':' 0; any
 * byte above 9 fails (a byte's carry comes only from one with its top
 * bit set, which fails already). */
static inline bool
clf_tod(const char *p, unsigned char d[8])
{
    uint64_t x, z;

    memcpy(&x, p, 8);
    memcpy(&z, "00:00:00", 8);
    x ^= z;
    if (((x + 0x7676767676767676u) | x) & 0x8080808080808080u)
        return false;
    memcpy(d, &x, 8);
    return (d[2] | d[5]) == 0 && d[0] * 10u + d[1] <= 23 && d[3] <= 5 &&
           d[6] * 10u + d[7] <= 60;
}

/* Seconds of "hh:mm:ss" at p, -1 when it is not that. */
static inline int32_t
clf_sod(const char *p)
{
    unsigned char d[8];

    if (!clf_tod(p, d))
        return -1;
    return (int32_t)((d[0] * 10u + d[1]) * 3600 + (d[3] * 10u + d[4]) * 60 +
                     d[6] * 10u + d[7]);
}

/* clf_sod(p) >= 0, without the seconds (the quick scan's check). */
static inline bool
clf_tod_ok(const char *p)
{
    unsigned char d[8];

    return clf_tod(p, d);
}

/* A CLF time "dd/Mon/yyyy:hh:mm:ss +hhmm" (26 bytes) of the same day and
 * offset as the last one: only the time of day is read. Otherwise the
 * full parser, whose result is remembered for the next line. The result
 * is that of ret__time_clf() either way. */
static inline bool
time_clf_cached(ret_parser *ps, const char *p, size_t n, int64_t *utc,
                int32_t *off)
{
    int32_t sod;

    if (n == 26 && ps->clf_have && memcmp(p, ps->clf_day, 12) == 0 &&
        memcmp(p + 20, ps->clf_zone, 6) == 0 && (sod = clf_sod(p + 12)) >= 0) {
        *utc = ps->clf_base + sod;
        *off = ps->clf_off;
        return true;
    }
    if (!ret__time_clf(p, n, utc, off))
        return false;
    if (n == 26 && p[11] == ':' && p[20] == ' ' &&
        (sod = clf_sod(p + 12)) >= 0) {
        memcpy(ps->clf_day, p, 12);
        memcpy(ps->clf_zone, p + 20, 6);
        ps->clf_base = *utc - sod;
        ps->clf_off = *off;
        ps->clf_have = true;
        /* quick_combined compares the bracket with this; a ']' inside it
         * (which ret__time_clf does not accept anyway) would hide the
         * bracket's end, a '\n' the line's (quick_line) */
        ps->clf_tmpl[0] = '[';
        memcpy(ps->clf_tmpl + 1, p, 26);
        memcpy(ps->clf_tmpl + 27, "] \"", 3);
        ps->clf_tmpl_ok = memchr(p, ']', 26) == NULL &&
                          memchr(p, '\n', 26) == NULL;
    }
    return true;
}

/* $upstream_addr writes groups as "a:80, b:80 : c:80": is the space at
 * i part of a " : "? */
static bool
up_group(const char *l, size_t i, size_t e)
{
    return (e - i >= 3 && l[i + 1] == ':' && l[i + 2] == ' ') ||
           (i >= 2 && l[i - 1] == ':' && l[i - 2] == ' ');
}

/*
 * One item of a fields format at st->pos of l[0..e): a literal matched,
 * or a field found and stored. False (err set) when the line does not
 * fit. next is the item after it (NULL for the last), next_last whether
 * that one is the last. The generic loop of scan_fields calls it with
 * the compiled items; the presets' own scanners (below) call it with
 * constant items, so that the compiler reduces it to their code alone.
 */
struct scan {
    size_t pos;
    bool skip; /* the next item, a literal, was matched already */
    struct ret__fill fl;
};

static inline __attribute__((always_inline)) bool
scan_item(ret_parser *ps, const char *l, size_t e, const struct ret__item *it,
          const struct ret__item *next, bool next_last, struct scan *st,
          ret_error *err)
{
    ret_record *r = &ps->rec;
    size_t pos = st->pos, end;
    bool next_ok = false; /* the literal next was matched at end */

    if (st->skip) {
        st->skip = false;
        return true;
    }
    if (it->lit) {
        if (!lit_at(l, pos, e, it)) {
            ret__parse_fail(err,
                            memchr(it->s, '"', it->n) ? "quote" : "fields",
                            pos + 1);
            return false;
        }
        st->pos = pos + it->n;
        return true;
    }
    if (it->kind == FK_TIME_CLF && it->scale == 1) {
        /* Apache %t writes its brackets */
        const char *q;

        if (pos >= e || l[pos] != '[' ||
            (q = ret__find_byte(l + pos, l + e, ']')) == NULL) {
            ret__parse_fail(err, "time", pos + 1);
            return false;
        }
        end = (size_t)(q - l) + 1;
        if (end - pos - 2 == 26 && !r->has_time) {
            /* the common case, without the general store */
            int32_t o;

            if (!time_clf_cached(ps, l + pos + 1, 26, &r->time, &o)) {
                ret__parse_fail(err, "time", pos + 2);
                return false;
            }
            set_field(r, RET_F_TIME, pos + 1, 26);
            r->utc_offset = o;
            r->has_time = true;
        } else if (!rec_store(r, &st->fl, it->kind, 0, NULL, 0, pos + 1,
                              end - pos - 2)) {
            ret__parse_fail(err, st->fl.reason, pos + 2);
            return false;
        }
        st->pos = end;
        return true;
    }
    if (next == NULL) {
        /* the last field: up to a space or the end */
        const char *sp = ret__find_byte(l + pos, l + e, ' ');

        end = sp ? (size_t)(sp - l) : e;
    } else if (it->quoted) {
        bool closed;

        end = quoted_end(l, pos, e, next, next_last, &closed);
        if (end == e) {
            ret__parse_fail(err, closed ? "fields" : "quote", pos);
            return false;
        }
        next_ok = next->lit;
    } else {
        bool addr = it->kind == FK_CLIENT || it->kind == FK_ADDR;
        char d = next->s[0];

        end = pos;
        if (addr && pos < e && l[pos] == '"') {
            /* a quoted list where an address is expected */
            const char *q = ret__find_byte(l + pos + 1, l + e, '"');

            if (q == NULL) {
                ret__parse_fail(err, "quote", pos + 1);
                return false;
            }
            end = (size_t)(q - l) + 1;
        }
        for (;;) {
            const char *q = ret__find_byte(l + end, l + e, d);

            if (q == NULL) {
                ret__parse_fail(err, "fields", pos + 1);
                return false;
            }
            end = (size_t)(q - l);
            if (lit_at(l, end, e, next) &&
                !(addr && end > pos && l[end - 1] == ',' && d == ' ') &&
                !(it->kind == FK_ADDR && d == ' ' && up_group(l, end, e)))
                break;
            if (!addr) {
                ret__parse_fail(err, "fields", pos + 1);
                return false;
            }
            /* addresses: lists "a, b" and anything up to the
             * literal that follows */
            end++;
        }
        next_ok = next->lit;
    }
    if (!rec_store(r, &st->fl, it->kind, it->scale, it->s, it->n, pos,
                   end - pos)) {
        ret__parse_fail(err, st->fl.reason, pos + 1);
        return false;
    }
    st->pos = end;
    if (next_ok) {
        /* matched already: step over it */
        st->pos += next->n;
        st->skip = true;
    }
    return true;
}

/* What follows the last item. */
static inline __attribute__((always_inline)) ret_status
scan_end(ret_parser *ps, const char *l, size_t e, bool has_strf,
         struct scan *st, ret_error *err)
{
    ret_record *r = &ps->rec;
    size_t pos = st->pos;

    if (pos < e) {
        /* more than the format: allowed after a space; its
         * address-looking tokens are listed for the anonymizer */
        if (l[pos] != ' ' && l[pos] != '\t')
            return ret__parse_fail(err, "fields", pos + 1);
        ret__rec_scan_addrs(r, pos, e - pos);
        ps->partial = true;
    }
    if (has_strf || st->fl.tp.has_date)
        if (!ret__rec_finish(r, &st->fl))
            return ret__parse_fail(err, st->fl.reason, 1);
    ret__rec_sort_addrs(r);
    return RET_OK;
}

static inline __attribute__((always_inline)) void
scan_start(ret_parser *ps, const char *line, size_t len, struct scan *st)
{
    memset(st, 0, sizeof(*st));
    ret__rec_reset(&ps->rec, line, len);
}

static ret_status
scan_fields(ret_parser *ps, const char *line, size_t len, ret_error *err)
{
    const ret_format *f = ps->fmt;
    struct scan st;
    size_t i;

    scan_start(ps, line, len, &st);
    for (i = 0; i < f->nitems; i++)
        if (!scan_item(ps, line, len, &f->items[i],
                       i + 1 < f->nitems ? &f->items[i + 1] : NULL,
                       i + 2 == f->nitems, &st, err))
            return RET_E_PARSE;
    return scan_end(ps, line, len, f->has_strf, &st, err);
}

/*
 * The presets most logs are written in, scanned by scan_item with their
 * items as constants: the same steps as scan_fields, without looking up
 * what each item is. A parser uses one when its compiled format has
 * exactly these items (same_items), so the two cannot differ.
 */
#define LIT(t) {true, false, FK_IGNORE, 0, t, sizeof(t) - 1}
#define FLD(k, q) {false, q, k, 0, NULL, 0}

static const struct ret__item combined_items[] = {
    FLD(FK_CLIENT, false), LIT(" "),  FLD(FK_IGNORE, false), LIT(" "),
    FLD(FK_USER, false),   LIT(" "),  {false, false, FK_TIME_CLF, 1, NULL, 0},
    LIT(" \""),            FLD(FK_REQUEST, true),  LIT("\" "),
    FLD(FK_STATUS, false), LIT(" "),  FLD(FK_BYTES, false),
    LIT(" \""),            FLD(FK_REFERER, true),  LIT("\" \""),
    FLD(FK_UA, true),      LIT("\""),
};

#undef LIT
#undef FLD

#define NCOMBINED (sizeof(combined_items) / sizeof(combined_items[0]))

/* Does f have exactly the n items of want (a field's arg aside, which
 * want's fields do not use)? */
static bool
same_items(const ret_format *f, const struct ret__item *want, size_t n)
{
    size_t i;

    if (f->kind != FMT_FIELDS || f->nitems != n || f->has_strf)
        return false;
    for (i = 0; i < n; i++) {
        const struct ret__item *a = &f->items[i], *b = &want[i];

        if (a->lit != b->lit || a->quoted != b->quoted ||
            a->kind != b->kind || a->scale != b->scale ||
            (a->lit && (a->n != b->n || memcmp(a->s, b->s, a->n) != 0)))
            return false; /* a field's arg is read by FK_TIME_STRF alone */
    }
    return true;
}

#define SCAN(k)                                                              \
    if (!scan_item(ps, line, len, &combined_items[k],                         \
                   k + 1 < NCOMBINED ? &combined_items[k + 1] : NULL,        \
                   k + 2 == NCOMBINED, &st, err))                            \
        return RET_E_PARSE;

/* The index of the first c in l[i..e), or e. */
static inline size_t
index_of(const char *l, size_t i, size_t e, char c)
{
    const char *q = ret__find_byte(l + i, l + e, c);

    return q != NULL ? (size_t)(q - l) : e;
}

/* The first ' ' of l[i..e), or e: mostly one byte ('-') before it. */
static inline size_t
space_after(const char *l, size_t i, size_t e)
{
    if (e - i >= 2 && l[i] != ' ' && l[i + 1] == ' ')
        return i + 1;
    return index_of(l, i, e, ' ');
}

/*
 * The quotes of a combined line after the request's opening one. Where
 * the request, referer and user agent each end at their first '"', the
 * line has exactly five from there, the last one ending it, so one walk
 * over the rest of the line finds them all, 32 bytes at a look, and the
 * status and bytes need no search of their own. quotes_*() put the first
 * four '"' of l[i..e) in q[] and tell whether the fifth is the line's
 * last byte (no more then). They read l[e-32..e): e >= 32, i < e.
 *
 * lines_*() walk the same way where the line's end is not known yet:
 * l[i..e) is the rest of a block of lines, and the line ends at its
 * first '\n', so that one walk reads the line for both. The walk takes
 * the '\n' with the '"': the line is the usual one when its first five
 * are '"' and a '\n' (or "\r\n") follows the fifth. They put the five in
 * q[] and the index of the '\n' in *nl, and read no byte of l[e..).
 */
#ifdef __SSE2__
/* The '"' (and with nl the '\n') among the 32 bytes at p, as bits. */
static inline uint32_t
look_narrow(const char *p, bool nl)
{
    const __m128i dq = _mm_set1_epi8('"'), lf = _mm_set1_epi8('\n');
    __m128i a = _mm_loadu_si128((const __m128i *)(const void *)p),
            b = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));

    if (nl) {
        a = _mm_or_si128(_mm_cmpeq_epi8(a, dq), _mm_cmpeq_epi8(a, lf));
        b = _mm_or_si128(_mm_cmpeq_epi8(b, dq), _mm_cmpeq_epi8(b, lf));
    } else {
        a = _mm_cmpeq_epi8(a, dq);
        b = _mm_cmpeq_epi8(b, dq);
    }
    return (uint32_t)_mm_movemask_epi8(a) |
           (uint32_t)_mm_movemask_epi8(b) << 16;
}

#ifdef RET_SCAN_WIDE
/* look_narrow in one AVX2 compare (with nl, a lookup and a compare). */
__attribute__((target("avx2"))) static inline uint32_t
look_wide(const char *p, bool nl)
{
    const __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)p);

    if (nl) {
        /* each byte looked up by its low four bits (0 for one of 0x80
         * and above) in a table that holds '"' at 2, '\n' at 10 and
         * 0xff elsewhere: equal only for '"' and '\n'. One constant
         * where two would be set up again at each quote. */
        const __m256i t = _mm256_setr_epi8(
            -1, -1, '"', -1, -1, -1, -1, -1, -1, -1, '\n', -1, -1, -1, -1, -1,
            -1, -1, '"', -1, -1, -1, -1, -1, -1, -1, '\n', -1, -1, -1, -1, -1);

        return (uint32_t)_mm256_movemask_epi8(
            _mm256_cmpeq_epi8(_mm256_shuffle_epi8(t, a), a));
    }
    return (uint32_t)_mm256_movemask_epi8(
        _mm256_cmpeq_epi8(a, _mm256_set1_epi8('"')));
}
#else
#define look_wide look_narrow
#endif

/* The '"' of l[base..base+32), the last look ending at e (its bytes
 * before base shifted out). */
static inline __attribute__((always_inline)) uint32_t
look_at(const char *l, size_t base, size_t e, bool wide, bool nl)
{
    const char *p = e - base >= 32 ? l + base : l + e - 32;
    uint32_t m = wide ? look_wide(p, nl) : look_narrow(p, nl);

    return e - base >= 32 ? m : m >> (32 - (e - base));
}

/* The walk: the bits not taken yet of the look at base. */
struct quote_walk {
    size_t base;
    uint32_t m;
};

/* The next '"' of the walk, e when there is none. */
static inline __attribute__((always_inline)) size_t
next_quote(const char *l, size_t e, struct quote_walk *w, bool wide, bool nl)
{
    size_t k;

    while (w->m == 0) {
        if ((w->base += 32) >= e)
            return e;
        w->m = look_at(l, w->base, e, wide, nl);
    }
    k = w->base + (size_t)__builtin_ctz(w->m);
    w->m &= w->m - 1;
    return k;
}

/* One body for both widths: the wide one is this inlined into an AVX2
 * function, so that look_wide is inlined too. */
static inline __attribute__((always_inline)) bool
five_quotes(const char *l, size_t i, size_t e, size_t *q, bool wide)
{
    struct quote_walk w = {i, look_at(l, i, e, wide, false)};

    q[0] = next_quote(l, e, &w, wide, false);
    q[1] = next_quote(l, e, &w, wide, false);
    q[2] = next_quote(l, e, &w, wide, false);
    q[3] = next_quote(l, e, &w, wide, false);
    return q[3] < e && next_quote(l, e, &w, wide, false) == e - 1;
}

/* next_quote for lines_*(): the block mostly goes on far beyond the
 * line, so that a look is mostly a whole one, told by one compare. */
static inline __attribute__((always_inline)) size_t
next_quote_nl(const char *l, size_t e, struct quote_walk *w, bool wide)
{
    size_t k;

    while (w->m == 0) {
        if ((w->base += 32) + 32 <= e)
            w->m = wide ? look_wide(l + w->base, true)
                        : look_narrow(l + w->base, true);
        else if (w->base < e)
            w->m = look_at(l, w->base, e, wide, true);
        else
            return e;
    }
    k = w->base + (size_t)__builtin_ctz(w->m);
    w->m &= w->m - 1;
    return k;
}

static inline __attribute__((always_inline)) bool
five_quotes_nl(const char *l, size_t i, size_t e, size_t *q, size_t *nl,
               bool wide)
{
    struct quote_walk w = {i, look_at(l, i, e, wide, true)};
    size_t k;

    q[0] = next_quote_nl(l, e, &w, wide);
    q[1] = next_quote_nl(l, e, &w, wide);
    q[2] = next_quote_nl(l, e, &w, wide);
    q[3] = next_quote_nl(l, e, &w, wide);
    if ((k = q[4] = next_quote_nl(l, e, &w, wide)) >= e)
        return false;
    /* each is a '"' or a '\n', so all are '"' when their bytes' AND is
     * (0x22 & 0x0a is neither): no '\n' before the fifth */
    if ((l[q[0]] & l[q[1]] & l[q[2]] & l[q[3]] & l[k]) != '"')
        return false;
    if (e - k >= 2 && l[k + 1] == '\n')
        *nl = k + 1;
    else if (e - k >= 3 && l[k + 1] == '\r' && l[k + 2] == '\n')
        *nl = k + 2;
    else
        return false;
    return true;
}

static bool
quotes_narrow(const char *l, size_t i, size_t e, size_t *q)
{
    return five_quotes(l, i, e, q, false);
}

static bool
lines_narrow(const char *l, size_t i, size_t e, size_t *q, size_t *nl)
{
    return five_quotes_nl(l, i, e, q, nl, false);
}

#ifdef RET_SCAN_WIDE
/* A user agent is mostly 60 to 150 bytes: half the looks. */
__attribute__((target("avx2"))) static bool
quotes_wide(const char *l, size_t i, size_t e, size_t *q)
{
    return five_quotes(l, i, e, q, true);
}

__attribute__((target("avx2"))) static bool
lines_wide(const char *l, size_t i, size_t e, size_t *q, size_t *nl)
{
    return five_quotes_nl(l, i, e, q, nl, true);
}
#endif
#else
static bool
quotes_narrow(const char *l, size_t i, size_t e, size_t *q)
{
    unsigned n;

    for (n = 0; n < 4; n++, i++)
        if ((q[n] = i = index_of(l, i, e, '"')) == e)
            return false;
    return index_of(l, i, e, '"') == e - 1;
}

/* Without SSE2 the caller finds the line's end first (memchr). */
static bool
lines_narrow(const char *l, size_t i, size_t e, size_t *q, size_t *nl)
{
    (void)l;
    (void)i;
    (void)e;
    (void)q;
    (void)nl;
    return false;
}
#endif

#ifndef RET_SCAN_WIDE
/* No AVX2 variant here: ps->wide is never set. */
#define quotes_wide quotes_narrow
#define lines_wide lines_narrow
#endif

/* The client's end when it is one token of no byte below '-' (no list
 * separator of list_sep_tab, no quote, no space) within the line's first
 * 32 bytes (e >= 32): the first byte below '-' (or above 0x7f), when it
 * is a space. Otherwise 32 (a longer token or a list: the general way). */
static inline size_t
client_end(const char *l)
{
#ifdef __SSE2__
    const __m128i dash = _mm_set1_epi8('-');
    uint32_t m = (uint32_t)_mm_movemask_epi8(_mm_cmplt_epi8(
                     _mm_loadu_si128((const __m128i *)(const void *)l),
                     dash)) |
                 (uint32_t)_mm_movemask_epi8(_mm_cmplt_epi8(
                     _mm_loadu_si128((const __m128i *)(const void *)(l + 16)),
                     dash))
                     << 16;
    size_t k = m != 0 ? (size_t)__builtin_ctz(m) : 32;

    return k < 32 && l[k] == ' ' ? k : 32;
#else
    (void)l;
    return 32;
#endif
}

/* Is p[0..30) "[" the last CLF time's day, a time of day, its zone and
 * "] \"" (time_clf_cached's cache hit, with the bracket around it)? Two
 * compares of sixteen bytes with the template instead of the ']' search
 * and the byte compares. False when unsure: the caller asks the long way. */
static inline bool
clf_bracket_cached(const ret_parser *ps, const char *p)
{
#ifdef __SSE2__
    /* all but the six digits of hh:mm:ss and the two bytes after '"' */
    const uint32_t want =
        ~((3u << 13) | (3u << 16) | (3u << 19) | (3u << 30));
    const char *t = ps->clf_tmpl;
    uint32_t m;

    if (!ps->clf_tmpl_ok)
        return false;
    m = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(
            _mm_loadu_si128((const __m128i *)(const void *)p),
            _mm_loadu_si128((const __m128i *)(const void *)t))) |
        (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(
            _mm_loadu_si128((const __m128i *)(const void *)(p + 16)),
            _mm_loadu_si128((const __m128i *)(const void *)(t + 16))))
            << 16;
    return (m & want) == want && clf_tod_ok(p + 13);
#else
    (void)ps;
    (void)p;
    return false;
#endif
}

/* No '\n' in l[i..j) (the short fields before the time, mostly "-")? */
static inline bool
no_nl(const char *l, size_t i, size_t j)
{
    if (j - i > 8)
        return ret__find_byte(l + i, l + j, '\n') == NULL;
    for (; i < j; i++)
        if (l[i] == '\n')
            return false;
    return true;
}

/*
 * A combined line as most are written, in the RET_PARSE_ADDRESSES scope:
 * the client one token not after a quote, the time Apache's 26 bytes,
 * the quoted fields ended by their first '"' and nothing after the user
 * agent. Each step finds the end scan_item finds for such a line, and
 * the checks that can fail a line are the same (the time, status and
 * bytes); the addresses are stored as the same calls store them, and
 * nothing else is. False for any other line, which scan_combined then
 * reads whole: this only decides sooner where the line is the usual one.
 *
 * With to_nl, l[0..e) is a block of lines and the line is the one that
 * starts it: its first '\n' ends it (in *nl). The steps before the
 * quotes then find what they find in the line alone when no '\n' lies
 * in what they step over: the client (client_end stops at a '\n'; the
 * general way is checked), %l and %u (checked) and the bracket (the
 * template has none; the long way is checked); the walk of the quotes
 * stops at the first one.
 */
static inline __attribute__((always_inline)) bool
quick_body(ret_parser *ps, const char *l, size_t e, bool to_nl, size_t *nl)
{
    ret_record *r = &ps->rec;
    size_t c0, c1, c2, b, q[5];
    bool one;
    int64_t v;
    int32_t o;

    /* shorter than any such line; the searches below read 32 bytes */
    if (e < 32)
        return false;
    c0 = client_end(l);
    one = c0 < 32;
    if (!one) {
        if (l[0] == '"')
            return false;
        c0 = index_of(l, 0, e, ' ');
    }
    if (c0 == 0 || c0 == e || l[c0 - 1] == ',')
        return false;
    c1 = space_after(l, c0 + 1, e);
    c2 = c1 < e ? space_after(l, c1 + 1, e) : e;
    /* "[dd/Mon/yyyy:hh:mm:ss +hhmm] \"" after the user */
    if (e - c2 < 33)
        return false;
    if (to_nl && (one && c1 == c0 + 2 && c2 == c1 + 2
                      ? l[c0 + 1] == '\n' || l[c1 + 1] == '\n'
                      : !no_nl(l, one ? c0 + 1 : 0, c2)))
        return false;
    if (!clf_bracket_cached(ps, l + c2 + 1) &&
        (l[c2 + 1] != '[' || index_of(l, c2 + 2, c2 + 29, ']') != c2 + 28 ||
         l[c2 + 29] != ' ' || l[c2 + 30] != '"' ||
         (to_nl && !no_nl(l, c2 + 2, c2 + 28)) ||
         !time_clf_cached(ps, l + c2 + 2, 26, &v, &o)))
        return false;
    /* five quotes: the request's end, the referer's two, the user
     * agent's two, the last ending the line */
    if (to_nl) {
        if (!(ps->wide ? lines_wide(l, c2 + 31, e, q, nl)
                       : lines_narrow(l, c2 + 31, e, q, nl)))
            return false;
        e = q[4] + 1; /* what ret_parser_parse keeps of the line */
    } else if (!(ps->wide ? quotes_wide(l, c2 + 31, e, q)
                          : quotes_narrow(l, c2 + 31, e, q))) {
        return false;
    }
    if (l[e - 2] == '\\' || l[q[0] - 1] == '\\' || l[q[2] - 1] == '\\')
        return false;
    /* "\" " then status, ' ', bytes, " \"" (digits or '-': no space or
     * quote in them) */
    b = q[1] - 1;
    if (b < q[0] + 7 || l[q[0] + 1] != ' ' || l[q[0] + 5] != ' ' ||
        l[b] != ' ' || (unsigned)(unsigned char)l[q[0] + 2] - '1' > 8 ||
        (unsigned)(unsigned char)l[q[0] + 3] - '0' > 9 ||
        (unsigned)(unsigned char)l[q[0] + 4] - '0' > 9 ||
        (!(b - q[0] - 6 == 1 && l[q[0] + 6] == '-') &&
         !uint_ok_back(l + q[0] + 6, b - q[0] - 6))) /* q[0] > 8 */
        return false;
    /* the referer, "\" \"" */
    if (l[q[2] + 1] != ' ' || q[3] != q[2] + 2)
        return false;
    rec_reset(r, l, e, false);
    if (!one)
        ret__rec_addr_list(r, 0, c0, RET_ADDR_CLIENT);
    else if (!(c0 == 1 && l[0] == ':'))
        add_addr(r, 0, c0, RET_ADDR_CLIENT); /* ret__rec_addr_list's span */
    if (c1 - c0 - 1 > 6) /* what rec_store does with %l */
        ret__rec_scan_addrs(r, c0 + 1, c1 - c0 - 1);
    /* sorted already: the client's addresses come before %l's */
    return true;
}

static bool
quick_combined(ret_parser *ps, const char *l, size_t e)
{
    return quick_body(ps, l, e, false, NULL);
}

/* quick_combined of the line that starts l[0..e), a block of lines;
 * *nl the index of its '\n'. */
static bool
quick_line(ret_parser *ps, const char *l, size_t e, size_t *nl)
{
    return quick_body(ps, l, e, true, nl);
}

static ret_status
scan_combined(ret_parser *ps, const char *line, size_t len, ret_error *err)
{
    struct scan st;

    if (ps->rec.addr_only && quick_combined(ps, line, len))
        return RET_OK;
    scan_start(ps, line, len, &st);
    SCAN(0) SCAN(1) SCAN(2) SCAN(3) SCAN(4) SCAN(5) SCAN(6) SCAN(7)
    SCAN(8) SCAN(9) SCAN(10) SCAN(11) SCAN(12) SCAN(13) SCAN(14) SCAN(15)
    SCAN(16)
    return scan_end(ps, line, len, false, &st, err);
}

#undef SCAN

/* ---- parsers ----------------------------------------------------------- */

static ret_status parser_init(ret_parser *p, const ret_format *f,
                              ret_error *err);
static void parser_clear(ret_parser *p);

ret_status
ret_parser_new(const ret_format *f, ret_parser **out, ret_error *err)
{
    ret_parser *p;
    ret_status st;

    if (f == NULL || out == NULL)
        return ret__fail(err, RET_E_INVAL, "no format given");
    if ((p = ret__calloc_lines(1, sizeof(*p))) == NULL)
        return ret__fail(err, RET_E_NOMEM, "out of memory");
    if ((st = parser_init(p, f, err)) != RET_OK) {
        ret_parser_free(p);
        return st;
    }
    *out = p;
    return RET_OK;
}

static ret_status
parser_init(ret_parser *p, const ret_format *f, ret_error *err)
{
    ret_status st = RET_OK;
    size_t i;

    p->fmt = f;
    p->chosen = -1;
#ifdef RET_SCAN_WIDE
    __builtin_cpu_init();
    p->wide = __builtin_cpu_supports("avx2") != 0;
#endif
    p->combined = same_items(f, combined_items, NCOMBINED);
    if (f->kind == FMT_REGEX)
        return ret__regex_parser_init(p, err);
    if (f->kind != FMT_AUTO)
        return RET_OK;
    for (i = 0; i < NAUTO; i++) {
        if ((st = ret_format_compile(auto_order[i], &p->cand[i], err)) !=
                RET_OK ||
            (st = ret_parser_new(p->cand[i], &p->sub[i], err)) != RET_OK)
            return st;
        p->ncand++;
    }
    return RET_OK;
}

static void
parser_clear(ret_parser *p)
{
    unsigned i;

    for (i = 0; i < p->ncand; i++) {
        ret_parser_free(p->sub[i]);
        ret_format_free(p->cand[i]);
    }
    p->ncand = 0;
    if (p->fmt && p->fmt->kind == FMT_REGEX)
        ret__regex_parser_free(p);
}

/*
 * A new parser that reads lines as p reads them now, for another thread:
 * p's own format, or the one an auto parser has settled on. Only formats
 * that carry nothing from one line to the next can be forked: W3C (its
 * #Fields header) and an auto parser still detecting cannot. The fork
 * uses p's compiled format and must be freed before p.
 */
void
ret__parser_set_generic(ret_parser *p)
{
    p->combined = false;
}

bool
ret__parser_set_wide(ret_parser *p, bool on)
{
    unsigned i;

#ifdef RET_SCAN_WIDE
    p->wide = on && __builtin_cpu_supports("avx2") != 0;
#else
    (void)on;
#endif
    for (i = 0; i < p->ncand; i++)
        ret__parser_set_wide(p->sub[i], on);
    return p->wide;
}

bool
ret__parser_specialized(const ret_parser *p)
{
    if (p->fmt->kind == FMT_AUTO)
        return p->locked && p->chosen >= 0 && p->sub[p->chosen]->combined;
    return p->combined;
}

ret_status
ret__parser_fork(const ret_parser *p, ret_parser **out, ret_error *err)
{
    const ret_parser *src = p;
    ret_status st;

    if (p == NULL || out == NULL)
        return ret__fail(err, RET_E_INVAL, "ret__parser_fork: NULL");
    if (p->fmt->kind == FMT_AUTO) {
        if (!p->locked || p->chosen < 0)
            return ret__fail(err, RET_E_INVAL, "format still being detected");
        src = p->sub[p->chosen];
    }
    if ((st = ret_parser_new(src->fmt, out, err)) != RET_OK)
        return st;
    (*out)->rec.addr_only = src->rec.addr_only;
    ret__parser_copy_state(*out, src);
    return RET_OK;
}

/* The parser that reads p's lines: an auto parser's chosen one. */
static const ret_parser *
reading(const ret_parser *p)
{
    return p->fmt->kind == FMT_AUTO && p->chosen >= 0 ? p->sub[p->chosen] : p;
}

bool
ret__parser_keeps_state(const ret_parser *p)
{
    return reading(p)->fmt->kind == FMT_W3C;
}

void
ret__parser_copy_state(ret_parser *dst, const ret_parser *src)
{
    /* a W3C parser's directives; the other formats' state (the last CLF
     * day) is a cache that each parser fills itself */
    dst->w3c = reading(src)->w3c;
}

void
ret_parser_set_scope(ret_parser *p, ret_parse_scope scope)
{
    unsigned i;

    if (p == NULL)
        return;
    p->rec.addr_only = scope == RET_PARSE_ADDRESSES;
    for (i = 0; i < p->ncand; i++)
        ret_parser_set_scope(p->sub[i], scope);
}

void
ret_parser_free(ret_parser *p)
{
    if (p == NULL)
        return;
    parser_clear(p);
    free(p);
}

const char *
ret_parser_format_name(const ret_parser *p)
{
    if (p == NULL)
        return NULL;
    if (p->fmt->kind == FMT_AUTO)
        return p->chosen >= 0 ? p->cand[p->chosen]->name : NULL;
    return p->fmt->name;
}

static bool
blank(const char *l, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (l[i] != ' ' && l[i] != '\t')
            return false;
    return true;
}

static ret_status parse_one(ret_parser *p, const char *line, size_t len,
                            ret_error *err);

static ret_status
parse_auto(ret_parser *p, const char *line, size_t len, ret_error *err)
{
    ret_status st[RET__AUTO_MAX];
    ret_error e[RET__AUTO_MAX];
    unsigned i;
    int best = -1;

    if (p->locked)
        return parse_one(p->sub[p->chosen], line, len, err);
    if (blank(line, len))
        return RET_EOF;
    p->seen++;
    for (i = 0; i < p->ncand; i++) {
        e[i].message[0] = '\0';
        st[i] = parse_one(p->sub[i], line, len, &e[i]);
        if (st[i] == RET_OK) /* a line read whole counts more */
            p->score[i] += p->sub[i]->partial ? 1 : 2;
        else if (st[i] == RET_EOF && p->cand[i]->kind == FMT_W3C &&
                 (p->sub[i]->w3c.have_fields ||
                  p->sub[i]->w3c.seen_header)) {
            /* a #Fields: or #Software: header settles it */
            p->chosen = (int)i;
            p->locked = true;
            return RET_EOF;
        }
    }
    for (i = 0; i < p->ncand; i++)
        if (p->score[i] > 0 && (best < 0 || p->score[i] > p->score[best]))
            best = (int)i;
    if (best < 0) {
        if (line[0] == '#')
            return RET_EOF;
        return ret__parse_fail(err, "format", 1);
    }
    p->chosen = best;
    if (p->seen >= AUTO_LINES)
        p->locked = true;
    /* the leader's own record (in its sub-parser) or error is the answer */
    if (st[best] != RET_OK && st[best] != RET_EOF && err != NULL)
        *err = e[best];
    return st[best];
}

static ret_status
parse_one(ret_parser *p, const char *line, size_t len, ret_error *err)
{
    p->partial = false;
    switch (p->fmt->kind) {
    case FMT_FIELDS:
        if (len == 0)
            return RET_EOF;
        if (line[0] == '#' &&
            !(p->fmt->items[0].lit && p->fmt->items[0].s[0] == '#'))
            return RET_EOF; /* a comment */
        if (blank(line, len))
            return RET_EOF;
        return p->combined ? scan_combined(p, line, len, err)
                           : scan_fields(p, line, len, err);
    case FMT_JSON:
        return ret__json_parse(p, line, len, err);
    case FMT_W3C:
        return ret__w3c_parse(p, line, len, err);
    case FMT_HAPROXY:
        return ret__haproxy_parse(p, line, len, err);
    case FMT_ELB:
    case FMT_ALB:
        return ret__aws_parse(p, line, len, p->fmt->kind == FMT_ALB, err);
    case FMT_REGEX:
        if (len == 0 || blank(line, len))
            return RET_EOF;
        return ret__regex_parse(p, line, len, err);
    case FMT_AUTO:
        return parse_auto(p, line, len, err);
    }
    return ret__fail(err, RET_E_INVAL, "bad parser");
}

ret_status
ret_parser_parse(ret_parser *p, const char *line, size_t len,
                 const ret_record **rec, ret_error *err)
{
    ret_status st;

    if (p == NULL || (line == NULL && len > 0) || rec == NULL)
        return ret__fail(err, RET_E_INVAL, "invalid argument");
    if (len > UINT32_MAX)
        return ret__parse_fail(err, "long", 1);
    if (len > 0 && line[len - 1] == '\n')
        len--;
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len == 0)
        return RET_EOF;
    if (p->combined) {
        /* parse_one's way for this format, without its dispatch: most
         * lines are read here (combined's first item is a field, so '#'
         * starts a comment) */
        p->partial = false;
        if (line[0] == '#' || blank(line, len))
            return RET_EOF;
        if ((st = scan_combined(p, line, len, err)) == RET_OK)
            *rec = &p->rec;
        return st;
    }
    st = parse_one(p, line, len, err);
    if (st != RET_OK)
        return st;
    if (p->fmt->kind == FMT_AUTO)
        *rec = &p->sub[p->chosen]->rec;
    else
        *rec = &p->rec;
    return RET_OK;
}

ret_status
ret__parser_parse_next(ret_parser *p, const char *line, const char *end,
                       size_t *len, const ret_record **rec, ret_error *err)
{
    const char *nl;
    size_t n;

    /* ret_parser_parse's way for a combined line ending in "\"\n" (or
     * "\"\r\n"): not a comment nor blank, and what it keeps of the line
     * is what quick_line read */
    if (p->combined && p->rec.addr_only && line[0] != '#' &&
        quick_line(p, line, (size_t)(end - line), &n) && n < UINT32_MAX) {
        p->partial = false;
        *len = n + 1;
        *rec = &p->rec;
        return RET_OK;
    }
    nl = memchr(line, '\n', (size_t)(end - line));
    *len = nl != NULL ? (size_t)(nl - line) + 1 : (size_t)(end - line);
    return ret_parser_parse(p, line, *len, rec, err);
}

/* ---- record accessors ---------------------------------------------- */

int
ret_record_field(const ret_record *r, ret_field field, const char **p,
                 size_t *n)
{
    if (r == NULL || (unsigned)field >= RET_F__COUNT ||
        r->f[field].p == NULL)
        return 0;
    if (p)
        *p = r->f[field].p;
    if (n)
        *n = r->f[field].n;
    return 1;
}

int
ret_record_time(const ret_record *r, int64_t *utc, int32_t *offset)
{
    if (r == NULL || !r->has_time)
        return 0;
    if (utc)
        *utc = r->time;
    if (offset)
        *offset = r->utc_offset;
    return 1;
}

int
ret_record_status(const ret_record *r)
{
    return r ? r->status : 0;
}

int64_t
ret_record_bytes(const ret_record *r)
{
    return r ? r->bytes : -1;
}

size_t
ret_record_address_count(const ret_record *r)
{
    return r ? r->naddr : 0;
}

int
ret_record_address(const ret_record *r, size_t i, size_t *offset, size_t *len,
                   ret_addr_kind *kind)
{
    if (r == NULL || i >= r->naddr)
        return 0;
    if (offset)
        *offset = r->addr[i].off;
    if (len)
        *len = r->addr[i].len;
    if (kind)
        *kind = r->addr[i].kind;
    return 1;
}
