# Sourced by bench/run_*.sh: finds the interpreter for each Python peer.
# Each peer runs under the first python that can import it, because they live in
# different places: Keras 3 + JAX in the pyenv `python3`, PyTorch 1.13 in
# Debian's /usr/bin/python3 (python3-torch), and in venvs that
# scripts/install-bench-deps.sh makes: Keras 3 + TensorFlow
# (/opt/ckeras-keras-tf), PyTorch 2 from PyPI (/opt/ckeras-torch2), ONNX Runtime
# (/opt/ckeras-ort), LiteRT (/opt/ckeras-litert). "keras-tf" wants Keras 3 (the
# venvs /opt/ckeras-tf2 and /opt/ckeras-tfjs hold tf.keras 2.15 and must not
# count). CKERAS_PEER_PYTHONS overrides the candidate list.
PEER_PYTHONS=${CKERAS_PEER_PYTHONS:-"python3 /usr/bin/python3 /opt/ckeras-keras-tf/bin/python3 \
/opt/ckeras-torch2/bin/python3 /opt/ckeras-ort/bin/python3 /opt/ckeras-litert/bin/python3 python"}
# Every peer, in the tables' column order; "torch" is PyTorch 1.x, "torch2" 2.x.
ALL_PEERS="keras keras-tf torch torch2 ort litert"

# peer_python PEER: prints the interpreter for PEER (keras | keras-tf | torch |
# torch2 | ort | litert), or nothing when none has it.
peer_python() {
  local py check
  case $1 in
    keras) check="import keras, jax" ;;
    keras-tf) check="import tensorflow, keras, sys; sys.exit(int(keras.__version__.split('.')[0]) < 3)" ;;
    torch) check="import torch, sys; sys.exit(int(torch.__version__.split('.')[0]) >= 2)" ;;
    torch2) check="import torch, sys; sys.exit(int(torch.__version__.split('.')[0]) < 2)" ;;
    ort) check="import onnxruntime" ;;
    litert) check="from ai_edge_litert.interpreter import Interpreter" ;;
    *) return 1 ;;
  esac
  for py in $PEER_PYTHONS; do
    if command -v "$py" >/dev/null &&
       env KERAS_BACKEND="$([ "$1" = keras-tf ] && echo tensorflow || echo jax)" TF_CPP_MIN_LOG_LEVEL=3 \
         "$py" -c "$check" >/dev/null 2>&1; then
      echo "$py"; return 0
    fi
  done
}

# Every side of a benchmark runs ROUNDS times (default 1), alternating with the
# others, and the tables take each side's best: on a shared machine one run of
# each says little. PIN (a taskset CPU list, e.g. PIN=1) puts every process on
# the same cores, so that "one thread" means one core for every framework
# (unpinned, PyTorch at one thread still used 1.4 cores here).
ROUNDS=${ROUNDS:-1}
PIN=${PIN:-}
pinned() { if [ -n "$PIN" ]; then taskset -c "$PIN" "$@"; else "$@"; fi; }

# bench_cc SOURCE BINARY: a bench program against $BUILD/libckeras.a.
bench_cc() {
  cc -O2 -std=gnu11 -Iinclude "$1" "$BUILD/libckeras.a" \
     $(pkg-config --libs jansson libzip) -lhdf5_serial -lz -lopenblas -fopenmp -lm \
     $(pkg-config --libs ompi-c 2>/dev/null) $(pkg-config --libs libgvc 2>/dev/null) \
     -o "$2" # Open MPI (src/dist/) and Graphviz (report/plot.c): when the build found them
}

# machine_note DIR: one "# machine:" line (which the tables' readers skip):
# the CPU, the load, and the kernels ckeras runs here (ck_kernel_isa, which
# CKERAS_ISA=avx2 narrows on an AVX-512 CPU). DIR: a scratch folder.
machine_note() {
  printf '#include "ckeras.h"\n#include <stdio.h>\nint main(void) { puts(ck_kernel_isa()); return 0; }\n' \
    > "$1/isa.c"
  bench_cc "$1/isa.c" "$1/isa"
  echo "# machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cpus," \
       "load $(cut -d' ' -f1-4 /proc/loadavg), ckeras kernels $("$1/isa")${CKERAS_ISA:+ (CKERAS_ISA=$CKERAS_ISA)}"
}

# ckeras_isas DIR (after machine_note DIR): the kernel paths to time, widest
# first: "avx512 avx2" on an AVX-512 CPU, so that both tables come from one
# machine, else the one ckeras picks; CKERAS_ISA set by the caller: that one.
ckeras_isas() {
  if [ -n "${CKERAS_ISA:-}" ]; then echo "$CKERAS_ISA"; return; fi
  case $("$1/isa") in avx512) echo "avx512 avx2" ;; *) "$1/isa" ;; esac
}

# peer_missing_note PEER: why a peer's column reads n/a.
peer_missing_note() {
  case $1 in
    keras) echo "no python imports keras + jax" ;;
    keras-tf) echo "no python imports tensorflow + keras>=3 (scripts/install-bench-deps.sh makes /opt/ckeras-keras-tf)" ;;
    torch) echo "no python imports torch 1.x (scripts/install-bench-deps.sh: apt python3-torch)" ;;
    torch2) echo "no python imports torch 2.x (scripts/install-bench-deps.sh makes /opt/ckeras-torch2)" ;;
    ort) echo "no python imports onnxruntime (scripts/install-bench-deps.sh makes /opt/ckeras-ort)" ;;
    litert) echo "no python imports ai_edge_litert (scripts/install-bench-deps.sh makes /opt/ckeras-litert)" ;;
  esac
}

# peer_prefix PEER: the prefix of PEER's lines in the tables (torch2's peers
# print torch_ lines, which run_peer renames).
peer_prefix() { case $1 in keras-tf) echo kerastf ;; *) echo "$1" ;; esac; }

# run_peer PEER PY SCRIPT ARGS...: runs a bench/peers_*.py script for PEER under
# PY (pinned to $PIN); for torch2 it runs the torch peer and renames its lines.
run_peer() {
  local peer=$1 py=$2; shift 2
  if [ "$peer" = torch2 ]; then
    pinned "$py" "$@" | sed 's/^torch_/torch2_/; s/^# torch_/# torch2_/'
  else
    pinned "$py" "$@"
  fi
}

# runtime_peers PEER FAMILY THREADS: ONNX Runtime's or LiteRT's lines for the
# family (bench/peers_runtime.py), their model files written first by a torch
# (ONNX: Debian's 1.13 first, whose exporter needs no extra package) or the
# Keras-on-TensorFlow python (TFLite) into $OUT/models-FAMILY, once per run.
runtime_peers() {
  local peer=$1 family=$2 threads=$3 dir="$OUT/models-$2" maker kind
  if [ "$peer" = ort ]; then kind=onnx; maker=$(peer_python torch); [ -n "$maker" ] || maker=$(peer_python torch2)
  else kind=tflite; maker=$(peer_python keras-tf); fi
  if [ ! -f "$dir/.$kind" ]; then
    mkdir -p "$dir"
    if [ -z "$maker" ]; then echo "# $peer: no python to write its $kind models (torch / keras-tf missing)"
    else TF_CPP_MIN_LOG_LEVEL=3 "$maker" bench/peers_runtime.py $kind "$family" "$dir" 2> "$dir/$kind.err" ||
        echo "# $peer: writing the $kind models failed: $(tail -1 "$dir/$kind.err")"; fi
    touch "$dir/.$kind"
  fi
  pinned "$(peer_python "$peer")" bench/peers_runtime.py "$peer" "$family" "$dir" "$threads"
}

# any_peer PEER THREADS SCRIPT ARGS...: PEER's lines for bench/peers_FAMILY.py
# (SCRIPT) run with ARGS under PEER's python; for ORT and LiteRT, which have no
# script of their own, runtime_peers of that family at THREADS threads.
any_peer() {
  local peer=$1 threads=$2 script=$3 family; family=$(basename "$3" .py); family=${family#peers_}; shift 3
  case $peer in
    ort | litert) runtime_peers "$peer" "$family" "$threads" ;;
    *) run_peer "$peer" "$(peer_python "$peer")" "$script" "$@" ;;
  esac
}
