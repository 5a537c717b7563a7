// nqueens on OpenMP (GNU libgomp): a task per open square above the cutoff and a taskwait, all
// started by one thread of a parallel region (parallel + single).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "common/config.hpp"
#include "common/failure.hpp"
#include "common/spread.hpp"
#include "nqueens/nqueens.hpp"

namespace {

std::uint64_t nqueens(const perf::queens_board& b, int row) {
  if (row >= perf::nqueens_cutoff) return perf::nqueens_serial(b);
  perf::queens_counts counts{};
  std::size_t k = 0;
  for (std::uint32_t open = b.open_squares(); open != 0; open &= open - 1, ++k) {
    std::uint64_t* out = &counts[k];
    const perf::queens_board child = b.place(perf::lowest_bit(open));
#pragma omp task firstprivate(out, child, row)
    *out = nqueens(child, row + 1);
  }
#pragma omp taskwait
  return perf::queens_total(counts);
}

std::uint64_t solve(int threads) {
  std::uint64_t r = 0;
#pragma omp parallel num_threads(threads)
#pragma omp single
  r = nqueens(perf::queens_start(perf::nqueens_n), 0);
  return r;
}

// workers == 0: the configured count; 1: a team of one, OpenMP's T1.
void nqueens_openmp(benchmark::State& state, std::size_t workers) {
  const std::size_t w = workers == 0 ? perf::workers() : workers;
  const std::string name = perf::with_workers("nqueens/openmp", w);
  std::uint64_t r = 0;
  for (auto _ : state) {
    r = solve(static_cast<int>(w));
    if (!perf::check(state, name, r, perf::nqueens_expected)) break;
  }
}

}  // namespace

BENCHMARK_CAPTURE(nqueens_openmp, workers, 0)
    ->Name("nqueens/openmp")
    ->Iterations(20)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
BENCHMARK_CAPTURE(nqueens_openmp, one_worker, 1)
    ->Name("nqueens_1w/openmp")
    ->Iterations(10)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
