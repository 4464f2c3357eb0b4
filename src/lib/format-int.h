/*
 * format-int.h - private to the format capability (format*.c): compiled
 * formats, parser state and the helpers that fill a ret_record.
 */
#ifndef RET_FORMAT_INT_H
#define RET_FORMAT_INT_H

#include "internal.h"

/* What a field of a line means: how it is stored in the record. */
enum ret__fk {
    FK_IGNORE = 0,
    FK_CLIENT,      /* client address or list: f[CLIENT], RET_ADDR_CLIENT */
    FK_ADDR,        /* server or upstream address list: RET_ADDR_OTHER */
    FK_USER,
    FK_TIME,        /* any timestamp form (ret__time_any) */
    FK_TIME_CLF,
    FK_TIME_ISO,
    FK_TIME_EPOCH,  /* scale: 1, 1000, 1000000, 0 = by magnitude */
    FK_TIME_STRF,   /* arg: strftime subset */
    FK_TIME_DATE,   /* W3C date */
    FK_TIME_TOD,    /* W3C time */
    FK_REQUEST,
    FK_METHOD,
    FK_PATH,        /* path only */
    FK_URI,         /* path?query */
    FK_QUERY,       /* query without '?' */
    FK_QUERY_Q,     /* Apache %q: "?query" or "" */
    FK_PROTOCOL,
    FK_STATUS,
    FK_BYTES,       /* body bytes */
    FK_BYTES_ALL,   /* bytes with headers: used when no body bytes */
    FK_REFERER,
    FK_UA,
    FK_UA_PLUS,     /* W3C: '+' for spaces (raw bytes kept) */
    FK_VHOST,
    FK_XFF,         /* X-Forwarded-For, X-Real-IP lists */
    FK_FORWARDED,   /* Forwarded: for=...;by=... */
    FK_DUR_US,
    FK_DUR_MS,
    FK_DUR_S,       /* seconds, may have a fraction */
    FK_DUR_NS,
    FK_DNT,
    FK_GPC,
    FK_COOKIE,
    FK_PORT
};

enum ret__fmt_kind {
    FMT_FIELDS = 0, /* Apache / nginx: literals and fields */
    FMT_JSON,
    FMT_W3C,
    FMT_HAPROXY,
    FMT_ELB,        /* AWS Classic Load Balancer (format-aws.c) */
    FMT_ALB,        /* AWS Application Load Balancer */
    FMT_REGEX,
    FMT_AUTO
};

struct ret__item {
    bool lit;
    bool quoted;        /* field between '"' literals */
    enum ret__fk kind;
    int scale;          /* FK_TIME_EPOCH */
    const char *s;      /* literal bytes or strftime format (in fmt->buf) */
    size_t n;
};

struct ret__regex;

struct ret_format {
    enum ret__fmt_kind kind;
    char *name;            /* preset name or the spec */
    char *buf;             /* literal storage */
    struct ret__item *items;
    size_t nitems;
    bool has_strf;
    struct ret__regex *re; /* FMT_REGEX */
};

#define RET__W3C_MAX 64
#define RET__AUTO_MAX 14

struct ret__w3c {
    unsigned nf;
    enum ret__fk kind[RET__W3C_MAX];
    bool have_fields;
    bool have_date;
    bool seen_header;       /* #Software: or #Version: */
    int64_t date_days;      /* #Date: header */
    bool have_gmt;
    int32_t gmt_offset;     /* #GMT-Offset: -0800 (Oracle) */
};

struct ret_parser {
    const ret_format *fmt;
    ret_record rec;
    struct ret__w3c w3c;
    void *match;            /* pcre2 match data */
    bool partial;           /* the last line had more than the format */
    /* auto */
    ret_format *cand[RET__AUTO_MAX];
    ret_parser *sub[RET__AUTO_MAX];
    unsigned score[RET__AUTO_MAX];
    unsigned ncand;
    int chosen;             /* index into cand, -1 */
    unsigned seen;          /* lines looked at while detecting */
    bool locked;
    bool combined;          /* scanned by scan_combined (same_items) */
    /* the last CLF time parsed: "dd/Mon/yyyy:" and " +hhmm" with the
     * UTC time of that day's 00:00:00 and the offset (scan_fields) */
    char clf_day[12], clf_zone[6];
    int64_t clf_base;
    int32_t clf_off;
    bool clf_have;
    /* that day's "[dd/Mon/yyyy:hh:mm:ss +hhmm] \"" as the combined line
     * writes it, its digits of the time aside (quick_combined), when
     * clf_tmpl_ok */
    char clf_tmpl[32];
    bool clf_tmpl_ok;
    bool wide;              /* the CPU has AVX2: quotes_wide */
};

/* Per-line time accumulation while storing fields. */
struct ret__fill {
    struct ret__time_parts tp;
    bool time_bad;
    int bytes_rank;
    const char *reason;     /* first failure */
    size_t column;
};

/* format.c: filling a record. */
RET_HIDDEN void ret__rec_reset(ret_record *r, const char *line, size_t len);
/* Stores a field [off, off+n) of r->line as kind; false with fl->reason
 * on a value that does not fit the kind. */
RET_HIDDEN bool ret__rec_store(ret_record *r, struct ret__fill *fl,
                               enum ret__fk kind, int scale, const char *arg,
                               size_t argn, size_t off, size_t n);
/* Finishes the time after all fields are stored. */
RET_HIDDEN bool ret__rec_finish(ret_record *r, struct ret__fill *fl);
RET_HIDDEN void ret__rec_addr_list(ret_record *r, size_t off, size_t n,
                                   ret_addr_kind kind);
/* Scans [off, off+n) for address-looking tokens (unparsed rest) and lists
 * them as RET_ADDR_FORWARDED: personal until known otherwise. */
RET_HIDDEN void ret__rec_scan_addrs(ret_record *r, size_t off, size_t n);
RET_HIDDEN void ret__rec_sort_addrs(ret_record *r);
/* Maps a header / key name to a field kind (case-insensitive, '-' and
 * '_' alike). */
RET_HIDDEN enum ret__fk ret__header_kind(const char *name, size_t n);
RET_HIDDEN ret_status ret__parse_fail(ret_error *err, const char *reason,
                                      size_t column);

/* format-json.c */
RET_HIDDEN ret_status ret__json_parse(ret_parser *p, const char *line,
                                      size_t len, ret_error *err);
/* format-w3c.c */
RET_HIDDEN ret_status ret__w3c_parse(ret_parser *p, const char *line,
                                     size_t len, ret_error *err);
/* format-haproxy.c */
RET_HIDDEN ret_status ret__haproxy_parse(ret_parser *p, const char *line,
                                         size_t len, ret_error *err);
/* format-aws.c: ELB lines, or ALB lines when alb */
RET_HIDDEN ret_status ret__aws_parse(ret_parser *p, const char *line,
                                     size_t len, bool alb, ret_error *err);
/* format-regex.c */
RET_HIDDEN ret_status ret__regex_compile(ret_format *f, const char *pattern,
                                         ret_error *err);
RET_HIDDEN void ret__regex_free(struct ret__regex *re);
RET_HIDDEN ret_status ret__regex_parser_init(ret_parser *p, ret_error *err);
RET_HIDDEN void ret__regex_parser_free(ret_parser *p);
RET_HIDDEN ret_status ret__regex_parse(ret_parser *p, const char *line,
                                       size_t len, ret_error *err);

/* format.c: is p (or the format an auto parser chose) scanned by a
 * preset's own scanner? For tests. */
RET_HIDDEN bool ret__parser_specialized(const ret_parser *p);
/* Makes p use the generic scanner (to compare the two). */
RET_HIDDEN void ret__parser_set_generic(ret_parser *p);
/* Turns the AVX2 search of combined lines on (where the CPU has it) or
 * off; returns whether it is on. For tests. */
RET_HIDDEN bool ret__parser_set_wide(ret_parser *p, bool on);

#endif /* RET_FORMAT_INT_H */
