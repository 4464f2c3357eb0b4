/*
 * table.c - retention in SQLite tables: prune, audit and erase.
 *
 * A table is worked on in chunks. Candidate rows are read outside any
 * write transaction (by the time index, keyset-paginated on (time,
 * rowid)); each is decided, and the changes are applied in short
 * BEGIN IMMEDIATE transactions whose size adapts to the measured time so
 * that the write lock is never held for long: portal applications keep
 * writing meanwhile (see batch_pause for when the lock is left free).
 * A batch whose statements run past a deadline is interrupted, rolled
 * back and done again smaller (see past_deadline).
 * Rows due by time alone are deleted by ranges of the time index
 * (run_fast). Every change re-checks, in the same statement, that
 * the row still is what was decided on (same time, same completion, not
 * held since), so a hold placed during the run always wins.
 *
 * Times in a column may be INTEGER (or REAL) Unix seconds or ISO 8601
 * TEXT ("2026-12-01 10:00:00", "2026-12-01T10:00:00+01:00"); each kind is
 * read by its own index range and every candidate is judged exactly.
 *
 * Deleted data is made unreadable: secure_delete zeroes it in its pages,
 * the WAL is checkpointed and truncated, and with auto_vacuum=INCREMENTAL
 * the freed pages are given back, stepped in short transactions.
 */
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#define CHUNK_ROWS 65536    /* candidates read between write batches */
#define TARGET_LOCK_MS 20.0 /* aim of one write transaction */
#define MAX_LOCK_MS 35.0    /* a batch commits early past this */
#define DEADLINE_MS 40.0    /* a change statement is interrupted past this */
#define DEADLINE_OPS 1000   /* VM instructions between two checks of it */
#define FIRST_BATCH 256
#define MIN_BATCH 1
#define MAX_BATCH 65536
#define BUSY_TIMEOUT_MS 5000
#define GAP_MS 2            /* pause between incremental_vacuum steps */
#define CONTENDED_GAP_MS 20 /* pause after another writer was seen */
#define FAIR_MS 2000.0      /* uncontended work between two long pauses */
#define FAIR_PAUSE_MS 110   /* longer than SQLite's longest busy sleep */
#define VACUUM_STEP 512     /* pages freed per incremental_vacuum */
#define WAL_PAGES 16384     /* checkpoint (passively) past this WAL size */

/* Truthiness of a flag column in SQL: NULL, 0, '' and '0' are false. */
#define TRUTHY_FMT "(coalesce(%s,0) NOT IN (0,'','0'))"

/* A value read from a row, kept to re-check it when applying. */
struct val {
    int type; /* SQLITE_NULL, SQLITE_INTEGER, or 0: v holds a copy */
    int64_t i;
    sqlite3_value *v;
};

struct cand {
    int64_t rowid;
    ret_action action;
    bool mask; /* RET_RESTRICT: its client address is masked too */
    struct val ts, completed, retain, ip;
    char newip[48];
};

enum pass { PASS_NUMERIC, PASS_TEXT, PASS_COMPLETED, PASS_SUBJECT };

/* A statement that applies a change, with its parameter numbers. */
struct astmt {
    sqlite3_stmt *st;
    int r, t, c, rv, ip, nw;
};

struct work {
    const struct ret__tabspec *spec;
    sqlite3 *db;
    int mode;
    unsigned flags;
    int64_t now;
    const char *subject;
    ret_table_result res;
    /* SQL fragments: qualified (rt."x") and bare ("x") columns */
    char *qtable;
    char *q[RET_COL__COUNT];
    char *bare[RET_COL__COUNT];
    char *held;   /* 0/1 expression */
    char *restr;  /* 0/1 expression */
    char *filter; /* " AND (...)" or "" */
    struct astmt del, upd_restrict, upd_anon;
    struct cand *c;
    size_t n, cap;
    size_t batch;
    unsigned seed;
    int contended;
    sqlite3_stmt *dv;   /* PRAGMA data_version: others' commits */
    int64_t dv_last;    /* its value in our last batch */
    bool dv_have;
    double t_fair;      /* end of the last long pause */
    int busy_calls;     /* our busy handler's, in total */
    int busy_seen;      /* its value at the last batch_begin */
    double t_commit; /* set by the WAL hook once the lock is released */
    double cost;        /* ms of lock a row, smoothed; 0: not measured */
    double t_lock;      /* when the current batch got the lock */
    double deadline_ms; /* after t_lock, its change statements stop */
    bool no_deadline;   /* a batch of one row was interrupted: run it whole */
    unsigned long interrupts; /* batches interrupted and done again */
};

static double
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
sleep_ms(unsigned ms)
{
    struct timespec ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static ret_status
db_status(int code)
{
    switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return RET_E_BUSY;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return RET_E_CORRUPT;
    case SQLITE_NOMEM:
        return RET_E_NOMEM;
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
        return RET_E_IO;
    default:
        return RET_E_DB;
    }
}

ret_status
ret__db_fail(ret_error *err, sqlite3 *db, const char *path, const char *what)
{
    int code = db ? sqlite3_errcode(db) : SQLITE_NOMEM;

    return ret__fail(err, db_status(code), "%s: %s: %s", path, what,
                     db ? sqlite3_errmsg(db) : "out of memory");
}

ret_status
ret__db_open(const char *path, int readonly, int create, sqlite3 **out,
             ret_error *err)
{
    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_NOMUTEX;
    ret_status st = RET_OK;

    if (path == NULL || *path == '\0')
        return ret__fail(err, RET_E_INVAL, "no database given");
    if (!create && access(path, F_OK) != 0)
        return ret__fail_errno(err, RET_E_NOTFOUND, errno, "%s", path);
    flags |= readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    if (create && !readonly)
        flags |= SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        st = ret__db_fail(err, db, path, "open");
        goto out;
    }
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    /* Deleted content is overwritten with zeros in its pages; a first
     * read proves the file is a database. */
    if (sqlite3_exec(db, "PRAGMA secure_delete=ON; PRAGMA cache_size=-16384; "
                         "SELECT count(*) FROM sqlite_schema",
                     NULL, NULL, NULL) != SQLITE_OK) {
        st = ret__db_fail(err, db, path, "open");
        goto out;
    }
    *out = db;
    db = NULL;
out:
    sqlite3_close(db);
    return st;
}

/* ---- values ---- */

static void
val_clear(struct val *v)
{
    sqlite3_value_free(v->v);
    v->v = NULL;
    v->type = SQLITE_NULL;
}

static int
val_take(struct val *v, sqlite3_stmt *st, int col)
{
    int t = sqlite3_column_type(st, col);

    v->v = NULL;
    v->type = t == SQLITE_NULL || t == SQLITE_INTEGER ? t : 0;
    if (t == SQLITE_INTEGER) {
        v->i = sqlite3_column_int64(st, col);
    } else if (t != SQLITE_NULL) {
        v->v = sqlite3_value_dup(sqlite3_column_value(st, col));
        if (v->v == NULL)
            return -1;
    }
    return 0;
}

static int
val_bind(const struct val *v, sqlite3_stmt *st, int i)
{
    if (i == 0)
        return SQLITE_OK;
    if (v->type == SQLITE_NULL)
        return sqlite3_bind_null(st, i);
    if (v->type == SQLITE_INTEGER)
        return sqlite3_bind_int64(st, i, v->i);
    return sqlite3_bind_value(st, i, v->v);
}

/* A time from a column: INTEGER or REAL Unix seconds, or text (ISO 8601,
 * SQLite datetime, digits = Unix seconds). Returns 0 on success. */
int
ret__sql_time(sqlite3_value *v, int64_t *out)
{
    const char *s;
    int n, i;
    double d;

    switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER:
        *out = sqlite3_value_int64(v);
        return 0;
    case SQLITE_FLOAT:
        d = sqlite3_value_double(v);
        if (!(d > -9.2e18 && d < 9.2e18))
            return -1;
        *out = (int64_t)floor(d);
        return 0;
    case SQLITE_TEXT:
        s = (const char *)sqlite3_value_text(v);
        n = sqlite3_value_bytes(v);
        if (s == NULL || n == 0)
            return -1;
        for (i = s[0] == '-' ? 1 : 0; i < n && s[i] >= '0' && s[i] <= '9';
             i++)
            ;
        if (i == n && n < 19 && (s[0] != '-' || n > 1)) {
            int64_t t = 0;

            for (i = s[0] == '-' ? 1 : 0; i < n; i++)
                t = t * 10 + (s[i] - '0');
            *out = s[0] == '-' ? -t : t;
            return 0;
        }
        return ret_time_parse(s, (size_t)n, out, NULL, NULL) == RET_OK ? 0
                                                                      : -1;
    default:
        return -1;
    }
}

/* ---- client addresses ---- */

ret_status
ret__mask_ip_text(const char *text, size_t len, ret_anon_method method,
                  int v4bits, int v6bits, char *out, size_t size,
                  ret_error *err)
{
    ret_ip ip;
    int bits, i;
    ret_status st;

    if (size < 46)
        return ret__fail(err, RET_E_INVAL, "address buffer too small");
    /* The message of a parse failure may quote the address: never pass
     * it on. */
    if ((st = ret_ip_parse(text, len, &ip, NULL)) != RET_OK)
        return ret__fail(err, st, "client address could not be parsed");
    bits = ip.family == 4 ? v4bits : v6bits;
    if (method == RET_ANON_ZERO || bits < 0)
        bits = 0;
    if (ip.family == 4 && bits > 32)
        bits = 32;
    if (bits > 128)
        bits = 128;
    for (i = 0; i < (ip.family == 4 ? 4 : 16); i++) {
        int keep = bits - i * 8;

        if (keep <= 0)
            ip.bytes[i] = 0;
        else if (keep < 8)
            ip.bytes[i] &= (unsigned char)(0xff00u >> keep);
    }
    ret_ip_format(&ip, out, size);
    return RET_OK;
}

/* ---- the work ---- */

static char *
qualified(const char *name)
{
    return sqlite3_mprintf("rt.\"%w\"", name);
}

static void
work_free(struct work *w)
{
    size_t i;

    for (i = 0; i < RET_COL__COUNT; i++) {
        sqlite3_free(w->q[i]);
        sqlite3_free(w->bare[i]);
    }
    sqlite3_free(w->qtable);
    sqlite3_free(w->held);
    sqlite3_free(w->restr);
    sqlite3_free(w->filter);
    sqlite3_finalize(w->del.st);
    sqlite3_finalize(w->upd_restrict.st);
    sqlite3_finalize(w->upd_anon.st);
    sqlite3_finalize(w->dv);
    for (i = 0; i < w->n; i++) {
        val_clear(&w->c[i].ts);
        val_clear(&w->c[i].completed);
        val_clear(&w->c[i].retain);
        val_clear(&w->c[i].ip);
    }
    free(w->c);
}

/* The table must exist, have rowids, and hold every mapped column. */
static ret_status
check_schema(struct work *w, ret_error *err)
{
    const struct ret__tabspec *sp = w->spec;
    sqlite3_stmt *st = NULL;
    bool found[RET_COL__COUNT] = {false};
    bool any = false;
    ret_status rs = RET_OK;
    char *sql = NULL;
    int rc, i;

    if (sqlite3_prepare_v2(w->db,
                           "SELECT name FROM pragma_table_info(?1) "
                           "WHERE ?1 IN (SELECT name FROM sqlite_schema "
                           "WHERE type = 'table')",
                           -1, &st, NULL) != SQLITE_OK) {
        rs = ret__db_fail(err, w->db, sp->path, "table_info");
        goto out;
    }
    sqlite3_bind_text(st, 1, sp->table, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);

        any = true;
        for (i = 0; i < RET_COL__COUNT; i++)
            if (sp->col[i] && name && sqlite3_stricmp(sp->col[i], name) == 0)
                found[i] = true;
    }
    if (rc != SQLITE_DONE) {
        rs = ret__db_fail(err, w->db, sp->path, "table_info");
        goto out;
    }
    if (!any) {
        rs = ret__fail(err, RET_E_NOTFOUND, "%s: no table '%s'", sp->path,
                       sp->table);
        goto out;
    }
    for (i = 0; i < RET_COL__COUNT; i++)
        if (sp->col[i] && !found[i]) {
            rs = ret__fail(err, RET_E_NOTFOUND, "%s: table '%s' has no "
                           "column '%s'", sp->path, sp->table, sp->col[i]);
            goto out;
        }
    sqlite3_finalize(st);
    st = NULL;
    sql = sqlite3_mprintf("SELECT rowid FROM %s LIMIT 0", w->qtable);
    if (sql == NULL || sqlite3_prepare_v2(w->db, sql, -1, &st, NULL) !=
                           SQLITE_OK) {
        rs = ret__fail(err, RET_E_INVAL, "%s: table '%s' has no rowid "
                       "(WITHOUT ROWID tables are not supported)",
                       sp->path, sp->table);
        goto out;
    }
out:
    sqlite3_free(sql);
    sqlite3_finalize(st);
    return rs;
}

static const char *
col_or_null(const struct work *w, ret_column c)
{
    return w->q[c] ? w->q[c] : "NULL";
}

static ret_status
work_init(struct work *w, sqlite3 *db, const struct ret__tabspec *sp,
          int mode, int64_t now, const char *subject, unsigned flags,
          ret_error *err)
{
    ret_status st;
    int i;

    memset(w, 0, sizeof(*w));
    w->spec = sp;
    w->db = db;
    w->mode = mode;
    w->now = now;
    w->subject = subject;
    w->flags = flags;
    w->batch = FIRST_BATCH;
    w->deadline_ms = sp->deadline_ms > 0 ? sp->deadline_ms : DEADLINE_MS;
    w->seed = (unsigned)now ^ (unsigned)(uintptr_t)w;
    w->t_fair = now_ms();
    if (sp->table == NULL || *sp->table == '\0')
        return ret__fail(err, RET_E_INVAL, "%s: no table given", sp->path);
    if (mode != RET__TAB_ERASE && sp->col[RET_COL_TIME] == NULL)
        return ret__fail(err, RET_E_INVAL, "%s: table '%s': no time column",
                         sp->path, sp->table);
    if (mode == RET__TAB_ERASE && sp->col[RET_COL_SUBJECT] == NULL)
        return ret__fail(err, RET_E_NOTFOUND, "%s: table '%s': no subject "
                         "column", sp->path, sp->table);
    if ((w->qtable = sqlite3_mprintf("\"%w\"", sp->table)) == NULL)
        goto nomem;
    for (i = 0; i < RET_COL__COUNT; i++) {
        if (sp->col[i] == NULL)
            continue;
        w->q[i] = qualified(sp->col[i]);
        w->bare[i] = sqlite3_mprintf("\"%w\"", sp->col[i]);
        if (w->q[i] == NULL || w->bare[i] == NULL)
            goto nomem;
    }
    if ((st = check_schema(w, err)) != RET_OK)
        return st;
    if (sp->held_expr)
        w->held = sqlite3_mprintf("(%s)", sp->held_expr);
    else if (w->q[RET_COL_HOLD])
        w->held = sqlite3_mprintf(TRUTHY_FMT, w->q[RET_COL_HOLD]);
    else
        w->held = sqlite3_mprintf("0");
    if (w->q[RET_COL_RESTRICTED])
        w->restr = sqlite3_mprintf(TRUTHY_FMT, w->q[RET_COL_RESTRICTED]);
    else
        w->restr = sqlite3_mprintf("0");
    w->filter = sp->filter ? sqlite3_mprintf(" AND (%s)", sp->filter)
                           : sqlite3_mprintf("%s", "");
    if (w->held == NULL || w->restr == NULL || w->filter == NULL)
        goto nomem;
    return RET_OK;
nomem:
    return ret__fail(err, RET_E_NOMEM, "out of memory");
}

static ret_status
prepare(struct work *w, const char *sql, sqlite3_stmt **out, ret_error *err)
{
    if (sql == NULL)
        return ret__fail(err, RET_E_NOMEM, "out of memory");
    if (sqlite3_prepare_v2(w->db, sql, -1, out, NULL) != SQLITE_OK)
        return ret__db_fail(err, w->db, w->spec->path, "prepare");
    return RET_OK;
}

static void
bind_common(struct work *w, sqlite3_stmt *st)
{
    int i;

    if ((i = sqlite3_bind_parameter_index(st, ":filter")) != 0)
        sqlite3_bind_text(st, i, w->spec->filter_arg, -1, SQLITE_STATIC);
    if ((i = sqlite3_bind_parameter_index(st, ":subject")) != 0)
        sqlite3_bind_text(st, i, w->subject, -1, SQLITE_STATIC);
}

static ret_status
prepare_astmt(struct work *w, char *sql, struct astmt *a, ret_error *err)
{
    ret_status st = prepare(w, sql, &a->st, err);

    sqlite3_free(sql);
    if (st != RET_OK)
        return st;
    a->r = sqlite3_bind_parameter_index(a->st, ":r");
    a->t = sqlite3_bind_parameter_index(a->st, ":t");
    a->c = sqlite3_bind_parameter_index(a->st, ":c");
    a->rv = sqlite3_bind_parameter_index(a->st, ":rv");
    a->ip = sqlite3_bind_parameter_index(a->st, ":ip");
    a->nw = sqlite3_bind_parameter_index(a->st, ":new");
    bind_common(w, a->st); /* bindings outlive sqlite3_reset */
    return RET_OK;
}

static ret_status
prepare_apply(struct work *w, ret_error *err)
{
    ret_status st;
    char *sql;

    sql = sqlite3_mprintf(
        "DELETE FROM %s AS rt WHERE rt.rowid = :r AND %s IS :t "
        "AND NOT %s AND %s IS :c AND %s IS :rv AND %s IS :ip%s",
        w->qtable, col_or_null(w, RET_COL_TIME), w->held,
        col_or_null(w, RET_COL_COMPLETED), col_or_null(w, RET_COL_RETAIN_UNTIL),
        col_or_null(w, RET_COL_CLIENT_IP), w->filter);
    if ((st = prepare_astmt(w, sql, &w->del, err)) != RET_OK)
        return st;
    if (w->q[RET_COL_RESTRICTED]) {
        sql = sqlite3_mprintf("UPDATE %s AS rt SET %s = 1 WHERE rt.rowid = :r "
                              "AND %s IS :t AND NOT %s%s",
                              w->qtable, w->bare[RET_COL_RESTRICTED],
                              col_or_null(w, RET_COL_TIME), w->restr,
                              w->filter);
        if ((st = prepare_astmt(w, sql, &w->upd_restrict, err)) != RET_OK)
            return st;
    }
    if (w->q[RET_COL_CLIENT_IP]) {
        sql = sqlite3_mprintf("UPDATE %s AS rt SET %s = :new WHERE "
                              "rt.rowid = :r AND %s IS :ip%s",
                              w->qtable, w->bare[RET_COL_CLIENT_IP],
                              w->q[RET_COL_CLIENT_IP], w->filter);
        if ((st = prepare_astmt(w, sql, &w->upd_anon, err)) != RET_OK)
            return st;
    }
    return RET_OK;
}

/* The candidate query of a pass. Columns: rowid, time, held, completed,
 * retain_until, restricted, client ip. */
static char *
pass_sql(struct work *w, enum pass p, int first)
{
    const char *t = col_or_null(w, RET_COL_TIME);
    bool keyset = p == PASS_NUMERIC || p == PASS_TEXT;
    char *cond, *sql, *order, *ks;

    ks = first || !keyset ? sqlite3_mprintf("%s", "")
                          : sqlite3_mprintf(" AND (%s, rt.rowid) > (:lt, :lr)",
                                            t);
    if (ks == NULL)
        return NULL;

    switch (p) {
    case PASS_NUMERIC:
        cond = sqlite3_mprintf(
            "%s < :hi AND typeof(%s) IN ('integer','real')%s%s%s%s", t, t,
            w->q[RET_COL_COMPLETED] ? " AND " : "",
            w->q[RET_COL_COMPLETED] ? w->q[RET_COL_COMPLETED] : "",
            w->q[RET_COL_COMPLETED] ? " IS NULL" : "",
            ks);
        break;
    case PASS_TEXT:
        cond = sqlite3_mprintf(
            "%s >= '' AND %s < :hi AND typeof(%s) = 'text'%s%s%s%s", t, t, t,
            w->q[RET_COL_COMPLETED] ? " AND " : "",
            w->q[RET_COL_COMPLETED] ? w->q[RET_COL_COMPLETED] : "",
            w->q[RET_COL_COMPLETED] ? " IS NULL" : "",
            ks);
        break;
    case PASS_COMPLETED:
        cond = sqlite3_mprintf("%s IS NOT NULL AND rt.rowid > :lr",
                               w->q[RET_COL_COMPLETED]);
        break;
    default:
        cond = sqlite3_mprintf("%s = :subject AND rt.rowid > :lr",
                               w->q[RET_COL_SUBJECT]);
        break;
    }
    sqlite3_free(ks);
    if (cond == NULL)
        return NULL;
    order = keyset ? sqlite3_mprintf("ORDER BY %s, rt.rowid", t)
                   : sqlite3_mprintf("ORDER BY rt.rowid");
    sql = order == NULL ? NULL : sqlite3_mprintf(
        "SELECT rt.rowid, %s, %s, %s, %s, %s, %s FROM %s AS rt WHERE %s%s "
        "%s LIMIT %d",
        t, w->held, col_or_null(w, RET_COL_COMPLETED),
        col_or_null(w, RET_COL_RETAIN_UNTIL), w->restr,
        col_or_null(w, RET_COL_CLIENT_IP), w->qtable, cond, w->filter,
        order, CHUNK_ROWS);
    sqlite3_free(order);
    sqlite3_free(cond);
    return sql;
}

/* Flags a pass whose query plan scans the whole table. */
static void
check_plan(struct work *w, const char *sql)
{
    sqlite3_stmt *st = NULL;
    char *eqp = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", sql);

    if (eqp && sqlite3_prepare_v2(w->db, eqp, -1, &st, NULL) == SQLITE_OK) {
        bind_common(w, st);
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *d = (const char *)sqlite3_column_text(st, 3);

            if (d && strncmp(d, "SCAN", 4) == 0 && strstr(d, " rt") != NULL)
                w->res.flags |= RET_TABLE_NO_INDEX;
        }
    }
    sqlite3_finalize(st);
    sqlite3_free(eqp);
}

/* Truthy as TRUTHY_FMT says, for values read in C. */
static int
col_true(sqlite3_stmt *st, int col)
{
    return sqlite3_column_int(st, col) != 0;
}

static int
decide(struct work *w, const ret_facts *f, ret_decision *d)
{
    return ret_decide(w->spec->cat, f, w->now, d) == RET_OK;
}

/* Is the row's client address due to be masked (d names the client
 * among the fields due) and not masked yet? Then c->newip is its masked
 * text ("" for a value that cannot be masked: it is removed, fail
 * closed). */
static bool
client_due(const struct work *w, sqlite3_stmt *st, struct cand *c,
           const ret_decision *d)
{
    const char *ip;
    int n;

    if (!w->q[RET_COL_CLIENT_IP] || !(d->fields & (1u << RET_F_CLIENT)) ||
        sqlite3_column_type(st, 6) == SQLITE_NULL)
        return false;
    ip = (const char *)sqlite3_column_text(st, 6);
    n = sqlite3_column_bytes(st, 6);
    if (ip == NULL || n == 0)
        return false;
    if (ret__mask_ip_text(ip, (size_t)n, d->method, d->ipv4_prefix,
                          d->ipv6_prefix, c->newip, sizeof(c->newip),
                          NULL) != RET_OK) {
        c->newip[0] = '\0';
        return true;
    }
    return !((size_t)n == strlen(c->newip) && memcmp(ip, c->newip, n) == 0);
}

/* Decides one candidate row; returns the action to apply (RET_KEEP:
 * nothing), counting what is kept and why. A row restricted instead of
 * deleted (statutory retention) has its client address masked too when
 * the policy's anonymization of it is due: only a legal hold keeps a
 * record as it is. */
static ret_action
judge(struct work *w, sqlite3_stmt *st, struct cand *c)
{
    ret_facts f = {0};
    ret_decision d;
    int restricted = col_true(st, 5);

    memset(&d, 0, sizeof(d));
    if (col_true(st, 2))
        f.flags |= RET_FACT_HELD;
    if (restricted)
        f.flags |= RET_FACT_RESTRICTED;
    if (w->mode == RET__TAB_ERASE) {
        if (f.flags & RET_FACT_HELD) {
            w->res.held++;
            return RET_KEEP;
        }
        if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
            int64_t until;

            if (ret__sql_time(sqlite3_column_value(st, 4), &until) != 0 ||
                until > w->now) {
                w->res.retained++;
                return restricted || !w->q[RET_COL_RESTRICTED] ? RET_KEEP
                                                               : RET_RESTRICT;
            }
        }
        return RET_DELETE;
    }
    if (ret__sql_time(sqlite3_column_value(st, 1), &f.time) != 0) {
        w->res.unparsed++;
        return RET_KEEP;
    }
    if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
        if (ret__sql_time(sqlite3_column_value(st, 3), &f.completed_at) != 0) {
            w->res.unparsed++;
            return RET_KEEP;
        }
        f.flags |= RET_FACT_COMPLETED;
    }
    if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
        if (ret__sql_time(sqlite3_column_value(st, 4), &f.retain_until) != 0)
            f.retain_until = RET_TIME_NEVER; /* unreadable: keep */
        f.flags |= RET_FACT_RETAIN;
    }
    if (!decide(w, &f, &d))
        return RET_KEEP;
    if (d.action != RET_DELETE && (f.flags & (RET_FACT_HELD | RET_FACT_RETAIN))) {
        ret_facts g = f;
        ret_decision e;

        g.flags &= ~(unsigned)RET_FACT_HELD;
        if ((f.flags & RET_FACT_HELD) && decide(w, &g, &e) &&
            e.action == RET_DELETE) {
            w->res.held++;
        } else {
            g.flags &= ~(unsigned)RET_FACT_RETAIN;
            if ((f.flags & RET_FACT_RETAIN) && decide(w, &g, &e) &&
                e.action == RET_DELETE)
                w->res.retained++;
        }
    }
    switch (d.action) {
    case RET_DELETE:
        return RET_DELETE;
    case RET_RESTRICT:
        c->mask = !(f.flags & RET_FACT_HELD) && client_due(w, st, c, &d);
        if (restricted || !w->q[RET_COL_RESTRICTED])
            return c->mask ? RET_ANONYMIZE : RET_KEEP;
        return RET_RESTRICT;
    case RET_ANONYMIZE:
        return client_due(w, st, c, &d) ? RET_ANONYMIZE : RET_KEEP;
    default:
        return RET_KEEP;
    }
}

/* Applies one change: SQLITE_DONE (also when the row has changed since
 * it was judged and is left alone), or the error of the statement. */
static int
apply_one(struct work *w, const struct cand *c)
{
    const struct astmt *a;
    sqlite3_stmt *st;
    int rc;

    switch (c->action) {
    case RET_DELETE:
        a = &w->del;
        break;
    case RET_RESTRICT:
        a = &w->upd_restrict;
        break;
    default:
        a = &w->upd_anon;
        break;
    }
    st = a->st;
    sqlite3_bind_int64(st, a->r, c->rowid);
    val_bind(&c->ts, st, a->t);
    val_bind(&c->completed, st, a->c);
    val_bind(&c->retain, st, a->rv);
    val_bind(&c->ip, st, a->ip);
    if (c->action == RET_ANONYMIZE) {
        if (c->newip[0])
            sqlite3_bind_text(st, a->nw, c->newip, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, a->nw);
    }
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE || sqlite3_changes(w->db) != 1)
        return rc;
    if (c->action == RET_DELETE)
        w->res.deleted++;
    else if (c->action == RET_RESTRICT)
        w->res.restricted++;
    else
        w->res.anonymized++;
    if (c->action == RET_RESTRICT && c->mask) {
        /* restricted, and its client address masked as it is due */
        struct cand m = *c;

        m.action = RET_ANONYMIZE;
        m.mask = false;
        return apply_one(w, &m);
    }
    return SQLITE_DONE;
}

/* Called after each commit, once the write lock is released: notes the
 * time, and checkpoints passively past WAL_PAGES. It replaces SQLite's
 * automatic checkpoint, so none runs inside a lock; and the WAL file
 * stays small (about 64 MB), because its final truncation holds the
 * write lock as long as the file takes to free (a 256 MB WAL took 70 to
 * 190 ms). Every checkpoint restarts the WAL, which costs the next
 * commit a sync of its header (a millisecond or two). */
static int
wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
    struct work *w = arg;

    w->t_commit = now_ms();
    if (pages >= WAL_PAGES)
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL,
                                  NULL);
    return SQLITE_OK;
}

/* SQLite's busy timeout (the same sleeps, BUSY_TIMEOUT_MS in all), but
 * counting its calls: a call means another connection held the lock. */
static int
busy_handler(void *arg, int n)
{
    static const unsigned char delays[] = {1,  2,  5,  10, 15, 20,
                                           25, 25, 25, 50, 50, 100};
    struct work *w = arg;
    int i, total = 0, d;

    for (i = 0; i < n && i < (int)sizeof(delays); i++)
        total += delays[i];
    if (n >= (int)sizeof(delays))
        total += (n - (int)sizeof(delays)) * 100;
    d = n < (int)sizeof(delays) ? delays[n] : 100;
    if (total >= BUSY_TIMEOUT_MS)
        return 0;
    if (total + d > BUSY_TIMEOUT_MS)
        d = BUSY_TIMEOUT_MS - total;
    w->busy_calls++;
    sleep_ms((unsigned)d);
    return 1;
}

/*
 * The bound of one write lock. While a batch holds the lock, SQLite
 * calls past_deadline every DEADLINE_OPS instructions of its change
 * statements; past deadline_ms since the lock was got the statement
 * stops with SQLITE_INTERRUPT and SQLite rolls the whole transaction
 * back (batch_undo makes sure), and the batch is done again at a
 * quarter of its size. The handler is armed only inside a batch and
 * never during COMMIT, reads, checkpoints or vacuum steps. A batch of
 * one row that is interrupted anyway is done again without a deadline,
 * so that every run ends.
 */
static void batch_pause(struct work *w, bool more);

static int
past_deadline(void *arg)
{
    const struct work *w = arg;

    return now_ms() - w->t_lock > w->deadline_ms;
}

static void
deadline_arm(struct work *w, bool on)
{
    if (on)
        sqlite3_progress_handler(w->db, DEADLINE_OPS, past_deadline, w);
    else
        sqlite3_progress_handler(w->db, 0, NULL, NULL);
}

/* Starts a write transaction; *t1 is when the lock was got. Another
 * writer is seen when we had to wait for the lock (our busy handler was
 * called), or when someone else committed since our last batch
 * (data_version changed). */
static ret_status
batch_begin(struct work *w, double *t1, ret_error *err)
{
    int64_t v;

    if (sqlite3_exec(w->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return ret__db_fail(err, w->db, w->spec->path, "begin");
    *t1 = now_ms();
    if (w->busy_calls != w->busy_seen)
        w->contended = 16; /* someone else wrote: leave them room */
    w->busy_seen = w->busy_calls;
    if (w->dv == NULL &&
        sqlite3_prepare_v2(w->db, "PRAGMA data_version", -1, &w->dv, NULL) !=
            SQLITE_OK)
        w->dv = NULL;
    if (w->dv != NULL && sqlite3_step(w->dv) == SQLITE_ROW) {
        v = sqlite3_column_int64(w->dv, 0);
        if (w->dv_have && v != w->dv_last)
            w->contended = 16;
        w->dv_last = v;
        w->dv_have = true;
    }
    if (w->dv != NULL)
        sqlite3_reset(w->dv);
    w->t_lock = *t1;
    deadline_arm(w, !w->no_deadline);
    return RET_OK;
}

/* Ends the write transaction begun at t1 without its changes (after an
 * interrupt SQLite has mostly rolled it back already) and counts the
 * time the lock was held. */
static void
batch_undo(struct work *w, double t1)
{
    double lock;

    deadline_arm(w, false);
    if (!sqlite3_get_autocommit(w->db))
        sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
    lock = now_ms() - t1;
    if (lock > w->res.max_lock_ms)
        w->res.max_lock_ms = lock;
}

/* After an interrupted batch (undone): a row costs at least the
 * deadline over the batch size; a quarter of the size for the same
 * work, and a pause as after any batch. */
static void
batch_cut(struct work *w)
{
    double c = w->deadline_ms / (double)w->batch;

    w->interrupts++;
    if (w->batch == 1)
        w->no_deadline = true;
    if (c > w->cost)
        w->cost = c;
    w->batch = w->batch >= 4 ? w->batch / 4 : 1;
    batch_pause(w, true);
}

/*
 * Lets other writers in between two batches. SQLite gives no sign of a
 * writer waiting in its busy handler, which retries after sleeps of up
 * to 100 ms: so when another writer was seen (it waited for us, or it
 * committed meanwhile), every batch is followed by a pause of 20-40 ms;
 * otherwise the next batch follows at once (yielding the processor
 * would not wake a sleeping writer, and on a loaded machine costs a
 * time slice a batch), and after FAIR_MS of such
 * work the lock is left free for FAIR_PAUSE_MS, longer than any busy
 * sleep, so that a writer that has not got in yet surely does (and is
 * seen from then on). A writer with a busy timeout above about 2.2 s is
 * never refused; the cost is about 5% of a long prune, none of a short
 * one.
 */
static void
batch_pause(struct work *w, bool more)
{
    double t = now_ms();

    if (w->contended) {
        w->contended--;
        sleep_ms(CONTENDED_GAP_MS +
                 (unsigned)(rand_r(&w->seed) % (CONTENDED_GAP_MS + 1)));
        w->t_fair = now_ms();
    } else if (more && t - w->t_fair > FAIR_MS) {
        sleep_ms(FAIR_PAUSE_MS);
        w->t_fair = now_ms();
    }
}

/* Commits k changes begun at t1, adapts the batch size to the measured
 * time and pauses so that waiting writers get the lock (more = another
 * batch follows). The cost of a row follows a slower batch at once and
 * a faster one by a quarter of the difference: rows cost unevenly (a
 * batch after another writer's commit reads its pages again, some
 * ranges are dense), and a batch sized by one fast one would take many
 * times the target. */
static ret_status
batch_commit(struct work *w, double t1, size_t k, bool more, ret_error *err)
{
    ret_status st;
    double lock;

    deadline_arm(w, false); /* a COMMIT is never interrupted */
    w->t_commit = 0;
    if (sqlite3_exec(w->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        st = ret__db_fail(err, w->db, w->spec->path, "commit");
        batch_undo(w, t1);
        return st;
    }
    w->no_deadline = false;
    lock = (w->t_commit > 0 ? w->t_commit : now_ms()) - t1;
    if (lock > w->res.max_lock_ms)
        w->res.max_lock_ms = lock;
    if (lock > 0.05 && k > 0) {
        double c = lock / (double)k, want;

        w->cost = c > w->cost ? c : 0.75 * w->cost + 0.25 * c;
        want = TARGET_LOCK_MS / w->cost;
        if (want > 2.0 * (double)w->batch)
            want = 2.0 * (double)w->batch;
        w->batch = want < MIN_BATCH   ? MIN_BATCH
                   : want > MAX_BATCH ? MAX_BATCH
                                      : (size_t)want;
    } else if (k > 0 && w->batch < MAX_BATCH / 2) {
        w->batch *= 2;
    }
    batch_pause(w, more);
    return RET_OK;
}

/* Applies the chunk's candidates in short write transactions. An
 * interrupted batch is undone, its counts with it, and done again. */
static ret_status
apply(struct work *w, ret_error *err)
{
    size_t i = 0;
    ret_status st;

    while (i < w->n) {
        uint64_t del = w->res.deleted, rst = w->res.restricted;
        uint64_t ano = w->res.anonymized;
        size_t k = 0, i0 = i;
        int rc = SQLITE_DONE;
        double t1;

        if ((st = batch_begin(w, &t1, err)) != RET_OK)
            return st;
        while (i < w->n && k < w->batch) {
            if ((rc = apply_one(w, &w->c[i])) != SQLITE_DONE)
                break;
            i++;
            k++;
            if ((k & 15) == 0 && now_ms() - t1 > MAX_LOCK_MS)
                break;
        }
        if (rc == SQLITE_INTERRUPT) {
            batch_undo(w, t1);
            w->res.deleted = del;
            w->res.restricted = rst;
            w->res.anonymized = ano;
            i = i0;
            batch_cut(w);
            continue;
        }
        if (rc != SQLITE_DONE) {
            st = ret__db_fail(err, w->db, w->spec->path, "write");
            batch_undo(w, t1);
            return st;
        }
        if ((st = batch_commit(w, t1, k, i < w->n, err)) != RET_OK)
            return st;
    }
    return RET_OK;
}

/*
 * The fast path of a table without completion or retention columns and
 * a category without a retention rule: every unheld row whose numeric
 * time is below the delete cutoff is due, so the oldest of them are
 * deleted by the index, a batch per transaction, without judging them
 * one by one. Held rows are skipped (a lower bound moves past them) and
 * left to the row-by-row pass that follows, which counts them and
 * restricts them when the policy says so.
 */
static bool
fast_path(const struct work *w)
{
    const ret_category *c = w->spec->cat;
    size_t i, n;

    if (w->mode != RET__TAB_PRUNE || (w->flags & RET_PRUNE_DRY_RUN) ||
        w->q[RET_COL_COMPLETED] || w->q[RET_COL_RETAIN_UNTIL])
        return false;
    n = ret_category_rule_count(c);
    for (i = 0; i < n; i++)
        if (ret_rule_action(ret_category_rule(c, i)) == RET_RESTRICT)
            return false;
    return true;
}

/* Binds v (NULL: the integer d) to the parameter name of each of n
 * statements. */
static void
bind_all(sqlite3_stmt **sts, int n, const char *name, sqlite3_value *v,
         int64_t d)
{
    int i, j;

    for (i = 0; i < n; i++) {
        if ((j = sqlite3_bind_parameter_index(sts[i], name)) == 0)
            continue;
        if (v != NULL)
            sqlite3_bind_value(sts[i], j, v);
        else
            sqlite3_bind_int64(sts[i], j, d);
    }
}

/*
 * A batch is a range of the time index: bnd finds, without the lock and
 * from the index alone, the time n rows past the lower bound, and rng
 * deletes every unheld row between the two as one range DELETE (the plan
 * of a plain `DELETE ... WHERE t < ?`, no rowid list). Held rows stay
 * below the next lower bound. When n rows share one time, one deletes
 * the next n unheld rows by rowid instead, as often as needed.
 */
static ret_status
run_fast(struct work *w, int64_t cutoff, ret_error *err)
{
    const char *t = w->q[RET_COL_TIME];
    sqlite3_stmt *sts[3] = {NULL, NULL, NULL};
    sqlite3_stmt *bnd, *rng, *one;
    sqlite3_value *b = NULL;
    ret_status rs = RET_OK;
    char *sql[3];
    int i;

    sql[0] = sqlite3_mprintf("SELECT %s, %s > :lo FROM %s AS rt WHERE "
                             "%s >= :lo AND %s < :hi AND typeof(%s) IN "
                             "('integer','real') ORDER BY %s LIMIT 1 "
                             "OFFSET :n",
                             t, t, w->qtable, t, t, t, t);
    sql[1] = sqlite3_mprintf("DELETE FROM %s AS rt WHERE %s >= :lo AND "
                             "%s < :b AND typeof(%s) IN ('integer','real') "
                             "AND NOT %s%s",
                             w->qtable, t, t, t, w->held, w->filter);
    sql[2] = sqlite3_mprintf("DELETE FROM %s WHERE rowid IN (SELECT "
                             "rt.rowid FROM %s AS rt WHERE %s < :hi AND "
                             "%s >= :lo AND typeof(%s) IN ('integer','real') "
                             "AND NOT %s%s ORDER BY %s LIMIT :n)",
                             w->qtable, w->qtable, t, t, t, w->held,
                             w->filter, t);
    for (i = 0; i < 3; i++)
        if (rs == RET_OK)
            rs = prepare(w, sql[i], &sts[i], err);
    for (i = 0; i < 3; i++)
        sqlite3_free(sql[i]);
    if (rs != RET_OK)
        goto out;
    bnd = sts[0];
    rng = sts[1];
    one = sts[2];
    for (i = 0; i < 3; i++)
        bind_common(w, sts[i]);
    bind_all(sts, 3, ":hi", NULL, cutoff);
    bind_all(sts, 3, ":lo", NULL, INT64_MIN);
    for (;;) {
        sqlite3_stmt *del;
        double t1;
        size_t k, want = w->batch;
        bool adv = true;
        int rc;

        sqlite3_bind_int64(bnd, sqlite3_bind_parameter_index(bnd, ":n"),
                           (sqlite3_int64)want);
        rc = sqlite3_step(bnd);
        sqlite3_value_free(b);
        b = NULL;
        if (rc == SQLITE_ROW) {
            adv = sqlite3_column_int(bnd, 1) != 0;
            b = sqlite3_value_dup(sqlite3_column_value(bnd, 0));
        }
        sqlite3_reset(bnd);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            rs = ret__db_fail(err, w->db, w->spec->path, "read");
            goto out;
        }
        if (rc == SQLITE_ROW && b == NULL) {
            rs = ret__fail(err, RET_E_NOMEM, "out of memory");
            goto out;
        }
        del = adv ? rng : one;
        if (adv)
            bind_all(&rng, 1, ":b", b, cutoff); /* no row: up to cutoff */
        else
            sqlite3_bind_int64(one, sqlite3_bind_parameter_index(one, ":n"),
                               (sqlite3_int64)want);
        if ((rs = batch_begin(w, &t1, err)) != RET_OK)
            goto out;
        rc = sqlite3_step(del);
        sqlite3_reset(del);
        if (rc == SQLITE_INTERRUPT) {
            batch_undo(w, t1); /* nothing counted yet; same lower bound */
            batch_cut(w);
            continue;
        }
        if (rc != SQLITE_DONE) {
            rs = ret__db_fail(err, w->db, w->spec->path, "delete");
            batch_undo(w, t1);
            goto out;
        }
        k = (size_t)sqlite3_changes(w->db);
        w->res.deleted += k;
        w->res.examined += k;
        /* a range held want rows, deleted or held */
        if ((rs = batch_commit(w, t1, b && adv ? want : k,
                               adv ? b != NULL : k == want, err)) != RET_OK)
            goto out;
        if (adv && b == NULL)
            break; /* the last range, up to the cutoff */
        if (!adv && k < want)
            break; /* nothing left below the cutoff but held rows */
        if (adv)
            bind_all(sts, 3, ":lo", b, 0); /* every unheld row below is gone */
    }
out:
    sqlite3_value_free(b);
    for (i = 0; i < 3; i++)
        sqlite3_finalize(sts[i]);
    return rs;
}

static void
chunk_clear(struct work *w)
{
    size_t i;

    for (i = 0; i < w->n; i++) {
        val_clear(&w->c[i].ts);
        val_clear(&w->c[i].completed);
        val_clear(&w->c[i].retain);
        val_clear(&w->c[i].ip);
    }
    w->n = 0;
}

static ret_status
run_pass(struct work *w, enum pass p, int64_t hi, const char *hitext,
         ret_error *err)
{
    sqlite3_stmt *first = NULL, *next = NULL, *st;
    char *sql1 = NULL, *sql2 = NULL;
    struct val lt = {SQLITE_NULL, 0, NULL};
    int64_t lr = INT64_MIN;
    ret_status rs = RET_OK;
    bool dry = w->mode != RET__TAB_PRUNE && w->mode != RET__TAB_ERASE;
    bool keyset = p == PASS_NUMERIC || p == PASS_TEXT;
    int rc, rows;

    if (w->mode == RET__TAB_ERASE && (w->flags & RET_PRUNE_DRY_RUN))
        dry = true;
    if (w->mode == RET__TAB_PRUNE && (w->flags & RET_PRUNE_DRY_RUN))
        dry = true;
    sql1 = pass_sql(w, p, 1);
    sql2 = keyset ? pass_sql(w, p, 0) : NULL;
    if (sql1 == NULL || (keyset && sql2 == NULL)) {
        rs = ret__fail(err, RET_E_NOMEM, "out of memory");
        goto out;
    }
    if ((rs = prepare(w, sql1, &first, err)) != RET_OK)
        goto out;
    if (keyset && (rs = prepare(w, sql2, &next, err)) != RET_OK)
        goto out;
    if (p == PASS_NUMERIC || p == PASS_SUBJECT)
        check_plan(w, sql1);
    st = first;
    for (;;) {
        int i;

        bind_common(w, st);
        if ((i = sqlite3_bind_parameter_index(st, ":hi")) != 0) {
            if (hitext)
                sqlite3_bind_text(st, i, hitext, -1, SQLITE_STATIC);
            else
                sqlite3_bind_int64(st, i, hi);
        }
        if ((i = sqlite3_bind_parameter_index(st, ":lr")) != 0)
            sqlite3_bind_int64(st, i, lr);
        val_bind(&lt, st, sqlite3_bind_parameter_index(st, ":lt"));
        rows = 0;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            struct cand *c;
            ret_action a;

            rows++;
            w->res.examined++;
            lr = sqlite3_column_int64(st, 0);
            if (keyset) {
                val_clear(&lt);
                if (val_take(&lt, st, 1) != 0) {
                    rs = ret__fail(err, RET_E_NOMEM, "out of memory");
                    goto out;
                }
            }
            if (w->n == w->cap) {
                size_t cap = w->cap ? w->cap * 2 : 1024;
                struct cand *nc = realloc(w->c, cap * sizeof(*nc));

                if (nc == NULL) {
                    rs = ret__fail(err, RET_E_NOMEM, "out of memory");
                    goto out;
                }
                w->c = nc;
                w->cap = cap;
            }
            c = &w->c[w->n];
            memset(c, 0, sizeof(*c));
            c->ts.type = c->completed.type = SQLITE_NULL;
            c->retain.type = c->ip.type = SQLITE_NULL;
            a = judge(w, st, c);
            if (a == RET_KEEP)
                continue;
            if (dry) {
                if (a == RET_DELETE)
                    w->res.deleted++;
                else if (a == RET_RESTRICT)
                    w->res.restricted++;
                else
                    w->res.anonymized++;
                if (a == RET_RESTRICT && c->mask)
                    w->res.anonymized++;
                continue;
            }
            c->rowid = lr;
            c->action = a;
            if (val_take(&c->ts, st, 1) != 0 ||
                val_take(&c->completed, st, 3) != 0 ||
                val_take(&c->retain, st, 4) != 0 ||
                val_take(&c->ip, st, 6) != 0) {
                w->n++;
                rs = ret__fail(err, RET_E_NOMEM, "out of memory");
                goto out;
            }
            w->n++;
        }
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            rs = ret__db_fail(err, w->db, w->spec->path, "read");
            goto out;
        }
        if (w->n > 0) {
            rs = apply(w, err);
            chunk_clear(w);
            if (rs != RET_OK)
                goto out;
        }
        if (rows < CHUNK_ROWS)
            break;
        if (keyset)
            st = next;
    }
out:
    chunk_clear(w);
    val_clear(&lt);
    sqlite3_finalize(first);
    sqlite3_finalize(next);
    sqlite3_free(sql1);
    sqlite3_free(sql2);
    return rs;
}

/* The latest cutoff of any time-based rule that can change a row of
 * this table (anonymization only with a client address column), or
 * RET_E_NOTFOUND. */
static ret_status
latest_cutoff(const struct work *w, int64_t now, int64_t *hi)
{
    static const ret_action actions[] = {RET_ANONYMIZE, RET_DELETE};
    bool found = false;
    size_t i;

    for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
        int64_t cut;

        if (actions[i] == RET_ANONYMIZE && w->q[RET_COL_CLIENT_IP] == NULL)
            continue;
        if (ret_category_cutoff(w->spec->cat, actions[i], now, &cut, NULL) !=
            RET_OK)
            continue;
        if (!found || cut > *hi)
            *hi = cut;
        found = true;
    }
    return found ? RET_OK : RET_E_NOTFOUND;
}

/* Text bound covering every ISO 8601 time before cutoff, whatever its
 * written UTC offset: the date after cutoff + 14 h. */
static void
text_bound(int64_t cutoff, char buf[32])
{
    int64_t y, t = cutoff + 14 * 3600 + 86400;
    unsigned m, d;
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);

    ret__civil_from_days(days, &y, &m, &d);
    if (y < 0)
        y = 0;
    if (y > 9999) {
        snprintf(buf, 32, "A");  /* above any digit */
        return;
    }
    snprintf(buf, 32, "%04d-%02u-%02u", (int)y, m, d);
}

static ret_status
oldest(struct work *w, ret_error *err)
{
    static const char *const cond[] = {"IS NOT NULL", ">= ''"};
    const char *t = col_or_null(w, RET_COL_TIME);
    bool have = false;
    int64_t best = 0;
    size_t i;

    if (w->q[RET_COL_TIME] == NULL)
        return RET_OK;
    for (i = 0; i < 2; i++) {
        sqlite3_stmt *st = NULL;
        char *sql = sqlite3_mprintf("SELECT %s FROM %s AS rt WHERE %s %s%s "
                                    "ORDER BY %s LIMIT 1",
                                    t, w->qtable, t, cond[i], w->filter, t);
        ret_status rs = prepare(w, sql, &st, err);
        int rc;

        sqlite3_free(sql);
        if (rs != RET_OK)
            return rs;
        bind_common(w, st);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            int64_t v;

            if (ret__sql_time(sqlite3_column_value(st, 0), &v) == 0 &&
                (!have || v < best)) {
                best = v;
                have = true;
            }
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return ret__db_fail(err, w->db, w->spec->path, "read");
    }
    w->res.oldest = have ? best : 0;
    return RET_OK;
}

ret_status
ret__table_run(sqlite3 *db, const struct ret__tabspec *sp, int mode,
               int64_t now, const char *subject, unsigned flags,
               ret_table_result *res, ret_error *err)
{
    struct work w;
    ret_status st;
    int64_t hi = 0;
    char hitext[32];
    bool dry = mode == RET__TAB_AUDIT || (flags & RET_PRUNE_DRY_RUN);

    if ((st = work_init(&w, db, sp, mode, now, subject, flags, err)) !=
        RET_OK)
        goto out;
    if (!dry && (st = prepare_apply(&w, err)) != RET_OK)
        goto out;
    if (!dry) {
        sqlite3_wal_hook(db, wal_hook, &w);
        sqlite3_busy_handler(db, busy_handler, &w);
    }
    if (mode == RET__TAB_ERASE) {
        if (subject == NULL || *subject == '\0') {
            st = ret__fail(err, RET_E_INVAL, "no subject given");
            goto out;
        }
        if ((st = run_pass(&w, PASS_SUBJECT, 0, NULL, err)) != RET_OK)
            goto out;
    } else {
        if (sp->cat == NULL) {
            st = ret__fail(err, RET_E_INVAL, "no category given");
            goto out;
        }
        if (fast_path(&w) &&
            ret_category_cutoff(sp->cat, RET_DELETE, now, &hi, NULL) ==
                RET_OK &&
            (st = run_fast(&w, hi, err)) != RET_OK)
            goto out;
        w.batch = FIRST_BATCH; /* a row costs more one by one than in */
        w.cost = 0;            /* a range */
        if (latest_cutoff(&w, now, &hi) == RET_OK) {
            text_bound(hi, hitext);
            if ((st = run_pass(&w, PASS_NUMERIC, hi, NULL, err)) != RET_OK ||
                (st = run_pass(&w, PASS_TEXT, 0, hitext, err)) != RET_OK)
                goto out;
        }
        if (w.q[RET_COL_COMPLETED] &&
            (st = run_pass(&w, PASS_COMPLETED, 0, NULL, err)) != RET_OK)
            goto out;
        if ((st = oldest(&w, err)) != RET_OK)
            goto out;
    }
    ret__table_result_add(res, &w.res);
    if (mode != RET__TAB_ERASE)
        res->oldest = w.res.oldest;
out:
    if (sp->interrupts)
        *sp->interrupts += w.interrupts;
    if (!dry) {
        sqlite3_progress_handler(db, 0, NULL, NULL);
        sqlite3_wal_autocheckpoint(db, 1000); /* SQLite's own hook again */
        sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    }
    work_free(&w);
    return st;
}

void
ret__table_result_add(ret_table_result *sum, const ret_table_result *r)
{
    sum->examined += r->examined;
    sum->deleted += r->deleted;
    sum->restricted += r->restricted;
    sum->anonymized += r->anonymized;
    sum->held += r->held;
    sum->retained += r->retained;
    sum->unparsed += r->unparsed;
    sum->flags |= r->flags;
    if (r->oldest != 0 && (sum->oldest == 0 || r->oldest < sum->oldest))
        sum->oldest = r->oldest;
    if (r->max_lock_ms > sum->max_lock_ms)
        sum->max_lock_ms = r->max_lock_ms;
    if (r->checkpoint_ms > sum->checkpoint_ms)
        sum->checkpoint_ms = r->checkpoint_ms;
}

static int
pragma_int(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

static bool
is_wal(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    bool wal = false;

    if (sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        const char *m = (const char *)sqlite3_column_text(st, 0);

        wal = m && sqlite3_stricmp(m, "wal") == 0;
    }
    sqlite3_finalize(st);
    return wal;
}

ret_status
ret__db_scrub(sqlite3 *db, const char *path, ret_table_result *res,
              ret_error *err)
{
    int64_t av = 0, freel = 0;
    int nlog = 0, nckpt = 0, rc;
    double t0;

    /* Give freed pages back in short steps. */
    if (pragma_int(db, "PRAGMA auto_vacuum", &av) != 0)
        return ret__db_fail(err, db, path, "auto_vacuum");
    if (av == 2) {
        for (;;) {
            if (pragma_int(db, "PRAGMA freelist_count", &freel) != 0)
                return ret__db_fail(err, db, path, "freelist_count");
            if (freel == 0)
                break;
            t0 = now_ms();
            if (sqlite3_exec(db, "PRAGMA incremental_vacuum(512)", NULL, NULL,
                             NULL) != SQLITE_OK)
                return ret__db_fail(err, db, path, "incremental_vacuum");
            t0 = now_ms() - t0;
            if (t0 > res->max_lock_ms)
                res->max_lock_ms = t0;
            sleep_ms(GAP_MS);
        }
    } else {
        res->flags |= RET_TABLE_NO_VACUUM;
    }
    if (!is_wal(db))
        return RET_OK;
    /* Copy the WAL into the database without blocking anyone, then
     * truncate it; the truncation waits for readers only briefly, as it
     * keeps new writers waiting meanwhile. */
    sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL,
                              NULL);
    sqlite3_busy_timeout(db, 40);
    t0 = now_ms();
    rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
                                   &nlog, &nckpt);
    t0 = now_ms() - t0;
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    if (t0 > res->checkpoint_ms)
        res->checkpoint_ms = t0;
    if (rc == SQLITE_BUSY || (rc == SQLITE_OK && nlog != 0))
        res->flags |= RET_TABLE_WAL_KEPT;
    else if (rc != SQLITE_OK)
        return ret__db_fail(err, db, path, "wal_checkpoint");
    return RET_OK;
}

/* ---- public entry points ---- */

static ret_status
spec_from_source(const ret_category *c, const ret_source *s,
                 struct ret__tabspec *sp, ret_error *err)
{
    int i;

    if (c == NULL || s == NULL)
        return ret__fail(err, RET_E_INVAL, "no category or source given");
    if (ret_source_type(s) != RET_SOURCE_SQLITE)
        return ret__fail(err, RET_E_INVAL, "%s: not an SQLite source",
                         ret_category_name(c));
    memset(sp, 0, sizeof(*sp));
    sp->cat = c;
    sp->path = ret_source_path(s);
    sp->table = ret_source_table(s);
    for (i = 0; i < RET_COL__COUNT; i++)
        sp->col[i] = ret_source_column(s, (ret_column)i);
    if (sp->path == NULL)
        return ret__fail(err, RET_E_INVAL, "%s: no database given",
                         ret_category_name(c));
    return RET_OK;
}

static ret_status
table_op(const ret_category *c, const ret_source *s, int mode, int64_t now,
         const char *subject, unsigned flags, ret_table_result *res,
         ret_error *err)
{
    struct ret__tabspec sp;
    ret_table_result r;
    sqlite3 *db = NULL;
    ret_status st;
    bool dry = mode == RET__TAB_AUDIT || (flags & RET_PRUNE_DRY_RUN);

    memset(&r, 0, sizeof(r));
    if (res == NULL)
        return ret__fail(err, RET_E_INVAL, "no result given");
    if ((st = spec_from_source(c, s, &sp, err)) != RET_OK)
        return st;
    if ((st = ret__db_open(sp.path, dry, 0, &db, err)) != RET_OK)
        goto out;
    /* In WAL mode a commit need not wait for fsync (the database stays
     * consistent; a batch lost to a power cut is deleted by the next
     * run); the final checkpoint syncs. Rollback journals keep FULL. */
    if (!dry && is_wal(db))
        sqlite3_exec(db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
    if ((st = ret__table_run(db, &sp, mode, now, subject, flags, &r, err)) !=
        RET_OK)
        goto out;
    if (!dry && (r.deleted || r.restricted || r.anonymized) &&
        (st = ret__db_scrub(db, sp.path, &r, err)) != RET_OK)
        goto out;
    *res = r;
out:
    if (db != NULL && sqlite3_close(db) != SQLITE_OK && st == RET_OK)
        st = ret__fail(err, RET_E_DB, "%s: close failed", sp.path);
    return st;
}

ret_status
ret_table_prune(const ret_category *c, const ret_source *s, int64_t now,
                unsigned flags, ret_table_result *res, ret_error *err)
{
    return table_op(c, s, RET__TAB_PRUNE, now, NULL, flags, res, err);
}

ret_status
ret_table_audit(const ret_category *c, const ret_source *s, int64_t now,
                ret_table_result *res, ret_error *err)
{
    return table_op(c, s, RET__TAB_AUDIT, now, NULL, 0, res, err);
}

ret_status
ret_table_erase(const ret_category *c, const ret_source *s,
                const char *subject, int64_t now, unsigned flags,
                ret_table_result *res, ret_error *err)
{
    return table_op(c, s, RET__TAB_ERASE, now, subject, flags, res, err);
}
