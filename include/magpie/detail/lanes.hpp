// Lanes: one queue per priority, indexed high (0), normal (1), low (2).
#pragma once

#include <cstddef>

#include "magpie/config.hpp"

namespace magpie::detail {

inline constexpr std::size_t lane_count = 3;  // priority::high, normal, low
inline constexpr unsigned lane_of(priority p) noexcept {
  return static_cast<unsigned>(p);
}
inline constexpr unsigned normal_lane = lane_of(priority::normal);

}  // namespace magpie::detail
