/*
 * hll.c - HyperLogLog cardinality estimates for the visitor counts.
 *
 * 2^14 registers of one byte each (standard error 1.04 / sqrt(16384),
 * about 0.81 %), fed with 64-bit keyed hashes. The estimate is Ertl's
 * improved raw estimator ("New cardinality estimation algorithms for
 * HyperLogLog sketches", 2017), which needs neither bias tables nor a
 * switch to linear counting. The registers hold only the maximum rank
 * seen per bucket: nothing of an input can be recovered from them.
 */
#include "internal.h"

#include <math.h>
#include <string.h>

void
ret__hll_init(ret__hll *h)
{
    memset(h->reg, 0, sizeof(h->reg));
}

void
ret__hll_add(ret__hll *h, uint64_t hash)
{
    uint32_t idx = (uint32_t)(hash >> (64 - RET__HLL_P));
    uint64_t rest = hash << RET__HLL_P;
    uint8_t rank;

    /* rank = position of the first 1 bit in the remaining 50 bits */
    if (rest == 0)
        rank = 64 - RET__HLL_P + 1;
    else
        rank = (uint8_t)(__builtin_clzll(rest) + 1);
    if (rank > h->reg[idx])
        h->reg[idx] = rank;
}

void
ret__hll_merge(ret__hll *dst, const ret__hll *src)
{
    size_t i;

    for (i = 0; i < RET__HLL_M; i++)
        if (src->reg[i] > dst->reg[i])
            dst->reg[i] = src->reg[i];
}

bool
ret__hll_load(ret__hll *h, const void *blob, size_t len)
{
    const uint8_t *b = blob;
    size_t i;

    if (len != RET__HLL_M)
        return false;
    for (i = 0; i < RET__HLL_M; i++)
        if (b[i] > 64 - RET__HLL_P + 1)
            return false;
    memcpy(h->reg, b, RET__HLL_M);
    return true;
}

static double
hll_sigma(double x)
{
    double y = 1.0, z = x, zp;

    if (x == 1.0)
        return INFINITY;
    do {
        x *= x;
        zp = z;
        z += x * y;
        y += y;
    } while (z != zp);
    return z;
}

static double
hll_tau(double x)
{
    double y = 1.0, z, zp;

    if (x == 0.0 || x == 1.0)
        return 0.0;
    z = 1.0 - x;
    do {
        x = sqrt(x);
        zp = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
    } while (z != zp);
    return z / 3.0;
}

double
ret__hll_estimate(const ret__hll *h)
{
    enum { Q = 64 - RET__HLL_P };
    uint32_t c[Q + 2];
    const double m = (double)RET__HLL_M;
    double z;
    size_t i;
    int k;

    memset(c, 0, sizeof(c));
    for (i = 0; i < RET__HLL_M; i++)
        c[h->reg[i]]++;
    if (c[0] == RET__HLL_M)
        return 0.0;
    z = m * hll_tau(1.0 - (double)c[Q + 1] / m);
    for (k = Q; k >= 1; k--)
        z = 0.5 * (z + (double)c[k]);
    z += m * hll_sigma((double)c[0] / m);
    return (m / (2.0 * log(2.0))) * m / z;
}

uint64_t
ret__hll_count(const ret__hll *h)
{
    return (uint64_t)llround(ret__hll_estimate(h));
}

/* ---- a fast non-cryptographic hash for tables and content identity ---- */

static inline uint64_t
mum(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;

    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t
rd64(const unsigned char *p)
{
    uint64_t v;

    memcpy(&v, p, 8);
    return v;
}

/* The 1..7 bytes at p as memcpy() would put them into a zeroed word,
 * without a call: overlapping loads on little-endian hosts. */
static inline uint64_t
tail64(const unsigned char *p, size_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint32_t lo, hi;

    if (n >= 4) {
        memcpy(&lo, p, 4);
        memcpy(&hi, p + n - 4, 4);
        return (uint64_t)lo | (uint64_t)hi << (8 * (n - 4));
    }
    return (uint64_t)p[0] | (uint64_t)p[n / 2] << (8 * (n / 2)) |
           (uint64_t)p[n - 1] << (8 * (n - 1));
#else
    uint64_t b = 0;

    memcpy(&b, p, n);
    return b;
#endif
}

uint64_t
ret__hash(const void *data, size_t n, uint64_t seed)
{
    static const uint64_t k0 = 0xa0761d6478bd642fULL,
                          k1 = 0xe7037ed1a0b428dbULL,
                          k2 = 0x8ebc6af09c88c6e3ULL,
                          k3 = 0x589965cc75374cc3ULL;
    const unsigned char *p = data;
    uint64_t h = seed ^ k0 ^ ((uint64_t)n * k3), a, b;

    while (n >= 16) {
        h = mum(rd64(p) ^ k1 ^ h, rd64(p + 8) ^ k2);
        p += 16;
        n -= 16;
    }
    a = b = 0;
    if (n >= 8) {
        a = rd64(p);
        p += 8;
        n -= 8;
    }
    if (n > 0)
        b = tail64(p, n);
    h = mum(a ^ k1 ^ h, b ^ k2 ^ (uint64_t)n);
    return mum(h ^ k0, h ^ k3);
}
