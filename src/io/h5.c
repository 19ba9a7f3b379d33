/* libhdf5 helpers for the Keras readers and writers (see h5.h). HDF5 prints its
 * error stack to stderr by default; the library must never print, so every entry
 * point silences it and turns failures into ck_fail messages naming the file. */
#include "io/h5.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

/* File access that closes every object still open in a file when the file is
 * closed: an error path that misses an H5Gclose then leaks nothing, and the
 * next in-memory file of the same name starts afresh. */
static hid_t strong_close_fapl(void)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0 && H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0) {
        H5Pclose(fapl);
        return -1;
    }
    return fapl;
}

/* The core driver keys open files by name: one per in-memory file of the process. */
static void memory_name(char *name, size_t cap, const char *kind)
{
    static atomic_uint_fast64_t serial;
    snprintf(name, cap, "ckeras-%s-%ld-%llu", kind, (long)getpid(), (unsigned long long)++serial);
}

/* libhdf5 1.10 does not survive a failed allocation: its set-up and its API
 * context (H5CX_push, H5CX_pop) use what they could not allocate, a SIGSEGV
 * under `ulimit -v`. So under an address-space limit every way into libhdf5
 * first checks that the limit leaves it room: a working margin (a model's
 * save or load maps about 2 MiB) plus what the data itself needs. */
#define H5_MARGIN ((size_t)16 << 20)

static ck_status h5_room(size_t data_bytes, const char *origin)
{
    size_t need = H5_MARGIN + data_bytes;
    if (ck_address_room(need)) return CK_OK;
    return ck_fail(CK_ERR_NOMEM, "%s%sout of memory: the address-space limit leaves libhdf5 less than the %zu MiB it needs",
                   origin ? origin : "", origin ? ": " : "", (need + ((size_t)1 << 20) - 1) >> 20);
}

hid_t ck_h5_open_unchecked(const char *path, const void *image, size_t len)
{
    quiet();
    hid_t fapl = strong_close_fapl(), file = -1;
    char name[96];
    if (!image) {
        if (fapl >= 0) file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    } else {
        memory_name(name, sizeof name, "image");
        if (fapl >= 0 && H5Pset_fapl_core(fapl, 1 << 16, 0) >= 0 && H5Pset_file_image(fapl, (void *)image, len) >= 0)
            file = H5Fopen(name, H5F_ACC_RDONLY, fapl);
    }
    if (fapl >= 0) H5Pclose(fapl);
    return file;
}

ck_status ck_h5_open(const char *path, hid_t *file)
{
    *file = -1;
    ck_status st = h5_room(0, path);
    if (!st) st = ck_h5_check(path, NULL, 0, path);
    if (st) return st;
    *file = ck_h5_open_unchecked(path, NULL, 0);
    if (*file < 0) return ck_fail(CK_ERR_FORMAT, "%s: not a readable HDF5 file", path);
    return CK_OK;
}

ck_status ck_h5_open_image(const void *data, size_t len, const char *origin, hid_t *file)
{
    *file = -1;
    ck_status st = h5_room(2 * len, origin); /* the core driver keeps a copy */
    if (!st) st = ck_h5_check(NULL, data, len, origin);
    if (st) return st;
    *file = ck_h5_open_unchecked(NULL, data, len);
    if (*file < 0) return ck_fail(CK_ERR_FORMAT, "%s: not a readable HDF5 file", origin);
    return CK_OK;
}

ck_status ck_h5_write_failed(const char *fmt, ...)
{
    bool nomem = errno == ENOMEM;
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return nomem ? ck_fail(CK_ERR_NOMEM, "%s: out of memory", what) : ck_fail(CK_ERR_IO, "%s", what);
}

ck_status ck_h5_create_memory(hid_t *file)
{
    *file = -1;
    if (h5_room(0, NULL)) return CK_ERR_NOMEM;
    quiet();
    errno = 0;
    hid_t fapl = strong_close_fapl();
    char name[96];
    memory_name(name, sizeof name, "new");
    *file = -1;
    if (fapl >= 0 && H5Pset_fapl_core(fapl, 1 << 16, 0) >= 0)
        *file = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (fapl >= 0) H5Pclose(fapl);
    if (*file < 0) return ck_h5_write_failed("cannot create an HDF5 file in memory");
    return CK_OK;
}

ck_status ck_h5_image(hid_t file, void **data, size_t *len)
{
    if (H5Fflush(file, H5F_SCOPE_GLOBAL) < 0) return ck_h5_write_failed("HDF5 flush failed");
    ssize_t n = H5Fget_file_image(file, NULL, 0);
    if (n <= 0) return ck_h5_write_failed("HDF5 file image unavailable");
    void *buf = ck_malloc((size_t)n);
    if (!buf) return CK_ERR_NOMEM;
    if (H5Fget_file_image(file, buf, (size_t)n) != n) {
        ck_free(buf);
        return ck_h5_write_failed("HDF5 file image unavailable");
    }
    *data = buf;
    *len = (size_t)n;
    return CK_OK;
}

bool ck_h5_exists(hid_t loc, const char *path)
{
    quiet();
    /* H5Lexists needs every parent to exist: check each prefix in turn. */
    char buf[1024];
    size_t n = strlen(path);
    if (n >= sizeof buf) return false;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        htri_t e = H5Lexists(loc, buf, H5P_DEFAULT);
        buf[i] = c;
        if (e <= 0) return false;
    }
    return true;
}

bool ck_h5_has_attr(hid_t loc, const char *name)
{
    quiet();
    return H5Aexists(loc, name) > 0;
}

/* Reads every string element of an open attribute. */
/* Bytes in the file that holds `obj`: no stored array can be larger, which stops a
 * damaged count (say 16 million strings in a 25 kB file) from costing minutes. */
static hsize_t file_size_of(hid_t obj)
{
    hid_t f = H5Iget_file_id(obj);
    hsize_t size = 0;
    if (f < 0 || H5Fget_filesize(f, &size) < 0) size = 0;
    if (f >= 0) H5Fclose(f);
    return size;
}

static ck_status read_attr_strings(hid_t a, const char *name, const char *origin, char ***out, int *n)
{
    hid_t type = H5Aget_type(a), space = H5Aget_space(a);
    ck_status st = CK_OK;
    hssize_t count = H5Sget_simple_extent_npoints(space);
    H5T_class_t cls = H5Tget_class(type);
    *out = NULL;
    *n = 0;
    /* A stored string takes at least 16 bytes (a variable-length string's heap
     * reference) or its fixed width. */
    size_t each = H5Tis_variable_str(type) > 0 ? 16 : H5Tget_size(type);
    if (count < 0 || count > (1 << 24)) {
        st = ck_fail(CK_ERR_FORMAT, "%s: attribute '%s' is unreadable", origin, name);
    } else if (cls == H5T_STRING && (hsize_t)count * (each ? each : 1) > file_size_of(a)) {
        st = ck_fail(CK_ERR_FORMAT, "%s: attribute '%s' claims %lld strings, more than the file can hold", origin, name,
                     (long long)count);
    } else if (cls != H5T_STRING) {
        /* h5py stores an empty list as an empty float64 array. */
        if (count != 0) st = ck_fail(CK_ERR_FORMAT, "%s: attribute '%s' is not text", origin, name);
    } else if (count > 0) {
        char **s = ck_calloc((size_t)count, sizeof *s);
        if (!s) st = CK_ERR_NOMEM;
        else if (H5Tis_variable_str(type) > 0) {
            hid_t mt = H5Tcopy(H5T_C_S1);
            H5Tset_size(mt, H5T_VARIABLE);
            /* HDF5 will not convert between ASCII and UTF-8: read as stored. */
            H5Tset_cset(mt, H5Tget_cset(type));
            char **tmp = ck_calloc((size_t)count, sizeof *tmp);
            bool read = tmp && H5Aread(a, mt, tmp) >= 0;
            if (!read) st = tmp ? ck_fail(CK_ERR_FORMAT, "%s: attribute '%s' is unreadable", origin, name) : CK_ERR_NOMEM;
            for (hssize_t i = 0; !st && i < count; i++)
                if (!(s[i] = ck_strdup(tmp[i] ? tmp[i] : ""))) st = CK_ERR_NOMEM;
            /* libhdf5's strings go back to it even when a copy failed */
            if (read) H5Dvlen_reclaim(mt, space, H5P_DEFAULT, tmp);
            ck_free(tmp);
            H5Tclose(mt);
        } else {
            size_t w = H5Tget_size(type);
            char *raw = w > 0 && w < (1u << 24) ? ck_calloc((size_t)count, w) : NULL;
            hid_t mt = H5Tcopy(type);
            if (!raw || H5Aread(a, mt, raw) < 0) st = ck_fail(CK_ERR_FORMAT, "%s: attribute '%s' is unreadable", origin, name);
            for (hssize_t i = 0; !st && i < count; i++) {
                const char *e = raw + (size_t)i * w;
                size_t len = strnlen(e, w);
                if (!(s[i] = ck_malloc(len + 1))) st = CK_ERR_NOMEM;
                else {
                    memcpy(s[i], e, len);
                    s[i][len] = '\0';
                }
            }
            ck_free(raw);
            H5Tclose(mt);
        }
        if (st) ck_h5_free_strings(s, (int)count);
        else {
            *out = s;
            *n = (int)count;
        }
    }
    H5Tclose(type);
    H5Sclose(space);
    return st;
}

static ck_status attr_strings_one(hid_t loc, const char *name, const char *origin, char ***out, int *n)
{
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0) return ck_fail(CK_ERR_FORMAT, "%s: attribute '%s' is missing", origin, name);
    ck_status st = read_attr_strings(a, name, origin, out, n);
    H5Aclose(a);
    return st;
}

ck_status ck_h5_attr_string(hid_t loc, const char *name, const char *origin, char **out)
{
    quiet();
    char **s;
    int n;
    ck_status st = attr_strings_one(loc, name, origin, &s, &n);
    if (st) return st;
    if (n != 1) {
        ck_h5_free_strings(s, n);
        return ck_fail(CK_ERR_FORMAT, "%s: attribute '%s' is not one string", origin, name);
    }
    *out = s[0];
    ck_free(s);
    return CK_OK;
}

ck_status ck_h5_attr_strings(hid_t loc, const char *name, const char *origin, char ***out, int *n)
{
    quiet();
    if (H5Aexists(loc, name) > 0) return attr_strings_one(loc, name, origin, out, n);
    /* Keras splits attributes over 64 KB into name0, name1, ... */
    char part[256];
    snprintf(part, sizeof part, "%s0", name);
    if (H5Aexists(loc, part) <= 0) return ck_fail(CK_ERR_FORMAT, "%s: attribute '%s' is missing", origin, name);
    char **all = NULL;
    int total = 0, cap = 0;
    ck_status st = CK_OK;
    for (int k = 0; !st; k++) {
        snprintf(part, sizeof part, "%s%d", name, k);
        if (H5Aexists(loc, part) <= 0) break;
        char **s;
        int m;
        if ((st = attr_strings_one(loc, part, origin, &s, &m))) break;
        if ((st = ck_grow((void **)&all, &cap, total + m, sizeof *all))) {
            ck_h5_free_strings(s, m);
            break;
        }
        memcpy(all + total, s, (size_t)m * sizeof *s);
        total += m;
        ck_free(s);
    }
    if (st) {
        ck_h5_free_strings(all, total);
        return st;
    }
    *out = all;
    *n = total;
    return CK_OK;
}

void ck_h5_free_strings(char **s, int n)
{
    for (int i = 0; s && i < n; i++) ck_free(s[i]);
    ck_free(s);
}

/* h5py stores ml_dtypes' bfloat16 (Keras's bfloat16 variables) as a 2-byte
 * opaque type without a tag: the top half of a float32. */
static bool is_bfloat16(hid_t type)
{
    return H5Tget_class(type) == H5T_OPAQUE && H5Tget_size(type) == 2;
}

static herr_t read_bfloat16(hid_t d, hid_t type, float *out, int64_t n)
{
    /* read the halves into the top of out's second half, then widen upwards in place */
    uint16_t *half = (uint16_t *)(void *)(out + n) - n;
    herr_t e = H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, half);
    for (int64_t i = 0; e >= 0 && i < n; i++) {
        uint32_t u = (uint32_t)half[i] << 16;
        memcpy(&out[i], &u, sizeof u);
    }
    return e;
}

ck_status ck_h5_dataset_shape(hid_t loc, const char *path, const char *origin, ck_shape *shape, int64_t *size)
{
    quiet();
    if (!ck_h5_exists(loc, path)) return ck_fail(CK_ERR_FORMAT, "%s: dataset '%s' is missing", origin, path);
    hid_t d = H5Dopen2(loc, path, H5P_DEFAULT);
    if (d < 0) return ck_fail(CK_ERR_FORMAT, "%s: '%s' is not a dataset", origin, path);
    hid_t type = H5Dget_type(d), space = H5Dget_space(d);
    H5T_class_t cls = H5Tget_class(type);
    int rank = H5Sget_simple_extent_ndims(space);
    ck_status st = CK_OK;
    if (cls != H5T_FLOAT && cls != H5T_INTEGER && !is_bfloat16(type)) {
        st = ck_fail(CK_ERR_FORMAT, "%s: dataset '%s' holds %s, not numbers", origin, path,
                     cls == H5T_STRING ? "text" : "a non-numeric type");
    } else if (rank < 0 || rank > CK_MAX_RANK) {
        st = ck_fail(CK_ERR_FORMAT, "%s: dataset '%s' has rank %d (at most %d)", origin, path, rank, CK_MAX_RANK);
    } else {
        hsize_t dims[CK_MAX_RANK];
        H5Sget_simple_extent_dims(space, dims, NULL);
        shape->rank = rank;
        int64_t n = 1;
        for (int i = 0; i < rank && !st; i++) {
            shape->dim[i] = (int64_t)dims[i];
            if (dims[i] > (hsize_t)INT64_MAX || !ck_mul_ok(n, (int64_t)dims[i], &n))
                st = ck_fail(CK_ERR_OVERFLOW, "%s: dataset '%s' is too large", origin, path);
        }
        if (!st) *size = n;
    }
    H5Tclose(type);
    H5Sclose(space);
    H5Dclose(d);
    return st;
}

ck_status ck_h5_read_floats(hid_t loc, const char *path, const char *origin, float *out, int64_t size)
{
    ck_shape s;
    int64_t n;
    ck_status st = ck_h5_dataset_shape(loc, path, origin, &s, &n);
    if (st) return st;
    if (n != size) return ck_fail(CK_ERR_SHAPE, "%s: dataset '%s' has %lld values, expected %lld", origin, path, (long long)n, (long long)size);
    if (n == 0) return CK_OK;
    hid_t d = H5Dopen2(loc, path, H5P_DEFAULT), type = H5Dget_type(d);
    herr_t e = is_bfloat16(type) ? read_bfloat16(d, type, out, n)
                                 : H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out);
    H5Tclose(type);
    H5Dclose(d);
    if (e < 0) return ck_fail(CK_ERR_FORMAT, "%s: dataset '%s' could not be read", origin, path);
    return CK_OK;
}

/* The file type h5py gives numpy's float16 (IEEE binary16), or ml_dtypes'
 * bfloat16 (a 2-byte opaque type without a tag, which is what the reader
 * above recognises); float32 for the rest. */
static hid_t file_type_of(ck_half half)
{
    if (half == CK_HALF_BFLOAT16) return H5Tcreate(H5T_OPAQUE, 2);
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    if (half == CK_HALF_FLOAT16 && t >= 0 &&
        (H5Tset_fields(t, 15, 10, 5, 0, 10) < 0 || H5Tset_size(t, 2) < 0 || H5Tset_ebias(t, 15) < 0)) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

ck_status ck_h5_write_floats(hid_t loc, const char *name, const ck_shape *shape, const float *data, ck_half half)
{
    int64_t n = 1;
    for (int i = 0; i < shape->rank; i++) n *= shape->dim[i];
    /* the dataset, the in-memory file growing around it, and its copy out */
    if (h5_room(3 * (size_t)n * sizeof(float), NULL)) return ck_fail_prefix(CK_ERR_NOMEM, "dataset '%s': ", name);
    /* half values go in as their bits, rounded here rather than by libhdf5's conversion */
    uint16_t *bits = half ? ck_malloc((size_t)(n ? n : 1) * sizeof *bits) : NULL;
    if (half && !bits) return CK_ERR_NOMEM;
    if (bits) ck_pack_half(half, data, bits, n);
    hsize_t dims[CK_MAX_RANK];
    for (int i = 0; i < shape->rank; i++) dims[i] = (hsize_t)shape->dim[i];
    hid_t space = shape->rank ? H5Screate_simple(shape->rank, dims, NULL) : H5Screate(H5S_SCALAR);
    hid_t type = file_type_of(half);
    hid_t d = type < 0 ? -1 : H5Dcreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = d < 0 ? -1
             : bits ? H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, bits)
                    : H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    if (d >= 0) H5Dclose(d);
    if (type >= 0) H5Tclose(type);
    H5Sclose(space);
    ck_free(bits);
    return e < 0 ? ck_h5_write_failed("cannot write HDF5 dataset '%s'", name) : CK_OK;
}

ck_status ck_h5_set_attr_string(hid_t loc, const char *name, const char *value)
{
    /* h5py writes Python str attributes as variable-length UTF-8 scalars. */
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = a < 0 ? -1 : H5Awrite(a, type, &value);
    if (a >= 0) H5Aclose(a);
    H5Sclose(space);
    H5Tclose(type);
    return e < 0 ? ck_h5_write_failed("cannot write HDF5 attribute '%s'", name) : CK_OK;
}

ck_status ck_h5_set_attr_strings(hid_t loc, const char *name, const char *const *values, int n)
{
    size_t w = 1;
    for (int i = 0; i < n; i++)
        if (strlen(values[i]) > w) w = strlen(values[i]);
    char *raw = ck_calloc((size_t)(n ? n : 1), w);
    if (!raw) return CK_ERR_NOMEM;
    for (int i = 0; i < n; i++) memcpy(raw + (size_t)i * w, values[i], strlen(values[i]));
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, w);
    H5Tset_strpad(type, H5T_STR_NULLPAD);
    hsize_t dim = (hsize_t)n;
    hid_t space = H5Screate_simple(1, &dim, NULL);
    hid_t a = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = a < 0 ? -1 : H5Awrite(a, type, raw);
    if (a >= 0) H5Aclose(a);
    H5Sclose(space);
    H5Tclose(type);
    ck_free(raw);
    return e < 0 ? ck_h5_write_failed("cannot write HDF5 attribute '%s'", name) : CK_OK;
}

hid_t ck_h5_group(hid_t loc, const char *path)
{
    quiet();
    if (ck_h5_exists(loc, path)) return H5Gopen2(loc, path, H5P_DEFAULT);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t g = H5Gcreate2(loc, path, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(lcpl);
    return g;
}
