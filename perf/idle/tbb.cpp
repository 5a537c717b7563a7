// Idle cost of oneTBB after a task was enqueued into its arena and ran.
#include <benchmark/benchmark.h>

#include "common/completion.hpp"
#include "common/config.hpp"
#include "common/spread.hpp"
#include "common/tbb_arena.hpp"
#include "idle/cpu_meter.hpp"

namespace {

void idle_tbb(benchmark::State& state) {
  perf::completion done;  // before the arena: outlives it
  perf::tbb_arena a(perf::workers(), 0);
  perf::run_idle(state, "idle/tbb", [&a, &done] {
    done.reset(1);
    a.arena.enqueue([&done] { done.arrive(); });
    return done.wait_for(perf::hang_limit);
  });
}

}  // namespace

BENCHMARK(idle_tbb)
    ->Name("idle/tbb")
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
