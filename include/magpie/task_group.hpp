#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <stop_token>
#include <utility>

#include "magpie/detail/group_extras.hpp"
#include "magpie/detail/group_limit.hpp"
#include "magpie/detail/group_state.hpp"
#include "magpie/detail/group_wait.hpp"
#include "magpie/detail/submit.hpp"
#include "magpie/detail/worker_base.hpp"
#include "magpie/errors.hpp"
#include "magpie/export.hpp"
#include "magpie/runtime.hpp"

namespace magpie {

template <class T>
class task;  // magpie/coro.hpp

/// Fork-join: spawn tasks, then wait for all of them. spawn is thread-safe; wait may be called
/// from any thread, including a worker (which then runs other tasks while it waits).
/// The first exception thrown by a task cancels the group and is rethrown by wait().
///
/// Cancellation tree: a group constructed inside a running task of group P is P's child, and is
/// canceled whenever P (or any ancestor) is — by cancel() or by a task's exception — so the
/// tasks of groups nested inside canceled work are skipped too (oneTBB's task_group_context
/// tree). A child must be destroyed before the task that created it returns; groups on the
/// stack are.
class MAGPIE_API task_group {
 public:
  /// Tasks spawned into the group are queued in lane `p`.
  explicit task_group(runtime& rt, priority p = priority::normal)
      : state_(detail::runtime_access::core(rt), p) {}
  /// Waits for the group's tasks; an exception they threw and nobody waited for is dropped.
  ~task_group() {
    // Inline: a group that was waited for (the usual case) has nothing left to do here.
    // relaxed: written before the last task finished, which the acquire in outstanding() saw.
    if (state_.outstanding() != 0 || state_.extras.load(std::memory_order_relaxed) != nullptr)
        [[unlikely]]
      wait_and_drop();
  }
  task_group(const task_group&) = delete;
  task_group& operator=(const task_group&) = delete;

  /// Queues f. On a worker of the group's runtime it goes to that worker's deque (no lock, no
  /// allocation for small captures); elsewhere to the injector. Throws runtime_closed after the
  /// runtime shut down, std::invalid_argument for an empty callable.
  template <class F>
  void spawn(F&& f) {
    detail::require_callable(f, "magpie::task_group::spawn");
    // On the group's home (the usual case): inlined into the caller, no call into the library.
    detail::worker_base* w = detail::tls_worker;
    if (w == state_.local_spawner && w != nullptr) [[likely]] {
      w->spawn_local(state_, std::forward<F>(f));
      return;
    }
    // A copy, made on this path only: handing the caller's callable itself to the out-of-line
    // call would keep it in memory on the fast path too, which then builds the task from the
    // caller's registers.
    spawn_elsewhere(w, std::decay_t<F>(std::forward<F>(f)));
  }

  /// Starts the coroutine `t` as a task of the group (defined in magpie/coro.hpp): wait()
  /// returns once it has ended, its exception is the group's, and it sees the group's
  /// cancellation through this_task::is_canceled(). Not subject to set_limit. Throws as spawn.
  void spawn(task<void> t);

  /// Runs f on the calling thread as one of the group's tasks (an exception it throws cancels
  /// the group and is rethrown by the wait), then waits as wait() does. The usual last step of
  /// a fork: it saves pushing the last child only to pop it back (oneTBB's run_and_wait).
  /// Skips f if the group is already canceled. Throws as wait() does.
  template <class F>
  void run_and_wait(F&& f) {
    detail::require_callable(f, "magpie::task_group::run_and_wait");
    if (!state_.cancel_requested()) {
      detail::worker_base* w = detail::tls_worker;
      const detail::group_state* outer = w != nullptr ? w->enter_group(&state_) : nullptr;
      MAGPIE_TRY {
        std::invoke(f);
      }
      MAGPIE_CATCH(...) {
        state_.record_error(std::current_exception());
      }
      if (w != nullptr) w->enter_group(outer);
    }
    wait();
  }

 private:
  friend class semaphore;  // semaphore::spawn counts its tasks in the group
  void wait_and_drop() noexcept;
  // Another worker of the runtime (a local push, counted in the shared word), a limited group,
  // a high or low lane, or a thread off the runtime's workers (the injector).
  template <class F>
  [[gnu::noinline]] void spawn_elsewhere(detail::worker_base* w, F&& f) {
    detail::group_limiter* const limiter = limiter_of();
    if (w != nullptr && w->core == state_.core && limiter == nullptr) {
      w->spawn(state_, std::forward<F>(f));
      return;
    }
    if (limiter != nullptr) {
      detail::task item;  // type-erased here; the limiter decides when it runs
      detail::build_task(item, std::forward<F>(f), nullptr);
      limiter->spawn(std::move(item));
      return;
    }
    const detail::reservation r = detail::reserve_slot(*state_.core, true, false);
    if (r.kind == detail::slot::closed)
      MAGPIE_THROW(runtime_closed("magpie::task_group::spawn: runtime is shut down"));
    detail::submit_callable(*state_.core, r, std::forward<F>(f), &state_, state_.lane);
  }

 public:
  /// Blocks until every spawned task finished or was skipped; on a worker, runs other tasks
  /// meanwhile. Rethrows the first exception (once; the group can then be reused). Throws
  /// std::logic_error when called from one of the group's own tasks. A group made on a worker is
  /// best waited for on that worker (its tasks are counted there without atomics); waited for
  /// from another thread, it is polled every 200 us once that thread has nothing else to do.
  void wait();
  /// Like wait(), but gives up after `timeout`: returns true if every task finished (then
  /// rethrows the first exception, as wait() does), false if some are still pending or queued.
  /// On a worker it runs other tasks meanwhile and sleeps at most until the deadline.
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> timeout) {
    return wait_until(detail::deadline_after(timeout));
  }
  bool wait_until(std::chrono::steady_clock::time_point deadline);

  /// Lets at most `limit` of the group's tasks run at once; the rest wait inside the group (no
  /// worker blocks on them) and start, oldest first, as running ones finish. Applies to tasks
  /// spawned from now on; raising the limit starts waiting tasks at once, lowering it takes
  /// effect as running tasks finish. Throws std::invalid_argument for 0. Not thread-safe
  /// against a concurrent spawn or set_limit on this group: set it before sharing the group.
  /// Allocates; a limited spawn locks a mutex and allocates for tasks that have to wait.
  void set_limit(std::size_t limit);
  /// Tasks of the group that have not started are skipped (counted as canceled), and so are
  /// those of the groups nested in its tasks. Thread-safe. Cancellation is final: a canceled
  /// group skips everything spawned into it later too.
  void cancel() noexcept;
  /// True if this group or an ancestor (see the cancellation tree above) was canceled.
  bool is_canceled() const noexcept;
  /// A std::stop_token that is stop-requested once this group or an ancestor is canceled
  /// (cancel(), a task's exception, shutdown discarding its tasks), whether that happened
  /// before or after this call: tasks can poll it, or hang a std::stop_callback on it, without
  /// holding the group. Every call returns a token of the same source. Made on the first call
  /// (a lock and an allocation); a group that never asks pays nothing. After wait() rethrew an
  /// exception, a reused group hands out a fresh token; earlier ones stay stopped. A token may
  /// outlive the group: it keeps its answer (stop_possible() turns false if no stop was
  /// requested by then). Thread-safe.
  std::stop_token stop_token() const { return detail::group_stop_token(state_); }

 private:
  detail::group_limiter* limiter_of() const noexcept {
    // acquire: the extras' construction. The limiter itself is set before the group is shared.
    const detail::group_extras* e = state_.extras.load(std::memory_order_acquire);
    return e != nullptr ? e->limiter.get() : nullptr;
  }

  detail::group_state state_;  // its extras (limit, stop token) are freed by wait_and_drop
};

}  // namespace magpie
