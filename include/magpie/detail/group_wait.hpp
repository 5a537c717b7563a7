// Waiting on a group_state: shared by task_group and future.
#pragma once

#include <chrono>

#include "magpie/detail/group_state.hpp"
#include "magpie/export.hpp"

namespace magpie::detail {

/// A steady_clock deadline `d` from now, saturating instead of overflowing for huge durations.
template <class Rep, class Period>
std::chrono::steady_clock::time_point deadline_after(std::chrono::duration<Rep, Period> d) {
  using clock = std::chrono::steady_clock;
  const clock::time_point now = clock::now();
  if (d <= d.zero()) return now;
  if (d >= std::chrono::duration_cast<std::chrono::duration<Rep, Period>>(clock::time_point::max() -
                                                                          now)) {
    return clock::time_point::max();
  }
  return now + std::chrono::ceil<clock::duration>(d);
}

/// Waits for `g` (helping on a worker of its runtime, parking elsewhere) until it has no pending
/// task or `deadline` passes; true if it has none. `who` names the caller in errors: throws
/// std::logic_error when called from one of `g`'s own tasks.
MAGPIE_API bool wait_group_until(group_state& g, std::chrono::steady_clock::time_point deadline,
                                 const char* who);

/// Marks one task of `g` finished (for tasks that count themselves, like async's): wakes its
/// waiters if it was the last, and touches nothing in `g` after the decrement. Never blocks.
MAGPIE_API void end_group_task(group_state& g) noexcept;

}  // namespace magpie::detail
