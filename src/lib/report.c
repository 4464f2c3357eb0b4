/*
 * report.c - statistics reports: text, CSV, JSON (the stable shape of
 * DESIGN.md section 4) and one self-contained HTML file with inline SVG
 * charts. Everything that came from a log is escaped for its target:
 * control bytes in the terminal, quotes in CSV and JSON, markup in HTML.
 */
#include "internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats-int.h"

struct row {
    char *key;
    char *to; /* transitions */
    uint64_t hits, bytes;
};

struct list {
    const char *name;  /* database dimension and JSON key */
    const char *title; /* for people */
    bool json;         /* part of the stable JSON shape */
    struct row *v;
    size_t n, cap;
};

struct dayrow {
    int64_t day;
    uint64_t requests, bytes, unparsed, visitors;
};

enum {
    L_HOURS = 0,
    L_PAGES,
    L_NOTFOUND,
    L_STATUS,
    L_METHODS,
    L_PROTOCOLS,
    L_VHOSTS,
    L_REFERRERS,
    L_BROWSERS,
    L_OS,
    L_DEVICES,
    L_COUNTRIES,
    L_NETWORKS,
    L_CRAWLERS,
    L_ENTRY,
    L_EXIT,
    L_TRANSITIONS,
    L_COUNT
};

static const struct {
    const char *name, *title;
    bool json;
} list_defs[L_COUNT] = {
    {"hours", "Hours", true},
    {"pages", "Pages", true},
    {"not_found", "Not found (404)", true},
    {"status", "Status codes", true},
    {"methods", "Methods", true},
    {"protocols", "Protocols", false},
    {"vhosts", "Virtual hosts", false},
    {"referrers", "Referring sites", true},
    {"browsers", "Browsers", true},
    {"os", "Operating systems", true},
    {"devices", "Devices", true},
    {"countries", "Countries", true},
    {"networks", "Networks", false},
    {"crawlers", "Crawlers and clients", true},
    {"entry_pages", "Entry pages", true},
    {"exit_pages", "Exit pages", true},
    {"transitions", "Page transitions", true},
};

struct report {
    const ret_report_options *o;
    int64_t from_day, to_day; /* query range */
    int64_t first, last;      /* data range */
    bool have_data;
    uint64_t requests, bytes, unparsed, visitors;
    struct dayrow *days;
    size_t ndays, capdays;
    struct list lists[L_COUNT];
};

/* ---- output ---- */

struct out {
    ret_output_fn fn;
    void *ctx;
    ret_status st;
    size_t n;
    char buf[16384];
};

static void
out_flush(struct out *o)
{
    if (o->n > 0 && o->st == RET_OK)
        o->st = o->fn(o->ctx, o->buf, o->n);
    o->n = 0;
}

static void
put(struct out *o, const char *s, size_t n)
{
    if (o->st != RET_OK)
        return;
    while (n > 0) {
        size_t k = sizeof(o->buf) - o->n;
        if (k > n)
            k = n;
        memcpy(o->buf + o->n, s, k);
        o->n += k;
        s += k;
        n -= k;
        if (o->n == sizeof(o->buf))
            out_flush(o);
    }
}

static void
puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void putf(struct out *o, const char *fmt, ...) RET_PRINTF(2, 3);

static void
putf(struct out *o, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0)
        put(o, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* Length of the valid UTF-8 sequence at s (0 if invalid). */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
    size_t len, i;
    uint32_t cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
        cp = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        cp = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    /* C1 controls and bidi overrides are controls too */
    if ((cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
        (cp >= 0x2066 && cp <= 0x2069))
        return 0;
    return len;
}

/* Terminal: control bytes and invalid UTF-8 as \xNN; at most max
 * characters (0: all). */
static void
put_text(struct out *o, const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), chars = 0, l;
    char esc[8];

    while (n > 0) {
        if (max && chars >= max) {
            puts_(o, "...");
            return;
        }
        l = p[0] >= 0x20 && p[0] != 0x7f ? utf8_len(p, n) : 0;
        if (l == 0) {
            snprintf(esc, sizeof(esc), "\\x%02X", p[0]);
            puts_(o, esc);
            l = 1;
            chars += 3;
        } else if (p[0] == '\\') {
            puts_(o, "\\\\");
        } else {
            put(o, (const char *)p, l);
        }
        chars++;
        p += l;
        n -= l;
    }
}

static size_t
text_width(const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), w = 0, l;

    while (n > 0) {
        if (max && w >= max)
            return w + 3;
        l = p[0] >= 0x20 && p[0] != 0x7f ? utf8_len(p, n) : 0;
        if (l == 0) {
            w += 4;
            l = 1;
        } else {
            w += p[0] == '\\' ? 2 : 1;
        }
        p += l;
        n -= l;
    }
    return w;
}

static void
put_json_str(struct out *o, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), l;
    char esc[16];

    puts_(o, "\"");
    while (n > 0) {
        if (p[0] == '"' || p[0] == '\\') {
            esc[0] = '\\';
            esc[1] = (char)p[0];
            put(o, esc, 2);
            l = 1;
        } else if (p[0] < 0x20 || p[0] == 0x7f) {
            snprintf(esc, sizeof(esc), "\\u%04x", p[0]);
            puts_(o, esc);
            l = 1;
        } else if ((l = utf8_len(p, n)) == 0) {
            /* not UTF-8: keep the byte visible, stay valid JSON */
            snprintf(esc, sizeof(esc), "\\\\x%02X", p[0]);
            puts_(o, esc);
            l = 1;
        } else {
            put(o, (const char *)p, l);
        }
        p += l;
        n -= l;
    }
    puts_(o, "\"");
}

/* One character of p[0..n) as it is, or a control byte or a byte that
 * is not UTF-8 as "\xHH"; returns the bytes taken. */
static size_t
put_visible(struct out *o, const unsigned char *p, size_t n)
{
    char esc[8];
    size_t l;

    if (p[0] < 0x20 || p[0] == 0x7f || (l = utf8_len(p, n)) == 0) {
        snprintf(esc, sizeof(esc), "\\x%02X", p[0]);
        puts_(o, esc);
        return 1;
    }
    put(o, (const char *)p, l);
    return l;
}

static void
put_html(struct out *o, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), l;

    while (n > 0) {
        l = 1;
        switch (p[0]) {
        case '&': puts_(o, "&amp;"); break;
        case '<': puts_(o, "&lt;"); break;
        case '>': puts_(o, "&gt;"); break;
        case '"': puts_(o, "&quot;"); break;
        case '\'': puts_(o, "&#39;"); break;
        default: l = put_visible(o, p, n); break;
        }
        p += l;
        n -= l;
    }
}

static void
put_csv(struct out *o, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), l;

    puts_(o, "\"");
    /* a cell starting like a formula is not run by a spreadsheet */
    if (p[0] == '=' || p[0] == '+' || p[0] == '-' || p[0] == '@')
        puts_(o, "'");
    while (n > 0) {
        if (p[0] == '"') {
            puts_(o, "\"\"");
            l = 1;
        } else {
            l = put_visible(o, p, n);
        }
        p += l;
        n -= l;
    }
    puts_(o, "\"");
}

static void
date_str(int64_t day, char buf[16])
{
    int64_t y;
    unsigned m, d;

    ret__civil_from_days(day, &y, &m, &d);
    snprintf(buf, 16, "%04" PRId64 "-%02u-%02u", y, m, d);
}

static void
human(uint64_t v, char *buf, size_t size)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB",
                                        "PiB"};
    double d = (double)v;
    int u = 0;

    while (d >= 1024 && u < 5) {
        d /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, size, "%" PRIu64 " B", v);
    else
        snprintf(buf, size, "%.1f %s", d, units[u]);
}

/* ---- loading ---- */

static bool
list_push(struct list *l, const char *key, const char *to, uint64_t hits,
          uint64_t bytes)
{
    struct row *r;

    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        struct row *v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL)
            return false;
        l->v = v;
        l->cap = cap;
    }
    r = &l->v[l->n];
    r->key = strdup(key);
    r->to = to ? strdup(to) : NULL;
    if (r->key == NULL || (to != NULL && r->to == NULL)) {
        free(r->key);
        free(r->to);
        return false;
    }
    r->hits = hits;
    r->bytes = bytes;
    l->n++;
    return true;
}

static void
report_free(struct report *r)
{
    size_t i, j;

    for (i = 0; i < L_COUNT; i++) {
        for (j = 0; j < r->lists[i].n; j++) {
            free(r->lists[i].v[j].key);
            free(r->lists[i].v[j].to);
        }
        free(r->lists[i].v);
    }
    free(r->days);
}

static const char *
col_text(sqlite3_stmt *q, int c)
{
    const unsigned char *t = sqlite3_column_text(q, c);

    return t ? (const char *)t : "";
}

/* Folds rows beyond top or under min_count into one "other" row kept in
 * its sorted place. Rows come sorted by hits, descending. */
static bool
fold(struct list *l, unsigned top, uint64_t min_count)
{
    size_t i, keep = 0;
    uint64_t oh = 0, ob = 0;
    bool folded = false;

    for (i = 0; i < l->n; i++) {
        struct row *r = &l->v[i];
        if ((top == 0 || keep < top) && r->hits >= min_count &&
            !(r->hits == 0)) {
            l->v[keep++] = *r;
        } else {
            oh += r->hits;
            ob += r->bytes;
            free(r->key);
            free(r->to);
            folded = true;
        }
    }
    l->n = keep;
    if (folded && oh > 0) {
        size_t pos;
        if (!list_push(l, "other", l->name == list_defs[L_TRANSITIONS].name
                                       ? "other"
                                       : NULL,
                       oh, ob))
            return false;
        /* move it to its place */
        for (pos = l->n - 1; pos > 0 && l->v[pos - 1].hits < oh; pos--) {
            struct row t = l->v[pos];
            l->v[pos] = l->v[pos - 1];
            l->v[pos - 1] = t;
        }
    }
    return true;
}

static int
cmp_hour(const void *a, const void *b)
{
    return strcmp(((const struct row *)a)->key, ((const struct row *)b)->key);
}

static ret_status
load(ret_stats *s, struct report *r, ret_error *err)
{
    sqlite3 *db = ret__stats_db(s);
    sqlite3_stmt *q = NULL;
    ret_status st = RET_OK;
    ret__hll all, one;
    bool any_hll = false;
    int rc;
    size_t i;
    const char *site = r->o->site;

    ret__hll_init(&all);
    /* days: one row per day over the sites, visitor sketches united */
    if (sqlite3_prepare_v2(db,
                           "SELECT day, requests, bytes, unparsed, visitors"
                           " FROM days WHERE day BETWEEN ?1 AND ?2 AND"
                           " (?3 IS NULL OR site = ?3) ORDER BY day",
                           -1, &q, NULL) != SQLITE_OK)
        goto dberr;
    sqlite3_bind_int64(q, 1, r->from_day);
    sqlite3_bind_int64(q, 2, r->to_day);
    if (site)
        sqlite3_bind_text(q, 3, site, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 3);
    ret__hll_init(&one);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t day = sqlite3_column_int64(q, 0);
        struct dayrow *d;
        ret__hll h;
        if (r->ndays == 0 || r->days[r->ndays - 1].day != day) {
            if (r->ndays > 0) {
                r->days[r->ndays - 1].visitors = ret__hll_count(&one);
                ret__hll_init(&one);
            }
            if (r->ndays == r->capdays) {
                size_t cap = r->capdays ? r->capdays * 2 : 64;
                struct dayrow *v = realloc(r->days, cap * sizeof(*v));
                if (v == NULL)
                    goto nomem;
                r->days = v;
                r->capdays = cap;
            }
            d = &r->days[r->ndays++];
            memset(d, 0, sizeof(*d));
            d->day = day;
        }
        d = &r->days[r->ndays - 1];
        d->requests += (uint64_t)sqlite3_column_int64(q, 1);
        d->bytes += (uint64_t)sqlite3_column_int64(q, 2);
        d->unparsed += (uint64_t)sqlite3_column_int64(q, 3);
        if (sqlite3_column_type(q, 4) == SQLITE_BLOB &&
            ret__hll_load(&h, sqlite3_column_blob(q, 4),
                          (size_t)sqlite3_column_bytes(q, 4))) {
            ret__hll_merge(&one, &h);
            ret__hll_merge(&all, &h);
            any_hll = true;
        }
    }
    if (rc != SQLITE_DONE)
        goto dberr;
    if (r->ndays > 0)
        r->days[r->ndays - 1].visitors = ret__hll_count(&one);
    sqlite3_finalize(q);
    q = NULL;
    for (i = 0; i < r->ndays; i++) {
        r->requests += r->days[i].requests;
        r->bytes += r->days[i].bytes;
        r->unparsed += r->days[i].unparsed;
    }
    r->visitors = any_hll ? ret__hll_count(&all) : 0;
    if (r->ndays > 0) {
        r->have_data = true;
        r->first = r->days[0].day;
        r->last = r->days[r->ndays - 1].day;
    }
    /* the lists */
    if (sqlite3_prepare_v2(db,
                           "SELECT key, sum(hits), sum(bytes) FROM counts"
                           " WHERE dim = ?4 AND day BETWEEN ?1 AND ?2 AND"
                           " (?3 IS NULL OR site = ?3) GROUP BY key"
                           " ORDER BY 2 DESC, key",
                           -1, &q, NULL) != SQLITE_OK)
        goto dberr;
    for (i = 0; i < L_COUNT; i++) {
        struct list *l = &r->lists[i];
        if (i == L_TRANSITIONS)
            continue;
        sqlite3_reset(q);
        sqlite3_bind_int64(q, 1, r->from_day);
        sqlite3_bind_int64(q, 2, r->to_day);
        if (site)
            sqlite3_bind_text(q, 3, site, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(q, 3);
        sqlite3_bind_text(q, 4, l->name, -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(q)) == SQLITE_ROW)
            if (!list_push(l, col_text(q, 0), NULL,
                           (uint64_t)sqlite3_column_int64(q, 1),
                           (uint64_t)sqlite3_column_int64(q, 2)))
                goto nomem;
        if (rc != SQLITE_DONE)
            goto dberr;
    }
    sqlite3_finalize(q);
    q = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT src, dst, sum(hits) FROM transitions"
                           " WHERE day BETWEEN ?1 AND ?2 AND"
                           " (?3 IS NULL OR site = ?3) GROUP BY src, dst"
                           " ORDER BY 3 DESC, src, dst",
                           -1, &q, NULL) != SQLITE_OK)
        goto dberr;
    sqlite3_bind_int64(q, 1, r->from_day);
    sqlite3_bind_int64(q, 2, r->to_day);
    if (site)
        sqlite3_bind_text(q, 3, site, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 3);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        if (!list_push(&r->lists[L_TRANSITIONS], col_text(q, 0),
                       col_text(q, 1), (uint64_t)sqlite3_column_int64(q, 2),
                       0))
            goto nomem;
    if (rc != SQLITE_DONE)
        goto dberr;
    for (i = 0; i < L_COUNT; i++)
        if (!fold(&r->lists[i], i == L_HOURS ? 0 : r->o->top,
                  r->o->min_count))
            goto nomem;
    goto out;
nomem:
    st = ret__fail(err, RET_E_NOMEM, "out of memory");
    goto out;
dberr:
    st = ret__fail(err, RET_E_DB, "statistics database: %s",
                   sqlite3_errmsg(db));
out:
    sqlite3_finalize(q);
    return st;
}

/* ---- JSON ---- */

static void
json_list(struct out *o, const struct list *l)
{
    size_t i;

    putf(o, ",\n\"%s\":[", l->name);
    for (i = 0; i < l->n; i++) {
        const struct row *r = &l->v[i];
        puts_(o, i ? ",\n " : "\n ");
        if (r->to != NULL) {
            puts_(o, "{\"from\":");
            put_json_str(o, r->key);
            puts_(o, ",\"to\":");
            put_json_str(o, r->to);
            putf(o, ",\"hits\":%" PRIu64 "}", r->hits);
        } else {
            puts_(o, "{\"key\":");
            put_json_str(o, r->key);
            putf(o, ",\"hits\":%" PRIu64 ",\"bytes\":%" PRIu64 "}", r->hits,
                 r->bytes);
        }
    }
    puts_(o, "]");
}

static void
range_dates(const struct report *r, char from[16], char to[16], bool *have)
{
    const ret_report_options *o = r->o;

    *have = true;
    if (o->from != INT64_MIN)
        date_str(r->from_day, from);
    else if (r->have_data)
        date_str(r->first, from);
    else
        *have = false;
    if (o->to != INT64_MAX)
        date_str(r->to_day, to);
    else if (r->have_data)
        date_str(r->last, to);
    else
        *have = false;
}

static void
render_json(struct out *o, const struct report *r)
{
    char from[16], to[16], d[16];
    bool have;
    size_t i;

    range_dates(r, from, to, &have);
    if (have)
        putf(o, "{\"from\":\"%s\",\"to\":\"%s\"", from, to);
    else
        puts_(o, "{\"from\":null,\"to\":null");
    putf(o,
         ",\n\"totals\":{\"requests\":%" PRIu64 ",\"bytes\":%" PRIu64
         ",\"visitors\":%" PRIu64 ",\"unparsed\":%" PRIu64 "}",
         r->requests, r->bytes, r->visitors, r->unparsed);
    puts_(o, ",\n\"days\":[");
    for (i = 0; i < r->ndays; i++) {
        date_str(r->days[i].day, d);
        putf(o,
             "%s{\"date\":\"%s\",\"requests\":%" PRIu64 ",\"bytes\":%" PRIu64
             ",\"visitors\":%" PRIu64 "}",
             i ? ",\n " : "\n ", d, r->days[i].requests, r->days[i].bytes,
             r->days[i].visitors);
    }
    puts_(o, "]");
    for (i = 0; i < L_COUNT; i++)
        if (r->lists[i].json)
            json_list(o, &r->lists[i]);
    puts_(o, "}\n");
}

/* ---- CSV ---- */

static void
render_csv(struct out *o, const struct report *r)
{
    char d[16];
    size_t i, j;

    puts_(o, "section,key,to,hits,bytes,visitors\r\n");
    putf(o, "totals,,,%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\r\n", r->requests,
         r->bytes, r->visitors);
    putf(o, "unparsed,,,%" PRIu64 ",,\r\n", r->unparsed);
    for (i = 0; i < r->ndays; i++) {
        date_str(r->days[i].day, d);
        putf(o, "days,%s,,%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\r\n", d,
             r->days[i].requests, r->days[i].bytes, r->days[i].visitors);
    }
    for (i = 0; i < L_COUNT; i++) {
        const struct list *l = &r->lists[i];
        for (j = 0; j < l->n; j++) {
            putf(o, "%s,", l->name);
            put_csv(o, l->v[j].key);
            puts_(o, ",");
            if (l->v[j].to)
                put_csv(o, l->v[j].to);
            if (l->v[j].to)
                putf(o, ",%" PRIu64 ",,\r\n", l->v[j].hits);
            else
                putf(o, ",%" PRIu64 ",%" PRIu64 ",\r\n", l->v[j].hits,
                     l->v[j].bytes);
        }
    }
}

/* ---- text ---- */

struct tstyle {
    const char *bold, *dim, *bar, *reset;
    bool unicode;
};

static void
bar(struct out *o, const struct tstyle *ts, uint64_t v, uint64_t max,
    unsigned width)
{
    unsigned n = max ? (unsigned)((v * width + max - 1) / max) : 0, i;

    puts_(o, ts->bar);
    for (i = 0; i < n; i++)
        puts_(o, ts->unicode ? "\xe2\x96\x88" : "#");
    puts_(o, ts->reset);
}

static void
pad(struct out *o, size_t n)
{
    static const char sp[] = "                                        ";

    while (n > 0) {
        size_t k = n > sizeof(sp) - 1 ? sizeof(sp) - 1 : n;
        put(o, sp, k);
        n -= k;
    }
}

static void
text_list(struct out *o, const struct tstyle *ts, const struct list *l,
          bool by_key)
{
    enum { KEYMAX = 60 };
    struct row *v = l->v;
    struct row *sorted = NULL;
    uint64_t max = 0;
    size_t i, kw = 10;
    char b[32];

    if (l->n == 0)
        return;
    if (by_key && (sorted = malloc(l->n * sizeof(*sorted))) != NULL) {
        memcpy(sorted, l->v, l->n * sizeof(*sorted));
        qsort(sorted, l->n, sizeof(*sorted), cmp_hour);
        v = sorted;
    }
    for (i = 0; i < l->n; i++) {
        size_t w = text_width(v[i].key, KEYMAX);
        if (v[i].to)
            w += 4 + text_width(v[i].to, KEYMAX);
        if (w > kw)
            kw = w;
        if (v[i].hits > max)
            max = v[i].hits;
    }
    putf(o, "\n%s%s%s\n", ts->bold, l->title, ts->reset);
    puts_(o, ts->dim);
    puts_(o, "  ");
    puts_(o, v[0].to ? "from -> to" : "key");
    pad(o, kw - (v[0].to ? 10 : 3));
    puts_(o, v[0].to ? "       hits" : "       hits       bytes");
    puts_(o, ts->reset);
    puts_(o, "\n");
    for (i = 0; i < l->n; i++) {
        size_t w = text_width(v[i].key, KEYMAX);
        puts_(o, "  ");
        put_text(o, v[i].key, KEYMAX);
        if (v[i].to) {
            puts_(o, " -> ");
            put_text(o, v[i].to, KEYMAX);
            w += 4 + text_width(v[i].to, KEYMAX);
        }
        pad(o, kw - w);
        if (v[i].to) {
            putf(o, " %10" PRIu64 "  ", v[i].hits);
        } else {
            human(v[i].bytes, b, sizeof(b));
            putf(o, " %10" PRIu64 " %s%11s%s  ", v[i].hits, ts->dim, b,
                 ts->reset);
        }
        bar(o, ts, v[i].hits, max, 30);
        puts_(o, "\n");
    }
    free(sorted);
}

static void
render_text(struct out *o, const struct report *r)
{
    struct tstyle ts;
    char from[16], to[16], d[16], b[32];
    bool have;
    uint64_t max = 0;
    size_t i;

    bool color = (r->o->flags & RET_REPORT_COLOR) != 0;
    ts.bold = color ? "\033[1m" : "";
    ts.dim = color ? "\033[2m" : "";
    ts.bar = color ? "\033[36m" : "";
    ts.reset = color ? "\033[0m" : "";
    ts.unicode = (r->o->flags & RET_REPORT_UNICODE) != 0;
    range_dates(r, from, to, &have);
    putf(o, "%sAccess statistics%s", ts.bold, ts.reset);
    if (have)
        putf(o, " %s to %s", from, to);
    if (r->o->site) {
        puts_(o, " (site ");
        put_text(o, r->o->site, 60);
        puts_(o, ")");
    }
    human(r->bytes, b, sizeof(b));
    putf(o,
         "\n\n  requests %" PRIu64 "   bytes %s   visitors ~%" PRIu64
         "   unparsed %" PRIu64 "\n",
         r->requests, b, r->visitors, r->unparsed);
    if (r->ndays > 0) {
        for (i = 0; i < r->ndays; i++)
            if (r->days[i].requests > max)
                max = r->days[i].requests;
        putf(o, "\n%sDays%s\n  %-10s %10s %11s %9s\n", ts.bold, ts.reset,
             "date", "requests", "bytes", "visitors");
        for (i = 0; i < r->ndays; i++) {
            date_str(r->days[i].day, d);
            human(r->days[i].bytes, b, sizeof(b));
            putf(o, "  %-10s %10" PRIu64 " %s%11s%s %9" PRIu64 "  ", d,
                 r->days[i].requests, ts.dim, b, ts.reset,
                 r->days[i].visitors);
            bar(o, &ts, r->days[i].requests, max, 30);
            puts_(o, "\n");
        }
    }
    for (i = 0; i < L_COUNT; i++)
        text_list(o, &ts, &r->lists[i], i == L_HOURS);
}

/* ---- HTML ---- */

static void
svg_columns(struct out *o, const char *title, size_t n, const char *const *labels,
            const uint64_t *a, const uint64_t *b, const char *alabel,
            const char *blabel)
{
    const unsigned W = 720, H = 180, top = 10, bottom = 30, left = 50;
    uint64_t max = 1;
    double cw;
    size_t i;

    for (i = 0; i < n; i++) {
        if (a[i] > max)
            max = a[i];
        if (b && b[i] > max)
            max = b[i];
    }
    cw = n ? (double)(W - left - 10) / (double)n : 1;
    puts_(o, "<figure class=\"chart\"><figcaption>");
    put_html(o, title);
    puts_(o, "</figcaption>");
    putf(o,
         "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %u %u\" "
         "role=\"img\" aria-label=\"",
         W, H);
    put_html(o, title);
    puts_(o, "\">");
    putf(o, "<line x1=\"%u\" y1=\"%u\" x2=\"%u\" y2=\"%u\" class=\"axis\"/>",
         left, H - bottom, W - 10, H - bottom);
    putf(o, "<text x=\"%u\" y=\"%u\" class=\"lbl\" text-anchor=\"end\">%" PRIu64
            "</text>",
         left - 4, top + 8, max);
    for (i = 0; i < n; i++) {
        double x = left + cw * (double)i;
        double ha = (double)(H - top - bottom) * (double)a[i] / (double)max;
        double w = b ? cw * 0.45 : cw * 0.8;
        putf(o,
             "<rect class=\"a\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
             "height=\"%.1f\"><title>",
             x + cw * 0.1, (double)(H - bottom) - ha, w, ha);
        put_html(o, labels[i]);
        putf(o, " %s: %" PRIu64 "</title></rect>", alabel, a[i]);
        if (b) {
            double hb = (double)(H - top - bottom) * (double)b[i] / (double)max;
            putf(o,
                 "<rect class=\"b\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                 "height=\"%.1f\"><title>",
                 x + cw * 0.1 + w, (double)(H - bottom) - hb, w, hb);
            put_html(o, labels[i]);
            putf(o, " %s: %" PRIu64 "</title></rect>", blabel, b[i]);
        }
        if (n <= 24 || i % ((n + 11) / 12) == 0) {
            putf(o,
                 "<text x=\"%.1f\" y=\"%u\" class=\"lbl\" "
                 "text-anchor=\"middle\">",
                 x + cw / 2, H - bottom + 14);
            put_html(o, labels[i]);
            puts_(o, "</text>");
        }
    }
    puts_(o, "</svg>");
    if (b)
        putf(o,
             "<p class=\"legend\"><span class=\"ka\"></span> %s "
             "<span class=\"kb\"></span> %s</p>",
             alabel, blabel);
    puts_(o, "</figure>\n");
}

static void
svg_hbars(struct out *o, const struct list *l, size_t maxrows)
{
    const unsigned W = 720, row = 22, left = 220;
    size_t n = l->n < maxrows ? l->n : maxrows, i;
    uint64_t max = 1;

    if (n == 0)
        return;
    for (i = 0; i < n; i++)
        if (l->v[i].hits > max)
            max = l->v[i].hits;
    puts_(o, "<figure class=\"chart\"><figcaption>");
    put_html(o, l->title);
    puts_(o, "</figcaption>");
    putf(o,
         "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %u %zu\" "
         "role=\"img\" aria-label=\"",
         W, (size_t)row * n + 4);
    put_html(o, l->title);
    puts_(o, "\">");
    for (i = 0; i < n; i++) {
        double w = (double)(W - left - 80) * (double)l->v[i].hits / (double)max;
        char key[64];
        snprintf(key, sizeof(key), "%.40s", l->v[i].key);
        putf(o, "<text x=\"%u\" y=\"%zu\" class=\"lbl\" text-anchor=\"end\">",
             left - 6, row * i + 15);
        put_html(o, key);
        putf(o,
             "</text><rect class=\"a\" x=\"%u\" y=\"%zu\" width=\"%.1f\" "
             "height=\"%u\"><title>",
             left, row * i + 3, w, row - 6);
        put_html(o, l->v[i].key);
        putf(o, ": %" PRIu64 "</title></rect>", l->v[i].hits);
        putf(o, "<text x=\"%.1f\" y=\"%zu\" class=\"lbl\">%" PRIu64 "</text>",
             left + w + 4, row * i + 15, l->v[i].hits);
    }
    puts_(o, "</svg></figure>\n");
}

static void
html_table(struct out *o, const struct list *l)
{
    size_t i;
    char b[32];

    if (l->n == 0)
        return;
    putf(o, "<section id=\"%s\"><h2>", l->name);
    put_html(o, l->title);
    puts_(o, "</h2><table><thead><tr>");
    if (l == NULL || l->v[0].to != NULL)
        puts_(o, "<th>from</th><th>to</th><th>hits</th>");
    else
        puts_(o, "<th>key</th><th>hits</th><th>bytes</th>");
    puts_(o, "</tr></thead><tbody>\n");
    for (i = 0; i < l->n; i++) {
        puts_(o, "<tr><td>");
        put_html(o, l->v[i].key);
        if (l->v[i].to) {
            puts_(o, "</td><td>");
            put_html(o, l->v[i].to);
            putf(o, "</td><td class=\"n\">%" PRIu64 "</td></tr>\n",
                 l->v[i].hits);
        } else {
            human(l->v[i].bytes, b, sizeof(b));
            putf(o,
                 "</td><td class=\"n\">%" PRIu64
                 "</td><td class=\"n\">%s</td></tr>\n",
                 l->v[i].hits, b);
        }
    }
    puts_(o, "</tbody></table></section>\n");
}

static void
render_html(struct out *o, const struct report *r)
{
    char from[16], to[16], b[32];
    char (*dates)[16] = NULL;
    const char **labels = NULL;
    uint64_t *a = NULL, *v = NULL;
    bool have;
    size_t i, n;

    range_dates(r, from, to, &have);
    puts_(o,
          "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
          "'none'; style-src 'unsafe-inline'; img-src data:\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, "
          "initial-scale=1\">\n<title>Access statistics");
    if (have)
        putf(o, " %s to %s", from, to);
    puts_(o,
          "</title>\n<style>\n"
          "body{font-family:system-ui,sans-serif;margin:2em auto;"
          "max-width:60em;color:#222;padding:0 1em}\n"
          "table{border-collapse:collapse;width:100%;margin-bottom:1em}\n"
          "td,th{border-bottom:1px solid #ddd;padding:.2em .5em;text-align:"
          "left;word-break:break-all}\n"
          "td.n{text-align:right;white-space:nowrap}\n"
          ".chart svg{width:100%;height:auto}\n"
          ".axis{stroke:#888}.lbl{font-size:11px;fill:#444}\n"
          "rect.a{fill:#3b7dd8}rect.b{fill:#e8923a}\n"
          ".ka,.kb{display:inline-block;width:1em;height:1em;"
          "vertical-align:middle}.ka{background:#3b7dd8}.kb{background:"
          "#e8923a}\n"
          ".totals span{margin-right:2em}\n"
          "</style></head><body>\n<h1>Access statistics");
    if (have)
        putf(o, " %s to %s", from, to);
    if (r->o->site) {
        puts_(o, " (");
        put_html(o, r->o->site);
        puts_(o, ")");
    }
    human(r->bytes, b, sizeof(b));
    putf(o,
         "</h1>\n<p class=\"totals\"><span>requests <b>%" PRIu64
         "</b></span><span>bytes <b>%s</b></span><span>visitors <b>~%" PRIu64
         "</b></span><span>unparsed <b>%" PRIu64 "</b></span></p>\n",
         r->requests, b, r->visitors, r->unparsed);
    n = r->ndays;
    if (n > 0) {
        dates = calloc(n, sizeof(*dates));
        labels = calloc(n, sizeof(*labels));
        a = calloc(n, sizeof(*a));
        v = calloc(n, sizeof(*v));
        if (dates && labels && a && v) {
            for (i = 0; i < n; i++) {
                date_str(r->days[i].day, dates[i]);
                labels[i] = dates[i] + 5;
                a[i] = r->days[i].requests;
                v[i] = r->days[i].visitors;
            }
            svg_columns(o, "Requests per day", n, labels, a, NULL,
                        "requests", NULL);
            svg_columns(o, "Visitors per day (estimated)", n, labels, v, NULL,
                        "visitors", NULL);
        }
    }
    {
        static const char *const hl[24] = {
            "00", "01", "02", "03", "04", "05", "06", "07",
            "08", "09", "10", "11", "12", "13", "14", "15",
            "16", "17", "18", "19", "20", "21", "22", "23"};
        uint64_t hh[24] = {0};
        const struct list *l = &r->lists[L_HOURS];
        for (i = 0; i < l->n; i++) {
            int h = atoi(l->v[i].key);
            if (h >= 0 && h < 24 && strcmp(l->v[i].key, "other") != 0)
                hh[h] += l->v[i].hits;
        }
        if (l->n > 0)
            svg_columns(o, "Requests per hour", 24, hl, hh, NULL, "requests",
                        NULL);
    }
    svg_hbars(o, &r->lists[L_STATUS], 20);
    svg_hbars(o, &r->lists[L_COUNTRIES], 20);
    svg_hbars(o, &r->lists[L_BROWSERS], 20);
    for (i = 0; i < L_COUNT; i++)
        if (i != L_HOURS)
            html_table(o, &r->lists[i]);
    puts_(o, "<p><small>Anonymous statistics: no addresses are stored; "
             "visitors are estimates (HyperLogLog) over a daily "
             "key.</small></p>\n</body></html>\n");
    free(dates);
    free(labels);
    free(a);
    free(v);
}

/* ---- entry ---- */

void
ret_report_options_init(ret_report_options *o)
{
    if (o == NULL)
        return;
    memset(o, 0, sizeof(*o));
    o->format = RET_REPORT_TEXT;
    o->from = INT64_MIN;
    o->to = INT64_MAX;
    o->top = 10;
}

static int64_t
day_of(int64_t t)
{
    return t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
}

ret_status
ret_stats_report(ret_stats *s, const ret_report_options *o, ret_output_fn fn,
                 void *ctx, ret_error *err)
{
    struct report r;
    struct out *out = NULL;
    ret_status st;
    size_t i;

    if (s == NULL || o == NULL || fn == NULL)
        return ret__fail(err, RET_E_INVAL, "ret_stats_report: NULL argument");
    if (o->format < RET_REPORT_TEXT || o->format > RET_REPORT_HTML)
        return ret__fail(err, RET_E_INVAL, "unknown report format %d",
                         (int)o->format);
    if (o->from != INT64_MIN && o->to != INT64_MAX && o->from > o->to)
        return ret__fail(err, RET_E_INVAL, "the range ends before it starts");
    if ((st = ret_stats_flush(s, err)) != RET_OK)
        return st;
    memset(&r, 0, sizeof(r));
    r.o = o;
    r.from_day = o->from == INT64_MIN ? INT64_MIN / 86400 : day_of(o->from);
    r.to_day = o->to == INT64_MAX ? INT64_MAX / 86400 : day_of(o->to);
    for (i = 0; i < L_COUNT; i++) {
        r.lists[i].name = list_defs[i].name;
        r.lists[i].title = list_defs[i].title;
        r.lists[i].json = list_defs[i].json;
    }
    if ((st = load(s, &r, err)) != RET_OK)
        goto out;
    out = malloc(sizeof(*out));
    if (out == NULL) {
        st = ret__fail(err, RET_E_NOMEM, "out of memory");
        goto out;
    }
    out->fn = fn;
    out->ctx = ctx;
    out->st = RET_OK;
    out->n = 0;
    switch (o->format) {
    case RET_REPORT_TEXT: render_text(out, &r); break;
    case RET_REPORT_CSV: render_csv(out, &r); break;
    case RET_REPORT_JSON: render_json(out, &r); break;
    case RET_REPORT_HTML: render_html(out, &r); break;
    }
    out_flush(out);
    st = out->st;
    if (st != RET_OK)
        st = ret__fail(err, st, "writing the report: %s", ret_strerror(st));
out:
    free(out);
    report_free(&r);
    return st;
}
