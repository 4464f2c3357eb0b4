/*
 * audit.c - the audit trail (one JSON line per action in STATE/audit.log)
 * and the audit checks (what is kept past its limit).
 *
 * An audit record holds the time, the controller, the policy version and
 * hash, the category, the source (a file or database name), the counts
 * and the outcome: never personal data, never a line's content.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

size_t
ret__json_string(char *buf, size_t size, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;

#define PUT(ch)                                                                \
    do {                                                                       \
        if (n + 1 < size)                                                      \
            buf[n] = (ch);                                                     \
        n++;                                                                   \
    } while (0)
    PUT('"');
    for (; s != NULL && *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\') {
            PUT('\\');
            PUT((char)c);
        } else if (c == '\n') {
            PUT('\\');
            PUT('n');
        } else if (c == '\t') {
            PUT('\\');
            PUT('t');
        } else if (c < 0x20 || c == 0x7f) {
            PUT('\\');
            PUT('u');
            PUT('0');
            PUT('0');
            PUT(hex[c >> 4]);
            PUT(hex[c & 15]);
        } else {
            PUT((char)c);
        }
    }
    PUT('"');
#undef PUT
    if (size > 0)
        buf[n < size ? n : size - 1] = '\0';
    return n;
}

ret_status
ret__audit_open(const char *state_dir, int *out, ret_error *err)
{
    char path[4096];
    struct stat st;
    ret_status s;
    int fd, n;

    if ((s = ret__safe_mkdir(state_dir, err)) != RET_OK)
        return s;
    n = snprintf(path, sizeof(path), "%s/audit.log", state_dir);
    if (n < 0 || (size_t)n >= sizeof(path))
        return ret__fail(err, RET_E_INVAL, "%s: name too long", state_dir);
    fd = open(path,
              O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
              0640);
    if (fd < 0)
        return ret__fail_errno(err, errno == ELOOP ? RET_E_UNSAFE : RET_E_IO,
                               errno, "%s: open", path);
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return ret__fail(err, RET_E_UNSAFE, "%s: refused: not a regular file",
                         path);
    }
    *out = fd;
    return RET_OK;
}

/* Appends "key":value pairs to a growing line. */
struct line {
    char buf[8192];
    size_t n;
    bool overflow;
};

static void add(struct line *l, const char *fmt, ...) RET_PRINTF(2, 3);

static void
add(struct line *l, const char *fmt, ...)
{
    va_list ap;
    int k;

    if (l->overflow)
        return;
    va_start(ap, fmt);
    k = vsnprintf(l->buf + l->n, sizeof(l->buf) - l->n, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= sizeof(l->buf) - l->n)
        l->overflow = true;
    else
        l->n += (size_t)k;
}

static void
add_str(struct line *l, const char *key, const char *value)
{
    char tmp[4200];

    if (value == NULL) {
        add(l, ",\"%s\":null", key);
        return;
    }
    ret__json_string(tmp, sizeof(tmp), value);
    add(l, ",\"%s\":%s", key, tmp);
}

static void
add_time(struct line *l, const char *key, int64_t t)
{
    char buf[21];

    if (t == 0) {
        add(l, ",\"%s\":null", key);
        return;
    }
    ret_time_format(t, buf);
    add(l, ",\"%s\":\"%s\"", key, buf);
}

static const char *
result_name(const ret_prune_report *r)
{
    switch (r->outcome) {
    case RET_PRUNE_DEFERRED:
        return "deferred";
    case RET_PRUNE_REFUSED:
        return "refused";
    case RET_PRUNE_FAILED:
        return "failed";
    default:
        return "ok";
    }
}

ret_status
ret__audit_write(int fd, const ret_category *c, const ret_prune_report *r,
                 int64_t now, const char *policy_hash, ret_error *err)
{
    struct line l = {.n = 0, .overflow = false};
    char ts[21], cwd[4096];
    ssize_t w;

    ret_time_format((int64_t)time(NULL), ts);
    add(&l, "{\"time\":\"%s\"", ts);
    add_time(&l, "now", now);
    add_str(&l, "controller", ret_category_controller(c));
    add_str(&l, "policy_version", ret_category_version(c));
    add_str(&l, "policy_hash", policy_hash);
    add_str(&l, "category", r->category);
    if (r->source != NULL && r->source[0] != '/' && r->table == NULL &&
        getcwd(cwd, sizeof(cwd)) != NULL) {
        /* A name relative to where the run was started: make it whole. */
        char *abs = malloc(strlen(cwd) + strlen(r->source) + 2);

        if (abs != NULL) {
            snprintf(abs, strlen(cwd) + strlen(r->source) + 2, "%s/%s", cwd,
                     r->source);
            add_str(&l, "source", abs);
            free(abs);
        } else {
            add_str(&l, "source", r->source);
        }
    } else {
        add_str(&l, "source", r->source);
    }
    if (r->table != NULL)
        add_str(&l, "table", r->table);
    add_str(&l, "action", ret_prune_outcome_name(r->outcome));
    if (r->table != NULL) {
        const ret_table_result *t = &r->table_result;

        add(&l,
            ",\"examined\":%" PRIu64 ",\"deleted\":%" PRIu64
            ",\"restricted\":%" PRIu64 ",\"anonymized\":%" PRIu64
            ",\"held\":%" PRIu64,
            t->examined, t->deleted, t->restricted, t->anonymized, t->held);
    } else {
        add(&l,
            ",\"lines\":%" PRIu64 ",\"dropped\":%" PRIu64
            ",\"anonymized\":%" PRIu64 ",\"untimed\":%" PRIu64
            ",\"kept\":%" PRIu64,
            r->lines, r->dropped, r->anonymized, r->untimed, r->kept);
        add_time(&l, "oldest", r->oldest);
        add_time(&l, "newest", r->newest);
    }
    if (r->limit >= 0)
        add(&l, ",\"limit\":%" PRId64, r->limit);
    add_str(&l, "outcome", result_name(r));
    add_str(&l, "error", r->status != RET_OK ? r->message : NULL);
    add(&l, "}\n");
    if (l.overflow) {
        /* Never a cut line: a shorter record without the long strings. */
        l.n = 0;
        l.overflow = false;
        add(&l, "{\"time\":\"%s\"", ts);
        add_str(&l, "category", r->category);
        add_str(&l, "action", ret_prune_outcome_name(r->outcome));
        add_str(&l, "outcome", result_name(r));
        add(&l, ",\"error\":\"record too long\"}\n");
    }
    /* One write: O_APPEND keeps lines of concurrent writers whole. */
    w = write(fd, l.buf, l.n);
    if (w < 0 || (size_t)w != l.n)
        return ret__fail_errno(err, RET_E_IO, w < 0 ? errno : EIO,
                               "audit log: write");
    if (fdatasync(fd) != 0)
        return ret__fail_errno(err, RET_E_IO, errno, "audit log: fsync");
    return RET_OK;
}

ret_status
ret_audit_category(ret_pruner *pr, const ret_category *c, ret_error *err)
{
    return ret__audit_run(pr, c, NULL, NULL, 0, false, err);
}

ret_status
ret_audit_files(ret_pruner *pr, const ret_category *c, const char *format,
                const char *const *paths, size_t n, ret_error *err)
{
    return ret__audit_run(pr, c, format, paths, n, true, err);
}
