/*
 * logtime.c - timestamps as log files write them, parsed without
 * strptime(), mktime() or TZ: CLF, ISO 8601, epoch numbers, W3C date and
 * time, and a strftime() subset for Apache's %{format}t.
 *
 * Everything here runs in the hot loop: no allocation, no locale.
 */
#include "internal.h"

#include <string.h>

static bool
is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned
month_days(int64_t y, unsigned m)
{
    static const unsigned char dim[] = {31, 28, 31, 30, 31, 30,
                                        31, 31, 30, 31, 30, 31};

    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

static inline bool
dig(char c)
{
    return c >= '0' && c <= '9';
}

/* Exactly n digits at p (p + n <= e checked by caller or here). */
static inline int
num(const char *p, const char *e, int n)
{
    int v = 0, i;

    if (e - p < n)
        return -1;
    for (i = 0; i < n; i++) {
        if (!dig(p[i]))
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

bool
ret__time_date_ok(int64_t y, unsigned m, unsigned d)
{
    return m >= 1 && m <= 12 && d >= 1 && d <= month_days(y, m);
}

/* Offset at *p: "Z", "+hhmm", "+hh:mm", "+hh", "UTC", "GMT". */
static bool
offset_at(const char **pp, const char *e, int32_t *off)
{
    const char *p = *pp;
    int hh, mm = 0, sign;

    if (p >= e)
        return false;
    if (*p == 'Z' || *p == 'z') {
        *off = 0;
        *pp = p + 1;
        return true;
    }
    if (e - p >= 3 && (memcmp(p, "UTC", 3) == 0 || memcmp(p, "GMT", 3) == 0)) {
        *off = 0;
        *pp = p + 3;
        return true;
    }
    if (*p != '+' && *p != '-')
        return false;
    sign = *p == '-' ? -1 : 1;
    p++;
    if ((hh = num(p, e, 2)) < 0)
        return false;
    p += 2;
    if (p < e && *p == ':')
        p++;
    if (p < e && dig(*p)) {
        if ((mm = num(p, e, 2)) < 0)
            return false;
        p += 2;
    }
    if (hh > 23 || mm > 59)
        return false;
    *off = (int32_t)(sign * (hh * 3600 + mm * 60));
    *pp = p;
    return true;
}

/* "HH:MM:SS" with optional fraction ('.' or ','), "HH:MM" when
 * allow_short; returns seconds of the day or -1. */
static int32_t
hms_at(const char **pp, const char *e, bool allow_short)
{
    const char *p = *pp;
    int hh, mi, ss = 0;

    if ((hh = num(p, e, 2)) < 0 || p + 2 >= e || p[2] != ':' ||
        (mi = num(p + 3, e, 2)) < 0)
        return -1;
    p += 5;
    if (p < e && *p == ':') {
        if ((ss = num(p + 1, e, 2)) < 0)
            return -1;
        p += 3;
        if (p < e && (*p == '.' || *p == ',') && p + 1 < e && dig(p[1])) {
            p++;
            while (p < e && dig(*p))
                p++;
        }
    } else if (!allow_short) {
        return -1;
    }
    if (hh > 23 || mi > 59 || ss > 60)
        return -1;
    *pp = p;
    return hh * 3600 + mi * 60 + ss;
}

/* Month of a 3-letter abbreviation in any case, as
 * ret__month_from_abbr(), by one switch on the packed bytes. */
static inline unsigned
month_fast(const char *p)
{
    uint32_t k = ((uint32_t)(unsigned char)(p[0] | 0x20) << 16) |
                 ((uint32_t)(unsigned char)(p[1] | 0x20) << 8) |
                 (uint32_t)(unsigned char)(p[2] | 0x20);

#define M3(a, b, c) ((uint32_t)(a) << 16 | (uint32_t)(b) << 8 | (uint32_t)(c))
    switch (k) {
    case M3('j', 'a', 'n'): return 1;
    case M3('f', 'e', 'b'): return 2;
    case M3('m', 'a', 'r'): return 3;
    case M3('a', 'p', 'r'): return 4;
    case M3('m', 'a', 'y'): return 5;
    case M3('j', 'u', 'n'): return 6;
    case M3('j', 'u', 'l'): return 7;
    case M3('a', 'u', 'g'): return 8;
    case M3('s', 'e', 'p'): return 9;
    case M3('o', 'c', 't'): return 10;
    case M3('n', 'o', 'v'): return 11;
    case M3('d', 'e', 'c'): return 12;
    }
#undef M3
    return 0;
}

/* Two digits at p as a number, -1 if either is not a digit. */
static inline int
dig2(const char *p)
{
    unsigned a = (unsigned)(unsigned char)p[0] - '0',
             b = (unsigned)(unsigned char)p[1] - '0';

    return a <= 9 && b <= 9 ? (int)(a * 10 + b) : -1;
}

/* The form every Apache and nginx %t / $time_local writes:
 * "10/Oct/2000:13:55:36 -0700", exactly 26 bytes. Same checks and result
 * as the general parser below; false sends other forms there. */
static inline bool
clf_fixed(const char *s, int64_t *utc, int32_t *offset)
{
    int d, y1, y2, hh, mi, ss, oh, om;
    unsigned m;
    int32_t off;

    if (s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' ||
        s[17] != ':' || s[20] != ' ' || (s[21] != '+' && s[21] != '-'))
        return false;
    if ((d = dig2(s)) < 0 || (m = month_fast(s + 3)) == 0 ||
        (y1 = dig2(s + 7)) < 0 || (y2 = dig2(s + 9)) < 0 ||
        (hh = dig2(s + 12)) < 0 || (mi = dig2(s + 15)) < 0 ||
        (ss = dig2(s + 18)) < 0 || (oh = dig2(s + 22)) < 0 ||
        (om = dig2(s + 24)) < 0)
        return false;
    if (hh > 23 || mi > 59 || ss > 60 || oh > 23 || om > 59)
        return false;
    off = (int32_t)((s[21] == '-' ? -1 : 1) * (oh * 3600 + om * 60));
    if (!ret__time_date_ok(y1 * 100 + y2, m, (unsigned)d))
        return false;
    *utc = ret__days_from_civil(y1 * 100 + y2, m, (unsigned)d) * 86400 +
           hh * 3600 + mi * 60 + ss - off;
    *offset = off;
    return true;
}

bool
ret__time_clf(const char *s, size_t n, int64_t *utc, int32_t *offset)
{
    const char *p = s, *e = s + n;
    int d, y;
    unsigned m;
    int32_t sod, off = 0;

    if (n == 26 && clf_fixed(s, utc, offset))
        return true;
    if (n < 20)
        return false;
    if (dig(p[0]) && p[1] == '/') { /* 1-digit day */
        d = p[0] - '0';
        p += 2;
    } else {
        if ((d = num(p, e, 2)) < 0 || p[2] != '/')
            return false;
        p += 3;
    }
    if (e - p < 14 || (m = ret__month_from_abbr(p)) == 0 || p[3] != '/')
        return false;
    if ((y = num(p + 4, e, 4)) < 0 || p[8] != ':')
        return false;
    p += 9;
    if ((sod = hms_at(&p, e, false)) < 0)
        return false;
    if (p < e) {
        if (*p == ' ')
            p++;
        if (!offset_at(&p, e, &off) || p != e)
            return false;
    }
    if (!ret__time_date_ok(y, m, (unsigned)d))
        return false;
    *utc = ret__days_from_civil(y, m, (unsigned)d) * 86400 + sod - off;
    *offset = off;
    return true;
}

bool
ret__time_date(const char *s, size_t n, int64_t *days)
{
    const char *e = s + n;
    int y, m, d;

    if (n != 10 || (y = num(s, e, 4)) < 0 || s[4] != '-' ||
        (m = num(s + 5, e, 2)) < 0 || s[7] != '-' ||
        (d = num(s + 8, e, 2)) < 0 ||
        !ret__time_date_ok(y, (unsigned)m, (unsigned)d))
        return false;
    *days = ret__days_from_civil(y, (unsigned)m, (unsigned)d);
    return true;
}

bool
ret__time_of_day(const char *s, size_t n, int32_t *secs)
{
    const char *p = s;
    int32_t v;

    if ((v = hms_at(&p, s + n, false)) < 0 || p != s + n)
        return false;
    *secs = v;
    return true;
}

bool
ret__time_iso(const char *s, size_t n, int64_t *utc, int32_t *offset)
{
    const char *p = s, *e = s + n;
    int y, m, d;
    int32_t sod = 0, off = 0;

    if (n < 10 || (y = num(p, e, 4)) < 0 || p[4] != '-' ||
        (m = num(p + 5, e, 2)) < 0 || p[7] != '-' ||
        (d = num(p + 8, e, 2)) < 0)
        return false;
    p += 10;
    if (p < e && (*p == 'T' || *p == 't' || *p == ' ')) {
        p++;
        if ((sod = hms_at(&p, e, true)) < 0)
            return false;
        if (p < e) {
            if (*p == ' ')
                p++;
            if (!offset_at(&p, e, &off))
                return false;
        }
    }
    if (p != e || !ret__time_date_ok(y, (unsigned)m, (unsigned)d))
        return false;
    *utc = ret__days_from_civil(y, (unsigned)m, (unsigned)d) * 86400 + sod - off;
    *offset = off;
    return true;
}

bool
ret__time_epoch(const char *s, size_t n, int scale, int64_t *utc)
{
    const char *p = s, *e = s + n;
    int64_t v = 0;
    int nd = 0;

    while (p < e && dig(*p)) {
        if (++nd > 19)
            return false;
        if (v > (INT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (*p++ - '0');
    }
    if (nd == 0)
        return false;
    if (p < e && *p == '.') {
        p++;
        while (p < e && dig(*p))
            p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) /* 1.7e9: not for logs */
        return false;
    if (p != e)
        return false;
    if (scale == 0) { /* guess by magnitude */
        if (nd <= 11)
            scale = 1;
        else if (nd <= 14)
            scale = 1000;
        else if (nd <= 17)
            scale = 1000000;
        else
            scale = 1000000000;
    }
    *utc = v / scale;
    return true;
}

bool
ret__time_any(const char *s, size_t n, int64_t *utc, int32_t *offset)
{
    if (n == 0)
        return false;
    if (n >= 20 && s[2] == '/')
        return ret__time_clf(s, n, utc, offset);
    if (n >= 10 && s[4] == '-')
        return ret__time_iso(s, n, utc, offset);
    if (n >= 19 && dig(s[0]) && s[1] == '/')
        return ret__time_clf(s, n, utc, offset);
    *offset = 0;
    return ret__time_epoch(s, n, 0, utc);
}

/* ---- strftime subset ---------------------------------------------- */

static const char *const day_names[] = {"sunday",   "monday", "tuesday",
                                        "wednesday", "thursday", "friday",
                                        "saturday"};
static const char *const month_names[] = {
    "january", "february", "march",     "april",   "may",      "june",
    "july",    "august",   "september", "october", "november", "december"};

static char
lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Matches a full or 3-letter name from names at p; returns its index or
 * -1, advancing *pp. */
static int
name_at(const char **pp, const char *e, const char *const *names, int count)
{
    const char *p = *pp;
    int i;

    for (i = 0; i < count; i++) {
        size_t l = strlen(names[i]), k;

        for (k = 0; k < l && p + k < e && lower(p[k]) == names[i][k]; k++)
            ;
        if (k == l || k == 3) {
            if (k == 3 && p + 3 < e && lower(p[3]) >= 'a' &&
                lower(p[3]) <= 'z' && k != l)
                continue; /* "Marchy" */
            *pp = p + k;
            return i;
        }
    }
    return -1;
}

/* Up to max digits (at least 1); space padding allowed when pad. */
static int
upto(const char **pp, const char *e, int max, bool pad)
{
    const char *p = *pp;
    int v = 0, k = 0;

    if (pad)
        while (p < e && *p == ' ' && k < max - 1) {
            p++;
            k++;
        }
    k = 0;
    while (p < e && k < max && dig(*p)) {
        v = v * 10 + (*p++ - '0');
        k++;
    }
    if (k == 0)
        return -1;
    *pp = p;
    return v;
}

static void
parts_init(struct ret__time_parts *tp)
{
    memset(tp, 0, sizeof(*tp));
}

bool
ret__time_strf(const char *fmt, size_t flen, const char *s, size_t n,
               struct ret__time_parts *tp)
{
    const char *f = fmt, *fe = fmt + flen, *p = s, *e = s + n;
    int y = -1, mo = -1, d = -1, hh = 0, mi = 0, ss = 0, pm = -1, v;
    bool have_time = false;

    while (f < fe) {
        if (*f != '%') {
            if (*f == ' ') {
                if (p >= e || *p != ' ')
                    return false;
                while (p < e && *p == ' ')
                    p++;
                f++;
                continue;
            }
            if (p >= e || *p != *f)
                return false;
            p++;
            f++;
            continue;
        }
        if (++f >= fe)
            return false;
        switch (*f++) {
        case '%':
            if (p >= e || *p++ != '%')
                return false;
            break;
        case 'n':
        case 't':
            while (p < e && (*p == ' ' || *p == '\t'))
                p++;
            break;
        case 'a':
        case 'A':
            if (name_at(&p, e, day_names, 7) < 0)
                return false;
            break;
        case 'b':
        case 'B':
        case 'h':
            if ((v = name_at(&p, e, month_names, 12)) < 0)
                return false;
            mo = v + 1;
            break;
        case 'd':
        case 'e':
            if ((d = upto(&p, e, 2, true)) < 0)
                return false;
            break;
        case 'm':
            if ((mo = upto(&p, e, 2, false)) < 0)
                return false;
            break;
        case 'y':
            if ((v = upto(&p, e, 2, false)) < 0)
                return false;
            y = v < 69 ? 2000 + v : 1900 + v;
            break;
        case 'Y':
            if ((y = upto(&p, e, 4, false)) < 0)
                return false;
            break;
        case 'H':
        case 'k':
            if ((hh = upto(&p, e, 2, true)) < 0 || hh > 23)
                return false;
            have_time = true;
            break;
        case 'I':
        case 'l':
            if ((hh = upto(&p, e, 2, true)) < 1 || hh > 12)
                return false;
            have_time = true;
            break;
        case 'p':
            if (e - p < 2)
                return false;
            if (lower(p[0]) == 'a')
                pm = 0;
            else if (lower(p[0]) == 'p')
                pm = 1;
            else
                return false;
            if (lower(p[1]) != 'm')
                return false;
            p += 2;
            break;
        case 'M':
            if ((mi = upto(&p, e, 2, false)) < 0 || mi > 59)
                return false;
            have_time = true;
            break;
        case 'S':
            if ((ss = upto(&p, e, 2, false)) < 0 || ss > 60)
                return false;
            have_time = true;
            break;
        case 'T':
            if ((v = hms_at(&p, e, false)) < 0)
                return false;
            hh = v / 3600;
            mi = v / 60 % 60;
            ss = v % 60;
            have_time = true;
            break;
        case 'R':
            if ((v = hms_at(&p, e, true)) < 0)
                return false;
            hh = v / 3600;
            mi = v / 60 % 60;
            have_time = true;
            break;
        case 'D': /* %m/%d/%y */
            if ((mo = upto(&p, e, 2, false)) < 0 || p >= e || *p++ != '/' ||
                (d = upto(&p, e, 2, false)) < 0 || p >= e || *p++ != '/' ||
                (v = upto(&p, e, 2, false)) < 0)
                return false;
            y = v < 69 ? 2000 + v : 1900 + v;
            break;
        case 'F': /* %Y-%m-%d */
            if ((y = upto(&p, e, 4, false)) < 0 || p >= e || *p++ != '-' ||
                (mo = upto(&p, e, 2, false)) < 0 || p >= e || *p++ != '-' ||
                (d = upto(&p, e, 2, false)) < 0)
                return false;
            break;
        case 'z':
        case 'Z':
            if (!offset_at(&p, e, &tp->offset))
                return false;
            tp->has_offset = true;
            break;
        case 's': {
            const char *q = p;
            int64_t t;

            while (q < e && dig(*q))
                q++;
            if (!ret__time_epoch(p, (size_t)(q - p), 1, &t))
                return false;
            p = q;
            tp->epoch = t;
            tp->has_epoch = true;
            break;
        }
        case 'j':
            if (upto(&p, e, 3, false) < 0)
                return false;
            break;
        default:
            return false; /* refused at compile time already */
        }
    }
    if (p != e)
        return false;
    if (pm >= 0)
        hh = hh % 12 + (pm ? 12 : 0);
    if (y >= 0 || mo >= 0 || d >= 0) {
        if (y < 0 || mo < 0 || d < 0 ||
            !ret__time_date_ok(y, (unsigned)mo, (unsigned)d))
            return false;
        tp->days = ret__days_from_civil(y, (unsigned)mo, (unsigned)d);
        tp->has_date = true;
    }
    if (have_time) {
        tp->sod = hh * 3600 + mi * 60 + ss;
        tp->has_sod = true;
    }
    return true;
}

bool
ret__time_strf_valid(const char *fmt, size_t flen, char *bad)
{
    static const char ok[] = "%ntaAbBhdemyYHkIlpMSTRDFzZsj";
    size_t i;

    for (i = 0; i < flen; i++) {
        if (fmt[i] != '%')
            continue;
        if (i + 1 >= flen || strchr(ok, fmt[i + 1]) == NULL ||
            fmt[i + 1] == '\0') {
            *bad = i + 1 < flen ? fmt[i + 1] : '\0';
            return false;
        }
        i++;
    }
    return true;
}

bool
ret__time_combine(const struct ret__time_parts *tp, int64_t *utc,
                  int32_t *offset)
{
    int32_t off = tp->has_offset ? tp->offset : 0;

    if (tp->has_epoch) {
        *utc = tp->epoch;
        *offset = off;
        return true;
    }
    if (!tp->has_date)
        return false;
    *utc = tp->days * 86400 + (tp->has_sod ? tp->sod : 0) - off;
    *offset = off;
    return true;
}

void
ret__time_parts_init(struct ret__time_parts *tp)
{
    parts_init(tp);
}
