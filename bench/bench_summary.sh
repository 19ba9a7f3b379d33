#!/usr/bin/env bash
# Summary speed: `ckeras summary FILE` (architecture only, no weight data read)
# against Keras 3 in Python (keras.saving.load_model(f, compile=False), then
# model.summary()) on the same files. Python's time includes its interpreter and
# Keras import once per file, as a user running a script would pay; the
# "in-process" column times load_model + summary alone after the import.
# Usage: bench/bench_summary.sh [build-dir] [files...]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}; shift || true
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(tests/data/models/churn_tanishk_model.h5 tests/data/models/alphabets_keras36_model.h5
  tests/data/models/flownet_25-06_model.keras tests/data/models/houseprice_model.h5 tests/golden/files/func_merge/model.keras)
now() { date +%s.%N; }
printf "%-48s %12s %14s %14s\n" file "ckeras ms" "python ms" "in-process ms"
for f in "${files[@]}"; do
  t0=$(now)
  for _ in 1 2 3 4 5; do "$BUILD/ckeras" summary "$f" >/dev/null; done
  t1=$(now)
  c=$(echo "($t1 - $t0) * 1000 / 5" | bc -l)
  t0=$(now)
  inproc=$(KERAS_BACKEND=jax JAX_PLATFORMS=cpu python3 - "$f" 2>/dev/null <<'PY'
import sys, time, io, contextlib
import keras
t = time.perf_counter()
m = keras.saving.load_model(sys.argv[1], compile=False)
with contextlib.redirect_stdout(io.StringIO()):
    m.summary()
print((time.perf_counter() - t) * 1000)
PY
) || inproc=nan
  t1=$(now)
  p=$(echo "($t1 - $t0) * 1000" | bc -l)
  printf "%-48s %12.2f %14.1f %14s\n" "$(basename "$f")" "$c" "$p" "$(printf '%.1f' "$inproc" 2>/dev/null || echo n/a)"
done
