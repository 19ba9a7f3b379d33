/* Models: Sequential (a list, chained into a graph at build) and Functional (a
 * recorded graph of calls), Keras's layer order and depths, auto-naming as in a
 * fresh Keras session, and the one block that holds every weight. */
#include "graph/config.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

static ck_status model_layer_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out);

static const ck_layer_class sequential_class = {
    .class_name = "Sequential", .module = "keras", .min_inputs = 1, .max_inputs = 1,
    .build = model_layer_build,
};
static const ck_layer_class functional_class = {
    .class_name = "Functional", .module = "keras.src.models.functional", .min_inputs = 1,
    .max_inputs = 64, .build = model_layer_build,
};

static ck_status assign_names(ck_model *m);

static ck_model *model_new(ck_model_kind kind, const char *name)
{
    ck_model *m = ck_calloc(1, sizeof *m);
    if (!m) return NULL;
    atomic_flag_clear(&m->lock);
    const ck_layer_class *cls = kind == CK_SEQUENTIAL ? &sequential_class : &functional_class;
    ck_layer *b = &m->base;
    b->cls = cls;
    b->model = m;
    b->trainable = true;
    b->auto_named = true;
    ck_layer *probe = ck_layer_alloc(cls); /* takes a creation serial like any layer */
    if (!probe) {
        ck_free(m);
        return NULL;
    }
    b->serial = probe->serial;
    ck_layer_free(probe);
    snprintf(b->dtype, sizeof b->dtype, "float32");
    ck_snake_case(cls->class_name, b->name, sizeof b->name);
    if (name && *name) {
        snprintf(b->name, sizeof b->name, "%s", name);
        b->auto_named = false;
    }
    m->kind = kind;
    return m;
}

ck_model *ck_sequential(const char *name) { return model_new(CK_SEQUENTIAL, name); }
ck_model *ck_functional(const char *name) { return model_new(CK_FUNCTIONAL, name); }
ck_layer *ck_model_as_layer(ck_model *m) { return m ? &m->base : NULL; }
const char *ck_model_name(const ck_model *m) { return m->base.name; }
bool ck_model_built(const ck_model *m) { return m->base.built; }
void ck_model_set_seed(ck_model *m, uint64_t seed) { m->seed = seed; }

/* True if l is m or holds m at any depth: m going into l would make a cycle, and
 * freeing l would free m. */
static bool holds(const ck_layer *l, const ck_model *m)
{
    for (const ck_layer *x = m ? &m->base : NULL; x; x = x->owner ? &x->owner->base : NULL)
        if (x == l) return true;
    return false;
}

/* What the public calls do with a layer they could not place: it is freed unless
 * a model already holds it, or it holds the model the caller still uses. */
static void free_unplaced(ck_model *m, ck_layer *l)
{
    if (l && !l->owner && !holds(l, m)) ck_layer_free(l);
}

static ck_status own(ck_model *m, ck_layer *l)
{
    for (int i = 0; i < m->n_owned; i++)
        if (m->owned[i] == l) return CK_OK;
    if (holds(l, m))
        return ck_fail(CK_ERR_ARG, "cannot add model '%s' to itself or to a model inside it", l->name);
    if (l->owner && l->owner != m)
        return ck_fail(CK_ERR_STATE, "%s '%s' already belongs to model '%s'", l->cls->class_name,
                       l->name, l->owner->base.name);
    ck_status st = ck_grow((void **)&m->owned, &m->cap_owned, m->n_owned + 1, sizeof *m->owned);
    if (st) return st;
    m->owned[m->n_owned++] = l;
    l->owner = m;
    return CK_OK;
}

void ck_model_free(ck_model *m)
{
    if (!m) return;
    if (m->engine_free) m->engine_free(m->engine);
    if (m->kept_predict_free) m->kept_predict_free(m->kept_predict);
    ck_free(m->file_compile_config);
    ck_free(m->compile_gap);
    ck_free(m->pending_optimizer);
    ck_free(m->input_keys);
    ck_free(m->output_keys);
    for (int i = 0; i < m->n_op_rows; i++) {
        ck_op_row *r = &m->op_rows[i];
        ck_free(r->name), ck_free(r->class_name), ck_free(r->shape), ck_free(r->connected), ck_free(r->before);
    }
    ck_free(m->op_rows);
    for (int i = 0; i < m->n_owned; i++) {
        m->owned[i]->owner = NULL;
        ck_layer_free(m->owned[i]);
    }
    ck_layer_reset_graph(&m->base);
    ck_free(m->owned);
    ck_free(m->layers);
    ck_free(m->inputs);
    ck_free(m->outputs);
    ck_free(m->steps);
    ck_free(m->weight_block);
    ck_free(m->grad_block);
    ck_free(m->base.state);
    ck_free(m);
}

/* ---- recording calls -------------------------------------------------------------- */
static ck_ktensor *record_error(ck_model *m, ck_status st)
{
    if (!m->error) {
        m->error = st;
        snprintf(m->errmsg, sizeof m->errmsg, "%s", ck_errmsg());
    }
    return NULL;
}

static ck_status add_node(ck_layer *l, ck_ktensor *const *inputs, int n_in, const ck_shape *outs,
                          int n_out, ck_node **made)
{
    ck_status st = ck_grow((void **)&l->nodes, &l->cap_nodes, l->n_nodes + 1, sizeof *l->nodes);
    if (st) return st;
    ck_node *node = ck_calloc(1, sizeof *node);
    if (!node) return CK_ERR_NOMEM;
    node->inputs = ck_calloc((size_t)(n_in ? n_in : 1), sizeof *node->inputs);
    node->outputs = ck_calloc((size_t)n_out, sizeof *node->outputs);
    if (!node->inputs || !node->outputs) {
        ck_free(node->inputs);
        ck_free(node->outputs);
        ck_free(node);
        return CK_ERR_NOMEM;
    }
    node->layer = l;
    node->node_index = l->n_nodes;
    node->n_inputs = n_in;
    node->n_outputs = n_out;
    node->depth = -1;
    for (int i = 0; i < n_in; i++) node->inputs[i] = inputs[i];
    for (int i = 0; i < n_out; i++) node->outputs[i] = (ck_ktensor){.shape = outs[i], .node = node, .index = i};
    l->nodes[l->n_nodes++] = node;
    *made = node;
    return CK_OK;
}

/* layer(inputs) on a graph: build on the input shapes, then record the node. */
static ck_status call_layer(ck_model *m, ck_layer *l, ck_ktensor *const *inputs, int n_in, ck_node **node)
{
    if (n_in > 64) return ck_fail(CK_ERR_ARG, "%s '%s': too many inputs (%d)", l->cls->class_name, l->name, n_in);
    ck_shape in[64], out[8];
    int n_out = 0;
    for (int i = 0; i < n_in; i++) in[i] = inputs[i]->shape;
    ck_status st = own(m, l);
    if (!st) st = ck_layer_build(l, in, n_in, out, &n_out);
    if (!st) st = add_node(l, inputs, n_in, out, n_out, node);
    return st;
}

static ck_status input_layer_from_kwargs(const char *kwargs, ck_layer **out)
{
    json_t *obj;
    ck_status st = ck_kwargs_parse(kwargs, &obj);
    if (st) return ck_fail_prefix(st, "Input: ");
    json_t *shape = json_object_get(obj, "shape");
    if (shape) {
        json_object_set(obj, "input_shape", shape);
        json_object_del(obj, "shape");
    }
    ck_layer *l = ck_layer_alloc(ck_input_layer_class());
    if (!l) st = CK_ERR_NOMEM;
    if (!st) st = ck_config_apply(l, obj, true);
    json_decref(obj);
    if (!st && !l->has_input_shape) st = ck_fail(CK_ERR_CONFIG, "Input: a shape is required (shape=(...))");
    if (st) {
        ck_layer_free(l);
        return st;
    }
    *out = l;
    return CK_OK;
}

/* A finished graph takes no more calls; the refusal is not recorded as the
 * graph's error, so the model stays usable. */
static bool refuse_finished(const ck_model *m)
{
    if (m->finished) ck_fail(CK_ERR_STATE, "model '%s' is already finished", m->base.name);
    return m->finished;
}

ck_ktensor *ck_input(ck_model *m, const char *kwargs)
{
    if (!m) return NULL;
    if (m->error) return NULL;
    if (refuse_finished(m)) return NULL;
    ck_layer *l = NULL;
    ck_status st = input_layer_from_kwargs(kwargs, &l);
    if (st) return record_error(m, st);
    ck_node *node;
    if ((st = call_layer(m, l, NULL, 0, &node))) {
        if (!l->owner) ck_layer_free(l);
        return record_error(m, st);
    }
    return &node->outputs[0];
}

ck_status ck_graph_add_input(ck_model *m, ck_layer *input_layer, ck_node **node)
{
    ck_status st = call_layer(m, input_layer, NULL, 0, node);
    if (st && !input_layer->owner) ck_layer_free(input_layer);
    return st;
}

ck_ktensor *ck_graph_call(ck_model *m, ck_layer *l, ck_ktensor *const *inputs, int n_in)
{
    if (!m) return NULL;
    /* a finished model's own error state is not the caller's chain: it stays usable */
    if (refuse_finished(m)) return NULL;
    if (!l) return record_error(m, m->error ? m->error : CK_ERR_ARG);
    ck_status st = CK_OK;
    if (m->error) st = m->error;
    for (int i = 0; !st && i < n_in; i++)
        if (!inputs[i]) st = ck_fail(CK_ERR_ARG, "%s '%s': input %d is NULL", l->cls->class_name, l->name, i);
    ck_node *node = NULL;
    if (!st) st = call_layer(m, l, inputs, n_in, &node);
    return st ? record_error(m, st) : &node->outputs[0];
}

ck_ktensor *ck_call(ck_model *m, ck_layer *l, ck_ktensor *const *inputs, int n_in)
{
    ck_ktensor *t = ck_graph_call(m, l, inputs, n_in);
    if (!t) free_unplaced(m, l);
    return t;
}

ck_ktensor *ck_call1(ck_model *m, ck_layer *l, ck_ktensor *x) { return ck_call(m, l, &x, 1); }

ck_ktensor *ck_ktensor_output(ck_ktensor *t, int index)
{
    if (!t || index < 0 || index >= t->node->n_outputs) return NULL;
    return &t->node->outputs[index];
}

const ck_shape *ck_ktensor_shape(const ck_ktensor *t) { return t ? &t->shape : NULL; }

/* ---- Keras's map_graph: depths and layer order ---------------------------------------- */
typedef struct graph_walk {
    ck_layer **layer_seen; /* layers in pre-order of first visit (Keras's operation_indices) */
    int n_layers_seen;
    ck_node **post;       /* nodes in decreasing depth (post-order) */
    int n_post, cap;
} graph_walk;

static bool is_model_input(const ck_model *m, const ck_ktensor *t)
{
    for (int i = 0; i < m->n_inputs; i++)
        if (m->inputs[i] == t) return true;
    return false;
}

static int layer_index(const graph_walk *w, const ck_layer *l)
{
    for (int i = 0; i < w->n_layers_seen; i++)
        if (w->layer_seen[i] == l) return i;
    return -1;
}

static ck_status visit(const ck_model *m, graph_walk *w, ck_ktensor *t, int depth_guard)
{
    ck_node *node = t->node;
    if (depth_guard > 100000) return ck_fail(CK_ERR_SHAPE, "graph is too deep");
    for (int i = 0; i < w->n_post; i++)
        if (w->post[i] == node) return CK_OK;
    ck_status st;
    if (layer_index(w, node->layer) < 0) {
        if ((st = ck_grow((void **)&w->layer_seen, &w->cap, w->n_layers_seen + 1, sizeof(void *)))) return st;
        w->layer_seen[w->n_layers_seen++] = node->layer;
    }
    if (!is_model_input(m, t)) {
        if (node->n_inputs == 0 && ck_layer_is_input(node->layer))
            return ck_fail(CK_ERR_SHAPE, "model '%s': output depends on input '%s', which is not among the model's inputs",
                           m->base.name, node->layer->name);
        for (int i = 0; i < node->n_inputs; i++)
            if ((st = visit(m, w, node->inputs[i], depth_guard + 1))) return st;
    }
    int cap = w->n_post;
    void *p = ck_realloc(w->post, (size_t)(cap + 1) * sizeof *w->post);
    if (!p) return CK_ERR_NOMEM;
    w->post = p;
    w->post[w->n_post++] = node;
    return CK_OK;
}

typedef struct ranked_layer {
    ck_layer *layer;
    int depth, index;
} ranked_layer;

static int cmp_ranked(const void *pa, const void *pb)
{
    const ranked_layer *a = pa, *b = pb;
    if (a->depth != b->depth) return b->depth - a->depth;
    return a->index - b->index;
}

static ck_status map_graph(ck_model *m)
{
    graph_walk w = {0};
    ck_status st = CK_OK;
    for (int i = 0; !st && i < m->n_outputs; i++) st = visit(m, &w, m->outputs[i], 0);
    for (int i = 0; i < m->n_owned; i++)
        for (int k = 0; k < m->owned[i]->n_nodes; k++) m->owned[i]->nodes[k]->depth = -1;
    /* Depths: walk nodes from outputs backwards; parents sit one deeper. */
    int *layer_depth = ck_calloc((size_t)(w.n_layers_seen + m->n_inputs + 1), sizeof *layer_depth);
    if (!layer_depth) st = CK_ERR_NOMEM;
    for (int i = w.n_post - 1; !st && i >= 0; i--) {
        ck_node *n = w.post[i];
        int d = n->depth < 0 ? 0 : n->depth;
        int li = layer_index(&w, n->layer);
        if (layer_depth[li] > d) d = layer_depth[li];
        layer_depth[li] = d;
        n->depth = d;
        if (is_model_input(m, &n->outputs[0]) && ck_layer_is_input(n->layer)) continue;
        for (int k = 0; k < n->n_inputs; k++) {
            ck_node *p = n->inputs[k]->node;
            if (p->depth < d + 1) p->depth = d + 1;
        }
    }
    /* Inputs not connected to any output still belong to the model, at depth 0. */
    for (int i = 0; !st && i < m->n_inputs; i++) {
        ck_node *n = m->inputs[i]->node;
        if (n->depth < 0) {
            n->depth = 0;
            if ((st = ck_grow((void **)&w.layer_seen, &w.cap, w.n_layers_seen + 1, sizeof(void *)))) break;
            w.layer_seen[w.n_layers_seen] = n->layer;
            layer_depth[w.n_layers_seen++] = 0;
        }
    }
    ranked_layer *ranked = st ? NULL : ck_calloc((size_t)w.n_layers_seen + 1, sizeof *ranked);
    if (!st && !ranked) st = CK_ERR_NOMEM;
    if (!st) {
        for (int i = 0; i < w.n_layers_seen; i++) {
            ranked[i] = (ranked_layer){w.layer_seen[i], layer_depth[i], i};
            for (int j = 0; j < m->n_listed; j++)
                if (m->listed_order[j] == ranked[i].layer) ranked[i].depth = 0, ranked[i].index = j;
        }
        qsort(ranked, (size_t)w.n_layers_seen, sizeof *ranked, cmp_ranked);
        ck_free(m->layers);
        m->layers = ck_calloc((size_t)w.n_layers_seen + 1, sizeof *m->layers);
        if (!m->layers) st = CK_ERR_NOMEM;
        for (int i = 0; !st && i < w.n_layers_seen; i++) m->layers[i] = ranked[i].layer;
        m->n_layers = m->cap_layers = st ? 0 : w.n_layers_seen;
    }
    /* Execution plan: nodes by decreasing depth (inputs first). */
    if (!st) {
        ck_free(m->steps);
        m->steps = ck_calloc((size_t)w.n_post + 1, sizeof *m->steps);
        if (!m->steps) st = CK_ERR_NOMEM;
        m->n_steps = 0;
        int max_depth = 0;
        for (int i = 0; i < w.n_post; i++) max_depth = w.post[i]->depth > max_depth ? w.post[i]->depth : max_depth;
        for (int d = max_depth; !st && d >= 0; d--)
            for (int i = 0; i < w.n_post; i++)
                if (w.post[i]->depth == d) m->steps[m->n_steps++].node = w.post[i];
        for (int i = 0; !st && i < m->n_inputs; i++)
            if (m->inputs[i]->node->depth == 0 && m->n_steps < w.n_post + 1) {
                bool present = false;
                for (int k = 0; k < m->n_steps; k++) present = present || m->steps[k].node == m->inputs[i]->node;
                if (!present) m->steps[m->n_steps++].node = m->inputs[i]->node;
            }
    }
    ck_free(ranked);
    ck_free(layer_depth);
    ck_free(w.layer_seen);
    ck_free(w.post);
    return st;
}

bool ck_model_is_sequential_like(const ck_model *m)
{
    if (m->kind == CK_SEQUENTIAL) return true;
    if (m->n_op_rows) return false; /* a call with mask= has two inbound tensors */
    int max_depth = 0;
    for (int i = 0; i < m->n_steps; i++)
        max_depth = m->steps[i].node->depth > max_depth ? m->steps[i].node->depth : max_depth;
    for (int d = 0; d <= max_depth; d++) {
        int count = 0;
        for (int i = 0; i < m->n_steps; i++) {
            const ck_node *n = m->steps[i].node;
            if (n->depth != d) continue;
            count++;
            if (n->n_inputs > 1) return false;
        }
        if (count > 1) return false;
    }
    for (int i = 0; i < m->n_layers; i++) {
        int in_model = 0;
        for (int k = 0; k < m->layers[i]->n_nodes; k++) in_model += ck_node_in_model(m->layers[i]->nodes[k]);
        if (in_model > 1) return false;
    }
    return true;
}

/* ---- naming: as Keras names objects in a fresh session --------------------------------- */
/* A named object of a model tree: a layer, or the hidden Functional a built
 * Sequential made (layer NULL), which consumes a 'functional' name in Keras. */
typedef struct name_entry {
    ck_layer *layer;
    uint64_t serial;
    char hidden_name[CK_NAME_MAX]; /* "" until named */
} name_entry;

typedef struct name_pool {
    name_entry *items;
    int n, cap;
} name_pool;

static ck_status pool_add(name_pool *p, ck_layer *l, uint64_t serial)
{
    ck_status st = ck_grow((void **)&p->items, &p->cap, p->n + 1, sizeof *p->items);
    if (!st) p->items[p->n++] = (name_entry){.layer = l, .serial = serial};
    return st;
}

static ck_status collect_tree(ck_model *m, name_pool *p)
{
    ck_status st = pool_add(p, &m->base, m->base.serial);
    if (!st && m->functional_serial) st = pool_add(p, NULL, m->functional_serial);
    if (!st && m->input_layer) st = pool_add(p, m->input_layer, m->input_layer->serial);
    for (int i = 0; !st && i < m->n_owned; i++) {
        ck_layer *l = m->owned[i];
        if (l == m->input_layer) continue;
        st = l->model ? collect_tree(l->model, p) : pool_add(p, l, l->serial);
    }
    return st;
}

static int cmp_serial(const void *a, const void *b)
{
    uint64_t x = ((const name_entry *)a)->serial, y = ((const name_entry *)b)->serial;
    return x < y ? -1 : x > y;
}

static bool name_taken(const name_pool *p, const char *name)
{
    for (int i = 0; i < p->n; i++) {
        const name_entry *e = &p->items[i];
        if (e->layer ? !e->layer->auto_named && !strcmp(e->layer->name, name) : e->hidden_name != name && !strcmp(e->hidden_name, name))
            return true;
    }
    return false;
}

/* A fresh creation serial, as if an object of class cls were made now; 0 on failure. */
static uint64_t take_serial(const ck_layer_class *cls)
{
    ck_layer *probe = ck_layer_alloc(cls);
    uint64_t serial = probe ? probe->serial : 0;
    ck_layer_free(probe);
    return serial;
}

static ck_status assign_names(ck_model *m)
{
    name_pool p = {0};
    ck_status st = collect_tree(m, &p);
    if (st) {
        ck_free(p.items);
        return st;
    }
    /* Keras counts names over every object made since clear_session(); a tree
     * that grew (a model nested into another) is renamed as a whole, in creation
     * order, so its names are those Keras gives when it makes the same objects. */
    for (int i = 0; i < p.n; i++)
        if (p.items[i].layer && p.items[i].layer->counter_named) p.items[i].layer->auto_named = true;
    qsort(p.items, (size_t)p.n, sizeof *p.items, cmp_serial);
    for (int i = 0; i < p.n; i++) {
        name_entry *e = &p.items[i];
        ck_layer *l = e->layer;
        if (l && !l->auto_named) continue;
        char base[CK_STR_MAX], *name = l ? l->name : e->hidden_name;
        size_t cap = l ? sizeof l->name : sizeof e->hidden_name;
        ck_snake_case(l ? l->cls->class_name : functional_class.class_name, base, sizeof base);
        snprintf(name, cap, "%s", base);
        for (int k = 1; name_taken(&p, name); k++) snprintf(name, cap, "%s_%d", base, k);
        if (l) l->auto_named = false, l->counter_named = true;
    }
    ck_free(p.items);
    return CK_OK;
}

/* ---- weights ------------------------------------------------------------------------- */
typedef struct weight_list {
    ck_weight_ref *refs;
    int n, cap;
} weight_list;

static ck_status collect_weights(const ck_model *m, bool trainable, weight_list *out)
{
    ck_status st;
    for (int i = 0; i < m->n_layers; i++) {
        ck_layer *l = m->layers[i];
        bool t = trainable && l->trainable;
        if (l->model) {
            if ((st = collect_weights(l->model, t, out))) return st;
            continue;
        }
        for (int k = 0; k < l->n_weights; k++) {
            bool dup = false;
            for (int j = 0; j < out->n && !dup; j++) dup = out->refs[j].w == &l->weights[k];
            if (dup) continue;
            if ((st = ck_grow((void **)&out->refs, &out->cap, out->n + 1, sizeof *out->refs))) return st;
            out->refs[out->n++] = (ck_weight_ref){&l->weights[k], l, t && l->weights[k].trainable};
        }
    }
    return CK_OK;
}

ck_status ck_model_collect_weights(const ck_model *m, ck_weight_ref **refs, int *n)
{
    weight_list list = {0};
    ck_status st = collect_weights(m, m->base.trainable, &list);
    if (st) {
        ck_free(list.refs);
        return st;
    }
    *refs = list.refs;
    *n = list.n;
    return CK_OK;
}

/* Keras 3 names a variable by the name scopes open when its layer was built: a
 * Sequential builds its layers inside its own scope, while a functional graph's
 * layers are built when called, outside any model scope. */
static void set_paths(ck_model *m, const char *prefix)
{
    for (int i = 0; i < m->n_layers; i++) {
        ck_layer *l = m->layers[i];
        char scope[sizeof l->weights[0].path];
        snprintf(scope, sizeof scope, "%.*s%s%s", (int)(sizeof scope / 2), prefix, *prefix ? "/" : "", l->name);
        if (l->model) {
            set_paths(l->model, l->model->kind == CK_SEQUENTIAL ? scope : "");
            continue;
        }
        for (int k = 0; k < l->n_weights; k++)
            snprintf(l->weights[k].path, sizeof l->weights[k].path, "%.500s/%.60s", scope, l->weights[k].name);
    }
}

static void release_nested_blocks(ck_model *m)
{
    for (int i = 0; i < m->n_layers; i++) {
        ck_model *inner = m->layers[i]->model;
        if (!inner) continue;
        release_nested_blocks(inner);
        ck_free(inner->weight_block);
        inner->weight_block = NULL;
        inner->weight_block_size = 0;
    }
}

static ck_status init_nested(ck_model *m)
{
    ck_status st = CK_OK;
    for (int i = 0; !st && i < m->n_layers; i++)
        if (m->layers[i]->model) st = ck_model_init_weights(m->layers[i]->model);
    return st;
}

static ck_status init_pending_weights(ck_model *m);

ck_status ck_model_init_weights(ck_model *m)
{
    if (!m) return CK_OK;
    ck_model_weights_changed(m);
    if (!m->init_pending) return CK_OK;
    ck_model_lock(m);
    ck_status st = m->init_pending ? init_pending_weights(m) : CK_OK;
    ck_model_unlock(m);
    return st;
}

void ck_model_lock(ck_model *m)
{
    while (atomic_flag_test_and_set_explicit(&m->lock, memory_order_acquire)) sched_yield();
}

void ck_model_unlock(ck_model *m) { atomic_flag_clear_explicit(&m->lock, memory_order_release); }

/* ck_model_init_weights under the model's lock. */
static ck_status init_pending_weights(ck_model *m)
{
    ck_weight_ref *refs;
    int n;
    ck_status st = ck_model_collect_weights(m, &refs, &n);
    if (st) return st;
    ck_rng rng;
    ck_rng_seed(&rng, m->init_seed);
    for (int i = 0; !st && i < n; i++) {
        ck_weight *w = refs[i].w;
        if (!w->init_pending) continue;
        st = ck_init_fill(&w->init, &w->shape, w->value, &rng);
        if (st) st = ck_fail_prefix(st, "%s '%s', weight '%s': ", refs[i].layer->cls->class_name,
                                    refs[i].layer->name, w->name);
        w->init_pending = false;
    }
    ck_free(refs);
    m->init_pending = false;
    return st;
}

/* One block for all weights; values already made (a nested model built before,
 * or a layer reused) are carried over, the rest drawn from the seed on first
 * use (reinitialize: all of them, now). */
static ck_status allocate_weights(ck_model *m, bool reinitialize)
{
    ck_status st = reinitialize ? CK_OK : init_nested(m);
    if (st) return st;
    ck_weight_ref *refs;
    int n;
    if ((st = ck_model_collect_weights(m, &refs, &n))) return st;
    int64_t total = 0;
    for (int i = 0; i < n; i++)
        if (!ck_add_ok(total, refs[i].w->size, &total)) {
            ck_free(refs);
            return ck_fail(CK_ERR_OVERFLOW, "model '%s': total weight count overflows", m->base.name);
        }
    if (total > ((int64_t)1 << 36)) {
        ck_free(refs);
        return ck_fail(CK_ERR_OVERFLOW, "model '%s': %lld weights (%.1f GB) is more than ckeras allocates",
                       m->base.name, (long long)total, (double)total * 4 / 1e9);
    }
    /* calloc: pages of weights never used (a summary) are never touched */
    float *block = ck_calloc((size_t)(total ? total : 1), sizeof *block);
    if (!block) {
        ck_free(refs);
        return ck_fail_prefix(CK_ERR_NOMEM, "model '%s': ", m->base.name);
    }
    int64_t off = 0;
    bool pending = false;
    for (int i = 0; !st && i < n; i++) {
        ck_weight *w = refs[i].w;
        bool carry = w->value && !w->init_pending && !reinitialize;
        if (carry) memcpy(block + off, w->value, (size_t)w->size * sizeof *block);
        /* checked now, so a bad initializer fails the build as before */
        else st = ck_init_check(&w->init, &w->shape);
        if (st) st = ck_fail_prefix(st, "%s '%s', weight '%s': ", refs[i].layer->cls->class_name,
                                    refs[i].layer->name, w->name);
        w->init_pending = !carry;
        pending |= !carry;
        w->value = block + off;
        off += w->size;
    }
    ck_free(refs);
    release_nested_blocks(m);
    ck_free(m->weight_block);
    ck_free(m->grad_block);
    m->grad_block = NULL;
    m->weight_block = block;
    m->weight_block_size = total;
    ck_model_weights_changed(m);
    m->plan_gen++;
    m->init_pending = pending;
    m->init_seed = m->seed;
    if (!st && reinitialize) st = ck_model_init_weights(m);
    return st;
}

ck_status ck_model_build_optimizer(ck_model *m)
{
    if (!m) return ck_fail(CK_ERR_ARG, "ck_model_build_optimizer: model is NULL");
    /* compile() already made the optimizer's variables; Keras shows them once built. */
    if (!m->engine) return ck_fail(CK_ERR_STATE, "model '%s': compile() it before building its optimizer", m->base.name);
    m->optimizer_built = true;
    return CK_OK;
}

ck_status ck_model_reinitialize(ck_model *m)
{
    if (!m->base.built) return ck_fail(CK_ERR_STATE, "model '%s' is not built", m->base.name);
    return allocate_weights(m, true);
}

/* Keras's _build_map (ops/function.py): serialized nodes refer to operations by
 * name, so each name of a model's own operations (InputLayers included) must be
 * unique. */
static ck_status check_unique_names(const ck_model *m)
{
    int n = m->n_layers + 1;
    for (int i = 0; i < n; i++) {
        const ck_layer *a = i < m->n_layers ? m->layers[i] : m->input_layer;
        int count = 0;
        for (int j = 0; a && j < n; j++) {
            const ck_layer *b = j < m->n_layers ? m->layers[j] : m->input_layer;
            /* a Sequential's InputLayer may be listed in its layers too */
            count += b && (b == a || strcmp(a->name, b->name) == 0) && (b != a || j == i);
        }
        if (count > 1)
            return ck_fail(CK_ERR_CONFIG, "model '%s': The name \"%s\" is used %d times in the model. All operation "
                                          "names should be unique.", m->base.name, a->name, count);
    }
    return CK_OK;
}

static ck_status finish_build(ck_model *m)
{
    ck_status st = map_graph(m);
    if (!st) st = assign_names(m);
    if (!st) st = check_unique_names(m);
    if (st) return st;
    set_paths(m, m->kind == CK_SEQUENTIAL ? m->base.name : "");
    if ((st = allocate_weights(m, false))) return st;
    m->base.built = true;
    m->base.n_in = m->n_inputs < CK_LAYER_SHAPES ? m->n_inputs : CK_LAYER_SHAPES;
    for (int i = 0; i < m->base.n_in; i++) m->base.in_shapes[i] = m->inputs[i]->shape;
    m->base.n_out = m->n_outputs < CK_LAYER_SHAPES ? m->n_outputs : CK_LAYER_SHAPES;
    for (int i = 0; i < m->base.n_out; i++) m->base.out_shapes[i] = m->outputs[i]->shape;
    return CK_OK;
}

ck_status ck_functional_finish(ck_model *m, ck_ktensor *const *inputs, int n_in,
                               ck_ktensor *const *outputs, int n_out)
{
    if (!m) return ck_fail(CK_ERR_ARG, "ck_functional_finish: model is NULL");
    if (m->error) return ck_fail(m->error, "%s", m->errmsg);
    if (m->kind != CK_FUNCTIONAL || m->finished)
        return ck_fail(CK_ERR_STATE, "model '%s' is not an open functional graph", m->base.name);
    if (n_in < 1 || n_out < 1) return ck_fail(CK_ERR_ARG, "model '%s': needs at least one input and one output", m->base.name);
    for (int i = 0; i < n_in; i++)
        if (!inputs[i] || !ck_layer_is_input(inputs[i]->node->layer) || inputs[i]->node->layer->owner != m)
            return ck_fail(CK_ERR_ARG, "model '%s': input %d is not an Input of this graph", m->base.name, i);
    for (int i = 0; i < n_out; i++)
        if (!outputs[i] || outputs[i]->node->layer->owner != m)
            return ck_fail(CK_ERR_ARG, "model '%s': output %d is not a tensor of this graph", m->base.name, i);
    m->inputs = ck_calloc((size_t)n_in, sizeof *m->inputs);
    m->outputs = ck_calloc((size_t)n_out, sizeof *m->outputs);
    if (!m->inputs || !m->outputs) return CK_ERR_NOMEM;
    memcpy(m->inputs, inputs, (size_t)n_in * sizeof *inputs);
    memcpy(m->outputs, outputs, (size_t)n_out * sizeof *outputs);
    m->n_inputs = n_in;
    m->n_outputs = n_out;
    m->finished = true;
    /* Keras names a Model when it is constructed, i.e. now, after its layers. */
    if (m->base.auto_named && !(m->base.serial = take_serial(&functional_class))) return CK_ERR_NOMEM;
    ck_status st = finish_build(m);
    m->listed_order = NULL, m->n_listed = 0;
    return st;
}

/* ---- Sequential -------------------------------------------------------------------------- */
ck_status ck_graph_sequential_add(ck_model *m, ck_layer *l)
{
    if (!m) return ck_fail(CK_ERR_ARG, "ck_sequential_add: model is NULL");
    if (!l) {
        if (m->error) return m->error;
        char why[512]; /* ck_errmsg() is the buffer ck_fail writes: copied first */
        snprintf(why, sizeof why, "%s", ck_errmsg());
        return ck_fail(CK_ERR_ARG, "ck_sequential_add: layer is NULL (%s)", why);
    }
    if (m->kind != CK_SEQUENTIAL) return ck_fail(CK_ERR_STATE, "model '%s' is not Sequential", m->base.name);
    ck_status st = own(m, l);
    if (st) return st;
    if (ck_layer_is_input(l)) {
        if (m->input_layer || m->n_layers)
            return ck_fail(CK_ERR_CONFIG, "Sequential '%s': an InputLayer may only come first", m->base.name);
        m->input_layer = l;
    } else {
        if ((st = ck_grow((void **)&m->layers, &m->cap_layers, m->n_layers + 1, sizeof *m->layers))) return st;
        if (!m->n_layers && !m->input_layer && l->has_input_shape && !l->model)
            m->input_serial = take_serial(ck_input_layer_class());
        m->layers[m->n_layers++] = l;
    }
    m->base.built = false;
    /* Keras names a layer when it is made; an unbuilt model's summary shows them. */
    return assign_names(m);
}

ck_status ck_sequential_add(ck_model *m, ck_layer *l)
{
    ck_status st = ck_graph_sequential_add(m, l);
    if (st) free_unplaced(m, l);
    return st;
}

static ck_status sequential_input(ck_model *m, const ck_shape *given, ck_layer **input)
{
    if (m->input_layer) {
        *input = m->input_layer;
        return CK_OK;
    }
    const ck_shape *shape = given;
    ck_layer *first = m->n_layers ? m->layers[0] : NULL;
    if (!shape && first && first->has_input_shape) shape = &first->input_shape;
    /* A model as the first layer brings its own input when it has one. */
    if (!shape && first && first->model && ck_model_build(first->model) == CK_OK && first->model->base.built)
        shape = &first->model->inputs[0]->shape;
    if (!shape) {
        *input = NULL;
        return CK_OK;
    }
    ck_layer *il = ck_layer_alloc(ck_input_layer_class());
    if (!il) return CK_ERR_NOMEM;
    il->has_input_shape = true;
    il->input_shape = *shape;
    if (m->input_serial) il->serial = m->input_serial;
    ck_status st = own(m, il);
    if (st) {
        ck_layer_free(il);
        return st;
    }
    m->input_layer = il;
    *input = il;
    return CK_OK;
}

static ck_status build_sequential(ck_model *m, const ck_shape *given)
{
    ck_layer *input;
    ck_status st = sequential_input(m, given, &input);
    if (st || !input) return st;
    for (int i = 0; i < m->n_owned; i++) ck_layer_reset_graph(m->owned[i]);
    ck_node *node;
    if ((st = call_layer(m, input, NULL, 0, &node))) return st;
    ck_ktensor *t = &node->outputs[0];
    for (int i = 0; i < m->n_layers; i++) {
        if ((st = call_layer(m, m->layers[i], &t, 1, &node))) return st;
        if (node->n_outputs != 1)
            return ck_fail(CK_ERR_SHAPE, "Sequential '%s': layer '%s' has %d outputs; Sequential layers must have one",
                           m->base.name, m->layers[i]->name, node->n_outputs);
        t = &node->outputs[0];
    }
    ck_free(m->inputs);
    ck_free(m->outputs);
    m->inputs = ck_calloc(1, sizeof *m->inputs);
    m->outputs = ck_calloc(1, sizeof *m->outputs);
    if (!m->inputs || !m->outputs) return CK_ERR_NOMEM;
    m->inputs[0] = &input->nodes[0]->outputs[0];
    m->outputs[0] = t;
    m->n_inputs = m->n_outputs = 1;
    /* map_graph would reorder model.layers; a Sequential keeps its list. */
    ck_layer **keep = ck_malloc((size_t)(m->n_layers + 1) * sizeof *keep);
    if (!keep) return CK_ERR_NOMEM;
    int n_keep = m->n_layers;
    if (n_keep) memcpy(keep, m->layers, (size_t)n_keep * sizeof *keep);
    /* Keras's Sequential.build makes a Functional here (one per Sequential in the
     * list form Sequential([...]); rebuilds after add() are not counted again). */
    if (!m->functional_serial) m->functional_serial = take_serial(&functional_class);
    st = finish_build(m);
    ck_free(m->layers);
    m->layers = keep;
    m->n_layers = m->cap_layers = n_keep;
    if (!st) set_paths(m, m->base.name);
    return st;
}

ck_status ck_model_build(ck_model *m)
{
    if (!m) return ck_fail(CK_ERR_ARG, "ck_model_build: model is NULL");
    if (m->error) return ck_fail(m->error, "%s", m->errmsg);
    if (m->base.built) return CK_OK;
    if (m->kind == CK_FUNCTIONAL)
        return ck_fail(CK_ERR_STATE, "functional model '%s' is built by ck_functional_finish", m->base.name);
    return build_sequential(m, NULL);
}

ck_status ck_model_build_with(ck_model *m, const ck_shape *input_shape)
{
    if (!m || !input_shape) return ck_fail(CK_ERR_ARG, "ck_model_build_with: NULL argument");
    if (m->kind != CK_SEQUENTIAL) return ck_model_build(m);
    if (m->base.built) return CK_OK;
    return build_sequential(m, input_shape);
}

/* A model called as a layer of another model. */
static ck_status model_layer_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    ck_model *m = l->model;
    ck_status st = CK_OK;
    if (!l->built && m->kind == CK_SEQUENTIAL && !m->input_layer) st = ck_model_build_with(m, &in[0]);
    else if (!l->built) st = ck_model_build(m);
    if (st) return st;
    if (n_in != m->n_inputs)
        return ck_layer_error(l, CK_ERR_SHAPE, "model takes %d inputs, called with %d", m->n_inputs, n_in);
    for (int i = 0; i < n_in; i++) {
        const ck_shape *want = &m->inputs[i]->shape;
        bool ok = want->rank == in[i].rank;
        for (int d = 1; ok && d < want->rank; d++)
            ok = want->dim[d] == CK_NONE || in[i].dim[d] == CK_NONE || want->dim[d] == in[i].dim[d];
        if (!ok) {
            char a[96], b[96];
            ck_shape_format(want, a, sizeof a);
            ck_shape_format(&in[i], b, sizeof b);
            return ck_layer_error(l, CK_ERR_SHAPE, "expects input %s, called on %s", a, b);
        }
    }
    *n_out = m->n_outputs < 8 ? m->n_outputs : 8;
    for (int i = 0; i < *n_out; i++) out[i] = m->outputs[i]->shape;
    return CK_OK;
}

/* ---- queries ---------------------------------------------------------------------------- */
int ck_model_layer_count(const ck_model *m) { return m->n_layers; }
ck_layer *ck_model_layer(const ck_model *m, int i) { return i >= 0 && i < m->n_layers ? m->layers[i] : NULL; }

ck_layer *ck_model_get_layer(const ck_model *m, const char *name)
{
    for (int i = 0; i < m->n_layers; i++)
        if (!strcmp(m->layers[i]->name, name)) return m->layers[i];
    return NULL;
}

int ck_model_input_count(const ck_model *m) { return m->n_inputs; }
int ck_model_output_count(const ck_model *m) { return m->n_outputs; }
const ck_shape *ck_model_input_shape(const ck_model *m, int i) { return i >= 0 && i < m->n_inputs ? &m->inputs[i]->shape : NULL; }
const ck_shape *ck_model_output_shape(const ck_model *m, int i) { return i >= 0 && i < m->n_outputs ? &m->outputs[i]->shape : NULL; }

static double dtype_bytes(ck_dtype d)
{
    switch (d) {
    case CK_INT64:
    case CK_FLOAT64: return 8.0;
    case CK_UINT8: return 1.0;
    default: return 4.0;
    }
}

ck_status ck_model_count_params(const ck_model *m, ck_param_counts *c)
{
    *c = (ck_param_counts){0};
    if (!m->base.built) return CK_OK;
    ck_weight_ref *refs;
    int n;
    ck_status st = ck_model_collect_weights(m, &refs, &n);
    if (st) return st;
    for (int i = 0; i < n; i++) {
        int64_t *count = refs[i].trainable ? &c->trainable : &c->non_trainable;
        double *bytes = refs[i].trainable ? &c->trainable_bytes : &c->non_trainable_bytes;
        if (!ck_add_ok(*count, refs[i].w->size, count)) {
            ck_free(refs);
            return ck_fail(CK_ERR_OVERFLOW, "model '%s': parameter count overflows", m->base.name);
        }
        /* Keras's weight_memory_size counts each variable at its own dtype. */
        double each = refs[i].w->dtype == CK_FLOAT32 ? ck_layer_variable_bytes(refs[i].layer)
                                                     : dtype_bytes(refs[i].w->dtype);
        *bytes += (double)refs[i].w->size * each;
    }
    ck_free(refs);
    if (m->optimizer_built) {
        c->optimizer = m->optimizer_params;
        c->optimizer_bytes = m->optimizer_bytes;
    }
    c->total = c->trainable + c->non_trainable + c->optimizer;
    c->total_bytes = c->trainable_bytes + c->non_trainable_bytes + c->optimizer_bytes;
    return CK_OK;
}

int ck_model_weight_count(const ck_model *m)
{
    ck_weight_ref *refs;
    int n;
    if (!m->base.built || ck_model_collect_weights(m, &refs, &n)) return 0;
    ck_free(refs);
    return n;
}

static ck_status weight_ref_at(const ck_model *m, int index, ck_weight_ref *out)
{
    if (!m->base.built) return ck_fail(CK_ERR_STATE, "model '%s' is not built", m->base.name);
    ck_weight_ref *refs;
    int n;
    ck_status st = ck_model_collect_weights(m, &refs, &n);
    if (st) return st;
    if (index < 0 || index >= n) st = ck_fail(CK_ERR_ARG, "model '%s' has %d weights; index %d is out of range", m->base.name, n, index);
    else *out = refs[index];
    ck_free(refs);
    return st;
}

ck_status ck_model_weight(const ck_model *m, int index, ck_weight_info *out)
{
    ck_weight_ref r = {0};
    ck_status st = weight_ref_at(m, index, &r);
    /* get_weights draws pending initial values: the model itself is unchanged */
    if (!st) st = ck_model_init_weights((ck_model *)m);
    if (st) return st;
    *out = (ck_weight_info){.name = r.w->name, .path = r.w->path, .layer = r.layer->name, .shape = r.w->shape,
                            .size = r.w->size, .trainable = r.trainable, .dtype = r.w->dtype, .data = r.w->value};
    return CK_OK;
}

ck_status ck_model_set_weight(ck_model *m, int index, const ck_shape *shape, const float *data)
{
    ck_weight_ref r = {0};
    ck_status st = weight_ref_at(m, index, &r);
    if (!st) st = ck_model_init_weights(m);
    if (st) return st;
    if (!shape || !ck_shape_eq(shape, &r.w->shape)) {
        char a[96], b[96] = "NULL";
        ck_shape_repr(&r.w->shape, a, sizeof a);
        if (shape) ck_shape_repr(shape, b, sizeof b);
        return ck_fail(CK_ERR_SHAPE, "layer '%s', weight '%s': expected shape %s, got %s", r.layer->name, r.w->name, a, b);
    }
    memcpy(r.w->value, data, (size_t)r.w->size * sizeof *data);
    return CK_OK;
}
