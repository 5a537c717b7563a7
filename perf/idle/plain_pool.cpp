// Idle cost of the plain pool: its threads block on the condition variable, the floor to match.
#include <benchmark/benchmark.h>

#include "common/completion.hpp"
#include "common/config.hpp"
#include "common/plain_pool.hpp"
#include "common/spread.hpp"
#include "idle/cpu_meter.hpp"

namespace {

void idle_plain_pool(benchmark::State& state) {
  perf::completion done;  // before the pool: outlives it
  perf::plain_pool pool(perf::workers());
  perf::run_idle(state, "idle/plain_pool", [&pool, &done] {
    done.reset(1);
    pool.submit([&done] { done.arrive(); });
    return done.wait_for(perf::hang_limit);
  });
}

}  // namespace

BENCHMARK(idle_plain_pool)
    ->Name("idle/plain_pool")
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
