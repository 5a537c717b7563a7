// pfor_sum on oneTBB: tbb::parallel_reduce over a blocked_range with the auto_partitioner.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_reduce.h>
#include <oneapi/tbb/partitioner.h>

#include "common/config.hpp"
#include "common/failure.hpp"
#include "common/spread.hpp"
#include "common/tbb_arena.hpp"
#include "pfor_sum/pfor_sum.hpp"

namespace {

std::uint64_t sum(const std::vector<std::uint64_t>& v) {
  using range = tbb::blocked_range<std::size_t>;
  return tbb::parallel_reduce(
      range(0, v.size()), std::uint64_t{0},
      [&v](const range& r, std::uint64_t s) {
        for (std::size_t i = r.begin(); i != r.end(); ++i)
          s += v[i];
        return s;
      },
      std::plus<>{}, tbb::auto_partitioner{});
}

void pfor_sum_tbb(benchmark::State& state) {
  const std::vector<std::uint64_t> v = perf::pfor_sum_input();
  perf::tbb_arena a(perf::workers(), 1);
  std::uint64_t r = 0;
  for (auto _ : state) {
    a.arena.execute([&r, &v] { r = sum(v); });
    if (!perf::check(state, "pfor_sum/tbb", r, perf::pfor_sum_expected)) break;
  }
}

}  // namespace

BENCHMARK(pfor_sum_tbb)
    ->Name("pfor_sum/tbb")
    ->Iterations(20)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
