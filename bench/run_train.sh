#!/usr/bin/env bash
# MLP training and inference: ckeras (bench/bench_train.c against BUILD/libckeras.a)
# next to Keras 3 on JAX, Keras 3 on TensorFlow and PyTorch (bench/peers_train.py),
# at 1 and 2 threads, each process pinned to that many cores with taskset. Each
# peer runs under the first python that imports it (bench/peers.sh: the pyenv
# python has Keras + JAX, Debian's /usr/bin/python3 has python3-torch, the venv
# /opt/ckeras-keras-tf has Keras 3 + TensorFlow); a peer that no python has is
# reported as missing and its column shows n/a. Prints a ratio table (peer time / ckeras
# time: above 1 means ckeras is faster).
# Usage: [THREADS="1 2"] bench/run_train.sh [BUILD_DIR] [quick]   (needs a Release build)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
QUICK=${2:-}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
. bench/peers.sh
bench_cc bench/bench_train.c "$OUT/bench_train"
machine_note "$OUT"

PEERS="keras keras-tf torch"
declare -A PY
for peer in $PEERS; do PY[$peer]=$(peer_python $peer); done
NCPU=$(nproc)
for t in ${THREADS:-1 2}; do
  [ "$t" -le "$NCPU" ] || continue
  cpus=$(seq -s, 0 $((t - 1)))
  echo "== ckeras, $t thread(s)" >&2
  taskset -c "$cpus" "$OUT/bench_train" "$t" $QUICK | sed "s/^/t$t /" >> "$OUT/all.txt"
  for peer in $PEERS; do
    py=${PY[$peer]}
    if [ -z "$py" ]; then echo "t$t missing $peer" >> "$OUT/all.txt"; continue; fi
    echo "== $peer ($py), $t thread(s)" >&2
    if ! taskset -c "$cpus" "$py" bench/peers_train.py $peer "$t" $QUICK > "$OUT/p.txt" 2> "$OUT/p.err"; then
      echo "t$t missing $peer" >> "$OUT/all.txt"; tail -1 "$OUT/p.err" >&2
    fi
    sed "s/^/t$t /" "$OUT/p.txt" >> "$OUT/all.txt"
  done
done
for peer in $PEERS; do
  [ -n "${PY[$peer]}" ] || echo "peer missing: $peer ($(peer_missing_note $peer)): its column reads n/a"
done
python3 - "$OUT/all.txt" <<'PY'
import sys
vals, missing = {}, set()
for line in open(sys.argv[1]):
    f = line.split()
    if f[1] == "missing":
        missing.add((f[0], f[2])); continue
    vals[(f[0], f[1])] = float(f[2])
def get(t, key):
    return vals.get((t, key), float("nan"))
def fmt(v, w=10, p="%.4g"):
    return ("%" + str(w) + "s") % (p % v if v == v else "n/a")
print("\nTraining, one epoch of 8192 samples (ms; ratio = peer / ckeras, > 1: ckeras faster)")
print("%-3s %-28s %10s %10s %10s %10s %9s %9s %9s %10s" % ("thr", "workload", "ckeras", "keras-jax", "keras-tf", "torch",
                                                           "jax/ck", "tf/ck", "torch/ck", "% sgemm"))
for t in ("t1", "t2"):
    for key in sorted({k for (tt, k) in vals if tt == t and k.startswith("train_") and k.endswith("_epoch")}):
        c, k, f, p = get(t, key), get(t, "keras_" + key), get(t, "kerastf_" + key), get(t, "torch_" + key)
        frac = get(t, key.replace("_epoch", "_sgemm_frac"))
        print("%-3s %-28s %s %s %s %s %s %s %s %s" % (t[1:], key[6:-6], fmt(c), fmt(k), fmt(f), fmt(p),
                                                      fmt(k / c, 9, "%.2fx"), fmt(f / c, 9, "%.2fx"),
                                                      fmt(p / c, 9, "%.2fx"), fmt(frac, 10, "%.0f%%")))
print("\nInference (b1: latency in us, ratio = peer / ckeras; b256/b4096: ksamples/s, ratio = ckeras / peer)")
print("%-3s %-28s %10s %10s %10s %10s %9s %9s %9s" % ("thr", "workload", "ckeras", "keras-jax", "keras-tf", "torch",
                                                     "vs jax", "vs tf", "vs torch"))
for t in ("t1", "t2"):
    for key in sorted({k for (tt, k) in vals if tt == t and k.startswith("infer_")}):
        c = get(t, key)
        peers = [get(t, pre + key) for pre in ("keras_", "kerastf_", "torch_")]
        lat = key.endswith("latency")
        ratios = [(v / c if lat else c / v) for v in peers]
        print("%-3s %-28s %s %s %s" % (t[1:], key[6:], fmt(c), " ".join(fmt(v) for v in peers),
                                       " ".join(fmt(r, 9, "%.2fx") for r in ratios)))
for t, peer in sorted(missing):
    print("(%s thread(s): %s peer missing)" % (t[1:], peer))
PY
