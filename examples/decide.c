/*
 * decide.c - how a portal application applies the site's policy to its
 * own records with libretention: what is due for each record now, and
 * when that changes. Built and run by `make check`.
 *
 *   cc decide.c $(pkg-config --cflags --libs retention)
 *   ./decide                      # the policy embedded below
 *   ./decide /etc/retention.conf  # a policy file (sms, contact-form)
 */
#include <stdio.h>
#include <string.h>

#include <retention.h>

/* The portal's part of the utility's statement (see examples/). */
static const char embedded[] =
    "policy {\n"
    "    controller \"Stadtwerke Bochum GmbH\"\n"
    "    version    1.3\n"
    "    schedule   daily\n"
    "}\n"
    "category sms {\n"
    "    table  sqlite:/var/lib/portal/portal.db sms_log time=sent_at "
    "hold=legal_hold\n"
    "    delete after 90d\n"
    "    hold   restrict\n"
    "}\n"
    "category contact-form {\n"
    "    table  sqlite:/var/lib/portal/portal.db contact time=created_at "
    "completed=closed_at retain-until=retain_until\n"
    "    delete after completion\n"
    "}\n";

/* A record of the portal and what the policy must say about it. */
struct record {
    const char *category, *what;
    const char *time, *completed, *retain_until;
    int held;
    ret_action expected;
};

static const struct record records[] = {
    {"sms", "an SMS sent yesterday", "2026-11-30T09:00:00Z", NULL, NULL, 0,
     RET_KEEP},
    {"sms", "an SMS of 89 days and 18 hours ago", "2026-09-02T09:00:00Z", NULL, NULL, 0,
     RET_DELETE},
    {"sms", "the same under a legal hold", "2026-09-02T09:00:00Z", NULL,
     NULL, 1, RET_RESTRICT},
    {"contact-form", "an open request", "2026-10-01T12:00:00Z", NULL, NULL,
     0, RET_KEEP},
    {"contact-form", "a handled request", "2026-10-01T12:00:00Z",
     "2026-10-05T08:00:00Z", NULL, 0, RET_DELETE},
    {"contact-form", "a handled request kept as proof",
     "2026-10-01T12:00:00Z", "2026-10-05T08:00:00Z", "2032-12-31T00:00:00Z",
     0, RET_RESTRICT},
};

static int
parse_time(const char *s, int64_t *t)
{
    ret_error err;

    if (ret_time_parse(s, strlen(s), t, NULL, &err) != RET_OK) {
        fprintf(stderr, "decide: %s\n", err.message);
        return 0;
    }
    return 1;
}

int
main(int argc, char **argv)
{
    ret_policy *policy = NULL;
    ret_error err;
    ret_status st;
    int64_t now;
    size_t i;
    int failed = 0;

    if (argc > 1)
        st = ret_policy_load(argv[1], &policy, &err);
    else
        st = ret_policy_parse(embedded, sizeof(embedded) - 1, "embedded",
                              &policy, &err);
    if (st != RET_OK) {
        fprintf(stderr, "decide: %s\n", err.message);
        return 1;
    }
    if (!parse_time("2026-12-01T03:00:00Z", &now))
        return 1;
    for (i = 0; i < sizeof(records) / sizeof(records[0]); i++) {
        const struct record *r = &records[i];
        const ret_category *c = ret_policy_find(policy, r->category);
        ret_facts facts = {0, 0, 0, 0};
        ret_decision d;
        char when[21];

        if (c == NULL) {
            fprintf(stderr, "decide: the policy has no category '%s'\n",
                    r->category);
            failed = 1;
            continue;
        }
        if (!parse_time(r->time, &facts.time) ||
            (r->completed && !parse_time(r->completed, &facts.completed_at)) ||
            (r->retain_until &&
             !parse_time(r->retain_until, &facts.retain_until)))
            return 1;
        if (r->completed)
            facts.flags |= RET_FACT_COMPLETED;
        if (r->retain_until)
            facts.flags |= RET_FACT_RETAIN;
        if (r->held)
            facts.flags |= RET_FACT_HELD;
        if (ret_decide(c, &facts, now, &d) != RET_OK) {
            fprintf(stderr, "decide: ret_decide failed\n");
            return 1;
        }
        if (d.next_change == RET_TIME_NEVER)
            snprintf(when, sizeof(when), "never");
        else
            ret_time_format(d.next_change, when);
        printf("%-13s %-34s %-9s next change %-20s (%s, %s %s)\n",
               r->category, r->what, ret_action_name(d.action), when, d.rule,
               d.controller, d.version);
        if (d.action != r->expected) {
            fprintf(stderr, "decide: %s: expected %s, got %s\n", r->what,
                    ret_action_name(r->expected), ret_action_name(d.action));
            failed = 1;
        }
        if (r->held && d.action == RET_DELETE) {
            fprintf(stderr, "decide: a held record was to be deleted\n");
            failed = 1;
        }
    }
    {
        /* What a portal shows its users: the lifecycle in words. */
        const ret_category *c = ret_policy_find(policy, "sms");
        char text[1024];

        if (c != NULL && ret_category_explain(c, text, sizeof(text)) > 0)
            printf("sms: %s\n", text);
    }
    ret_policy_free(policy);
    return failed;
}
