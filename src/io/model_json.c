/* Keras 3 model configs out: model.to_json() and the config.json of .keras files.
 * Layers are written by the generic field-table codec (ck_layer_to_json); this file
 * adds what belongs to models: the InputLayer entry, Sequential's
 * build_input_shape, and a Functional graph's inbound nodes and input/output lists,
 * in the key order Keras 3 writes them. */
#include "graph/config.h"
#include "io/io.h"
#include "layers/layers.h"

#include <stdlib.h>
#include <string.h>

static json_t *dtype_policy(const char *dtype)
{
    return json_pack("{s:s, s:s, s:{s:s}, s:n}", "module", "keras", "class_name", "DTypePolicy", "config", "name",
                     dtype, "registered_name");
}

static json_t *input_layer_json(const ck_layer *l)
{
    const bool *flags = l->config; /* ck_input_config: sparse, ragged, optional */
    return json_pack("{s:s, s:s, s:{s:o, s:s, s:b, s:b, s:s, s:b}, s:n}", "module", "keras.layers", "class_name",
                     "InputLayer", "config", "batch_shape", ck_shape_to_json(&l->input_shape, 0), "dtype",
                     l->dtype[0] ? l->dtype : "float32", "sparse", flags[0], "ragged", flags[1], "name", l->name,
                     "optional", flags[2], "registered_name");
}

static json_t *model_json(const ck_model *m, int depth);

static json_t *layer_json(const ck_layer *l, int depth)
{
    if (l->model) {
        /* A nested model is serialized whole, with its (empty) compile_config. */
        json_t *o = model_json(l->model, depth + 1);
        if (o) json_object_set_new(o, "compile_config", json_object());
        return o;
    }
    if (!strcmp(l->cls->class_name, "InputLayer")) return input_layer_json(l);
    return ck_layer_to_json(l);
}

/* A KerasTensor's dtype: its layer's compute dtype (a nested model's output
 * carries its own producer's). */
static const char *tensor_dtype(const ck_ktensor *t, int depth)
{
    const ck_layer *l = t->node->layer;
    if (l->model && t->index < l->model->n_outputs && depth < 32) return tensor_dtype(l->model->outputs[t->index], depth + 1);
    return l->model ? "float32" : ck_layer_compute_dtype(l);
}

static json_t *tensor_json(const ck_ktensor *t)
{
    const ck_layer *src = t->node->layer;
    return json_pack("{s:s, s:{s:o, s:s, s:[s, i, i]}}", "class_name", "__keras_tensor__", "config", "shape",
                     ck_shape_to_json(&t->shape, 0), "dtype", tensor_dtype(t, 0), "keras_history", src->name,
                     t->node->node_index, t->index);
}

static json_t *inbound_nodes(const ck_layer *l)
{
    json_t *nodes = json_array();
    for (int k = 0; k < l->n_nodes; k++) {
        const ck_node *n = l->nodes[k];
        if (!n->n_inputs) continue;
        /* A model called as a layer, and a layer whose call() takes a mask,
         * record Keras's mask argument; a loaded node keeps what its file said. */
        json_t *kwargs = n->call_kwargs ? json_loads(n->call_kwargs, 0, NULL) : NULL;
        if (!kwargs) kwargs = l->model || l->cls->keras.call_mask ? json_pack("{s:n}", "mask") : json_object();
        json_t *args = json_array(), *list = json_array();
        const ck_keras_format *k = &l->cls->keras;
        for (int i = 0; i < n->n_inputs; i++) {
            json_t *t = tensor_json(n->inputs[i]);
            if (k->call_inputs == CK_CALL_POSITIONAL || (k->call_inputs == CK_CALL_STATES && i == 0) || n->n_inputs == 1)
                json_array_append_new(args, t);
            else
                json_array_append_new(list, t);
        }
        if (json_array_size(list) && k->call_inputs == CK_CALL_STATES)
            json_object_set(kwargs, "initial_state", list);
        else if (json_array_size(list))
            json_array_append(args, list);
        json_decref(list);
        json_array_append_new(nodes, json_pack("{s:o, s:o}", "args", args, "kwargs", kwargs));
    }
    return nodes;
}

/* keys: a dict's keys (ck_model.input_keys), or NULL for a list. */
static json_t *io_refs(ck_ktensor *const *ts, int n, const char *keys)
{
    json_t *list = json_array(), *names = keys ? json_loads(keys, 0, NULL) : NULL;
    for (int i = 0; i < n; i++)
        json_array_append_new(list, json_pack("[s, i, i]", ts[i]->node->layer->name, ts[i]->node->node_index,
                                              ts[i]->index));
    if (json_is_array(names) && json_array_size(names) == (size_t)n) {
        json_t *dict = json_object();
        for (int i = 0; i < n; i++)
            json_object_set(dict, json_string_value(json_array_get(names, (size_t)i)), json_array_get(list, (size_t)i));
        json_decref(list);
        json_decref(names);
        return dict;
    }
    json_decref(names);
    /* Keras 3 writes a single flat triple for one tensor. */
    if (n == 1) {
        json_t *one = json_incref(json_array_get(list, 0));
        json_decref(list);
        return one;
    }
    return list;
}

static json_t *sequential_json(const ck_model *m, int depth)
{
    json_t *layers = json_array();
    /* Keras builds a Sequential only once it has a layer after its input. */
    const ck_shape *in = m->n_inputs && m->n_layers ? &m->inputs[0]->shape : NULL;
    if (m->input_layer) json_array_append_new(layers, input_layer_json(m->input_layer));
    for (int i = 0; i < m->n_layers; i++) json_array_append_new(layers, layer_json(m->layers[i], depth));
    json_t *cfg = json_pack("{s:s, s:b, s:o, s:o}", "name", m->base.name, "trainable", m->base.trainable, "dtype",
                            dtype_policy(m->base.dtype), "layers", layers);
    if (in) json_object_set_new(cfg, "build_input_shape", ck_shape_to_json(in, 0));
    json_t *o = json_pack("{s:s, s:s, s:o, s:n}", "module", "keras", "class_name", "Sequential", "config", cfg,
                          "registered_name");
    if (in) json_object_set_new(o, "build_config", json_pack("{s:o}", "input_shape", ck_shape_to_json(in, 0)));
    return o;
}

/* A numpy operation with a constant operand (layers/app_layers.c) as Keras saves
 * it: config {"name"} only, the number beside the tensor in the node's args. */
static bool scalar_op_json(const ck_layer *l, json_t **out)
{
    if (l->cls != ck_find_scalar_op_class(l->cls->class_name) || l->n_nodes < 1 || l->nodes[0]->n_inputs != 1)
        return false;
    json_t *full = ck_layer_to_json(l), *cfg = json_object_get(full, "config");
    json_t *num = json_real(json_number_value(json_object_get(cfg, "scalar")));
    json_t *t = tensor_json(l->nodes[0]->inputs[0]);
    json_t *args = json_is_true(json_object_get(cfg, "scalar_first")) ? json_pack("[o, o]", num, t)
                                                                      : json_pack("[o, o]", t, num);
    json_decref(full);
    *out = json_pack("{s:s, s:s, s:{s:s}, s:s, s:s, s:[{s:o, s:{}}]}", "module", "keras.src.ops.numpy", "class_name",
                     l->cls->class_name, "config", "name", l->name, "registered_name", l->cls->class_name, "name",
                     l->name, "inbound_nodes", "args", args, "kwargs");
    return *out != NULL;
}

/* x + y of two tensors, saved by Keras as the numpy operation with the tensors
 * as positional arguments and a config of its name only. */
static bool numpy_op_json(const ck_layer *l, json_t **out)
{
    if (!l->numpy_op || l->n_nodes < 1) return false;
    const ck_node *n = l->nodes[0];
    json_t *args = json_array();
    for (int i = 0; i < n->n_inputs; i++) json_array_append_new(args, tensor_json(n->inputs[i]));
    *out = json_pack("{s:s, s:s, s:{s:s}, s:s, s:s, s:[{s:o, s:{}}]}", "module", "keras.src.ops.numpy", "class_name",
                     l->cls->class_name, "config", "name", l->name, "registered_name", l->cls->class_name, "name",
                     l->name, "inbound_nodes", "args", args, "kwargs");
    return *out != NULL;
}

static json_t *functional_json(const ck_model *m, int depth)
{
    json_t *layers = json_array();
    for (int i = 0; i < m->n_layers; i++) {
        const ck_layer *l = m->layers[i];
        json_t *o;
        if (scalar_op_json(l, &o) || numpy_op_json(l, &o)) {
            json_array_append_new(layers, o);
            continue;
        }
        o = layer_json(l, depth);
        json_object_set_new(o, "name", json_string(l->name));
        json_object_set_new(o, "inbound_nodes", inbound_nodes(l));
        json_array_append_new(layers, o);
    }
    json_t *cfg = json_pack("{s:s, s:b, s:o, s:o, s:o}", "name", m->base.name, "trainable", m->base.trainable,
                            "layers", layers, "input_layers", io_refs(m->inputs, m->n_inputs, m->input_keys),
                            "output_layers", io_refs(m->outputs, m->n_outputs, m->output_keys));
    return json_pack("{s:s, s:s, s:o, s:s, s:{s:n}}", "module", "keras.src.models.functional", "class_name",
                     "Functional", "config", cfg, "registered_name", "Functional", "build_config", "input_shape");
}

static json_t *model_json(const ck_model *m, int depth)
{
    if (depth > 32) return NULL;
    return m->kind == CK_SEQUENTIAL ? sequential_json(m, depth) : functional_json(m, depth);
}

json_t *ck_model_config_json(const ck_model *m) { return model_json(m, 0); }

/* Trainer.compile's LossScaleOptimizer(optimizer) as serialize_keras_object
 * writes it, with LossScaleOptimizer.get_config: the name, the inner optimizer's
 * whole serialized form and the two settings (those of the file the compile came
 * from, else Keras's defaults). */
json_t *ck_loss_scale_config(const ck_model *m, json_t *inner)
{
    const char *cls = json_string_value(json_object_get(inner, "class_name"));
    if (cls && !strcmp(cls, "LossScaleOptimizer")) return json_incref(inner);
    const ck_loss_scale *ls = &m->loss_scale;
    bool same = ls->wrapped && ls->engine == m->engine;
    double initial = same && ls->initial_scale > 0 ? ls->initial_scale : LOSS_SCALE_INITIAL;
    json_int_t growth = same && ls->growth_steps > 0 ? ls->growth_steps : LOSS_SCALE_GROWTH;
    return json_pack("{s:s, s:s, s:{s:s, s:O, s:f, s:I}, s:n}", "module", "keras.optimizers", "class_name",
                     "LossScaleOptimizer", "config", "name", same && *ls->name ? ls->name : LOSS_SCALE_NAME,
                     "inner_optimizer", inner, "initial_scale", initial, "dynamic_growth_steps", growth,
                     "registered_name");
}

json_t *ck_model_compile_config_value(const ck_model *m)
{
    json_t *cc = m->file_compile_config && m->engine == m->file_compile_engine
                     ? json_loads(m->file_compile_config, 0, NULL) : NULL;
    char *own = NULL;
    if (!cc && m->engine && ck_model_compile_config(m, &own) == CK_OK) cc = json_loads(own, 0, NULL);
    free(own);
    /* A legacy .h5's compile (ck_keras_restore_legacy_compile) got the
     * LossScaleOptimizer its training_config held, which Keras's
     * get_compile_config serializes as it is; ckeras compiled its inner one. */
    json_t *opt = json_object_get(cc, "optimizer");
    if (json_is_object(opt) && m->loss_scale.wrapped && m->loss_scale.engine == m->engine)
        json_object_set_new(cc, "optimizer", ck_loss_scale_config(m, opt));
    return cc ? cc : json_object();
}

ck_status ck_model_to_json(const ck_model *m, char **json_text)
{
    if (!m || !json_text) return ck_fail(CK_ERR_ARG, "ck_model_to_json: NULL argument");
    /* An unbuilt Sequential is written too, as Keras does: without build_config. */
    json_t *o = ck_model_config_json(m);
    if (!o) return ck_fail(CK_ERR_NOMEM, "model '%s': config could not be written", m->base.name);
    /* Keras 3's to_json ends with compile_config: {} for a model never compiled;
     * a .keras model compiled on load writes its file's compile_config back, a
     * model compiled here its own. */
    json_object_set_new(o, "compile_config", ck_model_compile_config_value(m));
    /* Python's json.dumps separators: ", " and ": ". */
    *json_text = json_dumps(o, JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!*json_text) return ck_fail(CK_ERR_NOMEM, "model '%s': config could not be written", m->base.name);
    return CK_OK;
}
