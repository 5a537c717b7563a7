// External submit into the plain mutex + condition-variable pool.
#include <benchmark/benchmark.h>

#include "common/completion.hpp"
#include "common/config.hpp"
#include "common/plain_pool.hpp"
#include "common/spread.hpp"
#include "submit/producers.hpp"

namespace {

void submit_plain_pool(benchmark::State& state, std::size_t producers) {
  perf::completion done;  // before the pool: outlives it (see run_producers)
  perf::plain_pool pool(perf::workers());
  perf::run_producers(state, "submit/plain_pool", producers, done,
                      [&pool, &done] { pool.submit([&done] { done.arrive(); }); });
}

}  // namespace

BENCHMARK_CAPTURE(submit_plain_pool, one_producer, 1)
    ->Name("submit_1p/plain_pool")
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
BENCHMARK_CAPTURE(submit_plain_pool, two_producers, 2)
    ->Name("submit_2p/plain_pool")
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
