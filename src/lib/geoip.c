/*
 * geoip.c - country and network of a client address from a MaxMind DB
 * (libmaxminddb). The address is looked up in memory and discarded;
 * only the country code and the network's AS number and organisation
 * reach the statistics.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct ret__geoip {
    MMDB_s mmdb;
};

ret_status
ret__geoip_open(const char *path, ret__geoip **out, ret_error *err)
{
    ret__geoip *g = calloc(1, sizeof(*g));
    int rc;

    if (g == NULL)
        return ret__fail(err, RET_E_NOMEM, "out of memory");
    rc = MMDB_open(path, MMDB_MODE_MMAP, &g->mmdb);
    if (rc != MMDB_SUCCESS) {
        free(g);
        return ret__fail(err,
                         rc == MMDB_FILE_OPEN_ERROR ? RET_E_NOTFOUND
                                                    : RET_E_CORRUPT,
                         "%s: %s", path, MMDB_strerror(rc));
    }
    *out = g;
    return RET_OK;
}

void
ret__geoip_close(ret__geoip *g)
{
    if (g == NULL)
        return;
    MMDB_close(&g->mmdb);
    free(g);
}

static bool
get_string(MMDB_entry_s *e, char *buf, size_t size, const char *const *path)
{
    MMDB_entry_data_s d;

    if (MMDB_aget_value(e, &d, path) != MMDB_SUCCESS || !d.has_data ||
        d.type != MMDB_DATA_TYPE_UTF8_STRING)
        return false;
    snprintf(buf, size, "%.*s", (int)d.data_size, d.utf8_string);
    return true;
}

void
ret__geoip_lookup(ret__geoip *g, const ret_ip *ip, char country[8],
                  char *asn, size_t asnsize)
{
    static const char *const p_country[] = {"country", "iso_code", NULL};
    static const char *const p_reg[] = {"registered_country", "iso_code",
                                        NULL};
    static const char *const p_org[] = {"autonomous_system_organization",
                                        NULL};
    static const char *const p_num[] = {"autonomous_system_number", NULL};
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0,    0,
                                             0, 0, 0, 0, 0xff, 0xff};
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    const struct sockaddr *sa;
    MMDB_lookup_result_s res;
    MMDB_entry_data_s d;
    char org[96] = "";
    int gai, mmerr;

    country[0] = '\0';
    if (asnsize > 0)
        asn[0] = '\0';
    if (ip->family == 4 ||
        (ip->family == 6 && memcmp(ip->bytes, mapped, 12) == 0)) {
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        memcpy(&sin.sin_addr, ip->family == 4 ? ip->bytes : ip->bytes + 12, 4);
        sa = (const struct sockaddr *)&sin;
    } else {
        memset(&sin6, 0, sizeof(sin6));
        sin6.sin6_family = AF_INET6;
        memcpy(&sin6.sin6_addr, ip->bytes, 16);
        sa = (const struct sockaddr *)&sin6;
    }
    res = MMDB_lookup_sockaddr(&g->mmdb, sa, &mmerr);
    memset(&sin, 0, sizeof(sin));
    memset(&sin6, 0, sizeof(sin6));
    gai = 0;
    if (mmerr != MMDB_SUCCESS || gai != 0 || !res.found_entry)
        return;
    if (!get_string(&res.entry, country, 8, p_country))
        (void)get_string(&res.entry, country, 8, p_reg);
    if (asnsize > 0 &&
        MMDB_aget_value(&res.entry, &d, p_num) == MMDB_SUCCESS &&
        d.has_data && d.type == MMDB_DATA_TYPE_UINT32) {
        (void)get_string(&res.entry, org, sizeof(org), p_org);
        snprintf(asn, asnsize, "AS%u%s%s", (unsigned)d.uint32,
                 org[0] ? " " : "", org);
    }
}
