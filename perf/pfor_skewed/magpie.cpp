// pfor_skewed on Magpie: parallel_for with the default (adaptive) partitioner, called from the
// benchmark's thread.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include <magpie/magpie.hpp>

#include "common/config.hpp"
#include "common/failure.hpp"
#include "common/spread.hpp"
#include "pfor_skewed/pfor_skewed.hpp"

namespace {

void pfor_skewed_magpie(benchmark::State& state) {
  const std::uint64_t expected = perf::pfor_skewed_expected();
  std::vector<std::uint64_t> out(perf::pfor_skewed_size);
  magpie::config cfg;
  cfg.workers = perf::workers();
  magpie::runtime rt(cfg);
  for (auto _ : state) {
    magpie::parallel_for(rt, std::size_t{0}, out.size(),
                         [&out](std::size_t i) { out[i] = perf::skewed_work(i); });
    if (!perf::check(state, "pfor_skewed/magpie", perf::skewed_sum(out), expected)) break;
  }
}

}  // namespace

BENCHMARK(pfor_skewed_magpie)
    ->Name("pfor_skewed/magpie")
    ->Iterations(10)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
