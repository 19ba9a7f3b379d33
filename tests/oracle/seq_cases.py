#!/usr/bin/env python3
"""Goldens for the sequence issue (5): Embedding, recurrent layers, wrappers and
attention, each in a small model built by real Keras 3 (JAX backend): config.json
(model.to_json()), summary() text (default and show_trainable), counts.json,
weights/<i>.npy, and for single-input models x.npy and y.npy (predictions).

Run:  python3 tests/oracle/seq_cases.py [--only a,b]
Writes tests/golden/seq/<case>/... and tests/golden/seq/VERSIONS.json.
Each case has a fixed seed and a fresh session, so auto names are those of a
fresh process.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle_util as ou  # noqa: E402

ou.setup()

import argparse  # noqa: E402
import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers as L  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(os.path.dirname(HERE), "golden", "seq")
BATCH = 3
SUMMARIES = [{}, {"show_trainable": True}]
CASES = []


def case(name, seed, ints=None, pad=False):
    def deco(fn):
        CASES.append({"name": name, "seed": seed, "fn": fn, "ints": ints, "pad": pad})
        return fn
    return deco


def seq(inp, *ls):
    return keras.Sequential([keras.Input(inp)] + list(ls))


@case("embedding", 1, ints=10)
def _():
    return seq((5,), L.Embedding(10, 4))


@case("masking", 2)
def _():
    return seq((5, 3), L.Masking())


@case("simple_rnn", 3)
def _():
    return seq((5, 2), L.SimpleRNN(3))


@case("simple_rnn_seq_relu", 4)
def _():
    return seq((5, 2), L.SimpleRNN(3, activation="relu", return_sequences=True))


@case("lstm", 5)
def _():
    return seq((6, 3), L.LSTM(4))


@case("lstm_seq_backwards", 6)
def _():
    return seq((6, 3), L.LSTM(4, return_sequences=True, go_backwards=True))


@case("lstm_nobias", 7)
def _():
    return seq((6, 3), L.LSTM(4, use_bias=False, unit_forget_bias=False))


@case("gru", 8)
def _():
    return seq((6, 3), L.GRU(4))


@case("gru_reset_before", 9)
def _():
    return seq((6, 3), L.GRU(4, reset_after=False, return_sequences=True))


@case("lstm_state", 10)
def _():
    x = keras.Input((6, 3))
    o, h, c = L.LSTM(4, return_state=True)(x)
    return keras.Model(x, [o, h, c])


@case("gru_state_seq", 11)
def _():
    x = keras.Input((6, 3))
    o, h = L.GRU(4, return_state=True, return_sequences=True)(x)
    return keras.Model(x, [o, h])


@case("bidirectional_lstm", 12)
def _():
    return seq((5, 3), L.Bidirectional(L.LSTM(4)))


@case("bidirectional_gru_sum_seq", 13)
def _():
    return seq((5, 3), L.Bidirectional(L.GRU(3, return_sequences=True), merge_mode="sum"))


@case("bidirectional_rnn_ave", 14)
def _():
    return seq((5, 3), L.Bidirectional(L.SimpleRNN(3), merge_mode="ave"))


@case("bidirectional_mul_seq", 15)
def _():
    return seq((5, 3), L.Bidirectional(L.LSTM(3, return_sequences=True), merge_mode="mul"))


@case("time_distributed_dense", 16)
def _():
    return seq((4, 3), L.TimeDistributed(L.Dense(5, activation="relu")))


@case("text_classifier", 17, ints=50)
def _():
    return seq((7,), L.Embedding(50, 8), L.Bidirectional(L.LSTM(6)), L.Dense(1, activation="sigmoid"))


@case("lstm_stack", 18)
def _():
    # the shape of Keras's stock-price example: stacked LSTMs, Dropout, Dense(1)
    return seq((10, 1), L.LSTM(8, return_sequences=True), L.Dropout(0.2), L.LSTM(8), L.Dense(1))


@case("einsum_dense", 19)
def _():
    return seq((3,), L.EinsumDense("ab,bc->ac", output_shape=4, bias_axes="c"))


@case("einsum_dense_3d", 20)
def _():
    return seq((5, 3), L.EinsumDense("abc,cde->abde", output_shape=(5, 2, 4), bias_axes="de"))


@case("einsum_dense_ellipsis", 21)
def _():
    return seq((5, 3), L.EinsumDense("...b,bc->...c", output_shape=6))


@case("mha", 22)
def _():
    q = keras.Input((5, 6))
    v = keras.Input((4, 6))
    return keras.Model([q, v], L.MultiHeadAttention(2, 4)(q, v))


@case("mha_self_options", 23)
def _():
    q = keras.Input((5, 6))
    y = L.MultiHeadAttention(3, 2, use_bias=False, output_shape=7)(q, q)
    return keras.Model(q, y)


@case("gqa", 24)
def _():
    q = keras.Input((5, 8))
    v = keras.Input((4, 8))
    return keras.Model([q, v], L.GroupQueryAttention(head_dim=4, num_query_heads=4, num_key_value_heads=2)(q, v))


@case("attention", 25)
def _():
    q = keras.Input((5, 4))
    v = keras.Input((3, 4))
    return keras.Model([q, v], L.Attention(use_scale=True, score_mode="concat")([q, v]))


@case("additive_attention", 26)
def _():
    q = keras.Input((5, 4))
    v = keras.Input((3, 4))
    return keras.Model([q, v], L.AdditiveAttention()([q, v]))


@case("gru_relu_hard_sigmoid", 29)
def _():
    return seq((5, 3), L.GRU(3, activation="relu", recurrent_activation="hard_sigmoid", go_backwards=True))


@case("mha_attention_axes", 30)
def _():
    q = keras.Input((3, 4, 6))
    v = keras.Input((2, 4, 6))
    return keras.Model([q, v], L.MultiHeadAttention(2, 3, attention_axes=(1,), output_shape=(5,))(q, v))


@case("mask_embedding_lstm", 31, ints=6, pad=True)
def _():
    return seq((6,), L.Embedding(6, 3, mask_zero=True), L.LSTM(4))


@case("mask_masking_gru_seq", 32, pad=True)
def _():
    return seq((6, 3), L.Masking(), L.GRU(3, return_sequences=True))


@case("mask_simple_rnn_backwards", 33, pad=True)
def _():
    return seq((6, 3), L.Masking(), L.SimpleRNN(3, return_sequences=True, go_backwards=True))


@case("mask_gap1d", 34, ints=6, pad=True)
def _():
    return seq((6,), L.Embedding(6, 3, mask_zero=True), L.GlobalAveragePooling1D(), L.Dense(2))


@case("mask_bidirectional", 35, ints=6, pad=True)
def _():
    return seq((6,), L.Embedding(6, 3, mask_zero=True), L.Bidirectional(L.LSTM(3, return_sequences=True)))


@case("mask_lstm_stack", 36, ints=6, pad=True)
def _():
    return seq((6,), L.Embedding(6, 3, mask_zero=True), L.LSTM(3, return_sequences=True), L.GRU(2))


@case("mask_mha_self", 37, ints=6, pad=True)
def _():
    x = keras.Input((6,))
    e = L.Embedding(6, 4, mask_zero=True)(x)
    return keras.Model(x, L.MultiHeadAttention(2, 3)(e, e))


@case("mask_attention", 38, ints=6, pad=True)
def _():
    x = keras.Input((6,))
    e = L.Embedding(6, 4, mask_zero=True)(x)
    return keras.Model(x, L.Attention()([e, e]))


@case("mask_additive_attention", 39, ints=6, pad=True)
def _():
    # (a GlobalAveragePooling1D after it would make Keras serialize its mask
    # computation as NotEqual/ConvertToTensor op layers)
    x = keras.Input((6,))
    e = L.Embedding(6, 4, mask_zero=True)(x)
    return keras.Model(x, L.AdditiveAttention()([e, e]))


# use_causal_mask=True, and-ed with Embedding's padding mask (row 1 is also
# padded at step 0, so causal row 0 attends to no unmasked step there)
@case("mask_mha_causal", 42, ints=6, pad=True)
def _():
    x = keras.Input((6,))
    e = L.Embedding(6, 4, mask_zero=True)(x)
    return keras.Model(x, L.MultiHeadAttention(2, 3)(e, e, use_causal_mask=True))


@case("mask_attention_causal", 43, ints=6, pad=True)
def _():
    x = keras.Input((6,))
    e = L.Embedding(6, 4, mask_zero=True)(x)
    return keras.Model(x, L.Attention(use_scale=True)([e, e], use_causal_mask=True))


@case("mask_additive_attention_causal", 44, ints=6, pad=True)
def _():
    x = keras.Input((6,))
    e = L.Embedding(6, 4, mask_zero=True)(x)
    return keras.Model(x, L.AdditiveAttention()([e, e], use_causal_mask=True))


@case("mha_causal_short_query", 45)
def _():
    # query 3 steps, key and value 5: the causal triangle starts top left
    q, v = keras.Input((3, 4)), keras.Input((5, 4))
    return keras.Model([q, v], L.MultiHeadAttention(2, 3)(q, v, use_causal_mask=True))


@case("gqa_causal", 46)
def _():
    x = keras.Input((5, 4))
    return keras.Model(x, L.GroupQueryAttention(head_dim=2, num_query_heads=2, num_key_value_heads=1)(
        x, x, use_causal_mask=True))


@case("lstm_initial_state", 40)
def _():
    x, h, c = keras.Input((5, 3)), keras.Input((4,)), keras.Input((4,))
    return keras.Model([x, h, c], L.LSTM(4, return_sequences=True)(x, initial_state=[h, c]))


@case("gru_initial_state_backwards", 41)
def _():
    x, h = keras.Input((5, 3)), keras.Input((3,))
    return keras.Model([x, h], L.GRU(3, go_backwards=True)(x, initial_state=[h]))


@case("conv_lstm1d", 27)
def _():
    return seq((4, 8, 2), L.ConvLSTM1D(3, 3, padding="same", return_sequences=True))


@case("conv_lstm2d", 28)
def _():
    return seq((3, 6, 6, 2), L.ConvLSTM2D(2, (3, 3), strides=2))


# Softmax.call applies an incoming mask (keras/src/layers/activations/softmax.py)
# only where the mask broadcasts to the input from the right: with all of batch,
# steps and features 3 here; other batches raise in Keras (test_seq_forward
# checks ckeras refuses a batch of 2).
@case("softmax_masked", 47, ints=10, pad=True)
def _():
    return seq((3,), L.Embedding(10, 3, mask_zero=True), L.Softmax())


def run_case(c, out_root):
    keras.backend.clear_session()
    keras.utils.set_random_seed(c["seed"])
    model = c["fn"]()
    d = os.path.join(out_root, c["name"])
    ou.reset_dir(d)
    ou.write_text(os.path.join(d, "config.json"), model.to_json())
    entries, used = [], set()
    for spec in SUMMARIES:
        spec = ou.norm_spec(spec)
        text, cells = ou.capture_summary(model, spec)
        fname = ou.summary_filename(spec, used)
        ou.write_text(os.path.join(d, fname), text)
        entry = {"file": fname}
        entry.update(spec)
        entries.append(entry)
    ou.write_json(os.path.join(d, "summaries.json"), entries)
    ou.write_json(os.path.join(d, "counts.json"), ou.counts(model))
    os.makedirs(os.path.join(d, "weights"))
    for i, w in enumerate(model.get_weights()):
        np.save(os.path.join(d, "weights", "%d.npy" % i), np.asarray(w, dtype=np.float32))
    rng = np.random.default_rng(c["seed"])
    xs = []
    for inp in model.inputs:
        shape = (BATCH,) + tuple(inp.shape[1:])
        if c["ints"]:
            x = rng.integers(0, c["ints"], size=shape).astype(np.float32)
        else:
            x = rng.standard_normal(shape).astype(np.float32)
        if c["pad"]:
            # trailing (and for row 1 also leading) padding: masked steps
            for b in range(BATCH):
                x[b, shape[1] - b:] = 0
            x[1, 0] = 0
        xs.append(x)
    y = model.predict(xs[0] if len(xs) == 1 else xs, verbose=0)
    y = y if isinstance(y, list) else [y]
    for i, x in enumerate(xs):
        np.save(os.path.join(d, "x.npy" if len(xs) == 1 else "x%d.npy" % i), x)
    for i, yi in enumerate(y):
        np.save(os.path.join(d, "y.npy" if i == 0 else "y%d.npy" % i), np.asarray(yi, dtype=np.float32))
    ou.write_json(os.path.join(d, "case.json"), {"name": c["name"], "seed": c["seed"], "model_name": model.name})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    only = [s for s in args.only.split(",") if s]
    os.makedirs(args.out, exist_ok=True)
    for c in CASES:
        if only and c["name"] not in only:
            continue
        run_case(c, args.out)
        print(c["name"], "ok")
    ou.write_json(os.path.join(args.out, "index.json"), [c["name"] for c in CASES])
    ou.write_json(os.path.join(args.out, "VERSIONS.json"), ou.versions())


if __name__ == "__main__":
    main()
