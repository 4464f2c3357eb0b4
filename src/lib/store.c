/*
 * store.c - the record store of portal applications (ret_store).
 *
 * Events of the policy's categories live in one SQLite table, legal
 * holds in another; holds are released, never deleted, so that they stay
 * on record. The store is pruned and erased by the table machinery of
 * table.c, with a hold expression that joins the hold table: a damaged
 * or unreadable hold table stops any deletion (fail closed).
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

struct ret_store {
    sqlite3 *db;
    const ret_policy *policy;
    char *path;
};

#define STORE_SCHEMA_VERSION 1

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS ret_events ("
    " id INTEGER PRIMARY KEY,"
    " category TEXT NOT NULL,"
    " time INTEGER NOT NULL,"
    " client_ip TEXT,"
    " subject TEXT,"
    " payload TEXT,"
    " completed_at INTEGER,"
    " retain_until INTEGER,"
    " restricted INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS ret_events_time"
    " ON ret_events (category, time);"
    "CREATE INDEX IF NOT EXISTS ret_events_subject"
    " ON ret_events (subject, category, time);"
    "CREATE TABLE IF NOT EXISTS ret_holds ("
    " id INTEGER PRIMARY KEY,"
    " subject TEXT,"
    " event_id INTEGER,"
    " reason TEXT NOT NULL,"
    " placed_at INTEGER NOT NULL,"
    " released_at INTEGER,"
    " CHECK (subject IS NOT NULL OR event_id IS NOT NULL));"
    "CREATE INDEX IF NOT EXISTS ret_holds_subject ON ret_holds (subject)"
    " WHERE released_at IS NULL;"
    "CREATE INDEX IF NOT EXISTS ret_holds_event ON ret_holds (event_id)"
    " WHERE released_at IS NULL;";

/* An event is held while a hold on it, or on its subject, is in force. */
static const char held_expr[] =
    "EXISTS (SELECT 1 FROM ret_holds AS h WHERE h.released_at IS NULL AND"
    " (h.event_id = rt.id OR (rt.subject IS NOT NULL AND"
    " h.subject = rt.subject)))";

static ret_status
exec(ret_store *s, const char *sql, const char *what, ret_error *err)
{
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return ret__db_fail(err, s->db, s->path, what);
    return RET_OK;
}

static ret_status
store_open(const char *path, const ret_policy *policy, ret_store **out,
           ret_error *err)
{
    ret_store *s = NULL;
    sqlite3_stmt *st = NULL;
    ret_status rs;
    int version = 0;

    if (path == NULL || policy == NULL || out == NULL)
        return ret__fail(err, RET_E_INVAL, "store: no path or policy given");
    if ((s = calloc(1, sizeof(*s))) == NULL ||
        (s->path = strdup(path)) == NULL) {
        rs = ret__fail(err, RET_E_NOMEM, "out of memory");
        goto out;
    }
    s->policy = policy;
    if ((rs = ret__db_open(path, 0, 1, &s->db, err)) != RET_OK)
        goto out;
    /* auto_vacuum only takes on a new database: before any table. */
    if ((rs = exec(s, "PRAGMA auto_vacuum=INCREMENTAL", "open", err)) !=
            RET_OK ||
        (rs = exec(s, "PRAGMA journal_mode=WAL", "open", err)) != RET_OK ||
        (rs = exec(s, "PRAGMA synchronous=NORMAL", "open", err)) != RET_OK ||
        (rs = exec(s, "BEGIN IMMEDIATE", "open", err)) != RET_OK)
        goto out;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) !=
            SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        rs = ret__db_fail(err, s->db, path, "open");
        goto rollback;
    }
    version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (version > STORE_SCHEMA_VERSION) {
        rs = ret__fail(err, RET_E_DB, "%s: store schema version %d is newer "
                       "than this library's (%d)", path, version,
                       STORE_SCHEMA_VERSION);
        goto rollback;
    }
    if (version == STORE_SCHEMA_VERSION) {
        /* An existing store: a missing table is damage, never recreated
         * (an empty hold table would release every hold). */
        if (sqlite3_prepare_v2(s->db,
                               "SELECT count(*) FROM sqlite_schema WHERE "
                               "type = 'table' AND name IN ('ret_events', "
                               "'ret_holds')",
                               -1, &st, NULL) != SQLITE_OK ||
            sqlite3_step(st) != SQLITE_ROW) {
            rs = ret__db_fail(err, s->db, path, "open");
            goto rollback;
        }
        if (sqlite3_column_int(st, 0) != 2) {
            rs = ret__fail(err, RET_E_CORRUPT, "%s: the store's event or "
                           "hold table is missing", path);
            goto rollback;
        }
        sqlite3_finalize(st);
        st = NULL;
    }
    if ((rs = exec(s, schema, "create tables", err)) != RET_OK)
        goto rollback;
    if (version == 0 &&
        (rs = exec(s, "PRAGMA user_version=1", "open", err)) != RET_OK)
        goto rollback;
    if ((rs = exec(s, "COMMIT", "open", err)) != RET_OK)
        goto rollback;
    *out = s;
    s = NULL;
    goto out;
rollback:
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
out:
    sqlite3_finalize(st);
    ret_store_close(s);
    return rs;
}

/* Several processes may open a new store at once: converting it to WAL
 * and creating the tables can then meet SQLITE_BUSY without the busy
 * handler being asked; such an open is retried for about five seconds. */
ret_status
ret_store_open(const char *path, const ret_policy *policy, ret_store **out,
               ret_error *err)
{
    ret_status st;
    int i;

    for (i = 0;; i++) {
        st = store_open(path, policy, out, err);
        if (st != RET_E_BUSY || i == 100)
            return st;
        sqlite3_sleep(50);
    }
}

void
ret_store_close(ret_store *s)
{
    if (s == NULL)
        return;
    sqlite3_close(s->db);
    free(s->path);
    free(s);
}

/* ---- payload as a JSON object ---- */

struct buf {
    char *p;
    size_t n, cap;
    int failed;
};

static void
buf_add(struct buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        char *np;

        while (cap < b->n + n + 1)
            cap *= 2;
        if ((np = realloc(b->p, cap)) == NULL) {
            b->failed = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void
buf_json(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;

    buf_add(b, "\"", 1);
    for (; *u; u++) {
        char esc[7] = {'\\', 'u', '0', '0', 0, 0, 0};

        if (*u == '"' || *u == '\\' || *u == '\n' || *u == '\t' ||
            *u == '\r') {
            esc[1] = *u == '\n' ? 'n' : *u == '\t' ? 't' : *u == '\r' ? 'r'
                                                                  : (char)*u;
            buf_add(b, esc, 2);
        } else if (*u < 0x20 || *u == 0x7f) {
            esc[4] = hex[*u >> 4];
            esc[5] = hex[*u & 15];
            buf_add(b, esc, 6);
        } else {
            buf_add(b, (const char *)u, 1);
        }
    }
    buf_add(b, "\"", 1);
}

static ret_status
payload_json(const ret_store_field *f, size_t n, char **out, ret_error *err)
{
    struct buf b = {NULL, 0, 0, 0};
    size_t i;

    *out = NULL;
    if (n == 0)
        return RET_OK;
    buf_add(&b, "{", 1);
    for (i = 0; i < n; i++) {
        if (f[i].key == NULL) {
            free(b.p);
            return ret__fail(err, RET_E_INVAL, "payload field %zu has no key",
                             i);
        }
        if (i > 0)
            buf_add(&b, ",", 1);
        buf_json(&b, f[i].key);
        buf_add(&b, ":", 1);
        if (f[i].value)
            buf_json(&b, f[i].value);
        else
            buf_add(&b, "null", 4);
    }
    buf_add(&b, "}", 1);
    if (b.failed) {
        free(b.p);
        return ret__fail(err, RET_E_NOMEM, "out of memory");
    }
    *out = b.p;
    return RET_OK;
}

/* ---- events ---- */

static const ret_category *
find_category(ret_store *s, const char *name, ret_error *err)
{
    const ret_category *c;

    if (name == NULL) {
        ret__fail(err, RET_E_INVAL, "store: no category given");
        return NULL;
    }
    if ((c = ret_policy_find(s->policy, name)) == NULL)
        ret__fail(err, RET_E_NOTFOUND, "store: no category '%s' in the "
                  "policy", name);
    return c;
}

/* The address as it may be stored: anonymized when the category says so
 * at the event's own time, else in its canonical form. */
static ret_status
client_text(const ret_category *c, int64_t time, const char *ip,
            char out[48], ret_error *err)
{
    ret_facts f;
    ret_decision d;
    ret_status st;

    memset(&f, 0, sizeof(f));
    f.time = time;
    if ((st = ret_decide(c, &f, time, &d)) != RET_OK)
        return ret__fail(err, st, "store: %s: no decision",
                         ret_category_name(c));
    if (d.action == RET_ANONYMIZE && (d.fields & (1u << RET_F_CLIENT)))
        return ret__mask_ip_text(ip, strlen(ip), d.method, d.ipv4_prefix,
                                 d.ipv6_prefix, out, 48, err);
    return ret__mask_ip_text(ip, strlen(ip), RET_ANON_TRUNCATE, 32, 128, out,
                             48, err);
}

ret_status
ret_store_record(ret_store *s, const char *category, int64_t time,
                 const char *client_ip, const char *subject,
                 const ret_store_field *fields, size_t nfields, int64_t *id,
                 ret_error *err)
{
    const ret_category *c;
    sqlite3_stmt *st = NULL;
    char ip[48];
    char *payload = NULL;
    ret_status rs;

    if (s == NULL)
        return ret__fail(err, RET_E_INVAL, "store: no store given");
    if ((c = find_category(s, category, err)) == NULL)
        return err ? err->status : RET_E_NOTFOUND;
    if (client_ip != NULL &&
        (rs = client_text(c, time, client_ip, ip, err)) != RET_OK)
        return rs;
    if ((rs = payload_json(fields, nfields, &payload, err)) != RET_OK)
        return rs;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO ret_events (category, time, "
                           "client_ip, subject, payload) VALUES (?1, ?2, ?3, "
                           "?4, ?5)",
                           -1, &st, NULL) != SQLITE_OK) {
        rs = ret__db_fail(err, s->db, s->path, "record");
        goto out;
    }
    sqlite3_bind_text(st, 1, category, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, time);
    if (client_ip != NULL)
        sqlite3_bind_text(st, 3, ip, -1, SQLITE_STATIC);
    if (subject != NULL)
        sqlite3_bind_text(st, 4, subject, -1, SQLITE_STATIC);
    if (payload != NULL)
        sqlite3_bind_text(st, 5, payload, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rs = ret__db_fail(err, s->db, s->path, "record");
        goto out;
    }
    if (id != NULL)
        *id = sqlite3_last_insert_rowid(s->db);
out:
    sqlite3_finalize(st);
    free(payload);
    return rs;
}

/* Runs one UPDATE/INSERT with two integer parameters and a text one;
 * RET_E_NOTFOUND when it changed nothing. */
static ret_status
change(ret_store *s, const char *sql, int64_t a, int64_t b, const char *what,
       const char *missing, ret_error *err)
{
    sqlite3_stmt *st = NULL;
    ret_status rs = RET_OK;

    if (s == NULL)
        return ret__fail(err, RET_E_INVAL, "store: no store given");
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        rs = ret__db_fail(err, s->db, s->path, what);
        goto out;
    }
    sqlite3_bind_int64(st, 1, a);
    sqlite3_bind_int64(st, 2, b);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rs = ret__db_fail(err, s->db, s->path, what);
        goto out;
    }
    if (sqlite3_changes(s->db) == 0)
        rs = ret__fail(err, RET_E_NOTFOUND, "%s: %s %lld", s->path, missing,
                       (long long)a);
out:
    sqlite3_finalize(st);
    return rs;
}

ret_status
ret_store_complete(ret_store *s, int64_t id, int64_t time, ret_error *err)
{
    return change(s, "UPDATE ret_events SET completed_at = ?2 WHERE id = ?1",
                  id, time, "complete", "no event", err);
}

ret_status
ret_store_retain(ret_store *s, int64_t id, int64_t until, ret_error *err)
{
    return change(s, "UPDATE ret_events SET retain_until = ?2 WHERE id = ?1",
                  id, until, "retain", "no event", err);
}

ret_status
ret_store_release(ret_store *s, int64_t hold, int64_t time, ret_error *err)
{
    return change(s,
                  "UPDATE ret_holds SET released_at = ?2 WHERE id = ?1 AND "
                  "released_at IS NULL",
                  hold, time, "release", "no hold in force with id", err);
}

ret_status
ret_store_hold(ret_store *s, const char *subject, int64_t id,
               const char *reason, int64_t time, int64_t *hold,
               ret_error *err)
{
    sqlite3_stmt *st = NULL;
    ret_status rs = RET_OK;

    if (s == NULL)
        return ret__fail(err, RET_E_INVAL, "store: no store given");
    if (reason == NULL || *reason == '\0')
        return ret__fail(err, RET_E_INVAL, "store: a hold needs a reason");
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO ret_holds (subject, event_id, reason, "
                           "placed_at) SELECT ?1, ?2, ?3, ?4 WHERE ?1 IS NOT "
                           "NULL OR EXISTS (SELECT 1 FROM ret_events WHERE "
                           "id = ?2)",
                           -1, &st, NULL) != SQLITE_OK) {
        rs = ret__db_fail(err, s->db, s->path, "hold");
        goto out;
    }
    if (subject != NULL)
        sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 2, id);
    sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, time);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rs = ret__db_fail(err, s->db, s->path, "hold");
        goto out;
    }
    if (sqlite3_changes(s->db) == 0) {
        rs = ret__fail(err, RET_E_NOTFOUND, "%s: no event %lld", s->path,
                       (long long)id);
        goto out;
    }
    if (hold != NULL)
        *hold = sqlite3_last_insert_rowid(s->db);
out:
    sqlite3_finalize(st);
    return rs;
}

ret_status
ret_store_count_since(ret_store *s, const char *category, const char *subject,
                      int64_t since, uint64_t *n, ret_error *err)
{
    sqlite3_stmt *st = NULL;
    ret_status rs = RET_OK;

    if (s == NULL || category == NULL || subject == NULL || n == NULL)
        return ret__fail(err, RET_E_INVAL, "store: count: missing argument");
    if (sqlite3_prepare_v2(s->db,
                           "SELECT count(*) FROM ret_events WHERE subject = "
                           "?1 AND category = ?2 AND time >= ?3",
                           -1, &st, NULL) != SQLITE_OK) {
        rs = ret__db_fail(err, s->db, s->path, "count");
        goto out;
    }
    sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, category, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, since);
    if (sqlite3_step(st) != SQLITE_ROW) {
        rs = ret__db_fail(err, s->db, s->path, "count");
        goto out;
    }
    *n = (uint64_t)sqlite3_column_int64(st, 0);
out:
    sqlite3_finalize(st);
    return rs;
}

/* ---- prune and erase ---- */

/* Deletion depends on the hold table: prove it whole and readable. */
static ret_status
check_holds(ret_store *s, ret_error *err)
{
    sqlite3_stmt *st = NULL;
    ret_status rs = RET_OK;
    const char *r;

    if (sqlite3_prepare_v2(s->db, "PRAGMA quick_check('ret_holds')", -1, &st,
                           NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW ||
        (r = (const char *)sqlite3_column_text(st, 0)) == NULL ||
        strcmp(r, "ok") != 0)
        goto bad;
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT count(*), count(reason), count(placed_at),"
                           " max(released_at), max(event_id), max(subject) "
                           "FROM ret_holds",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        goto bad;
    goto out;
bad:
    rs = ret__fail(err, RET_E_CORRUPT, "%s: the hold table is damaged or "
                   "unreadable (%s): nothing deleted", s->path,
                   sqlite3_errmsg(s->db));
out:
    sqlite3_finalize(st);
    return rs;
}

static void
store_spec(ret_store *s, const ret_category *c, struct ret__tabspec *sp)
{
    memset(sp, 0, sizeof(*sp));
    sp->cat = c;
    sp->path = s->path;
    sp->table = "ret_events";
    sp->col[RET_COL_TIME] = "time";
    sp->col[RET_COL_SUBJECT] = "subject";
    sp->col[RET_COL_COMPLETED] = "completed_at";
    sp->col[RET_COL_RETAIN_UNTIL] = "retain_until";
    sp->col[RET_COL_RESTRICTED] = "restricted";
    sp->col[RET_COL_CLIENT_IP] = "client_ip";
    sp->held_expr = held_expr;
    if (c != NULL) {
        sp->filter = "rt.category = :filter";
        sp->filter_arg = ret_category_name(c);
    }
}

ret_status
ret_store_prune(ret_store *s, int64_t now, unsigned flags,
                ret_table_result *res, ret_error *err)
{
    ret_table_result r;
    size_t i, n;
    ret_status st;

    if (s == NULL || res == NULL)
        return ret__fail(err, RET_E_INVAL, "store: prune: missing argument");
    memset(&r, 0, sizeof(r));
    if ((st = check_holds(s, err)) != RET_OK)
        return st;
    n = ret_policy_category_count(s->policy);
    for (i = 0; i < n; i++) {
        const ret_category *c = ret_policy_category(s->policy, i);
        struct ret__tabspec sp;

        store_spec(s, c, &sp);
        st = ret__table_run(s->db, &sp,
                            (flags & RET_PRUNE_DRY_RUN) ? RET__TAB_AUDIT
                                                        : RET__TAB_PRUNE,
                            now, NULL, flags, &r, err);
        if (st != RET_OK)
            return st;
    }
    if (!(flags & RET_PRUNE_DRY_RUN) &&
        (r.deleted || r.restricted || r.anonymized) &&
        (st = ret__db_scrub(s->db, s->path, &r, err)) != RET_OK)
        return st;
    *res = r;
    return RET_OK;
}

ret_status
ret_store_erase(ret_store *s, const char *subject, const char *category,
                int64_t now, unsigned flags, ret_table_result *res,
                ret_error *err)
{
    const ret_category *c = NULL;
    struct ret__tabspec sp;
    ret_table_result r;
    ret_status st;

    if (s == NULL || subject == NULL || res == NULL)
        return ret__fail(err, RET_E_INVAL, "store: erase: missing argument");
    if (category != NULL && (c = find_category(s, category, err)) == NULL)
        return err ? err->status : RET_E_NOTFOUND;
    memset(&r, 0, sizeof(r));
    if ((st = check_holds(s, err)) != RET_OK)
        return st;
    store_spec(s, c, &sp);
    if ((st = ret__table_run(s->db, &sp, RET__TAB_ERASE, now, subject, flags,
                             &r, err)) != RET_OK)
        return st;
    if (!(flags & RET_PRUNE_DRY_RUN) && (r.deleted || r.restricted) &&
        (st = ret__db_scrub(s->db, s->path, &r, err)) != RET_OK)
        return st;
    *res = r;
    return RET_OK;
}
