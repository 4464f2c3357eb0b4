/*
 * reader.c - line readers over plain and gzip files, pipes and memory.
 *
 * Bytes are read in large blocks (2 MiB, in huge pages where the system
 * has them: ret__alloc_huge) and split into lines with
 * memchr(); a line that lies inside the buffer is returned in place
 * (zero copy). A line longer than the buffer makes the buffer grow, so a
 * line may be of any length. Gzip input is recognised by its magic bytes
 * and decoded with inflate() into the same kind of buffer; concatenated
 * members are read one after the other. Damage in the compressed data is
 * reported only after every byte decoded before it has been returned.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define ZLIB_CONST
#include <zlib.h>

#define READER_BUFSIZE (2048 * 1024)
#define HUGE_PAGE (2048 * 1024)
#define READER_MINBUF 16
/* Memory input is handed to inflate() in pieces of at most this. */
#define MEM_CHUNK (1u << 30)

struct ret_reader {
    char *name;
    int fd; /* -1: memory input */
    bool own_fd;
    const unsigned char *mem; /* memory input */
    size_t mem_len, mem_pos;

    /* Decoded bytes: data[start, end); no '\n' in data[start, scan). */
    const char *data;
    char *buf; /* owned buffer behind data (NULL for plain memory) */
    size_t cap, start, end, scan;
    bool eof; /* no more decoded bytes will come */

    bool gzip;
    bool zinit;
    bool member_end; /* a gzip member ended; another may follow */
    bool in_eof;     /* the compressed source is exhausted */
    z_stream zs;
    unsigned char *in; /* compressed input buffer (fd input) */
    size_t in_cap;

    /* An error met while filling, returned after the lines before it. */
    ret_status pending;
    ret_error pending_err;

    uint64_t line_no;
    uint64_t offset;  /* decoded bytes returned */
    uint64_t raw_off; /* bytes taken from the source */
    uint64_t raw_size;
};

static ret_status
reader_new(const char *name, ret_reader **out, ret_error *err)
{
    ret_reader *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return ret__fail(err, RET_E_NOMEM, "%s: out of memory", name);
    r->name = strdup(name);
    if (r->name == NULL) {
        free(r);
        return ret__fail(err, RET_E_NOMEM, "%s: out of memory", name);
    }
    r->fd = -1;
    r->pending = RET_OK;
    *out = r;
    return RET_OK;
}

/* Remembers an error to return once the bytes before it are out. */
static void
set_pending(ret_reader *r, ret_status st)
{
    r->pending = st;
    r->eof = true;
}

static ret_status
start_inflate(ret_reader *r, ret_error *err)
{
    int zr = inflateInit2(&r->zs, 15 + 16);

    if (zr != Z_OK)
        return ret__fail(err, zr == Z_MEM_ERROR ? RET_E_NOMEM : RET_E_GZIP,
                         "%s: cannot start gzip decoding: %s", r->name,
                         r->zs.msg ? r->zs.msg : zError(zr));
    r->zinit = true;
    return RET_OK;
}

static int
is_gzip_magic(const unsigned char *p, size_t n)
{
    return n >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

/* Reads once into p[0, n); returns bytes read, 0 at end, -1 on error.
 * A non-blocking descriptor (inherited standard input) is waited for. */
static ssize_t
read_some(int fd, void *p, size_t n)
{
    ssize_t got;

    if (n > SSIZE_MAX)
        n = SSIZE_MAX;
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};

        got = read(fd, p, n);
        if (got >= 0)
            return got;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
            return -1;
    }
}

void *
ret__alloc_huge(size_t n)
{
    void *p;
    size_t whole;

    if (n < HUGE_PAGE || n > SIZE_MAX - HUGE_PAGE)
        return malloc(n > 0 ? n : 1);
    whole = (n + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    if (posix_memalign(&p, HUGE_PAGE, whole) != 0)
        return NULL;
#ifdef MADV_HUGEPAGE
    (void)madvise(p, whole, MADV_HUGEPAGE); /* a hint: fine without */
#endif
    return p;
}

static ret_status
open_fd_common(int fd, bool own_fd, const char *name, size_t bufsize,
               ret_reader **out, ret_error *err)
{
    ret_reader *r = NULL;
    struct stat st;
    size_t have = 0;
    ret_status rs;

    if (bufsize < READER_MINBUF)
        bufsize = READER_MINBUF;
    if ((rs = reader_new(name, &r, err)) != RET_OK)
        goto out;
    r->fd = fd;
    r->own_fd = own_fd;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        r->raw_size = (uint64_t)st.st_size;
#ifdef POSIX_FADV_SEQUENTIAL
        (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    }
    r->buf = ret__alloc_huge(bufsize);
    if (r->buf == NULL) {
        rs = ret__fail(err, RET_E_NOMEM, "%s: out of memory", name);
        goto out;
    }
    r->cap = bufsize;

    /* Sniff: read until the two magic bytes are known. */
    while (have < 2) {
        ssize_t got = read_some(fd, r->buf + have, r->cap - have);

        if (got < 0) {
            rs = ret__fail_errno(err, RET_E_IO, errno, "read %s", name);
            goto out;
        }
        if (got == 0)
            break;
        have += (size_t)got;
    }
    r->raw_off = have;

    if (is_gzip_magic((unsigned char *)r->buf, have)) {
        /* The first block is compressed input: it becomes the input
         * buffer and a new buffer receives the decoded bytes. */
        r->gzip = true;
        r->in = (unsigned char *)r->buf;
        r->in_cap = r->cap;
        r->buf = ret__alloc_huge(bufsize);
        if (r->buf == NULL) {
            rs = ret__fail(err, RET_E_NOMEM, "%s: out of memory", name);
            goto out;
        }
        if ((rs = start_inflate(r, err)) != RET_OK)
            goto out;
        r->zs.next_in = r->in;
        r->zs.avail_in = (uInt)have;
    } else {
        r->end = have;
        if (have == 0)
            r->eof = true;
    }
    r->data = r->buf;
    *out = r;
    r = NULL;
    rs = RET_OK;
out:
    if (r != NULL) {
        r->own_fd = false; /* the caller keeps fd when open fails */
        ret_reader_free(r);
    }
    return rs;
}

RET_HIDDEN ret_status
ret__reader_open_fd_size(int fd, const char *name, size_t bufsize,
                         ret_reader **out, ret_error *err)
{
    if (fd < 0 || name == NULL || out == NULL)
        return ret__fail(err, RET_E_INVAL,
                         "ret_reader_open_fd: invalid argument");
    return open_fd_common(fd, false, name, bufsize, out, err);
}

ret_status
ret_reader_open_fd(int fd, const char *name, ret_reader **out, ret_error *err)
{
    return ret__reader_open_fd_size(fd, name, READER_BUFSIZE, out, err);
}

ret_status
ret_reader_open(const char *path, ret_reader **out, ret_error *err)
{
    int fd;
    ret_status rs;

    if (path == NULL || out == NULL)
        return ret__fail(err, RET_E_INVAL, "ret_reader_open: invalid argument");
    if (strcmp(path, "-") == 0)
        return open_fd_common(STDIN_FILENO, false, "stdin", READER_BUFSIZE, out,
                              err);
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return ret__fail_errno(err, errno == ENOENT ? RET_E_NOTFOUND : RET_E_IO,
                               errno, "open %s", path);
    rs = open_fd_common(fd, true, path, READER_BUFSIZE, out, err);
    if (rs != RET_OK)
        close(fd);
    return rs;
}

RET_HIDDEN ret_status
ret__reader_open_mem_size(const void *data, size_t len, const char *name,
                          size_t bufsize, ret_reader **out, ret_error *err)
{
    ret_reader *r = NULL;
    ret_status rs;

    if ((data == NULL && len > 0) || out == NULL)
        return ret__fail(err, RET_E_INVAL,
                         "ret_reader_open_mem: invalid argument");
    if (name == NULL)
        name = "memory";
    if (bufsize < READER_MINBUF)
        bufsize = READER_MINBUF;
    if ((rs = reader_new(name, &r, err)) != RET_OK)
        goto out;
    r->mem = data;
    r->mem_len = len;
    r->raw_size = len;
    if (is_gzip_magic(r->mem, len)) {
        r->gzip = true;
        r->buf = ret__alloc_huge(bufsize);
        if (r->buf == NULL) {
            rs = ret__fail(err, RET_E_NOMEM, "%s: out of memory", name);
            goto out;
        }
        r->cap = bufsize;
        r->data = r->buf;
        if ((rs = start_inflate(r, err)) != RET_OK)
            goto out;
    } else {
        /* Plain memory: lines are returned straight from it. */
        r->data = data;
        r->cap = r->end = len;
        r->mem_pos = len;
        r->raw_off = len;
        r->eof = true;
    }
    *out = r;
    r = NULL;
    rs = RET_OK;
out:
    ret_reader_free(r);
    return rs;
}

ret_status
ret_reader_open_mem(const void *data, size_t len, const char *name,
                    ret_reader **out, ret_error *err)
{
    return ret__reader_open_mem_size(data, len, name, READER_BUFSIZE, out, err);
}

/* Gives inflate() more compressed input; sets in_eof at the end. */
static void
more_input(ret_reader *r)
{
    if (r->fd < 0) {
        size_t n = r->mem_len - r->mem_pos;

        if (n > MEM_CHUNK)
            n = MEM_CHUNK;
        r->zs.next_in = r->mem + r->mem_pos;
        r->zs.avail_in = (uInt)n;
        r->mem_pos += n;
        r->raw_off += n;
        if (r->mem_pos == r->mem_len)
            r->in_eof = true;
        return;
    }
    for (;;) {
        ssize_t got = read_some(r->fd, r->in, r->in_cap);

        if (got > 0) {
            r->zs.next_in = r->in;
            r->zs.avail_in = (uInt)got;
            r->raw_off += (uint64_t)got;
            return;
        }
        if (got == 0) {
            r->in_eof = true;
            return;
        }
        ret__fail_errno(&r->pending_err, RET_E_IO, errno, "read %s", r->name);
        set_pending(r, RET_E_IO);
        r->in_eof = true;
        return;
    }
}

/* The compressed byte offset inflate() has reached. */
static uint64_t
zoffset(const ret_reader *r)
{
    return r->raw_off - r->zs.avail_in;
}

/* Decodes more bytes into buf[end, cap) (there is room). */
static void
fill_gzip(ret_reader *r)
{
    for (;;) {
        size_t room = r->cap - r->end, made;
        int zr;

        if (r->zs.avail_in == 0 && !r->in_eof) {
            more_input(r);
            if (r->pending != RET_OK)
                return;
            continue;
        }
        if (r->member_end) {
            /* After a member: more members, zero padding, or the end. */
            while (r->zs.avail_in > 0 && *r->zs.next_in == 0) {
                r->zs.next_in++;
                r->zs.avail_in--;
            }
            if (r->zs.avail_in == 0) {
                if (r->in_eof) {
                    r->eof = true;
                    return;
                }
                continue;
            }
            if (*r->zs.next_in != 0x1f) {
                ret__fail(&r->pending_err, RET_E_GZIP,
                          "%s: trailing garbage after gzip data at byte "
                          "%" PRIu64,
                          r->name, zoffset(r));
                set_pending(r, RET_E_GZIP);
                return;
            }
            inflateReset(&r->zs);
            r->member_end = false;
        }
        if (room > UINT_MAX)
            room = UINT_MAX;
        r->zs.next_out = (unsigned char *)r->buf + r->end;
        r->zs.avail_out = (uInt)room;
        zr = inflate(&r->zs, Z_NO_FLUSH);
        made = room - r->zs.avail_out;
        r->end += made;
        if (zr == Z_STREAM_END) {
            r->member_end = true;
            if (made > 0)
                return;
            continue;
        }
        if (zr == Z_OK || zr == Z_BUF_ERROR) {
            if (made > 0)
                return;
            if (r->zs.avail_in == 0 && r->in_eof) {
                ret__fail(&r->pending_err, RET_E_GZIP,
                          "%s: truncated gzip data at byte %" PRIu64, r->name,
                          zoffset(r));
                set_pending(r, RET_E_GZIP);
                return;
            }
            continue;
        }
        ret__fail(&r->pending_err, zr == Z_MEM_ERROR ? RET_E_NOMEM : RET_E_GZIP,
                  "%s: corrupt gzip data at byte %" PRIu64 ": %s", r->name,
                  zoffset(r), r->zs.msg ? r->zs.msg : zError(zr));
        set_pending(r, zr == Z_MEM_ERROR ? RET_E_NOMEM : RET_E_GZIP);
        return;
    }
}

static void
fill_plain(ret_reader *r)
{
    ssize_t got = read_some(r->fd, r->buf + r->end, r->cap - r->end);

    if (got > 0) {
        r->end += (size_t)got;
        r->raw_off += (uint64_t)got;
    } else if (got == 0) {
        r->eof = true;
    } else {
        ret__fail_errno(&r->pending_err, RET_E_IO, errno, "read %s", r->name);
        set_pending(r, RET_E_IO);
    }
}

/* Makes room after the pending partial line and reads more. */
static ret_status
fill(ret_reader *r, ret_error *err)
{
    if (r->start > 0) {
        size_t keep = r->end - r->start;

        if (keep > 0)
            memmove(r->buf, r->buf + r->start, keep);
        r->scan -= r->start;
        r->end = keep;
        r->start = 0;
    }
    if (r->end == r->cap) {
        size_t ncap = r->cap * 2;
        char *nb;

        if (ncap < r->cap)
            return ret__fail(err, RET_E_NOMEM, "%s:%" PRIu64 ": line too long",
                             r->name, r->line_no + 1);
        nb = realloc(r->buf, ncap);
        if (nb == NULL)
            return ret__fail(err, RET_E_NOMEM,
                             "%s:%" PRIu64 ": out of memory for a line of "
                             "%zu bytes",
                             r->name, r->line_no + 1, r->cap);
        r->buf = nb;
        r->data = nb;
        r->cap = ncap;
    }
    if (r->gzip)
        fill_gzip(r);
    else
        fill_plain(r);
    return RET_OK;
}

/* Hands out the n decoded bytes at start. */
static void
take(ret_reader *r, size_t n, const char **p, size_t *len)
{
    *p = r->data + r->start;
    *len = n;
    r->start += n;
    r->scan = r->start;
    r->offset += n;
}

/*
 * Finds the end of what to hand out in the decoded bytes: the first
 * newline (last: the last one) or, at the end of input, what is left.
 * Fills the buffer as needed. RET_OK with *n; RET_EOF, or the error met
 * while filling once every byte before it was handed out.
 */
static inline __attribute__((always_inline)) ret_status
next_end(ret_reader *r, bool last, size_t *n, ret_error *err)
{
    ret_status st;

    for (;;) {
        if (r->scan < r->end) {
            const char *p = r->data + r->scan;
            const char *nl = last ? memrchr(p, '\n', r->end - r->scan)
                                  : memchr(p, '\n', r->end - r->scan);

            if (nl != NULL) {
                *n = (size_t)(nl - (r->data + r->start)) + 1;
                return RET_OK;
            }
            r->scan = r->end;
        }
        if (r->eof) {
            if (r->start < r->end) {
                /* The last line, without a newline. */
                *n = r->end - r->start;
                return RET_OK;
            }
            if (r->pending != RET_OK) {
                if (err != NULL)
                    *err = r->pending_err;
                return r->pending;
            }
            return RET_EOF;
        }
        if ((st = fill(r, err)) != RET_OK)
            return st;
    }
}

ret_status
ret_reader_next(ret_reader *r, const char **line, size_t *len, ret_error *err)
{
    ret_status st;
    size_t n;

    if (r == NULL || line == NULL || len == NULL)
        return ret__fail(err, RET_E_INVAL, "ret_reader_next: invalid argument");
    if ((st = next_end(r, false, &n, err)) != RET_OK)
        return st;
    take(r, n, line, len);
    r->line_no++;
    return RET_OK;
}

/*
 * Every whole line the buffer holds at once, in place: one or more lines
 * ending in '\n' (the input's last line may lack it), valid until the
 * next call on r. For a caller that splits lines itself (the anonymize
 * stream hands them to threads): the line number is not advanced, the
 * caller tells it with ret__reader_add_lines. Errors and the end of
 * input come as from ret_reader_next.
 */
ret_status
ret__reader_next_run(ret_reader *r, const char **data, size_t *len,
                     ret_error *err)
{
    ret_status st;
    size_t n;

    if (r == NULL || data == NULL || len == NULL)
        return ret__fail(err, RET_E_INVAL,
                         "ret__reader_next_run: invalid argument");
    if ((st = next_end(r, true, &n, err)) != RET_OK)
        return st;
    take(r, n, data, len);
    return RET_OK;
}

bool
ret__reader_can_swap(const ret_reader *r, size_t *bufsize)
{
    *bufsize = r->cap;
    return r->buf != NULL && r->data == r->buf;
}

/*
 * ret__reader_next_run without a copy: the run is handed over with the
 * buffer that holds it. *buf (of *cap bytes, may be NULL; grown to the
 * reader's size) becomes the reader's buffer, and the reader's old one,
 * the run at *off, is the caller's (to give back at the next call). Only
 * for a reader with a buffer of its own (ret__reader_can_swap).
 */
ret_status
ret__reader_swap_run(ret_reader *r, char **buf, size_t *cap, size_t *off,
                     size_t *len, ret_error *err)
{
    ret_status st;
    size_t n, rest, oldcap;
    char *old;

    if ((st = next_end(r, true, &n, err)) != RET_OK)
        return st;
    if (*buf == NULL || *cap < r->cap) {
        /* the first time: a buffer like the reader's own */
        char *nb = *buf == NULL ? ret__alloc_huge(r->cap)
                                : realloc(*buf, r->cap);

        if (nb == NULL)
            return ret__fail(err, RET_E_NOMEM, "%s: out of memory", r->name);
        *buf = nb;
        *cap = r->cap;
    }
    old = r->buf;
    oldcap = r->cap;
    /* what follows the run has no '\n' (or is empty at the end) */
    rest = r->end - (r->start + n);
    memcpy(*buf, r->buf + r->start + n, rest);
    *off = r->start;
    *len = n;
    r->offset += n;
    r->buf = *buf;
    r->data = r->buf;
    r->cap = *cap;
    r->start = 0;
    r->end = r->scan = rest;
    *buf = old;
    *cap = oldcap;
    return RET_OK;
}

void
ret__reader_add_lines(ret_reader *r, uint64_t n)
{
    r->line_no += n;
}

int
ret_reader_is_gzip(const ret_reader *r)
{
    return r != NULL && r->gzip;
}

uint64_t
ret_reader_line_number(const ret_reader *r)
{
    return r != NULL ? r->line_no : 0;
}

uint64_t
ret_reader_offset(const ret_reader *r)
{
    return r != NULL ? r->offset : 0;
}

uint64_t
ret_reader_raw_offset(const ret_reader *r)
{
    if (r == NULL)
        return 0;
    if (!r->gzip)
        return r->offset;
    return zoffset(r);
}

uint64_t
ret_reader_raw_size(const ret_reader *r)
{
    return r != NULL ? r->raw_size : 0;
}

void
ret_reader_free(ret_reader *r)
{
    if (r == NULL)
        return;
    if (r->zinit)
        inflateEnd(&r->zs);
    if (r->own_fd && r->fd >= 0)
        close(r->fd);
    free(r->in);
    free(r->buf);
    free(r->name);
    free(r);
}
