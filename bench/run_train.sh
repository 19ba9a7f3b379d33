#!/usr/bin/env bash
# MLP training and inference: ckeras (bench/bench_train.c against BUILD/libckeras.a)
# next to Keras 3 on JAX and on TensorFlow, PyTorch 1.13 and 2
# (bench/peers_train.py), and for inference ONNX Runtime and LiteRT
# (bench/peers_runtime.py; they cannot train), at 1 and 2 threads, each process
# pinned to that many cores with taskset. Each peer runs under the first python
# that imports it (bench/peers.sh); a peer that no python has is reported as
# missing and its column shows n/a. Prints ratio tables with best-peer/ckeras
# (above 1 means ckeras is faster).
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

declare -A PY
for peer in $ALL_PEERS; do PY[$peer]=$(peer_python $peer); done
NCPU=$(nproc)
for t in ${THREADS:-1 2}; do
  [ "$t" -le "$NCPU" ] || continue
  PIN=$(seq -s, 0 $((t - 1)))
  echo "== ckeras, $t thread(s)" >&2
  for isa in $(ckeras_isas "$OUT"); do
    CKERAS_ISA=$isa pinned "$OUT/bench_train" "$t" $QUICK | sed "s/^/t$t:/" >> "$OUT/ckeras-$isa.txt"
  done
  for peer in $ALL_PEERS; do
    [ -n "${PY[$peer]}" ] || continue
    echo "== $peer (${PY[$peer]}), $t thread(s)" >&2
    any_peer "$peer" "$t" bench/peers_train.py "$peer" "$t" $QUICK > "$OUT/p.txt" 2> "$OUT/p.err" ||
      tail -1 "$OUT/p.err" >&2
    sed "s/^/t$t:/" "$OUT/p.txt" >> "$OUT/all.txt"
  done
done
for peer in $ALL_PEERS; do
  [ -n "${PY[$peer]}" ] || echo "peer missing: $peer ($(peer_missing_note $peer)): its column reads n/a"
done
python3 - "$OUT/all.txt" "$OUT"/ckeras-*.txt <<'PY'
import sys
sys.path.insert(0, "bench")
import peer_table as t
for isa, c, p in t.by_isa(sys.argv[1], sys.argv[2:]):
    for thr in ("t1", "t2"):
        keys = sorted({k.split(":", 1)[1] for k in c if k.startswith(thr + ":")})
        if not keys:
            continue
        train = [(k[6:-6] + " (%.0f%% sgemm)" % c.get(thr + ":" + k.replace("_epoch", "_sgemm_frac"), float("nan")),
                  k, False) for k in keys if k.startswith("train_") and k.endswith("_epoch")]
        t.print_table("ckeras on %s, %s thread(s): training, ms per epoch of 8192 samples" % (isa, thr[1:]), c, p,
                      train, thr + ":", thr + ":")
        infer = [(k[6:], k, t.higher(k)) for k in keys if k.startswith("infer_")]
        t.print_table("ckeras on %s, %s thread(s): inference (b1: us; b256/b4096: ksamples/s)" % (isa, thr[1:]),
                      c, p, infer, thr + ":", thr + ":")
PY
