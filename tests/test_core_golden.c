/* Core goldens from real Keras (tests/oracle/core_models.py): every case's
 * config.json is loaded and must give Keras's counts, layer rows, weight layout
 * and every summary text byte for byte, including the summaries Keras refused. */
#include "testutil.h"

#include <jansson.h>

static void check_counts(const char *name, ck_model *m, json_t *counts)
{
    ck_param_counts c;
    CHECK_OK(ck_model_count_params(m, &c));
    CHECK(c.trainable == json_integer_value(json_object_get(counts, "trainable")), "%s: trainable %lld", name,
          (long long)c.trainable);
    CHECK(c.non_trainable == json_integer_value(json_object_get(counts, "non_trainable")), "%s: non-trainable %lld",
          name, (long long)c.non_trainable);
    json_t *bytes = json_object_get(counts, "bytes");
    CHECK(c.trainable_bytes == json_number_value(json_object_get(bytes, "trainable")), "%s: trainable bytes %g", name,
          c.trainable_bytes);
    json_t *layers = json_object_get(counts, "layers");
    CHECK((size_t)ck_model_layer_count(m) == json_array_size(layers), "%s: %d layers, Keras has %zu", name,
          ck_model_layer_count(m), json_array_size(layers));
    size_t i;
    json_t *e;
    json_array_foreach(layers, i, e) {
        ck_layer *l = ck_model_layer(m, (int)i);
        if (!l) break;
        const char *want = json_string_value(json_object_get(e, "name"));
        CHECK(!strcmp(ck_layer_name(l), want), "%s: layer %zu is '%s', Keras '%s'", name, i, ck_layer_name(l), want);
        CHECK(!strcmp(ck_layer_class_name(l), json_string_value(json_object_get(e, "class_name"))), "%s: class of %s",
              name, want);
        /* Keras's count_params raises on an unbuilt layer (the summary shows 0); ours is -1. */
        int64_t want_params = ck_model_built(m) ? json_integer_value(json_object_get(e, "params")) : -1;
        CHECK(ck_layer_count_params(l) == want_params, "%s: %s has %lld params", name, want, (long long)ck_layer_count_params(l));
    }
    json_t *weights = json_object_get(counts, "weights");
    CHECK((size_t)ck_model_weight_count(m) == json_array_size(weights), "%s: %d weights, Keras %zu", name,
          ck_model_weight_count(m), json_array_size(weights));
    json_array_foreach(weights, i, e) {
        ck_weight_info w;
        if (ck_model_weight(m, (int)i, &w) != CK_OK) break;
        json_t *shape = json_object_get(e, "shape");
        bool same = (size_t)w.shape.rank == json_array_size(shape);
        for (int d = 0; same && d < w.shape.rank; d++) same = w.shape.dim[d] == json_integer_value(json_array_get(shape, (size_t)d));
        CHECK(same, "%s: weight %zu (%s) shape differs", name, i, w.path);
        CHECK(w.trainable == json_is_true(json_object_get(e, "trainable")), "%s: weight %s trainable", name, w.path);
        CHECK(!strcmp(w.path, json_string_value(json_object_get(e, "path"))), "%s: weight path '%s', Keras '%s'", name,
              w.path, json_string_value(json_object_get(e, "path")));
    }
}

/* Keras refused these option sets (e.g. "Insufficient console width"); so must we. */
static void check_refusals(const char *name, ck_model *m, json_t *errors)
{
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e) {
        double positions[8];
        ck_summary_opts o = test_summary_opts(e, CK_SUMMARY_KERAS3, positions);
        char *got = NULL;
        ck_status st = ck_model_summary(m, &o, &got);
        const char *msg = json_string_value(json_object_get(e, "message"));
        CHECK(st != CK_OK && msg && strstr(ck_errmsg(), msg), "%s: Keras refused with '%s', ckeras gave %s", name,
              msg ? msg : "?", st ? ck_errmsg() : "a summary");
        free(got);
    }
}

/* model.to_json() of the loaded config must be Keras's own to_json, value for value. */
static void check_to_json(const char *name, ck_model *m)
{
    char p[1024], diff[1024];
    test_path(p, sizeof p, "tests/golden/core/%s/config.json", name);
    CHECK(test_to_json_diff(m, p, diff, sizeof diff) == 0, "%s: to_json differs from Keras at %s", name, diff);
}

/* The compiled cases of tests/oracle/core_models.py: compile(optimizer,
 * 'categorical_crossentropy'), then m.optimizer.build(m.trainable_variables)
 * except for classic_compiled, whose optimizer Keras leaves unbuilt. */
static const struct compiled_case {
    const char *name, *optimizer;
    bool build;
} compiled_cases[] = {
    {"classic_compiled", "Adam()", false},
    {"classic_adam", "Adam()", true},
    {"classic_sgd", "SGD()", true},
    {"classic_sgd_momentum", "SGD(momentum=0.9)", true},
    {"classic_frozen_adam", "Adam()", true},
};

static void compile_like_keras(const char *name, ck_model *m)
{
    for (size_t i = 0; i < sizeof compiled_cases / sizeof compiled_cases[0]; i++) {
        const struct compiled_case *c = &compiled_cases[i];
        if (strcmp(c->name, name)) continue;
        CHECK(ck_model_compile(m, c->optimizer, "categorical_crossentropy", NULL) == CK_OK, "%s: compile: %s",
              name, ck_errmsg());
        if (c->build) CHECK(ck_model_build_optimizer(m) == CK_OK, "%s: %s", name, ck_errmsg());
    }
}

static void check_optimizer_count(const char *name, ck_model *m, json_t *counts)
{
    ck_param_counts c;
    CHECK_OK(ck_model_count_params(m, &c));
    json_t *want = json_object_get(counts, "optimizer");
    CHECK(c.optimizer == (json_is_null(want) ? 0 : json_integer_value(want)), "%s: optimizer params %lld", name,
          (long long)c.optimizer);
    CHECK(c.total == json_integer_value(json_object_get(counts, "total")), "%s: total %lld", name,
          (long long)c.total);
}

static void run_case(const char *name)
{
    char path[1024];
    test_path(path, sizeof path, "tests/golden/core/%s/config.json", name);
    ck_model *m = ck_model_load_json_file(path);
    CHECK(m != NULL, "%s: %s", name, ck_errmsg());
    if (!m) return;
    json_t *counts = test_load_json("tests/golden/core/%s/counts.json", name);
    json_t *manifest = test_load_json("tests/golden/core/%s/summaries.json", name);
    json_t *info = test_load_json("tests/golden/core/%s/case.json", name);
    check_counts(name, m, counts);
    check_to_json(name, m);
    compile_like_keras(name, m);
    check_optimizer_count(name, m, counts);
    char dir[512];
    snprintf(dir, sizeof dir, "tests/golden/core/%s", name);
    test_check_summaries(m, manifest, dir, CK_SUMMARY_KERAS3);
    check_refusals(name, m, json_object_get(info, "summary_errors"));
    json_decref(counts);
    json_decref(manifest);
    json_decref(info);
    ck_model_free(m);
}

int main(void)
{
    char path[1024];
    json_error_t err;
    json_t *index = json_load_file(test_path(path, sizeof path, "tests/golden/core/index.json"), 0, &err);
    CHECK(index != NULL, "index.json: %s", err.text);
    json_t *cases = json_is_object(index) && json_object_get(index, "cases") ? json_object_get(index, "cases") : index;
    size_t i;
    json_t *e;
    int n = 0;
    json_array_foreach(cases, i, e) {
        const char *name = json_is_string(e) ? json_string_value(e) : json_string_value(json_object_get(e, "name"));
        if (!name) continue;
        run_case(name);
        n++;
    }
    CHECK(n >= 50, "only %d cases found", n);
    json_decref(index);
    return test_report("test_core_golden");
}
