// pfor_fsum: the sum of 10M floats into a double, as a kernel author writes it: the map form
// (map(i) returns double(v[i])) and the range form (the body runs its own loop over a
// subrange), each a workload of its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/config.hpp"

namespace perf {

/// Element i holds (i % 1024) / 4: quarters, so partial sums of any association are exact.
inline std::vector<float> pfor_fsum_input() {
  std::vector<float> v(pfor_fsum_size);
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<float>(i % 1024) / 4.0f;
  return v;
}

/// The sum of pfor_fsum_input(), in quarters.
inline constexpr std::uint64_t pfor_fsum_expected_quarters =
    (pfor_fsum_size / 1024) * (1023 * 1024 / 2) +
    (pfor_fsum_size % 1024) * (pfor_fsum_size % 1024 - 1) / 2;

/// A result in quarters, for perf::check (an inexact sum does not come out as a whole number
/// of quarters that equals the expected one).
inline std::uint64_t pfor_fsum_quarters(double sum) {
  return static_cast<std::uint64_t>(sum * 4.0);
}

/// The range form's body: a plain loop over [b, e) the compiler sees whole.
struct fsum_fold {
  const float* v;
  double operator()(std::size_t b, std::size_t e, double acc) const {
    for (std::size_t i = b; i < e; ++i)
      acc += v[i];
    return acc;
  }
};

}  // namespace perf
