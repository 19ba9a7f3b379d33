/* Keras 3 regularizers in training: every "<weight>_regularizer" of a layer's
 * config (kernel, bias, embeddings, recurrent, depthwise, pointwise, gamma,
 * beta...) adds l1 * sum|w| + l2 * sum(w^2) of that trainable weight to the loss,
 * (OrthogonalRegularizer: its off-diagonal cosine penalty) and
 * "activity_regularizer" adds l1/l2 of the layer's output divided by the
 * batch size (Keras 3.15's Layer.__call__), in fit() and evaluate() alike, as
 * does an ActivityRegularization layer with its l1/l2. The
 * layer configs keep regularizers as raw JSON ({"class_name": "L2", "config":
 * {"l2": 0.01}} or the strings "l1", "l2", "l1_l2"); compile() resolves them once
 * here, so a training step only walks flat lists. */
#include "train/train.h"

#include "kernels/tensor_ops.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

/* What a regularizer field holds. */
typedef struct reg_spec {
    float l1, l2;
    float ortho_factor; /* OrthogonalRegularizer, 0 if not */
    bool ortho_columns;
} reg_spec;

/* The raw JSON of a regularizer field -> its spec. */
static ck_status parse_reg(const ck_layer *l, const char *field, const char *text, reg_spec *r)
{
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    const char *cls = json_is_string(v) ? json_string_value(v) : json_string_value(json_object_get(v, "class_name"));
    json_t *cfg = json_object_get(v, "config");
    ck_status st = CK_OK;
    float *l1 = &r->l1, *l2 = &r->l2;
    memset(r, 0, sizeof *r);
    if (!cls) {
        st = ck_fail(CK_ERR_CONFIG, "layer '%s': %s: not a regularizer: %s", l->name, field, text);
    } else if (!strcmp(cls, "L1") || !strcmp(cls, "l1")) {
        json_t *a = json_object_get(cfg, "l1");
        *l1 = a ? (float)json_number_value(a) : 0.01f;
    } else if (!strcmp(cls, "L2") || !strcmp(cls, "l2")) {
        json_t *a = json_object_get(cfg, "l2");
        *l2 = a ? (float)json_number_value(a) : 0.01f;
    } else if (!strcmp(cls, "L1L2") || !strcmp(cls, "l1_l2")) { /* Keras's defaults: 0, 0 */
        *l1 = (float)json_number_value(json_object_get(cfg, "l1"));
        *l2 = (float)json_number_value(json_object_get(cfg, "l2"));
    } else if (!strcmp(cls, "OrthogonalRegularizer") || !strcmp(cls, "orthogonal_regularizer")) {
        json_t *f = json_object_get(cfg, "factor");
        const char *mode = json_string_value(json_object_get(cfg, "mode"));
        r->ortho_factor = f ? (float)json_number_value(f) : 0.01f;
        r->ortho_columns = mode && !strcmp(mode, "columns");
        if (mode && !r->ortho_columns && strcmp(mode, "rows"))
            st = ck_fail(CK_ERR_CONFIG, "layer '%s': %s: mode '%s' (expected 'rows' or 'columns')", l->name, field, mode);
    } else {
        st = ck_fail(CK_ERR_UNSUPPORTED, "layer '%s': %s '%s' is not supported in training (L1, L2, L1L2, "
                     "OrthogonalRegularizer are)",
                     l->name, field, cls);
    }
    json_decref(v);
    return st;
}

/* "kernel_regularizer" (suffix "_regularizer") -> the weight it applies to
 * ("kernel"; "recurrent" -> "recurrent_kernel", "depthwise" -> "depthwise_kernel", ...). */
static ck_weight *field_weight(ck_layer *l, const char *field, const char *suffix)
{
    char base[64];
    size_t n = strlen(field) - strlen(suffix);
    if (n >= sizeof base) return NULL;
    memcpy(base, field, n);
    base[n] = 0;
    char kernel[80];
    snprintf(kernel, sizeof kernel, "%s_kernel", base);
    for (int i = 0; i < l->n_weights; i++)
        if (!strcmp(l->weights[i].name, base) || !strcmp(l->weights[i].name, kernel)) return &l->weights[i];
    return NULL;
}

static bool is_trainable(const ck_weight_ref *refs, int n, const ck_weight *w)
{
    for (int i = 0; i < n; i++)
        if (refs[i].w == w) return refs[i].trainable;
    return false;
}

static ck_status add_weight_reg(ck_regs *r, const ck_model *m, const ck_layer *l, const ck_weight *w,
                                const reg_spec *spec)
{
    if (r->n_w == r->cap_w && ck_grow((void **)&r->w, &r->cap_w, r->n_w + 1, sizeof *r->w))
        return ck_fail(CK_ERR_NOMEM, "compile: out of memory");
    ck_weight_reg wr = {w->value - m->weight_block, w->size, spec->l1, spec->l2, spec->ortho_factor,
                        spec->ortho_columns, 0, 0, NULL};
    if (wr.ortho_factor != 0) {
        if (w->shape.rank != 2)
            return ck_fail(CK_ERR_SHAPE, "layer '%s': OrthogonalRegularizer needs a rank-2 weight; '%s' has rank %d",
                           l->name, w->name, w->shape.rank);
        wr.n_vec = w->shape.dim[wr.ortho_columns ? 1 : 0];
        wr.len = w->shape.dim[wr.ortho_columns ? 0 : 1];
        if (wr.n_vec < 2)
            return ck_fail(CK_ERR_SHAPE, "layer '%s': OrthogonalRegularizer on '%s' needs at least 2 %s", l->name,
                           w->name, wr.ortho_columns ? "columns" : "rows");
        wr.scratch = ck_malloc((size_t)(2 * wr.n_vec * wr.len + 2 * wr.n_vec * wr.n_vec) * sizeof(float));
        if (!wr.scratch) return ck_fail(CK_ERR_NOMEM, "compile: out of memory");
    }
    r->w[r->n_w++] = wr;
    return CK_OK;
}

static ck_status add_act_reg(ck_regs *r, const ck_layer *l, float l1, float l2)
{
    if (r->n_act == r->cap_act && ck_grow((void **)&r->act, &r->cap_act, r->n_act + 1, sizeof *r->act))
        return ck_fail(CK_ERR_NOMEM, "compile: out of memory");
    r->act[r->n_act++] = (ck_act_reg){l, l1, l2};
    return CK_OK;
}

/* A double field of a layer's config by name (0 if the class has none). */
static double float_field(const ck_layer *l, const char *name)
{
    for (int i = 0; i < l->cls->n_fields; i++)
        if (l->cls->fields[i].type == CK_FT_FLOAT && !strcmp(l->cls->fields[i].name, name))
            return *(const double *)((const char *)l->config + l->cls->fields[i].offset);
    return 0.0;
}

/* A JSON field's text; NULL when it holds None. */
static const char *json_field_text(const ck_layer *l, const ck_field *f)
{
    const char *text = f->type == CK_FT_JSON ? *(char *const *)((const char *)l->config + f->offset) : NULL;
    return text && strcmp(text, "null") ? text : NULL;
}

/* Keras applies a weight's constraint (MaxNorm, NonNeg, UnitNorm, ...) after
 * each optimizer step (keras/src/optimizers/base_optimizer.py, BaseOptimizer.apply:
 * "Apply variable constraints after applying gradients", variable.assign(
 * variable.constraint(variable))); ckeras does not, so training a trainable
 * weight that has one is refused rather than computed otherwise. */
static ck_status refuse_constraint(ck_layer *l, const char *field, const char *text, const ck_weight_ref *refs,
                                   int n_refs)
{
    static const char suffix[] = "_constraint";
    size_t n = strlen(field);
    if (n <= sizeof suffix - 1 || strcmp(field + n - (sizeof suffix - 1), suffix)) return CK_OK;
    ck_weight *w = field_weight(l, field, suffix);
    if (w && !is_trainable(refs, n_refs, w)) return CK_OK;
    json_t *obj = json_loads(text, JSON_DECODE_ANY, NULL);
    const char *cls = json_string_value(json_object_get(obj, "class_name"));
    ck_status st = ck_fail(CK_ERR_UNSUPPORTED, "layer '%s': %s %s is not supported in training (Keras applies it "
                           "after every step)", l->name, field, cls ? cls : json_is_string(obj) ? json_string_value(obj) : "");
    json_decref(obj);
    return st;
}

/* One layer's regularizer fields. ActivityRegularization(l1, l2) is Keras 3's
 * Layer(activity_regularizer=L1L2(l1, l2)): its output's penalty, divided by
 * the batch size like any activity regularizer. */
static ck_status layer_regs(ck_regs *r, const ck_model *m, ck_layer *l, const ck_weight_ref *refs, int n_refs)
{
    static const char suffix[] = "_regularizer";
    if (!strcmp(l->cls->class_name, "ActivityRegularization")) {
        float l1 = (float)float_field(l, "l1"), l2 = (float)float_field(l, "l2");
        if (l1 != 0.0f || l2 != 0.0f) return add_act_reg(r, l, l1, l2);
        return CK_OK;
    }
    for (int i = 0; i < l->cls->n_fields; i++) {
        const ck_field *f = &l->cls->fields[i];
        const char *text = json_field_text(l, f);
        size_t n = strlen(f->name);
        if (!text || n <= sizeof suffix - 1 || strcmp(f->name + n - (sizeof suffix - 1), suffix)) continue;
        reg_spec spec;
        ck_status st = parse_reg(l, f->name, text, &spec);
        if (st) return st;
        if (!strcmp(f->name, "activity_regularizer")) {
            if (spec.ortho_factor != 0)
                return ck_fail(CK_ERR_UNSUPPORTED, "layer '%s': OrthogonalRegularizer as activity_regularizer is "
                               "not supported", l->name);
            if ((st = add_act_reg(r, l, spec.l1, spec.l2))) return st;
            continue;
        }
        ck_weight *w = field_weight(l, f->name, suffix);
        if (w && is_trainable(refs, n_refs, w) && (st = add_weight_reg(r, m, l, w, &spec))) return st;
    }
    return CK_OK;
}

static ck_status check_constraints(ck_model *m, const ck_weight_ref *refs, int n_refs)
{
    ck_status st = CK_OK;
    for (int i = 0; !st && i < m->n_layers; i++) {
        ck_layer *l = m->layers[i];
        if (l->model) st = check_constraints(l->model, refs, n_refs);
        for (int k = 0; !st && !l->model && k < l->cls->n_fields; k++) {
            const char *text = json_field_text(l, &l->cls->fields[k]);
            if (text) st = refuse_constraint(l, l->cls->fields[k].name, text, refs, n_refs);
        }
    }
    return st;
}

ck_status ck_constraints_check(ck_model *m)
{
    ck_weight_ref *refs = NULL;
    int n = 0;
    ck_status st = ck_model_collect_weights(m, &refs, &n);
    if (!st) st = check_constraints(m, refs, n);
    ck_free(refs);
    return st;
}

static ck_status collect_layers(ck_regs *r, const ck_model *top, ck_model *m, const ck_weight_ref *refs, int n_refs)
{
    for (int i = 0; i < m->n_layers; i++) {
        ck_layer *l = m->layers[i];
        ck_status st = l->model ? collect_layers(r, top, l->model, refs, n_refs) : layer_regs(r, top, l, refs, n_refs);
        if (st) return st;
    }
    return CK_OK;
}

ck_status ck_regs_collect(ck_model *m, ck_regs *r)
{
    memset(r, 0, sizeof *r);
    ck_weight_ref *refs;
    int n;
    ck_status st = ck_model_collect_weights(m, &refs, &n);
    if (st) return st;
    st = collect_layers(r, m, m, refs, n);
    ck_free(refs);
    if (st) ck_regs_release(r);
    return st;
}

void ck_regs_release(ck_regs *r)
{
    for (int i = 0; i < r->n_w; i++) ck_free(r->w[i].scratch);
    ck_free(r->w);
    ck_free(r->act);
    memset(r, 0, sizeof *r);
}

/* l1 * sum|v| + l2 * sum(v^2) in float32 sums of doubles (Keras sums in float32;
 * the difference stays far below the 1e-4 the goldens allow). */
/* OrthogonalRegularizer: the vectors (rows, or columns) normalised as
 * ops.normalize does (x * min(rsqrt(sum x^2), 1/epsilon)), P = U U^T, penalty
 * factor/2 * sum over i != j of |P_ij| / (n(n-1)/2). Gradient: dU = 2 S U with
 * S = c * sign(P) off the diagonal (JAX's abs gradient, +1 at 0), then through
 * the normalisation dw = inv * (dU - u (u . dU)) while the rsqrt is not clamped. */
static double ortho_penalty(const ck_weight_reg *r, const float *w, float *g)
{
    const int64_t n = r->n_vec, len = r->len;
    const int64_t vs = r->ortho_columns ? 1 : len, es = r->ortho_columns ? n : 1; /* vector, element strides */
    float *u = r->scratch, *p = u + n * len, *sgn = p + n * n, *du = sgn + n * n;
    for (int64_t v = 0; v < n; v++) {
        double ss = 0;
        for (int64_t e = 0; e < len; e++) ss += (double)w[v * vs + e * es] * w[v * vs + e * es];
        float inv = fminf(1.0f / sqrtf((float)ss), 1e7f);
        for (int64_t e = 0; e < len; e++) u[v * len + e] = w[v * vs + e * es] * inv;
    }
    ck_sgemm(false, true, n, n, len, 1.0f, u, len, u, len, 0.0f, p, n);
    const double c = 0.5 * r->ortho_factor / (n * (n - 1.0) / 2.0);
    double sum = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++) {
            float x = i == j ? 0.0f : p[i * n + j];
            sum += fabsf(x);
            sgn[i * n + j] = i == j ? 0.0f : (float)(x >= 0 ? 2 * c : -2 * c);
        }
    if (!g) return c * sum;
    ck_sgemm(false, false, n, len, n, 1.0f, sgn, n, u, len, 0.0f, du, len);
    for (int64_t v = 0; v < n; v++) {
        double ss = 0, dot = 0;
        for (int64_t e = 0; e < len; e++) {
            float x = w[v * vs + e * es];
            ss += (double)x * x;
            dot += (double)u[v * len + e] * du[v * len + e];
        }
        float inv = 1.0f / sqrtf((float)ss);
        bool clamped = inv > 1e7f;
        for (int64_t e = 0; e < len; e++) {
            float d = du[v * len + e];
            g[v * vs + e * es] += clamped ? 1e7f * d : inv * (d - u[v * len + e] * (float)dot);
        }
    }
    return c * sum;
}

double ck_regs_weight_penalty(const ck_regs *r, const float *weights, float *grads)
{
    double total = 0;
    for (int i = 0; i < r->n_w; i++) {
        const ck_weight_reg *w = &r->w[i];
        if (w->ortho_factor != 0) {
            total += ortho_penalty(w, weights + w->offset, grads ? grads + w->offset : NULL);
            continue;
        }
        total += ck_l1l2_penalty(weights + w->offset, w->size, w->l1, w->l2);
        if (grads) ck_l1l2_penalty_grad(weights + w->offset, grads + w->offset, w->size, w->l1, w->l2, 1.0f);
    }
    return total;
}
