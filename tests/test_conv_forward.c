/* Forward passes of the convolutional-family layers against Keras's predictions:
 * each one-layer golden case (Input -> layer) is loaded, given Keras's weights,
 * and the class's forward hook is called directly on x.npy; the result must match
 * y.npy within 1e-5 relative. A class without a forward is a failure, and a
 * case Keras saved no weights for runs on ckeras's initial values, which must be
 * Keras's. Runs without the engine's plan. */
#include "testutil.h"
#include "graph/graph.h"
#include "engine/exec.h"

#include <jansson.h>

static void run_case(const char *root, const char *name)
{
    char dir[512], p[1024];
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    ck_model *m = ck_model_load_json_file(test_path(p, sizeof p, "%s/config.json", dir));
    CHECK(m != NULL, "%s: %s", name, ck_errmsg());
    if (!m) return;
    if (ck_model_layer_count(m) != 1) goto done; /* whole models need the engine */
    ck_layer *l = ck_model_layer(m, 0);
    CHECK(l->cls->forward != NULL, "%s: %s has no forward", name, l->cls->class_name);
    if (!l->cls->forward) goto done;
    /* Cases Keras saved no weights for (an unadapted Normalization) run on the
     * initial values, which must then be Keras's own. */
    json_t *info = test_load_json("%s/case.json", dir);
    bool saved = !json_is_false(json_object_get(info, "weights_saved"));
    json_decref(info);
    int nw = saved ? ck_model_weight_count(m) : 0;
    for (int i = 0; i < nw; i++) {
        test_array w;
        bool have = test_load_npy(test_path(p, sizeof p, "%s/weights/%d.npy", dir, i), &w) == 0;
        CHECK(have, "%s: weights/%d.npy missing", name, i);
        if (!have) goto done;
        ck_shape s = {.rank = w.rank};
        for (int d = 0; d < w.rank; d++) s.dim[d] = w.dim[d];
        CHECK_OK(ck_model_set_weight(m, i, &s, w.data));
        test_free_array(&w);
    }
    test_array x, y;
    if (test_load_npy(test_path(p, sizeof p, "%s/x.npy", dir), &x)) goto done;
    if (test_load_npy(test_path(p, sizeof p, "%s/y.npy", dir), &y)) {
        test_free_array(&x);
        goto done;
    }
    ck_tensor tin = {.shape = {.rank = x.rank}, .data = x.data};
    ck_tensor tout = {.shape = {.rank = y.rank}, .data = calloc((size_t)y.size, sizeof(float))};
    for (int d = 0; d < x.rank; d++) tin.shape.dim[d] = x.dim[d];
    for (int d = 0; d < y.rank; d++) tout.shape.dim[d] = y.dim[d];
    /* The engine's per-node state, as the engine would hand it: inference, and the
     * class's workspace for these rows. */
    CHECK_OK(ck_model_init_weights(m)); /* what the engine does before a forward */
    int64_t ws = l->cls->workspace ? l->cls->workspace(l) : 0;
    ck_exec *ex = NULL;
    CHECK_OK(ck_exec_create_unplanned(m, x.dim[0], &ex));
    ck_run *run = ck_exec_run(ex);
    run->training = false;
    run->workspace = ws > 0 ? calloc((size_t)(ws * x.dim[0]), sizeof(float)) : NULL;
    ck_status st = l->cls->forward(l, &tin, 1, &tout, 1, run);
    free(run->workspace);
    ck_exec_free(ex);
    CHECK(st == CK_OK, "%s: forward: %s", name, ck_errmsg());
    if (st == CK_OK) {
        double err = test_max_error(tout.data, y.data, y.size, 1e-5);
        CHECK(err <= 1e-5, "%s: max error %g", name, err);
    }
    free(tout.data);
    test_free_array(&x);
    test_free_array(&y);
done:
    ck_model_free(m);
}

int main(void)
{
    /* conv: conv_cases.py; convb: convb_cases.py (more normalization/preprocessing options) */
    static const char *const roots[] = {"tests/golden/conv", "tests/golden/convb"};
    for (size_t r = 0; r < sizeof roots / sizeof roots[0]; r++) {
        char p[1024];
        json_error_t e;
        json_t *index = json_load_file(test_path(p, sizeof p, "%s/index.json", roots[r]), 0, &e);
        CHECK(index != NULL, "%s/index.json: %s", roots[r], e.text);
        size_t i;
        json_t *c;
        json_array_foreach(index, i, c) run_case(roots[r], json_string_value(json_object_get(c, "name")));
        json_decref(index);
    }
    return test_report("test_conv_forward");
}
