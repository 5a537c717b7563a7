// Ts: the kernel over every row, no runtime.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "common/config.hpp"
#include "common/failure.hpp"
#include "matmul/matmul.hpp"

namespace {

void matmul_serial(benchmark::State& state) {
  perf::matmul_problem p = perf::matmul_input(perf::matmul_n);
  const std::uint64_t expected = perf::matmul_expected(p);
  benchmark::DoNotOptimize(p.c.data());  // escaped: every iteration has to store C again
  for (auto _ : state) {
    perf::matmul_rows(p, 0, p.n);
    if (!perf::check(state, "matmul/serial", perf::matmul_checksum(p), expected)) break;
  }
}

}  // namespace

BENCHMARK(matmul_serial)->Name("matmul/serial")->UseRealTime()->Unit(benchmark::kMillisecond);
