// Helpers shared by the suites.
#pragma once

#include <atomic>
#include <cstddef>

#include "magpie/config.hpp"

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

inline magpie::config with_workers(std::size_t n, magpie::pinning pin = magpie::pinning::compact) {
  magpie::config c;
  c.workers = n;
  c.pin = pin;
  return c;
}

/// Holds a worker inside a task until release(), so a test can keep work queued behind it
/// deterministically (no sleeps): the task calls pass(), the test wait_entered() then release().
struct gate {
  std::atomic<bool> open{false};
  std::atomic<bool> entered{false};
  void pass() {
    entered.store(true);
    entered.notify_all();
    open.wait(false);
  }
  void wait_entered() { entered.wait(false); }
  void release() {
    open.store(true);
    open.notify_all();
  }
};

}  // namespace magpie::test
