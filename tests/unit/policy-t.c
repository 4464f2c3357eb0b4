/*
 * policy-t.c - reading policies: the shipped examples and the sample of
 * DESIGN.md section 5, accessors, sources and rules, directories of
 * policies, file modes, hashes, error messages and the lifecycle text.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tap.h"

static char tmpdir[256];

static const char *
srcdir(void)
{
    const char *s = getenv("top_srcdir");

    return s != NULL ? s : ".";
}

/* Copies a file of the source tree to tmpdir with mode 0644 (a fresh
 * checkout may have any umask); returns the copy's path. */
static const char *
copy(const char *rel, const char *name, char *path, size_t size)
{
    char src[1024], buf[8192];
    FILE *in, *out;
    size_t n;

    snprintf(src, sizeof(src), "%s/%s", srcdir(), rel);
    snprintf(path, size, "%s/%s", tmpdir, name);
    if ((in = fopen(src, "rb")) == NULL || (out = fopen(path, "wb")) == NULL) {
        printf("# cannot copy %s: %s\n", src, strerror(errno));
        exit(99);
    }
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        fwrite(buf, 1, n, out);
    fclose(in);
    fclose(out);
    chmod(path, 0644);
    return path;
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "wb");

    if (f == NULL)
        exit(99);
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

static void
test_design_sample(void)
{
    char path[1024];
    ret_policy *p = NULL;
    const ret_category *c;
    const ret_source *s;
    ret_error err;
    int64_t eff;

    copy("tests/data/policy/design-sample.conf", "sample.conf", path,
         sizeof(path));
    is_int(ret_policy_load(path, &p, &err), RET_OK,
           "the sample of DESIGN.md section 5 loads as is");
    if (p == NULL) {
        diag("%s", err.message);
        return;
    }
    is_int(ret_policy_category_count(p), 3, "three categories");
    c = ret_policy_find(p, "web-access");
    ok(c != NULL, "web-access");
    is_str(ret_category_name(c), "web-access", "name");
    is_str(ret_category_description(c), "Nutzung der Website",
           "description");
    is_str(ret_category_controller(c), "Stadtwerke Bochum Netz GmbH",
           "controller");
    is_str(ret_category_version(c), "1.2", "version");
    is_str(ret_category_policy_name(c), "Datenschutzerklärung", "name");
    is_str(ret_category_state_dir(c), "/var/lib/retention", "state");
    is_int(ret_category_schedule(c), 86400, "daily");
    is_int(ret_category_statistics(c), 1, "statistics yes");
    ok(ret_category_geoip(c) == NULL, "no geoip");
    is_str(ret_category_policy_id(c), "sample", "policy id from the file");
    ok(ret_category_effective(c, &eff) == 1, "effective date");
    is_int(eff, 1512086400, "effective 2017-12-01");
    is_int(ret_category_source_count(c), 1, "one source");
    s = ret_category_source(c, 0);
    is_int(ret_source_type(s), RET_SOURCE_FILES, "files");
    is_str(ret_source_path(s), "/var/log/nginx/access.log*", "glob");
    is_str(ret_source_format(s), "combined", "format");
    ok(ret_source_table(s) == NULL, "no table for files");
    ok(ret_category_source(c, 1) == NULL, "past the last source: NULL");
    is_int(ret_category_rule_count(c), 2, "two rules");
    is_int(ret_rule_action(ret_category_rule(c, 0)), RET_ANONYMIZE,
           "rule 0 anonymizes");
    is_int(ret_rule_seconds(ret_category_rule(c, 0)), 7 * 86400, "after 7d");
    is_int(ret_rule_fields(ret_category_rule(c, 0)), 1u << RET_F_CLIENT,
           "client-ip");
    ok(ret_category_rule(c, 2) == NULL, "past the last rule: NULL");
    is_int(ret_rule_action(ret_category_rule(c, 1)), RET_DELETE,
           "rule 1 deletes");
    is_int(ret_rule_anchor(ret_category_rule(c, 1)), RET_ANCHOR_TIME,
           "from the record time");

    c = ret_policy_find(p, "sms");
    s = ret_category_source(c, 0);
    is_int(ret_source_type(s), RET_SOURCE_SQLITE, "sms: sqlite");
    is_str(ret_source_path(s), "/var/lib/portal/portal.db", "database");
    is_str(ret_source_table(s), "sms_log", "table");
    is_str(ret_source_column(s, RET_COL_TIME), "sent_at", "time column");
    is_str(ret_source_column(s, RET_COL_SUBJECT), "customer_no", "subject");
    is_str(ret_source_column(s, RET_COL_HOLD), "legal_hold", "hold");
    ok(ret_source_column(s, RET_COL_COMPLETED) == NULL, "no completed");
    ok(ret_source_format(s) == NULL, "no format for tables");
    is_int(ret_category_statistics(c), 0, "statistics default no");

    c = ret_policy_find(p, "contact-form");
    s = ret_category_source(c, 0);
    is_str(ret_source_column(s, RET_COL_COMPLETED), "closed_at", "completed");
    is_str(ret_source_column(s, RET_COL_RETAIN_UNTIL), "retain_until",
           "retain-until");
    is_int(ret_rule_anchor(ret_category_rule(c, 0)), RET_ANCHOR_COMPLETION,
           "delete after completion");
    ok(ret_policy_find(p, "nothing") == NULL, "unknown category: NULL");
    ok(ret_policy_find(p, "sample/sms") == ret_policy_find(p, "sms"),
           "qualified name policy-id/category");
    ok(ret_policy_find(p, "other/sms") == NULL, "wrong policy id");
    is_int(strlen(ret_policy_hash(p)), 64, "hash: 64 hex digits");
    ret_policy_free(p);
    ret_policy_free(NULL);
}

static void
test_examples(void)
{
    static const char *const files[] = {"stadtwerke-bochum-netz.conf",
                                        "stadtwerke-bochum.conf"};
    static const char *const netz[] = {"web-access", "web-analytics",
                                       "installer-portal", "contact-form"};
    static const char *const sw[] = {"web-access", "web-analytics",
                                     "customer-portal", "sms",
                                     "contact-form", "callback"};
    char path[1024], rel[256], dir[300];
    ret_policy *p = NULL;
    ret_error err;
    size_t i, k;

    for (k = 0; k < 2; k++) {
        const char *const *names = k == 0 ? netz : sw;
        size_t n = k == 0 ? 4 : 6;

        snprintf(rel, sizeof(rel), "examples/%s", files[k]);
        copy(rel, files[k], path, sizeof(path));
        is_int(ret_policy_load(path, &p, &err), RET_OK, "%s loads",
               files[k]);
        if (p == NULL) {
            diag("%s", err.message);
            continue;
        }
        is_int(ret_policy_category_count(p), n, "%s: %zu categories",
               files[k], n);
        for (i = 0; i < n; i++)
            is_str(ret_category_name(ret_policy_category(p, i)), names[i],
                   "%s: category %zu", files[k], i);
        is_str(ret_category_controller(ret_policy_category(p, 0)),
               k == 0 ? "Stadtwerke Bochum Netz GmbH"
                      : "Stadtwerke Bochum GmbH",
               "controller");
        is_str(ret_category_version(ret_policy_category(p, 0)),
               k == 0 ? "1.2" : "1.3", "version");
        ret_policy_free(p);
        p = NULL;
    }
    /* Both as a directory: one policy each, categories keep theirs. */
    snprintf(dir, sizeof(dir), "%s/d", tmpdir);
    mkdir(dir, 0755);
    copy("examples/stadtwerke-bochum-netz.conf", "d/a-netz.conf", path,
         sizeof(path));
    copy("examples/stadtwerke-bochum.conf", "d/b-utility.conf", path,
         sizeof(path));
    snprintf(path, sizeof(path), "%s/README", dir);
    write_file(path, "not a policy\n", 0644);
    is_int(ret_policy_load(dir, &p, &err), RET_OK, "a directory loads");
    if (p != NULL) {
        const ret_category *a = ret_policy_find(p, "a-netz/sms");
        const ret_category *b = ret_policy_find(p, "b-utility/sms");
        const ret_category *w1 = ret_policy_find(p, "a-netz/web-access");
        const ret_category *w2 = ret_policy_find(p, "b-utility/web-access");

        is_int(ret_policy_category_count(p), 10, "ten categories in all");
        ok(a == NULL && b != NULL, "sms only in the utility's policy");
        ok(w1 && w2 && w1 != w2, "web-access in both");
        is_str(ret_category_controller(w1), "Stadtwerke Bochum Netz GmbH",
               "first policy's controller");
        is_str(ret_category_controller(w2), "Stadtwerke Bochum GmbH",
               "second policy's controller");
        ok(ret_policy_find(p, "web-access") == w1,
           "an unqualified name finds the first in file order");
        ret_policy_free(p);
        p = NULL;
    }
    /* A file writable by others in it: refused. */
    snprintf(path, sizeof(path), "%s/b-utility.conf", dir);
    chmod(path, 0664);
    is_int(ret_policy_load(dir, &p, &err), RET_E_UNSAFE,
           "a group-writable policy in the directory is refused");
    ok(p == NULL, "nothing returned");
    ok(strstr(err.message, "b-utility.conf: refusing a policy writable by "
              "group or others") != NULL,
       "message names the file");
    chmod(path, 0666);
    is_int(ret_policy_load(path, &p, &err), RET_E_UNSAFE,
           "a world-writable policy file is refused");
    chmod(path, 0600);
    is_int(ret_policy_load(path, &p, &err), RET_OK, "mode 0600 is fine");
    ret_policy_free(p);
    p = NULL;
    snprintf(path, sizeof(path), "%s/empty", tmpdir);
    mkdir(path, 0755);
    is_int(ret_policy_load(path, &p, &err), RET_E_POLICY,
           "an empty directory is an error");
    snprintf(path, sizeof(path), "%s/missing.conf", tmpdir);
    is_int(ret_policy_load(path, &p, &err), RET_E_NOTFOUND,
           "a missing file: NOTFOUND");
    ok(p == NULL, "out untouched on failure");
}

static const char good[] = "policy {\n controller \"C\"\n version 1\n}\n"
                           "category a {\n delete after 90d\n}\n";

static void
test_parse_api(void)
{
    ret_policy *p = NULL, *q = NULL;
    ret_error err;
    char hash[65];

    is_int(ret_policy_parse(good, strlen(good), "g.conf", &p, &err), RET_OK,
           "minimal policy");
    is_str(ret_category_policy_id(ret_policy_category(p, 0)), "g",
           "policy id");
    is_str(ret_category_location(ret_policy_category(p, 0)), "g.conf:5",
           "category location");
    is_str(ret_rule_location(ret_category_rule(ret_policy_category(p, 0), 0)),
           "g.conf:6", "rule location");
    is_str(ret_category_state_dir(ret_policy_category(p, 0)),
           "/var/lib/retention", "default state directory");
    is_int(ret_category_schedule(ret_policy_category(p, 0)), 86400,
           "default schedule daily");
    is_int(ret_category_hold(ret_policy_category(p, 0)), RET_HOLD_RESTRICT,
           "default hold restrict");
    ok(ret_category_effective(ret_policy_category(p, 0), NULL) == 0,
       "no effective date");
    snprintf(hash, sizeof(hash), "%s", ret_policy_hash(p));
    ret_policy_parse(good, strlen(good), "other-name.conf", &q, &err);
    is_str(ret_policy_hash(q), hash, "the hash is of the text");
    ret_policy_free(q);
    q = NULL;
    ret_policy_parse(good, strlen(good) - 5, "g.conf", &q, &err);
    ok(q == NULL, "truncated text does not parse");
    {
        static const char other[] =
            "policy {\n controller \"C\"\n version 1\n}\n"
            "category a {\n delete after 91d\n}\n";

        ret_policy_parse(other, strlen(other), "g.conf", &q, &err);
        ok(q && strcmp(ret_policy_hash(q), hash) != 0,
           "another text, another hash");
        ret_policy_free(q);
    }
    {
        /* SHA-256 of the empty string is well known; the hash is of the
         * text, so one empty-line policy can't be checked: check "abc". */
        static const char abc[] = "policy {\n controller \"C\"\n version 1\n}"
                                  "\ncategory a {\n delete after 90d\n}\n";

        ret_policy_parse(abc, strlen(abc), "x", &q, &err);
        ok(q != NULL && strlen(ret_policy_hash(q)) == 64, "hash of a policy");
        ret_policy_free(q);
    }
    ret_policy_free(p);
    is_int(ret_policy_parse(NULL, 3, "x", &p, &err), RET_E_INVAL,
           "NULL text");
    is_int(ret_policy_parse(good, strlen(good), "x", NULL, &err),
           RET_E_INVAL, "NULL out");
}

/* A few error messages straight from the library (the full table is in
 * tests/cli/policy.sh, through the program). */
static void
test_errors(void)
{
    static const struct {
        const char *text, *message;
    } cases[] = {
        {"policy {\n controller \"C\"\n version 1\n}\ncategory a {\n "
         "delet after 90d\n}\n",
         "e.conf:6:2: unknown key 'delet' (did you mean 'delete'?)"},
        {"policy {\n controller \"C\"\n version 1\n}\ncategory a {\n "
         "delete after 9q\n}\n",
         "e.conf:6:16: unknown duration unit 'q' in '9q' (use s, m, h, d, w "
         "or y)"},
        {"policy {\n controller \"C\"\n version 1\n}\ncategory a {\n "
         "delete after 90d\n}\ncategory a {\n delete after 9d\n}\n",
         "e.conf:8:10: duplicate category 'a' (first at line 5)"},
        {"policy {\n controller \"C\"\n version 1\n}\ncategory a {\n "
         "anonymize client-ip after 2y\n delete after 90d\n}\n",
         "e.conf:6:2: anonymize after is not before delete after (line 7): "
         "the record would be deleted first"},
        {"policy {\n controller \"C\"\n version 1\n}\ncategory a {\n "
         "delete after 18446744073709551616s\n}\n",
         "e.conf:6:15: duration '18446744073709551616s' is too large (at "
         "most 1000 years)"},
        {"policy {\n controller \"C\"\n version 1\n}\ncategory a {\n "
         "description \"x\"\n}\n",
         "e.conf:5:1: category 'a' has no delete rule (add 'delete after "
         "90d' or 'delete after completion')"},
        {"", "e.conf:1:1: no policy block (a policy file needs 'policy { "
             "controller \"...\" version 1.0 }')"},
        {"policy {\n controller \"Ä\"\n version 1\n}\ncategory ä {\n}\n",
         "e.conf:5:10: invalid category name 'ä' (letters, digits, '-', "
         "'_' and '.')"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ret_policy *p = (ret_policy *)&i;
        ret_error err;
        ret_status st;

        memset(&err, 0, sizeof(err));
        st = ret_policy_parse(cases[i].text, strlen(cases[i].text), "e.conf",
                              &p, &err);
        is_int(st, RET_E_POLICY, "error %zu: RET_E_POLICY", i);
        is_int(err.status, RET_E_POLICY, "error %zu: err.status", i);
        is_str(err.message, cases[i].message, "error %zu: message", i);
        ok(p == (ret_policy *)&i, "error %zu: out untouched", i);
    }
}

static void
test_grammar(void)
{
    static const char text[] =
        "# a comment\n"
        "policy {   # trailing comment\n"
        "    name \"Say \\\"hi\\\"\\\\\"\n"
        "    controller \"C\"\n"
        "    version 2.0-rc1\n"
        "    schedule hourly\n"
        "    geoip /usr/share/GeoIP/GeoLite2-Country.mmdb\n"
        "}\n"
        "category x.y_z-1 {\n"
        "    personal ip, referrer,\n"
        "             user agent\n"
        "    files /a/*.log /b/{x,y}.log \\\n"
        "          /c.log\n"
        "    format \"%h %l %u %t \\\"%r\\\" %>s %b\"\n"
        "    table sqlite:/db.sqlite t time=\"ts\" client-ip=ip completed=done\n"
        "    anonymize client-ip, forwarded-ip after 1w2d prefix 16/32 "
        "method hash\n"
        "    anonymize referrer,query after 1d\n"
        "    delete after 1y1d\n"
        "    delete after completion +3d\n"
        "    retain 6y\n"
        "    hold keep }\n";
    ret_policy *p = NULL;
    const ret_category *c;
    ret_error err;
    ret_decision d;
    ret_facts f = {0, 0, 0, 0};

    is_int(ret_policy_parse(text, strlen(text), "g.conf", &p, &err), RET_OK,
           "every construct parses");
    if (p == NULL) {
        diag("%s", err.message);
        return;
    }
    c = ret_policy_category(p, 0);
    is_str(ret_category_policy_name(c), "Say \"hi\"\\", "string escapes");
    is_str(ret_category_version(c), "2.0-rc1", "version text");
    is_int(ret_category_schedule(c), 3600, "hourly");
    is_str(ret_category_geoip(c), "/usr/share/GeoIP/GeoLite2-Country.mmdb",
           "geoip");
    is_str(ret_category_personal(c), "ip, referrer, user agent",
           "a list goes on after a comma");
    is_int(ret_category_source_count(c), 4, "three globs and a table");
    is_str(ret_source_path(ret_category_source(c, 1)), "/b/{x,y}.log",
           "braces in a glob");
    is_str(ret_source_path(ret_category_source(c, 2)), "/c.log",
           "backslash continues a line");
    is_str(ret_source_format(ret_category_source(c, 0)),
           "%h %l %u %t \"%r\" %>s %b", "a quoted LogFormat");
    is_str(ret_source_column(ret_category_source(c, 3), RET_COL_TIME), "ts",
           "role=\"column\"");
    is_str(ret_source_column(ret_category_source(c, 3), RET_COL_CLIENT_IP),
           "ip", "client-ip column");
    is_int(ret_category_hold(c), RET_HOLD_KEEP, "hold keep, '}' on its line");
    is_int(ret_rule_seconds(ret_category_rule(c, 0)), 9 * 86400, "1w2d");
    is_int(ret_rule_years(ret_category_rule(c, 2)), 1, "1y1d: years");
    is_int(ret_rule_seconds(ret_category_rule(c, 2)), 86400, "1y1d: days");
    is_int(ret_rule_seconds(ret_category_rule(c, 3)), 3 * 86400,
           "completion +3d");
    f.time = 0;
    ret_decide(c, &f, 30 * 86400, &d);
    is_int(d.action, RET_ANONYMIZE, "both anonymize rules due");
    is_int(d.fields,
           (1u << RET_F_CLIENT) | (1u << RET_F_XFF) | (1u << RET_F_REFERER) |
               (1u << RET_F_QUERY),
           "fields of both rules");
    is_int(d.method, RET_ANON_HASH, "method hash");
    is_int(d.ipv4_prefix, 16, "prefix 16");
    is_int(d.ipv6_prefix, 32, "prefix 32");
    ret_policy_free(p);
}

static void
test_explain(void)
{
    char path[1024], buf[2048], small[16];
    ret_policy *p = NULL;
    const ret_category *c;
    ret_error err;
    size_t n;

    copy("tests/data/policy/design-sample.conf", "sample.conf", path,
         sizeof(path));
    if (ret_policy_load(path, &p, &err) != RET_OK) {
        ok(0, "sample loads");
        return;
    }
    c = ret_policy_find(p, "web-access");
    n = ret_category_explain(c, buf, sizeof(buf));
    is_str(buf,
           "client IP kept 7 days, then truncated to /24 and /48 (by day 6 "
           "with the daily schedule); record deleted within 90 days (by day "
           "89 with the daily schedule); counted into the anonymous "
           "statistics before deletion.",
           "web-access in words");
    is_int(n, strlen(buf), "returns the length");
    is_int(ret_category_explain(c, NULL, 0), n, "length without a buffer");
    is_int(ret_category_explain(c, small, sizeof(small)), n,
           "a short buffer: the whole length");
    is_int(strlen(small), sizeof(small) - 1, "a short buffer: truncated");
    ret_category_explain(ret_policy_find(p, "sms"), buf, sizeof(buf));
    is_str(buf,
           "record deleted within 90 days (by day 89 with the daily "
           "schedule); a record under a legal hold is kept unaltered and "
           "never deleted: once due, it is restricted until the hold is "
           "released; not counted into the statistics.",
           "sms in words");
    ret_category_explain(ret_policy_find(p, "contact-form"), buf,
                         sizeof(buf));
    ok(strstr(buf, "record deleted once the request is completed") != NULL,
       "contact-form: completion");
    ok(strstr(buf, "restricted instead of deleted until that date") != NULL,
       "contact-form: retain-until");
    ret_policy_free(p);
    {
        static const char text[] =
            "policy {\n controller \"C\"\n version 1\n schedule none\n}\n"
            "category inv {\n table sqlite:/d t time=t completed=c\n"
            " anonymize referrer after 12h\n"
            " delete after completion + 30d\n retain 10y from end-of-year\n}\n";

        ret_policy_parse(text, strlen(text), "x", &p, &err);
        ret_category_explain(ret_policy_category(p, 0), buf, sizeof(buf));
        is_str(buf,
               "referrer kept 12 hours, then removed; record deleted within "
               "30 days after the request is completed; where a statutory "
               "retention applies, a record due for deletion is restricted "
               "instead (kept, not processed) until 10 years after the end "
               "of its calendar year, then deleted; not counted into the "
               "statistics.",
               "retention in words, no schedule");
        ret_policy_free(p);
    }
    is_str(ret_action_name(RET_DELETE), "delete", "action name");
    is_str(ret_action_name((ret_action)42), "unknown", "unknown action");
    is_str(ret_policy_field_name(RET_F_CLIENT), "client-ip", "field name");
    ok(ret_policy_field_name(RET_F_STATUS) == NULL, "status: no keyword");
    ok(ret_policy_field_name(RET_F__COUNT) == NULL, "out of range");
    is_str(ret_policy_method_name(RET_ANON_HASH), "hash", "method name");
}

int
main(void)
{
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

    snprintf(tmpdir, sizeof(tmpdir), "%s/policy-t.XXXXXX", base);
    if (mkdtemp(tmpdir) == NULL)
        return 99;
    test_design_sample();
    test_examples();
    test_parse_api();
    test_errors();
    test_grammar();
    test_explain();
    {
        char cmd[300];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            diag("could not remove %s", tmpdir);
    }
    return done_testing();
}
