#!/usr/bin/env bash
# Installs what bench/run_*.sh needs for its peers and the tests do not (make
# test / make demo never call this): PyTorch from Debian (python3-torch, run by
# /usr/bin/python3) and Keras 3 on the TensorFlow CPU backend in its own venv,
# /opt/ckeras-keras-tf, so that TensorFlow never enters the pyenv python where
# keras==3.15.1 + jax are pinned for the oracle (and the venvs /opt/ckeras-tf2,
# /opt/ckeras-tfjs, with tf.keras 2.15, stay as they are). Keras + JAX, the third
# peer, comes from scripts/install-deps.sh. Safe to run again: it installs only
# what is absent. Env: KERAS_TF_VENV (default /opt/ckeras-keras-tf), PYTHON (the
# interpreter the venv is made from, default python3).
set -euo pipefail

SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
if ! dpkg-query -W -f='${Status}' python3-torch 2>/dev/null | grep -q "ok installed"; then
  echo "install-bench-deps: apt-get install python3-torch"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-torch >/dev/null
fi

VENV=${KERAS_TF_VENV:-/opt/ckeras-keras-tf}
# The versions measured in bench/README.md: Keras as the oracle's, the TensorFlow
# CPU wheel pip resolved next to it.
pins=("keras==3.15.1" "tensorflow-cpu==2.21.0")
check="import tensorflow, keras, sys; sys.exit(keras.__version__ != '3.15.1')"
if ! { [ -x "$VENV/bin/python3" ] &&
   KERAS_BACKEND=tensorflow TF_CPP_MIN_LOG_LEVEL=3 "$VENV/bin/python3" -c "$check" >/dev/null 2>&1; }; then
[ -x "$VENV/bin/python3" ] || { echo "install-bench-deps: python venv $VENV"; $SUDO "${PYTHON:-python3}" -m venv "$VENV"; }
echo "install-bench-deps: pip install ${pins[*]} into $VENV"
$SUDO "$VENV/bin/python3" -m pip install -q "${pins[@]}" 2>&1 | grep -v 'Running pip as the' || true
KERAS_BACKEND=tensorflow TF_CPP_MIN_LOG_LEVEL=3 "$VENV/bin/python3" -c "$check" >/dev/null 2>&1 ||
  { echo "install-bench-deps: $VENV still has no Keras 3.15.1 + TensorFlow" >&2; exit 1; }
fi

# ---- bench/run_export.sh's peers: keras2c and LiteRT, in their own venv ----
# keras2c 2.0 (PyPI; Python <= 3.12) converts through `from tensorflow import
# keras`; its own lock file (uv.lock) resolves TensorFlow 2.19 with Keras 3 and
# pydantic 1.x, so the venv holds that TensorFlow (also the TFLiteConverter for
# LiteRT's float and int8 models) and ai-edge-litert's interpreter. keras2c's C
# library is not in its PyPI package: run_export.sh takes it from KERAS2C_SRC.
# Env: EXPORT_BENCH_VENV (default /opt/ckeras-export-bench).
EXPORT_VENV=${EXPORT_BENCH_VENV:-/opt/ckeras-export-bench}
export_pins=("tensorflow==2.19.1" "keras==3.15.1" "keras2c==2.0" "pydantic==1.10.22" "ai-edge-litert==2.3.0")
export_check="import keras2c, ai_edge_litert.interpreter, tensorflow"
if ! TF_CPP_MIN_LOG_LEVEL=3 "$EXPORT_VENV/bin/python3" -c "$export_check" >/dev/null 2>&1; then
  [ -x "$EXPORT_VENV/bin/python3" ] ||
    { echo "install-bench-deps: python venv $EXPORT_VENV"; $SUDO "${PYTHON:-python3}" -m venv "$EXPORT_VENV"; }
  echo "install-bench-deps: pip install ${export_pins[*]} into $EXPORT_VENV"
  $SUDO "$EXPORT_VENV/bin/python3" -m pip install -q "${export_pins[@]}" 2>&1 | grep -v 'Running pip as the' || true
  TF_CPP_MIN_LOG_LEVEL=3 "$EXPORT_VENV/bin/python3" -c "$export_check" >/dev/null 2>&1 ||
    { echo "install-bench-deps: $EXPORT_VENV still lacks keras2c / ai-edge-litert / TensorFlow" >&2; exit 1; }
fi
