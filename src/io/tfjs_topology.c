/* The modelTopology that TF.js reads. TF.js (and the tensorflowjs converter that
 * writes its files from tf.keras 2.x) speaks the Keras 2 config dialect: a dtype is
 * a plain string, InputLayer has batch_input_shape, a Functional layer's inbound
 * nodes are lists of [layer, node, tensor, kwargs], input_layers/output_layers are
 * always lists of triples, and there are no module/registered_name/build_config
 * keys or Keras 3 only arguments (tf.keras rejects unknown constructor arguments).
 * This file rewrites the Keras 3 config that ckeras writes everywhere else into that
 * dialect, so there is one config writer and one downgrade, and wraps it the way
 * the converter does: {keras_version, backend, model_config}. */
#include "io/files.h"

#include <string.h>

/* Arguments that Keras 3 layers write and tf.keras 2.x constructors refuse. */
static const char *const keras3_only[] = {"lora_rank", "lora_alpha", "quantization_config", "input_axes", "output_axes", NULL};

static void downgrade(json_t *v);

/* tf.keras 2.x numbers the calls of a nested model that has its own Input from 1:
 * its node 0 is the one the Input made (Keras's _should_skip_first_node). Keras 3
 * numbers them from 0, and every nested model ckeras writes has an Input. */
static bool is_nested_model(json_t *layers, const char *name)
{
    size_t i;
    json_t *l;
    json_array_foreach(layers, i, l) {
        const char *cls = json_string_value(json_object_get(l, "class_name"));
        const char *n = json_string_value(json_object_get(l, "name"));
        if (cls && n && !strcmp(n, name)) return !strcmp(cls, "Sequential") || !strcmp(cls, "Functional");
    }
    return false;
}

/* [name, node, tensor] -> the same with tf.keras's node number, then kwargs if asked. */
static json_t *keras2_ref(json_t *hist, json_t *layers, bool with_kwargs)
{
    if (!json_is_array(hist) || json_array_size(hist) < 3 || !json_is_string(json_array_get(hist, 0))) return NULL;
    json_int_t node = json_integer_value(json_array_get(hist, 1));
    if (is_nested_model(layers, json_string_value(json_array_get(hist, 0)))) node++;
    json_t *ref = json_pack("[O, I, O]", json_array_get(hist, 0), node, json_array_get(hist, 2));
    if (ref && with_kwargs) json_array_append_new(ref, json_object());
    return ref;
}

static bool is_tensor(json_t *t)
{
    const char *c = json_string_value(json_object_get(t, "class_name"));
    return c && !strcmp(c, "__keras_tensor__");
}

static void append_ref(json_t *out, json_t *t, json_t *layers, json_t *kwargs)
{
    json_t *ref = keras2_ref(json_object_get(json_object_get(t, "config"), "keras_history"), layers, false);
    if (ref) json_array_append_new(ref, json_copy(kwargs));
    if (ref) json_array_append_new(out, ref);
}

static void append_refs(json_t *out, json_t *v, json_t *layers, json_t *kwargs)
{
    size_t k;
    json_t *t;
    if (is_tensor(v)) append_ref(out, v, layers, kwargs);
    else if (json_is_array(v)) json_array_foreach(v, k, t) if (is_tensor(t)) append_ref(out, t, layers, kwargs);
}

/* One Keras 3 node {"args": [x or [x, y]], "kwargs": {...}} to a Keras 2 node list:
 * each input tensor with the call's other keyword arguments, and an RNN's
 * initial_state tensors as inputs after the sequence, as tf.keras 2.15 writes them
 * (keras/src/layers/rnn/base_rnn.py __call__ folds initial_state into the inputs). */
static json_t *node_refs(json_t *node, json_t *layers)
{
    json_t *args = json_object_get(node, "args"), *out = json_array();
    json_t *kwargs = json_is_object(json_object_get(node, "kwargs")) ? json_copy(json_object_get(node, "kwargs")) : json_object();
    json_t *states = json_incref(json_object_get(kwargs, "initial_state"));
    json_object_del(kwargs, "initial_state");
    size_t i;
    json_t *a;
    json_array_foreach(args, i, a) append_refs(out, a, layers, kwargs);
    if (states) append_refs(out, states, layers, kwargs);
    json_decref(states);
    json_decref(kwargs);
    return out;
}

static void downgrade_inbound(json_t *layer, json_t *layers)
{
    json_t *nodes = json_object_get(layer, "inbound_nodes");
    if (!json_is_array(nodes)) return;
    json_t *out = json_array();
    size_t i;
    json_t *n;
    json_array_foreach(nodes, i, n) json_array_append_new(out, json_is_object(n) ? node_refs(n, layers) : json_incref(n));
    json_object_set_new(layer, "inbound_nodes", out);
}

/* Keras 3 writes one flat [name, node, tensor] for a single input or output;
 * Keras 2 always a list of triples. */
static void downgrade_refs(json_t *cfg, const char *key, json_t *layers)
{
    json_t *refs = json_object_get(cfg, key), *out = json_array();
    if (json_is_object(refs)) { /* Keras 3.15's dict inputs: the values in order */
        const char *k;
        json_t *r;
        json_object_foreach(refs, k, r) {
            json_t *k2 = keras2_ref(r, layers, false);
            if (k2) json_array_append_new(out, k2);
        }
    } else if (json_is_array(refs) && json_is_string(json_array_get(refs, 0))) {
        json_t *r = keras2_ref(refs, layers, false);
        if (r) json_array_append_new(out, r);
    } else {
        size_t i;
        json_t *r;
        json_array_foreach(refs, i, r) {
            json_t *k2 = keras2_ref(r, layers, false);
            if (k2) json_array_append_new(out, k2);
        }
    }
    json_object_set_new(cfg, key, out);
}

static void downgrade_functional(json_t *cfg)
{
    json_t *layers = json_object_get(cfg, "layers");
    size_t i;
    json_t *l;
    json_array_foreach(layers, i, l) downgrade_inbound(l, layers);
    downgrade_refs(cfg, "input_layers", layers);
    downgrade_refs(cfg, "output_layers", layers);
}

static void downgrade_config(const char *cls, json_t *cfg)
{
    json_t *dtype = json_object_get(cfg, "dtype");
    if (json_is_object(dtype)) {
        json_t *name = json_object_get(json_object_get(dtype, "config"), "name");
        json_object_set_new(cfg, "dtype", json_is_string(name) ? json_incref(name) : json_string("float32"));
    }
    for (int i = 0; keras3_only[i]; i++) json_object_del(cfg, keras3_only[i]);
    if (!strcmp(cls, "InputLayer")) {
        json_t *shape = json_object_get(cfg, "batch_shape");
        if (shape) {
            json_object_set(cfg, "batch_input_shape", shape);
            json_object_del(cfg, "batch_shape");
        }
        json_object_del(cfg, "optional");
    } else if (!strcmp(cls, "Functional")) {
        downgrade_functional(cfg);
    }
}

static void downgrade(json_t *v)
{
    size_t i;
    json_t *e;
    if (json_is_array(v)) {
        json_array_foreach(v, i, e) downgrade(e);
        return;
    }
    if (!json_is_object(v)) return;
    const char *cls = json_string_value(json_object_get(v, "class_name"));
    json_t *cfg = json_object_get(v, "config");
    if (cls && json_is_object(cfg)) {
        json_object_del(v, "module");
        json_object_del(v, "registered_name");
        json_object_del(v, "build_config");
        json_object_del(v, "compile_config");
        downgrade_config(cls, cfg);
    }
    const char *k;
    json_object_foreach(v, k, e) downgrade(e);
}

json_t *ck_tfjs_topology(const ck_model *m)
{
    json_t *cfg = ck_model_config_json(m);
    if (!cfg) return NULL;
    downgrade(cfg);
    return json_pack("{s:s, s:s, s:o}", "keras_version", "2.15.0", "backend", "tensorflow", "model_config", cfg);
}
