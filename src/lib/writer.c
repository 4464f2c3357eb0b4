/*
 * writer.c - buffered plain and gzip output, appends, and atomic replace.
 *
 * Plain output is collected in a 256 KiB buffer and written in large
 * blocks. Gzip output is collected in 1 MiB input blocks; once the first
 * block is full, a worker thread of this writer compresses each block
 * while the caller fills the next, so that reading, rewriting and
 * compressing a log overlap on two cores the way `zcat | ... | gzip`
 * does. With RET_WRITE_LINEBUF every write is compressed (Z_SYNC_FLUSH)
 * and written at once, without a thread.
 *
 * RET_WRITE_ATOMIC writes to a temporary file ".NAME.retention-XXXXXX"
 * beside the target (a leading dot keeps it out of globs such as
 * access.log*), created with O_EXCL and flock()ed while it is written;
 * commit fsyncs it, renames it over the target and fsyncs the directory.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_GETRANDOM
#include <sys/random.h>
#endif

#define ZLIB_CONST
#include <zlib.h>

#define OUT_BUFSIZE (256 * 1024)
#define GZ_BLOCK (1024 * 1024)
#define GZ_LEVEL 6

#define WRITE_FLAGS                                                            \
    (RET_WRITE_GZIP | RET_WRITE_ATOMIC | RET_WRITE_APPEND |                    \
     RET_WRITE_LINEBUF | RET_WRITE_KEEP_META | RET_WRITE_KEEP_MTIME)

struct ret_writer {
    char *path; /* the target, for messages and rename */
    char *tmp;  /* ATOMIC: the temporary file, until renamed */
    int fd;
    bool own_fd;
    unsigned flags;
    struct stat old; /* ATOMIC: the file being replaced */
    bool have_old;

    /* Output buffer: plain bytes, or compressed bytes (gzip). */
    unsigned char *out;
    size_t out_len, out_cap;

    /* gzip */
    bool zinit;
    z_stream zs;
    unsigned char *blk[2]; /* input blocks; the caller fills blk[cur] */
    size_t blk_len;
    int cur;

    /* gzip worker thread: compresses job while the caller fills the
     * other block. */
    bool thread_on;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    const unsigned char *job; /* non-NULL: submitted, not done */
    size_t job_len;
    int job_flush;
    bool quit;
    ret_status wstatus; /* the worker's first failure */
    ret_error werr;

    ret_status failed; /* sticky: a failed writer stays failed */
    ret_error ferr;
};

static ret_status
fail_sticky(ret_writer *w, ret_error *err, ret_status st,
            const ret_error *detail)
{
    w->failed = st;
    w->ferr = *detail;
    if (err != NULL)
        *err = *detail;
    return st;
}

/* Writes all of p[0, n) to the descriptor. */
static ret_status
write_all(ret_writer *w, const unsigned char *p, size_t n, ret_error *err)
{
    while (n > 0) {
        ssize_t k = write(w->fd, p, n);

        if (k < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                /* a non-blocking descriptor: wait until it takes more */
                struct pollfd pfd = {.fd = w->fd, .events = POLLOUT};

                if (poll(&pfd, 1, -1) >= 0 || errno == EINTR)
                    continue;
            }
            return ret__fail_errno(err, RET_E_IO, errno, "write %s", w->path);
        }
        p += k;
        n -= (size_t)k;
    }
    return RET_OK;
}

/* Compresses p[0, n) with the given zlib flush mode; compressed bytes
 * are written whenever the output buffer fills, and all of them with a
 * flush other than Z_NO_FLUSH. */
static ret_status
zcompress(ret_writer *w, const unsigned char *p, size_t n, int flush,
          ret_error *err)
{
    ret_status st;
    int zr;

    w->zs.next_in = p;
    w->zs.avail_in = (uInt)n;
    for (;;) {
        w->zs.next_out = w->out + w->out_len;
        w->zs.avail_out = (uInt)(w->out_cap - w->out_len);
        zr = deflate(&w->zs, flush);
        if (zr == Z_STREAM_ERROR)
            return ret__fail(err, RET_E_GZIP, "compress %s: %s", w->path,
                             w->zs.msg ? w->zs.msg : zError(zr));
        w->out_len = w->out_cap - w->zs.avail_out;
        if (w->out_len < w->out_cap)
            break; /* input consumed, flush done */
        if ((st = write_all(w, w->out, w->out_len, err)) != RET_OK)
            return st;
        w->out_len = 0;
    }
    if (flush != Z_NO_FLUSH && w->out_len > 0) {
        if ((st = write_all(w, w->out, w->out_len, err)) != RET_OK)
            return st;
        w->out_len = 0;
    }
    return RET_OK;
}

static void *
worker(void *arg)
{
    ret_writer *w = arg;

    pthread_mutex_lock(&w->mu);
    for (;;) {
        const unsigned char *p;
        size_t n;
        int flush;
        ret_status st = RET_OK;
        ret_error e;

        while (w->job == NULL && !w->quit)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->job == NULL)
            break;
        p = w->job;
        n = w->job_len;
        flush = w->job_flush;
        pthread_mutex_unlock(&w->mu);
        if (w->wstatus == RET_OK)
            st = zcompress(w, p, n, flush, &e);
        pthread_mutex_lock(&w->mu);
        if (st != RET_OK) {
            w->wstatus = st;
            w->werr = e;
        }
        w->job = NULL;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Waits until the worker is idle; returns its failure, if any. */
static ret_status
wait_idle(ret_writer *w, ret_error *err)
{
    ret_status st;

    pthread_mutex_lock(&w->mu);
    while (w->job != NULL)
        pthread_cond_wait(&w->cv, &w->mu);
    st = w->wstatus;
    if (st != RET_OK && err != NULL)
        *err = w->werr;
    pthread_mutex_unlock(&w->mu);
    return st;
}

static void
stop_worker(ret_writer *w)
{
    if (!w->thread_on)
        return;
    pthread_mutex_lock(&w->mu);
    w->quit = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    w->thread_on = false;
}

static void
start_worker(ret_writer *w)
{
    sigset_t all, saved;
    int rc;

    if (pthread_mutex_init(&w->mu, NULL) != 0)
        return;
    if (pthread_cond_init(&w->cv, NULL) != 0) {
        pthread_mutex_destroy(&w->mu);
        return;
    }
    /* The worker blocks every signal, so that the program's signals
     * reach (and interrupt) the thread that called us. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    rc = pthread_create(&w->thread, NULL, worker, w);
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    if (rc != 0) {
        /* no thread: compress in the caller's thread instead */
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        return;
    }
    w->thread_on = true;
}

/* Hands the block being filled to the compressor. */
static ret_status
submit(ret_writer *w, int flush, ret_error *err)
{
    ret_status st;

    if (!w->thread_on && flush == Z_NO_FLUSH && !(w->flags & RET_WRITE_LINEBUF))
        start_worker(w);
    if (!w->thread_on) {
        st = zcompress(w, w->blk[w->cur], w->blk_len, flush, err);
        w->blk_len = 0;
        return st;
    }
    if ((st = wait_idle(w, err)) != RET_OK)
        return st;
    pthread_mutex_lock(&w->mu);
    w->job = w->blk[w->cur];
    w->job_len = w->blk_len;
    w->job_flush = flush;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    w->cur ^= 1;
    w->blk_len = 0;
    if (flush != Z_NO_FLUSH)
        return wait_idle(w, err);
    return RET_OK;
}

static ret_status
gz_write(ret_writer *w, const unsigned char *p, size_t n, ret_error *err)
{
    ret_status st;

    while (n > 0) {
        size_t k = GZ_BLOCK - w->blk_len;

        if (k > n)
            k = n;
        memcpy(w->blk[w->cur] + w->blk_len, p, k);
        w->blk_len += k;
        p += k;
        n -= k;
        if (w->blk_len == GZ_BLOCK &&
            (st = submit(w, Z_NO_FLUSH, err)) != RET_OK)
            return st;
    }
    if (w->flags & RET_WRITE_LINEBUF)
        return submit(w, Z_SYNC_FLUSH, err);
    return RET_OK;
}

static ret_status
plain_write(ret_writer *w, const unsigned char *p, size_t n, ret_error *err)
{
    ret_status st;
    /* a large piece (a block of lines) is written from where it is */
    bool direct = n >= w->out_cap / 4;

    if (direct || n > w->out_cap - w->out_len) {
        if (w->out_len > 0 &&
            (st = write_all(w, w->out, w->out_len, err)) != RET_OK)
            return st;
        w->out_len = 0;
        if (direct)
            return write_all(w, p, n, err);
    }
    memcpy(w->out + w->out_len, p, n);
    w->out_len += n;
    if (w->flags & RET_WRITE_LINEBUF) {
        st = write_all(w, w->out, w->out_len, err);
        w->out_len = 0;
        return st;
    }
    return RET_OK;
}

static ret_status
writer_new(const char *path, unsigned flags, ret_writer **out, ret_error *err)
{
    ret_writer *w = calloc(1, sizeof(*w));
    ret_status st = RET_E_NOMEM;

    if (w == NULL)
        return ret__fail(err, RET_E_NOMEM, "%s: out of memory", path);
    w->fd = -1;
    w->flags = flags;
    w->path = strdup(path);
    w->out_cap = OUT_BUFSIZE;
    w->out = malloc(w->out_cap);
    if (w->path == NULL || w->out == NULL)
        goto out;
    if (flags & RET_WRITE_GZIP) {
        w->blk[0] = malloc(GZ_BLOCK);
        w->blk[1] = malloc(GZ_BLOCK);
        if (w->blk[0] == NULL || w->blk[1] == NULL)
            goto out;
        if (deflateInit2(&w->zs, GZ_LEVEL, Z_DEFLATED, 15 + 16, 8,
                         Z_DEFAULT_STRATEGY) != Z_OK)
            goto out;
        w->zinit = true;
    }
    *out = w;
    w = NULL;
    st = RET_OK;
out:
    if (w != NULL) {
        ret_writer_free(w);
        ret__fail(err, st, "%s: out of memory", path);
    }
    return st;
}

/* dir/.base.retention-XXXXXX (6 hex digits) for path dir/base: the
 * name ret__safe_clean_temps() knows, so that a temporary file left by
 * a killed run is removed by the next prune. */
static char *
temp_name(const char *path, uint64_t salt)
{
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    size_t n = strlen(path) + sizeof(".") + sizeof(".retention-XXXXXX");
    char *t = malloc(n);

    if (t == NULL)
        return NULL;
    snprintf(t, n, "%.*s.%s.retention-%06x", (int)dirlen, path, path + dirlen,
             (unsigned)(salt & 0xffffff));
    return t;
}

static uint64_t
random_salt(unsigned attempt)
{
    uint64_t v = 0;
    struct timespec ts;

#ifdef HAVE_GETRANDOM
    if (getrandom(&v, sizeof(v), GRND_NONBLOCK) == (ssize_t)sizeof(v))
        return v;
#endif
    clock_gettime(CLOCK_REALTIME, &ts);
    v = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
        ((uint64_t)getpid() << 16) ^ ((uint64_t)attempt * 0x9e3779b97f4a7c15u) ^
        (uint64_t)(uintptr_t)&ts;
    v ^= v >> 33;
    v *= 0xff51afd7ed558ccdu;
    v ^= v >> 33;
    return v;
}

/* Creates the temporary file of an atomic writer. */
static ret_status
open_atomic(ret_writer *w, ret_error *err)
{
    unsigned attempt;
    mode_t mode;

    if (lstat(w->path, &w->old) == 0) {
        if (S_ISLNK(w->old.st_mode))
            return ret__fail(err, RET_E_UNSAFE,
                             "%s: refusing to replace a symbolic link",
                             w->path);
        if (!S_ISREG(w->old.st_mode))
            return ret__fail(err, RET_E_UNSAFE,
                             "%s: refusing to replace what is not a "
                             "regular file",
                             w->path);
        if (w->old.st_nlink > 1)
            return ret__fail(err, RET_E_UNSAFE,
                             "%s: refusing to replace a file with %lu hard "
                             "links (the other names would keep the old "
                             "data)",
                             w->path, (unsigned long)w->old.st_nlink);
        w->have_old = true;
    } else if (errno != ENOENT) {
        return ret__fail_errno(err, RET_E_IO, errno, "stat %s", w->path);
    }
    /* Without an old file to copy from: the usual 0644 less the umask,
     * applied by open(). With one: private until it has the old mode. */
    mode = (w->have_old && (w->flags & RET_WRITE_KEEP_META)) ? 0600 : 0644;
    for (attempt = 0;; attempt++) {
        w->tmp = temp_name(w->path, random_salt(attempt));
        if (w->tmp == NULL)
            return ret__fail(err, RET_E_NOMEM, "%s: out of memory", w->path);
        w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY,
                     mode);
        if (w->fd >= 0) {
            /* Locked while it is ours: ret__safe_clean_temps() removes
             * only unlocked temporary files (those of killed runs). */
            (void)flock(w->fd, LOCK_EX | LOCK_NB);
            break;
        }
        if (errno != EEXIST || attempt >= 100) {
            ret_status st = ret__fail_errno(
                err, errno == ENOENT ? RET_E_NOTFOUND : RET_E_IO, errno,
                "create %s", w->tmp);

            free(w->tmp);
            w->tmp = NULL;
            return st;
        }
        free(w->tmp);
        w->tmp = NULL;
    }
    w->own_fd = true;
    if (w->have_old && (w->flags & RET_WRITE_KEEP_META)) {
        struct stat now;

        if (fstat(w->fd, &now) != 0)
            return ret__fail_errno(err, RET_E_IO, errno, "stat %s", w->tmp);
        if ((now.st_uid != w->old.st_uid || now.st_gid != w->old.st_gid) &&
            fchown(w->fd, w->old.st_uid, w->old.st_gid) != 0)
            return ret__fail_errno(
                err, RET_E_IO, errno, "%s: cannot keep owner %lu:%lu", w->path,
                (unsigned long)w->old.st_uid, (unsigned long)w->old.st_gid);
        if (fchmod(w->fd, w->old.st_mode & 07777) != 0)
            return ret__fail_errno(err, RET_E_IO, errno,
                                   "%s: cannot keep mode %04o", w->path,
                                   (unsigned)(w->old.st_mode & 07777));
    }
    return RET_OK;
}

ret_status
ret_writer_open(const char *path, unsigned flags, ret_writer **out,
                ret_error *err)
{
    ret_writer *w = NULL;
    ret_status st;

    if (path == NULL || out == NULL || (flags & ~WRITE_FLAGS) != 0)
        return ret__fail(err, RET_E_INVAL, "ret_writer_open: invalid argument");
    if ((flags & RET_WRITE_ATOMIC) &&
        ((flags & RET_WRITE_APPEND) || strcmp(path, "-") == 0))
        return ret__fail(err, RET_E_INVAL,
                         "%s: an atomic replace cannot append or go to "
                         "standard output",
                         path);
    if ((flags & (RET_WRITE_KEEP_META | RET_WRITE_KEEP_MTIME)) &&
        !(flags & RET_WRITE_ATOMIC))
        return ret__fail(err, RET_E_INVAL,
                         "%s: keeping owner, mode or mtime needs an atomic "
                         "replace",
                         path);
    if (strcmp(path, "-") == 0)
        return ret_writer_open_fd(STDOUT_FILENO, "stdout", flags, out, err);
    if ((st = writer_new(path, flags, &w, err)) != RET_OK)
        goto out;
    if (flags & RET_WRITE_ATOMIC) {
        if ((st = open_atomic(w, err)) != RET_OK)
            goto out;
    } else {
        int oflags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY |
                     ((flags & RET_WRITE_APPEND) ? O_APPEND : O_TRUNC);

        w->fd = open(path, oflags, 0666);
        if (w->fd < 0) {
            st = ret__fail_errno(err,
                                 errno == ENOENT ? RET_E_NOTFOUND : RET_E_IO,
                                 errno, "open %s", path);
            goto out;
        }
        w->own_fd = true;
    }
    *out = w;
    w = NULL;
    st = RET_OK;
out:
    ret_writer_free(w);
    return st;
}

ret_status
ret_writer_open_fd(int fd, const char *name, unsigned flags, ret_writer **out,
                   ret_error *err)
{
    ret_writer *w = NULL;
    ret_status st;

    if (fd < 0 || name == NULL || out == NULL ||
        (flags & ~(RET_WRITE_GZIP | RET_WRITE_LINEBUF | RET_WRITE_APPEND)))
        return ret__fail(err, RET_E_INVAL,
                         "ret_writer_open_fd: invalid argument");
    if ((st = writer_new(name, flags, &w, err)) != RET_OK)
        return st;
    w->fd = fd;
    *out = w;
    return RET_OK;
}

ret_status
ret_writer_write(ret_writer *w, const void *data, size_t len, ret_error *err)
{
    ret_error e;
    ret_status st;

    if (w == NULL || (data == NULL && len > 0))
        return ret__fail(err, RET_E_INVAL,
                         "ret_writer_write: invalid argument");
    if (w->failed != RET_OK) {
        if (err != NULL)
            *err = w->ferr;
        return w->failed;
    }
    if (w->zinit)
        st = gz_write(w, data, len, &e);
    else
        st = plain_write(w, data, len, &e);
    if (st != RET_OK)
        return fail_sticky(w, err, st, &e);
    return RET_OK;
}

ret_status
ret_writer_flush(ret_writer *w, ret_error *err)
{
    ret_error e;
    ret_status st;

    if (w == NULL)
        return ret__fail(err, RET_E_INVAL,
                         "ret_writer_flush: invalid argument");
    if (w->failed != RET_OK) {
        if (err != NULL)
            *err = w->ferr;
        return w->failed;
    }
    if (w->zinit) {
        st = submit(w, Z_SYNC_FLUSH, &e);
    } else {
        st = write_all(w, w->out, w->out_len, &e);
        w->out_len = 0;
    }
    if (st != RET_OK)
        return fail_sticky(w, err, st, &e);
    return RET_OK;
}

/* fsyncs the directory holding path. */
static ret_status
sync_dir(const char *path, ret_error *err)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    int fd;
    ret_status st = RET_OK;

    if (slash == NULL)
        dir = strdup(".");
    else if (slash == path)
        dir = strdup("/");
    else
        dir = strndup(path, (size_t)(slash - path));
    if (dir == NULL)
        return ret__fail(err, RET_E_NOMEM, "%s: out of memory", path);
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        st = ret__fail_errno(err, RET_E_IO, errno, "open %s", dir);
        goto out;
    }
    if (fsync(fd) != 0 && errno != EINVAL && errno != EROFS)
        st = ret__fail_errno(err, RET_E_IO, errno, "fsync %s", dir);
    close(fd);
out:
    free(dir);
    return st;
}

/* Everything commit does before the writer is freed. */
static ret_status
finish(ret_writer *w, ret_error *err)
{
    ret_status st;
    int fd;

    if (w->failed != RET_OK) {
        if (err != NULL)
            *err = w->ferr;
        return w->failed;
    }
    if (w->zinit) {
        if ((st = submit(w, Z_FINISH, err)) != RET_OK)
            return st;
    } else if (w->out_len > 0) {
        if ((st = write_all(w, w->out, w->out_len, err)) != RET_OK)
            return st;
        w->out_len = 0;
    }
    if (!w->own_fd)
        return RET_OK;
    if (w->tmp != NULL) {
        if (w->have_old && (w->flags & RET_WRITE_KEEP_MTIME)) {
            struct timespec ts[2] = {w->old.st_atim, w->old.st_mtim};

            if (futimens(w->fd, ts) != 0)
                return ret__fail_errno(err, RET_E_IO, errno,
                                       "%s: cannot keep the mtime", w->path);
        }
        if (fsync(w->fd) != 0)
            return ret__fail_errno(err, RET_E_IO, errno, "fsync %s", w->tmp);
    }
    fd = w->fd;
    w->fd = -1;
    if (close(fd) != 0)
        return ret__fail_errno(err, RET_E_IO, errno, "close %s",
                               w->tmp ? w->tmp : w->path);
    if (w->tmp != NULL) {
        if (rename(w->tmp, w->path) != 0)
            return ret__fail_errno(err, RET_E_IO, errno, "rename %s to %s",
                                   w->tmp, w->path);
        free(w->tmp);
        w->tmp = NULL; /* renamed: nothing to remove any more */
        return sync_dir(w->path, err);
    }
    return RET_OK;
}

ret_status
ret_writer_commit(ret_writer *w, ret_error *err)
{
    ret_status st;

    if (w == NULL)
        return ret__fail(err, RET_E_INVAL,
                         "ret_writer_commit: invalid argument");
    st = finish(w, err);
    ret_writer_free(w);
    return st;
}

void
ret_writer_free(ret_writer *w)
{
    if (w == NULL)
        return;
    stop_worker(w);
    if (w->own_fd && w->fd >= 0)
        close(w->fd);
    if (w->tmp != NULL)
        unlink(w->tmp);
    if (w->zinit)
        deflateEnd(&w->zs);
    free(w->blk[0]);
    free(w->blk[1]);
    free(w->out);
    free(w->tmp);
    free(w->path);
    free(w);
}
