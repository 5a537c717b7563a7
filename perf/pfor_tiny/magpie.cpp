// pfor_tiny on Magpie: parallel_for with the default (adaptive) partitioner.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>

#include <magpie/magpie.hpp>

#include "common/config.hpp"
#include "common/failure.hpp"
#include "common/spread.hpp"
#include "pfor_tiny/pfor_tiny.hpp"

namespace {

void pfor_tiny_magpie(benchmark::State& state) {
  magpie::config cfg;
  cfg.workers = perf::workers();
  magpie::runtime rt(cfg);
  perf::tiny_arrays t = perf::pfor_tiny_input();
  for (auto _ : state) {
    std::fill(t.a.begin(), t.a.end(), 0);
    // The calls run on a worker, as TBB's run inside its arena and OpenMP's on its master
    // thread: from this outside thread each call would be a hand-over through the injector.
    magpie::task_group root(rt);
    root.spawn([&rt, &t] {
      for (std::size_t call = 0; call < perf::pfor_tiny_calls; ++call) {
        magpie::parallel_for(rt, std::size_t{0}, t.a.size(),
                             [&t](std::size_t i) { t.a[i] += 2 * t.b[i] + 1; });
      }
    });
    root.wait();
    if (!perf::check(state, "pfor_tiny/magpie", perf::pfor_tiny_sum(t.a), perf::pfor_tiny_expected))
      break;
  }
}

}  // namespace

BENCHMARK(pfor_tiny_magpie)
    ->Name("pfor_tiny/magpie")
    ->Iterations(10)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
