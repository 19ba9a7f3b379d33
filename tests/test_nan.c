/* NaN and Inf as Keras computes them (issue 19): every case of
 * tests/golden/nan/ (tests/oracle/nan_cases.py: each activation of ckeras's
 * table, the ReLU layer's variants, pooling, a relu convolution fused with its
 * pooling, Winograd with a folded BatchNormalization, Dense) predicts on input
 * holding NaN, +inf and -inf: NaN exactly where Keras has NaN, the same
 * infinities, and finite values within 1e-5. The backward passes likewise:
 * each case with gradient goldens (jax.vjp of Keras's stateless_call, in
 * training mode as fit runs) gets forward in training mode, backward of the
 * same cotangent dy, and its input gradient and every weight gradient
 * compared the same way. */
#include "testutil.h"

#include "engine/exec.h"
#include "graph/graph.h"

#include <jansson.h>

/* How many of n values differ from Keras's (NaN where Keras has NaN, the
 * same infinities, finite within 1e-5), the first at *first. */
static int count_wrong(const float *got, const float *want, int64_t n, int64_t *first)
{
    int wrong = 0;
    *first = -1;
    for (int64_t i = 0; i < n; i++) {
        float a = got[i], b = want[i];
        bool ok = isnan(b) ? isnan(a) : isinf(b) ? a == b : !isnan(a) && fabsf(a - b) <= 1e-5f * (1 + fabsf(b));
        if (!ok && *first < 0) *first = i;
        wrong += !ok;
    }
    return wrong;
}

static void check_same(const char *name, const char *what, const float *got, const test_array *want)
{
    int64_t first;
    int wrong = count_wrong(got, want->data, want->size, &first);
    for (int64_t i = 0; wrong && getenv("VERBOSE") && i < want->size && i < 48; i++)
        printf("  %s %s [%lld] got %g want %g\n", name, what, (long long)i, got[i], want->data[i]);
    CHECK(wrong == 0, "%s: %s: %d of %lld values differ from Keras's; first at %lld: %g, Keras %g", name, what, wrong,
          (long long)want->size, (long long)first, first >= 0 ? got[first] : 0.0, first >= 0 ? want->data[first] : 0.0);
}

static bool load_golden(const char *name, const char *file, test_array *a)
{
    char p[1024];
    test_path(p, sizeof p, "tests/golden/nan/%s/%s", name, file);
    bool ok = !test_load_npy(p, a);
    CHECK(ok, "%s: cannot read %s", name, file);
    return ok;
}

static void check_gradients(const char *name)
{
    char p[1024];
    ck_model *m = ck_model_load(test_path(p, sizeof p, "tests/golden/nan/%s/model.keras", name));
    CHECK(m != NULL, "%s: %s", name, ck_errmsg());
    test_array x = {0}, dy = {0}, dx = {0};
    ck_exec *ex = NULL;
    if (!m || !load_golden(name, "x.npy", &x) || !load_golden(name, "dy.npy", &dy) || !load_golden(name, "dx.npy", &dx))
        goto done;
    CHECK_OK(ck_exec_create(m, x.dim[0], &ex));
    if (!ex) goto done;
    ck_exec_want_input_grads(ex, true);
    const float *in[1] = {x.data}, *d_out[1] = {dy.data};
    CHECK_OK(ck_exec_forward(ex, in, x.dim[0], true));
    CHECK_OK(ck_exec_backward(ex, d_out));
    check_same(name, "d input", ck_exec_input_grad(ex, 0), &dx);
    int n = ck_model_weight_count(m);
    for (int i = 0; i < n; i++) {
        ck_weight_info info;
        ck_model_weight(m, i, &info);
        char file[64], what[300];
        snprintf(file, sizeof file, "dw/%d.npy", i);
        test_array dw = {0};
        if (!load_golden(name, file, &dw)) continue;
        CHECK(dw.size == info.size, "%s: %s: %lld gradients, Keras %lld", name, info.path, (long long)info.size,
              (long long)dw.size);
        snprintf(what, sizeof what, "d %s", info.path);
        /* the gradient lives beside the value in the model's blocks */
        if (dw.size == info.size) check_same(name, what, m->grad_block + (info.data - m->weight_block), &dw);
        test_free_array(&dw);
    }
done:
    ck_exec_free(ex);
    test_free_array(&x);
    test_free_array(&dy);
    test_free_array(&dx);
    ck_model_free(m);
}

static void check_case(const char *name)
{
    char p[1024];
    test_path(p, sizeof p, "tests/golden/nan/%s/model.keras", name);
    ck_model *m = ck_model_load(p);
    CHECK(m != NULL, "%s: %s", name, ck_errmsg());
    test_array x, y;
    test_path(p, sizeof p, "tests/golden/nan/%s/x.npy", name);
    int bad = test_load_npy(p, &x);
    test_path(p, sizeof p, "tests/golden/nan/%s/y.npy", name);
    bad |= test_load_npy(p, &y);
    CHECK(!bad, "%s: cannot read x.npy or y.npy", name);
    if (!m || bad) {
        ck_model_free(m);
        return;
    }
    float *got = calloc((size_t)y.size, sizeof *got);
    CHECK_OK(ck_model_predict1(m, x.data, x.dim[0], got));
    check_same(name, "outputs", got, &y);
    free(got);
    test_free_array(&x);
    test_free_array(&y);
    ck_model_free(m);
}

int main(void)
{
    json_t *list = test_load_json("tests/golden/nan/cases.json");
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(list, "cases"), i, c) check_case(json_string_value(c));
    CHECK(json_array_size(json_object_get(list, "cases")) > 40, "too few NaN cases");
    json_array_foreach(json_object_get(list, "gradients"), i, c) check_gradients(json_string_value(c));
    CHECK(json_array_size(json_object_get(list, "gradients")) > 40, "too few NaN gradient cases");
    json_decref(list);
    return test_report("test_nan");
}
