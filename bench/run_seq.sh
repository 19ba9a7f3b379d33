#!/usr/bin/env bash
# Builds and runs bench/bench_seq.c against build/libckeras.a, then the peers
# (Keras 3 on JAX and on TensorFlow, PyTorch 1.13 and 2, ONNX Runtime and LiteRT
# for inference: each under the first python that imports it, bench/peers.sh),
# and prints a ratio table with best-peer/ckeras; a missing peer reads n/a.
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
  for isa in $(ckeras_isas "$OUT"); do
    echo "== ckeras, kernels $isa"
    CKERAS_ISA=$isa pinned "$OUT/bench_seq" "$THREADS" | tee -a "$OUT/ckeras-$isa.txt"
  done
  for peer in $ALL_PEERS; do
    py=$(peer_python $peer)
    if [ -z "$py" ]; then
      [ "$round" = 1 ] && echo "($peer peer missing: $(peer_missing_note $peer); its column reads n/a)"
      continue
    fi
    any_peer "$peer" "$THREADS" bench/peers_seq.py "$THREADS" "$peer" >> "$OUT/peers.txt" 2> "$OUT/$peer.err" \
        || echo "($peer peer failed: $(tail -1 "$OUT/$peer.err"))"
    grep -q "^$(peer_prefix $peer)_" "$OUT/peers.txt" || echo "($peer peer printed nothing: $(tail -1 "$OUT/$peer.err"))"
  done
done
cat "$OUT/peers.txt"
python3 - "$OUT/peers.txt" "$OUT"/ckeras-*.txt <<'PY'
import sys
sys.path.insert(0, "bench")
import peer_table as t
keys = ["lstm128_inference", "lstm128_train_step", "bilstm_text_inference", "bilstm_text_train_step"]
for isa, c, p in t.by_isa(sys.argv[1], sys.argv[2:]):
    t.print_table("ckeras on %s: ms per call, batch 32 (ORT and LiteRT: inference only)" % isa, c, p,
                  [(k, k, False) for k in keys])
PY
