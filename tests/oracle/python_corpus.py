"""Goldens for `ckeras run`: every Keras model script in tests/data/python/ run by
real Keras 3, each in a fresh Python process (Keras's name counters start from
zero, as in `python script.py`) with stdout on a pipe and no COLUMNS, in an empty
working directory (plot_model and save write there). What the script prints --
summaries, counts, weight shapes -- is written to tests/golden/python/<name>.txt,
byte for byte; a script Keras fails on is an error of the corpus.

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
import re, sys, types
src = open(sys.argv[1]).read()
src = re.sub(r"^import tensorflow as (\w+)$",
             r"import keras as _keras; \1 = __import__('types').SimpleNamespace(keras=_keras)", src, flags=re.M)
src = re.sub(r"^from tensorflow import keras$", "import keras", src, flags=re.M)
src = re.sub(r"\btensorflow\.keras\b", "keras", src)
exec(compile(src, sys.argv[1], "exec"), {"__name__": "__main__"})
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
                [sys.executable, "-c", RUNNER, os.path.join(CORPUS, name + ".py")],
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
