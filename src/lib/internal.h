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
};

/* ---- readers and writers (reader.c, writer.c) ---- */

/* ret_reader_open_fd() and ret_reader_open_mem() with a chosen buffer
 * size (bytes, at least 16) instead of 256 KiB: tests use tiny buffers to
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

#endif /* RET_INTERNAL_H */
