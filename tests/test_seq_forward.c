/* Predictions of the sequence-family goldens (tests/golden/seq, real Keras 3 by
 * tests/oracle/seq_cases.py): each case's model is loaded, given Keras's weights,
 * and run through ck_model_predict on Keras's inputs (x.npy, or x0.npy, x1.npy...
 * for several inputs); every output must match y.npy / y<i>.npy within 1e-5
 * relative. A case without saved inputs is a failure, not a skip. */
#include "testutil.h"

#include <jansson.h>

#define MAX_IO 4

static int load_arrays(const char *dir, const char *stem, test_array *a, int max)
{
    char p[1024];
    int n = 0;
    if (!test_load_npy(test_path(p, sizeof p, "%s/%s.npy", dir, stem), &a[0])) return 1;
    while (n < max && !test_load_npy(test_path(p, sizeof p, "%s/%s%d.npy", dir, stem, n), &a[n])) n++;
    return n;
}

static void set_weights(const char *name, const char *dir, ck_model *m)
{
    char p[1024];
    for (int i = 0; i < ck_model_weight_count(m); i++) {
        test_array w;
        int rc = test_load_npy(test_path(p, sizeof p, "%s/weights/%d.npy", dir, i), &w);
        CHECK(rc == 0, "%s: missing weights/%d.npy", name, i);
        if (rc) return;
        ck_shape s = {.rank = w.rank};
        for (int d = 0; d < w.rank; d++) s.dim[d] = w.dim[d];
        CHECK_OK(ck_model_set_weight(m, i, &s, w.data));
        test_free_array(&w);
    }
}

static void run_case(const char *name)
{
    char dir[512], p[1024];
    snprintf(dir, sizeof dir, "tests/golden/seq/%s", name);
    ck_model *m = ck_model_load_json_file(test_path(p, sizeof p, "%s/config.json", dir));
    CHECK(m != NULL, "%s: %s", name, ck_errmsg());
    if (!m) return;
    set_weights(name, dir, m);
    test_array x[MAX_IO], y[MAX_IO];
    int nx = load_arrays(dir, "x", x, MAX_IO);
    int ny = 0;
    if (!test_load_npy(test_path(p, sizeof p, "%s/y.npy", dir), &y[0])) {
        ny = 1;
        while (ny < MAX_IO && !test_load_npy(test_path(p, sizeof p, "%s/y%d.npy", dir, ny), &y[ny])) ny++;
    }
    CHECK(nx > 0 && ny > 0, "%s: no x/y goldens", name);
    const float *ins[MAX_IO];
    float *outs[MAX_IO];
    for (int i = 0; i < nx; i++) ins[i] = x[i].data;
    for (int i = 0; i < ny; i++) outs[i] = calloc((size_t)y[i].size, sizeof(float));
    if (nx > 0 && ny > 0) {
        ck_status st = ck_model_predict(m, ins, x[0].dim[0], outs, 0);
        CHECK(st == CK_OK, "%s: predict: %s", name, ck_errmsg());
        for (int i = 0; st == CK_OK && i < ny; i++) {
            double err = test_max_error(outs[i], y[i].data, y[i].size, 1e-5);
            CHECK(err <= 1e-5, "%s: output %d max error %g", name, i, err);
        }
    }
    for (int i = 0; i < nx; i++) test_free_array(&x[i]);
    for (int i = 0; i < ny; i++) {
        test_free_array(&y[i]);
        free(outs[i]);
    }
    ck_model_free(m);
}

/* Keras's Softmax.call raises when the incoming mask does not broadcast to its
 * input: the softmax_masked model given a batch of 2 (mask [2, 3] under inputs
 * [2, 3, 3]; tests/oracle/seq_cases.py). ckeras refuses it too, naming the layer. */
static void check_softmax_mask_refused(void)
{
    char p[1024];
    ck_model *m = ck_model_load_json_file(test_path(p, sizeof p, "tests/golden/seq/softmax_masked/config.json"));
    CHECK(m != NULL, "softmax_masked: %s", ck_errmsg());
    if (!m) return;
    const float x[6] = {1, 2, 0, 3, 0, 0};
    float y[18];
    const float *ins[1] = {x};
    float *outs[1] = {y};
    ck_status st = ck_model_predict(m, ins, 2, outs, 0);
    CHECK(st == CK_ERR_SHAPE && strstr(ck_errmsg(), "Softmax 'softmax'") && strstr(ck_errmsg(), "does not broadcast"),
          "softmax_masked, batch 2: %d %s", (int)st, ck_errmsg());
    ck_model_free(m);
}

int main(int argc, char **argv)
{
    check_softmax_mask_refused();
    char p[1024];
    json_error_t e;
    json_t *index = json_load_file(test_path(p, sizeof p, "tests/golden/seq/index.json"), 0, &e);
    CHECK(index != NULL, "index.json: %s", e.text);
    size_t i;
    json_t *c;
    json_array_foreach(index, i, c) {
        const char *name = json_string_value(c);
        if (argc > 1 && strcmp(argv[1], name)) continue; /* one case while debugging */
        run_case(name);
    }
    json_decref(index);
    return test_report("test_seq_forward");
}
