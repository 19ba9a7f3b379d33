/* The config codec: kwargs and JSON in, Keras 3 JSON out, driven by each class's
 * field table so that adding a layer never means writing a parser. */
#include "graph/config.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

/* ---- Python-literal kwargs ------------------------------------------------- */
typedef struct lexer {
    const char *s;
    size_t i;
} lexer;

static void skip_space(lexer *x)
{
    while (isspace((unsigned char)x->s[x->i])) x->i++;
}

static ck_status parse_value(lexer *x, json_t **out, int depth);

static ck_status lex_error(lexer *x, const char *what)
{
    return ck_fail(CK_ERR_CONFIG, "kwargs \"%s\": %s at offset %zu", x->s, what, x->i);
}

static ck_status parse_string(lexer *x, json_t **out)
{
    char quote = x->s[x->i++];
    ck_buf b = {0};
    while (x->s[x->i] && x->s[x->i] != quote) {
        if (x->s[x->i] == '\\' && x->s[x->i + 1]) x->i++;
        ck_buf_putn(&b, x->s + x->i, 1);
        x->i++;
    }
    if (x->s[x->i] != quote) {
        ck_buf_free(&b);
        return lex_error(x, "unterminated string");
    }
    x->i++;
    *out = json_string(b.data ? b.data : "");
    ck_buf_free(&b);
    return *out ? CK_OK : ck_fail(CK_ERR_CONFIG, "kwargs: string is not valid UTF-8");
}

static ck_status parse_sequence(lexer *x, json_t **out, char close, int depth)
{
    json_t *arr = json_array();
    x->i++;
    for (;;) {
        skip_space(x);
        if (x->s[x->i] == close) {
            x->i++;
            *out = arr;
            return CK_OK;
        }
        json_t *v;
        ck_status st = parse_value(x, &v, depth + 1);
        if (st) {
            json_decref(arr);
            return st;
        }
        json_array_append_new(arr, v);
        skip_space(x);
        if (x->s[x->i] == ',') x->i++;
        else if (x->s[x->i] != close) {
            json_decref(arr);
            return lex_error(x, "expected ',' or closing bracket");
        }
    }
}

static ck_status parse_dict(lexer *x, json_t **out, int depth)
{
    json_t *obj = json_object();
    x->i++;
    for (;;) {
        skip_space(x);
        if (x->s[x->i] == '}') {
            x->i++;
            *out = obj;
            return CK_OK;
        }
        json_t *k = NULL, *v = NULL;
        ck_status st = parse_value(x, &k, depth + 1);
        if (!st && !json_is_string(k)) st = lex_error(x, "dict keys must be strings");
        if (!st) skip_space(x); /* after an error x->i may be at the end of the text */
        if (!st && x->s[x->i] != ':') st = lex_error(x, "expected ':'");
        if (!st) x->i++;
        if (!st) st = parse_value(x, &v, depth + 1);
        if (st) {
            json_decref(k);
            json_decref(obj);
            return st;
        }
        json_object_set_new(obj, json_string_value(k), v);
        json_decref(k);
        skip_space(x);
        if (x->s[x->i] == ',') x->i++;
        else if (x->s[x->i] != '}') {
            json_decref(obj);
            return lex_error(x, "expected ',' or '}'");
        }
    }
}

static ck_status parse_word(lexer *x, json_t **out)
{
    size_t start = x->i;
    while (isalnum((unsigned char)x->s[x->i]) || x->s[x->i] == '_') x->i++;
    size_t n = x->i - start;
    const char *w = x->s + start;
    if ((n == 4 && !strncmp(w, "True", 4)) || (n == 4 && !strncmp(w, "true", 4))) *out = json_true();
    else if ((n == 5 && !strncmp(w, "False", 5)) || (n == 5 && !strncmp(w, "false", 5))) *out = json_false();
    else if ((n == 4 && !strncmp(w, "None", 4)) || (n == 4 && !strncmp(w, "null", 4))) *out = json_null();
    else return lex_error(x, "expected a value");
    return CK_OK;
}

static ck_status parse_number(lexer *x, json_t **out)
{
    const char *start = x->s + x->i;
    char *end;
    bool is_float = false;
    for (const char *p = start; *p && (isalnum((unsigned char)*p) || strchr("+-.", *p)); p++)
        if (*p == '.' || *p == 'e' || *p == 'E') is_float = true;
    double d = 0;
    long long v = 0;
    if (is_float) d = strtod(start, &end);
    else v = strtoll(start, &end, 10);
    if (end == start) return lex_error(x, "bad number");
    *out = is_float ? json_real(d) : json_integer(v);
    x->i += (size_t)(end - start);
    return CK_OK;
}

static ck_status parse_value(lexer *x, json_t **out, int depth)
{
    if (depth > 32) return lex_error(x, "nesting too deep");
    skip_space(x);
    char c = x->s[x->i];
    if (c == '\'' || c == '"') return parse_string(x, out);
    if (c == '(') return parse_sequence(x, out, ')', depth);
    if (c == '[') return parse_sequence(x, out, ']', depth);
    if (c == '{') return parse_dict(x, out, depth);
    if (c == '-' || c == '+' || c == '.' || isdigit((unsigned char)c)) return parse_number(x, out);
    if (isalpha((unsigned char)c)) return parse_word(x, out);
    return lex_error(x, "expected a value");
}

/* Is the item at x "name =" (a keyword) rather than a value? Leaves x as it was. */
static bool at_keyword(const lexer *x)
{
    size_t i = x->i;
    if (!isalpha((unsigned char)x->s[i]) && x->s[i] != '_') return false;
    while (isalnum((unsigned char)x->s[i]) || x->s[i] == '_') i++;
    while (isspace((unsigned char)x->s[i])) i++;
    return x->s[i] == '=' && x->s[i + 1] != '=';
}

ck_status ck_kwargs_parse_args(const char *kwargs, const char *const *positional, json_t **out)
{
    json_t *obj = json_object();
    lexer x = {kwargs ? kwargs : "", 0};
    int n_positional = 0;
    bool keywords = false;
    ck_status st = CK_OK;
    for (;;) {
        skip_space(&x);
        if (!x.s[x.i]) break;
        char key[CK_STR_MAX];
        if (at_keyword(&x)) {
            size_t start = x.i;
            while (isalnum((unsigned char)x.s[x.i]) || x.s[x.i] == '_') x.i++;
            snprintf(key, sizeof key, "%.*s", (int)(x.i - start), x.s + start);
            skip_space(&x);
            x.i++; /* '=' */
            keywords = true;
            if (json_object_get(obj, key)) { /* Python: "keyword argument repeated" */
                st = ck_fail(CK_ERR_CONFIG, "kwargs \"%s\": keyword argument '%s' given more than once", x.s, key);
                break;
            }
        } else if (keywords) {
            st = lex_error(&x, "positional argument follows keyword argument");
            break;
        } else if (!positional || !positional[n_positional]) {
            st = !positional || !n_positional ? lex_error(&x, "expected a keyword (name=value)")
                                              : lex_error(&x, "more positional arguments than the class takes");
            break;
        } else {
            snprintf(key, sizeof key, "%s", positional[n_positional++]);
        }
        json_t *v;
        if ((st = parse_value(&x, &v, 0))) break;
        json_object_set_new(obj, key, v);
        skip_space(&x);
        if (x.s[x.i] == ',') x.i++;
        else if (x.s[x.i]) {
            st = lex_error(&x, "expected ','");
            break;
        }
    }
    if (st) {
        json_decref(obj);
        return st;
    }
    *out = obj;
    return CK_OK;
}

ck_status ck_kwargs_parse(const char *kwargs, json_t **out) { return ck_kwargs_parse_args(kwargs, NULL, out); }

/* ---- shapes ------------------------------------------------------------------ */
json_t *ck_shape_to_json(const ck_shape *s, int from)
{
    json_t *a = json_array();
    for (int i = from; i < s->rank; i++)
        json_array_append_new(a, s->dim[i] == CK_NONE ? json_null() : json_integer(s->dim[i]));
    return a;
}

ck_status ck_shape_from_json(json_t *v, ck_shape *out, bool prepend_batch)
{
    if (json_is_integer(v)) { /* input_shape=5 is accepted by Keras as (5,) */
        *out = (ck_shape){.rank = prepend_batch ? 2 : 1};
        out->dim[0] = CK_NONE; /* the batch, when prepended */
        out->dim[out->rank - 1] = json_integer_value(v);
    } else {
        if (!json_is_array(v)) return ck_fail(CK_ERR_CONFIG, "expected a shape tuple");
        size_t n = json_array_size(v) + (prepend_batch ? 1 : 0);
        if (n > CK_MAX_RANK)
            return ck_fail(CK_ERR_SHAPE, "shape has rank %zu; at most %d is supported", n, CK_MAX_RANK);
        *out = (ck_shape){.rank = (int)n};
        int o = prepend_batch ? 1 : 0;
        if (prepend_batch) out->dim[0] = CK_NONE;
        for (size_t i = 0; i < json_array_size(v); i++) {
            json_t *d = json_array_get(v, i);
            if (json_is_null(d)) out->dim[i + o] = CK_NONE;
            else if (json_is_integer(d)) out->dim[i + o] = json_integer_value(d);
            else return ck_fail(CK_ERR_CONFIG, "shape entries must be integers or None");
        }
    }
    for (int i = 0; i < out->rank; i++) {
        if (out->dim[i] == CK_NONE) continue;
        if (out->dim[i] < 0)
            return ck_fail(CK_ERR_SHAPE, "negative dimension %lld", (long long)out->dim[i]);
        if (out->dim[i] > CK_MAX_DIM)
            return ck_fail(CK_ERR_SHAPE, "dimension %lld is too large (max 2^40)",
                           (long long)out->dim[i]);
    }
    return CK_OK;
}

/* ---- initializers ------------------------------------------------------------ */
static const struct {
    const char *class_name, *alias;
    ck_init_kind kind;
} init_names[] = {
    {"Zeros", "zeros", CK_INIT_ZEROS},
    {"Ones", "ones", CK_INIT_ONES},
    {"Constant", "constant", CK_INIT_CONSTANT},
    {"RandomUniform", "random_uniform", CK_INIT_RANDOM_UNIFORM},
    {"RandomNormal", "random_normal", CK_INIT_RANDOM_NORMAL},
    {"TruncatedNormal", "truncated_normal", CK_INIT_TRUNCATED_NORMAL},
    {"VarianceScaling", "variance_scaling", CK_INIT_VARIANCE_SCALING},
    {"GlorotUniform", "glorot_uniform", CK_INIT_GLOROT_UNIFORM},
    {"GlorotNormal", "glorot_normal", CK_INIT_GLOROT_NORMAL},
    {"HeUniform", "he_uniform", CK_INIT_HE_UNIFORM},
    {"HeNormal", "he_normal", CK_INIT_HE_NORMAL},
    {"LecunUniform", "lecun_uniform", CK_INIT_LECUN_UNIFORM},
    {"LecunNormal", "lecun_normal", CK_INIT_LECUN_NORMAL},
    {"Orthogonal", "orthogonal", CK_INIT_ORTHOGONAL},
    {"Identity", "identity", CK_INIT_IDENTITY},
};
#define N_INIT_NAMES CK_N_OF(init_names)
_Static_assert(CK_N_OF(init_names) == CK_INIT_COUNT, "initializer names");

static void init_defaults(ck_init *in, ck_init_kind kind)
{
    *in = (ck_init){.kind = kind};
    switch (kind) {
    case CK_INIT_RANDOM_UNIFORM: in->a = -0.05, in->b = 0.05; break;
    case CK_INIT_RANDOM_NORMAL:
    case CK_INIT_TRUNCATED_NORMAL: in->a = 0.0, in->b = 0.05; break;
    case CK_INIT_VARIANCE_SCALING:
        in->a = 1.0, in->mode = CK_FAN_IN, in->distribution = CK_DIST_TRUNCATED_NORMAL;
        break;
    case CK_INIT_ORTHOGONAL:
    case CK_INIT_IDENTITY: in->a = 1.0; break;
    default: break;
    }
}

static bool name_matches(const char *given, int i)
{
    /* Keras accepts both "glorot_uniform" and "GlorotUniform"; "uniform"/"normal"
     * are Keras's aliases for the random ones. */
    return !strcmp(given, init_names[i].class_name) || !strcmp(given, init_names[i].alias) ||
           (!strcmp(given, "uniform") && init_names[i].kind == CK_INIT_RANDOM_UNIFORM) ||
           (!strcmp(given, "normal") && init_names[i].kind == CK_INIT_RANDOM_NORMAL) ||
           (!strcmp(given, "IdentityInitializer") && init_names[i].kind == CK_INIT_IDENTITY) ||
           (!strcmp(given, "OrthogonalInitializer") && init_names[i].kind == CK_INIT_ORTHOGONAL);
}

ck_status ck_init_from_name(const char *name, ck_init *out)
{
    for (int i = 0; i < N_INIT_NAMES; i++) {
        if (name_matches(name, i)) {
            init_defaults(out, init_names[i].kind);
            return CK_OK;
        }
    }
    return ck_fail(CK_ERR_CONFIG, "unknown initializer '%s'", name);
}

const char *ck_init_class_name(const ck_init *init) { return init_names[init->kind].class_name; }

static ck_status get_number(json_t *cfg, const char *key, double *out)
{
    json_t *v = json_object_get(cfg, key);
    if (!v || json_is_null(v)) return CK_OK;
    if (!json_is_number(v)) return ck_fail(CK_ERR_CONFIG, "initializer field '%s' must be a number", key);
    *out = json_number_value(v);
    return CK_OK;
}

static ck_status read_variance_scaling(json_t *cfg, ck_init *out)
{
    json_t *mode = json_object_get(cfg, "mode"), *dist = json_object_get(cfg, "distribution");
    if (json_is_string(mode)) {
        const char *m = json_string_value(mode);
        if (!strcmp(m, "fan_in")) out->mode = CK_FAN_IN;
        else if (!strcmp(m, "fan_out")) out->mode = CK_FAN_OUT;
        else if (!strcmp(m, "fan_avg")) out->mode = CK_FAN_AVG;
        else return ck_fail(CK_ERR_CONFIG, "VarianceScaling mode '%s' is not fan_in/fan_out/fan_avg", m);
    }
    if (json_is_string(dist)) {
        const char *d = json_string_value(dist);
        if (!strcmp(d, "uniform")) out->distribution = CK_DIST_UNIFORM;
        else if (!strcmp(d, "truncated_normal") || !strcmp(d, "normal")) out->distribution = CK_DIST_TRUNCATED_NORMAL;
        else if (!strcmp(d, "untruncated_normal")) out->distribution = CK_DIST_NORMAL;
        else return ck_fail(CK_ERR_CONFIG, "VarianceScaling distribution '%s' is unknown", d);
    }
    return get_number(cfg, "scale", &out->a);
}

ck_status ck_init_from_json(json_t *v, ck_init *out)
{
    if (json_is_string(v)) return ck_init_from_name(json_string_value(v), out);
    if (!json_is_object(v)) return ck_fail(CK_ERR_CONFIG, "initializer must be a name or an object");
    json_t *cn = json_object_get(v, "class_name");
    if (!json_is_string(cn)) return ck_fail(CK_ERR_CONFIG, "initializer object has no class_name");
    ck_status st = ck_init_from_name(json_string_value(cn), out);
    if (st) return st;
    json_t *cfg = json_object_get(v, "config");
    if (!json_is_object(cfg)) return CK_OK;
    json_t *seed = json_object_get(cfg, "seed");
    if (json_is_integer(seed)) out->has_seed = true, out->seed = json_integer_value(seed);
    switch (out->kind) {
    case CK_INIT_CONSTANT: return get_number(cfg, "value", &out->a);
    case CK_INIT_RANDOM_UNIFORM:
        if ((st = get_number(cfg, "minval", &out->a))) return st;
        return get_number(cfg, "maxval", &out->b);
    case CK_INIT_RANDOM_NORMAL:
    case CK_INIT_TRUNCATED_NORMAL:
        if ((st = get_number(cfg, "mean", &out->a))) return st;
        return get_number(cfg, "stddev", &out->b);
    case CK_INIT_VARIANCE_SCALING: return read_variance_scaling(cfg, out);
    case CK_INIT_ORTHOGONAL: return get_number(cfg, "gain", &out->a);
    case CK_INIT_IDENTITY: return get_number(cfg, "gain", &out->a);
    default: return CK_OK;
    }
}

json_t *ck_init_to_json(const ck_init *in)
{
    json_t *cfg = json_object();
    json_t *seed = in->has_seed ? json_integer(in->seed) : json_null();
    static const char *const modes[] = {"fan_in", "fan_out", "fan_avg"};
    static const char *const dists[] = {"uniform", "truncated_normal", "untruncated_normal"};
    switch (in->kind) {
    case CK_INIT_ZEROS:
    case CK_INIT_ONES: json_decref(seed); break;
    case CK_INIT_CONSTANT:
        json_object_set_new(cfg, "value", json_real(in->a));
        json_decref(seed);
        break;
    case CK_INIT_RANDOM_UNIFORM:
        json_object_set_new(cfg, "seed", seed);
        json_object_set_new(cfg, "minval", json_real(in->a));
        json_object_set_new(cfg, "maxval", json_real(in->b));
        break;
    case CK_INIT_RANDOM_NORMAL:
    case CK_INIT_TRUNCATED_NORMAL:
        json_object_set_new(cfg, "seed", seed);
        json_object_set_new(cfg, "mean", json_real(in->a));
        json_object_set_new(cfg, "stddev", json_real(in->b));
        break;
    case CK_INIT_VARIANCE_SCALING:
        json_object_set_new(cfg, "seed", seed);
        json_object_set_new(cfg, "scale", json_real(in->a));
        json_object_set_new(cfg, "mode", json_string(modes[in->mode]));
        json_object_set_new(cfg, "distribution", json_string(dists[in->distribution]));
        json_object_set_new(cfg, "input_axes", json_null());
        json_object_set_new(cfg, "output_axes", json_null());
        break;
    case CK_INIT_ORTHOGONAL:
    case CK_INIT_IDENTITY:
        json_object_set_new(cfg, "seed", seed);
        json_object_set_new(cfg, "gain", json_real(in->a));
        break;
    default: /* Glorot/He/Lecun */
        json_object_set_new(cfg, "seed", seed);
        json_object_set_new(cfg, "input_axes", json_null());
        json_object_set_new(cfg, "output_axes", json_null());
        break;
    }
    return json_pack("{s:s, s:s, s:o, s:n}", "module", "keras.initializers", "class_name",
                     ck_init_class_name(in), "config", cfg, "registered_name");
}

/* ---- fields -------------------------------------------------------------------- */
static ck_status set_ints(const ck_field *f, json_t *v, ck_ints *out)
{
    ck_ints r = {0};
    if (json_is_integer(v)) {
        r.n = f->arity ? f->arity : 1;
        for (int i = 0; i < r.n; i++) r.v[i] = json_integer_value(v);
    } else if (json_is_array(v)) {
        size_t n = json_array_size(v);
        if (n > CK_MAX_RANK || (f->arity && (int)n != f->arity))
            return ck_fail(CK_ERR_CONFIG, "expected %d integers, got %zu", f->arity, n);
        r.n = (int)n;
        for (size_t i = 0; i < n; i++) {
            json_t *e = json_array_get(v, i);
            if (json_is_null(e) && (f->flags & CK_FF_NONE_ITEMS)) {
                r.v[i] = CK_NONE;
                continue;
            }
            if (!json_is_integer(e))
                return ck_fail(CK_ERR_CONFIG, (f->flags & CK_FF_NONE_ITEMS) ? "expected integers or None"
                                                                             : "expected integers");
            r.v[i] = json_integer_value(e);
        }
    } else {
        return ck_fail(CK_ERR_CONFIG, "expected an integer or a tuple of integers");
    }
    *out = r;
    return CK_OK;
}

/* A .keras config.json marks objects shared between layers (Bidirectional's two
 * RNNs share initializers) with shared_object_id; to_json() never writes it, and
 * nor does ckeras. */
static void drop_shared_object_ids(json_t *v)
{
    const char *key;
    json_t *e;
    size_t i;
    if (json_is_object(v)) {
        json_object_del(v, "shared_object_id");
        json_object_foreach(v, key, e) drop_shared_object_ids(e);
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, e) drop_shared_object_ids(e);
    }
}

static ck_status set_null(const ck_field *f, void *p)
{
    if (!(f->flags & CK_FF_NULLABLE)) return ck_fail(CK_ERR_CONFIG, "None is not allowed");
    switch (f->type) {
    case CK_FT_INT: *(int64_t *)p = CK_INT_NULL; break;
    case CK_FT_FLOAT: *(double *)p = NAN; break;
    case CK_FT_STR: ((char *)p)[0] = '\0'; break;
    case CK_FT_INTS: *(ck_ints *)p = (ck_ints){.is_null = true}; break;
    case CK_FT_SHAPE: *(ck_shape *)p = (ck_shape){.rank = -1}; break;
    case CK_FT_ACT: return ck_activation_parse("linear", p);
    default: break;
    }
    return CK_OK;
}

static ck_status set_str(const ck_field *f, json_t *v, char *out)
{
    if (!json_is_string(v)) return ck_fail(CK_ERR_CONFIG, "expected a string");
    const char *s = json_string_value(v);
    if (strlen(s) >= CK_STR_MAX) return ck_fail(CK_ERR_CONFIG, "string is too long");
    if (f->choices) {
        bool ok = false;
        for (const char *const *c = f->choices; *c; c++) ok = ok || !strcmp(*c, s);
        if (!ok) {
            ck_buf b = {0};
            for (const char *const *c = f->choices; *c; c++)
                ck_buf_printf(&b, "%s'%s'", c == f->choices ? "" : ", ", *c);
            ck_fail(CK_ERR_CONFIG, "'%s' is not one of %s", s, b.data ? b.data : "");
            ck_buf_free(&b);
            return CK_ERR_CONFIG;
        }
    }
    snprintf(out, CK_STR_MAX, "%s", s);
    return CK_OK;
}

static ck_status set_field(const ck_field *f, void *cfg, json_t *v)
{
    void *p = (char *)cfg + f->offset;
    if (json_is_null(v) && f->type != CK_FT_JSON) return set_null(f, p);
    switch (f->type) {
    case CK_FT_INT:
        /* Keras writes 2.0 for some integers; 2^63 is exact in a double and
         * anything at or beyond it cannot be converted (undefined in C). */
        if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) && fabs(json_real_value(v)) < 0x1p63)
            *(int64_t *)p = (int64_t)json_real_value(v);
        else if (json_is_integer(v)) *(int64_t *)p = json_integer_value(v);
        else return ck_fail(CK_ERR_CONFIG, "expected an integer");
        return CK_OK;
    case CK_FT_FLOAT:
        if (!json_is_number(v)) return ck_fail(CK_ERR_CONFIG, "expected a number");
        *(double *)p = json_number_value(v);
        return CK_OK;
    case CK_FT_BOOL:
        if (!json_is_boolean(v)) return ck_fail(CK_ERR_CONFIG, "expected True or False");
        *(bool *)p = json_is_true(v);
        return CK_OK;
    case CK_FT_STR: return set_str(f, v, p);
    case CK_FT_INTS: return set_ints(f, v, p);
    case CK_FT_SHAPE: return ck_shape_from_json(v, p, false);
    case CK_FT_ACT:
        if (!json_is_string(v)) return ck_fail(CK_ERR_CONFIG, "activation must be a name");
        return ck_activation_parse(json_string_value(v), p);
    case CK_FT_INIT: return ck_init_from_json(v, p);
    case CK_FT_JSON: {
        char **s = p;
        ck_free(*s);
        json_t *copy = json_deep_copy(v);
        drop_shared_object_ids(copy);
        *s = json_is_null(copy) ? NULL : json_dumps(copy, JSON_COMPACT | JSON_ENCODE_ANY);
        json_decref(copy);
        return CK_OK;
    }
    }
    return CK_ERR_CONFIG;
}

static ck_status apply_field(ck_layer *l, const ck_field *f, json_t *v)
{
    ck_status st = set_field(f, l->config, v);
    if (st) return ck_fail_prefix(st, "%s '%s', field '%s': ", l->cls->class_name, l->name, f->name);
    return CK_OK;
}

ck_status ck_config_set_defaults(ck_layer *l)
{
    for (int i = 0; i < l->cls->n_fields; i++) {
        const ck_field *f = &l->cls->fields[i];
        if (!f->def) continue;
        json_t *v = json_loads(f->def, JSON_DECODE_ANY, NULL);
        if (!v) return ck_fail(CK_ERR_CONFIG, "%s: bad default for '%s'", l->cls->class_name, f->name);
        ck_status st = apply_field(l, f, v);
        json_decref(v);
        if (st) return st;
    }
    return CK_OK;
}

static const ck_field *find_field(const ck_layer_class *c, const char *key)
{
    for (int i = 0; i < c->n_fields; i++)
        if (!strcmp(c->fields[i].name, key)) return &c->fields[i];
    return NULL;
}

static ck_status apply_dtype(ck_layer *l, json_t *v)
{
    /* Keras 2 writes "float32"; Keras 3 a DTypePolicy object with config.name. */
    if (json_is_object(v)) v = json_object_get(json_object_get(v, "config"), "name");
    if (json_is_null(v) || !v) return CK_OK;
    if (!json_is_string(v))
        return ck_fail(CK_ERR_CONFIG, "%s '%s', field 'dtype': expected a dtype name",
                       l->cls->class_name, l->name);
    const char *d = json_string_value(v);
    if (strcmp(d, "float32") && strcmp(d, "mixed_float16") && strcmp(d, "float16") &&
        strcmp(d, "float64") && strcmp(d, "int32") && strcmp(d, "int64") && strcmp(d, "mixed_bfloat16") &&
        strcmp(d, "bfloat16") && strcmp(d, "uint8") && strcmp(d, "bool"))
        return ck_fail(CK_ERR_UNSUPPORTED, "%s '%s', field 'dtype': dtype '%s' is not supported",
                       l->cls->class_name, l->name, d);
    snprintf(l->dtype, sizeof l->dtype, "%s", d);
    return CK_OK;
}

static ck_status apply_input_shape(ck_layer *l, const char *key, json_t *v)
{
    bool with_batch = strcmp(key, "batch_input_shape") == 0 || strcmp(key, "batch_shape") == 0;
    ck_status st;
    if (!strcmp(key, "input_dim")) {
        if (!json_is_integer(v)) st = ck_fail(CK_ERR_CONFIG, "expected an integer");
        else st = ck_shape_from_json(v, &l->input_shape, true);
    } else if (!strcmp(key, "batch_size")) {
        if (json_is_null(v)) return CK_OK;
        if (!json_is_integer(v) || json_integer_value(v) <= 0) st = ck_fail(CK_ERR_CONFIG, "expected a positive integer");
        else {
            l->input_shape.dim[0] = json_integer_value(v);
            return CK_OK;
        }
    } else {
        int64_t batch = l->has_input_shape ? l->input_shape.dim[0] : CK_NONE;
        st = ck_shape_from_json(v, &l->input_shape, !with_batch);
        if (!st && !with_batch) l->input_shape.dim[0] = batch;
    }
    if (st) return ck_fail_prefix(st, "%s '%s', field '%s': ", l->cls->class_name, l->name, key);
    l->has_input_shape = true;
    return CK_OK;
}

static bool is_input_shape_key(const char *k)
{
    return !strcmp(k, "input_shape") || !strcmp(k, "batch_input_shape") ||
           !strcmp(k, "batch_shape") || !strcmp(k, "input_dim") || !strcmp(k, "batch_size");
}

static ck_status apply_common(ck_layer *l, const char *key, json_t *v, bool *handled)
{
    *handled = true;
    if (!strcmp(key, "name")) {
        if (!json_is_string(v) || !*json_string_value(v) || strlen(json_string_value(v)) >= CK_NAME_MAX)
            return ck_fail(CK_ERR_CONFIG, "%s: field 'name' must be a non-empty string under %d bytes",
                           l->cls->class_name, CK_NAME_MAX);
        snprintf(l->name, sizeof l->name, "%s", json_string_value(v));
        l->auto_named = false;
        return CK_OK;
    }
    if (!strcmp(key, "trainable")) {
        if (!json_is_boolean(v))
            return ck_fail(CK_ERR_CONFIG, "%s '%s', field 'trainable': expected True or False",
                           l->cls->class_name, l->name);
        l->trainable = json_is_true(v);
        return CK_OK;
    }
    if (!strcmp(key, "dtype")) return apply_dtype(l, v);
    /* keras.layers.InputLayer(shape=...) names its shape without the batch. */
    bool input_layer_shape = !strcmp(key, "shape") && !strcmp(l->cls->class_name, "InputLayer");
    if ((is_input_shape_key(key) || input_layer_shape) && !find_field(l->cls, key)) {
        if (json_is_null(v)) return CK_OK;
        return apply_input_shape(l, key, v);
    }
    *handled = false;
    return CK_OK;
}

ck_status ck_config_apply(ck_layer *l, json_t *obj, bool strict)
{
    if (!json_is_object(obj)) return ck_fail(CK_ERR_CONFIG, "%s: config must be an object", l->cls->class_name);
    /* The name first, so that messages about other fields can name the layer. */
    json_t *name = json_object_get(obj, "name");
    bool handled;
    ck_status st;
    if (name && (st = apply_common(l, "name", name, &handled))) return st;
    const char *key;
    json_t *v;
    const char *old_name = l->cls->keras.keras2_name;
    json_object_foreach(obj, key, v) {
        if (!strcmp(key, "name") || (old_name && !strcmp(key, old_name))) continue;
        if ((st = apply_common(l, key, v, &handled))) return st;
        if (handled) continue;
        const ck_field *f = find_field(l->cls, key);
        if (f) {
            if ((st = apply_field(l, f, v))) return st;
        } else if (strict) {
            return ck_fail(CK_ERR_CONFIG, "%s '%s': unknown keyword argument '%s'",
                           l->cls->class_name, l->name, key);
        }
    }
    json_t *old_value = old_name ? json_object_get(obj, old_name) : NULL;
    const ck_field *renamed = old_value ? find_field(l->cls, l->cls->keras.keras2_field) : NULL;
    if (renamed && (st = apply_field(l, renamed, old_value))) return st;
    for (int i = 0; i < l->cls->n_fields; i++) {
        const ck_field *f = &l->cls->fields[i];
        if (!f->def && !json_object_get(obj, f->name) && (f->flags & CK_FF_REQUIRED))
            return ck_fail(CK_ERR_CONFIG, "%s '%s': missing required argument '%s'",
                           l->cls->class_name, l->name, f->name);
    }
    return CK_OK;
}

void ck_config_release(ck_layer *l)
{
    if (!l->config) return;
    for (int i = 0; i < l->cls->n_fields; i++) {
        const ck_field *f = &l->cls->fields[i];
        if (f->type == CK_FT_JSON) {
            char **s = (char **)((char *)l->config + f->offset);
            ck_free(*s);
            *s = NULL;
        }
    }
}

/* ---- writing ------------------------------------------------------------------- */
static json_t *field_to_json(const ck_field *f, const void *cfg)
{
    const void *p = (const char *)cfg + f->offset;
    switch (f->type) {
    case CK_FT_INT: {
        int64_t v = *(const int64_t *)p;
        return v == CK_INT_NULL ? json_null() : json_integer(v);
    }
    case CK_FT_FLOAT: {
        double v = *(const double *)p;
        return isnan(v) ? json_null() : json_real(v);
    }
    case CK_FT_BOOL: return json_boolean(*(const bool *)p);
    case CK_FT_STR: {
        const char *s = p;
        return (!*s && (f->flags & CK_FF_NULLABLE)) ? json_null() : json_string(s);
    }
    case CK_FT_INTS: {
        const ck_ints *t = p;
        if (t->is_null) return json_null();
        if (f->flags & CK_FF_SERIALIZE_INT && t->n == 1) return json_integer(t->v[0]);
        json_t *a = json_array();
        for (int i = 0; i < t->n; i++)
            json_array_append_new(a, t->v[i] == CK_NONE && (f->flags & CK_FF_NONE_ITEMS) ? json_null()
                                                                                         : json_integer(t->v[i]));
        return a;
    }
    case CK_FT_SHAPE: {
        const ck_shape *s = p;
        if (s->rank < 0) return json_null();
        json_t *a = ck_shape_to_json(s, 0);
        for (int i = 0; (f->flags & CK_FF_MINUS1) && i < s->rank; i++)
            if (s->dim[i] == CK_NONE) json_array_set_new(a, (size_t)i, json_integer(-1));
        return a;
    }
    case CK_FT_ACT: return json_string(((const ck_act *)p)->name);
    case CK_FT_INIT: return ck_init_to_json(p);
    case CK_FT_JSON: {
        const char *s = *(char *const *)p;
        return s ? json_loads(s, JSON_DECODE_ANY, NULL) : json_null();
    }
    }
    return json_null();
}

static json_t *dtype_policy_json(const char *dtype)
{
    return json_pack("{s:s, s:s, s:{s:s}, s:n}", "module", "keras", "class_name", "DTypePolicy",
                     "config", "name", dtype, "registered_name");
}

/* {"query_shape": ..., "value_shape": ...}: the build shapes under the names of
 * Keras's build() arguments; a name ending "[]" takes the remaining inputs. */
static json_t *shapes_dict_json(const ck_layer *l)
{
    json_t *d = json_object();
    const char *const *names = l->cls->keras.build_shape_names;
    for (int i = 0, k = 0; names[k] && i < l->n_in; k++) {
        size_t len = strlen(names[k]);
        if (len > 2 && !strcmp(names[k] + len - 2, "[]")) {
            json_t *rest = json_array();
            for (; i < l->n_in; i++) json_array_append_new(rest, ck_shape_to_json(&l->in_shapes[i], 0));
            char key[64];
            snprintf(key, sizeof key, "%.*s", (int)(len - 2), names[k]);
            json_object_set_new(d, key, rest);
        } else {
            json_object_set_new(d, names[k], ck_shape_to_json(&l->in_shapes[i++], 0));
        }
    }
    return d;
}

json_t *ck_layer_to_json(const ck_layer *l)
{
    json_t *cfg = json_object();
    json_object_set_new(cfg, "name", json_string(l->name));
    if (l->cls->keras.bare_config) {
        json_object_set_new(cfg, "dtype", json_string(l->dtype));
    } else {
        json_object_set_new(cfg, "trainable", json_boolean(l->trainable));
        json_object_set_new(cfg, "dtype", dtype_policy_json(l->dtype));
    }
    for (int i = 0; i < l->cls->n_fields; i++) {
        const ck_field *f = &l->cls->fields[i];
        json_t *v = field_to_json(f, l->config);
        if ((f->flags & CK_FF_OMIT_NULL) && json_is_null(v)) json_decref(v);
        else json_object_set_new(cfg, f->name, v);
    }
    const char *saved = l->cls->keras.saved_name ? l->cls->keras.saved_name : l->cls->class_name;
    json_t *o = json_pack("{s:s, s:s, s:o, s:n}", "module", l->cls->module, "class_name", saved, "config", cfg,
                          "registered_name");
    if (l->built && l->n_in > 1 && l->cls->keras.build_shape_names) {
        json_object_set_new(o, "build_config", json_pack("{s:o}", "shapes_dict", shapes_dict_json(l)));
    } else if (l->built && l->n_in > 0 && !l->cls->keras.no_build_config) {
        json_t *shape = l->n_in == 1 ? ck_shape_to_json(&l->in_shapes[0], 0) : json_array();
        for (int i = 0; l->n_in > 1 && i < l->n_in; i++)
            json_array_append_new(shape, ck_shape_to_json(&l->in_shapes[i], 0));
        json_object_set_new(o, "build_config", json_pack("{s:o}", "input_shape", shape));
    }
    /* Classes outside Keras's public modules (LayerScale) are saved under their
     * registered name, as Keras's serialize_keras_object does. */
    if (strncmp(l->cls->module, "keras.layers", 12) && strcmp(l->cls->module, "keras"))
        json_object_set_new(o, "registered_name", json_string(l->cls->class_name));
    return o;
}
