/* Keras's load_model compiles a .keras model from the compile_config of its
 * config.json, which builds the optimizer: summary() then shows "Optimizer
 * params" (also for a model saved before any training). This file turns that
 * compile_config back into ck_model_compile's Python-style spec strings, through
 * the public API only. A compile_config ckeras cannot honour is skipped, as Keras
 * skips one it cannot compile (with a warning): the model still loads. */
#include "io/io.h"

#include <stdlib.h>
#include <string.h>

static void number(ck_buf *b, json_t *v)
{
    if (json_is_integer(v)) ck_buf_printf(b, "%lld", (long long)json_integer_value(v));
    else ck_buf_printf(b, "%.17g", json_number_value(v));
}

/* Appends `key=value` for numbers, lists of numbers (PiecewiseConstantDecay's
 * boundaries), booleans and None; other values are skipped. */
static void kwarg(ck_buf *b, const char *key, json_t *v)
{
    if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) if (!json_is_number(x)) return;
        ck_buf_printf(b, "%s%s=[", b->len && b->data[b->len - 1] != '(' ? ", " : "", key);
        json_array_foreach(v, i, x) {
            if (i) ck_buf_printf(b, ", ");
            number(b, x);
        }
        ck_buf_printf(b, "]");
    } else if (json_is_integer(v)) ck_buf_printf(b, "%s%s=%lld", b->len && b->data[b->len - 1] != '(' ? ", " : "", key,
                                          (long long)json_integer_value(v));
    else if (json_is_real(v)) ck_buf_printf(b, "%s%s=%.17g", b->len && b->data[b->len - 1] != '(' ? ", " : "", key,
                                            json_real_value(v));
    else if (json_is_boolean(v) || json_is_null(v))
        ck_buf_printf(b, "%s%s=%s", b->len && b->data[b->len - 1] != '(' ? ", " : "", key,
                      json_is_null(v) ? "None" : json_is_true(v) ? "True" : "False");
}

/* "Class(k=v, ...)" from a serialized Keras object, numbers/bools/None only;
 * `only` (NULL-terminated) limits the keys. A learning_rate schedule nests. */
static void object_spec(ck_buf *b, json_t *obj, const char *const *only)
{
    ck_buf_printf(b, "%s(", json_string_value(json_object_get(obj, "class_name")));
    const char *key;
    json_t *v, *cfg = json_object_get(obj, "config");
    /* The EMA settings mean nothing while use_ema is off (every optimizer's config). */
    bool ema = json_is_true(json_object_get(cfg, "use_ema"));
    json_object_foreach(cfg, key, v) {
        if (!ema && (!strcmp(key, "ema_momentum") || !strcmp(key, "ema_overwrite_frequency"))) continue;
        bool wanted = !only;
        for (const char *const *k = only; k && *k; k++) wanted = wanted || !strcmp(*k, key);
        if (!wanted) continue;
        if (json_is_object(v) && json_is_string(json_object_get(v, "class_name"))) {
            ck_buf_printf(b, "%s%s=", b->data[b->len - 1] != '(' ? ", " : "", key);
            object_spec(b, v, NULL);
        } else {
            kwarg(b, key, v);
        }
    }
    ck_buf_printf(b, ")");
}

/* Outputs compile() takes (train's CK_MAX_IO; a larger model is not compiled). */
#define OUTPUTS_MAX 16

/* The file's compile() arguments as ck_model_compile_outputs takes them, one
 * entry per model output (Keras's lists and dicts keyed by output name alike). */
typedef struct compile_specs {
    char *loss[OUTPUTS_MAX];
    int n_losses;                              /* 0: loss=None                  */
    double weight[OUTPUTS_MAX];
    bool has_weights;
    char *metrics[OUTPUTS_MAX], *weighted[OUTPUTS_MAX];
    int n_metrics, n_weighted;                 /* 0: None; -1: a form not taken */
} compile_specs;

static void specs_free(compile_specs *s)
{
    for (int i = 0; i < OUTPUTS_MAX; i++) {
        ck_free(s->loss[i]);
        ck_free(s->metrics[i]);
        ck_free(s->weighted[i]);
    }
}

static char *spec_of(json_t *v)
{
    if (json_is_string(v)) return ck_strdup(json_string_value(v));
    if (!json_is_object(v) || !json_is_string(json_object_get(v, "class_name"))) return NULL;
    ck_buf b = {0};
    object_spec(&b, v, NULL);
    if (b.failed) ck_buf_free(&b);
    return b.data;
}

/* Output i's entry of a per-output value: a list's i-th, a dict's by output name. */
static json_t *per_output(const ck_model *m, json_t *v, int i)
{
    if (json_is_array(v)) return json_array_get(v, (size_t)i);
    return json_object_get(v, m->outputs[i]->node->layer->name);
}

/* A structure of one entry per output: a list of n_out, or a dict (not a
 * serialized object) naming every output. */
static bool is_per_output(const ck_model *m, json_t *v)
{
    if (json_is_array(v)) return (int)json_array_size(v) == m->n_outputs;
    if (!json_is_object(v) || json_object_get(v, "class_name")) return false;
    for (int i = 0; i < m->n_outputs; i++)
        if (!per_output(m, v, i)) return false;
    return true;
}

/* compile(metrics=[...]) of one output, as Keras records it: a list of names
 * ("accuracy", "mae"), joined as ck_model_compile takes them; NULL for anything
 * else (serialized metric objects). */
static char *metric_names(json_t *metrics)
{
    if (!json_is_array(metrics) || json_array_size(metrics) == 0) return NULL;
    ck_buf b = {0};
    size_t i;
    json_t *v;
    json_array_foreach(metrics, i, v) {
        if (!json_is_string(v)) { ck_buf_free(&b); return NULL; }
        ck_buf_printf(&b, "%s%s", i ? "," : "", json_string_value(v));
    }
    if (b.failed) { ck_buf_free(&b); return NULL; }
    return b.data;
}

static char *metric_text(json_t *list)
{
    if (json_is_null(list)) return NULL;
    char *names = metric_names(list);
    return names ? names : ck_strdup("");
}

/* metrics / weighted_metrics: None, one output's list of names, or one list per output. */
static int metric_specs(const ck_model *m, json_t *v, char **out)
{
    if (!v || json_is_null(v)) return 0;
    bool flat = json_is_array(v) && (json_array_size(v) == 0 || json_is_string(json_array_get(v, 0)));
    if (m->n_outputs == 1 && flat) {
        out[0] = metric_text(v);
        return out[0] ? 1 : -1;
    }
    if (flat || !is_per_output(m, v)) return -1;
    for (int i = 0; i < m->n_outputs; i++) {
        json_t *one = per_output(m, v, i);
        if (!json_is_array(one) && !json_is_null(one)) return -1;
        out[i] = metric_text(one);
        if (json_is_array(one) && !out[i]) return -1;
    }
    return m->n_outputs;
}

static void read_specs(const ck_model *m, json_t *cc, compile_specs *s)
{
    json_t *loss = json_object_get(cc, "loss"), *weights = json_object_get(cc, "loss_weights");
    if (m->n_outputs > OUTPUTS_MAX) return;
    if (is_per_output(m, loss) && m->n_outputs > 1) {
        s->n_losses = m->n_outputs;
        for (int i = 0; i < m->n_outputs; i++)
            if (!(s->loss[i] = spec_of(per_output(m, loss, i)))) s->n_losses = 0;
    } else if (json_is_array(loss) && json_array_size(loss) == 1) {
        s->n_losses = (s->loss[0] = spec_of(json_array_get(loss, 0))) != NULL;
    } else {
        s->n_losses = (s->loss[0] = spec_of(loss)) != NULL;
    }
    if (json_is_number(weights) && m->n_outputs == 1) {
        s->has_weights = true, s->weight[0] = json_number_value(weights);
    } else if (is_per_output(m, weights)) {
        s->has_weights = true;
        for (int i = 0; i < m->n_outputs; i++) {
            json_t *w = per_output(m, weights, i);
            s->weight[i] = json_is_number(w) ? json_number_value(w) : 1.0;
        }
    }
    s->n_metrics = metric_specs(m, json_object_get(cc, "metrics"), s->metrics);
    s->n_weighted = metric_specs(m, json_object_get(cc, "weighted_metrics"), s->weighted);
}

static ck_status compile_with(ck_model *m, json_t *opt, const char *const *only, const compile_specs *s,
                              bool with_loss, bool with_metrics)
{
    ck_buf b = {0};
    if (json_is_string(opt)) ck_buf_printf(&b, "%s", json_string_value(opt));
    else object_spec(&b, opt, only);
    if (!b.data || b.failed) {
        ck_buf_free(&b);
        return CK_ERR_NOMEM;
    }
    int n_losses = with_loss ? s->n_losses : 0;
    int n_metrics = with_loss && with_metrics && s->n_metrics > 0 ? s->n_metrics : 0;
    ck_status st = ck_model_compile_outputs(m, b.data, (const char *const *)s->loss, n_losses,
                                            n_losses && s->has_weights ? s->weight : NULL,
                                            (const char *const *)s->metrics, n_metrics);
    if (!st && with_loss && with_metrics && s->n_weighted > 0)
        st = ck_model_compile_weighted_metrics(m, (const char *const *)s->weighted, s->n_weighted);
    ck_buf_free(&b);
    return st;
}

/* The variables an optimizer makes depend only on these keys (and on a schedule). */
static const char *const shape_keys[] = {"learning_rate", "momentum", "amsgrad", "centered", NULL};

static bool is_optimizer(json_t *opt)
{
    return json_is_string(opt) || (json_is_object(opt) && json_is_string(json_object_get(opt, "class_name")));
}

/* An error about a compile, shortened for the model's compile_gap: without the
 * "model 'name': " it starts with and the arguments of the specs it quotes
 * ("optimizer 'SGD': unknown keyword ... 'use_ema'"). */
static void gap_text(const ck_model *m, const char *msg, char *out, size_t cap)
{
    char prefix[sizeof m->base.name + 16];
    snprintf(prefix, sizeof prefix, "model '%s': ", m->base.name);
    if (!strncmp(msg, prefix, strlen(prefix))) msg += strlen(prefix);
    size_t o = 0;
    int depth = 0;
    for (; *msg && o + 1 < cap; msg++) {
        depth += *msg == '(';
        if (!depth) out[o++] = *msg;
        depth -= *msg == ')' && depth > 0;
    }
    out[o] = '\0';
}

/* From all of the file's settings down to what ckeras can honour: the loss and
 * metrics survive an optimizer keyword ckeras does not take (use_ema, ...). */
static ck_status compile_from(ck_model *m, json_t *opt, const compile_specs *s)
{
    bool metrics = s->n_metrics > 0 || s->n_weighted > 0;
    const struct { const char *const *only; bool loss, metrics; } tries[] = {
        {NULL, true, true}, {shape_keys, true, true}, {NULL, true, false},
        {shape_keys, true, false}, {NULL, false, false}, {shape_keys, false, false},
    };
    ck_status st = CK_ERR_CONFIG;
    char why[400] = "";
    bool optimizer_cut = false;
    for (int i = 0; st && i < CK_N_OF(tries); i++) {
        if ((i < 4 && !s->n_losses) || (i < 2 && !metrics)) continue; /* the same as a later try */
        st = compile_with(m, opt, tries[i].only, s, tries[i].loss, tries[i].metrics);
        if (st && !*why) gap_text(m, ck_errmsg(), why, sizeof why);
        optimizer_cut = !st && tries[i].only;
    }
    /* Metrics left out change only what fit reports; the optimizer's keywords or
     * a loss left out would train otherwise than Keras, so fit is told why. */
    if ((st || optimizer_cut) && *why && !(m->compile_gap = ck_strdup(why))) return CK_ERR_NOMEM;
    return st;
}

/* A LossScaleOptimizer's config ({name, inner_optimizer, initial_scale,
 * dynamic_growth_steps}, LossScaleOptimizer.get_config): ckeras compiles its
 * inner optimizer (float32 gradients need no loss scaling) and keeps the rest
 * for the files it writes (ck_model.loss_scale). Any other optimizer: itself. */
static json_t *unwrap_loss_scale(ck_model *m, json_t *opt)
{
    if (!json_is_object(opt) || !json_is_string(json_object_get(opt, "class_name")) ||
        strcmp(json_string_value(json_object_get(opt, "class_name")), "LossScaleOptimizer"))
        return opt;
    json_t *cfg = json_object_get(opt, "config"), *name = json_object_get(cfg, "name");
    json_t *scale = json_object_get(cfg, "initial_scale"), *growth = json_object_get(cfg, "dynamic_growth_steps");
    ck_loss_scale *ls = &m->loss_scale;
    memset(ls, 0, sizeof *ls);
    ls->wrapped = true;
    if (json_is_string(name)) snprintf(ls->name, sizeof ls->name, "%s", json_string_value(name));
    if (json_is_number(scale) && json_number_value(scale) > 0) ls->initial_scale = json_number_value(scale);
    if (json_is_integer(growth) && json_integer_value(growth) > 0) ls->growth_steps = json_integer_value(growth);
    return json_object_get(cfg, "inner_optimizer");
}

void ck_keras_restore_compile(ck_model *m, json_t *compile_config)
{
    json_t *opt = unwrap_loss_scale(m, json_object_get(compile_config, "optimizer"));
    if (!is_optimizer(opt)) return;
    compile_specs s = {0};
    read_specs(m, compile_config, &s);
    ck_status st = compile_from(m, opt, &s);
    specs_free(&s);
    if (st) return;
    ck_model_build_optimizer(m);
    /* Keras's to_json after load_model writes this compile_config unchanged. */
    char *text = json_dumps(compile_config, JSON_COMPACT);
    ck_free(m->file_compile_config);
    m->file_compile_config = text ? ck_strdup(text) : NULL;
    m->file_compile_engine = m->engine;
    m->loss_scale.engine = m->engine;
    free(text);
}

void ck_keras_restore_legacy_compile(ck_model *m, json_t *training_config, bool has_optimizer_weights)
{
    json_t *opt = unwrap_loss_scale(m, json_object_get(training_config, "optimizer_config"));
    if (!is_optimizer(opt)) return;
    /* model.compile(**compile_args_from_training_config(...)): optimizer, loss,
     * metrics, weighted_metrics and loss_weights. With optimizer_weights Keras
     * then builds the optimizer over model._trainable_variables: a model's own
     * variables, none, so only its scalars (iterations, learning_rate) exist;
     * compiling with the whole model frozen gives exactly that, and fit builds it
     * over the trainable variables (ck_model.pending_optimizer). */
    compile_specs s = {0};
    read_specs(m, training_config, &s);
    bool trainable = m->base.trainable;
    if (has_optimizer_weights) m->base.trainable = false;
    ck_status st = compile_from(m, opt, &s);
    m->base.trainable = trainable;
    specs_free(&s);
    if (!st && has_optimizer_weights) ck_model_build_optimizer(m);
    if (!st) m->loss_scale.engine = m->engine;
}
