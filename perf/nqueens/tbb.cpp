// nqueens on oneTBB: a tbb::task_group per board above the cutoff, one run per open square.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include <oneapi/tbb/task_group.h>

#include "common/config.hpp"
#include "common/failure.hpp"
#include "common/spread.hpp"
#include "common/tbb_arena.hpp"
#include "nqueens/nqueens.hpp"

namespace {

std::uint64_t nqueens(const perf::queens_board& b, int row) {
  if (row >= perf::nqueens_cutoff) return perf::nqueens_serial(b);
  perf::queens_counts counts{};
  tbb::task_group g;
  std::size_t k = 0;
  for (std::uint32_t open = b.open_squares(); open != 0; open &= open - 1, ++k) {
    g.run([out = &counts[k], child = b.place(perf::lowest_bit(open)), row] {
      *out = nqueens(child, row + 1);
    });
  }
  g.wait();
  return perf::queens_total(counts);
}

// workers == 0: the configured count; 1: the caller alone, TBB's T1.
void nqueens_tbb(benchmark::State& state, std::size_t workers) {
  const std::size_t w = workers == 0 ? perf::workers() : workers;
  const std::string name = perf::with_workers("nqueens/tbb", w);
  perf::tbb_arena a(w, 1);
  std::uint64_t r = 0;
  for (auto _ : state) {
    a.arena.execute([&r] { r = nqueens(perf::queens_start(perf::nqueens_n), 0); });
    if (!perf::check(state, name, r, perf::nqueens_expected)) break;
  }
}

}  // namespace

BENCHMARK_CAPTURE(nqueens_tbb, workers, 0)
    ->Name("nqueens/tbb")
    ->Iterations(20)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
BENCHMARK_CAPTURE(nqueens_tbb, one_worker, 1)
    ->Name("nqueens_1w/tbb")
    ->Iterations(10)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
