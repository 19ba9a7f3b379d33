"""Checks that the real TensorFlow.js tooling loads the model.json + shards that
ckeras writes, with identical weights and predictions.  Not part of the C test
suite (which never runs Python); run it by hand after building, with the
TensorFlow venv described in tf2_cases.py:

    /opt/ckeras-tf2/bin/python tests/oracle/check_tfjs_written.py [build/ckeras]
    /opt/ckeras-tf2/bin/python tests/oracle/check_tfjs_written.py --matrix [build/ckeras]

--matrix (run by .ci/run): every case of the file matrix (tests/golden/matrix),
written by ckeras as a TF.js folder and read by tensorflowjs's reader.

Sources: every tf.keras 2.15 case in tests/golden/tf2/ (its model.keras and
model.h5) and every Keras 3 case in tests/golden/files/ (its model.keras).  The
ckeras CLI converts each to model.json in a temporary folder;
tensorflowjs.converters.load_keras_model (the converter's own TF.js reader,
which rebuilds the model in tf.keras and matches the weights by name) loads it,
and its get_weights() must equal the weights/<i>.npy dumps and its predictions
y.npy.  Also converts the TF.js files that the tensorflowjs converter wrote
(tests/golden/tf2/<case>/tfjs) back to TF.js through ckeras.  Prints one line
per file and exits non-zero on any difference.
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# TensorFlow runs channels_first pooling on CPU only through oneDNN, which it
# enables by default on Intel CPUs alone: on others max_pooling2d_channels_first
# would fail with "Default MaxPoolingOp only supports NHWC on device type CPU".
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflowjs as tfjs  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from matrix_tfjs_cases import load_npys  # noqa: E402


def expected(case_dir):
    n = len(glob.glob(os.path.join(case_dir, "weights", "*.npy")))
    ws = [np.load(os.path.join(case_dir, "weights", f"{i}.npy")) for i in range(n)]
    xs = [np.load(p) for p in sorted(glob.glob(os.path.join(case_dir, "x*.npy")))]
    return ws, xs, np.load(os.path.join(case_dir, "y.npy"))


def compare(model, ws, xs, y):
    got = model.get_weights()
    if len(got) != len(ws):
        return f"{len(got)} weights, expected {len(ws)}"
    for i, (g, w) in enumerate(zip(got, ws)):
        if g.shape != w.shape or not np.array_equal(g, w):
            return f"weight {i} differs"
    pred = np.asarray(model.predict(xs if len(xs) > 1 else xs[0], verbose=0))
    err = float(np.max(np.abs(pred - y)))
    return None if err <= 1e-5 else f"predictions differ by {err}"


def sources():
    for d in sorted(glob.glob(os.path.join("tests", "golden", "tf2", "*", ""))):
        for f in ("model.keras", "model.h5", os.path.join("tfjs", "model.json")):
            yield d, f
    for d in sorted(glob.glob(os.path.join("tests", "golden", "files", "*", ""))):
        # a case without y.npy (subclassed: a model ckeras cannot build) has nothing to compare
        if os.path.exists(os.path.join(d, "model.keras")) and os.path.exists(os.path.join(d, "y.npy")):
            yield d, "model.keras"


def matrix_case(cli, d, tmp):
    """ckeras writes the case's Keras 3 model.keras as a TF.js folder; tensorflowjs's
    reader loads it; weights and predictions against Keras 3's."""
    subprocess.run([cli, "convert", os.path.join(d, "model.keras"), tmp + "/"], check=True, stdout=subprocess.DEVNULL)
    tf.keras.backend.clear_session()
    model = tfjs.converters.load_keras_model(os.path.join(tmp, "model.json"))
    ws, xs, ys = load_npys(os.path.join(d, "weights"), ""), load_npys(d, "x"), load_npys(d, "y")
    got = model.get_weights()
    if [w.shape for w in got] != [w.shape for w in ws] or not all(np.array_equal(g, w) for g, w in zip(got, ws)):
        return "weights differ from Keras 3's"
    pred = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
    pred = pred if isinstance(pred, (list, tuple)) else [pred]
    if len(pred) != len(ys):
        return f"{len(pred)} outputs, Keras 3 {len(ys)}"
    err = max(float(np.max(np.abs(np.asarray(p) - y))) for p, y in zip(pred, ys))
    return None if err <= 1e-5 else f"predictions differ by {err}"


def check_matrix(cli):
    """--matrix: every case of tests/golden/matrix.  A case tf.keras 2.15 cannot
    express (tfjs.json, written by matrix_tfjs_cases.py) is tried too, but its
    refusal is reported with the reason, not counted as a failure."""
    root = os.path.join("tests", "golden", "matrix")
    with open(os.path.join(root, "CASES")) as f:
        cases = [ln.strip() for ln in f if ln.strip()]
    failures = passed = 0
    for name in cases:
        d = os.path.join(root, name)
        with open(os.path.join(d, "tfjs.json")) as f:
            why = json.load(f)["tf_keras"]
        with tempfile.TemporaryDirectory() as tmp:
            try:
                problem = matrix_case(cli, d, os.path.join(tmp, "web"))
            except Exception as e:  # the TF.js reader refused the file
                problem = f"{type(e).__name__}: {' '.join(str(e).split())[-300:]}"
        if problem and why != "ok":
            print(f"{name}: not expressible in tf.keras 2.15 ({why[:120]}); reader: {problem[:120]}")
            continue
        print(f"{name} -> TF.js -> tensorflowjs: {problem or 'ok'}")
        failures += problem is not None
        passed += problem is None
    print(f"check_tfjs_written --matrix: {passed} of {len(cases)} cases read by tensorflowjs as Keras wrote them,",
          "all ok" if not failures else f"{failures} failures")
    return failures


def main():
    cli = sys.argv[1] if len(sys.argv) > 1 else os.path.join("build", "ckeras")
    if "--matrix" in sys.argv:
        sys.argv.remove("--matrix")
        cli = sys.argv[1] if len(sys.argv) > 1 else os.path.join("build", "ckeras")
        sys.exit(1 if check_matrix(cli) else 0)
    failures = 0
    for d, f in sources():
        ws, xs, y = expected(d)
        name = os.path.join(os.path.basename(os.path.dirname(d)), f)
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "model.json")
            subprocess.run([cli, "convert", os.path.join(d, f), out], check=True, stdout=subprocess.DEVNULL)
            try:
                tf.keras.backend.clear_session()
                model = tfjs.converters.load_keras_model(out)
                problem = compare(model, ws, xs, y)
            except Exception as e:  # the TF.js reader refused the file
                problem = f"{type(e).__name__}: {str(e)[-300:]}"
        print(f"{name} -> model.json: {problem or 'ok'}")
        failures += problem is not None
    print("check_tfjs_written:", "all ok" if not failures else f"{failures} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
