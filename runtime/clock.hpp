// The clock behind submit-to-start latencies: the TSC on x86-64 (a register read, several times
// cheaper than clock_gettime; docs/benchmarks.md), steady_clock elsewhere. Ticks become
// nanoseconds only when a stats snapshot is taken, with a ratio measured over the runtime's
// lifetime.
#pragma once

#include <chrono>
#include <cstdint>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define MAGPIE_CLOCK_TSC 1
#endif

namespace magpie::detail {

inline std::uint64_t clock_ticks() noexcept {
#ifdef MAGPIE_CLOCK_TSC
  // Unserialized on purpose: a few cycles of reordering are far below the bucket widths.
  return __rdtsc();
#else
  return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
#endif
}

/// Converts ticks to nanoseconds: remembers one (ticks, steady_clock) pair at construction and
/// measures the rate against a second pair when asked (at least 10 ms apart for accuracy).
class tick_rate {
 public:
  tick_rate() noexcept : ticks0_(clock_ticks()), time0_(std::chrono::steady_clock::now()) {}

  /// The tick count at construction (the runtime's time zero in traces).
  std::uint64_t origin() const noexcept { return ticks0_; }

  /// Nanoseconds per tick. Blocks until 10 ms have passed since construction, if they have not.
  double ns_per_tick() const {
#ifdef MAGPIE_CLOCK_TSC
    const auto min_span = std::chrono::milliseconds(10);
    std::this_thread::sleep_until(time0_ + min_span);
    const std::uint64_t t1 = clock_ticks();
    const auto now = std::chrono::steady_clock::now();
    const double ns = std::chrono::duration<double, std::nano>(now - time0_).count();
    return t1 > ticks0_ ? ns / static_cast<double>(t1 - ticks0_) : 1.0;
#else
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::duration(1)).count();
#endif
  }

 private:
  std::uint64_t ticks0_;
  std::chrono::steady_clock::time_point time0_;
};

}  // namespace magpie::detail
