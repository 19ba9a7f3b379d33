#!/usr/bin/env bash
# The second Python the oracle needs: TensorFlow 2.15 with tf.keras 2.15 and the
# tensorflowjs converter, for the goldens of Keras 2 summaries, tf.keras 2.x files
# and TF.js files (tests/oracle/keras2_summaries.py, tf2_cases.py,
# check_tfjs_written.py). It lives in its own venv because it must never share an
# interpreter with Keras 3 (keras==3.15.1 + jax, scripts/install-deps.sh). Only
# `make goldens` and .ci/run (check_tfjs_written.py --matrix) need it; the C tests
# never run Python. Safe to run again.
set -euo pipefail
VENV=${CKERAS_TF2_VENV:-/opt/ckeras-tf2}
PY=${PYTHON:-python3}
if ! "$VENV/bin/python" -c "import tensorflow, tensorflowjs" 2>/dev/null; then
  echo "install-oracle-venvs: $VENV (TensorFlow 2.15, tensorflowjs 4.17)"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q tensorflow-cpu==2.15.1 tf-keras==2.15.1 'tensorflow-hub<0.17' \
      h5py six packaging importlib_resources 'tensorflow-decision-forests==1.8.1' 'pandas<2.3' \
      jax==0.4.23 jaxlib==0.4.23
  # tensorflowjs's own requirements pull jax/flax for its JAX converter and send
  # pip into endless backtracking; its Keras parts need none of that.
  "$VENV/bin/pip" install -q --no-deps tensorflowjs==4.17.0
fi
