/* Shapes with Keras's None (CK_NONE) and their text forms. */
#include "core.h"

#include <string.h>

ck_shape ck_shape_of(int rank, const int64_t *dims)
{
    ck_shape s = {.rank = rank};
    for (int i = 0; i < rank && i < CK_MAX_RANK; i++) s.dim[i] = dims[i];
    return s;
}

ck_shape ck_shape_1(int64_t a) { return (ck_shape){.rank = 1, .dim = {a}}; }
ck_shape ck_shape_2(int64_t a, int64_t b) { return (ck_shape){.rank = 2, .dim = {a, b}}; }

bool ck_shape_eq(const ck_shape *a, const ck_shape *b)
{
    if (a->rank != b->rank) return false;
    for (int i = 0; i < a->rank; i++)
        if (a->dim[i] != b->dim[i]) return false;
    return true;
}

ck_status ck_shape_size_from(const ck_shape *s, int from, int64_t *out)
{
    int64_t n = 1;
    for (int i = from; i < s->rank; i++) {
        if (s->dim[i] == CK_NONE) {
            *out = CK_NONE;
            return CK_OK;
        }
        if (!ck_mul_ok(n, s->dim[i], &n))
            return ck_fail(CK_ERR_OVERFLOW, "shape size overflows int64");
    }
    *out = n;
    return CK_OK;
}

static void format_dims(const ck_shape *s, char *buf, size_t cap, bool python_tuple)
{
    size_t len = 0;
    len += (size_t)snprintf(buf, cap, "(");
    for (int i = 0; i < s->rank && len < cap; i++) {
        if (s->dim[i] == CK_NONE)
            len += (size_t)snprintf(buf + len, cap - len, "%sNone", i ? ", " : "");
        else
            len += (size_t)snprintf(buf + len, cap - len, "%s%lld", i ? ", " : "",
                                    (long long)s->dim[i]);
    }
    if (len < cap) snprintf(buf + len, cap - len, python_tuple && s->rank == 1 ? ",)" : ")");
}

void ck_shape_format(const ck_shape *s, char *buf, size_t cap) { format_dims(s, buf, cap, false); }

void ck_shape_repr(const ck_shape *s, char *buf, size_t cap) { format_dims(s, buf, cap, true); }

bool ck_normalize_axis(int64_t axis, int rank, int *out)
{
    if (axis < 0) axis += rank;
    if (axis < 0 || axis >= rank) return false;
    *out = (int)axis;
    return true;
}
