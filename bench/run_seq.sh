#!/usr/bin/env bash
# Builds and runs bench/bench_seq.c against build/libckeras.a, then the Python
# peers (Keras on JAX with the python that has keras, PyTorch with the python that
# has torch, e.g. Debian's /usr/bin/python3), and prints a ratio table.
# Usage: bench/run_seq.sh [BUILD_DIR] [THREADS]   (needs a Release build)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
THREADS=${2:-$(nproc)}
export KERAS_BACKEND=jax
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
cc -O2 -std=gnu11 -Iinclude bench/bench_seq.c "$BUILD/libckeras.a" \
   $(pkg-config --libs jansson libzip) -lopenblas -fopenmp -lm -lz -o "$OUT/bench_seq"
echo "threads: $THREADS (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
"$OUT/bench_seq" "$THREADS" | tee "$OUT/ckeras.txt"
: > "$OUT/peers.txt"
# each peer with the first interpreter that can import it
for peer in keras torch; do
    for py in python3 /usr/bin/python3; do
        if "$py" -c "import $peer" 2>/dev/null; then
            "$py" bench/peers_seq.py "$THREADS" "$peer" >> "$OUT/peers.txt" 2> "$OUT/$peer.err" \
                || echo "($peer peer failed: $(tail -1 "$OUT/$peer.err"))"
            break
        fi
    done
    grep -q "^${peer}_" "$OUT/peers.txt" || echo "($peer peer missing: no python here imports $peer)"
done
cat "$OUT/peers.txt"
python3 - "$OUT/ckeras.txt" "$OUT/peers.txt" <<'PY'
import sys
def load(p):
    d = {}
    for line in open(p):
        parts = line.split()
        if len(parts) >= 3:
            d[parts[0]] = float(parts[1])
    return d
c, p = load(sys.argv[1]), load(sys.argv[2])
print("\n%-28s %12s %12s %12s %18s" % ("measurement (ms, lower wins)", "ckeras", "keras-jax", "torch", "torch/ckeras"))
for key in ["lstm128_inference", "lstm128_train_step", "bilstm_text_inference", "bilstm_text_train_step"]:
    cv = c.get(key, float("nan"))
    kv, tv = p.get("keras_" + key, float("nan")), p.get("torch_" + key, float("nan"))
    ratio = "%.2fx" % (tv / cv) if tv == tv and cv == cv else "n/a (no torch)"
    print("%-28s %12.3f %12.3f %12.3f %18s" % (key, cv, kv, tv, ratio))
print("target: torch/ckeras >= 1.2 at the same thread count")
PY
