"""Oracle for files written by tf.keras 2.x and by the TensorFlow.js converter
(issue 6): real TensorFlow 2.15 (tf.keras = Keras 2.15) and the real
`tensorflowjs` package write the files; the C tests (tests/test_tf2_files.c)
check that ckeras reads them with Keras's own weights and predictions.

TensorFlow and tensorflowjs must NOT go into the interpreter that holds Keras 3
(keras==3.15.1 + jax): they live in their own venv, which
scripts/install-oracle-venvs.sh makes (/opt/ckeras-tf2; tensorflowjs is installed
with --no-deps there, because its own requirements pull jax/flax for its JAX
converter and send pip into endless backtracking).

Run from the repository root:  /opt/ckeras-tf2/bin/python tests/oracle/tf2_cases.py
Output: tests/golden/tf2/<case>/ with
  model.keras   tf.keras 2.15's zip format (config.json + model.weights.h5)
  model.h5      tf.keras 2.15's legacy full-model HDF5
  tfjs/         tensorflowjs.converters.save_keras_model output (model.json + shard)
  weights/<i>.npy, x.npy, y.npy, counts.json
The Keras 3 summaries of the same files come from tf2_summaries.py (Keras 3).
"""
import importlib.metadata
import json
import os
import shutil
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflowjs as tfjs  # noqa: E402

keras = tf.keras
layers = keras.layers
ROOT = os.path.join("tests", "golden", "tf2")


def dense():
    return keras.Sequential([keras.Input((4,)), layers.Dense(5, activation="relu"), layers.Dropout(0.3),
                             layers.Dense(3, activation="softmax")], name="tf2_dense")


def conv():
    return keras.Sequential([keras.Input((8, 8, 2)), layers.Conv2D(3, 3, activation="relu"),
                             layers.MaxPooling2D(), layers.Flatten(), layers.Dense(2)], name="tf2_conv")


def lstm():
    return keras.Sequential([keras.Input((5, 3)), layers.LSTM(4), layers.Dense(1)], name="tf2_lstm")


def bn():
    x = keras.Input((4,), name="features")
    h = layers.Dense(6, name="hidden")(x)
    h = layers.BatchNormalization(name="norm")(h)
    h = layers.Activation("relu")(h)
    return keras.Model(x, layers.Dense(2, name="head")(h), name="tf2_bn")


def nested():
    inner = keras.Sequential([keras.Input((3,)), layers.Dense(4, activation="relu"), layers.Dense(2)], name="inner")
    x = keras.Input((3,))
    return keras.Model(x, layers.Dense(1)(inner(x)), name="tf2_nested")


CASES = {"dense": dense, "conv": conv, "lstm": lstm, "bn": bn, "nested": nested}


def fix_weights(model, seed):
    """Random weights; BatchNormalization variances kept positive."""
    rng = np.random.default_rng(seed)
    ws = []
    for v in model.weights:
        w = rng.standard_normal(v.shape).astype("float32")
        ws.append(np.abs(w) + 0.5 if "moving_variance" in v.name else w)
    model.set_weights(ws)


def write_case(name, build, seed):
    out = os.path.join(ROOT, name)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(os.path.join(out, "weights"))
    keras.backend.clear_session()
    model = build()
    fix_weights(model, seed)
    model.save(os.path.join(out, "model.keras"))
    model.save(os.path.join(out, "model.h5"))
    tfjs.converters.save_keras_model(model, os.path.join(out, "tfjs"))
    for i, w in enumerate(model.get_weights()):
        np.save(os.path.join(out, "weights", f"{i}.npy"), w.astype("float32"))
    rng = np.random.default_rng(seed + 100)
    x = rng.standard_normal((3,) + tuple(model.inputs[0].shape[1:])).astype("float32")
    np.save(os.path.join(out, "x.npy"), x)
    np.save(os.path.join(out, "y.npy"), model.predict(x, verbose=0).astype("float32"))
    trainable = int(sum(np.prod(v.shape) for v in model.trainable_weights))
    non_trainable = int(sum(np.prod(v.shape) for v in model.non_trainable_weights))
    with open(os.path.join(out, "counts.json"), "w") as f:
        json.dump({"total": trainable + non_trainable, "trainable": trainable, "non_trainable": non_trainable}, f)


def main():
    os.makedirs(ROOT, exist_ok=True)
    for i, (name, build) in enumerate(CASES.items()):
        write_case(name, build, seed=10 + i)
        print("case", name)
    versions = {"tensorflow": tf.__version__, "keras": importlib.metadata.version("keras"), "tensorflowjs": tfjs.__version__,
                "numpy": np.__version__, "python": sys.version.split()[0]}
    with open(os.path.join(ROOT, "VERSIONS.json"), "w") as f:
        json.dump(versions, f, indent=1)


if __name__ == "__main__":
    main()
