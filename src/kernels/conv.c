/* Convolution kernels (see conv.h). im2col writes one row per output position
 * holding the receptive field as [kernel positions][channels of the group], so the
 * kernel's Keras layout (*k, cin/groups, cout) is already the GEMM's B matrix, and
 * a chunk of samples stacks its rows into one taller GEMM. The same gather and
 * its adjoint scatter serve the transposed convolution with the roles of the
 * input and output extents exchanged. */
#include "kernels/conv.h"
#include "kernels/gemm_packed.h"
#include "kernels/tensor_ops.h"

#include <string.h>

static int64_t prod3(const int64_t *v) { return v[0] * v[1] * v[2]; }

/* Coordinate of kernel tap `t` from position `o` along axis a: for the
 * convolution an input coordinate from an output index; for the transposed one
 * an output coordinate from an input index. */
static inline int64_t tap(const ck_conv_geom *g, int a, int64_t o, int64_t t)
{
    return o * g->s[a] - g->pad[a] + t * g->d[a];
}

/* One side of the gather/scatter: positions iterated (`it`), the extents of the
 * tensor read or written (`ext`), its channel count and the channel window. */
typedef struct side {
    const int64_t *it, *ext;
    int64_t C, c0, cg;
} side;

/* memcpy for the short runs of im2col (3 floats per kernel row of a Conv2D on
 * one channel): a library call per 12 bytes cost more than the copy. */
static inline void copy_run(float *restrict dst, const float *restrict src, int64_t n)
{
    if (n > 32) {
        memcpy(dst, src, (size_t)n * sizeof *dst);
        return;
    }
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) memcpy(dst + i, src + i, 8 * sizeof *dst);
    if (i + 4 <= n) memcpy(dst + i, src + i, 4 * sizeof *dst), i += 4;
    if (i + 2 <= n) memcpy(dst + i, src + i, 2 * sizeof *dst), i += 2;
    if (i < n) dst[i] = src[i];
}

/* One kernel row (the k[2] taps along the last axis) of gather: when every tap
 * is inside, undilated, and the group spans all channels, the row is one
 * contiguous run of k[2] * C floats, copied at once (Conv2D on 1 channel would
 * otherwise copy 4 bytes per call). */
static void gather_row(const ck_conv_geom *g, const side *sd, const float *src_row, int64_t o2, float *col)
{
    int64_t cg = sd->cg, first = tap(g, 2, o2, 0), last = tap(g, 2, o2, g->k[2] - 1);
    if (g->d[2] == 1 && cg == sd->C && first >= 0 && last < sd->ext[2]) {
        copy_run(col, src_row + first * sd->C, g->k[2] * cg);
        return;
    }
    for (int64_t k2 = 0; k2 < g->k[2]; k2++, col += cg) {
        int64_t i2 = tap(g, 2, o2, k2);
        if (i2 < 0 || i2 >= sd->ext[2]) memset(col, 0, (size_t)cg * sizeof *col);
        else if (cg == 1) *col = src_row[i2 * sd->C + sd->c0];
        else copy_run(col, src_row + i2 * sd->C + sd->c0, cg);
    }
}

/* col[pos][kv * cg + ci] = t[tap(pos, kv), c0 + ci], or 0 outside t. */
CK_SIMD_CLONES static void gather(const ck_conv_geom *g, const side *sd, const float *t, float *col)
{
    const int64_t *it = sd->it, *ext = sd->ext;
    int64_t row = g->k[2] * sd->cg;
    for (int64_t o0 = 0; o0 < it[0]; o0++)
        for (int64_t o1 = 0; o1 < it[1]; o1++)
            for (int64_t o2 = 0; o2 < it[2]; o2++)
                for (int64_t k0 = 0; k0 < g->k[0]; k0++) {
                    int64_t i0 = tap(g, 0, o0, k0);
                    for (int64_t k1 = 0; k1 < g->k[1]; k1++, col += row) {
                        int64_t i1 = tap(g, 1, o1, k1);
                        if (i0 < 0 || i0 >= ext[0] || i1 < 0 || i1 >= ext[1]) {
                            memset(col, 0, (size_t)row * sizeof *col);
                            continue;
                        }
                        gather_row(g, sd, t + (i0 * ext[1] + i1) * ext[2] * sd->C, o2, col);
                    }
                }
}

/* The adjoint of gather: t[tap(pos, kv), c0 + ci] += col[pos][kv * cg + ci]. */
CK_SIMD_CLONES static void scatter_add(const ck_conv_geom *g, const side *sd, const float *col, float *t)
{
    const int64_t *it = sd->it, *ext = sd->ext;
    int64_t cg = sd->cg;
    for (int64_t o0 = 0; o0 < it[0]; o0++)
        for (int64_t o1 = 0; o1 < it[1]; o1++)
            for (int64_t o2 = 0; o2 < it[2]; o2++)
                for (int64_t k0 = 0; k0 < g->k[0]; k0++) {
                    int64_t i0 = tap(g, 0, o0, k0);
                    for (int64_t k1 = 0; k1 < g->k[1]; k1++) {
                        int64_t i1 = tap(g, 1, o1, k1);
                        bool row_in = i0 >= 0 && i0 < ext[0] && i1 >= 0 && i1 < ext[1];
                        for (int64_t k2 = 0; k2 < g->k[2]; k2++, col += cg) {
                            int64_t i2 = tap(g, 2, o2, k2);
                            if (!row_in || i2 < 0 || i2 >= ext[2]) continue;
                            float *dst = t + ((i0 * ext[1] + i1) * ext[2] + i2) * sd->C + sd->c0;
                            for (int64_t j = 0; j < cg; j++) dst[j] += col[j];
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

int64_t ck_conv_col_floats(const ck_conv_geom *g)
{
    return is_pointwise(g) ? 0 : prod3(g->out) * prod3(g->k) * (g->cin / g->groups);
}

int64_t ck_conv_t_col_floats(const ck_conv_geom *g) { return prod3(g->in) * prod3(g->k) * g->cout; }

static void sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const float *B,
                  int64_t ldb, float beta, float *C, int64_t ldc)
{
    ck_sgemm(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
}

/* im2col of samples [b0, b0 + n) for channel group gi, one block of rows each. */
static void gather_chunk(const ck_conv_geom *g, const float *x, int64_t b0, int64_t n, int64_t gi, float *col)
{
    int64_t cg = g->cin / g->groups, nin = prod3(g->in), rows = prod3(g->out) * prod3(g->k) * cg;
    side sd = {.it = g->out, .ext = g->in, .C = g->cin, .c0 = gi * cg, .cg = cg};
    for (int64_t b = 0; b < n; b++) gather(g, &sd, x + (b0 + b) * nin * g->cin, col + b * rows);
}

/* Rows [r0, r0 + n) of z before their GEMM: the bias, or nothing to keep (beta 0). */
static float start_rows(const ck_conv_epilogue *ep, float *z, int64_t r0, int64_t n, int64_t cout)
{
    if (!ep || !ep->bias || n < 1) return 0.0f;
    float *rows = z + r0 * cout;
    memcpy(rows, ep->bias, (size_t)cout * sizeof *z);
    for (int64_t done = 1; done < n; done *= 2) /* doubling: few long copies, not n short ones */
        memcpy(rows + done * cout, rows, (size_t)((n - done < done ? n - done : done) * cout) * sizeof *z);
    return 1.0f;
}

bool ck_conv_relu_in_product(const ck_conv_epilogue *ep, const float *z)
{
    return ep && ep->act == CK_ACT_RELU && ep->out == z && !ep->half;
}

int ck_conv_finish_rows(const ck_conv_epilogue *ep, float *z, int64_t r0, int64_t n, int64_t cout, int64_t npos,
                        bool act_done)
{
    if (!ep) return 0;
    if (ep->half)
        ck_bias_act_half(ep->half, z + r0 * cout, ep->half_bias, ep->out + r0 * cout, n, cout, ep->act);
    else if (!act_done && (ep->act != CK_ACT_LINEAR || ep->out != z))
        ck_act_forward(ep->act, z + r0 * cout, ep->out + r0 * cout, n, cout);
    return ep->samples_done ? ep->samples_done(ep->ctx, r0 / npos, n / npos) : 0;
}

/* The forward's product of rows of im2col (or of the input) with the kernel;
 * the packed kernel starts from the bias itself (start_rows did not run). */
static void fwd_gemm(int64_t M, int64_t N, int64_t K, const float *A, const float *w, const float *w_packed,
                     int64_t ldw, float beta, const ck_conv_epilogue *ep, float *C, int64_t ldc)
{
    if (w_packed) ck_gemm_packed(ck_packed_nr(), M, N, K, A, K, w_packed, 0.0f, ep ? ep->bias : NULL, C, ldc);
    else sgemm(false, false, M, N, K, A, K, w, ldw, beta, C, ldc);
}

/* Below this many channels a tap's run of A is too short for the packed
 * kernel's depth loop; convolutions on fewer channels hand it whole kernel
 * rows as runs where they can (rows_are_runs), else build im2col rows. */
#define ROWS_MIN_CHANNELS 8

/* Whether every kernel row (the k[2] taps along the last axis) of every output
 * position lies inside the input, undilated: then its k[2] * cin floats are
 * one contiguous run of the input. */
static bool rows_are_runs(const ck_conv_geom *g)
{
    return g->d[2] == 1 && g->pad[2] == 0 && (g->out[2] - 1) * g->s[2] + g->k[2] <= g->in[2];
}

/* At most this many kernel rows (k[0] x k[1]) for tap_rows; larger kernels
 * build im2col rows instead. */
#define ROW_BASES 64

/* For the packed kernel without im2col: the address of every (output position,
 * tap) pixel of samples [b0, b0 + n) in `col`'s space, or with whole_rows of
 * every (output position, kernel row), the first tap's; a run of zeros after
 * them stands for taps (rows) in the padding. Returns NULL when col is too
 * small. */
static const float *const *tap_rows(const ck_conv_geom *g, const float *x, int64_t b0, int64_t n, bool whole_rows,
                                    float *col, int64_t col_floats)
{
    int64_t npos = prod3(g->out), nin = prod3(g->in), per_row = whole_rows ? 1 : g->k[2], krows = g->k[0] * g->k[1];
    int64_t count = n * npos * krows * per_row, run = whole_rows ? g->k[2] * g->cin : g->cin;
    int64_t ptr_floats = (count * (int64_t)sizeof(float *) + (int64_t)sizeof(float) - 1) / (int64_t)sizeof(float);
    if (ptr_floats + run > col_floats || krows > ROW_BASES) return NULL;
    const float **rows = (const float **)(void *)col, *zeros = col + ptr_floats;
    memset(col + ptr_floats, 0, (size_t)run * sizeof *col);
    const float *base[ROW_BASES]; /* per kernel row: the input row it reads, NULL outside */
    for (int64_t b = 0; b < n; b++) {
        const float *xb = x + (b0 + b) * nin * g->cin;
        for (int64_t o0 = 0; o0 < g->out[0]; o0++)
            for (int64_t o1 = 0; o1 < g->out[1]; o1++) {
                for (int64_t k0 = 0; k0 < g->k[0]; k0++)
                    for (int64_t k1 = 0; k1 < g->k[1]; k1++) {
                        int64_t i0 = tap(g, 0, o0, k0), i1 = tap(g, 1, o1, k1);
                        bool in = i0 >= 0 && i0 < g->in[0] && i1 >= 0 && i1 < g->in[1];
                        base[k0 * g->k[1] + k1] = in ? xb + (i0 * g->in[1] + i1) * g->in[2] * g->cin : NULL;
                    }
                for (int64_t o2 = 0; o2 < g->out[2]; o2++)
                    for (int64_t r = 0; r < krows; r++)
                        for (int64_t k2 = 0; k2 < per_row; k2++) {
                            int64_t i2 = tap(g, 2, o2, k2);
                            *rows++ = base[r] && i2 >= 0 && i2 < g->in[2] ? base[r] + i2 * g->cin : zeros;
                        }
            }
    }
    return (const float *const *)(void *)col;
}

int ck_conv_fwd(const ck_conv_geom *g, const float *x, const float *w, const float *w_packed, float *z, float *col,
                int64_t chunk, const ck_conv_epilogue *ep)
{
    int64_t npos = prod3(g->out), kvol = prod3(g->k);
    int64_t cg = g->cin / g->groups, fg = g->cout / g->groups;
    int st = 0;
    if (is_pointwise(g)) { /* 1x1 stride 1: the input already is the im2col matrix */
        /* row blocks of whole samples when someone waits for samples */
        int64_t rows = g->batch * npos, unit = ep && ep->samples_done ? npos : 1;
        int64_t step = CK_CONV_CHUNK_FLOATS / g->cout / unit * unit;
        step = step < unit ? unit : step;
        for (int64_t r0 = 0; !st && r0 < rows; r0 += step) {
            int64_t n = rows - r0 < step ? rows - r0 : step;
            float beta = w_packed ? 0.0f : start_rows(ep, z, r0, n, g->cout);
            fwd_gemm(n, g->cout, g->cin, x + r0 * g->cin, w, w_packed, g->cout, beta, ep, z + r0 * g->cout, g->cout);
            st = ck_conv_finish_rows(ep, z, r0, n, g->cout, npos, false);
        }
        return st;
    }
    for (int64_t b0 = 0; !st && b0 < g->batch; b0 += chunk) {
        int64_t n = g->batch - b0 < chunk ? g->batch - b0 : chunk;
        const float *packed = g->groups == 1 ? w_packed : NULL;
        float beta = packed ? 0.0f : start_rows(ep, z, b0 * npos, n * npos, g->cout);
        bool whole_rows = g->cin < ROWS_MIN_CHANNELS;
        const float *const *rows = packed && (!whole_rows || rows_are_runs(g))
                                       ? tap_rows(g, x, b0, n, whole_rows, col, chunk * kvol * cg * npos) : NULL;
        if (rows) {
            int64_t run = whole_rows ? g->k[2] * g->cin : g->cin;
            bool relu = ck_conv_relu_in_product(ep, z);
            ck_gemm_packed_rows(ck_packed_nr(), n * npos, g->cout, kvol * g->cin / run, run, rows, packed, 0.0f,
                                ep ? ep->bias : NULL, relu, z + b0 * npos * g->cout, g->cout);
            st = ck_conv_finish_rows(ep, z, b0 * npos, n * npos, g->cout, npos, relu);
            continue;
        }
        for (int64_t gi = 0; gi < g->groups; gi++) {
            gather_chunk(g, x, b0, n, gi, col);
            fwd_gemm(n * npos, fg, kvol * cg, col, w + gi * fg, packed, g->cout, beta, ep,
                     z + b0 * npos * g->cout + gi * fg, g->cout);
        }
        st = ck_conv_finish_rows(ep, z, b0 * npos, n * npos, g->cout, npos, false);
    }
    return st;
}

/* Weight gradients of at most this many rows (taps x channels per group) take
 * im2col transposed: col^T @ dy with a short col^T row per (tap, channel) made
 * of long contiguous runs, where the plain im2col row of a one-channel 3x3
 * convolution is three 3-float copies per position. */
#define THIN_K 32

/* im2col transposed, one sample: colT[kv * cg + ci][pos] (row stride ld) =
 * x[tap(pos, kv), c0 + ci], 0 outside x. */
CK_SIMD_CLONES static void gather_t(const ck_conv_geom *g, const side *sd, const float *x, float *colT, int64_t ld)
{
    const int64_t *ext = sd->ext;
    int64_t kv = 0;
    for (int64_t k0 = 0; k0 < g->k[0]; k0++)
        for (int64_t k1 = 0; k1 < g->k[1]; k1++)
            for (int64_t k2 = 0; k2 < g->k[2]; k2++, kv++) {
                /* the output positions along the last axis whose tap is inside: [lo, hi) */
                int64_t lo = 0, hi = g->out[2];
                while (lo < hi && tap(g, 2, lo, k2) < 0) lo++;
                while (hi > lo && tap(g, 2, hi - 1, k2) >= ext[2]) hi--;
                for (int64_t ci = 0; ci < sd->cg; ci++) {
                    float *dst = colT + (kv * sd->cg + ci) * ld;
                    for (int64_t o0 = 0; o0 < g->out[0]; o0++)
                        for (int64_t o1 = 0; o1 < g->out[1]; o1++, dst += g->out[2]) {
                            int64_t i0 = tap(g, 0, o0, k0), i1 = tap(g, 1, o1, k1);
                            if (i0 < 0 || i0 >= ext[0] || i1 < 0 || i1 >= ext[1]) {
                                memset(dst, 0, (size_t)g->out[2] * sizeof *dst);
                                continue;
                            }
                            int64_t step = g->s[2] * sd->C, first = lo < hi ? tap(g, 2, lo, k2) : 0;
                            const float *src = x + ((i0 * ext[1] + i1) * ext[2] + first) * sd->C + sd->c0 + ci;
                            for (int64_t o2 = 0; o2 < lo; o2++) dst[o2] = 0.0f;
                            for (int64_t o2 = lo; o2 < hi; o2++) dst[o2] = src[(o2 - lo) * step];
                            for (int64_t o2 = hi; o2 < g->out[2]; o2++) dst[o2] = 0.0f;
                        }
                }
            }
}

int ck_conv_need(const ck_conv_prologue *pro, int64_t b0, int64_t n)
{
    return pro && pro->samples_needed && n > 0 ? pro->samples_needed(pro->ctx, b0, n) : 0;
}

int ck_conv_bwd(const ck_conv_geom *g, const float *x, const float *w, const float *dy, float *dx, float *dw,
                float *col, int64_t chunk, const ck_conv_prologue *pro)
{
    int64_t npos = prod3(g->out), nin = prod3(g->in), kvol = prod3(g->k);
    int64_t cg = g->cin / g->groups, fg = g->cout / g->groups, K = kvol * cg;
    int st = 0;
    if (is_pointwise(g)) {
        if ((st = ck_conv_need(pro, 0, g->batch))) return st;
        sgemm(true, false, g->cin, g->cout, g->batch * npos, x, g->cin, dy, g->cout, 1.0f, dw, g->cout);
        if (dx) sgemm(false, true, g->batch * npos, g->cin, g->cout, dy, g->cout, w, g->cout, 1.0f, dx, g->cin);
        return 0;
    }
    for (int64_t b0 = 0; b0 < g->batch; b0 += chunk) {
        int64_t n = g->batch - b0 < chunk ? g->batch - b0 : chunk;
        if ((st = ck_conv_need(pro, b0, n))) return st;
        const float *dyc = dy + b0 * npos * g->cout;
        for (int64_t gi = 0; gi < g->groups; gi++) {
            if (K <= THIN_K) {
                side sd = {.it = g->out, .ext = g->in, .C = g->cin, .c0 = gi * cg, .cg = cg};
                for (int64_t b = 0; b < n; b++)
                    gather_t(g, &sd, x + (b0 + b) * nin * g->cin, col + b * npos, n * npos);
                sgemm(false, false, K, fg, n * npos, col, n * npos, dyc + gi * fg, g->cout, 1.0f, dw + gi * fg,
                      g->cout);
            } else {
                gather_chunk(g, x, b0, n, gi, col);
                sgemm(true, false, K, fg, n * npos, col, K, dyc + gi * fg, g->cout, 1.0f, dw + gi * fg, g->cout);
            }
            if (!dx) continue;
            /* dcol = dy_g @ W_g^T, then scattered back onto the input positions */
            sgemm(false, true, n * npos, K, fg, dyc + gi * fg, g->cout, w + gi * fg, g->cout, 0.0f, col, K);
            side sd = {.it = g->out, .ext = g->in, .C = g->cin, .c0 = gi * cg, .cg = cg};
            for (int64_t b = 0; b < n; b++) scatter_add(g, &sd, col + b * npos * K, dx + (b0 + b) * nin * g->cin);
        }
    }
    return 0;
}

void ck_conv_t_fwd(const ck_conv_geom *g, const float *x, const float *w, float *y, float *col, int64_t chunk)
{
    int64_t nin = prod3(g->in), nout = prod3(g->out), K = prod3(g->k) * g->cout;
    side sd = {.it = g->in, .ext = g->out, .C = g->cout, .c0 = 0, .cg = g->cout};
    memset(y, 0, (size_t)(g->batch * nout * g->cout) * sizeof *y);
    for (int64_t b0 = 0; b0 < g->batch; b0 += chunk) {
        int64_t n = g->batch - b0 < chunk ? g->batch - b0 : chunk;
        /* col[pos][kv*cout + f] = sum_ci x[pos][ci] * w[kv][f][ci]: x @ W^T with W as [kv*cout, cin] */
        sgemm(false, true, n * nin, K, g->cin, x + b0 * nin * g->cin, g->cin, w, g->cin, 0.0f, col, K);
        for (int64_t b = 0; b < n; b++) scatter_add(g, &sd, col + b * nin * K, y + (b0 + b) * nout * g->cout);
    }
}

void ck_conv_t_bwd(const ck_conv_geom *g, const float *x, const float *w, const float *dy, float *dx, float *dw,
                   float *col, int64_t chunk)
{
    int64_t nin = prod3(g->in), nout = prod3(g->out), K = prod3(g->k) * g->cout;
    side sd = {.it = g->in, .ext = g->out, .C = g->cout, .c0 = 0, .cg = g->cout};
    for (int64_t b0 = 0; b0 < g->batch; b0 += chunk) {
        int64_t n = g->batch - b0 < chunk ? g->batch - b0 : chunk;
        for (int64_t b = 0; b < n; b++) gather(g, &sd, dy + (b0 + b) * nout * g->cout, col + b * nin * K);
        const float *xc = x + b0 * nin * g->cin;
        sgemm(true, false, K, g->cin, n * nin, col, K, xc, g->cin, 1.0f, dw, g->cin);
        if (dx) sgemm(false, false, n * nin, g->cin, K, col, K, w, g->cin, 1.0f, dx + b0 * nin * g->cin, g->cin);
    }
}

/* Runs the body for every valid tap of every output position of one sample, with
 * pos_ (output position), kv_ (kernel tap) and ip_ (input position) in scope:
 * the loop nest the depthwise passes share. */
#define DW_LOOP(g, ...)                                                                              \
    do {                                                                                              \
        int64_t pos_ = 0;                                                                             \
        for (int64_t o0 = 0; o0 < (g)->out[0]; o0++)                                                  \
            for (int64_t o1 = 0; o1 < (g)->out[1]; o1++)                                              \
                for (int64_t o2 = 0; o2 < (g)->out[2]; o2++, pos_++) {                                \
                    int64_t kv_ = 0;                                                                  \
                    for (int64_t k0 = 0; k0 < (g)->k[0]; k0++) {                                      \
                        int64_t i0 = tap(g, 0, o0, k0);                                               \
                        for (int64_t k1 = 0; k1 < (g)->k[1]; k1++) {                                  \
                            int64_t i1 = tap(g, 1, o1, k1);                                           \
                            for (int64_t k2 = 0; k2 < (g)->k[2]; k2++, kv_++) {                       \
                                int64_t i2 = tap(g, 2, o2, k2);                                       \
                                if (i0 < 0 || i0 >= (g)->in[0] || i1 < 0 || i1 >= (g)->in[1] ||       \
                                    i2 < 0 || i2 >= (g)->in[2])                                       \
                                    continue;                                                         \
                                int64_t ip_ = (i0 * (g)->in[1] + i1) * (g)->in[2] + i2;               \
                                __VA_ARGS__                                                           \
                            }                                                                         \
                        }                                                                             \
                    }                                                                                 \
                }                                                                                     \
    } while (0)

/* Multiply-adds below which a depthwise pass keeps to one thread. */
#define DW_PAR_MIN ((int64_t)1 << 18)

static int64_t dw_work(const ck_conv_geom *g)
{
    return g->batch * prod3(g->out) * prod3(g->k) * g->cin * g->mult;
}

typedef struct dw_job {
    const ck_conv_geom *g;
    const float *x, *w, *dy;
    float *y, *dx, *dw;
} dw_job;

static void dw_fwd_samples(void *ctx, int64_t b0, int64_t b1)
{
    const dw_job *j = ctx;
    const ck_conv_geom *g = j->g;
    int64_t nin = prod3(g->in), nout = prod3(g->out), m = g->mult, cm = g->cin * m;
    for (int64_t b = b0; b < b1; b++) {
        const float *xb = j->x + b * nin * g->cin;
        float *yb = j->y + b * nout * cm;
        DW_LOOP(g, {
            const float *src = xb + ip_ * g->cin, *wk = j->w + kv_ * cm;
            float *dst = yb + pos_ * cm;
            for (int64_t c = 0; c < g->cin; c++)
                for (int64_t k = 0; k < m; k++) dst[c * m + k] += src[c] * wk[c * m + k];
        });
    }
}

void ck_depthwise_fwd(const ck_conv_geom *g, const float *x, const float *w, float *y)
{
    memset(y, 0, (size_t)(g->batch * prod3(g->out) * g->cin * g->mult) * sizeof *y);
    dw_job job = {.g = g, .x = x, .w = w, .y = y};
    ck_parallel_for(ck_team_size(dw_work(g), DW_PAR_MIN), g->batch, dw_fwd_samples, &job);
}

/* Sample b's share of dx, and its kernel gradient added to dw. */
static void dw_bwd_sample(const ck_conv_geom *g, const float *x, const float *w, const float *dy, float *dx,
                          float *dw, int64_t b)
{
    int64_t nin = prod3(g->in), nout = prod3(g->out), m = g->mult, cm = g->cin * m;
    const float *xb = x + b * nin * g->cin, *dyb = dy + b * nout * cm;
    float *dxb = dx ? dx + b * nin * g->cin : NULL;
    DW_LOOP(g, {
        const float *src = xb + ip_ * g->cin, *wk = w + kv_ * cm, *d = dyb + pos_ * cm;
        float *dwk = dw + kv_ * cm;
        for (int64_t c = 0; c < g->cin; c++)
            for (int64_t j = 0; j < m; j++) {
                dwk[c * m + j] += src[c] * d[c * m + j];
                if (dxb) dxb[ip_ * g->cin + c] += wk[c * m + j] * d[c * m + j];
            }
    });
}

void ck_depthwise_bwd(const ck_conv_geom *g, const float *x, const float *w, const float *dy, float *dx, float *dw)
{
    int64_t nw = prod3(g->k) * g->cin * g->mult;
    int threads = ck_team_size(dw_work(g), DW_PAR_MIN);
    if (threads < 2) {
        for (int64_t b = 0; b < g->batch; b++) dw_bwd_sample(g, x, w, dy, dx, dw, b);
        return;
    }
    /* Each thread sums its samples' kernel gradients; OpenMP adds them up. */
#pragma omp parallel for num_threads(threads) schedule(static) reduction(+ : dw[:nw])
    for (int64_t b = 0; b < g->batch; b++) dw_bwd_sample(g, x, w, dy, dx, dw, b);
}
