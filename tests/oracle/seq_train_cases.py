"""Training-agreement goldens of the sequence family: small recurrent models
trained by real Keras 3 (JAX) from saved initial weights, in the format of
tests/oracle/train_cases.py (config.json, weights/<i>.npy, x.npy, y.npy,
case.json with compile/fit arguments, per-epoch history and evaluate(); the
use_causal_mask cases also predict.npy, the initial model's predictions).
Run: python3 tests/oracle/seq_train_cases.py [case ...]
Writes tests/golden/seq_train/<case>/ (only the named cases when given, so
existing goldens are not rewritten), CASES and VERSIONS.json.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle_util  # noqa: E402

oracle_util.setup()

import json  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers as L  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden", "seq_train")
N, T, F = 20, 6, 3


def reals(rng):
    return rng.normal(size=(N, T, F)).astype(np.float32)


def conv_frames(rng, spatial):
    return rng.normal(size=(N, 4) + spatial).astype(np.float32)


def ids(rng, vocab=10):
    x = rng.integers(1, vocab, size=(N, T)).astype(np.float32)
    for b in range(N):
        x[b, T - (b % 3):] = 0  # padding, masked under mask_zero
    return x


def mha_causal_self():
    x = keras.Input((T, F))
    a = L.MultiHeadAttention(2, 3)(x, x, use_causal_mask=True)
    return keras.Model(x, L.Dense(1)(L.Flatten()(a)))


def mha_causal_cross():
    """query longer than key and value: rows past the key length see every key"""
    x = keras.Input((T, F))
    kv = L.Cropping1D((0, 2))(x)
    a = L.MultiHeadAttention(2, 3)(x, kv, use_causal_mask=True)
    return keras.Model(x, L.Dense(1)(L.Flatten()(a)))


def attention_causal():
    x = keras.Input((T, F))
    d = L.Dense(4)(x)
    a = L.Attention(use_scale=True)([d, d], use_causal_mask=True)
    return keras.Model(x, L.Dense(1)(L.Flatten()(a)))


def additive_causal():
    x = keras.Input((T, F))
    d = L.Dense(4)(x)
    a = L.AdditiveAttention()([d, d], use_causal_mask=True)
    return keras.Model(x, L.Dense(1)(L.Flatten()(a)))


def gqa_causal():
    x = keras.Input((T, F))
    a = L.GroupQueryAttention(head_dim=2, num_query_heads=2, num_key_value_heads=1)(x, x, use_causal_mask=True)
    return keras.Model(x, L.Dense(1)(L.Flatten()(a)))


# name, model, x kind, y kind, optimizer spec, loss spec, metrics
CASES = [
    ("lstm_adam_mse", lambda: [keras.Input((T, F)), L.LSTM(4), L.Dense(1)], "reals", "real1",
     "Adam(learning_rate=0.01)", "mse", ["mae"]),
    ("gru_adam_bce", lambda: [keras.Input((T, F)), L.GRU(4), L.Dense(1, activation="sigmoid")], "reals",
     "binary", "Adam(learning_rate=0.01)", "binary_crossentropy", ["accuracy"]),
    ("gru_reset_before_rmsprop", lambda: [keras.Input((T, F)), L.GRU(3, reset_after=False, return_sequences=True),
                                          L.Flatten(), L.Dense(3, activation="softmax")], "reals", "onehot",
     "rmsprop", "categorical_crossentropy", ["accuracy"]),
    ("simple_rnn_sgd", lambda: [keras.Input((T, F)), L.SimpleRNN(4, go_backwards=True), L.Dense(2)], "reals",
     "real2", "SGD(learning_rate=0.05, momentum=0.9)", "mse", []),
    ("embedding_bilstm_masked", lambda: [keras.Input((T,)), L.Embedding(10, 4, mask_zero=True),
                                         L.Bidirectional(L.LSTM(3)), L.Dense(1, activation="sigmoid")],
     "ids", "binary", "Adam(learning_rate=0.01)", "binary_crossentropy", ["accuracy"]),
    ("lstm_seq_time_distributed", lambda: [keras.Input((T, F)), L.LSTM(3, return_sequences=True),
                                           L.TimeDistributed(L.Dense(2)), L.Flatten(), L.Dense(1)],
     "reals", "real1", "Adam(learning_rate=0.01)", "mse", []),
    ("mha_self_flatten", "functional_mha", "reals", "real1", "Adam(learning_rate=0.01)", "mse", []),
    ("conv_lstm1d_adam_mse", lambda: [keras.Input((4, 6, 2)),
                                      L.ConvLSTM1D(3, 3, padding="same", return_sequences=True, go_backwards=True),
                                      L.Flatten(), L.Dense(1)],
     "conv1d", "real1", "Adam(learning_rate=0.01)", "mse", ["mae"]),
    ("conv_lstm2d_rmsprop_cce", lambda: [keras.Input((4, 5, 5, 1)), L.ConvLSTM2D(2, (3, 3), strides=(2, 2)),
                                         L.Flatten(), L.Dense(3, activation="softmax")],
     "conv2d", "onehot", "rmsprop", "categorical_crossentropy", ["accuracy"]),
    # use_causal_mask=True (functional models: the flag is a call argument)
    ("mha_causal_self", mha_causal_self, "reals", "real1", "Adam(learning_rate=0.01)", "mse", []),
    ("mha_causal_cross", mha_causal_cross, "reals", "real1", "Adam(learning_rate=0.01)", "mse", []),
    ("attention_causal", attention_causal, "reals", "real1", "Adam(learning_rate=0.01)", "mse", []),
    ("additive_causal", additive_causal, "reals", "real1", "Adam(learning_rate=0.01)", "mse", []),
    ("gqa_causal", gqa_causal, "reals", "real1", "Adam(learning_rate=0.01)", "mse", []),
]


def merged(merge, partial=False, head="gap", three=False):
    """Two Embedding(mask_zero) branches with different masks, each through
    Dense (the mask passes): the first input reads max(id - 5, 0), masked where
    id <= 5, the second id, masked at the padding (the OR is the second's);
    merged, then GlobalAveragePooling1D or LSTM: Merge/Concatenate.compute_mask
    and the masked values of Multiply, Maximum and Minimum. partial: the second
    branch has no mask (Embedding without mask_zero); three: a third, masked
    branch after an unmasked one."""
    def build():
        x = keras.Input((T,))
        a = L.Dense(4, activation="tanh")(L.Embedding(10, 4, mask_zero=True)(x))
        b_ids = L.ReLU()(L.Rescaling(1.0, -5.0)(x))
        b = L.Dense(4, activation="tanh")(L.Embedding(10, 4, mask_zero=not partial)(x if partial else b_ids))
        ins = [a, b] if partial else [b, a]
        if three:
            ins.append(L.Dense(4, activation="tanh")(L.Embedding(10, 4, mask_zero=True)(b_ids)))
        m = merge()(ins)
        h = L.LSTM(3)(m) if head == "lstm" else L.GlobalAveragePooling1D()(m)
        return keras.Model(x, L.Dense(1, activation="sigmoid")(h))
    return build


MERGE_CASES = [
    ("merge_add_lstm", merged(L.Add, head="lstm")),
    ("merge_add_gap", merged(L.Add)),
    ("merge_subtract_gap", merged(L.Subtract)),
    ("merge_multiply_gap", merged(L.Multiply)),
    ("merge_average_gap", merged(L.Average)),
    ("merge_maximum_gap", merged(L.Maximum)),
    ("merge_minimum_gap", merged(L.Minimum)),
    ("merge_multiply_partial", merged(L.Multiply, partial=True)),
    ("merge_maximum_partial", merged(L.Maximum, partial=True)),
    ("merge_minimum_three", merged(L.Minimum, partial=True, three=True)),
    ("merge_concat_features_lstm", merged(L.Concatenate, head="lstm")),
    ("merge_concat_time_gap", merged(lambda: L.Concatenate(axis=1))),
    ("merge_concat_time_partial", merged(lambda: L.Concatenate(axis=1), partial=True)),
]

FUNCTIONAL = (mha_causal_self, mha_causal_cross, attention_causal, additive_causal, gqa_causal) + tuple(
    fn for _, fn in MERGE_CASES)

# Keras masks pass through every class with supports_masking=True that keeps
# Layer's compute_mask (the previous mask): Embedding(mask_zero) -> the class ->
# GlobalAveragePooling1D (the masked mean) -> Dense, trained and predicted.
# Random layers at rate 0 (their draws are not Keras's); BatchNormalization
# frozen (a mask weights its training moments). mask_pass_classes() checks
# that every such class of `ckeras layers` has a case here.
MASK_PASS = {
    "Dense": lambda: L.Dense(4, activation="tanh"),
    "Activation": lambda: L.Activation("tanh"),
    "Dropout": lambda: L.Dropout(0.0),
    "Identity": lambda: L.Identity(),
    "BatchNormalization": lambda: L.BatchNormalization(trainable=False),
    "LayerNormalization": lambda: L.LayerNormalization(),
    "GroupNormalization": lambda: L.GroupNormalization(groups=2),
    "UnitNormalization": lambda: L.UnitNormalization(),
    "SpatialDropout1D": lambda: L.SpatialDropout1D(0.0),
    "GaussianNoise": lambda: L.GaussianNoise(0.0),
    "GaussianDropout": lambda: L.GaussianDropout(0.0),
    "AlphaDropout": lambda: L.AlphaDropout(0.0),
    "ActivityRegularization": lambda: L.ActivityRegularization(l2=0.01),
    "ReLU": lambda: L.ReLU(),
    "LeakyReLU": lambda: L.LeakyReLU(0.2),
    "PReLU": lambda: L.PReLU(),
    "ELU": lambda: L.ELU(),
    "Rescaling": lambda: L.Rescaling(0.5, 0.1),
    "Normalization": lambda: L.Normalization(mean=0.1, variance=2.0),
}
# supports_masking, but shapes a [batch, steps] mask cannot follow here
# (SpatialDropout2D/3D: rank 4/5 inputs), or with a compute_mask or mask use of
# its own (Softmax applies the mask; merges, recurrent layers, wrappers and
# attention have cases of their own).
MASK_OWN = {"SpatialDropout2D", "SpatialDropout3D", "Softmax", "Add", "Subtract", "Multiply", "Average", "Maximum",
            "Minimum", "Concatenate", "Dot", "Masking", "SimpleRNN", "LSTM", "GRU", "ConvLSTM1D", "ConvLSTM2D",
            "Bidirectional", "TimeDistributed", "MultiHeadAttention", "GroupedQueryAttention",
            "GlobalAveragePooling1D", "Embedding"}


def mask_pass_classes():
    """Every class of `ckeras layers` whose Keras instance supports masking has
    a case in MASK_PASS or is in MASK_OWN (when build/ckeras exists)."""
    import subprocess
    ck = os.path.join(os.path.dirname(OUT), "..", "..", "build", "ckeras")
    if not os.path.exists(ck):
        print("note: build/ckeras missing; class coverage of MASK_PASS not checked")
        return
    for name in subprocess.run([ck, "layers"], capture_output=True, text=True, check=True).stdout.split():
        if name in MASK_PASS:
            assert MASK_PASS[name]().supports_masking, name
            continue
        cls = getattr(L, name, None)
        src = ""
        for k in getattr(cls, "__mro__", ()):
            try:
                src += __import__("inspect").getsource(k.__init__)
            except (TypeError, OSError):
                pass
        if "supports_masking = True" in src and name not in MASK_OWN:
            raise SystemExit(f"{name} supports masking in Keras: add a MASK_PASS case")


def mask_case(cls):
    return lambda: [keras.Input((T,)), L.Embedding(10, 4, mask_zero=True), MASK_PASS[cls](),
                    L.GlobalAveragePooling1D(), L.Dense(1, activation="sigmoid")]


CASES += [("mask_through_" + name.lower(), mask_case(name), "ids", "binary", "Adam(learning_rate=0.02)",
           "binary_crossentropy", ["accuracy"]) for name in MASK_PASS]
MASKED = tuple(c[1] for c in CASES if c[0].startswith("mask_through_"))
# appended last, so the earlier cases keep their seeds (200 + index)
CASES += [(name, fn, "ids", "binary", "Adam(learning_rate=0.02)", "binary_crossentropy", ["accuracy"])
          for name, fn in MERGE_CASES]



def labels(kind, rng):
    if kind == "binary":
        return rng.integers(0, 2, (N, 1)).astype(np.float32)
    if kind == "onehot":
        return np.eye(3, dtype=np.float32)[rng.integers(0, 3, N)]
    return rng.normal(size=(N, int(kind[-1]))).astype(np.float32)


def make_opt(spec):
    return keras.optimizers.get(spec) if "(" not in spec else eval("keras.optimizers." + spec)


def run_case(i, case):
    name, layers, xkind, ykind, opt, loss, metrics = case
    rng = np.random.default_rng(200 + i)
    keras.utils.set_random_seed(200 + i)
    if layers == "functional_mha":
        x_in = keras.Input((T, F))
        a = L.MultiHeadAttention(2, 4)(x_in, x_in)
        model = keras.Model(x_in, L.Dense(1)(L.Flatten()(a)))
    elif layers in FUNCTIONAL:
        model = layers()
    else:
        model = keras.Sequential(layers())
    spatial = {"conv1d": (6, 2), "conv2d": (5, 5, 1)}
    x = ids(rng) if xkind == "ids" else conv_frames(rng, spatial[xkind]) if xkind in spatial else reals(rng)
    y = labels(ykind, rng)
    d_dir = os.path.join(OUT, name)
    oracle_util.write_training_start(d_dir, model, x, y)
    if layers in FUNCTIONAL or layers in MASKED:  # the initial model's predictions, checked before fit
        np.save(os.path.join(d_dir, "predict.npy"), np.asarray(model.predict(x, verbose=0), dtype=np.float32))
    fit_kw = {"epochs": 3, "batch_size": 8, "shuffle": False, "verbose": 0}
    model.compile(optimizer=make_opt(opt), loss=loss, metrics=metrics)
    hist = model.fit(x, y, **fit_kw)
    ev = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    info = {
        "optimizer": opt, "loss": loss, "metrics": metrics,
        "epochs": 3, "batch_size": 8, "shuffle": False, "validation_split": 0.0, "sample_weight": False,
        "history": oracle_util.history_of(hist),
        "evaluate": {k: float(v) for k, v in ev.items()},
        "optimizer_params": int(sum(int(np.prod(v.shape)) for v in model.optimizer.variables)),
    }
    with open(os.path.join(d_dir, "case.json"), "w") as f:
        json.dump(info, f, indent=1)
    print(name, "ok")


def main():
    mask_pass_classes()
    only = set(sys.argv[1:])
    for i, case in enumerate(CASES):
        if not only or case[0] in only:
            run_case(i, case)
    oracle_util.write_case_list(OUT, [c[0] for c in CASES])


if __name__ == "__main__":
    main()
