/*
 * stats.c - the anonymous statistics database: ingest and merge.
 *
 * Records are aggregated in memory per day and dimension (hash tables of
 * distinct keys, not lines) and written to SQLite in batches, one
 * transaction each, together with how far each input was read. What is
 * stored is counts per day and key, HyperLogLog registers per day and
 * page transitions: never an address, truncated or not, nor a hash that
 * could be recomputed from one.
 *
 * Visitors: a SipHash of address and user agent under a random key per
 * day. The key lives in the day_keys table while the day can still be
 * ingested (until 48 hours after the day ended), then it is overwritten
 * (secure_delete) and the WAL truncated: from then on nobody can
 * recompute a visitor's hash. Visits (for entry/exit pages and
 * transitions) live in memory only, keyed by that hash.
 *
 * Idempotency: an input is identified by its content, not its name: a
 * digest of its first 32 lines (decompressed), the number of lines
 * counted and a digest of the last of them. The digests leave the
 * addresses out, so that they cannot be brute-forced back to one, and
 * so that an anonymized copy of a log is the same log. The same file again, its rotated or gzipped copy or a
 * live file that grew continue where the last ingest stopped.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_GETRANDOM
#include <sys/random.h>
#endif

#include "stats-int.h"

#define HEAD_LINES 32             /* lines that identify an input */
#define HEAD_MAX (1024 * 1024)    /* ... unless they are longer than this */
#define ANCHOR_BYTES 128          /* bytes of the anchor line digested */
#define SEED_HEAD 0x68656164ULL
#define VISIT_GAP 1800
#define KEY_KEEP (2 * 86400) /* a day's key outlives the day by 48 h */
#define MAX_KEY 512          /* longest stored dimension key */
#define FLUSH_ENTRIES 200000
#define FLUSH_DAYS 8

const char *const ret__dim_names[RET__D_COUNT] = {
    "pages",    "not_found", "status",    "methods",     "protocols",
    "vhosts",   "referrers", "browsers",  "os",          "devices",
    "crawlers", "countries", "networks",  "hours",       "entry_pages",
    "exit_pages", "ua", "transitions",
};

static const char *const common_methods[8] = {
    "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT"};
static const char *const common_protocols[8] = {
    "HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/2", "HTTP/3.0", "HTTP/3",
    "HTTP/0.9", "-"};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS days(site TEXT NOT NULL, day INTEGER NOT NULL,"
    " requests INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,"
    " unparsed INTEGER NOT NULL DEFAULT 0, visitors BLOB,"
    " PRIMARY KEY(site, day)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS counts(dim TEXT NOT NULL, day INTEGER NOT NULL,"
    " site TEXT NOT NULL, key TEXT NOT NULL, hits INTEGER NOT NULL,"
    " bytes INTEGER NOT NULL, PRIMARY KEY(dim, day, site, key)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS transitions(day INTEGER NOT NULL,"
    " site TEXT NOT NULL, src TEXT NOT NULL, dst TEXT NOT NULL,"
    " hits INTEGER NOT NULL, PRIMARY KEY(day, site, src, dst)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS day_keys(day INTEGER PRIMARY KEY, key BLOB,"
    " destroyed_at INTEGER);"
    "CREATE TABLE IF NOT EXISTS sources(head_lines INTEGER NOT NULL,"
    " head_hash INTEGER NOT NULL, lines INTEGER NOT NULL,"
    " anchor INTEGER NOT NULL, bytes INTEGER NOT NULL,"
    " updated INTEGER NOT NULL, PRIMARY KEY(head_lines, head_hash));"
    "CREATE TABLE IF NOT EXISTS merged(instance TEXT PRIMARY KEY,"
    " merged_at INTEGER NOT NULL);";

/* ---- small helpers ---- */

static ret_status
db_fail(ret_error *err, sqlite3 *db, const char *what)
{
    return ret__fail(err, RET_E_DB, "%s: %s", what, sqlite3_errmsg(db));
}

static ret_status
exec(sqlite3 *db, const char *sql, ret_error *err)
{
    char *msg = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        ret_status st = ret__fail(err, RET_E_DB, "%s", msg ? msg : "sqlite");
        sqlite3_free(msg);
        return st;
    }
    return RET_OK;
}

static bool
random_bytes(unsigned char *buf, size_t n)
{
    size_t got = 0;
    int fd;

#ifdef HAVE_GETRANDOM
    while (got < n) {
        ssize_t r = getrandom(buf + got, n - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        got += (size_t)r;
    }
    if (got == n)
        return true;
#endif
    fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0) {
            if (r < 0 && errno == EINTR)
                continue;
            close(fd);
            return false;
        }
        got += (size_t)r;
    }
    close(fd);
    return true;
}

static int64_t
floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* ---- the arena of key strings of one batch ---- */

static char *
arena_dup(struct ret__arena *a, const char *s, size_t n)
{
    struct ret__chunk *c = a->head;
    char *p;

    if (c == NULL || c->used + n + 1 > c->size) {
        size_t size = n + 1 > 65536 ? n + 1 : 65536;
        c = malloc(sizeof(*c) + size);
        if (c == NULL)
            return NULL;
        c->size = size;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    p = c->data + c->used;
    memcpy(p, s, n);
    p[n] = '\0';
    c->used += n + 1;
    return p;
}

static void
arena_free(struct ret__arena *a)
{
    while (a->head != NULL) {
        struct ret__chunk *n = a->head->next;
        free(a->head);
        a->head = n;
    }
}

/* ---- per-day aggregates ---- */

static void
day_free(struct ret__day *d)
{
    if (d == NULL)
        return;
    free(d->tab);
    free(d->hll);
    free(d->ua_hits);
    free(d->ua_bytes);
    free(d);
}

static struct ret__day *
day_get(ret_stats *s, int64_t day)
{
    struct ret__day *d;
    size_t i;

    if (s->last_day != NULL && s->last_day->day == day)
        return s->last_day;
    for (i = 0; i < s->ndays; i++)
        if (s->days[i]->day == day)
            return s->last_day = s->days[i];
    if (s->ndays == s->capdays) {
        size_t cap = s->capdays ? s->capdays * 2 : 8;
        struct ret__day **v = realloc(s->days, cap * sizeof(*v));
        if (v == NULL)
            return NULL;
        s->days = v;
        s->capdays = cap;
    }
    d = calloc(1, sizeof(*d));
    if (d == NULL)
        return NULL;
    d->day = day;
    s->days[s->ndays++] = d;
    return s->last_day = d;
}

static bool
day_grow(struct ret__day *d)
{
    size_t cap = d->cap ? d->cap * 2 : 256, i;
    struct ret__ent *v = calloc(cap, sizeof(*v));

    if (v == NULL)
        return false;
    for (i = 0; i < d->cap; i++) {
        struct ret__ent *e = &d->tab[i];
        size_t j;
        if (e->key == NULL)
            continue;
        for (j = e->hash & (cap - 1); v[j].key != NULL; j = (j + 1) & (cap - 1))
            ;
        v[j] = *e;
    }
    free(d->tab);
    d->tab = v;
    d->cap = cap;
    return true;
}

/* Short keys (methods, protocols, agent ids, most hosts and pages) are
 * compared as two words, and hashed by one multiplication. */
static inline void
key_words(const char *key, size_t n, uint64_t *a, uint64_t *b)
{
    *a = *b = 0;
    if (n > 8) {
        memcpy(a, key, 8);
        memcpy(b, key + 8, n - 8);
    } else {
        memcpy(a, key, n);
    }
}

/* Adds hits and bytes to (dim, key) of day d. */
static bool
count(ret_stats *s, struct ret__day *d, int dim, const char *key, size_t n,
      uint64_t hits, uint64_t bytes)
{
    uint64_t h, a = 0, b = 0;
    size_t i, mask;
    struct ret__ent *e;
    bool small;

    if (n > MAX_KEY)
        n = MAX_KEY;
    if (d->n * 2 >= d->cap && !day_grow(d))
        return false;
    small = n <= 16;
    if (small) {
        key_words(key, n, &a, &b);
        h = (a ^ ((uint64_t)dim << 56 | n)) * 0x9e3779b97f4a7c15ULL;
        h ^= b * 0xc2b2ae3d27d4eb4fULL;
        h ^= h >> 29;
    } else {
        h = ret__hash(key, n, (uint64_t)dim);
    }
    mask = d->cap - 1;
    for (i = h & mask;; i = (i + 1) & mask) {
        e = &d->tab[i];
        if (e->key == NULL)
            break;
        if (e->hash == h && e->dim == dim && e->len == n &&
            (small ? e->a == a && e->b == b
                   : memcmp(e->key, key, n) == 0)) {
            e->hits += hits;
            e->bytes += bytes;
            return true;
        }
    }
    e->a = a;
    e->b = b;
    e->key = arena_dup(&s->arena, key, n);
    if (e->key == NULL)
        return false;
    e->hash = h;
    e->dim = (uint8_t)dim;
    e->len = (uint32_t)n;
    e->hits = hits;
    e->bytes = bytes;
    d->n++;
    s->nentries++;
    return true;
}

/* ---- keys of the visitor hash ---- */

/* The key of a day: 1 and key filled, 0 when it was destroyed (the day
 * can no longer be counted into visitors), -1 on error. */
static int
day_key(ret_stats *s, struct ret__day *d, ret_error *err)
{
    sqlite3_stmt *st = NULL;
    unsigned char key[16];
    int rc, result = -1;

    if (d->key_state != 0)
        return d->key_state == 1 ? 1 : 0;
    /* a day seen for the first time gets a key even when it is old (a
     * first ingest of rotated logs): it is destroyed when this handle
     * closes; a day whose key was destroyed is never keyed again */
    if (sqlite3_prepare_v2(s->db, "SELECT key FROM day_keys WHERE day = ?", -1,
                           &st, NULL) != SQLITE_OK) {
        db_fail(err, s->db, "day_keys");
        goto out;
    }
    sqlite3_bind_int64(st, 1, d->day);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) == SQLITE_BLOB &&
            sqlite3_column_bytes(st, 0) == 16) {
            memcpy(d->key, sqlite3_column_blob(st, 0), 16);
            d->key_state = 1;
            result = 1;
        } else {
            d->key_state = 2;
            result = 0;
        }
        goto out;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (!random_bytes(key, sizeof(key))) {
        ret__fail(err, RET_E_KEY, "no random bytes for the daily key");
        goto out;
    }
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO day_keys(day, key) VALUES (?, ?)", -1,
                           &st, NULL) != SQLITE_OK) {
        db_fail(err, s->db, "day_keys");
        goto out;
    }
    sqlite3_bind_int64(st, 1, d->day);
    sqlite3_bind_blob(st, 2, key, 16, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE) {
        db_fail(err, s->db, "day_keys");
        goto out;
    }
    memcpy(d->key, key, 16);
    d->key_state = 1;
    result = 1;
out:
    memset(key, 0, sizeof(key));
    sqlite3_finalize(st);
    return result;
}

/* Overwrites the keys of days that can no longer be ingested. */
static ret_status
destroy_old_keys(ret_stats *s, ret_error *err)
{
    sqlite3_stmt *st = NULL;
    ret_status rs = RET_OK;
    int changed;

    if (sqlite3_prepare_v2(s->db,
                           "UPDATE day_keys SET key = NULL, destroyed_at = ?1"
                           " WHERE key IS NOT NULL AND"
                           " (day + 1) * 86400 + ?2 <= ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(err, s->db, "day_keys");
    sqlite3_bind_int64(st, 1, s->now);
    sqlite3_bind_int64(st, 2, KEY_KEEP);
    if (sqlite3_step(st) != SQLITE_DONE)
        rs = db_fail(err, s->db, "day_keys");
    changed = sqlite3_changes(s->db);
    sqlite3_finalize(st);
    if (rs == RET_OK && changed > 0)
        /* the old pages are overwritten (secure_delete); leave no copy
         * in the write-ahead log either */
        sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
                                  NULL, NULL);
    return rs;
}

/* ---- open / close / options ---- */

ret_status
ret_stats_open(const char *path, ret_stats **out, ret_error *err)
{
    ret_stats *s = NULL;
    ret_status st = RET_OK;
    sqlite3_stmt *q = NULL;
    unsigned char inst[16];
    char hex[33];
    size_t i;

    if (path == NULL || out == NULL)
        return ret__fail(err, RET_E_INVAL, "ret_stats_open: NULL argument");
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return ret__fail(err, RET_E_NOMEM, "out of memory");
    s->now = (int64_t)time(NULL);
    s->uap = strdup(RET_UAP_REGEXES);
    if (s->uap == NULL || ret__redact_new(&s->redact, err) != RET_OK) {
        st = s->uap == NULL ? ret__fail(err, RET_E_NOMEM, "out of memory")
                            : err ? err->status : RET_E_NOMEM;
        goto out;
    }
    if (sqlite3_open_v2(path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        st = ret__fail(err, RET_E_DB, "%s: %s", path,
                       s->db ? sqlite3_errmsg(s->db) : "cannot open");
        goto out;
    }
    sqlite3_busy_timeout(s->db, 10000);
    if ((st = exec(s->db,
                   "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                   " PRAGMA secure_delete=ON;",
                   err)) != RET_OK ||
        (st = exec(s->db, schema, err)) != RET_OK) {
        char msg[sizeof(err->message)];
        if (err != NULL) {
            snprintf(msg, sizeof(msg), "%s", err->message);
            st = ret__fail(err, st, "%s: %s", path, msg);
        }
        goto out;
    }
    /* the instance id lets merge refuse to count a database twice */
    if (sqlite3_prepare_v2(s->db, "SELECT v FROM meta WHERE k = 'instance'",
                           -1, &q, NULL) != SQLITE_OK) {
        st = db_fail(err, s->db, path);
        goto out;
    }
    if (sqlite3_step(q) == SQLITE_ROW) {
        snprintf(s->instance, sizeof(s->instance), "%s",
                 (const char *)sqlite3_column_text(q, 0));
    } else {
        sqlite3_finalize(q);
        q = NULL;
        if (!random_bytes(inst, sizeof(inst))) {
            st = ret__fail(err, RET_E_KEY, "no random bytes");
            goto out;
        }
        for (i = 0; i < 16; i++)
            snprintf(hex + 2 * i, 3, "%02x", inst[i]);
        snprintf(s->instance, sizeof(s->instance), "%s", hex);
        if (sqlite3_prepare_v2(s->db,
                               "INSERT OR IGNORE INTO meta(k, v) VALUES"
                               " ('instance', ?), ('schema', '1')",
                               -1, &q, NULL) != SQLITE_OK) {
            st = db_fail(err, s->db, path);
            goto out;
        }
        sqlite3_bind_text(q, 1, hex, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(q) != SQLITE_DONE) {
            st = db_fail(err, s->db, path);
            goto out;
        }
    }
    sqlite3_finalize(q);
    q = NULL;
    if ((st = destroy_old_keys(s, err)) != RET_OK)
        goto out;
    *out = s;
    s = NULL;
out:
    sqlite3_finalize(q);
    if (s != NULL) {
        sqlite3_close(s->db);
        s->db = NULL;
        ret_stats_close(s);
    }
    return st;
}

static void
visits_clear(ret_stats *s)
{
    size_t i;

    for (i = 0; i < s->vcap; i++)
        free(s->visits[i].page);
    free(s->visits);
    s->visits = NULL;
    s->vcap = s->vn = 0;
}

void
ret_stats_close(ret_stats *s)
{
    size_t i;

    if (s == NULL)
        return;
    if (s->db != NULL) {
        (void)ret_stats_flush(s, NULL);
        (void)destroy_old_keys(s, NULL);
    }
    for (i = 0; i < s->ndays; i++)
        day_free(s->days[i]);
    free(s->days);
    arena_free(&s->arena);
    visits_clear(s);
    for (i = 0; i < s->ngeo; i++)
        ret__geoip_close(s->geo[i]);
    ret__ua_free(s->ua);
    ret__redact_free(s->redact);
    free(s->uap);
    sqlite3_close(s->db);
    free(s);
}

ret_status
ret_stats_set_geoip(ret_stats *s, const char *path, ret_error *err)
{
    ret_status st;

    if (s == NULL || path == NULL)
        return ret__fail(err, RET_E_INVAL, "ret_stats_set_geoip: NULL");
    if (s->ngeo == RET__MAX_GEO)
        return ret__fail(err, RET_E_RANGE, "%s: at most %d GeoIP databases",
                         path, RET__MAX_GEO);
    st = ret__geoip_open(path, &s->geo[s->ngeo], err);
    if (st == RET_OK)
        s->ngeo++;
    return st;
}

static bool
is_on(const char *v)
{
    return strcmp(v, "yes") == 0 || strcmp(v, "on") == 0 ||
           strcmp(v, "1") == 0 || strcmp(v, "true") == 0 ||
           strcmp(v, "keep") == 0;
}

static bool
is_off(const char *v)
{
    return strcmp(v, "no") == 0 || strcmp(v, "off") == 0 ||
           strcmp(v, "0") == 0 || strcmp(v, "false") == 0 ||
           strcmp(v, "drop") == 0;
}

ret_status
ret_stats_set_option(ret_stats *s, const char *name, const char *value,
                     ret_error *err)
{
    if (s == NULL || name == NULL || value == NULL)
        return ret__fail(err, RET_E_INVAL, "ret_stats_set_option: NULL");
    if (strcmp(name, "query") == 0) {
        if (!is_on(value) && !is_off(value))
            goto bad;
        s->keep_query = is_on(value);
    } else if (strcmp(name, "referrer") == 0) {
        if (strcmp(value, "host") == 0)
            s->full_referrer = false;
        else if (strcmp(value, "full") == 0)
            s->full_referrer = true;
        else
            goto bad;
    } else if (strcmp(name, "redact") == 0) {
        return ret__redact_add(s->redact, value, "{redacted}", err);
    } else if (strcmp(name, "opt-out-cookie") == 0) {
        const char *eq = strchr(value, '=');
        if (eq == NULL || eq == value || strlen(value) >= 128 ||
            strpbrk(value, "; ") != NULL)
            goto bad;
        snprintf(s->optout_cookie, sizeof(s->optout_cookie), "%s", value);
    } else if (strcmp(name, "flows") == 0) {
        if (!is_on(value) && !is_off(value))
            goto bad;
        s->no_flows = is_off(value);
    } else if (strcmp(name, "uap-regexes") == 0) {
        char *c = strdup(value);
        if (c == NULL)
            return ret__fail(err, RET_E_NOMEM, "out of memory");
        free(s->uap);
        s->uap = c;
        ret__ua_free(s->ua);
        s->ua = NULL;
    } else if (strcmp(name, "now") == 0) {
        int64_t t;
        if (ret_time_parse(value, strlen(value), &t, NULL, err) != RET_OK)
            return err ? err->status : RET_E_PARSE;
        s->now = t;
        return destroy_old_keys(s, err);
    } else {
        return ret__fail(err, RET_E_NOTFOUND, "unknown statistics option '%s'",
                         name);
    }
    return RET_OK;
bad:
    return ret__fail(err, RET_E_INVAL, "option %s: invalid value '%s'", name,
                     value);
}

void
ret_stats_set_progress(ret_stats *s, ret_stats_progress_fn fn, void *ctx)
{
    if (s == NULL)
        return;
    s->progress = fn;
    s->progress_ctx = ctx;
}

void
ret_stats_last_ingest(const ret_stats *s, uint64_t *counted, uint64_t *skipped,
                      uint64_t *unparsed)
{
    if (s == NULL)
        return;
    if (counted)
        *counted = s->last_counted;
    if (skipped)
        *skipped = s->last_skipped;
    if (unparsed)
        *unparsed = s->last_unparsed;
}

/* ---- flushing a batch ---- */

static ret_status
flush_day(ret_stats *s, struct ret__day *d, const char *site,
          sqlite3_stmt *up_count, sqlite3_stmt *up_trans, ret_error *err)
{
    sqlite3_stmt *q = NULL;
    ret_status st = RET_OK;
    ret__hll merged;
    bool have_hll = d->hll != NULL;
    size_t i;
    char num[16];

#define BIND_COUNT(dimname, k, kn, h, b)                                       \
    do {                                                                       \
        sqlite3_reset(up_count);                                               \
        sqlite3_bind_text(up_count, 1, dimname, -1, SQLITE_STATIC);            \
        sqlite3_bind_int64(up_count, 2, d->day);                               \
        sqlite3_bind_text(up_count, 3, site, -1, SQLITE_STATIC);               \
        sqlite3_bind_text(up_count, 4, k, (int)(kn), SQLITE_STATIC);           \
        sqlite3_bind_int64(up_count, 5, (int64_t)(h));                         \
        sqlite3_bind_int64(up_count, 6, (int64_t)(b));                         \
        if (sqlite3_step(up_count) != SQLITE_DONE) {                           \
            st = db_fail(err, s->db, "counts");                                \
            goto out;                                                          \
        }                                                                      \
    } while (0)

    for (i = 0; i < d->cap; i++) {
        struct ret__ent *e = &d->tab[i];
        if (e->key == NULL)
            continue;
        if (e->dim == RET__D_FLOW) {
            size_t a = strnlen(e->key, e->len);
            sqlite3_reset(up_trans);
            sqlite3_bind_int64(up_trans, 1, d->day);
            sqlite3_bind_text(up_trans, 2, site, -1, SQLITE_STATIC);
            sqlite3_bind_text(up_trans, 3, e->key, (int)a, SQLITE_STATIC);
            sqlite3_bind_text(up_trans, 4, a < e->len ? e->key + a + 1 : "",
                              a < e->len ? (int)(e->len - a - 1) : 0,
                              SQLITE_STATIC);
            sqlite3_bind_int64(up_trans, 5, (int64_t)e->hits);
            if (sqlite3_step(up_trans) != SQLITE_DONE) {
                st = db_fail(err, s->db, "transitions");
                goto out;
            }
        } else {
            BIND_COUNT(ret__dim_names[e->dim], e->key, e->len, e->hits,
                       e->bytes);
        }
    }
    for (i = 0; i < d->ua_cap; i++) {
        const ret__ua_info *info;
        if (d->ua_hits[i] == 0 ||
            (info = ret__ua_info_of(s->ua, (uint32_t)i)) == NULL)
            continue;
        if (info->browser != NULL)
            BIND_COUNT("browsers", info->browser, strlen(info->browser),
                       d->ua_hits[i], d->ua_bytes[i]);
        if (info->crawler != NULL)
            BIND_COUNT("crawlers", info->crawler, strlen(info->crawler),
                       d->ua_hits[i], d->ua_bytes[i]);
        BIND_COUNT("os", info->os, strlen(info->os), d->ua_hits[i],
                   d->ua_bytes[i]);
        BIND_COUNT("devices", info->device, strlen(info->device),
                   d->ua_hits[i], d->ua_bytes[i]);
    }
    for (i = 0; i < 8; i++) {
        if (d->method_hits[i] != 0)
            BIND_COUNT("methods", common_methods[i],
                       strlen(common_methods[i]), d->method_hits[i],
                       d->method_bytes[i]);
        if (d->proto_hits[i] != 0)
            BIND_COUNT("protocols", common_protocols[i],
                       strlen(common_protocols[i]), d->proto_hits[i],
                       d->proto_bytes[i]);
    }
    for (i = 0; i < 1000; i++)
        if (d->status_hits[i] != 0) {
            int n = snprintf(num, sizeof(num), "%zu", i);
            BIND_COUNT("status", num, n, d->status_hits[i], d->status_bytes[i]);
        }
    for (i = 0; i < 24; i++)
        if (d->hour_hits[i] != 0) {
            int n = snprintf(num, sizeof(num), "%02zu", i);
            BIND_COUNT("hours", num, n, d->hour_hits[i], d->hour_bytes[i]);
        }
#undef BIND_COUNT
    if (have_hll) {
        if (sqlite3_prepare_v2(s->db,
                               "SELECT visitors FROM days WHERE site = ? AND"
                               " day = ?",
                               -1, &q, NULL) != SQLITE_OK) {
            st = db_fail(err, s->db, "days");
            goto out;
        }
        sqlite3_bind_text(q, 1, site, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 2, d->day);
        merged = *d->hll;
        if (sqlite3_step(q) == SQLITE_ROW &&
            sqlite3_column_type(q, 0) == SQLITE_BLOB) {
            ret__hll old;
            if (ret__hll_load(&old, sqlite3_column_blob(q, 0),
                              (size_t)sqlite3_column_bytes(q, 0)))
                ret__hll_merge(&merged, &old);
        }
        sqlite3_finalize(q);
        q = NULL;
    }
    if (sqlite3_prepare_v2(
            s->db,
            "INSERT INTO days(site, day, requests, bytes, unparsed, visitors)"
            " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(site, day) DO UPDATE"
            " SET requests = requests + excluded.requests,"
            " bytes = bytes + excluded.bytes,"
            " unparsed = unparsed + excluded.unparsed,"
            " visitors = coalesce(excluded.visitors, visitors)",
            -1, &q, NULL) != SQLITE_OK) {
        st = db_fail(err, s->db, "days");
        goto out;
    }
    sqlite3_bind_text(q, 1, site, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, d->day);
    sqlite3_bind_int64(q, 3, (int64_t)d->requests);
    sqlite3_bind_int64(q, 4, (int64_t)d->bytes);
    sqlite3_bind_int64(q, 5, (int64_t)d->unparsed);
    if (have_hll)
        sqlite3_bind_blob(q, 6, merged.reg, RET__HLL_M, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 6);
    if (sqlite3_step(q) != SQLITE_DONE)
        st = db_fail(err, s->db, "days");
out:
    sqlite3_finalize(q);
    return st;
}

/* Stores how far an identity (its first hl lines, digest hh) was
 * counted: lines, the anchor of the last one, bytes. */
static ret_status
put_source(ret_stats *s, size_t hl, uint64_t hh, uint64_t lines,
           uint64_t anchor_hash, uint64_t bytes, ret_error *err)
{
    sqlite3_stmt *q = NULL;
    ret_status st = RET_OK;

    if (sqlite3_prepare_v2(s->db,
                           "INSERT OR REPLACE INTO sources(head_lines,"
                           " head_hash, lines, anchor, bytes, updated)"
                           " VALUES (?, ?, ?, ?, ?, ?)",
                           -1, &q, NULL) != SQLITE_OK)
        return db_fail(err, s->db, "sources");
    sqlite3_bind_int64(q, 1, (int64_t)hl);
    sqlite3_bind_int64(q, 2, (int64_t)hh);
    sqlite3_bind_int64(q, 3, (int64_t)lines);
    sqlite3_bind_int64(q, 4, (int64_t)anchor_hash);
    sqlite3_bind_int64(q, 5, (int64_t)bytes);
    sqlite3_bind_int64(q, 6, s->now);
    if (sqlite3_step(q) != SQLITE_DONE)
        st = db_fail(err, s->db, "sources");
    sqlite3_finalize(q);
    return st;
}

/* The lines counted of an identity as stored now (0: none). */
static ret_status
stored_lines(ret_stats *s, size_t hl, uint64_t hh, uint64_t *lines,
             ret_error *err)
{
    sqlite3_stmt *q = NULL;
    int rc;

    *lines = 0;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT lines FROM sources WHERE head_lines = ?"
                           " AND head_hash = ?",
                           -1, &q, NULL) != SQLITE_OK)
        return db_fail(err, s->db, "sources");
    sqlite3_bind_int64(q, 1, (int64_t)hl);
    sqlite3_bind_int64(q, 2, (int64_t)hh);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *lines = (uint64_t)sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return rc == SQLITE_ROW || rc == SQLITE_DONE
               ? RET_OK
               : db_fail(err, s->db, "sources");
}

/*
 * Inside the batch's transaction: has another ingest of the same content
 * counted lines since we looked? Then this batch would count them twice:
 * it is refused (the other run has them).
 */
static ret_status
check_progress(ret_stats *s, struct ret__input *in, ret_error *err)
{
    size_t hl;
    uint64_t hh, now, want;
    ret_status st;

    if (in->nhead == 0)
        return RET_OK;
    hl = in->lines < in->nhead ? (size_t)in->lines : in->nhead;
    if (hl == 0)
        return RET_OK;
    hh = in->hcum[hl - 1];
    want = in->match_len == hl && in->match_hash == hh ? in->stored_lines : 0;
    if ((st = stored_lines(s, hl, hh, &now, err)) != RET_OK)
        return st;
    if (now == want && in->match_len > 0 &&
        (in->match_len != hl || in->match_hash != hh)) {
        if ((st = stored_lines(s, in->match_len, in->match_hash, &now,
                               err)) != RET_OK)
            return st;
        want = in->stored_lines;
    }
    if (now != want)
        return ret__fail(err, RET_E_BUSY,
                         "another ingest counted the same input meanwhile");
    return RET_OK;
}

/* Writes every day in memory and the progress of the current input in
 * one transaction. */
static ret_status
flush_batch(ret_stats *s, struct ret__input *in, ret_error *err)
{
    sqlite3_stmt *up_count = NULL, *up_trans = NULL, *q = NULL;
    ret_status st;
    const char *site = in ? in->site : s->flush_site;
    size_t i;

    if (site == NULL)
        site = "";
    if (s->ndays == 0 && (in == NULL || in->lines == in->stored_lines))
        return RET_OK;
    if ((st = exec(s->db, "BEGIN IMMEDIATE", err)) != RET_OK)
        return st;
    if (in != NULL && (st = check_progress(s, in, err)) != RET_OK)
        goto out;
    if (sqlite3_prepare_v2(
            s->db,
            "INSERT INTO counts(dim, day, site, key, hits, bytes)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(dim, day, site, key)"
            " DO UPDATE SET hits = hits + excluded.hits,"
            " bytes = bytes + excluded.bytes",
            -1, &up_count, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(
            s->db,
            "INSERT INTO transitions(day, site, src, dst, hits)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT(day, site, src, dst)"
            " DO UPDATE SET hits = hits + excluded.hits",
            -1, &up_trans, NULL) != SQLITE_OK) {
        st = db_fail(err, s->db, "prepare");
        goto out;
    }
    for (i = 0; i < s->ndays; i++)
        if ((st = flush_day(s, s->days[i], site, up_count, up_trans, err)) !=
            RET_OK)
            goto out;
    if (in != NULL && in->lines > 0 && in->lines != in->stored_lines &&
        in->nhead > 0) {
        /* the identity: the head, as far as it was counted */
        size_t hl = in->lines < in->nhead ? (size_t)in->lines : in->nhead;
        uint64_t hh = in->hcum[hl - 1];
        if (in->match_len > 0 && in->match_len != hl) {
            if (sqlite3_prepare_v2(s->db,
                                   "DELETE FROM sources WHERE head_lines = ?"
                                   " AND head_hash = ?",
                                   -1, &q, NULL) != SQLITE_OK) {
                st = db_fail(err, s->db, "sources");
                goto out;
            }
            sqlite3_bind_int64(q, 1, (int64_t)in->match_len);
            sqlite3_bind_int64(q, 2, (int64_t)in->match_hash);
            if (sqlite3_step(q) != SQLITE_DONE) {
                st = db_fail(err, s->db, "sources");
                goto out;
            }
            sqlite3_finalize(q);
            q = NULL;
        }
        if ((st = put_source(s, hl, hh, in->lines, in->chash, in->offset,
                             err)) != RET_OK)
            goto out;
        in->match_len = hl;
        in->match_hash = hh;
        in->stored_lines = in->lines;
    }
    st = exec(s->db, "COMMIT", err);
out:
    sqlite3_finalize(q);
    sqlite3_finalize(up_count);
    sqlite3_finalize(up_trans);
    if (st != RET_OK) {
        (void)exec(s->db, "ROLLBACK", NULL);
    } else {
        /* the batch is written: forget it (keys of days stay known) */
        for (i = 0; i < s->ndays; i++) {
            struct ret__day *d = s->days[i];
            int ks = d->key_state;
            unsigned char key[16];
            int64_t day = d->day;
            memcpy(key, d->key, 16);
            free(d->tab);
            free(d->hll);
            free(d->ua_hits);
            free(d->ua_bytes);
            memset(d, 0, sizeof(*d));
            d->day = day;
            d->key_state = ks;
            memcpy(d->key, key, 16);
        }
        arena_free(&s->arena);
        s->nentries = 0;
    }
    return st;
}

/* Drops day structures that are empty after a flush, keeping memory
 * bounded by the days of one batch. */
static void
days_compact(ret_stats *s)
{
    size_t i, j = 0;

    for (i = 0; i < s->ndays; i++) {
        if (s->days[i]->tab == NULL && s->days[i]->requests == 0 &&
            s->ndays > 4 && i + 4 < s->ndays) {
            memset(s->days[i]->key, 0, 16);
            day_free(s->days[i]);
        } else {
            s->days[j++] = s->days[i];
        }
    }
    s->ndays = j;
    s->last_day = NULL;
}

/* ---- visits (in memory only) ---- */

static struct ret__day *
day_for_count(ret_stats *s, int64_t day)
{
    return day_get(s, day);
}

static bool
visit_end(ret_stats *s, struct ret__visit *v)
{
    struct ret__day *d = day_for_count(s, v->day);
    bool okk = d != NULL && count(s, d, RET__D_EXIT, v->page, v->plen, 1, 0);

    free(v->page);
    v->page = NULL;
    v->vh = 0;
    return okk;
}

static bool
visits_rehash(ret_stats *s, size_t cap, int64_t expire_before, bool all)
{
    struct ret__visit *nv = calloc(cap, sizeof(*nv));
    size_t i, n = 0;
    bool okk = true;

    if (nv == NULL)
        return false;
    for (i = 0; i < s->vcap; i++) {
        struct ret__visit *v = &s->visits[i];
        size_t j;
        if (v->vh == 0)
            continue;
        if (all || v->last < expire_before) {
            okk = visit_end(s, v) && okk;
            continue;
        }
        for (j = v->vh & (cap - 1); nv[j].vh != 0; j = (j + 1) & (cap - 1))
            ;
        nv[j] = *v;
        n++;
    }
    free(s->visits);
    s->visits = nv;
    s->vcap = cap;
    s->vn = n;
    return okk;
}

static bool
visits_end_all(ret_stats *s)
{
    bool okk;

    if (s->vcap == 0)
        return true;
    okk = visits_rehash(s, 16, 0, true);
    visits_clear(s);
    return okk;
}

static bool
visit_page(ret_stats *s, uint64_t vh, int64_t t, int64_t day, const char *page,
           size_t plen)
{
    struct ret__visit *v;
    struct ret__day *d;
    size_t i, mask;

    if (t > s->vmax)
        s->vmax = t;
    if (s->vn * 2 >= s->vcap) {
        size_t cap = s->vcap ? s->vcap : 1024;
        /* expire old visits first; grow only when still full */
        if (!visits_rehash(s, cap, s->vmax - VISIT_GAP, false))
            return false;
        if (s->vn * 2 >= s->vcap && !visits_rehash(s, cap * 2, 0, false))
            return false;
    }
    if (plen > MAX_KEY)
        plen = MAX_KEY;
    mask = s->vcap - 1;
    for (i = vh & mask; s->visits[i].vh != 0 && s->visits[i].vh != vh;
         i = (i + 1) & mask)
        ;
    v = &s->visits[i];
    if (v->vh == vh && t - v->last > VISIT_GAP && !visit_end(s, v))
        return false;
    d = day_get(s, day);
    if (d == NULL)
        return false;
    if (v->vh != vh) {
        /* a new visit: its entry page */
        v->page = malloc(plen + 1);
        if (v->page == NULL)
            return false;
        memcpy(v->page, page, plen);
        v->page[plen] = '\0';
        v->plen = plen;
        v->vh = vh;
        v->day = day;
        v->last = t;
        s->vn++;
        return count(s, d, RET__D_ENTRY, page, plen, 1, 0);
    }
    if (t > v->last)
        v->last = t;
    if (v->plen != plen || memcmp(v->page, page, plen) != 0) {
        char buf[2 * MAX_KEY + 2];
        char *np;
        memcpy(buf, v->page, v->plen);
        buf[v->plen] = '\0';
        memcpy(buf + v->plen + 1, page, plen);
        if (!count(s, d, RET__D_FLOW, buf, v->plen + 1 + plen, 1, 0))
            return false;
        np = realloc(v->page, plen + 1);
        if (np == NULL)
            return false;
        memcpy(np, page, plen);
        np[plen] = '\0';
        v->page = np;
        v->plen = plen;
    }
    return true;
}

ret_status
ret_stats_flush(ret_stats *s, ret_error *err)
{
    ret_status st;

    if (s == NULL)
        return ret__fail(err, RET_E_INVAL, "ret_stats_flush: NULL");
    if (!visits_end_all(s))
        return ret__fail(err, RET_E_NOMEM, "out of memory");
    st = flush_batch(s, NULL, err);
    if (st == RET_OK)
        days_compact(s);
    return st;
}

/* ---- one record ---- */

static bool
slice_eq(const ret__slice *sl, const char *s)
{
    size_t n = strlen(s);

    return sl->p != NULL && sl->n == n && memcmp(sl->p, s, n) == 0;
}

static bool
is_asset(const char *p, size_t n)
{
    static const struct {
        char s[12];
        size_t n;
    } ext[] = {
#define E(x) {x, sizeof(x) - 1}
        E("css"),  E("js"),   E("mjs"),   E("map"),  E("png"),  E("jpg"),
        E("jpeg"), E("gif"),  E("ico"),   E("svg"),  E("webp"), E("avif"),
        E("woff"), E("woff2"), E("ttf"),  E("otf"),  E("eot"),  E("mp4"),
        E("webm"), E("mp3"),  E("ogg"),   E("wav"),  E("json"), E("xml"),
        E("txt"),  E("bmp"),  E("pdf"),   E("zip"),  E("gz"),   E("tgz"),
        E("webmanifest")
#undef E
    };
    size_t i, dot = n, el;

    for (i = n; i > 0; i--) {
        if (p[i - 1] == '/')
            return false;
        if (p[i - 1] == '.') {
            dot = i;
            break;
        }
    }
    if (dot == n)
        return false;
    el = n - dot;
    if (el > 11)
        return false;
    for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
        if (ext[i].n == el && (p[dot] | 0x20) == ext[i].s[0] &&
            strncasecmp(p + dot, ext[i].s, el) == 0)
            return true;
    return false;
}

/* The key of a page: path (and query when kept), redacted, without
 * control bytes that would break a key (NUL). */
static const char *
page_key(ret_stats *s, const ret_record *rec, size_t *len)
{
    const ret__slice *p = &rec->f[RET_F_PATH], *q = &rec->f[RET_F_QUERY];
    size_t n = 0, i;

    if (p->p == NULL)
        return NULL;
    /* copied whole; a NUL (rare) becomes '?' */
    n = p->n < MAX_KEY ? p->n : MAX_KEY;
    memcpy(s->kbuf, p->p, n);
    if (memchr(s->kbuf, '\0', n) != NULL)
        for (i = 0; i < n; i++)
            if (s->kbuf[i] == '\0')
                s->kbuf[i] = '?';
    if (s->keep_query && q->p != NULL && q->n > 0 && n < MAX_KEY) {
        s->kbuf[n++] = '?';
        for (i = 0; i < q->n && n < MAX_KEY; i++)
            s->kbuf[n++] = q->p[i] == '\0' ? '?' : q->p[i];
    }
    s->kbuf[n] = '\0';
    return ret__redact_apply(s->redact, s->kbuf, n, len);
}

/* The bytes that end the host part of a URL. */
static const unsigned char host_end[256] = {['/'] = 1, ['?'] = 1, ['#'] = 1};

static const char *
referrer_key(ret_stats *s, const ret__slice *r, size_t *len)
{
    const char *p = r->p, *e, *h, *he;
    size_t n = 0;

    if (p == NULL || r->n == 0 || (r->n == 1 && p[0] == '-'))
        return NULL;
    e = p + r->n;
    /* the first "://", found by its colon (cheaper than memmem) */
    for (h = p; (h = memchr(h, ':', (size_t)(e - h))) != NULL; h++)
        if (e - h >= 3 && h[1] == '/' && h[2] == '/')
            break;
    h = h != NULL ? h + 3 : p;
    /* user:password@ never reaches the statistics */
    for (he = h; he < e && !host_end[(unsigned char)*he]; he++)
        ;
    {
        const char *at = memchr(h, '@', (size_t)(he - h));
        if (at != NULL)
            h = at + 1;
    }
    if (!s->full_referrer) {
        const char *c;
        for (c = h; c < he && n < MAX_KEY; c++) {
            char ch = *c;
            if (ch == ':')
                break;
            s->kbuf[n++] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
        }
        s->kbuf[n] = '\0';
        if (n == 0)
            return NULL;
        *len = n;
        return s->kbuf;
    }
    for (; h < e && n < MAX_KEY; h++) {
        if ((*h == '?' && !s->keep_query) || *h == '#')
            break;
        s->kbuf[n++] = *h == '\0' ? '?' : *h;
    }
    s->kbuf[n] = '\0';
    return ret__redact_apply(s->redact, s->kbuf, n, len);
}

/* Does the Cookie header hold the cookie "name=value"? */
static bool
has_cookie(const ret__slice *c, const char *nv, size_t n)
{
    const char *p = c->p, *e;

    if (p == NULL || n == 0)
        return false;
    e = p + c->n;
    while (p < e) {
        const char *semi;
        size_t len;
        while (p < e && (*p == ' ' || *p == ';'))
            p++;
        semi = memchr(p, ';', (size_t)(e - p));
        len = (size_t)((semi ? semi : e) - p);
        while (len > 0 && p[len - 1] == ' ')
            len--;
        if (len == n && memcmp(p, nv, n) == 0)
            return true;
        if (semi == NULL)
            break;
        p = semi + 1;
    }
    return false;
}

static bool
opted_out(const ret_stats *s, const ret_record *rec)
{
    return slice_eq(&rec->f[RET_F_DNT], "1") ||
           slice_eq(&rec->f[RET_F_GPC], "1") ||
           (s->optout_cookie[0] != '\0' &&
            has_cookie(&rec->f[RET_F_COOKIE], s->optout_cookie,
                       strlen(s->optout_cookie)));
}

/* Counts a method or protocol: one of the common ones (index i >= 0)
 * in the day's fixed arrays, any other (its first 16 bytes) as a key. */
static inline bool
count_listed(ret_stats *s, struct ret__day *d, int dim, const ret__slice *v,
             int i, uint64_t *hits, uint64_t *bytes_of, uint64_t bytes)
{
    if (i >= 0) {
        hits[i]++;
        bytes_of[i] += bytes;
        return true;
    }
    return count(s, d, dim, v->p, v->n > 16 ? 16 : v->n, 1, bytes);
}

/* The index of a method in common_methods, or -1: compares of a known
 * length, which the compiler turns into a load or two. */
static int
method_index(const ret__slice *v)
{
    const char *p = v->p;

    switch (v->n) {
    case 3:
        return memcmp(p, "GET", 3) == 0 ? 0 : memcmp(p, "PUT", 3) == 0 ? 3 : -1;
    case 4:
        return memcmp(p, "POST", 4) == 0   ? 1
               : memcmp(p, "HEAD", 4) == 0 ? 2
                                           : -1;
    case 5:
        return memcmp(p, "PATCH", 5) == 0 ? 6 : -1;
    case 6:
        return memcmp(p, "DELETE", 6) == 0 ? 4 : -1;
    case 7:
        return memcmp(p, "OPTIONS", 7) == 0   ? 5
               : memcmp(p, "CONNECT", 7) == 0 ? 7
                                              : -1;
    }
    return -1;
}

/* The index of a protocol in common_protocols, or -1. */
static int
protocol_index(const ret__slice *v)
{
    const char *p = v->p;

    switch (v->n) {
    case 1:
        return p[0] == '-' ? 7 : -1;
    case 6:
        return memcmp(p, "HTTP/2", 6) == 0   ? 3
               : memcmp(p, "HTTP/3", 6) == 0 ? 5
                                             : -1;
    case 8:
        if (memcmp(p, "HTTP/", 5) != 0 || p[6] != '.')
            return -1;
        return memcmp(p + 5, "1.1", 3) == 0   ? 0
               : memcmp(p + 5, "1.0", 3) == 0 ? 1
               : memcmp(p + 5, "2.0", 3) == 0 ? 2
               : memcmp(p + 5, "3.0", 3) == 0 ? 4
               : memcmp(p + 5, "0.9", 3) == 0 ? 6
                                              : -1;
    }
    return -1;
}

static ret_status
add_record(ret_stats *s, struct ret__input *in, const ret_record *rec,
           ret_error *err)
{
    int64_t local = rec->time + rec->utc_offset;
    int64_t day = floor_div(local, 86400);
    unsigned hour = (unsigned)((local - day * 86400) / 3600);
    uint64_t bytes = rec->bytes > 0 ? (uint64_t)rec->bytes : 0;
    struct ret__day *d = day_get(s, day);
    const char *k;
    size_t kn = 0;
    uint32_t combo;
    const ret__ua_info *info;
    const ret__slice *ua = &rec->f[RET_F_USER_AGENT];
    ret_ip ip;
    uint64_t uah = 0;
    bool have_ip;

    if (d == NULL)
        goto nomem;
    d->requests++;
    d->bytes += bytes;
    if (in->pending_unparsed) {
        d->unparsed += in->pending_unparsed;
        in->pending_unparsed = 0;
    }
    in->last_day = day;
    in->have_day = true;
    if (rec->status >= 100 && rec->status <= 999) {
        d->status_hits[rec->status]++;
        d->status_bytes[rec->status] += bytes;
    }
    d->hour_hits[hour]++;
    d->hour_bytes[hour] += bytes;
    if (rec->f[RET_F_METHOD].p != NULL &&
        !count_listed(s, d, RET__D_METHOD, &rec->f[RET_F_METHOD],
                      method_index(&rec->f[RET_F_METHOD]), d->method_hits,
                      d->method_bytes, bytes))
        goto nomem;
    if (rec->f[RET_F_PROTOCOL].p != NULL &&
        !count_listed(s, d, RET__D_PROTOCOL, &rec->f[RET_F_PROTOCOL],
                      protocol_index(&rec->f[RET_F_PROTOCOL]), d->proto_hits,
                      d->proto_bytes, bytes))
        goto nomem;
    if (rec->f[RET_F_VHOST].p != NULL &&
        !count(s, d, RET__D_VHOST, rec->f[RET_F_VHOST].p, rec->f[RET_F_VHOST].n,
               1, bytes))
        goto nomem;
    k = referrer_key(s, &rec->f[RET_F_REFERER], &kn);
    if (k != NULL && !count(s, d, RET__D_REFERRER, k, kn, 1, bytes))
        goto nomem;
    if (s->ua == NULL &&
        ret__ua_new(s->uap, &s->ua, err) != RET_OK)
        return err ? err->status : RET_E_NOMEM;
    /* agents are classified (and cached) by their first 512 bytes: a garbage
     * line cannot make the cache hold megabytes per entry */
    combo = ua->p != NULL
                ? ret__ua_lookup(s->ua, ua->p, ua->n > 512 ? 512 : ua->n,
                                 &uah)
                : ret__ua_lookup(s->ua, "", 0, &uah);
    s->last_uah = uah;
    info = ret__ua_info_of(s->ua, combo);
    if (info == NULL)
        goto nomem;
    if (combo >= d->ua_cap) {
        size_t cap = d->ua_cap ? d->ua_cap : 16, z;
        uint64_t *h, *b;
        while (cap <= combo)
            cap *= 2;
        h = realloc(d->ua_hits, cap * sizeof(*h));
        if (h == NULL)
            goto nomem;
        d->ua_hits = h;
        b = realloc(d->ua_bytes, cap * sizeof(*b));
        if (b == NULL)
            goto nomem;
        d->ua_bytes = b;
        for (z = d->ua_cap; z < cap; z++)
            d->ua_hits[z] = d->ua_bytes[z] = 0;
        d->ua_cap = cap;
    }
    d->ua_hits[combo]++;
    d->ua_bytes[combo] += bytes;
    /* the page last: kbuf holds it for the flows below */
    k = page_key(s, rec, &kn);
    if (k != NULL) {
        if (!count(s, d, RET__D_PAGE, k, kn, 1, bytes))
            goto nomem;
        if (rec->status == 404 && !count(s, d, RET__D_NOTFOUND, k, kn, 1, bytes))
            goto nomem;
    }
    have_ip = rec->f[RET_F_CLIENT].p != NULL &&
              ret_ip_parse(rec->f[RET_F_CLIENT].p, rec->f[RET_F_CLIENT].n, &ip,
                           NULL) == RET_OK;
    if (have_ip && s->ngeo > 0) {
        char cc[8] = "", asn[128] = "", c2[8], a2[128];
        size_t g;
        for (g = 0; g < s->ngeo; g++) {
            ret__geoip_lookup(s->geo[g], &ip, c2, a2, sizeof(a2));
            if (cc[0] == '\0' && c2[0] != '\0')
                memcpy(cc, c2, sizeof(cc));
            if (asn[0] == '\0' && a2[0] != '\0')
                memcpy(asn, a2, sizeof(asn));
        }
        if (!count(s, d, RET__D_COUNTRY, cc[0] ? cc : "unknown",
                   strlen(cc[0] ? cc : "unknown"), 1, bytes))
            goto nomem;
        if (asn[0] != '\0' &&
            !count(s, d, RET__D_NETWORK, asn, strlen(asn), 1, bytes))
            goto nomem;
    }
    if (have_ip && !opted_out(s, rec)) {
        int kst = day_key(s, d, err);
        unsigned char buf[16 + 1 + 8];
        uint64_t vh;
        if (kst < 0) {
            memset(&ip, 0, sizeof(ip));
            return err ? err->status : RET_E_DB;
        }
        if (kst == 0) {
            in->late++;
        } else {
            static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0,
                                                     0, 0, 0, 0xff, 0xff};
            if (ip.family == 6 && memcmp(ip.bytes, mapped, 12) == 0) {
                /* ::ffff:a.b.c.d is the IPv4 client a.b.c.d */
                unsigned char v4[4];
                memcpy(v4, ip.bytes + 12, 4);
                memset(&ip, 0, sizeof(ip));
                ip.family = 4;
                memcpy(ip.bytes, v4, 4);
            }
            memcpy(buf, ip.bytes, 16);
            buf[16] = ip.family;
            memcpy(buf + 17, &uah, 8);
            vh = ret__siphash24(d->key, buf, sizeof(buf));
            memset(buf, 0, sizeof(buf));
            if (d->hll == NULL && (d->hll = calloc(1, sizeof(*d->hll))) == NULL)
                goto nomem;
            ret__hll_add(d->hll, vh);
            if (!s->no_flows && k != NULL && info->crawler == NULL &&
                slice_eq(&rec->f[RET_F_METHOD], "GET") &&
                ((rec->status >= 200 && rec->status < 300) ||
                 rec->status == 304) &&
                !is_asset(k, kn) &&
                !visit_page(s, vh | 1, rec->time, day, k, kn))
                goto nomem;
        }
    }
    memset(&ip, 0, sizeof(ip));
    return RET_OK;
nomem:
    memset(&ip, 0, sizeof(ip));
    return ret__fail(err, RET_E_NOMEM, "out of memory");
}

/* ---- inputs ---- */

/*
 * Identity digests never see an address: a line's bytes are hashed with
 * the address tokens the parser found left out (or, for a line that did
 * not parse, without any hex digit, dot or colon), so that no stored
 * hash could be brute-forced back to an address. limit bounds the bytes
 * looked at.
 */
static uint64_t
digest_masked(const char *line, size_t len, uint64_t h, size_t limit)
{
    char buf[256];
    size_t n = 0, i, kept = 0;

    for (i = 0; i < len && kept < limit; i++) {
        unsigned char c = (unsigned char)line[i];
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
            (c >= 'A' && c <= 'F') || c == '.' || c == ':')
            continue;
        buf[n++] = (char)c;
        kept++;
        if (n == sizeof(buf)) {
            h = ret__hash(buf, n, h);
            n = 0;
        }
    }
    return ret__hash(buf, n, h);
}

/* The address tokens are left out; limit counts the bytes kept, so that
 * a line and its anonymized copy (shorter addresses) digest alike. */
static uint64_t
digest_line(const ret_record *rec, const char *line, size_t len, uint64_t seed,
            size_t limit)
{
    uint64_t h = seed;
    size_t pos = 0, i, kept = 0, k;

    if (rec == NULL || rec->addr_overflow || rec->line != line)
        return digest_masked(line, len, seed, limit);
    for (i = 0; i <= rec->naddr && kept < limit; i++) {
        size_t off = i < rec->naddr ? rec->addr[i].off : len;
        size_t alen = i < rec->naddr ? rec->addr[i].len : 0;
        if (off < pos || off + alen > len)
            return digest_masked(line, len, seed, limit);
        k = off - pos;
        if (k > limit - kept)
            k = limit - kept;
        h = ret__hash(line + pos, k, h);
        kept += k;
        pos = off + alen;
    }
    return h;
}

/* The digest of a line for the identity of its input. */
static uint64_t
identity(ret_parser *p, const char *line, size_t len, uint64_t seed,
         size_t limit)
{
    const ret_record *rec = NULL;

    if (ret_parser_parse(p, line, len, &rec, NULL) != RET_OK)
        rec = NULL;
    return digest_line(rec, line, len, seed, limit);
}

static inline uint64_t
mix64(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h *= 0xbf58476d1ce4e5b9ULL;
    return h ^ (h >> 31);
}

/* The anchor of a counted line from what counting computed anyway: its
 * time, status, bytes and agent (never its address) and its number. */
static uint64_t
fingerprint(const ret_record *rec, uint64_t uah, uint64_t lineno)
{
    uint64_t h = mix64(SEED_HEAD, lineno);

    h = mix64(h, (uint64_t)rec->time);
    h = mix64(h, (uint64_t)rec->status);
    h = mix64(h, (uint64_t)rec->bytes);
    return mix64(h, uah);
}

/* The anchor of line lineno as input_line() would have stored it. */
static uint64_t
anchor(ret_parser *p, const char *line, size_t len, uint64_t lineno)
{
    const ret_record *rec = NULL;
    const ret__slice *ua;

    if (ret_parser_parse(p, line, len, &rec, NULL) != RET_OK ||
        !rec->has_time)
        return digest_masked(line, len, lineno, ANCHOR_BYTES);
    ua = &rec->f[RET_F_USER_AGENT];
    return fingerprint(rec,
                       ua->p ? ret__hash(ua->p, ua->n > 512 ? 512 : ua->n,
                                         0x7561)
                             : ret__hash("", 0, 0x7561),
                       lineno);
}

/* Finds what was ingested before of the stream whose first lines are
 * digested in in->hcum (hcum[i]: the first i + 1 lines). */
static ret_status
input_match(ret_stats *s, struct ret__input *in, ret_error *err)
{
    sqlite3_stmt *q = NULL;
    ret_status st = RET_OK;
    size_t hl = in->nhead;
    uint64_t hh = in->nhead ? in->hcum[in->nhead - 1] : 0;

    if (hl == 0)
        return RET_OK;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT head_lines, head_hash, lines, anchor"
                           " FROM sources WHERE (head_lines = ?1 AND"
                           " head_hash = ?2) OR head_lines < ?1"
                           " ORDER BY head_lines DESC",
                           -1, &q, NULL) != SQLITE_OK)
        return db_fail(err, s->db, "sources");
    sqlite3_bind_int64(q, 1, (int64_t)hl);
    sqlite3_bind_int64(q, 2, (int64_t)hh);
    for (;;) {
        int rc = sqlite3_step(q);
        size_t len;
        uint64_t h;
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            st = db_fail(err, s->db, "sources");
            break;
        }
        len = (size_t)sqlite3_column_int64(q, 0);
        h = (uint64_t)sqlite3_column_int64(q, 1);
        if (len == 0 || len > hl || in->hcum[len - 1] != h)
            continue;
        in->match_len = len;
        in->match_hash = h;
        in->prev_lines = (uint64_t)sqlite3_column_int64(q, 2);
        in->prev_hash = (uint64_t)sqlite3_column_int64(q, 3);
        in->stored_lines = in->prev_lines;
        break;
    }
    sqlite3_finalize(q);
    return st;
}

static ret_status
input_line(ret_stats *s, struct ret__input *in, const char *line, size_t len,
           ret_error *err)
{
    const ret_record *rec;
    ret_status st;
    ret_error perr;

    in->offset += len;
    in->lines++;
    if (in->lines <= in->prev_lines) {
        s->last_skipped++;
        if (in->lines == in->prev_lines) {
            /* where the last ingest stopped: the same line? */
            uint64_t a = anchor(in->parser, line, len, in->lines);
            if (a != in->prev_hash)
                in->mismatch = true;
        } else if (len > 0 && line[0] == '#') {
            /* W3C directives set the parser's fields */
            (void)ret_parser_parse(in->parser, line, len, &rec, NULL);
        }
        return RET_OK;
    }
    st = ret_parser_parse(in->parser, line, len, &rec, &perr);
    if (st == RET_OK && rec->has_time) {
        s->last_counted++;
        if ((st = add_record(s, in, rec, err)) != RET_OK)
            return st;
        /* the anchor, checked when a later ingest resumes here */
        in->chash = fingerprint(rec, s->last_uah, in->lines);
    } else if (st == RET_EOF) {
        /* a header or an empty line: nothing to count */
        in->chash = digest_masked(line, len, in->lines, ANCHOR_BYTES);
    } else {
        in->chash = digest_masked(line, len, in->lines, ANCHOR_BYTES);
        s->last_unparsed++;
        if (in->have_day) {
            struct ret__day *d = day_get(s, in->last_day);
            if (d == NULL)
                return ret__fail(err, RET_E_NOMEM, "out of memory");
            d->unparsed++;
        } else {
            in->pending_unparsed++;
        }
    }
    if (s->nentries > FLUSH_ENTRIES || s->ndays > FLUSH_DAYS) {
        if ((st = flush_batch(s, in, err)) != RET_OK)
            return st;
        days_compact(s);
    }
    return RET_OK;
}

/* Keeps a copy of a failure (err may be NULL). */
static void
err_copy(ret_error *dst, const ret_error *src)
{
    if (src != NULL)
        *dst = *src;
    else
        memset(dst, 0, sizeof(*dst));
    dst->status = RET_E_GZIP;
}

/* Stores a line of the head phase (to be replayed after the match). */
static bool
buf_append(char **buf, size_t *n, size_t *cap, const char *p, size_t len)
{
    if (*n + len > *cap) {
        size_t c = *cap ? *cap : 8192;
        char *v;
        while (c < *n + len)
            c *= 2;
        v = realloc(*buf, c);
        if (v == NULL)
            return false;
        *buf = v;
        *cap = c;
    }
    memcpy(*buf + *n, p, len);
    *n += len;
    return true;
}

ret_status
ret_stats_ingest_reader(ret_stats *s, ret_reader *r, const char *format,
                        const char *site, ret_error *err)
{
    struct ret__input in;
    ret_format *fmt = NULL;
    ret_status st;
    char *held = NULL;
    size_t nheld = 0, capheld = 0, pos;
    const char *line;
    size_t len;
    bool gz, eof = false;
    uint64_t nlines = 0;
    size_t nlines_held = 0;
    char site_buf[256];
    ret_error dmg;
    ret_parser *idp = NULL;
    char *tail = NULL;
    size_t ntail = 0, captail = 0;
    bool damaged = false;

    if (s == NULL || r == NULL)
        return ret__fail(err, RET_E_INVAL, "ret_stats_ingest_reader: NULL");
    memset(&in, 0, sizeof(in));
    s->last_counted = s->last_skipped = s->last_unparsed = 0;
    snprintf(site_buf, sizeof(site_buf), "%s", site ? site : "");
    in.site = site_buf;
    if (strcmp(site_buf, s->cur_site) != 0) {
        /* visits do not span sites */
        if ((st = ret_stats_flush(s, err)) != RET_OK)
            return st;
        memcpy(s->cur_site, site_buf, sizeof(s->cur_site));
    }
    s->flush_site = s->cur_site;
    if ((st = ret_format_compile(format ? format : "auto", &fmt, err)) !=
            RET_OK ||
        (st = ret_parser_new(fmt, &in.parser, err)) != RET_OK)
        goto out;
    gz = ret_reader_is_gzip(r) != 0;
    /* the head: the first 4 KiB identify the stream */
    while (nlines_held < HEAD_LINES && nheld < HEAD_MAX) {
        st = ret_reader_next(r, &line, &len, err);
        if (st == RET_EOF) {
            eof = true;
            break;
        }
        if (st == RET_E_GZIP) {
            /* damaged: count what came before the damage, then fail */
            err_copy(&dmg, err);
            damaged = true;
            st = RET_OK;
            eof = true;
            break;
        }
        if (st != RET_OK)
            goto out;
        if (!buf_append(&held, &nheld, &capheld, line, len)) {
            st = ret__fail(err, RET_E_NOMEM, "out of memory");
            goto out;
        }
        nlines_held++;
    }
    /* the identity of the head, line by line, addresses left out */
    if ((st = ret_parser_new(fmt, &idp, err)) != RET_OK)
        goto out;
    for (pos = 0; pos < nheld;) {
        const char *nl = memchr(held + pos, '\n', nheld - pos);
        size_t l = nl ? (size_t)(nl - (held + pos)) + 1 : nheld - pos;
        uint64_t prev = in.nhead ? in.hcum[in.nhead - 1] : SEED_HEAD;
        if (in.nhead == HEAD_LINES)
            break;
        in.hcum[in.nhead++] = identity(idp, held + pos, l, prev, SIZE_MAX);
        pos += l;
    }
    if ((st = input_match(s, &in, err)) != RET_OK)
        goto out;
    /* replay the held lines, then read on */
    pos = 0;
    for (;;) {
        if (pos < nheld) {
            const char *nl = memchr(held + pos, '\n', nheld - pos);
            line = held + pos;
            len = nl ? (size_t)(nl - line) + 1 : nheld - pos;
            pos += len;
        } else if (eof) {
            break;
        } else {
            st = ret_reader_next(r, &line, &len, err);
            if (st == RET_EOF) {
                eof = true;
                break;
            }
            if (st == RET_E_GZIP) {
                err_copy(&dmg, err);
                damaged = true;
                st = RET_OK;
                break;
            }
            if (st != RET_OK)
                goto out;
        }
        /* a live file's last line may still be being written: it is
         * counted once complete (gzip data is complete); only the last
         * line can lack its newline */
        if (len == 0)
            continue;
        if (line[len - 1] != '\n') {
            /* the last line; counted only when the input ended cleanly:
             * gzip data that is complete (not cut by damage) */
            if (!gz || damaged)
                break;
            if (pos >= nheld && !eof) {
                const char *l2;
                size_t n2;
                if (!buf_append(&tail, &ntail, &captail, line, len)) {
                    st = ret__fail(err, RET_E_NOMEM, "out of memory");
                    goto out;
                }
                st = ret_reader_next(r, &l2, &n2, err);
                if (st == RET_E_GZIP) {
                    err_copy(&dmg, err);
                    damaged = true;
                    st = RET_OK;
                    break;
                }
                if (st != RET_EOF && st != RET_OK)
                    goto out;
                eof = true;
                line = tail;
                len = ntail;
            }
        }
        if ((st = input_line(s, &in, line, len, err)) != RET_OK)
            goto out;
        if ((++nlines & 8191) == 0 && s->progress != NULL)
            s->progress(s->progress_ctx, ret_reader_raw_offset(r),
                        ret_reader_raw_size(r));
    }
    if (in.pending_unparsed) {
        int64_t day = floor_div(s->now, 86400);
        struct ret__day *d = day_get(s, in.have_day ? in.last_day : day);
        if (d == NULL) {
            st = ret__fail(err, RET_E_NOMEM, "out of memory");
            goto out;
        }
        d->unparsed += in.pending_unparsed;
    }
    if ((st = flush_batch(s, &in, err)) != RET_OK)
        goto out;
    days_compact(s);
    if (s->progress != NULL)
        s->progress(s->progress_ctx, ret_reader_raw_offset(r),
                    ret_reader_raw_size(r));
out:
    if (st != RET_OK) {
        /* what was not committed is dropped: a later run counts it */
        size_t i;
        for (i = 0; i < s->ndays; i++) {
            free(s->days[i]->tab);
            s->days[i]->tab = NULL;
            s->days[i]->n = s->days[i]->cap = 0;
            free(s->days[i]->hll);
            s->days[i]->hll = NULL;
            free(s->days[i]->ua_hits);
            free(s->days[i]->ua_bytes);
            s->days[i]->ua_hits = s->days[i]->ua_bytes = NULL;
            s->days[i]->ua_cap = 0;
            memset(s->days[i]->method_hits, 0,
                   sizeof(s->days[i]->method_hits));
            memset(s->days[i]->method_bytes, 0,
                   sizeof(s->days[i]->method_bytes));
            memset(s->days[i]->proto_hits, 0, sizeof(s->days[i]->proto_hits));
            memset(s->days[i]->proto_bytes, 0,
                   sizeof(s->days[i]->proto_bytes));
            s->days[i]->requests = s->days[i]->bytes = 0;
            s->days[i]->unparsed = 0;
            memset(s->days[i]->status_hits, 0, sizeof(s->days[i]->status_hits));
            memset(s->days[i]->status_bytes, 0,
                   sizeof(s->days[i]->status_bytes));
            memset(s->days[i]->hour_hits, 0, sizeof(s->days[i]->hour_hits));
            memset(s->days[i]->hour_bytes, 0, sizeof(s->days[i]->hour_bytes));
        }
        arena_free(&s->arena);
        s->nentries = 0;
        visits_clear(s);
    }
    free(held);
    free(tail);
    ret_parser_free(idp);
    ret_parser_free(in.parser);
    ret_format_free(fmt);
    if (st == RET_OK && damaged) {
        /* what came before the damage is counted (and remembered) */
        if (err != NULL)
            *err = dmg;
        return RET_E_GZIP;
    }
    return st;
}

ret_status
ret_stats_ingest_file(ret_stats *s, const char *path, const char *format,
                      const char *site, ret_error *err)
{
    ret_reader *r = NULL;
    ret_status st;

    if (s == NULL || path == NULL)
        return ret__fail(err, RET_E_INVAL, "ret_stats_ingest_file: NULL");
    if ((st = ret_reader_open(path, &r, err)) != RET_OK)
        return st;
    st = ret_stats_ingest_reader(s, r, format, site, err);
    ret_reader_free(r);
    return st;
}

/* ---- content counted before, under another identity ---- */

/*
 * A marker digests a copy of counted lines as an ingest would (the head
 * identity, the number of lines, the anchor of the last one) and stores
 * that identity as counted, so that a later ingest of the copy skips it.
 * Nothing but those digests is kept, and they leave the addresses out.
 */
struct ret__stats_mark {
    ret_stats *s;
    ret_format *fmt;
    ret_parser *idp; /* the head identity */
    ret_parser *ap;  /* sees the '#' lines, then the anchor line */
    uint64_t hcum[HEAD_LINES];
    size_t nhead, headbytes;
    uint64_t lines, bytes; /* complete lines, and their bytes */
    char *last;            /* the last complete line */
    size_t nlast, caplast;
    char *open; /* a last line without its newline */
    size_t nopen, capopen;
};

ret_status
ret__stats_mark_new(ret_stats *s, const char *format, ret__stats_mark **out,
                    ret_error *err)
{
    ret__stats_mark *m;
    ret_status st;

    if (s == NULL || out == NULL)
        return ret__fail(err, RET_E_INVAL, "ret__stats_mark_new: NULL");
    if ((m = calloc(1, sizeof(*m))) == NULL)
        return ret__fail(err, RET_E_NOMEM, "out of memory");
    m->s = s;
    if ((st = ret_format_compile(format ? format : "auto", &m->fmt, err)) !=
            RET_OK ||
        (st = ret_parser_new(m->fmt, &m->idp, err)) != RET_OK ||
        (st = ret_parser_new(m->fmt, &m->ap, err)) != RET_OK) {
        ret__stats_mark_free(m);
        return st;
    }
    *out = m;
    return RET_OK;
}

void
ret__stats_mark_free(ret__stats_mark *m)
{
    if (m == NULL)
        return;
    ret_parser_free(m->idp);
    ret_parser_free(m->ap);
    ret_format_free(m->fmt);
    free(m->last);
    free(m->open);
    free(m);
}

ret_status
ret__stats_mark_line(ret__stats_mark *m, const char *line, size_t len,
                     ret_error *err)
{
    const ret_record *rec;

    if (len == 0)
        return RET_OK;
    if (m->nopen > 0)
        return ret__fail(err, RET_E_INVAL,
                         "a line after a line without its newline");
    if (m->nhead < HEAD_LINES && m->headbytes < HEAD_MAX) {
        uint64_t prev = m->nhead ? m->hcum[m->nhead - 1] : SEED_HEAD;
        m->hcum[m->nhead++] = identity(m->idp, line, len, prev, SIZE_MAX);
        m->headbytes += len;
    }
    if (line[len - 1] != '\n') {
        /* counted only in gzip data (see ret_stats_ingest_reader) */
        m->nopen = 0;
        if (!buf_append(&m->open, &m->nopen, &m->capopen, line, len))
            return ret__fail(err, RET_E_NOMEM, "out of memory");
        return RET_OK;
    }
    if (m->lines > 0 && m->nlast > 0 && m->last[0] == '#')
        /* W3C directives set the fields, as when an ingest skips them */
        (void)ret_parser_parse(m->ap, m->last, m->nlast, &rec, NULL);
    m->lines++;
    m->bytes += len;
    m->nlast = 0;
    if (!buf_append(&m->last, &m->nlast, &m->caplast, line, len))
        return ret__fail(err, RET_E_NOMEM, "out of memory");
    return RET_OK;
}

ret_status
ret__stats_mark_commit(ret__stats_mark *m, bool gzip, ret_error *err)
{
    ret_stats *s = m->s;
    const ret_record *rec;
    const char *al = m->last;
    size_t an = m->nlast, hl;
    uint64_t lines = m->lines, bytes = m->bytes, hh, a, had;
    ret_status st;

    if (gzip && m->nopen > 0) {
        /* complete gzip data: its last line was counted too */
        if (m->lines > 0 && m->nlast > 0 && m->last[0] == '#')
            (void)ret_parser_parse(m->ap, m->last, m->nlast, &rec, NULL);
        al = m->open;
        an = m->nopen;
        lines++;
        bytes += m->nopen;
    }
    if (lines == 0 || m->nhead == 0)
        return RET_OK;
    hl = lines < m->nhead ? (size_t)lines : m->nhead;
    hh = m->hcum[hl - 1];
    a = anchor(m->ap, al, an, lines);
    if ((st = exec(s->db, "BEGIN IMMEDIATE", err)) != RET_OK)
        return st;
    if ((st = stored_lines(s, hl, hh, &had, err)) != RET_OK)
        goto out;
    if (had >= lines)
        goto out; /* known already, as far or further */
    st = put_source(s, hl, hh, lines, a, bytes, err);
out:
    if (st == RET_OK)
        st = exec(s->db, "COMMIT", err);
    if (st != RET_OK)
        (void)exec(s->db, "ROLLBACK", NULL);
    return st;
}

ret_status
ret_stats_mark_ingested(ret_stats *s, ret_reader *r, const char *format,
                        ret_error *err)
{
    ret__stats_mark *m = NULL;
    const char *line;
    size_t len;
    ret_status st;

    if (s == NULL || r == NULL)
        return ret__fail(err, RET_E_INVAL, "ret_stats_mark_ingested: NULL");
    if ((st = ret__stats_mark_new(s, format, &m, err)) != RET_OK)
        return st;
    while ((st = ret_reader_next(r, &line, &len, err)) == RET_OK)
        if ((st = ret__stats_mark_line(m, line, len, err)) != RET_OK)
            goto out;
    /* damaged input is not marked: what it holds is not known */
    if (st != RET_EOF)
        goto out;
    st = ret__stats_mark_commit(m, ret_reader_is_gzip(r) != 0, err);
out:
    ret__stats_mark_free(m);
    return st;
}

/* ---- merge ---- */

/* Copies every row that select_sql reads from src through insert_sql
 * (ncols parameters, an upsert that adds the counts) into s. */
static ret_status
merge_rows(ret_stats *s, sqlite3 *src, const char *path,
           const char *select_sql, const char *insert_sql, int ncols,
           const char *what, ret_error *err)
{
    sqlite3_stmt *q = NULL, *w = NULL;
    ret_status st = RET_OK;
    int rc, c;

    if (sqlite3_prepare_v2(src, select_sql, -1, &q, NULL) != SQLITE_OK) {
        st = ret__fail(err, RET_E_DB, "%s: %s", path, sqlite3_errmsg(src));
        goto out;
    }
    if (sqlite3_prepare_v2(s->db, insert_sql, -1, &w, NULL) != SQLITE_OK) {
        st = db_fail(err, s->db, what);
        goto out;
    }
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        sqlite3_reset(w);
        for (c = 0; c < ncols; c++)
            sqlite3_bind_value(w, c + 1, sqlite3_column_value(q, c));
        if (sqlite3_step(w) != SQLITE_DONE) {
            st = db_fail(err, s->db, what);
            goto out;
        }
    }
    if (rc != SQLITE_DONE)
        st = ret__fail(err, RET_E_DB, "%s: %s", path, sqlite3_errmsg(src));
out:
    sqlite3_finalize(q);
    sqlite3_finalize(w);
    return st;
}

ret_status
ret_stats_merge(ret_stats *s, const char *path, ret_error *err)
{
    sqlite3 *src = NULL;
    sqlite3_stmt *q = NULL, *w = NULL, *h = NULL;
    ret_status st = RET_OK;
    char inst[64] = "";
    bool in_tx = false;
    int rc;

    if (s == NULL || path == NULL)
        return ret__fail(err, RET_E_INVAL, "ret_stats_merge: NULL");
    if ((st = ret_stats_flush(s, err)) != RET_OK)
        return st;
    if (sqlite3_open_v2(path, &src, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        st = ret__fail(err, RET_E_DB, "%s: %s", path,
                       src ? sqlite3_errmsg(src) : "cannot open");
        goto out;
    }
    sqlite3_busy_timeout(src, 10000);
    if (sqlite3_prepare_v2(src, "SELECT v FROM meta WHERE k = 'instance'", -1,
                           &q, NULL) != SQLITE_OK ||
        sqlite3_step(q) != SQLITE_ROW) {
        st = ret__fail(err, RET_E_DB, "%s: not a statistics database", path);
        goto out;
    }
    snprintf(inst, sizeof(inst), "%s", (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    q = NULL;
    if (strcmp(inst, s->instance) == 0) {
        st = ret__fail(err, RET_E_INVAL, "%s: is the target database itself",
                       path);
        goto out;
    }
    if ((st = exec(s->db, "BEGIN IMMEDIATE", err)) != RET_OK)
        goto out;
    in_tx = true;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO merged(instance, merged_at)"
                           " VALUES (?, ?)",
                           -1, &w, NULL) != SQLITE_OK) {
        st = db_fail(err, s->db, "merged");
        goto out;
    }
    sqlite3_bind_text(w, 1, inst, -1, SQLITE_STATIC);
    sqlite3_bind_int64(w, 2, s->now);
    rc = sqlite3_step(w);
    if (rc == SQLITE_CONSTRAINT) {
        st = ret__fail(err, RET_E_INVAL,
                       "%s: already merged into this database (merge into a "
                       "fresh one to refresh)",
                       path);
        goto out;
    }
    if (rc != SQLITE_DONE) {
        st = db_fail(err, s->db, "merged");
        goto out;
    }
    sqlite3_finalize(w);
    w = NULL;
    /* counts and transitions add up row by row */
    if ((st = merge_rows(s, src, path,
                         "SELECT dim, day, site, key, hits, bytes FROM counts",
                         "INSERT INTO counts(dim, day, site, key, hits, bytes)"
                         " VALUES (?, ?, ?, ?, ?, ?)"
                         " ON CONFLICT(dim, day, site, key)"
                         " DO UPDATE SET hits = hits + excluded.hits,"
                         " bytes = bytes + excluded.bytes",
                         6, "counts", err)) != RET_OK ||
        (st = merge_rows(s, src, path,
                         "SELECT day, site, src, dst, hits FROM transitions",
                         "INSERT INTO transitions(day, site, src, dst, hits)"
                         " VALUES (?, ?, ?, ?, ?)"
                         " ON CONFLICT(day, site, src, dst)"
                         " DO UPDATE SET hits = hits + excluded.hits",
                         5, "transitions", err)) != RET_OK)
        goto out;
    /* days, with the union of the visitor sketches */
    if (sqlite3_prepare_v2(src,
                           "SELECT site, day, requests, bytes, unparsed,"
                           " visitors FROM days",
                           -1, &q, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db,
                           "SELECT visitors FROM days WHERE site = ? AND"
                           " day = ?",
                           -1, &h, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(
            s->db,
            "INSERT INTO days(site, day, requests, bytes, unparsed, visitors)"
            " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(site, day) DO UPDATE"
            " SET requests = requests + excluded.requests,"
            " bytes = bytes + excluded.bytes,"
            " unparsed = unparsed + excluded.unparsed,"
            " visitors = coalesce(excluded.visitors, visitors)",
            -1, &w, NULL) != SQLITE_OK) {
        st = ret__fail(err, RET_E_DB, "%s: %s", path, sqlite3_errmsg(src));
        goto out;
    }
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        ret__hll a, b;
        bool have = false;
        int c;
        if (sqlite3_column_type(q, 5) == SQLITE_BLOB &&
            ret__hll_load(&a, sqlite3_column_blob(q, 5),
                          (size_t)sqlite3_column_bytes(q, 5)))
            have = true;
        sqlite3_reset(h);
        sqlite3_bind_value(h, 1, sqlite3_column_value(q, 0));
        sqlite3_bind_value(h, 2, sqlite3_column_value(q, 1));
        if (sqlite3_step(h) == SQLITE_ROW &&
            sqlite3_column_type(h, 0) == SQLITE_BLOB &&
            ret__hll_load(&b, sqlite3_column_blob(h, 0),
                          (size_t)sqlite3_column_bytes(h, 0))) {
            if (have)
                ret__hll_merge(&a, &b);
            else
                a = b;
            have = true;
        }
        sqlite3_reset(w);
        for (c = 0; c < 5; c++)
            sqlite3_bind_value(w, c + 1, sqlite3_column_value(q, c));
        if (have)
            sqlite3_bind_blob(w, 6, a.reg, RET__HLL_M, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(w, 6);
        if (sqlite3_step(w) != SQLITE_DONE) {
            st = db_fail(err, s->db, "days");
            goto out;
        }
    }
    if (rc != SQLITE_DONE) {
        st = ret__fail(err, RET_E_DB, "%s: %s", path, sqlite3_errmsg(src));
        goto out;
    }
    st = exec(s->db, "COMMIT", err);
    in_tx = st != RET_OK;
out:
    sqlite3_finalize(q);
    sqlite3_finalize(w);
    sqlite3_finalize(h);
    if (in_tx)
        (void)exec(s->db, "ROLLBACK", NULL);
    sqlite3_close(src);
    return st;
}

sqlite3 *
ret__stats_db(ret_stats *s)
{
    return s->db;
}
