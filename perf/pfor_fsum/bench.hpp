// pfor_fsum and pfor_fsum_range over any adapter with parallel_reduce (resp.
// parallel_reduce_range), called from the benchmark's thread as a user would.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "common/config.hpp"
#include "common/failure.hpp"
#include "pfor_fsum/pfor_fsum.hpp"

namespace perf {

/// Map form: map(i) = double(v[i]), std::plus.
template <class A>
void pfor_fsum_bench(benchmark::State& state) {
  const std::string name = with_workers("pfor_fsum/", A::name, workers());
  const std::vector<float> v = pfor_fsum_input();
  A a(workers());
  for (auto _ : state) {
    const double r = a.parallel_reduce(
        std::size_t{0}, v.size(), 0.0, [&v](std::size_t i) { return static_cast<double>(v[i]); },
        std::plus<>{});
    if (!check(state, name, pfor_fsum_quarters(r), pfor_fsum_expected_quarters)) break;
  }
}

/// Range form: body(b, e, acc) loops over [b, e) itself.
template <class A>
void pfor_fsum_range_bench(benchmark::State& state) {
  const std::string name = with_workers("pfor_fsum_range/", A::name, workers());
  const std::vector<float> v = pfor_fsum_input();
  A a(workers());
  for (auto _ : state) {
    const double r =
        a.parallel_reduce_range(std::size_t{0}, v.size(), 0.0, fsum_fold{v.data()}, std::plus<>{});
    if (!check(state, name, pfor_fsum_quarters(r), pfor_fsum_expected_quarters)) break;
  }
}

}  // namespace perf
