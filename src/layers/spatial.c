/* Spatial geometry shared by the convolutional-family layers: the data_format's
 * axes, Keras's output-length rules (operation_utils.compute_conv_output_shape,
 * compute_pooling_output_shape, deconv_output_length), TensorFlow's split of
 * 'same' padding, and the parsers of padding/cropping tuples and per-channel
 * numbers that Keras accepts in several spellings. */
#include "layers/conv_layers.h"
#include "layers/layers.h"
#include "engine/run.h"

#include <jansson.h>
#include <string.h>

ck_status ck_spatial_of(const ck_layer *l, const ck_shape *in, int rank, const char *data_format,
                        ck_spatial *out)
{
    if (in->rank != rank + 2)
        return ck_layer_error(l, CK_ERR_SHAPE, "expected an input of rank %d (batch, %d spatial, channels), got rank %d",
                              rank + 2, rank, in->rank);
    bool first = data_format && !strcmp(data_format, "channels_first");
    *out = (ck_spatial){.rank = rank, .first = first ? 2 : 1, .channel = first ? 1 : rank + 1};
    return CK_OK;
}

static const char *data_format_of(const ck_layer *l)
{
    for (int i = 0; i < l->cls->n_fields; i++)
        if (!strcmp(l->cls->fields[i].name, "data_format")) return (const char *)l->config + l->cls->fields[i].offset;
    return NULL;
}

int ck_channels_first_rank(const ck_layer *l)
{
    const char *f = data_format_of(l);
    int r = l->in_shapes[0].rank - 2;
    return f && !strcmp(f, "channels_first") && r > 0 ? r : 0;
}

/* Whether l is view or one of its (nested) sublayers. */
static bool within(const ck_layer *view, const ck_layer *l)
{
    if (view == l) return true;
    for (int i = 0; view && i < view->n_sublayers; i++)
        if (within(view->sublayers[i], l)) return true;
    return false;
}

ck_status ck_runs_channels_last(const ck_layer *l, const ck_run *ex, const char *data_format)
{
    if (!data_format[0] || !strcmp(data_format, "channels_last") || (ex && within(ex->channels_last_view, l)))
        return CK_OK;
    return ck_layer_error(l, CK_ERR_UNSUPPORTED,
                          "field 'data_format': '%s' runs only as a step of a model or in TimeDistributed",
                          data_format);
}

ck_status ck_conv_out_len(const ck_layer *l, int64_t in, int64_t k, int64_t stride, int64_t dil,
                          const char *padding, bool pooling, int64_t *out)
{
    if (in == CK_NONE) return *out = CK_NONE, CK_OK;
    if (!strcmp(padding, "valid")) {
        int64_t span = dil * (k - 1) + 1;
        /* floor((in - span) / stride) + 1 with Python's floor division */
        int64_t num = in - span;
        int64_t q = num >= 0 ? num / stride : -((-num + stride - 1) / stride);
        *out = q + 1;
        if (*out < 0 || (pooling && *out <= 0))
            return ck_layer_error(l, CK_ERR_SHAPE,
                                  "field '%s' (%lld) is larger than the input (%lld): the output size would be %s",
                                  pooling ? "pool_size" : "kernel_size", (long long)span, (long long)in,
                                  *out < 0 ? "negative" : "zero");
        return CK_OK;
    }
    *out = (in - 1) / stride + 1; /* 'same' and 'causal' */
    if (in == 0) *out = 0;
    return CK_OK;
}

int64_t ck_deconv_out_len(int64_t in, int64_t k, int64_t stride, int64_t dil, const char *padding,
                          int64_t output_padding)
{
    if (in == CK_NONE) return CK_NONE;
    int64_t span = k + (k - 1) * (dil - 1);
    bool same = !strcmp(padding, "same");
    if (output_padding < 0)
        return same ? in * stride : in * stride + (span - stride > 0 ? span - stride : 0);
    int64_t pad = same ? span / 2 : 0;
    return (in - 1) * stride + span - 2 * pad + output_padding;
}

int64_t ck_pad_before(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t dil,
                      const char *padding)
{
    int64_t span = dil * (k - 1) + 1;
    if (!strcmp(padding, "causal")) return span - 1;
    if (strcmp(padding, "same")) return 0;
    int64_t total = (out - 1) * stride + span - in;
    return total > 0 ? total / 2 : 0;
}

static bool json_int(json_t *v, int64_t *out)
{
    if (!json_is_integer(v)) return false;
    *out = json_integer_value(v);
    return *out >= 0;
}

ck_status ck_parse_pairs(const ck_layer *l, const char *field, const char *text, int rank,
                         int64_t pairs[][2])
{
    json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    bool ok = v != NULL;
    int64_t x;
    if (ok && json_is_integer(v)) {
        ok = json_int(v, &x);
        for (int i = 0; i < rank; i++) pairs[i][0] = pairs[i][1] = x;
    } else if (ok && json_is_array(v) && rank == 1 && json_array_size(v) == 2) {
        ok = json_int(json_array_get(v, 0), &pairs[0][0]) && json_int(json_array_get(v, 1), &pairs[0][1]);
    } else if (ok && json_is_array(v) && (int)json_array_size(v) == rank) {
        for (int i = 0; ok && i < rank; i++) {
            json_t *e = json_array_get(v, i);
            if (json_is_integer(e)) {
                ok = json_int(e, &x);
                pairs[i][0] = pairs[i][1] = x;
            } else {
                ok = json_is_array(e) && json_array_size(e) == 2 &&
                     json_int(json_array_get(e, 0), &pairs[i][0]) && json_int(json_array_get(e, 1), &pairs[i][1]);
            }
        }
    } else {
        ok = false;
    }
    json_decref(v);
    if (!ok)
        return ck_layer_error(l, CK_ERR_CONFIG,
                              "field '%s' must be a non-negative int, %d ints or %d pairs of ints, got %s",
                              field, rank, rank, text ? text : "None");
    return CK_OK;
}

ck_status ck_parse_floats(const ck_layer *l, const char *field, const char *text, double *out,
                          int cap, int *n)
{
    json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    bool ok = v != NULL;
    *n = 0;
    if (ok && json_is_number(v)) {
        out[0] = json_number_value(v);
        *n = 1;
    } else if (ok && json_is_array(v) && (int)json_array_size(v) <= cap) {
        for (size_t i = 0; ok && i < json_array_size(v); i++) {
            json_t *e = json_array_get(v, i);
            ok = json_is_number(e);
            if (ok) out[(*n)++] = json_number_value(e);
        }
    } else {
        ok = false;
    }
    json_decref(v);
    if (!ok)
        return ck_layer_error(l, CK_ERR_CONFIG, "field '%s' must be a number or a list of at most %d numbers",
                              field, cap);
    return CK_OK;
}
