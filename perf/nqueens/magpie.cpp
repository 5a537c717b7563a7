// nqueens on Magpie: a task_group per board above the cutoff, one spawn per open square.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include <magpie/magpie.hpp>

#include "common/config.hpp"
#include "common/failure.hpp"
#include "common/spread.hpp"
#include "nqueens/nqueens.hpp"

namespace {

std::uint64_t nqueens(magpie::runtime& rt, const perf::queens_board& b, int row) {
  if (row >= perf::nqueens_cutoff) return perf::nqueens_serial(b);
  perf::queens_counts counts{};
  magpie::task_group g(rt);
  std::size_t k = 0;
  for (std::uint32_t open = b.open_squares(); open != 0; open &= open - 1, ++k) {
    g.spawn([&rt, out = &counts[k], child = b.place(perf::lowest_bit(open)), row] {
      *out = nqueens(rt, child, row + 1);
    });
  }
  g.wait();
  return perf::queens_total(counts);
}

// workers == 0: the configured count (T2); 1: T1.
void nqueens_magpie(benchmark::State& state, std::size_t workers) {
  magpie::config cfg;
  const std::size_t w = workers == 0 ? perf::workers() : workers;
  const std::string name = perf::with_workers("nqueens/magpie", w);
  cfg.workers = w;
  magpie::runtime rt(cfg);
  std::uint64_t r = 0;
  for (auto _ : state) {
    magpie::task_group root(rt);  // the root on a worker, as in fib/magpie
    root.spawn([&rt, &r] { r = nqueens(rt, perf::queens_start(perf::nqueens_n), 0); });
    root.wait();
    if (!perf::check(state, name, r, perf::nqueens_expected)) break;
  }
}

}  // namespace

BENCHMARK_CAPTURE(nqueens_magpie, workers, 0)
    ->Name("nqueens/magpie")
    ->Iterations(20)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
BENCHMARK_CAPTURE(nqueens_magpie, one_worker, 1)
    ->Name("nqueens_1w/magpie")
    ->Iterations(10)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
