/*
 * fuzz-anonymize.c - the whole anonymize path: the line through the
 * format parser (auto) and the anonymizer, plain and with --scan-all,
 * and the anonip column mode. The first byte picks the mode. Checks that
 * with --scan-all no address-looking token of the output is unmasked:
 * masking it again changes nothing.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ret_anonymizer *a = NULL, *b = NULL;
    ret_format *f = NULL;
    ret_parser *p = NULL;
    const ret_record *rec = NULL;
    const char *line, *out, *out2;
    size_t len, outlen, outlen2;
    unsigned mode, cols[2] = {1, 3};
    char *copy = NULL;

    if (size < 1)
        return 0;
    mode = data[0];
    line = (const char *)data + 1;
    len = size - 1;
    if (ret_anonymizer_new(&a, NULL) != RET_OK ||
        ret_anonymizer_new(&b, NULL) != RET_OK)
        goto out;
    ret_anonymizer_set_prefix(a, (int)(mode % 33), (int)(mode * 7 % 129), NULL);
    ret_anonymizer_set_method(a, (ret_anon_method)(mode / 33 % 3), NULL);
    ret_anonymizer_set_scan_all(a, mode & 1);
    ret_anonymizer_set_prefix(b, (int)(mode % 33), (int)(mode * 7 % 129), NULL);
    ret_anonymizer_set_method(b, (ret_anon_method)(mode / 33 % 3), NULL);
    ret_anonymizer_set_scan_all(b, 1);
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
    if ((mode & 1) && (mode & 6) != 6 && (mode / 33 % 3) != RET_ANON_HASH) {
        /* Idempotent: the output holds only masked addresses. */
        if ((copy = malloc(outlen + 1)) == NULL)
            goto out;
        memcpy(copy, out, outlen);
        if (ret_anonymizer_line(b, NULL, copy, outlen, &out2, &outlen2,
                                NULL) != RET_OK)
            goto out;
        if (outlen2 != outlen || memcmp(out2, copy, outlen) != 0)
            abort();
    }
out:
    free(copy);
    ret_parser_free(p);
    ret_format_free(f);
    ret_anonymizer_free(a);
    ret_anonymizer_free(b);
    return 0;
}
