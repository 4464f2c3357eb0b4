/*
 * db-util.h - helpers of the SQLite tests (store-t, table-t): a number
 * read from a database, and whether a file's raw bytes hold a text (to
 * check that deleted values are gone from a database and its WAL).
 */
#ifndef RET_TEST_DB_UTIL_H
#define RET_TEST_DB_UTIL_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The first column of the first row of text in db, or -1. */
static int64_t
db_num(const char *db, const char *text)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    int64_t v = -1;

    sqlite3_open(db, &h);
    sqlite3_busy_timeout(h, 5000);
    if (sqlite3_prepare_v2(h, text, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    else
        printf("# query failed: %s: %s\n", text, sqlite3_errmsg(h));
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

/* Does the file at path hold needle anywhere in its bytes? */
static int
file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    size_t n = strlen(needle), len = 0, cap = 0, i;
    char *buf = NULL;
    int found = 0;

    if (f == NULL)
        return 0;
    for (;;) {
        size_t r;

        if (len + 65536 > cap) {
            cap = (cap + 65536) * 2;
            buf = realloc(buf, cap);
        }
        if ((r = fread(buf + len, 1, 65536, f)) == 0)
            break;
        len += r;
    }
    fclose(f);
    for (i = 0; i + n <= len && !found; i++)
        found = memcmp(buf + i, needle, n) == 0;
    free(buf);
    return found;
}

#endif
