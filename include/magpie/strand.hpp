// magpie::strand: tasks that run one at a time, in submission order, on whichever worker is
// free; a strand never occupies a worker while it has nothing to run.
#pragma once

#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

#include "magpie/detail/strand_schedule.hpp"
#include "magpie/detail/strand_state.hpp"
#include "magpie/detail/submit.hpp"
#include "magpie/detail/task.hpp"
#include "magpie/errors.hpp"
#include "magpie/export.hpp"
#include "magpie/future.hpp"
#include "magpie/runtime.hpp"

namespace magpie {

/// A serial queue on a runtime (Boost.Asio's strand, libdispatch's serial queue). Its tasks run
/// one at a time and in submission order: a single total order for the tasks of one submitting
/// thread, and an interleaving of the threads' orders when several submit. Each task
/// happens-before the next, so they can share data without locks. No worker is held between
/// tasks: a strand with nothing queued costs nothing, and a busy one runs at most `batch` tasks
/// on a worker before queueing itself behind the other work of its lane (one hot strand cannot
/// monopolise a worker).
///
/// Thread-safe. A task's node (80 bytes) is recycled through the submitting thread's cache. Must
/// not outlive its runtime; destroying it does not wait: tasks already submitted still run.
class MAGPIE_API strand {
 public:
  static constexpr std::size_t batch = detail::strand_state::batch;

  /// The strand's tasks run in lane `p`.
  explicit strand(runtime& rt, priority p = priority::normal)
      : state_(std::make_shared<detail::strand_state>(detail::runtime_access::core(rt), p)) {}
  strand(const strand&) = delete;
  strand& operator=(const strand&) = delete;

  /// Queues f() to run after every task submitted to this strand before it. Thread-safe, never
  /// blocks except for room in the injector (config.max_pending) when the strand was idle.
  /// Throws runtime_closed after shutdown, std::invalid_argument for an empty callable. An
  /// exception escaping f goes to config.on_exception; the strand goes on with the next task.
  template <class F>
  void submit(F&& f) {
    detail::require_callable(f, "magpie::strand::submit");
    if (enqueue(true, as_job(std::forward<F>(f))) == detail::slot::closed)
      MAGPIE_THROW(runtime_closed("magpie::strand::submit: runtime is shut down"));
  }

  /// Like submit but never blocks: false, without touching f, if the runtime is closed, or if
  /// the strand is idle and max_pending tasks are queued (a busy strand's tasks stay out of the
  /// injector).
  template <class F>
  bool try_submit(F&& f) {
    detail::require_callable(f, "magpie::strand::try_submit");
    const detail::slot k = enqueue(false, as_job(std::forward<F>(f)));
    return k != detail::slot::closed && k != detail::slot::full;
  }

  /// Like submit, returning a future of f's result or exception (see magpie/future.hpp).
  template <class F>
  auto async(F&& f) {
    using D = std::decay_t<F>;
    using R = std::invoke_result_t<D&>;
    static_assert(!std::is_reference_v<R>,
                  "magpie::strand::async: the callable returns a reference; return a value or a "
                  "std::reference_wrapper");
    detail::require_callable(f, "magpie::strand::async");
    auto state = std::make_shared<detail::future_state<R>>(state_->core);
    // relaxed: nobody else sees the state before push publishes the job.
    state->group.word.store(detail::group_state::one_task, std::memory_order_relaxed);
    const auto make = [&] { return detail::async_job<R, D>(state, std::forward<F>(f)); };
    if (enqueue(true, make) == detail::slot::closed)
      MAGPIE_THROW(runtime_closed("magpie::strand::async: runtime is shut down"));
    return future<R>(std::move(state));
  }

  /// For coroutines: `co_await s.schedule();` continues the coroutine as a task of this strand,
  /// queued behind the tasks submitted before it: one at a time and in order with the others.
  /// The strand is held while that resumption runs, which is until the coroutine next suspends
  /// in a way that returns to the worker (an await that queues it elsewhere: schedule(rt),
  /// another strand, a future, a semaphore wait, when_all) or ends. Code that runs in the same
  /// resumption by symmetric transfer runs in the strand too: a task it co_awaits, or, when it
  /// ends, the coroutine awaiting it. Throws runtime_closed once the runtime refuses work; if
  /// shutdown(cancel) discards the resumption, the co_await throws runtime_closed.
  [[nodiscard]] detail::strand_schedule_awaiter schedule() noexcept {
    return detail::strand_schedule_awaiter(*state_);
  }

  /// Tasks submitted and not yet finished (queued, or in the batch running now). Never blocks.
  std::size_t queued() const noexcept { return state_->held(); }

 private:
  // A maker of the task's callable that moves (or copies) f only when called: enqueue calls it
  // once the task is accepted, so a refused try_submit leaves f untouched.
  template <class F>
  static auto as_job(F&& f) noexcept {
    using D = std::decay_t<F>;
    return [&f]() noexcept(std::is_nothrow_constructible_v<D, F>) -> D {
      return D(std::forward<F>(f));
    };
  }

  // Queues make()'s callable. A busy strand takes it behind its batch with no reservation
  // (strand_state::try_join) when building it cannot throw; otherwise, or when the strand is
  // idle, the task reserves a slot as any submit does. Returns the reservation's kind: closed
  // or full when refused, with make not called.
  template <class Make>
  detail::slot enqueue(bool wait_for_room, Make&& make) {
    using D = std::decay_t<std::invoke_result_t<Make&>>;
    std::unique_ptr<detail::strand_node> node(state_->make_node());
    if constexpr (detail::fits_inline<D> && std::is_nothrow_invocable_v<Make&>) {
      if (state_->try_join()) {
        detail::build_task(node->item, make(), nullptr);  // cannot throw: place already taken
        state_->link(node.release());
        return detail::slot::injector;
      }
    }
    const detail::reservation r = detail::reserve_slot(state_->core, wait_for_room);
    if (r.kind == detail::slot::closed || r.kind == detail::slot::full) return r.kind;
    detail::slot_guard guard(state_->core, r);
    detail::build_task(node->item, make(), nullptr);
    guard.disarm();
    state_->push(node.release(), r);
    return r.kind;
  }

  std::shared_ptr<detail::strand_state> state_;
};

}  // namespace magpie
