/* Sequence-layer goldens (tests/golden/seq, from real Keras 3 by
 * tests/oracle/seq_cases.py): every case's config.json loads, its counts and
 * per-layer parameters match counts.json, its weights have Keras's shapes in
 * Keras's order, and every summary text matches byte for byte. */
#include "testutil.h"

#include <jansson.h>

static void check_counts(const char *name, const ck_model *m)
{
    json_t *c = test_load_json("tests/golden/seq/%s/counts.json", name);
    if (!c) return;
    ck_param_counts pc;
    CHECK_OK(ck_model_count_params(m, &pc));
    CHECK(pc.trainable == json_integer_value(json_object_get(c, "trainable")), "%s: trainable %lld", name,
          (long long)pc.trainable);
    CHECK(pc.non_trainable == json_integer_value(json_object_get(c, "non_trainable")), "%s: non_trainable", name);
    json_t *ws = json_object_get(c, "weights");
    CHECK((size_t)ck_model_weight_count(m) == json_array_size(ws), "%s: %d weights, Keras %zu", name,
          ck_model_weight_count(m), json_array_size(ws));
    for (size_t i = 0; i < json_array_size(ws) && (int)i < ck_model_weight_count(m); i++) {
        ck_weight_info w;
        CHECK_OK(ck_model_weight(m, (int)i, &w));
        json_t *shape = json_object_get(json_array_get(ws, i), "shape");
        bool same = (size_t)w.shape.rank == json_array_size(shape);
        for (int d = 0; same && d < w.shape.rank; d++)
            same = w.shape.dim[d] == json_integer_value(json_array_get(shape, (size_t)d));
        CHECK(same, "%s: weight %zu (%s) has another shape than Keras's", name, i, w.path);
        const char *want = json_string_value(json_object_get(json_array_get(ws, i), "path"));
        CHECK(want && !strcmp(want, w.path), "%s: weight %zu path %s, Keras %s", name, i, w.path, want ? want : "?");
    }
    json_decref(c);
}

static void check_summaries(const char *name, const ck_model *m)
{
    char dir[512];
    snprintf(dir, sizeof dir, "tests/golden/seq/%s", name);
    json_t *s = test_load_json("%s/summaries.json", dir);
    test_check_summaries(m, s, dir, CK_SUMMARY_KERAS3);
    json_decref(s);
}

/* The config (as JSON) is refused at load with a message containing `want`. */
static void expect_refused(json_t *config, const char *origin, const char *want)
{
    char *text = json_dumps(config, 0);
    ck_model *m = ck_model_from_json(text, origin);
    CHECK(m == NULL && strstr(ck_errmsg(), want), "%s: %s", origin, m ? "loaded" : ck_errmsg());
    ck_model_free(m);
    free(text);
}

/* One MultiHeadAttention called once with use_causal_mask=True and once without
 * (Keras allows it; ckeras runs a layer one way): refused at load, naming the
 * layer, rather than run both calls one way. */
static void check_mixed_causal_refused(void)
{
    json_t *c = test_load_json("tests/golden/seq/mha_causal_short_query/config.json");
    json_t *layers = json_object_get(json_object_get(c, "config"), "layers");
    json_t *nodes = json_object_get(json_array_get(layers, 2), "inbound_nodes");
    CHECK(json_array_size(nodes) == 1, "mha_causal_short_query: layer 2 has %zu nodes", json_array_size(nodes));
    if (json_array_size(nodes) != 1) {
        json_decref(c);
        return;
    }
    json_t *plain = json_deep_copy(json_array_get(nodes, 0));
    json_object_set_new(plain, "kwargs", json_object());
    json_array_append_new(nodes, plain);
    expect_refused(c, "mixed.json",
                   "MultiHeadAttention 'multi_head_attention' is called both with and without use_causal_mask=True");
    json_decref(c);
}

/* MultiHeadAttention over rank-4 inputs (attention_axes=[1]) with
 * use_causal_mask=True: Keras broadcasts its [1, T, S] mask against scores of
 * another layout; ckeras refuses it at load. The case's config, flag added. */
static void check_rank4_causal_refused(void)
{
    json_t *c = test_load_json("tests/golden/seq/mha_attention_axes/config.json");
    json_t *node = json_array_get(json_object_get(json_array_get(json_object_get(json_object_get(c, "config"),
                                                                                  "layers"), 2), "inbound_nodes"), 0);
    CHECK(json_is_object(node), "mha_attention_axes: no node");
    json_object_set_new(node, "kwargs", json_pack("{s:b}", "use_causal_mask", 1));
    expect_refused(c, "rank4.json",
                   "MultiHeadAttention 'multi_head_attention': use_causal_mask=True on inputs of rank 4 is not supported");
    json_decref(c);
}

/* tf.keras 2 writes a call's kwargs inside its inbound node, which ckeras does
 * not keep: MultiHeadAttention(use_causal_mask=True) there is refused at load.
 * The file is tf.keras 2.15's (tests/oracle/matrix_tfjs_cases.py) with the flag
 * added, and loads without it. */
static void check_keras2_causal_refused(void)
{
    json_t *f = test_load_json("tests/golden/matrix/mha/tfjs/model.json");
    json_t *cfg = json_object_get(json_object_get(f, "modelTopology"), "model_config");
    json_t *node = json_array_get(json_object_get(json_array_get(json_object_get(json_object_get(cfg, "config"),
                                                                                  "layers"), 2), "inbound_nodes"), 0);
    json_t *kw = json_array_get(json_array_get(node, 0), 3);
    CHECK(json_is_object(kw), "matrix/mha/tfjs: no Keras 2 call kwargs");
    for (int causal = 0; causal < 2 && json_is_object(kw); causal++) {
        json_object_set_new(kw, "use_causal_mask", json_boolean(causal));
        if (causal) {
            expect_refused(cfg, "keras2.json", "MultiHeadAttention 'multi_head_attention': use_causal_mask=True is not supported");
            continue;
        }
        char *text = json_dumps(cfg, 0);
        ck_model *m = ck_model_from_json(text, "keras2.json");
        CHECK(m != NULL, "tf.keras 2 use_causal_mask=False: %s", ck_errmsg());
        ck_model_free(m);
        free(text);
    }
    json_decref(f);
}

int main(void)
{
    check_mixed_causal_refused();
    check_keras2_causal_refused();
    check_rank4_causal_refused();
    json_t *index = test_load_json("tests/golden/seq/index.json");
    size_t i;
    json_t *e;
    CHECK(json_array_size(index) >= 20, "index.json lists %zu cases", json_array_size(index));
    json_array_foreach(index, i, e) {
        const char *name = json_string_value(e);
        char p[512];
        test_path(p, sizeof p, "tests/golden/seq/%s/config.json", name);
        ck_model *m = ck_model_load_json_file(p);
        CHECK(m != NULL, "%s: %s", name, ck_errmsg());
        if (!m) continue;
        check_counts(name, m);
        check_summaries(name, m);
        char diff[1024];
        CHECK(test_to_json_diff(m, p, diff, sizeof diff) == 0, "%s: to_json differs from Keras at %s", name, diff);
        ck_model_free(m);
    }
    json_decref(index);
    return test_report("test_seq_golden");
}
