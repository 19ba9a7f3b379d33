#!/usr/bin/env bash
# The README is executable: this runs its "Install and link" section as written
# (HOME is a fresh folder, so `make install PREFIX=$HOME/.local` installs there),
# builds every C program of the README each of its four ways (pkg-config shared
# and static, CMake shared and static) and runs them, runs every command of its
# CLI quick start in a folder holding the files it names, and checks that
# libckeras.so exports exactly the calls of ckeras.h.
#   tests/install/run.sh [BUILD]
set -uo pipefail
BUILD=${1:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
BUILD=$(realpath "$BUILD")
T=$(mktemp -d "${TMPDIR:-/tmp}/ckeras_install.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0 n=0
check() { # check NAME COMMAND...: the command must exit 0
  local name=$1; shift
  n=$((n + 1))
  local out
  if ! out=$("$@" 2>&1); then
    fails=$((fails + 1))
    echo "FAIL: $name"
    echo "$out" | tail -15
  fi
}

# Code blocks of one language from a section of README.md ("## Title" up to the
# next "## "), each block's lines followed by a line holding only \x1e.
readme_blocks() { # readme_blocks SECTION LANG
  awk -v sec="## $1" -v lang="$2" '
    /^## / { in_sec = ($0 == sec) }
    in_sec && /^```/ { if (inb) { inb = 0; printf "\x1e\n" } else if ($0 == "```" lang) inb = 1; next }
    in_sec && inb { print }' README.md
}
# The n-th (1-based) block of readme_blocks' output.
nth_block() { awk -v k="$1" 'BEGIN { RS = "\x1e\n" } NR == k { printf "%s", $0 }'; }
c_programs() { # every ```c block of the whole README, one file each
  awk -v dir="$1" '
    /^```c$/ { inb = 1; k++; f = sprintf("%s/prog%d.c", dir, k); next }
    /^```/ && inb { inb = 0; close(f); next }
    inb { print > f }' README.md
}

export HOME="$T/home"
mkdir -p "$HOME"
install_sh=$(readme_blocks "Install and link" sh | nth_block 1)
build_pc=$(readme_blocks "Install and link" sh | nth_block 2)
cmake_lists=$(readme_blocks "Install and link" cmake | nth_block 1)
build_cmake=$(readme_blocks "Install and link" sh | nth_block 3)
for v in install_sh build_pc cmake_lists build_cmake; do
  [ -n "${!v}" ] || { echo "FAIL: README.md's Install and link section lost its $v block"; exit 1; }
done

# make install with this build folder (the Makefile's BUILD ?= build).
export BUILD MAKEFLAGS=--no-print-directory
check "README install block" bash -ec "$install_sh"
export PATH="$HOME/.local/bin:$PATH" PKG_CONFIG_PATH="$HOME/.local/lib/pkgconfig"
prefix="$HOME/.local"

# Exactly the header's calls leave libckeras.so.
header_calls() { cc -E -P "$prefix/include/ckeras.h" | grep -o '\bck_[a-z0-9_]*[[:space:]]*(' | tr -d '( ' | sort -u; }
so_calls() { nm -D --defined-only "$prefix/lib/libckeras.so" | awk '{ print $3 }' | sort -u; }
exports_match() { diff <(header_calls) <(so_calls) && [ "$(header_calls | wc -l)" -gt 50 ]; }
check "nm -D libckeras.so lists exactly the calls of ckeras.h (< header, > library)" exports_match
soname_is_major() { readelf -d "$prefix/lib/libckeras.so" | grep -q 'SONAME.*\[libckeras\.so\.0\]'; }
check "libckeras.so's soname is libckeras.so.<major>" soname_is_major
header_version=$(sed -n 's/^#define CKERAS_VERSION "\(.*\)"/\1/p' include/ckeras.h)
check "ckeras --version prints the header's version" bash -c "[ \"\$(ckeras --version)\" = 'ckeras $header_version' ]"
man_installed() { # ckeras(1) and one page per command, as the README says
  MANWIDTH=100 man -M "$prefix/share/man" ckeras 2>&1 | grep -q 'ckeras-fit' &&
  MANWIDTH=100 man -M "$prefix/share/man" ckeras-fit 2>&1 | grep -q 'validation-split' &&
  [ "$(ls "$prefix/share/man/man1" | wc -l)" -eq "$(($(ckeras --help | awk '/^commands:/{f=1;next} f&&/^  [a-z]/' | wc -l) + 1))" ]
}
check "man pages installed: man ckeras, man ckeras-fit, one per command" man_installed
check "bash completion installed" grep -q 'complete -o filenames -F _ckeras ckeras' "$prefix/share/bash-completion/completions/ckeras"
check "zsh completion installed" grep -q '#compdef ckeras' "$prefix/share/zsh/site-functions/_ckeras"
check "pkg-config --modversion ckeras" bash -c "[ \"\$(pkg-config --modversion ckeras)\" = '$header_version' ]"
# Every library libckeras.a needs is in ckeras.pc's --static list: the archive
# links with exactly that list and nothing else.
static_list_complete() {
  printf '#include <ckeras.h>\nint main(void){ ck_model *m = ck_model_load("x.keras"); ck_model_free(m); return ck_version()[0] != 0 ? 0 : 1; }\n' > "$T/v.c"
  cc "$T/v.c" -o "$T/v" $(pkg-config --cflags ckeras) "$prefix/lib/libckeras.a" \
     $(pkg-config --static --libs ckeras | sed 's/ -lckeras / /') && "$T/v"
}
check "ckeras.pc's Requires.private/Libs.private complete libckeras.a" static_list_complete

mkdir -p "$T/progs"
c_programs "$T/progs"
progs=("$T"/progs/prog*.c)
[ -e "${progs[0]}" ] || { echo "FAIL: no C program in README.md"; fails=$((fails + 1)); }
for prog in "${progs[@]}"; do
  d="$T/$(basename "$prog" .c)"
  mkdir -p "$d"
  cp "$prog" "$d/demo.c"
  printf '%s\n' "$cmake_lists" > "$d/CMakeLists.txt"
  check "$(basename "$prog"): README pkg-config build and run (shared and static)" bash -ec "cd '$d'; $build_pc"
  check "$(basename "$prog"): README CMake build and run (shared and static)" bash -ec "cd '$d'; $build_cmake"
  check "$(basename "$prog"): the shared build uses libckeras.so" bash -c "ldd '$d/demo' | grep -q 'libckeras.so.0 => $prefix'"
  check "$(basename "$prog"): the static build needs no libckeras.so" bash -c "! ldd '$d/demo_static' | grep -q libckeras"
done

# The quick start in ckeras.h's opening comment, inside a main(): its summary is
# the built model's (Total params: 17), not "0 (unbuilt)".
header_quick_start() {
  { printf '#include <ckeras.h>\n#include <stdio.h>\n#include <stdlib.h>\nint main(void)\n{\n'
    awk '/^ \* Quick start:/ { on = 1; next } on && /^ \*$/ { exit } on { sub(/^ \* ?/, ""); print }' "$prefix/include/ckeras.h"
    printf 'return 0;\n}\n'; } > "$T/quick.c"
  cc "$T/quick.c" -o "$T/quick" $(pkg-config --cflags --libs ckeras-static) && "$T/quick" | grep -q 'Total params: 17 '
}
check "ckeras.h's quick start prints the built summary" header_quick_start

# The CLI quick start, command by command, in a folder with the files it names.
q="$T/quickstart"
mkdir -p "$q"
cp tests/golden/core/classic/config.json "$q/model.json"
cp tests/install/data/x.npy tests/install/data/y.npy "$q/"
quick=$(readme_blocks "CLI quick start" sh | nth_block 1)
[ -n "$quick" ] || { echo "FAIL: README.md's CLI quick start lost its sh block"; fails=$((fails + 1)); }
cmd=""
while IFS= read -r line; do
  cmd+="${line%\\}"
  [ "${line%\\}" != "$line" ] && continue
  check "README CLI quick start: $cmd" bash -ec "cd '$q'; set -o pipefail; $cmd"
  cmd=""
done <<<"$quick"

echo "install: $n checks, $fails failures"
[ $fails -eq 0 ]
