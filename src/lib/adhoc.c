/*
 * adhoc.c - a policy for `prune|audit --max-age D FILE...`.
 *
 * The ad hoc flags are turned into the text of a policy of one category
 * and read by ret_policy_parse(), so that an ad hoc run is judged by the
 * very same rules, cutoffs and schedule as a policy file.
 */
#include "internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct text {
    char buf[16384];
    size_t n;
    bool overflow;
};

static void put(struct text *t, const char *fmt, ...) RET_PRINTF(2, 3);

static void
put(struct text *t, const char *fmt, ...)
{
    va_list ap;
    int k;

    if (t->overflow)
        return;
    va_start(ap, fmt);
    k = vsnprintf(t->buf + t->n, sizeof(t->buf) - t->n, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= sizeof(t->buf) - t->n)
        t->overflow = true;
    else
        t->n += (size_t)k;
}

/* A quoted string of the policy grammar: "..." with \" and \\. */
static ret_status
put_quoted(struct text *t, const char *s, const char *what, ret_error *err)
{
    if (t->n + 1 >= sizeof(t->buf)) {
        t->overflow = true;
        return RET_OK;
    }
    t->buf[t->n++] = '"';
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return ret__fail(err, RET_E_INVAL,
                             "%s: control characters are not allowed", what);
        if (t->n + 3 >= sizeof(t->buf)) {
            t->overflow = true;
            return RET_OK;
        }
        if (*s == '"' || *s == '\\')
            t->buf[t->n++] = '\\';
        t->buf[t->n++] = *s;
    }
    t->buf[t->n++] = '"';
    t->buf[t->n] = '\0';
    return RET_OK;
}

static ret_status
header(struct text *t, int64_t schedule, const char *state_dir, ret_error *err)
{
    const char *sched;
    ret_status st;

    if (schedule == 86400)
        sched = "daily";
    else if (schedule == 3600)
        sched = "hourly";
    else if (schedule == 0)
        sched = "none";
    else
        return ret__fail(err, RET_E_INVAL,
                         "schedule: %" PRId64 " seconds is not daily, hourly "
                         "or none",
                         schedule);
    put(t,
        "policy {\n    name \"ad hoc\"\n    controller \"ad hoc\"\n"
        "    version 0\n    schedule %s\n",
        sched);
    if (state_dir != NULL && state_dir[0] != '\0') {
        put(t, "    state ");
        if ((st = put_quoted(t, state_dir, "state directory", err)) != RET_OK)
            return st;
        put(t, "\n");
    }
    put(t, "}\n");
    return RET_OK;
}

static ret_status
check_age(const char *what, int64_t v, bool allow_none, ret_error *err)
{
    if (allow_none && v == -1)
        return RET_OK;
    if (v <= 0)
        return ret__fail(err, RET_E_INVAL, "%s must be more than 0", what);
    return RET_OK;
}

static ret_status
finish(struct text *t, ret_policy **out, ret_error *err)
{
    if (t->overflow)
        return ret__fail(err, RET_E_INVAL, "ad hoc policy: names too long");
    return ret_policy_parse(t->buf, t->n, "(ad hoc)", out, err);
}

ret_status
ret_policy_adhoc_files(const char *format, int64_t max_age,
                       int64_t anonymize_after, int64_t schedule,
                       const char *state_dir, ret_policy **out, ret_error *err)
{
    struct text *t;
    ret_status st;

    if (out == NULL)
        return ret__fail(err, RET_E_INVAL, "ret_policy_adhoc_files: no out");
    if ((st = check_age("--max-age", max_age, false, err)) != RET_OK ||
        (st = check_age("--anonymize-after", anonymize_after, true, err)) !=
            RET_OK)
        return st;
    if ((t = calloc(1, sizeof(*t))) == NULL)
        return ret__fail(err, RET_E_NOMEM, "out of memory");
    if ((st = header(t, schedule, state_dir, err)) != RET_OK)
        goto out;
    put(t, "category ad-hoc {\n    files \"-\"\n");
    if (format != NULL && format[0] != '\0') {
        put(t, "    format ");
        if ((st = put_quoted(t, format, "format", err)) != RET_OK)
            goto out;
        put(t, "\n");
    }
    if (anonymize_after > 0)
        put(t, "    anonymize client-ip after %" PRId64 "s\n", anonymize_after);
    put(t, "    delete after %" PRId64 "s\n}\n", max_age);
    st = finish(t, out, err);
out:
    free(t);
    return st;
}

ret_status
ret_policy_adhoc_table(const char *db, const char *table,
                       const char *time_column, const char *hold_column,
                       const char *completed_column, int64_t max_age,
                       int64_t schedule, const char *state_dir,
                       ret_policy **out, ret_error *err)
{
    struct text *t;
    ret_status st;

    if (out == NULL || db == NULL || table == NULL || time_column == NULL)
        return ret__fail(err, RET_E_INVAL,
                         "ad hoc table: database, table and time column are "
                         "needed");
    if ((st = check_age("--max-age", max_age, false, err)) != RET_OK)
        return st;
    if ((t = calloc(1, sizeof(*t))) == NULL)
        return ret__fail(err, RET_E_NOMEM, "out of memory");
    if ((st = header(t, schedule, state_dir, err)) != RET_OK)
        goto out;
    put(t, "category ad-hoc {\n    table ");
    {
        size_t dn = strlen(db) + sizeof("sqlite:");
        char *spec = malloc(dn);

        if (spec == NULL) {
            st = ret__fail(err, RET_E_NOMEM, "out of memory");
            goto out;
        }
        snprintf(spec, dn, "sqlite:%s", db);
        st = put_quoted(t, spec, "database", err);
        free(spec);
        if (st != RET_OK)
            goto out;
    }
    put(t, " ");
    if ((st = put_quoted(t, table, "table", err)) != RET_OK)
        goto out;
    put(t, " time=");
    if ((st = put_quoted(t, time_column, "time column", err)) != RET_OK)
        goto out;
    if (hold_column != NULL) {
        put(t, " hold=");
        if ((st = put_quoted(t, hold_column, "hold column", err)) != RET_OK)
            goto out;
    }
    if (completed_column != NULL) {
        put(t, " completed=");
        if ((st = put_quoted(t, completed_column, "completed column", err)) !=
            RET_OK)
            goto out;
    }
    put(t, "\n    delete after %" PRId64 "s\n}\n", max_age);
    st = finish(t, out, err);
out:
    free(t);
    return st;
}
