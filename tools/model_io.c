/* Weights and arrays in and out for the engine commands; see model_io.h. */
#include "model_io.h"

#include "cli.h"

#include <stdlib.h>
#include <string.h>

bool cli_ends_with(const char *path, const char *suffix)
{
    size_t n = strlen(path), k = strlen(suffix);
    return n >= k && !strcmp(path + n - k, suffix);
}

static int load_npz_weights(ck_model *m, const char *path)
{
    ck_npz z;
    if (ck_npz_read(path, &z)) return cli_fail(NULL);
    int rc = 0, want = ck_model_weight_count(m);
    if (z.n != want) {
        fprintf(stderr, "ckeras: %s: has %d arrays, model '%s' has %d weights\n", path, z.n, ck_model_name(m), want);
        rc = 1;
    }
    for (int i = 0; !rc && i < z.n; i++)
        if (ck_array_to_float32(&z.arrays[i]) || ck_model_set_weight(m, i, &z.arrays[i].shape, z.arrays[i].data)) {
            fprintf(stderr, "ckeras: %s: array '%s': %s\n", path, z.names[i], ck_errmsg());
            rc = 1;
        }
    ck_npz_free(&z);
    return rc;
}

int cli_load_weights(ck_model *m, const char *path)
{
    if (cli_ends_with(path, ".npz")) return load_npz_weights(m, path);
    return ck_model_load_weights(m, path) ? cli_fail(NULL) : 0;
}

static int save_npz_weights(ck_model *m, const char *path)
{
    int n = ck_model_weight_count(m);
    ck_array *arrays = calloc((size_t)(n ? n : 1), sizeof *arrays);
    if (!arrays) return cli_fail("out of memory");
    for (int i = 0; i < n; i++) {
        ck_weight_info w;
        ck_model_weight(m, i, &w);
        arrays[i] = (ck_array){.dtype = CK_FLOAT32, .shape = w.shape, .data = (void *)w.data};
    }
    int rc = ck_npz_write(path, NULL, arrays, n) ? cli_fail(NULL) : 0;
    free(arrays);
    return rc;
}

int cli_save_model(ck_model *m, const char *path)
{
    static const char *const endings[] = {".npz", ".keras", ".h5", ".json"};
    bool known = false;
    for (size_t i = 0; i < sizeof endings / sizeof *endings; i++) known = known || cli_ends_with(path, endings[i]);
    if (!known) {
        fprintf(stderr, "ckeras: %s: --save needs .npz, .keras, .weights.h5, .h5 or .json (TF.js)\n", path);
        return 1;
    }
    int rc = cli_ends_with(path, ".npz") ? save_npz_weights(m, path) : (ck_model_save(m, path) ? cli_fail(NULL) : 0);
    if (!rc) printf("saved %s\n", path);
    return rc;
}

int cli_load_array(const char *path, ck_array *a)
{
    if (cli_ends_with(path, ".csv")) return ck_csv_read(path, NULL, a, NULL) ? cli_fail(NULL) : 0;
    if (ck_npy_read(path, a) || ck_array_to_float32(a)) return cli_fail(NULL);
    return 0;
}
