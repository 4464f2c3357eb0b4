/* fuzz-time.c - user-supplied times and durations. */
#include "internal.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t t, d;
    int32_t off;
    char buf[21];
    ret_error err;

    if (ret_time_parse((const char *)data, size, &t, &off, &err) == RET_OK)
        ret_time_format(t, buf);
    ret_duration_parse((const char *)data, size, &d, &err);
    return 0;
}
