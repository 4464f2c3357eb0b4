/*
 * cmd-erase.c - `retention erase`: the right to erasure. Deletes one
 * person's records from every SQLite source of the policy that maps a
 * subject column; held and statutory-retained records are kept and
 * reported. The library decides and deletes (ret_table_erase).
 */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "commands.h"

static const char erase_help[] =
    "Usage: retention erase --subject ID [--category NAME] [--dry-run]\n"
    "\n"
    "Delete every record of one person (the subject column of the policy's\n"
    "tables: customer number, user) from every SQLite source of the policy.\n"
    "Records under a legal hold or a statutory retention period are kept\n"
    "(the latter restricted) and reported.\n"
    "\n"
    "Options:\n"
    "  -s, --subject ID        the person's identifier as stored\n"
    "      --category NAME     only this category of the policy\n"
    "  -n, --dry-run           count what would be erased, change nothing\n"
    "      --now TIME          judge retention periods at TIME (default now)\n"
    "  -h, --help              show this help\n";

enum { OPT_CATEGORY = 256, OPT_NOW };

static void
report(const struct cli *g, const ret_category *c, const ret_source *s,
       const ret_table_result *r, bool dry)
{
    if (g->quiet)
        return;
    printf("%s: %s %s: %" PRIu64 " %s", ret_category_name(c),
           ret_source_path(s), ret_source_table(s), r->deleted,
           dry ? "to erase" : "erased");
    if (r->held)
        printf(", %" PRIu64 " held (kept)", r->held);
    if (r->retained)
        printf(", %" PRIu64 " under statutory retention (kept%s)",
               r->retained, r->restricted ? ", restricted" : "");
    putchar('\n');
    if (r->flags & RET_TABLE_NO_INDEX)
        cli_info(g, "%s: %s: the subject column has no index",
                 ret_source_path(s), ret_source_table(s));
    if (r->flags & RET_TABLE_WAL_KEPT)
        cli_warn(g, "%s: readers kept the WAL from being truncated: erased "
                    "data stays in it until the next checkpoint",
                 ret_source_path(s));
}

int
cmd_erase(struct cli *g, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"subject", required_argument, NULL, 's'},
        {"category", required_argument, NULL, OPT_CATEGORY},
        {"dry-run", no_argument, NULL, 'n'},
        {"now", required_argument, NULL, OPT_NOW},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *subject = NULL, *category = NULL, *path;
    ret_policy *policy = NULL;
    ret_table_result total;
    int64_t now = (int64_t)time(NULL);
    bool dry = false;
    size_t i, n, sources = 0, failed = 0;
    ret_status st;
    ret_error err;
    int ch, rc = EXIT_OK;

    while ((ch = getopt_long(argc, argv, ":s:nh", longopts, NULL)) != -1) {
        switch (ch) {
        case 's':
            subject = optarg;
            break;
        case OPT_CATEGORY:
            category = optarg;
            break;
        case 'n':
            dry = true;
            break;
        case OPT_NOW:
            if (!cli_parse_time(g, "--now", optarg, &now))
                return EXIT_USAGE;
            break;
        case 'h':
            return cli_help(erase_help);
        default:
            return cli_option_error(g, ch, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(g, "unexpected argument '%s'", argv[optind]);
    if (subject == NULL || *subject == '\0')
        return cli_usage_error(g, "--subject ID is required");
    if ((path = cli_policy_path(g)) == NULL)
        return cli_usage_error(g, "no policy: give -c FILE or set "
                                  "RETENTION_CONF");
    if ((st = ret_policy_load(path, &policy, &err)) != RET_OK)
        return cli_fail(g, st, &err);
    if (category != NULL && ret_policy_find(policy, category) == NULL) {
        rc = cli_usage_error(g, "no category '%s' in the policy", category);
        goto out;
    }
    memset(&total, 0, sizeof(total));
    n = ret_policy_category_count(policy);
    for (i = 0; i < n; i++) {
        const ret_category *c = ret_policy_category(policy, i);
        size_t j, m = ret_category_source_count(c);

        if (category != NULL && strcmp(ret_category_name(c), category) != 0)
            continue;
        for (j = 0; j < m; j++) {
            const ret_source *s = ret_category_source(c, j);
            ret_table_result r;

            if (ret_source_type(s) != RET_SOURCE_SQLITE ||
                ret_source_column(s, RET_COL_SUBJECT) == NULL)
                continue;
            sources++;
            st = ret_table_erase(c, s, subject, now,
                                 dry ? RET_PRUNE_DRY_RUN : 0, &r, &err);
            if (st != RET_OK) {
                cli_fail(g, st, &err);
                failed++;
                continue;
            }
            report(g, c, s, &r, dry);
            total.deleted += r.deleted;
            total.held += r.held;
            total.retained += r.retained;
        }
    }
    if (sources == 0) {
        cli_error(g, "%s%s%s has no SQLite table with a subject column "
                     "(table ... subject=COLUMN)",
                  category ? "category '" : "the policy",
                  category ? category : "", category ? "'" : "");
        rc = EXIT_USAGE;
        goto out;
    }
    if (!g->quiet && sources > 1)
        printf("total: %" PRIu64 " %s, %" PRIu64 " held, %" PRIu64
               " retained\n",
               total.deleted, dry ? "to erase" : "erased", total.held,
               total.retained);
    if (failed)
        rc = EXIT_RUNTIME;
out:
    ret_policy_free(policy);
    return rc;
}
