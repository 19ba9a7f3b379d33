"""The inference-only peers of bench/run_*.sh: ONNX Runtime and LiteRT, each in
a venv of its own (scripts/install-bench-deps.sh), timing models that the
training frameworks wrote:

  peers_runtime.py onnx FAMILY DIR      under a python with torch: every model
      of FAMILY as DIR/NAME.onnx, by torch.onnx.export of the PyTorch peer's
      module (the same definitions as bench/peers_*.py, seeded, so the file
      holds that peer's weights), batch dimension dynamic
  peers_runtime.py tflite FAMILY DIR    under a python with TensorFlow + Keras 3:
      DIR/NAME.tflite by TensorFlow's TFLiteConverter of the Keras peer's model
      (its concrete function, builtin ops only: LiteRT has no TensorFlow ops)
  peers_runtime.py ort|litert FAMILY DIR THREADS   times them: ONNX Runtime with
      ORT_ENABLE_ALL and THREADS intra-op threads (inter-op 1); LiteRT's
      interpreter with THREADS threads and its default XNNPACK delegate

FAMILY is predict, train, cnn or seq (the run_*.sh script), and every timing
line has the name the ckeras side prints, prefixed ort_ or litert_, in the
script's unit. A model that does not export or convert prints one "# ..." line
and its rows read n/a."""
import os
import sys

import peer_timing

# (model, input shape without batch, input kind, [(batch, name, unit)])
FAMILIES = {
    "predict": [("classic", (2,), "float", [(1, "classic_single_latency", "us"),
                                            (1024, "classic_batch1024_throughput", "Msamples/s")])],
    "train": [(net, (784,), "float", [(1, "infer_%s_b1_latency" % net, "us"),
                                      (256, "infer_%s_b256_throughput" % net, "ksamples/s"),
                                      (4096, "infer_%s_b4096_throughput" % net, "ksamples/s")])
              for net in ("mlp512", "mlp128")],
    "cnn": [("cnn", (28, 28, 1), "image", [(1, "cnn_infer_b1", "ms"), (256, "cnn_infer_b256", "ms")]),
            ("resnet50", (224, 224, 3), "image", [(1, "resnet50_infer_b1", "ms"), (32, "resnet50_infer_b32", "ms")])],
    "seq": [("lstm128", (100, 32), "float", [(32, "lstm128_inference", "ms")]),
            ("bilstm_text", (100,), "ids", [(32, "bilstm_text_inference", "ms")])],
}
MLP_DIMS = {"mlp512": (784, 512, 256, 10), "mlp128": (784, 128, 64, 10)}


def torch_module(name):
    import torch
    from torch import nn

    torch.manual_seed(0)
    if name == "classic":
        return nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2), nn.Softmax(-1))
    if name in MLP_DIMS:
        d = MLP_DIMS[name]
        return nn.Sequential(nn.Linear(d[0], d[1]), nn.ReLU(), nn.Linear(d[1], d[2]), nn.ReLU(), nn.Linear(d[2], d[3]))
    if name == "cnn":
        return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10))
    if name == "resnet50":
        from peers_cnn import torch_resnet50
        return torch_resnet50(nn)
    from peers_seq import torch_models
    return torch_models(torch)[name]


def keras_model(keras, name):
    L = keras.layers
    if name == "classic":
        return keras.Sequential([keras.Input((2,)), L.Dense(3, activation="relu"), L.Dense(2, activation="softmax")])
    if name in MLP_DIMS:
        d = MLP_DIMS[name]
        return keras.Sequential([keras.Input((d[0],)), L.Dense(d[1], activation="relu"),
                                 L.Dense(d[2], activation="relu"), L.Dense(d[3])])
    if name == "cnn":
        return keras.Sequential([keras.Input((28, 28, 1)), L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(),
                                 L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(), L.Flatten(),
                                 L.Dense(128, activation="relu"), L.Dense(10)])
    if name == "resnet50":
        return keras.applications.ResNet50(weights=None)
    if name == "lstm128":
        return keras.Sequential([keras.Input((100, 32)), L.LSTM(128), L.Dense(1)])
    return keras.Sequential([keras.Input((100,), dtype="int32"), L.Embedding(10000, 64),
                             L.Bidirectional(L.LSTM(64)), L.Dense(1, activation="sigmoid")])


def export_onnx(family, out):
    import torch

    for name, shape, kind, rows in FAMILIES[family]:
        m = torch_module(name).eval()
        # PyTorch's images are channels-first; ONNX keeps its layout
        shape = (shape[2], shape[0], shape[1]) if kind == "image" else shape
        x = torch.zeros((2,) + shape, dtype=torch.long) if kind == "ids" else torch.rand((2,) + shape)
        path = os.path.join(out, name + ".onnx")
        try:
            kw = {"dynamo": False} if int(torch.__version__.split(".")[0]) >= 2 else {}
            torch.onnx.export(m, (x,), path, input_names=["x"], output_names=["y"],
                              dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, opset_version=13, **kw)
        except Exception as e:  # noqa: BLE001 -- any exporter failure makes the row n/a
            print("# onnx export of %s failed: %s" % (name, str(e).splitlines()[0] if str(e) else type(e).__name__))


def export_tflite(family, out):
    os.environ["KERAS_BACKEND"] = "tensorflow"
    import tensorflow as tf
    import keras
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    keras.utils.set_random_seed(0)
    for name, shape, kind, rows in FAMILIES[family]:
        model = keras_model(keras, name)
        # a fixed batch per file: the recurrent models convert only with one
        for batch in sorted({b for b, _, _ in rows}):
            spec = tf.TensorSpec((batch,) + shape, tf.int32 if kind == "ids" else tf.float32)
            fn = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec)
            # weights as constants: a recurrent layer's loop reads them as
            # resource variables otherwise, which LiteRT cannot run
            conv = tf.lite.TFLiteConverter.from_concrete_functions([convert_variables_to_constants_v2(fn)])
            conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
            try:
                data = conv.convert()
            except Exception as e:  # noqa: BLE001
                print("# tflite conversion of %s failed: %s" % (name, str(e).splitlines()[0]))
                break
            with open(os.path.join(out, "%s_b%d.tflite" % (name, batch)), "wb") as f:
                f.write(data)


def report(prefix, name, unit, batch, seconds):
    value = {"us": seconds * 1e6, "ms": seconds * 1e3, "ksamples/s": batch / seconds / 1e3,
             "Msamples/s": batch / seconds / 1e6}[unit]
    print("%s_%s %.4f %s" % (prefix, name, value, unit))
    sys.stdout.flush()


def timed(fn):
    """Seconds per call: best of 5 runs of enough calls for about 0.1 s each."""
    once = peer_timing.best(fn, 1, 1, warm=True)
    return peer_timing.best(fn, max(1, min(2000, int(0.1 / max(once, 1e-7)))), 5)


def inputs(np, batch, shape, kind, channels_first):
    rng = np.random.default_rng(0)
    if kind == "ids":
        return rng.integers(0, 10000, (batch,) + shape).astype(np.int64 if channels_first else np.int32)
    if kind == "image" and channels_first:
        shape = (shape[2], shape[0], shape[1])
    return rng.uniform(size=(batch,) + shape).astype(np.float32)


def time_ort(family, out, threads):
    import numpy as np
    import onnxruntime as ort

    for name, shape, kind, rows in FAMILIES[family]:
        path = os.path.join(out, name + ".onnx")
        if not os.path.exists(path):
            print("# ort: no %s.onnx" % name)
            continue
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.intra_op_num_threads, so.inter_op_num_threads = threads, 1
        sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        for batch, key, unit in rows:
            feed = {"x": inputs(np, batch, shape, kind, True)}
            report("ort", key, unit, batch, timed(lambda: sess.run(None, feed)))


def time_litert(family, out, threads):
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter

    for name, shape, kind, rows in FAMILIES[family]:
        for batch, key, unit in rows:
            path = os.path.join(out, "%s_b%d.tflite" % (name, batch))
            if not os.path.exists(path):
                print("# litert: no %s" % os.path.basename(path))
                continue
            it = Interpreter(model_path=path, num_threads=threads)
            it.allocate_tensors()
            inp, outp = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]
            x = inputs(np, batch, shape, kind, False)

            def call():
                it.set_tensor(inp, x)
                it.invoke()
                return it.get_tensor(outp)
            try:
                report("litert", key, unit, batch, timed(call))
            except RuntimeError as e:
                print("# litert: %s failed: %s" % (os.path.basename(path), str(e).splitlines()[0]))


def main():
    a = sys.argv[1:]
    if len(a) < 3 or a[1] not in FAMILIES or a[0] not in ("onnx", "tflite", "ort", "litert"):
        sys.exit(__doc__)
    if a[0] == "onnx":
        export_onnx(a[1], a[2])
    elif a[0] == "tflite":
        export_tflite(a[1], a[2])
    else:
        (time_ort if a[0] == "ort" else time_litert)(a[1], a[2], int(a[3]) if len(a) > 3 else 1)


if __name__ == "__main__":
    main()
