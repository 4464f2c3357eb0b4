/* fuzz-stats.c - log lines through the statistics (user agents,
 * redaction, flows) and every report format, in an in-memory database. */
#include "internal.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ret_status
sink(void *ctx, const char *d, size_t n)
{
    size_t *total = ctx;

    (void)d;
    *total += n;
    return RET_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ret_stats *s = NULL;
    ret_reader *r = NULL;
    ret_report_options o;
    ret_error err;
    size_t total = 0;
    int f;

    if (ret_stats_open(":memory:", &s, &err) != RET_OK)
        return 0;
    /* the first byte picks the options */
    if (size > 0) {
        if (data[0] & 1)
            ret_stats_set_option(s, "query", "yes", &err);
        if (data[0] & 2)
            ret_stats_set_option(s, "referrer", "full", &err);
    }
    if (ret_reader_open_mem(data, size, "fuzz", &r, &err) == RET_OK) {
        ret_stats_ingest_reader(s, r, "auto", NULL, &err);
        ret_reader_free(r);
    }
    ret_report_options_init(&o);
    o.top = 0;
    for (f = RET_REPORT_TEXT; f <= RET_REPORT_HTML; f++) {
        o.format = (ret_report_format)f;
        ret_stats_report(s, &o, sink, &total, &err);
    }
    ret_stats_close(s);
    return 0;
}
