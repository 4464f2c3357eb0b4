/*
 * explain.c - a category's lifecycle in plain English words, for
 * `retention policy explain` and for portal applications to show.
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>

struct out {
    char *buf;
    size_t size, len;
};

static void put(struct out *o, const char *fmt, ...) RET_PRINTF(2, 3);

static void
put(struct out *o, const char *fmt, ...)
{
    char tmp[1];
    va_list ap;
    int n;

    va_start(ap, fmt);
    if (o->len < o->size)
        n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
    else
        n = vsnprintf(tmp, 0, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len += (size_t)n;
}

static void
plural(struct out *o, int64_t n, const char *unit, bool *first)
{
    if (n == 0)
        return;
    put(o, "%s%lld %s%s", *first ? "" : " ", (long long)n, unit,
        n == 1 ? "" : "s");
    *first = false;
}

static void
span_words(struct out *o, ret__span s)
{
    bool first = true;
    int64_t x = s.secs;

    plural(o, s.years, "year", &first);
    plural(o, x / 86400, "day", &first);
    plural(o, x % 86400 / 3600, "hour", &first);
    plural(o, x % 3600 / 60, "minute", &first);
    plural(o, x % 60, "second", &first);
    if (first)
        put(o, "0 seconds");
}

static const char *
schedule_name(int64_t s)
{
    switch (s) {
    case 3600: return "hourly";
    case 86400: return "daily";
    case 7 * 86400: return "weekly";
    default: return NULL;
    }
}

static void
schedule_words(struct out *o, int64_t sched)
{
    const char *name = schedule_name(sched);

    if (name != NULL) {
        put(o, "the %s schedule", name);
    } else {
        ret__span s = {0, sched};

        put(o, "a schedule of ");
        span_words(o, s);
    }
}

/* " (by day 89 with the daily schedule)" */
static void
schedule_note(struct out *o, ret__span s, int64_t sched)
{
    if (sched == 0)
        return;
    if (s.years == 0 && sched == 86400 && s.secs % 86400 == 0) {
        put(o, " (by day %lld with ", (long long)(s.secs / 86400 - 1));
    } else if (s.years == 0 && sched == 3600 && s.secs % 3600 == 0 &&
               s.secs < 2 * 86400) {
        put(o, " (by hour %lld with ", (long long)(s.secs / 3600 - 1));
    } else if (s.years == 0 && s.secs > sched) {
        ret__span age = {0, s.secs - sched};

        put(o, " (at an age of ");
        span_words(o, age);
        put(o, " with ");
    } else if (s.years == 0) {
        put(o, " (at the first run with ");
        schedule_words(o, sched);
        put(o, ")");
        return;
    } else {
        ret__span per = {0, sched};

        put(o, " (");
        span_words(o, per);
        put(o, " earlier with ");
    }
    schedule_words(o, sched);
    put(o, ")");
}

static const char *
field_words(ret_field f)
{
    switch (f) {
    case RET_F_CLIENT: return "client IP";
    case RET_F_XFF: return "forwarded addresses";
    case RET_F_USER: return "user name";
    case RET_F_QUERY: return "query string";
    case RET_F_REFERER: return "referrer";
    case RET_F_USER_AGENT: return "user agent";
    case RET_F_COOKIE: return "cookies";
    default: return "field";
    }
}

#define IP_FIELDS ((1u << RET_F_CLIENT) | (1u << RET_F_XFF))

static void
fields_words(struct out *o, unsigned fields)
{
    unsigned n = 0, total = 0, f;

    for (f = 0; f < RET_F__COUNT; f++)
        total += (fields >> f) & 1u;
    for (f = 0; f < RET_F__COUNT; f++) {
        if (!(fields & (1u << f)))
            continue;
        n++;
        put(o, "%s%s", n == 1 ? "" : n == total ? " and " : ", ",
            field_words((ret_field)f));
    }
}

static void
method_words(struct out *o, const ret_category *c)
{
    switch (c->method) {
    case RET_ANON_ZERO:
        put(o, "replaced by zeros");
        break;
    case RET_ANON_HASH:
        put(o, "reduced to /%d and /%d with the host bits replaced by a "
            "keyed hash",
            c->ipv4_prefix, c->ipv6_prefix);
        break;
    default:
        put(o, "truncated to /%d and /%d", c->ipv4_prefix, c->ipv6_prefix);
        break;
    }
}

static void
anonymize_words(struct out *o, const ret_category *c,
                const struct ret_rule *r)
{
    unsigned ip = r->fields & IP_FIELDS, other = r->fields & ~IP_FIELDS;
    bool now = r->after.years == 0 && r->after.secs == 0;

    fields_words(o, r->fields);
    if (now && ip && other) {
        put(o, " anonymized at once (addresses ");
        method_words(o, c);
        put(o, ", the rest removed)");
        return;
    }
    if (now) {
        put(o, " ");
        if (ip)
            method_words(o, c);
        else
            put(o, "removed");
        put(o, " at once");
        return;
    }
    put(o, " kept ");
    span_words(o, r->after);
    put(o, ", then ");
    if (ip && other) {
        put(o, "the addresses ");
        method_words(o, c);
        put(o, " and the rest removed");
    } else if (ip) {
        method_words(o, c);
    } else {
        put(o, "removed");
    }
    schedule_note(o, r->after, c->hdr->schedule);
}

static bool
any_column(const ret_category *c, ret_column col, const char **name)
{
    size_t i;

    for (i = 0; i < c->nsrc; i++)
        if (c->src[i].kind == RET_SOURCE_SQLITE && c->src[i].col[col]) {
            *name = c->src[i].col[col];
            return true;
        }
    return false;
}

size_t
ret_category_explain(const ret_category *c, char *buf, size_t size)
{
    struct out o = {buf, size, 0};
    const struct ret_rule *del = NULL, *comp = NULL, *ret = NULL;
    const char *col;
    size_t i;
    bool any = false;

    if (buf != NULL && size > 0)
        buf[0] = '\0';
    else
        o.size = 0;
    if (c == NULL)
        return 0;
    if (c->del_time >= 0)
        del = &c->rules[c->del_time];
    if (c->del_completion >= 0)
        comp = &c->rules[c->del_completion];
    if (c->retain >= 0)
        ret = &c->rules[c->retain];
    for (i = 0; i < c->nrules; i++)
        if (c->rules[i].action == RET_ANONYMIZE) {
            put(&o, "%s", any ? "; " : "");
            anonymize_words(&o, c, &c->rules[i]);
            any = true;
        }
    put(&o, "%srecord deleted ", any ? "; " : "");
    if (del != NULL) {
        put(&o, "within ");
        span_words(&o, del->after);
        schedule_note(&o, del->after, c->hdr->schedule);
        if (comp != NULL)
            put(&o, ", or earlier ");
    }
    if (comp != NULL) {
        if (comp->after.years == 0 && comp->after.secs == 0) {
            put(&o, "once the request is completed");
            if (c->hdr->schedule != 0)
                put(&o, " (at the first run after completion)");
        } else {
            put(&o, "within ");
            span_words(&o, comp->after);
            put(&o, " after the request is completed");
            schedule_note(&o, comp->after, c->hdr->schedule);
        }
    }
    if (ret != NULL) {
        put(&o, "; where a statutory retention applies, a record due for "
            "deletion is restricted instead (kept, not processed) until ");
        span_words(&o, ret->after);
        if (ret->anchor == RET_ANCHOR_END_OF_YEAR)
            put(&o, " after the end of its calendar year");
        else
            put(&o, " after its time");
        put(&o, ", then deleted");
    }
    if (any_column(c, RET_COL_RETAIN_UNTIL, &col))
        put(&o, "; a record with a retention date (column %s) is "
            "restricted instead of deleted until that date",
            col);
    if (c->hold_loc != NULL || any_column(c, RET_COL_HOLD, &col)) {
        if (c->hold == RET_HOLD_KEEP)
            put(&o, "; a record under a legal hold is kept unaltered until "
                "the hold is released");
        else
            put(&o, "; a record under a legal hold is kept unaltered and "
                "never deleted: once due, it is restricted until the hold "
                "is released");
    }
    if (c->statistics)
        put(&o, "; counted into the anonymous statistics before deletion");
    else
        put(&o, "; not counted into the statistics");
    put(&o, ".");
    return o.len;
}
