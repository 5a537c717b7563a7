// pfor_tiny over any adapter with parallel_for: pfor_tiny_calls loops in a row, started from
// where the scheduler's users start them (perf::enter). Counters call_p50_us / call_p99_us: the
// per-call latency (common/call_times.hpp).
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <string>

#include "adapter.hpp"
#include "common/call_times.hpp"
#include "common/config.hpp"
#include "common/failure.hpp"
#include "pfor_tiny/pfor_tiny.hpp"

namespace perf {

template <class A>
void pfor_tiny_bench(benchmark::State& state) {
  const std::string name = with_workers("pfor_tiny/", A::name, workers());
  A a(workers());
  tiny_arrays t = pfor_tiny_input();
  call_times times(pfor_tiny_calls);
  for (auto _ : state) {
    std::fill(t.a.begin(), t.a.end(), 0);
    enter(a, [&a, &t, &times] {
      times.start();
      for (std::size_t call = 0; call < pfor_tiny_calls; ++call) {
        a.parallel_for(std::size_t{0}, t.a.size(), std::size_t{0},
                       [&t](std::size_t first, std::size_t last) {
                         for (std::size_t i = first; i < last; ++i)
                           t.a[i] += 2 * t.b[i] + 1;
                       });
        times.record(call);
      }
    });
    times.end_iteration();
    if (!check(state, name, pfor_tiny_sum(t.a), pfor_tiny_expected)) break;
  }
  times.report(state);
}

}  // namespace perf
