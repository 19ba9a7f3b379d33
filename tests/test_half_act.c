/* Keras 3's activation functions on float16 and bfloat16 tensors (goldens:
 * tests/oracle/half_activation_cases.py, real Keras 3.15.1 on JAX/CPU, which
 * rounds each XLA operation's result to the half type): ck_act_forward_half
 * must give Keras's outputs bit for bit, NaN where Keras has NaN, for every
 * activation name of the table and both half types, and every ck_act_kind must
 * have a golden. Also run in place (y == x). Prints, per activation and dtype,
 * how many values match. Runs from the repository root.
 * Known limit: from 4096 elements on, XLA on CPU hands softmax, log_softmax and
 * sparsemax to YNNPACK (a "__ynn_fusion" in the compiled HLO), whose bfloat16
 * results differ from the HLO's operations in ~2 % of values (measured on all
 * 65536 bfloat16 values as [4096, 16]; float16 and every other activation
 * stay bit for bit there); the goldens keep under that size. */
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

static void check_dtype(const char *dtype, ck_half half, const test_case_list *cases, bool *covered)
{
    char path[512];
    test_array x = {0};
    CHECK(test_load_npy(test_path(path, sizeof path, "%s/%s/x.npy", ROOT, dtype), &x) == 0, "%s", path);
    if (!x.data) return;
    CHECK(x.rank == 2, "%s: x rank %d", dtype, x.rank);
    int64_t rows = x.dim[0], cols = x.dim[1];
    float *y = malloc((size_t)x.size * sizeof *y), *inplace = malloc((size_t)x.size * sizeof *y);
    for (int i = 0; i < cases->n; i++) {
        const char *name = cases->names[i];
        ck_act act;
        CHECK_OK(ck_activation_parse(name, &act));
        covered[act.kind] = true;
        test_array want = {0};
        CHECK(test_load_npy(test_path(path, sizeof path, "%s/%s/%s.npy", ROOT, dtype, name), &want) == 0,
              "%s", path);
        if (!want.data) continue;
        CHECK(want.size == x.size, "%s %s: %lld values, x has %lld", dtype, name, (long long)want.size,
              (long long)x.size);
        ck_act_forward_half(act.kind, half, x.data, y, rows, cols);
        int64_t bad, same = count_equal(y, want.data, x.size, &bad);
        printf("%-9s %-15s %6lld / %lld bit-equal\n", dtype, name, (long long)same, (long long)x.size);
        CHECK(same == x.size, "%s %s: %lld values differ; first at %lld: x %.9g -> ours %.9g, Keras %.9g",
              dtype, name, (long long)(x.size - same), (long long)bad, bad < 0 ? 0.0 : x.data[bad],
              bad < 0 ? 0.0 : y[bad], bad < 0 ? 0.0 : want.data[bad]);
        memcpy(inplace, x.data, (size_t)x.size * sizeof *inplace);
        ck_act_forward_half(act.kind, half, inplace, inplace, rows, cols);
        CHECK(count_equal(inplace, y, x.size, &bad) == x.size, "%s %s: in place differs at %lld", dtype,
              name, (long long)bad);
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
    for (int d = 0; d < 2; d++) {
        bool covered[CK_ACT_COUNT] = {false};
        check_dtype(dtypes[d].dtype, dtypes[d].half, &cases, covered);
        for (int k = 0; k < CK_ACT_COUNT; k++)
            CHECK(covered[k], "%s: no golden for activation %s", dtypes[d].dtype,
                  ck_act_function_name((ck_act_kind)k));
    }
    free(cases.names);
    return test_report("test_half_act");
}
