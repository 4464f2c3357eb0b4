/* fuzz-ip.c - address parsing, scanning and formatting. Checks, besides
 * memory safety, that what parses formats back to text that parses to the
 * same address, that an exact address reads the same as a token, and that
 * a scan stays inside its input. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    ret_ip ip, again;
    ret__iptok tok;
    char buf[64];
    size_t n, pos = 0;
    bool dotted;

    if (ret_ip_parse(p, size, &ip, NULL) == RET_OK) {
        n = ret_ip_format(&ip, buf, sizeof(buf));
        if (n >= 46 || ret_ip_parse(buf, n, &again, NULL) != RET_OK ||
            memcmp(&ip, &again, sizeof(ip)) != 0)
            abort();
        ret_ip_mask(&ip, 24, 48);
        (void)ret_ip_is_private(&ip);
    }
    /* a bare address reads the same as a token, whole */
    if (ret__ip_parse_exact(p, size, &ip, &dotted) &&
        (!ret__ip_parse_token(p, size, &again, &tok) ||
         memcmp(&ip, &again, sizeof(ip)) != 0 || tok.off != 0 ||
         tok.len != size || tok.dotted != dotted))
        abort();
    while (ret__ip_scan(p, size, &pos, &ip, &tok)) {
        if (tok.off + tok.len > size || pos != tok.off + tok.len)
            abort();
        n = ret__ip_format(&ip, tok.dotted, buf);
        if (n >= 46 || !ret__ip_parse_exact(buf, n, &again, NULL))
            abort();
    }
    return 0;
}
