/*
 * internal.h - private declarations shared inside libretention.
 * Not installed. Internal symbols are named ret__* and are hidden.
 */
#ifndef RET_INTERNAL_H
#define RET_INTERNAL_H

#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "retention.h"

#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define RET__CACHE_LINE 64

/* calloc() of memory that starts and ends on a cache line: for handles
 * and blocks that threads write, so that two threads' writes never
 * share a line (false sharing). Freed with free(). */
static inline void *
ret__calloc_lines(size_t n, size_t size)
{
    size_t total;
    void *p;

    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    total = (n * size + RET__CACHE_LINE - 1) &
            ~(size_t)(RET__CACHE_LINE - 1);
    if (total == 0)
        total = RET__CACHE_LINE;
    if (posix_memalign(&p, RET__CACHE_LINE, total) != 0)
        return NULL;
    memset(p, 0, total);
    return p;
}

/*
 * memchr(p, c, e - p) for the short distances inside a log line (a field
 * of a few bytes, a quoted header): inline, sixteen bytes at a time with
 * SSE2, so that a field costs a handful of instructions instead of a
 * library call. Reads nothing outside [p, e).
 */
static inline const char *
ret__find_byte(const char *p, const char *e, char c)
{
#ifdef __SSE2__
    const __m128i v = _mm_set1_epi8(c);

    while (e - p >= 16) {
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
            _mm_loadu_si128((const __m128i *)(const void *)p), v));

        if (m != 0)
            return p + __builtin_ctz(m);
        p += 16;
    }
#endif
    for (; p < e; p++)
        if (*p == c)
            return p;
    return NULL;
}

#define RET_HIDDEN __attribute__((visibility("hidden")))
#define RET_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* ---- errors (error.c) ---- */

/* Records status and a formatted message in err (may be NULL); returns
 * status so that callers can write `return ret__fail(err, ...)`. */
RET_HIDDEN ret_status ret__fail(ret_error *err, ret_status status,
                                const char *fmt, ...) RET_PRINTF(3, 4);
/* The same with errno's text appended: "open x: No such file". */
RET_HIDDEN ret_status ret__fail_errno(ret_error *err, ret_status status,
                                      int errnum, const char *fmt, ...)
    RET_PRINTF(4, 5);

/* ---- time (time.c) ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (any year). */
RET_HIDDEN int64_t ret__days_from_civil(int64_t y, unsigned m, unsigned d);
RET_HIDDEN void ret__civil_from_days(int64_t z, int64_t *y, unsigned *m,
                                     unsigned *d);
/* Month from a 3-letter English abbreviation, 1..12, 0 if none. */
RET_HIDDEN unsigned ret__month_from_abbr(const char *p);

/* ---- records (format.c) ---- */

typedef struct ret__slice {
    const char *p;
    size_t n;
} ret__slice;

#define RET__MAX_ADDRS 16

typedef struct ret__addr {
    uint32_t off;
    uint32_t len;
    ret_addr_kind kind;
} ret__addr;

/* A parsed line. Slices point into the caller's line (zero copy). */
struct ret_record {
    const char *line;
    size_t len;
    ret__slice f[RET_F__COUNT]; /* p == NULL: absent */
    int64_t time;               /* UTC epoch seconds, with has_time */
    int32_t utc_offset;         /* seconds east of UTC as written */
    bool has_time;
    int status;                 /* 0 if none */
    int64_t bytes;              /* -1 if none */
    int64_t duration_us;        /* -1 if none */
    unsigned naddr;
    ret__addr addr[RET__MAX_ADDRS];
    bool addr_overflow;         /* more address tokens than addr[] holds */
    bool addr_only;             /* RET_PARSE_ADDRESSES: the request is not
                                   split (kept by ret__rec_reset) */
    bool f_absent;              /* every f[] is absent (kept as the quick
                                   combined reading sets none) */
};

/* ---- log timestamps (logtime.c), owned by the format capability ----
 * No strptime/mktime/TZ; *utc is UTC seconds, *offset the written UTC
 * offset in seconds east. All return false when the text does not match
 * exactly. */

/* Pieces of a time gathered from one or several fields. */
struct ret__time_parts {
    int64_t days;   /* with has_date */
    int32_t sod;    /* seconds of the day, with has_sod */
    int32_t offset; /* with has_offset */
    int64_t epoch;  /* with has_epoch: overrides the rest */
    bool has_date, has_sod, has_offset, has_epoch;
};

/* "10/Oct/2000:13:55:36 -0700", fraction and offset optional. */
RET_HIDDEN bool ret__time_clf(const char *s, size_t n, int64_t *utc,
                              int32_t *offset);
/* "2000-10-10T13:55:36.123+02:00", 'T' or ' ', offset optional (UTC). */
RET_HIDDEN bool ret__time_iso(const char *s, size_t n, int64_t *utc,
                              int32_t *offset);
/* Epoch number with optional fraction; scale is the number of units a
 * second (1, 1000, 1000000, 1000000000), 0 to guess by magnitude
 * (<= 11 digits s, <= 14 ms, <= 17 us, else ns). */
RET_HIDDEN bool ret__time_epoch(const char *s, size_t n, int scale,
                                int64_t *utc);
/* Any of the three above. */
RET_HIDDEN bool ret__time_any(const char *s, size_t n, int64_t *utc,
                              int32_t *offset);
/* W3C "2026-12-01" (days since the epoch) and "10:00:00[.fff]". */
RET_HIDDEN bool ret__time_date(const char *s, size_t n, int64_t *days);
RET_HIDDEN bool ret__time_of_day(const char *s, size_t n, int32_t *secs);
RET_HIDDEN bool ret__time_date_ok(int64_t y, unsigned m, unsigned d);
/* strftime subset (%a %A %b %B %h %d %e %m %y %Y %H %k %I %l %p %M %S %T
 * %R %D %F %z %Z %s %j %n %t %%) matched against s into tp. */
RET_HIDDEN bool ret__time_strf(const char *fmt, size_t flen, const char *s,
                               size_t n, struct ret__time_parts *tp);
/* false and *bad = the conversion letter when fmt uses one not above. */
RET_HIDDEN bool ret__time_strf_valid(const char *fmt, size_t flen,
                                     char *bad);
RET_HIDDEN void ret__time_parts_init(struct ret__time_parts *tp);
RET_HIDDEN bool ret__time_combine(const struct ret__time_parts *tp,
                                  int64_t *utc, int32_t *offset);

/* ---- readers and writers (reader.c, writer.c) ---- */

/* Room for n bytes, to be freed with free(): for a buffer of 2 MiB or
 * more, in whole huge pages where the system has them (the kernel's
 * copies into and out of a large buffer cost about half as much when
 * the processor's TLB needs one entry for 2 MiB of it, not 512). */
RET_HIDDEN void *ret__alloc_huge(size_t n);

/* ret_reader_open_fd() and ret_reader_open_mem() with a chosen buffer
 * size (bytes, at least 16) instead of 2 MiB: tests use tiny buffers to
 * put line ends at every position of a buffer boundary. */
RET_HIDDEN ret_status ret__reader_open_fd_size(int fd, const char *name,
                                               size_t bufsize,
                                               ret_reader **out,
                                               ret_error *err);
RET_HIDDEN ret_status ret__reader_open_mem_size(const void *data, size_t len,
                                                const char *name,
                                                size_t bufsize,
                                                ret_reader **out,
                                                ret_error *err);
/* Every whole line the buffer holds, in place, as one run (the input's
 * last line may lack its '\n'); the line number is left to the caller:
 * ret__reader_add_lines. End and errors as ret_reader_next. */
RET_HIDDEN ret_status ret__reader_next_run(ret_reader *r, const char **data,
                                           size_t *len, ret_error *err);
RET_HIDDEN void ret__reader_add_lines(ret_reader *r, uint64_t n);
/* Can r hand over its buffer (not a plain memory input)? *bufsize: its
 * size now. */
RET_HIDDEN bool ret__reader_can_swap(const ret_reader *r, size_t *bufsize);
/* ret__reader_next_run without a copy: *buf (*cap bytes, may be NULL)
 * becomes the reader's buffer and its old one, holding the run at *off,
 * the caller's. */
RET_HIDDEN ret_status ret__reader_swap_run(ret_reader *r, char **buf,
                                           size_t *cap, size_t *off,
                                           size_t *len, ret_error *err);

/* ---- policy (policy.c, decide.c, explain.c) ---- */

/* A rule duration: calendar years (UTC) plus seconds. */
typedef struct ret__span {
    int32_t years;
    int64_t secs;
} ret__span;

/* The header of one policy file. */
typedef struct ret__header {
    const char *file;       /* as given */
    const char *id;         /* file name without directory and .conf */
    const char *name;
    const char *controller;
    const char *version;
    const char *state;
    const char *geoip;      /* or NULL */
    const char *loc;        /* "file:line" of "policy {" */
    int64_t effective;
    bool has_effective;
    int64_t schedule;       /* seconds; 0 = none */
} ret__header;

struct ret_rule {
    ret_action action;      /* ANONYMIZE, DELETE or RESTRICT (retain) */
    ret_anchor anchor;
    ret__span after;
    unsigned fields;        /* ANONYMIZE: 1u << ret_field */
    const char *loc;        /* "file:line" */
    unsigned line, col;
};

struct ret_source {
    ret_source_kind kind;
    const char *path;
    const char *format;
    const char *table;
    const char *col[RET_COL__COUNT];
    unsigned line, col_no;
};

#define RET__MAX_RULES 12

struct ret_category {
    const ret__header *hdr;
    const char *name;
    const char *description;
    const char *personal;
    const char *purpose;
    const char *format;     /* NULL: "auto" */
    const char *loc;
    unsigned line, col;
    bool statistics;
    ret_hold_mode hold;
    const char *hold_loc;   /* or NULL */
    ret_anon_method method;
    int ipv4_prefix, ipv6_prefix;
    struct ret_rule rules[RET__MAX_RULES];
    size_t nrules;
    int del_time;           /* index in rules or -1 */
    int del_completion;
    int retain;
    struct ret_source *src;
    size_t nsrc;
};

/* t plus a span, years calendar-based in UTC (29 February plus a year
 * that has none ends at 1 March 00:00); saturates at the int64 range. */
RET_HIDDEN int64_t ret__span_add(int64_t t, ret__span s);
/* 00:00:00 UTC of 1 January of the year after t's, plus years. */
RET_HIDDEN int64_t ret__end_of_year(int64_t t, int32_t years);
/* Saturating int64 addition. */
RET_HIDDEN int64_t ret__sat_add(int64_t a, int64_t b);

/* ---- pruning (prune.c, audit.c, safefile.c), owned by prune ---- */

struct stat;

/* Opens the directory holding path, walking every component with
 * O_NOFOLLOW; *base points at the last component inside path. */
RET_HIDDEN ret_status ret__safe_open_dir(const char *path, int *dirfd,
                                         const char **base, ret_error *err);
/* Run as root: refuses a directory writable by others or by a group
 * other than root. */
RET_HIDDEN ret_status ret__safe_check_dir(int dirfd, const char *path,
                                          ret_error *err);
/* Opens base in dirfd read-only: a regular file with one link, never a
 * symbolic link, FIFO or device. */
RET_HIDDEN ret_status ret__safe_open_file(int dirfd, const char *base,
                                          const char *path, int *fd,
                                          struct stat *st, ret_error *err);
/* Creates ".BASE.retention-XXXXXX" (mode 0600, O_EXCL) in dirfd. */
RET_HIDDEN ret_status ret__safe_tempfile(int dirfd, const char *base,
                                         const char *path, char *name,
                                         size_t size, int *fd,
                                         ret_error *err);
/* Removes the temporary files of base that a killed run left in dirfd
 * (unlocked ".BASE.retention-XXXXXX" files). */
RET_HIDDEN void ret__safe_clean_temps(int dirfd, const char *base);
/* mkdir path 0750 unless it is a directory already (no symlink). */
RET_HIDDEN ret_status ret__safe_mkdir(const char *path, ret_error *err);

/* Appends the JSON line of one action to the open audit log fd. */
RET_HIDDEN ret_status ret__audit_write(int fd, const ret_category *c,
                                       const ret_prune_report *r,
                                       int64_t now,
                                       const char *policy_hash,
                                       ret_error *err);
/* Opens (creates, mode 0640) STATE/audit.log for appending. */
RET_HIDDEN ret_status ret__audit_open(const char *state_dir, int *fd,
                                      ret_error *err);
/* JSON string (quotes included) of n bytes into buf; returns the length
 * it needs (like snprintf). */
RET_HIDDEN size_t ret__json_string(char *buf, size_t size, const char *s);
/* ret_audit_category (files false) or ret_audit_files (prune.c). */
RET_HIDDEN ret_status ret__audit_run(ret_pruner *pr, const ret_category *c,
                                     const char *format,
                                     const char *const *paths, size_t n,
                                     bool files, ret_error *err);

/* ---- statistics (stats.c, hll.c, ua.c, geoip.c, redact.c, report.c) ---- */

/* A fast non-cryptographic 64-bit hash (tables, content identity). */
RET_HIDDEN uint64_t ret__hash(const void *data, size_t n, uint64_t seed);

/* HyperLogLog with 2^14 one-byte registers (standard error ~0.81 %). */
#define RET__HLL_P 14
#define RET__HLL_M (1u << RET__HLL_P)
typedef struct ret__hll {
    uint8_t reg[RET__HLL_M];
} ret__hll;
RET_HIDDEN void ret__hll_init(ret__hll *h);
RET_HIDDEN void ret__hll_add(ret__hll *h, uint64_t hash);
RET_HIDDEN void ret__hll_merge(ret__hll *dst, const ret__hll *src);
/* Loads stored registers; false when the blob is not a valid sketch. */
RET_HIDDEN bool ret__hll_load(ret__hll *h, const void *blob, size_t len);
RET_HIDDEN double ret__hll_estimate(const ret__hll *h);
RET_HIDDEN uint64_t ret__hll_count(const ret__hll *h);

/* User agents (ua.c). Strings are interned in the ret__ua handle. */
typedef struct ret__ua ret__ua;
typedef struct ret__ua_info {
    const char *browser; /* NULL for crawlers */
    const char *os;
    const char *device;  /* desktop, mobile, tablet, bot, other */
    const char *crawler; /* NULL for people */
} ret__ua_info;
/* regexes: a uap-core regexes.yaml, or NULL/"" for our own rules only.
 * A missing rule file is not an error here (see ret__ua_check). */
RET_HIDDEN ret_status ret__ua_new(const char *regexes, ret__ua **out,
                                  ret_error *err);
/* Loads the rule file now, reporting errors. */
RET_HIDDEN ret_status ret__ua_check(ret__ua *u, ret_error *err);
RET_HIDDEN void ret__ua_free(ret__ua *u);
/* The result id of an agent (cached), UINT32_MAX when out of memory;
 * *hash (may be NULL) receives a 64-bit hash of the agent. */
RET_HIDDEN uint32_t ret__ua_lookup(ret__ua *u, const char *ua, size_t len,
                                   uint64_t *hash);
RET_HIDDEN const ret__ua_info *ret__ua_info_of(const ret__ua *u, uint32_t id);
/* The uap-core family alone: kind 0 user agent, 1 OS, 2 device; writes
 * "Other" when no rule matches and returns whether one did. */
RET_HIDDEN int ret__ua_uap(ret__ua *u, int kind, const char *ua, size_t len,
                           char *buf, size_t size);
/* Calls cb with the scalar pairs of every mapping in the top-level
 * sequences of a YAML file; a non-zero return stops with RET_E_NOMEM. */
typedef int (*ret__yaml_cb)(void *ctx, const char *section,
                            const char *const *keys, const char *const *vals,
                            size_t n);
RET_HIDDEN ret_status ret__yaml_each(const char *path, ret__yaml_cb cb,
                                     void *ctx, ret_error *err);

/* Redaction of paths and referrers (redact.c). */
typedef struct ret__redact ret__redact;
RET_HIDDEN ret_status ret__redact_new(ret__redact **out, ret_error *err);
/* Adds a rule: matches of pattern become placeholder. */
RET_HIDDEN ret_status ret__redact_add(ret__redact *r, const char *pattern,
                                      const char *placeholder, ret_error *err);
/* Redacts s; returns s itself when nothing matched, else a buffer owned
 * by r valid until the next call. */
RET_HIDDEN const char *ret__redact_apply(ret__redact *r, const char *s,
                                         size_t n, size_t *outlen);
RET_HIDDEN void ret__redact_free(ret__redact *r);

/* GeoIP (geoip.c). */
typedef struct ret__geoip ret__geoip;
RET_HIDDEN ret_status ret__geoip_open(const char *path, ret__geoip **out,
                                      ret_error *err);
/* Country ISO code and "AS123 Org" of an address, written into the
 * buffers ("" when unknown). */
RET_HIDDEN void ret__geoip_lookup(ret__geoip *g, const ret_ip *ip,
                                  char country[8], char *asn, size_t asnsize);
RET_HIDDEN void ret__geoip_close(ret__geoip *g);

/* ---- SQLite tables and the record store (table.c, store.c), owned by
 * the store capability ---- */

struct sqlite3;
struct sqlite3_value;

/* A table to work on and how its columns map. */
struct ret__tabspec {
    const ret_category *cat;
    const char *path;                /* the database, for messages */
    const char *table;
    const char *col[RET_COL__COUNT]; /* column names, or NULL */
    const char *filter;              /* extra SQL condition on alias rt */
    const char *filter_arg;          /* bound to :filter in it */
    const char *held_expr;           /* 0/1 SQL expression on rt; overrides
                                        col[RET_COL_HOLD] */
    double deadline_ms;              /* tests: the write deadline of a batch
                                        (0: the default) */
    unsigned long *interrupts;       /* tests: adds the batches interrupted */
};
enum { RET__TAB_PRUNE, RET__TAB_AUDIT, RET__TAB_ERASE };

/* Opens a database (busy timeout 5 s, secure_delete on). */
RET_HIDDEN ret_status ret__db_open(const char *path, int readonly,
                                   int create, struct sqlite3 **out,
                                   ret_error *err);
/* Status and message of the connection's last error. */
RET_HIDDEN ret_status ret__db_fail(ret_error *err, struct sqlite3 *db,
                                   const char *path, const char *what);
/* Prunes, audits or erases (subject) one table; adds to *res. */
RET_HIDDEN ret_status ret__table_run(struct sqlite3 *db,
                                     const struct ret__tabspec *spec,
                                     int mode, int64_t now,
                                     const char *subject, unsigned flags,
                                     ret_table_result *res, ret_error *err);
/* After deleting: incremental vacuum stepped to the end, WAL truncated. */
RET_HIDDEN ret_status ret__db_scrub(struct sqlite3 *db, const char *path,
                                    ret_table_result *res, ret_error *err);
RET_HIDDEN void ret__table_result_add(ret_table_result *sum,
                                      const ret_table_result *r);
/* A time from a column value: INTEGER/REAL Unix seconds or ISO 8601
 * text. Returns 0 on success. */
RET_HIDDEN int ret__sql_time(struct sqlite3_value *v, int64_t *out);
/* Masks a textual address to the kept prefix bits (RET_ANON_ZERO: all
 * zero; HASH is truncated too). Messages never quote the address. */
RET_HIDDEN ret_status ret__mask_ip_text(const char *text, size_t len,
                                        ret_anon_method method, int v4bits,
                                        int v6bits, char *out, size_t size,
                                        ret_error *err);

/* ---- IP addresses and anonymization (ip.c, siphash.c, anonymize.c,
 * keyfile.c) ---- */

/* Where the address itself sits in a token (no brackets, port or zone)
 * and whether an IPv6 address was written with a dotted IPv4 tail. */
typedef struct ret__iptok {
    size_t off;
    size_t len;
    bool dotted;
    bool glued; /* hex digits glued before it ("%3D2001:db8::1") */
    bool ported; /* IPv6 read without a trailing ":port" (no brackets) */
} ret__iptok;

/* A dotted quad read one way (0: in two words; 1: with SSSE3, where the
 * CPU has it), as ret__ip_parse_exact reads it: for the tests. */
RET_HIDDEN int64_t ret__ip_quad_way(const char *p, size_t n, int way);
/* Exactly an address, no brackets, port or zone. */
RET_HIDDEN bool ret__ip_parse_exact(const char *p, size_t n, ret_ip *ip,
                                    bool *dotted);
/* A whole token: address, [v6], [v6]:port, [v4]:port, v4:port, v6%zone. */
RET_HIDDEN bool ret__ip_parse_token(const char *p, size_t n, ret_ip *ip,
                                    ret__iptok *tok);
/* Finds the next address-looking token in p[*pos..n) (dotted quads with
 * leading zeros, IPv6 in any case or notation); *pos moves past it. */
RET_HIDDEN bool ret__ip_scan(const char *p, size_t n, size_t *pos, ret_ip *ip,
                             ret__iptok *tok);
/* 1: IPv4-mapped ::ffff:0:0/96; 2: NAT64 64:ff9b::/96; 0: neither. */
RET_HIDDEN int ret__ip_embedded_v4(const ret_ip *ip);
/* RFC 5952 text (dotted: IPv4 tail); buf >= 46 bytes; not terminated. */
RET_HIDDEN size_t ret__ip_format(const ret_ip *ip, bool dotted, char *buf);
/* The same with all eight groups, no "::" (buf >= 46 bytes). */
RET_HIDDEN size_t ret__ip_format_full(const ret_ip *ip, bool dotted,
                                      char *buf);
/* The text of an IPv6 address truncated to its first g groups (1 to 7,
 * none of them zero): those groups as ret__ip_format writes them, then
 * "::" (":0" for the one zero group of g = 7, which RFC 5952 does not
 * compress). Up to 3 bytes past the text are written. */
RET_HIDDEN size_t ret__ip_format_v6_head(const unsigned char b[16], int g,
                                         char *buf);
/* SipHash-2-4 of data under a 16-byte key. */
RET_HIDDEN uint64_t ret__siphash24(const unsigned char key[16],
                                   const void *data, size_t len);
/* Applies the anonymizer's method, prefix and increment to ip. */
RET_HIDDEN void ret__anonymize_ip(const ret_anonymizer *a, ret_ip *ip);
/* anonymize.c: a handle of the same settings and key for another
 * thread; its counts are added back with ret__anonymizer_add_counts. */
RET_HIDDEN ret_status ret__anonymizer_clone(const ret_anonymizer *a,
                                            ret_anonymizer **out,
                                            ret_error *err);
RET_HIDDEN void ret__anonymizer_add_counts(ret_anonymizer *a,
                                           const ret_anonymizer *from);
/* Its count of lines whose addresses were not located (a line's own,
 * without copying every count). */
RET_HIDDEN uint64_t ret__anonymizer_failclosed(const ret_anonymizer *a);
/* Whether the repeated-address search may use its AVX2 variant (on by
 * default when the CPU has AVX2); returns whether it is used now. For
 * tests of both variants. */
RET_HIDDEN bool ret__anonymizer_set_wide(ret_anonymizer *a, bool on);
/* ret_anonymizer_line's results appended to a caller's buffer: attach
 * it (n bytes used of cap; malloc'd, grown with realloc), one line_out a
 * line, then detach it, before any other call on the handle. */
RET_HIDDEN void ret__anonymizer_attach(ret_anonymizer *a, char *buf, size_t n,
                                       size_t cap);
RET_HIDDEN ret_status ret__anonymizer_line_out(ret_anonymizer *a,
                                               const ret_record *rec,
                                               const char *line, size_t len,
                                               ret_error *err);
RET_HIDDEN void ret__anonymizer_detach(ret_anonymizer *a, char **buf,
                                       size_t *n, size_t *cap);
/* format.c: a parser reading lines as p does now (an auto parser's
 * chosen format, with the state its lines set so far: W3C's #Fields),
 * for another thread; fails for an auto parser still detecting. Free it
 * before p. */
RET_HIDDEN ret_status ret__parser_fork(const ret_parser *p, ret_parser **out,
                                       ret_error *err);
/* Does p's format keep state from one line to the next (W3C: its
 * directives)? Then a fork reads a line as p does only with p's state
 * as of that line: ret__parser_copy_state. */
RET_HIDDEN bool ret__parser_keeps_state(const ret_parser *p);
/* Gives the fork dst the state src has now (src: its parent, or another
 * fork of it). */
RET_HIDDEN void ret__parser_copy_state(ret_parser *dst, const ret_parser *src);
/* format.c: ret_parser_parse of the first line of [line, end) (line <
 * end), the bytes up to and with its first '\n' or all of them, whose
 * length it puts in *len: a combined line's end found in the same walk
 * as its quotes. */
RET_HIDDEN ret_status ret__parser_parse_next(ret_parser *p, const char *line,
                                             const char *end, size_t *len,
                                             const ret_record **rec,
                                             ret_error *err);
/* Fills buf from getrandom() (or /dev/urandom). */
RET_HIDDEN ret_status ret__random_bytes(void *buf, size_t len,
                                        ret_error *err);

/* ---- statistics: content counted before, under another identity
 * (stats.c), used by prune.c for the files it rewrites ---- */

/* Lines fed to a marker are a copy of lines counted before (a pruned
 * file: expired lines dropped, fields masked). Committed, their content
 * identity is stored as counted, so that an ingest of the copy, or of it
 * grown, counts only what was added. Nothing is counted. */
typedef struct ret__stats_mark ret__stats_mark;
RET_HIDDEN ret_status ret__stats_mark_new(ret_stats *s, const char *format,
                                          ret__stats_mark **out,
                                          ret_error *err);
/* One line as read (with its '\n'; only the last may lack it). */
RET_HIDDEN ret_status ret__stats_mark_line(ret__stats_mark *m,
                                           const char *line, size_t len,
                                           ret_error *err);
/* gzip: the data is gzip, so that a last line without '\n' counts. */
RET_HIDDEN ret_status ret__stats_mark_commit(ret__stats_mark *m, bool gzip,
                                             ret_error *err);
RET_HIDDEN void ret__stats_mark_free(ret__stats_mark *m);

/* ---- anonymize performance (ip.c, used by anonymize.c) ---- */

/* Keeps the first keep bits of b[0..nbytes), zeroes the rest (keep < 0:
 * all): ret_ip_mask of one address part. */
RET_HIDDEN void ret__ip_mask_bits(unsigned char *b, size_t nbytes, int keep);

#endif /* RET_INTERNAL_H */
