#!/usr/bin/env bash
# Regenerates every golden under tests/golden/ by running real Keras (tests/oracle/).
set -euo pipefail
cd "$(dirname "$0")/.."
for s in tests/oracle/[a-z]*.py; do
  case "$s" in *util*|*check_goldens*|*check_to_json*) continue ;; esac
  echo "== $s"
  # tf.keras 2 summaries need TensorFlow 2.15 in its own venv (see the script).
  if [ "$s" = tests/oracle/keras2_summaries.py ]; then
    if [ -x /opt/ckeras-tf2/bin/python ]; then /opt/ckeras-tf2/bin/python "$s"; else echo "skipped: no /opt/ckeras-tf2"; fi
    continue
  fi
  python3 "$s"
done
python3 tests/oracle/check_goldens.py
