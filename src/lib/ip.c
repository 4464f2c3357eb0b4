/*
 * ip.c - IP addresses: parsing every textual form (RFC 4291, RFC 5952),
 * finding address-looking tokens in free text, masking, formatting.
 *
 * Nothing here allocates; everything works on caller-supplied bytes that
 * need not be NUL-terminated. No message ever quotes the address text.
 */
#include "internal.h"

#include <stdint.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__SSE2__) &&                                \
    (defined(__GNUC__) || defined(__clang__))
/* dotted quads have an SSSE3 reading, chosen at run time (quad_ssse3) */
#define RET_QUAD_SSSE3 1
#include <tmmintrin.h>
#endif

static inline bool
is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static const signed char hex_table[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
     0,  1,  2,  3,  4,  5,  6,  7,  8,  9, -1, -1, -1, -1, -1, -1,
    -1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

static inline int
hex_value(unsigned char c)
{
    return hex_table[c];
}

/* A byte that may be part of an address token in free text. */
static inline bool
is_tokch(unsigned char c)
{
    return hex_value(c) >= 0 || c == ':' || c == '.';
}

/* Eight bytes of text, the first one in the low byte whatever the host's
 * byte order: byte i of the text is bits 8i..8i+7. */
static inline uint64_t
load_le64(const unsigned char *p)
{
    uint64_t w;

    memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS (ONES * 0x80)

/* The high bit of each byte of x that is above 9. x & ~HIGHS plus 0x76
 * reaches 0x80 exactly when its low seven bits are 10 or more, and never
 * carries into the next byte. */
static inline uint64_t
above9(uint64_t x)
{
    return (((x & ~HIGHS) + ONES * 0x76) | x) & HIGHS;
}

/* The high bit of each byte of x that is not 0 (no carries either). */
static inline uint64_t
nonzero(uint64_t x)
{
    return (((x & ~HIGHS) + ~HIGHS) | x) & HIGHS;
}

/* Two parts' digit values, each ending in byte 2 of its half of x (the
 * bytes before a part cleared), as numbers in the low bits of each half:
 * ten times the first two digits plus the third, no carry between
 * halves. */
static inline uint64_t
part_values(uint64_t x)
{
    const uint64_t lane0 = UINT64_C(0x000000ff000000ff);
    uint64_t y = x * 10 + (x >> 8); /* byte 0: 10 * hundreds + tens */

    return (y & lane0) * 10 + (x >> 16 & lane0);
}

#ifdef RET_QUAD_SSSE3
/*
 * quad() for 8 to 15 bytes with SSSE3: the bytes in one register (from
 * the same two words, nothing outside p[0..n) read), digits and dots
 * told apart in it, each part's digits moved by one shuffle to three
 * bytes of its own lane (missing leading digits as zeros), and their
 * values from two multiply-adds. The shuffle is made from the dots'
 * places; no table.
 */
__attribute__((target("ssse3"))) static int64_t
quad_ssse3(const unsigned char *s, size_t n)
{
    uint64_t lo = load_le64(s),
             hi = load_le64(s + n - 8) >> (8 * (15 - n)) >> 8;
    __m128i v = _mm_set_epi64x((long long)hi, (long long)lo);
    __m128i t = _mm_sub_epi8(v, _mm_set1_epi8('0'));
    __m128i digit = _mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8(9)), t);
    __m128i dot = _mm_cmpeq_epi8(v, _mm_set1_epi8('.'));
    /* each lane i takes the 4 bytes of word i: its part's end, its
     * start */
    const __m128i lanes =
        _mm_setr_epi8(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
    unsigned dm = (unsigned)_mm_movemask_epi8(dot), r, b1, b2, b3;
    uint32_t ends, starts, len;
    __m128i src, val;

    /* every byte a digit or a dot, nothing after the last */
    if ((unsigned)_mm_movemask_epi8(_mm_or_si128(digit, dot)) !=
            (1u << n) - 1 ||
        dm == 0)
        return -1;
    /* the dots: the first, the last, the second (15 when there is none:
     * dm < 1 << 15) */
    b1 = (unsigned)__builtin_ctz(dm);
    b3 = 31 - (unsigned)__builtin_clz(dm);
    r = dm & (dm - 1);
    b2 = (unsigned)__builtin_ctz(r | 0x8000u);
    /* part i is t[start_i .. end_i), in byte i of ends and starts */
    ends = b1 | b2 << 8 | b3 << 16 | (uint32_t)n << 24;
    starts = (ends << 8) + 0x01010100u;
    len = ends - starts; /* the dots in order: no borrow */
    /* exactly three dots (with the lowest two gone, the highest is
     * left); each part 1 to 3 digits */
    if ((r & (r - 1)) != 1u << b3 ||
        ((len + 0x7c7c7c7cu) & 0x80808080u) != 0 ||
        ((len + 0x7f7f7f7fu) & 0x80808080u) != 0x80808080u)
        return -1;
    /* byte j of lane i (j < 3) is t[end_i - 3 + j] when that is not
     * before start_i, else zero (the shuffle's index with its high bit
     * set), as is byte 3 */
    src = _mm_add_epi8(
        _mm_shuffle_epi8(_mm_cvtsi32_si128((int)ends), lanes),
        _mm_setr_epi8(-3, -2, -1, -128, -3, -2, -1, -128, -3, -2, -1, -128,
                      -3, -2, -1, -128));
    src = _mm_or_si128(
        src, _mm_cmpgt_epi8(
                 _mm_shuffle_epi8(_mm_cvtsi32_si128((int)starts), lanes),
                 src));
    /* 100 * hundreds + 10 * tens, ones; then their sum: a part a lane */
    val = _mm_madd_epi16(
        _mm_maddubs_epi16(_mm_shuffle_epi8(t, src),
                          _mm_setr_epi8(100, 10, 1, 0, 100, 10, 1, 0, 100,
                                        10, 1, 0, 100, 10, 1, 0)),
        _mm_set1_epi16(1));
    if (_mm_movemask_epi8(_mm_cmpgt_epi32(val, _mm_set1_epi32(255))) != 0)
        return -1;
    return (int64_t)(uint32_t)_mm_cvtsi128_si32(_mm_shuffle_epi8(
        val, _mm_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                           -1, -1, -1)));
}
#endif

/* quad() for 8 to 15 bytes, in two words (SWAR), on any CPU.
 *
 * The number of digits of each part is random in real logs, so a branch
 * on it is mispredicted about once a part; there is none here. Two
 * words are read: lo, the first eight bytes, and hi, the last eight
 * (they overlap: n is at most 15). The first two dots are in lo (parts
 * 0 and 1 end by byte 7), the third and parts 2 and 3 in hi; together
 * the two words see every byte, and nothing outside p[0..n). */
static inline __attribute__((always_inline)) int64_t
quad_swar(const unsigned char *s, size_t n)
{
    /* the last l bytes of three */
    static const uint64_t keep[4] = {0, 0xff0000, 0xffff00, 0xffffff};
    uint64_t lo, hi, dlo, dhi, v;
    unsigned b1, b2, b3, g0, g1, g2, g3;

    /* digits become their values, dots 0x1e */
    lo = load_le64(s) ^ (ONES * '0');
    hi = load_le64(s + n - 8) ^ (ONES * '0');
    dlo = above9(lo);
    dhi = above9(hi);
    /* every byte that is no digit must be a dot; lo must hold two dots
     * and hi one (a v6 address or a name stops here) */
    if (((dlo & nonzero(lo ^ ONES * 0x1e)) | (dhi & nonzero(hi ^ ONES * 0x1e)) |
         !(dlo & (dlo - 1)) | !dhi) != 0)
        return -1;
    /* where the first two dots are in lo and the last one in hi, as the
     * bit numbers of their high bits (8 * byte + 7), and the parts'
     * lengths times 8, which only need subtractions from them */
    b1 = (unsigned)__builtin_ctzll(dlo);
    b2 = (unsigned)__builtin_ctzll(dlo & (dlo - 1));
    b3 = (unsigned)(63 - __builtin_clzll(dhi));
    g0 = b1 - 7;
    g1 = b2 - b1 - 8;
    g2 = 8 * (unsigned)(n - 8) + b3 - b2 - 8;
    g3 = 63 - b3;
    /* each part 1 to 3 digits (unsigned: a negative length is large) */
    if (g0 - 8 > 16 || g1 - 8 > 16 || g2 - 8 > 16 || g3 - 8 > 16)
        return -1;
    /* part 2 ends at hi's last dot, b3 - 7, and starts g2 bits below it:
     * no dot there (the next one down in hi is the second dot) */
    if (((dhi & ~(HIGHS << (b3 - 7))) >> (b3 - 7 - g2)) != 0)
        return -1;
    /* parts 0 and 1 in the halves of one word, 2 and 3 of another, each
     * moved to end in byte 2 of its half, the bytes before it (a dot,
     * another part) cleared; then their values, parts 2 and 3 16 bits
     * up: each value in its own byte of v */
    v = part_values(((lo << (24 - g0)) & keep[3]) |
                    ((lo >> (b2 - 31)) & keep[g1 / 8]) << 32) |
        part_values(((hi >> (b3 - 31)) & keep[g2 / 8]) |
                    ((hi >> 40) & keep[g3 / 8]) << 32)
            << 16;
    /* every value at most 255 */
    if ((v & UINT64_C(0xff00ff00ff00ff00)) != 0)
        return -1;
    /* parts 1 and 3 (bits 32 and 48) down to bits 8 and 24 */
    return (int64_t)(uint32_t)(v | v >> 24);
}

/* A dotted quad of exactly p[0..n): 1 to 3 decimal digits per part, each
 * part at most 255. Leading zeros are decimal ("010" is ten): web servers
 * that write them pad with zeros, they do not mean octal. The value is
 * the four parts, part i in bits 8i..8i+7, or -1.
 *
 * Inlined where most addresses are parsed (ret__ip_parse_token,
 * ret__ip_parse_exact); parse_v4 is it for the other callers. */
static inline __attribute__((always_inline)) int64_t
quad(const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p;

    if (n - 8 > 7) { /* not 8 to 15 bytes */
        /* seven bytes: one digit a part, "1.2.3.4" */
        if (n != 7 || s[1] != '.' || s[3] != '.' || s[5] != '.' ||
            !is_digit(s[0]) || !is_digit(s[2]) || !is_digit(s[4]) ||
            !is_digit(s[6]))
            return -1;
        return (int64_t)((uint32_t)(s[0] - '0') | (uint32_t)(s[2] - '0') << 8 |
                         (uint32_t)(s[4] - '0') << 16 |
                         (uint32_t)(s[6] - '0') << 24);
    }
#ifdef RET_QUAD_SSSE3
    if (__builtin_cpu_supports("ssse3"))
        return quad_ssse3(s, n);
#endif
    return quad_swar(s, n);
}

/* Both readings of 8 to 15 bytes, for the tests: way 0 the words', 1
 * SSSE3's (the words' again where the CPU has none). */
int64_t
ret__ip_quad_way(const char *p, size_t n, int way)
{
    const unsigned char *s = (const unsigned char *)p;

    if (n - 8 > 7)
        return quad(p, n);
#ifdef RET_QUAD_SSSE3
    if (way == 1 && __builtin_cpu_supports("ssse3"))
        return quad_ssse3(s, n);
#else
    (void)way;
#endif
    return quad_swar(s, n);
}

static bool
parse_v4(const char *p, size_t n, unsigned char out[4])
{
    int64_t q = quad(p, n);

    if (q < 0)
        return false;
    out[0] = (unsigned char)q;
    out[1] = (unsigned char)(q >> 8);
    out[2] = (unsigned char)(q >> 16);
    out[3] = (unsigned char)(q >> 24);
    return true;
}

#ifdef __SSE2__
/* The bytes of v that are hex digits, as 0xff in *hex, and their values,
 * 0 in the other bytes. Each byte is tested as unsigned with a
 * saturating subtraction: d is at most 9 when d - 9 saturates to 0. */
static inline __m128i
hex_nibbles(__m128i v, __m128i *hex)
{
    const __m128i zero = _mm_setzero_si128();
    __m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0')),
            l = _mm_sub_epi8(_mm_or_si128(v, _mm_set1_epi8(0x20)),
                             _mm_set1_epi8('a')),
            isd = _mm_cmpeq_epi8(_mm_subs_epu8(d, _mm_set1_epi8(9)), zero),
            isl = _mm_cmpeq_epi8(_mm_subs_epu8(l, _mm_set1_epi8(5)), zero);

    *hex = _mm_or_si128(isd, isl);
    return _mm_or_si128(_mm_and_si128(isd, d),
                        _mm_and_si128(isl, _mm_add_epi8(l, _mm_set1_epi8(10))));
}

/* The colons and hex digits of sixteen bytes of text, as bit masks
 * ORed into *colons and *hex at bit o; the digits' values in *n and
 * 0xff for each digit in *x, for v6_windows. */
static inline void
v6_classify(__m128i v, unsigned o, __m128i *n, __m128i *x, uint64_t *colons,
            uint64_t *hex)
{
    *n = hex_nibbles(v, x);
    *colons |= (uint64_t)(unsigned)_mm_movemask_epi8(
                   _mm_cmpeq_epi8(v, _mm_set1_epi8(':')))
               << o;
    *hex |= (uint64_t)(unsigned)_mm_movemask_epi8(*x) << o;
}

/* For each of the sixteen bytes at offset o of the address, the value
 * of the group that would end there (it and up to three hex digits
 * before it, none past a colon), in network order (its bytes' order in
 * memory) at w[o + i].
 * The first three bytes see nothing before the vector: their groups are
 * right only when the text starts there, else a vector before this one
 * must write them again afterwards. */
static inline void
v6_windows(__m128i n, __m128i x, unsigned o, uint16_t *w)
{
    /* byte i of nk: nibble i - k (0 when it is no digit); of x1: digit */
    __m128i n1 = _mm_slli_si128(n, 1), n2 = _mm_slli_si128(n, 2),
            n3 = _mm_slli_si128(n, 3), x1 = _mm_slli_si128(x, 1),
            x12 = _mm_and_si128(x1, _mm_slli_si128(x, 2));
    /* the nibbles are at most 15: a 16-bit shift by 4 keeps them in
     * their byte */
    __m128i lo = _mm_or_si128(n, _mm_slli_epi16(n1, 4)),
            hi = _mm_or_si128(_mm_and_si128(n2, x1),
                              _mm_slli_epi16(_mm_and_si128(n3, x12), 4));

    _mm_storeu_si128((__m128i *)(void *)(w + o), _mm_unpacklo_epi8(hi, lo));
    _mm_storeu_si128((__m128i *)(void *)(w + o + 8),
                     _mm_unpackhi_epi8(hi, lo));
}

/* An IPv6 address of exactly p[0..n) whose bytes are all hex digits and
 * colons (no dotted quad, no zone): 1, out written, or 0 when it is
 * none. -1 when the text has other bytes, may end in a dotted quad, or
 * is shorter than 8 or longer than 39 bytes: parse_v6_slow reads those.
 *
 * No branch on the digits: vectors of the text give bit masks of the
 * colons and digits, which say where the groups end and whether the
 * text is well formed, and for every byte the group that would end
 * there (v6_windows); then each group is one two-byte copy. Vectors are
 * read at 0, 13 (past 29 bytes) and n - 16, inside the text; each later
 * one's first three bytes are written again by an earlier one.
 * Inlined into parse_v6_zone, where most addresses are read;
 * parse_v6_fast is it for the other callers. */
static inline __attribute__((always_inline)) int
v6_fast(const char *p, size_t n, unsigned char out[16])
{
    /* w: a group for each byte of text; u: the groups in network
     * order, with room for the twenty a text of 39 bytes can have */
    uint16_t w[48], u[20] = {0};
    uint64_t c = 0, x = 0, full, dd, ends, head, tail;
    __m128i n0, x0, n1 = _mm_setzero_si128(), x1 = n1, nl = n1, xl = n1;
    unsigned k = 0, j = 7;

    /* not 8 to 39 bytes, or a dotted quad at the end (its last part is
     * 1 to 3 digits): no vectors for a text they would refuse */
    if (n - 8 > 31 || p[n - 2] == '.' || p[n - 3] == '.' || p[n - 4] == '.')
        return -1;
    if (n < 16) {
        /* the last bytes moved down to follow the first eight: the
         * vector ends in zeros, which are neither digit nor colon */
        uint64_t lo = load_le64((const unsigned char *)p), hi = 0;

        if (n > 8)
            hi = load_le64((const unsigned char *)p + n - 8) >> (8 * (16 - n));
        v6_classify(_mm_set_epi64x((long long)hi, (long long)lo), 0, &n0, &x0,
                    &c, &x);
    } else {
        v6_classify(_mm_loadu_si128((const __m128i *)(const void *)p), 0, &n0,
                    &x0, &c, &x);
        v6_classify(
            _mm_loadu_si128((const __m128i *)(const void *)(p + n - 16)),
            (unsigned)n - 16, &nl, &xl, &c, &x);
        if (n > 29)
            v6_classify(
                _mm_loadu_si128((const __m128i *)(const void *)(p + 13)), 13,
                &n1, &x1, &c, &x);
    }
    full = (UINT64_C(1) << n) - 1;
    if ((c | x) != full)
        return -1;
    /* dd: the first colon of each "::": at most one, and no ":::"; no
     * single colon at either end; no five digits in a row */
    dd = c & c >> 1;
    if (((dd & (dd - 1)) | (c & ~(dd | dd << 1) & (1 | (full ^ full >> 1))) |
         (x & x >> 1 & x >> 2 & x >> 3 & x >> 4)) != 0)
        return 0;
    if (n >= 16) {
        v6_windows(nl, xl, (unsigned)n - 16, w);
        if (n > 29)
            v6_windows(n1, x1, 13, w);
    }
    v6_windows(n0, x0, 0, w);
    /* the last digit of each group; those before the "::" are the
     * head, written from group 0 up, those after it from group 7 down */
    head = ends = x & ~(x >> 1);
    tail = 0;
    if (dd != 0) {
        unsigned d = (unsigned)__builtin_ctzll(dd);

        head = ends & ((UINT64_C(1) << d) - 1);
        tail = ends & ~((UINT64_C(4) << d) - 1);
    }
    for (; head != 0; head &= head - 1)
        u[k++] = w[(unsigned)__builtin_ctzll(head)];
    for (; tail != 0; j--) {
        unsigned e = 63u - (unsigned)__builtin_clzll(tail);

        if (j <= k)
            return 0; /* "::" stands for no group */
        u[j] = w[e];
        tail ^= UINT64_C(1) << e;
    }
    if (dd != 0 ? k > 7 : k != 8) /* a ninth group, or not eight */
        return 0;
    memcpy(out, u, 16);
    return 1;
}

static int
parse_v6_fast(const char *p, size_t n, unsigned char out[16])
{
    return v6_fast(p, n, out);
}
#else
static int
parse_v6_fast(const char *p, size_t n, unsigned char out[16])
{
    (void)p;
    (void)n;
    (void)out;
    return -1;
}
#define v6_fast parse_v6_fast
#endif

/* An IPv6 address of exactly p[0..n), without brackets or zone, in any
 * form (parse_v6_fast reads the usual ones first). out is written only
 * on success.
 *
 * One pass: each group's digits are read, then its separator decides
 * what follows. The groups after a "::" are written from byte 16 of a
 * tail buffer whose first 16 bytes are zeros: 16 bytes of it, taken at
 * twice their number, are the zero groups and them, and OR the head
 * groups gives the address. No group is moved one at a time. */
static bool
parse_v6_slow(const char *p, size_t n, unsigned char out[16], bool *dotted)
{
    const unsigned char *s = (const unsigned char *)p, *e = s + n;
    unsigned char head[16] = {0}, tail[32] = {0}, *w = head;
    int ng = 0, dc = -1, nt = 0;
    uint64_t h[2], t[2];
    bool dot = false;

    /* Nothing longer can be an address: six four-digit groups, their
     * colons and fifteen bytes of dotted quad are 45. */
    if (n < 2 || n > 45)
        return false;
    if (s[0] == ':') {
        if (s[1] != ':')
            return false;
        dc = 0;
        w = tail + 16;
        s += 2;
        if (s == e)
            goto done; /* "::" */
    }
    for (;;) {
        /* s < e: a group must start here */
        const unsigned char *g = s;
        unsigned v;
        int d;

        /* no digit: no group (nor a dotted quad) */
        if ((d = hex_value(*s)) < 0)
            return false;
        v = (unsigned)d;
        if (e - s > 4) {
            /* four digits and the byte after them are there to look at */
            if ((d = hex_value(s[1])) < 0) {
                s += 1;
            } else if (v = v << 4 | (unsigned)d, (d = hex_value(s[2])) < 0) {
                s += 2;
            } else if (v = v << 4 | (unsigned)d, (d = hex_value(s[3])) < 0) {
                s += 3;
            } else {
                v = v << 4 | (unsigned)d;
                s += 4;
            }
        } else {
            while (++s < e && (d = hex_value(*s)) >= 0)
                v = v << 4 | (unsigned)d;
        }
        if (s < e && *s != ':') {
            /* the first part of a dotted quad that ends the address
             * (its digits are read again), else a fifth hex digit or a
             * byte that has no place in an address */
            if (*s != '.' || ng > 6 ||
                !parse_v4((const char *)g, (size_t)(e - g), w))
                return false;
            ng += 2;
            dot = true;
            break;
        }
        if (ng >= 8) /* a ninth group */
            return false;
        w[0] = (unsigned char)(v >> 8);
        w[1] = (unsigned char)v;
        w += 2;
        ng++;
        if (s == e)
            break;
        if (++s == e) /* past the colon */
            return false; /* a single trailing colon */
        if (*s == ':') {
            if (dc >= 0)
                return false;
            dc = ng;
            w = tail + 16;
            if (++s == e)
                break;
        }
    }
done:
    if (dc >= 0 ? ng > 7 : ng != 8)
        return false;
    if (dc >= 0)
        nt = ng - dc;
    /* head OR the zeros and groups of the tail, eight bytes at a time
     * (an OR of bytes: the same in either byte order) */
    memcpy(h, head, 16);
    memcpy(t, tail + 2 * nt, 16);
    h[0] |= t[0];
    h[1] |= t[1];
    memcpy(out, h, 16);
    *dotted = dot;
    return true;
}

static bool
parse_v6(const char *p, size_t n, unsigned char out[16], bool *dotted)
{
    int r = parse_v6_fast(p, n, out);

    if (r < 0)
        return parse_v6_slow(p, n, out, dotted);
    *dotted = false;
    return r != 0;
}

/* Where a token's address is: off and len, neither glued nor ported. */
static inline void
put_tok(ret__iptok *tok, size_t off, size_t len, bool dotted)
{
    tok->off = off;
    tok->len = len;
    tok->dotted = dotted;
    tok->glued = false;
    tok->ported = false;
}

/* The result of a dotted quad q (quad()), written straight into the
 * caller's structures: no copy of either, no frame. */
static inline void
put_v4(ret_ip *ip, ret__iptok *tok, uint32_t q, size_t off, size_t len)
{
    memset(ip, 0, sizeof(*ip));
    ip->family = 4;
    ip->bytes[0] = (unsigned char)q;
    ip->bytes[1] = (unsigned char)(q >> 8);
    ip->bytes[2] = (unsigned char)(q >> 16);
    ip->bytes[3] = (unsigned char)(q >> 24);
    if (tok != NULL)
        put_tok(tok, off, len, false);
}

static __attribute__((noinline)) bool
parse_exact_v6(const char *p, size_t n, ret_ip *ip, bool *dotted)
{
    unsigned char b[16];
    bool dot = false;
    int r = parse_v6_fast(p, n, b);

    /* a text parse_v6_fast decides is an address has a colon */
    if (r == 0 || (r < 0 && (memchr(p, ':', n) == NULL ||
                             !parse_v6_slow(p, n, b, &dot))))
        return false;
    ip->family = 6;
    memcpy(ip->bytes, b, 16);
    if (dotted != NULL)
        *dotted = dot;
    return true;
}

bool
ret__ip_parse_exact(const char *p, size_t n, ret_ip *ip, bool *dotted)
{
    int64_t q = quad(p, n);

    if (q < 0)
        return parse_exact_v6(p, n, ip, dotted);
    put_v4(ip, NULL, (uint32_t)q, 0, n);
    if (dotted != NULL)
        *dotted = false;
    return true;
}

static bool
is_port(const char *p, size_t n)
{
    unsigned v = 0;
    size_t i;

    if (n == 0 || n > 5)
        return false;
    for (i = 0; i < n; i++) {
        if (!is_digit((unsigned char)p[i]))
            return false;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    return v <= 65535;
}

static bool
is_zone(const char *p, size_t n)
{
    size_t i;

    if (n == 0)
        return false;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              is_digit(c) || c == '.' || c == '_' || c == '-' || c == '~'))
            return false;
    }
    return true;
}

/* parse_v6_zone for a text parse_v6_fast leaves to parse_v6_slow. */
static __attribute__((noinline)) bool
parse_v6_zone_slow(const char *p, size_t n, ret_ip *ip, ret__iptok *tok,
                   size_t base)
{
    const char *pct = memchr(p, '%', n);
    size_t an = pct ? (size_t)(pct - p) : n;
    unsigned char b[16];
    bool dot;

    if (pct != NULL && !is_zone(pct + 1, n - an - 1))
        return false;
    /* without a zone, the text parse_v6_fast has seen already */
    if (!(pct != NULL ? parse_v6(p, an, b, &dot)
                      : parse_v6_slow(p, an, b, &dot)))
        return false;
    ip->family = 6;
    memcpy(ip->bytes, b, 16);
    put_tok(tok, base, an, dot);
    return true;
}

/* An IPv6 address with an optional "%zone"; ip and tok are written only
 * on success. A text that parse_v6_fast decides has no '%': no memchr
 * for one. */
static inline bool
parse_v6_zone(const char *p, size_t n, ret_ip *ip, ret__iptok *tok,
              size_t base)
{
    int r = v6_fast(p, n, ip->bytes);

    if (r < 0)
        return parse_v6_zone_slow(p, n, ip, tok, base);
    if (r == 0)
        return false;
    ip->family = 6;
    put_tok(tok, base, n, false);
    return true;
}

/* A dotted quad and a port ("192.0.2.1:80"). */
static bool
v4_port(const char *p, size_t n, ret_ip *ip, ret__iptok *tok)
{
    const char *colon = memchr(p, ':', n);
    int64_t q;

    if (colon == NULL || !is_port(colon + 1, n - (size_t)(colon - p) - 1) ||
        (q = quad(p, (size_t)(colon - p))) < 0)
        return false;
    put_v4(ip, tok, (uint32_t)q, 0, (size_t)(colon - p));
    return true;
}

/* ret__ip_parse_token past its first try, a bare dotted quad: "[...]",
 * IPv6 with or without a zone, a dotted quad and a port. Not inlined:
 * its frame would be the fast path's. */
static __attribute__((noinline)) bool
parse_token_rest(const char *p, size_t n, ret_ip *ip, ret__iptok *tok)
{
    size_t base = 0, in = n;
    bool early = false;
    int64_t q;

    if (n == 0)
        return false;
    if (p[0] == '[') {
        const char *close = memchr(p, ']', n);

        if (close == NULL)
            return false;
        in = (size_t)(close - p) - 1;
        if ((size_t)(close - p) + 1 < n) {
            size_t rest = n - (size_t)(close - p) - 1;

            if (close[1] != ':' || !is_port(close + 2, rest - 1))
                return false;
        }
        if ((q = quad(p + 1, in)) >= 0) {
            put_v4(ip, tok, (uint32_t)q, 1, in);
            return true;
        }
        base = 1;
    } else if ((early = n > 3 && (p[1] == '.' || p[2] == '.' || p[3] == '.')) &&
               v4_port(p, n, ip, tok)) {
        /* A dotted quad and a port is never an IPv6 address (the digits
         * before the first dot would start a quad that runs into the
         * colon): tried first when a dot comes early, as in no IPv6
         * text but "::1.2.3.4". */
        return true;
    }
    /* one place for the IPv6 reading, which is inlined here */
    if (parse_v6_zone(p + base, in, ip, tok, base))
        return true;
    return base == 0 && !early && v4_port(p, n, ip, tok);
}

bool
ret__ip_parse_token(const char *p, size_t n, ret_ip *ip, ret__iptok *tok)
{
    int64_t q;

    /* most tokens are a bare dotted quad: read here, where nothing else
     * needs a stack frame */
    if (n != 0 && p[0] != '[' && (q = quad(p, n)) >= 0) {
        put_v4(ip, tok, (uint32_t)q, 0, n);
        return true;
    }
    return parse_token_rest(p, n, ip, tok);
}

ret_status
ret_ip_parse(const char *text, size_t len, ret_ip *out, ret_error *err)
{
    ret_ip ip;
    ret__iptok tok;

    if (text == NULL || out == NULL)
        return ret__fail(err, RET_E_INVAL, "ret_ip_parse: NULL argument");
    if (!ret__ip_parse_token(text, len, &ip, &tok))
        return ret__fail(err, RET_E_PARSE, "not an IP address");
    *out = ip;
    return RET_OK;
}

/* ---- finding addresses in free text ---- */

/* Tries the IPv6 readings of the token p[s..e): whole, without trailing
 * dots or a trailing colon, without an unbracketed ":port", without hex
 * digits glued before the first group. */
static bool
scan_v6(const char *p, size_t s, size_t e, ret_ip *ip, ret__iptok *tok)
{
    size_t cand[4][2], nc = 0, i, first, last, k;
    bool digit = false;

    while (e > s && p[e - 1] == '.')
        e--;
    if (e - s >= 2 && p[e - 1] == ':' && p[e - 2] != ':')
        e--;
    first = last = e;
    for (i = s; i < e; i++) {
        if (p[i] == ':') {
            if (first == e)
                first = i;
            last = i;
        } else if (p[i] != '.') {
            digit = true;
        }
    }
    if (!digit || first == e)
        return false;
    cand[nc][0] = s;
    cand[nc++][1] = e;
    if (last + 1 < e && is_port(p + last + 1, e - last - 1) && last > s) {
        cand[nc][0] = s;
        cand[nc++][1] = last;
    }
    if (first - s > 4) {
        cand[nc][0] = first - 4;
        cand[nc++][1] = e;
    }
    for (k = 0; k < nc; k++) {
        bool dot;

        memset(ip, 0, sizeof(*ip));
        if (parse_v6(p + cand[k][0], cand[k][1] - cand[k][0], ip->bytes,
                     &dot)) {
            ip->family = 6;
            tok->off = cand[k][0];
            tok->len = cand[k][1] - cand[k][0];
            tok->dotted = dot;
            tok->glued = cand[k][0] > s;
            tok->ported = cand[k][1] < e;
            return true;
        }
    }
    return false;
}

/* The first dotted quad in p[s..e) that is not part of a longer dotted
 * number ("1.2.3.4.5" is a version, not an address). Letters next to it
 * do not protect it: "ip1.2.3.4x" is masked. */
static bool
scan_v4(const char *p, size_t s, size_t e, ret_ip *ip, ret__iptok *tok)
{
    size_t j;

    for (j = s; j < e; j++) {
        size_t k = j;
        int part;
        bool good = true;

        if (!is_digit((unsigned char)p[j]))
            continue;
        if (j > s && is_digit((unsigned char)p[j - 1]))
            continue;
        if (j >= s + 2 && p[j - 1] == '.' && is_digit((unsigned char)p[j - 2]))
            continue;
        for (part = 0; part < 4 && good; part++) {
            unsigned v = 0, nd = 0;

            while (k < e && is_digit((unsigned char)p[k])) {
                if (++nd > 3)
                    break;
                v = v * 10 + (unsigned)(p[k] - '0');
                k++;
            }
            if (nd == 0 || nd > 3 || v > 255) {
                good = false;
                break;
            }
            ip->bytes[part] = (unsigned char)v;
            if (part < 3) {
                if (k >= e || p[k] != '.') {
                    good = false;
                    break;
                }
                k++;
            }
        }
        if (!good)
            continue;
        if (k + 1 < e && p[k] == '.' && is_digit((unsigned char)p[k + 1]))
            continue;
        memset(ip->bytes + 4, 0, 12);
        ip->family = 4;
        put_tok(tok, j, k - j, false);
        return true;
    }
    return false;
}

bool
ret__ip_scan(const char *p, size_t n, size_t *pos, ret_ip *ip, ret__iptok *tok)
{
    size_t floor = *pos, i = *pos;

    while (i < n) {
        size_t s, e, ncolon = 0, k;

        while (i < n && p[i] != '.' && p[i] != ':')
            i++;
        if (i >= n)
            break;
        s = i;
        while (s > floor && is_tokch((unsigned char)p[s - 1]))
            s--;
        e = i + 1;
        while (e < n && is_tokch((unsigned char)p[e]))
            e++;
        for (k = s; k < e && ncolon < 2; k++)
            ncolon += p[k] == ':';
        if ((ncolon >= 2 && scan_v6(p, s, e, ip, tok)) ||
            scan_v4(p, s, e, ip, tok)) {
            *pos = tok->off + tok->len;
            return true;
        }
        i = e;
    }
    *pos = n;
    return false;
}

/* ---- classification, masking, formatting ---- */

int
ret__ip_embedded_v4(const ret_ip *ip)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0,
                                             0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0,
                                            0, 0,    0,    0,    0, 0};

    if (ip->family != 6)
        return 0;
    if (memcmp(ip->bytes, mapped, 12) == 0)
        return 1;
    if (memcmp(ip->bytes, nat64, 12) == 0)
        return 2;
    return 0;
}

void
ret__ip_mask_bits(unsigned char *b, size_t nbytes, int keep)
{
    size_t full;

    if (keep < 0)
        keep = 0;
    full = (size_t)keep / 8;
    if (full >= nbytes)
        return;
    if (keep % 8 != 0) {
        b[full] &= (unsigned char)(0xff00u >> (keep % 8));
        full++;
    }
    memset(b + full, 0, nbytes - full);
}

void
ret_ip_mask(ret_ip *ip, int ipv4_bits, int ipv6_bits)
{
    if (ip->family == 4)
        ret__ip_mask_bits(ip->bytes, 4, ipv4_bits);
    else if (ret__ip_embedded_v4(ip))
        ret__ip_mask_bits(ip->bytes + 12, 4, ipv4_bits);
    else
        ret__ip_mask_bits(ip->bytes, 16, ipv6_bits);
}

struct net {
    unsigned char b[16];
    int len;
};

static bool
in_net(const unsigned char *a, const struct net *n)
{
    int full = n->len / 8, rest = n->len % 8;

    if (memcmp(a, n->b, (size_t)full) != 0)
        return false;
    return rest == 0 ||
           ((a[full] ^ n->b[full]) & (unsigned char)(0xff00u >> rest)) == 0;
}

static bool
in_any(const unsigned char *a, const struct net *list, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (in_net(a, &list[i]))
            return true;
    return false;
}

/* Python's ipaddress is_private (the ranges of Debian's Python 3.11,
 * which anonip 1.1.0 runs on): IANA "not globally reachable" blocks
 * minus their exceptions; 100.64.0.0/10 is not private; an IPv4-mapped
 * address is private when its IPv4 address is. */
int
ret_ip_is_private(const ret_ip *ip)
{
    static const struct net v4[] = {
        {{0}, 8},
        {{10}, 8},
        {{127}, 8},
        {{169, 254}, 16},
        {{172, 16}, 12},
        {{192, 0, 0}, 24},
        {{192, 0, 0, 170}, 31},
        {{192, 0, 2}, 24},
        {{192, 168}, 16},
        {{198, 18}, 15},
        {{198, 51, 100}, 24},
        {{203, 0, 113}, 24},
        {{240}, 4},
        {{255, 255, 255, 255}, 32},
    };
    static const struct net v4x[] = {
        {{192, 0, 0, 9}, 32},
        {{192, 0, 0, 10}, 32},
    };
    static const struct net v6[] = {
        {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128},
        {{0}, 128},
        {{0, 0x64, 0xff, 0x9b, 0, 1}, 48},
        {{0x01, 0x00, 0, 0, 0, 0, 0, 0}, 64},
        {{0x20, 0x01, 0x00, 0x00}, 23},
        {{0x20, 0x01, 0x0d, 0xb8}, 32},
        {{0x20, 0x02}, 16},
        {{0xfc}, 7},
        {{0xfe, 0x80}, 10},
    };
    static const struct net v6x[] = {
        {{0x20, 0x01, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128},
        {{0x20, 0x01, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}, 128},
        {{0x20, 0x01, 0x00, 0x03}, 32},
        {{0x20, 0x01, 0x00, 0x04, 0x01, 0x12}, 48},
        {{0x20, 0x01, 0x00, 0x20}, 28},
        {{0x20, 0x01, 0x00, 0x30}, 28},
    };
    const unsigned char *a = ip->bytes;

    if (ip->family == 6 && ret__ip_embedded_v4(ip) == 1)
        a += 12;
    else if (ip->family == 6)
        return in_any(a, v6, sizeof(v6) / sizeof(v6[0])) &&
               !in_any(a, v6x, sizeof(v6x) / sizeof(v6x[0]));
    return in_any(a, v4, sizeof(v4) / sizeof(v4[0])) &&
           !in_any(a, v4x, sizeof(v4x) / sizeof(v4x[0]));
}

/* The decimal text of each octet, NUL-padded to three bytes, and in
 * byte 3 the text's length: one load for each. */
static const char dec_octet[256][5] = {
    "0\0\0\1", "1\0\0\1", "2\0\0\1", "3\0\0\1", "4\0\0\1", "5\0\0\1",
    "6\0\0\1", "7\0\0\1", "8\0\0\1", "9\0\0\1", "10\0\2", "11\0\2", "12\0\2",
    "13\0\2", "14\0\2", "15\0\2", "16\0\2", "17\0\2", "18\0\2", "19\0\2",
    "20\0\2", "21\0\2", "22\0\2", "23\0\2", "24\0\2", "25\0\2", "26\0\2",
    "27\0\2", "28\0\2", "29\0\2", "30\0\2", "31\0\2", "32\0\2", "33\0\2",
    "34\0\2", "35\0\2", "36\0\2", "37\0\2", "38\0\2", "39\0\2", "40\0\2",
    "41\0\2", "42\0\2", "43\0\2", "44\0\2", "45\0\2", "46\0\2", "47\0\2",
    "48\0\2", "49\0\2", "50\0\2", "51\0\2", "52\0\2", "53\0\2", "54\0\2",
    "55\0\2", "56\0\2", "57\0\2", "58\0\2", "59\0\2", "60\0\2", "61\0\2",
    "62\0\2", "63\0\2", "64\0\2", "65\0\2", "66\0\2", "67\0\2", "68\0\2",
    "69\0\2", "70\0\2", "71\0\2", "72\0\2", "73\0\2", "74\0\2", "75\0\2",
    "76\0\2", "77\0\2", "78\0\2", "79\0\2", "80\0\2", "81\0\2", "82\0\2",
    "83\0\2", "84\0\2", "85\0\2", "86\0\2", "87\0\2", "88\0\2", "89\0\2",
    "90\0\2", "91\0\2", "92\0\2", "93\0\2", "94\0\2", "95\0\2", "96\0\2",
    "97\0\2", "98\0\2", "99\0\2", "100\3", "101\3", "102\3", "103\3", "104\3",
    "105\3", "106\3", "107\3", "108\3", "109\3", "110\3", "111\3", "112\3",
    "113\3", "114\3", "115\3", "116\3", "117\3", "118\3", "119\3", "120\3",
    "121\3", "122\3", "123\3", "124\3", "125\3", "126\3", "127\3", "128\3",
    "129\3", "130\3", "131\3", "132\3", "133\3", "134\3", "135\3", "136\3",
    "137\3", "138\3", "139\3", "140\3", "141\3", "142\3", "143\3", "144\3",
    "145\3", "146\3", "147\3", "148\3", "149\3", "150\3", "151\3", "152\3",
    "153\3", "154\3", "155\3", "156\3", "157\3", "158\3", "159\3", "160\3",
    "161\3", "162\3", "163\3", "164\3", "165\3", "166\3", "167\3", "168\3",
    "169\3", "170\3", "171\3", "172\3", "173\3", "174\3", "175\3", "176\3",
    "177\3", "178\3", "179\3", "180\3", "181\3", "182\3", "183\3", "184\3",
    "185\3", "186\3", "187\3", "188\3", "189\3", "190\3", "191\3", "192\3",
    "193\3", "194\3", "195\3", "196\3", "197\3", "198\3", "199\3", "200\3",
    "201\3", "202\3", "203\3", "204\3", "205\3", "206\3", "207\3", "208\3",
    "209\3", "210\3", "211\3", "212\3", "213\3", "214\3", "215\3", "216\3",
    "217\3", "218\3", "219\3", "220\3", "221\3", "222\3", "223\3", "224\3",
    "225\3", "226\3", "227\3", "228\3", "229\3", "230\3", "231\3", "232\3",
    "233\3", "234\3", "235\3", "236\3", "237\3", "238\3", "239\3", "240\3",
    "241\3", "242\3", "243\3", "244\3", "245\3", "246\3", "247\3", "248\3",
    "249\3", "250\3", "251\3", "252\3", "253\3", "254\3", "255\3",
};

/* A dotted quad. Each octet's text is copied whole (four bytes), the
 * dot written over its padding: no division, no loop over digits. Up to
 * 16 bytes of buf are written; a quad starts every text of format_v6 at
 * byte 30 at the latest, inside the 46 bytes its callers provide. */
static size_t
put_quad(char *buf, const unsigned char *b)
{
    char *o = buf;
    int i;

    for (i = 0; i < 4; i++) {
        const char *t = dec_octet[b[i]];

        memcpy(o, t, 4);
        o += (unsigned char)t[3];
        *o++ = '.';
    }
    return (size_t)(o - buf) - 1;
}

#ifdef __SSE2__
/* The eight groups' text, four hex digits each (t[4g..4g+4) for group
 * g), and the digits that are '0' (bit 4g + i: digit i of group g): one
 * pass over the sixteen bytes for every group. */
struct groups {
    char t[32];
    uint32_t zeros;
};

static inline void
groups_of(const unsigned char *b, struct groups *g)
{
    const __m128i low = _mm_set1_epi8(0x0f), zero = _mm_setzero_si128();
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)b),
            hi = _mm_and_si128(_mm_srli_epi16(v, 4), low),
            lo = _mm_and_si128(v, low),
            d0 = _mm_unpacklo_epi8(hi, lo), d1 = _mm_unpackhi_epi8(hi, lo);

    g->zeros = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(d0, zero)) |
               (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(d1, zero)) << 16;
    /* '0' + d, and 'a' - '0' - 10 more past 9 */
    d0 = _mm_add_epi8(_mm_add_epi8(d0, _mm_set1_epi8('0')),
                      _mm_and_si128(_mm_cmpgt_epi8(d0, _mm_set1_epi8(9)),
                                    _mm_set1_epi8('a' - '0' - 10)));
    d1 = _mm_add_epi8(_mm_add_epi8(d1, _mm_set1_epi8('0')),
                      _mm_and_si128(_mm_cmpgt_epi8(d1, _mm_set1_epi8(9)),
                                    _mm_set1_epi8('a' - '0' - 10)));
    _mm_storeu_si128((__m128i *)(void *)g->t, d0);
    _mm_storeu_si128((__m128i *)(void *)(g->t + 16), d1);
}

/* Group i without leading zeros: its four digits shifted down past them
 * (at most three: "0" stays) and written whole; the next colon or group
 * overwrites those past its end. So up to 3 bytes past the text are
 * written: the last group of format_v6 starts at byte 35 at the latest.
 * (x86 is little-endian: the first digit is the low byte.) */
static inline char *
put_group(char *o, const struct groups *g, int i)
{
    unsigned lead = (unsigned)__builtin_ctz(~(g->zeros >> (4 * i)) | 8u);
    uint32_t w;

    memcpy(&w, g->t + 4 * i, 4);
    w >>= 8 * lead;
    memcpy(o, &w, 4);
    return o + 4 - lead;
}
#else
struct groups {
    const unsigned char *b;
};

static inline void
groups_of(const unsigned char *b, struct groups *g)
{
    g->b = b;
}

/* Two hex digits for each byte value. */
static const char hex_pairs[] =
    "000102030405060708090a0b0c0d0e0f"
    "101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f"
    "303132333435363738393a3b3c3d3e3f"
    "404142434445464748494a4b4c4d4e4f"
    "505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f"
    "707172737475767778797a7b7c7d7e7f"
    "808182838485868788898a8b8c8d8e8f"
    "909192939495969798999a9b9c9d9e9f"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
    "b0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
    "d0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeef"
    "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

/* Group i in lower-case hex without leading zeros. The value is
 * shifted so that its first digit is the top one and all four digits
 * are written, two table pairs; the next colon or group overwrites
 * those past its end. So up to 3 bytes past the text are written: the
 * last group of format_v6 starts at byte 35 at the latest. */
static inline char *
put_group(char *o, const struct groups *g, int i)
{
    unsigned v = (unsigned)g->b[2 * i] << 8 | g->b[2 * i + 1],
             nd = 1u + (v > 0xf) + (v > 0xff) + (v > 0xfff),
             w = v << (16 - 4 * nd);

    memcpy(o, hex_pairs + 2 * (w >> 8), 2);
    memcpy(o + 2, hex_pairs + 2 * (w & 0xff), 2);
    return o + nd;
}
#endif

/* RFC 5952 4.2: the longest run of two or more zero groups, the first of
 * equal runs, becomes "::". Indexed by a mask of the zero groups (bit i:
 * group i is 0), the run's first group times 16 plus its length; 0 when
 * no two zero groups are adjacent. (The unit test checks every mask.) */
static const unsigned char zero_run[256] = {
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x12, 0x03,
    0x00, 0x00, 0x00, 0x02, 0x22, 0x22, 0x13, 0x04,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x12, 0x03,
    0x32, 0x32, 0x32, 0x02, 0x23, 0x23, 0x14, 0x05,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x12, 0x03,
    0x00, 0x00, 0x00, 0x02, 0x22, 0x22, 0x13, 0x04,
    0x42, 0x42, 0x42, 0x02, 0x42, 0x42, 0x12, 0x03,
    0x33, 0x33, 0x33, 0x33, 0x24, 0x24, 0x15, 0x06,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x12, 0x03,
    0x00, 0x00, 0x00, 0x02, 0x22, 0x22, 0x13, 0x04,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x12, 0x03,
    0x32, 0x32, 0x32, 0x02, 0x23, 0x23, 0x14, 0x05,
    0x52, 0x52, 0x52, 0x02, 0x52, 0x52, 0x12, 0x03,
    0x52, 0x52, 0x52, 0x02, 0x22, 0x22, 0x13, 0x04,
    0x43, 0x43, 0x43, 0x43, 0x43, 0x43, 0x43, 0x03,
    0x34, 0x34, 0x34, 0x34, 0x25, 0x25, 0x16, 0x07,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x12, 0x03,
    0x00, 0x00, 0x00, 0x02, 0x22, 0x22, 0x13, 0x04,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x12, 0x03,
    0x32, 0x32, 0x32, 0x02, 0x23, 0x23, 0x14, 0x05,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x12, 0x03,
    0x00, 0x00, 0x00, 0x02, 0x22, 0x22, 0x13, 0x04,
    0x42, 0x42, 0x42, 0x02, 0x42, 0x42, 0x12, 0x03,
    0x33, 0x33, 0x33, 0x33, 0x24, 0x24, 0x15, 0x06,
    0x62, 0x62, 0x62, 0x02, 0x62, 0x62, 0x12, 0x03,
    0x62, 0x62, 0x62, 0x02, 0x22, 0x22, 0x13, 0x04,
    0x62, 0x62, 0x62, 0x02, 0x62, 0x62, 0x12, 0x03,
    0x32, 0x32, 0x32, 0x02, 0x23, 0x23, 0x14, 0x05,
    0x53, 0x53, 0x53, 0x53, 0x53, 0x53, 0x53, 0x03,
    0x53, 0x53, 0x53, 0x53, 0x53, 0x53, 0x13, 0x04,
    0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44,
    0x35, 0x35, 0x35, 0x35, 0x26, 0x26, 0x17, 0x08,
};

/* Every group is written followed by a colon; "::" stands for the zero
 * run; the colon after the last group is taken back unless a quad
 * follows or the text ends with "::". */
static size_t
format_v6(const ret_ip *ip, bool dotted, bool compress, char *buf)
{
    const unsigned char *b = ip->bytes;
    int ng = dotted ? 6 : 8, i, head = ng, tail = ng;
    char *o = buf;
    struct groups g;

    if (compress) {
        unsigned zeros = 0, run;

#ifdef __SSE2__
        /* the 16-bit lanes that are 0, packed to bytes, one bit each */
        __m128i z = _mm_cmpeq_epi16(_mm_loadu_si128((const __m128i *)b),
                                    _mm_setzero_si128());

        zeros = (unsigned)_mm_movemask_epi8(_mm_packs_epi16(z, z)) & 0xffu;
#else
        for (i = 0; i < 8; i++)
            zeros |= (unsigned)((b[2 * i] | b[2 * i + 1]) == 0) << i;
#endif
        run = zero_run[zeros & (dotted ? 0x3fu : 0xffu)];
        if (run != 0) {
            head = (int)(run >> 4);
            tail = head + (int)(run & 15);
        }
    }
    groups_of(b, &g);
    for (i = 0; i < head; i++) {
        o = put_group(o, &g, i);
        *o++ = ':';
    }
    if (head < tail) {
        if (head == 0)
            *o++ = ':';
        *o++ = ':';
    }
    for (i = tail; i < ng; i++) {
        o = put_group(o, &g, i);
        *o++ = ':';
    }
    if (dotted)
        return (size_t)(o - buf) + put_quad(o, b + 12);
    if (tail < ng || head == tail)
        o--;
    return (size_t)(o - buf);
}

size_t
ret__ip_format_v6_head(const unsigned char b[16], int g, char *buf)
{
    char *o = buf;
    struct groups gr;
    int i;

    groups_of(b, &gr);
    for (i = 0; i < g; i++) {
        o = put_group(o, &gr, i);
        *o++ = ':';
    }
    *o++ = g == 7 ? '0' : ':';
    return (size_t)(o - buf);
}

size_t
ret__ip_format(const ret_ip *ip, bool dotted, char *buf)
{
    if (ip->family == 4) /* most addresses: not through format_v6 */
        return put_quad(buf, ip->bytes);
    return format_v6(ip, dotted, true, buf);
}

size_t
ret__ip_format_full(const ret_ip *ip, bool dotted, char *buf)
{
    if (ip->family == 4)
        return put_quad(buf, ip->bytes);
    return format_v6(ip, dotted, false, buf);
}

size_t
ret_ip_format(const ret_ip *ip, char *buf, size_t size)
{
    char tmp[64];
    size_t n;

    if (ip == NULL || (ip->family != 4 && ip->family != 6)) {
        if (buf != NULL && size > 0)
            buf[0] = '\0';
        return 0;
    }
    n = ret__ip_format(ip, ret__ip_embedded_v4(ip) != 0, tmp);
    if (buf != NULL && size > 0) {
        size_t c = n < size - 1 ? n : size - 1;

        memcpy(buf, tmp, c);
        buf[c] = '\0';
    }
    return n;
}
