/* cli.c - messages, colors, progress bars and option helpers. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* Does msg begin with "something:123:"? Then it carries its location. */
static bool
has_location(const char *msg)
{
    const char *colon = strchr(msg, ':');

    if (colon == NULL || colon == msg || memchr(msg, ' ', (size_t)(colon - msg)))
        return false;
    colon++;
    if (*colon < '0' || *colon > '9')
        return false;
    while (*colon >= '0' && *colon <= '9')
        colon++;
    return *colon == ':';
}

static void vmessage(const struct cli *g, const char *level, const char *fmt,
                     va_list ap) __attribute__((format(printf, 3, 0)));

static void
vmessage(const struct cli *g, const char *level, const char *fmt, va_list ap)
{
    char msg[4096];

    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (has_location(msg) || g->command == NULL ||
        strcmp(g->command, "retention") == 0)
        fprintf(stderr, "retention: %s%s\n", level, msg);
    else
        fprintf(stderr, "retention: %s: %s%s\n", g->command, level, msg);
}

void
cli_error(const struct cli *g, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vmessage(g, "", fmt, ap);
    va_end(ap);
}

void
cli_warn(const struct cli *g, const char *fmt, ...)
{
    va_list ap;

    if (g->quiet)
        return;
    va_start(ap, fmt);
    vmessage(g, "warning: ", fmt, ap);
    va_end(ap);
}

void
cli_info(const struct cli *g, const char *fmt, ...)
{
    va_list ap;

    if (g->verbose == 0 || g->quiet)
        return;
    va_start(ap, fmt);
    vmessage(g, "", fmt, ap);
    va_end(ap);
}

int
cli_exit_code(ret_status st)
{
    switch (st) {
    case RET_OK:
    case RET_EOF:
        return EXIT_OK;
    case RET_E_INVAL:
    case RET_E_POLICY:
    case RET_E_FORMAT:
        return EXIT_USAGE;
    case RET_E_VIOLATION:
        return EXIT_VIOLATION;
    default:
        return EXIT_RUNTIME;
    }
}

int
cli_fail(const struct cli *g, ret_status st, const ret_error *err)
{
    if (err != NULL && err->status == st && err->message[0] != '\0')
        cli_error(g, "%s", err->message);
    else
        cli_error(g, "%s", ret_strerror(st));
    return cli_exit_code(st);
}

int
cli_usage_error(const struct cli *g, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vmessage(g, "", fmt, ap);
    va_end(ap);
    if (g->command == NULL || strcmp(g->command, "retention") == 0)
        fputs("Try 'retention --help'.\n", stderr);
    else
        fprintf(stderr, "Try 'retention %s --help'.\n", g->command);
    return EXIT_USAGE;
}

int
cli_option_error(const struct cli *g, int ch, char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "";

    if (ch == ':')
        return cli_usage_error(g, "option '%s' needs an argument", arg);
    /* An unknown short option: optind may still point at its group. */
    if (optopt > 0 && optopt < 256 && strncmp(arg, "--", 2) != 0)
        return cli_usage_error(g, "unknown option '-%c'", optopt);
    return cli_usage_error(g, "unknown option '%s'", arg);
}

int
cli_help(const char *text)
{
    fputs(text, stdout);
    return EXIT_OK;
}

bool
cli_use_color(const struct cli *g, FILE *stream)
{
    const char *term;

    if (g->color == CLI_ALWAYS)
        return true;
    if (g->color == CLI_NEVER)
        return false;
    if (getenv("NO_COLOR") != NULL && getenv("NO_COLOR")[0] != '\0')
        return false;
    term = getenv("TERM");
    if (term == NULL || strcmp(term, "dumb") == 0)
        return false;
    return isatty(fileno(stream));
}

const char *
cli_sgr(const struct cli *g, FILE *stream, const char *code)
{
    /* A small ring of buffers so that several calls fit in one printf. */
    static char ring[8][16];
    static unsigned next;
    char *buf;

    if (!cli_use_color(g, stream))
        return "";
    buf = ring[next++ % 8];
    snprintf(buf, sizeof(ring[0]), "\033[%sm", code);
    return buf;
}

static double
now_monotonic(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
human_bytes(char *buf, size_t size, double v)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    unsigned i = 0;

    while (v >= 1024 && i < 4) {
        v /= 1024;
        i++;
    }
    if (i == 0)
        snprintf(buf, size, "%.0f %s", v, unit[i]);
    else
        snprintf(buf, size, "%.1f %s", v, unit[i]);
}

void
cli_progress_format(char *buf, size_t size, const char *label,
                    uint64_t done, uint64_t total, double elapsed, int width)
{
    char d[32], t[32], r[32], eta[32] = "";
    double rate = elapsed > 0 ? (double)done / elapsed : 0;
    int bar = width, filled, i;
    size_t n;

    human_bytes(d, sizeof(d), (double)done);
    human_bytes(r, sizeof(r), rate);
    if (total == 0) {
        snprintf(buf, size, "%s  %s  %s/s", label, d, r);
        return;
    }
    if (done > total)
        done = total;
    human_bytes(t, sizeof(t), (double)total);
    if (rate > 0 && done < total) {
        unsigned long s = (unsigned long)((double)(total - done) / rate);
        snprintf(eta, sizeof(eta), "ETA %lu:%02lu", s / 60, s % 60);
    } else if (done == total) {
        snprintf(eta, sizeof(eta), "done");
    }
    if (bar < 10)
        bar = 10;
    filled = (int)((double)bar * (double)done / (double)total);
    n = (size_t)snprintf(buf, size, "%s [", label);
    for (i = 0; i < bar && n + 1 < size; i++)
        buf[n++] = i < filled ? '#' : '.';
    if (n < size)
        snprintf(buf + n, size - n, "] %3d%%  %s / %s  %s/s  %s",
                 (int)(100.0 * (double)done / (double)total), d, t, r, eta);
}

static void
progress_draw(struct cli_progress *p)
{
    char line[512];

    cli_progress_format(line, sizeof(line), p->label, p->done, p->total,
                        now_monotonic() - p->start, 30);
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
}

void
cli_progress_start(struct cli_progress *p, const struct cli *g,
                   const char *label, uint64_t total)
{
    memset(p, 0, sizeof(*p));
    p->label = label;
    p->total = total;
    p->start = p->last_draw = now_monotonic();
    if (g->quiet || g->progress == CLI_NEVER)
        p->on = false;
    else if (g->progress == CLI_ALWAYS)
        p->on = true;
    else
        p->on = isatty(STDERR_FILENO) != 0;
}

void
cli_progress_update(struct cli_progress *p, uint64_t done)
{
    double t;

    p->done = done;
    if (!p->on || (++p->calls & 1023) != 0)
        return;
    t = now_monotonic();
    if (t - p->last_draw < 0.1)
        return;
    p->last_draw = t;
    progress_draw(p);
}

void
cli_progress_finish(struct cli_progress *p)
{
    if (!p->on)
        return;
    /* Only runs that took long enough to show a bar leave a last line. */
    if (now_monotonic() - p->start >= 0.1) {
        if (p->total != 0)
            p->done = p->total;
        progress_draw(p);
        fputc('\n', stderr);
    }
    p->on = false;
}

bool
cli_parse_time(const struct cli *g, const char *opt, const char *text,
               int64_t *out)
{
    ret_error err;

    if (strcmp(text, "now") == 0) {
        *out = (int64_t)time(NULL);
        return true;
    }
    if (ret_time_parse(text, strlen(text), out, NULL, &err) == RET_OK)
        return true;
    cli_usage_error(g, "%s: %s", opt, err.message);
    return false;
}

bool
cli_parse_int(const struct cli *g, const char *opt, const char *text,
              long min, long max, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < min || v > max) {
        cli_usage_error(g, "%s: '%s' is not a number from %ld to %ld", opt,
                        text, min, max);
        return false;
    }
    *out = v;
    return true;
}

const char *
cli_policy_path(const struct cli *g)
{
    const char *env;
    struct stat st;

    if (g->config != NULL)
        return g->config;
    env = getenv("RETENTION_CONF");
    if (env != NULL && env[0] != '\0')
        return env;
    if (stat("/etc/retention.conf", &st) == 0)
        return "/etc/retention.conf";
    if (stat("/etc/retention.d", &st) == 0 && S_ISDIR(st.st_mode))
        return "/etc/retention.d";
    return NULL;
}
