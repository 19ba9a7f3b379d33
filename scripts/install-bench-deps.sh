#!/usr/bin/env bash
# Installs what bench/run_*.sh needs for its peers and the tests do not (make
# test / make demo never call this), each peer in a venv of its own under /opt
# so that none of them enters the pyenv python where keras==3.15.1 + jax are
# pinned for the oracle (and the venvs /opt/ckeras-tf2, /opt/ckeras-tfjs, with
# tf.keras 2.15, stay as they are):
#   python3-torch (apt)   PyTorch 1.13 from Debian, run by /usr/bin/python3
#   /opt/ckeras-keras-tf  Keras 3 on TensorFlow (CPU); its TFLiteConverter also
#                         writes the LiteRT peer's models
#   /opt/ckeras-torch2    PyTorch 2 from PyPI (see below for what that costs)
#   /opt/ckeras-ort       ONNX Runtime (models from torch.onnx.export)
#   /opt/ckeras-litert    LiteRT's interpreter (ai-edge-litert, XNNPACK)
#   /opt/ckeras-export-bench  keras2c, TensorFlow 2.19 and LiteRT for bench/run_export.sh
# Keras + JAX, the remaining peer, comes from scripts/install-deps.sh. Safe to
# run again: it installs only what is absent. Env: PYTHON (the interpreter the
# venvs are made from, default python3); KERAS_TF_VENV, TORCH2_VENV, ORT_VENV,
# LITERT_VENV, EXPORT_BENCH_VENV override the venvs' places.
set -euo pipefail

SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
if ! dpkg-query -W -f='${Status}' python3-torch 2>/dev/null | grep -q "ok installed"; then
  echo "install-bench-deps: apt-get install python3-torch"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-torch >/dev/null
fi

# venv_with VENV CHECK PIN...: makes VENV unless its python already passes
# the python snippet CHECK, then pip installs the pins into it and checks again.
venv_with() {
  local venv=$1 check=$2; shift 2
  if [ -x "$venv/bin/python3" ] &&
     KERAS_BACKEND=tensorflow TF_CPP_MIN_LOG_LEVEL=3 "$venv/bin/python3" -c "$check" >/dev/null 2>&1; then
    return 0
  fi
  [ -x "$venv/bin/python3" ] || { echo "install-bench-deps: python venv $venv"; $SUDO "${PYTHON:-python3}" -m venv "$venv"; }
  echo "install-bench-deps: pip install $* into $venv"
  $SUDO "$venv/bin/python3" -m pip install -q "$@" 2>&1 | grep -v 'Running pip as the' || true
  KERAS_BACKEND=tensorflow TF_CPP_MIN_LOG_LEVEL=3 "$venv/bin/python3" -c "$check" >/dev/null 2>&1 ||
    { echo "install-bench-deps: $venv still fails: $check" >&2; return 1; }
}

# The versions measured in bench/README.md: Keras as the oracle's, the
# TensorFlow CPU wheel pip resolved next to it.
venv_with "${KERAS_TF_VENV:-/opt/ckeras-keras-tf}" \
  "import tensorflow, keras, sys; sys.exit(keras.__version__ != '3.15.1')" \
  "keras==3.15.1" "tensorflow-cpu==2.21.0"
# PyPI has no CPU-only torch wheel for x86_64 (PyTorch's own CPU index is not
# reachable here): torch 2.15.0 pulls in the CUDA 13 runtime wheels (cudnn,
# cublas, nccl, ...; bench/README.md says what that costs on disk). It still
# runs on a CPU, where none of them is loaded.
venv_with "${TORCH2_VENV:-/opt/ckeras-torch2}" \
  "import torch, sys; sys.exit(int(torch.__version__.split('.')[0]) < 2)" \
  "torch==2.15.0" "numpy"
venv_with "${ORT_VENV:-/opt/ckeras-ort}" "import onnxruntime" "onnxruntime==1.32.0" "numpy"
venv_with "${LITERT_VENV:-/opt/ckeras-litert}" "from ai_edge_litert.interpreter import Interpreter" \
  "ai-edge-litert==2.3.0" "numpy"

# ---- bench/run_export.sh's peers: keras2c and LiteRT, in their own venv ----
# keras2c 2.0 (PyPI; Python <= 3.12) converts through `from tensorflow import
# keras`; its own lock file (uv.lock) resolves TensorFlow 2.19 with Keras 3 and
# pydantic 1.x, so the venv holds that TensorFlow (also the TFLiteConverter for
# LiteRT's float and int8 models) and ai-edge-litert's interpreter. keras2c's C
# library is not in its PyPI package: run_export.sh takes it from KERAS2C_SRC.
venv_with "${EXPORT_BENCH_VENV:-/opt/ckeras-export-bench}" \
  "import keras2c, ai_edge_litert.interpreter, tensorflow" \
  "tensorflow==2.19.1" "keras==3.15.1" "keras2c==2.0" "pydantic==1.10.22" "ai-edge-litert==2.3.0"
