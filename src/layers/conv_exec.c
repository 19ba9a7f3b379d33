/* Forward and backward hooks of the convolution classes: turn a layer's config
 * and concrete tensor shapes into a kernel geometry (TensorFlow's 'same' split,
 * causal left padding, the JAX conv_transpose padding), run kernels/conv.c, then
 * one fused pass of bias and activation. The pre-activation is kept in the
 * engine's workspace only for activations whose derivative cannot be read from
 * the output (relu and relu6 can: y > 0 exactly when z > 0), so the common
 * Conv2D(relu) keeps nothing extra. im2col scratch lives in the engine
 * (ck_exec_scratch), sized once for the largest batch, so steps allocate
 * nothing. Channels-last only: the engine moves a
 * channels_first layer's channel axis (ck_layer_class.channels_first). */
#include "layers/conv_exec.h"
#include "layers/conv_layers.h"
#include "layers/engine_util.h"
#include "layers/layers.h"
#include "kernels/conv.h"
#include "kernels/gemm_packed.h"
#include "kernels/winograd.h"

#include <string.h>

/* At most this many floats of im2col scratch: chunks of samples share one GEMM. */
#define COL_CAP ((int64_t)1 << 20)

/* Fills the spatial part of the geometry; lower ranks get leading extents of 1. */
ck_status ck_conv_geom_of(ck_layer *l, const ck_tensor *x, const ck_tensor *y, bool transpose, const ck_run *ex,
                          ck_conv_geom *g)
{
    const ck_conv_config *c = CK_CFG(l, ck_conv_config);
    int r = c->kernel_size.n;
    ck_status st = ck_runs_channels_last(l, ex, c->data_format);
    if (st) return st;
    if (x->shape.rank != r + 2 || y->shape.rank != r + 2)
        return ck_layer_error(l, CK_ERR_SHAPE, "forward expects rank-%d tensors", r + 2);
    *g = (ck_conv_geom){.batch = x->shape.dim[0], .cin = x->shape.dim[r + 1], .cout = y->shape.dim[r + 1],
                        .groups = 1, .mult = 1};
    for (int a = 0; a < 3; a++) g->in[a] = g->out[a] = g->k[a] = g->s[a] = g->d[a] = 1, g->pad[a] = 0;
    for (int i = 0; i < r; i++) {
        int a = 3 - r + i;
        g->in[a] = x->shape.dim[1 + i];
        g->out[a] = y->shape.dim[1 + i];
        g->k[a] = c->kernel_size.v[i];
        g->s[a] = c->strides.v[i];
        g->d[a] = c->dilation_rate.v[i];
        if (!transpose) {
            g->pad[a] = ck_pad_before(g->in[a], g->out[a], g->k[a], g->s[a], g->d[a], c->padding);
            continue;
        }
        /* JAX's conv_transpose padding (keras backend/jax: left_pad of the dilated
         * input); in scatter form the output is shifted by span - 1 - left_pad. */
        int64_t span = (g->k[a] - 1) * g->d[a] + 1, left = span - 1;
        if (!strcmp(c->padding, "same")) {
            bool none = c->output_padding.is_null || c->output_padding.n == 0;
            int64_t len = none ? g->s[a] + span - 2 : span + span % 2 - 2 + c->output_padding.v[i];
            left = len / 2 + len % 2 < span - 1 ? len / 2 + len % 2 : span - 1;
        }
        g->pad[a] = span - 1 - left;
    }
    g->groups = c->groups > 0 ? c->groups : 1;
    g->mult = c->depth_multiplier > 0 ? c->depth_multiplier : 1;
    return CK_OK;
}

static const float *weight(const ck_layer *l, int i) { return i < l->n_weights ? l->weights[i].value : NULL; }
static float *weight_grad(const ck_layer *l, int i) { return i < l->n_weights ? l->weights[i].grad : NULL; }
static const ck_weight *bias_of(const ck_layer *l)
{
    const ck_conv_config *c = CK_CFG(l, ck_conv_config);
    return c->use_bias ? &l->weights[l->n_weights - 1] : NULL;
}

/* Activations whose derivative reads the same from the output as from the input. */
static bool act_from_output(ck_act_kind k) { return k == CK_ACT_LINEAR || k == CK_ACT_RELU || k == CK_ACT_RELU6; }

static int64_t out_row(const ck_layer *l)
{
    int64_t n;
    if (ck_shape_size_from(&l->out_shapes[0], 1, &n) || n == CK_NONE) return 0;
    return n;
}

int64_t ck_conv_workspace(const ck_layer *l)
{
    return act_from_output(CK_CFG(l, ck_conv_config)->activation.kind) ? 0 : out_row(l);
}

/* The separable layer's depthwise result [npos * cin * m] comes first. */
static int64_t mid_row(const ck_layer *l)
{
    const ck_conv_config *c = CK_CFG(l, ck_conv_config);
    int64_t cout = l->out_shapes[0].dim[l->out_shapes[0].rank - 1], n = out_row(l);
    int64_t cin = l->in_shapes[0].dim[l->in_shapes[0].rank - 1];
    return cout > 0 ? n / cout * cin * c->depth_multiplier : 0;
}
int64_t ck_separable_workspace(const ck_layer *l) { return mid_row(l) + ck_conv_workspace(l); }

/* Where the kernel writes the pre-activation: the output itself, or the kept z. */
static float *preact(const ck_layer *l, ck_tensor *y, float *ws)
{
    return act_from_output(CK_CFG(l, ck_conv_config)->activation.kind) ? y->data : ws;
}

/* The bias and activation the convolution kernel applies chunk by chunk. */
static ck_conv_epilogue epilogue_of(const ck_layer *l, ck_tensor *y)
{
    const ck_weight *b = bias_of(l);
    ck_half half = ck_half_of_dtype(l->dtype);
    return (ck_conv_epilogue){.bias = b && !half ? b->value : NULL, .act = CK_CFG(l, ck_conv_config)->activation.kind,
                              .out = y->data, .half = half, .half_bias = b && half ? b->value : NULL};
}

/* y = act(z + bias) in one pass over the output. */
static void finish(const ck_layer *l, float *z, ck_tensor *y)
{
    const ck_weight *b = bias_of(l);
    int64_t cols = y->shape.dim[y->shape.rank - 1];
    ck_act_kind act = CK_CFG(l, ck_conv_config)->activation.kind;
    ck_half half = ck_half_of_dtype(l->dtype);
    if (half) ck_bias_act_half(half, z, b ? b->value : NULL, y->data, ck_numel(y) / cols, cols, act);
    else ck_bias_act(z, b ? b->value : NULL, y->data, ck_numel(y) / cols, cols, act);
}

/* Where d loss / d z lives: dout itself for linear, else `buf`. */
static const float *dz_base(const ck_layer *l, const ck_tensor *dy, const float *buf)
{
    return CK_CFG(l, ck_conv_config)->activation.kind == CK_ACT_LINEAR ? dy->data : buf;
}

/* out = y > 0 ? d : 0, relu's derivative applied. */
CK_SIMD_CLONES static void relu_back(const float *y, const float *d, float *out, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        float g = d[i]; /* read either way: a load under the condition keeps the loop scalar */
        out[i] = y[i] > 0.0f ? g : 0.0f;
    }
}

/* d loss / d z of output rows [r0, r0 + n) (rows of cout values) into the same
 * rows of `buf` (linear: nothing, dz is dout; made: a fused reader wrote them
 * already), and their bias gradient. */
static void dz_rows(const ck_layer *l, const ck_tensor *y, const ck_tensor *dy, const float *z, float *buf, int64_t r0,
                    int64_t n, bool made)
{
    ck_act_kind k = CK_CFG(l, ck_conv_config)->activation.kind;
    int64_t cols = y->shape.dim[y->shape.rank - 1], at = r0 * cols;
    const float *yv = y->data + at, *d = dy->data + at;
    float *out = buf + at;
    if (!made && k == CK_ACT_RELU) { /* the common case in one pass */
        relu_back(yv, d, out, n * cols);
    } else if (!made && k != CK_ACT_LINEAR) {
        memset(out, 0, (size_t)(n * cols) * sizeof *out);
        ck_act_backward(k, act_from_output(k) ? yv : z + at, yv, d, out, n, cols);
    }
    const ck_weight *b = bias_of(l);
    if (b) ck_sum_rows_acc(b->grad, dz_base(l, dy, buf) + at, n, cols);
}

/* dz_rows over the whole output. */
static const float *dz_of(const ck_layer *l, const ck_tensor *y, const ck_tensor *dy, const float *z, float *buf)
{
    int64_t cols = y->shape.dim[y->shape.rank - 1];
    dz_rows(l, y, dy, z, buf, 0, ck_numel(y) / cols, false);
    return dz_base(l, dy, buf);
}

static int64_t per_sample(const ck_tensor *t) { return t->shape.dim[0] > 0 ? ck_numel(t) / t->shape.dim[0] : 0; }

/* Samples per chunk: their im2col rows and outputs should fit in the cache together. */
static int64_t chunk_of(int64_t per_sample, int64_t batch)
{
    int64_t c = per_sample > 0 ? CK_CONV_CHUNK_FLOATS / per_sample : batch;
    return c < 1 ? 1 : c > batch ? batch : c;
}

static ck_status nomem(const ck_layer *l) { return ck_layer_error(l, CK_ERR_NOMEM, "out of memory for convolution scratch"); }

/* Whether the kernel [K, cout] is worth packing for products of a chunk's rows
 * by K by cout (one group only). */
static bool packs(const ck_conv_geom *g, int64_t chunk, int64_t *K)
{
    *K = g->k[0] * g->k[1] * g->k[2] * g->cin;
    return g->groups == 1 && ck_weight_gemm_packs(chunk * g->out[0] * g->out[1] * g->out[2], g->cout, *K);
}

/* The kernel packed by the engine, when it pays; NULL: cblas. */
static const float *packed_kernel(const ck_conv_geom *g, const float *w, int64_t chunk, ck_run *ex)
{
    int64_t K;
    return packs(g, chunk, &K) ? ck_exec_packed(ex, w, g->cout, K, g->cout) : NULL;
}

/* Finished samples go on to a pooling layer the engine runs behind this one. */
static int hand_on(void *ex, int64_t b0, int64_t n) { return (int)ck_exec_rows_done(ex, b0, n); }

/* Whether the layer runs as Winograd F(2x2, 3x3) (kernels/winograd.h). */
static bool winograd(const ck_conv_geom *g) { return !g->nonfinite_input && ck_winograd_fits(g, ck_packed_nr()); }

/* Whether every value is finite: x - x is 0 for those, NaN for NaN and inf. */
static bool all_finite(const float *x, int64_t n)
{
    float acc = 0.0f;
    for (int64_t i = 0; i < n; i++) acc += x[i] - x[i];
    return acc == 0.0f;
}

/* Its kernel for this pass, transformed and packed once per weights generation
 * (scaled: by a folded reader's scale; for backward: transposed); `scratch`
 * holds ck_winograd_fwd_floats. NULL: out of memory. */
static const float *winograd_kernel(const ck_layer *l, const ck_conv_geom *g, const float *scale, bool backward,
                                    float *scratch, ck_run *ex)
{
    int nr = ck_packed_nr();
    ck_weight_form form = backward ? CK_FORM_WINOGRAD_BACKWARD : scale ? CK_FORM_WINOGRAD_SCALED : CK_FORM_WINOGRAD;
    bool fresh;
    float *p = ck_exec_weight_cache(ex, weight(l, 0), form, ck_winograd_packed_floats(g, backward, nr), &fresh);
    if (p && fresh) ck_winograd_pack(g, weight(l, 0), scale, backward, nr, scratch, p);
    return p;
}

/* The forward by Winograd or by the packed or cblas product; `col` holds
 * ck_winograd_fwd_floats or the im2col chunk, as winograd() says. */
static int run_forward(const ck_layer *l, const ck_conv_geom *g, const float *x, const float *w_packed, float *z,
                       float *col, int64_t chunk, const ck_conv_epilogue *ep)
{
    if (winograd(g)) return ck_winograd_fwd(g, ck_packed_nr(), x, w_packed, z, col, ep);
    return ck_conv_fwd(g, x, weight(l, 0), w_packed, z, col, chunk, ep);
}

/* At inference, a BatchNormalization (and activation) reading only this
 * convolution folded into it: kernel columns scaled, bias and shift combined,
 * the result written straight into the last reader's output. */
static bool fold_readers(const ck_layer *l, const ck_conv_geom *g, const float *x, float *col, int64_t chunk,
                         ck_run *ex)
{
    const ck_weight *b = bias_of(l);
    int64_t K = 0;
    ck_fold f;
    const float *wp = NULL;
    /* a half layer rounds its own result before the BatchNormalization reads it */
    if (ck_half_of_dtype(l->dtype) || CK_CFG(l, ck_conv_config)->activation.kind != CK_ACT_LINEAR ||
        !(winograd(g) || packs(g, chunk, &K)) || !ck_exec_fold(ex, g->cout, b ? b->value : NULL, &f))
        return false;
    wp = winograd(g) ? winograd_kernel(l, g, f.scale, false, col, ex)
                     : ck_exec_packed_scaled(ex, weight(l, 0), g->cout, K, g->cout, f.scale);
    if (!wp) return false;
    ck_exec_fold_taken(ex, &f);
    ck_conv_epilogue ep = {.bias = f.shift, .act = f.act, .out = f.out};
    run_forward(l, g, x, wp, f.out, col, chunk, &ep);
    return true;
}

/* Scratch of the forward pass: Winograd's, or a chunk of im2col rows. */
static int64_t forward_scratch(const ck_conv_geom *g, int64_t chunk)
{
    return winograd(g) ? ck_winograd_fwd_floats(g) : chunk * ck_conv_col_floats(g);
}

ck_status ck_conv_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out;
    ck_conv_geom g;
    ck_status st = ck_conv_geom_of(l, &in[0], &out[0], false, ex, &g);
    if (st) return st;
    g.nonfinite_input = ck_winograd_fits(&g, ck_packed_nr()) && !all_finite(in[0].data, ck_numel(&in[0]));
    int64_t chunk = chunk_of(ck_conv_col_floats(&g) + per_sample(&out[0]), g.batch);
    float *col = ck_exec_scratch(ex, l, forward_scratch(&g, chunk));
    float *z = preact(l, &out[0], ex->workspace);
    if (!col || !z) return col ? ck_layer_error(l, CK_ERR_SHAPE, "the engine needs every input dimension known") : nomem(l);
    if (fold_readers(l, &g, in[0].data, col, chunk, ex)) return CK_OK;
    ck_conv_epilogue ep = epilogue_of(l, &out[0]);
    ep.samples_done = hand_on, ep.ctx = ex;
    const float *wp = winograd(&g) ? winograd_kernel(l, &g, NULL, false, col, ex)
                                   : packed_kernel(&g, weight(l, 0), chunk, ex);
    if (winograd(&g) && !wp) return nomem(l);
    return (ck_status)run_forward(l, &g, in[0].data, wp, z, col, chunk, &ep);
}

/* Backward's chunk prologue: the gradient of those samples from a pooling layer
 * the engine runs behind this one, then their dz, while both are in cache. */
typedef struct dz_chunk_ctx {
    const ck_layer *l;
    const ck_tensor *y, *dy;
    const float *z;
    float *buf;
    int64_t rows_per_sample;
    ck_run *ex;
} dz_chunk_ctx;

static int dz_chunk(void *ctx, int64_t b0, int64_t n)
{
    dz_chunk_ctx *c = ctx;
    bool done = false; /* the pooling wrote dz, relu's derivative applied */
    ck_status st = CK_CFG(c->l, ck_conv_config)->activation.kind == CK_ACT_RELU
                       ? ck_exec_rows_needed_relu(c->ex, b0, n, c->buf, &done)
                       : ck_exec_rows_needed(c->ex, b0, n);
    if (!st) dz_rows(c->l, c->y, c->dy, c->z, c->buf, b0 * c->rows_per_sample, n * c->rows_per_sample, done);
    return (int)st;
}

ck_status ck_conv_backward(CK_BWD_ARGS)
{
    (void)n_in, (void)n_out;
    ck_conv_geom g;
    ck_status st = ck_conv_geom_of(l, &in[0], &out[0], false, ex, &g);
    if (st) return st;
    int64_t colf = ck_conv_col_floats(&g), chunk = chunk_of(colf + per_sample(&out[0]), g.batch);
    int64_t ny = ck_numel(&out[0]);
    float *buf = ck_exec_scratch(ex, l, ny + (winograd(&g) ? ck_winograd_bwd_floats(&g) : chunk * colf));
    if (!buf) return nomem(l);
    dz_chunk_ctx ctx = {l, &out[0], &dout[0], ex->workspace, buf, g.out[0] * g.out[1] * g.out[2], ex};
    ck_conv_prologue pro = {dz_chunk, &ctx};
    const float *dz = dz_base(l, &dout[0], buf);
    if (winograd(&g)) {
        const float *wp = winograd_kernel(l, &g, NULL, true, buf + ny, ex);
        if (!wp) return nomem(l);
        return (ck_status)ck_winograd_bwd(&g, ck_packed_nr(), in[0].data, wp, dz, din[0].data, weight_grad(l, 0),
                                          buf + ny, &pro);
    }
    return (ck_status)ck_conv_bwd(&g, in[0].data, weight(l, 0), dz, din[0].data, weight_grad(l, 0), buf + ny, chunk,
                                  &pro);
}

ck_status ck_conv_transpose_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out;
    ck_conv_geom g;
    ck_status st = ck_conv_geom_of(l, &in[0], &out[0], true, ex, &g);
    if (st) return st;
    int64_t colf = ck_conv_t_col_floats(&g), chunk = chunk_of(colf, g.batch);
    float *col = ck_exec_scratch(ex, l, chunk * colf);
    float *z = preact(l, &out[0], ex->workspace);
    if (!col || !z) return col ? ck_layer_error(l, CK_ERR_SHAPE, "the engine needs every input dimension known") : nomem(l);
    ck_conv_t_fwd(&g, in[0].data, weight(l, 0), z, col, chunk);
    finish(l, z, &out[0]);
    return CK_OK;
}

ck_status ck_conv_transpose_backward(CK_BWD_ARGS)
{
    (void)n_in, (void)n_out;
    ck_conv_geom g;
    ck_status st = ck_conv_geom_of(l, &in[0], &out[0], true, ex, &g);
    if (st) return st;
    int64_t colf = ck_conv_t_col_floats(&g), chunk = chunk_of(colf, g.batch), ny = ck_numel(&out[0]);
    float *buf = ck_exec_scratch(ex, l, ny + chunk * colf);
    if (!buf) return nomem(l);
    const float *dz = dz_of(l, &out[0], &dout[0], ex->workspace, buf);
    ck_conv_t_bwd(&g, in[0].data, weight(l, 0), dz, din[0].data, weight_grad(l, 0), buf + ny, chunk);
    return CK_OK;
}

ck_status ck_depthwise_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out;
    ck_conv_geom g;
    ck_status st = ck_conv_geom_of(l, &in[0], &out[0], false, ex, &g);
    if (st) return st;
    float *z = preact(l, &out[0], ex->workspace);
    if (!z) return ck_layer_error(l, CK_ERR_SHAPE, "the engine needs every input dimension known");
    ck_depthwise_fwd(&g, in[0].data, weight(l, 0), z);
    finish(l, z, &out[0]);
    return CK_OK;
}

ck_status ck_depthwise_backward(CK_BWD_ARGS)
{
    (void)n_in, (void)n_out;
    ck_conv_geom g;
    ck_status st = ck_conv_geom_of(l, &in[0], &out[0], false, ex, &g);
    if (st) return st;
    float *buf = ck_exec_scratch(ex, l, ck_numel(&out[0]));
    if (!buf) return nomem(l);
    const float *dz = dz_of(l, &out[0], &dout[0], ex->workspace, buf);
    ck_depthwise_bwd(&g, in[0].data, weight(l, 0), dz, din[0].data, weight_grad(l, 0));
    return CK_OK;
}

/* The pointwise half of a separable convolution: a 1x1 convolution over the
 * depthwise result, seen as [positions, cin * m]. */
static ck_conv_geom pointwise_of(const ck_conv_geom *g)
{
    int64_t npos = g->batch * g->out[0] * g->out[1] * g->out[2];
    return (ck_conv_geom){.batch = 1, .in = {1, 1, npos}, .out = {1, 1, npos}, .k = {1, 1, 1}, .s = {1, 1, 1},
                          .d = {1, 1, 1}, .cin = g->cin * g->mult, .cout = g->cout, .groups = 1, .mult = 1};
}

ck_status ck_separable_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out;
    ck_conv_geom g;
    ck_status st = ck_conv_geom_of(l, &in[0], &out[0], false, ex, &g);
    if (st) return st;
    if (!ex->workspace) return ck_layer_error(l, CK_ERR_SHAPE, "the engine needs every input dimension known");
    float *mid = ex->workspace; /* [b, out..., cin * m], kept for backward */
    float *z = preact(l, &out[0], mid + g.batch * mid_row(l));
    ck_depthwise_fwd(&g, in[0].data, weight(l, 0), mid);
    ck_round_half(ck_half_of_dtype(l->dtype), mid, mid, g.batch * mid_row(l)); /* Keras rounds between the two */
    ck_conv_geom p = pointwise_of(&g);
    ck_conv_epilogue ep = epilogue_of(l, &out[0]);
    return (ck_status)ck_conv_fwd(&p, mid, weight(l, 1), packed_kernel(&p, weight(l, 1), 1, ex), z, NULL, 1, &ep);
}

ck_status ck_separable_backward(CK_BWD_ARGS)
{
    (void)n_in, (void)n_out;
    ck_conv_geom g;
    ck_status st = ck_conv_geom_of(l, &in[0], &out[0], false, ex, &g);
    if (st) return st;
    int64_t ny = ck_numel(&out[0]), nmid = g.batch * mid_row(l);
    float *buf = ck_exec_scratch(ex, l, ny + nmid);
    if (!buf) return nomem(l);
    const float *mid = ex->workspace;
    const float *dz = dz_of(l, &out[0], &dout[0], mid + nmid, buf);
    float *dmid = buf + ny;
    memset(dmid, 0, (size_t)nmid * sizeof *dmid);
    ck_conv_geom p = pointwise_of(&g);
    ck_conv_bwd(&p, mid, weight(l, 1), dz, dmid, weight_grad(l, 1), NULL, 1, NULL);
    ck_depthwise_bwd(&g, in[0].data, weight(l, 0), dmid, din[0].data, weight_grad(l, 0));
    return CK_OK;
}
