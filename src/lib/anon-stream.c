/*
 * anon-stream.c - anonymizing a whole input, on several cores.
 *
 * ret_anonymize_stream() writes exactly what the per-line loop (read,
 * parse, anonymize, write) writes. Lines are processed in the calling
 * thread until the parser can be forked (an auto parser has settled on
 * its format). Then the calling thread copies lines into blocks, worker
 * threads parse and anonymize whole blocks, each with its own forked
 * parser and cloned anonymizer, and the calling thread writes finished
 * blocks in input order. The calling thread takes the reader's lines a
 * buffer at a time (ret__reader_next_run) and only counts them; the
 * workers find where each ends. A fixed ring of blocks bounds the memory: the
 * reader stops when every block is in flight.
 *
 * A format whose lines set state for the next ones (W3C: #Fields:, #Date:
 * directives) gets it with each block: the calling thread keeps the
 * parser's state as of the block's first line in the block, then reads
 * the block's directive lines into its own parser, for the next block.
 *
 * One mutex guards the ring's counters and each block's done flag; a
 * block's contents belong to the calling thread while it is filled or
 * written and to one worker while it is processed.
 */
#include "internal.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* The reader's buffer: a block is one buffer of it, taken without a copy
 * (ret__reader_swap_run) */
#define DEFAULT_BLOCK (2048 * 1024)
#define MAX_THREADS 64

/* One block of lines, in and out; a cache line of its own, as its
 * worker writes it at every line. */
struct block {
    _Alignas(RET__CACHE_LINE) char *in;        /* the lines as read, one after another, from inoff */
    size_t inoff, inlen, incap;
    size_t nlines;   /* counted by the worker */
    char *out;       /* their anonymized text */
    size_t outlen, outcap;
    uint64_t *bad;   /* unparsed lines, from 0 in the block */
    size_t nbad, badcap;
    uint64_t raw;    /* reader's raw offset after the last line */
    ret_parser *state; /* stateful formats: the state before its lines */
    ret_status st;   /* a worker's failure at line number first + nok */
    ret_error err;
    bool done;       /* under the mutex */
};

struct worker {
    struct stream *s;
    ret_parser *p;
    ret_anonymizer *a;
    pthread_t thread;
};

struct stream {
    ret_anonymizer *a;
    ret_parser *p;
    ret_reader *rd;
    ret_writer **w;
    ret_anon_stream_opts o;
    size_t block_size;
    /* threaded: what is left of the reader's last run of lines (valid
     * until the next call on it), and the lines written so far */
    const char *run;
    size_t runlen;
    uint64_t lines;
    struct block *ring;
    size_t nring;
    struct worker *wk;
    unsigned nwk;
    pthread_mutex_t mu;
    pthread_cond_t work; /* workers wait for a block */
    pthread_cond_t done; /* the calling thread waits for one */
    uint64_t filled;     /* blocks handed out so far */
    uint64_t claimed;    /* blocks taken by workers */
    uint64_t written;    /* blocks written */
    bool quit;
};

/* Are [p, e) only blanks (' ', '\t'), or nothing? */
static bool
blank_to(const char *p, const char *e)
{
    for (; p < e; p++)
        if (*p != ' ' && *p != '\t')
            return false;
    return true;
}

/* ---- growing arrays ---- */

static bool
grow(void *pp, size_t *cap, size_t need, size_t elem)
{
    void *np;
    size_t nc = *cap > 0 ? *cap : 16;

    if (need <= *cap)
        return true;
    while (nc < need) {
        if (nc > SIZE_MAX / 2 / elem)
            return false;
        nc *= 2;
    }
    if ((np = realloc(*(void **)pp, nc * elem)) == NULL)
        return false;
    *(void **)pp = np;
    *cap = nc;
    return true;
}

static bool
add_bad(struct block *b, uint64_t line)
{
    if (!grow(&b->bad, &b->badcap, b->nbad + 1, sizeof(*b->bad)))
        return false;
    b->bad[b->nbad++] = line;
    return true;
}

/* ---- one line at a time, in the calling thread ---- */

static ret_status
after_write(struct stream *s, uint64_t raw, bool *stop, ret_error *err)
{
    ret_status st;

    if (s->o.progress != NULL)
        s->o.progress(s->o.ctx, raw);
    if (s->o.between == NULL)
        return RET_OK;
    st = s->o.between(s->o.ctx, s->w, err);
    if (st == RET_EOF) {
        *stop = true;
        return RET_OK;
    }
    return st;
}

static ret_status
seq_line(struct stream *s, const char *line, size_t len, bool *stop,
         ret_error *err)
{
    const ret_record *rec = NULL;
    const char *out;
    size_t outlen;
    ret_status st;
    uint64_t before = 0;

    if (s->p != NULL) {
        st = ret_parser_parse(s->p, line, len, &rec, NULL);
        if (st != RET_OK) {
            rec = NULL;
            if (st == RET_E_PARSE && s->o.unparsed != NULL)
                s->o.unparsed(s->o.ctx, ret_reader_line_number(s->rd));
        }
    } else {
        before = ret__anonymizer_failclosed(s->a);
    }
    if ((st = ret_anonymizer_line(s->a, rec, line, len, &out, &outlen,
                                  err)) != RET_OK)
        return st;
    if (s->p == NULL && s->o.unparsed != NULL) {
        if (ret__anonymizer_failclosed(s->a) != before)
            s->o.unparsed(s->o.ctx, ret_reader_line_number(s->rd));
    }
    if ((st = ret_writer_write(*s->w, out, outlen, err)) != RET_OK)
        return st;
    return after_write(s, ret_reader_raw_offset(s->rd), stop, err);
}

/* ---- workers ---- */

/* The lines of p[0..n): its '\n's, and one more when the last byte is
 * not one (the input's last line). */
static uint64_t
count_lines(const char *p, size_t n)
{
    uint64_t k = 0;
    size_t i = 0;

#ifdef __SSE2__
    const __m128i nl = _mm_set1_epi8('\n'), zero = _mm_setzero_si128();

    while (i + 16 <= n) {
        __m128i acc = zero; /* per byte: minus the '\n's seen, < 256 */
        size_t stop = i + 16 * 255 <= n ? i + 16 * 255 : n - (n - i) % 16;

        for (; i < stop; i += 16)
            acc = _mm_sub_epi8(
                acc, _mm_cmpeq_epi8(
                         _mm_loadu_si128((const __m128i *)(const void *)(p + i)),
                         nl));
        acc = _mm_sad_epu8(acc, zero);
        k += (uint64_t)_mm_cvtsi128_si32(acc) +
             (uint64_t)_mm_cvtsi128_si32(_mm_srli_si128(acc, 8));
    }
#endif
    for (; i < n; i++)
        k += p[i] == '\n';
    if (n > 0 && p[n - 1] != '\n')
        k++;
    return k;
}

/* Parses and anonymizes block b with the worker's own handles. */
static void
run_block(struct worker *wk, struct block *b)
{
    const char *line = b->in + b->inoff, *end = line + b->inlen;
    size_t i, len;
    uint64_t before = 0;

    if (b->state != NULL)
        ret__parser_copy_state(wk->p, b->state);
    b->nbad = 0;
    b->st = RET_OK;
    ret__anonymizer_attach(wk->a, b->out, 0, b->outcap);
    for (i = 0; line < end; line += len, i++) {
        const ret_record *rec = NULL;
        ret_status st;

        if (wk->p != NULL) {
            /* the parser finds where the line ends: for most lines in
             * the walk that reads it anyway */
            st = ret__parser_parse_next(wk->p, line, end, &len, &rec, NULL);
            if (st != RET_OK) {
                rec = NULL;
                if (st == RET_E_PARSE && !add_bad(b, i))
                    goto oom;
            }
        } else {
            const char *nl = memchr(line, '\n', (size_t)(end - line));

            len = nl != NULL ? (size_t)(nl - line) + 1 : (size_t)(end - line);
            before = ret__anonymizer_failclosed(wk->a);
        }
        if ((st = ret__anonymizer_line_out(wk->a, rec, line, len,
                                           &b->err)) != RET_OK) {
            b->st = st;
            goto out;
        }
        if (wk->p == NULL) {
            if (ret__anonymizer_failclosed(wk->a) != before &&
                !add_bad(b, i))
                goto oom;
        }
    }
    b->nlines = i;
    ret__anonymizer_detach(wk->a, &b->out, &b->outlen, &b->outcap);
    return;
oom:
    b->st = ret__fail(&b->err, RET_E_NOMEM, "out of memory");
out:
    /* the lines read, written or not */
    b->nlines = i + count_lines(line, (size_t)(end - line));
    ret__anonymizer_detach(wk->a, &b->out, &b->outlen, &b->outcap);
}

static void *
worker_main(void *arg)
{
    struct worker *wk = arg;
    struct stream *s = wk->s;

    pthread_mutex_lock(&s->mu);
    for (;;) {
        struct block *b;

        while (!s->quit && s->claimed == s->filled)
            pthread_cond_wait(&s->work, &s->mu);
        if (s->quit)
            break;
        b = &s->ring[s->claimed++ % s->nring];
        pthread_mutex_unlock(&s->mu);
        run_block(wk, b);
        pthread_mutex_lock(&s->mu);
        b->done = true;
        pthread_cond_signal(&s->done);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static void
free_worker_handles(struct worker *wk)
{
    ret_parser_free(wk->p);
    ret_anonymizer_free(wk->a);
    wk->p = NULL;
    wk->a = NULL;
}

/*
 * Starts the workers. Returns false when the parser cannot be forked
 * yet (*retry) or the threads cannot be had at all (!*retry): the
 * caller goes on in its own thread.
 */
static bool
start_workers(struct stream *s, unsigned n, bool *retry)
{
    sigset_t all, old;
    unsigned i;

    *retry = false;
    if ((s->wk = calloc(n, sizeof(*s->wk))) == NULL)
        return false;
    for (i = 0; i < n; i++) {
        struct worker *wk = &s->wk[i];

        wk->s = s;
        if (s->p != NULL && ret__parser_fork(s->p, &wk->p, NULL) != RET_OK) {
            *retry = i == 0;
            break;
        }
        if (ret__anonymizer_clone(s->a, &wk->a, NULL) != RET_OK) {
            ret_parser_free(wk->p);
            wk->p = NULL;
            break;
        }
    }
    if (i == 0) {
        free(s->wk);
        s->wk = NULL;
        return false;
    }
    n = i;
    s->nring = (size_t)n + 2; /* each worker's, one filled, one written */
    if ((s->ring = ret__calloc_lines(s->nring, sizeof(*s->ring))) == NULL)
        goto fail;
    for (i = 0; i < s->nring; i++) {
        /* the output of a block is about its size; more, and it grows */
        s->ring[i].out = ret__alloc_huge(s->block_size);
        s->ring[i].outcap = s->ring[i].out != NULL ? s->block_size : 0;
    }
    if (s->p != NULL && ret__parser_keeps_state(s->p))
        for (i = 0; i < s->nring; i++)
            if (ret__parser_fork(s->p, &s->ring[i].state, NULL) != RET_OK)
                goto fail;
    if (pthread_mutex_init(&s->mu, NULL) != 0)
        goto fail;
    if (pthread_cond_init(&s->work, NULL) != 0) {
        pthread_mutex_destroy(&s->mu);
        goto fail;
    }
    if (pthread_cond_init(&s->done, NULL) != 0) {
        pthread_cond_destroy(&s->work);
        pthread_mutex_destroy(&s->mu);
        goto fail;
    }
    /* Workers take no signals: they are the calling thread's. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (s->nwk = 0; s->nwk < n; s->nwk++)
        if (pthread_create(&s->wk[s->nwk].thread, NULL, worker_main,
                           &s->wk[s->nwk]) != 0)
            break;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    for (i = s->nwk; i < n; i++)
        free_worker_handles(&s->wk[i]);
    if (s->nwk > 0)
        return true;
    pthread_cond_destroy(&s->done);
    pthread_cond_destroy(&s->work);
    pthread_mutex_destroy(&s->mu);
fail:
    for (i = 0; i < n; i++)
        free_worker_handles(&s->wk[i]);
    free(s->wk);
    for (i = 0; s->ring != NULL && i < s->nring; i++) {
        free(s->ring[i].out);
        ret_parser_free(s->ring[i].state);
    }
    free(s->ring);
    s->wk = NULL;
    s->ring = NULL;
    return false;
}

/* Stops and joins the workers, adds their counts, frees the ring. */
static void
stop_workers(struct stream *s)
{
    size_t i;

    pthread_mutex_lock(&s->mu);
    s->quit = true;
    pthread_cond_broadcast(&s->work);
    pthread_mutex_unlock(&s->mu);
    for (i = 0; i < s->nwk; i++) {
        pthread_join(s->wk[i].thread, NULL);
        ret__anonymizer_add_counts(s->a, s->wk[i].a);
        free_worker_handles(&s->wk[i]);
    }
    pthread_cond_destroy(&s->done);
    pthread_cond_destroy(&s->work);
    pthread_mutex_destroy(&s->mu);
    for (i = 0; i < s->nring; i++) {
        free(s->ring[i].in);
        free(s->ring[i].out);
        free(s->ring[i].bad);
        ret_parser_free(s->ring[i].state);
    }
    free(s->ring);
    free(s->wk);
}

/* ---- the calling thread: reading blocks, writing them in order ---- */


/*
 * Moves lines into b until it holds block_size bytes (at least one
 * line), from the reader's runs of lines, a run cut after a line when it
 * would overfill b. With read false, only what is left of the last run
 * (lines read already). RET_EOF at the end of the input, an error from
 * the reader or out of memory; b holds the lines taken before either.
 */
static ret_status
fill(struct stream *s, struct block *b, bool read, ret_error *err)
{
    ret_status st = RET_OK;
    size_t bufsize;

    b->inoff = 0;
    b->inlen = 0;
    b->nlines = 0;
    if (read && s->runlen == 0 && ret__reader_can_swap(s->rd, &bufsize) &&
        bufsize <= s->block_size) {
        /* The block is the reader's next run, in the buffer it was read
         * into: the block's own buffer (written out already) becomes the
         * reader's. */
        size_t off, len;

        st = ret__reader_swap_run(s->rd, &b->in, &b->incap, &off, &len, err);
        if (st == RET_OK) {
            b->inoff = off;
            b->inlen = len;
        }
        b->raw = ret_reader_raw_offset(s->rd);
        return st;
    }
    while (b->inlen < s->block_size) {
        size_t take;

        if (s->runlen == 0) {
            if (!read) {
                st = RET_EOF;
                break;
            }
            if ((st = ret__reader_next_run(s->rd, &s->run, &s->runlen,
                                           err)) != RET_OK)
                break;
        }
        take = s->runlen;
        if (b->inlen + take > s->block_size) {
            size_t want = s->block_size - b->inlen; /* >= 1 */
            const char *nl = memchr(s->run + want - 1, '\n',
                                    s->runlen - (want - 1));

            if (nl != NULL)
                take = (size_t)(nl - s->run) + 1;
        }
        if (!grow(&b->in, &b->incap, b->inlen + take, 1)) {
            st = ret__fail(err, RET_E_NOMEM,
                           "out of memory for %zu bytes of lines", take);
            break;
        }
        memcpy(b->in + b->inlen, s->run, take);
        b->inlen += take;
        s->run += take;
        s->runlen -= take;
    }
    b->raw = ret_reader_raw_offset(s->rd);
    return st;
}

/*
 * A stateful format: b takes the parser's state before its first line,
 * and the parser reads b's directive lines (those whose first byte after
 * blanks is '#', as the W3C parser tells them), as b's worker will, so
 * that it holds the state before the next block.
 */
static void
directives(struct stream *s, struct block *b)
{
    const char *p = b->in + b->inoff, *e = p + b->inlen, *q = p, *h, *nl;
    const ret_record *rec;

    ret__parser_copy_state(b->state, s->p);
    while (q < e) { /* q: the start of a line */
        if ((h = memchr(q, '#', (size_t)(e - q))) == NULL)
            break;
        /* the start of h's line */
        for (q = h; q > p && q[-1] != '\n'; q--)
            ;
        nl = memchr(h, '\n', (size_t)(e - h));
        if (blank_to(q, h))
            (void)ret_parser_parse(s->p, q,
                                   (size_t)((nl ? nl + 1 : e) - q), &rec,
                                   NULL);
        q = nl ? nl + 1 : e;
    }
}

/* Writes block b (what its worker finished of it) and calls back. */
static ret_status
emit(struct stream *s, struct block *b, bool *stop, ret_error *err)
{
    ret_status st;
    size_t i;

    if (s->o.unparsed != NULL)
        for (i = 0; i < b->nbad; i++)
            s->o.unparsed(s->o.ctx, s->lines + 1 + b->bad[i]);
    /* the workers count the lines (the reader hands out runs of them) */
    s->lines += b->nlines;
    ret__reader_add_lines(s->rd, b->nlines);
    if (b->outlen > 0 &&
        (st = ret_writer_write(*s->w, b->out, b->outlen, err)) != RET_OK)
        return st;
    if (b->st != RET_OK) {
        if (err != NULL)
            *err = b->err;
        return b->st;
    }
    return after_write(s, b->raw, stop, err);
}

/* Writes the finished blocks at the head of the ring; with wait, waits
 * for the head block first. */
static ret_status
drain(struct stream *s, bool wait, bool *stop, ret_error *err)
{
    for (;;) {
        struct block *b;
        ret_status st;

        pthread_mutex_lock(&s->mu);
        if (s->written == s->filled) {
            pthread_mutex_unlock(&s->mu);
            return RET_OK;
        }
        b = &s->ring[s->written % s->nring];
        if (wait)
            while (!b->done)
                pthread_cond_wait(&s->done, &s->mu);
        if (!b->done) {
            pthread_mutex_unlock(&s->mu);
            return RET_OK;
        }
        b->done = false;
        pthread_mutex_unlock(&s->mu);
        st = emit(s, b, stop, err);
        s->written++;
        if (st != RET_OK)
            return st;
        wait = false;
    }
}

static ret_status
run_threaded(struct stream *s, ret_error *err)
{
    ret_status st = RET_OK, rst = RET_OK;
    ret_error rerr;
    bool stop = false;

    s->lines = ret_reader_line_number(s->rd);
    /* After between() said stop, what is left of a run is written too:
     * those lines were read. */
    while ((!stop || s->runlen > 0) && rst == RET_OK) {
        struct block *b;

        if (s->filled - s->written == s->nring &&
            (st = drain(s, true, &stop, err)) != RET_OK)
            return st;
        if (stop && s->runlen == 0)
            break;
        b = &s->ring[s->filled % s->nring];
        rst = fill(s, b, !stop, &rerr);
        if (b->inlen > 0 && b->state != NULL)
            directives(s, b);
        if (b->inlen > 0) {
            pthread_mutex_lock(&s->mu);
            s->filled++;
            pthread_cond_signal(&s->work);
            pthread_mutex_unlock(&s->mu);
        }
        if ((st = drain(s, false, &stop, err)) != RET_OK)
            return st;
    }
    /* Everything read is written, even after between() said stop. */
    while (s->written < s->filled)
        if ((st = drain(s, true, &stop, err)) != RET_OK)
            return st;
    if (rst != RET_OK && rst != RET_EOF) {
        if (err != NULL)
            *err = rerr;
        return rst;
    }
    return RET_OK;
}

ret_status
ret_anonymize_stream(ret_anonymizer *a, ret_parser *p, ret_reader *rd,
                     ret_writer **w, const ret_anon_stream_opts *o,
                     ret_error *err)
{
    struct stream s;
    ret_status st = RET_OK;
    uint64_t n = 0, next_try = 0;
    unsigned threads;
    bool stop = false;

    if (a == NULL || rd == NULL || w == NULL || *w == NULL)
        return ret__fail(err, RET_E_INVAL,
                         "ret_anonymize_stream: invalid argument");
    memset(&s, 0, sizeof(s));
    s.a = a;
    s.p = p;
    s.rd = rd;
    s.w = w;
    if (o != NULL)
        s.o = *o;
    s.block_size = s.o.block_size > 0 ? s.o.block_size : DEFAULT_BLOCK;
    threads = s.o.threads > MAX_THREADS ? MAX_THREADS : s.o.threads;
    while (!stop) {
        const char *line;
        size_t len;

        if (threads > 1 && n >= next_try) {
            bool retry;

            if (start_workers(&s, threads, &retry)) {
                st = run_threaded(&s, err);
                stop_workers(&s);
                return st;
            }
            /* An auto parser still detecting: try again at each of
             * the first lines, then less and less often (W3C). */
            next_try = !retry ? UINT64_MAX : n < 64 ? n + 1 : 2 * n;
        }
        if ((st = ret_reader_next(rd, &line, &len, err)) != RET_OK)
            break;
        if ((st = seq_line(&s, line, len, &stop, err)) != RET_OK)
            break;
        n++;
    }
    return st == RET_EOF ? RET_OK : st;
}
