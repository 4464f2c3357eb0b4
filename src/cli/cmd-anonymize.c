/*
 * cmd-anonymize.c - `retention anonymize`: mask client addresses in a
 * stream (stdin to stdout, a piped log of nginx, Apache or rsyslog), to
 * a file (-o) or in place (-i). The work is libretention's anonymizer;
 * this file reads options, moves lines and handles signals.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"

static const char usage_text[] =
    "Usage: retention anonymize [OPTIONS] [FILE...]\n"
    "\n"
    "Mask the client addresses of access logs. Reads the FILEs (or standard\n"
    "input) and writes to standard output, -o FILE, or back to each FILE.\n"
    "A line that cannot be parsed is still written, with every\n"
    "address-looking token in it masked.\n"
    "\n"
    "Options:\n"
    "  -f, --format FMT        auto (default), a preset (combined, nginx, json,\n"
    "                          w3c, haproxy, elb...: `retention formats`), an\n"
    "                          Apache LogFormat string, or\n"
    "                          nginx:'log_format string'\n"
    "      --ipv4-prefix N     IPv4 bits kept, 0..32 (default 24)\n"
    "      --ipv6-prefix N     IPv6 bits kept, 0..128 (default 48)\n"
    "  -m, --method M          truncate (default), zero, or hash (host bits\n"
    "                          become a keyed hash)\n"
    "      --key-file FILE     the key of hash (created with mode 0600)\n"
    "      --key-period P      day (default), week or month: key rotation\n"
    "      --scan-all          also mask every address anywhere in the line\n"
    "  -o, --output FILE       append to FILE (gzip when it ends in .gz)\n"
    "  -i, --in-place          rewrite each FILE atomically, keeping its\n"
    "                          compression, owner, mode and mtime\n"
    "      --line-buffered     flush every line (piped logging); SIGHUP\n"
    "                          reopens -o, SIGTERM flushes and exits\n"
    "      --strict            exit 3 when a line could not be parsed\n"
    "      --stats             print counts on standard error at the end\n"
    "  -j, --threads N         anonymize on N threads (default: the number of\n"
    "                          processors, at most 8; 1 for a gzip output)\n"
    "  -h, --help              show this help\n"
    "\n"
    "anonip-compatible options (see retention-anonymize(1) for the\n"
    "differences):\n"
    "      --ipv4mask N        IPv4 bits removed (default 12)\n"
    "      --ipv6mask N        IPv6 bits removed (default 84)\n"
    "      --column N...       1-based columns holding addresses (default 1)\n"
    "      --delimiter C       column delimiter (default a space)\n"
    "      --replace STR       written for a column that holds no address\n"
    "      --regex PATTERN     PCRE2 pattern whose groups hold addresses\n"
    "                          (may be repeated: joined with |)\n"
    "      --skip-private      leave private addresses unmasked\n"
    "      --increment N       add N to each masked address\n";

enum {
    OPT_V4PREFIX = 256,
    OPT_V6PREFIX,
    OPT_KEYFILE,
    OPT_KEYPERIOD,
    OPT_SCANALL,
    OPT_LINEBUF,
    OPT_STRICT,
    OPT_STATS,
    OPT_V4MASK,
    OPT_V6MASK,
    OPT_COLUMN,
    OPT_DELIM,
    OPT_REPLACE,
    OPT_REGEX,
    OPT_SKIPPRIV,
    OPT_INCREMENT
};

/* Signals: flags only; the loop acts on them between lines. With
 * --line-buffered, SIGTERM also wakes the pump (below) through term_fd. */
static volatile sig_atomic_t got_hup, got_term;
static volatile int term_fd = -1;

static void
on_signal(int sig)
{
    int saved = errno;

    if (sig == SIGHUP) {
        got_hup = 1;
    } else {
        got_term = 1;
        if (term_fd >= 0)
            (void)!write(term_fd, "t", 1);
    }
    errno = saved;
}

/*
 * Piped logging: a thread pumps the input into a pipe that the reader
 * reads. On SIGTERM it moves what the server has already written (still
 * in the kernel's pipe) and then closes the pipe, so that the reader sees
 * the end of the input after the last line: nothing is lost, and the
 * output (a gzip trailer too) is finished by the normal path.
 */
struct pump {
    int in;      /* the real input */
    int out;     /* write end of the pipe the reader reads */
    int wake[2]; /* SIGTERM */
    pthread_t thread;
};

static bool
pump_write(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* After SIGTERM: a server that restarts (Apache's graceful restart
 * sends its piped logger SIGTERM) still has children finishing requests
 * and logging them into this pipe. Lines are taken until the input ends,
 * or is idle for TERM_IDLE_MS, or for TERM_MAX_MS at most. */
#define TERM_IDLE_MS 1000
#define TERM_MAX_MS 10000

static long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *
pump_run(void *arg)
{
    struct pump *pp = arg;
    char buf[65536];
    ssize_t n;
    long term_at = 0, last = 0;
    bool term = false;

    for (;;) {
        struct pollfd pfd[2] = {{.fd = pp->in, .events = POLLIN},
                                {.fd = pp->wake[0], .events = POLLIN}};
        int pr = poll(pfd, term ? 1 : 2, term ? 100 : -1);

        if (pr < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (term) {
            long t = now_ms();

            if (t - term_at >= TERM_MAX_MS || t - last >= TERM_IDLE_MS)
                break;
        } else if (pfd[1].revents != 0) {
            term = true;
            term_at = last = now_ms();
            continue;
        }
        if (pfd[0].revents == 0)
            continue;
        n = read(pp->in, buf, sizeof(buf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0 || !pump_write(pp->out, buf, (size_t)n))
            break;
        if (term)
            last = now_ms();
    }
    close(pp->out);
    pp->out = -1;
    return NULL;
}

/* Starts a pump from fd; *rfd receives the descriptor to read. */
static bool
pump_start(struct pump *pp, int fd, int *rfd)
{
    int p[2];
    sigset_t all, old;
    bool started;

    if (pipe(p) != 0)
        return false;
    if (pipe(pp->wake) != 0) {
        close(p[0]);
        close(p[1]);
        return false;
    }
    pp->in = fd;
    pp->out = p[1];
    /* The thread takes no signals: they go to the main thread. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    started = pthread_create(&pp->thread, NULL, pump_run, pp) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!started) {
        close(p[0]);
        close(p[1]);
        close(pp->wake[0]);
        close(pp->wake[1]);
        return false;
    }
    term_fd = pp->wake[1];
    if (got_term)
        (void)!write(term_fd, "t", 1);
    *rfd = p[0];
    return true;
}

static void
pump_stop(struct pump *pp, int rfd)
{
    term_fd = -1;
    (void)!write(pp->wake[1], "t", 1); /* the reader stopped first */
    close(rfd);
    pthread_join(pp->thread, NULL);
    close(pp->wake[0]);
    close(pp->wake[1]);
}

struct run {
    struct cli *g;
    ret_anonymizer *a;
    ret_format *fmt;
    const char *output; /* -o */
    unsigned out_flags;
    ret_writer *w;
    bool in_place, line_buffered, strict, stats, anonip;
    unsigned threads; /* -j, or the online CPUs (at most 8) */
    bool threads_set; /* -j was given */
    bool gz_out;      /* the output being written is gzip */
    uint64_t unparsed;
    /* rate limit of per-line diagnostics: at most 5 a minute */
    time_t window;
    unsigned in_window;
    uint64_t suppressed;
};

static void
diag_unparsed(struct run *r, const char *name, uint64_t line)
{
    time_t now;

    if (!r->line_buffered)
        return; /* files: one summary at the end */
    now = time(NULL);
    if (now - r->window >= 60) {
        if (r->suppressed > 0)
            cli_warn(r->g, "%llu more lines could not be parsed",
                     (unsigned long long)r->suppressed);
        r->window = now;
        r->in_window = 0;
        r->suppressed = 0;
    }
    if (r->in_window++ < 5)
        cli_warn(r->g, "%s:%llu: the line could not be parsed: every address "
                       "in it was masked",
                 name, (unsigned long long)line);
    else
        r->suppressed++;
}

static ret_status
reopen_output(struct run *r, ret_error *err)
{
    ret_status st;
    ret_writer *w;

    if ((st = ret_writer_commit(r->w, err)) != RET_OK) {
        r->w = NULL;
        return st;
    }
    r->w = NULL;
    if ((st = ret_writer_open(r->output, r->out_flags, &w, err)) != RET_OK)
        return st;
    r->w = w;
    return RET_OK;
}

/* The processors this process may run on: its affinity (taskset, a
 * container's cpuset), else those online. */
static long
usable_cpus(void)
{
#ifdef CPU_COUNT
    cpu_set_t set;

    if (sched_getaffinity(0, sizeof(set), &set) == 0)
        return CPU_COUNT(&set);
#endif
    return sysconf(_SC_NPROCESSORS_ONLN);
}

/* Callbacks of ret_anonymize_stream(). */
struct stream_cb {
    struct run *r;
    const char *name;
    struct cli_progress *prog; /* or NULL */
};

static void
cb_unparsed(void *ctx, uint64_t line)
{
    struct stream_cb *cb = ctx;

    cb->r->unparsed++;
    diag_unparsed(cb->r, cb->name, line);
}

static void
cb_progress(void *ctx, uint64_t raw_offset)
{
    struct stream_cb *cb = ctx;

    if (cb->prog != NULL)
        cli_progress_update(cb->prog, raw_offset);
}

static ret_status
cb_between(void *ctx, ret_writer **w, ret_error *err)
{
    struct stream_cb *cb = ctx;
    ret_status st;

    (void)w; /* &cb->r->w, which reopen_output replaces */
    if (got_hup) {
        got_hup = 0;
        if (cb->r->output != NULL && (st = reopen_output(cb->r, err)) != RET_OK)
            return st;
    }
    /* Piped logging goes on: SIGTERM makes the pump end the input once
     * the server's last lines are in. */
    return got_term && !cb->r->line_buffered ? RET_EOF : RET_OK;
}

/* Anonymizes every line of rd into r->w. */
static ret_status
process(struct run *r, const char *name, ret_reader *rd, ret_error *err)
{
    ret_parser *p = NULL;
    struct cli_progress prog;
    struct stream_cb cb = {r, name, NULL};
    ret_anon_stream_opts o;
    ret_status st;

    if (r->fmt != NULL && (st = ret_parser_new(r->fmt, &p, err)) != RET_OK)
        return st;
    ret_parser_set_scope(p, RET_PARSE_ADDRESSES);
    if (!r->line_buffered && strcmp(name, "-") != 0) {
        cli_progress_start(&prog, r->g, name, ret_reader_raw_size(rd));
        cb.prog = &prog;
    }
    memset(&o, 0, sizeof(o));
    /* The gzip writer's own thread compresses slower than one thread
     * anonymizes: workers would only compete with it for the cores
     * (measured: .gz -> .gz in place 2.87 s with one thread, 2.97 s
     * with two on two cores). */
    o.threads = r->line_buffered                ? 1 /* every line at once */
                : r->gz_out && !r->threads_set ? 1
                                               : r->threads;
    o.ctx = &cb;
    o.unparsed = cb_unparsed;
    o.progress = cb_progress;
    o.between = cb_between;
    st = ret_anonymize_stream(r->a, p, rd, &r->w, &o, err);
    if (cb.prog != NULL)
        cli_progress_finish(&prog);
    ret_parser_free(p);
    return st;
}

static int
run_in_place(struct run *r, int nfiles, char **files)
{
    ret_error err;
    ret_status st = RET_OK;
    int i, rc = EXIT_OK;

    for (i = 0; i < nfiles && !got_term; i++) {
        ret_reader *rd = NULL;
        unsigned flags = RET_WRITE_ATOMIC | RET_WRITE_KEEP_META |
                         RET_WRITE_KEEP_MTIME;

        if ((st = ret_reader_open(files[i], &rd, &err)) != RET_OK) {
            rc = cli_fail(r->g, st, &err);
            continue;
        }
        if (ret_reader_is_gzip(rd))
            flags |= RET_WRITE_GZIP;
        r->gz_out = (flags & RET_WRITE_GZIP) != 0;
        if ((st = ret_writer_open(files[i], flags, &r->w, &err)) != RET_OK) {
            rc = cli_fail(r->g, st, &err);
            ret_reader_free(rd);
            continue;
        }
        st = process(r, files[i], rd, &err);
        ret_reader_free(rd);
        if (st == RET_OK) {
            st = ret_writer_commit(r->w, &err);
        } else {
            ret_writer_free(r->w); /* the old file stays */
        }
        r->w = NULL;
        if (st != RET_OK)
            rc = cli_fail(r->g, st, &err);
    }
    return rc;
}

static int
run_stream(struct run *r, int nfiles, char **files)
{
    static char dash[] = "-";
    char *stdin_only[] = {dash};
    ret_error err;
    ret_status st;
    int i, rc = EXIT_OK;

    if (nfiles == 0) {
        nfiles = 1;
        files = stdin_only;
    }
    if (r->output != NULL)
        st = ret_writer_open(r->output, r->out_flags, &r->w, &err);
    else
        st = ret_writer_open_fd(STDOUT_FILENO, "standard output",
                                r->out_flags, &r->w, &err);
    if (st != RET_OK)
        return cli_fail(r->g, st, &err);
    r->gz_out = (r->out_flags & RET_WRITE_GZIP) != 0;
    for (i = 0; i < nfiles && !got_term; i++) {
        ret_reader *rd = NULL;
        struct pump pump;
        int fd = -1, rfd = -1;
        bool pumped = false;

        if (r->line_buffered) {
            fd = strcmp(files[i], "-") == 0
                     ? STDIN_FILENO
                     : open(files[i], O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                cli_error(r->g, "%s: %s", files[i], strerror(errno));
                rc = EXIT_RUNTIME;
                continue;
            }
            pumped = pump_start(&pump, fd, &rfd);
            st = ret_reader_open_fd(pumped ? rfd : fd, files[i], &rd, &err);
        } else if (strcmp(files[i], "-") == 0) {
            st = ret_reader_open_fd(STDIN_FILENO, "-", &rd, &err);
        } else {
            st = ret_reader_open(files[i], &rd, &err);
        }
        if (st == RET_OK)
            st = process(r, files[i], rd, &err);
        else
            rc = cli_fail(r->g, st, &err);
        ret_reader_free(rd);
        if (pumped)
            pump_stop(&pump, rfd);
        if (fd > STDIN_FILENO)
            close(fd);
        if (rd == NULL)
            continue;
        if (st != RET_OK) {
            rc = cli_fail(r->g, st, &err);
            if (r->w == NULL)
                return rc;
        }
    }
    if (r->w != NULL && (st = ret_writer_commit(r->w, &err)) != RET_OK)
        rc = cli_fail(r->g, st, &err);
    r->w = NULL;
    return rc;
}

static bool
all_digits(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static bool
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Adds the comma-separated column numbers of text. */
static bool
add_columns(struct cli *g, const char *text, unsigned *cols, size_t *n)
{
    char buf[256], *p, *end;

    if (strlen(text) >= sizeof(buf))
        return cli_usage_error(g, "--column: list too long") == 0;
    memcpy(buf, text, strlen(text) + 1);
    for (p = buf; p != NULL; p = end) {
        long v;

        end = strchr(p, ',');
        if (end != NULL)
            *end++ = '\0';
        if (!cli_parse_int(g, "--column", p, 1, 65535, &v))
            return false;
        if (*n >= 64)
            return cli_usage_error(g, "--column: at most 64 columns") == 0;
        cols[(*n)++] = (unsigned)v;
    }
    return true;
}

int
cmd_anonymize(struct cli *g, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'},
        {"ipv4-prefix", required_argument, NULL, OPT_V4PREFIX},
        {"ipv6-prefix", required_argument, NULL, OPT_V6PREFIX},
        {"method", required_argument, NULL, 'm'},
        {"key-file", required_argument, NULL, OPT_KEYFILE},
        {"key-period", required_argument, NULL, OPT_KEYPERIOD},
        {"scan-all", no_argument, NULL, OPT_SCANALL},
        {"output", required_argument, NULL, 'o'},
        {"in-place", no_argument, NULL, 'i'},
        {"line-buffered", no_argument, NULL, OPT_LINEBUF},
        {"strict", no_argument, NULL, OPT_STRICT},
        {"stats", no_argument, NULL, OPT_STATS},
        {"ipv4mask", required_argument, NULL, OPT_V4MASK},
        {"ipv6mask", required_argument, NULL, OPT_V6MASK},
        {"column", required_argument, NULL, OPT_COLUMN},
        {"delimiter", required_argument, NULL, OPT_DELIM},
        {"replace", required_argument, NULL, OPT_REPLACE},
        {"regex", required_argument, NULL, OPT_REGEX},
        {"skip-private", no_argument, NULL, OPT_SKIPPRIV},
        {"increment", required_argument, NULL, OPT_INCREMENT},
        {"threads", required_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct run r;
    const char *format = NULL, *method = NULL, *key_file = NULL;
    const char *key_period = "day", *delim = NULL, *replace = NULL;
    long v4prefix = -1, v6prefix = -1, v4mask = -1, v6mask = -1;
    long increment = 0, threads = 0;
    unsigned cols[64];
    size_t ncols = 0;
    char *regex = NULL, **av = NULL, *joined = NULL;
    size_t foldcap = 0, foldlen = 0;
    bool scan_all = false, skip_private = false, any_anonip = false;
    int ch, ac = 0, i, rc = EXIT_USAGE;
    ret_error err;
    ret_status st;
    struct sigaction sa;

    memset(&r, 0, sizeof(r));
    r.g = g;
    /* anonip takes "--column 1 3": fold following numbers into one
     * comma-separated argument before getopt sees them. The folded
     * lists are carved out of one buffer as long as all arguments. */
    for (i = 0; i < argc; i++)
        foldcap += strlen(argv[i]) + 1;
    if ((av = calloc((size_t)argc + 1, sizeof(*av))) == NULL ||
        (joined = malloc(foldcap + 1)) == NULL) {
        free(av);
        cli_error(g, "out of memory");
        return EXIT_RUNTIME;
    }
    for (i = 0; i < argc; i++) {
        av[ac++] = argv[i];
        if (strcmp(argv[i], "--column") == 0 && i + 1 < argc &&
            i + 2 < argc && all_digits(argv[i + 1]) &&
            all_digits(argv[i + 2])) {
            char *list = joined + foldlen;
            int j;

            for (j = i + 1; j < argc && all_digits(argv[j]); j++) {
                size_t l = strlen(argv[j]);

                if (j > i + 1)
                    joined[foldlen++] = ',';
                memcpy(joined + foldlen, argv[j], l);
                foldlen += l;
            }
            joined[foldlen++] = '\0';
            av[ac++] = list;
            i = j - 1;
        }
    }
    av[ac] = NULL;

    while ((ch = getopt_long(ac, av, ":f:m:o:ij:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'f':
            format = optarg;
            break;
        case OPT_V4PREFIX:
            if (!cli_parse_int(g, "--ipv4-prefix", optarg, 0, 32, &v4prefix))
                goto out;
            break;
        case OPT_V6PREFIX:
            if (!cli_parse_int(g, "--ipv6-prefix", optarg, 0, 128, &v6prefix))
                goto out;
            break;
        case 'm':
            method = optarg;
            break;
        case OPT_KEYFILE:
            key_file = optarg;
            break;
        case OPT_KEYPERIOD:
            key_period = optarg;
            break;
        case OPT_SCANALL:
            scan_all = true;
            break;
        case 'o':
            r.output = optarg;
            break;
        case 'i':
            r.in_place = true;
            break;
        case OPT_LINEBUF:
            r.line_buffered = true;
            break;
        case OPT_STRICT:
            r.strict = true;
            break;
        case OPT_STATS:
            r.stats = true;
            break;
        case OPT_V4MASK:
            any_anonip = true;
            if (!cli_parse_int(g, "--ipv4mask", optarg, 1, 32, &v4mask))
                goto out;
            break;
        case OPT_V6MASK:
            any_anonip = true;
            if (!cli_parse_int(g, "--ipv6mask", optarg, 1, 128, &v6mask))
                goto out;
            break;
        case OPT_COLUMN:
            any_anonip = true;
            if (!add_columns(g, optarg, cols, &ncols))
                goto out;
            break;
        case OPT_DELIM:
            any_anonip = true;
            if (optarg[0] == '\0') {
                cli_usage_error(g, "--delimiter: empty");
                goto out;
            }
            delim = optarg;
            break;
        case OPT_REPLACE:
            any_anonip = true;
            replace = optarg;
            break;
        case OPT_REGEX: {
            size_t old = regex ? strlen(regex) : 0, add = strlen(optarg);
            char *nr = realloc(regex, old + add + 2);

            any_anonip = true;
            if (nr == NULL) {
                cli_error(g, "out of memory");
                rc = EXIT_RUNTIME;
                goto out;
            }
            if (old > 0)
                nr[old++] = '|';
            memcpy(nr + old, optarg, add + 1);
            regex = nr;
            break;
        }
        case OPT_SKIPPRIV:
            any_anonip = true;
            skip_private = true;
            break;
        case OPT_INCREMENT:
            any_anonip = true;
            if (!cli_parse_int(g, "--increment", optarg, 1, 2147483647L,
                               &increment))
                goto out;
            break;
        case 'j':
            if (!cli_parse_int(g, "--threads", optarg, 1, 64, &threads))
                goto out;
            r.threads_set = true;
            break;
        case 'h':
            rc = cli_help(usage_text);
            goto out;
        default:
            cli_option_error(g, ch, av);
            goto out;
        }
    }

    /* Which locator: anonip columns or regex, or the log format. */
    if (regex != NULL && (ncols > 0 || delim != NULL)) {
        cli_usage_error(g, "--regex cannot be combined with --column or "
                           "--delimiter");
        goto out;
    }
    r.anonip = regex != NULL || ncols > 0 || delim != NULL ||
               (any_anonip && format == NULL);
    if (r.anonip && format != NULL) {
        cli_usage_error(g, "-f cannot be combined with --column, "
                           "--delimiter or --regex");
        goto out;
    }
    if ((v4mask >= 0 && v4prefix >= 0) || (v6mask >= 0 && v6prefix >= 0)) {
        cli_usage_error(g, "give the prefix kept (--ipv4-prefix) or the "
                           "bits removed (--ipv4mask), not both");
        goto out;
    }
    if (r.in_place && r.output != NULL) {
        cli_usage_error(g, "-i and -o cannot be combined");
        goto out;
    }
    if (r.in_place && optind >= ac) {
        cli_usage_error(g, "-i needs FILE arguments");
        goto out;
    }
    for (i = optind; r.in_place && i < ac; i++)
        if (strcmp(av[i], "-") == 0) {
            cli_usage_error(g, "-i cannot rewrite standard input");
            goto out;
        }
    if (r.in_place && r.line_buffered) {
        cli_usage_error(g, "--line-buffered is for streams, not -i");
        goto out;
    }
    if (r.output != NULL) {
        struct stat so, si;

        /* Appending to the file being read would never end. */
        for (i = optind; i < ac; i++)
            if (stat(r.output, &so) == 0 && stat(av[i], &si) == 0 &&
                so.st_dev == si.st_dev && so.st_ino == si.st_ino) {
                cli_usage_error(g, "-o %s is also an input: use -i to "
                                   "rewrite a file", av[i]);
                goto out;
            }
    }

    rc = EXIT_RUNTIME;
    if ((st = ret_anonymizer_new(&r.a, &err)) != RET_OK) {
        rc = cli_fail(g, st, &err);
        goto out;
    }
    /* anonip's defaults: 12 and 84 bits removed. */
    if (r.anonip || v4mask >= 0 || v6mask >= 0) {
        if (v4prefix < 0)
            v4prefix = 32 - (v4mask >= 0 ? v4mask : 12);
        if (v6prefix < 0)
            v6prefix = 128 - (v6mask >= 0 ? v6mask : 84);
    }
    if ((st = ret_anonymizer_set_prefix(r.a, v4prefix >= 0 ? (int)v4prefix : 24,
                                        v6prefix >= 0 ? (int)v6prefix : 48,
                                        &err)) != RET_OK) {
        rc = cli_fail(g, st, &err);
        goto out;
    }
    if (method == NULL && key_file != NULL)
        method = "hash"; /* the key is there for nothing else */
    if (method != NULL) {
        ret_anon_method m;

        if (strcmp(method, "truncate") == 0) {
            m = RET_ANON_TRUNCATE;
        } else if (strcmp(method, "zero") == 0) {
            m = RET_ANON_ZERO;
        } else if (strcmp(method, "hash") == 0) {
            m = RET_ANON_HASH;
        } else {
            rc = cli_usage_error(g, "--method: '%s' is not truncate, zero or "
                                    "hash", method);
            goto out;
        }
        ret_anonymizer_set_method(r.a, m, NULL);
    }
    if (key_file != NULL) {
        ret_key_period kp;
        unsigned char key[16];

        if (strcmp(key_period, "day") == 0) {
            kp = RET_KEY_DAY;
        } else if (strcmp(key_period, "week") == 0) {
            kp = RET_KEY_WEEK;
        } else if (strcmp(key_period, "month") == 0) {
            kp = RET_KEY_MONTH;
        } else {
            rc = cli_usage_error(g, "--key-period: '%s' is not day, week or "
                                    "month", key_period);
            goto out;
        }
        if ((st = ret_key_load(key_file, kp, (int64_t)time(NULL), key,
                               &err)) != RET_OK) {
            rc = cli_fail(g, st, &err);
            goto out;
        }
        ret_anonymizer_set_key(r.a, key, NULL);
        memset(key, 0, sizeof(key));
    }
    ret_anonymizer_set_scan_all(r.a, scan_all);
    ret_anonymizer_set_skip_private(r.a, skip_private);
    if (increment > 0)
        ret_anonymizer_set_increment(r.a, (uint64_t)increment, NULL);
    if (replace != NULL &&
        (st = ret_anonymizer_set_replace(r.a, replace, &err)) != RET_OK) {
        rc = cli_fail(g, st, &err);
        goto out;
    }
    if (regex != NULL) {
        if ((st = ret_anonymizer_set_regex(r.a, regex, &err)) != RET_OK) {
            rc = cli_usage_error(g, "--regex: %s", err.message);
            goto out;
        }
    } else if (r.anonip) {
        if (ncols == 0)
            cols[ncols++] = 1;
        if ((st = ret_anonymizer_set_columns(r.a, cols, ncols,
                                             delim ? delim : " ", &err)) !=
            RET_OK) {
            rc = cli_fail(g, st, &err);
            goto out;
        }
    } else if ((st = ret_format_compile(format ? format : "auto", &r.fmt,
                                        &err)) != RET_OK) {
        rc = cli_fail(g, st, &err);
        goto out;
    }

    if (threads == 0) {
        long ncpu = usable_cpus();

        threads = ncpu < 1 ? 1 : ncpu > 8 ? 8 : ncpu;
    }
    r.threads = (unsigned)threads;
    if (r.line_buffered)
        r.out_flags |= RET_WRITE_LINEBUF;
    if (r.output != NULL) {
        r.out_flags |= RET_WRITE_APPEND;
        if (ends_with(r.output, ".gz"))
            r.out_flags |= RET_WRITE_GZIP;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);
    if (r.line_buffered) {
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
    }

    if (r.in_place)
        rc = run_in_place(&r, ac - optind, av + optind);
    else
        rc = run_stream(&r, ac - optind, av + optind);

    if (r.stats) {
        ret_anon_counts c;

        ret_anonymizer_counts(r.a, &c);
        fprintf(stderr,
                "retention: anonymize: %llu lines, %llu addresses masked, "
                "%llu host names replaced, %llu lines not parsed (all "
                "their addresses masked)\n",
                (unsigned long long)c.lines, (unsigned long long)c.addresses,
                (unsigned long long)c.hostnames,
                (unsigned long long)r.unparsed);
    }
    if (r.unparsed > 0 && !r.line_buffered && !r.stats)
        cli_warn(g, "%llu lines could not be parsed: every address in them "
                    "was masked",
                 (unsigned long long)r.unparsed);
    if (rc == EXIT_OK && r.strict && r.unparsed > 0)
        rc = EXIT_VIOLATION;
out:
    ret_anonymizer_free(r.a);
    ret_format_free(r.fmt);
    free(regex);
    free(joined);
    free(av);
    return rc;
}
