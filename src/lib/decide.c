/*
 * decide.c - what the policy says is due for one record at one time.
 * Pure functions: no I/O, no allocation, no clock, no time zone.
 */
#include "internal.h"

/* Beyond about year 300 million the calendar is not worth exactness:
 * such times only saturate. */
#define CAL_LIMIT ((int64_t)1e16)

int64_t
ret__sat_add(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

static bool
leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static void
split(int64_t t, int64_t *days, int64_t *sod)
{
    *days = t / 86400;
    *sod = t % 86400;
    if (*sod < 0) {
        *sod += 86400;
        (*days)--;
    }
}

int64_t
ret__span_add(int64_t t, ret__span s)
{
    if (t == INT64_MAX)
        return INT64_MAX;
    if (s.years != 0) {
        int64_t days, sod, y;
        unsigned m, d;

        if (t > CAL_LIMIT || t < -CAL_LIMIT)
            return ret__sat_add(ret__sat_add(t, (int64_t)s.years * 366 *
                                                    86400),
                                s.secs);
        split(t, &days, &sod);
        ret__civil_from_days(days, &y, &m, &d);
        y += s.years;
        if (m == 2 && d == 29 && !leap(y))
            /* The period ends with the last day of February: at its end. */
            t = ret__days_from_civil(y, 3, 1) * 86400;
        else
            t = ret__days_from_civil(y, m, d) * 86400 + sod;
    }
    return ret__sat_add(t, s.secs);
}

int64_t
ret__end_of_year(int64_t t, int32_t years)
{
    int64_t days, sod, y;
    unsigned m, d;

    if (t > CAL_LIMIT)
        return INT64_MAX;
    if (t < -CAL_LIMIT)
        return ret__sat_add(t, ((int64_t)years + 1) * 366 * 86400);
    split(t, &days, &sod);
    ret__civil_from_days(days, &y, &m, &d);
    return ret__days_from_civil(y + 1 + years, 1, 1) * 86400;
}

/* When a rule of span s counted from anchor is due, the schedule
 * applied: one period earlier, so that no record outlives its limit
 * between two runs. */
static inline int64_t
due(int64_t anchor, ret__span s, int64_t schedule)
{
    int64_t t = ret__span_add(anchor, s);

    return t == INT64_MAX ? INT64_MAX : ret__sat_add(t, -schedule);
}

static inline int64_t
min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

ret_status
ret_decide(const ret_category *c, const ret_facts *f, int64_t now,
           ret_decision *out)
{
    const int64_t sched = c != NULL ? c->hdr->schedule : 0;
    const struct ret_rule *del_rule = NULL, *anon_rule = NULL;
    const struct ret_rule *next_rule = NULL, *retain_rule = NULL;
    int64_t del = RET_TIME_NEVER, anon_next = RET_TIME_NEVER;
    int64_t retain_end = INT64_MIN;
    unsigned fields = 0;
    bool del_due;
    ret_decision d;
    size_t i;

    if (c == NULL || f == NULL || out == NULL)
        return RET_E_INVAL;
    for (i = 0; i < c->nrules; i++) {
        const struct ret_rule *r = &c->rules[i];
        int64_t t;

        switch (r->action) {
        case RET_ANONYMIZE:
            t = due(f->time, r->after, sched);
            if (t <= now) {
                fields |= r->fields;
                if (anon_rule == NULL)
                    anon_rule = r;
            } else if (t < anon_next) {
                anon_next = t;
                next_rule = r;
            }
            break;
        case RET_DELETE:
            if (r->anchor == RET_ANCHOR_COMPLETION) {
                if (!(f->flags & RET_FACT_COMPLETED))
                    break;
                t = due(f->completed_at, r->after, sched);
            } else {
                t = due(f->time, r->after, sched);
            }
            if (t < del) {
                del = t;
                del_rule = r;
            }
            break;
        default: /* RET_RESTRICT: below, only when it matters */
            break;
        }
    }
    del_due = del_rule != NULL && del <= now;
    if (del_due && c->retain >= 0 && !(f->flags & RET_FACT_HELD)) {
        const struct ret_rule *r = &c->rules[c->retain];

        /* A statutory minimum: never moved by the schedule. */
        retain_end = r->anchor == RET_ANCHOR_END_OF_YEAR
                         ? ret__end_of_year(f->time, r->after.years)
                         : ret__span_add(f->time, r->after);
        retain_rule = r;
    }
    if ((f->flags & RET_FACT_RETAIN) && f->retain_until > retain_end) {
        retain_end = f->retain_until;
        retain_rule = NULL;
    }

    d.action = RET_KEEP;
    d.next_change = RET_TIME_NEVER;
    d.fields = 0;
    d.method = c->method;
    d.ipv4_prefix = c->ipv4_prefix;
    d.ipv6_prefix = c->ipv6_prefix;
    d.rule = c->loc;
    d.controller = c->hdr->controller;
    d.version = c->hdr->version;

    if (f->flags & RET_FACT_HELD) {
        /* Evidence is kept as it is: never deleted, never altered. */
        if (c->hold == RET_HOLD_RESTRICT && del_due) {
            d.action = RET_RESTRICT;
            d.rule = c->hold_loc != NULL ? c->hold_loc : del_rule->loc;
        } else {
            if (c->hold == RET_HOLD_RESTRICT)
                d.next_change = del;
            if (c->hold_loc != NULL)
                d.rule = c->hold_loc;
        }
    } else if (del_due) {
        if (retain_end > now) {
            d.action = RET_RESTRICT;
            d.fields = fields;
            d.next_change = min64(retain_end, anon_next);
            d.rule = retain_rule != NULL ? retain_rule->loc : del_rule->loc;
        } else {
            d.action = RET_DELETE;
            d.rule = del_rule->loc;
        }
    } else {
        d.next_change = min64(anon_next, del);
        if (fields != 0) {
            d.action = RET_ANONYMIZE;
            d.fields = fields;
            d.rule = anon_rule->loc;
        } else if (d.next_change != RET_TIME_NEVER) {
            d.rule = anon_next <= del ? next_rule->loc : del_rule->loc;
        }
    }
    *out = d;
    return RET_OK;
}

/* The smallest record time t whose rule (span s) is not yet due at now:
 * every t below it is due. */
static int64_t
cutoff_of(ret__span s, int64_t now, int64_t sched)
{
    int64_t x = ret__sat_add(ret__sat_add(now, sched), -s.secs);
    int64_t lo, hi;

    if (s.years == 0)
        return ret__sat_add(x, 1);
    /* due(t) is monotonic in t: search between two safe bounds, lo due,
     * hi not due. */
    lo = ret__sat_add(x, -((int64_t)s.years * 366 + 2) * 86400);
    hi = ret__sat_add(x, -((int64_t)s.years * 365 - 2) * 86400);
    if (due(lo, s, sched) > now)
        return lo;
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;

        if (due(mid, s, sched) > now)
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

ret_status
ret_category_cutoff(const ret_category *c, ret_action action, int64_t now,
                    int64_t *cutoff, ret_error *err)
{
    int64_t best = INT64_MIN;
    bool found = false;
    size_t i;

    if (c == NULL || cutoff == NULL)
        return ret__fail(err, RET_E_INVAL, "cutoff: no category given");
    if (action != RET_DELETE && action != RET_ANONYMIZE)
        return ret__fail(err, RET_E_INVAL,
                         "%s: only delete and anonymize have a time-based "
                         "cutoff",
                         c->name);
    for (i = 0; i < c->nrules; i++) {
        const struct ret_rule *r = &c->rules[i];
        int64_t t;

        if (r->action != action || r->anchor != RET_ANCHOR_TIME)
            continue;
        t = cutoff_of(r->after, now, c->hdr->schedule);
        if (!found || t > best)
            best = t;
        found = true;
    }
    if (!found)
        return ret__fail(err, RET_E_NOTFOUND,
                         "%s: category '%s' has no time-based %s rule",
                         c->loc, c->name, ret_action_name(action));
    *cutoff = best;
    return RET_OK;
}

const char *
ret_action_name(ret_action a)
{
    switch (a) {
    case RET_KEEP: return "keep";
    case RET_ANONYMIZE: return "anonymize";
    case RET_RESTRICT: return "restrict";
    case RET_DELETE: return "delete";
    }
    return "unknown";
}

const char *
ret_policy_method_name(ret_anon_method m)
{
    switch (m) {
    case RET_ANON_TRUNCATE: return "truncate";
    case RET_ANON_ZERO: return "zero";
    case RET_ANON_HASH: return "hash";
    }
    return "unknown";
}
