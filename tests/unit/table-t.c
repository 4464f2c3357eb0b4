/*
 * table-t.c - retention in SQLite tables: ret_table_prune, ret_table_audit,
 * ret_table_erase; boundaries, holds, completion, restriction, erasure,
 * secure deletion, the write deadline, a concurrent writer, kill -9 during
 * a prune.
 *
 * RET_TEST_ROWS (default 100000) scales the concurrency and crash tests.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "../tap.h"
#include "db-util.h"

#define DAY 86400
#define NOW 1796119200 /* 2026-12-01T10:00:00Z */

static char dir[256];

static void
path_of(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", dir, name);
}

static void
sql(const char *db, const char *text)
{
    sqlite3 *h = NULL;
    char *msg = NULL;

    if (sqlite3_open(db, &h) != SQLITE_OK ||
        sqlite3_exec(h, text, NULL, NULL, &msg) != SQLITE_OK) {
        printf("# sql failed: %s: %s\n", text, msg ? msg : sqlite3_errmsg(h));
        exit(2);
    }
    sqlite3_free(msg);
    sqlite3_close(h);
}

static char *
str(const char *db, const char *text)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    char *v = NULL;

    sqlite3_open(db, &h);
    if (sqlite3_prepare_v2(h, text, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        v = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

/*
 * The longest write lock is reported, not asserted: how long a
 * transaction lasts in wall time depends on the machine's load (a COMMIT
 * waits for a processor, or for the disk when another program fills the
 * page cache), and timed assertions do not belong in make check. make
 * bench measures it at full size; test_deadline proves that a batch past
 * its deadline is interrupted and redone.
 */
static void
report_lock(double ms, const char *what)
{
    diag("%s: longest write lock %.1f ms (make bench holds it to 100 ms)",
         what, ms);
}

/* A policy of one category "t" over one table source. */
static ret_policy *
policy(const char *schedule, const char *table_line, const char *rules)
{
    char text[2048];
    ret_policy *p = NULL;
    ret_error err;

    snprintf(text, sizeof(text),
             "policy {\n name \"test\"\n controller \"Test GmbH\"\n"
             " version 1\n effective 2026-01-01\n schedule %s\n}\n"
             "category t {\n table %s\n%s\n}\n",
             schedule, table_line, rules);
    if (ret_policy_parse(text, strlen(text), "test.conf", &p, &err) !=
        RET_OK) {
        printf("# policy: %s\n%s", err.message, text);
        exit(2);
    }
    return p;
}

static const ret_category *
cat(const ret_policy *p)
{
    return ret_policy_find(p, "t");
}

static const ret_source *
src(const ret_policy *p)
{
    return ret_category_source(cat(p), 0);
}

static ret_status
prune(const ret_policy *p, int64_t now, unsigned flags, ret_table_result *r,
      ret_error *err)
{
    memset(r, 0, sizeof(*r));
    return ret_table_prune(cat(p), src(p), now, flags, r, err);
}

/* Does the file contain the bytes? */
/* ---- boundaries, integer and text times ---- */

static void
test_boundaries(void)
{
    char db[300], line[1024], q[200];
    ret_policy *p;
    ret_table_result r;
    ret_error err;
    int64_t lim = NOW - 90 * DAY;

    path_of(db, sizeof(db), "bound.db");
    snprintf(q, sizeof(q),
             "CREATE TABLE sms_log (id INTEGER PRIMARY KEY, sent_at, "
             "customer_no TEXT, body TEXT); CREATE INDEX sms_t ON sms_log "
             "(sent_at);");
    sql(db, q);
    {
        char ins[1024];

        /* integer times around the limit */
        snprintf(ins, sizeof(ins),
                 "INSERT INTO sms_log (sent_at, body) VALUES "
                 "(%lld, 'i-1'), (%lld, 'i0'), (%lld, 'i+1'), (%lld, 'old'),"
                 "(%lld, 'new');",
                 (long long)lim - 1, (long long)lim, (long long)lim + 1,
                 (long long)lim - 400 * DAY, (long long)NOW - 10);
        sql(db, ins);
    }
    /* text times: SQLite datetime, ISO with Z, with an offset, epoch */
    sql(db, "INSERT INTO sms_log (sent_at, body) VALUES "
            "('2026-09-02 09:59:59', 't-1'),"
            "('2026-09-02 10:00:00', 't0'),"
            "('2026-09-02 10:00:01', 't+1'),"
            "('2026-09-02T09:59:59Z', 'z-1'),"
            "('2026-09-02T10:00:01Z', 'z+1'),"
            "('2026-09-02T11:59:59+02:00', 'o-1'),"
            "('2026-09-02T12:00:01+02:00', 'o+1'),"
            "('2026-09-02T00:00:01-10:00', 'w+1'),"
            "('2026-09-02T00:00:00.5-09:59', 'w-1'),"
            "('1st of May', 'junk'),"
            "(NULL, 'null');");
    snprintf(line, sizeof(line), "sqlite:%s sms_log time=sent_at", db);
    p = policy("none", line, "delete after 90d");

    /* audit and dry run count, change nothing */
    memset(&r, 0, sizeof(r));
    is_int(ret_table_audit(cat(p), src(p), NOW, &r, &err), RET_OK,
           "audit runs");
    is_int(r.deleted, 8, "audit: 8 rows past the limit");
    is_int(r.unparsed, 1, "audit: 1 row without a readable time");
    is_int(db_num(db, "SELECT count(*) FROM sms_log"), 16, "audit wrote nothing");
    is_int(prune(p, NOW, RET_PRUNE_DRY_RUN, &r, &err), RET_OK, "dry run");
    is_int(r.deleted, 8, "dry run: 8 due");
    is_int(db_num(db, "SELECT count(*) FROM sms_log"), 16, "dry run wrote nothing");

    is_int(prune(p, NOW, 0, &r, &err), RET_OK, "prune runs");
    is_int(r.deleted, 8, "8 rows deleted");
    ok(!(r.flags & RET_TABLE_NO_INDEX), "indexed time column: no warning");
    ok(r.max_lock_ms > 0, "write lock measured");
    report_lock(r.max_lock_ms, "eight rows");
    {
        char *left = str(db, "SELECT group_concat(body, ' ') FROM (SELECT "
                             "body FROM sms_log ORDER BY body)");

        is_str(left, "i+1 junk new null o+1 t+1 w+1 z+1",
               "exactly the rows within the limit remain, +1 s kept, "
               "0 and -1 s deleted");
        free(left);
    }
    is_int(r.oldest, lim + 1, "oldest remaining row");
    /* a second run finds nothing */
    is_int(prune(p, NOW, 0, &r, &err), RET_OK, "second prune");
    is_int(r.deleted, 0, "nothing more to delete");
    /* one second later the +1 rows are due */
    is_int(prune(p, NOW + 1, 0, &r, &err), RET_OK, "prune 1 s later");
    is_int(r.deleted, 5, "the +1 s rows go one second later");
    ret_policy_free(p);

    /* the schedule moves the cutoff earlier by one period */
    sql(db, "DELETE FROM sms_log");
    {
        char ins[512];

        snprintf(ins, sizeof(ins),
                 "INSERT INTO sms_log (sent_at, body) VALUES (%lld, 'a'), "
                 "(%lld, 'b');",
                 (long long)lim + DAY, (long long)lim + DAY + 1);
        sql(db, ins);
    }
    p = policy("daily", line, "delete after 90d");
    is_int(prune(p, NOW, 0, &r, &err), RET_OK, "prune, daily schedule");
    is_int(r.deleted, 1, "daily: what would be over the limit by the next "
                         "run is deleted now");
    ret_policy_free(p);
}

/* ---- holds, completion, restriction, anonymization ---- */

static void
test_holds(void)
{
    char db[300], line[1024], ins[512];
    ret_policy *p;
    ret_table_result r;
    ret_error err;
    int64_t old = NOW - 100 * DAY;

    path_of(db, sizeof(db), "hold.db");
    sql(db, "CREATE TABLE sms_log (id INTEGER PRIMARY KEY, sent_at INTEGER, "
            "customer_no INTEGER, legal_hold INTEGER); CREATE INDEX s_t ON "
            "sms_log (sent_at);");
    snprintf(ins, sizeof(ins),
             "INSERT INTO sms_log (sent_at, customer_no, legal_hold) VALUES "
             "(%lld, 1, 0), (%lld, 2, 1), (%lld, 3, NULL), (%lld, 4, 'x'),"
             "(%lld, 5, 1);",
             (long long)old, (long long)old, (long long)old, (long long)old,
             (long long)NOW);
    sql(db, ins);
    snprintf(line, sizeof(line),
             "sqlite:%s sms_log time=sent_at subject=customer_no "
             "hold=legal_hold", db);
    p = policy("none", line, "delete after 90d\n hold keep");
    is_int(prune(p, NOW, 0, &r, &err), RET_OK, "prune with holds");
    is_int(r.deleted, 2, "unheld expired rows deleted");
    is_int(r.held, 2, "two due rows kept for a hold");
    is_int(db_num(db, "SELECT count(*) FROM sms_log WHERE customer_no IN (2,4)"),
           2, "held rows survive");
    sql(db, "UPDATE sms_log SET legal_hold = 0 WHERE customer_no = 2");
    is_int(prune(p, NOW, 0, &r, &err), RET_OK, "prune after a release");
    is_int(r.deleted, 1, "the released row is deleted");
    is_int(db_num(db, "SELECT count(*) FROM sms_log WHERE customer_no = 2"), 0,
           "released row gone");
    is_int(db_num(db, "SELECT count(*) FROM sms_log WHERE customer_no = 5"), 1,
           "a recent held row is untouched");
    ret_policy_free(p);
}

static void
test_completion(void)
{
    char db[300], line[1024], ins[1024];
    ret_policy *p;
    ret_table_result r;
    ret_error err;

    path_of(db, sizeof(db), "contact.db");
    sql(db, "CREATE TABLE contact (id INTEGER PRIMARY KEY, created_at, "
            "closed_at, retain_until, restricted INTEGER DEFAULT 0, "
            "legal_hold, email TEXT); CREATE INDEX c_t ON contact "
            "(created_at);");
    snprintf(ins, sizeof(ins),
             "INSERT INTO contact (created_at, closed_at, retain_until, "
             "legal_hold, email) VALUES "
             "(%lld, NULL, NULL, 0, 'open@example.org'),"
             "(%lld, %lld, NULL, 0, 'done-2d@example.org'),"
             "(%lld, %lld, NULL, 0, 'done-1d-1s@example.org'),"
             "(%lld, %lld, NULL, 0, 'done-1d+1s@example.org'),"
             "(%lld, %lld, %lld, 0, 'retained@example.org'),"
             "(%lld, %lld, %lld, 0, 'retain-over@example.org'),"
             "(%lld, '2026-11-29 10:00:00', NULL, 0, 'text@example.org'),"
             "(%lld, %lld, NULL, 1, 'held@example.org');",
             (long long)NOW - 400 * DAY,
             (long long)NOW - 10 * DAY, (long long)NOW - 2 * DAY,
             (long long)NOW - 10 * DAY, (long long)NOW - DAY - 1,
             (long long)NOW - 10 * DAY, (long long)NOW - DAY + 1,
             (long long)NOW - 10 * DAY, (long long)NOW - 5 * DAY,
             (long long)NOW + 300 * DAY,
             (long long)NOW - 10 * DAY, (long long)NOW - 5 * DAY,
             (long long)NOW - 1,
             (long long)NOW - 10 * DAY,
             (long long)NOW - 10 * DAY, (long long)NOW - 5 * DAY);
    sql(db, ins);
    snprintf(line, sizeof(line),
             "sqlite:%s contact time=created_at completed=closed_at "
             "retain-until=retain_until restricted=restricted hold=legal_hold",
             db);
    p = policy("none", line, "delete after completion + 1d");
    memset(&r, 0, sizeof(r));
    is_int(ret_table_audit(cat(p), src(p), NOW, &r, &err), RET_OK, "audit");
    is_int(r.deleted, 4, "audit: 4 completed requests due");
    is_int(r.restricted, 2, "audit: 2 due for restriction");
    is_int(prune(p, NOW, 0, &r, &err), RET_OK, "prune contact requests");
    is_int(r.deleted, 4, "completed requests past completion + 1d deleted");
    is_int(r.restricted, 2, "statutory retention and a hold restrict "
                            "instead");
    is_int(r.retained, 1, "and counts it as retained");
    is_int(r.held, 1, "a held completed request is kept (restricted)");
    {
        char *left = str(db, "SELECT group_concat(email || ':' || restricted,"
                             " ' ') FROM (SELECT * FROM contact ORDER BY "
                             "email)");

        is_str(left, "done-1d+1s@example.org:0 held@example.org:1 "
                     "open@example.org:0 retained@example.org:1",
               "open, not yet due, held remain; retained is restricted");
        free(left);
    }
    is_int(prune(p, NOW, 0, &r, &err), RET_OK, "prune again");
    is_int(r.restricted + r.deleted, 0, "already restricted: nothing to do");
    ret_policy_free(p);

    /* a retention rule from the end of the year restricts old records */
    sql(db, "DELETE FROM contact");
    snprintf(ins, sizeof(ins),
             "INSERT INTO contact (created_at, closed_at, email) VALUES "
             "(%lld, %lld, 'invoice@example.org'),"
             "(%lld, NULL, 'ancient@example.org');",
             (long long)NOW - 200 * DAY, (long long)NOW - 190 * DAY,
             (long long)NOW - 12 * 366 * DAY);
    sql(db, ins);
    p = policy("none", line,
               "delete after 90d\n retain 2y from end-of-year");
    is_int(prune(p, NOW, 0, &r, &err), RET_OK, "prune with retain 2y");
    is_int(r.restricted, 1, "inside the retention period: restricted");
    is_int(r.deleted, 1, "past the retention period: deleted");
    is_int(db_num(db, "SELECT restricted FROM contact WHERE email LIKE "
                   "'invoice%'"),
           1, "the invoice request is restricted");
    ret_policy_free(p);
}

static void
test_anonymize(void)
{
    char db[300], line[1024], ins[512];
    ret_policy *p;
    ret_table_result r;
    ret_error err;

    path_of(db, sizeof(db), "access.db");
    sql(db, "CREATE TABLE access (id INTEGER PRIMARY KEY, t INTEGER, ip TEXT);"
            "CREATE INDEX a_t ON access (t);");
    snprintf(ins, sizeof(ins),
             "INSERT INTO access (t, ip) VALUES (%lld, '198.51.100.77'), "
             "(%lld, '2001:db8:1234:5678::99'), (%lld, '203.0.113.9'), "
             "(%lld, 'garbage');",
             (long long)NOW - 8 * DAY, (long long)NOW - 8 * DAY,
             (long long)NOW - 6 * DAY, (long long)NOW - 9 * DAY);
    sql(db, ins);
    snprintf(line, sizeof(line), "sqlite:%s access time=t client-ip=ip", db);
    p = policy("none", line,
               "anonymize client-ip after 7d prefix 24/48\n delete after 90d");
    is_int(prune(p, NOW, 0, &r, &err), RET_OK, "prune anonymizes");
    is_int(r.anonymized, 3, "three addresses past 7 days anonymized");
    {
        char *left = str(db, "SELECT group_concat(coalesce(ip, 'NULL'), ' ') "
                             "FROM (SELECT ip FROM access ORDER BY id)");

        is_str(left, "198.51.100.0 2001:db8:1234:: 203.0.113.9 NULL",
               "masked to 24/48 bits; recent kept; unparseable removed");
        free(left);
    }
    ok(!file_has(db, "198.51.100.77"), "the full address is not in the file");
    is_int(prune(p, NOW, 0, &r, &err), RET_OK, "prune again");
    is_int(r.anonymized, 0, "already anonymized: unchanged");
    ret_policy_free(p);
}

/* A row kept past its deletion for a statutory retention is restricted,
 * and its client address masked as the policy says (a run that comes
 * late, or a row inserted late, must not leave it in clear); a held row
 * is restricted with its address: evidence is not altered. */
static void
test_restrict_masks(void)
{
    char db[300], line[1024], ins[1024];
    ret_policy *p;
    ret_table_result r;
    ret_error err;

    path_of(db, sizeof(db), "orders.db");
    sql(db, "CREATE TABLE orders (id INTEGER PRIMARY KEY, t INTEGER, ip TEXT, "
            "retain_until INTEGER, restricted INTEGER DEFAULT 0, "
            "legal_hold INTEGER DEFAULT 0); CREATE INDEX o_t ON orders (t);");
    snprintf(ins, sizeof(ins),
             "INSERT INTO orders (t, ip, retain_until, restricted, legal_hold)"
             " VALUES (%lld, '198.51.100.77', %lld, 0, 0),"
             "(%lld, '2001:db8:1234:5678::99', %lld, 1, 0),"
             "(%lld, '203.0.113.9', %lld, 0, 1),"
             "(%lld, '192.0.2.55', NULL, 0, 0);",
             (long long)NOW - 100 * DAY, (long long)NOW + 300 * DAY,
             (long long)NOW - 100 * DAY, (long long)NOW + 300 * DAY,
             (long long)NOW - 100 * DAY, (long long)NOW + 300 * DAY,
             (long long)NOW - 8 * DAY);
    sql(db, ins);
    snprintf(line, sizeof(line),
             "sqlite:%s orders time=t client-ip=ip retain-until=retain_until "
             "restricted=restricted hold=legal_hold",
             db);
    p = policy("none", line,
               "anonymize client-ip after 7d prefix 24/48\n delete after 90d");
    memset(&r, 0, sizeof(r));
    is_int(ret_table_audit(cat(p), src(p), NOW, &r, &err), RET_OK,
           "audit retained rows");
    is_int(r.restricted, 2, "audit: two rows due for restriction");
    is_int(r.anonymized, 3, "audit: three addresses due (one restricted "
                            "already, one to restrict, one recent)");
    is_int(prune(p, NOW, 0, &r, &err), RET_OK, "prune retained rows");
    is_int(r.deleted, 0, "retained rows are not deleted");
    is_int(r.restricted, 2, "the retained and the held row are restricted");
    is_int(r.anonymized, 3, "and its address masked, as the restricted "
                            "one's and the recent one's");
    {
        char *left = str(db, "SELECT group_concat(ip || ':' || restricted, "
                             "' ') FROM (SELECT * FROM orders ORDER BY id)");

        is_str(left, "198.51.100.0:1 2001:db8:1234:::1 203.0.113.9:1 "
                     "192.0.2.0:0",
               "restricted rows masked; the held row restricted, its "
               "address kept");
        free(left);
    }
    ok(!file_has(db, "198.51.100.77") && !file_has(db, "5678::99"),
       "no full address of a restricted row is left in the file");
    is_int(prune(p, NOW, 0, &r, &err), RET_OK, "prune again");
    is_int(r.restricted + r.anonymized + r.deleted, 0, "nothing left to do");
    ret_policy_free(p);
}

/* ---- names, errors, index warning ---- */

static void
test_names(void)
{
    char db[300], line[1024];
    ret_policy *p;
    ret_table_result r;
    ret_error err;
    struct ret__tabspec sp;
    sqlite3 *h = NULL;

    path_of(db, sizeof(db), "names.db");
    sql(db, "CREATE TABLE plain (ts INTEGER, v TEXT);"
            "CREATE TABLE \"we\"\"ird tab\" (\"ti\"\"me\" INTEGER, v TEXT);"
            "INSERT INTO plain VALUES (1, 'a'), (1796119000, 'b');"
            "INSERT INTO \"we\"\"ird tab\" VALUES (1, 'a'), (1796119000, "
            "'b');");
    snprintf(line, sizeof(line), "sqlite:%s plain time=nosuch", db);
    p = policy("none", line, "delete after 90d");
    is_int(prune(p, NOW, 0, &r, &err), RET_E_NOTFOUND, "missing column");
    ok(strstr(err.message, "no column 'nosuch'") != NULL, "message: %s",
       err.message);
    ret_policy_free(p);
    snprintf(line, sizeof(line), "sqlite:%s nosuch time=ts", db);
    p = policy("none", line, "delete after 90d");
    is_int(prune(p, NOW, 0, &r, &err), RET_E_NOTFOUND, "missing table");
    ok(strstr(err.message, "no table 'nosuch'") != NULL, "message: %s",
       err.message);
    ret_policy_free(p);
    snprintf(line, sizeof(line), "sqlite:%s/none.db plain time=ts", dir);
    p = policy("none", line, "delete after 90d");
    is_int(prune(p, NOW, 0, &r, &err), RET_E_NOTFOUND, "missing database");
    ret_policy_free(p);

    snprintf(line, sizeof(line), "sqlite:%s plain time=ts", db);
    p = policy("none", line, "delete after 90d");
    is_int(prune(p, NOW, 0, &r, &err), RET_OK, "prune without an index");
    ok(r.flags & RET_TABLE_NO_INDEX, "no index on the time column: noted");
    is_int(r.deleted, 1, "and still deleted");

    /* identifiers are quoted, not pasted */
    memset(&sp, 0, sizeof(sp));
    sp.cat = cat(p);
    sp.path = db;
    sp.table = "we\"ird tab";
    sp.col[RET_COL_TIME] = "ti\"me";
    memset(&r, 0, sizeof(r));
    ret__db_open(db, 0, 0, &h, NULL);
    is_int(ret__table_run(h, &sp, RET__TAB_PRUNE, NOW, NULL, 0, &r, &err),
           RET_OK, "names with quotes and spaces");
    is_int(r.deleted, 1, "deleted in the oddly named table");
    sp.table = "plain; DROP TABLE plain";
    is_int(ret__table_run(h, &sp, RET__TAB_PRUNE, NOW, NULL, 0, &r, &err),
           RET_E_NOTFOUND, "an injected name is just a missing table");
    sqlite3_close(h);
    is_int(db_num(db, "SELECT count(*) FROM plain"), 1, "plain still there");
    ret_policy_free(p);

    /* not a database */
    {
        FILE *f;

        path_of(db, sizeof(db), "junk.db");
        f = fopen(db, "w");
        fputs("this is not an SQLite database, not at all, no no no\n", f);
        fclose(f);
        snprintf(line, sizeof(line), "sqlite:%s plain time=ts", db);
        p = policy("none", line, "delete after 90d");
        is_int(prune(p, NOW, 0, &r, &err), RET_E_CORRUPT,
               "not a database: RET_E_CORRUPT");
        ret_policy_free(p);
    }
}

/* ---- secure deletion ---- */

static void
test_secure(void)
{
    char db[300], wal[320], line[1024];
    ret_policy *p;
    ret_table_result r;
    ret_error err;
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    int i;

    path_of(db, sizeof(db), "secure.db");
    snprintf(wal, sizeof(wal), "%s-wal", db);
    sql(db, "PRAGMA auto_vacuum=INCREMENTAL; PRAGMA journal_mode=WAL;"
            "CREATE TABLE sms_log (id INTEGER PRIMARY KEY, sent_at INTEGER, "
            "body TEXT); CREATE INDEX s_t ON sms_log (sent_at);");
    /* a reader keeps the connection (and the WAL) open meanwhile */
    sqlite3_open(db, &h);
    sqlite3_exec(h, "PRAGMA wal_autocheckpoint=0", NULL, NULL, NULL);
    sqlite3_exec(h, "BEGIN", NULL, NULL, NULL);
    sqlite3_prepare_v2(h, "INSERT INTO sms_log (sent_at, body) VALUES (?, ?)",
                       -1, &st, NULL);
    for (i = 0; i < 3000; i++) {
        char body[64];

        snprintf(body, sizeof(body), "%s-%05d-padding-padding-padding",
                 i % 3 ? "KEEP" : "GONE", i);
        sqlite3_bind_int64(st, 1, i % 3 ? NOW - DAY : NOW - 100 * DAY);
        sqlite3_bind_text(st, 2, body, -1, SQLITE_TRANSIENT);
        sqlite3_step(st);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);
    ok(file_has(wal, "GONE-00300"), "before: the value is in the WAL");
    snprintf(line, sizeof(line), "sqlite:%s sms_log time=sent_at", db);
    p = policy("none", line, "delete after 90d");
    is_int(prune(p, NOW, 0, &r, &err), RET_OK, "prune");
    is_int(r.deleted, 1000, "1000 rows deleted");
    ok(!(r.flags & RET_TABLE_WAL_KEPT), "WAL truncated");
    ok(!(r.flags & RET_TABLE_NO_VACUUM), "incremental vacuum ran");
    is_int(db_num(db, "PRAGMA freelist_count"), 0, "no free pages left");
    {
        int gone = 0, kept = 0;

        for (i = 0; i < 3000; i++) {
            char body[64];

            snprintf(body, sizeof(body), "%s-%05d-padding", i % 3 ? "KEEP"
                                                                  : "GONE", i);
            if (i % 3 == 0)
                gone += file_has(db, body) || file_has(wal, body);
            else if (i % 97 == 1)
                kept += file_has(db, body);
        }
        is_int(gone, 0, "no deleted value is in the database file or WAL");
        ok(kept > 0, "kept values are (the search works)");
    }
    sqlite3_close(h);
    ret_policy_free(p);

    /* without incremental auto_vacuum it is noted */
    path_of(db, sizeof(db), "novac.db");
    sql(db, "CREATE TABLE sms_log (id INTEGER PRIMARY KEY, sent_at INTEGER, "
            "body TEXT); INSERT INTO sms_log (sent_at, body) VALUES (1, "
            "'SECRET-PLAIN-1'), (1796119000, 'x');");
    snprintf(line, sizeof(line), "sqlite:%s sms_log time=sent_at", db);
    p = policy("none", line, "delete after 90d");
    is_int(prune(p, NOW, 0, &r, &err), RET_OK, "prune, rollback journal");
    ok(r.flags & RET_TABLE_NO_VACUUM, "no incremental vacuum: noted");
    ok(!file_has(db, "SECRET-PLAIN-1"), "deleted value zeroed in the file");
    ret_policy_free(p);
}

/* ---- erasure ---- */

static void
test_erase(void)
{
    char db[300], line[1024], ins[1024];
    ret_policy *p;
    ret_table_result r;
    ret_error err;

    path_of(db, sizeof(db), "erase.db");
    sql(db, "CREATE TABLE contact (id INTEGER PRIMARY KEY, created_at, "
            "customer_no INTEGER, closed_at, retain_until, restricted, "
            "legal_hold, email TEXT);");
    snprintf(ins, sizeof(ins),
             "INSERT INTO contact (created_at, customer_no, retain_until, "
             "legal_hold, email) VALUES "
             "(%lld, 4711, NULL, 0, 'erase-me-1@example.org'),"
             "(%lld, 4711, NULL, NULL, 'erase-me-2@example.org'),"
             "(%lld, 4711, NULL, 1, 'held@example.org'),"
             "(%lld, 4711, %lld, 0, 'retained@example.org'),"
             "(%lld, 4711, %lld, 0, 'retention-over@example.org'),"
             "(%lld, 4712, NULL, 0, 'other@example.org');",
             (long long)NOW - DAY, (long long)NOW - 2 * DAY,
             (long long)NOW - DAY, (long long)NOW - DAY,
             (long long)NOW + 100 * DAY, (long long)NOW - DAY,
             (long long)NOW - 1, (long long)NOW - DAY);
    sql(db, ins);
    snprintf(line, sizeof(line),
             "sqlite:%s contact time=created_at subject=customer_no "
             "completed=closed_at retain-until=retain_until "
             "restricted=restricted hold=legal_hold", db);
    p = policy("none", line, "delete after completion");
    memset(&r, 0, sizeof(r));
    is_int(ret_table_erase(cat(p), src(p), "4711", NOW, RET_PRUNE_DRY_RUN, &r,
                           &err),
           RET_OK, "erase, dry run");
    is_int(r.deleted, 3, "dry run: 3 to delete");
    is_int(db_num(db, "SELECT count(*) FROM contact"), 6, "dry run wrote nothing");
    memset(&r, 0, sizeof(r));
    is_int(ret_table_erase(cat(p), src(p), "4711", NOW, 0, &r, &err), RET_OK,
           "erase");
    is_int(r.deleted, 3, "3 rows erased");
    is_int(r.held, 1, "1 held row kept");
    is_int(r.retained, 1, "1 retained row kept");
    is_int(r.restricted, 1, "and restricted");
    {
        char *left = str(db, "SELECT group_concat(email, ' ') FROM (SELECT "
                             "email FROM contact ORDER BY email)");

        is_str(left, "held@example.org other@example.org retained@example.org",
               "held, retained and other subjects' rows remain");
        free(left);
    }
    ok(!file_has(db, "erase-me-1@example.org"), "erased value not in file");
    memset(&r, 0, sizeof(r));
    is_int(ret_table_erase(cat(p), src(p), NULL, NOW, 0, &r, &err),
           RET_E_INVAL, "no subject: refused");
    ret_policy_free(p);
    snprintf(line, sizeof(line), "sqlite:%s contact time=created_at", db);
    p = policy("none", line, "delete after 90d");
    is_int(ret_table_erase(cat(p), src(p), "4712", NOW, 0, &r, &err),
           RET_E_NOTFOUND, "no subject column: RET_E_NOTFOUND");
    ret_policy_free(p);
}

/* ---- a writer during a big prune; kill -9 during a prune ---- */

static void
put(int fd, const char *s)
{
    if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
        _exit(3);
}

static long
test_rows(void)
{
    const char *e = getenv("RET_TEST_ROWS");
    long n = e ? atol(e) : 100000;

    return n < 1000 ? 1000 : n;
}

static void
fill(const char *db, long rows)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    long i;

    sqlite3_open(db, &h);
    sqlite3_exec(h, "PRAGMA journal_mode=WAL; CREATE TABLE sms_log (id "
                    "INTEGER PRIMARY KEY, sent_at INTEGER, customer_no "
                    "INTEGER, legal_hold INTEGER, body TEXT); CREATE INDEX "
                    "s_t ON sms_log (sent_at); BEGIN",
                 NULL, NULL, NULL);
    sqlite3_prepare_v2(h, "INSERT INTO sms_log (sent_at, customer_no, "
                          "legal_hold, body) VALUES (?, ?, ?, 'hello, this "
                          "is an SMS text')",
                       -1, &st, NULL);
    for (i = 0; i < rows; i++) {
        /* a third expired, spread over a year; the rest recent */
        int64_t t = i % 3 == 0 ? NOW - 91 * DAY - (i % 270) * DAY
                               : NOW - (i % 89) * DAY;

        sqlite3_bind_int64(st, 1, t);
        sqlite3_bind_int64(st, 2, i % 1000);
        sqlite3_bind_int(st, 3, i % 99 == 0); /* held: expired ones too */
        sqlite3_step(st);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(h);
}

/* hold: map the hold column (held rows are skipped, then judged). */
static void
test_concurrent(int hold)
{
    char db[300], line[1024], q[400];
    long rows = test_rows();
    int fds[2];
    pid_t pid;
    ret_policy *p;
    ret_table_result r;
    ret_error err;
    long inserted = 0, busy = 0, before, expect;
    int status;

    path_of(db, sizeof(db), hold ? "busy-hold.db" : "busy.db");
    fill(db, rows);
    before = (long)db_num(db, "SELECT count(*) FROM sms_log");
    if (pipe(fds) != 0)
        exit(2);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        /* the portal: one insert after another, 5 s busy timeout */
        sqlite3 *h = NULL;
        long n = 0, b = 0;

        close(fds[0]);
        sqlite3_open(db, &h);
        sqlite3_busy_timeout(h, 5000);
        put(fds[1], "r");
        for (;;) {
            char ins[200];
            int rc;

            snprintf(ins, sizeof(ins),
                     "INSERT INTO sms_log (sent_at, customer_no, body) "
                     "VALUES (%lld, 77, 'new')", (long long)NOW - 5);
            rc = sqlite3_exec(h, ins, NULL, NULL, NULL);
            if (rc == SQLITE_OK)
                n++;
            else
                b++;
            if (getppid() == 1)
                break;
            {
                char stop[320];

                snprintf(stop, sizeof(stop), "%s.stop", db);
                if (access(stop, F_OK) == 0)
                    break;
            }
            usleep(200);
        }
        sqlite3_close(h);
        printf("# writer: %ld inserts, %ld failures\n", n, b);
        fflush(stdout);
        {
            char res[64];

            snprintf(res, sizeof(res), "%ld %ld\n", n, b);
            put(fds[1], res);
        }
        _exit(0);
    }
    close(fds[1]);
    {
        char c;

        if (read(fds[0], &c, 1) != 1)
            diag("the writer did not start");
    }
    usleep(20000);
    snprintf(line, sizeof(line), "sqlite:%s sms_log time=sent_at%s", db,
             hold ? " hold=legal_hold" : "");
    p = policy("none", line, "delete after 90d\n hold keep");
    expect = hold ? (rows + 2) / 3 - (rows + 98) / 99 : (rows + 2) / 3;
    is_int(prune(p, NOW, 0, &r, &err), RET_OK, "prune %ld rows while a "
                                               "writer inserts (%s)", rows,
           hold ? "with a hold column" : "plain");
    is_int(r.deleted, expect, "every expired row deleted");
    if (hold)
        is_int(r.held, (rows + 98) / 99, "held rows kept");
    report_lock(r.max_lock_ms, hold ? "with a hold column" : "plain");
    diag("checkpoint %.1f ms, flags %#x", r.checkpoint_ms, r.flags);
    usleep(50000);
    snprintf(q, sizeof(q), "%s.stop", db);
    close(open(q, O_CREAT | O_WRONLY, 0600));
    {
        char res[64] = {0};
        ssize_t n = read(fds[0], res, sizeof(res) - 1);

        if (n > 0)
            sscanf(res, "%ld %ld", &inserted, &busy);
    }
    close(fds[0]);
    waitpid(pid, &status, 0);
    ok(inserted > 0, "the writer inserted %ld rows meanwhile", inserted);
    is_int(busy, 0, "no insert failed with SQLITE_BUSY");
    is_int(db_num(db, "SELECT count(*) FROM sms_log"),
           before - expect + inserted, "no row deleted that should stay");
    ret_policy_free(p);
}

static void
test_kill(void)
{
    char db[300], line[1024];
    long rows = test_rows();
    ret_policy *p;
    ret_table_result r;
    ret_error err;
    pid_t pid;
    int status = 0;
    int64_t expired;
    char *ic;

    path_of(db, sizeof(db), "kill.db");
    fill(db, rows);
    snprintf(line, sizeof(line), "sqlite:%s sms_log time=sent_at", db);
    p = policy("none", line, "delete after 90d");
    expired = db_num(db, "SELECT count(*) FROM sms_log WHERE sent_at < "
                      "1788343200");
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        prune(p, NOW, 0, &r, &err);
        _exit(0);
    }
    /* kill it once it has begun to delete */
    while (db_num(db, "SELECT count(*) FROM sms_log WHERE sent_at < "
                   "1788343200") == expired &&
           waitpid(pid, &status, WNOHANG) == 0)
        usleep(1000);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    ok(WIFSIGNALED(status), "the prune was killed (signal %d)",
       WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    ic = str(db, "PRAGMA integrity_check");
    is_str(ic, "ok", "the database passes integrity_check");
    free(ic);
    diag("%lld expired rows left after the kill",
         (long long)db_num(db, "SELECT count(*) FROM sms_log WHERE sent_at < "
                            "1788343200"));
    is_int(prune(p, NOW, 0, &r, &err), RET_OK, "a re-run");
    is_int(db_num(db, "SELECT count(*) FROM sms_log WHERE sent_at < 1788343201"),
           0, "the re-run finished the job");
    is_int(db_num(db, "SELECT count(*) FROM sms_log"), rows - (rows + 2) / 3,
           "every row within the limit is there");
    ret_policy_free(p);
}

/* ---- the write deadline: interrupted batches undone and done again ---- */

/* Prunes db's sms_log (line's columns) through ret__table_run with a
 * write deadline of deadline_ms; returns the batches interrupted. */
static unsigned long
deadline_prune(const char *db, const char *line, const char *rules,
               double deadline_ms, ret_table_result *r, const char *what)
{
    ret_policy *p = policy("none", line, rules);
    const ret_source *s = src(p);
    struct ret__tabspec sp;
    unsigned long interrupts = 0;
    sqlite3 *h = NULL;
    ret_error err;
    int i;

    memset(&sp, 0, sizeof(sp));
    memset(r, 0, sizeof(*r));
    sp.cat = cat(p);
    sp.path = db;
    sp.table = ret_source_table(s);
    for (i = 0; i < RET_COL__COUNT; i++)
        sp.col[i] = ret_source_column(s, (ret_column)i);
    sp.deadline_ms = deadline_ms;
    sp.interrupts = &interrupts;
    if (ret__db_open(db, 0, 0, &h, &err) != RET_OK) {
        printf("# open: %s\n", err.message);
        exit(2);
    }
    is_int(ret__table_run(h, &sp, RET__TAB_PRUNE, NOW, NULL, 0, r, &err),
           RET_OK, "%s: prune with a write deadline of %g ms%s", what,
           deadline_ms, deadline_ms > 0 ? "" : " (the default)");
    sqlite3_close(h);
    ret_policy_free(p);
    return interrupts;
}

static void
test_deadline(void)
{
    char db[300], line[1024], q[600];
    ret_table_result r;
    unsigned long n;
    long rows = 6000, expired = (rows + 2) / 3, held = (rows + 98) / 99;
    int64_t cut = NOW - 90 * DAY;

    /* the range path (run_fast): held rows are skipped, then counted */
    path_of(db, sizeof(db), "deadline-fast.db");
    fill(db, rows);
    snprintf(line, sizeof(line), "sqlite:%s sms_log time=sent_at "
             "hold=legal_hold", db);
    n = deadline_prune(db, line, "delete after 90d\n hold keep", 1e-6, &r,
                       "ranges");
    ok(n > 0, "ranges: %lu batches interrupted and done again", n);
    is_int(r.deleted, expired - held, "ranges: every unheld expired row "
                                      "counted once");
    is_int(r.held, held, "ranges: held rows counted");
    snprintf(q, sizeof(q), "SELECT count(*) FROM sms_log WHERE sent_at < "
             "%lld AND legal_hold = 0", (long long)cut);
    is_int(db_num(db, q), 0, "ranges: no unheld expired row left");
    is_int(db_num(db, "SELECT count(*) FROM sms_log"), rows - expired + held,
           "ranges: every other row is there");

    /* row by row (a retention column turns the range path off); held
     * rows are restricted by an UPDATE in the same batches */
    path_of(db, sizeof(db), "deadline-rows.db");
    fill(db, rows);
    sql(db, "ALTER TABLE sms_log ADD COLUMN retain_until INTEGER;"
            "ALTER TABLE sms_log ADD COLUMN restricted INTEGER DEFAULT 0;");
    snprintf(line, sizeof(line), "sqlite:%s sms_log time=sent_at "
             "hold=legal_hold retain-until=retain_until "
             "restricted=restricted", db);
    n = deadline_prune(db, line, "delete after 90d", 1e-6, &r, "rows");
    ok(n > 0, "rows: %lu batches interrupted and done again", n);
    is_int(r.deleted, expired - held, "rows: every unheld expired row "
                                      "counted once");
    is_int(r.restricted, held, "rows: every held expired row restricted, "
                               "counted once");
    is_int(r.held, held, "rows: held rows counted");
    snprintf(q, sizeof(q), "SELECT count(*) FROM sms_log WHERE sent_at < "
             "%lld AND legal_hold = 0", (long long)cut);
    is_int(db_num(db, q), 0, "rows: no unheld expired row left");
    is_int(db_num(db, "SELECT count(*) FROM sms_log WHERE restricted = 1"),
           held, "rows: exactly the held rows restricted");
    is_int(db_num(db, "SELECT count(*) FROM sms_log"), rows - expired + held,
           "rows: every other row is there");
    n = deadline_prune(db, line, "delete after 90d", 1e-6, &r, "rows again");
    is_int(r.deleted + r.restricted, 0, "rows again: nothing left to do");

    /* the default deadline on the same work: nothing interrupted */
    path_of(db, sizeof(db), "deadline-default.db");
    fill(db, rows);
    snprintf(line, sizeof(line), "sqlite:%s sms_log time=sent_at "
             "hold=legal_hold", db);
    n = deadline_prune(db, line, "delete after 90d\n hold keep", 0, &r,
                       "default");
    is_int(r.deleted, expired - held, "default: every unheld expired row "
                                      "deleted");
    diag("default deadline: %lu batches interrupted, longest lock %.1f ms",
         n, r.max_lock_ms);
}

int
main(void)
{
    const char *tmp = getenv("TMPDIR");

    snprintf(dir, sizeof(dir), "%s/table-t.XXXXXX", tmp ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    test_boundaries();
    test_holds();
    test_completion();
    test_anonymize();
    test_restrict_masks();
    test_names();
    test_secure();
    test_erase();
    test_deadline();
    test_concurrent(0);
    test_concurrent(1);
    test_kill();
    if (getenv("RET_TEST_KEEP") == NULL) {
        char cmd[300];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            diag("could not remove %s", dir);
    }
    return done_testing();
}
