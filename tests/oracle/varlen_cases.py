#!/usr/bin/env python3
"""Variable-length sequence models (inputs with None non-batch dims) run by
real Keras 3 (JAX) on data of several lengths, for tests/test_varlen.c:

- sentiment: tests/data/models/sentiment_embedding_h5_named_dot_keras.keras
  (tf.keras 2.11 legacy HDF5: Embedding(10000,16) on (None, None), Dropout,
  GlobalAveragePooling1D, Dense 1), token ids of lengths 7 and 13;
- lstm: a small functional model on (None, None, 3) (LSTM with
  return_sequences, LSTM, Dense), config.json + weights/<i>.npy, lengths 5 and 9;
  then fit (SGD 0.1, mse, 2 epochs, batch 2, no shuffle) on fit_x.npy (length 6)
  and fit_y.npy: history in fit.json, weights after in fit_weights/<i>.npy;
- masked: Embedding(50, 8, mask_zero=True) on (None,), LSTM, Dense (padded
  rows), lengths 6 and 10; conv: Conv1D/MaxPooling1D/Conv1D/GlobalAveragePooling1D
  on (None, 4), lengths 8 and 11; windows: Conv1D and pooling windows that
  change the length (strides, dilation, 'same'/'valid'/'causal'),
  DepthwiseConv1D, GlobalMaxPooling1D on (None, 3), lengths 18 and 29; bidi: Bidirectional(LSTM) with
  return_sequences, GlobalMaxPooling1D on (None, 3), lengths 4 and 7 (config.json,
  weights/, x<T>/y<T> like lstm); nested: a Sequential LSTM(return_sequences)
  inside a functional model, then TimeDistributed(Dense): outputs (None, None, 2),
  lengths 3 and 8;
- sentiment evaluate (binary_crossentropy, accuracy) on x13.npy with eval_y.npy
  labels: eval.json.

Each case dir holds x<T>.npy / y<T>.npy per length T and case.json.
Run: python3 tests/oracle/varlen_cases.py
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle_util as ou  # noqa: E402

ou.setup()

import shutil  # noqa: E402
import tempfile  # noqa: E402

import numpy as np  # noqa: E402
import keras  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "golden", "varlen")


def save_preds(d, model, xs):
    for x in xs:
        t = x.shape[1]
        np.save(os.path.join(d, "x%d.npy" % t), x)
        np.save(os.path.join(d, "y%d.npy" % t), np.asarray(model.predict(x, verbose=0), dtype=np.float32))


def sentiment():
    src = os.path.join(ROOT, "tests", "data", "models", "sentiment_embedding_h5_named_dot_keras.keras")
    tmp = os.path.join(tempfile.mkdtemp(), "model.h5")  # Keras reads HDF5 only under its suffix
    shutil.copy(src, tmp)
    model = keras.saving.load_model(tmp, compile=False)
    rng = np.random.default_rng(7)
    xs = [rng.integers(0, 10000, size=(3, t)).astype(np.float32) for t in (7, 13)]
    d = os.path.join(OUT, "sentiment")
    os.makedirs(d, exist_ok=True)
    save_preds(d, model, xs)
    ou.write_json(os.path.join(d, "case.json"), {"lengths": [7, 13]})
    labels = np.array([[1], [0], [1]], dtype=np.float32)
    np.save(os.path.join(d, "eval_y.npy"), labels)
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    logs = model.evaluate(xs[1], labels, batch_size=2, verbose=0, return_dict=True)
    ou.write_json(os.path.join(d, "eval.json"), {k: float(v) for k, v in logs.items()})


def lstm():
    keras.utils.set_random_seed(11)
    x = keras.Input((None, 3), name="seq")
    h = keras.layers.LSTM(4, return_sequences=True, name="l1")(x)
    h = keras.layers.LSTM(5, name="l2")(h)
    y = keras.layers.Dense(2, name="out")(h)
    model = keras.Model(x, y, name="varlen_lstm")
    d = os.path.join(OUT, "lstm")
    os.makedirs(os.path.join(d, "weights"), exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        f.write(model.to_json())
    for i, w in enumerate(model.get_weights()):
        np.save(os.path.join(d, "weights", "%d.npy" % i), w)
    rng = np.random.default_rng(12)
    xs = [rng.standard_normal((2, t, 3)).astype(np.float32) for t in (5, 9)]
    save_preds(d, model, xs)
    ou.write_json(os.path.join(d, "case.json"), {"lengths": [5, 9], "n_weights": len(model.get_weights())})
    fx = rng.standard_normal((4, 6, 3)).astype(np.float32)
    fy = rng.standard_normal((4, 2)).astype(np.float32)
    np.save(os.path.join(d, "fit_x.npy"), fx)
    np.save(os.path.join(d, "fit_y.npy"), fy)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    h = model.fit(fx, fy, epochs=2, batch_size=2, shuffle=False, verbose=0)
    ou.write_json(os.path.join(d, "fit.json"), {"optimizer": "SGD(learning_rate=0.1)", "loss": "mse", "epochs": 2,
                                                "batch_size": 2, "history": {k: [float(v) for v in vs] for k, vs in h.history.items()}})
    os.makedirs(os.path.join(d, "fit_weights"), exist_ok=True)
    for i, w in enumerate(model.get_weights()):
        np.save(os.path.join(d, "fit_weights", "%d.npy" % i), w)


def json_case(name, model, make_x, lengths, seed):
    d = os.path.join(OUT, name)
    os.makedirs(os.path.join(d, "weights"), exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        f.write(model.to_json())
    for i, w in enumerate(model.get_weights()):
        np.save(os.path.join(d, "weights", "%d.npy" % i), w)
    rng = np.random.default_rng(seed)
    save_preds(d, model, [make_x(rng, t) for t in lengths])
    ou.write_json(os.path.join(d, "case.json"), {"lengths": list(lengths), "n_weights": len(model.get_weights())})


def masked():
    keras.utils.set_random_seed(21)
    # Sequential: a functional config would record the mask as a NotEqual op node
    model = keras.Sequential([keras.Input((None,), name="ids"), keras.layers.Embedding(50, 8, mask_zero=True, name="emb"),
                              keras.layers.LSTM(6, name="rnn"), keras.layers.Dense(1, activation="sigmoid", name="out")],
                             name="varlen_masked")

    def make_x(rng, t):
        ids = rng.integers(1, 50, size=(3, t))
        ids[1, t - 2:] = 0  # padded rows: the mask stops the LSTM there
        ids[2, t // 2:] = 0
        return ids.astype(np.float32)
    json_case("masked", model, make_x, (6, 10), 22)


def conv():
    keras.utils.set_random_seed(31)
    x = keras.Input((None, 4), name="sig")
    h = keras.layers.Conv1D(5, 3, padding="same", activation="relu", name="c1")(x)
    h = keras.layers.MaxPooling1D(2, name="p1")(h)
    h = keras.layers.Conv1D(3, 2, name="c2")(h)
    h = keras.layers.GlobalAveragePooling1D(name="gap")(h)
    model = keras.Model(x, keras.layers.Dense(2, name="out")(h), name="varlen_conv")
    json_case("conv", model, lambda rng, t: rng.standard_normal((2, t, 4)).astype(np.float32), (8, 11), 32)


def windows():
    keras.utils.set_random_seed(61)
    x = keras.Input((None, 3), name="sig")
    h = keras.layers.Conv1D(4, 3, strides=2, padding="same", activation="relu", name="c_same_s2")(x)
    h = keras.layers.Conv1D(4, 2, dilation_rate=2, padding="causal", name="c_causal_d2")(h)
    h = keras.layers.AveragePooling1D(3, strides=2, padding="same", name="ap_same")(h)
    h = keras.layers.Conv1D(5, 2, dilation_rate=2, name="c_valid_d2")(h)
    h = keras.layers.MaxPooling1D(2, strides=1, padding="same", name="mp_same_s1")(h)
    h = keras.layers.DepthwiseConv1D(2, strides=1, name="dw_valid")(h)
    h = keras.layers.AveragePooling1D(2, name="ap_valid")(h)
    h = keras.layers.GlobalMaxPooling1D(name="gmp")(h)
    model = keras.Model(x, keras.layers.Dense(2, name="out")(h), name="varlen_windows")
    json_case("windows", model, lambda rng, t: rng.standard_normal((2, t, 3)).astype(np.float32), (18, 29), 62)


def bidi():
    keras.utils.set_random_seed(41)
    x = keras.Input((None, 3), name="seq")
    h = keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True), name="bi")(x)
    h = keras.layers.GlobalMaxPooling1D(name="gmp")(h)
    model = keras.Model(x, keras.layers.Dense(2, name="out")(h), name="varlen_bidi")
    json_case("bidi", model, lambda rng, t: rng.standard_normal((2, t, 3)).astype(np.float32), (4, 7), 42)


def nested():
    keras.utils.set_random_seed(51)
    inner = keras.Sequential([keras.Input((None, 3)), keras.layers.LSTM(4, return_sequences=True, name="rnn")],
                             name="encoder")
    x = keras.Input((None, 3), name="seq")
    y = keras.layers.TimeDistributed(keras.layers.Dense(2), name="td")(inner(x))
    model = keras.Model(x, y, name="varlen_nested")
    json_case("nested", model, lambda rng, t: rng.standard_normal((2, t, 3)).astype(np.float32), (3, 8), 52)


def main():
    os.makedirs(OUT, exist_ok=True)
    sentiment()
    lstm()
    masked()
    conv()
    windows()
    bidi()
    nested()
    ou.write_json(os.path.join(OUT, "VERSIONS.json"), ou.versions())
    print("ok")


if __name__ == "__main__":
    main()
