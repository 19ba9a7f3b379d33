#!/usr/bin/env bash
# CLI checks: each case runs a command and states the exit status and a fragment
# the output must contain. Bad input must give one line on stderr and exit 1.
set -uo pipefail
CKERAS=$(realpath "${CKERAS:-build/ckeras}")
cd "$(dirname "$0")"
fails=0; n=0
expect() { # expect STATUS PATTERN -- command...
  local want=$1 pat=$2; shift 3
  local out rc
  out=$("$@" 2>&1); rc=$?
  n=$((n+1))
  if [ "$rc" -ne "$want" ] || ! grep -qF -- "$pat" <<<"$out"; then
    fails=$((fails+1)); echo "FAIL: $* -> rc=$rc (want $want), output:"; echo "$out" | head -5
  fi
}
for f in cases/*.sh; do [ -e "$f" ] && . "$f"; done
echo "cli: $n checks, $fails failures"
[ $fails -eq 0 ]
