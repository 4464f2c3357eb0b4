/*
 * store-t.c - the portal record store: record, complete, hold, release,
 * count, prune, erase; anonymization on write; fail closed on a damaged
 * hold table; several threads and processes at once.
 */
#include "internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "../tap.h"
#include "db-util.h"

#define DAY 86400
#define NOW 1796119200 /* 2026-12-01T10:00:00Z */

static char dir[256];
static char dbpath[300];

static const char policy_text[] =
    "policy {\n name \"Datenschutzerklaerung\"\n controller \"Stadtwerke\"\n"
    " version 1.3\n effective 2012-11-01\n schedule none\n}\n"
    "category installer-access {\n delete after 90d\n"
    " anonymize client-ip after 0s prefix 24/48\n}\n"
    "category sms {\n delete after 90d\n}\n"
    "category contact {\n delete after completion\n}\n";

static ret_policy *
load(void)
{
    ret_policy *p = NULL;
    ret_error err;

    if (ret_policy_parse(policy_text, strlen(policy_text), "store.conf", &p,
                         &err) != RET_OK) {
        printf("# policy: %s\n", err.message);
        exit(2);
    }
    return p;
}

static int64_t
num(const char *text)
{
    return db_num(dbpath, text);
}

static void
sql(const char *text)
{
    sqlite3 *h = NULL;

    sqlite3_open(dbpath, &h);
    sqlite3_busy_timeout(h, 5000);
    if (sqlite3_exec(h, text, NULL, NULL, NULL) != SQLITE_OK)
        printf("# sql failed: %s: %s\n", text, sqlite3_errmsg(h));
    sqlite3_close(h);
}

static int
db_or_wal_has(const char *needle)
{
    char wal[320];

    snprintf(wal, sizeof(wal), "%s-wal", dbpath);
    return file_has(dbpath, needle) || file_has(wal, needle);
}

static void
test_basics(const ret_policy *p)
{
    ret_store *s = NULL;
    ret_error err;
    int64_t id = 0, id2 = 0, hold = 0;
    uint64_t n = 0;
    ret_table_result r;
    ret_store_field f[] = {{"company", "Elektro \"Funke\" GmbH"},
                           {"input", "line1\nline2"},
                           {"empty", NULL}};
    int i;

    is_int(ret_store_open(dbpath, p, &s, &err), RET_OK, "open a new store");
    if (s == NULL)
        return;
    {
        sqlite3 *h = NULL;
        sqlite3_stmt *st = NULL;
        const char *m = NULL;

        sqlite3_open(dbpath, &h);
        sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &st, NULL);
        if (sqlite3_step(st) == SQLITE_ROW)
            m = (const char *)sqlite3_column_text(st, 0);
        is_str(m, "wal", "the store is in WAL mode");
        sqlite3_finalize(st);
        sqlite3_close(h);
    }
    is_int(num("PRAGMA auto_vacuum"), 2, "incremental auto_vacuum");

    /* installer portal: the address is anonymized on write */
    is_int(ret_store_record(s, "installer-access", NOW - DAY,
                            "198.51.100.77", "installer-17", f, 3, &id, &err),
           RET_OK, "record an installer portal access");
    ok(!db_or_wal_has("198.51.100.77"), "the full address is never written");
    is_int(num("SELECT count(*) FROM ret_events WHERE client_ip = "
               "'198.51.100.0'"),
           1, "the truncated address is stored");
    is_int(num("SELECT count(*) FROM ret_events WHERE payload = "
               "'{\"company\":\"Elektro \\\"Funke\\\" GmbH\",\"input\":"
               "\"line1\\nline2\",\"empty\":null}'"),
           1, "payload stored as a JSON object");
    is_int(ret_store_record(s, "installer-access", NOW, "2001:db8:aa:bb::1",
                            NULL, NULL, 0, NULL, &err),
           RET_OK, "record an IPv6 access");
    is_int(num("SELECT count(*) FROM ret_events WHERE client_ip = "
               "'2001:db8:aa::'"),
           1, "IPv6 masked to 48 bits");
    is_int(ret_store_record(s, "installer-access", NOW, "300.1.2.3", NULL,
                            NULL, 0, NULL, &err),
           RET_E_PARSE, "a bad address is refused");
    ok(strstr(err.message, "300.1.2.3") == NULL,
       "the message does not quote it: %s", err.message);
    is_int(ret_store_record(s, "nosuch", NOW, NULL, NULL, NULL, 0, NULL, &err),
           RET_E_NOTFOUND, "unknown category");
    /* sms: not anonymized by the policy, address kept in canonical form */
    is_int(ret_store_record(s, "sms", NOW, "203.0.113.5", "4711", NULL, 0,
                            NULL, &err),
           RET_OK, "record an SMS");
    is_int(num("SELECT count(*) FROM ret_events WHERE client_ip = "
               "'203.0.113.5'"),
           1, "kept as the policy allows");

    /* the free SMS service: 5 a day */
    for (i = 0; i < 6; i++)
        ret_store_record(s, "sms", NOW - 3600 * i - 1, NULL, "4712", NULL, 0,
                         NULL, NULL);
    ret_store_record(s, "sms", NOW - 2 * DAY, NULL, "4712", NULL, 0, NULL,
                     NULL);
    is_int(ret_store_count_since(s, "sms", "4712", NOW - DAY, &n, &err),
           RET_OK, "count since");
    is_int(n, 6, "six SMS in the last day");
    is_int(ret_store_count_since(s, "sms", "4712", NOW - 3 * 3600, &n, &err),
           RET_OK, "count since 3 h");
    is_int(n, 3, "three in the last three hours");
    is_int(ret_store_count_since(s, "contact", "4712", 0, &n, &err), RET_OK,
           "other category");
    is_int(n, 0, "counted per category");

    /* contact request: completed, then deleted */
    is_int(ret_store_record(s, "contact", NOW - 5 * DAY, NULL, "4711", NULL, 0,
                            &id, &err),
           RET_OK, "record a contact request");
    is_int(ret_store_record(s, "contact", NOW - 5 * DAY, NULL, "4713", NULL, 0,
                            &id2, &err),
           RET_OK, "record another");
    is_int(ret_store_complete(s, id, NOW - DAY, &err), RET_OK, "complete it");
    is_int(ret_store_complete(s, 999999, NOW, &err), RET_E_NOTFOUND,
           "complete: no such event");

    /* old SMS, one of them held */
    ret_store_record(s, "sms", NOW - 100 * DAY, NULL, "4711", NULL, 0, NULL,
                     NULL);
    ret_store_record(s, "sms", NOW - 100 * DAY, NULL, "666", NULL, 0, NULL,
                     NULL);
    is_int(ret_store_hold(s, "666", 0, "criminal complaint 2026/17", NOW,
                          &hold, &err),
           RET_OK, "place a hold on a subject");
    is_int(ret_store_hold(s, NULL, 999999, "x", NOW, NULL, &err),
           RET_E_NOTFOUND, "hold: no such event");
    is_int(ret_store_hold(s, "666", 0, NULL, NOW, NULL, &err), RET_E_INVAL,
           "a hold needs a reason");

    memset(&r, 0, sizeof(r));
    is_int(ret_store_prune(s, NOW, RET_PRUNE_DRY_RUN, &r, &err), RET_OK,
           "dry run");
    is_int(r.deleted, 2, "dry run: 2 due");
    is_int(num("SELECT count(*) FROM ret_events"), 14, "nothing deleted");
    is_int(ret_store_prune(s, NOW, 0, &r, &err), RET_OK, "prune");
    is_int(r.deleted, 2, "the old SMS and the completed request deleted");
    is_int(r.held, 1, "the held SMS counted");
    is_int(num("SELECT count(*) FROM ret_events WHERE subject = '666'"), 1,
           "the held SMS survives");
    is_int(num("SELECT count(*) FROM ret_events WHERE id = 1"), 1,
           "the open request stays");
    is_int(ret_store_release(s, hold, NOW + 10, &err), RET_OK, "release");
    is_int(ret_store_release(s, hold, NOW + 10, &err), RET_E_NOTFOUND,
           "released twice");
    is_int(ret_store_prune(s, NOW + 20, 0, &r, &err), RET_OK, "prune again");
    is_int(r.deleted, 1, "deleted after the release");
    is_int(num("SELECT count(*) FROM ret_holds WHERE released_at IS NOT NULL "
               "AND reason = 'criminal complaint 2026/17'"),
           1, "the released hold stays on record");

    /* a hold on one event */
    ret_store_record(s, "sms", NOW - 100 * DAY, NULL, "5000", NULL, 0, &id,
                     NULL);
    ret_store_record(s, "sms", NOW - 100 * DAY, NULL, "5000", NULL, 0, &id2,
                     NULL);
    is_int(ret_store_hold(s, NULL, id, "evidence", NOW, &hold, &err), RET_OK,
           "hold one event");
    is_int(ret_store_prune(s, NOW, 0, &r, &err), RET_OK, "prune");
    is_int(r.deleted, 1, "the other event of the subject is deleted");
    is_int(num("SELECT count(*) FROM ret_events WHERE subject = '5000'"), 1,
           "the held event stays");
    ret_store_close(s);
}

static void
test_erase(const ret_policy *p)
{
    ret_store *s = NULL;
    ret_error err;
    ret_table_result r;
    int64_t id, hold;
    ret_store_field f[] = {{"text", "ERASE-ME-PLEASE-0001"}};

    is_int(ret_store_open(dbpath, p, &s, &err), RET_OK, "reopen the store");
    if (s == NULL)
        return;
    ret_store_record(s, "sms", NOW - DAY, NULL, "9001", f, 1, NULL, NULL);
    ret_store_record(s, "contact", NOW - DAY, NULL, "9001", f, 1, NULL, NULL);
    ret_store_record(s, "contact", NOW - DAY, NULL, "9001", NULL, 0, &id,
                     NULL);
    ret_store_retain(s, id, NOW + 300 * DAY, NULL);
    ret_store_record(s, "sms", NOW - DAY, NULL, "9001", NULL, 0, &id, NULL);
    ret_store_hold(s, NULL, id, "court order", NOW, &hold, NULL);
    ret_store_record(s, "sms", NOW - DAY, NULL, "9002", NULL, 0, NULL, NULL);
    memset(&r, 0, sizeof(r));
    is_int(ret_store_erase(s, "9001", "sms", NOW, RET_PRUNE_DRY_RUN, &r, &err),
           RET_OK, "erase dry run");
    is_int(r.deleted, 1, "dry run: one SMS");
    is_int(ret_store_erase(s, "9001", NULL, NOW, 0, &r, &err), RET_OK,
           "erase a subject everywhere");
    is_int(r.deleted, 2, "two events erased");
    is_int(r.held, 1, "one held kept");
    is_int(r.retained, 1, "one retained kept");
    is_int(r.restricted, 1, "and restricted");
    is_int(num("SELECT count(*) FROM ret_events WHERE subject = '9001'"), 2,
           "held and retained remain");
    is_int(num("SELECT count(*) FROM ret_events WHERE subject = '9002'"), 1,
           "other subjects untouched");
    ok(!db_or_wal_has("ERASE-ME-PLEASE-0001"),
       "the erased payload is gone from the file and the WAL");
    is_int(ret_store_erase(s, "9001", "nosuch", NOW, 0, &r, &err),
           RET_E_NOTFOUND, "erase: unknown category");
    ret_store_close(s);
}

/* ---- fail closed ---- */

static void
test_corrupt(const ret_policy *p)
{
    ret_store *s = NULL;
    ret_error err;
    ret_table_result r;
    int64_t root, psize, before;
    FILE *f;

    is_int(ret_store_open(dbpath, p, &s, &err), RET_OK, "open");
    ret_store_record(s, "sms", NOW - 200 * DAY, NULL, "7", NULL, 0, NULL,
                     NULL);
    ret_store_close(s);
    s = NULL;
    before = num("SELECT count(*) FROM ret_events");
    root = num("SELECT rootpage FROM sqlite_schema WHERE name = 'ret_holds'");
    psize = num("PRAGMA page_size");
    sql("PRAGMA wal_checkpoint(TRUNCATE)");
    f = fopen(dbpath, "r+b");
    if (f != NULL) {
        unsigned char junk[64];

        memset(junk, 0xa5, sizeof(junk));
        fseek(f, (long)((root - 1) * psize), SEEK_SET);
        fwrite(junk, 1, sizeof(junk), f);
        fclose(f);
    }
    is_int(ret_store_open(dbpath, p, &s, &err), RET_OK,
           "a store with a damaged hold table opens");
    memset(&r, 0, sizeof(r));
    is_int(ret_store_prune(s, NOW, 0, &r, &err), RET_E_CORRUPT,
           "prune fails closed: %s", err.message);
    is_int(ret_store_erase(s, "7", NULL, NOW, 0, &r, &err), RET_E_CORRUPT,
           "erase fails closed");
    ret_store_close(s);
    s = NULL;
    is_int(num("SELECT count(*) FROM ret_events"), before, "nothing deleted");

    /* a dropped hold table is not silently recreated */
    sql("PRAGMA writable_schema=ON; DELETE FROM sqlite_schema WHERE name "
        "LIKE 'ret_holds%'; PRAGMA writable_schema=OFF;");
    is_int(ret_store_open(dbpath, p, &s, &err), RET_E_CORRUPT,
           "a store without its hold table is refused: %s", err.message);
    ret_store_close(s);
}

/* ---- threads and processes ---- */

struct job {
    const ret_policy *p;
    int n;
    int failed;
    int tag;
};

static void *
writer(void *arg)
{
    struct job *j = arg;
    ret_store *s = NULL;
    ret_error err;
    char subj[32];
    int i;

    if (ret_store_open(dbpath, j->p, &s, &err) != RET_OK) {
        printf("# writer %d: open: %s\n", j->tag, err.message);
        fflush(stdout);
        j->failed = j->n;
        return NULL;
    }
    snprintf(subj, sizeof(subj), "t%d", j->tag);
    for (i = 0; i < j->n; i++) {
        uint64_t n;

        if (ret_store_record(s, "sms", NOW, "192.0.2.1", subj, NULL, 0, NULL,
                             &err) != RET_OK ||
            ret_store_count_since(s, "sms", subj, 0, &n, &err) != RET_OK ||
            n != (uint64_t)i + 1) {
            printf("# writer %d: %s\n", j->tag, err.message);
            fflush(stdout);
            j->failed++;
        }
    }
    ret_store_close(s);
    return NULL;
}

static void
test_parallel(const ret_policy *p)
{
    pthread_t t[4];
    struct job j[4];
    pid_t pid[2];
    int i, failed = 0, status;

    unlink(dbpath);
    /* processes first: never fork while threads run */
    fflush(stdout);
    for (i = 0; i < 2; i++) {
        if ((pid[i] = fork()) == 0) {
            struct job k = {p, 150, 0, 10 + i};

            writer(&k);
            _exit(k.failed ? 1 : 0);
        }
    }
    for (i = 0; i < 4; i++) {
        j[i].p = p;
        j[i].n = 150;
        j[i].failed = 0;
        j[i].tag = i;
        pthread_create(&t[i], NULL, writer, &j[i]);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        failed += j[i].failed;
    }
    for (i = 0; i < 2; i++) {
        waitpid(pid[i], &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            failed++;
    }
    is_int(failed, 0, "4 threads and 2 processes recorded without failure");
    is_int(num("SELECT count(*) FROM ret_events"), 900, "every event stored");
}

int
main(void)
{
    const char *tmp = getenv("TMPDIR");
    ret_policy *p = load();

    snprintf(dir, sizeof(dir), "%s/store-t.XXXXXX", tmp ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    snprintf(dbpath, sizeof(dbpath), "%s/portal.db", dir);
    test_basics(p);
    test_erase(p);
    test_corrupt(p);
    test_parallel(p);
    ret_policy_free(p);
    if (getenv("RET_TEST_KEEP") == NULL) {
        char cmd[300];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            diag("could not remove %s", dir);
    }
    return done_testing();
}
