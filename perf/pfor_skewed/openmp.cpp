// pfor_skewed on OpenMP (GNU libgomp), twice: the plain parallel for (static schedule: equal
// halves, so one thread gets 3/4 of the work), and schedule(dynamic), what someone who knows
// the loop is skewed writes. Its chunk is Magpie's default grain, n / (8 x workers).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/config.hpp"
#include "common/failure.hpp"
#include "common/spread.hpp"
#include "pfor_skewed/pfor_skewed.hpp"

namespace {

void loop_static(std::vector<std::uint64_t>& out, int threads) {
  std::uint64_t* p = out.data();
  const std::size_t n = out.size();
#pragma omp parallel for num_threads(threads)
  for (std::size_t i = 0; i < n; ++i)
    p[i] = perf::skewed_work(i);
}

void loop_dynamic(std::vector<std::uint64_t>& out, int threads) {
  std::uint64_t* p = out.data();
  const std::size_t n = out.size();
  const int chunk = static_cast<int>(std::max<std::size_t>(1, n / (8 * perf::workers())));
#pragma omp parallel for schedule(dynamic, chunk) num_threads(threads)
  for (std::size_t i = 0; i < n; ++i)
    p[i] = perf::skewed_work(i);
}

void pfor_skewed_openmp(benchmark::State& state, bool dynamic) {
  const std::string name = dynamic ? "pfor_skewed/openmp_dynamic" : "pfor_skewed/openmp";
  const std::uint64_t expected = perf::pfor_skewed_expected();
  std::vector<std::uint64_t> out(perf::pfor_skewed_size);
  const int threads = static_cast<int>(perf::workers());
  for (auto _ : state) {
    if (dynamic) {
      loop_dynamic(out, threads);
    } else {
      loop_static(out, threads);
    }
    if (!perf::check(state, name, perf::skewed_sum(out), expected)) break;
  }
}

}  // namespace

BENCHMARK_CAPTURE(pfor_skewed_openmp, static_schedule, false)
    ->Name("pfor_skewed/openmp")
    ->Iterations(10)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
BENCHMARK_CAPTURE(pfor_skewed_openmp, dynamic_schedule, true)
    ->Name("pfor_skewed/openmp_dynamic")
    ->Iterations(10)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
