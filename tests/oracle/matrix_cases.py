"""The file-format matrix (issue 12): every layer class of ckeras's table, saved by
real Keras 3 in every format, with what a reader and a writer must agree on.

The class list is ckeras's own (`ckeras layers`, or the file named by
--classes): every class must be covered by at least one case below, or the script
fails (and so does test_matrix, which checks the same against the C table).  Which
classes a case covers is read off the built Keras model (every layer, wrapped
and nested ones included), not declared by hand.

For each case Keras builds a tiny model, sets seeded weights and saves it as
model.keras, legacy model.h5 and model.weights.h5 + config.json; then:
  x<i>.npy, y<j>.npy   two samples in, Keras's predictions out
  weights.json         get_weights(): path, shape, dtype of each, in order
  weights/<k>.npy      get_weights() values
  layout.json          for each HDF5 file Keras wrote (model.weights.h5 inside
                       model.keras, model.h5, model.weights.h5): every group and
                       dataset path in visiting order, each dataset's shape and
                       dtype, and every attribute (name, type, value)
  counts.json          parameter counts and bytes (summary's), per dtype
  classes.json         the ckeras classes the case covers
Goldens go to tests/golden/matrix/ (committed; each case is a few dozen KB).

Run from the repository root:  python3 tests/oracle/matrix_cases.py [--only a,b]
"""
import io
import json
import os
import subprocess
import sys
import zipfile
import zlib

sys.path.insert(0, os.path.dirname(__file__))
import oracle_util  # noqa: E402

oracle_util.setup()

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers as L  # noqa: E402
from keras.src.applications.convnext import LayerScale  # noqa: E402

ROOT = os.path.join("tests", "golden", "matrix")


# ---- case builders -------------------------------------------------------------
def seq(shape, *ls, name=None):
    return keras.Sequential([keras.Input(shape)] + list(ls), name=name)


def two_inputs(merge, shape=(4,)):
    def build():
        a, b = keras.Input(shape, name="a"), keras.Input(shape, name="b")
        return keras.Model([a, b], merge([a, b]))
    return build


def attention_case(layer, use_key=False):
    def build():
        q, v = keras.Input((3, 4), name="query"), keras.Input((5, 4), name="value")
        return keras.Model([q, v], layer()([q, v] + ([v] if use_key else [])))
    return build


def mha():
    q = keras.Input((3, 4), name="query")
    v = keras.Input((5, 4), name="value")
    return keras.Model([q, v], L.MultiHeadAttention(num_heads=2, key_dim=2)(q, v))


def mha_scores():
    q = keras.Input((3, 4), name="query")
    v = keras.Input((5, 4), name="value")
    out, scores = L.MultiHeadAttention(num_heads=2, key_dim=2)(q, v, return_attention_scores=True)
    return keras.Model([q, v], [out, scores])


def gqa():
    q = keras.Input((3, 4), name="query")
    v = keras.Input((5, 4), name="value")
    return keras.Model([q, v], L.GroupQueryAttention(head_dim=2, num_query_heads=2, num_key_value_heads=1)(q, v))


def lstm_state():
    x = keras.Input((4, 3))
    out, h, c = L.LSTM(2, return_sequences=True, return_state=True)(x)
    return keras.Model(x, [out, h, c])


def gru_initial_state():
    x = keras.Input((4, 3), name="seq")
    s = keras.Input((2,), name="state")
    return keras.Model([x, s], L.GRU(2)(x, initial_state=[s]))


def multi_io():
    a, b = keras.Input((4,), name="in_a"), keras.Input((3,), name="in_b")
    h = L.Concatenate()([L.Dense(3, name="da")(a), L.Dense(3, name="db")(b)])
    return keras.Model([a, b], [L.Dense(2, name="reg")(h), L.Dense(3, activation="softmax", name="cls")(h)])


def dict_inputs():
    a, b = keras.Input((4,), name="a"), keras.Input((2,), name="b")
    h = L.Concatenate()([a, b])
    return keras.Model({"a": a, "b": b}, {"out": L.Dense(2, name="out")(h)})


def nested_three():
    inner = seq((3,), L.Dense(4, activation="tanh"), name="inner")
    x = keras.Input((3,))
    middle = keras.Model(x, L.Dense(3)(inner(x)), name="middle")
    y = keras.Input((3,))
    outer = keras.Model(y, L.Dense(2)(middle(y)), name="outer")
    return seq((3,), outer, L.Dense(1), name="top")


def nested_wrappers():
    return seq((2, 5, 3), L.TimeDistributed(L.Bidirectional(L.GRU(2))))


def masked_bilstm():
    return seq((5,), L.Embedding(7, 3, mask_zero=True), L.Bidirectional(L.LSTM(2, return_sequences=True)),
               L.GlobalAveragePooling1D())


def masking_lstm():
    return seq((4, 3), L.Masking(0.0), L.LSTM(2))


def normalization():
    return seq((3,), L.Normalization(mean=[0.5, -1.0, 2.0], variance=[1.0, 4.0, 0.25]))


def embedding():
    return seq((5,), L.Embedding(7, 3), L.Flatten())


CASES = {
    "dense": lambda: seq((4,), L.Dense(3, activation="relu")),
    "dense_nobias": lambda: seq((4,), L.Dense(3, use_bias=False)),
    "dense_float64": lambda: seq((3,), L.Dense(4, activation="tanh"), L.Dense(2, dtype="float64")),
    "activation": lambda: seq((4,), L.Activation("tanh")),
    "dropout": lambda: seq((4,), L.Dropout(0.5), L.Dense(2)),
    "identity": lambda: seq((4,), L.Identity(), L.Dense(2)),
    "flatten": lambda: seq((2, 3), L.Flatten(), L.Dense(2)),
    "reshape": lambda: seq((6,), L.Reshape((2, 3)), L.Dense(2)),
    "permute": lambda: seq((2, 3), L.Permute((2, 1)), L.Dense(2)),
    "repeat_vector": lambda: seq((3,), L.RepeatVector(2), L.Dense(2)),
    "add": two_inputs(L.Add()),
    "subtract": two_inputs(L.Subtract()),
    "multiply": two_inputs(L.Multiply()),
    "average": two_inputs(L.Average()),
    "maximum": two_inputs(L.Maximum()),
    "minimum": two_inputs(L.Minimum()),
    "concatenate": two_inputs(L.Concatenate()),
    "dot": two_inputs(L.Dot(axes=1, normalize=True)),
    "embedding": embedding,
    "masking_lstm": masking_lstm,
    "simple_rnn": lambda: seq((4, 3), L.SimpleRNN(2)),
    "simple_rnn_seq_nobias": lambda: seq((4, 3), L.SimpleRNN(2, return_sequences=True, use_bias=False)),
    "lstm": lambda: seq((4, 3), L.LSTM(2)),
    "lstm_state": lstm_state,
    "gru": lambda: seq((4, 3), L.GRU(2)),
    "gru_reset_before": lambda: seq((4, 3), L.GRU(2, reset_after=False, return_sequences=True)),
    "gru_initial_state": gru_initial_state,
    "conv_lstm1d": lambda: seq((3, 5, 2), L.ConvLSTM1D(2, 3)),
    "conv_lstm2d": lambda: seq((3, 4, 4, 2), L.ConvLSTM2D(2, 3, return_sequences=True)),
    "bidirectional_lstm": lambda: seq((4, 3), L.Bidirectional(L.LSTM(2))),
    "bidirectional_gru_sum": lambda: seq((4, 3), L.Bidirectional(L.GRU(2, return_sequences=True), merge_mode="sum")),
    "bidirectional_rnn_none": lambda: keras.Model(*(lambda x: (x, L.Bidirectional(
        L.SimpleRNN(2), merge_mode=None)(x)))(keras.Input((4, 3)))),
    "masked_bilstm": masked_bilstm,
    "time_distributed": lambda: seq((3, 4), L.TimeDistributed(L.Dense(2))),
    "nested_wrappers": nested_wrappers,
    "einsum_dense": lambda: seq((3,), L.EinsumDense("ab,bc->ac", output_shape=4, bias_axes="c")),
    "einsum_dense_none": lambda: seq((5, 3), L.EinsumDense("abc,cd->abd", output_shape=(None, 4))),
    "mha": mha,
    "mha_scores": mha_scores,
    "gqa": gqa,
    "attention": attention_case(lambda: L.Attention()),
    "additive_attention": attention_case(lambda: L.AdditiveAttention(), use_key=True),
    "conv1d": lambda: seq((6, 2), L.Conv1D(3, 3)),
    "conv2d": lambda: seq((5, 5, 2), L.Conv2D(3, 3, padding="same", activation="relu")),
    "conv3d": lambda: seq((4, 4, 4, 1), L.Conv3D(2, 2, use_bias=False)),
    "conv1d_transpose": lambda: seq((4, 2), L.Conv1DTranspose(3, 3, strides=2)),
    "conv2d_transpose": lambda: seq((3, 3, 2), L.Conv2DTranspose(2, 3)),
    "conv3d_transpose": lambda: seq((2, 2, 2, 1), L.Conv3DTranspose(2, 2)),
    "depthwise_conv1d": lambda: seq((6, 2), L.DepthwiseConv1D(3, depth_multiplier=2)),
    "depthwise_conv2d": lambda: seq((5, 5, 2), L.DepthwiseConv2D(3)),
    "separable_conv1d": lambda: seq((6, 2), L.SeparableConv1D(3, 3)),
    "separable_conv2d": lambda: seq((5, 5, 2), L.SeparableConv2D(3, 3)),
    "max_pooling1d": lambda: seq((6, 2), L.MaxPooling1D(2)),
    "max_pooling2d": lambda: seq((4, 4, 2), L.MaxPooling2D(2)),
    "max_pooling3d": lambda: seq((4, 4, 4, 1), L.MaxPooling3D(2)),
    "average_pooling1d": lambda: seq((6, 2), L.AveragePooling1D(2)),
    "average_pooling2d": lambda: seq((4, 4, 2), L.AveragePooling2D(2)),
    "average_pooling3d": lambda: seq((4, 4, 4, 1), L.AveragePooling3D(2)),
    "global_max_pooling1d": lambda: seq((6, 2), L.GlobalMaxPooling1D()),
    "global_max_pooling2d": lambda: seq((4, 4, 2), L.GlobalMaxPooling2D()),
    "global_max_pooling3d": lambda: seq((3, 3, 3, 2), L.GlobalMaxPooling3D()),
    "global_average_pooling1d": lambda: seq((6, 2), L.GlobalAveragePooling1D()),
    "global_average_pooling2d": lambda: seq((4, 4, 2), L.GlobalAveragePooling2D()),
    "global_average_pooling3d": lambda: seq((3, 3, 3, 2), L.GlobalAveragePooling3D()),
    "max_pooling2d_channels_first": lambda: seq((2, 4, 5), L.MaxPooling2D(2, data_format="channels_first")),
    "average_pooling1d_channels_first": lambda: seq((2, 5), L.AveragePooling1D(2, padding="same",
                                                                               data_format="channels_first")),
    "average_pooling3d_channels_first": lambda: seq((1, 4, 4, 4), L.AveragePooling3D(2, data_format="channels_first")),
    "global_max_pooling1d_channels_first": lambda: seq((2, 6), L.GlobalMaxPooling1D(data_format="channels_first")),
    "global_average_pooling2d_channels_first": lambda: seq((2, 3, 4), L.GlobalAveragePooling2D(
        data_format="channels_first", keepdims=True)),
    "zero_padding1d": lambda: seq((3, 2), L.ZeroPadding1D(1)),
    "zero_padding2d": lambda: seq((3, 3, 1), L.ZeroPadding2D(1)),
    "zero_padding3d": lambda: seq((2, 2, 2, 1), L.ZeroPadding3D(1)),
    "cropping1d": lambda: seq((5, 2), L.Cropping1D(1)),
    "cropping2d": lambda: seq((4, 4, 1), L.Cropping2D(1)),
    "cropping3d": lambda: seq((4, 4, 4, 1), L.Cropping3D(1)),
    "up_sampling1d": lambda: seq((3, 2), L.UpSampling1D(2)),
    "up_sampling2d": lambda: seq((2, 2, 1), L.UpSampling2D(2)),
    "up_sampling3d": lambda: seq((2, 2, 2, 1), L.UpSampling3D(2)),
    "batch_normalization": lambda: seq((4,), L.BatchNormalization()),
    "batch_normalization_bare": lambda: seq((4,), L.BatchNormalization(center=False, scale=False)),
    "batch_normalization_channels_first": lambda: seq((3, 4, 4), L.BatchNormalization(axis=1)),
    "group_normalization_channels_first": lambda: seq((4, 3, 3), L.GroupNormalization(groups=2, axis=1)),
    "layer_normalization_axis1": lambda: seq((3, 4), L.LayerNormalization(axis=1)),
    "layer_normalization": lambda: seq((4,), L.LayerNormalization()),
    "group_normalization": lambda: seq((4,), L.GroupNormalization(groups=2)),
    "unit_normalization": lambda: seq((4,), L.UnitNormalization()),
    "rms_normalization": lambda: seq((4,), L.RMSNormalization()),
    "spatial_dropout1d": lambda: seq((3, 2), L.SpatialDropout1D(0.3)),
    "spatial_dropout2d": lambda: seq((2, 2, 2), L.SpatialDropout2D(0.3)),
    "spatial_dropout3d": lambda: seq((2, 2, 2, 2), L.SpatialDropout3D(0.3)),
    "gaussian_noise": lambda: seq((4,), L.GaussianNoise(0.1)),
    "gaussian_dropout": lambda: seq((4,), L.GaussianDropout(0.1)),
    "alpha_dropout": lambda: seq((4,), L.AlphaDropout(0.1)),
    "activity_regularization": lambda: seq((4,), L.ActivityRegularization(l1=0.01)),
    "relu": lambda: seq((4,), L.ReLU(max_value=1.0)),
    "leaky_relu": lambda: seq((4,), L.LeakyReLU(0.2)),
    "prelu": lambda: seq((4,), L.PReLU()),
    "elu": lambda: seq((4,), L.ELU()),
    "softmax": lambda: seq((4,), L.Softmax()),
    "rescaling": lambda: seq((4,), L.Rescaling(0.5, offset=1.0)),
    "normalization": normalization,
    "center_crop": lambda: seq((4, 4, 2), L.CenterCrop(2, 2)),
    "resizing": lambda: seq((3, 3, 2), L.Resizing(5, 4)),
    "layer_scale": lambda: seq((4,), LayerScale(0.5, 4)),
    "multi_io": multi_io,
    "dict_inputs": dict_inputs,
    "nested_three": nested_three,
}


# ---- facts ----------------------------------------------------------------------
def all_layers(layer):
    """The layer and everything inside it: nested models, wrapped layers, RNN cells'
    owners (a cell is not a class of ckeras's table, its RNN is)."""
    yield layer
    inner = []
    if isinstance(layer, keras.Model):
        inner = layer.layers
    elif isinstance(layer, L.Bidirectional):
        inner = [layer.forward_layer, layer.backward_layer]
    elif isinstance(layer, L.TimeDistributed):
        inner = [layer.layer]
    for sub in inner:
        yield from all_layers(sub)


# Keras classes exported under another name than ckeras's table uses.
ALIASES = {"GroupQueryAttention": "GroupedQueryAttention"}


def classes_of(model, table):
    names = {ALIASES.get(type(l).__name__, type(l).__name__) for l in all_layers(model)} | {"InputLayer"}
    return sorted(n for n in names if n in table)


def seeded_weights(model, seed):
    """Values that make every weight matter: normal, but positive for variances
    (BatchNormalization's moving_variance, Normalization's variance)."""
    rng = np.random.default_rng(seed)
    out = []
    for v in model.weights:
        shape = tuple(v.shape)
        if "variance" in v.path:
            out.append(rng.uniform(0.5, 1.5, shape).astype(v.dtype))
        elif "int" in str(v.dtype):
            out.append(np.full(shape, 5, dtype=v.dtype))
        else:
            out.append((0.5 * rng.standard_normal(shape)).astype(v.dtype))
    model.set_weights(out)


def inputs_for(model, seed):
    rng = np.random.default_rng(seed + 1000)
    xs = []
    for t in model.inputs:
        shape = (2,) + tuple(t.shape[1:])
        if any(isinstance(l, L.Embedding) for l in all_layers(model)) and len(t.shape) == 2:
            x = rng.integers(0, 7, shape).astype("float32")
            x[:, -1] = 0  # a masked step where the mask is on
        else:
            x = rng.standard_normal(shape).astype("float32")
            if any(isinstance(l, L.Masking) for l in all_layers(model)):
                x[:, -1, :] = 0.0
        xs.append(x)
    return xs


def attr_value(v):
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, np.ndarray):
        return [attr_value(e) for e in v.tolist()]
    if isinstance(v, list):
        return [attr_value(e) for e in v]
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    return v


def attr_type(v):
    if isinstance(v, (bytes, str)):
        return "string"
    if isinstance(v, np.ndarray):
        return "array:" + ("string" if v.dtype.kind in "SOU" else str(v.dtype))
    return type(v).__name__


def h5_layout(f):
    """Every object in h5py's visiting order (sorted by name), with attributes."""
    out = []

    def attrs(obj):
        return [{"name": k, "type": attr_type(obj.attrs[k]), "value": attr_value(obj.attrs[k])}
                for k in sorted(obj.attrs.keys())]

    out.append({"path": "/", "kind": "group", "attrs": attrs(f)})

    def visit(name, obj):
        entry = {"path": name}
        if isinstance(obj, h5py.Dataset):
            entry.update(kind="dataset", shape=list(obj.shape), dtype=str(obj.dtype))
        else:
            entry["kind"] = "group"
        entry["attrs"] = attrs(obj)
        out.append(entry)

    f.visititems(visit)
    return out


def layouts(out):
    with zipfile.ZipFile(os.path.join(out, "model.keras")) as z:
        members = z.namelist()
        with h5py.File(io.BytesIO(z.read("model.weights.h5")), "r") as f:
            keras_layout = h5_layout(f)
    res = {"keras_members": members, "model.keras": keras_layout}
    for name in ("model.h5", "model.weights.h5"):
        with h5py.File(os.path.join(out, name), "r") as f:
            res[name] = h5_layout(f)
    return res


def write_case(name, build, seed, table):
    out = os.path.join(ROOT, name)
    oracle_util.reset_dir(out)
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    model = build()
    seeded_weights(model, seed)
    model.save(os.path.join(out, "model.keras"))
    model.save(os.path.join(out, "model.h5"))
    model.save_weights(os.path.join(out, "model.weights.h5"))
    oracle_util.write_text(os.path.join(out, "config.json"), model.to_json())
    xs = inputs_for(model, seed)
    for i, x in enumerate(xs):
        np.save(os.path.join(out, f"x{i}.npy"), x)
    feed = xs[0] if len(xs) == 1 else xs
    if isinstance(getattr(model, "_inputs_struct", None), dict):
        feed = {t.name: x for t, x in zip(model.inputs, xs)}
    ys = model.predict(feed, verbose=0)
    if isinstance(ys, dict):
        ys = [ys[k] for k in model.output_names] if hasattr(model, "output_names") else list(ys.values())
    if not isinstance(ys, (list, tuple)):
        ys = [ys]
    for j, y in enumerate(ys):
        np.save(os.path.join(out, f"y{j}.npy"), np.asarray(y, dtype="float32"))
    ws = model.get_weights()
    os.makedirs(os.path.join(out, "weights"))
    for k, w in enumerate(ws):
        np.save(os.path.join(out, "weights", f"{k}.npy"), w)
    oracle_util.write_json(os.path.join(out, "weights.json"),
                           [{"path": v.path, "shape": list(v.shape), "dtype": str(v.dtype)} for v in model.weights])
    oracle_util.write_json(os.path.join(out, "layout.json"), layouts(out))
    oracle_util.write_json(os.path.join(out, "counts.json"), oracle_util.counts(model))
    covered = classes_of(model, table)
    oracle_util.write_json(os.path.join(out, "classes.json"), covered)
    return covered


def class_table(argv):
    if "--classes" in argv:
        with open(argv[argv.index("--classes") + 1]) as f:
            return [ln.strip() for ln in f if ln.strip()]
    cli = os.path.join("build", "ckeras")
    return subprocess.run([cli, "layers"], check=True, capture_output=True, text=True).stdout.split()


def main():
    table = class_table(sys.argv)
    only = None
    if "--only" in sys.argv:
        only = set(sys.argv[sys.argv.index("--only") + 1].split(","))
    if "--from" in sys.argv:  # resume a run that stopped at this case
        names = list(CASES)
        only = set(names[names.index(sys.argv[sys.argv.index("--from") + 1]):])
    os.makedirs(ROOT, exist_ok=True)
    covered = set()
    index = []
    for name, build in CASES.items():
        if only and name not in only:
            covered |= set(json.load(open(os.path.join(ROOT, name, "classes.json"))))
            index.append(name)
            continue
        covered |= set(write_case(name, build, seed=zlib.crc32(name.encode()) % 100000, table=table))
        index.append(name)
        print("case", name, flush=True)
    oracle_util.write_case_list(ROOT, index)
    missing = [c for c in table if c not in covered]
    if missing:
        print("classes without a matrix case:", ", ".join(missing))
        sys.exit(1)
    print(f"matrix: {len(index)} cases cover all {len(table)} classes")


if __name__ == "__main__":
    main()
