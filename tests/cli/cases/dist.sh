# `mpirun -np N ckeras fit`: data-parallel on N ranks (src/dist/) prints, once and
# from rank 0, the same final logs as one process, and saves the same weights;
# ranks started with different options are named at the start. Loopback only.
# (Weights equal to one process's: tests/dist/test_dist.c.)
if command -v mpirun >/dev/null && ldd "$CKERAS" | grep libmpi >/dev/null; then # not -q: SIGPIPE under pipefail
# under ASan: Open MPI's own allocations live until exit (tests/dist/lsan.supp)
MPIRUN=(env LSAN_OPTIONS=suppressions=$(realpath ../dist/lsan.supp) ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0
        mpirun --oversubscribe --allow-run-as-root --bind-to none --mca btl self,tcp
        --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo --mca mpi_yield_when_idle 1)
G=../golden/train/adam_cce
T=${TMPDIR:-/tmp}/ckeras_cli_dist_$$
mkdir -p "$T"
FITD=(fit $G/config.json --x $G/x.npy --y $G/y.npy --epochs 3 --batch-size 7 --optimizer adam
      --loss categorical_crossentropy --metrics accuracy --verbose 2 --seed 3)
one=$("$CKERAS" "${FITD[@]}" --save "$T/one.npz" | grep '^final')
expect 0 "final - accuracy: " -- echo "$one"
expect 0 "$one" -- "$CKERAS" "${FITD[@]}"
for np in 2 3; do
  expect 0 "printed once" -- bash -c '[ "$("$@" | grep -c "^final")" = 1 ] && echo printed once' _ \
    "${MPIRUN[@]}" -np $np "$CKERAS" "${FITD[@]}"
  expect 0 "$one" -- env OMP_NUM_THREADS=1 "${MPIRUN[@]}" -np $np "$CKERAS" "${FITD[@]}" --save "$T/np$np.npz"
done
expect 0 "dist: ranks 2, steps 9" -- "${MPIRUN[@]}" -np 2 "$CKERAS" "${FITD[@]}" --dist-stats --bucket-mb 0.0001 \
  --reduction mpi
expect 1 "rank 1's shuffle seed is 4 but rank 0's is 3" -- "${MPIRUN[@]}" -np 1 "$CKERAS" "${FITD[@]}" : \
  -np 1 "$CKERAS" "${FITD[@]}" --seed 4
rm -rf "$T"
else
  echo "SKIPPED: tests/cli/cases/dist.sh needs mpirun and a ckeras built with MPI (scripts/install-deps.sh)"
fi
