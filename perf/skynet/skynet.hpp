// skynet: a 10-way tree down to 1M leaves, each leaf returning its index; wide fan-out of many
// tiny tasks. Node (first, size) covers leaves [first, first + size).
#pragma once

#include <cstdint>

#include "common/config.hpp"

namespace perf {

inline std::uint64_t skynet_serial(std::uint64_t first, std::uint64_t size) {
  if (size == 1) return first;
  const std::uint64_t child = size / skynet_fan_out;
  std::uint64_t sum = 0;
  for (std::uint64_t i = 0; i < skynet_fan_out; ++i)
    sum += skynet_serial(first + i * child, child);
  return sum;
}

}  // namespace perf
