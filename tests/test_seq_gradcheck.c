/* Finite-difference gradient checks of the sequence family's backward passes
 * (BPTT through SimpleRNN, LSTM, GRU in both reset forms, go_backwards,
 * return_sequences/return_state, initial states, Keras masks, Bidirectional in
 * every merge mode, TimeDistributed, Embedding, ConvLSTM1D/2D). The method is
 * tests/gradcheck.c's: L = sum_i <output_i, R_i>, central differences of the
 * float32 forward (eps 5e-3) against the analytic gradients of every input element
 * (unless the input holds integer ids) and every weight. */
#include "gradcheck.h"

#include <stdarg.h>

#include "engine/exec.h"

#define gradcheck(label, m, ids) gradcheck_ids(label, m, ids, false)

/* Sequential: InputLayer(input_shape) then the layers "Class|kwargs", NULL-ended. */
static ck_model *seq(const char *input_shape, ...)
{
    ck_model *m = ck_sequential(NULL);
    char buf[128];
    snprintf(buf, sizeof buf, "input_shape=%s", input_shape);
    ck_sequential_add(m, ck_layer_new("InputLayer", buf));
    va_list ap;
    va_start(ap, input_shape);
    for (const char *cls; (cls = va_arg(ap, const char *));) {
        const char *kw = va_arg(ap, const char *);
        ck_status st = ck_sequential_add(m, ck_layer_new(cls, kw));
        CHECK(st == CK_OK, "%s(%s): %s", cls, kw, ck_errmsg());
    }
    va_end(ap);
    return m;
}

/* A functional model: one RNN call on x (T, D) with optional initial states,
 * every output of the call a model output. */
static ck_model *rnn_call(const char *cls, const char *kwargs, int n_states, int n_out)
{
    ck_model *g = ck_functional(NULL);
    ck_ktensor *in[3] = {ck_input(g, "shape=(4, 3)")};
    for (int i = 0; i < n_states; i++) in[1 + i] = ck_input(g, "shape=(2,)");
    ck_layer *l = ck_layer_new(cls, kwargs);
    ck_ktensor *y = ck_call(g, l, in, 1 + n_states), *outs[4];
    for (int i = 0; i < n_out; i++) outs[i] = y ? ck_ktensor_output(y, i) : NULL;
    if (!y || ck_functional_finish(g, in, 1 + n_states, outs, n_out)) {
        CHECK(0, "%s: %s", cls, ck_errmsg());
        ck_model_free(g);
        return NULL;
    }
    return g;
}

/* A ConvLSTM call on an input of `shape`, every output of the call a model
 * output (return_state gives three). */
static ck_model *conv_lstm_call(const char *cls, const char *shape, const char *kwargs, int n_out)
{
    ck_model *g = ck_functional(NULL);
    ck_ktensor *x = ck_input(g, shape);
    ck_ktensor *y = ck_call1(g, ck_layer_new(cls, kwargs), x), *outs[3];
    for (int i = 0; i < n_out; i++) outs[i] = y ? ck_ktensor_output(y, i) : NULL;
    if (!y || ck_functional_finish(g, &x, 1, outs, n_out)) {
        CHECK(0, "%s(%s): %s", cls, kwargs, ck_errmsg());
        ck_model_free(g);
        return NULL;
    }
    return g;
}

/* MultiHeadAttention on a query of q_shape and a value of v_shape (NULL: self
 * attention on the query), with a separate key input of the value's shape. */
static ck_model *mha(const char *kwargs, const char *q_shape, const char *v_shape, bool key)
{
    ck_model *g = ck_functional(NULL);
    char buf[64];
    snprintf(buf, sizeof buf, "shape=%s", q_shape);
    ck_ktensor *in[3] = {ck_input(g, buf)};
    int n = 1;
    if (v_shape) {
        snprintf(buf, sizeof buf, "shape=%s", v_shape);
        in[n++] = ck_input(g, buf);
        if (key) in[n++] = ck_input(g, buf);
    }
    ck_ktensor *args[3] = {in[0], v_shape ? in[1] : in[0], key ? in[2] : NULL};
    ck_ktensor *y = ck_call(g, ck_layer_new("MultiHeadAttention", kwargs), args, key ? 3 : 2);
    if (!y || ck_functional_finish(g, in, n, &y, 1)) {
        CHECK(0, "MultiHeadAttention(%s): %s", kwargs, ck_errmsg());
        ck_model_free(g);
        return NULL;
    }
    return g;
}

/* Attention-like layer on [query (4, 3), value (3, 2)] or with a key (3, 3). */
static ck_model *attn(const char *cls, const char *kwargs, bool key)
{
    ck_model *g = ck_functional(NULL);
    ck_ktensor *in[3] = {ck_input(g, "shape=(4, 3)"), ck_input(g, key ? "shape=(3, 2)" : "shape=(3, 3)"),
                         key ? ck_input(g, "shape=(3, 3)") : NULL};
    int n = key ? 3 : 2;
    ck_ktensor *y = ck_call(g, ck_layer_new(cls, kwargs), in, n);
    if (!y || ck_functional_finish(g, in, n, &y, 1)) {
        CHECK(0, "%s(%s): %s", cls, kwargs, ck_errmsg());
        ck_model_free(g);
        return NULL;
    }
    return g;
}

/* GroupedQueryAttention(4 query heads on 2 kv heads) on query (3, 4), value (2, 4). */
static ck_model *gqa(bool key)
{
    ck_model *g = ck_functional(NULL);
    ck_ktensor *in[3] = {ck_input(g, "shape=(3, 4)"), ck_input(g, "shape=(2, 4)"), key ? ck_input(g, "shape=(2, 4)") : NULL};
    int n = key ? 3 : 2;
    ck_ktensor *y = ck_call(g, ck_layer_new("GroupedQueryAttention", key ? "head_dim=2, num_query_heads=4, "
                                            "num_key_value_heads=2, use_bias=False" : "head_dim=2, num_query_heads=4, "
                                            "num_key_value_heads=2"), in, n);
    if (!y || ck_functional_finish(g, in, n, &y, 1)) {
        CHECK(0, "GroupedQueryAttention: %s", ck_errmsg());
        ck_model_free(g);
        return NULL;
    }
    return g;
}

/* Embedding(mask_zero) -> self-attention: masked keys and queries. */
static ck_model *seq_mha_masked(void)
{
    ck_model *g = ck_functional(NULL);
    ck_ktensor *x = ck_input(g, "shape=(5,)");
    ck_ktensor *e = ck_call1(g, ck_layer_new("Embedding", "input_dim=6, output_dim=4, mask_zero=True"), x);
    ck_ktensor *args[2] = {e, e};
    ck_ktensor *y = ck_call(g, ck_layer_new("MultiHeadAttention", "num_heads=2, key_dim=2"), args, 2);
    if (!y || ck_functional_finish(g, &x, 1, &y, 1)) {
        CHECK(0, "masked MultiHeadAttention: %s", ck_errmsg());
        ck_model_free(g);
        return NULL;
    }
    return g;
}

/* A nested layer as the kwargs parser reads it (Keras's serialized form). */
#define LAYER(cls, config) "{'class_name': '" cls "', 'config': {" config "}}"

int main(void)
{
    gradcheck("SimpleRNN", seq("(4, 3)", "SimpleRNN", "units=2", NULL), 0);
    gradcheck("SimpleRNN seq backwards", seq("(4, 3)", "SimpleRNN", "units=2, return_sequences=True, go_backwards=True", NULL), 0);
    gradcheck("LSTM", seq("(4, 3)", "LSTM", "units=2", NULL), 0);
    gradcheck("LSTM seq backwards", seq("(4, 3)", "LSTM", "units=2, return_sequences=True, go_backwards=True", NULL), 0);
    gradcheck("LSTM no bias softsign", seq("(4, 3)", "LSTM", "units=2, use_bias=False, recurrent_activation='softsign'", NULL), 0);
    gradcheck("GRU", seq("(4, 3)", "GRU", "units=2", NULL), 0);
    gradcheck("GRU seq backwards", seq("(4, 3)", "GRU", "units=2, return_sequences=True, go_backwards=True", NULL), 0);
    gradcheck("GRU reset_after=False", seq("(4, 3)", "GRU", "units=2, reset_after=False", NULL), 0);
    gradcheck("GRU reset_after=False seq", seq("(4, 3)", "GRU", "units=2, reset_after=False, return_sequences=True", NULL), 0);
    gradcheck("LSTM stack", seq("(4, 3)", "LSTM", "units=2, return_sequences=True", "GRU", "units=2", NULL), 0);
    gradcheck("LSTM return_state", rnn_call("LSTM", "units=2, return_state=True", 0, 3), 0);
    gradcheck("LSTM seq return_state", rnn_call("LSTM", "units=2, return_state=True, return_sequences=True", 0, 3), 0);
    gradcheck("GRU return_state", rnn_call("GRU", "units=2, return_state=True", 0, 2), 0);
    gradcheck("LSTM initial_state", rnn_call("LSTM", "units=2, return_sequences=True", 2, 1), 0);
    gradcheck("GRU initial_state", rnn_call("GRU", "units=2", 1, 1), 0);
    gradcheck("SimpleRNN initial_state", rnn_call("SimpleRNN", "units=2, go_backwards=True", 1, 1), 0);
    const char *modes[] = {"concat", "sum", "mul", "ave", NULL};
    char kw[128], label[128];
    for (int i = 0; modes[i]; i++) {
        snprintf(kw, sizeof kw, "layer=%s, merge_mode='%s'", LAYER("LSTM", "'units': 2, 'return_sequences': True"), modes[i]);
        snprintf(label, sizeof label, "Bidirectional(LSTM seq, %s)", modes[i]);
        gradcheck(label, seq("(4, 3)", "Bidirectional", kw, NULL), 0);
        snprintf(kw, sizeof kw, "layer=%s, merge_mode='%s'", LAYER("GRU", "'units': 2"), modes[i]);
        snprintf(label, sizeof label, "Bidirectional(GRU, %s)", modes[i]);
        gradcheck(label, seq("(4, 3)", "Bidirectional", kw, NULL), 0);
    }
    gradcheck("TimeDistributed(Dense)", seq("(4, 3)", "TimeDistributed", "layer=" LAYER("Dense", "'units': 2, 'activation': 'tanh'"), NULL), 0);
    gradcheck("Embedding LSTM", seq("(5,)", "Embedding", "input_dim=6, output_dim=3", "LSTM", "units=2", NULL), 6);
    gradcheck("Embedding mask_zero LSTM", seq("(5,)", "Embedding", "input_dim=6, output_dim=3, mask_zero=True",
                                               "LSTM", "units=2, return_sequences=True", NULL), 6);
    gradcheck("Embedding mask_zero GRU backwards", seq("(5,)", "Embedding", "input_dim=6, output_dim=3, mask_zero=True",
                                                        "GRU", "units=2, go_backwards=True, reset_after=False", NULL), 6);
    gradcheck("Embedding mask_zero Bidirectional", seq("(5,)", "Embedding", "input_dim=6, output_dim=3, mask_zero=True",
                                                        "Bidirectional", "layer=" LAYER("SimpleRNN", "'units': 2, 'return_sequences': True"), NULL), 6);
    /* inputs away from the mask value, so no perturbation flips a step's mask */
    gradcheck("Masking LSTM", seq("(4, 3)", "Masking", "mask_value=5.0", "LSTM", "units=2, return_sequences=True", NULL), 0);
    gradcheck_ids("LSTM dropout", seq("(4, 3)", "LSTM", "units=2, dropout=0.4, recurrent_dropout=0.4", NULL), 0, true);
    gradcheck_ids("GRU dropout", seq("(4, 3)", "GRU", "units=2, dropout=0.3, recurrent_dropout=0.5, return_sequences=True", NULL), 0, true);
    gradcheck_ids("GRU reset before dropout", seq("(4, 3)", "GRU", "units=2, reset_after=False, recurrent_dropout=0.5", NULL), 0, true);
    gradcheck_ids("SimpleRNN dropout backwards", seq("(4, 3)", "SimpleRNN", "units=2, dropout=0.5, recurrent_dropout=0.5, go_backwards=True", NULL), 0, true);
    gradcheck_ids("masked GRU dropout", seq("(5,)", "Embedding", "input_dim=6, output_dim=3, mask_zero=True",
                                            "GRU", "units=2, recurrent_dropout=0.5, return_sequences=True", NULL), 6, true);
    gradcheck("EinsumDense", seq("(3,)", "EinsumDense", "equation='ab,bc->ac', output_shape=4, bias_axes='c'", NULL), 0);
    gradcheck("EinsumDense 3d tanh", seq("(5, 3)", "EinsumDense", "equation='abc,cde->abde', output_shape=(5, 2, 4), "
                                                                  "bias_axes='de', activation='tanh'", NULL), 0);
    gradcheck("EinsumDense ellipsis", seq("(2, 3)", "EinsumDense", "equation='...b,bc->...c', output_shape=4", NULL), 0);
    gradcheck("MultiHeadAttention", mha("num_heads=2, key_dim=3", "(4, 5)", "(3, 6)", false), 0);
    gradcheck("MultiHeadAttention self, no bias, output_shape",
              mha("num_heads=2, key_dim=2, value_dim=3, use_bias=False, output_shape=4", "(3, 4)", NULL, false), 0);
    gradcheck("MultiHeadAttention key input, attention_axes",
              mha("num_heads=2, key_dim=2, attention_axes=(1,)", "(3, 2, 4)", "(2, 2, 4)", true), 0);
    gradcheck("Embedding mask_zero MultiHeadAttention",
              seq_mha_masked(), 6);
    gradcheck("Attention dot", attn("Attention", "", false), 0);
    gradcheck("Attention scaled concat, key", attn("Attention", "use_scale=True, score_mode='concat'", true), 0);
    gradcheck("Attention scaled dot", attn("Attention", "use_scale=True", false), 0);
    gradcheck("AdditiveAttention", attn("AdditiveAttention", "", true), 0);
    gradcheck("AdditiveAttention no scale", attn("AdditiveAttention", "use_scale=False", false), 0);
    gradcheck("GroupedQueryAttention", gqa(false), 0);
    gradcheck("GroupedQueryAttention no bias, key", gqa(true), 0);
    gradcheck("ConvLSTM1D", seq("(4, 5, 2)", "ConvLSTM1D", "filters=2, kernel_size=3", NULL), 0);
    gradcheck("ConvLSTM1D seq backwards same strides",
              seq("(3, 5, 2)", "ConvLSTM1D", "filters=2, kernel_size=2, padding='same', strides=2, "
                  "return_sequences=True, go_backwards=True", NULL), 0);
    gradcheck("ConvLSTM1D no bias dilated softsign",
              seq("(3, 6, 2)", "ConvLSTM1D", "filters=3, kernel_size=2, dilation_rate=2, use_bias=False, "
                  "recurrent_activation='softsign'", NULL), 0);
    gradcheck("ConvLSTM1D return_state", conv_lstm_call("ConvLSTM1D", "shape=(3, 4, 2)",
                                                        "filters=2, kernel_size=2, return_state=True", 3), 0);
    gradcheck("ConvLSTM2D same seq", seq("(3, 3, 3, 2)", "ConvLSTM2D", "filters=2, kernel_size=(2, 2), "
                                        "padding='same', return_sequences=True", NULL), 0);
    gradcheck("ConvLSTM2D strides return_state backwards",
              conv_lstm_call("ConvLSTM2D", "shape=(2, 5, 4, 1)", "filters=2, kernel_size=(3, 2), strides=(2, 1), "
                             "return_state=True, return_sequences=True, go_backwards=True", 3), 0);
    gradcheck("ConvLSTM2D Flatten Dense", seq("(2, 3, 3, 1)", "ConvLSTM2D", "filters=2, kernel_size=2",
                                              "Flatten", "", "Dense", "units=2", NULL), 0);
    gradcheck_ids("ConvLSTM1D dropout", seq("(3, 5, 2)", "ConvLSTM1D", "filters=2, kernel_size=2, dropout=0.4, "
                                              "recurrent_dropout=0.4, return_sequences=True", NULL), 0, true);
    gradcheck_ids("ConvLSTM2D recurrent_dropout same backwards",
                   seq("(2, 3, 3, 2)", "ConvLSTM2D", "filters=2, kernel_size=2, padding='same', "
                       "recurrent_dropout=0.5, go_backwards=True", NULL), 0, true);
    gradcheck_ids("ConvLSTM2D dropout strides", seq("(2, 4, 3, 1)", "ConvLSTM2D", "filters=2, kernel_size=(2, 2), "
                                                    "strides=(2, 1), dropout=0.5", NULL), 0, true);
    printf("seq gradcheck: %d models checked\n", gradcheck_models());
    CHECK(gradcheck_models() == 59, "expected 59 models, checked %d", gradcheck_models());
    return test_report("test_seq_gradcheck");
}
