#!/usr/bin/env bash
# Model-checks tests/model/park_protocol.pml with Spin: each configuration below must pass, each
# seeded bug must be rejected (so the checks are not vacuous). Parameters: W workers, P injector
# producers (TASKS each), L light producers (a worker pushing to its own deque, LTASKS each),
# G tasks of a group waited for by its home worker, TIMED parks, INACTIVE workers.
set -euo pipefail
command -v spin > /dev/null || { echo "check.sh: needs Spin (apt-get install spin; tools/ensure-deps does)"; exit 1; }
model="$(cd "$(dirname "$0")" && pwd)/park_protocol.pml"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

verify() {  # verify NAME SPIN-DEFINES...; prints pan's verdict; returns 0 (no error), 1 (error
            # found) or 2 (no error, but the search did not cover every state)
  local name="$1"; shift
  spin "$@" -a "$model" > /dev/null
  nice -n 10 gcc -O2 -w -DSAFETY -DCOLLAPSE -DMEMLIM=4096 -o pan pan.c
  nice -n 10 ./pan -m200000 > "pan.$name.txt" 2>&1 || true
  local errors
  errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "pan.$name.txt" | head -1)
  echo "$name: $(grep -E 'states, stored' "pan.$name.txt" | head -1 | xargs) errors=${errors:-?}"
  if [ "${errors:-0}" != 0 ]; then
    grep -m1 -E '^pan:1: ' "pan.$name.txt" | cut -c1-160 || true
    return 1
  fi
  if [ -z "$errors" ] || grep -q "out of memory\|max search depth too small\|Search not completed" "pan.$name.txt"; then
    echo "$name: search incomplete"; return 2
  fi
  return 0
}

status=0
pass() {  # pass NAME WHAT DEFINES...: the protocol must hold
  local name="$1" what="$2"; shift 2
  echo "-- $name: $what"
  verify "$name" "$@" || status=1
}
reject() {  # reject NAME WHAT DEFINES...: Spin must find the seeded bug
  local name="$1" what="$2"; shift 2
  echo "-- $name (seeded bug): $what"
  local rc=0
  verify "$name" "$@" || rc=$?
  if [ "$rc" -eq 1 ]; then
    echo "$name: rejected, as it must be"
  else
    echo "$name: Spin found no error in a model with a known bug"; status=1
  fi
}

# Injector producers only (full fence on both sides of the Dekker pair).
pass w2_p1 "2 workers, 1 injector producer of 3 tasks" -DW=2 -DP=1 -DTASKS=3
pass w3_p1 "3 workers, 1 injector producer of 2 tasks" -DW=3 -DP=1 -DTASKS=2
pass w2_p2 "2 workers, 2 injector producers" -DW=2 -DP=2 -DTASKS=2
pass w3_p2 "3 workers, 2 injector producers" -DW=3 -DP=2 -DTASKS=2
# Light producers: store buffered past the read of the state word, drained by the membarrier.
pass w2_l1 "light producer (own-deque push, store buffer) of 2 tasks" -DW=2 -DL=1 -DLTASKS=2
pass w3_l1 "3 workers, light producer of 2 tasks" -DW=3 -DL=1 -DLTASKS=2
pass w2_l2 "2 light producers" -DW=2 -DL=2 -DLTASKS=1
pass w2_p1_l1 "an injector producer and a light producer" -DW=2 -DP=1 -DTASKS=1 -DL=1 -DLTASKS=1
# Group joins: home_pending, the word's waiter bit, the fold, thieves' finish_shared.
pass g1 "home waits for 1 group task, 1 thief" -DW=2 -DG=1
pass g2 "home waits for 2 group tasks, 1 thief" -DW=2 -DG=2
pass w3_g2 "home waits for 2 group tasks, 2 thieves" -DW=3 -DG=2
pass g2_p1_l1 "group of 2 with an injector and a light producer" -DW=2 -DG=2 -DP=1 -DTASKS=1 -DL=1
# Timed parks: a timeout races the waker for the parker's listing.
pass timed_p1 "timed parks, injector producer" -DW=2 -DP=1 -DTASKS=2 -DTIMED
pass timed_w3 "timed parks, 3 workers" -DW=3 -DP=1 -DTASKS=2 -DTIMED
pass timed_l1 "timed parks, light producer" -DW=2 -DL=1 -DLTASKS=2 -DTIMED
pass timed_g2 "timed group wait, injector producer" -DW=2 -DG=2 -DP=1 -DTASKS=1 -DTIMED
# Inactive workers: set_active_workers(W-1), then maybe back to W.
pass inactive_p1 "set_active_workers with an injector producer" -DW=2 -DP=1 -DTASKS=2 -DINACTIVE
pass inactive_w3 "set_active_workers, 3 workers" -DW=3 -DP=1 -DTASKS=1 -DINACTIVE
pass inactive_l1 "set_active_workers with a light producer" -DW=2 -DL=1 -DLTASKS=2 -DINACTIVE
pass combined "light producer, group, timed parks and set_active_workers" \
  -DW=2 -DL=1 -DG=1 -DTIMED -DINACTIVE

reject no_recheck "the parker sleeps without re-checking the queues" \
  -DW=2 -DP=1 -DTASKS=1 -DBUG_NO_RECHECK
reject light_parker "the parker's membarrier replaced by a fence that drains only its own store buffer" \
  -DW=2 -DL=1 -DLTASKS=1 -DBUG_LIGHT_PARKER
reject skip_ignores_light "the membarrier skipped while a light producer still runs" \
  -DW=2 -DL=1 -DLTASKS=1 -DBUG_SKIP_IGNORES_LIGHT
reject timeout_drops_wake "a timed-out parker that a waker unlisted first goes on as not searching" \
  -DW=2 -DP=1 -DTASKS=2 -DTIMED -DBUG_TIMEOUT_DROPS_WAKE
reject fold_before_list "the home folds and sets the waiter bit before it is listed as a sleeper" \
  -DW=2 -DG=1 -DBUG_FOLD_BEFORE_LIST
reject no_fold "the home sets the waiter bit without folding home_pending into the word" \
  -DW=2 -DG=2 -DBUG_NO_FOLD
reject done_home_only "the home's wait looks at home_pending only, not at the shared word" \
  -DW=2 -DG=2 -DBUG_DONE_HOME_ONLY
reject inactive_no_recheck "an inactive parker re-checks only its own deque" \
  -DW=2 -DL=1 -DLTASKS=2 -DINACTIVE -DBUG_INACTIVE_NO_RECHECK
reject inactive_no_recheck_p "as above, set_active_workers racing a searcher's park" \
  -DW=2 -DP=1 -DTASKS=2 -DINACTIVE -DBUG_INACTIVE_NO_RECHECK

[ "$status" -eq 0 ] && echo "park protocol: no lost wake-up, no deadlock, group waits return exactly when done"
exit "$status"
