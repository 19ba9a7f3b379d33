/* Config structs of the convolutional-family layers (conv.c, pooling.c,
 * reshaping_conv.c, normalization.c, noise.c, activation_layers.c,
 * preprocessing.c) and the spatial geometry they share: which axes are spatial
 * for a data_format, and Keras's output-length rules for convolution, pooling and
 * transposed convolution, with TensorFlow's 'same' padding split. */
#ifndef CK_CONV_LAYERS_H
#define CK_CONV_LAYERS_H

#include "graph/graph.h"

/* One struct for every convolution class; each class's field table names only
 * the members Keras's get_config() has for it. */
typedef struct ck_conv_config {
    int64_t filters, groups, depth_multiplier;
    ck_ints kernel_size, strides, dilation_rate, output_padding; /* arity = rank */
    char padding[CK_STR_MAX], data_format[CK_STR_MAX];
    ck_act activation;
    bool use_bias;
    ck_init kernel_initializer, bias_initializer, depthwise_initializer, pointwise_initializer;
    char *kernel_regularizer, *bias_regularizer, *activity_regularizer;   /* raw JSON */
    char *kernel_constraint, *bias_constraint;
    char *depthwise_regularizer, *pointwise_regularizer;
    char *depthwise_constraint, *pointwise_constraint;
} ck_conv_config;

typedef struct ck_pool_config {
    ck_ints pool_size, strides;      /* strides None = pool_size */
    char padding[CK_STR_MAX], data_format[CK_STR_MAX];
    bool keepdims;                   /* global pooling */
} ck_pool_config;

typedef struct ck_resize_config {    /* ZeroPadding, Cropping, UpSampling */
    char *padding, *cropping;        /* raw JSON: int, pair, or pairs */
    ck_ints size;
    char data_format[CK_STR_MAX], interpolation[CK_STR_MAX];
} ck_resize_config;

typedef struct ck_norm_config {      /* BatchNormalization, Layer/Group/UnitNormalization */
    ck_ints axis;                    /* Layer/UnitNormalization accept a list */
    int64_t groups;
    double momentum, epsilon, renorm_momentum;
    bool center, scale, rms_scaling, synchronized, renorm;
    ck_init beta_initializer, gamma_initializer, moving_mean_initializer, moving_variance_initializer;
    char *beta_regularizer, *gamma_regularizer, *beta_constraint, *gamma_constraint;
    char *renorm_clipping;
} ck_norm_config;

typedef struct ck_noise_config {     /* SpatialDropout*, Gaussian*, AlphaDropout, ActivityRegularization */
    double rate, stddev, l1, l2;
    int64_t seed;
    ck_shape noise_shape;
    char data_format[CK_STR_MAX];
} ck_noise_config;

typedef struct ck_act_layer_config { /* ReLU, LeakyReLU, PReLU, ELU, Softmax */
    double max_value, negative_slope, threshold, alpha;  /* max_value NAN = None */
    ck_ints axis, shared_axes;
    ck_init alpha_initializer;
    char *alpha_regularizer, *alpha_constraint;
} ck_act_layer_config;

typedef struct ck_prep_config {      /* Rescaling, Normalization, CenterCrop, Resizing */
    char *scale, *offset;            /* raw JSON: a number or a list per channel */
    ck_ints axis;
    bool invert, crop_to_aspect_ratio, pad_to_aspect_ratio, antialias;
    char *mean, *variance;           /* raw JSON or NULL */
    int64_t height, width;
    char data_format[CK_STR_MAX], interpolation[CK_STR_MAX], fill_mode[CK_STR_MAX];
    double fill_value;
} ck_prep_config;

/* BatchNormalization at inference as y = x * a + b per feature [dim] of its
 * axis: a = gamma / sqrt(moving_variance + epsilon), b = beta - moving_mean * a. */
void ck_bn_coefficients(const ck_layer *l, int64_t dim, float *a, float *b);

/* What Resizing and CenterCrop do to one sample (for code generation): each of
 * `images` images [h, w, c] (channels_first: one per channel, c = 1) is cut to,
 * or padded (with fill) to, a box [box_h, box_w] at (top, left) -- pad: bands
 * of that thickness -- then resampled to [oh, ow] by ck_resize_method `method`. */
typedef struct ck_resize_plan {
    int64_t images, h, w, c, oh, ow;
    int64_t box_h, box_w, top, left;
    bool pad, antialias;
    int method;
    float fill;
} ck_resize_plan;
ck_status ck_resize_plan_of(const ck_layer *l, const ck_shape *x, const ck_shape *y, ck_resize_plan *p);

/* The constants Rescaling (scale, offset) and Normalization (mean, variance,
 * when its config gives them) parsed from their configs at build, flattened;
 * false when the layer holds none. */
bool ck_prep_constants(const ck_layer *l, const float **a, int64_t *na, const float **b, int64_t *nb);

/* ---- geometry --------------------------------------------------------------------- */
/* Spatial axes of a rank-(r+2) input: [first, first + r); the channel axis. */
typedef struct ck_spatial {
    int rank;          /* spatial rank 1..3          */
    int first;         /* index of the first spatial axis in the full shape */
    int channel;       /* index of the channel axis  */
} ck_spatial;

/* Checks the input rank for `rank` spatial dims and the data_format. */
ck_status ck_spatial_of(const ck_layer *l, const ck_shape *in, int rank, const char *data_format,
                        ck_spatial *out);
/* Keras's conv output length ('valid', 'same', 'causal'); CK_NONE stays CK_NONE.
 * Fails naming the layer when the size would be negative (or zero for pooling). */
ck_status ck_conv_out_len(const ck_layer *l, int64_t in, int64_t k, int64_t stride, int64_t dil,
                          const char *padding, bool pooling, int64_t *out);
/* Keras's deconv_output_length; output_padding < 0 means None. */
int64_t ck_deconv_out_len(int64_t in, int64_t k, int64_t stride, int64_t dil, const char *padding,
                          int64_t output_padding);
/* Padding before the first element, as TensorFlow splits 'same' (extra at the end). */
int64_t ck_pad_before(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t dil,
                      const char *padding);

/* Parses Keras's padding/cropping argument ([rank] pairs from an int, a tuple of
 * `rank` ints, or a tuple of pairs) from raw JSON; names the field in errors. */
ck_status ck_parse_pairs(const ck_layer *l, const char *field, const char *json, int rank,
                         int64_t pairs[][2]);
/* Parses a number or list of numbers (Rescaling scale, Normalization mean). */
ck_status ck_parse_floats(const ck_layer *l, const char *field, const char *json, double *v,
                          int cap, int *n);

#endif
