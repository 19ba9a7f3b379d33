#!/usr/bin/env bash
# Runs every test of a build folder (default build/) with 1 and 2 threads, then the
# CLI's checks and the README's install, link and quick-start commands. Exit status is non-zero if anything failed.
set -uo pipefail
BUILD=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
status=0
# Sanitizer reports fail the test that caused them.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
# CKERAS_IGNORE_LOAD: the 2-thread run takes its team of two even when other
# processes keep the cores busy (ckeras drops to one thread then), so that the
# threaded paths are always the ones tested.
for threads in 1 2; do
  echo "== tests with OMP_NUM_THREADS=$threads ($BUILD)"
  OMP_NUM_THREADS=$threads CKERAS_IGNORE_LOAD=1 CKERAS_ROOT="$root" ctest --test-dir "$BUILD" --output-on-failure -j 2 || status=1
done
echo "== CLI checks ($BUILD)"
CKERAS="$BUILD/ckeras" ./tests/cli/run.sh || status=1
# The README run as written against a fresh install; programs built against a
# sanitized library would need the sanitizer flags, so that build skips it.
if grep -q '^CKERAS_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" 2>/dev/null; then
  echo "== install and README checks: skipped for a sanitizer build (make test runs them)"
else
  echo "== install and README checks ($BUILD)"
  ./tests/install/run.sh "$BUILD" || status=1
fi
if [ $status -eq 0 ]; then echo "ALL TESTS PASSED"; else echo "TESTS FAILED"; fi
exit $status
