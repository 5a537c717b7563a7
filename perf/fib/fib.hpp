// fib(n) with one spawn and one wait per call: measures spawn + join overhead and the stealing
// of large subtrees (the tree is unbalanced, so thieves take big pieces near the root).
#pragma once

#include <cstdint>

namespace perf {

inline std::uint64_t fib_serial(int n) {
  return n < 2 ? static_cast<std::uint64_t>(n) : fib_serial(n - 1) + fib_serial(n - 2);
}

}  // namespace perf
