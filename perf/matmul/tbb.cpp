// matmul on oneTBB: tbb::parallel_for over a blocked_range of rows with a grain of one tile of
// rows, auto_partitioner.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>

#include "common/config.hpp"
#include "common/failure.hpp"
#include "common/spread.hpp"
#include "common/tbb_arena.hpp"
#include "matmul/matmul.hpp"

namespace {

void matmul_tbb(benchmark::State& state) {
  using range = tbb::blocked_range<std::size_t>;
  perf::matmul_problem p = perf::matmul_input(perf::matmul_n);
  const std::uint64_t expected = perf::matmul_expected(p);
  perf::tbb_arena a(perf::workers(), 1);
  for (auto _ : state) {
    a.arena.execute([&p] {
      tbb::parallel_for(
          range(0, p.n, perf::matmul_tile_rows),
          [&p](const range& r) { perf::matmul_rows(p, r.begin(), r.end()); },
          tbb::auto_partitioner{});
    });
    if (!perf::check(state, "matmul/tbb", perf::matmul_checksum(p), expected)) break;
  }
}

}  // namespace

BENCHMARK(matmul_tbb)
    ->Name("matmul/tbb")
    ->Iterations(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
