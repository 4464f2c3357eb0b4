/*
 * ua.c - user-agent classification for the statistics: browser family,
 * operating system family, device class and crawler name.
 *
 * The rules are uap-core's regexes.yaml (Apache-2.0; Debian package
 * uap-core), read with libyaml and compiled with PCRE2 (JIT) lazily, one
 * rule at a time when a search first reaches it. Our own rules come
 * first: AI crawlers and scripted HTTP clients (curl, wget,
 * python-requests, Go-http-client...), which we count as crawlers. The
 * result is cached per distinct user agent, so a log of a million lines
 * with a few thousand agents runs the rules a few thousand times.
 */
#include "internal.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

enum { UAP_UA = 0, UAP_OS = 1, UAP_DEVICE = 2 };

struct uap_rule {
    char *regex;
    char *repl;       /* family/os/device replacement, or NULL */
    bool caseless;
    bool compiled;    /* tried to compile (re NULL: it failed) */
    bool jitted;      /* JIT-compiled (once it has been tried often) */
    unsigned tries;
    pcre2_code *re;
    char lit[32];     /* a literal every match contains (lower case when
                       * caseless), "" when none was found */
    size_t litlen;
};

struct rule_list {
    struct uap_rule *v;
    size_t n, cap;
};

/* An own rule: pattern, the name counted, and whether it is a bot. */
struct own_rule {
    const char *pattern;
    const char *name;
};

/* AI crawlers and fetchers, then scripted clients and tools. */
static const struct own_rule own_rules[] = {
    {"\\bGPTBot\\b", "GPTBot"},
    {"\\bChatGPT-User\\b", "ChatGPT-User"},
    {"\\bOAI-SearchBot\\b", "OAI-SearchBot"},
    {"\\bClaudeBot\\b", "ClaudeBot"},
    {"\\bClaude-(?:Web|User|SearchBot)\\b", "ClaudeBot"},
    {"\\banthropic-ai\\b", "anthropic-ai"},
    {"\\bCCBot\\b", "CCBot"},
    {"\\bPerplexity(?:Bot|-User)\\b", "PerplexityBot"},
    {"\\bGoogle-Extended\\b", "Google-Extended"},
    {"\\bGoogleOther\\b", "GoogleOther"},
    {"\\bBytespider\\b", "Bytespider"},
    {"\\bAmazonbot\\b", "Amazonbot"},
    {"\\bApplebot-Extended\\b", "Applebot-Extended"},
    {"\\bApplebot\\b", "Applebot"},
    {"\\bmeta-external(?:agent|fetcher)\\b", "Meta-ExternalAgent"},
    {"\\bFacebookBot\\b", "FacebookBot"},
    {"\\bcohere-(?:ai|training-data-crawler)\\b", "cohere-ai"},
    {"\\bDiffbot\\b", "Diffbot"},
    {"\\bYouBot\\b", "YouBot"},
    {"\\bImagesiftBot\\b", "ImagesiftBot"},
    {"\\bTimpibot\\b", "Timpibot"},
    {"\\bAI2Bot\\b", "AI2Bot"},
    {"\\bMistralAI-User\\b", "MistralAI-User"},
    {"\\bDuckAssistBot\\b", "DuckAssistBot"},
    {"\\bPetalBot\\b", "PetalBot"},
    {"\\bomgili(?:bot)?\\b", "omgili"},
    {"\\bSemrushBot\\b", "SemrushBot"},
    {"\\bAhrefsBot\\b", "AhrefsBot"},
    {"\\bDotBot\\b", "DotBot"},
    {"^(?:lib)?curl\\b", "curl"},
    {"^Wget\\b|^wget2?\\b", "Wget"},
    {"\\bpython-requests\\b", "python-requests"},
    {"\\bPython-urllib\\b", "Python-urllib"},
    {"\\bpython-httpx\\b", "python-httpx"},
    {"\\baiohttp\\b", "aiohttp"},
    {"\\bGo-http-client\\b", "Go-http-client"},
    {"\\bokhttp\\b", "okhttp"},
    {"\\bApache-HttpClient\\b", "Apache-HttpClient"},
    {"^Java/", "Java"},
    {"\\blibwww-perl\\b", "libwww-perl"},
    {"\\bPostmanRuntime\\b", "PostmanRuntime"},
    {"^HTTPie\\b", "HTTPie"},
    {"^axios\\b", "axios"},
    {"^node-fetch\\b|^undici\\b", "node-fetch"},
    {"\\bScrapy\\b", "Scrapy"},
    {"\\bWindowsPowerShell\\b", "PowerShell"},
    {"^Ruby\\b|\\bFaraday\\b", "Ruby"},
    {"\\bGuzzleHttp\\b", "Guzzle"},
    {"^Dart/", "Dart"},
    {"^reqwest\\b", "reqwest"},
    {"^HeadlessChrome|\\bHeadlessChrome\\b", "HeadlessChrome"},
};
#define NOWN (sizeof(own_rules) / sizeof(own_rules[0]))

struct cache_slot {
    uint64_t hash;
    char *ua;        /* NULL: empty slot */
    size_t len;
    uint32_t combo;
};

struct ret__ua {
    char *path;
    bool loaded;     /* tried to load path */
    struct rule_list lists[3];
    pcre2_code *own[NOWN];
    bool own_compiled;
    pcre2_match_data *md;
    /* interned strings and distinct results */
    char **strs;
    size_t nstrs, capstrs;
    ret__ua_info *combos;
    size_t ncombos, capcombos;
    struct cache_slot *cache;
    size_t cache_cap, cache_n;
};

/* ---- the YAML walker, shared with the tests ---- */

static char *
scalar_dup(const yaml_event_t *ev)
{
    size_t n = ev->data.scalar.length;
    char *s = malloc(n + 1);

    if (s != NULL) {
        memcpy(s, ev->data.scalar.value, n);
        s[n] = '\0';
    }
    return s;
}

/*
 * Calls cb for every mapping of scalars in the sequences under the
 * top-level keys of a YAML file ("user_agent_parsers:", "test_cases:").
 */
ret_status
ret__yaml_each(const char *path, ret__yaml_cb cb, void *ctx, ret_error *err)
{
    enum { MAXKV = 16 };
    yaml_parser_t parser;
    yaml_event_t ev;
    FILE *fp = NULL;
    ret_status st = RET_OK;
    char *section = NULL, *keys[MAXKV], *vals[MAXKV], *pending = NULL;
    size_t nkv = 0, i;
    int depth = 0, parser_ok = 0;
    bool done = false;

    fp = fopen(path, "r");
    if (fp == NULL)
        return ret__fail_errno(err, errno == ENOENT ? RET_E_NOTFOUND
                                                    : RET_E_IO,
                               errno, "%s", path);
    if (!yaml_parser_initialize(&parser)) {
        st = ret__fail(err, RET_E_NOMEM, "%s: yaml parser", path);
        goto out;
    }
    parser_ok = 1;
    yaml_parser_set_input_file(&parser, fp);
    while (!done) {
        if (!yaml_parser_parse(&parser, &ev)) {
            st = ret__fail(err, RET_E_PARSE, "%s:%zu: %s", path,
                           parser.problem_mark.line + 1,
                           parser.problem ? parser.problem : "yaml error");
            goto out;
        }
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_MAPPING_START_EVENT:
        case YAML_SEQUENCE_START_EVENT:
            if (depth == 1 && pending != NULL &&
                ev.type == YAML_SEQUENCE_START_EVENT) {
                /* a top-level key followed by a sequence: a section */
                free(section);
                section = pending;
                pending = NULL;
            }
            depth++;
            if (ev.type == YAML_MAPPING_START_EVENT && depth == 3)
                nkv = 0;
            free(pending);
            pending = NULL;
            break;
        case YAML_MAPPING_END_EVENT:
        case YAML_SEQUENCE_END_EVENT:
            if (ev.type == YAML_MAPPING_END_EVENT && depth == 3 &&
                section != NULL) {
                int rc = cb(ctx, section, (const char *const *)keys,
                            (const char *const *)vals, nkv);
                for (i = 0; i < nkv; i++) {
                    free(keys[i]);
                    free(vals[i]);
                }
                nkv = 0;
                if (rc != 0) {
                    st = ret__fail(err, RET_E_NOMEM, "%s: out of memory",
                                   path);
                    yaml_event_delete(&ev);
                    goto out;
                }
            }
            depth--;
            break;
        case YAML_SCALAR_EVENT:
            if (depth == 1) {
                if (pending == NULL) {
                    pending = scalar_dup(&ev);
                } else {
                    free(pending);
                    pending = NULL;
                }
            } else if (depth == 3) {
                if (pending == NULL) {
                    pending = scalar_dup(&ev);
                } else if (nkv < MAXKV) {
                    keys[nkv] = pending;
                    vals[nkv] = scalar_dup(&ev);
                    nkv++;
                    pending = NULL;
                } else {
                    free(pending);
                    pending = NULL;
                }
            }
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
out:
    for (i = 0; i < nkv; i++) {
        free(keys[i]);
        free(vals[i]);
    }
    free(pending);
    free(section);
    if (parser_ok)
        yaml_parser_delete(&parser);
    if (fp != NULL)
        fclose(fp);
    return st;
}

/* ---- loading rules ---- */

static const char *
kv_get(const char *const *keys, const char *const *vals, size_t n,
       const char *name)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(keys[i], name) == 0)
            return vals[i];
    return NULL;
}

/*
 * A literal that every match of the pattern contains, for a quick
 * memmem() before the regex runs: the longest run of plain characters at
 * the top level of a pattern without top-level alternation. Conservative:
 * anything unusual yields no literal (the regex then always runs).
 */
static void
required_literal(struct uap_rule *r)
{
    const char *p = r->regex;
    char run[32], best[32];
    size_t n = 0, bn = 0, i;
    int depth = 0;

    r->litlen = 0;
    if (strstr(p, "(?i") != NULL)
        return;
#define END_RUN()                                                              \
    do {                                                                       \
        if (n > bn) {                                                          \
            memcpy(best, run, n);                                              \
            bn = n;                                                            \
        }                                                                      \
        n = 0;                                                                 \
    } while (0)
    while (*p != '\0') {
        char c = *p, lit = 0;
        if (c == '\\') {
            char e = p[1];
            if (e == '\0')
                return;
            if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') ||
                (e >= '0' && e <= '9')) {
                if (depth == 0)
                    END_RUN();
                p += 2;
                continue;
            }
            lit = e;
            p += 2;
        } else if (c == '[') {
            /* a class: skip it */
            p++;
            if (*p == '^')
                p++;
            if (*p == ']')
                p++;
            while (*p != '\0' && *p != ']') {
                if (*p == '\\' && p[1] != '\0')
                    p++;
                p++;
            }
            if (*p == '\0')
                return;
            p++;
            if (depth == 0)
                END_RUN();
            continue;
        } else if (c == '(') {
            if (depth == 0)
                END_RUN();
            depth++;
            p++;
            continue;
        } else if (c == ')') {
            depth--;
            if (depth < 0)
                return;
            p++;
            continue;
        } else if (c == '|') {
            if (depth == 0)
                return; /* top-level alternation: nothing is required */
            p++;
            continue;
        } else if (c == '.' || c == '^' || c == '$' || c == '+' || c == '?' ||
                   c == '*' || c == '{' || c == '}') {
            if (depth == 0) {
                /* a quantifier makes the character before it optional
                 * (+ repeats it: keep it, but the run ends) */
                if ((c == '?' || c == '*' || c == '{') && n > 0)
                    n--;
                END_RUN();
            }
            p++;
            if (c == '{') {
                /* {m,n}: its digits are no literal */
                while (*p != '\0' && *p != '}')
                    p++;
                if (*p == '\0')
                    return;
                p++;
            }
            continue;
        } else {
            lit = c;
            p++;
        }
        if (depth != 0)
            continue;
        /* a quantifier right after this character? */
        if (*p == '?' || *p == '*' || *p == '{') {
            END_RUN();
            continue;
        }
        if (n < sizeof(run))
            run[n++] = lit;
        if (*p == '+')
            END_RUN();
    }
    END_RUN();
#undef END_RUN
    if (depth != 0 || bn < 3)
        return;
    for (i = 0; i < bn; i++)
        r->lit[i] = r->caseless && best[i] >= 'A' && best[i] <= 'Z'
                        ? (char)(best[i] + 32)
                        : best[i];
    r->litlen = bn;
}

static int
load_rule(void *ctx, const char *section, const char *const *keys,
          const char *const *vals, size_t n)
{
    ret__ua *u = ctx;
    struct rule_list *l;
    struct uap_rule *r;
    const char *re, *repl, *flag;
    int kind;

    if (strcmp(section, "user_agent_parsers") == 0) {
        kind = UAP_UA;
        repl = kv_get(keys, vals, n, "family_replacement");
    } else if (strcmp(section, "os_parsers") == 0) {
        kind = UAP_OS;
        repl = kv_get(keys, vals, n, "os_replacement");
    } else if (strcmp(section, "device_parsers") == 0) {
        kind = UAP_DEVICE;
        repl = kv_get(keys, vals, n, "device_replacement");
    } else {
        return 0;
    }
    re = kv_get(keys, vals, n, "regex");
    if (re == NULL)
        return 0;
    flag = kv_get(keys, vals, n, "regex_flag");
    l = &u->lists[kind];
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        struct uap_rule *v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    r = &l->v[l->n];
    memset(r, 0, sizeof(*r));
    r->regex = strdup(re);
    r->repl = repl ? strdup(repl) : NULL;
    r->caseless = flag != NULL && strchr(flag, 'i') != NULL;
    if (r->regex == NULL || (repl != NULL && r->repl == NULL)) {
        free(r->regex);
        free(r->repl);
        return -1;
    }
    required_literal(r);
    l->n++;
    return 0;
}

static void
ua_load(ret__ua *u)
{
    if (u->loaded)
        return;
    u->loaded = true;
    if (u->path != NULL && u->path[0] != '\0')
        (void)ret__yaml_each(u->path, load_rule, u, NULL);
}

/* Rules are JIT-compiled only once tried this often: compiling costs
 * more than a few interpreted matches, and most rules of uap-core see
 * only a handful of distinct agents in a log. */
#define JIT_AFTER 24

static pcre2_code *
compile(const char *pattern, bool caseless, bool jit)
{
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *re;

    re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                       caseless ? PCRE2_CASELESS : 0, &ec, &eo, NULL);
    if (re != NULL && jit)
        (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    return re;
}

ret_status
ret__ua_new(const char *regexes, ret__ua **out, ret_error *err)
{
    ret__ua *u = calloc(1, sizeof(*u));

    if (u == NULL)
        return ret__fail(err, RET_E_NOMEM, "out of memory");
    if (regexes != NULL && (u->path = strdup(regexes)) == NULL)
        goto nomem;
    u->md = pcre2_match_data_create(20, NULL);
    if (u->md == NULL)
        goto nomem;
    *out = u;
    return RET_OK;
nomem:
    ret__ua_free(u);
    return ret__fail(err, RET_E_NOMEM, "out of memory");
}

ret_status
ret__ua_check(ret__ua *u, ret_error *err)
{
    if (u->path == NULL || u->path[0] == '\0')
        return RET_OK;
    u->loaded = true;
    return ret__yaml_each(u->path, load_rule, u, err);
}

void
ret__ua_free(ret__ua *u)
{
    size_t i, k;

    if (u == NULL)
        return;
    for (k = 0; k < 3; k++) {
        for (i = 0; i < u->lists[k].n; i++) {
            free(u->lists[k].v[i].regex);
            free(u->lists[k].v[i].repl);
            pcre2_code_free(u->lists[k].v[i].re);
        }
        free(u->lists[k].v);
    }
    for (i = 0; i < NOWN; i++)
        pcre2_code_free(u->own[i]);
    pcre2_match_data_free(u->md);
    for (i = 0; i < u->nstrs; i++)
        free(u->strs[i]);
    free(u->strs);
    free(u->combos);
    for (i = 0; i < u->cache_cap; i++)
        free(u->cache[i].ua);
    free(u->cache);
    free(u->path);
    free(u);
}

/* ---- matching ---- */

/* uap-core's replacement: $1..$9 become the groups (unset: empty), the
 * result is trimmed; an empty result means "no match, keep looking". */
static bool
replace(const char *repl, const char *s, const PCRE2_SIZE *ov, int rc,
        char *buf, size_t size)
{
    size_t n = 0, b, e;
    const char *p;

    if (repl == NULL) {
        if (rc < 2 || ov[2] == PCRE2_UNSET)
            return false;
        p = s + ov[2];
        e = ov[3] - ov[2];
        if (e >= size)
            e = size - 1;
        memcpy(buf, p, e);
        n = e;
    } else {
        for (p = repl; *p != '\0' && n + 1 < size; p++) {
            if (p[0] == '$' && p[1] >= '1' && p[1] <= '9') {
                int g = p[1] - '0';
                p++;
                if (g < rc && ov[2 * g] != PCRE2_UNSET) {
                    size_t gl = ov[2 * g + 1] - ov[2 * g];
                    if (gl > size - 1 - n)
                        gl = size - 1 - n;
                    memcpy(buf + n, s + ov[2 * g], gl);
                    n += gl;
                }
            } else {
                buf[n++] = *p;
            }
        }
    }
    buf[n] = '\0';
    /* trim */
    for (b = 0; b < n && (buf[b] == ' ' || buf[b] == '\t'); b++)
        ;
    for (e = n; e > b && (buf[e - 1] == ' ' || buf[e - 1] == '\t'); e--)
        ;
    if (e == b)
        return false;
    memmove(buf, buf + b, e - b);
    buf[e - b] = '\0';
    return true;
}

int
ret__ua_uap(ret__ua *u, int kind, const char *ua, size_t len, char *buf,
            size_t size)
{
    struct rule_list *l;
    char lower[512];
    size_t i, llen = len < sizeof(lower) ? len : 0;
    int found = 0;

    ua_load(u);
    if (kind < 0 || kind > 2 || size < 2)
        return 0;
    /* the lower-case copy for the literals of caseless rules; agents
     * longer than the buffer skip the quick check */
    for (i = 0; i < llen; i++)
        lower[i] = ua[i] >= 'A' && ua[i] <= 'Z' ? (char)(ua[i] + 32) : ua[i];
    l = &u->lists[kind];
    for (i = 0; i < l->n && !found; i++) {
        struct uap_rule *r = &l->v[i];
        int rc;

        if (r->litlen > 0 && llen > 0 &&
            memmem(r->caseless ? lower : ua, llen, r->lit, r->litlen) ==
                NULL)
            continue;

        if (!r->compiled) {
            r->compiled = true;
            r->re = compile(r->regex, r->caseless, false);
        }
        if (r->re == NULL)
            continue;
        if (!r->jitted && ++r->tries >= JIT_AFTER) {
            r->jitted = true;
            (void)pcre2_jit_compile(r->re, PCRE2_JIT_COMPLETE);
        }
        rc = pcre2_match(r->re, (PCRE2_SPTR)ua, len, 0, 0, u->md, NULL);
        if (rc < 0)
            continue;
        if (rc == 0)
            rc = 20;
        if (replace(r->repl, ua, pcre2_get_ovector_pointer(u->md), rc, buf,
                    size))
            found = 1;
    }
    if (!found)
        snprintf(buf, size, "Other");
    return found;
}

static const char *
intern(ret__ua *u, const char *s)
{
    size_t i;
    char *c;

    for (i = 0; i < u->nstrs; i++)
        if (strcmp(u->strs[i], s) == 0)
            return u->strs[i];
    if (u->nstrs == u->capstrs) {
        size_t cap = u->capstrs ? u->capstrs * 2 : 64;
        char **v = realloc(u->strs, cap * sizeof(*v));
        if (v == NULL)
            return NULL;
        u->strs = v;
        u->capstrs = cap;
    }
    if ((c = strdup(s)) == NULL)
        return NULL;
    u->strs[u->nstrs++] = c;
    return c;
}

static bool
has(const char *ua, size_t len, const char *needle)
{
    size_t n = strlen(needle);

    return memmem(ua, len, needle, n) != NULL;
}

static bool
is_desktop_os(const char *os)
{
    static const char *const desktop[] = {
        "Mac OS X", "Linux", "Ubuntu", "Fedora", "Debian", "Chrome OS",
        "FreeBSD", "OpenBSD", "NetBSD", "Solaris", "Mandriva", "SUSE",
        "Red Hat", "Gentoo", "Mint", "Arch Linux", "Slackware", "CentOS",
        "Kubuntu", "Xubuntu", "macOS", "ChromeOS", "Haiku", "BeOS"};
    size_t i;

    if (strncmp(os, "Windows", 7) == 0)
        return strstr(os, "Phone") == NULL && strstr(os, "Mobile") == NULL &&
               strcmp(os, "Windows CE") != 0 && strcmp(os, "Windows RT") != 0;
    for (i = 0; i < sizeof(desktop) / sizeof(desktop[0]); i++)
        if (strcmp(os, desktop[i]) == 0)
            return true;
    return false;
}

static bool
is_mobile_os(const char *os)
{
    static const char *const mobile[] = {
        "iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS",
        "Symbian OS", "Symbian^3", "Firefox OS", "webOS", "Tizen",
        "Windows Mobile", "Bada", "Sailfish", "Ubuntu Touch", "HarmonyOS",
        "Windows CE", "Maemo", "MeeGo", "Series 60", "Series 40"};
    size_t i;

    for (i = 0; i < sizeof(mobile) / sizeof(mobile[0]); i++)
        if (strcmp(os, mobile[i]) == 0)
            return true;
    return false;
}

/* The classification of one agent, without the cache. */
static bool
classify(ret__ua *u, const char *ua, size_t len, ret__ua_info *info)
{
    char fam[128], os[128], dev[128];
    const char *bot = NULL, *cls;
    size_t i;

    if (!u->own_compiled) {
        u->own_compiled = true;
        for (i = 0; i < NOWN; i++)
            u->own[i] = compile(own_rules[i].pattern, true, true);
    }
    for (i = 0; i < NOWN && bot == NULL; i++)
        if (u->own[i] != NULL &&
            pcre2_match(u->own[i], (PCRE2_SPTR)ua, len, 0, 0, u->md,
                        NULL) >= 0)
            bot = own_rules[i].name;
    ret__ua_uap(u, UAP_UA, ua, len, fam, sizeof(fam));
    ret__ua_uap(u, UAP_OS, ua, len, os, sizeof(os));
    ret__ua_uap(u, UAP_DEVICE, ua, len, dev, sizeof(dev));
    if (bot == NULL && strcmp(dev, "Spider") == 0)
        bot = strcmp(fam, "Other") == 0 ? "Other crawler" : fam;
    if (bot != NULL)
        cls = "bot";
    else if (strcmp(dev, "iPad") == 0 || has(ua, len, "Tablet") ||
             strstr(dev, "Tablet") != NULL || strstr(dev, "Kindle") != NULL ||
             (strcmp(os, "Android") == 0 && !has(ua, len, "Mobile")))
        cls = "tablet";
    else if (strcmp(dev, "iPhone") == 0 || strcmp(dev, "iPod") == 0 ||
             has(ua, len, "Mobi") || is_mobile_os(os))
        cls = "mobile";
    else if (is_desktop_os(os))
        cls = "desktop";
    else
        cls = "other";
    info->browser = bot ? NULL : intern(u, fam);
    info->os = intern(u, os);
    info->device = intern(u, cls);
    info->crawler = bot ? intern(u, bot) : NULL;
    return (bot != NULL || info->browser != NULL) && info->os != NULL &&
           info->device != NULL;
}

static uint32_t
combo_id(ret__ua *u, const ret__ua_info *info)
{
    size_t i;

    for (i = 0; i < u->ncombos; i++)
        if (u->combos[i].browser == info->browser &&
            u->combos[i].os == info->os &&
            u->combos[i].device == info->device &&
            u->combos[i].crawler == info->crawler)
            return (uint32_t)i;
    if (u->ncombos == u->capcombos) {
        size_t cap = u->capcombos ? u->capcombos * 2 : 64;
        ret__ua_info *v = realloc(u->combos, cap * sizeof(*v));
        if (v == NULL)
            return UINT32_MAX;
        u->combos = v;
        u->capcombos = cap;
    }
    u->combos[u->ncombos] = *info;
    return (uint32_t)u->ncombos++;
}

#define CACHE_MAX 65536

/* Eight bytes at p as a word (compared, not interpreted). */
static inline uint64_t
word_at(const char *p)
{
    uint64_t w;

    memcpy(&w, p, 8);
    return w;
}

uint32_t
ret__ua_lookup(ret__ua *u, const char *ua, size_t len, uint64_t *hash)
{
    uint64_t h = ret__hash(ua, len, 0x7561);
    size_t mask, i;
    ret__ua_info info;
    uint32_t id;
    char *copy;

    if (hash != NULL)
        *hash = h;
    if (u->cache_n * 2 >= u->cache_cap) {
        if (u->cache_cap >= CACHE_MAX) {
            /* full: forget everything (results stay interned) */
            for (i = 0; i < u->cache_cap; i++) {
                free(u->cache[i].ua);
                u->cache[i].ua = NULL;
            }
            u->cache_n = 0;
        } else {
            size_t cap = u->cache_cap ? u->cache_cap * 2 : 1024;
            struct cache_slot *v = calloc(cap, sizeof(*v));
            if (v == NULL)
                return UINT32_MAX;
            for (i = 0; i < u->cache_cap; i++) {
                struct cache_slot *o = &u->cache[i];
                size_t j;
                if (o->ua == NULL)
                    continue;
                for (j = o->hash & (cap - 1); v[j].ua != NULL;
                     j = (j + 1) & (cap - 1))
                    ;
                v[j] = *o;
            }
            free(u->cache);
            u->cache = v;
            u->cache_cap = cap;
        }
    }
    mask = u->cache_cap - 1;
    for (i = h & mask; u->cache[i].ua != NULL; i = (i + 1) & mask)
        if (u->cache[i].hash == h && u->cache[i].len == len &&
            (len < 16 ? memcmp(u->cache[i].ua, ua, len) == 0
                      : word_at(u->cache[i].ua + len - 8) ==
                                word_at(ua + len - 8) &&
                            word_at(u->cache[i].ua) == word_at(ua)))
            /* same 64-bit hash, length, head and tail: the same agent */
            return u->cache[i].combo;
    ua_load(u);
    if (!classify(u, ua, len, &info))
        return UINT32_MAX;
    id = combo_id(u, &info);
    if (id == UINT32_MAX || (copy = malloc(len + 1)) == NULL)
        return UINT32_MAX;
    memcpy(copy, ua, len);
    copy[len] = '\0';
    u->cache[i].hash = h;
    u->cache[i].ua = copy;
    u->cache[i].len = len;
    u->cache[i].combo = id;
    u->cache_n++;
    return id;
}

const ret__ua_info *
ret__ua_info_of(const ret__ua *u, uint32_t id)
{
    return id < u->ncombos ? &u->combos[id] : NULL;
}
