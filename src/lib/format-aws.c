/*
 * format-aws.c - the access logs of AWS load balancers, one request a
 * line, fields separated by single spaces, some of them quoted:
 *
 * elb, the Classic Load Balancer:
 *   time elb client:port backend:port request_processing_time
 *   backend_processing_time response_processing_time elb_status_code
 *   backend_status_code received_bytes sent_bytes "request" "user_agent"
 *   ssl_cipher ssl_protocol
 *
 * alb, the Application Load Balancer: its type (http, https, h2, ws...)
 * in front, the same fields up to ssl_protocol (target for backend), then
 *   target_group_arn "trace_id" "domain_name" "chosen_cert_arn"
 *   matched_rule_priority request_creation_time "actions_executed"
 *   "redirect_url" "error_reason" "target:port_list"
 *   "target_status_code_list" "classification" "classification_reason"
 *   conn_trace_id ...
 * of which each version of the format writes a prefix; AWS appends new
 * fields at the end ("ignore any fields you do not expect"), so any
 * number of them is read and what follows them is scanned for
 * addresses.
 *
 * A backend, target or status is "-" when there is none, a processing
 * time -1. The request is "GET https://host:443/path?q HTTP/1.1": the
 * path is that of the URL, the host its virtual host; "- - - " for a TCP
 * connection. The time is UTC (ISO 8601, "Z").
 */
#include "format-int.h"

#include <string.h>

struct tok {
    size_t s, n;
    bool quoted;
};

/* The field at *i: a bare token up to the next space, or a quoted one up
 * to the first unescaped '"' followed by a space or the end of the line.
 * 1 with *t set and *i after the space, 0 at the end of the line, -1 on
 * an unterminated quote. */
static int
next_tok(const char *l, size_t e, size_t *i, struct tok *t)
{
    size_t p = *i, k;
    const char *q;

    if (p >= e)
        return 0;
    if (l[p] != '"') {
        q = memchr(l + p, ' ', e - p);
        k = q ? (size_t)(q - l) : e;
        t->s = p;
        t->n = k - p;
        t->quoted = false;
        *i = q ? k + 1 : e;
        return 1;
    }
    for (k = p + 1;;) {
        size_t j, bs = 0;

        if ((q = memchr(l + k, '"', e - k)) == NULL)
            return -1;
        j = (size_t)(q - l);
        while (j - bs > p + 1 && l[j - bs - 1] == '\\')
            bs++;
        if (bs % 2 == 0 && (j + 1 == e || l[j + 1] == ' ')) {
            t->s = p + 1;
            t->n = j - p - 1;
            t->quoted = true;
            *i = j + 1 < e ? j + 2 : e;
            return 1;
        }
        k = j + 1;
    }
}

static bool
is_dash(const char *l, const struct tok *t)
{
    return t->n == 1 && l[t->s] == '-';
}

/* An address with a port: hex digits, '.', ':', brackets, a zone. */
static bool
addr_port(const char *l, const struct tok *t)
{
    size_t i;
    bool colon = false;

    if (t->n < 3 || t->quoted)
        return false;
    for (i = t->s; i < t->s + t->n; i++) {
        char c = l[i];

        if (c == ':')
            colon = true;
        else if (!((c >= '0' && c <= '9') ||
                   ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') || c == '.' ||
                   c == '[' || c == ']' || c == '%'))
            return false;
    }
    return colon;
}

/* A processing time: seconds with a fraction, or -1. */
static bool
seconds(const char *l, const struct tok *t)
{
    size_t i = t->s, e = t->s + t->n, digits = 0;

    if (t->quoted)
        return false;
    if (i < e && l[i] == '-')
        i++;
    for (; i < e; i++) {
        if (l[i] >= '0' && l[i] <= '9')
            digits++;
        else if (l[i] != '.')
            return false;
    }
    return digits > 0;
}

/* Three digits or "-". */
static bool
status_ok(const char *l, const struct tok *t)
{
    const char *p = l + t->s;

    if (t->quoted)
        return false;
    if (is_dash(l, t))
        return true;
    return t->n == 3 && p[0] >= '1' && p[0] <= '9' && p[1] >= '0' &&
           p[1] <= '9' && p[2] >= '0' && p[2] <= '9';
}

static bool
digits_ok(const char *l, const struct tok *t)
{
    size_t i;

    if (t->quoted || t->n == 0)
        return false;
    if (is_dash(l, t))
        return true;
    for (i = t->s; i < t->s + t->n; i++)
        if (l[i] < '0' || l[i] > '9')
            return false;
    return true;
}

/* The ALB type: a short lower-case word (http, https, h2, grpcs, ws,
 * wss; AWS says to expect others). */
static bool
type_ok(const char *l, const struct tok *t)
{
    size_t i;

    if (t->quoted || t->n == 0 || t->n > 8)
        return false;
    for (i = t->s; i < t->s + t->n; i++)
        if (!((l[i] >= 'a' && l[i] <= 'z') ||
              (l[i] >= '0' && l[i] <= '9')))
            return false;
    return l[t->s] >= 'a' && l[t->s] <= 'z';
}

/*
 * "GET https://www.example.com:443/p?q HTTP/1.1": split as any request,
 * which takes the path and query of the URL and its host as the virtual
 * host (split_absolute in format.c).
 */
static void
request(ret_record *r, struct ret__fill *fl, const struct tok *t)
{
    const char *l = r->line, *p = l + t->s;

    if (t->n == 0 || is_dash(l, t) ||
        (t->n >= 2 && p[0] == '-' && p[1] == ' '))
        return; /* "- - - ": a TCP connection, no request */
    ret__rec_store(r, fl, FK_REQUEST, 0, NULL, 0, t->s, t->n);
}

ret_status
ret__aws_parse(ret_parser *p, const char *line, size_t len, bool alb,
               ret_error *err)
{
    ret_record *r = &p->rec;
    const char *l = line;
    struct ret__fill fl;
    struct tok t[17];
    size_t i = 0, e = len;
    unsigned k, nt = alb ? 17 : 15, first;
    int got;

    while (e > 0 && (l[e - 1] == ' ' || l[e - 1] == '\t'))
        e--;
    if (e == 0 || l[0] == '#')
        return RET_EOF;
    /* [type] time ... ssl_protocol [target_group_arn]; an ELB line of
     * before 2014 ends after the request */
    for (k = 0; k < nt; k++) {
        if ((got = next_tok(l, e, &i, &t[k])) < 0)
            return ret__parse_fail(err, "quote", i + 1);
        if (got == 0)
            break;
    }
    first = alb ? 1 : 0;
    if (k < nt && !(!alb && k == 12))
        return ret__parse_fail(err, "fields", i + 1);
    if (alb && !type_ok(l, &t[0]))
        return ret__parse_fail(err, "fields", 1);
    /* t[first + n]: 0 time, 1 elb, 2 client, 3 backend, 4-6 times,
     * 7 elb status, 8 backend status, 9 received, 10 sent, 11 request,
     * 12 user agent, 13 cipher, 14 protocol */
    if (t[first + 1].quoted || t[first + 1].n == 0 ||
        !addr_port(l, &t[first + 2]))
        return ret__parse_fail(err, "fields", t[first + 1].s + 1);
    if (!is_dash(l, &t[first + 3]) && !addr_port(l, &t[first + 3]))
        return ret__parse_fail(err, "fields", t[first + 3].s + 1);
    if (!seconds(l, &t[first + 4]) || !seconds(l, &t[first + 5]) ||
        !seconds(l, &t[first + 6]))
        return ret__parse_fail(err, "fields", t[first + 4].s + 1);
    if (!status_ok(l, &t[first + 7]))
        return ret__parse_fail(err, "status", t[first + 7].s + 1);
    if (!status_ok(l, &t[first + 8]) || !digits_ok(l, &t[first + 9]) ||
        !digits_ok(l, &t[first + 10]))
        return ret__parse_fail(err, "fields", t[first + 8].s + 1);
    if (!t[first + 11].quoted ||
        (k > first + 12 && !t[first + 12].quoted))
        return ret__parse_fail(err, "quote", t[first + 11].s);
    memset(&fl, 0, sizeof(fl));
    ret__rec_reset(r, line, len);
    if (t[first].quoted ||
        !ret__rec_store(r, &fl, FK_TIME_ISO, 0, NULL, 0, t[first].s,
                        t[first].n) ||
        !r->has_time)
        return ret__parse_fail(err, "time", t[first].s + 1);
    ret__rec_store(r, &fl, FK_CLIENT, 0, NULL, 0, t[first + 2].s,
                   t[first + 2].n);
    ret__rec_store(r, &fl, FK_ADDR, 0, NULL, 0, t[first + 3].s,
                   t[first + 3].n);
    /* the backend's (target's) processing time; -1 when it has none */
    if (l[t[first + 5].s] != '-')
        ret__rec_store(r, &fl, FK_DUR_S, 0, NULL, 0, t[first + 5].s,
                       t[first + 5].n);
    ret__rec_store(r, &fl, FK_STATUS, 0, NULL, 0, t[first + 7].s,
                   t[first + 7].n);
    ret__rec_store(r, &fl, FK_BYTES, 0, NULL, 0, t[first + 10].s,
                   t[first + 10].n);
    request(r, &fl, &t[first + 11]);
    if (k > first + 12)
        ret__rec_store(r, &fl, FK_UA, 0, NULL, 0, t[first + 12].s,
                       t[first + 12].n);
    if (alb && i < e) {
        /* the fields after target_group_arn, as far as the line has
         * them: 0 "trace_id" 1 "domain_name" 2 "chosen_cert_arn"
         * 3 matched_rule_priority 4 request_creation_time
         * 5 "actions_executed" 6 "redirect_url" 7 "error_reason"
         * 8 "target:port_list" ... */
        struct tok x;

        for (k = 0; (got = next_tok(l, e, &i, &x)) > 0; k++) {
            if (k == 1 && x.quoted && !is_dash(l, &x))
                ret__rec_store(r, &fl, FK_VHOST, 0, NULL, 0, x.s, x.n);
            else if (k == 8 && x.quoted)
                ret__rec_store(r, &fl, FK_ADDR, 0, NULL, 0, x.s, x.n);
            else if (k == 6 || k == 7 || k > 12)
                /* a URL, a reason, a field we do not know: its
                 * addresses are listed (masked: fail closed) */
                ret__rec_store(r, &fl, FK_IGNORE, 0, NULL, 0, x.s, x.n);
        }
        if (got < 0) {
            /* an unterminated quote: the rest is scanned */
            ret__rec_scan_addrs(r, i, e - i);
            p->partial = true;
        }
    } else if (i < e) {
        /* more than the format */
        ret__rec_scan_addrs(r, i, e - i);
        p->partial = true;
    }
    ret__rec_sort_addrs(r);
    return RET_OK;
}
