/* fuzz-format.c - the format compiler: any spec either compiles or fails
 * with a message; a compiled format parses sample lines without harm. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const lines[] = {
    ("83.149.9.216 - - [17/May/2015:10:05:03 +0000] \"GET /a?b HTTP/1.1\" "
     "200 203023 \"http://x/\" \"Mozilla/5.0\""),
    "2018-01-01 08:09:10 127.0.0.1 GET / q=100 80 - 81.2.69.143 UA - 200 0 0 1",
    "{\"remote_addr\":\"1.2.3.4\",\"status\":200}",
    "\"unclosed [ ] { } $ % \\\" \\\\",
    "",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *spec = malloc(size + 1);
    ret_format *f = NULL;
    ret_parser *p = NULL;
    ret_error err;
    size_t i;

    if (spec == NULL)
        return 0;
    memcpy(spec, data, size);
    spec[size] = '\0';
    if (ret_format_compile(spec, &f, &err) == RET_OK) {
        (void)ret_format_name(f);
        if (ret_parser_new(f, &p, &err) == RET_OK) {
            for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
                const ret_record *r;

                if (ret_parser_parse(p, lines[i], strlen(lines[i]), &r,
                                     &err) == RET_OK)
                    (void)ret_record_address_count(r);
            }
            (void)ret_parser_format_name(p);
        }
    } else if (err.message[0] == '\0') {
        abort(); /* a failure always says why */
    }
    ret_parser_free(p);
    ret_format_free(f);
    free(spec);
    return 0;
}
