/* The packed-B GEMM (kernels/gemm_packed.c), for every
 * kernel width this CPU runs, within float accumulation's error bound of
 * the exact (double) product: shapes with partial row tiles, partial panels,
 * several K slices and row blocks, strided A and C, beta 0 (C's old contents,
 * NaN here, must not leak) and 1, at 1 and 2 threads. On a CPU without a
 * kernel the test says so and checks that none is offered.
 * Then the engine's packed copies (ck_exec_packed): a predictor made before a
 * weight changes (set_weights, on the model or on a nested model, or a fit
 * step) must predict what a predictor made after it predicts. */
#include "testutil.h"
#include "kernels/gemm_packed.h"
#include "kernels/tensor_ops.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

static float *filled(int64_t n, int seed)
{
    float *p = malloc((size_t)n * sizeof *p);
    for (int64_t i = 0; i < n; i++) p[i] = (float)((i * 7919 + seed * 104729) % 2001) / 1000.0f - 1.0f;
    return p;
}

/* How far got [M, N] (row stride ldg) is from start + A B, computed in double,
 * as a multiple of float accumulation's error bound (K + 2) eps (|start| +
 * sum |a||b|): above 1 is wrong. A [M, K] has row stride lda; start [M, N]
 * (row stride lds) may be NULL; a NaN anywhere counts as infinitely far. */
static double beyond_bound(const float *got, int64_t ldg, const float *A, int64_t lda, const float *B, int64_t M,
                           int64_t N, int64_t K, const float *start, int64_t lds)
{
    double worst = 0;
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double s0 = start ? start[i * lds + j] : 0.0, exact = s0, mag = fabs(s0);
            for (int64_t k = 0; k < K; k++) {
                double p = (double)A[i * lda + k] * B[k * N + j];
                exact += p, mag += fabs(p);
            }
            double r = fabs(got[i * ldg + j] - exact) / ((double)(K + 2) * FLT_EPSILON * mag + 1e-30);
            worst = r != r ? INFINITY : r > worst ? r : worst;
        }
    return worst;
}

/* ck_gemm_packed_rows against the A it describes, built out: every third run
 * is the shared row of zeros (a tap in the padding), the rest point at
 * scattered rows of a source; with a bias, then again with relu. */
static void check_rows(int nr, int64_t M, int64_t N, int64_t taps, int64_t C)
{
    int64_t K = taps * C, nsrc = 37;
    float *src = filled(nsrc * C, 5), *zeros = calloc((size_t)C, sizeof *zeros), *B = filled(K * N, 6);
    float *bias = filled(N, 7), *A = malloc((size_t)(M * K) * sizeof *A), *out = malloc((size_t)(M * N) * sizeof *out);
    float *starts = malloc((size_t)(M * N) * sizeof *starts), *Bp = malloc((size_t)ck_packed_floats(K, N, nr) * sizeof *Bp);
    const float **rows = malloc((size_t)(M * taps) * sizeof *rows);
    for (int64_t i = 0; i < M * taps; i++) {
        rows[i] = i % 3 == 2 ? zeros : src + (i * 11 % nsrc) * C;
        memcpy(A + i * C, rows[i], (size_t)C * sizeof *A);
    }
    for (int64_t i = 0; i < M; i++) memcpy(starts + i * N, bias, (size_t)N * sizeof *starts);
    ck_pack_b(B, N, K, N, NULL, nr, Bp);
    ck_gemm_packed_rows(nr, M, N, taps, C, rows, Bp, 0.0f, bias, false, out, N);
    double r = beyond_bound(out, N, A, K, B, M, N, K, starts, N);
    CHECK(r <= 1.0, "rows, nr %d, M %lld N %lld taps %lld C %lld: %g times the error bound", nr, (long long)M,
          (long long)N, (long long)taps, (long long)C, r);
    /* with relu: the same sums, stored as max(0, sum) */
    float *relu = malloc((size_t)(M * N) * sizeof *relu);
    ck_gemm_packed_rows(nr, M, N, taps, C, rows, Bp, 0.0f, bias, true, relu, N);
    int64_t wrong = 0, zeroed = 0;
    for (int64_t i = 0; i < M * N; i++) {
        wrong += relu[i] != (out[i] > 0.0f ? out[i] : 0.0f);
        zeroed += out[i] < 0.0f;
    }
    CHECK(wrong == 0 && zeroed > 0, "rows with relu, nr %d, taps %lld C %lld: %lld of %lld differ from max(0, sum)",
          nr, (long long)taps, (long long)C, (long long)wrong, (long long)(M * N));
    free(relu);
    free(src), free(zeros), free(B), free(bias), free(A), free(out), free(starts), free(Bp), free(rows);
}

static void check_shape(int nr, int64_t M, int64_t N, int64_t K, float beta)
{
    int64_t lda = K + 3, ldc = N + 5;
    float *A = filled(M * lda, 1), *B = filled(K * N, 2), *C = filled(M * ldc, 3), *old = malloc((size_t)(M * ldc) * sizeof *old);
    float *Bp = malloc((size_t)ck_packed_floats(K, N, nr) * sizeof *Bp), *bias = filled(N, 4);
    if (beta == 0.0f) /* C's old values must not leak; it starts from the bias */
        for (int64_t i = 0; i < M * ldc; i++) C[i] = NAN;
    for (int64_t i = 0; i < M * ldc; i++) old[i] = beta == 0.0f ? (i % ldc < N ? bias[i % ldc] : NAN) : C[i];
    ck_pack_b(B, N, K, N, NULL, nr, Bp);
    ck_gemm_packed(nr, M, N, K, A, lda, Bp, beta, beta == 0.0f ? bias : NULL, C, ldc);
    double r = beyond_bound(C, ldc, A, lda, B, M, N, K, old, ldc);
    bool pad_kept = true;
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = N; j < ldc; j++) /* columns past N belong to the caller */
            pad_kept = pad_kept && (beta == 0.0f ? C[i * ldc + j] != C[i * ldc + j] : C[i * ldc + j] == old[i * ldc + j]);
    CHECK(r <= 1.0, "nr %d, %lldx%lldx%lld beta %g: %g times the error bound", nr, (long long)M, (long long)N,
          (long long)K, beta, r);
    CHECK(pad_kept, "nr %d, %lldx%lldx%lld: wrote past column N", nr, (long long)M, (long long)N, (long long)K);
    free(A), free(B), free(C), free(old), free(Bp), free(bias);
}

/* ck_sgemm_packed, the training products (Dense: X W, X^T dY, dY W^T), at
 * the CPU's widest width: op(A) and op(B) built out and checked as above,
 * with A stored transposed (ta, rows of M floats plus a gap) or B stored
 * transposed (tb, [N, K] with a gap); beta 0 (C's NaNs must not leak) and 1. */
static void check_train_product(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float beta)
{
    int64_t lda = (ta ? M : K) + 2, ldb = (tb ? K : N) + 3, ldc = N + 1;
    float *A = filled((ta ? K : M) * lda, 8), *B = filled((tb ? N : K) * ldb, 9), *C = filled(M * ldc, 10);
    float *Aop = malloc((size_t)(M * K) * sizeof *Aop), *Bop = malloc((size_t)(K * N) * sizeof *Bop);
    float *old = malloc((size_t)(M * ldc) * sizeof *old);
    float *work = malloc((size_t)ck_sgemm_packed_floats(ta, tb, M, N, K) * sizeof *work);
    for (int64_t i = 0; i < M; i++)
        for (int64_t k = 0; k < K; k++) Aop[i * K + k] = ta ? A[k * lda + i] : A[i * lda + k];
    for (int64_t k = 0; k < K; k++)
        for (int64_t j = 0; j < N; j++) Bop[k * N + j] = tb ? B[j * ldb + k] : B[k * ldb + j];
    for (int64_t i = 0; i < M * ldc; i++) {
        old[i] = beta == 0.0f && i % ldc < N ? 0.0f : C[i];
        if (beta == 0.0f && i % ldc < N) C[i] = NAN;
    }
    ck_sgemm_packed(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc, work);
    double r = beyond_bound(C, ldc, Aop, K, Bop, M, N, K, old, ldc);
    bool pad_kept = true;
    for (int64_t i = 0; i < M; i++) pad_kept = pad_kept && C[i * ldc + N] == old[i * ldc + N];
    CHECK(r <= 1.0 && pad_kept, "training product ta %d tb %d, %lldx%lldx%lld beta %g: %g times the error bound%s",
          ta, tb, (long long)M, (long long)N, (long long)K, beta, r, pad_kept ? "" : ", wrote past column N");
    free(A), free(B), free(C), free(Aop), free(Bop), free(old), free(work);
}

/* A nested CNN (Conv2D, Dense and an LSTM big enough to pack) in an outer model. */
static ck_model *packing_model(ck_model **inner_out)
{
    ck_model *inner = ck_sequential("inner");
    ck_sequential_add(inner, ck_layer_new("InputLayer", "input_shape=(10, 10, 8)"));
    ck_sequential_add(inner, ck_layer_new("Conv2D", "filters=16, kernel_size=3, activation='relu'"));
    ck_sequential_add(inner, ck_layer_new("Reshape", "target_shape=(64, 16)"));
    ck_sequential_add(inner, ck_layer_new("LSTM", "units=32, return_sequences=True"));
    ck_model *outer = ck_sequential("outer");
    ck_sequential_add(outer, ck_layer_new("InputLayer", "input_shape=(10, 10, 8)"));
    ck_sequential_add(outer, ck_model_as_layer(inner));
    ck_sequential_add(outer, ck_layer_new("Flatten", ""));
    ck_sequential_add(outer, ck_dense(24, "activation='tanh'"));
    ck_sequential_add(outer, ck_dense(3, ""));
    CHECK_OK(ck_model_build(outer));
    *inner_out = inner;
    return outer;
}

#define PROWS 8
static void expect_fresh(ck_model *m, ck_predictor *old, const float *x, const char *after)
{
    float y_old[PROWS * 3], y_new[PROWS * 3];
    ck_predictor *fresh = NULL;
    CHECK_OK(ck_predictor_run(old, &x, PROWS, (float *[]){y_old}));
    CHECK_OK(ck_predictor_new(m, PROWS, &fresh));
    if (fresh) CHECK_OK(ck_predictor_run(fresh, &x, PROWS, (float *[]){y_new}));
    CHECK(fresh && !memcmp(y_old, y_new, sizeof y_old), "after %s, a predictor made before predicts stale values", after);
    ck_predictor_free(fresh);
}

static void test_packed_weights_follow_changes(void)
{
    ck_model *inner, *m = packing_model(&inner);
    float *x = filled(PROWS * 800, 4), y[PROWS * 3];
    ck_predictor *p = NULL;
    CHECK_OK(ck_predictor_new(m, PROWS, &p));
    if (!p) goto done;
    CHECK_OK(ck_predictor_run(p, (const float *const[]){x}, PROWS, (float *[]){y})); /* packs */
    /* every kernel, through the outer model: conv, LSTM kernel and recurrent, Dense */
    for (int i = 0; i < ck_model_weight_count(m); i++) {
        ck_weight_info w;
        CHECK_OK(ck_model_weight(m, i, &w));
        float *v = filled(w.size, 10 + i);
        CHECK_OK(ck_model_set_weight(m, i, &w.shape, v));
        free(v);
        char what[64];
        snprintf(what, sizeof what, "set_weights of weight %d", i);
        expect_fresh(m, p, x, what);
    }
    /* the nested model's own set_weights (its kernel lives in the outer block) */
    ck_weight_info w;
    CHECK_OK(ck_model_weight(inner, 0, &w));
    float *v = filled(w.size, 99);
    CHECK_OK(ck_model_set_weight(inner, 0, &w.shape, v));
    free(v);
    expect_fresh(m, p, x, "the nested model's set_weights");
    /* a training step */
    float labels[PROWS * 3];
    for (int i = 0; i < PROWS * 3; i++) labels[i] = (float)(i % 3);
    CHECK_OK(ck_model_compile(m, "sgd", "mse", NULL));
    ck_fit_opts o = ck_fit_defaults();
    o.verbose = 0, o.epochs = 1, o.batch_size = PROWS;
    /* twice: the second fit reuses the first one's engine, so nothing but the
     * step itself says the weights moved */
    for (int round = 0; round < 2; round++) {
        CHECK_OK(ck_model_fit(m, x, labels, PROWS, &o, NULL));
        expect_fresh(m, p, x, round ? "a second fit" : "a fit");
    }
    /* within one fit: the validation pass after epoch 2 runs on the same engine
     * as the one after epoch 1, with weights moved by training steps alone */
    ck_history *h = NULL, *ev = NULL;
    o.epochs = 2, o.val_x = x, o.val_y = labels, o.n_val = PROWS;
    CHECK_OK(ck_model_fit(m, x, labels, PROWS, &o, &h));
    CHECK_OK(ck_model_evaluate(m, x, labels, PROWS, PROWS, &ev));
    if (h && ev)
        CHECK(ck_history_value(h, "val_loss", 1) == ck_history_value(ev, "loss", 0),
              "val_loss after epoch 2 %.9g, evaluate after fit %.9g", ck_history_value(h, "val_loss", 1),
              ck_history_value(ev, "loss", 0));
    ck_history_free(h);
    ck_history_free(ev);
done:
    ck_predictor_free(p);
    free(x);
    ck_model_free(m);
}

/* CKERAS_ISA (avx512, avx2, none; unset or anything else: the widest) picks the
 * widest kernel no wider than asked for that the CPU runs; ctest runs this
 * program once per value. */
static void test_isa_choice(void)
{
    const char *env = getenv("CKERAS_ISA"), *got = ck_kernel_isa();
    int asked = !env ? 32 : !strcmp(env, "avx2") ? 16 : !strcmp(env, "none") ? 0 : 32;
    int cpu = 0;
#if defined(__x86_64__) && defined(__GNUC__)
    cpu = __builtin_cpu_supports("avx512f")                                  ? 32
          : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 16
                                                                             : 0;
#endif
    int want = asked < cpu ? asked : cpu;
    CHECK(ck_packed_nr() == want, "CKERAS_ISA=%s: panel width %d, wanted %d", env ? env : "(unset)", ck_packed_nr(),
          want);
    CHECK(!strcmp(got, want == 32 ? "avx512" : want == 16 ? "avx2" : "none"), "CKERAS_ISA=%s: ck_kernel_isa() %s",
          env ? env : "(unset)", got);
}

int main(void)
{
    test_isa_choice();
    int widest = ck_packed_nr();
    if (!widest) {
        printf("test_gemm_packed: no packed kernel on this CPU; callers use cblas_sgemm\n");
        CHECK(ck_packed_floats(8, 8, widest) == 0, "no kernel, yet packed storage is offered");
        test_packed_weights_follow_changes();
        return test_report("test_gemm_packed");
    }
    static const int64_t shapes[][3] = {{1, 1, 1},   {5, 7, 3},     {6, 32, 16},  {7, 33, 17},   {49, 512, 600},
                                        {150, 70, 1100}, {300, 16, 9}, {13, 100, 513}, {2, 1000, 64}};
    for (int nr = widest; nr >= 16; nr /= 2)
        for (int threads = 1; threads <= 2; threads++) {
            ck_set_num_threads(threads);
            for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
                for (int b = 0; b < 2; b++) check_shape(nr, shapes[s][0], shapes[s][1], shapes[s][2], (float)b);
            /* runs: C < KC (whole taps per slice, several slices), C > KC (a tap cut in pieces) */
            check_rows(nr, 50, 40, 9, 8);
            check_rows(nr, 13, 70, 9, 64);
            check_rows(nr, 40, 36, 3, 3); /* kernel rows on one channel: runs of 3 */
            check_rows(nr, 7, 33, 3, 600);
            check_rows(nr, 200, 16, 25, 24);
            /* Dense training at batch 37: forward 784 -> 130, its weight
             * gradient, its input gradient, and a 10-unit layer's (shallow) */
            static const int64_t train[][5] = {{0, 0, 37, 130, 784}, {1, 0, 784, 130, 37}, {0, 1, 37, 784, 130},
                                               {0, 1, 37, 130, 10},  {1, 0, 130, 10, 37}, {0, 0, 5, 17, 600}};
            for (size_t s = 0; nr == widest && s < sizeof train / sizeof train[0]; s++)
                for (int b = 0; b < 2; b++)
                    check_train_product(train[s][0], train[s][1], train[s][2], train[s][3], train[s][4], (float)b);
        }
    ck_set_num_threads(0);
    test_packed_weights_follow_changes();
    return test_report("test_gemm_packed");
}
