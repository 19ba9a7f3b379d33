/* Shared test helpers; see testutil.h. */
#include "testutil.h"

#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include <stdarg.h>
#include <stdint.h>

int test_failures;
int test_checks;

int test_report(const char *name)
{
    printf("%s: %d checks, %d failures\n", name, test_checks, test_failures);
    return test_failures ? 1 : 0;
}

const char *test_path(char *buf, size_t cap, const char *fmt, ...)
{
    const char *root = getenv("CKERAS_ROOT");
    int n = snprintf(buf, cap, "%s/", root && *root ? root : ".");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, cap - (size_t)n, fmt, ap);
    va_end(ap);
    return buf;
}

const char *test_scratch_dir(char *buf, size_t cap, const char *stem)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(buf, cap, "%s/ckeras_%s_%d", tmp && *tmp ? tmp : "/tmp", stem, (int)getpid());
    CHECK(mkdir(buf, 0755) == 0, "cannot make %s", buf);
    return buf;
}

const char *test_abs_path(char *buf, size_t cap, const char *rel)
{
    char p[1024], cwd[1024];
    test_path(p, sizeof p, "%s", rel);
    if (p[0] == '/') snprintf(buf, cap, "%s", p);
    else snprintf(buf, cap, "%.1000s/%.1000s", getcwd(cwd, sizeof cwd) ? cwd : ".", p);
    return buf;
}

char *test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) buf[n] = '\0';
    if (len) *len = (size_t)n;
    return buf;
}

static int parse_header(const char *h, char *descr, int *fortran, test_array *a)
{
    const char *d = strstr(h, "'descr':");
    const char *fo = strstr(h, "'fortran_order':");
    const char *sh = strstr(h, "'shape':");
    if (!d || !fo || !sh) return -1;
    if (sscanf(d, "'descr': '%7[^']'", descr) != 1) return -1;
    *fortran = strncmp(fo + 16, " True", 5) == 0;
    const char *p = strchr(sh, '(');
    if (!p) return -1;
    p++;
    a->rank = 0;
    a->size = 1;
    while (*p && *p != ')') {
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p) {
            p++;
            continue;
        }
        if (a->rank >= 8) return -1;
        a->dim[a->rank++] = v;
        a->size *= v;
        p = end;
    }
    return 0;
}

int test_load_npy(const char *path, test_array *a)
{
    size_t len;
    char *buf = test_read_file(path, &len);
    memset(a, 0, sizeof *a);
    if (!buf || len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0) {
        free(buf);
        return -1;
    }
    int major = (unsigned char)buf[6];
    size_t hlen = major == 1 ? (size_t)((unsigned char)buf[8] | (unsigned char)buf[9] << 8)
                             : (size_t)((unsigned char)buf[8] | (unsigned char)buf[9] << 8 |
                                        (unsigned char)buf[10] << 16 | (unsigned)(unsigned char)buf[11] << 24);
    size_t off = (major == 1 ? 10 : 12) + hlen;
    char descr[8] = {0};
    int fortran = 0;
    char saved = buf[off - 1];
    buf[off - 1] = '\0';
    int bad = parse_header(buf + (major == 1 ? 10 : 12), descr, &fortran, a);
    buf[off - 1] = saved;
    size_t item = descr[2] == '8' ? 8 : descr[2] == '4' ? 4 : descr[2] == '1' ? 1 : 0;
    if (bad || fortran || !item || off + item * (size_t)a->size > len) {
        free(buf);
        return -1;
    }
    a->data = malloc(sizeof(float) * (size_t)(a->size ? a->size : 1));
    const char *src = buf + off;
    for (int64_t i = 0; i < a->size; i++) {
        double v = 0;
        if (!strcmp(descr, "<f4")) { float f; memcpy(&f, src + 4 * i, 4); v = f; }
        else if (!strcmp(descr, "<f8")) memcpy(&v, src + 8 * i, 8);
        else if (!strcmp(descr, "<i4")) { int32_t x; memcpy(&x, src + 4 * i, 4); v = x; }
        else if (!strcmp(descr, "<i8")) { int64_t x; memcpy(&x, src + 8 * i, 8); v = (double)x; }
        else if (!strcmp(descr, "|u1")) v = (unsigned char)src[i];
        else { free(a->data); free(buf); a->data = NULL; return -1; }
        a->data[i] = (float)v;
    }
    free(buf);
    return 0;
}

void test_free_array(test_array *a)
{
    free(a->data);
    a->data = NULL;
}

double test_max_error(const float *a, const float *b, int64_t n, double atol)
{
    double worst = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        double scale = fabs((double)b[i]) > 1.0 ? fabs((double)b[i]) : 1.0;
        double e = d <= atol ? 0.0 : d / scale;
        if (isnan(a[i]) != isnan(b[i])) e = INFINITY;
        if (e > worst) worst = e;
    }
    return worst;
}

/* First difference between two JSON values as "path: ours vs keras" (empty if equal).
 * Objects compare by key set and values, arrays in order, numbers by value. */
static void json_diff(const char *path, json_t *a, json_t *b, char *out, size_t cap)
{
    if (*out) return;
    if (json_is_number(a) && json_is_number(b)) {
        if (json_number_value(a) != json_number_value(b)) snprintf(out, cap, "%s: %g vs %g", path, json_number_value(a), json_number_value(b));
        return;
    }
    if (json_typeof(a) != json_typeof(b)) {
        char *x = json_dumps(a, JSON_ENCODE_ANY | JSON_COMPACT), *y = json_dumps(b, JSON_ENCODE_ANY | JSON_COMPACT);
        snprintf(out, cap, "%s: %.200s vs %.200s", path, x ? x : "?", y ? y : "?");
        free(x), free(y);
        return;
    }
    char sub[512];
    if (json_is_object(a)) {
        const char *k;
        json_t *v;
        json_object_foreach(b, k, v) if (!json_object_get(a, k)) {
            snprintf(out, cap, "%s: key '%s' missing (Keras has it)", path, k);
            return;
        }
        json_object_foreach(a, k, v) {
            snprintf(sub, sizeof sub, "%.400s.%.100s", path, k);
            json_t *w = json_object_get(b, k);
            if (!w) {
                snprintf(out, cap, "%s: key not in Keras's config", sub);
                return;
            }
            json_diff(sub, v, w, out, cap);
        }
        return;
    }
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b)) {
            snprintf(out, cap, "%s: %zu items vs %zu", path, json_array_size(a), json_array_size(b));
            return;
        }
        for (size_t i = 0; i < json_array_size(a); i++) {
            snprintf(sub, sizeof sub, "%.400s[%zu]", path, i);
            json_diff(sub, json_array_get(a, i), json_array_get(b, i), out, cap);
        }
        return;
    }
    if (!json_equal(a, b)) {
        char *x = json_dumps(a, JSON_ENCODE_ANY), *y = json_dumps(b, JSON_ENCODE_ANY);
        snprintf(out, cap, "%s: %.200s vs %.200s", path, x ? x : "?", y ? y : "?");
        free(x), free(y);
    }
}

int test_json_diff(json_t *ours, json_t *keras, const char *path, char *diff, size_t cap)
{
    *diff = 0;
    json_diff(path, ours, keras, diff, cap);
    return *diff ? -1 : 0;
}

int test_to_json_diff(ck_model *m, const char *keras_config, char *diff, size_t cap)
{
    *diff = 0;
    char *text = NULL;
    if (ck_model_to_json(m, &text) != CK_OK) {
        snprintf(diff, cap, "to_json failed: %s", ck_errmsg());
        return -1;
    }
    json_error_t err;
    json_t *ours = json_loads(text, 0, &err), *keras = json_load_file(keras_config, 0, &err);
    free(text);
    if (!ours || !keras) {
        snprintf(diff, cap, "%s", ours ? "Keras's config.json does not parse" : "to_json output does not parse");
    } else {
        /* A compiled model's compile_config (optimizer, loss) is not read back by
         * ck_model_from_json, so a loaded config is written as never compiled. */
        json_t *cc = json_object_get(keras, "compile_config");
        if (json_object_size(cc)) json_object_set_new(keras, "compile_config", json_object());
        json_diff("$", ours, keras, diff, cap);
    }
    json_decref(ours);
    json_decref(keras);
    return *diff ? -1 : 0;
}

struct json_t *test_load_json(const char *fmt, ...)
{
    char rel[1024], path[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rel, sizeof rel, fmt, ap);
    va_end(ap);
    json_error_t err;
    json_t *j = json_load_file(test_path(path, sizeof path, "%s", rel), 0, &err);
    CHECK(j != NULL, "%s: %s", path, err.text);
    return j;
}

ck_summary_opts test_summary_opts(json_t *e, ck_summary_style style, double *positions)
{
    ck_summary_opts o = {.style = style};
    json_t *v;
    if (json_is_integer(v = json_object_get(e, "line_length"))) o.line_length = (int)json_integer_value(v);
    if (json_is_integer(v = json_object_get(e, "columns"))) o.console_width = (int)json_integer_value(v);
    o.show_trainable = json_is_true(json_object_get(e, "show_trainable"));
    o.expand_nested = json_is_true(json_object_get(e, "expand_nested"));
    if (json_is_array(v = json_object_get(e, "positions"))) {
        o.n_positions = (int)json_array_size(v);
        for (int k = 0; k < o.n_positions && k < 8; k++) positions[k] = json_number_value(json_array_get(v, (size_t)k));
        o.positions = positions;
    }
    if (json_is_array(v = json_object_get(e, "layer_range"))) {
        o.layer_range[0] = json_string_value(json_array_get(v, 0));
        o.layer_range[1] = json_string_value(json_array_get(v, 1));
    }
    return o;
}

void test_check_summaries(const ck_model *m, json_t *manifest, const char *dir, ck_summary_style style)
{
    size_t i;
    json_t *e;
    json_array_foreach(manifest, i, e) {
        double positions[8];
        ck_summary_opts o = test_summary_opts(e, style, positions);
        char path[2048], *got = NULL;
        test_path(path, sizeof path, "%s/%s", dir, json_string_value(json_object_get(e, "file")));
        char *want = test_read_file(path, NULL);
        CHECK(want != NULL, "missing %s", path);
        CHECK_OK(ck_model_summary(m, &o, &got));
        CHECK(want && got && !strcmp(want, got), "%s differs:\n--- ckeras ---\n%s--- keras ---\n%s", path,
              got ? got : "(none)", want ? want : "(missing)");
        free(got);
        free(want);
    }
}

float *test_golden_array(const char *root, const char *dir, const char *file, int64_t *rows)
{
    char path[600];
    test_array a;
    test_path(path, sizeof path, "tests/golden/%s/%s/%s", root, dir, file);
    if (test_load_npy(path, &a) != 0)
        return NULL;
    *rows = a.dim[0];
    return a.data;
}

void test_set_golden_weights(ck_model *m, const char *root, const char *dir)
{
    char path[600];
    for (int i = 0; m && i < ck_model_weight_count(m); i++) {
        test_array a;
        test_path(path, sizeof path, "tests/golden/%s/%s/weights/%d.npy", root, dir, i);
        CHECK(test_load_npy(path, &a) == 0, "%s: weight %d", dir, i);
        ck_shape s = {.rank = a.rank};
        for (int r = 0; r < a.rank; r++)
            s.dim[r] = a.dim[r];
        CHECK_OK(ck_model_set_weight(m, i, &s, a.data));
        test_free_array(&a);
    }
}

const float *test_class_weight(json_t *c, float *out, int cap, int *n)
{
    json_t *list = json_object_get(c, "class_weight");
    *n = 0;
    if (!json_is_array(list) || json_array_size(list) > (size_t)cap) return NULL;
    for (size_t k = 0; k < json_array_size(list); k++) out[k] = (float)json_number_value(json_array_get(list, k));
    *n = (int)json_array_size(list);
    return out;
}

const char *test_join_strings(json_t *list, char *buf, size_t cap)
{
    buf[0] = '\0';
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) {
        if (i)
            strncat(buf, ", ", cap - strlen(buf) - 1);
        strncat(buf, json_string_value(v), cap - strlen(buf) - 1);
    }
    return buf;
}

test_case_list test_read_cases(const char *rel)
{
    test_case_list cl = {0};
    char p[1024];
    size_t len;
    char *text = test_read_file(test_path(p, sizeof p, "%s", rel), &len);
    if (!text) return cl;
    int cap = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (!*line) continue;
        if (cl.n == cap) {
            cap = cap ? 2 * cap : 64;
            cl.names = realloc(cl.names, (size_t)cap * sizeof *cl.names);
        }
        snprintf(cl.names[cl.n++], sizeof *cl.names, "%s", line);
    }
    free(text);
    return cl;
}
