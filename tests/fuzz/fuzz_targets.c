/* Fuzz targets, one per reader: the input bytes become a file (or keyword text)
 * and the reader must answer with a result or a one-line error, never crash,
 * hang, leak or read out of bounds. Built two ways:
 *   - by scripts/fuzz.sh with -DFUZZ_TARGET=fuzz_npy (say) and libFuzzer, one
 *     binary per target;
 *   - included by tests/test_fuzz_corpus.c, which replays the committed
 *     regression corpus tests/fuzz/corpus/<target>/ in `make test`.
 * Readers of paths (libhdf5, libzip read files) get one private temporary folder
 * per process. The readers that sniff the format from the content (.keras, .h5,
 * JSON) share one function; their targets differ by file name and seeds. */
#include <ckeras.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fuzz_dir[64];
static ck_model *fuzz_weights_model; /* what fuzz_weights_h5 loads into */

/* The harness itself is broken: stop loudly (never reached by a reader's fault). */
static void fuzz_write(const char *name, const uint8_t *data, size_t len, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", fuzz_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (len && fwrite(data, 1, len, f) != len) abort();
    fclose(f);
}

/* A failed read's message is one line; a second line is a bug worth a crash. */
static void fuzz_one_line(void)
{
    if (strchr(ck_errmsg(), '\n')) abort();
}

static int fuzz_setup(void)
{
    /* Each model-file target opens an input up to five times (load, config,
     * inspect, list); a stalled libhdf5 child may cost each a fifth of the 2 s. */
    ck_limits lim;
    ck_get_limits(&lim);
    lim.hdf5_seconds = 0.25;
#ifdef FUZZ_H5_IN_PROCESS
    /* scripts/fuzz.sh --h5-in-process: libhdf5 reads in this process, without
     * the forked check (a fork per input keeps the HDF5 targets at tens of
     * inputs a second), so libFuzzer runs ckeras's readers on whatever libhdf5
     * hands back hundreds of times faster; libhdf5's own crashes and stalls
     * are then expected, and fuzz.sh replays each one through the guarded build. */
    lim.hdf5_in_process = true;
#endif
    if (ck_set_limits(&lim)) abort();
    snprintf(fuzz_dir, sizeof fuzz_dir, "/tmp/ckeras-fuzz-XXXXXX");
    if (!mkdtemp(fuzz_dir)) abort();
    /* Fixed shard bytes for the TF.js target: enough floats for small manifests. */
    static uint8_t shard[4096];
    for (size_t i = 0; i < sizeof shard; i++) shard[i] = (uint8_t)(i * 37u + 11u);
    static const char *const names[] = {"group1-shard1of1.bin", "model.weights.bin", "weights.bin"};
    char p[160];
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) fuzz_write(names[i], shard, sizeof shard, p, sizeof p);
    fuzz_weights_model = ck_sequential("name='seq'");
    if (!fuzz_weights_model || ck_sequential_add(fuzz_weights_model, ck_dense(3, "input_shape=(2,)")) ||
        ck_sequential_add(fuzz_weights_model, ck_dense(2, NULL)) || ck_model_build(fuzz_weights_model))
        abort();
    return 0;
}

static void fuzz_cleanup(void)
{
    ck_model_free(fuzz_weights_model);
    fuzz_weights_model = NULL;
    static const char *const names[] = {"group1-shard1of1.bin", "model.weights.bin", "weights.bin", "input.keras",
                                        "input.h5", "config.json", "model.json", "input.weights.h5", "input.npy",
                                        "input.npz", "input.csv", "input.idx"};
    char p[160];
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        snprintf(p, sizeof p, "%s/%s", fuzz_dir, names[i]);
        unlink(p);
    }
    rmdir(fuzz_dir);
}

static int count_weight(void *ctx, const char *path, const ck_shape *s)
{
    (void)path;
    (void)s;
    ++*(int *)ctx;
    return 0;
}

/* Every model-file reader on one file: load, architecture + summary, inspect, list. */
static int fuzz_model_file(const char *name, const uint8_t *data, size_t size)
{
    char path[160];
    fuzz_write(name, data, size, path, sizeof path);
    ck_model *m = ck_model_load(path);
    if (!m) fuzz_one_line();
    ck_model_free(m);
    m = ck_model_load_config(path);
    if (m) {
        char *text = NULL;
        if (ck_model_summary(m, NULL, &text) == CK_OK) free(text);
        if (ck_model_to_json(m, &text) == CK_OK) free(text);
    } else {
        fuzz_one_line();
    }
    ck_model_free(m);
    ck_file_info info;
    if (ck_file_inspect(path, &info)) fuzz_one_line();
    int n = 0;
    if (ck_file_list_weights(path, count_weight, &n)) fuzz_one_line();
    return 0;
}

/* The readers sniff the format from the first bytes, and libFuzzer learns the
 * HDF5 and zip signatures from that comparison within seconds: the text targets
 * (config, tfjs, python) then spend their time on HDF5 files made of JSON,
 * each costing the guard's fork (31% of a tfjs run's time in fork). Those inputs are the h5 and keras
 * targets' (the same fuzz_model_file), so the text targets pass them by. */
static bool fuzz_binary_model(const uint8_t *d, size_t n)
{
    static const uint8_t hdf5[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    return (n >= 8 && !memcmp(d, hdf5, 8)) || (n >= 4 && !memcmp(d, "PK\3\4", 4));
}

static int fuzz_keras(const uint8_t *d, size_t n) { return fuzz_model_file("input.keras", d, n); }
static int fuzz_h5(const uint8_t *d, size_t n) { return fuzz_model_file("input.h5", d, n); }
static int fuzz_config(const uint8_t *d, size_t n)
{
    return fuzz_binary_model(d, n) ? 0 : fuzz_model_file("config.json", d, n);
}
/* A TF.js model.json whose shards, fixed bytes, lie next to it. */
static int fuzz_tfjs(const uint8_t *d, size_t n)
{
    return fuzz_binary_model(d, n) ? 0 : fuzz_model_file("model.json", d, n);
}
/* Keras model code, read by the Python subset reader in load mode (prints and writes nothing) */
static int fuzz_python(const uint8_t *d, size_t n)
{
    return fuzz_binary_model(d, n) ? 0 : fuzz_model_file("model.py", d, n);
}

static int fuzz_weights_h5(const uint8_t *data, size_t size)
{
    char path[160];
    fuzz_write("input.weights.h5", data, size, path, sizeof path);
    if (ck_model_load_weights(fuzz_weights_model, path)) fuzz_one_line();
    return 0;
}

static int fuzz_npy(const uint8_t *data, size_t size)
{
    char path[160];
    fuzz_write("input.npy", data, size, path, sizeof path);
    ck_array a = {0};
    if (ck_npy_read(path, &a)) fuzz_one_line();
    else if (ck_array_to_float32(&a)) fuzz_one_line();
    ck_array_free(&a);
    return 0;
}

static int fuzz_npz(const uint8_t *data, size_t size)
{
    /* As for the text targets: an HDF5 file given as weights is the weights_h5
     * target's (46% of an npz run's time was the guard's fork on such inputs). */
    if (fuzz_binary_model(data, size) && data[0] != 'P') return 0;
    char path[160];
    fuzz_write("input.npz", data, size, path, sizeof path);
    ck_npz z;
    if (ck_npz_read(path, &z)) fuzz_one_line();
    else ck_npz_free(&z);
    /* As `--weights W.npz`: into a model, shapes checked. */
    if (ck_model_load_weights(fuzz_weights_model, path)) fuzz_one_line();
    return 0;
}

static int fuzz_csv(const uint8_t *data, size_t size)
{
    char path[160];
    fuzz_write("input.csv", data, size, path, sizeof path);
    const char *labels[] = {NULL, "label"};
    for (int k = 0; k < 2; k++) {
        ck_array x = {0}, y = {0};
        if (ck_csv_read(path, labels[k], &x, &y)) fuzz_one_line();
        ck_array_free(&x);
        ck_array_free(&y);
    }
    return 0;
}

static int fuzz_idx(const uint8_t *data, size_t size)
{
    char path[160];
    fuzz_write("input.idx", data, size, path, sizeof path);
    ck_array a = {0};
    if (ck_idx_read(path, &a)) fuzz_one_line();
    ck_array_free(&a);
    return 0;
}

/* The keyword codec: Python literal text for a few classes with every field type. */
static int fuzz_kwargs(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    static const char *const classes[] = {"Dense", "Conv2D", "LSTM", "MultiHeadAttention", "Reshape"};
    for (size_t i = 0; i < sizeof classes / sizeof *classes; i++) {
        ck_layer *l = ck_layer_new(classes[i], text);
        if (!l) fuzz_one_line();
        ck_layer_free(l);
    }
    /* The same text as the arguments of specs, positional ones included. */
    size_t cap = size + 64;
    char *spec = malloc(cap), *loss = malloc(cap);
    if (spec && loss) {
        snprintf(spec, cap, "Adam(%s)", text);
        snprintf(loss, cap, "Huber(%s)", text);
        if (ck_model_compile(fuzz_weights_model, spec, loss, NULL)) fuzz_one_line();
        snprintf(spec, cap, "EarlyStopping(%s)", text);
        ck_callback *cb = ck_callback_new(spec);
        if (!cb) fuzz_one_line();
        ck_callback_free(cb);
    }
    free(spec);
    free(loss);
    free(text);
    return 0;
}

typedef struct fuzz_target {
    const char *name; /* tests/fuzz/corpus/<name>/ */
    int (*run)(const uint8_t *data, size_t size);
} fuzz_target;

static const fuzz_target fuzz_targets[] = {
    {"config", fuzz_config}, {"keras", fuzz_keras}, {"h5", fuzz_h5},   {"weights_h5", fuzz_weights_h5},
    {"tfjs", fuzz_tfjs},     {"npy", fuzz_npy},     {"npz", fuzz_npz}, {"csv", fuzz_csv},
    {"idx", fuzz_idx},       {"kwargs", fuzz_kwargs}, {"python", fuzz_python},
};

#ifdef FUZZ_TARGET
#include <malloc.h>

/* A file may declare a model of any size (a Dense of 10^9 units is valid JSON),
 * and ckeras allocates what a valid file needs; the fuzzer's own memory limit
 * would report that as a finding. So the library's allocations of one input
 * stop at FUZZ_MEMORY, failing as under a memory limit (the clean CK_ERR_NOMEM
 * path is what is fuzzed then). Counted by malloc_usable_size, since the text
 * the API hands out is released with free(); reset per input, when the
 * previous input's objects are gone. */
#define FUZZ_MEMORY ((int64_t)768 << 20)
static int64_t fuzz_live;

static void *fuzz_malloc(void *ctx, size_t n)
{
    (void)ctx;
    if ((int64_t)n > FUZZ_MEMORY - fuzz_live) return NULL;
    void *p = malloc(n);
    if (p) fuzz_live += (int64_t)malloc_usable_size(p);
    return p;
}

static void *fuzz_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    int64_t old = p ? (int64_t)malloc_usable_size(p) : 0;
    if ((int64_t)n - old > FUZZ_MEMORY - fuzz_live) return NULL;
    void *q = realloc(p, n);
    if (q) fuzz_live += (int64_t)malloc_usable_size(q) - old;
    return q;
}

/* calloc, so that a model's weights (one zeroed block) that a summary never
 * touches stay unmapped pages, as with libc, rather than zeroing up to
 * FUZZ_MEMORY per input. */
static void *fuzz_calloc(void *ctx, size_t n, size_t size)
{
    (void)ctx;
    if (size && n > SIZE_MAX / size) return NULL;
    if ((int64_t)(n * size) > FUZZ_MEMORY - fuzz_live) return NULL;
    void *p = calloc(n, size);
    if (p) fuzz_live += (int64_t)malloc_usable_size(p);
    return p;
}

static void fuzz_free(void *ctx, void *p)
{
    (void)ctx;
    if (p) fuzz_live -= (int64_t)malloc_usable_size(p);
    free(p);
}

/* The HDF5 guard's verdict, once per input and content. fuzz_model_file reads
 * one input through four entry points, and each asks src/io/h5_guard.c to check
 * the same bytes in a forked child: the same walk, with the same verdict, four
 * times (a fork of this process, with ASan's shadow and quarantine mapped, costs
 * more than the walk; a stalling input costs the CPU limit each time). So
 * scripts/fuzz.sh links with -Wl,--wrap=ck_h5_check: the first check of given
 * bytes within an input runs the real guard; a later check of the same bytes,
 * read the same way (path or memory image), gets that verdict again, the same
 * status and the same message, as the guard would have given. Each reader still
 * reads in process only what the guard passed. Not in test_fuzz_corpus.c, which
 * replays the corpus through the unwrapped guard. */
typedef struct fuzz_verdict {
    bool image;    /* checked from memory (a .keras member), else from a path */
    uint8_t *data; /* the bytes checked; NULL: slot unused */
    size_t len;
    ck_status status;
    char *rest; /* the message after "<origin>: " */
} fuzz_verdict;
static fuzz_verdict fuzz_verdicts[4];

ck_status __real_ck_h5_check(const char *path, const void *image, size_t len, const char *origin);
ck_status ck_fail(ck_status status, const char *fmt, ...);

static void fuzz_verdicts_clear(void)
{
    for (size_t i = 0; i < sizeof fuzz_verdicts / sizeof *fuzz_verdicts; i++) {
        free(fuzz_verdicts[i].data);
        free(fuzz_verdicts[i].rest);
        fuzz_verdicts[i] = (fuzz_verdict){0};
    }
}

/* The file's bytes (NULL when unreadable: then the real guard decides). */
static uint8_t *fuzz_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0, got;
    do {
        if (n == cap) {
            uint8_t *b = realloc(buf, cap = cap ? 2 * cap : 65536);
            if (!b) break;
            buf = b;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    bool ok = !ferror(f) && feof(f);
    fclose(f);
    if (!ok) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf ? buf : malloc(1);
}

ck_status __wrap_ck_h5_check(const char *path, const void *image, size_t len, const char *origin)
{
    bool is_image = image != NULL;
    size_t n = len;
    uint8_t *bytes = is_image ? NULL : fuzz_slurp(path, &n);
    const uint8_t *key = is_image ? image : bytes;
    if (!key) return __real_ck_h5_check(path, image, len, origin);
    size_t slot = sizeof fuzz_verdicts / sizeof *fuzz_verdicts;
    for (size_t i = 0; i < sizeof fuzz_verdicts / sizeof *fuzz_verdicts; i++) {
        const fuzz_verdict *v = &fuzz_verdicts[i];
        if (!v->data) {
            if (slot == sizeof fuzz_verdicts / sizeof *fuzz_verdicts) slot = i;
            continue;
        }
        if (v->image == is_image && v->len == n && !memcmp(v->data, key, n)) {
            free(bytes);
            return v->status ? ck_fail(v->status, "%s: %s", origin, v->rest) : CK_OK;
        }
    }
    ck_status st = __real_ck_h5_check(path, image, len, origin);
    /* Only the verdicts on the bytes (passed, or refused as damaged); a failed
     * fork or pipe is this moment's, not the file's. */
    size_t olen = strlen(origin);
    const char *msg = ck_errmsg();
    bool keep = st == CK_OK || (st == CK_ERR_FORMAT && !strncmp(msg, origin, olen) && !strncmp(msg + olen, ": ", 2));
    if (keep && slot < sizeof fuzz_verdicts / sizeof *fuzz_verdicts) {
        fuzz_verdict *v = &fuzz_verdicts[slot];
        v->rest = st ? strdup(msg + olen + 2) : NULL;
        v->data = bytes ? bytes : malloc(n ? n : 1);
        if (v->data && (!st || v->rest)) {
            if (!bytes) memcpy(v->data, image, n);
            bytes = NULL;
            v->image = is_image;
            v->len = n;
            v->status = st;
        } else {
            if (v->data != bytes) free(v->data);
            free(v->rest);
            *v = (fuzz_verdict){0};
        }
    }
    free(bytes);
    return st;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (ck_set_allocator(&(ck_allocator){fuzz_malloc, fuzz_realloc, fuzz_free, NULL, fuzz_calloc})) abort();
    atexit(fuzz_verdicts_clear);
    atexit(fuzz_cleanup);
    if (fuzz_setup()) return 1;
    /* With the verdicts kept per input, the guard runs once per input, not four
     * times; its CPU bound can then be tighter than fuzz_setup's share
     * of test_fuzz_corpus's 2 s. A valid input's walk takes at most 20 ms of
     * CPU under ASan (the repository's seeds), so 0.1 s still leaves each one
     * to the readers, while an input that stalls libhdf5 costs 0.1 s, not up
     * to 1 s (such children, mutants of the damaged-heap seeds, took about
     * half the CPU time of a weights_h5 run before). */
    ck_limits lim;
    ck_get_limits(&lim);
    lim.hdf5_seconds = 0.1;
    if (ck_set_limits(&lim)) abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_live = 0;
    int r = FUZZ_TARGET(data, size);
    fuzz_verdicts_clear();
    return r;
}
#endif
