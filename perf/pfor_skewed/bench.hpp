// pfor_skewed over any adapter with parallel_for, default partitioning, called from the
// benchmark's thread.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/config.hpp"
#include "common/failure.hpp"
#include "pfor_skewed/pfor_skewed.hpp"

namespace perf {

template <class A>
void pfor_skewed_bench(benchmark::State& state) {
  const std::string name = with_workers("pfor_skewed/", A::name, workers());
  const std::uint64_t expected = pfor_skewed_expected();
  std::vector<std::uint64_t> out(pfor_skewed_size);
  A a(workers());
  for (auto _ : state) {
    a.parallel_for(std::size_t{0}, out.size(), std::size_t{0},
                   [&out](std::size_t first, std::size_t last) {
                     for (std::size_t i = first; i < last; ++i)
                       out[i] = skewed_work(i);
                   });
    if (!check(state, name, skewed_sum(out), expected)) break;
  }
}

}  // namespace perf
