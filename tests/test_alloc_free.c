/* Steady-state forward and backward passes allocate nothing. For a model around
 * each layer whose hooks used to take scratch from the allocator on every call
 * (the attention family, Layer/Group/Unit/RMSNormalization, Resizing, CenterCrop,
 * UpSampling2D with a resize kernel), and for the convolution paths (Winograd,
 * kernel-row runs, im2col), a training forward + backward after a warm-up step
 * and a weight change (kernels packed again) must make no malloc, calloc,
 * realloc or free call, at the planned batch and at a smaller one. Each layer reads a Dense (or an Embedding) so its
 * input gradient is wanted and its backward runs in full.
 *
 * The calls are counted by wrapping the allocator at link time (CMakeLists.txt:
 * -Wl,--wrap=malloc,...), which redirects every call from this program's objects
 * and the static library's, so the library itself keeps no counter. The
 * counter is atomic: with OMP_NUM_THREADS > 1 a call may come from a worker. A
 * first check proves the wrap sees the library's allocations (a count that can
 * never move would pass vacuously). */
#include "testutil.h"
#include "engine/exec.h"

#include <stdatomic.h>

static atomic_long n_calls;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);

void *__wrap_malloc(size_t n)
{
    atomic_fetch_add_explicit(&n_calls, 1, memory_order_relaxed);
    return __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t size)
{
    atomic_fetch_add_explicit(&n_calls, 1, memory_order_relaxed);
    return __real_calloc(n, size);
}
void *__wrap_realloc(void *p, size_t n)
{
    atomic_fetch_add_explicit(&n_calls, 1, memory_order_relaxed);
    return __real_realloc(p, n);
}
void __wrap_free(void *p)
{
    if (p) atomic_fetch_add_explicit(&n_calls, 1, memory_order_relaxed);
    __real_free(p);
}

static long calls(void) { return atomic_load_explicit(&n_calls, memory_order_relaxed); }

#define BATCH 4
#define MAX_IN 3

typedef struct alloc_case {
    const char *cls, *kwargs;
    const char *inputs[MAX_IN]; /* shapes of the layer's inputs, each after a Dense */
    bool embed;                 /* instead: ids -> Embedding(mask_zero) -> self-attention */
} alloc_case;

/* Input -> Dense(last dim) per input, then the layer on all of them. */
static ck_model *build(const alloc_case *c)
{
    ck_model *g = ck_functional(NULL);
    ck_ktensor *x[MAX_IN], *h[MAX_IN];
    int n = 0;
    if (c->embed) {
        x[n] = ck_input(g, "shape=(5,)");
        h[0] = h[1] = ck_call1(g, ck_layer_new("Embedding", "input_dim=6, output_dim=4, mask_zero=True"), x[n++]);
    }
    for (; !c->embed && n < MAX_IN && c->inputs[n]; n++) {
        char buf[64];
        snprintf(buf, sizeof buf, "shape=%s", c->inputs[n]);
        x[n] = ck_input(g, buf);
        const ck_shape *s = x[n] ? &x[n]->shape : NULL;
        snprintf(buf, sizeof buf, "units=%lld", s ? (long long)s->dim[s->rank - 1] : 1LL);
        h[n] = ck_call1(g, ck_layer_new("Dense", buf), x[n]);
    }
    ck_ktensor *y = ck_call(g, ck_layer_new(c->cls, c->kwargs), h, c->embed ? 2 : n);
    ck_status st = y ? ck_functional_finish(g, x, n, &y, 1) : CK_ERR_CONFIG;
    CHECK(st == CK_OK, "%s(%s): %s", c->cls, c->kwargs, ck_errmsg());
    if (st) {
        ck_model_free(g);
        return NULL;
    }
    return g;
}

/* One training step of `rows` rows: forward, then backward with dy. */
static bool step(const alloc_case *c, ck_exec *ex, const float *const *xs, const float *dy, int64_t rows)
{
    ck_status st = ck_exec_forward(ex, xs, rows, true);
    if (!st) st = ck_exec_backward(ex, &dy);
    CHECK(st == CK_OK, "%s(%s), %lld rows: %s", c->cls, c->kwargs, (long long)rows, ck_errmsg());
    return st == CK_OK;
}

static void run_case(const alloc_case *c)
{
    ck_model *m = build(c);
    ck_exec *ex = NULL;
    float *xs[MAX_IN] = {0}, *dy = NULL;
    if (!m || ck_exec_create(m, BATCH, &ex)) {
        CHECK(0, "%s(%s): %s", c->cls, c->kwargs, ck_errmsg());
        goto done;
    }
    for (int i = 0; i < ck_model_input_count(m); i++) {
        const ck_shape *s = ck_model_input_shape(m, i);
        int64_t n = BATCH;
        for (int d = 1; d < s->rank; d++) n *= s->dim[d];
        xs[i] = malloc((size_t)n * sizeof *xs[i]);
        /* ids 0..5 with zeros (masked steps) for the Embedding; smooth values otherwise */
        for (int64_t k = 0; k < n; k++) xs[i][k] = c->embed ? (float)((k * 7 + 3) % 6) : sinf(0.37f * (float)(k + 11 * i));
    }
    int64_t ny = BATCH * ck_exec_output_size(ex, 0);
    dy = malloc((size_t)ny * sizeof *dy);
    for (int64_t k = 0; k < ny; k++) dy[k] = cosf(0.21f * (float)k);
    const float *const *in = (const float *const *)xs;
    /* warm-up: a layer's own scratch (ck_layer_scratch) is sized on first use */
    if (!step(c, ex, in, dy, BATCH)) goto done;
    for (int64_t rows = BATCH; rows >= BATCH - 1; rows--) {
        ck_model_weights_changed(m); /* as an optimizer step does: kernels are packed again */
        long before = calls();
        if (!step(c, ex, in, dy, rows)) break;
        long n = calls() - before;
        CHECK(n == 0, "%s(%s): %ld allocator calls in a steady-state step of %lld rows", c->cls, c->kwargs, n,
              (long long)rows);
    }
done:
    ck_exec_free(ex);
    ck_model_free(m);
    for (int i = 0; i < MAX_IN; i++) free(xs[i]);
    free(dy);
}

/* CASE(class, kwargs, input shapes...); MASKED(class, kwargs): self-attention
 * on a masked Embedding. */
#define CASE(cls, kw, ...) {cls, kw, {__VA_ARGS__}, false}
#define MASKED(cls, kw) {cls, kw, {NULL}, true}
static const alloc_case cases[] = {
    CASE("MultiHeadAttention", "num_heads=2, key_dim=3", "(4, 6)", "(5, 6)"),
    CASE("MultiHeadAttention", "num_heads=2, key_dim=2, value_dim=3", "(4, 6)", "(5, 3)", "(5, 2)"),
    CASE("MultiHeadAttention", "num_heads=2, key_dim=2, attention_axes=(2,)", "(3, 4, 5)", "(3, 2, 5)"),
    MASKED("MultiHeadAttention", "num_heads=2, key_dim=2"),
    CASE("GroupedQueryAttention", "head_dim=2, num_query_heads=4, num_key_value_heads=2", "(3, 4)", "(2, 4)"),
    CASE("GroupedQueryAttention", "head_dim=2, num_query_heads=4, num_key_value_heads=2, use_bias=False", "(3, 4)",
         "(2, 4)", "(2, 4)"),
    CASE("Attention", "", "(4, 3)", "(3, 2)", "(3, 3)"),
    CASE("Attention", "use_scale=True, score_mode='concat'", "(4, 3)", "(3, 3)"),
    MASKED("Attention", ""),
    CASE("AdditiveAttention", "", "(4, 3)", "(3, 3)"),
    CASE("LayerNormalization", "", "(4, 6)"),
    CASE("LayerNormalization", "axis=(1, 2), rms_scaling=True", "(3, 4, 5)"),
    CASE("GroupNormalization", "groups=2", "(3, 4, 6)"),
    CASE("UnitNormalization", "axis=(1, 2)", "(3, 4, 5)"),
    CASE("RMSNormalization", "", "(4, 6)"),
    CASE("Resizing", "height=5, width=3", "(4, 6, 2)"),
    CASE("Resizing", "height=3, width=3, interpolation='lanczos3', crop_to_aspect_ratio=True", "(4, 6, 2)"),
    CASE("Resizing", "height=6, width=3, interpolation='bicubic', pad_to_aspect_ratio=True", "(4, 6, 2)"),
    CASE("Resizing", "height=3, width=2, data_format='channels_first'", "(2, 4, 6)"),
    CASE("CenterCrop", "height=3, width=3", "(4, 6, 2)"),
    CASE("CenterCrop", "height=5, width=3", "(4, 6, 2)"),
    CASE("UpSampling2D", "size=(2, 3), interpolation='bicubic'", "(3, 2, 2)"),
    CASE("UpSampling2D", "size=2, interpolation='lanczos5'", "(3, 2, 2)"),
    /* convolutions: Winograd F(4x4) and F(2x2), kernel rows on one channel, im2col */
    CASE("Conv2D", "filters=16, kernel_size=3, padding='same', activation='relu'", "(10, 10, 16)"),
    CASE("Conv2D", "filters=16, kernel_size=3, activation='tanh'", "(7, 6, 16)"),
    CASE("Conv2D", "filters=32, kernel_size=3, activation='relu'", "(12, 12, 1)"),
    CASE("Conv2D", "filters=8, kernel_size=5, strides=2, padding='same'", "(9, 9, 3)"),
};

int main(void)
{
    /* the wrap must see the library's allocator: ck_malloc + ck_free are two calls */
    long before = calls();
    ck_free(ck_malloc(16));
    CHECK(calls() - before == 2, "the allocator wrap saw %ld calls of ck_malloc + ck_free, not 2 "
          "(is test_alloc_free linked with -Wl,--wrap?)", calls() - before);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(&cases[i]);
    return test_report("test_alloc_free");
}
