// Ts: the plain loop, registered under both forms' names so that each table has its baseline.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <vector>

#include "common/failure.hpp"
#include "pfor_fsum/pfor_fsum.hpp"

namespace {

void pfor_fsum_serial(benchmark::State& state, const char* name) {
  const std::vector<float> v = perf::pfor_fsum_input();
  benchmark::DoNotOptimize(v.data());  // the vector escapes: each iteration has to read it again
  for (auto _ : state) {
    double s = 0;
    for (std::size_t i = 0; i < v.size(); ++i)
      s += v[i];
    benchmark::DoNotOptimize(s);
    if (!perf::check(state, name, perf::pfor_fsum_quarters(s), perf::pfor_fsum_expected_quarters))
      break;
  }
}

}  // namespace

BENCHMARK_CAPTURE(pfor_fsum_serial, map, "pfor_fsum/serial")
    ->Name("pfor_fsum/serial")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(pfor_fsum_serial, range, "pfor_fsum_range/serial")
    ->Name("pfor_fsum_range/serial")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
