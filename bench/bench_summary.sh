#!/usr/bin/env bash
# Summary speed: `ckeras summary FILE` (architecture only, no weight data read)
# against Keras 3 in Python (keras.saving.load_model(f, compile=False), then
# model.summary()) on the same files. Python's time includes its interpreter and
# Keras import once per file, as a user running a script would pay; the
# "in-process" column times load_model + summary alone after the import.
# The default files include two big ones (a 25M-parameter MLP, ~100 MB, as .keras
# and legacy .h5) that Keras 3 writes once into bench/results/ (not committed), so
# the "summary never reads the weights" claim is measured where it matters.
# Prints per-file times and the ratios python/ckeras and in-process/ckeras.
# Usage: bench/bench_summary.sh [build-dir] [files...]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}; shift || true
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(tests/data/models/churn_tanishk_model.h5 tests/data/models/alphabets_keras36_model.h5
  tests/data/models/flownet_25-06_model.keras tests/data/models/houseprice_model.h5 tests/golden/files/func_merge/model.keras)
if [ ${#@} -eq 0 ] && [ "${files[0]}" = tests/data/models/churn_tanishk_model.h5 ]; then
  mkdir -p bench/results
  if [ ! -f bench/results/big_mlp.keras ] || [ ! -f bench/results/big_mlp.h5 ]; then
    KERAS_BACKEND=jax JAX_PLATFORMS=cpu python3 - <<'PY' 2>/dev/null
import keras
m = keras.Sequential([keras.Input((2048,))] + [keras.layers.Dense(2048, activation="relu") for _ in range(6)]
                     + [keras.layers.Dense(10)], name="big_mlp")
m.save("bench/results/big_mlp.keras")
m.save("bench/results/big_mlp.h5")
PY
  fi
  files+=(bench/results/big_mlp.keras bench/results/big_mlp.h5)
fi
now() { date +%s.%N; }
printf "%-30s %10s %12s %14s %10s %10s\n" file "ckeras ms" "python ms" "in-process ms" "python/c" "inproc/c"
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
  r1=$(echo "$p / $c" | bc -l)
  r2=$( [ "$inproc" = nan ] && echo 0 || echo "$inproc / $c" | bc -l)
  printf "%-30s %10.2f %12.1f %14s %9.0fx %9.0fx\n" "$(basename "$f")" "$c" "$p" "$(printf '%.1f' "$inproc" 2>/dev/null || echo n/a)" "$r1" "$r2"
done
