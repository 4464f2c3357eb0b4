/*
 * format-regex.c - "regex:PATTERN": a PCRE2 pattern whose named groups
 * name the fields, for formats nothing else reads. JIT-compiled when
 * PCRE2 has a JIT. Not UTF mode: log lines may hold any bytes.
 */
#include "format-int.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdlib.h>
#include <string.h>

/* Bounds on one match, so that a pattern that backtracks badly gives up
 * on a line instead of hanging the run. */
#define MATCH_LIMIT 1000000
#define DEPTH_LIMIT 100000

struct ret__regex {
    pcre2_code *code;
    pcre2_match_context *mctx;
    unsigned ngroups;
    enum ret__fk *kind; /* by group number */
};

static const struct {
    const char *name;
    enum ret__fk kind;
} groups[] = {
    {"host", FK_CLIENT},         {"client", FK_CLIENT},
    {"remote_addr", FK_CLIENT},  {"ip", FK_CLIENT},
    {"addr", FK_ADDR},           {"server_addr", FK_ADDR},
    {"upstream", FK_ADDR},       {"user", FK_USER},
    {"time", FK_TIME},           {"date", FK_TIME_DATE},
    {"tod", FK_TIME_TOD},        {"request", FK_REQUEST},
    {"method", FK_METHOD},       {"path", FK_PATH},
    {"uri", FK_URI},             {"query", FK_QUERY},
    {"protocol", FK_PROTOCOL},   {"status", FK_STATUS},
    {"bytes", FK_BYTES},         {"referer", FK_REFERER},
    {"referrer", FK_REFERER},    {"agent", FK_UA},
    {"user_agent", FK_UA},       {"vhost", FK_VHOST},
    {"xff", FK_XFF},             {"forwarded", FK_FORWARDED},
    {"duration", FK_DUR_S},      {"duration_ms", FK_DUR_MS},
    {"duration_us", FK_DUR_US},  {"dnt", FK_DNT},
    {"gpc", FK_GPC},             {"cookie", FK_COOKIE},
    {"port", FK_PORT},
};

void
ret__regex_free(struct ret__regex *re)
{
    if (re == NULL)
        return;
    pcre2_code_free(re->code);
    pcre2_match_context_free(re->mctx);
    free(re->kind);
    free(re);
}

ret_status
ret__regex_compile(ret_format *f, const char *pattern, ret_error *err)
{
    struct ret__regex *re;
    PCRE2_SPTR table;
    uint32_t count = 0, size = 0, i, cap = 0;
    int errcode;
    PCRE2_SIZE erroff;
    ret_status st = RET_OK;

    if (*pattern == '\0')
        return ret__fail(err, RET_E_FORMAT, "format: regex: empty pattern");
    if ((re = calloc(1, sizeof(*re))) == NULL)
        return ret__fail(err, RET_E_NOMEM, "out of memory");
    re->code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0,
                             &errcode, &erroff, NULL);
    if (re->code == NULL) {
        PCRE2_UCHAR msg[160];

        pcre2_get_error_message(errcode, msg, sizeof(msg));
        st = ret__fail(err, RET_E_FORMAT,
                       "format: regex: column %zu: %s", (size_t)erroff + 1,
                       (const char *)msg);
        goto out;
    }
    pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE); /* optional */
    if ((re->mctx = pcre2_match_context_create(NULL)) == NULL) {
        st = ret__fail(err, RET_E_NOMEM, "out of memory");
        goto out;
    }
    pcre2_set_match_limit(re->mctx, MATCH_LIMIT);
    pcre2_set_depth_limit(re->mctx, DEPTH_LIMIT);
    pcre2_pattern_info(re->code, PCRE2_INFO_CAPTURECOUNT, &cap);
    pcre2_pattern_info(re->code, PCRE2_INFO_NAMECOUNT, &count);
    pcre2_pattern_info(re->code, PCRE2_INFO_NAMEENTRYSIZE, &size);
    pcre2_pattern_info(re->code, PCRE2_INFO_NAMETABLE, &table);
    if (count == 0) {
        st = ret__fail(err, RET_E_FORMAT,
                       "format: regex: no named group: name the fields "
                       "as (?<host>...) (?<time>...) (?<request>...) ...");
        goto out;
    }
    re->ngroups = cap + 1;
    if ((re->kind = calloc(re->ngroups, sizeof(*re->kind))) == NULL) {
        st = ret__fail(err, RET_E_NOMEM, "out of memory");
        goto out;
    }
    for (i = 0; i < count; i++) {
        const unsigned char *ent = table + (size_t)i * size;
        unsigned num = (unsigned)(ent[0] << 8 | ent[1]);
        const char *name = (const char *)ent + 2;
        size_t g;

        for (g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
            if (strcmp(groups[g].name, name) == 0)
                break;
        if (g == sizeof(groups) / sizeof(groups[0])) {
            st = ret__fail(err, RET_E_FORMAT,
                           "format: regex: unknown group name '%s' (see "
                           "retention-parse(1) for the names)",
                           name);
            goto out;
        }
        if (num < re->ngroups)
            re->kind[num] = groups[g].kind;
    }
    f->re = re;
    re = NULL;
out:
    ret__regex_free(re);
    return st;
}

ret_status
ret__regex_parser_init(ret_parser *p, ret_error *err)
{
    p->match = pcre2_match_data_create_from_pattern(p->fmt->re->code, NULL);
    if (p->match == NULL)
        return ret__fail(err, RET_E_NOMEM, "out of memory");
    return RET_OK;
}

void
ret__regex_parser_free(ret_parser *p)
{
    pcre2_match_data_free(p->match);
    p->match = NULL;
}

ret_status
ret__regex_parse(ret_parser *p, const char *line, size_t len, ret_error *err)
{
    const struct ret__regex *re = p->fmt->re;
    ret_record *r = &p->rec;
    struct ret__fill fl;
    PCRE2_SIZE *ov;
    unsigned g, n0;
    size_t pos;
    int rc;

    rc = pcre2_match(re->code, (PCRE2_SPTR)line, len, 0, 0, p->match,
                     re->mctx);
    if (rc < 0)
        return ret__parse_fail(err, "regex", 1);
    ov = pcre2_get_ovector_pointer(p->match);
    memset(&fl, 0, sizeof(fl));
    ret__rec_reset(r, line, len);
    for (g = 1; g < re->ngroups && g < (unsigned)rc; g++) {
        if (ov[2 * g] == PCRE2_UNSET || re->kind[g] == FK_IGNORE)
            continue;
        if (!ret__rec_store(r, &fl, re->kind[g], 0, NULL, 0, ov[2 * g],
                            ov[2 * g + 1] - ov[2 * g]))
            return ret__parse_fail(err, fl.reason, ov[2 * g] + 1);
    }
    if (!ret__rec_finish(r, &fl))
        return ret__parse_fail(err, fl.reason, 1);
    /* addresses outside the groups: list them too (fail closed) */
    ret__rec_sort_addrs(r);
    n0 = r->naddr;
    pos = 0;
    for (g = 0; g <= n0; g++) {
        size_t end = g < n0 ? r->addr[g].off : len;

        if (end > pos)
            ret__rec_scan_addrs(r, pos, end - pos);
        if (g < n0)
            pos = r->addr[g].off + r->addr[g].len;
    }
    ret__rec_sort_addrs(r);
    return RET_OK;
}
