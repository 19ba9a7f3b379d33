#!/opt/ckeras-tf2/bin/python
"""Goldens for `summary --style keras2`: model.summary() as tf.keras 2.15 prints it
(TensorFlow 2.15.1, its bundled Keras 2.15), with the model's own Keras 2
to_json() as config.json, so the C test reads a Keras 2 config and must print
the same table byte for byte.

Keras 3 (the main oracle environment) cannot print this style, so this script
runs in a separate virtual environment that never touches the pinned keras==3.15.1:

    scripts/install-oracle-venvs.sh   # makes /opt/ckeras-tf2 (TensorFlow 2.15)
    /opt/ckeras-tf2/bin/python tests/oracle/keras2_summaries.py

Writes tests/golden/keras2/<case>/{config.json, summaries.json, summary*.txt} and
tests/golden/keras2/index.json and VERSIONS.json.  Each case starts from
clear_session(), so auto names are those of a fresh process; the summaries are
printed from keras.models.model_from_json(config.json), the model ckeras reads.
"""
import contextlib
import importlib.metadata
import io
import json
import os
import platform
import shutil
import sys

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ.pop("COLUMNS", None)

import tensorflow as tf  # noqa: E402

keras = tf.keras
L = keras.layers
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests", "golden", "keras2")

CASES = []


def case(name, *specs):
    def deco(fn):
        CASES.append((name, fn, [{}] + list(specs)))
        return fn
    return deco


def classic(frozen=False):
    return keras.Sequential([
        L.Dense(3, input_shape=(2,), activation="relu", trainable=not frozen),
        L.Dense(2, activation="softmax"),
    ])


@case("classic", {"line_length": 100}, {"line_length": 60}, {"show_trainable": True},
      {"positions": [0.5, 0.7, 1.0]}, {"line_length": 120, "show_trainable": True},
      {"layer_range": ["dense_1", "dense_1"]})
def _classic():
    return classic()


@case("classic_frozen", {"show_trainable": True}, {"line_length": 100, "show_trainable": True})
def _classic_frozen():
    return classic(frozen=True)


@case("core_layers", {"line_length": 90})
def _core_layers():
    return keras.Sequential([
        L.Dense(12, input_shape=(6,)), L.Dropout(0.5), L.Reshape((3, 4)), L.Permute((2, 1)),
        L.Flatten(), L.RepeatVector(2), L.Activation("tanh"), L.Dense(2),
    ])


@case("mlp_big", {"line_length": 100})
def _mlp_big():
    return keras.Sequential([L.Dense(4096, input_shape=(784,), activation="relu"),
                             L.Dense(4096, activation="relu"), L.Dense(10)])


@case("functional_multi_io", {"line_length": 120}, {"show_trainable": True}, {"line_length": 80})
def _functional_multi_io():
    a = keras.Input((4,), name="in_a")
    b = keras.Input((3,))
    x = L.Dense(8, name="d1")(a)
    y = L.Dense(8)(b)
    s = L.Add()([x, y])
    c = L.Concatenate()([s, b, x])
    return keras.Model([a, b], [L.Dense(1, name="o1")(s), L.Dense(2, name="o2")(c)])


@case("shared_layer", {"line_length": 100})
def _shared_layer():
    a = keras.Input((4,))
    b = keras.Input((4,))
    d = L.Dense(3)
    return keras.Model([a, b], L.Maximum()([d(a), d(b)]))


@case("merges", {"line_length": 110})
def _merges():
    a = keras.Input((4,))
    b = keras.Input((4,))
    outs = [L.Subtract()([a, b]), L.Multiply()([a, b]), L.Average()([a, b]), L.Minimum()([a, b]),
            L.Dot(axes=1)([a, b])]
    return keras.Model([a, b], L.Concatenate()(outs))


@case("nested_seq_in_func", {"expand_nested": True}, {"expand_nested": True, "show_trainable": True},
      {"expand_nested": True, "line_length": 100})
def _nested_seq_in_func():
    inner = keras.Sequential([L.Dense(3, input_shape=(4,), activation="relu"), L.Dense(2)])
    inp = keras.Input((4,))
    out = L.Dense(1)(inner(L.Dense(4)(inp)))
    return keras.Model(inp, out)


@case("nested_deep", {"expand_nested": True}, {"expand_nested": True, "line_length": 120})
def _nested_deep():
    inner = keras.Sequential([L.Dense(4, activation="relu"), L.Dense(3)], name="inner_seq")
    outer = keras.Sequential([L.Dense(5, input_shape=(6,)), inner], name="outer_seq")
    a = keras.Input((6,), name="a")
    b = keras.Input((3,), name="b")
    return keras.Model([a, b], L.Dense(2)(L.Add()([outer(a), b])))


@case("nested_frozen", {"show_trainable": True}, {"expand_nested": True, "show_trainable": True})
def _nested_frozen():
    inner = keras.Sequential([L.Dense(4, input_shape=(5,), activation="relu"), L.Dropout(0.1), L.Dense(3)],
                             name="frozen_block")
    m = keras.Sequential([inner, L.Dense(2)])
    inner.trainable = False
    return m


@case("long_names", {"line_length": 40}, {"line_length": 120})
def _long_names():
    return keras.Sequential([
        L.Dense(4, input_shape=(3,), name="a_very_long_layer_name_that_surely_exceeds_the_column_width_ok"),
        L.Dense(4, name="medium_sized_name_wraps"),
        L.Dense(2, name="x"),
    ], name="a_sequential_model_with_a_rather_long_name")


@case("long_names_functional", {"line_length": 150})
def _long_names_functional():
    a = keras.Input((3,), name="first_input_with_a_long_name")
    b = keras.Input((3,), name="second_input_with_an_even_longer_name_xyz")
    x = L.Dense(4, name="projection_of_first_input_to_four")(a)
    y = L.Dense(4, name="projection_of_second_input")(b)
    c = L.Concatenate(name="concatenate_the_two_projections_together")([x, y, x])
    return keras.Model([a, b], L.Dense(1, name="o")(c), name="model_with_long_names")


def capture(model, spec):
    buf = io.StringIO()
    kw = dict(spec)
    if "layer_range" in kw:
        kw["layer_range"] = list(kw["layer_range"])
    with contextlib.redirect_stdout(buf):
        model.summary(print_fn=lambda line, **_: print(line), **kw)
    return buf.getvalue()


def filename(spec):
    parts = []
    for k, v in sorted(spec.items()):
        short = {"line_length": "ll", "show_trainable": "trainable", "expand_nested": "nested",
                 "positions": "pos", "layer_range": "range"}[k]
        if v is True:
            parts.append(short)
        elif isinstance(v, list):
            parts.append(short + "-".join(str(x).replace(".", "") for x in v))
        else:
            parts.append("%s%s" % (short, v))
    return "summary%s.txt" % ("".join("_" + p for p in parts))


def main():
    os.makedirs(OUT, exist_ok=True)
    index = []
    for name, fn, specs in CASES:
        keras.backend.clear_session()
        model = fn()
        d = os.path.join(OUT, name)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        text = model.to_json()
        with open(os.path.join(d, "config.json"), "w") as f:
            f.write(text)
        # The summary of the model that config.json describes, as tf.keras reads it
        # back (a Keras 2 config drops a nested model's own trainable=False).
        model = keras.models.model_from_json(text)
        entries = []
        for spec in specs:
            fname = filename(spec)
            with open(os.path.join(d, fname), "w", encoding="utf-8") as f:
                f.write(capture(model, spec))
            entries.append(dict(spec, file=fname))
        with open(os.path.join(d, "summaries.json"), "w") as f:
            json.dump(entries, f, indent=1)
        index.append(name)
        print("%-24s %d summaries" % (name, len(entries)))
    with open(os.path.join(OUT, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
    with open(os.path.join(OUT, "VERSIONS.json"), "w") as f:
        json.dump({"tensorflow": tf.__version__, "keras": importlib.metadata.version("keras"),
                   "python": platform.python_version(),
                   "script": "tests/oracle/keras2_summaries.py"}, f, indent=1)


if __name__ == "__main__":
    main()
