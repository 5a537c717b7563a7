// pfor_tiny on OpenMP (GNU libgomp): one parallel for per call, static schedule. libgomp keeps
// its thread team between regions, so a call costs a team wake-up and a barrier.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>

#include "common/config.hpp"
#include "common/failure.hpp"
#include "common/spread.hpp"
#include "pfor_tiny/pfor_tiny.hpp"

namespace {

void one_call(perf::tiny_arrays& t, int threads) {
  int* a = t.a.data();
  const int* b = t.b.data();
  const std::size_t n = t.a.size();
#pragma omp parallel for num_threads(threads)
  for (std::size_t i = 0; i < n; ++i)
    a[i] += 2 * b[i] + 1;
}

void pfor_tiny_openmp(benchmark::State& state) {
  const int threads = static_cast<int>(perf::workers());
  perf::tiny_arrays t = perf::pfor_tiny_input();
  for (auto _ : state) {
    std::fill(t.a.begin(), t.a.end(), 0);
    for (std::size_t call = 0; call < perf::pfor_tiny_calls; ++call)
      one_call(t, threads);
    if (!perf::check(state, "pfor_tiny/openmp", perf::pfor_tiny_sum(t.a), perf::pfor_tiny_expected))
      break;
  }
}

}  // namespace

BENCHMARK(pfor_tiny_openmp)
    ->Name("pfor_tiny/openmp")
    ->Iterations(10)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
