// Ts: the search with no runtime.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "common/config.hpp"
#include "common/failure.hpp"
#include "nqueens/nqueens.hpp"

namespace {

void nqueens_serial_bench(benchmark::State& state) {
  std::uint64_t r = 0;
  for (auto _ : state) {
    perf::queens_board b = perf::queens_start(perf::nqueens_n);
    benchmark::DoNotOptimize(b);  // keeps the compiler from folding the search
    benchmark::DoNotOptimize(r = perf::nqueens_serial(b));
  }
  perf::check(state, "nqueens/serial", r, perf::nqueens_expected);
}

}  // namespace

BENCHMARK(nqueens_serial_bench)
    ->Name("nqueens/serial")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
