#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "magpie/config.hpp"
#include "magpie/detail/steal_order.hpp"
#include "magpie/detail/submit.hpp"
#include "magpie/errors.hpp"
#include "magpie/export.hpp"
#include "magpie/future.hpp"  // IWYU pragma: export (runtime::async returns one)
#include "magpie/shutdown_report.hpp"
#include "magpie/stats.hpp"

namespace magpie {
namespace detail {

struct runtime_access;

}  // namespace detail

template <class T>
class task;  // magpie/coro.hpp

/// A work-stealing runtime: worker threads, their deques, and the injector for outside threads.
/// Several runtimes may live in one process; they share nothing.
class MAGPIE_API runtime {
 public:
  /// Starts the workers and returns once all of them are running. Throws std::invalid_argument
  /// naming the bad config field, or std::system_error if an explicit cpus binding fails.
  explicit runtime(config cfg = {});
  /// Test and benchmark hook, not API: runtime(cfg) whose thieves look at their victims in
  /// `victims` order (perf/ prices the near-to-far order against the random one with it).
  runtime(config cfg, detail::steal_order victims);
  /// shutdown(drain) if not done yet: every accepted task runs before the destructor returns.
  /// Destroyed by one of its own tasks, it returns at once and a helper thread drains, joins
  /// the workers and frees the runtime once that task has finished.
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  /// Worker threads: config.max_workers (config.workers unless set), active or not.
  std::size_t worker_count() const noexcept;
  /// True once shutdown has begun: submit then throws runtime_closed and try_submit returns
  /// false. Final: never false again. Never blocks.
  bool closed() const noexcept;
  /// True when the calling thread is one of this runtime's workers (a worker of another
  /// runtime is not). Never blocks.
  bool is_current_worker() const noexcept;

  /// Runs f() once on a worker. Thread-safe. From one of this runtime's workers the task goes to
  /// that worker's deque (never blocks); from elsewhere to the injector (may allocate, blocks
  /// while max_pending tasks are queued). Throws runtime_closed after shutdown and
  /// std::invalid_argument for an empty callable. An exception escaping f goes to
  /// config.on_exception.
  template <class F>
  void submit(F&& f, priority p = priority::normal) {
    detail::require_callable(f, "magpie::runtime::submit");
    const detail::reservation r = detail::reserve_slot(*core_, true);
    if (r.kind == detail::slot::closed)
      MAGPIE_THROW(runtime_closed("magpie::runtime::submit: runtime is shut down"));
    detail::submit_callable(*core_, r, std::forward<F>(f), nullptr, p);
  }

  /// Like submit but never blocks: returns false, without touching f, when the runtime is
  /// closed or max_pending tasks are queued. Throws std::invalid_argument for an empty callable.
  template <class F>
  bool try_submit(F&& f, priority p = priority::normal) {
    detail::require_callable(f, "magpie::runtime::try_submit");
    const detail::reservation r = detail::reserve_slot(*core_, false);
    if (r.kind == detail::slot::closed || r.kind == detail::slot::full) return false;
    detail::submit_callable(*core_, r, std::forward<F>(f), nullptr, p);
    return true;
  }

  /// Like submit, but waits at most `timeout` for room in the injector (config.max_pending):
  /// returns false, without touching f, if there was none by then. Throws runtime_closed after
  /// shutdown and std::invalid_argument for an empty callable. On a worker it never waits.
  template <class F, class Rep, class Period>
  bool submit_for(F&& f, std::chrono::duration<Rep, Period> timeout,
                  priority p = priority::normal) {
    detail::require_callable(f, "magpie::runtime::submit_for");
    const detail::reservation r =
        detail::reserve_slot_until(*core_, detail::deadline_after(timeout));
    if (r.kind == detail::slot::closed)
      MAGPIE_THROW(runtime_closed("magpie::runtime::submit_for: runtime is shut down"));
    if (r.kind == detail::slot::full) return false;
    detail::submit_callable(*core_, r, std::forward<F>(f), nullptr, p);
    return true;
  }

  /// Runs f() once on a worker, like submit, and returns a future of its result or exception
  /// (see magpie/future.hpp; future<void> for a void f). Thread-safe; allocates the shared
  /// result. Throws as submit does; the future's get() on a worker helps instead of blocking.
  template <class F>
  auto async(F&& f, priority p = priority::normal);
  /// Like std::async: runs f(args...) on a worker with decayed copies of f and args, passed as
  /// rvalues, in the normal lane (a first argument of type priority selects the overload above;
  /// to pass one to f, or to choose a lane, wrap the call in a lambda). Throws as async(f).
  template <class F, class A0, class... As>
  requires(!std::is_same_v<std::decay_t<A0>, priority>) auto async(F&& f, A0&& a0, As&&... as);

  /// Starts the coroutine `t` on a worker, detached, like submit (defined in magpie/coro.hpp).
  /// Its exception goes to config.on_exception; it counts in the shutdown report as the tasks
  /// that resume it. Throws runtime_closed after shutdown, std::invalid_argument for an empty
  /// task.
  void spawn(task<void> t);

  /// Tasks accepted and not yet started: queued in the injector or any worker's deque.
  /// Approximate while tasks run or are submitted; exact once the runtime is idle. Never
  /// allocates or locks.
  std::size_t pending() const noexcept;
  /// Tasks running now (a task that runs another while it waits counts twice). Approximate
  /// while tasks start and finish. Never allocates or locks.
  std::size_t running() const noexcept;
  /// Blocks until every task accepted so far, and every task those spawn or submit, has
  /// finished: all workers asleep and nothing queued or being submitted. The runtime stays open;
  /// tasks other threads submit meanwhile are waited for too. Returns at once once shutdown
  /// has stopped the workers.
  /// Throws std::logic_error when called from one of this runtime's own workers.
  void wait_idle();

  /// Stops accepting external work, then runs (drain) or discards (cancel) what is queued, and
  /// joins the workers. Idempotent: later calls return the same report. Blocks. Before it
  /// returns, it calls config.on_discard once per task discarded so far, on this thread and
  /// holding no lock. Throws std::logic_error when called from one of this runtime's own
  /// workers.
  shutdown_report shutdown(shutdown_mode mode = shutdown_mode::drain);
  /// Drains like shutdown() until `timeout` has passed, then discards what has not started and
  /// returns once nothing but tasks already running is left: if some still run (a stuck task),
  /// the report counts them in still_running and the workers are joined by a later shutdown()
  /// or the destructor, whose report has the final counts. Same errors as shutdown().
  template <class Rep, class Period>
  shutdown_report shutdown_for(std::chrono::duration<Rep, Period> timeout) {
    return shutdown_until(detail::deadline_after(timeout));
  }

  /// OS index of the PU each worker is bound to, or -1 where it is not bound.
  std::vector<int> worker_cpus() const;

  /// Changes config.spin while the runtime runs (taking effect at each worker's next search).
  /// Throws std::invalid_argument outside [0, 1 s].
  void set_spin(std::chrono::microseconds spin);
  /// Lets only workers 0..n-1 take work: the others finish the tasks in their own deques (idle
  /// workers may steal those too) and sleep until a later call wakes them. Takes effect at each
  /// worker's next task. Up to worker_count(), so past config.workers when config.max_workers
  /// is larger. Throws std::invalid_argument outside [1, worker_count()].
  void set_active_workers(std::size_t n);
  /// The n of the last set_active_workers (config.workers at first).
  std::size_t active_workers() const noexcept;
  /// A snapshot of the counters and latency histograms. Thread-safe; the first call within
  /// 10 ms of construction waits out the rest of those 10 ms (to calibrate the clock).
  runtime_stats stats() const;
  /// Writes the events recorded with config.trace as Chrome Trace Event JSON (open it in
  /// Perfetto, chrome://tracing or tools/trace_view.html): one track per worker, tasks as
  /// complete events, steals, parks and wake-ups as instants. Thread-safe and callable while
  /// tasks run: it copies each worker's ring without stopping it, so it holds the most recent
  /// config.trace_capacity events per worker, minus any overwritten during the copy, and not the
  /// tasks still running. Allocates; blocks on file I/O. Throws std::logic_error if config.trace
  /// is off, std::system_error naming `path` if the file cannot be written.
  void write_chrome_trace(const std::string& path) const;

 private:
  friend struct detail::runtime_access;

  shutdown_report shutdown_until(std::chrono::steady_clock::time_point deadline);

  std::unique_ptr<detail::runtime_core> core_;
};

/// Index of the calling thread among the workers of the runtime it belongs to; -1 outside any
/// runtime's workers. Never blocks.
MAGPIE_API int current_worker() noexcept;

namespace detail {

/// The core behind a runtime, for Magpie's own templates (task_group, parallel); not API.
struct runtime_access {
  static runtime_core& core(runtime& rt) noexcept { return *rt.core_; }
};

}  // namespace detail

template <class F>
auto runtime::async(F&& f, priority p) {
  using D = std::decay_t<F>;
  using R = std::invoke_result_t<D&>;
  static_assert(!std::is_reference_v<R>,
                "magpie::runtime::async: the callable returns a reference; return a value or a "
                "std::reference_wrapper");
  detail::require_callable(f, "magpie::runtime::async");
  auto state = std::make_shared<detail::future_state<R>>(*core_);
  // relaxed: nobody else sees the state before submit publishes the job.
  state->group.word.store(detail::group_state::one_task, std::memory_order_relaxed);
  const detail::reservation r = detail::reserve_slot(*core_, true);
  if (r.kind == detail::slot::closed)
    MAGPIE_THROW(runtime_closed("magpie::runtime::async: runtime is shut down"));
  // If the job is refused (bad_alloc), destroying it completes the state.
  detail::submit_callable(*core_, r, detail::async_job<R, D>(state, std::forward<F>(f)), nullptr,
                          p);
  return future<R>(std::move(state));
}

template <class F, class A0, class... As>
requires(!std::is_same_v<std::decay_t<A0>, priority>) auto runtime::async(F&& f, A0&& a0,
                                                                          As&&... as) {
  using R = std::invoke_result_t<std::decay_t<F>, std::decay_t<A0>, std::decay_t<As>...>;
  static_assert(!std::is_reference_v<R>,
                "magpie::runtime::async: the callable returns a reference; return a value or a "
                "std::reference_wrapper");
  using D = std::decay_t<F>;
  D fn(std::forward<F>(f));  // decayed first: a function reference is never null
  // A null pointer or an empty std::function (explicit bool); not a captureless lambda.
  if constexpr (std::is_pointer_v<D> || std::is_member_pointer_v<D> ||
                (std::is_constructible_v<bool, const D&> &&
                 !std::is_convertible_v<const D&, bool>)) {
    if (!static_cast<bool>(fn))
      MAGPIE_THROW(std::invalid_argument("magpie::runtime::async: empty callable"));
  }
  return async(
      [fn = std::move(fn), args = std::tuple<std::decay_t<A0>, std::decay_t<As>...>(
                               std::forward<A0>(a0), std::forward<As>(as)...)]() mutable -> R {
        return std::apply(std::move(fn), std::move(args));
      });
}

template <class T>
promise<T>::promise(runtime& rt)
    : state_(detail::make_future_state<T>(detail::runtime_access::core(rt))) {}

}  // namespace magpie
