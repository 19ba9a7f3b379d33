#!/usr/bin/env bash
# The floor plan of docs/DESIGN.md, checked over the `#include "..."` lines of
# tools/ and src/: a folder may include only its own floor or the floors below,
# and the folders of one floor (train, io, report) may not include each other in
# a circle. include/ckeras.h is the contract every floor implements a part of, so
# any folder may include it for its types; it includes nothing of the project.
# Prints each offending include as file:line and exits 1; exit 0 when clean.
# Usage: scripts/check-floors.sh [ROOT]      (ROOT: default the repository)
#        scripts/check-floors.sh --self-test (it must reject a planted upward
#                                             include and a planted circle)
set -uo pipefail

# Top to bottom; folders sharing a floor are separated by commas.
FLOORS=(tools train,io,report layers engine graph kernels core)

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
      if [ -z "$(floor_of "$to")" ] || [ "$(floor_of "$to")" -lt "$(floor_of "$from")" ]; then
        echo "${f#"$root"/}:$line: $from includes $to, a floor above it"
        bad=1
      else
        echo "$from $to" >>"$edges"
      fi
    done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f")
  done < <(find "$root/tools" "$root/src" -name '*.[ch]' | sort)
  # tsort reports a loop in the folder graph (only folders of one floor can make one).
  if ! sort -u "$edges" | tsort >/dev/null 2>"$edges.loop"; then
    echo "a circle of includes between folders:" $(grep -v '^tsort: .*loop' "$edges.loop" | sed 's/^tsort: //')
    bad=1
  fi
  rm -f "$edges" "$edges.loop"
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
  check "$t" >/dev/null || { echo "self-test: a clean tree was rejected"; ok=1; }
  printf '#include "graph/graph.h"\n' >"$t/src/core/up.c"
  check "$t" >/dev/null && { echo "self-test: an upward include (core -> graph) passed"; ok=1; }
  rm "$t/src/core/up.c"
  printf '#include "io/io.h"\n' >"$t/src/train/a.c"
  printf '#include "train/train.h"\n' >"$t/src/io/b.c"
  check "$t" >/dev/null && { echo "self-test: a circle (train <-> io) passed"; ok=1; }
  rm -rf "$t"
  [ $ok -eq 0 ] && echo "self-test: the check rejects an upward include and a circle"
  return $ok
}

if [ "${1:-}" = "--self-test" ]; then self_test; exit; fi
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
if check "$root"; then echo "floors: every include runs downward, no circle"; else exit 1; fi
