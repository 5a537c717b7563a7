#pragma once

#include <atomic>
#include <cstdint>
#include <exception>

#include "magpie/config.hpp"

namespace magpie::detail {

class runtime_core;

/// Shared state of a task_group; lives inside the task_group object.
struct group_state {
  group_state(runtime_core& c, priority p) : core(&c), lane(p) {}

  // pending tasks * 2 | waiter bit. One word, so that the last task's decrement and a waiter's
  // announcement are ordered by the atomic's modification order: either the finisher sees the
  // waiter bit and wakes it, or the waiter sees zero and does not sleep. After that decrement the
  // finisher touches nothing in this object (the waiter may already have destroyed it).
  std::atomic<std::uint64_t> word{0};
  std::atomic<bool> canceled{false};
  std::atomic<bool> error_claimed{false};
  std::exception_ptr error;  // written once by the claimant, read by the waiter after zero
  runtime_core* core;
  priority lane;  // the lane its tasks are queued in

  static constexpr std::uint64_t waiter_bit = 1;
  static constexpr std::uint64_t one_task = 2;
  std::uint64_t pending() const noexcept {
    // acquire: pairs with the finishers' acq_rel decrements, so their effects (and `error`)
    // are visible once zero is seen.
    return word.load(std::memory_order_acquire) / one_task;
  }
};

}  // namespace magpie::detail
