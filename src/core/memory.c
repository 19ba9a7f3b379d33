/* The allocator every part of the library goes through, so that a failed allocation
 * always becomes CK_ERR_NOMEM with a message rather than a crash. */
#include "core.h"

#include <stdlib.h>
#include <string.h>

void *ck_malloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p) ck_fail(CK_ERR_NOMEM, "out of memory allocating %zu bytes", bytes);
    return p;
}

void *ck_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) ck_fail(CK_ERR_NOMEM, "out of memory allocating %zu x %zu bytes", n, size);
    return p;
}

void *ck_realloc(void *p, size_t bytes)
{
    void *q = realloc(p, bytes ? bytes : 1);
    if (!q) ck_fail(CK_ERR_NOMEM, "out of memory allocating %zu bytes", bytes);
    return q;
}

void ck_free(void *p) { free(p); }

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
