"""Mixed precision (issue 12, item 5): every model of the file-format matrix
(matrix_cases.py, which covers every layer class of ckeras's table) built by
real Keras 3 under keras.mixed_precision.set_global_policy(policy), for
policy in mixed_float16 and mixed_bfloat16, plus layers with plain float16 /
bfloat16 dtypes in a float32 model.  Under a mixed policy Keras keeps float32
variables but casts each layer's float inputs and autocast variables to the
compute dtype and computes in it (Layer.__call__, DTypePolicy.convert_input);
JAX on CPU rounds each operation's result to float16 / bfloat16.

For each case tests/golden/mixed/<policy>__<case>/ holds:
  model.keras        Keras's save (config with the DTypePolicy objects, weights)
  config.json        model.to_json()
  model.h5           the legacy .h5 as well, for a few cases (H5_CASES)
  x<i>.npy, y<j>.npy two samples in, Keras's predictions out (as float32)
  summary.txt        model.summary() (bytes per parameter of each variable dtype)
  case.json          {"policy", "case", "classes": the ckeras classes covered}
  layout.json        for the plain float16 / bfloat16 cases only: model.h5 and
                     model.weights.h5 too, and matrix_cases.layouts() of the three
                     files (dataset dtypes: float16, h5py's opaque bfloat16)
train_<policy>/ holds a compiled model before and after 2 epochs of fit()
and the losses of 3 (train_case); for mixed_float16 (Adam in Keras's
LossScaleOptimizer) also trained.h5 and layout.json: the layouts of trained.keras
and trained.h5, the values of their scalar optimizer datasets, the
compile_config, get_compile_config() of load_model(trained.h5) (trained_layouts)
and the step_counter and dynamic_scale after the 3rd epoch.  refused.json lists the (policy, case) pairs Keras itself cannot build or run,
with its message.  round_x.npy holds random float32 values (ties, overflow,
subnormals among them), round_float16.npy and round_bfloat16.npy their casts
(numpy / ml_dtypes) and back, for ckeras's rounding.

Run from the repository root (needs build/ckeras for the class table):
    python3 tests/oracle/mixed_cases.py [--train-only | --plain-only | --cases NAME,NAME]
"""
import io
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import oracle_util  # noqa: E402

oracle_util.setup()

import h5py  # noqa: E402
import ml_dtypes  # noqa: E402
import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers as L  # noqa: E402

import matrix_cases as mc  # noqa: E402

ROOT = os.path.join("tests", "golden", "mixed")
POLICIES = ["mixed_float16", "mixed_bfloat16"]
H5_CASES = {"dense", "conv2d", "lstm", "batch_normalization", "mha"}

# Plain float16 / bfloat16 layers (variables and compute in that dtype) inside a
# float32 model, built under the float32 global policy.
PLAIN = {
    "dense_float16": lambda: mc.seq((5,), L.Dense(4, activation="tanh", dtype="float16"), L.Dense(2)),
    "dense_bfloat16": lambda: mc.seq((5,), L.Dense(4, activation="relu", dtype="bfloat16"), L.Dense(2)),
    "conv_float16_out_float32": lambda: mc.seq((5, 5, 2), L.Conv2D(3, 3, dtype="mixed_float16"),
                                               L.Flatten(dtype="mixed_float16"),
                                               L.Dense(2, activation="softmax", dtype="float32")),
}


# Models as Keras's mixed precision guide writes them, beyond the matrix: a
# float32 layer last (its input is then the previous half layer's result
# before XLA rounds it), and a normalization between half layers.
MIXED_EXTRA = {
    "guide_float32_softmax": lambda: mc.seq((6,), L.Dense(8, activation="relu"), L.Dense(4),
                                            L.Activation("softmax", dtype="float32")),
    "guide_float32_dense": lambda: mc.seq((6,), L.Dense(8, activation="tanh"), L.Dense(3, dtype="float32")),
    "guide_conv_norm": lambda: mc.seq((6, 6, 2), L.Conv2D(4, 3, activation="relu"), L.BatchNormalization(),
                                      L.LayerNormalization(), L.GlobalAveragePooling2D(),
                                      L.Dense(3, activation="softmax", dtype="float32")),
    "guide_lstm_dense": lambda: mc.seq((5, 3), L.LSTM(6, return_sequences=True), L.LSTM(4),
                                       L.Dense(2, dtype="float32")),
}


class Refused(Exception):
    """Keras cannot build or run the case under the policy: its message, and the
    ckeras classes the case would have covered."""
    def __init__(self, error, classes):
        super().__init__(error)
        self.error, self.classes = error, classes


def write_case(name, policy, build, table, layout=False):
    keras.backend.clear_session()
    keras.mixed_precision.set_global_policy(policy)
    seed = mc.zlib.crc32((policy + name).encode()) % 100000
    keras.utils.set_random_seed(seed)
    model = None
    try:
        model = build()
        mc.seeded_weights(model, seed)
        xs = mc.inputs_for(model, seed)
        ys = predictions(model, xs)
    except Exception as e:
        if model is None:
            keras.mixed_precision.set_global_policy("float32")
            model = build()
        raise Refused(f"{type(e).__name__}: {str(e)[:300]}", mc.classes_of(model, table))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    out = os.path.join(ROOT, f"{policy}__{name}")
    oracle_util.reset_dir(out)
    model.save(os.path.join(out, "model.keras"))
    with open(os.path.join(out, "config.json"), "w") as f:
        f.write(model.to_json())
    if name in H5_CASES or layout:
        model.save(os.path.join(out, "model.h5"))
    if layout:
        model.save_weights(os.path.join(out, "model.weights.h5"))
        oracle_util.write_json(os.path.join(out, "layout.json"), mc.layouts(out))
    # What Keras computes from its own file is the reference for a reader of it;
    # it differs from the model in memory where Keras writes a layer's dtype
    # as the variable dtype only (SpatialDropout's hand-written get_config:
    # "float32" under a mixed policy), so the loaded layer computes in float32.
    loaded_ys = predictions(keras.saving.load_model(os.path.join(out, "model.keras")), xs)
    differs = any(not np.array_equal(np.asarray(a, np.float32), np.asarray(b, np.float32), equal_nan=True)
                  for a, b in zip(ys, loaded_ys))
    ys = loaded_ys
    for i, x in enumerate(xs):
        np.save(os.path.join(out, f"x{i}.npy"), x)
    for j, y in enumerate(ys):
        np.save(os.path.join(out, f"y{j}.npy"), np.asarray(y).astype(np.float32))
    oracle_util.write_text(os.path.join(out, "summary.txt"), oracle_util.capture_summary(model, {})[0])
    classes = mc.classes_of(model, table)
    case = {"policy": policy, "case": name, "classes": classes}
    if differs:
        case["loaded_differs"] = "Keras's in-memory model predicts otherwise; y is what its file computes"
    oracle_util.write_json(os.path.join(out, "case.json"), case)
    return classes


def predictions(model, xs):
    """model.predict on the case's inputs, as a list of outputs."""
    ys = model.predict(xs[0] if len(xs) == 1 else xs, verbose=0)
    if isinstance(ys, dict):
        ys = list(ys.values())
    return list(ys) if isinstance(ys, (list, tuple)) else [ys]


def rounding_table():
    rng = np.random.default_rng(7)
    x = np.concatenate([
        rng.standard_normal(4000).astype(np.float32) * np.float32(10.0) ** rng.integers(-9, 6, 4000),
        np.array([65504, 65519.99, 65520, 70000, -65520, 6.1e-5, 6.0e-5, 3e-8, 2.98e-8, 5.96e-8, 1e-9, 0.0, -0.0,
                  np.inf, -np.inf, 3.4e38, -3.4e38, 1.0 + 2.0 ** -11, 1.0 + 3 * 2.0 ** -11, 1.0 + 2.0 ** -8,
                  1.0 + 3 * 2.0 ** -8, 1e-40], dtype=np.float32),
        # exact ties of both halves
        (rng.integers(1 << 10, 1 << 11, 500) * 2 + 1).astype(np.float32) * np.float32(2.0 ** -12),
        (rng.integers(1 << 7, 1 << 8, 500) * 2 + 1).astype(np.float32) * np.float32(2.0 ** -9),
    ]).astype(np.float32)
    with np.errstate(over="ignore"):
        f16 = x.astype(np.float16).astype(np.float32)
    bf16 = x.astype(ml_dtypes.bfloat16).astype(np.float32)
    for name, a in (("x", x), ("float16", f16), ("bfloat16", bf16)):
        np.save(os.path.join(ROOT, f"round_{name}.npy"), a)


def trained_layouts(out):
    """Keras's layout of trained.keras (its model.weights.h5) and trained.h5
    (matrix_cases.h5_layout), with the values of their scalar optimizer datasets
    (the LossScaleOptimizer's step_counter and dynamic_scale among them), the
    compile_config of trained.keras and that of the model load_model makes of
    trained.h5."""
    def scalars(group):
        res = {}
        group.visititems(lambda n, o: res.update({f"{group.name.lstrip('/')}/{n}": o[()].item()})
                         if isinstance(o, h5py.Dataset) and o.shape == () else None)
        return res
    with mc.zipfile.ZipFile(os.path.join(out, "trained.keras")) as z:
        members = z.namelist()
        compile_config = json.loads(z.read("config.json"))["compile_config"]
        with h5py.File(io.BytesIO(z.read("model.weights.h5")), "r") as f:
            keras_layout, keras_scalars = mc.h5_layout(f), scalars(f["optimizer"])
    with h5py.File(os.path.join(out, "trained.h5"), "r") as f:
        h5_layout, h5_scalars = mc.h5_layout(f), scalars(f["optimizer_weights"])
    # load_model of the .h5 compiles the LossScaleOptimizer of its training_config
    h5_compile_config = keras.saving.load_model(os.path.join(out, "trained.h5")).get_compile_config()
    return {"keras_members": members, "trained.keras": keras_layout, "trained.h5": h5_layout,
            "compile_config": compile_config, "h5_compile_config": h5_compile_config,
            "scalars": {"trained.keras": keras_scalars, "trained.h5": h5_scalars}}


def train_case(policy, suffix="", optimizer=lambda: keras.optimizers.Adam(0.01)):
    """A small compiled model under the policy (mixed_float16: Keras wraps Adam in
    a LossScaleOptimizer), saved before training (start.keras) and after 2
    epochs (trained.keras), and the history of 3 uninterrupted epochs and
    evaluate() after 2. train_mixed_float16_growth compiles an explicit
    LossScaleOptimizer(Adam, initial_scale=1024, dynamic_growth_steps=3): its
    4 steps double the scale once (step_counter 0, 1, 2, then 0 and 2048, 1)."""
    keras.backend.clear_session()
    keras.mixed_precision.set_global_policy(policy)
    keras.utils.set_random_seed(11)
    try:
        model = keras.Sequential([keras.Input((4,)), L.Dense(8, activation="relu"), L.Dense(3),
                                  L.Activation("softmax", dtype="float32")])
        model.compile(optimizer=optimizer(), loss="categorical_crossentropy", metrics=["accuracy"])
        rng = np.random.default_rng(12)
        x = rng.standard_normal((16, 4)).astype("float32")
        y = np.eye(3, dtype="float32")[rng.integers(0, 3, 16)]
        out = os.path.join(ROOT, f"train_{policy}{suffix}")
        oracle_util.reset_dir(out)
        np.save(os.path.join(out, "x.npy"), x)
        np.save(os.path.join(out, "y.npy"), y)
        model.save(os.path.join(out, "start.keras"))
        h = model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
        model.save(os.path.join(out, "trained.keras"))
        layouts = None
        if policy == "mixed_float16":
            model.save(os.path.join(out, "trained.h5"))
            layouts = trained_layouts(out)
        loss, accuracy = model.evaluate(x, y, verbose=0)
        h3 = model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
        if layouts is not None:  # the loss scale after the 3rd epoch's 2 steps
            layouts["after_epoch3"] = {"step_counter": int(np.asarray(model.optimizer.step_counter)),
                                       "dynamic_scale": float(np.asarray(model.optimizer.dynamic_scale))}
            oracle_util.write_json(os.path.join(out, "layout.json"), layouts)
        oracle_util.write_json(os.path.join(out, "case.json"), {
            "optimizer": type(model.optimizer).__name__, "epochs": 2, "batch_size": 8,
            "loss": h.history["loss"] + h3.history["loss"], "evaluate": {"loss": loss, "accuracy": accuracy}})
    finally:
        keras.mixed_precision.set_global_policy("float32")


def plain_cases(table):
    for name, build in PLAIN.items():
        write_case(name, "float32", build, table, layout=True)
        yield f"float32__{name}"


def main():
    os.makedirs(ROOT, exist_ok=True)
    if "--plain-only" in sys.argv:  # the float16 / bfloat16 layer cases alone (CASES unchanged)
        list(plain_cases(mc.class_table(sys.argv)))
        return
    if "--cases" in sys.argv:  # these matrix cases alone, under both policies (CASES unchanged)
        table = mc.class_table(sys.argv)
        names = sys.argv[sys.argv.index("--cases") + 1].split(",")
        for name in names:
            for policy in POLICIES:
                write_case(name, policy, {**mc.CASES, **MIXED_EXTRA}[name], table)
        with open(os.path.join(ROOT, "CASES")) as f:  # new names join the index
            index = f.read().split()
        index += [f"{p}__{n}" for p in POLICIES for n in names if f"{p}__{n}" not in index]
        oracle_util.write_case_list(ROOT, index)
        return
    for policy in POLICIES:
        train_case(policy)
    train_case("mixed_float16", "_growth", lambda: keras.optimizers.LossScaleOptimizer(
        keras.optimizers.Adam(0.01), initial_scale=1024.0, dynamic_growth_steps=3))
    if "--train-only" in sys.argv:
        return
    table = mc.class_table(sys.argv)
    rounding_table()
    index, refused, covered = [], [], {p: set() for p in POLICIES}
    for policy in POLICIES:
        for name, build in {**mc.CASES, **MIXED_EXTRA}.items():
            try:
                covered[policy] |= set(write_case(name, policy, build, table))
            except Refused as e:  # Keras itself cannot build or run the model under this policy
                refused.append({"policy": policy, "case": name, "error": e.error, "classes": e.classes})
                print("refused by Keras:", policy, name, e.error, flush=True)
                continue
            index.append(f"{policy}__{name}")
            print("case", policy, name, flush=True)
    index += plain_cases(table)
    oracle_util.write_json(os.path.join(ROOT, "refused.json"), refused)
    oracle_util.write_case_list(ROOT, index)
    for policy in POLICIES:
        missing = [c for c in table if c not in covered[policy]]
        print(f"{policy}: {len(covered[policy])} of {len(table)} classes covered; without a case: "
              f"{', '.join(missing) or 'none'}")


if __name__ == "__main__":
    main()
