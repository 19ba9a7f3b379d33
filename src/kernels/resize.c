/*
 * Image resampling following jax.image.resize (jax/_src/image/scale.py), which is
 * what Keras 3's JAX backend runs: per axis a dense [n_out, n_in] weight matrix
 * from a kernel evaluated at |sample - i| with half-pixel sample positions, each
 * row renormalised to sum 1 (or zeroed when its sum is tiny) and zeroed when the
 * sample lies outside [-0.5, n_in - 0.5]. Weights are computed in float32 as jax
 * does so that the rounding of sample positions agrees.
 */
#include "kernels/resize.h"

#include <float.h>
#include <math.h>
#include <string.h>

bool ck_resize_method_of(const char *name, ck_resize_method *out)
{
    static const char *const names[CK_RESIZE_COUNT] = {"nearest", "bilinear", "bicubic", "lanczos3",
                                                       "lanczos5"};
    for (int i = 0; i < CK_RESIZE_COUNT; i++)
        if (!strcmp(name, names[i])) return *out = (ck_resize_method)i, true;
    return false;
}

static float lanczos(float radius, float x)
{
    const float pi = 3.14159265358979323846f;
    if (x > radius) return 0.0f;
    if (x <= 1e-3f) return 1.0f;
    float y = radius * sinf(pi * x) * sinf(pi * x / radius);
    return y / (pi * pi * x * x);
}

static float keys_cubic(float x)
{
    if (x >= 2.0f) return 0.0f;
    if (x >= 1.0f) return ((-0.5f * x + 2.5f) * x - 4.0f) * x + 2.0f;
    return ((1.5f * x - 2.5f) * x) * x + 1.0f;
}

static float kernel(ck_resize_method m, float x)
{
    switch (m) {
    case CK_RESIZE_BICUBIC: return keys_cubic(x);
    case CK_RESIZE_LANCZOS3: return lanczos(3.0f, x);
    case CK_RESIZE_LANCZOS5: return lanczos(5.0f, x);
    default: return x < 1.0f ? 1.0f - x : 0.0f; /* triangle */
    }
}

void ck_resize_weights(int64_t n_in, int64_t n_out, ck_resize_method m, bool antialias, float *w)
{
    float scale = (float)((double)n_out / (double)n_in);
    float inv_scale = 1.0f / scale;
    float kscale = antialias && inv_scale > 1.0f ? inv_scale : 1.0f;
    for (int64_t o = 0; o < n_out; o++) {
        float *row = w + o * n_in;
        float sample = ((float)o + 0.5f) * inv_scale - 0.5f;
        float total = 0.0f;
        for (int64_t i = 0; i < n_in; i++) {
            row[i] = kernel(m, fabsf(sample - (float)i) / kscale);
            total += row[i];
        }
        bool inside = sample >= -0.5f && sample <= (float)n_in - 0.5f;
        bool keep = inside && fabsf(total) > 1000.0f * FLT_EPSILON;
        for (int64_t i = 0; i < n_in; i++) row[i] = keep ? row[i] / total : 0.0f;
    }
}

int64_t ck_resize_nearest_src(int64_t n_in, int64_t n_out, int64_t o)
{
    float off = ((float)o + 0.5f) * (float)n_in / (float)n_out;
    int64_t i = (int64_t)floorf(off);
    return i < n_in ? i : n_in - 1;
}

void ck_resize_image(const float *x, int64_t h, int64_t w, int64_t c, float *y, int64_t oh, int64_t ow,
                     const float *wh, const float *ww, float *tmp)
{
    /* Rows first: tmp [oh, w, c]. */
    for (int64_t o = 0; o < oh; o++) {
        float *t = tmp + o * w * c;
        if (!wh) {
            memcpy(t, x + o * w * c, (size_t)(w * c) * sizeof *t);
            continue;
        }
        memset(t, 0, (size_t)(w * c) * sizeof *t);
        for (int64_t i = 0; i < h; i++) {
            float a = wh[o * h + i];
            if (a == 0.0f) continue;
            const float *src = x + i * w * c;
            for (int64_t k = 0; k < w * c; k++) t[k] += a * src[k];
        }
    }
    /* Then columns: y [oh, ow, c]. */
    for (int64_t r = 0; r < oh; r++) {
        const float *t = tmp + r * w * c;
        for (int64_t o = 0; o < ow; o++) {
            float *dst = y + (r * ow + o) * c;
            if (!ww) {
                memcpy(dst, t + o * c, (size_t)c * sizeof *dst);
                continue;
            }
            memset(dst, 0, (size_t)c * sizeof *dst);
            for (int64_t i = 0; i < w; i++) {
                float a = ww[o * w + i];
                if (a == 0.0f) continue;
                for (int64_t k = 0; k < c; k++) dst[k] += a * t[i * c + k];
            }
        }
    }
}

/* One axis of a half resize: y = x contracted with weights a [n_out, n_in]
 * along the axis of `stride` floats (rows: w * c, columns: c) over `outer`
 * blocks of `n_in * stride` floats, rounded to `half`. */
static void contract_half(const float *x, int64_t outer, int64_t n_in, int64_t stride, const float *a, int64_t n_out,
                          float *y, ck_half half)
{
    for (int64_t b = 0; b < outer; b++)
        for (int64_t o = 0; o < n_out; o++) {
            float *dst = y + (b * n_out + o) * stride;
            memset(dst, 0, (size_t)stride * sizeof *dst);
            for (int64_t i = 0; i < n_in; i++) {
                const float *src = x + (b * n_in + i) * stride;
                for (int64_t k = 0; k < stride; k++) dst[k] += a[o * n_in + i] * src[k];
            }
            ck_round_half(half, dst, dst, stride);
        }
}

void ck_resize_image_half(const float *x, int64_t h, int64_t w, int64_t c, float *y, int64_t oh, int64_t ow,
                          const float *wh, const float *ww, float *tmp, ck_half half)
{
    if (!wh || !ww) { /* one axis: one product */
        if (wh) contract_half(x, 1, h, w * c, wh, oh, y, half);
        else if (ww) contract_half(x, h, w, c, ww, ow, y, half);
        else memcpy(y, x, (size_t)(h * w * c) * sizeof *y);
        return;
    }
    /* jax.image.resize is one einsum over the image and both weight matrices;
     * opt_einsum contracts first the axis that costs fewer multiplications
     * in all (the columns on a tie), and XLA rounds the product in between */
    if (h * ow * (w + oh) <= w * oh * (h + ow)) {
        contract_half(x, h, w, c, ww, ow, tmp, half);     /* tmp [h, ow, c] */
        contract_half(tmp, 1, h, ow * c, wh, oh, y, half);
    } else {
        contract_half(x, 1, h, w * c, wh, oh, tmp, half); /* tmp [oh, w, c] */
        contract_half(tmp, oh, w, c, ww, ow, y, half);
    }
}

void ck_resize_nearest(const float *x, int64_t h, int64_t w, int64_t c, float *y, int64_t oh, int64_t ow)
{
    for (int64_t r = 0; r < oh; r++) {
        int64_t sr = oh == h ? r : ck_resize_nearest_src(h, oh, r);
        for (int64_t o = 0; o < ow; o++) {
            int64_t sc = ow == w ? o : ck_resize_nearest_src(w, ow, o);
            memcpy(y + (r * ow + o) * c, x + (sr * w + sc) * c, (size_t)c * sizeof *y);
        }
    }
}

void ck_resize_image_backward(const float *dy, int64_t h, int64_t w, int64_t c, float *dx, int64_t oh, int64_t ow,
                              const float *wh, const float *ww, float *tmp)
{
    /* Columns: tmp [oh, w, c] = dy [oh, ow, c] through ww transposed. */
    for (int64_t r = 0; r < oh; r++) {
        float *t = tmp + r * w * c;
        const float *g = dy + r * ow * c;
        if (!ww) {
            memcpy(t, g, (size_t)(w * c) * sizeof *t);
            continue;
        }
        memset(t, 0, (size_t)(w * c) * sizeof *t);
        for (int64_t o = 0; o < ow; o++)
            for (int64_t i = 0; i < w; i++) {
                float a = ww[o * w + i];
                if (a == 0.0f) continue;
                for (int64_t k = 0; k < c; k++) t[i * c + k] += a * g[o * c + k];
            }
    }
    /* Rows: dx [h, w, c] += tmp through wh transposed. */
    for (int64_t o = 0; o < oh; o++) {
        const float *t = tmp + o * w * c;
        for (int64_t i = 0; i < h; i++) {
            float a = wh ? wh[o * h + i] : (float)(i == o);
            if (a == 0.0f) continue;
            float *d = dx + i * w * c;
            for (int64_t k = 0; k < w * c; k++) d[k] += a * t[k];
        }
    }
}

void ck_resize_nearest_backward(const float *dy, int64_t h, int64_t w, int64_t c, float *dx, int64_t oh, int64_t ow)
{
    for (int64_t r = 0; r < oh; r++) {
        int64_t sr = oh == h ? r : ck_resize_nearest_src(h, oh, r);
        for (int64_t o = 0; o < ow; o++) {
            int64_t sc = ow == w ? o : ck_resize_nearest_src(w, ow, o);
            float *d = dx + (sr * w + sc) * c;
            const float *g = dy + (r * ow + o) * c;
            for (int64_t k = 0; k < c; k++) d[k] += g[k];
        }
    }
}
