/*
 * Image resampling as jax.image.resize computes it (what Keras 3's JAX backend
 * calls for Resizing, CenterCrop's smart_resize and UpSampling2D): nearest
 * neighbour by half-pixel offsets, and separable kernels (triangle, Keys cubic,
 * Lanczos 3/5) whose per-output weights are renormalised and zeroed outside the
 * input, with optional antialiasing when downsampling. Channels-last arrays.
 */
#ifndef CK_RESIZE_H
#define CK_RESIZE_H

#include "core/core.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum ck_resize_method {
    CK_RESIZE_NEAREST, CK_RESIZE_BILINEAR, CK_RESIZE_BICUBIC, CK_RESIZE_LANCZOS3, CK_RESIZE_LANCZOS5,
    CK_RESIZE_COUNT
} ck_resize_method;

/* The method of a Keras interpolation name; false if Keras's JAX backend has none. */
bool ck_resize_method_of(const char *name, ck_resize_method *out);

/* Weights of one axis, [n_out, n_in] row-major: output o = sum_i w[o, i] * input i.
 * Not for CK_RESIZE_NEAREST. */
void ck_resize_weights(int64_t n_in, int64_t n_out, ck_resize_method m, bool antialias, float *w);

/* Nearest source index of output o (jax's float32 half-pixel rule). */
int64_t ck_resize_nearest_src(int64_t n_in, int64_t n_out, int64_t o);

/* Resizes one image x [h, w, c] to y [oh, ow, c]. `wh` [oh, h] and `ww` [ow, w] are
 * from ck_resize_weights (NULL for an axis whose size does not change, which jax
 * leaves untouched); `tmp` holds oh * w * c floats. */
void ck_resize_image(const float *x, int64_t h, int64_t w, int64_t c, float *y, int64_t oh, int64_t ow,
                     const float *wh, const float *ww, float *tmp);
/* ck_resize_image for a half layer (mixed_bfloat16, ...), as jax.image.resize
 * computes it on a half tensor: the weights are the caller's, already rounded
 * to the half type; each axis's product is rounded, in opt_einsum's order.
 * tmp: max(h * ow, oh * w) * c floats. */
void ck_resize_image_half(const float *x, int64_t h, int64_t w, int64_t c, float *y, int64_t oh, int64_t ow,
                          const float *wh, const float *ww, float *tmp, ck_half half);
/* Nearest-neighbour resize of one image x [h, w, c] to y [oh, ow, c]. */
void ck_resize_nearest(const float *x, int64_t h, int64_t w, int64_t c, float *y, int64_t oh, int64_t ow);

/* Backwards of the two: dx [h, w, c] += the transpose applied to dy [oh, ow, c]. */
void ck_resize_image_backward(const float *dy, int64_t h, int64_t w, int64_t c, float *dx, int64_t oh, int64_t ow,
                              const float *wh, const float *ww, float *tmp);
void ck_resize_nearest_backward(const float *dy, int64_t h, int64_t w, int64_t c, float *dx, int64_t oh, int64_t ow);

#endif
