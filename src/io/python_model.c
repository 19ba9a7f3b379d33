/* Evaluates the tree of Keras model code (python_parse.c). Values are Python's
 * literals plus Keras's objects: modules, layer classes, layers, symbolic
 * tensors, models, weight arrays (their shapes) and optimizer/loss/initializer
 * objects. Layers are made through the keyword codec (ck_layer_new with the
 * arguments written back as Python literals), so every class takes exactly its
 * Keras arguments; positional arguments follow Keras's __init__ order
 * (python_signatures.c). Names follow Keras's process-wide counters, including
 * the objects Keras makes behind the scenes (a Sequential's InputLayer and its
 * internal Functional), so a script with several models names its layers as
 * Keras does. */
#include "io/io.h"
#include "io/python_model.h"
#include "train/spec.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef enum vkind {
    V_NONE, V_BOOL, V_INT, V_FLOAT, V_STR, V_LIST, V_TUPLE, V_DICT,
    V_MODULE,   /* s: "keras.layers"; foreign: not Keras                   */
    V_FUNC,     /* s: what it makes ("layer", "keras.Sequential", "print") */
    V_METHOD,   /* s: method name, self: the object                        */
    V_LAYER, V_TENSOR, V_MODEL,
    V_ARRAY,    /* a weight array: its shape only                           */
    V_OBJ       /* an optimizer, loss, metric, initializer or regularizer   */
} vkind;

typedef struct value value;
struct value {
    vkind kind;
    bool b;
    bool foreign;        /* V_MODULE outside Keras (numpy...)                  */
    int64_t i;
    double f;
    const char *s;       /* STR text; MODULE path; FUNC kind; METHOD name; OBJ class */
    const char *cls;     /* FUNC "layer": the class; OBJ: its family            */
    value **items;       /* LIST, TUPLE; DICT as key, value pairs; OBJ: kwargs dict */
    int n, cap;
    ck_layer *layer;     /* LAYER                                               */
    value *config;       /* LAYER: its constructor's keyword arguments (a DICT) */
    ck_ktensor *tensor;  /* TENSOR                                              */
    ck_model *graph;     /* TENSOR: the functional graph it belongs to          */
    const char *input_kwargs; /* TENSOR made by keras.Input: its arguments    */
    ck_model *model;     /* MODEL                                               */
    ck_shape shape;      /* ARRAY                                               */
    value *self;         /* METHOD                                              */
};

typedef struct binding {
    const char *name;
    value *v;
} binding;

typedef struct uid {
    char prefix[CK_NAME_MAX];
    int next;
} uid;

typedef struct interp {
    const char *origin;
    bool show;
    int console_width;
    py_arena arena;      /* values and strings                                  */
    ck_buf out;
    binding *vars;
    int n_vars, cap_vars;
    uid *uids;           /* Keras's auto-name counters (backend get_uid)       */
    int n_uids, cap_uids;
    ck_model *graph;     /* the functional graph keras.Input calls add to       */
    ck_layer **layers;   /* every layer made: freed at the end unless a model owns it */
    int n_layers, cap_layers;
    ck_model **models;   /* every model and graph made                          */
    int n_models, cap_models;
    ck_model *last_model;
    int64_t loop_steps;  /* for-loop bodies run so far, against MAX_LOOP_STEPS  */
    /* keras.mixed_precision.set_global_policy's name ("" = float32): the dtype
     * of every layer made after it without a dtype of its own */
    char dtype_policy[24];
    ck_status error;
} interp;

/* A model script's loops build layers, not data: a script past this many loop
 * steps in all (nested loops multiply) is refused rather than left to run. */
#define MAX_LOOP_STEPS 1000000

/* ---- errors --------------------------------------------------------------------- */
static ck_status fail_at(interp *it, const py_node *at, ck_status st, const char *fmt, ...) CK_PRINTF(4, 5);
static ck_status fail_at(interp *it, const py_node *at, ck_status st, const char *fmt, ...)
{
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    it->error = ck_fail(st, "%s:%d:%d: %s", it->origin, at->line, at->col, msg);
    return it->error;
}

static ck_status unsupported(interp *it, const py_node *at, const char *what)
{
    return fail_at(it, at, CK_ERR_UNSUPPORTED, "unsupported Python: %s", what);
}

/* A failure of the library, placed at the call that caused it. */
static ck_status lib_fail(interp *it, const py_node *at, ck_status st)
{
    it->error = ck_fail_prefix(st ? st : CK_ERR_CONFIG, "%s:%d:%d: ", it->origin, at->line, at->col);
    return it->error;
}

/* ---- values ----------------------------------------------------------------------- */
static value *new_value(interp *it, vkind kind)
{
    value *v = py_alloc(&it->arena, sizeof *v);
    if (!v) it->error = CK_ERR_NOMEM;
    else v->kind = kind;
    return v;
}

static value none_value = {.kind = V_NONE};

static value *int_value(interp *it, int64_t i)
{
    value *v = new_value(it, V_INT);
    if (v) v->i = i;
    return v;
}

static char *arena_str(interp *it, const char *s)
{
    size_t n = strlen(s);
    char *d = py_alloc(&it->arena, n + 1);
    if (d) memcpy(d, s, n);
    else it->error = CK_ERR_NOMEM;
    return d;
}

static value *str_value(interp *it, const char *s)
{
    value *v = new_value(it, V_STR);
    if (v && !(v->s = arena_str(it, s))) return NULL;
    return v;
}

static ck_status append(interp *it, value *list, value *item)
{
    if (list->n == list->cap) {
        int cap = list->cap ? list->cap * 2 : 4;
        value **items = py_alloc(&it->arena, (size_t)cap * sizeof *items);
        if (!items) return it->error = CK_ERR_NOMEM;
        if (list->n) memcpy(items, list->items, (size_t)list->n * sizeof *items);
        list->items = items;
        list->cap = cap;
    }
    list->items[list->n++] = item;
    return CK_OK;
}

static value *dict_get(const value *d, const char *key)
{
    for (int i = 0; d && i + 1 < d->n; i += 2)
        if (d->items[i]->kind == V_STR && !strcmp(d->items[i]->s, key)) return d->items[i + 1];
    return NULL;
}

static const char *type_name(const value *v)
{
    static const char *const names[] = {"NoneType", "bool", "int", "float", "str", "list", "tuple", "dict",
                                        "module", "function", "method", "layer", "KerasTensor", "model",
                                        "array", "object"};
    return names[v->kind];
}

/* ---- repr and str, as Python prints them --------------------------------------------- */
/* repr(float): the shortest digits that read back the same, in Python's layout. */
static void put_float(ck_buf *b, double x)
{
    if (isnan(x)) return ck_buf_put(b, "nan");
    if (isinf(x)) return ck_buf_put(b, x < 0 ? "-inf" : "inf");
    char digits[40];
    int prec = 1;
    for (; prec <= 17; prec++) {
        snprintf(digits, sizeof digits, "%.*e", prec - 1, x);
        if (strtod(digits, NULL) == x) break;
    }
    char *e = strchr(digits, 'e');
    int exp10 = atoi(e + 1);
    *e = '\0';
    char mant[24];
    size_t m = 0;
    for (const char *p = digits; *p; p++)
        if (*p >= '0' && *p <= '9') mant[m++] = *p;
    mant[m] = '\0';
    while (m > 1 && mant[m - 1] == '0') mant[--m] = '\0';
    if (signbit(x)) ck_buf_put(b, "-");
    if (exp10 < -4 || exp10 >= 16) {
        ck_buf_putn(b, mant, 1);
        if (m > 1) ck_buf_printf(b, ".%s", mant + 1);
        ck_buf_printf(b, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
    } else if (exp10 < 0) {
        ck_buf_put(b, "0.");
        for (int i = -1; i > exp10; i--) ck_buf_put(b, "0");
        ck_buf_put(b, mant);
    } else {
        for (int i = 0; i <= exp10; i++) ck_buf_putn(b, i < (int)m ? mant + i : "0", 1);
        ck_buf_put(b, ".");
        ck_buf_put(b, (int)m > exp10 + 1 ? mant + exp10 + 1 : "0");
    }
}

static void put_str_repr(ck_buf *b, const char *s)
{
    char q = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';
    ck_buf_putn(b, &q, 1);
    for (const char *p = s; *p; p++) {
        if (*p == q || *p == '\\') ck_buf_printf(b, "\\%c", *p);
        else if (*p == '\n') ck_buf_put(b, "\\n");
        else if (*p == '\t') ck_buf_put(b, "\\t");
        else if ((unsigned char)*p < 0x20) ck_buf_printf(b, "\\x%02x", (unsigned char)*p);
        else ck_buf_putn(b, p, 1);
    }
    ck_buf_putn(b, &q, 1);
}

static ck_status put_repr(interp *it, ck_buf *b, const value *v, const py_node *at);

static ck_status put_items(interp *it, ck_buf *b, const value *v, const py_node *at)
{
    for (int i = 0; i < v->n; i++) {
        if (i) ck_buf_put(b, v->kind == V_DICT && i % 2 ? ": " : ", ");
        ck_status st = put_repr(it, b, v->items[i], at);
        if (st) return st;
    }
    return CK_OK;
}

static ck_status put_repr(interp *it, ck_buf *b, const value *v, const py_node *at)
{
    ck_status st = CK_OK;
    switch (v->kind) {
    case V_NONE: ck_buf_put(b, "None"); break;
    case V_BOOL: ck_buf_put(b, v->b ? "True" : "False"); break;
    case V_INT: ck_buf_printf(b, "%lld", (long long)v->i); break;
    case V_FLOAT: put_float(b, v->f); break;
    case V_STR: put_str_repr(b, v->s); break;
    case V_LIST:
        ck_buf_put(b, "[");
        st = put_items(it, b, v, at);
        ck_buf_put(b, "]");
        break;
    case V_TUPLE:
        ck_buf_put(b, "(");
        st = put_items(it, b, v, at);
        ck_buf_put(b, v->n == 1 ? ",)" : ")");
        break;
    case V_DICT:
        ck_buf_put(b, "{");
        st = put_items(it, b, v, at);
        ck_buf_put(b, "}");
        break;
    case V_LAYER:
        /* Keras's Layer.__repr__ */
        ck_buf_printf(b, "<%s name=%s, built=%s>", ck_layer_class_name(v->layer), ck_layer_name(v->layer),
                      v->layer->built ? "True" : "False");
        break;
    case V_MODEL:
        ck_buf_printf(b, "<%s name=%s, built=%s>", v->model->kind == CK_SEQUENTIAL ? "Sequential" : "Functional",
                      ck_model_name(v->model), ck_model_built(v->model) ? "True" : "False");
        break;
    default: {
        char what[96];
        snprintf(what, sizeof what, "printing a %s (its repr is not reproduced)", type_name(v));
        return unsupported(it, at, what);
    }
    }
    return st;
}

static ck_status put_str(interp *it, ck_buf *b, const value *v, const py_node *at)
{
    if (v->kind == V_STR) {
        ck_buf_put(b, v->s);
        return CK_OK;
    }
    return put_repr(it, b, v, at);
}

/* ---- variables and names ---------------------------------------------------------------- */
static value *lookup(interp *it, const char *name)
{
    for (int i = it->n_vars - 1; i >= 0; i--)
        if (!strcmp(it->vars[i].name, name)) return it->vars[i].v;
    (void)it;
    return NULL;
}

static ck_status bind(interp *it, const char *name, value *v)
{
    for (int i = 0; i < it->n_vars; i++)
        if (!strcmp(it->vars[i].name, name)) {
            it->vars[i].v = v;
            return CK_OK;
        }
    ck_status st = ck_grow((void **)&it->vars, &it->cap_vars, it->n_vars + 1, sizeof *it->vars);
    if (st) return it->error = st;
    it->vars[it->n_vars++] = (binding){name, v};
    return CK_OK;
}

/* Keras's auto name: backend.get_uid(prefix), "dense", "dense_1", ... */
static const char *next_name(interp *it, const char *prefix)
{
    uid *u = NULL;
    for (int i = 0; i < it->n_uids; i++)
        if (!strcmp(it->uids[i].prefix, prefix)) u = &it->uids[i];
    if (!u) {
        if (ck_grow((void **)&it->uids, &it->cap_uids, it->n_uids + 1, sizeof *it->uids)) return NULL;
        u = &it->uids[it->n_uids++];
        snprintf(u->prefix, sizeof u->prefix, "%s", prefix);
        u->next = 0;
    }
    char name[CK_NAME_MAX + 16];
    if (u->next) snprintf(name, sizeof name, "%s_%d", prefix, u->next);
    else snprintf(name, sizeof name, "%s", prefix);
    u->next++;
    return arena_str(it, name);
}

static ck_status track_layer(interp *it, ck_layer *l)
{
    ck_status st = ck_grow((void **)&it->layers, &it->cap_layers, it->n_layers + 1, sizeof *it->layers);
    if (st) return it->error = st;
    it->layers[it->n_layers++] = l;
    return CK_OK;
}

static ck_status track_model(interp *it, ck_model *m)
{
    ck_status st = ck_grow((void **)&it->models, &it->cap_models, it->n_models + 1, sizeof *it->models);
    if (st) return it->error = st;
    it->models[it->n_models++] = m;
    return CK_OK;
}

/* ---- modules ------------------------------------------------------------------------------- */
static const char *const keras_modules[] = {
    "keras", "keras.layers", "keras.models", "keras.utils", "keras.optimizers", "keras.losses",
    "keras.metrics", "keras.activations", "keras.initializers", "keras.regularizers", "keras.mixed_precision",
    "keras.config", "tensorflow",
};

/* tf.keras is Keras 3 from TensorFlow 2.16 on: the same names. */
static const char *canonical_module(interp *it, const char *path)
{
    if (!strncmp(path, "tensorflow.keras", 16) && (path[16] == '\0' || path[16] == '.')) {
        char buf[256];
        snprintf(buf, sizeof buf, "keras%s", path + 16);
        return arena_str(it, buf);
    }
    return path;
}

static bool is_keras_module(const char *path)
{
    for (int i = 0; i < CK_N_OF(keras_modules); i++)
        if (!strcmp(path, keras_modules[i])) return true;
    return false;
}

static value *module_value(interp *it, const char *path)
{
    value *v = new_value(it, V_MODULE);
    if (!v || !(v->s = arena_str(it, canonical_module(it, path)))) return NULL;
    v->foreign = strcmp(v->s, "keras") && strncmp(v->s, "keras.", 6) && strcmp(v->s, "tensorflow");
    return v;
}

static value *func_value(interp *it, const char *kind, const char *cls)
{
    value *v = new_value(it, V_FUNC);
    if (v) v->s = kind, v->cls = cls;
    return v;
}

static bool is_upper(const char *s) { return *s >= 'A' && *s <= 'Z'; }

/* What `module.name` is, or NULL when Keras has nothing of that name that ckeras knows. */
static value *module_attr(interp *it, const value *mod, const char *name, const py_node *at)
{
    if (mod->foreign) {
        char what[160];
        snprintf(what, sizeof what, "%s.%s (module '%s' is not Keras)", mod->s, name, mod->s);
        unsupported(it, at, what);
        return NULL;
    }
    char path[256];
    snprintf(path, sizeof path, "%s.%s", mod->s, name);
    const char *canon = canonical_module(it, path);
    if (is_keras_module(canon)) return module_value(it, canon);
    const char *m = mod->s;
    if ((!strcmp(m, "keras") || !strcmp(m, "keras.models")) && (!strcmp(name, "Sequential") || !strcmp(name, "Model")))
        return func_value(it, !strcmp(name, "Sequential") ? "keras.Sequential" : "keras.Model", NULL);
    if ((!strcmp(m, "keras") || !strcmp(m, "keras.layers")) && !strcmp(name, "Input"))
        return func_value(it, "keras.Input", NULL);
    static const char *const merges[][2] = {{"add", "Add"}, {"subtract", "Subtract"}, {"multiply", "Multiply"},
                                            {"average", "Average"}, {"maximum", "Maximum"}, {"minimum", "Minimum"},
                                            {"concatenate", "Concatenate"}, {"dot", "Dot"}};
    for (int i = 0; !strcmp(m, "keras.layers") && i < CK_N_OF(merges); i++)
        if (!strcmp(name, merges[i][0])) return func_value(it, "merge", merges[i][1]);
    if (!strcmp(m, "keras.layers") && ck_find_layer_class(name))
        return func_value(it, "layer", ck_find_layer_class(name)->class_name);
    /* Keras's export aliases of layer classes */
    static const char *const aliases[][2] = {
        {"MaxPool1D", "MaxPooling1D"}, {"MaxPool2D", "MaxPooling2D"}, {"MaxPool3D", "MaxPooling3D"},
        {"AvgPool1D", "AveragePooling1D"}, {"AvgPool2D", "AveragePooling2D"}, {"AvgPool3D", "AveragePooling3D"},
        {"GlobalMaxPool1D", "GlobalMaxPooling1D"}, {"GlobalMaxPool2D", "GlobalMaxPooling2D"},
        {"GlobalMaxPool3D", "GlobalMaxPooling3D"}, {"GlobalAvgPool1D", "GlobalAveragePooling1D"},
        {"GlobalAvgPool2D", "GlobalAveragePooling2D"}, {"GlobalAvgPool3D", "GlobalAveragePooling3D"},
        {"Convolution1D", "Conv1D"}, {"Convolution2D", "Conv2D"}, {"Convolution3D", "Conv3D"},
        {"Convolution1DTranspose", "Conv1DTranspose"}, {"Convolution2DTranspose", "Conv2DTranspose"},
        {"Convolution3DTranspose", "Conv3DTranspose"}, {"SeparableConvolution1D", "SeparableConv1D"},
        {"SeparableConvolution2D", "SeparableConv2D"},
    };
    for (int i = 0; !strcmp(m, "keras.layers") && i < CK_N_OF(aliases); i++)
        if (!strcmp(name, aliases[i][0]) && ck_find_layer_class(aliases[i][1]))
            return func_value(it, "layer", aliases[i][1]);
    if (!strcmp(m, "keras.utils") && !strcmp(name, "plot_model")) return func_value(it, "plot_model", NULL);
    if ((!strcmp(m, "keras.mixed_precision") && !strcmp(name, "set_global_policy")) ||
        (!strcmp(m, "keras.config") && !strcmp(name, "set_dtype_policy")))
        return func_value(it, "set_global_policy", NULL);
    if (!strcmp(m, "keras.activations") && !is_upper(name)) return str_value(it, name);
    if ((!strcmp(m, "keras.losses") || !strcmp(m, "keras.metrics")) && !is_upper(name)) return str_value(it, name);
    if (!strcmp(m, "keras.regularizers")) {
        static const char *const regs[][2] = {{"L1", "L1"}, {"L2", "L2"}, {"L1L2", "L1L2"},
                                              {"l1", "L1"}, {"l2", "L2"}, {"l1_l2", "L1L2"}};
        for (int i = 0; i < CK_N_OF(regs); i++)
            if (!strcmp(name, regs[i][0])) return func_value(it, "regularizer", regs[i][1]);
    }
    if ((!strcmp(m, "keras.optimizers") || !strcmp(m, "keras.losses") || !strcmp(m, "keras.metrics") ||
         !strcmp(m, "keras.initializers")) && is_upper(name))
        return func_value(it, m + 6, arena_str(it, name));
    char what[200];
    snprintf(what, sizeof what, "%s.%s (not a Keras name ckeras reads)", mod->s, name);
    unsupported(it, at, what);
    return NULL;
}

/* ---- evaluation ----------------------------------------------------------------------------------- */
static value *eval(interp *it, const py_node *n);

static bool truthy(const value *v)
{
    switch (v->kind) {
    case V_NONE: return false;
    case V_BOOL: return v->b;
    case V_INT: return v->i != 0;
    case V_FLOAT: return v->f != 0.0;
    case V_STR: return *v->s != '\0';
    case V_LIST: case V_TUPLE: case V_DICT: return v->n > 0;
    default: return true;
    }
}

static bool is_number(const value *v) { return v->kind == V_INT || v->kind == V_FLOAT || v->kind == V_BOOL; }
static double as_double(const value *v) { return v->kind == V_FLOAT ? v->f : v->kind == V_INT ? (double)v->i : v->b; }
static int64_t as_int(const value *v) { return v->kind == V_INT ? v->i : v->b; }

static value *float_value(interp *it, double f)
{
    value *v = new_value(it, V_FLOAT);
    if (v) v->f = f;
    return v;
}

static value *arith(interp *it, const py_node *at, int op, value *a, value *b)
{
    if (op == '+' && a->kind == b->kind && (a->kind == V_STR || a->kind == V_LIST || a->kind == V_TUPLE)) {
        if (a->kind == V_STR) {
            ck_buf s = {0};
            ck_buf_put(&s, a->s);
            ck_buf_put(&s, b->s);
            value *r = str_value(it, s.data ? s.data : "");
            ck_buf_free(&s);
            return r;
        }
        value *r = new_value(it, a->kind);
        for (int i = 0; r && i < a->n + b->n; i++) append(it, r, i < a->n ? a->items[i] : b->items[i - a->n]);
        return r;
    }
    if (!is_number(a) || !is_number(b)) {
        char what[128];
        snprintf(what, sizeof what, "the operator %c on %s and %s", op == 'f' ? '/' : op == 'p' ? '*' : op,
                 type_name(a), type_name(b));
        unsupported(it, at, what);
        return NULL;
    }
    bool ints = a->kind != V_FLOAT && b->kind != V_FLOAT;
    if (ints && op != '/') {
        int64_t x = as_int(a), y = as_int(b), r = 0;
        if ((op == 'f' || op == '%') && y == 0) {
            fail_at(it, at, CK_ERR_ARG, "ZeroDivisionError: integer division or modulo by zero");
            return NULL;
        }
        bool over = false;
        switch (op) {
        case '+': over = __builtin_add_overflow(x, y, &r); break;
        case '-': over = __builtin_sub_overflow(x, y, &r); break;
        case '*': over = __builtin_mul_overflow(x, y, &r); break;
        case 'f':
            if ((over = x == INT64_MIN && y == -1)) break;
            r = x / y - ((x % y != 0) && ((x < 0) != (y < 0)));
            break;
        case '%':
            if (y == -1) break; /* r = 0; x % -1 overflows in C for INT64_MIN */
            r = x % y;
            if (r && ((r < 0) != (y < 0))) r += y;
            break;
        case 'p':
            if (y < 0) return float_value(it, pow((double)x, (double)y));
            r = 1; /* by squaring: a huge exponent of 0, 1 or -1 ends in 63 steps */
            for (int64_t base = x, e = y; e && !over; e >>= 1) {
                if (e & 1) over = __builtin_mul_overflow(r, base, &r);
                if (e > 1 && !over) over = __builtin_mul_overflow(base, base, &base);
            }
            break;
        }
        if (over) {
            fail_at(it, at, CK_ERR_UNSUPPORTED, "integers beyond 64 bits are not supported");
            return NULL;
        }
        return int_value(it, r);
    }
    double x = as_double(a), y = as_double(b);
    if ((op == '/' || op == 'f' || op == '%') && y == 0.0) {
        fail_at(it, at, CK_ERR_ARG, "ZeroDivisionError: division by zero");
        return NULL;
    }
    switch (op) {
    case '+': return float_value(it, x + y);
    case '-': return float_value(it, x - y);
    case '*': return float_value(it, x * y);
    case '/': return float_value(it, x / y);
    case 'f': return float_value(it, floor(x / y));
    case '%': return float_value(it, x - floor(x / y) * y);
    default: return float_value(it, pow(x, y));
    }
}

static bool equal(const value *a, const value *b)
{
    if (is_number(a) && is_number(b)) return as_double(a) == as_double(b);
    if (a->kind != b->kind) return false;
    switch (a->kind) {
    case V_NONE: return true;
    case V_STR: return !strcmp(a->s, b->s);
    case V_LIST: case V_TUPLE:
        if (a->n != b->n) return false;
        for (int i = 0; i < a->n; i++)
            if (!equal(a->items[i], b->items[i])) return false;
        return true;
    default: return a == b;
    }
}

static value *compare(interp *it, const py_node *n, value *a, value *b)
{
    value *r = new_value(it, V_BOOL);
    if (!r) return NULL;
    if (n->op == 'e' || n->op == 'n') {
        r->b = equal(a, b) == (n->op == 'e');
        return r;
    }
    double x, y;
    if (is_number(a) && is_number(b)) {
        x = as_double(a), y = as_double(b);
    } else if (a->kind == V_STR && b->kind == V_STR) {
        x = strcmp(a->s, b->s), y = 0;
    } else {
        unsupported(it, n, "ordering comparisons of these types");
        return NULL;
    }
    r->b = n->op == '<' ? x < y : n->op == '>' ? x > y : n->op == 'l' ? x <= y : x >= y;
    return r;
}

static value *index_value(interp *it, const py_node *n, value *a, value *k)
{
    if (a->kind == V_DICT) {
        if (k->kind == V_STR && dict_get(a, k->s)) return dict_get(a, k->s);
        fail_at(it, n, CK_ERR_ARG, "KeyError");
        return NULL;
    }
    if ((a->kind != V_LIST && a->kind != V_TUPLE) || k->kind != V_INT) {
        unsupported(it, n, "indexing anything but a list or tuple by an int, or a dict");
        return NULL;
    }
    int64_t i = k->i < 0 ? k->i + a->n : k->i;
    if (i < 0 || i >= a->n) {
        fail_at(it, n, CK_ERR_ARG, "IndexError: %s index out of range", type_name(a));
        return NULL;
    }
    return a->items[i];
}

static value *shape_tuple(interp *it, const ck_shape *s)
{
    value *t = new_value(it, V_TUPLE);
    for (int d = 0; t && d < s->rank; d++) {
        value *x = s->dim[d] == CK_NONE ? &none_value : int_value(it, s->dim[d]);
        if (!x || append(it, t, x)) return NULL;
    }
    return t;
}

static value *method(interp *it, value *self, const char *name)
{
    value *v = new_value(it, V_METHOD);
    if (v) v->self = self, v->s = name;
    return v;
}

static value *layer_list(interp *it, const ck_model *m)
{
    value *list = new_value(it, V_LIST);
    for (int i = 0; list && i < ck_model_layer_count(m); i++) {
        ck_layer *l = ck_model_layer(m, i);
        value *v;
        if (l->model) {
            v = new_value(it, V_MODEL);
            if (v) v->model = l->model;
        } else {
            v = new_value(it, V_LAYER);
            if (v) v->layer = l;
        }
        if (!v || append(it, list, v)) return NULL;
    }
    return list;
}

static ck_status realize_input(interp *it, const py_node *at, value *v, ck_model *graph);

static value *attribute(interp *it, const py_node *n, value *obj)
{
    const char *name = n->str;
    if (obj->kind == V_MODULE) return module_attr(it, obj, name, n);
    static const char *const model_methods[] = {"summary", "add", "compile", "save", "count_params",
                                                "get_weights", "build", "get_layer", NULL};
    static const char *const layer_methods[] = {"count_params", "get_weights", NULL};
    const char *const *methods = obj->kind == V_MODEL ? model_methods : obj->kind == V_LAYER ? layer_methods : NULL;
    for (int i = 0; methods && methods[i]; i++)
        if (!strcmp(name, methods[i])) return method(it, obj, methods[i]);
    const ck_layer *l = obj->kind == V_MODEL ? &obj->model->base : obj->kind == V_LAYER ? obj->layer : NULL;
    if (l && !strcmp(name, "name")) return str_value(it, l->name);
    if (l && !strcmp(name, "trainable")) {
        value *v = new_value(it, V_BOOL);
        if (v) v->b = l->trainable;
        return v;
    }
    if (obj->kind == V_MODEL && !strcmp(name, "layers")) return layer_list(it, obj->model);
    if (obj->kind == V_MODEL && ck_model_built(obj->model) &&
        (!strcmp(name, "input_shape") || !strcmp(name, "output_shape"))) {
        bool in = name[0] == 'i';
        if ((in ? ck_model_input_count(obj->model) : ck_model_output_count(obj->model)) == 1)
            return shape_tuple(it, in ? ck_model_input_shape(obj->model, 0) : ck_model_output_shape(obj->model, 0));
    }
    if (obj->kind == V_TENSOR && !obj->tensor && realize_input(it, n, obj, NULL)) return NULL;
    if ((obj->kind == V_TENSOR || obj->kind == V_ARRAY) && !strcmp(name, "shape"))
        return shape_tuple(it, obj->kind == V_TENSOR ? &obj->tensor->shape : &obj->shape);
    char what[160];
    snprintf(what, sizeof what, "the attribute '%s' of a %s", name, type_name(obj));
    unsupported(it, n, what);
    return NULL;
}

/* ---- calls ------------------------------------------------------------------------------------------- */
typedef struct args {
    value *pos[32];
    int n_pos;
    const char *kw_name[32];
    value *kw[32];
    const py_node *kw_node[32];
    int n_kw;
} args;

static ck_status eval_args(interp *it, const py_node *call, args *a)
{
    *a = (args){0};
    for (int i = 0; i < call->n; i++) {
        value *v = eval(it, call->items[i]);
        if (!v) return it->error;
        if (call->names[i]) {
            if (a->n_kw == 32) return unsupported(it, call, "more than 32 keyword arguments");
            for (int k = 0; k < a->n_kw; k++)
                if (!strcmp(a->kw_name[k], call->names[i]))
                    return fail_at(it, call->items[i], CK_ERR_ARG, "keyword argument repeated: %s", call->names[i]);
            a->kw_name[a->n_kw] = call->names[i];
            a->kw_node[a->n_kw] = call->items[i];
            a->kw[a->n_kw++] = v;
        } else {
            if (a->n_kw) return fail_at(it, call->items[i], CK_ERR_ARG, "positional argument follows keyword argument");
            if (a->n_pos == 32) return unsupported(it, call, "more than 32 arguments");
            a->pos[a->n_pos++] = v;
        }
    }
    return CK_OK;
}

/* Binds a call's arguments to a Python signature: out[i] is parameter i or NULL. */
static ck_status bind_params(interp *it, const py_node *at, const char *what, const args *a,
                             const char *const *params, value **out)
{
    int n = 0;
    while (params[n]) out[n] = NULL, n++;
    if (a->n_pos > n)
        return fail_at(it, at, CK_ERR_ARG, "TypeError: %s takes at most %d positional arguments (%d given)", what, n,
                       a->n_pos);
    for (int i = 0; i < a->n_pos; i++) out[i] = a->pos[i];
    for (int k = 0; k < a->n_kw; k++) {
        int p = 0;
        while (params[p] && strcmp(params[p], a->kw_name[k])) p++;
        if (!params[p])
            return fail_at(it, a->kw_node[k], CK_ERR_ARG, "TypeError: %s got an unexpected keyword argument '%s'", what,
                           a->kw_name[k]);
        if (out[p])
            return fail_at(it, a->kw_node[k], CK_ERR_ARG, "TypeError: %s got multiple values for argument '%s'", what,
                           a->kw_name[k]);
        out[p] = a->kw[k];
    }
    return CK_OK;
}

/* A value as the Python literal the keyword codec reads. Layers inside (wrappers'
 * `layer=`) are written as their Keras config, initializer and regularizer objects
 * as {'class_name': ..., 'config': ...}. */
static ck_status put_literal(interp *it, ck_buf *b, const value *v, const py_node *at)
{
    if ((v->kind == V_LAYER && !v->config) ||
        (v->kind == V_OBJ && strcmp(v->cls, "regularizer") && strcmp(v->cls, "initializers")))
        return unsupported(it, at,
                           v->kind == V_LAYER ? "a layer of a model as a layer argument"
                                              : "this object as a layer argument");
    if (v->kind == V_LAYER || v->kind == V_OBJ) {
        ck_buf_printf(b, "{'class_name': '%s', 'config': ", v->kind == V_LAYER ? ck_layer_class_name(v->layer) : v->s);
        ck_status st = put_literal(it, b, v->kind == V_LAYER ? v->config : v->items[0], at);
        ck_buf_put(b, "}");
        return st;
    }
    if (v->kind == V_LIST || v->kind == V_TUPLE || v->kind == V_DICT) {
        ck_buf_put(b, v->kind == V_LIST ? "[" : v->kind == V_TUPLE ? "(" : "{");
        for (int i = 0; i < v->n; i++) {
            if (i) ck_buf_put(b, v->kind == V_DICT && i % 2 ? ": " : ", ");
            ck_status st = put_literal(it, b, v->items[i], at);
            if (st) return st;
        }
        ck_buf_put(b, v->kind == V_LIST ? "]" : v->kind == V_TUPLE ? (v->n == 1 ? ",)" : ")") : "}");
        return CK_OK;
    }
    if (v->kind == V_NONE || v->kind == V_BOOL || v->kind == V_INT || v->kind == V_FLOAT || v->kind == V_STR)
        return put_repr(it, b, v, at);
    char what[128];
    snprintf(what, sizeof what, "a %s as a layer argument", type_name(v));
    return unsupported(it, at, what);
}

/* The arguments bound to params (NULL-terminated), as "name=value, ..." text and
 * as a dict value (kept with the layer for wrappers). */
static ck_status kwargs_text(interp *it, const py_node *at, const char *const *params, value **bound, ck_buf *text,
                             value *dict)
{
    for (int i = 0; params[i]; i++) {
        if (!bound[i]) continue;
        if (text->len) ck_buf_put(text, ", ");
        ck_buf_printf(text, "%s=", params[i]);
        ck_status st = put_literal(it, text, bound[i], at);
        if (st) return st;
        if (dict && (append(it, dict, str_value(it, params[i])) || append(it, dict, bound[i]))) return it->error;
    }
    return CK_OK;
}

/* Keyword names of a call in order, after the positional ones mapped by `positional`. */
static ck_status collect_params(interp *it, const py_node *at, const char *cls, const args *a,
                                const char **names, value **vals, int *n)
{
    const char *const *pos = ck_py_positional(cls);
    int np = 0;
    while (pos && pos[np]) np++;
    if (a->n_pos > np)
        return fail_at(it, at, CK_ERR_ARG, "TypeError: %s takes %d positional argument%s (%d given)", cls, np,
                       np == 1 ? "" : "s", a->n_pos);
    *n = 0;
    for (int i = 0; i < a->n_pos; i++) names[*n] = pos[i], vals[(*n)++] = a->pos[i];
    for (int k = 0; k < a->n_kw; k++) {
        for (int i = 0; i < *n; i++)
            if (!strcmp(names[i], a->kw_name[k]))
                return fail_at(it, a->kw_node[k], CK_ERR_ARG, "TypeError: %s got multiple values for argument '%s'",
                               cls, a->kw_name[k]);
        names[*n] = a->kw_name[k], vals[(*n)++] = a->kw[k];
    }
    names[*n] = NULL;
    return CK_OK;
}

/* keras.mixed_precision.set_global_policy(name) (keras.config.set_dtype_policy):
 * the layers made after it take that dtype policy unless given one. */
static value *set_global_policy(interp *it, const py_node *at, const args *a)
{
    const value *v = a->n_pos == 1 && !a->n_kw ? a->pos[0] : a->n_kw == 1 && !a->n_pos ? a->kw[0] : NULL;
    if (a->n_kw == 1 && strcmp(a->kw_name[0], "policy")) v = NULL;
    if (!v || v->kind != V_STR) {
        unsupported(it, at, "set_global_policy() with other than one policy name");
        return NULL;
    }
    static const char *const names[] = {"float32", "float16", "bfloat16", "float64", "mixed_float16",
                                        "mixed_bfloat16"};
    for (size_t i = 0; i < CK_N_OF(names); i++)
        if (!strcmp(v->s, names[i])) {
            snprintf(it->dtype_policy, sizeof it->dtype_policy, "%s", strcmp(v->s, "float32") ? v->s : "");
            return &none_value;
        }
    fail_at(it, at, CK_ERR_ARG, "ValueError: Cannot convert '%s' to a mixed precision DTypePolicy", v->s);
    return NULL;
}

static value *make_layer(interp *it, const py_node *at, const char *cls, const args *a)
{
    const char *names[66];
    value *vals[66];
    int n = 0;
    if (collect_params(it, at, cls, a, names, vals, &n)) return NULL;
    value *v = new_value(it, V_LAYER);
    value *dict = new_value(it, V_DICT);
    if (!v || !dict) return NULL;
    ck_buf text = {0};
    bool named = false, typed = false;
    for (int i = 0; i < n; i++) named = named || !strcmp(names[i], "name"), typed = typed || !strcmp(names[i], "dtype");
    ck_status st = kwargs_text(it, at, names, vals, &text, dict);
    if (!st && !typed && it->dtype_policy[0]) /* the global policy, as Layer.__init__ takes it */
        ck_buf_printf(&text, "%sdtype=\"%s\"", text.len ? ", " : "", it->dtype_policy);
    if (!st && !named) {
        /* Keras names the layer now, from its class's counter */
        char prefix[CK_NAME_MAX];
        ck_snake_case(cls, prefix, sizeof prefix);
        const char *name = next_name(it, prefix);
        value *nv = name ? str_value(it, name) : NULL;
        if (!nv) st = CK_ERR_NOMEM;
        else {
            ck_buf_printf(&text, "%sname=", text.len ? ", " : "");
            put_repr(it, &text, nv, at);
            append(it, dict, str_value(it, "name"));
            append(it, dict, nv);
        }
    }
    if (st) {
        ck_buf_free(&text);
        return NULL;
    }
    ck_layer *l = ck_layer_new(cls, text.data ? text.data : "");
    ck_buf_free(&text);
    if (!l) {
        lib_fail(it, at, CK_ERR_CONFIG);
        return NULL;
    }
    if (track_layer(it, l)) {
        ck_layer_free(l);
        return NULL;
    }
    v->layer = l;
    v->config = dict;
    return v;
}

static value *make_object(interp *it, const py_node *at, const char *family, const char *cls, const args *a)
{
    value *v = new_value(it, V_OBJ);
    value *dict = new_value(it, V_DICT);
    if (!v || !dict) return NULL;
    v->s = cls;
    v->cls = family;
    if (!strcmp(family, "regularizer")) {
        /* L1(l1=0.01), L2(l2=0.01), L1L2(l1=0.0, l2=0.0) */
        static const char *const l1[] = {"l1", NULL}, *const l2[] = {"l2", NULL}, *const l1l2[] = {"l1", "l2", NULL};
        const char *const *params = !strcmp(cls, "L1") ? l1 : !strcmp(cls, "L2") ? l2 : l1l2;
        value *bound[3];
        if (bind_params(it, at, cls, a, params, bound)) return NULL;
        for (int i = 0; params[i]; i++) {
            value *x = bound[i] ? bound[i] : float_value(it, !strcmp(cls, "L1L2") ? 0.0 : 0.01);
            if (append(it, dict, str_value(it, params[i])) || append(it, dict, x)) return NULL;
        }
    } else {
        /* Adam(0.01): positional values named in Keras's __init__ order */
        const char *spec_family = !strcmp(family, "optimizers") ? "optimizer"
                                  : !strcmp(family, "losses")   ? "loss"
                                  : !strcmp(family, "metrics")  ? "metric"
                                                                : NULL;
        const char *const *params = spec_family ? ck_spec_positional(spec_family, cls, strlen(cls)) : NULL;
        for (int k = 0; k < a->n_pos; k++) {
            bool named = params;
            for (int j = 0; named && j <= k; j++) named = params[j] != NULL;
            if (!named) {
                char what[160];
                snprintf(what, sizeof what, "%d positional arguments to %s", a->n_pos, cls);
                unsupported(it, at, what);
                return NULL;
            }
            if (append(it, dict, str_value(it, params[k])) || append(it, dict, a->pos[k])) return NULL;
        }
        for (int k = 0; k < a->n_kw; k++)
            if (append(it, dict, str_value(it, a->kw_name[k])) || append(it, dict, a->kw[k])) return NULL;
    }
    if (append(it, v, dict)) return NULL;
    return v;
}

/* An optimizer, loss or metric as the text ck_model_compile reads: a name, or
 * "Adam(learning_rate=0.01)". */
static ck_status spec_text(interp *it, const py_node *at, const value *v, ck_buf *b)
{
    if (v->kind == V_STR) {
        ck_buf_put(b, v->s);
        return CK_OK;
    }
    if (v->kind != V_OBJ) {
        char what[96];
        snprintf(what, sizeof what, "a %s in compile()", type_name(v));
        return unsupported(it, at, what);
    }
    ck_buf_printf(b, "%s(", v->s);
    const value *d = v->items[0];
    for (int i = 0; i + 1 < d->n; i += 2) {
        ck_buf_printf(b, "%s%s=", i ? ", " : "", d->items[i]->s);
        ck_status st = put_literal(it, b, d->items[i + 1], at);
        if (st) return st;
    }
    ck_buf_put(b, ")");
    return CK_OK;
}

/* A keras.Input joins a functional graph when it is first used: in a layer call,
 * in keras.Model(), or not at all when it goes into a Sequential (which takes
 * its InputLayer). Its name was drawn when it was made. */
static ck_status realize_input(interp *it, const py_node *at, value *v, ck_model *graph)
{
    if (!graph && !it->graph) {
        if (!(it->graph = ck_functional(NULL))) return lib_fail(it, at, CK_ERR_NOMEM);
        if (track_model(it, it->graph)) {
            ck_model_free(it->graph);
            it->graph = NULL;
            return it->error;
        }
    }
    ck_model *g = graph ? graph : it->graph;
    ck_ktensor *t = ck_input(g, v->input_kwargs);
    if (!t) return lib_fail(it, at, CK_ERR_CONFIG);
    v->tensor = t;
    v->graph = g;
    return CK_OK;
}

static ck_ktensor *tensor_of(interp *it, const py_node *at, value *v, ck_model **graph)
{
    if (v->kind != V_TENSOR) {
        char what[96];
        snprintf(what, sizeof what, "calling a layer on a %s", type_name(v));
        unsupported(it, at, what);
        return NULL;
    }
    if (!v->tensor && realize_input(it, at, v, *graph)) return NULL;
    if (*graph && *graph != v->graph) {
        unsupported(it, at, "tensors of two different graphs in one call (a graph ends at keras.Model)");
        return NULL;
    }
    *graph = v->graph;
    return v->tensor;
}

static value *tensor_value(interp *it, ck_model *g, ck_ktensor *t)
{
    value *v = new_value(it, V_TENSOR);
    if (v) v->tensor = t, v->graph = g;
    return v;
}

/* layer(x) or model(x): one tensor, or a list of them for merges. */
static value *call_on_tensors(interp *it, const py_node *at, value *callee, const args *a)
{
    if (a->n_kw) {
        char what[128];
        snprintf(what, sizeof what, "the call argument '%s'", a->kw_name[0]);
        unsupported(it, a->kw_node[0], what);
        return NULL;
    }
    if (a->n_pos < 1) {
        unsupported(it, at, "calling a layer without a tensor");
        return NULL;
    }
    /* one tensor, a list of them (merges), or several positional tensors
     * (attention's query, value, key) */
    ck_ktensor *ins[64];
    int n = 0;
    ck_model *g = NULL;
    for (int p = 0; p < a->n_pos; p++) {
        value *x = a->pos[p];
        if ((x->kind == V_LIST || x->kind == V_TUPLE) && a->n_pos == 1) {
            for (int i = 0; i < x->n && n < 64; i++)
                if (!(ins[n++] = tensor_of(it, at, x->items[i], &g))) return NULL;
        } else if (n == 64 || !(ins[n++] = tensor_of(it, at, x, &g))) {
            return NULL;
        }
    }
    /* an unbuilt Sequential builds when called: Keras makes its InputLayer and
     * its internal Functional then, one auto name each */
    if (callee->kind == V_MODEL && callee->model->kind == CK_SEQUENTIAL && !ck_model_built(callee->model) &&
        (!next_name(it, "input_layer") || !next_name(it, "functional")))
        return NULL;
    ck_layer *l = callee->kind == V_LAYER ? callee->layer : ck_model_as_layer(callee->model);
    ck_ktensor *t = ck_graph_call(g, l, ins, n); /* on failure l stays ours, freed at the end */
    if (!t) {
        lib_fail(it, at, CK_ERR_SHAPE);
        return NULL;
    }
    int outs = t->node->n_outputs;
    if (outs == 1) return tensor_value(it, g, t);
    value *list = new_value(it, V_LIST);
    for (int i = 0; list && i < outs; i++)
        if (append(it, list, tensor_value(it, g, ck_ktensor_output(t, i)))) return NULL;
    return list;
}

/* keras.Input(shape, batch_size, dtype, sparse, batch_shape, name, tensor, optional) */
static value *make_input(interp *it, const py_node *at, const args *a)
{
    static const char *const params[] = {"shape", "batch_size", "dtype", "sparse", "batch_shape", "name",
                                         "tensor", "optional", NULL};
    value *bound[9];
    if (bind_params(it, at, "Input", a, params, bound)) return NULL;
    if (!bound[5]) {
        const char *name = next_name(it, "input_layer");
        if (!name || !(bound[5] = str_value(it, name))) return NULL;
    }
    ck_buf text = {0};
    if (kwargs_text(it, at, params, bound, &text, NULL)) {
        ck_buf_free(&text);
        return NULL;
    }
    const char *kw = arena_str(it, text.data ? text.data : "");
    ck_buf_free(&text);
    if (!kw) return NULL;
    value *v = new_value(it, V_TENSOR);
    if (v) v->input_kwargs = kw;
    return v;
}

/* Whether Keras's Sequential knows its input: an InputLayer, a first layer with
 * input_shape=, or a built model as first layer. */
static bool sequential_has_input(const ck_model *m)
{
    return m->input_layer || (m->n_layers && (m->layers[0]->has_input_shape ||
                                              (m->layers[0]->model && ck_model_built(m->layers[0]->model))));
}

/* Sequential.add(): the InputLayer Keras makes for input_shape=, and its
 * rebuild, which makes a hidden Functional (one auto name) once the model has
 * an input and a layer. */
static ck_status sequential_add(interp *it, const py_node *at, ck_model *m, value *item, bool rebuild)
{
    ck_layer *l = NULL;
    if (item->kind == V_LAYER) {
        l = item->layer;
        if (!ck_model_layer_count(m) && !m->input_layer && (dict_get(item->config, "input_shape") ||
                                                           dict_get(item->config, "batch_input_shape")))
            if (!next_name(it, "input_layer")) return it->error = CK_ERR_NOMEM;
    } else if (item->kind == V_MODEL) {
        l = ck_model_as_layer(item->model);
    } else if (item->kind == V_TENSOR && item->input_kwargs) {
        /* keras.Input in a Sequential: Keras uses its InputLayer */
        if (!(l = ck_layer_new("InputLayer", item->input_kwargs))) return lib_fail(it, at, CK_ERR_CONFIG);
        if (track_layer(it, l)) return it->error;
    } else {
        char what[96];
        snprintf(what, sizeof what, "adding a %s to a Sequential", type_name(item));
        return unsupported(it, at, what);
    }
    ck_status st = ck_graph_sequential_add(m, l); /* on failure l stays ours */
    if (st) return lib_fail(it, at, st);
    /* _maybe_rebuild: the layer list counts the InputLayer Keras made */
    int count = m->n_layers + (m->input_layer || (m->n_layers && m->layers[0]->has_input_shape) ? 1 : 0);
    if (rebuild && sequential_has_input(m) && count > 1 && !next_name(it, "functional"))
        return it->error = CK_ERR_NOMEM;
    return CK_OK;
}

static value *model_value(interp *it, ck_model *m)
{
    value *v = new_value(it, V_MODEL);
    if (v) v->model = m;
    it->last_model = m;
    return v;
}

static value *make_sequential(interp *it, const py_node *at, const args *a)
{
    static const char *const params[] = {"layers", "trainable", "name", NULL};
    value *bound[3];
    if (bind_params(it, at, "Sequential", a, params, bound)) return NULL;
    if (bound[2] && bound[2]->kind != V_STR) {
        fail_at(it, at, CK_ERR_ARG, "Sequential: name must be a string");
        return NULL;
    }
    const char *name = bound[2] ? bound[2]->s : next_name(it, "sequential");
    ck_model *m = name ? ck_sequential(name) : NULL;
    if (!m || track_model(it, m)) {
        lib_fail(it, at, CK_ERR_NOMEM);
        return NULL;
    }
    value *layers = bound[0];
    if (layers && layers->kind != V_NONE) {
        if (layers->kind != V_LIST && layers->kind != V_TUPLE) {
            unsupported(it, at, "Sequential(layers) with anything but a list");
            return NULL;
        }
        for (int i = 0; i < layers->n; i++)
            if (sequential_add(it, at, m, layers->items[i], false)) return NULL;
        int count = m->n_layers + (m->input_layer || (m->n_layers && m->layers[0]->has_input_shape) ? 1 : 0);
        bool has_input = sequential_has_input(m);
        if (has_input && count > 1 && !next_name(it, "functional")) return NULL;
        if (has_input && ck_model_build(m)) {
            lib_fail(it, at, CK_ERR_SHAPE);
            return NULL;
        }
    }
    if (bound[1] && !truthy(bound[1])) ck_layer_set_trainable(&m->base, false);
    return model_value(it, m);
}

static ck_status tensors_of(interp *it, const py_node *at, value *v, ck_ktensor **out, int *n, ck_model **g)
{
    *n = 0;
    if (v->kind == V_LIST || v->kind == V_TUPLE) {
        for (int i = 0; i < v->n && *n < 64; i++)
            if (!(out[(*n)++] = tensor_of(it, at, v->items[i], g))) return it->error;
    } else if (v->kind == V_DICT) {
        return unsupported(it, at, "dicts of model inputs or outputs");
    } else if (!(out[(*n)++] = tensor_of(it, at, v, g))) {
        return it->error;
    }
    return CK_OK;
}

static value *make_model(interp *it, const py_node *at, const args *a)
{
    static const char *const params[] = {"inputs", "outputs", "name", "trainable", NULL};
    value *bound[4];
    if (bind_params(it, at, "Model", a, params, bound)) return NULL;
    if (!bound[0] || !bound[1]) {
        unsupported(it, at, "keras.Model() without inputs and outputs (subclassed models)");
        return NULL;
    }
    ck_ktensor *ins[64], *outs[64];
    int ni, no;
    ck_model *g = NULL;
    if (tensors_of(it, at, bound[0], ins, &ni, &g) || tensors_of(it, at, bound[1], outs, &no, &g)) return NULL;
    const char *name = bound[2] && bound[2]->kind == V_STR ? bound[2]->s : next_name(it, "functional");
    if (!name) return NULL;
    snprintf(g->base.name, sizeof g->base.name, "%s", name);
    g->base.auto_named = false;
    ck_status st = ck_functional_finish(g, ins, ni, outs, no);
    if (st) {
        lib_fail(it, at, st);
        return NULL;
    }
    if (it->graph == g) it->graph = NULL;
    if (bound[3] && !truthy(bound[3])) ck_layer_set_trainable(&g->base, false);
    return model_value(it, g);
}

static ck_status print_call(interp *it, const py_node *at, const args *a)
{
    const char *sep = " ", *end = "\n";
    for (int k = 0; k < a->n_kw; k++) {
        const value *v = a->kw[k];
        const char **dst = !strcmp(a->kw_name[k], "sep") ? &sep : !strcmp(a->kw_name[k], "end") ? &end : NULL;
        if (!dst) {
            char what[96];
            snprintf(what, sizeof what, "print(%s=...)", a->kw_name[k]);
            return unsupported(it, a->kw_node[k], what);
        }
        if (v->kind != V_STR && v->kind != V_NONE)
            return fail_at(it, a->kw_node[k], CK_ERR_ARG, "TypeError: %s must be None or a string", a->kw_name[k]);
        if (v->kind == V_STR) *dst = v->s;
    }
    ck_buf line = {0};
    for (int i = 0; i < a->n_pos; i++) {
        if (i) ck_buf_put(&line, sep);
        ck_status st = put_str(it, &line, a->pos[i], at);
        if (st) {
            ck_buf_free(&line);
            return st;
        }
    }
    ck_buf_put(&line, end);
    if (it->show && line.len) ck_buf_putn(&it->out, line.data, line.len);
    ck_buf_free(&line);
    return CK_OK;
}

static value *plot_call(interp *it, const py_node *at, const args *a)
{
    static const char *const params[] = {"model", "to_file", "show_shapes", "show_dtype", "show_layer_names",
                                         "rankdir", "expand_nested", "dpi", "show_layer_activations",
                                         "show_trainable", "splines", NULL};
    value *b[11];
    if (bind_params(it, at, "plot_model", a, params, b)) return NULL;
    if (!b[0] || b[0]->kind != V_MODEL) {
        fail_at(it, at, CK_ERR_ARG, "plot_model: the first argument must be a model");
        return NULL;
    }
    for (int i = 1; i < 11; i++) {
        bool want_str = i == 1 || i == 5 || i == 10, want_int = i == 7;
        if (b[i] && (want_str ? b[i]->kind != V_STR : want_int ? b[i]->kind != V_INT : b[i]->kind != V_BOOL)) {
            fail_at(it, at, CK_ERR_ARG, "plot_model: %s must be %s", params[i],
                    want_str ? "a string" : want_int ? "an int" : "True or False");
            return NULL;
        }
    }
    ck_plot_opts o = {
        .show_shapes = b[2] && b[2]->b,
        .show_dtype = b[3] && b[3]->b,
        .show_layer_names = b[4] && b[4]->b,
        .rankdir = b[5] ? b[5]->s : NULL,
        .expand_nested = b[6] && b[6]->b,
        .dpi = b[7] ? (int)b[7]->i : 0,
        .show_layer_activations = b[8] && b[8]->b,
        .show_trainable = b[9] && b[9]->b,
        .splines = b[10] ? b[10]->s : NULL,
    };
    const char *path = b[1] ? b[1]->s : "model.png";
    ck_status st = CK_OK;
    if (it->show) {
        st = ck_model_plot(b[0]->model, path, &o);
    } else {
        /* checked, not drawn */
        char *dot = NULL;
        st = ck_model_to_dot(b[0]->model, &o, &dot);
        free(dot);
    }
    if (st) {
        lib_fail(it, at, st);
        return NULL;
    }
    return &none_value;
}

static value *builtin(interp *it, const py_node *at, const char *name, const args *a)
{
    if (!strcmp(name, "print")) return print_call(it, at, a) ? NULL : &none_value;
    if (a->n_kw) {
        char what[96];
        snprintf(what, sizeof what, "keyword arguments to %s()", name);
        unsupported(it, a->kw_node[0], what);
        return NULL;
    }
    if (!strcmp(name, "range")) {
        int64_t lo = 0, hi = 0, step = 1;
        for (int i = 0; i < a->n_pos; i++)
            if (a->pos[i]->kind != V_INT) {
                fail_at(it, at, CK_ERR_ARG, "TypeError: range() wants integers");
                return NULL;
            }
        if (a->n_pos == 1) hi = a->pos[0]->i;
        else if (a->n_pos >= 2) lo = a->pos[0]->i, hi = a->pos[1]->i;
        if (a->n_pos == 3) step = a->pos[2]->i;
        if (a->n_pos < 1 || a->n_pos > 3 || step == 0) {
            fail_at(it, at, CK_ERR_ARG, "range() takes 1 to 3 integers, and a step that is not 0");
            return NULL;
        }
        /* len(range) = ceil((hi - lo) / step), computed without overflowing */
        int64_t span, steps = 0;
        if (__builtin_sub_overflow(hi, lo, &span)) span = step > 0 ? INT64_MAX : INT64_MIN;
        if ((step > 0 && span > 0) || (step < 0 && span < 0))
            steps = span / step + (span % step != 0);
        if (steps > MAX_LOOP_STEPS) {
            unsupported(it, at, "ranges of more than a million steps");
            return NULL;
        }
        value *list = new_value(it, V_LIST);
        for (int64_t k = 0; list && k < steps; k++)
            if (append(it, list, int_value(it, lo + k * step))) return NULL;
        return list;
    }
    if (a->n_pos != 1) {
        fail_at(it, at, CK_ERR_ARG, "TypeError: %s() takes exactly one argument (%d given)", name, a->n_pos);
        return NULL;
    }
    value *x = a->pos[0];
    if (!strcmp(name, "len")) {
        if (x->kind == V_STR) return int_value(it, (int64_t)strlen(x->s));
        if (x->kind == V_LIST || x->kind == V_TUPLE) return int_value(it, x->n);
        if (x->kind == V_DICT) return int_value(it, x->n / 2);
    } else if (!strcmp(name, "str")) {
        ck_buf b = {0};
        value *r = put_str(it, &b, x, at) ? NULL : str_value(it, b.data ? b.data : "");
        ck_buf_free(&b);
        return r;
    } else if (!strcmp(name, "int")) {
        if (x->kind == V_INT || x->kind == V_BOOL) return int_value(it, as_int(x));
        /* 2^63 is exact in a double; converting anything at or beyond it is undefined. */
        if (x->kind == V_FLOAT && fabs(x->f) < 0x1p63) return int_value(it, (int64_t)x->f);
        if (x->kind == V_FLOAT) {
            if (isnan(x->f)) fail_at(it, at, CK_ERR_ARG, "ValueError: cannot convert float NaN to integer");
            else if (isinf(x->f)) fail_at(it, at, CK_ERR_ARG, "OverflowError: cannot convert float infinity to integer");
            else fail_at(it, at, CK_ERR_UNSUPPORTED, "int(%g): integers beyond 64 bits are not supported", x->f);
            return NULL;
        }
    } else if (!strcmp(name, "float")) {
        if (is_number(x)) return float_value(it, as_double(x));
    } else if (!strcmp(name, "list") || !strcmp(name, "tuple")) {
        if (x->kind == V_LIST || x->kind == V_TUPLE) {
            value *r = new_value(it, name[0] == 'l' ? V_LIST : V_TUPLE);
            for (int i = 0; r && i < x->n; i++)
                if (append(it, r, x->items[i])) return NULL;
            return r;
        }
    }
    fail_at(it, at, CK_ERR_ARG, "TypeError: %s() of a %s", name, type_name(x));
    return NULL;
}

static const char *const builtins[] = {"print", "range", "len", "str", "int", "float", "list", "tuple", NULL};

/* ---- model methods ---------------------------------------------------------------------------------- */
static value *summary_call(interp *it, const py_node *at, ck_model *m, const args *a)
{
    static const char *const params[] = {"line_length", "positions", "print_fn", "expand_nested",
                                         "show_trainable", "layer_range", NULL};
    value *b[6];
    if (bind_params(it, at, "summary", a, params, b)) return NULL;
    ck_summary_opts o = {.console_width = it->console_width};
    double positions[8];
    if (b[0] && b[0]->kind != V_NONE) {
        if (b[0]->kind != V_INT) return fail_at(it, at, CK_ERR_ARG, "summary: line_length must be an int"), NULL;
        o.line_length = (int)b[0]->i;
    }
    if (b[1] && b[1]->kind != V_NONE) {
        if ((b[1]->kind != V_LIST && b[1]->kind != V_TUPLE) || b[1]->n > 8)
            return fail_at(it, at, CK_ERR_ARG, "summary: positions must be a list of up to 8 numbers"), NULL;
        for (int i = 0; i < b[1]->n; i++) {
            if (!is_number(b[1]->items[i]))
                return fail_at(it, at, CK_ERR_ARG, "summary: positions must be numbers"), NULL;
            positions[i] = as_double(b[1]->items[i]);
        }
        o.positions = positions;
        o.n_positions = b[1]->n;
    }
    if (b[2] && b[2]->kind != V_NONE) return unsupported(it, at, "summary(print_fn=...)"), NULL;
    o.expand_nested = b[3] && truthy(b[3]);
    o.show_trainable = b[4] && truthy(b[4]);
    if (b[5] && b[5]->kind != V_NONE) {
        if ((b[5]->kind != V_LIST && b[5]->kind != V_TUPLE) || b[5]->n != 2 || b[5]->items[0]->kind != V_STR ||
            b[5]->items[1]->kind != V_STR)
            return fail_at(it, at, CK_ERR_ARG, "summary: layer_range must be a list of two layer names"), NULL;
        o.layer_range[0] = b[5]->items[0]->s;
        o.layer_range[1] = b[5]->items[1]->s;
    }
    char *text = NULL;
    ck_status st = ck_model_summary(m, &o, &text);
    if (st) return lib_fail(it, at, st), NULL;
    if (it->show) ck_buf_put(&it->out, text);
    free(text);
    return &none_value;
}

static value *weights_list(interp *it, const py_node *at, const ck_model *m, const ck_layer *only)
{
    value *list = new_value(it, V_LIST);
    if (only) {
        for (int i = 0; list && i < only->n_weights; i++) {
            value *w = new_value(it, V_ARRAY);
            if (!w || append(it, list, w)) return NULL;
            w->shape = only->weights[i].shape;
        }
        return list;
    }
    for (int i = 0; list && i < ck_model_weight_count(m); i++) {
        ck_weight_info info;
        ck_status st = ck_model_weight(m, i, &info);
        if (st) return lib_fail(it, at, st), NULL;
        value *w = new_value(it, V_ARRAY);
        if (!w || append(it, list, w)) return NULL;
        w->shape = info.shape;
    }
    return list;
}

static value *compile_call(interp *it, const py_node *at, ck_model *m, const args *a)
{
    static const char *const params[] = {"optimizer",
                                         "loss",
                                         "loss_weights",
                                         "metrics",
                                         "weighted_metrics",
                                         "run_eagerly",
                                         "steps_per_execution",
                                         "jit_compile",
                                         "auto_scale_loss_in_model",
                                         NULL};
    value *b[9];
    if (bind_params(it, at, "compile", a, params, b)) return NULL;
    /* run_eagerly, steps_per_execution, jit_compile...: how Keras runs, nothing to check */
    if ((b[2] && b[2]->kind != V_NONE) || (b[4] && b[4]->kind != V_NONE))
        return unsupported(it, at, "compile(loss_weights=..., weighted_metrics=...)"), NULL;
    ck_buf opt = {0}, loss = {0}, metrics = {0};
    ck_status st = spec_text(it, at, b[0] ? b[0] : str_value(it, "rmsprop"), &opt);
    if (!st && b[1] && b[1]->kind != V_NONE) st = spec_text(it, at, b[1], &loss);
    if (!st && b[3] && b[3]->kind != V_NONE) {
        if (b[3]->kind != V_LIST && b[3]->kind != V_TUPLE) st = unsupported(it, at, "metrics that are not a list");
        for (int i = 0; !st && i < b[3]->n; i++) {
            if (i) ck_buf_put(&metrics, ", ");
            st = spec_text(it, at, b[3]->items[i], &metrics);
        }
    }
    if (!st) {
        st = ck_model_compile(m, opt.data, loss.len ? loss.data : NULL, metrics.len ? metrics.data : NULL);
        if (st) lib_fail(it, at, st);
    }
    ck_buf_free(&opt);
    ck_buf_free(&loss);
    ck_buf_free(&metrics);
    return st ? NULL : &none_value;
}

static value *model_method(interp *it, const py_node *at, value *self, const char *name, const args *a)
{
    if (self->kind == V_LAYER) {
        if (a->n_pos || a->n_kw) return fail_at(it, at, CK_ERR_ARG, "TypeError: %s() takes no arguments", name), NULL;
        if (!strcmp(name, "get_weights")) return weights_list(it, at, NULL, self->layer);
        int64_t n = ck_layer_count_params(self->layer);
        if (n < 0)
            return fail_at(it, at, CK_ERR_STATE, "ValueError: layer '%s' is not built", ck_layer_name(self->layer)),
                   NULL;
        return int_value(it, n);
    }
    ck_model *m = self->model;
    if (!strcmp(name, "summary")) return summary_call(it, at, m, a);
    if (!strcmp(name, "compile")) return compile_call(it, at, m, a);
    if (!strcmp(name, "add")) {
        static const char *const params[] = {"layer", "rebuild", NULL};
        value *b[2];
        if (bind_params(it, at, "add", a, params, b)) return NULL;
        if (m->kind != CK_SEQUENTIAL) return unsupported(it, at, "add() on a functional model"), NULL;
        if (!b[0]) return fail_at(it, at, CK_ERR_ARG, "TypeError: add() missing the layer"), NULL;
        if (sequential_add(it, at, m, b[0], !b[1] || truthy(b[1]))) return NULL;
        /* Keras builds as soon as the model knows its input */
        if (sequential_has_input(m) && ck_model_build(m)) return lib_fail(it, at, CK_ERR_SHAPE), NULL;
        return &none_value;
    }
    if (!strcmp(name, "build")) {
        static const char *const params[] = {"input_shape", NULL};
        value *b[1];
        if (bind_params(it, at, "build", a, params, b)) return NULL;
        if (!b[0] || (b[0]->kind != V_TUPLE && b[0]->kind != V_LIST) || b[0]->n > CK_MAX_RANK)
            return fail_at(it, at, CK_ERR_ARG, "build: input_shape must be a tuple"), NULL;
        ck_shape s = {.rank = b[0]->n};
        for (int i = 0; i < s.rank; i++) {
            const value *d = b[0]->items[i];
            if (d->kind != V_NONE && d->kind != V_INT)
                return fail_at(it, at, CK_ERR_ARG, "build: dimensions are ints or None"), NULL;
            s.dim[i] = d->kind == V_NONE ? CK_NONE : d->i;
        }
        if (!ck_model_built(m) && m->kind == CK_SEQUENTIAL) {
            if (!m->input_layer && !next_name(it, "input_layer")) return NULL;
            if (!next_name(it, "functional")) return NULL;
        }
        ck_status st = ck_model_build_with(m, &s);
        if (st) return lib_fail(it, at, st), NULL;
        return &none_value;
    }
    if (!strcmp(name, "get_layer")) {
        if (a->n_pos != 1 || a->pos[0]->kind != V_STR || a->n_kw)
            return unsupported(it, at, "get_layer() but by name"), NULL;
        ck_layer *l = ck_model_get_layer(m, a->pos[0]->s);
        if (!l) return fail_at(it, at, CK_ERR_ARG, "ValueError: No such layer: %s", a->pos[0]->s), NULL;
        value *v = new_value(it, l->model ? V_MODEL : V_LAYER);
        if (v && l->model) v->model = l->model;
        else if (v) v->layer = l;
        return v;
    }
    if (a->n_kw || (a->n_pos && strcmp(name, "save")))
        return fail_at(it, at, CK_ERR_ARG, "TypeError: %s(): unexpected arguments", name), NULL;
    if (!strcmp(name, "count_params")) {
        if (!ck_model_built(m))
            return fail_at(it, at, CK_ERR_STATE, "ValueError: You tried to call `count_params` on layer '%s', but the "
                           "layer isn't built. You can build it manually via: `layer.build(input_shape)`.",
                           ck_model_name(m)), NULL;
        ck_param_counts c;
        ck_status st = ck_model_count_params(m, &c);
        if (st) return lib_fail(it, at, st), NULL;
        return int_value(it, c.trainable + c.non_trainable);
    }
    if (!strcmp(name, "get_weights")) return weights_list(it, at, m, NULL);
    /* save(filepath) */
    if (a->n_pos != 1 || a->pos[0]->kind != V_STR) return fail_at(it, at, CK_ERR_ARG, "save() takes a file path"), NULL;
    if (it->show) {
        ck_status st = ck_model_save(m, a->pos[0]->s);
        if (st) return lib_fail(it, at, st), NULL;
    }
    return &none_value;
}

/* keras.layers.concatenate(inputs, axis=-1, **kwargs) and its siblings: the layer
 * made from the keywords, called on the list. */
static value *merge_call(interp *it, const py_node *at, const char *cls, const args *a)
{
    if (a->n_pos < 1) return fail_at(it, at, CK_ERR_ARG, "TypeError: %s() missing the inputs", cls), NULL;
    args rest = *a;
    rest.n_pos = 0;
    /* dot(inputs, axes, normalize=False) takes axes positionally too */
    if (a->n_pos > 1) {
        const char *const *pos = ck_py_positional(cls);
        for (int i = 1; i < a->n_pos; i++) {
            if (!pos || !pos[i - 1] || rest.n_kw == 32)
                return fail_at(it, at, CK_ERR_ARG, "TypeError: too many arguments to %s()", cls), NULL;
            rest.kw_name[rest.n_kw] = pos[i - 1];
            rest.kw_node[rest.n_kw] = at;
            rest.kw[rest.n_kw++] = a->pos[i];
        }
    }
    value *layer = make_layer(it, at, cls, &rest);
    if (!layer) return NULL;
    args on = {.n_pos = 1, .pos = {a->pos[0]}};
    return call_on_tensors(it, at, layer, &on);
}

static value *call(interp *it, const py_node *n)
{
    value *callee = eval(it, n->a);
    if (!callee) return NULL;
    args a;
    if (eval_args(it, n, &a)) return NULL;
    switch (callee->kind) {
    case V_FUNC:
        if (!strcmp(callee->s, "layer")) return make_layer(it, n, callee->cls, &a);
        if (!strcmp(callee->s, "merge")) return merge_call(it, n, callee->cls, &a);
        if (!strcmp(callee->s, "keras.Sequential")) return make_sequential(it, n, &a);
        if (!strcmp(callee->s, "keras.Model")) return make_model(it, n, &a);
        if (!strcmp(callee->s, "keras.Input")) return make_input(it, n, &a);
        if (!strcmp(callee->s, "plot_model")) return plot_call(it, n, &a);
        if (!strcmp(callee->s, "set_global_policy")) return set_global_policy(it, n, &a);
        for (int i = 0; builtins[i]; i++)
            if (!strcmp(callee->s, builtins[i])) return builtin(it, n, callee->s, &a);
        return make_object(it, n, callee->s, callee->cls, &a);
    case V_METHOD: return model_method(it, n, callee->self, callee->s, &a);
    case V_LAYER: case V_MODEL: return call_on_tensors(it, n, callee, &a);
    default: {
        char what[96];
        snprintf(what, sizeof what, "calling a %s", type_name(callee));
        unsupported(it, n, what);
        return NULL;
    }
    }
}

static value *eval(interp *it, const py_node *n)
{
    if (it->error) return NULL;
    value *v = NULL, *a, *b;
    switch (n->kind) {
    case PY_NAME:
        if ((v = lookup(it, n->str))) return v;
        for (int i = 0; builtins[i]; i++)
            if (!strcmp(n->str, builtins[i])) return func_value(it, builtins[i], NULL);
        fail_at(it, n, CK_ERR_ARG, "NameError: name '%s' is not defined", n->str);
        return NULL;
    case PY_INT: return int_value(it, n->ival);
    case PY_FLOAT: return float_value(it, n->fval);
    case PY_STR: return str_value(it, n->str);
    case PY_TRUE: case PY_FALSE:
        if ((v = new_value(it, V_BOOL))) v->b = n->kind == PY_TRUE;
        return v;
    case PY_NONE: return &none_value;
    case PY_LIST: case PY_TUPLE: case PY_DICT:
        v = new_value(it, n->kind == PY_LIST ? V_LIST : n->kind == PY_TUPLE ? V_TUPLE : V_DICT);
        for (int i = 0; v && i < n->n; i++) {
            value *x = eval(it, n->items[i]);
            if (!x || append(it, v, x)) return NULL;
            if (n->kind == PY_DICT && i % 2 == 0 && x->kind != V_STR)
                return unsupported(it, n->items[i], "dict keys that are not strings"), NULL;
        }
        return v;
    case PY_ATTR: return (a = eval(it, n->a)) ? attribute(it, n, a) : NULL;
    case PY_INDEX: return (a = eval(it, n->a)) && (b = eval(it, n->b)) ? index_value(it, n, a, b) : NULL;
    case PY_CALL: return call(it, n);
    case PY_UNARY:
        if (!(a = eval(it, n->a))) return NULL;
        if (!is_number(a)) return unsupported(it, n, "unary minus on anything but a number"), NULL;
        if (n->op == '+') return a->kind == V_BOOL ? int_value(it, a->b) : a;
        if (a->kind == V_FLOAT) return float_value(it, -a->f);
        return (b = int_value(it, 0)) ? arith(it, n, '-', b, a) : NULL; /* 0 - a checks -(-2**63) */
    case PY_BINARY: return (a = eval(it, n->a)) && (b = eval(it, n->b)) ? arith(it, n, n->op, a, b) : NULL;
    case PY_COMPARE: return (a = eval(it, n->a)) && (b = eval(it, n->b)) ? compare(it, n, a, b) : NULL;
    case PY_AND: case PY_OR:
        if (!(a = eval(it, n->a))) return NULL;
        if (truthy(a) == (n->kind == PY_OR)) return a;
        return eval(it, n->b);
    case PY_NOT:
        if (!(a = eval(it, n->a)) || !(v = new_value(it, V_BOOL))) return NULL;
        v->b = !truthy(a);
        return v;
    default: break;
    }
    unsupported(it, n, "this expression");
    return NULL;
}

/* ---- statements ---------------------------------------------------------------------------------------- */
static ck_status exec_block(interp *it, py_node *const *stmts, int n);

static ck_status exec_import(interp *it, const py_node *s)
{
    const char *path = canonical_module(it, s->str);
    value *mod = module_value(it, path);
    if (!mod) return it->error;
    if (!mod->foreign && !is_keras_module(path)) {
        char what[160];
        snprintf(what, sizeof what, "import %s (not a Keras module ckeras reads)", s->str);
        return unsupported(it, s, what);
    }
    if (s->op) {
        /* `import keras.layers` binds the package itself */
        char top[128];
        snprintf(top, sizeof top, "%.*s", (int)strcspn(s->str, "."), s->str);
        mod = module_value(it, top);
        if (!mod) return it->error;
    }
    return bind(it, s->names[0], mod);
}

static ck_status exec_from(interp *it, const py_node *s)
{
    value *mod = module_value(it, s->str);
    if (!mod) return it->error;
    if (!mod->foreign && !is_keras_module(mod->s)) {
        char what[160];
        snprintf(what, sizeof what, "from %s import ... (not a Keras module ckeras reads)", s->str);
        return unsupported(it, s, what);
    }
    for (int i = 0; i < s->n; i++) {
        value *v = module_attr(it, mod, s->items[i]->str, s->items[i]);
        if (!v) return it->error;
        if (bind(it, s->names[i], v)) return it->error;
    }
    return CK_OK;
}

/* Keras's Layer.trainable setter sets every tracked sublayer too (a model's
 * layers, a wrapper's layer), recursively. */
static void set_trainable_deep(ck_layer *l, bool trainable)
{
    ck_layer_set_trainable(l, trainable);
    for (int i = 0; l->model && i < l->model->n_layers; i++) set_trainable_deep(l->model->layers[i], trainable);
    for (int i = 0; i < l->n_sublayers; i++) set_trainable_deep(l->sublayers[i], trainable);
}

static ck_status exec_assign(interp *it, const py_node *s)
{
    value *v = eval(it, s->b);
    if (!v) return it->error;
    if (s->a->kind == PY_NAME) {
        if (s->op) {
            value *old = lookup(it, s->a->str);
            if (!old) return fail_at(it, s->a, CK_ERR_ARG, "NameError: name '%s' is not defined", s->a->str);
            if (!(v = arith(it, s, s->op, old, v))) return it->error;
        }
        return bind(it, s->a->str, v);
    }
    /* obj.trainable = bool is the one attribute assignment of the subset */
    value *obj = eval(it, s->a->a);
    if (!obj) return it->error;
    if (s->op || strcmp(s->a->str, "trainable") || (obj->kind != V_LAYER && obj->kind != V_MODEL))
        return unsupported(it, s->a, "assigning attributes other than layer.trainable");
    if (v->kind != V_BOOL) return fail_at(it, s->b, CK_ERR_ARG, "trainable must be True or False");
    set_trainable_deep(obj->kind == V_LAYER ? obj->layer : &obj->model->base, v->b);
    return CK_OK;
}

static ck_status exec_stmt(interp *it, const py_node *s)
{
    switch (s->kind) {
    case PY_BLOCK: return exec_block(it, s->items, s->n);
    case PY_IMPORT: return exec_import(it, s);
    case PY_FROM: return exec_from(it, s);
    case PY_ASSIGN: return exec_assign(it, s);
    case PY_EXPR: return eval(it, s->a) ? CK_OK : it->error;
    case PY_PASS: return CK_OK;
    case PY_IF: {
        value *c = eval(it, s->a);
        if (!c) return it->error;
        if (truthy(c)) return exec_block(it, s->items, s->n);
        return s->b ? exec_stmt(it, s->b) : CK_OK;
    }
    case PY_FOR: {
        value *seq = eval(it, s->a);
        if (!seq) return it->error;
        if (seq->kind != V_LIST && seq->kind != V_TUPLE)
            return unsupported(it, s->a, "for loops over anything but range(), a list or a tuple");
        for (int i = 0; i < seq->n; i++) {
            if (++it->loop_steps > MAX_LOOP_STEPS)
                return unsupported(it, s, "loops of more than a million steps in all");
            if (bind(it, s->str, seq->items[i]) || exec_block(it, s->items, s->n)) return it->error;
        }
        return CK_OK;
    }
    default: return unsupported(it, s, "this statement");
    }
}

static ck_status exec_block(interp *it, py_node *const *stmts, int n)
{
    for (int i = 0; i < n; i++)
        if (exec_stmt(it, stmts[i])) {
            /* memory runs out where no node is at hand: name the statement */
            if (it->error == CK_ERR_NOMEM && strncmp(ck_errmsg(), it->origin, strlen(it->origin))) {
                char msg[256];
                snprintf(msg, sizeof msg, "%s", ck_errmsg());
                fail_at(it, stmts[i], CK_ERR_NOMEM, "%s", msg);
            }
            return it->error;
        }
    return CK_OK;
}

/* Frees what no model owns, and every model but `keep`. */
static void release(interp *it, ck_model *keep)
{
    /* decide everything before freeing anything: freeing a model frees what it owns */
    for (int i = 0; i < it->n_layers; i++)
        if (it->layers[i] && it->layers[i]->owner) it->layers[i] = NULL;
    for (int i = 0; i < it->n_models; i++)
        if (it->models[i] && (it->models[i] == keep || it->models[i]->base.owner)) it->models[i] = NULL;
    for (int i = 0; i < it->n_layers; i++) ck_layer_free(it->layers[i]);
    for (int i = 0; i < it->n_models; i++) ck_model_free(it->models[i]);
    ck_free(it->models);
    ck_free(it->layers);
    ck_free(it->vars);
    ck_free(it->uids);
    py_arena_free(&it->arena);
}

ck_status py_run(const char *origin, const py_node *module, bool show, int console_width, char **output,
                 ck_model **model)
{
    interp it = {.origin = origin, .show = show, .console_width = console_width};
    if (output) *output = NULL;
    if (model) *model = NULL;
    ck_status st = exec_block(&it, module->items, module->n);
    /* the model to hand out: the last one made that no other model holds */
    ck_model *keep = it.last_model && !it.last_model->base.owner ? it.last_model : NULL;
    for (int i = it.n_models - 1; !st && i >= 0 && !keep; i--)
        if (it.models[i] && !it.models[i]->base.owner && it.models[i] != it.graph) keep = it.models[i];
    if (!model || st) keep = NULL;
    if (output) *output = ck_buf_take(&it.out);
    else ck_buf_free(&it.out);
    release(&it, keep);
    if (model) *model = keep;
    return st;
}

/* ---- files ------------------------------------------------------------------------------------------------ */
static ck_status run_file(const char *path, bool show, int console_width, char **output, ck_model **model)
{
    char *text;
    size_t len;
    ck_status st = ck_read_file(path, &text, &len);
    if (st) return st;
    if (strlen(text) != len) {
        ck_free(text);
        return ck_fail(CK_ERR_FORMAT, "%s: not a text file (it holds NUL bytes)", path);
    }
    py_arena arena = {0};
    py_node *module;
    st = py_parse(path, text, &arena, &module);
    if (!st) st = py_run(path, module, show, console_width, output, model);
    py_arena_free(&arena);
    ck_free(text);
    return st;
}

ck_status ck_python_run(const char *path, int console_width, char **output, ck_model **model)
{
    if (!path || !output) return ck_fail(CK_ERR_ARG, "ck_python_run: NULL argument");
    return run_file(path, true, console_width, output, model);
}

ck_status ck_python_model_load(const char *path, ck_model **model)
{
    ck_status st = run_file(path, false, 0, NULL, model);
    if (!st && !*model) st = ck_fail(CK_ERR_FORMAT, "%s: the script makes no Keras model", path);
    return st;
}
