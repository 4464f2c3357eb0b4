/*
 * stats-int.h - private to the statistics files (stats.c, report.c).
 */
#ifndef RET_STATS_INT_H
#define RET_STATS_INT_H

#include <sqlite3.h>

#include "internal.h"

/* Dimensions; the names are those of the database and the reports. */
enum {
    RET__D_PAGE = 0,
    RET__D_NOTFOUND,
    RET__D_STATUS,
    RET__D_METHOD,
    RET__D_PROTOCOL,
    RET__D_VHOST,
    RET__D_REFERRER,
    RET__D_BROWSER,
    RET__D_OS,
    RET__D_DEVICE,
    RET__D_CRAWLER,
    RET__D_COUNTRY,
    RET__D_NETWORK,
    RET__D_HOUR,
    RET__D_ENTRY,
    RET__D_EXIT,
    RET__D_UA,   /* in memory: browser, os, device, crawler at once */
    RET__D_FLOW, /* in memory: "from\0to" */
    RET__D_COUNT
};
RET_HIDDEN extern const char *const ret__dim_names[RET__D_COUNT];

struct ret__ent {
    uint64_t hash;
    uint64_t a, b; /* keys of up to 16 bytes, as two words */
    char *key; /* NULL: empty slot */
    uint32_t len;
    uint8_t dim;
    uint64_t hits;
    uint64_t bytes;
};

struct ret__day {
    int64_t day; /* days since the epoch, as written in the log */
    uint64_t requests, bytes, unparsed;
    uint64_t status_hits[1000], status_bytes[1000];
    uint64_t hour_hits[24], hour_bytes[24];
    /* common methods and protocols, by their index in stats.c's lists */
    uint64_t method_hits[8], method_bytes[8];
    uint64_t proto_hits[8], proto_bytes[8];
    /* per user-agent result id (ret__ua_lookup) */
    uint64_t *ua_hits, *ua_bytes;
    size_t ua_cap;
    ret__hll *hll;
    struct ret__ent *tab;
    size_t cap, n;
    int key_state; /* 0 unknown, 1 key holds the day's key, 2 destroyed */
    unsigned char key[16];
};

struct ret__chunk {
    struct ret__chunk *next;
    size_t size, used;
    char data[];
};

struct ret__arena {
    struct ret__chunk *head;
};

struct ret__visit {
    uint64_t vh; /* 0: empty slot */
    int64_t last;
    int64_t day;
    char *page;
    size_t plen;
};

/* One input being ingested. */
struct ret__input {
    const char *site;
    ret_parser *parser;
    /* the head: hcum[i] digests the first i + 1 lines */
    uint64_t hcum[32];
    size_t nhead;
    size_t match_len;    /* head lines of the stored identity (0: none) */
    uint64_t match_hash;
    uint64_t prev_lines, prev_hash, stored_lines;
    uint64_t offset, chash, lines;
    uint64_t pending_unparsed, late;
    int64_t last_day;
    bool have_day;
    bool mismatch;
};

#define RET__MAX_GEO 4

struct ret_stats {
    sqlite3 *db;
    char instance[64];
    int64_t now;
    char *uap;
    ret__ua *ua;
    ret__redact *redact;
    ret__geoip *geo[RET__MAX_GEO];
    size_t ngeo;
    bool keep_query, full_referrer, no_flows;
    char optout_cookie[128]; /* "name=value", or empty */
    ret_stats_progress_fn progress;
    void *progress_ctx;
    struct ret__day **days;
    size_t ndays, capdays;
    struct ret__day *last_day;
    struct ret__arena arena;
    size_t nentries;
    struct ret__visit *visits;
    size_t vcap, vn;
    int64_t vmax;
    const char *flush_site;
    char cur_site[256];
    uint64_t last_counted, last_skipped, last_unparsed;
    uint64_t last_uah; /* hash of the last record's agent */
    char kbuf[2 * 512 + 2];
};

RET_HIDDEN sqlite3 *ret__stats_db(ret_stats *s);

#endif /* RET_STATS_INT_H */
