/*
 * format-haproxy.c - the HAProxy HTTP log (option httplog), with or
 * without a syslog prefix:
 *
 *   Feb  6 12:14:14 host haproxy[14389]: 10.0.1.2:33317
 *   [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750
 *   - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1"
 *
 * The accept date has no UTC offset: it is taken as UTC. Captured request
 * headers ({a|b|c}) are matched by their look: an address list is an
 * X-Forwarded-For, a value with "Mozilla/" or "/" and a space a user
 * agent, the first plain name the host.
 */
#include "format-int.h"

#include <string.h>

static bool
timers(const char *s, size_t n)
{
    size_t i, slashes = 0;

    for (i = 0; i < n; i++) {
        if (s[i] == '/')
            slashes++;
        else if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
                   s[i] == '+'))
            return false;
    }
    return slashes == 4;
}

static size_t
token_end(const char *l, size_t i, size_t e)
{
    const char *sp = memchr(l + i, ' ', e - i);

    return sp ? (size_t)(sp - l) : e;
}

static bool
ip_list_chars(const char *s, size_t n)
{
    size_t i, seps = 0;

    if (n == 0)
        return false;
    for (i = 0; i < n; i++) {
        char c = s[i];

        if (c == '.' || c == ':')
            seps++;
        else if (!((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' &&
                   (c | 0x20) <= 'f') || c == ',' || c == ' ' || c == '[' ||
                   c == ']'))
            return false;
    }
    return seps >= 2;
}

static void
captures(ret_record *r, struct ret__fill *fl, size_t off, size_t n)
{
    const char *l = r->line;
    size_t i = off, e = off + n;

    while (i <= e) {
        const char *bar = memchr(l + i, '|', e - i);
        size_t s = i, ve = bar ? (size_t)(bar - l) : e;
        const char *v = l + s;
        size_t vn = ve - s;

        if (vn > 0) {
            if (ip_list_chars(v, vn))
                ret__rec_store(r, fl, FK_XFF, 0, NULL, 0, s, vn);
            else if ((vn >= 8 && memmem(v, vn, "Mozilla/", 8)) ||
                     (memchr(v, '/', vn) && memchr(v, ' ', vn)))
                ret__rec_store(r, fl, FK_UA, 0, NULL, 0, s, vn);
            else if (!memchr(v, ' ', vn) && !memchr(v, '/', vn))
                ret__rec_store(r, fl, FK_VHOST, 0, NULL, 0, s, vn);
        }
        if (bar == NULL)
            break;
        i = ve + 1;
    }
}

ret_status
ret__haproxy_parse(ret_parser *p, const char *line, size_t len,
                   ret_error *err)
{
    ret_record *r = &p->rec;
    struct ret__fill fl;
    const char *l = line;
    size_t i = 0, cs = 0, ce = 0, ts, te, e = len, t, q1, q2;
    int k;

    /* the client: the token before " [dd/Mon/yyyy:" */
    for (;;) {
        const char *b = memchr(l + i, '[', e - i);

        if (b == NULL)
            return ret__parse_fail(err, "fields", 1);
        i = (size_t)(b - l);
        if (i > 0 && l[i - 1] == ' ' && e - i > 13 && l[i + 3] == '/' &&
            l[i + 7] == '/' && l[i + 12] == ':')
            break;
        i++;
    }
    ce = i - 1;
    cs = ce;
    while (cs > 0 && l[cs - 1] != ' ')
        cs--;
    if (cs == ce)
        return ret__parse_fail(err, "fields", i + 1);
    memset(&fl, 0, sizeof(fl));
    ret__rec_reset(r, line, len);
    ts = i + 1;
    {
        const char *rb = memchr(l + ts, ']', e - ts);

        if (rb == NULL)
            return ret__parse_fail(err, "fields", ts);
        te = (size_t)(rb - l);
    }
    /* client ip:port ("-:port" for a unix socket) */
    if (!(ce - cs >= 2 && l[cs] == '-' && l[cs + 1] == ':'))
        ret__rec_store(r, &fl, FK_CLIENT, 0, NULL, 0, cs, ce - cs);
    if (!ret__rec_store(r, &fl, FK_TIME_CLF, 0, NULL, 0, ts, te - ts))
        return ret__parse_fail(err, "time", ts + 1);
    /* frontend, backend/server, [extra...], timers */
    i = te + 1;
    for (k = 0; k < 8; k++) {
        while (i < e && l[i] == ' ')
            i++;
        t = token_end(l, i, e);
        if (k >= 2 && timers(l + i, t - i))
            break;
        if (i >= e)
            return ret__parse_fail(err, "fields", i + 1);
        i = t;
    }
    if (k == 8)
        return ret__parse_fail(err, "fields", i + 1);
    {
        /* the last timer is the total time, in milliseconds */
        const char *last = l + t;

        while (last > l + i && last[-1] != '/')
            last--;
        ret__rec_store(r, &fl, FK_DUR_MS, 0, NULL, 0, (size_t)(last - l),
                       (size_t)(l + t - last));
    }
    if (t >= e)
        return ret__parse_fail(err, "fields", t);
    i = t + 1;
    /* status */
    t = token_end(l, i, e);
    if (!ret__rec_store(r, &fl, FK_STATUS, 0, NULL, 0, i, t - i))
        return ret__parse_fail(err, "status", i + 1);
    i = t + 1;
    if (i >= e)
        return ret__parse_fail(err, "fields", i);
    t = token_end(l, i, e);
    if (l[i] == '+')
        i++;
    if (!ret__rec_store(r, &fl, FK_BYTES, 0, NULL, 0, i, t - i))
        return ret__parse_fail(err, "bytes", i + 1);
    i = t;
    /* request: the last quoted field, at the end of the line */
    while (e > i && (l[e - 1] == ' ' || l[e - 1] == '\t'))
        e--;
    if (e == i || l[e - 1] != '"')
        return ret__parse_fail(err, "quote", e);
    q2 = e - 1;
    {
        const char *brace_end = NULL;
        size_t j = i;
        const char *q;

        /* captured headers between the counters and the request */
        while (j < q2) {
            const char *ob = memchr(l + j, '{', q2 - j);
            const char *cb;

            q = memchr(l + j, '"', q2 - j);
            if (ob == NULL || (q != NULL && q < ob))
                break;
            cb = memchr(ob, '}', (size_t)(l + q2 - ob));
            if (cb == NULL)
                break;
            if (brace_end == NULL)
                captures(r, &fl, (size_t)(ob - l) + 1,
                         (size_t)(cb - ob) - 1);
            brace_end = cb;
            j = (size_t)(cb - l) + 1;
        }
        q = memchr(l + j, '"', q2 - j);
        if (q == NULL)
            return ret__parse_fail(err, "quote", j + 1);
        q1 = (size_t)(q - l);
    }
    ret__rec_store(r, &fl, FK_REQUEST, 0, NULL, 0, q1 + 1, q2 - q1 - 1);
    ret__rec_sort_addrs(r);
    return RET_OK;
}
