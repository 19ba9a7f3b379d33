"""Training that resumes across files (issue 12): real Keras 3 trains a small model
2 epochs, saves it as .keras (weights, compile_config and optimizer variables),
then trains 1 more epoch.  ckeras must continue from that file to Keras's 3rd
epoch (test_resume), and a file ckeras trained 2 epochs from the untrained
start must let Keras continue the same way (check_written.py).

tests/golden/resume/<case>/:
  start.keras       compiled, untrained (Keras's optimizer not built yet)
  epoch2.keras      after 2 epochs (optimizer/vars hold Keras's state)
  x.npy, y.npy      the data (16 samples; batch 4, no shuffling); y0.npy, y1.npy
                    for the two-output cases
  opt_h5/<i>.npy    optimizer.variables of Keras's load_model(epoch2.h5)
  opt2/<i>.npy      optimizer.variables after epoch 2, in Keras's order
  w2/<k>.npy        get_weights() after epoch 2;  w3/<k>.npy after epoch 3
  case.json         optimizer, its compile() keywords (spec), batch_size, loss
                    per epoch (history of 3 epochs), outputs, and compile: the
                    losses, loss_weights, metrics and weighted metrics as
                    ckeras's compile takes them (one spec per output)
Cases: 4 basic ones, then every optimizer ckeras implements x {a learning-rate
schedule, a loss object with arguments, two outputs with loss_weights}.
  epoch2.h5         the same as a legacy .h5 (training_config, optimizer_weights)
  layout.json       the layouts of epoch2.keras's model.weights.h5 and epoch2.h5
Run from the repository root:  python3 tests/oracle/resume_cases.py
"""
import io
import json
import os
import sys
import zipfile

sys.path.insert(0, os.path.dirname(__file__))
import oracle_util  # noqa: E402

oracle_util.setup()

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import keras  # noqa: E402

from matrix_cases import h5_layout  # noqa: E402

ROOT = os.path.join("tests", "golden", "resume")

# One case per way Keras orders optimizer slots: a single slot, an interleaved
# pair (Adam's momentum/velocity), and separate groups (RMSprop's three).
# Each optimizer is also given as the same compile() keywords in Python syntax
# (case.json "spec"), which ckeras compiles to write its own compile_config.
BASIC = {
    "adam": "Adam(learning_rate=0.01)",
    "sgd_momentum": "SGD(learning_rate=0.05, momentum=0.9)",
    "rmsprop_centered": "RMSprop(learning_rate=0.01, momentum=0.5, centered=True)",
    "adamax": "Adamax(learning_rate=0.02)",
}

# Every optimizer class ckeras implements (src/train/optimizers.c k_class) ...
# hyper-parameters off their defaults, so that a compile_config read back with
# any of them lost trains otherwise ...
OPTIMIZERS = {
    "sgd": "SGD(momentum=0.9, nesterov=True, {lr})",
    "adam": "Adam(beta_1=0.8, epsilon=1e-05, {lr})",
    "adamw": "AdamW(weight_decay=0.01, beta_2=0.99, {lr})",
    "rmsprop": "RMSprop(momentum=0.5, rho=0.8, {lr})",
    "adagrad": "Adagrad(initial_accumulator_value=0.2, {lr})",
    "adadelta": "Adadelta(rho=0.9, {lr})",
    "adamax": "Adamax(beta_1=0.85, {lr})",
    "nadam": "Nadam(beta_2=0.99, {lr})",
    "lion": "Lion(beta_1=0.8, {lr})",
}
# ... each one with every learning-rate schedule ckeras runs, in turn ...
SCHEDULES = [
    "ExponentialDecay(initial_learning_rate=0.05, decay_steps=3, decay_rate=0.8)",
    "PiecewiseConstantDecay(boundaries=[5], values=[0.05, 0.01])",
    "CosineDecay(initial_learning_rate=0.05, decay_steps=20)",
    "InverseTimeDecay(initial_learning_rate=0.05, decay_steps=2, decay_rate=0.5)",
]
# ... and times the ways compile() records its loss: a loss object with
# arguments, and a two-output model with a list of losses, loss_weights,
# per-output metrics and weighted_metrics. "compile" holds the keywords as
# ckeras's compile takes them (one spec per output).
VARIANTS = {
    "schedule": {"losses": ["mean_squared_error"], "loss_weights": None, "metrics": None, "weighted": None},
    "loss_args": {"losses": ["CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)"], "loss_weights": None,
                  "metrics": ["accuracy"], "weighted": None},
    "multi": {"losses": ["mean_squared_error", "CategoricalCrossentropy(from_logits=True)"], "loss_weights": [0.5, 2.0],
              "metrics": ["mae", "accuracy"], "weighted": ["mse", ""]},
}


def table():
    """{case name: (optimizer spec, variant)}: the 4 basic cases, then every optimizer x variant."""
    cases = {name: (spec, "basic") for name, spec in BASIC.items()}
    # compile() given dicts keyed by output name, which Keras records as dicts
    cases["adam_multi_dict"] = ("Adam(learning_rate=0.02)", "multi_dict")
    for i, (opt, form) in enumerate(OPTIMIZERS.items()):
        for variant in VARIANTS:
            lr = f"learning_rate={SCHEDULES[i % len(SCHEDULES)]}" if variant == "schedule" else "learning_rate=0.02"
            cases[f"{opt}_{variant}"] = (form.format(lr=lr), variant)
    return cases


def dump(d, arrays):
    os.makedirs(d)
    for i, a in enumerate(arrays):
        np.save(os.path.join(d, f"{i}.npy"), np.asarray(a))


def make_optimizer(spec):
    names = {k: getattr(keras.optimizers.schedules, k) for k in dir(keras.optimizers.schedules) if k[0].isupper()}
    return eval("keras.optimizers." + spec, {"keras": keras, **names})


def make_loss(spec):
    return eval("keras.losses." + spec, {"keras": keras}) if "(" in spec else spec


def metric_list(text):
    return [t.strip() for t in text.split(",") if t.strip()]


def build(variant, seed):
    """The model, compile() keywords and data of a variant."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((16, 3)).astype("float32")
    c = VARIANTS.get(variant, {"losses": ["mean_squared_error"], "loss_weights": None, "metrics": None, "weighted": None})
    if variant == "multi_dict":
        c = dict(VARIANTS["multi"], dict=True)
    if variant.startswith("multi"):
        inp = keras.Input((3,))
        h = keras.layers.Dense(4, activation="tanh")(inp)
        model = keras.Model(inp, [keras.layers.Dense(2, name="reg")(h), keras.layers.Dense(3, name="cls")(h)])
        ys = [rng.standard_normal((16, 2)).astype("float32"), np.eye(3, dtype="float32")[rng.integers(0, 3, 16)]]
        kw = {"loss": [make_loss(s) for s in c["losses"]], "loss_weights": c["loss_weights"],
              "metrics": [metric_list(t) for t in c["metrics"]], "weighted_metrics": [metric_list(t) for t in c["weighted"]]}
        if c.get("dict"):
            kw = {k: dict(zip(["reg", "cls"], v)) for k, v in kw.items()}
        return model, kw, x, ys, c
    width = 3 if variant == "loss_args" else 2
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(width)])
    y = (np.eye(3, dtype="float32")[rng.integers(0, 3, 16)] if variant == "loss_args"
         else rng.standard_normal((16, 2)).astype("float32"))
    kw = {"loss": make_loss(c["losses"][0])}
    if c["metrics"]:
        kw["metrics"] = metric_list(c["metrics"][0])
    return model, kw, x, [y], c


def write_case(name, spec, variant, seed):
    out = os.path.join(ROOT, name)
    oracle_util.reset_dir(out)
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    model, kw, x, ys, c = build(variant, seed)
    model.compile(optimizer=make_optimizer(spec), **kw)
    np.save(os.path.join(out, "x.npy"), x)
    for i, y in enumerate(ys):
        np.save(os.path.join(out, "y.npy" if len(ys) == 1 else f"y{i}.npy"), y)
    y = ys[0] if len(ys) == 1 else ys
    model.save(os.path.join(out, "start.keras"))
    h2 = model.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    model.save(os.path.join(out, "epoch2.keras"))
    dump(os.path.join(out, "opt2"), [v.numpy() for v in model.optimizer.variables])
    dump(os.path.join(out, "w2"), model.get_weights())
    model.save(os.path.join(out, "epoch2.h5"))  # after the .keras: see tests/oracle/README.md
    h3 = model.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    dump(os.path.join(out, "w3"), model.get_weights())
    loss = [float(v) for v in h2.history["loss"] + h3.history["loss"]]
    # what Keras's load_model makes of the .h5: its optimizer's variables (built over none of the model's)
    keras.backend.clear_session()
    legacy = keras.saving.load_model(os.path.join(out, "epoch2.h5"))
    dump(os.path.join(out, "opt_h5"), [v.numpy() for v in legacy.optimizer.variables])
    oracle_util.write_json(os.path.join(out, "case.json"),
                           {"optimizer": type(model.optimizer).__name__, "spec": spec, "batch_size": 4, "loss": loss,
                            "outputs": len(ys), "compile": c})
    with zipfile.ZipFile(os.path.join(out, "epoch2.keras")) as z:
        with h5py.File(io.BytesIO(z.read("model.weights.h5")), "r") as f:
            keras_layout = h5_layout(f)
        with h5py.File(os.path.join(out, "epoch2.h5"), "r") as f:
            oracle_util.write_json(os.path.join(out, "layout.json"), {"model.keras": keras_layout, "model.h5": h5_layout(f)})
        cc = json.loads(z.read("config.json"))["compile_config"]
        assert cc.get("optimizer"), "Keras saved no optimizer in compile_config"


def main():
    os.makedirs(ROOT, exist_ok=True)
    cases = table()
    for i, (name, (spec, variant)) in enumerate(cases.items()):
        write_case(name, spec, variant, seed=100 + i)
        print("case", name, flush=True)
    oracle_util.write_case_list(ROOT, list(cases))


if __name__ == "__main__":
    main()
