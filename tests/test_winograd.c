/* Winograd convolution (kernels/winograd.c), F(2x2, 3x3) for the cases with an
 * output extent under 8 and F(4x4, 3x3) for the others, against the
 * convolution computed in double, for every packed-kernel width this CPU
 * runs: forward with bias, relu and a column scale (a folded
 * BatchNormalization), the weight and input gradients (both accumulate),
 * 'valid' and 'same' padding, odd and even extents, channel counts off the
 * panel width, blocks of tiles that split a sample, at 1 and 2 threads
 * (threads share a block's channels). Samples must be handed on
 * (samples_done) in order and only once final, and the output gradient must
 * not be read before the prologue asked for its samples. Then which
 * geometries it takes. */
#include "testutil.h"
#include "kernels/gemm_packed.h"
#include "kernels/winograd.h"

#include <float.h>
#include <omp.h>

static float *filled(int64_t n, int seed)
{
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof *p);
    for (int64_t i = 0; i < n; i++) p[i] = (float)((i * 7919 + seed * 104729) % 2001) / 1000.0f - 1.0f;
    return p;
}

static ck_conv_geom geom(int64_t batch, int64_t h, int64_t w, int64_t cin, int64_t cout, bool same)
{
    ck_conv_geom g = {.batch = batch, .in = {1, h, w}, .out = {1, same ? h : h - 2, same ? w : w - 2},
                      .k = {1, 3, 3}, .s = {1, 1, 1}, .d = {1, 1, 1}, .pad = {0, same, same},
                      .cin = cin, .cout = cout, .groups = 1, .mult = 1};
    return g;
}

static int64_t xi(const ck_conv_geom *g, int64_t b, int64_t y, int64_t x)
{
    return ((b * g->in[1] + y) * g->in[2] + x) * g->cin;
}

static int64_t yi(const ck_conv_geom *g, int64_t b, int64_t y, int64_t x)
{
    return ((b * g->out[1] + y) * g->out[2] + x) * g->cout;
}

static int64_t wi(const ck_conv_geom *g, int ky, int kx) { return (ky * 3 + kx) * g->cin * g->cout; }

/* Runs BODY for every (output pixel, tap) inside the input, with xo, wo and yo
 * the offsets of its input pixel, kernel tap and output pixel. */
#define EACH_TERM(g, ...)                                                                       \
    for (int64_t b = 0; b < (g)->batch; b++)                                                    \
        for (int64_t oy = 0; oy < (g)->out[1]; oy++)                                            \
            for (int64_t ox = 0; ox < (g)->out[2]; ox++)                                        \
                for (int ky = 0; ky < 3; ky++)                                                  \
                    for (int kx = 0; kx < 3; kx++) {                                            \
                        int64_t iy = oy + ky - (g)->pad[1], ix = ox + kx - (g)->pad[2];         \
                        if (iy < 0 || iy >= (g)->in[1] || ix < 0 || ix >= (g)->in[2]) continue; \
                        int64_t xo = xi(g, b, iy, ix), wo = wi(g, ky, kx), yo = yi(g, b, oy, ox); \
                        __VA_ARGS__                                                             \
                    }

/* The worst |got - exact| over 4 sqrt(K) eps |terms| (+ tiny), exact and
 * |terms| in double: above 1 is wrong. Rounding errors of K terms grow like
 * sqrt(K) in practice (the K eps worst case would pass a wrong transform
 * coefficient off by 1e-4); what this path gives is about 1.5 eps |terms|. */
static double worst_of(const float *got, const double *exact, const double *mag, int64_t n, int64_t K)
{
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double r = fabs(got[i] - exact[i]) / (4.0 * sqrt((double)K) * FLT_EPSILON * mag[i] + 1e-30);
        worst = r != r ? INFINITY : r > worst ? r : worst;
    }
    return worst;
}

typedef struct handed {
    const ck_conv_geom *g;
    const float *out;
    float *snapshot; /* out's rows as they were when handed on */
    int64_t next;    /* the next sample expected */
    bool in_order;
} handed;

static int on_done(void *ctx, int64_t b0, int64_t n)
{
    handed *h = ctx;
    h->in_order = h->in_order && b0 == h->next && n >= 1;
    int64_t per = h->g->out[1] * h->g->out[2] * h->g->cout;
    memcpy(h->snapshot + b0 * per, h->out + b0 * per, (size_t)(n * per) * sizeof(float));
    h->next = b0 + n;
    return 0;
}

typedef struct asked {
    const ck_conv_geom *g;
    const float *source;
    float *dy; /* NaN until asked for */
    int64_t next;
    bool in_order;
} asked;

static int on_need(void *ctx, int64_t b0, int64_t n)
{
    asked *a = ctx;
    a->in_order = a->in_order && b0 == a->next && n >= 1;
    int64_t per = a->g->out[1] * a->g->out[2] * a->g->cout;
    memcpy(a->dy + b0 * per, a->source + b0 * per, (size_t)(n * per) * sizeof(float));
    a->next = b0 + n;
    return 0;
}

static void check_forward(const ck_conv_geom *g, int nr, const char *what)
{
    int64_t nx = g->batch * g->in[1] * g->in[2] * g->cin, ny = g->batch * g->out[1] * g->out[2] * g->cout;
    float *x = filled(nx, 1), *w = filled(9 * g->cin * g->cout, 2), *bias = filled(g->cout, 3);
    float *scale = filled(g->cout, 4), *z = malloc((size_t)ny * sizeof *z), *snap = malloc((size_t)ny * sizeof *snap);
    float *scratch = malloc((size_t)ck_winograd_fwd_floats(g) * sizeof *scratch);
    float *Up = malloc((size_t)ck_winograd_packed_floats(g, false, nr) * sizeof *Up);
    double *exact = calloc((size_t)ny, sizeof *exact), *mag = calloc((size_t)ny, sizeof *mag);
    EACH_TERM(g, for (int64_t c = 0; c < g->cin; c++) for (int64_t f = 0; f < g->cout; f++) {
        double t = (double)x[xo + c] * w[wo + c * g->cout + f] * scale[f];
        exact[yo + f] += t, mag[yo + f] += fabs(t);
    });
    for (int64_t i = 0; i < ny; i++) {
        int64_t f = i % g->cout;
        exact[i] += bias[f], mag[i] += fabs(bias[f]);
        exact[i] = exact[i] > 0 ? exact[i] : 0; /* relu */
    }
    ck_winograd_pack(g, w, scale, false, nr, scratch, Up);
    for (int i = 0; i < ny; i++) z[i] = NAN;
    handed h = {.g = g, .out = z, .snapshot = snap, .in_order = true};
    ck_conv_epilogue ep = {.bias = bias, .act = CK_ACT_RELU, .out = z, .samples_done = on_done, .ctx = &h};
    CHECK(ck_winograd_fwd(g, nr, x, Up, z, scratch, &ep) == 0, "%s: forward failed", what);
    double r = worst_of(z, exact, mag, ny, 9 * g->cin);
    CHECK(r <= 1.0, "%s, nr %d: forward %g times the error bound", what, nr, r);
    CHECK(h.in_order && h.next == g->batch, "%s: samples handed on out of order or not all (%lld)", what,
          (long long)h.next);
    CHECK(!memcmp(snap, z, (size_t)ny * sizeof *z), "%s: a sample was handed on before it was final", what);
    free(x), free(w), free(bias), free(scale), free(z), free(snap), free(scratch), free(Up), free(exact), free(mag);
}

static void check_backward(const ck_conv_geom *g, int nr, bool want_dx, const char *what)
{
    int64_t nx = g->batch * g->in[1] * g->in[2] * g->cin, ny = g->batch * g->out[1] * g->out[2] * g->cout;
    int64_t nw = 9 * g->cin * g->cout;
    float *x = filled(nx, 5), *w = filled(nw, 6), *source = filled(ny, 7), *dx = filled(nx, 8), *dw = filled(nw, 9);
    float *dy = malloc((size_t)ny * sizeof *dy), *scratch = malloc((size_t)ck_winograd_bwd_floats(g) * sizeof *scratch);
    float *Upt = malloc((size_t)ck_winograd_packed_floats(g, true, nr) * sizeof *Upt);
    double *ex_dx = calloc((size_t)nx, sizeof *ex_dx), *mag_dx = calloc((size_t)nx, sizeof *mag_dx);
    double *ex_dw = calloc((size_t)nw, sizeof *ex_dw), *mag_dw = calloc((size_t)nw, sizeof *mag_dw);
    for (int64_t i = 0; i < nx; i++) ex_dx[i] = dx[i], mag_dx[i] = fabs(dx[i]);
    for (int64_t i = 0; i < nw; i++) ex_dw[i] = dw[i], mag_dw[i] = fabs(dw[i]);
    EACH_TERM(g, for (int64_t c = 0; c < g->cin; c++) for (int64_t f = 0; f < g->cout; f++) {
        double tx = (double)source[yo + f] * w[wo + c * g->cout + f], tw = (double)source[yo + f] * x[xo + c];
        ex_dx[xo + c] += tx, mag_dx[xo + c] += fabs(tx);
        ex_dw[wo + c * g->cout + f] += tw, mag_dw[wo + c * g->cout + f] += fabs(tw);
    });
    for (int64_t i = 0; i < ny; i++) dy[i] = NAN;
    ck_winograd_pack(g, w, NULL, true, nr, scratch, Upt);
    asked a = {.g = g, .source = source, .dy = dy, .in_order = true};
    ck_conv_prologue pro = {on_need, &a};
    CHECK(ck_winograd_bwd(g, nr, x, Upt, dy, want_dx ? dx : NULL, dw, scratch, &pro) == 0, "%s: backward failed", what);
    CHECK(a.in_order && a.next == g->batch, "%s: output gradient asked for out of order or not all (%lld)", what,
          (long long)a.next);
    int64_t positions = g->batch * g->out[1] * g->out[2];
    double rw = worst_of(dw, ex_dw, mag_dw, nw, positions);
    CHECK(rw <= 1.0, "%s, nr %d: weight gradient %g times the error bound", what, nr, rw);
    if (want_dx) {
        double rx = worst_of(dx, ex_dx, mag_dx, nx, 9 * g->cout);
        CHECK(rx <= 1.0, "%s, nr %d: input gradient %g times the error bound", what, nr, rx);
    } else {
        float *untouched = filled(nx, 8);
        CHECK(!memcmp(dx, untouched, (size_t)nx * sizeof *dx), "%s: dx written though not wanted", what);
        free(untouched);
    }
    free(x), free(w), free(source), free(dx), free(dw), free(dy), free(scratch), free(Upt);
    free(ex_dx), free(mag_dx), free(ex_dw), free(mag_dw);
}

static void check_fits(int nr)
{
    ck_conv_geom g = geom(2, 13, 13, 32, 64, false);
    CHECK(ck_winograd_fits(&g, nr), "the 13x13 32 -> 64 convolution is not taken");
    CHECK(!ck_winograd_fits(&g, 0), "taken without a packed kernel");
    ck_conv_geom s = g;
    s.s[2] = 2;
    CHECK(!ck_winograd_fits(&s, nr), "stride 2 taken");
    s = g, s.d[1] = 2;
    CHECK(!ck_winograd_fits(&s, nr), "dilation 2 taken");
    s = g, s.k[1] = s.k[2] = 5;
    CHECK(!ck_winograd_fits(&s, nr), "5x5 taken");
    s = g, s.groups = 2;
    CHECK(!ck_winograd_fits(&s, nr), "two groups taken");
    s = g, s.cin = 8;
    CHECK(!ck_winograd_fits(&s, nr), "8 input channels taken");
    s = g, s.in[0] = 5, s.k[0] = 3;
    CHECK(!ck_winograd_fits(&s, nr), "a 3-D kernel taken");
    s = geom(2, 5, 5, 32, 64, false);
    CHECK(!ck_winograd_fits(&s, nr), "a 3x3 output taken");
}

int main(void)
{
    int widest = ck_packed_nr();
    if (!widest) {
        ck_conv_geom g = geom(2, 13, 13, 32, 64, false);
        CHECK(!ck_winograd_fits(&g, widest), "no packed kernel, yet Winograd is offered");
        printf("no packed kernel on this CPU: Winograd is never used\n");
        return test_report("test_winograd");
    }
    check_fits(widest);
    struct {
        int64_t batch, h, w, cin, cout;
        bool same;
        const char *what;
    } cases[] = {
        {6, 13, 13, 32, 64, false, "the demo CNN's second layer (blocks split samples)"},
        {2, 10, 7, 16, 20, true, "same, odd width, 20 outputs"},
        {5, 6, 6, 24, 48, false, "4x4 outputs"},
        {1, 9, 12, 64, 96, true, "same, 64 -> 96"},
        {3, 7, 7, 40, 16, true, "same, 7x7, 40 -> 16"},
        {2, 16, 16, 48, 64, true, "same, 48 -> 64 (blocks big enough for threads, uneven channel shares)"},
    };
    int max_threads = omp_get_max_threads() < 2 ? omp_get_max_threads() : 2;
    for (int threads = 1; threads <= max_threads; threads++) {
        omp_set_num_threads(threads);
        for (int nr = widest; nr >= 16; nr /= 2)
            for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                ck_conv_geom g = geom(cases[i].batch, cases[i].h, cases[i].w, cases[i].cin, cases[i].cout,
                                      cases[i].same);
                CHECK(ck_winograd_fits(&g, nr), "%s: not taken", cases[i].what);
                check_forward(&g, nr, cases[i].what);
                check_backward(&g, nr, true, cases[i].what);
                check_backward(&g, nr, i % 2 == 0, cases[i].what);
            }
    }
    return test_report("test_winograd");
}
