/* Keras model configs in JSON (model.to_json(), config.json of .keras, model_config
 * of .h5, TF.js modelTopology): Keras 3 and Keras 2 forms, Sequential (also the
 * Keras 2.0 bare list) and Functional graphs with nested models. Models are rebuilt
 * through the same calls the public API offers. */
#include "graph/config.h"
#include "io/io.h"
#include "layers/layers.h"

#include <string.h>

/* the calls of a layer that had a recorded mask= (strip_recorded_masks below) */
#define RECORDED_MASKS "ckeras_recorded_masks"

static ck_status load_model(json_t *obj, const char *origin, int depth, ck_model **out);

static const char *class_of(json_t *obj)
{
    json_t *c = json_object_get(obj, "class_name");
    return json_is_string(c) ? json_string_value(c) : NULL;
}

static bool is_model_class(const char *c)
{
    return c && (!strcmp(c, "Sequential") || !strcmp(c, "Functional") || !strcmp(c, "Model"));
}

/* A keras.src.ops node called with a number among its args (`x + 3.0` in
 * MobileNetV3): the number and whether it is the first operand. */
static bool scalar_operand(json_t *obj, double *value, bool *first)
{
    const char *module = json_string_value(json_object_get(obj, "module"));
    if (!module || strncmp(module, "keras.src.ops.", 14)) return false;
    json_t *node = json_array_get(json_object_get(obj, "inbound_nodes"), 0);
    json_t *args = json_object_get(node, "args");
    size_t i;
    json_t *a;
    json_array_foreach(args, i, a) {
        if (!json_is_number(a)) continue;
        *value = json_number_value(a);
        *first = i == 0;
        return true;
    }
    return false;
}

/* A layer object -> a new layer (or a nested model as a layer). */
static ck_status load_layer(json_t *obj, const char *origin, int depth, ck_layer **out)
{
    const char *cls = class_of(obj);
    if (!cls) return ck_fail(CK_ERR_FORMAT, "%s: a layer entry has no class_name", origin);
    if (is_model_class(cls)) {
        ck_model *inner;
        ck_status st = load_model(obj, origin, depth + 1, &inner);
        if (st) return st;
        *out = ck_model_as_layer(inner);
        return CK_OK;
    }
    double scalar = 0.0;
    bool scalar_first = false, has_scalar = scalar_operand(obj, &scalar, &scalar_first);
    const ck_layer_class *c = has_scalar ? ck_find_scalar_op_class(cls) : ck_find_layer_class(cls);
    if (!c && has_scalar) {
        json_t *name = json_object_get(obj, "name");
        return ck_fail(CK_ERR_UNSUPPORTED, "%s: layer '%s': operation '%s' with a constant operand is not supported",
                       origin, json_is_string(name) ? json_string_value(name) : "?", cls);
    }
    if (!c) {
        json_t *cfg = json_object_get(obj, "config");
        json_t *name = json_object_get(cfg, "name");
        if (!json_is_string(name)) name = json_object_get(obj, "name");
        return ck_fail(CK_ERR_UNSUPPORTED, "%s: layer '%s': unknown layer class '%s'", origin,
                       json_is_string(name) ? json_string_value(name) : "?", cls);
    }
    ck_layer *l = ck_layer_alloc(c);
    if (!l) return CK_ERR_NOMEM;
    json_t *module = json_object_get(obj, "module");
    l->numpy_op = json_is_string(module) && !strcmp(json_string_value(module), "keras.src.ops.numpy");
    json_t *cfg = json_object_get(obj, "config");
    ck_status st = cfg ? ck_config_apply(l, cfg, false) : CK_OK;
    if (!st && has_scalar) {
        char kw[96];
        snprintf(kw, sizeof kw, "scalar=%.17g, scalar_first=%s", scalar, scalar_first ? "True" : "False");
        st = ck_layer_apply_kwargs(l, kw);
    }
    if (st) {
        ck_layer_free(l);
        return ck_fail_prefix(st, "%s: ", origin);
    }
    *out = l;
    return CK_OK;
}

/* A layer entry's class is known: registered, or an operation with a constant
 * operand that app_layers.c runs. */
static bool known_class(json_t *entry, const char *cls)
{
    double v;
    bool first;
    if (scalar_operand(entry, &v, &first)) return ck_find_scalar_op_class(cls) != NULL;
    return ck_find_layer_class(cls) != NULL;
}

/* Lists every unknown class of a config at once, so a user sees them all. */
static void find_unknown(json_t *obj, ck_buf *b, int *count, int depth)
{
    if (depth > 64) return;
    json_t *cfg = json_object_get(obj, "config");
    json_t *layers = json_is_array(cfg) ? cfg : json_object_get(cfg, "layers");
    size_t i;
    json_t *e;
    json_array_foreach(layers, i, e) {
        const char *cls = class_of(e);
        if (is_model_class(cls)) {
            find_unknown(e, b, count, depth + 1);
        } else if (cls && !known_class(e, cls)) {
            json_t *name = json_object_get(json_object_get(e, "config"), "name");
            if (!json_is_string(name)) name = json_object_get(e, "name");
            const char *module = json_string_value(json_object_get(e, "module"));
            const char *reg = json_string_value(json_object_get(e, "registered_name"));
            ck_buf_printf(b, "%s'%s' (%s%s%s)", *count ? ", " : "", json_is_string(name) ? json_string_value(name) : "?",
                          reg ? reg : cls, module && !reg ? " from " : "", module && !reg ? module : "");
            (*count)++;
        }
    }
}

static ck_status check_known_classes(json_t *root, const char *origin)
{
    ck_buf b = {0};
    int count = 0;
    find_unknown(root, &b, &count, 0);
    if (!count) return CK_OK;
    ck_fail(CK_ERR_UNSUPPORTED, "%s: unsupported layer class%s: %s", origin, count > 1 ? "es" : "",
            b.data ? b.data : "");
    ck_buf_free(&b);
    return CK_ERR_UNSUPPORTED;
}

static ck_status load_sequential(json_t *obj, json_t *cfg, const char *origin, int depth, ck_model **out)
{
    json_t *layers = json_is_array(cfg) ? cfg : json_object_get(cfg, "layers");
    json_t *name = json_is_object(cfg) ? json_object_get(cfg, "name") : NULL;
    if (!json_is_array(layers)) return ck_fail(CK_ERR_FORMAT, "%s: Sequential config has no 'layers' list", origin);
    ck_model *m = ck_sequential(json_is_string(name) ? json_string_value(name) : NULL);
    if (!m) return CK_ERR_NOMEM;
    json_t *trainable = json_is_object(cfg) ? json_object_get(cfg, "trainable") : NULL;
    if (json_is_false(trainable)) m->base.trainable = false;
    /* the global policy when Keras made it (mixed_float16, ...): written back as read */
    json_t *dtype = json_is_object(cfg) ? json_object_get(cfg, "dtype") : NULL;
    if (json_is_object(dtype)) dtype = json_object_get(json_object_get(dtype, "config"), "name");
    if (json_is_string(dtype) && strlen(json_string_value(dtype)) < sizeof m->base.dtype)
        snprintf(m->base.dtype, sizeof m->base.dtype, "%s", json_string_value(dtype));
    size_t i;
    json_t *e;
    ck_status st = CK_OK;
    json_array_foreach(layers, i, e) {
        ck_layer *l;
        if ((st = load_layer(e, origin, depth, &l))) break;
        if ((st = ck_sequential_add(m, l))) break;
    }
    /* A Sequential saved without layers' input shapes may carry build_input_shape. */
    json_t *bis = json_is_object(cfg) ? json_object_get(cfg, "build_input_shape") : NULL;
    if (!bis) bis = json_object_get(json_object_get(obj, "build_config"), "input_shape");
    if (!st) {
        ck_shape shape;
        if (json_is_array(bis) && !ck_shape_from_json(bis, &shape, false)) st = ck_model_build_with(m, &shape);
        else st = ck_model_build(m);
        if (st) st = ck_fail_prefix(st, "%s: ", origin);
    }
    if (st) {
        ck_model_free(m);
        return st;
    }
    *out = m;
    return CK_OK;
}

/* ---- Functional ----------------------------------------------------------------------- */
typedef struct named_layer {
    const char *name;
    ck_layer *layer;
    json_t *obj;
    bool done;
    int node_offset; /* tf.keras 2.x numbers a nested model's calls from 1 (see below) */
} named_layer;

static named_layer *find_named(named_layer *ls, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(ls[i].name, name)) return &ls[i];
    return NULL;
}

/* One inbound tensor reference: Keras 3 {"class_name": "__keras_tensor__",
 * "config": {"keras_history": [name, node, index]}} or Keras 2 [name, node, index, kwargs]. */
static bool tensor_ref(json_t *t, const char **name, int *node, int *index)
{
    json_t *h = json_is_object(t) ? json_object_get(json_object_get(t, "config"), "keras_history") : t;
    if (!json_is_array(h) || json_array_size(h) < 3 || !json_is_string(json_array_get(h, 0))) return false;
    *name = json_string_value(json_array_get(h, 0));
    *node = (int)json_integer_value(json_array_get(h, 1));
    *index = (int)json_integer_value(json_array_get(h, 2));
    return true;
}

static void flatten_refs(json_t *v, json_t *flat)
{
    const char *n;
    int a, b;
    if (tensor_ref(v, &n, &a, &b)) {
        json_array_append(flat, v);
        return;
    }
    size_t i;
    json_t *e;
    if (json_is_array(v)) json_array_foreach(v, i, e) flatten_refs(e, flat);
}

/* The flat list of tensor references of one inbound node, in either form. */
static json_t *node_refs(json_t *node)
{
    json_t *flat = json_array();
    if (json_is_object(node)) {
        flatten_refs(json_object_get(node, "args"), flat);
        /* RNN(x, initial_state=[h, c]): the states are the layer's inputs 1.. */
        flatten_refs(json_object_get(json_object_get(node, "kwargs"), "initial_state"), flat);
    } else {
        flatten_refs(node, flat);
        /* tf.keras 2.x writes MultiHeadAttention(query, value, key) as the query
         * with value and key among the call's keyword arguments */
        json_t *kw = json_array_get(json_array_get(node, 0), 3);
        flatten_refs(json_object_get(kw, "value"), flat);
        flatten_refs(json_object_get(kw, "key"), flat);
    }
    return flat;
}

static ck_ktensor *resolve(named_layer *ls, int n, const char *name, int node, int index)
{
    named_layer *src = find_named(ls, n, name);
    if (src) node -= src->node_offset;
    if (!src || !src->done || node < 0 || node >= src->layer->n_nodes) return NULL;
    ck_node *nd = src->layer->nodes[node];
    return index >= 0 && index < nd->n_outputs ? &nd->outputs[index] : NULL;
}

/* A Keras 3 node's keyword arguments without its tensors (initial_state), as
 * JSON text to be written back unchanged ({"training": false, "mask": null});
 * NULL when there are none. */
static char *plain_kwargs(json_t *node)
{
    json_t *kw = json_is_object(node) ? json_object_get(node, "kwargs") : NULL;
    if (!json_object_size(kw)) return NULL;
    json_t *copy = json_copy(kw);
    json_object_del(copy, "initial_state");
    char *text = json_dumps(copy, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(copy);
    char *owned = text ? ck_strdup(text) : NULL;
    free(text);
    return owned;
}

/* The tensors of call k's recorded mask= ("not_equal[0][0]"), or NULL (strip_recorded_masks). */
static const char *recorded_mask(json_t *obj, size_t k)
{
    char at[24];
    snprintf(at, sizeof at, "%zu", k);
    return json_string_value(json_object_get(json_object_get(obj, RECORDED_MASKS), at));
}

static ck_status call_nodes(ck_model *m, named_layer *nl, named_layer *all, int n, const char *origin,
                            bool *progress)
{
    json_t *nodes = json_object_get(nl->obj, "inbound_nodes");
    size_t k;
    json_t *node;
    json_array_foreach(nodes, k, node) {
        if ((int)k < nl->layer->n_nodes) continue; /* already called */
        json_t *refs = node_refs(node);
        ck_ktensor *in[64];
        size_t count = json_array_size(refs);
        bool ready = count > 0 && count <= 64;
        for (size_t i = 0; ready && i < count; i++) {
            const char *src;
            int ni, ti;
            ready = tensor_ref(json_array_get(refs, i), &src, &ni, &ti) && (in[i] = resolve(all, n, src, ni, ti));
        }
        json_decref(refs);
        if (!ready) return CK_OK; /* inputs not made yet: try again next round */
        const char *more = nl->layer->cls->keras.optional_outputs_kwarg;
        /* Keras 3 {"args", "kwargs"}; Keras 2 [[name, node, index, kwargs], ...] */
        json_t *kw = json_is_object(node) ? json_object_get(node, "kwargs") : json_array_get(json_array_get(node, 0), 3);
        if (more && json_is_true(json_object_get(kw, more)))
            nl->layer->optional_outputs = true;
        /* a Keras 2 node's kwargs are not kept (call_kwargs is Keras 3's form):
         * refused rather than run without the mask */
        if (!json_is_object(node) && json_is_true(json_object_get(kw, "use_causal_mask")))
            return ck_fail(CK_ERR_UNSUPPORTED, "%s: %s '%s': use_causal_mask=True is not supported in a tf.keras 2 "
                           "file", origin, nl->layer->cls->class_name, nl->name);
        /* A failed ck_call frees a layer that joined no model: forget it then. */
        bool unowned = !nl->layer->owner;
        ck_ktensor *made = ck_call(m, nl->layer, in, (int)count);
        if (!made) {
            if (unowned) nl->layer = NULL;
            return ck_fail_prefix(m->error, "%s: ", origin);
        }
        if ((made->node->call_kwargs = plain_kwargs(node)) == NULL && json_object_size(json_object_get(node, "kwargs")))
            return ck_fail(CK_ERR_NOMEM, "%s: out of memory", origin);
        const char *mask_from = recorded_mask(nl->obj, k);
        if (mask_from && !(made->node->mask_from = ck_strdup(mask_from)))
            return ck_fail(CK_ERR_NOMEM, "%s: out of memory", origin);
        if (mask_from && !ck_ktensor_has_mask(in[0]))
            return ck_fail(CK_ERR_UNSUPPORTED, "%s: %s '%s', field 'inbound_nodes': call %zu's mask= is computed by "
                           "keras.src.ops layers, and its input carries no mask by ckeras's layers' rules", origin,
                           nl->layer->cls->class_name, nl->name, k);
        *progress = true;
    }
    return CK_OK;
}

/* keys: the dict's keys as a JSON array text when the list is a dict, else NULL. */
static ck_status io_list(json_t *v, named_layer *ls, int n, ck_ktensor **out, int *count, char **keys,
                         const char *origin, const char *what)
{
    /* Keras 3 writes a single flat triple for one tensor, Keras 2 a list of
     * triples, Keras 3.15 a dict of triples for dict inputs and outputs. */
    json_t *one = json_array();
    if (json_is_array(v) && json_array_size(v) >= 3 && json_is_string(json_array_get(v, 0))) json_array_append(one, v);
    else if (json_is_array(v)) json_array_extend(one, v);
    if (json_is_object(v)) {
        const char *key;
        json_t *ref, *names = json_array();
        json_object_foreach(v, key, ref) {
            json_array_append(one, ref);
            json_array_append_new(names, json_string(key));
        }
        char *text = json_dumps(names, JSON_COMPACT);
        *keys = text ? ck_strdup(text) : NULL;
        free(text);
        json_decref(names);
    }
    *count = 0;
    size_t i;
    json_t *e;
    ck_status st = CK_OK;
    json_array_foreach(one, i, e) {
        const char *name;
        int node, index;
        if (i >= 64 || !tensor_ref(e, &name, &node, &index) || !(out[i] = resolve(ls, n, name, node, index))) {
            st = ck_fail(CK_ERR_FORMAT, "%s: %s entry %zu does not name a tensor of the graph", origin, what, i);
            break;
        }
        (*count)++;
    }
    json_decref(one);
    if (!st && !*count) st = ck_fail(CK_ERR_FORMAT, "%s: model has no %s", origin, what);
    return st;
}

static ck_status create_layers(ck_model *m, json_t *layers, named_layer *ls, const char *origin, int depth)
{
    size_t i;
    json_t *e;
    json_array_foreach(layers, i, e) {
        json_t *name = json_object_get(e, "name");
        if (!json_is_string(name)) name = json_object_get(json_object_get(e, "config"), "name");
        if (!json_is_string(name)) return ck_fail(CK_ERR_FORMAT, "%s: layer %zu has no name", origin, i);
        ls[i] = (named_layer){json_string_value(name), NULL, e, false, 0};
        if (!strcmp(class_of(e) ? class_of(e) : "", "InputLayer")) {
            ck_layer *tmp;
            ck_status st = load_layer(e, origin, depth, &tmp);
            if (st) return st;
            if (!tmp->has_input_shape) {
                ck_layer_free(tmp);
                return ck_fail(CK_ERR_FORMAT, "%s: InputLayer '%s' has no shape", origin, ls[i].name);
            }
            ck_node *node;
            if ((st = ck_graph_add_input(m, tmp, &node))) return ck_fail_prefix(st, "%s: ", origin);
            ls[i].layer = tmp;
            ls[i].done = true;
            continue;
        }
        ck_status st = load_layer(e, origin, depth, &ls[i].layer);
        if (st) return st;
    }
    return CK_OK;
}

/* Why a layer never joined the graph: an input naming no layer of the model, or
 * (NULL) a cycle or an input that is itself unconnected. */
static const char *missing_input(const named_layer *nl, named_layer *all, int n)
{
    size_t k, i;
    json_t *node;
    json_array_foreach(json_object_get(nl->obj, "inbound_nodes"), k, node) {
        json_t *refs = node_refs(node);
        for (i = 0; i < json_array_size(refs); i++) {
            const char *src;
            int ni, ti;
            if (tensor_ref(json_array_get(refs, i), &src, &ni, &ti) && !find_named(all, n, src)) {
                /* the name lives in nl->obj, which outlives refs */
                json_decref(refs);
                return src;
            }
        }
        json_decref(refs);
    }
    return NULL;
}

/* tf.keras 2.x leaves a nested model's own first node (the one its Input made) out
 * of the config but keeps counting it, so references to the model's calls start at
 * node 1 (Keras's _should_skip_first_node); Keras 3 and Keras 2.2 start at 0. A
 * reference one past the model's listed inbound nodes tells the two apart. */
static void mark_offset(named_layer *ls, int n, json_t *ref)
{
    const char *name;
    int node, index;
    if (!tensor_ref(ref, &name, &node, &index)) return;
    named_layer *src = find_named(ls, n, name);
    if (!src || !src->layer || !src->layer->model) return;
    size_t listed = json_array_size(json_object_get(src->obj, "inbound_nodes"));
    if (listed > 0 && node == (int)listed) src->node_offset = 1;
}

static void detect_node_offsets(json_t *cfg, named_layer *ls, int n)
{
    size_t k, i;
    json_t *node, *ref;
    for (int l = 0; l < n; l++) {
        json_array_foreach(json_object_get(ls[l].obj, "inbound_nodes"), k, node) {
            json_t *refs = node_refs(node);
            json_array_foreach(refs, i, ref) mark_offset(ls, n, ref);
            json_decref(refs);
        }
    }
    json_t *outs = json_object_get(cfg, "output_layers");
    if (json_is_array(outs) && json_is_string(json_array_get(outs, 0))) mark_offset(ls, n, outs);
    else json_array_foreach(outs, i, ref) mark_offset(ls, n, ref);
}

/* The dropped ops' summary rows (strip_recorded_masks) into m->op_rows. */
static ck_status take_op_rows(ck_model *m, json_t *rows, const char *origin)
{
    size_t n = json_array_size(rows), i;
    json_t *r;
    if (!n) return CK_OK;
    if (!(m->op_rows = ck_calloc(n, sizeof *m->op_rows))) return ck_fail(CK_ERR_NOMEM, "%s: out of memory", origin);
    json_array_foreach(rows, i, r) {
        ck_op_row *o = &m->op_rows[m->n_op_rows++];
        const char *before = json_string_value(json_object_get(r, "before"));
        o->name = ck_strdup(json_string_value(json_object_get(r, "name")));
        o->class_name = ck_strdup(json_string_value(json_object_get(r, "class_name")));
        o->shape = ck_strdup(json_string_value(json_object_get(r, "shape")));
        o->connected = ck_strdup(json_string_value(json_object_get(r, "connected")));
        o->before = before ? ck_strdup(before) : NULL;
        if (!o->name || !o->class_name || !o->shape || !o->connected || (before && !o->before))
            return ck_fail(CK_ERR_NOMEM, "%s: out of memory", origin);
    }
    return CK_OK;
}

static ck_status load_functional(json_t *cfg, const char *origin, int depth, ck_model **out)
{
    json_t *layers = json_object_get(cfg, "layers");
    if (!json_is_array(layers)) return ck_fail(CK_ERR_FORMAT, "%s: Functional config has no 'layers' list", origin);
    int n = (int)json_array_size(layers);
    json_t *name = json_object_get(cfg, "name");
    ck_model *m = ck_functional(json_is_string(name) ? json_string_value(name) : NULL);
    named_layer *ls = ck_calloc((size_t)n + 1, sizeof *ls);
    if (!m || !ls) {
        ck_model_free(m);
        ck_free(ls);
        return CK_ERR_NOMEM;
    }
    ck_status st = create_layers(m, layers, ls, origin, depth);
    if (!st) detect_node_offsets(cfg, ls, n);
    /* Layers may be listed before their inputs exist (shared layers, nested
     * graphs): call whatever is ready until nothing changes. */
    for (bool progress = true; !st && progress;) {
        progress = false;
        for (int i = 0; !st && i < n; i++) {
            if (!ls[i].layer || (ls[i].done && ls[i].layer->n_nodes >= (int)json_array_size(json_object_get(ls[i].obj, "inbound_nodes"))))
                continue;
            st = call_nodes(m, &ls[i], ls, n, origin, &progress);
            if (!st && ls[i].layer->n_nodes > 0) ls[i].done = true;
        }
    }
    for (int i = 0; !st && i < n; i++) {
        if (ls[i].layer && !ls[i].layer->owner) {
            const char *ghost = missing_input(&ls[i], ls, n);
            if (ghost)
                st = ck_fail(CK_ERR_FORMAT, "%s: %s '%s', field 'inbound_nodes': input '%s' is not a layer of the model",
                             origin, ls[i].layer->cls->class_name, ls[i].name, ghost);
            else
                st = ck_fail(CK_ERR_FORMAT, "%s: layer '%s' is never connected to the graph", origin, ls[i].name);
        }
    }
    for (int i = 0; !st && i < n; i++) {
        const ck_layer *l = ls[i].layer;
        int causal = l ? ck_layer_causal(l) : 0;
        if (causal < 0)
            st = ck_fail(CK_ERR_UNSUPPORTED, "%s: %s '%s' is called both with and without use_causal_mask=True; "
                         "ckeras runs a layer one way for all its calls", origin, l->cls->class_name, ls[i].name);
        else if (causal && l->n_in && l->in_shapes[0].rank != 3) /* Keras broadcasts a [1, T, S] mask there */
            st = ck_fail(CK_ERR_UNSUPPORTED, "%s: %s '%s': use_causal_mask=True on inputs of rank %d is not "
                         "supported", origin, l->cls->class_name, ls[i].name, l->in_shapes[0].rank);
    }
    ck_ktensor *ins[64], *outs[64];
    int n_in = 0, n_out = 0;
    if (!st)
        st = io_list(json_object_get(cfg, "input_layers"), ls, n, ins, &n_in, &m->input_keys, origin, "input_layers");
    if (!st)
        st = io_list(json_object_get(cfg, "output_layers"), ls, n, outs, &n_out, &m->output_keys, origin,
                     "output_layers");
    ck_layer **order = json_array_size(json_object_get(cfg, "ckeras_op_rows")) ? ck_calloc((size_t)n + 1, sizeof *order)
                                                                               : NULL;
    if (!order && json_array_size(json_object_get(cfg, "ckeras_op_rows")) && !st)
        st = ck_fail(CK_ERR_NOMEM, "%s: out of memory", origin);
    if (order) { /* recorded ops dropped: Keras's order of the rest is the config's */
        for (int i = 0; i < n; i++)
            if (ls[i].layer) order[m->n_listed++] = ls[i].layer;
        m->listed_order = order;
    }
    if (!st && (st = ck_functional_finish(m, ins, n_in, outs, n_out))) st = ck_fail_prefix(st, "%s: ", origin);
    m->listed_order = NULL, m->n_listed = 0;
    ck_free(order);
    if (!st) st = take_op_rows(m, json_object_get(cfg, "ckeras_op_rows"), origin);
    for (int i = 0; i < n; i++)
        if (ls[i].layer && !ls[i].layer->owner) ck_layer_free(ls[i].layer);
    json_t *trainable = json_object_get(cfg, "trainable");
    if (json_is_false(trainable)) m->base.trainable = false;
    ck_free(ls);
    if (st) {
        ck_model_free(m);
        return st;
    }
    *out = m;
    return CK_OK;
}

static ck_status load_model(json_t *obj, const char *origin, int depth, ck_model **out)
{
    if (depth > 32) return ck_fail(CK_ERR_FORMAT, "%s: models nested too deeply", origin);
    const char *cls = class_of(obj);
    json_t *cfg = json_object_get(obj, "config");
    if (!cls || !cfg) return ck_fail(CK_ERR_FORMAT, "%s: not a Keras model config (no class_name/config)", origin);
    if (!strcmp(cls, "Sequential")) return load_sequential(obj, cfg, origin, depth, out);
    if (!strcmp(cls, "Functional") || !strcmp(cls, "Model")) return load_functional(cfg, origin, depth, out);
    return ck_fail(CK_ERR_UNSUPPORTED, "%s: model class '%s' is not Sequential or Functional", origin, cls);
}

/* ---- masks a Keras 3 functional config records ----------------------------------
 * Building a functional model, Keras 3 hands a layer whose call() takes `mask`
 * its input's mask as a keyword argument (keras/src/layers/layer.py __call__,
 * "Populate mask argument(s)"), so the node records mask= a tensor of the ops
 * that computed it: Embedding.compute_mask's ops.not_equal, Masking's
 * any(not_equal), the merges' logical_or (keras/src/layers/merging/), written
 * as keras.src.ops layers (NotEqual, Any, LogicalOr...; in a Keras 3 .h5 without
 * their module). ckeras derives those
 * masks from the classes' mask hooks, so ops layers that only such mask=
 * arguments use are dropped and the arguments read as mask=None, which is what
 * Keras rebuilds the same model from (tests/oracle/seq_train_cases.py checks
 * it). The nodes keep, in "ckeras_recorded_masks", which calls had one, and
 * call_nodes refuses a call whose input then carries no mask by those hooks. */

static const char *layer_name(json_t *e)
{
    json_t *name = json_object_get(e, "name");
    if (!json_is_string(name)) name = json_object_get(json_object_get(e, "config"), "name");
    return json_is_string(name) ? json_string_value(name) : NULL;
}

/* Adds to found the layers of set that tensor references inside v name. */
static void refs_in(json_t *v, json_t *set, json_t *found)
{
    const char *n;
    int a, b;
    if (json_is_object(v) && tensor_ref(v, &n, &a, &b)) {
        if (json_object_get(set, n)) json_object_set_new(found, n, json_true());
        return;
    }
    size_t i;
    const char *key;
    json_t *e;
    if (json_is_array(v)) json_array_foreach(v, i, e) refs_in(e, set, found);
    if (json_is_object(v)) json_object_foreach(v, key, e) refs_in(e, set, found);
}

/* Whether every tensor reference inside v names a layer in set (and there is one). */
static bool only_refers_to(json_t *v, json_t *set, int *count)
{
    const char *n;
    int a, b;
    if (json_is_object(v) && tensor_ref(v, &n, &a, &b)) return (*count)++, json_object_get(set, n) != NULL;
    size_t i;
    json_t *e;
    if (json_is_array(v)) json_array_foreach(v, i, e) if (!only_refers_to(e, set, count)) return false;
    return true;
}

/* Adds to found the layers of set that layer e's nodes read other than as mask=. */
static void data_refs(json_t *e, json_t *set, json_t *found)
{
    size_t k;
    json_t *node;
    json_array_foreach(json_object_get(e, "inbound_nodes"), k, node) {
        refs_in(json_object_get(node, "args"), set, found);
        const char *key;
        json_t *v;
        json_object_foreach(json_object_get(node, "kwargs"), key, v) if (strcmp(key, "mask")) refs_in(v, set, found);
    }
}

/* "name[node][index], ..." of the tensor references inside v, as Keras's
 * summary writes a row's inbound tensors; shapes: each one's recorded shape
 * added under that text. */
static void ref_texts(json_t *v, ck_buf *b, json_t *shapes)
{
    const char *n;
    int a, c;
    if (json_is_object(v) && tensor_ref(v, &n, &a, &c)) {
        char t[CK_NAME_MAX + 48];
        snprintf(t, sizeof t, "%s[%d][%d]", n, a, c);
        if (b) ck_buf_printf(b, "%s%s", b->len ? ", " : "", t);
        json_t *shape = json_object_get(json_object_get(v, "config"), "shape");
        if (shapes && json_is_array(shape)) json_object_set(shapes, t, shape);
        return;
    }
    size_t i;
    const char *key;
    json_t *e;
    if (json_is_array(v)) json_array_foreach(v, i, e) ref_texts(e, b, shapes);
    if (json_is_object(v)) json_object_foreach(v, key, e) ref_texts(e, b, shapes);
}

/* Keras's summary cell for a recorded shape ("(None, 6)"). */
static char *shape_text(json_t *shape)
{
    ck_shape s = {.rank = (int)json_array_size(shape)};
    if (s.rank > CK_MAX_RANK) return ck_strdup("?");
    for (int i = 0; i < s.rank; i++) {
        json_t *d = json_array_get(shape, (size_t)i);
        s.dim[i] = json_is_integer(d) ? (int64_t)json_integer_value(d) : CK_NONE;
    }
    char buf[256];
    ck_shape_format(&s, buf, sizeof buf);
    return ck_strdup(buf);
}

/* The summary row of dropped op e (ck_op_row), as {name, class_name, shape,
 * connected, before} in the config's "ckeras_op_rows". */
static void record_op_row(json_t *cfg, json_t *e, json_t *shapes, const char *before)
{
    const char *name = layer_name(e);
    ck_buf conn = {0};
    json_t *node = json_array_get(json_object_get(e, "inbound_nodes"), 0);
    ref_texts(json_object_get(node, "args"), &conn, NULL);
    char key[CK_NAME_MAX + 16];
    snprintf(key, sizeof key, "%s[0][0]", name);
    char *shape = shape_text(json_object_get(shapes, key));
    json_t *rows = json_object_get(cfg, "ckeras_op_rows");
    if (!rows) json_object_set_new(cfg, "ckeras_op_rows", rows = json_array());
    json_array_insert_new(rows, 0, json_pack("{s:s, s:s, s:s, s:s, s:s?}", "name", name, "class_name",
                                             class_of(e) ? class_of(e) : "?", "shape", shape ? shape : "?",
                                             "connected", conn.data && conn.len ? conn.data : "-", "before", before));
    ck_free(shape);
    ck_buf_free(&conn);
}

/* Keeps in the set the layers that output_layers names: a flat [name, node,
 * index], a list of them, or Keras 3.15's dict of them. */
static void drop_outputs(json_t *v, json_t *set)
{
    const char *n;
    int a, b;
    if (tensor_ref(v, &n, &a, &b)) {
        json_object_del(set, n);
        return;
    }
    size_t i;
    const char *key;
    json_t *e;
    if (json_is_array(v)) json_array_foreach(v, i, e) drop_outputs(e, set);
    if (json_is_object(v)) json_object_foreach(v, key, e) drop_outputs(e, set);
}

/* Whether a config's nodes are Keras 3's {"args", "kwargs"} (Keras 2 records no masks). */
static bool keras3_nodes(json_t *layers)
{
    size_t i, k;
    json_t *e, *node;
    json_array_foreach(layers, i, e) {
        json_array_foreach(json_object_get(e, "inbound_nodes"), k, node) {
            if (!json_is_object(node)) return false;
        }
    }
    return true;
}

/* The ops layers of one functional config that only mask= arguments use,
 * dropped as above; recurses into nested models. */
static void strip_recorded_masks(json_t *obj, int depth)
{
    json_t *cfg = json_object_get(obj, "config"), *layers = json_object_get(cfg, "layers");
    const char *cls = class_of(obj);
    if (depth > 32 || !cls || !strcmp(cls, "Sequential") || !json_is_array(layers) || !keras3_nodes(layers)) return;
    size_t i, k;
    json_t *e, *node;
    json_t *ops = json_object();
    json_array_foreach(layers, i, e) {
        const char *module = json_string_value(json_object_get(e, "module")), *name = layer_name(e);
        if (is_model_class(class_of(e))) {
            strip_recorded_masks(e, depth + 1);
            continue;
        }
        /* Keras 3's .h5 model_config names no module: there, an op's config is
         * its name and arguments, without the "trainable" every layer's has */
        if (name && (module ? !strncmp(module, "keras.src.ops.", 14)
                                 : strcmp(class_of(e) ? class_of(e) : "", "InputLayer") &&
                                       !json_object_get(json_object_get(e, "config"), "trainable")))
            json_object_set_new(ops, name, json_true());
    }
    /* model outputs stay, as does an op another layer (or an op kept so) reads as data */
    drop_outputs(json_object_get(cfg, "output_layers"), ops);
    for (bool changed = json_object_size(ops) > 0; changed;) {
        json_t *used = json_object();
        json_array_foreach(layers, i, e) {
            const char *name = layer_name(e);
            if (!name || !json_object_get(ops, name)) data_refs(e, ops, used);
        }
        const char *key;
        json_t *v;
        changed = json_object_size(used) > 0;
        json_object_foreach(used, key, v) json_object_del(ops, key);
        json_decref(used);
    }
    if (!json_object_size(ops)) {
        json_decref(ops);
        return;
    }
    json_t *shapes = json_object();
    json_array_foreach(layers, i, e) ref_texts(json_object_get(e, "inbound_nodes"), NULL, shapes);
    const char *before = NULL; /* the next layer kept, walking back */
    for (i = json_array_size(layers); i-- > 0;) {
        e = json_array_get(layers, i);
        const char *name = layer_name(e);
        if (name && json_object_get(ops, name)) {
            record_op_row(cfg, e, shapes, before);
            json_array_remove(layers, i);
            continue;
        }
        before = name;
        json_t *marks = json_object();
        json_array_foreach(json_object_get(e, "inbound_nodes"), k, node) {
            json_t *kw = json_is_object(node) ? json_object_get(node, "kwargs") : NULL;
            int count = 0;
            if (!json_is_object(kw) || !only_refers_to(json_object_get(kw, "mask"), ops, &count) || !count) continue;
            ck_buf b = {0};
            ref_texts(json_object_get(kw, "mask"), &b, NULL);
            char at[24];
            snprintf(at, sizeof at, "%zu", k);
            json_object_set_new(marks, at, json_string(b.data ? b.data : ""));
            ck_buf_free(&b);
            json_object_set_new(kw, "mask", json_null());
        }
        if (json_object_size(marks)) json_object_set(e, RECORDED_MASKS, marks);
        json_decref(marks);
    }
    json_decref(shapes);
    json_decref(ops);
}

ck_status ck_model_from_json_value(json_t *root, const char *origin, ck_model **out)
{
    /* TF.js wraps the Keras config in modelTopology (and sometimes model_config). */
    json_t *topo = json_object_get(root, "modelTopology");
    if (topo) root = topo;
    json_t *mc = json_object_get(root, "model_config");
    if (json_is_object(mc)) root = mc;
    json_t *own = json_deep_copy(root); /* the caller's config stays as it was */
    if (!own) return ck_fail(CK_ERR_NOMEM, "%s: out of memory", origin);
    strip_recorded_masks(own, 0);
    ck_status st = check_known_classes(own, origin);
    if (!st) st = load_model(own, origin, 0, out);
    json_decref(own);
    return st;
}

ck_model *ck_model_from_json(const char *text, const char *origin)
{
    if (!origin) origin = "<json>";
    if (!text) {
        ck_fail(CK_ERR_ARG, "%s: no JSON text", origin);
        return NULL;
    }
    json_error_t err;
    json_t *root = json_loads(text, 0, &err);
    if (!root) {
        ck_fail(CK_ERR_FORMAT, "%s: JSON syntax error at line %d, column %d: %s", origin, err.line, err.column, err.text);
        return NULL;
    }
    ck_model *m = NULL;
    if (ck_model_from_json_value(root, origin, &m)) m = NULL;
    json_decref(root);
    return m;
}

ck_status ck_read_json_file(const char *path, json_t **root)
{
    char *text;
    size_t len;
    ck_status st = ck_read_file(path, &text, &len);
    if (st) return st;
    json_error_t err;
    *root = json_loadb(text, len, 0, &err);
    ck_free(text);
    if (!*root) return ck_fail(CK_ERR_FORMAT, "%s: JSON syntax error at line %d, column %d: %s", path, err.line, err.column, err.text);
    return CK_OK;
}

ck_model *ck_model_load_json_file(const char *path)
{
    char *text;
    size_t len;
    if (ck_read_file(path, &text, &len)) return NULL;
    ck_model *m = ck_model_from_json(text, path);
    ck_free(text);
    return m;
}
