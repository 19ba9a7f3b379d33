"""Oracle for the model-file formats (issue 6): real Keras 3 writes the files and
the facts that the C tests check against them.

For every case, Keras builds a small model with fixed weights and saves it as a
Keras 3 archive (model.keras), a legacy full-model HDF5 (model.h5, as
model.save('x.h5')), a Keras 3 weights file (model.weights.h5) with its JSON config
(config.json), and dumps get_weights() as weights/<i>.npy, an input x.npy and the
predictions y.npy.  For the published files under tests/data/models/ that Keras 3
itself can open, it dumps their get_weights() too (small ones only), so the C
readers are checked against Keras's own reading of the same bytes.

Run from the repository root:  python3 tests/oracle/files_cases.py
Output: tests/golden/files/ (committed).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import oracle_util  # noqa: E402

oracle_util.setup()

import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

ROOT = os.path.join("tests", "golden", "files")
MODELS = os.path.join("tests", "data", "models")


def seq_mlp():
    return keras.Sequential([keras.Input((4,)), layers.Dense(5, activation="relu"),
                             layers.Dropout(0.5), layers.Dense(3, activation="softmax")], name="mlp")


def seq_activation():
    return keras.Sequential([keras.Input((3,)), layers.Dense(4, use_bias=False),
                             layers.Activation("tanh"), layers.Dense(2)])


def func_merge():
    a = keras.Input((4,), name="in_a")
    b = keras.Input((4,), name="in_b")
    x = layers.Dense(3, name="da")(a)
    y = layers.Dense(3, name="db")(b)
    s = layers.Add()([x, y])
    c = layers.Concatenate()([s, x])
    out = layers.Dense(2, activation="sigmoid", name="out")(c)
    return keras.Model([a, b], out, name="merge_model")


def nested():
    inner = keras.Sequential([keras.Input((3,)), layers.Dense(4, activation="relu"), layers.Dense(2)], name="inner")
    x = keras.Input((3,))
    h = inner(x)
    out = layers.Dense(1)(h)
    return keras.Model(x, out, name="outer")


def seq_in_seq():
    inner = keras.Sequential([keras.Input((2,)), layers.Dense(3)], name="block")
    return keras.Sequential([keras.Input((2,)), inner, layers.Dense(2, activation="relu")], name="stack")


CASES = {
    "seq_mlp": seq_mlp,
    "seq_activation": seq_activation,
    "func_merge": func_merge,
    "nested_func": nested,
    "nested_seq": seq_in_seq,
}


# Functional models whose layers get a mask: Keras 3 records it as the
# keras.src.ops layers that computed it (NotEqual, Any, LogicalOr) feeding the
# consumer's mask= argument; test_files.c checks that ckeras predicts from
# model.keras and model.h5 what the saved model does (x0.npy..., y.npy).
def masked_embedding_lstm():
    x = keras.Input((6,))
    return keras.Model(x, layers.LSTM(3)(layers.Embedding(10, 4, mask_zero=True)(x)))


def masked_masking_gru():
    x = keras.Input((6, 2))
    return keras.Model(x, layers.GRU(3)(layers.Masking(0.0)(x)))


def masked_add_pooling():
    a = keras.Input((6,))
    b = keras.Input((6,))
    ea = layers.Embedding(10, 4, mask_zero=True)(a)
    eb = layers.Embedding(10, 4, mask_zero=True)(b)
    s = layers.Dense(3)(layers.Add()([ea, eb]))
    return keras.Model([a, b], layers.GlobalAveragePooling1D()(layers.LSTM(3, return_sequences=True)(s)))


def masked_concat_steps():
    """the ops change the depths Keras orders layers by: weights in its order"""
    x = keras.Input((6,))
    a = layers.Dense(4, activation="tanh")(layers.Embedding(10, 4, mask_zero=True)(x))
    b = layers.Dense(4, activation="tanh")(layers.Embedding(10, 4)(x))
    m = layers.Concatenate(axis=1)([a, b])
    return keras.Model(x, layers.Dense(1)(layers.GlobalAveragePooling1D()(m)))


MASKED = {
    "masked_embedding_lstm": masked_embedding_lstm,
    "masked_masking_gru": masked_masking_gru,
    "masked_add_pooling": masked_add_pooling,
    "masked_concat_steps": masked_concat_steps,
}


def saved_case(name, build, seed, weights_file=True):
    """The case's folder, afresh, with the model built, its weights fixed and
    saved as .keras, .h5 (and .weights.h5) and config.json."""
    out = os.path.join(ROOT, name)
    oracle_util.reset_dir(out)
    model = build()
    fix_weights(model, seed)
    model.save(os.path.join(out, "model.keras"))
    model.save(os.path.join(out, "model.h5"))
    if weights_file:
        model.save_weights(os.path.join(out, "model.weights.h5"))
    oracle_util.write_text(os.path.join(out, "config.json"), model.to_json())
    return out, model


def write_masked_case(name, build, seed):
    out, model = saved_case(name, build, seed, weights_file=False)
    rng = np.random.default_rng(seed + 100)
    xs = []
    for t in model.inputs:
        shape = (4,) + tuple(t.shape[1:])
        x = rng.integers(1, 10, size=shape).astype("float32") if len(shape) == 2 else \
            rng.standard_normal(shape).astype("float32")
        for r in range(4):
            x[r, 6 - r - (seed + len(xs)) % 2:] = 0  # padding: masked steps
        xs.append(x)
    for i, x in enumerate(xs):
        np.save(os.path.join(out, f"x{i}.npy"), x)
    xin = xs if len(xs) > 1 else xs[0]
    y = model.predict(xin, verbose=0)
    np.save(os.path.join(out, "y.npy"), np.asarray(y, dtype="float32"))
    # load_model of the .keras predicts the same; of the .h5, Keras 3.15.1
    # refuses it ("Unknown layer: 'NotEqual'"): ckeras reads it as the model saved
    back = keras.saving.load_model(os.path.join(out, "model.keras"), compile=False)
    np.testing.assert_allclose(back.predict(xin, verbose=0), y, rtol=0, atol=1e-6)
    dump_weights(back, out)  # get_weights() of the loaded model, in its order
    entries, used = [], set()  # summary() of the loaded model lists the ops too
    for spec in [{}, {"show_trainable": True}, {"line_length": 120}]:
        spec = oracle_util.norm_spec(spec)
        text, _ = oracle_util.capture_summary(back, spec)
        fname = oracle_util.summary_filename(spec, used)
        oracle_util.write_text(os.path.join(out, fname), text)
        entries.append(dict(spec, file=fname))
    oracle_util.write_json(os.path.join(out, "summaries.json"), entries)
    try:
        keras.saving.load_model(os.path.join(out, "model.h5"), compile=False)
        h5 = "loads"
    except ValueError as e:
        h5 = str(e).split(".")[0]
    oracle_util.write_json(os.path.join(out, "keras_h5.json"), {"load_model": h5})


def fix_weights(model, seed):
    rng = np.random.default_rng(seed)
    model.set_weights([rng.standard_normal(w.shape).astype("float32") for w in model.get_weights()])


def inputs_for(model, seed):
    rng = np.random.default_rng(seed + 100)
    return [rng.standard_normal((2,) + tuple(t.shape[1:])).astype("float32") for t in model.inputs]


def dump_weights(model, out):
    os.makedirs(os.path.join(out, "weights"), exist_ok=True)
    for i, w in enumerate(model.get_weights()):
        np.save(os.path.join(out, "weights", f"{i}.npy"), w.astype("float32"))


def write_case(name, build, seed):
    out, model = saved_case(name, build, seed)
    dump_weights(model, out)
    xs = inputs_for(model, seed)
    for i, x in enumerate(xs):
        np.save(os.path.join(out, f"x{i}.npy"), x)
    y = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
    np.save(os.path.join(out, "y.npy"), np.asarray(y, dtype="float32"))
    c = oracle_util.counts(model)
    oracle_util.write_json(os.path.join(out, "counts.json"), c)


# Published files Keras 3 opens itself; their weights are small enough to commit.
PUBLISHED = [
    "churn_tanishk_model.h5",
    "houseprice_model.h5",
    "hls4ml_keras_1layer.h5",
    "hls4ml_keras_3layer.h5",
    "flownet_25-06_model.keras",
]


def write_published(name):
    out = os.path.join(ROOT, "published", name.replace(".", "_"))
    oracle_util.reset_dir(out)
    model = keras.saving.load_model(os.path.join(MODELS, name), compile=False)
    dump_weights(model, out)
    oracle_util.write_json(os.path.join(out, "counts.json"), oracle_util.counts(model))


def main():
    os.makedirs(ROOT, exist_ok=True)
    for i, (name, build) in enumerate(CASES.items()):
        write_case(name, build, seed=i + 1)
        print("case", name)
    for i, (name, build) in enumerate(MASKED.items()):
        write_masked_case(name, build, seed=50 + i)
        print("case", name)
    for name in PUBLISHED:
        try:
            write_published(name)
            print("published", name)
        except Exception as e:  # a file Keras 3 cannot open: say so, skip it
            print("published", name, "skipped:", type(e).__name__, str(e)[:200])
    oracle_util.write_json(os.path.join(ROOT, "VERSIONS.json"), oracle_util.versions())


if __name__ == "__main__":
    main()
