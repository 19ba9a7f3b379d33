/* The HDF5 layout of a file ckeras wrote against the one Keras wrote
 * (layout.json of tests/oracle/matrix_cases.py's layouts(): every group and
 * dataset path, dataset shape and dtype, attribute name, type and value). */
#include "h5_layout.h"
#include "testutil.h"

#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

/* Each object of an HDF5 file as layout.json records it: path, kind, shape and
 * dtype of datasets, attributes (name, type, value) sorted by name. */
static json_t *string_value(hid_t attr, hid_t type, hssize_t n, bool scalar)
{
    json_t *list = json_array();
    if (H5Tis_variable_str(type) > 0) {
        char **buf = calloc((size_t)n + 1, sizeof *buf);
        hid_t mem = H5Tcopy(H5T_C_S1);
        H5Tset_size(mem, H5T_VARIABLE);
        /* the file's character set (h5py's UTF-8): HDF5 converts no string
         * from one set to another */
        H5Tset_cset(mem, H5Tget_cset(type));
        if (H5Aread(attr, mem, buf) >= 0)
            for (hssize_t i = 0; i < n; i++) json_array_append_new(list, json_string(buf[i] ? buf[i] : ""));
        for (hssize_t i = 0; i < n; i++) H5free_memory(buf[i]);
        H5Tclose(mem);
        free(buf);
    } else {
        size_t size = H5Tget_size(type);
        char *buf = calloc((size_t)n * size + 1, 1), *one = calloc(size + 1, 1);
        if (H5Aread(attr, type, buf) >= 0)
            for (hssize_t i = 0; i < n; i++) {
                memcpy(one, buf + (size_t)i * size, size);
                json_array_append_new(list, json_string(one));
            }
        free(buf);
        free(one);
    }
    if (!scalar) return list;
    json_t *v = json_incref(json_array_get(list, 0));
    json_decref(list);
    return v ? v : json_string("");
}

static herr_t attr_entry(hid_t obj, const char *name, const H5A_info_t *info, void *data)
{
    (void)info;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT), t = H5Aget_type(a), sp = H5Aget_space(a);
    int rank = H5Sget_simple_extent_ndims(sp);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    json_t *value = NULL;
    char type[64];
    if (H5Tget_class(t) == H5T_STRING) {
        snprintf(type, sizeof type, "%s", rank == 0 ? "string" : "array:string");
        value = string_value(a, t, n, rank == 0);
    } else {
        bool is_float = H5Tget_class(t) == H5T_FLOAT;
        snprintf(type, sizeof type, "%s%s%zu", rank == 0 ? "" : "array:", is_float ? "float" : "int", 8 * H5Tget_size(t));
        double *buf = calloc((size_t)n + 1, sizeof *buf);
        value = json_array();
        if (H5Aread(a, H5T_NATIVE_DOUBLE, buf) >= 0)
            for (hssize_t i = 0; i < n; i++) json_array_append_new(value, json_real(buf[i]));
        free(buf);
    }
    json_array_append_new(data, json_pack("{s:s, s:s, s:o}", "name", name, "type", type, "value", value));
    H5Sclose(sp);
    H5Tclose(t);
    H5Aclose(a);
    return 0;
}

static json_t *object_entry(hid_t file, const char *path)
{
    hid_t o = H5Oopen(file, path, H5P_DEFAULT);
    if (o < 0) return NULL;
    json_t *attrs = json_array(), *e = json_pack("{s:s}", "path", path);
    H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_INC, NULL, attr_entry, attrs);
    if (H5Iget_type(o) == H5I_DATASET) {
        hid_t sp = H5Dget_space(o), t = H5Dget_type(o);
        hsize_t dims[16];
        int rank = H5Sget_simple_extent_dims(sp, dims, NULL);
        json_t *shape = json_array();
        for (int i = 0; i < rank; i++) json_array_append_new(shape, json_integer((json_int_t)dims[i]));
        char dtype[32];
        H5T_class_t cls = H5Tget_class(t);
        if (cls == H5T_OPAQUE) /* h5py's bfloat16 (ml_dtypes): numpy names it |V2 */
            snprintf(dtype, sizeof dtype, "|V%zu", H5Tget_size(t));
        else
            snprintf(dtype, sizeof dtype, "%s%zu", cls == H5T_FLOAT ? "float" : "int", 8 * H5Tget_size(t));
        json_object_set_new(e, "kind", json_string("dataset"));
        json_object_set_new(e, "shape", shape);
        json_object_set_new(e, "dtype", json_string(dtype));
        H5Tclose(t);
        H5Sclose(sp);
    } else {
        json_object_set_new(e, "kind", json_string("group"));
    }
    json_object_set_new(e, "attrs", attrs);
    H5Oclose(o);
    return e;
}

static herr_t link_entry(hid_t group, const char *name, const H5L_info_t *info, void *data)
{
    (void)info;
    json_t *e = object_entry(group, name);
    if (e) json_array_append_new(data, e);
    return 0;
}

json_t *test_h5_layout(const char *path)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return NULL;
    json_t *out = json_array(), *root = object_entry(f, "/");
    if (root) json_array_append_new(out, root);
    H5Lvisit(f, H5_INDEX_NAME, H5_ITER_INC, link_entry, out);
    H5Fclose(f);
    return out;
}

/* model.weights.h5 of a .keras archive, copied out to `out`. */
bool test_extract_weights(const char *archive, const char *out)
{
    int err = 0;
    zip_t *z = zip_open(archive, ZIP_RDONLY, &err);
    zip_stat_t zs;
    bool ok = z && zip_stat(z, "model.weights.h5", 0, &zs) == 0;
    char *buf = ok ? malloc(zs.size + 1) : NULL;
    zip_file_t *zf = ok ? zip_fopen(z, "model.weights.h5", 0) : NULL;
    ok = zf && zip_fread(zf, buf, zs.size) == (zip_int64_t)zs.size;
    if (zf) zip_fclose(zf);
    if (z) zip_close(z);
    FILE *fp = ok ? fopen(out, "wb") : NULL;
    ok = fp && fwrite(buf, 1, zs.size, fp) == zs.size;
    if (fp) fclose(fp);
    free(buf);
    return ok;
}

/* The members of a .keras archive, in order, against Keras's. */
void test_check_members(const char *archive, json_t *keras, const char *what)
{
    int err = 0;
    zip_t *z = zip_open(archive, ZIP_RDONLY, &err);
    zip_int64_t n = z ? zip_get_num_entries(z, 0) : -1;
    CHECK(n == (zip_int64_t)json_array_size(keras), "%s: %lld archive members, Keras's %zu", what, (long long)n,
          json_array_size(keras));
    for (zip_int64_t i = 0; i < n && (size_t)i < json_array_size(keras); i++) {
        const char *name = zip_get_name(z, (zip_uint64_t)i, 0), *want = json_string_value(json_array_get(keras, (size_t)i));
        CHECK(name && want && !strcmp(name, want), "%s: archive member %lld is '%s', Keras's '%s'", what, (long long)i,
              name ? name : "?", want ? want : "?");
    }
    if (z) zip_close(z);
}

static json_t *find_entry(json_t *layout, const char *path)
{
    size_t i;
    json_t *e;
    json_array_foreach(layout, i, e) if (!strcmp(json_string_value(json_object_get(e, "path")), path)) return e;
    return NULL;
}

/* Attribute values that are JSON text (model_config, training_config) compare as
 * JSON values. */
static bool same_attr_value(const char *name, json_t *ours, json_t *keras)
{
    bool is_json = !strcmp(name, "model_config") || !strcmp(name, "training_config");
    if (!is_json || !json_is_string(ours) || !json_is_string(keras)) return json_equal(ours, keras);
    json_t *a = json_loads(json_string_value(ours), 0, NULL), *b = json_loads(json_string_value(keras), 0, NULL);
    bool same = a && b && json_equal(a, b);
    json_decref(a);
    json_decref(b);
    return same;
}

static void compare_entry(json_t *ours, json_t *keras, const char *what)
{
    const char *path = json_string_value(json_object_get(keras, "path"));
    static const char *const keys[] = {"kind", "shape", "dtype"};
    for (int k = 0; k < 3; k++) {
        json_t *a = json_object_get(ours, keys[k]), *b = json_object_get(keras, keys[k]);
        if (b && !strcmp(keys[k], "dtype") && !strcmp(json_string_value(b), "float32")) b = json_string("float32");
        else json_incref(b);
        if (a && !strcmp(keys[k], "dtype")) a = json_string(strcmp(json_string_value(a), "float32") ? json_string_value(a) : "float32");
        else json_incref(a);
        char *sa = a ? json_dumps(a, JSON_ENCODE_ANY) : NULL, *sb = b ? json_dumps(b, JSON_ENCODE_ANY) : NULL;
        CHECK((!a && !b) || (a && b && json_equal(a, b)), "%s: '%s' %s is %s, Keras's %s", what, path, keys[k],
              sa ? sa : "absent", sb ? sb : "absent");
        free(sa);
        free(sb);
        json_decref(a);
        json_decref(b);
    }
    json_t *oa = json_object_get(ours, "attrs"), *ka = json_object_get(keras, "attrs");
    CHECK(json_array_size(oa) == json_array_size(ka), "%s: '%s' has %zu attributes, Keras's %zu", what, path,
          json_array_size(oa), json_array_size(ka));
    size_t i;
    json_t *b;
    json_array_foreach(ka, i, b) {
        const char *name = json_string_value(json_object_get(b, "name"));
        json_t *a = NULL, *e;
        size_t j;
        json_array_foreach(oa, j, e) if (!strcmp(json_string_value(json_object_get(e, "name")), name)) a = e;
        if (!a) {
            CHECK(0, "%s: '%s' lacks attribute '%s'", what, path, name);
            continue;
        }
        const char *ta = json_string_value(json_object_get(a, "type")), *tb = json_string_value(json_object_get(b, "type"));
        CHECK(!strcmp(ta, tb), "%s: '%s' attribute '%s' is %s, Keras's %s", what, path, name, ta, tb);
        CHECK(same_attr_value(name, json_object_get(a, "value"), json_object_get(b, "value")),
              "%s: '%s' attribute '%s' differs from Keras's", what, path, name);
    }
}

void test_compare_layout(json_t *ours, json_t *keras, const char *what)
{
    CHECK(ours != NULL, "%s: cannot read the file ckeras wrote", what);
    if (!ours) return;
    size_t i;
    json_t *e;
    json_array_foreach(keras, i, e) {
        const char *path = json_string_value(json_object_get(e, "path"));
        json_t *mine = find_entry(ours, path);
        CHECK(mine != NULL, "%s: '%s' is missing", what, path);
        if (mine) compare_entry(mine, e, what);
    }
    json_array_foreach(ours, i, e) {
        const char *path = json_string_value(json_object_get(e, "path"));
        CHECK(find_entry(keras, path) != NULL, "%s: '%s' is not in Keras's file", what, path);
    }
}


bool test_h5_scalar(const char *file, const char *path, double *out)
{
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = f < 0 ? -1 : H5Dopen2(f, path, H5P_DEFAULT);
    hid_t space = d < 0 ? -1 : H5Dget_space(d);
    bool ok = space >= 0 && H5Sget_simple_extent_type(space) == H5S_SCALAR &&
              H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) >= 0;
    if (space >= 0) H5Sclose(space);
    if (d >= 0) H5Dclose(d);
    if (f >= 0) H5Fclose(f);
    return ok;
}
