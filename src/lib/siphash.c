/*
 * siphash.c - SipHash-2-4, written from the paper: J.-P. Aumasson and
 * D. J. Bernstein, "SipHash: a fast short-input PRF" (2012).
 *
 * A 128-bit key, 64-bit output; two compression rounds per 8-byte
 * message word and four finalization rounds.
 */
#include "internal.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND                                                               \
    do {                                                                       \
        v0 += v1;                                                              \
        v1 = ROTL(v1, 13);                                                     \
        v1 ^= v0;                                                              \
        v0 = ROTL(v0, 32);                                                     \
        v2 += v3;                                                              \
        v3 = ROTL(v3, 16);                                                     \
        v3 ^= v2;                                                              \
        v0 += v3;                                                              \
        v3 = ROTL(v3, 21);                                                     \
        v3 ^= v0;                                                              \
        v2 += v1;                                                              \
        v1 = ROTL(v1, 17);                                                     \
        v1 ^= v2;                                                              \
        v2 = ROTL(v2, 32);                                                     \
    } while (0)

/* Little-endian 64-bit load, independent of the host byte order: on a
 * little-endian host the compiler turns it into a single load. */
static inline uint64_t
load64(const unsigned char *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
           (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
           (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

static inline uint64_t
load32(const unsigned char *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
           (uint64_t)p[3] << 24;
}

/* The last 0 to 7 bytes of a message as a little-endian word, by two
 * overlapping loads (the bytes they share are the same, so OR-ing them
 * is harmless) instead of a loop over the bytes. */
static inline uint64_t
load_tail(const unsigned char *p, size_t n)
{
    if (n >= 4)
        return load32(p) | load32(p + n - 4) << (8 * (n - 4));
    if (n > 0)
        return (uint64_t)p[0] | (uint64_t)p[n / 2] << (8 * (n / 2)) |
               (uint64_t)p[n - 1] << (8 * (n - 1));
    return 0;
}

uint64_t
ret__siphash24(const unsigned char key[16], const void *data, size_t len)
{
    const unsigned char *m = data;
    uint64_t k0 = load64(key), k1 = load64(key + 8);
    /* The initialization constants: "somepseudorandomlygeneratedbytes". */
    uint64_t v0 = k0 ^ UINT64_C(0x736f6d6570736575);
    uint64_t v1 = k1 ^ UINT64_C(0x646f72616e646f6d);
    uint64_t v2 = k0 ^ UINT64_C(0x6c7967656e657261);
    uint64_t v3 = k1 ^ UINT64_C(0x7465646279746573);
    uint64_t b = (uint64_t)len << 56, w;
    size_t i;

    for (i = 0; i + 8 <= len; i += 8) {
        w = load64(m + i);
        v3 ^= w;
        SIPROUND;
        SIPROUND;
        v0 ^= w;
    }
    /* The last word: the remaining bytes, the length in the top byte. */
    b |= load_tail(m + i, len & 7);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}
