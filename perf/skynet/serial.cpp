// Ts: the same tree walked with no runtime.
#include <benchmark/benchmark.h>

#include "common/config.hpp"
#include "common/failure.hpp"
#include "skynet/skynet.hpp"

namespace {

void skynet_serial_bench(benchmark::State& state) {
  std::uint64_t r = 0;
  for (auto _ : state) {
    std::uint64_t leaves = perf::skynet_leaves;
    benchmark::DoNotOptimize(leaves);  // keeps the compiler from folding the tree
    benchmark::DoNotOptimize(r = perf::skynet_serial(0, leaves));
  }
  perf::check(state, "skynet/serial", r, perf::skynet_expected);
}

}  // namespace

BENCHMARK(skynet_serial_bench)->Name("skynet/serial")->UseRealTime()->Unit(benchmark::kMillisecond);
