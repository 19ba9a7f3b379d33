"""Training goldens for the convolutional family: small CNNs trained by real
Keras 3 (JAX) from saved initial weights.

Each case under tests/golden/conv_train/<name>/ holds config.json, the initial
weights (weights/<i>.npy, get_weights() order), x.npy / y.npy, after1/<i>.npy
(every weight after fit(epochs=1): kernels, and BatchNormalization's
moving_mean / moving_variance updated by the momentum rule) and case.json with
the compile arguments and the two histories: fit(epochs=1) then fit(epochs=2)
continued on the same model (optimizer state carried over), shuffle=False,
then evaluate(); predict.npy is predict(x) of the trained model.
Run: python3 tests/oracle/conv_train_cases.py
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

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden", "conv_train")
N = 32


def cnn_bn():
    return [keras.Input((8, 8, 1)), L.Conv2D(4, 3, activation="relu"), L.BatchNormalization(),
            L.MaxPooling2D(), L.Flatten(), L.Dense(3, activation="softmax")]


def cnn_strided():
    return [keras.Input((9, 9, 2)), L.Conv2D(4, 3, strides=2, padding="same", activation="tanh"),
            L.BatchNormalization(momentum=0.9, center=False), L.AveragePooling2D(2, padding="same"),
            L.Conv2D(3, 1), L.GlobalAveragePooling2D()]


def conv1d_bn():
    return [keras.Input((10, 3)), L.Conv1D(4, 3, padding="causal", dilation_rate=2, activation="relu"),
            L.BatchNormalization(), L.MaxPooling1D(2), L.GlobalMaxPooling1D(), L.Dense(2)]


def mixed():
    return [keras.Input((6, 6, 2)), L.ZeroPadding2D(1), L.DepthwiseConv2D(3, depth_multiplier=2),
            L.SeparableConv2D(3, 3, padding="same", activation="relu"), L.Conv2DTranspose(2, 3, strides=2),
            L.Cropping2D(((1, 1), (2, 0))), L.UpSampling2D(), L.PReLU(), L.GlobalMaxPooling2D(),
            L.Dense(3, activation="softmax")]


def cnn_3x3():
    # 3x3 stride-1 layers wide enough for ckeras's Winograd path: one fused with
    # the pooling behind it, one on odd 5x5 extents feeding BatchNormalization
    # (folded into it at predict; no bias, which BatchNormalization would cancel:
    # Adam would move it by the sign of a gradient that is rounding noise)
    return [keras.Input((12, 12, 3)), L.Conv2D(16, 3, activation="relu"),
            L.Conv2D(24, 3, padding="same", activation="relu"), L.MaxPooling2D(),
            L.Conv2D(16, 3, padding="same", use_bias=False), L.BatchNormalization(), L.ReLU(),
            L.GlobalAveragePooling2D(), L.Dense(3, activation="softmax")]


# name, layers, optimizer, loss, labels, metrics
CASES = [
    ("cnn_bn_adam", cnn_bn, "Adam(learning_rate=0.01)", "categorical_crossentropy", "onehot3", ["accuracy"]),
    ("cnn_strided_sgd", cnn_strided, "SGD(learning_rate=0.05, momentum=0.9)",
     "SparseCategoricalCrossentropy(from_logits=True)", "sparse3", ["accuracy"]),
    ("conv1d_bn_rmsprop", conv1d_bn, "rmsprop", "mse", "real2", ["mae"]),
    ("mixed_adam", mixed, "adam", "categorical_crossentropy", "onehot3", ["accuracy"]),
    ("cnn_3x3_adam", cnn_3x3, "Adam(learning_rate=0.01)", "categorical_crossentropy", "onehot3", ["accuracy"]),
]


def labels(kind, rng):
    if kind == "onehot3":
        return np.eye(3, dtype=np.float32)[rng.integers(0, 3, N)]
    if kind == "sparse3":
        return rng.integers(0, 3, N).astype(np.float32)
    return rng.normal(size=(N, 2)).astype(np.float32)


def make(spec, ns):
    return eval(ns + spec) if "(" in spec else spec


def run_case(i, case):
    name, build, opt, loss, kind, metrics = case
    rng = np.random.default_rng(200 + i)
    keras.utils.set_random_seed(200 + i)
    model = keras.Sequential(build())
    x = rng.normal(size=(N,) + model.input_shape[1:]).astype(np.float32)
    y = labels(kind, rng)
    d_dir = os.path.join(OUT, name)
    oracle_util.write_training_start(d_dir, model, x, y)
    model.compile(optimizer=make(opt, "keras.optimizers."), loss=make(loss, "keras.losses."), metrics=metrics)
    h1 = model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    oracle_util.save_weights(model, os.path.join(d_dir, "after1"))
    h2 = model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    ev = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    np.save(os.path.join(d_dir, "predict.npy"), model.predict(x, batch_size=N, verbose=0))
    info = {
        "optimizer": opt, "loss": loss, "metrics": metrics, "batch_size": 8,
        "history1": oracle_util.history_of(h1),
        "history2": oracle_util.history_of(h2),
        "evaluate": {k: float(v) for k, v in ev.items()},
    }
    with open(os.path.join(d_dir, "case.json"), "w") as f:
        json.dump(info, f, indent=1)


def main():
    for i, case in enumerate(CASES):
        run_case(i, case)
    oracle_util.write_case_list(OUT, [c[0] for c in CASES])


if __name__ == "__main__":
    main()
