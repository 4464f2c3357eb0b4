/*
 * gen-log.c - a deterministic generator of realistic combined access logs
 * for benchmarks and large tests.
 *
 *   gen-log [-n LINES] [-s SEED] [-d DAYS] [-e END_EPOCH] [-6 PERCENT]
 *
 * Clients follow a Zipf-like law over a pool of IPv4 and IPv6 addresses
 * (some IPv6 written upper case, some as IPv4-mapped ::ffff:a.b.c.d);
 * paths, referrers and user agents (browsers and crawlers) likewise.
 * Times rise evenly over DAYS days ending at END_EPOCH, shuffled by up
 * to a minute inside each stretch as real servers write them.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t rng_state;

static uint64_t
rng(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double
unif(void)
{
    return (double)(rng() >> 11) / 9007199254740992.0;
}

/* Zipf-like rank in [0, n): inverse of a power-law CDF, s about 1. */
static size_t
zipf(size_t n)
{
    double u = unif();
    size_t r = (size_t)(pow((double)n + 1, u)) - 1;

    return r >= n ? n - 1 : r;
}

static const char *const paths[] = {
    "/", "/index.html", "/favicon.ico", "/robots.txt", "/css/site.css",
    "/js/app.js", "/img/logo.png", "/strom/tarife", "/gas/tarife",
    "/kontakt", "/kundenportal/login", "/kundenportal/rechnung",
    "/installateure/anmeldung", "/netz/stoerungen", "/presse",
    "/karriere", "/datenschutz", "/impressum", "/sms/senden",
    "/api/v1/zaehlerstand", "/blog/2026/energie-sparen",
    "/search", "/wp-login.php", "/.env", "/downloads/preisblatt.pdf",
};
static const char *const queries[] = {
    "", "", "", "", "?page=2", "?q=strompreis", "?utm_source=newsletter",
    "?id=12345678", "?lang=en",
};
static const char *const referrers[] = {
    "-", "-", "-", "https://www.google.com/", "https://www.bing.com/search?q=stadtwerke",
    "https://www.example.org/", "https://duckduckgo.com/",
    "https://www.facebook.com/", "https://t.co/abc",
};
static const char *const agents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
    "curl/8.5.0",
    "python-requests/2.31.0",
    "Wget/1.21.3",
    "-",
};
static const char *const methods[] = {"GET", "GET", "GET", "GET", "GET",
                                      "GET", "POST", "HEAD"};
static const int statuses[] = {200, 200, 200, 200, 200, 200, 200, 304,
                               304, 301, 404, 404, 500, 206};

#define NCLIENTS 50000
#define N(a) (sizeof(a) / sizeof((a)[0]))

static void
client(char *buf, size_t size, size_t rank, unsigned v6_percent)
{
    uint64_t h = rank * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL;
    unsigned kind = (unsigned)(h >> 56) % 100;

    h ^= h >> 29;
    if (kind < v6_percent) {
        unsigned form = (unsigned)(h >> 40) % 10;
        if (form == 0)
            snprintf(buf, size, "::ffff:%u.%u.%u.%u",
                     (unsigned)(h >> 8) % 223 + 1, (unsigned)(h >> 16) & 255,
                     (unsigned)(h >> 24) & 255, (unsigned)(h >> 32) & 255);
        else
            snprintf(buf, size, form == 1 ? "2A02:%X:%X:%X::%X"
                                          : "2a02:%x:%x:%x::%x",
                     (unsigned)(h >> 8) & 0xffff, (unsigned)(h >> 24) & 0xffff,
                     (unsigned)(h >> 40) & 0xffff, (unsigned)h & 0xfff);
    } else {
        snprintf(buf, size, "%u.%u.%u.%u", (unsigned)(h >> 8) % 223 + 1,
                 (unsigned)(h >> 16) & 255, (unsigned)(h >> 24) & 255,
                 (unsigned)(h >> 32) & 255);
    }
}

int
main(int argc, char **argv)
{
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr",
                                      "May", "Jun", "Jul", "Aug",
                                      "Sep", "Oct", "Nov", "Dec"};
    uint64_t lines = 1000000, i, seed = 1;
    int64_t end = 1796083200; /* 2026-12-01T00:00:00Z */
    unsigned days = 120, v6 = 20;
    int ch;
    static char out[1 << 16];

    while ((ch = getopt(argc, argv, "n:s:d:e:6:")) != -1) {
        switch (ch) {
        case 'n': lines = strtoull(optarg, NULL, 10); break;
        case 's': seed = strtoull(optarg, NULL, 10); break;
        case 'd': days = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'e': end = strtoll(optarg, NULL, 10); break;
        case '6': v6 = (unsigned)strtoul(optarg, NULL, 10); break;
        default:
            fprintf(stderr, "usage: gen-log [-n LINES] [-s SEED] [-d DAYS] "
                            "[-e END_EPOCH] [-6 PERCENT]\n");
            return 2;
        }
    }
    setvbuf(stdout, out, _IOFBF, sizeof(out));
    rng_state = seed;
    for (i = 0; i < lines; i++) {
        int64_t start = end - (int64_t)days * 86400;
        int64_t t = start + (int64_t)((double)(end - start) *
                                      ((double)i / (double)(lines ? lines : 1)));
        int64_t z, era, doe, yoe, doy, mp, y, tm;
        unsigned m, d, hh, mi, ss;
        char ip[64];
        int st = statuses[rng() % N(statuses)];
        const char *p = paths[zipf(N(paths))];
        long bytes = st == 304 ? 0 : (long)(rng() % 50000) + 100;

        t -= (int64_t)(rng() % 60);
        /* civil from days, inline to keep this file standalone */
        z = (t >= 0 ? t / 86400 : (t - 86399) / 86400);
        tm = t - z * 86400;
        z += 719468;
        era = (z >= 0 ? z : z - 146096) / 146097;
        doe = z - era * 146097;
        yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        mp = (5 * doy + 2) / 153;
        d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
        m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
        y = yoe + era * 400 + (m <= 2);
        hh = (unsigned)(tm / 3600);
        mi = (unsigned)(tm / 60 % 60);
        ss = (unsigned)(tm % 60);
        client(ip, sizeof(ip), zipf(NCLIENTS), v6);
        printf("%s - - [%02u/%s/%04" PRId64 ":%02u:%02u:%02u +0000] "
               "\"%s %s%s HTTP/1.1\" %d %ld \"%s\" \"%s\"\n",
               ip, d, mon[m - 1], y, hh, mi, ss,
               methods[rng() % N(methods)], p, queries[rng() % N(queries)],
               st, bytes, referrers[zipf(N(referrers))],
               agents[zipf(N(agents))]);
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
