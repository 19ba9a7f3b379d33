#!/usr/bin/env bash
# Counts the futex calls of the CNN's inference calls (bench_cnn --predict)
# with `strace -c -f`: a call's share is the count over CALLS calls less the
# count of the same run with none, over CALLS. At one thread ckeras opens no
# OpenMP region at all (a region of one thread still costs libgomp's barrier
# futex calls: 76 per batch-1 call before), so those rows must read 0; the
# script exits non-zero if one does not. The 2-thread rows are for reading
# (a team's fork and join wake threads; work too small to split stays at one
# thread, and a busy machine drops to one).
# Usage: bench/run_futex.sh [build] [calls]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
CALLS=${2:-200}
command -v strace >/dev/null || { echo "run_futex.sh: needs strace"; exit 2; }
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
. bench/peers.sh
bench_cc bench/bench_cnn.c "$OUT/bench_cnn"
machine_note "$OUT"
futexes() { # threads rows calls
  OMP_NUM_THREADS=$1 strace -f -c -e trace=futex -o "$OUT/trace" "$OUT/bench_cnn" --predict "$2" "$3" >/dev/null
  awk '$NF == "futex" { n = $(NF - 1) ~ /^[0-9]+$/ ? $(NF - 1) : $(NF - 2) } END { print n + 0 }' "$OUT/trace"
}
printf "%-8s %-6s %14s\n" threads batch "futex per call"
status=0
for threads in 1 2; do
  for rows in 1 256; do
    base=$(futexes "$threads" "$rows" 0)
    calls=$([ "$rows" = 1 ] && echo "$CALLS" || echo $((CALLS / 10)))
    total=$(futexes "$threads" "$rows" "$calls")
    per=$(awk -v a="$total" -v b="$base" -v n="$calls" 'BEGIN { printf "%.2f", (a - b) / n }')
    printf "%-8s %-6s %14s\n" "$threads" "$rows" "$per"
    if [ "$threads" = 1 ] && [ "$total" != "$base" ]; then status=1; fi
  done
done
[ $status = 0 ] && echo "one thread: no futex call per predict" || echo "FAIL: futex calls at one thread"
exit $status
