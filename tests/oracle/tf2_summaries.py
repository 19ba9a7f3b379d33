"""Keras 3 summaries of the tf.keras 2.15 files in tests/golden/tf2/ (written by
tf2_cases.py in the TensorFlow venv): real Keras 3 loads each case's legacy
model.h5 and its summary() text becomes summary.txt, which ckeras must print
for every file of the case (model.keras, model.h5, tfjs/model.json).

Run from the repository root, with the Keras 3 interpreter (not the venv):
    python3 tests/oracle/tf2_summaries.py
"""
import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import oracle_util  # noqa: E402

oracle_util.setup()

import keras  # noqa: E402

ROOT = os.path.join("tests", "golden", "tf2")


def drop_time_major(v):
    """tf.keras RNNs write time_major=False, which Keras 3's RNNs refuse."""
    if isinstance(v, dict):
        v.pop("time_major", None)
        for e in v.values():
            drop_time_major(e)
    elif isinstance(v, list):
        for e in v:
            drop_time_major(e)


def load(path):
    """Keras 3's load_model; for files it refuses only for tf.keras's time_major
    argument, the same config without it (Keras 3's own from_config)."""
    try:
        return keras.saving.load_model(path, compile=False)
    except ValueError as e:
        if "time_major" not in str(e):
            raise
    import h5py

    with h5py.File(path, "r") as f:
        config = json.loads(f.attrs["model_config"])
    drop_time_major(config)
    from keras.src.legacy.saving import saving_utils

    return saving_utils.model_from_config(config)


def main():
    for d in sorted(glob.glob(os.path.join(ROOT, "*", "model.h5"))):
        case = os.path.dirname(d)
        try:
            model = load(d)
            text, _ = oracle_util.capture_summary(model, {})
            oracle_util.write_text(os.path.join(case, "summary.txt"), text)
            print("summary", case)
        except Exception as e:  # a file Keras 3 cannot open: say so, skip it
            print("summary", case, "skipped:", type(e).__name__, str(e)[:200])
    oracle_util.write_json(os.path.join(ROOT, "VERSIONS_keras3.json"), oracle_util.versions())


if __name__ == "__main__":
    main()
