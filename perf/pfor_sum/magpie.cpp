// pfor_sum on Magpie: parallel_reduce, called from the benchmark's thread as a user would (the
// hand-over to a worker is a few microseconds against milliseconds of loop).
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include <magpie/magpie.hpp>

#include "common/config.hpp"
#include "common/failure.hpp"
#include "common/spread.hpp"
#include "pfor_sum/pfor_sum.hpp"

namespace {

void pfor_sum_magpie(benchmark::State& state) {
  const std::vector<std::uint64_t> v = perf::pfor_sum_input();
  magpie::config cfg;
  cfg.workers = perf::workers();
  magpie::runtime rt(cfg);
  std::uint64_t r = 0;
  for (auto _ : state) {
    r = magpie::parallel_reduce(
        rt, std::size_t{0}, v.size(), std::uint64_t{0}, [&v](std::size_t i) { return v[i]; },
        std::plus<>{});
    if (!perf::check(state, "pfor_sum/magpie", r, perf::pfor_sum_expected)) break;
  }
}

}  // namespace

BENCHMARK(pfor_sum_magpie)
    ->Name("pfor_sum/magpie")
    ->Iterations(20)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
