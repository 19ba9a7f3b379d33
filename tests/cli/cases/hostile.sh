# Hostile files (issue 19): every damaged, hanging or bomb file of the fuzz
# regression corpus ends within 2 s of CPU time (its children's included; CPU
# rather than wall time, so that a busy machine cannot fail the check) with exit
# 0 or 1, and a failure prints exactly one line on stderr, for each command that
# reads a model file. The
# shared hang samples run with the default HDF5 time limit; the rest with a
# shorter one (CKERAS_HDF5_SECONDS) to keep the suite quick.
hostile_check() { # hostile_check COMMAND FILE [ARGS...]
  local cmd=$1 file=$2; shift 2
  local err cpu ms rc lines TIMEFORMAT='%3U %3S'
  err=$(mktemp); cpu=$(mktemp)
  { time timeout 60 "$CKERAS" "$cmd" "$file" "$@" >/dev/null 2>"$err"; } 2>"$cpu"; rc=$?
  ms=$(awk '{ printf "%d", ($1 + $2) * 1000 }' "$cpu")
  lines=$(wc -l <"$err")
  n=$((n+1))
  if [ "$rc" -gt 1 ] || { [ "$rc" -eq 1 ] && [ "$lines" -ne 1 ]; } || [ "$ms" -ge 2000 ]; then
    fails=$((fails+1))
    echo "FAIL: ckeras $cmd $file -> rc=$rc, $lines stderr lines, $ms ms of CPU (want 0 or 1 with one line, < 2000 ms):"
    head -3 "$err"
  fi
  rm -f "$err" "$cpu"
}
hx=$(mktemp -d)
printf '\x93NUMPY\x01\x00\x76\x00{"descr": "<f4", "fortran_order": False, "shape": (1, 2), }%*s\n' 59 '' >"$hx/x.npy"
printf '\0\0\0\0\0\0\0\0' >>"$hx/x.npy"
for f in ../fuzz/corpus/h5/hang_h5hg_read_*.h5; do
  for c in summary weights; do hostile_check $c "$f"; done
  expect 1 "damaged HDF5 file: libhdf5 did not finish reading it within 1 s of CPU time" -- "$CKERAS" summary "$f"
done
for f in ../fuzz/corpus/h5/crash_h5hg_read_*.h5; do
  expect 1 "damaged HDF5 file: libhdf5 " -- "$CKERAS" weights "$f" # crashed, or (ASan) a sanitizer report
  hostile_check predict "$f" --input "$hx/x.npy" --output "$hx/y.npy"
done
expect 1 "states 83886489 bytes, above the limit of 67108864 (ck_set_limits)" -- \
  "$CKERAS" summary ../fuzz/corpus/keras/bomb_config_json.keras
expect 1 "its contents imply at most" -- "$CKERAS" weights ../fuzz/corpus/keras/bomb_weights_member.keras
export CKERAS_HDF5_SECONDS=0.15
for f in ../fuzz/corpus/h5/* ../fuzz/corpus/keras/*; do
  case $(basename "$f") in seed_*) continue ;; esac
  for c in summary weights inspect; do hostile_check $c "$f"; done
done
unset CKERAS_HDF5_SECONDS
expect 2 "CKERAS_HDF5_SECONDS='-1' is not a positive number" -- env CKERAS_HDF5_SECONDS=-1 "$CKERAS" summary x.h5
rm -rf "$hx"
# A memory limit (ulimit -v) ends in the result or one line of out-of-memory
# error, never a hang of OpenBLAS threads retrying a failed mmap nor a crash
# of libhdf5 (issue 19); the library keeps its threads and OpenBLAS's buffers
# within the limit (tests/test_memlimit.c sweeps the API), the command starts
# OpenBLAS without threads. The sweep starts where the program can load: the
# dynamic loader and OpenBLAS's start-up (a thread per further core, before
# main) need about 80 MB. Not under ASan, whose shadow memory alone is
# terabytes of address space.
mem_outcome() { # mem_outcome KIB SECONDS PATTERN command...: "clean" or what went wrong
  local kib=$1 secs=$2 pat=$3 out rc; shift 3
  out=$(bash -c 'ulimit -v "$0" && exec timeout "$1" "${@:2}"' "$kib" "$secs" "$@" 2>&1); rc=$?
  if { [ $rc -eq 0 ] && grep -qF -- "$pat" <<<"$out"; } ||
     { [ $rc -eq 1 ] && [ "$(wc -l <<<"$out")" -eq 1 ] && grep -q "out of memory" <<<"$out"; }; then
    echo clean
  else
    echo "ulimit -v $kib: rc=$rc: $out"
  fi
}
case "$CKERAS" in *asan*) ;; *)
mem_floor=$((80000 + ($(nproc) - 1) * 9000))
for extra in 0 12000 25000 50000 100000 160000 250000 400000; do
  expect 0 clean -- mem_outcome $((mem_floor + extra)) 20 "Total params" "$CKERAS" summary ../golden/files/seq_mlp/model.h5
  expect 0 clean -- mem_outcome $((mem_floor + extra)) 20 "Total params" "$CKERAS" summary ../golden/files/func_merge/model.keras
  expect 0 clean -- mem_outcome $((mem_floor + extra)) 60 "2/2" "$CKERAS" fit ../golden/conv_train/cnn_bn_adam/config.json --x ../golden/conv_train/cnn_bn_adam/x.npy --y ../golden/conv_train/cnn_bn_adam/y.npy --epochs 2 --batch-size 4 --loss categorical_crossentropy --optimizer adam
done
;; esac
