#pragma once

#include <atomic>
#include <cstdint>
#include <exception>

#include "magpie/config.hpp"
#include "magpie/export.hpp"

namespace magpie::detail {

class runtime_core;
struct group_state;

/// The group of the task the calling thread is running (innermost), or null outside tasks.
MAGPIE_API const group_state* running_group() noexcept;

/// Shared state of a task_group; lives inside the task_group object.
struct group_state {
  /// The parent is the group whose task is constructing this one (cancellation tree). It
  /// outlives this group: a group made inside a task is waited for (and destroyed) before that
  /// task returns, and the parent's wait cannot return before its task does.
  group_state(runtime_core& c, priority p) : group_state(c, p, running_group()) {}
  group_state(runtime_core& c, priority p, const group_state* parent_group)
      : core(&c),
        lane(p),
        parent(parent_group),
        root(parent_group != nullptr ? parent_group->root : this) {}

  // pending tasks * 2 | waiter bit. One word, so that the last task's decrement and a waiter's
  // announcement are ordered by the atomic's modification order: either the finisher sees the
  // waiter bit and wakes it, or the waiter sees zero and does not sleep. After that decrement the
  // finisher touches nothing in this object (the waiter may already have destroyed it).
  std::atomic<std::uint64_t> word{0};
  std::atomic<bool> canceled{false};
  std::atomic<bool> error_claimed{false};
  std::exception_ptr error;  // written once by the claimant, read by the waiter after zero
  runtime_core* core;
  priority lane;                    // the lane its tasks are queued in
  const group_state* const parent;  // null for a root
  const group_state* const root;    // outermost ancestor (this for a root)
  // On the root: some group of this tree was canceled, so descendants must walk their chain.
  // Keeps the common check (nothing canceled) at two loads however deep the nesting. Mutable:
  // descendants, which see their ancestors as const, set it.
  mutable std::atomic<bool> tree_canceled{false};

  /// This group or an ancestor was canceled. Advisory (relaxed): a cancel that happens-before
  /// the call is seen; one racing with it may be seen late, letting one more task start.
  bool cancel_requested() const noexcept {
    if (canceled.load(std::memory_order_relaxed)) return true;
    if (parent == nullptr || !root->tree_canceled.load(std::memory_order_relaxed)) return false;
    for (const group_state* g = parent; g != nullptr; g = g->parent) {
      if (g->canceled.load(std::memory_order_relaxed)) return true;
    }
    return false;
  }
  /// Cancels this group and, through cancel_requested, every group below it. Never blocks.
  void request_cancel() noexcept {
    // relaxed: advisory (see cancel_requested); whatever orders the cancel before a check (a
    // gate, a wait, the worker's own program order) orders both stores.
    root->tree_canceled.store(true, std::memory_order_relaxed);
    canceled.store(true, std::memory_order_relaxed);
  }

  static constexpr std::uint64_t waiter_bit = 1;
  static constexpr std::uint64_t one_task = 2;
  std::uint64_t pending() const noexcept {
    // acquire: pairs with the finishers' acq_rel decrements, so their effects (and `error`)
    // are visible once zero is seen.
    return word.load(std::memory_order_acquire) / one_task;
  }
};

}  // namespace magpie::detail
