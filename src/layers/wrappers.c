/* Wrapper layers: Bidirectional and TimeDistributed. Each owns its wrapped layers
 * (ck_layer.sublayers), made from the nested {"class_name", "config"} object that
 * Keras writes under "layer" (and "backward_layer"), and mirrors their weights in
 * its own list in Keras's order (forward then backward), so counts, get_weights
 * and summaries read them like any layer's. */
#include "layers/layers.h"
#include "layers/seq_layers.h"
#include "engine/run.h"
#include "graph/config.h"

#include <string.h>

#define W ck_wrapper_config

static const char *const merge_modes[] = {"concat", "sum", "mul", "ave", NULL};

static const ck_field bidirectional_fields[] = {
    CK_FIELD(W, merge_mode, CK_FT_STR, "\"concat\"", 0, CK_FF_NULLABLE, merge_modes),
    CK_FIELD(W, layer, CK_FT_JSON, NULL, 0, CK_FF_REQUIRED),
    CK_FIELD(W, backward_layer, CK_FT_JSON, "null", 0, CK_FF_NULLABLE),
};

static const ck_field time_distributed_fields[] = {
    CK_FIELD(W, layer, CK_FT_JSON, NULL, 0, CK_FF_REQUIRED),
};

/* A layer from its nested Keras object; flip negates its go_backwards
 * (Bidirectional's mirror of the forward layer). */
static ck_status sublayer_new(ck_layer *l, const char *field, const char *text, bool flip, const char *prefix,
                              ck_layer **out)
{
    json_error_t jerr;
    json_t *obj = text ? json_loads(text, JSON_DECODE_ANY, &jerr) : NULL;
    json_t *cls = json_object_get(obj, "class_name"), *cfg = json_object_get(obj, "config");
    const ck_layer_class *c = json_is_string(cls) ? ck_find_layer_class(json_string_value(cls)) : NULL;
    ck_status st = CK_OK;
    if (!json_is_object(obj) || !json_is_string(cls))
        st = ck_layer_error(l, CK_ERR_CONFIG, "field '%s' must be a layer object with a class_name", field);
    else if (!c)
        st = ck_layer_error(l, CK_ERR_UNSUPPORTED, "field '%s': unknown layer class '%s'", field, json_string_value(cls));
    else if (c->min_inputs != 1) /* RNNs take optional initial states */
        st = ck_layer_error(l, CK_ERR_CONFIG, "field '%s': %s cannot be wrapped", field, c->class_name);
    ck_layer *s = st ? NULL : ck_layer_alloc(c);
    if (!st && !s) st = CK_ERR_NOMEM;
    if (!st && flip && json_is_object(cfg)) {
        /* Keras's backward layer: the same config with go_backwards negated */
        bool back = json_is_true(json_object_get(cfg, "go_backwards"));
        if (json_object_set_new(cfg, "go_backwards", json_boolean(!back))) st = CK_ERR_NOMEM;
    }
    if (!st && cfg) st = ck_config_apply(s, cfg, false);
    json_decref(obj);
    if (st) {
        ck_layer_free(s);
        return st == CK_ERR_NOMEM ? ck_fail(st, "out of memory") : ck_fail_prefix(st, "%s '%s': ", l->cls->class_name, l->name);
    }
    if (prefix && strncmp(s->name, prefix, strlen(prefix))) {
        char name[CK_STR_MAX];
        snprintf(name, sizeof name, "%s%.50s", prefix, s->name);
        memcpy(s->name, name, sizeof name);
    }
    s->auto_named = false;
    *out = s;
    return CK_OK;
}

static ck_status add_sublayer(ck_layer *l, ck_layer *s)
{
    ck_layer **p = ck_malloc((size_t)(l->n_sublayers + 1) * sizeof *p);
    if (!p) {
        ck_layer_free(s);
        return ck_fail(CK_ERR_NOMEM, "out of memory");
    }
    if (l->n_sublayers) memcpy(p, l->sublayers, (size_t)l->n_sublayers * sizeof *p);
    p[l->n_sublayers++] = s;
    ck_free(l->sublayers);
    l->sublayers = p;
    return CK_OK;
}

static ck_status mirror_weights(ck_layer *l, const ck_layer *s)
{
    for (int i = 0; i < s->n_weights; i++) {
        const ck_weight *w = &s->weights[i];
        char name[CK_NAME_MAX + CK_STR_MAX + 2]; /* Keras's path runs through the wrapped layer */
        snprintf(name, sizeof name, "%s/%s", s->name, w->name);
        ck_status st = ck_layer_add_weight(l, name, w->shape, &w->init, w->trainable, w->dtype);
        if (st) return st;
    }
    return CK_OK;
}

/* Points a sublayer's weights at the wrapper's (the model block), from index off. */
static void bind_weights(ck_layer *l, ck_layer *s, int off)
{
    for (int i = 0; i < s->n_weights; i++) {
        s->weights[i].value = l->weights[off + i].value;
        s->weights[i].grad = l->weights[off + i].grad;
    }
}

/* ---- Bidirectional ------------------------------------------------------------------------ */
static ck_status bidirectional_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)n_in;
    W *c = CK_CFG(l, W);
    ck_status st;
    if (!l->n_sublayers) {
        ck_layer *f, *b;
        if ((st = sublayer_new(l, "layer", c->layer, false, "forward_", &f)) || (st = add_sublayer(l, f))) return st;
        st = c->backward_layer ? sublayer_new(l, "backward_layer", c->backward_layer, false, "backward_", &b)
                               : sublayer_new(l, "layer", c->layer, true, NULL, &b);
        if (!st && !c->backward_layer) {
            char name[CK_STR_MAX];
            snprintf(name, sizeof name, "backward_%.50s", f->name + strlen("forward_"));
            memcpy(b->name, name, sizeof name);
        }
        if (st || (st = add_sublayer(l, b))) return st;
    }
    ck_shape fo[8], bo[8];
    int nf, nb;
    if ((st = ck_layer_build(l->sublayers[0], in, 1, fo, &nf)) || (st = ck_layer_build(l->sublayers[1], in, 1, bo, &nb)))
        return ck_fail_prefix(st, "%s '%s': ", l->cls->class_name, l->name);
    if (nf != nb || !ck_shape_eq(&fo[0], &bo[0]))
        return ck_layer_error(l, CK_ERR_SHAPE, "forward and backward layers give different outputs");
    if ((st = mirror_weights(l, l->sublayers[0])) || (st = mirror_weights(l, l->sublayers[1]))) return st;
    *n_out = 0;
    if (!*c->merge_mode) {
        out[(*n_out)++] = fo[0];
        out[(*n_out)++] = bo[0];
    } else {
        out[0] = fo[0];
        if (!strcmp(c->merge_mode, "concat")) {
            int64_t *d = &out[0].dim[out[0].rank - 1];
            *d = *d == CK_NONE ? CK_NONE : 2 * *d;
        }
        *n_out = 1;
    }
    for (int i = 1; i < nf && *n_out < 4; i++) out[(*n_out)++] = fo[i];
    for (int i = 1; i < nb && *n_out < 4; i++) out[(*n_out)++] = bo[i];
    if (nf > 1 && 2 * nf - 1 + (*c->merge_mode ? 0 : 1) > 4)
        return ck_layer_error(l, CK_ERR_UNSUPPORTED, "return_state with this many states is not supported");
    return CK_OK;
}

/* Scratch of one Bidirectional call, carved from the engine's workspace: each
 * direction's own scratch, then its outputs and their gradients (merging reads
 * them in backward). */
typedef struct bidir_run {
    ck_run fex, bex;          /* what each direction's hooks see (its own workspace) */
    ck_tensor fo[4], bo[4], dfo[4], dbo[4];
    int nf, nb;
    int64_t size[8];           /* floats of each output, forward ones first */
} bidir_run;

static int64_t sub_ws(const ck_layer *s) { return s->cls->workspace ? s->cls->workspace(s) : 0; }

/* Floats per batch row of the sublayers' outputs (time and features). */
static int64_t outputs_per_row(const ck_layer *s)
{
    int64_t n = 0;
    for (int i = 0; i < s->n_out; i++) {
        int64_t r = 1;
        for (int k = 1; k < s->out_shapes[i].rank; k++) r *= s->out_shapes[i].dim[k];
        n += r;
    }
    return n;
}

static int64_t bidirectional_workspace(const ck_layer *l)
{
    if (l->n_sublayers < 2) return 0;
    const ck_layer *f = l->sublayers[0], *b = l->sublayers[1];
    return sub_ws(f) + sub_ws(b) + 2 * (outputs_per_row(f) + outputs_per_row(b));
}

static ck_status bidir_setup(ck_layer *l, const ck_tensor *in, ck_run *ex, bidir_run *r)
{
    ck_layer *f = l->sublayers[0], *b = l->sublayers[1];
    if (!f->cls->forward || !b->cls->forward)
        return ck_layer_error(l, CK_ERR_UNSUPPORTED, "%s has no forward pass yet", f->cls->class_name);
    if (!ex || !ex->workspace)
        return ck_layer_error(l, CK_ERR_STATE, "the engine gave no scratch (every input dimension must be known)");
    bind_weights(l, f, 0);
    bind_weights(l, b, f->n_weights);
    int64_t rows = in[0].shape.dim[0];
    float *p = ex->workspace;
    r->fex = *ex, r->bex = *ex;
    r->fex.workspace = p, p += rows * sub_ws(f);
    r->bex.workspace = p, p += rows * sub_ws(b);
    r->nf = f->n_out, r->nb = b->n_out;
    for (int i = 0; i < r->nf + r->nb; i++) {
        bool fw = i < r->nf;
        ck_tensor *t = fw ? &r->fo[i] : &r->bo[i - r->nf], *dt = fw ? &r->dfo[i] : &r->dbo[i - r->nf];
        t->shape = fw ? f->out_shapes[i] : b->out_shapes[i - r->nf];
        t->shape.dim[0] = rows;
        r->size[i] = 1;
        for (int k = 0; k < t->shape.rank; k++) r->size[i] *= t->shape.dim[k];
        t->data = p, p += r->size[i];
        dt->shape = t->shape;
        dt->data = p, p += r->size[i];
    }
    return CK_OK;
}

/* Output row bt of the forward direction pairs with row rt of the backward one:
 * Keras flips the backward sequence back to forward time before merging. */
static int64_t flip_row(int64_t bt, int64_t T) { return (bt / T) * T + (T - 1 - bt % T); }

static ck_status bidirectional_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out;
    W *c = CK_CFG(l, W);
    ck_layer *f = l->sublayers[0], *b = l->sublayers[1];
    bidir_run r;
    ck_status st = bidir_setup(l, in, ex, &r);
    if (!st) st = f->cls->forward(f, in, 1, r.fo, r.nf, &r.fex);
    if (!st) st = b->cls->forward(b, in, 1, r.bo, r.nb, &r.bex);
    if (st) return st;
    ex->rng = r.bex.rng;
    bool seq = r.fo[0].shape.rank >= 3;
    int64_t B = r.fo[0].shape.dim[0], T = seq ? r.fo[0].shape.dim[1] : 1, D = r.size[0] / (B * T);
    for (int64_t bt = 0; bt < B * T; bt++) {
        const float *x = r.fo[0].data + bt * D, *y = r.bo[0].data + flip_row(bt, T) * D;
        if (!*c->merge_mode) {
            memcpy(out[0].data + bt * D, x, (size_t)D * sizeof *x);
            memcpy(out[1].data + bt * D, y, (size_t)D * sizeof *y);
        } else if (!strcmp(c->merge_mode, "concat")) {
            memcpy(out[0].data + bt * 2 * D, x, (size_t)D * sizeof *x);
            memcpy(out[0].data + bt * 2 * D + D, y, (size_t)D * sizeof *y);
        } else {
            bool sum = !strcmp(c->merge_mode, "sum"), mul = !strcmp(c->merge_mode, "mul");
            for (int64_t k = 0; k < D; k++)
                out[0].data[bt * D + k] = sum ? x[k] + y[k] : mul ? x[k] * y[k] : 0.5f * (x[k] + y[k]);
        }
    }
    int oi = *c->merge_mode ? 1 : 2;
    for (int i = 1; i < r.nf; i++) memcpy(out[oi++].data, r.fo[i].data, (size_t)r.size[i] * sizeof(float));
    for (int i = 1; i < r.nb; i++) memcpy(out[oi++].data, r.bo[i].data, (size_t)r.size[r.nf + i] * sizeof(float));
    return CK_OK;
}

/* Splits the merged gradient between the directions, then runs each one's backward
 * (both accumulate into the input's gradient). */
static ck_status bidirectional_backward(CK_BWD_ARGS)
{
    (void)n_in, (void)out, (void)n_out;
    W *c = CK_CFG(l, W);
    ck_layer *f = l->sublayers[0], *b = l->sublayers[1];
    if (!f->cls->backward || !b->cls->backward)
        return ck_layer_error(l, CK_ERR_UNSUPPORTED, "%s has no backward pass yet", f->cls->class_name);
    bidir_run r;
    ck_status st = bidir_setup(l, in, ex, &r);
    if (st) return st;
    bool seq = r.fo[0].shape.rank >= 3;
    int64_t B = r.fo[0].shape.dim[0], T = seq ? r.fo[0].shape.dim[1] : 1, D = r.size[0] / (B * T);
    for (int64_t bt = 0; bt < B * T; bt++) {
        float *dx = r.dfo[0].data + bt * D, *dy = r.dbo[0].data + flip_row(bt, T) * D;
        const float *g = dout[0].data;
        if (!*c->merge_mode) {
            memcpy(dx, g + bt * D, (size_t)D * sizeof *dx);
            memcpy(dy, dout[1].data + bt * D, (size_t)D * sizeof *dy);
        } else if (!strcmp(c->merge_mode, "concat")) {
            memcpy(dx, g + bt * 2 * D, (size_t)D * sizeof *dx);
            memcpy(dy, g + bt * 2 * D + D, (size_t)D * sizeof *dy);
        } else {
            bool mul = !strcmp(c->merge_mode, "mul"), ave = !strcmp(c->merge_mode, "ave");
            const float *x = r.fo[0].data + bt * D, *y = r.bo[0].data + flip_row(bt, T) * D;
            for (int64_t k = 0; k < D; k++) {
                float d = g[bt * D + k];
                dx[k] = mul ? d * y[k] : ave ? 0.5f * d : d;
                dy[k] = mul ? d * x[k] : ave ? 0.5f * d : d;
            }
        }
    }
    int oi = *c->merge_mode ? 1 : 2;
    for (int i = 1; i < r.nf; i++) memcpy(r.dfo[i].data, dout[oi++].data, (size_t)r.size[i] * sizeof(float));
    for (int i = 1; i < r.nb; i++) memcpy(r.dbo[i].data, dout[oi++].data, (size_t)r.size[r.nf + i] * sizeof(float));
    st = f->cls->backward(f, in, 1, r.fo, r.dfo, r.nf, din, &r.fex);
    if (!st) st = b->cls->backward(b, in, 1, r.bo, r.dbo, r.nb, din, &r.bex);
    return st;
}

/* Sequence outputs keep the input's mask (both directions read it in forward time). */
static ck_mask_mode bidirectional_mask(const ck_layer *l, int index)
{
    bool none = !*CK_CFG(l, W)->merge_mode;
    return l->n_sublayers && l->sublayers[0]->out_shapes[0].rank >= 3 && index < (none ? 2 : 1) ? CK_MASK_PASS
                                                                                                : CK_MASK_NONE;
}

/* Keras 3 saves the wrapped layers under these attributes. */
static const ck_saved_part bidirectional_parts[] = {{"forward_layer", NULL, 0}, {"backward_layer", NULL, 1}, {0}};
static const ck_saved_part time_distributed_parts[] = {{"layer", NULL, 0}, {0}};

CK_CLASS(ck_class_bidirectional, "Bidirectional", CK_CONFIG(W, bidirectional_fields), CK_ONE_INPUT,
         .build = bidirectional_build, .forward = bidirectional_forward,
         .backward = bidirectional_backward, .workspace = bidirectional_workspace,
         .mask = bidirectional_mask, .keras.saved_parts = bidirectional_parts);

/* ---- TimeDistributed ------------------------------------------------------------------------ */
static ck_status time_distributed_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)n_in;
    W *c = CK_CFG(l, W);
    ck_status st;
    if (in[0].rank < 3)
        return ck_layer_error(l, CK_ERR_SHAPE, "input must have rank >= 3 (batch, time, ...), got %d", in[0].rank);
    if (!l->n_sublayers) {
        ck_layer *s;
        if ((st = sublayer_new(l, "layer", c->layer, false, NULL, &s)) || (st = add_sublayer(l, s))) return st;
    }
    ck_shape inner = {.rank = in[0].rank - 1, .dim = {in[0].dim[0]}}, io[4];
    for (int i = 2; i < in[0].rank; i++) inner.dim[i - 1] = in[0].dim[i];
    int ni;
    if ((st = ck_layer_build(l->sublayers[0], &inner, 1, io, &ni)))
        return ck_fail_prefix(st, "%s '%s': ", l->cls->class_name, l->name);
    if (ni != 1 || io[0].rank + 1 > CK_MAX_RANK)
        return ck_layer_error(l, CK_ERR_SHAPE, "the wrapped layer must give one output");
    if ((st = mirror_weights(l, l->sublayers[0]))) return st;
    out[0] = (ck_shape){.rank = io[0].rank + 1, .dim = {in[0].dim[0], in[0].dim[1]}};
    for (int i = 1; i < io[0].rank; i++) out[0].dim[i + 1] = io[0].dim[i];
    *n_out = 1;
    return CK_OK;
}

/* The wrapped layer sees [batch*time, ...]: the same memory, read as more rows. */
static ck_status time_distributed_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out;
    ck_layer *s = l->sublayers[0];
    if (!s->cls->forward) return ck_layer_error(l, CK_ERR_UNSUPPORTED, "%s has no forward pass yet", s->cls->class_name);
    bind_weights(l, s, 0);
    ck_tensor si = {.shape = {.rank = in[0].shape.rank - 1}, .data = in[0].data};
    ck_tensor so = {.shape = {.rank = out[0].shape.rank - 1}, .data = out[0].data};
    si.shape.dim[0] = in[0].shape.dim[0] * in[0].shape.dim[1];
    so.shape.dim[0] = si.shape.dim[0];
    for (int i = 2; i < in[0].shape.rank; i++) si.shape.dim[i - 1] = in[0].shape.dim[i];
    for (int i = 2; i < out[0].shape.rank; i++) so.shape.dim[i - 1] = out[0].shape.dim[i];
    /* the mask is per (batch, time): the wrapped layer sees single steps, no mask */
    float *const *masks = ex ? ex->in_masks : NULL;
    if (ex) ex->in_masks = NULL;
    ck_status st = s->cls->forward(s, &si, 1, &so, 1, ex);
    if (ex) ex->in_masks = masks;
    return st;
}

static ck_status time_distributed_backward(CK_BWD_ARGS)
{
    (void)n_in, (void)n_out;
    ck_layer *s = l->sublayers[0];
    if (!s->cls->backward) return ck_layer_error(l, CK_ERR_UNSUPPORTED, "%s has no backward pass yet", s->cls->class_name);
    bind_weights(l, s, 0);
    ck_tensor si = {.shape = {.rank = in[0].shape.rank - 1}, .data = in[0].data};
    ck_tensor so = {.shape = {.rank = out[0].shape.rank - 1}, .data = out[0].data};
    si.shape.dim[0] = so.shape.dim[0] = in[0].shape.dim[0] * in[0].shape.dim[1];
    for (int i = 2; i < in[0].shape.rank; i++) si.shape.dim[i - 1] = in[0].shape.dim[i];
    for (int i = 2; i < out[0].shape.rank; i++) so.shape.dim[i - 1] = out[0].shape.dim[i];
    ck_tensor dsi = {.shape = si.shape, .data = din[0].data}, dso = {.shape = so.shape, .data = dout[0].data};
    float *const *masks = ex ? ex->in_masks : NULL;
    if (ex) ex->in_masks = NULL;
    ck_status st = s->cls->backward(s, &si, 1, &so, &dso, 1, &dsi, ex);
    if (ex) ex->in_masks = masks;
    return st;
}

/* The wrapped layer's scratch for each of the `time` rows one batch row becomes:
 * [batch, time * ws] is the same memory as the wrapped layer's [batch*time, ws]. */
static int64_t time_distributed_workspace(const ck_layer *l)
{
    const ck_layer *s = l->sublayers[0];
    int64_t ws = s->cls->workspace ? s->cls->workspace(s) : 0, t = l->in_shapes[0].dim[1];
    return t == CK_NONE ? 0 : ws * t;
}

/* A channels_first wrapped layer: its channel axis follows the time axis, and
 * the engine moves it for the wrapper and the wrapped layer alike. */
static int time_distributed_channels_first(const ck_layer *l)
{
    const ck_layer *s = l->n_sublayers ? l->sublayers[0] : NULL;
    return s && s->cls->channels_first ? s->cls->channels_first(s) : 0;
}

CK_CLASS(ck_class_time_distributed, "TimeDistributed", CK_CONFIG(W, time_distributed_fields),
         CK_ONE_INPUT, .build = time_distributed_build, .forward = time_distributed_forward,
         .backward = time_distributed_backward, .workspace = time_distributed_workspace,
         .mask = ck_mask_pass, .channels_first = time_distributed_channels_first,
         .keras.saved_parts = time_distributed_parts);

CK_FAMILY(ck_wrapper_layers, &ck_class_bidirectional, &ck_class_time_distributed);
