/* Published sequence models (tests/data/models) read from their files, weights
 * included, reproduce real Keras 3's predictions (tests/oracle/seq_models.py ->
 * tests/golden/seq_models) within 1e-5 relative; a model whose input length is
 * unknown (None) runs on the data's length (ck_model_predict_shaped). */
#include "testutil.h"

#include <jansson.h>

static void run_case(const char *file)
{
    char stem[256], p[1024];
    snprintf(stem, sizeof stem, "%s", file);
    char *dot = strrchr(stem, '.');
    if (dot) *dot = 0;
    ck_model *m = ck_model_load(test_path(p, sizeof p, "tests/data/models/%s", file));
    CHECK(m != NULL, "%s: %s", file, ck_errmsg());
    if (!m) return;
    test_array x, y;
    int rx = test_load_npy(test_path(p, sizeof p, "tests/golden/seq_models/%s/x.npy", stem), &x);
    int ry = test_load_npy(test_path(p, sizeof p, "tests/golden/seq_models/%s/y.npy", stem), &y);
    CHECK(rx == 0 && ry == 0, "%s: missing x.npy/y.npy", stem);
    if (rx == 0 && ry == 0) {
        float *out = calloc((size_t)y.size, sizeof *out);
        /* the data's shape: an input of unknown length (None) runs on it */
        ck_shape in = {.rank = x.rank};
        for (int d = 0; d < x.rank; d++) in.dim[d] = x.dim[d];
        const float *xs[1] = {x.data};
        ck_status st = ck_model_predict_shaped(m, &in, xs, &out, 0);
        CHECK(st == CK_OK, "%s: predict: %s", stem, ck_errmsg());
        double err = st ? 1.0 : test_max_error(out, y.data, y.size, 1e-5);
        CHECK(err <= 1e-5, "%s: max error %g", stem, err);
        free(out);
    }
    if (rx == 0) test_free_array(&x);
    if (ry == 0) test_free_array(&y);
    ck_model_free(m);
}

int main(void)
{
    char p[1024];
    json_error_t e;
    json_t *index = json_load_file(test_path(p, sizeof p, "tests/golden/seq_models/index.json"), 0, &e);
    CHECK(index != NULL, "index.json: %s", e.text);
    size_t i;
    json_t *f;
    json_array_foreach(index, i, f) run_case(json_string_value(f));
    CHECK(json_array_size(index) >= 2, "index lists %zu models", json_array_size(index));
    json_decref(index);
    return test_report("test_seq_models");
}
