// Timeouts to deadlines, for every timed call (submit_for, wait_for, shutdown_for).
#pragma once

#include <chrono>

namespace magpie::detail {

/// now + timeout, saturating instead of overflowing for huge timeouts.
template <class Rep, class Period>
std::chrono::steady_clock::time_point deadline_after(std::chrono::duration<Rep, Period> timeout) {
  using clock = std::chrono::steady_clock;
  const auto now = clock::now();
  if (timeout <= timeout.zero()) return now;
  if (timeout >= std::chrono::duration_cast<std::chrono::duration<Rep, Period>>(
                     clock::time_point::max() - now)) {
    return clock::time_point::max();
  }
  return now + std::chrono::ceil<clock::duration>(timeout);
}

}  // namespace magpie::detail
