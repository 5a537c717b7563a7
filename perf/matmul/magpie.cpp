// matmul on Magpie: parallel_for over rows with a range body, split down to one tile of rows.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>

#include <magpie/magpie.hpp>

#include "common/config.hpp"
#include "common/failure.hpp"
#include "common/spread.hpp"
#include "matmul/matmul.hpp"

namespace {

void matmul_magpie(benchmark::State& state) {
  perf::matmul_problem p = perf::matmul_input(perf::matmul_n);
  const std::uint64_t expected = perf::matmul_expected(p);
  magpie::config cfg;
  cfg.workers = perf::workers();
  magpie::runtime rt(cfg);
  for (auto _ : state) {
    magpie::parallel_for(
        rt, std::size_t{0}, p.n, perf::matmul_tile_rows,
        [&p](std::size_t first, std::size_t last) { perf::matmul_rows(p, first, last); });
    if (!perf::check(state, "matmul/magpie", perf::matmul_checksum(p), expected)) break;
  }
}

}  // namespace

BENCHMARK(matmul_magpie)
    ->Name("matmul/magpie")
    ->Iterations(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
