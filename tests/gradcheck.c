/* The finite-difference gradient check shared by the test_*gradcheck programs.
 * The loss is L = sum_i <output_i, R_i> with fixed random R_i, so d L / d output_i
 * = R_i; analytic gradients w.r.t. every input element and every weight are
 * compared with central differences of the float32 forward (eps 5e-3: truncation
 * error ~eps^2, rounding ~1e-7 * |L| / eps; the tolerance |analytic - numeric| <=
 * 2e-3 + 1e-2 * max(|analytic|, |numeric|) sits well above both and well below
 * any real bug, which shows up as O(1) errors). */
#include "gradcheck.h"

#include "engine/exec.h"

#define ROWS 3
#define EPS 5e-3
#define ATOL 2e-3
#define RTOL 1e-2

typedef struct check {
    ck_model *m;
    ck_exec *ex;
    float *x[8], *r[8];
    int64_t xn[8], yn[8];
    bool training;
} check;

static uint64_t lcg = 12345;
static int n_models;
static float rnd(void)
{
    /* Uniform in [-1, 1), plenty for test data; fixed sequence. */
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(lcg >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static double loss(check *c)
{
    if (c->training) ck_rng_seed(&ck_exec_run(c->ex)->rng, 7); /* the same dropout mask every pass */
    ck_status st = ck_exec_forward(c->ex, (const float *const *)c->x, ROWS, c->training);
    CHECK(st == CK_OK, "forward: %s", ck_errmsg());
    double L = 0.0;
    for (int i = 0; i < c->m->n_outputs; i++) {
        const float *y = ck_exec_output(c->ex, i);
        for (int64_t k = 0; k < c->yn[i]; k++) L += (double)y[k] * c->r[i][k];
    }
    return L;
}

/* A mismatch is forgiven only at a kink (relu at 0, Maximum at a tie...), seen as
 * a second difference lp - 2 l0 + lm far above the smooth O(f'' eps^2); at most a
 * few per model may be forgiven, so a broken backward cannot hide behind it. */
#define KINK 2e-4
static int n_kinks;

static int compare(const char *label, const char *what, int64_t k, double a, double lp, double l0, double lm)
{
    double n = (lp - lm) / (2 * EPS), tol = ATOL + RTOL * fmax(fabs(a), fabs(n));
    if (fabs(a - n) > tol && fabs(lp - 2 * l0 + lm) > KINK) {
        n_kinks++;
        return 1;
    }
    CHECK(fabs(a - n) <= tol, "%s: d/d%s[%lld]: analytic %.6f, numeric %.6f", label, what, (long long)k, a, n);
    return fabs(a - n) <= tol;
}

/* Checks one model; scale multiplies the random inputs (negative: distinct values). */
/* ids > 0: inputs are integer ids in [0, ids) (Embedding), every row's last two
 * steps 0 (padding, masked under mask_zero), and only the weights are checked. */
static void check_model(const char *label, ck_model *m, float scale, int ids, bool training)
{
    if (m) ck_model_set_seed(m, 1000 + (uint64_t)n_models); /* different weights per model */
    CHECK(m != NULL && ck_model_build(m) == CK_OK && ck_model_built(m), "%s: build: %s", label, ck_errmsg());
    if (!m || !ck_model_built(m)) {
        ck_model_free(m);
        return;
    }
    check c = {.m = m, .training = training};
    CHECK_OK(ck_exec_create(m, ROWS, &c.ex));
    if (!c.ex) {
        ck_model_free(m);
        return;
    }
    ck_exec_want_input_grads(c.ex, ids == 0);
    for (int i = 0; i < m->n_inputs; i++) {
        int64_t s;
        ck_shape_size_from(ck_model_input_shape(m, i), 1, &s);
        c.xn[i] = ROWS * s;
        c.x[i] = malloc((size_t)c.xn[i] * sizeof(float));
        for (int64_t k = 0; k < c.xn[i]; k++)
            c.x[i][k] = ids ? (k % s >= s - 2 ? 0.0f : (float)(1 + (int64_t)((rnd() + 1.0f) * 0.5f * (float)(ids - 1)) % (ids - 1)))
                            : scale * rnd();
    }
    if (scale < 0) {
        /* Maximum/Minimum: distinct values 0.05 apart, so no pair is within EPS of
         * a tie, where the function has no derivative. */
        int64_t j = 0;
        for (int i = 0; i < m->n_inputs; i++)
            for (int64_t k = 0; k < c.xn[i]; k++, j++) c.x[i][k] = (float)((j * 37) % 211) * 0.05f - 5.0f;
    }
    for (int i = 0; i < m->n_outputs; i++) {
        c.yn[i] = ROWS * ck_exec_output_size(c.ex, i);
        c.r[i] = malloc((size_t)c.yn[i] * sizeof(float));
        for (int64_t k = 0; k < c.yn[i]; k++) c.r[i][k] = rnd();
    }
    double l0 = loss(&c);
    n_kinks = 0;
    CHECK_OK(ck_exec_backward(c.ex, (const float *const *)c.r));
    int good = 0, total = 0;
    /* Every analytic gradient is copied before the numeric passes overwrite them. */
    float *gin[8] = {0};
    for (int i = 0; i < m->n_inputs && !ids; i++) {
        const float *g = ck_exec_input_grad(c.ex, i);
        CHECK(g != NULL, "%s: no input gradient %d", label, i);
        if (!g) continue;
        gin[i] = malloc((size_t)c.xn[i] * sizeof(float));
        memcpy(gin[i], g, (size_t)c.xn[i] * sizeof(float));
    }
    float *gw = malloc((size_t)(m->weight_block_size + 1) * sizeof(float));
    memcpy(gw, m->grad_block, (size_t)m->weight_block_size * sizeof(float));
    for (int i = 0; i < m->n_inputs; i++) {
        float *gi = gin[i];
        if (!gi) continue;
        for (int64_t k = 0; k < c.xn[i]; k++) {
            float keep = c.x[i][k];
            c.x[i][k] = keep + (float)EPS;
            double lp = loss(&c);
            c.x[i][k] = keep - (float)EPS;
            double lm = loss(&c);
            c.x[i][k] = keep;
            good += compare(label, "input", k, gi[k], lp, l0, lm);
            total++;
        }
    }
    int nw = ck_model_weight_count(m);
    for (int wi = 0; wi < nw; wi++) {
        ck_weight_info info;
        ck_model_weight(m, wi, &info);
        /* The grad pointer lives beside the value in the model's blocks. */
        int64_t off = info.data - m->weight_block;
        float *v = m->weight_block + off, *ga = gw + off;
        for (int64_t k = 0; k < info.size; k++) {
            float keep = v[k];
            v[k] = keep + (float)EPS;
            double lp = loss(&c);
            v[k] = keep - (float)EPS;
            double lm = loss(&c);
            v[k] = keep;
            good += compare(label, info.path, k, ga[k], lp, l0, lm);
            total++;
        }
    }
    free(gw);
    CHECK(total > 0, "%s: nothing checked", label);
    CHECK(n_kinks * 10 <= total, "%s: %d of %d partials sit on kinks; choose other data", label, n_kinks, total);
    if (n_kinks) printf("  %s: %d partial(s) at a kink not compared\n", label, n_kinks);
    if (good != total) printf("  %s: %d of %d partials agree\n", label, good, total);
    n_models++;
    for (int i = 0; i < 8; i++) {
        free(gin[i]);
        free(c.x[i]);
        free(c.r[i]);
    }
    ck_exec_free(c.ex);
    ck_model_free(m);
}

ck_model *gc_seq(const char *input_shape, const char *cls, const char *kwargs)
{
    ck_model *m = ck_sequential(NULL);
    char buf[128];
    /* ck_layer_new("InputLayer") takes input_shape= (Keras's shape= is ck_input's). */
    snprintf(buf, sizeof buf, "input_shape=%s", input_shape);
    ck_sequential_add(m, ck_layer_new("InputLayer", buf));
    ck_sequential_add(m, ck_layer_new(cls, kwargs));
    return m;
}

/* A functional model applying `cls` to inputs of the given shapes. */
ck_model *gc_merge(const char *cls, const char *kwargs, const char *const *shapes, int n)
{
    ck_model *g = ck_functional(NULL);
    ck_ktensor *in[8];
    for (int i = 0; i < n; i++) {
        char buf[64];
        snprintf(buf, sizeof buf, "shape=%s", shapes[i]);
        in[i] = ck_input(g, buf);
    }
    ck_ktensor *y = ck_call(g, ck_layer_new(cls, kwargs), in, n);
    if (ck_functional_finish(g, in, n, &y, 1)) {
        CHECK(0, "%s: %s", cls, ck_errmsg());
        ck_model_free(g);
        return NULL;
    }
    return g;
}

void gradcheck(const char *label, ck_model *m, float scale, bool training)
{
    check_model(label, m, scale, 0, training);
}

void gradcheck_ids(const char *label, ck_model *m, int ids, bool training)
{
    check_model(label, m, 1.0f, ids, training);
}

int gradcheck_models(void) { return n_models; }
