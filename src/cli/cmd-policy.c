/* cmd-policy.c - retention policy check|explain|decide. */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

static const char usage_text[] =
    "Usage: retention policy check [-v] [FILE]\n"
    "       retention policy explain [FILE]\n"
    "       retention policy decide [OPTIONS] CATEGORY TIME\n"
    "\n"
    "Validate a policy (retention.conf(5)), explain each category's\n"
    "lifecycle in words, or show what the policy decides for one record.\n"
    "FILE is a policy file or a directory of *.conf; the default is -c,\n"
    "$RETENTION_CONF, /etc/retention.conf or /etc/retention.d/.\n"
    "\n"
    "check:\n"
    "  -v, --verbose          say what was read (else quiet when valid)\n"
    "\n"
    "decide (TIME is the record's own time):\n"
    "  -p, --policy FILE      the policy (default as above)\n"
    "      --now TIME         judge at TIME instead of the current time\n"
    "      --completed TIME   the request was completed at TIME\n"
    "      --retain-until TIME  a statutory retention runs until TIME\n"
    "      --held             the record is under a legal hold\n"
    "      --restricted       the record is already restricted\n"
    "      --json             print the decision as one JSON object\n"
    "  -h, --help             show this help\n"
    "\n"
    "Times: 2026-12-01, 2026-12-01T10:00:00Z, 2026-12-01 11:00:00+01:00,\n"
    "@EPOCH or now.\n";

static int
load(struct cli *g, const char *path, ret_policy **out)
{
    ret_error err;
    ret_status st;

    if (path == NULL)
        path = cli_policy_path(g);
    if (path == NULL)
        return cli_usage_error(g, "no policy: give FILE, -c PATH or set "
                                  "RETENTION_CONF");
    memset(&err, 0, sizeof(err));
    if ((st = ret_policy_load(path, out, &err)) != RET_OK) {
        int code = cli_fail(g, st, &err);

        /* A policy that is refused is as good as an invalid one. */
        return st == RET_E_UNSAFE ? EXIT_USAGE : code;
    }
    return EXIT_OK;
}

static int
check(struct cli *g, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *prev = NULL;
    ret_policy *p = NULL;
    int ch, rc;
    size_t i;

    while ((ch = getopt_long(argc, argv, "+vh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'v':
            g->verbose++;
            break;
        case 'h':
            return cli_help(usage_text);
        default:
            return cli_option_error(g, ch, argv);
        }
    }
    if (argc - optind > 1)
        return cli_usage_error(g, "check takes one FILE");
    if ((rc = load(g, optind < argc ? argv[optind] : NULL, &p)) != EXIT_OK)
        return rc;
    if (g->verbose > 0 && !g->quiet) {
        for (i = 0; i < ret_policy_category_count(p); i++) {
            const ret_category *c = ret_policy_category(p, i);
            const char *file = ret_category_policy_file(c);
            size_t n = 0, j;

            if (prev != NULL && strcmp(prev, file) == 0)
                continue;
            prev = file;
            for (j = i; j < ret_policy_category_count(p); j++)
                if (strcmp(ret_category_policy_file(
                               ret_policy_category(p, j)),
                           file) == 0)
                    n++;
            printf("%s: valid: %s, version %s, %zu categor%s\n", file,
                   ret_category_controller(c), ret_category_version(c), n,
                   n == 1 ? "y" : "ies");
        }
        printf("hash %s\n", ret_policy_hash(p));
    }
    ret_policy_free(p);
    return EXIT_OK;
}

static void
print_source(const ret_source *s)
{
    if (ret_source_type(s) == RET_SOURCE_FILES) {
        printf("  source: files %s (format %s)\n", ret_source_path(s),
               ret_source_format(s));
        return;
    }
    printf("  source: table %s in %s\n", ret_source_table(s),
           ret_source_path(s));
}

static int
explain(struct cli *g, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    ret_policy *p = NULL;
    char *text = NULL;
    size_t i, j, cap = 0;
    int ch, rc;

    while ((ch = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        if (ch == 'h')
            return cli_help(usage_text);
        return cli_option_error(g, ch, argv);
    }
    if (argc - optind > 1)
        return cli_usage_error(g, "explain takes one FILE");
    if ((rc = load(g, optind < argc ? argv[optind] : NULL, &p)) != EXIT_OK)
        return rc;
    for (i = 0; i < ret_policy_category_count(p); i++) {
        const ret_category *c = ret_policy_category(p, i);
        size_t n = ret_category_explain(c, NULL, 0);
        int64_t eff;

        if (n + 1 > cap) {
            char *nt = realloc(text, n + 1);

            if (nt == NULL) {
                cli_error(g, "out of memory");
                rc = EXIT_RUNTIME;
                goto out;
            }
            text = nt;
            cap = n + 1;
        }
        ret_category_explain(c, text, cap);
        if (i > 0)
            putchar('\n');
        printf("%s (%s, version %s", ret_category_name(c),
               ret_category_controller(c), ret_category_version(c));
        if (ret_category_effective(c, &eff)) {
            char buf[21];

            ret_time_format(eff, buf);
            buf[10] = '\0';
            printf(", effective %s", buf);
        }
        printf(")\n");
        if (ret_category_description(c) != NULL)
            printf("  %s\n", ret_category_description(c));
        if (ret_category_personal(c) != NULL)
            printf("  personal data: %s\n", ret_category_personal(c));
        if (ret_category_purpose(c) != NULL)
            printf("  purpose: %s\n", ret_category_purpose(c));
        for (j = 0; j < ret_category_source_count(c); j++)
            print_source(ret_category_source(c, j));
        printf("  %s\n", text);
    }
out:
    free(text);
    ret_policy_free(p);
    return rc;
}

static void
json_string(const char *s)
{
    putchar('"');
    for (; s != NULL && *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void
print_fields(unsigned fields, bool json)
{
    bool first = true;
    unsigned f;

    for (f = 0; f < RET_F__COUNT; f++) {
        const char *name = ret_policy_field_name((ret_field)f);

        if (!(fields & (1u << f)) || name == NULL)
            continue;
        if (json)
            printf("%s\"%s\"", first ? "" : ",", name);
        else
            printf("%s%s", first ? "" : ", ", name);
        first = false;
    }
}

static void
print_action(const ret_decision *d)
{
    fputs(ret_action_name(d->action), stdout);
    if (d->fields == 0)
        return;
    printf(d->action == RET_ANONYMIZE ? " " : " (and anonymize ");
    print_fields(d->fields, false);
    if (d->fields & ((1u << RET_F_CLIENT) | (1u << RET_F_XFF))) {
        if (d->method == RET_ANON_ZERO)
            printf(": zero");
        else
            printf(": %s to /%d and /%d", ret_policy_method_name(d->method),
                   d->ipv4_prefix, d->ipv6_prefix);
    }
    if (d->action != RET_ANONYMIZE)
        putchar(')');
}

static int
decide(struct cli *g, int argc, char **argv)
{
    enum { O_NOW = 256, O_COMPLETED, O_RETAIN, O_HELD, O_RESTRICTED, O_JSON };
    static const struct option longopts[] = {
        {"policy", required_argument, NULL, 'p'},
        {"now", required_argument, NULL, O_NOW},
        {"completed", required_argument, NULL, O_COMPLETED},
        {"retain-until", required_argument, NULL, O_RETAIN},
        {"held", no_argument, NULL, O_HELD},
        {"restricted", no_argument, NULL, O_RESTRICTED},
        {"json", no_argument, NULL, O_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL, *now_text = "now";
    const ret_category *c;
    ret_policy *p = NULL;
    ret_facts f = {0, 0, 0, 0};
    ret_decision d, next;
    bool json = false, have_next = false;
    char tbuf[21], nbuf[21], xbuf[21];
    int64_t now;
    int ch, rc;

    while ((ch = getopt_long(argc, argv, "+:p:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'p':
            path = optarg;
            break;
        case O_NOW:
            now_text = optarg;
            break;
        case O_COMPLETED:
            if (!cli_parse_time(g, "--completed", optarg, &f.completed_at))
                return EXIT_USAGE;
            f.flags |= RET_FACT_COMPLETED;
            break;
        case O_RETAIN:
            if (!cli_parse_time(g, "--retain-until", optarg,
                                &f.retain_until))
                return EXIT_USAGE;
            f.flags |= RET_FACT_RETAIN;
            break;
        case O_HELD:
            f.flags |= RET_FACT_HELD;
            break;
        case O_RESTRICTED:
            f.flags |= RET_FACT_RESTRICTED;
            break;
        case O_JSON:
            json = true;
            break;
        case 'h':
            return cli_help(usage_text);
        default:
            return cli_option_error(g, ch, argv);
        }
    }
    if (argc - optind != 2)
        return cli_usage_error(g, "decide needs CATEGORY and TIME");
    if (!cli_parse_time(g, "TIME", argv[optind + 1], &f.time) ||
        !cli_parse_time(g, "--now", now_text, &now))
        return EXIT_USAGE;
    if ((rc = load(g, path, &p)) != EXIT_OK)
        return rc;
    if ((c = ret_policy_find(p, argv[optind])) == NULL) {
        size_t i;

        cli_error(g, "unknown category '%s'", argv[optind]);
        fputs("Categories:", stderr);
        for (i = 0; i < ret_policy_category_count(p); i++)
            fprintf(stderr, " %s",
                    ret_category_name(ret_policy_category(p, i)));
        fputc('\n', stderr);
        rc = EXIT_USAGE;
        goto out;
    }
    if (ret_decide(c, &f, now, &d) != RET_OK) {
        cli_error(g, "cannot decide");
        rc = EXIT_RUNTIME;
        goto out;
    }
    if (d.next_change != RET_TIME_NEVER &&
        ret_decide(c, &f, d.next_change, &next) == RET_OK)
        have_next = true;
    ret_time_format(f.time, tbuf);
    ret_time_format(now, nbuf);
    if (have_next)
        ret_time_format(d.next_change, xbuf);
    if (json) {
        printf("{\"category\":");
        json_string(ret_category_name(c));
        printf(",\"time\":\"%s\",\"now\":\"%s\",\"action\":\"%s\","
               "\"fields\":[",
               tbuf, nbuf, ret_action_name(d.action));
        print_fields(d.fields, true);
        printf("],\"method\":\"%s\",\"ipv4_prefix\":%d,\"ipv6_prefix\":%d,"
               "\"rule\":",
               ret_policy_method_name(d.method), d.ipv4_prefix,
               d.ipv6_prefix);
        json_string(d.rule);
        printf(",\"controller\":");
        json_string(d.controller);
        printf(",\"version\":");
        json_string(d.version);
        if (have_next)
            printf(",\"next_change\":\"%s\",\"next_action\":\"%s\"}\n", xbuf,
                   ret_action_name(next.action));
        else
            printf(",\"next_change\":null,\"next_action\":null}\n");
        goto out;
    }
    printf("category:    %s\n", ret_category_name(c));
    printf("record time: %s\n", tbuf);
    printf("now:         %s\n", nbuf);
    printf("decision:    ");
    print_action(&d);
    printf("\nrule:        %s\n", d.rule != NULL ? d.rule : "-");
    printf("controller:  %s\n", d.controller);
    printf("version:     %s\n", d.version);
    if (have_next) {
        printf("next change: %s (", xbuf);
        print_action(&next);
        printf(")\n");
    } else {
        printf("next change: never\n");
    }
out:
    ret_policy_free(p);
    return rc;
}

int
cmd_policy(struct cli *g, int argc, char **argv)
{
    const char *sub;

    if (argc < 2)
        return cli_usage_error(g, "policy needs check, explain or decide");
    sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 ||
        strcmp(sub, "help") == 0)
        return cli_help(usage_text);
    argc--;
    argv++;
    optind = 0;
    if (strcmp(sub, "check") == 0)
        return check(g, argc, argv);
    if (strcmp(sub, "explain") == 0)
        return explain(g, argc, argv);
    if (strcmp(sub, "decide") == 0)
        return decide(g, argc, argv);
    return cli_usage_error(g, "unknown policy command '%s' (check, explain "
                              "or decide)",
                           sub);
}
