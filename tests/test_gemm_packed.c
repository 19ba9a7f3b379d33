/* The packed-B GEMM (kernels/gemm_packed.c) against cblas_sgemm, for every
 * kernel width this CPU runs: shapes with partial row tiles, partial panels,
 * several K slices and row blocks, strided A and C, beta 0 (C's old contents,
 * NaN here, must not leak) and 1, at 1 and 2 threads. On a CPU without a
 * kernel the test says so and checks that none is offered.
 * Then the engine's packed copies (ck_exec_packed): a predictor made before a
 * weight changes (set_weights, on the model or on a nested model, or a fit
 * step) must predict what a predictor made after it predicts. */
#include "testutil.h"
#include "kernels/gemm_packed.h"

#include <cblas.h>

static float *filled(int64_t n, int seed)
{
    float *p = malloc((size_t)n * sizeof *p);
    for (int64_t i = 0; i < n; i++) p[i] = (float)((i * 7919 + seed * 104729) % 2001) / 1000.0f - 1.0f;
    return p;
}

static void check_shape(int nr, int64_t M, int64_t N, int64_t K, float beta)
{
    int64_t lda = K + 3, ldc = N + 5;
    float *A = filled(M * lda, 1), *B = filled(K * N, 2), *C = filled(M * ldc, 3), *ref = malloc((size_t)(M * ldc) * sizeof *ref);
    float *Bp = malloc((size_t)ck_packed_floats(K, N, nr) * sizeof *Bp);
    if (beta == 0.0f)
        for (int64_t i = 0; i < M * ldc; i++) C[i] = NAN;
    memcpy(ref, C, (size_t)(M * ldc) * sizeof *ref);
    ck_pack_b(B, N, K, N, nr, Bp);
    ck_gemm_packed(nr, M, N, K, A, lda, Bp, beta, C, ldc);
    if (beta == 0.0f)
        for (int64_t i = 0; i < M * ldc; i++) ref[i] = 0.0f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)N, (int)K, 1.0f, A, (int)lda, B, (int)N, 1.0f,
                ref, (int)ldc);
    double worst = 0;
    bool pad_kept = true;
    for (int64_t i = 0; i < M; i++) {
        for (int64_t j = 0; j < N; j++) {
            double e = fabs((double)C[i * ldc + j] - ref[i * ldc + j]) / (1.0 + fabs((double)ref[i * ldc + j]));
            worst = e > worst || e != e ? (e != e ? INFINITY : e) : worst;
        }
        for (int64_t j = N; j < ldc; j++) /* columns past N belong to the caller */
            pad_kept = pad_kept && (beta == 0.0f ? C[i * ldc + j] != C[i * ldc + j] : C[i * ldc + j] == ref[i * ldc + j]);
    }
    CHECK(worst <= 1e-5, "nr %d, %lldx%lldx%lld beta %g: max relative error %g", nr, (long long)M, (long long)N,
          (long long)K, beta, worst);
    CHECK(pad_kept, "nr %d, %lldx%lldx%lld: wrote past column N", nr, (long long)M, (long long)N, (long long)K);
    free(A), free(B), free(C), free(ref), free(Bp);
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

int main(void)
{
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
        }
    ck_set_num_threads(0);
    test_packed_weights_follow_changes();
    return test_report("test_gemm_packed");
}
