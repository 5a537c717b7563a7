// Ts: the same recursion with no runtime at all.
#include <benchmark/benchmark.h>

#include "common/config.hpp"
#include "common/failure.hpp"
#include "fib/fib.hpp"

namespace {

void fib_serial_bench(benchmark::State& state) {
  std::uint64_t r = 0;
  for (auto _ : state) {
    int n = perf::fib_n;
    benchmark::DoNotOptimize(n);  // keeps the compiler from folding the recursion
    benchmark::DoNotOptimize(r = perf::fib_serial(n));
  }
  perf::check(state, "fib/serial", r, perf::fib_expected);
}

}  // namespace

BENCHMARK(fib_serial_bench)->Name("fib/serial")->UseRealTime()->Unit(benchmark::kMillisecond);
