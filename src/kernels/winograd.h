/* Winograd's minimal filtering F(m x m, 3x3) for the 2-D 3x3 stride-1
 * convolutions most CNNs are made of (Lavin & Gray, "Fast Algorithms for
 * Convolutional Neural Networks", 2015). Each m x m block of outputs is read
 * from an (m + 2)^2 tile of the input: with the tile transformed (V = B^T d B,
 * per channel) and the kernel transformed once (U = G g G^T, per channel
 * pair), the block is A^T (sum over input channels of U . V) A, so the
 * convolution becomes (m + 2)^2 independent products [tiles, cin] x [cin,
 * cout]. F(2x2) takes 16 multiply-adds per channel pair and block where direct
 * convolution takes 36 (2.25x fewer); F(4x4), used once both output extents
 * are at least 8, takes 36 where direct takes 144 (4x fewer).
 *
 * Training runs the same identity backwards, on the same tiles:
 *   dM = A dY A^T (per output channel),
 *   dU += V^T dM   (a product per point over the tiles; dW = G^T dU G at the end),
 *   dV  = dM U^T   (a product per point; dX += B dV B^T, tile by tile),
 * so the weight and input gradients save as much, and no im2col matrix is
 * built or scattered back. The results equal the direct convolution's up to
 * float rounding: F(2x2)'s transforms only add and halve; F(4x4)'s constants
 * (up to 8, and 1/24) round a little more, within 1.5e-6 of the largest logit
 * on the full Keras Applications.
 *
 * Tiles are taken in blocks small enough that a block's transformed input and
 * products stay in L2; the products use the packed micro-kernel
 * (gemm_packed.h), so a CPU without one (ck_packed_nr() 0) keeps im2col. */
#ifndef CK_KERNELS_WINOGRAD_H
#define CK_KERNELS_WINOGRAD_H

#include "kernels/conv.h"

#include <stdbool.h>
#include <stdint.h>

/* Whether g is a convolution this path runs, and runs faster than im2col: 2-D
 * (in[0] and k[0] are 1), 3x3, stride and dilation 1, one group, at
 * least 16 channels in and out (fewer make the transforms dearer than the
 * products they save) and outputs at least 4x4 (smaller waste most of a tile),
 * on a CPU with the packed kernel (width nr). */
bool ck_winograd_fits(const ck_conv_geom *g, int nr);
/* Floats of the packed transformed kernel: a packed [cin, cout] matrix per
 * transform point, or for the backward pass (transposed) a [cout, cin] one. */
int64_t ck_winograd_packed_floats(const ck_conv_geom *g, bool transposed, int nr);
/* Scratch floats ck_winograd_fwd and ck_winograd_pack need (pack and forward
 * may share it), and ck_winograd_bwd (more: its dU accumulators). */
int64_t ck_winograd_fwd_floats(const ck_conv_geom *g);
int64_t ck_winograd_bwd_floats(const ck_conv_geom *g);
/* Up = the kernel w [3, 3, cin, cout] transformed and packed for the forward
 * pass, its output columns multiplied by col_scale [cout] if not NULL (a folded
 * BatchNormalization); transposed: packed for ck_winograd_bwd instead (no
 * col_scale). scratch: ck_winograd_fwd_floats floats. */
void ck_winograd_pack(const ck_conv_geom *g, const float *w, const float *col_scale, bool transposed, int nr,
                      float *scratch, float *Up);
/* ck_conv_fwd's contract (z, the epilogue, samples_done in order) with the
 * kernel packed by ck_winograd_pack. Returns 0 or samples_done's status. */
int ck_winograd_fwd(const ck_conv_geom *g, int nr, const float *x, const float *Up, float *z, float *scratch,
                    const ck_conv_epilogue *ep);
/* ck_conv_bwd's contract (dw += d/dw, dx += d/dx when dx is not NULL, the
 * prologue before dy's samples are read) with the kernel packed transposed. */
int ck_winograd_bwd(const ck_conv_geom *g, int nr, const float *x, const float *Up_t, const float *dy, float *dx,
                    float *dw, float *scratch, const ck_conv_prologue *pro);

#endif
