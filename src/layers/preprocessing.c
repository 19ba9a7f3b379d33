/* Preprocessing layers that appear inside models: Rescaling (scale and offset, a
 * number or one per channel), Normalization (mean, variance and an int32 count as
 * non-trainable weights unless mean/variance are given in the config), CenterCrop
 * and Resizing (to height x width). */
#include "layers/conv_exec.h"
#include "layers/conv_layers.h"
#include "layers/layers.h"

#include <math.h>
#include <string.h>

#define QF(member, type, def, ...) CK_FIELD(ck_prep_config, member, type, def, __VA_ARGS__)
static const char *const formats[] = {"channels_last", "channels_first", NULL};
static const char *const interps[] = {"bilinear", "nearest", "bicubic", "lanczos3", "lanczos5", "area", NULL};

static const ck_field resc_fields[] = {QF(scale, CK_FT_JSON, NULL, 0, CK_FF_REQUIRED), QF(offset, CK_FT_JSON, "0.0")};
static const ck_field norm_fields[] = {
    QF(axis, CK_FT_INTS, "[-1]", 0, CK_FF_NULLABLE), QF(invert, CK_FT_BOOL, "false"),
    QF(mean, CK_FT_JSON, "null", 0, CK_FF_NULLABLE), QF(variance, CK_FT_JSON, "null", 0, CK_FF_NULLABLE),
};
#define HW QF(data_format, CK_FT_STR, "\"channels_last\"", 0, 0, formats), \
    QF(height, CK_FT_INT, NULL, 0, CK_FF_REQUIRED), QF(width, CK_FT_INT, NULL, 0, CK_FF_REQUIRED)
static const ck_field crop_fields[] = {HW};
static const ck_field resize_fields[] = {
    HW, QF(interpolation, CK_FT_STR, "\"bilinear\"", 0, 0, interps), QF(crop_to_aspect_ratio, CK_FT_BOOL, "false"),
    QF(pad_to_aspect_ratio, CK_FT_BOOL, "false"), QF(fill_mode, CK_FT_STR, "\"constant\""),
    QF(fill_value, CK_FT_FLOAT, "0.0"), QF(antialias, CK_FT_BOOL, "false"),
};

static ck_status resc_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)n_in;
    const ck_prep_config *c = CK_CFG(l, ck_prep_config);
    double v[CK_MAX_RANK * 64];
    int n;
    ck_status st = ck_parse_floats(l, "scale", c->scale, v, (int)(sizeof v / sizeof v[0]), &n);
    if (!st) st = ck_parse_floats(l, "offset", c->offset, v, (int)(sizeof v / sizeof v[0]), &n);
    out[0] = in[0];
    *n_out = 1;
    return st;
}

static ck_status norm_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)n_in;
    const ck_prep_config *c = CK_CFG(l, ck_prep_config);
    if (!c->mean != !c->variance)
        return ck_layer_error(l, CK_ERR_CONFIG, "fields 'mean' and 'variance' must be given together");
    bool keep[CK_MAX_RANK] = {0};
    for (int i = 0; !c->axis.is_null && i < c->axis.n; i++) {
        int ax;
        if (!ck_normalize_axis(c->axis.v[i], in[0].rank, &ax) || ax == 0)
            return ck_layer_error(l, CK_ERR_CONFIG, "field 'axis' (%lld) is out of range for rank %d",
                                  (long long)c->axis.v[i], in[0].rank);
        keep[ax] = true;
    }
    ck_shape ws = {.rank = 0};
    for (int d = 1; d < in[0].rank; d++) {
        if (!keep[d]) continue;
        if (in[0].dim[d] == CK_NONE)
            return ck_layer_error(l, CK_ERR_SHAPE, "the input dimension on field 'axis' %d must be known", d);
        ws.dim[ws.rank++] = in[0].dim[d];
    }
    out[0] = in[0];
    *n_out = 1;
    if (c->mean) return CK_OK; /* given statistics are constants, not weights */
    ck_init zeros = {.kind = CK_INIT_ZEROS}, ones = {.kind = CK_INIT_ONES};
    ck_status st = ck_layer_add_weight(l, "mean", ws, &zeros, false, CK_FLOAT32);
    if (!st) st = ck_layer_add_weight(l, "variance", ws, &ones, false, CK_FLOAT32);
    /* Keras's dtype="int" is int32 under JAX's default (x64 disabled). */
    if (!st) st = ck_layer_add_weight(l, "count", (ck_shape){.rank = 0}, &zeros, false, CK_INT32);
    return st;
}

static ck_status hw_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)n_in;
    const ck_prep_config *c = CK_CFG(l, ck_prep_config);
    if (c->height <= 0 || c->width <= 0)
        return ck_layer_error(l, CK_ERR_CONFIG, "fields 'height' and 'width' must be positive");
    if (in[0].rank != 4 && in[0].rank != 3)
        return ck_layer_error(l, CK_ERR_SHAPE, "expected an image batch of rank 4, got rank %d", in[0].rank);
    bool first = !strcmp(c->data_format, "channels_first");
    int h = in[0].rank - (first ? 2 : 3);
    out[0] = in[0];
    out[0].dim[h] = c->height;
    out[0].dim[h + 1] = c->width;
    *n_out = 1;
    return CK_OK;
}

#define N_OF(a) ((int)(sizeof a / sizeof a[0]))
#define PREP_CLASS(var, name, fields_, build_)                                                  \
    const ck_layer_class var = {                                                                \
        .class_name = name, .module = "keras.layers", .config_size = sizeof(ck_prep_config),    \
        .fields = fields_, .n_fields = N_OF(fields_), .min_inputs = 1, .max_inputs = 1,         \
        .build = build_}

PREP_CLASS(ck_class_rescaling, "Rescaling", resc_fields, resc_build);
PREP_CLASS(ck_class_normalization, "Normalization", norm_fields, norm_build);
PREP_CLASS(ck_class_center_crop, "CenterCrop", crop_fields, hw_build);
PREP_CLASS(ck_class_resizing, "Resizing", resize_fields, hw_build);

CK_FAMILY(ck_preprocessing_layers, &ck_class_rescaling, &ck_class_normalization, &ck_class_center_crop,
          &ck_class_resizing);
