#!/usr/bin/env bash
# `ckeras export` against its peers (issue 15), one table with ratios:
#   ckeras  the generated C (float, and --int8 calibrated on CALIB), gcc -O2
#           generic and -O2 -march=native; memory = NAME_ARENA_BYTES (the one
#           buffer the caller passes; the code allocates nothing else);
#   keras2c PyPI keras2c's generated C for the same model (default malloc=False:
#           weights are initialized arrays on the stack, copied in each call),
#           with keras2c's C library, same flags; memory = the stack frame gcc
#           reports for the model's function (-fstack-usage);
#   LiteRT  the TFLiteConverter's float and full-integer int8 (post-training,
#           the same calibration rows), run by ai-edge-litert's interpreter at
#           one thread from Python (set_tensor + invoke + get_tensor: the
#           binding's overhead is in the time); memory = LiteRT's tensor
#           arena (bench/peers_export.py's litert_arena: the span TFLite's
#           planner gives the non-constant tensors of an interpreter without
#           XNNPACK, the model's input and output and the ops' im2col buffers
#           included, which ckeras's arena leaves to the caller's in and out;
#           the RSS growth of building the timed interpreter is a "#" line),
#           code = the interpreter's shared library, constants = the .tflite
#           file (both converted at batch 1).
# Times are microseconds per sample at batch 1, the best of ROUNDS runs of CALLS
# samples each (the generated code's: CPU time, see run_ns; LiteRT's: the
# clock of its own loop); "x ckeras" is the peer's -O2 -march=native time (LiteRT's own)
# over ckeras's of the same precision: above 1 means ckeras is faster. Code and
# constants are bytes of x86-64 objects at -O2; CALLGRIND=1 adds instructions
# per sample of the -O2 generic builds (callgrind), which load does not blur. For the Fashion-MNIST models
# (trained by bench/bench_export_train.c, cached in MODELS) a second table gives
# the test accuracy (10000 images) of every float and int8 form.
#
# The peers live in the venv of scripts/install-bench-deps.sh (VENV). keras2c's
# PyPI package ships its Python code only: its C library (include/*.c of its
# source tree) is taken from KERAS2C_SRC; without it the keras2c rows read n/a.
# PEERS=0 runs ckeras alone (e.g. to compare two builds); ONLY="seed mnist_cnn"
# runs those models alone. The machine is shared:
# timings are noisy, which is what the best-of-ROUNDS is for.
# The models: the seed model (the classic Dense(3) -> Dense(2) of the README),
# the Fashion-MNIST MLP and CNN, three real models of tests/data/models.
# Usage: [ROUNDS=3] [KERAS2C_SRC=dir] [PEERS=0] [ONLY=names] [CALLGRIND=1] [TIMER=wall] bench/run_export.sh [BUILD] [CALLS]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=$(realpath "${1:-build}")
CALLS=${2:-1000}
ROUNDS=${ROUNDS:-3}
PEERS=${PEERS:-1}
VENV=${EXPORT_BENCH_VENV:-/opt/ckeras-export-bench}
MODELS=${MODELS:-$HOME/.cache/ckeras-export-bench}
K2C=${KERAS2C_SRC:-}
TIMER=${TIMER:-cpu} # see run_ns
[ "$TIMER" = cpu ] && ! perf stat -x, -e task-clock true >/dev/null 2>&1 && TIMER=wall
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
STRICT="-std=c99 -Wall -Wextra -Werror -pedantic"
. bench/peers.sh
machine_note "$T"
echo "# compiler: $(gcc --version | head -1); $ROUNDS alternating rounds of $CALLS calls, best kept; times: $([ "$TIMER" = cpu ] && echo 'CPU time (perf task-clock)' || echo 'wall clock')"

if [ ! -e "$MODELS/cnn.keras" ]; then
  echo "# training the Fashion-MNIST MLP and CNN into $MODELS (once; minutes)"
  mkdir -p "$MODELS"
  bench_cc bench/bench_export_train.c "$T/train"
  "$T/train" "$MODELS"
fi
py_peers=""
if [ "$PEERS" = 1 ]; then
  if [ -x "$VENV/bin/python3" ] && "$VENV/bin/python3" -c "import keras2c, ai_edge_litert, tensorflow" 2>/dev/null; then
    py_peers="$VENV/bin/python3"
  else
    echo "# peers missing: $VENV lacks keras2c / ai-edge-litert / tensorflow (scripts/install-bench-deps.sh); n/a"
  fi
  [ -n "$K2C" ] && [ -e "$K2C/include/k2c_include.h" ] ||
    { echo "# keras2c's C library missing (KERAS2C_SRC=a keras2c source tree; PyPI ships none): keras2c reads n/a"; K2C=""; }
fi

# name|model file|calibration (.npy)|labels for accuracy (or -)
models=(
  "fashion_mlp|$MODELS/mlp.keras|$MODELS/calib.npy|$MODELS/y_test.npy"
  "fashion_cnn|$MODELS/cnn.keras|$MODELS/calib.npy|$MODELS/y_test.npy"
  "seed|tests/golden/core/classic/config.json|-|-"
  "houseprice|tests/data/models/houseprice_model.h5|-|-"
  "mnist_cnn|tests/data/models/mnist_cnn_akshatv25_k3151.keras|-|-"
  "stock_lstm|tests/data/models/stock_lstm_adjoapanyin_k341.keras|-|-"
)

now() { date +%s%N; }
# Timing: the binaries of one model (ckeras float and int8, keras2c; -O2 and
# -O2 -march=native) run in ROUNDS alternating rounds, each once per round, the
# best of each kept, so that a burst of load hits them all alike. With perf
# (TIMER=cpu, the default where perf stat works) the time is the process's
# CPU time (task-clock), which leaves out the time other processes hold the
# CPU on this shared machine; TIMER=wall takes the wall clock.
# run_ns BIN ARGS...: nanoseconds of one run of BIN (CPU or wall), or "n/a".
run_ns() {
  local t0 t1 ms
  if [ "$TIMER" = cpu ]; then
    ms=$(perf stat -x, -e task-clock -o "$T/perf.txt" "$@" >/dev/null 2>&1 &&
         sed -n 's/^\([0-9.]*\),msec,task-clock.*/\1/p' "$T/perf.txt") || ms=""
    [ -n "$ms" ] && python3 -c "print(int(float('$ms') * 1e6))" || echo n/a
  else
    t0=$(now); "$@" >/dev/null 2>&1 || { echo n/a; return; }; t1=$(now)
    echo $((t1 - t0))
  fi
}
# later BIN ARGS...: queues BIN for time_queued; LATER is the placeholder its
# microseconds per sample take in the rows until then.
queued=()
later() {
  LATER="@T${#queued[@]}@"
  queued+=("$*")
}
# time_queued: ROUNDS alternating rounds of the queued runs, the best of each
# (microseconds per sample) written over its placeholder in the rows.
time_queued() {
  local -a best=()
  local r i ns
  for r in $(seq "$ROUNDS"); do
    for i in "${!queued[@]}"; do
      # shellcheck disable=SC2086
      ns=$(run_ns ${queued[$i]})
      [ "$ns" = n/a ] && { best[$i]=n/a; continue; }
      [ "${best[$i]:-}" = n/a ] && continue
      [ -z "${best[$i]:-}" ] || [ "$ns" -lt "${best[$i]}" ] && best[$i]=$ns
    done
  done
  for i in "${!queued[@]}"; do
    us=n/a; [ "${best[$i]:-n/a}" != n/a ] && us=$(python3 -c "print('%.1f' % (${best[$i]} / $CALLS / 1e3))")
    sed -i "s/@T$i@/$us/" "$R"
  done
  queued=()
}
# instr BIN X OUT: with CALLGRIND=1, instructions per sample (thousands) of BIN
# on X's first 100 rows under callgrind (robust on a loaded machine; -O2
# generic builds only: valgrind has no AVX-512), else "-".
instr() {
  [ "${CALLGRIND:-0}" = 1 ] || { echo -; return; }
  local x100="${2%.npy}_100.npy" n
  [ -e "$x100" ] || python3 -c "import numpy as np, sys; np.save(sys.argv[2], np.load(sys.argv[1])[:100])" "$2" "$x100"
  n=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" "$x100" "$3" 2>&1 | sed -n 's/.*Collected : //p')
  [ -n "$n" ] && python3 -c "print('%.1f' % ($n / 100 / 1e3))" || echo n/a
}
# sizes OBJECT...: "text constants" summed over the objects.
sizes() {
  size -A "$@" | awk '$1 ~ /^\.text/ {t += $2} $1 ~ /^\.(rodata|data)/ {r += $2} END {print t + 0, r + 0}'
}
accuracy() { # OUT.bin LABELS.npy -> accuracy of argmax
  python3 -c "import numpy as np, sys; y = np.load(sys.argv[2]).astype(int); p = np.fromfile(sys.argv[1], np.float32).reshape(len(y), -1); print('%.4f' % np.mean(p.argmax(1) == y))" "$1" "$2"
}

R="$T/rows.txt"; A="$T/acc.txt"; : > "$R"; : > "$A"
row() { echo "$*" >> "$R"; }
for entry in "${models[@]}"; do
  IFS='|' read -r name file calib labels <<< "$entry"
  [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $name "* ]] && continue
  d="$T/$name"; mkdir -p "$d/probe" "$d/float" "$d/int8"
  "$BUILD/ckeras" convert "$file" "$d/model.keras" >/dev/null
  "$BUILD/ckeras" export "$d/model.keras" --c "$d/probe" --name m >/dev/null
  shape=$(sed -n "s|^/\* input 0 '[^']*': (None, \(.*\)) \*/|\1|p" "$d/probe/m.h")
  if [ "$labels" != - ]; then
    python3 -c "import numpy as np; x = np.load('$MODELS/x_test.npy'); np.save('$d/x.npy', x[:$CALLS].reshape(($CALLS, $shape)))"
    xall="$MODELS/x_test.npy"
  else
    python3 -c "import numpy as np; np.random.seed(0); np.save('$d/x.npy', np.random.rand($CALLS, $shape).astype('float32'))"
    calib="$d/x.npy"; xall=""
  fi
  for kind in float int8; do
    k="$d/$kind"; q=""; [ $kind = int8 ] && q="--int8 --calibrate $calib"
    # shellcheck disable=SC2086
    "$BUILD/ckeras" export "$d/model.keras" --c "$k" --name m $q >/dev/null 2>"$k.err" ||
      { row "$name ckeras-$kind n/a n/a - export-failed - - -"; continue; }
    bin=""; [ -e "$k/m_weights.S" ] && bin="$k/m_weights.S"
    gcc $STRICT -O2 -I"$k" tests/export_driver.c "$k/m.c" $bin -lm -o "$k/o2"
    gcc $STRICT -O2 -march=native -I"$k" tests/export_driver.c "$k/m.c" $bin -lm -o "$k/nat"
    gcc $STRICT -O2 -c "$k/m.c" -o "$k/m.o"
    read -r code consts < <(sizes "$k/m.o")
    [ -n "$bin" ] && consts=$(( consts + $(stat -c %s "$k/m_weights.bin") ))
    arena=$(sed -n 's/^#define M_ARENA_BYTES //p' "$k/m.h")
    later "$k/o2" "$d/x.npy" "$k/y.bin"; t_o2=$LATER
    later "$k/nat" "$d/x.npy" "$k/y.bin"; t_nat=$LATER
    row "$name ckeras-$kind $t_o2 $t_nat $arena arena $code $consts $(instr "$k/o2" "$d/x.npy" "$k/y100.bin")"
    [ -n "$xall" ] && "$k/nat" "$xall" "$k/all.bin" && echo "$name ckeras-$kind $(accuracy "$k/all.bin" "$labels")" >> "$A"
  done
  [ -z "$py_peers" ] && { time_queued; continue; }
  p="$d/peers"; mkdir -p "$p"
  # shellcheck disable=SC2046
  "$py_peers" -X faulthandler bench/peers_export.py "$d/model.keras" "$d/x.npy" "$calib" "$p" "$CALLS" "$ROUNDS" \
      $([ "$labels" != - ] && echo "$xall $labels") > "$p/out.txt" 2> "$p/err.txt" || true
  get() { sed -n "s/^$1 $2 //p" "$p/out.txt" | head -1; }
  so=$("$py_peers" -c "import ai_edge_litert.interpreter as i, os, glob; d = os.path.dirname(i.__file__); print(sum(os.path.getsize(f) for f in glob.glob(d + '/*.so')))" 2>/dev/null || echo n/a)
  for kind in float int8; do
    us=$(get "litert-$kind" us); [ -z "$us" ] && us=n/a
    arena=$(get "litert-$kind" arena_bytes); [ -z "$arena" ] && arena=n/a
    rss=$(get "litert-$kind" rss_delta_bytes); [ -z "$rss" ] && rss=n/a
    other=$(get "litert-$kind" other_bytes); note=""
    [ "${other:-0}" != 0 ] && note="; $other B of tensors outside the arena"
    tfl=$(get "litert-$kind" tflite_bytes); [ -z "$tfl" ] && tfl=n/a
    if grep -q "^litert-$kind converting" "$p/out.txt" && [ "$tfl" = n/a ] && ! grep -q "^litert-$kind failed" "$p/out.txt"; then
      echo "# $name: LiteRT $kind: converting it killed the process: $(grep -m1 -o 'Fatal Python error: .*' "$p/err.txt" || echo '(no message)') $(grep -m1 -A1 'most recent call first' "$p/err.txt" | tail -1 | sed 's/^ *File "[^"]*\/\([^"/]*\)", line \([0-9]*\) in /(innermost: \1:\2 /; s/$/)/')"
    fi
    row "$name litert-$kind - $us $arena arena $so $tfl -"
    echo "# $name: LiteRT $kind: RSS growth $rss B building and allocating the timed (XNNPACK) interpreter$note"
    acc=$(get "litert-$kind" accuracy); [ -n "$acc" ] && echo "$name litert-$kind $acc" >> "$A"
  done
  grep -h "failed:" "$p/out.txt" | sed "s/^/# $name: /" || true
  if [ -n "$K2C" ] && grep -q "^keras2c ok" "$p/out.txt"; then
    c="$p/keras2c"; ln -sfn "$K2C/include" "$c/include"
    lib=("$K2C"/include/*.c)
    ok=1
    gcc -std=gnu99 -O2 -I"$c" "$c/driver.c" "$c/k2cm.c" "${lib[@]}" -lm -o "$c/o2" 2>"$c/cc.err" || ok=0
    gcc -std=gnu99 -O2 -march=native -I"$c" "$c/driver.c" "$c/k2cm.c" "${lib[@]}" -lm -o "$c/nat" 2>>"$c/cc.err" || ok=0
    if [ $ok = 1 ]; then
      (cd "$c" && gcc -std=gnu99 -O2 -fstack-usage -c k2cm.c -o k2cm.o && for f in "${lib[@]}"; do gcc -std=gnu99 -O2 -c "$f" -o "lib_$(basename "${f%.c}").o"; done)
      stack=$(awk -F'\t' '$1 ~ /:k2cm$/ {print $2}' "$c/k2cm.su")
      read -r code consts < <(sizes "$c/k2cm.o")
      read -r libcode _ < <(sizes "$c"/lib_*.o)
      ulimit -s unlimited 2>/dev/null || true
      later "$c/o2" "$d/x.npy" "$c/y.bin"; t_o2=$LATER
      later "$c/nat" "$d/x.npy" "$c/y.bin"; t_nat=$LATER
      row "$name keras2c $t_o2 $t_nat ${stack:-n/a} stack $((code + libcode)) $consts $(instr "$c/o2" "$d/x.npy" "$c/y100.bin")"
      k2c_out="$c/y.bin"
    else
      row "$name keras2c n/a n/a - compile-failed - - -"
      echo "# $name: keras2c's code does not compile: $(grep -m1 error "$c/cc.err")"
    fi
  elif [ -n "$K2C" ]; then
    row "$name keras2c n/a n/a - refused - - -"
    echo "# $name: keras2c: $(grep -m1 "^keras2c failed" "$p/out.txt" || tail -1 "$p/err.txt")"
  fi
  time_queued
  # shellcheck disable=SC2154
  [ -n "${k2c_out:-}" ] && [ -e "$k2c_out" ] && [ -e "$d/float/y.bin" ] && python3 -c "import numpy as np, sys; a, b = np.fromfile(sys.argv[1], np.float32), np.fromfile(sys.argv[2], np.float32); print('# $name: keras2c vs ckeras float outputs: max |diff| %.2g' % np.abs(a - b).max())" "$k2c_out" "$d/float/y.bin"
  k2c_out=""
done

echo "# load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
python3 - "$R" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
base = {}
for r in rows:
    if r[1].startswith("ckeras-"):
        base[(r[0], r[1][7:])] = r[3]
def ratio(r):
    prec = "int8" if r[1].endswith("int8") else "float"
    b, t = base.get((r[0], prec)), r[3]
    try:
        return "%.2f" % (float(t) / float(b))
    except (TypeError, ValueError):
        return "n/a"
print("%-12s %-14s %9s %10s %8s %12s %-6s %10s %10s %10s" % ("model", "impl", "-O2 us", "native us", "x ckeras",
      "memory", "(kind)", "code", "constants", "-O2 kinstr"))
for r in rows:
    print("%-12s %-14s %9s %10s %8s %12s %-6s %10s %10s %10s" % (r[0], r[1], r[2], r[3], ratio(r), r[4], r[5], r[6], r[7],
          r[8]))
PY
if [ -s "$A" ]; then
  echo
  python3 - "$A" <<'PY'
import sys
acc = {}
for l in open(sys.argv[1]):
    m, k, a = l.split()
    acc[(m, k)] = float(a)
print("%-12s %-10s %8s %8s %8s" % ("model", "impl", "float", "int8", "int8-fl"))
for m in sorted({m for m, _ in acc}):
    for impl in ("ckeras", "litert"):
        f, q = acc.get((m, impl + "-float")), acc.get((m, impl + "-int8"))
        fmt = lambda v: "n/a" if v is None else "%.4f" % v
        d = "n/a" if f is None or q is None else "%+.4f" % (q - f)
        print("%-12s %-10s %8s %8s %8s" % (m, impl, fmt(f), fmt(q), d))
    a, b = acc.get((m, "ckeras-int8")), acc.get((m, "litert-int8"))
    if a is not None and b is not None:
        print("%-12s int8: ckeras - litert = %+.4f" % (m, a - b))
PY
fi
