"""Which (loss, label shape) pairs real Keras 3 refuses in fit(), for
tests/test_data_check.c: every pair Keras refuses, ckeras must refuse too
(ck_model_check_data), and every pair ckeras accepts, Keras must accept.

For three models (a softmax over 3 classes, one sigmoid unit, a per-step
softmax over 3 classes on 5 steps) and each loss, fit() runs once on labels of
every shape in a table built from the output shape: the output's own shape,
without its class axis, with a trailing 1, with one class too many or too few,
(n,), (n, 1), and with one sample fewer than x. Keras's exception (its type
and first line) is recorded; no Keras error means it trained.

Writes tests/golden/data_check/<model>.json (the model's to_json()) and
cases.json. Run: python3 tests/oracle/data_check_cases.py
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle_util  # noqa: E402

oracle_util.setup()

import json  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden", "data_check")
N = 6
LOSSES = ["categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy",
          "mean_squared_error", "mean_absolute_error"]


def models():
    keras.backend.clear_session()
    yield "softmax3", keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    keras.backend.clear_session()
    yield "sigmoid1", keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    keras.backend.clear_session()
    yield "steps5x3", keras.Sequential([keras.Input((5, 4)), keras.layers.Dense(3, activation="softmax")])


def label_shapes(out):
    """Label shapes to try for an output of shape `out` (batch first)."""
    n, rest = N, list(out[1:])
    shapes = [
        [n] + rest,
        [n] + rest[:-1],
        [n] + rest[:-1] + [1],
        [n] + rest[:-1] + [rest[-1] + 1],
        [n, 1],
        [n],
        [N - 1] + rest,
    ]
    if rest[-1] > 1:
        shapes.append([n] + rest[:-1] + [rest[-1] - 1])
    unique = []
    for s in shapes:
        if s not in unique:
            unique.append(s)
    return unique


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    cases = []
    for name, model in models():
        with open(os.path.join(OUT, name + ".json"), "w") as f:
            f.write(model.to_json())
        x_shape = [N] + list(model.input_shape[1:])
        out = list(model.output_shape)
        for loss in LOSSES:
            for y_shape in label_shapes(out):
                keras.utils.set_random_seed(1)
                model.compile(optimizer="sgd", loss=loss)
                x = np.zeros(x_shape, np.float32)
                y = np.zeros(y_shape, np.float32)  # class 0 everywhere: a valid index and a valid target
                error = None
                try:
                    model.fit(x, y, epochs=1, batch_size=N, verbose=0)
                except Exception as e:  # Keras raises ValueError (and jax TypeError for broadcasts)
                    error = "%s: %s" % (type(e).__name__, str(e).strip().splitlines()[0])
                cases.append({"model": name, "loss": loss, "x_shape": x_shape, "y_shape": y_shape,
                              "output_shape": [None] + out[1:], "keras_raises": error is not None,
                              "keras_error": error})
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"keras_version": keras.__version__, "cases": cases}, f, indent=1)
    print("wrote %d cases to %s" % (len(cases), OUT))


if __name__ == "__main__":
    main()
