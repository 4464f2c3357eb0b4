/*
 * format-w3c.c - W3C extended log files (IIS and friends): the #Fields:
 * header names the columns; a file may hold several header blocks.
 * Records before any header use the IIS default field list.
 */
#include "format-int.h"

#include <string.h>

static const char iis_default[] =
    "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username "
    "c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus "
    "sc-win32-status time-taken";

static enum ret__fk
w3c_kind(const char *s, size_t n)
{
    static const struct {
        const char *name;
        enum ret__fk kind;
    } t[] = {
        {"date", FK_TIME_DATE},     {"time", FK_TIME_TOD},
        {"c-ip", FK_CLIENT},        {"src-ip", FK_CLIENT},
        {"s-ip", FK_ADDR},          {"dst-ip", FK_ADDR},
        {"cs-method", FK_METHOD},   {"cs-uri-stem", FK_PATH},
        {"cs-uri-query", FK_QUERY}, {"cs-uri", FK_URI},
        {"sc-status", FK_STATUS},   {"sc-bytes", FK_BYTES},
        {"time-taken", FK_DUR_MS},  {"cs-username", FK_USER},
        {"cs-version", FK_PROTOCOL}, {"cs-host", FK_VHOST},
        {"x-forwarded-for", FK_XFF}, {"c-port", FK_PORT},
        {"bytes", FK_BYTES},        {"c-dns", FK_CLIENT},
        {"c-auth-id", FK_USER},     {"date-local", FK_TIME_DATE},
        {"time-local", FK_TIME_TOD}, {"timetakenms", FK_DUR_MS},
    };
    size_t i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (strlen(t[i].name) == n && strncasecmp(t[i].name, s, n) == 0)
            return t[i].kind;
    if (n > 4 && strncasecmp(s, "cs(", 3) == 0 && s[n - 1] == ')') {
        enum ret__fk k = ret__header_kind(s + 3, n - 4);

        return k == FK_UA ? FK_UA_PLUS : k;
    }
    return FK_IGNORE;
}

static void
set_fields(struct ret__w3c *w, const char *s, size_t n)
{
    size_t i = 0;

    w->nf = 0;
    while (i < n && w->nf < RET__W3C_MAX) {
        size_t st;

        while (i < n && (s[i] == ' ' || s[i] == '\t'))
            i++;
        st = i;
        while (i < n && s[i] != ' ' && s[i] != '\t')
            i++;
        if (i > st)
            w->kind[w->nf++] = w3c_kind(s + st, i - st);
    }
}

static bool
header_is(const char *l, size_t len, const char *name, size_t *val)
{
    size_t n = strlen(name);

    if (len < n || strncasecmp(l, name, n) != 0)
        return false;
    *val = n;
    while (*val < len && (l[*val] == ' ' || l[*val] == '\t'))
        (*val)++;
    return true;
}

static ret_status
header(ret_parser *p, const char *l, size_t len)
{
    struct ret__w3c *w = &p->w3c;
    size_t v;

    if (header_is(l, len, "#Fields:", &v)) {
        set_fields(w, l + v, len - v);
        w->have_fields = true;
    } else if (header_is(l, len, "#Date:", &v)) {
        size_t e = v;

        while (e < len && l[e] != ' ' && l[e] != '\t')
            e++;
        w->have_date = ret__time_date(l + v, e - v, &w->date_days);
    } else if (header_is(l, len, "#GMT-Offset:", &v)) {
        int32_t off = 0;
        int64_t t;

        /* reuse the CLF offset reader on a made-up time */
        char buf[40];
        size_t n = len - v < 8 ? len - v : 8;

        memcpy(buf, "01/Jan/2000:00:00:00 ", 21);
        memcpy(buf + 21, l + v, n);
        while (n > 0 && (buf[21 + n - 1] == ' ' || buf[21 + n - 1] == '\r'))
            n--;
        w->have_gmt = ret__time_clf(buf, 21 + n, &t, &off);
        w->gmt_offset = off;
    } else if (header_is(l, len, "#Software:", &v) ||
               header_is(l, len, "#Version:", &v)) {
        w->seen_header = true;
    }
    return RET_EOF;
}

ret_status
ret__w3c_parse(ret_parser *p, const char *line, size_t len, ret_error *err)
{
    struct ret__w3c *w = &p->w3c;
    ret_record *r = &p->rec;
    struct ret__fill fl;
    size_t i = 0, col = 0;
    bool any = false;

    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i == len)
        return RET_EOF;
    if (line[i] == '#')
        return header(p, line + i, len - i);
    if (!w->have_fields && w->nf == 0)
        set_fields(w, iis_default, sizeof(iis_default) - 1);
    memset(&fl, 0, sizeof(fl));
    ret__rec_reset(r, line, len);
    while (i < len) {
        size_t s = i, vs, ve;

        if (line[i] == '"') {
            /* a quoted value; "" inside stands for one quote */
            size_t k = i + 1;

            for (;;) {
                const char *q = memchr(line + k, '"', len - k);

                if (q == NULL)
                    return ret__parse_fail(err, "quote", i + 1);
                k = (size_t)(q - line);
                if (k + 1 < len && line[k + 1] == '"') {
                    k += 2;
                    continue;
                }
                break;
            }
            vs = i + 1;
            ve = k;
            i = ve + 1;
            if (i < len && line[i] != ' ' && line[i] != '\t')
                return ret__parse_fail(err, "quote", i + 1);
        } else {
            while (i < len && line[i] != ' ' && line[i] != '\t')
                i++;
            vs = s;
            ve = i;
        }
        if (col < w->nf) {
            enum ret__fk k = w->kind[col];

            if (k == FK_IGNORE) {
                ret__rec_store(r, &fl, k, 0, NULL, 0, vs, ve - vs);
            } else if (k != FK_PORT) {
                if (!ret__rec_store(r, &fl, k, 0, NULL, 0, vs, ve - vs))
                    return ret__parse_fail(err, fl.reason, s + 1);
                if (k != FK_TIME_DATE && k != FK_TIME_TOD && ve - vs > 0 &&
                    !(ve - vs == 1 && line[vs] == '-'))
                    any = true;
            }
        } else {
            /* more values than #Fields declares: list their
             * address-looking tokens for the anonymizer */
            ret__rec_scan_addrs(r, vs, ve - vs);
            p->partial = true;
        }
        col++;
        while (i < len && (line[i] == ' ' || line[i] == '\t'))
            i++;
    }
    if (!any)
        return ret__parse_fail(err, "fields", 1);
    if (fl.tp.has_sod && !fl.tp.has_date && w->have_date) {
        fl.tp.days = w->date_days;
        fl.tp.has_date = true;
    }
    if (w->have_gmt && !fl.tp.has_offset) {
        fl.tp.offset = w->gmt_offset;
        fl.tp.has_offset = true;
    }
    if (!ret__rec_finish(r, &fl))
        return ret__parse_fail(err, fl.reason, 1);
    ret__rec_sort_addrs(r);
    return RET_OK;
}
