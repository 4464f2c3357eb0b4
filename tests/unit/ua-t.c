/* ua-t.c - user-agent classification against uap-core's own tests. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tap.h"

struct suite {
    ret__ua *u;
    int kind;
    unsigned total, agree;
    unsigned shown;
};

static int
check_case(void *ctx, const char *section, const char *const *keys,
           const char *const *vals, size_t n)
{
    struct suite *s = ctx;
    const char *ua = NULL, *fam = NULL;
    char got[256];
    size_t i;

    if (strcmp(section, "test_cases") != 0)
        return 0;
    for (i = 0; i < n; i++) {
        if (strcmp(keys[i], "user_agent_string") == 0)
            ua = vals[i];
        else if (strcmp(keys[i], "family") == 0)
            fam = vals[i];
    }
    if (ua == NULL || fam == NULL)
        return 0;
    ret__ua_uap(s->u, s->kind, ua, strlen(ua), got, sizeof(got));
    s->total++;
    if (strcmp(got, fam) == 0)
        s->agree++;
    else if (s->shown++ < 5)
        diag("kind %d: '%s': got '%s', expected '%s'", s->kind, ua, got, fam);
    return 0;
}

static void
run_suite(ret__ua *u, const char *dir, const char *file, int kind,
          double floor)
{
    char path[4096];
    struct suite s = {u, kind, 0, 0, 0};
    ret_error err;
    ret_status st;
    double rate;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    st = ret__yaml_each(path, check_case, &s, &err);
    is_int(st, RET_OK, "%s read", file);
    rate = s.total ? 100.0 * s.agree / s.total : 0;
    diag("%s: %u of %u families agree (%.2f%%)", file, s.agree, s.total, rate);
    ok(s.total > 100 && rate >= floor, "%s agreement %.2f%% >= %.1f%%", file,
       rate, floor);
}

static const char *
cls(ret__ua *u, const char *ua, const char **crawler, const char **browser,
    const char **os)
{
    const ret__ua_info *i = ret__ua_info_of(u, ret__ua_lookup(u, ua,
                                                              strlen(ua), NULL));
    if (i == NULL)
        return "(null)";
    *crawler = i->crawler ? i->crawler : "";
    *browser = i->browser ? i->browser : "";
    *os = i->os;
    return i->device;
}

int
main(void)
{
    const char *regexes = getenv("UAP_REGEXES");
    char dir[4096], *slash;
    const char *c, *b, *o;
    ret__ua *u = NULL, *own = NULL;
    ret_error err;
    uint32_t a, a2;

    if (regexes == NULL || *regexes == '\0')
        regexes = RET_UAP_REGEXES;
    /* own rules work without uap-core */
    is_int(ret__ua_new(NULL, &own, &err), RET_OK, "own rules only");
    is_str(cls(own, "curl/8.5.0", &c, &b, &o), "bot", "curl is automated");
    is_str(c, "curl", "curl named");
    cls(own, "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; "
             "compatible; GPTBot/1.2; +https://openai.com/gptbot)",
        &c, &b, &o);
    is_str(c, "GPTBot", "GPTBot is an AI crawler");
    cls(own, "python-requests/2.31.0", &c, &b, &o);
    is_str(c, "python-requests", "python-requests");
    cls(own, "Go-http-client/1.1", &c, &b, &o);
    is_str(c, "Go-http-client", "Go-http-client");
    cls(own, "Wget/1.21.3", &c, &b, &o);
    is_str(c, "Wget", "Wget");
    cls(own, "Mozilla/5.0 (compatible; ClaudeBot/1.0; +claudebot@anthropic.com)",
        &c, &b, &o);
    is_str(c, "ClaudeBot", "ClaudeBot");
    a = ret__ua_lookup(own, "x", 1, NULL);
    a2 = ret__ua_lookup(own, "x", 1, NULL);
    is_int(a, a2, "cached result is the same");
    ret__ua_free(own);

    if (access(regexes, R_OK) != 0) {
        diag("uap-core not installed (%s): its suites skipped", regexes);
        return done_testing();
    }
    is_int(ret__ua_new(regexes, &u, &err), RET_OK, "uap-core rules");
    is_int(ret__ua_check(u, &err), RET_OK, "regexes.yaml loads");
    is_str(cls(u, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                  "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
               &c, &b, &o),
           "desktop", "Chrome on Windows is desktop");
    is_str(b, "Chrome", "browser Chrome");
    is_str(o, "Windows", "os Windows");
    is_str(cls(u, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) "
                  "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 "
                  "Mobile/15E148 Safari/604.1",
               &c, &b, &o),
           "mobile", "iPhone is mobile");
    is_str(b, "Mobile Safari", "browser Mobile Safari");
    is_str(o, "iOS", "os iOS");
    is_str(cls(u, "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) "
                  "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 "
                  "Mobile/15E148 Safari/604.1",
               &c, &b, &o),
           "tablet", "iPad is a tablet");
    is_str(cls(u, "Mozilla/5.0 (compatible; Googlebot/2.1; "
                  "+http://www.google.com/bot.html)",
               &c, &b, &o),
           "bot", "Googlebot is a bot");
    is_str(c, "Googlebot", "crawler Googlebot");
    is_str(b, "", "a crawler is no browser");

    snprintf(dir, sizeof(dir), "%s", regexes);
    slash = strrchr(dir, '/');
    if (slash != NULL)
        *slash = '\0';
    strncat(dir, "/tests", sizeof(dir) - strlen(dir) - 1);
    if (access(dir, R_OK) == 0) {
        run_suite(u, dir, "test_ua.yaml", 0, 99.0);
        run_suite(u, dir, "test_os.yaml", 1, 99.0);
        run_suite(u, dir, "test_device.yaml", 2, 99.0);
    } else {
        diag("%s not found: uap-core suites skipped", dir);
    }
    ret__ua_free(u);
    return done_testing();
}
