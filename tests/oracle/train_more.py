"""More training-agreement goldens from real Keras 3 (JAX): data from CSV,
functional models with several inputs and outputs (losses per output, loss
weights, metrics per output and Keras's log names), regularizers, and
Maximum/Minimum gradients on ties.

Each case under tests/golden/train_more/<name>/ holds config.json, the initial
weights (weights.npz, get_weights() order, as np.savez names them), the data
(x0.npy.., y0.npy.., or data.csv), case.json with the compile/fit arguments
and Keras's per-epoch history and evaluate() logs. tests/test_train_more.c
and tests/cli/cases/train_more.sh read them.
Run: python3 tests/oracle/train_more.py
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle_util  # noqa: E402

oracle_util.setup()

import json  # noqa: E402

import jax  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden", "train_more")


def case_dir(name):
    """A fresh case directory, and a fresh Keras session so auto names
    ("functional", "dense_1") do not depend on the cases before this one."""
    keras.backend.clear_session()
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def save_model(d, model):
    with open(os.path.join(d, "config.json"), "w") as f:
        f.write(model.to_json())
    np.savez(os.path.join(d, "weights.npz"), *model.get_weights())


def fit_and_record(d, model, x, y, info, fit_kw, sample_weight=None):
    """fit with the sample weights, evaluate without (ckeras's evaluate takes none)."""
    hist = model.fit(x, y, shuffle=False, verbose=0, sample_weight=sample_weight, **fit_kw)
    ev = model.evaluate(x, y, batch_size=fit_kw["batch_size"], verbose=0, return_dict=True)
    info.update({
        "epochs": fit_kw["epochs"], "batch_size": fit_kw["batch_size"],
        "history": {k: [float(v) for v in vs] for k, vs in hist.history.items()},
        "evaluate": {k: float(v) for k, v in ev.items()},
    })
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump(info, f, indent=1)
    return info


def write_cli_expect(d, info):
    """The line `ckeras fit --verbose 2` ends with: the last epoch's logs, sorted."""
    h = info["history"]
    with open(os.path.join(d, "cli_expect.txt"), "w") as f:
        f.write("final" + "".join(" - %s: %.4f" % (k, h[k][-1]) for k in sorted(h)))


def csv_case():
    """fit on data.csv (header row, label column 'label'), as a user would load it."""
    d = case_dir("csv_classes")
    rng = np.random.default_rng(7)
    keras.utils.set_random_seed(7)
    n = 24
    x = rng.normal(size=(n, 4)).astype(np.float32)
    label = rng.integers(0, 3, n)
    header = "sepal length,sepal_width,label,petal,extra"  # the label sits between features
    table = np.column_stack([x[:, 0], x[:, 1], label, x[:, 2], x[:, 3]])
    np.savetxt(os.path.join(d, "data.csv"), table, delimiter=",", header=header, comments="",
               fmt=["%.9g", "%.9g", "%d", "%.9g", "%.9g"])
    # what the file holds, read back the way numpy reads it
    back = np.loadtxt(os.path.join(d, "data.csv"), delimiter=",", skiprows=1, dtype=np.float32)
    xs, ys = np.delete(back, 2, axis=1), back[:, 2]
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(6, activation="tanh"),
                              keras.layers.Dense(3, activation="softmax")])
    save_model(d, model)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    info = fit_and_record(d, model, xs, ys, {"optimizer": "Adam(learning_rate=0.01)",
                                             "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"],
                                             "label_column": "label"}, {"epochs": 3, "batch_size": 8})
    write_cli_expect(d, info)


def multi_case(name, seed, two_inputs, losses, loss_weights, metrics, opt, fit_kw):
    """A functional model with one or two inputs and two outputs ('reg', 'cls')."""
    d = case_dir(name)
    rng = np.random.default_rng(seed)
    keras.utils.set_random_seed(seed)
    n = 20
    ins = [keras.Input((3,), name="in_a")] + ([keras.Input((2,), name="in_b")] if two_inputs else [])
    h = keras.layers.Concatenate()(ins) if two_inputs else ins[0]
    h = keras.layers.Dense(5, activation="relu", name="hid")(h)
    outs = [keras.layers.Dense(2, name="reg")(h), keras.layers.Dense(3, activation="softmax", name="cls")(h)]
    model = keras.Model(ins, outs)
    xs = [rng.normal(size=(n, 3)).astype(np.float32)] + ([rng.normal(size=(n, 2)).astype(np.float32)]
                                                         if two_inputs else [])
    sparse = losses[-1].startswith("sparse")
    ys = [rng.normal(size=(n, 2)).astype(np.float32),
          rng.integers(0, 3, n).astype(np.float32) if sparse else
          np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)]]
    for i, a in enumerate(xs):
        np.save(os.path.join(d, "x%d.npy" % i), a)
    for i, a in enumerate(ys):
        np.save(os.path.join(d, "y%d.npy" % i), a)
    save_model(d, model)
    model.compile(optimizer=eval("keras.optimizers." + opt), loss=losses, loss_weights=loss_weights,
                  metrics=[[eval("keras.metrics." + x) if "(" in x else x for x in m] for m in metrics])
    info = fit_and_record(d, model, xs, ys, {"optimizer": opt, "losses": losses, "loss_weights": loss_weights,
                                      "metrics": [", ".join(m) for m in metrics] if metrics else None,
                                      "validation_split": fit_kw.get("validation_split", 0.0),
                                      "n_inputs": len(xs), "n_outputs": len(ys)}, fit_kw)
    write_cli_expect(d, info)


def reg_case(name, seed, layers, loss, metrics, opt, fit_kw, sample_weight=False, weighted_metrics=None):
    """A Sequential MLP whose layers carry kernel/bias/activity regularizers: the
    logged loss includes the penalties (weight ones, and activity ones divided by
    the batch size), in fit and in evaluate."""
    d = case_dir(name)
    rng = np.random.default_rng(seed)
    keras.utils.set_random_seed(seed)
    n = 20
    model = keras.Sequential([keras.Input((4,))] + layers)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)]
    np.save(os.path.join(d, "x0.npy"), x)
    np.save(os.path.join(d, "y0.npy"), y)
    sw = None
    if sample_weight:
        sw = rng.uniform(0, 2, n).astype(np.float32)
        np.save(os.path.join(d, "sw.npy"), sw)
    save_model(d, model)
    model.compile(optimizer=eval("keras.optimizers." + opt), loss=loss, metrics=metrics,
                  weighted_metrics=weighted_metrics)
    info = fit_and_record(d, model, x, y, {"optimizer": opt, "losses": [loss], "loss_weights": [1.0],
                                           "weighted_metrics": ", ".join(weighted_metrics or []) or None,
                                           "metrics": [", ".join(metrics)], "sample_weight": sample_weight,
                                           "validation_split": fit_kw.get("validation_split", 0.0),
                                           "n_inputs": 1, "n_outputs": 1}, fit_kw, sample_weight=sw)
    write_cli_expect(d, info)


def tie_case(name, seed, merge, n_branches):
    """Maximum/Minimum of Dense branches with identical weights: every element is
    a tie, where JAX gives each operand half the gradient, so the branches stay
    identical through training."""
    d = case_dir(name)
    rng = np.random.default_rng(seed)
    keras.utils.set_random_seed(seed)
    n = 16
    inp = keras.Input((4,))
    branches = [keras.layers.Dense(5, name="b%d" % i) for i in range(n_branches)]
    h = merge([b(inp) for b in branches])
    out = keras.layers.Dense(3, activation="softmax")(h)
    model = keras.Model(inp, out)
    for b in branches[1:]:
        b.set_weights(branches[0].get_weights())
    x = rng.normal(size=(n, 4)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)]
    np.save(os.path.join(d, "x0.npy"), x)
    np.save(os.path.join(d, "y0.npy"), y)
    save_model(d, model)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="categorical_crossentropy")
    fit_and_record(d, model, x, y, {"optimizer": "SGD(learning_rate=0.1)", "losses": ["categorical_crossentropy"],
                                    "loss_weights": [1.0], "metrics": [None], "validation_split": 0.0,
                                    "n_inputs": 1, "n_outputs": 1}, {"epochs": 3, "batch_size": 8})
    # the trained weights: the branches must still be equal, as Keras keeps them
    np.savez(os.path.join(d, "trained.npz"), *model.get_weights())


def main():
    csv_case()
    multi_case("multi_io", 11, True, ["mse", "sparse_categorical_crossentropy"], [1.0, 0.5],
               [["mae"], ["accuracy"]], "SGD(learning_rate=0.05)",
               {"epochs": 3, "batch_size": 4, "validation_split": 0.2})
    multi_case("multi_out_adam", 12, False, ["mae", "categorical_crossentropy"], [0.3, 2.0],
               [["mse", "mae"], ["accuracy", "AUC()"]], "Adam(learning_rate=0.01)", {"epochs": 2, "batch_size": 8})
    R = keras.regularizers
    reg_case("reg_l1_l2", 21, [
        keras.layers.Dense(8, activation="relu", kernel_regularizer=R.L2(0.01), bias_regularizer=R.L1(0.02),
                           activity_regularizer=R.L1L2(l1=0.01, l2=0.005)),
        keras.layers.Dense(3, activation="softmax", kernel_regularizer=R.L1L2(l1=0.001, l2=0.01))],
        "categorical_crossentropy", ["accuracy"], "Adam(learning_rate=0.01)",
        {"epochs": 3, "batch_size": 8, "validation_split": 0.25})
    reg_case("reg_strings_sgd", 22, [
        keras.layers.Dense(6, activation="tanh", kernel_regularizer="l2", activity_regularizer="l1"),
        keras.layers.Dense(3, activation="softmax", bias_regularizer="l1")],
        "categorical_crossentropy", ["accuracy"], "SGD(learning_rate=0.1, momentum=0.5)",
        {"epochs": 3, "batch_size": 6})
    reg_case("weighted_metrics", 23, [
        keras.layers.Dense(8, activation="relu", kernel_regularizer=R.L2(0.001)),
        keras.layers.Dense(3, activation="softmax")],
        "categorical_crossentropy", ["accuracy"], "Adam(learning_rate=0.02)",
        {"epochs": 3, "batch_size": 8}, sample_weight=True, weighted_metrics=["accuracy", "mse"])
    reg_case("reg_orthogonal", 24, [
        keras.layers.Dense(6, activation="relu", kernel_regularizer=R.OrthogonalRegularizer(factor=0.5)),
        keras.layers.Dense(3, activation="softmax",
                           kernel_regularizer=R.OrthogonalRegularizer(factor=0.2, mode="columns"))],
        "categorical_crossentropy", ["accuracy"], "SGD(learning_rate=0.1)", {"epochs": 3, "batch_size": 5})
    tie_case("max_ties", 31, keras.layers.Maximum(), 2)
    tie_case("min_ties3", 32, keras.layers.Minimum(), 3)
    with open(os.path.join(OUT, "VERSIONS.json"), "w") as f:
        json.dump({"keras": keras.__version__, "jax": jax.__version__,
                   "numpy": np.__version__, "backend": "jax"}, f, indent=1)


if __name__ == "__main__":
    main()
