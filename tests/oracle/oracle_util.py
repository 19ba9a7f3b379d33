"""Shared helpers for the ckeras oracle scripts.

The oracle scripts build models in real Keras 3 (JAX backend) and write what
Keras says about them -- JSON config, summary() text, parameter counts,
weights, inputs and predictions -- under tests/golden/.  The C tests compare
against those files, so every byte here must come from Keras itself, and the
capture of summary() must reproduce what a user sees with stdout redirected
to a file (no terminal, no colours).

Import this module *before* keras: `setup()` fixes the backend, scrubs the
environment variables that change rich's rendering, and re-executes the
script detached from any terminal, because rich measures the console on the
real file descriptors 0, 1 and 2, not on sys.stdout.
"""

import contextlib
import io
import json
import os
import platform
import shutil
import subprocess
import sys

# Environment variables that change how Keras/rich render a summary.  They are
# removed so that "columns": null really means "no COLUMNS, not a terminal".
_RENDER_ENV = (
    "COLUMNS",
    "LINES",
    "FORCE_COLOR",
    "NO_COLOR",
    "TTY_COMPATIBLE",
    "TTY_INTERACTIVE",
    "JUPYTER_COLUMNS",
    "JUPYTER_LINES",
    "CLICOLOR",
    "CLICOLOR_FORCE",
)

_DETACHED_FLAG = "CKERAS_ORACLE_DETACHED"


def setup():
    """Call first thing in an oracle script, before importing keras."""
    os.environ["KERAS_BACKEND"] = "jax"
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ["PYTHONIOENCODING"] = "utf-8"
    for k in _RENDER_ENV:
        os.environ.pop(k, None)
    if os.environ.get(_DETACHED_FLAG) != "1" and any(
        _isatty(fd) for fd in (0, 1, 2)
    ):
        # Re-run ourselves with no terminal on 0/1/2; relay the output.
        env = dict(os.environ)
        env[_DETACHED_FLAG] = "1"
        proc = subprocess.Popen(
            [sys.executable] + sys.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
        )
        for chunk in iter(lambda: proc.stdout.read(4096), b""):
            sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
        sys.exit(proc.wait())


def _isatty(fd):
    try:
        return os.isatty(fd)
    except OSError:
        return False


# --------------------------------------------------------------------------
# summary capture


@contextlib.contextmanager
def _columns_env(columns):
    old = os.environ.pop("COLUMNS", None)
    if columns is not None:
        os.environ["COLUMNS"] = str(int(columns))
    try:
        yield
    finally:
        os.environ.pop("COLUMNS", None)
        if old is not None:
            os.environ["COLUMNS"] = old


@contextlib.contextmanager
def _record_table_rows(sink):
    """Record the cells Keras hands to rich (as plain text), for rows.json.

    This only observes rich.table.Table; the rendered text is unaffected.
    """
    import rich.table
    import rich.text

    orig_init = rich.table.Table.__init__
    orig_add_row = rich.table.Table.add_row

    def plain(cell):
        if isinstance(cell, str):
            return rich.text.Text.from_markup(cell).plain
        return str(cell)

    def init(self, *columns, **kw):
        orig_init(self, *columns, **kw)
        sink["header"] = [plain(c.header) for c in self.columns]
        sink["widths"] = [c.width for c in self.columns]
        sink["rows"] = []

    def add_row(self, *cells, **kw):
        sink["rows"].append([plain(c) for c in cells])
        return orig_add_row(self, *cells, **kw)

    rich.table.Table.__init__ = init
    rich.table.Table.add_row = add_row
    try:
        yield
    finally:
        rich.table.Table.__init__ = orig_init
        rich.table.Table.add_row = orig_add_row


def capture_summary(model, spec):
    """Return (text, cells) exactly as model.summary(...) prints it to a
    non-terminal stdout with COLUMNS=spec["columns"] (None = unset)."""
    kwargs = {}
    for key in ("line_length", "positions", "layer_range"):
        if spec.get(key) is not None:
            kwargs[key] = spec[key]
    if spec.get("show_trainable"):
        kwargs["show_trainable"] = True
    if spec.get("expand_nested"):
        kwargs["expand_nested"] = True
    buf = io.StringIO()
    cells = {}
    old_stdout = sys.stdout
    with _columns_env(spec.get("columns")), _record_table_rows(cells):
        sys.stdout = buf
        try:
            model.summary(**kwargs)
        finally:
            sys.stdout = old_stdout
    return buf.getvalue(), cells


def summary_filename(spec, used):
    parts = ["summary"]
    if spec.get("line_length") is not None:
        parts.append("ll%d" % spec["line_length"])
    if spec.get("columns") is not None:
        parts.append("cols%d" % spec["columns"])
    if spec.get("positions") is not None:
        parts.append("pos" + "-".join("%03d" % round(p * 100) for p in spec["positions"]))
    if spec.get("show_trainable"):
        parts.append("trainable")
    if spec.get("expand_nested"):
        parts.append("nested")
    if spec.get("layer_range") is not None:
        parts.append("range")
    base = "_".join(parts)
    name = base
    k = 1
    while name in used:
        k += 1
        name = "%s%d" % (base, k)
    used.add(name)
    return name + ".txt"


def norm_spec(spec):
    return {
        "line_length": spec.get("line_length"),
        "positions": list(spec["positions"]) if spec.get("positions") is not None else None,
        "show_trainable": bool(spec.get("show_trainable", False)),
        "expand_nested": bool(spec.get("expand_nested", False)),
        "layer_range": list(spec["layer_range"]) if spec.get("layer_range") is not None else None,
        "columns": spec.get("columns"),
    }


# --------------------------------------------------------------------------
# counts


def _plain(markup):
    import rich.text

    return rich.text.Text.from_markup(markup).plain


def layer_info(layer):
    from keras.src.utils import summary_utils

    built = getattr(layer, "built", True)
    info = {
        "name": layer.name,
        "class_name": layer.__class__.__name__,
        "params": int(layer.count_params()) if built else 0,
        "output_shape": _plain(summary_utils.format_layer_shape(layer)),
        "trainable": bool(layer.trainable),
    }
    if not built:
        info["built"] = False
    info["n_weights"] = len(layer.weights)
    return info


def var_info(v):
    return {
        "path": v.path,
        "name": v.name,
        "shape": [int(d) for d in v.shape],
        "trainable": bool(v.trainable),
        "dtype": str(v.dtype),
    }


def counts(model):
    from keras.src.utils import summary_utils as su

    tw = model.trainable_weights
    ntw = model.non_trainable_weights
    opt_built = bool(model.compiled and model.optimizer and model.optimizer.built)
    ov = list(model.optimizer.variables) if opt_built else []
    trainable = su.count_params(tw)
    non_trainable = su.count_params(ntw)
    optimizer = su.count_params(ov)
    out = {
        # total is what summary() prints as "Total params": it includes the
        # optimizer variables when the optimizer is built.
        "total": trainable + non_trainable + optimizer,
        "trainable": trainable,
        "non_trainable": non_trainable,
        "optimizer": optimizer if opt_built else None,
        "bytes": {
            "total": su.weight_memory_size(tw) + su.weight_memory_size(ntw) + su.weight_memory_size(ov),
            "trainable": su.weight_memory_size(tw),
            "non_trainable": su.weight_memory_size(ntw),
            "optimizer": su.weight_memory_size(ov) if opt_built else None,
        },
        "layers": [layer_info(l) for l in model.layers],
        "weights": [var_info(v) for v in model.weights],
    }
    if opt_built:
        out["optimizer_variables"] = [var_info(v) for v in ov]
    return out


# --------------------------------------------------------------------------
# writing


def _dumps(obj, indent=0):
    """JSON with 2-space indentation, but lists of scalars kept on one line."""
    pad = "  " * (indent + 1)
    end = "  " * indent
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [
            pad + json.dumps(k, ensure_ascii=False) + ": " + _dumps(v, indent + 1)
            for k, v in obj.items()
        ]
        return "{\n" + ",\n".join(items) + "\n" + end + "}"
    if isinstance(obj, (list, tuple)):
        if all(not isinstance(v, (dict, list, tuple)) for v in obj):
            return json.dumps(list(obj), ensure_ascii=False)
        items = [pad + _dumps(v, indent + 1) for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + end + "]"
    return json.dumps(obj, ensure_ascii=False)


def write_json(path, obj):
    text = _dumps(obj)
    assert json.loads(text) == json.loads(json.dumps(obj))
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text + "\n")


def write_text(path, text):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def reset_dir(path):
    if os.path.isdir(path):
        shutil.rmtree(path)
    os.makedirs(path)


def versions():
    import h5py
    import jax
    import jaxlib
    import keras
    import numpy
    import rich
    from importlib.metadata import version

    return {
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
        "numpy": numpy.__version__,
        "h5py": h5py.__version__,
        "rich": version("rich"),
        "python": platform.python_version(),
        "floatx": keras.config.floatx(),
        "jax_platform": jax.default_backend(),
    }


# --------------------------------------------------------------------------
# training cases (train_cases, conv_train_cases, seq_train_cases, areg_train)


def save_weights(model, d):
    """model.get_weights() as d/<k>.npy, in Keras's order."""
    import numpy as np

    os.makedirs(d)
    for k, w in enumerate(model.get_weights()):
        np.save(os.path.join(d, f"{k}.npy"), w)


def write_training_start(d_dir, model, x, y):
    """A fresh case folder with what a training case starts from: the model's
    JSON config, its initial weights (weights/<k>.npy), x.npy and y.npy."""
    import numpy as np

    reset_dir(d_dir)
    with open(os.path.join(d_dir, "config.json"), "w") as f:
        f.write(model.to_json())
    save_weights(model, os.path.join(d_dir, "weights"))
    np.save(os.path.join(d_dir, "x.npy"), x)
    np.save(os.path.join(d_dir, "y.npy"), y)


def history_of(h):
    """A fit's History as plain floats per log key."""
    return {k: [float(v) for v in vs] for k, vs in h.history.items()}


def write_case_list(out, names):
    """VERSIONS.json (the Keras that made the cases) and CASES (one name a line)."""
    write_json(os.path.join(out, "VERSIONS.json"), versions())
    with open(os.path.join(out, "CASES"), "w") as f:
        f.write("\n".join(names) + "\n")
