#!/usr/bin/env bash
# Regenerates every golden under tests/golden/ by running real Keras (tests/oracle/):
# Keras 3.15.1 on JAX for most, TensorFlow 2.15 (tf.keras 2, tensorflowjs) in its own
# venv for the Keras 2 and TF.js ones. The check_* scripts verify rather than write
# (check_written.py and check_tfjs_written.py need a build); check_goldens.py runs last.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-oracle-venvs.sh
TF2_PY=${CKERAS_TF2_VENV:-/opt/ckeras-tf2}/bin/python
for s in tests/oracle/[a-z]*.py; do
  case "$s" in *util*|*/check_*) continue ;; esac
  echo "== $s"
  case "$s" in
    # matrix_tfjs_cases.py runs after matrix_cases.py (the glob's order), on its goldens
    */keras2_summaries.py|*/tf2_cases.py|*/matrix_tfjs_cases.py) "$TF2_PY" "$s" ;;
    *) python3 "$s" ;;
  esac
done
python3 tests/oracle/check_goldens.py
