"""Keras 3 learning-rate schedules and LearningRateScheduler, for
tests/test_schedules.c: each schedule of the table (ExponentialDecay,
InverseTimeDecay, PiecewiseConstantDecay, CosineDecay with and without
warmup) evaluated at steps 0..STEPS, and the per-epoch "learning_rate" that
History records when fit() runs with LearningRateScheduler(lambda epoch:
float(schedule(epoch))) -- what ckeras's LearningRateScheduler(Schedule(...))
spelling means.

Writes tests/golden/schedules/cases.json. Run: python3 tests/oracle/schedule_cases.py
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle_util  # noqa: E402

oracle_util.setup()

import json  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden", "schedules")
STEPS = 24
EPOCHS = 6
SPECS = [
    "ExponentialDecay(initial_learning_rate=0.1, decay_steps=3, decay_rate=0.5)",
    "ExponentialDecay(initial_learning_rate=0.1, decay_steps=3, decay_rate=0.5, staircase=True)",
    "InverseTimeDecay(initial_learning_rate=0.2, decay_steps=2, decay_rate=0.7)",
    "InverseTimeDecay(initial_learning_rate=0.2, decay_steps=2, decay_rate=0.7, staircase=True)",
    "PiecewiseConstantDecay(boundaries=[2, 5, 9], values=[0.1, 0.05, 0.02, 0.005])",
    "CosineDecay(initial_learning_rate=0.1, decay_steps=10)",
    "CosineDecay(initial_learning_rate=0.1, decay_steps=10, alpha=0.2)",
    "CosineDecay(initial_learning_rate=0.0, decay_steps=12, warmup_target=0.1, warmup_steps=5)",
    "CosineDecay(initial_learning_rate=0.01, decay_steps=8, alpha=0.1, warmup_target=0.2, warmup_steps=4)",
]


def schedule(spec):
    ns = {name: getattr(keras.optimizers.schedules, name) for name in
          ("ExponentialDecay", "InverseTimeDecay", "PiecewiseConstantDecay", "CosineDecay")}
    return eval(spec, ns)


def history_lr(spec):
    """The learning_rate History logs per epoch under LearningRateScheduler."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(3)
    sched = schedule(spec)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.zeros((4, 2), np.float32)
    y = np.zeros((4, 1), np.float32)
    cb = keras.callbacks.LearningRateScheduler(lambda epoch: float(sched(epoch)))
    h = model.fit(x, y, epochs=EPOCHS, batch_size=4, verbose=0, callbacks=[cb])
    return [float(v) for v in h.history["learning_rate"]]


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    cases = []
    for spec in SPECS:
        sched = schedule(spec)
        cases.append({"spec": spec, "values": [float(sched(step)) for step in range(STEPS + 1)],
                      "fit_learning_rate": history_lr(spec)})
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"keras_version": keras.__version__, "epochs": EPOCHS, "cases": cases}, f, indent=1)
    print("wrote %d schedules to %s" % (len(cases), OUT))


if __name__ == "__main__":
    main()
