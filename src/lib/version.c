/* version.c - the library's version at run time. */
#include "internal.h"

const char *
ret_version(void)
{
    return RET_VERSION_STRING;
}

unsigned
ret_version_number(void)
{
    return RET_VERSION_NUMBER;
}
