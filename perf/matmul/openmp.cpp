// matmul on OpenMP (GNU libgomp): parallel for over tiles of rows, static schedule.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "common/config.hpp"
#include "common/failure.hpp"
#include "common/spread.hpp"
#include "matmul/matmul.hpp"

namespace {

void multiply(perf::matmul_problem& p, int threads) {
  const std::size_t tiles = (p.n + perf::matmul_tile_rows - 1) / perf::matmul_tile_rows;
#pragma omp parallel for num_threads(threads)
  for (std::size_t t = 0; t < tiles; ++t) {
    const std::size_t first = t * perf::matmul_tile_rows;
    perf::matmul_rows(p, first, std::min(p.n, first + perf::matmul_tile_rows));
  }
}

void matmul_openmp(benchmark::State& state) {
  perf::matmul_problem p = perf::matmul_input(perf::matmul_n);
  const std::uint64_t expected = perf::matmul_expected(p);
  const int threads = static_cast<int>(perf::workers());
  for (auto _ : state) {
    multiply(p, threads);
    if (!perf::check(state, "matmul/openmp", perf::matmul_checksum(p), expected)) break;
  }
}

}  // namespace

BENCHMARK(matmul_openmp)
    ->Name("matmul/openmp")
    ->Iterations(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
