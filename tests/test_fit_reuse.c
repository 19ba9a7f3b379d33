/* ck_model_predict keeps its engine for the next call: one planned for 16
 * rows serves a 5-row call, with outputs equal bit for bit to a fresh
 * engine's (a ck_predictor), and it is planned again after
 * ck_model_reinitialize.
 *
 * fit called again on the same compiled model reuses the engine the last call
 * planned (ck_compiled.kept), and gives what a fresh engine gives: two fits of
 * a model with Dropout and a Conv2D on one engine end with the same weights,
 * bit for bit, as two fits where the second had to plan again (the model's
 * plan_gen moved). A new engine is planned when the batch changes, after
 * ck_model_reinitialize (a new weight block) and after compile (the kept
 * engine goes with the old compile), and one kept engine trains again after
 * evaluate has run its own. */
#include "testutil.h"
#include "graph/graph.h"
#include "train/train.h"

#include <stdatomic.h>

#define N 48

static ck_model *model(void)
{
    ck_model *m = ck_sequential("reuse");
    ck_sequential_add(m, ck_layer_new("InputLayer", "input_shape=(6, 6, 2)"));
    ck_sequential_add(m, ck_layer_new("Conv2D", "filters=4, kernel_size=3, activation='relu'"));
    ck_sequential_add(m, ck_layer_new("Flatten", ""));
    ck_sequential_add(m, ck_layer_new("Dropout", "rate=0.3"));
    ck_sequential_add(m, ck_dense(3, ""));
    ck_model_set_seed(m, 7);
    CHECK_OK(ck_model_compile(m, "adam", "SparseCategoricalCrossentropy(from_logits=True)", ""));
    return m;
}

static int plans(const ck_model *m) { return ((const ck_compiled *)m->engine)->fit_plans; }

static void fit(ck_model *m, const float *x, const float *y, int64_t batch)
{
    ck_fit_opts o = ck_fit_defaults();
    o.batch_size = batch, o.verbose = 0, o.epochs = 2;
    CHECK_OK(ck_model_fit(m, x, y, N, &o, NULL));
}

static bool same_weights(const ck_model *a, const ck_model *b)
{
    int n = ck_model_weight_count(a);
    bool same = n == ck_model_weight_count(b) && n > 0;
    for (int i = 0; same && i < n; i++) {
        ck_weight_info wa, wb;
        same = !ck_model_weight(a, i, &wa) && !ck_model_weight(b, i, &wb) && wa.size == wb.size &&
               !memcmp(wa.data, wb.data, (size_t)wa.size * sizeof(float));
    }
    return same;
}

static const ck_exec *kept_predict(ck_model *m) { return atomic_load(&m->kept_predict); }

static void check_predict(ck_model *m, const float *x)
{
    float all[N * 3], few[5 * 3], fresh[5 * 3];
    const float *in[1] = {x};
    float *out[1] = {all};
    CHECK_OK(ck_model_predict(m, in, N, out, 16));
    const ck_exec *kept = kept_predict(m);
    CHECK(kept && ck_exec_fits(kept, 16) && !ck_exec_fits(kept, 17), "predict kept no engine for 16 rows");
    out[0] = few;
    CHECK_OK(ck_model_predict(m, in, 5, out, 0));
    CHECK(kept_predict(m) == kept, "a 5-row predict did not reuse the engine planned for 16");
    ck_predictor *p;
    CHECK_OK(ck_predictor_new(m, 5, &p));
    out[0] = fresh;
    CHECK_OK(ck_predictor_run(p, in, 5, out));
    ck_predictor_free(p);
    CHECK(!memcmp(few, fresh, sizeof few), "the kept engine's outputs differ from a fresh one's");
    /* new weights through set_weights: the kept engine sees them */
    int last = ck_model_weight_count(m) - 1; /* the Dense bias */
    ck_weight_info bias;
    CHECK_OK(ck_model_weight(m, last, &bias));
    float moved[3] = {1.5f, -2.0f, 0.25f};
    CHECK_OK(ck_model_set_weight(m, last, &bias.shape, moved));
    float after[5 * 3];
    out[0] = after;
    CHECK_OK(ck_model_predict(m, in, 5, out, 0));
    CHECK(kept_predict(m) == kept, "set_weights made predict plan again");
    bool moved_all = true;
    for (int i = 0; i < 5 * 3; i++) moved_all = moved_all && fabsf(after[i] - few[i] - moved[i % 3]) < 1e-4f;
    CHECK(moved_all, "the kept engine did not see the new bias (the old one was zeros)");
    CHECK_OK(ck_model_reinitialize(m));
    CHECK_OK(ck_model_predict(m, in, 5, out, 0));
    kept = kept_predict(m);
    CHECK(kept && ck_exec_fits(kept, 1), "predict after a new weight block kept a stale engine");
}

int main(void)
{
    float x[N * 72], y[N];
    for (int i = 0; i < N * 72; i++) x[i] = sinf(0.13f * (float)i);
    for (int i = 0; i < N; i++) y[i] = (float)(i % 3);
    ck_model *a = model(), *b = model();
    check_predict(b, x);
    ck_model_free(b);
    b = model();

    fit(a, x, y, 16);
    CHECK(plans(a) == 1, "the first fit planned %d engines, not 1", plans(a));
    fit(a, x, y, 16);
    CHECK(plans(a) == 1, "a second fit at the same batch planned a new engine");

    fit(b, x, y, 16);
    b->plan_gen++; /* as a rebuild does: the second fit plans again */
    fit(b, x, y, 16);
    CHECK(same_weights(a, b), "two fits on one engine differ from two on fresh engines");

    ck_history *h = NULL;
    CHECK_OK(ck_model_evaluate(a, x, y, N, 8, &h));
    ck_history_free(h);
    fit(a, x, y, 16);
    CHECK(plans(a) == 1, "evaluate made fit plan again");
    fit(a, x, y, 8);
    CHECK(plans(a) == 2, "a new batch size kept the old engine");
    CHECK_OK(ck_model_reinitialize(a));
    fit(a, x, y, 8);
    CHECK(plans(a) == 3, "a new weight block kept the old engine");
    CHECK_OK(ck_model_compile(a, "sgd", "SparseCategoricalCrossentropy(from_logits=True)", ""));
    CHECK(((const ck_compiled *)a->engine)->kept == NULL, "compile kept the last compile's engine");
    fit(a, x, y, 8);
    CHECK(plans(a) == 1, "fit after compile planned %d engines, not 1", plans(a));
    ck_model_free(a);
    ck_model_free(b);
    return test_report("test_fit_reuse");
}
