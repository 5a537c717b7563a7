// Coroutines that the coroutine suites share.
#pragma once

#include <atomic>
#include <cstdint>

#include "magpie/coro.hpp"

namespace magpie::test {

/// fib(n) through a binary tree of when_alls: one coroutine frame per call.
inline magpie::task<std::uint64_t> fib(int n) {
  if (n < 2) co_return static_cast<std::uint64_t>(n);
  auto [a, b] = co_await magpie::when_all(fib(n - 1), fib(n - 2));
  co_return a + b;
}

/// Counts live copies of itself: passed by value to a coroutine, it lives exactly as long as
/// the coroutine's frame, so the count says how many frames are still alive.
struct tracker {
  std::atomic<int>* live;
  explicit tracker(std::atomic<int>& l) : live(&l) { live->fetch_add(1); }
  tracker(const tracker& o) : live(o.live) { live->fetch_add(1); }
  tracker& operator=(const tracker&) = delete;
  ~tracker() { live->fetch_sub(1); }
};

}  // namespace magpie::test
