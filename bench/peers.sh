# Sourced by bench/run_*.sh: finds the interpreter for each Python peer.
# Each peer runs under the first python that can import it, because they live in
# different places: Keras 3 + JAX in the pyenv `python3`, PyTorch in Debian's
# /usr/bin/python3 (python3-torch), Keras 3 + TensorFlow in the venv
# /opt/ckeras-keras-tf that scripts/install-bench-deps.sh makes. "keras-tf" wants
# Keras 3 (the venvs /opt/ckeras-tf2 and /opt/ckeras-tfjs hold tf.keras 2.15 and
# must not count). CKERAS_PEER_PYTHONS overrides the candidate list.
PEER_PYTHONS=${CKERAS_PEER_PYTHONS:-"python3 /usr/bin/python3 /opt/ckeras-keras-tf/bin/python3 python"}

# peer_python PEER: prints the interpreter for PEER (keras | keras-tf | torch), or
# nothing when none has it.
peer_python() {
  local py check
  case $1 in
    keras) check="import keras, jax" ;;
    keras-tf) check="import tensorflow, keras, sys; sys.exit(int(keras.__version__.split('.')[0]) < 3)" ;;
    torch) check="import torch" ;;
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

# peer_missing_note PEER: why a peer's column reads n/a.
peer_missing_note() {
  case $1 in
    keras) echo "no python imports keras + jax" ;;
    keras-tf) echo "no python imports tensorflow + keras>=3 (scripts/install-bench-deps.sh makes /opt/ckeras-keras-tf)" ;;
    torch) echo "no python imports torch (scripts/install-bench-deps.sh: apt python3-torch)" ;;
  esac
}
