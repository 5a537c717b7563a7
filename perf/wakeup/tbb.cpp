// Wake-up latency of oneTBB: task_arena::enqueue from a thread outside the arena.
#include <benchmark/benchmark.h>

#include "common/config.hpp"
#include "common/spread.hpp"
#include "common/tbb_arena.hpp"
#include "wakeup/sampler.hpp"

namespace {

void wakeup_tbb(benchmark::State& state, perf::regime r) {
  perf::probe p;  // before the arena: outlives it
  perf::tbb_arena a(perf::workers(), 0);
  perf::run_wakeup(state, r == perf::regime::parked ? "wakeup_parked/tbb" : "wakeup_spinning/tbb",
                   r, p, [&a, &p] { a.arena.enqueue([&p] { p.hit(); }); });
}

}  // namespace

BENCHMARK_CAPTURE(wakeup_tbb, parked, perf::regime::parked)
    ->Name("wakeup_parked/tbb")
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond)
    ->Apply(perf::with_spread);
BENCHMARK_CAPTURE(wakeup_tbb, spinning, perf::regime::spinning)
    ->Name("wakeup_spinning/tbb")
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond)
    ->Apply(perf::with_spread);
