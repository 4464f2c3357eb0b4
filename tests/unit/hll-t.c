/* hll-t.c - HyperLogLog estimates and the content hash. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"

static uint64_t
splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

int
main(void)
{
    static ret__hll a, b, u, c;
    static const unsigned sizes[] = {1, 10, 100, 1000, 5000, 20000, 100000,
                                     1000000};
    double worst = 0;
    uint64_t seed = 42, i, n;
    size_t k;
    char buf[64];

    ret__hll_init(&a);
    is_int(ret__hll_count(&a), 0, "empty sketch counts 0");
    for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        double est, e;
        ret__hll_init(&a);
        n = sizes[k];
        for (i = 0; i < n; i++) {
            snprintf(buf, sizeof(buf), "visitor-%llu-%u", (unsigned long long)i,
                     (unsigned)k);
            ret__hll_add(&a, ret__hash(buf, strlen(buf), 1234));
            /* duplicates do not count */
            ret__hll_add(&a, ret__hash(buf, strlen(buf), 1234));
        }
        est = ret__hll_estimate(&a);
        e = fabs(est - (double)n) / (double)n;
        if (e > worst)
            worst = e;
        diag("n=%llu estimate=%.1f error=%.3f%%", (unsigned long long)n, est,
             100 * e);
        ok(n < 100 ? fabs(est - (double)n) <= 1.0 : e <= 0.02,
           "estimate of %llu within 2%%", (unsigned long long)n);
    }
    /* the union of two sketches estimates the union of the sets */
    ret__hll_init(&a);
    ret__hll_init(&b);
    ret__hll_init(&c);
    for (i = 0; i < 30000; i++) {
        uint64_t h = splitmix(&seed);
        if (i < 20000)
            ret__hll_add(&a, h);
        if (i >= 10000)
            ret__hll_add(&b, h);
        ret__hll_add(&c, h);
    }
    u = a;
    ret__hll_merge(&u, &b);
    ok(memcmp(u.reg, c.reg, sizeof(u.reg)) == 0,
       "merge equals the sketch of the union");
    ok(fabs(ret__hll_estimate(&u) - 30000) / 30000 < 0.02,
       "union estimate within 2%% (%.0f)", ret__hll_estimate(&u));
    ok(ret__hll_load(&b, u.reg, sizeof(u.reg)), "registers load back");
    ok(memcmp(b.reg, u.reg, sizeof(u.reg)) == 0, "loaded registers equal");
    ok(!ret__hll_load(&b, u.reg, 100), "a short blob is refused");
    memset(c.reg, 200, sizeof(c.reg));
    ok(!ret__hll_load(&b, c.reg, sizeof(c.reg)), "impossible ranks refused");

    /* ret__hash: seed and every byte matter */
    ok(ret__hash("abc", 3, 1) != ret__hash("abc", 3, 2), "seed matters");
    ok(ret__hash("abc", 3, 1) != ret__hash("abd", 3, 1), "bytes matter");
    ok(ret__hash("abcdefghijklmnopq", 17, 1) !=
           ret__hash("abcdefghijklmnopr", 17, 1),
       "tail byte matters");
    ok(ret__hash("", 0, 1) != ret__hash("\0", 1, 1), "length matters");
    return done_testing();
}
