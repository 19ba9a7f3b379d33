/*
 * `ckeras export --c`: writes a built model as NAME.h and NAME.c, C99 code
 * that needs only libm. The model's plan (model->steps, nested models
 * flattened) becomes one value per tensor and one step per layer call; a
 * layer that only renames its input (Reshape, Dropout) shares the input's
 * floats, one that may overwrite its input (activations) does when nothing
 * reads the input later, and model outputs are written straight into the
 * caller's `out`. The rest is placed in one arena by the greedy-by-size rule
 * over lifetimes (the largest value first, at the lowest offset where no value
 * live at the same time lies), so NAME_ARENA_BYTES is exact for the code
 * written. Kernels come from templates/kernels.c.in, embedded at build time;
 * a file carries only those its layers use. Weights are hexadecimal float
 * literals (exact), or one .bin the assembler embeds above a size threshold.
 * Nothing is written unless every layer can be exported.
 */
#include "export/export.h"
#include "export/templates.h"

#include "engine/exec.h"
#include "engine/run.h"
#include "layers/conv_layers.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define EX_ALIGN 4          /* floats: every arena value starts 16-byte aligned */
#define EX_DEFAULT_BIN ((int64_t)1 << 20)
#define EX_TMP 64
#define EX_MAX_MODEL_IO 64  /* inputs or outputs of the top-level model */

/* A weight or derived constant array written to the file. */
typedef struct ex_array {
    const float *src;       /* a weight's values (NULL: derived)   */
    char name[96];
    int64_t offset, n;      /* floats, in the weights blob         */
} ex_array;

struct ex_ctx {
    ck_model *model;
    char name[64];
    ex_value *vals;
    int n_vals, cap_vals;
    ex_step *steps;
    int n_steps, cap_steps;
    int in_vals[EX_MAX_MODEL_IO], n_in;
    int out_vals[EX_MAX_MODEL_IO], n_out;
    int64_t in_floats, out_floats;
    bool emitting;
    ex_step *cur;
    int scratch_seen;
    ck_buf body, consts;
    float *blob;            /* every float constant, in file order */
    int64_t blob_n, blob_cap;
    ex_array *arrays;
    int n_arrays, cap_arrays;
    int n_names;            /* serial of generated names          */
    char used[128][32];     /* kernel templates needed            */
    int n_used;
    char tmp[EX_TMP][512];
    int tmp_i;
    int64_t arena_floats, naive_floats;
    int64_t state_at;       /* floats of RNN state handed out by this pass (ex_state) */
    int64_t state_floats;   /* of one row of the stateful layers' batch             */
    int64_t state_rows;     /* that fixed batch (0: no stateful layer)              */
    int layer_calls;
    bool int8;              /* quantize where calibrated          */
    int int8_layers;
    int64_t int_bytes;      /* integer constants written          */
    bool nomem;
    bool state_error;       /* stateful layers built for different batches */
    int64_t max_steps;      /* the unknown length's bound (0: none allowed) */
    bool varlen;            /* some value has the unknown length            */
    bool varlen_error;      /* an ex_rows that does not divide a step       */
    int n_lens;             /* length variables steps_1.. made by windows  */
    int indent;             /* inside a TimeDistributed loop               */
};

/* ---- values and steps ------------------------------------------------------------- */
static int new_value(ex_ctx *c, const ck_shape *shape, int64_t size)
{
    if (c->n_vals == c->cap_vals) {
        int cap = c->cap_vals ? 2 * c->cap_vals : 64;
        ex_value *v = ck_realloc(c->vals, (size_t)cap * sizeof *v);
        if (!v) return c->nomem = true, -1;
        c->vals = v, c->cap_vals = cap;
    }
    ex_value *v = &c->vals[c->n_vals];
    *v = (ex_value){.size = size, .link = c->n_vals, .first = -1, .last = -1, .model_output = -1, .mask = -1};
    if (shape) v->shape = *shape;
    return c->n_vals++;
}

static int root_of(const ex_ctx *c, int v)
{
    while (c->vals[v].link != v) v = c->vals[v].link;
    return v;
}

bool ex_emitting(const ex_ctx *c) { return c->emitting; }
const ex_value *ex_val(const ex_ctx *c, int v) { return &c->vals[v]; }

/* A map from a (nested) model's symbolic tensors to values, one per model call. */
typedef struct tensor_map {
    const ck_ktensor **key;
    int *val;
    int n, cap;
} tensor_map;

static bool map_put(tensor_map *m, const ck_ktensor *k, int v)
{
    if (m->n == m->cap) {
        int cap = m->cap ? 2 * m->cap : 32;
        const ck_ktensor **nk = ck_realloc(m->key, (size_t)cap * sizeof *nk);
        if (!nk) return false;
        m->key = nk;
        int *nv = ck_realloc(m->val, (size_t)cap * sizeof *nv);
        if (!nv) return false;
        m->val = nv, m->cap = cap;
    }
    m->key[m->n] = k, m->val[m->n++] = v;
    return true;
}

static int map_get(const tensor_map *m, const ck_ktensor *k)
{
    for (int i = m->n - 1; i >= 0; i--)
        if (m->key[i] == k) return m->val[i];
    return -1;
}

static void map_free(tensor_map *m)
{
    ck_free(m->key);
    ck_free(m->val);
}

/* A value of tensor t; an unknown axis 1 (the time steps of a model whose
 * input has an unknown length) is planned at max_steps. */
static ck_status value_of_tensor(ex_ctx *c, const ck_layer *l, const ck_ktensor *t, int *out)
{
    int64_t size;
    ck_shape shape = t->shape;
    bool varlen = c->max_steps > 0 && shape.rank >= 2 && shape.dim[1] == CK_NONE;
    if (varlen) shape.dim[1] = c->max_steps;
    ck_status st = ck_shape_size_from(&shape, 1, &size);
    if (st) return ck_fail_prefix(st, "%s '%s': ", l->cls->class_name, l->name);
    if (size == CK_NONE) {
        char b[96];
        ck_shape_format(&t->shape, b, sizeof b);
        return ck_fail(CK_ERR_UNSUPPORTED, "%s '%s': output shape %s has an unknown dimension; export needs every "
                       "non-batch dimension known, or only the steps (axis 1) with a bound (--max-steps, "
                       "ck_export_opts.max_steps)",
                       l->cls->class_name, l->name, b);
    }
    if ((*out = new_value(c, &shape, size)) < 0) return ck_fail(CK_ERR_NOMEM, "out of memory exporting");
    c->vals[*out].varlen = varlen;
    c->vals[*out].len_max = varlen ? c->max_steps : 0;
    c->varlen = c->varlen || varlen;
    return CK_OK;
}

/* The channel axis of a tensor of a channels_first layer with `spatial`
 * spatial axes, right after it; 0 when it has none (as the engine's). */
static int channel_axis(const ck_shape *sh, int spatial)
{
    int a = sh->rank - 1 - spatial;
    return a >= 1 && a < sh->rank - 1 ? a : 0;
}

/* A channels-last copy of value v for a channels_first step (-1: none needed). */
static int moved_copy(ex_ctx *c, int v, int spatial)
{
    ck_shape sh = c->vals[v].shape;
    int a = channel_axis(&sh, spatial);
    if (!a) return -1;
    for (int i = a; i < sh.rank - 1; i++) sh.dim[i] = c->vals[v].shape.dim[i + 1];
    sh.dim[sh.rank - 1] = c->vals[v].shape.dim[a];
    int m = new_value(c, &sh, c->vals[v].size);
    if (m >= 0) {
        ex_value *x = &c->vals[m];
        x->mask = c->vals[v].mask, x->varlen = c->vals[v].varlen;
        x->len = c->vals[v].len, x->len_max = c->vals[v].len_max;
    }
    return m;
}

/* A channels_first step runs, as in ckeras's engine, on channels-last copies
 * of its inputs and outputs; the transposes are written around its call. */
static ck_status plan_moves(ex_ctx *c, ex_step *s, int spatial)
{
    s->spatial = spatial;
    for (int k = 0; k < s->n_in + s->n_out; k++) {
        int *slot = k < s->n_in ? &s->in[k] : &s->out[k - s->n_in];
        int m = moved_copy(c, *slot, spatial);
        if (m < 0 && c->nomem) return ck_fail(CK_ERR_NOMEM, "out of memory exporting");
        if (m < 0) continue;
        if (k < s->n_in) s->moved_in[k] = *slot;
        else s->moved_out[k - s->n_in] = *slot;
        *slot = m;
    }
    return CK_OK;
}

/* A slice of value v: one of its steps (axis 1), shaped without that axis. */
static int step_slice(ex_ctx *c, int v)
{
    ck_shape sh = c->vals[v].shape;
    int64_t steps = sh.dim[1];
    for (int i = 1; i + 1 < sh.rank; i++) sh.dim[i] = sh.dim[i + 1];
    sh.rank--;
    int w = new_value(c, &sh, c->vals[v].size / steps);
    if (w < 0) return -1;
    c->vals[w].link = v, c->vals[w].step_stride = c->vals[w].size;
    return w;
}

ck_status ex_per_step(ex_ctx *c, const ex_step *s, const ck_layer *inner)
{
    const ex_class *ec = ex_find_class(inner->cls->class_name);
    if (!ec || !ec->emit || s->n_in != 1 || s->n_out != 1 || c->vals[s->in[0]].shape.rank < 3 ||
        c->vals[s->in[0]].mask >= 0)
        return ex_refuse(s->layer, "wraps %s, which is exported only alone", inner->cls->class_name);
    int in = step_slice(c, s->in[0]), out = step_slice(c, s->out[0]);
    if (in < 0 || out < 0) return ck_fail(CK_ERR_NOMEM, "out of memory exporting");
    ck_layer view = *inner; /* the wrapper holds the weights, in the inner layer's order */
    view.weights = s->layer->weights, view.n_weights = s->layer->n_weights;
    ex_step one = {.layer = &view, .node = s->node, .n_in = 1, .n_out = 1, .in = {in}, .out = {out}, .fold = -1,
                   .folded_into = -1, .mask_out = -1, .spatial = s->spatial};
    for (int k = 0; k < EX_MAX_IO; k++) one.moved_in[k] = -1;
    for (int k = 0; k < 4; k++) one.moved_out[k] = -1;
    ex_line(c, "for (long t = 0; t < %s; t++) { /* %s '%s' on each step */", ex_steps(c, s->in[0]),
            inner->cls->class_name, inner->name);
    c->indent++;
    ck_status st = ec->emit(c, &view, &one);
    c->indent--;
    ex_line(c, "}");
    return st;
}

bool ex_moved(const ex_step *s) { return s->spatial > 0; }

const ck_run *ex_view(const ex_step *s, ck_run *scratch)
{
    if (!ex_moved(s)) return NULL;
    *scratch = (ck_run){.channels_last_view = s->layer};
    return scratch;
}

static void set_len(ex_value *x, int len, int64_t len_max)
{
    if (!x->varlen || x->shape.rank < 2) return;
    x->size = x->size / x->shape.dim[1] * len_max;
    x->shape.dim[1] = len_max, x->len = len, x->len_max = len_max;
}

/* The lengths of step s's outputs of unknown length: its inputs' one, or, for
 * a window over it, a new length computed per call from the input's as Keras
 * computes it (keras/src/ops/operation_utils.py compute_conv_output_shape,
 * compute_pooling_output_shape) and planned at max_steps. */
static ck_status set_lengths(ex_ctx *c, ex_step *s)
{
    const ck_layer *l = s->layer;
    int from = -1;
    for (int k = 0; k < s->n_in; k++) {
        if (!c->vals[s->in[k]].varlen) continue;
        if (from >= 0 && c->vals[s->in[from]].len != c->vals[s->in[k]].len)
            return ex_refuse(l, "its inputs %d and %d have different unknown lengths", from, k);
        if (from < 0) from = k;
    }
    if (from < 0) return CK_OK;
    const ex_value *x = &c->vals[s->in[from]];
    int len = x->len;
    int64_t len_max = x->len_max, span, stride;
    const char *padding;
    if (s->n_in == 1 && s->n_out == 1 && c->vals[s->out[0]].varlen && ex_window(l, &span, &stride, &padding)) {
        if (ck_conv_out_len(l, x->len_max, span, stride, 1, padding, false, &len_max) || len_max < 1)
            return ex_refuse(l, "its output length would be %lld at the %lld steps of --max-steps", (long long)len_max,
                             (long long)c->max_steps);
        s->win_span = span, s->win_stride = stride;
        s->win_valid = !strcmp(padding, "valid"), s->win_same = !strcmp(padding, "same");
        len = ++c->n_lens;
    }
    for (int k = 0; k < s->n_out; k++) set_len(&c->vals[s->out[k]], len, len_max);
    return CK_OK;
}

static ck_status add_step(ex_ctx *c, const ck_layer *l, const ck_node *node, tensor_map *map, bool top)
{
    if (node->n_inputs > EX_MAX_IO || node->n_outputs > 4)
        return ex_refuse(l, "%d inputs and %d outputs are more than export takes", node->n_inputs, node->n_outputs);
    const ex_class *ec = ex_find_class(l->cls->class_name);
    if (!ec) return ex_refuse(l, "its class has no C emitter yet");
    if (c->n_steps == c->cap_steps) {
        int cap = c->cap_steps ? 2 * c->cap_steps : 64;
        ex_step *s = ck_realloc(c->steps, (size_t)cap * sizeof *s);
        if (!s) return ck_fail(CK_ERR_NOMEM, "out of memory exporting");
        c->steps = s, c->cap_steps = cap;
    }
    ex_step *s = &c->steps[c->n_steps];
    *s = (ex_step){.layer = l, .node = node, .top = top, .n_in = node->n_inputs, .n_out = node->n_outputs,
                   .fold = -1, .folded_into = -1, .mask_out = -1};
    for (int k = 0; k < EX_MAX_IO; k++) s->moved_in[k] = -1;
    for (int k = 0; k < 4; k++) s->moved_out[k] = -1;
    for (int k = 0; k < node->n_inputs; k++) {
        if ((s->in[k] = map_get(map, node->inputs[k])) < 0)
            return ck_fail(CK_ERR_STATE, "%s '%s': input %d is computed after it", l->cls->class_name, l->name, k);
    }
    for (int k = 0; k < node->n_outputs; k++) {
        ck_status st = value_of_tensor(c, l, &node->outputs[k], &s->out[k]);
        if (st) return st;
        c->vals[s->out[k]].first = c->n_steps;
        if (!map_put(map, &node->outputs[k], s->out[k])) return ck_fail(CK_ERR_NOMEM, "out of memory exporting");
    }
    ck_status lst = set_lengths(c, s);
    if (lst) return lst;
    /* Keras masks, as the engine's plan_masks gives them: input 0's passed on,
     * or a new [steps] one this step writes. */
    for (int k = 0; l->cls->mask && k < node->n_outputs; k++) {
        ck_mask_mode mode = l->cls->mask(l, k);
        ex_value *o = &c->vals[s->out[k]];
        if (mode == CK_MASK_ALL || mode == CK_MASK_ANY) {
            /* the merges combine masks and Multiply/Maximum/Minimum read them
             * (keras/src/layers/merging/): not emitted, so refused when any is there */
            for (int i = 0; i < s->n_in; i++)
                if (c->vals[s->in[i]].mask >= 0) return ex_refuse(l, "its input %d carries a Keras mask", i);
        } else if (mode == CK_MASK_PASS && s->n_in > 0) {
            o->mask = c->vals[s->in[0]].mask;
        } else if (mode == CK_MASK_NEW) {
            if (s->mask_out < 0) {
                int64_t steps = o->size / o->shape.dim[o->shape.rank - 1];
                if ((s->mask_out = new_value(c, NULL, steps)) < 0) return ck_fail(CK_ERR_NOMEM, "out of memory exporting");
                o = &c->vals[s->out[k]];
                c->vals[s->mask_out].varlen = o->varlen;
                c->vals[s->mask_out].len = o->len, c->vals[s->mask_out].len_max = o->len_max;
            }
            o->mask = s->mask_out;
        }
    }
    int spatial = l->cls->channels_first ? l->cls->channels_first(l) : 0;
    if ((ec->flags & EX_ALIAS) && !(spatial > 0 && (ec->flags & EX_MOVES))) {
        if (s->n_in != 1 || s->n_out != 1 || c->vals[s->in[0]].size != c->vals[s->out[0]].size)
            return ex_refuse(l, "expected one input and one output of the same size");
        c->vals[s->out[0]].link = s->in[0];
        s->aliased = true;
    } else if (spatial > 0 && !(ec->flags & EX_MOVES)) {
        ck_status st = plan_moves(c, s, spatial);
        if (st) return st;
    }
    c->n_steps++;
    return CK_OK;
}

static bool is_input_layer(const ck_layer *l) { return !strcmp(l->cls->class_name, "InputLayer"); }

/* Adds the steps of model m, whose inputs are the values `ins`, and gives the
 * values of its outputs. */
static ck_status walk_model(ex_ctx *c, ck_model *m, const int *ins, int *outs, bool top)
{
    tensor_map map = {0};
    ck_status st = CK_OK;
    for (int i = 0; !st && i < m->n_inputs; i++)
        if (!map_put(&map, m->inputs[i], ins[i])) st = ck_fail(CK_ERR_NOMEM, "out of memory exporting");
    for (int i = 0; !st && i < m->n_steps; i++) {
        const ck_node *node = m->steps[i].node;
        ck_layer *l = node->layer;
        if (is_input_layer(l)) continue; /* its output is one of the inputs mapped above */
        if (l->model) {
            int sub_in[EX_MAX_IO], sub_out[EX_MAX_IO];
            if (node->n_inputs > EX_MAX_IO || l->model->n_outputs > EX_MAX_IO ||
                node->n_inputs != l->model->n_inputs || node->n_outputs != l->model->n_outputs) {
                st = ex_refuse(l, "a nested model call with %d inputs and %d outputs is not exported",
                               node->n_inputs, node->n_outputs);
                break;
            }
            for (int k = 0; k < node->n_inputs; k++) sub_in[k] = map_get(&map, node->inputs[k]);
            if ((st = walk_model(c, l->model, sub_in, sub_out, false))) break;
            for (int k = 0; !st && k < node->n_outputs; k++)
                if (!map_put(&map, &node->outputs[k], sub_out[k])) st = ck_fail(CK_ERR_NOMEM, "out of memory exporting");
            continue;
        }
        st = add_step(c, l, node, &map, top);
    }
    for (int i = 0; !st && i < m->n_outputs; i++)
        if ((outs[i] = map_get(&map, m->outputs[i])) < 0)
            st = ck_fail(CK_ERR_STATE, "model '%s': output %d is not computed by its plan", m->base.name, i);
    map_free(&map);
    return st;
}

/* ---- planning ---------------------------------------------------------------------- */
/* Whether step s reads value v (directly or through a channels-last copy). */
static bool step_reads(const ex_step *s, int v)
{
    for (int k = 0; k < s->n_in; k++)
        if (s->in[k] == v || s->moved_in[k] == v) return true;
    return false;
}

/* Step s may write its output over input 0: nothing reads input 0's storage
 * after s, it is not a model input or output, and sizes agree. */
static bool may_overwrite(const ex_ctx *c, const ex_step *s)
{
    int r = root_of(c, s->in[0]);
    if (c->vals[r].place == EX_INPUT || c->vals[s->in[0]].size != c->vals[s->out[0]].size) return false;
    for (int v = 0; v < c->n_vals; v++) {
        if (root_of(c, v) != r) continue;
        if (c->vals[v].model_output >= 0) return false;
        for (int t = (int)(s - c->steps) + 1; t < c->n_steps; t++)
            if (step_reads(&c->steps[t], v)) return false;
    }
    return true;
}

static void mark_lifetimes(ex_ctx *c)
{
    for (int t = 0; t < c->n_steps; t++) {
        const ex_step *s = &c->steps[t];
        for (int k = 0; k < s->n_in; k++) {
            ex_value *r = &c->vals[root_of(c, s->in[k])];
            if (r->last < t) r->last = t;
        }
        for (int k = 0; k < s->n_out; k++) {
            ex_value *r = &c->vals[root_of(c, s->out[k])];
            if (r->first < 0 || r->first > t) r->first = t;
            if (r->last < t) r->last = t;
        }
        for (int k = 0; k < s->n_scratch; k++) c->vals[s->scratch[k]].first = c->vals[s->scratch[k]].last = t;
        for (int k = 0; k < s->n_in + s->n_out; k++) { /* what channels-last copies move from and to */
            int v = k < s->n_in ? s->moved_in[k] : s->moved_out[k - s->n_in];
            if (v < 0) continue;
            ex_value *r = &c->vals[root_of(c, v)];
            if (r->first < 0 || r->first > t) r->first = t;
            if (r->last < t) r->last = t;
            if (k < s->n_in) c->vals[s->in[k]].first = t; /* the copy is written here */
        }
        for (int k = 0; k < s->n_in; k++) { /* a mask is read where its tensor is */
            int m = c->vals[s->in[k]].mask;
            if (m >= 0 && c->vals[m].last < t) c->vals[m].last = t;
        }
        if (s->mask_out >= 0) {
            ex_value *m = &c->vals[s->mask_out];
            if (m->first < 0) m->first = t;
            if (m->last < t) m->last = t;
        }
    }
}

static int64_t round_up(int64_t n) { return (n + EX_ALIGN - 1) / EX_ALIGN * EX_ALIGN; }

/* Arena floats a root's storage takes: its elements, or an int8 root's bytes in floats. */
static int64_t storage_floats(const ex_value *x) { return x->q8 ? (x->size + 3) / 4 : x->size; }

/* Greedy by size: roots in decreasing size (then first use, then number), each
 * at the lowest aligned offset clear of every placed root live at the same time. */
static ck_status place_arena(ex_ctx *c)
{
    int *order = ck_malloc((size_t)(c->n_vals + 1) * sizeof *order), n = 0;
    if (!order) return ck_fail(CK_ERR_NOMEM, "out of memory exporting");
    for (int v = 0; v < c->n_vals; v++) {
        const ex_value *x = &c->vals[v];
        if (root_of(c, v) != v || x->place != EX_ARENA || x->first < 0) continue;
        c->naive_floats += round_up(storage_floats(x));
        int i = n++;
        for (; i > 0; i--) { /* insertion sort: a few thousand values at most */
            const ex_value *y = &c->vals[order[i - 1]];
            int64_t xs = storage_floats(x), ys = storage_floats(y);
            bool before = xs > ys || (xs == ys && x->first < y->first);
            if (!before) break;
            order[i] = order[i - 1];
        }
        order[i] = v;
    }
    for (int i = 0; i < n; i++) {
        ex_value *x = &c->vals[order[i]];
        int64_t at = 0;
        for (bool moved = true; moved;) {
            moved = false;
            for (int j = 0; j < i; j++) {
                const ex_value *y = &c->vals[order[j]];
                bool live = y->first <= x->last && x->first <= y->last;
                if (live && at < y->offset + round_up(storage_floats(y)) &&
                    y->offset < at + round_up(storage_floats(x))) {
                    at = y->offset + round_up(storage_floats(y));
                    moved = true;
                }
            }
        }
        x->offset = at;
        if (at + round_up(storage_floats(x)) > c->arena_floats) c->arena_floats = at + round_up(storage_floats(x));
    }
    ck_free(order);
    return CK_OK;
}

/* Model inputs read from `in`, outputs go straight to `out` where the storage
 * is theirs alone; values sharing storage take their root's place. */
static void place_io(ex_ctx *c)
{
    int64_t off = 0;
    for (int i = 0; i < c->n_in; i++) {
        ex_value *v = &c->vals[c->in_vals[i]];
        v->place = EX_INPUT, v->offset = off;
        off += v->size;
    }
    c->in_floats = off, off = 0;
    for (int i = 0; i < c->n_out; i++) {
        int v = c->out_vals[i], r = root_of(c, v);
        if (c->vals[v].model_output < 0) c->vals[v].model_output = i;
        if (c->vals[r].place == EX_ARENA && c->vals[r].first >= 0 && c->vals[v].model_output == i) {
            c->vals[r].place = EX_OUTPUT, c->vals[r].offset = off;
        }
        off += c->vals[v].size;
    }
    c->out_floats = off;
}

/* ---- what emitters call --------------------------------------------------------- */
static char *tmp_str(ex_ctx *c)
{
    c->tmp_i = (c->tmp_i + 1) % EX_TMP;
    return c->tmp[c->tmp_i];
}

static const char *storage_expr(ex_ctx *c, int v)
{
    char *t = tmp_str(c);
    if (!c->emitting) return strcpy(t, "x");
    const ex_value *r = &c->vals[root_of(c, v)];
    static const char *const base[] = {"a", "in", "out"};
    if (r->q8) /* only arena values are int8 (the model's inputs and outputs are floats) */
        return r->offset ? ex_str(c, "(signed char *)(a + %lld)", (long long)r->offset) : "(signed char *)a";
    int n = r->offset ? snprintf(t, sizeof c->tmp[0], "%s + %lld", base[r->place], (long long)r->offset)
                      : snprintf(t, sizeof c->tmp[0], "%s", base[r->place]);
    if (c->vals[v].step_stride && n > 0 && (size_t)n < sizeof c->tmp[0])
        snprintf(t + n, sizeof c->tmp[0] - (size_t)n, " + t * %lld", (long long)c->vals[v].step_stride);
    return t;
}

const char *ex_in(ex_ctx *c, const ex_step *s, int k) { return storage_expr(c, s->in[k]); }
const char *ex_in_mask(ex_ctx *c, const ex_step *s, int k)
{
    int m = c->vals[s->in[k]].mask;
    return m < 0 ? "NULL" : storage_expr(c, m);
}
const char *ex_out_mask(ex_ctx *c, const ex_step *s) { return s->mask_out < 0 ? "NULL" : storage_expr(c, s->mask_out); }
const char *ex_out(ex_ctx *c, const ex_step *s, int k) { return storage_expr(c, s->out[k]); }

const char *ex_rows(ex_ctx *c, int v, int64_t per)
{
    const ex_value *x = &c->vals[v];
    if (!x->varlen) return ex_str(c, "%lld", (long long)(x->size / per));
    int64_t step = x->size / x->len_max;
    if (per < 1 || step % per) {
        c->varlen_error = true;
        return "0";
    }
    const char *n = ex_steps(c, v);
    return step == per ? n : ex_str(c, "%s * %lld", n, (long long)(step / per));
}

/* The C variable of a length: the input's `steps` or a window's `steps_k`. */
static const char *len_name(ex_ctx *c, int len) { return len ? ex_str(c, "steps_%d", len) : "steps"; }

const char *ex_steps(ex_ctx *c, int v)
{
    const ex_value *x = &c->vals[v];
    return x->varlen ? len_name(c, x->len) : ex_str(c, "%lld", (long long)(x->shape.rank > 1 ? x->shape.dim[1] : 1));
}

/* A window's output length as Keras computes it (ck_conv_out_len), for this
 * call's input length; 'valid' returns 3 when it falls below 1. */
static void emit_length(ex_ctx *c, const ex_step *s)
{
    const ex_value *x = &c->vals[s->in[0]];
    int len = c->vals[s->out[0]].len;
    const char *in = len_name(c, x->len);
    long long span = (long long)s->win_span, stride = (long long)s->win_stride;
    if (!s->win_valid) {
        if (stride == 1) ex_line(c, "long steps_%d = %s;", len, in);
        else ex_line(c, "long steps_%d = (%s - 1) / %lld + 1;", len, in, stride);
        return;
    }
    ex_line(c, "long steps_%d = %s >= %lld ? (%s - %lld) / %lld + 1 : 0;", len, in, span, in, span, stride);
    ex_line(c, "if (steps_%d < 1) return 3; /* too few steps for %s '%s' */", len, s->layer->cls->class_name,
            s->layer->name);
}

const char *ex_geom_now(ex_ctx *c, const ex_step *s, const char *geom)
{
    if (!s->win_span || !c->vals[s->in[0]].varlen) return ex_str(c, "&%s", geom);
    if (!c->emitting) return "&g";
    char g[64];
    snprintf(g, sizeof g, "%s_now", geom);
    ex_line(c, "k_geom %s = %s;", g, geom);
    const char *in = ex_steps(c, s->in[0]);
    ex_line(c, "%s.in[2] = %s;", g, in);
    const char *out = ex_steps(c, s->out[0]);
    ex_line(c, "%s.out[2] = %s;", g, out);
    if (s->win_same) /* as ck_pad_before: TensorFlow's split, the extra at the end */
        ex_line(c, "%s.pad[2] = ((%s - 1) * %lld + %lld - %s) > 0 ? ((%s - 1) * %lld + %lld - %s) / 2 : 0;", g, out,
                (long long)s->win_stride, (long long)s->win_span, in, out, (long long)s->win_stride,
                (long long)s->win_span, in);
    return ex_str(c, "&%s", g);
}

const char *ex_scratch(ex_ctx *c, int64_t floats)
{
    ex_step *s = c->cur;
    int k = c->scratch_seen++;
    if (!c->emitting) {
        if (k >= EX_MAX_SCRATCH) return "x";
        int v = new_value(c, NULL, floats);
        if (v < 0) return "x";
        s->scratch[k] = v;
        s->n_scratch = k + 1;
        return "x";
    }
    return storage_expr(c, s->scratch[k]);
}

const char *ex_state(ex_ctx *c, const ck_layer *l, int64_t floats)
{
    int64_t rows = l->in_shapes[0].dim[0] == CK_NONE ? 1 : l->in_shapes[0].dim[0];
    if (c->state_rows && rows != c->state_rows) {
        c->state_error = true;
        return "st";
    }
    c->state_rows = rows;
    int64_t at = c->state_at;
    c->state_at += round_up(floats);
    return at ? ex_str(c, "st + %lld", (long long)at) : "st";
}

static void safe_ident(const char *in, char *out, size_t cap)
{
    size_t j = 0;
    for (; *in && j + 1 < cap; in++) out[j++] = isalnum((unsigned char)*in) ? *in : '_';
    out[j] = 0;
}

/* Adds n floats to the blob as a new array; returns its record. */
static ex_array *new_array(ex_ctx *c, const ck_layer *l, const char *prefix, const char *tag, const float *v,
                           int64_t n)
{
    if (c->n_arrays == c->cap_arrays) {
        int cap = c->cap_arrays ? 2 * c->cap_arrays : 64;
        ex_array *a = ck_realloc(c->arrays, (size_t)cap * sizeof *a);
        if (!a) return c->nomem = true, NULL;
        c->arrays = a, c->cap_arrays = cap;
    }
    if (c->blob_n + n > c->blob_cap) {
        int64_t cap = c->blob_cap ? 2 * c->blob_cap : 4096;
        while (cap < c->blob_n + n) cap *= 2;
        float *b = ck_realloc(c->blob, (size_t)cap * sizeof *b);
        if (!b) return c->nomem = true, NULL;
        c->blob = b, c->blob_cap = cap;
    }
    ex_array *a = &c->arrays[c->n_arrays++];
    char ln[48], tg[32];
    safe_ident(l->name, ln, sizeof ln);
    safe_ident(tag, tg, sizeof tg);
    snprintf(a->name, sizeof a->name, "%s%d_%s_%s", prefix, c->n_names++, ln, tg);
    a->src = NULL, a->offset = c->blob_n, a->n = n;
    if (n) memcpy(c->blob + c->blob_n, v, (size_t)n * sizeof *v);
    c->blob_n += n;
    return a;
}

const char *ex_weight(ex_ctx *c, const ck_layer *l, const ck_weight *w)
{
    if (!c->emitting) return "w";
    /* names are copied out: the array records move when more are added */
    for (int i = 0; i < c->n_arrays; i++)
        if (c->arrays[i].src == w->value) return ex_str(c, "%s", c->arrays[i].name);
    ex_array *a = new_array(c, l, "w", w->name, w->value, w->size);
    if (!a) return "w";
    a->src = w->value;
    return ex_str(c, "%s", a->name);
}

const char *ex_floats(ex_ctx *c, const ck_layer *l, const char *tag, const float *v, int64_t n)
{
    if (!c->emitting) return "w";
    ex_array *a = new_array(c, l, "c", tag, v, n);
    return a ? ex_str(c, "%s", a->name) : "w";
}

const char *ex_longs(ex_ctx *c, const ck_layer *l, const char *tag, const int64_t *v, int n)
{
    if (!c->emitting) return "g";
    char *t = tmp_str(c), ln[48], tg[32];
    safe_ident(l->name, ln, sizeof ln);
    safe_ident(tag, tg, sizeof tg);
    snprintf(t, sizeof c->tmp[0], "n%d_%s_%s", c->n_names++, ln, tg);
    ck_buf_printf(&c->consts, "static const long %s[%d] = {", t, n);
    for (int i = 0; i < n; i++) ck_buf_printf(&c->consts, "%s%lld", i ? ", " : "", (long long)v[i]);
    ck_buf_put(&c->consts, "};\n");
    return t;
}

static const char *int_array(ex_ctx *c, const ck_layer *l, const char *type, const char *tag, const void *v,
                             int64_t n, int bytes)
{
    if (!c->emitting) return "q";
    char *t = tmp_str(c), ln[48], tg[32];
    safe_ident(l->name, ln, sizeof ln);
    safe_ident(tag, tg, sizeof tg);
    snprintf(t, sizeof c->tmp[0], "q%d_%s_%s", c->n_names++, ln, tg);
    ck_buf_printf(&c->consts, "static const %s %s[%lld] = {", type, t, (long long)(n ? n : 1));
    for (int64_t i = 0; i < n; i++) {
        long long x = bytes == 1 ? ((const signed char *)v)[i] : ((const int32_t *)v)[i];
        ck_buf_printf(&c->consts, "%s%lld", i % 16 ? ", " : (i ? ",\n    " : "\n    "), x);
    }
    ck_buf_put(&c->consts, n ? "\n};\n" : "0};\n");
    c->int_bytes += n * bytes;
    return t;
}

const char *ex_int8s(ex_ctx *c, const ck_layer *l, const char *tag, const signed char *v, int64_t n)
{
    return int_array(c, l, "signed char", tag, v, n, 1);
}

const char *ex_int32s(ex_ctx *c, const ck_layer *l, const char *tag, const int32_t *v, int64_t n)
{
    return int_array(c, l, "int32_t", tag, v, n, 4);
}

bool ex_int8(const ex_ctx *c, const ex_step *s)
{
    return c->int8 && s->n_in >= 1 && s->n_out >= 1 && c->vals[s->in[0]].ranged && c->vals[s->out[0]].ranged;
}

void ex_int8_done(ex_ctx *c)
{
    c->int8_layers += c->emitting;
    if (!c->emitting) c->cur->q8 = true;
}

void ex_int8_through(ex_ctx *c)
{
    if (!c->emitting) c->cur->q8_through = true;
}

bool ex_q8_value(const ex_ctx *c, int v) { return c->vals[root_of(c, v)].q8; }

void ex_qparams(const ex_ctx *c, int v, float *scale, int *zero_point)
{
    const ex_value *x = &c->vals[v];
    float lo = x->lo < 0.0f ? x->lo : 0.0f, hi = x->hi > 0.0f ? x->hi : 0.0f; /* 0 must be exact */
    *scale = (hi - lo) / 255.0f;
    if (!(*scale > 0.0f)) *scale = 1.0f;
    long zp = -128 - lroundf(lo / *scale);
    *zero_point = (int)(zp < -128 ? -128 : zp > 127 ? 127 : zp);
}

/* Runs the engine on the calibration rows and keeps each top-level tensor's
 * range (the input and output of every step of the top-level model). */
static ck_status calibrate(ex_ctx *c, const ck_export_opts *o)
{
    ck_model *m = c->model;
    if (!o->calibration || o->calibration_rows < 1)
        return ck_fail(CK_ERR_ARG, "export: int8 needs calibration data (--calibrate x.npy)");
    if (m->n_inputs != 1) return ck_fail(CK_ERR_UNSUPPORTED, "export: int8 takes models of one input");
    int64_t chunk = o->calibration_rows < 64 ? o->calibration_rows : 64, per = c->vals[c->in_vals[0]].size;
    ck_exec *ex;
    ck_status st = ck_exec_create(m, chunk, &ex);
    if (st) return st;
    c->int8 = true;
    for (int64_t r0 = 0; !st && r0 < o->calibration_rows; r0 += chunk) {
        int64_t n = o->calibration_rows - r0 < chunk ? o->calibration_rows - r0 : chunk;
        const float *x = o->calibration + r0 * per;
        if ((st = ck_exec_forward(ex, &x, n, false))) break;
        for (int t = 0; t < c->n_steps; t++) {
            ex_step *s = &c->steps[t];
            if (!s->top) continue;
            for (int k = 0; k < s->n_in + s->n_out; k++) {
                const ck_ktensor *kt = k < s->n_in ? s->node->inputs[k] : &s->node->outputs[k - s->n_in];
                ex_value *v = &c->vals[k < s->n_in ? s->in[k] : s->out[k - s->n_in]];
                const float *d = ck_exec_value(ex, kt);
                for (int64_t i = 0; d && i < n * v->size; i++) {
                    if (!v->ranged || d[i] < v->lo) v->lo = d[i];
                    if (!v->ranged || d[i] > v->hi) v->hi = d[i];
                    v->ranged = true;
                }
            }
        }
    }
    ck_exec_free(ex);
    return st;
}

static void put_triple(ck_buf *b, const char *field, const int64_t v[3])
{
    ck_buf_printf(b, ", .%s = {%lld, %lld, %lld}", field, (long long)v[0], (long long)v[1], (long long)v[2]);
}

const char *ex_geom(ex_ctx *c, const ck_layer *l, const int64_t in[3], const int64_t out[3], const int64_t k[3],
                    const int64_t s[3], const int64_t d[3], const int64_t pad[3], int64_t cin, int64_t cout,
                    int64_t groups, int64_t mult)
{
    ex_use(c, "geom");
    if (!c->emitting) return "g";
    char *t = tmp_str(c), ln[48];
    safe_ident(l->name, ln, sizeof ln);
    snprintf(t, sizeof c->tmp[0], "g%d_%s", c->n_names++, ln);
    ck_buf_printf(&c->consts, "static const k_geom %s = {.cin = %lld, .cout = %lld, .groups = %lld, .mult = %lld", t,
                  (long long)cin, (long long)cout, (long long)groups, (long long)mult);
    put_triple(&c->consts, "in", in);
    put_triple(&c->consts, "out", out);
    put_triple(&c->consts, "k", k);
    put_triple(&c->consts, "s", s);
    put_triple(&c->consts, "d", d);
    put_triple(&c->consts, "pad", pad);
    ck_buf_put(&c->consts, "};\n");
    return t;
}

void ex_use(ex_ctx *c, const char *name)
{
    if (!c->emitting) return; /* the dry pass may take paths the written code does not */
    for (int i = 0; i < c->n_used; i++)
        if (!strcmp(c->used[i], name)) return;
    size_t n = strlen(name);
    if (c->n_used < (int)(sizeof c->used / sizeof c->used[0]) && n < sizeof c->used[0])
        memcpy(c->used[c->n_used++], name, n + 1);
}

void ex_line(ex_ctx *c, const char *fmt, ...)
{
    if (!c->emitting) return;
    char line[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    ck_buf_printf(&c->body, "    %s%s\n", c->indent ? "    " : "", line);
}

const char *ex_str(ex_ctx *c, const char *fmt, ...)
{
    char *t = tmp_str(c);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t, sizeof c->tmp[0], fmt, ap);
    va_end(ap);
    return t;
}

const char *ex_float(ex_ctx *c, double v)
{
    char *t = tmp_str(c);
    snprintf(t, sizeof c->tmp[0], "%.9g", (double)(float)v);
    if (!strpbrk(t, ".eni")) strcat(t, ".0");
    strcat(t, "f");
    return t;
}

ck_status ex_refuse(const ck_layer *l, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return ck_fail(CK_ERR_UNSUPPORTED, "%s '%s': cannot be exported to C: %s", l->cls->class_name, l->name, why);
}

/* ---- kernel templates ------------------------------------------------------------- */
/* The section of template `name`: its "uses" list and body. */
static bool find_template(const char *name, const char **uses, size_t *uses_len, const char **body,
                          size_t *body_len)
{
    size_t nl = strlen(name);
    for (const char *p = strstr(ck_export_templates, "/*@kernel "); p; p = strstr(p + 1, "/*@kernel ")) {
        const char *nm = p + strlen("/*@kernel ");
        if (strncmp(nm, name, nl) || (nm[nl] != ' ' && nm[nl] != '*')) continue;
        const char *head_end = strstr(nm, "*/"), *end = strstr(nm, "/*@end*/");
        if (!head_end || !end) return false;
        const char *u = strstr(nm, " uses ");
        *uses = u && u < head_end ? u + 6 : head_end;
        *uses_len = (size_t)(head_end - *uses);
        *body = head_end + 3; /* past the newline */
        *body_len = (size_t)(end - *body);
        return true;
    }
    return false;
}

static bool is_used(const ex_ctx *c, const char *name)
{
    for (int i = 0; i < c->n_used; i++)
        if (!strcmp(c->used[i], name)) return true;
    return false;
}

/* Adds the templates the used ones use, until nothing changes. */
static ck_status close_uses(ex_ctx *c)
{
    for (int i = 0; i < c->n_used; i++) {
        const char *uses, *body;
        size_t ul, bl;
        if (!find_template(c->used[i], &uses, &ul, &body, &bl))
            return ck_fail(CK_ERR_STATE, "export: no kernel template '%s'", c->used[i]);
        char list[128];
        snprintf(list, sizeof list, "%.*s", (int)ul, uses);
        for (char *tok = list, *next; tok && *tok; tok = next) {
            next = strchr(tok, ' ');
            if (next) *next++ = 0;
            if (*tok) ex_use(c, tok);
        }
    }
    return CK_OK;
}

/* Used templates in the order of the template file (a template before its users). */
static void write_kernels(const ex_ctx *c, ck_buf *b)
{
    for (const char *p = strstr(ck_export_templates, "/*@kernel "); p; p = strstr(p + 1, "/*@kernel ")) {
        const char *nm = p + strlen("/*@kernel ");
        size_t nl = strcspn(nm, " *");
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)nl, nm);
        const char *uses, *body;
        size_t ul, bl;
        if (is_used(c, name) && find_template(name, &uses, &ul, &body, &bl)) {
            ck_buf_putn(b, body, bl);
            ck_buf_put(b, "\n");
        }
    }
}

/* ---- activations -------------------------------------------------------------------- */
static const char *const act_kernel[CK_ACT_COUNT] = {
    [CK_ACT_RELU] = "relu", [CK_ACT_SIGMOID] = "sigmoid", [CK_ACT_TANH] = "tanh", [CK_ACT_ELU] = "elu",
    [CK_ACT_SELU] = "selu", [CK_ACT_GELU] = "gelu", [CK_ACT_SILU] = "silu", [CK_ACT_SOFTPLUS] = "softplus",
    [CK_ACT_SOFTSIGN] = "softsign", [CK_ACT_RELU6] = "relu6", [CK_ACT_LEAKY_RELU] = "leaky_relu",
    [CK_ACT_HARD_SIGMOID] = "hard_sigmoid", [CK_ACT_HARD_SILU] = "hard_silu", [CK_ACT_MISH] = "mish",
    [CK_ACT_EXPONENTIAL] = "exponential", [CK_ACT_CELU] = "celu", [CK_ACT_HARD_TANH] = "hard_tanh",
    [CK_ACT_HARD_SHRINK] = "hard_shrink", [CK_ACT_SOFT_SHRINK] = "soft_shrink", [CK_ACT_TANH_SHRINK] = "tanh_shrink",
    [CK_ACT_LOG_SIGMOID] = "log_sigmoid", [CK_ACT_SPARSE_PLUS] = "sparse_plus", [CK_ACT_SQUAREPLUS] = "squareplus",
    [CK_ACT_SPARSE_SIGMOID] = "sparse_sigmoid",
};

/* rows * cols as a C expression (rows a number or an expression of steps). */
static const char *times(ex_ctx *c, const char *rows, int64_t cols)
{
    if (rows[strspn(rows, "0123456789")] == 0) return ex_str(c, "%lld", atoll(rows) * (long long)cols);
    return cols == 1 ? rows : ex_str(c, "%s * %lld", rows, (long long)cols);
}

ck_status ex_activation(ex_ctx *c, const ck_layer *l, ck_act_kind kind, const char *expr, const char *rows,
                        int64_t cols)
{
    switch (kind) {
    case CK_ACT_LINEAR: return CK_OK;
    case CK_ACT_SOFTMAX:
    case CK_ACT_LOG_SOFTMAX:
        ex_use(c, "softmax");
        ex_line(c, "k_softmax(%s, %s, %lld, %d);", expr, rows, (long long)cols, kind == CK_ACT_LOG_SOFTMAX);
        return CK_OK;
    case CK_ACT_SPARSEMAX:
        ex_use(c, "sparsemax");
        ex_line(c, "k_sparsemax(%s, %s, %lld);", expr, rows, (long long)cols);
        return CK_OK;
    default:
        if (kind < 0 || kind >= CK_ACT_COUNT || !act_kernel[kind]) return ex_refuse(l, "activation %d", (int)kind);
        char k[40];
        snprintf(k, sizeof k, "act_%s", act_kernel[kind]);
        ex_use(c, k);
        ex_line(c, "k_%s(%s, %s);", k, expr, times(c, rows, cols));
        return CK_OK;
    }
}

/* ---- passes ---------------------------------------------------------------------------- */
/* The transposes around a channels_first step: its inputs' channels moved
 * last before its call (back: its outputs' moved back after). */
static void move_channels(ex_ctx *c, ex_step *s, bool back)
{
    for (int k = 0; k < (back ? s->n_out : s->n_in); k++) {
        int from = back ? s->out[k] : s->moved_in[k], to = back ? s->moved_out[k] : s->in[k];
        if ((back ? s->moved_out[k] : s->moved_in[k]) < 0) continue;
        const ck_shape *sh = &c->vals[from].shape;
        int a = channel_axis(back ? &c->vals[to].shape : sh, s->spatial), r = sh->rank - 1;
        int64_t dims[CK_MAX_RANK], perm[CK_MAX_RANK];
        for (int i = 0; i < r; i++) dims[i] = sh->dim[i + 1];
        /* out axis i takes in axis perm[i] (non-batch, 0-based): forward moves
         * axis a - 1 last, back moves the last axis to a - 1 */
        for (int i = 0; i < r; i++) {
            if (back) perm[i] = i < a - 1 ? i : i == a - 1 ? r - 1 : i - 1;
            else perm[i] = i == r - 1 ? a - 1 : i < a - 1 ? i : i + 1;
        }
        ex_use(c, "transpose");
        ex_line(c, "k_transpose(%s, %s, %d, %s, %s);", storage_expr(c, from), storage_expr(c, to), r,
                ex_longs(c, s->layer, back ? "dims_moved" : "dims", dims, r),
                ex_longs(c, s->layer, back ? "channels_back" : "channels_last", perm, r));
    }
}

/* A value's shape for a comment: the unknown length as "steps". */
static void value_shape(const ex_ctx *c, int v, char *out, size_t cap)
{
    const ex_value *x = &c->vals[v];
    if (!x->varlen) {
        ck_shape_format(&x->shape, out, cap);
        return;
    }
    size_t n = x->len ? (size_t)snprintf(out, cap, "(None, steps_%d", x->len) : (size_t)snprintf(out, cap, "(None, steps");
    for (int d = 2; d < x->shape.rank && n < cap; d++) n += (size_t)snprintf(out + n, cap - n, ", %lld", (long long)x->shape.dim[d]);
    if (n < cap) snprintf(out + n, cap - n, ")");
}

static ck_status run_emitters(ex_ctx *c)
{
    c->state_at = 0;
    for (int t = 0; t < c->n_steps; t++) {
        ex_step *s = &c->steps[t];
        const ex_class *ec = ex_find_class(s->layer->cls->class_name);
        if (c->emitting) {
            char a[96];
            ck_buf_printf(&c->body, "    /* %s '%s'", s->layer->cls->class_name, s->layer->name);
            for (int k = 0; k < s->n_in; k++) {
                value_shape(c, s->moved_in[k] >= 0 ? s->moved_in[k] : s->in[k], a, sizeof a);
                ck_buf_printf(&c->body, "%s%s", k ? ", " : ": ", a);
            }
            for (int k = 0; k < s->n_out; k++) {
                value_shape(c, s->moved_out[k] >= 0 ? s->moved_out[k] : s->out[k], a, sizeof a);
                ck_buf_printf(&c->body, "%s%s", k ? ", " : " -> ", a);
            }
            const char *same = s->n_out && ex_q8_value(c, s->out[0]) ? ", the same int8s */\n" : ", the same floats */\n";
            ck_buf_put(&c->body, s->aliased ? same : ex_moved(s) ? ", channels moved last */\n" : " */\n");
        }
        if (s->folded_into >= 0) {
            if (c->emitting)
                ck_buf_printf(&c->body, "    /* (folded into %s '%s') */\n", c->steps[s->folded_into].layer->cls->class_name,
                              c->steps[s->folded_into].layer->name);
            continue;
        }
        if (!c->emitting && !(ec->flags & EX_VARLEN))
            for (int k = 0; k < s->n_in + s->n_out; k++)
                if (c->vals[k < s->n_in ? s->in[k] : s->out[k - s->n_in]].varlen)
                    return ex_refuse(s->layer, "its %s %d has the input's unknown length, which this class does not "
                                     "take in exported code", k < s->n_in ? "input" : "output",
                                     k < s->n_in ? k : k - s->n_in);
        if (!ec->emit || (c->emitting && s->aliased)) continue;
        c->cur = s;
        c->scratch_seen = 0;
        if (c->emitting && s->win_span && c->vals[s->in[0]].varlen) emit_length(c, s);
        move_channels(c, s, false);
        ck_status st = ec->emit(c, s->layer, s);
        if (st) return st;
        move_channels(c, s, true);
        if (c->nomem) return ck_fail(CK_ERR_NOMEM, "out of memory exporting");
        if (c->state_error) return ex_refuse(s->layer, "stateful layers of one model built for different batches");
        if (c->varlen_error) return ex_refuse(s->layer, "a size that is not a whole number of the unknown steps");
        if (c->scratch_seen > EX_MAX_SCRATCH) return ex_refuse(s->layer, "needs more than %d scratch buffers", EX_MAX_SCRATCH);
        c->layer_calls += c->emitting && !s->aliased;
    }
    return CK_OK;
}

const ck_layer *ex_folded(const ex_ctx *c, const ex_step *s) { return s->fold >= 0 ? c->steps[s->fold].layer : NULL; }

bool ex_affine_of(const ck_layer *l, int64_t channels, float *scale, float *shift)
{
    ck_run inference = {.training = false}; /* what the class's affine hook reads */
    const ck_fusion *f = l->cls->fusion;
    return f && f->affine && f->affine(l, &inference, channels, scale, shift);
}

static int readers_of(const ex_ctx *c, int v)
{
    int n = c->vals[v].model_output >= 0;
    for (int t = 0; t < c->n_steps; t++)
        for (int k = 0; k < c->steps[t].n_in; k++) n += c->steps[t].in[k] == v || c->steps[t].moved_in[k] == v;
    for (int w = 0; w < c->n_vals; w++) n += w != v && c->vals[w].link == v; /* shared by a rename */
    return n;
}

/* A BatchNormalization whose input only it reads, made by a layer that can
 * take it in (ex_can_fold), runs inside that layer: its output becomes the
 * layer's, its per-channel scale and shift go into the kernel and bias. */
static void plan_folds(ex_ctx *c)
{
    for (int t = 0; t < c->n_steps; t++) {
        ex_step *b = &c->steps[t];
        if (strcmp(b->layer->cls->class_name, "BatchNormalization") || b->n_in != 1) continue;
        const ck_shape *sh = &c->vals[b->in[0]].shape;
        int64_t ch = sh->dim[sh->rank - 1];
        float *ab = ck_malloc((size_t)(2 * ch + 2) * sizeof *ab);
        bool affine = ab && ex_affine_of(b->layer, ch, ab, ab + ch);
        ck_free(ab);
        int p = t - 1;
        while (p >= 0 && !(c->steps[p].n_out == 1 && c->steps[p].out[0] == b->in[0])) p--;
        if (p < 0 || !affine || !ex_can_fold(c->steps[p].layer) || c->steps[p].fold >= 0 ||
            readers_of(c, b->in[0]) != 1)
            continue;
        ex_value *v = &c->vals[b->in[0]], *o = &c->vals[b->out[0]];
        b->folded_into = p, c->steps[p].fold = t;
        o->link = b->in[0];
        if (o->ranged) v->lo = o->lo, v->hi = o->hi; /* int8: the range after the affine map */
    }
}

/* Links outputs onto their inputs where the class allows it and nothing else needs the input. */
static void plan_in_place(ex_ctx *c)
{
    for (int t = 0; t < c->n_steps; t++) {
        ex_step *s = &c->steps[t];
        const ex_class *ec = ex_find_class(s->layer->cls->class_name);
        if ((ec->flags & EX_INPLACE) && !ex_moved(s) && s->n_in >= 1 && s->n_out == 1 && c->vals[s->out[0]].link == s->out[0] &&
            may_overwrite(c, s))
            c->vals[s->out[0]].link = root_of(c, s->in[0]);
    }
}

static bool same_qparams(const ex_ctx *c, int v, int w)
{
    float sv, sw;
    int zv, zw;
    ex_qparams(c, v, &sv, &zv);
    ex_qparams(c, w, &sw, &zw);
    return sv == sw && zv == zw;
}

/* Demotes root r to floats; says whether it was int8. */
static bool demote(ex_ctx *c, int r)
{
    bool was = c->vals[r].q8;
    c->vals[r].q8 = false;
    return was;
}

/* int8 between layers (--int8, after the dry pass has marked the steps): a
 * root is stored as int8 when every step writing it makes int8 (a q8 step, or
 * a max pooling of an int8 root) and every step reading it takes int8 (input 0
 * of a q8 step, or of a max pooling writing an int8 root); it is no model input
 * or output, and every value sharing it has its quantization parameters (a
 * Flatten's output: the same floats, the same calibrated range). The largest
 * such set is what demoting leaves once nothing changes. The outputs are the
 * float code's: a q8 layer's float output (v - zp) * scale quantized again at
 * the same parameters by the next one gives back v (|v - zp| <= 255 is far
 * within float's exact range of the round trip), and max pooling commutes with
 * the monotone map from int8 to the next layer's int8. */
static void plan_int8(ex_ctx *c)
{
    for (int v = 0; v < c->n_vals; v++) {
        ex_value *x = &c->vals[v];
        x->q8 = root_of(c, v) == v && x->place == EX_ARENA && x->ranged;
    }
    for (int v = 0; v < c->n_vals; v++) {
        const ex_value *x = &c->vals[v];
        int r = root_of(c, v);
        if (x->model_output >= 0 || x->step_stride || !x->ranged || !same_qparams(c, v, r)) demote(c, r);
    }
    for (bool changed = true; changed;) {
        changed = false;
        for (int t = 0; t < c->n_steps; t++) {
            const ex_step *s = &c->steps[t];
            if (s->folded_into >= 0 || s->aliased) continue; /* no code of its own */
            bool plain = !ex_moved(s) && s->n_in >= 1 && s->n_out == 1;
            bool through = plain && s->q8_through && ex_q8_value(c, s->in[0]) && ex_q8_value(c, s->out[0]);
            bool q8 = (plain && s->q8) || through;
            for (int k = 0; k < s->n_in; k++) {
                if (!(k == 0 && q8)) changed |= demote(c, root_of(c, s->in[k]));
                if (s->moved_in[k] >= 0) changed |= demote(c, root_of(c, s->moved_in[k]));
            }
            for (int k = 0; k < s->n_out; k++) {
                if (!(k == 0 && q8)) changed |= demote(c, root_of(c, s->out[k]));
                if (s->moved_out[k] >= 0) changed |= demote(c, root_of(c, s->moved_out[k]));
            }
        }
    }
}

static ck_status check_finite(const ex_ctx *c)
{
    for (int64_t i = 0; i < c->blob_n; i++)
        if (!isfinite(c->blob[i])) {
            for (int a = 0; a < c->n_arrays; a++)
                if (i >= c->arrays[a].offset && i < c->arrays[a].offset + c->arrays[a].n)
                    return ck_fail(CK_ERR_NUMERIC, "export: constant %s[%lld] is not finite", c->arrays[a].name,
                                   (long long)(i - c->arrays[a].offset));
        }
    return CK_OK;
}

static void io_name(const ck_ktensor *t, char *out, size_t cap)
{
    snprintf(out, cap, "%s", t->node && t->node->layer ? t->node->layer->name : "?");
}

/* Floats of the state rows at the arena's start. */
static int64_t state_total(const ex_ctx *c) { return c->state_floats * c->state_rows; }

static void write_header(const ex_ctx *c, ck_buf *h)
{
    const char *n = c->name;
    char up[64], sh[96], nm[CK_NAME_MAX];
    size_t i = 0;
    for (; n[i] && i + 1 < sizeof up; i++) up[i] = (char)toupper((unsigned char)n[i]);
    up[i] = 0;
    ck_buf_printf(h, "/* %s.h: model '%s' as C99 code, generated by ckeras export (do not edit).\n", n,
                  c->model->base.name);
    ck_buf_put(h, " * Needs libm only: no allocation, no globals written, so calls on different\n"
                  " * arenas may run at once. */\n");
    ck_buf_printf(h, "#ifndef %s_H\n#define %s_H\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n", up, up);
    ck_buf_printf(h, "/* Bytes of the arena %s_predict works in (any float-aligned memory; 16-byte\n"
                     " * alignment is best). */\n#define %s_ARENA_BYTES %lld\n", n, up,
                  (long long)((c->arena_floats + state_total(c)) * 4));
    if (c->state_floats)
        ck_buf_printf(h, "/* Stateful recurrent layers: their states live in the arena's first\n"
                         " * %s_STATE_BYTES, one row per sample of the batch of %s_STATE_ROWS they were\n"
                         " * built for, and carry over from call to call (Keras's stateful=True) until\n"
                         " * %s_reset zeroes them; call it once before the first %s_predict. %s_predict\n"
                         " * runs row 0; %s_predict_batch gives sample i row i %% %s_STATE_ROWS, as Keras\n"
                         " * runs consecutive batches. Different arenas keep different states. */\n"
                         "#define %s_STATE_BYTES %lld\n#define %s_STATE_ROWS %lld\n",
                      up, up, n, n, n, n, up, up, (long long)(state_total(c) * 4), up, (long long)c->state_rows);
    ck_buf_printf(h, "/* Floats of one sample's inputs and outputs, each concatenated in Keras's order. */\n");
    ck_buf_printf(h, "#define %s_INPUT_FLOATS %lld\n#define %s_OUTPUT_FLOATS %lld\n", up, (long long)c->in_floats,
                  up, (long long)c->out_floats);
    ck_buf_printf(h, "#define %s_N_INPUTS %d\n#define %s_N_OUTPUTS %d\n", up, c->n_in, up, c->n_out);
    for (int k = 0; k < c->n_in; k++) {
        const ex_value *v = &c->vals[c->in_vals[k]];
        ck_shape_format(&v->shape, sh, sizeof sh);
        io_name(c->model->inputs[k], nm, sizeof nm);
        ck_buf_printf(h, "/* input %d '%s': %s */\n#define %s_INPUT%d_OFFSET %lld\n#define %s_INPUT%d_FLOATS %lld\n",
                      k, nm, sh, up, k, (long long)v->offset, up, k, (long long)v->size);
    }
    int64_t off = 0;
    for (int k = 0; k < c->n_out; k++) {
        const ex_value *v = &c->vals[c->out_vals[k]];
        ck_shape_format(&v->shape, sh, sizeof sh);
        io_name(c->model->outputs[k], nm, sizeof nm);
        ck_buf_printf(h, "/* output %d '%s': %s */\n#define %s_OUTPUT%d_OFFSET %lld\n#define %s_OUTPUT%d_FLOATS %lld\n",
                      k, nm, sh, up, k, (long long)off, up, k, (long long)v->size);
        off += v->size;
    }
    if (c->varlen) {
        const ex_value *in = &c->vals[c->in_vals[0]], *o = &c->vals[c->out_vals[0]];
        ck_buf_printf(h, "/* The input's length (axis 1) is unknown: a call takes any number of steps\n"
                         " * from 1 to %s_MAX_STEPS (the arena is sized for that many); one step of the\n"
                         " * input is %s_INPUT_STEP_FLOATS floats. */\n#define %s_MAX_STEPS %lld\n"
                         "#define %s_INPUT_STEP_FLOATS %lld\n", up, up, up, (long long)c->max_steps, up,
                      (long long)(in->size / c->max_steps));
        if (o->varlen)
            ck_buf_printf(h, "/* The output follows the input's length: steps * %s_OUTPUT_STEP_FLOATS floats. */\n"
                             "#define %s_OUTPUT_STEP_FLOATS %lld\n", up, up, (long long)(o->size / c->max_steps));
        ck_buf_printf(h, "\n/* One sample of `steps` steps: in [steps * %s_INPUT_STEP_FLOATS] -> out. Returns\n"
                         " * 0, 1 when an Embedding id is outside its table, 2 when steps is not in\n"
                         " * 1..%s_MAX_STEPS, 3 when a 'valid' Conv1D or pooling window is longer than\n"
                         " * the steps it gets (its output would have fewer than 1). */\nint %s_predict_len(const float *in, long steps, float *out, void *arena);\n",
                      up, up, n);
        ck_buf_printf(h, "/* %s_predict and %s_predict_batch below take %s_MAX_STEPS steps. */\n", n, n, up);
    }
    ck_buf_printf(h, "\n/* One sample: in [%s_INPUT_FLOATS] -> out [%s_OUTPUT_FLOATS]. Returns 0, or 1 when an\n"
                     " * Embedding id is outside its table. */\n", up, up);
    ck_buf_printf(h, "int %s_predict(const float *in, float *out, void *arena);\n", n);
    ck_buf_printf(h, "/* batch samples, one after the other, in the same arena. */\n");
    ck_buf_printf(h, "int %s_predict_batch(const float *in, float *out, long batch, void *arena);\n", n);
    if (c->state_floats) ck_buf_printf(h, "/* Zeroes the recurrent states in the arena (Keras's reset_states). */\nvoid %s_reset(void *arena);\n", n);
    ck_buf_printf(h, "\n#ifdef __cplusplus\n}\n#endif\n#endif\n");
}

static void write_array(const ex_ctx *c, const ex_array *a, bool bin, ck_buf *b)
{
    if (bin) {
        ck_buf_printf(b, "#define %s (%s_weights + %lld) /* %lld floats */\n", a->name, c->name, (long long)a->offset,
                      (long long)a->n);
        return;
    }
    ck_buf_printf(b, "static const float %s[%lld] = {", a->name, (long long)(a->n ? a->n : 1));
    for (int64_t i = 0; i < a->n; i++)
        ck_buf_printf(b, "%s%a", i % 8 ? ", " : (i ? ",\n    " : "\n    "), (double)c->blob[a->offset + i]);
    ck_buf_put(b, a->n ? "\n};\n" : "0};\n");
}

static void write_source(const ex_ctx *c, bool bin, ck_buf *b)
{
    const char *n = c->name;
    ck_buf_printf(b, "/* %s.c: model '%s' as C99 code, generated by ckeras export (do not edit).\n", n,
                  c->model->base.name);
    ck_buf_printf(b, " * %d layer calls (%d in int8); %lld bytes of constants; an arena of %lld bytes (every\n"
                     " * tensor in its own buffer would take %lld). */\n", c->layer_calls, c->int8_layers,
                  (long long)(c->blob_n * 4 + c->int_bytes),
                  (long long)(c->arena_floats * 4), (long long)(c->naive_floats * 4));
    ck_buf_printf(b, "#include \"%s.h\"\n\n#include <math.h>\n#include <stddef.h>\n#include <stdint.h>\n\n", n);
    ck_buf_put(b, "/* ---- kernels (ckeras src/export/templates/kernels.c.in) ---- */\n");
    write_kernels(c, b);
    ck_buf_put(b, "/* ---- constants ---- */\n");
    if (bin) ck_buf_printf(b, "extern const float %s_weights[]; /* %s_weights.bin, embedded by %s_weights.S */\n", n, n, n);
    ck_buf_put(b, c->consts.data ? c->consts.data : "");
    for (int i = 0; i < c->n_arrays; i++) write_array(c, &c->arrays[i], bin, b);
    if (c->state_floats) { /* the body runs on a work area and one row of states */
        ck_buf_printf(b, "\nstatic int %s_run(const float *in, float *out, float *a, float *st)\n{\n", n);
        ck_buf_put(b, "    (void)a;\n    (void)in;\n");
    } else if (c->varlen) {
        ck_buf_printf(b, "\nint %s_predict_len(const float *in, long steps, float *out, void *arena)\n{\n", n);
        ck_buf_put(b, "    float *a = (float *)arena;\n    (void)a;\n    (void)in;\n");
        ck_buf_printf(b, "    if (steps < 1 || steps > %lld) return 2;\n", (long long)c->max_steps);
    } else {
        ck_buf_printf(b, "\nint %s_predict(const float *in, float *out, void *arena)\n{\n", n);
        ck_buf_put(b, "    float *a = (float *)arena;\n    (void)a;\n    (void)in;\n");
    }
    ck_buf_put(b, c->body.data ? c->body.data : "");
    int64_t off = 0;
    for (int k = 0; k < c->n_out; k++) {
        int v = c->out_vals[k], r = root_of(c, v);
        const ex_value *rv = &c->vals[r];
        if (!(rv->place == EX_OUTPUT && rv->offset == off)) {
            ck_buf_printf(b, "    /* output %d */\n    k_copy(%s%s%lld, out + %lld, %s);\n", k,
                          rv->place == EX_INPUT ? "in" : rv->place == EX_OUTPUT ? "out" : "a", " + ",
                          (long long)rv->offset, (long long)off, ex_rows((ex_ctx *)c, v, 1));
        }
        off += c->vals[v].size;
    }
    ck_buf_put(b, "    return 0;\n}\n\n");
    if (c->varlen) {
        ck_buf_printf(b, "int %s_predict(const float *in, float *out, void *arena)\n{\n", n);
        ck_buf_printf(b, "    return %s_predict_len(in, %lld, out, arena);\n}\n\n", n, (long long)c->max_steps);
    }
    long long all = (long long)state_total(c), row = (long long)c->state_floats;
    if (row) {
        ck_buf_printf(b, "int %s_predict(const float *in, float *out, void *arena)\n{\n", n);
        ck_buf_printf(b, "    return %s_run(in, out, (float *)arena + %lld, (float *)arena);\n}\n\n", n, all);
        ck_buf_printf(b, "void %s_reset(void *arena)\n{\n    long i;\n", n);
        ck_buf_printf(b, "    for (i = 0; i < %lld; i++) ((float *)arena)[i] = 0.0f;\n}\n\n", all);
    }
    ck_buf_printf(b, "int %s_predict_batch(const float *in, float *out, long batch, void *arena)\n{\n", n);
    ck_buf_put(b, "    long i;\n    for (i = 0; i < batch; i++) {\n");
    if (row)
        ck_buf_printf(b, "        int rc = %s_run(in + i * %lld, out + i * %lld, (float *)arena + %lld,\n"
                         "                        (float *)arena + i %% %lld * %lld);\n",
                      n, (long long)c->in_floats, (long long)c->out_floats, all, (long long)c->state_rows, row);
    else
        ck_buf_printf(b, "        int rc = %s_predict(in + i * %lld, out + i * %lld, arena);\n", n,
                      (long long)c->in_floats, (long long)c->out_floats);
    ck_buf_put(b, "        if (rc) return rc;\n    }\n    return 0;\n}\n");
}

static bool needs_output_copy(const ex_ctx *c)
{
    int64_t off = 0;
    for (int k = 0; k < c->n_out; k++) {
        const ex_value *rv = &c->vals[root_of(c, c->out_vals[k])];
        if (!(rv->place == EX_OUTPUT && rv->offset == off)) return true;
        off += c->vals[c->out_vals[k]].size;
    }
    return false;
}

static ck_status write_file(const char *dir, const char *name, const char *suffix, const void *data, size_t len)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s%s", dir, name, suffix) >= (int)sizeof path)
        return ck_fail(CK_ERR_ARG, "export: path '%s/%s%s' is too long", dir, name, suffix);
    return ck_write_file_atomic(path, data, len);
}

static ck_status write_files(ex_ctx *c, const char *dir, int64_t threshold, ck_export_info *info)
{
    bool bin = threshold >= 0 && c->blob_n * 4 > threshold;
    ck_buf h = {0}, src = {0}, as = {0};
    write_header(c, &h);
    write_source(c, bin, &src);
    if (bin) {
        ck_buf_printf(&as, "/* %s_weights.S: embeds %s_weights.bin (little-endian float32) as %s_weights;\n"
                           " * assemble it from the folder that holds the .bin, or with -I that folder. */\n",
                      c->name, c->name, c->name);
        ck_buf_printf(&as, "    .section .rodata\n    .balign 16\n    .global %s_weights\n%s_weights:\n"
                           "    .incbin \"%s_weights.bin\"\n",
                      c->name, c->name, c->name);
        ck_buf_put(&as, "#if defined(__linux__) && defined(__ELF__)\n    .section .note.GNU-stack,\"\",%progbits\n#endif\n");
    }
    ck_status st = (h.failed || src.failed || as.failed) ? ck_fail(CK_ERR_NOMEM, "out of memory exporting") : CK_OK;
    if (!st && bin) st = write_file(dir, c->name, "_weights.bin", c->blob, (size_t)c->blob_n * sizeof *c->blob);
    if (!st && bin) st = write_file(dir, c->name, "_weights.S", as.data, as.len);
    if (!st) st = write_file(dir, c->name, ".h", h.data, h.len);
    if (!st) st = write_file(dir, c->name, ".c", src.data, src.len);
    ck_buf_free(&h);
    ck_buf_free(&src);
    ck_buf_free(&as);
    if (!st && info) {
        *info = (ck_export_info){.arena_bytes = (c->arena_floats + state_total(c)) * 4, .weight_bytes = c->blob_n * 4 + c->int_bytes,
                                 .naive_bytes = c->naive_floats * 4, .layers = c->layer_calls, .weights_bin = bin,
                                 .int8_layers = c->int8_layers};
        snprintf(info->name, sizeof info->name, "%s", c->name);
    }
    return st;
}

static ck_status pick_name(ex_ctx *c, const char *given)
{
    const char *src = given && *given ? given : c->model->base.name;
    char id[64];
    safe_ident(src, id, sizeof id);
    if (given && *given && strcmp(id, given))
        return ck_fail(CK_ERR_ARG, "export: name '%s' is not a C identifier (letters, digits, _)", given);
    snprintf(c->name, sizeof c->name, "%s%s", isdigit((unsigned char)id[0]) || !id[0] ? "m_" : "", id);
    return CK_OK;
}

/* What the code of an unknown length takes: one input, whose axis 1 it is;
 * one output when that follows the length; no int8, no stateful layers. */
static ck_status check_varlen(const ex_ctx *c)
{
    const char *m = c->model->base.name;
    if (c->n_in != 1 || !c->vals[c->in_vals[0]].varlen)
        return ck_fail(CK_ERR_UNSUPPORTED, "model '%s': an unknown length is exported for models of one input "
                       "(its axis 1)", m);
    for (int k = 0; k < c->n_out; k++)
        if (c->vals[c->out_vals[k]].varlen && c->n_out != 1)
            return ck_fail(CK_ERR_UNSUPPORTED, "model '%s': output %d has the unknown length and is not the only "
                           "output", m, k);
        else if (c->vals[c->out_vals[k]].varlen && c->vals[c->out_vals[k]].len)
            return ck_fail(CK_ERR_UNSUPPORTED, "model '%s': output %d has an unknown length that a window (Conv1D, "
                           "pooling) made other than the input's", m, k);
    if (c->int8) return ck_fail(CK_ERR_UNSUPPORTED, "model '%s': int8 export of an unknown length", m);
    if (c->state_floats)
        return ck_fail(CK_ERR_UNSUPPORTED, "model '%s': stateful layers with an input of unknown length", m);
    return CK_OK;
}

bool ck_export_supports(const char *class_name) { return class_name && ex_find_class(class_name) != NULL; }

ck_status ck_model_export_c(ck_model *model, const char *dir, const ck_export_opts *opts, ck_export_info *info)
{
    if (!model || !dir) return ck_fail(CK_ERR_ARG, "ck_model_export_c: model and dir are required");
    if (!model->steps || !model->n_steps) return ck_fail(CK_ERR_STATE, "model '%s': build it before export", model->base.name);
    ex_ctx c = {.model = model, .max_steps = opts && opts->max_steps > 0 ? opts->max_steps : 0};
    ck_status st = pick_name(&c, opts ? opts->name : NULL);
    if (!st) st = ck_model_init_weights(model);
    if (!st && (model->n_inputs > EX_MAX_MODEL_IO || model->n_outputs > EX_MAX_MODEL_IO))
        st = ck_fail(CK_ERR_UNSUPPORTED, "model '%s': more than %d inputs or outputs", model->base.name,
                     EX_MAX_MODEL_IO);
    for (int i = 0; !st && i < model->n_inputs; i++) {
        const ck_layer *l = model->inputs[i]->node ? model->inputs[i]->node->layer : &model->base;
        st = value_of_tensor(&c, l, model->inputs[i], &c.in_vals[i]);
        c.n_in = i + 1;
    }
    c.n_out = model->n_outputs;
    if (!st) st = walk_model(&c, model, c.in_vals, c.out_vals, true);
    if (!st && opts && opts->int8)
        st = c.varlen ? ck_fail(CK_ERR_UNSUPPORTED, "model '%s': int8 export of an unknown length", model->base.name)
                      : calibrate(&c, opts);
    if (!st) {
        for (int i = 0; i < c.n_in; i++) c.vals[c.in_vals[i]].place = EX_INPUT;
        for (int i = 0; i < c.n_out; i++)
            if (c.vals[c.out_vals[i]].model_output < 0) c.vals[c.out_vals[i]].model_output = i;
        plan_folds(&c);
        plan_in_place(&c);
        st = run_emitters(&c); /* dry: refusals and scratch, nothing written */
        if (!st && c.int8 && !opts->int8_float_between) { /* again, with the values' int8 forms' scratch */
            plan_int8(&c);
            for (int t = 0; t < c.n_steps; t++) c.steps[t].n_scratch = 0;
            st = run_emitters(&c);
        }
        c.state_floats = c.state_at;
    }
    if (!st && c.varlen) st = check_varlen(&c);
    if (!st) {
        mark_lifetimes(&c);
        place_io(&c);
        st = place_arena(&c);
    }
    if (!st) {
        c.emitting = true;
        st = run_emitters(&c);
    }
    if (!st && needs_output_copy(&c)) ex_use(&c, "copy");
    if (!st) st = close_uses(&c);
    if (!st) st = check_finite(&c);
    if (!st && (c.body.failed || c.consts.failed || c.nomem)) st = ck_fail(CK_ERR_NOMEM, "out of memory exporting");
    int64_t threshold = opts && opts->bin_threshold ? opts->bin_threshold : EX_DEFAULT_BIN;
    if (!st) st = write_files(&c, dir, threshold, info);
    ck_free(c.vals);
    ck_free(c.steps);
    ck_free(c.blob);
    ck_free(c.arrays);
    ck_buf_free(&c.body);
    ck_buf_free(&c.consts);
    return st;
}
