/* Recurrent loops (see rnn.h). Gate layouts follow Keras 3's cells exactly:
 * LSTM i, f, c, o; GRU z, r, h with reset_after applying the reset gate to the
 * recurrent projection (plus its own bias row) rather than to the state. */
#include "kernels/rnn.h"

#include <cblas.h>
#include <string.h>

int64_t ck_rnn_gates(ck_rnn_kind kind) { return kind == CK_RNN_LSTM ? 4 : kind == CK_RNN_GRU ? 3 : 1; }

int64_t ck_rnn_work_floats(const ck_rnn_args *a)
{
    int64_t gu = ck_rnn_gates(a->kind) * a->units;
    /* xproj [B*T, GU], hproj [B, GU], h [B, U], c [B, U], rh [B, U] */
    return a->batch * a->steps * gu + a->batch * gu + 3 * a->batch * a->units;
}

static void gemm(int64_t m, int64_t n, int64_t k, const float *A, int64_t lda, const float *B, int64_t ldb,
                 float beta, float *C, int64_t ldc)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k, 1.0f, A, (int)lda, B,
                (int)ldb, beta, C, (int)ldc);
}

/* One step's gate arithmetic for batch row b; zx and zh are that row's projections. */
static void lstm_row(const ck_rnn_args *a, float *zx, const float *zh, float *h, float *c)
{
    int64_t u = a->units;
    for (int64_t k = 0; k < 4 * u; k++) zx[k] += zh[k];
    ck_act_forward(a->rec_act, zx, zx, 1, 2 * u);          /* i, f */
    ck_act_forward(a->act, zx + 2 * u, zx + 2 * u, 1, u);  /* candidate */
    ck_act_forward(a->rec_act, zx + 3 * u, zx + 3 * u, 1, u); /* o */
    for (int64_t k = 0; k < u; k++) c[k] = zx[u + k] * c[k] + zx[k] * zx[2 * u + k];
    memcpy(h, c, (size_t)u * sizeof *h);
    ck_act_forward(a->act, h, h, 1, u);
    for (int64_t k = 0; k < u; k++) h[k] *= zx[3 * u + k];
}

static void gru_row(const ck_rnn_args *a, float *zx, const float *zh, float *h)
{
    int64_t u = a->units;
    for (int64_t k = 0; k < 2 * u; k++) zx[k] += zh[k];
    ck_act_forward(a->rec_act, zx, zx, 1, 2 * u); /* z, r */
    /* reset_after: zh holds h U_h + b_rec; otherwise zh's third block already is (r*h) U_h. */
    for (int64_t k = 0; k < u; k++) zx[2 * u + k] += a->reset_after ? zx[u + k] * zh[2 * u + k] : zh[2 * u + k];
    ck_act_forward(a->act, zx + 2 * u, zx + 2 * u, 1, u);
    for (int64_t k = 0; k < u; k++) h[k] = zx[k] * h[k] + (1.0f - zx[k]) * zx[2 * u + k];
}

void ck_rnn_forward(const ck_rnn_args *a)
{
    int64_t B = a->batch, T = a->steps, D = a->in_dim, U = a->units, G = ck_rnn_gates(a->kind), GU = G * U;
    float *xproj = a->work;                 /* [B, T, GU] */
    float *hproj = xproj + B * T * GU;      /* [B, GU]    */
    float *h = hproj + B * GU;              /* [B, U]     */
    float *c = h + B * U;                   /* [B, U]     */
    float *rh = c + B * U;                  /* [B, U]     */
    const float *bias_in = a->bias;
    const float *bias_rec = a->bias && a->kind == CK_RNN_GRU && a->reset_after ? a->bias + GU : NULL;

    /* Input projection of every step at once. */
    gemm(B * T, GU, D, a->x, D, a->kernel, GU, 0.0f, xproj, GU);
    if (bias_in) {
#pragma omp parallel for schedule(static)
        for (int64_t r = 0; r < B * T; r++)
            for (int64_t k = 0; k < GU; k++) xproj[r * GU + k] += bias_in[k];
    }
    memset(h, 0, (size_t)(2 * B * U) * sizeof *h);

    bool gru_late_reset = a->kind == CK_RNN_GRU && !a->reset_after;
    for (int64_t s = 0; s < T; s++) {
        int64_t t = a->go_backwards ? T - 1 - s : s;
        /* Recurrent projection of all gates in one GEMM (GRU without reset_after:
         * z and r first, the candidate after the reset gate is known). */
        gemm(B, gru_late_reset ? 2 * U : GU, U, h, U, a->recurrent, GU, 0.0f, hproj, GU);
        if (bias_rec) {
            for (int64_t b = 0; b < B; b++)
                for (int64_t k = 0; k < GU; k++) hproj[b * GU + k] += bias_rec[k];
        }
        if (gru_late_reset) {
            for (int64_t b = 0; b < B; b++) {
                float *zr = xproj + (b * T + t) * GU;
                for (int64_t k = 0; k < U; k++) {
                    float r = zr[U + k] + hproj[b * GU + U + k];
                    ck_act_forward(a->rec_act, &r, &r, 1, 1);
                    rh[b * U + k] = r * h[b * U + k];
                }
            }
            gemm(B, U, U, rh, U, a->recurrent + 2 * U, GU, 0.0f, hproj + 2 * U, GU);
        }
#pragma omp parallel for schedule(static)
        for (int64_t b = 0; b < B; b++) {
            float *zx = xproj + (b * T + t) * GU;
            const float *zh = hproj + b * GU;
            if (a->mask && a->mask[b * T + t] == 0.0f) {
                /* Keras skips a masked step: the state carries over, and the
                 * output is the previous one (the state) or zeros. */
                if (a->seq && a->zero_output_for_mask) memset(a->seq + (b * T + s) * U, 0, (size_t)U * sizeof *h);
                else if (a->seq) memcpy(a->seq + (b * T + s) * U, h + b * U, (size_t)U * sizeof *h);
                continue;
            }
            if (a->kind == CK_RNN_LSTM) {
                lstm_row(a, zx, zh, h + b * U, c + b * U);
            } else if (a->kind == CK_RNN_GRU) {
                gru_row(a, zx, zh, h + b * U);
            } else {
                for (int64_t k = 0; k < U; k++) zx[k] += zh[k];
                ck_act_forward(a->act, zx, h + b * U, 1, U);
            }
            if (a->seq) memcpy(a->seq + (b * T + s) * U, h + b * U, (size_t)U * sizeof *h);
        }
    }
    memcpy(a->h, h, (size_t)(B * U) * sizeof *h);
    if (a->c) memcpy(a->c, c, (size_t)(B * U) * sizeof *c);
}
