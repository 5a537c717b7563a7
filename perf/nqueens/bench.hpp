// nqueens over any fork-join adapter: a group per board above the cutoff, one spawn per open
// square, a serial search below.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "adapter.hpp"
#include "common/config.hpp"
#include "common/failure.hpp"
#include "nqueens/nqueens.hpp"

namespace perf {

template <class A>
std::uint64_t nqueens_on(A& a, const queens_board& b, int row) {
  if (row >= nqueens_cutoff) return nqueens_serial(b);
  queens_counts counts{};
  typename A::group g(a);
  std::size_t k = 0;
  for (std::uint32_t open = b.open_squares(); open != 0; open &= open - 1, ++k) {
    g.spawn([&a, out = &counts[k], child = b.place(lowest_bit(open)), row] {
      *out = nqueens_on(a, child, row + 1);
    });
  }
  g.wait();
  return queens_total(counts);
}

template <class A>
void nqueens_bench(benchmark::State& state, std::size_t workers) {
  const std::size_t n = workers == 0 ? perf::workers() : workers;
  const std::string name = with_workers("nqueens/", A::name, n);
  A a(n);
  std::uint64_t r = 0;
  for (auto _ : state) {
    if constexpr (has_nqueens<A>) {
      r = a.nqueens(nqueens_n);
    } else {
      a.run([&a, &r] { r = nqueens_on(a, queens_start(nqueens_n), 0); });
    }
    if (!check(state, name, r, nqueens_expected)) break;
  }
}

}  // namespace perf
