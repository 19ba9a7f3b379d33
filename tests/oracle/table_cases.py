#!/usr/bin/env python3
"""Golden cases for the summary table renderer (src/report/table.c).

Runs real Keras 3 `model.summary()` for small models under many option
combinations and writes, into tests/golden/table/:
  <case>.txt   the exact text Keras printed (title, table, footer), and
  cases.json   for every case: the row strings Keras handed to rich (captured
               by wrapping rich.table.Table.add_row), the options, the footer
               counts, and either the golden file name or the error message.
The C test (tests/test_table.c) renders the same rows with the same options and
compares byte for byte.  Goldens must only ever be produced by this script:

    KERAS_BACKEND=jax python3 tests/oracle/table_cases.py

The script re-runs itself with stdin/stdout/stderr detached from any terminal,
because both shutil.get_terminal_size() (Keras's default line length) and rich
(console width for wrapping/cropping) look at the terminal; COLUMNS is then set
per case to emulate a terminal of that width.
"""
import contextlib
import io
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "golden", "table"))

if os.environ.get("CK_TABLE_ORACLE_CHILD") != "1":
    env = dict(os.environ, CK_TABLE_ORACLE_CHILD="1", PYTHONIOENCODING="utf-8")
    env.setdefault("KERAS_BACKEND", "jax")
    for var in ("COLUMNS", "LINES", "FORCE_COLOR", "TTY_COMPATIBLE",
                "TTY_INTERACTIVE", "JUPYTER_COLUMNS", "UNICODE_VERSION"):
        env.pop(var, None)
    proc = subprocess.run([sys.executable, os.path.abspath(__file__)],
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env)
    sys.stdout.write(proc.stdout.decode("utf-8", "replace"))
    if proc.returncode:
        sys.stderr.write(proc.stderr.decode("utf-8", "replace")[-4000:])
    sys.exit(proc.returncode)

import keras  # noqa: E402
import rich.console  # noqa: E402
import rich.table  # noqa: E402
from keras import layers  # noqa: E402
from keras.src.utils import summary_utils  # noqa: E402

# ---------------------------------------------------------------- capture rows
_captured = []
_orig_add_row = rich.table.Table.add_row
_plain_console = rich.console.Console(highlight=False)


def _add_row(self, *cells, **kw):
    # Keras passes rich markup strings; the table renders them exactly like
    # Console.render_str does, so .plain is the text the C caller must supply.
    _captured.append([_plain_console.render_str(c).plain for c in cells])
    return _orig_add_row(self, *cells, **kw)


rich.table.Table.add_row = _add_row

_headers = []
_orig_table_init = rich.table.Table.__init__


def _table_init(self, *columns, **kw):
    _headers[:] = [c.header for c in columns]
    return _orig_table_init(self, *columns, **kw)


rich.table.Table.__init__ = _table_init


# ---------------------------------------------------------------- models
def m_seq2():
    return keras.Sequential([keras.Input((2,)),
                             layers.Dense(3, activation="relu"),
                             layers.Dense(2, activation="softmax")])


def m_func():
    a = keras.Input((4,), name="in_a")
    b = keras.Input((4,))
    x1 = layers.Dense(8, name="d1")(a)
    x2 = layers.Dense(8)(b)
    s = layers.Add()([x1, x2])
    c = layers.Concatenate()([x1, s])
    out = layers.Dense(1)(c)
    return keras.Model([a, b], out)


def m_long():
    return keras.Sequential([
        keras.Input((16,)),
        layers.Dense(
            8, name="a_very_long_layer_name_that_surely_exceeds_the_column_width_ok"),
        layers.BatchNormalization(),
        layers.Dense(1000),
        layers.Dense(1000, name="x"),
        layers.Dense(4, name="name with   three spaces and words to wrap"),
    ])


def m_rnn():
    inp = keras.Input((5, 4))
    seq, h, c = layers.LSTM(4, return_state=True, return_sequences=False)(inp)
    cat = layers.Concatenate(name="concatenate_all_three_states")([seq, h, c])
    out = layers.Dense(2)(cat)
    return keras.Model(inp, out)


def m_unicode():
    return keras.Sequential([
        keras.Input((3,)),
        layers.Dense(3, name="密集層 dense"),
        layers.Dense(2, name="cafe\u0301  two   spaces"),
        layers.Dense(2, name="\U0001F44Dx"),
        layers.Dense(2, name="全角の名前がとても長い層の名前です"),
    ], name="ユニコード")


def m_frozen():
    m = keras.Sequential([
        keras.Input((8,)),
        layers.Dense(16, name="frozen_dense"),
        layers.BatchNormalization(),
        layers.Dropout(0.5),
        layers.Dense(4),
    ])
    m.layers[0].trainable = False
    return m


def m_empty():
    return keras.Sequential(name="empty")


def m_unbuilt():
    return keras.Sequential([layers.Dense(3), layers.Dense(2)])


def m_nested():
    inner = keras.Sequential([keras.Input((4,)), layers.Dense(4),
                              layers.Dense(3)], name="inner")
    return keras.Sequential([keras.Input((4,)), inner, layers.Dense(2)],
                            name="outer")


def m_func_frozen():
    inp = keras.Input((6,), name="input")
    a = layers.Dense(5, name="left")(inp)
    b = layers.Dense(5, name="right")(inp)
    m = layers.Multiply()([a, b])
    f = layers.Flatten()(m)
    out = layers.Dense(1, name="head")(f)
    model = keras.Model(inp, out, name="two_branches")
    model.get_layer("left").trainable = False
    return model


def m_optimizer():
    m = keras.Sequential([keras.Input((2,)), layers.Dense(3), layers.Dense(2)])
    m.compile(optimizer="adam", loss="mse")
    m.optimizer.build(m.trainable_variables)
    return m


def m_longname():
    return keras.Sequential([keras.Input((2,)), layers.Dense(3)],
                            name="m" * 95)


def m_deep():
    x = inp = keras.Input((10,))
    outs = []
    for i in range(6):
        outs.append(layers.Dense(2, name=f"branch_{i}")(x))
    out = layers.Concatenate(name="join")(outs)
    return keras.Model(inp, out, name="fan")


def m_odd():
    # Names Keras accepts but that exercise rich's text handling: a newline
    # (a second cell line), emoji with U+FE0F, tabs (expanded to 8-cell
    # stops), and a long run of wide characters at an odd cell offset (so
    # that cropping at the console width splits a wide character).
    return keras.Sequential([
        keras.Input((2,)),
        layers.Dense(2, name="line1\nline2"),
        layers.Dense(2, name="\u2764\ufe0f heart"),
        layers.Dense(2, name="tab\there"),
        layers.Dense(2, name="\tlead\tx\u5168\ty"),
        layers.Dense(2, name="x" + "\u5168" * 44),
    ], name="odd")


def m_wide_title():
    return keras.Sequential([keras.Input((2,)), layers.Dense(1)],
                            name="\u30e6\u30cb\u30b3\u30fc\u30c9" * 12)


MODELS = {f.__name__[2:]: f for f in (
    m_seq2, m_func, m_long, m_rnn, m_unicode, m_frozen, m_empty, m_unbuilt,
    m_nested, m_func_frozen, m_optimizer, m_longname, m_deep, m_odd,
    m_wide_title)}

# (case name, model, summary kwargs, COLUMNS or None)
CASES = [
    ("seq2_notty", "seq2", {}, None),
    ("seq2_cols100", "seq2", {}, 100),
    ("seq2_cols60", "seq2", {}, 60),
    ("seq2_cols40", "seq2", {}, 40),
    ("seq2_cols20", "seq2", {}, 20),
    ("seq2_cols12_error", "seq2", {}, 12),
    ("seq2_ll10_error", "seq2", {"line_length": 10}, None),
    ("seq2_ll20", "seq2", {"line_length": 20}, None),
    ("seq2_ll25", "seq2", {"line_length": 25}, None),
    ("seq2_ll30", "seq2", {"line_length": 30}, None),
    ("seq2_ll50", "seq2", {"line_length": 50}, None),
    ("seq2_ll100_crop", "seq2", {"line_length": 100}, None),
    ("seq2_ll150_cols200", "seq2", {"line_length": 150}, 200),
    ("seq2_ll200_cols250", "seq2", {"line_length": 200}, 250),
    ("seq2_ll200_crop90", "seq2", {"line_length": 200}, 90),
    ("seq2_pos_under1", "seq2", {"positions": [0.3, 0.6, 0.9]}, None),
    ("seq2_pos_under1_ll120", "seq2",
     {"positions": [0.5, 0.7, 0.8], "line_length": 120}, 130),
    ("seq2_pos_over1", "seq2", {"positions": [0.5, 1.0, 1.5]}, None),
    ("seq2_pos_absolute", "seq2", {"positions": [30, 60, 76]}, None),
    ("seq2_pos_narrow_error", "seq2", {"positions": [0.5, 0.52, 1.0]}, None),
    ("seq2_trainable", "seq2", {"show_trainable": True}, None),
    ("seq2_trainable_cols200", "seq2", {"show_trainable": True}, 200),
    ("seq2_trainable_pos", "seq2",
     {"show_trainable": True, "positions": [0.4, 0.7, 1.0]}, 120),
    ("seq2_trainable_ll40", "seq2",
     {"show_trainable": True, "line_length": 40}, None),
    ("func_notty", "func", {}, None),
    ("func_cols120", "func", {}, 120),
    ("func_ll40", "func", {"line_length": 40}, None),
    ("func_ll60", "func", {"line_length": 60}, None),
    ("func_ll150", "func", {"line_length": 150}, 200),
    ("func_trainable", "func", {"show_trainable": True}, None),
    ("func_trainable_cols130", "func", {"show_trainable": True}, 130),
    ("func_pos_under1", "func", {"positions": [0.2, 0.5, 0.6, 0.9]}, None),
    ("func_pos_custom", "func", {"positions": [0.25, 0.5, 0.75, 1.0]}, 120),
    ("func_zero_content", "func", {"positions": [0.3, 0.56, 0.61, 1.0]}, None),
    ("func_ll27", "func", {"line_length": 27}, None),
    ("long_notty", "long", {}, None),
    ("long_ll30", "long", {"line_length": 30}, None),
    ("long_ll50", "long", {"line_length": 50}, None),
    ("long_ll120", "long", {"line_length": 120}, 130),
    ("long_trainable", "long", {"show_trainable": True}, None),
    ("rnn_notty", "rnn", {}, None),
    ("rnn_ll60", "rnn", {"line_length": 60}, None),
    ("rnn_trainable_cols200", "rnn", {"show_trainable": True}, 200),
    ("unicode_notty", "unicode", {}, None),
    ("unicode_ll30", "unicode", {"line_length": 30}, None),
    ("unicode_ll24", "unicode", {"line_length": 24}, None),
    ("unicode_ll100_crop", "unicode", {"line_length": 100}, None),
    ("unicode_trainable_ll41", "unicode",
     {"line_length": 41, "show_trainable": True}, None),
    ("frozen_trainable", "frozen", {"show_trainable": True}, None),
    ("frozen_trainable_cols130", "frozen", {"show_trainable": True}, 130),
    ("frozen_trainable_ll60", "frozen",
     {"show_trainable": True, "line_length": 60}, None),
    ("frozen_notty", "frozen", {}, None),
    ("empty_notty", "empty", {}, None),
    ("empty_trainable", "empty", {"show_trainable": True}, 200),
    ("unbuilt_notty", "unbuilt", {}, None),
    ("unbuilt_trainable_ll40", "unbuilt",
     {"show_trainable": True, "line_length": 40}, None),
    ("nested_expand", "nested", {"expand_nested": True}, None),
    ("nested_expand_ll45", "nested",
     {"expand_nested": True, "line_length": 45}, None),
    ("nested_collapsed", "nested", {}, 100),
    ("func_frozen_trainable", "func_frozen", {"show_trainable": True}, None),
    ("func_frozen_trainable_ll200", "func_frozen",
     {"show_trainable": True, "line_length": 200}, 210),
    ("optimizer_notty", "optimizer", {}, None),
    ("longname_notty", "longname", {}, None),
    ("longname_cols50", "longname", {}, 50),
    ("deep_notty", "deep", {}, None),
    ("deep_ll35", "deep", {"line_length": 35}, None),
    ("odd_notty", "odd", {}, None),
    ("odd_ll40", "odd", {"line_length": 40}, None),
    ("odd_crop_straddle", "odd",
     {"line_length": 100, "positions": [0.9, 0.95, 1.0]}, None),
    ("odd_trainable_cols130", "odd", {"show_trainable": True}, 130),
    ("wide_title_cols50", "wide_title", {}, 50),
    ("wide_title_cols33", "wide_title", {"line_length": 40}, 33),
    ("seq2_cols30_footer_wrap", "seq2", {"line_length": 30}, 30),
    ("frozen_cols26_footer_wrap", "frozen", {"line_length": 26}, 26),
    ("optimizer_cols24", "optimizer", {"line_length": 24}, 24),
]


def footer_counts(model):
    # Same sums print_summary makes (summary_utils), so the C footer helper
    # can be checked against the real footer lines.
    s = summary_utils
    tw = getattr(model, "_collected_trainable_weights", model.trainable_weights)
    d = {
        "trainable": s.count_params(tw),
        "trainable_bytes": float(s.weight_memory_size(tw)),
        "non_trainable": s.count_params(model.non_trainable_weights),
        "non_trainable_bytes": float(
            s.weight_memory_size(model.non_trainable_weights)),
        "optimizer": 0, "optimizer_bytes": 0.0, "include_optimizer": False,
    }
    if model.compiled and model.optimizer and model.optimizer.built:
        d["optimizer"] = s.count_params(model.optimizer.variables)
        d["optimizer_bytes"] = float(
            s.weight_memory_size(model.optimizer.variables))
        d["include_optimizer"] = True
    return d


def run_case(name, model_key, kwargs, columns):
    keras.backend.clear_session()  # fresh auto-names: dense, dense_1, ...
    model = MODELS[model_key]()
    if columns is None:
        os.environ.pop("COLUMNS", None)
    else:
        os.environ["COLUMNS"] = str(columns)
    _captured.clear()
    _headers.clear()
    buf = io.StringIO()
    error = None
    try:
        with contextlib.redirect_stdout(buf):
            model.summary(**kwargs)
    except ValueError as e:
        error = str(e)
    finally:
        os.environ.pop("COLUMNS", None)
    rows = []
    functional = "Connected to" in _headers
    trainable = kwargs.get("show_trainable", False)
    for cells in _captured:
        cells = list(cells)
        connected = cells[3] if functional else ""
        tr = cells[-1] if trainable else ""
        rows.append([cells[0], cells[1], cells[2], connected, tr])
    case = {
        "name": name,
        "model_name": model.name,
        "functional": functional,
        "show_trainable": bool(trainable),
        "line_length": kwargs.get("line_length") or 0,
        "positions": kwargs.get("positions"),
        "console_width": columns or 0,
        "rows": rows,
        "footer": footer_counts(model),
    }
    if error is not None:
        case["error"] = error
    else:
        fname = name + ".txt"
        with open(os.path.join(OUT, fname), "w", encoding="utf-8",
                  newline="") as f:
            f.write(buf.getvalue())
        case["expected"] = fname
    return case


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = [run_case(*c) for c in CASES]
    with open(os.path.join(OUT, "cases.json"), "w", encoding="utf-8",
              newline="") as f:
        # One case per line: readable, and diffs stay per case.
        from importlib.metadata import version
        f.write('{"keras_version": %s, "rich_version": %s, "cases": [\n'
                % (json.dumps(keras.__version__), json.dumps(version("rich"))))
        f.write(",\n".join(json.dumps(c, ensure_ascii=False) for c in cases))
        f.write("\n]}\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
