/* Spatial reshaping layers without weights: ZeroPadding1D/2D/3D, Cropping1D/2D/3D
 * and UpSampling1D/2D/3D. Padding and cropping accept Keras's int / tuple / tuple
 * of pairs spellings (kept as raw JSON for the round trip). Cropping everything
 * away is an error naming the field. */
#include "layers/conv_layers.h"
#include "layers/layers.h"

#include <string.h>

#define RF(member, type, def, ...) CK_FIELD(ck_resize_config, member, type, def, __VA_ARGS__)
static const char *const formats[] = {"channels_last", "channels_first", NULL};
static const char *const interps[] = {"nearest", "bilinear", NULL};
#define FORMAT RF(data_format, CK_FT_STR, "\"channels_last\"", 0, 0, formats)

static const ck_field zp1_fields[] = {RF(padding, CK_FT_JSON, "[1, 1]"), FORMAT};
static const ck_field zp2_fields[] = {RF(padding, CK_FT_JSON, "[[1, 1], [1, 1]]"), FORMAT};
static const ck_field zp3_fields[] = {RF(padding, CK_FT_JSON, "[[1, 1], [1, 1], [1, 1]]"), FORMAT};
static const ck_field cr1_fields[] = {RF(cropping, CK_FT_JSON, "[1, 1]")};
static const ck_field cr2_fields[] = {RF(cropping, CK_FT_JSON, "[[0, 0], [0, 0]]"), FORMAT};
static const ck_field cr3_fields[] = {RF(cropping, CK_FT_JSON, "[[1, 1], [1, 1], [1, 1]]"), FORMAT};
static const ck_field up1_fields[] = {RF(size, CK_FT_INTS, "2", 1, CK_FF_SERIALIZE_INT)};
static const ck_field up2_fields[] = {RF(size, CK_FT_INTS, "2", 2), FORMAT,
                                      RF(interpolation, CK_FT_STR, "\"nearest\"", 0, 0, interps)};
static const ck_field up3_fields[] = {RF(size, CK_FT_INTS, "2", 3), FORMAT};

static int rank_of(const ck_layer *l) { return l->cls->class_name[strlen(l->cls->class_name) - 2] - '0'; }

static ck_status pad_crop_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out, bool crop)
{
    (void)n_in;
    ck_resize_config *c = CK_CFG(l, ck_resize_config);
    int r = rank_of(l);
    ck_spatial sp;
    int64_t p[3][2];
    ck_status st = ck_spatial_of(l, &in[0], r, r == 1 ? "channels_last" : c->data_format, &sp);
    if (!st) st = ck_parse_pairs(l, crop ? "cropping" : "padding", crop ? c->cropping : c->padding, r, p);
    if (st) return st;
    out[0] = in[0];
    for (int i = 0; i < r; i++) {
        int64_t d = in[0].dim[sp.first + i];
        if (d == CK_NONE) continue;
        d = crop ? d - p[i][0] - p[i][1] : d + p[i][0] + p[i][1];
        if (d <= 0)
            return ck_layer_error(l, CK_ERR_SHAPE, "field 'cropping' removes all %lld elements of spatial axis %d",
                                  (long long)in[0].dim[sp.first + i], i);
        out[0].dim[sp.first + i] = d;
    }
    *n_out = 1;
    return CK_OK;
}
static ck_status pad_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    return pad_crop_build(l, in, n_in, out, n_out, false);
}
static ck_status crop_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    return pad_crop_build(l, in, n_in, out, n_out, true);
}

static ck_status up_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)n_in;
    ck_resize_config *c = CK_CFG(l, ck_resize_config);
    int r = rank_of(l);
    ck_spatial sp;
    ck_status st = ck_spatial_of(l, &in[0], r, r == 1 ? "channels_last" : c->data_format, &sp);
    if (st) return st;
    out[0] = in[0];
    for (int i = 0; i < r; i++) {
        if (c->size.v[i] <= 0)
            return ck_layer_error(l, CK_ERR_CONFIG, "field 'size' must be positive, got %lld", (long long)c->size.v[i]);
        int64_t d = in[0].dim[sp.first + i];
        if (d != CK_NONE && !ck_mul_ok(d, c->size.v[i], &out[0].dim[sp.first + i]))
            return ck_layer_error(l, CK_ERR_OVERFLOW, "field 'size' makes the output too large");
    }
    *n_out = 1;
    return CK_OK;
}

#define N_OF(a) ((int)(sizeof a / sizeof a[0]))
#define RS_CLASS(var, name, fields_, build_)                                                    \
    const ck_layer_class var = {                                                                \
        .class_name = name, .module = "keras.layers", .config_size = sizeof(ck_resize_config),  \
        .fields = fields_, .n_fields = N_OF(fields_), .min_inputs = 1, .max_inputs = 1,         \
        .build = build_}

RS_CLASS(ck_class_zp1, "ZeroPadding1D", zp1_fields, pad_build);
RS_CLASS(ck_class_zp2, "ZeroPadding2D", zp2_fields, pad_build);
RS_CLASS(ck_class_zp3, "ZeroPadding3D", zp3_fields, pad_build);
RS_CLASS(ck_class_cr1, "Cropping1D", cr1_fields, crop_build);
RS_CLASS(ck_class_cr2, "Cropping2D", cr2_fields, crop_build);
RS_CLASS(ck_class_cr3, "Cropping3D", cr3_fields, crop_build);
RS_CLASS(ck_class_up1, "UpSampling1D", up1_fields, up_build);
RS_CLASS(ck_class_up2, "UpSampling2D", up2_fields, up_build);
RS_CLASS(ck_class_up3, "UpSampling3D", up3_fields, up_build);

CK_FAMILY(ck_reshaping_layers, &ck_class_zp1, &ck_class_zp2, &ck_class_zp3, &ck_class_cr1, &ck_class_cr2,
          &ck_class_cr3, &ck_class_up1, &ck_class_up2, &ck_class_up3);
