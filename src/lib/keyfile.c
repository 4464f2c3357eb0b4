/*
 * keyfile.c - the secret of the hash method, rotated per period.
 *
 * The file holds the key and the start of the period it belongs to:
 *
 *     # retention anonymization key: secret, never copy it
 *     period week
 *     start 2026-11-30T00:00:00Z
 *     key 000102030405060708090a0b0c0d0e0f
 *
 * It is created with mode 0600 from getrandom(). When the period has
 * changed, a new key is written to a temporary file, the old file's
 * bytes are overwritten with zeros and synced, and the new file is
 * renamed over it: the old key is gone, so hashes of past periods can no
 * longer be recomputed. A file readable or writable by group or others,
 * a symbolic link, or a file of another user is refused (RET_E_KEY).
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_FILE_MAX 4096

static const char *const period_names[] = {"day", "week", "month"};

const char *
ret_key_period_name(ret_key_period period)
{
    if ((unsigned)period > RET_KEY_MONTH)
        return NULL;
    return period_names[period];
}

static int64_t
floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

int64_t
ret_key_period_start(ret_key_period period, int64_t now)
{
    int64_t d = floor_div(now, 86400), y;
    unsigned m, day;

    switch (period) {
    case RET_KEY_WEEK:
        /* 1970-01-01 was a Thursday; weeks start on Monday (ISO 8601). */
        return (d - (((d + 3) % 7) + 7) % 7) * 86400;
    case RET_KEY_MONTH:
        ret__civil_from_days(d, &y, &m, &day);
        return ret__days_from_civil(y, m, 1) * 86400;
    default:
        return d * 86400;
    }
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parses the file text; false when it is not a key file. */
static bool
parse_key_file(const char *text, size_t len, ret_key_period *period,
               int64_t *start, unsigned char key[16], bool *zeroed)
{
    const char *p = text, *end = text + len;
    bool have_period = false, have_start = false, have_key = false;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t n = (size_t)(le - p);

        if (n >= 7 && memcmp(p, "period ", 7) == 0) {
            unsigned i;

            for (i = 0; i <= RET_KEY_MONTH; i++)
                if (n - 7 == strlen(period_names[i]) &&
                    memcmp(p + 7, period_names[i], n - 7) == 0) {
                    *period = (ret_key_period)i;
                    have_period = true;
                }
        } else if (n >= 6 && memcmp(p, "start ", 6) == 0) {
            if (ret_time_parse(p + 6, n - 6, start, NULL, NULL) == RET_OK)
                have_start = true;
        } else if (n == 4 + 32 && memcmp(p, "key ", 4) == 0) {
            unsigned i, any = 0;

            have_key = true;
            for (i = 0; i < 16; i++) {
                int hi = hexval(p[4 + 2 * i]), lo = hexval(p[5 + 2 * i]);

                if (hi < 0 || lo < 0)
                    have_key = false;
                key[i] = (unsigned char)(hi << 4 | lo);
                any |= key[i];
            }
            *zeroed = any == 0;
        } else if (n > 0 && p[0] == '\0') {
            *zeroed = true; /* overwritten by an interrupted rotation */
        }
        p = nl ? nl + 1 : end;
    }
    return have_period && have_start && have_key;
}

static ret_status
write_all(int fd, const char *buf, size_t len, const char *path,
          ret_error *err)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            return ret__fail_errno(err, RET_E_IO, errno, "write %s", path);
        }
        buf += w;
        len -= (size_t)w;
    }
    return RET_OK;
}

static void
sync_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    size_t n;
    int fd;

    if (slash == NULL) {
        dir[0] = '.';
        n = 1;
    } else {
        n = slash == path ? 1 : (size_t)(slash - path);
        if (n >= sizeof(dir))
            return;
        memcpy(dir, path, n);
    }
    dir[n] = '\0';
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* Overwrites the old key file's bytes with zeros before it is replaced. */
static void
shred_file(const char *path, off_t size)
{
    char zeros[512];
    int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0)
        return;
    memset(zeros, 0, sizeof(zeros));
    while (size > 0) {
        size_t n = size > (off_t)sizeof(zeros) ? sizeof(zeros) : (size_t)size;
        ssize_t w = write(fd, zeros, n);

        if (w <= 0)
            break;
        size -= w;
    }
    (void)fsync(fd);
    close(fd);
}

/* Writes a new key for the period to a temporary file beside path and
 * moves it into place: replacing (rotation) or only when path does not
 * exist yet (creation; *raced is set when another process won). */
static ret_status
write_new_key(const char *path, ret_key_period period, int64_t start,
              bool replace, off_t old_size, unsigned char key[16],
              bool *raced, ret_error *err)
{
    char tmp[4096], text[256], when[21];
    unsigned char k[16];
    int fd = -1, n, i;
    size_t tl;
    ret_status st;

    *raced = false;
    if ((st = ret__random_bytes(k, sizeof(k), err)) != RET_OK)
        return st;
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path) >=
        sizeof(tmp))
        return ret__fail(err, RET_E_INVAL, "%s: path too long", path);
    ret_time_format(start, when);
    n = snprintf(text, sizeof(text),
                 "# retention anonymization key: secret, never copy it\n"
                 "period %s\nstart %s\nkey ",
                 period_names[period], when);
    tl = (size_t)n;
    for (i = 0; i < 16; i++) {
        static const char hex[] = "0123456789abcdef";

        text[tl++] = hex[k[i] >> 4];
        text[tl++] = hex[k[i] & 15];
    }
    text[tl++] = '\n';
    /* mkstemp creates the file with mode 0600. */
    if ((fd = mkstemp(tmp)) < 0) {
        st = ret__fail_errno(err, RET_E_KEY, errno, "create %s", tmp);
        goto out;
    }
    if ((st = write_all(fd, text, tl, tmp, err)) != RET_OK)
        goto out;
    if (fsync(fd) != 0) {
        st = ret__fail_errno(err, RET_E_IO, errno, "fsync %s", tmp);
        goto out;
    }
    close(fd);
    fd = -1;
    if (replace) {
        shred_file(path, old_size);
        if (rename(tmp, path) != 0) {
            st = ret__fail_errno(err, RET_E_KEY, errno, "rename %s", tmp);
            goto out;
        }
    } else {
        if (link(tmp, path) != 0) {
            if (errno == EEXIST) {
                *raced = true;
                st = RET_OK;
            } else {
                st = ret__fail_errno(err, RET_E_KEY, errno, "create %s",
                                     path);
            }
            goto out;
        }
        (void)unlink(tmp);
    }
    tmp[0] = '\0';
    sync_dir(path);
    memcpy(key, k, 16);
    st = RET_OK;
out:
    if (fd >= 0)
        close(fd);
    if (tmp[0] != '\0')
        (void)unlink(tmp);
    memset(k, 0, sizeof(k));
    memset(text, 0, sizeof(text));
    return st;
}

ret_status
ret_key_load(const char *path, ret_key_period period, int64_t now,
             unsigned char key[16], ret_error *err)
{
    char text[KEY_FILE_MAX];
    unsigned char k[16];
    int64_t start, fstart = 0;
    ret_key_period fperiod = RET_KEY_DAY;
    struct stat st;
    ssize_t r;
    size_t len = 0;
    int fd = -1, attempt;
    bool zeroed = false, raced;
    ret_status s = RET_OK;

    if (path == NULL || key == NULL || (unsigned)period > RET_KEY_MONTH)
        return ret__fail(err, RET_E_INVAL, "ret_key_load: invalid argument");
    start = ret_key_period_start(period, now);
    for (attempt = 0; attempt < 3; attempt++) {
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
            s = write_new_key(path, period, start, false, 0, k, &raced, err);
            if (s != RET_OK)
                goto out;
            if (raced)
                continue; /* someone else created it: read theirs */
            memcpy(key, k, 16);
            goto out;
        }
        break;
    }
    if (fd < 0) {
        s = ret__fail_errno(err, RET_E_KEY, errno, "%s", path);
        goto out;
    }
    if (fstat(fd, &st) != 0) {
        s = ret__fail_errno(err, RET_E_KEY, errno, "stat %s", path);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        s = ret__fail(err, RET_E_KEY, "%s: the key file is not a regular file",
                      path);
        goto out;
    }
    if ((st.st_mode & 077) != 0) {
        s = ret__fail(err, RET_E_KEY,
                      "%s: the key file is accessible by group or others "
                      "(mode %04o): chmod 600 it",
                      path, (unsigned)(st.st_mode & 07777));
        goto out;
    }
    if (st.st_uid != geteuid() && geteuid() != 0) {
        s = ret__fail(err, RET_E_KEY, "%s: the key file belongs to another "
                                      "user", path);
        goto out;
    }
    while (len < sizeof(text)) {
        r = read(fd, text + len, sizeof(text) - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            s = ret__fail_errno(err, RET_E_KEY, errno, "read %s", path);
            goto out;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    fd = -1;
    if (!parse_key_file(text, len, &fperiod, &fstart, k, &zeroed) &&
        !zeroed) {
        s = ret__fail(err, RET_E_KEY, "%s: not a retention key file", path);
        goto out;
    }
    if (zeroed || fperiod != period || fstart != start) {
        /* A new period (or an interrupted rotation): a new key. */
        s = write_new_key(path, period, start, true, st.st_size, k, &raced,
                          err);
        if (s != RET_OK)
            goto out;
    }
    memcpy(key, k, 16);
out:
    if (fd >= 0)
        close(fd);
    memset(k, 0, sizeof(k));
    memset(text, 0, sizeof(text));
    return s;
}
