/* error.c - status texts and error details. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

static const char *const status_text[] = {
    [RET_OK] = "success",
    [RET_E_NOMEM] = "out of memory",
    [RET_E_INVAL] = "invalid argument",
    [RET_E_IO] = "input/output error",
    [RET_E_PARSE] = "parse error",
    [RET_E_POLICY] = "invalid policy",
    [RET_E_FORMAT] = "invalid log format",
    [RET_E_GZIP] = "corrupt or truncated gzip data",
    [RET_E_DB] = "database error",
    [RET_E_UNSAFE] = "refused as unsafe",
    [RET_E_BUSY] = "locked by another run",
    [RET_E_NOTFOUND] = "not found",
    [RET_E_RANGE] = "value out of range",
    [RET_E_HELD] = "under a legal hold",
    [RET_E_DEFERRED] = "deferred: live file",
    [RET_E_VIOLATION] = "data kept longer than the policy allows",
    [RET_E_CORRUPT] = "damaged data",
    [RET_E_TIMEOUT] = "run time limit reached",
    [RET_E_KEY] = "key file missing or insecure",
};

const char *
ret_strerror(ret_status status)
{
    if (status == RET_EOF)
        return "end of input";
    if (status < 0 || (size_t)status >= sizeof(status_text) /
                                           sizeof(status_text[0]) ||
        status_text[status] == NULL)
        return "unknown error";
    return status_text[status];
}

static void vfail(ret_error *err, ret_status status, int errnum,
                  const char *fmt, va_list ap) RET_PRINTF(4, 0);

static void
vfail(ret_error *err, ret_status status, int errnum, const char *fmt,
      va_list ap)
{
    size_t n;

    if (err == NULL)
        return;
    err->status = status;
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    if (errnum != 0) {
        char buf[128];
        /* GNU strerror_r: thread-safe, may return a static string. */
        const char *text = strerror_r(errnum, buf, sizeof(buf));

        n = strlen(err->message);
        if (n < sizeof(err->message))
            snprintf(err->message + n, sizeof(err->message) - n, ": %s",
                     text);
    }
}

ret_status
ret__fail(ret_error *err, ret_status status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfail(err, status, 0, fmt, ap);
    va_end(ap);
    return status;
}

ret_status
ret__fail_errno(ret_error *err, ret_status status, int errnum,
                const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfail(err, status, errnum, fmt, ap);
    va_end(ap);
    return status;
}
