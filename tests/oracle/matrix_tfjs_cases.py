"""The TF.js column of the file-format matrix (issue 12), written by the real
tensorflowjs 4.17 converter in the TensorFlow 2.15 venv (scripts/install-oracle-venvs.sh;
TensorFlow must never share an interpreter with Keras 3).

Keras 3 has no TF.js writer, so for every case of tests/golden/matrix/CASES (which
matrix_cases.py wrote with Keras 3.15.1) the converter writes it in the two ways it can:

  tfjs_h5/   `tensorflowjs_converter --input_format keras model.h5 tfjs_h5/` on Keras 3's
             own legacy .h5 (converter.dispatch_keras_h5_to_tfjs_layers_model_conversion):
             the converter reads the HDF5 with h5py and copies Keras 3's model_config
             into modelTopology verbatim, so it can express every case; the weights
             keep the .h5's weight_names.  TF.js and tf.keras 2.15 cannot read that
             topology back (Keras 3 config dialect: batch_shape, DTypePolicy, ...).
  tfjs/      the same model rebuilt in tf.keras 2.15 (Keras 3's config.json in the
             Keras 2 dialect, given to tf.keras.models.model_from_json, which refuses
             what it does not know), Keras 3's weights set with set_weights, its
             predictions checked against Keras 3's within 1e-5, then saved by
             tensorflowjs.converters.save_keras_model: what TF.js itself reads, and
             what ckeras's TF.js writer must write value for value.
  tfjs.json  {"tf_keras": "ok"} or {"tf_keras": "<why tf.keras 2.15 cannot express
             this case>"}: the exception tf.keras raised, or the shape or prediction
             difference.  Generated, never written by hand.
A summary of the reasons goes to tests/golden/matrix/TFJS.json.

Run from the repository root (after matrix_cases.py):
    /opt/ckeras-tf2/bin/python tests/oracle/matrix_tfjs_cases.py [--only a,b]
"""
import importlib.metadata
import inspect
import json
import os
import shutil
import sys
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# TensorFlow runs channels_first pooling on CPU only through oneDNN, which it
# enables by default on Intel CPUs alone: on others max_pooling2d_channels_first
# would fail with "Default MaxPoolingOp only supports NHWC on device type CPU".
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflowjs as tfjs  # noqa: E402
from tensorflowjs.converters import converter  # noqa: E402

ROOT = os.path.join("tests", "golden", "matrix")
# Keyword arguments Keras 3 writes that tf.keras 2.15's constructors do not take.
KERAS3_ONLY = ("lora_rank", "lora_alpha", "quantization_config", "input_axes", "output_axes", "optional")
# Keras 3 arguments tf.keras 2.15 lacks, dropped only at the value that makes Keras 3
# compute what tf.keras 2.15 computes without them (any other value stays, and
# tf.keras refuses it: the case is then not expressible, with that reason).
NEUTRAL = {
    "ConvLSTM1D": {"seed": None}, "ConvLSTM2D": {"seed": None}, "ConvLSTM3D": {"seed": None},
    "MultiHeadAttention": {"use_gate": False, "sliding_window": None, "seed": None},
    "ZeroPadding1D": {"data_format": "channels_last"},
    "LayerNormalization": {"rms_scaling": False},
    "CenterCrop": {"data_format": "channels_last"},
    # fill_mode and fill_value only act with pad_to_aspect_ratio; tf.keras resizes
    # without antialiasing (tf.image.resize's default)
    "Resizing": {"data_format": "channels_last", "pad_to_aspect_ratio": False, "fill_mode": "constant",
                 "fill_value": 0.0, "antialias": False},
}
# Keras 3 names for tf.keras 2.15's arguments (Keras 3's LeakyReLU still takes alpha).
RENAMED = {"LeakyReLU": {"negative_slope": "alpha"}}


def keras2_arguments(class_name, cfg, build):
    for k, neutral in NEUTRAL.get(class_name, {}).items():
        if k in cfg and cfg[k] == neutral and type(cfg[k]) is type(neutral):
            del cfg[k]
    for new, old in RENAMED.get(class_name, {}).items():
        if new in cfg:
            cfg[old] = cfg.pop(new)
    if class_name == "MultiHeadAttention" and isinstance(build, dict):
        # tf.keras 2.15's from_config builds the layer from these (key: value's shape
        # when no key was given, as its _build_from_signature does)
        shapes = build.get("shapes_dict", {})
        cfg["query_shape"] = shapes.get("query_shape")
        cfg["value_shape"] = shapes.get("value_shape")
        cfg["key_shape"] = shapes.get("key_shape", cfg["value_shape"])


# ---- Keras 3 config -> the Keras 2 dialect tf.keras 2.15 deserializes ------------------
def is_tensor(v):
    return isinstance(v, dict) and v.get("class_name") == "__keras_tensor__"


def call_arg_names(class_name):
    cls = getattr(tf.keras.layers, class_name, None)
    if cls is None:
        return []
    return [p for p in inspect.signature(cls.call).parameters if p != "self"]


class Downgrade:
    def __init__(self, layers):
        # tf.keras numbers the calls of a nested model with its own Input from 1
        # (node 0 is the Input's); Keras 3 from 0.
        self.nested = {l["config"]["name"] for l in layers if l.get("class_name") in ("Functional", "Sequential", "Model")}

    def ref(self, hist):
        name, node, index = hist[:3]
        return [name, node + (1 if name in self.nested else 0), index]

    def tensors(self, v):
        if is_tensor(v):
            return self.ref(v["config"]["keras_history"])
        if isinstance(v, list):
            return [self.tensors(e) for e in v]
        if isinstance(v, dict):
            return {k: self.tensors(e) for k, e in v.items()}
        return v

    def node(self, class_name, node):
        """{"args": [...], "kwargs": {...}} -> [[name, node, index, kwargs], ...]: the first
        argument's tensors each with the rest of the call as keyword arguments."""
        args, kwargs = node.get("args", []), dict(node.get("kwargs", {}))
        names = call_arg_names(class_name)
        for name, a in zip(names[1:], args[1:]):
            kwargs[name] = a
        kwargs = self.tensors(kwargs)
        first = args[0] if args else []
        flat = first if isinstance(first, list) else [first]
        return [self.tensors(t) + [kwargs] for t in flat if is_tensor(t)]

    def io(self, refs):
        if isinstance(refs, dict):
            refs = list(refs.values())
        if refs and isinstance(refs[0], str):
            refs = [refs]
        return [self.ref(r) for r in refs]


def downgrade(v):
    if isinstance(v, list):
        return [downgrade(e) for e in v]
    if not isinstance(v, dict):
        return v
    out = {}
    for k, e in v.items():
        if k in ("module", "registered_name", "build_config", "compile_config") and "class_name" in v:
            continue
        out[k] = downgrade(e)
    cfg = out.get("config")
    if "class_name" in out and isinstance(cfg, dict):
        if isinstance(cfg.get("dtype"), dict):
            cfg["dtype"] = cfg["dtype"]["config"]["name"]
        for k in KERAS3_ONLY:
            cfg.pop(k, None)
        keras2_arguments(out["class_name"], cfg, v.get("build_config"))
        if out["class_name"] == "InputLayer" and "batch_shape" in cfg:
            cfg["batch_input_shape"] = cfg.pop("batch_shape")
        if out["class_name"] == "Functional":
            d = Downgrade(v["config"]["layers"])
            for layer, orig in zip(cfg["layers"], v["config"]["layers"]):
                layer["inbound_nodes"] = [d.node(orig["class_name"], n) for n in orig.get("inbound_nodes", [])]
            cfg["input_layers"] = d.io(v["config"]["input_layers"])
            cfg["output_layers"] = d.io(v["config"]["output_layers"])
    return out


# ---- one case ----------------------------------------------------------------------
def load_npys(d, prefix):
    out, i = [], 0
    while os.path.exists(os.path.join(d, f"{prefix}{i}.npy")):
        out.append(np.load(os.path.join(d, f"{prefix}{i}.npy")))
        i += 1
    return out


def rebuild(d):
    """tf.keras 2.15's model of the case with Keras 3's weights, or the reason it has none."""
    with open(os.path.join(d, "config.json")) as f:
        config = downgrade(json.load(f))
    tf.keras.backend.clear_session()
    try:
        model = tf.keras.models.model_from_json(json.dumps(config))
    except Exception as e:  # tf.keras 2.15 refuses the class or one of its arguments
        return None, f"tf.keras 2.15 cannot build it: {type(e).__name__}: {' '.join(str(e).split())[:240]}"
    ws = load_npys(os.path.join(d, "weights"), "")  # no folder without weights (git keeps none)
    mine = model.get_weights()
    if [w.shape for w in mine] != [w.shape for w in ws]:
        return None, (f"tf.keras 2.15 lays the weights out otherwise: shapes {[list(w.shape) for w in mine]}, "
                      f"Keras 3 {[list(w.shape) for w in ws]}")
    model.set_weights(ws)
    xs, ys = load_npys(d, "x"), load_npys(d, "y")
    got = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
    got = got if isinstance(got, (list, tuple)) else [got]
    if len(got) != len(ys):
        return None, f"tf.keras 2.15 gives {len(got)} outputs, Keras 3 {len(ys)}"
    err = max(float(np.max(np.abs(np.asarray(g, "float32") - y))) if g.shape == y.shape else float("inf")
              for g, y in zip(got, ys))
    if not err <= 1e-5:
        return None, f"tf.keras 2.15 computes it otherwise: predictions differ from Keras 3 by {err:.3g}"
    return model, "ok"


def write_case(name):
    d = os.path.join(ROOT, name)
    for sub in ("tfjs", "tfjs_h5"):
        shutil.rmtree(os.path.join(d, sub), ignore_errors=True)
    converter.dispatch_keras_h5_to_tfjs_layers_model_conversion(os.path.join(d, "model.h5"),
                                                                output_dir=os.path.join(d, "tfjs_h5"))
    model, why = rebuild(d)
    if model is not None:
        tfjs.converters.save_keras_model(model, os.path.join(d, "tfjs"))
    with open(os.path.join(d, "tfjs.json"), "w") as f:
        json.dump({"tf_keras": why}, f, indent=2)
        f.write("\n")
    return why


def main():
    with open(os.path.join(ROOT, "CASES")) as f:
        cases = [ln.strip() for ln in f if ln.strip()]
    only = set(sys.argv[sys.argv.index("--only") + 1].split(",")) if "--only" in sys.argv else None
    summary = {}
    for name in cases:
        if only and name not in only:
            with open(os.path.join(ROOT, name, "tfjs.json")) as f:
                summary[name] = json.load(f)["tf_keras"]
            continue
        summary[name] = write_case(name)
        print(name, summary[name], flush=True)
    summary = {"versions": {p: importlib.metadata.version(p) for p in ("tensorflow-cpu", "tf-keras", "tensorflowjs")},
               "cases": summary}
    with open(os.path.join(ROOT, "TFJS.json"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    ok = sum(v == "ok" for v in summary["cases"].values())
    print(f"tfjs: {len(cases)} cases through the converter from .h5, {ok} rebuilt in tf.keras 2.15")


if __name__ == "__main__":
    main()
