// Idle cost of Magpie: its workers should all be parked once the spin budget (50 us) is spent.
#include <benchmark/benchmark.h>

#include <magpie/magpie.hpp>

#include "common/completion.hpp"
#include "common/config.hpp"
#include "common/spread.hpp"
#include "idle/cpu_meter.hpp"

namespace {

void idle_magpie(benchmark::State& state) {
  perf::completion done;  // before rt: outlives it
  magpie::config cfg;
  cfg.workers = perf::workers();
  magpie::runtime rt(cfg);
  perf::run_idle(state, "idle/magpie", [&rt, &done] {
    done.reset(1);
    rt.submit([&done] { done.arrive(); });
    return done.wait_for(perf::hang_limit);
  });
}

}  // namespace

BENCHMARK(idle_magpie)
    ->Name("idle/magpie")
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
