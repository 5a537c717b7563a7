// Ts: the same loops with no runtime.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>

#include "common/call_times.hpp"
#include "common/config.hpp"
#include "common/failure.hpp"
#include "pfor_tiny/pfor_tiny.hpp"

namespace {

void pfor_tiny_serial(benchmark::State& state) {
  perf::tiny_arrays t = perf::pfor_tiny_input();
  benchmark::DoNotOptimize(t.a.data());  // escaped, so that the barrier below covers them
  benchmark::DoNotOptimize(t.b.data());
  perf::call_times times(perf::pfor_tiny_calls);
  for (auto _ : state) {
    std::fill(t.a.begin(), t.a.end(), 0);
    times.start();
    for (std::size_t call = 0; call < perf::pfor_tiny_calls; ++call) {
      for (std::size_t i = 0; i < t.a.size(); ++i)
        t.a[i] += 2 * t.b[i] + 1;
      benchmark::ClobberMemory();  // keeps the compiler from merging the calls into one loop
      times.record(call);
    }
    times.end_iteration();
    if (!perf::check(state, "pfor_tiny/serial", perf::pfor_tiny_sum(t.a), perf::pfor_tiny_expected))
      break;
  }
  times.report(state);
}

}  // namespace

BENCHMARK(pfor_tiny_serial)->Name("pfor_tiny/serial")->UseRealTime()->Unit(benchmark::kMillisecond);
