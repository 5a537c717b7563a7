// Replaces the global operator new to count every call, for the suites that check that
// something does not allocate. Include it in exactly one file of a test binary (the replacement
// is the binary's); the suite is then a binary of its own.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace magpie::test {
// A test-only process-wide counter: the thing being measured is the process's allocator.
inline std::atomic<std::uint64_t> allocations{0};
}  // namespace magpie::test

// g++ cannot see that this operator new is the malloc this delete frees.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n) {
  magpie::test::allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
