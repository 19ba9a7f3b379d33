"""NaN and Inf through activations, pooling and the fused paths, as Keras 3 on
JAX computes them (issue 19): relu(NaN) = NaN, max with NaN = NaN, relu(-inf)
= 0. The activation cases come from ckeras's own table (act_names in
src/kernels/activations.c), so a new activation gets a case by being added
there. Each case writes tests/golden/nan/<case>/: model.keras, x.npy (values
with NaN, +inf and -inf among ordinary ones) and y.npy (Keras's predict);
cases.json lists them. The backward passes too: for a fixed finite cotangent
dy.npy, jax.vjp of the model's stateless_call (training=True, as fit runs it)
gives dx.npy and dw/<i>.npy (each trainable variable, in model.weights order):
jax.grad's relu at NaN, max pooling's choice among NaN ties, softmax at inf.
A case with BatchNormalization (whose batch statistics are NaN for all in
training) has no gradient files. Run: python3 tests/oracle/nan_cases.py"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
import oracle_util  # noqa: E402

oracle_util.setup()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
OUT = os.path.join(ROOT, "tests", "golden", "nan")
SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.5, -2.5, 30.0, -30.0, 1e-3, 7.0, -7.0]


def activation_names():
    src = open(os.path.join(ROOT, "src", "kernels", "activations.c")).read()
    table = src[src.index("act_names[]"):src.index("};", src.index("act_names[]"))]
    return re.findall(r'\{"([a-z_0-9]+)", CK_ACT_', table)


def image(shape, seed):
    """Ordinary values with NaN, +inf, -inf and a window of -inf placed in it."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape).astype("float32")
    flat = x.reshape(-1)
    flat[3], flat[17], flat[29] = np.nan, np.inf, -np.inf
    if len(shape) == 4:  # a whole 2x2 window of -inf in the first channel
        x[0, 4:6, 4:6, 0] = -np.inf
    return x


def cases():
    out = []
    row = np.array([SPECIAL], dtype="float32")
    for name in activation_names():
        out.append((f"act_{name}", lambda n=name: keras.Sequential([keras.Input((12,)), keras.layers.Activation(n)]), row))
    relus = {
        "relu_layer": {},
        "relu_max6": {"max_value": 6.0},
        "relu_slope": {"negative_slope": 0.1},
        "relu_threshold": {"threshold": 0.5},
        "relu_all": {"max_value": 1.0, "negative_slope": 0.2, "threshold": 0.1},
    }
    for case, kw in relus.items():
        out.append((case, lambda kw=kw: keras.Sequential([keras.Input((12,)), keras.layers.ReLU(**kw)]), row))
    out.append(("leaky_relu_layer", lambda: keras.Sequential([keras.Input((12,)), keras.layers.LeakyReLU(0.2)]), row))
    img = image((2, 8, 8, 3), 1)
    pools = {"MaxPooling2D": (2,), "AveragePooling2D": (2,), "GlobalMaxPooling2D": (), "GlobalAveragePooling2D": ()}
    for layer, args in pools.items():
        out.append((f"pool_{layer}", lambda c=layer, a=args: keras.Sequential(
            [keras.Input((8, 8, 3)), getattr(keras.layers, c)(*a)]), img))
    # The demo CNN's shape: a relu convolution (fused epilogue) and a max pooling behind it.
    out.append(("cnn_relu_pool", lambda: keras.Sequential([
        keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, activation="relu"), keras.layers.MaxPooling2D(),
        keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")]), img))
    wimg = image((1, 10, 10, 16), 2)
    out.append(("winograd_relu", lambda: keras.Sequential([
        keras.Input((10, 10, 16)), keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
        keras.layers.Conv2D(16, 3, padding="same"), keras.layers.BatchNormalization(), keras.layers.ReLU(),
        keras.layers.MaxPooling2D()]), wimg))
    out.append(("dense_relu", lambda: keras.Sequential([keras.Input((12,)), keras.layers.Dense(5, activation="relu"),
                                                       keras.layers.Dense(2)]), row))
    return out


def gradients(model, x, d):
    """Keras's backward pass on JAX: the input and weight cotangents of dy."""
    if any(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers):
        return False
    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]

    def forward(xv, tv):
        y, _ = model.stateless_call(tv, non_trainable, xv, training=True)
        return y

    y, vjp = jax.vjp(forward, jnp.asarray(x), trainable)
    # finite, of both signs, different in every position
    dy = (np.arange(y.size, dtype="float32").reshape(y.shape) % 7 - 3.0) / 4.0 + 0.125
    dx, dw = vjp(jnp.asarray(dy))
    np.save(os.path.join(d, "dy.npy"), dy.astype("float32"))
    np.save(os.path.join(d, "dx.npy"), np.asarray(dx, dtype="float32"))
    os.makedirs(os.path.join(d, "dw"), exist_ok=True)
    for i, g in enumerate(dw):
        np.save(os.path.join(d, "dw", f"{i}.npy"), np.asarray(g, dtype="float32"))
    return True


def main():
    oracle_util.reset_dir(OUT)
    names, grads = [], []
    for seed, (name, make, x) in enumerate(cases()):
        keras.backend.clear_session()
        keras.utils.set_random_seed(100 + seed)
        model = make()
        y = np.asarray(model.predict(x, verbose=0))
        d = os.path.join(OUT, name)
        os.makedirs(d, exist_ok=True)
        model.save(os.path.join(d, "model.keras"))
        np.save(os.path.join(d, "x.npy"), x)
        np.save(os.path.join(d, "y.npy"), y.astype("float32"))
        names.append(name)
        if gradients(model, x, d):
            grads.append(name)
    oracle_util.write_json(os.path.join(OUT, "cases.json"),
                           {"cases": names, "gradients": grads, "versions": oracle_util.versions()})
    print(f"wrote {len(names)} cases to {OUT}")


if __name__ == "__main__":
    main()
