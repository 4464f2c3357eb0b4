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

#endif /* RET_INTERNAL_H */
