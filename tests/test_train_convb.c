/* fit() through the backward passes of branch convb against Keras 3's autodiff
 * (tests/golden/convb_train, written by tests/oracle/convb_cases.py --train-only):
 * small models with LayerNormalization (plain, rms_scaling, several axes),
 * GroupNormalization, UnitNormalization, LayerScale, Normalization + Rescaling,
 * Resizing (bicubic, pad to aspect) and CenterCrop, given Keras's initial weights,
 * trained 3 epochs with SGD(0.1) on MSE, unshuffled: the per-epoch losses and every
 * final weight must match Keras's within 1e-4 relative. */
#include "testutil.h"

#include <jansson.h>

#define ROOT "tests/golden/convb_train"

static int load_npy(const char *dir, const char *file, test_array *a)
{
    char p[700];
    return test_load_npy(test_path(p, sizeof p, ROOT "/%s/%s", dir, file), a);
}

static void run_case(const char *name)
{
    char p[700];
    json_error_t e;
    json_t *c = json_load_file(test_path(p, sizeof p, ROOT "/%s/case.json", name), 0, &e);
    ck_model *m = ck_model_load_json_file(test_path(p, sizeof p, ROOT "/%s/config.json", name));
    CHECK(c && m, "%s: %s", name, c ? ck_errmsg() : e.text);
    test_array x = {0}, y = {0};
    if (!c || !m || load_npy(name, "x.npy", &x) || load_npy(name, "y.npy", &y)) {
        CHECK(0, "%s: golden files missing", name);
        goto done;
    }
    int nw = ck_model_weight_count(m);
    CHECK(nw == json_integer_value(json_object_get(c, "n_weights")), "%s: %d weights", name, nw);
    for (int i = 0; i < nw; i++) {
        test_array w;
        snprintf(p, sizeof p, "weights/%d.npy", i);
        if (load_npy(name, p, &w)) continue;
        ck_shape s = {.rank = w.rank};
        for (int d = 0; d < w.rank; d++) s.dim[d] = w.dim[d];
        CHECK_OK(ck_model_set_weight(m, i, &s, w.data));
        test_free_array(&w);
    }
    CHECK_OK(ck_model_compile(m, json_string_value(json_object_get(c, "optimizer")),
                              json_string_value(json_object_get(c, "loss")), NULL));
    ck_fit_opts o = ck_fit_defaults();
    o.epochs = (int)json_integer_value(json_object_get(c, "epochs"));
    o.batch_size = json_integer_value(json_object_get(c, "batch_size"));
    o.shuffle = false;
    o.verbose = 0;
    ck_history *h = NULL;
    CHECK_OK(ck_model_fit(m, x.data, y.data, x.dim[0], &o, &h));
    json_t *losses = json_object_get(json_object_get(c, "history"), "loss");
    size_t ep;
    json_t *v;
    json_array_foreach(losses, ep, v) {
        double got = h ? ck_history_value(h, "loss", (int)ep) : NAN, want = json_number_value(v);
        CHECK(fabs(got - want) <= 1e-4 * fmax(1.0, fabs(want)), "%s: epoch %zu loss %.7f, Keras %.7f", name, ep, got,
              want);
    }
    for (int i = 0; i < nw; i++) {
        test_array w;
        ck_weight_info info;
        snprintf(p, sizeof p, "final/%d.npy", i);
        if (load_npy(name, p, &w)) {
            CHECK(0, "%s: missing %s", name, p);
            continue;
        }
        CHECK_OK(ck_model_weight(m, i, &info));
        double err = w.size == info.size ? test_max_error(info.data, w.data, w.size, 1e-6) : INFINITY;
        CHECK(err <= 1e-4, "%s: final %s differs from Keras's by %g", name, info.path, err);
        test_free_array(&w);
    }
    ck_history_free(h);
done:
    test_free_array(&x);
    test_free_array(&y);
    ck_model_free(m);
    json_decref(c);
}

int main(void)
{
    char p[512];
    size_t len;
    char *list = test_read_file(test_path(p, sizeof p, ROOT "/CASES"), &len);
    CHECK(list != NULL, "missing %s", p);
    for (char *line = list ? strtok(list, "\n") : NULL; line; line = strtok(NULL, "\n")) run_case(line);
    free(list);
    return test_report("test_train_convb");
}
