"""Goldens for data_format='channels_first': every layer class of ckeras's
table that has a data_format field, run by real Keras 3 (JAX, on CPU), plus
TimeDistributed(Conv2D) and the normalizations (Batch, Group, Layer, Unit) on
axis 1 of channels-first activations, and a few small channels-first models
trained by fit().

Predict cases: tests/golden/channels_first/<case>/ holds config.json (the
Sequential's to_json()), weights/<k>.npy (random values set into the model,
so biases and statistics are not the initializers' zeros and ones), x.npy,
y.npy (Keras's predict(x)), summary.txt (model.summary() at the default
width) and case.json {"class": the class the case covers}. The C test
(tests/test_channels_first.c) walks the class table and fails for a class
with a data_format field that no case covers.

Training cases (train_*): config.json, weights/ (initial), x.npy, y.npy,
after/<k>.npy (every weight after training), predict.npy (train_2d: also
the trained model.keras, for the CLI's predict) and case.json with
the compile arguments and the history of fit(epochs=2, batch_size=8,
shuffle=False) with SGD.
Run: python3 tests/oracle/channels_first_cases.py
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

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden", "channels_first")
CF = {"data_format": "channels_first"}

# case name -> (class covered, channels-first input shape, layer). Every class
# of ckeras's table with a data_format field has at least one case named after it.
PREDICT = [
    ("Conv1D", (3, 7), lambda: L.Conv1D(2, 3, strides=2, padding="same", activation="tanh", **CF)),
    ("Conv2D", (2, 6, 5), lambda: L.Conv2D(3, (3, 2), strides=(2, 1), padding="same", **CF)),
    ("Conv3D", (2, 4, 3, 5), lambda: L.Conv3D(2, 2, **CF)),
    ("Conv1DTranspose", (3, 4), lambda: L.Conv1DTranspose(2, 3, strides=2, **CF)),
    ("Conv2DTranspose", (2, 3, 4), lambda: L.Conv2DTranspose(3, 3, strides=2, padding="same", **CF)),
    ("Conv3DTranspose", (2, 2, 3, 2), lambda: L.Conv3DTranspose(2, 2, strides=2, **CF)),
    ("DepthwiseConv1D", (3, 6), lambda: L.DepthwiseConv1D(3, depth_multiplier=2, **CF)),
    ("DepthwiseConv2D", (2, 5, 5), lambda: L.DepthwiseConv2D(3, depth_multiplier=2, padding="same", **CF)),
    ("SeparableConv1D", (3, 6), lambda: L.SeparableConv1D(4, 3, depth_multiplier=2, **CF)),
    ("SeparableConv2D", (2, 5, 5), lambda: L.SeparableConv2D(3, 3, activation="relu", **CF)),
    ("MaxPooling1D", (3, 7), lambda: L.MaxPooling1D(2, **CF)),
    ("MaxPooling2D", (2, 5, 6), lambda: L.MaxPooling2D(**CF)),
    ("MaxPooling3D", (2, 4, 4, 3), lambda: L.MaxPooling3D(2, padding="same", **CF)),
    ("AveragePooling1D", (3, 7), lambda: L.AveragePooling1D(3, strides=2, **CF)),
    ("AveragePooling2D", (2, 5, 6), lambda: L.AveragePooling2D(2, padding="same", **CF)),
    ("AveragePooling3D", (2, 4, 4, 3), lambda: L.AveragePooling3D(2, **CF)),
    ("GlobalMaxPooling1D", (3, 4), lambda: L.GlobalMaxPooling1D(**CF)),
    ("GlobalMaxPooling2D", (2, 3, 4), lambda: L.GlobalMaxPooling2D(keepdims=True, **CF)),
    ("GlobalMaxPooling3D", (2, 2, 3, 2), lambda: L.GlobalMaxPooling3D(**CF)),
    ("GlobalAveragePooling1D", (3, 4), lambda: L.GlobalAveragePooling1D(keepdims=True, **CF)),
    ("GlobalAveragePooling2D", (2, 3, 4), lambda: L.GlobalAveragePooling2D(**CF)),
    ("GlobalAveragePooling3D", (2, 2, 3, 2), lambda: L.GlobalAveragePooling3D(keepdims=True, **CF)),
    ("ZeroPadding1D", (3, 4), lambda: L.ZeroPadding1D((1, 2), **CF)),
    ("ZeroPadding2D", (2, 3, 4), lambda: L.ZeroPadding2D(((1, 0), (2, 1)), **CF)),
    ("ZeroPadding3D", (2, 2, 2, 2), lambda: L.ZeroPadding3D(1, **CF)),
    ("Cropping2D", (2, 5, 6), lambda: L.Cropping2D(((1, 0), (2, 1)), **CF)),
    ("Cropping3D", (2, 4, 4, 4), lambda: L.Cropping3D(1, **CF)),
    ("UpSampling2D", (2, 2, 3), lambda: L.UpSampling2D((2, 3), **CF)),
    ("UpSampling2D_bilinear", (2, 3, 2), lambda: L.UpSampling2D(2, interpolation="bilinear", **CF)),
    ("UpSampling3D", (2, 2, 1, 2), lambda: L.UpSampling3D(2, **CF)),
    ("SpatialDropout2D", (2, 3, 4), lambda: L.SpatialDropout2D(0.5, **CF)),
    ("SpatialDropout3D", (2, 2, 3, 2), lambda: L.SpatialDropout3D(0.5, **CF)),
    ("Flatten", (3, 2, 4), lambda: L.Flatten(**CF)),
    ("ConvLSTM1D", (3, 2, 5), lambda: L.ConvLSTM1D(2, 3, return_sequences=True, **CF)),
    ("ConvLSTM2D", (2, 2, 4, 4), lambda: L.ConvLSTM2D(2, 3, padding="same", **CF)),
    ("CenterCrop", (3, 6, 5), lambda: L.CenterCrop(4, 3, **CF)),
    ("Resizing", (2, 4, 5), lambda: L.Resizing(6, 3, **CF)),
    ("BatchNormalization_axis1", (3, 4, 5), lambda: L.BatchNormalization(axis=1)),
    ("TimeDistributed_Conv2D", (2, 2, 3, 3), lambda: L.TimeDistributed(L.Conv2D(2, 2, padding="same", **CF))),
    # the normalizations that take an axis, on channels-first activations
    ("GroupNormalization_axis1", (4, 3, 3), lambda: L.GroupNormalization(groups=2, axis=1)),
    ("LayerNormalization_axis1", (3, 4, 2), lambda: L.LayerNormalization(axis=1)),
    ("UnitNormalization_axis1", (3, 4, 2), lambda: L.UnitNormalization(axis=1)),
]


def train_2d():
    return [keras.Input((2, 6, 6)), L.Conv2D(3, 3, padding="same", activation="relu", **CF),
            L.BatchNormalization(axis=1), L.MaxPooling2D(**CF), L.Conv2DTranspose(2, 2, strides=2, **CF),
            L.AveragePooling2D(2, **CF), L.ZeroPadding2D(1, **CF), L.Cropping2D(((1, 0), (0, 1)), **CF),
            L.UpSampling2D(**CF), L.Flatten(**CF), L.Dense(2)]


def train_1d():
    return [keras.Input((3, 8)), L.Conv1D(4, 3, padding="same", activation="tanh", **CF),
            L.DepthwiseConv1D(3, depth_multiplier=2, **CF), L.SeparableConv1D(3, 2, **CF),
            L.MaxPooling1D(**CF), L.ZeroPadding1D(1, **CF), L.GlobalAveragePooling1D(**CF), L.Dense(2)]


def train_3d():
    return [keras.Input((2, 4, 4, 4)), L.Conv3D(3, 2, padding="same", activation="relu", **CF),
            L.MaxPooling3D(**CF), L.Conv3DTranspose(2, 2, strides=2, **CF), L.AveragePooling3D(2, **CF),
            L.UpSampling3D(**CF), L.ZeroPadding3D(1, **CF), L.Cropping3D(1, **CF), L.GlobalMaxPooling3D(**CF),
            L.Dense(2)]


def train_sep():
    return [keras.Input((2, 5, 5)), L.DepthwiseConv2D(3, padding="same", **CF),
            L.SeparableConv2D(3, 3, activation="tanh", **CF), L.Conv2D(2, 1, **CF),
            L.GlobalMaxPooling2D(**CF), L.Dense(2)]


def train_lstm():
    return [keras.Input((3, 2, 5)), L.ConvLSTM1D(2, 3, padding="same", **CF), L.GlobalAveragePooling1D(**CF),
            L.Dense(2)]


TRAIN = [("train_2d", train_2d), ("train_1d", train_1d), ("train_3d", train_3d), ("train_sep", train_sep),
         ("train_convlstm", train_lstm)]
OPTIMIZER = "SGD(learning_rate=0.05)"
N = 16


def randomize(model, rng):
    """Random weights: statistics (moving_variance) positive, the rest normal."""
    for v in model.weights:
        w = rng.normal(scale=0.5, size=v.shape).astype(np.float32)
        if "variance" in v.path:
            w = np.abs(w) + 0.5
        v.assign(w)


def predict_case(i, case):
    name, covered, shape, layer = case
    rng = np.random.default_rng(500 + i)
    keras.utils.set_random_seed(500 + i)
    keras.backend.clear_session()
    model = keras.Sequential([keras.Input(shape), layer()])
    randomize(model, rng)
    x = rng.normal(size=(3,) + shape).astype(np.float32)
    d = os.path.join(OUT, name)
    oracle_util.reset_dir(d)
    with open(os.path.join(d, "config.json"), "w") as f:
        f.write(model.to_json())
    oracle_util.save_weights(model, os.path.join(d, "weights"))
    np.save(os.path.join(d, "x.npy"), x)
    np.save(os.path.join(d, "y.npy"), np.asarray(model.predict(x, verbose=0), dtype=np.float32))
    oracle_util.write_text(os.path.join(d, "summary.txt"), oracle_util.capture_summary(model, {})[0])
    oracle_util.write_json(os.path.join(d, "case.json"), {"class": covered})


def train_case(i, case):
    name, build = case
    rng = np.random.default_rng(600 + i)
    keras.utils.set_random_seed(600 + i)
    keras.backend.clear_session()
    model = keras.Sequential(build())
    x = rng.normal(size=(N,) + model.input_shape[1:]).astype(np.float32)
    y = rng.normal(size=(N, 2)).astype(np.float32)
    d = os.path.join(OUT, name)
    oracle_util.write_training_start(d, model, x, y)
    model.compile(optimizer=eval("keras.optimizers." + OPTIMIZER), loss="mse")
    h = model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    oracle_util.save_weights(model, os.path.join(d, "after"))
    np.save(os.path.join(d, "predict.npy"), np.asarray(model.predict(x, verbose=0), dtype=np.float32))
    if name == "train_2d":  # the trained model as a user has it (tests/cli/cases/channels_first.sh)
        model.save(os.path.join(d, "model.keras"))
    oracle_util.write_json(os.path.join(d, "case.json"), {
        "optimizer": OPTIMIZER, "loss": "mse", "batch_size": 8, "epochs": 2,
        "history": oracle_util.history_of(h)})


def main():
    for i, (name, shape, layer) in enumerate(PREDICT):
        predict_case(i, (name, name.split("_")[0], shape, layer))
    for i, case in enumerate(TRAIN):
        train_case(i, case)
    oracle_util.write_case_list(OUT, [c[0] for c in PREDICT] + [c[0] for c in TRAIN])


if __name__ == "__main__":
    main()
