/* fuzz-logtime.c - the log timestamp parsers. The input is tried as a
 * time in each form; up to a first NUL byte it is also a strftime format
 * for the rest. */
#include "internal.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    const char *nul = memchr(s, '\0', size);
    struct ret__time_parts tp;
    int64_t t, d;
    int32_t o;
    char bad;

    (void)ret__time_clf(s, size, &t, &o);
    (void)ret__time_iso(s, size, &t, &o);
    (void)ret__time_epoch(s, size, 0, &t);
    (void)ret__time_epoch(s, size, 1000, &t);
    (void)ret__time_any(s, size, &t, &o);
    (void)ret__time_date(s, size, &d);
    (void)ret__time_of_day(s, size, &o);
    if (nul != NULL) {
        size_t fl = (size_t)(nul - s);

        if (ret__time_strf_valid(s, fl, &bad)) {
            ret__time_parts_init(&tp);
            if (ret__time_strf(s, fl, nul + 1, size - fl - 1, &tp))
                (void)ret__time_combine(&tp, &t, &o);
        }
    }
    return 0;
}
