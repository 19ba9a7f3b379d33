/* Keras 3's activation functions on float16 and bfloat16 tensors (goldens:
 * tests/oracle/half_activation_cases.py, real Keras 3.15.1 on JAX/CPU, which
 * rounds each XLA operation's result to the half type): ck_act_forward_half
 * must give Keras's outputs bit for bit, NaN where Keras has NaN, for every
 * activation name of the table and both half types, and every ck_act_kind must
 * have a golden. Also run in place (y == x). Prints, per activation and dtype,
 * how many values match. Runs from the repository root.
 * From 4096 rows on, XLA on CPU runs softmax, log_softmax and the end of
 * sparsemax through YNNPACK (a "__ynn_fusion"), which computes a bfloat16 one
 * in float32 and rounds once: softmax and sparsemax are checked at that size
 * ([4096, 4], x_large.npy) for both types, log_softmax for float16. Known
 * limit: bfloat16 log_softmax there (YNNPACK's SIMD order of summation shows
 * in log(sum) near 1: 99.4 % equal on random [4096, 4] values). All 65536
 * values of each type as [4096, 16] gave bit for bit for every activation.
 * Read as float32 (a float32 layer after a bfloat16 activation), XLA leaves
 * the last operation's result unrounded: ck_act_forward_half_to_f32 against
 * bfloat16/<name>_f32.npy, every kind; for float16 it equals the rounded one.
 * That needs XLA's own exp and tanh with its fused multiply-adds (the goldens'
 * CPU has FMA); all 65536 bfloat16 values as [4096, 16] matched too, but for
 * softmax and log_softmax, which YNNPACK computes at that size (known limit). */
#include "testutil.h"
#include "kernels/activations.h"

#include <stdint.h>

#define ROOT "tests/golden/half_act"

static uint32_t bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* Bit for bit, any NaN equal to any NaN (XLA's NaN payload is not Keras's API). */
static int64_t count_equal(const float *a, const float *b, int64_t n, int64_t *first_bad)
{
    int64_t same = 0;
    *first_bad = -1;
    for (int64_t i = 0; i < n; i++) {
        bool eq = (a[i] != a[i] && b[i] != b[i]) || bits(a[i]) == bits(b[i]);
        if (eq) same++;
        else if (*first_bad < 0) *first_bad = i;
    }
    return same;
}

/* Each named activation on <dtype>/x<suffix>.npy against <name><suffix>.npy. */
static void check_set(const char *dtype, ck_half half, const char *suffix, const char *const *names, int n_names,
                      bool *covered)
{
    /* _f32: read as float32 (ck_act_forward_half_to_f32), on x.npy */
    bool to_f32 = !strcmp(suffix, "_f32");
    void (*forward)(ck_act_kind, ck_half, const float *, float *, int64_t, int64_t) =
        to_f32 ? ck_act_forward_half_to_f32 : ck_act_forward_half;
    char path[512];
    test_array x = {0};
    CHECK(test_load_npy(test_path(path, sizeof path, "%s/%s/x%s.npy", ROOT, dtype, to_f32 ? "" : suffix), &x) == 0,
          "%s", path);
    if (!x.data) return;
    CHECK(x.rank == 2, "%s: x rank %d", dtype, x.rank);
    int64_t rows = x.dim[0], cols = x.dim[1];
    float *y = malloc((size_t)x.size * sizeof *y), *inplace = malloc((size_t)x.size * sizeof *y);
    for (int i = 0; i < n_names; i++) {
        const char *name = names[i];
        ck_act act;
        CHECK_OK(ck_activation_parse(name, &act));
        if (covered) covered[act.kind] = true;
        test_array want = {0};
        CHECK(test_load_npy(test_path(path, sizeof path, "%s/%s/%s%s.npy", ROOT, dtype, name, suffix), &want) == 0,
              "%s", path);
        if (!want.data) continue;
        CHECK(want.size == x.size, "%s %s: %lld values, x has %lld", dtype, name, (long long)want.size,
              (long long)x.size);
        forward(act.kind, half, x.data, y, rows, cols);
        int64_t bad, same = count_equal(y, want.data, x.size, &bad);
        char label[64];
        snprintf(label, sizeof label, "%s%s", name, suffix);
        printf("%-9s %-21s %6lld / %lld bit-equal\n", dtype, label, (long long)same, (long long)x.size);
        CHECK(same == x.size, "%s %s%s: %lld values differ; first at %lld: x %.9g -> ours %.9g, Keras %.9g",
              dtype, name, suffix, (long long)(x.size - same), (long long)bad, bad < 0 ? 0.0 : x.data[bad],
              bad < 0 ? 0.0 : y[bad], bad < 0 ? 0.0 : want.data[bad]);
        memcpy(inplace, x.data, (size_t)x.size * sizeof *inplace);
        forward(act.kind, half, inplace, inplace, rows, cols);
        CHECK(count_equal(inplace, y, x.size, &bad) == x.size, "%s %s%s: in place differs at %lld", dtype,
              name, suffix, (long long)bad);
        test_free_array(&want);
    }
    free(y);
    free(inplace);
    test_free_array(&x);
}

int main(void)
{
    test_case_list cases = test_read_cases(ROOT "/CASES");
    CHECK(cases.n > 0, "no cases in %s/CASES", ROOT);
    const struct { const char *dtype; ck_half half; } dtypes[] = {
        {"float16", CK_HALF_FLOAT16}, {"bfloat16", CK_HALF_BFLOAT16}};
    const char *names[256], *large[2][3] = {{"softmax", "sparsemax", "log_softmax"}, {"softmax", "sparsemax"}};
    const int n_large[2] = {3, 2}; /* bfloat16 log_softmax: see above */
    int n = 0;
    for (int i = 0; i < cases.n && n < 256; i++) names[n++] = cases.names[i];
    for (int d = 0; d < 2; d++) {
        bool covered[CK_ACT_COUNT] = {false};
        check_set(dtypes[d].dtype, dtypes[d].half, "", names, n, covered);
        check_set(dtypes[d].dtype, dtypes[d].half, "_large", large[d], n_large[d], NULL);
        if (dtypes[d].half == CK_HALF_BFLOAT16) {
            bool read_f32[CK_ACT_COUNT] = {false};
            check_set(dtypes[d].dtype, dtypes[d].half, "_f32", names, n, read_f32);
            for (int k = 0; k < CK_ACT_COUNT; k++)
                CHECK(read_f32[k], "bfloat16: no float32-read golden for %s", ck_act_function_name((ck_act_kind)k));
        } else { /* float16: the same values as rounded */
            test_array x = {0};
            char path[512];
            CHECK(test_load_npy(test_path(path, sizeof path, "%s/float16/x.npy", ROOT), &x) == 0, "%s", path);
            float *a = malloc((size_t)x.size * sizeof *a), *b = malloc((size_t)x.size * sizeof *b);
            for (int k = 0; x.data && k < CK_ACT_COUNT; k++) {
                int64_t bad;
                ck_act_forward_half((ck_act_kind)k, CK_HALF_FLOAT16, x.data, a, x.dim[0], x.dim[1]);
                ck_act_forward_half_to_f32((ck_act_kind)k, CK_HALF_FLOAT16, x.data, b, x.dim[0], x.dim[1]);
                CHECK(count_equal(a, b, x.size, &bad) == x.size, "float16 %s read as float32 differs",
                      ck_act_function_name((ck_act_kind)k));
            }
            free(a);
            free(b);
            test_free_array(&x);
        }
        for (int k = 0; k < CK_ACT_COUNT; k++)
            CHECK(covered[k], "%s: no golden for activation %s", dtypes[d].dtype,
                  ck_act_function_name((ck_act_kind)k));
    }
    free(cases.names);
    return test_report("test_half_act");
}
