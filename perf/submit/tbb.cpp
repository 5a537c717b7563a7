// External submit into oneTBB: task_arena::enqueue from threads outside the arena.
#include <benchmark/benchmark.h>

#include "common/completion.hpp"
#include "common/config.hpp"
#include "common/spread.hpp"
#include "common/tbb_arena.hpp"
#include "submit/producers.hpp"

namespace {

void submit_tbb(benchmark::State& state, std::size_t producers) {
  perf::completion done;  // before the arena: outlives it (see run_producers)
  perf::tbb_arena a(perf::workers(), 0);
  perf::run_producers(state, "submit/tbb", producers, done,
                      [&a, &done] { a.arena.enqueue([&done] { done.arrive(); }); });
}

}  // namespace

BENCHMARK_CAPTURE(submit_tbb, one_producer, 1)
    ->Name("submit_1p/tbb")
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
BENCHMARK_CAPTURE(submit_tbb, two_producers, 2)
    ->Name("submit_2p/tbb")
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
