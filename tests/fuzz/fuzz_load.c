/* libFuzzer target over the model-file readers: the input bytes become a model
 * file and ck_model_load (and the architecture-only ck_model_load_config, the
 * inspector and the raw weight listing) must answer with a model or a one-line
 * error, never crash, leak or read out of bounds. The format is sniffed from the
 * content, as for a user's file, so one target covers JSON, .keras zips and
 * HDF5; seeds from every format steer it (scripts/fuzz.sh). Built with
 * -DFUZZ_TFJS the input is a TF.js model.json whose shards, fixed bytes, lie
 * next to it, so the manifest parser and the shard arithmetic get the mutations.
 * Built with -DFUZZ_PYTHON the input is Keras model code (a .py file), read by
 * the Python subset reader in load mode, which prints and writes nothing.
 * Files go to one private temporary folder per process: libhdf5 and libzip read
 * paths, not memory. */
#include <ckeras.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static void write_file(const char *path, const uint8_t *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) abort(); /* the harness itself is broken: stop loudly */
    if (len && fwrite(data, 1, len, f) != len) abort();
    fclose(f);
}

/* Fixed shard bytes for the TF.js target: enough floats for small manifests. */
static void write_shards(void)
{
    static uint8_t shard[4096];
    for (size_t i = 0; i < sizeof shard; i++) shard[i] = (uint8_t)(i * 37u + 11u);
    static const char *const names[] = {"group1-shard1of1.bin", "model.weights.bin", "weights.bin"};
    char p[128];
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        write_file(p, shard, sizeof shard);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(dir, sizeof dir, "/tmp/ckeras-fuzz-XXXXXX");
    if (!mkdtemp(dir)) abort();
    write_shards();
    return 0;
}

static int count_weight(void *ctx, const char *path, const ck_shape *s)
{
    (void)path;
    (void)s;
    ++*(int *)ctx;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[128];
#ifdef FUZZ_TFJS
    snprintf(path, sizeof path, "%s/model.json", dir);
#elif defined(FUZZ_PYTHON)
    snprintf(path, sizeof path, "%s/model.py", dir);
#else
    snprintf(path, sizeof path, "%s/input.keras", dir);
#endif
    write_file(path, data, size);
    ck_model *m = ck_model_load(path);
    if (!m && strchr(ck_errmsg(), '\n')) abort(); /* errors are one line */
    ck_model_free(m);
    m = ck_model_load_config(path);
    if (m) {
        char *text = NULL;
        if (ck_model_summary(m, NULL, &text) == CK_OK) free(text);
    }
    ck_model_free(m);
    ck_file_info info;
    (void)ck_file_inspect(path, &info);
    int n = 0;
    (void)ck_file_list_weights(path, count_weight, &n);
    return 0;
}
