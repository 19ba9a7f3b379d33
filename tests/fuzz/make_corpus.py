"""Writes the generated members of the fuzz regression corpus (tests/fuzz/corpus/):
decompression bombs that once cost gigabytes, and small valid seeds a reader
needs (a .weights.h5 for the fixed model of fuzz_weights_h5, an IDX file, a CSV).
The damaged HDF5 files beside them came from fuzzing and are kept as found.
Run from the repository root: KERAS_BACKEND=jax python3 tests/fuzz/make_corpus.py"""
import gzip
import io
import json
import struct
import zipfile

import numpy as np

C = "tests/fuzz/corpus"

CONFIG = {"module": "keras", "class_name": "Sequential", "config": {"name": "seq", "layers": [
    {"module": "keras.layers", "class_name": "InputLayer",
     "config": {"batch_shape": [None, 2], "dtype": "float32", "name": "input_layer"}},
    {"module": "keras.layers", "class_name": "Dense", "config": {"name": "dense", "units": 3}},
    {"module": "keras.layers", "class_name": "Dense", "config": {"name": "dense_1", "units": 2}}]}}


def bombs():
    # config.json of 80 MB (spaces inside the JSON): above config_max_bytes.
    with zipfile.ZipFile(f"{C}/keras/bomb_config_json.keras", "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("metadata.json", '{"keras_version": "3.15.1"}')
        z.writestr("config.json", json.dumps(CONFIG)[:-1] + " " * (80 << 20) + "}")
    # model.weights.h5 stating 20 MB for a model of 17 weights.
    with zipfile.ZipFile(f"{C}/keras/bomb_weights_member.keras", "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("metadata.json", '{"keras_version": "3.15.1"}')
        z.writestr("config.json", json.dumps(CONFIG))
        z.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n" + bytes(20 << 20))
    # An array whose header says 2 floats in a member stating 20 MB.
    b = io.BytesIO()
    np.save(b, np.zeros(2, np.float32))
    with zipfile.ZipFile(f"{C}/npz/bomb_member_beyond_header.npz", "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("x.npy", b.getvalue() + bytes(20 << 20))


def seeds():
    import keras
    m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3), keras.layers.Dense(2)], name="seq")
    m.save_weights(f"{C}/weights_h5/seed_dense_3_2.weights.h5")
    np.savez(f"{C}/npz/seed_dense_3_2.npz", *m.get_weights())
    np.save(f"{C}/npy/seed_f4.npy", np.arange(6, dtype=np.float32).reshape(2, 3))
    np.save(f"{C}/npy/seed_i8.npy", np.arange(4, dtype=np.int64))
    img = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    idx = struct.pack(">BBBB", 0, 0, 8, 3) + struct.pack(">III", 2, 3, 3) + img.tobytes()
    with open(f"{C}/idx/seed_images.idx", "wb") as f:
        f.write(idx)
    with open(f"{C}/idx/seed_images.idx.gz", "wb") as f:
        f.write(gzip.compress(idx))
    with open(f"{C}/csv/seed_label.csv", "w") as f:
        f.write("a,b,label\n1.5,2,0\n-3,4e-2,1\n")
    with open(f"{C}/kwargs/seed_dense.txt", "w") as f:
        f.write("units=3, activation='relu', use_bias=False, kernel_initializer='he_normal', input_shape=(2,)")
    with open(f"{C}/kwargs/seed_conv.txt", "w") as f:
        f.write("filters=4, kernel_size=(3, 3), strides=2, padding='same', dilation_rate=(1, 1), groups=1")


if __name__ == "__main__":
    bombs()
    seeds()
