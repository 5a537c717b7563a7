// Ts: the plain loop.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/config.hpp"
#include "common/failure.hpp"
#include "pfor_skewed/pfor_skewed.hpp"

namespace {

void pfor_skewed_serial(benchmark::State& state) {
  const std::uint64_t expected = perf::pfor_skewed_expected();
  std::vector<std::uint64_t> out(perf::pfor_skewed_size);
  benchmark::DoNotOptimize(out.data());  // escaped: every iteration has to store it again
  for (auto _ : state) {
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i] = perf::skewed_work(i);
    if (!perf::check(state, "pfor_skewed/serial", perf::skewed_sum(out), expected)) break;
  }
}

}  // namespace

BENCHMARK(pfor_skewed_serial)
    ->Name("pfor_skewed/serial")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
