/* prune-t.c - the pruning library: safe opening, lock, audit JSON, ad hoc
 * policies, the pruner's plan and reports, the run time limit. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../tap.h"

static char dir[256];

static void
path_of(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", dir, name);
}

static void
write_file(const char *name, const char *text)
{
    char p[512];
    FILE *f;

    path_of(p, sizeof(p), name);
    f = fopen(p, "w");
    if (f == NULL)
        abort();
    fputs(text, f);
    fclose(f);
}

static char *
read_file(const char *name)
{
    static char buf[65536];
    char p[512];
    size_t n;
    FILE *f;

    path_of(p, sizeof(p), name);
    if ((f = fopen(p, "r")) == NULL)
        return NULL;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void
test_json(void)
{
    char buf[64];
    size_t n;

    n = ret__json_string(buf, sizeof(buf), "a\"b\\c\n\x01");
    is_str(buf, "\"a\\\"b\\\\c\\n\\u0001\"", "JSON string escapes");
    is_int(n, strlen(buf), "returns its length");
    n = ret__json_string(buf, 4, "abcdef");
    is_int(n, 8, "returns the length it needs when cut");
    is_str(buf, "\"ab", "a cut string is terminated");
}

static void
test_safe(void)
{
    char p[512], q[512];
    const char *base = NULL;
    struct stat st;
    ret_error err;
    int dfd = -1, fd = -1;

    write_file("plain.log", "x\n");
    path_of(p, sizeof(p), "plain.log");
    is_int(ret__safe_open_dir(p, &dfd, &base, &err), RET_OK, "open the dir");
    is_str(base, "plain.log", "base is the last component");
    is_int(ret__safe_open_file(dfd, base, p, &fd, &st, &err), RET_OK,
           "open a regular file");
    ok(S_ISREG(st.st_mode) && st.st_size == 2, "its stat");
    close(fd);

    path_of(q, sizeof(q), "link.log");
    if (symlink(p, q) != 0)
        abort();
    is_int(ret__safe_open_file(dfd, "link.log", q, &fd, &st, &err),
           RET_E_UNSAFE, "a symbolic link is refused");
    ok(strstr(err.message, "symbolic link") != NULL, "and says so: %s",
       err.message);

    path_of(q, sizeof(q), "hard.log");
    if (link(p, q) != 0)
        abort();
    is_int(ret__safe_open_file(dfd, "plain.log", p, &fd, &st, &err),
           RET_E_UNSAFE, "a file with two links is refused");
    ok(strstr(err.message, "2 hard links") != NULL, "and says so: %s",
       err.message);
    unlink(q);

    path_of(q, sizeof(q), "fifo");
    if (mkfifo(q, 0600) != 0)
        abort();
    is_int(ret__safe_open_file(dfd, "fifo", q, &fd, &st, &err), RET_E_UNSAFE,
           "a FIFO is refused (without blocking)");
    is_int(ret__safe_open_file(dfd, "none", q, &fd, &st, &err), RET_E_NOTFOUND,
           "a missing file");
    close(dfd);

    /* A symbolic link to a directory on the way. */
    path_of(q, sizeof(q), "dirlink");
    if (symlink(dir, q) != 0)
        abort();
    path_of(q, sizeof(q), "dirlink/plain.log");
    is_int(ret__safe_open_dir(q, &dfd, &base, &err), RET_E_UNSAFE,
           "a symbolic link among the directories is refused");
    is_int(ret__safe_open_dir("", &dfd, &base, &err), RET_E_INVAL,
           "an empty name");
    is_int(ret__safe_open_dir("/tmp/", &dfd, &base, &err), RET_E_INVAL,
           "a name ending in /");
}

static void
test_lock(void)
{
    char state[512];
    ret_lock *a = NULL, *b = NULL;
    ret_error err;

    path_of(state, sizeof(state), "state");
    is_int(ret_lock_state(state, 0, &a, &err), RET_OK, "lock a new state dir");
    ok(a != NULL, "a lock");
    is_int(ret_lock_state(state, 0, &b, &err), RET_E_BUSY,
           "a second lock is refused");
    ok(strstr(err.message, "holds the lock") != NULL &&
           strstr(err.message, "process") != NULL,
       "the message names the holder: %s", err.message);
    ok(b == NULL, "the out-parameter is not written on failure");
    ret_lock_release(a);
    is_int(ret_lock_state(state, RET_LOCK_WAIT, &b, &err), RET_OK,
           "released: locked again");
    ret_lock_release(b);
    ret_lock_release(NULL);
}

static void
test_adhoc(void)
{
    const int64_t now = 1796126400; /* 2026-12-01T12:00:00Z */
    const ret_category *c;
    ret_policy *p = NULL;
    ret_error err;
    int64_t cut;
    char state[512];

    is_int(ret_policy_adhoc_files("combined", 90 * 86400, 7 * 86400, 0, NULL,
                                  &p, &err),
           RET_OK, "ad hoc files policy");
    c = ret_policy_find(p, "ad-hoc");
    ok(c != NULL, "its category is ad-hoc");
    is_int(ret_category_cutoff(c, RET_DELETE, now, &cut, &err), RET_OK,
           "it has a delete cutoff");
    is_int(cut, now - 90 * 86400 + 1, "after 90 days, no schedule");
    is_int(ret_category_cutoff(c, RET_ANONYMIZE, now, &cut, &err), RET_OK,
           "it has an anonymize cutoff");
    is_int(cut, now - 7 * 86400 + 1, "after 7 days");
    ret_policy_free(p);
    p = NULL;

    /* A state directory whose name needs quoting. */
    path_of(state, sizeof(state), "st\"ate \\dir");
    is_int(ret_policy_adhoc_files(NULL, 3600, -1, 86400, state, &p, &err),
           RET_OK, "a state directory with quotes and backslashes");
    c = ret_policy_category(p, 0);
    is_str(ret_category_state_dir(c), state, "is read back as it was");
    is_int(ret_category_schedule(c), 86400, "daily schedule");
    is_int(ret_category_cutoff(c, RET_ANONYMIZE, now, &cut, &err),
           RET_E_NOTFOUND, "no anonymization asked, none there");
    ret_policy_free(p);

    is_int(ret_policy_adhoc_files(NULL, 0, -1, 0, NULL, &p, &err), RET_E_INVAL,
           "max age 0 is refused");
    is_int(ret_policy_adhoc_files(NULL, 60, -1, 7, NULL, &p, &err), RET_E_INVAL,
           "a schedule of 7 s is refused");
    is_int(ret_policy_adhoc_table("/x.db", "t", "ts", "hold", NULL, 86400, 0,
                                  NULL, &p, &err),
           RET_OK, "ad hoc table policy");
    c = ret_policy_category(p, 0);
    ok(ret_category_source_count(c) == 1 &&
           ret_source_type(ret_category_source(c, 0)) == RET_SOURCE_SQLITE,
       "with one SQLite source");
    is_str(ret_source_table(ret_category_source(c, 0)), "t", "its table");
    is_str(ret_source_column(ret_category_source(c, 0), RET_COL_HOLD), "hold",
           "its hold column");
    ret_policy_free(p);
}

/* ---- the pruner ---------------------------------------------------- */

struct seen {
    int n;
    ret_prune_report last;
    char source[512];
    int sleep_ms;
};

static void
on_report(const ret_prune_report *r, void *arg)
{
    struct seen *s = arg;

    s->n++;
    s->last = *r;
    snprintf(s->source, sizeof(s->source), "%s", r->source);
    if (s->sleep_ms > 0) {
        struct timespec ts = {s->sleep_ms / 1000,
                              (long)(s->sleep_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static const char log_text[] =
    "192.0.2.1 - - [01/Aug/2026:10:00:00 +0000] \"GET /old HTTP/1.1\" 200 1\n"
    "192.0.2.2 - - [20/Nov/2026:10:00:00 +0000] \"GET /anon HTTP/1.1\" 200 1\n"
    "junk\n"
    "192.0.2.3 - - [30/Nov/2026:10:00:00 +0000] \"GET /new HTTP/1.1\" 200 1\n";

static void
old_mtime(const char *name)
{
    struct timespec ts[2] = {{1000000000, 0}, {1000000000, 0}};
    char p[512];

    path_of(p, sizeof(p), name);
    utimensat(AT_FDCWD, p, ts, 0);
}

static void
test_pruner(void)
{
    const int64_t now = 1796126400; /* 2026-12-01T12:00:00Z */
    const char *paths[2];
    char p1[512], p2[512], state[512];
    struct seen s;
    ret_pruner *pr = NULL;
    ret_policy *p = NULL;
    const ret_category *c;
    ret_error err;
    char *text;

    path_of(state, sizeof(state), "pstate");
    if (ret_policy_adhoc_files("common", 90 * 86400, 7 * 86400, 0, state, &p,
                               &err) != RET_OK) {
        ok(0, "ad hoc policy: %s", err.message);
        return;
    }
    c = ret_policy_category(p, 0);
    write_file("a.log", log_text);
    old_mtime("a.log");
    path_of(p1, sizeof(p1), "a.log");
    paths[0] = p1;

    is_int(ret_pruner_new(p, &pr, &err), RET_OK, "a pruner");
    memset(&s, 0, sizeof(s));
    ret_pruner_set_now(pr, now);
    ret_pruner_set_callback(pr, on_report, &s);
    ret_pruner_set_flags(pr, RET_PRUNE_DRY_RUN);
    is_int(ret_prune_files(pr, c, NULL, paths, 1, &err), RET_OK, "dry run");
    is_int(s.n, 1, "one report");
    is_int(s.last.outcome, RET_PRUNE_REWRITTEN, "the file would be rewritten");
    ok(s.last.dry_run, "marked as a dry run");
    is_int(s.last.lines, 4, "4 lines read");
    is_int(s.last.dropped, 1, "1 dropped");
    is_int(s.last.anonymized, 1, "1 anonymized");
    is_int(s.last.untimed, 1, "1 without a time");
    is_int(s.last.kept, 3, "3 kept");
    is_int(s.last.oldest, 1785578400, "oldest record time");
    is_int(s.last.limit, 90 * 86400, "the limit");
    is_str(read_file("a.log"), log_text, "the dry run wrote nothing");
    ok(access(state, F_OK) != 0, "not even the state directory");

    ret_pruner_set_flags(pr, 0);
    s.n = 0;
    is_int(ret_prune_files(pr, c, NULL, paths, 1, &err), RET_OK, "real run");
    is_int(s.last.outcome, RET_PRUNE_REWRITTEN, "rewritten");
    ok(!s.last.dry_run, "not a dry run");
    text = read_file("a.log");
    ok(text != NULL && strstr(text, "/old") == NULL &&
           strstr(text, "192.0.2.0 - - [20/Nov") != NULL &&
           strstr(text, "junk\n") != NULL &&
           strstr(text, "192.0.2.3 - - [30/Nov") != NULL,
       "expired line gone, due line anonymized, the others kept");
    text = read_file("pstate/audit.log");
    ok(text != NULL && strstr(text, "\"action\":\"rewrite\"") != NULL &&
           strstr(text, "\"dropped\":1") != NULL &&
           strstr(text, "192.0.2") == NULL,
       "the audit trail has the action, no address");

    is_int(ret_prune_files(pr, c, "no-such-format-%{", paths, 1, &err),
           RET_E_FORMAT, "a bad format is an error of the call");

    /* Deferred live file. */
    write_file("live.log", log_text);
    path_of(p2, sizeof(p2), "live.log");
    paths[0] = p2;
    s.n = 0;
    is_int(ret_prune_files(pr, c, NULL, paths, 1, &err), RET_E_DEFERRED,
           "a live file is deferred");
    is_int(s.last.outcome, RET_PRUNE_DEFERRED, "reported as deferred");
    ok(s.last.message != NULL || strstr(err.message, "1 source") != NULL,
       "with a message: %s", err.message);
    is_str(read_file("live.log"), log_text, "and not touched");
    ret_pruner_set_live_age(pr, 0);

    /* The run time limit stops between two files. */
    write_file("b.log", log_text);
    write_file("c.log", log_text);
    old_mtime("b.log");
    old_mtime("c.log");
    path_of(p1, sizeof(p1), "b.log");
    path_of(p2, sizeof(p2), "c.log");
    paths[0] = p1;
    paths[1] = p2;
    ret_pruner_free(pr);
    pr = NULL;
    if (ret_pruner_new(p, &pr, &err) != RET_OK)
        abort();
    ret_pruner_set_now(pr, now);
    ret_pruner_set_callback(pr, on_report, &s);
    ret_pruner_set_max_runtime(pr, 1);
    s.n = 0;
    s.sleep_ms = 1100;
    is_int(ret_prune_files(pr, c, NULL, paths, 2, &err), RET_E_TIMEOUT,
           "--max-runtime stops the run");
    is_int(s.n, 1, "after the first file");
    ok(strstr(s.source, "b.log") != NULL, "which was b.log");
    ok(strstr(err.message, "1 left") != NULL,
       "the message says what is left: %s", err.message);
    is_str(read_file("c.log"), log_text, "the second file is untouched");
    s.sleep_ms = 0;

    ret_pruner_free(pr);
    ret_policy_free(p);
    is_str(ret_prune_outcome_name(RET_PRUNE_DELETED), "delete", "outcome name");
    is_str(ret_prune_outcome_name((ret_prune_outcome)99), "unknown",
           "unknown outcome name");
}

int
main(void)
{
    char cmd[300];
    int rc;

    snprintf(dir, sizeof(dir), "%s/prune-t.XXXXXX",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(dir) == NULL)
        return 1;
    test_json();
    test_safe();
    test_lock();
    test_adhoc();
    test_pruner();
    rc = done_testing();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        diag("could not remove %s", dir);
    return rc;
}
