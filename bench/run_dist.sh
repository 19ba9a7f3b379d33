#!/usr/bin/env bash
# Data-parallel fit on this machine: 1 and 2 ranks (one thread each, each rank
# pinned to its own core), the MLP (784-512-256-10) and the small MNIST CNN at a
# global batch of 64 (Adam). Per model: the step time at 1 and 2 ranks, the time
# blocked on the gradient reductions after backward with one bucket (it starts
# when backward ends: nothing overlaps) and with small buckets (each starts from
# backward as soon as its gradients are final), and the overlap that gives; then
# the blocking MPI_Allreduce cost by size, and the scaling model of
# bench/README.md fed with the measured numbers. Loopback TCP only; the machine's
# cores are shared, so every number is noisy: run it twice before quoting one.
# Usage: bench/run_dist.sh [BUILD_DIR] [STEPS]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
STEPS=${2:-40}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
mpicc -O2 -std=gnu11 -Iinclude bench/bench_dist.c "$BUILD/libckeras.a" \
  $(pkg-config --libs jansson libzip) -lhdf5_serial -lz -lopenblas -fopenmp -lm -o "$OUT/bench_dist"
MPIRUN=(mpirun --oversubscribe --allow-run-as-root --mca btl self,tcp --mca btl_tcp_if_include lo
        --mca oob_tcp_if_include lo --bind-to core --map-by core -x OMP_NUM_THREADS -x OPENBLAS_NUM_THREADS)
run() { # run NP MODEL BUCKET_MB REDUCTION -> key value lines, prefixed
  "${MPIRUN[@]}" -np "$1" "$OUT/bench_dist" "$2" "$3" "$4" "$STEPS" | sed "s/^/$2 np$1 b$3 $4 /"
}
for model in mlp cnn; do
  run 1 "$model" 1000 ordered
  for red in ordered mpi; do
    run 2 "$model" 1000 "$red"   # one bucket: no overlap
    run 2 "$model" 0.25 "$red"   # buckets of 256 KB: reductions start during backward
    run 2 "$model" 25 "$red"     # the default (PyTorch DDP's 25 MB)
  done
done > "$OUT/runs.txt"
"${MPIRUN[@]}" -np 2 "$OUT/bench_dist" allreduce 0 mpi > "$OUT/allreduce.txt"
cat "$OUT/allreduce.txt"
python3 - "$OUT/runs.txt" "$OUT/allreduce.txt" <<'PY'
import sys, math
r = {}
for line in open(sys.argv[1]):
    model, np_, b, red, key, val = line.split()[:6]
    r[(model, np_, b, red, key)] = float(val)
ar = {int(l.split()[0].split("_")[1]): float(l.split()[1]) for l in open(sys.argv[2])}
print("\n%-5s %-8s %9s %9s %8s %13s %13s %8s %8s" % ("model", "reduce", "1 rank", "2 ranks", "speedup",
      "wait 1 bucket", "wait buckets", "overlap", "MB/step"))
for model in ("mlp", "cnn"):
    t1 = r[(model, "np1", "b1000", "ordered", "step")]
    for red in ("ordered", "mpi"):
        one = r[(model, "np2", "b1000", red, "wait")]
        many = r[(model, "np2", "b0.25", red, "wait")]
        t2 = r[(model, "np2", "b0.25", red, "step")]
        mb = r[(model, "np2", "b0.25", red, "bytes")] / 2**20
        print("%-5s %-8s %7.2fms %7.2fms %7.2fx %11.3fms %11.3fms %7.0f%% %8.2f" % (model, red, t1, t2, t1 / t2,
              one, many, 100 * (1 - many / one) if one > 0 else float("nan"), mb))
    print("%-5s default 25 MB buckets (one bucket here): 2-rank step %.2f ms (ordered), %.2f ms (mpi)" % (model,
          r[(model, "np2", "b25", "ordered", "step")], r[(model, "np2", "b25", "mpi", "step")]))
# scaling model: ring allreduce of S bytes on N machines costs 2(N-1) alpha + 2(N-1)/N S / BW; the
# part not hidden behind backward (1 - overlap) adds to each step; per-machine batch fixed (Horovod's
# weak scaling, 64 per machine), compute per step = the measured 1-rank step at batch 64.
small, big = min(ar), max(ar)
bw_lo = (big - small) / ((ar[big] - ar[small]) * 1e-3)          # bytes/s on loopback, from 2 ranks
alpha_lo = ar[small] * 1e-3 / 2                                 # 2(N-1) = 2 latencies at N = 2
print("\nloopback (2 ranks): allreduce latency %.1f us, bandwidth %.2f GB/s (fit of %d B..%d B)" %
      (alpha_lo * 1e6, bw_lo / 1e9, small, big))
nets = [("loopback as measured", alpha_lo, bw_lo), ("10 Gb/s Ethernet, 30 us", 30e-6, 10e9 / 8),
        ("25 Gb/s RoCE, 5 us", 5e-6, 25e9 / 8)]
print("\nmodelled scaling efficiency (per-machine batch 64, compute = measured 1-rank step):")
print("%-5s %-26s %8s %8s %8s %8s" % ("model", "network", "N=8", "N=16", "N=32", "N=64"))
for model in ("mlp", "cnn"):
    t = r[(model, "np1", "b1000", "ordered", "step")] * 1e-3
    S = r[(model, "np2", "b0.25", "mpi", "bytes")]
    one = r[(model, "np2", "b1000", "mpi", "wait")]
    ov = max(0.0, 1 - r[(model, "np2", "b0.25", "mpi", "wait")] / one) if one > 0 else 0.0
    for name, a, bw in nets:
        effs = []
        for n in (8, 16, 32, 64):
            tar = 2 * (n - 1) * a + 2 * (n - 1) / n * S / bw
            effs.append(t / (t + (1 - ov) * tar))
        print("%-5s %-26s %s" % (model, name, " ".join("%7.0f%%" % (100 * e) for e in effs)))
print("Horovod (128 servers x 4 Pascal GPUs, 25 Gb/s RoCE, 512 GPUs): 90% Inception V3 and ResNet-101, 68% VGG-16")
PY
