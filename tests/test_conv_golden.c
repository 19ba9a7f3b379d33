/* Golden test of the convolutional family against real Keras 3 (tests/golden/conv,
 * written by tests/oracle/conv_cases.py): every case's config loads, its parameter
 * counts are exact and every summary variant is byte-identical. Then the Keras
 * Applications (tests/golden/apps): exact total / trainable / non-trainable counts
 * and the default summary, byte for byte. */
#include "testutil.h"

#include <jansson.h>

static void check_counts(const char *dir, const ck_model *m, json_t *counts)
{
    ck_param_counts pc;
    CHECK_OK(ck_model_count_params(m, &pc));
    CHECK(pc.total == json_integer_value(json_object_get(counts, "total")), "%s: total %lld", dir, (long long)pc.total);
    CHECK(pc.trainable == json_integer_value(json_object_get(counts, "trainable")), "%s: trainable %lld", dir,
          (long long)pc.trainable);
    CHECK(pc.non_trainable == json_integer_value(json_object_get(counts, "non_trainable")), "%s: non_trainable %lld",
          dir, (long long)pc.non_trainable);
}

static void check_case(const char *root, const char *name)
{
    char dir[512], p[1024];
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    ck_model *m = ck_model_load_json_file(test_path(p, sizeof p, "%s/config.json", dir));
    CHECK(m != NULL, "%s: %s", dir, ck_errmsg());
    if (!m) return;
    json_t *counts = test_load_json("%s/counts.json", dir);
    if (counts) check_counts(dir, m, counts);
    json_decref(counts);
    json_t *specs = test_load_json("%s/summaries.json", dir);
    test_check_summaries(m, specs, dir, CK_SUMMARY_KERAS3);
    json_decref(specs);
    char diff[1024];
    CHECK(test_to_json_diff(m, test_path(p, sizeof p, "%s/config.json", dir), diff, sizeof diff) == 0,
          "%s: to_json differs from Keras at %s", dir, diff);
    ck_model_free(m);
}

static void check_app(const char *app)
{
    char dir[512], p[1024];
    snprintf(dir, sizeof dir, "tests/golden/apps/%s", app);
    ck_model *m = ck_model_load_json_file(test_path(p, sizeof p, "%s/config.json", dir));
    CHECK(m != NULL, "%s: %s", app, ck_errmsg());
    if (!m) return;
    json_t *counts = test_load_json("%s/counts.json", dir);
    if (counts) check_counts(dir, m, counts);
    json_decref(counts);
    json_t *manifest = json_pack("[{s:s}]", "file", "summary.txt");
    test_check_summaries(m, manifest, dir, CK_SUMMARY_KERAS3);
    json_decref(manifest);
    char diff[1024];
    CHECK(test_to_json_diff(m, test_path(p, sizeof p, "%s/config.json", dir), diff, sizeof diff) == 0,
          "%s: to_json differs from Keras at %s", dir, diff);
    ck_model_free(m);
}

int main(void)
{
    /* conv: conv_cases.py; convb: convb_cases.py (more normalization/preprocessing options) */
    static const char *const roots[] = {"tests/golden/conv", "tests/golden/convb"};
    for (size_t r = 0; r < sizeof roots / sizeof roots[0]; r++) {
        json_t *index = test_load_json("%s/index.json", roots[r]);
        size_t i;
        json_t *e;
        json_array_foreach(index, i, e) check_case(roots[r], json_string_value(json_object_get(e, "name")));
        json_decref(index);
    }
    static const char *const apps[] = {"VGG16", "VGG19", "ResNet50", "ResNet50V2", "MobileNet", "MobileNetV2",
                                       "DenseNet121", "InceptionV3", "Xception", "EfficientNetB0", "NASNetMobile",
                                       "ConvNeXtTiny", "MobileNetV3Small"};
    for (size_t a = 0; a < sizeof apps / sizeof apps[0]; a++) {
        char p[1024];
        FILE *f = fopen(test_path(p, sizeof p, "tests/golden/apps/%s/config.json", apps[a]), "r");
        CHECK(f != NULL, "missing golden for %s", apps[a]);
        if (f) fclose(f), check_app(apps[a]);
    }
    return test_report("test_conv_golden");
}
