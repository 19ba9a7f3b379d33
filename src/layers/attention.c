/* Attention layers: MultiHeadAttention, GroupQueryAttention, Attention,
 * AdditiveAttention, and EinsumDense (the projection MultiHeadAttention is built
 * from). Builds follow Keras 3: MHA's query/key/[gate]/value/attention_output
 * projections with kernels (features, heads, dim) and biases (heads, dim);
 * EinsumDense's kernel and bias shapes come from its equation exactly as Keras's
 * _analyze_einsum_string derives them. */
#include "layers/layers.h"
#include "layers/seq_layers.h"

#include <string.h>

#define JSON_NULL_FIELD(type, member) CK_FIELD(type, member, CK_FT_JSON, "null", 0, CK_FF_NULLABLE)

/* ---- EinsumDense ------------------------------------------------------------------ */
#define E ck_einsum_dense_config
static const ck_field einsum_dense_fields[] = {
    CK_FIELD(E, output_shape, CK_FT_INTS, NULL, 0, CK_FF_REQUIRED | CK_FF_NONE_ITEMS),
    CK_FIELD(E, equation, CK_FT_STR, NULL, 0, CK_FF_REQUIRED),
    CK_FIELD(E, activation, CK_FT_ACT, "null", 0, CK_FF_NULLABLE),
    CK_FIELD(E, bias_axes, CK_FT_STR, "null", 0, CK_FF_NULLABLE),
    CK_FIELD(E, kernel_initializer, CK_FT_INIT, "\"glorot_uniform\""),
    CK_FIELD(E, bias_initializer, CK_FT_INIT, "\"zeros\""),
    JSON_NULL_FIELD(E, kernel_regularizer),
    JSON_NULL_FIELD(E, bias_regularizer),
    JSON_NULL_FIELD(E, activity_regularizer),
    JSON_NULL_FIELD(E, kernel_constraint),
    JSON_NULL_FIELD(E, bias_constraint),
    JSON_NULL_FIELD(E, quantization_config),
};

static bool letters(const char *s, size_t n)
{
    if (!n) return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z'))) return false;
    return true;
}

static int find_char(const char *s, char c)
{
    const char *p = strchr(s, c);
    return p ? (int)(p - s) : -1;
}

/* "ab,bc->ac", "...b,bc->...c" (left elided) or "ab...,bc->ac..." (right elided). */
ck_status ck_einsum_analyze(const char *eq, const char *bias_axes, const ck_shape *in, const ck_ints *oshape,
                            ck_einsum_plan *p)
{
    char is[CK_MAX_RANK + 1] = "", ws[CK_MAX_RANK + 1] = "", os[CK_MAX_RANK + 1] = "";
    const char *comma = strchr(eq, ','), *arrow = strstr(eq, "->");
    if (!comma || !arrow || arrow < comma) goto bad;
    const char *a = eq, *b = comma + 1, *o = arrow + 2;
    size_t na = (size_t)(comma - a), nb = (size_t)(arrow - b), no = strlen(o);
    bool left = na >= 3 && !strncmp(a, "...", 3) && no >= 3 && !strncmp(o, "...", 3);
    bool right = !left && na >= 3 && !strncmp(a + na - 3, "...", 3) && no >= 3 && !strncmp(o + no - 3, "...", 3);
    if (left) a += 3, na -= 3, o += 3, no -= 3;
    if (right) na -= 3, no -= 3;
    if (!letters(a, na) || !letters(b, nb) || !letters(o, no) || na > CK_MAX_RANK || nb > CK_MAX_RANK ||
        no > CK_MAX_RANK)
        goto bad;
    memcpy(is, a, na), memcpy(ws, b, nb), memcpy(os, o, no);
    int elided = in->rank - (int)na;
    if (elided < 0 || ((left || right) ? false : elided != 0)) goto bad;
    /* output_shape with the batch dim and the elided dims inserted. */
    ck_shape out = {.rank = 0};
    out.dim[out.rank++] = in->dim[0];
    if (elided > 0 && left)
        for (int i = 1; i < elided; i++) out.dim[out.rank++] = in->dim[i];
    for (int i = 0; i < oshape->n && out.rank < CK_MAX_RANK; i++) out.dim[out.rank++] = oshape->v[i];
    if (elided > 0 && right)
        for (int i = in->rank - elided; i < in->rank && out.rank < CK_MAX_RANK; i++) out.dim[out.rank++] = in->dim[i];
    int off = left ? elided : 0;
    int in_off = left ? elided : 0;
    if ((int)no + off > out.rank) goto bad;
    for (size_t i = 0; i < na; i++) {
        int oi = find_char(os, is[i]);
        int64_t d = in->dim[in_off + (int)i];
        /* Keras's _analyze_split_string: a None in output_shape takes the input's size. */
        if (oi >= 0 && oi + off > 0 && out.dim[oi + off] == CK_NONE) out.dim[oi + off] = d;
        if (oi >= 0 && out.dim[oi + off] != CK_NONE && out.dim[oi + off] != d)
            return ck_fail(CK_ERR_SHAPE, "input and output shapes differ at shared dimension '%c' (%lld vs %lld)",
                           is[i], (long long)d, (long long)out.dim[oi + off]);
    }
    for (size_t i = 0; i < no; i++)
        if (find_char(is, os[i]) < 0 && find_char(ws, os[i]) < 0)
            return ck_fail(CK_ERR_CONFIG, "output dimension '%c' is in neither the input nor the weight spec", os[i]);
    p->kernel = (ck_shape){.rank = (int)nb};
    for (size_t i = 0; i < nb; i++) {
        int oi = find_char(os, ws[i]), ii = find_char(is, ws[i]);
        if (oi >= 0) p->kernel.dim[i] = out.dim[oi + off];
        else if (ii >= 0) p->kernel.dim[i] = in->dim[in_off + ii];
        else return ck_fail(CK_ERR_CONFIG, "weight dimension '%c' is in neither the input nor the output", ws[i]);
    }
    p->has_bias = bias_axes && *bias_axes;
    if (p->has_bias) {
        int first = (int)no;
        for (const char *c = bias_axes; *c; c++) {
            int oi = find_char(os, *c);
            if (oi < 0) return ck_fail(CK_ERR_CONFIG, "bias axis '%c' is not in the output spec '%s'", *c, os);
            if (oi < first) first = oi;
        }
        p->bias = (ck_shape){.rank = 0};
        for (int i = first; i < (int)no; i++)
            p->bias.dim[p->bias.rank++] = strchr(bias_axes, os[i]) ? out.dim[i + off] : 1;
        if (!left)
            for (int i = 0; i < elided && p->bias.rank < CK_MAX_RANK; i++) p->bias.dim[p->bias.rank++] = 1;
    }
    p->output = out;
    return CK_OK;
bad:
    return ck_fail(CK_ERR_CONFIG, "equation '%s' is not of the form 'ab,bc->ac' (with '...' at most at one end)", eq);
}

static ck_status einsum_dense_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)n_in;
    E *c = CK_CFG(l, E);
    ck_einsum_plan p;
    ck_status st = ck_einsum_analyze(c->equation, c->bias_axes, &in[0], &c->output_shape, &p);
    if (st) return ck_fail_prefix(st, "%s '%s': ", l->cls->class_name, l->name);
    if ((st = ck_layer_add_weight(l, "kernel", p.kernel, &c->kernel_initializer, true, CK_FLOAT32))) return st;
    if (p.has_bias && (st = ck_layer_add_weight(l, "bias", p.bias, &c->bias_initializer, true, CK_FLOAT32))) return st;
    out[0] = p.output;
    *n_out = 1;
    return CK_OK;
}

CK_CLASS(ck_class_einsum_dense, "EinsumDense", CK_CONFIG(E, einsum_dense_fields), CK_ONE_INPUT,
         .build = einsum_dense_build, .forward = ck_einsum_dense_forward,
         .backward = ck_einsum_dense_backward, .workspace = ck_einsum_dense_workspace);

/* ---- MultiHeadAttention, GroupQueryAttention ---------------------------------------------- */
#define M ck_mha_config
#define MHA_TAIL_FIELDS                                                         \
    CK_FIELD(M, kernel_initializer, CK_FT_INIT, "\"glorot_uniform\""),          \
    CK_FIELD(M, bias_initializer, CK_FT_INIT, "\"zeros\""),                     \
    JSON_NULL_FIELD(M, kernel_regularizer), JSON_NULL_FIELD(M, bias_regularizer), \
    JSON_NULL_FIELD(M, activity_regularizer), JSON_NULL_FIELD(M, kernel_constraint), \
    JSON_NULL_FIELD(M, bias_constraint),                                        \
    CK_FIELD(M, seed, CK_FT_INT, "null", 0, CK_FF_NULLABLE)

static const ck_field mha_fields[] = {
    CK_FIELD(M, num_heads, CK_FT_INT, NULL, 0, CK_FF_REQUIRED),
    CK_FIELD(M, key_dim, CK_FT_INT, NULL, 0, CK_FF_REQUIRED),
    CK_FIELD(M, value_dim, CK_FT_INT, "null", 0, CK_FF_NULLABLE),
    CK_FIELD(M, dropout, CK_FT_FLOAT, "0.0"),
    CK_FIELD(M, use_bias, CK_FT_BOOL, "true"),
    CK_FIELD(M, use_gate, CK_FT_BOOL, "false"),
    CK_FIELD(M, output_shape, CK_FT_INTS, "null", 0, CK_FF_NULLABLE),
    CK_FIELD(M, attention_axes, CK_FT_INTS, "null", 0, CK_FF_NULLABLE),
    CK_FIELD(M, sliding_window, CK_FT_INT, "null", 0, CK_FF_NULLABLE),
    MHA_TAIL_FIELDS,
};

static const ck_field gqa_fields[] = {
    CK_FIELD(M, head_dim, CK_FT_INT, NULL, 0, CK_FF_REQUIRED),
    CK_FIELD(M, num_query_heads, CK_FT_INT, NULL, 0, CK_FF_REQUIRED),
    CK_FIELD(M, num_key_value_heads, CK_FT_INT, NULL, 0, CK_FF_REQUIRED),
    CK_FIELD(M, use_bias, CK_FT_BOOL, "true"),
    CK_FIELD(M, use_gate, CK_FT_BOOL, "false"),
    CK_FIELD(M, sliding_window, CK_FT_INT, "null", 0, CK_FF_NULLABLE),
    CK_FIELD(M, dropout, CK_FT_FLOAT, "0.0"),
    MHA_TAIL_FIELDS,
};

/* One projection: kernel (features, heads, dim), bias (heads, dim). */
static ck_status add_proj(ck_layer *l, const char *name, int64_t feat, int64_t heads, int64_t dim, const M *c)
{
    char kn[CK_STR_MAX], bn[CK_STR_MAX];
    snprintf(kn, sizeof kn, "%s/kernel", name);
    snprintf(bn, sizeof bn, "%s/bias", name);
    ck_shape k = {.rank = 3, .dim = {feat, heads, dim}};
    ck_status st = ck_layer_add_weight(l, kn, k, &c->kernel_initializer, true, CK_FLOAT32);
    if (!st && c->use_bias) st = ck_layer_add_weight(l, bn, ck_shape_2(heads, dim), &c->bias_initializer, true, CK_FLOAT32);
    return st;
}

static ck_status check_qkv(ck_layer *l, const ck_shape *in, int n_in)
{
    const ck_shape *v = &in[1], *k = n_in > 2 ? &in[2] : &in[1];
    for (int i = 0; i < n_in; i++) {
        if (in[i].rank < 3) return ck_layer_error(l, CK_ERR_SHAPE, "input %d must have rank >= 3, got %d", i, in[i].rank);
        if (in[i].dim[in[i].rank - 1] == CK_NONE)
            return ck_layer_error(l, CK_ERR_SHAPE, "the feature dimension of input %d must be known", i);
    }
    bool same = v->rank == k->rank;
    for (int i = 1; same && i < v->rank - 1; i++) same = v->dim[i] == k->dim[i];
    if (!same) return ck_layer_error(l, CK_ERR_SHAPE, "value and key must agree on every dimension but the last");
    return CK_OK;
}

static ck_status mha_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    M *c = CK_CFG(l, M);
    ck_status st = check_qkv(l, in, n_in);
    if (st) return st;
    if (c->num_heads <= 0 || c->key_dim <= 0)
        return ck_layer_error(l, CK_ERR_CONFIG, "fields 'num_heads' and 'key_dim' must be positive");
    if (c->value_dim == CK_INT_NULL) c->value_dim = c->key_dim; /* as Keras stores it */
    if (c->value_dim <= 0) return ck_layer_error(l, CK_ERR_CONFIG, "field 'value_dim' must be positive");
    const ck_shape *q = &in[0], *v = &in[1], *k = n_in > 2 ? &in[2] : &in[1];
    if (c->attention_axes.is_null) {
        c->attention_axes = (ck_ints){.n = 0};
        for (int i = 1; i < q->rank - 1; i++) c->attention_axes.v[c->attention_axes.n++] = i;
    }
    int64_t qd = q->dim[q->rank - 1], H = c->num_heads;
    if ((st = add_proj(l, "query", qd, H, c->key_dim, c)) || (st = add_proj(l, "key", k->dim[k->rank - 1], H, c->key_dim, c)))
        return st;
    if (c->use_gate && (st = add_proj(l, "gate", qd, H, c->value_dim, c))) return st;
    if ((st = add_proj(l, "value", v->dim[v->rank - 1], H, c->value_dim, c))) return st;
    ck_shape ok = {.rank = 2, .dim = {H, c->value_dim}}, ob = {.rank = 0};
    out[0] = *q;
    out[0].rank = q->rank - 1;
    /* output_shape None: the query's feature size. */
    ck_ints os = c->output_shape.is_null ? (ck_ints){.n = 1, .v = {qd}} : c->output_shape;
    for (int i = 0; i < os.n && ok.rank < CK_MAX_RANK && out[0].rank < CK_MAX_RANK; i++) {
        if (os.v[i] <= 0) return ck_layer_error(l, CK_ERR_CONFIG, "field 'output_shape' must be positive");
        ok.dim[ok.rank++] = ob.dim[ob.rank++] = os.v[i];
        out[0].dim[out[0].rank++] = os.v[i];
    }
    if ((st = ck_layer_add_weight(l, "attention_output/kernel", ok, &c->kernel_initializer, true, CK_FLOAT32))) return st;
    if (c->use_bias && (st = ck_layer_add_weight(l, "attention_output/bias", ob, &c->bias_initializer, true, CK_FLOAT32)))
        return st;
    *n_out = 1;
    if (l->optional_outputs) { /* return_attention_scores: (batch, heads, query steps, key steps) */
        if (q->rank != 3)
            return ck_layer_error(l, CK_ERR_UNSUPPORTED, "return_attention_scores is supported for one attention axis");
        out[1] = (ck_shape){.rank = 4, .dim = {q->dim[0], H, q->dim[1], k->dim[1]}};
        *n_out = 2;
    }
    return CK_OK;
}

/* The sublayers Keras 3 saves an attention layer's projections under (their
 * variables are named query/kernel ...), and the softmax and dropout it keeps. */
static const ck_saved_part mha_parts[] = {
    {"query_dense", "query", 0}, {"key_dense", "key", 0}, {"value_dense", "value", 0},
    {"output_dense", "attention_output", 0}, {"_softmax", "softmax", 0}, {"_dropout_layer", "dropout", 0}, {0}};
static const ck_saved_part gqa_parts[] = {
    {"_query_dense", "query", 0}, {"_key_dense", "key", 0}, {"_value_dense", "value", 0},
    {"_output_dense", "attention_output", 0}, {"_softmax", "softmax", 0}, {"_dropout_layer", "dropout", 0}, {0}};

/* Keras's MultiHeadAttention.build(query_shape, value_shape, key_shape=None). */
static const char *const ck_attention_build_shapes[] = {"query_shape", "value_shape", "key_shape", NULL};
/* The attention classes' output keeps the query's mask (input 0, ck_mask_pass),
 * as their compute_mask returns it. */

CK_CLASS(ck_class_multi_head_attention, "MultiHeadAttention", CK_CONFIG(M, mha_fields),
         .keras.build_shape_names = ck_attention_build_shapes, .keras.call_inputs = CK_CALL_POSITIONAL,
         .min_inputs = 2, .max_inputs = 3, .build = mha_build, .forward = ck_mha_forward,
         .backward = ck_mha_backward, .workspace = ck_mha_workspace, .mask = ck_mask_pass,
         .keras.saved_parts = mha_parts, .keras.optional_outputs_kwarg = "return_attention_scores");

static ck_status gqa_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    M *c = CK_CFG(l, M);
    ck_status st = check_qkv(l, in, n_in);
    if (st) return st;
    if (c->head_dim <= 0 || c->num_query_heads <= 0 || c->num_key_value_heads <= 0)
        return ck_layer_error(l, CK_ERR_CONFIG, "fields 'head_dim', 'num_query_heads' and 'num_key_value_heads' must be positive");
    if (c->num_query_heads % c->num_key_value_heads)
        return ck_layer_error(l, CK_ERR_CONFIG, "field 'num_query_heads' (%lld) must be a multiple of 'num_key_value_heads' (%lld)",
                              (long long)c->num_query_heads, (long long)c->num_key_value_heads);
    if (c->use_gate) return ck_layer_error(l, CK_ERR_UNSUPPORTED, "field 'use_gate' is not supported yet");
    const ck_shape *q = &in[0], *v = &in[1], *k = n_in > 2 ? &in[2] : &in[1];
    int64_t qd = q->dim[q->rank - 1];
    if (qd != v->dim[v->rank - 1])
        return ck_layer_error(l, CK_ERR_SHAPE, "query and value must have the same last dimension (%lld vs %lld)",
                              (long long)qd, (long long)v->dim[v->rank - 1]);
    if ((st = add_proj(l, "query", qd, c->num_query_heads, c->head_dim, c)) ||
        (st = add_proj(l, "key", k->dim[k->rank - 1], c->num_key_value_heads, c->head_dim, c)) ||
        (st = add_proj(l, "value", v->dim[v->rank - 1], c->num_key_value_heads, c->head_dim, c)))
        return st;
    ck_shape ok = {.rank = 3, .dim = {c->num_query_heads, c->head_dim, qd}};
    if ((st = ck_layer_add_weight(l, "attention_output/kernel", ok, &c->kernel_initializer, true, CK_FLOAT32))) return st;
    if (c->use_bias && (st = ck_layer_add_weight(l, "attention_output/bias", ck_shape_1(qd), &c->bias_initializer, true, CK_FLOAT32)))
        return st;
    out[0] = *q;
    *n_out = 1;
    return CK_OK;
}

CK_CLASS(ck_class_group_query_attention, "GroupedQueryAttention", CK_CONFIG(M, gqa_fields),
         .keras.saved_name = "GroupQueryAttention", .keras.build_shape_names = ck_attention_build_shapes,
         .keras.call_inputs = CK_CALL_POSITIONAL, .min_inputs = 2, .max_inputs = 3, .build = gqa_build,
         .forward = ck_gqa_forward, .backward = ck_gqa_backward, .workspace = ck_gqa_workspace,
         .mask = ck_mask_pass, .keras.saved_parts = gqa_parts);

/* ---- Attention, AdditiveAttention -------------------------------------------------------- */
#define A ck_attention_config
static const char *const score_modes[] = {"dot", "concat", NULL};
static const ck_field attention_fields[] = {
    CK_FIELD(A, use_scale, CK_FT_BOOL, "false"),
    CK_FIELD(A, score_mode, CK_FT_STR, "\"dot\"", 0, 0, score_modes),
    CK_FIELD(A, dropout, CK_FT_FLOAT, "0.0"),
    CK_FIELD(A, seed, CK_FT_INT, "null", 0, CK_FF_NULLABLE),
};
static const ck_field additive_attention_fields[] = {
    CK_FIELD(A, use_scale, CK_FT_BOOL, "true"),
    CK_FIELD(A, dropout, CK_FT_FLOAT, "0.0"),
    CK_FIELD(A, seed, CK_FT_INT, "null", 0, CK_FF_NULLABLE),
};

static ck_status attention_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    A *c = CK_CFG(l, A);
    for (int i = 0; i < n_in; i++)
        if (in[i].rank != 3) return ck_layer_error(l, CK_ERR_SHAPE, "input %d must have rank 3 (batch, steps, dim)", i);
    const ck_shape *q = &in[0], *v = &in[1], *k = n_in > 2 ? &in[2] : &in[1];
    if (q->dim[2] != k->dim[2] && q->dim[2] != CK_NONE && k->dim[2] != CK_NONE)
        return ck_layer_error(l, CK_ERR_SHAPE, "query and key must have the same last dimension (%lld vs %lld)",
                              (long long)q->dim[2], (long long)k->dim[2]);
    ck_init ones = {.kind = CK_INIT_ONES};
    bool additive = !strcmp(l->cls->class_name, "AdditiveAttention");
    ck_status st = CK_OK;
    if (c->use_scale) {
        ck_shape s = additive ? ck_shape_1(q->dim[2]) : (ck_shape){.rank = 0};
        st = ck_layer_add_weight(l, "scale", s, additive ? &(ck_init){.kind = CK_INIT_GLOROT_UNIFORM} : &ones, true, CK_FLOAT32);
    }
    if (!st && !additive && !strcmp(c->score_mode, "concat"))
        st = ck_layer_add_weight(l, "concat_score_weight", (ck_shape){.rank = 0}, &ones, true, CK_FLOAT32);
    if (st) return st;
    out[0] = (ck_shape){.rank = 3, .dim = {q->dim[0], q->dim[1], v->dim[2]}};
    *n_out = 1;
    return CK_OK;
}

CK_CLASS(ck_class_attention, "Attention", CK_CONFIG(A, attention_fields), .min_inputs = 2,
         .max_inputs = 3, .build = attention_build, .forward = ck_attention_forward,
         .backward = ck_attention_backward, .workspace = ck_attention_workspace,
         .mask = ck_mask_pass);
CK_CLASS(ck_class_additive_attention, "AdditiveAttention", CK_CONFIG(A, additive_attention_fields),
         .min_inputs = 2, .max_inputs = 3, .build = attention_build, .forward = ck_attention_forward,
         .backward = ck_attention_backward, .workspace = ck_attention_workspace,
         .mask = ck_mask_pass);

CK_FAMILY(ck_attention_layers, &ck_class_einsum_dense, &ck_class_multi_head_attention,
          &ck_class_group_query_attention, &ck_class_attention, &ck_class_additive_attention);
