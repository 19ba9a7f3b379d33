/* summary() of a compiled .keras model as keras.models.load_model shows it
 * (tests/oracle/core_loaded.py): Keras compiles the model from its compile_config,
 * which builds the optimizer, so an "Optimizer params" row follows, also for a
 * model saved before training. ck_model_load must print the same bytes. */
#include "testutil.h"

#include <jansson.h>
#include <zip.h>

/* config.json of a .keras archive, parsed. */
static json_t *archive_config(const char *path)
{
    int err = 0;
    zip_t *z = zip_open(path, ZIP_RDONLY, &err);
    if (!z) return NULL;
    json_t *root = NULL;
    zip_stat_t st;
    zip_file_t *f = zip_stat(z, "config.json", 0, &st) == 0 ? zip_fopen(z, "config.json", 0) : NULL;
    char *buf = f ? malloc(st.size + 1) : NULL;
    if (buf && zip_fread(f, buf, st.size) == (zip_int64_t)st.size) root = json_loadb(buf, st.size, 0, NULL);
    free(buf);
    if (f) zip_fclose(f);
    zip_close(z);
    return root;
}

/* Keras's to_json after load_model writes the file's compile_config unchanged. */
static void check_compile_config(ck_model *m, const char *path)
{
    json_t *file = archive_config(path);
    char *text = NULL;
    CHECK(ck_model_to_json(m, &text) == CK_OK, "%s: to_json: %s", path, ck_errmsg());
    json_t *ours = text ? json_loads(text, 0, NULL) : NULL;
    CHECK(file && ours && json_equal(json_object_get(file, "compile_config"), json_object_get(ours, "compile_config")),
          "%s: to_json's compile_config differs from the file's", path);
    json_decref(ours);
    json_decref(file);
    free(text);
}

int main(void)
{
    char path[1024];
    json_error_t err;
    json_t *index = json_load_file(test_path(path, sizeof path, "tests/golden/core_loaded/index.json"), 0, &err);
    CHECK(index != NULL, "index.json: %s", err.text);
    size_t i;
    json_t *e;
    json_array_foreach(index, i, e) {
        const char *file = json_string_value(json_object_get(e, "file"));
        const char *golden = json_string_value(json_object_get(e, "summary"));
        char model_path[1024];
        ck_model *m = ck_model_load(test_path(model_path, sizeof model_path, "%s", file));
        CHECK(m != NULL, "%s: %s", file, ck_errmsg());
        char *want = test_read_file(test_path(path, sizeof path, "%s", golden), NULL), *got = NULL;
        if (m) {
            CHECK(ck_model_summary(m, NULL, &got) == CK_OK, "%s: %s", file, ck_errmsg());
            CHECK(got && want && !strcmp(got, want), "%s differs:\n--- ckeras ---\n%s--- keras ---\n%s", file,
                  got ? got : "", want ? want : "(missing)");
            size_t n = strlen(file);
            if (n > 6 && !strcmp(file + n - 6, ".keras")) check_compile_config(m, model_path);
        }
        free(got);
        free(want);
        ck_model_free(m);
    }
    CHECK(json_array_size(index) >= 10, "only %zu cases", json_array_size(index));
    json_decref(index);
    return test_report("test_core_loaded");
}
