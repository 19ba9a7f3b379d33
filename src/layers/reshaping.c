/* Spatial reshaping layers without weights: ZeroPadding1D/2D/3D, Cropping1D/2D/3D
 * and UpSampling1D/2D/3D. Padding and cropping accept Keras's int / tuple / tuple
 * of pairs spellings (kept as raw JSON for the round trip). Cropping everything
 * away is an error naming the field. */
#include "layers/conv_exec.h"
#include "layers/conv_layers.h"
#include "layers/layers.h"
#include "engine/run.h"
#include "kernels/resize.h"

#include <string.h>

#define RF(member, type, def, ...) CK_FIELD(ck_resize_config, member, type, def, __VA_ARGS__)
static const char *const formats[] = {"channels_last", "channels_first", NULL};
static const char *const interps[] = {"nearest", "bilinear", "bicubic", "lanczos3", "lanczos5", NULL};
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
    ck_status st = ck_spatial_of(l, &in[0], r, c->data_format, &sp);
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
    ck_status st = ck_spatial_of(l, &in[0], r, c->data_format, &sp);
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

/* ---- forward: each output position copies one input position or writes zeros ---- */
typedef enum { OP_PAD, OP_CROP, OP_UP } resize_op;

/* Input index along spatial axis i for output index o; -1 for padding. */
static int64_t source(resize_op op, const int64_t p[2], int64_t size, int64_t in, int64_t o)
{
    if (op == OP_UP) return o / size;
    int64_t i = op == OP_PAD ? o - p[0] : o + p[0];
    return i >= 0 && i < in ? i : -1;
}

/* Forward copies each output position from its source (or writes zeros);
 * backward (`back`) adds each output gradient onto its source, the adjoint. */
static ck_status resize_run(ck_layer *l, const ck_tensor *x, float *xgrad, ck_tensor *y, const float *ygrad,
                            resize_op op, bool back, const ck_run *ex)
{
    const ck_resize_config *c = CK_CFG(l, ck_resize_config);
    int r = rank_of(l);
    int64_t p[3][2] = {{0}};
    ck_status st = ck_runs_channels_last(l, ex, c->data_format);
    if (!st) st = op == OP_UP ? CK_OK
                               : ck_parse_pairs(l, op == OP_CROP ? "cropping" : "padding",
                                                op == OP_CROP ? c->cropping : c->padding, r, p);
    if (st) return st;
    int64_t in3[3] = {1, 1, 1}, out3[3] = {1, 1, 1}, pp[3][2] = {{0}}, sz[3] = {1, 1, 1};
    for (int i = 0; i < r; i++) {
        in3[3 - r + i] = x->shape.dim[1 + i], out3[3 - r + i] = y->shape.dim[1 + i];
        pp[3 - r + i][0] = p[i][0], pp[3 - r + i][1] = p[i][1];
        sz[3 - r + i] = op == OP_UP ? c->size.v[i] : 1;
    }
    int64_t ch = x->shape.dim[r + 1], nin = in3[0] * in3[1] * in3[2], nout = out3[0] * out3[1] * out3[2];
    for (int64_t b = 0; b < x->shape.dim[0]; b++) {
        const float *xb = x->data + b * nin * ch;
        float *yb = y->data + b * nout * ch;
        for (int64_t o0 = 0; o0 < out3[0]; o0++)
            for (int64_t o1 = 0; o1 < out3[1]; o1++)
                for (int64_t o2 = 0; o2 < out3[2]; o2++) {
                    int64_t i0 = source(op, pp[0], sz[0], in3[0], o0), i1 = source(op, pp[1], sz[1], in3[1], o1);
                    int64_t i2 = source(op, pp[2], sz[2], in3[2], o2);
                    int64_t at = ((o0 * out3[1] + o1) * out3[2] + o2) * ch;
                    int64_t from = ((i0 * in3[1] + i1) * in3[2] + i2) * ch;
                    if (back) {
                        if (i0 < 0 || i1 < 0 || i2 < 0) continue; /* padding: no source */
                        float *dx = xgrad + b * nin * ch + from;
                        const float *dy = ygrad + b * nout * ch + at;
                        for (int64_t k = 0; k < ch; k++) dx[k] += dy[k];
                        continue;
                    }
                    float *dst = yb + at;
                    if (i0 < 0 || i1 < 0 || i2 < 0) memset(dst, 0, (size_t)ch * sizeof *dst);
                    else memcpy(dst, xb + from, (size_t)ch * sizeof *dst);
                }
    }
    return CK_OK;
}
static ck_status resize_forward(CK_FWD_ARGS, resize_op op)
{
    (void)n_in, (void)n_out;
    return resize_run(l, &in[0], NULL, &out[0], NULL, op, false, ex);
}
static ck_status resize_backward(CK_BWD_ARGS, resize_op op)
{
    (void)n_in, (void)n_out;
    if (!din[0].data) return CK_OK;
    ck_tensor y = out[0]; /* only its shape is read going backward */
    return resize_run(l, &in[0], din[0].data, &y, dout[0].data, op, true, ex);
}
static ck_status pad_forward(CK_FWD_ARGS) { return resize_forward(l, in, n_in, out, n_out, ex, OP_PAD); }
static ck_status crop_forward(CK_FWD_ARGS) { return resize_forward(l, in, n_in, out, n_out, ex, OP_CROP); }
static ck_status pad_backward(CK_BWD_ARGS) { return resize_backward(l, in, n_in, out, dout, n_out, din, ex, OP_PAD); }
static ck_status crop_backward(CK_BWD_ARGS) { return resize_backward(l, in, n_in, out, dout, n_out, din, ex, OP_CROP); }

/* Linear taps of output index o: half-pixel centres, edges clamped (what
 * jax.image.resize's renormalised triangle kernel gives when upsampling). */
static void taps(int64_t o, int64_t in, int64_t size, int64_t *a, int64_t *b, float *t)
{
    double src = ((double)o + 0.5) / (double)size - 0.5;
    if (src < 0) src = 0;
    if (src > (double)(in - 1)) src = (double)(in - 1);
    *a = (int64_t)src;
    *b = *a + 1 < in ? *a + 1 : *a;
    *t = (float)(src - (double)*a);
}

static ck_status bilinear_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out, (void)ex;
    const ck_resize_config *c = CK_CFG(l, ck_resize_config);
    const ck_shape *s = &in[0].shape;
    int64_t h = s->dim[1], w = s->dim[2], ch = s->dim[3], oh = h * c->size.v[0], ow = w * c->size.v[1];
    for (int64_t b = 0; b < s->dim[0]; b++)
        for (int64_t y = 0; y < oh; y++) {
            int64_t y0, y1, x0, x1;
            float ty, tx;
            taps(y, h, c->size.v[0], &y0, &y1, &ty);
            for (int64_t x = 0; x < ow; x++) {
                taps(x, w, c->size.v[1], &x0, &x1, &tx);
                const float *base = in[0].data + b * h * w * ch;
                float *dst = out[0].data + ((b * oh + y) * ow + x) * ch;
                for (int64_t k = 0; k < ch; k++) {
                    float top = base[(y0 * w + x0) * ch + k] * (1 - tx) + base[(y0 * w + x1) * ch + k] * tx;
                    float bot = base[(y1 * w + x0) * ch + k] * (1 - tx) + base[(y1 * w + x1) * ch + k] * tx;
                    dst[k] = top * (1 - ty) + bot * ty;
                }
            }
        }
    return CK_OK;
}

/* UpSampling2D's other interpolations go through jax.image.resize's kernels,
 * forward and (for training) their transpose. The weights and the half-resampled
 * image are the engine's scratch for this layer (ck_exec_scratch): one image's worth, allocated once. */
static ck_status kernel_up_run(ck_layer *l, const ck_tensor *x, float *y, const float *dy, float *dx,
                               ck_run *ex)
{
    const ck_resize_config *c = CK_CFG(l, ck_resize_config);
    ck_resize_method m;
    ck_status st = ck_runs_channels_last(l, ex, c->data_format);
    if (st) return st;
    if (!ck_resize_method_of(c->interpolation, &m))
        return ck_layer_error(l, CK_ERR_UNSUPPORTED, "field 'interpolation' '%s' cannot be run", c->interpolation);
    const ck_shape *s = &x->shape;
    int64_t h = s->dim[1], w = s->dim[2], ch = s->dim[3], oh = h * c->size.v[0], ow = w * c->size.v[1];
    float *buf = ck_exec_scratch(ex, l, oh * h + ow * w + oh * w * ch);
    if (!buf) return ck_layer_error(l, CK_ERR_NOMEM, "out of memory for the resize buffers");
    float *wh = buf, *ww = wh + oh * h, *tmp = ww + ow * w;
    ck_resize_weights(h, oh, m, false, wh);
    ck_resize_weights(w, ow, m, false, ww);
    const float *wh_used = oh == h ? NULL : wh, *ww_used = ow == w ? NULL : ww;
    for (int64_t b = 0; b < s->dim[0]; b++) {
        if (y) ck_resize_image(x->data + b * h * w * ch, h, w, ch, y + b * oh * ow * ch, oh, ow, wh_used, ww_used, tmp);
        if (dx) ck_resize_image_backward(dy + b * oh * ow * ch, h, w, ch, dx + b * h * w * ch, oh, ow, wh_used, ww_used, tmp);
    }
    return CK_OK;
}

static ck_status up_forward(CK_FWD_ARGS)
{
    const ck_resize_config *c = CK_CFG(l, ck_resize_config);
    if (rank_of(l) == 2 && !strcmp(c->interpolation, "bilinear")) {
        ck_status st = ck_runs_channels_last(l, ex, c->data_format);
        return st ? st : bilinear_forward(l, in, n_in, out, n_out, ex);
    }
    if (rank_of(l) == 2 && strcmp(c->interpolation, "nearest")) return kernel_up_run(l, &in[0], out[0].data, NULL, NULL, ex);
    return resize_forward(l, in, n_in, out, n_out, ex, OP_UP);
}

/* The adjoint of bilinear_forward: each output's gradient goes to its four
 * taps with the same weights. */
static void bilinear_backward(const ck_layer *l, const ck_tensor *x, float *dx, const float *dy)
{
    const ck_resize_config *c = CK_CFG(l, ck_resize_config);
    const ck_shape *s = &x->shape;
    int64_t h = s->dim[1], w = s->dim[2], ch = s->dim[3], oh = h * c->size.v[0], ow = w * c->size.v[1];
    for (int64_t b = 0; b < s->dim[0]; b++)
        for (int64_t yy = 0; yy < oh; yy++) {
            int64_t y0, y1, x0, x1;
            float ty, tx;
            taps(yy, h, c->size.v[0], &y0, &y1, &ty);
            for (int64_t xx = 0; xx < ow; xx++) {
                taps(xx, w, c->size.v[1], &x0, &x1, &tx);
                const float *d = dy + ((b * oh + yy) * ow + xx) * ch;
                float *base = dx + b * h * w * ch;
                float *p00 = base + (y0 * w + x0) * ch, *p01 = base + (y0 * w + x1) * ch;
                float *p10 = base + (y1 * w + x0) * ch, *p11 = base + (y1 * w + x1) * ch;
                float w00 = (1 - tx) * (1 - ty), w01 = tx * (1 - ty), w10 = (1 - tx) * ty, w11 = tx * ty;
                for (int64_t k = 0; k < ch; k++)
                    p00[k] += d[k] * w00, p01[k] += d[k] * w01, p10[k] += d[k] * w10, p11[k] += d[k] * w11;
            }
        }
}

static ck_status up_backward(CK_BWD_ARGS)
{
    const ck_resize_config *c = CK_CFG(l, ck_resize_config);
    if (rank_of(l) != 2 || !strcmp(c->interpolation, "nearest"))
        return resize_backward(l, in, n_in, out, dout, n_out, din, ex, OP_UP);
    if (!din[0].data) return CK_OK;
    if (strcmp(c->interpolation, "bilinear")) return kernel_up_run(l, &in[0], NULL, dout[0].data, din[0].data, ex);
    bilinear_backward(l, &in[0], din[0].data, dout[0].data);
    return CK_OK;
}

#define RS_HOOKS(build_, kind)                                                                       \
    CK_ONE_INPUT, .build = build_, .forward = kind##_forward, .backward = kind##_backward,          \
        .channels_first = ck_channels_first_rank

CK_CLASS(ck_class_zp1, "ZeroPadding1D", CK_CONFIG(ck_resize_config, zp1_fields), RS_HOOKS(pad_build, pad));
CK_CLASS(ck_class_zp2, "ZeroPadding2D", CK_CONFIG(ck_resize_config, zp2_fields), RS_HOOKS(pad_build, pad));
CK_CLASS(ck_class_zp3, "ZeroPadding3D", CK_CONFIG(ck_resize_config, zp3_fields), RS_HOOKS(pad_build, pad));
CK_CLASS(ck_class_cr1, "Cropping1D", CK_CONFIG(ck_resize_config, cr1_fields), RS_HOOKS(crop_build, crop));
CK_CLASS(ck_class_cr2, "Cropping2D", CK_CONFIG(ck_resize_config, cr2_fields), RS_HOOKS(crop_build, crop));
CK_CLASS(ck_class_cr3, "Cropping3D", CK_CONFIG(ck_resize_config, cr3_fields), RS_HOOKS(crop_build, crop));
CK_CLASS(ck_class_up1, "UpSampling1D", CK_CONFIG(ck_resize_config, up1_fields), RS_HOOKS(up_build, up));
CK_CLASS(ck_class_up2, "UpSampling2D", CK_CONFIG(ck_resize_config, up2_fields), RS_HOOKS(up_build, up));
CK_CLASS(ck_class_up3, "UpSampling3D", CK_CONFIG(ck_resize_config, up3_fields), RS_HOOKS(up_build, up));

CK_FAMILY(ck_reshaping_layers, &ck_class_zp1, &ck_class_zp2, &ck_class_zp3, &ck_class_cr1, &ck_class_cr2,
          &ck_class_cr3, &ck_class_up1, &ck_class_up2, &ck_class_up3);
