/*
 * lock.c - one run at a time: flock(2) on STATE/lock.
 *
 * The lock file holds the process id of the run that holds it, for the
 * message a second run prints. The lock goes with the descriptor: a run
 * killed with -9 releases it.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct ret_lock {
    int fd;
};

ret_status
ret_lock_state(const char *dir, unsigned flags, ret_lock **out, ret_error *err)
{
    char path[4096], buf[32];
    ret_lock *l = NULL;
    ret_status st = RET_OK;
    struct stat sb;
    ssize_t n;
    int fd = -1, len;

    if (dir == NULL || dir[0] == '\0')
        return ret__fail(err, RET_E_INVAL, "no state directory");
    len = snprintf(path, sizeof(path), "%s/lock", dir);
    if (len < 0 || (size_t)len >= sizeof(path))
        return ret__fail(err, RET_E_INVAL, "%s: name too long", dir);
    if ((st = ret__safe_mkdir(dir, err)) != RET_OK)
        return st;
    fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0) {
        st = ret__fail_errno(err, errno == ELOOP ? RET_E_UNSAFE : RET_E_IO,
                             errno, "%s: open", path);
        goto out;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = ret__fail(err, RET_E_UNSAFE, "%s: refused: not a regular file",
                       path);
        goto out;
    }
    if (flock(fd, LOCK_EX | ((flags & RET_LOCK_WAIT) ? 0 : LOCK_NB)) != 0) {
        if (errno == EWOULDBLOCK) {
            long pid = 0;

            n = pread(fd, buf, sizeof(buf) - 1, 0);
            if (n > 0) {
                buf[n] = '\0';
                pid = strtol(buf, NULL, 10);
            }
            if (pid > 0)
                st = ret__fail(err, RET_E_BUSY,
                               "%s: another run (process %ld) holds the "
                               "lock; use --wait to queue",
                               path, pid);
            else
                st = ret__fail(err, RET_E_BUSY,
                               "%s: another run holds the lock; use --wait "
                               "to queue",
                               path);
        } else {
            st = ret__fail_errno(err, RET_E_IO, errno, "%s: flock", path);
        }
        goto out;
    }
    len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)len, 0) != len) {
        st = ret__fail_errno(err, RET_E_IO, errno, "%s: write", path);
        goto out;
    }
    if ((l = malloc(sizeof(*l))) == NULL) {
        st = ret__fail(err, RET_E_NOMEM, "out of memory");
        goto out;
    }
    l->fd = fd;
    fd = -1;
    *out = l;
out:
    if (fd >= 0)
        close(fd);
    return st;
}

void
ret_lock_release(ret_lock *l)
{
    if (l == NULL)
        return;
    close(l->fd);
    free(l);
}
