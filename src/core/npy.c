/*
 * NumPy's .npy format (versions 1-3) and .npz archives (a zip of .npy members, as
 * np.savez and np.savez_compressed write them). Only what ckeras exchanges with
 * Python is accepted: little-endian float32/float64/int32/int64/uint8 in C order.
 * Anything else fails with a message that names the file and the offending field,
 * because a silently transposed or byte-swapped array is worse than an error.
 */
#include "core/core.h"

#include <stdlib.h>
#include <string.h>
#include <zip.h>

static const char NPY_MAGIC[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

static size_t dtype_bytes(ck_dtype d)
{
    switch (d) {
    case CK_FLOAT64: case CK_INT64: return 8;
    case CK_UINT8: return 1;
    default: return 4;
    }
}

static const char *dtype_descr(ck_dtype d)
{
    switch (d) {
    case CK_FLOAT64: return "<f8";
    case CK_INT32: return "<i4";
    case CK_INT64: return "<i8";
    case CK_UINT8: return "|u1";
    default: return "<f4";
    }
}

void ck_array_free(ck_array *a)
{
    if (!a) return;
    ck_free(a->data);
    a->data = NULL;
}

int64_t ck_array_size(const ck_array *a)
{
    int64_t n = 1;
    for (int i = 0; i < a->shape.rank; i++) n *= a->shape.dim[i];
    return n;
}

ck_status ck_array_to_float32(ck_array *a)
{
    if (a->dtype == CK_FLOAT32) return CK_OK;
    int64_t n = ck_array_size(a);
    float *f = ck_malloc((size_t)(n ? n : 1) * sizeof *f);
    if (!f) return ck_fail(CK_ERR_NOMEM, "out of memory converting an array to float32");
    for (int64_t i = 0; i < n; i++) {
        switch (a->dtype) {
        case CK_FLOAT64: f[i] = (float)((const double *)a->data)[i]; break;
        case CK_INT32: f[i] = (float)((const int32_t *)a->data)[i]; break;
        case CK_INT64: f[i] = (float)((const int64_t *)a->data)[i]; break;
        default: f[i] = (float)((const uint8_t *)a->data)[i]; break;
        }
    }
    ck_free(a->data);
    a->data = f;
    a->dtype = CK_FLOAT32;
    return CK_OK;
}

/* ---- header parsing: a Python dict literal with three keys ------------------------ */
static const char *dict_value(const char *h, const char *key)
{
    char q[32];
    snprintf(q, sizeof q, "'%s'", key);
    const char *p = strstr(h, q);
    if (!p) return NULL;
    p += strlen(q);
    while (*p == ' ' || *p == ':') p++;
    return p;
}

static ck_status parse_descr(const char *origin, const char *v, ck_dtype *d)
{
    static const struct { const char *s; ck_dtype d; } known[] = {
        {"'<f4'", CK_FLOAT32}, {"'<f8'", CK_FLOAT64}, {"'<i4'", CK_INT32},
        {"'<i8'", CK_INT64},   {"'|u1'", CK_UINT8},   {"'<u1'", CK_UINT8},
    };
    for (int i = 0; i < CK_N_OF(known); i++)
        if (!strncmp(v, known[i].s, strlen(known[i].s))) {
            *d = known[i].d;
            return CK_OK;
        }
    char got[24] = {0};
    for (int i = 0; i < 20 && v[i] && v[i] != ','; i++) got[i] = v[i];
    return ck_fail(CK_ERR_UNSUPPORTED, "%s: dtype %s is not supported (float32, float64, int32, int64, uint8, "
                   "little-endian)", origin, got);
}

static ck_status parse_shape(const char *origin, const char *v, ck_shape *s)
{
    if (*v != '(') return ck_fail(CK_ERR_FORMAT, "%s: header field 'shape' is not a tuple", origin);
    s->rank = 0;
    const char *p = v + 1;
    for (;;) {
        while (*p == ' ' || *p == ',') p++;
        if (*p == ')') return CK_OK;
        char *end;
        long long d = strtoll(p, &end, 10);
        if (end == p || d < 0 || d > CK_MAX_DIM)
            return ck_fail(CK_ERR_FORMAT, "%s: header field 'shape' has a bad dimension", origin);
        if (s->rank >= CK_MAX_RANK)
            return ck_fail(CK_ERR_UNSUPPORTED, "%s: rank above %d is not supported", origin, CK_MAX_RANK);
        s->dim[s->rank++] = d;
        p = end;
    }
}

/* Bytes before the header text and the header's length, from the first 12
 * bytes (or fewer, for a short file: then an error). */
static ck_status npy_preamble(const unsigned char *buf, size_t len, const char *origin, size_t *hstart, size_t *hlen)
{
    if (len < 10 || memcmp(buf, NPY_MAGIC, 6))
        return ck_fail(CK_ERR_FORMAT, "%s: not a .npy file (no \\x93NUMPY magic)", origin);
    int major = buf[6];
    if (major == 1) {
        *hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
        *hstart = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12) return ck_fail(CK_ERR_FORMAT, "%s: truncated .npy header", origin);
        *hlen = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
        *hstart = 12;
    } else {
        return ck_fail(CK_ERR_UNSUPPORTED, "%s: .npy format version %d is not supported", origin, major);
    }
    if (*hlen > 65536) return ck_fail(CK_ERR_FORMAT, "%s: truncated .npy header", origin);
    return CK_OK;
}

/* The header (buf holds at least hstart + hlen bytes): dtype and shape into
 * `out` (no data yet) and the data's size in bytes. */
static ck_status npy_header(const unsigned char *buf, size_t hstart, size_t hlen, const char *origin, ck_array *out,
                            size_t *bytes)
{
    memset(out, 0, sizeof *out);
    char *h = ck_malloc(hlen + 1);
    if (!h) return ck_fail(CK_ERR_NOMEM, "out of memory");
    memcpy(h, buf + hstart, hlen);
    h[hlen] = 0;
    const char *descr = dict_value(h, "descr"), *fo = dict_value(h, "fortran_order"), *shape = dict_value(h, "shape");
    ck_status st = CK_OK;
    if (!descr || !fo || !shape) st = ck_fail(CK_ERR_FORMAT, "%s: .npy header lacks 'descr', 'fortran_order' or 'shape'", origin);
    if (!st) st = parse_descr(origin, descr, &out->dtype);
    if (!st && strncmp(fo, "False", 5))
        st = ck_fail(CK_ERR_UNSUPPORTED, "%s: fortran_order arrays are not supported; save with np.ascontiguousarray", origin);
    if (!st) st = parse_shape(origin, shape, &out->shape);
    ck_free(h);
    if (st) return st;
    int64_t n = 1;
    for (int i = 0; i < out->shape.rank; i++)
        if (!ck_mul_ok(n, out->shape.dim[i], &n)) return ck_fail(CK_ERR_OVERFLOW, "%s: array size overflows", origin);
    if (n > ((int64_t)1 << 40)) return ck_fail(CK_ERR_FORMAT, "%s: the header promises %lld elements", origin, (long long)n);
    *bytes = (size_t)n * dtype_bytes(out->dtype);
    return CK_OK;
}

static ck_status npy_parse(const unsigned char *buf, size_t len, const char *origin, ck_array *out)
{
    memset(out, 0, sizeof *out);
    size_t hstart, hlen, bytes;
    ck_status st = npy_preamble(buf, len, origin, &hstart, &hlen);
    if (st) return st;
    if (hlen > len - hstart) return ck_fail(CK_ERR_FORMAT, "%s: truncated .npy header", origin);
    if ((st = npy_header(buf, hstart, hlen, origin, out, &bytes))) return st;
    size_t body = len - hstart - hlen;
    if (body < bytes)
        return ck_fail(CK_ERR_FORMAT, "%s: data is %zu bytes, the header promises %zu", origin, body, bytes);
    out->data = ck_malloc(bytes ? bytes : 1);
    if (!out->data) return ck_fail(CK_ERR_NOMEM, "%s: out of memory for %zu bytes", origin, bytes);
    memcpy(out->data, buf + hstart + hlen, bytes);
    return CK_OK;
}

ck_status ck_npy_read(const char *path, ck_array *out)
{
    if (!path || !out) return ck_fail(CK_ERR_ARG, "ck_npy_read: NULL argument");
    char *data;
    size_t len;
    ck_status st = ck_read_file(path, &data, &len);
    if (st) {
        memset(out, 0, sizeof *out);
        return st;
    }
    st = npy_parse((const unsigned char *)data, len, path, out);
    ck_free(data);
    return st;
}

/* A version 1.0 file: header padded with spaces so the data starts at a multiple of 64. */
static ck_status npy_encode(const ck_array *a, unsigned char **out, size_t *out_len)
{
    if (a->shape.rank < 0 || a->shape.rank > CK_MAX_RANK || (!a->data && ck_array_size(a) > 0))
        return ck_fail(CK_ERR_ARG, "ck_npy_write: bad array");
    char dict[256], shape[200] = "(";
    for (int i = 0; i < a->shape.rank; i++) {
        size_t l = strlen(shape);
        snprintf(shape + l, sizeof shape - l, "%lld%s", (long long)a->shape.dim[i],
                 (a->shape.rank == 1 || i + 1 < a->shape.rank) ? ", " : "");
    }
    size_t l = strlen(shape);
    if (a->shape.rank == 1) shape[l - 1] = 0; /* numpy writes "(3,)" */
    strncat(shape, ")", sizeof shape - strlen(shape) - 1);
    int dl = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                      dtype_descr(a->dtype), shape);
    size_t total_header = 10 + (size_t)dl + 1;
    size_t pad = (64 - total_header % 64) % 64;
    size_t hlen = (size_t)dl + pad + 1;
    size_t bytes = (size_t)ck_array_size(a) * dtype_bytes(a->dtype);
    unsigned char *buf = ck_malloc(10 + hlen + bytes);
    if (!buf) return ck_fail(CK_ERR_NOMEM, "out of memory");
    memcpy(buf, NPY_MAGIC, 6);
    buf[6] = 1, buf[7] = 0, buf[8] = (unsigned char)(hlen & 0xff), buf[9] = (unsigned char)(hlen >> 8);
    memcpy(buf + 10, dict, (size_t)dl);
    memset(buf + 10 + dl, ' ', pad);
    buf[10 + hlen - 1] = '\n';
    if (bytes) memcpy(buf + 10 + hlen, a->data, bytes);
    *out = buf;
    *out_len = 10 + hlen + bytes;
    return CK_OK;
}

ck_status ck_npy_write(const char *path, const ck_array *a)
{
    if (!path || !a) return ck_fail(CK_ERR_ARG, "ck_npy_write: NULL argument");
    unsigned char *buf;
    size_t len;
    ck_status st = npy_encode(a, &buf, &len);
    if (st) return st;
    st = ck_write_file_atomic(path, buf, len);
    ck_free(buf);
    return st;
}

/* ---- .npz ------------------------------------------------------------------------------- */
void ck_npz_free(ck_npz *z)
{
    if (!z) return;
    for (int i = 0; i < z->n; i++) {
        ck_free(z->names[i]);
        ck_array_free(&z->arrays[i]);
    }
    ck_free(z->names);
    ck_free(z->arrays);
    memset(z, 0, sizeof *z);
}

static bool read_exact(zip_file_t *f, void *buf, size_t n)
{
    return n == 0 || zip_fread(f, buf, n) == (zip_int64_t)n;
}

/* One array: its header is inflated first, and the member may then hold no more
 * than the header implies (ck_zip_size_ok) before its data is inflated. */
static ck_status npz_array(zip_t *zf, const zip_stat_t *sb, const char *origin, ck_array *out)
{
    zip_file_t *f = zip_fopen_index(zf, sb->index, 0);
    if (!f) return ck_fail(CK_ERR_FORMAT, "%s: %s", origin, zip_strerror(zf));
    unsigned char pre[12] = {0}, *head = NULL;
    size_t hstart = 0, hlen = 0, bytes = 0, got = sb->size < 12 ? (size_t)sb->size : 12;
    ck_status st = read_exact(f, pre, got) ? npy_preamble(pre, got, origin, &hstart, &hlen)
                                           : ck_fail(CK_ERR_FORMAT, "%s: truncated member", origin);
    if (!st && (uint64_t)(hstart + hlen) > sb->size) st = ck_fail(CK_ERR_FORMAT, "%s: truncated .npy header", origin);
    /* the 12 bytes read ahead must lie within the header (a v1 header of under
     * 2 bytes would end inside them) */
    if (!st && hstart + hlen < got) st = ck_fail(CK_ERR_FORMAT, "%s: .npy header of %zu bytes is too short", origin, hlen);
    if (!st && !(head = ck_malloc(hstart + hlen))) st = CK_ERR_NOMEM;
    if (!st) {
        memcpy(head, pre, got);
        if (!read_exact(f, head + got, hstart + hlen - got)) st = ck_fail(CK_ERR_FORMAT, "%s: truncated member", origin);
    }
    if (!st) st = npy_header(head, hstart, hlen, origin, out, &bytes);
    ck_free(head);
    ck_limits lim;
    ck_get_limits(&lim);
    if (!st) {
        bool stored = (sb->valid & ZIP_STAT_COMP_METHOD) && sb->comp_method == ZIP_CM_STORE;
        st = ck_zip_size_ok(sb->size, sb->comp_size, stored, hstart + hlen + bytes, lim.inflate_max_bytes, origin, sb->name);
    }
    if (!st && sb->size < hstart + hlen + bytes)
        st = ck_fail(CK_ERR_FORMAT, "%s: data is %llu bytes, the header promises %zu", origin,
                     (unsigned long long)(sb->size - hstart - hlen), bytes);
    if (!st && !(out->data = ck_malloc(bytes ? bytes : 1))) st = CK_ERR_NOMEM;
    if (!st && !read_exact(f, out->data, bytes)) st = ck_fail(CK_ERR_FORMAT, "%s: truncated member", origin);
    zip_fclose(f);
    if (st) ck_array_free(out);
    return st;
}

static ck_status npz_member(zip_t *zf, zip_int64_t i, const char *path, ck_npz *z)
{
    zip_stat_t sb;
    if (zip_stat_index(zf, (zip_uint64_t)i, 0, &sb) || !(sb.valid & ZIP_STAT_SIZE) || !(sb.valid & ZIP_STAT_NAME) ||
        !(sb.valid & ZIP_STAT_COMP_SIZE) || !(sb.valid & ZIP_STAT_INDEX))
        return ck_fail(CK_ERR_FORMAT, "%s: cannot read member %lld", path, (long long)i);
    size_t nl = strlen(sb.name);
    char origin[1024];
    snprintf(origin, sizeof origin, "%s:%s", path, sb.name);
    if (nl < 4 || strcmp(sb.name + nl - 4, ".npy"))
        return ck_fail(CK_ERR_FORMAT, "%s: npz member is not a .npy file", origin);
    ck_status st = npz_array(zf, &sb, origin, &z->arrays[z->n]);
    if (st) return st;
    z->names[z->n] = ck_malloc(nl - 3);
    if (!z->names[z->n]) {
        ck_array_free(&z->arrays[z->n]);
        return ck_fail(CK_ERR_NOMEM, "out of memory");
    }
    memcpy(z->names[z->n], sb.name, nl - 4);
    z->names[z->n][nl - 4] = 0;
    z->n++;
    return CK_OK;
}

ck_status ck_npz_read(const char *path, ck_npz *out)
{
    if (!path || !out) return ck_fail(CK_ERR_ARG, "ck_npz_read: NULL argument");
    memset(out, 0, sizeof *out);
    int err = 0;
    zip_t *zf = zip_open(path, ZIP_RDONLY, &err);
    if (!zf) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, err);
        ck_status st = ck_fail(err == ZIP_ER_NOENT || err == ZIP_ER_OPEN ? CK_ERR_IO : CK_ERR_FORMAT,
                               "%s: cannot open as .npz: %s", path, zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return st;
    }
    zip_int64_t n = zip_get_num_entries(zf, 0);
    ck_status st = CK_OK;
    if (n < 0 || n > 100000) st = ck_fail(CK_ERR_FORMAT, "%s: bad number of npz members", path);
    if (!st) {
        out->names = ck_calloc((size_t)n + 1, sizeof *out->names);
        out->arrays = ck_calloc((size_t)n + 1, sizeof *out->arrays);
        if (!out->names || !out->arrays) st = ck_fail(CK_ERR_NOMEM, "out of memory");
    }
    for (zip_int64_t i = 0; !st && i < n; i++) st = npz_member(zf, i, path, out);
    zip_discard(zf);
    if (st) ck_npz_free(out);
    return st;
}

ck_status ck_npz_write(const char *path, const char *const *names, const ck_array *arrays, int n)
{
    if (!path || (n > 0 && !arrays) || n < 0) return ck_fail(CK_ERR_ARG, "ck_npz_write: bad argument");
    unsigned char **bufs = ck_calloc((size_t)n + 1, sizeof *bufs);
    char **member = ck_calloc((size_t)n + 1, sizeof *member);
    size_t *lens = ck_calloc((size_t)n + 1, sizeof *lens);
    ck_status st = bufs && member && lens ? CK_OK : ck_fail(CK_ERR_NOMEM, "out of memory");
    for (int i = 0; !st && i < n; i++) {
        if (!(member[i] = ck_malloc(300))) st = CK_ERR_NOMEM;
        else if (names) snprintf(member[i], 300, "%s.npy", names[i]);
        else snprintf(member[i], 300, "arr_%d.npy", i);
        if (!st) st = npy_encode(&arrays[i], &bufs[i], &lens[i]);
    }
    if (!st) st = ck_write_zip_atomic(path, (const char *const *)member, (const void *const *)bufs, lens, n, true);
    for (int i = 0; i < n; i++) {
        if (bufs) ck_free(bufs[i]);
        if (member) ck_free(member[i]);
    }
    ck_free(bufs);
    ck_free(member);
    ck_free(lens);
    return st;
}
