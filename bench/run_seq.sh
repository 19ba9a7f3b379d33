#!/usr/bin/env bash
# Builds and runs bench/bench_seq.c against build/libckeras.a, then the Python
# peers (Keras 3 on JAX, Keras 3 on TensorFlow, PyTorch: each under the first
# python that imports it, bench/peers.sh), and prints a ratio table; a missing
# peer reads n/a.
# Usage: [ROUNDS=n] [PIN=cpus] bench/run_seq.sh [BUILD_DIR] [THREADS]
# (needs a Release build; ROUNDS and PIN: bench/peers.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
THREADS=${2:-$(nproc)}
export KERAS_BACKEND=jax
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
. bench/peers.sh
bench_cc bench/bench_seq.c "$OUT/bench_seq"
machine_note "$OUT"
echo "threads: $THREADS (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
: > "$OUT/peers.txt"
# each peer with the first interpreter that can import it
for round in $(seq "$ROUNDS"); do
  pinned "$OUT/bench_seq" "$THREADS" | tee -a "$OUT/ckeras.txt"
  for peer in keras keras-tf torch; do
    py=$(peer_python $peer)
    if [ -z "$py" ]; then
      [ "$round" = 1 ] && echo "($peer peer missing: $(peer_missing_note $peer); its column reads n/a)"
      continue
    fi
    pinned "$py" bench/peers_seq.py "$THREADS" "$peer" >> "$OUT/peers.txt" 2> "$OUT/$peer.err" \
        || echo "($peer peer failed: $(tail -1 "$OUT/$peer.err"))"
    grep -q "^${peer/keras-tf/kerastf}_" "$OUT/peers.txt" || echo "($peer peer printed nothing: $(tail -1 "$OUT/$peer.err"))"
  done
done
cat "$OUT/peers.txt"
python3 - "$OUT/ckeras.txt" "$OUT/peers.txt" <<'PY'
import sys
def load(p):
    d = {}
    for line in open(p):
        parts = line.split()
        if len(parts) >= 3 and not line.startswith("#"):
            d[parts[0]] = min(float(parts[1]), d.get(parts[0], float("inf")))  # best of the rounds
    return d
c, p = load(sys.argv[1]), load(sys.argv[2])
nan = float("nan")
def fmt(v, w=12, f="%.3f"):
    return ("%" + str(w) + "s") % (f % v if v == v else "n/a")
print("\n%-28s %12s %12s %12s %12s %9s %9s %9s" % ("measurement (ms, lower wins)", "ckeras", "keras-jax", "keras-tf",
                                                 "torch", "jax/ck", "tf/ck", "torch/ck"))
for key in ["lstm128_inference", "lstm128_train_step", "bilstm_text_inference", "bilstm_text_train_step"]:
    cv = c.get(key, nan)
    vals = [p.get(pre + key, nan) for pre in ("keras_", "kerastf_", "torch_")]
    print("%-28s %s %s %s" % (key, fmt(cv), " ".join(fmt(v) for v in vals),
                              " ".join(fmt(v / cv, 9, "%.2fx") for v in vals)))
print("target: torch/ckeras >= 1.2 at the same thread count")
PY
