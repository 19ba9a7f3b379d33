"""Checks that real Keras 3 loads what ckeras writes, with identical weights and
predictions.  Not part of the C test suite (which never runs Python); run it by
hand after building:

    python3 tests/oracle/check_written.py [build/ckeras]

For every oracle case in tests/golden/files/ (written by files_cases.py), the
ckeras CLI converts the Keras-written model.keras and model.h5 to .keras, legacy
.h5 and .weights.h5 in a temporary folder (Keras -> C); Keras then loads each
file (the weights file into a model rebuilt from config.json) and must give
get_weights() equal to the weights/<i>.npy dumps and predictions equal to y.npy
(C -> Keras).  Keras then saves what it loaded again as .keras and .h5, and the
ckeras CLI must read those back with the same weights (`ckeras weights --format
npz`) and predictions (`ckeras predict`): Keras -> C -> Keras -> C.

Then the matrix (tests/golden/matrix/, every layer class, from matrix_cases.py):
ckeras converts each case's Keras-written model.keras to .keras, .h5 and
.weights.h5, and Keras must load each with get_weights() equal to Keras's own
and predictions within 1e-5 of y<j>.npy.

Then mixed precision (tests/golden/mixed/, from mixed_cases.py): ckeras converts
each mixed_float16 / mixed_bfloat16 / float16 case to .keras, .h5 and .weights.h5,
and Keras must load each with every layer's dtype policy as it wrote it and
predict as it did (y<j>.npy); and `ckeras fit` trains each compiled mixed model
2 epochs, after which Keras's 1 more equals Keras's own 3rd epoch (for
mixed_float16 Keras must find its LossScaleOptimizer with the inner state and
loss scale ckeras wrote, and load ckeras's .h5 of it as its own trained.h5).

Then training resumption (tests/golden/resume/, from resume_cases.py): `ckeras
fit` trains Keras's untrained start.keras 2 epochs and saves it; Keras loads that
file with its compile config and optimizer state, trains 1 more epoch, and must
reach Keras's own 3-epoch weights within 1e-4.  TF.js is
checked the same way by check_tfjs_written.py (TF.js tooling lives in its own
venv).  Prints one line per file and exits non-zero on any difference.
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import oracle_util  # noqa: E402

oracle_util.setup()

import numpy as np  # noqa: E402
import keras  # noqa: E402

ROOT = os.path.join("tests", "golden", "files")
CASES = ["seq_mlp", "seq_activation", "func_merge", "nested_func", "nested_seq"]


def expected(case_dir):
    n = len(glob.glob(os.path.join(case_dir, "weights", "*.npy")))
    ws = [np.load(os.path.join(case_dir, "weights", f"{i}.npy")) for i in range(n)]
    xs = [np.load(p) for p in sorted(glob.glob(os.path.join(case_dir, "x*.npy")))]
    return ws, xs, np.load(os.path.join(case_dir, "y.npy"))


def compare(model, ws, xs, y):
    got = model.get_weights()
    if len(got) != len(ws) or any(g.shape != w.shape or not np.array_equal(g, w) for g, w in zip(got, ws)):
        return "weights differ"
    pred = np.asarray(model.predict(xs if len(xs) > 1 else xs[0], verbose=0))
    err = float(np.max(np.abs(pred - y)))
    return None if err <= 1e-6 else f"predictions differ by {err}"


def c_reads(cli, path, ws, xs, y, tmp):
    """The ckeras CLI reads a Keras-written file: weights (npz) and predictions."""
    npz = os.path.join(tmp, "w.npz")
    subprocess.run([cli, "weights", path, "--format", "npz", "--output", npz], check=True, stdout=subprocess.DEVNULL)
    with np.load(npz) as z:
        got = [z[k] for k in z.files]  # the file's own storage order, named by its paths
    # Storage order is not get_weights() order (HDF5 sorts names): match each
    # expected array to a stored one; predict below checks they sit in place.
    for w in ws:
        hit = next((i for i, g in enumerate(got) if g.shape == w.shape and np.array_equal(g, w)), None)
        if hit is None:
            return "ckeras reads different weights"
        got.pop(hit)
    if got:
        return f"ckeras reads {len(got)} extra weights"
    if len(xs) > 1:
        return None  # the predict CLI check below is for one input
    x, out = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")
    np.save(x, xs[0])
    subprocess.run([cli, "predict", path, "--input", x, "--output", out], check=True, stdout=subprocess.DEVNULL)
    err = float(np.max(np.abs(np.load(out) - y)))
    return None if err <= 1e-5 else f"ckeras predictions differ by {err}"


def keras_loads(d, out, ext):
    if ext == "weights.h5":
        model = keras.models.model_from_json(open(os.path.join(d, "config.json")).read())
        model.load_weights(out)
        return model
    return keras.saving.load_model(out, compile=False)


MATRIX = os.path.join("tests", "golden", "matrix")


def matrix_expected(d):
    n = len(glob.glob(os.path.join(d, "weights", "*.npy")))
    ws = [np.load(os.path.join(d, "weights", f"{i}.npy")) for i in range(n)]
    xs = [np.load(os.path.join(d, f"x{i}.npy")) for i in range(len(glob.glob(os.path.join(d, "x*.npy"))))]
    ys = [np.load(os.path.join(d, f"y{j}.npy")) for j in range(len(glob.glob(os.path.join(d, "y*.npy"))))]
    return ws, xs, ys


def predictions(model, xs):
    """The model's outputs for the golden inputs, as a list (dict inputs and
    outputs by name order)."""
    feed = xs[0] if len(xs) == 1 else xs
    if isinstance(getattr(model, "_inputs_struct", None), dict):
        feed = {t.name: x for t, x in zip(model.inputs, xs)}
    pred = model.predict(feed, verbose=0)
    if isinstance(pred, dict):
        pred = list(pred.values())
    if not isinstance(pred, (list, tuple)):
        pred = [pred]
    return [np.asarray(p) for p in pred]


def relative_error(pred, ys):
    return max(float(np.max(np.abs(p - y) / np.maximum(1.0, np.abs(y)))) for p, y in zip(pred, ys))


def matrix_compare(model, ws, xs, ys):
    got = model.get_weights()
    if len(got) != len(ws) or any(g.shape != w.shape or not np.array_equal(g, w) for g, w in zip(got, ws)):
        return "weights differ"
    pred = predictions(model, xs)
    if len(pred) != len(ys):
        return f"{len(pred)} outputs, Keras wrote {len(ys)}"
    err = relative_error(pred, ys)
    return None if err <= 1e-5 else f"predictions differ by {err}"


def check_matrix(cli, tmp):
    """Every matrix case, written by ckeras in every format, read by Keras."""
    cases = open(os.path.join(MATRIX, "CASES")).read().split()
    failures, passed, refused = 0, 0, []
    for case in cases:
        d = os.path.join(MATRIX, case)
        ws, xs, ys = matrix_expected(d)
        for ext in ("keras", "h5", "weights.h5"):
            out = os.path.join(tmp, f"{case}.{ext}")
            try:
                subprocess.run([cli, "convert", os.path.join(d, "model.keras"), out], check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                keras.backend.clear_session()
                problem = matrix_compare(keras_loads(d, out, ext), ws, xs, ys)
            except subprocess.CalledProcessError as e:
                problem = "ckeras convert: " + e.stderr.decode().strip()[:300]
            except Exception as e:  # Keras refused the file
                problem = f"{type(e).__name__}: {str(e)[:300]}"
                own = keras_refuses_own(d, ext)
                if own and type(e).__name__ == own:
                    print(f"matrix {case} -> .{ext}: Keras cannot load its own .{ext} of this model either ({own})")
                    refused.append(f"{case}.{ext}")
                    continue
            print(f"matrix {case} -> .{ext}: {problem or 'ok'}", flush=True)
            failures += problem is not None
            passed += problem is None
    print(f"matrix: {passed} of {passed + failures} files ckeras wrote load in Keras as Keras wrote them;"
          f" Keras cannot load its own file for {', '.join(refused) or 'none'}")
    return failures


def keras_refuses_own(d, ext):
    """The exception class name when Keras cannot load the file it wrote itself."""
    try:
        keras.backend.clear_session()
        keras_loads(d, os.path.join(d, "model." + ext), ext)
        return None
    except Exception as e:
        return type(e).__name__


MIXED = os.path.join("tests", "golden", "mixed")


def policies_of(model):
    """Every layer's dtype policy name, nested models and wrapped layers included."""
    return [(l.name, l.dtype_policy.name) for l in matrix_layers(model)]


def matrix_layers(model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from matrix_layers(layer)
        for attr in ("layer", "forward_layer", "backward_layer"):
            if isinstance(getattr(layer, attr, None), keras.layers.Layer):
                yield getattr(layer, attr)


def check_mixed(cli, tmp, only=None):
    """Mixed precision (tests/golden/mixed/, from mixed_cases.py): ckeras converts
    each Keras-written model.keras to .keras, .h5 and .weights.h5; Keras loads each
    with every layer's dtype policy as in its own file, get_weights() equal to
    Keras's, and Keras's predictions from it equal to those it made (y<j>.npy), or
    to those it makes from its own file where that differs.
    Where Keras refuses the file, and also refuses its own file of that format (the
    case's own where the oracle wrote one, else the same model in float32, the
    matrix case), that is Keras's limit: a bfloat16 layer's legacy .h5, whose
    untagged opaque datasets Keras's legacy reader cannot take."""
    failures, passed, refused = 0, 0, []
    for case in open(os.path.join(MIXED, "CASES")).read().split():
        if only and case not in only:
            continue
        d = os.path.join(MIXED, case)
        keras.backend.clear_session()
        own = keras.saving.load_model(os.path.join(d, "model.keras"), compile=False)
        want_policies, ws = policies_of(own), own.get_weights()
        _, xs, ys = matrix_expected(d)
        # Keras's own file is the reference: where it does not reproduce the
        # predictions of the model it was saved from (SpatialDropout's
        # hand-written get_config keeps only the variable dtype, "float32", so
        # the reloaded layer no longer computes in float16), what ckeras writes
        # must load as Keras's own file does.
        own_ys = predictions(own, xs)
        if len(own_ys) == len(ys) and relative_error(own_ys, ys) > 1e-5:
            print(f"mixed {case}: Keras's own model.keras predicts {relative_error(own_ys, ys):.2g} away from the"
                  " model it saved; compared with Keras's own file")
            ys = own_ys
        for ext in ("keras", "h5", "weights.h5"):
            out = os.path.join(tmp, f"{case}.{ext}")
            try:
                subprocess.run([cli, "convert", os.path.join(d, "model.keras"), out], check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                keras.backend.clear_session()
                model = keras_loads(d, out, ext)
                got = policies_of(model)
                problem = None if got == want_policies else f"dtype policies {got}, Keras's file {want_policies}"
                problem = problem or matrix_compare(model, ws, xs, ys)
            except subprocess.CalledProcessError as e:
                problem = "ckeras convert: " + e.stderr.decode().strip()[:300]
            except Exception as e:  # Keras refused the file
                problem = f"{type(e).__name__}: {str(e)[:300]}"
                # Keras's own file of this case (the float16 / bfloat16 layer cases
                # have all three), else of the same model in float32
                own_file = os.path.exists(os.path.join(d, "model." + ext))
                same = d if own_file else os.path.join(MATRIX, case.split("__", 1)[-1])
                if os.path.isdir(same) and keras_refuses_own(same, ext) == type(e).__name__:
                    print(f"mixed {case} -> .{ext}: Keras cannot load its own .{ext} of this model either")
                    refused.append(f"{case}.{ext}")
                    continue
            print(f"mixed {case} -> .{ext}: {problem or 'ok'}", flush=True)
            failures += problem is not None
            passed += problem is None
    print(f"mixed: {passed} of {passed + failures} files ckeras wrote load in Keras with Keras's policies;"
          f" Keras cannot load its own file for {', '.join(refused) or 'none'}")
    return failures + (0 if only else check_mixed_resume(cli, tmp))


def load_under(path, policy):
    """load_model under the global dtype policy `policy`. For mixed_float16 it
    must be: a loaded model's dtype_policy is the global one, so only then does
    compile_from_config wrap the optimizer in the LossScaleOptimizer the file's
    optimizer variables belong to (trainer.py compile); under float32 Keras 3.15.1
    compiles a bare Adam and skips the saved optimizer variables (14 of them for
    its 10), its own file's as ckeras's (same_as_own_keras)."""
    if policy != "mixed_float16":
        return keras.saving.load_model(path)
    keras.mixed_precision.set_global_policy(policy)
    try:
        return keras.saving.load_model(path)
    finally:
        keras.mixed_precision.set_global_policy("float32")


def same_as_own_keras(path, own, x, y, batch_size, tol):
    """Under the float32 global policy Keras resumes ckeras's mixed_float16 file
    as it resumes its own trained.keras (a fresh Adam in both)."""
    losses = []
    for p in (path, own):
        keras.backend.clear_session()
        h = keras.saving.load_model(p).fit(x, y, epochs=1, batch_size=batch_size, shuffle=False, verbose=0)
        losses.append(h.history["loss"][0])
    if abs(losses[0] - losses[1]) > tol * max(1.0, abs(losses[1])):
        return f"loaded under float32, Keras's 3rd epoch from ckeras's file {losses[0]}, from its own {losses[1]}"
    return None


def loss_scale_state(model, path, d):
    """Keras's load of the mixed_float16 .keras ckeras trained: Adam inside a
    LossScaleOptimizer (Trainer.compile), whose inner variables hold what ckeras
    wrote in optimizer/inner_optimizer/vars and whose step_counter and
    dynamic_scale are Keras's own after the same 2 epochs (layout.json)."""
    import h5py
    import io
    import zipfile
    opt = model.optimizer
    if not isinstance(opt, keras.optimizers.LossScaleOptimizer):
        return f"Keras's optimizer is {type(opt).__name__}, not a LossScaleOptimizer"
    with zipfile.ZipFile(path) as z, h5py.File(io.BytesIO(z.read("model.weights.h5")), "r") as f:
        g = f["optimizer/inner_optimizer/vars"]
        written = [np.asarray(g[str(i)]) for i in range(len(g))]
    inner = [np.asarray(v) for v in opt.inner_optimizer.variables]
    if len(inner) != len(written) or any(a.shape != b.shape or not np.array_equal(a, b) for a, b in zip(inner, written)):
        return "Keras's inner optimizer does not hold the state ckeras wrote"
    want = json.load(open(os.path.join(d, "layout.json")))["scalars"]["trained.keras"]
    got = {"optimizer/vars/2": int(np.asarray(opt.step_counter)), "optimizer/vars/3": float(np.asarray(opt.dynamic_scale))}
    if any(got[k] != want[k] for k in got):
        return f"Keras's step_counter and dynamic_scale are {list(got.values())}, after its own 2 epochs" \
               f" {[want[k] for k in got]}"
    return None


def same_loss_scale_h5(h5, own):
    """Keras's load_model of ckeras's mixed_float16 .h5 equals its load of its own
    trained.h5: a LossScaleOptimizer with the same compile config and optimizer
    variables (Keras 3.15 restores no optimizer state from a legacy .h5, so both
    hold fresh ones; see same_legacy_load)."""
    keras.backend.clear_session()
    ours = keras.saving.load_model(h5)
    keras.backend.clear_session()
    theirs = keras.saving.load_model(own)
    if not isinstance(ours.optimizer, keras.optimizers.LossScaleOptimizer):
        return f".h5: Keras's optimizer is {type(ours.optimizer).__name__}, not a LossScaleOptimizer"
    if json.dumps(ours.optimizer.get_config(), sort_keys=True) != json.dumps(theirs.optimizer.get_config(), sort_keys=True):
        return ".h5: Keras's LossScaleOptimizer is configured otherwise than from its own file"
    a, b = [np.asarray(v) for v in ours.optimizer.variables], [np.asarray(v) for v in theirs.optimizer.variables]
    if len(a) != len(b) or any(u.shape != v.shape or not np.array_equal(u, v) for u, v in zip(a, b)):
        return ".h5: Keras restores other optimizer variables from ckeras's file than from its own"
    return None


def check_mixed_resume(cli, tmp):
    """ckeras trains Keras's compiled mixed-precision start.keras 2 epochs and saves
    it; Keras loads it (the optimizer state ckeras wrote) and trains 1 more epoch:
    its loss must be Keras's own 3rd (within test_mixed.c's TOL_TRAIN_*)."""
    failures = 0
    for case, tol in (("mixed_float16", 5e-4), ("mixed_float16_growth", 5e-4), ("mixed_bfloat16", 3e-3)):
        policy = "mixed_float16" if case.startswith("mixed_float16") else case
        d = os.path.join(MIXED, f"train_{case}")
        info = json.load(open(os.path.join(d, "case.json")))
        out = os.path.join(tmp, f"train_{case}.keras")
        x, y = np.load(os.path.join(d, "x.npy")), np.load(os.path.join(d, "y.npy"))
        try:
            subprocess.run([cli, "fit", os.path.join(d, "start.keras"), "--x", os.path.join(d, "x.npy"), "--y",
                            os.path.join(d, "y.npy"), "--epochs", "2", "--batch-size", str(info["batch_size"]),
                            "--no-shuffle", "--verbose", "0", "--save", out], check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
            keras.backend.clear_session()
            model = load_under(out, policy)
            problem = loss_scale_state(model, out, d) if policy == "mixed_float16" else None
            h = model.fit(x, y, epochs=1, batch_size=info["batch_size"], shuffle=False, verbose=0)
            got, want = h.history["loss"][0], info["loss"][2]
            if problem is None and abs(got - want) > tol * max(1.0, abs(want)):
                problem = f"3rd epoch loss {got}, Keras {want}"
            if problem is None and policy == "mixed_float16":
                problem = same_as_own_keras(out, os.path.join(d, "trained.keras"), x, y, info["batch_size"], tol)
            if problem is None and policy == "mixed_float16":
                h5 = os.path.join(tmp, f"train_{case}.h5")
                subprocess.run([cli, "convert", out, h5], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                problem = same_loss_scale_h5(h5, os.path.join(d, "trained.h5"))
        except subprocess.CalledProcessError as e:
            problem = "ckeras fit: " + e.stderr.decode().strip()[:300]
        except Exception as e:
            problem = f"{type(e).__name__}: {str(e)[:300]}"
        print(f"mixed resume {case}: ckeras 2 epochs + Keras 1: {problem or 'ok'}", flush=True)
        failures += problem is not None
    return failures


RESUME = os.path.join("tests", "golden", "resume")


def resume_data(d, case):
    x = np.load(os.path.join(d, "x.npy"))
    ys = ([os.path.join(d, "y.npy")] if case.get("outputs", 1) == 1
          else [os.path.join(d, f"y{i}.npy") for i in range(case["outputs"])])
    return x, ys


def option_args(case):
    """The case's compile() as ckeras fit options; None where the options cannot say it (an empty metric list)."""
    c = case.get("compile") or {"losses": ["mse"], "loss_weights": None, "metrics": None, "weighted": None}
    if any(t == "" for t in (c["metrics"] or []) + (c["weighted"] or [])):
        return None
    args = ["--optimizer", case["spec"]]
    for loss in c["losses"]:
        args += ["--loss", loss]
    if c["loss_weights"]:
        args += ["--loss-weights", ",".join(str(w) for w in c["loss_weights"])]
    for m in c["metrics"] or []:
        args += ["--metrics", m]
    for m in c["weighted"] or []:
        args += ["--weighted-metrics", m]
    return args


def continue_in_keras(d, case, out):
    """Keras loads ckeras's 2-epoch .keras, trains epoch 3: loss and weights against its own 3 epochs."""
    x, ys = resume_data(d, case)
    y = [np.load(p) for p in ys]
    w3 = [np.load(os.path.join(d, "w3", f"{k}.npy")) for k in range(len(glob.glob(os.path.join(d, "w3", "*.npy"))))]
    keras.backend.clear_session()
    model = keras.saving.load_model(out)
    h = model.fit(x, y[0] if len(y) == 1 else y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    err = max(float(np.max(np.abs(g - w))) for g, w in zip(model.get_weights(), w3))
    loss, want = float(h.history["loss"][0]), case["loss"][2]
    if err > 1e-4:
        return f"weights after Keras's epoch 3 differ by {err}"
    if abs(loss - want) > 1e-4 * max(1.0, abs(want)):
        return f"Keras's epoch 3 loss {loss}, uninterrupted {want}"
    return None


def same_legacy_load(d, h5):
    """Keras's load_model of ckeras's .h5 equals its load of its own epoch2.h5: the
    compile config and the optimizer variables it restores (Keras 3.15 builds the
    optimizer over no variables there and cannot fit it, see README)."""
    keras.backend.clear_session()
    ours = keras.saving.load_model(h5)
    keras.backend.clear_session()
    theirs = keras.saving.load_model(os.path.join(d, "epoch2.h5"))
    if json.dumps(ours.get_compile_config(), sort_keys=True) != json.dumps(theirs.get_compile_config(), sort_keys=True):
        return "Keras compiles ckeras's .h5 otherwise than its own"
    a, b = [v.numpy() for v in ours.optimizer.variables], [v.numpy() for v in theirs.optimizer.variables]
    if len(a) != len(b) or any(u.shape != v.shape or not np.allclose(u, v, atol=1e-6) for u, v in zip(a, b)):
        return "Keras restores other optimizer variables from ckeras's .h5 than from its own"
    return None


def check_resume(cli, tmp):
    """ckeras 2 epochs, saved as .keras (and .h5), then Keras 1 epoch == Keras 3 epochs."""
    failures = 0
    for name in open(os.path.join(RESUME, "CASES")).read().split():
        d = os.path.join(RESUME, name)
        case = json.load(open(os.path.join(d, "case.json")))
        _, ys = resume_data(d, case)
        # the file's compile config, or the same compile() given as options (ckeras's own compile_config)
        for how, compile_args in (("file", []), ("options", option_args(case))):
            if compile_args is None:
                continue
            out = os.path.join(tmp, f"{name}_epoch2.keras")
            try:
                cmd = [cli, "fit", os.path.join(d, "start.keras"), "--x", os.path.join(d, "x.npy")]
                for y in ys:
                    cmd += ["--y", y]
                subprocess.run(cmd + ["--epochs", "2", "--batch-size", "4", "--no-shuffle", "--verbose", "0",
                                      "--save", out] + compile_args,
                               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                problem = continue_in_keras(d, case, out)
                # the same state as a legacy .h5 (ckeras convert)
                h5 = os.path.join(tmp, f"{name}_epoch2.h5")
                subprocess.run([cli, "convert", out, h5], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                problem = problem or same_legacy_load(d, h5)
                # and convert .keras -> .keras keeps the compile config and optimizer state
                again = os.path.join(tmp, f"{name}_again.keras")
                subprocess.run([cli, "convert", out, again], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                problem = problem or (continue_in_keras(d, case, again) and "after convert .keras -> .keras: " +
                                      continue_in_keras(d, case, again))
                # Keras's own 2-epoch .h5 converted by ckeras to .keras: Keras continues with the slots
                # (from its .h5 alone it cannot, see README)
                if how == "file":
                    from_h5 = os.path.join(tmp, f"{name}_from_h5.keras")
                    subprocess.run([cli, "convert", os.path.join(d, "epoch2.h5"), from_h5], check=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                    moved = continue_in_keras(d, case, from_h5)
                    problem = problem or (moved and "Keras's .h5 converted to .keras: " + moved)
            except subprocess.CalledProcessError as e:
                problem = "ckeras: " + e.stderr.decode().strip()[:300]
            except Exception as e:
                problem = f"{type(e).__name__}: {str(e)[:300]}"
            print(f"resume {name} (compiled from the {how}): ckeras 2 epochs + Keras 1: {problem or 'ok'}", flush=True)
            failures += problem is not None
    return failures


def main():
    cli = sys.argv[1] if len(sys.argv) > 1 else os.path.join("build", "ckeras")
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        if "--mixed-only" in sys.argv:  # one part, while working on it
            sys.exit(1 if check_mixed(cli, tmp, set(sys.argv[sys.argv.index("--mixed-only") + 1:])) else 0)
        failures += check_resume(cli, tmp)
        failures += check_matrix(cli, tmp)
        failures += check_mixed(cli, tmp)
        for case in CASES:
            d = os.path.join(ROOT, case)
            ws, xs, y = expected(d)
            for src in ("model.keras", "model.h5"):
                for ext in ("keras", "h5", "weights.h5"):
                    out = os.path.join(tmp, f"{case}.{ext}")
                    subprocess.run([cli, "convert", os.path.join(d, src), out], check=True, stdout=subprocess.DEVNULL)
                    try:
                        model = keras_loads(d, out, ext)
                        problem = compare(model, ws, xs, y)
                        for again in ("keras", "h5"):
                            if problem:
                                break
                            resaved = os.path.join(tmp, f"resaved.{again}")
                            model.save(resaved)
                            problem = c_reads(cli, resaved, ws, xs, y, tmp)
                            problem = problem and f"Keras re-saved as .{again}: {problem}"
                    except Exception as e:  # Keras (or the ckeras CLI) refused the file
                        problem = f"{type(e).__name__}: {str(e)[:300]}"
                    print(f"{case}/{src} -> .{ext}: {problem or 'ok'}")
                    failures += problem is not None
    print("check_written:", "all ok" if not failures else f"{failures} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
