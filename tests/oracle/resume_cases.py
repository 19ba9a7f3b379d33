"""Training that resumes across files (issue 12): real Keras 3 trains a small model
2 epochs, saves it as .keras (weights, compile_config and optimizer variables),
then trains 1 more epoch.  ckeras must continue from that file to Keras's 3rd
epoch (test_resume), and a file ckeras trained 2 epochs from the untrained
start must let Keras continue the same way (check_written.py).

tests/golden/resume/<case>/:
  start.keras       compiled, untrained (Keras's optimizer not built yet)
  epoch2.keras      after 2 epochs (optimizer/vars hold Keras's state)
  x.npy, y.npy      the data (16 samples; batch 4, no shuffling)
  opt2/<i>.npy      optimizer.variables after epoch 2, in Keras's order
  w2/<k>.npy        get_weights() after epoch 2;  w3/<k>.npy after epoch 3
  case.json         optimizer, its compile() keywords (spec), batch_size, loss
                    per epoch (history of 3 epochs)
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
CASES = {
    "adam": "Adam(learning_rate=0.01)",
    "sgd_momentum": "SGD(learning_rate=0.05, momentum=0.9)",
    "rmsprop_centered": "RMSprop(learning_rate=0.01, momentum=0.5, centered=True)",
    "adamax": "Adamax(learning_rate=0.02)",
}


def dump(d, arrays):
    os.makedirs(d)
    for i, a in enumerate(arrays):
        np.save(os.path.join(d, f"{i}.npy"), np.asarray(a))


def make_optimizer(spec):
    cls, args = spec.split("(", 1)
    return getattr(keras.optimizers, cls)(**eval("dict(" + args))


def write_case(name, spec, seed):
    out = os.path.join(ROOT, name)
    oracle_util.reset_dir(out)
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(2)])
    # the loss by its function name, the form ckeras writes back
    model.compile(optimizer=make_optimizer(spec), loss="mean_squared_error")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((16, 3)).astype("float32")
    y = rng.standard_normal((16, 2)).astype("float32")
    np.save(os.path.join(out, "x.npy"), x)
    np.save(os.path.join(out, "y.npy"), y)
    model.save(os.path.join(out, "start.keras"))
    h2 = model.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    model.save(os.path.join(out, "epoch2.keras"))
    dump(os.path.join(out, "opt2"), [v.numpy() for v in model.optimizer.variables])
    dump(os.path.join(out, "w2"), model.get_weights())
    model.save(os.path.join(out, "epoch2.h5"))  # after the .keras: see tests/oracle/README.md
    h3 = model.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    dump(os.path.join(out, "w3"), model.get_weights())
    loss = [float(v) for v in h2.history["loss"] + h3.history["loss"]]
    oracle_util.write_json(os.path.join(out, "case.json"),
                           {"optimizer": type(model.optimizer).__name__, "spec": spec, "batch_size": 4, "loss": loss})
    with zipfile.ZipFile(os.path.join(out, "epoch2.keras")) as z:
        with h5py.File(io.BytesIO(z.read("model.weights.h5")), "r") as f:
            keras_layout = h5_layout(f)
        with h5py.File(os.path.join(out, "epoch2.h5"), "r") as f:
            oracle_util.write_json(os.path.join(out, "layout.json"), {"model.keras": keras_layout, "model.h5": h5_layout(f)})
        cc = json.loads(z.read("config.json"))["compile_config"]
        assert cc.get("optimizer"), "Keras saved no optimizer in compile_config"


def main():
    os.makedirs(ROOT, exist_ok=True)
    for i, (name, spec) in enumerate(CASES.items()):
        write_case(name, spec, seed=100 + i)
        print("case", name, flush=True)
    oracle_util.write_case_list(ROOT, list(CASES))


if __name__ == "__main__":
    main()
