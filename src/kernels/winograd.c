/* Winograd convolution (see winograd.h) in two sizes. F(2x2, 3x3), for the
 * points 0, 1, -1:
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]   (input tile, 4 -> 4)
 *   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1] (kernel, 3 -> 4)
 *   A^T = [1 1 1 0; 0 1 -1 -1]                      (products, 4 -> 2)
 * and F(4x4, 3x3), for 0, 1, -1, 2, -2 (Lavin & Gray's matrices): 6x6 input
 * tiles, 36 points, 2.25 multiplications per output where F(2x2) needs 4 and
 * direct convolution 9, at the price of larger constants (still, the full
 * Keras Applications' logits stay within 1.5e-6 of Keras's). Both come with
 * their adjoints for the backward pass. Every transform works on a run of
 * tiles and channels, channels innermost, so it vectorizes across them. Transformed
 * values are laid out [points][tiles][channels]: one plain row-major matrix per
 * transform point, which is what the products want. */
#include "kernels/winograd.h"
#include "kernels/gemm_packed.h"
#include "kernels/tensor_ops.h"

#include <omp.h>
#include <string.h>

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

/* F(4x4) once both output extents reach this: below it, its 4x4 blocks waste
 * more of the tile than they save (a 5x5 output in 8x8 of blocks). */
#define F4_FROM 8

/* Outputs per tile side (2 or 4) of g's variant; its input tiles are m + 2 on a
 * side and it has (m + 2)^2 transform points. */
static int out_side(const ck_conv_geom *g) { return g->out[1] >= F4_FROM && g->out[2] >= F4_FROM ? 4 : 2; }
static int points_of(const ck_conv_geom *g) { return (out_side(g) + 2) * (out_side(g) + 2); }

bool ck_winograd_fits(const ck_conv_geom *g, int nr)
{
    return (nr == 32 || nr == 16) && g->in[0] == 1 && g->k[0] == 1 && g->k[1] == 3 && g->k[2] == 3 &&
           g->s[1] == 1 && g->s[2] == 1 && g->d[1] == 1 && g->d[2] == 1 && g->groups == 1 && g->cin >= 16 &&
           g->cout >= 16 && g->out[1] >= 4 && g->out[2] >= 4;
}

/* Tiles per block: their transformed inputs and products in CK_CONV_CHUNK_FLOATS
 * (this CPU's L2; half or twice that measured no faster), but never so few
 * that the products' rows are too few to stream the packed kernel for. */
static int64_t block_tiles(const ck_conv_geom *g)
{
    return max64(CK_CONV_CHUNK_FLOATS / (points_of(g) * (g->cin + g->cout)), 48);
}

/* Floats before a 64-byte boundary: V and M start on one, so threads sharing a
 * tile's channels in whole vectors never share a cache line. */
#define ALIGN_SLACK 16

/* The block's transformed input, its products, and an input and an output
 * tile for the edges. */
static int64_t block_floats(const ck_conv_geom *g)
{
    return points_of(g) * (block_tiles(g) * (g->cin + g->cout) + g->cin) + 16 * g->cout + ALIGN_SLACK;
}

int64_t ck_winograd_fwd_floats(const ck_conv_geom *g) { return max64(block_floats(g), g->cin * g->cout); }
int64_t ck_winograd_bwd_floats(const ck_conv_geom *g)
{
    return ck_winograd_fwd_floats(g) + points_of(g) * g->cin * g->cout;
}

int64_t ck_winograd_packed_floats(const ck_conv_geom *g, bool transposed, int nr)
{
    return points_of(g) * (transposed ? ck_packed_floats(g->cout, g->cin, nr) : ck_packed_floats(g->cin, g->cout, nr));
}

/* G, the kernel transform: 4 x 3 for F(2x2) (in a 6-row table, the same type
 * as F(4x4)'s 6 x 3). */
static const float G2[6][3] = {{1.0f, 0.0f, 0.0f}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0.0f, 0.0f, 1.0f}};
static const float G4[6][3] = {{0.25f, 0.0f, 0.0f},
                               {-1.0f / 6, -1.0f / 6, -1.0f / 6},
                               {-1.0f / 6, 1.0f / 6, -1.0f / 6},
                               {1.0f / 24, 1.0f / 12, 1.0f / 6},
                               {1.0f / 24, -1.0f / 12, 1.0f / 6},
                               {0.0f, 0.0f, 1.0f}};

static const float (*g_of(const ck_conv_geom *g))[3] { return out_side(g) == 2 ? G2 : G4; }

/* U at point (a, b) = G[a] g G[b]^T for one input channel c and every output
 * channel: [cout] values into u (stride 1), or (transposed) into column c of
 * a [cout, cin] matrix. */
static void kernel_point(const ck_conv_geom *g, const float *w, int a, int b, int64_t c, float *u, bool transposed)
{
    int64_t tap = g->cin * g->cout; /* floats between kernel taps */
    const float(*G)[3] = g_of(g);
    const float *wc = w + c * g->cout;
    float a0 = G[a][0], a1 = G[a][1], a2 = G[a][2], b0 = G[b][0], b1 = G[b][1], b2 = G[b][2];
    int64_t step = transposed ? g->cin : 1;
    for (int64_t f = 0; f < g->cout; f++) {
        float col[3];
        for (int v = 0; v < 3; v++)
            col[v] = a0 * wc[v * tap + f] + a1 * wc[(3 + v) * tap + f] + a2 * wc[(6 + v) * tap + f];
        u[f * step] = b0 * col[0] + b1 * col[1] + b2 * col[2];
    }
}

void ck_winograd_pack(const ck_conv_geom *g, const float *w, const float *col_scale, bool transposed, int nr,
                      float *scratch, float *Up)
{
    int64_t K = transposed ? g->cout : g->cin, N = transposed ? g->cin : g->cout, per = ck_packed_floats(K, N, nr);
    int side = out_side(g) + 2;
    for (int p = 0; p < points_of(g); p++) {
        for (int64_t c = 0; c < g->cin; c++)
            kernel_point(g, w, p / side, p % side, c, transposed ? scratch + c : scratch + c * g->cout, transposed);
        ck_pack_b(scratch, N, K, N, transposed ? NULL : col_scale, nr, Up + p * per);
    }
}

/* A block of tiles and where its transformed values live. Tile t (numbered
 * over the whole batch, row-major within a sample) covers outputs
 * [m i, m i + m) x [m j, m j + m) of sample t / per_sample. */
typedef struct wino {
    const ck_conv_geom *g;
    int m, points;              /* outputs per tile side (2 or 4), (m + 2)^2 */
    int64_t across, per_sample; /* tiles per row of a sample, per sample    */
    int64_t cap;                /* tiles per block                          */
    float *V;                   /* [points][cap][cin]: transformed input tiles */
    float *M;                   /* [points][cap][cout]: the products           */
    float *edge_in, *edge_out;  /* [points][cin], [m * m][cout]: a tile that crosses its tensor's edge */
} wino;

static wino wino_of(const ck_conv_geom *g, float *scratch)
{
    float *V = (float *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    wino w = {.g = g, .m = out_side(g), .points = points_of(g), .cap = block_tiles(g), .V = V};
    w.across = (g->out[2] + w.m - 1) / w.m;
    w.per_sample = (g->out[1] + w.m - 1) / w.m * w.across;
    w.M = w.V + w.points * w.cap * g->cin;
    w.edge_in = w.M + w.points * w.cap * g->cout;
    w.edge_out = w.edge_in + w.points * g->cin;
    return w;
}

/* Channels [c0, c0 + n): one thread's share of a tensor's channels, whole
 * vectors each, so that threads transform the same tiles side by side without
 * touching each other's values (the input gradient's tiles overlap). */
typedef struct slice {
    int64_t c0, n;
} slice;

static slice share_of(int64_t C)
{
    int64_t threads = omp_get_num_threads(), per = (C + threads - 1) / threads;
    per = (per + 15) / 16 * 16;
    int64_t c0 = omp_get_thread_num() * per;
    c0 = c0 < C ? c0 : C;
    return (slice){c0, (C - c0 < per ? C - c0 : per)};
}

/* An n x n window of pixels of C channels in a [b, h, w, C] tensor, starting
 * at (y0, x0), maybe partly outside it. */
typedef struct window {
    int64_t b, y0, x0, h, w, C;
    int n;
} window;

static window input_window(const wino *w, int64_t t)
{
    const ck_conv_geom *g = w->g;
    int64_t r = t % w->per_sample;
    return (window){t / w->per_sample, w->m * (r / w->across) - g->pad[1], w->m * (r % w->across) - g->pad[2],
                    g->in[1], g->in[2], g->cin, w->m + 2};
}

static window output_window(const wino *w, int64_t t)
{
    const ck_conv_geom *g = w->g;
    int64_t r = t % w->per_sample;
    return (window){t / w->per_sample, w->m * (r / w->across), w->m * (r % w->across), g->out[1], g->out[2], g->cout,
                    w->m};
}

static bool inside(const window *v) { return v->y0 >= 0 && v->x0 >= 0 && v->y0 + v->n <= v->h && v->x0 + v->n <= v->w; }
static int64_t offset(const window *v, int64_t y, int64_t x) { return ((v->b * v->h + y) * v->w + x) * v->C; }

/* The window's columns [lo, hi) that lie inside the tensor (lo >= hi: none). */
static void span_in(const window *v, int64_t *lo, int64_t *hi)
{
    *lo = v->x0 < 0 ? -v->x0 : 0;
    *hi = v->x0 + v->n > v->w ? v->w - v->x0 : v->n;
}

/* Where the window's pixels are (channel 0 of the first; rows *row floats
 * apart, pixels C apart): in place, or, for the channels of slice s, copied
 * into `edge` with zeros outside the tensor. */
static const float *window_read(const window *v, const float *t, float *edge, slice s, int64_t *row)
{
    if (inside(v)) {
        *row = v->w * v->C;
        return t + offset(v, v->y0, v->x0);
    }
    *row = v->n * v->C;
    int64_t lo, hi;
    span_in(v, &lo, &hi);
    for (int i = 0; i < v->n; i++) {
        int64_t y = v->y0 + i;
        float *dst = edge + i * v->n * v->C;
        bool row_in = y >= 0 && y < v->h && lo < hi;
        if (s.n == v->C) { /* all channels: the row's inside pixels are one run */
            memset(dst, 0, (size_t)(v->n * v->C) * sizeof *dst);
            if (row_in) memcpy(dst + lo * v->C, t + offset(v, y, v->x0 + lo), (size_t)((hi - lo) * v->C) * sizeof *dst);
            continue;
        }
        for (int j = 0; j < v->n; j++) {
            float *px = dst + j * v->C + s.c0;
            if (row_in && j >= lo && j < hi) memcpy(px, t + offset(v, y, v->x0 + j) + s.c0, (size_t)s.n * sizeof *px);
            else memset(px, 0, (size_t)s.n * sizeof *px);
        }
    }
    return edge;
}

/* Where to write (or add to) the window's pixels: in place, or in `edge`, its
 * slice zeroed, for window_written to move inside the tensor. */
static float *window_write(const window *v, float *t, float *edge, slice s, int64_t *row)
{
    if (inside(v)) {
        *row = v->w * v->C;
        return t + offset(v, v->y0, v->x0);
    }
    *row = v->n * v->C;
    for (int p = 0; p < v->n * v->n; p++) memset(edge + p * v->C + s.c0, 0, (size_t)s.n * sizeof *edge);
    return edge;
}

/* After window_write: the slice's pixels written into `edge` that are inside
 * the tensor copied (add: added) there. */
static void window_written(const window *v, float *t, const float *edge, slice s, bool add)
{
    if (inside(v)) return;
    int64_t lo, hi;
    span_in(v, &lo, &hi);
    for (int i = 0; i < v->n; i++) {
        int64_t y = v->y0 + i;
        if (y < 0 || y >= v->h || lo >= hi) continue;
        const float *src = edge + (i * v->n + lo) * v->C;
        float *dst = t + offset(v, y, v->x0 + lo);
        if (s.n == v->C) { /* all channels: one run per row */
            if (add) ck_vec_add(dst, src, (hi - lo) * v->C);
            else memcpy(dst, src, (size_t)((hi - lo) * v->C) * sizeof *dst);
            continue;
        }
        for (int64_t j = 0; j < hi - lo; j++) {
            if (add) ck_vec_add(dst + j * v->C + s.c0, src + j * v->C + s.c0, s.n);
            else memcpy(dst + j * v->C + s.c0, src + j * v->C + s.c0, (size_t)s.n * sizeof *dst);
        }
    }
}

/* The transforms one dimension at a time: B^T (input), its adjoint B, A^T
 * (products to outputs) and its adjoint A, for F(2x2) (4 <-> 4, 4 <-> 2) and
 * F(4x4) (6 <-> 6, 6 <-> 4). */
static inline void bt4(const float d[4], float v[4])
{
    v[0] = d[0] - d[2], v[1] = d[1] + d[2], v[2] = d[2] - d[1], v[3] = d[1] - d[3];
}

static inline void b4(const float v[4], float d[4])
{
    d[0] = v[0], d[1] = v[1] - v[2] + v[3], d[2] = v[1] + v[2] - v[0], d[3] = -v[3];
}

static inline void at2(const float m[4], float y[2]) { y[0] = m[0] + m[1] + m[2], y[1] = m[1] - m[2] - m[3]; }

static inline void a2(const float y[2], float m[4])
{
    m[0] = y[0], m[1] = y[0] + y[1], m[2] = y[0] - y[1], m[3] = -y[1];
}

static inline void bt6(const float d[6], float v[6])
{
    v[0] = 4.0f * d[0] - 5.0f * d[2] + d[4];
    v[1] = d[3] + d[4] - 4.0f * (d[1] + d[2]);
    v[2] = d[4] - d[3] + 4.0f * (d[1] - d[2]);
    v[3] = d[4] - d[2] + 2.0f * (d[3] - d[1]);
    v[4] = d[4] - d[2] + 2.0f * (d[1] - d[3]);
    v[5] = 4.0f * d[1] - 5.0f * d[3] + d[5];
}

static inline void b6(const float v[6], float d[6])
{
    d[0] = 4.0f * v[0];
    d[1] = 4.0f * (v[2] - v[1] + v[5]) + 2.0f * (v[4] - v[3]);
    d[2] = -5.0f * v[0] - 4.0f * (v[1] + v[2]) - v[3] - v[4];
    d[3] = v[1] - v[2] + 2.0f * (v[3] - v[4]) - 5.0f * v[5];
    d[4] = v[0] + v[1] + v[2] + v[3] + v[4];
    d[5] = v[5];
}

static inline void at4(const float m[6], float y[4])
{
    y[0] = m[0] + m[1] + m[2] + m[3] + m[4];
    y[1] = m[1] - m[2] + 2.0f * (m[3] - m[4]);
    y[2] = m[1] + m[2] + 4.0f * (m[3] + m[4]);
    y[3] = m[1] - m[2] + 8.0f * (m[3] - m[4]) + m[5];
}

static inline void a4(const float y[4], float m[6])
{
    m[0] = y[0];
    m[1] = y[0] + y[1] + y[2] + y[3];
    m[2] = y[0] - y[1] + y[2] - y[3];
    m[3] = y[0] + 2.0f * y[1] + 4.0f * y[2] + 8.0f * y[3];
    m[4] = y[0] - 2.0f * y[1] + 4.0f * y[2] - 8.0f * y[3];
    m[5] = y[3];
}

/* One channel of one tile transformed in 2-D by the 1-D transform f1d (IN
 * values -> OUT): along each row of the IN x IN values LOAD(i, j) gives (i
 * down, j across), then down each column; STORE then runs for each of the
 * OUT x OUT results, o_[i] at (i, j). The loops are unrolled first so that
 * the loop over channels around this vectorizes. */
#define SEPARABLE(IN, OUT, f1d, LOAD, STORE)                                                                   \
    do {                                                                                                       \
        float rows_[IN][OUT];                                                                                  \
        CK_UNROLL                                                                                              \
        for (int i = 0; i < IN; i++) {                                                                         \
            float r_[IN];                                                                                      \
            CK_UNROLL                                                                                          \
            for (int j = 0; j < IN; j++) r_[j] = (LOAD);                                                       \
            f1d(r_, rows_[i]);                                                                                 \
        }                                                                                                      \
        CK_UNROLL                                                                                              \
        for (int j = 0; j < OUT; j++) {                                                                        \
            float col_[IN], o_[OUT];                                                                           \
            CK_UNROLL                                                                                          \
            for (int i = 0; i < IN; i++) col_[i] = rows_[i][j];                                                \
            f1d(col_, o_);                                                                                     \
            CK_UNROLL                                                                                          \
            for (int i = 0; i < OUT; i++) STORE;                                                               \
        }                                                                                                      \
    } while (0)

/* The four passes, each over `count` tiles side by side in one row of tiles
 * (m pixels apart in the tensor, one row apart in V or M), n channels each:
 * one call per run of tiles, not per tile, because a call's set-up (a load's
 * or store's address per point) costs more than one tile's few vectors. For
 * tile side S = m + 2 and m outputs a side:
 * v[p][c] (p's rows `stride` apart) = (B^T d B)[p] for S x S tiles d whose
 * rows start `row` floats apart, pixels C apart; v's tiles `vt` apart. */
#define INPUT_PASS(name, S, f1d)                                                                                \
    CK_SIMD_CLONES static void name(const float *restrict d, int64_t row, int64_t C, int64_t n, int64_t count,  \
                                    float *restrict v, int64_t stride, int64_t vt)                              \
    {                                                                                                           \
        for (int64_t k = 0; k < count; k++, d += (S - 2) * C, v += vt) {                                        \
            CK_IVDEP                                                                                            \
            for (int64_t c = 0; c < n; c++)                                                                     \
                SEPARABLE(S, S, f1d, d[i * row + j * C + c], v[(i * S + j) * stride + c] = o_[i]);             \
        }                                                                                                       \
    }
/* The adjoint: the tiles' pixels dd += B dV B^T (same layouts). Neighbouring
 * tiles share pixels, so the tiles go one after the other. */
#define INPUT_ADJOINT_PASS(name, S, f1d)                                                                        \
    CK_SIMD_CLONES static void name(const float *restrict v, int64_t stride, int64_t vt, int64_t C, int64_t n,  \
                                    int64_t count, float *restrict dd, int64_t row)                             \
    {                                                                                                           \
        for (int64_t k = 0; k < count; k++, dd += (S - 2) * C, v += vt) {                                       \
            CK_IVDEP                                                                                            \
            for (int64_t c = 0; c < n; c++)                                                                     \
                SEPARABLE(S, S, f1d, v[(i * S + j) * stride + c], dd[i * row + j * C + c] += o_[i]);           \
        }                                                                                                       \
    }
/* The tiles' m x m outputs y = A^T p A + bias from their products p[q][f]
 * (tiles `mt` apart), then relu'd if asked (NaN -> 0, as ck_act_forward); y's
 * rows `row` floats apart, pixels F apart. */
#define OUTPUT_PASS(name, S, f1d)                                                                               \
    CK_SIMD_CLONES static void name(const float *restrict p, int64_t stride, int64_t mt, int64_t F, int64_t n,  \
                                    int64_t count, const float *restrict bias, bool relu, float *restrict y,    \
                                    int64_t row)                                                                \
    {                                                                                                           \
        for (int64_t k = 0; k < count; k++, p += mt, y += (S - 2) * F) {                                        \
            CK_IVDEP                                                                                            \
            for (int64_t f = 0; f < n; f++) {                                                                   \
                float b = bias ? bias[f] : 0.0f;                                                                \
                SEPARABLE(S, S - 2, f1d, p[(i * S + j) * stride + f], {                                         \
                    float out = o_[i] + b;                                                                      \
                    y[i * row + j * F + f] = relu && !(out > 0.0f) ? 0.0f : out;                                \
                });                                                                                             \
            }                                                                                                   \
        }                                                                                                       \
    }
/* The adjoint: dp[q][f] = (A dy A^T)[q] from the tiles' output gradients. */
#define OUTPUT_ADJOINT_PASS(name, S, f1d)                                                                       \
    CK_SIMD_CLONES static void name(const float *restrict dy, int64_t row, int64_t F, int64_t n, int64_t count, \
                                    float *restrict dp, int64_t stride, int64_t mt)                             \
    {                                                                                                           \
        for (int64_t k = 0; k < count; k++, dy += (S - 2) * F, dp += mt) {                                      \
            CK_IVDEP                                                                                            \
            for (int64_t f = 0; f < n; f++)                                                                     \
                SEPARABLE(S - 2, S, f1d, dy[i * row + j * F + f], dp[(i * S + j) * stride + f] = o_[i]);       \
        }                                                                                                       \
    }

INPUT_PASS(input_f2, 4, bt4)
INPUT_ADJOINT_PASS(input_adjoint_f2, 4, b4)
OUTPUT_PASS(output_f2, 4, at2)
OUTPUT_ADJOINT_PASS(output_adjoint_f2, 4, a2)
INPUT_PASS(input_f4, 6, bt6)
INPUT_ADJOINT_PASS(input_adjoint_f4, 6, b6)
OUTPUT_PASS(output_f4, 6, at4)
OUTPUT_ADJOINT_PASS(output_adjoint_f4, 6, a4)

/* How many tiles from t on (at most `left`) lie in t's row of tiles and, like
 * t, wholly inside their tensor: one transform call's run; 1 for a tile that
 * crosses the edge (it goes through the edge buffer alone). */
static int64_t run_from(const wino *w, int64_t t, int64_t left, window (*of)(const wino *, int64_t))
{
    window v = of(w, t);
    if (!inside(&v)) return 1;
    int64_t k = 1;
    for (; k < left && (t + k) / w->across == t / w->across; k++) {
        window u = of(w, t + k);
        if (!inside(&u)) break;
    }
    return k;
}

/* The four passes over a block's tiles. */
typedef enum pass {
    INPUTS,       /* x transformed into V                          */
    OUTPUTS,      /* z from the products in M, bias and maybe relu */
    OUTPUT_GRADS, /* dy transformed into M                         */
    INPUT_GRADS   /* dx += the input gradient from V               */
} pass;

/* Pass p over tiles [t0, t0 + n) for one thread's slice of the channels,
 * reading tensor `in` or writing tensor `out`. */
static void transform_pass(const wino *w, pass p, const float *in, float *out, int64_t t0, int64_t n,
                           const float *bias, bool relu, slice s)
{
    bool on_input = p == INPUTS || p == INPUT_GRADS;
    window (*of)(const wino *, int64_t) = on_input ? input_window : output_window;
    float *edge = on_input ? w->edge_in : w->edge_out, *values = on_input ? w->V : w->M;
    int64_t C = on_input ? w->g->cin : w->g->cout, stride = w->cap * C;
    for (int64_t t = 0, k; t < n && s.n > 0; t += k) {
        k = run_from(w, t0 + t, n - t, of);
        window v = of(w, t0 + t);
        float *tv = values + t * C + s.c0;
        int64_t row;
        if (p == INPUTS || p == OUTPUT_GRADS) {
            const float *d = window_read(&v, in, edge, s, &row) + s.c0;
            if (p == INPUTS) (w->m == 2 ? input_f2 : input_f4)(d, row, C, s.n, k, tv, stride, C);
            else (w->m == 2 ? output_adjoint_f2 : output_adjoint_f4)(d, row, C, s.n, k, tv, stride, C);
            continue;
        }
        float *d = window_write(&v, out, edge, s, &row) + s.c0;
        if (p == OUTPUTS)
            (w->m == 2 ? output_f2 : output_f4)(tv, stride, C, C, s.n, k, bias ? bias + s.c0 : NULL, relu, d, row);
        else (w->m == 2 ? input_adjoint_f2 : input_adjoint_f4)(tv, stride, C, C, s.n, k, d, row);
        window_written(&v, out, edge, s, p == INPUT_GRADS);
    }
}

/* The products out[p] = in[p] @ B[p] of every point, B packed [K, N] each,
 * rows of n tiles, shared among the threads of the enclosing team (if any). */
static void products(const wino *w, int nr, int64_t n, int64_t K, int64_t N, const float *in, const float *Bp,
                     float *out, int64_t *waited)
{
    int64_t per = ck_packed_floats(K, N, nr), cap = w->cap;
#pragma omp for schedule(static) nowait
    for (int p = 0; p < w->points; p++)
        ck_gemm_packed(nr, n, N, K, in + p * cap * K, K, Bp + p * per, 0.0f, NULL, out + p * cap * N, N);
    ck_team_barrier(waited);
}

/* The team for a block of n tiles. */
static int team_for(const ck_conv_geom *g, int64_t n)
{
    return ck_team_size(n * g->cin * g->cout * points_of(g), (int64_t)1 << 22);
}

/* One block of tiles [t0, t0 + n): what its forward or backward reads and
 * writes (ck_team_run's ctx). */
typedef struct block_job {
    const wino *w;
    int nr;
    int64_t t0, n;
    const float *x, *Up;  /* input, packed kernels (transposed for backward) */
    const float *dy;      /* backward: the output gradient                  */
    const float *bias;    /* forward                                        */
    bool relu;            /* forward                                        */
    float *z, *dx, *dU;   /* forward output; backward dx (or NULL), dU +=   */
} block_job;

/* One block's forward, by the calling thread's share of a team, or all of it
 * outside one (barriers and shared loops then cost nothing). */
static void fwd_block(void *ctx, int64_t *waited)
{
    const block_job *j = ctx;
    const wino *w = j->w;
    const ck_conv_geom *g = w->g;
    transform_pass(w, INPUTS, j->x, NULL, j->t0, j->n, NULL, false, share_of(g->cin));
    ck_team_barrier(waited);
    products(w, j->nr, j->n, g->cin, g->cout, w->V, j->Up, w->M, waited);
    transform_pass(w, OUTPUTS, NULL, j->z, j->t0, j->n, j->bias, j->relu, share_of(g->cout));
}

int ck_winograd_fwd(const ck_conv_geom *g, int nr, const float *x, const float *Up, float *z, float *scratch,
                    const ck_conv_epilogue *ep)
{
    wino w = wino_of(g, scratch);
    int64_t tiles = g->batch * w.per_sample, npos = g->out[1] * g->out[2], done = 0;
    bool relu_here = ck_conv_relu_in_product(ep, z); /* else a pass of its own */
    const float *bias = ep ? ep->bias : NULL;
    for (int64_t t0 = 0; t0 < tiles; t0 += w.cap) {
        int64_t n = tiles - t0 < w.cap ? tiles - t0 : w.cap;
        block_job job = {.w = &w, .nr = nr, .t0 = t0, .n = n, .x = x, .Up = Up, .bias = bias, .relu = relu_here,
                         .z = z};
        ck_team_run(team_for(g, n), fwd_block, &job);
        /* samples whose every tile is now done go on, activation applied */
        int64_t finished = (t0 + n) / w.per_sample;
        if (finished == done) continue;
        int st = ck_conv_finish_rows(ep, z, done * npos, (finished - done) * npos, g->cout, npos, relu_here);
        done = finished;
        if (st) return st;
    }
    return 0;
}

/* dw [3, 3, cin, cout] += G^T dU G, dU [points][cin][cout]. */
static void kernel_gradient(const ck_conv_geom *g, const float *dU, float *dw)
{
    int64_t cc = g->cin * g->cout;
    int side = out_side(g) + 2;
    const float(*G)[3] = g_of(g);
    for (int64_t i = 0; i < cc; i++) {
        float h[3][6] = {{0}}; /* G^T applied down the columns of the point grid */
        for (int a = 0; a < side; a++)
            for (int j = 0; j < side; j++)
                for (int k = 0; k < 3; k++) h[k][j] += G[a][k] * dU[(a * side + j) * cc + i];
        for (int k = 0; k < 3; k++)
            for (int l = 0; l < 3; l++) {
                float sum = 0.0f;
                for (int j = 0; j < side; j++) sum += G[j][l] * h[k][j];
                dw[(k * 3 + l) * cc + i] += sum;
            }
    }
}

/* One block's backward, shared as fwd_block is: dU [points][cin][cout] +=. */
static void bwd_block(void *ctx, int64_t *waited)
{
    const block_job *j = ctx;
    const wino *w = j->w;
    const ck_conv_geom *g = w->g;
    int64_t cc = g->cin * g->cout, n = j->n;
    transform_pass(w, INPUTS, j->x, NULL, j->t0, n, NULL, false, share_of(g->cin));
    transform_pass(w, OUTPUT_GRADS, j->dy, NULL, j->t0, n, NULL, false, share_of(g->cout));
    ck_team_barrier(waited);
#pragma omp for schedule(static) nowait
    for (int p = 0; p < w->points; p++)
        ck_sgemm(true, false, g->cin, g->cout, n, 1.0f, w->V + p * w->cap * g->cin, g->cin, w->M + p * w->cap * g->cout,
                 g->cout, 1.0f, j->dU + p * cc, g->cout);
    ck_team_barrier(waited); /* products below write over V */
    if (j->dx) {
        products(w, j->nr, n, g->cout, g->cin, w->M, j->Up, w->V, waited); /* dV, over V: read already */
        transform_pass(w, INPUT_GRADS, NULL, j->dx, j->t0, n, NULL, false, share_of(g->cin));
    }
}

int ck_winograd_bwd(const ck_conv_geom *g, int nr, const float *x, const float *Up_t, const float *dy, float *dx,
                    float *dw, float *scratch, const ck_conv_prologue *pro)
{
    wino w = wino_of(g, scratch);
    float *dU = scratch + ck_winograd_fwd_floats(g); /* [points][cin][cout] */
    int64_t tiles = g->batch * w.per_sample, ready = 0, cc = g->cin * g->cout;
    memset(dU, 0, (size_t)(w.points * cc) * sizeof *dU);
    for (int64_t t0 = 0; t0 < tiles; t0 += w.cap) {
        int64_t n = tiles - t0 < w.cap ? tiles - t0 : w.cap;
        int64_t wanted = (t0 + n + w.per_sample - 1) / w.per_sample; /* samples this block reads */
        int st = ck_conv_need(pro, ready, wanted - ready);
        if (st) return st;
        ready = wanted;
        block_job job = {.w = &w, .nr = nr, .t0 = t0, .n = n, .x = x, .Up = Up_t, .dy = dy, .dx = dx, .dU = dU};
        ck_team_run(team_for(g, n), bwd_block, &job);
    }
    kernel_gradient(g, dU, dw);
    return 0;
}
