/* Regularization layers that are the identity at inference: SpatialDropout1D/2D/3D,
 * GaussianNoise, GaussianDropout, AlphaDropout and ActivityRegularization. No
 * weights; rates are checked to lie in [0, 1). In training each draws its noise
 * from the engine's seeded RNG (Keras's draws cannot be reproduced bit for bit)
 * and keeps the per-element multiplier in the workspace, so backward is
 * dx += multiplier * dy. ActivityRegularization passes values and gradients
 * through; compile() registers its l1/l2 as an activity regularizer of its
 * output (train/regularizers.c), so fit adds its penalty and gradient. */
#include "layers/conv_exec.h"
#include "layers/conv_layers.h"
#include "layers/layers.h"

#include "layers/engine_util.h"

#include <math.h>
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

/* Per row: the multiplier of every element. */
static int64_t noise_workspace(const ck_layer *l)
{
    int64_t n;
    if (ck_shape_size_from(&l->out_shapes[0], 1, &n) || n == CK_NONE) return 0;
    return n;
}

/* Is the layer active in this pass (training, nonzero rate or stddev)? */
static bool active(const ck_layer *l, const ck_run *ex)
{
    const ck_noise_config *c = CK_CFG(l, ck_noise_config);
    const char *n = l->cls->class_name;
    if (!ex || !ex->training || !strcmp(n, "ActivityRegularization")) return false;
    return !strcmp(n, "GaussianNoise") ? c->stddev > 0 : c->rate > 0;
}

/* SpatialDropout: one keep/drop draw per (sample, channel), scaled by 1/(1-rate). */
static void spatial_mask(const ck_noise_config *c, const ck_tensor *x, float *mask, ck_rng *rng)
{
    int r = x->shape.rank;
    int64_t ch = x->shape.dim[r - 1], per = ck_row_size(x) / ch;
    float keep = (float)(1.0 / (1.0 - c->rate));
    for (int64_t b = 0; b < x->shape.dim[0]; b++)
        for (int64_t k = 0; k < ch; k++) {
            float m = ck_rng_uniform(rng) >= c->rate ? keep : 0.0f;
            for (int64_t p = 0; p < per; p++) mask[(b * per + p) * ch + k] = m;
        }
}

/* AlphaDropout's constants (Keras: keep the SELU mean and variance). */
static void alpha_consts(double rate, float *a, float *b, float *alpha_p)
{
    double alpha = 1.6732632423543772848170429916717, scale = 1.0507009873554804934193349852946;
    double ap = -alpha * scale, av = pow((1 - rate) * (1 + rate * ap * ap), -0.5);
    *a = (float)av, *b = (float)(-av * ap * rate), *alpha_p = (float)ap;
}

/* AlphaDropout draws over noise_shape (None = the input's dim) and broadcasts. */
static void alpha_mask(const ck_noise_config *c, const ck_tensor *x, float *mask, ck_run *ex)
{
    int r = x->shape.rank;
    int64_t nd[CK_MAX_RANK] = {0}, st[CK_MAX_RANK] = {0}, n_noise = 1, n = ck_numel(x);
    for (int a = 0; a < r; a++) {
        int64_t d = c->noise_shape.rank == r ? c->noise_shape.dim[a] : CK_NONE;
        nd[a] = d == CK_NONE || d < 1 ? x->shape.dim[a] : d;
        n_noise *= nd[a];
    }
    float a, b, ap;
    alpha_consts(c->rate, &a, &b, &ap);
    ck_bcast_strides(nd, r, x->shape.dim, r, st);
    float *draw = mask + n; /* second half of the workspace holds the draws */
    for (int64_t i = 0; i < n_noise; i++) draw[i] = ck_rng_uniform(&ex->rng) >= c->rate ? a : 0.0f;
    for (int64_t j = 0; j < n; j++) mask[j] = draw[n_noise == n ? j : ck_bcast_offset(j, x->shape.dim, r, st)];
}

static ck_status noise_forward(CK_FWD_ARGS)
{
    if (!active(l, ex)) return identity_forward(l, in, n_in, out, n_out, ex);
    const ck_noise_config *c = CK_CFG(l, ck_noise_config);
    const char *name = l->cls->class_name;
    const ck_tensor *x = &in[0];
    int64_t n = ck_numel(x);
    float *mask = ex->workspace;
    if (!strcmp(name, "GaussianNoise")) {
        for (int64_t j = 0; j < n; j++) out[0].data[j] = x->data[j] + (float)(c->stddev * ck_rng_normal(&ex->rng));
        return CK_OK;
    }
    if (!mask) return ck_layer_error(l, CK_ERR_SHAPE, "the engine needs every input dimension known");
    ck_status st = ck_runs_channels_last(l, ex, c->data_format);
    if (st) return st;
    if (!strncmp(name, "SpatialDropout", 14)) {
        spatial_mask(c, x, mask, &ex->rng);
    } else if (!strcmp(name, "GaussianDropout")) {
        double sd = sqrt(c->rate / (1.0 - c->rate));
        for (int64_t j = 0; j < n; j++) mask[j] = (float)(1.0 + sd * ck_rng_normal(&ex->rng));
    } else { /* AlphaDropout: kept -> a x + b, dropped -> a alpha_p + b */
        alpha_mask(c, x, mask, ex);
        float a, b, ap;
        alpha_consts(c->rate, &a, &b, &ap);
        for (int64_t j = 0; j < n; j++) out[0].data[j] = mask[j] != 0.0f ? a * x->data[j] + b : a * ap + b;
        return CK_OK;
    }
    for (int64_t j = 0; j < n; j++) out[0].data[j] = x->data[j] * mask[j];
    return CK_OK;
}

static ck_status noise_backward(CK_BWD_ARGS)
{
    (void)n_in, (void)n_out, (void)out;
    if (!din[0].data) return CK_OK;
    int64_t n = ck_numel(&in[0]);
    bool scaled = active(l, ex) && strcmp(l->cls->class_name, "GaussianNoise");
    for (int64_t j = 0; j < n; j++) din[0].data[j] += scaled ? dout[0].data[j] * ex->workspace[j] : dout[0].data[j];
    return CK_OK;
}

/* AlphaDropout keeps its draws after the mask. */
static int64_t alpha_workspace(const ck_layer *l) { return 2 * noise_workspace(l); }

#define NZ_HOOKS(ws)                                                                              \
    CK_ONE_INPUT, .build = noise_build, .forward = noise_forward, .backward = noise_backward, .workspace = ws, \
        .keras.no_build_config = true, .channels_first = ck_channels_first_rank, .mask = ck_mask_pass

/* Keras writes SpatialDropout's config by hand: no trainable, dtype a string. */
CK_CLASS(ck_class_sd1, "SpatialDropout1D", CK_CONFIG(ck_noise_config, sd1_fields), NZ_HOOKS(noise_workspace),
         .keras.bare_config = true);
CK_CLASS(ck_class_sd2, "SpatialDropout2D", CK_CONFIG(ck_noise_config, sdn_fields), NZ_HOOKS(noise_workspace),
         .keras.bare_config = true);
CK_CLASS(ck_class_sd3, "SpatialDropout3D", CK_CONFIG(ck_noise_config, sdn_fields), NZ_HOOKS(noise_workspace),
         .keras.bare_config = true);
CK_CLASS(ck_class_gnoise, "GaussianNoise", CK_CONFIG(ck_noise_config, gnoise_fields), NZ_HOOKS(NULL));
CK_CLASS(ck_class_gdrop, "GaussianDropout", CK_CONFIG(ck_noise_config, gdrop_fields),
         NZ_HOOKS(noise_workspace));
CK_CLASS(ck_class_adrop, "AlphaDropout", CK_CONFIG(ck_noise_config, adrop_fields), NZ_HOOKS(alpha_workspace));
CK_CLASS(ck_class_areg, "ActivityRegularization", CK_CONFIG(ck_noise_config, areg_fields), NZ_HOOKS(NULL));

CK_FAMILY(ck_noise_layers, &ck_class_sd1, &ck_class_sd2, &ck_class_sd3, &ck_class_gnoise, &ck_class_gdrop,
          &ck_class_adrop, &ck_class_areg);
