#!/usr/bin/env python3
"""Goldens for the "conv" issue: every convolutional-family layer (convolutions,
pooling, padding/cropping/upsampling, normalization, noise, activation layers,
preprocessing) as a one-layer model after an Input, plus the Keras Applications
built with weights=None -- all produced by real Keras 3 (JAX backend).

Run from anywhere:  python3 tests/oracle/conv_cases.py [--only a,b] [--list] [--apps-only|--no-apps]
Writes tests/golden/conv/<case>/... (same layout as tests/golden/core, see
tests/oracle/README.md) and tests/golden/apps/<name>/{config.json,counts.json,summary.txt}.

Weights of every layer case are replaced by seeded random values (variances
kept positive) before they are saved, so that biases, BN statistics and PReLU
alphas are exercised by the predictions rather than left at zeros/ones.
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

import core_models as cm  # noqa: E402  (reuses its run_case and input maker)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(REPO, "tests", "golden", "conv")
APPS_OUT = os.path.join(REPO, "tests", "golden", "apps")
SUMMARIES = [{}, {"show_trainable": True}]

CASES = []


def randomize(model, seed):
    """Seeded random weights; anything named *variance stays positive."""
    rng = np.random.default_rng(20_000 + seed)
    ws = []
    for v, w in zip(model.weights, model.get_weights()):
        if "variance" in v.name:
            ws.append(rng.uniform(0.5, 1.5, w.shape).astype(w.dtype))
        elif w.dtype != np.float32:
            ws.append(w)
        else:
            ws.append((rng.standard_normal(w.shape) * 0.5).astype(np.float32))
    model.set_weights(ws)


def one(name, seed, in_shape, make, desc="", save_weights=True):
    """A case: Input(in_shape) -> the layer make() returns, as a Sequential.
    save_weights=False where a weight is not float32 (Normalization's int count)."""
    def fn():
        m = keras.Sequential([keras.Input(in_shape), make()])
        randomize(m, seed)
        return {"model": m, "save_weights": save_weights}
    assert name not in [c["name"] for c in CASES], name
    assert seed not in [c["seed"] for c in CASES], seed
    CASES.append({"name": name, "seed": seed, "description": desc or name,
                  "summaries": list(SUMMARIES), "fn": fn})


# ---- convolutions
one("conv1d", 1, (10, 3), lambda: L.Conv1D(4, 3))
one("conv1d_same_s2", 2, (9, 3), lambda: L.Conv1D(4, 3, strides=2, padding="same", activation="relu"))
one("conv1d_causal_d2", 3, (10, 2), lambda: L.Conv1D(3, 3, padding="causal", dilation_rate=2))
one("conv1d_groups", 4, (8, 6), lambda: L.Conv1D(4, 2, groups=2, use_bias=False))
one("conv2d", 5, (8, 8, 3), lambda: L.Conv2D(4, 3))
one("conv2d_same_s2", 6, (7, 7, 3), lambda: L.Conv2D(4, 3, strides=2, padding="same"))
one("conv2d_same_s2_even", 7, (8, 6, 2), lambda: L.Conv2D(3, (3, 2), strides=(2, 3), padding="same", activation="tanh"))
one("conv2d_dilated", 8, (9, 9, 2), lambda: L.Conv2D(3, 3, dilation_rate=2, padding="same"))
one("conv2d_groups", 9, (6, 6, 4), lambda: L.Conv2D(6, 3, groups=2))
one("conv2d_nobias", 10, (5, 5, 2), lambda: L.Conv2D(2, 1, use_bias=False, activation="relu"))
one("conv3d", 11, (5, 5, 5, 2), lambda: L.Conv3D(3, 2))
one("conv3d_same_s2", 12, (5, 4, 5, 2), lambda: L.Conv3D(2, 3, strides=2, padding="same"))
one("conv1d_transpose", 13, (6, 3), lambda: L.Conv1DTranspose(4, 3))
one("conv1d_transpose_s2_same", 14, (5, 3), lambda: L.Conv1DTranspose(2, 3, strides=2, padding="same"))
one("conv2d_transpose", 15, (4, 4, 3), lambda: L.Conv2DTranspose(2, 3))
one("conv2d_transpose_s2_same", 16, (4, 5, 2), lambda: L.Conv2DTranspose(3, 3, strides=2, padding="same"))
one("conv2d_transpose_outpad", 17, (3, 3, 2), lambda: L.Conv2DTranspose(2, 3, strides=2, output_padding=1))
one("conv3d_transpose", 18, (3, 3, 3, 2), lambda: L.Conv3DTranspose(2, 2, strides=2))
one("depthwise1d", 19, (8, 3), lambda: L.DepthwiseConv1D(3, depth_multiplier=2))
one("depthwise2d", 20, (6, 6, 3), lambda: L.DepthwiseConv2D(3))
one("depthwise2d_same_s2_m2", 21, (7, 7, 2), lambda: L.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2))
one("separable1d", 22, (8, 3), lambda: L.SeparableConv1D(4, 3))
one("separable2d", 23, (6, 6, 3), lambda: L.SeparableConv2D(4, 3, depth_multiplier=2, padding="same"))
one("separable2d_nobias", 24, (6, 6, 2), lambda: L.SeparableConv2D(3, 3, use_bias=False))
# ---- pooling
one("maxpool1d", 30, (9, 3), lambda: L.MaxPooling1D())
one("maxpool1d_same", 31, (9, 3), lambda: L.MaxPooling1D(3, strides=2, padding="same"))
one("maxpool2d", 32, (7, 7, 2), lambda: L.MaxPooling2D())
one("maxpool2d_same_s1", 33, (5, 5, 2), lambda: L.MaxPooling2D(3, strides=1, padding="same"))
one("maxpool3d", 34, (4, 4, 4, 2), lambda: L.MaxPooling3D())
one("avgpool1d", 35, (9, 3), lambda: L.AveragePooling1D(2))
one("avgpool2d", 36, (6, 6, 2), lambda: L.AveragePooling2D(2))
one("avgpool2d_same", 37, (5, 5, 2), lambda: L.AveragePooling2D(3, strides=2, padding="same"))
one("avgpool3d", 38, (4, 4, 4, 2), lambda: L.AveragePooling3D(2))
one("gmaxpool1d", 39, (5, 3), lambda: L.GlobalMaxPooling1D())
one("gmaxpool2d", 40, (4, 4, 3), lambda: L.GlobalMaxPooling2D())
one("gmaxpool3d", 41, (3, 3, 3, 2), lambda: L.GlobalMaxPooling3D())
one("gavgpool1d", 42, (5, 3), lambda: L.GlobalAveragePooling1D())
one("gavgpool2d", 43, (4, 4, 3), lambda: L.GlobalAveragePooling2D())
one("gavgpool2d_keepdims", 44, (4, 4, 3), lambda: L.GlobalAveragePooling2D(keepdims=True))
one("gavgpool3d", 45, (3, 3, 3, 2), lambda: L.GlobalAveragePooling3D())
# ---- reshaping
one("zeropad1d", 50, (5, 2), lambda: L.ZeroPadding1D((1, 2)))
one("zeropad2d", 51, (4, 4, 2), lambda: L.ZeroPadding2D(((1, 0), (2, 1))))
one("zeropad3d", 52, (2, 3, 2, 2), lambda: L.ZeroPadding3D(1))
one("cropping1d", 53, (6, 2), lambda: L.Cropping1D((1, 2)))
one("cropping2d", 54, (6, 6, 2), lambda: L.Cropping2D(((1, 0), (2, 1))))
one("cropping3d", 55, (4, 4, 4, 2), lambda: L.Cropping3D(1))
one("upsampling1d", 56, (4, 2), lambda: L.UpSampling1D(3))
one("upsampling2d", 57, (3, 3, 2), lambda: L.UpSampling2D((2, 3)))
one("upsampling2d_bilinear", 58, (3, 4, 2), lambda: L.UpSampling2D(2, interpolation="bilinear"))
one("upsampling3d", 59, (2, 2, 2, 2), lambda: L.UpSampling3D(2))
# ---- normalization
one("batchnorm", 60, (4, 4, 3), lambda: L.BatchNormalization())
one("batchnorm_nocenter", 61, (5, 3), lambda: L.BatchNormalization(center=False))
one("batchnorm_noscale_axis1", 62, (3, 4), lambda: L.BatchNormalization(axis=1, scale=False))
one("layernorm", 63, (4, 6), lambda: L.LayerNormalization())
one("layernorm_rms", 64, (4, 6), lambda: L.LayerNormalization(rms_scaling=True))
one("groupnorm", 65, (4, 4, 6), lambda: L.GroupNormalization(groups=3))
one("unitnorm", 66, (4, 5), lambda: L.UnitNormalization())
# ---- regularization (identity at inference)
one("spatialdropout1d", 70, (4, 3), lambda: L.SpatialDropout1D(0.3))
one("spatialdropout2d", 71, (4, 4, 3), lambda: L.SpatialDropout2D(0.3))
one("spatialdropout3d", 72, (2, 2, 2, 3), lambda: L.SpatialDropout3D(0.3))
one("gaussiannoise", 73, (5,), lambda: L.GaussianNoise(0.2))
one("gaussiandropout", 74, (5,), lambda: L.GaussianDropout(0.2))
one("alphadropout", 75, (5,), lambda: L.AlphaDropout(0.2))
one("activityreg", 76, (5,), lambda: L.ActivityRegularization(l1=0.01, l2=0.02))
# ---- activation layers
one("relu", 80, (6,), lambda: L.ReLU())
one("relu6_slope", 81, (6,), lambda: L.ReLU(max_value=6.0, negative_slope=0.1, threshold=0.5))
one("leakyrelu", 82, (6,), lambda: L.LeakyReLU())
one("prelu", 83, (4, 4, 3), lambda: L.PReLU())
one("prelu_shared", 84, (4, 4, 3), lambda: L.PReLU(shared_axes=[1, 2]))
one("elu", 85, (6,), lambda: L.ELU(alpha=0.7))
one("softmax", 86, (3, 5), lambda: L.Softmax())
one("softmax_axis1", 87, (3, 5), lambda: L.Softmax(axis=1))
# ---- preprocessing
one("rescaling", 90, (4, 4, 3), lambda: L.Rescaling(1.0 / 255, offset=-0.5))
one("normalization", 91, (4, 3), lambda: L.Normalization(), save_weights=False)
one("normalization_given", 92, (4, 3), lambda: L.Normalization(mean=[0.5, 1.0, -1.0], variance=[1.0, 4.0, 0.25]))
one("centercrop", 93, (6, 7, 2), lambda: L.CenterCrop(3, 4))
one("resizing", 94, (4, 6, 2), lambda: L.Resizing(6, 3))


def _lenet():
    m = keras.Sequential([
        keras.Input((28, 28, 1)),
        L.Conv2D(6, 5, padding="same", activation="relu"),
        L.MaxPooling2D(),
        L.Conv2D(16, 5, activation="relu"),
        L.MaxPooling2D(),
        L.Flatten(),
        L.Dense(120, activation="relu"),
        L.Dense(84, activation="relu"),
        L.Dense(10, activation="softmax"),
    ])
    randomize(m, 100)
    return {"model": m, "x_scale": 1.0}


CASES.append({"name": "lenet", "seed": 100, "description": "LeNet-5 style CNN",
              "summaries": list(SUMMARIES) + [{"line_length": 100}], "fn": _lenet})


def _cnn_bn():
    m = keras.Sequential([
        keras.Input((12, 12, 3)),
        L.Conv2D(8, 3, padding="same", use_bias=False),
        L.BatchNormalization(),
        L.ReLU(),
        L.DepthwiseConv2D(3, strides=2, padding="same"),
        L.Conv2D(8, 1),
        L.GlobalAveragePooling2D(),
        L.Dense(4),
    ])
    randomize(m, 101)
    return {"model": m}


CASES.append({"name": "cnn_bn", "seed": 101, "description": "conv-BN-relu-depthwise block",
              "summaries": list(SUMMARIES), "fn": _cnn_bn})

APPS = ["VGG16", "VGG19", "ResNet50", "ResNet50V2", "MobileNet", "MobileNetV2",
        "DenseNet121", "InceptionV3", "Xception", "EfficientNetB0", "NASNetMobile",
        "ConvNeXtTiny", "MobileNetV3Small"]


def run_app(name):
    keras.backend.clear_session()
    keras.utils.set_random_seed(1)
    model = getattr(keras.applications, name)(weights=None)
    d = os.path.join(APPS_OUT, name)
    ou.reset_dir(d)
    ou.write_text(os.path.join(d, "config.json"), model.to_json())
    text, _ = ou.capture_summary(model, ou.norm_spec({}))
    ou.write_text(os.path.join(d, "summary.txt"), text)
    c = ou.counts(model)
    # Per-weight lists would make the files large; the totals are what we check.
    small = {k: c[k] for k in ("total", "trainable", "non_trainable", "bytes")}
    small["n_layers"] = len(model.layers)
    small["n_weights"] = len(model.weights)
    small["classes"] = sorted({l.__class__.__name__ for l in model.layers})
    ou.write_json(os.path.join(d, "counts.json"), small)
    print("%-18s total %d" % (name, c["total"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--no-apps", action="store_true")
    ap.add_argument("--apps-only", action="store_true")
    args = ap.parse_args()
    if args.list:
        for c in CASES:
            print("%-28s seed %-4d %s" % (c["name"], c["seed"], c["description"]))
        return
    only = [s for s in args.only.split(",") if s]
    if not args.apps_only:
        os.makedirs(OUT, exist_ok=True)
        for c in CASES:
            if only and c["name"] not in only:
                continue
            cm.run_case(c, OUT)
            print("%-28s ok" % c["name"])
        ou.write_json(os.path.join(OUT, "index.json"),
                      [{"name": c["name"], "seed": c["seed"], "description": c["description"]} for c in CASES])
        ou.write_json(os.path.join(OUT, "VERSIONS.json"), ou.versions())
    if not args.no_apps:
        os.makedirs(APPS_OUT, exist_ok=True)
        for a in APPS:
            if only and a not in only:
                continue
            run_app(a)
        ou.write_json(os.path.join(APPS_OUT, "VERSIONS.json"), ou.versions())


if __name__ == "__main__":
    main()
