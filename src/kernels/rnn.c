/* Recurrent loops (see rnn.h). Gate layouts follow Keras 3's cells exactly:
 * LSTM i, f, c, o; GRU z, r, h with reset_after applying the reset gate to the
 * recurrent projection (plus its own bias row) rather than to the state. */
#include "kernels/rnn.h"
#include "kernels/tensor_ops.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Gate work of one step below which threads cost more than they save: a step is
 * a barrier, and a few thousand activations take microseconds. */
#define PAR_MIN 32768

int64_t ck_rnn_gates(ck_rnn_kind kind) { return kind == CK_RNN_LSTM ? 4 : kind == CK_RNN_GRU ? 3 : 1; }

/* The scratch, every part [batch, ...]. */
typedef struct rnn_work {
    float *pre;    /* [B, T, GU] input projection, then pre-activations (by input time t) */
    float *gates;  /* [B, T, GU] post-activations: LSTM i f g o, GRU z r hh, simple h   */
    float *hs;     /* [B, T+1, U] state before processing step s (index s), after (s+1) */
    float *cs;     /* [B, T+1, U] LSTM cell states likewise                            */
    float *cand;   /* [B, T, U] GRU: h U_h + b (reset_after) or r * h (reset before)    */
    float *hproj;  /* [B, GU] recurrent projection of one step                        */
    float *h, *c;  /* [B, U] running states                                          */
    float *tmp;    /* [B, U]                                                          */
    float *dpre;   /* [B, T, GU] backward: d pre-activations of the input projection   */
    float *dzh;    /* [B, GU] backward: d recurrent projection of one step            */
    float *dh, *dc, *dhp; /* [B, U] backward running state grads                       */
    float *xd, *dxd;      /* [B, T, D] dropped inputs and their grads (in_drop)        */
    float *hd;            /* [B, T, U] the previous state as step t's cell read it      */
} rnn_work;

static void layout(const ck_rnn_args *a, rnn_work *w)
{
    int64_t B = a->batch, T = a->steps, U = a->units, GU = ck_rnn_gates(a->kind) * U;
    float *p = a->work;
    w->pre = p, p += B * T * GU;
    w->gates = p, p += B * T * GU;
    w->hs = p, p += B * (T + 1) * U;
    w->cs = p, p += B * (T + 1) * U;
    w->cand = p, p += B * T * U;
    w->hproj = p, p += B * GU;
    w->h = p, p += B * U;
    w->c = p, p += B * U;
    w->tmp = p, p += B * U;
    w->dpre = p, p += B * T * GU;
    w->dzh = p, p += B * GU;
    w->dh = p, p += B * U;
    w->dc = p, p += B * U;
    w->dhp = p, p += B * U;
    w->xd = p, p += B * T * a->in_dim;
    w->dxd = p, p += B * T * a->in_dim;
    w->hd = p;
}

int64_t ck_rnn_work_floats(const ck_rnn_args *a)
{
    int64_t T = a->steps, U = a->units, GU = ck_rnn_gates(a->kind) * U;
    return a->batch * (3 * T * GU + 2 * (T + 1) * U + 2 * T * U + 2 * GU + 6 * U + 2 * T * a->in_dim);
}

static bool masked(const ck_rnn_args *a, int64_t b, int64_t t)
{
    return a->mask && a->mask[b * a->steps + t] == 0.0f;
}

/* tanh and sigmoid, the recurrent layers' default activations, take most of a
 * step's time when computed one libm call at a time; these branch-free forms
 * vectorize. tanh: Eigen's rational approximation (odd degree-13 over even
 * degree-6, clamped where tanh rounds to +-1), a few ulp from tanhf. exp: Cephes's
 * range reduction and degree-5 polynomial, about 1 ulp, for sigmoid =
 * 1 / (1 + exp(-x)) as JAX computes it. */
#if defined(__GNUC__) && !defined(__clang__)
/* The clamps are selects; with trapping math GCC keeps them branches and the
 * loops scalar. No code here depends on floating-point exception flags. */
#pragma GCC push_options
#pragma GCC optimize("no-trapping-math")
#endif
static inline float fast_tanh(float a)
{
    const float clamp = 7.90531110763549805f;
    float x = a > clamp ? clamp : a;
    x = x < -clamp ? -clamp : x;
    float x2 = x * x;
    float p = -2.76076847742355e-16f;
    p = p * x2 + 2.00018790482477e-13f;
    p = p * x2 - 8.60467152213735e-11f;
    p = p * x2 + 5.12229709037114e-08f;
    p = p * x2 + 1.48572235717979e-05f;
    p = p * x2 + 6.37261928875436e-04f;
    p = p * x2 + 4.89352455891786e-03f;
    float q = 1.19825839466702e-06f;
    q = q * x2 + 1.18534705686654e-04f;
    q = q * x2 + 2.26843463243900e-03f;
    q = q * x2 + 4.89352518554385e-03f;
    float t = x * p / q;
    return fabsf(a) < 0.0004f ? a : t;
}

static inline float fast_exp(float x)
{
    x = x > 88.3762626647949f ? 88.3762626647949f : x;
    x = x < -87.3365447504f ? -87.3365447504f : x;
    /* n = round(x / ln 2) by the 1.5 * 2^23 shift, which vectorizes on every
     * target (floorf needs SSE4.1, and a compare-and-subtract kept AVX loops
     * scalar). */
    float fx = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    int n = (int)fx;
    x = x - fx * 0.693359375f + fx * 2.12194440e-4f;
    float z = x * x, y = 1.9875691500e-4f;
    y = y * x + 1.3981999507e-3f;
    y = y * x + 8.3334519073e-3f;
    y = y * x + 4.1665795894e-2f;
    y = y * x + 1.6666665459e-1f;
    y = y * x + 5.0000001201e-1f;
    y = y * z + x + 1.0f;
    union { int32_t i; float f; } p2 = {.i = (n + 127) << 23};
    return y * p2.f;
}

/* y = act(x) over n values; tanh and sigmoid vectorized, others by ck_act_forward. */
CK_SIMD_CLONES static void act(ck_act_kind k, const float *x, float *y, int64_t n)
{
    if (k == CK_ACT_TANH) {
#pragma omp simd
        for (int64_t i = 0; i < n; i++) y[i] = fast_tanh(x[i]);
    } else if (k == CK_ACT_SIGMOID) {
#pragma omp simd
        for (int64_t i = 0; i < n; i++) y[i] = 1.0f / (1.0f + fast_exp(-x[i]));
    } else {
        ck_act_forward(k, x, y, 1, n);
    }
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

/* One step's gate arithmetic for batch row b: pre = zx + zh, gates, new state. */
CK_SIMD_CLONES static void lstm_row(const ck_rnn_args *a, float *pre, const float *zh, float *g, float *h, float *c)
{
    int64_t u = a->units;
    if (zh) /* NULL: the recurrent GEMM accumulated into pre already */
        for (int64_t k = 0; k < 4 * u; k++) pre[k] += zh[k];
    act(a->rec_act, pre, g, 2 * u);                 /* i, f */
    act(a->act, pre + 2 * u, g + 2 * u, u);         /* candidate */
    act(a->rec_act, pre + 3 * u, g + 3 * u, u);     /* o */
    for (int64_t k = 0; k < u; k++) c[k] = g[u + k] * c[k] + g[k] * g[2 * u + k];
    act(a->act, c, h, u);
    for (int64_t k = 0; k < u; k++) h[k] *= g[3 * u + k];
}

/* zh's third block: h U_h + b_h (reset_after) or (r * h) U_h (reset before). */
CK_SIMD_CLONES static void gru_row(const ck_rnn_args *a, float *pre, const float *zh, float *g, float *cand, float *h)
{
    int64_t u = a->units;
    for (int64_t k = 0; k < 2 * u; k++) pre[k] += zh[k];
    act(a->rec_act, pre, g, 2 * u); /* z, r */
    if (a->reset_after) memcpy(cand, zh + 2 * u, (size_t)u * sizeof *cand);
    for (int64_t k = 0; k < u; k++) pre[2 * u + k] += a->reset_after ? g[u + k] * zh[2 * u + k] : zh[2 * u + k];
    act(a->act, pre + 2 * u, g + 2 * u, u);
    for (int64_t k = 0; k < u; k++) h[k] = g[k] * h[k] + (1.0f - g[k]) * g[2 * u + k];
}

/* ---- half layers: each operation of Keras's cell rounded ----------------------------- */
/* keras/src/layers/rnn/{simple_rnn,lstm,gru}.py, implementation 2, as XLA runs
 * them on a float16 / bfloat16 tensor: after every operation its result is
 * rounded to the half type (ck_round_half). r(v) below is one such rounding. */
static float r1(ck_half half, float v)
{
    ck_round_half(half, &v, &v, 1);
    return v;
}

/* y = act(x) as a half tensor: each operation of the activation rounded. */
static void act_half(ck_half half, ck_act_kind k, const float *x, float *y, int64_t n)
{
    ck_act_forward_half(k, half, x, y, 1, n);
}

/* LSTM: z = r(r(r(x K) + r(h U)) + b); c = r(r(f c) + r(i g)); h = r(o r(act(c))). */
static void lstm_row_half(const ck_rnn_args *a, float *pre, const float *zh, float *g, float *h, float *c)
{
    int64_t u = a->units;
    ck_half hf = a->half;
    for (int64_t k = 0; k < 4 * u; k++) {
        float z = r1(hf, pre[k] + zh[k]);
        pre[k] = a->bias ? r1(hf, z + a->bias[k]) : z;
    }
    act_half(hf, a->rec_act, pre, g, 2 * u);
    act_half(hf, a->act, pre + 2 * u, g + 2 * u, u);
    act_half(hf, a->rec_act, pre + 3 * u, g + 3 * u, u);
    for (int64_t k = 0; k < u; k++) c[k] = r1(hf, r1(hf, g[u + k] * c[k]) + r1(hf, g[k] * g[2 * u + k]));
    act_half(hf, a->act, c, h, u);
    for (int64_t k = 0; k < u; k++) h[k] = r1(hf, h[k] * g[3 * u + k]);
}

/* GRU: z, r = act(r(x_z + h_z)), ...; hh = act(r(x_h + r(r * h_h))) (reset_after)
 * or act(r(x_h + r(r(r * h) U_h))); h = r(r(z h) + r(r(1 - z) hh)). zh holds the
 * rounded recurrent products (with their bias, rounded, for reset_after). */
static void gru_row_half(const ck_rnn_args *a, float *pre, const float *zh, float *g, float *cand, float *h)
{
    int64_t u = a->units;
    ck_half hf = a->half;
    for (int64_t k = 0; k < 2 * u; k++) pre[k] = r1(hf, pre[k] + zh[k]);
    act_half(hf, a->rec_act, pre, g, 2 * u);
    if (a->reset_after) memcpy(cand, zh + 2 * u, (size_t)u * sizeof *cand);
    for (int64_t k = 0; k < u; k++)
        pre[2 * u + k] = r1(hf, pre[2 * u + k] + (a->reset_after ? r1(hf, g[u + k] * zh[2 * u + k]) : zh[2 * u + k]));
    act_half(hf, a->act, pre + 2 * u, g + 2 * u, u);
    for (int64_t k = 0; k < u; k++)
        h[k] = r1(hf, r1(hf, g[k] * h[k]) + r1(hf, r1(hf, 1.0f - g[k]) * g[2 * u + k]));
}

/* SimpleRNN: h = act(r(r(r(x K) + b) + r(h U))). */
static void simple_row_half(const ck_rnn_args *a, float *pre, const float *zh, float *g)
{
    for (int64_t k = 0; k < a->units; k++) pre[k] = r1(a->half, pre[k] + zh[k]);
    act_half(a->half, a->act, pre, g, a->units);
}

/* The input projection of every step, rounded, with the input bias added and
 * rounded where the cell adds it first (SimpleRNN, GRU); LSTM adds its bias
 * after the recurrent product (lstm_row_half). */
static void half_input_projection(const ck_rnn_args *a, float *pre)
{
    int64_t rows = a->batch * a->steps, GU = ck_rnn_gates(a->kind) * a->units;
    ck_round_half(a->half, pre, pre, rows * GU);
    if (!a->bias || a->kind == CK_RNN_LSTM) return;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t k = 0; k < GU; k++) pre[r * GU + k] = r1(a->half, pre[r * GU + k] + a->bias[k]);
}

/* One step's recurrent products for a half layer, rounded (GRU reset_after:
 * its recurrent bias added and rounded; reset before: the candidate's product
 * of the rounded r * h). */
static void half_recurrent_projection(const ck_rnn_args *a, const rnn_work *w, const float *hread, int64_t ldh,
                                      int64_t t)
{
    int64_t B = a->batch, T = a->steps, U = a->units, GU = ck_rnn_gates(a->kind) * U;
    bool late_reset = a->kind == CK_RNN_GRU && !a->reset_after;
    int64_t cols = late_reset ? 2 * U : GU;
    ck_sgemm(false, false, B, cols, U, 1.0f, hread, ldh, a->recurrent, GU, 0.0f, w->hproj, GU);
    const float *bias_rec = a->bias && a->kind == CK_RNN_GRU && a->reset_after ? a->bias + GU : NULL;
    for (int64_t b = 0; b < B; b++)
        for (int64_t k = 0; k < cols; k++) {
            float *v = &w->hproj[b * GU + k];
            *v = r1(a->half, *v);
            if (bias_rec) *v = r1(a->half, *v + bias_rec[k]);
        }
    if (!late_reset) return;
    for (int64_t b = 0; b < B; b++) {
        const float *zr = w->pre + (b * T + t) * GU;
        float *rh = w->cand + (b * T + t) * U;
        for (int64_t k = 0; k < U; k++) {
            float rg = r1(a->half, zr[U + k] + w->hproj[b * GU + U + k]);
            act_half(a->half, a->rec_act, &rg, &rg, 1);
            rh[k] = r1(a->half, rg * hread[b * ldh + k]);
        }
    }
    ck_sgemm(false, false, B, U, U, 1.0f, w->cand + t * U, T * U, a->recurrent + 2 * U, GU, 0.0f, w->hproj + 2 * U,
             GU);
    for (int64_t b = 0; b < B; b++) ck_round_half(a->half, w->hproj + b * GU + 2 * U, w->hproj + b * GU + 2 * U, U);
}

void ck_rnn_final_states(const ck_rnn_args *a, float *h, float *c)
{
    rnn_work w;
    layout(a, &w);
    int64_t T = a->steps, U = a->units;
    for (int64_t b = 0; b < a->batch; b++) {
        memcpy(h + b * U, w.hs + (b * (T + 1) + T) * U, (size_t)U * sizeof *h);
        if (c) memcpy(c + b * U, w.cs + (b * (T + 1) + T) * U, (size_t)U * sizeof *c);
    }
}

void ck_rnn_lstm_cell(const ck_rnn_args *a, float *pre, const float *zh, float *g, float *h, float *c)
{
    if (a->half) lstm_row_half(a, pre, zh, g, h, c);
    else lstm_row(a, pre, zh, g, h, c);
}

/* One step's gates and states of rows [b0, b1) (ck_parallel_for). */
typedef struct step_rows {
    const ck_rnn_args *a;
    const rnn_work *w;
    const ck_rnn_grads *gr; /* backward only */
    int64_t s, t;           /* step, and the input time it reads */
} step_rows;

static void forward_rows(void *ctx, int64_t b0, int64_t b1)
{
    const step_rows *r = ctx;
    const ck_rnn_args *a = r->a;
    const rnn_work w = *r->w;
    int64_t T = a->steps, U = a->units, GU = ck_rnn_gates(a->kind) * U, s = r->s, t = r->t;
    for (int64_t b = b0; b < b1; b++) {
        float *pre = w.pre + (b * T + t) * GU, *g = a->forward_only ? pre : w.gates + (b * T + t) * GU;
        float *h = w.h + b * U, *c = w.c + b * U;
        const float *zh = w.hproj + b * GU;
        if (masked(a, b, t)) {
            /* Keras skips a masked step: the state carries over, and the
             * output is the previous one (the state) or zeros. */
            if (a->seq && a->zero_output_for_mask) memset(a->seq + (b * T + s) * U, 0, (size_t)U * sizeof *h);
            else if (a->seq) memcpy(a->seq + (b * T + s) * U, h, (size_t)U * sizeof *h);
        } else {
            if (a->half) {
                if (a->kind == CK_RNN_LSTM) lstm_row_half(a, pre, zh, g, h, c);
                else if (a->kind == CK_RNN_GRU) gru_row_half(a, pre, zh, g, w.cand + (b * T + t) * U, h);
                else simple_row_half(a, pre, zh, g), memcpy(h, g, (size_t)U * sizeof *h);
            } else if (a->kind == CK_RNN_LSTM) {
                lstm_row(a, pre, NULL, g, h, c);
            } else if (a->kind == CK_RNN_GRU) {
                gru_row(a, pre, zh, g, w.cand + (b * T + t) * U, h);
            } else {
                act(a->act, pre, g, U);
                memcpy(h, g, (size_t)U * sizeof *h);
            }
            if (a->seq) memcpy(a->seq + (b * T + s) * U, h, (size_t)U * sizeof *h);
        }
        if (a->forward_only && s < T - 1) continue;
        memcpy(w.hs + (b * (T + 1) + s + 1) * U, h, (size_t)U * sizeof *h);
        memcpy(w.cs + (b * (T + 1) + s + 1) * U, c, (size_t)U * sizeof *c);
    }
}

void ck_rnn_forward(const ck_rnn_args *a)
{
    int64_t B = a->batch, T = a->steps, D = a->in_dim, U = a->units, G = ck_rnn_gates(a->kind), GU = G * U;
    rnn_work w;
    layout(a, &w);
    const float *bias_rec = a->bias && a->kind == CK_RNN_GRU && a->reset_after ? a->bias + GU : NULL;

    /* Input projection of every step at once. */
    const float *x = a->x;
    if (a->in_drop) {
        for (int64_t r = 0; r < B * T; r++)
            for (int64_t k = 0; k < D; k++) w.xd[r * D + k] = a->x[r * D + k] * a->in_drop[(r / T) * D + k];
        x = w.xd;
    }
    ck_weight_gemm(B * T, GU, D, x, D, a->kernel, GU, a->kernel_packed, 0.0f, a->half ? NULL : a->bias, w.pre, GU);
    if (a->half) half_input_projection(a, w.pre);
    if (a->h0) memcpy(w.h, a->h0, (size_t)(B * U) * sizeof *w.h);
    else memset(w.h, 0, (size_t)(B * U) * sizeof *w.h);
    if (a->c0) memcpy(w.c, a->c0, (size_t)(B * U) * sizeof *w.c);
    else memset(w.c, 0, (size_t)(B * U) * sizeof *w.c);
    for (int64_t b = 0; b < B; b++) {
        memcpy(w.hs + b * (T + 1) * U, w.h + b * U, (size_t)U * sizeof *w.h);
        memcpy(w.cs + b * (T + 1) * U, w.c + b * U, (size_t)U * sizeof *w.c);
    }

    bool gru_late_reset = a->kind == CK_RNN_GRU && !a->reset_after;
    for (int64_t s = 0; s < T; s++) {
        int64_t t = a->go_backwards ? T - 1 - s : s;
        /* The state as the cell reads it: dropped per sample in training (a GRU
         * also mixes the dropped state into its new one, as Keras 3 does). */
        const float *hread = w.h;
        if (a->rec_drop) {
            for (int64_t b = 0; b < B; b++) {
                float *hd = w.hd + (b * T + s) * U;
                for (int64_t k = 0; k < U; k++) hd[k] = w.h[b * U + k] * a->rec_drop[b * U + k];
                if (a->kind == CK_RNN_GRU && !masked(a, b, t)) memcpy(w.h + b * U, hd, (size_t)U * sizeof *hd);
            }
            hread = w.hd + s * U;
        }
        int64_t ldh = a->rec_drop ? T * U : U;
        /* Recurrent projection of all gates in one GEMM (GRU without reset_after:
         * z and r first, the candidate after the reset gate is known). */
        /* LSTM and SimpleRNN add it straight onto this step's input projection
         * (rows T*GU apart); a GRU needs its parts apart. */
        bool into_pre = a->kind != CK_RNN_GRU;
        if (a->half)
            half_recurrent_projection(a, &w, hread, ldh, t);
        else if (into_pre)
            ck_weight_gemm(B, GU, U, hread, ldh, a->recurrent, GU, a->recurrent_packed, 1.0f, NULL, w.pre + t * GU,
                           T * GU);
        else if (!gru_late_reset)
            ck_weight_gemm(B, GU, U, hread, ldh, a->recurrent, GU, a->recurrent_packed, 0.0f, NULL, w.hproj, GU);
        else
            ck_sgemm(false, false, B, 2 * U, U, 1.0f, hread, ldh, a->recurrent, GU, 0.0f, w.hproj, GU);
        if (bias_rec && !a->half)
            for (int64_t b = 0; b < B; b++) ck_vec_add(w.hproj + b * GU, bias_rec, GU);
        if (gru_late_reset && !a->half) {
            for (int64_t b = 0; b < B; b++) {
                const float *zr = w.pre + (b * T + t) * GU;
                float *rh = w.cand + (b * T + t) * U;
                for (int64_t k = 0; k < U; k++) {
                    float r = zr[U + k] + w.hproj[b * GU + U + k];
                    act(a->rec_act, &r, &r, 1);
                    rh[k] = r * hread[b * ldh + k];
                }
            }
            /* rows of cand for this step sit T*U apart */
            ck_sgemm(false, false, B, U, U, 1.0f, w.cand + t * U, T * U, a->recurrent + 2 * U, GU, 0.0f,
                     w.hproj + 2 * U, GU);
        }
        ck_parallel_for(ck_team_size(B * GU, PAR_MIN), B, forward_rows, &(step_rows){a, &w, NULL, s, t});
    }
    if (a->h) memcpy(a->h, w.h, (size_t)(B * U) * sizeof *w.h);
    if (a->c) memcpy(a->c, w.c, (size_t)(B * U) * sizeof *w.c);
}

/* ---- backward -------------------------------------------------------------------- */
/* d pre-activations of one row from d gates: dpre = 0 then += act'(pre) * dg. */
CK_SIMD_CLONES
static void gate_back(ck_act_kind k, const float *pre, const float *g, const float *dg, float *dpre, int64_t n)
{
    /* tanh and sigmoid from their outputs, in loops that vectorize */
    if (k == CK_ACT_TANH) {
        for (int64_t i = 0; i < n; i++) dpre[i] = (1.0f - g[i] * g[i]) * dg[i];
    } else if (k == CK_ACT_SIGMOID) {
        for (int64_t i = 0; i < n; i++) dpre[i] = g[i] * (1.0f - g[i]) * dg[i];
    } else {
        memset(dpre, 0, (size_t)n * sizeof *dpre);
        ck_act_backward(k, pre, g, dg, dpre, 1, n);
    }
}

/* LSTM row: dh, dc (in: d of h_s, c_s; out: dc of c_{s-1}) -> dpre, dzh = dpre. */
CK_SIMD_CLONES
static void lstm_back(const ck_rnn_args *a, const float *pre, const float *g, const float *c, const float *cp,
                      float *dh, float *dc, float *dpre, float *dg, float *tmp)
{
    int64_t u = a->units;
    act(a->act, c, tmp, u); /* act(c) */
    for (int64_t k = 0; k < u; k++) {
        dg[3 * u + k] = dh[k] * tmp[k];   /* d o */
        dh[k] *= g[3 * u + k];            /* d act(c) */
    }
    if (a->act == CK_ACT_TANH)
        for (int64_t k = 0; k < u; k++) dc[k] += (1.0f - tmp[k] * tmp[k]) * dh[k];
    else
        ck_act_backward(a->act, c, tmp, dh, dc, 1, u);
    for (int64_t k = 0; k < u; k++) {
        dg[k] = dc[k] * g[2 * u + k];
        dg[u + k] = dc[k] * cp[k];
        dg[2 * u + k] = dc[k] * g[k];
        dc[k] *= g[u + k];
    }
    gate_back(a->rec_act, pre, g, dg, dpre, 2 * u);
    gate_back(a->act, pre + 2 * u, g + 2 * u, dg + 2 * u, dpre + 2 * u, u);
    gate_back(a->rec_act, pre + 3 * u, g + 3 * u, dg + 3 * u, dpre + 3 * u, u);
    memcpy(dg, dpre, (size_t)(4 * u) * sizeof *dg);
}

void ck_rnn_lstm_cell_back(const ck_rnn_args *a, const float *pre, const float *g, const float *c, const float *cp,
                           float *dh, float *dc, float *dpre, float *dzh, float *tmp)
{
    lstm_back(a, pre, g, c, cp, dh, dc, dpre, dzh, tmp);
}

/* GRU row, first part: from dh, the z and candidate grads and h_prev's direct
 * share (dhp = dh * z); reset_after also the r grads and dzh. */
CK_SIMD_CLONES
static void gru_back1(const ck_rnn_args *a, const float *pre, const float *g, const float *cand, const float *hp,
                      const float *dh, float *dpre, float *dzh, float *dhp, float *tmp)
{
    int64_t u = a->units;
    for (int64_t k = 0; k < u; k++) {
        tmp[k] = dh[k] * (hp[k] - g[2 * u + k]);  /* d z */
        dhp[k] = dh[k] * g[k];
        dzh[2 * u + k] = dh[k] * (1.0f - g[k]);   /* d hh (temporarily) */
    }
    gate_back(a->rec_act, pre, g, tmp, dpre, u);
    gate_back(a->act, pre + 2 * u, g + 2 * u, dzh + 2 * u, dpre + 2 * u, u);
    if (a->reset_after) {
        for (int64_t k = 0; k < u; k++) {
            tmp[k] = dpre[2 * u + k] * cand[k];     /* d r */
            dzh[2 * u + k] = dpre[2 * u + k] * g[u + k];
        }
        gate_back(a->rec_act, pre + u, g + u, tmp, dpre + u, u);
    }
}

/* GRU reset before, second part: drh = d(r*h) (GEMM'd by the caller). */
CK_SIMD_CLONES
static void gru_back2(const ck_rnn_args *a, const float *pre, const float *g, const float *hp, const float *drh,
                      float *dpre, float *dhp, float *tmp)
{
    int64_t u = a->units;
    for (int64_t k = 0; k < u; k++) {
        tmp[k] = drh[k] * hp[k];
        dhp[k] += drh[k] * g[u + k];
    }
    gate_back(a->rec_act, pre + u, g + u, tmp, dpre + u, u);
}

/* One step's gate gradients of rows [b0, b1) (ck_parallel_for). */
static void backward_rows(void *ctx, int64_t b0, int64_t b1)
{
    const step_rows *r = ctx;
    const ck_rnn_args *a = r->a;
    const ck_rnn_grads *gr = r->gr;
    const rnn_work w = *r->w;
    int64_t T = a->steps, U = a->units, GU = ck_rnn_gates(a->kind) * U, s = r->s, t = r->t;
    bool gru = a->kind == CK_RNN_GRU;
    for (int64_t b = b0; b < b1; b++) {
        float *dh = w.dh + b * U, *dzh = w.dzh + b * GU, *dhp = w.dhp + b * U, *tmp = w.tmp + b * U;
        float *dpre = w.dpre + (b * T + t) * GU;
        const float *pre = w.pre + (b * T + t) * GU, *g = w.gates + (b * T + t) * GU;
        const float *hp = a->rec_drop ? w.hd + (b * T + s) * U : w.hs + (b * (T + 1) + s) * U;
        bool m = masked(a, b, t);
        if (gr->dseq && !(m && a->zero_output_for_mask)) ck_vec_add(dh, gr->dseq + (b * T + s) * U, U);
        memset(dzh, 0, (size_t)GU * sizeof *dzh);
        memset(dhp, 0, (size_t)U * sizeof *dhp);
        if (m) continue; /* the state's grads pass to the previous step */
        if (a->kind == CK_RNN_LSTM) {
            lstm_back(a, pre, g, w.cs + (b * (T + 1) + s + 1) * U, w.cs + (b * (T + 1) + s) * U, dh,
                      w.dc + b * U, dpre, dzh, tmp);
        } else if (gru) {
            gru_back1(a, pre, g, w.cand + (b * T + t) * U, hp, dh, dpre, dzh, dhp, tmp);
            for (int64_t k = 0; k < 2 * U; k++) dzh[k] = dpre[k];
        } else {
            gate_back(a->act, pre, g, dh, dpre, U);
            memcpy(dzh, dpre, (size_t)U * sizeof *dzh);
        }
    }
}

/* A GRU's (reset before) second part of rows [b0, b1), once d(r*h) is known. */
static void backward_reset_rows(void *ctx, int64_t b0, int64_t b1)
{
    const step_rows *r = ctx;
    const ck_rnn_args *a = r->a;
    const rnn_work w = *r->w;
    int64_t T = a->steps, U = a->units, GU = ck_rnn_gates(a->kind) * U, s = r->s, t = r->t;
    for (int64_t b = b0; b < b1; b++) {
        if (masked(a, b, t)) continue;
        float *dpre = w.dpre + (b * T + t) * GU;
        float *tmp2 = w.dh + b * U; /* dh is consumed: reuse it as scratch */
        const float *hp = a->rec_drop ? w.hd + (b * T + s) * U : w.hs + (b * (T + 1) + s) * U;
        gru_back2(a, w.pre + (b * T + t) * GU, w.gates + (b * T + t) * GU, hp, w.tmp + b * U, dpre, w.dhp + b * U,
                  tmp2);
        memcpy(w.dzh + b * GU + U, dpre + U, (size_t)U * sizeof *dpre);
    }
}

void ck_rnn_backward(const ck_rnn_args *a, const ck_rnn_grads *gr)
{
    int64_t B = a->batch, T = a->steps, D = a->in_dim, U = a->units, GU = ck_rnn_gates(a->kind) * U;
    rnn_work w;
    layout(a, &w);
    bool gru = a->kind == CK_RNN_GRU, late = gru && !a->reset_after;
    int64_t rec_cols = late ? 2 * U : GU; /* recurrent columns driven by h_prev directly */
    memset(w.dh, 0, (size_t)(B * U) * sizeof *w.dh);
    if (gr->dh) ck_vec_add(w.dh, gr->dh, B * U);
    if (gr->dh2) ck_vec_add(w.dh, gr->dh2, B * U);
    if (gr->dc) memcpy(w.dc, gr->dc, (size_t)(B * U) * sizeof *w.dc);
    else memset(w.dc, 0, (size_t)(B * U) * sizeof *w.dc);
    memset(w.dpre, 0, (size_t)(B * T * GU) * sizeof *w.dpre);
    float *dbias_rec = a->bias && gru && a->reset_after && gr->dbias ? gr->dbias + GU : NULL;

    for (int64_t s = T - 1; s >= 0; s--) {
        int64_t t = a->go_backwards ? T - 1 - s : s;
        ck_parallel_for(ck_team_size(B * GU, PAR_MIN), B, backward_rows, &(step_rows){a, &w, gr, s, t});
        if (late) {
            /* d(r*h) = d hh_pre U_h^T; U_h's grad from (r*h)^T d hh_pre */
            ck_sgemm(false, true, B, U, U, 1.0f, w.dpre + t * GU + 2 * U, T * GU, a->recurrent + 2 * U, GU, 0.0f,
                     w.tmp, U);
            if (gr->drecurrent)
                ck_sgemm(true, false, U, U, B, 1.0f, w.cand + t * U, T * U, w.dpre + t * GU + 2 * U, T * GU, 1.0f,
                         gr->drecurrent + 2 * U, GU);
            ck_parallel_for(ck_team_size(B * GU, PAR_MIN), B, backward_reset_rows, &(step_rows){a, &w, gr, s, t});
        }
        /* recurrent kernel and state grads of all rows at once */
        const float *hread = a->rec_drop ? w.hd + s * U : w.hs + s * U;
        if (gr->drecurrent)
            ck_sgemm(true, false, U, rec_cols, B, 1.0f, hread, a->rec_drop ? T * U : (T + 1) * U, w.dzh, GU, 1.0f,
                     gr->drecurrent, GU);
        if (dbias_rec) ck_sum_rows_acc(dbias_rec, w.dzh, B, GU);
        ck_sgemm(false, true, B, U, rec_cols, 1.0f, w.dzh, GU, a->recurrent, GU, 1.0f, w.dhp, U);
        for (int64_t b = 0; b < B; b++) {
            if (masked(a, b, t)) continue;
            for (int64_t k = 0; k < U; k++)
                w.dh[b * U + k] = a->rec_drop ? w.dhp[b * U + k] * a->rec_drop[b * U + k] : w.dhp[b * U + k];
        }
    }
    const float *x = a->in_drop ? w.xd : a->x;
    if (gr->dkernel) ck_sgemm(true, false, D, GU, B * T, 1.0f, x, D, w.dpre, GU, 1.0f, gr->dkernel, GU);
    if (gr->dbias) ck_sum_rows_acc(gr->dbias, w.dpre, B * T, GU);
    if (gr->dx && !a->in_drop) ck_sgemm(false, true, B * T, D, GU, 1.0f, w.dpre, GU, a->kernel, GU, 1.0f, gr->dx, D);
    if (gr->dx && a->in_drop) {
        ck_sgemm(false, true, B * T, D, GU, 1.0f, w.dpre, GU, a->kernel, GU, 0.0f, w.dxd, D);
        for (int64_t r = 0; r < B * T; r++)
            for (int64_t k = 0; k < D; k++) gr->dx[r * D + k] += w.dxd[r * D + k] * a->in_drop[(r / T) * D + k];
    }
    if (gr->dh0) ck_vec_add(gr->dh0, w.dh, B * U);
    if (gr->dc0 && a->kind == CK_RNN_LSTM) ck_vec_add(gr->dc0, w.dc, B * U);
}
