// What config.trace costs: fib(25) (one spawn and one wait per call, ~120 k tasks, the
// per-task overhead at its most visible) with tracing off and on, in one binary so that the
// ratio comes from one interleaved run. Off must match a build without tracing (docs/operations.md
// records both). Run (one line):
//   build/release/perf/magpie_trace_bench --benchmark_repetitions=10
//     --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <stdexcept>

#include <magpie/magpie.hpp>

namespace {

constexpr int n = 25;
constexpr std::uint64_t expected = 75025;
constexpr std::int64_t tasks_per_run = 121393;  // a spawn per call with k >= 2, and the root

std::uint64_t fib(magpie::runtime& rt, int k) {
  if (k < 2) return static_cast<std::uint64_t>(k);
  std::uint64_t a = 0;
  magpie::task_group g(rt);
  g.spawn([&rt, &a, k] { a = fib(rt, k - 1); });
  const std::uint64_t b = fib(rt, k - 2);
  g.wait();
  return a + b;
}

// range(0): trace off (0) or on (1); range(1): workers.
void fib_trace(benchmark::State& state) {
  magpie::config cfg;
  cfg.trace = state.range(0) != 0;
  cfg.workers = static_cast<std::size_t>(state.range(1));
  std::unique_ptr<magpie::runtime> rt;
  try {
    rt = std::make_unique<magpie::runtime>(cfg);
  } catch (const std::invalid_argument& e) {  // a build without tracing
    state.SkipWithError(e.what());
    return;
  }
  std::uint64_t r = 0;
  for (auto _ : state) {
    magpie::task_group root(*rt);  // the root runs on a worker, as in perf/fib
    root.spawn([&rt, &r] { r = fib(*rt, n); });
    root.wait();
  }
  if (r != expected) state.SkipWithError("wrong fib result");
  state.SetItemsProcessed(state.iterations() * tasks_per_run);
}

}  // namespace

BENCHMARK(fib_trace)
    ->ArgsProduct({{0, 1}, {1, 2}})
    ->ArgNames({"trace", "workers"})
    ->Iterations(20)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
