#pragma once

#include <cstddef>

namespace magpie::detail {

// 128, not std::hardware_destructive_interference_size (64 on g++ 12, and it warns in headers):
// adjacent-line prefetch pairs 64-byte lines, so hot atomics get two lines of their own
// (crossbeam and oneTBB pad to 128 for the same reason).
inline constexpr std::size_t cache_line = 128;

}  // namespace magpie::detail
