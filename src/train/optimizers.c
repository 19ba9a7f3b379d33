/*
 * Keras 3 optimizer update rules. Each rule is transcribed from update_step() in
 * keras/src/optimizers/<name>.py, in float32 like Keras's variables, and runs as
 * one loop over a contiguous span of parameters (adjacent variables are merged
 * into one span when no per-variable clipping is asked for). apply() order is
 * Keras's: clip gradients, decoupled weight decay, update, iterations += 1.
 */
#include "train/optimizers.h"
#include "graph/config.h"
#include "train/spec.h"
#include "kernels/tensor_ops.h"

#include <jansson.h>
#include <math.h>
#include <string.h>
#include <strings.h>

#define CK_PI 3.14159265358979323846

static const char *const k_class[CK_OPT_COUNT] = {
    "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam", "Lion",
};

const char *ck_optimizer_class_name(ck_opt_kind kind)
{
    return (unsigned)kind < CK_OPT_COUNT ? k_class[kind] : "?";
}

/* Keras's constructor defaults of each class. */
static void set_defaults(ck_optimizer *o, ck_opt_kind kind)
{
    *o = (ck_optimizer){
        .kind = kind, .learning_rate = 0.001, .beta_1 = 0.9, .beta_2 = 0.999,
        .epsilon = 1e-7, .rho = 0.9, .initial_accumulator_value = 0.1,
        .weight_decay = NAN, .clipnorm = NAN, .clipvalue = NAN, .global_clipnorm = NAN,
        .u_product = 1.0,
    };
    if (kind == CK_OPT_SGD)
        o->learning_rate = 0.01;
    if (kind == CK_OPT_ADAMW)
        o->weight_decay = 0.004;
    if (kind == CK_OPT_ADADELTA)
        o->rho = 0.95;
    if (kind == CK_OPT_LION)
        o->beta_2 = 0.99;
}

/* ---- schedules ---------------------------------------------------------------- */

double ck_schedule_value(const ck_schedule *s, double step)
{
    double p;
    switch (s->kind) {
    case CK_SCHED_EXPONENTIAL:
        p = step / s->decay_steps;
        if (s->staircase)
            p = floor(p);
        return s->initial * pow(s->decay_rate, p);
    case CK_SCHED_INVERSE_TIME:
        p = step / s->decay_steps;
        if (s->staircase)
            p = floor(p);
        return s->initial / (1 + s->decay_rate * p);
    case CK_SCHED_COSINE: { /* linear warmup to warmup_target first, when given */
        bool warmup = !isnan(s->warmup_target);
        double w = warmup ? s->warmup_steps : 0, from = warmup ? s->warmup_target : s->initial;
        step = fmin(step, s->decay_steps + w);
        if (warmup && step < w)
            return (s->warmup_target - s->initial) * (step / w) + s->initial;
        double c = 0.5 * (1 + cos(CK_PI * ((step - w) / s->decay_steps)));
        return from * ((1 - s->alpha) * c + s->alpha);
    }
    case CK_SCHED_PIECEWISE: {
        int i = 0; /* values[i] while step <= boundaries[i] */
        while (i < s->n_boundaries && step > s->boundaries[i])
            i++;
        return s->values[i];
    }
    default:
        return s->initial;
    }
}

static ck_status number_list(json_t *v, double *out, int max, int *n, const char *what)
{
    if (!json_is_array(v) || (int)json_array_size(v) > max)
        return ck_fail(CK_ERR_CONFIG, "PiecewiseConstantDecay: '%s' must be a list of at most %d numbers", what, max);
    *n = (int)json_array_size(v);
    for (int i = 0; i < *n; i++) {
        json_t *x = json_array_get(v, (size_t)i);
        if (!json_is_number(x))
            return ck_fail(CK_ERR_CONFIG, "PiecewiseConstantDecay: '%s' must hold numbers", what);
        out[i] = json_number_value(x);
    }
    return CK_OK;
}

static ck_status schedule_field(ck_schedule *s, const char *key, json_t *v)
{
    int n = 0;
    if (strcmp(key, "boundaries") == 0)
        return number_list(v, s->boundaries, CK_SCHED_MAX_PIECES, &s->n_boundaries, key);
    if (strcmp(key, "values") == 0) {
        ck_status st = number_list(v, s->values, CK_SCHED_MAX_PIECES + 1, &n, key);
        if (st == CK_OK && n != s->n_boundaries + 1)
            return ck_fail(CK_ERR_CONFIG, "PiecewiseConstantDecay: 'values' must have one more "
                           "item than 'boundaries'");
        return st;
    }
    if (strcmp(key, "staircase") == 0 && json_is_boolean(v)) {
        s->staircase = json_is_true(v);
        return CK_OK;
    }
    if (strcmp(key, "name") == 0)
        return CK_OK;
    if (strcmp(key, "warmup_target") == 0 && json_is_null(v))
        return CK_OK;
    if (!json_is_number(v))
        return ck_fail(CK_ERR_CONFIG, "schedule: bad value for '%s'", key);
    double x = json_number_value(v);
    if (strcmp(key, "initial_learning_rate") == 0) s->initial = x;
    else if (strcmp(key, "decay_steps") == 0) s->decay_steps = x;
    else if (strcmp(key, "decay_rate") == 0) s->decay_rate = x;
    else if (strcmp(key, "alpha") == 0) s->alpha = x;
    else if (strcmp(key, "warmup_target") == 0 && s->kind == CK_SCHED_COSINE) s->warmup_target = x;
    else if (strcmp(key, "warmup_steps") == 0 && s->kind == CK_SCHED_COSINE) s->warmup_steps = x;
    else return ck_fail(CK_ERR_CONFIG, "schedule: unknown keyword '%s'", key);
    return CK_OK;
}

/* "ExponentialDecay(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.9)" */
static ck_status parse_schedule(const char *name, size_t n, const char *kwargs, ck_schedule *s)
{
    static const struct { const char *name; ck_sched_kind kind; } k[] = {
        {"ExponentialDecay", CK_SCHED_EXPONENTIAL}, {"PiecewiseConstantDecay", CK_SCHED_PIECEWISE},
        {"CosineDecay", CK_SCHED_COSINE}, {"InverseTimeDecay", CK_SCHED_INVERSE_TIME},
    };
    *s = (ck_schedule){.warmup_target = NAN};
    for (int i = 0; i < CK_N_OF(k); i++)
        if (strlen(k[i].name) == n && strncmp(name, k[i].name, n) == 0)
            s->kind = k[i].kind;
    if (s->kind == CK_SCHED_NONE)
        return ck_fail(CK_ERR_CONFIG, "unknown learning rate schedule '%.*s'", (int)n, name);
    json_t *obj = NULL;
    ck_status st = ck_kwargs_parse_args(kwargs, ck_spec_positional("schedule", name, n), &obj);
    const char *key;
    json_t *v;
    if (st == CK_OK)
        json_object_foreach(obj, key, v) {
            if ((st = schedule_field(s, key, v)) != CK_OK)
                break;
        }
    json_decref(obj);
    if (st == CK_OK && s->kind != CK_SCHED_PIECEWISE && !(s->decay_steps > 0))
        st = ck_fail(CK_ERR_CONFIG, "%.*s: decay_steps must be positive", (int)n, name);
    return st;
}

ck_status ck_schedule_parse(const char *spec, ck_schedule *s)
{
    const char *open = strchr(spec, '('), *close = strrchr(spec, ')');
    while (*spec == ' ')
        spec++;
    if (!open || !close || close < open)
        return ck_fail(CK_ERR_CONFIG, "'%s' is not a learning rate schedule such as "
                       "ExponentialDecay(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.9)", spec);
    char *kw = ck_strdup(open + 1);
    if (!kw)
        return ck_fail(CK_ERR_NOMEM, "schedule: out of memory");
    kw[close - open - 1] = '\0';
    size_t n = (size_t)(open - spec);
    while (n && spec[n - 1] == ' ')
        n--;
    ck_status st = parse_schedule(spec, n, kw, s);
    ck_free(kw);
    return st;
}

/* ---- optimizer keyword arguments ---------------------------------------------- */

static bool set_number(ck_optimizer *o, const char *key, double x)
{
    static const struct { const char *key; size_t off; } f[] = {
        {"learning_rate", offsetof(ck_optimizer, learning_rate)},
        {"beta_1", offsetof(ck_optimizer, beta_1)}, {"beta_2", offsetof(ck_optimizer, beta_2)},
        {"epsilon", offsetof(ck_optimizer, epsilon)}, {"momentum", offsetof(ck_optimizer, momentum)},
        {"rho", offsetof(ck_optimizer, rho)},
        {"initial_accumulator_value", offsetof(ck_optimizer, initial_accumulator_value)},
        {"weight_decay", offsetof(ck_optimizer, weight_decay)},
        {"clipnorm", offsetof(ck_optimizer, clipnorm)}, {"clipvalue", offsetof(ck_optimizer, clipvalue)},
        {"global_clipnorm", offsetof(ck_optimizer, global_clipnorm)},
    };
    for (int i = 0; i < CK_N_OF(f); i++)
        if (strcmp(key, f[i].key) == 0) {
            *(double *)((char *)o + f[i].off) = x;
            return true;
        }
    return false;
}

static ck_status apply_opt_kwargs(ck_optimizer *o, const char *spec, json_t *obj)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        bool ok;
        if (json_is_boolean(v)) {
            bool b = json_is_true(v);
            ok = true;
            if (strcmp(key, "nesterov") == 0) o->nesterov = b;
            else if (strcmp(key, "amsgrad") == 0) o->amsgrad = b;
            else if (strcmp(key, "centered") == 0) o->centered = b;
            else if (strcmp(key, "use_ema") == 0) ok = !b;
            else ok = false;
        } else if (json_is_null(v)) {
            /* None for loss scaling and gradient accumulation is Keras's "off"
             * (every Keras 3 optimizer's config carries both keys) */
            ok = (set_number(o, key, NAN) && strcmp(key, "learning_rate") != 0) ||
                 strcmp(key, "loss_scale_factor") == 0 || strcmp(key, "gradient_accumulation_steps") == 0;
        } else if (json_is_number(v)) {
            ok = set_number(o, key, json_number_value(v));
        } else {
            ok = strcmp(key, "name") == 0 && json_is_string(v);
        }
        if (!ok)
            return ck_fail(CK_ERR_CONFIG, "optimizer '%s': unknown keyword or unsupported value '%s'",
                           spec, key);
    }
    int clips = !isnan(o->clipnorm) + !isnan(o->clipvalue) + !isnan(o->global_clipnorm);
    if (clips > 1)
        return ck_fail(CK_ERR_CONFIG, "optimizer '%s': only one of clipnorm, clipvalue and "
                       "global_clipnorm can be set", spec);
    if (!(o->learning_rate >= 0) && o->schedule.kind == CK_SCHED_NONE)
        return ck_fail(CK_ERR_CONFIG, "optimizer '%s': learning_rate must be >= 0", spec);
    if (o->momentum < 0 || o->momentum > 1)
        return ck_fail(CK_ERR_CONFIG, "optimizer '%s': momentum must be in [0, 1]", spec);
    return CK_OK;
}

/* Cuts "learning_rate=Schedule(...)" out of the kwargs (the codec reads plain
 * literals only) and parses it; also a schedule given as the first positional
 * argument (Adam(ExponentialDecay(...), 0.8)), which *positional says, so that
 * the arguments after it name the parameters after learning_rate. kw is
 * modified in place. */
static ck_status extract_schedule(char *kw, ck_schedule *s, bool *positional)
{
    char *at = strstr(kw, "learning_rate"), *name;
    char *first = kw + strspn(kw, " ");
    *positional = *first >= 'A' && *first <= 'Z' && strchr(first, '(') == first + strcspn(first, "(,=");
    if (*positional) {
        at = name = first;
    } else {
        if (!at)
            return CK_OK;
        char *eq = strchr(at, '=');
        if (!eq)
            return CK_OK;
        name = eq + 1;
    }
    while (*name == ' ')
        name++;
    char *open = name;
    while ((*open >= 'A' && *open <= 'Z') || (*open >= 'a' && *open <= 'z'))
        open++;
    if (open == name || *open != '(')
        return CK_OK;
    int depth = 0;
    char *close = open;
    for (; *close; close++) {
        depth += (*close == '(' || *close == '[') - (*close == ')' || *close == ']');
        if (depth == 0)
            break;
    }
    if (!*close)
        return ck_fail(CK_ERR_CONFIG, "learning rate schedule: missing ')'");
    *close = '\0';
    ck_status st = parse_schedule(name, (size_t)(open - name), open + 1, s);
    /* blank the whole "learning_rate=...)" item so the rest parses as kwargs */
    memset(at, ' ', (size_t)(close - at + 1));
    char *comma = close + 1;
    while (*comma == ' ')
        comma++;
    if (*comma == ',')
        *comma = ' ';
    return st;
}

ck_status ck_optimizer_parse(const char *spec, ck_optimizer *out)
{
    if (!spec || !out)
        return ck_fail(CK_ERR_ARG, "ck_optimizer_parse: NULL argument");
    const char *paren = strchr(spec, '(');
    size_t n = paren ? (size_t)(paren - spec) : strlen(spec);
    int kind = -1;
    for (int k = 0; k < CK_OPT_COUNT; k++)
        if (strlen(k_class[k]) == n && strncasecmp(spec, k_class[k], n) == 0)
            kind = k;
    if (kind < 0)
        return ck_fail(CK_ERR_CONFIG, "unknown optimizer '%s'", spec);
    set_defaults(out, (ck_opt_kind)kind);
    if (!paren)
        return CK_OK;
    const char *close = strrchr(paren, ')');
    if (!close || close[1] != '\0')
        return ck_fail(CK_ERR_CONFIG, "optimizer '%s': missing closing parenthesis", spec);
    char *kw = ck_strdup(paren + 1);
    if (!kw)
        return ck_fail(CK_ERR_NOMEM, "optimizer: out of memory");
    kw[close - paren - 1] = '\0';
    json_t *obj = NULL;
    bool schedule_first;
    ck_status st = extract_schedule(kw, &out->schedule, &schedule_first);
    const char *const *params = ck_spec_positional("optimizer", spec, n);
    if (params && schedule_first) /* learning_rate, Keras's first parameter, is taken */
        params = params[0] ? params + 1 : NULL;
    if (st == CK_OK)
        st = ck_kwargs_parse_args(kw, params, &obj);
    if (st == CK_OK)
        st = apply_opt_kwargs(out, spec, obj);
    else
        st = ck_fail_prefix(st, "optimizer '%s': ", spec);
    json_decref(obj);
    ck_free(kw);
    return st;
}

/* ---- state -------------------------------------------------------------------- */

static int slot_count(const ck_optimizer *o)
{
    switch (o->kind) {
    case CK_OPT_SGD: return o->momentum != 0;
    case CK_OPT_ADAM:
    case CK_OPT_ADAMW: return 2 + o->amsgrad;
    case CK_OPT_RMSPROP: return 1 + (o->momentum > 0) + o->centered;
    case CK_OPT_ADAGRAD:
    case CK_OPT_LION: return 1;
    default: return 2;
    }
}

ck_status ck_optimizer_build(ck_optimizer *o, const ck_opt_var *vars, int n_vars)
{
    ck_optimizer_release(o);
    int64_t total = 0;
    for (int i = 0; i < n_vars; i++)
        if (!ck_add_ok(total, vars[i].size, &total))
            return ck_fail(CK_ERR_OVERFLOW, "optimizer: too many parameters");
    o->vars = ck_malloc((size_t)(n_vars ? n_vars : 1) * sizeof *o->vars);
    o->n_slots = slot_count(o);
    o->slots = ck_calloc((size_t)(total * o->n_slots + 1), sizeof(float));
    o->scratch = ck_malloc((size_t)(total + 1) * sizeof(float));
    if (!o->vars || !o->slots || !o->scratch) {
        ck_optimizer_release(o);
        return ck_fail(CK_ERR_NOMEM, "optimizer: out of memory for %lld parameters", (long long)total);
    }
    memcpy(o->vars, vars, (size_t)n_vars * sizeof *vars);
    o->n_vars = n_vars;
    o->n_params = total;
    if (o->kind == CK_OPT_ADAGRAD)
        for (int64_t i = 0; i < total; i++)
            o->slots[i] = (float)o->initial_accumulator_value;
    return CK_OK;
}

void ck_optimizer_release(ck_optimizer *o)
{
    ck_free(o->vars);
    ck_free(o->slots);
    ck_free(o->scratch);
    o->vars = NULL, o->slots = NULL, o->scratch = NULL;
    o->n_vars = 0, o->n_params = 0;
}

int64_t ck_optimizer_param_count(const ck_optimizer *o)
{
    /* a schedule replaces the learning_rate variable */
    int64_t scalars = 1 + (o->schedule.kind == CK_SCHED_NONE) + (o->kind == CK_OPT_NADAM);
    return scalars + (int64_t)slot_count(o) * o->n_params;
}

double ck_optimizer_current_lr(const ck_optimizer *o)
{
    if (o->schedule.kind != CK_SCHED_NONE)
        return (float)ck_schedule_value(&o->schedule, (double)o->iterations);
    return (float)o->learning_rate;
}

/* ---- gradient clipping into o->scratch --------------------------------------------- */

static double sum_squares(const float *g, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s += (double)g[i] * g[i];
    return s;
}

/* Returns the gradient to use: grads itself, or the clipped copy in scratch
 * laid out by variable (scratch index = position in the concatenated vars). */
static const float *clip_gradients(ck_optimizer *o, const float *grads, bool *packed)
{
    *packed = false;
    bool norm = o->clipnorm > 0, global = o->global_clipnorm > 0, value = o->clipvalue > 0;
    if (!norm && !global && !value)
        return grads;
    double gscale = 1;
    if (global) {
        double ss = 0;
        for (int v = 0; v < o->n_vars; v++)
            ss += sum_squares(grads + o->vars[v].offset, o->vars[v].size);
        double gn = sqrt(ss), c = o->global_clipnorm;
        gscale = c * fmin(1.0 / gn, 1.0 / c) + (gn - gn);
    }
    int64_t k = 0;
    for (int v = 0; v < o->n_vars; v++) {
        const float *g = grads + o->vars[v].offset;
        int64_t n = o->vars[v].size;
        double scale = gscale;
        if (norm) { /* g * clipnorm / max(||g||, clipnorm) */
            double l2 = sqrt(sum_squares(g, n));
            scale = o->clipnorm / fmax(l2, o->clipnorm);
        }
        float lo = (float)-o->clipvalue, hi = (float)o->clipvalue;
        for (int64_t i = 0; i < n; i++, k++)
            o->scratch[k] = value ? fminf(fmaxf(g[i], lo), hi) : (float)(g[i] * scale);
    }
    *packed = true;
    return o->scratch;
}

/* ---- the update rules: one span of n parameters ------------------------------------ */

typedef struct step_ctx {
    float lr, t;            /* learning rate; local step = iterations + 1     */
    float b1, b2, eps;
    float alpha;            /* Adam's bias-corrected rate                     */
    float b1_power, b2_power;
    float u_t, u_t_1, u_prod, u_prod_1; /* Nadam                               */
} step_ctx;

/* The loops vectorise (sqrtf included: the library builds with -fno-math-errno),
 * for AVX2 and AVX-512 too (clones round as the baseline: no FMA contraction). */
CK_SIMD_CLONES static void update_span(const ck_optimizer *o, const step_ctx *c, float *w, const float *g,
                        float *s0, float *s1, float *s2, int64_t n)
{
    /* locals, not c->..., so stores through w cannot force reloads (aliasing) */
    const float lr = c->lr, b1 = c->b1, b2 = c->b2, eps = c->eps, alpha = c->alpha;
    switch (o->kind) {
    case CK_OPT_SGD: {
        const float mom = (float)o->momentum;
        if (!s0) {
            for (int64_t i = 0; i < n; i++)
                w[i] -= g[i] * lr;
        } else if (o->nesterov) {
            for (int64_t i = 0; i < n; i++) {
                s0[i] = s0[i] * mom - g[i] * lr;
                w[i] += s0[i] * mom - g[i] * lr;
            }
        } else {
            for (int64_t i = 0; i < n; i++) {
                s0[i] = s0[i] * mom - g[i] * lr;
                w[i] += s0[i];
            }
        }
        break;
    }
    case CK_OPT_ADAM:
    case CK_OPT_ADAMW:
        if (s2) { /* amsgrad: the running maximum of v */
            for (int64_t i = 0; i < n; i++) {
                s0[i] += (g[i] - s0[i]) * (1 - b1);
                s1[i] += (g[i] * g[i] - s1[i]) * (1 - b2);
                s2[i] = fmaxf(s2[i], s1[i]);
                w[i] -= (s0[i] * alpha) / (sqrtf(s2[i]) + eps);
            }
            break;
        }
        for (int64_t i = 0; i < n; i++) { /* the common case, a branch-free loop */
            s0[i] += (g[i] - s0[i]) * (1 - b1);
            s1[i] += (g[i] * g[i] - s1[i]) * (1 - b2);
            w[i] -= (s0[i] * alpha) / (sqrtf(s1[i]) + eps);
        }
        break;
    case CK_OPT_RMSPROP: {
        const float rho = (float)o->rho, mom = (float)o->momentum;
        float *avg = o->centered ? (o->momentum > 0 ? s2 : s1) : NULL;
        float *m = o->momentum > 0 ? s1 : NULL;
        for (int64_t i = 0; i < n; i++) {
            s0[i] = rho * s0[i] + (1 - rho) * (g[i] * g[i]);
            float den = s0[i] + eps;
            if (avg) {
                avg[i] = rho * avg[i] + (1 - rho) * g[i];
                den = s0[i] - avg[i] * avg[i] + eps;
            }
            float inc = lr * g[i] / sqrtf(den);
            if (m) {
                m[i] = mom * m[i] + inc;
                w[i] -= m[i];
            } else {
                w[i] -= inc;
            }
        }
        break;
    }
    case CK_OPT_ADAGRAD:
        for (int64_t i = 0; i < n; i++) {
            s0[i] += g[i] * g[i];
            w[i] -= lr * g[i] / sqrtf(s0[i] + eps);
        }
        break;
    case CK_OPT_ADADELTA: {
        const float rho = (float)o->rho;
        for (int64_t i = 0; i < n; i++) {
            s0[i] = rho * s0[i] + (1 - rho) * (g[i] * g[i]);
            float dv = -(sqrtf(s1[i] + eps) * g[i]) / sqrtf(s0[i] + eps);
            s1[i] = rho * s1[i] + (1 - rho) * (dv * dv);
            w[i] += lr * dv;
        }
        break;
    }
    case CK_OPT_ADAMAX:
        for (int64_t i = 0; i < n; i++) {
            s0[i] += (g[i] - s0[i]) * (1 - b1);
            s1[i] = fmaxf(b2 * s1[i], fabsf(g[i]));
            w[i] -= (lr * s0[i]) / ((1 - c->b1_power) * (s1[i] + eps));
        }
        break;
    case CK_OPT_NADAM:
        for (int64_t i = 0; i < n; i++) {
            s0[i] += (g[i] - s0[i]) * (1 - b1);
            s1[i] += (g[i] * g[i] - s1[i]) * (1 - b2);
            float mh = c->u_t_1 * s0[i] / (1 - c->u_prod_1) + (1 - c->u_t) * g[i] / (1 - c->u_prod);
            float vh = s1[i] / (1 - c->b2_power);
            w[i] -= (mh * lr) / (sqrtf(vh) + eps);
        }
        break;
    case CK_OPT_LION:
        for (int64_t i = 0; i < n; i++) {
            float u = s0[i] * b1 + g[i] * (1 - b1);
            w[i] -= lr * (float)((u > 0) - (u < 0));
            s0[i] = s0[i] * b2 + g[i] * (1 - b2);
        }
        break;
    default:
        break;
    }
}

static step_ctx make_ctx(ck_optimizer *o)
{
    step_ctx c = {.lr = (float)ck_optimizer_current_lr(o), .t = (float)(o->iterations + 1),
                  .b1 = (float)o->beta_1, .b2 = (float)o->beta_2, .eps = (float)o->epsilon};
    c.b1_power = powf(c.b1, c.t);
    c.b2_power = powf(c.b2, c.t);
    c.alpha = c.lr * sqrtf(1 - c.b2_power) / (1 - c.b1_power);
    if (o->kind == CK_OPT_NADAM) { /* _backend_update_step first advances u_product */
        o->u_product = (float)(o->u_product * o->beta_1 * (1.0 - 0.5 * pow(0.96, c.t)));
        c.u_t = c.b1 * (1.0f - 0.5f * powf(0.96f, c.t));
        c.u_t_1 = c.b1 * (1.0f - 0.5f * powf(0.96f, c.t + 1));
        c.u_prod = (float)o->u_product;
        c.u_prod_1 = c.u_prod * c.u_t_1;
    }
    return c;
}

ck_status ck_optimizer_step(ck_optimizer *o, float *weights, const float *grads)
{
    if (!o->slots)
        return ck_fail(CK_ERR_STATE, "optimizer: not built");
    bool packed;
    const float *g = clip_gradients(o, grads, &packed);
    step_ctx c = make_ctx(o);
    if (!isnan(o->weight_decay) && o->weight_decay != 0) {
        float wd = (float)o->weight_decay;
        for (int v = 0; v < o->n_vars; v++) {
            float *w = weights + o->vars[v].offset;
            for (int64_t i = 0; i < o->vars[v].size; i++)
                w[i] = w[i] - w[i] * wd * c.lr;
        }
    }
    int64_t k = 0, np = o->n_params;
    for (int v = 0; v < o->n_vars; v++) {
        int64_t off = o->vars[v].offset, n = o->vars[v].size;
        float *s0 = o->n_slots > 0 ? o->slots + k : NULL;
        float *s1 = o->n_slots > 1 ? o->slots + np + k : NULL;
        float *s2 = o->n_slots > 2 ? o->slots + 2 * np + k : NULL;
        update_span(o, &c, weights + off, packed ? g + k : g + off, s0, s1, s2, n);
        k += n;
    }
    o->iterations++;
    return CK_OK;
}
