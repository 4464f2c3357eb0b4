/*
 * decide-t.c - ret_decide() and ret_category_cutoff(): the boundary
 * matrix of every rule kind (one second either side of each cutoff, with
 * and without a schedule, across DST, year ends and leap days), held,
 * completed and retained records, next_change exactness, and proof that
 * deciding allocates nothing (malloc is wrapped: -Wl,--wrap=malloc).
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../tap.h"

/* ---- allocation counter ------------------------------------------- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);

static unsigned long allocations;

void *
__wrap_malloc(size_t n)
{
    allocations++;
    return __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t m)
{
    allocations++;
    return __real_calloc(n, m);
}

void *
__wrap_realloc(void *p, size_t n)
{
    allocations++;
    return __real_realloc(p, n);
}

/* ---- helpers ------------------------------------------------------ */

#define DAY 86400
#define HOUR 3600

static int64_t
T(const char *s)
{
    int64_t t = 0;
    ret_error err;

    if (ret_time_parse(s, strlen(s), &t, NULL, &err) != RET_OK) {
        printf("# bad time in test: %s\n", s);
        exit(99);
    }
    return t;
}

static ret_policy *
parse(const char *text)
{
    ret_policy *p = NULL;
    ret_error err;

    if (ret_policy_parse(text, strlen(text), "test.conf", &p, &err) !=
        RET_OK) {
        printf("# policy in test does not parse: %s\n", err.message);
        exit(99);
    }
    return p;
}

static ret_decision
decide(const ret_category *c, const ret_facts *f, int64_t now)
{
    ret_decision d;

    memset(&d, 0xa5, sizeof(d));
    if (ret_decide(c, f, now, &d) != RET_OK) {
        printf("# ret_decide failed\n");
        exit(99);
    }
    return d;
}

static ret_facts
facts(int64_t t)
{
    ret_facts f;

    memset(&f, 0, sizeof(f));
    f.time = t;
    return f;
}

/* An action at now, and at now - 1 the one before. */
static void
edge(const ret_category *c, const ret_facts *f, int64_t at, ret_action before,
     ret_action after, const char *what)
{
    ret_decision d0 = decide(c, f, at - 1), d1 = decide(c, f, at);

    ok(d0.action == before && d1.action == after,
       "%s: %s at -1 s, %s at the cutoff", what, ret_action_name(before),
       ret_action_name(after));
    if (d0.action != before || d1.action != after)
        diag("got %s then %s", ret_action_name(d0.action),
             ret_action_name(d1.action));
    is_int(d0.next_change, at, "%s: next_change one second before", what);
}

static const char *web_policy(const char *schedule);

static char policy_buf[2048];

static const char *
web_policy(const char *schedule)
{
    snprintf(policy_buf, sizeof(policy_buf),
             "policy {\n"                                  /* 1 */
             "    controller \"Stadtwerke Bochum Netz GmbH\"\n"
             "    version 1.2\n"
             "    schedule %s\n"
             "}\n"                                         /* 5 */
             "category web-access {\n"
             "    files /var/log/nginx/access.log*\n"
             "    anonymize client-ip after 7d prefix 24/48\n"  /* 8 */
             "    statistics yes\n"
             "    delete after 90d\n"                      /* 10 */
             "}\n",
             schedule);
    return policy_buf;
}

/* ---- time-based rules --------------------------------------------- */

static void
test_time_rules(const char *schedule, int64_t period)
{
    ret_policy *p = parse(web_policy(schedule));
    const ret_category *c = ret_policy_find(p, "web-access");
    int64_t t0 = T("2026-03-01T12:34:56Z"), cut;
    ret_facts f = facts(t0);
    ret_decision d;
    char what[64];

    ok(c != NULL, "web-access found (schedule %s)", schedule);
    is_int(ret_category_schedule(c), period, "schedule %s is %lld s",
           schedule, (long long)period);

    snprintf(what, sizeof(what), "anonymize 7d, %s", schedule);
    edge(c, &f, t0 + 7 * DAY - period, RET_KEEP, RET_ANONYMIZE, what);
    snprintf(what, sizeof(what), "delete 90d, %s", schedule);
    edge(c, &f, t0 + 90 * DAY - period, RET_ANONYMIZE, RET_DELETE, what);

    d = decide(c, &f, t0 + 7 * DAY - period);
    is_int(d.fields, 1u << RET_F_CLIENT, "%s: client-ip anonymized", schedule);
    is_int(d.ipv4_prefix, 24, "%s: IPv4 prefix", schedule);
    is_int(d.ipv6_prefix, 48, "%s: IPv6 prefix", schedule);
    is_int(d.method, RET_ANON_TRUNCATE, "%s: method", schedule);
    is_str(d.rule, "test.conf:8", "%s: anonymize rule location", schedule);
    is_str(d.controller, "Stadtwerke Bochum Netz GmbH", "%s: controller",
           schedule);
    is_str(d.version, "1.2", "%s: version", schedule);
    is_int(d.next_change, t0 + 90 * DAY - period,
           "%s: next change is the deletion", schedule);

    d = decide(c, &f, t0 + 90 * DAY - period);
    is_str(d.rule, "test.conf:10", "%s: delete rule location", schedule);
    is_int(d.next_change, RET_TIME_NEVER, "%s: delete never changes",
           schedule);
    d = decide(c, &f, t0);
    is_int(d.action, RET_KEEP, "%s: a new record is kept", schedule);
    is_int(d.fields, 0, "%s: keep has no fields", schedule);
    is_str(d.rule, "test.conf:8", "%s: keep names the next rule", schedule);

    /* The cutoffs agree with the decisions, one second either side. */
    ok(ret_category_cutoff(c, RET_DELETE, t0, &cut, NULL) == RET_OK,
       "%s: delete cutoff", schedule);
    is_int(cut, t0 - 90 * DAY + period + 1, "%s: delete cutoff value",
           schedule);
    f = facts(cut - 1);
    is_int(decide(c, &f, t0).action, RET_DELETE,
           "%s: a record 1 s before the cutoff is deleted", schedule);
    f = facts(cut);
    is_int(decide(c, &f, t0).action, RET_ANONYMIZE,
           "%s: a record at the cutoff is not deleted", schedule);
    ok(ret_category_cutoff(c, RET_ANONYMIZE, t0, &cut, NULL) == RET_OK,
       "%s: anonymize cutoff", schedule);
    is_int(cut, t0 - 7 * DAY + period + 1, "%s: anonymize cutoff value",
           schedule);
    f = facts(cut - 1);
    is_int(decide(c, &f, t0).action, RET_ANONYMIZE,
           "%s: 1 s before the anonymize cutoff", schedule);
    f = facts(cut);
    is_int(decide(c, &f, t0).action, RET_KEEP,
           "%s: at the anonymize cutoff", schedule);
    ret_policy_free(p);
}

/* Daily: a 90d limit deletes at an age of 89 days exactly. */
static void
test_daily_is_day_89(void)
{
    ret_policy *p = parse(web_policy("daily"));
    const ret_category *c = ret_policy_category(p, 0);
    int64_t now = T("2026-12-01T03:00:00Z");
    ret_facts f = facts(now - 89 * DAY);

    is_int(decide(c, &f, now).action, RET_DELETE, "age 89d: deleted (daily)");
    f.time++;
    is_int(decide(c, &f, now).action, RET_ANONYMIZE,
           "age 89d - 1 s: not yet (daily)");
    ret_policy_free(p);
}

/* ---- calendar years: leap days, year ends -------------------------- */

static void
test_years(void)
{
    static const char text[] =
        "policy {\n controller \"C\"\n version 1\n schedule none\n}\n"
        "category y {\n delete after 1y\n}\n"
        "category yd {\n delete after 1y12h\n}\n";
    static const char daily[] =
        "policy {\n controller \"C\"\n version 1\n schedule daily\n}\n"
        "category y {\n delete after 1y\n}\n";
    ret_policy *p = parse(text), *pd = parse(daily);
    const ret_category *c = ret_policy_find(p, "y");
    const ret_category *cd = ret_policy_find(p, "yd");
    const ret_category *cday = ret_policy_find(pd, "y");
    static const struct {
        const char *record, *due;
    } cases[] = {
        {"2024-02-29T10:00:00Z", "2025-03-01T00:00:00Z"}, /* no 29 Feb */
        {"2024-02-28T10:00:00Z", "2025-02-28T10:00:00Z"},
        {"2024-03-01T00:00:00Z", "2025-03-01T00:00:00Z"},
        {"2023-02-28T23:59:59Z", "2024-02-28T23:59:59Z"},
        {"2023-03-01T00:00:00Z", "2024-03-01T00:00:00Z"}, /* over a 29 Feb */
        {"2025-12-31T23:59:59Z", "2026-12-31T23:59:59Z"},
        {"2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"},
        {"2026-03-29T01:30:00Z", "2027-03-29T01:30:00Z"}, /* Berlin DST */
        {"2026-10-25T00:30:00Z", "2027-10-25T00:30:00Z"},
        {"2099-12-31T12:00:00Z", "2100-12-31T12:00:00Z"},
        {"2096-02-29T00:00:00Z", "2097-03-01T00:00:00Z"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ret_facts f = facts(T(cases[i].record));
        int64_t due = T(cases[i].due), cut;
        char what[96];

        snprintf(what, sizeof(what), "1y from %s", cases[i].record);
        edge(c, &f, due, RET_KEEP, RET_DELETE, what);
        snprintf(what, sizeof(what), "1y daily from %s", cases[i].record);
        edge(cday, &f, due - DAY, RET_KEEP, RET_DELETE, what);
        snprintf(what, sizeof(what), "1y12h from %s", cases[i].record);
        edge(cd, &f, due + 12 * HOUR, RET_KEEP, RET_DELETE, what);
        /* The cutoff at the due time lets exactly this record through. */
        ok(ret_category_cutoff(c, RET_DELETE, due, &cut, NULL) == RET_OK &&
               f.time < cut,
           "1y cutoff at %s covers the record", cases[i].due);
        ok(ret_category_cutoff(c, RET_DELETE, due - 1, &cut, NULL) ==
                   RET_OK &&
               f.time >= cut,
           "1y cutoff 1 s earlier does not");
    }
    ret_policy_free(p);
    ret_policy_free(pd);
}

/* ---- statutory retention, completion, retain-until ----------------- */

static void
test_retention(void)
{
    static const char text[] =
        "policy {\n controller \"Stadtwerke Bochum GmbH\"\n version 1.3\n"
        " schedule daily\n}\n"                                   /* 5 */
        "category invoice-request {\n"
        " table sqlite:/db t time=t completed=c retain-until=r\n"
        " anonymize client-ip after 30d\n"                       /* 8 */
        " delete after completion\n"                             /* 9 */
        " retain 10y from end-of-year\n"                         /* 10 */
        "}\n"
        "category contact-form {\n"
        " table sqlite:/db t time=t completed=c retain-until=r\n"
        " delete after completion + 30d\n"                       /* 14 */
        "}\n";
    ret_policy *p = parse(text);
    const ret_category *inv = ret_policy_find(p, "invoice-request");
    const ret_category *cf = ret_policy_find(p, "contact-form");
    ret_facts f = facts(T("2020-05-05T10:00:00Z"));
    ret_decision d;

    d = decide(inv, &f, T("2035-01-01"));
    is_int(d.action, RET_ANONYMIZE, "not completed: never deleted");
    is_int(d.next_change, RET_TIME_NEVER, "not completed: nothing next");

    f.flags |= RET_FACT_COMPLETED;
    f.completed_at = T("2020-06-01T00:00:00Z");
    /* Due at completion (schedule moves it a day earlier, to before it):
     * restricted instead, until 10 years after the end of 2020. */
    d = decide(inv, &f, f.completed_at - DAY - 1);
    is_int(d.action, RET_KEEP, "before completion: kept");
    is_int(d.next_change, f.completed_at - DAY, "next change at completion "
           "less the schedule period");
    d = decide(inv, &f, f.completed_at - DAY);
    is_int(d.action, RET_RESTRICT, "completed, retained: restrict");
    is_str(d.rule, "test.conf:10", "restrict names the retain rule");
    is_int(d.fields, 0, "restrict: nothing to anonymize yet");
    is_int(d.next_change, T("2020-06-03T10:00:00Z"),
           "next change: the anonymization at day 29");
    d = decide(inv, &f, T("2020-06-03T10:00:00Z"));
    is_int(d.action, RET_RESTRICT, "restricted records are anonymized too");
    is_int(d.fields, 1u << RET_F_CLIENT, "restrict: client-ip due");
    is_int(d.next_change, T("2031-01-01T00:00:00Z"),
           "retention ends 10 years after the end of 2020");
    edge(inv, &f, T("2031-01-01T00:00:00Z"), RET_RESTRICT, RET_DELETE,
         "retain 10y from end-of-year");
    d = decide(inv, &f, T("2031-01-01T00:00:00Z"));
    is_str(d.rule, "test.conf:9", "delete names the completion rule");

    /* Over the year end: the last second of 2020 and the first of 2021. */
    f.time = T("2020-12-31T23:59:59Z");
    f.completed_at = f.time;
    edge(inv, &f, T("2031-01-01T00:00:00Z"), RET_RESTRICT, RET_DELETE,
         "last second of 2020");
    f.time = T("2021-01-01T00:00:00Z");
    f.completed_at = f.time;
    edge(inv, &f, T("2032-01-01T00:00:00Z"), RET_RESTRICT, RET_DELETE,
         "first second of 2021");
    f.time = T("2024-02-29T12:00:00Z");
    f.completed_at = f.time;
    edge(inv, &f, T("2035-01-01T00:00:00Z"), RET_RESTRICT, RET_DELETE,
         "leap day record");

    /* retain_until of the record: restricted until then. */
    f = facts(T("2026-01-10T08:00:00Z"));
    f.flags = RET_FACT_COMPLETED | RET_FACT_RETAIN;
    f.completed_at = T("2026-01-20T08:00:00Z");
    f.retain_until = T("2027-06-30T00:00:00Z");
    edge(cf, &f, f.completed_at + 29 * DAY, RET_KEEP, RET_RESTRICT,
         "completion + 30d, daily: day 29 after completion");
    d = decide(cf, &f, f.completed_at + 29 * DAY);
    is_str(d.rule, "test.conf:14", "restrict by retain-until names the "
           "delete rule");
    is_int(d.next_change, f.retain_until, "restricted until retain_until");
    edge(cf, &f, f.retain_until, RET_RESTRICT, RET_DELETE, "retain-until");
    /* A retain-until already past: deleted at once when due. */
    f.retain_until = T("2026-01-01T00:00:00Z");
    edge(cf, &f, f.completed_at + 29 * DAY, RET_KEEP, RET_DELETE,
         "retain-until in the past");
    /* Already restricted changes nothing. */
    f.flags |= RET_FACT_RESTRICTED;
    is_int(decide(cf, &f, f.completed_at + 29 * DAY).action, RET_DELETE,
           "already restricted, retention over: delete");
    ret_policy_free(p);
}

/* ---- legal holds --------------------------------------------------- */

static void
test_holds(void)
{
    static const char text[] =
        "policy {\n controller \"Stadtwerke Bochum GmbH\"\n version 1.3\n}\n"
        "category sms {\n"                                      /* 5 */
        " table sqlite:/db sms_log time=sent_at hold=legal_hold\n"
        " anonymize client-ip after 7d\n"
        " delete after 90d\n"
        " hold restrict\n"                                      /* 9 */
        "}\n"
        "category keep {\n"                                     /* 11 */
        " delete after 90d\n"
        " hold keep\n"
        "}\n"
        "category plain {\n"                                    /* 15 */
        " delete after completion\n"
        " delete after 30d\n"
        "}\n";
    ret_policy *p = parse(text);
    const ret_category *sms = ret_policy_find(p, "sms");
    const ret_category *kp = ret_policy_find(p, "keep");
    const ret_category *plain = ret_policy_find(p, "plain");
    int64_t t0 = T("2026-06-01T00:00:00Z");
    ret_facts f = facts(t0);
    ret_decision d;

    f.flags = RET_FACT_HELD;
    d = decide(sms, &f, t0 + 10 * DAY);
    is_int(d.action, RET_KEEP, "held: not anonymized (evidence kept as is)");
    is_int(d.fields, 0, "held: no fields");
    is_int(d.next_change, t0 + 89 * DAY, "held: changes when deletion is due");
    is_str(d.rule, "test.conf:9", "held: the hold rule decides");
    edge(sms, &f, t0 + 89 * DAY, RET_KEEP, RET_RESTRICT, "held and due");
    d = decide(sms, &f, t0 + 3650 * DAY);
    is_int(d.action, RET_RESTRICT, "held for 10 years: still restricted");
    is_int(d.next_change, RET_TIME_NEVER, "held: released by the owner only");
    f.flags = 0;
    is_int(decide(sms, &f, t0 + 3650 * DAY).action, RET_DELETE,
           "released: deleted at the next run");

    f.flags = RET_FACT_HELD;
    d = decide(kp, &f, t0 + 3650 * DAY);
    is_int(d.action, RET_KEEP, "hold keep: kept");
    is_int(d.next_change, RET_TIME_NEVER, "hold keep: never changes");

    /* Without a hold key, held records are restricted once due. */
    f.flags = RET_FACT_HELD | RET_FACT_COMPLETED;
    f.completed_at = t0;
    d = decide(plain, &f, t0 + DAY);
    is_int(d.action, RET_RESTRICT, "default hold mode: restrict");
    is_str(d.rule, "test.conf:16", "held and due: names the delete rule");
    /* Completed before the time limit: the earlier rule wins. */
    f.flags = RET_FACT_COMPLETED;
    f.completed_at = t0 + 5 * DAY;
    edge(plain, &f, t0 + 4 * DAY, RET_KEEP, RET_DELETE,
         "completion before the time limit");
    f.completed_at = t0 + 40 * DAY;
    edge(plain, &f, t0 + 29 * DAY, RET_KEEP, RET_DELETE,
         "time limit before completion");
    d = decide(plain, &f, t0 + 29 * DAY);
    is_str(d.rule, "test.conf:17", "the time-based rule decided");
    ret_policy_free(p);
}

/* ---- random matrix: held never DELETE, next_change exact, cutoffs --- */

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t
rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static const char matrix_policy[] =
    "policy {\n controller \"C\"\n version 1\n schedule daily\n}\n"
    "category a {\n anonymize client-ip after 7d\n anonymize referrer, "
    "user-agent after 30d\n delete after 90d\n}\n"
    "category b {\n table sqlite:/x t time=t completed=c\n"
    " anonymize client-ip after 1d\n delete after completion + 7d\n"
    " delete after 2y\n retain 6y from end-of-year\n}\n"
    "category c {\n table sqlite:/x t time=t completed=c\n"
    " delete after completion\n hold keep\n}\n";

static int
same(const ret_decision *a, const ret_decision *b)
{
    return a->action == b->action && a->fields == b->fields &&
           a->next_change == b->next_change &&
           (a->rule == b->rule || (a->rule && b->rule &&
                                   strcmp(a->rule, b->rule) == 0));
}

#define MATRIX 4000

static ret_decision matrix_utc[MATRIX];

static void
run_matrix(const ret_policy *p, ret_decision *out, int check)
{
    unsigned i, held_delete = 0, bad_next = 0, bad_cut = 0;
    int64_t base = T("2024-01-01T00:00:00Z");

    rng = 0x9e3779b97f4a7c15u;
    for (i = 0; i < MATRIX; i++) {
        const ret_category *c = ret_policy_category(p, i % 3);
        ret_facts f = facts(base + (int64_t)(rnd() % (3u * 365 * DAY)));
        int64_t now = f.time + (int64_t)(rnd() % (8u * 365 * DAY)) -
                      30 * DAY;
        ret_decision d, e;
        int64_t cut;

        f.flags = (unsigned)(rnd() % 16);
        f.completed_at = f.time + (int64_t)(rnd() % (200u * DAY));
        f.retain_until = f.time + (int64_t)(rnd() % (3000u * DAY));
        d = decide(c, &f, now);
        out[i] = d;
        if (!check)
            continue;
        if ((f.flags & RET_FACT_HELD) && d.action == RET_DELETE)
            held_delete++;
        if (d.next_change != RET_TIME_NEVER) {
            e = decide(c, &f, d.next_change - 1);
            if (!same(&d, &e) || d.next_change <= now)
                bad_next++;
            e = decide(c, &f, d.next_change);
            if (e.action == d.action && e.fields == d.fields)
                bad_next++;
        } else {
            e = decide(c, &f, now + 50 * 365 * DAY);
            if (!same(&d, &e))
                bad_next++;
        }
        if (ret_category_cutoff(c, RET_DELETE, now, &cut, NULL) == RET_OK &&
            !(f.flags & (RET_FACT_HELD | RET_FACT_RETAIN | 0)) &&
            c == ret_policy_category(p, 0)) {
            if ((f.time < cut) != (d.action == RET_DELETE))
                bad_cut++;
        }
    }
    if (check) {
        is_int(held_delete, 0, "matrix: a held record is never DELETE");
        is_int(bad_next, 0, "matrix: next_change is exact (same decision "
               "until it, another at it)");
        is_int(bad_cut, 0, "matrix: delete cutoff agrees with ret_decide");
    }
}

static void
test_matrix_and_tz(void)
{
    static ret_decision berlin[MATRIX];
    ret_policy *p = parse(matrix_policy);
    unsigned i, diff = 0;

    setenv("TZ", "UTC", 1);
    tzset();
    run_matrix(p, matrix_utc, 1);
    setenv("TZ", "Europe/Berlin", 1);
    tzset();
    run_matrix(p, berlin, 0);
    for (i = 0; i < MATRIX; i++)
        if (!same(&matrix_utc[i], &berlin[i]))
            diff++;
    is_int(diff, 0, "TZ=Europe/Berlin changes no decision");
    {
        /* And the web policy across both DST switches of 2026. */
        ret_policy *w = parse(web_policy("daily"));
        const ret_category *c = ret_policy_category(w, 0);
        static const char *const dst[] = {"2026-03-29T00:59:59Z",
                                          "2026-03-29T01:00:00Z",
                                          "2026-10-25T00:59:59Z",
                                          "2026-10-25T01:00:00Z"};
        size_t k;

        for (k = 0; k < 4; k++) {
            ret_facts f = facts(T(dst[k]) - 89 * DAY);

            edge(c, &f, T(dst[k]), RET_ANONYMIZE, RET_DELETE, dst[k]);
        }
        ret_policy_free(w);
    }
    unsetenv("TZ");
    tzset();
    ret_policy_free(p);
}

/* ---- contracts ----------------------------------------------------- */

static void
test_contracts(void)
{
    ret_policy *p = parse(matrix_policy);
    const ret_category *b = ret_policy_find(p, "b");
    const ret_category *c = ret_policy_find(p, "c");
    ret_facts f = facts(0);
    ret_decision d;
    ret_error err;
    int64_t cut = 12345;
    unsigned long before;
    unsigned i;

    is_int(ret_decide(NULL, &f, 0, &d), RET_E_INVAL, "NULL category");
    is_int(ret_decide(b, NULL, 0, &d), RET_E_INVAL, "NULL facts");
    is_int(ret_decide(b, &f, 0, NULL), RET_E_INVAL, "NULL decision");
    is_int(ret_category_cutoff(c, RET_DELETE, 0, &cut, &err), RET_E_NOTFOUND,
           "no time-based delete rule: NOTFOUND");
    is_str(err.message, "test.conf:18: category 'c' has no time-based "
           "delete rule", "NOTFOUND message");
    is_int(cut, 12345, "cutoff untouched on failure");
    is_int(ret_category_cutoff(b, RET_KEEP, 0, &cut, NULL), RET_E_INVAL,
           "KEEP has no cutoff");
    is_int(ret_category_cutoff(c, RET_ANONYMIZE, 0, &cut, NULL),
           RET_E_NOTFOUND, "no anonymize rule: NOTFOUND");
    ok(ret_category_cutoff(b, RET_DELETE, 0, &cut, NULL) == RET_OK,
       "years rule has a cutoff");
    /* Extreme times saturate instead of overflowing. */
    f = facts(INT64_MAX - 5);
    is_int(decide(b, &f, INT64_MAX).action, RET_ANONYMIZE,
           "time near INT64_MAX: no overflow");
    f = facts(INT64_MIN + 5);
    is_int(decide(b, &f, INT64_MIN + 10).action, RET_ANONYMIZE,
           "time near INT64_MIN: no overflow");
    ok(ret_category_cutoff(b, RET_DELETE, INT64_MAX, &cut, NULL) == RET_OK,
       "cutoff at INT64_MAX");
    ok(ret_category_cutoff(b, RET_DELETE, INT64_MIN, &cut, NULL) == RET_OK,
       "cutoff at INT64_MIN");

    /* No allocation: the hook sees the library's mallocs... */
    before = allocations;
    ret_policy_free(parse(matrix_policy));
    ok(allocations > before, "the malloc hook sees library allocations "
       "(%lu)", allocations - before);
    /* ...and none while deciding. */
    before = allocations;
    for (i = 0; i < 100000; i++) {
        f = facts((int64_t)i * 7919);
        f.flags = i & 15;
        f.completed_at = f.time + i;
        (void)ret_decide(ret_policy_category(p, i % 3), &f,
                         (int64_t)i * 104729, &d);
        (void)ret_category_cutoff(b, RET_DELETE, (int64_t)i * 104729, &cut,
                                  NULL);
    }
    is_int(allocations - before, 0, "100000 decisions allocate nothing");
    ret_policy_free(p);
}

int
main(void)
{
    test_time_rules("none", 0);
    test_time_rules("daily", DAY);
    test_time_rules("hourly", HOUR);
    test_time_rules("6h", 6 * HOUR);
    test_daily_is_day_89();
    test_years();
    test_retention();
    test_holds();
    test_matrix_and_tz();
    test_contracts();
    return done_testing();
}
