/* cmd-stats.c - retention stats ingest|report|merge: anonymous access
 * statistics. All the work is in the library (ret_stats_*). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <langinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"

static const char usage_text[] =
    "Usage: retention stats ingest [OPTIONS] FILE...\n"
    "       retention stats report [OPTIONS]\n"
    "       retention stats merge -d DB SRC.db...\n"
    "\n"
    "Anonymous access statistics: count logs into a statistics database\n"
    "(no addresses, no profiles), print reports, merge several hosts.\n"
    "Run 'retention stats ingest --help' and so on for each one's options.\n"
    "The database defaults to STATE/statistics.db of the policy (-c), else\n"
    "./statistics.db.\n";

static const char ingest_text[] =
    "Usage: retention stats ingest [-d DB] [-f FMT] [--geoip MMDB] "
    "[--site NAME] FILE...\n"
    "\n"
    "Count access logs (plain or gzip; - is standard input) into the\n"
    "statistics database. Content already counted is skipped: the same\n"
    "file again, its rotated or gzipped copy, the part of a live file read\n"
    "before.\n"
    "\n"
    "Options:\n"
    "  -d, --db DB          statistics database (default: the policy's\n"
    "                       state directory/statistics.db, else\n"
    "                       ./statistics.db)\n"
    "  -f, --format FMT     log format (default auto; see retention formats)\n"
    "      --geoip MMDB     MaxMind database for countries and networks\n"
    "                       (may repeat; default: the policy's)\n"
    "      --site NAME      count under site NAME (default none)\n"
    "      --keep-query     keep query strings in pages and referrers\n"
    "      --full-referrer  keep the referring page, not only its host\n"
    "      --redact REGEX   also redact what REGEX matches (may repeat)\n"
    "      --no-flows       do not count entry/exit pages and transitions\n"
    "      --opt-out-cookie NAME=VALUE  a cookie that opts out, like DNT: 1\n"
    "                       (when the format records the Cookie header)\n"
    "      --now TIME       the clock for destroying visitor keys\n"
    "  -h, --help           show this help\n";

static const char report_text[] =
    "Usage: retention stats report [-d DB] [--from D] [--to D] "
    "[-F text|csv|json|html] [-o FILE] [--top N] [--min-count K] "
    "[--site NAME]\n"
    "\n"
    "Print a report of the statistics database.\n"
    "\n"
    "Options:\n"
    "  -d, --db DB          statistics database (default as for ingest)\n"
    "      --from D         first day (2026-11-01, a time, or @EPOCH)\n"
    "      --to D           last day, inclusive\n"
    "  -F, --format F       text (default), csv, json or html\n"
    "  -o, --output FILE    write there (atomically) instead of stdout\n"
    "      --top N          rows per list (default 10, 0 for all)\n"
    "      --min-count K    fold rows with fewer than K hits into other\n"
    "      --site NAME      only site NAME (default all)\n"
    "  -h, --help           show this help\n";

static const char merge_text[] =
    "Usage: retention stats merge -d DB SRC.db...\n"
    "\n"
    "Add the statistics of other hosts' databases to DB (created when\n"
    "missing). A database already merged into DB is refused: merge into a\n"
    "fresh file to refresh a fleet report.\n"
    "\n"
    "Options:\n"
    "  -d, --db DB          the target database (required)\n"
    "  -h, --help           show this help\n";

/* The default database and GeoIP file from the policy. */
static int
defaults(struct cli *g, char *db, size_t dbsize, char *geo, size_t geosize)
{
    const char *path = cli_policy_path(g);
    ret_policy *p = NULL;
    ret_error err;
    ret_status st;
    size_t i, n;

    snprintf(db, dbsize, "statistics.db");
    if (geo)
        geo[0] = '\0';
    if (path == NULL)
        return EXIT_OK;
    memset(&err, 0, sizeof(err));
    if ((st = ret_policy_load(path, &p, &err)) != RET_OK) {
        int code = cli_fail(g, st, &err);
        return st == RET_E_UNSAFE ? EXIT_USAGE : code;
    }
    n = ret_policy_category_count(p);
    for (i = 0; i < n; i++) {
        const ret_category *c = ret_policy_category(p, i);
        const char *state = ret_category_state_dir(c);
        if (state == NULL || (!ret_category_statistics(c) && i + 1 < n))
            continue;
        snprintf(db, dbsize, "%s/statistics.db", state);
        if (geo && ret_category_geoip(c) != NULL)
            snprintf(geo, geosize, "%s", ret_category_geoip(c));
        break;
    }
    ret_policy_free(p);
    return EXIT_OK;
}

struct prog {
    struct cli_progress bar;
    bool started;
    const struct cli *g;
    const char *label;
};

static void
on_progress(void *ctx, uint64_t done, uint64_t total)
{
    struct prog *p = ctx;

    if (!p->started)
        return;
    p->bar.total = total;
    /* the library calls back every few thousand lines: let each call
     * through cli_progress_update's call counter (it still redraws at
     * most ten times a second) */
    p->bar.calls |= 1023;
    cli_progress_update(&p->bar, done);
}

static int
ingest(struct cli *g, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},
        {"format", required_argument, NULL, 'f'},
        {"geoip", required_argument, NULL, 'G'},
        {"site", required_argument, NULL, 'S'},
        {"keep-query", no_argument, NULL, 'Q'},
        {"full-referrer", no_argument, NULL, 'R'},
        {"redact", required_argument, NULL, 'X'},
        {"no-flows", no_argument, NULL, 'N'},
        {"opt-out-cookie", required_argument, NULL, 'C'},
        {"now", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *fmt = "auto", *site = NULL, *now = NULL;
    const char *cookie = NULL;
    const char *geo[4], *redact[16];
    size_t ngeo = 0, nredact = 0, i;
    bool keep_query = false, full_ref = false, no_flows = false;
    char dbbuf[4096], geobuf[4096], nowbuf[32];
    ret_stats *s = NULL;
    ret_error err;
    ret_status st;
    int ch, rc = EXIT_OK;

    while ((ch = getopt_long(argc, argv, "+:d:f:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'd': db = optarg; break;
        case 'f': fmt = optarg; break;
        case 'G':
            if (ngeo == 4)
                return cli_usage_error(g, "at most four --geoip files");
            geo[ngeo++] = optarg;
            break;
        case 'S': site = optarg; break;
        case 'Q': keep_query = true; break;
        case 'R': full_ref = true; break;
        case 'X':
            if (nredact == 16)
                return cli_usage_error(g, "at most 16 --redact rules");
            redact[nredact++] = optarg;
            break;
        case 'N': no_flows = true; break;
        case 'C': cookie = optarg; break;
        case 'T': now = optarg; break;
        case 'h': return cli_help(ingest_text);
        default:
            return cli_option_error(g, ch, argv);
        }
    }
    if (optind >= argc)
        return cli_usage_error(g, "ingest: no FILE given (- for stdin)");
    if (now != NULL) {
        int64_t t;
        if (!cli_parse_time(g, "--now", now, &t))
            return EXIT_USAGE;
        snprintf(nowbuf, sizeof(nowbuf), "@%" PRId64, t);
    }
    if (db == NULL || ngeo == 0) {
        if ((rc = defaults(g, dbbuf, sizeof(dbbuf), geobuf, sizeof(geobuf))) !=
            EXIT_OK)
            return rc;
        if (db == NULL)
            db = dbbuf;
        if (ngeo == 0 && geobuf[0] != '\0')
            geo[ngeo++] = geobuf;
    }
    memset(&err, 0, sizeof(err));
    if ((st = ret_stats_open(db, &s, &err)) != RET_OK)
        return cli_fail(g, st, &err);
    if (now != NULL && (st = ret_stats_set_option(s, "now", nowbuf, &err)) !=
                           RET_OK)
        goto fail;
    for (i = 0; i < ngeo; i++)
        if ((st = ret_stats_set_geoip(s, geo[i], &err)) != RET_OK)
            goto fail;
    for (i = 0; i < nredact; i++)
        if ((st = ret_stats_set_option(s, "redact", redact[i], &err)) !=
            RET_OK) {
            ret_stats_close(s);
            cli_error(g, "--redact: %s", err.message);
            return EXIT_USAGE;
        }
    if ((keep_query &&
         (st = ret_stats_set_option(s, "query", "yes", &err)) != RET_OK) ||
        (full_ref &&
         (st = ret_stats_set_option(s, "referrer", "full", &err)) != RET_OK) ||
        (no_flows &&
         (st = ret_stats_set_option(s, "flows", "no", &err)) != RET_OK))
        goto fail;
    if (cookie != NULL &&
        ret_stats_set_option(s, "opt-out-cookie", cookie, &err) != RET_OK) {
        ret_stats_close(s);
        return cli_usage_error(g, "--opt-out-cookie: %s", err.message);
    }
    for (i = (size_t)optind; i < (size_t)argc; i++) {
        struct prog p;
        ret_reader *r = NULL;
        uint64_t counted = 0, skipped = 0, unparsed = 0;

        memset(&p, 0, sizeof(p));
        p.g = g;
        p.label = argv[i];
        ret_stats_set_progress(s, on_progress, &p);
        st = ret_reader_open(argv[i], &r, &err);
        if (st == RET_OK) {
            cli_progress_start(&p.bar, g, argv[i], ret_reader_raw_size(r));
            p.started = true;
            st = ret_stats_ingest_reader(s, r, fmt, site, &err);
        }
        ret_reader_free(r);
        if (p.started)
            cli_progress_finish(&p.bar);
        if (st != RET_OK) {
            if (st == RET_E_FORMAT || st == RET_E_INVAL) {
                cli_error(g, "%s", err.message);
                rc = EXIT_USAGE;
                goto out;
            }
            if (strstr(err.message, argv[i]) == NULL) {
                cli_error(g, "%s: %s", argv[i],
                          err.message[0] ? err.message : ret_strerror(st));
                rc = cli_exit_code(st);
            } else {
                rc = cli_fail(g, st, &err);
            }
            continue; /* the other files are still counted */
        }
        ret_stats_last_ingest(s, &counted, &skipped, &unparsed);
        cli_info(g,
                 "%s: %" PRIu64 " lines counted, %" PRIu64
                 " counted before, %" PRIu64 " unparsed",
                 argv[i], counted, skipped, unparsed);
        if (counted == 0 && unparsed > 0)
            cli_warn(g, "%s: no line could be parsed as format %s", argv[i],
                     fmt);
    }
    if ((st = ret_stats_flush(s, &err)) != RET_OK)
        goto fail;
out:
    ret_stats_close(s);
    return rc;
fail:
    rc = cli_fail(g, st, &err);
    ret_stats_close(s);
    return rc;
}

struct sink {
    ret_writer *w;
    FILE *fp;
};

static ret_status
sink_write(void *ctx, const char *data, size_t len)
{
    struct sink *k = ctx;

    if (k->w != NULL)
        return ret_writer_write(k->w, data, len, NULL);
    return fwrite(data, 1, len, k->fp) == len ? RET_OK : RET_E_IO;
}

static int
report(struct cli *g, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},
        {"from", required_argument, NULL, 'A'},
        {"to", required_argument, NULL, 'B'},
        {"format", required_argument, NULL, 'F'},
        {"output", required_argument, NULL, 'o'},
        {"top", required_argument, NULL, 'N'},
        {"min-count", required_argument, NULL, 'K'},
        {"site", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    ret_report_options o;
    const char *db = NULL, *output = NULL;
    char dbbuf[4096];
    struct sink k = {NULL, stdout};
    ret_stats *s = NULL;
    ret_error err;
    ret_status st;
    long n;
    int ch, rc;

    ret_report_options_init(&o);
    while ((ch = getopt_long(argc, argv, "+:d:F:o:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'd': db = optarg; break;
        case 'A':
            if (!cli_parse_time(g, "--from", optarg, &o.from))
                return EXIT_USAGE;
            break;
        case 'B':
            if (!cli_parse_time(g, "--to", optarg, &o.to))
                return EXIT_USAGE;
            break;
        case 'F':
            if (strcmp(optarg, "text") == 0)
                o.format = RET_REPORT_TEXT;
            else if (strcmp(optarg, "csv") == 0)
                o.format = RET_REPORT_CSV;
            else if (strcmp(optarg, "json") == 0)
                o.format = RET_REPORT_JSON;
            else if (strcmp(optarg, "html") == 0)
                o.format = RET_REPORT_HTML;
            else
                return cli_usage_error(g, "unknown report format '%s'",
                                       optarg);
            break;
        case 'o': output = optarg; break;
        case 'N':
            if (!cli_parse_int(g, "--top", optarg, 0, 1000000, &n))
                return EXIT_USAGE;
            o.top = (unsigned)n;
            break;
        case 'K':
            if (!cli_parse_int(g, "--min-count", optarg, 0, 2000000000, &n))
                return EXIT_USAGE;
            o.min_count = (uint64_t)n;
            break;
        case 'S': o.site = optarg; break;
        case 'h': return cli_help(report_text);
        default:
            return cli_option_error(g, ch, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(g, "report: unexpected argument '%s'",
                               argv[optind]);
    if (o.from != INT64_MIN && o.to != INT64_MAX && o.from > o.to)
        return cli_usage_error(g, "--from is after --to");
    if (db == NULL) {
        if ((rc = defaults(g, dbbuf, sizeof(dbbuf), NULL, 0)) != EXIT_OK)
            return rc;
        db = dbbuf;
    }
    if (access(db, F_OK) != 0) {
        cli_error(g, "%s: no statistics database (run retention stats "
                     "ingest first)",
                  db);
        return EXIT_RUNTIME;
    }
    if (o.format == RET_REPORT_TEXT && output == NULL) {
        const char *cs = nl_langinfo(CODESET);
        if (cli_use_color(g, stdout))
            o.flags |= RET_REPORT_COLOR;
        if (cs != NULL && strcmp(cs, "UTF-8") == 0)
            o.flags |= RET_REPORT_UNICODE;
    }
    memset(&err, 0, sizeof(err));
    if ((st = ret_stats_open(db, &s, &err)) != RET_OK)
        return cli_fail(g, st, &err);
    if (output != NULL && strcmp(output, "-") != 0 &&
        (st = ret_writer_open(output, RET_WRITE_ATOMIC, &k.w, &err)) !=
            RET_OK)
        goto fail;
    if ((st = ret_stats_report(s, &o, sink_write, &k, &err)) != RET_OK)
        goto fail;
    if (k.w != NULL) {
        st = ret_writer_commit(k.w, &err);
        k.w = NULL;
        if (st != RET_OK)
            goto fail;
    } else if (fflush(stdout) != 0) {
        cli_error(g, "standard output: %s", strerror(errno));
        ret_stats_close(s);
        return EXIT_RUNTIME;
    }
    ret_stats_close(s);
    return EXIT_OK;
fail:
    rc = cli_fail(g, st, &err);
    ret_writer_free(k.w);
    ret_stats_close(s);
    return rc;
}

static int
merge(struct cli *g, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL;
    ret_stats *s = NULL;
    ret_error err;
    ret_status st;
    int ch, rc = EXIT_OK, i;

    while ((ch = getopt_long(argc, argv, "+:d:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'd': db = optarg; break;
        case 'h': return cli_help(merge_text);
        default:
            return cli_option_error(g, ch, argv);
        }
    }
    if (db == NULL)
        return cli_usage_error(g, "merge: -d DB is required");
    if (optind >= argc)
        return cli_usage_error(g, "merge: no SRC.db given");
    for (i = optind; i < argc; i++)
        if (access(argv[i], R_OK) != 0) {
            cli_error(g, "%s: %s", argv[i], strerror(errno));
            return EXIT_RUNTIME;
        }
    memset(&err, 0, sizeof(err));
    if ((st = ret_stats_open(db, &s, &err)) != RET_OK)
        return cli_fail(g, st, &err);
    for (i = optind; i < argc; i++) {
        if ((st = ret_stats_merge(s, argv[i], &err)) != RET_OK) {
            rc = st == RET_E_INVAL ? (cli_error(g, "%s", err.message),
                                      EXIT_USAGE)
                                   : cli_fail(g, st, &err);
            continue;
        }
        cli_info(g, "%s: merged", argv[i]);
    }
    ret_stats_close(s);
    return rc;
}

int
cmd_stats(struct cli *g, int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
                      strcmp(argv[1], "-h") == 0 ||
                      strcmp(argv[1], "help") == 0))
        return cli_help(usage_text);
    if (argc < 2)
        return cli_usage_error(g, "ingest, report or merge?");
    optind = 0; /* GNU getopt: full reinit for the subcommand */
    if (strcmp(argv[1], "ingest") == 0)
        return ingest(g, argc - 1, argv + 1);
    if (strcmp(argv[1], "report") == 0)
        return report(g, argc - 1, argv + 1);
    if (strcmp(argv[1], "merge") == 0)
        return merge(g, argc - 1, argv + 1);
    return cli_usage_error(g, "unknown subcommand '%s'", argv[1]);
}
