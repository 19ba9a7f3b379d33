/* CLI commands for model files: `convert IN OUT` between every writable format,
 * `inspect FILE` (format, writer, version, weights, optimizer state), and the raw
 * weight listing behind `weights` for files whose architecture ckeras cannot
 * build (QKeras, Lambda, subclassed models) or when --format npz is asked. */
#include "cli.h"
#include "model_io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

int cmd_files_convert(const cli_args *a)
{
    const char *const *argv = a->pos;
    /* Checked before a large model is read, as fit --save and predict --output are. */
    /* A folder is a TF.js output_path, as tensorflowjs_converter takes it. */
    struct stat sb;
    char folder[4200];
    const char *out = argv[1];
    if (!cli_ends_with(out, "/") && stat(out, &sb) == 0 && S_ISDIR(sb.st_mode))
        out = (snprintf(folder, sizeof folder, "%s/", argv[1]), folder);
    if (!cli_ends_with(out, ".keras") && !cli_ends_with(out, ".h5") && !cli_ends_with(out, ".json") &&
        !cli_ends_with(out, "/"))
        return cli_usage_error(a->cmd,
                               "OUT %s: the ending sets the format: .keras, .h5, .weights.h5, .json or a folder/ (TF.js)%s",
                               argv[1], strcmp(argv[1], "-") ? "" : "; stdout has none, so name a file");
    ck_model *m = ck_model_load(argv[0]);
    if (!m) return cli_fail(NULL);
    const char *weights = cli_str(a, "weights");
    if (weights && cli_load_weights(m, weights)) {
        ck_model_free(m);
        return 1;
    }
    ck_status st = ck_model_save(m, out);
    ck_model_free(m);
    if (st) return cli_fail(NULL);
    if (cli_ends_with(out, "/")) printf("wrote %smodel.json\n", out);
    else printf("wrote %s\n", out);
    return 0;
}

static int print_layers(const char *path)
{
    ck_model *m = ck_model_load_config(path);
    if (!m) {
        printf("layers:         (not built: %s)\n", ck_errmsg());
        return 0;
    }
    ck_param_counts c;
    ck_model_count_params(m, &c);
    printf("model:          %s (%d layers)\n", ck_model_name(m), ck_model_layer_count(m));
    for (int i = 0; i < ck_model_layer_count(m); i++) {
        ck_layer *l = ck_model_layer(m, i);
        printf("  %-30s %-20s %lld\n", ck_layer_name(l), ck_layer_class_name(l), (long long)ck_layer_count_params(l));
    }
    printf("params:         %lld (%lld non-trainable)\n", (long long)c.total, (long long)c.non_trainable);
    ck_model_free(m);
    return 0;
}

int cmd_files_inspect(const cli_args *a)
{
    const char *const *argv = a->pos;
    ck_file_info info;
    if (ck_file_inspect(argv[0], &info)) return cli_fail(NULL);
    printf("file:           %s\n", argv[0]);
    printf("format:         %s\n", info.format);
    printf("keras version:  %s\n", info.keras_version[0] ? info.keras_version : "(not recorded)");
    if (info.backend[0]) printf("backend:        %s\n", info.backend);
    printf("model class:    %s\n", info.model_class[0] ? info.model_class : "(no architecture)");
    printf("weights:        %lld arrays, %lld values\n", (long long)info.n_weights, (long long)info.n_values);
    printf("optimizer:      %s\n", info.has_optimizer ? "present" : "absent");
    return info.has_config ? print_layers(argv[0]) : 0;
}

/* ---- raw weights ------------------------------------------------------------------ */
typedef struct raw_list {
    const char *layer;     /* only paths with this component, or NULL */
    int64_t total;
    char **paths;          /* for npz */
    int n, cap;
} raw_list;

static bool has_component(const char *path, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = path; (p = strstr(p, name)); p++)
        if ((p == path || p[-1] == '/') && (p[n] == '/' || p[n] == '\0')) return true;
    return false;
}

static int64_t shape_size(const ck_shape *s)
{
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++) n *= s->dim[i];
    return n;
}

static int print_raw(void *ctx, const char *path, const ck_shape *s)
{
    raw_list *r = ctx;
    if (r->layer && !has_component(path, r->layer)) return 0;
    char buf[160];
    size_t len = (size_t)snprintf(buf, sizeof buf, "(");
    for (int i = 0; i < s->rank; i++) len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%lld", i ? ", " : "", (long long)s->dim[i]);
    snprintf(buf + len, sizeof buf - len, s->rank == 1 ? ",)" : ")");
    printf("%-40s %s %lld\n", path, buf, (long long)shape_size(s));
    r->total += shape_size(s);
    return 0;
}

static int collect_raw(void *ctx, const char *path, const ck_shape *s)
{
    (void)s;
    raw_list *r = ctx;
    if (r->layer && !has_component(path, r->layer)) return 0;
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 16;
        char **p = realloc(r->paths, (size_t)r->cap * sizeof *p);
        if (!p) return 1;
        r->paths = p;
    }
    r->paths[r->n++] = strdup(path);
    return 0;
}

/* One .npy (version 1.0, little-endian float32, C order) in memory. */
static void *npy_bytes(const ck_shape *s, const float *data, size_t *len)
{
    char header[256], dims[200] = "";
    size_t d = 0;
    for (int i = 0; i < s->rank; i++) d += (size_t)snprintf(dims + d, sizeof dims - d, "%lld,%s", (long long)s->dim[i], i + 1 < s->rank ? " " : "");
    if (s->rank > 1) dims[d - 1] = '\0';
    int h = snprintf(header, sizeof header, "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", dims);
    size_t total = 10 + (size_t)h + 1, pad = (64 - total % 64) % 64;
    size_t hlen = (size_t)h + pad + 1, n = (size_t)shape_size(s) * 4;
    unsigned char *out = malloc(10 + hlen + n);
    if (!out) return NULL;
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    out[8] = (unsigned char)(hlen & 0xff);
    out[9] = (unsigned char)(hlen >> 8);
    memcpy(out + 10, header, (size_t)h);
    memset(out + 10 + h, ' ', pad);
    out[10 + hlen - 1] = '\n';
    memcpy(out + 10 + hlen, data, n);
    *len = 10 + hlen + n;
    return out;
}

static int write_npz(const char *file, raw_list *r, const char *out)
{
    int err = 0, rc = 0;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", out, (long)getpid());
    zip_t *z = zip_open(tmp, ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (!z) return fprintf(stderr, "ckeras: %s: cannot create\n", out), 1;
    for (int i = 0; i < r->n && !rc; i++) {
        ck_shape s;
        float *data;
        size_t len;
        if (ck_file_read_weight(file, r->paths[i], &s, &data)) {
            rc = cli_fail(NULL);
            break;
        }
        void *npy = npy_bytes(&s, data, &len);
        free(data);
        char name[1100];
        snprintf(name, sizeof name, "%s.npy", r->paths[i]);
        zip_source_t *src = npy ? zip_source_buffer(z, npy, len, 1) : NULL;
        if (!src || zip_file_add(z, name, src, ZIP_FL_OVERWRITE) < 0) {
            if (src) zip_source_free(src);
            else free(npy);
            {
            fprintf(stderr, "ckeras: %s: cannot add %s\n", out, name);
            rc = 1;
        }
        }
    }
    if (!rc && zip_close(z) < 0) {
        fprintf(stderr, "ckeras: %s: cannot write\n", out);
        rc = 1;
    } else if (rc) {
        zip_discard(z);
    }
    if (!rc && rename(tmp, out)) {
        fprintf(stderr, "ckeras: %s: cannot replace\n", out);
        rc = 1;
    }
    if (rc) remove(tmp);
    return rc;
}

int cli_raw_weights(const char *file, const char *layer, const char *format, const char *out)
{
    raw_list r = {.layer = layer};
    if (!format || !strcmp(format, "text")) {
        if (ck_file_list_weights(file, print_raw, &r)) return cli_fail(NULL);
        printf("total: %lld\n", (long long)r.total);
        return 0;
    }
    if (strcmp(format, "npz")) return fprintf(stderr, "ckeras: weights: --format is text or npz\n"), 2;
    if (!out) return fprintf(stderr, "ckeras: weights: --format npz needs --output FILE.npz\n"), 2;
    int rc = ck_file_list_weights(file, collect_raw, &r) ? cli_fail(NULL) : write_npz(file, &r, out);
    for (int i = 0; i < r.n; i++) free(r.paths[i]);
    free(r.paths);
    if (!rc) printf("wrote %s (%d arrays)\n", out, r.n);
    return rc;
}
