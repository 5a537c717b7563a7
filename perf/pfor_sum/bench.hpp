// pfor_sum over any adapter with parallel_reduce, called from the benchmark's thread as a user
// would (a hand-over to the scheduler costs microseconds against milliseconds of loop).
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/config.hpp"
#include "common/failure.hpp"
#include "pfor_sum/pfor_sum.hpp"

namespace perf {

template <class A>
void pfor_sum_bench(benchmark::State& state) {
  const std::string name = with_workers("pfor_sum/", A::name, workers());
  const std::vector<std::uint64_t> v = pfor_sum_input();
  A a(workers());
  std::uint64_t r = 0;
  for (auto _ : state) {
    r = a.parallel_reduce(
        std::size_t{0}, v.size(), std::uint64_t{0}, [&v](std::size_t i) { return v[i]; },
        std::plus<>{});
    if (!check(state, name, r, pfor_sum_expected)) break;
  }
}

}  // namespace perf
