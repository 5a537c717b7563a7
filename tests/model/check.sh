#!/usr/bin/env bash
# Model-checks tests/model/park_protocol.pml with Spin: 2 and 3 workers, 1 and 2 producers, and
# a seeded bug (no re-check before sleeping) that the checker must reject.
set -euo pipefail
command -v spin > /dev/null || { echo "check.sh: needs Spin (apt-get install spin; tools/ensure-deps does)"; exit 1; }
model="$(cd "$(dirname "$0")" && pwd)/park_protocol.pml"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

verify() {  # verify NAME SPIN-DEFINES...; prints pan's verdict, returns its error count
  local name="$1"; shift
  spin "$@" -a "$model" > /dev/null
  gcc -O2 -w -DSAFETY -DMEMLIM=4096 -o pan pan.c
  ./pan -m200000 > "pan.$name.txt" 2>&1 || true
  local errors
  errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "pan.$name.txt" | head -1)
  echo "$name: $(grep -E 'states, stored' "pan.$name.txt" | head -1 | xargs) errors=${errors:-?}"
  if grep -q "out of memory\|max search depth too small" "pan.$name.txt"; then
    echo "$name: search incomplete"; return 99
  fi
  return "${errors:-99}"
}

status=0
verify w2_p1 -DW=2 -DP=1 -DTASKS=3 || status=1
verify w3_p1 -DW=3 -DP=1 -DTASKS=2 || status=1
verify w2_p2 -DW=2 -DP=2 -DTASKS=2 || status=1
verify w3_p2 -DW=3 -DP=2 -DTASKS=2 || status=1
if verify seeded_bug -DW=2 -DP=1 -DTASKS=1 -DBUG_NO_RECHECK; then
  echo "seeded_bug: Spin found no error in a model with a known lost wake-up"; status=1
else
  echo "seeded_bug: rejected, as it must be"
fi
[ "$status" -eq 0 ] && echo "park protocol: no lost wake-up, no deadlock"
exit "$status"
