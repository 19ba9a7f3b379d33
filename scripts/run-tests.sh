#!/usr/bin/env bash
# Runs every test of a build folder (default build/) with 1 and 2 threads, then the
# CLI's bad-input checks. Exit status is non-zero if anything failed.
set -uo pipefail
BUILD=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
status=0
# Sanitizer reports fail the test that caused them.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
# Graphviz and its font stack keep caches for the life of the process (tests/lsan.supp).
export LSAN_OPTIONS=suppressions=$root/tests/lsan.supp:print_suppressions=0
for threads in 1 2; do
  echo "== tests with OMP_NUM_THREADS=$threads ($BUILD)"
  OMP_NUM_THREADS=$threads CKERAS_ROOT="$root" ctest --test-dir "$BUILD" --output-on-failure -j 2 || status=1
done
echo "== CLI checks ($BUILD)"
CKERAS="$BUILD/ckeras" ./tests/cli/run.sh || status=1
if [ $status -eq 0 ]; then echo "ALL TESTS PASSED"; else echo "TESTS FAILED"; fi
exit $status
