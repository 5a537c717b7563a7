// pfor_tiny: pfor_tiny_calls loops in a row, each a[i] += 2 * b[i] + 1 over pfor_tiny_size ints.
// A loop is about 100 ns of work, so what is measured is the cost of starting and joining one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

#include "common/config.hpp"

namespace perf {

struct tiny_arrays {
  std::vector<int> a;  // written by every call
  std::vector<int> b;  // read only
};

/// a all zero, b[i] = i.
inline tiny_arrays pfor_tiny_input() {
  tiny_arrays t{std::vector<int>(pfor_tiny_size, 0), std::vector<int>(pfor_tiny_size)};
  std::iota(t.b.begin(), t.b.end(), 0);
  return t;
}

/// Sum of a after every call ran once over every element: calls * sum(2i + 1) = calls * n^2.
inline constexpr std::uint64_t pfor_tiny_expected =
    std::uint64_t{pfor_tiny_calls} * pfor_tiny_size * pfor_tiny_size;

inline std::uint64_t pfor_tiny_sum(const std::vector<int>& a) {
  return std::accumulate(a.begin(), a.end(), std::uint64_t{0});
}

}  // namespace perf
