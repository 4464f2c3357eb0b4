/*
 * cli.h - shared plumbing of the retention program: global options,
 * messages, colors, progress bars, exit codes. The program sees only
 * <retention.h> of the library.
 */
#ifndef RET_CLI_H
#define RET_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <retention.h>

/* Exit codes of DESIGN.md section 4. */
enum {
    EXIT_OK = 0,
    EXIT_RUNTIME = 1,   /* I/O, database */
    EXIT_USAGE = 2,     /* usage error or invalid policy */
    EXIT_VIOLATION = 3  /* audit violations; anonymize --strict */
};

enum cli_when { CLI_AUTO = 0, CLI_ALWAYS, CLI_NEVER };

/* Global options and what they resolved to. */
struct cli {
    const char *command;   /* current command name, for messages */
    const char *config;    /* -c, or NULL */
    int quiet;             /* -q */
    int verbose;           /* -v, may repeat */
    enum cli_when color;   /* --color */
    enum cli_when progress;/* --progress */
};

/* A command: name, handler, one-line summary for --help. */
struct cli_command {
    const char *name;
    int (*run)(struct cli *g, int argc, char **argv);
    const char *summary;
};

/* Messages on stderr: "retention: CMD: message". A message that already
 * starts with a location ("file:12: ...") is printed as
 * "retention: file:12: ...". */
void cli_error(const struct cli *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cli_warn(const struct cli *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* -v messages. */
void cli_info(const struct cli *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints err's message (or the status text) and returns the exit code. */
int cli_fail(const struct cli *g, ret_status st, const ret_error *err);
/* Usage error: message plus "Try 'retention CMD --help'."; returns 2. */
int cli_usage_error(const struct cli *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The usage error for what getopt_long() returned as ch (':' or '?'):
 * "option '--x' needs an argument" or "unknown option '-y'"; returns 2. */
int cli_option_error(const struct cli *g, int ch, char **argv);
/* Maps a library status to an exit code. */
int cli_exit_code(ret_status st);

/* Colors: only on a terminal, never with NO_COLOR or TERM=dumb, unless
 * --color=always. */
bool cli_use_color(const struct cli *g, FILE *stream);
/* SGR sequence or "" when colors are off. */
const char *cli_sgr(const struct cli *g, FILE *stream, const char *code);
#define CLI_BOLD "1"
#define CLI_RED "31"
#define CLI_GREEN "32"
#define CLI_YELLOW "33"
#define CLI_DIM "2"
#define CLI_RESET "0"

/* Progress bar on stderr: shown when stderr is a terminal (or
 * --progress=always), never with -q or --progress=never. Redraws at most
 * ten times a second: cheap to call per line. */
struct cli_progress {
    bool on;
    const char *label;
    uint64_t total;     /* 0: unknown */
    uint64_t done;
    double start;       /* monotonic seconds */
    double last_draw;
    unsigned calls;
};
void cli_progress_start(struct cli_progress *p, const struct cli *g,
                        const char *label, uint64_t total);
void cli_progress_update(struct cli_progress *p, uint64_t done);
void cli_progress_finish(struct cli_progress *p);
/* Formats the bar line into buf (exposed for tests). */
void cli_progress_format(char *buf, size_t size, const char *label,
                         uint64_t done, uint64_t total, double elapsed,
                         int width);

/* Parses --now and friends: a ret_time_parse() time or "now". */
bool cli_parse_time(const struct cli *g, const char *opt, const char *text,
                    int64_t *out);
/* Parses a non-negative integer option in [min, max]. */
bool cli_parse_int(const struct cli *g, const char *opt, const char *text,
                   long min, long max, long *out);

/* The policy to use: -c, else $RETENTION_CONF, else /etc/retention.conf
 * or /etc/retention.d when they exist; NULL when none. */
const char *cli_policy_path(const struct cli *g);

/* Command help: prints text to stdout, returns 0. */
int cli_help(const char *text);

#endif /* RET_CLI_H */
