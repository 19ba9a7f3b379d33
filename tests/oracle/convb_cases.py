#!/usr/bin/env python3
"""Goldens for the convolutional family's forwards (branch convb), from real Keras 3
(JAX backend): one-layer cases for the normalization and preprocessing layers'
options that tests/oracle/conv_cases.py does not cover, and Keras Applications'
predictions on a fixed batch.

Run from anywhere:  python3 tests/oracle/convb_cases.py [--only a,b] [--no-apps] [--apps-only]
Writes tests/golden/convb/<case>/ (layout of tests/golden/core, see
tests/oracle/README.md; weights/<i>.npy also for int weights such as
Normalization's count) and tests/golden/apps_predict/<App>/:
  config.json   model.to_json() of the app built small (32x32 input, 10 classes)
  weights_q.npy every weight of model.get_weights(), flattened and concatenated,
                as uint8 q; the weight is (q - 128) * scale
  weights.json  [{"shape": [...], "scale": s}] per weight, in get_weights() order
  x.npy, y.npy  a fixed batch and Keras's predictions (logits, no softmax)
The app weights start as Keras's own initial values (BatchNormalization
statistics perturbed so they matter), are rounded to 8 bits so they can be
stored compactly, and are set back into the Keras model before it predicts: the
goldens are Keras's predictions with exactly the stored weights.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle_util as ou  # noqa: E402

ou.setup()

import argparse  # noqa: E402

import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers as L  # noqa: E402
from keras.src.applications import convnext, densenet, efficientnet, nasnet  # noqa: E402
from keras.src.applications.convnext import LayerScale  # noqa: E402

import core_models as cm  # noqa: E402
import conv_cases as cc  # noqa: E402  (randomize)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(REPO, "tests", "golden", "convb")
APPS_OUT = os.path.join(REPO, "tests", "golden", "apps_predict")
SUMMARIES = [{}]

CASES = []


def one(name, seed, in_shape, make, fit=None):
    """Input(in_shape) -> make() as a Sequential, seeded random weights; `fit(layer,
    rng)` adapts a preprocessing layer instead (weights saved whatever their dtype)."""
    stash = {}

    def fn():
        layer = make()
        m = keras.Sequential([keras.Input(in_shape), layer])
        if fit:
            fit(layer, np.random.default_rng(30_000 + seed))
        else:
            cc.randomize(m, seed)
        stash["model"] = m
        return {"model": m, "save_weights": False}

    assert name not in [c["name"] for c in CASES], name
    CASES.append({"name": name, "seed": seed, "description": name, "summaries": list(SUMMARIES), "fn": fn,
                  "stash": stash})


def adapt(layer, rng):
    layer.adapt(rng.standard_normal((16,) + tuple(layer.input.shape[1:])).astype(np.float32) * 2.0 + 0.5)


# ---- Resizing: every interpolation Keras's JAX backend has, both directions
one("resizing_nearest_down", 200, (5, 7, 2), lambda: L.Resizing(3, 4, interpolation="nearest"))
one("resizing_nearest_up", 201, (3, 4, 2), lambda: L.Resizing(7, 9, interpolation="nearest"))
one("resizing_bilinear_down", 202, (8, 9, 2), lambda: L.Resizing(3, 4))
one("resizing_bilinear_antialias", 203, (8, 9, 2), lambda: L.Resizing(3, 5, antialias=True))
one("resizing_bicubic_up", 204, (4, 5, 2), lambda: L.Resizing(7, 8, interpolation="bicubic"))
one("resizing_bicubic_down", 205, (9, 8, 2), lambda: L.Resizing(4, 3, interpolation="bicubic"))
one("resizing_lanczos3", 206, (5, 6, 2), lambda: L.Resizing(8, 4, interpolation="lanczos3"))
one("resizing_lanczos5", 207, (6, 5, 2), lambda: L.Resizing(4, 9, interpolation="lanczos5"))
one("resizing_crop_aspect", 208, (6, 10, 2), lambda: L.Resizing(4, 4, crop_to_aspect_ratio=True))
one("resizing_crop_aspect_tall", 209, (11, 5, 2), lambda: L.Resizing(3, 4, crop_to_aspect_ratio=True))
one("resizing_pad_aspect", 210, (6, 10, 2), lambda: L.Resizing(4, 4, pad_to_aspect_ratio=True, fill_value=0.5))
one("resizing_pad_aspect_wide", 211, (10, 6, 2), lambda: L.Resizing(5, 4, pad_to_aspect_ratio=True))
one("resizing_same_size", 212, (4, 5, 2), lambda: L.Resizing(4, 5, interpolation="bicubic"))
# ---- CenterCrop smaller than the target: smart_resize
one("centercrop_upscale", 213, (3, 5, 2), lambda: L.CenterCrop(4, 4))
one("centercrop_mixed", 214, (6, 3, 2), lambda: L.CenterCrop(4, 4))
# ---- normalization options
one("layernorm_axes12", 215, (3, 4, 5), lambda: L.LayerNormalization(axis=[1, 2]))
one("layernorm_axis1", 216, (4, 5), lambda: L.LayerNormalization(axis=1, epsilon=0.01))
one("layernorm_middle_axis", 217, (3, 4, 5), lambda: L.LayerNormalization(axis=1))
one("layernorm_plain", 218, (6,), lambda: L.LayerNormalization(center=False, scale=False))
one("layernorm_rms_axes", 219, (3, 4, 5), lambda: L.LayerNormalization(axis=[-2, -1], rms_scaling=True))
one("groupnorm_axis1", 220, (6, 4, 3), lambda: L.GroupNormalization(groups=2, axis=1))
one("groupnorm_rank2", 221, (8,), lambda: L.GroupNormalization(groups=4, center=False))
one("groupnorm_instance", 222, (3, 3, 4), lambda: L.GroupNormalization(groups=4, scale=False, epsilon=0.1))
one("unitnorm_axes", 223, (3, 4, 5), lambda: L.UnitNormalization(axis=[1, 2]))
one("unitnorm_axis1", 224, (3, 4), lambda: L.UnitNormalization(axis=1))
# ---- Rescaling, Normalization
one("rescaling_per_channel", 225, (4, 4, 3), lambda: L.Rescaling([1.0, 2.0, 0.5], offset=[0.1, -0.2, 0.3]))
one("normalization_adapted", 226, (5, 3), lambda: L.Normalization(), fit=adapt)
one("normalization_axes", 227, (3, 4, 2), lambda: L.Normalization(axis=(1, 2)), fit=adapt)
one("normalization_axis_none", 228, (4, 3), lambda: L.Normalization(axis=None), fit=adapt)
one("normalization_invert", 229, (4, 3), lambda: L.Normalization(mean=[0.5, 1.0, -1.0], variance=[1.0, 4.0, 0.25],
                                                                  invert=True))
one("normalization_scalar", 230, (4, 3), lambda: L.Normalization(axis=None, mean=2.0, variance=9.0))
# ---- UpSampling2D's other interpolations, LayerScale
one("upsampling2d_bilinear_32", 231, (3, 4, 2), lambda: L.UpSampling2D((3, 2), interpolation="bilinear"))
one("upsampling2d_bicubic", 232, (3, 4, 2), lambda: L.UpSampling2D(2, interpolation="bicubic"))
one("upsampling2d_lanczos3", 233, (3, 3, 2), lambda: L.UpSampling2D((2, 3), interpolation="lanczos3"))
one("layerscale", 234, (4, 4, 6), lambda: LayerScale(0.1, 6))
one("resizing_channels_first", 235, (2, 5, 6), lambda: L.Resizing(3, 8, interpolation="bicubic",
                                                                   data_format="channels_first"))
one("centercrop_channels_first", 236, (2, 6, 5), lambda: L.CenterCrop(3, 4, data_format="channels_first"))
one("resizing_bicubic_antialias", 238, (9, 10, 2), lambda: L.Resizing(4, 3, interpolation="bicubic", antialias=True))
one("resizing_lanczos5_antialias", 239, (12, 7, 2), lambda: L.Resizing(5, 6, interpolation="lanczos5", antialias=True))
one("resizing_nearest_antialias", 240, (7, 9, 2), lambda: L.Resizing(3, 4, interpolation="nearest", antialias=True))
one("groupnorm_minus1", 241, (3, 3, 4), lambda: L.GroupNormalization(groups=-1))
one("normalization_nested", 242, (4, 2), lambda: L.Normalization(axis=(1, 2), mean=np.arange(8.0).reshape(4, 2) / 4,
                                                                    variance=np.linspace(0.5, 4.0, 8).reshape(4, 2)))
one("rescaling_numpy", 243, (3, 3), lambda: L.Rescaling(np.array([1.0, -2.0, 3.0]), offset=np.array([0.5, 0.0, -0.5])))
one("rmsnorm", 244, (4, 6), lambda: L.RMSNormalization())
one("rmsnorm_axes", 245, (3, 4, 5), lambda: L.RMSNormalization(axis=[-2, -1], epsilon=0.01))
one("resizing_pad_channels_first", 237, (2, 4, 8), lambda: L.Resizing(4, 4, pad_to_aspect_ratio=True, fill_value=1.0,
                                                                       data_format="channels_first"))


def save_case_weights(c):
    m = c["stash"]["model"]
    d = os.path.join(OUT, c["name"])
    ws = m.get_weights()
    if ws:
        os.makedirs(os.path.join(d, "weights"), exist_ok=True)
    names = []
    for i, w in enumerate(ws):
        assert w.dtype in (np.float32, np.int32), (c["name"], w.dtype)
        np.save(os.path.join(d, "weights", "%d.npy" % i), w)
        names.append("weights/%d.npy" % i)
    # case.json lists them (run_case was told not to save: it allows float32 only)
    import json
    with open(os.path.join(d, "case.json"), encoding="utf-8") as f:
        meta = json.load(f)
    meta["weights_saved"] = True
    meta["weights"] = names
    ou.write_json(os.path.join(d, "case.json"), meta)


# ---- Applications' predictions
APPS = {
    "MobileNet": lambda: keras.applications.MobileNet(
        input_shape=(32, 32, 3), alpha=0.25, weights=None, classes=10, classifier_activation=None),
    "MobileNetV2": lambda: keras.applications.MobileNetV2(
        input_shape=(32, 32, 3), alpha=0.35, weights=None, classes=10, classifier_activation=None),
    "MobileNetV3Small": lambda: keras.applications.MobileNetV3Small(
        input_shape=(32, 32, 3), alpha=0.75, weights=None, classes=10, classifier_activation=None),
    # The other families at reduced width/depth through Keras's own builders (the
    # full models' weights would not fit in the goldens); same layers, same graphs.
    "ConvNeXt_mini": lambda: convnext.ConvNeXt(
        depths=[1, 1, 2, 1], projection_dims=[8, 16, 24, 32], layer_scale_init_value=0.5, name="convnext_mini",
        input_shape=(32, 32, 3), weights=None, classes=10, classifier_activation=None),
    "EfficientNet_mini": lambda: efficientnet.EfficientNet(
        0.25, 0.2, 32, name="efficientnet_mini", input_shape=(32, 32, 3), weights=None, classes=10,
        classifier_activation=None),
    "NASNet_mini": lambda: nasnet.NASNet(
        input_shape=(32, 32, 3), penultimate_filters=96, num_blocks=1, stem_block_filters=8, weights=None,
        classes=10, default_size=32, classifier_activation=None, name="nasnet_mini"),
    "DenseNet_mini": lambda: densenet.DenseNet(
        [1, 2, 1, 1], input_shape=(32, 32, 3), weights=None, classes=10, classifier_activation=None,
        name="densenet_mini"),
}
# Apps whose first layers expect pixels in [0, 255] (Rescaling/Normalization inside).
PIXEL_APPS = {"MobileNetV3Small", "ConvNeXt_mini", "EfficientNet_mini"}


def quantize(model, seed):
    """Keras's initial weights, BN statistics perturbed, rounded to 8 bits."""
    rng = np.random.default_rng(seed)
    q, meta = [], []
    ws = []
    for v, w in zip(model.weights, model.get_weights()):
        if "moving_variance" in v.path:
            w = rng.uniform(0.5, 1.5, w.shape).astype(np.float32)
        elif "moving_mean" in v.path or "beta" in v.path:
            w = (rng.standard_normal(w.shape) * 0.1).astype(np.float32)
        elif "gamma" in v.path:
            w = rng.uniform(0.8, 1.2, w.shape).astype(np.float32)
        elif "layer_scale" in v.path:
            w = rng.uniform(0.2, 0.8, w.shape).astype(np.float32)
        elif w.dtype != np.float32:  # Normalization's count: unused by predict
            q.append(np.full(w.size, 128, np.uint8))
            meta.append({"shape": list(w.shape), "scale": 1.0})
            ws.append(np.zeros_like(w))
            continue
        elif "bias" in v.path and not np.any(w):
            w = (rng.standard_normal(w.shape) * 0.05).astype(np.float32)
        peak = float(np.max(np.abs(w))) if w.size else 0.0
        scale = np.float32(peak / 127.0 if peak > 0 else 1.0)
        qi = np.clip(np.round(w / scale), -127, 127).astype(np.int32)
        ws.append((qi.astype(np.float32) * scale).astype(np.float32))
        q.append((qi + 128).astype(np.uint8).ravel())
        meta.append({"shape": list(w.shape), "scale": float(scale)})
    model.set_weights(ws)
    return np.concatenate(q), meta


def run_app(name, seed, size=32):
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    model = APPS[name]()
    qw, meta = quantize(model, 40_000 + seed)
    rng = np.random.default_rng(50_000 + seed)
    x = rng.uniform(-1.0, 1.0, (2, size, size, 3)).astype(np.float32)
    if name in PIXEL_APPS:
        x = ((x + 1.0) * 127.5).astype(np.float32)
    y = np.asarray(model.predict(x, verbose=0))
    d = os.path.join(APPS_OUT, name)
    ou.reset_dir(d)
    ou.write_text(os.path.join(d, "config.json"), model.to_json())
    np.save(os.path.join(d, "weights_q.npy"), qw)
    ou.write_json(os.path.join(d, "weights.json"), meta)
    np.save(os.path.join(d, "x.npy"), x)
    np.save(os.path.join(d, "y.npy"), y.astype(np.float32))
    ou.write_json(os.path.join(d, "counts.json"), ou.counts(model))
    print("%-18s %d weights, %d params, y %s" % (name, len(meta), qw.size, y.shape))


# ---- training: fit() through the new backward passes, against Keras's autodiff.
# tests/golden/convb_train/<case>/: config.json, weights/<i>.npy (initial),
# x.npy, y.npy, final/<i>.npy (weights after fit), case.json (history, args).
TRAIN_OUT = os.path.join(REPO, "tests", "golden", "convb_train")
TRAIN_CASES = [
    ("layernorm", (4, 6), lambda: [L.LayerNormalization()]),
    ("layernorm_rms", (4, 6), lambda: [L.LayerNormalization(rms_scaling=True)]),
    ("layernorm_axes", (3, 4, 2), lambda: [L.LayerNormalization(axis=[1, 2])]),
    ("groupnorm", (3, 3, 6), lambda: [L.GroupNormalization(groups=3)]),
    ("unitnorm", (5,), lambda: [L.Dense(4), L.UnitNormalization()]),
    ("layerscale", (6,), lambda: [L.Dense(4), LayerScale(0.5, 4)]),
    ("preprocessing", (3,), lambda: [L.Normalization(mean=[0.5, -1.0, 2.0], variance=[4.0, 1.0, 0.25]),
                                     L.Rescaling([2.0, 0.5, 1.0], offset=0.1), L.Dense(4)]),
    ("resizing_bicubic", (4, 5, 2), lambda: [L.Dense(3), L.Resizing(6, 3, interpolation="bicubic")]),
    ("resizing_pad", (4, 6, 2), lambda: [L.Dense(3), L.Resizing(3, 3, pad_to_aspect_ratio=True, fill_value=0.5)]),
    ("centercrop", (5, 6, 2), lambda: [L.Dense(3), L.CenterCrop(3, 4)]),
    ("rmsnorm", (4, 6), lambda: [L.RMSNormalization(axis=[1, 2])]),
]


def run_train(i, name, in_shape, make):
    seed = 500 + i
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    m = keras.Sequential([keras.Input(in_shape)] + make() + [L.Flatten(), L.Dense(2)])
    cc.randomize(m, seed)
    rng = np.random.default_rng(60_000 + seed)
    x = rng.standard_normal((16,) + in_shape).astype(np.float32)
    y = rng.standard_normal((16, 2)).astype(np.float32)
    d = os.path.join(TRAIN_OUT, name)
    ou.reset_dir(d)
    ou.write_text(os.path.join(d, "config.json"), m.to_json())
    os.makedirs(os.path.join(d, "weights"))
    os.makedirs(os.path.join(d, "final"))
    for k, w in enumerate(m.get_weights()):
        np.save(os.path.join(d, "weights", "%d.npy" % k), w)
    np.save(os.path.join(d, "x.npy"), x)
    np.save(os.path.join(d, "y.npy"), y)
    m.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss="mse")
    h = m.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    for k, w in enumerate(m.get_weights()):
        np.save(os.path.join(d, "final", "%d.npy" % k), w)
    ou.write_json(os.path.join(d, "case.json"), {
        "optimizer": "SGD(learning_rate=0.01)", "loss": "mse", "epochs": 3, "batch_size": 8,
        "history": {"loss": [float(v) for v in h.history["loss"]]}, "n_weights": len(m.get_weights())})
    print("%-28s loss %s" % (name, ["%.5f" % v for v in h.history["loss"]]))


# All 13 Applications at full width: too large to commit, so written on demand
# (--full-apps DIR) for test_apps_predict's optional check (CKERAS_APPS_FULL=DIR).
FULL_APPS = ["VGG16", "VGG19", "ResNet50", "ResNet50V2", "MobileNet", "MobileNetV2", "DenseNet121",
             "InceptionV3", "Xception", "EfficientNetB0", "NASNetMobile", "ConvNeXtTiny", "MobileNetV3Small"]


def run_full_apps(out, only):
    global APPS_OUT
    APPS_OUT = out
    for i, name in enumerate(FULL_APPS):
        if only and name not in only:
            continue
        APPS[name] = (lambda n: lambda: getattr(keras.applications, n)(
            input_shape=(75, 75, 3), weights=None, classes=10, classifier_activation=None))(name)
        PIXEL_APPS.update({"ConvNeXtTiny", "EfficientNetB0"})
        run_app(name, 400 + i, size=75)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="")
    ap.add_argument("--full-apps", default="", metavar="DIR")
    ap.add_argument("--train-only", action="store_true")
    ap.add_argument("--no-apps", action="store_true")
    ap.add_argument("--apps-only", action="store_true")
    args = ap.parse_args()
    only = [s for s in args.only.split(",") if s]
    if args.full_apps:
        run_full_apps(os.path.abspath(args.full_apps), only)
        return
    if args.train_only or not args.apps_only:
        os.makedirs(TRAIN_OUT, exist_ok=True)
        for i, (name, shape, make) in enumerate(TRAIN_CASES):
            if not only or name in only:
                run_train(i, name, shape, make)
        with open(os.path.join(TRAIN_OUT, "CASES"), "w") as f:
            f.write("".join(n + "\n" for n, _, _ in TRAIN_CASES))
        if args.train_only:
            return
    if not args.apps_only:
        os.makedirs(OUT, exist_ok=True)
        for c in CASES:
            if only and c["name"] not in only:
                continue
            cm.run_case(c, OUT)
            save_case_weights(c)
            print("%-28s ok" % c["name"])
        ou.write_json(os.path.join(OUT, "index.json"),
                      [{"name": c["name"], "seed": c["seed"], "description": c["description"]} for c in CASES])
        ou.write_json(os.path.join(OUT, "VERSIONS.json"), ou.versions())
    if not args.no_apps:
        os.makedirs(APPS_OUT, exist_ok=True)
        for i, a in enumerate(APPS):
            if only and a not in only:
                continue
            run_app(a, 300 + i)
        ou.write_json(os.path.join(APPS_OUT, "VERSIONS.json"), ou.versions())


if __name__ == "__main__":
    main()
