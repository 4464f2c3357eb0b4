/*
 * fuzz-anonymize.c - the whole anonymize path: the line through the
 * format parser (auto) and the anonymizer, plain and with --scan-all,
 * and the anonip column mode. The first byte picks the mode. Checks that
 * with --scan-all and truncation every address-looking token of the
 * output is a masked address: masking its value changes nothing.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ret_anonymizer *a = NULL;
    ret_format *f = NULL;
    ret_parser *p = NULL;
    const ret_record *rec = NULL;
    const char *line, *out;
    size_t len, outlen;
    unsigned mode, cols[2] = {1, 3};

    if (size < 1)
        return 0;
    mode = data[0];
    line = (const char *)data + 1;
    len = size - 1;
    if (ret_anonymizer_new(&a, NULL) != RET_OK)
        goto out;
    ret_anonymizer_set_prefix(a, (int)(mode % 33), (int)(mode * 7 % 129), NULL);
    ret_anonymizer_set_method(a, (ret_anon_method)(mode / 33 % 3), NULL);
    ret_anonymizer_set_scan_all(a, mode & 1);
    if ((mode & 6) == 6) {
        ret_anonymizer_set_columns(a, cols, 2, mode & 8 ? "\t" : " ", NULL);
        ret_anonymizer_set_replace(a, mode & 16 ? "0.0.0.0" : NULL, NULL);
        ret_anonymizer_set_skip_private(a, mode & 32);
    } else if (ret_format_compile("auto", &f, NULL) == RET_OK &&
               ret_parser_new(f, &p, NULL) == RET_OK) {
        if (ret_parser_parse(p, line, len, &rec, NULL) != RET_OK)
            rec = NULL;
    }
    if (ret_anonymizer_line(a, rec, line, len, &out, &outlen, NULL) != RET_OK)
        goto out;
    if ((mode & 1) && (mode & 6) != 6 && (mode / 33 % 3) == RET_ANON_TRUNCATE) {
        /* Every address the scanner finds in the output is already
         * masked (compared as values: the text may be normalized). */
        size_t pos = 0;
        ret_ip ip, m;
        ret__iptok tok;

        while (ret__ip_scan(out, outlen, &pos, &ip, &tok)) {
            m = ip;
            ret_ip_mask(&m, (int)(mode % 33), (int)(mode * 7 % 129));
            if (memcmp(&m, &ip, sizeof(ip)) != 0)
                abort();
        }
    }
out:
    ret_parser_free(p);
    ret_format_free(f);
    ret_anonymizer_free(a);
    return 0;
}
