/* cmd-parse.c - retention parse: records as JSON lines, or a summary. */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

static const char usage_text[] =
    "Usage: retention parse [-f FMT] [--check] [FILE...]\n"
    "\n"
    "Parse access logs and print each record as one JSON object a line\n"
    "(addresses truncated to /24 and /48), or with --check a summary per\n"
    "file: the format detected, lines, parsed, skipped, malformed lines by\n"
    "reason and the first bad line numbers. Reads standard input when no\n"
    "FILE is given; gzip input is detected.\n"
    "\n"
    "Options:\n"
    "  -f, --format FMT   auto (default), common, combined, vhost_combined,\n"
    "                     vhost_combined_noport, vhost_common, nginx,\n"
    "                     nginx_main, json, w3c, haproxy, elb, alb, s3,\n"
    "                     an Apache LogFormat, nginx:'log_format' or\n"
    "                     regex:PATTERN (see retention formats)\n"
    "      --check        print a parse summary instead of the records\n"
    "  -h, --help         show this help\n";

#define NREASONS 12
#define FIRST_BAD 5

struct summary {
    uint64_t lines, parsed, skipped, malformed;
    unsigned nreasons;
    struct {
        char word[16];
        uint64_t count;
        uint64_t first[FIRST_BAD];
    } reason[NREASONS];
};

struct out {
    char *buf;
    size_t len, cap;
};

static void
out_flush(struct out *o)
{
    if (o->len > 0)
        fwrite(o->buf, 1, o->len, stdout);
    o->len = 0;
}

static void
out_put(struct out *o, const char *s, size_t n)
{
    if (o->cap - o->len < n) {
        out_flush(o);
        if (n > o->cap) {
            fwrite(s, 1, n, stdout);
            return;
        }
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void
out_str(struct out *o, const char *s)
{
    out_put(o, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at p, 0 if invalid. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
            return 0;
        if (c == 0xe0 && p[1] < 0xa0)
            return 0; /* overlong */
        if (c == 0xed && p[1] >= 0xa0)
            return 0; /* surrogate */
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
            (p[3] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90))
            return 0;
        return 4;
    }
    return 0;
}

/* A JSON string: control characters, invalid UTF-8 bytes and DEL as
 * \u00XX. */
static void
out_json(struct out *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *e = p + n;
    char esc[6] = {'\\', 'u', '0', '0', 0, 0};

    out_put(o, "\"", 1);
    while (p < e) {
        const unsigned char *run = p;
        size_t l;

        while (p < e && *p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
            p++;
        if (p > run)
            out_put(o, (const char *)run, (size_t)(p - run));
        if (p >= e)
            break;
        if (*p == '"' || *p == '\\') {
            char two[2] = {'\\', (char)*p};

            out_put(o, two, 2);
            p++;
        } else if (*p >= 0x80 && (l = utf8_len(p, (size_t)(e - p))) > 0) {
            out_put(o, (const char *)p, l);
            p += l;
        } else {
            esc[4] = hex[*p >> 4];
            esc[5] = hex[*p & 15];
            out_put(o, esc, 6);
            p++;
        }
    }
    out_put(o, "\"", 1);
}

static void
out_key(struct out *o, const char *key)
{
    out_put(o, ",\"", 2);
    out_str(o, key);
    out_put(o, "\":", 2);
}

static void
out_u64(struct out *o, uint64_t v)
{
    char b[24];
    int n = snprintf(b, sizeof(b), "%" PRIu64, v);

    out_put(o, b, (size_t)n);
}

#define REDACTED "<redacted>"

/* One address token, truncated to /24 or /48; anything that is not an
 * address (a hostname, "unix:") becomes REDACTED. Never the token. */
static void
out_masked(struct out *o, const char *p, size_t n)
{
    char buf[64];
    ret_ip ip;
    size_t l;

    if (ret_ip_parse(p, n, &ip, NULL) != RET_OK) {
        out_str(o, REDACTED);
        return;
    }
    ret_ip_mask(&ip, 24, 48);
    l = ret_ip_format(&ip, buf, sizeof(buf));
    if (l == 0 || l >= sizeof(buf)) {
        out_str(o, REDACTED);
        return;
    }
    out_put(o, buf, l);
}

/* A field that holds addresses: its address tokens, masked, joined. */
static void
out_addr_field(struct out *o, const ret_record *r, const char *line,
               const char *key, const char *fp, size_t fn)
{
    size_t i, off, len, n = 0, start = (size_t)(fp - line);
    ret_addr_kind kind;

    out_key(o, key);
    out_put(o, "\"", 1);
    for (i = 0; ret_record_address(r, i, &off, &len, &kind); i++) {
        if (off < start || off + len > start + fn)
            continue;
        if (n++ > 0)
            out_put(o, ", ", 2);
        out_masked(o, line + off, len);
    }
    if (n == 0)
        out_str(o, REDACTED);
    out_put(o, "\"", 1);
}

static const struct {
    ret_field field;
    const char *key;
} text_fields[] = {
    {RET_F_USER, "user"},
    {RET_F_REQUEST, "request"},
    {RET_F_METHOD, "method"},
    {RET_F_PATH, "path"},
    {RET_F_QUERY, "query"},
    {RET_F_PROTOCOL, "protocol"},
    {RET_F_REFERER, "referer"},
    {RET_F_USER_AGENT, "user_agent"},
    {RET_F_VHOST, "vhost"},
    {RET_F_DNT, "dnt"},
    {RET_F_GPC, "gpc"},
};

static void
print_record(struct out *o, const char *file, uint64_t lineno,
             const ret_record *r, const char *line)
{
    static const char *const kinds[] = {"client", "forwarded", "other"};
    const char *p;
    size_t n, i, off, len;
    int64_t t, b;
    int32_t offset;
    int status;
    ret_addr_kind kind;

    out_str(o, "{");
    if (file) {
        out_str(o, "\"file\":");
        out_json(o, file, strlen(file));
        out_put(o, ",", 1);
    }
    out_str(o, "\"line\":");
    out_u64(o, lineno);
    if (ret_record_time(r, &t, &offset)) {
        char tb[21], ob[8];
        int32_t a = offset < 0 ? -offset : offset;

        ret_time_format(t, tb);
        out_key(o, "time");
        out_json(o, tb, strlen(tb));
        snprintf(ob, sizeof(ob), "%c%02d:%02d", offset < 0 ? '-' : '+',
                 (int)(a / 3600 % 100), (int)(a / 60 % 60));
        out_key(o, "offset");
        out_json(o, ob, strlen(ob));
    }
    if (ret_record_field(r, RET_F_CLIENT, &p, &n))
        out_addr_field(o, r, line, "client", p, n);
    for (i = 0; i < sizeof(text_fields) / sizeof(text_fields[0]); i++)
        if (ret_record_field(r, text_fields[i].field, &p, &n)) {
            out_key(o, text_fields[i].key);
            out_json(o, p, n);
        }
    if (ret_record_field(r, RET_F_XFF, &p, &n))
        out_addr_field(o, r, line, "xff", p, n);
    if (ret_record_field(r, RET_F_COOKIE, &p, &n)) {
        out_key(o, "cookie");
        out_str(o, "\"" REDACTED "\"");
    }
    if ((status = ret_record_status(r)) != 0) {
        out_key(o, "status");
        out_u64(o, (uint64_t)status);
    }
    if ((b = ret_record_bytes(r)) >= 0) {
        out_key(o, "bytes");
        out_u64(o, (uint64_t)b);
    }
    if (ret_record_field(r, RET_F_DURATION, &p, &n)) {
        out_key(o, "duration");
        out_json(o, p, n);
    }
    if (ret_record_address_count(r) > 0) {
        out_key(o, "addresses");
        out_str(o, "[");
        for (i = 0; ret_record_address(r, i, &off, &len, &kind); i++) {
            if (i > 0)
                out_put(o, ",", 1);
            out_str(o, "{\"kind\":\"");
            out_str(o, (unsigned)kind < 3 ? kinds[kind] : "other");
            out_str(o, "\",\"at\":");
            out_u64(o, off);
            out_str(o, ",\"value\":\"");
            out_masked(o, line + off, len);
            out_str(o, "\"}");
        }
        out_str(o, "]");
    }
    out_str(o, "}\n");
}

static void
print_malformed(struct out *o, const char *file, uint64_t lineno,
                const char *message)
{
    out_str(o, "{");
    if (file) {
        out_str(o, "\"file\":");
        out_json(o, file, strlen(file));
        out_put(o, ",", 1);
    }
    out_str(o, "\"line\":");
    out_u64(o, lineno);
    out_key(o, "error");
    out_json(o, message, strlen(message));
    out_str(o, "}\n");
}

/* The reason word at the start of a parse error message. */
static void
count_reason(struct summary *s, const char *msg, uint64_t lineno)
{
    size_t n = strcspn(msg, ": ");
    unsigned i;

    if (n == 0 || n >= sizeof(s->reason[0].word))
        msg = "other", n = 5;
    for (i = 0; i < s->nreasons; i++)
        if (strlen(s->reason[i].word) == n &&
            memcmp(s->reason[i].word, msg, n) == 0)
            break;
    if (i == s->nreasons) {
        if (s->nreasons == NREASONS)
            i = NREASONS - 1; /* fold the rest into the last one */
        else {
            memcpy(s->reason[i].word, msg, n);
            s->reason[i].word[n] = '\0';
            s->nreasons++;
        }
    }
    if (s->reason[i].count < FIRST_BAD)
        s->reason[i].first[s->reason[i].count] = lineno;
    s->reason[i].count++;
}

static void
print_summary(const char *name, const char *format, const struct summary *s)
{
    unsigned i, k;

    printf("%s\n", name);
    printf("  format:    %s\n", format ? format : "none detected");
    printf("  lines:     %" PRIu64 "\n", s->lines);
    printf("  parsed:    %" PRIu64 "\n", s->parsed);
    printf("  skipped:   %" PRIu64 "\n", s->skipped);
    printf("  malformed: %" PRIu64 "\n", s->malformed);
    for (i = 0; i < s->nreasons; i++) {
        printf("    %-10s %" PRIu64 " (line", s->reason[i].word,
               s->reason[i].count);
        if (s->reason[i].count > 1)
            putchar('s');
        for (k = 0; k < s->reason[i].count && k < FIRST_BAD; k++)
            printf("%s%" PRIu64, k ? ", " : " ", s->reason[i].first[k]);
        if (s->reason[i].count > FIRST_BAD)
            fputs(", ...", stdout);
        puts(")");
    }
}

static int
parse_file(struct cli *g, const ret_format *fmt, const char *path,
           const char *label, bool check, struct out *o)
{
    struct summary sum;
    struct cli_progress prog;
    ret_reader *rd = NULL;
    ret_parser *ps = NULL;
    ret_error err;
    const char *line;
    size_t len;
    ret_status st;
    int rc = EXIT_OK;
    bool progress = false;

    memset(&sum, 0, sizeof(sum));
    memset(&err, 0, sizeof(err));
    if ((st = ret_reader_open(path, &rd, &err)) != RET_OK) {
        rc = cli_fail(g, st, &err);
        goto out;
    }
    if ((st = ret_parser_new(fmt, &ps, &err)) != RET_OK) {
        rc = cli_fail(g, st, &err);
        goto out;
    }
    if (check) {
        cli_progress_start(&prog, g, path, ret_reader_raw_size(rd));
        progress = true;
    }
    for (;;) {
        const ret_record *rec;
        ret_error perr;

        st = ret_reader_next(rd, &line, &len, &err);
        if (st == RET_EOF)
            break;
        if (st != RET_OK) {
            rc = cli_fail(g, st, &err);
            break;
        }
        sum.lines++;
        st = ret_parser_parse(ps, line, len, &rec, &perr);
        if (st == RET_OK) {
            sum.parsed++;
            if (!check)
                print_record(o, label, sum.lines, rec, line);
        } else if (st == RET_EOF) {
            sum.skipped++;
        } else {
            sum.malformed++;
            if (check)
                count_reason(&sum, perr.message, sum.lines);
            else
                print_malformed(o, label, sum.lines, perr.message);
        }
        if (progress && (sum.lines & 8191) == 0)
            cli_progress_update(&prog, ret_reader_raw_offset(rd));
    }
    if (progress)
        cli_progress_finish(&prog);
    if (ps != NULL && ret_parser_format_name(ps) != NULL)
        cli_info(g, "%s: format %s", path, ret_parser_format_name(ps));
    if (check) {
        out_flush(o);
        print_summary(path, ret_parser_format_name(ps), &sum);
    }
out:
    ret_parser_free(ps);
    ret_reader_free(rd);
    return rc;
}

int
cmd_parse(struct cli *g, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'},
        {"check", no_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static char stdin_name[] = "-";
    char *stdin_argv[] = {stdin_name, NULL};
    const char *spec = "auto";
    ret_format *fmt = NULL;
    ret_error err;
    ret_status st;
    struct out o = {NULL, 0, 1 << 16};
    bool check = false;
    char **files;
    int ch, nfiles, i, rc = EXIT_OK;

    while ((ch = getopt_long(argc, argv, "+:f:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'f':
            spec = optarg;
            break;
        case 'C':
            check = true;
            break;
        case 'h':
            return cli_help(usage_text);
        default:
            return cli_option_error(g, ch, argv);
        }
    }
    memset(&err, 0, sizeof(err));
    if ((st = ret_format_compile(spec, &fmt, &err)) != RET_OK) {
        cli_fail(g, st, &err);
        return EXIT_USAGE;
    }
    if ((o.buf = malloc(o.cap)) == NULL) {
        ret_format_free(fmt);
        cli_error(g, "out of memory");
        return EXIT_RUNTIME;
    }
    files = argv + optind;
    nfiles = argc - optind;
    if (nfiles == 0) {
        files = stdin_argv;
        nfiles = 1;
    }
    for (i = 0; i < nfiles; i++) {
        int r = parse_file(g, fmt, files[i], nfiles > 1 ? files[i] : NULL,
                           check, &o);

        if (r != EXIT_OK)
            rc = r;
    }
    out_flush(&o);
    if (fflush(stdout) != 0 && rc == EXIT_OK) {
        cli_error(g, "writing the output failed");
        rc = EXIT_RUNTIME;
    }
    free(o.buf);
    ret_format_free(fmt);
    return rc;
}
