// pfor_sum on OpenMP (GNU libgomp): parallel for with a reduction clause, static schedule.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/config.hpp"
#include "common/failure.hpp"
#include "common/spread.hpp"
#include "pfor_sum/pfor_sum.hpp"

namespace {

std::uint64_t sum(const std::vector<std::uint64_t>& v, int threads) {
  const std::uint64_t* p = v.data();
  const std::size_t n = v.size();
  std::uint64_t s = 0;
#pragma omp parallel for reduction(+ : s) num_threads(threads)
  for (std::size_t i = 0; i < n; ++i)
    s += p[i];
  return s;
}

void pfor_sum_openmp(benchmark::State& state) {
  const std::vector<std::uint64_t> v = perf::pfor_sum_input();
  const int threads = static_cast<int>(perf::workers());
  std::uint64_t r = 0;
  for (auto _ : state) {
    r = sum(v, threads);
    if (!perf::check(state, "pfor_sum/openmp", r, perf::pfor_sum_expected)) break;
  }
}

}  // namespace

BENCHMARK(pfor_sum_openmp)
    ->Name("pfor_sum/openmp")
    ->Iterations(20)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
