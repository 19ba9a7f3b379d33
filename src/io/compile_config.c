/* Keras's load_model compiles a .keras model from the compile_config of its
 * config.json, which builds the optimizer: summary() then shows "Optimizer
 * params" (also for a model saved before any training). This file turns that
 * compile_config back into ck_model_compile's Python-style spec strings, through
 * the public API only. A compile_config ckeras cannot honour is skipped, as Keras
 * skips one it cannot compile (with a warning): the model still loads. */
#include "io/io.h"

#include <stdlib.h>
#include <string.h>

/* Appends `key=value` for numbers, booleans and None; other values are skipped. */
static void kwarg(ck_buf *b, const char *key, json_t *v)
{
    if (json_is_integer(v)) ck_buf_printf(b, "%s%s=%lld", b->len && b->data[b->len - 1] != '(' ? ", " : "", key,
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

static ck_status compile_with(ck_model *m, json_t *opt, const char *const *only, const char *loss)
{
    ck_buf b = {0};
    if (json_is_string(opt)) ck_buf_printf(&b, "%s", json_string_value(opt));
    else object_spec(&b, opt, only);
    ck_status st = b.data && !b.failed ? ck_model_compile(m, b.data, loss, NULL) : CK_ERR_NOMEM;
    ck_buf_free(&b);
    return st;
}

/* The variables an optimizer makes depend only on these keys (and on a schedule). */
static const char *const shape_keys[] = {"learning_rate", "momentum", "amsgrad", "centered", NULL};

static bool is_optimizer(json_t *opt)
{
    return json_is_string(opt) || (json_is_object(opt) && json_is_string(json_object_get(opt, "class_name")));
}

void ck_keras_restore_compile(ck_model *m, json_t *compile_config)
{
    json_t *opt = json_object_get(compile_config, "optimizer");
    if (!is_optimizer(opt)) return;
    json_t *loss = json_object_get(compile_config, "loss");
    const char *loss_name = json_is_string(loss) ? json_string_value(loss) : NULL;
    /* the loss survives an optimizer keyword ckeras does not take (use_ema, ...) */
    ck_status st = compile_with(m, opt, NULL, loss_name);
    if (st && loss_name) st = compile_with(m, opt, shape_keys, loss_name);
    if (st && loss_name) st = compile_with(m, opt, NULL, NULL);
    if (st) st = compile_with(m, opt, shape_keys, NULL);
    if (st) return;
    ck_model_build_optimizer(m);
    /* Keras's to_json after load_model writes this compile_config unchanged. */
    char *text = json_dumps(compile_config, JSON_COMPACT);
    ck_free(m->file_compile_config);
    m->file_compile_config = text ? ck_strdup(text) : NULL;
    m->file_compile_engine = m->engine;
    free(text);
}

void ck_keras_restore_legacy_compile(ck_model *m, json_t *training_config, bool has_optimizer_weights)
{
    json_t *opt = json_object_get(training_config, "optimizer_config");
    /* Keras compiles, but builds the optimizer only to restore saved optimizer
     * weights, and then over model._trainable_variables: a model's own variables,
     * none, so only its scalars (iterations, learning_rate) exist. Compiling with
     * the whole model frozen gives exactly that; no loss, so fit() asks for one. */
    if (!has_optimizer_weights || !is_optimizer(opt)) return;
    bool trainable = m->base.trainable;
    m->base.trainable = false;
    ck_status st = compile_with(m, opt, NULL, NULL);
    if (st) st = compile_with(m, opt, shape_keys, NULL);
    m->base.trainable = trainable;
    if (!st) ck_model_build_optimizer(m);
}
