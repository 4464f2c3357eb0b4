/* fuzz-policy.c - the retention.conf(5) parser, and every category it
 * accepts through explain, cutoff and decide. */
#include "internal.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int64_t times[] = {0, 1512086400, 1796119200, -86400,
                                    INT64_MAX, INT64_MIN};
    ret_policy *p = NULL;
    ret_error err;
    size_t i, j, k;

    if (ret_policy_parse((const char *)data, size, "fuzz.conf", &p, &err) !=
        RET_OK) {
        /* A message always names the place and ends in a NUL. */
        if (memchr(err.message, '\0', sizeof(err.message)) == NULL)
            __builtin_trap();
        return 0;
    }
    for (i = 0; i < ret_policy_category_count(p); i++) {
        const ret_category *c = ret_policy_category(p, i);
        char buf[256];
        int64_t cut;

        ret_category_explain(c, buf, sizeof(buf));
        if (ret_policy_find(p, ret_category_name(c)) == NULL)
            __builtin_trap();
        for (j = 0; j < sizeof(times) / sizeof(times[0]); j++) {
            ret_category_cutoff(c, RET_DELETE, times[j], &cut, NULL);
            ret_category_cutoff(c, RET_ANONYMIZE, times[j], &cut, NULL);
            for (k = 0; k < 16; k++) {
                ret_facts f = {times[(j + 1) % 6], times[(j + k) % 6],
                               times[k % 6], (unsigned)k};
                ret_decision d;

                if (ret_decide(c, &f, times[j], &d) != RET_OK ||
                    ((f.flags & RET_FACT_HELD) && d.action == RET_DELETE))
                    __builtin_trap();
            }
        }
        for (j = 0; j < ret_category_source_count(c); j++) {
            const ret_source *s = ret_category_source(c, j);

            (void)ret_source_path(s);
            for (k = 0; k < RET_COL__COUNT; k++)
                (void)ret_source_column(s, (ret_column)k);
        }
    }
    ret_policy_free(p);
    return 0;
}
