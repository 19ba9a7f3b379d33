/* Embedding and Masking: the entry points of a sequence model. Embedding maps
 * integer ids [batch, ...] to vectors [batch, ..., output_dim] through one
 * (input_dim, output_dim) table initialised uniform(-0.05, 0.05) as Keras does;
 * Masking zeroes the masked steps. Both write a Keras mask the engine hands on. Keras 2
 * configs' input_length is ignored by the lenient file reader. */
#include "layers/layers.h"
#include "layers/seq_layers.h"
#include "engine/run.h"

#include <string.h>

#define JSON_NULL_FIELD(type, member) CK_FIELD(type, member, CK_FT_JSON, "null", 0, CK_FF_NULLABLE)

static const ck_field embedding_fields[] = {
    CK_FIELD(ck_embedding_config, input_dim, CK_FT_INT, NULL, 0, CK_FF_REQUIRED),
    CK_FIELD(ck_embedding_config, output_dim, CK_FT_INT, NULL, 0, CK_FF_REQUIRED),
    CK_FIELD(ck_embedding_config, embeddings_initializer, CK_FT_INIT, "\"uniform\""),
    JSON_NULL_FIELD(ck_embedding_config, embeddings_regularizer),
    JSON_NULL_FIELD(ck_embedding_config, activity_regularizer),
    JSON_NULL_FIELD(ck_embedding_config, embeddings_constraint),
    CK_FIELD(ck_embedding_config, mask_zero, CK_FT_BOOL, "false"),
    JSON_NULL_FIELD(ck_embedding_config, quantization_config),
};

static ck_status embedding_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)n_in;
    ck_embedding_config *c = CK_CFG(l, ck_embedding_config);
    if (c->input_dim <= 0)
        return ck_layer_error(l, CK_ERR_CONFIG, "field 'input_dim' must be positive, got %lld", (long long)c->input_dim);
    if (c->output_dim <= 0)
        return ck_layer_error(l, CK_ERR_CONFIG, "field 'output_dim' must be positive, got %lld", (long long)c->output_dim);
    if (in[0].rank + 1 > CK_MAX_RANK) return ck_layer_error(l, CK_ERR_SHAPE, "input rank %d is too high", in[0].rank);
    ck_status st = ck_layer_add_weight(l, "embeddings", ck_shape_2(c->input_dim, c->output_dim),
                                       &c->embeddings_initializer, true, CK_FLOAT32);
    if (st) return st;
    out[0] = in[0];
    out[0].dim[out[0].rank++] = c->output_dim;
    *n_out = 1;
    return CK_OK;
}

/* ids arrive as floats (the engine's one dtype); each must be an integer in range. */
static ck_status embedding_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out;
    const ck_embedding_config *c = CK_CFG(l, ck_embedding_config);
    int64_t n = 1, d = c->output_dim;
    for (int i = 0; i < in[0].shape.rank; i++) n *= in[0].shape.dim[i];
    const float *table = l->weights[0].value; /* [input_dim, output_dim] */
    for (int64_t i = 0; i < n; i++) {
        float f = in[0].data[i];
        int64_t id = (int64_t)f;
        if (!(f >= 0.0f) || (float)id != f || id >= c->input_dim)
            return ck_layer_error(l, CK_ERR_ARG, "input id %g is not an integer in [0, %lld)", (double)f,
                                  (long long)c->input_dim);
        memcpy(out[0].data + i * d, table + id * d, (size_t)d * sizeof(float));
        if (c->mask_zero && ex && ex->out_mask) ex->out_mask[i] = id != 0;
    }
    return CK_OK;
}

static ck_status embedding_backward(CK_BWD_ARGS)
{
    (void)n_in, (void)out, (void)n_out, (void)din, (void)ex;
    const ck_embedding_config *c = CK_CFG(l, ck_embedding_config);
    int64_t n = 1, d = c->output_dim;
    for (int i = 0; i < in[0].shape.rank; i++) n *= in[0].shape.dim[i];
    float *g = l->weights[0].grad;
    if (!g) return CK_OK;
    for (int64_t i = 0; i < n; i++) {
        int64_t id = (int64_t)in[0].data[i];
        if (id < 0 || id >= c->input_dim) continue; /* forward already refused it */
        for (int64_t k = 0; k < d; k++) g[id * d + k] += dout[0].data[i * d + k];
    }
    return CK_OK;
}

/* mask_zero: id 0 is padding, a mask of ids != 0 follows the output. */
static ck_mask_mode embedding_mask(const ck_layer *l, int index)
{
    (void)index;
    return CK_CFG(l, ck_embedding_config)->mask_zero ? CK_MASK_NEW : CK_MASK_NONE;
}

static ck_mask_mode masking_mask(const ck_layer *l, int index)
{
    (void)l, (void)index;
    return CK_MASK_NEW;
}

CK_CLASS(ck_class_embedding, "Embedding", CK_CONFIG(ck_embedding_config, embedding_fields),
         CK_ONE_INPUT, .build = embedding_build, .forward = embedding_forward,
         .backward = embedding_backward, .mask = embedding_mask);

/* ---- Masking ---------------------------------------------------------------------- */
static const ck_field masking_fields[] = {
    CK_FIELD(ck_masking_config, mask_value, CK_FT_FLOAT, "0.0"),
};

static ck_status masking_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)l, (void)n_in;
    out[0] = in[0];
    *n_out = 1;
    return CK_OK;
}

/* A step is kept unless all its features equal mask_value. */
static bool step_kept(const float *x, int64_t d, float mask_value)
{
    for (int64_t k = 0; k < d; k++)
        if (x[k] != mask_value) return true;
    return false;
}

/* Rows (every step of every sample) and features of Masking's input. */
static int64_t masking_rows(const ck_tensor *x, int64_t *d)
{
    int r = x->shape.rank;
    int64_t rows = 1;
    for (int i = 0; i < r - 1; i++) rows *= x->shape.dim[i];
    *d = x->shape.dim[r - 1];
    return rows;
}

/* Keras zeroes the timesteps it masks. */
static ck_status masking_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out;
    float mv = (float)CK_CFG(l, ck_masking_config)->mask_value;
    int64_t d, rows = masking_rows(&in[0], &d);
    for (int64_t i = 0; i < rows; i++) {
        const float *x = in[0].data + i * d;
        bool keep = step_kept(x, d, mv);
        for (int64_t k = 0; k < d; k++) out[0].data[i * d + k] = keep ? x[k] : 0.0f;
        if (ex && ex->out_mask) ex->out_mask[i] = keep;
    }
    return CK_OK;
}

/* The gradient flows through the kept steps only. */
static ck_status masking_backward(CK_BWD_ARGS)
{
    (void)n_in, (void)out, (void)n_out, (void)ex;
    if (!din[0].data) return CK_OK;
    float mv = (float)CK_CFG(l, ck_masking_config)->mask_value;
    int64_t d, rows = masking_rows(&in[0], &d);
    for (int64_t i = 0; i < rows; i++)
        if (step_kept(in[0].data + i * d, d, mv))
            for (int64_t k = 0; k < d; k++) din[0].data[i * d + k] += dout[0].data[i * d + k];
    return CK_OK;
}

CK_CLASS(ck_class_masking, "Masking", CK_CONFIG(ck_masking_config, masking_fields), CK_ONE_INPUT,
         .build = masking_build, .forward = masking_forward, .backward = masking_backward,
         .mask = masking_mask, .keras.no_build_config = true);

CK_FAMILY(ck_embedding_layers, &ck_class_embedding, &ck_class_masking);
