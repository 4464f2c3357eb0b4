/*
 * format-json.c - one JSON object a line: nginx (escape=json), Caddy
 * (nested request.{remote_ip,client_ip,headers}), Traefik (ClientAddr,
 * StartUTC, RequestMethod...), Cloudflare key names.
 *
 * A single pass over the object; string values are slices of the line
 * without their quotes (escapes not undone).
 */
#include "format-int.h"

#include <string.h>

#define JSON_DEPTH 32
#define JERR ((size_t)-1)

struct jctx {
    ret_record *r;
    struct ret__fill fl;
    const char *l;
    size_t e;
    bool any;   /* a record field was seen */
    bool time_bad; /* a time key held no time we read */
};

static const struct jkey {
    const char *name; /* lower case, '-' as '_' */
    enum ret__fk kind;
} jkeys[] = {
    {"remote_addr", FK_CLIENT},
    {"client_ip", FK_CLIENT},
    {"clienthost", FK_CLIENT},
    {"clientip", FK_CLIENT},
    {"remote_ip", FK_CLIENT},
    {"ip", FK_CLIENT},
    {"clientaddr", FK_ADDR},
    {"server_addr", FK_ADDR},
    {"upstream_addr", FK_ADDR},
    {"realip_remote_addr", FK_ADDR},
    {"time_local", FK_TIME},
    {"time_iso8601", FK_TIME},
    {"timestamp", FK_TIME},
    {"@timestamp", FK_TIME},
    {"ts", FK_TIME},
    {"startutc", FK_TIME},
    {"startlocal", FK_TIME},
    {"edgestarttimestamp", FK_TIME},
    {"msec", FK_TIME},
    {"time", FK_TIME},
    {"request", FK_REQUEST},
    {"request_method", FK_METHOD},
    {"method", FK_METHOD},
    {"requestmethod", FK_METHOD},
    {"clientrequestmethod", FK_METHOD},
    {"request_uri", FK_URI},
    {"uri", FK_URI},
    {"requestpath", FK_URI},
    {"clientrequesturi", FK_URI},
    {"server_protocol", FK_PROTOCOL},
    {"proto", FK_PROTOCOL},
    {"protocol", FK_PROTOCOL},
    {"requestprotocol", FK_PROTOCOL},
    {"clientrequestprotocol", FK_PROTOCOL},
    {"status", FK_STATUS},
    {"downstreamstatus", FK_STATUS},
    {"edgeresponsestatus", FK_STATUS},
    {"status_code", FK_STATUS},
    {"body_bytes_sent", FK_BYTES},
    {"size", FK_BYTES},
    {"length", FK_BYTES},
    {"downstreamcontentsize", FK_BYTES},
    {"edgeresponsebytes", FK_BYTES},
    {"bytes_sent", FK_BYTES_ALL},
    {"http_referer", FK_REFERER},
    {"http_referrer", FK_REFERER},
    {"referer", FK_REFERER},
    {"referrer", FK_REFERER},
    {"request_referer", FK_REFERER},
    {"clientrequestreferer", FK_REFERER},
    {"http_user_agent", FK_UA},
    {"user_agent", FK_UA},
    {"useragent", FK_UA},
    {"agent", FK_UA},
    {"request_user_agent", FK_UA},
    {"clientrequestuseragent", FK_UA},
    {"http_x_forwarded_for", FK_XFF},
    {"x_forwarded_for", FK_XFF},
    {"request_x_forwarded_for", FK_XFF},
    {"http_x_real_ip", FK_XFF},
    {"request_x_real_ip", FK_XFF},
    {"http_forwarded", FK_FORWARDED},
    {"host", FK_VHOST},
    {"http_host", FK_VHOST},
    {"server_name", FK_VHOST},
    {"requesthost", FK_VHOST},
    {"clientrequesthost", FK_VHOST},
    {"vhost", FK_VHOST},
    {"request_time", FK_DUR_S},
    {"duration", FK_DUR_S},
    {"generation_time_milli", FK_DUR_MS},
    {"remote_user", FK_USER},
    {"user_id", FK_USER},
    {"clientusername", FK_USER},
    {"user", FK_USER},
    {"http_dnt", FK_DNT},
    {"http_sec_gpc", FK_GPC},
    {"http_cookie", FK_COOKIE},
    {"remote_port", FK_PORT},
};

static bool
key_is(const char *k, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++) {
        char c = k[i];

        if (name[i] == '\0')
            return false;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        else if (c == '-')
            c = '_';
        if (c != name[i])
            return false;
    }
    return name[n] == '\0';
}

/* The kind of a key, given its parent's key (NULL at the top). */
static enum ret__fk
key_kind(const char *pk, size_t pn, const char *k, size_t n)
{
    size_t i;

    if (pk != NULL) {
        if (key_is(pk, pn, "headers"))
            return ret__header_kind(k, n);
        if (!key_is(pk, pn, "request") && !key_is(pk, pn, "http"))
            return FK_IGNORE;
    }
    if (n == 8 && memcmp(k, "Duration", 8) == 0) /* Traefik: ns */
        return FK_DUR_NS;
    for (i = 0; i < sizeof(jkeys) / sizeof(jkeys[0]); i++)
        if (key_is(k, n, jkeys[i].name))
            return jkeys[i].kind;
    return FK_IGNORE;
}

static inline size_t
skip_ws(const char *l, size_t i, size_t e)
{
    while (i < e && (l[i] == ' ' || l[i] == '\t' || l[i] == '\r' ||
                     l[i] == '\n'))
        i++;
    return i;
}

/* i at the opening quote; returns the index of the closing quote, or e. */
static size_t
string_end(const char *l, size_t i, size_t e)
{
    i++;
    while (i < e) {
        const char *q = memchr(l + i, '"', e - i);
        size_t k, bs = 0;

        if (q == NULL)
            return e;
        k = (size_t)(q - l);
        while (k - bs > i - 1 && l[k - bs - 1] == '\\')
            bs++;
        if (bs % 2 == 0)
            return k;
        i = k + 1;
    }
    return e;
}

static size_t value(struct jctx *c, size_t i, int depth, const char *pk,
                    size_t pn, const char *k, size_t kn);

static void
scalar(struct jctx *c, const char *pk, size_t pn, const char *k, size_t kn,
       size_t off, size_t n)
{
    enum ret__fk kind;

    if (k == NULL || n == 0) /* "": as good as absent */
        return;
    kind = key_kind(pk, pn, k, kn);
    if (kind == FK_IGNORE) {
        /* an address under a key we do not know is listed all the same */
        if (n > 6 && c->l[off - 1] == '"')
            ret__rec_store(c->r, &c->fl, FK_IGNORE, 0, NULL, 0, off, n);
        return;
    }
    if (kind == FK_CLIENT && c->r->f[RET_F_CLIENT].p != NULL &&
        (key_is(k, kn, "client_ip") || key_is(k, kn, "clientip")) &&
        !(n == 1 && c->l[off] == '-') && n > 0) {
        /* Caddy: client_ip is the client behind trusted proxies; the
         * peer (remote_ip) stays listed as an address */
        c->r->f[RET_F_CLIENT].p = NULL;
    }
    if (!ret__rec_store(c->r, &c->fl, kind, 0, NULL, 0, off, n)) {
        /* a value of a form we do not read ("status": "ok", a time in
         * another format) is skipped: another key may have it; a record
         * with no readable time at all fails below */
        if (kind == FK_TIME)
            c->time_bad = true;
        c->fl.reason = NULL;
        return;
    }
    if (kind != FK_PORT)
        c->any = true;
}

/* i at '{'; returns the index after '}', JERR on error. */
static size_t
object(struct jctx *c, size_t i, int depth, const char *pk, size_t pn)
{
    const char *l = c->l;
    size_t e = c->e;

    if (depth > JSON_DEPTH)
        return JERR;
    i = skip_ws(l, i + 1, e);
    if (i < e && l[i] == '}')
        return i + 1;
    while (i < e) {
        size_t ks, ke;

        if (l[i] != '"')
            return JERR;
        ks = i + 1;
        ke = string_end(l, i, e);
        if (ke >= e)
            return JERR;
        i = skip_ws(l, ke + 1, e);
        if (i >= e || l[i] != ':')
            return JERR;
        i = skip_ws(l, i + 1, e);
        i = value(c, i, depth + 1, pk, pn, l + ks, ke - ks);
        if (i == JERR)
            return JERR;
        i = skip_ws(l, i, e);
        if (i < e && l[i] == ',') {
            i = skip_ws(l, i + 1, e);
            continue;
        }
        if (i < e && l[i] == '}')
            return i + 1;
        return JERR;
    }
    return JERR;
}

static size_t
value(struct jctx *c, size_t i, int depth, const char *pk, size_t pn,
      const char *k, size_t kn)
{
    const char *l = c->l;
    size_t e = c->e, s;

    if (i >= e || depth > JSON_DEPTH)
        return JERR;
    switch (l[i]) {
    case '{':
        /* Caddy "request": {...}: its keys are looked up as top-level */
        return object(c, i, depth, k, kn);
    case '[': {
        bool first = true;

        i = skip_ws(l, i + 1, e);
        if (i < e && l[i] == ']')
            return i + 1;
        while (i < e) {
            /* request.headers {"User-Agent": ["..."]}: the first element
             * stands for the header */
            i = value(c, i, depth + 1, pk, pn, first ? k : NULL, kn);
            first = false;
            if (i == JERR)
                return JERR;
            i = skip_ws(l, i, e);
            if (i < e && l[i] == ',') {
                i = skip_ws(l, i + 1, e);
                continue;
            }
            if (i < e && l[i] == ']')
                return i + 1;
            return JERR;
        }
        return JERR;
    }
    case '"':
        s = string_end(l, i, e);
        if (s >= e)
            return JERR;
        scalar(c, pk, pn, k, kn, i + 1, s - i - 1);
        return s + 1;
    default:
        s = i;
        while (i < e && l[i] != ',' && l[i] != '}' && l[i] != ']' &&
               l[i] != ' ' && l[i] != '\t')
            i++;
        if (i == s)
            return JERR;
        if (!(i - s == 4 && memcmp(l + s, "null", 4) == 0))
            scalar(c, pk, pn, k, kn, s, i - s);
        return i;
    }
}

ret_status
ret__json_parse(ret_parser *p, const char *line, size_t len, ret_error *err)
{
    struct jctx c;
    const char *b;
    size_t i = 0, end;

    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i == len)
        return RET_EOF;
    if (line[i] != '{') {
        /* "caddy  | {...}": a prefix added by docker compose & co */
        if ((b = memchr(line + i, '{', len - i)) == NULL)
            return ret__parse_fail(err, "json", i + 1);
        i = (size_t)(b - line);
    }
    memset(&c, 0, sizeof(c));
    c.r = &p->rec;
    c.l = line;
    c.e = len;
    ret__rec_reset(c.r, line, len);
    end = object(&c, i, 0, NULL, 0);
    if (end == JERR)
        return ret__parse_fail(err, "json", i + 1);
    if (c.time_bad && !c.r->has_time)
        return ret__parse_fail(err, "time", i + 1);
    if (!c.any || (c.r->f[RET_F_CLIENT].p == NULL &&
                   c.r->f[RET_F_REQUEST].p == NULL &&
                   c.r->f[RET_F_PATH].p == NULL && c.r->status == 0))
        return ret__parse_fail(err, "fields", i + 1);
    if (!ret__rec_finish(c.r, &c.fl))
        return ret__parse_fail(err, c.fl.reason, i + 1);
    ret__rec_sort_addrs(c.r);
    return RET_OK;
}
