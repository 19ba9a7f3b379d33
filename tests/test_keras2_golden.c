/* Keras 2 style summaries from real tf.keras 2.15 (tests/oracle/keras2_summaries.py,
 * run in its own TensorFlow 2.15 environment): each case's config.json is the
 * model's Keras 2 to_json(), which ckeras must read, and every summary text must
 * come out of `--style keras2` byte for byte. */
#include "testutil.h"

#include <jansson.h>

static ck_summary_opts opts_from(json_t *e, double *positions, const char **range)
{
    ck_summary_opts o = {.style = CK_SUMMARY_KERAS2};
    json_t *v;
    if (json_is_integer(v = json_object_get(e, "line_length"))) o.line_length = (int)json_integer_value(v);
    o.show_trainable = json_is_true(json_object_get(e, "show_trainable"));
    o.expand_nested = json_is_true(json_object_get(e, "expand_nested"));
    if (json_is_array(v = json_object_get(e, "positions"))) {
        o.n_positions = (int)json_array_size(v);
        for (int k = 0; k < o.n_positions && k < 8; k++) positions[k] = json_number_value(json_array_get(v, (size_t)k));
        o.positions = positions;
    }
    if (json_is_array(v = json_object_get(e, "layer_range"))) {
        range[0] = o.layer_range[0] = json_string_value(json_array_get(v, 0));
        range[1] = o.layer_range[1] = json_string_value(json_array_get(v, 1));
    }
    return o;
}

static void run_case(const char *name)
{
    char path[1024];
    ck_model *m = ck_model_load_json_file(test_path(path, sizeof path, "tests/golden/keras2/%s/config.json", name));
    CHECK(m != NULL, "%s: %s", name, ck_errmsg());
    json_error_t err;
    json_t *manifest = json_load_file(test_path(path, sizeof path, "tests/golden/keras2/%s/summaries.json", name), 0, &err);
    CHECK(manifest != NULL, "%s: summaries.json: %s", name, err.text);
    size_t i;
    json_t *e;
    json_array_foreach(manifest, i, e) {
        if (!m) break;
        double positions[8];
        const char *range[2];
        ck_summary_opts o = opts_from(e, positions, range);
        const char *file = json_string_value(json_object_get(e, "file"));
        char *want = test_read_file(test_path(path, sizeof path, "tests/golden/keras2/%s/%s", name, file), NULL);
        char *got = NULL;
        ck_status st = ck_model_summary(m, &o, &got);
        CHECK(want && st == CK_OK && got && !strcmp(got, want), "%s/%s differs:\n--- ckeras ---\n%s--- tf.keras 2.15 ---\n%s",
              name, file, got ? got : ck_errmsg(), want ? want : "(missing)");
        free(got);
        free(want);
    }
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
