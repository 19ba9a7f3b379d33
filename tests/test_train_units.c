/* Losses and optimizers against Keras 3 (goldens from tests/oracle/train_units.py):
 * every loss value and its gradient with and without sample weights, and three
 * steps of every optimizer (with clipping, weight decay and schedules) on two
 * small variables, plus the optimizer variable counts summary() reports. */
#include "testutil.h"
#include "train/losses.h"
#include "train/optimizers.h"

#include <jansson.h>

static float *floats(json_t *a, int64_t *n)
{
    *n = (int64_t)json_array_size(a);
    float *v = malloc((size_t)(*n + 1) * sizeof *v);
    for (int64_t i = 0; i < *n; i++)
        v[i] = (float)json_number_value(json_array_get(a, (size_t)i));
    return v;
}

static void test_losses(void)
{
    json_t *cases = test_load_json("tests/golden/train/losses.json");
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c) {
        const char *spec = json_string_value(json_object_get(c, "spec"));
        int64_t rows = json_integer_value(json_object_get(c, "rows"));
        int64_t d = json_integer_value(json_object_get(c, "d")), n;
        ck_loss l;
        CHECK_OK(ck_loss_parse(spec, &l));
        float *yt = floats(json_object_get(c, "y_true"), &n);
        float *yp = floats(json_object_get(c, "y_pred"), &n);
        float *want = floats(json_object_get(c, "grad"), &n);
        json_t *jsw = json_object_get(c, "sample_weight");
        float *sw = json_is_array(jsw) ? floats(jsw, &n) : NULL;
        float per_row[16], grad[64];
        CHECK_OK(ck_loss_rows(&l, yt, yp, rows, d, per_row, grad));
        double v = ck_loss_reduce(per_row, sw, rows, d, grad);
        double kv = json_number_value(json_object_get(c, "loss"));
        CHECK(fabs(v - kv) <= 1e-5 * fmax(1, fabs(kv)), "%s%s: loss %.8g, Keras %.8g", spec,
              sw ? " (weighted)" : "", v, kv);
        double ge = test_max_error(grad, want, rows * d, 1e-5);
        CHECK(ge <= 1e-4, "%s%s: gradient error %g", spec, sw ? " (weighted)" : "", ge);
        free(yt), free(yp), free(want), free(sw);
    }
    json_decref(cases);
}

static void test_optimizers(void)
{
    json_t *cases = test_load_json("tests/golden/train/optimizers.json");
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c) {
        const char *spec = json_string_value(json_object_get(c, "spec"));
        ck_optimizer o;
        CHECK_OK(ck_optimizer_parse(spec, &o));
        json_t *sizes = json_object_get(c, "sizes");
        int nv = (int)json_array_size(sizes);
        ck_opt_var vars[4];
        int64_t total = 0, n;
        for (int v = 0; v < nv; v++) {
            vars[v] = (ck_opt_var){total, json_integer_value(json_array_get(sizes, (size_t)v))};
            total += vars[v].size;
        }
        float w[64], g[64];
        for (int v = 0; v < nv; v++) {
            float *x = floats(json_array_get(json_object_get(c, "initial"), (size_t)v), &n);
            memcpy(w + vars[v].offset, x, (size_t)n * sizeof *x);
            free(x);
        }
        CHECK_OK(ck_optimizer_build(&o, vars, nv));
        CHECK(ck_optimizer_param_count(&o) == json_integer_value(json_object_get(c, "variables")),
              "%s: %lld optimizer variables, Keras %lld", spec, (long long)ck_optimizer_param_count(&o),
              (long long)json_integer_value(json_object_get(c, "variables")));
        for (size_t s = 0; s < json_array_size(json_object_get(c, "grads")); s++) {
            json_t *gs = json_array_get(json_object_get(c, "grads"), s);
            json_t *after = json_array_get(json_object_get(c, "after"), s);
            for (int v = 0; v < nv; v++) {
                float *x = floats(json_array_get(gs, (size_t)v), &n);
                memcpy(g + vars[v].offset, x, (size_t)n * sizeof *x);
                free(x);
            }
            CHECK_OK(ck_optimizer_step(&o, w, g));
            for (int v = 0; v < nv; v++) {
                float *want = floats(json_array_get(after, (size_t)v), &n);
                double e = test_max_error(w + vars[v].offset, want, n, 1e-6);
                CHECK(e <= 1e-5, "%s: step %zu variable %d error %g", spec, s + 1, v, e);
                free(want);
            }
        }
        ck_optimizer_release(&o);
    }
    json_decref(cases);
}

static void test_bad_specs(void)
{
    ck_loss l;
    ck_optimizer o;
    CHECK(ck_loss_parse("mean_squared_eror", &l) == CK_ERR_CONFIG, "unknown loss accepted");
    CHECK(strstr(ck_errmsg(), "mean_squared_eror") != NULL, "message: %s", ck_errmsg());
    CHECK(ck_loss_parse("Huber(deltaa=1)", &l) == CK_ERR_CONFIG, "bad keyword accepted");
    CHECK(ck_loss_parse("Huber(delta=1", &l) == CK_ERR_CONFIG, "missing ) accepted");
    CHECK(ck_optimizer_parse("adamm", &o) == CK_ERR_CONFIG, "unknown optimizer accepted");
    CHECK(ck_optimizer_parse("SGD(clipnorm=1, clipvalue=1)", &o) == CK_ERR_CONFIG, "two clips");
    CHECK(ck_optimizer_parse("Adam(learning_rate=Foo(a=1))", &o) == CK_ERR_CONFIG, "bad schedule");
    CHECK(ck_optimizer_parse("SGD(momentum=2)", &o) == CK_ERR_CONFIG, "momentum 2 accepted");
    float yt[2] = {0, 3}, yp[4] = {0.5f, 0.5f, 0.5f, 0.5f}, r[2];
    CHECK_OK(ck_loss_parse("sparse_categorical_crossentropy", &l));
    CHECK(ck_loss_rows(&l, yt, yp, 2, 2, r, NULL) == CK_ERR_ARG, "label 3 of 2 classes accepted");
}

int main(void)
{
    test_losses();
    test_optimizers();
    test_bad_specs();
    return test_report("test_train_units");
}
