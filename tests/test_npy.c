/* .npy/.npz reading and writing against files numpy wrote (tests/golden/npy/,
 * made by tests/oracle/npy_cases.py): every supported dtype with its values, the
 * files ckeras must refuse with a message naming the file and the problem, and
 * byte-identical output of ck_npy_write for what numpy.save wrote. */
#include "testutil.h"

#include <jansson.h>
#include <unistd.h>

static const char *dtype_name(ck_dtype d)
{
    switch (d) {
    case CK_FLOAT32: return "float32";
    case CK_FLOAT64: return "float64";
    case CK_INT32: return "int32";
    case CK_INT64: return "int64";
    default: return "uint8";
    }
}

static void check_values(const char *name, ck_array *a, json_t *want)
{
    CHECK(!strcmp(dtype_name(a->dtype), json_string_value(json_object_get(want, "dtype"))), "%s: dtype %s", name,
          dtype_name(a->dtype));
    json_t *shape = json_object_get(want, "shape"), *values = json_object_get(want, "values");
    CHECK(a->shape.rank == (int)json_array_size(shape), "%s: rank %d", name, a->shape.rank);
    for (int i = 0; i < a->shape.rank && i < (int)json_array_size(shape); i++)
        CHECK(a->shape.dim[i] == json_integer_value(json_array_get(shape, (size_t)i)), "%s: dim %d", name, i);
    CHECK(ck_array_size(a) == (int64_t)json_array_size(values), "%s: size %lld", name, (long long)ck_array_size(a));
    ck_dtype orig = a->dtype;
    int64_t i64 = a->dtype == CK_INT64 ? ((int64_t *)a->data)[3 % (ck_array_size(a) ? ck_array_size(a) : 1)] : 0;
    CHECK_OK(ck_array_to_float32(a));
    for (size_t i = 0; i < json_array_size(values) && (int64_t)i < ck_array_size(a); i++) {
        double w = json_number_value(json_array_get(values, i));
        CHECK(((float *)a->data)[i] == (float)w, "%s[%zu]: %g vs %g", name, i, ((float *)a->data)[i], w);
    }
    if (orig == CK_INT64) CHECK(i64 == ((int64_t)1 << 40), "%s: int64 read exactly (%lld)", name, (long long)i64);
}

/* Writing back what we read must give numpy's own bytes. */
static void check_roundtrip(const char *name, const char *path)
{
    ck_array a;
    if (ck_npy_read(path, &a)) return;
    char out[256];
    snprintf(out, sizeof out, "/tmp/ckeras_test_npy_%d_%s.npy", (int)getpid(), name);
    CHECK_OK(ck_npy_write(out, &a));
    size_t la, lb;
    char *x = test_read_file(path, &la), *y = test_read_file(out, &lb);
    CHECK(x && y && la == lb && !memcmp(x, y, la), "%s: ck_npy_write differs from numpy.save (%zu vs %zu bytes)", name,
          la, lb);
    free(x);
    free(y);
    remove(out);
    ck_array_free(&a);
}

int main(void)
{
    char path[1024];
    json_error_t jerr;
    json_t *man = json_load_file(test_path(path, sizeof path, "tests/golden/npy/manifest.json"), 0, &jerr);
    CHECK(man != NULL, "manifest: %s", jerr.text);
    if (!man) return test_report("test_npy");
    const char *name;
    json_t *v;
    json_object_foreach(json_object_get(man, "good"), name, v) {
        ck_array a;
        test_path(path, sizeof path, "tests/golden/npy/%s.npy", name);
        ck_status st = ck_npy_read(path, &a);
        CHECK(st == CK_OK, "%s: %s", name, ck_errmsg());
        if (st) continue;
        check_values(name, &a, v);
        ck_array_free(&a);
        if (strcmp(name, "v2")) check_roundtrip(name, path);
    }
    json_object_foreach(json_object_get(man, "bad"), name, v) {
        ck_array a;
        test_path(path, sizeof path, "tests/golden/npy/%s.npy", name);
        ck_status st = ck_npy_read(path, &a);
        CHECK(st != CK_OK, "%s: accepted", name);
        CHECK(strstr(ck_errmsg(), json_string_value(v)) && strstr(ck_errmsg(), name), "%s: message '%s'", name,
              ck_errmsg());
        CHECK(a.data == NULL, "%s: data left allocated", name);
    }
    ck_array a;
    CHECK(ck_npy_read(test_path(path, sizeof path, "tests/golden/npy/missing.npy"), &a) == CK_ERR_IO, "missing file");
    CHECK(strstr(ck_errmsg(), "missing.npy") != NULL, "missing file message: %s", ck_errmsg());

    /* npz: members in file order, names without .npy, values as the .npy files. */
    json_object_foreach(json_object_get(man, "npz"), name, v) {
        ck_npz z;
        test_path(path, sizeof path, "tests/golden/npy/%s.npz", name);
        ck_status st = ck_npz_read(path, &z);
        CHECK(st == CK_OK, "%s.npz: %s", name, ck_errmsg());
        if (st) continue;
        CHECK(z.n == (int)json_array_size(v), "%s.npz: %d members", name, z.n);
        for (int i = 0; i < z.n && i < (int)json_array_size(v); i++) {
            char want[64];
            snprintf(want, sizeof want, "%s", json_string_value(json_array_get(v, (size_t)i)));
            char *colon = strchr(want, ':');
            *colon = 0;
            CHECK(!strcmp(z.names[i], want), "%s.npz member %d is '%s', want '%s'", name, i, z.names[i], want);
            check_values(want, &z.arrays[i], json_object_get(json_object_get(man, "good"), colon + 1));
        }
        /* Round trip through ck_npz_write. */
        char out[256];
        snprintf(out, sizeof out, "/tmp/ckeras_test_npz_%d_%s.npz", (int)getpid(), name);
        CHECK_OK(ck_npz_write(out, (const char *const *)z.names, z.arrays, z.n));
        ck_npz back;
        CHECK_OK(ck_npz_read(out, &back));
        CHECK(back.n == z.n, "%s: round trip members", name);
        for (int i = 0; i < back.n && i < z.n; i++) {
            CHECK(!strcmp(back.names[i], z.names[i]), "round trip name %d", i);
            CHECK(!memcmp(back.arrays[i].data, z.arrays[i].data, (size_t)ck_array_size(&z.arrays[i]) * 4),
                  "round trip data %d", i);
        }
        ck_npz_free(&back);
        ck_npz_free(&z);
        remove(out);
    }
    ck_npz z;
    CHECK(ck_npz_read(test_path(path, sizeof path, "tests/golden/npy/f32.npy"), &z) != CK_OK, "npy as npz");
    CHECK(strstr(ck_errmsg(), "f32.npy") != NULL, "npz message names the file: %s", ck_errmsg());
    json_decref(man);
    return test_report("test_npy");
}
