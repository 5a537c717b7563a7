// pfor_tiny on oneTBB: tbb::parallel_for over a blocked_range with the auto_partitioner, every
// call inside the arena.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>

#include "common/config.hpp"
#include "common/failure.hpp"
#include "common/spread.hpp"
#include "common/tbb_arena.hpp"
#include "pfor_tiny/pfor_tiny.hpp"

namespace {

void pfor_tiny_tbb(benchmark::State& state) {
  using range = tbb::blocked_range<std::size_t>;
  perf::tbb_arena a(perf::workers(), 1);
  perf::tiny_arrays t = perf::pfor_tiny_input();
  for (auto _ : state) {
    std::fill(t.a.begin(), t.a.end(), 0);
    a.arena.execute([&t] {
      for (std::size_t call = 0; call < perf::pfor_tiny_calls; ++call) {
        tbb::parallel_for(
            range(0, t.a.size()),
            [&t](const range& r) {
              for (std::size_t i = r.begin(); i != r.end(); ++i)
                t.a[i] += 2 * t.b[i] + 1;
            },
            tbb::auto_partitioner{});
      }
    });
    if (!perf::check(state, "pfor_tiny/tbb", perf::pfor_tiny_sum(t.a), perf::pfor_tiny_expected))
      break;
  }
}

}  // namespace

BENCHMARK(pfor_tiny_tbb)
    ->Name("pfor_tiny/tbb")
    ->Iterations(10)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
