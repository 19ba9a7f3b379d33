#!/usr/bin/env bash
# A rank lost mid-fit: `test_dist kill` trains across 3 ranks with a ModelCheckpoint
# and a BackupAndRestore, and rank 1 kills itself (SIGKILL) after the 3rd epoch.
# The job must end within 30 s, non-zero, with a line naming rank 1 (Open MPI's
# launcher ends every rank of a job one of whose processes died); the checkpoint
# rank 0 wrote must be one epoch's weights, whole, and `test_dist resume` runs the
# fit again, which BackupAndRestore resumes, ending with the weights of the
# uninterrupted run, bit for bit.
#   lost_rank.sh TEST_DIST MPIRUN [MPIRUN OPTIONS...]
set -uo pipefail
bin=$1; shift
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail=0
start=$(date +%s)
out=$(timeout 120 "$@" -np 3 "$bin" kill "$T" 2>&1); rc=$?
took=$(( $(date +%s) - start ))
if [ $rc -eq 0 ] || [ $rc -eq 124 ] || [ $took -gt 30 ]; then
  echo "FAIL: after rank 1 was killed the job exited $rc after ${took}s (want non-zero within 30 s)"; fail=1
fi
if ! grep -Eq "rank 1 .*exited on signal 9" <<<"$out"; then
  echo "FAIL: no line names the lost rank 1:"; echo "$out" | tail -5; fail=1
fi
if [ ! -s "$T/ckpt.npz" ]; then
  echo "FAIL: no checkpoint left in $T"; fail=1
elif ! "$@" -np 3 "$bin" resume "$T"; then
  echo "FAIL: resuming from the checkpoint"; fail=1
fi
[ $fail -eq 0 ] && echo "lost rank: the job ended in ${took}s naming rank 1; the checkpoint was whole; BackupAndRestore resumed exactly"
exit $fail
