/* summary() of a compiled .keras model as keras.models.load_model shows it
 * (tests/oracle/core_loaded.py): Keras compiles the model from its compile_config,
 * which builds the optimizer, so an "Optimizer params" row follows, also for a
 * model saved before training. ck_model_load must print the same bytes. */
#include "testutil.h"

#include <jansson.h>

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
        ck_model *m = ck_model_load(test_path(path, sizeof path, "%s", file));
        CHECK(m != NULL, "%s: %s", file, ck_errmsg());
        char *want = test_read_file(test_path(path, sizeof path, "%s", golden), NULL), *got = NULL;
        if (m) {
            CHECK(ck_model_summary(m, NULL, &got) == CK_OK, "%s: %s", file, ck_errmsg());
            CHECK(got && want && !strcmp(got, want), "%s differs:\n--- ckeras ---\n%s--- keras ---\n%s", file,
                  got ? got : "", want ? want : "(missing)");
        }
        free(got);
        free(want);
        ck_model_free(m);
    }
    CHECK(json_array_size(index) >= 10, "only %zu cases", json_array_size(index));
    json_decref(index);
    return test_report("test_core_loaded");
}
