// pfor_skewed on oneTBB: tbb::parallel_for over a blocked_range with the auto_partitioner.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>

#include "common/config.hpp"
#include "common/failure.hpp"
#include "common/spread.hpp"
#include "common/tbb_arena.hpp"
#include "pfor_skewed/pfor_skewed.hpp"

namespace {

void pfor_skewed_tbb(benchmark::State& state) {
  using range = tbb::blocked_range<std::size_t>;
  const std::uint64_t expected = perf::pfor_skewed_expected();
  std::vector<std::uint64_t> out(perf::pfor_skewed_size);
  perf::tbb_arena a(perf::workers(), 1);
  for (auto _ : state) {
    a.arena.execute([&out] {
      tbb::parallel_for(
          range(0, out.size()),
          [&out](const range& r) {
            for (std::size_t i = r.begin(); i != r.end(); ++i)
              out[i] = perf::skewed_work(i);
          },
          tbb::auto_partitioner{});
    });
    if (!perf::check(state, "pfor_skewed/tbb", perf::skewed_sum(out), expected)) break;
  }
}

}  // namespace

BENCHMARK(pfor_skewed_tbb)
    ->Name("pfor_skewed/tbb")
    ->Iterations(10)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
