/* Forward and backward passes of ConvLSTM1D/2D (class entries in recurrent.c), as Keras 3's
 * ConvLSTMCell computes it: the input convolution of every step at once (time
 * folded into the batch; the layer's strides, padding and dilation, plus bias),
 * then per step the recurrent convolution of h ("same", stride 1) and the LSTM
 * gate arithmetic at every output position. Forward keeps every step's
 * pre-activations, gates and states in the engine's scratch, so backward (BPTT)
 * runs the cell backward per position, one recurrent convolution backward per
 * step and one input convolution backward over all steps. Training dropout as
 * Keras's ConvLSTMCell: four masks (one per gate) on the step input and four on
 * h, drawn per call and shared by all steps; each gate then has its own
 * convolution. Channels-last only; Keras masks are refused. */
#include "layers/layers.h"
#include "layers/seq_layers.h"
#include "layers/conv_layers.h"
#include "kernels/conv.h"
#include "kernels/rnn.h"
#include "kernels/tensor_ops.h"
#include "engine/run.h"

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

/* The scratch of B rows, carved in one order by forward and backward:
 * pre/gates/dpre are [B, T, P, 4F] by input time; hs/cs are [T+1, B, P, F] by
 * processing step (step-major, so one step's states of all rows are one
 * image batch for the recurrent convolution); zh [B, P, 4F] is one step's
 * recurrent projection (backward: its gradient); dh/dc [B, P, F] carry the
 * state gradients; tmp [F]. With dropout (drop: Keras's 4 masks per gate, one
 * per sample for every step): min [4, B, S] on the step input (S floats),
 * mrec [4, B, P, F] on h, and xm/dxm [B, T, S], zt [B, P, 4F], hm/dhm [B, P, F]
 * for the gate-by-gate convolutions. Then the im2col columns. */
typedef struct cl_work {
    float *pre, *gates, *dpre, *hs, *cs, *zh, *dh, *dc, *tmp;
    float *min, *mrec, *xm, *dxm, *zt, *hm, *dhm;
    float *col;
} cl_work;

static int64_t carve(float *base, int64_t B, int64_t T, int64_t P, int64_t F, int64_t S, bool drop, cl_work *w)
{
    int64_t seq = B * T * P * 4 * F, st = (T + 1) * B * P * F, one = B * P * F, n = 0, d = drop ? 1 : 0;
    float **slot[] = {&w->pre, &w->gates, &w->dpre, &w->hs,  &w->cs, &w->zh,  &w->dh, &w->dc, &w->tmp,
                      &w->min, &w->mrec,  &w->xm,   &w->dxm, &w->zt, &w->hm,  &w->dhm, &w->col};
    int64_t size[] = {seq, seq, seq, st, st, 4 * one, one, one, F,
                      d * 4 * B * S, d * 4 * one, d * B * T * S, d * B * T * S, d * 4 * one, d * one, d * one, 0};
    for (int i = 0; i < CK_N_OF(size); i++) {
        *slot[i] = base && size[i] ? base + n : NULL;
        n += size[i];
    }
    if (base) w->col = base + n;
    return n; /* floats before the columns */
}

/* Floats of one step's input per sample (spatial extents times channels). */
static int64_t step_floats(const ck_layer *l)
{
    const ck_shape *xs = &l->in_shapes[0];
    int64_t n = 1;
    for (int i = 2; i < xs->rank; i++) n *= xs->dim[i];
    return n;
}

static bool has_dropout(const ck_rnn_config *c)
{
    return (c->dropout > 0.0 && c->dropout < 1.0) || (c->recurrent_dropout > 0.0 && c->recurrent_dropout < 1.0);
}

/* Floats per batch row. */
int64_t ck_conv_lstm_workspace(const ck_layer *l)
{
    const ck_rnn_config *c = CK_CFG(l, ck_rnn_config);
    int64_t t = l->in_shapes[0].dim[1], p;
    ck_conv_geom gx, gh;
    conv_lstm_geoms(l, 1, &gx, &gh, &p);
    if (t == CK_NONE || p <= 0) return 0;
    cl_work w;
    return carve(NULL, 1, t, p, c->units, step_floats(l), has_dropout(c), &w) + col_per_row(&gx, &gh, t);
}

static void add_bias(const ck_conv_geom *g, const float *bias, float *y)
{
    int64_t n = g->batch * g->out[0] * g->out[1] * g->out[2];
    for (int64_t i = 0; i < n; i++)
        for (int64_t k = 0; k < g->cout; k++) y[i * g->cout + k] += bias[k];
}

/* y = x * mask, a mask row of n floats per sample serving its `reps`
 * consecutive images (the T steps of the input; 1 for h). */
static void apply_mask(const float *x, const float *m, float *y, int64_t B, int64_t reps, int64_t n)
{
    for (int64_t b = 0; b < B; b++)
        for (int64_t r = 0; r < reps; r++) {
            const float *xi = x + (b * reps + r) * n, *mi = m + b * n;
            float *yi = y + (b * reps + r) * n;
            for (int64_t k = 0; k < n; k++) yi[k] = xi[k] * mi[k];
        }
}

/* Keras's ConvLSTMCell under dropout: gate k's convolution reads the input
 * under mask k (masks: [4, B, n]), so y's gate-k columns come from the k-th
 * full convolution (into tmp). No bias. */
static void masked_conv(const ck_conv_geom *g, const float *x, const float *masks, int64_t reps, int64_t n,
                        const float *w, float *y, float *xm, float *tmp, float *col)
{
    int64_t F = g->cout / 4, B = g->batch / reps, rows = g->batch * g->out[0] * g->out[1] * g->out[2];
    for (int k = 0; k < 4; k++) {
        apply_mask(x, masks + k * B * n, xm, B, reps, n);
        ck_conv_fwd(g, xm, w, NULL, tmp, col, g->batch, NULL);
        for (int64_t i = 0; i < rows; i++)
            memcpy(y + i * 4 * F + k * F, tmp + i * 4 * F + k * F, (size_t)F * sizeof *y);
    }
}

/* Backward of masked_conv: gate k's columns of dy alone (dyg, the rest zero)
 * through the k-th convolution; dx += mask_k * d(masked input) (dx may be NULL). */
static void masked_conv_bwd(const ck_conv_geom *g, const float *x, const float *masks, int64_t reps, int64_t n,
                            const float *w, const float *dy, float *dx, float *dw, float *xm, float *dxm, float *dyg,
                            float *col)
{
    int64_t F = g->cout / 4, B = g->batch / reps, rows = g->batch * g->out[0] * g->out[1] * g->out[2];
    for (int k = 0; k < 4; k++) {
        const float *m = masks + k * B * n;
        apply_mask(x, m, xm, B, reps, n);
        memset(dyg, 0, (size_t)(rows * 4 * F) * sizeof *dyg);
        for (int64_t i = 0; i < rows; i++)
            memcpy(dyg + i * 4 * F + k * F, dy + i * 4 * F + k * F, (size_t)F * sizeof *dyg);
        if (dx) memset(dxm, 0, (size_t)(g->batch * n) * sizeof *dxm);
        ck_conv_bwd(g, xm, w, dyg, dx ? dxm : NULL, dw, col, g->batch, NULL);
        if (!dx) continue;
        for (int64_t b = 0; b < B; b++)
            for (int64_t r = 0; r < reps; r++)
                for (int64_t i = 0; i < n; i++) dx[(b * reps + r) * n + i] += dxm[(b * reps + r) * n + i] * m[b * n + i];
    }
}

/* Keras's dropout masks: 0 or 1/(1-rate) per element, drawn per call. */
static void draw_mask(ck_run *ex, double rate, float *m, int64_t n)
{
    float keep = (float)(1.0 / (1.0 - rate));
    for (int64_t k = 0; k < n; k++) m[k] = ck_rng_uniform(&ex->rng) >= rate ? keep : 0.0f;
}

/* Everything forward and backward share: checks, geometry, scratch. */
typedef struct cl_run {
    const ck_rnn_config *c;
    int64_t B, T, F, P, S;
    bool in_drop, rec_drop; /* training dropout on the input / on h */
    ck_conv_geom gx, gh;
    ck_rnn_args a;
    cl_work w;
} cl_run;

static ck_status cl_setup(ck_layer *l, const ck_tensor *in, ck_run *ex, cl_run *r)
{
    const ck_rnn_config *c = r->c = CK_CFG(l, ck_rnn_config);
    ck_status st = ck_runs_channels_last(l, ex, c->data_format);
    if (st) return st;
    if (!ex || !ex->workspace)
        return ck_layer_error(l, CK_ERR_STATE, "the engine gave no scratch (every input dimension must be known)");
    if (ex->in_masks && ex->in_masks[0])
        return ck_layer_error(l, CK_ERR_UNSUPPORTED, "a Keras mask on the input is not supported by ConvLSTM here");
    r->B = in[0].shape.dim[0], r->T = in[0].shape.dim[1], r->F = c->units, r->S = step_floats(l);
    conv_lstm_geoms(l, r->B, &r->gx, &r->gh, &r->P);
    carve(ex->workspace, r->B, r->T, r->P, r->F, r->S, has_dropout(c), &r->w);
    /* Keras applies dropout only in training and for 0 < rate < 1 */
    r->in_drop = ex->training && c->dropout > 0.0 && c->dropout < 1.0;
    r->rec_drop = ex->training && c->recurrent_dropout > 0.0 && c->recurrent_dropout < 1.0;
    r->a = (ck_rnn_args){.kind = CK_RNN_LSTM, .units = r->F, .act = c->activation.kind,
                         .rec_act = c->recurrent_activation.kind, .half = ck_half_of_dtype(l->dtype)};
    return CK_OK;
}

ck_status ck_conv_lstm_forward(CK_FWD_ARGS)
{
    (void)n_in;
    cl_run r;
    ck_status st = cl_setup(l, in, ex, &r);
    if (st) return st;
    const ck_rnn_config *c = r.c;
    int64_t B = r.B, T = r.T, F = r.F, F4 = 4 * F, P = r.P, one = B * P * F;
    cl_work *w = &r.w;
    const float *W = l->weights[0].value, *U = l->weights[1].value;
    if (r.in_drop) {
        draw_mask(ex, c->dropout, w->min, 4 * B * r.S);
        masked_conv(&r.gx, in[0].data, w->min, T, r.S, W, w->pre, w->xm, w->dpre, w->col);
    } else {
        ck_conv_fwd(&r.gx, in[0].data, W, NULL, w->pre, w->col, r.gx.batch, NULL);
    }
    /* a half layer rounds each operation of Keras's ConvLSTMCell.call: the
     * input convolution, its bias sum, the recurrent convolution, then the
     * cell's (ck_rnn_lstm_cell) */
    ck_half half = r.a.half;
    int64_t n_pre = B * T * P * F4;
    ck_round_half(half, w->pre, w->pre, n_pre);
    if (c->use_bias) add_bias(&r.gx, l->weights[2].value, w->pre), ck_round_half(half, w->pre, w->pre, n_pre);
    if (r.rec_drop) draw_mask(ex, c->recurrent_dropout, w->mrec, 4 * one);
    memset(w->hs, 0, (size_t)one * sizeof *w->hs);
    memset(w->cs, 0, (size_t)one * sizeof *w->cs);
    for (int64_t s = 0; s < T; s++) {
        int64_t t = c->go_backwards ? T - 1 - s : s;
        float *h = w->hs + (s + 1) * one, *cs = w->cs + (s + 1) * one;
        memcpy(h, w->hs + s * one, (size_t)one * sizeof *h);
        memcpy(cs, w->cs + s * one, (size_t)one * sizeof *cs);
        if (r.rec_drop) masked_conv(&r.gh, w->hs + s * one, w->mrec, 1, P * F, U, w->zh, w->hm, w->dpre, w->col);
        else ck_conv_fwd(&r.gh, w->hs + s * one, U, NULL, w->zh, w->col, B, NULL);
        ck_round_half(half, w->zh, w->zh, B * P * F4);
        for (int64_t b = 0; b < B; b++)
            for (int64_t p = 0; p < P; p++) {
                int64_t bp = b * P + p, at = ((b * T + t) * P + p) * F4;
                ck_rnn_lstm_cell(&r.a, w->pre + at, w->zh + bp * F4, w->gates + at, h + bp * F, cs + bp * F);
            }
        if (c->return_sequences)
            for (int64_t b = 0; b < B; b++)
                memcpy(out[0].data + (b * T + s) * P * F, h + b * P * F, (size_t)(P * F) * sizeof *h);
    }
    const float *hT = w->hs + T * one, *cT = w->cs + T * one;
    int k = 0;
    if (!c->return_sequences) memcpy(out[k++].data, hT, (size_t)one * sizeof *hT);
    else k = 1;
    if (n_out > k) memcpy(out[k++].data, hT, (size_t)one * sizeof *hT);
    if (n_out > k) memcpy(out[k].data, cT, (size_t)one * sizeof *cT);
    return CK_OK;
}

static void add_if(float *dst, const float *src, int64_t n)
{
    if (src) ck_vec_add(dst, src, n);
}

/* Backpropagation through time over the scratch forward kept: per step (last
 * first) the cell backward at every position, then the recurrent convolution's
 * backward gives the previous h's gradient and the recurrent kernel's; at the
 * end one input convolution backward over all steps gives the kernel's and the
 * input's gradients. Outputs as forward: [seq or last h], h, c. */
ck_status ck_conv_lstm_backward(CK_BWD_ARGS)
{
    (void)n_in, (void)out;
    cl_run r;
    ck_status st = cl_setup(l, in, ex, &r);
    if (st) return st;
    const ck_rnn_config *c = r.c;
    int64_t B = r.B, T = r.T, F = r.F, F4 = 4 * F, P = r.P, one = B * P * F;
    cl_work *w = &r.w;
    memset(w->dh, 0, (size_t)one * sizeof *w->dh);
    memset(w->dc, 0, (size_t)one * sizeof *w->dc);
    const float *dseq = c->return_sequences ? dout[0].data : NULL;
    if (!c->return_sequences) add_if(w->dh, dout[0].data, one);
    if (n_out > 1) add_if(w->dh, dout[1].data, one);
    if (n_out > 2) add_if(w->dc, dout[2].data, one);
    for (int64_t s = T - 1; s >= 0; s--) {
        int64_t t = c->go_backwards ? T - 1 - s : s;
        const float *cnew = w->cs + (s + 1) * one, *cprev = w->cs + s * one;
        for (int64_t b = 0; b < B; b++) {
            if (dseq) ck_vec_add(w->dh + b * P * F, dseq + (b * T + s) * P * F, P * F);
            for (int64_t p = 0; p < P; p++) {
                int64_t bp = b * P + p, at = ((b * T + t) * P + p) * F4;
                ck_rnn_lstm_cell_back(&r.a, w->pre + at, w->gates + at, cnew + bp * F, cprev + bp * F, w->dh + bp * F,
                                      w->dc + bp * F, w->dpre + at, w->zh + bp * F4, w->tmp);
            }
        }
        memset(w->dh, 0, (size_t)one * sizeof *w->dh);
        const float *hp = w->hs + s * one, *U = l->weights[1].value;
        if (r.rec_drop)
            masked_conv_bwd(&r.gh, hp, w->mrec, 1, P * F, U, w->zh, w->dh, l->weights[1].grad, w->hm, w->dhm, w->zt,
                            w->col);
        else
            ck_conv_bwd(&r.gh, hp, U, w->zh, w->dh, l->weights[1].grad, w->col, B, NULL);
    }
    /* pre is spent: it holds one gate's columns of dpre under dropout */
    if (r.in_drop)
        masked_conv_bwd(&r.gx, in[0].data, w->min, T, r.S, l->weights[0].value, w->dpre, din[0].data,
                        l->weights[0].grad, w->xm, w->dxm, w->pre, w->col);
    else
        ck_conv_bwd(&r.gx, in[0].data, l->weights[0].value, w->dpre, din[0].data, l->weights[0].grad, w->col, B * T, NULL);
    if (c->use_bias) ck_sum_rows_acc(l->weights[2].grad, w->dpre, B * T * P, F4);
    return CK_OK;
}
