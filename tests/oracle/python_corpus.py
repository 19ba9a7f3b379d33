"""Goldens for `ckeras run`: every Keras model script in tests/data/python/ run by
real Keras 3, each in a fresh Python process (Keras's name counters start from
zero, as in `python script.py`) with stdout on a pipe and no COLUMNS, in an empty
working directory (plot_model and save write there). What the script prints --
summaries, counts, weight shapes -- is written to tests/golden/python/<name>.txt,
byte for byte; a script Keras fails on is an error of the corpus. The last model
the script made (that no other model holds) is also drawn by
keras.utils.model_to_dot with every option on, node ids replaced by layer names
as in plot_cases.py: tests/golden/python/<name>.dot.

`tensorflow.keras` is Keras 3 from TensorFlow 2.16 on; TensorFlow is not installed
here, so the runner rewrites the script's TensorFlow imports to Keras before it
runs (`from tensorflow.keras.layers import X` -> `from keras.layers import X`,
`import tensorflow as tf` -> a `tf` whose `keras` is Keras), line for line. A
module named tensorflow in sys.modules would make Keras believe TensorFlow is
there.

Run: python3 tests/oracle/python_corpus.py [--only a,b]
"""

import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle_util  # noqa: E402

oracle_util.setup()

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CORPUS = os.path.join(ROOT, "tests", "data", "python")
OUT = os.path.join(ROOT, "tests", "golden", "python")

# Runs one script as __main__ with tensorflow.keras mapped onto keras.
RUNNER = r"""
import json, re, sys, types
sys.path.insert(0, sys.argv[3])
import plot_cases
from keras.src.models import functional, sequential
# The models the script makes, in order; the Functionals a Sequential makes
# while it builds are Keras's own and not counted (found on the call stack, so
# that nothing of Keras is replaced but the two constructors' bookkeeping).
made = []
def inside_sequential_build():
    f = sys._getframe(2)
    while f:
        if f.f_code.co_name == "build" and isinstance(f.f_locals.get("self"), sequential.Sequential):
            return True
        f = f.f_back
    return False
def recording(cls):
    init = cls.__init__
    def wrapped(self, *a, **k):
        init(self, *a, **k)
        if not inside_sequential_build():
            made.append(self)
    cls.__init__ = wrapped
recording(functional.Functional)
recording(sequential.Sequential)
src = open(sys.argv[1]).read()
src = re.sub(r"^import tensorflow as (\w+)$",
             r"import keras as _keras; \1 = __import__('types').SimpleNamespace(keras=_keras)", src, flags=re.M)
src = re.sub(r"^from tensorflow import keras$", "import keras", src, flags=re.M)
src = re.sub(r"\btensorflow\.keras\b", "keras", src)
exec(compile(src, sys.argv[1], "exec"), {"__name__": "__main__"})
models = made
held = {id(l) for m in models for l in m.layers}
last = [m for m in models if id(m) not in held][-1]
ids, names = {}, set()
plot_cases.collect_ids(last, ids)
plot_cases.collect_layer_names(last, names)
options = dict(show_shapes=True, show_dtype=True, show_layer_names=True, expand_nested=True,
               show_layer_activations=True, show_trainable=True)
keras_error = None
try:
    text = plot_cases.keras.utils.model_to_dot(last, **options).to_string()
except AttributeError as e:
    # Keras's expand_nested asks an unbuilt-at-construction Sequential for its
    # outputs and fails; draw without expand_nested then
    keras_error = str(e)
    options["expand_nested"] = False
    text = plot_cases.keras.utils.model_to_dot(last, **options).to_string()
flags = ["--" + k.replace("_", "-") for k, v in options.items() if v]
kept, internal_edges = plot_cases.split_internal_edges(plot_cases.renamed(text, ids), names)
with open(sys.argv[2], "w") as f:
    json.dump({"flags": flags, "dot": kept, "keras_internal_edges": internal_edges,
               "keras_error_with_expand_nested": keras_error}, f, indent=1, ensure_ascii=False)
"""


def main():
    only = None
    if "--only" in sys.argv:
        only = set(sys.argv[sys.argv.index("--only") + 1].split(","))
    os.makedirs(OUT, exist_ok=True)
    names = sorted(f[:-3] for f in os.listdir(CORPUS) if f.endswith(".py"))
    env = dict(os.environ)
    for name in names:
        if only and name not in only:
            continue
        with tempfile.TemporaryDirectory() as cwd:
            proc = subprocess.run(
                [sys.executable, "-c", RUNNER, os.path.join(CORPUS, name + ".py"),
                 os.path.join(OUT, name + ".dot.json"), os.path.dirname(os.path.abspath(__file__))],
                cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
            )
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr.decode()[-2000:])
            raise SystemExit(f"{name}: Keras failed on the script")
        with open(os.path.join(OUT, name + ".txt"), "wb") as f:
            f.write(proc.stdout)
        print(f"{name}: {len(proc.stdout)} bytes")
    versions = oracle_util.versions()
    oracle_util.write_json(os.path.join(OUT, "VERSIONS.json"), versions)


if __name__ == "__main__":
    main()
