#!/usr/bin/env bash
# Regenerates every golden under tests/golden/ by running real Keras (tests/oracle/).
set -euo pipefail
cd "$(dirname "$0")/.."
for s in tests/oracle/[a-z]*.py; do
  case "$s" in *util*|*check_goldens*) continue ;; esac
  echo "== $s"
  python3 "$s"
done
python3 tests/oracle/check_goldens.py
