/*
 * redact.c - redaction of personal data in paths and referrers before
 * they become statistics keys: e-mail addresses, UUIDs, long hex ids,
 * tokens and long digit runs (customer numbers) become placeholders.
 *
 * The rules are PCRE2 patterns (JIT). A cheap scan decides first whether
 * a key could hold anything to redact at all, so the common key costs
 * no regex run.
 */
#include "internal.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

struct rule {
    pcre2_code *re;
    char *placeholder;
    bool builtin;
};

#define DFA_CLASSES 8
#define DFA_PCT 96
#define DFA_PCT4 97
#define DFA_HIT 98
#define DFA_STATES 99

struct ret__redact {
    struct rule *rules;
    size_t n, cap;
    bool custom;          /* a user rule: always run the regexes */
    pcre2_match_data *md;
    char *buf[2];
    size_t bufsize[2];
    uint16_t dfa[DFA_STATES * DFA_CLASSES]; /* see dfa_build() */
};

static const struct {
    const char *pattern;
    const char *placeholder;
} builtin[] = {
    {"[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*"
     "\\.[A-Za-z]{2,}",
     "{email}"},
    {"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-"
     "[0-9A-Fa-f]{12}",
     "{uuid}"},
    {"(?<![A-Za-z0-9])[0-9A-Fa-f]{16,}(?![A-Za-z0-9])", "{hex}"},
    /* tokens: mixed case with digits (base64 and friends), or letters
     * and digits without separators; slugs (words-with-hyphens) stay */
    {"(?<![A-Za-z0-9_-])(?=[A-Za-z0-9_-]*[0-9])(?=[A-Za-z0-9_-]*[a-z])"
     "(?=[A-Za-z0-9_-]*[A-Z])[A-Za-z0-9_-]{20,}(?![A-Za-z0-9_-])",
     "{token}"},
    {"(?<![A-Za-z0-9_-])(?=[A-Za-z0-9]*[0-9])(?=[A-Za-z0-9]*[A-Za-z])"
     "[A-Za-z0-9]{20,}(?![A-Za-z0-9_-])",
     "{token}"},
    {"[0-9]{6,}", "{num}"},
};

/* Byte classes for the quick check: 1 digit, 2 letter or - _, 3 '@',
 * 4 '%', 5 '4', 6 '0' (the digits of "%40"), 0 anything else. */
static const unsigned char byte_class[256] = {
    ['0'] = 6, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 5, ['5'] = 1,
    ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
    ['a'] = 2, ['b'] = 2, ['c'] = 2, ['d'] = 2, ['e'] = 2, ['f'] = 2,
    ['g'] = 2, ['h'] = 2, ['i'] = 2, ['j'] = 2, ['k'] = 2, ['l'] = 2,
    ['m'] = 2, ['n'] = 2, ['o'] = 2, ['p'] = 2, ['q'] = 2, ['r'] = 2,
    ['s'] = 2, ['t'] = 2, ['u'] = 2, ['v'] = 2, ['w'] = 2, ['x'] = 2,
    ['y'] = 2, ['z'] = 2,
    ['A'] = 2, ['B'] = 2, ['C'] = 2, ['D'] = 2, ['E'] = 2, ['F'] = 2,
    ['G'] = 2, ['H'] = 2, ['I'] = 2, ['J'] = 2, ['K'] = 2, ['L'] = 2,
    ['M'] = 2, ['N'] = 2, ['O'] = 2, ['P'] = 2, ['Q'] = 2, ['R'] = 2,
    ['S'] = 2, ['T'] = 2, ['U'] = 2, ['V'] = 2, ['W'] = 2, ['X'] = 2,
    ['Y'] = 2, ['Z'] = 2, ['-'] = 2, ['_'] = 2,
    ['@'] = 3, ['%'] = 4,
};

/* The next state of the quick check after (digits, alnum) on a class:
 * digits counts the current run of digits (up to 5), alnum the run of
 * letters, digits, '-' and '_' (up to 15). */
static unsigned
dfa_next(unsigned digits, unsigned alnum, unsigned cls)
{
    switch (cls) {
    case 1:
    case 5:
    case 6:
        if (digits + 1 >= 6 || alnum + 1 >= 16)
            return DFA_HIT;
        return (digits + 1) * 16 + alnum + 1;
    case 2:
        return alnum + 1 >= 16 ? DFA_HIT : alnum + 1;
    case 3:
        return DFA_HIT;
    case 4:
        return DFA_PCT;
    default:
        return 0;
    }
}

/* The quick check as a table: each state's row holds the next state
 * times DFA_CLASSES, so a step is one lookup. States: digits * 16 +
 * alnum; DFA_PCT after '%' (a fresh run), DFA_PCT4 after "%4" (a run
 * of one digit), DFA_HIT once something could match (absorbing). */
static void
dfa_build(uint16_t *t)
{
    unsigned d, a, c;

    for (d = 0; d < 6; d++)
        for (a = 0; a < 16; a++)
            for (c = 0; c < DFA_CLASSES; c++)
                t[(d * 16 + a) * DFA_CLASSES + c] =
                    (uint16_t)(dfa_next(d, a, c) * DFA_CLASSES);
    for (c = 0; c < DFA_CLASSES; c++) {
        t[DFA_PCT * DFA_CLASSES + c] =
            (uint16_t)((c == 5 ? DFA_PCT4 : dfa_next(0, 0, c)) * DFA_CLASSES);
        t[DFA_PCT4 * DFA_CLASSES + c] =
            (uint16_t)((c == 6 ? DFA_HIT : dfa_next(1, 1, c)) * DFA_CLASSES);
        t[DFA_HIT * DFA_CLASSES + c] = (uint16_t)(DFA_HIT * DFA_CLASSES);
    }
}

/* Could s hold something the built-in rules redact? A run of 6 digits,
 * of 16 letters, digits, '-' or '_', an '@' or "%40". One table step a
 * byte, no branch: a key that is suspicious goes to the regexes anyway,
 * so stopping early would buy nothing. */
static bool
suspicious(const ret__redact *r, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    unsigned st = 0;
    size_t i;

    for (i = 0; i < n; i++)
        st = r->dfa[st + byte_class[p[i]]];
    return st == DFA_HIT * DFA_CLASSES;
}

ret_status
ret__redact_add(ret__redact *r, const char *pattern, const char *placeholder,
                ret_error *err)
{
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *re;
    char *ph;

    re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &ec, &eo,
                       NULL);
    if (re == NULL) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof(msg));
        return ret__fail(err, RET_E_INVAL, "redaction rule at offset %zu: %s",
                         (size_t)eo, (const char *)msg);
    }
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        struct rule *v = realloc(r->rules, cap * sizeof(*v));
        if (v == NULL)
            goto nomem;
        r->rules = v;
        r->cap = cap;
    }
    if ((ph = strdup(placeholder)) == NULL)
        goto nomem;
    r->rules[r->n].re = re;
    r->rules[r->n].placeholder = ph;
    r->rules[r->n].builtin = false;
    r->n++;
    r->custom = true;
    return RET_OK;
nomem:
    pcre2_code_free(re);
    return ret__fail(err, RET_E_NOMEM, "out of memory");
}

ret_status
ret__redact_new(ret__redact **out, ret_error *err)
{
    ret__redact *r = calloc(1, sizeof(*r));
    ret_status st;
    size_t i;

    if (r == NULL)
        return ret__fail(err, RET_E_NOMEM, "out of memory");
    r->md = pcre2_match_data_create(4, NULL);
    if (r->md == NULL) {
        free(r);
        return ret__fail(err, RET_E_NOMEM, "out of memory");
    }
    for (i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++) {
        if ((st = ret__redact_add(r, builtin[i].pattern,
                                  builtin[i].placeholder, err)) != RET_OK) {
            ret__redact_free(r);
            return st;
        }
        r->rules[r->n - 1].builtin = true;
    }
    r->custom = false;
    dfa_build(r->dfa);
    *out = r;
    return RET_OK;
}

void
ret__redact_free(ret__redact *r)
{
    size_t i;

    if (r == NULL)
        return;
    for (i = 0; i < r->n; i++) {
        pcre2_code_free(r->rules[i].re);
        free(r->rules[i].placeholder);
    }
    free(r->rules);
    pcre2_match_data_free(r->md);
    free(r->buf[0]);
    free(r->buf[1]);
    free(r);
}

static bool
ensure(ret__redact *r, int b, size_t n)
{
    if (r->bufsize[b] < n) {
        char *v = realloc(r->buf[b], n);
        if (v == NULL)
            return false;
        r->buf[b] = v;
        r->bufsize[b] = n;
    }
    return true;
}

const char *
ret__redact_apply(ret__redact *r, const char *s, size_t n, size_t *outlen)
{
    const char *cur = s;
    size_t curlen = n, i;
    int b = 0;

    *outlen = n;
    if (!r->custom && !suspicious(r, s, n))
        return s;
    for (i = 0; i < r->n; i++) {
        PCRE2_SIZE size;
        int rc;

        if (pcre2_match(r->rules[i].re, (PCRE2_SPTR)cur, curlen, 0, 0, r->md,
                        NULL) < 0)
            continue;
        size = curlen * 2 + 64;
        for (;;) {
            if (!ensure(r, b, size + 1))
                return "{redacted}";
            rc = pcre2_substitute(
                r->rules[i].re, (PCRE2_SPTR)cur, curlen, 0,
                PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH |
                    PCRE2_SUBSTITUTE_LITERAL,
                NULL, NULL, (PCRE2_SPTR)r->rules[i].placeholder,
                PCRE2_ZERO_TERMINATED, (PCRE2_UCHAR *)r->buf[b], &size);
            if (rc == PCRE2_ERROR_NOMEMORY)
                continue;
            break;
        }
        if (rc < 0)
            return "{redacted}"; /* fail closed */
        cur = r->buf[b];
        curlen = size;
        b ^= 1;
    }
    *outlen = curlen;
    return cur;
}
