/*
 * One C emitter per exported layer class: each checks the layer's config
 * (refusing, by class and name, what the generated code cannot run) and writes
 * the kernel call that computes one sample, as ckeras's engine computes it
 * (kernels/ and the layers' forward hooks). Weight layouts are Keras's, so weights are
 * written as they are; BatchNormalization becomes its inference-time affine
 * map. The table at the end is the list of exported classes.
 */
#include "export/export.h"

#include "engine/run.h"

#include "layers/conv_exec.h"
#include "layers/conv_layers.h"
#include "layers/core_layers.h"
#include "layers/layers.h"
#include "layers/seq_layers.h"
#include "kernels/conv.h"
#include "kernels/resize.h"

#include <math.h>
#include <string.h>

typedef long long ll;

static const ck_shape *in_shape(ex_ctx *c, const ex_step *s, int k) { return &ex_val(c, s->in[k])->shape; }
static const ck_shape *out_shape(ex_ctx *c, const ex_step *s, int k) { return &ex_val(c, s->out[k])->shape; }
static int64_t in_size(ex_ctx *c, const ex_step *s, int k) { return ex_val(c, s->in[k])->size; }
static int64_t out_size(ex_ctx *c, const ex_step *s, int k) { return ex_val(c, s->out[k])->size; }
static int64_t last_dim(const ck_shape *sh) { return sh->rank > 1 ? sh->dim[sh->rank - 1] : 1; }

/* Output = input, then f in place (the copy is skipped when they share storage). */
static void copy_in_to_out(ex_ctx *c, const ex_step *s)
{
    const char *x = ex_in(c, s, 0), *y = ex_out(c, s, 0);
    if (ex_emitting(c) && !strcmp(x, y)) return;
    ex_use(c, "copy");
    ex_line(c, "k_copy(%s, %s, %s);", x, y, ex_rows(c, s->out[0], 1));
}

/* ---- a kernel and bias, with a folded BatchNormalization -------------------------------------- */
bool ex_can_fold(const ck_layer *l)
{
    static const char *const conv[] = {"Conv1D", "Conv2D", "Conv3D", "DepthwiseConv1D", "DepthwiseConv2D",
                                       "SeparableConv1D", "SeparableConv2D"};
    const char *n = l->cls->class_name;
    if (!strcmp(n, "Dense"))
        return CK_CFG(l, ck_dense_config)->activation.kind == CK_ACT_LINEAR && !CK_CFG(l, ck_dense_config)->quantization_config;
    for (int i = 0; i < CK_N_OF(conv); i++) /* channels_first: the channels are not last */
        if (!strcmp(n, conv[i]))
            return CK_CFG(l, ck_conv_config)->activation.kind == CK_ACT_LINEAR &&
                   strcmp(CK_CFG(l, ck_conv_config)->data_format, "channels_first");
    return false;
}

/* The kernel [K, N] (weight wk: output channels last, flattened) and bias [N]
 * (weight wb, or -1: none) a layer multiplies by: its own weights, or, with a
 * BatchNormalization folded in, kernel columns times its scale and bias times
 * its scale plus its shift. Names for the file, values for int8. */
typedef struct kernel_bias {
    const char *kernel, *bias;
    const float *k, *b;
    float *owned;
} kernel_bias;

static ck_status kernel_bias_of(ex_ctx *c, const ck_layer *l, const ex_step *s, int wk, int wb, int64_t N,
                                bool names, kernel_bias *kb)
{
    const ck_weight *w = &l->weights[wk], *bw = wb >= 0 ? &l->weights[wb] : NULL;
    const ck_layer *bn = ex_folded(c, s);
    *kb = (kernel_bias){.kernel = "w", .bias = bw || bn ? "w" : "NULL", .k = w->value, .b = bw ? bw->value : NULL};
    if (!ex_emitting(c)) return CK_OK;
    if (!bn) {
        if (names) kb->kernel = ex_weight(c, l, w);
        if (names && bw) kb->bias = ex_weight(c, l, bw);
        return CK_OK;
    }
    float *o = kb->owned = ck_malloc((size_t)(w->size + 3 * N + 1) * sizeof *o);
    if (!o) return ck_fail(CK_ERR_NOMEM, "out of memory exporting");
    float *k = o, *b = o + w->size, *scale = b + N, *shift = scale + N;
    if (!ex_affine_of(bn, N, scale, shift)) return ex_refuse(bn, "not an affine map over %lld channels", (ll)N);
    for (int64_t i = 0; i < w->size; i++) k[i] = w->value[i] * scale[i % N];
    for (int64_t j = 0; j < N; j++) b[j] = (bw ? bw->value[j] : 0.0f) * scale[j] + shift[j];
    kb->k = k, kb->b = b;
    if (!names) return CK_OK;
    char tag[CK_STR_MAX + 8];
    snprintf(tag, sizeof tag, "%s_bn", w->name);
    kb->kernel = ex_floats(c, l, tag, k, w->size);
    kb->bias = ex_floats(c, l, "bias_bn", b, N);
    return CK_OK;
}

/* ---- core ------------------------------------------------------------------------------- */
/* Dense `cf` over the last axis of the step's input, with l's weights 0 and 1. */
static ck_status dense_call(ex_ctx *c, const ck_layer *l, const ck_dense_config *cf, const ex_step *s)
{
    int64_t n_in = last_dim(in_shape(c, s, 0)), rows = in_size(c, s, 0) / n_in;
    if (cf->quantization_config) return ex_refuse(l, "field 'quantization_config' is set");
    kernel_bias kb;
    bool q8 = ex_int8(c, s) && ex_q8_activation(cf->activation.kind);
    ck_status st = kernel_bias_of(c, l, s, 0, cf->use_bias ? 1 : -1, cf->units, !q8, &kb);
    if (!st && q8) {
        st = ex_dense_q8(c, l, s, kb.k, kb.b, rows, n_in, cf->units, cf->activation.kind);
        ck_free(kb.owned);
        return st;
    }
    ck_free(kb.owned);
    if (st) return st;
    ex_use(c, "dense");
    const char *y = ex_out(c, s, 0), *nrows = ex_rows(c, s->in[0], n_in);
    ex_line(c, "k_dense(%s, %s, %s, %s, %s, %lld, %lld);", ex_in(c, s, 0), kb.kernel, kb.bias, y, nrows, (ll)n_in,
            (ll)cf->units);
    return ex_activation(c, l, cf->activation.kind, y, nrows, cf->units);
}

static ck_status emit_dense(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    return dense_call(c, l, CK_CFG(l, ck_dense_config), s);
}

static ck_status emit_activation(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    copy_in_to_out(c, s);
    int64_t cols = last_dim(out_shape(c, s, 0));
    return ex_activation(c, l, CK_CFG(l, ck_activation_config)->activation.kind, ex_out(c, s, 0),
                         ex_rows(c, s->out[0], cols), cols);
}

static ck_status emit_permute(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    const ck_permute_config *cf = CK_CFG(l, ck_permute_config);
    const ck_shape *x = in_shape(c, s, 0);
    int64_t dims[CK_MAX_RANK], perm[CK_MAX_RANK];
    int rank = x->rank - 1;
    if (cf->dims.n != rank) return ex_refuse(l, "field 'dims' has %d axes for rank %d", cf->dims.n, rank);
    for (int a = 0; a < rank; a++) dims[a] = x->dim[a + 1], perm[a] = cf->dims.v[a] - 1;
    ex_use(c, "transpose");
    ex_line(c, "k_transpose(%s, %s, %d, %s, %s);", ex_in(c, s, 0), ex_out(c, s, 0), rank,
            ex_longs(c, l, "dims", dims, rank), ex_longs(c, l, "perm", perm, rank));
    return CK_OK;
}

static ck_status emit_repeat(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    int64_t n = CK_CFG(l, ck_repeat_vector_config)->n, d = in_size(c, s, 0);
    ex_use(c, "concat_part");
    for (int64_t i = 0; i < n; i++)
        ex_line(c, "k_concat_part(%s, %s, 1, %lld, %lld, %lld);", ex_in(c, s, 0), ex_out(c, s, 0), (ll)d,
                (ll)(n * d), (ll)(i * d));
    (void)l;
    return CK_OK;
}

/* ---- convolutions ------------------------------------------------------------------------- */
static ck_status conv_geom(ex_ctx *c, const ck_layer *l, const ex_step *s, bool transpose, ck_conv_geom *g)
{
    ck_tensor x = {.shape = *in_shape(c, s, 0)}, y = {.shape = *out_shape(c, s, 0)};
    x.shape.dim[0] = y.shape.dim[0] = 1;
    ck_run view;
    ck_status st = ck_conv_geom_of((ck_layer *)l, &x, &y, transpose, ex_view(s, &view), g);
    if (st) return ex_refuse(l, "%s", ck_errmsg());
    return CK_OK;
}

static const char *geom_name(ex_ctx *c, const ck_layer *l, const ck_conv_geom *g)
{
    return ex_geom(c, l, g->in, g->out, g->k, g->s, g->d, g->pad, g->cin, g->cout, g->groups, g->mult);
}

static int bias_index(const ck_layer *l) { return CK_CFG(l, ck_conv_config)->use_bias ? l->n_weights - 1 : -1; }

static const char *conv_bias(ex_ctx *c, const ck_layer *l)
{
    return CK_CFG(l, ck_conv_config)->use_bias ? ex_weight(c, l, &l->weights[l->n_weights - 1]) : "NULL";
}

static ck_status conv_finish(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    int64_t cols = last_dim(out_shape(c, s, 0));
    return ex_activation(c, l, CK_CFG(l, ck_conv_config)->activation.kind, ex_out(c, s, 0),
                         ex_rows(c, s->out[0], cols), cols);
}

static ck_status emit_conv(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    ck_conv_geom g;
    ck_status st = conv_geom(c, l, s, false, &g);
    if (st) return st;
    ck_act_kind act = CK_CFG(l, ck_conv_config)->activation.kind;
    kernel_bias kb;
    bool q8 = ex_int8(c, s) && ex_q8_activation(act) && g.groups == 1;
    if ((st = kernel_bias_of(c, l, s, 0, bias_index(l), g.cout, !q8, &kb))) return st;
    if (q8) {
        st = ex_conv_q8(c, l, s, &g, kb.k, kb.b, geom_name(c, l, &g), act);
        ck_free(kb.owned);
        return st;
    }
    ck_free(kb.owned);
    ex_use(c, "conv");
    const char *geom = ex_geom_now(c, s, geom_name(c, l, &g));
    ex_line(c, "k_conv(%s, %s, %s, %s, %s);", ex_in(c, s, 0), kb.kernel, kb.bias, ex_out(c, s, 0), geom);
    return conv_finish(c, l, s);
}

static ck_status emit_conv_transpose(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    ck_conv_geom g;
    ck_status st = conv_geom(c, l, s, true, &g);
    if (st) return st;
    if (g.groups != 1) return ex_refuse(l, "field 'groups' %lld", (ll)g.groups);
    ex_use(c, "conv_transpose");
    ex_line(c, "k_conv_transpose(%s, %s, %s, %s, &%s);", ex_in(c, s, 0), ex_weight(c, l, &l->weights[0]),
            conv_bias(c, l), ex_out(c, s, 0), geom_name(c, l, &g));
    return conv_finish(c, l, s);
}

static ck_status emit_depthwise(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    ck_conv_geom g;
    ck_status st = conv_geom(c, l, s, false, &g);
    if (st) return st;
    kernel_bias kb;
    if ((st = kernel_bias_of(c, l, s, 0, bias_index(l), g.cin * g.mult, true, &kb))) return st;
    ck_free(kb.owned);
    ex_use(c, "depthwise");
    const char *geom = ex_geom_now(c, s, geom_name(c, l, &g));
    ex_line(c, "k_depthwise(%s, %s, %s, %s, %s);", ex_in(c, s, 0), kb.kernel, kb.bias, ex_out(c, s, 0), geom);
    return conv_finish(c, l, s);
}

/* Depthwise into scratch, then the pointwise kernel [cin * mult, cout] as a Dense. */
static ck_status emit_separable(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    ck_conv_geom g;
    ck_status st = conv_geom(c, l, s, false, &g);
    if (st) return st;
    int64_t npos = g.out[0] * g.out[1] * g.out[2], mid = g.cin * g.mult;
    const char *t = ex_scratch(c, npos * mid);
    ex_use(c, "depthwise");
    ex_use(c, "dense");
    ex_line(c, "k_depthwise(%s, %s, NULL, %s, &%s);", ex_in(c, s, 0), ex_weight(c, l, &l->weights[0]), t,
            geom_name(c, l, &g));
    kernel_bias kb;
    if ((st = kernel_bias_of(c, l, s, 1, bias_index(l), g.cout, true, &kb))) return st;
    ck_free(kb.owned);
    ex_line(c, "k_dense(%s, %s, %s, %s, %lld, %lld, %lld);", t, kb.kernel, kb.bias, ex_out(c, s, 0), (ll)npos,
            (ll)mid, (ll)g.cout);
    return conv_finish(c, l, s);
}

/* ---- pooling ------------------------------------------------------------------------------- */
static ck_status emit_pool(ex_ctx *c, const ck_layer *l, const ex_step *s, bool is_max)
{
    const ck_pool_config *cf = CK_CFG(l, ck_pool_config);
    const ck_shape *x = in_shape(c, s, 0), *y = out_shape(c, s, 0);
    int r = cf->pool_size.n;
    if (strcmp(cf->data_format, "channels_last") && r > 0 && !ex_moved(s))
        return ex_refuse(l, "field 'data_format' 'channels_first'");
    if (x->rank != r + 2) return ex_refuse(l, "input of rank %d", x->rank);
    int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, k[3] = {1, 1, 1}, st[3] = {1, 1, 1}, d[3] = {1, 1, 1},
            pad[3] = {0, 0, 0};
    for (int i = 0; i < r; i++) {
        int a = 3 - r + i;
        in[a] = x->dim[1 + i], out[a] = y->dim[1 + i], k[a] = cf->pool_size.v[i], st[a] = cf->strides.v[i];
        pad[a] = ck_pad_before(in[a], out[a], k[a], st[a], 1, cf->padding);
    }
    int64_t ch = x->dim[r + 1];
    const char *geom = ex_geom_now(c, s, ex_geom(c, l, in, out, k, st, d, pad, ch, ch, 1, 1));
    if (is_max && ex_max_pool_q8(c, s, geom)) return CK_OK;
    ex_use(c, "pool");
    ex_line(c, "k_pool(%s, %s, %s, %d);", ex_in(c, s, 0), ex_out(c, s, 0), geom, is_max);
    return CK_OK;
}
static ck_status emit_max_pool(ex_ctx *c, const ck_layer *l, const ex_step *s) { return emit_pool(c, l, s, true); }
static ck_status emit_avg_pool(ex_ctx *c, const ck_layer *l, const ex_step *s) { return emit_pool(c, l, s, false); }

static ck_status emit_global(ex_ctx *c, const ck_layer *l, const ex_step *s, bool is_max)
{
    if (strcmp(CK_CFG(l, ck_pool_config)->data_format, "channels_last") && !ex_moved(s))
        return ex_refuse(l, "field 'data_format' 'channels_first'");
    int64_t ch = last_dim(in_shape(c, s, 0));
    ex_use(c, "global_pool");
    ex_line(c, "k_global_pool(%s, %s, %s, %lld, %d, %s);", ex_in(c, s, 0), ex_out(c, s, 0), ex_rows(c, s->in[0], ch),
            (ll)ch, is_max, ex_in_mask(c, s, 0));
    return CK_OK;
}
bool ex_window(const ck_layer *l, int64_t *span, int64_t *stride, const char **padding)
{
    const ex_class *ec = ex_find_class(l->cls->class_name);
    if (!ec || !(ec->flags & EX_WINDOW)) return false;
    if (ec->emit == emit_max_pool || ec->emit == emit_avg_pool) {
        const ck_pool_config *cf = CK_CFG(l, ck_pool_config);
        if (cf->pool_size.n != 1 || cf->strides.n != 1) return false;
        *span = cf->pool_size.v[0], *stride = cf->strides.v[0], *padding = cf->padding;
        return true;
    }
    const ck_conv_config *cf = CK_CFG(l, ck_conv_config);
    if (cf->kernel_size.n != 1 || cf->strides.n != 1 || cf->dilation_rate.n != 1) return false;
    *span = cf->dilation_rate.v[0] * (cf->kernel_size.v[0] - 1) + 1;
    *stride = cf->strides.v[0], *padding = cf->padding;
    return true;
}

static ck_status emit_gmax(ex_ctx *c, const ck_layer *l, const ex_step *s) { return emit_global(c, l, s, true); }
static ck_status emit_gavg(ex_ctx *c, const ck_layer *l, const ex_step *s) { return emit_global(c, l, s, false); }

static ck_status emit_resample(ex_ctx *c, const ck_layer *l, const ex_step *s, ck_resize_plan p);

/* ---- padding, cropping, upsampling -------------------------------------------------------------- */
static ck_status emit_resize(ex_ctx *c, const ck_layer *l, const ex_step *s, int r, int op /* 0 pad 1 crop 2 up */)
{
    const ck_resize_config *cf = CK_CFG(l, ck_resize_config);
    const ck_shape *x = in_shape(c, s, 0), *y = out_shape(c, s, 0);
    if (r > 1 && strcmp(cf->data_format, "channels_last") && !ex_moved(s))
        return ex_refuse(l, "field 'data_format' 'channels_first'");
    if (x->rank != r + 2) return ex_refuse(l, "input of rank %d", x->rank);
    ck_resize_method m;
    if (op == 2 && r == 2 && strcmp(cf->interpolation, "nearest")) { /* jax.image.resize's kernels */
        if (!ck_resize_method_of(cf->interpolation, &m)) return ex_refuse(l, "field 'interpolation' '%s'", cf->interpolation);
        return emit_resample(c, l, s, (ck_resize_plan){.images = 1, .h = x->dim[1], .w = x->dim[2], .c = x->dim[3],
                                                       .oh = y->dim[1], .ow = y->dim[2], .box_h = x->dim[1],
                                                       .box_w = x->dim[2], .method = (int)m});
    }
    int64_t p[3][2] = {{0}};
    if (op < 2) {
        ck_status st = ck_parse_pairs(l, op ? "cropping" : "padding", op ? cf->cropping : cf->padding, r, p);
        if (st) return ex_refuse(l, "%s", ck_errmsg());
    }
    int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, off[3] = {0, 0, 0}, size[3] = {1, 1, 1};
    for (int i = 0; i < r; i++) {
        int a = 3 - r + i;
        in[a] = x->dim[1 + i], out[a] = y->dim[1 + i];
        off[a] = op == 0 ? p[i][0] : -p[i][0];
        size[a] = op == 2 ? cf->size.v[i] : 1;
    }
    int64_t ch = x->dim[r + 1];
    if (op == 2) {
        ex_use(c, "upsample");
        ex_line(c, "k_upsample(%s, %s, %s, %s, %lld);", ex_in(c, s, 0), ex_out(c, s, 0), ex_longs(c, l, "in", in, 3),
                ex_longs(c, l, "size", size, 3), (ll)ch);
        return CK_OK;
    }
    ex_use(c, "pad_crop");
    ex_line(c, "k_pad_crop(%s, %s, %s, %s, %s, %lld);", ex_in(c, s, 0), ex_out(c, s, 0), ex_longs(c, l, "in", in, 3),
            ex_longs(c, l, "out", out, 3), ex_longs(c, l, "shift", off, 3), (ll)ch);
    return CK_OK;
}
#define RESIZE_EMITTER(fn, r, op) \
    static ck_status fn(ex_ctx *c, const ck_layer *l, const ex_step *s) { return emit_resize(c, l, s, r, op); }
RESIZE_EMITTER(emit_zp1, 1, 0)
RESIZE_EMITTER(emit_zp2, 2, 0)
RESIZE_EMITTER(emit_zp3, 3, 0)
RESIZE_EMITTER(emit_cr1, 1, 1)
RESIZE_EMITTER(emit_cr2, 2, 1)
RESIZE_EMITTER(emit_cr3, 3, 1)
RESIZE_EMITTER(emit_up1, 1, 2)
RESIZE_EMITTER(emit_up2, 2, 2)
RESIZE_EMITTER(emit_up3, 3, 2)

/* ---- normalization ------------------------------------------------------------------------------- */
/* [outer, dim, inner] around axis ax of a batch-first shape. */
static void split_at(const ck_shape *x, int ax, int64_t *outer, int64_t *dim, int64_t *inner)
{
    *outer = 1, *inner = 1, *dim = x->dim[ax];
    for (int d = 1; d < ax; d++) *outer *= x->dim[d];
    for (int d = ax + 1; d < x->rank; d++) *inner *= x->dim[d];
}

/* BatchNormalization at inference: y = x * a + b per feature of its axis (the
 * layer's own coefficients), where no producer could take it in. */
static ck_status emit_batchnorm(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    const ck_norm_config *cf = CK_CFG(l, ck_norm_config);
    const ck_shape *x = in_shape(c, s, 0);
    int ax;
    if (cf->axis.n != 1 || !ck_normalize_axis(cf->axis.v[0], x->rank, &ax) || ax == 0)
        return ex_refuse(l, "field 'axis' must be one non-batch axis");
    if (cf->renorm) return ex_refuse(l, "field 'renorm' is set");
    int64_t outer, dim, inner;
    split_at(x, ax, &outer, &dim, &inner);
    const char *sc = "w", *sh = "w";
    if (ex_emitting(c)) {
        float *ab = ck_malloc((size_t)(2 * dim + 1) * sizeof *ab);
        if (!ab) return ck_fail(CK_ERR_NOMEM, "out of memory exporting");
        ck_bn_coefficients(l, dim, ab, ab + dim);
        sc = ex_floats(c, l, "scale", ab, dim);
        sh = ex_floats(c, l, "shift", ab + dim, dim);
        ck_free(ab);
    }
    ex_use(c, "affine");
    ex_line(c, "k_affine(%s, %s, %s, %s, %lld, %lld, %lld);", ex_in(c, s, 0), ex_out(c, s, 0), sc, sh, (ll)outer,
            (ll)dim, (ll)inner);
    return CK_OK;
}

/* The non-batch axes of x moved so that the `red` ones come last, in order:
 * perm (y's axis a is x's axis perm[a]) and its inverse; false when they are
 * last already. */
static bool axes_last(const ck_shape *x, const bool *red, int64_t *perm, int64_t *inv)
{
    int r = x->rank - 1, n = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int a = 0; a < r; a++)
            if (red[a + 1] == (pass == 1)) perm[n++] = a;
    bool moved = false;
    for (int a = 0; a < r; a++) inv[perm[a]] = a, moved = moved || perm[a] != a;
    return moved;
}

/* Runs `call_fmt` (a format whose %s, one or two, all stand for the buffer it
 * works on in place) on x with the reduced axes moved last, writing the result
 * to the step's output. */
static void with_axes_last(ex_ctx *c, const ck_layer *l, const ex_step *s, const bool *red, const char *call_fmt)
{
    char call[1024];
    snprintf(call, sizeof call, "%s", call_fmt); /* the context's strings are reused below */
    const ck_shape *x = in_shape(c, s, 0);
    int64_t perm[CK_MAX_RANK], inv[CK_MAX_RANK], dims[CK_MAX_RANK], tdims[CK_MAX_RANK];
    int r = x->rank - 1;
    if (!axes_last(x, red, perm, inv)) {
        copy_in_to_out(c, s);
        ex_line(c, call, ex_out(c, s, 0), ex_out(c, s, 0)); /* a second argument for a second %s */
        return;
    }
    for (int a = 0; a < r; a++) dims[a] = x->dim[a + 1];
    for (int a = 0; a < r; a++) tdims[a] = dims[perm[a]];
    const char *t = ex_scratch(c, in_size(c, s, 0));
    ex_use(c, "transpose");
    ex_line(c, "k_transpose(%s, %s, %d, %s, %s);", ex_in(c, s, 0), t, r, ex_longs(c, l, "dims", dims, r),
            ex_longs(c, l, "to_last", perm, r));
    ex_line(c, call, t, t);
    ex_line(c, "k_transpose(%s, %s, %d, %s, %s);", t, ex_out(c, s, 0), r, ex_longs(c, l, "moved_dims", tdims, r),
            ex_longs(c, l, "back", inv, r));
}

/* The axes a Layer/Unit/RMSNormalization reduces; their element count. */
static ck_status reduced_axes(const ck_layer *l, const ck_shape *x, bool *red, int64_t *dim)
{
    const ck_ints *a = &CK_CFG(l, ck_norm_config)->axis;
    memset(red, 0, CK_MAX_RANK * sizeof *red);
    *dim = 1;
    for (int i = 0; i < a->n; i++) {
        int ax;
        if (!ck_normalize_axis(a->v[i], x->rank, &ax) || ax == 0) return ex_refuse(l, "field 'axis'");
        if (!red[ax]) *dim *= x->dim[ax];
        red[ax] = true;
    }
    return a->n ? CK_OK : ex_refuse(l, "field 'axis' names no axis");
}

/* LayerNormalization, UnitNormalization and RMSNormalization over any axes. */
static ck_status emit_norm(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    const ck_norm_config *cf = CK_CFG(l, ck_norm_config);
    const char *cls = l->cls->class_name;
    bool red[CK_MAX_RANK];
    int64_t dim;
    ck_status st = reduced_axes(l, in_shape(c, s, 0), red, &dim);
    if (st) return st;
    int mode = !strcmp(cls, "UnitNormalization") ? 2 : !strcmp(cls, "RMSNormalization") ? 3 : cf->rms_scaling;
    const char *gamma = "NULL", *beta = "NULL";
    if (mode == 3 || (mode < 2 && (cf->scale || cf->rms_scaling))) gamma = ex_weight(c, l, &l->weights[0]);
    if (mode == 0 && cf->center) beta = ex_weight(c, l, &l->weights[cf->scale ? 1 : 0]);
    ex_use(c, "layer_norm");
    with_axes_last(c, l, s, red,
                   ex_str(c, "k_layer_norm(%%s, %%s, %s, %s, %lld, %lld, %s, %d);", gamma, beta,
                          (ll)(in_size(c, s, 0) / dim), (ll)dim, ex_float(c, mode == 2 ? 0.0 : cf->epsilon), mode));
    return CK_OK;
}

static ck_status emit_groupnorm(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    const ck_norm_config *cf = CK_CFG(l, ck_norm_config);
    const ck_shape *x = in_shape(c, s, 0);
    int ax;
    if (cf->axis.n != 1 || !ck_normalize_axis(cf->axis.v[0], x->rank, &ax) || ax == 0)
        return ex_refuse(l, "field 'axis' must be one non-batch axis");
    int64_t pre, ch, post;
    split_at(x, ax, &pre, &ch, &post);
    if (cf->groups < 1 || ch % cf->groups) return ex_refuse(l, "field 'groups' %lld", (ll)cf->groups);
    const char *gamma = cf->scale ? ex_weight(c, l, &l->weights[0]) : "NULL";
    const char *beta = cf->center ? ex_weight(c, l, &l->weights[cf->scale ? 1 : 0]) : "NULL";
    ex_use(c, "group_norm");
    ex_line(c, "k_group_norm(%s, %s, %s, %s, %lld, %lld, %lld, %lld, %s);", ex_in(c, s, 0), ex_out(c, s, 0), gamma,
            beta, (ll)pre, (ll)ch, (ll)post, (ll)cf->groups, ex_float(c, cf->epsilon));
    return CK_OK;
}

/* Normalization: mean and max(sqrt(variance), 1e-7) broadcast over one sample
 * at export, from the layer's weights or its config's constants. */
static ck_status emit_normalization(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    const ck_prep_config *cf = CK_CFG(l, ck_prep_config);
    const ck_shape *x = in_shape(c, s, 0);
    bool keep[CK_MAX_RANK] = {0};
    for (int i = 0; !cf->axis.is_null && i < cf->axis.n; i++) {
        int ax;
        if (ck_normalize_axis(cf->axis.v[i], x->rank, &ax)) keep[ax] = true;
    }
    int64_t n = in_size(c, s, 0), na = 0, nb = 0;
    const float *mean = NULL, *var = NULL;
    if (!(cf->mean && ck_prep_constants(l, &mean, &na, &var, &nb))) {
        if (l->n_weights < 2) return ex_refuse(l, "no mean and variance");
        mean = l->weights[0].value, var = l->weights[1].value, na = l->weights[0].size, nb = l->weights[1].size;
    }
    const char *mn = "w", *sn = "w";
    if (ex_emitting(c)) {
        float *full = ck_malloc((size_t)(2 * n + 1) * sizeof *full);
        if (!full) return ck_fail(CK_ERR_NOMEM, "out of memory exporting");
        for (int64_t i = 0; i < n; i++) {
            int64_t rem = i, idx = 0, stride = 1;
            for (int d = x->rank - 1; d >= 1; d--) {
                int64_t at = rem % x->dim[d];
                rem /= x->dim[d];
                if (keep[d]) idx += at * stride, stride *= x->dim[d];
            }
            float sd = sqrtf(var[nb == 1 ? 0 : idx]);
            if (!(sd >= 1e-7f)) sd = sd != sd ? sd : 1e-7f;
            full[i] = mean[na == 1 ? 0 : idx], full[n + i] = sd;
        }
        mn = ex_floats(c, l, "mean", full, n);
        sn = ex_floats(c, l, "sd", full + n, n);
        ck_free(full);
    }
    ex_use(c, "standardize");
    ex_line(c, "k_standardize(%s, %s, %s, %s, %lld, %d);", ex_in(c, s, 0), ex_out(c, s, 0), mn, sn, (ll)n, cf->invert);
    return CK_OK;
}

/* LayerScale (ConvNeXt): y = x * gamma along the last axis. */
static ck_status emit_layerscale(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    int64_t ch = last_dim(in_shape(c, s, 0));
    if (l->weights[0].size != ch) return ex_refuse(l, "gamma of %lld values", (ll)l->weights[0].size);
    ex_use(c, "affine");
    ex_line(c, "k_affine(%s, %s, %s, NULL, %lld, %lld, 1);", ex_in(c, s, 0), ex_out(c, s, 0),
            ex_weight(c, l, &l->weights[0]), (ll)(in_size(c, s, 0) / ch), (ll)ch);
    return CK_OK;
}

/* Rescaling: y = x * scale + offset, each a number or one per channel. */
static ck_status emit_rescaling(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    int64_t ch = last_dim(in_shape(c, s, 0)), na, nb;
    const float *a, *b;
    if (!ck_prep_constants(l, &a, &na, &b, &nb)) return ex_refuse(l, "no scale and offset");
    if ((na != 1 && na != ch) || (nb != 1 && nb != ch)) return ex_refuse(l, "scale/offset do not match the channels");
    const char *sa = "w", *sb = "w";
    if (ex_emitting(c)) {
        float *ab = ck_malloc((size_t)(2 * ch) * sizeof *ab);
        if (!ab) return ck_fail(CK_ERR_NOMEM, "out of memory exporting");
        for (int64_t j = 0; j < ch; j++) ab[j] = a[na == 1 ? 0 : j], ab[ch + j] = b[nb == 1 ? 0 : j];
        sa = ex_floats(c, l, "scale", ab, ch);
        sb = ex_floats(c, l, "offset", ab + ch, ch);
        ck_free(ab);
    }
    ex_use(c, "affine");
    ex_line(c, "k_affine(%s, %s, %s, %s, %lld, %lld, 1);", ex_in(c, s, 0), ex_out(c, s, 0), sa, sb,
            (ll)(in_size(c, s, 0) / ch), (ll)ch);
    return CK_OK;
}

/* Resizing and CenterCrop: the box and resampling weights are computed here,
 * by the functions ckeras's forward uses (kernels/resize.c). */
static ck_status emit_resample(ex_ctx *c, const ck_layer *l, const ex_step *s, ck_resize_plan p)
{
    bool whole = !p.pad && p.box_h == p.h && p.box_w == p.w, nearest = p.method == CK_RESIZE_NEAREST;
    const char *boxed = whole ? "NULL" : ex_scratch(c, p.box_h * p.box_w * p.c);
    const char *tmp = nearest ? "NULL" : ex_scratch(c, p.oh * p.box_w * p.c);
    const char *wh = "NULL", *ww = "NULL", *rows = "NULL", *cols = "NULL";
    if (ex_emitting(c)) {
        int64_t nw = p.oh * p.box_h + p.ow * p.box_w + p.oh + p.ow + 2;
        float *buf = ck_malloc((size_t)nw * sizeof *buf);
        int64_t *idx = ck_malloc((size_t)(p.oh + p.ow + 2) * sizeof *idx);
        if (!buf || !idx) {
            ck_free(buf);
            ck_free(idx);
            return ck_fail(CK_ERR_NOMEM, "out of memory exporting");
        }
        if (nearest) {
            for (int64_t o = 0; o < p.oh; o++) idx[o] = p.oh == p.box_h ? o : ck_resize_nearest_src(p.box_h, p.oh, o);
            for (int64_t o = 0; o < p.ow; o++)
                idx[p.oh + o] = p.ow == p.box_w ? o : ck_resize_nearest_src(p.box_w, p.ow, o);
            rows = ex_longs(c, l, "rows", idx, (int)p.oh);
            cols = ex_longs(c, l, "cols", idx + p.oh, (int)p.ow);
        } else {
            if (p.oh != p.box_h) {
                ck_resize_weights(p.box_h, p.oh, (ck_resize_method)p.method, p.antialias, buf);
                wh = ex_floats(c, l, "rows", buf, p.oh * p.box_h);
            }
            if (p.ow != p.box_w) {
                ck_resize_weights(p.box_w, p.ow, (ck_resize_method)p.method, p.antialias, buf);
                ww = ex_floats(c, l, "cols", buf, p.ow * p.box_w);
            }
        }
        ck_free(buf);
        ck_free(idx);
    }
    int64_t g[11] = {p.images, p.h, p.w, p.c, p.box_h, p.box_w, p.top, p.left, p.pad, p.oh, p.ow};
    ex_use(c, "resize");
    ex_line(c, "k_resize(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s);", ex_in(c, s, 0), ex_out(c, s, 0),
            ex_longs(c, l, "geometry", g, 11), ex_float(c, p.fill), wh, ww, rows, cols, boxed, tmp);
    return CK_OK;
}

static ck_status emit_resizing(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    ck_resize_plan p;
    if (ck_resize_plan_of(l, in_shape(c, s, 0), out_shape(c, s, 0), &p)) return ex_refuse(l, "%s", ck_errmsg());
    return emit_resample(c, l, s, p);
}

/* ---- activation layers -------------------------------------------------------------------------- */
static ck_status emit_relu(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    const ck_act_layer_config *cf = CK_CFG(l, ck_act_layer_config);
    copy_in_to_out(c, s);
    ex_use(c, "relu_layer");
    ex_line(c, "k_relu_layer(%s, %lld, %s, %s, %s);", ex_out(c, s, 0), (ll)out_size(c, s, 0),
            ex_float(c, isnan(cf->max_value) ? -1.0 : cf->max_value), ex_float(c, cf->negative_slope),
            ex_float(c, cf->threshold));
    return CK_OK;
}

static ck_status emit_leaky(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    copy_in_to_out(c, s);
    ex_use(c, "leaky");
    ex_line(c, "k_leaky(%s, %lld, %s);", ex_out(c, s, 0), (ll)out_size(c, s, 0),
            ex_float(c, CK_CFG(l, ck_act_layer_config)->negative_slope));
    return CK_OK;
}

static ck_status emit_elu(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    copy_in_to_out(c, s);
    ex_use(c, "elu");
    ex_line(c, "k_elu(%s, %lld, %s);", ex_out(c, s, 0), (ll)out_size(c, s, 0),
            ex_float(c, CK_CFG(l, ck_act_layer_config)->alpha));
    return CK_OK;
}

/* PReLU: alpha broadcast over one sample once, at export. */
static ck_status emit_prelu(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    const ck_shape *x = in_shape(c, s, 0);
    const ck_weight *w = &l->weights[0];
    int64_t n = in_size(c, s, 0);
    const char *alpha = "w";
    if (w->shape.rank != x->rank - 1) return ex_refuse(l, "alpha of rank %d", w->shape.rank);
    if (ex_emitting(c)) {
        float *full = ck_malloc((size_t)(n + 1) * sizeof *full);
        if (!full) return ck_fail(CK_ERR_NOMEM, "out of memory exporting");
        for (int64_t i = 0; i < n; i++) {
            int64_t rem = i, ai = 0, stride = 1;
            for (int d = x->rank - 1; d >= 1; d--) {
                int64_t idx = rem % x->dim[d];
                rem /= x->dim[d];
                ai += (w->shape.dim[d - 1] == 1 ? 0 : idx) * stride;
                stride *= w->shape.dim[d - 1];
            }
            full[i] = w->value[ai];
        }
        alpha = ex_floats(c, l, "alpha", full, n);
        ck_free(full);
    }
    copy_in_to_out(c, s);
    ex_use(c, "prelu");
    ex_line(c, "k_prelu(%s, %s, %lld);", ex_out(c, s, 0), alpha, (ll)n);
    return CK_OK;
}

static ck_status emit_softmax(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    const ck_ints *a = &CK_CFG(l, ck_act_layer_config)->axis;
    const ck_shape *x = in_shape(c, s, 0);
    bool red[CK_MAX_RANK] = {0};
    int ax;
    if (a->n != 1 || !ck_normalize_axis(a->v[0], x->rank, &ax) || ax == 0)
        return ex_refuse(l, "field 'axis' must be one non-batch axis");
    if (s->n_in > 1) return ex_refuse(l, "a mask input");
    /* Softmax.call broadcasts a [batch, steps] mask from the right, so row b
     * reads other samples' flags (keras/src/layers/activations/softmax.py) */
    if (strcmp(ex_in_mask(c, s, 0), "NULL"))
        return ex_refuse(l, "its input carries a Keras mask, which Keras's Softmax applies across the batch");
    red[ax] = true;
    int64_t cols = x->dim[ax];
    ex_use(c, "softmax");
    with_axes_last(c, l, s, red, ex_str(c, "k_softmax(%%s, %lld, %lld, 0);", (ll)(in_size(c, s, 0) / cols), (ll)cols));
    return CK_OK;
}

/* ---- merging ------------------------------------------------------------------------------------ */
/* Strides of input k over the output's non-batch dims, 0 where it broadcasts
 * (numpy rules: trailing dims aligned). */
static void bcast_strides(const ck_shape *x, const ck_shape *y, int64_t *st)
{
    int64_t acc = 1;
    int ry = y->rank - 1, rx = x->rank - 1;
    for (int d = ry - 1; d >= 0; d--) {
        int xd = d - (ry - rx);
        int64_t ext = xd >= 0 ? x->dim[xd + 1] : 1;
        st[d] = ext == 1 ? 0 : acc;
        acc *= ext;
    }
}

/* x + 3.0 and friends: a numpy operation with a number, one input. */
static bool emit_scalar_op(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    int op;
    double v;
    bool first;
    if (!ck_scalar_op_of(l, &op, &v, &first)) return false;
    ex_use(c, "scalar_op");
    ex_line(c, "k_scalar_op(%s, %s, %lld, %s, %d, %d);", ex_in(c, s, 0), ex_out(c, s, 0), (ll)out_size(c, s, 0),
            ex_float(c, v), op, first);
    return true;
}

static ck_status emit_divide(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    return emit_scalar_op(c, l, s) ? CK_OK : ex_refuse(l, "a division of two tensors");
}

static ck_status emit_merge(ex_ctx *c, const ck_layer *l, const ex_step *s, int op, bool average)
{
    if (emit_scalar_op(c, l, s)) return CK_OK;
    const ck_shape *y = out_shape(c, s, 0);
    int rank = y->rank - 1;
    int64_t dims[CK_MAX_RANK], full[CK_MAX_RANK], sa[CK_MAX_RANK];
    for (int d = 0; d < rank; d++) dims[d] = y->dim[d + 1];
    bcast_strides(y, y, full);
    if (s->n_in < 2) return ex_refuse(l, "fewer than two inputs");
    ex_use(c, "binary");
    const char *yn = ex_out(c, s, 0), *dn = ex_longs(c, l, "dims", dims, rank);
    const char *fulln = s->n_in > 2 ? ex_longs(c, l, "strides", full, rank) : NULL;
    bcast_strides(in_shape(c, s, 0), y, sa);
    const char *a0 = ex_in(c, s, 0), *s0 = ex_longs(c, l, "strides0", sa, rank);
    for (int k = 1; k < s->n_in; k++) {
        char tag[32];
        snprintf(tag, sizeof tag, "strides%d", k);
        bcast_strides(in_shape(c, s, k), y, sa);
        ex_line(c, "k_binary(%s, %s, %s, %s, %s, %d, %s, %d);", k == 1 ? a0 : yn, k == 1 ? s0 : fulln, ex_in(c, s, k),
                ex_longs(c, l, tag, sa, rank), yn, rank, dn, op);
    }
    if (average) {
        ex_use(c, "div");
        ex_line(c, "k_div(%s, %lld, %d.0f);", yn, (ll)out_size(c, s, 0), s->n_in);
    }
    return CK_OK;
}
#define MERGE_EMITTER(fn, op, avg) \
    static ck_status fn(ex_ctx *c, const ck_layer *l, const ex_step *s) { return emit_merge(c, l, s, op, avg); }
MERGE_EMITTER(emit_add, 0, false)
MERGE_EMITTER(emit_subtract, 1, false)
MERGE_EMITTER(emit_multiply, 2, false)
MERGE_EMITTER(emit_maximum, 3, false)
MERGE_EMITTER(emit_minimum, 4, false)
MERGE_EMITTER(emit_average, 0, true)

static ck_status emit_concatenate(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    const ck_shape *y = out_shape(c, s, 0);
    int ax;
    if (!ck_normalize_axis(CK_CFG(l, ck_concatenate_config)->axis, y->rank, &ax) || ax == 0)
        return ex_refuse(l, "field 'axis'");
    int64_t outer, dim, inner, at = 0;
    split_at(y, ax, &outer, &dim, &inner);
    ex_use(c, "concat_part");
    for (int k = 0; k < s->n_in; k++) {
        int64_t w = in_shape(c, s, k)->dim[ax] * inner;
        ex_line(c, "k_concat_part(%s, %s, %lld, %lld, %lld, %lld);", ex_in(c, s, k), ex_out(c, s, 0), (ll)outer, (ll)w,
                (ll)(dim * inner), (ll)at);
        at += w;
    }
    return CK_OK;
}

static ck_status emit_dot(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    ck_shape sh[2] = {*in_shape(c, s, 0), *in_shape(c, s, 1)};
    int axes[2];
    if (ck_dot_axes(l, sh, axes)) return ex_refuse(l, "%s", ck_errmsg());
    int64_t pre[2], K[2], post[2];
    for (int k = 0; k < 2; k++) split_at(&sh[k], axes[k], &pre[k], &K[k], &post[k]);
    bool norm = CK_CFG(l, ck_dot_config)->normalize;
    const char *ua = norm ? ex_scratch(c, in_size(c, s, 0)) : "NULL", *ub = norm ? ex_scratch(c, in_size(c, s, 1)) : "NULL";
    ex_use(c, "dot");
    ex_line(c, "k_dot(%s, %s, %s, %lld, %lld, %lld, %lld, %lld, %s, %s);", ex_in(c, s, 0), ex_in(c, s, 1),
            ex_out(c, s, 0), (ll)pre[0], (ll)post[0], (ll)pre[1], (ll)post[1], (ll)K[0], ua, ub);
    return CK_OK;
}

/* ---- embedding ------------------------------------------------------------------------------------ */
static ck_status emit_embedding(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    const ck_embedding_config *cf = CK_CFG(l, ck_embedding_config);
    if (cf->quantization_config) return ex_refuse(l, "field 'quantization_config' is set");
    ex_use(c, "embedding");
    ex_line(c, "if (k_embedding(%s, %s, %s, %s, %lld, %lld)) return 1;", ex_in(c, s, 0),
            ex_weight(c, l, &l->weights[0]), ex_out(c, s, 0), ex_rows(c, s->in[0], 1), (ll)cf->input_dim,
            (ll)cf->output_dim);
    if (s->mask_out >= 0) {
        ex_use(c, "mask_nonzero");
        ex_line(c, "k_mask_nonzero(%s, %s, %s);", ex_in(c, s, 0), ex_out_mask(c, s), ex_rows(c, s->in[0], 1));
    }
    return CK_OK;
}

static ck_status emit_masking(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    int64_t d = last_dim(in_shape(c, s, 0));
    if (s->mask_out < 0) return ex_refuse(l, "no mask planned");
    ex_use(c, "masking");
    ex_line(c, "k_masking(%s, %s, %s, %s, %lld, %s);", ex_in(c, s, 0), ex_out(c, s, 0), ex_out_mask(c, s),
            ex_rows(c, s->in[0], d), (ll)d, ex_float(c, CK_CFG(l, ck_masking_config)->mask_value));
    return CK_OK;
}

/* Flatten reorders nothing channels-last: it shares its input's floats;
 * channels_first (not an alias then) flattens with the channels moved last,
 * as Keras's Flatten does. */
static ck_status emit_flatten(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    const ck_shape *x = in_shape(c, s, 0);
    if (s->aliased) return CK_OK;
    if (x->rank <= 2 || strcmp(CK_CFG(l, ck_flatten_config)->data_format, "channels_first")) {
        copy_in_to_out(c, s); /* a slice of a TimeDistributed */
        return CK_OK;
    }
    int64_t dims[CK_MAX_RANK], perm[CK_MAX_RANK];
    int r = x->rank - 1;
    for (int a = 0; a < r; a++) dims[a] = x->dim[a + 1], perm[a] = a == r - 1 ? 0 : a + 1;
    ex_use(c, "transpose");
    ex_line(c, "k_transpose(%s, %s, %d, %s, %s);", ex_in(c, s, 0), ex_out(c, s, 0), r, ex_longs(c, l, "dims", dims, r),
            ex_longs(c, l, "channels_last", perm, r));
    return CK_OK;
}

/* ---- recurrent ------------------------------------------------------------------------------------ */
/* The k_act_* function of an element-wise activation, as an expression. */
static const char *act_fn(ex_ctx *c, const ck_layer *l, ck_act_kind kind, ck_status *st)
{
    static const struct {
        ck_act_kind kind;
        const char *name;
    } fns[] = {{CK_ACT_LINEAR, "linear"}, {CK_ACT_TANH, "tanh"}, {CK_ACT_SIGMOID, "sigmoid"}, {CK_ACT_RELU, "relu"},
               {CK_ACT_HARD_SIGMOID, "hard_sigmoid"}, {CK_ACT_ELU, "elu"}, {CK_ACT_SELU, "selu"},
               {CK_ACT_SOFTSIGN, "softsign"}, {CK_ACT_RELU6, "relu6"}, {CK_ACT_SILU, "silu"}, {CK_ACT_GELU, "gelu"},
               {CK_ACT_HARD_SILU, "hard_silu"}, {CK_ACT_SOFTPLUS, "softplus"}, {CK_ACT_EXPONENTIAL, "exponential"}};
    for (int i = 0; i < CK_N_OF(fns); i++)
        if (fns[i].kind == kind) {
            ex_use(c, ex_str(c, "act_%s", fns[i].name));
            return ex_str(c, "k_act_%s", fns[i].name);
        }
    *st = ex_refuse(l, "activation %d inside a recurrent cell", (int)kind);
    return "NULL";
}

static int rnn_kind(const ck_layer *l)
{
    const char *n = l->cls->class_name;
    return !strcmp(n, "SimpleRNN") ? 0 : !strcmp(n, "LSTM") ? 1 : !strcmp(n, "GRU") ? 2 : -1;
}

/* One k_rnn call for cell layer `cell` (a layer or Bidirectional's sublayer),
 * its weights l->weights[w0..], named after l. */
static ck_status rnn_call(ex_ctx *c, const ck_layer *l, const ck_layer *cell, int w0, const char *x, const ck_shape *xs,
                          const char *steps, const char *mask, const char *h0, const char *c0, const char *seq, const char *h,
                          const char *cc)
{
    const ck_rnn_config *cf = CK_CFG(cell, ck_rnn_config);
    int kind = rnn_kind(cell);
    if (kind < 0) return ex_refuse(l, "wraps %s, which has no emitter", cell->cls->class_name);
    if (xs->rank != 3) return ex_refuse(l, "input of rank %d", xs->rank);
    int64_t u = cf->units, gu = (kind == 1 ? 4 : kind == 2 ? 3 : 1) * u;
    const char *work = ex_scratch(c, 3 * gu + 2 * u);
    const char *h_want = h, *c_want = cc, *sh = NULL, *scc = NULL;
    if (cf->stateful) { /* the states start from and end in the arena's state rows (h, then c) */
        char hs[64];
        snprintf(hs, sizeof hs, "%s", ex_state(c, cell, kind == 1 ? 2 * u : u));
        sh = ex_str(c, "%s", hs);
        scc = kind == 1 ? ex_str(c, "%s + %lld", hs, (ll)u) : "NULL";
        if (!strcmp(h0, "NULL")) h0 = sh;
        if (!strcmp(c0, "NULL")) c0 = scc;
        h = sh, cc = scc;
    }
    ck_status st = CK_OK;
    const char *act = act_fn(c, l, cf->activation.kind, &st);
    const char *rec = kind == 0 ? "k_act_linear" : act_fn(c, l, cf->recurrent_activation.kind, &st);
    if (kind == 0) ex_use(c, "act_linear");
    if (st) return st;
    ex_use(c, "rnn");
    ex_line(c, "k_rnn(%d, %s, %s, %s, %s, %d, %s, %s, %s, %s, %s, %s, %lld, %lld, %d, %s, %s, %s, %d, %s);", kind, x,
            ex_weight(c, l, &l->weights[w0]), ex_weight(c, l, &l->weights[w0 + 1]),
            cf->use_bias ? ex_weight(c, l, &l->weights[w0 + 2]) : "NULL", cf->reset_after && kind == 2, h0, c0, seq, h,
            cc, steps, (ll)xs->dim[2], (ll)u, cf->go_backwards, act, rec, mask, cf->zero_output_for_mask,
            work);
    if (cf->stateful) { /* the wanted final states are copies of the kept ones */
        if (strcmp(h_want, "NULL") || strcmp(c_want, "NULL")) ex_use(c, "copy");
        if (strcmp(h_want, "NULL")) ex_line(c, "k_copy(%s, %s, %lld);", sh, h_want, (ll)u);
        if (strcmp(c_want, "NULL")) ex_line(c, "k_copy(%s, %s, %lld);", scc, c_want, (ll)u);
    }
    return CK_OK;
}

static ck_status emit_rnn(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    const ck_rnn_config *cf = CK_CFG(l, ck_rnn_config);
    int kind = rnn_kind(l), states = kind == 1 ? 2 : 1;
    if (s->n_in > 1 && s->n_in != 1 + states) return ex_refuse(l, "%d initial states", s->n_in - 1);
    const char *h0 = s->n_in > 1 ? ex_in(c, s, 1) : "NULL", *c0 = s->n_in > 2 ? ex_in(c, s, 2) : "NULL";
    const char *seq = cf->return_sequences ? ex_out(c, s, 0) : "NULL";
    const char *h = !cf->return_sequences ? ex_out(c, s, 0) : s->n_out > 1 ? ex_out(c, s, 1) : "NULL";
    const char *cc = kind == 1 && s->n_out > 2 ? ex_out(c, s, 2) : "NULL";
    ck_status st = rnn_call(c, l, l, 0, ex_in(c, s, 0), in_shape(c, s, 0), ex_steps(c, s->in[0]), ex_in_mask(c, s, 0),
                            h0, c0, seq, h, cc);
    if (st) return st;
    if (!cf->return_sequences && s->n_out > 1) {
        ex_use(c, "copy");
        ex_line(c, "k_copy(%s, %s, %lld);", ex_out(c, s, 0), ex_out(c, s, 1), (ll)cf->units);
    }
    return CK_OK;
}

/* A conv geometry of rank r (padded to 3 with leading 1s) from spatial extents. */
static void lstm_geom(ck_conv_geom *g, int r, const int64_t *in_sp, const int64_t *out_sp, int64_t cin, int64_t cout,
                      const ck_ints *k, const ck_ints *st, const ck_ints *d, const char *padding)
{
    *g = (ck_conv_geom){.batch = 1, .cin = cin, .cout = cout, .groups = 1, .mult = 1};
    for (int a = 0; a < 3; a++) g->in[a] = g->out[a] = g->k[a] = g->s[a] = g->d[a] = 1, g->pad[a] = 0;
    for (int i = 0; i < r; i++) {
        int a = 3 - r + i;
        g->in[a] = in_sp[i], g->out[a] = out_sp[i], g->k[a] = k->v[i];
        g->s[a] = st ? st->v[i] : 1, g->d[a] = d ? d->v[i] : 1;
        g->pad[a] = ck_pad_before(g->in[a], g->out[a], g->k[a], g->s[a], g->d[a], padding);
    }
}

/* ConvLSTM1D/2D: as the engine (layers/conv_lstm_run.c), the input
 * convolution with the layer's strides, padding and dilation, the recurrent
 * one "same" with stride 1, per step in k_conv_lstm. */
static ck_status emit_conv_lstm(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    const ck_rnn_config *cf = CK_CFG(l, ck_rnn_config);
    const ck_shape *x = in_shape(c, s, 0), *o = out_shape(c, s, 0);
    int r = cf->kernel_size.n;
    if (strcmp(cf->data_format, "channels_last") && !ex_moved(s))
        return ex_refuse(l, "field 'data_format' '%s'", cf->data_format);
    if (x->rank != r + 3 || r < 1 || r > 3) return ex_refuse(l, "input of rank %d", x->rank);
    if (ex_val(c, s->in[0])->mask >= 0) return ex_refuse(l, "a Keras mask on the input (as ckeras's engine)");
    if (s->n_in > 1) return ex_refuse(l, "initial states");
    if (cf->stateful) return ex_refuse(l, "field 'stateful' (ckeras's engine does not carry ConvLSTM states)");
    int64_t F = cf->units, in_sp[3], out_sp[3], P = 1, T = x->dim[1];
    for (int i = 0; i < r; i++) in_sp[i] = x->dim[2 + i], out_sp[i] = o->dim[o->rank - 1 - r + i], P *= out_sp[i];
    ck_conv_geom gx, gh;
    lstm_geom(&gx, r, in_sp, out_sp, x->dim[r + 2], 4 * F, &cf->kernel_size, &cf->strides, &cf->dilation_rate,
              cf->padding);
    lstm_geom(&gh, r, out_sp, out_sp, F, 4 * F, &cf->kernel_size, NULL, NULL, "same");
    ck_status st = CK_OK;
    const char *act = act_fn(c, l, cf->activation.kind, &st);
    const char *rec = act_fn(c, l, cf->recurrent_activation.kind, &st);
    if (st) return st;
    const char *work = ex_scratch(c, 2 * P * 4 * F + 2 * P * F);
    const char *seq = cf->return_sequences ? ex_out(c, s, 0) : "NULL";
    const char *h = !cf->return_sequences ? ex_out(c, s, 0) : s->n_out > 1 ? ex_out(c, s, 1) : "NULL";
    const char *cc = s->n_out > 2 ? ex_out(c, s, 2) : "NULL";
    ex_use(c, "conv_lstm");
    ex_line(c, "k_conv_lstm(%s, %s, %s, %s, NULL, NULL, %s, %s, %s, %lld, %lld, &%s, &%s, %d, %s, %s, %s);",
            ex_in(c, s, 0), ex_weight(c, l, &l->weights[0]), ex_weight(c, l, &l->weights[1]),
            cf->use_bias ? ex_weight(c, l, &l->weights[2]) : "NULL", seq, h, cc, (ll)T, (ll)(in_size(c, s, 0) / T),
            geom_name(c, l, &gx), geom_name(c, l, &gh), cf->go_backwards, act, rec, work);
    if (!cf->return_sequences && s->n_out > 1) {
        ex_use(c, "copy");
        ex_line(c, "k_copy(%s, %s, %lld);", ex_out(c, s, 0), ex_out(c, s, 1), (ll)(P * F));
    }
    return CK_OK;
}

static ck_status emit_bidirectional(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    const char *mode = CK_CFG(l, ck_wrapper_config)->merge_mode;
    static const char *const modes[] = {"concat", "sum", "mul", "ave", ""};
    int m = 0;
    while (m < 5 && strcmp(modes[m], mode)) m++;
    if (m == 5) return ex_refuse(l, "field 'merge_mode' '%s'", mode);
    if (l->n_sublayers != 2 || s->n_out != (m == 4 ? 2 : 1)) return ex_refuse(l, "return_state");
    const ck_layer *f = l->sublayers[0], *b = l->sublayers[1];
    const ck_shape *fo = &f->out_shapes[0];
    bool seq = CK_CFG(f, ck_rnn_config)->return_sequences;
    int64_t steps = seq ? in_shape(c, s, 0)->dim[1] : 1, d = fo->dim[fo->rank - 1];
    const char *fs = ex_scratch(c, steps * d), *bs = ex_scratch(c, steps * d);
    const char *mask = ex_in_mask(c, s, 0), *n_steps = ex_steps(c, s->in[0]);
    ck_status st = rnn_call(c, l, f, 0, ex_in(c, s, 0), in_shape(c, s, 0), n_steps, mask, "NULL", "NULL",
                            seq ? fs : "NULL", seq ? "NULL" : fs, "NULL");
    if (!st)
        st = rnn_call(c, l, b, f->n_weights, ex_in(c, s, 0), in_shape(c, s, 0), n_steps, mask, "NULL", "NULL",
                      seq ? bs : "NULL", seq ? "NULL" : bs, "NULL");
    if (st) return st;
    ex_use(c, "bidi_merge");
    ex_line(c, "k_bidi_merge(%s, %s, %s, %s, %s, %lld, %d);", fs, bs, ex_out(c, s, 0),
            m == 4 ? ex_out(c, s, 1) : "NULL", seq ? n_steps : "1", (ll)d, m);
    return CK_OK;
}

/* TimeDistributed of a Dense is that Dense on every step: Dense already maps
 * the last axis of any rank; of another class, its call in a loop over the
 * steps (ex_per_step). */
static ck_status emit_time_distributed(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    if (l->n_sublayers != 1) return ex_refuse(l, "wraps %d layers", l->n_sublayers);
    if (!strcmp(l->sublayers[0]->cls->class_name, "Dense"))
        return dense_call(c, l, CK_CFG(l->sublayers[0], ck_dense_config), s);
    return ex_per_step(c, s, l->sublayers[0]);
}

/* ---- attention ----------------------------------------------------------------------------------- */
static ck_status emit_attention(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    const ck_attention_config *cf = CK_CFG(l, ck_attention_config);
    bool additive = !strcmp(l->cls->class_name, "AdditiveAttention");
    bool concat = !additive && !strcmp(cf->score_mode, "concat");
    if (s->n_in < 2 || s->n_in > 3 || s->n_out != 1) return ex_refuse(l, "%d inputs, %d outputs", s->n_in, s->n_out);
    int causal = ck_layer_causal(l);
    if (causal < 0) return ex_refuse(l, "calls with and without use_causal_mask=True");
    const ck_shape *q = in_shape(c, s, 0), *v = in_shape(c, s, 1);
    if (q->rank != 3 || v->rank != 3) return ex_refuse(l, "inputs of rank %d and %d", q->rank, v->rank);
    int w = 0;
    const char *scale = cf->use_scale ? ex_weight(c, l, &l->weights[w++]) : "NULL";
    float csw = concat ? l->weights[w].value[0] : 1.0f;
    const char *sc = ex_scratch(c, q->dim[1] * v->dim[1]);
    ex_use(c, "attention");
    ex_line(c, "k_attention(%s, %s, %s, %s, %lld, %lld, %lld, %lld, %d, %s, %s, %s, %s, %d, %s);", ex_in(c, s, 0),
            ex_in(c, s, s->n_in > 2 ? 2 : 1), ex_in(c, s, 1), ex_out(c, s, 0), (ll)q->dim[1], (ll)v->dim[1],
            (ll)q->dim[2], (ll)v->dim[2], additive ? 2 : concat, scale, ex_float(c, csw), ex_in_mask(c, s, 0),
            ex_in_mask(c, s, 1), causal, sc);
    return CK_OK;
}

/* One operand of an einsum: its letters over its dims (batch dropped),
 * row-major strides per letter of `all`. */
static void letter_strides(const char *letters, const int64_t *dims, const char *all, int64_t *strides)
{
    int n = (int)strlen(all), r = (int)strlen(letters);
    for (int i = 0; i < n; i++) strides[i] = 0;
    int64_t st = 1;
    for (int a = r - 1; a >= 0; a--) {
        strides[strchr(all, letters[a]) - all] += st;
        st *= dims[a];
    }
}

/* EinsumDense: the equation with its ellipsis spelled out in capitals, the
 * batch letter dropped, then y = einsum(x, kernel) + bias and the activation. */
static ck_status emit_einsum_dense(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    const ck_einsum_dense_config *cf = CK_CFG(l, ck_einsum_dense_config);
    const ck_shape *x = in_shape(c, s, 0), *y = out_shape(c, s, 0);
    char eq[CK_STR_MAX], side[3][32] = {{0}}, all[48] = {0};
    snprintf(eq, sizeof eq, "%s", cf->equation);
    char *comma = strchr(eq, ','), *arrow = strstr(eq, "->");
    if (!comma || !arrow || arrow < comma || cf->quantization_config) return ex_refuse(l, "field 'equation' '%s'", eq);
    *comma = 0, *arrow = 0;
    const char *parts[3] = {eq, comma + 1, arrow + 2};
    int ell = x->rank - ((int)strlen(parts[0]) - (strstr(parts[0], "...") ? 3 : 0));
    for (int k = 0; k < 3; k++) { /* spell out "..." as capitals, one per dim it covers */
        const char *p = parts[k], *e = strstr(p, "...");
        size_t at = 0;
        for (; *p && at + 1 < sizeof side[k]; p++) {
            if (e && p == e) {
                for (int i = 0; i < ell && at + 1 < sizeof side[k]; i++) side[k][at++] = (char)('A' + i);
                p += 2;
                continue;
            }
            side[k][at++] = *p;
        }
    }
    const ck_weight *kw = &l->weights[0];
    if ((int)strlen(side[0]) != x->rank || (int)strlen(side[2]) != y->rank || (int)strlen(side[1]) != kw->shape.rank ||
        side[0][0] != side[2][0])
        return ex_refuse(l, "field 'equation' '%s' for these shapes", cf->equation);
    int64_t xd[CK_MAX_RANK], yd[CK_MAX_RANK], dims[16], xs[16], ws[16], ys[16];
    for (int a = 1; a < x->rank; a++) xd[a - 1] = x->dim[a];
    for (int a = 1; a < y->rank; a++) yd[a - 1] = y->dim[a];
    int n = 0;
    for (int k = 0; k < 3; k++)
        for (const char *p = side[k] + (k == 1 ? 0 : 1); *p; p++)
            if (!strchr(all, *p)) {
                if (n >= 15) return ex_refuse(l, "more than 15 letters");
                all[n] = *p;
                dims[n++] = k == 0 ? xd[p - side[0] - 1] : k == 1 ? kw->shape.dim[p - side[1]] : yd[p - side[2] - 1];
            }
    letter_strides(side[0] + 1, xd, all, xs);
    letter_strides(side[1], kw->shape.dim, all, ws);
    letter_strides(side[2] + 1, yd, all, ys);
    ex_use(c, "einsum");
    const char *out = ex_out(c, s, 0);
    ex_line(c, "k_einsum(%s, %s, %s, %d, %s, %s, %s, %s, %lld);", ex_in(c, s, 0), ex_weight(c, l, kw), out, n,
            ex_longs(c, l, "dims", dims, n), ex_longs(c, l, "x_strides", xs, n), ex_longs(c, l, "kernel_strides", ws, n),
            ex_longs(c, l, "y_strides", ys, n), (ll)out_size(c, s, 0));
    if (l->n_weights > 1) { /* the bias, broadcast from the trailing output axes */
        const ck_weight *bw = &l->weights[1];
        ck_shape bs = {.rank = bw->shape.rank + 1, .dim = {1}};
        for (int a = 0; a < bw->shape.rank; a++) bs.dim[a + 1] = bw->shape.dim[a];
        int64_t full[CK_MAX_RANK], bst[CK_MAX_RANK];
        bcast_strides(y, y, full);
        bcast_strides(&bs, y, bst);
        ex_use(c, "binary");
        const char *fulln = ex_longs(c, l, "strides", full, y->rank - 1);
        ex_line(c, "k_binary(%s, %s, %s, %s, %s, %d, %s, 0);", out, fulln, ex_weight(c, l, bw),
                ex_longs(c, l, "bias_strides", bst, y->rank - 1), out, y->rank - 1, ex_longs(c, l, "dims", yd, y->rank - 1));
    }
    int64_t cols = last_dim(y);
    return ex_activation(c, l, cf->activation.kind, out, ex_rows(c, s->out[0], cols), cols);
}

/* Offsets of (block g, position i) in a projected tensor [mid.., heads, d] of
 * one sample, as the engine's split_offsets gathers them: blocks run over the
 * head (fastest) and the mid axes not attended, positions over the attended
 * ones. Returns the number of blocks; *positions the number of positions. */
static int64_t mha_split(const ck_shape *x, const bool *att, int64_t heads, int64_t d, int64_t *outer,
                         int64_t *inner, int64_t *positions)
{
    int r = x->rank - 2;
    int64_t stride[CK_MAX_RANK], st = heads * d, no = heads, ni = 1;
    for (int a = r - 1; a >= 0; a--) stride[a] = st, st *= x->dim[a + 1];
    for (int a = 0; a < r; a++) *(att[a] ? &ni : &no) *= x->dim[a + 1];
    for (int64_t o = 0; outer && o < no; o++) {
        int64_t rem = o / heads, off = (o % heads) * d;
        for (int a = r - 1; a >= 0; a--)
            if (!att[a]) off += (rem % x->dim[a + 1]) * stride[a], rem /= x->dim[a + 1];
        outer[o] = off;
    }
    for (int64_t i = 0; inner && i < ni; i++) {
        int64_t rem = i, off = 0;
        for (int a = r - 1; a >= 0; a--)
            if (att[a]) off += (rem % x->dim[a + 1]) * stride[a], rem /= x->dim[a + 1];
        inner[i] = off;
    }
    *positions = ni;
    return no;
}

/* k_mha_axes of MultiHeadAttention over its attention_axes (any rank): the
 * offset tables of each projection, made here. */
static ck_status emit_mha_axes(ex_ctx *c, const ck_layer *l, const ck_shape *q, const ck_shape *k,
                               int64_t H, int64_t kd, int64_t vd, const char *const *p, const char *sc)
{
    const ck_ints *axes = &CK_CFG(l, ck_mha_config)->attention_axes;
    bool att[CK_MAX_RANK] = {0};
    for (int i = 0; i < axes->n; i++) {
        if (axes->v[i] < 1 || axes->v[i] > q->rank - 2) return ex_refuse(l, "field 'attention_axes'");
        att[axes->v[i] - 1] = true;
    }
    int64_t tq, tk, groups = mha_split(q, att, H, kd, NULL, NULL, &tq);
    if (mha_split(k, att, H, kd, NULL, NULL, &tk) != groups) return ex_refuse(l, "query and key blocks differ");
    if (!ex_emitting(c)) return CK_OK;
    int64_t *t = ck_malloc((size_t)(2 * groups + tq + tk + 1) * sizeof *t);
    if (!t) return ck_fail(CK_ERR_NOMEM, "out of memory exporting");
    const ck_shape *sh[4] = {q, k, k, q};
    const int64_t d[4] = {kd, kd, vd, vd};
    static const char *const tag[4] = {"q", "k", "v", "o"};
    char names[8][96];
    for (int i = 0; i < 4; i++) {
        int64_t n_in;
        mha_split(sh[i], att, H, d[i], t, t + groups, &n_in);
        char o_tag[16], i_tag[16];
        snprintf(o_tag, sizeof o_tag, "%s_outer", tag[i]);
        snprintf(i_tag, sizeof i_tag, "%s_inner", tag[i]);
        snprintf(names[2 * i], sizeof names[0], "%s", ex_longs(c, l, o_tag, t, (int)groups));
        snprintf(names[2 * i + 1], sizeof names[0], "%s", ex_longs(c, l, i_tag, t + groups, (int)n_in));
    }
    ck_free(t);
    ex_use(c, "mha_axes");
    ex_line(c, "k_mha_axes(%s, %s, %s, %s, %lld, %lld, %lld, %lld, %lld, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s);", p[0],
            p[1], p[2], p[3], (ll)groups, (ll)tq, (ll)tk, (ll)kd, (ll)vd, names[0], names[1], names[2], names[3],
            names[4], names[5], names[6], names[7], ex_float(c, 1.0f / sqrtf((float)kd)), sc);
    return CK_OK;
}

/* MultiHeadAttention and GroupedQueryAttention: the query, key, value and
 * output projections are Dense products over the last axis (their kernels
 * [in, heads, dim] flattened), around k_mha (one attended axis, rank 3, with
 * Keras masks) or k_mha_axes (attention_axes of higher ranks). */
static ck_status emit_mha(ex_ctx *c, const ck_layer *l, const ex_step *s)
{
    const ck_mha_config *cf = CK_CFG(l, ck_mha_config);
    bool gqa = !strcmp(l->cls->class_name, "GroupedQueryAttention");
    if (s->n_in < 2 || s->n_in > 3 || s->n_out != 1) return ex_refuse(l, "%d inputs, %d outputs", s->n_in, s->n_out);
    int causal = ck_layer_causal(l);
    if (causal < 0) return ex_refuse(l, "calls with and without use_causal_mask=True");
    if (!gqa && cf->use_gate) return ex_refuse(l, "field 'use_gate'");
    const ck_shape *q = in_shape(c, s, 0), *v = in_shape(c, s, 1), *k = in_shape(c, s, s->n_in > 2 ? 2 : 1);
    if (q->rank < 3 || v->rank != q->rank || k->rank != q->rank || (gqa && q->rank != 3))
        return ex_refuse(l, "inputs of rank %d", q->rank);
    bool masked = false;
    for (int i = 0; i < s->n_in; i++) masked = masked || ex_val(c, s->in[i])->mask >= 0;
    if ((masked || causal) && q->rank != 3) /* as ckeras's engine */
        return ex_refuse(l, "%s on inputs of rank %d", masked ? "Keras masks" : "use_causal_mask", q->rank);
    int64_t hq = gqa ? cf->num_query_heads : cf->num_heads, hk = gqa ? cf->num_key_value_heads : cf->num_heads;
    int64_t kd = gqa ? cf->head_dim : cf->key_dim;
    int64_t vd = gqa ? cf->head_dim : cf->value_dim == CK_INT_NULL ? cf->key_dim : cf->value_dim;
    int64_t tq = in_size(c, s, 0) / q->dim[q->rank - 1], tk = in_size(c, s, 1) / v->dim[v->rank - 1];
    int64_t nout = out_size(c, s, 0) / tq;
    if (hk < 1 || hq % hk) return ex_refuse(l, "heads %lld and %lld", (ll)hq, (ll)hk);
    int w = 0;
    const ck_weight *wt[8] = {0};
    for (int i = 0; i < 4; i++) {
        wt[2 * i] = &l->weights[w++];
        wt[2 * i + 1] = cf->use_bias ? &l->weights[w++] : NULL;
    }
    const char *pq = ex_scratch(c, tq * hq * kd), *pk = ex_scratch(c, tk * hk * kd), *pv = ex_scratch(c, tk * hk * vd);
    const char *po = ex_scratch(c, tq * hq * vd), *sc = ex_scratch(c, tq * tk);
    const char *x[3] = {ex_in(c, s, 0), ex_in(c, s, s->n_in > 2 ? 2 : 1), ex_in(c, s, 1)};
    const char *dst[4] = {pq, pk, pv, ex_out(c, s, 0)};
    const int64_t rows[4] = {tq, tk, tk, tq};
    const int64_t n_in[4] = {q->dim[q->rank - 1], k->dim[k->rank - 1], v->dim[v->rank - 1], hq * vd};
    const int64_t n_out[4] = {hq * kd, hk * kd, hk * vd, nout};
    ex_use(c, "dense");
    for (int i = 0; i < 3; i++)
        ex_line(c, "k_dense(%s, %s, %s, %s, %lld, %lld, %lld);", x[i], ex_weight(c, l, wt[2 * i]),
                wt[2 * i + 1] ? ex_weight(c, l, wt[2 * i + 1]) : "NULL", dst[i], (ll)rows[i], (ll)n_in[i], (ll)n_out[i]);
    if (q->rank > 3) {
        const char *p[4] = {pq, pk, pv, po};
        ck_status st = emit_mha_axes(c, l, q, k, hq, kd, vd, p, sc);
        if (st) return st;
    } else {
        ex_use(c, "mha");
        ex_line(c, "k_mha(%s, %s, %s, %s, %lld, %lld, %lld, %lld, %lld, %lld, %s, %s, %s, %s, %d, %s);", pq, pk, pv, po,
                (ll)tq, (ll)tk, (ll)hq, (ll)hk, (ll)kd, (ll)vd, ex_float(c, 1.0f / sqrtf((float)kd)), ex_in_mask(c, s, 0),
                ex_in_mask(c, s, 1), s->n_in > 2 ? ex_in_mask(c, s, 2) : "NULL", causal, sc);
    }
    ex_line(c, "k_dense(%s, %s, %s, %s, %lld, %lld, %lld);", po, ex_weight(c, l, wt[6]),
            wt[7] ? ex_weight(c, l, wt[7]) : "NULL", dst[3], (ll)rows[3], (ll)n_in[3], (ll)n_out[3]);
    return CK_OK;
}

/* ---- the table ------------------------------------------------------------------------------------- */
static const ex_class classes[] = {
    {"Dense", emit_dense, EX_VARLEN},
    {"Activation", emit_activation, EX_INPLACE | EX_VARLEN},
    {"Dropout", NULL, EX_ALIAS | EX_VARLEN},
    {"SpatialDropout1D", NULL, EX_ALIAS | EX_VARLEN},
    {"SpatialDropout2D", NULL, EX_ALIAS},
    {"SpatialDropout3D", NULL, EX_ALIAS},
    {"GaussianNoise", NULL, EX_ALIAS | EX_VARLEN},
    {"GaussianDropout", NULL, EX_ALIAS | EX_VARLEN},
    {"AlphaDropout", NULL, EX_ALIAS | EX_VARLEN},
    {"ActivityRegularization", NULL, EX_ALIAS | EX_VARLEN},
    {"Identity", NULL, EX_ALIAS | EX_VARLEN},
    {"Reshape", NULL, EX_ALIAS},
    {"Flatten", emit_flatten, EX_ALIAS | EX_MOVES},
    {"Permute", emit_permute, 0},
    {"RepeatVector", emit_repeat, 0},
    {"Conv1D", emit_conv, EX_VARLEN | EX_WINDOW},
    {"Conv2D", emit_conv, 0},
    {"Conv3D", emit_conv, 0},
    {"Conv1DTranspose", emit_conv_transpose, 0},
    {"Conv2DTranspose", emit_conv_transpose, 0},
    {"Conv3DTranspose", emit_conv_transpose, 0},
    {"DepthwiseConv1D", emit_depthwise, EX_VARLEN | EX_WINDOW},
    {"DepthwiseConv2D", emit_depthwise, 0},
    {"SeparableConv1D", emit_separable, 0},
    {"SeparableConv2D", emit_separable, 0},
    {"MaxPooling1D", emit_max_pool, EX_VARLEN | EX_WINDOW},
    {"MaxPooling2D", emit_max_pool, 0},
    {"MaxPooling3D", emit_max_pool, 0},
    {"AveragePooling1D", emit_avg_pool, EX_VARLEN | EX_WINDOW},
    {"AveragePooling2D", emit_avg_pool, 0},
    {"AveragePooling3D", emit_avg_pool, 0},
    {"GlobalMaxPooling1D", emit_gmax, EX_VARLEN},
    {"GlobalMaxPooling2D", emit_gmax, 0},
    {"GlobalMaxPooling3D", emit_gmax, 0},
    {"GlobalAveragePooling1D", emit_gavg, EX_VARLEN},
    {"GlobalAveragePooling2D", emit_gavg, 0},
    {"GlobalAveragePooling3D", emit_gavg, 0},
    {"ZeroPadding1D", emit_zp1, 0},
    {"ZeroPadding2D", emit_zp2, 0},
    {"ZeroPadding3D", emit_zp3, 0},
    {"Cropping1D", emit_cr1, 0},
    {"Cropping2D", emit_cr2, 0},
    {"Cropping3D", emit_cr3, 0},
    {"UpSampling1D", emit_up1, 0},
    {"UpSampling2D", emit_up2, 0},
    {"UpSampling3D", emit_up3, 0},
    {"BatchNormalization", emit_batchnorm, EX_INPLACE},
    {"LayerNormalization", emit_norm, EX_INPLACE},
    {"UnitNormalization", emit_norm, EX_INPLACE},
    {"RMSNormalization", emit_norm, EX_INPLACE},
    {"GroupNormalization", emit_groupnorm, EX_INPLACE},
    {"Normalization", emit_normalization, EX_INPLACE},
    {"LayerScale", emit_layerscale, EX_INPLACE},
    {"Rescaling", emit_rescaling, EX_INPLACE},
    {"Resizing", emit_resizing, 0},
    {"CenterCrop", emit_resizing, 0},
    {"ReLU", emit_relu, EX_INPLACE},
    {"LeakyReLU", emit_leaky, EX_INPLACE},
    {"ELU", emit_elu, EX_INPLACE},
    {"PReLU", emit_prelu, EX_INPLACE},
    {"Softmax", emit_softmax, EX_INPLACE},
    {"Add", emit_add, 0},
    {"Subtract", emit_subtract, 0},
    {"Multiply", emit_multiply, 0},
    {"Maximum", emit_maximum, 0},
    {"Minimum", emit_minimum, 0},
    {"Average", emit_average, 0},
    {"Concatenate", emit_concatenate, 0},
    {"Dot", emit_dot, 0},
    {"Divide", emit_divide, 0},
    {"TrueDivide", emit_divide, 0},
    {"Embedding", emit_embedding, EX_VARLEN},
    {"Masking", emit_masking, EX_VARLEN},
    {"SimpleRNN", emit_rnn, EX_VARLEN},
    {"LSTM", emit_rnn, EX_VARLEN},
    {"GRU", emit_rnn, EX_VARLEN},
    {"ConvLSTM1D", emit_conv_lstm, 0},
    {"ConvLSTM2D", emit_conv_lstm, 0},
    {"Bidirectional", emit_bidirectional, EX_VARLEN},
    {"TimeDistributed", emit_time_distributed, EX_VARLEN},
    {"Attention", emit_attention, 0},
    {"AdditiveAttention", emit_attention, 0},
    {"MultiHeadAttention", emit_mha, 0},
    {"EinsumDense", emit_einsum_dense, 0},
    {"GroupedQueryAttention", emit_mha, 0},
};

const ex_class *ex_find_class(const char *class_name)
{
    for (int i = 0; i < CK_N_OF(classes); i++)
        if (!strcmp(classes[i].class_name, class_name)) return &classes[i];
    return NULL;
}

const ex_class *ex_classes(int *n)
{
    *n = CK_N_OF(classes);
    return classes;
}
