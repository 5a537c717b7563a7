// pfor_sum: the sum of a 10M-element vector. Memory-bound, so it shows what a parallel reduction
// costs over the plain loop, not how fast a core adds.
#pragma once

#include <cstdint>
#include <numeric>
#include <vector>

#include "common/config.hpp"

namespace perf {

/// Element i holds i (the sum is pfor_sum_expected). Built once per benchmark, outside the timing.
inline std::vector<std::uint64_t> pfor_sum_input() {
  std::vector<std::uint64_t> v(pfor_sum_size);
  std::iota(v.begin(), v.end(), std::uint64_t{0});
  return v;
}

}  // namespace perf
