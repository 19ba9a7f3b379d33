/* Layers: creation from a class and kwargs, weights added by build in Keras's
 * order, building once per layer, and parameter counts read off those weights. */
#include "graph/config.h"

#include <string.h>

static _Thread_local uint64_t next_serial;

ck_layer *ck_layer_alloc(const ck_layer_class *cls)
{
    ck_layer *l = ck_calloc(1, sizeof *l);
    if (!l) return NULL;
    l->cls = cls;
    l->trainable = true;
    l->auto_named = true;
    l->serial = ++next_serial;
    snprintf(l->dtype, sizeof l->dtype, "float32");
    ck_snake_case(cls->class_name, l->name, sizeof l->name);
    l->input_shape.dim[0] = CK_NONE;
    if (cls->config_size && !(l->config = ck_calloc(1, cls->config_size))) {
        ck_free(l);
        return NULL;
    }
    if (ck_config_set_defaults(l)) {
        ck_layer_free(l);
        return NULL;
    }
    return l;
}

ck_status ck_layer_apply_kwargs(ck_layer *l, const char *kwargs)
{
    json_t *obj;
    ck_status st = ck_kwargs_parse(kwargs, &obj);
    if (st) return ck_fail_prefix(st, "%s: ", l->cls->class_name);
    st = ck_config_apply(l, obj, true);
    json_decref(obj);
    return st;
}

ck_layer *ck_layer_new(const char *class_name, const char *kwargs)
{
    if (!class_name) {
        ck_fail(CK_ERR_ARG, "ck_layer_new: class_name is NULL");
        return NULL;
    }
    const ck_layer_class *cls = ck_find_layer_class(class_name);
    if (!cls) {
        ck_fail(CK_ERR_UNSUPPORTED, "unknown layer class '%s'", class_name);
        return NULL;
    }
    ck_layer *l = ck_layer_alloc(cls);
    if (l && ck_layer_apply_kwargs(l, kwargs)) {
        ck_layer_free(l);
        return NULL;
    }
    return l;
}

/* Shorthands: the positional argument goes first, as in Python. */
static ck_layer *new_with(const char *cls, const char *first, const char *kwargs)
{
    ck_buf b = {0};
    ck_buf_printf(&b, "%s%s%s", first, kwargs && *kwargs ? ", " : "", kwargs ? kwargs : "");
    char *s = ck_buf_take(&b);
    ck_layer *l = s ? ck_layer_new(cls, s) : NULL;
    ck_free(s);
    return l;
}

ck_layer *ck_dense(int64_t units, const char *kwargs)
{
    char first[48];
    snprintf(first, sizeof first, "units=%lld", (long long)units);
    return new_with("Dense", first, kwargs);
}

ck_layer *ck_activation(const char *activation, const char *kwargs)
{
    char first[64];
    snprintf(first, sizeof first, "activation='%.40s'", activation ? activation : "linear");
    return new_with("Activation", first, kwargs);
}

ck_layer *ck_dropout(double rate, const char *kwargs)
{
    char first[48];
    snprintf(first, sizeof first, "rate=%.17g", rate);
    return new_with("Dropout", first, kwargs);
}

ck_layer *ck_flatten(const char *kwargs) { return ck_layer_new("Flatten", kwargs); }

/* The recorded kwargs are JSON text, compact (as loaded configs record them) or
 * spaced: the key, optional blanks, a colon, optional blanks, then true. */
static bool kwarg_true(const char *text, const char *key)
{
    size_t n = strlen(key);
    for (const char *p = text ? strchr(text, '"') : NULL; p; p = strchr(p + 1, '"')) {
        if (strncmp(p + 1, key, n) || p[n + 1] != '"') continue;
        const char *v = p + n + 2;
        while (*v == ' ') v++;
        if (*v++ != ':') continue;
        while (*v == ' ') v++;
        return !strncmp(v, "true", 4);
    }
    return false;
}

int ck_layer_causal(const ck_layer *l)
{
    int causal = 0;
    for (int i = 0; i < l->n_nodes; i++) {
        int c = kwarg_true(l->nodes[i]->call_kwargs, "use_causal_mask");
        if (i && c != causal) return -1;
        causal = c;
    }
    return causal;
}

static void free_nodes(ck_layer *l)
{
    for (int i = 0; i < l->n_nodes; i++) {
        ck_free(l->nodes[i]->inputs);
        ck_free(l->nodes[i]->outputs);
        ck_free(l->nodes[i]->call_kwargs);
        ck_free(l->nodes[i]->mask_from);
        ck_free(l->nodes[i]);
    }
    ck_free(l->nodes);
    l->nodes = NULL;
    l->n_nodes = l->cap_nodes = 0;
}

void ck_layer_free(ck_layer *l)
{
    if (!l) return;
    if (l->model) {
        ck_model_free(l->model);
        return;
    }
    free_nodes(l);
    for (int i = 0; i < l->n_sublayers; i++) ck_layer_free(l->sublayers[i]);
    ck_free(l->sublayers);
    ck_config_release(l);
    ck_free(l->config);
    ck_free(l->state);
    ck_free(l->weights);
    ck_free(l);
}

void ck_layer_reset_graph(ck_layer *l) { free_nodes(l); }

ck_status ck_layer_add_weight(ck_layer *l, const char *name, ck_shape shape, const ck_init *init,
                              bool trainable, ck_dtype dtype)
{
    int64_t n;
    ck_status st = ck_shape_size_from(&shape, 0, &n);
    if (st) return ck_fail_prefix(st, "%s '%s', weight '%s': ", l->cls->class_name, l->name, name);
    if (n < 0)
        return ck_fail(CK_ERR_SHAPE, "%s '%s', weight '%s': shape has an unknown dimension",
                       l->cls->class_name, l->name, name);
    if (n > CK_MAX_DIM)
        return ck_fail(CK_ERR_OVERFLOW, "%s '%s', weight '%s': %lld values is too many",
                       l->cls->class_name, l->name, name, (long long)n);
    if ((st = ck_grow((void **)&l->weights, &l->cap_weights, l->n_weights + 1, sizeof *l->weights)))
        return st;
    ck_weight *w = &l->weights[l->n_weights++];
    *w = (ck_weight){.shape = shape, .size = n, .trainable = trainable, .dtype = dtype};
    snprintf(w->name, sizeof w->name, "%s", name);
    if (init) w->init = *init;
    return CK_OK;
}

static bool shapes_compatible(const ck_shape *built, const ck_shape *given)
{
    if (built->rank != given->rank) return false;
    for (int i = 1; i < built->rank; i++)
        if (built->dim[i] != CK_NONE && given->dim[i] != CK_NONE && built->dim[i] != given->dim[i])
            return false;
    return true;
}

ck_status ck_layer_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    if (n_in < l->cls->min_inputs || n_in > l->cls->max_inputs) {
        if (l->cls->min_inputs == l->cls->max_inputs)
            return ck_fail(CK_ERR_SHAPE, "%s '%s': expects %d input%s, got %d", l->cls->class_name,
                           l->name, l->cls->min_inputs, l->cls->min_inputs == 1 ? "" : "s", n_in);
        return ck_fail(CK_ERR_SHAPE, "%s '%s': expects %d to %d inputs, got %d", l->cls->class_name,
                       l->name, l->cls->min_inputs, l->cls->max_inputs, n_in);
    }
    if (l->built) {
        /* A shared layer: later calls must fit the weights made by the first. */
        for (int i = 0; i < n_in && i < CK_LAYER_SHAPES; i++) {
            if (!shapes_compatible(&l->in_shapes[i], &in[i])) {
                char a[96], b[96];
                ck_shape_format(&l->in_shapes[i], a, sizeof a);
                ck_shape_format(&in[i], b, sizeof b);
                return ck_fail(CK_ERR_SHAPE, "%s '%s': built for input %s, called on %s",
                               l->cls->class_name, l->name, a, b);
            }
        }
    }
    int n_weights_before = l->n_weights;
    ck_status st = l->cls->build(l, in, n_in, out, n_out);
    if (st) {
        l->n_weights = n_weights_before;
        return st;
    }
    for (int i = 0; i < *n_out; i++)
        for (int d = 0; d < out[i].rank; d++)
            if (out[i].dim[d] != CK_NONE && (out[i].dim[d] < 0 || out[i].dim[d] > CK_MAX_DIM))
                return ck_fail(CK_ERR_SHAPE, "%s '%s': output dimension %d would be %lld",
                               l->cls->class_name, l->name, d, (long long)out[i].dim[d]);
    if (!l->built) {
        l->n_in = n_in < CK_LAYER_SHAPES ? n_in : CK_LAYER_SHAPES;
        memcpy(l->in_shapes, in, (size_t)l->n_in * sizeof *in);
        l->n_out = *n_out < CK_LAYER_SHAPES ? *n_out : CK_LAYER_SHAPES;
        memcpy(l->out_shapes, out, (size_t)l->n_out * sizeof *out);
        l->built = true;
    } else {
        l->n_weights = n_weights_before; /* the first build made them */
    }
    return CK_OK;
}

int ck_layer_variable_bytes(const ck_layer *l)
{
    if (!strcmp(l->dtype, "float64")) return 8;
    if (!strcmp(l->dtype, "float16") || !strcmp(l->dtype, "bfloat16")) return 2;
    return 4;
}

ck_half ck_layer_variable_half(const ck_layer *l)
{
    return ck_layer_variable_bytes(l) == 2 ? ck_half_of_dtype(l->dtype) : CK_HALF_NONE;
}

const char *ck_layer_compute_dtype(const ck_layer *l)
{
    if (!strcmp(l->dtype, "mixed_float16")) return "float16";
    if (!strcmp(l->dtype, "mixed_bfloat16")) return "bfloat16";
    return l->dtype[0] ? l->dtype : "float32";
}

int64_t ck_layer_params(const ck_layer *l)
{
    if (l->model) {
        ck_param_counts c;
        return ck_model_count_params(l->model, &c) ? -1 : c.trainable + c.non_trainable;
    }
    int64_t n = 0;
    for (int i = 0; i < l->n_weights; i++) n += l->weights[i].size;
    return n;
}

const char *ck_layer_name(const ck_layer *l) { return l->name; }
const char *ck_layer_class_name(const ck_layer *l) { return l->cls->class_name; }
bool ck_layer_trainable(const ck_layer *l) { return l->trainable; }
void ck_layer_set_trainable(ck_layer *l, bool t) { l->trainable = t; }
int64_t ck_layer_count_params(const ck_layer *l) { return l->built ? ck_layer_params(l) : -1; }
bool ck_layer_is_model(const ck_layer *l) { return l->model != NULL; }

/* Keras's naming.to_snake_case: drop non-word chars, "_" before each capitalised
 * word and between a lower-case letter and a capital, then lower-case. */
void ck_snake_case(const char *name, char *out, size_t cap)
{
    char tmp[2 * CK_STR_MAX];
    size_t n = 0;
    for (size_t i = 0; name[i] && n + 2 < sizeof tmp; i++) {
        char c = name[i];
        bool upper = c >= 'A' && c <= 'Z';
        bool next_lower = name[i + 1] >= 'a' && name[i + 1] <= 'z';
        bool prev_lower = i > 0 && name[i - 1] >= 'a' && name[i - 1] <= 'z';
        /* (.)([A-Z][a-z]+) -> \1_\2, then ([a-z])([A-Z]) -> \1_\2 */
        if (i > 0 && upper && (next_lower || prev_lower) && tmp[n - 1] != '_') tmp[n++] = '_';
        tmp[n++] = c;
    }
    tmp[n] = '\0';
    size_t o = 0;
    for (size_t i = 0; tmp[i] && o + 1 < cap; i++) {
        char c = tmp[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        out[o++] = c;
    }
    out[o] = '\0';
}
