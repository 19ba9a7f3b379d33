"""The peers of bench/run_export.sh for one model: keras2c's C code and LiteRT
(float, and full-integer int8 post-training quantization from the same
calibration rows ckeras gets). Run by the venv scripts/install-bench-deps.sh
makes (TensorFlow for keras2c and the TFLite converter, ai-edge-litert for
the interpreter). Writes into OUT: keras2c/ (NAME.c, NAME.h and driver.c, a
main that runs the model on each row of an .npy file one by one and writes the
outputs, as tests/export_driver.c does for ckeras), float.tflite, int8.tflite,
and prints "key value" lines: LiteRT's time per invoke() at batch 1 (best of
ROUNDS runs of CALLS calls, one thread), LiteRT's tensor arena (see
litert_arena), the RSS growth of building the interpreter and allocating its
tensors (arena, XNNPACK's packed weights and the interpreter's own
structures), the .tflite sizes, and, given labels, the test accuracy of each
LiteRT model. The models are converted at batch 1, the batch ckeras's code
runs (at batch None Keras 3's Flatten becomes a Shape -> Reshape chain whose
tensors TFLite sizes at run time, outside its arena). A step that
fails prints "KIND failed: why" and the others go on.
Usage: peers_export.py MODEL.keras X.npy CALIB.npy OUT CALLS ROUNDS [X_TEST.npy Y_TEST.npy]"""
import os
import resource
import sys
import time
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def one_call_functional(model):
    """A Sequential model rebuilt as a functional one from fresh copies of its
    layers, with its weights: in Keras 3 a Sequential model's layers are called
    twice (when built and in its graph), and keras2c, which follows tensors by
    name from layer.input, finds no path through them (it loops forever)."""
    import keras

    if not isinstance(model, keras.Sequential):
        return model
    x = inp = keras.Input(shape=model.inputs[0].shape[1:], batch_size=None)
    for layer in model.layers:
        fresh = layer.__class__.from_config(layer.get_config())
        x = fresh(x)
        fresh.set_weights(layer.get_weights())
    return keras.Model(inp, x)


def keras2c_code(model, out):
    from keras2c import k2c
    from keras2c.io_parsing import get_model_io_names

    model = one_call_functional(model)

    d = os.path.join(out, "keras2c")
    os.makedirs(d, exist_ok=True)
    cwd = os.getcwd()
    os.chdir(d)
    try:
        k2c(model, "k2cm", malloc=False, num_tests=0, verbose=False)
    finally:
        os.chdir(cwd)
    ins, outs = get_model_io_names(model)
    if len(ins) != 1 or len(outs) != 1:
        raise RuntimeError("one input and one output only")
    in_shape = [int(v) for v in model.inputs[0].shape[1:]]
    out_shape = [int(v) for v in model.outputs[0].shape[1:]]
    n_in, n_out = int(np.prod(in_shape)), int(np.prod(out_shape))

    def dims(s):
        return ", ".join(str(v) for v in s + [1] * (5 - len(s)))

    with open(os.path.join(d, "driver.c"), "w") as f:
        f.write(DRIVER % dict(n_in=n_in, n_out=n_out, in_ndim=len(in_shape), out_ndim=len(out_shape),
                              in_dims=dims(in_shape), out_dims=dims(out_shape), inp=ins[0], outp=outs[0]))
    print("keras2c ok")


# A main for keras2c's function: every row of an .npy (or raw) file of floats,
# one call each, outputs written raw (the same work as tests/export_driver.c).
DRIVER = r"""#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "k2cm.h"
int main(int argc, char **argv)
{
    FILE *f = fopen(argv[1], "rb");
    unsigned char head[10];
    long size, start = 0, rows, r;
    float *x, *y;
    if (!f || fread(head, 1, 10, f) != 10) return 1;
    if (!memcmp(head, "\x93NUMPY", 6)) start = 10 + (head[8] | head[9] << 8);
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, start, SEEK_SET);
    rows = (size - start) / 4 / %(n_in)d;
    x = malloc((size_t)(rows * %(n_in)d) * sizeof *x);
    y = malloc((size_t)(rows * %(n_out)d) * sizeof *y);
    if (!x || !y || fread(x, 4, (size_t)(rows * %(n_in)d), f) != (size_t)(rows * %(n_in)d)) return 1;
    fclose(f);
    k2cm_initialize();
    for (r = 0; r < rows; r++) {
        k2c_tensor in = {x + r * %(n_in)d, %(in_ndim)d, %(n_in)d, {%(in_dims)s}};
        k2c_tensor out = {y + r * %(n_out)d, %(out_ndim)d, %(n_out)d, {%(out_dims)s}};
        k2cm(&in, &out);
    }
    k2cm_terminate();
    f = fopen(argv[2], "wb");
    if (!f || fwrite(y, 4, (size_t)(rows * %(n_out)d), f) != (size_t)(rows * %(n_out)d)) return 1;
    fclose(f);
    free(x), free(y);
    return 0;
}
"""


def batch_one(model):
    """The model called on an Input of batch 1 (static shapes for the converter)."""
    import keras

    inp = keras.Input(shape=model.inputs[0].shape[1:], batch_size=1)
    return keras.Model(inp, model(inp))


def tflite_model(kind, model, calib, out):
    """Converts the batch-1 model to KIND.tflite: float, or full-integer int8
    (float input and output, int8 everything between, as ckeras --int8)."""
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    if kind == "int8":
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = lambda: ([calib[i:i + 1]] for i in range(len(calib)))
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    flat = conv.convert()
    with open(os.path.join(out, kind + ".tflite"), "wb") as f:
        f.write(flat)
    print("litert-" + kind, "tflite_bytes", len(flat))


def litert_arena(kind, content):
    """LiteRT's tensor arena: an interpreter without default delegates (XNNPACK
    would take the tensors of the ops it runs out of the arena), after
    allocate_tensors(); every tensor whose data does not lie in the model's
    flatbuffer (constants do) is placed by TFLite's arena planner, inputs,
    outputs and the ops' temporaries (im2col) included. The arena is the span
    from the lowest such address to the highest end, taken over the cluster of
    tensors holding the model's input (intervals less than 64 KiB apart); bytes
    of tensors outside it (a persistent arena, run-time sized tensors) are
    printed as other_bytes. The Python API reports no arena size itself, and
    lists subgraph 0's tensors only: a model with control flow (a WHILE loop's
    body subgraphs, each with an arena of its own) reads ">=" the bytes seen."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    it = Interpreter(model_content=content, num_threads=1,
                     experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    it.allocate_tensors()
    flat = np.frombuffer(content, np.uint8)
    lo, hi = flat.ctypes.data, flat.ctypes.data + len(content)
    spans, other = [], 0
    for d in it.get_tensor_details():
        size = int(np.prod(d["shape"])) * np.dtype(d["dtype"]).itemsize
        try:
            v = it.tensor(d["index"])()
        except ValueError:  # no data yet: sized at run time
            other += size
            continue
        if not isinstance(v, np.ndarray):
            other += size
            continue
        at = v.__array_interface__["data"][0]
        if not lo <= at < hi:
            spans.append((at, at + v.nbytes, d["index"]))
    spans.sort()
    start = it.tensor(it.get_input_details()[0]["index"])().__array_interface__["data"][0]
    clusters, cur = [], []
    for a, b, i in spans:
        if cur and a > max(e for _, e, _ in cur) + 65536:
            clusters.append(cur)
            cur = []
        cur.append((a, b, i))
    if cur:
        clusters.append(cur)
    arena = next((c for c in clusters if any(a <= start < b for a, b, _ in c)), [])
    other += sum(b - a for c in clusters if c is not arena for a, b, _ in c)
    span = max(b for _, b, _ in arena) - min(a for a, _, _ in arena) if arena else 0
    if it.num_subgraphs() > 1:  # control flow (an LSTM's WHILE): the bodies' arenas are not listed
        print(kind, "arena_bytes", ">=%d" % (span + other))
    else:
        print(kind, "arena_bytes", span if arena else "n/a")
    print(kind, "other_bytes", other)


def litert_run(kind, path, x, calls, rounds, test):
    from ai_edge_litert.interpreter import Interpreter

    content = open(path, "rb").read()
    litert_arena(kind, content)
    before = rss_kib()
    it = Interpreter(model_content=content, num_threads=1)
    it.allocate_tensors()
    print(kind, "rss_delta_bytes", (rss_kib() - before) * 1024)
    inp, outp = it.get_input_details()[0], it.get_output_details()[0]
    shape = inp["shape"]
    rows = x.reshape((-1,) + tuple(shape[1:]))
    best = None
    for _ in range(rounds):
        t0 = time.perf_counter()
        for i in range(calls):
            it.set_tensor(inp["index"], rows[i % len(rows)][None])
            it.invoke()
            it.get_tensor(outp["index"])
        t = (time.perf_counter() - t0) / calls * 1e6
        best = t if best is None else min(best, t)
    print(kind, "us", "%.1f" % best)
    if test is not None:
        xt, y = test[0].reshape((-1,) + tuple(shape[1:])), test[1]
        preds = np.empty((len(y),), np.int64)
        for i in range(len(y)):
            it.set_tensor(inp["index"], xt[i][None])
            it.invoke()
            preds[i] = np.argmax(it.get_tensor(outp["index"])[0])
        print(kind, "accuracy", "%.4f" % np.mean(preds == y.astype(np.int64)))


def step(kind, fn, *args):
    try:
        fn(*args)
    except Exception as e:  # a peer that cannot take the model reads n/a
        traceback.print_exc(file=sys.stderr)
        print(kind, "failed:", str(e).splitlines()[0] if str(e) else type(e).__name__)


def main():
    model_path, x_path, calib_path, out, calls, rounds = sys.argv[1:7]
    test = (np.load(sys.argv[7]).astype(np.float32), np.load(sys.argv[8])) if len(sys.argv) > 8 else None
    calls, rounds = int(calls), int(rounds)
    import keras

    model = keras.saving.load_model(model_path, compile=False)
    x = np.load(x_path).astype(np.float32)
    calib = np.load(calib_path).astype(np.float32).reshape((-1,) + tuple(model.inputs[0].shape[1:]))
    resource.setrlimit(resource.RLIMIT_STACK, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    step("keras2c", keras2c_code, model, out)
    one = batch_one(model)
    # float first, each printed as it comes: TensorFlow's int8 calibrator
    # kills the process on some models (the stock LSTM at batch 1)
    for kind in ("float", "int8"):
        print("litert-" + kind, "converting", flush=True)
        step("litert-" + kind, tflite_model, kind, one, calib, out)
        p = os.path.join(out, kind + ".tflite")
        if os.path.exists(p):
            step("litert-" + kind, litert_run, "litert-" + kind, p, x, calls, rounds, test)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
