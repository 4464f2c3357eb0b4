/* cmd-formats.c - retention formats: the format presets. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

static const char usage_text[] =
    "Usage: retention formats\n"
    "\n"
    "List the log format presets with their format strings, for -f.\n"
    "Besides a preset, -f takes an Apache LogFormat string, nginx: and an\n"
    "nginx log_format string, or regex: and a PCRE2 pattern with named\n"
    "groups (see retention-parse(1)).\n"
    "\n"
    "Options:\n"
    "  -h, --help   show this help\n";

int
cmd_formats(struct cli *g, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *name, *def;
    size_t i;
    int ch;

    while ((ch = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'h':
            return cli_help(usage_text);
        default:
            return cli_option_error(g, ch, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(g, "unexpected argument '%s'", argv[optind]);
    for (i = 0; (name = ret_format_preset(i, &def)) != NULL; i++) {
        /* a definition with a directive is a format string; the others
         * are descriptions, shown in parentheses */
        if (strchr(def, '%') || strchr(def, '$'))
            printf("%-22s %s\n", name, def);
        else
            printf("%-22s (%s)\n", name, def);
    }
    return EXIT_OK;
}
