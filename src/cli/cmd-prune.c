/*
 * cmd-prune.c - `retention prune`: delete, rewrite and anonymize what the
 * policy says is due. Also the shared driver of `audit` and `run`
 * (cmd-audit.c, cmd-run.c), which take the same options: the library
 * decides and acts, this file parses options and prints.
 */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

/* The driver shared with cmd-audit.c and cmd-run.c. */
enum prune_mode { MODE_PRUNE = 0, MODE_AUDIT = 1, MODE_RUN = 2 };
int prune_driver(struct cli *g, int argc, char **argv, int mode);

static const char prune_help[] =
    "Usage: retention prune [OPTIONS]\n"
    "       retention prune --max-age D [OPTIONS] FILE...\n"
    "       retention prune --sqlite DB --table T --time-column C --max-age D\n"
    "\n"
    "Delete, rewrite and anonymize what the policy says is due: a file whose\n"
    "newest record is past its limit is deleted, a file that straddles the\n"
    "limit is rewritten without its expired lines, due lines are anonymized.\n"
    "Every record is judged by its own time, never by the file's mtime.\n"
    "\n"
    "Options:\n"
    "  -n, --dry-run           print the plan, change nothing\n"
    "      --now TIME          judge records at TIME (default: now)\n"
    "      --category NAME     only this category of the policy\n"
    "      --wait              wait for another run to finish (default: fail)\n"
    "      --max-runtime D     stop between two files after D (e.g. 30m)\n"
    "      --live-age D        a file modified less than D ago is live and\n"
    "                          left alone (default 5m; 0 turns it off)\n"
    "      --untimed=keep|delete  lines without a time (default keep)\n"
    "  -h, --help              show this help\n"
    "\n"
    "Ad hoc, without a policy file:\n"
    "      --max-age D         delete records older than D (90d, 36h...)\n"
    "      --anonymize-after D anonymize client addresses older than D\n"
    "      --schedule S        daily (default), hourly or none: act one\n"
    "                          period early so nothing outlives D\n"
    "  -f, --format FMT        log format of FILE... (default auto)\n"
    "      --state DIR         lock and audit trail in DIR (default none)\n"
    "      --sqlite DB --table T --time-column C [--hold-column H]\n"
    "      [--completed-column C]   one SQLite table instead of files\n";

static const char audit_help[] =
    "Usage: retention audit [--now TIME] [--json] [--category NAME]\n"
    "       retention audit --max-age D [OPTIONS] FILE...\n"
    "       retention audit --sqlite DB --table T --time-column C --max-age D\n"
    "\n"
    "Report every source holding records older than the policy allows, or\n"
    "not anonymized when due. Exits 3 when there is one. Changes nothing.\n"
    "\n"
    "Options:\n"
    "      --now TIME          judge records at TIME (default: now)\n"
    "      --json              one JSON object per source\n"
    "      --category NAME     only this category of the policy\n"
    "      --untimed=keep|delete  lines without a time (default keep)\n"
    "  -h, --help              show this help\n"
    "\n"
    "Ad hoc, without a policy file: --max-age D, --anonymize-after D,\n"
    "--schedule S, -f FMT, --sqlite DB --table T --time-column C\n"
    "[--hold-column H] [--completed-column C], as for retention prune.\n";

static const char run_help[] =
    "Usage: retention run [--now TIME] [--dry-run] [OPTIONS]\n"
    "\n"
    "The daily job: for every category of the policy, count the logs into\n"
    "the statistics, anonymize and delete what is due, then audit.\n"
    "\n"
    "Options:\n"
    "  -n, --dry-run           print the plan, change nothing (no audit)\n"
    "      --now TIME          judge records at TIME (default: now)\n"
    "      --category NAME     only this category of the policy\n"
    "      --wait              wait for another run to finish (default: fail)\n"
    "      --max-runtime D     stop between two files after D\n"
    "      --live-age D        files modified less than D ago are live\n"
    "                          (default 5m)\n"
    "      --untimed=keep|delete  lines without a time (default keep)\n"
    "  -h, --help              show this help\n";

enum {
    OPT_NOW = 256,
    OPT_CATEGORY,
    OPT_WAIT,
    OPT_MAX_RUNTIME,
    OPT_LIVE_AGE,
    OPT_UNTIMED,
    OPT_MAX_AGE,
    OPT_ANON_AFTER,
    OPT_SCHEDULE,
    OPT_STATE,
    OPT_SQLITE,
    OPT_TABLE,
    OPT_TIME_COL,
    OPT_HOLD_COL,
    OPT_DONE_COL,
    OPT_JSON
};

struct opts {
    int mode;
    bool dry_run, wait, json, untimed_delete;
    bool has_now;
    int64_t now;
    const char *category;
    int64_t max_runtime, live_age;
    /* ad hoc */
    int64_t max_age, anon_after, schedule;
    bool schedule_given;
    const char *format, *state;
    const char *sqlite, *table, *time_col, *hold_col, *done_col;
};

/* What the callback saw. */
struct seen {
    const struct cli *g;
    const struct opts *o;
    size_t problems, violations;
    /* The progress bar of the file being read. */
    struct cli_progress bar;
    bool bar_started;
    int bar_phase;
    char label[80];
    char bar_path[4096];
};

static void
bar_end(struct seen *s)
{
    if (s->bar_started)
        cli_progress_finish(&s->bar);
    s->bar_started = false;
}

static void
on_progress(const char *path, int phase, uint64_t done, uint64_t total,
            void *arg)
{
    struct seen *s = arg;

    if (!s->bar_started || s->bar_phase != phase ||
        strcmp(s->bar_path, path) != 0) {
        const char *base = strrchr(path, '/');

        bar_end(s);
        snprintf(s->bar_path, sizeof(s->bar_path), "%s", path);
        snprintf(s->label, sizeof(s->label), "%s %.60s",
                 phase == 0 ? "reading" : "rewriting",
                 base != NULL ? base + 1 : path);
        cli_progress_start(&s->bar, s->g, s->label, total);
        s->bar_started = true;
        s->bar_phase = phase;
    }
    cli_progress_update(&s->bar, done);
}

static bool
parse_duration(const struct cli *g, const char *opt, const char *text,
               int64_t *out)
{
    ret_error err;

    if (ret_duration_parse(text, strlen(text), out, &err) == RET_OK)
        return true;
    cli_usage_error(g, "%s: %s", opt, err.message);
    return false;
}

/* "95d 3h", "2h 5m", "40s". */
static void
human_age(char *buf, size_t size, int64_t s)
{
    if (s < 0)
        s = 0;
    if (s >= 86400)
        snprintf(buf, size, "%" PRId64 "d %" PRId64 "h", s / 86400,
                 s % 86400 / 3600);
    else if (s >= 3600)
        snprintf(buf, size, "%" PRId64 "h %" PRId64 "m", s / 3600,
                 s % 3600 / 60);
    else if (s >= 60)
        snprintf(buf, size, "%" PRId64 "m %" PRId64 "s", s / 60, s % 60);
    else
        snprintf(buf, size, "%" PRId64 "s", s);
}

static void
json_str(const char *s)
{
    putchar('"');
    for (; s != NULL && *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void
json_time(const char *key, int64_t t)
{
    char buf[21];

    if (t == 0) {
        printf(",\"%s\":null", key);
        return;
    }
    ret_time_format(t, buf);
    printf(",\"%s\":\"%s\"", key, buf);
}

static void
print_audit_json(const struct seen *s, const ret_prune_report *r)
{
    printf("{\"category\":");
    json_str(r->category);
    printf(",\"source\":");
    json_str(r->source);
    if (r->table != NULL) {
        printf(",\"table\":");
        json_str(r->table);
    }
    printf(",\"status\":\"%s\"", r->outcome == RET_PRUNE_VIOLATION ? "violation"
                                 : r->outcome == RET_PRUNE_COMPLIANT
                                     ? "compliant"
                                     : "error");
    json_time("oldest", r->oldest);
    if (r->oldest != 0)
        printf(",\"oldest_age\":%" PRId64, s->o->now - r->oldest);
    else
        printf(",\"oldest_age\":null");
    if (r->limit >= 0)
        printf(",\"limit\":%" PRId64, r->limit);
    else
        printf(",\"limit\":null");
    printf(",\"records\":%" PRIu64 ",\"expired\":%" PRIu64
           ",\"not_anonymized\":%" PRIu64 ",\"untimed\":%" PRIu64,
           r->lines, r->dropped, r->anonymized, r->untimed);
    if (r->table != NULL)
        printf(",\"restricted\":%" PRIu64 ",\"held\":%" PRIu64,
               r->table_result.restricted, r->table_result.held);
    printf(",\"error\":");
    if (r->message != NULL)
        json_str(r->message);
    else
        printf("null");
    printf("}\n");
}

static void
print_audit_text(const struct seen *s, const ret_prune_report *r)
{
    char age[32], lim[32], src[4200];

    if (r->table != NULL)
        snprintf(src, sizeof(src), "%s %s", r->source, r->table);
    else
        snprintf(src, sizeof(src), "%s", r->source);
    human_age(age, sizeof(age), s->o->now - r->oldest);
    human_age(lim, sizeof(lim), r->limit);
    if (r->outcome == RET_PRUNE_VIOLATION) {
        printf("violation %s %s:", r->category, src);
        if (r->oldest != 0 && r->limit >= 0)
            printf(" oldest record %s old, limit %s;", age, lim);
        printf(" %" PRIu64 " past the limit", r->dropped);
        if (r->table != NULL && r->table_result.restricted > 0)
            printf(", %" PRIu64 " to restrict", r->table_result.restricted);
        if (r->anonymized > 0)
            printf(", %" PRIu64 " not anonymized", r->anonymized);
        printf("\n");
    } else if (r->outcome == RET_PRUNE_COMPLIANT && s->g->verbose > 0) {
        if (r->oldest != 0)
            printf("compliant %s %s: oldest record %s old\n", r->category, src,
                   age);
        else
            printf("compliant %s %s: no dated record\n", r->category, src);
    }
}

static void
print_prune(const struct seen *s, const ret_prune_report *r)
{
    bool show = s->o->dry_run || s->g->verbose > 0;
    bool show_keep = s->g->verbose > (s->o->dry_run ? 0 : 1);
    char newest[21];

    switch (r->outcome) {
    case RET_PRUNE_KEPT:
        if (show_keep)
            printf("keep %s: %" PRIu64 " lines\n", r->source, r->lines);
        break;
    case RET_PRUNE_DELETED:
        if (show) {
            printf("delete %s: %" PRIu64 " lines", r->source, r->lines);
            if (r->newest != 0) {
                ret_time_format(r->newest, newest);
                printf(", newest %s", newest);
            }
            printf("\n");
        }
        break;
    case RET_PRUNE_REWRITTEN:
        if (show)
            printf("rewrite %s: drop %" PRIu64 ", anonymize %" PRIu64
                   ", keep %" PRIu64 " of %" PRIu64 " lines\n",
                   r->source, r->dropped, r->anonymized, r->kept, r->lines);
        break;
    case RET_PRUNE_TABLE:
        if (show)
            printf("table %s %s: delete %" PRIu64 ", restrict %" PRIu64
                   ", anonymize %" PRIu64 " of %" PRIu64 " rows, %" PRIu64
                   " held\n",
                   r->source, r->table, r->table_result.deleted,
                   r->table_result.restricted, r->table_result.anonymized,
                   r->table_result.examined, r->table_result.held);
        if (s->g->verbose > 0 && !s->o->dry_run)
            printf("table %s %s: longest write lock %.1f ms, final "
                   "checkpoint %.1f ms\n",
                   r->source, r->table, r->table_result.max_lock_ms,
                   r->table_result.checkpoint_ms);
        break;
    default:
        break;
    }
}

/* The notes of a table source (ret_table_result.flags), as warnings. */
static void
warn_table(const struct seen *s, const ret_prune_report *r)
{
    unsigned f = r->table_result.flags;

    if (r->table == NULL)
        return;
    if (f & RET_TABLE_NO_INDEX)
        cli_warn(s->g, "%s %s: the time column has no index: the query "
                 "plan is a scan", r->source, r->table);
    if (f & RET_TABLE_WAL_KEPT)
        cli_warn(s->g, "%s %s: readers kept the WAL from being truncated: "
                 "deleted data may remain in it until the next checkpoint",
                 r->source, r->table);
    /* Not a warning: nothing deleted stays readable (secure_delete), the
     * file only does not shrink, and a daily cron job would say so
     * every day. */
    if (f & RET_TABLE_NO_VACUUM)
        cli_info(s->g, "%s %s: auto_vacuum is not incremental: freed pages "
                 "stay in the file (zeroed)", r->source, r->table);
}

static void
on_report(const ret_prune_report *r, void *arg)
{
    struct seen *s = arg;

    bar_end(s);
    if (r->outcome == RET_PRUNE_DEFERRED || r->outcome == RET_PRUNE_REFUSED ||
        r->outcome == RET_PRUNE_FAILED) {
        s->problems++;
        cli_error(s->g, "%s", r->message != NULL ? r->message : "failed");
    } else if (r->untimed > 0 && !s->o->untimed_delete) {
        cli_warn(s->g, "%s: %" PRIu64 " line%s without a time kept", r->source,
                 r->untimed, r->untimed == 1 ? "" : "s");
    }
    warn_table(s, r);
    if (r->outcome == RET_PRUNE_VIOLATION)
        s->violations++;
    if (s->o->mode == MODE_AUDIT) {
        if (s->o->json)
            print_audit_json(s, r);
        else
            print_audit_text(s, r);
    } else if (r->outcome == RET_PRUNE_VIOLATION ||
               r->outcome == RET_PRUNE_COMPLIANT) {
        print_audit_text(s, r); /* the audit step of run */
    } else {
        print_prune(s, r);
    }
    fflush(stdout);
}

static int
parse_opts(struct cli *g, int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        {"dry-run", no_argument, NULL, 'n'},
        {"now", required_argument, NULL, OPT_NOW},
        {"category", required_argument, NULL, OPT_CATEGORY},
        {"wait", no_argument, NULL, OPT_WAIT},
        {"max-runtime", required_argument, NULL, OPT_MAX_RUNTIME},
        {"live-age", required_argument, NULL, OPT_LIVE_AGE},
        {"untimed", required_argument, NULL, OPT_UNTIMED},
        {"max-age", required_argument, NULL, OPT_MAX_AGE},
        {"anonymize-after", required_argument, NULL, OPT_ANON_AFTER},
        {"schedule", required_argument, NULL, OPT_SCHEDULE},
        {"format", required_argument, NULL, 'f'},
        {"state", required_argument, NULL, OPT_STATE},
        {"sqlite", required_argument, NULL, OPT_SQLITE},
        {"table", required_argument, NULL, OPT_TABLE},
        {"time-column", required_argument, NULL, OPT_TIME_COL},
        {"hold-column", required_argument, NULL, OPT_HOLD_COL},
        {"completed-column", required_argument, NULL, OPT_DONE_COL},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *help = o->mode == MODE_AUDIT ? audit_help
                       : o->mode == MODE_RUN ? run_help
                                             : prune_help;
    int ch, li;

    while ((li = -1, ch = getopt_long(argc, argv, ":nf:h", longopts, &li)) !=
           -1) {
        /* Options that do not belong to this command. */
        if ((o->mode == MODE_AUDIT &&
             (ch == 'n' || ch == OPT_WAIT || ch == OPT_MAX_RUNTIME ||
              ch == OPT_LIVE_AGE || ch == OPT_STATE)) ||
            (o->mode != MODE_AUDIT && ch == OPT_JSON) ||
            (o->mode == MODE_RUN &&
             (ch == 'f' || (ch >= OPT_MAX_AGE && ch <= OPT_DONE_COL)))) {
            if (li >= 0)
                cli_usage_error(g, "unknown option '--%s'", longopts[li].name);
            else
                cli_usage_error(g, "unknown option '-%c'", ch);
            return -1;
        }
        switch (ch) {
        case 'n':
            o->dry_run = true;
            break;
        case OPT_NOW:
            if (!cli_parse_time(g, "--now", optarg, &o->now))
                return -1;
            o->has_now = true;
            break;
        case OPT_CATEGORY:
            o->category = optarg;
            break;
        case OPT_WAIT:
            o->wait = true;
            break;
        case OPT_MAX_RUNTIME:
            if (!parse_duration(g, "--max-runtime", optarg, &o->max_runtime))
                return -1;
            break;
        case OPT_LIVE_AGE:
            if (!parse_duration(g, "--live-age", optarg, &o->live_age))
                return -1;
            break;
        case OPT_UNTIMED:
            if (strcmp(optarg, "keep") == 0)
                o->untimed_delete = false;
            else if (strcmp(optarg, "delete") == 0)
                o->untimed_delete = true;
            else {
                cli_usage_error(g, "--untimed: '%s' is not keep or delete",
                                optarg);
                return -1;
            }
            break;
        case OPT_MAX_AGE:
            if (!parse_duration(g, "--max-age", optarg, &o->max_age))
                return -1;
            if (o->max_age <= 0) {
                cli_usage_error(g, "--max-age must be more than 0");
                return -1;
            }
            break;
        case OPT_ANON_AFTER:
            if (!parse_duration(g, "--anonymize-after", optarg, &o->anon_after))
                return -1;
            if (o->anon_after <= 0) {
                cli_usage_error(g, "--anonymize-after must be more than 0");
                return -1;
            }
            break;
        case OPT_SCHEDULE:
            o->schedule_given = true;
            if (strcmp(optarg, "daily") == 0)
                o->schedule = 86400;
            else if (strcmp(optarg, "hourly") == 0)
                o->schedule = 3600;
            else if (strcmp(optarg, "none") == 0)
                o->schedule = 0;
            else {
                cli_usage_error(g,
                                "--schedule: '%s' is not daily, hourly "
                                "or none",
                                optarg);
                return -1;
            }
            break;
        case 'f':
            o->format = optarg;
            break;
        case OPT_STATE:
            o->state = optarg;
            break;
        case OPT_SQLITE:
            o->sqlite = optarg;
            break;
        case OPT_TABLE:
            o->table = optarg;
            break;
        case OPT_TIME_COL:
            o->time_col = optarg;
            break;
        case OPT_HOLD_COL:
            o->hold_col = optarg;
            break;
        case OPT_DONE_COL:
            o->done_col = optarg;
            break;
        case OPT_JSON:
            o->json = true;
            break;
        case 'h':
            cli_help(help);
            return 1;
        default:
            cli_option_error(g, ch, argv);
            return -1;
        }
    }
    return 0;
}

/* Locks the state directories of the categories, in order, once each. */
static int
lock_all(struct cli *g, const struct opts *o, const ret_category *const *cats,
         size_t n, ret_lock **locks, size_t *nlocks)
{
    ret_error err;
    ret_status st;
    size_t i, j;

    *nlocks = 0;
    for (i = 0; i < n; i++) {
        const char *dir = ret_category_state_dir(cats[i]);
        bool dup = false;

        if (dir == NULL || dir[0] == '\0')
            continue;
        for (j = 0; j < i; j++) {
            const char *d2 = ret_category_state_dir(cats[j]);

            if (d2 != NULL && strcmp(d2, dir) == 0)
                dup = true;
        }
        if (dup)
            continue;
        st = ret_lock_state(dir, o->wait ? RET_LOCK_WAIT : 0, &locks[*nlocks],
                            &err);
        if (st != RET_OK)
            return cli_fail(g, st, &err);
        (*nlocks)++;
    }
    return EXIT_OK;
}

static int
exit_code(const struct seen *s, ret_status worst, int mode)
{
    bool bad = worst != RET_OK && worst != RET_E_VIOLATION;
    bool failed = s->problems > 0 || bad;
    int fail_rc = cli_exit_code(bad ? worst : RET_E_IO);

    if (mode == MODE_AUDIT)
        return s->violations > 0 ? EXIT_VIOLATION : failed ? fail_rc : EXIT_OK;
    if (failed)
        return fail_rc;
    return s->violations > 0 ? EXIT_VIOLATION : EXIT_OK;
}

int
prune_driver(struct cli *g, int argc, char **argv, int mode)
{
    struct opts o;
    struct seen seen;
    ret_policy *policy = NULL;
    ret_pruner *pr = NULL;
    const ret_category **cats = NULL;
    ret_lock **locks = NULL;
    size_t ncats = 0, nlocks = 0, i;
    ret_status st, worst = RET_OK;
    ret_error err;
    bool adhoc;
    int rc = EXIT_OK;

    memset(&o, 0, sizeof(o));
    o.mode = mode;
    o.live_age = 300;
    o.anon_after = -1;
    o.schedule = 86400;
    rc = parse_opts(g, argc, argv, &o);
    if (rc != 0)
        return rc < 0 ? EXIT_USAGE : EXIT_OK;
    if (!o.has_now)
        cli_parse_time(g, "--now", "now", &o.now);
    argc -= optind;
    argv += optind;
    adhoc = o.max_age > 0 || o.sqlite != NULL;

    if (o.sqlite != NULL) {
        if (o.table == NULL || o.time_col == NULL || o.max_age <= 0)
            return cli_usage_error(g, "--sqlite needs --table, "
                                      "--time-column and --max-age");
        if (argc > 0)
            return cli_usage_error(g, "--sqlite takes no FILE");
        st = ret_policy_adhoc_table(o.sqlite, o.table, o.time_col, o.hold_col,
                                    o.done_col, o.max_age, o.schedule, o.state,
                                    &policy, &err);
    } else if (adhoc) {
        if (argc == 0)
            return cli_usage_error(g, "--max-age needs one FILE or more");
        if (o.table != NULL || o.time_col != NULL || o.hold_col != NULL ||
            o.done_col != NULL)
            return cli_usage_error(g, "--table and the column options go "
                                      "with --sqlite");
        if (o.anon_after > 0 && o.anon_after >= o.max_age)
            return cli_usage_error(g, "--anonymize-after must be less than "
                                      "--max-age");
        st = ret_policy_adhoc_files(o.format, o.max_age, o.anon_after,
                                    o.schedule, o.state, &policy, &err);
    } else {
        const char *path = cli_policy_path(g);

        if (o.anon_after > 0 || o.format != NULL || o.table != NULL ||
            o.time_col != NULL || o.hold_col != NULL || o.done_col != NULL ||
            o.state != NULL || o.schedule_given)
            return cli_usage_error(g, "these options need --max-age (ad "
                                      "hoc use)");
        if (argc > 0)
            return cli_usage_error(g, "FILE arguments need --max-age; the "
                                      "policy names its files");
        if (path == NULL)
            return cli_usage_error(g, "no policy: give -c FILE, set "
                                      "RETENTION_CONF, or use --max-age");
        st = ret_policy_load(path, &policy, &err);
    }
    if (st != RET_OK) {
        rc = cli_fail(g, st, &err);
        goto out;
    }

    ncats = ret_policy_category_count(policy);
    if ((cats = calloc(ncats + 1, sizeof(*cats))) == NULL ||
        (locks = calloc(ncats + 1, sizeof(*locks))) == NULL) {
        cli_error(g, "out of memory");
        rc = EXIT_RUNTIME;
        goto out;
    }
    if (o.category != NULL) {
        if ((cats[0] = ret_policy_find(policy, o.category)) == NULL) {
            rc = cli_usage_error(g, "no category '%s' in the policy",
                                 o.category);
            goto out;
        }
        ncats = 1;
    } else {
        for (i = 0; i < ncats; i++)
            cats[i] = ret_policy_category(policy, i);
    }

    /* Ad hoc without --state: no lock, no audit trail. */
    if (mode != MODE_AUDIT && !o.dry_run && (!adhoc || o.state != NULL) &&
        (rc = lock_all(g, &o, cats, ncats, locks, &nlocks)) != EXIT_OK)
        goto out;

    if ((st = ret_pruner_new(policy, &pr, &err)) != RET_OK) {
        rc = cli_fail(g, st, &err);
        goto out;
    }
    memset(&seen, 0, sizeof(seen));
    seen.g = g;
    seen.o = &o;
    ret_pruner_set_now(pr, o.now);
    ret_pruner_set_live_age(pr, o.live_age);
    ret_pruner_set_max_runtime(pr, o.max_runtime);
    ret_pruner_set_callback(pr, on_report, &seen);
    ret_pruner_set_progress(pr, on_progress, &seen);
    ret_pruner_set_flags(
        pr, (o.dry_run ? RET_PRUNE_DRY_RUN : 0u) |
                (o.untimed_delete ? RET_PRUNE_UNTIMED_DELETE : 0u) |
                (mode == MODE_RUN ? RET_PRUNE_INGEST : 0u) |
                (adhoc && o.state == NULL ? RET_PRUNE_NO_STATE : 0u));

    for (i = 0; i < ncats; i++) {
        size_t before = seen.problems;

        memset(&err, 0, sizeof(err));
        if (mode == MODE_AUDIT && adhoc && o.sqlite == NULL)
            st = ret_audit_files(pr, cats[i], o.format,
                                 (const char *const *)argv, (size_t)argc, &err);
        else if (mode == MODE_AUDIT)
            st = ret_audit_category(pr, cats[i], &err);
        else if (adhoc && o.sqlite == NULL)
            st = ret_prune_files(pr, cats[i], o.format,
                                 (const char *const *)argv, (size_t)argc, &err);
        else
            st = ret_prune_category(pr, cats[i], &err);
        if (st == RET_E_TIMEOUT) {
            cli_error(g, "%s", err.message);
            worst = st;
            break;
        }
        /* Problems of single sources were reported by the callback. */
        if (st != RET_OK && st != RET_E_VIOLATION && seen.problems == before)
            cli_fail(g, st, &err);
        if (st != RET_OK && (worst == RET_OK || worst == RET_E_VIOLATION))
            worst = st;
    }
    if (mode == MODE_RUN && !o.dry_run && worst != RET_E_TIMEOUT) {
        for (i = 0; i < ncats; i++) {
            memset(&err, 0, sizeof(err));
            st = ret_audit_category(pr, cats[i], &err);
            if (st != RET_OK && st != RET_E_VIOLATION)
                cli_fail(g, st, &err);
            if (st != RET_OK && worst == RET_OK)
                worst = st;
        }
    }
    rc = exit_code(&seen, worst, mode);
out:
    ret_pruner_free(pr);
    for (i = 0; i < nlocks; i++)
        ret_lock_release(locks[i]);
    free(locks);
    free(cats);
    ret_policy_free(policy);
    return rc;
}

int
cmd_prune(struct cli *g, int argc, char **argv)
{
    return prune_driver(g, argc, argv, MODE_PRUNE);
}
