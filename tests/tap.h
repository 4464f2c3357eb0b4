/*
 * tap.h - a tiny Test Anything Protocol producer for C unit tests.
 *
 *   ok(cond, "name %d", i);
 *   is_int(got, expected, "name");
 *   is_str(got, expected, "name");
 *   return done_testing();
 */
#ifndef RET_TAP_H
#define RET_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static unsigned tap_n, tap_failed;

static inline int tap_ok(int cond, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static inline int
tap_ok(int cond, const char *fmt, ...)
{
    va_list ap;

    printf("%sok %u - ", cond ? "" : "not ", ++tap_n);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    if (!cond)
        tap_failed++;
    return cond;
}

#define ok(cond, ...) tap_ok((cond) != 0, __VA_ARGS__)

#define is_int(got, expected, ...)                                             \
    do {                                                                       \
        intmax_t tap_g = (intmax_t)(got), tap_e = (intmax_t)(expected);        \
        if (!tap_ok(tap_g == tap_e, __VA_ARGS__))                              \
            printf("#   got %jd, expected %jd (%s:%d)\n", tap_g, tap_e,        \
                   __FILE__, __LINE__);                                        \
    } while (0)

#define is_str(got, expected, ...)                                             \
    do {                                                                       \
        const char *tap_g = (got), *tap_e = (expected);                        \
        int tap_same = (tap_g == NULL && tap_e == NULL) ||                     \
                       (tap_g && tap_e && strcmp(tap_g, tap_e) == 0);          \
        if (!tap_ok(tap_same, __VA_ARGS__))                                    \
            printf("#   got '%s', expected '%s' (%s:%d)\n",                    \
                   tap_g ? tap_g : "(null)", tap_e ? tap_e : "(null)",         \
                   __FILE__, __LINE__);                                        \
    } while (0)

#define diag(...)                                                              \
    do {                                                                       \
        printf("# ");                                                          \
        printf(__VA_ARGS__);                                                   \
        putchar('\n');                                                         \
    } while (0)

static inline int
done_testing(void)
{
    printf("1..%u\n", tap_n);
    return tap_failed ? 1 : 0;
}

#endif /* RET_TAP_H */
