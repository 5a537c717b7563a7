#pragma once

#include <atomic>
#include <utility>

#include "magpie/detail/group_state.hpp"
#include "magpie/detail/submit.hpp"
#include "magpie/errors.hpp"
#include "magpie/export.hpp"
#include "magpie/runtime.hpp"

namespace magpie {

/// Fork-join: spawn tasks, then wait for all of them. spawn is thread-safe; wait may be called
/// from any thread, including a worker (which then runs other tasks while it waits).
/// The first exception thrown by a task cancels the group and is rethrown by wait().
class MAGPIE_API task_group {
 public:
  /// Tasks spawned into the group are queued in lane `p`.
  explicit task_group(runtime& rt, priority p = priority::normal) : state_(rt.core(), p) {}
  /// Waits for the group's tasks; an exception they threw and nobody waited for is dropped.
  ~task_group();
  task_group(const task_group&) = delete;
  task_group& operator=(const task_group&) = delete;

  /// Queues f. On a worker of the group's runtime it goes to that worker's deque (no lock, no
  /// allocation for small captures); elsewhere to the injector. Throws runtime_closed after the
  /// runtime shut down, std::invalid_argument for an empty callable.
  template <class F>
  void spawn(F&& f) {
    detail::require_callable(f, "magpie::task_group::spawn");
    const detail::reservation r = detail::reserve_slot(*state_.core, true);
    if (r.kind == detail::slot::closed)
      throw runtime_closed("magpie::task_group::spawn: runtime is shut down");
    detail::submit_callable(*state_.core, r, std::forward<F>(f), &state_, state_.lane);
  }

  /// Blocks until every spawned task finished or was skipped; on a worker, runs other tasks
  /// meanwhile. Rethrows the first exception (once; the group can then be reused). Throws
  /// std::logic_error when called from one of the group's own tasks.
  void wait();
  /// Tasks of the group that have not started are skipped (counted as canceled). Thread-safe.
  /// Cancellation is final: a canceled group skips everything spawned into it later too.
  void cancel() noexcept;
  bool is_canceled() const noexcept;

 private:
  detail::group_state state_;
};

}  // namespace magpie
