// Helpers shared by the suites.
#pragma once

#include <cstddef>

namespace magpie::test {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
inline constexpr bool sanitized = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
inline constexpr bool sanitized = true;
#else
inline constexpr bool sanitized = false;
#endif
#else
inline constexpr bool sanitized = false;
#endif

/// Iteration counts shrink under sanitizers (10x slower) instead of timing out.
constexpr std::size_t scaled(std::size_t n) {
  return sanitized ? n / 10 : n;
}

}  // namespace magpie::test
