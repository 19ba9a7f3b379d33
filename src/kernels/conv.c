/* Convolution kernels (see conv.h). im2col writes one row per output position
 * holding the receptive field as [kernel positions][channels of the group], so the
 * kernel's Keras layout (*k, cin/groups, cout) is already the GEMM's B matrix. */
#include "kernels/conv.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

static int64_t prod3(const int64_t *v) { return v[0] * v[1] * v[2]; }

/* Input coordinate of kernel tap `t` for output index `o` along one axis. */
static inline int64_t tap(const ck_conv_geom *g, int a, int64_t o, int64_t t)
{
    return o * g->s[a] - g->pad[a] + t * g->d[a];
}

/* col[pos][kv * cg + ci] = x[pos's tap kv, c0 + ci] or 0 outside the input. */
static void im2col(const ck_conv_geom *g, const float *x, int64_t c0, int64_t cg, float *col)
{
    int64_t kvol = prod3(g->k), row = kvol * cg;
    int64_t pos = 0;
    for (int64_t o0 = 0; o0 < g->out[0]; o0++)
        for (int64_t o1 = 0; o1 < g->out[1]; o1++)
            for (int64_t o2 = 0; o2 < g->out[2]; o2++, pos++) {
                float *dst = col + pos * row;
                for (int64_t k0 = 0; k0 < g->k[0]; k0++) {
                    int64_t i0 = tap(g, 0, o0, k0);
                    for (int64_t k1 = 0; k1 < g->k[1]; k1++) {
                        int64_t i1 = tap(g, 1, o1, k1);
                        for (int64_t k2 = 0; k2 < g->k[2]; k2++, dst += cg) {
                            int64_t i2 = tap(g, 2, o2, k2);
                            if (i0 < 0 || i0 >= g->in[0] || i1 < 0 || i1 >= g->in[1] || i2 < 0 || i2 >= g->in[2]) {
                                memset(dst, 0, (size_t)cg * sizeof *dst);
                                continue;
                            }
                            const float *src = x + ((i0 * g->in[1] + i1) * g->in[2] + i2) * g->cin + c0;
                            memcpy(dst, src, (size_t)cg * sizeof *dst);
                        }
                    }
                }
            }
}

static bool is_pointwise(const ck_conv_geom *g)
{
    for (int a = 0; a < 3; a++)
        if (g->k[a] != 1 || g->s[a] != 1 || g->pad[a] != 0 || g->in[a] != g->out[a]) return false;
    return g->groups == 1;
}

static void add_bias(float *y, const float *bias, int64_t rows, int64_t cols)
{
    if (!bias) return;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++) y[r * cols + c] += bias[c];
}

bool ck_conv_nd(const ck_conv_geom *g, const float *x, const float *w, const float *bias, float *y)
{
    int64_t npos = prod3(g->out), nin = prod3(g->in), kvol = prod3(g->k);
    int64_t cg = g->cin / g->groups, fg = g->cout / g->groups;
    if (is_pointwise(g)) { /* 1x1 stride 1: the input already is the im2col matrix */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(g->batch * npos), (int)g->cout, (int)g->cin,
                    1.0f, x, (int)g->cin, w, (int)g->cout, 0.0f, y, (int)g->cout);
        add_bias(y, bias, g->batch * npos, g->cout);
        return true;
    }
    size_t col_size = (size_t)(npos * kvol * cg);
    bool ok = true;
#pragma omp parallel reduction(&& : ok)
    {
        float *col = malloc(col_size * sizeof *col); /* once per thread, reused per sample */
        ok = col != NULL;
#pragma omp for schedule(static)
        for (int64_t b = 0; b < g->batch; b++) {
            if (!col) continue;
            const float *xb = x + b * nin * g->cin;
            float *yb = y + b * npos * g->cout;
            for (int64_t gi = 0; gi < g->groups; gi++) {
                im2col(g, xb, gi * cg, cg, col);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)npos, (int)fg, (int)(kvol * cg), 1.0f,
                            col, (int)(kvol * cg), w + gi * fg, (int)g->cout, 0.0f, yb + gi * fg, (int)g->cout);
            }
            add_bias(yb, bias, npos, g->cout);
        }
        free(col);
    }
    return ok;
}

/* Scatters col[pos][kv][cout] (one row per input position) into y, which is the
 * adjoint of im2col with the roles of input and output exchanged. */
static void col2im(const ck_conv_geom *g, const float *col, float *yb)
{
    int64_t pos = 0, c = g->cout;
    for (int64_t i0 = 0; i0 < g->in[0]; i0++)
        for (int64_t i1 = 0; i1 < g->in[1]; i1++)
            for (int64_t i2 = 0; i2 < g->in[2]; i2++, pos++) {
                const float *src = col + pos * prod3(g->k) * c;
                for (int64_t k0 = 0; k0 < g->k[0]; k0++) {
                    int64_t o0 = tap(g, 0, i0, k0);
                    for (int64_t k1 = 0; k1 < g->k[1]; k1++) {
                        int64_t o1 = tap(g, 1, i1, k1);
                        for (int64_t k2 = 0; k2 < g->k[2]; k2++, src += c) {
                            int64_t o2 = tap(g, 2, i2, k2);
                            if (o0 < 0 || o0 >= g->out[0] || o1 < 0 || o1 >= g->out[1] || o2 < 0 || o2 >= g->out[2])
                                continue;
                            float *dst = yb + ((o0 * g->out[1] + o1) * g->out[2] + o2) * c;
                            for (int64_t j = 0; j < c; j++) dst[j] += src[j];
                        }
                    }
                }
            }
}

bool ck_conv_transpose_nd(const ck_conv_geom *g, const float *x, const float *w, const float *bias, float *y)
{
    int64_t nin = prod3(g->in), nout = prod3(g->out), kvol = prod3(g->k);
    size_t col_size = (size_t)(nin * kvol * g->cout);
    bool ok = true;
#pragma omp parallel reduction(&& : ok)
    {
        float *col = malloc(col_size * sizeof *col);
        ok = col != NULL;
#pragma omp for schedule(static)
        for (int64_t b = 0; b < g->batch; b++) {
            if (!col) continue;
            /* col[pos][kv*cout + f] = sum_ci x[pos][ci] * w[kv][f][ci]: x @ W^T with W as [kv*cout, cin] */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nin, (int)(kvol * g->cout), (int)g->cin, 1.0f,
                        x + b * nin * g->cin, (int)g->cin, w, (int)g->cin, 0.0f, col, (int)(kvol * g->cout));
            float *yb = y + b * nout * g->cout;
            memset(yb, 0, (size_t)(nout * g->cout) * sizeof *yb);
            col2im(g, col, yb);
            add_bias(yb, bias, nout, g->cout);
        }
        free(col);
    }
    return ok;
}

void ck_depthwise_nd(const ck_conv_geom *g, const float *x, const float *w, const float *bias, float *y)
{
    int64_t nin = prod3(g->in), nout = prod3(g->out), m = g->mult, cm = g->cin * m;
#pragma omp parallel for schedule(static)
    for (int64_t b = 0; b < g->batch; b++) {
        const float *xb = x + b * nin * g->cin;
        float *yb = y + b * nout * cm;
        int64_t pos = 0;
        for (int64_t o0 = 0; o0 < g->out[0]; o0++)
            for (int64_t o1 = 0; o1 < g->out[1]; o1++)
                for (int64_t o2 = 0; o2 < g->out[2]; o2++, pos++) {
                    float *dst = yb + pos * cm;
                    for (int64_t j = 0; j < cm; j++) dst[j] = bias ? bias[j] : 0.0f;
                    const float *wk = w;
                    for (int64_t k0 = 0; k0 < g->k[0]; k0++) {
                        int64_t i0 = tap(g, 0, o0, k0);
                        for (int64_t k1 = 0; k1 < g->k[1]; k1++) {
                            int64_t i1 = tap(g, 1, o1, k1);
                            for (int64_t k2 = 0; k2 < g->k[2]; k2++, wk += cm) {
                                int64_t i2 = tap(g, 2, o2, k2);
                                if (i0 < 0 || i0 >= g->in[0] || i1 < 0 || i1 >= g->in[1] || i2 < 0 || i2 >= g->in[2])
                                    continue;
                                const float *src = xb + ((i0 * g->in[1] + i1) * g->in[2] + i2) * g->cin;
                                for (int64_t c = 0; c < g->cin; c++)
                                    for (int64_t j = 0; j < m; j++) dst[c * m + j] += src[c] * wk[c * m + j];
                            }
                        }
                    }
                }
    }
}
