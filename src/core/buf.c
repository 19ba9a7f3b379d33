/* A growable string used to assemble summaries, JSON and messages. */
#include "core.h"

#include <string.h>

static bool reserve(ck_buf *b, size_t extra)
{
    if (b->failed) return false;
    if (b->len + extra + 1 <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) cap *= 2;
    char *p = ck_realloc(b->data, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void ck_buf_putn(ck_buf *b, const char *s, size_t n)
{
    if (!reserve(b, n)) return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void ck_buf_put(ck_buf *b, const char *s) { ck_buf_putn(b, s, strlen(s)); }

void ck_buf_printf(ck_buf *b, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n >= 0 && reserve(b, (size_t)n)) {
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
}

char *ck_buf_take(ck_buf *b)
{
    if (b->failed) {
        ck_buf_free(b);
        ck_fail(CK_ERR_NOMEM, "out of memory building text");
        return NULL;
    }
    if (!reserve(b, 0)) return NULL;
    char *s = b->data;
    b->data[b->len] = '\0';
    *b = (ck_buf){0};
    return s;
}

void ck_buf_free(ck_buf *b)
{
    ck_free(b->data);
    *b = (ck_buf){0};
}
