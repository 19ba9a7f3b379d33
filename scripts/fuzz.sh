#!/usr/bin/env bash
# Fuzzes every file reader with libFuzzer (Debian's clang 14, ASan + UBSan):
#   scripts/fuzz.sh [--h5-in-process] [SECONDS_PER_TARGET] [TARGET...]     (default 60, all targets)
# Builds libckeras with clang into build-fuzz/, links tests/fuzz/fuzz_targets.c
# once per target (config, keras, h5, weights_h5, tfjs, npy, npz, csv, idx,
# kwargs, python), seeds each from its committed regression corpus tests/fuzz/corpus/<t>/
# plus the repository's own files of that format, and runs each for the given
# time. Prints executions per target. A crash, leak or timeout leaves crash-*,
# leak-* or timeout-* files in build-fuzz/<t>/: add each to
# tests/fuzz/corpus/<t>/ (make test replays them) once fixed. Exit status:
# non-zero if any target found one.
#
# FUZZ_SEED (default 1) seeds libFuzzer's mutations, so a run is repeatable: a
# 60 s run on a faster machine (CI) replays a prefix of what a longer run with
# the same seed here went through. FUZZ_SEED=0 draws a fresh seed each run, for
# campaigns that look for new inputs rather than repeat the known ones.
#
# --h5-in-process: the targets that read HDF5 (keras, h5, weights_h5) read it
# in the fuzzing process, without src/io/h5_guard.c's child (one fork per
# input, which holds them to tens of inputs a second). libhdf5's own crashes and stalls on
# damaged files, which the guard contains, are then expected: libFuzzer runs
# in -fork mode, going on past them, and afterwards every crash, timeout and
# out-of-memory input it kept is replayed through the guarded target; only
# those that fail there too are findings (crash-* as above). The others are
# counted as libhdf5 faults the guard contains.
set -euo pipefail
cd "$(dirname "$0")/.."
h5_in_process=false
if [ "${1:-}" = --h5-in-process ]; then
    h5_in_process=true
    shift
fi
secs=${1:-60}
seed_flag=-seed=${FUZZ_SEED:-1}
shift || true
targets=${*:-config keras h5 weights_h5 tfjs npy npz csv idx kwargs python}
out=build-fuzz
cc=$(command -v clang-14 || command -v clang)
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g"
# clang reports '#pragma omp simd' loops it did not vectorise as -Wpass-failed,
# which -Werror would make fatal; it is advice, not a defect.
cmake -S . -B "$out" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_FLAGS="$san -fsanitize=fuzzer-no-link -Wno-pass-failed" >/dev/null
cmake --build "$out" -j2 --target ckeras_static >/dev/null

lib=$out/libckeras.a
# The targets' memo of HDF5 guard verdicts within one input (fuzz_targets.c).
wrap=-Wl,--wrap=ck_h5_check
libs="-ljansson -lopenblas -lzip -lz -lm -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5 -lgvc -lcgraph -fopenmp"
# libhdf5 keeps free lists it never returns at exit; ckeras's own leaks still count.
printf 'leak:libhdf5\nleak:H5\n' >"$out/lsan.supp"
libs="$libs $(pkg-config --libs ompi-c 2>/dev/null)" # Open MPI (src/dist/), when the build found it

seed() { # seed TARGET: committed corpus plus the repository's small files of its format
    local t=$1 d=$out/$1/corpus
    rm -rf "$d"; mkdir -p "$d"
    cp tests/fuzz/corpus/"$t"/* "$d"/
    local pat=""
    case $t in
        config) pat='config.json' ;; keras) pat='*.keras' ;; h5) pat='*.h5' ;;
        weights_h5) pat='*.weights.h5' ;; tfjs) pat='model.json' ;; npy) pat='*.npy' ;; npz) pat='*.npz' ;;
        csv) pat='*.csv' ;; python) pat='*.py' ;;
    esac
    [ -n "$pat" ] || return 0
    local f
    for f in $(find tests/golden tests/data -name "$pat" -size -64k | sort | head -n 200 || true); do
        cp "$f" "$d/$(echo "$f" | tr / _)"
    done
}

# in_process_run TARGET: the fork-mode campaign of --h5-in-process and the
# replay of what it kept through the guarded binary fuzz_TARGET.
in_process_run() {
    local t=$1 log found=0 contained=0 f
    $cc $san -fsanitize=fuzzer -Wno-pass-failed -DFUZZ_TARGET="fuzz_$t" -DFUZZ_H5_IN_PROCESS -Iinclude -Isrc \
        tests/fuzz/fuzz_targets.c "$lib" $libs $wrap -o "$out/$t/fuzz_${t}_in_process"
    rm -rf "$out/$t/in_process" "$out/$t/in_process_corpus"
    mkdir -p "$out/$t/in_process" "$out/$t/in_process_corpus"
    # The seeds libhdf5 cannot read in process (the corpus's crashers and
    # hangs) stay out: fork mode would spend its time restarting on them.
    # (No leak check here: a signal during LeakSanitizer's stop-the-world
    # leaves the process stopped for good.)
    for f in "$out/$t"/corpus/*; do
        (cd "$out/$t" && ASAN_OPTIONS=detect_leaks=0 timeout -s KILL 10 ./fuzz_${t}_in_process -runs=1 \
            "corpus/$(basename "$f")" >/dev/null 2>&1) && cp "$f" "$out/$t/in_process_corpus/"
    done
    echo "  seeds libhdf5 reads in process: $(ls "$out/$t/in_process_corpus" | wc -l) of $(ls "$out/$t/corpus" | wc -l)"
    log=$PWD/$out/$t/in_process.log
    (cd "$out/$t" && LSAN_OPTIONS=suppressions=../lsan.supp ./fuzz_${t}_in_process $seed_flag -fork=1 -ignore_crashes=1 \
        -ignore_timeouts=1 -ignore_ooms=1 -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix=in_process/ in_process_corpus >"$log" 2>&1) || true
    # fork mode's progress lines: "#EXECS: cov: ... exec/s: N ... time: Ss"
    grep -E '^#[0-9]+: ' "$log" | tail -n 1 | sed "s/^/  in process: /"
    for f in "$out/$t"/in_process/*; do
        [ -e "$f" ] || continue
        if (cd "$out/$t" && LSAN_OPTIONS=suppressions=../lsan.supp timeout -s KILL 120 ./fuzz_$t -runs=1 -timeout=10 \
            "../../$f" >/dev/null 2>&1); then
            contained=$((contained + 1))
        else
            found=$((found + 1))
            cp "$f" "$out/$t/crash-guarded-$(basename "$f")"
        fi
    done
    echo "  libhdf5 faults met in process and contained by the guard: $contained; failing guarded too: $found"
    [ "$found" -eq 0 ]
}

status=0
for t in $targets; do
    mkdir -p "$out/$t"
    rm -f "$out/$t"/crash-* "$out/$t"/leak-* "$out/$t"/timeout-* "$out/$t"/oom-* # an earlier run's
    $cc $san -fsanitize=fuzzer -Wno-pass-failed -DFUZZ_TARGET="fuzz_$t" -Iinclude -Isrc tests/fuzz/fuzz_targets.c \
        "$lib" $libs $wrap -o "$out/$t/fuzz_$t"
    seed "$t"
    if $h5_in_process; then
        case $t in keras | h5 | weights_h5)
            echo "== fuzz_$t for ${secs}s, HDF5 read in process"
            in_process_run "$t" || status=1
            ls "$out/$t"/crash-* 2>/dev/null || true
            continue ;;
        esac
    fi
    echo "== fuzz_$t for ${secs}s"
    # Leak checking stays on (libhdf5's own free lists suppressed). An input that
    # takes over 10 s is a failure; the 2 s bound is checked on the release build
    # (tests/cli/cases/hostile.sh), since under ASan on a loaded machine an
    # input's HDF5 child process alone can take seconds.
    (cd "$out/$t" && LSAN_OPTIONS=suppressions=../lsan.supp ./fuzz_$t $seed_flag -max_total_time="$secs" -max_len=65536 \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 corpus 2>&1 |
        grep -E 'stat::number_of_executed_units|^(==[0-9]+==ERROR|SUMMARY)|Test unit written|Done [0-9]+ runs' |
        sed "s/^/  /") || status=1
    ls "$out/$t"/crash-* "$out/$t"/leak-* "$out/$t"/timeout-* "$out/$t"/oom-* 2>/dev/null && status=1
done
exit $status
