// fib on oneTBB: tbb::task_group per call inside an arena the calling thread joins.
#include <benchmark/benchmark.h>

#include <string>

#include <oneapi/tbb/task_group.h>

#include "common/config.hpp"
#include "common/failure.hpp"
#include "common/spread.hpp"
#include "common/tbb_arena.hpp"

namespace {

std::uint64_t fib(int n) {
  if (n < 2) return static_cast<std::uint64_t>(n);
  std::uint64_t a = 0;
  tbb::task_group g;
  g.run([&a, n] { a = fib(n - 1); });
  const std::uint64_t b = fib(n - 2);
  g.wait();
  return a + b;
}

// workers == 0: the configured count; 1: the caller alone, TBB's T1.
void fib_tbb(benchmark::State& state, std::size_t workers) {
  const std::size_t n = workers == 0 ? perf::workers() : workers;
  const std::string name = perf::with_workers("fib/tbb", n);
  perf::tbb_arena a(n, 1);
  std::uint64_t r = 0;
  for (auto _ : state) {
    a.arena.execute([&r] { r = fib(perf::fib_n); });
    if (!perf::check(state, name, r, perf::fib_expected)) break;
  }
}

}  // namespace

BENCHMARK_CAPTURE(fib_tbb, workers, 0)
    ->Name("fib/tbb")
    ->Iterations(4)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
BENCHMARK_CAPTURE(fib_tbb, one_worker, 1)
    ->Name("fib_1w/tbb")
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
