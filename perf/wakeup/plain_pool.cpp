// Wake-up latency of the plain pool: one notify_one on a condition variable.
#include <benchmark/benchmark.h>

#include "common/config.hpp"
#include "common/plain_pool.hpp"
#include "common/spread.hpp"
#include "wakeup/sampler.hpp"

namespace {

void wakeup_plain_pool(benchmark::State& state, perf::regime r) {
  perf::probe p;  // before the pool: outlives it
  perf::plain_pool pool(perf::workers());
  perf::run_wakeup(
      state, r == perf::regime::parked ? "wakeup_parked/plain_pool" : "wakeup_spinning/plain_pool",
      r, p, [&pool, &p] { pool.submit([&p] { p.hit(); }); });
}

}  // namespace

BENCHMARK_CAPTURE(wakeup_plain_pool, parked, perf::regime::parked)
    ->Name("wakeup_parked/plain_pool")
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond)
    ->Apply(perf::with_spread);
BENCHMARK_CAPTURE(wakeup_plain_pool, spinning, perf::regime::spinning)
    ->Name("wakeup_spinning/plain_pool")
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond)
    ->Apply(perf::with_spread);
