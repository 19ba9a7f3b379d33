#!/usr/bin/env bash
# The floor plan of docs/DESIGN.md, checked over the `#include "..."` lines of
# tools/ and src/: a folder may include only its own floor or the floors below,
# and the folders of one floor (train, io, report) may not include each other in
# a circle. include/ckeras.h is the contract every floor implements a part of, so
# any folder may include it for its types; it includes nothing of the project.
# Some floors are entered only through one narrow header (NARROW below).
# Prints each offending include as file:line and exits 1; exit 0 when clean.
# With --objects DIR (the library's object files, one folder per src/ folder,
# as CMake leaves them in BUILD/CMakeFiles/ckeras_obj.dir/src) the same plan is
# checked on calls: a symbol an object uses must be defined on its floor or
# below, except the declared inversions in UP_SYMBOLS.
# Usage: scripts/check-floors.sh [ROOT]           (ROOT: default the repository)
#        scripts/check-floors.sh --objects DIR [SRC]  (SRC: skip objects whose
#                                                  source under SRC is gone)
#        scripts/check-floors.sh --self-test      (it must reject each kind of
#                                                  breach, planted in a scratch tree)
set -uo pipefail
export LC_ALL=C

# Top to bottom; folders sharing a floor are separated by commas.
FLOORS=(tools api train,io,report,export dist layers engine graph kernels core)
# Narrow doors: from FOLDER, the folder of HEADER may be entered only through it
# (layers see the engine's run-time context, not its planner).
NARROW=("layers engine/run.h")
# Private types: TYPE FOLDER -- struct TYPE is defined only in a .c file of
# src/FOLDER, so no header can show its fields to another floor (the engine's
# plan, buffers and caches stay behind the opaque ck_exec; layers see ck_run).
PRIVATE=("ck_exec engine")
# Symbols a lower floor may use from a higher one: the class table, declared in
# graph/graph.h and filled by layers/registry.c (docs/DESIGN.md, the floor plan).
UP_SYMBOLS=" ck_layer_families ck_n_layer_families "

narrow_ok() { # from-folder header -> false when a narrow door is bypassed
  local n
  for n in "${NARROW[@]}"; do
    set -- "$1" "$2" $n
    if [ "$1" = "$3" ] && [ "${2%%/*}" = "${4%%/*}" ] && [ "$2" != "$4" ]; then return 1; fi
  done
}

floor_of() { # folder -> its floor's index (0 = top), or nothing
  local i
  for i in "${!FLOORS[@]}"; do
    case ",${FLOORS[$i]}," in *",$1,"*) echo "$i"; return ;; esac
  done
}

check() {
  local root=$1 bad=0 edges f line target dir from to
  edges=$(mktemp)
  if grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$root/include/ckeras.h" >/dev/null 2>&1; then
    echo "include/ckeras.h: the public header includes a project header"
    bad=1
  fi
  while IFS= read -r f; do
    from=$(basename "$(dirname "$f")")
    [ -n "$(floor_of "$from")" ] || { echo "${f#"$root"/}: folder '$from' is in no floor of the plan"; bad=1; continue; }
    while IFS=: read -r line target; do
      target=${target#*\"}
      target=${target%%\"*}
      dir=$(dirname "$f")
      if [ -e "$dir/$target" ] && [ "${target#*/}" = "$target" ]; then to=$from
      elif [ -e "$root/include/$target" ]; then continue
      elif [ -e "$root/src/$target" ]; then to=${target%%/*}
      else echo "${f#"$root"/}:$line: \"$target\" is not a project header"; bad=1; continue
      fi
      [ "$to" = "$from" ] && continue
      if [ "$from" = tools ]; then
        echo "${f#"$root"/}:$line: tools include $target; they see only the public API (include/)"
        bad=1
        continue
      fi
      if ! narrow_ok "$from" "$target"; then
        echo "${f#"$root"/}:$line: $from includes $target; it may see $to only through its narrow header"
        bad=1
      fi
      if [ -z "$(floor_of "$to")" ] || [ "$(floor_of "$to")" -lt "$(floor_of "$from")" ]; then
        echo "${f#"$root"/}:$line: $from includes $to, a floor above it"
        bad=1
      else
        echo "$from $to" >>"$edges"
      fi
    done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f")
  done < <(find "$root/tools" "$root/src" -name '*.[ch]' | sort)
  check_private "$root" || bad=1
  # tsort reports a loop in the folder graph (only folders of one floor can make one).
  if ! sort -u "$edges" | tsort >/dev/null 2>"$edges.loop"; then
    echo "a circle of includes between folders:" $(grep -v '^tsort: .*loop' "$edges.loop" | sed 's/^tsort: //')
    bad=1
  fi
  rm -f "$edges" "$edges.loop"
  return $bad
}

check_private() { # root -> false when a private struct is defined outside its folder's .c files
  local root=$1 bad=0 p f
  for p in "${PRIVATE[@]}"; do
    set -- $p
    while IFS= read -r f; do
      case "$f" in "$root/src/$2/"*.c) continue ;; esac
      echo "${f#"$root"/}: defines struct $1, private to src/$2/*.c"
      bad=1
    done < <(grep -rlE "^[[:space:]]*(typedef[[:space:]]+)?struct[[:space:]]+$1[[:space:]]*\{" "$root/include" "$root/tools" "$root/src" 2>/dev/null | sort)
  done
  return $bad
}

live_objects() { # dir folder src -> the folder's objects whose source still exists
  local o
  for o in "$1/$2"/*.o; do
    [ -e "$o" ] || continue
    # A build folder keeps the objects of files since moved or deleted.
    [ -z "$3" ] || [ -e "$3/$2/$(basename "${o%.o}")" ] && echo "$o"
  done
}

check_objects() {
  local dir=$1 src=${2:-} bad=0 t from to sym objs
  t=$(mktemp -d)
  for from in "$dir"/*/; do
    from=$(basename "$from")
    mapfile -t objs < <(live_objects "$dir" "$from" "$src")
    [ ${#objs[@]} -gt 0 ] || continue
    nm --defined-only "${objs[@]}" 2>/dev/null | awk -v f="$from" '$2 ~ /^[TDRB]$/ {print $3, f}' >>"$t/defs"
    nm --undefined-only "${objs[@]}" 2>/dev/null | awk -v f="$from" 'NF == 2 {print $2, f}' >>"$t/uses"
  done
  sort -u "$t/defs" -o "$t/defs"
  sort -u "$t/uses" -o "$t/uses"
  [ -s "$t/defs" ] || { echo "no object files under $dir"; rm -rf "$t"; return 1; }
  while read -r sym from to; do
    [ "$from" = "$to" ] && continue
    case "$UP_SYMBOLS" in *" $sym "*) continue ;; esac
    if [ -z "$(floor_of "$from")" ] || [ -z "$(floor_of "$to")" ]; then
      echo "$from uses $sym of $to: a folder in no floor of the plan"; bad=1
    elif [ "$(floor_of "$to")" -lt "$(floor_of "$from")" ]; then
      echo "$from uses $sym of $to, a floor above it"; bad=1
    else
      echo "$from $to" >>"$t/edges"
    fi
  done < <(join "$t/uses" "$t/defs")
  touch "$t/edges"
  if ! sort -u "$t/edges" | tsort >/dev/null 2>"$t/loop"; then
    echo "a circle of calls between folders:" $(grep -v '^tsort: .*loop' "$t/loop" | sed 's/^tsort: //')
    bad=1
  fi
  rm -rf "$t"
  [ $bad -eq 0 ] && echo "floors: every call runs downward, no circle ($dir)"
  return $bad
}

self_test() {
  local t ok=0
  t=$(mktemp -d)
  mkdir -p "$t/include" "$t/tools" "$t/src/core" "$t/src/graph" "$t/src/train" "$t/src/io"
  touch "$t/include/ckeras.h" "$t/src/core/core.h" "$t/src/graph/graph.h" "$t/src/train/train.h" "$t/src/io/io.h"
  printf '#include "ckeras.h"\n' >"$t/src/core/core.c"
  printf '#include "core/core.h"\n' >"$t/src/graph/graph.c"
  printf '#include "graph/graph.h"\n' >"$t/src/io/io.c"
  printf '#include "ckeras.h"\n' >"$t/tools/cli.c"
  check "$t" >/dev/null || { echo "self-test: a clean tree was rejected"; ok=1; }
  printf '#include "graph/graph.h"\n' >"$t/tools/deep.c"
  check "$t" >/dev/null && { echo "self-test: tools including graph/graph.h passed"; ok=1; }
  rm "$t/tools/deep.c"
  printf '#include "graph/graph.h"\n' >"$t/src/core/up.c"
  check "$t" >/dev/null && { echo "self-test: an upward include (core -> graph) passed"; ok=1; }
  rm "$t/src/core/up.c"
  printf '#include "io/io.h"\n' >"$t/src/train/a.c"
  printf '#include "train/train.h"\n' >"$t/src/io/b.c"
  check "$t" >/dev/null && { echo "self-test: a circle (train <-> io) passed"; ok=1; }
  rm "$t/src/io/b.c"
  mkdir -p "$t/src/layers" "$t/src/engine"
  touch "$t/src/engine/run.h" "$t/src/engine/exec.h"
  printf '#include "engine/run.h"\n' >"$t/src/layers/ok.c"
  check "$t" >/dev/null || { echo "self-test: layers through engine/run.h was rejected"; ok=1; }
  printf '#include "engine/exec.h"\n' >"$t/src/layers/wide.c"
  check "$t" >/dev/null && { echo "self-test: layers including engine/exec.h passed"; ok=1; }
  rm "$t/src/layers/wide.c"
  printf 'struct ck_exec { int plan; };\n' >"$t/src/engine/exec.c"
  check "$t" >/dev/null || { echo "self-test: the engine defining its state in a .c file was rejected"; ok=1; }
  printf 'struct ck_exec { int plan; };\n' >"$t/src/engine/run.h"
  check "$t" >/dev/null && { echo "self-test: the engine's state defined in a header passed"; ok=1; }
  : >"$t/src/engine/run.h"
  mkdir -p "$t/obj/core" "$t/obj/graph"
  printf 'int graph_fn(void) { return 1; }\n' >"$t/g.c"
  printf 'int core_fn(void) { return 2; }\n' >"$t/c.c"
  printf 'int core_fn(void); int graph_fn(void) { return core_fn(); }\n' >"$t/g2.c"
  printf 'int graph_fn(void); int core_fn(void) { return graph_fn(); }\n' >"$t/c2.c"
  cc -c "$t/g2.c" -o "$t/obj/graph/g.o" && cc -c "$t/c.c" -o "$t/obj/core/c.o" || ok=1
  check_objects "$t/obj" >/dev/null || { echo "self-test: a downward call (graph -> core) was rejected"; ok=1; }
  cc -c "$t/g.c" -o "$t/obj/graph/g.o" && cc -c "$t/c2.c" -o "$t/obj/core/c.o" || ok=1
  check_objects "$t/obj" >/dev/null && { echo "self-test: an upward call (core -> graph) passed"; ok=1; }
  rm -rf "$t"
  [ $ok -eq 0 ] && echo "self-test: the check rejects an upward include, a circle, a bypassed narrow header, a private struct in a header, tools past the public API and an upward call"
  return $ok
}

if [ "${1:-}" = "--self-test" ]; then self_test; exit; fi
if [ "${1:-}" = "--objects" ]; then check_objects "${2:?--objects needs a folder}" "${3:-}"; exit; fi
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
if check "$root"; then echo "floors: every include runs downward, no circle"; else exit 1; fi
