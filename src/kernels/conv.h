/* Convolution kernels on channels-last tensors, any spatial rank 1..3 (lower
 * ranks are the 3-D case with leading extents of 1): im2col + cblas_sgemm for
 * dense and grouped convolution, col2im for the transposed one, a direct loop for
 * depthwise. Threads over the batch with OpenMP. Knows nothing about layers. */
#ifndef CK_KERNELS_CONV_H
#define CK_KERNELS_CONV_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ck_conv_geom {
    int64_t batch;
    int64_t in[3], out[3];      /* spatial extents, padded to 3 with leading 1s */
    int64_t k[3], s[3], d[3];   /* kernel, stride, dilation                     */
    int64_t pad[3];             /* padding before (TensorFlow split)            */
    int64_t cin, cout;          /* channels                                     */
    int64_t groups;             /* dense conv; cin/groups channels per group    */
    int64_t mult;               /* depthwise multiplier                         */
} ck_conv_geom;

/* y[b, out..., cout] = conv(x[b, in..., cin], w[k..., cin/groups, cout]) + bias.
 * Returns false when scratch memory cannot be allocated. */
bool ck_conv_nd(const ck_conv_geom *g, const float *x, const float *w, const float *bias, float *y);
/* Transposed: y[b, out..., cout] from x[b, in..., cin], w[k..., cout, cin]; the
 * geometry's in/out are the transposed layer's input and output. */
bool ck_conv_transpose_nd(const ck_conv_geom *g, const float *x, const float *w, const float *bias, float *y);
/* Depthwise: y[..., c*mult + m] from w[k..., cin, mult]. */
void ck_depthwise_nd(const ck_conv_geom *g, const float *x, const float *w, const float *bias, float *y);

#endif
