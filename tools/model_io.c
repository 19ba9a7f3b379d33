/* Weights and arrays in and out for the engine commands; see model_io.h. */
/* mkstemps */
#define _DEFAULT_SOURCE
#include "model_io.h"

#include "cli.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool cli_ends_with(const char *path, const char *suffix)
{
    size_t n = strlen(path), k = strlen(suffix);
    return n >= k && !strcmp(path + n - k, suffix);
}

/* ---- stdin and stdout as files ------------------------------------------------------- */

/* A temporary file named with `suffix`; its path goes to buf. -1 on failure. */
static int temp_file(char *buf, size_t cap, const char *suffix)
{
    const char *dir = getenv("TMPDIR");
    snprintf(buf, cap, "%s/ckeras-XXXXXX%s", dir && *dir ? dir : "/tmp", suffix);
    return mkstemps(buf, (int)strlen(suffix));
}

/* stdin's bytes into a temporary file whose suffix says what they are (the
 * readers go by the name): NumPy's magic, a zip (.npz), JSON, else CSV. */
int cli_stdin_to_file(char *path, size_t cap, const char *suffix)
{
    size_t len = 0, size = 1 << 16;
    unsigned char *data = malloc(size);
    for (size_t got; data && (got = fread(data + len, 1, size - len, stdin)) > 0;) {
        len += got;
        unsigned char *bigger = len == size ? realloc(data, size *= 2) : data;
        if (!bigger) free(data);
        data = bigger;
    }
    if (!data) return fprintf(stderr, "ckeras: -: out of memory reading stdin\n"), 1;
    suffix = suffix                                ? suffix
             : len >= 6 && !memcmp(data, "\x93NUMPY", 6) ? ".npy"
             : len >= 2 && !memcmp(data, "PK", 2)      ? ".npz"
             : len >= 1 && (data[0] == '[' || data[0] == '{') ? ".json"
                                                     : ".csv";
    int fd = temp_file(path, cap, suffix);
    bool ok = fd >= 0 && write(fd, data, len) == (ssize_t)len;
    if (fd >= 0) ok = close(fd) == 0 && ok;
    free(data);
    if (!ok) {
        if (fd >= 0) unlink(path);
        return fprintf(stderr, "ckeras: -: cannot keep stdin in %s\n", path), 1;
    }
    cli_name_stdin(path);
    return 0;
}

static int copy_to_stdout(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return fprintf(stderr, "ckeras: %s: cannot read back\n", path), 1;
    char buf[1 << 16];
    size_t n;
    bool ok = true;
    while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0) ok = fwrite(buf, 1, n, stdout) == n;
    fclose(f);
    if (!ok || fflush(stdout)) return fprintf(stderr, "ckeras: cannot write to stdout\n"), 1;
    return 0;
}

/* ---- arrays ---------------------------------------------------------------------------- */

/* The shape of a nested JSON list (rectangular, numbers at the leaves). */
static int json_shape(json_t *v, ck_shape *s)
{
    s->rank = 0;
    while (json_is_array(v)) {
        if (s->rank == CK_MAX_RANK) return -1;
        s->dim[s->rank++] = (int64_t)json_array_size(v);
        if (!json_array_size(v)) break;
        v = json_array_get(v, 0);
    }
    return json_is_number(v) || (s->rank && !s->dim[s->rank - 1]) ? 0 : -1;
}

static int json_fill(json_t *v, const ck_shape *s, int d, float **out)
{
    if (d == s->rank) {
        if (!json_is_number(v)) return -1;
        *(*out)++ = (float)json_number_value(v);
        return 0;
    }
    if (!json_is_array(v) || (int64_t)json_array_size(v) != s->dim[d]) return -1;
    for (size_t i = 0; i < json_array_size(v); i++)
        if (json_fill(json_array_get(v, i), s, d + 1, out)) return -1;
    return 0;
}

static int load_json_array(const char *path, ck_array *a)
{
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root) return fprintf(stderr, "ckeras: %s:%d:%d: %s\n", path, err.line, err.column, err.text), 1;
    memset(a, 0, sizeof *a);
    a->dtype = CK_FLOAT32;
    int rc = json_shape(root, &a->shape);
    float *p = NULL;
    if (!rc && (a->data = p = malloc(sizeof(float) * (size_t)(ck_array_size(a) ? ck_array_size(a) : 1))))
        rc = json_fill(root, &a->shape, 0, &p);
    json_decref(root);
    if (rc || !a->data) {
        ck_array_free(a);
        return fprintf(stderr, "ckeras: %s: not a rectangular nested list of numbers\n", path), 1;
    }
    return 0;
}

static int load_npz_array(const char *path, ck_array *a)
{
    ck_npz z;
    if (ck_npz_read(path, &z)) return cli_fail(NULL);
    if (z.n != 1) {
        fprintf(stderr, "ckeras: %s: holds %d arrays; an input .npz must hold one\n", path, z.n);
        ck_npz_free(&z);
        return 1;
    }
    *a = z.arrays[0];
    z.arrays[0] = (ck_array){0};
    ck_npz_free(&z);
    return ck_array_to_float32(a) ? cli_fail(NULL) : 0;
}

static int load_array_file(const char *path, ck_array *a)
{
    if (cli_ends_with(path, ".csv")) return ck_csv_read(path, NULL, a, NULL) ? cli_fail(NULL) : 0;
    if (cli_ends_with(path, ".json")) return load_json_array(path, a);
    if (cli_ends_with(path, ".npz")) return load_npz_array(path, a);
    if (ck_npy_read(path, a) || ck_array_to_float32(a)) return cli_fail(NULL);
    return 0;
}

int cli_load_array(const char *path, ck_array *a)
{
    if (strcmp(path, "-")) return load_array_file(path, a);
    char tmp[4096];
    if (cli_stdin_to_file(tmp, sizeof tmp, NULL)) return 1;
    int rc = load_array_file(tmp, a);
    unlink(tmp);
    return rc;
}

static const char *const array_endings[] = {".npy", ".npz", ".csv", ".json"};

bool cli_array_format_known(const char *path)
{
    if (!strcmp(path, "-")) return true;
    for (size_t i = 0; i < sizeof array_endings / sizeof *array_endings; i++)
        if (cli_ends_with(path, array_endings[i])) return true;
    return false;
}

/* Rows are the first dimension, columns the product of the others; a header
 * of output_<i> column names, so ck_csv_read reads it back. */
void cli_print_csv(FILE *f, const ck_array *a)
{
    int64_t rows = a->shape.rank ? a->shape.dim[0] : 1, size = ck_array_size(a);
    int64_t cols = rows ? size / rows : 0;
    const float *x = a->data;
    for (int64_t c = 0; c < cols; c++) fprintf(f, "%soutput_%lld", c ? "," : "", (long long)c);
    fputc('\n', f);
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++) fprintf(f, "%.9g%c", (double)x[r * cols + c], c + 1 == cols ? '\n' : ',');
}

static int write_csv(const char *path, const ck_array *a)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) return fprintf(stderr, "ckeras: %s: cannot create\n", path), 1;
    cli_print_csv(f, a);
    bool ok = !ferror(f);
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path)) {
        remove(tmp);
        return fprintf(stderr, "ckeras: %s: cannot write\n", path), 1;
    }
    return 0;
}

static json_t *json_nested(const ck_shape *s, int d, const float **x)
{
    if (d == s->rank) {
        double v = *(*x)++;
        return isfinite(v) ? json_real(v) : json_null(); /* JSON has no NaN */
    }
    json_t *list = json_array();
    for (int64_t i = 0; list && i < s->dim[d]; i++) json_array_append_new(list, json_nested(s, d + 1, x));
    return list;
}

static int write_json(const char *path, const ck_array *a)
{
    const float *x = a->data;
    json_t *root = json_nested(&a->shape, 0, &x);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    int rc = root && !json_dump_file(root, tmp, JSON_COMPACT | JSON_REAL_PRECISION(9)) ? 0 : 1;
    json_decref(root);
    if (!rc) {
        FILE *f = fopen(tmp, "a");
        rc = !f || fputc('\n', f) == EOF || fclose(f);
    }
    if (rc || rename(tmp, path)) {
        remove(tmp);
        return fprintf(stderr, "ckeras: %s: cannot write\n", path), 1;
    }
    return 0;
}

static int write_array_file(const char *path, const ck_array *a)
{
    if (cli_ends_with(path, ".csv")) return write_csv(path, a);
    if (cli_ends_with(path, ".json")) return write_json(path, a);
    if (cli_ends_with(path, ".npz")) return ck_npz_write(path, NULL, a, 1) ? cli_fail(NULL) : 0;
    return ck_npy_write(path, a) ? cli_fail(NULL) : 0;
}

/* `-` is written to a temporary file first, so stdout gets all of it or nothing. */
static int to_stdout(int (*write_fn)(const char *, const void *), const void *what, const char *suffix)
{
    char tmp[4096];
    int fd = temp_file(tmp, sizeof tmp, suffix);
    if (fd < 0) return fprintf(stderr, "ckeras: -: cannot make a temporary file\n"), 1;
    close(fd);
    int rc = write_fn(tmp, what);
    if (!rc) rc = copy_to_stdout(tmp);
    unlink(tmp);
    return rc;
}

static int write_array_any(const char *path, const void *a) { return write_array_file(path, a); }

int cli_write_array(const char *path, const ck_array *a)
{
    return strcmp(path, "-") ? write_array_file(path, a) : to_stdout(write_array_any, a, ".npy");
}

/* ---- weights --------------------------------------------------------------------------- */

static int load_npz_weights(ck_model *m, const char *path)
{
    ck_npz z;
    if (ck_npz_read(path, &z)) return cli_fail(NULL);
    int rc = 0, want = ck_model_weight_count(m);
    if (z.n != want) {
        fprintf(stderr, "ckeras: %s: has %d arrays, model '%s' has %d weights\n", path, z.n, ck_model_name(m), want);
        rc = 1;
    }
    for (int i = 0; !rc && i < z.n; i++)
        if (ck_array_to_float32(&z.arrays[i]) || ck_model_set_weight(m, i, &z.arrays[i].shape, z.arrays[i].data)) {
            fprintf(stderr, "ckeras: %s: array '%s': %s\n", path, z.names[i], ck_errmsg());
            rc = 1;
        }
    ck_npz_free(&z);
    return rc;
}

void cli_note_initial_weights(const ck_model *m, const char *path, const char *weights)
{
    ck_param_counts n;
    if (weights || ck_model_count_params(m, &n) || n.total == 0) return;
    const char *fmt = ck_file_format(path);
    if (fmt && (!strcmp(fmt, "keras-json") || !strcmp(fmt, "python")))
        fprintf(stderr, "ckeras: note: %s stores no weights: using the initializers' values (--weights FILE gives "
                        "trained ones)\n", path);
}

int cli_load_weights(ck_model *m, const char *path)
{
    if (cli_ends_with(path, ".npz")) return load_npz_weights(m, path);
    return ck_model_load_weights(m, path) ? cli_fail(NULL) : 0;
}

typedef struct npz_weights {
    ck_model *m;
    const char *layer;
    int n_written; /* arrays in the file */
} npz_weights;

static int write_npz_weights(const char *path, const void *what)
{
    npz_weights *w = (npz_weights *)what;
    int n = ck_model_weight_count(w->m), k = 0;
    ck_array *arrays = calloc((size_t)(n ? n : 1), sizeof *arrays);
    if (!arrays) return fprintf(stderr, "ckeras: out of memory\n"), 1;
    for (int i = 0; i < n; i++) {
        ck_weight_info info;
        if (ck_model_weight(w->m, i, &info)) {
            free(arrays);
            return cli_fail(NULL);
        }
        if (w->layer && strcmp(w->layer, info.layer)) continue;
        arrays[k++] = (ck_array){.dtype = CK_FLOAT32, .shape = info.shape, .data = (void *)info.data};
    }
    int rc = ck_npz_write(path, NULL, arrays, k) ? cli_fail(NULL) : 0;
    free(arrays);
    w->n_written = k;
    return rc;
}

int cli_save_weights_npz(ck_model *m, const char *layer, const char *path, int *n_arrays)
{
    npz_weights w = {m, layer, 0};
    if (!strcmp(path, "-")) return to_stdout(write_npz_weights, &w, ".npz");
    if (!cli_ends_with(path, ".npz")) {
        fprintf(stderr, "ckeras: %s: weights are written as .npz (np.savez of get_weights())\n", path);
        return 1;
    }
    int rc = write_npz_weights(path, &w);
    if (n_arrays) *n_arrays = w.n_written;
    return rc;
}

bool cli_save_format_known(const char *path)
{
    /* "folder/": a TF.js output_path, as convert and tensorflowjs_converter take it */
    static const char *const endings[] = {".npz", ".keras", ".h5", ".json", "/"};
    bool known = false;
    for (size_t i = 0; i < sizeof endings / sizeof *endings; i++) known = known || cli_ends_with(path, endings[i]);
    return known;
}

int cli_save_model(ck_model *m, const char *path)
{
    if (!cli_save_format_known(path)) {
        fprintf(stderr, "ckeras: %s: --save needs .npz, .keras, .weights.h5, .h5, .json or a folder/ (TF.js)\n", path);
        return 1;
    }
    int rc = cli_ends_with(path, ".npz") ? cli_save_weights_npz(m, NULL, path, NULL)
                                         : (ck_model_save(m, path) ? cli_fail(NULL) : 0);
    if (!rc) printf("saved %s%s\n", path, cli_ends_with(path, "/") ? "model.json" : "");
    return rc;
}
