// The few non-template entry points that the public templates (submit, spawn) call.
#pragma once

#include "magpie/config.hpp"
#include "magpie/detail/task.hpp"
#include "magpie/export.hpp"

namespace magpie::detail {

class runtime_core;

/// Where a task about to be submitted will go, decided before the callable is moved, so that a
/// refused try_submit leaves the caller's callable untouched.
enum class slot : unsigned char {
  local,     ///< the calling thread is one of this runtime's workers: its own deque
  injector,  ///< a pending-count reservation in the injector is held
  full,      ///< max_pending reached (only when not waiting for room)
  closed     ///< the runtime is shut down
};

/// Thread-safe. With wait_for_room, blocks while the injector is full (never on a worker).
MAGPIE_API slot reserve_slot(runtime_core& core, bool wait_for_room);
/// Gives back a reservation whose task was never built. Never throws.
MAGPIE_API void release_slot(runtime_core& core, slot s) noexcept;
/// Queues a built task into its reserved slot and wakes a worker if needed. On allocation
/// failure inside the queue it destroys the task, gives back the slot and any group count, and
/// throws std::bad_alloc: the task is then not accepted.
MAGPIE_API void submit_task(runtime_core& core, task* t, slot s, priority p);

/// Holds a reservation until the task is handed over.
class slot_guard {
 public:
  slot_guard(runtime_core& core, slot s) noexcept : core_(core), slot_(s) {}
  ~slot_guard() {
    if (armed_) release_slot(core_, slot_);
  }
  slot_guard(const slot_guard&) = delete;
  slot_guard& operator=(const slot_guard&) = delete;
  void disarm() noexcept { armed_ = false; }

 private:
  runtime_core& core_;
  slot slot_;
  bool armed_ = true;
};

}  // namespace magpie::detail
