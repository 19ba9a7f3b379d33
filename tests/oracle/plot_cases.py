"""Goldens for ckeras plot: keras.utils.model_to_dot() of the golden models.

For every model config under tests/golden/{core,files,seq,conv}/<case>/config.json,
Keras 3 rebuilds the model (keras.models.model_from_json) and model_to_dot() runs
with several option sets. Keras names DOT nodes by Python object ids, which mean
nothing outside one process, so each id is replaced by the layer's name (quoted
as a DOT string when it is not a plain identifier). Everything else is pydot's
text as Keras made it. Writes tests/golden/plot/<family>__<case>.json:

    {"source": "core/classic/config.json",
     "cases": [{"options": {...}, "dot": "digraph G {..."} | {"options", "error"}]}

Run: python3 tests/oracle/plot_cases.py   (needs pydot: pip install pydot)
"""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle_util  # noqa: E402

oracle_util.setup()

import keras  # noqa: E402
import pydot  # noqa: E402
from keras.src.models import functional, sequential  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "tests", "golden", "plot")
FAMILIES = ("core", "files", "seq", "conv")

# The option sets, as keyword arguments of model_to_dot (its defaults apart from
# show_layer_names=False in "plot_model", which is plot_model's default).
OPTION_SETS = [
    {},
    {"show_layer_names": False},
    {"show_shapes": True, "show_dtype": True, "show_layer_activations": True,
     "show_trainable": True},
    {"show_shapes": True, "rankdir": "LR", "dpi": 96, "splines": "polyline"},
    {"expand_nested": True, "show_shapes": True, "show_trainable": True},
]

DOT_KEYWORDS = {"node", "edge", "graph", "digraph", "subgraph", "strict"}


def dot_id(name):
    """A layer name as ckeras writes node ids: bare when a plain identifier."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) and name.lower() not in DOT_KEYWORDS:
        return name
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def restore_trainable(model, config):
    """Keras's from_config drops a nested model's own trainable=False (its layers
    stay frozen); set it back so the golden shows the model the config describes,
    as the summary goldens (built directly) do."""
    layers = [c for c in config["config"].get("layers", []) if c["class_name"] != "InputLayer"]
    inner = [l for l in model.layers]
    for layer, cfg in zip(inner, layers):
        if cfg["config"].get("name") != layer.name:
            continue
        if isinstance(layer, (functional.Functional, sequential.Sequential)):
            if cfg["config"].get("trainable") is False:
                layer.trainable = False
            restore_trainable(layer, cfg)


def split_internal_edges(text, layer_names):
    """Edges Keras draws from operations that are not layers of the model (the
    not_equal/any ops that make an Embedding's or Masking's mask, named by a
    process-wide counter, seen with expand_nested) are kept apart."""
    kept, internal = [], []
    for line in text.split("\n"):
        m = re.match(r'^(\S+|"[^"]*") -> ', line)
        if m and m.group(1).strip('"') not in layer_names:
            internal.append(line)
        else:
            kept.append(line)
    return "\n".join(kept), internal


def collect_ids(model, ids):
    ops = model.layers if isinstance(model, sequential.Sequential) else model._operations
    for op in ops:
        ids[str(id(op))] = op.name
        # Keras also draws edges from operations outside the model that feed a
        # node (the not_equal op making an Embedding's mask, seen with
        # expand_nested): they get their operation names too.
        for node in op._inbound_nodes:
            for t in node.input_tensors:
                src = t._keras_history.operation
                if src is not None:
                    ids.setdefault(str(id(src)), src.name)
        if isinstance(op, (functional.Functional, sequential.Sequential)):
            collect_ids(op, ids)


def collect_layer_names(model, names):
    ops = model.layers if isinstance(model, sequential.Sequential) else model._operations
    for op in ops:
        names.add(op.name)
        if isinstance(op, (functional.Functional, sequential.Sequential)):
            collect_layer_names(op, names)


def renamed(text, ids):
    def sub(m):
        if m.group(0) not in ids:
            raise SystemExit(f"unknown node id {m.group(0)} in DOT text")
        return dot_id(ids[m.group(0)])

    return re.sub(r"(?<![\w.\"])\d{9,}(?![\w.\"])", sub, text)


def cases_of(family):
    base = os.path.join(ROOT, "tests", "golden", family)
    for case in sorted(os.listdir(base)):
        path = os.path.join(base, case, "config.json")
        if os.path.isfile(path):
            yield case, path


def main():
    oracle_util.reset_dir(OUT)
    written = 0
    for family in FAMILIES:
        for case, path in cases_of(family):
            keras.backend.clear_session()
            with open(path) as f:
                text = f.read()
            try:
                model = keras.models.model_from_json(text)
            except Exception as e:  # a config Keras itself cannot rebuild
                print(f"skip {family}/{case}: {type(e).__name__}: {e}")
                continue
            restore_trainable(model, json.loads(text))
            ids = {}
            collect_ids(model, ids)
            layer_names = set()
            collect_layer_names(model, layer_names)
            cases = []
            for opts in OPTION_SETS:
                try:
                    dot = keras.utils.model_to_dot(model, **opts)
                    kept, internal = split_internal_edges(renamed(dot.to_string(), ids), layer_names)
                    entry = {"options": opts, "dot": kept}
                    if internal:
                        entry["keras_internal_edges"] = internal
                    cases.append(entry)
                except ValueError as e:
                    cases.append({"options": opts, "error": str(e)})
            rel = os.path.relpath(path, os.path.join(ROOT, "tests", "golden"))
            with open(os.path.join(OUT, f"{family}__{case}.json"), "w") as f:
                json.dump({"source": rel, "cases": cases}, f, indent=1, ensure_ascii=False)
                f.write("\n")
            written += 1
    versions = dict(oracle_util.versions(), pydot=pydot.__version__)
    oracle_util.write_json(os.path.join(OUT, "VERSIONS.json"), versions)
    print(f"plot goldens: {written} models -> {OUT}")


if __name__ == "__main__":
    main()
