// External submit into Magpie: every task goes through the injector.
#include <benchmark/benchmark.h>

#include <magpie/magpie.hpp>

#include "common/completion.hpp"
#include "common/config.hpp"
#include "common/spread.hpp"
#include "submit/producers.hpp"

namespace {

void submit_magpie(benchmark::State& state, std::size_t producers) {
  perf::completion done;  // before rt: outlives it (see run_producers)
  magpie::config cfg;
  cfg.workers = perf::workers();
  magpie::runtime rt(cfg);
  perf::run_producers(state, "submit/magpie", producers, done,
                      [&rt, &done] { rt.submit([&done] { done.arrive(); }); });
}

}  // namespace

BENCHMARK_CAPTURE(submit_magpie, one_producer, 1)
    ->Name("submit_1p/magpie")
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
BENCHMARK_CAPTURE(submit_magpie, two_producers, 2)
    ->Name("submit_2p/magpie")
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
