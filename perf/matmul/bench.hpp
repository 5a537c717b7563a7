// matmul over any adapter with parallel_for: split down to one tile of rows at most, every
// piece through the same out-of-line kernel.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "adapter.hpp"
#include "common/config.hpp"
#include "common/failure.hpp"
#include "matmul/matmul.hpp"

namespace perf {

template <class A>
void matmul_bench(benchmark::State& state) {
  const std::string name = with_workers("matmul/", A::name, workers());
  matmul_problem p = matmul_input(matmul_n);
  const std::uint64_t expected = matmul_expected(p);
  A a(workers());
  for (auto _ : state) {
    if constexpr (has_matmul<A>) {
      a.matmul(p);
    } else {
      a.parallel_for(std::size_t{0}, p.n, matmul_tile_rows,
                     [&p](std::size_t first, std::size_t last) { matmul_rows(p, first, last); });
    }
    if (!check(state, name, matmul_checksum(p), expected)) break;
  }
}

}  // namespace perf
