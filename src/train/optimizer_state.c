/* Keras's optimizer.variables, one by one, so that files carry training state both
 * ways (.keras stores them under optimizer/vars/<i>): iterations, learning_rate
 * (unless a schedule replaces it), the slots in the order each Keras optimizer's
 * build() makes them, and Nadam's u_product last. build() calls
 * add_optimizer_variables(var_list, names) once per group of slots, and a group of
 * several names interleaves them per model variable: Adam's momentum and velocity
 * (keras/src/optimizers/adam.py), Adadelta's, Adamax's and Nadam's pairs;
 * SGD, RMSprop, Adagrad and Lion make one slot per call. */
#include "train/train.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const ck_optimizer *optimizer_of(const ck_model *m)
{
    const ck_compiled *c = m ? m->engine : NULL;
    return c && c->opt.slots ? &c->opt : NULL;
}

/* Slots 0 and 1 interleaved per variable, as one add_optimizer_variables call. */
static bool pairs_interleave(ck_opt_kind k)
{
    return k == CK_OPT_ADAM || k == CK_OPT_ADAMW || k == CK_OPT_ADADELTA || k == CK_OPT_ADAMAX || k == CK_OPT_NADAM;
}

static int64_t values_of(const ck_shape *s)
{
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++) n *= s->dim[i];
    return n;
}

static int scalar_count(const ck_optimizer *o) { return 1 + (o->schedule.kind == CK_SCHED_NONE); }

int ck_model_optimizer_variable_count(const ck_model *m)
{
    const ck_optimizer *o = optimizer_of(m);
    return o ? scalar_count(o) + o->n_slots * o->n_vars + (o->kind == CK_OPT_NADAM) : 0;
}

/* Slot index and variable index of slot variable i (counted after the scalars). */
static void slot_at(const ck_optimizer *o, int i, int *slot, int *var)
{
    int paired = pairs_interleave(o->kind) && o->n_slots >= 2 ? 2 : 0;
    if (i < paired * o->n_vars) {
        *var = i / paired, *slot = i % paired;
        return;
    }
    i -= paired * o->n_vars;
    *slot = paired + i / o->n_vars, *var = i % o->n_vars;
}

/* The model weight a trainable variable of the optimizer updates (for its shape). */
static const ck_weight *weight_at(const ck_model *m, int64_t offset)
{
    ck_weight_ref *refs;
    int n;
    if (ck_model_collect_weights(m, &refs, &n)) return NULL;
    const ck_weight *w = NULL;
    for (int i = 0; i < n && !w; i++)
        if (refs[i].w->value - m->weight_block == offset) w = refs[i].w;
    ck_free(refs);
    return w;
}

/* Where variable `index` lives: a slot span, or a scalar (kind 0 iterations,
 * 1 learning_rate, 2 u_product). */
typedef struct opt_var_ref {
    float *span;
    int scalar;
    ck_shape shape;
    const char *name;
} opt_var_ref;

static ck_status locate(const ck_model *m, int index, opt_var_ref *r)
{
    const ck_optimizer *o = optimizer_of(m);
    int n = ck_model_optimizer_variable_count(m);
    if (!o) return ck_fail(CK_ERR_STATE, "model '%s' has no built optimizer", m ? m->base.name : "?");
    if (index < 0 || index >= n)
        return ck_fail(CK_ERR_ARG, "model '%s': optimizer variable %d of %d", m->base.name, index, n);
    *r = (opt_var_ref){.span = NULL, .scalar = -1, .shape = {.rank = 0}};
    if (index < scalar_count(o)) {
        r->scalar = index, r->name = index ? "learning_rate" : "iteration";
        return CK_OK;
    }
    if (index == n - 1 && o->kind == CK_OPT_NADAM) {
        r->scalar = 2, r->name = "u_product";
        return CK_OK;
    }
    int slot, var;
    slot_at(o, index - scalar_count(o), &slot, &var);
    int64_t k = 0;
    for (int v = 0; v < var; v++) k += o->vars[v].size;
    const ck_weight *w = weight_at(m, o->vars[var].offset);
    r->span = o->slots + (int64_t)slot * o->n_params + k;
    r->shape = w ? w->shape : ck_shape_1(o->vars[var].size);
    r->name = "slot";
    return CK_OK;
}

ck_status ck_model_optimizer_variable(const ck_model *m, int index, ck_shape *shape, float *values)
{
    opt_var_ref r;
    ck_status st = locate(m, index, &r);
    if (st) return st;
    *shape = r.shape;
    if (!values) return CK_OK;
    const ck_optimizer *o = optimizer_of(m);
    if (r.span) memcpy(values, r.span, (size_t)values_of(&r.shape) * sizeof *values);
    else values[0] = r.scalar == 0 ? (float)o->iterations : r.scalar == 1 ? (float)o->learning_rate : (float)o->u_product;
    return CK_OK;
}

/* The name each Keras optimizer gives a slot (add_optimizer_variables' names),
 * by ckeras's slot index. */
static const char *slot_name(const ck_optimizer *o, int slot)
{
    static const char *const names[CK_OPT_COUNT][3] = {
        [CK_OPT_SGD] = {"momentum"}, [CK_OPT_ADAM] = {"momentum", "velocity", "velocity_hat"},
        [CK_OPT_ADAMW] = {"momentum", "velocity", "velocity_hat"}, [CK_OPT_RMSPROP] = {"velocity", "momentum", "average_gradient"},
        [CK_OPT_ADAGRAD] = {"accumulator"}, [CK_OPT_ADADELTA] = {"accumulated_grad", "accumulated_delta_var"},
        [CK_OPT_ADAMAX] = {"momentum", "norm"}, [CK_OPT_NADAM] = {"momentum", "velocity"}, [CK_OPT_LION] = {"momentum"},
    };
    /* RMSprop without momentum keeps its average gradient in slot 1 */
    if (o->kind == CK_OPT_RMSPROP && slot == 1 && o->momentum <= 0) slot = 2;
    const char *n = (unsigned)o->kind < CK_OPT_COUNT && slot < 3 ? names[o->kind][slot] : NULL;
    return n ? n : "var";
}

ck_status ck_model_optimizer_variable_name(const ck_model *m, int index, char *out, size_t cap)
{
    opt_var_ref r;
    ck_status st = locate(m, index, &r);
    if (st) return st;
    if (!r.span) {
        snprintf(out, cap, "%s", r.name);
        return CK_OK;
    }
    const ck_optimizer *o = optimizer_of(m);
    int slot, var;
    slot_at(o, index - scalar_count(o), &slot, &var);
    const ck_weight *w = weight_at(m, o->vars[var].offset);
    /* add_variable_from_reference: "<variable path, '/' as '_'>_<slot name>" */
    size_t n = 0;
    for (const char *p = w ? w->path : "var"; *p && n + 1 < cap; p++) out[n++] = *p == '/' ? '_' : *p;
    snprintf(out + n, cap - n, "_%s", slot_name(o, slot));
    return CK_OK;
}

const char *ck_model_optimizer_class(const ck_model *m)
{
    const ck_optimizer *o = optimizer_of(m);
    return o ? ck_optimizer_class_name(o->kind) : NULL;
}

ck_status ck_model_set_optimizer_variable(ck_model *m, int index, const ck_shape *shape, const float *values)
{
    opt_var_ref r;
    ck_status st = locate(m, index, &r);
    if (st) return st;
    if (values_of(shape) != values_of(&r.shape))
        return ck_fail(CK_ERR_SHAPE, "model '%s': optimizer variable %d (%s) has %lld values, not %lld", m->base.name,
                       index, r.name, (long long)values_of(&r.shape), (long long)values_of(shape));
    ck_optimizer *o = &((ck_compiled *)m->engine)->opt;
    if (r.span) memcpy(r.span, values, (size_t)values_of(&r.shape) * sizeof *values);
    else if (r.scalar == 0) o->iterations = (int64_t)values[0];
    else if (r.scalar == 1) o->learning_rate = values[0];
    else o->u_product = values[0];
    return CK_OK;
}

/* ---- compile_config, as Keras's Trainer.get_compile_config serializes it ----------- */
/* A hyper-parameter Keras keeps as a float32 variable or attribute, written as
 * the double Python prints for it (0.01 -> 0.009999999776482582). */
static json_t *keras_float(double v) { return isnan(v) ? json_null() : json_real((double)(float)v); }

/* A number as the Python literal a user passes: step counts as integers (Keras
 * writes back the int it was given), rates as floats. */
static json_t *py_count(double v) { return v == floor(v) && fabs(v) < 1e15 ? json_integer((json_int_t)v) : json_real(v); }

/* LearningRateSchedule.get_config of each schedule ckeras runs
 * (keras/src/optimizers/schedules/learning_rate_schedule.py), in its key order. */
static json_t *schedule_json(const ck_schedule *s)
{
    json_t *c = json_object();
    const char *cls = NULL;
    switch (s->kind) {
    case CK_SCHED_EXPONENTIAL:
    case CK_SCHED_INVERSE_TIME:
        cls = s->kind == CK_SCHED_EXPONENTIAL ? "ExponentialDecay" : "InverseTimeDecay";
        json_object_set_new(c, "initial_learning_rate", json_real(s->initial));
        json_object_set_new(c, "decay_steps", py_count(s->decay_steps));
        json_object_set_new(c, "decay_rate", json_real(s->decay_rate));
        json_object_set_new(c, "staircase", json_boolean(s->staircase));
        json_object_set_new(c, "name", json_string(cls));
        break;
    case CK_SCHED_COSINE:
        cls = "CosineDecay";
        json_object_set_new(c, "initial_learning_rate", json_real(s->initial));
        json_object_set_new(c, "decay_steps", py_count(s->decay_steps));
        json_object_set_new(c, "alpha", json_real(s->alpha));
        json_object_set_new(c, "name", json_string(cls));
        json_object_set_new(c, "warmup_target", isnan(s->warmup_target) ? json_null() : json_real(s->warmup_target));
        json_object_set_new(c, "warmup_steps", py_count(s->warmup_steps));
        break;
    case CK_SCHED_PIECEWISE: {
        cls = "PiecewiseConstantDecay";
        json_t *b = json_array(), *v = json_array();
        for (int i = 0; i < s->n_boundaries; i++) json_array_append_new(b, py_count(s->boundaries[i]));
        for (int i = 0; i <= s->n_boundaries; i++) json_array_append_new(v, json_real(s->values[i]));
        json_object_set_new(c, "boundaries", b);
        json_object_set_new(c, "values", v);
        json_object_set_new(c, "name", json_string("PiecewiseConstant"));
        break;
    }
    default:
        json_decref(c);
        return NULL;
    }
    return json_pack("{s:s, s:s, s:o, s:n}", "module", "keras.optimizers.schedules", "class_name", cls, "config", c,
                     "registered_name");
}

/* Optimizer.get_config (keras/src/optimizers/base_optimizer.py) and each class's
 * own keys after it; a schedule in place of the rate. */
static json_t *optimizer_json(const ck_optimizer *o)
{
    json_t *rate = o->schedule.kind != CK_SCHED_NONE ? schedule_json(&o->schedule) : keras_float(o->learning_rate);
    if (!rate) return NULL;
    const char *cls = ck_optimizer_class_name(o->kind);
    char name[CK_STR_MAX];
    ck_snake_case(cls, name, sizeof name);
    json_t *c = json_object();
    json_object_set_new(c, "name", json_string(name));
    json_object_set_new(c, "learning_rate", rate);
    /* a Python float attribute, not a variable: written as given */
    json_object_set_new(c, "weight_decay", (o->weight_decay == 0 && o->kind != CK_OPT_ADAMW) || isnan(o->weight_decay)
                                               ? json_null() : json_real(o->weight_decay));
    json_object_set_new(c, "clipnorm", keras_float(o->clipnorm));
    json_object_set_new(c, "global_clipnorm", keras_float(o->global_clipnorm));
    json_object_set_new(c, "clipvalue", keras_float(o->clipvalue));
    json_object_set_new(c, "use_ema", json_false());
    json_object_set_new(c, "ema_momentum", json_real(0.99));
    json_object_set_new(c, "ema_overwrite_frequency", json_null());
    json_object_set_new(c, "loss_scale_factor", json_null());
    json_object_set_new(c, "gradient_accumulation_steps", json_null());
    switch (o->kind) {
    case CK_OPT_SGD:
        json_object_set_new(c, "momentum", json_real(o->momentum));
        json_object_set_new(c, "nesterov", json_boolean(o->nesterov));
        break;
    case CK_OPT_RMSPROP:
        json_object_set_new(c, "rho", json_real(o->rho));
        json_object_set_new(c, "momentum", json_real(o->momentum));
        json_object_set_new(c, "epsilon", json_real(o->epsilon));
        json_object_set_new(c, "centered", json_boolean(o->centered));
        break;
    case CK_OPT_ADAGRAD:
        json_object_set_new(c, "initial_accumulator_value", json_real(o->initial_accumulator_value));
        json_object_set_new(c, "epsilon", json_real(o->epsilon));
        break;
    case CK_OPT_ADADELTA:
        json_object_set_new(c, "rho", json_real(o->rho));
        json_object_set_new(c, "epsilon", json_real(o->epsilon));
        break;
    case CK_OPT_LION:
        json_object_set_new(c, "beta_1", json_real(o->beta_1));
        json_object_set_new(c, "beta_2", json_real(o->beta_2));
        break;
    default: /* Adam, AdamW, Adamax, Nadam */
        json_object_set_new(c, "beta_1", json_real(o->beta_1));
        json_object_set_new(c, "beta_2", json_real(o->beta_2));
        json_object_set_new(c, "epsilon", json_real(o->epsilon));
        if (o->kind == CK_OPT_ADAM || o->kind == CK_OPT_ADAMW) json_object_set_new(c, "amsgrad", json_boolean(o->amsgrad));
    }
    return json_pack("{s:s, s:s, s:o, s:n}", "module", "keras.optimizers", "class_name", cls, "config", c,
                     "registered_name");
}

/* One loss as compile() got it: the name as written, or the object Keras's
 * serialize_keras_object makes of a loss class (Loss.get_config plus each
 * class's own keys, keras/src/losses/losses.py). Keras 3.15's Huber.get_config
 * has no delta (so its delta does not survive Keras's own save), and ckeras
 * writes what Keras writes. */
static json_t *loss_json(const ck_loss *l)
{
    if (!l->as_object) return json_string(l->given);
    json_t *c = json_object();
    json_object_set_new(c, "name", json_string(l->kind == CK_LOSS_HUBER ? "huber_loss" : ck_loss_name(l->kind)));
    json_object_set_new(c, "reduction", json_string("sum_over_batch_size"));
    if (l->kind == CK_LOSS_BINARY_CE || l->kind == CK_LOSS_CATEGORICAL_CE) {
        json_object_set_new(c, "from_logits", json_boolean(l->from_logits));
        json_object_set_new(c, "label_smoothing", json_real(l->label_smoothing));
        json_object_set_new(c, "axis", json_integer(-1));
    } else if (l->kind == CK_LOSS_SPARSE_CE) {
        json_object_set_new(c, "from_logits", json_boolean(l->from_logits));
        json_object_set_new(c, "ignore_class", json_null());
    }
    return json_pack("{s:s, s:s, s:o, s:n}", "module", "keras.losses", "class_name", ck_loss_class_name(l->kind),
                     "config", c, "registered_name");
}

/* "accuracy, mae" as Keras's list ["accuracy", "mae"]; NULL for a metric object
 * ("Precision()"), which Keras would serialize whole. */
static json_t *metric_list(const char *text)
{
    json_t *list = json_array();
    for (const char *p = text; p && *p;) {
        while (*p == ' ' || *p == ',') p++;
        size_t n = strcspn(p, ",");
        while (n && p[n - 1] == ' ') n--;
        if (memchr(p, '(', n)) {
            json_decref(list);
            return NULL;
        }
        if (n) json_array_append_new(list, json_stringn(p, n));
        p += n;
        while (*p == ' ') p++;
    }
    return list;
}

/* compile(metrics=...) or weighted_metrics: None, one output's list, or one
 * list per output. *ok turns false where Keras's form cannot be written. */
static json_t *metrics_json(int n_given, char *const *texts, int n_out, bool *ok)
{
    if (!n_given) return json_null();
    if (n_out == 1) {
        json_t *l = metric_list(texts[0]);
        *ok = *ok && l;
        return l ? l : json_null();
    }
    json_t *all = json_array();
    for (int i = 0; i < n_out; i++) {
        json_t *l = metric_list(texts[i]);
        *ok = *ok && l;
        json_array_append_new(all, l ? l : json_null());
    }
    return all;
}

ck_status ck_model_compile_config(const ck_model *m, char **json_text)
{
    *json_text = NULL;
    const ck_compiled *c = m ? m->engine : NULL;
    json_t *cfg = json_object();
    json_t *opt = c ? optimizer_json(&c->opt) : NULL;
    bool ok = opt && c->has_loss;
    json_t *loss = NULL, *weights = json_null(), *metrics = NULL, *weighted = NULL;
    if (ok) {
        if (c->given.n_losses == 1) {
            loss = loss_json(&c->out[0].loss);
        } else {
            loss = json_array();
            for (int i = 0; i < c->n_out; i++) json_array_append_new(loss, loss_json(&c->out[i].loss));
        }
        if (c->given.loss_weights) {
            json_decref(weights);
            weights = json_array();
            for (int i = 0; i < c->n_out; i++) json_array_append_new(weights, json_real(c->out[i].weight));
        }
        metrics = metrics_json(c->given.n_metrics, c->given.metrics, c->n_out, &ok);
        weighted = metrics_json(c->given.n_weighted, c->given.weighted, c->n_out, &ok);
    }
    /* Only a config Keras would rebuild into the same training is written;
     * otherwise {} (Keras's value for a model never compiled). */
    if (ok) {
        json_object_set_new(cfg, "optimizer", opt);
        json_object_set_new(cfg, "loss", loss);
        json_object_set_new(cfg, "loss_weights", weights);
        json_object_set_new(cfg, "metrics", metrics);
        json_object_set_new(cfg, "weighted_metrics", weighted);
        json_object_set_new(cfg, "run_eagerly", json_false());
        json_object_set_new(cfg, "steps_per_execution", json_integer(1));
        json_object_set_new(cfg, "jit_compile", json_true());
    } else {
        json_decref(opt);
        json_decref(loss);
        json_decref(weights);
        json_decref(metrics);
        json_decref(weighted);
    }
    *json_text = json_dumps(cfg, JSON_PRESERVE_ORDER);
    json_decref(cfg);
    return *json_text ? CK_OK : CK_ERR_NOMEM;
}
