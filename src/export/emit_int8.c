/*
 * int8 forms of Dense and Conv for `ckeras export --int8`, as TensorFlow
 * Lite's post-training quantization makes them: weights symmetric per output
 * channel (scale = max |w| / 127), the input and output per tensor from the
 * calibrated ranges, bias in int32 at scale in_scale * w_scale, and the
 * multiplier in_scale * w_scale / out_scale as a Q31 number and a shift
 * (TFLite's QuantizeMultiplier). A layer whose activation cannot be a clamp of
 * the int8 result (softmax, tanh...) stays float. A q8 layer reads its input
 * as int8 when the value is stored so (export_c.c's plan_int8) and writes its
 * output as int8 when the next layers take it, else as floats.
 */
#include "export/export.h"

#include "kernels/conv.h"

#include <math.h>

typedef long long ll;

#define Q8_CHUNK 64 /* int16s: templates/kernels.c.in's K_Q8_CHUNK, what k_dense_q8 widens at a time */

bool ex_q8_activation(ck_act_kind k) { return k == CK_ACT_LINEAR || k == CK_ACT_RELU || k == CK_ACT_RELU6; }

/* Real multiplier m >= 0 as mult * 2^(shift - 31), mult in [2^30, 2^31). */
static void quantize_multiplier(double m, int32_t *mult, int32_t *shift)
{
    if (!(m > 0.0)) {
        *mult = 0, *shift = 0;
        return;
    }
    int e;
    double q = frexp(m, &e);
    int64_t f = llround(q * (double)(1ll << 31));
    if (f == (1ll << 31)) f /= 2, e++;
    if (e < -31) f = 0, e = 0; /* too small to matter: the result is the zero point */
    *mult = (int32_t)f, *shift = e;
}

/* Scratch is counted in floats: n bytes take this many. */
static int64_t byte_floats(int64_t n) { return (n + 3) / 4; }

/* The quantized layer's constants; NULL names on out of memory. */
typedef struct q8_consts {
    const char *w, *bias, *mult, *shift;
    float in_scale, out_scale;
    int in_zp, out_zp, qmin, qmax;
} q8_consts;

/* w [K, N] (a Dense kernel, or a convolution's [taps * cin, cout]) and bias [N];
 * the int8 kernel is written [N, K]. */
static ck_status q8_constants(ex_ctx *c, const ck_layer *l, const ex_step *s, const float *w, const float *b,
                              int64_t K, int64_t N, ck_act_kind act, q8_consts *q)
{
    ex_qparams(c, s->in[0], &q->in_scale, &q->in_zp);
    ex_qparams(c, s->out[0], &q->out_scale, &q->out_zp);
    q->qmin = act == CK_ACT_LINEAR ? -128 : q->out_zp;
    q->qmax = 127;
    if (act == CK_ACT_RELU6) {
        long top = q->out_zp + lroundf(6.0f / q->out_scale);
        q->qmax = top < 127 ? (int)top : 127;
    }
    q->w = q->bias = q->mult = q->shift = "q";
    if (!ex_emitting(c)) return CK_OK;
    signed char *wq = ck_malloc((size_t)(K * N + 1));
    int32_t *iv = ck_malloc((size_t)(3 * N + 1) * sizeof *iv);
    float *scale = ck_malloc((size_t)(N + 1) * sizeof *scale);
    if (!wq || !iv || !scale) {
        ck_free(wq), ck_free(iv), ck_free(scale);
        return ck_fail(CK_ERR_NOMEM, "out of memory exporting");
    }
    for (int64_t o = 0; o < N; o++) {
        float m = 0.0f;
        for (int64_t k = 0; k < K; k++) m = fabsf(w[k * N + o]) > m ? fabsf(w[k * N + o]) : m;
        scale[o] = m > 0.0f ? m / 127.0f : 1.0f;
    }
    for (int64_t k = 0; k < K; k++) /* transposed to [N, K] for the kernels' dot products */
        for (int64_t o = 0; o < N; o++) {
            long v = lroundf(w[k * N + o] / scale[o]);
            wq[o * K + k] = (signed char)(v < -127 ? -127 : v > 127 ? 127 : v);
        }
    for (int64_t o = 0; o < N; o++) {
        double bs = (double)q->in_scale * scale[o], bq = b ? nearbyint(b[o] / bs) : 0.0;
        ll wsum = 0; /* the kernels sum the stored int8s: the zero point's share comes off here */
        for (int64_t k = 0; k < K; k++) wsum += wq[o * K + k];
        bq = (bq < -2147483647.0 ? -2147483647.0 : bq > 2147483647.0 ? 2147483647.0 : bq) - (double)q->in_zp * wsum;
        iv[o] = (int32_t)(bq < -2147483647.0 ? -2147483647.0 : bq > 2147483647.0 ? 2147483647.0 : bq);
        quantize_multiplier(bs / q->out_scale, &iv[N + o], &iv[2 * N + o]);
    }
    q->w = ex_int8s(c, l, "kernel_q", wq, K * N);
    q->bias = ex_int32s(c, l, "bias_q", iv, N);
    q->mult = ex_int32s(c, l, "multiplier", iv + N, N);
    q->shift = ex_int32s(c, l, "shift", iv + 2 * N, N);
    ck_free(wq), ck_free(iv), ck_free(scale);
    return CK_OK;
}

/* Input 0 of a q8 step as int8s: the value itself when it is stored so, else
 * (the start of an int8 run) its quantization into scratch of its size. */
static const char *int8_input(ex_ctx *c, const ex_step *s, const q8_consts *q, int64_t n)
{
    if (ex_q8_value(c, s->in[0])) return ex_in(c, s, 0);
    ex_use(c, "quantize8");
    const char *xq = ex_scratch(c, byte_floats(n));
    ex_line(c, "k_quantize8(%s, %s, %lld, %s, %d);", ex_in(c, s, 0), ex_str(c, "(signed char *)(%s)", xq), (ll)n,
            ex_float(c, q->in_scale), q->in_zp);
    return ex_str(c, "(signed char *)(%s)", xq);
}

/* Output 0 as the kernels' "yf, y8" pair: one of them NULL. */
static const char *q8_output(ex_ctx *c, const ex_step *s)
{
    const char *y = ex_out(c, s, 0);
    return ex_q8_value(c, s->out[0]) ? ex_str(c, "NULL, %s", y) : ex_str(c, "%s, NULL", y);
}

ck_status ex_dense_q8(ex_ctx *c, const ck_layer *l, const ex_step *s, const float *w, const float *b, int64_t rows,
                      int64_t n_in, int64_t n_out, ck_act_kind act)
{
    q8_consts q;
    ck_status st = q8_constants(c, l, s, w, b, n_in, n_out, act, &q);
    if (st) return st;
    ex_use(c, "dense_q8");
    bool in8 = ex_q8_value(c, s->in[0]);
    const char *x = ex_in(c, s, 0), *xs = in8 ? ex_str(c, "NULL, %s", x) : ex_str(c, "%s, NULL", x);
    /* xq: the int16 row of a float input (quantized row by row: no int8 copy of all of it), else a
     * chunk of the int8 row */
    const char *xq = ex_scratch(c, byte_floats(2 * (!in8 || n_in < Q8_CHUNK ? n_in : Q8_CHUNK)));
    ex_line(c, "k_dense_q8(%s, %s, %s, %s, %lld, %lld, %lld, %s, %d, %s, %s, %d, %s, %d, %d, (int16_t *)(%s));", xs,
            q.w, q.bias, q8_output(c, s), (ll)rows, (ll)n_in, (ll)n_out, ex_float(c, q.in_scale), q.in_zp, q.mult,
            q.shift, q.out_zp, ex_float(c, q.out_scale), q.qmin, q.qmax, xq);
    ex_int8_done(c);
    return CK_OK;
}

ck_status ex_conv_q8(ex_ctx *c, const ck_layer *l, const ex_step *s, const ck_conv_geom *g, const float *w,
                     const float *b, const char *geom, ck_act_kind act)
{
    q8_consts q;
    int64_t taps = g->k[0] * g->k[1] * g->k[2];
    ck_status st = q8_constants(c, l, s, w, b, taps * g->cin, g->cout, act, &q);
    if (st) return st;
    int64_t in_n = g->in[0] * g->in[1] * g->in[2] * g->cin;
    ex_use(c, "conv_q8");
    const char *x = int8_input(c, s, &q, in_n), *patch = ex_scratch(c, byte_floats(2 * taps * g->cin));
    ex_line(c, "k_conv_q8(%s, %s, %s, %s, &%s, %d, %s, %s, %d, %s, %d, %d, (int16_t *)(%s));", x, q.w, q.bias,
            q8_output(c, s), geom, q.in_zp, q.mult, q.shift, q.out_zp, ex_float(c, q.out_scale), q.qmin, q.qmax,
            patch);
    ex_int8_done(c);
    return CK_OK;
}

bool ex_max_pool_q8(ex_ctx *c, const ex_step *s, const char *geom)
{
    if (!ex_int8(c, s)) return false;
    ex_int8_through(c);
    if (!ex_q8_value(c, s->in[0]) || !ex_q8_value(c, s->out[0])) return false;
    float in_scale, out_scale;
    int in_zp, out_zp;
    ex_qparams(c, s->in[0], &in_scale, &in_zp);
    ex_qparams(c, s->out[0], &out_scale, &out_zp);
    ex_use(c, "max_pool_q8");
    ex_line(c, "k_max_pool_q8(%s, %s, %s, %s, %d, %s, %d);", ex_in(c, s, 0), ex_out(c, s, 0), geom,
            ex_float(c, in_scale), in_zp, ex_float(c, out_scale), out_zp);
    if (ex_emitting(c)) ex_int8_done(c); /* counted, not marked a q8 step: it takes int8 only from int8 */
    return true;
}
