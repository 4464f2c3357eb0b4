/*
 * safefile.c - opening log files without following links.
 *
 * A path is walked one component at a time with openat(O_NOFOLLOW), so
 * that no symbolic link anywhere in it is followed; the file itself must
 * be a regular file with a single link. Run as root, the directory that
 * holds the file must not be writable by group (unless the group is
 * root) or others, as logrotate does it: whoever can write there could
 * make us delete or rewrite any file on the system.
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

ret_status
ret__safe_open_dir(const char *path, int *dirfd, const char **base,
                   ret_error *err)
{
    const char *p = path, *slash, *last;
    char comp[256];
    ret_status st = RET_OK;
    int fd, next;
    size_t n;

    if (path == NULL || path[0] == '\0')
        return ret__fail(err, RET_E_INVAL, "empty file name");
    last = strrchr(path, '/');
    last = last == NULL ? path : last + 1;
    if (last[0] == '\0' || strcmp(last, ".") == 0 || strcmp(last, "..") == 0)
        return ret__fail(err, RET_E_INVAL, "%s: not a file name", path);

    fd = open(path[0] == '/' ? "/" : ".", DIR_FLAGS);
    if (fd < 0)
        return ret__fail_errno(err, RET_E_IO, errno, "%s: open", path);
    while (p < last) {
        while (*p == '/')
            p++;
        if (p >= last)
            break;
        slash = strchr(p, '/');
        n = (size_t)(slash - p);
        if (n >= sizeof(comp)) {
            st = ret__fail(err, RET_E_INVAL, "%s: name too long", path);
            goto out;
        }
        memcpy(comp, p, n);
        comp[n] = '\0';
        p = slash + 1;
        if (strcmp(comp, ".") == 0)
            continue;
        next = openat(fd, comp, DIR_FLAGS);
        if (next < 0) {
            int e = errno;
            struct stat lst;

            if ((e == ELOOP || e == ENOTDIR) &&
                fstatat(fd, comp, &lst, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISLNK(lst.st_mode))
                st = ret__fail(err, RET_E_UNSAFE,
                               "%s: refused: '%s' is a symbolic link", path,
                               comp);
            else if (e == ENOENT)
                st = ret__fail(err, RET_E_NOTFOUND,
                               "%s: no such directory '%s'", path, comp);
            else
                st =
                    ret__fail_errno(err, e == ENOTDIR ? RET_E_UNSAFE : RET_E_IO,
                                    e, "%s: open '%s'", path, comp);
            goto out;
        }
        close(fd);
        fd = next;
    }
    *dirfd = fd;
    *base = last;
    fd = -1;
out:
    if (fd >= 0)
        close(fd);
    return st;
}

ret_status
ret__safe_check_dir(int dirfd, const char *path, ret_error *err)
{
    struct stat st;

    if (fstat(dirfd, &st) != 0)
        return ret__fail_errno(err, RET_E_IO, errno, "%s: stat directory",
                               path);
    if (geteuid() != 0)
        return RET_OK;
    if ((st.st_mode & S_IWOTH) != 0 ||
        ((st.st_mode & S_IWGRP) != 0 && st.st_gid != 0))
        return ret__fail(err, RET_E_UNSAFE,
                         "%s: refused: its directory is writable by %s "
                         "(mode %04o) and we run as root",
                         path, (st.st_mode & S_IWOTH) ? "others" : "group",
                         (unsigned)(st.st_mode & 07777));
    return RET_OK;
}

static const char *
kind_name(mode_t m)
{
    if (S_ISLNK(m))
        return "a symbolic link";
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISSOCK(m))
        return "a socket";
    if (S_ISCHR(m) || S_ISBLK(m))
        return "a device";
    return "not a regular file";
}

ret_status
ret__safe_open_file(int dirfd, const char *base, const char *path, int *out,
                    struct stat *st, ret_error *err)
{
    struct stat lst, fst;
    ret_status s = RET_OK;
    int fd = -1, fl;

    if (fstatat(dirfd, base, &lst, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT)
            return ret__fail(err, RET_E_NOTFOUND, "%s: no such file", path);
        return ret__fail_errno(err, RET_E_IO, errno, "%s: stat", path);
    }
    if (!S_ISREG(lst.st_mode))
        return ret__fail(err, RET_E_UNSAFE, "%s: refused: %s", path,
                         kind_name(lst.st_mode));
    /* O_NONBLOCK: a FIFO swapped in after the check must not block us. */
    fd = openat(dirfd, base,
                O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ELOOP)
            return ret__fail(err, RET_E_UNSAFE, "%s: refused: a symbolic link",
                             path);
        return ret__fail_errno(err, RET_E_IO, errno, "%s: open", path);
    }
    if (fstat(fd, &fst) != 0) {
        s = ret__fail_errno(err, RET_E_IO, errno, "%s: stat", path);
        goto out;
    }
    if (!S_ISREG(fst.st_mode) || fst.st_ino != lst.st_ino ||
        fst.st_dev != lst.st_dev) {
        s = ret__fail(err, RET_E_UNSAFE, "%s: refused: replaced while opened",
                      path);
        goto out;
    }
    if (fst.st_nlink > 1) {
        s = ret__fail(err, RET_E_UNSAFE, "%s: refused: it has %lu hard links",
                      path, (unsigned long)fst.st_nlink);
        goto out;
    }
    fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
        s = ret__fail_errno(err, RET_E_IO, errno, "%s: fcntl", path);
        goto out;
    }
    *st = fst;
    *out = fd;
    fd = -1;
out:
    if (fd >= 0)
        close(fd);
    return s;
}

ret_status
ret__safe_tempfile(int dirfd, const char *base, const char *path, char *name,
                   size_t size, int *out, ret_error *err)
{
    struct timespec ts;
    unsigned long r;
    int fd, i, n;

    clock_gettime(CLOCK_REALTIME, &ts);
    r = (unsigned long)ts.tv_nsec ^ ((unsigned long)getpid() << 16) ^
        (unsigned long)(uintptr_t)name;
    for (i = 0; i < 100; i++) {
        r = r * 6364136223846793005UL + 1442695040888963407UL;
        n = snprintf(name, size, ".%s.retention-%06lx", base,
                     (r >> 20) & 0xffffff);
        if (n < 0 || (size_t)n >= size)
            return ret__fail(err, RET_E_INVAL, "%s: name too long", path);
        fd = openat(dirfd, name,
                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) {
            /* Held while we write: ret__safe_clean_temps() leaves a
             * locked temporary file alone. */
            (void)flock(fd, LOCK_EX | LOCK_NB);
            *out = fd;
            return RET_OK;
        }
        if (errno != EEXIST)
            return ret__fail_errno(err, RET_E_IO, errno,
                                   "%s: create temporary file", path);
    }
    return ret__fail(err, RET_E_IO, "%s: no temporary file name free", path);
}

/* Is name ".BASE.retention-XXXXXX"? */
static bool
is_temp_of(const char *name, const char *base)
{
    static const char mid[] = ".retention-";
    size_t bl = strlen(base), i;

    if (name[0] != '.' || strncmp(name + 1, base, bl) != 0 ||
        strncmp(name + 1 + bl, mid, sizeof(mid) - 1) != 0)
        return false;
    name += 1 + bl + sizeof(mid) - 1;
    for (i = 0; i < 6; i++)
        if (!((name[i] >= '0' && name[i] <= '9') ||
              (name[i] >= 'a' && name[i] <= 'f')))
            return false;
    return name[6] == '\0';
}

void
ret__safe_clean_temps(int dirfd, const char *base)
{
    struct dirent *de;
    struct stat st;
    DIR *d;
    int fd;

    if ((fd = dup(dirfd)) < 0)
        return;
    if ((d = fdopendir(fd)) == NULL) {
        close(fd);
        return;
    }
    rewinddir(d);
    while ((de = readdir(d)) != NULL) {
        int tfd;

        if (!is_temp_of(de->d_name, base))
            continue;
        tfd = openat(dirfd, de->d_name,
                     O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (tfd < 0)
            continue;
        /* A temporary file of a killed run: regular, ours, unlocked. */
        if (fstat(tfd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1 &&
            st.st_uid == geteuid() && flock(tfd, LOCK_EX | LOCK_NB) == 0)
            unlinkat(dirfd, de->d_name, 0);
        close(tfd);
    }
    closedir(d);
}

ret_status
ret__safe_mkdir(const char *path, ret_error *err)
{
    struct stat st;

    if (mkdir(path, 0750) == 0 || errno == EEXIST) {
        if (lstat(path, &st) != 0)
            return ret__fail_errno(err, RET_E_IO, errno, "%s: stat", path);
        if (!S_ISDIR(st.st_mode))
            return ret__fail(err, RET_E_UNSAFE, "%s: refused: not a directory",
                             path);
        return RET_OK;
    }
    return ret__fail_errno(err, RET_E_IO, errno, "%s: mkdir", path);
}
