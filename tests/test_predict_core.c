/* Predictions against real Keras: every case of tests/golden/core/ that saved
 * weights and inputs is loaded from its config.json, given Keras's weights, run
 * through ck_model_predict and compared with Keras's model.predict outputs to
 * float32 tolerance. Every such case must load and run. */
#include "testutil.h"

#include <jansson.h>

#define TOL 1e-5
#define MAXIO 32

static int n_passed;

static bool set_weights(ck_model *m, const char *dir, json_t *weights)
{
    size_t i;
    json_t *w;
    json_array_foreach(weights, i, w) {
        char path[1024];
        test_array a;
        test_path(path, sizeof path, "%s/%s", dir, json_string_value(w));
        if (test_load_npy(path, &a)) {
            CHECK(0, "cannot read %s", path);
            return false;
        }
        ck_shape s = {.rank = a.rank};
        for (int d = 0; d < a.rank; d++) s.dim[d] = a.dim[d];
        ck_status st = ck_model_set_weight(m, (int)i, &s, a.data);
        CHECK(st == CK_OK, "%s: set_weight %zu: %s", dir, i, ck_errmsg());
        test_free_array(&a);
        if (st) return false;
    }
    return true;
}

static void run_case(const char *name)
{
    char dir[512], path[1024];
    snprintf(dir, sizeof dir, "tests/golden/core/%s", name);
    json_error_t jerr;
    json_t *cj = json_load_file(test_path(path, sizeof path, "%s/case.json", dir), 0, &jerr);
    CHECK(cj != NULL, "%s/case.json: %s", dir, jerr.text);
    if (!cj) return;
    json_t *inputs = json_object_get(cj, "inputs"), *outputs = json_object_get(cj, "outputs");
    if (!json_is_true(json_object_get(cj, "weights_saved")) || !json_array_size(inputs) || !json_array_size(outputs)) {
        json_decref(cj);
        return;
    }
    ck_model *m = ck_model_load_json_file(test_path(path, sizeof path, "%s/config.json", dir));
    CHECK(m != NULL, "%s: load failed: %s", name, ck_errmsg());
    if (!m) {
        json_decref(cj);
        return;
    }
    test_array xs[MAXIO] = {0}, ys[MAXIO] = {0};
    float *in[MAXIO] = {0}, *out[MAXIO] = {0};
    size_t ni = json_array_size(inputs), no = json_array_size(outputs);
    bool ok = ni <= MAXIO && no <= MAXIO && set_weights(m, dir, json_object_get(cj, "weights"));
    for (size_t i = 0; ok && i < ni; i++) {
        ok = !test_load_npy(test_path(path, sizeof path, "%s/%s", dir, json_string_value(json_array_get(inputs, i))), &xs[i]);
        in[i] = xs[i].data;
    }
    for (size_t i = 0; ok && i < no; i++) {
        ok = !test_load_npy(test_path(path, sizeof path, "%s/%s", dir, json_string_value(json_array_get(outputs, i))), &ys[i]);
        out[i] = ok ? calloc((size_t)ys[i].size, sizeof(float)) : NULL;
    }
    CHECK(ok, "%s: could not read the golden arrays", name);
    if (ok) {
        ck_status st = ck_model_predict(m, (const float *const *)in, xs[0].dim[0], out, 0);
        CHECK(st == CK_OK, "%s: predict: %s", name, ck_errmsg());
        bool good = st == CK_OK;
        for (size_t i = 0; !st && i < no; i++) {
            double e = test_max_error(out[i], ys[i].data, ys[i].size, TOL);
            CHECK(e <= TOL, "%s: output %zu differs from Keras by %g", name, i, e);
            good = good && e <= TOL;
        }
        n_passed += good;
    }
    for (size_t i = 0; i < MAXIO; i++) {
        test_free_array(&xs[i]);
        test_free_array(&ys[i]);
        free(out[i]);
    }
    ck_model_free(m);
    json_decref(cj);
}

int main(void)
{
    char path[1024];
    json_error_t jerr;
    json_t *index = json_load_file(test_path(path, sizeof path, "tests/golden/core/index.json"), 0, &jerr);
    CHECK(index != NULL, "index.json: %s", jerr.text);
    size_t i;
    json_t *c;
    json_array_foreach(index, i, c) run_case(json_string_value(json_object_get(c, "name")));
    json_decref(index);
    printf("predict_core: %d cases match Keras\n", n_passed);
    CHECK(n_passed >= 30, "only %d cases ran", n_passed);
    return test_report("test_predict_core");
}
