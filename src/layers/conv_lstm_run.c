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

/* Scratch per batch row: all steps' input projections, one step's recurrent one,
 * gate values, h and c. */
int64_t ck_conv_lstm_workspace(const ck_layer *l)
{
    const ck_rnn_config *c = CK_CFG(l, ck_rnn_config);
    const ck_shape *o = &l->out_shapes[0];
    int r = c->kernel_size.n;
    int64_t t = l->in_shapes[0].dim[1], p = 1;
    for (int i = 0; i < r; i++) p *= o->dim[o->rank - 1 - r + i];
    if (t == CK_NONE || p <= 0) return 0;
    return t * p * 4 * c->units + 2 * p * 4 * c->units + 2 * p * c->units;
}

ck_status ck_conv_lstm_forward(ck_layer *l, const ck_tensor *in, int n_in, ck_tensor *out, int n_out, ck_exec *ex)
{
    (void)n_in;
    const ck_rnn_config *c = CK_CFG(l, ck_rnn_config);
    if (strcmp(c->data_format, "channels_last"))
        return ck_layer_error(l, CK_ERR_UNSUPPORTED, "field 'data_format': only 'channels_last' can be run");
    if (!ex || !ex->workspace)
        return ck_layer_error(l, CK_ERR_STATE, "the engine gave no scratch (every input dimension must be known)");
    int r = c->kernel_size.n;
    const ck_shape *xs = &in[0].shape, *hs = &out[n_out > 1 ? 1 : 0].shape;
    int64_t B = xs->dim[0], T = xs->dim[1], cin = xs->dim[r + 2], F = c->units, F4 = 4 * F, P = 1;
    int64_t in_sp[3], out_sp[3];
    for (int i = 0; i < r; i++) {
        in_sp[i] = xs->dim[2 + i];
        out_sp[i] = c->return_sequences && n_out == 1 ? out[0].shape.dim[2 + i] : hs->dim[1 + i];
        P *= out_sp[i];
    }
    float *xproj = ex->workspace, *hproj = xproj + B * T * P * F4, *g = hproj + B * P * F4;
    float *h = g + B * P * F4, *cs = h + B * P * F;
    ck_conv_geom gx, gh;
    geom(&gx, r, B * T, in_sp, out_sp, cin, F4, &c->kernel_size, &c->strides, &c->dilation_rate, c->padding);
    geom(&gh, r, B, out_sp, out_sp, F, F4, &c->kernel_size, NULL, NULL, "same");
    if (!ck_conv_nd(&gx, in[0].data, l->weights[0].value, c->use_bias ? l->weights[2].value : NULL, xproj))
        return ck_fail(CK_ERR_NOMEM, "%s '%s': out of memory", l->cls->class_name, l->name);
    memset(h, 0, (size_t)(2 * B * P * F) * sizeof *h);
    ck_rnn_args a = {.kind = CK_RNN_LSTM, .units = F, .act = c->activation.kind, .rec_act = c->recurrent_activation.kind};
    for (int64_t s = 0; s < T; s++) {
        int64_t t = c->go_backwards ? T - 1 - s : s;
        if (!ck_conv_nd(&gh, h, l->weights[1].value, NULL, hproj))
            return ck_fail(CK_ERR_NOMEM, "%s '%s': out of memory", l->cls->class_name, l->name);
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
