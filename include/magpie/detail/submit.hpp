// The few non-template entry points that the public templates (submit, spawn) call.
#pragma once

#include <atomic>
#include <chrono>
#include <utility>

#include "magpie/config.hpp"
#include "magpie/detail/deadline.hpp"  // deadline_after, for the timed submits
#include "magpie/detail/group_state.hpp"
#include "magpie/detail/task.hpp"
#include "magpie/export.hpp"

namespace magpie::detail {

class runtime_core;
struct producer;

/// Where a task about to be submitted will go, decided before the callable is moved, so that a
/// refused try_submit leaves the caller's callable untouched.
enum class slot : unsigned char {
  local,     ///< the calling thread is one of this runtime's workers: its own deque
  injector,  ///< the calling thread's producer has this submit counted as in flight
  full,      ///< max_pending reached (only when not waiting for room)
  closed     ///< the runtime is shut down
};

struct reservation {
  slot kind;
  // Two pointers at most, so the reservation comes back in registers (a third field made
  // spawning 20 % slower by returning it through memory).
  union {
    producer* from;  // kind == slot::injector: the caller's producer
    task* block;     // kind == slot::local: an empty task in the calling worker's pool
  };
};

/// Thread-safe. With wait_for_room, blocks while the injector is full (never on a worker).
/// May allocate (a thread's first submit to a runtime creates its producer).
/// A detached task (`detached`) is refused with slot::closed once shutdown began, also from a
/// worker; a group task spawned from a worker is still accepted then (the drain runs it).
MAGPIE_API reservation reserve_slot(runtime_core& core, bool wait_for_room, bool detached = true);
/// reserve_slot waiting for room until `deadline` at the latest (then slot::full).
MAGPIE_API reservation reserve_slot_until(runtime_core& core,
                                          std::chrono::steady_clock::time_point deadline);

/// Gives back a reservation whose task was never built. Never throws.
MAGPIE_API void release_slot(runtime_core& core, reservation r) noexcept;
/// Pushes a pooled task onto the calling worker's deque (r.kind == local) and wakes a worker if
/// needed. Never throws.
MAGPIE_API void submit_local(runtime_core& core, task* t, priority p) noexcept;
/// Moves `t` into the injector (r.kind == injector) and wakes a worker if needed. If the queue
/// cannot allocate it destroys the callable, gives back the slot and any group count, and throws
/// std::bad_alloc: the task is then not accepted.
MAGPIE_API void submit_injected(runtime_core& core, task& t, reservation r, priority p);

/// Holds a reservation until the task is handed over.
class slot_guard {
 public:
  slot_guard(runtime_core& core, reservation r) noexcept : core_(core), r_(r) {}
  ~slot_guard() {
    if (armed_) release_slot(core_, r_);
  }
  slot_guard(const slot_guard&) = delete;
  slot_guard& operator=(const slot_guard&) = delete;
  void disarm() noexcept { armed_ = false; }

 private:
  runtime_core& core_;
  reservation r_;
  bool armed_ = true;
};

/// Builds the task for `f` where `r` says it goes (the reserved pooled block for the local
/// deque, the caller's stack for the injector), counts it in `group`, and hands it over. On failure
/// the reservation is released and nothing was accepted. Always inlined: the compiler stopped
/// inlining it into recursive spawners (skynet), which cost 11 instructions per task.
template <class F>
[[gnu::always_inline]] inline void submit_callable(runtime_core& core, reservation r, F&& f,
                                                   group_state* group, priority p) {
  slot_guard guard(core, r);
  const auto count = [group] {
    if (group != nullptr) group->add_shared();
  };
  if (r.kind == slot::local) {
    build_task(*r.block, std::forward<F>(f), group);  // on throw the guard frees the block
    guard.disarm();
    count();
    submit_local(core, r.block, p);
  } else {
    task t;
    build_task(t, std::forward<F>(f), group);
    guard.disarm();
    count();
    submit_injected(core, t, r, p);
  }
}

}  // namespace magpie::detail
