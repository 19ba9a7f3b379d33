/* Preprocessing layers that appear inside models: Rescaling (scale and offset, a
 * number or one per channel), Normalization (mean, variance and an int32 count as
 * non-trainable weights unless mean/variance are given in the config), CenterCrop
 * and Resizing (to height x width). Forwards follow Keras 3 on the JAX backend:
 * Resizing crops or pads to the aspect ratio first when asked, then resamples as
 * jax.image.resize does; CenterCrop of an image smaller than the target takes
 * Keras's smart_resize path (crop to the aspect ratio, bilinear resize).
 * Constants parsed from the config (scale, offset, given mean/variance) are kept
 * in the layer's state at build so that forward parses nothing. */
#include "kernels/resize.h"
#include "layers/conv_exec.h"
#include "layers/conv_layers.h"
#include "layers/engine_util.h"
#include "layers/layers.h"

#include <jansson.h>
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

/* Numbers parsed from the config at build: Rescaling's scale (a) and offset (b),
 * Normalization's given mean (a) and variance (b). One value, or one per element
 * of the broadcast axes, flattened row-major from a (possibly nested) list. */
typedef struct prep_consts {
    int64_t na, nb;
    float *a, *b;      /* [na], [nb], in the same allocation after the struct */
} prep_consts;

bool ck_prep_constants(const ck_layer *l, const float **a, int64_t *na, const float **b, int64_t *nb)
{
    const prep_consts *k = l->state;
    if (!k) return false;
    *a = k->a, *na = k->na, *b = k->b, *nb = k->nb;
    return true;
}

/* A numpy array saved by Keras: {"class_name": "__numpy__", "config": {"value": [...]}}. */
static const json_t *numpy_value(const json_t *v)
{
    const json_t *c = json_object_get(v, "class_name");
    if (!json_is_string(c) || strcmp(json_string_value(c), "__numpy__")) return v;
    return json_object_get(json_object_get(v, "config"), "value");
}

/* Numbers in a number or nested list of numbers; -1 if anything else is there. */
static int64_t count_numbers(const json_t *v, int depth)
{
    v = numpy_value(v);
    if (json_is_number(v)) return 1;
    if (!json_is_array(v) || depth > CK_MAX_RANK) return -1;
    int64_t n = 0;
    for (size_t i = 0; i < json_array_size(v); i++) {
        int64_t k = count_numbers(json_array_get(v, i), depth + 1);
        if (k < 0) return -1;
        n += k;
    }
    return n;
}

static void flatten_numbers(const json_t *v, float *out, int64_t *at)
{
    v = numpy_value(v);
    if (json_is_number(v)) {
        out[(*at)++] = (float)json_number_value(v);
        return;
    }
    for (size_t i = 0; i < json_array_size(v); i++) flatten_numbers(json_array_get(v, i), out, at);
}

static ck_status parse_consts(ck_layer *l, const char *fa, const char *ja, const char *fb, const char *jb)
{
    ck_free(l->state); /* a rebuild replaces what an earlier build parsed */
    l->state = NULL;
    json_t *va = ja ? json_loads(ja, JSON_DECODE_ANY, NULL) : NULL, *vb = jb ? json_loads(jb, JSON_DECODE_ANY, NULL) : NULL;
    int64_t na = count_numbers(va, 0), nb = count_numbers(vb, 0);
    ck_status st = CK_OK;
    if (na < 1 || nb < 1) {
        st = ck_layer_error(l, CK_ERR_CONFIG, "field '%s' must be a number or a list of numbers, got %s",
                            na < 1 ? fa : fb, (na < 1 ? ja : jb) ? (na < 1 ? ja : jb) : "None");
    } else {
        prep_consts *k = l->state = ck_malloc(sizeof *k + (size_t)(na + nb) * sizeof(float));
        if (!k) {
            st = ck_layer_error(l, CK_ERR_NOMEM, "out of memory");
        } else {
            *k = (prep_consts){.na = na, .nb = nb, .a = (float *)(k + 1), .b = (float *)(k + 1) + na};
            int64_t at = 0;
            flatten_numbers(va, k->a, &at);
            at = 0;
            flatten_numbers(vb, k->b, &at);
        }
    }
    json_decref(va);
    json_decref(vb);
    return st;
}

/* A list of numbers must have one value or `want` of them. */
static ck_status check_count(const ck_layer *l, const char *field, int64_t n, int64_t want, const char *what)
{
    if (n == 1 || n == want) return CK_OK;
    return ck_layer_error(l, CK_ERR_CONFIG, "field '%s' has %lld values; expected 1 or %lld (%s)", field,
                          (long long)n, (long long)want, what);
}

static ck_status resc_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)n_in;
    const ck_prep_config *c = CK_CFG(l, ck_prep_config);
    out[0] = in[0];
    *n_out = 1;
    ck_status st = parse_consts(l, "scale", c->scale, "offset", c->offset);
    if (st) return st;
    const prep_consts *k = l->state;
    int64_t ch = in[0].dim[in[0].rank - 1];
    if (k->na == 1 && k->nb == 1) return CK_OK;
    if (in[0].rank < 2 || ch == CK_NONE)
        return ck_layer_error(l, CK_ERR_SHAPE, "a per-channel 'scale' or 'offset' needs a known last dimension");
    st = check_count(l, "scale", k->na, ch, "the channels");
    return st ? st : check_count(l, "offset", k->nb, ch, "the channels");
}

/* y = x * scale + offset, scale and offset broadcast over the last axis. */
static ck_status resc_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out, (void)ex;
    const prep_consts *k = l->state;
    int64_t n = ck_numel(&in[0]), ch = in[0].shape.dim[in[0].shape.rank - 1];
    for (int64_t i = 0; i < n; i++) {
        int64_t j = ch > 0 ? i % ch : 0;
        out[0].data[i] = in[0].data[i] * k->a[k->na == 1 ? 0 : j] + k->b[k->nb == 1 ? 0 : j];
    }
    return CK_OK;
}

/* Rescaling's gradient: dx = dy * scale. */
static ck_status resc_backward(CK_BWD_ARGS)
{
    (void)n_in, (void)out, (void)n_out, (void)ex;
    if (!din[0].data) return CK_OK;
    const prep_consts *k = l->state;
    int64_t n = ck_numel(&in[0]), ch = in[0].shape.dim[in[0].shape.rank - 1];
    for (int64_t i = 0; i < n; i++) din[0].data[i] += dout[0].data[i] * k->a[k->na == 1 ? 0 : (ch > 0 ? i % ch : 0)];
    return CK_OK;
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
    if (c->mean) { /* given statistics are constants, not weights */
        int64_t want = 1;
        for (int d = 0; d < ws.rank; d++) want *= ws.dim[d];
        ck_status st = parse_consts(l, "mean", c->mean, "variance", c->variance);
        if (!st) st = check_count(l, "mean", ((prep_consts *)l->state)->na, want, "the kept axes");
        if (!st) st = check_count(l, "variance", ((prep_consts *)l->state)->nb, want, "the kept axes");
        return st;
    }
    ck_init zeros = {.kind = CK_INIT_ZEROS}, ones = {.kind = CK_INIT_ONES};
    ck_status st = ck_layer_add_weight(l, "mean", ws, &zeros, false, CK_FLOAT32);
    if (!st) st = ck_layer_add_weight(l, "variance", ws, &ones, false, CK_FLOAT32);
    /* Keras's dtype="int" is int32 under JAX's default (x64 disabled). */
    if (!st) st = ck_layer_add_weight(l, "count", (ck_shape){.rank = 0}, &zeros, false, CK_INT32);
    return st;
}

/* Odometer over one batch row: the index into the statistics (flattened over
 * the kept axes) of each element in row-major order. */
typedef struct stat_walk {
    int rank;                      /* axes 1..rank-1 of the input */
    int64_t dim[CK_MAX_RANK], pos[CK_MAX_RANK], stride[CK_MAX_RANK]; /* stride 0: not kept */
    int64_t index;
} stat_walk;

static void walk_init(stat_walk *w, const ck_shape *s, const bool *keep)
{
    *w = (stat_walk){.rank = s->rank};
    int64_t st = 1;
    for (int d = s->rank - 1; d >= 1; d--) {
        w->dim[d] = s->dim[d];
        w->stride[d] = keep[d] ? st : 0;
        if (keep[d]) st *= s->dim[d];
    }
}

static void walk_next(stat_walk *w)
{
    for (int d = w->rank - 1; d >= 1; d--) {
        w->index += w->stride[d];
        if (++w->pos[d] < w->dim[d]) return;
        w->index -= w->stride[d] * w->dim[d];
        w->pos[d] = 0;
    }
}

/* (x - mean) / max(sqrt(variance), 1e-7), or its inverse mean + x * max(...);
 * with `grad`, x is the output gradient and the linear part is applied (+=) to y. */
static void norm_apply(const ck_layer *l, const ck_tensor *in, const float *x, float *y, bool grad)
{
    const ck_prep_config *c = CK_CFG(l, ck_prep_config);
    const ck_shape *s = &in->shape;
    bool keep[CK_MAX_RANK] = {0};
    for (int i = 0; !c->axis.is_null && i < c->axis.n; i++) {
        int ax;
        if (ck_normalize_axis(c->axis.v[i], s->rank, &ax)) keep[ax] = true;
    }
    const prep_consts *k = c->mean ? l->state : NULL;
    const float *mean = k ? k->a : l->weights[0].value, *var = k ? k->b : l->weights[1].value;
    bool one_m = k && k->na == 1, one_v = k && k->nb == 1;
    const float eps = 1e-7f; /* keras.config.epsilon() */
    int64_t row = ck_row_size(in);
    for (int64_t b = 0; b < s->dim[0]; b++) {
        stat_walk w;
        walk_init(&w, s, keep);
        for (int64_t j = b * row; j < (b + 1) * row; j++, walk_next(&w)) {
            float m = mean[one_m ? 0 : w.index], sd = sqrtf(var[one_v ? 0 : w.index]);
            if (!(sd >= eps)) sd = sd != sd ? sd : eps; /* max(), keeping NaN as jnp does */
            if (grad) y[j] += c->invert ? x[j] * sd : x[j] / sd;
            else y[j] = c->invert ? m + x[j] * sd : (x[j] - m) / sd;
        }
    }
}

static ck_status norm_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out, (void)ex;
    norm_apply(l, &in[0], in[0].data, out[0].data, false);
    return CK_OK;
}

static ck_status norm_backward(CK_BWD_ARGS)
{
    (void)n_in, (void)out, (void)n_out, (void)ex;
    if (din[0].data) norm_apply(l, &in[0], dout[0].data, din[0].data, true);
    return CK_OK;
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

/* Resizing's options that Keras's JAX backend refuses, refused the same way. */
static ck_status resize_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    const ck_prep_config *c = CK_CFG(l, ck_prep_config);
    ck_resize_method m;
    if (!ck_resize_method_of(c->interpolation, &m))
        return ck_layer_error(l, CK_ERR_UNSUPPORTED,
                              "field 'interpolation' ('%s') is not one Keras's JAX backend can resize with "
                              "(bilinear, nearest, lanczos3, lanczos5, bicubic)", c->interpolation);
    if (strcmp(c->fill_mode, "constant"))
        return ck_layer_error(l, CK_ERR_CONFIG, "field 'fill_mode' ('%s') must be 'constant'", c->fill_mode);
    if (c->crop_to_aspect_ratio && c->pad_to_aspect_ratio)
        return ck_layer_error(l, CK_ERR_CONFIG,
                              "fields 'crop_to_aspect_ratio' and 'pad_to_aspect_ratio' cannot both be true");
    return hw_build(l, in, n_in, out, n_out);
}

/* Where the resampled image comes from inside one input image [h, w, c]: a crop
 * window, or the image between bands of fill_value (Keras pads one axis only). */
typedef struct src_box {
    int64_t h, w;           /* size of the image that gets resampled      */
    int64_t top, left;      /* crop: window origin; pad: band thickness   */
    bool pad;
} src_box;

/* Keras's crop_to_aspect_ratio window (also smart_resize's), in Python's float
 * arithmetic. */
static src_box crop_box(int64_t h, int64_t w, int64_t th, int64_t tw)
{
    int64_t ch = (int64_t)((double)(w * th) / (double)tw), cw = (int64_t)((double)(h * tw) / (double)th);
    ch = ch < h ? ch : h;
    cw = cw < w ? cw : w;
    ch = ch > 1 ? ch : 1;
    cw = cw > 1 ? cw : 1;
    return (src_box){.h = ch, .w = cw, .top = (int64_t)((double)(h - ch) / 2), .left = (int64_t)((double)(w - cw) / 2)};
}

static src_box pad_box(int64_t h, int64_t w, int64_t th, int64_t tw)
{
    int64_t ph = (int64_t)((double)(w * th) / (double)tw), pw = (int64_t)((double)(h * tw) / (double)th);
    ph = ph > h ? ph : h;
    pw = pw > w ? pw : w;
    int64_t top = (int64_t)((double)(ph - h) / 2), left = (int64_t)((double)(pw - w) / 2);
    if (top > 0) return (src_box){.h = h + 2 * top, .w = w, .top = top, .pad = true};
    if (left > 0) return (src_box){.h = h, .w = w + 2 * left, .left = left, .pad = true};
    return (src_box){.h = h, .w = w};
}

/* Copies the box of image x [h, w, c] into dst [box.h, box.w, c]. */
static void take_box(const float *x, int64_t w, int64_t c, const src_box *b, float fill, float *dst)
{
    for (int64_t r = 0; r < b->h; r++)
        for (int64_t q = 0; q < b->w; q++) {
            float *d = dst + (r * b->w + q) * c;
            int64_t sr = b->pad ? r - b->top : r + b->top, sq = b->pad ? q - b->left : q + b->left;
            bool band = b->pad && (sr < 0 || sr >= b->h - 2 * b->top || sq < 0 || sq >= b->w - 2 * b->left);
            if (band)
                for (int64_t k = 0; k < c; k++) d[k] = fill;
            else
                memcpy(d, x + (sr * w + sq) * c, (size_t)c * sizeof *d);
        }
}

/* Adds the box dbox [box.h, box.w, c] back into the image gradient dx [h, w, c]
 * (the fill bands of a padded box have no input behind them). */
static void put_box(float *dx, int64_t w, int64_t c, const src_box *b, const float *dbox)
{
    for (int64_t r = 0; r < b->h; r++)
        for (int64_t q = 0; q < b->w; q++) {
            int64_t sr = b->pad ? r - b->top : r + b->top, sq = b->pad ? q - b->left : q + b->left;
            if (b->pad && (sr < 0 || sr >= b->h - 2 * b->top || sq < 0 || sq >= b->w - 2 * b->left)) continue;
            float *d = dx + (sr * w + sq) * c;
            const float *g = dbox + (r * b->w + q) * c;
            for (int64_t k = 0; k < c; k++) d[k] += g[k];
        }
}

/* Resamples every image of in [n, h, w, c] to out [n, oh, ow, c] from `box`; with
 * dout/din given, runs the transpose instead: din += the resample's adjoint of dout.
 * The scratch (one image's box, the weights, a half-resampled image) does not grow
 * with the batch: it is the engine's for this layer (ck_exec_scratch), allocated once. */
static ck_status resample(ck_layer *l, ck_run *ex, const ck_tensor *in, const ck_tensor *out, const src_box *box,
                          ck_resize_method m, bool antialias, float fill, const float *dout, float *din)
{
    const ck_shape *s = &in->shape;
    int64_t h = s->dim[1], w = s->dim[2], c = s->dim[3], oh = out->shape.dim[1], ow = out->shape.dim[2];
    bool whole = !box->pad && box->h == h && box->w == w;
    size_t nbox = whole ? 0 : (size_t)(box->h * box->w * c);
    size_t nwh = box->h == oh ? 0 : (size_t)(oh * box->h), nww = box->w == ow ? 0 : (size_t)(ow * box->w);
    size_t ntmp = (size_t)((oh * box->w > box->h * ow ? oh * box->w : box->h * ow) * c);
    float *buf = ck_exec_scratch(ex, l, (int64_t)(nbox + nwh + nww + ntmp));
    if (!buf) return ck_layer_error(l, CK_ERR_NOMEM, "out of memory for the resize buffers");
    float *boxed = buf, *wh = buf + nbox, *ww = wh + nwh, *tmp = ww + nww;
    ck_half half = din ? CK_HALF_NONE : ck_half_of_dtype(l->dtype);
    if (m != CK_RESIZE_NEAREST) {
        if (nwh) ck_resize_weights(box->h, oh, m, antialias, wh);
        if (nww) ck_resize_weights(box->w, ow, m, antialias, ww);
        ck_round_half(half, wh, wh, (int64_t)(nwh + nww)); /* jax casts them to the image's dtype */
    }
    for (int64_t b = 0; b < s->dim[0]; b++) {
        if (din) {
            const float *dy = dout + b * oh * ow * c;
            float *dx = whole ? din + b * h * w * c : boxed;
            if (!whole) memset(boxed, 0, nbox * sizeof *boxed);
            if (m == CK_RESIZE_NEAREST) ck_resize_nearest_backward(dy, box->h, box->w, c, dx, oh, ow);
            else ck_resize_image_backward(dy, box->h, box->w, c, dx, oh, ow, nwh ? wh : NULL, nww ? ww : NULL, tmp);
            if (!whole) put_box(din + b * h * w * c, w, c, box, boxed);
            continue;
        }
        const float *x = in->data + b * h * w * c;
        if (!whole) take_box(x, w, c, box, fill, boxed), x = boxed;
        float *y = out->data + b * oh * ow * c;
        if (m == CK_RESIZE_NEAREST) ck_resize_nearest(x, box->h, box->w, c, y, oh, ow);
        else if (half)
            ck_resize_image_half(x, box->h, box->w, c, y, oh, ow, nwh ? wh : NULL, nww ? ww : NULL, tmp, half);
        else ck_resize_image(x, box->h, box->w, c, y, oh, ow, nwh ? wh : NULL, nww ? ww : NULL, tmp);
    }
    return CK_OK;
}

/* The batch as channels-last images: [n, h, w, c] as it is, or channels_first
 * [n, c, h, w] as n * c one-channel images [h, w, 1] (resampling never mixes
 * channels). `out` gets the same treatment. */
static ck_status image_view(const ck_layer *l, const ck_tensor *in, const ck_tensor *out, ck_tensor *vin,
                            ck_tensor *vout)
{
    const ck_prep_config *c = CK_CFG(l, ck_prep_config);
    if (in->shape.rank != 4)
        return ck_layer_error(l, CK_ERR_UNSUPPORTED, "only batches of images (rank 4) can be run, got rank %d",
                              in->shape.rank);
    *vin = *in, *vout = *out;
    if (strcmp(c->data_format, "channels_first")) return CK_OK;
    const int64_t *d = in->shape.dim, *o = out->shape.dim;
    vin->shape = (ck_shape){.rank = 4, .dim = {d[0] * d[1], d[2], d[3], 1}};
    vout->shape = (ck_shape){.rank = 4, .dim = {o[0] * o[1], o[2], o[3], 1}};
    return CK_OK;
}

ck_status ck_resize_plan_of(const ck_layer *l, const ck_shape *x, const ck_shape *y, ck_resize_plan *p)
{
    const ck_prep_config *c = CK_CFG(l, ck_prep_config);
    ck_tensor tx = {.shape = *x}, ty = {.shape = *y};
    tx.shape.dim[0] = ty.shape.dim[0] = 1;
    ck_tensor vin = tx, vout = ty;
    ck_status st = image_view(l, &tx, &ty, &vin, &vout);
    if (st) return st;
    bool crop = !strcmp(l->cls->class_name, "CenterCrop");
    int64_t h = vin.shape.dim[1], w = vin.shape.dim[2];
    src_box box;
    ck_resize_method m = CK_RESIZE_BILINEAR;
    if (crop)
        box = h >= c->height && w >= c->width
                  ? (src_box){.h = c->height, .w = c->width, .top = (h - c->height) / 2, .left = (w - c->width) / 2}
                  : crop_box(h, w, c->height, c->width);
    else if (!ck_resize_method_of(c->interpolation, &m))
        return ck_layer_error(l, CK_ERR_UNSUPPORTED, "field 'interpolation' ('%s') cannot be run", c->interpolation);
    else
        box = c->crop_to_aspect_ratio ? crop_box(h, w, c->height, c->width)
              : c->pad_to_aspect_ratio ? pad_box(h, w, c->height, c->width)
                                       : (src_box){.h = h, .w = w};
    *p = (ck_resize_plan){.images = vin.shape.dim[0], .h = h, .w = w, .c = vin.shape.dim[3],
                          .oh = vout.shape.dim[1], .ow = vout.shape.dim[2], .box_h = box.h, .box_w = box.w,
                          .top = box.top, .left = box.left, .pad = box.pad, .method = (int)m,
                          .antialias = !crop && c->antialias, .fill = crop ? 0.0f : (float)c->fill_value};
    return CK_OK;
}

/* Resizing: crop or pad to the aspect ratio when asked, then resample. */
static ck_status resize_run(ck_layer *l, ck_run *ex, const ck_tensor *x, const ck_tensor *y, const float *dout, float *din)
{
    const ck_prep_config *c = CK_CFG(l, ck_prep_config);
    ck_tensor vin = *x, vout = *y, *in = &vin, *out = &vout;
    ck_status st = image_view(l, x, y, &vin, &vout);
    if (st) return st;
    ck_resize_method m;
    if (!ck_resize_method_of(c->interpolation, &m))
        return ck_layer_error(l, CK_ERR_UNSUPPORTED, "field 'interpolation' ('%s') cannot be run", c->interpolation);
    int64_t h = in->shape.dim[1], w = in->shape.dim[2];
    src_box box = c->crop_to_aspect_ratio ? crop_box(h, w, c->height, c->width)
                  : c->pad_to_aspect_ratio ? pad_box(h, w, c->height, c->width)
                                           : (src_box){.h = h, .w = w};
    return resample(l, ex, in, out, &box, m, c->antialias, (float)c->fill_value, dout, din);
}

/* A centred crop; an image smaller than the target on either axis goes through
 * Keras's smart_resize instead (crop to the aspect ratio, bilinear resize). */
static ck_status crop_run(ck_layer *l, ck_run *ex, const ck_tensor *x, const ck_tensor *y, const float *dout, float *din)
{
    const ck_prep_config *c = CK_CFG(l, ck_prep_config);
    ck_tensor vin = *x, vout = *y, *in = &vin, *out = &vout;
    ck_status st = image_view(l, x, y, &vin, &vout);
    if (st) return st;
    int64_t h = in->shape.dim[1], w = in->shape.dim[2];
    src_box box = h >= c->height && w >= c->width
                      ? (src_box){.h = c->height, .w = c->width, .top = (h - c->height) / 2, .left = (w - c->width) / 2}
                      : crop_box(h, w, c->height, c->width);
    return resample(l, ex, in, out, &box, CK_RESIZE_BILINEAR, false, 0.0f, dout, din);
}

static ck_status resize_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out, (void)ex;
    return resize_run(l, ex, &in[0], &out[0], NULL, NULL);
}

static ck_status crop_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out, (void)ex;
    return crop_run(l, ex, &in[0], &out[0], NULL, NULL);
}

static ck_status resize_backward(CK_BWD_ARGS)
{
    (void)n_in, (void)n_out, (void)ex;
    return din[0].data ? resize_run(l, ex, &in[0], &out[0], dout[0].data, din[0].data) : CK_OK;
}

static ck_status crop_backward(CK_BWD_ARGS)
{
    (void)n_in, (void)n_out, (void)ex;
    return din[0].data ? crop_run(l, ex, &in[0], &out[0], dout[0].data, din[0].data) : CK_OK;
}

CK_CLASS(ck_class_rescaling, "Rescaling", CK_CONFIG(ck_prep_config, resc_fields), CK_ONE_INPUT,
         .build = resc_build, .forward = resc_forward, .backward = resc_backward, .mask = ck_mask_pass);
CK_CLASS(ck_class_normalization, "Normalization", CK_CONFIG(ck_prep_config, norm_fields), CK_ONE_INPUT,
         .build = norm_build, .forward = norm_forward, .backward = norm_backward, .mask = ck_mask_pass);
CK_CLASS(ck_class_center_crop, "CenterCrop", CK_CONFIG(ck_prep_config, crop_fields), CK_ONE_INPUT,
         .build = hw_build, .forward = crop_forward, .backward = crop_backward);
CK_CLASS(ck_class_resizing, "Resizing", CK_CONFIG(ck_prep_config, resize_fields), CK_ONE_INPUT,
         .build = resize_build, .forward = resize_forward, .backward = resize_backward);

CK_FAMILY(ck_preprocessing_layers, &ck_class_rescaling, &ck_class_normalization, &ck_class_center_crop,
          &ck_class_resizing);
