// Ts: the plain loop.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/config.hpp"
#include "common/failure.hpp"
#include "pfor_sum/pfor_sum.hpp"

namespace {

void pfor_sum_serial(benchmark::State& state) {
  const std::vector<std::uint64_t> v = perf::pfor_sum_input();
  benchmark::DoNotOptimize(v.data());  // the vector escapes: each iteration has to read it again
  std::uint64_t r = 0;
  for (auto _ : state) {
    std::uint64_t s = 0;
    for (std::size_t i = 0; i < v.size(); ++i)
      s += v[i];
    benchmark::DoNotOptimize(r = s);
    if (!perf::check(state, "pfor_sum/serial", r, perf::pfor_sum_expected)) break;
  }
}

}  // namespace

BENCHMARK(pfor_sum_serial)->Name("pfor_sum/serial")->UseRealTime()->Unit(benchmark::kMillisecond);
