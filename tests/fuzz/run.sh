#!/usr/bin/env bash
# Builds the fuzz preset and fuzzes the API for a bounded time (default 60 s), starting from the
# seed corpus in tests/fuzz/corpus (new inputs go to a scratch folder, not into the tree).
# Usage: tests/fuzz/run.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-60}"
tools/ensure-deps clang-14 libclang-rt-14-dev
cmake --preset fuzz > /dev/null
cmake --build --preset fuzz -j "$(nproc)"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 \
  build/fuzz/tests/fuzz/magpie_api_fuzz -max_total_time="$seconds" -print_final_stats=1 \
  "$scratch" tests/fuzz/corpus 2>&1 | grep -vE '^#[0-9]+\s+(NEW|REDUCE|pulse)' | tail -25
echo "fuzz: no invariant broken in ${seconds} s"
