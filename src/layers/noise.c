/* Regularization layers that are the identity at inference: SpatialDropout1D/2D/3D,
 * GaussianNoise, GaussianDropout, AlphaDropout and ActivityRegularization. No
 * weights; rates are checked to lie in [0, 1). */
#include "layers/conv_exec.h"
#include "layers/conv_layers.h"
#include "layers/layers.h"

#include <string.h>

#define XF(member, type, def, ...) CK_FIELD(ck_noise_config, member, type, def, __VA_ARGS__)
static const char *const formats[] = {"channels_last", "channels_first", NULL};
#define RATE XF(rate, CK_FT_FLOAT, NULL, 0, CK_FF_REQUIRED)
#define SEED XF(seed, CK_FT_INT, "null", 0, CK_FF_NULLABLE)

static const ck_field sd1_fields[] = {RATE, SEED};
static const ck_field sdn_fields[] = {RATE, SEED, XF(data_format, CK_FT_STR, "\"channels_last\"", 0, 0, formats)};
static const ck_field gnoise_fields[] = {XF(stddev, CK_FT_FLOAT, NULL, 0, CK_FF_REQUIRED), SEED};
static const ck_field gdrop_fields[] = {RATE, SEED};
static const ck_field adrop_fields[] = {RATE, SEED, XF(noise_shape, CK_FT_SHAPE, "null", 0, CK_FF_NULLABLE)};
static const ck_field areg_fields[] = {XF(l1, CK_FT_FLOAT, "0.0"), XF(l2, CK_FT_FLOAT, "0.0")};

static ck_status noise_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)n_in;
    const ck_noise_config *c = CK_CFG(l, ck_noise_config);
    const char *n = l->cls->class_name;
    if (strstr(n, "Dropout") && !(c->rate >= 0.0 && c->rate < 1.0))
        return ck_layer_error(l, CK_ERR_CONFIG, "field 'rate' must be in [0, 1), got %g", c->rate);
    if (!strcmp(n, "GaussianNoise") && !(c->stddev >= 0.0))
        return ck_layer_error(l, CK_ERR_CONFIG, "field 'stddev' must be non-negative, got %g", c->stddev);
    if (!strncmp(n, "SpatialDropout", 14)) {
        int r = n[14] - '0';
        if (in[0].rank != r + 2)
            return ck_layer_error(l, CK_ERR_SHAPE, "expected an input of rank %d, got rank %d", r + 2, in[0].rank);
    }
    out[0] = in[0];
    *n_out = 1;
    return CK_OK;
}

/* Inference: every one of these layers passes its input through. */
static ck_status identity_forward(CK_FWD_ARGS)
{
    (void)l, (void)n_in, (void)n_out, (void)ex;
    int64_t n = 1;
    for (int i = 0; i < in[0].shape.rank; i++) n *= in[0].shape.dim[i];
    if (out[0].data != in[0].data) memcpy(out[0].data, in[0].data, (size_t)n * sizeof(float));
    return CK_OK;
}

#define N_OF(a) ((int)(sizeof a / sizeof a[0]))
#define NZ_CLASS(var, name, fields_)                                                            \
    const ck_layer_class var = {                                                                \
        .class_name = name, .module = "keras.layers", .config_size = sizeof(ck_noise_config),   \
        .fields = fields_, .n_fields = N_OF(fields_), .min_inputs = 1, .max_inputs = 1,         \
        .build = noise_build, .forward = identity_forward}

NZ_CLASS(ck_class_sd1, "SpatialDropout1D", sd1_fields);
NZ_CLASS(ck_class_sd2, "SpatialDropout2D", sdn_fields);
NZ_CLASS(ck_class_sd3, "SpatialDropout3D", sdn_fields);
NZ_CLASS(ck_class_gnoise, "GaussianNoise", gnoise_fields);
NZ_CLASS(ck_class_gdrop, "GaussianDropout", gdrop_fields);
NZ_CLASS(ck_class_adrop, "AlphaDropout", adrop_fields);
NZ_CLASS(ck_class_areg, "ActivityRegularization", areg_fields);

CK_FAMILY(ck_noise_layers, &ck_class_sd1, &ck_class_sd2, &ck_class_sd3, &ck_class_gnoise, &ck_class_gdrop,
          &ck_class_adrop, &ck_class_areg);
