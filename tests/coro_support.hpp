// Coroutines that the coroutine suites share.
#pragma once

#include <cstdint>

#include "magpie/coro.hpp"

namespace magpie::test {

/// fib(n) through a binary tree of when_alls: one coroutine frame per call.
inline magpie::task<std::uint64_t> fib(int n) {
  if (n < 2) co_return static_cast<std::uint64_t>(n);
  auto [a, b] = co_await magpie::when_all(fib(n - 1), fib(n - 2));
  co_return a + b;
}

}  // namespace magpie::test
