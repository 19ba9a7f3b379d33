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

static void downgrade(json_t *v, int depth, bool wrapped, const ck_model *m);

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

/* [name, node, tensor] -> the same with tf.keras's node number. */
static json_t *keras2_ref(json_t *hist, json_t *layers)
{
    if (!json_is_array(hist) || json_array_size(hist) < 3 || !json_is_string(json_array_get(hist, 0))) return NULL;
    json_int_t node = json_integer_value(json_array_get(hist, 1));
    if (is_nested_model(layers, json_string_value(json_array_get(hist, 0)))) node++;
    return json_pack("[O, I, O]", json_array_get(hist, 0), node, json_array_get(hist, 2));
}

static bool is_tensor(json_t *t)
{
    const char *c = json_string_value(json_object_get(t, "class_name"));
    return c && !strcmp(c, "__keras_tensor__");
}

static void append_ref(json_t *out, json_t *t, json_t *layers, json_t *kwargs)
{
    json_t *ref = keras2_ref(json_object_get(json_object_get(t, "config"), "keras_history"), layers);
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
/* tf.keras 2.x's layer.call(inputs, ...) records only the first argument as the
 * node's inputs; the other tensors it was called with stay keyword arguments, as
 * [name, node, tensor]: MultiHeadAttention.call(query, value, key=None, ...)
 * (tf-keras 2.15 layers/attention/multi_head_attention.py). */
static void positional_kwargs(const char *cls, json_t *args, json_t *kwargs, json_t *layers)
{
    static const char *const mha[] = {"value", "key"};
    if (!cls || strcmp(cls, "MultiHeadAttention")) return;
    for (size_t i = 1; i < json_array_size(args) && i <= 2; i++) {
        json_t *t = json_array_get(args, i);
        json_t *ref = is_tensor(t) ? keras2_ref(json_object_get(json_object_get(t, "config"), "keras_history"), layers) : NULL;
        if (ref) json_object_set_new(kwargs, mha[i - 1], ref);
    }
    while (json_array_size(args) > 1) json_array_remove(args, 1);
}

static json_t *node_refs(const char *cls, json_t *node, json_t *layers)
{
    json_t *args = json_copy(json_object_get(node, "args")), *out = json_array();
    json_t *kwargs = json_is_object(json_object_get(node, "kwargs")) ? json_copy(json_object_get(node, "kwargs")) : json_object();
    json_t *states = json_incref(json_object_get(kwargs, "initial_state"));
    json_object_del(kwargs, "initial_state");
    positional_kwargs(cls, args, kwargs, layers);
    size_t i;
    json_t *a;
    json_array_foreach(args, i, a) append_refs(out, a, layers, kwargs);
    json_decref(args);
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
    const char *cls = json_string_value(json_object_get(layer, "class_name"));
    json_array_foreach(nodes, i, n) json_array_append_new(out, json_is_object(n) ? node_refs(cls, n, layers) : json_incref(n));
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
            json_t *k2 = keras2_ref(r, layers);
            if (k2) json_array_append_new(out, k2);
        }
    } else if (json_is_array(refs) && json_is_string(json_array_get(refs, 0))) {
        json_t *r = keras2_ref(refs, layers);
        if (r) json_array_append_new(out, r);
    } else {
        size_t i;
        json_t *r;
        json_array_foreach(refs, i, r) {
            json_t *k2 = keras2_ref(r, layers);
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

/* tf.keras 2.15's get_config where it differs from Keras 3's for the same layer:
 * keys it writes with their default (json) or does not write (NULL). Sources in
 * tf-keras 2.15: layers/core/dense.py (activity_regularizer), convolutional/
 * base_conv.py and base_separable_conv.py (groups; SeparableConv's kernel_*),
 * conv3d_transpose.py (no dilation_rate), rnn/base_rnn.py and lstm.py/gru.py
 * (time_major, implementation, no seed), normalization/batch_normalization.py (no
 * renorm keys nor synchronized in the saved config), regularization/spatial_dropout1d.py,
 * core/embedding.py (input_length, and the batch_input_shape its __init__ sets). */
typedef struct keras2_edit {
    const char *cls, *key, *value;
} keras2_edit;

#define GLOROT "{\"module\": \"keras.initializers\", \"class_name\": \"GlorotUniform\", \"config\": {\"seed\": null}, \"registered_name\": null}"
static const keras2_edit keras2_edits[] = {
    {"Dense", "activity_regularizer", "null"},
    {"Conv1DTranspose", "groups", "1"}, {"Conv2DTranspose", "groups", "1"}, {"Conv3DTranspose", "groups", "1"},
    {"Conv3DTranspose", "dilation_rate", NULL},
    {"DepthwiseConv1D", "groups", "1"}, {"DepthwiseConv2D", "groups", "1"},
    {"SeparableConv1D", "groups", "1"}, {"SeparableConv2D", "groups", "1"},
    {"SeparableConv1D", "kernel_initializer", GLOROT}, {"SeparableConv2D", "kernel_initializer", GLOROT},
    {"SeparableConv1D", "kernel_regularizer", "null"}, {"SeparableConv2D", "kernel_regularizer", "null"},
    {"SeparableConv1D", "kernel_constraint", "null"}, {"SeparableConv2D", "kernel_constraint", "null"},
    {"SimpleRNN", "time_major", "false"}, {"LSTM", "time_major", "false"}, {"GRU", "time_major", "false"},
    {"ConvLSTM1D", "time_major", "false"}, {"ConvLSTM2D", "time_major", "false"}, {"ConvLSTM3D", "time_major", "false"},
    {"LSTM", "implementation", "2"}, {"GRU", "implementation", "2"},
    {"LSTM", "seed", NULL}, {"GRU", "seed", NULL}, {"SimpleRNN", "seed", NULL},
    {"Attention", "seed", NULL}, {"AdditiveAttention", "seed", NULL}, {"AlphaDropout", "noise_shape", NULL},
    {"SpatialDropout1D", "noise_shape", "null"}, {"SpatialDropout2D", "noise_shape", "null"},
    {"SpatialDropout3D", "noise_shape", "null"}, {"SpatialDropout1D", "trainable", "true"},
    {"SpatialDropout2D", "trainable", "true"}, {"SpatialDropout3D", "trainable", "true"},
    {"SpatialDropout2D", "data_format", NULL}, {"SpatialDropout3D", "data_format", NULL},
    {"BatchNormalization", "renorm", NULL}, {"BatchNormalization", "renorm_clipping", NULL},
    {"BatchNormalization", "renorm_momentum", NULL}, {"BatchNormalization", "synchronized", NULL},
    {"Embedding", "input_length", "null"}, {"Embedding", "batch_input_shape", "[null, null]"},
};

static bool is_rnn(const char *cls)
{
    return !strcmp(cls, "SimpleRNN") || !strcmp(cls, "LSTM") || !strcmp(cls, "GRU") || !strncmp(cls, "ConvLSTM", 8);
}

/* Keras 3 arguments tf.keras 2.15 lacks, left out only at the value with which
 * Keras 3 computes what tf.keras 2.15 does without them (tests/oracle/
 * matrix_tfjs_cases.py drops the same); any other value stays, and TF.js refuses
 * it as tf.keras would. Resizing's fill_mode and fill_value act only with
 * pad_to_aspect_ratio (keras/src/layers/preprocessing/image_preprocessing/
 * resizing.py); tf.keras resizes without antialiasing. */
static const keras2_edit keras3_neutral[] = {
    {"ConvLSTM1D", "seed", "null"}, {"ConvLSTM2D", "seed", "null"}, {"ConvLSTM3D", "seed", "null"},
    {"MultiHeadAttention", "use_gate", "false"}, {"MultiHeadAttention", "sliding_window", "null"},
    {"MultiHeadAttention", "seed", "null"}, {"ZeroPadding1D", "data_format", "\"channels_last\""},
    {"LayerNormalization", "rms_scaling", "false"}, {"CenterCrop", "data_format", "\"channels_last\""},
    {"Resizing", "data_format", "\"channels_last\""}, {"Resizing", "pad_to_aspect_ratio", "false"},
    {"Resizing", "fill_mode", "\"constant\""}, {"Resizing", "fill_value", "0.0"}, {"Resizing", "antialias", "false"},
};

static void drop_neutral(const char *cls, json_t *cfg)
{
    for (size_t i = 0; i < sizeof keras3_neutral / sizeof *keras3_neutral; i++) {
        const keras2_edit *e = &keras3_neutral[i];
        json_t *v = strcmp(e->cls, cls) ? NULL : json_object_get(cfg, e->key);
        json_t *neutral = v ? json_loads(e->value, JSON_DECODE_ANY, NULL) : NULL;
        if (neutral && json_equal(v, neutral)) json_object_del(cfg, e->key);
        json_decref(neutral);
    }
}

/* tf.keras 2.15's LeakyReLU writes {"alpha": float(self.alpha)}, alpha cast to
 * float32 first (layers/activation/leaky_relu.py); Keras 3 reads alpha back. */
static void leaky_relu_alpha(json_t *cfg)
{
    json_t *slope = json_object_get(cfg, "negative_slope");
    if (!json_is_number(slope)) return;
    json_object_set_new(cfg, "alpha", json_real((double)(float)json_number_value(slope)));
    json_object_del(cfg, "negative_slope");
}

/* tf.keras 2.15's MultiHeadAttention writes the shapes it was built from, and its
 * from_config needs them (key's is value's when no key was given:
 * _build_from_signature). */
static void attention_shapes(json_t *cfg, json_t *build)
{
    json_t *shapes = json_object_get(build, "shapes_dict");
    json_t *q = json_object_get(shapes, "query_shape"), *v = json_object_get(shapes, "value_shape");
    json_t *k = json_object_get(shapes, "key_shape");
    json_object_set_new(cfg, "query_shape", q ? json_incref(q) : json_null());
    json_object_set_new(cfg, "key_shape", k ? json_incref(k) : v ? json_incref(v) : json_null());
    json_object_set_new(cfg, "value_shape", v ? json_incref(v) : json_null());
}

/* BatchNormalization, UnitNormalization and LayerNormalization store their axis as
 * a list of non-negative axes once built (tf.keras resolves -1 against the input's
 * rank). */
static const ck_layer *layer_named(const ck_model *m, const char *name)
{
    for (int i = 0; name && i < m->n_layers; i++) {
        const ck_layer *l = m->layers[i], *inner = l->model ? layer_named(l->model, name) : NULL;
        if (!strcmp(l->name, name)) return l;
        if (inner) return inner;
    }
    return NULL;
}

/* UnitNormalization writes no build_config, so the rank comes from the built layer.
 * tf_utils.validate_axis makes a list of an int axis and resolves each entry;
 * LayerNormalization's axis is a list already. */
static void resolve_axis(const char *cls, json_t *cfg, json_t *build, const ck_model *m)
{
    if (strcmp(cls, "BatchNormalization") && strcmp(cls, "UnitNormalization") && strcmp(cls, "LayerNormalization"))
        return;
    json_t *axis = json_object_get(cfg, "axis"), *shape = json_object_get(build, "input_shape");
    const ck_layer *l = layer_named(m, json_string_value(json_object_get(cfg, "name")));
    int rank = json_is_array(shape) ? (int)json_array_size(shape) : l ? l->in_shapes[0].rank : 0;
    if (!(json_is_integer(axis) || json_is_array(axis)) || rank == 0) return;
    json_t *out = json_array(), *a;
    size_t i;
    if (json_is_integer(axis)) json_array_append(out, axis);
    else json_array_extend(out, axis);
    json_array_foreach(out, i, a) {
        json_int_t v = json_integer_value(a);
        if (json_is_integer(a) && v < 0) json_array_set_new(out, i, json_integer(v + rank));
    }
    json_object_set_new(cfg, "axis", out);
}

/* A nested Functional's build_config: Keras 3 writes input_shape null, tf.keras
 * its single input's shape. */
static void nested_build_config(json_t *v)
{
    json_t *cfg = json_object_get(v, "config"), *build = json_object_get(v, "build_config");
    json_t *in = json_object_get(cfg, "input_layers"); /* Keras 3: one flat triple for one input */
    if (!json_is_object(build) || !json_is_null(json_object_get(build, "input_shape")) ||
        !json_is_string(json_array_get(in, 0)))
        return;
    const char *name = json_string_value(json_array_get(in, 0));
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(cfg, "layers"), i, l) {
        json_t *c = json_object_get(l, "config"), *shape = json_object_get(c, "batch_shape");
        if (!shape) shape = json_object_get(c, "batch_input_shape");
        if (name && !strcmp(name, json_string_value(json_object_get(c, "name"))) && shape)
            json_object_set(build, "input_shape", shape);
    }
}

static void keras2_defaults(const char *cls, json_t *cfg, json_t *build, const ck_model *m)
{
    for (size_t i = 0; i < sizeof keras2_edits / sizeof *keras2_edits; i++) {
        const keras2_edit *e = &keras2_edits[i];
        if (strcmp(e->cls, cls)) continue;
        if (!e->value) json_object_del(cfg, e->key);
        else json_object_set_new(cfg, e->key, json_loads(e->value, JSON_DECODE_ANY, NULL));
    }
    /* base_rnn.py writes zero_output_for_mask only when true */
    if (is_rnn(cls) && json_is_false(json_object_get(cfg, "zero_output_for_mask")))
        json_object_del(cfg, "zero_output_for_mask");
    drop_neutral(cls, cfg);
    if (!strcmp(cls, "LeakyReLU")) leaky_relu_alpha(cfg);
    if (!strcmp(cls, "MultiHeadAttention")) attention_shapes(cfg, build);
    if (!strcmp(cls, "Sequential")) { /* models/sequential.py: name and layers */
        json_object_del(cfg, "trainable");
        json_object_del(cfg, "dtype");
        json_object_del(cfg, "build_input_shape");
    }
    resolve_axis(cls, cfg, build, m);
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

/* depth: 0 for the model, 1 for its layers, which tf.keras 2.15's legacy .h5
 * config writes without module/registered_name/build_config; whatever their
 * configs hold (initializers, wrapped layers, a nested model's layers) keeps them,
 * a nested Functional under tf.keras's own module and registered name. */
static void downgrade(json_t *v, int depth, bool wrapped, const ck_model *m)
{
    size_t i;
    json_t *e;
    if (json_is_array(v)) {
        json_array_foreach(v, i, e) downgrade(e, depth, false, m);
        return;
    }
    if (!json_is_object(v)) return;
    const char *cls = json_string_value(json_object_get(v, "class_name"));
    json_t *cfg = json_object_get(v, "config");
    bool layer_list = false;
    if (cls && json_is_object(cfg)) {
        json_t *build = json_incref(json_object_get(v, "build_config"));
        if (depth <= 1) {
            json_object_del(v, "module");
            json_object_del(v, "registered_name");
            json_object_del(v, "build_config");
        } else if (!strcmp(cls, "Functional")) {
            json_object_set_new(v, "module", json_string("keras.src.engine.functional"));
            json_object_set_new(v, "registered_name", json_string("Functional"));
            nested_build_config(v);
        }
        if (wrapped) json_object_del(v, "build_config"); /* tf.keras wrappers serialize their layer without it */
        json_object_del(v, "compile_config");
        downgrade_config(cls, cfg);
        keras2_defaults(cls, cfg, build, m);
        json_decref(build);
        layer_list = !strcmp(cls, "Sequential") || !strcmp(cls, "Functional");
    }
    const char *k;
    json_object_foreach(v, k, e) {
        /* a model's layers list is one level below the model */
        if (layer_list && !strcmp(k, "config")) {
            const char *ck;
            json_t *ce;
            json_object_foreach(e, ck, ce) downgrade(ce, !strcmp(ck, "layers") ? depth + 1 : depth + 2, false, m);
        } else if (cls && !strcmp(k, "config")) {
            const char *ck;
            json_t *ce;
            json_object_foreach(e, ck, ce)
                downgrade(ce, depth + 2, !strcmp(ck, "layer") || !strcmp(ck, "backward_layer"), m);
        } else {
            downgrade(e, depth + 2, false, m);
        }
    }
}

json_t *ck_tfjs_topology(const ck_model *m)
{
    json_t *cfg = ck_model_config_json(m);
    if (!cfg) return NULL;
    downgrade(cfg, 0, false, m);
    return json_pack("{s:s, s:s, s:o}", "keras_version", "2.15.0", "backend", "tensorflow", "model_config", cfg);
}
