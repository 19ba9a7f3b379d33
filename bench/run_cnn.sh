#!/usr/bin/env bash
# Builds and runs bench/bench_cnn.c against build/libckeras.a, then the Python
# peers (Keras 3 on JAX, Keras 3 on TensorFlow, PyTorch: each from the first
# python that imports it, bench/peers.sh), all at the same thread count, and
# prints a ratio table (peer time / ckeras time: above 1x means ckeras is
# faster); a missing peer reads n/a.
# Usage: [ROUNDS=n] [PIN=cpus] bench/run_cnn.sh [BUILD_DIR] [THREADS] [--quick]
# (needs a Release build; ROUNDS and PIN: bench/peers.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
THREADS=${2:-$(nproc)}
QUICK=${3:-}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
export OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS
. bench/peers.sh
bench_cc bench/bench_cnn.c "$OUT/bench_cnn"
machine_note "$OUT"
for round in $(seq "$ROUNDS"); do
  echo "== ckeras ($THREADS threads, round $round of $ROUNDS${PIN:+, cpus $PIN})"
  pinned "$OUT/bench_cnn" tests/golden/apps/ResNet50/config.json $QUICK | tee -a "$OUT/ckeras.txt"
  for fw in keras keras-tf torch; do
    py=$(peer_python $fw)
    if [ -z "$py" ]; then
      [ "$round" = 1 ] && echo "# missing peer $fw: $(peer_missing_note $fw); its column reads n/a" | tee -a "$OUT/peers.txt"
      continue
    fi
    echo "== $fw ($py, $THREADS threads)"
    pinned "$py" bench/peers_cnn.py "$fw" "$THREADS" $QUICK 2> "$OUT/$fw.err" | tee -a "$OUT/peers.txt" ||
      echo "# $fw peer failed: $(tail -1 "$OUT/$fw.err")"
  done
done
python3 - "$OUT/ckeras.txt" "$OUT/peers.txt" <<'PY'
import sys
def load(p):
    d = {}
    try:
        for line in open(p):
            if line.startswith("#"): continue
            k, v, u = line.split()[:3]; d[k] = min(float(v), d.get(k, float("inf")))  # best of the rounds
    except FileNotFoundError:
        pass
    return d
c, p = load(sys.argv[1]), load(sys.argv[2])
nan = float("nan")
def fmt(v, w=12, f="%.4g"):
    return ("%" + str(w) + "s") % (f % v if v == v else "n/a")
print("\n%-24s %12s %12s %12s %12s %9s %9s %9s" % ("ms per call", "ckeras", "keras-jax", "keras-tf", "torch",
                                                 "jax/ck", "tf/ck", "torch/ck"))
for key in ["cnn_train_step_b64", "cnn_infer_b1", "cnn_infer_b256", "resnet50_infer_b1", "resnet50_infer_b32"]:
    cv = c.get(key, nan)
    vals = [p.get(pre + key, nan) for pre in ("keras_", "kerastf_", "torch_")]
    print("%-24s %s %s %s" % (key, fmt(cv), " ".join(fmt(v) for v in vals),
                              " ".join(fmt(v / cv, 9, "%.2fx") for v in vals)))
print("targets (issue 4): torch/ck >= 2x on cnn_train_step_b64 and cnn_infer_b256, >= 1.2x on resnet50")
PY
