/* Forward hooks of the convolution classes: turn a layer's config and concrete
 * tensor shapes into a kernel geometry (TensorFlow's 'same' split, causal left
 * padding, the JAX conv_transpose padding) and run kernels/conv.c, then the
 * fused activation. Channels-last only. */
#include "layers/conv_exec.h"
#include "layers/conv_layers.h"
#include "layers/layers.h"
#include "kernels/conv.h"

#include <stdlib.h>
#include <string.h>

/* Fills the spatial part of the geometry; lower ranks get leading extents of 1. */
static ck_status geom_of(ck_layer *l, const ck_tensor *x, const ck_tensor *y, bool transpose, ck_conv_geom *g)
{
    const ck_conv_config *c = CK_CFG(l, ck_conv_config);
    int r = c->kernel_size.n;
    if (strcmp(c->data_format, "channels_last"))
        return ck_layer_error(l, CK_ERR_UNSUPPORTED, "field 'data_format': only 'channels_last' can be run");
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
    return CK_OK;
}

static const float *weight(const ck_layer *l, int i) { return i < l->n_weights ? l->weights[i].value : NULL; }

static void activate(const ck_layer *l, ck_tensor *y)
{
    const ck_conv_config *c = CK_CFG(l, ck_conv_config);
    int r = y->shape.rank;
    int64_t cols = y->shape.dim[r - 1], rows = 1;
    for (int i = 0; i < r - 1; i++) rows *= y->shape.dim[i];
    ck_act_forward(c->activation.kind, y->data, y->data, rows, cols);
}

ck_status ck_conv_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out, (void)ex;
    ck_conv_geom g;
    ck_status st = geom_of(l, &in[0], &out[0], false, &g);
    if (st) return st;
    g.groups = CK_CFG(l, ck_conv_config)->groups;
    if (!ck_conv_nd(&g, in[0].data, weight(l, 0), CK_CFG(l, ck_conv_config)->use_bias ? weight(l, 1) : NULL, out[0].data))
        return ck_layer_error(l, CK_ERR_NOMEM, "out of memory for the im2col buffer");
    activate(l, &out[0]);
    return CK_OK;
}

ck_status ck_conv_transpose_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out, (void)ex;
    ck_conv_geom g;
    ck_status st = geom_of(l, &in[0], &out[0], true, &g);
    if (st) return st;
    if (!ck_conv_transpose_nd(&g, in[0].data, weight(l, 0), CK_CFG(l, ck_conv_config)->use_bias ? weight(l, 1) : NULL,
                              out[0].data))
        return ck_layer_error(l, CK_ERR_NOMEM, "out of memory for the col2im buffer");
    activate(l, &out[0]);
    return CK_OK;
}

ck_status ck_depthwise_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out, (void)ex;
    ck_conv_geom g;
    ck_status st = geom_of(l, &in[0], &out[0], false, &g);
    if (st) return st;
    g.mult = CK_CFG(l, ck_conv_config)->depth_multiplier;
    ck_depthwise_nd(&g, in[0].data, weight(l, 0), CK_CFG(l, ck_conv_config)->use_bias ? weight(l, 1) : NULL, out[0].data);
    activate(l, &out[0]);
    return CK_OK;
}

ck_status ck_separable_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out, (void)ex;
    const ck_conv_config *c = CK_CFG(l, ck_conv_config);
    ck_conv_geom g;
    ck_status st = geom_of(l, &in[0], &out[0], false, &g);
    if (st) return st;
    g.mult = c->depth_multiplier;
    int64_t npos = g.batch * g.out[0] * g.out[1] * g.out[2], mid = g.cin * g.mult;
    float *tmp = malloc((size_t)(npos * mid) * sizeof *tmp); /* depthwise result [pos, cin*m] */
    if (!tmp) return ck_layer_error(l, CK_ERR_NOMEM, "out of memory for the depthwise buffer");
    ck_depthwise_nd(&g, in[0].data, weight(l, 0), NULL, tmp);
    ck_conv_geom p = {.batch = 1, .in = {1, 1, npos}, .out = {1, 1, npos}, .k = {1, 1, 1}, .s = {1, 1, 1},
                      .d = {1, 1, 1}, .cin = mid, .cout = g.cout, .groups = 1, .mult = 1};
    bool ok = ck_conv_nd(&p, tmp, weight(l, 1), c->use_bias ? weight(l, 2) : NULL, out[0].data);
    free(tmp);
    if (!ok) return ck_layer_error(l, CK_ERR_NOMEM, "out of memory");
    activate(l, &out[0]);
    return CK_OK;
}
