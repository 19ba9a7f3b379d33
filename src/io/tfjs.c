/* TensorFlow.js layers models: model.json holds the Keras config under
 * modelTopology and a weightsManifest of groups, each a list of binary shard
 * files (next to model.json) and the names, shapes and dtypes of the weights laid
 * out back to back in them. Weights are matched to the model by name
 * ("<layer>/<weight>" or the Keras path), by position when the names differ. */
#include "io/files.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct manifest_entry {
    const char *name;
    ck_shape shape;
    int64_t size;
    int64_t offset;    /* in bytes, into the group's concatenated shards */
    int group;
    bool is_int32;
    bool used;
} manifest_entry;

typedef struct shard_group {
    unsigned char *data;   /* [len] the group's shards back to back */
    size_t len;
} shard_group;

static void dir_of(const char *path, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/');
    snprintf(out, cap, "%.*s", slash ? (int)(slash - path + 1) : 0, path);
}

static ck_status read_group(const char *path, json_t *paths, shard_group *g)
{
    char dir[2048], file[4200];
    dir_of(path, dir, sizeof dir);
    size_t i;
    json_t *p;
    json_array_foreach(paths, i, p) {
        if (!json_is_string(p) || strstr(json_string_value(p), ".."))
            return ck_fail(CK_ERR_FORMAT, "%s: weightsManifest path %zu is not a plain file name", path, i);
        snprintf(file, sizeof file, "%s%s", dir, json_string_value(p));
        char *data;
        size_t len;
        ck_status st = ck_read_file(file, &data, &len);
        if (st) return ck_fail_prefix(st, "%s: weight shard: ", path);
        unsigned char *grown = ck_realloc(g->data, g->len + len + 1);
        if (!grown) {
            ck_free(data);
            return CK_ERR_NOMEM;
        }
        memcpy(grown + g->len, data, len);
        g->data = grown;
        g->len += len;
        ck_free(data);
    }
    return CK_OK;
}

static ck_status parse_entry(json_t *w, const char *path, int group, int64_t *offset, manifest_entry *e)
{
    json_t *name = json_object_get(w, "name"), *shape = json_object_get(w, "shape");
    const char *dtype = json_string_value(json_object_get(w, "dtype"));
    if (!json_is_string(name) || !json_is_array(shape))
        return ck_fail(CK_ERR_FORMAT, "%s: a weightsManifest entry lacks its name or shape", path);
    if (json_object_get(w, "quantization"))
        return ck_fail(CK_ERR_UNSUPPORTED, "%s: weight '%s' is quantized (not supported)", path, json_string_value(name));
    if (dtype && strcmp(dtype, "float32") && strcmp(dtype, "int32"))
        return ck_fail(CK_ERR_FORMAT, "%s: weight '%s' has dtype '%s' (float32 or int32 expected)", path,
                       json_string_value(name), dtype);
    *e = (manifest_entry){.name = json_string_value(name), .group = group, .offset = *offset,
                          .is_int32 = dtype && !strcmp(dtype, "int32")};
    if (json_array_size(shape) > CK_MAX_RANK)
        return ck_fail(CK_ERR_FORMAT, "%s: weight '%s' has too many dimensions", path, e->name);
    e->shape.rank = (int)json_array_size(shape);
    int64_t n = 1;
    for (int i = 0; i < e->shape.rank; i++) {
        json_t *d = json_array_get(shape, (size_t)i);
        if (!json_is_integer(d) || json_integer_value(d) < 0 || !ck_mul_ok(n, json_integer_value(d), &n) ||
            !ck_mul_ok(n, 4, &(int64_t){0}))
            return ck_fail(CK_ERR_FORMAT, "%s: weight '%s' has an invalid shape", path, e->name);
        e->shape.dim[i] = json_integer_value(d);
    }
    e->size = n;
    if (!ck_add_ok(*offset, n * 4, offset)) return ck_fail(CK_ERR_OVERFLOW, "%s: weights too large", path);
    return CK_OK;
}

/* "<layer>/<cell>/<weight>": tf.keras 2.2+ names an RNN's weights after its cell. */
static bool is_cell_name(const char *entry, const char *layer, const char *weight)
{
    size_t nl = strlen(layer), nw = strlen(weight), ne = strlen(entry);
    if (ne < nl + nw + 3 || strncmp(entry, layer, nl) || entry[nl] != '/') return false;
    const char *tail = entry + ne - nw;
    if (strcmp(tail, weight) || tail[-1] != '/') return false;
    const char *cell = entry + nl + 1;
    return memchr(cell, '/', (size_t)(tail - 1 - cell)) == NULL && tail - 1 > cell;
}

/* tf.keras names a variable by the name scopes open when it was built: a layer's
 * own, a Bidirectional direction's "forward_"/"backward_" + its layer's name
 * (keras/layers/rnn/bidirectional.py renames the copies so, and builds each under
 * its name scope; Keras 3 configs name them forward_x already, so tf.keras and TF.js
 * make forward_forward_x of them), nothing for the layer a TimeDistributed wraps
 * (built in the wrapper's scope), nothing for ConvLSTM's cell; DepthwiseConv's
 * kernel is "depthwise_kernel". */
static void keras2_weight_name(const ck_layer *l, int k, const char *scope, char *out, size_t cap)
{
    int first = 0;
    for (int i = 0; i < l->n_sublayers; i++) {
        const ck_layer *s = l->sublayers[i];
        if (k < first + s->n_weights) {
            char inner[CK_NAME_MAX * 4];
            bool bidirectional = !strcmp(l->cls->class_name, "Bidirectional");
            const char *direction = !bidirectional ? "" : i == 0 ? "/forward_" : "/backward_";
            snprintf(inner, sizeof inner, "%.*s%s%s", (int)(sizeof inner / 2), scope, direction,
                     bidirectional ? s->name : "");
            keras2_weight_name(s, k - first, inner, out, cap);
            return;
        }
        first += s->n_weights;
    }
    const char *name = l->weights[k].name;
    bool depthwise = !strncmp(l->cls->class_name, "DepthwiseConv", 13) && !strcmp(name, "kernel");
    /* base_conv_rnn.py builds ConvLSTM's cell outside the cell's name scope */
    if (!strncmp(l->cls->class_name, "ConvLSTM", 8) && !strncmp(name, "conv_lstm_cell/", 15)) name += 15;
    snprintf(out, cap, "%s/%s", scope, depthwise ? "depthwise_kernel" : name);
}

/* By name first (the converter orders the manifest by layer name, so positions
 * mean little there): "<layer>/<weight>", the Keras 3 path, tf.keras's name (as
 * the writer below names it), the RNN cell form; by
 * position only for files whose names follow none of these. */
static manifest_entry *match(manifest_entry *es, int n, int position, const ck_weight *w, const ck_layer *owner)
{
    char short_name[CK_NAME_MAX + CK_STR_MAX + 2], keras2[CK_NAME_MAX * 4 + CK_STR_MAX];
    snprintf(short_name, sizeof short_name, "%s/%s", owner->name, w->name);
    keras2_weight_name(owner, (int)(w - owner->weights), owner->name, keras2, sizeof keras2);
    for (int i = 0; i < n; i++)
        if (!es[i].used && (!strcmp(es[i].name, short_name) || !strcmp(es[i].name, w->path) || !strcmp(es[i].name, keras2)))
            return &es[i];
    for (int i = 0; i < n; i++)
        if (!es[i].used && is_cell_name(es[i].name, owner->name, w->name)) return &es[i];
    return position < n && !es[position].used ? &es[position] : NULL;
}

static ck_status assign(const char *path, manifest_entry *e, const shard_group *g, const ck_layer *owner, ck_weight *w)
{
    if (!ck_shape_eq(&e->shape, &w->shape)) return ck_weight_shape_error(path, owner, w, &e->shape);
    if ((size_t)e->offset + (size_t)e->size * 4 > g->len)
        return ck_fail(CK_ERR_FORMAT, "%s: weight '%s' lies past the end of its shard files (%zu bytes)", path, e->name, g->len);
    const unsigned char *src = g->data + e->offset;
    for (int64_t i = 0; i < e->size; i++) {
        /* Shards are little-endian; memcpy avoids unaligned loads. */
        if (e->is_int32) {
            int32_t v;
            memcpy(&v, src + 4 * i, 4);
            w->value[i] = (float)v;
        } else {
            memcpy(&w->value[i], src + 4 * i, 4);
        }
    }
    e->used = true;
    return CK_OK;
}

static ck_status load_weights(ck_model *m, json_t *manifest, const char *path)
{
    ck_status init = ck_model_init_weights(m);
    if (init) return init;
    size_t ng = json_array_size(manifest), total = 0;
    for (size_t i = 0; i < ng; i++) total += json_array_size(json_object_get(json_array_get(manifest, i), "weights"));
    manifest_entry *es = ck_calloc(total + 1, sizeof *es);
    shard_group *gs = ck_calloc(ng + 1, sizeof *gs);
    ck_status st = es && gs ? CK_OK : CK_ERR_NOMEM;
    int n = 0;
    for (size_t i = 0; !st && i < ng; i++) {
        json_t *grp = json_array_get(manifest, i), *ws = json_object_get(grp, "weights");
        int64_t offset = 0;
        size_t k;
        json_t *w;
        json_array_foreach(ws, k, w) if (!st) st = parse_entry(w, path, (int)i, &offset, &es[n++]);
        if (!st) st = read_group(path, json_object_get(grp, "paths"), &gs[i]);
        /* Shards of another save (a manifest paired with foreign data) differ in size. */
        if (!st && gs[i].len != (size_t)offset)
            st = ck_fail(CK_ERR_FORMAT, "%s: weight group %zu: the shard files hold %zu bytes, the manifest %lld", path,
                         i, gs[i].len, (long long)offset);
    }
    ck_weight_ref *refs = NULL;
    int nr = 0;
    if (!st) st = ck_model_collect_weights(m, &refs, &nr);
    if (!st && nr != n)
        st = ck_fail(CK_ERR_FORMAT, "%s: the model has %d weights but weightsManifest lists %d", path, nr, n);
    for (int i = 0; !st && i < nr; i++) {
        manifest_entry *e = match(es, n, i, refs[i].w, refs[i].layer);
        if (!e) st = ck_fail(CK_ERR_FORMAT, "%s: no weight in weightsManifest for layer '%s' weight '%s'", path,
                             refs[i].layer->name, refs[i].w->name);
        else st = assign(path, e, &gs[e->group], refs[i].layer, refs[i].w);
    }
    ck_free(refs);
    for (size_t i = 0; gs && i < ng; i++) ck_free(gs[i].data);
    ck_free(gs);
    ck_free(es);
    return st;
}

ck_status ck_tfjs_load(const char *path, json_t *root, bool with_weights, ck_model **out)
{
    json_t *manifest = json_object_get(root, "weightsManifest");
    if (manifest && !json_is_array(manifest)) return ck_fail(CK_ERR_FORMAT, "%s: weightsManifest is not a list", path);
    ck_model *m;
    ck_status st = ck_model_from_json_value(root, path, &m);
    if (st) return st;
    if (with_weights && manifest && (st = load_weights(m, manifest, path))) {
        ck_model_free(m);
        return st;
    }
    *out = m;
    return CK_OK;
}

/* ---- writing: one shard, weights in get_weights() order ------------------------------ */
static uint64_t fnv1a(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* ---- writing: the converter's weight order ---------------------------------- */
static bool holds_layer(const ck_model *m, const ck_layer *l)
{
    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i] == l || (m->layers[i]->model && holds_layer(m->layers[i]->model, l))) return true;
    return false;
}

/* The top-level layer whose weights hold ref's. */
static const char *top_layer_name(const ck_model *m, const ck_weight_ref *ref)
{
    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i] == ref->layer || (m->layers[i]->model && holds_layer(m->layers[i]->model, ref->layer)))
            return m->layers[i]->name;
    return ref->layer->name;
}

/* The converter walks the legacy .h5's model_weights groups, which HDF5 lists by
 * name, each group's weights in the layer's order
 * (tensorflowjs/converters/keras_h5_conversion.py h5_merged_saved_model_to_tfjs_format):
 * a stable sort of get_weights() by top-level layer name. */
static void sort_like_converter(const ck_model *m, ck_weight_ref *refs, int n)
{
    for (int i = 1; i < n; i++) {
        ck_weight_ref r = refs[i];
        const char *name = top_layer_name(m, &r);
        int j = i;
        for (; j > 0 && strcmp(top_layer_name(m, &refs[j - 1]), name) > 0; j--) refs[j] = refs[j - 1];
        refs[j] = r;
    }
}

/* The plain shard names an existing model.json at `path` lists (none if absent). */
static void old_shard_names(const char *path, char ***out, int *n)
{
    json_t *root = json_load_file(path, 0, NULL), *g, *p;
    size_t i, k;
    int cap = 0;
    json_array_foreach(json_object_get(root, "weightsManifest"), i, g) {
        json_array_foreach(json_object_get(g, "paths"), k, p) {
            const char *s = json_string_value(p);
            if (!s || strchr(s, '/') || strstr(s, "..") || ck_grow((void **)out, &cap, *n + 1, sizeof **out)) continue;
            if (((*out)[*n] = ck_strdup(s))) ++*n;
        }
    }
    json_decref(root);
}

static ck_status save_into_folder(const ck_model *m, const char *path)
{
    char dir[2048], shard_path[4200];
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    dir_of(path, dir, sizeof dir);
    char shard[300];
    ck_weight_ref *refs = NULL;
    int n = 0;
    ck_status st = ck_model_collect_weights(m, &refs, &n);
    if (st) return st;
    sort_like_converter(m, refs, n);
    int64_t total = 0;
    for (int i = 0; i < n; i++) total += refs[i].w->size;
    float *bin = ck_malloc((size_t)(total ? total : 1) * sizeof *bin);
    json_t *ws = json_array();
    int64_t at = 0;
    char name[CK_NAME_MAX * 4 + CK_STR_MAX];
    for (int i = 0; bin && i < n; i++) {
        const ck_weight *w = refs[i].w;
        memcpy(bin + at, w->value, (size_t)w->size * sizeof *bin);
        at += w->size;
        json_t *shape = json_array();
        for (int d = 0; d < w->shape.rank; d++) json_array_append_new(shape, json_integer(w->shape.dim[d]));
        int k = (int)(w - refs[i].layer->weights);
        keras2_weight_name(refs[i].layer, k, refs[i].layer->name, name, sizeof name);
        json_array_append_new(ws, json_pack("{s:s, s:o, s:s}", "name", name, "shape", shape, "dtype", "float32"));
    }
    ck_free(refs);
    /* Named by content: a new save never overwrites the shard the old model.json
     * names, and model.json, written last, switches to the new one at once. */
    snprintf(shard, sizeof shard, "%.*s.weights-%016llx.bin", (int)(strcspn(base, ".")), base,
             bin ? (unsigned long long)fnv1a(bin, (size_t)total * sizeof *bin) : 0ull);
    snprintf(shard_path, sizeof shard_path, "%s%s", dir, shard);
    char **old_shards = NULL;
    int n_old = 0;
    if (bin) old_shard_names(path, &old_shards, &n_old);
    json_t *topo = ck_tfjs_topology(m);
    if (!bin || !topo) st = st ? st : CK_ERR_NOMEM;
    json_t *root = NULL;
    if (!st) {
        root = json_pack("{s:s, s:s, s:n, s:o, s:[{s:[s], s:o}]}", "format", "layers-model", "generatedBy",
                         "ckeras " CKERAS_VERSION, "convertedBy", "modelTopology", topo, "weightsManifest", "paths",
                         shard, "weights", ws);
        topo = ws = NULL;
        if (!root) st = CK_ERR_NOMEM;
    }
    json_decref(topo);
    json_decref(ws);
    if (!st) st = ck_write_file_atomic(shard_path, bin, (size_t)total * sizeof *bin);
    char *text = root && !st ? json_dumps(root, JSON_PRESERVE_ORDER) : NULL;
    if (!st && !text) st = CK_ERR_NOMEM;
    if (!st) st = ck_write_file_atomic(path, text, strlen(text));
    /* The old shards, now named by no manifest (a kill before this leaves them
     * as unused files, never as data paired with the wrong manifest). */
    for (int i = 0; i < n_old; i++) {
        if (!st && strcmp(old_shards[i], shard)) {
            char p[4400];
            snprintf(p, sizeof p, "%s%s", dir, old_shards[i]);
            unlink(p);
        }
        ck_free(old_shards[i]);
    }
    ck_free(old_shards);
    free(text);
    json_decref(root);
    ck_free(bin);
    return st;
}

/* ---- a new folder, as tensorflowjs_converter makes its output_path ---------------- */
/* The folders above `dir` that are missing (os.makedirs, as the converter does):
 * empty folders, so a failure later leaves no model half-written in them. */
static ck_status make_parents(const char *dir, const char *path)
{
    char p[2048];
    snprintf(p, sizeof p, "%s", dir);
    for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST)
            return ck_fail(CK_ERR_IO, "%s: cannot create folder '%s': %s", path, p, strerror(errno));
        *s = '/';
    }
    return CK_OK;
}

static void remove_folder(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[4400];
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) unlink((snprintf(p, sizeof p, "%s/%s", dir, e->d_name), p));
    if (d) closedir(d);
    rmdir(dir);
}

/* model.json and its shard go to a hidden folder beside the new one, which is
 * renamed into place whole: the folder appears with both files or not at all. */
static ck_status save_new_folder(const ck_model *m, const char *path, const char *dir)
{
    char target[2048], tmp[2200], inner[4400];
    snprintf(target, sizeof target, "%.*s", (int)strlen(dir) - 1, dir); /* without its '/' */
    ck_status st = make_parents(target, path);
    if (st) return st;
    const char *slash = strrchr(target, '/'), *base = slash ? slash + 1 : target;
    /* mkdir, not mkdtemp: the folder gets the umask's mode, not 0700, which would
     * hide a web model from the server that serves it */
    int made = -1;
    for (int k = 0; k < 1000000 && made != 0; k++) {
        snprintf(tmp, sizeof tmp, "%.*s.%s.tmp-%ld-%06d", (int)(base - target), target, base, (long)getpid(), k);
        made = mkdir(tmp, 0777);
        if (made != 0 && errno != EEXIST) break;
    }
    if (made != 0) return ck_fail(CK_ERR_IO, "%s: cannot create folder '%s': %s", path, target, strerror(errno));
    snprintf(inner, sizeof inner, "%s/%s", tmp, path + strlen(dir));
    st = save_into_folder(m, inner);
    if (!st && rename(tmp, target) != 0)
        st = ck_fail(CK_ERR_IO, "%s: cannot create folder '%s': %s", path, target, strerror(errno));
    if (st) remove_folder(tmp);
    return st;
}

ck_status ck_tfjs_save(const ck_model *m, const char *path)
{
    char dir[2048];
    struct stat sb;
    dir_of(path, dir, sizeof dir);
    if (!*dir || stat(dir, &sb) == 0) return save_into_folder(m, path);
    return save_new_folder(m, path, dir);
}
