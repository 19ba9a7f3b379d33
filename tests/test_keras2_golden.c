/* Keras 2 style summaries from real tf.keras 2.15 (tests/oracle/keras2_summaries.py,
 * run in its own TensorFlow 2.15 environment): each case's config.json is the
 * model's Keras 2 to_json(), which ckeras must read, and every summary text must
 * come out of `--style keras2` byte for byte. */
#include "testutil.h"

#include <jansson.h>

static void run_case(const char *name)
{
    char path[1024];
    ck_model *m = ck_model_load_json_file(test_path(path, sizeof path, "tests/golden/keras2/%s/config.json", name));
    CHECK(m != NULL, "%s: %s", name, ck_errmsg());
    json_error_t err;
    json_t *manifest = json_load_file(test_path(path, sizeof path, "tests/golden/keras2/%s/summaries.json", name), 0, &err);
    CHECK(manifest != NULL, "%s: summaries.json: %s", name, err.text);
    char dir[512];
    snprintf(dir, sizeof dir, "tests/golden/keras2/%s", name);
    if (m) test_check_summaries(m, manifest, dir, CK_SUMMARY_KERAS2);
    json_decref(manifest);
    ck_model_free(m);
}

int main(void)
{
    char path[1024];
    json_error_t err;
    json_t *index = json_load_file(test_path(path, sizeof path, "tests/golden/keras2/index.json"), 0, &err);
    CHECK(index != NULL, "index.json: %s", err.text);
    size_t i;
    json_t *e;
    json_array_foreach(index, i, e) run_case(json_string_value(e));
    CHECK(json_array_size(index) >= 12, "only %zu cases", json_array_size(index));
    json_decref(index);
    return test_report("test_keras2_golden");
}
