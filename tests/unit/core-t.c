/* core-t.c - status texts, version, times and durations. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#include "../tap.h"

static void
test_strerror(void)
{
    int s;

    for (s = -1; s <= RET_E_KEY; s++)
        ok(ret_strerror((ret_status)s) != NULL &&
               strcmp(ret_strerror((ret_status)s), "unknown error") != 0,
           "status %d has a text", s);
    is_str(ret_strerror((ret_status)999), "unknown error", "unknown code");
    is_str(ret_strerror(RET_OK), "success", "RET_OK text");
    is_int(RET_E_POLICY, 5, "codes are pinned: RET_E_POLICY");
    is_int(RET_E_VIOLATION, 15, "codes are pinned: RET_E_VIOLATION");
}

static void
test_version(void)
{
    is_str(ret_version(), RET_VERSION_STRING, "ret_version");
    is_int(ret_version_number(), RET_VERSION_NUMBER, "ret_version_number");
}

static void
t_time(const char *text, int64_t want, int32_t want_off)
{
    int64_t t = 0;
    int32_t off = 0;
    ret_error err;
    ret_status st = ret_time_parse(text, strlen(text), &t, &off, &err);

    ok(st == RET_OK && t == want && off == want_off, "time '%s' = %lld%+d",
       text, (long long)want, (int)want_off);
    if (st != RET_OK)
        diag("%s", err.message);
    else if (t != want)
        diag("got %lld", (long long)t);
}

static void
t_bad_time(const char *text)
{
    int64_t t = 42;
    ret_error err = {0};
    ret_status st = ret_time_parse(text, strlen(text), &t, NULL, &err);

    ok(st != RET_OK && t == 42 && err.message[0] != '\0',
       "bad time '%s' rejected, out untouched (%s)", text, err.message);
}

static void
test_time(void)
{
    char buf[21];
    int64_t d;

    t_time("1970-01-01", 0, 0);
    t_time("2026-12-01", 1796083200, 0);
    t_time("2026-12-01T10:00:00Z", 1796119200, 0);
    t_time("2026-12-01 11:00:00+01:00", 1796119200, 3600);
    t_time("2026-12-01T11:00:00.999+0100", 1796119200, 3600);
    t_time("2026-12-01T05:30:00-04:30", 1796119200, -16200);
    t_time("@1796119200", 1796119200, 0);
    t_time("@-86400", -86400, 0);
    t_time("01/Dec/2026:11:00:00 +0100", 1796119200, 3600);
    t_time("2024-02-29T00:00:00Z", 1709164800, 0);
    t_time("2000-03-01", 951868800, 0);
    t_time("1969-12-31T23:59:59Z", -1, 0);
    t_bad_time("");
    t_bad_time("2026-13-01");
    t_bad_time("2025-02-29");
    t_bad_time("2026-12-01T25:00");
    t_bad_time("2026-12-01T10:00:00 garbage");
    t_bad_time("yesterday");
    t_bad_time("@12x");
    t_bad_time("01/Foo/2026:11:00:00 +0100");
    t_bad_time("2026-12-01T10:00:00+2400");

    ret_time_format(1796119200, buf);
    is_str(buf, "2026-12-01T10:00:00Z", "format");
    ret_time_format(-1, buf);
    is_str(buf, "1969-12-31T23:59:59Z", "format before the epoch");
    ret_time_format(951782400, buf);
    is_str(buf, "2000-02-29T00:00:00Z", "format a leap day");

    /* Round trip over 800 years, every 37 days and 13 hours. */
    {
        int64_t t, back;
        int bad = 0;

        for (t = -5000000000LL; t < 20000000000LL; t += 37 * 86400 + 13 * 3600) {
            ret_time_format(t, buf);
            if (ret_time_parse(buf, strlen(buf), &back, NULL, NULL) != RET_OK ||
                back != t)
                bad++;
        }
        is_int(bad, 0, "format/parse round trip");
    }

    ok(ret_duration_parse("90d", 3, &d, NULL) == RET_OK && d == 90 * 86400,
       "duration 90d");
    ok(ret_duration_parse("7d12h", 5, &d, NULL) == RET_OK &&
           d == 7 * 86400 + 12 * 3600,
       "duration 7d12h");
    ok(ret_duration_parse("2w", 2, &d, NULL) == RET_OK && d == 14 * 86400,
       "duration 2w");
    ok(ret_duration_parse("3600", 4, &d, NULL) == RET_OK && d == 3600,
       "duration in seconds");
    ok(ret_duration_parse("90x", 3, &d, NULL) == RET_E_PARSE, "unit x");
    ok(ret_duration_parse("1y", 2, &d, NULL) == RET_E_PARSE, "no years");
    ok(ret_duration_parse("d", 1, &d, NULL) == RET_E_PARSE, "no number");
    ok(ret_duration_parse("5d3", 3, &d, NULL) == RET_E_PARSE, "trailing number");
    ok(ret_duration_parse("99999999999999999999d", 21, &d, NULL) == RET_E_RANGE,
       "overflow");
    ok(ret_duration_parse("999999999999999w", 16, &d, NULL) == RET_E_RANGE,
       "overflow by unit");
}

int
main(void)
{
    test_strerror();
    test_version();
    test_time();
    return done_testing();
}
