// Wake-up latency of Magpie, default spin budget (50 us).
#include <benchmark/benchmark.h>

#include <magpie/magpie.hpp>

#include "common/config.hpp"
#include "common/spread.hpp"
#include "wakeup/sampler.hpp"

namespace {

void wakeup_magpie(benchmark::State& state, perf::regime r) {
  perf::probe p;  // before rt: outlives it
  magpie::config cfg;
  cfg.workers = perf::workers();
  magpie::runtime rt(cfg);
  perf::run_wakeup(state,
                   r == perf::regime::parked ? "wakeup_parked/magpie" : "wakeup_spinning/magpie", r,
                   p, [&rt, &p] { rt.submit([&p] { p.hit(); }); });
}

}  // namespace

BENCHMARK_CAPTURE(wakeup_magpie, parked, perf::regime::parked)
    ->Name("wakeup_parked/magpie")
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond)
    ->Apply(perf::with_spread);
BENCHMARK_CAPTURE(wakeup_magpie, spinning, perf::regime::spinning)
    ->Name("wakeup_spinning/magpie")
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond)
    ->Apply(perf::with_spread);
