#!/usr/bin/env bash
# Installs what ckeras needs and is missing: Debian packages for the C build and the
# Python packages the oracle scripts (real Keras) use. Safe to run again: it only
# installs what is absent. Pass --no-python to skip the oracle's Python packages.
set -euo pipefail

# python3-venv: scripts/install-oracle-venvs.sh (TensorFlow 2.15 for .ci/run's TF.js check).
# man-db and zsh: tests/cli renders the man pages and checks the zsh completion.
# libopenmpi-dev and openmpi-bin: data-parallel fit (src/dist/) and its tests.
# libgraphviz-dev, graphviz (its plugins) and a font: plot_model pictures (src/report/plot.c).
# clang, the cross compilers and qemu-user build and run the code `ckeras export`
# writes (tests/test_export.c, tests/export_cross.sh; newlib: the Cortex-M4 build's
# libc headers, only recommended by gcc-arm-none-eabi); clang-14's runtime: fuzzing, TSan.
debs=(build-essential cmake pkg-config libopenblas-dev libhdf5-dev libzip-dev
      libjansson-dev zlib1g-dev libgraphviz-dev graphviz fonts-dejavu-core
      dataset-fashion-mnist python3 python3-pip python3-venv man-db zsh
      libopenmpi-dev openmpi-bin clang clang-14 libclang-rt-14-dev
      gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user gcc-arm-none-eabi
      libnewlib-arm-none-eabi)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: apt-get install ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

[ "${1:-}" = "--no-python" ] && exit 0
PY=${PYTHON:-python3}
# The oracle: real Keras 3 on the JAX CPU backend, plus h5py/numpy to write goldens.
# pydot: keras.utils.model_to_dot for the plot goldens (tests/oracle/plot_cases.py).
pyreq=(numpy h5py keras jax pydot)
pins=(numpy h5py "keras==3.15.1" "jax[cpu]==0.10.2" "pydot==4.0.1")
need=()
for i in "${!pyreq[@]}"; do
  # keras imports its default backend (TensorFlow, absent) unless told: the oracle uses JAX.
  KERAS_BACKEND=jax $PY -c "import ${pyreq[$i]}" 2>/dev/null || need+=("${pins[$i]}")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "install-deps: pip install ${need[*]}"
  $PY -m pip install -q "${need[@]}" 2>&1 | grep -v 'Running pip as the' || true
fi
