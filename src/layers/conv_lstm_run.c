/* Forward pass of ConvLSTM1D/2D (class entries in recurrent.c), as Keras 3's
 * ConvLSTMCell computes it: the input convolution of every step at once (time
 * folded into the batch; the layer's strides, padding and dilation, plus bias),
 * then per step the recurrent convolution of h ("same", stride 1) and the LSTM
 * gate arithmetic at every output position. Channels-last only; no backward yet. */
#include "layers/layers.h"
#include "layers/seq_layers.h"
#include "layers/conv_layers.h"
#include "kernels/conv.h"
#include "kernels/rnn.h"
#include "train/exec.h"

#include <string.h>

/* Geometry of one convolution from in_sp to out_sp spatial extents (rank r). */
static void geom(ck_conv_geom *g, int r, int64_t batch, const int64_t *in_sp, const int64_t *out_sp, int64_t cin,
                 int64_t cout, const ck_ints *k, const ck_ints *s, const ck_ints *d, const char *padding)
{
    *g = (ck_conv_geom){.batch = batch, .cin = cin, .cout = cout, .groups = 1, .mult = 1};
    for (int a = 0; a < 3; a++) g->in[a] = g->out[a] = g->k[a] = g->s[a] = g->d[a] = 1, g->pad[a] = 0;
    for (int i = 0; i < r; i++) {
        int a = 3 - r + i;
        g->in[a] = in_sp[i], g->out[a] = out_sp[i], g->k[a] = k->v[i];
        g->s[a] = s ? s->v[i] : 1, g->d[a] = d ? d->v[i] : 1;
        g->pad[a] = ck_pad_before(g->in[a], g->out[a], g->k[a], g->s[a], g->d[a], padding);
    }
}

/* The input convolution (time folded into the batch: B*T images) and the
 * recurrent one (B images of h, "same", stride 1) of a batch of B rows. */
static void conv_lstm_geoms(const ck_layer *l, int64_t B, ck_conv_geom *gx, ck_conv_geom *gh, int64_t *positions)
{
    const ck_rnn_config *c = CK_CFG(l, ck_rnn_config);
    const ck_shape *xs = &l->in_shapes[0], *o = &l->out_shapes[0];
    int r = c->kernel_size.n;
    int64_t T = xs->dim[1], F4 = 4 * c->units, in_sp[3], out_sp[3];
    *positions = 1;
    for (int i = 0; i < r; i++) {
        in_sp[i] = xs->dim[2 + i];
        out_sp[i] = o->dim[o->rank - 1 - r + i];
        *positions *= out_sp[i];
    }
    geom(gx, r, B * T, in_sp, out_sp, xs->dim[r + 2], F4, &c->kernel_size, &c->strides, &c->dilation_rate,
         c->padding);
    geom(gh, r, B, out_sp, out_sp, c->units, F4, &c->kernel_size, NULL, NULL, "same");
}

/* im2col scratch per batch row: the input convolution runs T images per row at
 * once, the recurrent one a single image. */
static int64_t col_per_row(const ck_conv_geom *gx, const ck_conv_geom *gh, int64_t T)
{
    int64_t x = T * ck_conv_col_floats(gx), h = ck_conv_col_floats(gh);
    return x > h ? x : h;
}

/* Scratch per batch row: all steps' input projections, one step's recurrent one,
 * gate values, h and c, then the im2col columns. */
int64_t ck_conv_lstm_workspace(const ck_layer *l)
{
    const ck_rnn_config *c = CK_CFG(l, ck_rnn_config);
    int64_t t = l->in_shapes[0].dim[1], p;
    ck_conv_geom gx, gh;
    conv_lstm_geoms(l, 1, &gx, &gh, &p);
    if (t == CK_NONE || p <= 0) return 0;
    return t * p * 4 * c->units + 2 * p * 4 * c->units + 2 * p * c->units + col_per_row(&gx, &gh, t);
}

/* y = conv(x) + bias over g->batch images, with `col` as im2col scratch. */
static void conv_bias(const ck_conv_geom *g, const float *x, const float *w, const float *bias, float *y, float *col)
{
    ck_conv_fwd(g, x, w, y, col, g->batch);
    if (!bias) return;
    int64_t n = g->batch * g->out[0] * g->out[1] * g->out[2];
    for (int64_t i = 0; i < n; i++)
        for (int64_t k = 0; k < g->cout; k++) y[i * g->cout + k] += bias[k];
}

ck_status ck_conv_lstm_forward(ck_layer *l, const ck_tensor *in, int n_in, ck_tensor *out, int n_out, ck_exec *ex)
{
    (void)n_in;
    const ck_rnn_config *c = CK_CFG(l, ck_rnn_config);
    if (strcmp(c->data_format, "channels_last"))
        return ck_layer_error(l, CK_ERR_UNSUPPORTED, "field 'data_format': only 'channels_last' can be run");
    if (!ex || !ex->workspace)
        return ck_layer_error(l, CK_ERR_STATE, "the engine gave no scratch (every input dimension must be known)");
    int64_t B = in[0].shape.dim[0], T = in[0].shape.dim[1], F = c->units, F4 = 4 * F, P;
    ck_conv_geom gx, gh;
    conv_lstm_geoms(l, B, &gx, &gh, &P);
    float *xproj = ex->workspace, *hproj = xproj + B * T * P * F4, *g = hproj + B * P * F4;
    float *h = g + B * P * F4, *cs = h + B * P * F, *col = cs + B * P * F;
    conv_bias(&gx, in[0].data, l->weights[0].value, c->use_bias ? l->weights[2].value : NULL, xproj, col);
    memset(h, 0, (size_t)(2 * B * P * F) * sizeof *h);
    ck_rnn_args a = {.kind = CK_RNN_LSTM, .units = F, .act = c->activation.kind, .rec_act = c->recurrent_activation.kind};
    for (int64_t s = 0; s < T; s++) {
        int64_t t = c->go_backwards ? T - 1 - s : s;
        conv_bias(&gh, h, l->weights[1].value, NULL, hproj, col);
        for (int64_t b = 0; b < B; b++)
            for (int64_t p = 0; p < P; p++) {
                int64_t bp = b * P + p;
                ck_rnn_lstm_cell(&a, xproj + ((b * T + t) * P + p) * F4, hproj + bp * F4, g + bp * F4, h + bp * F,
                                 cs + bp * F);
            }
        if (c->return_sequences)
            for (int64_t b = 0; b < B; b++)
                memcpy(out[0].data + (b * T + s) * P * F, h + b * P * F, (size_t)(P * F) * sizeof *h);
    }
    int k = 0;
    if (!c->return_sequences) memcpy(out[k++].data, h, (size_t)(B * P * F) * sizeof *h);
    else k = 1;
    if (n_out > k) memcpy(out[k++].data, h, (size_t)(B * P * F) * sizeof *h);
    if (n_out > k) memcpy(out[k].data, cs, (size_t)(B * P * F) * sizeof *h);
    return CK_OK;
}
