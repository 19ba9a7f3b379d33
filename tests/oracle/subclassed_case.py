"""Oracle for a subclassed Keras 3 model (issue 6): its .keras config.json names
a class ckeras cannot build, but its model.weights.h5 is ordinary, so
`ckeras weights` must still list every stored weight with its path and shape
and the total.  Keras 3 writes tests/golden/files/subclassed/model.keras and
h5py (reading that same model.weights.h5) the expected listing weights.json:
[{"path", "shape"}] in storage order, and the total.

Run from the repository root:  python3 tests/oracle/subclassed_case.py
"""
import io
import os
import sys
import zipfile

sys.path.insert(0, os.path.dirname(__file__))
import oracle_util  # noqa: E402

oracle_util.setup()

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = os.path.join("tests", "golden", "files", "subclassed")


@keras.saving.register_keras_serializable(package="ckeras_oracle")
class TwoTower(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.left = keras.layers.Dense(3, name="left")
        self.right = keras.layers.Dense(2, name="right")
        self.norm = keras.layers.BatchNormalization(name="norm")

    def call(self, x):
        return self.norm(self.right(self.left(x)))


def main():
    oracle_util.reset_dir(OUT)
    model = TwoTower(name="two_tower")
    model(np.zeros((1, 4), "float32"))
    path = os.path.join(OUT, "model.keras")
    model.save(path)
    listing = []
    with zipfile.ZipFile(path) as z, h5py.File(io.BytesIO(z.read("model.weights.h5")), "r") as f:
        f.visititems(lambda name, obj: listing.append({"path": name, "shape": list(obj.shape)})
                     if isinstance(obj, h5py.Dataset) else None)
    total = int(sum(int(np.prod(e["shape"])) for e in listing))
    oracle_util.write_json(os.path.join(OUT, "weights.json"), {"weights": listing, "total": total,
                                                               "keras_count": int(model.count_params())})
    oracle_util.write_json(os.path.join(OUT, "VERSIONS.json"), oracle_util.versions())


if __name__ == "__main__":
    main()
