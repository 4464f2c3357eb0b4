/* main.c - the retention program: global options and command dispatch. */
#include "config.h"

#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

/* The dispatch table. A command is listed here once it is built. */
static const struct cli_command commands[] = {
    {"anonymize", cmd_anonymize, "mask client addresses in logs and streams"},
    {"audit", cmd_audit, "report data kept longer than the policy allows"},
    {"erase", cmd_erase, "delete one person's records (not held ones)"},
    {"formats", cmd_formats, "list the log format presets"},
    {"help", cmd_help, "show help for a command"},
    {"parse", cmd_parse, "show how log lines parse: records or a summary"},
    {"policy", cmd_policy, "check, explain and try out the policy"},
    {"prune", cmd_prune, "delete and anonymize what the policy says is due"},
    {"run", cmd_run, "the daily job: statistics, anonymize, prune, audit"},
    {"stats", cmd_stats, "anonymous access statistics: ingest, report, merge"},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *out)
{
    size_t i;

    fputs("Usage: retention [OPTIONS] COMMAND [ARGS...]\n"
          "\n"
          "Enforce a privacy statement on access logs: anonymize client\n"
          "addresses, keep anonymous statistics, delete what is due.\n"
          "\n"
          "Options:\n"
          "  -c, --config PATH     policy file or directory of *.conf\n"
          "                        (default $RETENTION_CONF, /etc/retention.conf,\n"
          "                        /etc/retention.d/)\n"
          "  -q, --quiet           print only errors\n"
          "  -v, --verbose         say more (repeat for more)\n"
          "      --color=WHEN      auto, always or never (default auto)\n"
          "      --progress=WHEN   auto, always or never (default auto)\n"
          "  -h, --help            show this help\n"
          "  -V, --version         show the version\n"
          "\n"
          "Commands:\n",
          out);
    for (i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
    fputs("\nRun 'retention COMMAND --help' for a command's options; the\n"
          "manual is retention(1).\n",
          out);
}

static const struct cli_command *
find_command(const char *name)
{
    size_t i;

    for (i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static bool
parse_when(const char *arg, enum cli_when *out)
{
    if (arg == NULL || strcmp(arg, "auto") == 0)
        *out = CLI_AUTO;
    else if (strcmp(arg, "always") == 0 || strcmp(arg, "yes") == 0)
        *out = CLI_ALWAYS;
    else if (strcmp(arg, "never") == 0 || strcmp(arg, "no") == 0)
        *out = CLI_NEVER;
    else
        return false;
    return true;
}

int
cmd_help(struct cli *g, int argc, char **argv)
{
    static char help_opt[] = "--help";
    const struct cli_command *c;
    char *sub[] = {NULL, help_opt, NULL};

    if (argc < 2) {
        usage(stdout);
        return EXIT_OK;
    }
    if ((c = find_command(argv[1])) == NULL || c->run == cmd_help)
        return cli_usage_error(g, "unknown command '%s'", argv[1]);
    sub[0] = argv[1];
    g->command = c->name;
    optind = 0;
    return c->run(g, 2, sub);
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"color", optional_argument, NULL, 'C'},
        {"colour", optional_argument, NULL, 'C'},
        {"progress", optional_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    struct cli g = {0};
    const struct cli_command *c;
    int ch;

    setlocale(LC_CTYPE, "");
    g.command = "retention";
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "+:c:qvhV", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            g.config = optarg;
            break;
        case 'q':
            g.quiet = 1;
            break;
        case 'v':
            g.verbose++;
            break;
        case 'C':
            if (!parse_when(optarg, &g.color))
                return cli_usage_error(&g, "invalid --color '%s' (use auto, "
                                           "always or never)", optarg);
            break;
        case 'P':
            if (!parse_when(optarg, &g.progress))
                return cli_usage_error(&g, "invalid --progress '%s' (use "
                                           "auto, always or never)", optarg);
            break;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        case 'V':
            printf("retention %s (libretention %s)\n", PACKAGE_VERSION,
                   ret_version());
            return EXIT_OK;
        default:
            return cli_option_error(&g, ch, argv);
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if ((c = find_command(argv[optind])) == NULL)
        return cli_usage_error(&g, "unknown command '%s'", argv[optind]);
    g.command = c->name;
    argc -= optind;
    argv += optind;
    optind = 0; /* reset getopt for the command (GNU: full reinit) */
    opterr = 0;
    return c->run(&g, argc, argv);
}
