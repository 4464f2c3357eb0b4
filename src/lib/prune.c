/*
 * prune.c - retention enforcement on log files: plan and execute.
 *
 * Every file of a category is read once to plan: each line is judged by
 * its own time (never by the file's mtime; lines are not assumed sorted),
 * as expired (dropped), due for anonymization (masked when that changes
 * it), without a time (kept unless RET_PRUNE_UNTIMED_DELETE) or kept.
 * Then a file with nothing due is left alone (same inode, same mtime); a
 * file with no record left is deleted; any other is rewritten into a
 * temporary file beside it, in its own compression, with the owner, mode
 * and mtime of the old one, and renamed over it. The rewrite pass judges
 * every line again and must reach the same counts as the plan, so that a
 * real run does exactly what the dry run printed. The dry run is the
 * same code with the writes left out.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct ret_pruner {
    const ret_policy *policy;
    int64_t now;
    unsigned flags;
    int64_t live_age;
    int64_t max_runtime;
    double start;
    ret_prune_cb cb;
    void *cb_arg;
    ret_prune_progress_cb progress;
    void *progress_arg;
    /* The audit log and statistics of the last state directory used. */
    char *audit_dir;
    int audit_fd;
    char *stats_dir;
    char *stats_geoip; /* the GeoIP database set on stats, or NULL */
    ret_stats *stats;
};

/* A category being pruned or audited. */
struct cat {
    const ret_category *c;
    bool audit;
    bool has_del, has_anon;
    int64_t del_cutoff, anon_cutoff;
    int64_t limit;
    int64_t judge_now;    /* now, or for audit now less the schedule */
    ret_anonymizer *anon; /* when addresses are ever anonymized */
    bool addr_due_ever;
    bool anon_refused; /* the policy's method cannot be staged */
    char *buf;         /* a line with fields blanked */
    size_t cap;
};

/* Fields anonymized by masking addresses, and by blanking. */
#define ADDR_FIELDS ((1u << RET_F_CLIENT) | (1u << RET_F_XFF))
#define BLANK_FIELDS                                                           \
    ((1u << RET_F_USER) | (1u << RET_F_QUERY) | (1u << RET_F_REFERER) |        \
     (1u << RET_F_USER_AGENT) | (1u << RET_F_COOKIE))

/* Every field any anonymize rule of c names. */
static unsigned
anon_fields(const ret_category *c)
{
    unsigned f = 0;
    size_t i;

    for (i = 0; i < c->nrules; i++)
        if (c->rules[i].action == RET_ANONYMIZE)
            f |= c->rules[i].fields;
    return f;
}

/* What one pass over a file found. */
struct scan {
    uint64_t lines, dropped, anonymized, untimed, noise, records_kept;
    int64_t oldest, newest;
    bool any_time;
};

enum verdict { V_KEEP, V_DROP, V_ANON };

static double
monotonic(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

ret_status
ret_pruner_new(const ret_policy *policy, ret_pruner **out, ret_error *err)
{
    ret_pruner *pr;

    if (out == NULL)
        return ret__fail(err, RET_E_INVAL, "ret_pruner_new: no out");
    if ((pr = calloc(1, sizeof(*pr))) == NULL)
        return ret__fail(err, RET_E_NOMEM, "out of memory");
    pr->policy = policy;
    pr->now = (int64_t)time(NULL);
    pr->live_age = 300;
    pr->start = monotonic();
    pr->audit_fd = -1;
    *out = pr;
    return RET_OK;
}

void
ret_pruner_free(ret_pruner *pr)
{
    if (pr == NULL)
        return;
    if (pr->audit_fd >= 0)
        close(pr->audit_fd);
    free(pr->audit_dir);
    free(pr->stats_dir);
    free(pr->stats_geoip);
    ret_stats_close(pr->stats);
    free(pr);
}

void
ret_pruner_set_now(ret_pruner *pr, int64_t now)
{
    pr->now = now;
}

void
ret_pruner_set_flags(ret_pruner *pr, unsigned flags)
{
    pr->flags = flags;
}

void
ret_pruner_set_live_age(ret_pruner *pr, int64_t seconds)
{
    pr->live_age = seconds < 0 ? 0 : seconds;
}

void
ret_pruner_set_max_runtime(ret_pruner *pr, int64_t seconds)
{
    pr->max_runtime = seconds < 0 ? 0 : seconds;
}

void
ret_pruner_set_callback(ret_pruner *pr, ret_prune_cb cb, void *arg)
{
    pr->cb = cb;
    pr->cb_arg = arg;
}

void
ret_pruner_set_progress(ret_pruner *pr, ret_prune_progress_cb cb, void *arg)
{
    pr->progress = cb;
    pr->progress_arg = arg;
}

const char *
ret_prune_outcome_name(ret_prune_outcome o)
{
    static const char *const names[] = {
        "keep", "rewrite", "delete",    "defer",     "refuse",
        "fail", "table",   "compliant", "violation",
    };

    if ((unsigned)o >= sizeof(names) / sizeof(names[0]))
        return "unknown";
    return names[o];
}

/* ---- the category's rules ------------------------------------------ */

static ret_status
cat_init(ret_pruner *pr, const ret_category *c, bool audit, struct cat *cx,
         ret_error *err)
{
    int64_t sched = ret_category_schedule(c);
    ret_status st;

    memset(cx, 0, sizeof(*cx));
    cx->c = c;
    cx->audit = audit;
    cx->limit = -1;
    /* ret_decide applies the schedule: audit takes it back out. */
    cx->judge_now = audit ? pr->now - sched : pr->now;
    st = ret_category_cutoff(c, RET_DELETE, pr->now, &cx->del_cutoff, err);
    if (st == RET_OK)
        cx->has_del = true;
    else if (st != RET_E_NOTFOUND)
        return st;
    st = ret_category_cutoff(c, RET_ANONYMIZE, pr->now, &cx->anon_cutoff, err);
    if (st == RET_OK)
        cx->has_anon = true;
    else if (st != RET_E_NOTFOUND)
        return st;
    /*
     * The cutoffs have the schedule applied: prune acts one period early
     * so that nothing outlives its limit until the next run. What the
     * policy allows, and what audit checks, is the limit itself.
     */
    if (audit && sched > 0) {
        if (cx->has_del)
            cx->del_cutoff -= sched;
        if (cx->has_anon)
            cx->anon_cutoff -= sched;
    }
    if (cx->has_del)
        cx->limit = pr->now - (cx->del_cutoff - (audit ? 0 : sched)) + 1;
    if (cx->has_del && cx->has_anon && cx->anon_cutoff <= cx->del_cutoff)
        cx->has_anon = false; /* whatever is due for it is deleted */
    if (!cx->has_anon)
        return RET_OK;

    /* The address method and prefix are the category's. */
    cx->addr_due_ever = (anon_fields(c) & ADDR_FIELDS) != 0;
    if (cx->addr_due_ever && c->method == RET_ANON_HASH) {
        /*
         * A hashed address hashed again changes again: the rewrite would
         * never be done. Deletion still goes ahead; the run fails at its
         * end.
         */
        cx->anon_refused = true;
        cx->addr_due_ever = false;
    }
    if (!cx->addr_due_ever)
        return RET_OK;
    if ((st = ret_anonymizer_new(&cx->anon, err)) != RET_OK)
        return st;
    if ((st = ret_anonymizer_set_prefix(cx->anon, c->ipv4_prefix,
                                        c->ipv6_prefix, err)) != RET_OK ||
        (st = ret_anonymizer_set_method(cx->anon, c->method, err)) != RET_OK) {
        ret_anonymizer_free(cx->anon);
        cx->anon = NULL;
        return st;
    }
    return RET_OK;
}

static void
cat_free(struct cat *cx)
{
    ret_anonymizer_free(cx->anon);
    cx->anon = NULL;
    free(cx->buf);
    cx->buf = NULL;
}

/* ---- judging lines --------------------------------------------------- */

/*
 * Blanks the due fields other than addresses: user, referrer, user agent
 * and cookie become "-", a query string is dropped with its '?'. Writes
 * the line into cx->buf; *changed tells whether anything changed.
 */
static ret_status
blank_fields(struct cat *cx, const ret_record *rec, const char *line,
             size_t len, unsigned fields, size_t *outlen, bool *changed,
             ret_error *err)
{
    static const ret_field order[] = {RET_F_USER, RET_F_QUERY, RET_F_REFERER,
                                      RET_F_USER_AGENT, RET_F_COOKIE};
    struct {
        size_t off, n;
        const char *rep;
    } ed[5], tmp;
    size_t ne = 0, i, j, at = 0, o = 0;

    for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        const char *fp;
        size_t fn, off;

        if (!(fields & (1u << order[i])) ||
            !ret_record_field(rec, order[i], &fp, &fn) || fp < line ||
            fp + fn > line + len)
            continue;
        off = (size_t)(fp - line);
        if (order[i] == RET_F_QUERY) {
            if (off > 0 && line[off - 1] == '?') {
                off--;
                fn++;
            }
            ed[ne].rep = "";
        } else {
            ed[ne].rep = "-";
        }
        ed[ne].off = off;
        ed[ne].n = fn;
        ne++;
    }
    for (i = 1; i < ne; i++) /* by offset */
        for (j = i; j > 0 && ed[j - 1].off > ed[j].off; j--) {
            tmp = ed[j];
            ed[j] = ed[j - 1];
            ed[j - 1] = tmp;
        }
    if (cx->cap < len + 8) {
        char *nb = realloc(cx->buf, len + 64);

        if (nb == NULL)
            return ret__fail(err, RET_E_NOMEM, "out of memory");
        cx->buf = nb;
        cx->cap = len + 64;
    }
    *changed = false;
    for (i = 0; i < ne; i++) {
        if (ed[i].off < at)
            continue; /* overlaps the one before */
        memcpy(cx->buf + o, line + at, ed[i].off - at);
        o += ed[i].off - at;
        memcpy(cx->buf + o, ed[i].rep, strlen(ed[i].rep));
        o += strlen(ed[i].rep);
        at = ed[i].off + ed[i].n;
        *changed = true;
    }
    memcpy(cx->buf + o, line + at, len - at);
    o += len - at;
    *outlen = o;
    return RET_OK;
}

/* Applies the anonymization decided for a kept record. */
static ret_status
anonymize(struct cat *cx, ret_parser *p, const ret_record *rec,
          const char *line, size_t len, unsigned fields, const char **out,
          size_t *outlen, ret_error *err)
{
    const ret_record *rec2 = rec;
    ret_error perr;
    bool changed = false;
    size_t blen;
    ret_status st;

    *out = line;
    *outlen = len;
    if (fields & BLANK_FIELDS) {
        if ((st = blank_fields(cx, rec, line, len, fields, &blen, &changed,
                               err)) != RET_OK)
            return st;
        if (changed) {
            *out = cx->buf;
            *outlen = blen;
            /* Addresses are found in the new line; failing that, every
             * address-looking token is masked. */
            if ((fields & ADDR_FIELDS) &&
                ret_parser_parse(p, cx->buf, blen, &rec2, &perr) != RET_OK)
                rec2 = NULL;
        }
    }
    if ((fields & ADDR_FIELDS) && cx->anon != NULL)
        return ret_anonymizer_line(cx->anon, rec2, *out, *outlen, out, outlen,
                                   err);
    return RET_OK;
}

static ret_status
judge(struct cat *cx, unsigned flags, ret_parser *p, const char *line,
      size_t len, enum verdict *v, const char **out, size_t *outlen,
      struct scan *sc, ret_error *err)
{
    const ret_record *rec = NULL;
    ret_decision d;
    ret_facts f;
    ret_error perr;
    ret_status st;
    int64_t t;

    sc->lines++;
    *v = V_KEEP;
    st = ret_parser_parse(p, line, len, &rec, &perr);
    if (st == RET_EOF) {
        sc->noise++; /* a header, comment or empty line: no record */
        return RET_OK;
    }
    if (st == RET_E_NOMEM)
        return ret__fail(err, st, "out of memory");
    if (st != RET_OK || !ret_record_time(rec, &t, NULL)) {
        sc->untimed++;
        if (flags & RET_PRUNE_UNTIMED_DELETE) {
            sc->dropped++;
            *v = V_DROP;
        } else {
            sc->records_kept++;
        }
        return RET_OK;
    }
    if (!sc->any_time || t < sc->oldest)
        sc->oldest = t;
    if (!sc->any_time || t > sc->newest)
        sc->newest = t;
    sc->any_time = true;
    /* The common case first: nothing is due yet. */
    if ((!cx->has_del || t >= cx->del_cutoff) &&
        (!cx->has_anon || t >= cx->anon_cutoff)) {
        sc->records_kept++;
        return RET_OK;
    }
    memset(&f, 0, sizeof(f));
    f.time = t;
    if ((st = ret_decide(cx->c, &f, cx->judge_now, &d)) != RET_OK)
        return ret__fail(err, st, "%s: cannot decide",
                         ret_category_name(cx->c));
    if (d.action == RET_DELETE) {
        sc->dropped++;
        *v = V_DROP;
        return RET_OK;
    }
    sc->records_kept++;
    if (d.fields == 0)
        return RET_OK; /* kept (or retained) as it is */
    if ((st = anonymize(cx, p, rec, line, len, d.fields, out, outlen, err)) !=
        RET_OK)
        return st;
    if (*outlen != len || memcmp(*out, line, len) != 0) {
        sc->anonymized++;
        *v = V_ANON;
    }
    return RET_OK;
}

/* One pass over fd from its start; with w, the kept lines are written
 * (and fed to mk, when given). */
static ret_status
pass(const ret_pruner *pr, struct cat *cx, int fd, const char *path,
     const ret_format *fmt, ret_writer *w, ret__stats_mark *mk,
     struct scan *sc, int *gzip, ret_error *err)
{
    ret_reader *r = NULL;
    ret_parser *p = NULL;
    const char *line, *out;
    size_t len, outlen;
    enum verdict v;
    ret_status st;

    memset(sc, 0, sizeof(*sc));
    if (lseek(fd, 0, SEEK_SET) != 0)
        return ret__fail_errno(err, RET_E_IO, errno, "%s: seek", path);
    if ((st = ret_reader_open_fd(fd, path, &r, err)) != RET_OK)
        goto out;
    if ((st = ret_parser_new(fmt, &p, err)) != RET_OK)
        goto out;
    while ((st = ret_reader_next(r, &line, &len, err)) == RET_OK) {
        if ((st = judge(cx, pr->flags, p, line, len, &v, &out, &outlen, sc,
                        err)) != RET_OK)
            goto out;
        if (pr->progress != NULL && (sc->lines & 8191) == 0)
            pr->progress(path, w != NULL, ret_reader_raw_offset(r),
                         ret_reader_raw_size(r), pr->progress_arg);
        if (w == NULL || v == V_DROP)
            continue;
        if (v != V_ANON) {
            out = line;
            outlen = len;
        }
        if ((st = ret_writer_write(w, out, outlen, err)) != RET_OK ||
            (mk != NULL &&
             (st = ret__stats_mark_line(mk, out, outlen, err)) != RET_OK))
            goto out;
    }
    if (st == RET_EOF)
        st = RET_OK;
    if (gzip != NULL)
        *gzip = ret_reader_is_gzip(r);
out:
    ret_parser_free(p);
    ret_reader_free(r);
    return st;
}

/* ---- acting on a file ------------------------------------------------ */

static bool
same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
           a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
           a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Is the file still the one planned on, unchanged, under its name? */
static ret_status
unchanged(int dirfd, const char *base, int fd, const char *path,
          const struct stat *st, ret_error *err)
{
    struct stat now, named;

    if (fstat(fd, &now) != 0)
        return ret__fail_errno(err, RET_E_IO, errno, "%s: stat", path);
    if (fstatat(dirfd, base, &named, AT_SYMLINK_NOFOLLOW) != 0)
        return ret__fail_errno(err, RET_E_IO, errno, "%s: stat", path);
    if (!same_file(st, &now) || !same_file(st, &named))
        return ret__fail(err, RET_E_DEFERRED,
                         "%s: written to while being pruned: left alone, "
                         "rotate it",
                         path);
    return RET_OK;
}

/*
 * Writes the kept lines into a temporary file and renames it over the old
 * one. When the category counts statistics, the new content (every line
 * of it counted already, before) is registered as counted before the
 * rename, so that no later ingest counts it again.
 */
static ret_status
rewrite(const ret_pruner *pr, struct cat *cx, int dirfd, const char *base,
        int fd, const char *path, const struct stat *st, const char *format,
        const ret_format *fmt, int gzip, const struct scan *plan,
        ret_error *err)
{
    struct timespec times[2];
    ret__stats_mark *mk = NULL;
    ret_writer *w = NULL;
    char tmp[512];
    struct scan sc;
    ret_status s;
    int tfd = -1;
    bool made = false;

    if ((s = ret__safe_tempfile(dirfd, base, path, tmp, sizeof(tmp), &tfd,
                                err)) != RET_OK)
        return s;
    made = true;
    /* Owner and mode before any data: the copy is never more open. */
    if (fchown(tfd, st->st_uid, st->st_gid) != 0 &&
        (st->st_uid != geteuid() || st->st_gid != getegid())) {
        s = ret__fail_errno(err, RET_E_IO, errno,
                            "%s: cannot keep the owner of the file", path);
        goto out;
    }
    if (fchmod(tfd, st->st_mode & 07777) != 0) {
        s = ret__fail_errno(err, RET_E_IO, errno, "%s: chmod", path);
        goto out;
    }
    /* The writer does not own tfd: it stays ours for the metadata. */
    s = ret_writer_open_fd(tfd, path, gzip ? RET_WRITE_GZIP : 0u, &w, err);
    if (s != RET_OK)
        goto out;
    if (pr->stats != NULL && ret_category_statistics(cx->c) &&
        !(pr->flags & RET_PRUNE_NO_STATE) &&
        (s = ret__stats_mark_new(pr->stats, format, &mk, err)) != RET_OK)
        goto out;
    if ((s = pass(pr, cx, fd, path, fmt, w, mk, &sc, NULL, err)) != RET_OK)
        goto out;
    if (sc.lines != plan->lines || sc.dropped != plan->dropped ||
        sc.anonymized != plan->anonymized) {
        s = ret__fail(err, RET_E_DEFERRED,
                      "%s: changed while being pruned: left alone", path);
        goto out;
    }
    s = ret_writer_commit(w, err);
    w = NULL;
    if (s != RET_OK)
        goto out;
    times[0] = st->st_atim;
    times[1] = st->st_mtim;
    if (futimens(tfd, times) != 0 || fsync(tfd) != 0) {
        s = ret__fail_errno(err, RET_E_IO, errno, "%s: write", path);
        goto out;
    }
    if ((s = unchanged(dirfd, base, fd, path, st, err)) != RET_OK)
        goto out;
    /* Registered before the rename: a crash between the two leaves the
     * old file, which is known under its own identity. */
    if (mk != NULL && (s = ret__stats_mark_commit(mk, gzip != 0, err)) !=
                          RET_OK)
        goto out;
    if (renameat(dirfd, tmp, dirfd, base) != 0) {
        s = ret__fail_errno(err, RET_E_IO, errno, "%s: rename", path);
        goto out;
    }
    made = false;
    if (fsync(dirfd) != 0)
        s = ret__fail_errno(err, RET_E_IO, errno, "%s: fsync directory", path);
out:
    ret__stats_mark_free(mk);
    ret_writer_free(w);
    if (made)
        unlinkat(dirfd, tmp, 0);
    if (tfd >= 0)
        close(tfd);
    return s;
}

static ret_status
delete_file(int dirfd, const char *base, int fd, const char *path,
            const struct stat *st, ret_error *err)
{
    ret_status s;

    if ((s = unchanged(dirfd, base, fd, path, st, err)) != RET_OK)
        return s;
    if (unlinkat(dirfd, base, 0) != 0)
        return ret__fail_errno(err, RET_E_IO, errno, "%s: unlink", path);
    if (fsync(dirfd) != 0)
        return ret__fail_errno(err, RET_E_IO, errno, "%s: fsync directory",
                               path);
    return RET_OK;
}

/* ---- the audit trail and the statistics -------------------------------- */

static ret_status
audit_fd(ret_pruner *pr, const char *state, int *fd, ret_error *err)
{
    ret_status st;

    if (pr->audit_dir != NULL && strcmp(pr->audit_dir, state) == 0) {
        *fd = pr->audit_fd;
        return RET_OK;
    }
    if (pr->audit_fd >= 0)
        close(pr->audit_fd);
    free(pr->audit_dir);
    pr->audit_fd = -1;
    pr->audit_dir = NULL;
    if ((st = ret__audit_open(state, &pr->audit_fd, err)) != RET_OK)
        return st;
    if ((pr->audit_dir = strdup(state)) == NULL) {
        close(pr->audit_fd);
        pr->audit_fd = -1;
        return ret__fail(err, RET_E_NOMEM, "out of memory");
    }
    *fd = pr->audit_fd;
    return RET_OK;
}

/* Records an action; a failure to do so is a failure of the run. */
static ret_status
record(ret_pruner *pr, const struct cat *cx, const ret_prune_report *r,
       ret_error *err)
{
    const char *state = ret_category_state_dir(cx->c);
    int fd = -1;
    ret_status st;

    if ((pr->flags & (RET_PRUNE_DRY_RUN | RET_PRUNE_NO_STATE)) || cx->audit ||
        r->outcome == RET_PRUNE_KEPT || state == NULL || state[0] == '\0')
        return RET_OK;
    if ((st = audit_fd(pr, state, &fd, err)) != RET_OK)
        return st;
    return ret__audit_write(
        fd, cx->c, r, pr->now,
        pr->policy != NULL ? ret_policy_hash(pr->policy) : NULL, err);
}

/* Counts the file open on fd (read from its start) into the statistics
 * of the category's state directory. */
static ret_status
ingest(ret_pruner *pr, const struct cat *cx, int fd, const char *path,
       const char *format, ret_error *err)
{
    const char *state = ret_category_state_dir(cx->c);
    const char *geoip = ret_category_geoip(cx->c);
    ret_stats *s = NULL;
    ret_reader *r = NULL;
    char db[4096];
    ret_status st;
    int n;

    if (!ret_category_statistics(cx->c) || (pr->flags & RET_PRUNE_NO_STATE))
        return RET_OK;
    if (state == NULL || state[0] == '\0')
        return ret__fail(err, RET_E_INVAL,
                         "%s: statistics need a state directory",
                         ret_category_name(cx->c));
    if (pr->stats == NULL || strcmp(pr->stats_dir, state) != 0 ||
        (geoip == NULL) != (pr->stats_geoip == NULL) ||
        (geoip != NULL && strcmp(geoip, pr->stats_geoip) != 0)) {
        ret_stats_close(pr->stats);
        free(pr->stats_dir);
        free(pr->stats_geoip);
        pr->stats = NULL;
        pr->stats_dir = NULL;
        pr->stats_geoip = NULL;
        if ((st = ret__safe_mkdir(state, err)) != RET_OK)
            return st;
        n = snprintf(db, sizeof(db), "%s/statistics.db", state);
        if (n < 0 || (size_t)n >= sizeof(db))
            return ret__fail(err, RET_E_INVAL, "%s: name too long", state);
        if ((st = ret_stats_open(db, &s, err)) != RET_OK)
            return st;
        /* the policy's countries, as `stats ingest --geoip` gives them */
        if (geoip != NULL &&
            (st = ret_stats_set_geoip(s, geoip, err)) != RET_OK) {
            ret_stats_close(s);
            return st;
        }
        if ((pr->stats_dir = strdup(state)) == NULL ||
            (geoip != NULL && (pr->stats_geoip = strdup(geoip)) == NULL)) {
            ret_stats_close(s);
            free(pr->stats_dir);
            pr->stats_dir = NULL;
            return ret__fail(err, RET_E_NOMEM, "out of memory");
        }
        pr->stats = s;
    }
    /* The descriptor opened safely, not the name again. */
    if (lseek(fd, 0, SEEK_SET) != 0)
        return ret__fail_errno(err, RET_E_IO, errno, "%s: seek", path);
    if ((st = ret_reader_open_fd(fd, path, &r, err)) != RET_OK)
        return st;
    st = ret_stats_ingest_reader(pr->stats, r, format, NULL, err);
    ret_reader_free(r);
    return st;
}

/*
 * Records r in the audit trail. When that fails, the action (done) is
 * reported as failed with both facts in e's message, so the run fails.
 */
static ret_status
record_or_fail(ret_pruner *pr, const struct cat *cx, ret_prune_report *r,
               ret_status s, ret_error *e)
{
    ret_error ae;
    char done[sizeof(e->message)];

    if (record(pr, cx, r, &ae) == RET_OK || s != RET_OK)
        return s;
    snprintf(done, sizeof(done), "%s", ret_prune_outcome_name(r->outcome));
    ret__fail(e, ae.status, "%s: done (%s), but not recorded: %s", r->source,
              done, ae.message);
    r->status = ae.status;
    r->message = e->message;
    r->outcome = RET_PRUNE_FAILED;
    return ae.status;
}

/* ---- one file -------------------------------------------------------- */

static bool
is_live(const ret_pruner *pr, const struct stat *st, int64_t *age)
{
    int64_t wall = (int64_t)time(NULL);

    *age = wall - (int64_t)st->st_mtim.tv_sec;
    return pr->live_age > 0 && *age < pr->live_age;
}

static void
report_init(ret_prune_report *r, const struct cat *cx, const char *path,
            ret_pruner *pr)
{
    memset(r, 0, sizeof(*r));
    r->category = ret_category_name(cx->c);
    r->source = path;
    r->limit = cx->limit;
    r->dry_run = (pr->flags & RET_PRUNE_DRY_RUN) != 0 || cx->audit;
}

static void
report_scan(ret_prune_report *r, const struct scan *sc)
{
    r->lines = sc->lines;
    r->dropped = sc->dropped;
    r->anonymized = sc->anonymized;
    r->untimed = sc->untimed;
    r->kept = sc->lines - sc->dropped;
    r->oldest = sc->any_time ? sc->oldest : 0;
    r->newest = sc->any_time ? sc->newest : 0;
}

/*
 * Plans and (unless dry run or audit) acts on one file. Returns RET_OK
 * or the status of the file's problem, already reported.
 */
static ret_status
do_file(ret_pruner *pr, struct cat *cx, const char *path, const char *format,
        const ret_format *fmt)
{
    bool dry = (pr->flags & RET_PRUNE_DRY_RUN) != 0 || cx->audit;
    ret_prune_report r;
    struct scan sc;
    struct stat st;
    const char *base;
    ret_error e = {RET_OK, ""};
    ret_status s;
    int dirfd = -1, fd = -1, gz = 0;
    int64_t age;

    report_init(&r, cx, path, pr);
    if ((s = ret__safe_open_dir(path, &dirfd, &base, &e)) != RET_OK ||
        (!cx->audit && (s = ret__safe_check_dir(dirfd, path, &e)) != RET_OK) ||
        (s = ret__safe_open_file(dirfd, base, path, &fd, &st, &e)) != RET_OK) {
        r.outcome = (s == RET_E_UNSAFE) ? RET_PRUNE_REFUSED : RET_PRUNE_FAILED;
        goto out;
    }
    r.mtime = (int64_t)st.st_mtim.tv_sec;
    if (!dry)
        ret__safe_clean_temps(dirfd, base);
    if (!dry && (pr->flags & RET_PRUNE_INGEST) &&
        (s = ingest(pr, cx, fd, path, format, &e)) != RET_OK) {
        r.outcome = RET_PRUNE_FAILED;
        goto out;
    }
    if ((s = pass(pr, cx, fd, path, fmt, NULL, NULL, &sc, &gz, &e)) !=
        RET_OK) {
        r.outcome = RET_PRUNE_FAILED;
        goto out;
    }
    report_scan(&r, &sc);
    if (cx->audit) {
        r.outcome = (sc.dropped > 0 || sc.anonymized > 0) ? RET_PRUNE_VIOLATION
                                                          : RET_PRUNE_COMPLIANT;
        s = r.outcome == RET_PRUNE_VIOLATION ? RET_E_VIOLATION : RET_OK;
        goto out;
    }
    if (sc.dropped == 0 && sc.anonymized == 0) {
        r.outcome = RET_PRUNE_KEPT;
        goto out;
    }
    r.outcome = sc.records_kept == 0 ? RET_PRUNE_DELETED : RET_PRUNE_REWRITTEN;
    if (r.outcome == RET_PRUNE_DELETED)
        r.kept = 0; /* headers and empty lines go with the file */
    if (is_live(pr, &st, &age)) {
        r.outcome = RET_PRUNE_DEFERRED;
        s = ret__fail(&e, RET_E_DEFERRED,
                      "%s: live file (modified %llds ago) holds lines due: "
                      "not %s, rotate it",
                      path, (long long)age,
                      sc.records_kept == 0 ? "deleted" : "rewritten");
        goto out;
    }
    if (dry)
        goto out;
    /* Nothing is deleted uncounted: the statistics come first, and are
     * on disk before a line is deleted or rewritten. */
    if ((!(pr->flags & RET_PRUNE_INGEST) &&
         (s = ingest(pr, cx, fd, path, format, &e)) != RET_OK) ||
        (pr->stats != NULL && ret_category_statistics(cx->c) &&
         (s = ret_stats_flush(pr->stats, &e)) != RET_OK)) {
        r.outcome = RET_PRUNE_FAILED;
        goto out;
    }
    if (r.outcome == RET_PRUNE_DELETED)
        s = delete_file(dirfd, base, fd, path, &st, &e);
    else
        s = rewrite(pr, cx, dirfd, base, fd, path, &st, format, fmt, gz, &sc,
                    &e);
    if (s != RET_OK)
        r.outcome = s == RET_E_DEFERRED ? RET_PRUNE_DEFERRED : RET_PRUNE_FAILED;
out:
    if (s != RET_OK && s != RET_E_VIOLATION) {
        r.status = s;
        r.message = e.message[0] != '\0' ? e.message : ret_strerror(s);
        if (r.outcome == RET_PRUNE_KEPT)
            r.outcome = RET_PRUNE_FAILED;
    }
    s = record_or_fail(pr, cx, &r, s, &e);
    if (pr->cb != NULL)
        pr->cb(&r, pr->cb_arg);
    if (fd >= 0)
        close(fd);
    if (dirfd >= 0)
        close(dirfd);
    return s;
}

static ret_status
do_table(ret_pruner *pr, const struct cat *cx, const ret_source *src)
{
    ret_prune_report r;
    ret_error e = {RET_OK, ""};
    ret_status s;

    report_init(&r, cx, ret_source_path(src), pr);
    r.table = ret_source_table(src);
    if (cx->audit)
        s = ret_table_audit(cx->c, src, pr->now, &r.table_result, &e);
    else
        s = ret_table_prune(cx->c, src, pr->now, pr->flags & RET_PRUNE_DRY_RUN,
                            &r.table_result, &e);
    r.oldest = r.table_result.oldest;
    r.dropped = r.table_result.deleted;
    r.anonymized = r.table_result.anonymized;
    r.lines = r.table_result.examined;
    if (s != RET_OK) {
        r.outcome = RET_PRUNE_FAILED;
        r.status = s;
        r.message = e.message[0] != '\0' ? e.message : ret_strerror(s);
    } else if (cx->audit) {
        bool bad = r.table_result.deleted + r.table_result.restricted +
                       r.table_result.anonymized >
                   0;

        r.outcome = bad ? RET_PRUNE_VIOLATION : RET_PRUNE_COMPLIANT;
        s = bad ? RET_E_VIOLATION : RET_OK;
    } else {
        r.outcome = RET_PRUNE_TABLE;
    }
    s = record_or_fail(pr, cx, &r, s, &e);
    if (pr->cb != NULL)
        pr->cb(&r, pr->cb_arg);
    return s;
}

/* ---- walking a category -------------------------------------------- */

struct tally {
    ret_status first; /* of the first file with a problem */
    size_t problems;
    size_t violations;
};

static void
tally_add(struct tally *t, ret_status s)
{
    if (s == RET_OK)
        return;
    if (s == RET_E_VIOLATION) {
        t->violations++;
        return;
    }
    if (t->problems++ == 0)
        t->first = s;
}

static bool
out_of_time(const ret_pruner *pr)
{
    return pr->max_runtime > 0 &&
           monotonic() - pr->start >= (double)pr->max_runtime;
}

static ret_status
finish(const struct cat *cx, const struct tally *t, size_t left, ret_error *err)
{
    const char *name = ret_category_name(cx->c);

    if (cx->anon_refused && !cx->audit)
        return ret__fail(err, RET_E_INVAL,
                         "%s: staged anonymization of addresses in files "
                         "needs method truncate or zero (hash is not "
                         "idempotent): expired lines were deleted, "
                         "addresses left as they were",
                         name);

    if (left > 0)
        return ret__fail(err, RET_E_TIMEOUT,
                         "%s: run time limit reached: stopped between two "
                         "files, %zu left for the next run",
                         name, left);
    if (t->problems > 0)
        return ret__fail(err, t->first, "%s: %zu source%s not pruned as due",
                         name, t->problems, t->problems == 1 ? "" : "s");
    if (t->violations > 0)
        return ret__fail(err, RET_E_VIOLATION,
                         "%s: %zu source%s hold%s data past the limit", name,
                         t->violations, t->violations == 1 ? "" : "s",
                         t->violations == 1 ? "s" : "");
    return RET_OK;
}

/* Writes what the statistics still hold in memory; a failure to do so
 * is the run's failure unless it failed already. */
static ret_status
stats_sync(ret_pruner *pr, ret_status st, ret_error *err)
{
    ret_error e;

    if (pr->stats == NULL || ret_stats_flush(pr->stats, &e) == RET_OK ||
        st != RET_OK)
        return st;
    if (err != NULL)
        *err = e;
    return e.status;
}

static ret_status
walk_files(ret_pruner *pr, struct cat *cx, const char *format,
           const char *const *paths, size_t n, struct tally *t, size_t *left,
           ret_error *err)
{
    ret_format *fmt = NULL;
    ret_status st;
    size_t i;

    if (format == NULL || format[0] == '\0')
        format = "auto";
    if ((st = ret_format_compile(format, &fmt, err)) != RET_OK)
        return st;
    for (i = 0; i < n; i++) {
        if (!cx->audit && out_of_time(pr)) {
            *left += n - i;
            break;
        }
        tally_add(t, do_file(pr, cx, paths[i], format, fmt));
    }
    ret_format_free(fmt);
    return RET_OK;
}

static ret_status
run_files(ret_pruner *pr, const ret_category *c, bool audit, const char *format,
          const char *const *paths, size_t n, ret_error *err)
{
    struct tally t = {RET_OK, 0, 0};
    size_t left = 0;
    struct cat cx;
    ret_status st;

    if (pr == NULL || c == NULL || (n > 0 && paths == NULL))
        return ret__fail(err, RET_E_INVAL, "prune: invalid argument");
    if ((st = cat_init(pr, c, audit, &cx, err)) != RET_OK)
        return st;
    if (format == NULL && ret_category_source_count(c) > 0 &&
        ret_source_type(ret_category_source(c, 0)) == RET_SOURCE_FILES)
        format = ret_source_format(ret_category_source(c, 0));
    st = walk_files(pr, &cx, format, paths, n, &t, &left, err);
    if (st == RET_OK)
        st = stats_sync(pr, finish(&cx, &t, left, err), err);
    cat_free(&cx);
    return st;
}

/* A directory that does not exist holds no file; any other error (a
 * directory that cannot be read) stops the glob: never a silent miss. */
static int
glob_error(const char *epath, int eerrno)
{
    (void)epath;
    return eerrno != ENOENT && eerrno != ENOTDIR;
}

static ret_status
run_category(ret_pruner *pr, const ret_category *c, bool audit, ret_error *err)
{
    struct tally t = {RET_OK, 0, 0};
    size_t i, left = 0, nsrc;
    struct cat cx;
    ret_status st;

    if (pr == NULL || c == NULL)
        return ret__fail(err, RET_E_INVAL, "prune: invalid argument");
    if ((st = cat_init(pr, c, audit, &cx, err)) != RET_OK)
        return st;
    nsrc = ret_category_source_count(c);
    for (i = 0; i < nsrc; i++) {
        const ret_source *src = ret_category_source(c, i);
        glob_t g;
        int rc;

        if (!audit && out_of_time(pr)) {
            left += nsrc - i;
            break;
        }
        if (ret_source_type(src) == RET_SOURCE_SQLITE) {
            tally_add(&t, do_table(pr, &cx, src));
            continue;
        }
        if (!cx.has_del && !cx.has_anon && !audit &&
            !(pr->flags & RET_PRUNE_INGEST))
            continue;
        /* Glob the pattern once; the names found are used literally. */
        memset(&g, 0, sizeof(g));
        rc = glob(ret_source_path(src), 0, glob_error, &g);
        if (rc == GLOB_NOMATCH) {
            globfree(&g);
            continue;
        }
        if (rc != 0) {
            globfree(&g);
            st = ret__fail(err, rc == GLOB_NOSPACE ? RET_E_NOMEM : RET_E_IO,
                           "%s: cannot list %s: a directory on the way "
                           "cannot be read",
                           ret_category_name(c), ret_source_path(src));
            goto out;
        }
        st = walk_files(pr, &cx, ret_source_format(src),
                        (const char *const *)g.gl_pathv, g.gl_pathc, &t, &left,
                        err);
        globfree(&g);
        if (st != RET_OK)
            goto out;
    }
    st = stats_sync(pr, finish(&cx, &t, left, err), err);
out:
    cat_free(&cx);
    return st;
}

ret_status
ret_prune_category(ret_pruner *pr, const ret_category *c, ret_error *err)
{
    return run_category(pr, c, false, err);
}

ret_status
ret_prune_files(ret_pruner *pr, const ret_category *c, const char *format,
                const char *const *paths, size_t n, ret_error *err)
{
    return run_files(pr, c, false, format, paths, n, err);
}

ret_status
ret__audit_run(ret_pruner *pr, const ret_category *c, const char *format,
               const char *const *paths, size_t n, bool files, ret_error *err)
{
    if (files)
        return run_files(pr, c, true, format, paths, n, err);
    return run_category(pr, c, true, err);
}
