/* time.c - calendar arithmetic and user-supplied times, TZ-independent. */
#include "internal.h"

#include <string.h>

/* Howard Hinnant's days_from_civil, valid for every proleptic Gregorian
 * date representable in int64_t days. */
int64_t
ret__days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void
ret__civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

unsigned
ret__month_from_abbr(const char *p)
{
    static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    char a[3];
    unsigned i;

    for (i = 0; i < 3; i++) {
        char c = p[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        a[i] = c;
    }
    for (i = 0; i < 12; i++)
        if (memcmp(names + 3 * i, a, 3) == 0)
            return i + 1;
    return 0;
}

static unsigned
days_in_month(int64_t y, unsigned m)
{
    static const unsigned char dim[] = {31, 28, 31, 30, 31, 30,
                                        31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : dim[m - 1];
}

/* Reads exactly n digits at *s (s < e); returns -1 if not digits. */
static int64_t
digits(const char **s, const char *e, int n)
{
    int64_t v = 0;
    int i;

    if (e - *s < n)
        return -1;
    for (i = 0; i < n; i++) {
        char c = (*s)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *s += n;
    return v;
}

/* "Z", "+hh:mm", "+hhmm", "+hh", " +hhmm", or nothing. */
static bool
parse_offset(const char **s, const char *e, int32_t *offset)
{
    const char *p = *s;
    int64_t hh, mm = 0;
    int sign;

    if (p < e && *p == ' ')
        p++;
    if (p == e) {
        *offset = 0;
        *s = p;
        return true;
    }
    if (*p == 'Z' || *p == 'z') {
        *offset = 0;
        *s = p + 1;
        return true;
    }
    if (*p != '+' && *p != '-')
        return false;
    sign = *p == '-' ? -1 : 1;
    p++;
    if ((hh = digits(&p, e, 2)) < 0)
        return false;
    if (p < e && *p == ':')
        p++;
    if (p < e && (mm = digits(&p, e, 2)) < 0)
        return false;
    if (hh > 23 || mm > 59)
        return false;
    *offset = (int32_t)(sign * (hh * 3600 + mm * 60));
    *s = p;
    return true;
}

static ret_status
bad_time(ret_error *err, const char *text, size_t len)
{
    return ret__fail(err, RET_E_PARSE,
                     "invalid time '%.*s' (expected 2026-12-01, "
                     "2026-12-01T10:00:00Z or @EPOCH)",
                     (int)(len > 64 ? 64 : len), text);
}

ret_status
ret_time_parse(const char *text, size_t len, int64_t *utc, int32_t *offset,
               ret_error *err)
{
    const char *s = text, *e = text + len;
    int64_t y, mo, d, hh = 0, mi = 0, ss = 0, t;
    int32_t off = 0;

    if (text == NULL)
        return ret__fail(err, RET_E_INVAL, "no time given");
    if (len > 0 && *s == '@') {
        bool neg = false;

        s++;
        if (s < e && *s == '-') {
            neg = true;
            s++;
        }
        if (s == e || e - s > 18)
            return bad_time(err, text, len);
        for (t = 0; s < e; s++) {
            if (*s < '0' || *s > '9')
                return bad_time(err, text, len);
            t = t * 10 + (*s - '0');
        }
        *utc = neg ? -t : t;
        if (offset)
            *offset = 0;
        return RET_OK;
    }
    /* CLF: 10/Oct/2000:13:55:36 -0700 */
    if (len >= 11 && text[2] == '/' && text[6] == '/') {
        unsigned m;

        if ((d = digits(&s, e, 2)) < 0 || *s++ != '/')
            return bad_time(err, text, len);
        if ((m = ret__month_from_abbr(s)) == 0)
            return bad_time(err, text, len);
        mo = m;
        s += 3;
        if (s >= e || *s++ != '/' || (y = digits(&s, e, 4)) < 0)
            return bad_time(err, text, len);
        if (s < e && *s == ':') {
            s++;
            if ((hh = digits(&s, e, 2)) < 0 || s >= e || *s++ != ':' ||
                (mi = digits(&s, e, 2)) < 0 || s >= e || *s++ != ':' ||
                (ss = digits(&s, e, 2)) < 0)
                return bad_time(err, text, len);
        }
    } else {
        if ((y = digits(&s, e, 4)) < 0 || s >= e || *s++ != '-' ||
            (mo = digits(&s, e, 2)) < 0 || s >= e || *s++ != '-' ||
            (d = digits(&s, e, 2)) < 0)
            return bad_time(err, text, len);
        if (s < e && (*s == 'T' || *s == 't' || *s == ' ') && e - s > 1 &&
            s[1] >= '0' && s[1] <= '9') {
            s++;
            if ((hh = digits(&s, e, 2)) < 0 || s >= e || *s++ != ':' ||
                (mi = digits(&s, e, 2)) < 0)
                return bad_time(err, text, len);
            if (s < e && *s == ':') {
                s++;
                if ((ss = digits(&s, e, 2)) < 0)
                    return bad_time(err, text, len);
                if (s < e && (*s == '.' || *s == ',')) {
                    s++;
                    while (s < e && *s >= '0' && *s <= '9')
                        s++;
                }
            }
        }
    }
    if (!parse_offset(&s, e, &off) || s != e)
        return bad_time(err, text, len);
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, (unsigned)mo) ||
        hh > 23 || mi > 59 || ss > 60)
        return ret__fail(err, RET_E_RANGE, "time out of range '%.*s'",
                         (int)(len > 64 ? 64 : len), text);
    t = ret__days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
        hh * 3600 + mi * 60 + ss - off;
    *utc = t;
    if (offset)
        *offset = off;
    return RET_OK;
}

void
ret_time_format(int64_t utc, char buf[21])
{
    int64_t days = utc / 86400, rem = utc % 86400, y;
    unsigned m, d, i;
    char tmp[21];

    if (rem < 0) {
        rem += 86400;
        days--;
    }
    ret__civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999)
        y = y < 0 ? 0 : 9999;
    /* Hand formatting: no locale, no TZ, no snprintf in loops. */
    tmp[0] = (char)('0' + y / 1000);
    tmp[1] = (char)('0' + y / 100 % 10);
    tmp[2] = (char)('0' + y / 10 % 10);
    tmp[3] = (char)('0' + y % 10);
    tmp[4] = '-';
    tmp[5] = (char)('0' + m / 10);
    tmp[6] = (char)('0' + m % 10);
    tmp[7] = '-';
    tmp[8] = (char)('0' + d / 10);
    tmp[9] = (char)('0' + d % 10);
    tmp[10] = 'T';
    tmp[11] = (char)('0' + rem / 36000);
    tmp[12] = (char)('0' + rem / 3600 % 10);
    tmp[13] = ':';
    tmp[14] = (char)('0' + rem % 3600 / 600);
    tmp[15] = (char)('0' + rem % 3600 / 60 % 10);
    tmp[16] = ':';
    tmp[17] = (char)('0' + rem % 60 / 10);
    tmp[18] = (char)('0' + rem % 10);
    tmp[19] = 'Z';
    tmp[20] = '\0';
    for (i = 0; i < 21; i++)
        buf[i] = tmp[i];
}

ret_status
ret_duration_parse(const char *text, size_t len, int64_t *seconds,
                   ret_error *err)
{
    const char *s = text, *e = text + len;
    int64_t total = 0;

    if (len == 0)
        return ret__fail(err, RET_E_PARSE, "empty duration");
    while (s < e) {
        int64_t v = 0, unit;
        const char *start = s;

        while (s < e && *s >= '0' && *s <= '9') {
            if (v > (INT64_MAX - 9) / 10)
                return ret__fail(err, RET_E_RANGE,
                                 "duration '%.*s' is too large", (int)len,
                                 text);
            v = v * 10 + (*s++ - '0');
        }
        if (s == start)
            return ret__fail(err, RET_E_PARSE,
                             "invalid duration '%.*s' (expected a number "
                             "and a unit s, m, h, d or w: 90d)",
                             (int)len, text);
        if (s == e) {
            if (start != text)
                return ret__fail(err, RET_E_PARSE,
                                 "invalid duration '%.*s': unit missing "
                                 "after %.*s",
                                 (int)len, text, (int)(s - start), start);
            unit = 1;
        } else {
            switch (*s++) {
            case 's': unit = 1; break;
            case 'm': unit = 60; break;
            case 'h': unit = 3600; break;
            case 'd': unit = 86400; break;
            case 'w': unit = 7 * 86400; break;
            case 'y':
                return ret__fail(err, RET_E_PARSE,
                                 "invalid duration '%.*s': years are "
                                 "calendar based, not accepted here",
                                 (int)len, text);
            default:
                return ret__fail(err, RET_E_PARSE,
                                 "unknown duration unit '%c' in '%.*s' "
                                 "(use s, m, h, d or w)",
                                 s[-1], (int)len, text);
            }
        }
        if (v > (INT64_MAX - total) / unit)
            return ret__fail(err, RET_E_RANGE, "duration '%.*s' is too large",
                             (int)len, text);
        total += v * unit;
    }
    *seconds = total;
    return RET_OK;
}
