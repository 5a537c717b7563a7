// fib on Magpie: spawn fib(n-1), compute fib(n-2) inline, wait.
#include <benchmark/benchmark.h>

#include <string>

#include <magpie/magpie.hpp>

#include "common/config.hpp"
#include "common/failure.hpp"
#include "common/spread.hpp"

namespace {

std::uint64_t fib(magpie::runtime& rt, int n) {
  if (n < 2) return static_cast<std::uint64_t>(n);
  std::uint64_t a = 0;
  magpie::task_group g(rt);
  g.spawn([&rt, &a, n] { a = fib(rt, n - 1); });
  const std::uint64_t b = fib(rt, n - 2);
  g.wait();
  return a + b;
}

// workers == 0: the configured count (T2); 1: T1, the per-task overhead on one worker.
void fib_magpie(benchmark::State& state, std::size_t workers) {
  magpie::config cfg;
  const std::size_t n = workers == 0 ? perf::workers() : workers;
  const std::string name = perf::with_workers("fib/magpie", n);
  cfg.workers = n;
  magpie::runtime rt(cfg);
  std::uint64_t r = 0;
  for (auto _ : state) {
    // The root runs on a worker: spawned from this outside thread, every call would go through
    // the injector.
    magpie::task_group root(rt);
    root.spawn([&rt, &r] { r = fib(rt, perf::fib_n); });
    root.wait();
    if (!perf::check(state, name, r, perf::fib_expected)) break;
  }
}

}  // namespace

BENCHMARK_CAPTURE(fib_magpie, workers, 0)
    ->Name("fib/magpie")
    ->Iterations(8)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
BENCHMARK_CAPTURE(fib_magpie, one_worker, 1)
    ->Name("fib_1w/magpie")
    ->Iterations(4)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
