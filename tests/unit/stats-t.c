/* stats-t.c - statistics ingest, idempotency, visitors, flows, reports. */
#include "internal.h"

#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "../tap.h"

#define FMT                                                                    \
    "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\" "            \
    "\"%{DNT}i\""
#define BASE_DAY 20600 /* 2026-05-27 */
#define NDAYS 3
#define NLINES 6000

static const char *const pages[] = {"/", "/kontakt", "/strom/tarife",
                                    "/gas/tarife", "/presse", "/impressum",
                                    "/css/site.css", "/missing"};
static const char *const agents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, "
    "like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/"
    "605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1"};
#define NPAGES 8
#define NVIS 97

struct truth {
    uint64_t requests, bytes;
    uint64_t day_req[NDAYS];
    uint64_t status[600];
    uint64_t page[NPAGES];
    uint64_t entry[NPAGES], exitp[NPAGES], trans[NPAGES][NPAGES];
    unsigned visitors[NDAYS];
};

struct vstate {
    int open;
    int64_t last, day;
    int page;
};

static char *
gen_log(struct truth *t, size_t *len)
{
    static const int statuses[] = {200, 200, 200, 304, 404, 301, 500, 200};
    size_t cap = NLINES * 300, n = 0, i;
    char *buf = malloc(cap);
    struct vstate vs[NVIS * 3];
    unsigned char seen[NDAYS][NVIS * 3];
    unsigned seed = 12345;
    int v, p, a;

    memset(t, 0, sizeof(*t));
    memset(vs, 0, sizeof(vs));
    memset(seen, 0, sizeof(seen));
    for (i = 0; i < NLINES; i++) {
        int64_t tm = (int64_t)BASE_DAY * 86400 +
                     (int64_t)i * (NDAYS * 86400) / NLINES;
        int64_t day = tm / 86400 - BASE_DAY;
        int hh = (int)(tm % 86400 / 3600), mi = (int)(tm % 3600 / 60),
            ss = (int)(tm % 60);
        int st, dnt, bytes, vk;
        unsigned d = (unsigned)(tm / 86400 - BASE_DAY) + 27;
        seed = seed * 1103515245u + 12345u;
        v = (int)((i / 4) % NVIS);
        a = (int)(i / 4 / NVIS) % 3;
        p = (int)((seed >> 16) % NPAGES);
        st = p == 7 ? 404 : statuses[(seed >> 8) % 8];
        if (st == 404 && p != 7)
            st = 200;
        bytes = st == 304 ? 0 : (int)((seed >> 4) % 5000) + 10;
        dnt = v % 7 == 0;
        n += (size_t)snprintf(
            buf + n, cap - n,
            "10.%d.%d.%d - - [%02u/May/2026:%02d:%02d:%02d +0000] "
            "\"GET %s HTTP/1.1\" %d %d \"https://www.Example.org:8443/x?q=1\" "
            "\"%s\" \"%s\"\n",
            v / 50, v % 50, 7 + v, d, hh, mi, ss, pages[p], st, bytes,
            agents[a], dnt ? "1" : "-");
        t->requests++;
        t->bytes += (uint64_t)bytes;
        t->day_req[day]++;
        t->status[st]++;
        t->page[p]++;
        vk = v * 3 + a;
        if (!dnt && !seen[day][vk]) {
            seen[day][vk] = 1;
            t->visitors[day]++;
        }
        /* flows: GET, 2xx/304, not an asset, not opted out; a visitor
         * is address + agent + day; 30 minutes of silence end a visit */
        if (!dnt && ((st >= 200 && st < 300) || st == 304) && p != 6) {
            struct vstate *s = &vs[vk];
            if (s->open && (s->day != day || tm - s->last > 1800)) {
                t->exitp[s->page]++;
                s->open = 0;
            }
            if (!s->open) {
                s->open = 1;
                s->day = day;
                t->entry[p]++;
            } else if (s->page != p) {
                t->trans[s->page][p]++;
            }
            s->page = p;
            s->last = tm;
        }
    }
    for (v = 0; v < NVIS * 3; v++)
        if (vs[v].open)
            t->exitp[vs[v].page]++;
    *len = n;
    return buf;
}

struct sbuf {
    char *p;
    size_t n, cap;
};

static ret_status
to_buf(void *ctx, const char *data, size_t len)
{
    struct sbuf *b = ctx;

    if (b->n + len + 1 > b->cap) {
        b->cap = (b->n + len + 1) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, data, len);
    b->n += len;
    b->p[b->n] = '\0';
    return RET_OK;
}

static char *
report(ret_stats *s, ret_report_format f, unsigned top, uint64_t min)
{
    ret_report_options o;
    struct sbuf b = {NULL, 0, 0};
    ret_error err;

    ret_report_options_init(&o);
    o.format = f;
    o.top = top;
    o.min_count = min;
    if (ret_stats_report(s, &o, to_buf, &b, &err) != RET_OK) {
        diag("report: %s", err.message);
        free(b.p);
        return NULL;
    }
    return b.p;
}

static ret_status
ingest_mem(ret_stats *s, const char *data, size_t len, ret_error *err)
{
    ret_reader *r;
    ret_status st = ret_reader_open_mem(data, len, "mem", &r, err);

    if (st != RET_OK)
        return st;
    st = ret_stats_ingest_reader(s, r, FMT, NULL, err);
    ret_reader_free(r);
    return st;
}

static uint64_t
json_hits(const char *json, const char *list, const char *key)
{
    char pat[256];
    const char *l, *p;

    snprintf(pat, sizeof(pat), "\"%s\":[", list);
    l = strstr(json, pat);
    if (l == NULL)
        return UINT64_MAX;
    snprintf(pat, sizeof(pat), "{\"key\":\"%s\",\"hits\":", key);
    p = strstr(l, pat);
    if (p == NULL)
        return 0;
    return strtoull(p + strlen(pat), NULL, 10);
}

static uint64_t
json_trans(const char *json, const char *from, const char *to)
{
    char pat[256];
    const char *p;

    snprintf(pat, sizeof(pat), "{\"from\":\"%s\",\"to\":\"%s\",\"hits\":",
             from, to);
    p = strstr(json, pat);
    return p ? strtoull(p + strlen(pat), NULL, 10) : 0;
}

static uint64_t
json_num(const char *json, const char *after, const char *name)
{
    char pat[64];
    const char *p = strstr(json, after);

    if (p == NULL)
        return UINT64_MAX;
    snprintf(pat, sizeof(pat), "\"%s\":", name);
    p = strstr(p, pat);
    return p ? strtoull(p + strlen(pat), NULL, 10) : UINT64_MAX;
}

static char *
slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    char *b;
    long sz;

    *n = 0;
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = malloc((size_t)sz + 1);
    *n = fread(b, 1, (size_t)sz, f);
    fclose(f);
    return b;
}

static int
contains(const char *hay, size_t n, const char *needle)
{
    return memmem(hay, n, needle, strlen(needle)) != NULL;
}

static void
check_redact(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"/kunden/max.mustermann@example.com/profil", "/kunden/{email}/profil"},
        {"/u/max%40example.de", "/u/{email}"},
        {"/rechnung/12345678", "/rechnung/{num}"},
        {"/kunde/K-0012345/daten", "/kunde/K-{num}/daten"},
        {"/reset/3f2b8c9d0e1f2a3b4c5d", "/reset/{hex}"},
        {"/s/aB3dE5fG7hJ9kL1mN3pQ5", "/s/{token}"},
        {"/t/a8f5k2m9x0q1w7e3r6t4z", "/t/{token}"},
        {"/o/123e4567-e89b-12d3-a456-426614174000", "/o/{uuid}"},
        {"/presentations/logstash-monitorama-2013/x",
         "/presentations/logstash-monitorama-2013/x"},
        {"/blog/2026/energie-sparen", "/blog/2026/energie-sparen"},
        {"/", "/"},
    };
    ret__redact *r;
    ret_error err;
    size_t i, n;
    const char *o;

    is_int(ret__redact_new(&r, &err), RET_OK, "redaction rules compile");
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[256];
        o = ret__redact_apply(r, cases[i].in, strlen(cases[i].in), &n);
        snprintf(buf, sizeof(buf), "%.*s", (int)n, o);
        is_str(buf, cases[i].out, "redact %s", cases[i].in);
    }
    is_int(ret__redact_add(r, "secret-[a-z]+", "{redacted}", &err), RET_OK,
           "a custom rule");
    o = ret__redact_apply(r, "/x/secret-abc/y", 15, &n);
    ok(n == 15 && memcmp(o, "/x/{redacted}/y", 15) == 0, "custom rule applies");
    ok(ret__redact_add(r, "([", "x", &err) == RET_E_INVAL,
       "a bad rule is refused");
    ret__redact_free(r);
}

/* Ingests data; returns the lines counted (UINT64_MAX on failure). */
static uint64_t
ingest_count(ret_stats *s, const char *data, size_t len)
{
    ret_error err;
    uint64_t c = UINT64_MAX;

    if (ingest_mem(s, data, len, &err) != RET_OK)
        diag("ingest: %s", err.message);
    else
        ret_stats_last_ingest(s, &c, NULL, NULL);
    return c;
}

/*
 * A pruned copy of a counted log (its head dropped, the last octet of
 * every address zeroed, as prune writes it) is new content to an ingest;
 * marked with ret_stats_mark_ingested it is known as counted, plain or
 * gzipped, and only lines added to it later are counted.
 */
static void
check_mark(const char *dir, const char *log, size_t len)
{
    char db[256], ctl[256], gz[256];
    ret_stats *s = NULL, *c2 = NULL;
    ret_reader *r = NULL;
    ret_error err;
    size_t pos = 0, n = 0, kept = 0, skip = 0, extra;
    char *cp = malloc(len + 1), *raw;
    uint64_t sk;
    gzFile g;

    snprintf(db, sizeof(db), "%s/mark.db", dir);
    snprintf(ctl, sizeof(ctl), "%s/mark-control.db", dir);
    snprintf(gz, sizeof(gz), "%s/pruned.log.gz", dir);
    /* drop the first 1000 lines, mask the client address of the others */
    while (pos < len) {
        const char *l = log + pos, *nl = memchr(l, '\n', len - pos);
        size_t ll = (size_t)(nl - l) + 1, sp = (size_t)(strchr(l, ' ') - l);
        size_t dot = sp;
        pos += ll;
        if (skip++ < 1000)
            continue;
        while (dot > 0 && l[dot - 1] != '.')
            dot--;
        memcpy(cp + n, l, dot);
        n += dot;
        cp[n++] = '0';
        memcpy(cp + n, l + sp, ll - sp);
        n += ll - sp;
        kept++;
    }
    is_int(kept, NLINES - 1000, "a pruned copy of %zu lines", kept);

    /* without the mark, the copy is counted again: the test means it */
    is_int(ret_stats_open(ctl, &c2, &err), RET_OK, "a control database");
    ret_stats_set_option(c2, "now", "2026-05-30T12:00:00Z", &err);
    is_int(ingest_count(c2, log, len), NLINES, "control: the log counted");
    ok(ingest_count(c2, cp, n) > 0, "control: an unmarked copy counts again");
    ret_stats_close(c2);

    is_int(ret_stats_open(db, &s, &err), RET_OK, "open a database to mark");
    ret_stats_set_option(s, "now", "2026-05-30T12:00:00Z", &err);
    is_int(ingest_count(s, log, len), NLINES, "the log counted");
    is_int(ret_reader_open_mem(cp, n, "pruned", &r, &err), RET_OK,
           "a reader on the copy");
    is_int(ret_stats_mark_ingested(s, r, FMT, &err), RET_OK,
           "ret_stats_mark_ingested");
    ret_reader_free(r);
    is_int(ingest_count(s, cp, n), 0, "the marked copy counts nothing");
    ret_stats_last_ingest(s, NULL, &sk, NULL);
    is_int(sk, kept, "every line of it is known as counted");
    g = gzopen(gz, "wb");
    gzwrite(g, cp, (unsigned)n);
    gzclose(g);
    is_int(ret_stats_ingest_file(s, gz, FMT, NULL, &err), RET_OK,
           "ingest the copy gzipped");
    ret_stats_last_ingest(s, &sk, NULL, NULL);
    is_int(sk, 0, "nor does its gzipped copy");
    is_int(ingest_count(s, log, len), 0, "nor the original again");
    /* the copy grown by two lines (taken from the log's head) */
    {
        const char *e1 = memchr(log, '\n', len);
        const char *e2 = memchr(e1 + 1, '\n', len - (size_t)(e1 + 1 - log));
        extra = (size_t)(e2 - log) + 1;
    }
    cp = realloc(cp, n + extra);
    memcpy(cp + n, log, extra);
    is_int(ingest_count(s, cp, n + extra), 2,
           "lines added to the copy are counted");
    ret_reader_open_mem("", 0, "empty", &r, &err);
    is_int(ret_stats_mark_ingested(s, r, FMT, &err), RET_OK,
           "an empty input marks nothing");
    ret_reader_free(r);
    is_int(ret_stats_mark_ingested(NULL, NULL, FMT, &err), RET_E_INVAL,
           "NULL is refused");
    ret_stats_close(s);
    raw = slurp(db, &n);
    ok(raw != NULL && !contains(raw, n, "10.0.") && !contains(raw, n, "10.1."),
       "no address in the database after marking");
    free(raw);
    free(cp);
}

int
main(void)
{
    char dir[] = "/tmp/stats-t.XXXXXX";
    char db1[256], db2[256], db3[256], db4[256], gz[256], path[300];
    struct truth t;
    size_t len, i, j, half;
    char *log, *json, *json2, *text, *csv, *html;
    ret_stats *s = NULL, *s2 = NULL;
    ret_error err;
    uint64_t c, sk, un;
    int bad;

    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(db1, sizeof(db1), "%s/a.db", dir);
    snprintf(db2, sizeof(db2), "%s/b.db", dir);
    snprintf(db3, sizeof(db3), "%s/c.db", dir);
    snprintf(db4, sizeof(db4), "%s/d.db", dir);
    snprintf(gz, sizeof(gz), "%s/access.log.1.gz", dir);
    log = gen_log(&t, &len);
    check_redact();

    is_int(ret_stats_open(db1, &s, &err), RET_OK, "open a new database");
    is_int(ret_stats_set_option(s, "now", "2026-05-30T12:00:00Z", &err),
           RET_OK, "set the clock");
    is_int(ingest_mem(s, log, len, &err), RET_OK, "ingest the log");
    ret_stats_last_ingest(s, &c, &sk, &un);
    is_int(c, NLINES, "every line counted");
    is_int(un, 0, "no line unparsed");
    json = report(s, RET_REPORT_JSON, 0, 0);
    ok(json != NULL, "JSON report");
    if (json == NULL)
        return done_testing();
    is_int(json_num(json, "\"totals\"", "requests"), t.requests,
           "total requests");
    is_int(json_num(json, "\"totals\"", "bytes"), t.bytes, "total bytes");
    for (i = 0; i < NDAYS; i++) {
        char d[64];
        snprintf(d, sizeof(d), "\"date\":\"2026-05-%02zu\"", 27 + i);
        is_int(json_num(json, d, "requests"), t.day_req[i],
               "requests of day %zu", i);
        ok(fabs((double)json_num(json, d, "visitors") - t.visitors[i]) <=
               0.02 * t.visitors[i] + 1,
           "visitors of day %zu: %llu, exact %u", i,
           (unsigned long long)json_num(json, d, "visitors"), t.visitors[i]);
    }
    bad = 0;
    for (i = 100; i < 600; i++) {
        char k[8];
        if (t.status[i] == 0)
            continue;
        snprintf(k, sizeof(k), "%zu", i);
        if (json_hits(json, "status", k) != t.status[i]) {
            diag("status %zu: %llu, expected %llu", i,
                 (unsigned long long)json_hits(json, "status", k),
                 (unsigned long long)t.status[i]);
            bad++;
        }
    }
    ok(!bad, "per-status counts exact");
    bad = 0;
    for (i = 0; i < NPAGES; i++)
        if (json_hits(json, "pages", pages[i]) != t.page[i])
            bad++;
    ok(!bad, "per-page counts exact");
    is_int(json_hits(json, "not_found", "/missing"), t.page[7],
           "404 pages counted");
    is_int(json_hits(json, "referrers", "www.example.org"), t.requests,
           "referrer reduced to its host, lower case");
    bad = 0;
    for (i = 0; i < NPAGES; i++) {
        if (json_hits(json, "entry_pages", pages[i]) != t.entry[i]) {
            diag("entry %s: %llu, expected %llu", pages[i],
                 (unsigned long long)json_hits(json, "entry_pages", pages[i]),
                 (unsigned long long)t.entry[i]);
            bad++;
        }
        if (json_hits(json, "exit_pages", pages[i]) != t.exitp[i]) {
            diag("exit %s: %llu, expected %llu", pages[i],
                 (unsigned long long)json_hits(json, "exit_pages", pages[i]),
                 (unsigned long long)t.exitp[i]);
            bad++;
        }
        for (j = 0; j < NPAGES; j++)
            if (json_trans(json, pages[i], pages[j]) != t.trans[i][j]) {
                diag("transition %s -> %s: %llu, expected %llu", pages[i],
                     pages[j],
                     (unsigned long long)json_trans(json, pages[i], pages[j]),
                     (unsigned long long)t.trans[i][j]);
                bad++;
            }
    }
    ok(!bad, "entry pages, exit pages and transitions exact");
    ok(json_hits(json, "browsers", "Chrome") > 0 &&
           json_hits(json, "os", "iOS") > 0 &&
           json_hits(json, "devices", "mobile") > 0,
       "browsers, os and devices counted");
    ok(json_hits(json, "hours", "00") > 0, "hours counted");
    ok(strstr(json, "10.0.7") == NULL && strstr(json, "Mozilla") == NULL,
       "no address or agent string in the report");

    /* idempotency: the same content again */
    is_int(ingest_mem(s, log, len, &err), RET_OK, "ingest the same log again");
    ret_stats_last_ingest(s, &c, &sk, &un);
    is_int(c, 0, "nothing counted twice");
    is_int(sk, NLINES, "all lines recognised as counted");
    json2 = report(s, RET_REPORT_JSON, 0, 0);
    is_str(json2, json, "the report is unchanged");
    free(json2);
    /* its gzipped copy (a rotated file) */
    {
        gzFile g = gzopen(gz, "wb");
        gzwrite(g, log, (unsigned)len);
        gzclose(g);
    }
    is_int(ret_stats_ingest_file(s, gz, FMT, NULL, &err), RET_OK,
           "ingest the gzipped copy");
    ret_stats_last_ingest(s, &c, &sk, &un);
    is_int(c, 0, "the gzipped copy adds nothing");
    json2 = report(s, RET_REPORT_JSON, 0, 0);
    is_str(json2, json, "the report is still unchanged");
    free(json2);

    /* a live file that grows, even in the middle of a line */
    is_int(ret_stats_open(db2, &s2, &err), RET_OK, "open a second database");
    half = len / 3 + 17; /* not at a line boundary */
    is_int(ingest_mem(s2, log, half, &err), RET_OK, "ingest a part");
    ret_stats_last_ingest(s2, &c, &sk, &un);
    ok(c > 0 && c < NLINES, "the complete lines counted (%llu)",
       (unsigned long long)c);
    is_int(ingest_mem(s2, log, len / 2, &err), RET_OK, "ingest more");
    is_int(ingest_mem(s2, log, len, &err), RET_OK, "ingest the whole");
    ret_stats_close(s2);
    s2 = NULL;
    ret_stats_open(db2, &s2, &err);
    json2 = report(s2, RET_REPORT_JSON, 0, 0);
    ok(json2 != NULL &&
           json_num(json2, "\"totals\"", "requests") == t.requests &&
           json_num(json2, "\"totals\"", "bytes") == t.bytes,
       "the grown file counts each line once");
    bad = 0;
    for (i = 0; i < NPAGES; i++)
        if (json_hits(json2, "pages", pages[i]) != t.page[i])
            bad++;
    ok(!bad, "pages of the grown file exact");
    free(json2);

    /* merge: two hosts */
    is_int(ret_stats_merge(s2, db1, &err), RET_OK, "merge another database");
    json2 = report(s2, RET_REPORT_JSON, 0, 0);
    is_int(json_num(json2, "\"totals\"", "requests"), 2 * t.requests,
           "merged requests add up");
    is_int(json_hits(json2, "pages", "/kontakt"), 2 * t.page[1],
           "merged pages add up");
    free(json2);
    ok(ret_stats_merge(s2, db1, &err) == RET_E_INVAL,
       "merging the same database twice is refused");
    ret_stats_close(s2);
    s2 = NULL;

    /* min-count and top fold into other */
    json2 = report(s, RET_REPORT_JSON, 2, 0);
    ok(strstr(json2, "{\"key\":\"other\"") != NULL, "--top folds into other");
    free(json2);
    json2 = report(s, RET_REPORT_JSON, 0, 1000000);
    is_int(json_hits(json2, "pages", "other"), t.requests,
           "--min-count folds every page into other");
    is_int(json_hits(json2, "pages", "/kontakt"), 0, "no row under the minimum");
    free(json2);

    /* text, csv and html exist and escape */
    text = report(s, RET_REPORT_TEXT, 10, 0);
    ok(text && strstr(text, "/strom/tarife") && strstr(text, "Pages"),
       "text report");
    csv = report(s, RET_REPORT_CSV, 10, 0);
    ok(csv && strstr(csv, "pages,\"/strom/tarife\",,"), "csv report");
    html = report(s, RET_REPORT_HTML, 10, 0);
    ok(html && strstr(html, "<svg") && strstr(html, "</html>") &&
           strstr(html, "<script") == NULL,
       "html report with charts, without scripts");
    free(text);
    free(csv);
    free(html);
    ret_stats_close(s);
    s = NULL;

    /* the database holds no address, full or truncated */
    {
        char *raw, *wal;
        size_t rn, wn;
        int found = 0;
        raw = slurp(db1, &rn);
        snprintf(path, sizeof(path), "%s-wal", db1);
        wal = slurp(path, &wn);
        for (i = 0; i < NVIS; i++) {
            char ip[32], net[32];
            snprintf(ip, sizeof(ip), "10.%zu.%zu.%zu", i / 50, i % 50, 7 + i);
            snprintf(net, sizeof(net), "10.%zu.%zu.", i / 50, i % 50);
            if (contains(raw, rn, ip) || contains(raw, rn, net) ||
                (wal && (contains(wal, wn, ip) || contains(wal, wn, net))))
                found++;
        }
        ok(rn > 0 && found == 0, "no address or /24 in the database files");
        free(raw);
        free(wal);
    }

    /* keys are destroyed 48 h after their day: the handle closed with
     * the clock at 2026-05-30T12:00Z, the next opens at the real time */
    {
        sqlite3 *db;
        sqlite3_stmt *q;
        int live = -1, late = -1;
        sqlite3_open(db1, &db);
        sqlite3_prepare_v2(db,
                           "SELECT count(*) FROM day_keys WHERE key IS NOT NULL",
                           -1, &q, NULL);
        if (sqlite3_step(q) == SQLITE_ROW)
            live = sqlite3_column_int(q, 0);
        sqlite3_finalize(q);
        sqlite3_close(db);
        is_int(live, 2, "the key of a day over 48 h old is destroyed");
        is_int(ret_stats_open(db1, &s, &err), RET_OK, "reopen");
        sqlite3_open(db1, &db);
        sqlite3_prepare_v2(db,
                           "SELECT count(*) FROM day_keys WHERE key IS NOT NULL",
                           -1, &q, NULL);
        if (sqlite3_step(q) == SQLITE_ROW)
            late = sqlite3_column_int(q, 0);
        sqlite3_finalize(q);
        sqlite3_close(db);
        is_int(late, 0, "all keys gone months later");
        {
            const char *l = "10.9.9.9 - - [27/May/2026:10:00:00 +0000] "
                            "\"GET /late HTTP/1.1\" 200 5 \"-\" \"x\" \"-\"\n";
            is_int(ingest_mem(s, l, strlen(l), &err), RET_OK,
                   "a late line of a day whose key is gone");
            json2 = report(s, RET_REPORT_JSON, 0, 0);
            is_int(json_num(json2, "\"totals\"", "requests"), t.requests + 1,
                   "the late line is counted");
            is_int(json_num(json2, "\"date\":\"2026-05-27\"", "visitors"),
                   json_num(json, "\"date\":\"2026-05-27\"", "visitors"),
                   "but not as a visitor: the key cannot be recreated");
            free(json2);
        }
        ret_stats_close(s);
        s = NULL;
    }

    /* 20000 distinct visitors on one day: estimate within 2 % */
    {
        size_t cap = 20000 * 120, n = 0;
        char *b = malloc(cap);
        double est;
        for (i = 0; i < 20000; i++)
            n += (size_t)snprintf(b + n, cap - n,
                                  "172.%zu.%zu.%zu - - [02/Jun/2026:10:00:00 "
                                  "+0000] \"GET / HTTP/1.1\" 200 5 \"-\" "
                                  "\"curl/8\" \"-\"\n",
                                  16 + i / 65536, i / 256 % 256, i % 256);
        is_int(ret_stats_open(db3, &s, &err), RET_OK, "open a third database");
        is_int(ingest_mem(s, b, n, &err), RET_OK, "ingest 20000 visitors");
        json2 = report(s, RET_REPORT_JSON, 0, 0);
        est = (double)json_num(json2, "\"totals\"", "visitors");
        diag("20000 visitors estimated as %.0f", est);
        ok(fabs(est - 20000) <= 400, "visitor estimate within 2%% (%.0f)", est);
        is_int(json_hits(json2, "crawlers", "curl"), 20000,
               "curl counted as a client");
        free(json2);
        ret_stats_close(s);
        s = NULL;
        free(b);
    }

    /* opted-out requests are counted, but not as visitors nor in flows */
    {
        const char *l =
            "192.0.2.1 - - [02/Jun/2026:10:00:00 +0000] \"GET /a HTTP/1.1\" "
            "200 5 \"-\" \"x\" \"1\"\n"
            "192.0.2.1 - - [02/Jun/2026:10:00:05 +0000] \"GET /b HTTP/1.1\" "
            "200 5 \"-\" \"x\" \"1\"\n";
        is_int(ret_stats_open(db4, &s, &err), RET_OK, "open a fourth database");
        is_int(ingest_mem(s, l, strlen(l), &err), RET_OK, "ingest opted-out");
        json2 = report(s, RET_REPORT_JSON, 0, 0);
        is_int(json_num(json2, "\"totals\"", "requests"), 2,
               "opted-out requests counted");
        is_int(json_num(json2, "\"totals\"", "visitors"), 0,
               "opted-out requests are no visitors");
        ok(strstr(json2, "\"entry_pages\":[]") &&
               strstr(json2, "\"transitions\":[]"),
           "opted-out requests are not in flows");
        free(json2);
        ret_stats_close(s);
    }

    check_mark(dir, log, len);

    free(json);
    free(log);
    snprintf(path, sizeof(path), "rm -rf '%s'", dir);
    if (system(path) != 0)
        diag("could not remove %s", dir);
    return done_testing();
}
