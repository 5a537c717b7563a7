// pfor_skewed: out[i] = work(i), where work(i) costs i steps. A split at the middle of the range
// leaves 3/4 of the work in the upper half, so a partitioner has to keep balancing as it goes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

#include "common/config.hpp"

namespace perf {

/// i steps of a 64-bit linear congruential generator seeded with i: a dependent chain of
/// multiply-adds that the compiler can neither vectorize nor shortcut.
inline std::uint64_t skewed_work(std::size_t i) {
  std::uint64_t x = i;
  for (std::size_t step = 0; step < i; ++step)
    x = x * 6364136223846793005u + 1442695040888963407u;
  return x;
}

inline std::uint64_t skewed_sum(const std::vector<std::uint64_t>& out) {
  return std::accumulate(out.begin(), out.end(), std::uint64_t{0});  // wraps: order-independent
}

/// The serial answer, computed once: every peer's out must sum to it.
inline std::uint64_t pfor_skewed_expected() {
  static const std::uint64_t expected = [] {
    std::vector<std::uint64_t> out(pfor_skewed_size);
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i] = skewed_work(i);
    return skewed_sum(out);
  }();
  return expected;
}

}  // namespace perf
