// Lanes: one queue per priority, indexed high (0), normal (1), low (2). A `priority` is what users
// pass; a lane is its index into per-lane arrays, and lane_of / priority_of are the only
// conversions. Naming across runtime/ and include/: a variable or function called `lane` holds
// or takes the unsigned index; one that holds a `priority` is `p` or `prio`, never `lane`.
#pragma once

#include <array>
#include <cstddef>
#include <utility>

#include "magpie/config.hpp"

namespace magpie::detail {

inline constexpr std::size_t lane_count = 3;  // priority::high, normal, low
inline constexpr unsigned lane_of(priority p) noexcept {
  return static_cast<unsigned>(p);
}
/// The priority of lane index `lane` (< lane_count).
inline constexpr priority priority_of(unsigned lane) noexcept {
  return static_cast<priority>(lane);
}
inline constexpr unsigned normal_lane = lane_of(priority::normal);

/// The lanes' names, as stats and traces print them.
inline constexpr std::array<const char*, lane_count> lane_names{"high", "normal", "low"};
/// lane_names[lane], or "?" for an index that is no lane (a damaged trace record).
inline constexpr const char* lane_name(unsigned lane) noexcept {
  return lane < lane_count ? lane_names[lane] : "?";
}

/// {make(0), make(1), ...}: a per-lane array of things that cannot be default-constructed (queue
/// tokens), built in place.
template <class Make>
auto per_lane(Make&& make) {
  return [&]<std::size_t... L>(std::index_sequence<L...>) {
    return std::array<decltype(make(0u)), lane_count>{make(static_cast<unsigned>(L))...};
  }
  (std::make_index_sequence<lane_count>{});
}

}  // namespace magpie::detail
