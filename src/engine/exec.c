/*
 * The execution engine behind predict and fit. A plan gives every symbolic tensor
 * of a model (ck_ktensor, numbered by its `slot`) one value: an activation buffer
 * and a gradient buffer of [batch, ...] floats, allocated once at create. A
 * nested model call gets its own sub-plan whose inputs are the caller's values
 * and whose outputs become the caller's values, so nothing is copied at the
 * boundary. Forward walks the steps in order, backward in reverse; a step's
 * backward runs only when it has weights or one of its inputs needs a gradient.
 */
#include "engine/exec.h"
#include "kernels/gemm_packed.h"
#include "kernels/tensor_ops.h"

#include <cblas.h>
#include <stdint.h>
#include <string.h>

typedef struct ck_plan ck_plan; /* one model's buffers and steps */

typedef struct value {
    ck_shape shape;   /* batch first; dim[0] = planned batch                 */
    int64_t size;     /* floats per row                                      */
    float *data;      /* [batch, size]; a top-level input points at the caller's rows */
    float *buf;       /* the allocation behind data (freed with the plan)    */
    float *grad;      /* [batch, size]                                       */
    bool need_grad;   /* backward must produce d loss / d this value         */
    bool is_input;    /* a top-level model input (its grad only on request)  */
    bool grad_by_rows; /* zeroed chunk by chunk by a fused reader's backward  */
    float *mask;      /* Keras mask [batch, mask_len] or NULL (maybe borrowed) */
    int64_t mask_len;
    bool owns_mask;
    ck_half half;     /* what data holds: values of that half type (a mixed step's output) */
    /* [batch, size] a bfloat16 step's output before the engine rounds it, for
     * the float32 steps that read it: XLA on CPU computes bfloat16 operations
     * in float32 and casts each result, and where Keras casts the value to
     * float32 for the reader XLA drops the float32 -> bfloat16 -> float32 pair,
     * so the reader sees it unrounded. (float16 operations run as float16, so
     * their results are already rounded.) */
    float *unrounded;
} value;

/* A copy of a weight made ready for a kernel (ck_exec_weight_cache: packed,
 * transformed), valid while the model's weights_gen stays at `gen`. */
typedef struct packed_weight {
    const float *src;
    int kind;                      /* a ck_weight_form                          */
    int64_t floats;
    uint64_t gen;
    float *data;
    int64_t cap;                   /* floats allocated at data */
} packed_weight;
#define PACKED_PER_STEP 4

typedef struct step_plan {
    ck_node *node;
    value **in, **out;             /* [n_inputs], [n_outputs], borrowed        */
    ck_tensor *tin, *tout, *tdin, *tdout; /* per-call views, [n_inputs|n_outputs] */
    float *ws;                     /* [batch, ws_per_row] scratch for the layer */
    int64_t ws_per_row;
    ck_plan *sub;                  /* the plan of a nested model call          */
    bool is_input;                 /* an InputLayer node: nothing to run       */
    bool has_weights;
    float **in_masks;              /* [n_inputs] input masks; NULL if none has one */
    float *out_mask;               /* a CK_MASK_NEW layer's mask buffer           */
    /* A plan specialised to concrete input shapes (variable-length inputs): the
     * build shapes of the layer (spec[0]) and of its sublayers (wrappers) for
     * this call with every None filled in, swapped into in_shapes/out_shapes
     * around each hook (hooks read them) and back. NULL when the built shapes
     * already are concrete (the common path). */
    struct spec_shapes *spec;      /* [n_spec]                                   */
    int n_spec;
    struct step_plan *fused;       /* the per-sample reader this step feeds by chunks */
    bool runs_fused;               /* run by its producer (plan_fuse), not on its own */
    packed_weight packed[PACKED_PER_STEP]; /* inference copies of its kernels    */
    struct step_plan *fold[2];     /* an affine reader and an activation after it (plan_fold) */
    float *fold_buf;               /* [2 * channels]: their combined scale and shift      */
    bool skip_once;                /* folded into its producer this pass: nothing to run  */
    /* A channels_first layer (ck_layer_class.channels_first) runs on copies of its
     * tensors with the channel axis moved last, so its hooks know one layout;
     * its spec holds the build shapes permuted the same way. NULL: none moved. */
    struct moved_axis *moved_in, *moved_out; /* [n_inputs], [n_outputs]        */
    /* A layer whose dtype policy computes in a half type (mixed_float16, ...)
     * runs as Keras's __call__ runs it: its float inputs cast to that type
     * (half_in[k], a rounded copy of an input that is not already), its
     * autocast variables too (rounded in place around each hook, the float32
     * values kept in weights_f32), and its outputs cast after the hook. */
    ck_half half;
    float **half_in;               /* [n_inputs] [batch, size] copies or NULL       */
    float *weights_f32;            /* [sum of the rounded weights' sizes] or NULL   */
} step_plan;

/* One tensor of a channels_first step as its hooks see it. */
typedef struct moved_axis {
    int axis;                      /* the channel axis in the full shape; 0: left as it is */
    int64_t outer, channels, inner; /* one row of the value as [outer, channels, inner]   */
    float *data, *grad;            /* [batch, size] channels-last copy, and its gradient  */
    bool shared;                   /* data and grad are the value's own (plan_share_moves) */
} moved_axis;

typedef struct spec_shapes {
    ck_layer *layer;               /* the model's layer or one of its sublayers */
    ck_shape in[CK_LAYER_SHAPES], out[CK_LAYER_SHAPES]; /* batch first       */
    int n_in, n_out;               /* how many to swap                          */
} spec_shapes;

struct ck_plan {
    ck_model *model;
    value *owned;       /* values this plan allocated */
    int n_owned;
    value **slot;       /* [n_slots] every ktensor's value (owned or borrowed) */
    int n_slots;
    step_plan *steps;
    int n_steps;
    value **inputs, **outputs; /* [n_inputs], [n_outputs] */
};

/* The engine: the view its layers' hooks get (run, engine/run.h), then what
 * only the engine reads (its plan, fusion state, caches) and what its clients
 * set through engine/exec.h. Defined here alone, so no layer can reach past
 * the view (scripts/check-floors.sh checks it). */
struct ck_exec {
    ck_run run;           /* handed to every hook; run.exec points back here     */
    ck_model *model;
    int64_t rows;         /* rows of the current forward pass (<= run.batch)     */
    bool grads_ready;     /* a backward pass has filled every weight's grad          */
    ck_plan *plan;        /* the top-level model's plan                              */
    const ck_act_reg *act_regs; /* set by fit/evaluate (borrowed), n_act_regs of them   */
    int n_act_regs;
    double act_penalty;   /* sum of the activity penalties of the last forward       */
    /* The per-sample step (pooling) the running step feeds chunk by chunk, and
     * how many rows it has been handed (see ck_exec_rows_done). */
    struct step_plan *fused;
    int64_t fused_done;
    struct step_plan *step;  /* the step being run (its packed kernels)          */
    uint64_t weights_gen;    /* the model's, for this forward (when gen_known)   */
    bool gen_known;
    int folded;              /* readers the running step took (ck_exec_fold)      */
    int folded_in_pass;      /* readers folded away in the last forward, in all   */
    /* Made for predict (ck_exec_set_inference_only): layers' work may be folded
     * into their producers (ck_exec_fold), leaving buffers a backward pass would
     * read unwritten, so backward refuses. */
    bool inference_only;
    /* Scratch that does not grow with the batch, one block per layer that asks
     * (ck_exec_scratch): kept with the engine, not the layer, so that engines of
     * one model on several threads never share it. [n_scratch] */
    struct ck_scratch *scratch;
    int n_scratch, cap_scratch;
    /* The plan lends concrete shapes to the model's layers around each hook
     * (variable-length inputs), or rounds a mixed-precision layer's weights in
     * place around them: its passes hold the model's lock, so that such calls
     * on one model from several threads take turns instead of mixing. */
    bool lends_shapes;
    uint64_t plan_gen;       /* the model's when planned (ck_model.plan_gen)      */
    /* Called after the backward of each layer that has weights, in backward
     * order (a layer called several times reports each call): data-parallel
     * fit (src/dist/) starts reducing gradients as soon as they are final. */
    ck_status (*grad_ready)(void *user, const ck_layer *layer);
    void *grad_ready_user;
};

/* ---- planning ----------------------------------------------------------------- */
static int count_slots(ck_model *m)
{
    int n = 0;
    for (int i = 0; i < m->n_steps; i++) {
        ck_step *s = &m->steps[i];
        for (int k = 0; k < s->node->n_outputs; k++) {
            s->node->outputs[k].slot = n;
            if (k < 4) s->out_slot[k] = n;
            n++;
        }
    }
    for (int i = 0; i < m->n_steps; i++) {
        ck_step *s = &m->steps[i];
        for (int k = 0; k < s->node->n_inputs && k < 8; k++) s->in_slot[k] = s->node->inputs[k]->slot;
    }
    m->n_slots = n;
    return n;
}

static void plan_free(ck_plan *p)
{
    if (!p) return;
    for (int i = 0; i < p->n_steps; i++) {
        step_plan *s = &p->steps[i];
        plan_free(s->sub);
        ck_free(s->in);
        ck_free(s->out);
        ck_free(s->tin);
        ck_free(s->tout);
        ck_free(s->tdin);
        ck_free(s->tdout);
        ck_free(s->ws);
        ck_free(s->in_masks);
        ck_free(s->spec);
        for (int k = 0; k < PACKED_PER_STEP; k++) ck_free(s->packed[k].data);
        ck_free(s->fold_buf);
        for (int k = 0; s->moved_in && k < s->node->n_inputs; k++)
            if (!s->moved_in[k].shared) ck_free(s->moved_in[k].data), ck_free(s->moved_in[k].grad);
        for (int k = 0; s->moved_out && k < s->node->n_outputs; k++)
            if (!s->moved_out[k].shared) ck_free(s->moved_out[k].data), ck_free(s->moved_out[k].grad);
        for (int k = 0; s->half_in && k < s->node->n_inputs; k++) ck_free(s->half_in[k]);
        ck_free(s->half_in);
        ck_free(s->weights_f32);
        ck_free(s->moved_in);
        ck_free(s->moved_out);
    }
    for (int i = 0; i < p->n_owned; i++) {
        ck_free(p->owned[i].buf);
        ck_free(p->owned[i].grad);
        ck_free(p->owned[i].unrounded);
        if (p->owned[i].owns_mask) ck_free(p->owned[i].mask);
    }
    ck_free(p->owned);
    ck_free(p->slot);
    ck_free(p->steps);
    ck_free(p->inputs);
    ck_free(p->outputs);
    ck_free(p);
}

static ck_status alloc_rows(int64_t batch, int64_t per_row, float **out, const ck_layer *l)
{
    int64_t n;
    if (!ck_mul_ok(batch, per_row, &n) || n > ((int64_t)1 << 40))
        return ck_fail(CK_ERR_OVERFLOW, "%s '%s': buffer of %lld x %lld floats is too large",
                       l->cls->class_name, l->name, (long long)batch, (long long)per_row);
    *out = ck_calloc((size_t)(n ? n : 1), sizeof(float));
    return *out ? CK_OK : ck_fail(CK_ERR_NOMEM, "%s '%s': out of memory planning buffers",
                                  l->cls->class_name, l->name);
}

static ck_status new_value(ck_plan *p, const ck_shape *shape, int64_t batch, const ck_layer *l, value **out)
{
    value *v = &p->owned[p->n_owned];
    v->shape = *shape;
    v->shape.dim[0] = batch;
    if (shape->rank < 1) return ck_fail(CK_ERR_SHAPE, "%s '%s': output has no batch dimension", l->cls->class_name, l->name);
    ck_status st = ck_shape_size_from(shape, 1, &v->size);
    if (st) return ck_fail_prefix(st, "%s '%s': ", l->cls->class_name, l->name);
    if (v->size == CK_NONE) {
        char b[96];
        ck_shape_format(shape, b, sizeof b);
        return ck_fail(CK_ERR_SHAPE, "%s '%s': output shape %s has an unknown dimension; the engine needs every "
                       "non-batch dimension (ck_model_predict_shaped takes them from the data)",
                       l->cls->class_name, l->name, b);
    }
    p->n_owned++;
    if ((st = alloc_rows(batch, v->size, &v->buf, l)) || (st = alloc_rows(batch, v->size, &v->grad, l))) return st;
    v->data = v->buf;
    *out = v;
    return CK_OK;
}

static int model_input_index(const ck_model *m, const ck_node *n)
{
    for (int i = 0; i < m->n_inputs; i++)
        if (m->inputs[i]->node == n) return i;
    return -1;
}

static ck_status plan_new(ck_model *m, value **ext_inputs, const ck_shape *in_shapes, int64_t batch, ck_plan **out);

/* ---- shape specialisation (inputs with None dims) ------------------------------- */
static bool same_dims(const ck_shape *a, const ck_shape *b)
{
    if (a->rank != b->rank) return false;
    for (int d = 1; d < a->rank; d++)
        if (a->dim[d] != b->dim[d]) return false;
    return true;
}

/* Does the concrete shape `given` fill in the known dims of `built`? */
static ck_status check_fits(const ck_shape *built, const ck_shape *given, const char *what, const char *cls,
                            const char *name, int index)
{
    bool ok = built->rank == given->rank;
    for (int d = 1; ok && d < built->rank; d++)
        ok = given->dim[d] >= 0 && (built->dim[d] == CK_NONE || built->dim[d] == given->dim[d]);
    if (ok) return CK_OK;
    char b[96], g[96];
    ck_shape_format(built, b, sizeof b);
    ck_shape_format(given, g, sizeof g);
    if (!cls) /* a model input: ck_exec_create names the model */
        return ck_fail(CK_ERR_SHAPE, "%s %d has shape %s, which does not fit the built shape %s", what, index, g, b);
    return ck_fail(CK_ERR_SHAPE, "%s '%s': %s %d has shape %s, which does not fit the built shape %s", cls, name,
                   what, index, g, b);
}

/* Swaps the step's concrete shapes with the layers' build shapes; a second
 * call puts them back. */
static void swap_shapes(const step_plan *s)
{
    for (int e = 0; e < s->n_spec; e++) {
        spec_shapes *sp = &s->spec[e];
        ck_layer *l = sp->layer;
        for (int k = 0; k < sp->n_in; k++) {
            ck_shape t = l->in_shapes[k];
            l->in_shapes[k] = sp->in[k], sp->in[k] = t;
        }
        for (int k = 0; k < sp->n_out; k++) {
            ck_shape t = l->out_shapes[k];
            l->out_shapes[k] = sp->out[k], sp->out[k] = t;
        }
    }
}

static int count_layers(const ck_layer *l)
{
    int n = 1;
    for (int i = 0; i < l->n_sublayers; i++) n += count_layers(l->sublayers[i]);
    return n;
}

static void scratch_free(ck_layer *t)
{
    for (int i = 0; i < t->n_sublayers; i++) {
        scratch_free(t->sublayers[i]);
        ck_free(t->sublayers[i]);
    }
    ck_free(t->sublayers);
    ck_free(t->weights);
    ck_free(t->state);
}

/* A scratch copy of a layer to build for shape inference: the same class and
 * config, no weights, no state, not built; its sublayers scratch copies too. */
static ck_status scratch_copy(const ck_layer *l, ck_layer *t)
{
    *t = *l;
    t->weights = NULL, t->n_weights = t->cap_weights = 0, t->state = NULL, t->built = false;
    t->n_in = t->n_out = 0;
    t->sublayers = NULL, t->n_sublayers = 0;
    if (!l->n_sublayers) return CK_OK;
    if (!(t->sublayers = ck_calloc((size_t)l->n_sublayers, sizeof *t->sublayers)))
        return ck_fail(CK_ERR_NOMEM, "out of memory planning");
    for (int i = 0; i < l->n_sublayers; i++) {
        if (!(t->sublayers[i] = ck_malloc(sizeof *t->sublayers[i]))) return ck_fail(CK_ERR_NOMEM, "out of memory planning");
        t->n_sublayers = i + 1;
        ck_status st = scratch_copy(l->sublayers[i], t->sublayers[i]);
        if (st) return st;
    }
    return CK_OK;
}

/* The scratch build made the weights the layer has (a length never changes a kernel). */
static bool same_weights(const ck_layer *t, const ck_layer *l)
{
    if (t->n_weights != l->n_weights || t->n_sublayers != l->n_sublayers) return false;
    for (int k = 0; k < l->n_weights; k++)
        if (!ck_shape_eq(&t->weights[k].shape, &l->weights[k].shape)) return false;
    for (int i = 0; i < l->n_sublayers; i++)
        if (!same_weights(t->sublayers[i], l->sublayers[i])) return false;
    return true;
}

/* The sublayers' concrete build shapes, from their scratch twins, from spec[*at] on. */
static void collect_sublayers(ck_layer *l, const ck_layer *t, spec_shapes *spec, int *at)
{
    for (int i = 0; i < l->n_sublayers; i++) {
        ck_layer *sl = l->sublayers[i];
        const ck_layer *st = t->sublayers[i];
        spec_shapes *sp = &spec[(*at)++];
        sp->layer = sl;
        sp->n_in = st->n_in < sl->n_in ? st->n_in : sl->n_in;
        sp->n_out = st->n_out < sl->n_out ? st->n_out : sl->n_out;
        memcpy(sp->in, st->in_shapes, sizeof sp->in);
        memcpy(sp->out, st->out_shapes, sizeof sp->out);
        collect_sublayers(sl, st, spec, at);
    }
}

/* The layer's output shapes for this call's concrete inputs: its class's build
 * run on a scratch copy of the layer (and of its sublayers), so the model's
 * layers, weights and stored shapes stay as they are. */
static ck_status infer_shapes(step_plan *s, ck_node *n, ck_layer *l)
{
    int ni = n->n_inputs, no = n->n_outputs;
    const char *cn = l->cls->class_name;
    if (ni > CK_LAYER_SHAPES || no > CK_LAYER_SHAPES)
        return ck_fail(CK_ERR_UNSUPPORTED, "%s '%s': too many inputs or outputs to specialise", cn, l->name);
    int count = count_layers(l);
    if (!(s->spec = ck_calloc((size_t)count, sizeof *s->spec))) return ck_fail(CK_ERR_NOMEM, "out of memory planning");
    spec_shapes *top = &s->spec[0];
    top->layer = l;
    ck_status st = CK_OK;
    for (int k = 0; !st && k < ni; k++) {
        top->in[k] = s->in[k]->shape;
        top->in[k].dim[0] = n->inputs[k]->shape.dim[0]; /* the build's batch dim (None or fixed) */
        st = check_fits(&n->inputs[k]->shape, &top->in[k], "input", cn, l->name, k);
    }
    if (st) return st;
    ck_layer tmp;
    int n_out = 0, at = 1;
    st = scratch_copy(l, &tmp);
    if (!st) st = l->cls->build(&tmp, top->in, ni, top->out, &n_out);
    bool same = !st && same_weights(&tmp, l);
    if (same) collect_sublayers(l, &tmp, s->spec, &at);
    scratch_free(&tmp);
    if (st) return ck_fail_prefix(st, "specialising to the data's shape: ");
    if (!same) return ck_fail(CK_ERR_SHAPE, "%s '%s': its weights depend on the input length", cn, l->name);
    if (n_out != no) return ck_fail(CK_ERR_STATE, "%s '%s': %d outputs for a node of %d", cn, l->name, n_out, no);
    top->n_in = ni < l->n_in ? ni : l->n_in;
    top->n_out = no < l->n_out ? no : l->n_out;
    s->n_spec = count;
    return CK_OK;
}

/* True when some input value's dims differ from the node's built input shape. */
static bool needs_spec(const step_plan *s, const ck_node *n)
{
    for (int k = 0; k < n->n_inputs; k++)
        if (!same_dims(&s->in[k]->shape, &n->inputs[k]->shape)) return true;
    return false;
}

static bool all_masked(const step_plan *s, int ni)
{
    for (int k = 0; k < ni; k++)
        if (!s->in[k]->mask) return false;
    return ni > 0;
}

/* Keras masks: each output's mask per the class's mask hook (a new [batch, steps]
 * buffer, or input 0's passed through), and the inputs' masks for the call. */
static ck_status plan_masks(step_plan *s, ck_layer *l, int64_t batch)
{
    int ni = s->node->n_inputs, no = s->node->n_outputs;
    bool any = false;
    for (int k = 0; k < ni; k++) any = any || s->in[k]->mask;
    if (any) {
        if (!(s->in_masks = ck_calloc((size_t)ni, sizeof *s->in_masks))) return ck_fail(CK_ERR_NOMEM, "out of memory planning");
        for (int k = 0; k < ni; k++) s->in_masks[k] = s->in[k]->mask;
    }
    for (int k = 0; k < no && l->cls->mask; k++) {
        ck_mask_mode mode = l->cls->mask(l, k);
        value *o = s->out[k];
        if (mode == CK_MASK_PASS && ni > 0 && s->in[0]->mask) {
            o->mask = s->in[0]->mask, o->mask_len = s->in[0]->mask_len;
        } else if ((mode == CK_MASK_NEW || (mode == CK_MASK_ALL && all_masked(s, ni)) ||
                    (mode == CK_MASK_ANY && any)) && !s->out_mask) {
            /* one flag per output position but the last (feature) axis */
            int64_t steps = o->size / o->shape.dim[o->shape.rank - 1];
            ck_status st = alloc_rows(batch, steps, &s->out_mask, l);
            if (st) return st;
            o->mask = s->out_mask, o->mask_len = steps, o->owns_mask = true;
        }
    }
    return CK_OK;
}

/* The channel axis of a rank-r tensor of a channels_first layer with `spatial`
 * spatial axes, which sit right after it: 0 when the tensor has no such axis
 * (GlobalAveragePooling2D's [batch, channels] output). */
static int channel_axis(const ck_shape *s, int spatial)
{
    int a = s->rank - 1 - spatial;
    return a >= 1 && a < s->rank - 1 ? a : 0;
}

/* The shape with its channel axis `a` moved last (a = 0: as it is). */
static ck_shape channels_last(const ck_shape *s, int a)
{
    ck_shape t = *s;
    if (!a) return t;
    for (int i = a; i < s->rank - 1; i++) t.dim[i] = s->dim[i + 1];
    t.dim[s->rank - 1] = s->dim[a];
    return t;
}

static ck_status plan_moved(moved_axis *m, const value *v, int spatial, int64_t batch, const ck_layer *l)
{
    if (!(m->axis = channel_axis(&v->shape, spatial))) return CK_OK;
    m->outer = 1, m->channels = v->shape.dim[m->axis], m->inner = 1;
    for (int i = 1; i < m->axis; i++) m->outer *= v->shape.dim[i];
    for (int i = m->axis + 1; i < v->shape.rank; i++) m->inner *= v->shape.dim[i];
    ck_status st = alloc_rows(batch, v->size, &m->data, l);
    return st ? st : alloc_rows(batch, v->size, &m->grad, l);
}

/* The build shapes of layer l and its sublayers, from spec[*at] on, as built. */
static void spec_as_built(ck_layer *l, int ni, int no, spec_shapes *spec, int *at)
{
    spec_shapes *sp = &spec[(*at)++];
    sp->layer = l;
    sp->n_in = ni < l->n_in ? ni : l->n_in;
    sp->n_out = no < l->n_out ? no : l->n_out;
    memcpy(sp->in, l->in_shapes, sizeof sp->in);
    memcpy(sp->out, l->out_shapes, sizeof sp->out);
    for (int i = 0; i < l->n_sublayers; i++) spec_as_built(l->sublayers[i], CK_LAYER_SHAPES, CK_LAYER_SHAPES, spec, at);
}

/* Keras runs a channels_first layer in that layout (on CPU too); the hooks
 * of ckeras's classes know channels-last only, so the engine plans, for each
 * such step, channels-last copies of its inputs and outputs and their
 * gradients, and its build shapes permuted alike (lent like a specialised
 * plan's), so the step stays free of allocation. */
static ck_status plan_channels_last(step_plan *s, ck_layer *l, int spatial, int64_t batch)
{
    int ni = s->node->n_inputs, no = s->node->n_outputs;
    if (!s->spec) {
        int count = count_layers(l), at = 0;
        if (!(s->spec = ck_calloc((size_t)count, sizeof *s->spec))) return ck_fail(CK_ERR_NOMEM, "out of memory planning");
        s->n_spec = count;
        spec_as_built(l, ni, no, s->spec, &at);
    }
    /* a wrapper (TimeDistributed) of a channels_first layer: both move */
    for (int e = 0; e < s->n_spec; e++) {
        spec_shapes *sp = &s->spec[e];
        for (int k = 0; k < sp->n_in; k++) sp->in[k] = channels_last(&sp->in[k], channel_axis(&sp->in[k], spatial));
        for (int k = 0; k < sp->n_out; k++)
            sp->out[k] = channels_last(&sp->out[k], channel_axis(&sp->out[k], spatial));
    }
    s->moved_in = ck_calloc((size_t)ni + 1, sizeof *s->moved_in);
    s->moved_out = ck_calloc((size_t)no + 1, sizeof *s->moved_out);
    if (!s->moved_in || !s->moved_out) return ck_fail(CK_ERR_NOMEM, "out of memory planning");
    ck_status st = CK_OK;
    for (int k = 0; !st && k < ni; k++) st = plan_moved(&s->moved_in[k], s->in[k], spatial, batch, l);
    for (int k = 0; !st && k < no; k++) st = plan_moved(&s->moved_out[k], s->out[k], spatial, batch, l);
    return st;
}

/* A model input of an integer dtype: Keras's convert_input casts floats only. */
static bool holds_integers(const ck_ktensor *t)
{
    const char *d = t->node->layer->dtype;
    return ck_layer_is_input(t->node->layer) &&
           (!strncmp(d, "int", 3) || !strncmp(d, "uint", 4) || !strcmp(d, "bool"));
}

/* The weights a half step rounds around its hooks: the float ones, unless the
 * class keeps them float32 (autocast=False in Keras). */
static bool rounds_weight(const ck_layer *l, const ck_weight *w)
{
    return !l->cls->float32_variables && w->dtype == CK_FLOAT32;
}

static ck_status plan_half(step_plan *s, ck_node *n, int64_t batch)
{
    ck_layer *l = n->layer;
    if (!(s->half = ck_half_of_dtype(l->dtype))) return CK_OK;
    int ni = n->n_inputs;
    if (!(s->half_in = ck_calloc((size_t)ni + 1, sizeof *s->half_in))) return ck_fail(CK_ERR_NOMEM, "out of memory planning");
    ck_status st = CK_OK;
    for (int k = 0; !st && k < ni; k++)
        if (s->in[k]->half != s->half && !holds_integers(n->inputs[k]) && !l->cls->no_autocast)
            st = alloc_rows(batch, s->in[k]->size, &s->half_in[k], l);
    int64_t floats = 0;
    for (int i = 0; i < l->n_weights; i++)
        if (rounds_weight(l, &l->weights[i])) floats += l->weights[i].size;
    if (!st && floats) st = alloc_rows(1, floats, &s->weights_f32, l);
    for (int k = 0; k < n->n_outputs; k++) s->out[k]->half = s->half;
    return st;
}

/* A float32 step reading a bfloat16 step's output gets the unrounded twin. */
static ck_status plan_unrounded(step_plan *s, ck_node *n, int64_t batch)
{
    if (s->half) return CK_OK;
    ck_status st = CK_OK;
    for (int k = 0; !st && k < n->n_inputs; k++) {
        value *v = s->in[k];
        if (v->half == CK_HALF_BFLOAT16 && !v->unrounded && !holds_integers(n->inputs[k]) &&
            !n->inputs[k]->node->layer->cls->casts_output)
            st = alloc_rows(batch, v->size, &v->unrounded, n->layer);
    }
    return st;
}

static ck_status plan_step(ck_plan *p, step_plan *s, ck_node *n, value **ext_inputs, const ck_shape *in_shapes,
                           int64_t batch)
{
    ck_layer *l = n->layer;
    int ni = n->n_inputs, no = n->n_outputs;
    s->node = n;
    s->in = ck_calloc((size_t)ni + 1, sizeof *s->in);
    s->out = ck_calloc((size_t)no + 1, sizeof *s->out);
    s->tin = ck_calloc((size_t)ni + 1, sizeof *s->tin);
    s->tdin = ck_calloc((size_t)ni + 1, sizeof *s->tdin);
    s->tout = ck_calloc((size_t)no + 1, sizeof *s->tout);
    s->tdout = ck_calloc((size_t)no + 1, sizeof *s->tdout);
    if (!s->in || !s->out || !s->tin || !s->tdin || !s->tout || !s->tdout) return ck_fail(CK_ERR_NOMEM, "out of memory planning");
    for (int k = 0; k < ni; k++) {
        s->in[k] = p->slot[n->inputs[k]->slot];
        if (!s->in[k]) return ck_fail(CK_ERR_STATE, "%s '%s': input %d is computed after its use", l->cls->class_name, l->name, k);
    }
    ck_status st = CK_OK;
    int mi = model_input_index(p->model, n);
    if (ni == 0 && mi >= 0) {
        s->is_input = true;
        const ck_shape *shape = &n->outputs[0].shape;
        if (in_shapes && !ext_inputs) {
            shape = &in_shapes[mi];
            if ((st = check_fits(&n->outputs[0].shape, shape, "input", NULL, NULL, mi))) return st;
        }
        if (ext_inputs) s->out[0] = ext_inputs[mi];
        else if (!(st = new_value(p, shape, batch, l, &s->out[0]))) s->out[0]->is_input = true;
    } else if (l->model) {
        if ((st = plan_new(l->model, s->in, NULL, batch, &s->sub))) return st;
        if (no != l->model->n_outputs) return ck_fail(CK_ERR_STATE, "model '%s': node outputs do not match", l->name);
        for (int k = 0; k < no; k++) s->out[k] = s->sub->outputs[k];
    } else {
        if (!l->cls->forward)
            return ck_fail(CK_ERR_UNSUPPORTED, "%s '%s': the engine cannot run this layer class yet",
                           l->cls->class_name, l->name);
        if (needs_spec(s, n) && (st = infer_shapes(s, n, l))) return st;
        for (int k = 0; !st && k < no; k++)
            st = new_value(p, s->spec ? &s->spec[0].out[k] : &n->outputs[k].shape, batch, l, &s->out[k]);
        int spatial = l->cls->channels_first ? l->cls->channels_first(l) : 0;
        if (!st && spatial > 0) st = plan_channels_last(s, l, spatial, batch);
        swap_shapes(s);
        s->ws_per_row = l->cls->workspace ? l->cls->workspace(l) : 0;
        swap_shapes(s);
        if (!st && s->ws_per_row > 0) st = alloc_rows(batch, s->ws_per_row, &s->ws, l);
        if (!st) st = plan_masks(s, l, batch);
        if (!st) st = plan_half(s, n, batch);
        if (!st) st = plan_unrounded(s, n, batch);
        s->has_weights = l->n_weights > 0;
    }
    for (int k = 0; !st && k < no; k++) p->slot[n->outputs[k].slot] = s->out[k];
    return st;
}

static bool is_plan_output(const ck_plan *p, const value *v)
{
    for (int o = 0; o < p->model->n_outputs; o++)
        if (p->outputs[o] == v) return true;
    return false;
}

/* The one step that reads value v, or NULL (none, several, or the caller). */
static step_plan *only_reader(ck_plan *p, int after, const value *v)
{
    step_plan *reader = NULL;
    int readers = 0;
    for (int j = after + 1; j < p->n_steps; j++)
        for (int k = 0; k < p->steps[j].node->n_inputs; k++)
            if (p->steps[j].in[k] == v) readers++, reader = &p->steps[j];
    return readers == 1 && !is_plan_output(p, v) ? reader : NULL;
}

/* A plain one-in, one-out layer step, without masks or shape specialisation:
 * what a producer and its fused or folded readers must be. */
static bool plain_step(const step_plan *s)
{
    return !s->is_input && !s->sub && !s->spec && !s->in_masks && !s->out_mask && !s->half &&
           s->node->n_inputs == 1 && s->node->n_outputs == 1;
}

/* A class's fusion protocol; none (all zero) for the classes that do not fuse. */
static const ck_fusion *fusion_of(const ck_layer *l)
{
    static const ck_fusion none = {0};
    return l->cls->fusion ? l->cls->fusion : &none;
}

/* A streaming producer (a convolution) whose output is read by exactly one
 * per-sample step without scratch (pooling), and by nothing else, not the
 * caller either, hands that step each chunk of rows as it finishes, so pooling
 * reads them from cache instead of re-reading the whole activation from memory. */
static void plan_fuse(ck_plan *p)
{
    for (int i = 0; i < p->n_steps; i++) {
        step_plan *s = &p->steps[i], *reader;
        if (!plain_step(s) || !fusion_of(s->node->layer)->streams_rows) continue;
        if ((reader = only_reader(p, i, s->out[0])) && plain_step(reader) && reader->ws_per_row == 0 &&
            fusion_of(reader->node->layer)->per_sample)
            s->fused = reader, reader->runs_fused = true, s->out[0]->grad_by_rows = true;
    }
}

/* A producer that folds readers (a convolution) whose only reader is a layer
 * that can be a per-channel affine map (BatchNormalization), perhaps followed
 * by an activation that only it feeds: at inference the producer does their
 * work in its own product and epilogue (ck_exec_fold). Channels-last outputs. */
static ck_status plan_fold(ck_plan *p)
{
    for (int i = 0; i < p->n_steps; i++) {
        step_plan *s = &p->steps[i];
        if (!plain_step(s) || s->fused || !fusion_of(s->node->layer)->folds_readers) continue;
        step_plan *r1 = only_reader(p, i, s->out[0]);
        if (!r1 || !plain_step(r1) || r1->runs_fused || !fusion_of(r1->node->layer)->affine) continue;
        step_plan *r2 = only_reader(p, (int)(r1 - p->steps), r1->out[0]);
        ck_act_kind kind;
        if (r2 && !(plain_step(r2) && fusion_of(r2->node->layer)->as_activation &&
                    fusion_of(r2->node->layer)->as_activation(r2->node->layer, &kind)))
            r2 = NULL;
        const ck_shape *sh = &s->out[0]->shape;
        int64_t channels = sh->dim[sh->rank - 1];
        if (!(s->fold_buf = ck_malloc((size_t)(2 * channels) * sizeof *s->fold_buf)))
            return ck_fail(CK_ERR_NOMEM, "out of memory planning");
        s->fold[0] = r1, s->fold[1] = r2;
    }
    return CK_OK;
}

/* Whether every reader of value v (made by step `after`) is a channels_first
 * step of this plan moving the same axis, and there is one. */
static bool only_moved_readers(const ck_plan *p, int after, const value *v, int axis)
{
    int readers = 0;
    for (int j = after + 1; j < p->n_steps; j++) {
        const step_plan *r = &p->steps[j];
        for (int k = 0; !r->is_input && k < r->node->n_inputs; k++) {
            if (r->in[k] != v) continue;
            if (r->sub || !r->moved_in || r->moved_in[k].axis != axis) return false;
            readers++;
        }
    }
    return readers > 0;
}

static void share_move(moved_axis *m, value *v)
{
    ck_free(m->data), ck_free(m->grad);
    m->data = v->data, m->grad = v->grad, m->shared = true;
}

/* A value that a channels_first step makes, that only channels_first steps
 * read (moving the same axis) and that the caller never sees, is held in the
 * channels-last layout itself: neither its producer nor its readers move it,
 * so a chain of channels_first layers moves only at its ends. */
static void plan_share_moves(ck_plan *p)
{
    for (int i = 0; i < p->n_steps; i++) {
        step_plan *s = &p->steps[i];
        for (int k = 0; s->moved_out && k < s->node->n_outputs; k++) {
            value *v = s->out[k];
            int axis = s->moved_out[k].axis;
            if (!axis || is_plan_output(p, v) || !only_moved_readers(p, i, v, axis)) continue;
            share_move(&s->moved_out[k], v);
            for (int j = i + 1; j < p->n_steps; j++)
                for (int r = 0; !p->steps[j].is_input && r < p->steps[j].node->n_inputs; r++)
                    if (p->steps[j].in[r] == v) share_move(&p->steps[j].moved_in[r], v);
        }
    }
}

static ck_status plan_new(ck_model *m, value **ext_inputs, const ck_shape *in_shapes, int64_t batch, ck_plan **out)
{
    ck_plan *p = ck_calloc(1, sizeof *p);
    if (!p) return ck_fail(CK_ERR_NOMEM, "out of memory planning");
    p->model = m;
    p->n_slots = count_slots(m);
    p->owned = ck_calloc((size_t)p->n_slots + 1, sizeof *p->owned);
    p->slot = ck_calloc((size_t)p->n_slots + 1, sizeof *p->slot);
    p->steps = ck_calloc((size_t)m->n_steps + 1, sizeof *p->steps);
    p->inputs = ck_calloc((size_t)m->n_inputs + 1, sizeof *p->inputs);
    p->outputs = ck_calloc((size_t)m->n_outputs + 1, sizeof *p->outputs);
    ck_status st = (!p->owned || !p->slot || !p->steps || !p->inputs || !p->outputs)
                       ? ck_fail(CK_ERR_NOMEM, "out of memory planning") : CK_OK;
    for (int i = 0; !st && i < m->n_steps; i++) {
        st = plan_step(p, &p->steps[i], m->steps[i].node, ext_inputs, in_shapes, batch);
        p->n_steps = i + 1;
    }
    for (int i = 0; !st && i < m->n_inputs; i++)
        if (!(p->inputs[i] = p->slot[m->inputs[i]->slot]))
            st = ck_fail(CK_ERR_STATE, "model '%s': input %d is not part of its plan", m->base.name, i);
    for (int i = 0; !st && i < m->n_outputs; i++)
        if (!(p->outputs[i] = p->slot[m->outputs[i]->slot]))
            st = ck_fail(CK_ERR_STATE, "model '%s': output %d is not computed by its plan", m->base.name, i);
    if (st) {
        plan_free(p);
        return st;
    }
    plan_fuse(p);
    plan_share_moves(p);
    if ((st = plan_fold(p))) {
        plan_free(p);
        return st;
    }
    *out = p;
    return CK_OK;
}

/* need_grad flows forward: a value needs its gradient when the step that made it
 * has weights or reads a value that needs one. Top-level inputs need it only on
 * request (gradient checks). */
static void plan_mark(ck_plan *p, bool inputs_need)
{
    for (int i = 0; i < p->n_steps; i++) {
        step_plan *s = &p->steps[i];
        int no = s->node->n_outputs;
        if (s->is_input) {
            if (s->out[0]->is_input) s->out[0]->need_grad = inputs_need;
            continue;
        }
        if (s->sub) {
            plan_mark(s->sub, inputs_need);
            continue;
        }
        bool need = s->has_weights;
        for (int k = 0; k < s->node->n_inputs; k++) need = need || s->in[k]->need_grad;
        for (int k = 0; k < no; k++) s->out[k]->need_grad = need;
    }
}

/* ---- running ---------------------------------------------------------------------- */
static void views(ck_tensor *t, ck_tensor *dt, value *const *v, int n, int64_t rows, bool grads_only_if_needed)
{
    for (int k = 0; k < n; k++) {
        t[k].shape = v[k]->shape;
        t[k].shape.dim[0] = rows;
        t[k].data = v[k]->data;
        if (dt) {
            dt[k].shape = t[k].shape;
            dt[k].data = (!grads_only_if_needed || v[k]->need_grad) ? v[k]->grad : NULL;
        }
    }
}

/* A channels_first step's views (ck_layer_class.channels_first): the moved
 * tensors point at their channels-last copies. Forward fills the inputs'
 * copies; backward finds them as forward left them, and gets its
 * output gradients moved and its input gradients' copies zeroed (hooks add). */
static void move_views(const step_plan *s, int64_t rows, bool backward)
{
    for (int k = 0; k < s->node->n_inputs; k++) {
        moved_axis *m = &s->moved_in[k];
        if (!m->axis) continue;
        const float *src = s->tin[k].data; /* the value, or a half step's rounded copy */
        s->tin[k].shape = channels_last(&s->tin[k].shape, m->axis);
        s->tin[k].data = m->data;
        if (!backward && !m->shared) ck_transpose_batched(src, rows * m->outer, m->channels, m->inner, m->data, false);
        if (!backward || !s->tdin[k].data) continue;
        s->tdin[k] = (ck_tensor){s->tin[k].shape, m->grad};
        if (!m->shared) memset(m->grad, 0, (size_t)(rows * s->in[k]->size) * sizeof(float));
    }
    for (int k = 0; k < s->node->n_outputs; k++) {
        moved_axis *m = &s->moved_out[k];
        if (!m->axis) continue;
        s->tout[k].shape = channels_last(&s->tout[k].shape, m->axis);
        s->tout[k].data = m->data;
        if (!backward) continue;
        s->tdout[k] = (ck_tensor){s->tout[k].shape, m->grad};
        if (!m->shared) ck_transpose_batched(s->out[k]->grad, rows * m->outer, m->channels, m->inner, m->grad, false);
    }
}

/* After a channels_first step's hook: its outputs (forward) or its input
 * gradients, added (backward), moved back to the layer's layout. */
static void move_back(const step_plan *s, int64_t rows, bool backward)
{
    int n = backward ? s->node->n_inputs : s->node->n_outputs;
    for (int k = 0; k < n; k++) {
        moved_axis *m = backward ? &s->moved_in[k] : &s->moved_out[k];
        if (!m->axis || m->shared || (backward && s->tdin[k].data != m->grad)) continue;
        /* [outer, inner, channels] -> [outer, channels, inner]; backward adds */
        if (backward) ck_transpose_batched(m->grad, rows * m->outer, m->inner, m->channels, s->in[k]->grad, true);
        else ck_transpose_batched(m->data, rows * m->outer, m->inner, m->channels, s->out[k]->data, false);
    }
}

/* Layers report their own message (ck_layer_error); this only guards a bare status. */
static ck_status layer_failed(ck_status st, const ck_layer *l)
{
    return ck_errmsg()[0] ? st : ck_fail(st, "%s '%s': failed", l->cls->class_name, l->name);
}

static double act_reg_forward(const ck_act_reg *a, const float *y, int64_t rows, int64_t per_row)
{
    return ck_l1l2_penalty(y, rows * per_row, a->l1, a->l2) / (double)rows;
}

static void act_reg_backward(const ck_act_reg *a, const float *y, float *dy, int64_t rows, int64_t per_row)
{
    ck_l1l2_penalty_grad(y, dy, rows * per_row, a->l1, a->l2, 1.0f / (float)rows);
}

static const ck_act_reg *act_reg_of(const ck_exec *ex, const ck_layer *l)
{
    for (int i = 0; i < ex->n_act_regs; i++)
        if (ex->act_regs[i].layer == l) return &ex->act_regs[i];
    return NULL;
}

/* Rows [row0, row0 + n) of a fused reader (plan_fuse): one input, one output,
 * no masks or scratch. Leaves the producer's exec fields as they were. */
/* Views of rows [row0, row0 + n) of a fused reader's input and output, and with
 * grads of their gradients (an input gradient nobody wants stays NULL). */
static void row_views(step_plan *r, int64_t row0, int64_t n, bool grads)
{
    views(r->tin, grads ? r->tdin : NULL, r->in, 1, n, true);
    views(r->tout, grads ? r->tdout : NULL, r->out, 1, n, false);
    int64_t in_at = row0 * r->in[0]->size, out_at = row0 * r->out[0]->size;
    r->tin[0].data += in_at, r->tout[0].data += out_at;
    if (grads && r->tdin[0].data) r->tdin[0].data += in_at;
    if (grads) r->tdout[0].data += out_at;
}

/* The producer's exec fields while its fused reader's hook runs in its place. */
typedef struct producer_fields {
    float *workspace;
    struct step_plan *fused, *step;
} producer_fields;

static producer_fields enter_reader(ck_exec *ex, step_plan *r)
{
    producer_fields saved = {ex->run.workspace, ex->fused, ex->step};
    ex->run.workspace = NULL, ex->fused = NULL, ex->step = r;
    return saved;
}

static void leave_reader(ck_exec *ex, producer_fields saved)
{
    ex->run.workspace = saved.workspace, ex->fused = saved.fused, ex->step = saved.step;
}

static ck_status run_rows(ck_exec *ex, step_plan *r, int64_t row0, int64_t n)
{
    ck_layer *l = r->node->layer;
    row_views(r, row0, n, false);
    producer_fields saved = enter_reader(ex, r);
    ck_status st = l->cls->forward(l, r->tin, 1, r->tout, 1, &ex->run);
    leave_reader(ex, saved);
    return st ? layer_failed(st, l) : CK_OK;
}

/* The model's weights_gen plus its nested models': any of them moving means
 * some weight of this plan may have changed. */
static uint64_t weights_gen(const ck_model *m)
{
    uint64_t g = m->weights_gen;
    for (int i = 0; i < m->n_steps; i++)
        if (m->steps[i].node->layer->model) g += weights_gen(m->steps[i].node->layer->model);
    return g;
}

const float *ck_exec_packed(ck_run *run, const float *B, int64_t ldb, int64_t K, int64_t N)
{
    return ck_exec_packed_scaled(run, B, ldb, K, N, NULL);
}

float *ck_exec_weight_cache(ck_run *run, const float *src, ck_weight_form form, int64_t floats, bool *fresh)
{
    ck_exec *ex = run ? run->exec : NULL;
    *fresh = false;
    if (!ex || !ex->step || !src) return NULL;
    if (!ex->gen_known) ex->weights_gen = weights_gen(ex->model), ex->gen_known = true;
    packed_weight *slot = NULL;
    for (int k = 0; k < PACKED_PER_STEP && !slot; k++) {
        packed_weight *p = &ex->step->packed[k];
        if ((p->src == src && p->kind == (int)form) || !p->src) slot = p;
    }
    if (!slot) return NULL;
    if (slot->src == src && slot->floats == floats && slot->gen == ex->weights_gen) return slot->data;
    if (floats > slot->cap) {
        float *data = ck_malloc((size_t)floats * sizeof *data);
        if (!data) return NULL;
        ck_free(slot->data);
        slot->data = data, slot->cap = floats;
    }
    *slot = (packed_weight){.src = src, .kind = (int)form, .floats = floats, .gen = ex->weights_gen,
                            .data = slot->data, .cap = slot->cap};
    *fresh = true;
    return slot->data;
}

const float *ck_exec_packed_scaled(ck_run *run, const float *B, int64_t ldb, int64_t K, int64_t N,
                                   const float *col_scale)
{
    int nr = ck_packed_nr();
    bool fresh;
    float *p = nr ? ck_exec_weight_cache(run, B, col_scale ? CK_FORM_PACKED_SCALED : CK_FORM_PACKED,
                                         ck_packed_floats(K, N, nr), &fresh)
                  : NULL;
    if (p && fresh) ck_pack_b(B, ldb, K, N, col_scale, nr, p);
    return p;
}

/* The backward of rows [row0, row0 + n) of a fused reader, into its input
 * gradient's rows, zeroed first (zero_grads leaves that value to this). */
static ck_status run_rows_backward(ck_exec *ex, step_plan *r, int64_t row0, int64_t n)
{
    ck_layer *l = r->node->layer;
    row_views(r, row0, n, true);
    if (!r->tdin[0].data) return CK_OK; /* nothing upstream wants it (the producer has weights, so never) */
    memset(r->tdin[0].data, 0, (size_t)(n * r->in[0]->size) * sizeof(float));
    producer_fields saved = enter_reader(ex, r);
    ck_status st = l->cls->backward(l, r->tin, 1, r->tout, r->tdout, 1, r->tdin, &ex->run);
    leave_reader(ex, saved);
    return st ? layer_failed(st, l) : CK_OK;
}

/* Rows of a fused pair must come in order, each once. */
static ck_status next_rows(ck_exec *ex, int64_t row0, int64_t n)
{
    if (row0 != ex->fused_done || n < 0 || row0 + n > ex->rows)
        return ck_fail(CK_ERR_STATE, "rows %lld..%lld handed on out of order", (long long)row0, (long long)(row0 + n));
    ex->fused_done = row0 + n;
    return CK_OK;
}

bool ck_exec_fold(ck_run *run, int64_t channels, const float *bias, ck_fold *f)
{
    ck_exec *ex = run ? run->exec : NULL;
    step_plan *s = ex ? ex->step : NULL;
    if (!s || !ex->inference_only || !s->fold[0] || ex->n_act_regs) return false; /* a penalty reads their outputs */
    step_plan *r1 = s->fold[0], *r2 = s->fold[1];
    const ck_shape *sh = &s->out[0]->shape;
    float *scale = s->fold_buf, *shift = s->fold_buf + channels;
    if (sh->dim[sh->rank - 1] != channels || !fusion_of(r1->node->layer)->affine(r1->node->layer, &ex->run, channels, scale, shift))
        return false;
    for (int64_t c = 0; bias && c < channels; c++) shift[c] += bias[c] * scale[c];
    *f = (ck_fold){.scale = scale, .shift = shift, .act = CK_ACT_LINEAR, .out = r1->out[0]->data, .readers = 1};
    if (r2 && fusion_of(r2->node->layer)->as_activation(r2->node->layer, &f->act)) f->out = r2->out[0]->data, f->readers = 2;
    return true;
}

void ck_exec_fold_taken(ck_run *run, const ck_fold *f)
{
    if (run && run->exec) run->exec->folded = f->readers;
}

int ck_exec_folded_readers(const ck_exec *ex) { return ex->folded_in_pass; }

ck_status ck_exec_rows_done(ck_run *run, int64_t row0, int64_t n)
{
    ck_exec *ex = run ? run->exec : NULL;
    if (!ex || !ex->fused) return CK_OK;
    ck_status st = next_rows(ex, row0, n);
    return st ? st : run_rows(ex, ex->fused, row0, n);
}

ck_status ck_exec_rows_needed(ck_run *run, int64_t row0, int64_t n)
{
    ck_exec *ex = run ? run->exec : NULL;
    if (!ex || !ex->fused) return CK_OK;
    ck_status st = next_rows(ex, row0, n);
    return st ? st : run_rows_backward(ex, ex->fused, row0, n);
}

ck_status ck_exec_rows_needed_relu(ck_run *run, int64_t row0, int64_t n, float *dz, bool *done)
{
    ck_exec *ex = run ? run->exec : NULL;
    *done = false;
    if (!ex || !ex->fused) return CK_OK;
    step_plan *r = ex->fused;
    ck_layer *l = r->node->layer;
    if (fusion_of(l)->backward_relu) {
        row_views(r, row0, n, true);
        ck_status st = fusion_of(l)->backward_relu(l, r->tin, r->tout, r->tdout, dz + row0 * r->in[0]->size);
        if (st == CK_OK) {
            *done = true;
            return next_rows(ex, row0, n);
        }
        if (st != CK_ERR_UNSUPPORTED) return layer_failed(st, l);
    }
    return ck_exec_rows_needed(run, row0, n);
}

/* Before a half step's hook: its inputs' views on their rounded copies, and its
 * autocast weights rounded in place (the float32 values saved). */
static void half_enter(const step_plan *s, int64_t rows, bool backward)
{
    ck_layer *l = s->node->layer;
    for (int k = 0; k < s->node->n_inputs; k++) {
        if (!s->half_in[k]) continue;
        if (!backward) ck_round_half(s->half, s->in[k]->data, s->half_in[k], rows * s->in[k]->size);
        s->tin[k].data = s->half_in[k];
    }
    float *saved = s->weights_f32;
    for (int i = 0; saved && i < l->n_weights; i++) {
        ck_weight *w = &l->weights[i];
        if (!rounds_weight(l, w)) continue;
        memcpy(saved, w->value, (size_t)w->size * sizeof *saved);
        ck_round_half(s->half, w->value, w->value, w->size);
        saved += w->size;
    }
}

/* After it: the float32 weights back, and the outputs cast (forward). */
static void half_leave(const step_plan *s, int64_t rows, bool backward)
{
    ck_layer *l = s->node->layer;
    const float *saved = s->weights_f32;
    for (int i = 0; saved && i < l->n_weights; i++) {
        ck_weight *w = &l->weights[i];
        if (!rounds_weight(l, w)) continue;
        memcpy(w->value, saved, (size_t)w->size * sizeof *saved);
        saved += w->size;
    }
    for (int k = 0; !backward && k < s->node->n_outputs; k++) {
        value *v = s->out[k];
        if (v->unrounded) memcpy(v->unrounded, v->data, (size_t)(rows * v->size) * sizeof *v->unrounded);
        ck_round_half(s->half, v->data, v->data, rows * v->size);
    }
}

/* A float32 step's views of half values on their unrounded twins. */
static void unrounded_views(const step_plan *s)
{
    for (int k = 0; k < s->node->n_inputs; k++)
        if (s->in[k]->unrounded) s->tin[k].data = s->in[k]->unrounded;
}

static ck_status plan_forward(ck_exec *ex, ck_plan *p)
{
    for (int i = 0; i < p->n_steps; i++) {
        step_plan *s = &p->steps[i];
        if (s->is_input) continue;
        ck_status st;
        if (s->sub) {
            if ((st = plan_forward(ex, s->sub))) return st;
            continue;
        }
        ck_layer *l = s->node->layer;
        if (s->skip_once) continue; /* its producer did its work this pass (ck_exec_fold) */
        if (!s->runs_fused) {
            views(s->tin, NULL, s->in, s->node->n_inputs, ex->rows, false);
            views(s->tout, NULL, s->out, s->node->n_outputs, ex->rows, false);
            ex->run.workspace = s->ws;
            ex->run.in_masks = s->in_masks;
            ex->run.out_mask = s->out_mask;
            ex->fused = s->fused;
            ex->fused_done = 0;
            ex->step = s;
            ex->folded = 0;
            if (s->half) half_enter(s, ex->rows, false);
            else unrounded_views(s);
            if (s->moved_in) move_views(s, ex->rows, false), ex->run.channels_last_view = l;
            swap_shapes(s);
            st = l->cls->forward(l, s->tin, s->node->n_inputs, s->tout, s->node->n_outputs, &ex->run);
            swap_shapes(s);
            ex->run.channels_last_view = NULL;
            if (!st && s->moved_in) move_back(s, ex->rows, false);
            if (s->half) half_leave(s, ex->rows, false);
            ex->fused = NULL;
            if (st) return layer_failed(st, l);
            /* decided afresh every pass: folded at inference, run as usual in training */
            for (int k = 0; k < 2; k++)
                if (s->fold[k]) s->fold[k]->skip_once = ex->folded > k;
            ex->folded_in_pass += ex->folded;
            /* a producer that did not stream (or not all rows) leaves the rest to run here */
            if (s->fused && ex->fused_done < ex->rows &&
                (st = run_rows(ex, s->fused, ex->fused_done, ex->rows - ex->fused_done)))
                return st;
        }
        const ck_act_reg *a = ex->n_act_regs ? act_reg_of(ex, l) : NULL;
        for (int k = 0; a && k < s->node->n_outputs; k++)
            ex->act_penalty += act_reg_forward(a, s->out[k]->data, ex->rows, s->out[k]->size);
    }
    return CK_OK;
}

static void zero_grads(ck_plan *p, int64_t rows)
{
    for (int i = 0; i < p->n_owned; i++)
        if (p->owned[i].need_grad && !p->owned[i].grad_by_rows)
            memset(p->owned[i].grad, 0, (size_t)(rows * p->owned[i].size) * sizeof(float));
    for (int i = 0; i < p->n_steps; i++)
        if (p->steps[i].sub) zero_grads(p->steps[i].sub, rows);
}

static ck_status plan_backward(ck_exec *ex, ck_plan *p)
{
    for (int i = p->n_steps - 1; i >= 0; i--) {
        step_plan *s = &p->steps[i];
        if (s->is_input) continue;
        ck_status st;
        if (s->sub) {
            if ((st = plan_backward(ex, s->sub))) return st;
            continue;
        }
        bool need = s->has_weights;
        for (int k = 0; k < s->node->n_inputs; k++) need = need || s->in[k]->need_grad;
        if (!need) continue;
        ck_layer *l = s->node->layer;
        if (!l->cls->backward)
            return ck_fail(CK_ERR_UNSUPPORTED, "%s '%s': the engine has no backward for this layer class",
                           l->cls->class_name, l->name);
        const ck_act_reg *a = ex->n_act_regs ? act_reg_of(ex, l) : NULL;
        /* an activity penalty on a producer's output adds to the whole gradient
         * first, so its fused reader runs whole, before it, not by chunks */
        bool stream = s->fused && !a;
        if (s->fused && !stream && (st = run_rows_backward(ex, s->fused, 0, ex->rows))) return st;
        for (int k = 0; a && k < s->node->n_outputs; k++) /* every consumer has run: dout is complete */
            act_reg_backward(a, s->out[k]->data, s->out[k]->grad, ex->rows, s->out[k]->size);
        if (s->runs_fused) continue; /* its producer runs it, chunk by chunk */
        views(s->tin, s->tdin, s->in, s->node->n_inputs, ex->rows, true);
        views(s->tout, s->tdout, s->out, s->node->n_outputs, ex->rows, false);
        ex->run.workspace = s->ws;
        ex->run.in_masks = s->in_masks;
        ex->run.out_mask = s->out_mask;
        ex->fused = stream ? s->fused : NULL;
        ex->fused_done = 0;
        ex->step = s;
        if (s->half) half_enter(s, ex->rows, true);
        else unrounded_views(s);
        if (s->moved_in) move_views(s, ex->rows, true), ex->run.channels_last_view = l;
        swap_shapes(s);
        st = l->cls->backward(l, s->tin, s->node->n_inputs, s->tout, s->tdout, s->node->n_outputs, s->tdin, &ex->run);
        swap_shapes(s);
        ex->run.channels_last_view = NULL;
        if (!st && s->moved_in) move_back(s, ex->rows, true);
        if (s->half) half_leave(s, ex->rows, true);
        ex->fused = NULL;
        if (st) return layer_failed(st, l);
        if (stream && ex->fused_done != ex->rows) /* its output gradient was never made */
            return ck_fail(CK_ERR_STATE, "%s '%s': backward did not ask for its output gradient's rows",
                           l->cls->class_name, l->name);
        if (s->has_weights && ex->grad_ready && (st = ex->grad_ready(ex->grad_ready_user, l))) return st;
    }
    return CK_OK;
}

/* ---- public (internal) API ------------------------------------------------------------ */
static ck_status attach_grads(ck_model *m)
{
    if (!m->grad_block) {
        m->grad_block = ck_calloc((size_t)(m->weight_block_size ? m->weight_block_size : 1), sizeof(float));
        if (!m->grad_block) return ck_fail(CK_ERR_NOMEM, "model '%s': out of memory for gradients", m->base.name);
    }
    ck_weight_ref *refs;
    int n;
    ck_status st = ck_model_collect_weights(m, &refs, &n);
    if (st) return st;
    for (int i = 0; i < n; i++) {
        ck_weight *w = refs[i].w;
        ptrdiff_t off = w->value - m->weight_block;
        if (!w->value || off < 0 || off + w->size > m->weight_block_size) {
            ck_free(refs);
            return ck_fail(CK_ERR_STATE, "model '%s': weight '%s' is outside the model's weight block",
                           m->base.name, w->path);
        }
        w->grad = m->grad_block + off;
    }
    ck_free(refs);
    return CK_OK;
}

void ck_exec_restart(ck_exec *ex)
{
    ck_rng_seed(&ex->run.rng, ex->model->seed ^ 0x9e3779b97f4a7c15ull);
    ex->rows = 0;
    ex->grads_ready = false;
}

ck_status ck_exec_create(ck_model *m, int64_t batch, ck_exec **out)
{
    return ck_exec_create_shaped(m, batch, NULL, out);
}

static ck_exec *exec_new(ck_model *m, int64_t batch)
{
    ck_exec *ex = ck_calloc(1, sizeof *ex);
    if (!ex) return NULL;
    ex->run.exec = ex;
    ex->run.batch = batch;
    ex->model = m;
    ex->plan_gen = m->plan_gen;
    ck_exec_restart(ex);
    return ex;
}

ck_status ck_exec_create_unplanned(ck_model *m, int64_t batch, ck_exec **out)
{
    *out = m ? exec_new(m, batch) : NULL;
    return *out ? CK_OK : ck_fail(m ? CK_ERR_NOMEM : CK_ERR_ARG, "ck_exec_create_unplanned: %s", m ? "out of memory" : "model is NULL");
}

ck_run *ck_exec_run(ck_exec *ex) { return &ex->run; }

/* Whether a step swaps planned shapes into its layers around each hook, or
 * rounds a layer's weights in place around them (a half step). */
static bool plan_lends_shapes(const ck_plan *p)
{
    for (int i = 0; i < p->n_steps; i++)
        if (p->steps[i].spec || p->steps[i].weights_f32 || (p->steps[i].sub && plan_lends_shapes(p->steps[i].sub)))
            return true;
    return false;
}

ck_status ck_exec_create_shaped(ck_model *m, int64_t batch, const ck_shape *in_shapes, ck_exec **out)
{
    *out = NULL;
    if (!m) return ck_fail(CK_ERR_ARG, "ck_exec_create: model is NULL");
    if (!m->base.built) return ck_fail(CK_ERR_STATE, "model '%s' is not built", m->base.name);
    if (batch < 1) return ck_fail(CK_ERR_ARG, "model '%s': batch size must be >= 1, got %lld", m->base.name, (long long)batch);
    ck_status init = ck_model_init_weights(m);
    if (init) return init;
    openblas_set_num_threads(1); /* ckeras threads with OpenMP alone (ck_set_num_threads) */
    ck_exec *ex = exec_new(m, batch);
    if (!ex) return ck_fail(CK_ERR_NOMEM, "out of memory");
    /* Planning writes slot numbers into the model's steps: engines made on
     * several threads at once take turns. */
    ck_model_lock(m);
    ck_status st = attach_grads(m);
    if (!st) st = plan_new(m, NULL, in_shapes, batch, &ex->plan);
    ck_model_unlock(m);
    if (st) {
        ck_free(ex); /* plan_new freed its partial plan */
        return ck_fail_prefix(st, "model '%s': ", m->base.name);
    }
    plan_mark(ex->plan, false);
    ex->lends_shapes = plan_lends_shapes(ex->plan);
    *out = ex;
    return CK_OK;
}

void ck_exec_want_input_grads(ck_exec *ex, bool want) { plan_mark(ex->plan, want); }

void ck_exec_set_inference_only(ck_exec *ex)
{
    ex->inference_only = true;
    ex->run.inference_only = true;
}

void ck_exec_set_act_regs(ck_exec *ex, const ck_act_reg *regs, int n) { ex->act_regs = regs, ex->n_act_regs = n; }

double ck_exec_act_penalty(const ck_exec *ex) { return ex->act_penalty; }

void ck_exec_set_data_parallel(ck_exec *ex, ck_status (*grad_ready)(void *user, const ck_layer *layer),
                               ck_status (*sum_across)(void *user, double *v, int64_t n), void *user)
{
    ex->grad_ready = grad_ready, ex->grad_ready_user = user;
    ex->run.sum_across = sum_across, ex->run.sum_across_user = user;
}

ck_model *ck_exec_model(const ck_exec *ex) { return ex->model; }

bool ck_exec_fits(const ck_exec *ex, int64_t batch)
{
    return ex->run.batch >= batch && ex->plan_gen == ex->model->plan_gen;
}

ck_status ck_exec_forward(ck_exec *ex, const float *const *inputs, int64_t rows, bool training)
{
    if (!ex->plan) return ck_fail(CK_ERR_STATE, "model '%s': this engine has no plan (ck_exec_create_unplanned)", ex->model->base.name);
    if (rows < 1 || rows > ex->run.batch)
        return ck_fail(CK_ERR_ARG, "model '%s': %lld rows for an engine planned for 1..%lld",
                       ex->model->base.name, (long long)rows, (long long)ex->run.batch);
    ck_plan *p = ex->plan;
    for (int i = 0; i < ex->model->n_inputs; i++) {
        if (!inputs || !inputs[i]) return ck_fail(CK_ERR_ARG, "model '%s': input %d is NULL", ex->model->base.name, i);
        /* read in place, not copied: layers never write their inputs (8 % of a
         * batch-256 MLP predict was this copy) */
        p->inputs[i]->data = (float *)(uintptr_t)inputs[i];
    }
    ex->rows = rows;
    ex->act_penalty = 0;
    ex->run.training = training;
    ex->gen_known = false;
    ex->folded_in_pass = 0;
    ex->grads_ready = false;
    if (!ex->lends_shapes) return plan_forward(ex, p);
    ck_model_lock(ex->model);
    ck_status st = plan_forward(ex, p);
    ck_model_unlock(ex->model);
    return st;
}

/* Bytes one row touches in each step: its inputs, outputs and workspace (a
 * nested model's steps counted one by one); *most: the busiest step's. */
static int64_t plan_row_bytes(const ck_plan *p, int64_t *most)
{
    int64_t sum = 0;
    for (int i = 0; i < p->n_steps; i++) {
        const step_plan *s = &p->steps[i];
        if (s->sub) {
            sum += plan_row_bytes(s->sub, most);
            continue;
        }
        if (s->is_input) continue;
        int64_t floats = s->ws_per_row;
        for (int k = 0; k < s->node->n_inputs; k++) floats += s->in[k]->size;
        for (int k = 0; k < s->node->n_outputs; k++) floats += s->out[k]->size;
        int64_t b = floats * (int64_t)sizeof(float);
        *most = b > *most ? b : *most;
        sum += b;
    }
    return sum;
}

int64_t ck_exec_row_bytes(const ck_exec *ex, int64_t *busiest)
{
    int64_t most = 0, sum = plan_row_bytes(ex->plan, &most);
    if (busiest) *busiest = most;
    return sum;
}

/* A layer built for a fixed batch (a stateful RNN keeps its states per row of
 * it, and checks the batch it gets) ties the rows of a call together. */
static bool plan_rows_independent(const ck_plan *p)
{
    for (int i = 0; i < p->n_steps; i++) {
        const step_plan *s = &p->steps[i];
        const ck_layer *l = s->node->layer;
        if (s->sub && !plan_rows_independent(s->sub)) return false;
        for (int k = 0; k < l->n_in && k < CK_LAYER_SHAPES; k++)
            if (l->in_shapes[k].rank > 0 && l->in_shapes[k].dim[0] != CK_NONE) return false;
    }
    return true;
}

bool ck_exec_rows_independent(const ck_exec *ex) { return plan_rows_independent(ex->plan); }

int64_t ck_exec_batch(const ck_exec *ex) { return ex->run.batch; }

int64_t ck_exec_input_size(const ck_exec *ex, int i)
{
    return i >= 0 && i < ex->model->n_inputs ? ex->plan->inputs[i]->size : 0;
}

static int count_fused(const ck_plan *p)
{
    int n = 0;
    for (int i = 0; i < p->n_steps; i++)
        n += p->steps[i].runs_fused + (p->steps[i].sub ? count_fused(p->steps[i].sub) : 0);
    return n;
}

int ck_exec_fused_steps(const ck_exec *ex) { return count_fused(ex->plan); }

const float *ck_exec_output(const ck_exec *ex, int i)
{
    return i >= 0 && i < ex->model->n_outputs ? ex->plan->outputs[i]->data : NULL;
}

const ck_shape *ck_exec_output_shape(const ck_exec *ex, int i)
{
    return i >= 0 && i < ex->model->n_outputs ? &ex->plan->outputs[i]->shape : NULL;
}

int64_t ck_exec_output_size(const ck_exec *ex, int i)
{
    return i >= 0 && i < ex->model->n_outputs ? ex->plan->outputs[i]->size : 0;
}

const float *ck_exec_input_grad(const ck_exec *ex, int i)
{
    if (i < 0 || i >= ex->model->n_inputs || !ex->grads_ready) return NULL;
    const value *v = ex->plan->inputs[i];
    return v->need_grad ? v->grad : NULL;
}

ck_status ck_exec_backward(ck_exec *ex, const float *const *d_outputs)
{
    ck_model *m = ex->model;
    if (ex->rows < 1) return ck_fail(CK_ERR_STATE, "model '%s': backward before forward", m->base.name);
    if (ex->inference_only)
        return ck_fail(CK_ERR_STATE, "model '%s': this engine was made for inference; backward needs one made for training",
                       m->base.name);
    ck_plan *p = ex->plan;
    zero_grads(p, ex->rows);
    for (int i = 0; i < p->n_owned; i++)
        if (p->owned[i].is_input && p->owned[i].need_grad)
            memset(p->owned[i].grad, 0, (size_t)(ex->rows * p->owned[i].size) * sizeof(float));
    memset(m->grad_block, 0, (size_t)m->weight_block_size * sizeof(float));
    for (int i = 0; i < m->n_outputs; i++) {
        if (!d_outputs || !d_outputs[i]) return ck_fail(CK_ERR_ARG, "model '%s': d_outputs[%d] is NULL", m->base.name, i);
        value *v = p->outputs[i];
        if (!v->need_grad) continue; /* nothing trainable upstream */
        ck_vec_add(v->grad, d_outputs[i], ex->rows * v->size);
    }
    if (ex->lends_shapes) ck_model_lock(m);
    ck_status st = plan_backward(ex, p);
    if (ex->lends_shapes) ck_model_unlock(m);
    ex->grads_ready = !st;
    return st;
}

typedef struct ck_scratch {
    const ck_layer *layer;
    int64_t cap;   /* floats */
    float *data;   /* [cap] */
} ck_scratch;

float *ck_exec_scratch(ck_run *run, const ck_layer *l, int64_t floats)
{
    ck_exec *ex = run ? run->exec : NULL;
    if (!ex) return NULL;
    ck_scratch *s = NULL;
    for (int i = 0; i < ex->n_scratch && !s; i++)
        if (ex->scratch[i].layer == l) s = &ex->scratch[i];
    if (!s) {
        if (ck_grow((void **)&ex->scratch, &ex->cap_scratch, ex->n_scratch + 1, sizeof *ex->scratch)) return NULL;
        s = &ex->scratch[ex->n_scratch++];
        s->layer = l;
    }
    if (s->data && s->cap >= floats) return s->data;
    ck_free(s->data);
    s->cap = 0;
    if (!(s->data = ck_malloc((size_t)(floats > 0 ? floats : 1) * sizeof(float)))) return NULL;
    s->cap = floats;
    return s->data;
}

static void release_scratch(ck_exec *ex)
{
    for (int i = 0; i < ex->n_scratch; i++) ck_free(ex->scratch[i].data);
    ck_free(ex->scratch);
    ex->scratch = NULL;
    ex->n_scratch = ex->cap_scratch = 0;
}

void ck_exec_free(ck_exec *ex)
{
    if (!ex) return;
    plan_free(ex->plan);
    release_scratch(ex);
    ck_free(ex);
}

const float *ck_exec_value(const ck_exec *ex, const ck_ktensor *t)
{
    const ck_plan *p = ex->plan;
    for (int i = 0; i < p->n_steps; i++) /* only the top-level model's own tensors have slots in p */
        for (int k = 0; k < p->steps[i].node->n_outputs; k++)
            if (&p->steps[i].node->outputs[k] == t) return p->slot[t->slot] ? p->slot[t->slot]->data : NULL;
    return NULL;
}
