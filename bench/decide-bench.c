/*
 * decide-bench.c - ns per ret_decide() call on the shipped kind of
 * policy: a web log category (anonymize, delete) and a portal table
 * (completion, statutory retention, holds). Prints "N ns/call".
 *
 *   decide-bench [CALLS]     (default 20000000)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <retention.h>

static const char policy[] =
    "policy {\n controller \"Stadtwerke Bochum GmbH\"\n version 1.3\n"
    " schedule daily\n}\n"
    "category web-access {\n files /var/log/nginx/access.log*\n"
    " anonymize client-ip after 7d prefix 24/48\n statistics yes\n"
    " delete after 90d\n}\n"
    "category contact-form {\n table sqlite:/var/lib/portal/portal.db "
    "contact time=created_at completed=closed_at retain-until=retain_until "
    "hold=legal_hold\n anonymize client-ip after 7d\n"
    " delete after completion\n delete after 2y\n"
    " retain 10y from end-of-year\n}\n";

static double
seconds(void)
{
    struct timespec ts;

    /* CPU time of this thread: the machine is shared, wall time is not
     * what a call costs. */
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
    long calls = argc > 1 ? strtol(argv[1], NULL, 10) : 20000000;
    const ret_category *cat[2];
    ret_policy *p = NULL;
    ret_error err;
    ret_decision d;
    unsigned long sum = 0;
    int64_t now = 1796119200; /* 2026-12-01 */
    double t0, t1;
    long i;

    if (calls <= 0)
        calls = 20000000;
    if (ret_policy_parse(policy, sizeof(policy) - 1, "bench", &p, &err) !=
        RET_OK) {
        fprintf(stderr, "decide-bench: %s\n", err.message);
        return 1;
    }
    cat[0] = ret_policy_find(p, "web-access");
    cat[1] = ret_policy_find(p, "contact-form");
    t0 = seconds();
    for (i = 0; i < calls; i++) {
        ret_facts f;

        /* Records spread over 200 days, some completed, held, retained. */
        f.time = now - (int64_t)((unsigned long)i * 2654435761u % 17280000u);
        f.completed_at = f.time + 86400;
        f.retain_until = f.time + 400 * 86400;
        f.flags = (unsigned)(i >> 3) & 15;
        ret_decide(cat[i & 1], &f, now, &d);
        sum += (unsigned)d.action + (unsigned long)d.next_change;
    }
    t1 = seconds();
    printf("%.1f ns/call (%ld calls, checksum %lu)\n",
           (t1 - t0) * 1e9 / (double)calls, calls, sum & 0xffff);
    ret_policy_free(p);
    return 0;
}
