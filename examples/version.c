/*
 * version.c - the smallest program using libretention: prints the
 * version it was compiled against and the one it runs with.
 *
 *   cc version.c $(pkg-config --cflags --libs retention)
 */
#include <stdio.h>

#include <retention.h>

int
main(void)
{
    printf("libretention %s (compiled against %s)\n", ret_version(),
           RET_VERSION_STRING);
    if (ret_version_number() / 100 != RET_VERSION_NUMBER / 100) {
        fprintf(stderr, "version: header and library differ\n");
        return 1;
    }
    printf("%s\n", ret_strerror(RET_E_POLICY));
    return 0;
}
