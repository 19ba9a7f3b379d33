/* NaN and Inf as Keras computes them (issue 19): every case of
 * tests/golden/nan/ (tests/oracle/nan_cases.py: each activation of ckeras's
 * table, the ReLU layer's variants, pooling, a relu convolution fused with its
 * pooling, Winograd with a folded BatchNormalization, Dense) predicts on input
 * holding NaN, +inf and -inf: NaN exactly where Keras has NaN, the same
 * infinities, and finite values within 1e-5. */
#include "testutil.h"

#include <jansson.h>

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
    int wrong = 0;
    int64_t first = -1;
    for (int64_t i = 0; i < y.size; i++) {
        float a = got[i], b = y.data[i];
        bool ok = isnan(b) ? isnan(a) : isinf(b) ? a == b : !isnan(a) && fabsf(a - b) <= 1e-5f * (1 + fabsf(b));
        if (!ok && first < 0) first = i;
        wrong += !ok;
    }
    CHECK(wrong == 0, "%s: %d of %lld outputs differ from Keras's; first at %lld: %g, Keras %g", name, wrong,
          (long long)y.size, (long long)first, first >= 0 ? got[first] : 0.0, first >= 0 ? y.data[first] : 0.0);
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
    json_decref(list);
    return test_report("test_nan");
}
