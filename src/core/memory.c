/* The allocator every part of the library goes through, so that a failed allocation
 * always becomes CK_ERR_NOMEM with a message rather than a crash. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE (ck_address_room) */
#include "core.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__unix__)
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#endif

/* The hook of ck_set_allocator; all NULL means libc. Like ck_set_limits, a
 * setting for the whole program, made before other calls. */
static ck_allocator hook;

ck_status ck_set_allocator(const ck_allocator *a)
{
    if (a && (!a->malloc || !a->realloc || !a->free))
        return ck_fail(CK_ERR_ARG, "ck_set_allocator: malloc, realloc and free are all needed");
    hook = a ? *a : (ck_allocator){0};
    return CK_OK;
}

static void *raw_malloc(size_t bytes) { return hook.malloc ? hook.malloc(hook.ctx, bytes) : malloc(bytes); }

void *ck_malloc(size_t bytes)
{
    void *p = raw_malloc(bytes ? bytes : 1);
    if (!p) ck_fail(CK_ERR_NOMEM, "out of memory allocating %zu bytes", bytes);
    return p;
}

void *ck_calloc(size_t n, size_t size)
{
    if (!n) n = 1;
    if (!size) size = 1;
    void *p = NULL;
    if (n <= SIZE_MAX / size) {
        if (hook.calloc) p = hook.calloc(hook.ctx, n, size);
        else if (!hook.malloc) p = calloc(n, size);
        else if ((p = raw_malloc(n * size))) memset(p, 0, n * size);
    }
    if (!p) ck_fail(CK_ERR_NOMEM, "out of memory allocating %zu x %zu bytes", n, size);
    return p;
}

void *ck_realloc(void *p, size_t bytes)
{
    void *q = hook.realloc ? hook.realloc(hook.ctx, p, bytes ? bytes : 1) : realloc(p, bytes ? bytes : 1);
    if (!q) ck_fail(CK_ERR_NOMEM, "out of memory allocating %zu bytes", bytes);
    return q;
}

void ck_free(void *p)
{
    if (hook.free) hook.free(hook.ctx, p);
    else free(p);
}

char *ck_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = ck_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

ck_status ck_grow(void **items, int *cap, int need, size_t item_size)
{
    if (need <= *cap) return CK_OK;
    int n = *cap ? *cap : 4;
    while (n < need) n *= 2;
    void *p = ck_realloc(*items, (size_t)n * item_size);
    if (!p) return CK_ERR_NOMEM;
    memset((char *)p + (size_t)*cap * item_size, 0, (size_t)(n - *cap) * item_size);
    *items = p;
    *cap = n;
    return CK_OK;
}

/* getrlimit is a system call, about 0.3 us: as long as a small product takes.
 * So each thread keeps the answer and asks again after 20 ms; a limit lowered
 * while the program runs counts from then on. */
#define LIMIT_CHECK_NS 20000000LL

typedef struct limit_seen {
    bool known;         /* asked at least once on this thread */
    bool limited;       /* RLIMIT_AS was finite               */
    long long asked_at; /* CLOCK_MONOTONIC ns                 */
} limit_seen;

static _Thread_local limit_seen seen;

bool ck_address_limited(void)
{
#if defined(__unix__)
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    long long now = (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
    if (!seen.known || now - seen.asked_at >= LIMIT_CHECK_NS) {
        struct rlimit r;
        seen = (limit_seen){true, !getrlimit(RLIMIT_AS, &r) && r.rlim_cur != RLIM_INFINITY, now};
    }
    return seen.limited;
#else
    return false;
#endif
}

bool ck_address_room(size_t bytes)
{
#if defined(__unix__)
    if (!ck_address_limited()) return true;
    /* A mapping that is never touched still counts against RLIMIT_AS, and is
     * what OpenBLAS's buffer and a thread's stack are. */
    void *p = mmap(NULL, bytes ? bytes : 1, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return false;
    munmap(p, bytes ? bytes : 1);
#else
    (void)bytes;
#endif
    return true;
}
